"""Verifying signed reads (``rantai.core.readauth``): who is asking, and is it fresh.

Checks run in this order; the first that fails gives the response, so one bad request
always gets the same code:

1. the chain has a genesis (else 503 ``no_genesis``);
2. the five ``Rantai-*`` headers are present and well formed: party, key (32 bytes hex),
   timestamp (decimal milliseconds), nonce (16 bytes hex), signature (64 bytes hex)
   (else 401 ``unauthenticated``);
3. the timestamp is within ``READ_FRESHNESS_MS`` of the server's clock (401 ``stale_request``);
4. the party exists and the key is one of its *current* keys, read from the ledger state,
   so a revoked key stops working at the next block (401 ``unauthenticated``);
5. the Ed25519 signature verifies over ``read_signing_bytes`` of this request (401
   ``unauthenticated``);
6. the party has not used this nonce within the freshness window (401 ``replayed_request``).
   Nonces are recorded only after the signature verifies, so nobody can spend another
   party's nonces; the table is bounded, and when it is full of unexpired nonces new reads
   are refused (503 ``overloaded``) rather than let it grow.

What is signed: the method, the path exactly as sent on the wire (percent-encoding kept), the
raw query string exactly as sent (without ``?``), and SHA-256 of the body, which is empty for
every signed read today (the server signs over the empty body and ignores any body sent).
"""

from __future__ import annotations

import binascii
import heapq
import threading
from collections.abc import Callable
from typing import Final

from rantai.api.errors import (
    NO_GENESIS,
    OVERLOADED,
    REPLAYED_REQUEST,
    STALE_REQUEST,
    UNAUTHENTICATED,
    ApiError,
)
from rantai.api.policy import Who, who_is
from rantai.core.readauth import READ_FRESHNESS_MS, read_signing_bytes
from rantai.core.records import Party, party_key
from rantai.crypto.keys import verify
from rantai.node.node import Node

__all__ = ["NONCES_MAX", "NonceCache", "ReadAuthenticator", "SignedHeaders"]

NONCES_MAX: Final = 1_000_000
NONCE_BYTES: Final = 16
KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
TIMESTAMP_DIGITS_MAX: Final = 16


class NonceCache:
    """Nonces seen within the freshness window, per party, bounded in number.

    An entry is kept until its request's timestamp is older than the window (after that the
    request would be stale anyway), and evicted lazily, oldest expiry first.
    """

    def __init__(self, window_ms: int = READ_FRESHNESS_MS, entries_max: int = NONCES_MAX) -> None:
        self.window_ms = window_ms
        self.entries_max = entries_max
        self._expiry: dict[tuple[str, bytes], int] = {}
        self._heap: list[tuple[int, str, bytes]] = []
        self._lock = threading.Lock()

    def claim(self, party: str, nonce: bytes, timestamp_ms: int, now_ms: int) -> bool:
        """Record ``nonce`` for ``party``; ``False`` if it was seen within the window.

        Raises:
            ApiError(overloaded): the table is full of unexpired nonces.
        """
        key = (party, nonce)
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] < now_ms:
                _, p, n = heapq.heappop(heap)
                self._expiry.pop((p, n), None)
            if key in self._expiry:
                return False
            if len(self._expiry) >= self.entries_max:
                raise ApiError(OVERLOADED, "too many signed reads in the window; retry")
            expires_ms = timestamp_ms + self.window_ms
            self._expiry[key] = expires_ms
            heapq.heappush(heap, (expires_ms, party, nonce))
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)


class SignedHeaders:
    """The five ``Rantai-*`` header values of a request, as received (``None``: missing)."""

    __slots__ = ("key", "nonce", "party", "signature", "timestamp")

    def __init__(
        self,
        party: str | None,
        key: str | None,
        timestamp: str | None,
        nonce: str | None,
        signature: str | None,
    ) -> None:
        self.party = party
        self.key = key
        self.timestamp = timestamp
        self.nonce = nonce
        self.signature = signature


class ReadAuthenticator:
    """Authenticates signed reads against a node's current state (module docstring)."""

    def __init__(self, node: Node, clock_ms: Callable[[], int], nonces: NonceCache) -> None:
        self.node = node
        self.clock_ms = clock_ms
        self.nonces = nonces

    def authenticate(
        self, method: str, path: str, query: str, headers: SignedHeaders, body: bytes = b""
    ) -> Who:
        """The reader of a request, or ``ApiError`` with the first check that fails.

        ``body`` is the request body as received (empty for GET): its digest is signed."""
        chain = self.node.ledger.chain
        if chain is None:
            raise ApiError(NO_GENESIS, "the chain has no genesis yet")
        party_id = headers.party
        if not party_id or len(party_id) > 64:
            raise ApiError(UNAUTHENTICATED, "Rantai-Party: a party id")
        key = _hex(headers.key, KEY_BYTES, "Rantai-Key")
        nonce = _hex(headers.nonce, NONCE_BYTES, "Rantai-Nonce")
        signature = _hex(headers.signature, SIGNATURE_BYTES, "Rantai-Signature")
        timestamp_ms = _timestamp(headers.timestamp)
        now_ms = self.clock_ms()
        if abs(now_ms - timestamp_ms) > self.nonces.window_ms:
            raise ApiError(STALE_REQUEST, f"timestamp is more than {READ_FRESHNESS_MS} ms away")
        party: Party | None = self.node.ledger.values.get(party_key(party_id))
        if party is None or key not in party.keys:
            # One message for both: do not tell a stranger which party ids exist.
            raise ApiError(UNAUTHENTICATED, "unknown party, or not one of its current keys")
        message = read_signing_bytes(
            chain.chain_id, method, path, query, body, timestamp_ms, nonce, party_id
        )
        if not verify(key, message, signature):
            raise ApiError(UNAUTHENTICATED, "signature does not verify")
        if not self.nonces.claim(party_id, nonce, timestamp_ms, now_ms):
            raise ApiError(REPLAYED_REQUEST, "this nonce was used already")
        return who_is(party, chain)


def _hex(value: str | None, size: int, name: str) -> bytes:
    if value is None or len(value) != 2 * size:
        raise ApiError(UNAUTHENTICATED, f"{name}: {size} bytes as hex")
    try:
        return binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        raise ApiError(UNAUTHENTICATED, f"{name}: {size} bytes as hex") from None


def _timestamp(value: str | None) -> int:
    if value is None or not value.isascii() or not value.isdigit():
        raise ApiError(UNAUTHENTICATED, "Rantai-Timestamp: milliseconds since the epoch")
    if len(value) > TIMESTAMP_DIGITS_MAX:
        raise ApiError(UNAUTHENTICATED, "Rantai-Timestamp: milliseconds since the epoch")
    return int(value)

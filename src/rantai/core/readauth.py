"""Signed reads: what a client signs to prove who is asking (docs/api.md, "Authentication").

Writes authenticate themselves (signed envelopes). Reads carry these headers:

| header | value |
|---|---|
| ``Rantai-Party`` | the reader's party id |
| ``Rantai-Key`` | the public key used (hex); must be one of the party's current keys |
| ``Rantai-Timestamp`` | milliseconds since the Unix epoch when signed |
| ``Rantai-Nonce`` | 16 random bytes (hex), never reused within the freshness window |
| ``Rantai-Signature`` | Ed25519 signature (hex) over ``read_signing_bytes(...)`` |

The signed bytes bind the chain, the method, the path, the query string exactly as sent, the
SHA-256 of the body, the time, the nonce and the party, so a signature is good for one
request only. A server refuses a timestamp more than ``READ_FRESHNESS_MS`` away from its
clock, and a nonce it has seen within that window. The scheme is a fixed-component profile
of the idea of RFC 9421 (HTTP Message Signatures), simpler to reproduce byte for byte.
"""

from __future__ import annotations

from typing import Final

from rantai.core.encoding import encode
from rantai.crypto.hashing import sha256

__all__ = [
    "READ_DOMAIN",
    "READ_FRESHNESS_MS",
    "READ_HEADERS",
    "read_signing_bytes",
]

READ_DOMAIN: Final = b"rantai/read/v1"
READ_FRESHNESS_MS: Final = 60_000
READ_HEADERS: Final = (
    "rantai-party",
    "rantai-key",
    "rantai-timestamp",
    "rantai-nonce",
    "rantai-signature",
)


def read_signing_bytes(
    chain_id: str,
    method: str,
    path: str,
    query: str,
    body: bytes,
    timestamp_ms: int,
    nonce: bytes,
    party: str,
) -> bytes:
    """The bytes a reader signs for one request."""
    return READ_DOMAIN + encode(
        (chain_id, method.upper(), path, query, sha256(body), timestamp_ms, nonce, party)
    )

"""Blocks: the header, receipts, and the certificate of executor signatures.

``header_hash = SHA-256(b"rantai/header/v1" || canonical(header))``. An executor signs
``b"rantai/block/v1" || header_hash``. The transactions root is the RFC 9162 Merkle root over
the transaction ids in block order; the receipts root, over the canonical receipts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import msgspec

from rantai.core.encoding import encode
from rantai.core.tx import Event
from rantai.crypto.hashing import tagged_hash
from rantai.crypto.keys import SigningKey, verify
from rantai.crypto.merkle import merkle_root

__all__ = [
    "BLOCK_SIGNATURE_DOMAIN",
    "HEADER_DOMAIN",
    "BlockSignature",
    "Header",
    "Receipt",
    "header_hash",
    "receipts_root",
    "sign_header",
    "signature_valid",
    "txs_root",
]

HEADER_DOMAIN: Final = b"rantai/header/v1"
BLOCK_SIGNATURE_DOMAIN: Final = b"rantai/block/v1"


class Header(msgspec.Struct, frozen=True, array_like=True):
    """What a block commits to. Signatures are kept beside it, in the certificate."""

    chain_id: str
    height: int
    prev_hash: bytes
    timestamp_ms: int
    tx_count: int
    txs_root: bytes
    receipts_root: bytes
    state_root: bytes


class Receipt(msgspec.Struct, frozen=True, array_like=True):
    """The outcome of one transaction: ``ok`` or a reason code, and its events."""

    tx_id: bytes
    code: str
    events: tuple[Event, ...]


class BlockSignature(msgspec.Struct, frozen=True, array_like=True):
    """One executor's signature over a header hash."""

    public_key: bytes
    signature: bytes


def header_hash(header: Header) -> bytes:
    """Return the hash that identifies ``header`` and that the next block links to."""
    return tagged_hash(HEADER_DOMAIN, encode(header))


def sign_header(key: SigningKey, hash_: bytes) -> BlockSignature:
    """Sign a header hash as an executor."""
    return BlockSignature(key.public_key, key.sign(BLOCK_SIGNATURE_DOMAIN + hash_))


def signature_valid(signature: BlockSignature, hash_: bytes) -> bool:
    """Return whether ``signature`` is a valid executor signature of ``hash_``."""
    return verify(signature.public_key, BLOCK_SIGNATURE_DOMAIN + hash_, signature.signature)


def txs_root(tx_ids: Sequence[bytes]) -> bytes:
    """Merkle root over the transaction ids, in block order."""
    return merkle_root(tx_ids)


def receipts_root(receipts: Sequence[bytes]) -> bytes:
    """Merkle root over the canonical receipts, in block order."""
    return merkle_root(receipts)

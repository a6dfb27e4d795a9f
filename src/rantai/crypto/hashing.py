"""Hashing primitives. Everything Rantai hashes goes through SHA-256 and a prefix byte or tag.

Prefix bytes separate the tree node types (see docs/encoding.md):

| prefix | used for |
|---|---|
| 0x00 | list Merkle leaf (transactions, receipts; RFC 9162) |
| 0x01 | list Merkle interior node (RFC 9162) |
| 0x02 | state-tree leaf |
| 0x03 | state-tree interior node |

Tags (ASCII strings such as ``b"rantai/header/v1"``) separate signed and hashed messages.
"""

from __future__ import annotations

import hashlib

__all__ = ["DIGEST_SIZE", "ZERO_DIGEST", "sha256", "tagged_hash"]

DIGEST_SIZE = 32
ZERO_DIGEST = bytes(DIGEST_SIZE)


def sha256(data: bytes) -> bytes:
    """Return the SHA-256 digest of ``data``."""
    return hashlib.sha256(data).digest()


def tagged_hash(tag: bytes, data: bytes) -> bytes:
    """Return SHA-256 over ``tag || data``; the tag is a fixed ASCII domain string."""
    return hashlib.sha256(tag + data).digest()

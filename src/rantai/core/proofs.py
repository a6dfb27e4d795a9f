"""Checking proofs against a header: pure functions, no database, no node.

Anyone holding a header (and trusting it through its certificate) can check that a
transaction or receipt is in that block, and what a state key held at that height,
including that it held nothing (a zero balance is an absent key).
"""

from __future__ import annotations

from collections.abc import Sequence

from rantai.core.block import Header
from rantai.core.ledger import state_path
from rantai.crypto.hashing import sha256
from rantai.crypto.merkle import verify_inclusion
from rantai.crypto.smt import StateProof, verify_state_proof

__all__ = ["verify_receipt", "verify_state_value", "verify_tx"]


def verify_state_value(header: Header, key: str, value: bytes | None, proof: StateProof) -> bool:
    """Whether ``key`` held the canonical ``value`` (``None``: was absent) at ``header``."""
    digest = None if value is None else sha256(value)
    return verify_state_proof(header.state_root, state_path(key), digest, proof)


def verify_tx(header: Header, envelope: bytes, index: int, path: Sequence[bytes]) -> bool:
    """Whether ``envelope`` is transaction ``index`` of the block with ``header``."""
    return verify_inclusion(header.txs_root, sha256(envelope), index, header.tx_count, path)


def verify_receipt(header: Header, receipt: bytes, index: int, path: Sequence[bytes]) -> bool:
    """Whether canonical ``receipt`` is receipt ``index`` of the block with ``header``."""
    return verify_inclusion(header.receipts_root, receipt, index, header.tx_count, path)

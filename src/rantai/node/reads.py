"""Reads a node serves: state values and proofs at the head or at any past height.

Head proofs come from the in-memory state tree. A past height's tree is rebuilt from the
store's state log (``iter_state_at``), which costs time proportional to the state at that
height, and is cached for the few heights (record dates, court requests) asked about again.
See docs/decisions/state-commitment.md.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from rantai.core.block import Header
from rantai.core.encoding import decode, encode
from rantai.core.errors import InvariantError
from rantai.core.ledger import state_path
from rantai.crypto.hashing import sha256
from rantai.crypto.merkle import inclusion_proof
from rantai.crypto.smt import StateProof, StateTree
from rantai.node.node import Node

__all__ = ["StateAnswer", "TxAnswer", "Reader"]

PAST_TREES_CACHED_MAX = 4


@dataclass(frozen=True, slots=True)
class StateAnswer:
    """A state key's value at a height, with the header and the proof that tie them."""

    key: str
    height: int
    header: Header
    value: bytes | None
    proof: StateProof


@dataclass(frozen=True, slots=True)
class TxAnswer:
    """A committed transaction with its receipt and their inclusion proofs."""

    tx_id: bytes
    height: int
    index: int
    header: Header
    envelope: bytes
    receipt: bytes
    tx_path: list[bytes]
    receipt_path: list[bytes]


class Reader:
    """Proof-carrying reads over one node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._past: OrderedDict[int, StateTree] = OrderedDict()
        self._past_lock = threading.Lock()

    def header(self, height: int) -> Header | None:
        stored = self.node.store.get_header(height)
        return None if stored is None else decode(stored[1], Header)

    def state(self, key: str, height: int | None = None) -> StateAnswer | None:
        """The value of ``key`` at ``height`` (default: head) with its proof."""
        ledger = self.node.ledger
        with self.node.block_lock:
            head = ledger.head
            if head is None:
                return None
            if height is None or height == head.height:
                value = ledger.values.get(key)
                raw = None if value is None else encode(value)
                return StateAnswer(key, head.height, head, raw, ledger.tree.prove(state_path(key)))
        header = self.header(height)
        if header is None:
            return None
        tree = self._tree_at(height, header)
        return StateAnswer(
            key,
            height,
            header,
            self.node.store.get_state_at(key, height),
            tree.prove(state_path(key)),
        )

    def _tree_at(self, height: int, header: Header) -> StateTree:
        with self._past_lock:
            tree = self._past.get(height)
            if tree is not None:
                self._past.move_to_end(height)
                return tree
        leaves = ((state_path(k), sha256(v)) for k, v in self.node.store.iter_state_at(height))
        tree = StateTree.build(leaves)
        if tree.root != header.state_root:
            raise InvariantError(f"state log at {height} does not give the header's state root")
        with self._past_lock:
            self._past[height] = tree
            while len(self._past) > PAST_TREES_CACHED_MAX:
                self._past.popitem(last=False)
        return tree

    def tx(self, tx_id: bytes) -> TxAnswer | None:
        """A committed transaction by id, with proofs against its block's header."""
        record = self.node.store.get_tx(tx_id)
        if record is None:
            return None
        block = self.node.store.get_block(record.height)
        header = self.header(record.height)
        if block is None or header is None:
            raise InvariantError(f"tx {tx_id.hex()} points at a missing block {record.height}")
        ids = [t.tx_id for t in block.txs]
        receipts = [t.receipt for t in block.txs]
        return TxAnswer(
            tx_id,
            record.height,
            record.index,
            header,
            record.envelope,
            record.receipt,
            inclusion_proof(ids, record.index),
            inclusion_proof(receipts, record.index),
        )

"""Reads a node serves: state values and proofs at the head or at any past height.

Head proofs come from the in-memory state tree. A past height's tree is rebuilt from the
store's state log (``iter_state_at``), which costs time proportional to the state at that
height, and is cached for the few heights (record dates, court requests) asked about again.
See docs/decisions/state-commitment.md.

Listings (parties, instruments, an account's balances, an instrument's holders) page through
the node's ``Indexes`` at the head, in id order, ``limit`` items after a cursor. Holders at a
past height (a record date) come from one scan of the state log at that height, cached like
past trees; no request scans the head state.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, TypeVar

from rantai.core.block import Header
from rantai.core.encoding import decode
from rantai.core.errors import InvariantError
from rantai.core.ledger import state_path, tree_leaves
from rantai.core.records import Instrument, Party, balance_key, instrument_key, party_key
from rantai.crypto.merkle import inclusion_proof
from rantai.crypto.smt import StateProof, StateTree
from rantai.node.indexes import parse_balance_key
from rantai.node.node import Node

__all__ = ["Page", "Reader", "StateAnswer", "TxAnswer"]

PAST_TREES_CACHED_MAX = 4
PAST_HOLDINGS_CACHED_MAX = 2

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing at ``height``; ``next`` is the cursor of the following page."""

    items: list[T]
    next: str | None
    height: int


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
        # height -> instrument -> [(account, amount)] sorted by account
        self._past_holdings: OrderedDict[int, dict[str, list[tuple[str, int]]]] = OrderedDict()

    def header(self, height: int) -> Header | None:
        stored = self.node.store.get_header(height)
        return None if stored is None else decode(stored[1], Header)

    def state(self, key: str, height: int | None = None) -> StateAnswer | None:
        """The value of ``key`` at ``height`` (default: head) with its proof."""
        ledger = self.node.ledger
        with self.node.block_lock:
            head, tip = ledger.head, ledger.tip
            if head is None or tip is None:
                return None
            if height is None:
                height = head.height
            answer = None
            if height == head.height:
                # The tree is at the tip, which may be a block or two past the head while the
                # writer makes them durable: answer at the tip, once it is durable.
                raw = ledger.tip_raw(key)
                answer = StateAnswer(key, tip.height, tip, raw, ledger.tree.prove(state_path(key)))
        if answer is not None:
            self.node.await_committed(answer.height)
            return answer
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
        tree = StateTree.build(tree_leaves(self.node.store.iter_state_at(height)))
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

    # --- listings -----------------------------------------------------------------------
    def parties(self, after: str | None, limit: int) -> Page[Party]:
        """Parties in id order, ``limit`` after the id ``after``."""
        node = self.node
        with node.block_lock:
            ids, more = _window(node.indexes.parties, after, limit)
            items = [node.ledger.values[party_key(p)] for p in ids]
            return Page(items, ids[-1] if more else None, _height(node))

    def instruments(self, after: str | None, limit: int) -> Page[Instrument]:
        """Instruments in code order, ``limit`` after the code ``after``."""
        node = self.node
        with node.block_lock:
            codes, more = _window(node.indexes.instruments, after, limit)
            items = [node.ledger.values[instrument_key(c)] for c in codes]
            return Page(items, codes[-1] if more else None, _height(node))

    def positions(
        self, account: str, after: str | None, limit: int, visible: Callable[[str], bool]
    ) -> Page[tuple[str, int]]:
        """``(instrument, amount)`` held in ``account``, those ``visible`` only, code order.

        Hidden instruments are skipped, not counted: a page holds up to ``limit`` visible ones.
        """
        node = self.node
        with node.block_lock:
            index, values = node.ledger.index, node.ledger.values
            items: list[tuple[str, int]] = []
            more = False
            for code in sorted(index.held_instruments()):
                if (after is not None and code <= after) or not visible(code):
                    continue
                if account not in (index.holders(code) or ()):
                    continue
                if len(items) == limit:
                    more = True
                    break
                items.append((code, values[balance_key(account, code)]))
            return Page(items, items[-1][0] if more else None, _height(node))

    def holders(
        self, instrument: str, after: str | None, limit: int, height: int | None = None
    ) -> Page[tuple[str, int]] | None:
        """``(account, amount)`` of every holder of ``instrument``, account order.

        At the head from the index; at a past ``height`` from that height's holdings (one
        scan of the state log, then cached). ``None`` when there is no block at ``height``.
        """
        node = self.node
        with node.block_lock:
            head = _height(node)
            if height is None or height == head:
                held = node.ledger.index.holders(instrument)
                if held is None:
                    return Page([], None, head)
                accounts, more = _window(held, after, limit)
                values = node.ledger.values
                page = [(a, values[balance_key(a, instrument)]) for a in accounts]
                return Page(page, accounts[-1] if more else None, head)
        if not 0 <= height < head:
            return None
        rows = self._holdings_at(height).get(instrument, [])
        start = 0 if after is None else bisect.bisect_right(rows, (after, 2**64))
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return Page(page, page[-1][0] if more and page else None, height)

    def holder_count(self, instrument: str) -> tuple[int, int]:
        """``(holders, height)`` of ``instrument`` at the head."""
        node = self.node
        with node.block_lock:
            held = node.ledger.index.holders(instrument)
            return (0 if held is None else len(held)), _height(node)

    def _holdings_at(self, height: int) -> dict[str, list[tuple[str, int]]]:
        with self._past_lock:
            cached = self._past_holdings.get(height)
            if cached is not None:
                self._past_holdings.move_to_end(height)
                return cached
        holdings: dict[str, list[tuple[str, int]]] = {}
        for key, raw in self.node.store.iter_state_at(height):
            parsed = parse_balance_key(key)
            if parsed is not None:
                holdings.setdefault(parsed[1], []).append((parsed[0], decode(raw, int)))
        for rows in holdings.values():
            # Key order is not account order ("a:x.y/" sorts before "a:x/"): sort by account.
            rows.sort()
        with self._past_lock:
            self._past_holdings[height] = holdings
            while len(self._past_holdings) > PAST_HOLDINGS_CACHED_MAX:
                self._past_holdings.popitem(last=False)
        return holdings


def _height(node: Node) -> int:
    head = node.ledger.head
    return -1 if head is None else head.height


def _window(sorted_keys: Any, after: str | None, limit: int) -> tuple[list[str], bool]:
    """Up to ``limit`` keys strictly after ``after``, and whether more follow."""
    keys = list(islice(sorted_keys.irange(minimum=after, inclusive=(False, True)), limit + 1))
    return keys[:limit], len(keys) > limit

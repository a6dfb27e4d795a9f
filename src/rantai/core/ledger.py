"""The ledger: committed state in memory, and the function that executes one block.

``Ledger.stage_block`` is the state transition. Given the same state and the same ordered
transactions and timestamp, it produces the same header, receipts and state changes on every
machine: it reads no clock, draws no randomness, and iterates only in sorted or block order.

Each transaction runs in this order (the first failure is its receipt's code):

1. genesis_only: genesis on a ledger that has one, or any other kind on one without;
2. for kinds with a registered sender: unknown_sender, key_not_authorized, bad_nonce; past
   this point the nonce is used up, whatever happens next;
3. the kind's own ``apply`` checks, in the order its docstring lists;
4. for genesis, the sender checks run after ``apply``, against the parties it created.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final, cast

import rantai.core.kinds  # noqa: F401 -- registers every kind and state namespace before a load
from rantai.core import codes, limits
from rantai.core.block import Header, Receipt, header_hash, receipts_root, txs_root
from rantai.core.encoding import encode
from rantai.core.errors import InvariantError, Rejection, invariant
from rantai.core.records import CHAIN_KEY, ChainConfig, Party, nonce_key, party_key
from rantai.core.registers import StateIndex
from rantai.core.state import DELETED, StateView
from rantai.core.tx import SignedTx, TxContext
from rantai.core.values import StateValues
from rantai.crypto._hashing import hashed_changes
from rantai.crypto.hashing import ZERO_DIGEST, sha256
from rantai.crypto.smt import StateTree

__all__ = ["BlockOutcome", "Ledger", "state_path", "tree_leaves"]

LEAF_CHUNK: Final = 10_000  # keys hashed per call by tree_leaves


def state_path(key: str) -> bytes:
    """The state tree path of ``key``: SHA-256 of its UTF-8 bytes."""
    return sha256(key.encode())


@dataclass(frozen=True, slots=True)
class BlockOutcome:
    """What executing a block produced: to be signed, stored and announced."""

    header: Header
    header_hash: bytes
    receipts: tuple[Receipt, ...]
    receipt_bytes: tuple[bytes, ...]
    changes: dict[str, bytes | None]


@dataclass(frozen=True, slots=True)
class _Staged:
    """A block executed but not yet applied: its changes encoded and decoded."""

    header: Header
    header_hash: bytes
    changes: dict[str, bytes | None]
    decoded: dict[str, Any]


class Ledger:
    """Applied state (``values``, the ordered indexes) and its head, and the blocks executed
    past it.

    A block is *staged* when it has executed: its header exists, the state tree and ``tip``
    include it, and later blocks execute on top of it through ``StateView``'s pending
    changes. It is *applied* (``apply_staged``) once the node has made it durable: only then
    do ``values``, ``index`` and ``head`` include it, so a reader of ``values`` at ``head``
    never sees a block a crash could still lose. ``execute_block`` does both at once.
    """

    def __init__(self, values: StateValues | None = None) -> None:
        self.values = StateValues() if values is None else values
        self.index = StateIndex()
        self.tree = StateTree()  # at ``tip``: it includes the staged blocks
        self.head: Header | None = None
        self.head_hash: bytes = ZERO_DIGEST
        self.tip: Header | None = None
        self.tip_hash: bytes = ZERO_DIGEST
        # The staged blocks' changes, oldest first, and merged: key -> newest staged value or
        # DELETED, with the height that wrote it (so applying an older block keeps it).
        self._staged: deque[_Staged] = deque()
        self._pending: dict[str, Any] = {}
        self._pending_height: dict[str, int] = {}

    @classmethod
    def load(
        cls, items: Iterable[tuple[str, bytes]], head: Header, values: StateValues | None = None
    ) -> Ledger:
        """Rebuild a ledger from stored ``(key, value)`` pairs and check it against ``head``.

        ``values`` is the empty ``StateValues`` to fill (a node passes one with a lock).

        Raises InvariantError when the rebuilt state root differs from the header's.
        """
        ledger = cls(values)
        values = ledger.values
        values.load(items)
        ledger.tree = StateTree.build(tree_leaves(values.raw_items()))
        ledger.index = StateIndex.build(values)
        if ledger.tree.root != head.state_root:
            raise InvariantError(
                f"stored state root {ledger.tree.root.hex()} differs from header "
                f"{head.height}'s {head.state_root.hex()}"
            )
        ledger.head = ledger.tip = head
        ledger.head_hash = ledger.tip_hash = header_hash(head)
        return ledger

    @property
    def chain(self) -> ChainConfig | None:
        """The chain's configuration, once genesis has been applied."""
        config: ChainConfig | None = self.values.get(CHAIN_KEY)
        return config

    @property
    def next_height(self) -> int:
        """The height of the next block to execute."""
        return 0 if self.tip is None else self.tip.height + 1

    @property
    def staged_count(self) -> int:
        """Blocks executed but not yet applied."""
        return len(self._staged)

    def tip_get(self, key: str) -> Any:
        """The decoded value of ``key`` at ``tip`` (staged blocks included), or None."""
        value = self._pending.get(key, self)
        if value is self:
            return self.values.get(key)
        return None if value is DELETED else value

    def tip_raw(self, key: str) -> bytes | None:
        """The encoded value of ``key`` at ``tip``, or None: as stored, without decoding it
        when no staged block changed it."""
        value = self._pending.get(key)  # never None: DELETED marks a deletion
        if value is None:
            return self.values.raw(key)
        return None if value is DELETED else encode(value)

    def execute_block(self, txs: Sequence[SignedTx], timestamp_ms: int) -> BlockOutcome:
        """Execute ``txs`` as the next block and apply it at once (``stage_block`` then
        ``apply_staged``); for callers with nothing to make durable in between."""
        invariant(not self._staged, "execute_block with staged blocks")
        outcome = self.stage_block(txs, timestamp_ms)
        self.apply_staged()
        return outcome

    def stage_block(self, txs: Sequence[SignedTx], timestamp_ms: int) -> BlockOutcome:
        """Apply ``txs`` in order as the next block on top of ``tip``; return the outcome.

        The transactions must have passed ``check_envelope``; the timestamp must not go
        back in time. Rejected transactions are kept with their receipts.
        """
        invariant(len(txs) <= limits.BLOCK_TXS_MAX, "block above BLOCK_TXS_MAX")
        invariant(self.tip is None or timestamp_ms >= self.tip.timestamp_ms, "timestamp went back")
        height = self.next_height
        view = StateView(self.values, self.index, height, self._pending)
        receipts = tuple(apply_tx(view, tx, height, timestamp_ms) for tx in txs)
        receipt_bytes = tuple(encode(r) for r in receipts)
        chain: ChainConfig | None = view.get(CHAIN_KEY)
        if chain is None:
            raise InvariantError("a block without genesis")
        changes, decoded = self._stage_changes(view)
        header = Header(
            chain_id=chain.chain_id,
            height=height,
            prev_hash=self.tip_hash,
            timestamp_ms=timestamp_ms,
            tx_count=len(txs),
            txs_root=txs_root([tx.tx_id for tx in txs]),
            receipts_root=receipts_root(receipt_bytes),
            state_root=self.tree.root,
        )
        self.tip = header
        self.tip_hash = header_hash(header)
        self._staged.append(_Staged(header, self.tip_hash, changes, decoded))
        pending, pending_height = self._pending, self._pending_height
        for key, value in decoded.items():
            pending[key] = value
            pending_height[key] = height
        return BlockOutcome(header, self.tip_hash, receipts, receipt_bytes, changes)

    def _stage_changes(self, view: StateView) -> tuple[dict[str, bytes | None], dict[str, Any]]:
        """Encode the block's changes and update the state tree with them."""
        changes: dict[str, bytes | None] = {}
        decoded: dict[str, Any] = {}
        for key, value in view.block_changes():
            decoded[key] = value
            changes[key] = None if value is DELETED else encode(value)
        # Paths and leaf digests as state_path and sha256 make them, hashed in C.
        self.tree.update(hashed_changes(changes))
        return changes, decoded

    def apply_staged(self) -> Header:
        """Apply the oldest staged block to ``values``, ``index`` and ``head``; return its
        header. Call once the block is durable."""
        invariant(bool(self._staged), "no staged block to apply")
        staged = self._staged.popleft()
        header, decoded = staged.header, staged.decoded
        values, index = self.values, self.index
        pending, pending_height = self._pending, self._pending_height
        height = header.height
        # The table reports which keys it inserted: asking it first would look each changed
        # key up once more, a cache miss apiece at a million accounts. The index is updated
        # after the values; no reader runs in between (the node holds its block lock around
        # this call and around every reader of the index).
        for key in values.apply(staged.changes, decoded):
            index.update(key, present=True)
        for key, value in decoded.items():
            if value is DELETED:
                index.update(key, present=False)
        for key in decoded:
            if pending_height[key] == height:
                del pending[key]
                del pending_height[key]
        self.head = header
        self.head_hash = staged.header_hash
        return header


def tree_leaves(pairs: Iterable[tuple[str, bytes]]) -> Iterator[tuple[bytes, bytes]]:
    """The state tree's ``(path, leaf digest)`` of each stored ``(key, value)``, hashed in C a
    chunk at a time (as ``state_path`` and ``sha256`` would, per key, in Python: a fifth of a
    node's start-up at a million accounts). A generator: at millions of keys a list of pairs
    would outweigh the tree."""
    items = iter(pairs)
    while True:
        chunk: dict[str, bytes | None] = dict(islice(items, LEAF_CHUNK))
        if not chunk:
            return
        # No value is None (only stored values come in), so no digest is.
        yield from cast("dict[bytes, bytes]", hashed_changes(chunk)).items()


def apply_tx(view: StateView, tx: SignedTx, height: int, timestamp_ms: int) -> Receipt:
    """Apply one transaction to ``view`` and return its receipt (see the module docstring)."""
    body = tx.body
    ctx = TxContext(view, height, timestamp_ms, tx.sender, tx.tx_id)
    try:
        has_chain = view.get(CHAIN_KEY) is not None
        if has_chain != body.needs_sender:
            raise Rejection(codes.GENESIS_ONLY, "genesis first, and only once")
        if body.needs_sender:
            _check_sender(view, tx)
            view.put_direct(nonce_key(tx.sender), tx.nonce + 1)
            body.apply(ctx)
        else:
            body.apply(ctx)
            _check_sender(view, tx)
            view.put(nonce_key(tx.sender), tx.nonce + 1)
    except Rejection as rejection:
        view.reject_tx()
        return Receipt(tx.tx_id, rejection.code, ())
    view.accept_tx()
    return Receipt(tx.tx_id, codes.OK, tuple(ctx.events))


def _check_sender(view: StateView, tx: SignedTx) -> None:
    party: Party | None = view.get(party_key(tx.sender))
    if party is None:
        raise Rejection(codes.UNKNOWN_SENDER, f"no party {tx.sender!r}")
    if tx.public_key not in party.keys:
        raise Rejection(codes.KEY_NOT_AUTHORIZED, f"the key is not one of {tx.sender!r}'s")
    expected: int = view.get(nonce_key(tx.sender)) or 0
    if tx.nonce != expected:
        raise Rejection(codes.BAD_NONCE, f"nonce {tx.nonce}, expected {expected}")

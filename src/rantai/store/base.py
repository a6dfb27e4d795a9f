"""The Store interface: what the node needs from a database, and nothing more.

A store keeps bytes, not objects: canonical encodings made by ``rantai.core``. That keeps
both implementations identical in what they hold, and lets ``rantai verify`` recheck every
stored byte against a replay.

Tables (same names and meaning on every backend; see docs/decisions/storage.md):

| table | row |
|---|---|
| blocks | height, header hash, header bytes, certificate bytes |
| txs | tx id, height, index in block, envelope bytes, receipt bytes |
| state | key, current value bytes, height of last change (SQLite: derived, folded) |
| state_log | key, height, value bytes or NULL (deleted): every change, for past heights |
| access_log | seq, time, party, method, path, query, status, hash: agency reads (not state) |
| alerts | alert id, monitor, height, time, score, status, agency, detail: AML alerts (not state) |
| alert_history | alert id, seq, time, actor, status, agency, reason: every status change |
| supervisor_checkpoint | one row: a supervised height and what the monitors remembered then |
| meta | schema version and other single values |
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Generic, Protocol, TypeVar

__all__ = [
    "AccessLogRecord",
    "AlertChange",
    "AlertRecord",
    "BlockRecord",
    "OutcomeRecord",
    "Store",
    "StoreError",
    "TxRecord",
]


class StoreError(Exception):
    """A store refused an operation: wrong height, duplicate block, unreadable database."""


@dataclass(frozen=True, slots=True)
class TxRecord:
    """One transaction as stored: its id, position, signed envelope and receipt."""

    tx_id: bytes
    height: int
    index: int
    envelope: bytes
    receipt: bytes


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """One block as stored, with everything that commits with it.

    ``state_changes`` maps each state key the block changed to its new canonical value,
    or ``None`` where the block deleted the key.
    """

    height: int
    header_hash: bytes
    header: bytes
    certificate: bytes
    txs: Sequence[TxRecord]
    state_changes: Mapping[str, bytes | None]


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """What a block did, as stored: its header, its receipts in index order and its state
    changes; a ``BlockRecord`` without the envelopes, for readers of outcomes only."""

    height: int
    header: bytes
    receipts: Sequence[bytes]
    state_changes: Mapping[str, bytes | None]


@dataclass(frozen=True, slots=True)
class AccessLogRecord:
    """One entry of the access log: an agency's read and the hash chaining it to the last.

    The store keeps the hash it is given; ``rantai.node.accesslog`` computes it and
    ``rantai.node.audit`` checks it.
    """

    seq: int
    at_ms: int
    party: str
    method: str
    path: str
    query: str
    status: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One AML alert as stored (``rantai.supervision`` makes and reads them).

    ``detail`` is the supervision layer's canonical JSON (parties, transactions, facts): the
    store keeps bytes and filters only on ``status``. ``agency`` is ``""`` until assigned.
    """

    alert_id: int
    monitor: str
    height: int
    at_ms: int
    score: int
    status: str
    agency: str
    detail: bytes


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One entry of an alert's history: who set which status (and agency) when, and why.

    ``seq`` runs from 1 per alert; entry 1 is the alert being raised.
    """

    alert_id: int
    seq: int
    at_ms: int
    actor: str
    status: str
    agency: str
    reason: str


class Store(Protocol):
    """Durable storage of blocks, transactions, receipts and state.

    ``commit_blocks`` is the only write of the chain: consecutive blocks, each with its
    transactions, receipts and state changes, commit in one database transaction, durable
    when it returns (a group commit: the node writes the blocks that executed while the
    previous group was written). Heights are dense from 0 (genesis); a group that does not
    start at ``head_height() + 1`` or skips a height raises ``StoreError`` and writes nothing.
    """

    def head_height(self) -> int | None:
        """The height of the last committed block, or ``None`` for an empty store."""
        ...

    def commit_block(self, block: BlockRecord) -> None:
        """Commit ``block`` with its txs and state changes atomically and durably."""
        ...

    def commit_blocks(self, blocks: Sequence[BlockRecord]) -> None:
        """Commit consecutive ``blocks`` atomically and durably: all of them or none."""
        ...

    def get_block(self, height: int) -> BlockRecord | None:
        """The block at ``height`` with its txs (state_changes is read from state_log)."""
        ...

    def get_outcome(
        self, height: int, namespaces: Collection[str] | None = None
    ) -> OutcomeRecord | None:
        """The header, receipts and state changes of the block at ``height``: the changes of
        keys in ``namespaces`` only, when given (a key's namespace is its text before the
        first ``/``)."""
        ...

    def iter_blocks(self, start_height: int = 0) -> Iterator[BlockRecord]:
        """Every block from ``start_height`` to the head, in order."""
        ...

    def get_header(self, height: int) -> tuple[bytes, bytes, bytes] | None:
        """``(header_hash, header, certificate)`` at ``height``, or ``None``."""
        ...

    def get_tx(self, tx_id: bytes) -> TxRecord | None:
        """The latest inclusion of the transaction with id ``tx_id``, or ``None``.

        An id may be in several blocks (docs/decisions/nonces.md); at most one of them is ``ok``.
        """
        ...

    def get_state(self, key: str) -> bytes | None:
        """The current value of ``key``, or ``None`` when absent."""
        ...

    def iter_state(self) -> Iterator[tuple[str, bytes]]:
        """Every current ``(key, value)``, ordered by key."""
        ...

    def get_state_at(self, key: str, height: int) -> bytes | None:
        """The value of ``key`` as it was after block ``height`` committed."""
        ...

    def iter_state_at(self, height: int) -> Iterator[tuple[str, bytes]]:
        """Every ``(key, value)`` present after block ``height``, ordered by key."""
        ...

    def append_access_log(self, entries: Sequence[AccessLogRecord]) -> None:
        """Append ``entries`` in one durable transaction.

        Their ``seq`` must run on from the last stored entry's (1 for the first entry) without
        a gap; otherwise ``StoreError`` and nothing is written.
        """
        ...

    def iter_access_log(self, after_seq: int, limit: int) -> Iterator[AccessLogRecord]:
        """Up to ``limit`` entries with ``seq > after_seq``, in ``seq`` order."""
        ...

    def last_access_log(self) -> AccessLogRecord | None:
        """The entry with the greatest ``seq``, or ``None`` when the log is empty."""
        ...

    def supervised_height(self) -> int | None:
        """The last height whose events supervision has processed, or ``None``."""
        ...

    def record_alerts(
        self, alerts: Sequence[AlertRecord], changes: Sequence[AlertChange], height: int
    ) -> None:
        """Insert new ``alerts`` with their first history ``changes`` and record ``height``
        as supervised, in one durable transaction.

        Alert ids must run on from the greatest stored id without a gap, and ``height`` must
        be above the supervised height; otherwise ``StoreError`` and nothing is written.
        """
        ...

    def save_supervisor_checkpoint(self, height: int, state: bytes) -> None:
        """Keep ``state``, the monitors' checkpoint after block ``height``, in place of the
        last one, in one durable transaction.

        ``height`` must be at or below the supervised height (alerts up to a checkpoint are
        recorded before it); otherwise ``StoreError`` and nothing is written. It may be below
        the kept checkpoint's: monitors given another config replay from genesis.
        """
        ...

    def supervisor_checkpoint(self) -> tuple[int, bytes] | None:
        """``(height, state)`` of the kept checkpoint, or ``None``."""
        ...

    def change_alert(self, alert: AlertRecord, change: AlertChange) -> None:
        """Set ``alert``'s status and agency and append ``change`` to its history, in one
        durable transaction. ``change.seq`` must be the next of the alert's history (so two
        concurrent reviewers cannot both write from the same state); otherwise ``StoreError``.
        """
        ...

    def last_alert_id(self) -> int:
        """The greatest alert id, 0 when there is none."""
        ...

    def get_alert(self, alert_id: int) -> AlertRecord | None:
        """The alert ``alert_id``, or ``None``."""
        ...

    def list_alerts(self, status: str | None, after_id: int, limit: int) -> list[AlertRecord]:
        """Up to ``limit`` alerts with id above ``after_id`` (and ``status``, when given)."""
        ...

    def alert_history(self, alert_id: int) -> list[AlertChange]:
        """The history of alert ``alert_id`` in ``seq`` order (empty for an unknown id)."""
        ...

    def check_derived(self) -> str | None:
        """What is wrong with data the store derives from its tables itself (an index it
        keeps by hand), or None. ``rantai verify`` asks; the tables are checked by replay."""
        ...

    def close(self) -> None:
        """Release the database connection(s)."""
        ...


# -- Shared by the implementations (not part of the interface) --------------------------------

_Connection = TypeVar("_Connection")

# Heights and tx positions are stored as signed 64-bit integers on both backends.
INT64_MAX = 2**63 - 1


def check_block_group(blocks: Sequence[BlockRecord]) -> None:
    """Refuse an empty group, heights that do not follow each other, or a bad block
    (``check_block_record``).

    Raises:
        StoreError: the first problem found.
    """
    if not blocks:
        raise StoreError("no blocks to commit")
    for before, after in pairwise(blocks):
        if after.height != before.height + 1:
            raise StoreError(f"block {after.height} does not follow block {before.height}")
    for block in blocks:
        check_block_record(block)


def check_block_record(block: BlockRecord) -> None:
    """Refuse a block the store cannot hold the same way on every backend.

    Checked before any write, in this order: a height outside 0..2**63-1; a tx whose ``height``
    is not the block's, or whose ``index`` is outside 0..2**63-1; a state key containing NUL
    (PostgreSQL TEXT cannot hold it, SQLite can: refused on both so that the backends agree)
    or a lone surrogate (not encodable as UTF-8).

    Raises:
        StoreError: the first problem found.
    """
    if not 0 <= block.height <= INT64_MAX:
        raise StoreError(f"block height {block.height} is out of range")
    for tx in block.txs:
        if tx.height != block.height:
            raise StoreError(f"tx {tx.tx_id.hex()} has height {tx.height} in block {block.height}")
        if not 0 <= tx.index <= INT64_MAX:
            raise StoreError(f"tx {tx.tx_id.hex()} has index {tx.index} out of range")
    for key in block.state_changes:
        if "\x00" in key:
            raise StoreError(f"state key {key!r} contains NUL")
        if not key.isascii():
            try:
                key.encode()
            except UnicodeEncodeError:
                raise StoreError(f"state key {key!r} is not valid Unicode text") from None


def check_access_log_records(entries: Sequence[AccessLogRecord], last_seq: int) -> None:
    """Refuse entries that do not continue the log after ``last_seq``, or that a backend
    cannot hold the same way as the other (NUL in text, out-of-range integers).

    Raises:
        StoreError: the first problem found.
    """
    expected = last_seq + 1
    for entry in entries:
        if entry.seq != expected:
            raise StoreError(f"access log entry {entry.seq} refused: the next seq is {expected}")
        expected += 1
        if not (0 <= entry.at_ms <= INT64_MAX and 0 <= entry.status <= INT64_MAX):
            raise StoreError(f"access log entry {entry.seq}: a number is out of range")
        for text in (entry.party, entry.method, entry.path, entry.query):
            if "\x00" in text:
                raise StoreError(f"access log entry {entry.seq}: text contains NUL")


SUPERVISED_HEIGHT_KEY = "supervised_height"


def check_supervisor_checkpoint(height: int, supervised: int | None) -> None:
    """Refuse a checkpoint above the supervised height: its blocks' alerts are not stored."""
    if supervised is None or not 0 <= height <= supervised:
        raise StoreError(f"checkpoint at {height} refused: supervised up to {supervised}")


def check_alert_records(
    alerts: Sequence[AlertRecord],
    changes: Sequence[AlertChange],
    height: int,
    last_id: int,
    supervised: int | None,
) -> None:
    """Refuse new alerts that do not continue the stored ones, or a height already supervised.

    Raises:
        StoreError: the first problem found.
    """
    if not 0 <= height <= INT64_MAX:
        raise StoreError(f"supervised height {height} is out of range")
    if supervised is not None and height <= supervised:
        raise StoreError(f"height {height} refused: supervised up to {supervised} already")
    expected = last_id + 1
    for alert in alerts:
        if alert.alert_id != expected:
            raise StoreError(f"alert {alert.alert_id} refused: the next id is {expected}")
        expected += 1
    ids = {alert.alert_id for alert in alerts}
    for change in changes:
        if change.alert_id not in ids:
            raise StoreError(f"history of alert {change.alert_id}, which is not new")
        check_alert_change(change)


def check_alert_change(change: AlertChange) -> None:
    """Refuse a history entry the backends would not hold alike (NUL in text, bad numbers).

    Raises:
        StoreError: the first problem found.
    """
    if not (1 <= change.seq <= INT64_MAX and 0 <= change.at_ms <= INT64_MAX):
        raise StoreError(f"alert {change.alert_id} change: a number is out of range")
    for text in (change.actor, change.status, change.agency, change.reason):
        if "\x00" in text:
            raise StoreError(f"alert {change.alert_id} change: text contains NUL")


class ConnectionPool(Generic[_Connection]):
    """Read connections shared by threads: check one out, use it, give it back.

    Each use holds its own connection, so readers in different threads never share one, and
    two iterators open in one thread do not interleave on one connection either. At most
    ``idle_max`` idle connections are kept; the rest are closed when given back. A connection
    that ``usable`` rejects (broken, left inside a transaction) is closed, not reused.
    """

    def __init__(
        self,
        connect: Callable[[], _Connection],
        close: Callable[[_Connection], None],
        usable: Callable[[_Connection], bool],
        idle_max: int,
    ) -> None:
        self._connect = connect
        self._close = close
        self._usable = usable
        self._idle_max = idle_max
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[_Connection]:
        """A connection for the duration of the ``with`` block.

        Raises:
            StoreError: the pool is closed.
        """
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._give_back(conn)

    def _give_back(self, conn: _Connection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._idle_max and self._usable(conn):
                self._idle.append(conn)
                return
        self._close(conn)

    def close(self) -> None:
        """Close the idle connections now and those in use when they are given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)

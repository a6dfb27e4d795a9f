"""The SQLite store: the embedded default, one database file and one derived (DESIGN §10).

Durability: the journal is WAL with ``synchronous=FULL``, so a block is on disk when
``commit_block`` returns, and a crash at any instant leaves the last committed block intact.
A block is written in one ``BEGIN IMMEDIATE`` transaction, its rows sent with
``executemany``; the head is checked inside that transaction, so a block at the wrong height
writes nothing.

Threads: writes go through one connection under a lock (the node writes from one thread;
the lock only stops a second writer from interleaving). Reads go through a small pool of
read-only (``query_only``) connections: each call, and each iterator for as long as it
runs, holds a connection of its own, so no connection is ever used by two readers at once,
and WAL lets them read the last committed block while a block is being written. Every
statement reads one committed snapshot. Connections are opened with
``check_same_thread=False`` only so that ``close`` may close them from any thread and an
iterator may be finished on another thread than the one that started it; the pool still
hands each to one user at a time.

State: a block appends its changes to ``state_log`` in height order; the current values, the
key index of past values and the id index of ``txs`` are folded into a derived file in the
background (``rantai.store.sqlitestate``, docs/decisions/sqlite-fold.md). Read connections
attach that file; a state read or a tx lookup is one read transaction over both.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import astuple
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from rantai.store.base import (
    SUPERVISED_HEIGHT_KEY,
    AccessLogRecord,
    AlertChange,
    AlertRecord,
    BlockRecord,
    ConnectionPool,
    StoreError,
    TxRecord,
    check_access_log_records,
    check_alert_change,
    check_alert_records,
    check_block_group,
    check_supervisor_checkpoint,
)
from rantai.store.migrations import (
    META_DDL,
    MIGRATIONS,
    SCHEMA_VERSION_KEY,
    Migration,
    plan_migrations,
    statements_for,
)
from rantai.store.sqlitestate import (
    FOLD_CHANGES,
    Folder,
    check_indexes,
    derived_path,
    iter_state_at,
    stream_rows,
    tx_at,
    value_at,
)
from rantai.store.sqlitetx import read_transaction, write_transaction
from rantai.store.sqlreads import ALERT_COLUMNS, CHANGE_COLUMNS, Query, Row, SqlReads

__all__ = ["SqliteStore"]

BUSY_TIMEOUT_MS: Final = 10_000
READERS_IDLE_MAX: Final = 8
FETCH_ROWS: Final = 1_000


@contextmanager
def _translate(what: str) -> Iterator[None]:
    """Turn a database error into ``StoreError``: callers handle one exception type."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{what}: {exc}") from exc


class SqliteStore(SqlReads):
    """A ``Store`` in the SQLite file at ``path``, created and migrated as needed.

    Raises:
        StoreError: the file cannot be opened, is not a database, or has a schema newer than
            this code knows.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        fold_changes: int = FOLD_CHANGES,
    ) -> None:
        self.path = Path(path)
        self._write_lock = threading.Lock()
        self._closed = False
        self._writer = self._connect(query_only=False)
        try:
            with _translate(f"cannot open {self.path}"):
                mode = self._writer.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode != "wal":
                    raise StoreError(f"cannot use WAL for {self.path} (journal mode {mode})")
                self._writer.execute("PRAGMA synchronous=FULL")
                _migrate(self._writer, migrations)
            with _translate(f"cannot open the derived state of {self.path}"):
                self._folder = Folder(self.path, fold_changes)
        except BaseException:
            self._writer.close()
            raise
        self._readers: ConnectionPool[sqlite3.Connection] = ConnectionPool(
            connect=lambda: self._connect(query_only=True),
            close=sqlite3.Connection.close,
            usable=lambda conn: not conn.in_transaction,
            idle_max=READERS_IDLE_MAX,
        )

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self, *, query_only: bool) -> sqlite3.Connection:
        with _translate(f"cannot open {self.path}"):
            # isolation_level=None: no implicit BEGIN; transactions are explicit.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                if query_only:
                    conn.execute("PRAGMA query_only=ON")
                    conn.execute("ATTACH DATABASE ? AS derived", (str(derived_path(self.path)),))
            except BaseException:
                conn.close()
                raise
        return conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with _translate(f"cannot read {self.path}"), self._readers.connection() as conn:
            yield conn

    # -- writes ------------------------------------------------------------------------------

    def commit_block(self, block: BlockRecord) -> None:
        """Commit ``block`` with its txs and state changes in one durable transaction.

        Raises:
            StoreError: the block is malformed (see ``check_block_record``), its height is not
                ``head_height() + 1``, or the database refuses a row (e.g. a tx id already
                stored). Nothing of the block is written.
        """
        self.commit_blocks([block])

    def commit_blocks(self, blocks: Sequence[BlockRecord]) -> None:
        """Commit consecutive ``blocks`` in one durable transaction: all or none.

        Raises:
            StoreError: the group is malformed (see ``check_block_group``), does not start at
                ``head_height() + 1``, or the database refuses a row. Nothing is written.
        """
        check_block_group(blocks)
        first, last = blocks[0].height, blocks[-1].height
        with self._write_lock, _translate(f"blocks {first} to {last} not committed"):
            conn = self._require_writer()
            with write_transaction(conn):
                head: int | None = conn.execute("SELECT max(height) FROM blocks").fetchone()[0]
                expected = 0 if head is None else head + 1
                if first != expected:
                    raise StoreError(f"block {first} refused: the next height is {expected}")
                for block in blocks:
                    _write_block(conn, block)
        self._folder.committed(last, sum(len(b.state_changes) for b in blocks))

    def fold(self) -> int:
        """Fold every committed block into the derived state file now; the height folded.
        (Commits fold in the background every ``fold_changes`` changes; reads never need it.)"""
        with _translate(f"cannot fold the state of {self.path}"):
            return self._folder.fold()

    def append_access_log(self, entries: Sequence[AccessLogRecord]) -> None:
        """Append access log entries in one durable transaction.

        Raises:
            StoreError: the entries do not continue the stored log (see
                ``check_access_log_records``); nothing is written.
        """
        if not entries:
            return
        rows = [
            (e.seq, e.at_ms, e.party, e.method, e.path, e.query, e.status, e.hash) for e in entries
        ]
        with self._write_lock, _translate("access log not appended"):
            conn = self._require_writer()
            with write_transaction(conn):
                last: int | None = conn.execute("SELECT max(seq) FROM access_log").fetchone()[0]
                check_access_log_records(entries, last or 0)
                conn.executemany(
                    "INSERT INTO access_log (seq, at_ms, party, method, path, query, status, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )

    def _require_writer(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("store is closed")
        return self._writer

    # -- reads -------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._reading() as conn:
            return _read_version(conn)

    # -- alerts (rantai.supervision) ----------------------------------------------------------

    def record_alerts(
        self, alerts: Sequence[AlertRecord], changes: Sequence[AlertChange], height: int
    ) -> None:
        """Insert new alerts and their first history entries; record ``height`` as supervised.

        Raises:
            StoreError: see ``check_alert_records``; nothing is written.
        """
        # The records' fields are the tables' columns, in order.
        alert_rows = [astuple(a) for a in alerts]
        change_rows = [astuple(c) for c in changes]
        with self._write_lock, _translate(f"alerts of height {height} not recorded"):
            conn = self._require_writer()
            with write_transaction(conn):
                last: int | None = conn.execute("SELECT max(alert_id) FROM alerts").fetchone()[0]
                row = conn.execute(
                    "SELECT value FROM meta WHERE key = ?", (SUPERVISED_HEIGHT_KEY,)
                ).fetchone()
                supervised = None if row is None else int(row[0])
                check_alert_records(alerts, changes, height, last or 0, supervised)
                conn.executemany(
                    f"INSERT INTO alerts ({ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    alert_rows,
                )
                conn.executemany(
                    f"INSERT INTO alert_history ({CHANGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    change_rows,
                )
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (SUPERVISED_HEIGHT_KEY, str(height)),
                )

    def save_supervisor_checkpoint(self, height: int, state: bytes) -> None:
        """Keep the monitors' checkpoint after block ``height`` in place of the last one.

        Raises:
            StoreError: see ``check_supervisor_checkpoint``; nothing is written.
        """
        with self._write_lock, _translate(f"checkpoint at {height} not saved"):
            conn = self._require_writer()
            with write_transaction(conn):
                row = conn.execute(
                    "SELECT value FROM meta WHERE key = ?", (SUPERVISED_HEIGHT_KEY,)
                ).fetchone()
                check_supervisor_checkpoint(height, None if row is None else int(row[0]))
                conn.execute(
                    "INSERT INTO supervisor_checkpoint (slot, height, state) VALUES (1, ?, ?)"
                    " ON CONFLICT (slot) DO UPDATE"
                    " SET height = excluded.height, state = excluded.state",
                    (height, state),
                )

    def change_alert(self, alert: AlertRecord, change: AlertChange) -> None:
        """Set an alert's status and agency and append the change to its history.

        Raises:
            StoreError: the alert is unknown, or ``change.seq`` is not the next of its
                history; nothing is written.
        """
        check_alert_change(change)
        with self._write_lock, _translate(f"alert {alert.alert_id} not changed"):
            conn = self._require_writer()
            with write_transaction(conn):
                last: int | None = conn.execute(
                    "SELECT max(seq) FROM alert_history WHERE alert_id = ?", (alert.alert_id,)
                ).fetchone()[0]
                if last is None or change.seq != last + 1 or change.alert_id != alert.alert_id:
                    raise StoreError(f"alert {alert.alert_id}: change {change.seq} is not next")
                conn.execute(
                    "UPDATE alerts SET status = ?, agency = ? WHERE alert_id = ?",
                    (alert.status, alert.agency, alert.alert_id),
                )
                conn.execute(
                    f"INSERT INTO alert_history ({CHANGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    astuple(change),
                )

    def get_tx(self, tx_id: bytes) -> TxRecord | None:
        """The latest inclusion of the transaction with id ``tx_id``, or ``None``."""
        with self._reading() as conn, read_transaction(conn):
            row = tx_at(conn, tx_id)
        return None if row is None else TxRecord(tx_id, *row)

    def get_state(self, key: str) -> bytes | None:
        """The current value of ``key``, or ``None`` when absent."""
        with self._reading() as conn, read_transaction(conn):
            return value_at(conn, key, None)

    def get_state_at(self, key: str, height: int) -> bytes | None:
        """The value of ``key`` after block ``height``; heights above the head read the head."""
        with self._reading() as conn, read_transaction(conn):
            return value_at(conn, key, height)

    def iter_state(self) -> Iterator[tuple[str, bytes]]:
        """Every current ``(key, value)``, ordered by key, from one snapshot."""
        return self._iter_state(None)

    def iter_state_at(self, height: int) -> Iterator[tuple[str, bytes]]:
        """Every ``(key, value)`` present after block ``height``, ordered by key.

        Heights above the head read as the head; negative heights read as empty.
        """
        return self._iter_state(height)

    def _iter_state(self, height: int | None) -> Iterator[tuple[str, bytes]]:
        # The connection and its read transaction are held until the iterator ends.
        with self._reading() as conn, read_transaction(conn):
            yield from iter_state_at(conn, height, FETCH_ROWS)

    def check_derived(self) -> str | None:
        """Whether the derived file's key index (``history``) lists exactly the changes of
        ``state_log``, and its id index (``tx_heights``) exactly the inclusions of ``txs``, up
        to its folded height; its ``state`` the audit compares by replay."""
        with self._reading() as conn, read_transaction(conn):
            return check_indexes(conn)

    def _fetch(self, queries: Sequence[Query]) -> list[list[Row]]:
        with self._reading() as conn:
            return [conn.execute(sql, params).fetchall() for sql, params in queries]

    def _iter_rows(self, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[str, bytes]]:
        # One statement, so one snapshot; the connection is held until the iterator ends.
        with self._reading() as conn:
            yield from stream_rows(conn.execute(sql, params), FETCH_ROWS)

    def close(self) -> None:
        """Close every connection; later calls raise ``StoreError``. Idempotent."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            self._folder.close()
            self._readers.close()
            self._writer.close()


def _read_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (SCHEMA_VERSION_KEY,)).fetchone()
    if row is None:
        return 0
    try:
        return int(row[0])
    except ValueError:
        raise StoreError(f"schema version {row[0]!r} is not a number") from None


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    """Apply the pending ``migrations`` in one transaction (DDL is transactional in SQLite)."""
    with write_transaction(conn):
        conn.execute(META_DDL)
        pending = plan_migrations(_read_version(conn), migrations)
        for migration in pending:
            for statement in statements_for(migration, "sqlite"):
                conn.execute(statement)
        if pending:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (SCHEMA_VERSION_KEY, str(pending[-1].version)),
            )


def _write_block(conn: sqlite3.Connection, block: BlockRecord) -> None:
    """Write one block's rows inside the caller's transaction."""
    height = block.height
    changes = sorted(block.state_changes.items())  # key order: B-tree friendly, repeatable
    conn.execute(
        "INSERT INTO blocks (height, header_hash, header, certificate) VALUES (?, ?, ?, ?)",
        (height, block.header_hash, block.header, block.certificate),
    )
    conn.executemany(
        "INSERT INTO txs (tx_id, height, tx_index, envelope, receipt) VALUES (?, ?, ?, ?, ?)",
        [(tx.tx_id, tx.height, tx.index, tx.envelope, tx.receipt) for tx in block.txs],
    )
    conn.executemany(
        "INSERT INTO state_log (height, key, value) VALUES (?, ?, ?)",
        [(height, key, value) for key, value in changes],
    )

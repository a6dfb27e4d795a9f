"""SQLite's state and tx-id reads: the height-ordered ``state_log`` and ``txs`` plus a
derived file folded from them.

A block appends its changes to ``state_log``, whose key is ``(height, key)``: the pages it
writes are at the end of one B-tree. What a read by key needs, the current value of each key
(``state``) and the heights at which each key changed (``history``), lives in a derived file
beside the ledger (``ledger.db`` -> ``ledger.state.db``), with the heights at which each
transaction id was included (``tx_heights``, ordered by id), brought up to date by a *fold*
once ``FOLD_CHANGES`` changes (or ``FOLD_BLOCKS_MAX`` blocks) are unfolded, in transactions
of about ``FOLD_CHUNK_CHANGES``. Folding many blocks at once writes each page of those
B-trees once for many keys, where a write per block wrote one page per changed key
(docs/decisions/sqlite-fold.md). The fold thread runs at a lower CPU priority than the
threads that commit and execute blocks.

``history`` and ``tx_heights`` are sets of sorted *runs*, as in a log-structured merge tree:
each fold appends its changes ordered by key, and its inclusions ordered by tx id, as a new
run (the run leads the primary key, so a run is written at the end of the B-tree), and once
``RUNS_PER_LEVEL`` runs of one level exist they are merged into one run of the next level.
One run ordered by key took nearly every page of the index at every fold, since most keys
change between folds and new ids fall everywhere: the whole index, growing with the chain,
was rewritten each time. With runs each entry is rewritten about once per level, and a read
by key or id seeks each run (``runs`` lists them, with their heights).

The derived file holds nothing that ``state_log`` and ``txs`` do not: it may lag, be
deleted, or come from another copy of the chain, and is then reset and folded again. Its
``fold`` row says up to which height it has folded and that block's header hash, which must
match the ledger's, and the format of its tables: a file of another format is folded again.

A read sees the derived file at some folded height ``F`` and the ledger at a later snapshot
with head ``H``: the changes of heights ``F+1 .. H`` (the *tail*) come from ``state_log``,
one index seek per tail height for a key (or a tx id: ``txs`` is indexed by height, then
id), or one grouped scan of the tail for the whole state. The derived file is read first,
so every height a concurrent fold adds after it is still in the ledger's tail; ledger rows
are never deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from rantai.store.sqlitetx import write_transaction

__all__ = [
    "FOLD_CHANGES",
    "Folder",
    "check_indexes",
    "derived_path",
    "iter_state_at",
    "stream_rows",
    "tx_at",
    "value_at",
]

log = logging.getLogger(__name__)

DERIVED_FORMAT: Final = 3  # 2: tx_heights; 3: history and tx_heights in runs
FOLD_CHANGES: Final = 250_000  # unfolded changes (~50,000 transfers) that start a fold
FOLD_BLOCKS_MAX: Final = 1_024  # or unfolded blocks: a key read seeks once per tail height
FOLD_CHUNK_CHANGES: Final = 500_000  # about this many per transaction: bounds time and memory
RUNS_PER_LEVEL: Final = 8  # runs of one level merged into one of the next (4: 48 % more CPU)
# The fold's page cache (SQLite's default is 2 MiB): at a million accounts the derived
# B-trees' interior pages alone are more. Measured there: the fold 45.5 - 46.7 -> 39.6 - 44.3
# us of CPU a transfer. Only the process that folds (the writer) fills it.
FOLD_CACHE_KIB: Final = 131_072
FOLD_NICE: Final = 10  # the fold thread's niceness: it yields the CPU, yet keeps up
FOLD_BUSY_TIMEOUT_MS: Final = 600_000  # two processes folding one file take turns
STOP_TIMEOUT_S: Final = 60.0

# The fold row's table keeps its layout in every format; the others are dropped and made
# again when the format changes.
FOLD_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS fold ("
    " slot INTEGER PRIMARY KEY, format INTEGER NOT NULL, height INTEGER NOT NULL,"
    " header_hash BLOB)",
    f"INSERT OR IGNORE INTO fold (slot, format, height) VALUES (1, {DERIVED_FORMAT}, -1)",
)
DERIVED_TABLES: Final = ("state", "runs", "history", "tx_heights")
DERIVED_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS state ("
    " key TEXT PRIMARY KEY, value BLOB NOT NULL, height INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS runs ("
    " run INTEGER PRIMARY KEY, level INTEGER NOT NULL, first_height INTEGER NOT NULL,"
    " last_height INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS history ("
    " run INTEGER NOT NULL, key TEXT NOT NULL, height INTEGER NOT NULL,"
    " PRIMARY KEY (run, key, height)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS tx_heights ("
    " run INTEGER NOT NULL, tx_id BLOB NOT NULL, height INTEGER NOT NULL,"
    " PRIMARY KEY (run, tx_id, height)) WITHOUT ROWID",
)

# -- reads (on a ledger connection with the derived file attached as ``derived``) -------------

_FOLDED_SQL: Final = "SELECT height FROM derived.fold WHERE slot = 1"
_HEAD_SQL: Final = "SELECT max(height) FROM blocks"
# The last change of a key in the tail: one seek per height, newest first. CROSS JOIN keeps
# the heights as the outer loop, so each is a primary-key lookup of (height, key).
_TAIL_VALUE_SQL: Final = (
    "WITH RECURSIVE heights(h) AS (SELECT ?1 UNION ALL SELECT h - 1 FROM heights WHERE h > ?2)"
    " SELECT state_log.value FROM heights CROSS JOIN state_log"
    " ON state_log.height = heights.h AND state_log.key = ?3"
    " ORDER BY heights.h DESC LIMIT 1"
)
_FOLDED_VALUE_SQL: Final = "SELECT value FROM derived.state WHERE key = ?"


def _runs_from(height: str) -> str:
    """The runs that may hold entries at or below ``height`` (an SQL parameter): a read
    seeks each."""
    return f"SELECT run FROM derived.runs WHERE first_height <= {height}"


_HISTORY_VALUE_SQL: Final = (
    "SELECT value FROM state_log WHERE key = ?1 AND height ="
    f" (SELECT max(height) FROM derived.history WHERE run IN ({_runs_from('?2')})"
    " AND key = ?1 AND height <= ?2)"
)
_FOLDED_STATE_SQL: Final = "SELECT key, value FROM derived.state ORDER BY key"
# SQLite documents that with a single max() aggregate, bare columns come from the row that
# holds the max: per key, its last change in the range, deletions (NULL) included.
_TAIL_STATE_SQL: Final = (
    "SELECT key, value, max(height) FROM state_log WHERE height > ?1 AND height <= ?2"
    " GROUP BY key ORDER BY key"
)
_HISTORY_STATE_SQL: Final = (
    "SELECT last.key, state_log.value FROM"
    " (SELECT key, max(height) AS height FROM derived.history"
    f"  WHERE run IN ({_runs_from('?1')}) AND height <= ?1 GROUP BY key)"
    " AS last CROSS JOIN state_log ON state_log.height = last.height AND state_log.key = last.key"
    " WHERE state_log.value IS NOT NULL ORDER BY last.key"
)


# The latest inclusion of a tx id: in the tail, one seek of (height, tx_id) per tail height,
# newest first; below it, the derived id index gives the height.
_TX_COLUMNS: Final = "txs.height, txs.tx_index, txs.envelope, txs.receipt"
_TAIL_TX_SQL: Final = (
    "WITH RECURSIVE heights(h) AS (SELECT ?1 UNION ALL SELECT h - 1 FROM heights WHERE h > ?2)"
    f" SELECT {_TX_COLUMNS} FROM heights CROSS JOIN txs"
    " ON txs.height = heights.h AND txs.tx_id = ?3"
    " ORDER BY heights.h DESC, txs.tx_index DESC LIMIT 1"
)
_FOLDED_TX_SQL: Final = (
    f"SELECT {_TX_COLUMNS} FROM txs WHERE txs.tx_id = ?1 AND txs.height ="
    f" (SELECT max(height) FROM derived.tx_heights WHERE run IN ({_runs_from('?2')})"
    " AND tx_id = ?1 AND height <= ?2)"
    " ORDER BY txs.tx_index DESC LIMIT 1"
)


def derived_path(ledger: Path) -> Path:
    """Where the derived file of ``ledger`` lives: ``ledger.db`` -> ``ledger.state.db``."""
    return ledger.with_name(f"{ledger.stem}.state{ledger.suffix}")


def _bounds(conn: sqlite3.Connection) -> tuple[int, int | None]:
    """The folded height, then the head, in that order (see the module docstring)."""
    folded: int = conn.execute(_FOLDED_SQL).fetchone()[0]
    head: int | None = conn.execute(_HEAD_SQL).fetchone()[0]
    return folded, head


def value_at(conn: sqlite3.Connection, key: str, height: int | None) -> bytes | None:
    """The value of ``key`` after block ``height`` (None: the head), inside the caller's
    read transaction."""
    folded, head = _bounds(conn)
    if head is None or (height is not None and height < 0):
        return None
    top = head if height is None else min(height, head)
    if top < folded:
        row = conn.execute(_HISTORY_VALUE_SQL, (key, top)).fetchone()
        return None if row is None else row[0]
    if top > folded:
        row = conn.execute(_TAIL_VALUE_SQL, (top, folded + 1, key)).fetchone()
        if row is not None:
            return row[0]  # type: ignore[no-any-return]  # None: deleted in the tail
    row = conn.execute(_FOLDED_VALUE_SQL, (key,)).fetchone()
    return None if row is None else row[0]


def tx_at(conn: sqlite3.Connection, tx_id: bytes) -> tuple[int, int, bytes, bytes] | None:
    """``(height, tx_index, envelope, receipt)`` of the latest inclusion of ``tx_id``, or
    None, inside the caller's read transaction."""
    folded, head = _bounds(conn)
    if head is None:
        return None
    if head > folded:
        row = conn.execute(_TAIL_TX_SQL, (head, folded + 1, tx_id)).fetchone()
        if row is not None:
            return row  # type: ignore[no-any-return]
    if folded < 0:
        return None
    found: tuple[int, int, bytes, bytes] | None = conn.execute(
        _FOLDED_TX_SQL, (tx_id, folded)
    ).fetchone()
    return found


def iter_state_at(
    conn: sqlite3.Connection, height: int | None, fetch_rows: int
) -> Iterator[tuple[str, bytes]]:
    """Every ``(key, value)`` present after block ``height`` (None: the head), by key,
    inside the caller's read transaction (held until the iterator ends)."""
    folded, head = _bounds(conn)
    if head is None or (height is not None and height < 0):
        return
    top = head if height is None else min(height, head)
    if top < folded:
        yield from stream_rows(conn.execute(_HISTORY_STATE_SQL, (top,)), fetch_rows)
        return
    base = stream_rows(conn.execute(_FOLDED_STATE_SQL), fetch_rows)
    if top == folded:
        yield from base
        return
    # A second cursor on the same connection and transaction: the tail's last values, merged
    # over the folded state by key.
    tail = stream_rows(conn.execute(_TAIL_STATE_SQL, (folded, top)), fetch_rows)
    yield from _overlay(base, tail)


# Each change up to the folded height listed in history, and nothing else. History's key
# makes its entries distinct, so when every entry is a change at or below the folded height
# (a seek each) and there are as many entries as such changes (a range count), they are the
# same set: one scan with seeks instead of two. (The audit checks the derived state by replay.)
# Each entry must also lie in its run's heights, or reads would skip it. Likewise each
# inclusion of a tx id (a distinct (height, tx_id)) in tx_heights.
_IN_ITS_RUN: Final = (
    " OR NOT EXISTS (SELECT 1 FROM derived.runs WHERE runs.run = listed.run"
    "  AND listed.height BETWEEN runs.first_height AND runs.last_height)"
)
_INDEX_CHECKS: Final = (
    (
        "key index of state_log",
        "changes",
        "SELECT count(*) FROM state_log WHERE height <= ?",
        "SELECT count(*) FROM derived.history",
        "SELECT count(*) FROM derived.history AS listed WHERE listed.height > ?1 OR NOT EXISTS"
        " (SELECT 1 FROM state_log AS changed"
        "  WHERE changed.height = listed.height AND changed.key = listed.key)" + _IN_ITS_RUN,
    ),
    (
        "id index of txs",
        "inclusions",
        "SELECT count(*) FROM (SELECT DISTINCT height, tx_id FROM txs WHERE height <= ?)",
        "SELECT count(*) FROM derived.tx_heights",
        "SELECT count(*) FROM derived.tx_heights AS listed WHERE listed.height > ?1 OR NOT EXISTS"
        " (SELECT 1 FROM txs AS included"
        "  WHERE included.height = listed.height AND included.tx_id = listed.tx_id)" + _IN_ITS_RUN,
    ),
)


def check_indexes(conn: sqlite3.Connection) -> str | None:
    """What is wrong with the derived file's indexes, or None (inside a read transaction)."""
    folded, _ = _bounds(conn)
    for name, what, count_sql, listed_sql, extra_sql in _INDEX_CHECKS:
        expected: int = conn.execute(count_sql, (folded,)).fetchone()[0]
        listed: int = conn.execute(listed_sql).fetchone()[0]
        extra: int = conn.execute(extra_sql, (folded,)).fetchone()[0]
        missing = expected - (listed - extra)
        if missing or extra:
            return (
                f"the derived {name} lacks {missing} {what} and lists {extra} that are not"
                f" {what} (folded to height {folded}): delete ledger.state.db to rebuild it"
            )
    return None


def stream_rows(cursor: sqlite3.Cursor, fetch_rows: int) -> Iterator[tuple[str, bytes]]:
    """The ``(key, value)`` rows of ``cursor``, fetched ``fetch_rows`` at a time; closes it."""
    try:
        while rows := cursor.fetchmany(fetch_rows):
            for row in rows:
                yield row[0], row[1]
    finally:
        cursor.close()


def _overlay(
    base: Iterator[tuple[str, bytes]], tail: Iterator[tuple[str, bytes | None]]
) -> Iterator[tuple[str, bytes]]:
    """Merge two key-ordered streams; ``tail`` wins, and its None deletes the key."""
    below = next(base, None)
    for key, value in tail:
        while below is not None and below[0] < key:
            yield below
            below = next(base, None)
        if below is not None and below[0] == key:
            below = next(base, None)
        if value is not None:
            yield key, value
    if below is not None:
        yield below
    yield from base


# -- folding ----------------------------------------------------------------------------------

# On a connection to the derived file with the ledger attached as ``ledger``.
_TAKE_LOCK_SQL: Final = "UPDATE fold SET height = height WHERE slot = 1"
_FOLD_ROW_SQL: Final = "SELECT format, height, header_hash FROM fold WHERE slot = 1"
_LEDGER_HEAD_SQL: Final = "SELECT max(height) FROM ledger.blocks"
_LEDGER_HASH_SQL: Final = "SELECT header_hash FROM ledger.blocks WHERE height = ?"
_NEXT_RUN_SQL: Final = "SELECT coalesce(max(run), 0) + 1 FROM runs"
_FOLD_HISTORY_SQL: Final = (
    "INSERT INTO history (run, key, height) SELECT ?3, key, height FROM ledger.state_log"
    " WHERE height > ?1 AND height <= ?2 ORDER BY key, height"
)
_ADD_RUN_SQL: Final = "INSERT INTO runs (run, level, first_height, last_height) VALUES (?, ?, ?, ?)"
# The lowest level with RUNS_PER_LEVEL runs: its runs are merged into one of the next level.
_FULL_LEVEL_SQL: Final = (
    "SELECT level FROM runs GROUP BY level HAVING count(*) >= ? ORDER BY level LIMIT 1"
)
_MERGE_SQL: Final = (
    "INSERT INTO history (run, key, height) SELECT ?1, key, height FROM history"
    " WHERE run IN (SELECT run FROM runs WHERE level = ?2) ORDER BY key, height",
    "INSERT INTO tx_heights (run, tx_id, height) SELECT ?1, tx_id, height FROM tx_heights"
    " WHERE run IN (SELECT run FROM runs WHERE level = ?2) ORDER BY tx_id, height",
)
_MERGED_RUN_SQL: Final = (
    "INSERT INTO runs (run, level, first_height, last_height)"
    " SELECT ?1, ?2 + 1, min(first_height), max(last_height) FROM runs WHERE level = ?2"
)
_DROP_MERGED_SQL: Final = (
    "DELETE FROM history WHERE run IN (SELECT run FROM runs WHERE level = ?1)",
    "DELETE FROM tx_heights WHERE run IN (SELECT run FROM runs WHERE level = ?1)",
    "DELETE FROM runs WHERE level = ?1",
)
# A tx id recurs only at another height (docs/decisions/nonces.md), but one block could
# carry the same envelope twice: an inclusion is a distinct (tx_id, height).
_FOLD_TX_IDS_SQL: Final = (
    "INSERT OR IGNORE INTO tx_heights (run, tx_id, height) SELECT ?3, tx_id, height"
    " FROM ledger.txs WHERE height > ?1 AND height <= ?2 ORDER BY tx_id, height"
)
_LAST_CHANGES: Final = (
    "SELECT key, value, max(height) AS height FROM ledger.state_log"
    " WHERE height > ?1 AND height <= ?2 GROUP BY key"
)
_FOLD_STATE_SQL: Final = (
    f"INSERT INTO state (key, value, height) SELECT key, value, height FROM ({_LAST_CHANGES})"
    " WHERE value IS NOT NULL"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, height = excluded.height"
)
# After the upsert a key's row holds its last value set in the range, or an older one: it
# goes if a deletion in the range came after that. (A scan of the range, no second sort.)
_FOLD_DELETIONS_SQL: Final = (
    "DELETE FROM state WHERE key IN (SELECT gone.key FROM ledger.state_log AS gone"
    " WHERE gone.height > ?1 AND gone.height <= ?2 AND gone.value IS NULL AND gone.height >"
    " coalesce((SELECT kept.height FROM state AS kept WHERE kept.key = gone.key), -1))"
)
# The height of the chunk's last change: the fold takes whole heights.
_CHUNK_TOP_SQL: Final = (
    "SELECT height FROM ledger.state_log WHERE height > ? ORDER BY height LIMIT 1 OFFSET ?"
)
_SET_FOLDED_SQL: Final = "UPDATE fold SET height = ?, header_hash = ? WHERE slot = 1"
_RESET_SQL: Final = (
    # "main.": unqualified, a table missing here would be looked for in the attached ledger.
    *(f"DROP TABLE IF EXISTS main.{table}" for table in DERIVED_TABLES),
    f"UPDATE fold SET format = {DERIVED_FORMAT}, height = -1, header_hash = NULL WHERE slot = 1",
)


class Folder:
    """Keeps the derived file of the ledger at ``ledger`` folded: at once when opened (up to
    the head), then in a background thread when ``committed`` reports ``fold_changes``
    unfolded changes or ``FOLD_BLOCKS_MAX`` blocks. Any number of processes may fold one
    file; they take turns."""

    def __init__(self, ledger: Path, fold_changes: int = FOLD_CHANGES) -> None:
        self._fold_changes = fold_changes
        self._unfolded = 0  # changes committed through this Folder and not yet folded
        self._count_lock = threading.Lock()
        self._lock = threading.Lock()  # one fold at a time on this connection
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        conn = sqlite3.connect(derived_path(ledger), isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={FOLD_BUSY_TIMEOUT_MS}")
            conn.execute(f"PRAGMA cache_size=-{FOLD_CACHE_KIB}")
            conn.execute("PRAGMA journal_mode=WAL")
            # A lost fold is folded again: the file is derived, so it need not be synced at
            # every commit; WAL keeps it consistent through a crash.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("ATTACH DATABASE ? AS ledger", (str(ledger),))
            with write_transaction(conn):
                for statement in FOLD_TABLE:
                    conn.execute(statement)
                self._check(conn)
                for statement in DERIVED_SCHEMA:
                    conn.execute(statement)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self.folded = -1
        self.fold()

    @staticmethod
    def _check(conn: sqlite3.Connection) -> None:
        """Reset the derived file unless it was folded from this ledger (in a transaction)."""
        format_, height, header_hash = conn.execute(_FOLD_ROW_SQL).fetchone()
        row = conn.execute(_LEDGER_HASH_SQL, (height,)).fetchone()
        if format_ == DERIVED_FORMAT and row is not None and row[0] == header_hash:
            return
        if height >= 0:
            log.warning(
                "derived state file does not match the ledger at height %d; folding it again",
                height,
            )
        # Nothing folded yet, or nothing to keep: the tables are made again in this format.
        for statement in _RESET_SQL:
            conn.execute(statement)

    def fold(self) -> int:
        """Fold every committed block, about ``FOLD_CHUNK_CHANGES`` changes a transaction;
        return the height folded."""
        with self._lock:
            while not self._stopping:
                folded, head, changes = self._fold_chunk()
                self.folded = folded
                with self._count_lock:
                    self._unfolded = max(0, self._unfolded - changes)
                while not self._stopping and self._merge_runs():
                    pass
                if head is None or folded >= head:
                    break
            return self.folded

    def _merge_runs(self) -> bool:
        """Merge the runs of the lowest full level into one run of the next; whether it did.
        Its own transaction, which reads nothing of the ledger: the ledger's WAL can be
        checkpointed meanwhile."""
        conn = self._conn
        with write_transaction(conn, "BEGIN"):
            conn.execute(_TAKE_LOCK_SQL)
            row = conn.execute(_FULL_LEVEL_SQL, (RUNS_PER_LEVEL,)).fetchone()
            if row is None:
                return False
            level = row[0]
            run = conn.execute(_NEXT_RUN_SQL).fetchone()[0]
            for statement in _MERGE_SQL:
                conn.execute(statement, (run, level))
            conn.execute(_MERGED_RUN_SQL, (run, level))
            for statement in _DROP_MERGED_SQL:
                conn.execute(statement, (level,))
        return True

    def _fold_chunk(self) -> tuple[int, int | None, int]:
        """Fold one chunk: the new folded height, the head seen, the changes folded."""
        conn = self._conn
        with write_transaction(conn, "BEGIN"):
            conn.execute(_TAKE_LOCK_SQL)  # this file's write lock, before reading it
            folded: int = conn.execute(_FOLD_ROW_SQL).fetchone()[1]
            head: int | None = conn.execute(_LEDGER_HEAD_SQL).fetchone()[0]
            if head is None or head <= folded:
                return folded, head, 0
            row = conn.execute(_CHUNK_TOP_SQL, (folded, FOLD_CHUNK_CHANGES - 1)).fetchone()
            upto = head if row is None else min(head, row[0])
            run = conn.execute(_NEXT_RUN_SQL).fetchone()[0]
            changes = conn.execute(_FOLD_HISTORY_SQL, (folded, upto, run)).rowcount
            inclusions = conn.execute(_FOLD_TX_IDS_SQL, (folded, upto, run)).rowcount
            if changes or inclusions:
                conn.execute(_ADD_RUN_SQL, (run, 0, folded + 1, upto))
            conn.execute(_FOLD_STATE_SQL, (folded, upto))
            conn.execute(_FOLD_DELETIONS_SQL, (folded, upto))
            header_hash = conn.execute(_LEDGER_HASH_SQL, (upto,)).fetchone()[0]
            conn.execute(_SET_FOLDED_SQL, (upto, header_hash))
        return upto, head, changes

    def committed(self, head: int, changes: int) -> None:
        """Blocks up to ``head`` are committed, with ``changes`` more state changes: fold in
        the background once enough are unfolded."""
        with self._count_lock:
            self._unfolded += changes
            due = self._unfolded >= self._fold_changes or head - self.folded >= FOLD_BLOCKS_MAX
        if not due or self._stopping:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rantai-fold", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        with contextlib.suppress(AttributeError, OSError):  # Linux sets a thread's own nice
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), FOLD_NICE)
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                self.fold()
            except Exception:  # the thread must outlive any one failed fold
                # Reads stay right without it (the tail grows); the next commit tries again.
                log.exception("folding the derived state file failed")

    def close(self) -> None:
        """Stop the background fold (after the transaction in hand) and close the file."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        with self._lock:
            self._conn.close()

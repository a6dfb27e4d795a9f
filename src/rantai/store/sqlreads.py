"""The reads both SQL stores answer with the same statements.

SQLite and PostgreSQL differ in how they write (``executemany`` against COPY into a staging
table) and in their parameter markers, not in how they read. The statements are written here
once with ``?`` markers; each store supplies ``_fetch`` (run statements on one read
connection, translating the markers) and ``_iter_rows`` (stream a result from one snapshot).
``SqliteStore`` answers the four state reads its own way (its state is folded into a derived
file, ``rantai.store.sqlitestate``); ``PostgresStore`` uses the ones here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any, ClassVar, Final

from rantai.core.errors import invariant
from rantai.store.base import (
    INT64_MAX,
    SUPERVISED_HEIGHT_KEY,
    AccessLogRecord,
    AlertChange,
    AlertRecord,
    BlockRecord,
    OutcomeRecord,
    StoreError,
    TxRecord,
)

__all__ = ["SqlReads"]

ACCESS_LOG_COLUMNS: Final = "seq, at_ms, party, method, path, query, status, hash"
ALERT_COLUMNS: Final = "alert_id, monitor, height, at_ms, score, status, agency, detail"
CHANGE_COLUMNS: Final = "alert_id, seq, at_ms, actor, status, agency, reason"

Row = tuple[Any, ...]
Query = tuple[str, tuple[Any, ...]]


def _changes_query(height: int, namespaces: Collection[str] | None) -> Query:
    """A block's state changes in key order, of ``namespaces`` only when given."""
    if namespaces is None:
        return "SELECT key, value FROM state_log WHERE height = ? ORDER BY key", (height,)
    if not namespaces:
        return "SELECT key, value FROM state_log WHERE 1 = 0", ()
    # Keys "<namespace>/..." lie in ["<namespace>/", "<namespace>0"): "0" follows "/". One
    # SELECT a range, so that each is a seek of the (height, key) index: with the ranges
    # OR-ed in one WHERE, SQLite scanned the whole height.
    selects = " UNION ALL ".join(
        ["SELECT key, value FROM state_log WHERE height = ? AND key >= ? AND key < ?"]
        * len(namespaces)
    )
    params: list[Any] = []
    for namespace in sorted(namespaces):
        invariant("/" not in namespace and namespace != "", f"namespace {namespace!r}")
        params += [height, f"{namespace}/", f"{namespace}0"]
    return f"{selects} ORDER BY key", tuple(params)


def _bounded(value: int, low: int) -> int:
    return min(max(value, low), INT64_MAX)


class SqlReads:
    """Read methods of the ``Store`` protocol, shared by ``SqliteStore`` and ``PostgresStore``."""

    # Per key, the latest value at or below a height: the one statement that differs.
    STATE_AT_SQL: ClassVar[str]

    def _fetch(self, queries: Sequence[Query]) -> list[list[Row]]:
        """Every row of each statement, all read on one connection."""
        raise NotImplementedError

    def _iter_rows(self, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[str, bytes]]:
        """``(key, value)`` rows of one statement, streamed from one snapshot."""
        raise NotImplementedError

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
        rows = self._fetch([(sql, params)])[0]
        return rows[0] if rows else None

    def head_height(self) -> int | None:
        """The height of the last committed block, or ``None`` for an empty store."""
        row = self._one("SELECT max(height) FROM blocks")
        head: int | None = None if row is None else row[0]
        return head

    def get_block(self, height: int) -> BlockRecord | None:
        """The block at ``height``: txs in index order, state changes in key order."""
        header_rows, tx_rows, change_rows = self._fetch([
            ("SELECT header_hash, header, certificate FROM blocks WHERE height = ?", (height,)),
            ("SELECT tx_id, height, tx_index, envelope, receipt FROM txs"
             " WHERE height = ? ORDER BY tx_index", (height,)),
            _changes_query(height, None),
        ])  # fmt: skip
        if not header_rows:
            return None
        header_hash, header, certificate = header_rows[0]
        txs = tuple(TxRecord(*row) for row in tx_rows)
        changes: dict[str, bytes | None] = {key: value for key, value in change_rows}
        return BlockRecord(height, header_hash, header, certificate, txs, changes)

    def get_outcome(
        self, height: int, namespaces: Collection[str] | None = None
    ) -> OutcomeRecord | None:
        """The header, receipts (in index order) and state changes of the block at
        ``height``: ``get_block`` without the envelopes, which are most of a block's bytes.
        With ``namespaces``, only their keys' changes: one range of the (height, key) index
        each, so the rows of other namespaces are never read."""
        changes_sql, changes_params = _changes_query(height, namespaces)
        header_rows, receipt_rows, change_rows = self._fetch([
            ("SELECT header FROM blocks WHERE height = ?", (height,)),
            ("SELECT receipt FROM txs WHERE height = ? ORDER BY tx_index", (height,)),
            (changes_sql, changes_params),
        ])  # fmt: skip
        if not header_rows:
            return None
        receipts = [receipt for (receipt,) in receipt_rows]
        changes: dict[str, bytes | None] = {key: value for key, value in change_rows}
        return OutcomeRecord(height, header_rows[0][0], receipts, changes)

    def iter_blocks(self, start_height: int = 0) -> Iterator[BlockRecord]:
        """Every block from ``start_height`` to the head seen when iteration starts.

        Blocks never change once committed, so reading them one by one up to the head seen at
        the start is consistent even while new blocks commit.
        """
        head = self.head_height()
        if head is None:
            return
        for height in range(max(start_height, 0), head + 1):
            block = self.get_block(height)
            if block is None:
                raise StoreError(f"block {height} is missing below head {head}")
            yield block

    def get_header(self, height: int) -> tuple[bytes, bytes, bytes] | None:
        """``(header_hash, header, certificate)`` at ``height``, or ``None``."""
        row = self._one(
            "SELECT header_hash, header, certificate FROM blocks WHERE height = ?", (height,)
        )
        if row is None:
            return None
        header_hash, header, certificate = row
        return header_hash, header, certificate

    def get_tx(self, tx_id: bytes) -> TxRecord | None:
        """The latest inclusion of the transaction with id ``tx_id``, or ``None``."""
        row = self._one(
            "SELECT height, tx_index, envelope, receipt FROM txs WHERE tx_id = ?"
            " ORDER BY height DESC, tx_index DESC LIMIT 1",
            (tx_id,),
        )
        return None if row is None else TxRecord(tx_id, *row)

    def get_state(self, key: str) -> bytes | None:
        """The current value of ``key``, or ``None`` when absent."""
        row = self._one("SELECT value FROM state WHERE key = ?", (key,))
        value: bytes | None = None if row is None else row[0]
        return value

    def iter_state(self) -> Iterator[tuple[str, bytes]]:
        """Every current ``(key, value)``, ordered by key, from one snapshot."""
        return self._iter_rows("SELECT key, value FROM state ORDER BY key", ())

    def get_state_at(self, key: str, height: int) -> bytes | None:
        """The value of ``key`` after block ``height``; heights above the head read the head."""
        row = self._one(
            "SELECT value FROM state_log WHERE key = ? AND height <= ?"
            " ORDER BY height DESC LIMIT 1",
            (key, height),
        )
        value: bytes | None = None if row is None else row[0]
        return value

    def iter_state_at(self, height: int) -> Iterator[tuple[str, bytes]]:
        """Every ``(key, value)`` present after block ``height``, ordered by key.

        Heights above the head read as the head; negative heights read as empty.
        """
        return self._iter_rows(self.STATE_AT_SQL, (height,))

    def iter_access_log(self, after_seq: int, limit: int) -> Iterator[AccessLogRecord]:
        """Up to ``limit`` entries with ``seq > after_seq``, in ``seq`` order."""
        (rows,) = self._fetch([(
            f"SELECT {ACCESS_LOG_COLUMNS} FROM access_log WHERE seq > ? ORDER BY seq LIMIT ?",
            (_bounded(after_seq, -1), _bounded(limit, 0)),
        )])  # fmt: skip
        return iter([AccessLogRecord(*row) for row in rows])

    def last_access_log(self) -> AccessLogRecord | None:
        """The entry with the greatest ``seq``, or ``None`` when the log is empty."""
        row = self._one(f"SELECT {ACCESS_LOG_COLUMNS} FROM access_log ORDER BY seq DESC LIMIT 1")
        return None if row is None else AccessLogRecord(*row)

    # -- alerts (rantai.supervision) ----------------------------------------------------------

    def supervised_height(self) -> int | None:
        """The last height whose events supervision has processed, or ``None``."""
        row = self._one("SELECT value FROM meta WHERE key = ?", (SUPERVISED_HEIGHT_KEY,))
        return None if row is None else int(row[0])

    def supervisor_checkpoint(self) -> tuple[int, bytes] | None:
        """``(height, state)`` of the kept checkpoint, or ``None``."""
        row = self._one("SELECT height, state FROM supervisor_checkpoint WHERE slot = 1", ())
        return None if row is None else (int(row[0]), bytes(row[1]))

    def last_alert_id(self) -> int:
        """The greatest alert id, 0 when there is none."""
        row = self._one("SELECT max(alert_id) FROM alerts")
        last: int | None = None if row is None else row[0]
        return last or 0

    def get_alert(self, alert_id: int) -> AlertRecord | None:
        """The alert ``alert_id``, or ``None``."""
        if not 0 <= alert_id <= INT64_MAX:
            return None
        row = self._one(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = ?", (alert_id,))
        return None if row is None else AlertRecord(*row)

    def list_alerts(self, status: str | None, after_id: int, limit: int) -> list[AlertRecord]:
        """Up to ``limit`` alerts with id above ``after_id`` (and ``status``), in id order."""
        bounds = (_bounded(after_id, -1), _bounded(limit, 0))
        if status is None:
            query: Query = (
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id > ? ORDER BY alert_id LIMIT ?",
                bounds,
            )
        else:
            query = (
                f"SELECT {ALERT_COLUMNS} FROM alerts WHERE status = ? AND alert_id > ?"
                " ORDER BY alert_id LIMIT ?",
                (status, *bounds),
            )
        (rows,) = self._fetch([query])
        return [AlertRecord(*row) for row in rows]

    def alert_history(self, alert_id: int) -> list[AlertChange]:
        """The history of alert ``alert_id`` in ``seq`` order."""
        if not 0 <= alert_id <= INT64_MAX:
            return []
        (rows,) = self._fetch([(
            f"SELECT {CHANGE_COLUMNS} FROM alert_history WHERE alert_id = ? ORDER BY seq",
            (alert_id,),
        )])  # fmt: skip
        return [AlertChange(*row) for row in rows]

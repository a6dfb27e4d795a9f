"""Versioned schema migrations, shared by the SQLite and PostgreSQL stores.

The schema is the ordered list ``MIGRATIONS``; a database records the version it has reached
in ``meta`` (key ``schema_version``). Opening a store applies the migrations it lacks, all in
one transaction, and refuses a database whose version is newer than this code knows (an older
binary must not write into a schema it does not understand).

Statements are written once. Where the backends differ only in a type or a table option, the
statement names a placeholder that ``statements_for`` fills from ``DIALECTS``:

| placeholder | sqlite | postgres |
|---|---|---|
| ``{int}`` | ``INTEGER`` | ``BIGINT`` |
| ``{blob}`` | ``BLOB`` | ``BYTEA`` |
| ``{key}`` | ``TEXT`` | ``TEXT COLLATE "C"`` |
| ``{clustered}`` | ``WITHOUT ROWID`` | (nothing) |

``INTEGER PRIMARY KEY`` makes SQLite use the height as the rowid; PostgreSQL's INTEGER is only
32 bits. ``COLLATE "C"`` makes PostgreSQL order keys by code point, as SQLite and Python's
``sorted`` do, whatever the database's locale. ``WITHOUT ROWID`` keeps a SQLite row inside its
primary key B-tree.

Never edit a migration that has shipped: append a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from rantai.store.base import StoreError

__all__ = [
    "DIALECTS",
    "META_DDL",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SCHEMA_VERSION_KEY",
    "Dialect",
    "Migration",
    "plan_migrations",
    "statements_for",
]

Dialect = Literal["sqlite", "postgres"]

DIALECTS: Final[Mapping[Dialect, Mapping[str, str]]] = {
    "sqlite": {"int": "INTEGER", "blob": "BLOB", "key": "TEXT", "clustered": "WITHOUT ROWID"},
    "postgres": {"int": "BIGINT", "blob": "BYTEA", "key": 'TEXT COLLATE "C"', "clustered": ""},
}

SCHEMA_VERSION_KEY: Final = "schema_version"

# The migration runner creates ``meta`` before reading the version, so that a fresh database
# (version 0) and a migrated one are read the same way. Portable as written.
META_DDL: Final = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: the version it brings the database to, and how."""

    version: int
    description: str
    statements: tuple[str, ...]
    # The backends it applies to; on the others it only records the version.
    dialects: tuple[Dialect, ...] = ("sqlite", "postgres")


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        version=1,
        description="blocks, txs, state and state_log",
        statements=(
            "CREATE TABLE blocks ("
            " height {int} PRIMARY KEY,"
            " header_hash {blob} NOT NULL,"
            " header {blob} NOT NULL,"
            " certificate {blob} NOT NULL)",
            # A tx id may recur: an envelope ordered with a nonce ahead of its sender's gets a
            # bad_nonce receipt, and can be ordered again when its nonce comes due
            # (docs/decisions/nonces.md). A position holds one tx; get_block reads in order.
            "CREATE TABLE txs ("
            " height {int} NOT NULL,"
            " tx_index {int} NOT NULL,"
            " tx_id {blob} NOT NULL,"
            " envelope {blob} NOT NULL,"
            " receipt {blob} NOT NULL,"
            " PRIMARY KEY (height, tx_index))",
            "CREATE INDEX txs_tx_id ON txs (tx_id, height)",
            # Clustered in SQLite: one B-tree per upsert instead of an index and a table.
            "CREATE TABLE state ("
            " key {key} PRIMARY KEY,"
            " value {blob} NOT NULL,"
            " height {int} NOT NULL) {clustered}",
            # (key, height) serves get_state_at and iter_state_at: per key, the last change at
            # or below a height is one index step away, so a whole-state read is linear.
            # Not clustered in SQLite: measured, appending rows and indexing (key, height)
            # separately inserts faster than a key-ordered table, and reads as fast.
            "CREATE TABLE state_log ("
            " key {key} NOT NULL,"
            " height {int} NOT NULL,"
            " value {blob},"
            " PRIMARY KEY (key, height))",
            # get_block reads the changes made at one height.
            "CREATE INDEX state_log_height ON state_log (height)",
        ),
    ),
    Migration(
        version=2,
        description="access_log: the hash-chained log of agency reads",
        statements=(
            # Not ledger state: the API appends a row per agency read (rantai.node.accesslog).
            # Each row's hash covers the previous row's, so a changed or missing row shows.
            "CREATE TABLE access_log ("
            " seq {int} PRIMARY KEY,"
            " at_ms {int} NOT NULL,"
            " party {key} NOT NULL,"
            " method TEXT NOT NULL,"
            " path TEXT NOT NULL,"
            " query TEXT NOT NULL,"
            " status {int} NOT NULL,"
            " hash {blob} NOT NULL)",
        ),
    ),
    Migration(
        version=3,
        description="alerts and alert_history: the AML monitors' read side",
        statements=(
            # Not ledger state: rantai.supervision writes them from committed events; the
            # height it has processed is kept in meta (key supervised_height).
            "CREATE TABLE alerts ("
            " alert_id {int} PRIMARY KEY,"
            " monitor TEXT NOT NULL,"
            " height {int} NOT NULL,"
            " at_ms {int} NOT NULL,"
            " score {int} NOT NULL,"
            " status TEXT NOT NULL,"
            " agency TEXT NOT NULL,"
            " detail {blob} NOT NULL)",
            # Listing by status pages in id order.
            "CREATE INDEX alerts_status ON alerts (status, alert_id)",
            "CREATE TABLE alert_history ("
            " alert_id {int} NOT NULL,"
            " seq {int} NOT NULL,"
            " at_ms {int} NOT NULL,"
            " actor TEXT NOT NULL,"
            " status TEXT NOT NULL,"
            " agency TEXT NOT NULL,"
            " reason TEXT NOT NULL,"
            " PRIMARY KEY (alert_id, seq))",
        ),
    ),
    Migration(
        version=4,
        description="supervisor_checkpoint: what the AML monitors remember, at a height",
        statements=(
            # One row (slot 1): the monitors' checkpoint at a supervised height, so that a
            # restarted supervisor resumes there instead of at genesis. Not ledger state.
            "CREATE TABLE supervisor_checkpoint ("
            " slot {int} PRIMARY KEY,"
            " height {int} NOT NULL,"
            " state {blob} NOT NULL)",
        ),
    ),
    Migration(
        version=5,
        description="SQLite: state_log in height order; state and the key index in a derived file",
        statements=(
            # Appending a block's changes then writes pages at the end of one B-tree, instead of
            # one random page per changed key in each of state, state_log's (key, height) index
            # and its height index: measured, 113 - 123 -> 40 us of writer CPU a transfer. The
            # current values and the key-ordered index of state_log are kept by SqliteStore in a
            # derived file, folded from state_log in large batches (docs/decisions/sqlite-fold.md).
            "CREATE TABLE state_log_by_height ("
            " height {int} NOT NULL,"
            " key {key} NOT NULL,"
            " value {blob},"
            " PRIMARY KEY (height, key)) {clustered}",
            "INSERT INTO state_log_by_height (height, key, value)"
            " SELECT height, key, value FROM state_log ORDER BY height, key",
            "DROP TABLE state_log",
            "ALTER TABLE state_log_by_height RENAME TO state_log",
            "DROP TABLE state",
        ),
        dialects=("sqlite",),
    ),
    Migration(
        version=6,
        description="SQLite: txs indexed by (height, tx_id); tx ids by id in the derived file",
        statements=(
            # An index by tx id takes each block's ids at random places: measured at 1,050,000
            # txs, it cost 30 - 33 of 45 - 58 us of writer CPU a transfer, most of it in writing
            # the pages it dirtied. Indexed after the height, a block's ids append; the derived
            # file keeps the ids in id order, folded like the state (rantai.store.sqlitestate).
            "DROP INDEX txs_tx_id",
            "CREATE INDEX txs_height_tx_id ON txs (height, tx_id)",
        ),
        dialects=("sqlite",),
    ),
)

SCHEMA_VERSION: Final = MIGRATIONS[-1].version


def statements_for(migration: Migration, dialect: Dialect) -> list[str]:
    """The statements of ``migration`` with the placeholders of ``dialect`` filled in."""
    if dialect not in migration.dialects:
        return []
    names = DIALECTS[dialect]
    return [statement.format_map(names).strip() for statement in migration.statements]


def plan_migrations(
    current_version: int, migrations: Sequence[Migration] = MIGRATIONS
) -> list[Migration]:
    """The migrations to apply, in order, to a database at ``current_version``.

    Raises:
        StoreError: the database is newer than the newest migration known here.
        ValueError: ``migrations`` is not numbered 1, 2, 3, ... (a programming error).
    """
    versions = [migration.version for migration in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1..n in order, got {versions}")
    if current_version < 0:
        raise StoreError(f"database schema version {current_version} is not a version")
    if current_version > len(versions):
        raise StoreError(
            f"database schema version {current_version} is newer than this code knows "
            f"({len(versions)}); upgrade rantai before opening it"
        )
    return list(migrations[current_version:])

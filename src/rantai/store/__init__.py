"""Storage: one ``Store`` interface, SQLite (embedded default) and PostgreSQL implementations."""

from __future__ import annotations

import os
from pathlib import Path

from rantai.store.base import BlockRecord, Store, StoreError, TxRecord
from rantai.store.sqlite import SqliteStore

__all__ = ["SQLITE_FILE_NAME", "BlockRecord", "Store", "StoreError", "TxRecord", "open_store"]

SQLITE_FILE_NAME = "ledger.db"


def open_store(target: str | Path) -> Store:
    """Open the store that ``target`` names, creating and migrating it as needed.

    A ``postgresql://`` or ``postgres://`` URL opens a ``PostgresStore``. Anything else is a
    path for a ``SqliteStore``: an existing directory (or a path ending in a separator) means
    the file ``ledger.db`` in it; any other path is the database file itself.

    Raises:
        StoreError: the store cannot be opened (see the backends).
    """
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        # Imported here: psycopg takes ~0.2 s to import, and only PostgreSQL needs it.
        from rantai.store.postgres import PostgresStore  # noqa: PLC0415

        return PostgresStore(text)
    path = Path(target)
    if path.is_dir() or text.endswith(("/", os.sep)):
        path = path / SQLITE_FILE_NAME
    return SqliteStore(path)

"""SQLite transactions as context managers, for connections opened with
``isolation_level=None`` (no implicit transactions): one place says how a transaction
begins, ends, and undoes itself on any error."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["read_transaction", "write_transaction"]


@contextmanager
def write_transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """Commit what the block does, or roll all of it back and re-raise. ``BEGIN IMMEDIATE``
    takes the write lock first; plain ``BEGIN`` takes it at the first write."""
    conn.execute(begin)
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: every statement inside reads the same committed state."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")  # a read transaction: nothing to undo

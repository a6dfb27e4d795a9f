"""Every kind of tampering with a stored chain is caught by the audit, at the right height."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from tests.node.harness import market, new_node, send

from rantai.core.block import Header, header_hash
from rantai.core.encoding import decode, encode
from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.node.audit import audit
from rantai.store import open_store
from rantai.store.sqlite import SqliteStore

A, B = account_id("inv-0"), account_id("inv-1")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("pristine")
    node = new_node(data)
    market(node)
    for i in range(4):
        send(
            node,
            [
                ("inv-0", Transfer(A, B, "BOND1", 10 + i, "t")),
                ("inv-1", Transfer(B, A, "BOND1", 5, "t")),
                ("inv-2", Transfer(account_id("inv-2"), A, "BOND1", 10**12, "too much")),
            ],
        )
    node.store.close()
    return data


def _copy(pristine: Path, tmp_path: Path) -> Path:
    """The pristine ledger, with its derived state file folded to the head (so that the
    current state, which lives there, can be tampered with too)."""
    shutil.copy(pristine / "ledger.db", tmp_path / "ledger.db")
    with closing(SqliteStore(tmp_path / "ledger.db")) as store:
        store.fold()
    return tmp_path / "ledger.db"


def _audit(db: Path) -> tuple[int | None, str]:
    store = open_store(str(db))
    try:
        report = audit(store)
    finally:
        store.close()
    if report.failure is None:
        return None, ""
    return report.failure.height, report.failure.problem


def _flip(blob: bytes, at: int) -> bytes:
    data = bytearray(blob)
    data[at % len(data)] ^= 0x01
    return bytes(data)


def test_pristine_chain_passes(pristine: Path, tmp_path: Path) -> None:
    assert _audit(_copy(pristine, tmp_path)) == (None, "")


TAMPER_HEIGHT = 5


def _tx_column(column: str, at: int) -> Callable[[sqlite3.Connection], None]:
    def tamper(db: sqlite3.Connection) -> None:
        row = db.execute(
            f"SELECT tx_index, {column} FROM txs WHERE height = ? ORDER BY tx_index LIMIT 1",
            (TAMPER_HEIGHT,),
        ).fetchone()
        db.execute(
            f"UPDATE txs SET {column} = ? WHERE height = ? AND tx_index = ?",
            (_flip(row[1], at), TAMPER_HEIGHT, row[0]),
        )

    return tamper


def _block_column(column: str, at: int) -> Callable[[sqlite3.Connection], None]:
    def tamper(db: sqlite3.Connection) -> None:
        (blob,) = db.execute(
            f"SELECT {column} FROM blocks WHERE height = ?", (TAMPER_HEIGHT,)
        ).fetchone()
        db.execute(
            f"UPDATE blocks SET {column} = ? WHERE height = ?", (_flip(blob, at), TAMPER_HEIGHT)
        )

    return tamper


def _state_value(prefix: str) -> Callable[[sqlite3.Connection], None]:
    def tamper(db: sqlite3.Connection) -> None:
        key, value = db.execute(
            "SELECT key, value FROM derived.state WHERE key LIKE ? ORDER BY key LIMIT 1",
            (prefix + "%",),
        ).fetchone()
        db.execute("UPDATE derived.state SET value = ? WHERE key = ?", (_flip(value, -1), key))

    return tamper


def _history_height(db: sqlite3.Connection) -> None:
    """Point the derived key index of one change at another height (a past read would then
    answer with another real value)."""
    key, height = db.execute(
        "SELECT key, max(height) FROM derived.history WHERE key LIKE 'bal/%' GROUP BY key LIMIT 1"
    ).fetchone()
    db.execute(
        "UPDATE derived.history SET height = ? WHERE key = ? AND height = ?",
        (height + 1_000, key, height),
    )


def _tx_height(db: sqlite3.Connection) -> None:
    """Drop one inclusion from the derived tx id index (a lookup would then miss the tx)."""
    db.execute(
        "DELETE FROM derived.tx_heights WHERE (tx_id, height) ="
        " (SELECT tx_id, height FROM derived.tx_heights LIMIT 1)"
    )


def _rehashed_header(db: sqlite3.Connection) -> None:
    """A careful forger: changes the timestamp and stores the matching header hash."""
    (blob,) = db.execute("SELECT header FROM blocks WHERE height = ?", (TAMPER_HEIGHT,)).fetchone()
    header = decode(blob, Header)
    forged = Header(
        *[
            getattr(header, f) if f != "timestamp_ms" else header.timestamp_ms + 1
            for f in Header.__struct_fields__
        ]
    )
    db.execute(
        "UPDATE blocks SET header = ?, header_hash = ? WHERE height = ?",
        (encode(forged), header_hash(forged), TAMPER_HEIGHT),
    )


def _delete_block(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM blocks WHERE height = ?", (TAMPER_HEIGHT,))
    db.execute("DELETE FROM txs WHERE height = ?", (TAMPER_HEIGHT,))


def _swap_blocks(db: sqlite3.Connection) -> None:
    h, k = TAMPER_HEIGHT, TAMPER_HEIGHT + 1
    for table in ("blocks", "txs"):
        db.execute(f"UPDATE {table} SET height = -1 WHERE height = ?", (h,))
        db.execute(f"UPDATE {table} SET height = ? WHERE height = ?", (h, k))
        db.execute(f"UPDATE {table} SET height = ? WHERE height = -1", (k,))


def _insert_block(db: sqlite3.Connection) -> None:
    """Shift every later block up by one and put a copy of block h-1 at h."""
    (head,) = db.execute("SELECT max(height) FROM blocks").fetchone()
    for height in range(head, TAMPER_HEIGHT - 1, -1):
        db.execute("UPDATE blocks SET height = ? WHERE height = ?", (height + 1, height))
    db.execute(
        "INSERT INTO blocks SELECT ?, header_hash, header, certificate FROM blocks WHERE height = ?",
        (TAMPER_HEIGHT, TAMPER_HEIGHT - 1),
    )


def _drop_tx(db: sqlite3.Connection) -> None:
    db.execute(
        "DELETE FROM txs WHERE height = ? AND tx_index = (SELECT max(tx_index) FROM txs WHERE height = ?)",
        (TAMPER_HEIGHT, TAMPER_HEIGHT),
    )


def _state_log_value(db: sqlite3.Connection) -> None:
    key, value = db.execute(
        "SELECT key, value FROM state_log WHERE height = ? AND value IS NOT NULL LIMIT 1",
        (TAMPER_HEIGHT,),
    ).fetchone()
    db.execute(
        "UPDATE state_log SET value = ? WHERE key = ? AND height = ?",
        (_flip(value, -1), key, TAMPER_HEIGHT),
    )


CASES: dict[str, tuple[Callable[[sqlite3.Connection], None], int | None, str]] = {
    "tx envelope byte": (_tx_column("envelope", 40), TAMPER_HEIGHT, "transaction 0"),
    "tx signature byte": (_tx_column("envelope", -2), TAMPER_HEIGHT, "transaction 0"),
    "tx id": (_tx_column("tx_id", 3), TAMPER_HEIGHT, "transaction 0"),
    "receipt byte": (_tx_column("receipt", -1), TAMPER_HEIGHT, "receipt 0"),
    "header byte": (_block_column("header", 30), TAMPER_HEIGHT, "header hash"),
    "header hash": (_block_column("header_hash", 0), TAMPER_HEIGHT, "header hash"),
    "header rehashed": (_rehashed_header, TAMPER_HEIGHT, "signature"),
    "certificate signature": (_block_column("certificate", -3), TAMPER_HEIGHT, "signature"),
    "balance": (_state_value("bal/"), None, "stored state of 'bal/"),
    "party": (_state_value("party/"), None, "stored state of 'party/"),
    "instrument": (_state_value("inst/"), None, "stored state of 'inst/"),
    "state log": (_state_log_value, TAMPER_HEIGHT, "state changes"),
    "derived key index": (_history_height, None, "derived key index"),
    "derived tx id index": (_tx_height, None, "derived id index of txs"),
    "deleted block": (_delete_block, TAMPER_HEIGHT, "expected block"),
    "reordered blocks": (_swap_blocks, TAMPER_HEIGHT, ""),
    "inserted block": (_insert_block, TAMPER_HEIGHT, ""),
    "dropped transaction": (_drop_tx, TAMPER_HEIGHT, ""),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tampering_is_detected(pristine: Path, tmp_path: Path, name: str) -> None:
    tamper, height, problem = CASES[name]
    db_path = _copy(pristine, tmp_path)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        db.execute("ATTACH DATABASE ? AS derived", (str(tmp_path / "ledger.state.db"),))
        db.execute("BEGIN")
        tamper(db)
        db.execute("COMMIT")
    bad_height, found = _audit(db_path)
    assert bad_height is not None, f"{name} went unnoticed"
    if height is not None:
        assert bad_height == height, found
    assert problem in found, found

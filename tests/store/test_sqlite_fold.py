"""SQLite's derived state file (rantai.store.sqlitestate): whenever it is folded, deleted,
stale or taken from another chain, every state read and tx lookup answers as the blocks say."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.store.test_store_contract import digest, make_block, make_tx

from rantai.store import sqlitestate
from rantai.store.base import BlockRecord, TxRecord
from rantai.store.migrations import MIGRATIONS, SCHEMA_VERSION
from rantai.store.sqlite import SqliteStore
from rantai.store.sqlitestate import derived_path

KEYS = ["a", "b", "bal/x", "bal/y", "c"]
Changes = dict[str, bytes | None]

changes_strategy = st.dictionaries(
    st.sampled_from(KEYS), st.one_of(st.none(), st.binary(min_size=1, max_size=3)), max_size=4
)


def states_after(blocks: list[Changes]) -> list[dict[str, bytes]]:
    """The model: the state after each height."""
    states: list[dict[str, bytes]] = []
    state: dict[str, bytes] = {}
    for changes in blocks:
        state = dict(state)
        for key, value in changes.items():
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
        states.append(state)
    return states


def assert_reads(store: SqliteStore, blocks: list[Changes]) -> None:
    states = states_after(blocks)
    head = states[-1] if states else {}
    assert dict(store.iter_state()) == head
    assert list(store.iter_state()) == sorted(head.items())
    for key in KEYS:
        assert store.get_state(key) == head.get(key)
    for height in range(-1, len(blocks) + 2):
        expected = {} if height < 0 else states[min(height, len(states) - 1)]
        assert list(store.iter_state_at(height)) == sorted(expected.items()), height
        for key in KEYS:
            assert store.get_state_at(key, height) == expected.get(key), (key, height)


TX_IDS = [digest("recurring", n) for n in range(4)]
TxPicks = list[int]  # a block's txs, as indexes into TX_IDS: an id may recur, even in a block


def block_with_txs(height: int, changes: Changes, picks: TxPicks) -> BlockRecord:
    txs = [make_tx(height, index, TX_IDS[pick]) for index, pick in enumerate(picks)]
    return make_block(height, changes, txs)


def assert_tx_reads(store: SqliteStore, picks_by_height: list[TxPicks]) -> None:
    """The model: an id's latest inclusion is its highest (height, index)."""
    latest: dict[bytes, TxRecord] = {}
    for height, picks in enumerate(picks_by_height):
        for index, pick in enumerate(picks):
            latest[TX_IDS[pick]] = make_tx(height, index, TX_IDS[pick])
    for tx_id in TX_IDS:
        assert store.get_tx(tx_id) == latest.get(tx_id)


def commit(store: SqliteStore, blocks: list[Changes], start: int = 0) -> None:
    for height, changes in enumerate(blocks[start:], start):
        store.commit_block(make_block(height, changes))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    contents=st.lists(
        st.tuples(changes_strategy, st.lists(st.integers(0, len(TX_IDS) - 1), max_size=3)),
        min_size=1,
        max_size=12,
    ),
    folds=st.sets(st.integers(0, 11)),
    reopen_at=st.integers(0, 12),
)
def test_reads_do_not_depend_on_where_the_folds_fell(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    contents: list[tuple[Changes, TxPicks]],
    folds: set[int],
    reopen_at: int,
) -> None:
    monkeypatch.setattr(sqlitestate, "RUNS_PER_LEVEL", 2)  # merges at every other fold
    path = tmp_path_factory.mktemp("fold") / "ledger.db"
    blocks = [changes for changes, _ in contents]
    picks = [txs for _, txs in contents]
    store = SqliteStore(path, fold_changes=10**9)  # folds only where the test says
    try:
        for height, (changes, txs) in enumerate(contents):
            store.commit_block(block_with_txs(height, changes, txs))
            if height in folds:
                assert store.fold() == height
            if height == reopen_at:  # reopening folds to the head
                store.close()
                store = SqliteStore(path, fold_changes=10**9)
        assert_reads(store, blocks)
        assert_tx_reads(store, picks)
        store.fold()
        assert_reads(store, blocks)
        assert_tx_reads(store, picks)
        assert store.check_derived() is None
    finally:
        store.close()


def some_blocks(count: int, salt: str = "") -> list[Changes]:
    return [
        {
            KEYS[h % len(KEYS)]: f"{salt}{h}".encode(),
            KEYS[(h * 3 + 1) % len(KEYS)]: None if h % 4 == 0 else f"{salt}v{h}".encode(),
        }
        for h in range(count)
    ]


def test_a_deleted_derived_file_is_folded_again(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    blocks = some_blocks(40)
    with closing(SqliteStore(path, fold_changes=10**9)) as store:
        commit(store, blocks)
        store.fold()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{derived_path(path)}{suffix}").unlink(missing_ok=True)
    with closing(SqliteStore(path)) as store:
        assert_reads(store, blocks)


def test_a_derived_file_of_another_chain_is_not_used(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours" / "ledger.db", tmp_path / "theirs" / "ledger.db"
    ours.parent.mkdir()
    theirs.parent.mkdir()
    blocks = some_blocks(20)
    with closing(SqliteStore(ours)) as store:
        commit(store, blocks)
    with closing(SqliteStore(theirs)) as store:
        for height, changes in enumerate(some_blocks(20, salt="other")):
            block = make_block(height, changes)
            store.commit_block(replace(block, header_hash=digest("other", height)))
        store.fold()
    shutil.copy(derived_path(theirs), derived_path(ours))
    with closing(SqliteStore(ours)) as store:
        assert_reads(store, blocks)


def test_a_derived_file_behind_the_ledger_catches_up_on_open(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    blocks = some_blocks(30)
    with closing(SqliteStore(path, fold_changes=10**9)) as store:
        commit(store, blocks[:10])
        assert store.fold() == 9
        commit(store, blocks, start=10)
        assert_reads(store, blocks)  # ten folded, twenty read from the tail
    with closing(SqliteStore(path, fold_changes=10**9)) as store:
        with closing(sqlite3.connect(derived_path(path))) as derived:
            assert derived.execute("SELECT height FROM fold").fetchone() == (29,)
        assert_reads(store, blocks)


def test_background_folds_while_blocks_commit_and_readers_read(tmp_path: Path) -> None:
    """Commits start folds in the background; a reader running all the while always sees
    the state of some committed height, never a mix."""
    path = tmp_path / "ledger.db"
    blocks = [{"bal/x": str(h).encode(), "bal/y": str(h).encode()} for h in range(200)]
    mixed: list[dict[str, bytes]] = []
    done = threading.Event()
    with closing(SqliteStore(path, fold_changes=6)) as store:

        def read() -> None:
            while not done.is_set():
                state = dict(store.iter_state())
                if state.get("bal/x") != state.get("bal/y"):
                    mixed.append(state)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            commit(store, blocks)
            assert wait_for_fold(path, at_least=197), "no background fold reached the head"
        finally:
            done.set()
            reader.join()
        assert store.fold() == 199
        assert_reads(store, blocks)
    assert mixed == []
    with closing(sqlite3.connect(derived_path(path))) as derived:
        assert derived.execute("SELECT count(*) FROM history").fetchone() == (400,)


def wait_for_fold(path: Path, at_least: int, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(derived_path(path))) as derived:
            if derived.execute("SELECT height FROM fold").fetchone()[0] >= at_least:
                return True
        time.sleep(0.02)
    return False


def test_a_version_4_database_moves_its_state_log_into_height_order(tmp_path: Path) -> None:
    """A database written by the code before migration 5 (state and state_log by key, txs
    indexed by id): migrations 5 and 6 bring it to this code's layout."""
    path = tmp_path / "ledger.db"
    blocks = some_blocks(12)
    with closing(SqliteStore(path, migrations=MIGRATIONS[:4])):
        pass
    with closing(sqlite3.connect(path)) as old:
        for height, changes in enumerate(blocks):
            block = make_block(height, changes)
            old.execute(
                "INSERT INTO blocks VALUES (?, ?, ?, ?)",
                (height, block.header_hash, block.header, block.certificate),
            )
            for tx in block.txs:
                old.execute("INSERT INTO txs (height, tx_index, tx_id, envelope, receipt)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (height, tx.index, tx.tx_id, tx.envelope, tx.receipt))  # fmt: skip
            for key, value in changes.items():
                old.execute("INSERT INTO state_log (key, height, value) VALUES (?, ?, ?)",
                            (key, height, value))  # fmt: skip
                if value is None:
                    old.execute("DELETE FROM state WHERE key = ?", (key,))
                else:
                    old.execute(
                        "INSERT OR REPLACE INTO state VALUES (?, ?, ?)", (key, value, height)
                    )
        old.commit()
    with closing(SqliteStore(path)) as store:
        assert store.schema_version() == SCHEMA_VERSION == 6
        assert_reads(store, blocks)
        for height in range(len(blocks)):
            tx = make_block(height, {}).txs[1]
            assert store.get_tx(tx.tx_id) == tx
        assert store.check_derived() is None
        with closing(sqlite3.connect(path)) as migrated:
            tables = {row[0] for row in migrated.execute("SELECT name FROM sqlite_master")}
            assert "state" not in tables
            assert "state_log_height" not in tables
            assert "txs_tx_id" not in tables and "txs_height_tx_id" in tables


def test_a_fold_in_small_chunks_takes_whole_heights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlitestate, "FOLD_CHUNK_CHANGES", 3)  # a chunk ends inside a height
    path = tmp_path / "ledger.db"
    blocks = some_blocks(40)
    with closing(SqliteStore(path, fold_changes=10**9)) as store:
        commit(store, blocks)
        assert store.fold() == 39
        assert_reads(store, blocks)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (
            "DELETE FROM history WHERE (key, height) = (SELECT key, height FROM history LIMIT 1)",
            "key index of state_log lacks 1 changes and lists 0",
        ),
        (
            "UPDATE tx_heights SET height = height + 1"
            " WHERE (tx_id, height) = (SELECT tx_id, height FROM tx_heights LIMIT 1)",
            "id index of txs lacks 1 inclusions and lists 1 that are not",
        ),
    ],
    ids=["history", "tx_heights"],
)
def test_the_derived_indexes_are_checked_against_the_ledger(
    tmp_path: Path, tamper: str, problem: str
) -> None:
    path = tmp_path / "ledger.db"
    with closing(SqliteStore(path)) as store:
        commit(store, some_blocks(20))
        assert store.fold() == 19
        assert store.check_derived() is None
    with closing(sqlite3.connect(derived_path(path))) as derived:
        derived.execute(tamper)
        derived.commit()
    with closing(SqliteStore(path)) as store:
        assert problem in str(store.check_derived())


def test_a_derived_key_index_entry_that_is_no_change_is_found(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with closing(SqliteStore(path)) as store:
        commit(store, some_blocks(20))
        store.fold()
    with closing(sqlite3.connect(derived_path(path))) as derived:
        derived.execute(  # not changed at that height
            "INSERT INTO history (run, key, height) VALUES ((SELECT max(run) FROM runs), 'bal/x', 3)"
        )
        derived.commit()
    with closing(SqliteStore(path)) as store:
        assert "lacks 0 changes and lists 1 that are not changes" in str(store.check_derived())


def test_history_runs_merge_level_by_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each fold appends a run; RUNS_PER_LEVEL runs of a level become one of the next, so
    after 2**4 folds of two runs a level, one run of level 4 holds their every change and
    tx id."""
    monkeypatch.setattr(sqlitestate, "RUNS_PER_LEVEL", 2)
    path = tmp_path / "ledger.db"
    blocks = some_blocks(17)
    with closing(SqliteStore(path, fold_changes=10**9)) as store:
        for height, changes in enumerate(blocks):
            store.commit_block(make_block(height, changes))
            assert store.fold() == height
            with closing(sqlite3.connect(derived_path(path))) as derived:
                levels = [row[0] for row in derived.execute("SELECT level FROM runs ORDER BY run")]
            # A binary counter: a run per one bit of the number of folds.
            folds = height + 1
            assert (
                sorted(levels, reverse=True)
                == [bit for bit in range(folds.bit_length()) if folds >> bit & 1][::-1]
            )
        assert_reads(store, blocks)
        assert store.check_derived() is None
    with closing(sqlite3.connect(derived_path(path))) as derived:
        runs = derived.execute("SELECT level, first_height, last_height FROM runs ORDER BY level")
        assert runs.fetchall() == [(0, 16, 16), (4, 0, 15)]
        changes = sum(len(changes) for changes in blocks)
        assert derived.execute("SELECT count(*) FROM history").fetchone() == (changes,)
        assert derived.execute("SELECT count(DISTINCT run) FROM tx_heights").fetchone() == (2,)
        assert derived.execute("SELECT count(*) FROM tx_heights").fetchone() == (2 * 17,)


def test_a_derived_file_of_an_older_format_is_made_again(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    blocks = some_blocks(20)
    with closing(SqliteStore(path)) as store:
        commit(store, blocks)
        store.fold()
    with closing(sqlite3.connect(derived_path(path))) as derived:  # format 2's history
        derived.execute("DROP TABLE history")
        derived.execute(
            "CREATE TABLE history (key TEXT, height INTEGER, PRIMARY KEY (key, height))"
        )
        derived.execute("UPDATE fold SET format = 2")
        derived.commit()
    with closing(SqliteStore(path)) as store:
        assert_reads(store, blocks)
        assert store.check_derived() is None

"""The storage contract: one suite, run on every backend (SQLite and PostgreSQL).

Each test gets a fresh store from the ``store`` fixture; ``target`` is what opens it again
(a file path or a ``postgresql://`` URL). Raw SQL through ``raw_query`` is used only to look
under the interface: the schema version, injected faults.
"""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rantai.core.errors import InvariantError
from rantai.store import BlockRecord, Store, StoreError, TxRecord, open_store
from rantai.store.base import AccessLogRecord, AlertChange, AlertRecord
from rantai.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from rantai.store.postgres import PostgresStore
from rantai.store.sqlite import SqliteStore

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store lives: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


@pytest.fixture
def store(target: str) -> Iterator[Store]:
    opened = open_store(target)
    yield opened
    opened.close()


def is_postgres(target: str) -> bool:
    return target.startswith("postgresql://")


def open_backend(target: str, migrations: Sequence[Migration]) -> SqliteStore | PostgresStore:
    if is_postgres(target):
        return PostgresStore(target, migrations=migrations)
    return SqliteStore(target, migrations=migrations)


def raw_query(target: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement outside the store (``%s`` placeholders on both backends)."""
    if is_postgres(target):
        with psycopg.connect(target, autocommit=True) as pg:
            cursor = pg.execute(query.encode(), params)
            return cursor.fetchall() if cursor.description else []
    lite = sqlite3.connect(target, isolation_level=None)
    try:
        return lite.execute(query.replace("%s", "?"), params).fetchall()
    finally:
        lite.close()


def install_failing_trigger(target: str, key: str) -> None:
    """Make the database refuse a state_log row for ``key``: the last write of a commit."""
    if is_postgres(target):
        raw_query(
            target,
            "CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$",
        )
        raw_query(
            target,
            "CREATE TRIGGER refuse_key BEFORE INSERT ON state_log FOR EACH ROW"
            f" WHEN (NEW.key = '{key}') EXECUTE FUNCTION refuse_row()",
        )
    else:
        raw_query(
            target,
            "CREATE TRIGGER refuse_key BEFORE INSERT ON state_log"
            f" WHEN NEW.key = '{key}' BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
        )


def digest(*parts: object) -> bytes:
    return hashlib.sha256("/".join(map(str, parts)).encode()).digest()


def make_tx(height: int, index: int, tx_id: bytes | None = None) -> TxRecord:
    return TxRecord(
        tx_id=digest("tx", height, index) if tx_id is None else tx_id,
        height=height,
        index=index,
        envelope=digest("envelope", height, index) * 3,
        receipt=digest("receipt", height, index),
    )


def make_block(
    height: int,
    changes: Mapping[str, bytes | None],
    txs: Sequence[TxRecord] | None = None,
    tx_count: int = 2,
) -> BlockRecord:
    return BlockRecord(
        height=height,
        header_hash=digest("hash", height),
        header=digest("header", height) * 2,
        certificate=digest("certificate", height),
        txs=tuple(make_tx(height, i) for i in range(tx_count)) if txs is None else tuple(txs),
        state_changes=dict(changes),
    )


def snapshot(store: Store) -> tuple[object, ...]:
    """Everything a reader can see, for before/after comparisons."""
    return (store.head_height(), list(store.iter_blocks()), list(store.iter_state()))


def commit_two_blocks(store: Store) -> list[BlockRecord]:
    blocks = [
        make_block(0, {"a": b"1", "b": b"2", "c": b"3"}),
        make_block(1, {"a": b"10", "c": None, "d": b"4"}, tx_count=3),
    ]
    for block in blocks:
        store.commit_block(block)
    return blocks


# -- an empty store -----------------------------------------------------------------------------


def test_empty_store_has_no_head_and_nothing_to_read(store: Store) -> None:
    assert store.head_height() is None
    assert store.get_block(0) is None
    assert store.get_outcome(0) is None
    assert store.get_header(0) is None
    assert store.get_tx(digest("tx", 0, 0)) is None
    assert store.get_state("a") is None
    assert store.get_state_at("a", 0) is None
    assert list(store.iter_blocks()) == []
    assert list(store.iter_state()) == []
    assert list(store.iter_state_at(0)) == []


# -- round trips --------------------------------------------------------------------------------


def test_an_outcome_read_by_namespace_holds_only_their_changes(store: Store) -> None:
    changes = {
        "bal/a/X": b"1",
        "claim/p/kyc/i": b"2",
        "claim0/q": b"3",  # namespace "claim0": after every "claim/..." key, not in "claim"
        "claimx/q": b"4",
        "clai/q": b"5",
        "party/p": None,  # a deletion is a change too
        "trust/kyc": b"6",
        "zzz/q": b"7",
    }
    store.commit_block(make_block(0, changes))

    read = store.get_outcome(0, {"party", "claim"})
    assert read is not None
    assert read.state_changes == {"claim/p/kyc/i": b"2", "party/p": None}
    assert list(read.state_changes) == ["claim/p/kyc/i", "party/p"]  # in key order
    assert list(read.receipts) == [tx.receipt for tx in make_block(0, changes).txs]
    everything = store.get_outcome(0)
    assert everything is not None and everything.state_changes == changes
    nothing = store.get_outcome(0, ())
    assert nothing is not None and nothing.state_changes == {}
    assert store.get_outcome(1, {"party"}) is None
    for bad in ("claim/p", ""):  # not a namespace: a caller's mistake, not a query to run
        with pytest.raises(InvariantError):
            store.get_outcome(0, {bad})


def test_blocks_txs_receipts_and_state_round_trip(store: Store) -> None:
    blocks = commit_two_blocks(store)

    assert store.head_height() == 1
    for block in blocks:
        assert store.get_block(block.height) == block
        assert store.get_header(block.height) == (
            block.header_hash,
            block.header,
            block.certificate,
        )
        for tx in block.txs:
            assert store.get_tx(tx.tx_id) == tx
        outcome = store.get_outcome(block.height)
        assert outcome is not None
        assert (outcome.height, outcome.header) == (block.height, block.header)
        assert list(outcome.receipts) == [tx.receipt for tx in block.txs]
        assert outcome.state_changes == block.state_changes
    assert store.get_block(2) is None
    assert store.get_outcome(2) is None
    assert list(store.iter_blocks()) == blocks
    assert list(store.iter_blocks(1)) == blocks[1:]
    assert list(store.iter_blocks(2)) == []
    assert store.get_state("a") == b"10"
    assert store.get_state("c") is None
    assert list(store.iter_state()) == [("a", b"10"), ("b", b"2"), ("d", b"4")]


def test_an_empty_block_round_trips(store: Store) -> None:
    block = make_block(0, {}, tx_count=0)
    store.commit_block(block)
    assert store.get_block(0) == block
    assert store.head_height() == 0


def test_a_large_block_round_trips(store: Store) -> None:
    """5,000 txs and 15,000 state changes: the size the node is designed to write per block."""
    rng = random.Random(7)
    changes: dict[str, bytes | None] = {
        f"balance/{n:05d}": rng.randbytes(48) if n % 10 else None for n in range(15_000)
    }
    block = make_block(0, changes, tx_count=5_000)
    store.commit_block(block)
    assert store.get_block(0) == block
    assert len(list(store.iter_state())) == 13_500


def test_deleted_keys_disappear_now_and_stay_in_history(store: Store) -> None:
    store.commit_block(make_block(0, {"k": b"v0", "other": b"o"}))
    store.commit_block(make_block(1, {"k": None}))
    store.commit_block(make_block(2, {"gone": None}))  # deleting an absent key is allowed

    assert store.get_state("k") is None
    assert list(store.iter_state()) == [("other", b"o")]
    assert store.get_state_at("k", 0) == b"v0"
    assert store.get_state_at("k", 1) is None
    assert list(store.iter_state_at(0)) == [("k", b"v0"), ("other", b"o")]
    assert list(store.iter_state_at(1)) == [("other", b"o")]
    block_1 = store.get_block(1)
    assert block_1 is not None
    assert block_1.state_changes == {"k": None}

    store.commit_block(make_block(3, {"k": b"v3"}))
    assert store.get_state("k") == b"v3"
    assert list(store.iter_state_at(3)) == [("k", b"v3"), ("other", b"o")]


def test_state_is_ordered_by_code_point_like_sorted(store: Store) -> None:
    # Locale collations would put "a" before "B" and ignore punctuation: the store must not.
    keys = ["b", "B", "a", "A", "_", "a-b", "a/b", "ab", "a b", "z", "Z", "é", "ä", "日本", "😀"]
    store.commit_block(make_block(0, {key: key.encode() for key in keys}))
    expected = [(key, key.encode()) for key in sorted(keys)]
    assert list(store.iter_state()) == expected
    assert list(store.iter_state_at(0)) == expected


# -- refusals leave everything unchanged --------------------------------------------------------


@pytest.mark.parametrize("height", [0, 1, 3, 100])
def test_a_block_at_the_wrong_height_is_refused_and_writes_nothing(
    store: Store, height: int
) -> None:
    commit_two_blocks(store)
    before = snapshot(store)
    new_txs = [make_tx(height, i, digest("new", i)) for i in range(2)]
    block = make_block(height, {"a": b"changed", "new": b"x"}, new_txs)

    with pytest.raises(StoreError, match="refused"):
        store.commit_block(block)

    assert snapshot(store) == before
    assert all(store.get_tx(tx.tx_id) is None for tx in block.txs)


def test_the_first_block_must_be_at_height_zero(store: Store) -> None:
    with pytest.raises(StoreError):
        store.commit_block(make_block(1, {"a": b"1"}))
    assert snapshot(store) == (None, [], [])


def test_a_duplicate_position_in_a_block_fails_midway_and_writes_nothing(store: Store) -> None:
    commit_two_blocks(store)
    before = snapshot(store)
    txs = [make_tx(2, 0), make_tx(2, 1), make_tx(2, 2)]
    block = make_block(
        2, {"a": b"changed", "b": None, "new": b"x"}, [txs[0], txs[1], replace(txs[2], index=1)]
    )

    with pytest.raises(StoreError):
        store.commit_block(block)

    assert snapshot(store) == before
    assert store.get_tx(txs[0].tx_id) is None
    assert store.get_block(2) is None
    # The refusal does not break the store: the right block commits next.
    good = make_block(2, {"new": b"x"})
    store.commit_block(good)
    assert store.get_block(2) == good


def test_a_recurring_tx_id_is_kept_and_lookup_gives_the_latest(store: Store) -> None:
    blocks = commit_two_blocks(store)
    reused = blocks[0].txs[0].tx_id
    again = make_tx(2, 1, reused)
    block = make_block(2, {"new": b"x"}, [make_tx(2, 0, reused), again])
    store.commit_block(block)
    assert store.get_tx(reused) == again
    assert store.get_block(0) == blocks[0]
    assert store.get_block(2) == block


def test_a_failure_at_the_last_write_leaves_nothing_of_the_block(store: Store, target: str) -> None:
    commit_two_blocks(store)
    install_failing_trigger(target, "poison")
    before = snapshot(store)
    block = make_block(2, {"a": b"changed", "b": None, "new": b"x", "poison": b"p"})

    with pytest.raises(StoreError, match="injected fault"):
        store.commit_block(block)

    assert snapshot(store) == before
    assert all(store.get_tx(tx.tx_id) is None for tx in block.txs)
    assert store.get_state_at("new", 2) is None


def test_a_group_of_blocks_commits_as_if_one_by_one(store: Store, target: str) -> None:
    commit_two_blocks(store)
    group = [
        make_block(2, {"a": b"20", "e": b"5"}),
        make_block(3, {"e": None, "a": b"30", "f": b"6"}, tx_count=4),
        make_block(4, {"f": b"60"}, tx_count=0),
    ]
    store.commit_blocks(group)

    assert store.head_height() == 4
    assert [store.get_block(h) for h in (2, 3, 4)] == group
    assert dict(store.iter_state()) == {"a": b"30", "b": b"2", "d": b"4", "f": b"60"}
    # Each block's changes stay at their own height in the history.
    assert store.get_state_at("e", 2) == b"5"
    assert store.get_state_at("e", 3) is None
    assert dict(store.iter_state_at(3)) == {"a": b"30", "b": b"2", "d": b"4", "f": b"6"}
    with open_store(target) as again:
        assert again.head_height() == 4


def test_a_group_that_fails_in_its_last_block_writes_none_of_its_blocks(
    store: Store, target: str
) -> None:
    commit_two_blocks(store)
    install_failing_trigger(target, "poison")
    before = snapshot(store)
    group = [make_block(2, {"a": b"20"}), make_block(3, {"b": None, "poison": b"p"})]

    with pytest.raises(StoreError, match="injected fault"):
        store.commit_blocks(group)

    assert snapshot(store) == before
    assert all(store.get_tx(tx.tx_id) is None for block in group for tx in block.txs)
    store.commit_blocks(group[:1])
    assert store.head_height() == 2


@pytest.mark.parametrize(
    ("heights", "message"),
    [((), "no blocks"), ((2, 4), "does not follow"), ((3, 4), "refused"), ((2, 2), "follow")],
    ids=["empty", "gap", "wrong-start", "repeat"],
)
def test_a_malformed_group_is_refused_and_writes_nothing(
    store: Store, heights: tuple[int, ...], message: str
) -> None:
    commit_two_blocks(store)
    before = snapshot(store)
    with pytest.raises(StoreError, match=message):
        store.commit_blocks([make_block(h, {"x": b"1"}) for h in heights])
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (make_block(0, {}, [make_tx(1, 0)]), "has height 1 in block 0"),
        (make_block(0, {}, [make_tx(0, -1)]), "out of range"),
        (make_block(-1, {}), "out of range"),
        (make_block(2**63, {}), "out of range"),
        (make_block(0, {"nul\x00key": b"x"}), "NUL"),
        (make_block(0, {"\ud800": b"x"}), "not valid Unicode"),
    ],
    ids=["tx-height", "tx-index", "negative-height", "huge-height", "nul-key", "surrogate-key"],
)
def test_malformed_blocks_are_refused_alike(store: Store, block: BlockRecord, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store.commit_block(block)
    assert snapshot(store) == (None, [], [])


def test_two_writers_cannot_commit_the_same_height(store: Store, target: str) -> None:
    store.commit_block(make_block(0, {"a": b"1"}))
    with closing(open_store(target)) as rival:
        rival.commit_block(make_block(1, {"a": b"rival"}))
        with pytest.raises(StoreError, match="refused"):
            store.commit_block(make_block(1, {"a": b"mine"}))
    assert store.get_state("a") == b"rival"
    assert store.head_height() == 1


# -- history ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_at_every_past_height_matches_a_model(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    keys = [f"k{n:02d}" for n in range(12)]
    model: dict[str, bytes] = {}
    history: list[dict[str, bytes]] = []
    for height in range(15):
        changes: dict[str, bytes | None] = {}
        for key in rng.sample(keys, rng.randint(0, 6)):
            changes[key] = None if rng.random() < 0.3 else rng.randbytes(rng.randint(0, 8))
        store.commit_block(make_block(height, changes, tx_count=rng.randint(0, 3)))
        for key, value in changes.items():
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
        history.append(dict(model))

    for height in range(-1, len(history) + 2):
        expected = history[min(height, len(history) - 1)] if height >= 0 else {}
        assert list(store.iter_state_at(height)) == sorted(expected.items()), (seed, height)
        for key in keys:
            assert store.get_state_at(key, height) == expected.get(key), (seed, height, key)
    assert list(store.iter_state()) == sorted(model.items()), seed


def test_iterators_interleave_and_may_be_abandoned(store: Store) -> None:
    store.commit_block(make_block(0, {f"k{n:03d}": b"%d" % n for n in range(300)}))
    store.commit_block(make_block(1, {"k000": b"new"}))
    now, before = store.iter_state(), store.iter_state_at(0)
    pairs = list(zip(now, before, strict=True))
    assert pairs[0] == (("k000", b"new"), ("k000", b"0"))
    assert all(a == b for a, b in pairs[1:])

    abandoned = store.iter_state()
    assert next(abandoned) == ("k000", b"new")
    del abandoned
    store.commit_block(make_block(2, {"k001": None}))  # an abandoned iterator blocks nothing
    assert store.get_state("k001") is None


# -- persistence and schema ---------------------------------------------------------------------


def test_reopening_keeps_everything(store: Store, target: str) -> None:
    blocks = commit_two_blocks(store)
    before = snapshot(store)
    store.close()
    with closing(open_store(target)) as reopened:
        assert snapshot(reopened) == before
        assert list(reopened.iter_blocks()) == blocks
        assert reopened.get_state_at("c", 0) == b"3"
        reopened.commit_block(make_block(2, {"e": b"5"}))
    with closing(open_store(target)) as again:
        assert again.head_height() == 2


def test_the_schema_version_is_recorded(store: Store, target: str) -> None:
    assert isinstance(store, SqliteStore | PostgresStore)
    assert store.schema_version() == SCHEMA_VERSION
    assert raw_query(target, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]


def test_a_newer_schema_is_refused(store: Store, target: str) -> None:
    store.commit_block(make_block(0, {"a": b"1"}))
    store.close()
    newer = str(SCHEMA_VERSION + 1)
    raw_query(target, "UPDATE meta SET value = %s WHERE key = 'schema_version'", (newer,))
    with pytest.raises(StoreError, match="newer than this code knows"):
        open_store(target)


def test_pending_migrations_are_applied_in_order(store: Store, target: str) -> None:
    store.commit_block(make_block(0, {"a": b"1"}))
    store.close()
    extra = (
        *MIGRATIONS,
        Migration(SCHEMA_VERSION + 1, "add notes", ("CREATE TABLE notes (height {int})",)),
        Migration(SCHEMA_VERSION + 2, "index notes", ("CREATE INDEX notes_h ON notes (height)",)),
    )
    with open_backend(target, extra) as migrated:
        assert migrated.schema_version() == SCHEMA_VERSION + 2
        assert migrated.get_state("a") == b"1"
    assert raw_query(target, "SELECT count(*) FROM notes") == [(0,)]


def test_a_failing_migration_changes_nothing(store: Store, target: str) -> None:
    store.close()
    broken = (
        *MIGRATIONS,
        Migration(
            SCHEMA_VERSION + 1,
            "half right",
            ("CREATE TABLE notes (height {int})", "CREATE TABLE blocks (height {int})"),
        ),
    )
    with pytest.raises(StoreError):
        open_backend(target, broken)
    with closing(open_store(target)) as reopened:
        assert reopened.schema_version() == SCHEMA_VERSION
    with pytest.raises((sqlite3.Error, psycopg.Error)):
        raw_query(target, "SELECT count(*) FROM notes")


def test_a_closed_store_refuses_use_and_closes_twice(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.head_height()
    with pytest.raises(StoreError, match="closed"):
        store.commit_block(make_block(0, {}))
    with pytest.raises(StoreError, match="closed"):
        list(store.iter_state())


# -- threads ------------------------------------------------------------------------------------


def test_readers_in_other_threads_see_whole_blocks_while_one_writes(store: Store) -> None:
    """Each block moves the same total between two keys: a torn read would break the sum."""
    blocks_count = 40
    store.commit_block(make_block(0, {"left": b"%d" % 1000, "right": b"0"}))
    failures: list[str] = []
    done = threading.Event()

    def total(state: Iterator[tuple[str, bytes]]) -> int:
        values = dict(state)
        return int(values["left"]) + int(values["right"])

    def read() -> None:
        try:
            while not done.is_set():
                head = store.head_height()
                assert head is not None
                totals = (total(store.iter_state()), total(store.iter_state_at(head)))
                block = store.get_block(head)
                if totals != (1000, 1000) or block is None:
                    failures.append(f"head {head}: totals {totals}, block {block is not None}")
        except Exception as exc:  # the thread's top level: report, do not vanish
            failures.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for height in range(1, blocks_count + 1):
            store.commit_block(
                make_block(height, {"left": b"%d" % (1000 - height), "right": b"%d" % height})
            )
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert failures == []
    assert store.get_state("right") == b"%d" % blocks_count


# -- opening by target --------------------------------------------------------------------------


def test_open_store_takes_a_directory_or_a_file(tmp_path: Path) -> None:
    with closing(open_store(tmp_path)) as in_dir:
        assert isinstance(in_dir, SqliteStore)
        assert in_dir.path == tmp_path / "ledger.db"
    with closing(open_store(str(tmp_path / "other.db"))) as in_file:
        assert in_file.path == tmp_path / "other.db"
    assert (tmp_path / "ledger.db").exists()


def test_open_store_reports_an_unusable_file(tmp_path: Path) -> None:
    (tmp_path / "ledger.db").write_bytes(b"not a database, just some bytes" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        open_store(tmp_path)
    with pytest.raises(StoreError, match="cannot open"):
        open_store(tmp_path / "missing-dir" / "ledger.db")


@pytest.mark.postgres
def test_open_store_takes_a_postgres_url(postgres_dsn: str) -> None:
    with closing(open_store(postgres_dsn)) as opened:
        assert isinstance(opened, PostgresStore)
    with closing(open_store(postgres_dsn.replace("postgresql://", "postgres://", 1))) as opened:
        assert isinstance(opened, PostgresStore)


@pytest.mark.postgres
def test_postgres_keys_sort_by_code_point_whatever_the_locale(postgres_dsn: str) -> None:
    with closing(open_store(postgres_dsn)):
        pass
    rows = raw_query(
        postgres_dsn,
        "SELECT table_name, collation_name FROM information_schema.columns"
        " WHERE column_name = 'key' AND table_name IN ('state', 'state_log') ORDER BY 1",
    )
    assert rows == [("state", "C"), ("state_log", "C")]


def test_postgres_refuses_an_unreachable_server_without_showing_the_password() -> None:
    with pytest.raises(StoreError, match=re.escape("cannot connect to 127.0.0.1:1/ledger")) as info:
        PostgresStore("postgresql://rantai:secret@127.0.0.1:1/ledger?connect_timeout=2")
    assert "secret" not in str(info.value)


# -- the access log (migration 2) ---------------------------------------------------------------


def make_entry(seq: int, party: str = "SC", status: int = 200) -> AccessLogRecord:
    return AccessLogRecord(
        seq, 1_000 + seq, party, "GET", f"/v1/parties/p{seq}", "limit=5", status, digest(seq)
    )


def test_the_access_log_starts_empty(store: Store) -> None:
    assert store.last_access_log() is None
    assert list(store.iter_access_log(0, 10)) == []


def test_access_log_entries_round_trip_in_order_and_page(store: Store) -> None:
    entries = [make_entry(seq) for seq in range(1, 8)]
    store.append_access_log(entries[:3])
    store.append_access_log(entries[3:])
    store.append_access_log([])
    assert list(store.iter_access_log(0, 100)) == entries
    assert list(store.iter_access_log(2, 3)) == entries[2:5]
    assert list(store.iter_access_log(7, 3)) == []
    assert list(store.iter_access_log(2**70, 2**70)) == []
    assert list(store.iter_access_log(-5, 0)) == []
    assert store.last_access_log() == entries[-1]


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ([make_entry(2)], "the next seq is 1"),
        ([make_entry(1), make_entry(3)], "the next seq is 2"),
        ([make_entry(1), make_entry(1)], "the next seq is 2"),
        ([make_entry(1, party="S\x00C")], "NUL"),
        ([make_entry(1, status=-1)], "out of range"),
    ],
)
def test_access_log_entries_that_break_the_sequence_write_nothing(
    store: Store, batch: list[AccessLogRecord], message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        store.append_access_log(batch)
    assert store.last_access_log() is None


def test_the_access_log_continues_after_reopening(store: Store, target: str) -> None:
    store.append_access_log([make_entry(1), make_entry(2)])
    store.close()
    with closing(open_store(target)) as reopened:
        with pytest.raises(StoreError, match="the next seq is 3"):
            reopened.append_access_log([make_entry(1)])
        reopened.append_access_log([make_entry(3)])
        assert [e.seq for e in reopened.iter_access_log(0, 10)] == [1, 2, 3]


def test_a_version_1_database_gains_the_access_log(target: str) -> None:
    with open_backend(target, MIGRATIONS[:1]) as old:
        old.commit_block(make_block(0, {"a": b"1"}))
        assert old.schema_version() == 1
    with open_backend(target, MIGRATIONS) as upgraded:
        assert upgraded.schema_version() == SCHEMA_VERSION >= 2
        assert upgraded.get_state("a") == b"1"
        upgraded.append_access_log([make_entry(1)])
        assert upgraded.last_access_log() == make_entry(1)


# -- alerts (rantai.supervision) ---------------------------------------------------------------


def make_alert(alert_id: int, status: str = "open", height: int = 3) -> AlertRecord:
    return AlertRecord(alert_id, "large_transfer", height, 5_000, 60, status, "", b'{"p":1}')


def raised(alert_id: int) -> AlertChange:
    return AlertChange(alert_id, 1, 5_000, "monitor/large_transfer", "open", "", "raised")


def test_alerts_start_empty(store: Store) -> None:
    assert store.supervised_height() is None
    assert store.last_alert_id() == 0
    assert store.get_alert(1) is None
    assert store.list_alerts(None, 0, 10) == []
    assert store.alert_history(1) == []


def test_alerts_round_trip_page_and_filter(store: Store) -> None:
    store.record_alerts([make_alert(1), make_alert(2)], [raised(1), raised(2)], 3)
    store.record_alerts([], [], 4)  # a height without alerts is recorded too
    store.record_alerts([make_alert(3, height=5)], [raised(3)], 5)
    assert store.supervised_height() == 5
    assert store.last_alert_id() == 3
    assert store.get_alert(2) == make_alert(2)
    assert [a.alert_id for a in store.list_alerts(None, 1, 10)] == [2, 3]
    assert [a.alert_id for a in store.list_alerts(None, 0, 2)] == [1, 2]
    assert store.list_alerts(None, 2**70, 2**70) == []
    reviewed = replace(make_alert(2), status="under_review", agency="SC")
    change = AlertChange(2, 2, 6_000, "SC", "under_review", "SC", "")
    store.change_alert(reviewed, change)
    assert store.get_alert(2) == reviewed
    assert store.alert_history(2) == [raised(2), change]
    assert [a.alert_id for a in store.list_alerts("under_review", 0, 10)] == [2]
    assert [a.alert_id for a in store.list_alerts("open", 0, 10)] == [1, 3]
    assert store.get_alert(-1) is None and store.get_alert(2**70) is None


@pytest.mark.parametrize(
    ("alerts", "changes", "height", "message"),
    [
        ([make_alert(2)], [raised(2)], 3, "the next id is 1"),
        ([make_alert(1)], [raised(1)], -1, "out of range"),
        ([make_alert(1)], [raised(7)], 3, "not new"),
        ([make_alert(1)], [replace(raised(1), actor="S\x00C")], 3, "NUL"),
    ],
)
def test_alerts_that_do_not_continue_write_nothing(
    store: Store, alerts: list[AlertRecord], changes: list[AlertChange], height: int, message: str
) -> None:
    with pytest.raises(StoreError, match=message):
        store.record_alerts(alerts, changes, height)
    assert store.supervised_height() is None
    assert store.list_alerts(None, 0, 10) == []


def test_a_supervised_height_is_not_written_twice(store: Store) -> None:
    store.record_alerts([make_alert(1)], [raised(1)], 3)
    with pytest.raises(StoreError, match="supervised up to 3"):
        store.record_alerts([make_alert(2)], [raised(2)], 3)
    assert store.last_alert_id() == 1


def test_a_supervisor_checkpoint_round_trips_and_never_runs_ahead(
    store: Store, target: str
) -> None:
    assert store.supervisor_checkpoint() is None
    with pytest.raises(StoreError, match="supervised up to None"):
        store.save_supervisor_checkpoint(0, b"x")
    store.record_alerts([make_alert(1)], [raised(1)], 5)
    with pytest.raises(StoreError, match="supervised up to 5"):
        store.save_supervisor_checkpoint(6, b"ahead")  # its alerts are not stored yet
    store.save_supervisor_checkpoint(5, b"five")
    assert store.supervisor_checkpoint() == (5, b"five")
    store.save_supervisor_checkpoint(4, b"\x00four")  # replaces it: a replay from genesis
    assert store.supervisor_checkpoint() == (4, b"\x00four")
    store.save_supervisor_checkpoint(5, b"five")
    store.close()
    with open_store(target) as reopened:
        assert reopened.supervisor_checkpoint() == (5, b"five")


def test_an_alert_change_must_be_the_next_of_its_history(store: Store) -> None:
    store.record_alerts([make_alert(1)], [raised(1)], 3)
    stale = AlertChange(1, 1, 6_000, "SC", "dismissed", "", "dup")
    with pytest.raises(StoreError, match="is not next"):
        store.change_alert(replace(make_alert(1), status="dismissed"), stale)
    with pytest.raises(StoreError, match="is not next"):
        store.change_alert(make_alert(9), AlertChange(9, 2, 6_000, "SC", "open", "", ""))
    assert store.get_alert(1) == make_alert(1)
    assert store.alert_history(1) == [raised(1)]


def test_a_version_2_database_gains_the_alert_tables(target: str) -> None:
    with open_backend(target, MIGRATIONS[:2]) as old:
        old.commit_block(make_block(0, {"a": b"1"}))
        assert old.schema_version() == 2
    with open_backend(target, MIGRATIONS) as upgraded:
        assert upgraded.schema_version() == SCHEMA_VERSION >= 3
        upgraded.record_alerts([make_alert(1)], [raised(1)], 0)
        assert upgraded.get_alert(1) == make_alert(1)

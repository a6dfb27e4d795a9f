"""The access log writer: hash chain across restarts, batching, failures kept for retry;
and the auditor finding a changed or missing entry by its seq."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.node.harness import market, new_node

from rantai.crypto.hashing import ZERO_DIGEST
from rantai.node.accesslog import AccessLog, BrokenAccessLog, check_chain, entry_hash
from rantai.node.audit import audit
from rantai.store.base import AccessLogRecord, StoreError
from rantai.store.sqlite import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now_ms = 1_000

    def __call__(self) -> int:
        self.now_ms += 1
        return self.now_ms


def test_entries_chain_from_zero_and_continue_after_a_restart(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ledger.db")
    try:
        log = AccessLog(store, Clock())
        first = log.record("SC", "GET", "/v1/parties", "limit=5", 200)
        second = log.record("BNM", "GET", "/v1/blocks/head", "", 403)
        assert first.seq == 1 and second.seq == 2
        assert first.hash == entry_hash(
            ZERO_DIGEST, 1, first.at_ms, "SC", "GET", "/v1/parties", "limit=5", 200
        )
        assert second.hash == entry_hash(
            first.hash, 2, second.at_ms, "BNM", "GET", "/v1/blocks/head", "", 403
        )
        again = AccessLog(store, Clock())  # e.g. after a restart
        third = again.record("MOD", "GET", "/v1/access-log", "", 200)
        assert third.seq == 3
        assert check_chain(store.iter_access_log(0, 10)) == (3, third.hash)
    finally:
        store.close()


def test_the_background_thread_writes_in_batches(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ledger.db")
    try:
        log = AccessLog(store, Clock(), flush_interval_s=0.05)
        log.start()
        for i in range(50):
            log.record("SC", "GET", f"/v1/parties/p{i}", "", 200)
        assert log.pending > 0  # nothing waited on the disk
        deadline = time.monotonic() + 5
        while log.pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert log.pending == 0
        log.record("SC", "GET", "/last", "", 200)
        log.stop()  # flushes what is left
        assert check_chain(store.iter_access_log(0, 100))[0] == 51
    finally:
        store.close()


class FailingStore:
    """A store whose appends fail until told otherwise."""

    def __init__(self) -> None:
        self.failing = True
        self.kept: list[AccessLogRecord] = []

    def last_access_log(self) -> AccessLogRecord | None:
        return None

    def append_access_log(self, entries: Sequence[AccessLogRecord]) -> None:
        if self.failing:
            raise StoreError("disk on fire")
        self.kept.extend(entries)


def test_a_failed_write_keeps_the_entries_for_the_next_flush() -> None:
    store = FailingStore()
    log = AccessLog(store, Clock(), buffer_max=3)  # type: ignore[arg-type]
    log.start()
    try:
        log.record("SC", "GET", "/a", "", 200)
        log.record("SC", "GET", "/b", "", 200)
        with pytest.raises(StoreError):
            log.record("SC", "GET", "/c", "", 200)  # full: written in the caller, and fails
        assert log.pending == 3
        store.failing = False
        log.flush()
        assert [e.path for e in store.kept] == ["/a", "/b", "/c"]
        assert check_chain(store.kept)[0] == 3
    finally:
        store.failing = False
        log.stop()


def test_without_a_thread_every_record_is_written_at_once() -> None:
    store = FailingStore()
    store.failing = False
    log = AccessLog(store, Clock())  # type: ignore[arg-type]
    log.record("SC", "GET", "/a", "", 200)
    assert len(store.kept) == 1 and log.pending == 0


def test_check_chain_names_the_first_bad_entry() -> None:
    store = FailingStore()
    store.failing = False
    log = AccessLog(store, Clock())  # type: ignore[arg-type]
    for path in ("/a", "/b", "/c", "/d"):
        log.record("SC", "GET", path, "", 200)
    entries = store.kept
    changed = [*entries[:2], AccessLogRecord(*(*_fields(entries[2])[:6], 403, entries[2].hash))]
    with pytest.raises(BrokenAccessLog) as broken:
        check_chain(changed)
    assert broken.value.seq == 3
    with pytest.raises(BrokenAccessLog) as gap:
        check_chain([entries[0], entries[2]])
    assert gap.value.seq == 2


def _fields(entry: AccessLogRecord) -> tuple[object, ...]:
    return (
        entry.seq,
        entry.at_ms,
        entry.party,
        entry.method,
        entry.path,
        entry.query,
        entry.status,
        entry.hash,
    )


@pytest.mark.parametrize(
    ("statement", "seq"),
    [
        ("UPDATE access_log SET status = 200 WHERE seq = 2", 2),
        ("UPDATE access_log SET party = 'BNM' WHERE seq = 3", 3),
        ("DELETE FROM access_log WHERE seq = 2", 2),
        ("UPDATE access_log SET hash = zeroblob(32) WHERE seq = 1", 1),
    ],
)
def test_the_auditor_finds_a_changed_or_missing_entry(
    tmp_path: Path, statement: str, seq: int
) -> None:
    node = new_node(tmp_path)
    market(node)
    log = AccessLog(node.store, Clock())
    for status in (200, 403, 200, 404):
        log.record("SC", "GET", "/v1/parties", "", status)
    assert audit(node.store).ok
    assert audit(node.store).access_log_entries == 4
    node.stop()
    node.store.close()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute(statement)
    db.close()
    store = SqliteStore(tmp_path / "ledger.db")
    try:
        report = audit(store)
    finally:
        store.close()
    assert report.failure is not None
    assert report.failure.seq == seq
    assert f"access log entry {seq}" in report.failure.problem

"""The audit's pipeline: blocks read ahead in a thread, and the next group of blocks'
signatures checked in the pool while this group executes.

Blocks here hold more than ``CHUNK_ENVELOPES_MIN`` envelopes, so the pool really is used.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, cast

import pytest
from tests.node.harness import market, new_node, send

from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.node.audit import audit
from rantai.node.verifier import CHUNK_ENVELOPES_MIN, WORKER_NICE, Refused, Verifier
from rantai.store import open_store
from rantai.store.base import BlockRecord, Store, StoreError

TXS_PER_BLOCK = CHUNK_ENVELOPES_MIN * 2
BAD_INDEX = TXS_PER_BLOCK - 5  # past the block's first chunk in the pool


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    """A chain with three blocks of TXS_PER_BLOCK transfers at the end; their heights."""
    data = tmp_path_factory.mktemp("pipeline")
    node = new_node(data)
    market(node)
    a, b = account_id("inv-0"), account_id("inv-1")
    heights = []
    for _ in range(3):
        codes = send(node, [("inv-0", Transfer(a, b, "BOND1", 1, "p"))] * TXS_PER_BLOCK)
        assert set(codes) == {"ok"}
        heights.append(node.store.head_height() or 0)
    node.stop()
    node.store.close()
    return data, heights


def _audit(db: Path, workers: int) -> tuple[int | None, str, bytes]:
    store = open_store(str(db))
    try:
        report = audit(store, verify_workers=workers)
    finally:
        store.close()
    failure = report.failure
    return (
        (None, "", report.state_root) if failure is None else (failure.height, failure.problem, b"")
    )


def test_pool_and_thread_replays_agree(chain: tuple[Path, list[int]]) -> None:
    data, _ = chain
    in_thread = _audit(data / "ledger.db", 0)
    pooled = _audit(data / "ledger.db", 2)
    assert in_thread[0] is None and pooled == in_thread


def test_a_bad_signature_in_a_prefetched_block_fails_at_its_height(
    chain: tuple[Path, list[int]], tmp_path: Path
) -> None:
    data, heights = chain
    db_path = tmp_path / "ledger.db"
    db_path.write_bytes((data / "ledger.db").read_bytes())
    bad = heights[1]
    with sqlite3.connect(db_path) as db:
        envelope = db.execute(
            "SELECT envelope FROM txs WHERE height = ? AND tx_index = ?", (bad, BAD_INDEX)
        ).fetchone()[0]
        flipped = bytearray(envelope)
        flipped[-2] ^= 1
        db.execute(
            "UPDATE txs SET envelope = ? WHERE height = ? AND tx_index = ?",
            (bytes(flipped), bad, BAD_INDEX),
        )
    height, problem, _ = _audit(db_path, 2)
    assert height == bad
    assert f"transaction {BAD_INDEX}" in problem


def _stored_block(data: Path, height: int) -> BlockRecord:
    store = open_store(str(data / "ledger.db"))
    try:
        block = store.get_block(height)
    finally:
        store.close()
    assert block is not None
    return block


def test_check_later_answers_as_check_does(chain: tuple[Path, list[int]]) -> None:
    data, heights = chain
    block = _stored_block(data, heights[0])
    raws = [t.envelope for t in block.txs]
    raws[3] = raws[3][:-1] + bytes([raws[3][-1] ^ 1])
    verifier = Verifier("rantai-test", 2)
    try:
        answer = verifier.check_later(raws)
        now = verifier.check(raws)
        later = answer()
    finally:
        verifier.close()
    assert later == now
    assert isinstance(later[3], Refused)
    assert [getattr(x, "tx_id", None) for x in later] == [getattr(x, "tx_id", None) for x in now]


def test_the_pool_runs_niced_unless_told_and_answers_the_same(
    chain: tuple[Path, list[int]],
) -> None:
    data, heights = chain
    block = _stored_block(data, heights[0])
    raws = [t.envelope for t in block.txs]
    before = {p.pid for p in multiprocessing.active_children()}
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    plain, niced = Verifier("rantai-test", 1, nice=0), Verifier("rantai-test", 1)
    try:
        answers = niced.check(raws)  # a block's worth: the pool, not the calling thread
        assert answers == plain.check(raws)
        assert [getattr(x, "tx_id", None) for x in answers] == [t.tx_id for t in block.txs]
        workers = [p.pid for p in multiprocessing.active_children() if p.pid not in before]
        priorities = sorted(os.getpriority(os.PRIO_PROCESS, pid) for pid in workers)
    finally:
        plain.close()
        niced.close()
    assert priorities == [ours, min(ours + WORKER_NICE, 19)]


def test_failures_in_one_read_ahead_group_come_in_height_order(
    chain: tuple[Path, list[int]], tmp_path: Path
) -> None:
    """The whole chain is one group of blocks verified together (READ_AHEAD_TXS covers it):
    a header tampered with at one height is reported before a bad signature at a later
    one, though the later block's signatures were checked first."""
    data, heights = chain
    db_path = tmp_path / "ledger.db"
    db_path.write_bytes((data / "ledger.db").read_bytes())
    with sqlite3.connect(db_path) as db:
        (header,) = db.execute(
            "SELECT header FROM blocks WHERE height = ?", (heights[0],)
        ).fetchone()
        db.execute(
            "UPDATE blocks SET header = ? WHERE height = ?",
            (header[:-1] + bytes([header[-1] ^ 1]), heights[0]),
        )
        (envelope,) = db.execute(
            "SELECT envelope FROM txs WHERE height = ? AND tx_index = 5", (heights[1],)
        ).fetchone()
        db.execute(
            "UPDATE txs SET envelope = ? WHERE height = ? AND tx_index = 5",
            (envelope[:-2] + bytes([envelope[-2] ^ 1]) + envelope[-1:], heights[1]),
        )
    height, problem, _ = _audit(db_path, 2)
    assert (height, problem) == (
        heights[0],
        "stored header hash is not the hash of the stored header",
    )


class _FailingReads:
    """A store whose block reads fail from ``height`` on, as a broken disk would."""

    def __init__(self, store: Store, height: int) -> None:
        self._store = store
        self._height = height

    def get_block(self, height: int) -> BlockRecord | None:
        if height >= self._height:
            raise StoreError(f"cannot read block {height}")
        return self._store.get_block(height)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_read_error_ahead_of_the_replay_reaches_the_caller(
    chain: tuple[Path, list[int]],
) -> None:
    """Blocks are read in a thread ahead of the replay; its error is raised in the
    caller's thread once the replay gets there, and the reading thread is stopped."""
    data, heights = chain
    store = open_store(str(data / "ledger.db"))
    try:
        failing = cast(Store, _FailingReads(store, heights[1]))
        with pytest.raises(StoreError, match=f"cannot read block {heights[1]}"):
            audit(failing, verify_workers=2)
    finally:
        store.close()
    assert not [t for t in threading.enumerate() if t.name == "rantai-audit-reader"]

"""The write pipeline: block N+1 executes while block N is written; nothing shows before
it is durable; blocks queued behind a write commit together; a failed write stops the node.

The store is a real SQLite store whose ``commit_blocks`` waits at a gate the test opens, so
the test can look at the node while a write is in progress.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.node.harness import Clock, market, new_node, send
from tests.support import key_of

from rantai.core import codes
from rantai.core.block import Header
from rantai.core.encoding import decode, encode
from rantai.core.errors import InvariantError
from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.core.ledger import Ledger
from rantai.core.proofs import verify_state_value
from rantai.core.records import CHAIN_KEY, balance_key
from rantai.core.tx import SignedTx, build_envelope, check_envelope
from rantai.node.audit import audit
from rantai.node.datadir import open_node
from rantai.node.node import CommittedBlock, Node, NodeConfig
from rantai.node.reads import Reader
from rantai.store.base import BlockRecord, StoreError
from rantai.store.sqlite import SqliteStore

A, B = account_id("inv-0"), account_id("inv-1")
WAIT_S = 10


class GatedStore(SqliteStore):
    """A SQLite store whose writes wait until ``gate`` is set; records each group's heights."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.writing = threading.Event()
        self.groups: list[list[int]] = []

    def commit_blocks(self, blocks: Sequence[BlockRecord]) -> None:
        self.writing.set()
        if not self.gate.wait(WAIT_S):
            raise AssertionError("the gate was never opened")
        super().commit_blocks(blocks)
        self.groups.append([block.height for block in blocks])


def gated_node(tmp_path: Path, config: NodeConfig | None = None) -> tuple[Node, GatedStore]:
    """A node with the market set up, reopened over a gated store (gate open)."""
    node = new_node(tmp_path)
    market(node)
    node.store.close()
    store = GatedStore(tmp_path / "ledger.db")
    store.gate.set()
    opened = open_node(tmp_path)
    opened.store.close()
    return Node(store, key_of("node"), config, clock_ms=Clock()), store


def node_with_writer_process(tmp_path: Path, block_txs_max: int) -> Node:
    """A started node over the market, writing from a writer process."""
    node = new_node(tmp_path)
    market(node)
    node.stop()
    node.store.close()
    config = NodeConfig(block_txs_max=block_txs_max, block_wait_ms=1, write_process=True)
    node = open_node(tmp_path, config)
    node.start()
    return node


def wait_for_failure(node: Node) -> None:
    """Wait (up to 5 s) until the node has recorded why it stopped."""
    for _ in range(500):
        if node._write_failure is not None:
            return
        threading.Event().wait(0.01)


def transfers(node: Node, count: int, nonce_from: int = 0) -> list[bytes]:
    return [
        build_envelope(
            "rantai-test", "inv-0", nonce_from + i, key_of("inv-0"), Transfer(A, B, "BOND1", 1, "")
        )
        for i in range(count)
    ]


def test_the_next_block_executes_while_one_is_written_and_nothing_shows_early(
    tmp_path: Path,
) -> None:
    node, store = gated_node(tmp_path, NodeConfig(block_txs_max=5, block_wait_ms=1))
    heard: list[int] = []
    node.subscribe(lambda block: heard.append(block.outcome.header.height))
    head = node.ledger.head
    assert head is not None
    before_b = node.ledger.values[balance_key(B, "BOND1")]
    store.gate.clear()
    store.writing.clear()
    node.start()
    try:
        admitted = node.submit(transfers(node, 20))
        ids = [a.tx_id for a in admitted if a.tx_id is not None]
        assert store.writing.wait(WAIT_S)
        # The first block is being written; the executor goes on to the next ones.
        deadline = threading.Event()
        for _ in range(200):
            if node.ledger.staged_count >= 2:
                break
            deadline.wait(0.01)
        ledger = node.ledger
        assert ledger.tip is not None and ledger.tip.height >= head.height + 2
        # Readers see the durable head only: values, head, receipts, subscribers.
        assert ledger.head == head
        assert ledger.values[balance_key(B, "BOND1")] == before_b
        assert all(node.receipt(tx_id) is None for tx_id in ids)
        assert heard == []
        assert store.head_height() == head.height
        # A proof-carrying read answers at the tip, and only once the tip is durable.
        answers = []
        reading = threading.Thread(
            target=lambda: answers.append(Reader(node).state(balance_key(B, "BOND1")))
        )
        reading.start()
        reading.join(0.2)
        assert reading.is_alive() and not answers
        store.gate.set()
        reading.join(WAIT_S)
        (answer,) = answers
        assert answer is not None and node.ledger.head is not None
        assert answer.height <= node.ledger.head.height
        assert verify_state_value(answer.header, answer.key, answer.value, answer.proof)
        found = node.wait(ids, timeout_s=WAIT_S)
    finally:
        node.stop()
    assert [found[i][1].code for i in ids] == [codes.OK] * 20
    assert node.ledger.values[balance_key(B, "BOND1")] == before_b + 20
    # The blocks queued behind the first write went to the store together, in order.
    heights = [h for group in store.groups for h in group]
    assert heights == list(range(head.height + 1, head.height + 5))
    assert any(len(group) > 1 for group in store.groups)
    assert heard == heights
    assert node.ledger.staged_count == 0 and node.ledger.tip == node.ledger.head
    store.close()
    assert audit(SqliteStore(tmp_path / "ledger.db")).ok


def test_the_executor_waits_when_staged_blocks_max_are_queued(tmp_path: Path) -> None:
    config = NodeConfig(block_txs_max=1, block_wait_ms=1, staged_blocks_max=2)
    node, store = gated_node(tmp_path, config)
    store.gate.clear()
    node.start()
    try:
        node.submit(transfers(node, 10))
        assert store.writing.wait(WAIT_S)
        threading.Event().wait(0.3)
        # Two blocks staged (in the store's hands or queued) and the executor holding the
        # next batch, waiting for room: nothing executed past them.
        assert node.ledger.staged_count == config.staged_blocks_max
        assert node.pending_count == 10 - config.staged_blocks_max - 1
        store.gate.set()
        for _ in range(500):
            if node.pending_count == 0 and node.ledger.staged_count == 0:
                break
            threading.Event().wait(0.01)
    finally:
        node.stop()
    assert node.ledger.values[balance_key(B, "BOND1")] == 1_000_010
    store.close()


def test_a_failed_write_stops_the_node_and_a_restart_has_every_durable_block(
    tmp_path: Path,
) -> None:
    node = new_node(tmp_path)
    market(node)
    durable = node.ledger.head
    assert durable is not None
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON state_log"
            f" WHEN NEW.key = '{balance_key(B, 'BOND1')}'"
            " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    node.submit(transfers(node, 3))
    with pytest.raises(Exception, match="disk on fire"):
        node.produce_block()
    # The executed block never became visible, and the node takes no more blocks.
    assert node.ledger.head == durable
    assert node.ledger.values[balance_key(B, "BOND1")] == 1_000_000
    node.submit(transfers(node, 1, nonce_from=3))
    with pytest.raises(InvariantError, match="could not be written"):
        node.produce_block()
    node.stop()
    node.store.close()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("DROP TRIGGER refuse")
    again = open_node(tmp_path)
    assert again.ledger.head == durable
    assert again.ledger.values[balance_key(B, "BOND1")] == 1_000_000
    assert send(again, [("inv-0", Transfer(A, B, "BOND1", 7, "after restart"))]) == [codes.OK]
    assert again.ledger.values[balance_key(B, "BOND1")] == 1_000_007
    again.store.close()


def test_staged_blocks_applied_later_equal_blocks_applied_at_once(tmp_path: Path) -> None:
    """A key created, deleted and created again across staged blocks, read through pending
    changes, gives the same headers and state as executing each block after the last."""
    node = new_node(tmp_path)
    market(node)
    node.store.close()
    blocks = [
        [Transfer(A, B, "BOND1", 1_000_000, "all of A")],  # A's balance key goes
        [Transfer(B, A, "BOND1", 5, "back")],  # and comes back
        [Transfer(A, B, "BOND1", 5, "all again"), Transfer(B, A, "BOND1", 1, "one")],
    ]

    def signed() -> list[list[SignedTx]]:
        nonces = {"inv-0": 0, "inv-1": 0}
        out = []
        for bodies in blocks:
            txs = []
            for body in bodies:
                who = "inv-0" if body.source == A else "inv-1"
                raw = build_envelope("rantai-test", who, nonces[who], key_of(who), body)
                nonces[who] += 1
                txs.append(check_envelope(raw, "rantai-test"))
            out.append(txs)
        return out

    def load() -> Ledger:
        store = SqliteStore(tmp_path / "ledger.db")
        head = store.head_height()
        assert head is not None
        stored = store.get_header(head)
        assert stored is not None
        ledger = Ledger.load(store.iter_state(), decode(stored[1], Header))
        store.close()
        return ledger

    at_once, staged = load(), load()
    assert at_once.head is not None
    ts = at_once.head.timestamp_ms + 1_000
    one_by_one = [at_once.execute_block(txs, ts) for txs in signed()]
    pipelined = [staged.stage_block(txs, ts) for txs in signed()]
    assert staged.staged_count == 3 and staged.head != staged.tip
    assert staged.tip_get(balance_key(A, "BOND1")) == 1
    # Encoded at tip: a staged change, a value no staged block touched, an absent key.
    assert staged.tip_raw(balance_key(A, "BOND1")) == encode(1)
    assert staged.tip_raw(CHAIN_KEY) == staged.values.raw(CHAIN_KEY) is not None
    assert staged.tip_raw("bal/nobody:main/BOND1") is None
    for _ in pipelined:
        staged.apply_staged()
    assert [o.header for o in pipelined] == [o.header for o in one_by_one]
    assert [o.changes for o in pipelined] == [o.changes for o in one_by_one]
    assert [r.code for o in pipelined for r in o.receipts] == [codes.OK] * 4
    assert staged.values == at_once.values
    assert staged.tree.root == at_once.tree.root
    assert staged.head == staged.tip == at_once.head
    assert list(staged.index.accounts_holding("BOND1")) == list(
        at_once.index.accounts_holding("BOND1")
    )
    with pytest.raises(InvariantError):
        staged.apply_staged()


def test_subscribers_hear_each_block_once_in_order_with_its_state_applied(
    tmp_path: Path,
) -> None:
    node, store = gated_node(tmp_path, NodeConfig(block_txs_max=3, block_wait_ms=1))
    seen: list[tuple[int, int]] = []

    def listener(block: CommittedBlock) -> None:
        head = node.ledger.head
        assert head is not None
        seen.append((block.outcome.header.height, head.height))

    node.subscribe(listener)
    store.gate.clear()
    node.start()
    try:
        ids = [a.tx_id for a in node.submit(transfers(node, 12)) if a.tx_id]
        assert store.writing.wait(WAIT_S)
        threading.Event().wait(0.1)
        store.gate.set()
        assert len(node.wait(ids, timeout_s=WAIT_S)) == 12
    finally:
        node.stop()
    assert [h for h, _ in seen] == sorted({h for h, _ in seen})
    assert all(height == head for height, head in seen)
    store.close()


def test_a_writer_process_commits_what_the_node_executes(tmp_path: Path) -> None:
    node = node_with_writer_process(tmp_path, block_txs_max=7)
    try:
        ids = [a.tx_id for a in node.submit(transfers(node, 40)) if a.tx_id]
        found = node.wait(ids, timeout_s=WAIT_S)
        assert [found[i][1].code for i in ids] == [codes.OK] * 40
        head = node.ledger.head
        assert head is not None and node.store.head_height() == head.height
    finally:
        node.stop()
    node.store.close()
    again = open_node(tmp_path)
    assert again.ledger.head == head
    assert again.ledger.values[balance_key(B, "BOND1")] == 1_000_040
    assert audit(again.store).ok
    again.store.close()


def test_a_writer_process_that_dies_stops_the_node(tmp_path: Path) -> None:
    node = node_with_writer_process(tmp_path, block_txs_max=5)
    try:
        durable = node.ledger.head
        process = node._writer_process
        assert process is not None
        process._process.kill()
        process._process.wait()
        node.submit(transfers(node, 5))
        wait_for_failure(node)
        assert isinstance(node._write_failure, StoreError)
        assert node.ledger.head == durable
        with pytest.raises(InvariantError, match="could not be written"):
            node.produce_block()
    finally:
        node.stop()
    node.store.close()


def test_a_subscriber_that_raises_stops_the_node_with_the_reason(tmp_path: Path) -> None:
    node = new_node(tmp_path, config=NodeConfig(block_txs_max=5, block_wait_ms=1))
    market(node)

    def broken(block: CommittedBlock) -> None:
        raise RuntimeError("listener bug")

    node.subscribe(broken)
    node.start()
    try:
        node.submit(transfers(node, 5))
        wait_for_failure(node)
        assert isinstance(node._write_failure, RuntimeError)
        with pytest.raises(InvariantError, match="could not be written"):
            node.produce_block()
    finally:
        node.stop()
    node.store.close()


@pytest.mark.postgres
def test_a_writer_process_commits_to_postgresql(tmp_path: Path, postgres_dsn: str) -> None:
    node = new_node(tmp_path, store=postgres_dsn)
    market(node)
    node.stop()
    node.store.close()
    node = open_node(tmp_path, NodeConfig(block_txs_max=6, block_wait_ms=1, write_process=True))
    node.start()
    try:
        ids = [a.tx_id for a in node.submit(transfers(node, 30)) if a.tx_id]
        found = node.wait(ids, timeout_s=WAIT_S)
        assert [found[i][1].code for i in ids] == [codes.OK] * 30
    finally:
        node.stop()
    report = audit(node.store)
    assert report.ok, report.failure
    assert report.state_root == node.ledger.tree.root
    node.store.close()

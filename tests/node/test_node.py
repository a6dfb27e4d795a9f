"""The node over a real store: blocks, receipts, restart, and proofs at any height."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

import pytest
from tests.node.harness import market, new_node, send
from tests.support import key_of

from rantai.core import codes
from rantai.core.block import Header, Receipt
from rantai.core.encoding import decode, encode
from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.core.proofs import verify_receipt, verify_state_value, verify_tx
from rantai.core.records import balance_key
from rantai.node.audit import audit
from rantai.node.datadir import open_node
from rantai.node.node import NodeConfig
from rantai.node.reads import Reader

A, B = account_id("inv-0"), account_id("inv-1")


def test_blocks_commit_and_survive_restart(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    market(node)
    assert send(node, [("inv-0", Transfer(A, B, "BOND1", 250, "x"))]) == [codes.OK]
    head = node.ledger.head
    root = node.ledger.tree.root
    node.stop()
    node.store.close()

    again = open_node(tmp_path)
    assert again.ledger.head == head
    assert again.ledger.tree.root == root
    assert again.ledger.values[balance_key(B, "BOND1")] == 1_000_250
    assert audit(again.store).ok
    again.store.close()


def test_restart_refuses_state_that_does_not_match_the_header(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    market(node)
    node.store.close()
    import sqlite3

    from rantai.store.sqlite import SqliteStore

    with closing(SqliteStore(tmp_path / "ledger.db")) as store:
        store.fold()  # every block's changes in the derived state file, to tamper with there
    with sqlite3.connect(tmp_path / "ledger.state.db") as db:
        changed = db.execute(
            "UPDATE state SET value = ? WHERE key = ?", (encode(7), balance_key(A, "BOND1"))
        )
        assert changed.rowcount == 1
    from rantai.core.errors import InvariantError

    with pytest.raises(InvariantError, match="state root"):
        open_node(tmp_path)


def test_receipts_for_rejected_and_accepted(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    market(node)
    got = send(
        node,
        [
            ("inv-0", Transfer(A, B, "BOND1", 10**9, "too much")),
            ("inv-0", Transfer(A, B, "BOND1", 1, "fine")),
        ],
    )
    assert got == [codes.INSUFFICIENT_BALANCE, codes.OK]


def test_stale_nonce_refused_at_admission(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    market(node)
    from rantai.core.tx import build_envelope

    raw = build_envelope("rantai-test", "inv-0", 0, key_of("inv-0"), Transfer(A, B, "BOND1", 1, ""))
    assert node.submit([raw])[0].code == codes.OK
    node.produce_block()
    assert node.submit([raw])[0].code == codes.BAD_NONCE
    assert node.pending_count == 0


def test_block_cut_at_block_txs_max(tmp_path: Path) -> None:
    node = new_node(tmp_path, config=NodeConfig(block_txs_max=7))
    market(node)
    before = node.ledger.next_height
    send(node, [("inv-0", Transfer(A, B, "BOND1", 1, "")) for _ in range(20)])
    sizes = [node.store.get_block(h).txs.__len__() for h in range(before, node.ledger.next_height)]
    assert sizes == [7, 7, 6]


def test_background_executor_cuts_on_wait(tmp_path: Path) -> None:
    node = new_node(tmp_path, config=NodeConfig(block_txs_max=1000, block_wait_ms=20))
    market(node)
    node.start()
    try:
        from rantai.core.tx import build_envelope

        raw = build_envelope(
            "rantai-test", "inv-0", 0, key_of("inv-0"), Transfer(A, B, "BOND1", 5, "")
        )
        (admitted,) = node.submit([raw])
        got = node.wait([admitted.tx_id], timeout_s=10)
        assert got[admitted.tx_id][1].code == codes.OK
    finally:
        node.stop()


def test_wait_finds_receipts_that_left_the_recent_ones(tmp_path: Path) -> None:
    """Four recent receipts kept, thirty transfers in blocks of three: most receipts come
    from the store, and the wait still ends as soon as all have committed."""
    from rantai.core.tx import build_envelope

    config = NodeConfig(block_txs_max=3, block_wait_ms=5, recent_receipts_max=4)
    node = new_node(tmp_path, config=config)
    market(node)
    node.start()
    try:
        raws = [
            build_envelope(
                "rantai-test", "inv-0", n, key_of("inv-0"), Transfer(A, B, "BOND1", 1, "")
            )
            for n in range(30)
        ]
        ids = [a.tx_id for a in node.submit(raws) if a.tx_id is not None]
        started = time.monotonic()
        found = node.wait(ids, timeout_s=60)
        assert time.monotonic() - started < 30  # not by the timeout's last look
        assert [found[i][1].code for i in ids] == [codes.OK] * 30
        assert len({found[i][0] for i in ids}) == 10  # ten blocks
    finally:
        node.stop()


def test_proofs_at_head_and_past_heights(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    market(node)
    reader = Reader(node)
    record_date = node.ledger.head.height
    send(node, [("inv-0", Transfer(A, B, "BOND1", 1_000_000, "all of it"))])
    head = node.ledger.head.height

    now_a = reader.state(balance_key(A, "BOND1"))
    assert now_a.value is None and now_a.height == head  # zero: absent, proven so
    assert verify_state_value(now_a.header, now_a.key, None, now_a.proof)
    assert not verify_state_value(now_a.header, now_a.key, encode(1_000_000), now_a.proof)

    then_a = reader.state(balance_key(A, "BOND1"), record_date)
    assert decode(then_a.value, int) == 1_000_000
    assert then_a.header.height == record_date
    assert verify_state_value(then_a.header, then_a.key, then_a.value, then_a.proof)
    assert not verify_state_value(now_a.header, then_a.key, then_a.value, then_a.proof)

    then_b = reader.state(balance_key(B, "BOND1"), record_date)
    assert verify_state_value(then_b.header, then_b.key, encode(1_000_000), then_b.proof)
    assert reader.state(balance_key(A, "BOND1"), head + 5) is None


def test_tx_and_receipt_proofs(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    market(node)
    from rantai.core.tx import build_envelope

    raws = [
        build_envelope("rantai-test", "inv-0", n, key_of("inv-0"), Transfer(A, B, "BOND1", 1, ""))
        for n in range(5)
    ]
    admitted = node.submit(raws)
    node.produce_block()
    reader = Reader(node)
    for a in admitted:
        answer = reader.tx(a.tx_id)
        assert verify_tx(answer.header, answer.envelope, answer.index, answer.tx_path)
        assert verify_receipt(answer.header, answer.receipt, answer.index, answer.receipt_path)
        assert decode(answer.receipt, Receipt).code == codes.OK
        assert not verify_tx(answer.header, answer.envelope + b"\x00", answer.index, answer.tx_path)
        assert isinstance(answer.header, Header)

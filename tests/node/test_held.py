"""Envelopes admitted ahead of their sender's next nonce wait for their predecessors."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from tests.node.harness import market, new_node
from tests.support import key_of

from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.core.records import balance_key
from rantai.core.tx import build_envelope, check_envelope
from rantai.node.held import HeldTxs
from rantai.node.node import Node, NodeConfig

A, B = account_id("inv-0"), account_id("inv-1")


def envelope(nonce: int, sender: str = "inv-0") -> bytes:
    source, destination = (A, B) if sender == "inv-0" else (B, A)
    body = Transfer(source, destination, "BOND1", 1, f"n{nonce}")
    return build_envelope("rantai-test", sender, nonce, key_of(sender), body)


def receipts(node: Node, raws: list[bytes]) -> list[str]:
    ids = [check_envelope(raw, "rantai-test").tx_id for raw in raws]
    found = node.wait(ids, timeout_s=10)
    return [found[i][1].code if i in found else "missing" for i in ids]


def test_held_transactions_are_taken_by_nonce_and_expire_oldest_first() -> None:
    held = HeldTxs(wait_s=1.0, txs_max=3)
    txs = [check_envelope(envelope(n), "rantai-test") for n in (5, 3, 4, 6)]
    assert held.hold(txs[0], now_s=0.0) and held.hold(txs[1], now_s=0.5)
    assert not held.hold(txs[1], now_s=0.6)  # that nonce is held already
    assert held.hold(txs[2], now_s=0.7)
    assert not held.hold(txs[3], now_s=0.8)  # full
    assert len(held) == 3
    assert held.take("inv-0", 4) is txs[2] and held.take("inv-0", 4) is None
    assert held.expired(now_s=0.9, limit=10) == []
    assert held.expired(now_s=1.6, limit=10) == [txs[0], txs[1]]
    assert len(held) == 0 and held.next_deadline() is None


def test_a_later_nonce_admitted_first_waits_for_the_earlier_one(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    market(node)
    node.submit([envelope(1)])
    assert node.produce_block() is None  # held: nothing to order yet
    node.submit([envelope(0)])
    node.produce_block()
    assert receipts(node, [envelope(0), envelope(1)]) == [codes.OK, codes.OK]
    assert node.pending_count == 0


def test_a_gap_that_never_fills_ends_in_bad_nonce_and_the_nonce_stays_free(
    tmp_path: Path,
) -> None:
    node = new_node(tmp_path, config=NodeConfig(nonce_gap_wait_ms=100))
    market(node)
    node.submit([envelope(1)])
    assert node.produce_block() is None
    time.sleep(0.15)
    node.produce_block()
    assert receipts(node, [envelope(1)]) == [codes.BAD_NONCE]
    node.submit([envelope(0), envelope(1)])
    node.produce_block()
    assert receipts(node, [envelope(0), envelope(1)]) == [codes.OK, codes.OK]


def test_held_successors_that_do_not_fit_go_first_into_the_next_block(tmp_path: Path) -> None:
    node = new_node(tmp_path, config=NodeConfig(block_txs_max=2))
    market(node)
    node.submit([envelope(n) for n in (3, 2, 1)])
    node.submit([envelope(0, "inv-1")])
    node.submit([envelope(0)])
    first = node.produce_block()
    second = node.produce_block()
    assert first is not None and second is not None
    assert [r.code for r in first.receipts + second.receipts] == [codes.OK] * 4
    # Both nonces 0 fill the first block; the held 1 and 2 come first in the second, and 3,
    # which did not fit, in the third.
    third = node.produce_block()
    assert third is not None
    order = [(o.header.height, r.tx_id) for o in (first, second, third) for r in o.receipts]
    ids = {check_envelope(envelope(n), "rantai-test").tx_id: n for n in range(4)}
    assert [ids[t] for _, t in order if t in ids] == [0, 1, 2, 3]
    assert node.pending_count == 0


def test_pipelined_submissions_from_many_threads_all_commit(tmp_path: Path) -> None:
    node = new_node(tmp_path, config=NodeConfig(block_txs_max=7, block_wait_ms=1))
    market(node)
    raws = [envelope(n) for n in range(60)]
    chunks = [raws[i : i + 5] for i in range(0, 60, 5)]
    random.Random(7).shuffle(chunks)
    node.start()
    try:
        threads = [
            threading.Thread(target=lambda part=chunks[i::4]: [node.submit(c) for c in part])
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert receipts(node, raws) == [codes.OK] * 60
    finally:
        node.stop()
    assert node.ledger.values[balance_key(B, "BOND1")] == 1_000_060

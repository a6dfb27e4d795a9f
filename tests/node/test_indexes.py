"""The node's listings indexes stay equal to a rebuild from state, block after block and
across a restart; subscribers hear of every block, in order."""

from __future__ import annotations

import random
from pathlib import Path

from tests.node.harness import market, new_node, send

from rantai.core.encoding import decode, encode
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import Burn, CreateInstrument, Mint
from rantai.core.kinds.parties import OpenAccount
from rantai.core.kinds.transfers import Transfer
from rantai.core.tx import TxBody
from rantai.node.datadir import open_node
from rantai.node.indexes import Indexes
from rantai.node.node import CommittedBlock, Node
from rantai.node.reads import Reader


def _as_plain(indexes: Indexes) -> tuple[object, ...]:
    return (list(indexes.parties), list(indexes.instruments))


def _positions(node: Node) -> dict[str, tuple[str, ...]]:
    """account -> the codes the reader lists for it, for every account that holds one."""
    reader = Reader(node)
    listed = {}
    for key in node.ledger.values:
        if key.startswith("account/"):
            account = key[len("account/") :]
            page = reader.positions(account, None, 100, lambda _: True)
            if page.items:
                listed[account] = tuple(code for code, _ in page.items)
    return listed


def _positions_in_state(node: Node) -> dict[str, tuple[str, ...]]:
    """account -> sorted codes of its non-zero balances, read from every key of the state."""
    held: dict[str, list[str]] = {}
    for key in node.ledger.values:
        if key.startswith("bal/"):
            account, code = key[len("bal/") :].split("/")
            held.setdefault(account, []).append(code)
    return {account: tuple(sorted(codes)) for account, codes in held.items()}


def _holders(node: Node, code: str) -> list[str]:
    return list(node.ledger.index.holders(code) or ())


def _random_block(node: Node, rng: random.Random, names: list[str]) -> list[tuple[str, TxBody]]:
    items: list[tuple[str, TxBody]] = []
    for _ in range(rng.randrange(1, 8)):
        a, b = rng.sample(names, 2)
        choice = rng.random()
        if choice < 0.5:
            items.append(
                (
                    a,
                    Transfer(
                        account_id(a), account_id(b), "BOND1", rng.randrange(1, 3_000_000), ""
                    ),
                )
            )
        elif choice < 0.7:
            items.append(("issuer", Mint("BOND1", account_id(b), rng.randrange(1, 1_000), "")))
        else:
            items.append((a, Burn("BOND1", account_id(a), rng.randrange(1, 2_000_000), "")))
    return items


def test_indexes_equal_a_rebuild_after_every_block_and_a_restart(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    names = market(node, investors=5)
    send(node, [("issuer", CreateInstrument("BOND9", "bond", "Nine", 0, 10**9))])
    send(node, [(names[0], OpenAccount("spare", "own"))])
    rng = random.Random(7)
    for _ in range(15):
        send(node, _random_block(node, rng, names))
        assert _as_plain(node.indexes) == _as_plain(Indexes.build(node.ledger.values))
        assert _positions(node) == _positions_in_state(node)
        holding = sorted(a for a, codes in _positions_in_state(node).items() if "BOND1" in codes)
        assert _holders(node, "BOND1") == holding
    emptied = [a for a in (account_id(n) for n in names) if a not in _positions(node)]
    before = _as_plain(node.indexes)
    node.stop()
    node.store.close()
    again = open_node(tmp_path)
    try:
        assert _as_plain(again.indexes) == before
        assert "BOND9" in again.indexes.instruments and not _holders(again, "BOND9")
        assert _holders(again, "BOND1") == _holders(node, "BOND1")
        assert _positions(again) == _positions_in_state(again)
        assert all(a not in _positions(again) for a in emptied)
    finally:
        again.stop()
        again.store.close()


def test_holders_at_past_heights_match_state_at_that_height(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    names = market(node, investors=4)
    rng = random.Random(11)
    for _ in range(6):
        send(node, _random_block(node, rng, names))
    reader = Reader(node)
    head = node.ledger.head
    assert head is not None
    try:
        for height in range(head.height + 1):
            expected = sorted(
                (key.split("/")[1], decode(raw, int))
                for key, raw in node.store.iter_state_at(height)
                if key.startswith("bal/") and key.endswith("/BOND1")
            )
            page = reader.holders("BOND1", None, 1_000, height)
            assert page is not None and page.height == height
            assert page.items == expected
            for account, amount in page.items:
                answer = reader.state(f"bal/{account}/BOND1", height)
                assert answer is not None and answer.value == encode(amount)
    finally:
        node.stop()
        node.store.close()


def test_subscribers_hear_of_every_block_in_order(tmp_path: Path) -> None:
    node = new_node(tmp_path)
    heard: list[CommittedBlock] = []
    unsubscribe = node.subscribe(heard.append)
    try:
        market(node, investors=2)
        heights = [b.outcome.header.height for b in heard]
        assert heights == list(range(1, len(heights) + 1))
        assert all(b.certificate and b.commit_s >= 0 for b in heard)
        unsubscribe()
        send(node, [("inv-0", Transfer(account_id("inv-0"), account_id("inv-1"), "BOND1", 1, ""))])
        assert len(heard) == len(heights)
    finally:
        node.stop()
        node.store.close()

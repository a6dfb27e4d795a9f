"""Nodes on real stores for tests: deterministic keys, a market, helpers to send and wait."""

from __future__ import annotations

from pathlib import Path

from tests.support import GENESIS_MS, key_of

from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import RegisterParty
from rantai.core.records import nonce_key
from rantai.core.tx import TxBody, build_envelope
from rantai.node.datadir import init_chain
from rantai.node.node import Node, NodeConfig


class Clock:
    """A clock the test moves: one second per reading."""

    def __init__(self) -> None:
        self.now_ms = GENESIS_MS

    def __call__(self) -> int:
        self.now_ms += 1_000
        return self.now_ms


def new_node(data: Path, store: str | None = None, config: NodeConfig | None = None) -> Node:
    return init_chain(
        data, "rantai-test", store_target=store, clock_ms=Clock(), config=config, make_key=key_of
    )


def send(node: Node, items: list[tuple[str, TxBody]]) -> list[str]:
    """Sign, submit, produce blocks until done; the receipt codes in order."""
    return [r.code for r in send_receipts(node, items)]


def send_receipts(node: Node, items: list[tuple[str, TxBody]]) -> list[Receipt]:
    """Sign, submit, produce blocks until done; the receipts in order."""
    chain = node.ledger.chain
    assert chain is not None
    nonces: dict[str, int] = {}
    raws = []
    for sender, body in items:
        nonce = nonces.get(sender, node.ledger.values.get(nonce_key(sender), 0))
        nonces[sender] = nonce + 1
        raws.append(build_envelope(chain.chain_id, sender, nonce, key_of(sender), body))
    admitted = node.submit(raws)
    assert all(a.code == codes.OK for a in admitted), admitted
    while node.pending_count:
        node.produce_block()
    found = node.wait([a.tx_id for a in admitted if a.tx_id], timeout_s=10)
    return [found[a.tx_id][1] for a in admitted if a.tx_id]


def market(node: Node, investors: int = 3, minted: int = 1_000_000) -> list[str]:
    names = [f"inv-{i}" for i in range(investors)]
    register = [
        ("registrar", RegisterParty(p, "person", p, (key_of(p).public_key,), ("investor",)))
        for p in names
    ]
    register.append(
        (
            "registrar",
            RegisterParty(
                "issuer", "organisation", "Issuer", (key_of("issuer").public_key,), ("issuer",)
            ),
        )
    )
    assert set(send(node, register)) == {codes.OK}
    assert send(node, [("issuer", CreateInstrument("BOND1", "bond", "Bond", 2, 10**15))]) == [
        codes.OK
    ]
    mints: list[tuple[str, TxBody]] = [
        ("issuer", Mint("BOND1", account_id(p), minted, "")) for p in names
    ]
    assert set(send(node, mints)) <= {codes.OK}
    return names

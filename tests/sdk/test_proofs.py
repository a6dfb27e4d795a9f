"""Proofs the client checks: real proofs from a real node verify; one flipped byte does not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from tests.node.harness import send
from tests.sdk.conftest import ClientFactory
from tests.sdk.fake import FakeApi, balance_json

from rantai import sdk
from rantai.core.encoding import encode
from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.node.node import Node

A, B = account_id("inv-0"), account_id("inv-1")


def _flip(text: str, at: int = 0) -> str:
    """One byte of a hex string, changed."""
    raw = bytearray.fromhex(text)
    raw[at] ^= 0x01
    return raw.hex()


def _when(route: str, change: Callable[[Any], None]) -> Callable[[str, Any], Any]:
    def tamper(name: str, body: Any) -> Any:
        if name != route:
            return body
        body = copy.deepcopy(body)
        change(body)
        return body

    return tamper


def test_a_real_balance_proof_verifies(client_for: ClientFactory, node: Node) -> None:
    balance = client_for("inv-0").balance(A, "BOND1")
    assert balance.amount == 1_000_000
    assert node.ledger.head is not None
    assert balance.height == node.ledger.head.height
    assert balance.header.header == node.ledger.head


def test_a_zero_balance_is_proven_absent(client_for: ClientFactory, fake: FakeApi) -> None:
    client = client_for("inv-0")
    assert client.balance(A, "NOSUCH").amount == 0
    fake.tamper = _when("balance", lambda b: b.update(amount=1, value=encode(1).hex()))
    with pytest.raises(sdk.ProofError, match="does not lead to the state root"):
        client.balance(A, "NOSUCH")


def test_a_past_balance_is_proven_at_its_height(client_for: ClientFactory, node: Node) -> None:
    before = node.ledger.head
    assert before is not None
    assert send(node, [("inv-0", Transfer(A, B, "BOND1", 400, ""))]) == ["ok"]
    client = client_for("inv-0")
    assert client.balance(A, "BOND1").amount == 1_000_000 - 400
    past = client.balance(A, "BOND1", height=before.height)
    assert (past.amount, past.height) == (1_000_000, before.height)


def _first_sibling(body: Any) -> None:
    siblings = body["proof"]["siblings"]
    at = next(i for i, s in enumerate(siblings) if s)
    siblings[at] = _flip(siblings[at])


BALANCE_TAMPERING: dict[str, Callable[[Any], None]] = {
    "a flipped byte in a sibling": _first_sibling,
    "a flipped byte in the leaf": lambda b: b["proof"].update(
        leaf_value_digest=_flip(b["proof"]["leaf_value_digest"])
    ),
    "another amount": lambda b: b.update(amount=b["amount"] + 1, value=None),
    "a value that is not the amount": lambda b: b.update(value="cd0001"),
    "a flipped byte in the state root": lambda b: b["header"]["header"].update(
        state_root=_flip(b["header"]["header"]["state_root"])
    ),
    "a header hash that is not the header's": lambda b: b["header"].update(
        hash=_flip(b["header"]["hash"])
    ),
    "a flipped byte in the certificate": lambda b: b["header"]["certificate"][0].update(
        signature=_flip(b["header"]["certificate"][0]["signature"])
    ),
    "another account": lambda b: b.update(account="inv-1:main"),
    "another height": lambda b: b.update(height=b["height"] - 1),
}


@pytest.mark.parametrize("how", sorted(BALANCE_TAMPERING))
def test_a_tampered_balance_is_refused(client_for: ClientFactory, fake: FakeApi, how: str) -> None:
    client = client_for("inv-0")
    client.balance(A, "BOND1")  # the honest answer verifies
    fake.tamper = _when("balance", BALANCE_TAMPERING[how])
    with pytest.raises(sdk.ProofError):
        client.balance(A, "BOND1")


def test_a_balance_at_another_height_than_asked_is_refused(
    client_for: ClientFactory, fake: FakeApi, node: Node
) -> None:
    client = client_for("inv-0")
    head = node.ledger.head
    assert head is not None
    send(node, [("inv-0", Transfer(A, B, "BOND1", 1, ""))])
    # A proof that verifies, but at the head rather than at the height asked for.
    fake.tamper = _when("balance", lambda b: b.update(balance_json(node, A, "BOND1", None)))
    with pytest.raises(sdk.ProofError, match="asked for height"):
        client.balance(A, "BOND1", height=head.height)


def _committed(client: sdk.Client, node: Node) -> bytes:
    done = client.submit(sdk.transfer(A, B, "BOND1", 5), wait=True)
    assert done.ok and done.tx_id is not None
    return done.tx_id


def test_a_real_transaction_verifies(client_for: ClientFactory, node: Node) -> None:
    client = client_for("inv-0")
    tx_id = _committed(client, node)
    tx = client.transaction(tx_id)
    assert tx is not None
    assert tx.tx_id == tx_id and tx.sender == "inv-0"
    assert tx.receipt.code == "ok"
    assert tx.header.height == tx.height


TX_TAMPERING: dict[str, Callable[[Any], None]] = {
    "a flipped byte in the tx proof": lambda b: (
        b["tx_proof"].__setitem__(0, _flip(b["tx_proof"][0]))
        if b["tx_proof"]
        else b["header"]["header"].update(txs_root=_flip(b["header"]["header"]["txs_root"]))
    ),
    "a flipped byte in the txs root": lambda b: b["header"]["header"].update(
        txs_root=_flip(b["header"]["header"]["txs_root"])
    ),
    "a flipped byte in the receipts root": lambda b: b["header"]["header"].update(
        receipts_root=_flip(b["header"]["header"]["receipts_root"])
    ),
    "another receipt code": lambda b: b["receipt"].update(code="insufficient_balance"),
    "another event amount": lambda b: b["receipt"]["events"][0]["attrs"].update(amount=6),
    "a flipped byte in the envelope": lambda b: b.update(envelope=_flip(b["envelope"], 10)),
    "another index": lambda b: b.update(index=b["index"] + 1),
}


@pytest.mark.parametrize("how", sorted(TX_TAMPERING))
def test_a_tampered_transaction_is_refused(
    client_for: ClientFactory, fake: FakeApi, node: Node, how: str
) -> None:
    client = client_for("inv-0")
    tx_id = _committed(client, node)
    fake.tamper = _when("transaction", TX_TAMPERING[how])
    with pytest.raises(sdk.ProofError):
        client.transaction(tx_id)


def test_a_tampered_receipt_proof_is_refused(
    client_for: ClientFactory, fake: FakeApi, node: Node
) -> None:
    client = client_for("inv-0")
    ids = [s.tx_id for s in client.submit([sdk.transfer(A, B, "BOND1", n) for n in (1, 2, 3)])]
    while node.pending_count:
        node.produce_block()
    tx_id = ids[1]
    assert tx_id is not None
    assert client.transaction(tx_id) is not None

    def change(body: Any) -> None:
        assert body["receipt_proof"], "three transactions in a block give a non-empty path"
        body["receipt_proof"][0] = _flip(body["receipt_proof"][0])

    fake.tamper = _when("transaction", change)
    with pytest.raises(sdk.ProofError, match="receipt"):
        client.transaction(tx_id)

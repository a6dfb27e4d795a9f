"""Lifecycle reads over HTTP, through the SDK: a bond's schedule after its first coupon, the
record date it paid on, the distribution's totals, a ballot's tally, and None (404) for what
does not exist."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from tests.api.support import signed_headers
from tests.core.lifecycle_market import at
from tests.node.harness import Clock, send
from tests.support import key_of

from rantai import sdk
from rantai.api.app import create_app
from rantai.core import codes
from rantai.core.encoding import encode
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.lifecycle import CastVote, OpenBallot, TakeRecord
from rantai.core.kinds.parties import GrantRole, RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.node.datadir import init_chain
from rantai.node.node import Node
from rantai.sdk._verify import holdings_from_json

pytestmark = pytest.mark.anyio

BOND = "MGS-2029"


def register(node: Node, party: str) -> None:
    body = RegisterParty(party, "organisation", party, (key_of(party).public_key,), ())
    assert send(node, [("registrar", body)]) == [codes.OK]


@pytest.fixture
def bond_chain(tmp_path: Path) -> Node:
    clock = Clock()
    node = init_chain(tmp_path / "chain", "rantai-test", clock_ms=clock, make_key=key_of)
    for party in ("issuer", "bank", "inv-0", "inv-1"):
        register(node, party)
    assert send(
        node,
        [("registrar", GrantRole("issuer", "issuer")), ("BNM", GrantRole("bank", "cash_issuer"))],
    ) == [codes.OK, codes.OK]
    terms = sdk.bond_terms(
        cash="MYR",
        payer=account_id("issuer"),
        residue_account=account_id("issuer"),
        face=100,
        issue_date="2026-03-16",
        maturity_date="2029-03-16",
        months_per_period=6,
        income=sdk.income("fixed", 385),
        calendar=sdk.calendar("MY", holidays=["2026-09-16"]),
        day_count="act/act-icma",
    )
    assert send(
        node,
        [
            ("bank", CreateInstrument("MYR", "cash", "Ringgit", 2, 10**15)),
            ("issuer", CreateInstrument(BOND, "bond", "MGS 2029", 2, 10**12)),
        ],
    ) == [codes.OK, codes.OK]
    assert (
        send(
            node,
            [
                ("issuer", sdk.set_bond_terms(BOND, terms)),
                ("bank", Mint("MYR", account_id("issuer"), 10**9, "deposit")),
                ("issuer", Mint(BOND, account_id("inv-0"), 600_00, "")),
                ("issuer", Mint(BOND, account_id("inv-1"), 400_00, "")),
            ],
        )
        == [codes.OK] * 4
    )
    clock.now_ms = at("2026-09-16", 9)
    assert send(node, [("issuer", TakeRecord(BOND, "p1", "coupon 1"))]) == [codes.OK]
    clock.now_ms = at("2026-09-17", 9)
    closes = at("2026-10-17")
    assert send(
        node,
        [
            ("issuer", sdk.pay_period(BOND, 1, "p1")),
            ("issuer", TakeRecord(BOND, "m1", "meeting")),
        ],
    ) == [codes.OK, codes.OK]
    assert send(
        node, [("issuer", OpenBallot(BOND, "extend", "m1", "Extend?", ("yes", "no"), closes))]
    ) == [codes.OK]
    assert send(node, [("inv-0", CastVote(BOND, "extend", account_id("inv-0"), 1))]) == [codes.OK]
    # After the record date inv-0 sells; its units at the record stay provable.
    sale = Transfer(account_id("inv-0"), account_id("inv-1"), BOND, 100_00, "")
    assert send(node, [("inv-0", sale)]) == [codes.OK]
    return node


async def test_schedule_record_distribution_and_ballot_read_through_the_sdk(
    bond_chain: Node,
) -> None:
    node = bond_chain
    transport = httpx.ASGITransport(app=create_app(node))
    try:
        async with sdk.AsyncClient("http://rantai.test", transport=transport) as client:
            schedule = await client.schedule(BOND)
            assert schedule is not None and schedule.payment_kind == "coupon"
            assert schedule.terms.income.rate_bp == 385 and schedule.certification is None
            assert len(schedule.periods) == 6
            first = schedule.periods[0]
            assert (first.payment_date, first.record_date, first.paid) == (
                "2026-09-17",
                "2026-09-15",
                True,
            )
            assert not schedule.periods[1].paid and schedule.state.next_period == 2
            assert (schedule.redemption_date, schedule.redemption_price_bp) == (
                "2029-03-16",
                10_000,
            )
            record = await client.record_date(BOND, "p1")
            assert record is not None and record.status == "closed"  # closed once paid
            dist_key = next(k for k in node.ledger.values if k.startswith("dist/"))
            distribution = await client.distribution(dist_key.removeprefix("dist/"))
            assert distribution is not None
            assert (distribution.kind, distribution.holders, distribution.units) == (
                "coupon",
                2,
                1_000_00,
            )
            assert distribution.paid + distribution.residue == distribution.due
            ballot = await client.ballot(BOND, "extend")
            assert ballot is not None and ballot.tallies == (0, 600_00)
            assert await client.schedule("NOPE") is None
            assert await client.ballot(BOND, "nope") is None
            assert await client.distribution("ab" * 32) is None
            meeting = await client.record_date(BOND, "m1")
            assert meeting is not None and meeting.status == "open"
        async with sdk.AsyncClient(
            "http://rantai.test", party="inv-0", key=key_of("inv-0"), transport=transport
        ) as holder:
            # Any holder proves its units at the record against that height's state root.
            at_record = await holder.balance(account_id("inv-0"), BOND, height=meeting.height)
            now = await holder.balance(account_id("inv-0"), BOND)
            assert (at_record.amount, now.amount) == (600_00, 500_00)
        async with sdk.AsyncClient(
            "http://rantai.test", party="issuer", key=key_of("issuer"), transport=transport
        ) as issuer:
            # The issuer checks the whole register at the record, row by row, in pages.
            rows = [
                (h.account, h.amount)
                async for h in issuer.holders(BOND, height=meeting.height, page_size=1, proven=True)
            ]
            assert rows == [(account_id("inv-0"), 600_00), (account_id("inv-1"), 400_00)]
    finally:
        node.stop()
        node.store.close()


async def test_a_register_row_that_does_not_match_its_proof_is_refused(bond_chain: Node) -> None:
    node = bond_chain
    app = create_app(node)
    target = f"/v1/instruments/{BOND}/holders?proofs=true"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://rantai.test"
        ) as http:
            now_ms = time.time_ns() // 1_000_000
            answer = (
                await http.get(target, headers=signed_headers("issuer", target, now_ms))
            ).json()
        chain = node.ledger.chain
        assert chain is not None
        trust = (chain.chain_id, frozenset(chain.executors))
        rows, _ = holdings_from_json(answer, BOND, None, *trust)
        assert [r.amount for r in rows] == [500_00, 500_00]
        answer["items"][0]["amount"] += 1
        answer["items"][0]["value"] = encode(answer["items"][0]["amount"]).hex()
        with pytest.raises(sdk.ProofError):
            holdings_from_json(answer, BOND, None, *trust)
    finally:
        node.stop()
        node.store.close()

"""A small market built through a real node, whose flows, daily volume, settlement fails and
travel transfers are known exactly (the figures the activity-report tests assert).

Parties (claims by the trusted KYC provider ``kyc``): ``ret-my`` retail, MY; ``ret-sg``
retail, SG; ``inst-my`` institutional, MY; ``anon`` none until day 2, then retail, MY.
BOND1 (a bond, SC's scope) is minted 1,000,000 to each. Days are UTC+8: genesis (00:00Z)
is 08:00 on 2026-01-01, so day 2 starts 16 hours after genesis.

| when | what (BOND1 units) |
|---|---|
| day 1 | t1 ret-my -> inst-my 100; t2 ret-my -> ret-sg 200; t3 inst-my -> ret-my 50; t4 anon -> ret-my 10; t5 (23:30) ret-sg -> inst-my 300 |
| day 2 | t6 (00:30) inst-my -> ret-sg 400; t7 travel ret-my -> inst-my 500; settlements: s1 ret-my -> ret-sg 30 settles, s2 inst-my -> ret-my 40 fails (paused), s3 ret-sg -> anon 5 cancelled, s4 anon -> ret-my 7 expires; anon's claims; t9 (2 h later) anon -> ret-my 3 |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.node.harness import Clock, send_receipts
from tests.regulated import seal_travel
from tests.support import GENESIS_MS, key_of

from rantai.core import codes
from rantai.core.actions import TrustIssuers
from rantai.core.block import Receipt
from rantai.core.governance import LegalBasis
from rantai.core.ids import account_id
from rantai.core.kinds.claims import IssueClaim
from rantai.core.kinds.governance import Approve, Propose
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole, RegisterParty
from rantai.core.kinds.policies import PauseInstrument, UnpauseInstrument
from rantai.core.kinds.settlement import AffirmSettlement, CancelSettlement, ProposeSettlement
from rantai.core.kinds.transfers import Transfer, TravelTransfer
from rantai.core.settlement import Leg
from rantai.core.travel import TravelPayload, travel_commitment
from rantai.core.tx import TxBody
from rantai.crypto.hashing import sha256
from rantai.node.datadir import init_chain
from rantai.node.node import Node

HOUR_MS = 3_600_000
DAY2_MS = GENESIS_MS + 16 * HOUR_MS  # 2026-01-02T00:00+08:00
RET_MY, RET_SG, INST_MY, ANON = "ret-my", "ret-sg", "inst-my", "anon"
INVESTORS = (RET_MY, RET_SG, INST_MY, ANON)
CLAIMS = {RET_MY: ("retail", "MY"), RET_SG: ("retail", "SG"), INST_MY: ("institutional", "MY")}
BASIS = LegalBasis("regulatory_direction", "SC/D/2026/001", sha256(b"direction 1"))
READERS = ("BNM", "MOD", "SC", "registrar")


@dataclass
class ActivityMarket:
    node: Node
    clock: Clock
    travel_tx: str
    travel_height: int
    commitment: str
    failed: str  # instruction ids
    cancelled: str
    expired: str
    expired_deadline_ms: int
    expired_height: int  # the block that first saw s4 past its deadline
    day2_first_height: int


def run(node: Node, items: list[tuple[str, TxBody]]) -> list[Receipt]:
    """Sign, submit, commit; the receipts, in order; every one must be ``ok``."""
    receipts = send_receipts(node, items)
    assert [r.code for r in receipts] == [codes.OK] * len(items), receipts
    return receipts


def at(clock: Clock, at_ms: int) -> None:
    """Make the next block's time ``at_ms`` (the clock adds a second per reading)."""
    clock.now_ms = at_ms - 1_000


def move(source: str, destination: str, amount: int) -> Transfer:
    return Transfer(account_id(source), account_id(destination), "BOND1", amount, "")


def event(receipt: Receipt, name: str) -> dict[str, Any]:
    return next(dict(e.attrs) for e in receipt.events if e.name == name)


def build_market(data: Path, store: str | None = None) -> ActivityMarket:
    """The market in a new chain in ``data`` (on SQLite there, or on ``store``)."""
    clock = Clock()
    node = init_chain(data, "rantai-test", store_target=store, clock_ms=clock, make_key=key_of)
    org = "organisation"
    run(node, [
        ("registrar", RegisterParty("kyc", org, "KYC", (key_of("kyc").public_key,), ())),
        ("registrar", RegisterParty("issuer", org, "Issuer", (key_of("issuer").public_key,),
                                    ("issuer",))),
        *[("registrar", RegisterParty(p, "person", p, (key_of(p).public_key,), ("investor",)))
          for p in INVESTORS],
    ])  # fmt: skip
    run(node, [("BNM", GrantRole("kyc", "claim_issuer"))])
    expires = GENESIS_MS + 30 * 24 * HOUR_MS
    topics = ("investor_category", "residency")
    proposed = run(node, [
        ("SC", Propose(TrustIssuers(t, ("kyc",)), BASIS, "", expires, 0)) for t in topics
    ])  # fmt: skip
    run(node, [("BNM", Approve(r.tx_id.hex(), "")) for r in proposed])
    run(node, claims(CLAIMS, expires))
    run(node, [("issuer", CreateInstrument("BOND1", "bond", "Bond", 2, 10**15))])
    run(node, [("issuer", Mint("BOND1", account_id(p), 1_000_000, "")) for p in INVESTORS])
    # day 1
    at(clock, GENESIS_MS + 2 * HOUR_MS)
    run(node, [(RET_MY, move(RET_MY, INST_MY, 100)), (RET_MY, move(RET_MY, RET_SG, 200))])
    run(node, [(INST_MY, move(INST_MY, RET_MY, 50)), (ANON, move(ANON, RET_MY, 10))])
    at(clock, GENESIS_MS + 15 * HOUR_MS + 30 * 60_000)
    run(node, [(RET_SG, move(RET_SG, INST_MY, 300))])
    # day 2
    at(clock, DAY2_MS + 30 * 60_000)
    run(node, [(INST_MY, move(INST_MY, RET_SG, 400))])
    day2_first_height = _head(node)
    payload = TravelPayload("Ret My", account_id(RET_MY), "1 Jalan Ampang", "900101-14-5678",
                            "", "Inst My", account_id(INST_MY), bytes(range(32)))  # fmt: skip
    travel = TravelTransfer(
        account_id(RET_MY), account_id(INST_MY), "BOND1", 500, "", seal_travel(payload, READERS)
    )
    (travel_receipt,) = run(node, [(RET_MY, travel)])
    travel_height = _head(node)
    deadline = DAY2_MS + 30 * 24 * HOUR_MS
    short_deadline = clock.now_ms + HOUR_MS
    s1, s2, s3, s4 = (r.tx_id.hex() for r in run(node, [
        (RET_MY, ProposeSettlement((_leg(RET_MY, RET_SG, 30),), deadline, "")),
        (INST_MY, ProposeSettlement((_leg(INST_MY, RET_MY, 40),), deadline, "")),
        (RET_SG, ProposeSettlement((_leg(RET_SG, ANON, 5),), deadline, "")),
        (ANON, ProposeSettlement((_leg(ANON, RET_MY, 7),), short_deadline, "")),
    ]))  # fmt: skip
    (settled,) = run(node, [(RET_MY, AffirmSettlement(s1))])
    assert any(e.name == "settlement_settled" for e in settled.events)
    run(node, [("issuer", PauseInstrument("BOND1"))])
    (failed,) = run(node, [(INST_MY, AffirmSettlement(s2))])
    assert event(failed, "settlement_failed") == {"instruction": s2, "leg": 0, "code": "paused"}
    run(node, [("issuer", UnpauseInstrument("BOND1"))])
    run(node, [(RET_SG, CancelSettlement(s3))])
    run(node, claims({ANON: ("retail", "MY")}, expires))
    at(clock, short_deadline + HOUR_MS)
    run(node, [(ANON, move(ANON, RET_MY, 3))])
    return ActivityMarket(
        node,
        clock,
        travel_receipt.tx_id.hex(),
        travel_height,
        travel_commitment(payload).hex(),
        s2,
        s3,
        s4,
        short_deadline,
        _head(node),
        day2_first_height,
    )


def claims(found: dict[str, tuple[str, str]], expires: int) -> list[tuple[str, TxBody]]:
    evidence = sha256(b"kyc file")
    return [
        ("kyc", IssueClaim(party, topic, value, evidence, expires))
        for party, (category, country) in found.items()
        for topic, value in (("investor_category", category), ("residency", country))
    ]


def _leg(source: str, destination: str, amount: int) -> Leg:
    return Leg(account_id(source), account_id(destination), "BOND1", amount)


def _head(node: Node) -> int:
    head = node.ledger.head
    assert head is not None
    return head.height

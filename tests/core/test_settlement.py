"""Settlement: DvP, PvP, multi-leg, affirmation and earmarks, all-or-nothing execution with the
failing leg on the receipt, cancel, expiry at the edge, retry, netting cycles, mediators and
primary issuance by book-building."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.regulated import INSTRUMENT, Regulated, rejected
from tests.support import Chain, key_of

from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.books import Allocation
from rantai.core.ids import account_id, account_owner
from rantai.core.kinds.books import Allocate, OpenBook, PlaceOrder, allocation_instruction_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole, RegisterParty
from rantai.core.kinds.policies import PauseInstrument, UnpauseInstrument
from rantai.core.kinds.settlement import (
    AffirmSettlement,
    CancelSettlement,
    ProposeSettlement,
    RetrySettlement,
    RunCycle,
    SetMediator,
    net_positions,
)
from rantai.core.kinds.transfers import Transfer
from rantai.core.rules import LotSize
from rantai.core.settlement import (
    AFFIRMED,
    CANCELLED,
    EXPIRED,
    FAILED,
    PROPOSED,
    SETTLED,
    Instruction,
    Leg,
    earmark_key,
    instruction_key,
    status,
)

A, B, C = account_id("alice"), account_id("bob"), account_id("carol")
PARTIES = ("alice", "bob", "carol")
ACCOUNTS = (A, B, C)
INSTRUMENTS = ("BOND1", "MYR", "USD")
HELD = 10_000
DAY_MS = 86_400_000


class Market(Chain):
    """Alice, Bob and Carol each hold ``HELD`` of a bond and two cash instruments."""

    def __init__(self) -> None:
        super().__init__()
        self.register("issuer", ("issuer",), "organisation")
        body = RegisterParty("bank", "organisation", "bank name", (key_of("bank").public_key,), ())
        assert self.run("registrar", body).code == codes.OK
        assert self.run("BNM", GrantRole("bank", "cash_issuer")).code == codes.OK
        assert self.run("issuer", CreateInstrument("BOND1", "bond", "Bond", 0, 10**15)).code == "ok"
        for cash in ("MYR", "USD"):
            assert self.run("bank", CreateInstrument(cash, "cash", cash, 2, 10**15)).code == "ok"
        for party in PARTIES:
            self.register(party)
            for code in INSTRUMENTS:
                assert (
                    self.run(issuer_of(code), Mint(code, account_id(party), HELD, "")).code == "ok"
                )

    def propose(
        self, sender: str, legs: list[Leg], *, deadline_ms: int | None = None, cycle: str = ""
    ) -> tuple[str, Receipt]:
        deadline = self.now_ms + DAY_MS if deadline_ms is None else deadline_ms
        receipt = self.run(sender, ProposeSettlement(tuple(legs), deadline, cycle))
        return receipt.tx_id.hex(), receipt

    def proposed(self, sender: str, legs: list[Leg], **kw: Any) -> str:
        instruction, receipt = self.propose(sender, legs, **kw)
        assert receipt.code == codes.OK, receipt
        return instruction

    def affirm(self, party: str, instruction: str) -> Receipt:
        return self.run(party, AffirmSettlement(instruction))

    def instruction(self, instruction: str) -> Instruction:
        record: Instruction = self.ledger.values[instruction_key(instruction)]
        return record

    def balances(self) -> dict[tuple[str, str], int]:
        return {(a, i): self.balance(a, i) for a in ACCOUNTS for i in INSTRUMENTS}

    def supply(self, code: str) -> int:
        supply: int = self.ledger.values[f"inst/{code}"].supply
        return supply


def issuer_of(code: str) -> str:
    return "issuer" if code == "BOND1" else "bank"


@pytest.fixture
def market() -> Market:
    return Market()


def event(receipt: Receipt, name: str) -> dict[str, Any]:
    found = [e.attrs for e in receipt.events if e.name == name]
    assert len(found) == 1, receipt
    return found[0]


# --- gross settlement ------------------------------------------------------------------


def test_dvp_settles_on_the_last_affirmation(market: Market) -> None:
    legs = [Leg(A, B, "BOND1", 100), Leg(B, A, "MYR", 5_000)]
    instruction = market.proposed("alice", legs)
    assert market.instruction(instruction).affirmers == ("alice", "bob")
    assert market.affirm("alice", instruction).code == codes.OK
    assert market.instruction(instruction).state == PROPOSED
    assert market.ledger.values[earmark_key(A, "BOND1")].entries[0].amount == 100
    receipt = market.affirm("bob", instruction)
    assert receipt.code == codes.OK
    assert event(receipt, "settlement_settled") == {"instruction": instruction, "legs": 2}
    assert market.instruction(instruction).state == SETTLED
    assert market.balance(A, "BOND1") == HELD - 100
    assert market.balance(B, "BOND1") == HELD + 100
    assert market.balance(A, "MYR") == HELD + 5_000
    assert market.balance(B, "MYR") == HELD - 5_000
    assert not any(k.startswith("earmark/") for k in market.ledger.values)


def test_pvp_two_cash_instruments(market: Market) -> None:
    legs = [Leg(B, C, "MYR", 4_000), Leg(C, B, "USD", 1_000)]
    instruction = market.proposed("carol", legs)
    assert market.affirm("carol", instruction).code == codes.OK
    assert market.affirm("bob", instruction).code == codes.OK
    assert market.instruction(instruction).state == SETTLED
    assert (market.balance(C, "MYR"), market.balance(B, "USD")) == (HELD + 4_000, HELD + 1_000)


def test_multi_leg_with_a_party_that_only_receives(market: Market) -> None:
    legs = [Leg(A, B, "BOND1", 10), Leg(B, C, "MYR", 20), Leg(A, C, "USD", 30)]
    instruction = market.proposed("carol", legs)  # carol receives only, and may propose
    assert market.instruction(instruction).affirmers == ("alice", "bob")
    assert market.affirm("carol", instruction).code == codes.NOT_AUTHORIZED
    assert market.affirm("bob", instruction).code == codes.OK
    receipt = market.affirm("alice", instruction)
    assert [e.attrs["leg"] for e in receipt.events if e.name == "settlement_leg"] == [0, 1, 2]
    assert market.balance(C, "USD") == HELD + 30


def test_affirmation_rules(market: Market) -> None:
    market.register("dave")
    legs = [Leg(A, B, "BOND1", 10), Leg(B, A, "MYR", 20)]
    _, receipt = market.propose("dave", legs)
    assert receipt.code == codes.NOT_AUTHORIZED  # party to no leg
    _, receipt = market.propose("alice", legs, deadline_ms=market.now_ms + 1_000)
    assert receipt.code == codes.BAD_TIME  # the deadline is the block's own time
    _, receipt = market.propose("alice", [Leg(A, account_id("nobody"), "BOND1", 1)])
    assert receipt.code == codes.UNKNOWN_ACCOUNT
    instruction = market.proposed("alice", legs)
    assert market.affirm("alice", "ab" * 32).code == codes.UNKNOWN_INSTRUCTION
    assert market.affirm("carol", instruction).code == codes.NOT_AUTHORIZED
    assert market.affirm("alice", instruction).code == codes.OK
    assert market.affirm("alice", instruction).code == codes.ALREADY_AFFIRMED
    too_much = market.proposed("bob", [Leg(B, A, "MYR", HELD + 1)])
    assert market.affirm("bob", too_much).code == codes.EARMARKED


def test_earmark_prevents_double_spending(market: Market) -> None:
    instruction = market.proposed("alice", [Leg(A, B, "BOND1", 4_000), Leg(B, A, "MYR", 1)])
    assert market.affirm("alice", instruction).code == codes.OK
    spend = Transfer(A, C, "BOND1", HELD - 4_000 + 1, "")
    assert market.run("alice", spend).code == codes.EARMARKED
    second = market.proposed("alice", [Leg(A, C, "BOND1", 6_001)])
    assert market.affirm("alice", second).code == codes.EARMARKED
    assert market.run("alice", Transfer(A, C, "BOND1", HELD - 4_000, "")).code == codes.OK
    assert market.affirm("bob", instruction).code == codes.OK
    assert market.instruction(instruction).state == SETTLED  # the earmarked units were there
    assert market.balance(A, "BOND1") == 0


def test_a_refused_leg_undoes_every_leg_and_names_itself(market: Market) -> None:
    legs = [Leg(B, A, "MYR", 500), Leg(A, B, "BOND1", 5), Leg(B, C, "MYR", 7)]
    instruction = market.proposed("alice", legs)
    assert market.affirm("alice", instruction).code == codes.OK
    assert market.run("issuer", PauseInstrument("BOND1")).code == codes.OK
    before = market.balances()
    receipt = market.affirm("bob", instruction)
    assert receipt.code == codes.OK  # the affirmation is kept; the settlement failed
    failed = event(receipt, "settlement_failed")
    assert failed == {"instruction": instruction, "leg": 1, "code": codes.PAUSED}
    assert not any(e.name == "settlement_leg" for e in receipt.events)
    assert market.balances() == before
    record = market.instruction(instruction)
    assert (record.state, record.failed_leg, record.failed_code) == (FAILED, 1, codes.PAUSED)
    assert market.run("bob", Transfer(B, C, "MYR", HELD - 506, "")).code == codes.EARMARKED
    # retry: refused while the cause holds, settles once it is gone
    assert market.run("carol", RetrySettlement(instruction)).code == codes.NOT_AUTHORIZED
    receipt = market.run("bob", RetrySettlement(instruction))
    assert event(receipt, "settlement_failed")["leg"] == 1
    assert market.run("issuer", UnpauseInstrument("BOND1")).code == codes.OK
    assert market.run("alice", RetrySettlement(instruction)).code == codes.OK
    assert market.instruction(instruction).state == SETTLED
    assert market.balance(C, "MYR") == HELD + 7
    assert market.run("alice", RetrySettlement(instruction)).code == codes.INSTRUCTION_CLOSED


def test_every_leg_passes_the_instruments_rules() -> None:
    chain = Regulated()
    a, b = chain.investor("alice"), chain.investor("bob")
    chain.instrument((LotSize(10),))
    assert chain.mint(a, 100).code == codes.OK
    assert chain.mint(b, 100).code == codes.OK
    legs = (Leg(a, b, INSTRUMENT, 10), Leg(b, a, INSTRUMENT, 5))
    receipt = chain.run("alice", ProposeSettlement(legs, chain.now_ms + DAY_MS, ""))
    instruction = receipt.tx_id.hex()
    assert chain.run("alice", AffirmSettlement(instruction)).code == codes.OK
    receipt = chain.run("bob", AffirmSettlement(instruction))
    assert event(receipt, "settlement_failed")["code"] == codes.RULE_LOT_SIZE
    assert event(receipt, "settlement_failed")["leg"] == 1
    assert chain.balance(a, INSTRUMENT) == chain.balance(b, INSTRUMENT) == 100


def test_cancel_releases_earmarks(market: Market) -> None:
    instruction = market.proposed("bob", [Leg(A, B, "BOND1", HELD), Leg(B, A, "MYR", 1)])
    assert market.affirm("alice", instruction).code == codes.OK
    assert market.run("carol", CancelSettlement(instruction)).code == codes.NOT_AUTHORIZED
    assert market.run("bob", CancelSettlement(instruction)).code == codes.OK  # the proposer
    assert market.instruction(instruction).state == CANCELLED
    assert earmark_key(A, "BOND1") not in market.ledger.values
    assert market.run("alice", CancelSettlement(instruction)).code == codes.INSTRUCTION_CLOSED
    assert market.affirm("bob", instruction).code == codes.INSTRUCTION_CLOSED
    assert market.run("alice", Transfer(A, C, "BOND1", HELD, "")).code == codes.OK


def test_expiry_at_the_edge(market: Market) -> None:
    deadline = market.now_ms + 10_000
    instruction = market.proposed("alice", [Leg(A, B, "BOND1", HELD)], deadline_ms=deadline)
    other = market.proposed("alice", [Leg(A, B, "BOND1", 1)], deadline_ms=deadline)
    market.now_ms = deadline - 1 - 1_000  # the next block is one millisecond before
    assert market.affirm("alice", other).code == codes.OK  # alone: settles
    market.now_ms = deadline - 1_000  # the next block is at the deadline
    assert market.affirm("alice", instruction).code == codes.INSTRUCTION_EXPIRED
    assert status(market.instruction(instruction), deadline) == EXPIRED
    assert status(market.instruction(instruction), deadline - 1) == PROPOSED
    assert market.instruction(other).state == SETTLED


def test_earmarks_lapse_at_the_deadline(market: Market) -> None:
    deadline = market.now_ms + 10_000
    legs = [Leg(A, B, "BOND1", HELD), Leg(B, A, "MYR", 1)]
    instruction = market.proposed("alice", legs, deadline_ms=deadline)
    assert market.affirm("alice", instruction).code == codes.OK
    market.now_ms = deadline - 1 - 1_000
    assert market.run("alice", Transfer(A, C, "BOND1", 1, "")).code == codes.EARMARKED
    market.now_ms = deadline - 1_000
    assert market.affirm("bob", instruction).code == codes.INSTRUCTION_EXPIRED
    assert market.run("alice", Transfer(A, C, "BOND1", 1, "")).code == codes.OK
    assert market.run("alice", CancelSettlement(instruction)).code == codes.OK  # tidies up


def test_a_mediator_must_affirm_too(market: Market) -> None:
    market.register("trustee", ("custodian",), "organisation")
    assert market.run("alice", SetMediator("BOND1", "trustee")).code == codes.NOT_AUTHORIZED
    assert market.run("issuer", SetMediator("BOND1", "nobody")).code == codes.UNKNOWN_PARTY
    assert market.run("issuer", SetMediator("BOND1", "trustee")).code == codes.OK
    assert market.run("issuer", SetMediator("BOND1", "trustee")).code == codes.NO_CHANGE
    instruction = market.proposed("alice", [Leg(A, B, "BOND1", 10), Leg(B, A, "MYR", 20)])
    assert market.instruction(instruction).affirmers == ("alice", "bob", "trustee")
    assert market.affirm("alice", instruction).code == codes.OK
    assert market.affirm("bob", instruction).code == codes.OK
    assert market.instruction(instruction).state == PROPOSED  # waits for the mediator
    assert market.affirm("trustee", instruction).code == codes.OK
    assert market.instruction(instruction).state == SETTLED
    assert market.run("issuer", SetMediator("BOND1", "")).code == codes.OK
    cash_only = market.proposed("bob", [Leg(B, A, "MYR", 1)])
    assert market.instruction(cash_only).affirmers == ("bob",)


def test_rejections_change_nothing_but_the_nonce(market: Market) -> None:
    instruction = market.proposed("alice", [Leg(A, B, "BOND1", 10), Leg(B, A, "MYR", 20)])
    assert market.affirm("alice", instruction).code == codes.OK
    rejected(market, "alice", AffirmSettlement(instruction), codes.ALREADY_AFFIRMED)
    rejected(market, "carol", AffirmSettlement(instruction), codes.NOT_AUTHORIZED)
    rejected(market, "carol", CancelSettlement(instruction), codes.NOT_AUTHORIZED)
    rejected(market, "alice", RetrySettlement(instruction), codes.INSTRUCTION_CLOSED)
    rejected(market, "bob", RunCycle("T1"), codes.NOT_AUTHORIZED)
    legs = (Leg(B, A, "MYR", HELD + 1),)
    rejected(market, "bob", ProposeSettlement(legs, market.now_ms, ""), codes.BAD_TIME)


# --- cycles ----------------------------------------------------------------------------


def test_a_cycle_settles_net(market: Market) -> None:
    one = market.proposed("alice", [Leg(A, B, "BOND1", 100), Leg(B, A, "MYR", 900)], cycle="T1")
    two = market.proposed("bob", [Leg(B, A, "BOND1", 60), Leg(A, B, "MYR", 500)], cycle="T1")
    waiting = market.proposed("carol", [Leg(C, A, "USD", 5)], cycle="T1")
    for party, instruction in (("alice", one), ("bob", one), ("bob", two), ("alice", two)):
        assert market.affirm(party, instruction).code == codes.OK
    assert market.instruction(one).state == AFFIRMED
    before = market.balances()
    assert market.run("alice", RunCycle("T1")).code == codes.NOT_AUTHORIZED
    assert market.run("operator", RunCycle("T9")).code == codes.UNKNOWN_CYCLE
    receipt = market.run("operator", RunCycle("T1"))
    assert receipt.code == codes.OK
    nets = [e.attrs for e in receipt.events if e.name == "net_movement"]
    assert len(nets) == 4  # four gross legs each way, netted to one debit and credit each
    assert market.balance(A, "BOND1") == before[(A, "BOND1")] - 40
    assert market.balance(B, "MYR") == before[(B, "MYR")] - 400
    assert market.instruction(one).state == market.instruction(two).state == SETTLED
    assert market.instruction(waiting).state == PROPOSED  # not affirmed: left out
    assert not any(k.startswith("earmark/") for k in market.ledger.values)
    assert market.run("operator", RunCycle("T1")).code == codes.CYCLE_CLOSED
    _, late = market.propose("carol", [Leg(C, A, "USD", 5)], cycle="T1")
    assert late.code == codes.CYCLE_CLOSED


def test_a_refused_instruction_drops_out_of_its_cycle(market: Market) -> None:
    good = market.proposed("alice", [Leg(A, B, "MYR", 10)], cycle="T1")
    bad = market.proposed("alice", [Leg(A, C, "MYR", 1), Leg(A, C, "BOND1", 2)], cycle="T1")
    assert market.affirm("alice", good).code == codes.OK
    assert market.affirm("alice", bad).code == codes.OK
    assert market.run("issuer", PauseInstrument("BOND1")).code == codes.OK
    receipt = market.run("operator", RunCycle("T1"))
    assert event(receipt, "settlement_failed") == {
        "instruction": bad,
        "leg": 1,
        "code": codes.PAUSED,
    }
    assert market.instruction(good).state == SETTLED
    assert market.instruction(bad).state == FAILED
    assert market.balance(C, "MYR") == HELD
    assert market.ledger.values[earmark_key(A, "BOND1")].entries[0].instruction == bad


def test_an_expired_instruction_is_left_out_of_its_cycle(market: Market) -> None:
    deadline = market.now_ms + 10_000
    late = market.proposed("alice", [Leg(A, B, "MYR", 10)], cycle="T1", deadline_ms=deadline)
    kept = market.proposed("bob", [Leg(B, A, "MYR", 3)], cycle="T1")
    assert market.affirm("alice", late).code == codes.OK
    assert market.affirm("bob", kept).code == codes.OK
    market.now_ms = deadline - 1_000
    receipt = market.run("operator", RunCycle("T1"))
    assert event(receipt, "cycle_settled")["instructions"] == 1
    assert status(market.instruction(late), market.now_ms) == EXPIRED
    assert (market.balance(A, "MYR"), market.balance(B, "MYR")) == (HELD + 3, HELD - 3)


# --- properties ------------------------------------------------------------------------

legs_st = st.lists(
    st.tuples(
        st.sampled_from(ACCOUNTS),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(INSTRUMENTS),
        st.integers(1, 100),
    )
    .filter(lambda t: t[0] != t[1])
    .map(lambda t: Leg(*t)),
    min_size=1,
    max_size=6,
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _affirm_all(market: Market, instruction: str, legs: list[Leg]) -> Receipt | None:
    receipt = None
    for party in sorted({account_owner(leg.source) for leg in legs}):
        receipt = market.affirm(party, instruction)
        assert receipt.code == codes.OK, receipt
    return receipt


def _expected(before: dict[tuple[str, str], int], legs: list[Leg]) -> dict[tuple[str, str], int]:
    after = dict(before)
    for (account, instrument), amount in net_positions([tuple(legs)]).items():
        after[(account, instrument)] += amount
    return after


@PROPERTY
@given(legs=legs_st, paused=st.sets(st.sampled_from(INSTRUMENTS)))
def test_all_or_nothing_under_failing_legs(legs: list[Leg], paused: set[str]) -> None:
    market = Market()
    for code in sorted(paused):
        assert market.run(issuer_of(code), PauseInstrument(code)).code == codes.OK
    before = market.balances()
    proposer = account_owner(legs[0].source)
    instruction = market.proposed(proposer, legs)
    receipt = _affirm_all(market, instruction, legs)
    assert receipt is not None
    refused = [i for i, leg in enumerate(legs) if leg.instrument in paused]
    record = market.instruction(instruction)
    if refused:
        assert (record.state, record.failed_leg) == (FAILED, refused[0])
        assert market.balances() == before
    else:
        assert record.state == SETTLED
        assert market.balances() == _expected(before, legs)
    for code in INSTRUMENTS:
        assert sum(market.balance(a, code) for a in ACCOUNTS) == market.supply(code)


@PROPERTY
@given(
    batches=st.lists(legs_st, min_size=1, max_size=5),
    paused=st.sets(st.sampled_from(INSTRUMENTS), max_size=1),
)
def test_netting_preserves_each_partys_net_position(
    batches: list[list[Leg]], paused: set[str]
) -> None:
    market = Market()
    before = market.balances()
    instructions = []
    for legs in batches:
        instruction = market.proposed(account_owner(legs[0].source), legs, cycle="T1")
        _affirm_all(market, instruction, legs)
        instructions.append(instruction)
    assert market.balances() == before  # nothing moves before the cycle
    for code in sorted(paused):
        assert market.run(issuer_of(code), PauseInstrument(code)).code == codes.OK
    receipt = market.run("operator", RunCycle("T1"))
    assert receipt.code == codes.OK
    settled = [legs for legs in batches if not any(leg.instrument in paused for leg in legs)]
    assert market.balances() == _expected(before, [leg for legs in settled for leg in legs])
    for instruction, legs in zip(instructions, batches, strict=True):
        refused = [i for i, leg in enumerate(legs) if leg.instrument in paused]
        record = market.instruction(instruction)
        if refused:
            assert (record.state, record.failed_leg) == (FAILED, refused[0])
        else:
            assert record.state == SETTLED
    nets = [e for e in receipt.events if e.name == "net_movement"]
    assert len(nets) == len(net_positions(tuple(legs) for legs in settled))
    for code in INSTRUMENTS:
        assert sum(market.balance(a, code) for a in ACCOUNTS) == market.supply(code)


# --- primary issuance by book-building ---------------------------------------------------


def test_book_building_orders_allocation_and_dvp(market: Market) -> None:
    issuer = account_id("issuer")
    assert market.run("issuer", Mint("BOND1", issuer, 1_000, "")).code == codes.OK
    closes = market.now_ms + 10_000
    receipt = market.run("alice", OpenBook("BOND1", "MYR", 5, issuer, closes))
    assert receipt.code == codes.NOT_AUTHORIZED
    book = market.run("issuer", OpenBook("BOND1", "MYR", 5, issuer, closes)).tx_id.hex()
    assert market.run("alice", PlaceOrder(book, A, 300)).code == codes.OK
    assert market.run("alice", PlaceOrder(book, A, 400)).code == codes.OK  # replaces
    assert market.run("bob", PlaceOrder(book, B, 900)).code == codes.OK
    assert market.run("bob", PlaceOrder(book, A, 1)).code == codes.NOT_AUTHORIZED
    deadline = closes + DAY_MS
    allocation = (Allocation(A, 400), Allocation(B, 600))
    rejected(market, "issuer", Allocate(book, allocation, deadline), codes.BOOK_OPEN)
    market.now_ms = closes - 1_000
    assert market.run("carol", PlaceOrder(book, C, 1)).code == codes.BOOK_CLOSED
    over = (Allocation(A, 401), Allocation(B, 599))
    rejected(market, "issuer", Allocate(book, over, deadline), codes.OVER_ALLOCATED)
    receipt = market.run("issuer", Allocate(book, allocation, deadline))
    assert receipt.code == codes.OK
    assert market.run("issuer", Allocate(book, allocation, deadline)).code == codes.BOOK_CLOSED
    one = allocation_instruction_id(receipt.tx_id, A)
    two = allocation_instruction_id(receipt.tx_id, B)
    assert market.instruction(one).affirmed_by == ("issuer",)
    assert market.run("issuer", Transfer(issuer, C, "BOND1", 1, "")).code == codes.EARMARKED
    assert market.affirm("alice", one).code == codes.OK
    assert market.affirm("bob", two).code == codes.OK
    assert market.instruction(one).state == market.instruction(two).state == SETTLED
    assert (market.balance(A, "BOND1"), market.balance(B, "BOND1")) == (HELD + 400, HELD + 600)
    assert market.balance(issuer, "MYR") == 1_000 * 5
    assert market.balance(issuer, "BOND1") == 0

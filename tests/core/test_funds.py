"""Fund units through the real Ledger: dealing terms, NAV publication, orders queued into
the dealing account, cancellation before the cut-off, forward pricing at the next NAV,
refunds of ineligible orders, the redemption gate, and conservation of cash and units over
a dealing with many subscribers and redeemers."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import structs
from tests.core.test_cash import CASH, CashMarket
from tests.regulated import DAY_MS, rejected

from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.errors import Malformed
from rantai.core.funds import (
    DealingTerms,
    FundQueue,
    cutoff_ms,
    dealing_day,
    gate_fills,
    queue_key,
    units_for_cash,
)
from rantai.core.ids import account_id
from rantai.core.kinds.funds import (
    CancelFundOrder,
    Deal,
    PublishNav,
    Redeem,
    SetDealingTerms,
    Subscribe,
)
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import OpenAccount
from rantai.core.kinds.policies import SetRules
from rantai.core.rules import DEFAULT_TERMS, InvestorCategories
from rantai.core.tx import SignedTx

FUND = "FUND1"
MANAGER = "manager"
CASH_ACCOUNT = account_id(MANAGER)
DEALING = account_id(MANAGER, "dealing")
CUTOFF = 16 * 3_600_000  # 16:00 UTC
NAV = 12_345  # RM 123.45 per unit; units have 2 decimals


class FundMarket(CashMarket):
    """``CashMarket`` plus a manager of ``FUND1`` (units with 2 decimals, open to
    sophisticated investors only when ``sophisticated_only``) dealing daily in ``MYR.BANK``
    with a cut-off at 16:00 UTC, a minimum subscription of RM 10.00 and a gate of
    ``gate_bps``; ``carol`` is a sophisticated resident."""

    def __init__(self, gate_bps: int = 10_000, *, sophisticated_only: bool = False) -> None:
        super().__init__()
        self.carol = self.investor("carol", category="sophisticated")
        self.register(MANAGER, ("issuer",), "organisation")
        assert self.run(MANAGER, OpenAccount("dealing", "own")).code == codes.OK
        assert self.run(MANAGER, CreateInstrument(FUND, "fund", "Fund", 2, 10**15)).code == "ok"
        if sophisticated_only:
            rules = (InvestorCategories(("sophisticated",)),)
            assert self.run(MANAGER, SetRules(FUND, rules, DEFAULT_TERMS)).code == codes.OK
        terms = SetDealingTerms(FUND, CASH, CASH_ACCOUNT, DEALING, CUTOFF, 1_000, gate_bps)
        assert self.run(MANAGER, terms).code == codes.OK

    def cutoff(self) -> int:
        """The cut-off of an order placed in the next block."""
        return cutoff_ms(dealing_day(self.now_ms + 1_000, CUTOFF), CUTOFF)

    def price(self, nav: int = NAV, at_ms: int | None = None) -> Receipt:
        """Publish ``nav`` valued at (and in a block at) ``at_ms``, by default the cut-off
        of orders placed now."""
        at = self.cutoff() if at_ms is None else at_ms
        self.at(at)
        return self.run(MANAGER, PublishNav(FUND, CASH, nav, at))

    def queue(self) -> FundQueue:
        queue: FundQueue = self.value(queue_key(FUND))
        return queue

    def units(self, account: str, amount: int) -> None:
        """Put ``amount`` units into ``account`` (the manager mints them)."""
        assert self.run(MANAGER, Mint(FUND, account, amount, "seed")).code == codes.OK


def events(receipt: Receipt, name: str) -> list[dict[str, Any]]:
    return [dict(e.attrs) for e in receipt.events if e.name == name]


def test_dealing_terms_once_by_the_manager() -> None:
    chain = FundMarket()
    terms: DealingTerms = chain.value(f"fund/{FUND}")
    assert (terms.cash_account, terms.dealing_account, terms.gate_bps) == (
        CASH_ACCOUNT,
        DEALING,
        10_000,
    )
    body = SetDealingTerms(FUND, CASH, CASH_ACCOUNT, DEALING, CUTOFF, 0, 10_000)
    rejected(chain, MANAGER, body, codes.ALREADY_EXISTS)
    assert chain.run(MANAGER, CreateInstrument("FUND2", "fund", "F2", 2, 10**15)).code == "ok"
    second = structs.replace(body, instrument="FUND2")
    rejected(chain, "alice", second, codes.NOT_AUTHORIZED)
    chain.instrument(code="SUK")
    rejected(chain, "issuer", structs.replace(second, instrument="SUK"), codes.NOT_FUND)
    rejected(chain, MANAGER, structs.replace(second, cash_instrument="SUK"), codes.NOT_CASH)
    rejected(
        chain, MANAGER, structs.replace(second, cash_account="alice:main"), codes.NOT_AUTHORIZED
    )
    rejected(
        chain, MANAGER, structs.replace(second, dealing_account="manager:x"), codes.UNKNOWN_ACCOUNT
    )
    assert chain.run(MANAGER, second).code == codes.OK
    for bad in (
        structs.replace(second, dealing_account=CASH_ACCOUNT),
        structs.replace(second, gate_bps=0),
        structs.replace(second, cutoff_ms_of_day=DAY_MS),
    ):
        with pytest.raises(Malformed) as caught:
            bad.check_form()
        assert caught.value.code == codes.BAD_FIELD


def test_nav_in_the_dealing_currency_valued_in_order() -> None:
    chain = FundMarket()

    def at_next_block(nav_at: int = 0, cash: str = CASH) -> PublishNav:
        return PublishNav(FUND, cash, NAV, chain.now_ms + 1_000 + nav_at)

    rejected(chain, "alice", at_next_block(), codes.NOT_AUTHORIZED)
    rejected(chain, MANAGER, at_next_block(cash="USD.X"), codes.WRONG_CASH_INSTRUMENT)
    rejected(chain, MANAGER, at_next_block(1), codes.BAD_TIME)  # valued in the future
    assert chain.run(MANAGER, at_next_block()).code == codes.OK
    rejected(chain, MANAGER, at_next_block(-1_000), codes.BAD_TIME)  # not after the last
    assert chain.run(MANAGER, at_next_block(-999)).code == codes.OK
    assert chain.run(MANAGER, CreateInstrument("FUND2", "fund", "F2", 2, 10**15)).code == "ok"
    body = PublishNav("FUND2", CASH, NAV, chain.now_ms)
    rejected(chain, MANAGER, body, codes.NO_DEALING_TERMS)


def test_a_subscription_queues_and_settles_at_the_next_nav() -> None:
    chain = FundMarket()
    assert chain.deposit(chain.alice, 200_000).code == codes.OK
    rejected(chain, "alice", Subscribe(FUND, chain.alice, 999), codes.BELOW_MINIMUM)
    rejected(chain, "bob", Subscribe(FUND, chain.alice, 100_050), codes.NOT_AUTHORIZED)
    receipt = chain.run("alice", Subscribe(FUND, chain.alice, 100_050))
    assert receipt.code == codes.OK
    assert chain.balance(chain.alice, CASH) == 99_950
    assert chain.balance(DEALING, CASH) == 100_050  # out of the investor's reach
    rejected(chain, MANAGER, Deal(FUND), codes.NO_NAV)
    assert chain.price().code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    assert receipt.code == codes.OK
    # 100_050 * 100 // 12_345 = 810 units; they cost ceil(810 * 12_345 / 100) = 99_995
    fill = events(receipt, "fund_subscription_filled")
    assert fill == [
        {
            "instrument": FUND,
            "order": 0,
            "account": chain.alice,
            "cash": 99_995,
            "units": 810,
            "refund": 55,
        }
    ]
    assert chain.balance(chain.alice, FUND) == 810
    assert chain.balance(chain.alice, CASH) == 99_950 + 55
    assert chain.balance(CASH_ACCOUNT, CASH) == 99_995
    assert chain.balance(DEALING, CASH) == 0
    assert chain.value(f"inst/{FUND}").supply == 810
    assert chain.queue().orders == ()
    rejected(chain, MANAGER, Deal(FUND), codes.ALREADY_DEALT)


def test_a_redemption_pays_at_the_next_nav_and_burns_the_units() -> None:
    chain = FundMarket()
    chain.units(chain.alice, 810)
    assert chain.deposit(CASH_ACCOUNT, 1_000_000).code == codes.OK
    assert chain.run("alice", Redeem(FUND, chain.alice, 810)).code == codes.OK
    assert chain.balance(chain.alice, FUND) == 0
    assert chain.balance(DEALING, FUND) == 810
    assert chain.price().code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    # floor(810 * 12_345 / 100) = 99_994
    assert events(receipt, "fund_redemption_filled") == [
        {"instrument": FUND, "order": 0, "account": chain.alice, "units": 810, "cash": 99_994}
    ]
    assert chain.balance(chain.alice, CASH) == 99_994
    assert chain.value(f"inst/{FUND}").supply == 0
    assert chain.balance(DEALING, FUND) == 0


def test_cancel_before_the_cutoff_returns_the_funds_and_not_after() -> None:
    chain = FundMarket()
    assert chain.deposit(chain.alice, 50_000).code == codes.OK
    chain.units(chain.bob, 100)
    assert chain.run("alice", Subscribe(FUND, chain.alice, 20_000)).code == codes.OK
    assert chain.run("alice", Subscribe(FUND, chain.alice, 30_000)).code == codes.OK
    assert chain.run("bob", Redeem(FUND, chain.bob, 100)).code == codes.OK
    rejected(chain, "bob", CancelFundOrder(FUND, 0), codes.NOT_AUTHORIZED)
    rejected(chain, "alice", CancelFundOrder(FUND, 9), codes.UNKNOWN_ORDER)
    receipt = chain.run("alice", CancelFundOrder(FUND, 0))
    assert receipt.code == codes.OK
    assert chain.balance(chain.alice, CASH) == 20_000
    assert chain.run("bob", CancelFundOrder(FUND, 2)).code == codes.OK
    assert chain.balance(chain.bob, FUND) == 100
    assert [o.id for o in chain.queue().orders] == [1]
    cutoff = chain.cutoff()
    assert chain.run("alice", Subscribe(FUND, chain.alice, 1_000)).code == codes.OK  # the minimum
    chain.at(cutoff - 1)  # the last instant before the cut-off
    assert chain.run("alice", CancelFundOrder(FUND, 3)).code == codes.OK
    chain.at(cutoff)  # at the cut-off: too late
    rejected(chain, "alice", CancelFundOrder(FUND, 1), codes.PAST_CUTOFF)
    assert chain.balance(DEALING, CASH) == 30_000
    assert chain.balance(chain.alice, CASH) == 20_000


def test_an_order_after_the_cutoff_waits_for_the_next_dealing() -> None:
    chain = FundMarket()
    assert chain.deposit(chain.alice, 50_000).code == codes.OK
    assert chain.deposit(chain.bob, 50_000).code == codes.OK
    first = chain.cutoff()
    assert chain.run("alice", Subscribe(FUND, chain.alice, 20_000)).code == codes.OK
    chain.at(first)  # bob orders exactly at the cut-off: the next day's dealing
    assert chain.run("bob", Subscribe(FUND, chain.bob, 20_000)).code == codes.OK
    assert chain.price(at_ms=first + 1_000).code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    assert [e["account"] for e in events(receipt, "fund_subscription_filled")] == [chain.alice]
    assert [o.account for o in chain.queue().orders] == [chain.bob]
    assert chain.balance(chain.bob, FUND) == 0
    assert chain.run("bob", CancelFundOrder(FUND, 1)).code == codes.OK  # still before its cut-off
    assert chain.run("bob", Subscribe(FUND, chain.bob, 20_000)).code == codes.OK
    assert chain.price(nav=10_000, at_ms=first + DAY_MS).code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    assert events(receipt, "fund_subscription_filled")[0]["units"] == 200  # at the new NAV
    assert chain.balance(chain.bob, FUND) == 200


def test_an_ineligible_subscriber_is_refunded_with_the_reason_and_others_deal() -> None:
    chain = FundMarket(sophisticated_only=True)
    assert chain.deposit(chain.alice, 50_000).code == codes.OK
    assert chain.deposit(chain.carol, 50_000).code == codes.OK
    assert chain.run("alice", Subscribe(FUND, chain.alice, 12_345)).code == codes.OK  # retail
    assert chain.run("carol", Subscribe(FUND, chain.carol, 12_345)).code == codes.OK
    assert chain.price().code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    refunds = events(receipt, "fund_order_refunded")
    assert [(r["account"], r["code"], r["amount"]) for r in refunds] == [
        (chain.alice, codes.RULE_INVESTOR_CATEGORY, 12_345)
    ]
    assert [e["account"] for e in events(receipt, "fund_subscription_filled")] == [chain.carol]
    assert chain.balance(chain.alice, CASH) == 50_000
    assert chain.balance(chain.alice, FUND) == 0
    assert chain.balance(chain.carol, FUND) == 100
    assert chain.balance(CASH_ACCOUNT, CASH) == 12_345


def test_fills_that_round_to_nothing_or_cannot_be_paid_are_refunded() -> None:
    chain = FundMarket()
    assert chain.deposit(chain.alice, 50_000).code == codes.OK
    chain.units(chain.bob, 1)
    chain.units(chain.carol, 1_000)
    terms = SetDealingTerms("FUND2", CASH, CASH_ACCOUNT, DEALING, CUTOFF, 0, 10_000)
    assert chain.run(MANAGER, CreateInstrument("FUND2", "fund", "F2", 0, 10**15)).code == "ok"
    assert chain.run(MANAGER, terms).code == codes.OK
    assert chain.run("alice", Subscribe("FUND2", chain.alice, 12_344)).code == codes.OK
    assert chain.run("bob", Redeem(FUND, chain.bob, 1)).code == codes.OK  # 123.45 sen: 123
    assert chain.run("carol", Redeem(FUND, chain.carol, 1_000)).code == codes.OK
    at = chain.cutoff()
    assert chain.price(at_ms=at).code == codes.OK
    chain.at(at + 1_000)
    assert chain.run(MANAGER, PublishNav("FUND2", CASH, NAV, at)).code == codes.OK
    receipt = chain.run(MANAGER, Deal("FUND2"))  # 12_344 sen buys no whole unit at 12_345
    assert [r["code"] for r in events(receipt, "fund_order_refunded")] == [codes.DEALING_TOO_SMALL]
    assert chain.balance(chain.alice, CASH) == 50_000
    assert chain.deposit(CASH_ACCOUNT, 200).code == codes.OK  # enough for bob, not for carol
    receipt = chain.run(MANAGER, Deal(FUND))
    assert events(receipt, "fund_redemption_filled")[0]["cash"] == 123
    refunded = events(receipt, "fund_order_refunded")
    assert [(r["account"], r["code"]) for r in refunded] == [
        (chain.carol, codes.INSUFFICIENT_BALANCE)
    ]
    assert chain.balance(chain.carol, FUND) == 1_000  # back, and not carried
    assert chain.queue().orders == ()


def test_a_redemption_payout_meets_the_central_banks_limits() -> None:
    chain = FundMarket()
    chain.units(chain.alice, 810)
    chain.units(chain.bob, 10)
    assert chain.deposit(CASH_ACCOUNT, 1_000_000).code == codes.OK
    assert chain.deposit(chain.alice, 45_000).code == codes.OK
    chain.limits(holder_max=100_000)  # alice would hold 45_000 + 99_994
    assert chain.run("alice", Redeem(FUND, chain.alice, 810)).code == codes.OK
    assert chain.run("bob", Redeem(FUND, chain.bob, 10)).code == codes.OK
    assert chain.price().code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    refunded = events(receipt, "fund_order_refunded")
    assert [(r["account"], r["code"]) for r in refunded] == [(chain.alice, codes.CASH_HOLDER_CAP)]
    assert [e["account"] for e in events(receipt, "fund_redemption_filled")] == [chain.bob]
    assert chain.balance(chain.alice, FUND) == 810
    assert chain.balance(chain.alice, CASH) == 45_000


def test_the_gate_fills_pro_rata_and_carries_the_rest() -> None:
    chain = FundMarket(gate_bps=1_000)  # 10% of units outstanding per dealing
    chain.units(chain.alice, 80_000)
    chain.units(chain.bob, 40_000)
    chain.units(chain.carol, 880_000)  # 1,000,000 outstanding: the gate is 100,000
    assert chain.deposit(CASH_ACCOUNT, 10**12).code == codes.OK
    assert chain.run("alice", Redeem(FUND, chain.alice, 80_000)).code == codes.OK
    assert chain.run("bob", Redeem(FUND, chain.bob, 40_000)).code == codes.OK
    assert chain.price().code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    # 120,000 asked of a 100,000 gate: 80,000 * 100,000 // 120,000 and 40,000 * ... // ...
    assert [e["units"] for e in events(receipt, "fund_redemption_filled")] == [66_666, 33_333]
    carried = events(receipt, "fund_redemption_carried")
    assert [(c["account"], c["units"]) for c in carried] == [
        (chain.alice, 13_334),
        (chain.bob, 6_667),
    ]
    assert chain.balance(DEALING, FUND) == 20_001
    assert [o.amount for o in chain.queue().orders] == [13_334, 6_667]
    # the carried rest deals next time, before the cut-off of orders placed then
    assert chain.price(at_ms=chain.now_ms + DAY_MS).code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    assert [e["units"] for e in events(receipt, "fund_redemption_filled")] == [13_334, 6_667]
    assert chain.queue().orders == ()
    assert chain.balance(DEALING, FUND) == 0


def test_a_dealing_of_many_orders_balances_exactly() -> None:
    """120 orders in one dealing under a 5% gate: every sen and unit accounted for."""
    chain = FundMarket(gate_bps=500)
    rng = random.Random(20260301)
    subscribers = {f"s{i:02}": rng.randrange(1_000, 10**8) for i in range(60)}
    redeemers = {f"r{i:02}": rng.randrange(1, 10**6) for i in range(60)}
    for party in [*subscribers, *redeemers]:
        chain.register(party)
    assert chain.deposit(CASH_ACCOUNT, 10**12).code == codes.OK
    for party, amount in subscribers.items():
        assert chain.deposit(account_id(party), amount).code == codes.OK
    for party, units in redeemers.items():
        chain.units(account_id(party), units)
    orders = [chain.tx(p, Subscribe(FUND, account_id(p), a)) for p, a in subscribers.items()]
    orders += [chain.tx(p, Redeem(FUND, account_id(p), u)) for p, u in redeemers.items()]
    assert {r.code for r in chain.block(orders).receipts} == {codes.OK}
    cash_before = _sum_balances(chain, CASH)
    supply_before = chain.value(f"inst/{FUND}").supply
    assert chain.price(nav=10_321).code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    subscribed = events(receipt, "fund_subscription_filled")
    redeemed = events(receipt, "fund_redemption_filled")
    assert len(subscribed) == 60
    for fill in subscribed:
        paid = subscribers[fill["account"].split(":")[0]]
        assert fill["cash"] + fill["refund"] == paid
        assert fill["units"] == paid * 100 // 10_321
        assert chain.balance(fill["account"], CASH) == fill["refund"]
    gate, total = supply_before * 500 // 10_000, sum(redeemers.values())
    assert total > gate  # the gate binds
    for fill in redeemed:
        asked = redeemers[fill["account"].split(":")[0]]
        assert fill["units"] == asked * gate // total
        assert fill["cash"] == fill["units"] * 10_321 // 100
    assert sum(f["units"] for f in redeemed) <= gate
    assert _sum_balances(chain, CASH) == cash_before
    supply = chain.value(f"inst/{FUND}").supply
    assert supply == _sum_balances(chain, FUND)
    assert supply == supply_before + sum(f["units"] for f in subscribed) - sum(
        f["units"] for f in redeemed
    )
    assert chain.balance(DEALING, FUND) == sum(o.amount for o in chain.queue().orders)


def test_gate_fills_arithmetic() -> None:
    assert gate_fills((10, 20), 1_000, 10_000) == (10, 20)
    assert gate_fills((80, 40), 1_000, 1_000) == (66, 33)
    assert gate_fills((1, 1, 1), 10, 1) == (0, 0, 0)
    assert units_for_cash(100_050, NAV, 2) == (810, 99_995)


def _sum_balances(chain: FundMarket, code: str) -> int:
    suffix = f"/{code}"
    return sum(
        v for k, v in chain.ledger.values.items() if k.startswith("bal/") and k.endswith(suffix)
    )


@settings(max_examples=25, deadline=None)
@given(
    subscriptions=st.lists(
        st.tuples(st.integers(1_000, 10**9), st.booleans()), min_size=0, max_size=6
    ),
    redemptions=st.lists(st.integers(1, 10**7), min_size=1, max_size=6),
    nav=st.integers(1, 10**7),
    gate_bps=st.integers(1, 10_000),
)
def test_a_dealing_conserves_cash_and_units(
    subscriptions: list[tuple[int, bool]], redemptions: list[int], nav: int, gate_bps: int
) -> None:
    """Subscribers are eligible (sophisticated) or not (no category claim: refunded)."""
    chain = FundMarket(gate_bps=gate_bps, sophisticated_only=True)
    subscribers = [f"s{i}" for i in range(len(subscriptions))]
    redeemers = [f"r{i}" for i in range(len(redemptions))]
    for party, (_, eligible) in zip(subscribers, subscriptions, strict=True):
        if eligible:
            chain.investor(party, category="sophisticated")
        else:
            chain.register(party)
    for party in redeemers:
        chain.investor(party, category="sophisticated")
    assert chain.deposit(CASH_ACCOUNT, 10**13).code == codes.OK
    for party, (amount, _) in zip(subscribers, subscriptions, strict=True):
        assert chain.deposit(account_id(party), amount).code == codes.OK
    for party, units in zip(redeemers, redemptions, strict=True):
        chain.units(account_id(party), units * 2)
    chain.units(chain.carol, 10**7)
    orders: list[SignedTx] = [
        chain.tx(p, Subscribe(FUND, account_id(p), a))
        for p, (a, _) in zip(subscribers, subscriptions, strict=True)
    ]
    orders += [
        chain.tx(p, Redeem(FUND, account_id(p), u))
        for p, u in zip(redeemers, redemptions, strict=True)
    ]
    assert {r.code for r in chain.block(orders).receipts} <= {codes.OK}
    cash_before = _sum_balances(chain, CASH)
    supply_before = chain.value(f"inst/{FUND}").supply
    assert chain.price(nav=nav).code == codes.OK
    receipt = chain.run(MANAGER, Deal(FUND))
    assert receipt.code == codes.OK
    assert _sum_balances(chain, CASH) == cash_before  # a dealing creates and destroys no cash
    supply = chain.value(f"inst/{FUND}").supply
    assert supply == _sum_balances(chain, FUND)
    filled = {e["account"]: e["units"] for e in events(receipt, "fund_redemption_filled")}
    minted = sum(e["units"] for e in events(receipt, "fund_subscription_filled"))
    assert supply == supply_before + minted - sum(filled.values())
    gate = supply_before * gate_bps // 10_000
    total = sum(redemptions)
    assert sum(filled.values()) <= (total if total <= gate else gate)
    for party, units in zip(redeemers, redemptions, strict=True):
        share = units if total <= gate else units * gate // total
        assert filled.get(account_id(party), 0) <= share  # never more than pro rata
    refunded = {e["account"]: e["code"] for e in events(receipt, "fund_order_refunded")}
    for party, (amount, eligible) in zip(subscribers, subscriptions, strict=True):
        if not eligible:  # refunded in full, with the rule's code (unless it buys nothing)
            buys = units_for_cash(amount, nav, 2)[0]
            expected = codes.RULE_INVESTOR_CATEGORY if buys else codes.DEALING_TOO_SMALL
            assert refunded[account_id(party)] == expected
            assert chain.balance(account_id(party), CASH) == amount
            assert chain.balance(account_id(party), FUND) == 0
    # what stays queued is exactly what the dealing account holds
    queued = chain.queue().orders
    assert chain.balance(DEALING, FUND) == sum(o.amount for o in queued)
    assert chain.balance(DEALING, CASH) == 0
    assert all(o.side == "redeem" for o in queued)

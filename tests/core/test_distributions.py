"""Record dates, distributions and ballots: the register frozen at a block while holders
trade on, one transaction paying every holder to the sen with the residue accounted for,
refused payments kept as owed and claimed later, and votes weighted by units at the record."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support import Chain

from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.distributions import Distribution, distribution_key, owed_key
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.lifecycle import (
    CastVote,
    ClaimDistribution,
    CloseBallot,
    CloseRecord,
    Distribute,
    OpenBallot,
    TakeRecord,
)
from rantai.core.kinds.parties import GrantRole, OpenAccount
from rantai.core.kinds.policies import SetRules
from rantai.core.kinds.transfers import Transfer
from rantai.core.record_dates import record_key, snapshot_key
from rantai.core.rules import DEFAULT_TERMS, MaxBalance

ISSUER = account_id("issuer")
RESIDUE = account_id("issuer", "residue")
DAY_MS = 86_400_000


def ok(receipt: Receipt) -> Receipt:
    assert receipt.code == codes.OK, receipt
    return receipt


def events(receipt: Receipt, name: str) -> list[dict[str, object]]:
    return [e.attrs for e in receipt.events if e.name == name]


class Market(Chain):
    """Investors holding BOND1 (from ``Chain.market``), and the issuer holding MYR cash."""

    def __init__(self, holdings: list[int], cash_rules: tuple[MaxBalance, ...] = ()) -> None:
        super().__init__()
        self.register("issuer", ("issuer",), "organisation")
        ok(self.run("BNM", GrantRole("issuer", "cash_issuer")))
        ok(self.run("issuer", OpenAccount("residue", "own")))
        ok(self.run("issuer", CreateInstrument("BOND1", "bond", "Test bond", 2, 10**15)))
        ok(self.run("issuer", CreateInstrument("SUK1", "sukuk", "Test sukuk", 2, 10**15)))
        ok(self.run("issuer", CreateInstrument("MYR", "cash", "Ringgit", 2, 10**15)))
        if cash_rules:
            ok(self.run("issuer", SetRules("MYR", cash_rules, DEFAULT_TERMS)))
        ok(self.run("issuer", Mint("MYR", ISSUER, 10**12, "float")))
        self.investors = [account_id(f"inv-{i}") for i in range(len(holdings))]
        txs = []
        for i, units in enumerate(holdings):
            self.register(f"inv-{i}")
            if units:
                txs.append(self.tx("issuer", Mint("BOND1", self.investors[i], units, "primary")))
        ok_all(self.block(txs).receipts)

    def distribute(self, record: str, **kw: object) -> Receipt:
        fields: dict[str, object] = {
            "instrument": "BOND1",
            "record": record,
            "kind": "coupon",
            "pay_instrument": "MYR",
            "source": ISSUER,
            "total": 0,
            "rate_numerator": 0,
            "rate_denominator": 0,
            "residue_account": RESIDUE,
            "reference": "coupon 1",
        }
        fields.update(kw)
        return self.run("issuer", Distribute(**fields))  # type: ignore[arg-type]

    def cash_total(self) -> int:
        return sum(
            v for k, v in self.ledger.values.items() if k.startswith("bal/") and k.endswith("/MYR")
        )


def ok_all(receipts: tuple[Receipt, ...]) -> None:
    for receipt in receipts:
        ok(receipt)


def test_record_date_keeps_the_register_of_its_block_while_holders_trade_on() -> None:
    m = Market([1000, 2000, 0])
    a, b, c = m.investors
    # The record and a transfer after it in the same block: the record is the end of that block.
    outcome = m.block(
        [
            m.tx("issuer", TakeRecord("BOND1", "c1", "coupon 1")),
            m.tx("inv-0", Transfer(a, c, "BOND1", 100, "")),
        ]
    )
    ok_all(outcome.receipts)
    # Trades after the record: a sells everything, b buys more, c buys and sells.
    ok(m.run("inv-0", Transfer(a, b, "BOND1", 900, "")))
    ok(m.run("inv-2", Transfer(c, a, "BOND1", 50, "")))
    ok(m.run("issuer", Mint("BOND1", c, 7, "tap")))
    # Saved balances are those at the record, for the accounts that moved since.
    assert m.ledger.values[snapshot_key("BOND1", "c1", a)] == 900
    assert m.ledger.values[snapshot_key("BOND1", "c1", b)] == 2000
    assert m.ledger.values[snapshot_key("BOND1", "c1", c)] == 100
    receipt = ok(m.distribute("c1", rate_numerator=3, rate_denominator=1))
    paid = {e["account"]: (e["units"], e["amount"]) for e in events(receipt, "distribution_paid")}
    assert paid == {a: (900, 2700), b: (2000, 6000), c: (100, 300)}


def test_a_record_is_not_read_in_the_block_that_takes_it() -> None:
    m = Market([1000])
    outcome = m.block(
        [
            m.tx("issuer", TakeRecord("BOND1", "c1", "")),
            m.tx("issuer", m_distribute_body("c1", rate_numerator=1, rate_denominator=1)),
        ]
    )
    assert [r.code for r in outcome.receipts] == [codes.OK, codes.RECORD_NOT_FINAL]


def m_distribute_body(record: str, **kw: int) -> Distribute:
    return Distribute(
        "BOND1",
        record,
        "coupon",
        "MYR",
        ISSUER,
        kw.get("total", 0),
        kw.get("rate_numerator", 0),
        kw.get("rate_denominator", 0),
        RESIDUE,
        "",
    )


def test_pro_rata_total_pays_rounded_down_shares_and_the_residue_to_the_named_account() -> None:
    m = Market([1, 1, 1])
    ok(m.run("issuer", TakeRecord("BOND1", "d1", "")))
    before = m.balance(ISSUER, "MYR")
    receipt = ok(m.distribute("d1", total=100))
    amounts = sorted(e["amount"] for e in events(receipt, "distribution_paid"))
    assert amounts == [33, 33, 33]
    assert m.balance(RESIDUE, "MYR") == 1
    assert before - m.balance(ISSUER, "MYR") == 100
    (summary,) = events(receipt, "distribution")
    assert (summary["due"], summary["paid"], summary["residue"], summary["holders"]) == (
        100,
        99,
        1,
        3,
    )


def test_per_unit_rate_residue_is_what_rounding_left_over_the_whole_issue() -> None:
    m = Market([3, 3, 4])
    ok(m.run("issuer", TakeRecord("BOND1", "c1", "")))
    # 10 units at 1/3 per unit: 1 + 1 + 1 = 3 paid; floor(10/3) = 3 due; no residue.
    receipt = ok(m.distribute("c1", rate_numerator=1, rate_denominator=3))
    assert [e["amount"] for e in events(receipt, "distribution_paid")] == [1, 1, 1]
    assert events(receipt, "distribution")[0]["residue"] == 0
    # At 2/3: 2 + 2 + 2 = 6 paid; floor(20/3) = 6 due.
    ok(m.run("issuer", TakeRecord("BOND1", "c2", "")))
    receipt = ok(m.distribute("c2", rate_numerator=5, rate_denominator=3))
    # 3*5//3=5, 5, 4*5//3=6 -> 16 paid; floor(50/3)=16 due.
    assert sum(e["amount"] for e in events(receipt, "distribution_paid")) == 16


def test_refusals_in_order() -> None:
    m = Market([10])
    ok(m.run("issuer", TakeRecord("BOND1", "c1", "")))
    assert m.distribute("nope", total=5).code == codes.UNKNOWN_RECORD
    assert m.distribute("c1", total=5, kind="profit").code == codes.WRONG_DISTRIBUTION_KIND
    assert m.distribute("c1", total=5, pay_instrument="BOND1").code == codes.NOT_CASH
    assert m.distribute("c1", total=10**13).code == codes.INSUFFICIENT_BALANCE
    assert m.run("inv-0", m_distribute_body("c1", total=5)).code == codes.NOT_AUTHORIZED
    assert m.distribute("c1", total=5, source=account_id("inv-0")).code == codes.NOT_AUTHORIZED
    ok(m.run("issuer", TakeRecord("SUK1", "p1", "")))
    body = Distribute("SUK1", "p1", "coupon", "MYR", ISSUER, 5, 0, 0, RESIDUE, "")
    assert m.run("issuer", body).code == codes.WRONG_DISTRIBUTION_KIND  # a sukuk pays no coupon
    body = Distribute("SUK1", "p1", "profit", "MYR", ISSUER, 5, 0, 0, RESIDUE, "")
    assert m.run("issuer", body).code == codes.NO_HOLDERS
    ok(m.run("issuer", CloseRecord("BOND1", "c1")))
    assert m.distribute("c1", total=5).code == codes.RECORD_CLOSED
    assert m.run("issuer", CloseRecord("BOND1", "c1")).code == codes.RECORD_CLOSED


def test_closing_a_record_drops_its_saved_balances_and_stops_saving() -> None:
    m = Market([100, 100])
    a, b = m.investors
    ok(m.run("issuer", TakeRecord("BOND1", "c1", "")))
    ok(m.run("inv-0", Transfer(a, b, "BOND1", 10, "")))
    assert snapshot_key("BOND1", "c1", a) in m.ledger.values
    ok(m.run("issuer", CloseRecord("BOND1", "c1")))
    assert not any(k.startswith("snap/") for k in m.ledger.values)
    assert "recopen/BOND1" not in m.ledger.values
    ok(m.run("inv-0", Transfer(a, b, "BOND1", 10, "")))
    assert not any(k.startswith("snap/") for k in m.ledger.values)
    assert m.ledger.values[record_key("BOND1", "c1")].status == "closed"


def test_a_refused_payment_is_owed_then_claimed_once_the_cause_is_gone() -> None:
    cap = 10**12  # the issuer's float in Market, all of it
    m = Market([100, 100], cash_rules=(MaxBalance(cap),))
    a, b = m.investors
    ok(m.run("issuer", TakeRecord("BOND1", "c1", "")))
    # inv-1 holds 5 below the cash cap: its coupon of 10 would break rule:max_balance.
    ok(m.run("issuer", Transfer(ISSUER, b, "MYR", cap - 5, "")))
    ok(m.run("issuer", Mint("MYR", ISSUER, 1000, "more float")))
    cash_before = m.cash_total()
    receipt = ok(m.distribute("c1", rate_numerator=1, rate_denominator=10))
    (owed,) = events(receipt, "distribution_owed")
    assert (owed["account"], owed["amount"], owed["code"]) == (b, 10, codes.RULE_MAX_BALANCE)
    assert [e["account"] for e in events(receipt, "distribution_paid")] == [a]
    dist = receipt.events[-1].attrs["distribution"]
    assert isinstance(dist, str)
    assert m.ledger.values[owed_key(dist, b)] == 10
    record: Distribution = m.ledger.values[distribution_key(dist)]
    assert (record.paid, record.owed) == (10, 10)
    assert m.cash_total() == cash_before  # cash only moved, the owed part stayed with the payer
    # Still refused while the cause lasts; paid once inv-1 has room.
    assert m.run("inv-1", ClaimDistribution(dist, b)).code == codes.RULE_MAX_BALANCE
    ok(m.run("inv-1", Transfer(b, ISSUER, "MYR", 500, "")))
    ok(m.run("inv-1", ClaimDistribution(dist, b)))
    assert owed_key(dist, b) not in m.ledger.values
    record = m.ledger.values[distribution_key(dist)]
    assert (record.paid, record.owed) == (20, 0)
    assert m.run("inv-1", ClaimDistribution(dist, b)).code == codes.NOTHING_OWED
    assert m.run("inv-0", ClaimDistribution(dist, b)).code == codes.NOT_AUTHORIZED


def test_ballot_weighs_units_at_the_record_one_vote_per_account() -> None:
    m = Market([600, 300, 100])
    a, b, c = m.investors
    ok(m.run("issuer", TakeRecord("BOND1", "v1", "extension consent")))
    ok(m.run("inv-2", Transfer(c, a, "BOND1", 100, "")))  # after the record: a's weight stays 600
    closes = m.now_ms + DAY_MS
    body = OpenBallot("BOND1", "extend", "v1", "Extend maturity by a year?", ("yes", "no"), closes)
    ok(m.run("issuer", body))
    assert m.run("inv-0", CastVote("BOND1", "extend", a, 2)).code == codes.UNKNOWN_OPTION
    assert m.run("inv-1", CastVote("BOND1", "extend", a, 0)).code == codes.NOT_AUTHORIZED
    ok(m.run("inv-0", CastVote("BOND1", "extend", a, 1)))
    assert m.run("inv-0", CastVote("BOND1", "extend", a, 0)).code == codes.ALREADY_VOTED
    ok(m.run("inv-1", CastVote("BOND1", "extend", b, 0)))
    assert m.run("issuer", CloseRecord("BOND1", "v1")).code == codes.BALLOT_OPEN
    assert m.run("inv-2", CloseBallot("BOND1", "extend")).code == codes.BALLOT_OPEN
    m.now_ms = closes
    assert m.run("inv-2", CastVote("BOND1", "extend", c, 0)).code == codes.BALLOT_CLOSED
    receipt = ok(m.run("inv-2", CloseBallot("BOND1", "extend")))
    (result,) = events(receipt, "ballot_closed")
    assert result["tallies"] == "300,600"
    assert (result["cast_units"], result["eligible_units"], result["voters"]) == (900, 1000, 2)
    assert result["leading"] == 1
    ok(m.run("issuer", CloseRecord("BOND1", "v1")))


def test_a_holder_who_bought_after_the_record_has_no_vote() -> None:
    m = Market([600, 0])
    a, b = m.investors
    ok(m.run("issuer", TakeRecord("BOND1", "v1", "")))
    ok(m.run("inv-0", Transfer(a, b, "BOND1", 600, "")))
    ok(m.run("issuer", OpenBallot("BOND1", "q", "v1", "?", ("yes", "no"), m.now_ms + DAY_MS)))
    assert m.run("inv-1", CastVote("BOND1", "q", b, 0)).code == codes.NO_UNITS_AT_RECORD
    ok(m.run("inv-0", CastVote("BOND1", "q", a, 0)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    holdings=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12),
    trades=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 11), st.integers(1, 10**5)), max_size=8
    ),
    total=st.integers(min_value=1, max_value=10**9),
    rate=st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)),
)
def test_distributions_conserve_supply_and_pay_no_one_above_the_exact_share(
    holdings: list[int], trades: list[tuple[int, int, int]], total: int, rate: tuple[int, int]
) -> None:
    if not any(holdings):
        holdings[0] = 1
    m = Market(holdings)
    ok(m.run("issuer", TakeRecord("BOND1", "r1", "")))
    at_record = {m.investors[i]: u for i, u in enumerate(holdings) if u}
    for src, dst, amount in trades:  # trades after the record do not move the register
        n = len(m.investors)
        s, d = m.investors[src % n], m.investors[dst % n]
        if s != d and m.balance(s, "BOND1") >= amount:
            ok(m.run(f"inv-{src % n}", Transfer(s, d, "BOND1", amount, "")))
    bond_supply = m.ledger.values["inst/BOND1"].supply
    cash_supply = m.ledger.values["inst/MYR"].supply
    units = sum(at_record.values())
    for receipt, exact in (
        (ok(m.distribute("r1", total=total)), lambda u: total * u / units),
        (
            ok(m.distribute("r1", rate_numerator=rate[0], rate_denominator=rate[1])),
            lambda u: u * rate[0] / rate[1],
        ),
    ):
        paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
        (summary,) = events(receipt, "distribution")
        assert set(paid) <= set(at_record)
        for account, amount in paid.items():
            assert isinstance(amount, int)
            assert amount <= exact(at_record[account]) < amount + 1
        assert sum(paid.values()) + summary["residue"] == summary["due"]  # type: ignore[operator]
        assert 0 <= summary["residue"] < len(at_record)  # type: ignore[operator]
    assert m.ledger.values["inst/BOND1"].supply == bond_supply
    assert m.ledger.values["inst/MYR"].supply == cash_supply == m.cash_total()
    assert bond_supply == sum(
        v for k, v in m.ledger.values.items() if k.startswith("bal/") and k.endswith("/BOND1")
    )

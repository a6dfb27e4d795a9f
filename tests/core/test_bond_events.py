"""Bond events beyond the plain coupon: floating coupons from the oracle's fixings, calls,
puts, zero-coupon redemption, and the refusals of each step in their documented order."""

from __future__ import annotations

from fractions import Fraction

from tests.core.lifecycle_market import CASH, ISSUER, LifecycleMarket, events, ok
from tests.core.test_bond_life import BOND, bond_terms, new_bond

from rantai import sdk
from rantai.core import codes
from rantai.core.bonds import ACTIVE, BondState, periods_paid, redemption
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.lifecycle import TakeRecord


def test_floating_coupon_uses_the_named_oracles_fixing_plus_spread() -> None:
    m = LifecycleMarket(investors=2)
    a, b = m.investors
    floating = sdk.income("floating", 150, index="KLIBOR-6M", oracle="oracle", fixing_days=2)
    new_bond(m, income=floating)
    m.on("2026-03-10")
    ok(m.run("issuer", Mint(BOND, a, 1_000_000_00, "")))
    ok(m.run("issuer", Mint(BOND, b, 333_33, "")))
    m.on("2026-09-16", 9)  # a holiday: the record date is the 15th
    ok(m.run("issuer", TakeRecord(BOND, "p1", "")))
    m.on("2026-09-17")
    # The fixing date is 2 business days before the period start (Mon 16 Mar 2026): 12 Mar.
    assert m.run("issuer", sdk.pay_period(BOND, 1, "p1")).code == codes.NO_FIXING
    # Another party's fixing of the same index does not count.
    assert m.run("inv-0", sdk.publish_fixing("KLIBOR-6M", "2026-03-12", 900)).code == (
        codes.NOT_AUTHORIZED
    )
    ok(m.run("oracle", sdk.publish_fixing("KLIBOR-6M", "2026-03-12", 325)))
    again = m.run("oracle", sdk.publish_fixing("KLIBOR-6M", "2026-03-12", 330))
    assert again.code == codes.ALREADY_EXISTS  # never revised
    receipt = ok(m.run("issuer", sdk.pay_period(BOND, 1, "p1")))
    rate = Fraction(100 * (325 + 150), 100 * 10_000) * Fraction(1, 2)  # per minor unit, ICMA
    paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
    assert paid == {a: int(1_000_000_00 * rate), b: int(333_33 * rate)}


def test_a_called_bond_redeems_at_the_call_price_on_the_call_date() -> None:
    m = LifecycleMarket(investors=1)
    (a,) = m.investors
    new_bond(m, calls=[sdk.option_date("2027-03-16", 10_150)])
    m.on("2026-03-10")
    ok(m.run("issuer", Mint(BOND, a, 1_000_00, "")))
    assert m.run("issuer", sdk.call_bond(BOND, "2027-09-16")).code == codes.NOT_AN_OPTION_DATE
    ok(m.run("issuer", sdk.call_bond(BOND, "2027-03-16")))
    for number, (record, payment) in enumerate(
        [("2026-09-15", "2026-09-17"), ("2027-03-15", "2027-03-16")], start=1
    ):
        m.on(record)
        ok(m.run("issuer", TakeRecord(BOND, f"p{number}", "")))
        if number == 2:
            m.on(payment)
            assert m.run("issuer", sdk.redeem_bond(BOND)).code == codes.PERIODS_UNPAID
        m.on(payment)
        ok(m.run("issuer", sdk.pay_period(BOND, number, f"p{number}")))
    receipt = ok(m.run("issuer", sdk.redeem_bond(BOND)))
    assert events(receipt, "distribution_paid")[0]["amount"] == 1_000_00 * 10_150 // 10_000
    assert m.supply(BOND) == 0
    assert m.run("issuer", sdk.pay_period(BOND, 3, "p3")).code == codes.BOND_REDEEMED


def test_puts_buy_back_what_each_holder_put_and_still_holds() -> None:
    m = LifecycleMarket(investors=2)
    a, b = m.investors
    new_bond(m, puts=[sdk.option_date("2027-03-16", 10_000)])
    m.on("2026-03-10")
    ok(m.run("issuer", Mint(BOND, a, 1_000_00, "")))
    ok(m.run("issuer", Mint(BOND, b, 1_000_00, "")))
    m.on("2026-10-01")
    ok(m.run("inv-0", sdk.exercise_put(BOND, a, 400_00, "2027-03-16")))
    ok(m.run("inv-1", sdk.exercise_put(BOND, b, 1_000_00, "2027-03-16")))
    assert m.run("inv-1", sdk.exercise_put(BOND, a, 1, "2027-03-16")).code == (codes.NOT_AUTHORIZED)
    m.dvp(b, a, BOND, 300_00, 300_00)  # b sells part of what it put
    m.on("2027-03-15")
    assert m.run("issuer", sdk.settle_puts(BOND, "2027-03-16")).code == codes.NOT_DUE
    m.on("2027-03-16")
    before = m.balance(ISSUER, CASH)
    receipt = ok(m.run("issuer", sdk.settle_puts(BOND, "2027-03-16")))
    paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
    assert paid == {a: 400_00, b: 700_00}
    assert before - m.balance(ISSUER, CASH) == 1_100_00
    assert (m.balance(a, BOND), m.balance(b, BOND)) == (900_00, 0)
    assert m.supply(BOND) == 900_00
    m.assert_balanced(BOND)


def test_zero_coupon_pays_only_at_maturity() -> None:
    m = LifecycleMarket(investors=1)
    (a,) = m.investors
    new_bond(m, months_per_period=0, income=sdk.income("zero"), day_count="act/365f")
    m.on("2026-03-10")
    ok(m.run("issuer", Mint(BOND, a, 1_000_00, "")))
    assert m.run("issuer", sdk.pay_period(BOND, 1, "p1")).code == codes.NO_INCOME
    m.on("2029-03-15")
    assert m.run("issuer", sdk.redeem_bond(BOND)).code == codes.NOT_DUE
    m.on("2029-03-16")
    receipt = ok(m.run("issuer", sdk.redeem_bond(BOND)))
    assert events(receipt, "distribution_paid")[0]["amount"] == 1_000_00


def test_refusals_in_order() -> None:
    m = LifecycleMarket(investors=1)
    (a,) = m.investors
    ok(m.run("issuer", CreateInstrument("SUK9", "sukuk", "a sukuk", 2, 10**12)))
    wrong = m.run("issuer", sdk.set_bond_terms("SUK9", bond_terms()))
    assert wrong.code == codes.WRONG_INSTRUMENT_KIND  # a sukuk needs a structure
    new_bond(m)
    again = m.run("issuer", sdk.set_bond_terms(BOND, bond_terms()))
    assert again.code == codes.TERMS_LOCKED
    m.on("2026-03-10")
    ok(m.run("issuer", Mint(BOND, a, 1_000_00, "")))
    m.on("2026-09-14")
    ok(m.run("issuer", TakeRecord(BOND, "early", "")))  # before the record date (the 16th)
    assert m.run("inv-0", sdk.pay_period(BOND, 1, "early")).code == codes.NOT_AUTHORIZED
    assert m.run("issuer", sdk.pay_period(BOND, 2, "early")).code == codes.WRONG_PERIOD
    assert m.run("issuer", sdk.pay_period(BOND, 1, "early")).code == codes.NOT_DUE
    m.on("2026-09-17")
    assert m.run("issuer", sdk.pay_period(BOND, 1, "nope")).code == codes.UNKNOWN_RECORD
    assert m.run("issuer", sdk.pay_period(BOND, 1, "early")).code == codes.RECORD_TOO_EARLY
    ok(m.run("issuer", TakeRecord(BOND, "p1", "")))  # a late record date is the issuer's risk
    ok(m.run("issuer", sdk.pay_period(BOND, 1, "p1")))
    assert m.run("issuer", sdk.pay_period(BOND, 1, "p1")).code == codes.WRONG_PERIOD
    assert m.run("issuer", sdk.partial_redeem(BOND, 100)).code == codes.PARTIAL_TOO_LARGE
    plain = "PLAIN"
    ok(m.run("issuer", CreateInstrument(plain, "bond", "no terms", 2, 10**12)))
    assert m.run("issuer", sdk.redeem_bond(plain)).code == codes.NO_BOND_TERMS


def test_redemption_is_on_the_call_date_adjusted_to_a_business_day() -> None:
    terms = bond_terms(calls=[sdk.option_date("2027-03-20", 10_150)])  # a Saturday
    state = BondState(face=100, next_period=1, call_date="", call_price_bp=0, status=ACTIVE)
    assert redemption(terms, state) == ("2029-03-16", 10_000)
    called = BondState(100, 1, "2027-03-20", 10_150, ACTIVE)
    assert redemption(terms, called) == ("2027-03-22", 10_150)
    paid = [p.index for p, done in periods_paid(terms, called) if done]
    assert paid == []
    assert [done for _, done in periods_paid(terms, BondState(100, 3, "", 0, ACTIVE))] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]

"""A government bond through its whole life, in one test: terms, book-building at par, DvP
issuance, secondary DvP trades between record and payment dates, every semi-annual coupon
at its record date (Act/Act ICMA, a holiday moving a payment date by modified following),
a partial redemption, and redemption at maturity; every sen accounted for at each step.
Then the refusals each step can meet."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from tests.core.lifecycle_market import (
    CASH,
    ISSUER,
    RESIDUE,
    LifecycleMarket,
    at,
    events,
    my_calendar,
    ok,
)

from rantai import sdk
from rantai.core import codes
from rantai.core.bonds import BondTerms
from rantai.core.books import Allocation
from rantai.core.kinds.books import Allocate, OpenBook, PlaceOrder, allocation_instruction_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.lifecycle import TakeRecord
from rantai.core.kinds.policies import PauseInstrument
from rantai.core.kinds.settlement import AffirmSettlement

BOND = "MGS-2029"
FACE = 100  # RM 1.00 face per whole unit; 2 decimals, so a minor unit is 1 sen of face
RATE_BP = 385
# Issue 2026-03-16, maturity 2029-03-16, semi-annual: six regular periods. 16 Sep is
# Malaysia Day, so the September payments move to the 17th (modified following).
HOLIDAYS = ("2026-09-16", "2027-09-16", "2028-09-16")
PAYMENTS = [
    ("2026-09-17", "2026-09-16"),  # (payment date, record date: 1 business day before)
    ("2027-03-16", "2027-03-15"),
    ("2027-09-17", "2027-09-15"),  # the 16th is the holiday: the record rolls back to the 15th
    ("2028-03-16", "2028-03-15"),
    ("2028-09-18", "2028-09-15"),  # 16 Sep 2028 is a Saturday and 17th a Sunday
    ("2029-03-16", "2029-03-15"),
]


def bond_terms(**overrides: Any) -> BondTerms:
    fields: dict[str, Any] = {
        "cash": CASH,
        "payer": ISSUER,
        "residue_account": RESIDUE,
        "face": FACE,
        "issue_date": "2026-03-16",
        "maturity_date": "2029-03-16",
        "months_per_period": 6,
        "income": sdk.income("fixed", RATE_BP),
        "calendar": my_calendar(*HOLIDAYS),
        "day_count": "act/act-icma",
    }
    fields.update(overrides)
    return sdk.bond_terms(**fields)


def new_bond(m: LifecycleMarket, **overrides: Any) -> None:
    ok(m.run("issuer", CreateInstrument(BOND, "bond", "MGS 3.85% 2029", 2, 10**12)))
    ok(m.run("issuer", sdk.set_bond_terms(BOND, bond_terms(**overrides))))


def coupon_due(units: int, face: int = FACE) -> int:
    """Independently of the engine: a regular ICMA half-year is exactly 1/2 a year."""
    return int(Fraction(units * face, 100) * Fraction(RATE_BP, 10_000) * Fraction(1, 2))


def test_a_bond_from_book_building_to_maturity() -> None:
    m = LifecycleMarket(investors=4)
    a, b, c, d = m.investors
    new_bond(m)
    issued = 10_000_00  # RM 10,000 of face in all
    m.on("2026-03-10")
    ok(m.run("issuer", Mint(BOND, ISSUER, issued, "tranche 1")))
    # Book-building at par: 1 sen of cash per minor unit.
    book = ok(m.run("issuer", OpenBook(BOND, CASH, 1, ISSUER, at("2026-03-13")))).tx_id.hex()
    orders = {a: 5_000_00, b: 3_000_00, c: 2_500_00, d: 10_00}  # d: RM 10, a retail ticket
    for account, quantity in orders.items():
        ok(m.run(account.split(":")[0], PlaceOrder(book, account, quantity)))
    m.on("2026-03-13", 12)
    allocation = (
        Allocation(a, 5_000_00),
        Allocation(b, 2_490_00),
        Allocation(c, 2_500_00),
        Allocation(d, 10_00),
    )
    allocated = ok(m.run("issuer", Allocate(book, allocation, at("2026-03-16", 18))))
    for item in allocation:
        instruction = allocation_instruction_id(allocated.tx_id, item.account)
        ok(m.run(item.account.split(":")[0], AffirmSettlement(instruction)))
    assert m.holdings(BOND) == {a: 5_000_00, b: 2_490_00, c: 2_500_00, d: 10_00}
    assert m.balance(ISSUER, CASH) == 10**12 + issued  # paid at par, to the sen
    m.assert_balanced(BOND)

    face = FACE
    for number, (payment, record) in enumerate(PAYMENTS, start=1):
        # A trade before the record date moves the register...
        m.on(record, 9)
        m.dvp(a, b, BOND, 100_00, 100_00)
        ok(m.run("issuer", TakeRecord(BOND, f"p{number}", f"coupon {number}")))
        register = m.holdings(BOND)
        register.pop(ISSUER, None)
        # ...one after it (same day, later block) does not: it is ex-coupon.
        m.on(record, 15)
        m.dvp(b, c, BOND, 50_00, 50_00)
        if number > 1:
            early = m.run("issuer", sdk.pay_period(BOND, number, f"p{number}"))
            assert early.code == codes.NOT_DUE
        m.on(payment)
        issuer_cash = m.balance(ISSUER, CASH)
        residue_before = m.balance(RESIDUE, CASH)
        receipt = ok(m.run("issuer", sdk.pay_period(BOND, number, f"p{number}")))
        paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
        assert paid == {acct: coupon_due(units, face) for acct, units in register.items()}
        assert all(e["kind"] == "coupon" for e in events(receipt, "distribution_paid"))
        (summary,) = events(receipt, "distribution")
        exact = Fraction(sum(register.values()) * face, 100) * Fraction(RATE_BP, 20_000)
        assert summary["due"] == int(exact)
        residue = m.balance(RESIDUE, CASH) - residue_before
        assert issuer_cash - m.balance(ISSUER, CASH) == sum(paid.values()) + residue
        assert residue == summary["due"] - sum(paid.values())
        (period,) = events(receipt, "period_paid")
        assert (period["payment_date"], period["days_late"]) == (payment, 0)
        m.assert_balanced(BOND)
        if number == 3:
            # A partial redemption of 25% of face: the pool factor falls to 0.75.
            m.on(payment, 16)
            before = dict(m.holdings(BOND))
            receipt = ok(m.run("issuer", sdk.partial_redeem(BOND, 25)))
            (partial,) = events(receipt, "partial_redemption")
            assert partial["pool_factor"] == "75/100"
            paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
            assert paid == {acct: units * 25 // 100 for acct, units in before.items()}
            assert m.holdings(BOND) == before  # units stay; each is worth less face
            face = 75
            m.assert_balanced(BOND)

    # Maturity: transfers paused from the last record date, every unit redeemed at par of the
    # outstanding face (75 sen of each RM 1) and cancelled.
    ok(m.run("issuer", PauseInstrument(BOND)))
    m.on("2029-03-16", 11)
    register = m.holdings(BOND)
    register.pop(ISSUER, None)  # the issuer's own units are cancelled, not paid
    issuer_cash, residue_before = m.balance(ISSUER, CASH), m.balance(RESIDUE, CASH)
    receipt = ok(m.run("issuer", sdk.redeem_bond(BOND)))
    paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
    assert paid == {acct: units * face // 100 for acct, units in register.items()}
    assert events(receipt, "redeemed")[0]["price_bp"] == 10_000
    assert m.supply(BOND) == 0 and m.holdings(BOND) == {}
    residue = m.balance(RESIDUE, CASH) - residue_before
    assert issuer_cash - m.balance(ISSUER, CASH) == sum(paid.values()) + residue
    m.assert_balanced(BOND)
    assert m.run("issuer", sdk.redeem_bond(BOND)).code == codes.BOND_REDEEMED

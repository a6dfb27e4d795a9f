"""A sukuk ijarah through its whole life, in one test: Shariah certification before
issuance, book-building and DvP issuance, secondary trades, every rental date at its record
date, one paid late with ta'widh to the holders and gharamah to charity, a sukukholder
ballot at a record date, and dissolution at maturity under the purchase undertaking; every
sen accounted for. Then the other structures (murabahah instalments, musharakah declared
profit) and governance revoking a certification."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from tests.core.lifecycle_market import (
    CASH,
    CHARITY,
    DAY_MS,
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
from rantai.core.kinds.lifecycle import CastVote, CloseBallot, OpenBallot, TakeRecord
from rantai.core.kinds.policies import PauseInstrument
from rantai.core.kinds.settlement import AffirmSettlement
from rantai.crypto.hashing import sha256

SUKUK = "GII-2028"
FACE = 100  # RM 1 per whole unit; 2 decimals
RENTAL_BP = 400
LATE_BP, TAWIDH_BP = 1_000, 100  # 10% a year late charge, of which 1% is ta'widh
# Annual rental, 2026-04-01 to 2028-04-01, Act/365F: 365 days then 366 (2028 is a leap year).
PERIODS = [
    ("2027-04-01", "2027-03-31", Fraction(365, 365)),
    ("2028-04-03", "2028-03-31", Fraction(366, 365)),  # 1 Apr 2028 is a Saturday
]


def sukuk_terms(structure: str = "ijarah", **overrides: Any) -> BondTerms:
    fields: dict[str, Any] = {
        "cash": CASH,
        "payer": ISSUER,
        "residue_account": RESIDUE,
        "face": FACE,
        "issue_date": "2026-04-01",
        "maturity_date": "2028-04-01",
        "months_per_period": 12,
        "income": sdk.income("fixed", RENTAL_BP),
        "calendar": my_calendar(),
        "structure": structure,
        "asset": "Hospital buildings leased to the Government of Malaysia",
        "asset_hash": sha256(b"lease and title documents"),
        "charity_account": CHARITY,
        "late_charge_bp": LATE_BP,
        "tawidh_bp": TAWIDH_BP,
    }
    fields.update(overrides)
    return sdk.bond_terms(**fields)


def new_sukuk(m: LifecycleMarket, code: str = SUKUK, **overrides: Any) -> None:
    ok(m.run("issuer", CreateInstrument(code, "sukuk", f"{code} sukuk", 2, 10**12)))
    ok(m.run("issuer", sdk.set_bond_terms(code, sukuk_terms(**overrides))))


def certify(m: LifecycleMarket, code: str = SUKUK) -> None:
    body = sdk.certify_shariah(code, sha256(b"pronouncement"), m.now_ms + 5 * 365 * DAY_MS)
    ok(m.run("adviser", body))


def test_a_sukuk_ijarah_from_certification_to_dissolution() -> None:
    m = LifecycleMarket(investors=3)
    a, b, c = m.investors
    m.on("2026-03-20")
    new_sukuk(m)
    refused = m.run("issuer", Mint(SUKUK, ISSUER, 1, ""))
    assert refused.code == codes.NOT_CERTIFIED  # no issuance before the pronouncement
    assert m.run("inv-0", sdk.certify_shariah(SUKUK, sha256(b"x"), at("2030-01-01"))).code == (
        codes.NOT_AUTHORIZED
    )
    certify(m)
    ok(m.run("issuer", Mint(SUKUK, ISSUER, 3_000_000_00, "tranche 1")))
    book = ok(m.run("issuer", OpenBook(SUKUK, CASH, 1, ISSUER, at("2026-03-27")))).tx_id.hex()
    for account, quantity in ((a, 2_000_000_00), (b, 999_990_00), (c, 10_00)):
        ok(m.run(account.split(":")[0], PlaceOrder(book, account, quantity)))
    m.on("2026-03-27", 12)
    allocation = (Allocation(a, 2_000_000_00), Allocation(b, 999_990_00), Allocation(c, 10_00))
    allocated = ok(m.run("issuer", Allocate(book, allocation, at("2026-04-01", 18))))
    for item in allocation:
        instruction = allocation_instruction_id(allocated.tx_id, item.account)
        ok(m.run(item.account.split(":")[0], AffirmSettlement(instruction)))
    m.assert_balanced(SUKUK)
    m.on("2026-10-05")
    m.dvp(a, c, SUKUK, 500_000_00, 501_000_00)  # a secondary trade above par

    # Rental 1, on time.
    payment, record, fraction = PERIODS[0]
    m.on(record)
    ok(m.run("issuer", TakeRecord(SUKUK, "r1", "rental 1")))
    register = {k: v for k, v in m.holdings(SUKUK).items() if k != ISSUER}
    m.on(record, 16)
    m.dvp(c, b, SUKUK, 100_000_00, 100_000_00)  # after the record: ex-rental
    m.on(payment)
    receipt = ok(m.run("issuer", sdk.pay_period(SUKUK, 1, "r1")))
    paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
    rate = Fraction(FACE * RENTAL_BP, 100 * 10_000) * fraction  # per minor unit
    assert paid == {acct: int(units * rate) for acct, units in register.items()}
    assert {e["kind"] for e in events(receipt, "distribution_paid")} == {"rental"}
    assert not any("interest" in e.name or "coupon" in str(e.attrs) for e in receipt.events)
    m.assert_balanced(SUKUK)

    # A sukukholder ballot at a record date: consent to replace the lessee's insurer.
    m.on("2027-06-01")
    ok(m.run("issuer", TakeRecord(SUKUK, "consent", "sukukholder consent")))
    voters = {k: v for k, v in m.holdings(SUKUK).items() if k != ISSUER}
    m.on("2027-06-02")
    m.dvp(a, b, SUKUK, 1_000_000_00, 1_000_000_00)  # after the record: a votes its old units
    closes = at("2027-06-16")
    question = "Consent to replace the takaful operator?"
    ok(m.run("issuer", OpenBallot(SUKUK, "insurer", "consent", question, ("yes", "no"), closes)))
    ok(m.run("inv-0", CastVote(SUKUK, "insurer", a, 0)))
    ok(m.run("inv-1", CastVote(SUKUK, "insurer", b, 1)))
    m.on("2027-06-16", 11)
    result = events(ok(m.run("inv-2", CloseBallot(SUKUK, "insurer"))), "ballot_closed")[0]
    assert result["tallies"] == f"{voters[a]},{voters[b]}"
    assert result["eligible_units"] == sum(voters.values())
    ok(m.run("issuer", sdk.close_record(SUKUK, "consent")))

    # Rental 2, paid ten days late: ta'widh to the holders, gharamah to charity.
    payment, record, fraction = PERIODS[1]
    m.on(record)
    ok(m.run("issuer", PauseInstrument(SUKUK)))  # the last record: the register stops
    ok(m.run("issuer", TakeRecord(SUKUK, "r2", "rental 2 and dissolution")))
    register = {k: v for k, v in m.holdings(SUKUK).items() if k != ISSUER}
    m.on("2028-04-13")  # 10 days after the payment date
    issuer_cash, residue_before = m.balance(ISSUER, CASH), m.balance(RESIDUE, CASH)
    receipt = ok(m.run("issuer", sdk.pay_period(SUKUK, 2, "r2")))
    late = Fraction(10, 365)
    rate = Fraction(FACE * RENTAL_BP, 100 * 10_000) * fraction
    with_tawidh = rate * (1 + Fraction(TAWIDH_BP, 10_000) * late)
    paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
    assert paid == {acct: int(units * with_tawidh) for acct, units in register.items()}
    (period,) = events(receipt, "period_paid")
    base = rate * sum(register.values())
    gharamah = int(base * Fraction(LATE_BP - TAWIDH_BP, 10_000) * late)
    assert (period["days_late"], period["gharamah"]) == (10, gharamah)
    assert gharamah > 0 and m.balance(CHARITY, CASH) == gharamah
    residue = m.balance(RESIDUE, CASH) - residue_before
    assert issuer_cash - m.balance(ISSUER, CASH) == sum(paid.values()) + residue + gharamah
    m.assert_balanced(SUKUK)

    # Dissolution: the obligor buys the assets back at face under the purchase undertaking.
    receipt = ok(m.run("issuer", sdk.redeem_bond(SUKUK)))
    paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
    assert paid == {acct: units * FACE // 100 for acct, units in register.items()}
    assert events(receipt, "dissolved")[0]["holders"] >= len(register)
    assert m.supply(SUKUK) == 0
    m.assert_balanced(SUKUK)


def test_murabahah_pays_its_deferred_sale_price_in_instalments() -> None:
    m = LifecycleMarket(investors=2)
    a, b = m.investors
    m.on("2026-03-20")
    terms = {
        "income": sdk.income("instalments", instalments=[3, 3, 104]),  # per RM 1 unit, in sen
        "maturity_date": "2029-04-01",
        "late_charge_bp": 0,
        "tawidh_bp": 0,
    }
    new_sukuk(m, "MRB-2029", structure="murabahah", **terms)
    certify(m, "MRB-2029")
    ok(m.run("issuer", Mint("MRB-2029", a, 700_00, "")))
    ok(m.run("issuer", Mint("MRB-2029", b, 300_33, "")))
    for number, (payment, record) in enumerate(
        [("2027-04-01", "2027-03-31"), ("2028-04-03", "2028-03-31")], start=1
    ):
        m.on(record)
        ok(m.run("issuer", TakeRecord("MRB-2029", f"i{number}", "")))
        m.on(payment)
        receipt = ok(m.run("issuer", sdk.pay_period("MRB-2029", number, f"i{number}")))
        paid = {e["account"]: e["amount"] for e in events(receipt, "distribution_paid")}
        assert paid == {a: 700_00 * 3 // 100, b: 300_33 * 3 // 100}
        assert {e["kind"] for e in events(receipt, "distribution_paid")} == {"profit"}
    m.assert_balanced("MRB-2029")


def test_musharakah_pays_the_declared_actual_profit_pro_rata_and_nothing_on_a_loss() -> None:
    m = LifecycleMarket(investors=3)
    holders = m.investors
    m.on("2026-03-20")
    terms = {"income": sdk.income("declared", 500), "late_charge_bp": 0, "tawidh_bp": 0}
    new_sukuk(m, "MSY-2028", structure="musharakah", **terms)
    certify(m, "MSY-2028")
    for account in holders:
        ok(m.run("issuer", Mint("MSY-2028", account, 1_000_00, "")))
    m.on("2027-03-31")
    ok(m.run("issuer", TakeRecord("MSY-2028", "y1", "")))
    m.on("2027-04-01")
    assert m.run("issuer", sdk.pay_period("MSY-2028", 1, "y1")).code == codes.PROFIT_NOT_DECLARED
    ok(m.run("issuer", sdk.declare_profit("MSY-2028", 1, 10_000_01)))
    receipt = ok(m.run("issuer", sdk.pay_period("MSY-2028", 1, "y1")))
    assert [e["amount"] for e in events(receipt, "distribution_paid")] == [3_333_33] * 3
    assert events(receipt, "distribution")[0]["residue"] == 2
    # Year 2: a loss. Nothing is paid; the period is done.
    m.on("2028-03-31")
    ok(m.run("issuer", TakeRecord("MSY-2028", "y2", "")))
    m.on("2028-04-03")
    ok(m.run("issuer", sdk.declare_profit("MSY-2028", 2, 0)))
    receipt = ok(m.run("issuer", sdk.pay_period("MSY-2028", 2, "y2")))
    assert not events(receipt, "distribution_paid")
    assert events(receipt, "period_paid")[0]["due"] == 0
    m.assert_balanced("MSY-2028")


def test_governance_revokes_a_certification_and_issuance_stops() -> None:
    from tests.regulated import Regulated

    from rantai.core.actions import RevokeCertification
    from rantai.core.bonds import Certification, certification_key

    chain = Regulated()
    code = chain.instrument()  # a sukuk, certified by the harness's adviser
    holder = chain.investor("inv-1")
    assert chain.mint(holder, 10).code == codes.OK
    chain.governed(RevokeCertification(code))
    record: Certification = chain.value(certification_key(code))
    assert record.revoked_ms and record.revoked_by
    assert chain.mint(holder, 10).code == codes.NOT_CERTIFIED

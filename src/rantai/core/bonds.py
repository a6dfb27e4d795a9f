"""Bonds and sukuk: their terms, their schedule, and what each payment date pays.

One set of kinds serves bonds and sukuk (often called Islamic bonds); only what the payments
are called differs, and a sukuk's structure decides that. An issuer sets an instrument's
*bond terms* once, before its first unit exists: face value, issue and maturity dates, the
payment frequency, day count, business-day calendar and adjustment, record-date lag, how
periodic amounts are set, the redemption price, call and put dates, and for a sukuk its
structure, underlying asset and late-payment terms. The schedule is never stored:
``schedule`` derives it from the terms, identically everywhere (``rantai.core.schedule``).

**Periodic amounts** (``Income.kind``), per whole unit, in minor units of the cash
instrument, exactly (``fractions.Fraction``), rounded down per holder only when paid
(``rantai.core.distributions``):

| kind | amount of period *i* | used by |
|---|---|---|
| ``fixed`` | face x rate x year fraction | fixed-coupon bonds; ijarah rental; wakalah profit |
| ``floating`` | face x max(floor, fixing + spread) x year fraction | floating-rate notes |
| ``zero`` | none; the discount is in the issue price | zero-coupon bonds |
| ``instalments`` | the *i*-th stated instalment | murabahah (deferred sale price) |
| ``declared`` | the actual profit the issuer declares, pro rata | musharakah, mudarabah |

*face* is the outstanding face per whole unit: the original face less what partial
redemptions returned (its ratio to the original is the pool factor). A floating rate's
fixing is the oracle's observation of the index on the period's fixing date (its start,
adjusted, less ``fixing_days`` business days), published on the ledger (``fixing/...``).

**Late payment of a sukuk.** Paid after its payment date, a sukuk period carries late
charges of ``late_charge_bp`` a year (Act/365F) on the amount due: the *ta'widh* part
(``tawidh_bp`` of it, compensation for actual loss) goes to the holders with their
profit, the rest, *gharamah*, to the named charity account, never to the issuer or the
holders.

| key | value |
|---|---|
| ``bond/<instrument>`` | ``BondTerms`` |
| ``bondstate/<instrument>`` | ``BondState``: outstanding face, next period, call, status |
| ``fixing/<index>/<date>`` | int: the index's rate in basis points on that date |
| ``profit/<instrument>/<period>`` | int: actual profit declared for a period (cash, in total) |
| ``shariah/<instrument>`` | ``Certification`` |
| ``put/<instrument>/<date>/<account>`` | int: units a holder put back for that put date |
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.calendars import (
    Calendar,
    add_business_days,
    adjust,
    check_adjustment,
    check_calendar,
)
from rantai.core.dates import check_date, date, days_between, parse_date
from rantai.core.daycount import check_convention
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_account_id, check_amount, check_instrument_code, check_text
from rantai.core.registers import register_scannable
from rantai.core.schedule import Period, accrual_fraction, build_schedule, check_months_per_period
from rantai.core.state import StateView, register_namespace

__all__ = [
    "ACTIVE",
    "INCOME_KINDS",
    "REDEEMED",
    "STRUCTURES",
    "Certification",
    "BondState",
    "BondTerms",
    "Income",
    "OptionDate",
    "certification_key",
    "check_certified",
    "bond_key",
    "bond_state_key",
    "distribution_kind",
    "fixing_date",
    "fixing_key",
    "income_per_unit",
    "late_days",
    "periods_paid",
    "profit_key",
    "put_key",
    "put_prefix",
    "redemption",
    "require_bond",
    "schedule",
]

INCOME_KINDS: Final = ("fixed", "floating", "zero", "instalments", "declared")
STRUCTURES: Final = ("ijarah", "murabahah", "wakalah", "musharakah", "mudarabah")
# Which periodic amounts each sukuk structure may use: rental is fixed; a deferred sale price
# is paid in instalments; an agency (wakalah) targets an expected profit; a partnership
# shares actual profit.
_STRUCTURE_INCOME: Final = {
    "ijarah": ("fixed", "floating"),
    "murabahah": ("instalments",),
    "wakalah": ("fixed", "floating"),
    "musharakah": ("declared",),
    "mudarabah": ("declared",),
}
ACTIVE: Final = "active"
REDEEMED: Final = "redeemed"
BP: Final = 10_000
YEAR_DAYS: Final = 365


class Income(msgspec.Struct, frozen=True, array_like=True):
    """How each period's amount is set (module docstring)."""

    kind: str
    rate_bp: int  # fixed: the rate; floating: the spread (may be negative); declared: expected
    index: str  # floating: the index the oracle publishes, e.g. "KLIBOR-3M"
    oracle: str  # floating: the party whose fixings count
    fixing_days: int  # floating: business days before the period's start
    floor_bp: int  # floating: the all-in rate never goes below it
    instalments: tuple[int, ...]  # instalments: amount per whole unit for each period

    def check_form(self, months_per_period: int) -> None:
        if self.kind not in INCOME_KINDS:
            raise Malformed(codes.BAD_FIELD, f"income.kind: one of {INCOME_KINDS}")
        if (self.kind == "zero") != (months_per_period == 0):
            raise Malformed(codes.BAD_FIELD, "income.kind: zero exactly when months_per_period 0")
        if not -BP < self.rate_bp <= BP * 10 or not 0 <= self.floor_bp <= BP * 10:
            raise Malformed(codes.BAD_FIELD, "income: rates in basis points")
        if self.kind == "floating":
            check_text(self.index, "income.index", limits.NAME_CHARS_MAX)
            check_text(self.oracle, "income.oracle", limits.PARTY_ID_CHARS_MAX)
            if not 0 <= self.fixing_days <= limits.RECORD_DAYS_MAX:
                raise Malformed(codes.BAD_FIELD, "income.fixing_days: out of range")
        if len(self.instalments) > limits.SCHEDULE_PERIODS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, "income.instalments: one per period")
        if any(not 0 <= i <= limits.AMOUNT_MAX for i in self.instalments):
            raise Malformed(codes.BAD_AMOUNT, "income.instalments: 0 to AMOUNT_MAX")


class OptionDate(msgspec.Struct, frozen=True, array_like=True):
    """A call or put date and the price, in basis points of the outstanding face."""

    date: str
    price_bp: int


class BondTerms(msgspec.Struct, frozen=True, array_like=True):
    """A bond's or sukuk's terms, fixed before issuance."""

    cash: str  # the cash instrument everything is paid in
    payer: str  # the issuer's account payments come from
    residue_account: str  # where rounding residues go
    face: int  # face value of one whole unit, in minor units of ``cash``
    issue_date: str
    maturity_date: str
    months_per_period: int  # 0: a single period (zero coupon)
    day_count: str
    calendar: Calendar
    adjustment: str
    record_days: int  # business days from record date to payment date
    income: Income
    redemption_bp: int  # price at maturity; 10000 is par
    calls: tuple[OptionDate, ...]
    puts: tuple[OptionDate, ...]
    structure: str  # a sukuk's structure; "" for a bond
    asset: str  # a sukuk's underlying asset, described
    asset_hash: bytes  # the hash of the asset's documents (or b"")
    charity_account: str  # a sukuk's gharamah goes here
    late_charge_bp: int  # a year, on late amounts (sukuk)
    tawidh_bp: int  # the part of late_charge_bp paid to holders as compensation

    def check_form(self) -> None:
        check_instrument_code(self.cash, "cash")
        check_account_id(self.payer, "payer")
        check_account_id(self.residue_account, "residue_account")
        check_amount(self.face, "face")
        check_date(self.issue_date, "issue_date")
        check_date(self.maturity_date, "maturity_date")
        check_months_per_period(self.months_per_period, "months_per_period")
        check_convention(self.day_count, "day_count")
        check_calendar(self.calendar, "calendar")
        check_adjustment(self.adjustment, "adjustment")
        self.income.check_form(self.months_per_period)
        _check_options(self.calls, self.puts)
        if not 0 < self.redemption_bp <= BP * 10:
            raise Malformed(codes.BAD_FIELD, "redemption_bp: 1 to 100000")
        if self.structure:
            self._check_sukuk()
        elif self.income.kind in ("instalments", "declared"):
            raise Malformed(codes.BAD_FIELD, f"income.kind: {self.income.kind} is for sukuk")
        if len(self.asset_hash) not in (0, 32):
            raise Malformed(codes.BAD_FIELD, "asset_hash: 32 bytes or none")
        if not 0 <= self.tawidh_bp <= self.late_charge_bp <= BP:
            raise Malformed(codes.BAD_FIELD, "0 <= tawidh_bp <= late_charge_bp <= 10000")
        periods = schedule(self)  # raises on dates out of order or too many periods
        if self.income.kind == "instalments" and len(self.income.instalments) != len(periods):
            raise Malformed(codes.BAD_FIELD, f"income.instalments: {len(periods)}, one per period")

    def _check_sukuk(self) -> None:
        if self.structure not in STRUCTURES:
            raise Malformed(codes.BAD_FIELD, f"structure: one of {STRUCTURES}")
        if self.income.kind not in _STRUCTURE_INCOME[self.structure]:
            raise Malformed(
                codes.BAD_FIELD,
                f"income.kind: a {self.structure} pays {_STRUCTURE_INCOME[self.structure]}",
            )
        check_text(self.asset, "asset", limits.NAME_CHARS_MAX)
        check_account_id(self.charity_account, "charity_account")


def _check_options(calls: tuple[OptionDate, ...], puts: tuple[OptionDate, ...]) -> None:
    if len(calls) + len(puts) > limits.OPTION_DATES_MAX:
        raise Malformed(codes.TOO_MANY_ITEMS, f"calls and puts: {limits.OPTION_DATES_MAX} at most")
    for option in (*calls, *puts):
        check_date(option.date, "calls/puts date")
        if not 0 < option.price_bp <= BP * 10:
            raise Malformed(codes.BAD_FIELD, "calls/puts price_bp: 1 to 100000")


class BondState(msgspec.Struct, frozen=True, array_like=True):
    """What has happened to a bond or sukuk since issuance."""

    face: int  # outstanding face per whole unit
    next_period: int  # the first period not yet paid (1-based)
    call_date: str  # "" unless the issuer called it
    call_price_bp: int
    status: str  # active | redeemed


class Certification(msgspec.Struct, frozen=True, array_like=True):
    """A Shariah adviser's pronouncement that a sukuk complies, and until when."""

    adviser: str
    document_hash: bytes  # of the signed pronouncement
    certified_ms: int
    valid_until_ms: int
    revoked_ms: int  # 0 while in force
    revoked_by: str  # the governance proposal that revoked it


def bond_key(instrument: str) -> str:
    return f"bond/{instrument}"


def bond_state_key(instrument: str) -> str:
    return f"bondstate/{instrument}"


def fixing_key(oracle: str, index: str, on: str) -> str:
    """Fixings are kept per oracle: an instrument counts only its named oracle's."""
    return f"fixing/{oracle}:{index}/{on}"


def profit_key(instrument: str, period: int) -> str:
    return f"profit/{instrument}/{period}"


def certification_key(instrument: str) -> str:
    return f"shariah/{instrument}"


def put_prefix(instrument: str, on: str) -> str:
    return f"put/{instrument}/{on}/"


def put_key(instrument: str, on: str, account: str) -> str:
    return f"put/{instrument}/{on}/{account}"


def schedule(terms: BondTerms) -> tuple[Period, ...]:
    """The periods the terms define (``rantai.core.schedule.build_schedule``)."""
    return build_schedule(
        parse_date(terms.issue_date, "issue_date"),
        parse_date(terms.maturity_date, "maturity_date"),
        terms.months_per_period,
        terms.calendar,
        terms.adjustment,
        record_days=terms.record_days,
    )


def require_bond(view: StateView, instrument: str) -> tuple[BondTerms, BondState]:
    """The terms and state of a bond or sukuk. Rejects: no_bond_terms, bond_redeemed."""
    terms: BondTerms | None = view.get(bond_key(instrument))
    state: BondState | None = view.get(bond_state_key(instrument))
    if terms is None or state is None:
        raise Rejection(codes.NO_BOND_TERMS, f"{instrument} has no bond or sukuk terms")
    if state.status != ACTIVE:
        raise Rejection(codes.BOND_REDEEMED, f"{instrument} is {state.status}")
    return terms, state


def redemption(terms: BondTerms, state: BondState) -> tuple[str, int]:
    """The date (adjusted to a business day) and price, in basis points of the outstanding
    face, at which every unit is redeemed: the call's if the issuer called, else maturity's."""
    if state.call_date:
        on = adjust(terms.calendar, parse_date(state.call_date, "call_date"), terms.adjustment)
        return on.isoformat(), state.call_price_bp
    return schedule(terms)[-1].payment_date, terms.redemption_bp


def periods_paid(terms: BondTerms, state: BondState) -> list[tuple[Period, bool]]:
    """Each period of the schedule, and whether it has been paid."""
    return [(period, period.index < state.next_period) for period in schedule(terms)]


def distribution_kind(terms: BondTerms) -> str:
    """A bond pays coupons; an ijarah sukuk rental; every other sukuk profit."""
    if not terms.structure:
        return "coupon"
    return "rental" if terms.structure == "ijarah" else "profit"


def fixing_date(terms: BondTerms, period: Period) -> date:
    start = adjust(terms.calendar, parse_date(period.start, "start"), terms.adjustment)
    return add_business_days(terms.calendar, start, -terms.income.fixing_days)


def income_per_unit(
    view: StateView, terms: BondTerms, state: BondState, period: Period
) -> Fraction | None:
    """Period ``period``'s amount per whole unit (``None`` for ``declared``: pro rata instead).

    Rejects: no_fixing (floating, the oracle has not published the fixing).
    """
    income = terms.income
    face = state.face
    if income.kind == "zero":
        return Fraction(0)
    if income.kind == "declared":
        return None
    if income.kind == "instalments":
        # Instalments are stated on the original face; partial redemptions scale them.
        return Fraction(income.instalments[period.index - 1] * face, terms.face)
    fraction = accrual_fraction(terms.day_count, period, terms.months_per_period)
    rate = income.rate_bp
    if income.kind == "floating":
        on = fixing_date(terms, period).isoformat()
        fixing: int | None = view.get(fixing_key(income.oracle, income.index, on))
        if fixing is None:
            raise Rejection(codes.NO_FIXING, f"no {income.index} fixing for {on}")
        rate = max(income.floor_bp, fixing + income.rate_bp)
    return Fraction(face * rate, BP) * fraction


def late_days(period: Period, today: date) -> int:
    """Days from the payment date to ``today`` (0 when on time)."""
    return max(0, days_between(parse_date(period.payment_date, "payment_date"), today))


def late_charge(amount: Fraction, rate_bp: int, days: int) -> Fraction:
    """``amount`` x ``rate_bp`` a year for ``days`` days, Act/365F."""
    return amount * Fraction(rate_bp * days, BP * YEAR_DAYS)


def check_certified(view: StateView, instrument: str, now_ms: int) -> None:
    """For a sukuk: a Shariah certification in force at ``now_ms``. Rejects: not_certified."""
    record: Certification | None = view.get(certification_key(instrument))
    if record is None or record.revoked_ms or now_ms >= record.valid_until_ms:
        raise Rejection(codes.NOT_CERTIFIED, f"{instrument} has no Shariah certification in force")


register_namespace("bond", BondTerms)
register_namespace("bondstate", BondState)
register_namespace("fixing", int)
register_namespace("profit", int)
register_namespace("shariah", Certification)
register_namespace("put", int)
register_scannable("put")

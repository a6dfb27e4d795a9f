"""Day-count conventions: the fraction of a year between two dates, exactly.

A coupon or profit payment is ``face * rate * year_fraction``; accrued interest is the same
over part of a period. The fraction is a ``fractions.Fraction`` so that the amount can be
rounded once, at the end, by an explicit rule in minor units: no float or Decimal rounding
hides inside a day count, and every node computes the same bits (docs/decisions/
day-counts.md).

| name | rule | source |
|---|---|---|
| ``act/365f`` | actual days / 365 | ISDA 2006 Definitions 4.16(d) |
| ``act/360`` | actual days / 360 | ISDA 2006 Definitions 4.16(e) |
| ``30/360`` | bond basis: D1 31 -> 30; D2 31 -> 30 only if D1 > 29 | ISDA 2006 4.16(f) |
| ``30e/360`` | Eurobond basis: D1 31 -> 30; D2 31 -> 30 | ISDA 2006 4.16(g) |
| ``act/act-icma`` | days / (frequency * days of the notional period), summed | ICMA Rule |
| | over the notional periods an accrual spans | 251; ISDA 2006 4.16(c) |

Accruals run from ``start`` (included) to ``end`` (excluded), as in the ISDA definitions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Final

from rantai.core import codes, limits
from rantai.core.dates import add_months, date, days_between, is_month_end
from rantai.core.errors import Malformed

__all__ = ["CONVENTIONS", "PERIODS_PER_YEAR", "check_convention", "year_fraction"]

CONVENTIONS: Final = ("act/365f", "act/act-icma", "30/360", "30e/360", "act/360")
PERIODS_PER_YEAR: Final = (1, 2, 3, 4, 6, 12)  # coupon frequencies that divide a year in months


def check_convention(name: str, field: str) -> None:
    """Reject with ``Malformed(BAD_FIELD)`` unless ``name`` is one of ``CONVENTIONS``."""
    if name not in CONVENTIONS:
        raise Malformed(codes.BAD_FIELD, f"{field}: one of {', '.join(CONVENTIONS)}")


def year_fraction(
    convention: str,
    start: date,
    end: date,
    *,
    period_start: date | None = None,
    period_end: date | None = None,
    periods_per_year: int = 1,
) -> Fraction:
    """The year fraction from ``start`` to ``end`` under ``convention``, exactly.

    ``act/act-icma`` also needs the regular coupon period ``[period_start, period_end)``
    that contains the accrual (or, for a stub, the regular period next to it) and the
    coupon frequency ``periods_per_year``; the other conventions ignore them.

    Rejects with ``Malformed(BAD_FIELD)``, in this order: an unknown convention; ``end``
    before ``start``; for ``act/act-icma``, a missing period, a frequency not in
    ``PERIODS_PER_YEAR``, or a period that is not 12 / ``periods_per_year`` months long;
    and with ``Malformed(TOO_MANY_ITEMS)`` an accrual spanning more than
    ``SCHEDULE_PERIODS_MAX`` notional periods.
    """
    check_convention(convention, "convention")
    if end < start:
        raise Malformed(codes.BAD_FIELD, "end: not before start")
    if convention == "act/365f":
        return Fraction(days_between(start, end), 365)
    if convention == "act/360":
        return Fraction(days_between(start, end), 360)
    if convention == "30/360":
        return _thirty_360(start, end, eurobond=False)
    if convention == "30e/360":
        return _thirty_360(start, end, eurobond=True)
    if period_start is None or period_end is None:
        raise Malformed(codes.BAD_FIELD, "act/act-icma needs period_start and period_end")
    if periods_per_year not in PERIODS_PER_YEAR:
        raise Malformed(codes.BAD_FIELD, f"periods_per_year: one of {PERIODS_PER_YEAR}")
    return _act_act_icma(start, end, period_start, period_end, periods_per_year)


def _thirty_360(start: date, end: date, *, eurobond: bool) -> Fraction:
    """ISDA 2006 4.16(f) (bond basis) or, with ``eurobond``, 4.16(g) (Eurobond basis).

    Neither has a February rule: 28 Feb stays 28 (that is 30/360 US, not offered).
    """
    d1 = 30 if start.day == 31 else start.day
    d2 = end.day
    if d2 == 31 and (eurobond or d1 > 29):
        d2 = 30
    days = 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    return Fraction(days, 360)


def _act_act_icma(
    start: date, end: date, period_start: date, period_end: date, periods_per_year: int
) -> Fraction:
    """ICMA Rule 251: each notional period the accrual touches contributes
    ``days in it / (periods_per_year * days of that notional period)``.

    The notional periods are the regular period and its neighbours every 12 /
    ``periods_per_year`` months, computed from one anchor (never step by step, so a 31st
    clamped to 28 Feb does not drift) under the end-of-month rule when both ends of the
    regular period are month ends. A regular accrual gives exactly 1 / ``periods_per_year``;
    a short stub its days over the notional period's; a long stub the sum over the two or
    more notional periods it spans.
    """
    months = 12 // periods_per_year
    eom = is_month_end(period_start) and is_month_end(period_end)
    # The anchor is the end with the larger day of month: the other one may be clamped
    # (30 Aug -> 28 Feb), and stepping from a clamped day would lose the roll day.
    anchor, anchor_index = (
        (period_end, 1) if period_end.day >= period_start.day else (period_start, 0)
    )

    def boundary(k: int) -> date:
        return add_months(anchor, (k - anchor_index) * months, end_of_month=eom)

    if boundary(0) != period_start or boundary(1) != period_end:
        raise Malformed(
            codes.BAD_FIELD, f"period_start..period_end: a regular period of {months} months"
        )
    months_apart = (start.year - anchor.year) * 12 + (start.month - anchor.month)
    k = anchor_index + months_apart // months
    while boundary(k) > start:
        k -= 1
    while boundary(k + 1) <= start:
        k += 1
    total = Fraction(0)
    for _ in range(limits.SCHEDULE_PERIODS_MAX):
        notional_start, notional_end = boundary(k), boundary(k + 1)
        days = days_between(max(start, notional_start), min(end, notional_end))
        if days > 0:
            total += Fraction(days, periods_per_year * days_between(notional_start, notional_end))
        if notional_end >= end:
            return total
        k += 1
    raise Malformed(
        codes.TOO_MANY_ITEMS, f"an accrual over {limits.SCHEDULE_PERIODS_MAX} notional periods"
    )

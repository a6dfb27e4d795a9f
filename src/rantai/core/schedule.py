"""Coupon and profit schedules: the accrual periods of a bond or sukuk and their dates.

A schedule is derived from an instrument's terms, never stored by hand, so every node
derives the same one. Each ``Period`` has:

- ``start`` and ``end``: the unadjusted accrual dates. Accrual runs on unadjusted dates
  (the bond-market default): a coupon of a regular period is the same amount however its
  payment date moves.
- ``payment_date``: ``end`` moved onto a business day by the adjustment rule
  (``rantai.core.calendars``).
- ``record_date``: ``record_days`` business days before the payment date; holders at the
  end of that day are paid (``record_days`` 0: the payment date itself).

Periods are generated from one anchor date, each boundary computed directly as
``anchor +/- k * months_per_period`` (never by stepping from the previous boundary, which
would drift a 31st to the 28th after a February). ``short_front``, the market default,
anchors on the maturity and puts any odd part first; ``short_back`` anchors on the first
accrual date and puts it last. ``long_front`` and ``long_back`` merge that short stub into
its neighbour. With ``end_of_month`` an anchor on a month's last day rolls on month ends.
A zero-coupon instrument (``months_per_period`` 0) has one period, first accrual to
maturity.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.calendars import Calendar, add_business_days, adjust, check_adjustment
from rantai.core.dates import add_months, date, iso, parse_date
from rantai.core.daycount import check_convention, year_fraction
from rantai.core.errors import Malformed

__all__ = [
    "MONTHS_PER_PERIOD",
    "STUBS",
    "Period",
    "accrual_fraction",
    "build_schedule",
    "check_months_per_period",
    "check_stub",
]

MONTHS_PER_PERIOD: Final = (0, 1, 3, 6, 12)  # 0: zero coupon, one period to maturity
STUBS: Final = ("short_front", "short_back", "long_front", "long_back")
_TOO_MANY: Final = f"a schedule has at most {limits.SCHEDULE_PERIODS_MAX} periods"


class Period(msgspec.Struct, frozen=True, array_like=True):
    """One accrual period of a schedule and the dates its payment falls on."""

    index: int  # 1-based
    start: str  # unadjusted accrual start (ISO)
    end: str  # unadjusted accrual end
    payment_date: str  # end adjusted by the calendar rule
    record_date: str  # payment_date minus record_days business days


def check_months_per_period(months_per_period: int, field: str) -> None:
    """Reject with ``Malformed(BAD_FIELD)`` unless it is one of ``MONTHS_PER_PERIOD``."""
    if months_per_period not in MONTHS_PER_PERIOD:
        raise Malformed(codes.BAD_FIELD, f"{field}: one of {MONTHS_PER_PERIOD}")


def check_stub(stub: str, field: str) -> None:
    """Reject with ``Malformed(BAD_FIELD)`` unless ``stub`` is one of ``STUBS``."""
    if stub not in STUBS:
        raise Malformed(codes.BAD_FIELD, f"{field}: one of {', '.join(STUBS)}")


def build_schedule(
    first_accrual: date,
    maturity: date,
    months_per_period: int,
    calendar: Calendar,
    adjustment: str,
    *,
    record_days: int = 1,
    stub: str = "short_front",
    end_of_month: bool = True,
) -> tuple[Period, ...]:
    """The periods from ``first_accrual`` to ``maturity``, contiguous and in order.

    ``calendar`` is assumed checked (``check_calendar``). Rejects with
    ``Malformed(BAD_FIELD)``, in this order: ``maturity`` not after ``first_accrual``;
    ``months_per_period`` not in ``MONTHS_PER_PERIOD``; an unknown ``adjustment``; an unknown
    ``stub``; ``record_days`` outside 0..``RECORD_DAYS_MAX``; and with
    ``Malformed(TOO_MANY_ITEMS)`` more than ``SCHEDULE_PERIODS_MAX`` periods.
    """
    if maturity <= first_accrual:
        raise Malformed(codes.BAD_FIELD, "maturity: after the first accrual date")
    check_months_per_period(months_per_period, "months_per_period")
    check_adjustment(adjustment, "adjustment")
    check_stub(stub, "stub")
    if not 0 <= record_days <= limits.RECORD_DAYS_MAX:
        raise Malformed(codes.BAD_FIELD, f"record_days: 0 to {limits.RECORD_DAYS_MAX}")
    bounds = _boundaries(first_accrual, maturity, months_per_period, stub, end_of_month)
    periods = []
    for index, (start, end) in enumerate(pairwise(bounds), start=1):
        payment = adjust(calendar, end, adjustment)
        record = add_business_days(calendar, payment, -record_days)
        periods.append(Period(index, iso(start), iso(end), iso(payment), iso(record)))
    return tuple(periods)


def _boundaries(
    first_accrual: date, maturity: date, months: int, stub: str, end_of_month: bool
) -> list[date]:
    """The period boundaries in increasing order, ``first_accrual`` first, ``maturity`` last."""
    if months == 0:
        return [first_accrual, maturity]
    # Each boundary is computed from the anchor, maturity - k * months (short_front, long_front)
    # or first_accrual + k * months (short_back, long_back), never stepped from the last one.
    front = stub.endswith("front")
    anchor, sign = (maturity, -1) if front else (first_accrual, 1)
    inner = []
    # A long stub merges two periods, so generation may go one period past the bound.
    for k in range(1, limits.SCHEDULE_PERIODS_MAX + 2):
        d = add_months(anchor, sign * k * months, end_of_month=end_of_month)
        if not first_accrual < d < maturity:
            break
        inner.append(d)
    else:
        raise Malformed(codes.TOO_MANY_ITEMS, _TOO_MANY)
    if front:
        inner.reverse()
    bounds = [first_accrual, *inner, maturity]
    if stub == "long_front" and len(bounds) > 2 and not _is_regular(bounds[0], bounds[1], months):
        del bounds[1]
    if stub == "long_back" and len(bounds) > 2 and not _is_regular(bounds[-2], bounds[-1], months):
        del bounds[-2]
    if len(bounds) - 1 > limits.SCHEDULE_PERIODS_MAX:
        raise Malformed(codes.TOO_MANY_ITEMS, _TOO_MANY)
    return bounds


def _is_regular(start: date, end: date, months: int) -> bool:
    """Whether ``start..end`` is a whole period of ``months`` months, rolling either way."""
    return any(
        add_months(start, months, end_of_month=eom) == end
        or add_months(end, -months, end_of_month=eom) == start
        for eom in (False, True)
    )


def accrual_fraction(
    convention: str, period: Period, months_per_period: int, *, end_of_month: bool = True
) -> Fraction:
    """The year fraction of one period's accrual under ``convention``, exactly.

    For ``act/act-icma`` a regular period gives exactly 1 / periods per year; an irregular
    one (a stub) is measured against its notional periods (ICMA Rule 251): the first period
    against the regular periods ending at its end, any other against those starting at its
    start. A zero-coupon period (``months_per_period`` 0) is measured in annual notional
    periods ending at its end. ``end_of_month`` must be the schedule's. Rejects as
    ``year_fraction`` does, and a ``months_per_period`` not in ``MONTHS_PER_PERIOD`` with
    ``Malformed(BAD_FIELD)``.
    """
    check_convention(convention, "convention")
    check_months_per_period(months_per_period, "months_per_period")
    start = parse_date(period.start, "period.start")
    end = parse_date(period.end, "period.end")
    if convention != "act/act-icma":
        return year_fraction(convention, start, end)
    months = months_per_period or 12
    periods_per_year = 12 // months
    if _is_regular(start, end, months):
        return Fraction(1, periods_per_year)
    if period.index == 1 or months_per_period == 0:
        notional = (add_months(end, -months, end_of_month=end_of_month), end)
    else:
        notional = (start, add_months(start, months, end_of_month=end_of_month))
    return year_fraction(
        convention,
        start,
        end,
        period_start=notional[0],
        period_end=notional[1],
        periods_per_year=periods_per_year,
    )

"""Business-day calendars and the conventions that move a date onto a business day.

A calendar is data, not code: its weekend days and a sorted list of holidays, carried in an
instrument's terms, so every node agrees on which days are business days without a holiday
library that could differ between versions. Malaysia's federal calendar has a Saturday and
Sunday weekend (Johor, Kedah, Kelantan and Terengganu rest on Friday and Saturday, or did:
the weekend is a field for that reason); its holidays, several set by moon sighting, are
listed by the issuer, year by year.

Adjustments follow ISDA 2006 Definitions section 4.12 (Business Day Convention):

| rule | the date, if not a business day, becomes |
|---|---|
| ``none`` | itself |
| ``following`` | the next business day |
| ``modified_following`` | the next business day, or the previous one if the next is in |
| | the next month |
| ``preceding`` | the previous business day |
| ``modified_preceding`` | the previous business day, or the next one if the previous is |
| | in the previous month |

A modified rule keeps the month unless the month has no business day at all on that side
and the other, in which case it gives the unmodified rule's date.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import pairwise
from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.dates import add_days, date, iso, parse_date
from rantai.core.errors import Malformed, invariant

__all__ = [
    "ADJUSTMENTS",
    "Calendar",
    "add_business_days",
    "adjust",
    "check_adjustment",
    "check_calendar",
    "is_business_day",
]

ADJUSTMENTS: Final = ("none", "following", "modified_following", "preceding", "modified_preceding")


class Calendar(msgspec.Struct, frozen=True, array_like=True):
    """Which days are business days: every day but the weekend days and the holidays."""

    name: str
    weekend: tuple[int, ...]  # ISO weekdays that are not business days; 6, 7 = Sat, Sun
    holidays: tuple[str, ...]  # sorted unique ISO dates


def check_calendar(calendar: Calendar, field: str) -> None:
    """Reject a calendar out of form, for ``check_form``; checks in this order.

    ``Malformed(BAD_FIELD)``: a name that is empty or longer than ``CALENDAR_NAME_CHARS_MAX``;
    weekend days not strictly increasing ISO weekdays 1-7, or all seven.
    ``Malformed(TOO_MANY_ITEMS)``: more than ``CALENDAR_HOLIDAYS_MAX`` holidays.
    ``Malformed(BAD_FIELD)``: a holiday that is not a ``YYYY-MM-DD`` date, or holidays not
    strictly increasing (sorted, no repeats).
    """
    if not 1 <= len(calendar.name) <= limits.CALENDAR_NAME_CHARS_MAX:
        raise Malformed(
            codes.BAD_FIELD, f"{field}.name: 1 to {limits.CALENDAR_NAME_CHARS_MAX} characters"
        )
    weekend = calendar.weekend
    if (
        len(weekend) >= 7
        or any(not 1 <= day <= 7 for day in weekend)
        or any(a >= b for a, b in pairwise(weekend))
    ):
        raise Malformed(
            codes.BAD_FIELD, f"{field}.weekend: increasing ISO weekdays 1-7, not all seven"
        )
    if len(calendar.holidays) > limits.CALENDAR_HOLIDAYS_MAX:
        raise Malformed(
            codes.TOO_MANY_ITEMS, f"{field}.holidays: at most {limits.CALENDAR_HOLIDAYS_MAX}"
        )
    previous = ""
    for text in calendar.holidays:
        parse_date(text, f"{field}.holidays")
        # ISO dates of four-digit years sort as text in date order.
        if text <= previous:
            raise Malformed(codes.BAD_FIELD, f"{field}.holidays: sorted, without repeats")
        previous = text


def check_adjustment(rule: str, field: str) -> None:
    """Reject with ``Malformed(BAD_FIELD)`` unless ``rule`` is one of ``ADJUSTMENTS``."""
    if rule not in ADJUSTMENTS:
        raise Malformed(codes.BAD_FIELD, f"{field}: one of {', '.join(ADJUSTMENTS)}")


def is_business_day(calendar: Calendar, d: date) -> bool:
    """Whether ``d`` is neither a weekend day nor a listed holiday of ``calendar``."""
    if d.isoweekday() in calendar.weekend:
        return False
    text = iso(d)
    at = bisect_left(calendar.holidays, text)
    return not (at < len(calendar.holidays) and calendar.holidays[at] == text)


def _step(calendar: Calendar, d: date, direction: int) -> date:
    """The nearest business day strictly after (``direction`` 1) or before (-1) ``d``."""
    # A checked calendar has a business day in every week that has no holiday, so a run of
    # non-business days is shorter than 7 days per listed holiday, plus one week.
    for _ in range(7 * (len(calendar.holidays) + 1)):
        d = add_days(d, direction)
        if is_business_day(calendar, d):
            return d
    invariant(False, f"calendar {calendar.name} has no business day near {iso(d)}")
    raise AssertionError  # unreachable: invariant(False, ...) raises


def adjust(calendar: Calendar, d: date, rule: str) -> date:
    """``d`` moved onto a business day of ``calendar`` by ``rule`` (one of ``ADJUSTMENTS``).

    A business day is returned unchanged under every rule. Rejects an unknown rule with
    ``Malformed(BAD_FIELD)``.
    """
    check_adjustment(rule, "adjustment")
    if rule == "none" or is_business_day(calendar, d):
        return d
    if rule in ("following", "preceding"):
        return _step(calendar, d, 1 if rule == "following" else -1)
    first, second = (1, -1) if rule == "modified_following" else (-1, 1)
    moved = _step(calendar, d, first)
    if moved.month == d.month:
        return moved
    other = _step(calendar, d, second)
    return other if other.month == d.month else moved


def add_business_days(calendar: Calendar, d: date, n: int) -> date:
    """The ``n``-th business day after ``d`` (before it if ``n`` is negative); ``d`` if 0.

    ``d`` itself need not be a business day: one business day before a Sunday is the
    Friday (with a Sat/Sun weekend and no holidays).
    """
    direction = 1 if n > 0 else -1
    for _ in range(abs(n)):
        d = _step(calendar, d, direction)
    return d

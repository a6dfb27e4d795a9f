"""Civil dates for the lifecycle engine: parsing, month arithmetic, block time to a day.

Coupon and profit schedules, record dates and day counts work on civil dates, which in
records and transaction bodies are ISO-8601 text ``YYYY-MM-DD`` and in memory are
``datetime.date``. This module is the only one in the core allowed to import ``datetime``
(an ``ignore_imports`` entry in the import-linter contract): it uses ``date`` as a proleptic
Gregorian calendar and nothing else. It never reads the clock (``date.today``,
``datetime.now``): the only time the core knows is the block timestamp, turned into a civil
date by ``day_of`` in the chain's zone (Malaysia, UTC+8, which has no daylight saving).

Other core modules take ``date`` and the small helpers below from here rather than from
``datetime``, so the exemption stays one line.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from rantai.core import codes, limits
from rantai.core.errors import Malformed, Rejection, invariant

__all__ = [
    "MYT_OFFSET_MINUTES",
    "add_days",
    "add_months",
    "check_date",
    "date",
    "day_of",
    "days_between",
    "days_in_month",
    "is_month_end",
    "iso",
    "parse_date",
    "start_of_day_ms",
]

MYT_OFFSET_MINUTES: Final = 480  # Malaysia Time, UTC+8, no daylight saving since 1982
UTC_OFFSET_MINUTES_MAX: Final = 14 * 60  # the widest offset in use (Line Islands, UTC+14)
_MINUTE_MS: Final = 60_000
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
# ASCII digits only: ``\d`` would also accept other scripts' digits, which int() reads.
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str, field: str) -> date:
    """The date that ``text`` names.

    Rejects with ``Malformed(BAD_FIELD, "<field>: ...")`` unless ``text`` is a ``str`` of
    exactly ``YYYY-MM-DD`` (ASCII digits, no time, no zone) naming a real date from
    0001-01-01 to 9999-12-31.
    """
    if not isinstance(text, str) or _ISO_DATE.fullmatch(text) is None:
        raise Malformed(codes.BAD_FIELD, f"{field}: a date as YYYY-MM-DD")
    try:
        return date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        raise Malformed(codes.BAD_FIELD, f"{field}: {text} is not a calendar date") from None


def check_date(text: str, field: str) -> None:
    """``parse_date``'s check alone, for ``check_form``."""
    parse_date(text, field)


def iso(d: date) -> str:
    """``d`` as ``YYYY-MM-DD``, the form dates take in records and transaction bodies."""
    return d.isoformat()


def days_in_month(year: int, month: int) -> int:
    """The number of days in ``month`` of ``year`` (Gregorian leap years)."""
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_month_end(d: date) -> bool:
    """Whether ``d`` is the last day of its month."""
    return d.day == days_in_month(d.year, d.month)


def add_days(d: date, days: int) -> date:
    """``d`` moved by ``days`` calendar days (negative moves back).

    Raises ``InvariantError`` if the result falls outside 0001-01-01..9999-12-31: callers
    move bounded distances from validated dates, so that is a programmer error.
    """
    ordinal = d.toordinal() + days
    invariant(1 <= ordinal <= date.max.toordinal(), "date arithmetic outside years 1-9999")
    return date.fromordinal(ordinal)


def days_between(start: date, end: date) -> int:
    """Actual calendar days from ``start`` to ``end`` (negative if ``end`` is earlier)."""
    return end.toordinal() - start.toordinal()


def add_months(d: date, months: int, *, end_of_month: bool) -> date:
    """``d`` moved by ``months`` calendar months (negative moves back).

    The day is kept, clamped to the target month's length (31 Jan + 1 month = 28 or 29 Feb).
    With ``end_of_month``, a ``d`` that is the last day of its month gives the last day of
    the target month (28 Feb 2023 + 6 months = 31 Aug 2023), the end-of-month rule of bond
    markets. Raises ``InvariantError`` outside years 1-9999.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    invariant(1 <= year <= 9999, "date arithmetic outside years 1-9999")
    length = days_in_month(year, month)
    day = length if end_of_month and is_month_end(d) else min(d.day, length)
    return date(year, month, day)


def _check_offset(utc_offset_minutes: int) -> None:
    invariant(
        -UTC_OFFSET_MINUTES_MAX <= utc_offset_minutes <= UTC_OFFSET_MINUTES_MAX,
        "a UTC offset within 14 hours",
    )


def day_of(timestamp_ms: int, utc_offset_minutes: int = MYT_OFFSET_MINUTES) -> date:
    """The civil date of a block timestamp (ms since the Unix epoch) in a fixed-offset zone.

    The default zone is Malaysia's (UTC+8): 2026-01-01T16:00:00Z is already 2 January. A
    block time whose date falls outside years 1-9999 is refused with ``Rejection(BAD_TIME)``
    (block times are bounded by ``TIMESTAMP_MS_MAX``, far beyond year 9999).
    """
    _check_offset(utc_offset_minutes)
    local_ms = timestamp_ms + utc_offset_minutes * _MINUTE_MS
    ordinal = _EPOCH_ORDINAL + local_ms // limits.DAY_MS  # floor: before 1970 works too
    if not 1 <= ordinal <= date.max.toordinal():
        raise Rejection(codes.BAD_TIME, "the block time is outside years 1-9999")
    return date.fromordinal(ordinal)


def start_of_day_ms(d: date, utc_offset_minutes: int = MYT_OFFSET_MINUTES) -> int:
    """The first millisecond of civil date ``d`` in a fixed-offset zone, as a block time.

    The inverse of ``day_of``: ``day_of(start_of_day_ms(d)) == d``, and the millisecond
    before it falls on the previous day.
    """
    _check_offset(utc_offset_minutes)
    return (d.toordinal() - _EPOCH_ORDINAL) * limits.DAY_MS - utc_offset_minutes * _MINUTE_MS

"""Civil dates: strict ISO parsing, month arithmetic with the end-of-month rule, and block time
to a Malaysian civil date and back.

Calendar facts used as expected values (leap years, month lengths, weekdays) are those of the
proleptic Gregorian calendar; the zone is Malaysia Time, UTC+8 without daylight saving. The
epoch figures are plain arithmetic: 2026-01-01T00:00:00Z is 20,454 days after 1970-01-01,
that is 1,767,225,600,000 ms.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rantai.core import codes, limits
from rantai.core.dates import (
    add_days,
    add_months,
    check_date,
    date,
    day_of,
    days_between,
    days_in_month,
    is_month_end,
    iso,
    parse_date,
    start_of_day_ms,
)
from rantai.core.errors import InvariantError, Malformed, Rejection

NEW_YEAR_2026_UTC_MS = 1_767_225_600_000
HOUR_MS = 3_600_000
PROPERTY = settings(max_examples=200, deadline=None)


# --- parse_date -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01", date(2026, 1, 1)),
        ("2024-02-29", date(2024, 2, 29)),  # leap year
        ("2000-02-29", date(2000, 2, 29)),  # divisible by 400: leap
        ("0001-01-01", date(1, 1, 1)),
        ("9999-12-31", date(9999, 12, 31)),
    ],
)
def test_parse_date_accepts_real_dates(text: str, expected: date) -> None:
    assert parse_date(text, "maturity") == expected
    check_date(text, "maturity")


@pytest.mark.parametrize(
    "text",
    [
        "2026-1-01",  # not zero-padded
        "2026-01-1",
        "20260101",  # basic format
        "2026-01-01T00:00:00",  # a time
        "2026-01-01Z",
        " 2026-01-01",
        "2026-01-01\n",
        "2026/01/01",
        "+2026-01-01",
        "\uff12\uff10\uff12\uff16-01-01",  # fullwidth digits, which int() would read
        "٢٠٢٦-01-01",  # Arabic-Indic digits
        "",
    ],
)
def test_parse_date_rejects_other_forms(text: str) -> None:
    with pytest.raises(Malformed) as caught:
        parse_date(text, "maturity")
    assert caught.value.code == codes.BAD_FIELD
    assert caught.value.message.startswith("maturity: ")


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-29",
        "1900-02-29",
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "0000-01-01",
    ],
)
def test_parse_date_rejects_impossible_dates(text: str) -> None:
    with pytest.raises(Malformed) as caught:
        check_date(text, "record_date")
    assert caught.value.code == codes.BAD_FIELD
    assert "record_date" in caught.value.message


def test_parse_date_rejects_non_text() -> None:
    with pytest.raises(Malformed):
        parse_date(20260101, "maturity")  # type: ignore[arg-type]


# --- months ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [(2023, 2, 28), (2024, 2, 29), (1900, 2, 28), (2000, 2, 29), (2026, 4, 30), (2026, 12, 31)],
)
def test_days_in_month(year: int, month: int, days: int) -> None:
    assert days_in_month(year, month) == days
    assert is_month_end(date(year, month, days))
    assert not is_month_end(date(year, month, days - 1))


@pytest.mark.parametrize(
    ("start", "months", "eom", "expected"),
    [
        (date(2026, 1, 15), 1, False, date(2026, 2, 15)),
        (date(2026, 1, 31), 1, False, date(2026, 2, 28)),  # clamped
        (date(2024, 1, 31), 1, False, date(2024, 2, 29)),  # clamped, leap year
        (date(2026, 1, 31), 3, False, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, False, date(2027, 2, 28)),  # across a year end
        (date(2026, 3, 31), -1, False, date(2026, 2, 28)),  # backwards
        (date(2026, 1, 15), -13, False, date(2024, 12, 15)),
        (date(2023, 2, 28), 6, False, date(2023, 8, 28)),  # without the rule the day is kept
        (date(2023, 2, 28), 6, True, date(2023, 8, 31)),  # with it: month end to month end
        (date(2024, 2, 29), 12, True, date(2025, 2, 28)),
        (date(2023, 4, 30), -2, True, date(2023, 2, 28)),
        (date(2023, 4, 29), 1, True, date(2023, 5, 29)),  # not a month end: rule does nothing
        (date(2026, 8, 30), 6, True, date(2027, 2, 28)),
        (date(2026, 5, 31), 0, True, date(2026, 5, 31)),
    ],
)
def test_add_months(start: date, months: int, eom: bool, expected: date) -> None:
    assert add_months(start, months, end_of_month=eom) == expected


def test_add_months_outside_years_1_to_9999_is_an_invariant() -> None:
    with pytest.raises(InvariantError):
        add_months(date(9999, 12, 1), 1, end_of_month=False)
    with pytest.raises(InvariantError):
        add_days(date(1, 1, 1), -1)


def test_days_between_and_add_days() -> None:
    assert days_between(date(2024, 1, 1), date(2025, 1, 1)) == 366
    assert days_between(date(2025, 1, 1), date(2024, 1, 1)) == -366
    assert add_days(date(2024, 2, 28), 1) == date(2024, 2, 29)
    assert add_days(date(2024, 3, 1), -1) == date(2024, 2, 29)
    assert iso(date(5, 3, 9)) == "0005-03-09"


@PROPERTY
@given(d=st.dates(), months=st.integers(-1200, 1200), eom=st.booleans())
def test_add_months_keeps_or_clamps_the_day(d: date, months: int, eom: bool) -> None:
    try:
        moved = add_months(d, months, end_of_month=eom)
    except InvariantError:
        return  # beyond years 1-9999
    assert (moved.year * 12 + moved.month) - (d.year * 12 + d.month) == months
    if eom and is_month_end(d):
        assert is_month_end(moved)
    else:
        assert moved.day == min(d.day, days_in_month(moved.year, moved.month))


@PROPERTY
@given(d=st.dates())
def test_iso_round_trips(d: date) -> None:
    assert parse_date(iso(d), "d") == d


# --- block time -----------------------------------------------------------------------------


def test_day_of_uses_malaysia_time_by_default() -> None:
    # 2026-01-01T00:00Z is 08:00 in Kuala Lumpur; 16:00Z is midnight there, 2 January.
    assert day_of(NEW_YEAR_2026_UTC_MS) == date(2026, 1, 1)
    assert day_of(NEW_YEAR_2026_UTC_MS - 8 * HOUR_MS) == date(2026, 1, 1)
    assert day_of(NEW_YEAR_2026_UTC_MS - 8 * HOUR_MS - 1) == date(2025, 12, 31)
    assert day_of(NEW_YEAR_2026_UTC_MS + 16 * HOUR_MS - 1) == date(2026, 1, 1)
    assert day_of(NEW_YEAR_2026_UTC_MS + 16 * HOUR_MS) == date(2026, 1, 2)
    assert day_of(NEW_YEAR_2026_UTC_MS + 16 * HOUR_MS, 0) == date(2026, 1, 1)
    assert day_of(0, 0) == date(1970, 1, 1)
    assert day_of(-1, 0) == date(1969, 12, 31)


def test_start_of_day_ms() -> None:
    assert start_of_day_ms(date(2026, 1, 1)) == NEW_YEAR_2026_UTC_MS - 8 * HOUR_MS
    assert start_of_day_ms(date(2026, 1, 1), 0) == NEW_YEAR_2026_UTC_MS
    assert start_of_day_ms(date(1970, 1, 1), 0) == 0


def test_day_of_beyond_year_9999_is_refused() -> None:
    with pytest.raises(Rejection) as caught:
        day_of(limits.TIMESTAMP_MS_MAX)
    assert caught.value.code == codes.BAD_TIME


def test_a_zone_beyond_14_hours_is_an_invariant() -> None:
    with pytest.raises(InvariantError):
        day_of(0, 15 * 60)
    with pytest.raises(InvariantError):
        start_of_day_ms(date(2026, 1, 1), -15 * 60)


@PROPERTY
@given(d=st.dates(), offset=st.integers(-14 * 60, 14 * 60))
def test_start_of_day_is_the_first_ms_of_that_day(d: date, offset: int) -> None:
    start = start_of_day_ms(d, offset)
    assert day_of(start, offset) == d
    if d > date.min:
        assert day_of(start - 1, offset) == add_days(d, -1)
    assert start % 60_000 == 0

"""Business-day calendars, date adjustment, coupon schedules and their accrual fractions.

Sources:

* Business day conventions: 2006 ISDA Definitions (International Swaps and Derivatives
  Association, 2006), section 4.12 "Business Day Convention": Following, Modified Following
  and Preceding (Modified Preceding is the mirror image, as FpML's ``MODPRECEDING``). The
  adjustment vectors below apply those definitions to a Malaysian-style calendar: a Saturday
  and Sunday weekend with Malaysia's fixed-date federal holidays of 2026-2028 (New Year's
  Day, Labour Day 1 May, National Day 31 August, Malaysia Day 16 September, Christmas 25
  December; the holidays fixed by the Islamic, Chinese and Hindu calendars are left out of
  this test calendar). Weekdays are those of the Gregorian calendar (31 Jan 2026 is a
  Saturday, 31 Aug 2026 a Monday, 16 Sep 2026 a Wednesday). The vectors are our own worked
  examples, derived by hand from those definitions, not copied from a publication.
* Schedules with stubs: the three bonds of the Actual/Actual examples in ISDA, "EMU and
  Market Conventions: Recent Developments" (November 1998) -- a short first period (annual,
  1 Feb 1999 to a first coupon on 1 Jul 1999), a long first period (semi-annual, 15 Aug 2002
  to a first coupon on 15 Jul 2003) and a short final period (semi-annual, last coupon 30
  Jan 2000, maturity 30 Jun 2000). ``build_schedule`` must regenerate the periods of those
  examples and ``accrual_fraction`` must give the memo's ISMA figures (0.410958904110,
  0.915760869565, 0.417582417582; exact values in test_daycount.py).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rantai.core import codes, limits
from rantai.core.calendars import (
    ADJUSTMENTS,
    Calendar,
    add_business_days,
    adjust,
    check_adjustment,
    check_calendar,
    is_business_day,
)
from rantai.core.dates import add_days, date, days_in_month, iso, parse_date
from rantai.core.encoding import decode, encode
from rantai.core.errors import Malformed
from rantai.core.schedule import Period, accrual_fraction, build_schedule

D = date.fromisoformat
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MY_HOLIDAYS = (
    "2026-01-01", "2026-05-01", "2026-08-31", "2026-09-16", "2026-12-25",
    "2027-01-01", "2027-05-01", "2027-08-31", "2027-09-16", "2027-12-25",
    "2028-01-01", "2028-05-01", "2028-08-31", "2028-09-16", "2028-12-25",
)  # fmt: skip
MALAYSIA = Calendar("MY-federal", (6, 7), MY_HOLIDAYS)
# Some Malaysian states rest on Friday and Saturday (Kedah, Kelantan, Terengganu).
FRI_SAT = Calendar("MY-kedah", (5, 6), MY_HOLIDAYS)
NO_HOLIDAYS = Calendar("weekends", (6, 7), ())


# --- calendars ------------------------------------------------------------------------------


def test_calendar_is_an_array_in_the_canonical_encoding() -> None:
    assert decode(encode(MALAYSIA), Calendar) == MALAYSIA
    assert encode(Calendar("X", (6, 7), ("2026-01-01",))) == (
        b"\x93\xa1X\x92\x06\x07\x91\xaa2026-01-01"
    )


def test_check_calendar_accepts_good_calendars() -> None:
    for calendar in (MALAYSIA, FRI_SAT, NO_HOLIDAYS, Calendar("none", (), ())):
        check_calendar(calendar, "calendar")


@pytest.mark.parametrize(
    ("calendar", "code", "part"),
    [
        (Calendar("", (6, 7), ()), codes.BAD_FIELD, "calendar.name"),
        (Calendar("x" * 33, (6, 7), ()), codes.BAD_FIELD, "calendar.name"),
        (Calendar("c", (7, 6), ()), codes.BAD_FIELD, "calendar.weekend"),
        (Calendar("c", (6, 6), ()), codes.BAD_FIELD, "calendar.weekend"),
        (Calendar("c", (0, 6), ()), codes.BAD_FIELD, "calendar.weekend"),
        (Calendar("c", (6, 8), ()), codes.BAD_FIELD, "calendar.weekend"),
        (Calendar("c", (1, 2, 3, 4, 5, 6, 7), ()), codes.BAD_FIELD, "calendar.weekend"),
        (Calendar("c", (6, 7), ("2026-02-30",)), codes.BAD_FIELD, "calendar.holidays"),
        (Calendar("c", (6, 7), ("2026-1-01",)), codes.BAD_FIELD, "calendar.holidays"),
        (Calendar("c", (6, 7), ("2026-05-01", "2026-01-01")), codes.BAD_FIELD, "calendar.holidays"),
        (Calendar("c", (6, 7), ("2026-05-01", "2026-05-01")), codes.BAD_FIELD, "calendar.holidays"),
        (
            Calendar("c", (6, 7), tuple(iso(add_days(D("2000-01-01"), i)) for i in range(2001))),
            codes.TOO_MANY_ITEMS,
            "calendar.holidays",
        ),
    ],
)
def test_check_calendar_refusals(calendar: Calendar, code: str, part: str) -> None:
    with pytest.raises(Malformed) as caught:
        check_calendar(calendar, "calendar")
    assert caught.value.code == code
    assert caught.value.message.startswith(part)


def test_calendar_holidays_bound() -> None:
    holidays = tuple(iso(add_days(D("2000-01-01"), i)) for i in range(limits.CALENDAR_HOLIDAYS_MAX))
    check_calendar(Calendar("full", (6, 7), holidays), "calendar")


def test_is_business_day() -> None:
    assert is_business_day(MALAYSIA, D("2026-08-28"))  # Friday
    assert not is_business_day(MALAYSIA, D("2026-08-29"))  # Saturday
    assert not is_business_day(MALAYSIA, D("2026-08-30"))  # Sunday
    assert not is_business_day(MALAYSIA, D("2026-08-31"))  # National Day, a Monday
    assert is_business_day(FRI_SAT, D("2026-08-30"))  # Sunday is a working day there
    assert not is_business_day(FRI_SAT, D("2026-08-28"))


# --- adjustment (ISDA 2006 section 4.12) ----------------------------------------------------
# (calendar, unadjusted, rule, adjusted)
ADJUST_VECTORS = [
    # Modified following rolls back at a month end: Sat 31 Jan 2026 -> Fri 30 Jan, where
    # following would give Mon 2 Feb.
    (MALAYSIA, "2026-01-31", "following", "2026-02-02"),
    (MALAYSIA, "2026-01-31", "modified_following", "2026-01-30"),
    (MALAYSIA, "2026-01-31", "preceding", "2026-01-30"),
    (MALAYSIA, "2026-01-31", "none", "2026-01-31"),
    # A holiday on the payment date, mid-month: Malaysia Day, Wed 16 Sep 2026.
    (MALAYSIA, "2026-09-16", "following", "2026-09-17"),
    (MALAYSIA, "2026-09-16", "modified_following", "2026-09-17"),
    (MALAYSIA, "2026-09-16", "preceding", "2026-09-15"),
    (MALAYSIA, "2026-09-16", "modified_preceding", "2026-09-15"),
    # A holiday at a month end: National Day, Mon 31 Aug 2026, after a weekend.
    (MALAYSIA, "2026-08-31", "following", "2026-09-01"),
    (MALAYSIA, "2026-08-31", "modified_following", "2026-08-28"),
    (MALAYSIA, "2026-08-30", "modified_following", "2026-08-28"),
    (MALAYSIA, "2026-08-29", "following", "2026-09-01"),
    # Modified preceding at a month start: Labour Day, Fri 1 May 2026, then a weekend.
    (MALAYSIA, "2026-05-01", "preceding", "2026-04-30"),
    (MALAYSIA, "2026-05-01", "modified_preceding", "2026-05-04"),
    (MALAYSIA, "2026-11-01", "modified_preceding", "2026-11-02"),  # a Sunday
    # Christmas on Fri 25 Dec 2026.
    (MALAYSIA, "2026-12-25", "following", "2026-12-28"),
    # Business days are never moved.
    (MALAYSIA, "2026-03-31", "modified_following", "2026-03-31"),
    (MALAYSIA, "2026-03-31", "preceding", "2026-03-31"),
    # A Friday/Saturday weekend: Sun 1 Feb 2026 is a working day, so following from Sat 31
    # Jan leaves the month and modified following goes back to Thu 29 Jan.
    (FRI_SAT, "2026-01-31", "following", "2026-02-01"),
    (FRI_SAT, "2026-01-31", "modified_following", "2026-01-29"),
]


@pytest.mark.parametrize(("calendar", "unadjusted", "rule", "adjusted"), ADJUST_VECTORS)
def test_adjust(calendar: Calendar, unadjusted: str, rule: str, adjusted: str) -> None:
    assert iso(adjust(calendar, D(unadjusted), rule)) == adjusted


def test_adjust_refuses_an_unknown_rule() -> None:
    with pytest.raises(Malformed) as caught:
        adjust(MALAYSIA, D("2026-01-31"), "nearest")
    assert caught.value.code == codes.BAD_FIELD
    for rule in ADJUSTMENTS:
        check_adjustment(rule, "adjustment")


def test_modified_following_in_a_month_without_business_days_moves_on() -> None:
    # Every day of February 2026 a holiday: no business day remains in the month, so the
    # modified rules give the unmodified rule's date.
    february = tuple(iso(add_days(D("2026-02-01"), i)) for i in range(28))
    closed = Calendar("closed", (6, 7), february)
    check_calendar(closed, "calendar")
    assert iso(adjust(closed, D("2026-02-10"), "modified_following")) == "2026-03-02"
    assert iso(adjust(closed, D("2026-02-10"), "modified_preceding")) == "2026-01-30"


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-08-28", -1, "2026-08-27"),
        ("2026-08-28", 1, "2026-09-01"),  # over a weekend and National Day
        ("2026-09-01", -1, "2026-08-28"),
        ("2026-08-30", -1, "2026-08-28"),  # from a Sunday: the Friday before
        ("2026-08-30", 0, "2026-08-30"),
        ("2026-12-24", 2, "2026-12-29"),  # over Christmas and a weekend
        ("2026-01-02", -1, "2025-12-31"),  # over New Year's Day
        ("2026-03-02", 10, "2026-03-16"),
    ],
)
def test_add_business_days(start: str, n: int, expected: str) -> None:
    assert iso(add_business_days(MALAYSIA, D(start), n)) == expected


# --- schedules ------------------------------------------------------------------------------


def periods(*rows: tuple[str, str, str, str]) -> tuple[Period, ...]:
    return tuple(Period(i, *row) for i, row in enumerate(rows, start=1))


def test_sukuk_schedule_on_the_malaysian_calendar() -> None:
    """Semi-annual, short front stub, modified following, record date one business day before
    payment, maturity on National Day 2028; month ends roll to month ends (28/29 Feb)."""
    schedule = build_schedule(
        D("2026-03-16"), D("2028-08-31"), 6, MALAYSIA, "modified_following", record_days=1
    )
    assert schedule == periods(
        # National Day (Mon) -> following is September -> back to Fri 28 Aug.
        ("2026-03-16", "2026-08-31", "2026-08-28", "2026-08-27"),
        # Sun 28 Feb 2027 -> following is 1 March -> back to Fri 26 Feb.
        ("2026-08-31", "2027-02-28", "2027-02-26", "2027-02-25"),
        # National Day (Tue) -> back to Mon 30 Aug; the record date skips the weekend.
        ("2027-02-28", "2027-08-31", "2027-08-30", "2027-08-27"),
        ("2027-08-31", "2028-02-29", "2028-02-29", "2028-02-28"),
        ("2028-02-29", "2028-08-31", "2028-08-30", "2028-08-29"),
    )
    fractions = [accrual_fraction("act/act-icma", p, 6) for p in schedule]
    # The stub: 168 days of the 184-day notional period 28 Feb - 31 Aug 2026.
    assert fractions == [Fraction(168, 368)] + [Fraction(1, 2)] * 4
    assert accrual_fraction("30/360", schedule[0], 6) == Fraction(15 + 5 * 30, 360)
    assert accrual_fraction("30e/360", schedule[0], 6) == Fraction(14 + 5 * 30, 360)
    assert accrual_fraction("act/365f", schedule[3], 6) == Fraction(182, 365)


def test_record_days() -> None:
    zero = build_schedule(D("2026-03-16"), D("2026-08-31"), 6, MALAYSIA, "following", record_days=0)
    assert zero == periods(("2026-03-16", "2026-08-31", "2026-09-01", "2026-09-01"))
    three = build_schedule(
        D("2026-03-16"), D("2026-08-31"), 6, MALAYSIA, "following", record_days=3
    )
    assert three[0].record_date == "2026-08-26"


def test_isda_1998_short_first_period_bond() -> None:
    schedule = build_schedule(D("1999-02-01"), D("2002-07-01"), 12, NO_HOLIDAYS, "none")
    assert [(p.start, p.end) for p in schedule] == [
        ("1999-02-01", "1999-07-01"),
        ("1999-07-01", "2000-07-01"),
        ("2000-07-01", "2001-07-01"),
        ("2001-07-01", "2002-07-01"),
    ]
    assert accrual_fraction("act/act-icma", schedule[0], 12) == Fraction(150, 365)
    assert accrual_fraction("act/act-icma", schedule[1], 12) == 1


def test_isda_1998_long_first_period_bond() -> None:
    schedule = build_schedule(
        D("2002-08-15"), D("2004-07-15"), 6, NO_HOLIDAYS, "none", stub="long_front"
    )
    assert [(p.start, p.end) for p in schedule] == [
        ("2002-08-15", "2003-07-15"),
        ("2003-07-15", "2004-01-15"),
        ("2004-01-15", "2004-07-15"),
    ]
    assert accrual_fraction("act/act-icma", schedule[0], 6) == Fraction(337, 368)
    assert accrual_fraction("act/act-icma", schedule[1], 6) == Fraction(1, 2)
    # The same bond with the default short front stub splits the long period in two.
    short = build_schedule(D("2002-08-15"), D("2004-07-15"), 6, NO_HOLIDAYS, "none")
    assert (short[0].start, short[0].end) == ("2002-08-15", "2003-01-15")
    assert accrual_fraction("act/act-icma", short[0], 6) == Fraction(153, 368)


def test_isda_1998_short_final_period_bond() -> None:
    schedule = build_schedule(
        D("1999-07-30"), D("2000-06-30"), 6, NO_HOLIDAYS, "none", stub="short_back"
    )
    assert [(p.start, p.end) for p in schedule] == [
        ("1999-07-30", "2000-01-30"),
        ("2000-01-30", "2000-06-30"),
    ]
    assert accrual_fraction("act/act-icma", schedule[0], 6) == Fraction(1, 2)
    assert accrual_fraction("act/act-icma", schedule[1], 6) == Fraction(152, 364)


def test_long_back_stub_merges_the_last_two_periods() -> None:
    schedule = build_schedule(
        D("2026-01-15"), D("2027-03-01"), 6, NO_HOLIDAYS, "none", stub="long_back"
    )
    assert [(p.start, p.end) for p in schedule] == [
        ("2026-01-15", "2026-07-15"),
        ("2026-07-15", "2027-03-01"),
    ]
    # 184 days of the notional period 15 Jul 2026 - 15 Jan 2027 (one half) plus 45 of the
    # 181 days of 15 Jan - 15 Jul 2027.
    assert accrual_fraction("act/act-icma", schedule[1], 6) == Fraction(1, 2) + Fraction(45, 362)


def test_end_of_month_off_keeps_the_maturity_day() -> None:
    schedule = build_schedule(
        D("2026-02-28"), D("2027-08-31"), 6, NO_HOLIDAYS, "none", end_of_month=False
    )
    # Each date is maturity - k * 6 months, clamped: 28 Feb, never drifting to the 28th.
    assert [p.end for p in schedule] == ["2026-08-31", "2027-02-28", "2027-08-31"]
    eom = build_schedule(D("2026-04-30"), D("2026-09-30"), 1, NO_HOLIDAYS, "none")
    assert [p.end for p in eom] == [
        "2026-05-31",
        "2026-06-30",
        "2026-07-31",
        "2026-08-31",
        "2026-09-30",
    ]
    plain = build_schedule(
        D("2026-04-30"), D("2026-09-30"), 1, NO_HOLIDAYS, "none", end_of_month=False
    )
    assert [p.end for p in plain] == [
        "2026-05-30",
        "2026-06-30",
        "2026-07-30",
        "2026-08-30",
        "2026-09-30",
    ]


def test_zero_coupon_has_one_period() -> None:
    schedule = build_schedule(D("2026-03-16"), D("2031-03-16"), 0, MALAYSIA, "following")
    assert schedule == periods(("2026-03-16", "2031-03-16", "2031-03-17", "2031-03-14"))
    assert accrual_fraction("act/365f", schedule[0], 0) == Fraction(1826, 365)
    assert accrual_fraction("act/act-icma", schedule[0], 0) == 5


@pytest.mark.parametrize(
    ("args", "kwargs", "code", "part"),
    [
        (("2026-03-16", "2026-03-16", 6, "following"), {}, codes.BAD_FIELD, "maturity"),
        (("2026-03-16", "2027-03-16", 2, "following"), {}, codes.BAD_FIELD, "months_per_period"),
        (("2026-03-16", "2027-03-16", 6, "nearest"), {}, codes.BAD_FIELD, "adjustment"),
        (("2026-03-16", "2027-03-16", 6, "following"), {"stub": "odd"}, codes.BAD_FIELD, "stub"),
        (("2026-03-16", "2027-03-16", 6, "following"), {"record_days": -1}, codes.BAD_FIELD, "record_days"),
        (("2026-03-16", "2027-03-16", 6, "following"), {"record_days": 31}, codes.BAD_FIELD, "record_days"),
        (("2026-01-01", "2126-01-02", 1, "following"), {}, codes.TOO_MANY_ITEMS, "a schedule"),
    ],
)  # fmt: skip
def test_build_schedule_refusals(
    args: tuple[str, str, int, str], kwargs: dict[str, object], code: str, part: str
) -> None:
    first, maturity, months, rule = args
    with pytest.raises(Malformed) as caught:
        build_schedule(D(first), D(maturity), months, NO_HOLIDAYS, rule, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.message.startswith(part)


def test_the_longest_schedule_is_allowed() -> None:
    for stub in ("short_front", "short_back", "long_front", "long_back"):
        schedule = build_schedule(
            D("2026-01-01"), D("2126-01-01"), 1, NO_HOLIDAYS, "none", stub=stub
        )
        assert len(schedule) == limits.SCHEDULE_PERIODS_MAX
        assert schedule[-1].end == "2126-01-01"
    for stub in ("short_front", "short_back"):  # one day more is one (stub) period more
        with pytest.raises(Malformed) as caught:
            build_schedule(D("2026-01-01"), D("2126-01-02"), 1, NO_HOLIDAYS, "none", stub=stub)
        assert caught.value.code == codes.TOO_MANY_ITEMS
    for stub in ("long_front", "long_back"):  # ... unless the stub merges into a period
        schedule = build_schedule(
            D("2026-01-01"), D("2126-01-02"), 1, NO_HOLIDAYS, "none", stub=stub
        )
        assert len(schedule) == limits.SCHEDULE_PERIODS_MAX


def test_accrual_fraction_refusals() -> None:
    period = Period(1, "2026-01-01", "2026-07-01", "2026-07-01", "2026-06-30")
    with pytest.raises(Malformed):
        accrual_fraction("act/act", period, 6)
    with pytest.raises(Malformed):
        accrual_fraction("act/365f", period, 5)
    with pytest.raises(Malformed):
        accrual_fraction("act/365f", Period(1, "2026-1-1", "2026-07-01", "", ""), 6)


# --- properties -----------------------------------------------------------------------------


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    weekend = draw(st.sets(st.integers(1, 7), max_size=6))
    base = D("2026-01-01")
    offsets = draw(st.sets(st.integers(0, 3 * 366), max_size=120))
    holidays = tuple(iso(add_days(base, i)) for i in sorted(offsets))
    calendar = Calendar("random", tuple(sorted(weekend)), holidays)
    check_calendar(calendar, "calendar")
    return calendar


DAYS = st.dates(min_value=D("2025-12-01"), max_value=D("2029-03-31"))


@PROPERTY
@given(calendar=calendars(), d=DAYS, rule=st.sampled_from(ADJUSTMENTS))
def test_adjust_returns_a_business_day(calendar: Calendar, d: date, rule: str) -> None:
    adjusted = adjust(calendar, d, rule)
    if rule == "none":
        assert adjusted == d
    else:
        assert is_business_day(calendar, adjusted)
    if is_business_day(calendar, d):
        assert adjusted == d


def month_days(d: date) -> list[date]:
    return [date(d.year, d.month, day) for day in range(1, days_in_month(d.year, d.month) + 1)]


@PROPERTY
@given(calendar=calendars(), d=DAYS)
def test_modified_following_keeps_the_month_while_it_has_a_business_day(
    calendar: Calendar, d: date
) -> None:
    adjusted = adjust(calendar, d, "modified_following")
    later = [x for x in month_days(d) if x >= d and is_business_day(calendar, x)]
    earlier = [x for x in month_days(d) if x < d and is_business_day(calendar, x)]
    if later:
        assert adjusted == later[0]  # plain following, inside the month
    elif earlier:
        assert adjusted == earlier[-1]  # rolled back, still inside the month
    else:
        assert (adjusted.year, adjusted.month) > (d.year, d.month)  # no business day remains
        assert adjusted == adjust(calendar, d, "following")


@PROPERTY
@given(
    calendar=calendars(),
    first=DAYS,
    length_days=st.integers(1, 3 * 366),
    months=st.sampled_from([0, 1, 3, 6, 12]),
    rule=st.sampled_from(ADJUSTMENTS),
    stub=st.sampled_from(["short_front", "short_back", "long_front", "long_back"]),
    eom=st.booleans(),
    record_days=st.integers(0, 5),
)
def test_schedule_periods_are_contiguous_and_cover_the_term(
    calendar: Calendar,
    first: date,
    length_days: int,
    months: int,
    rule: str,
    stub: str,
    eom: bool,
    record_days: int,
) -> None:
    maturity = add_days(first, length_days)
    schedule = build_schedule(
        first,
        maturity,
        months,
        calendar,
        rule,
        record_days=record_days,
        stub=stub,
        end_of_month=eom,
    )
    assert schedule[0].start == iso(first)
    assert schedule[-1].end == iso(maturity)
    assert [p.index for p in schedule] == list(range(1, len(schedule) + 1))
    for p in schedule:
        assert parse_date(p.start, "start") < parse_date(p.end, "end")
        assert p.record_date <= p.payment_date
        assert p.payment_date == iso(adjust(calendar, parse_date(p.end, "end"), rule))
    for before, after in pairwise(schedule):
        assert before.end == after.start
    if months:
        # At most one irregular period, and every period is at most a regular one plus a stub.
        assert len(schedule) <= length_days // 28 // months + 2
    fractions = [accrual_fraction("act/act-icma", p, months) for p in schedule]
    assert all(f > 0 for f in fractions)
    if months:
        # Act/Act ICMA counts each regular period as exactly 1/frequency.
        regular = Fraction(months, 12)
        assert sum(f == regular for f in fractions) >= len(schedule) - 1 - (stub.startswith("long"))

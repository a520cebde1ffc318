import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from subbill import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    BillingSchedule,
    BillingStart,
    Frequency,
    InvalidArgumentError,
    InvalidTypeError,
    Period,
)
from subbill.errors import (
    InvalidBillingDayError,
    InvalidDateError,
    InvalidFrequencyError,
    InvalidPeriodError,
)
from subbill.money import MAX_DATE, MAX_FREQUENCY_DAYS, MAX_FREQUENCY_MONTHS, MIN_DATE
from subbill.periods import (
    DAILY,
    SEMIANNUAL,
    WEEKLY,
    AfterDays,
    AfterMonths,
    AnyBillingStart,
    FrequencyUnit,
    Immediately,
    OnDate,
    StartKind,
    add_months,
    days_in_month,
    schedule_for,
)
from tests.strategies import dates, day_frequencies, month_frequencies

# -- Frequency -------------------------------------------------------------------------------


def test_frequency_constants():
    assert (DAILY.unit, DAILY.count) == (FrequencyUnit.DAY, 1)
    assert (WEEKLY.unit, WEEKLY.count) == (FrequencyUnit.DAY, 7)
    assert (MONTHLY.unit, MONTHLY.count) == (FrequencyUnit.MONTH, 1)
    assert Frequency.months(3) == QUARTERLY
    assert Frequency.months(6) == SEMIANNUAL
    assert ANNUAL == Frequency.months(12) == Frequency.years(1)
    assert [str(f) for f in (DAILY, WEEKLY, MONTHLY, QUARTERLY, SEMIANNUAL, ANNUAL)] == [
        "P1D",
        "P1W",
        "P1M",
        "P3M",
        "P6M",
        "P1Y",
    ]


@pytest.mark.parametrize(
    "build", [Frequency.days, Frequency.weeks, Frequency.months, Frequency.years]
)
@pytest.mark.parametrize(
    ("count", "error"),
    [
        (0, InvalidFrequencyError),
        (-1, InvalidFrequencyError),
        (True, InvalidTypeError),  # not a count: a type error (issue 12)
        ("1", InvalidTypeError),
    ],
)
def test_zero_negative_or_non_int_counts_are_refused(build, count, error):
    with pytest.raises(error, match=f"={count!r} must be an int >= 1"):
        build(count)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("monthly", MONTHLY),
        ("Quarterly", QUARTERLY),
        ("annual", ANNUAL),
        ("P6M", SEMIANNUAL),
        ("p1y", ANNUAL),
        ("P2W", Frequency.days(14)),
        ("3 months", QUARTERLY),
        ("1 week", WEEKLY),
        ("10 days", Frequency.days(10)),
    ],
)
def test_parse_frequency(text, expected):
    assert Frequency.parse(text) == expected
    assert Frequency.parse(str(expected)) == expected


def test_parse_unknown_frequency_names_it():
    with pytest.raises(InvalidFrequencyError, match="frequency='fortnightlyish' must be a name"):
        Frequency.parse("fortnightlyish")


# -- Period ------------------------------------------------------------------------------------


def test_period_is_half_open():
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    assert march.days == 31
    assert date(2026, 3, 1) in march
    assert date(2026, 3, 31) in march
    assert date(2026, 4, 1) not in march
    assert date(2026, 2, 28) not in march
    assert march.last_day == date(2026, 3, 31)
    assert Period.inclusive(date(2026, 3, 1), date(2026, 3, 31)) == march


def test_period_end_must_be_after_start():
    with pytest.raises(InvalidPeriodError, match="end=2026-03-01 must be after start=2026-03-01"):
        Period(date(2026, 3, 1), date(2026, 3, 1))
    with pytest.raises(InvalidPeriodError):
        Period(date(2026, 3, 2), date(2026, 3, 1))


def test_period_refuses_datetimes_and_none():
    with pytest.raises(InvalidDateError, match=r"start=datetime\.datetime"):
        Period(datetime(2026, 3, 1, 12), date(2026, 4, 1))  # noqa: DTZ001
    with pytest.raises(InvalidDateError, match=r"end=None must be a datetime\.date"):
        Period(date(2026, 3, 1), None)  # type: ignore[arg-type]


def test_period_intersection_overlap_and_split():
    q1 = Period(date(2026, 1, 1), date(2026, 4, 1))
    feb = Period(date(2026, 2, 1), date(2026, 3, 1))
    assert q1.intersection(feb) == feb
    assert q1.overlaps(feb)
    assert q1.intersection(Period(date(2026, 4, 1), date(2026, 5, 1))) is None
    first, second = q1.split(on=date(2026, 2, 15))
    assert (first.days, second.days) == (45, 45)
    with pytest.raises(InvalidPeriodError, match="on=2026-01-01 must be strictly between"):
        q1.split(on=date(2026, 1, 1))


# -- BillingSchedule ----------------------------------------------------------------------------


def _first(schedule: BillingSchedule, n: int) -> list[date]:
    return list(itertools.islice(schedule.dates(), n))


def test_billing_day_31_from_january_clamps_and_recovers():
    schedule = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY, billing_day=31)
    assert _first(schedule, 4) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]


def test_billing_day_31_in_a_leap_year():
    schedule = BillingSchedule(anchor=date(2028, 1, 31), frequency=MONTHLY, billing_day=31)
    assert _first(schedule, 3) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_anchor_day_is_the_default_billing_day():
    schedule = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY)
    assert schedule.day == 31
    assert schedule.nth(2) == date(2026, 3, 31)  # never drifts to the 28th
    assert schedule.nth(13) == date(2027, 2, 28)


def test_anchor_on_feb_29_annual():
    schedule = BillingSchedule(anchor=date(2028, 2, 29), frequency=ANNUAL)
    assert _first(schedule, 5) == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]


def test_negative_n_counts_back_from_the_anchor():
    schedule = BillingSchedule(anchor=date(2026, 3, 31), frequency=MONTHLY)
    assert [schedule.nth(n) for n in (-1, -2, -3)] == [
        date(2026, 2, 28),
        date(2026, 1, 31),
        date(2025, 12, 31),
    ]


@pytest.mark.parametrize("frequency", [MONTHLY, WEEKLY], ids=["months", "days"])
@pytest.mark.parametrize("n", ["1", True, 1.0, None])
def test_nth_refuses_what_is_not_an_int_with_a_typed_error(frequency, n):
    # The review: nth("1") raised a raw TypeError (int + str).
    schedule = BillingSchedule(anchor=date(2026, 1, 31), frequency=frequency)
    with pytest.raises(InvalidTypeError, match=rf"^n={n!r} must be an int$"):
        schedule.nth(n)


def test_quarterly_and_weekly_schedules():
    quarterly = BillingSchedule(anchor=date(2026, 11, 30), frequency=QUARTERLY)
    assert _first(quarterly, 3) == [date(2026, 11, 30), date(2027, 2, 28), date(2027, 5, 30)]
    weekly = BillingSchedule(anchor=date(2026, 12, 29), frequency=WEEKLY)
    assert _first(weekly, 2) == [date(2026, 12, 29), date(2027, 1, 5)]


def test_period_containing():
    schedule = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY)
    assert schedule.period_containing(date(2026, 3, 1)) == Period(
        date(2026, 2, 28), date(2026, 3, 31)
    )
    assert schedule.period_containing(date(2026, 2, 28)) == Period(
        date(2026, 2, 28), date(2026, 3, 31)
    )
    assert schedule.period_containing(date(2026, 2, 27)) == Period(
        date(2026, 1, 31), date(2026, 2, 28)
    )
    assert schedule.period_containing(date(2025, 1, 1)) == Period(
        date(2024, 12, 31), date(2025, 1, 31)
    )


def test_billing_day_must_match_the_anchor():
    with pytest.raises(
        InvalidBillingDayError, match="anchor=2026-01-15 must fall on billing_day=31"
    ):
        BillingSchedule(anchor=date(2026, 1, 15), frequency=MONTHLY, billing_day=31)
    BillingSchedule(anchor=date(2026, 2, 28), frequency=MONTHLY, billing_day=31)  # clamped: fine


@pytest.mark.parametrize(
    ("day", "error"),
    [
        (0, InvalidBillingDayError),
        (32, InvalidBillingDayError),
        (-1, InvalidBillingDayError),
        (True, InvalidTypeError),  # not a day: a type error (issue 12)
    ],
)
def test_billing_day_out_of_range_is_refused(day, error):
    with pytest.raises(error, match=f"billing_day={day!r} must be an int from 1 to 31"):
        BillingSchedule(anchor=date(2026, 1, 1), frequency=MONTHLY, billing_day=day)


@pytest.mark.parametrize("build", [BillingSchedule, schedule_for], ids=["schedule", "for"])
def test_a_billing_day_of_thousands_of_digits_is_refused_with_a_typed_error(build):
    # It used to reach repr() of the int: a raw ValueError (more than 4300 digits).
    kwargs = {"anchor" if build is BillingSchedule else "start": date(2026, 1, 1)}
    with pytest.raises(InvalidBillingDayError, match=r"^billing_day=Decimal\('1\.0+E\+5000'\) "):
        build(frequency=MONTHLY, billing_day=10**5000, **kwargs)


@pytest.mark.parametrize(
    ("day", "error"),
    [
        (0, InvalidBillingDayError),
        (32, InvalidBillingDayError),
        (True, InvalidTypeError),  # not a day: a type error (issue 12)
        ("15", InvalidTypeError),
    ],
)
def test_schedule_for_refuses_a_bad_billing_day_like_the_schedule(day, error):
    with pytest.raises(error, match=f"^billing_day={day!r} must be an int from 1 to 31$"):
        schedule_for(date(2026, 1, 1), MONTHLY, billing_day=day)


def test_schedule_for_refuses_a_frequency_that_is_not_one():
    # It used to raise a raw AttributeError ('str' object has no attribute 'is_month_based').
    with pytest.raises(InvalidTypeError, match=r"^frequency='monthly' must be a Frequency$"):
        schedule_for(date(2026, 1, 1), "monthly")


@given(st.integers(min_value=1, max_value=MAX_FREQUENCY_DAYS // 7))
def test_a_week_is_seven_days_and_a_year_twelve_months(n):
    assert Frequency.weeks(n) == Frequency.days(7 * n)
    if n <= MAX_FREQUENCY_MONTHS // 12:
        assert Frequency.years(n) == Frequency.months(12 * n)
        assert Frequency.parse(f"P{n}Y") == Frequency.years(n)
    assert Frequency.parse(f"{n} weeks") == Frequency.weeks(n)


def test_billing_day_needs_a_month_based_frequency():
    with pytest.raises(InvalidBillingDayError, match="needs a month-based frequency"):
        BillingSchedule(anchor=date(2026, 1, 1), frequency=WEEKLY, billing_day=1)


@st.composite
def schedules(draw: st.DrawFn) -> BillingSchedule:
    frequency = draw(st.one_of(month_frequencies, day_frequencies))
    anchor = draw(dates)
    if frequency.is_month_based and draw(st.booleans()):
        day = draw(st.integers(min_value=1, max_value=31))
        anchor = anchor.replace(day=min(day, days_in_month(anchor.year, anchor.month)))
        return BillingSchedule(anchor=anchor, frequency=frequency, billing_day=day)
    return BillingSchedule(anchor=anchor, frequency=frequency)


@given(schedules(), st.integers(min_value=-200, max_value=200))
def test_billing_dates_strictly_increase(schedule, n):
    assert schedule.nth(n) < schedule.nth(n + 1)
    assert schedule.nth(0) == schedule.anchor


@given(schedules(), st.integers(min_value=-200, max_value=200))
def test_month_based_dates_land_on_billing_day_or_month_end(schedule, n):
    d = schedule.nth(n)
    if schedule.frequency.is_month_based:
        assert d.day == min(schedule.day, days_in_month(d.year, d.month))
        months = (d.year - schedule.anchor.year) * 12 + d.month - schedule.anchor.month
        assert months == n * schedule.frequency.count
    else:
        assert (d - schedule.anchor).days == n * schedule.frequency.count


@given(
    schedules(), st.integers(min_value=-100, max_value=100), st.integers(min_value=0, max_value=50)
)
def test_dates_never_drift_when_counted_from_a_later_billing_date(schedule, n, m):
    # The new anchor is a date given to the library: it must be within the date bounds.
    assume(MIN_DATE <= schedule.nth(n) <= MAX_DATE)
    restarted = BillingSchedule(
        anchor=schedule.nth(n), frequency=schedule.frequency, billing_day=schedule.day
    )
    assert restarted.nth(m) == schedule.nth(n + m)


@given(schedules(), dates)
def test_period_containing_holds_the_day(schedule, day):
    period = schedule.period_containing(day)
    assert day in period
    n = schedule.index_of(day)
    assert period == Period(schedule.nth(n), schedule.nth(n + 1))


# -- add_months and BillingStart ---------------------------------------------------------------


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 15), -15) == date(2024, 12, 15)


def test_billing_start_resolves_against_payment_date():
    paid = date(2026, 1, 31)
    assert BillingStart.immediately().resolve(paid_on=paid) == paid
    assert BillingStart.on(date(2026, 7, 1)).resolve(paid_on=paid) == date(2026, 7, 1)
    assert BillingStart.after_days(10).resolve(paid_on=paid) == date(2026, 2, 10)
    assert BillingStart.after_months(1).resolve(paid_on=paid) == date(2026, 2, 28)
    assert BillingStart.after_months(6).resolve(paid_on=date(2026, 3, 15)) == date(2026, 9, 15)


def test_custom_start_before_payment_resolves_to_payment_date():
    start = BillingStart.on(date(2026, 1, 1))
    assert start.resolve(paid_on=date(2026, 2, 15)) == date(2026, 2, 15)
    assert not start.is_deferred(paid_on=date(2026, 2, 15))
    assert start.is_deferred(paid_on=date(2025, 12, 31))


def test_billing_starts_are_four_classes_that_match_tells_apart():
    starts = [
        BillingStart.immediately(),
        BillingStart.on(date(2026, 3, 10)),
        BillingStart.after_days(45),
        BillingStart.after_months(1),
    ]
    assert starts == [Immediately(), OnDate(date(2026, 3, 10)), AfterDays(45), AfterMonths(1)]
    assert all(isinstance(s, BillingStart) for s in starts)
    assert [s.kind for s in starts] == list(StartKind)

    def describe(start: AnyBillingStart) -> str:
        match start:
            case Immediately():
                return "at payment"
            case OnDate(day):
                return f"on {day.isoformat()}"
            case AfterDays(n):
                return f"{n} days after payment"
            case AfterMonths(n):
                return f"{n} months after payment"

    assert [describe(s) for s in starts] == [
        "at payment",
        "on 2026-03-10",
        "45 days after payment",
        "1 months after payment",
    ]
    paid = date(2026, 1, 31)
    assert [s.resolve(paid_on=paid) for s in starts] == [
        date(2026, 1, 31),
        date(2026, 3, 10),
        date(2026, 3, 17),
        date(2026, 2, 28),
    ]


def test_a_billing_start_is_built_by_its_constructors_not_from_a_kind():
    with pytest.raises(
        InvalidTypeError, match=r"BillingStart=.* must be built by BillingStart\.immediately\(\)"
    ):
        BillingStart(kind=StartKind.AFTER_MONTHS, count=6)
    with pytest.raises(InvalidDateError, match="day='2026-03-10'"):
        OnDate("2026-03-10")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="count=-1 must be an int >= 0"):
        AfterMonths(-1)


billing_starts = st.one_of(
    st.just(BillingStart.immediately()),
    dates.filter(lambda d: d <= MAX_DATE).map(BillingStart.on),
    st.integers(0, MAX_FREQUENCY_DAYS).map(BillingStart.after_days),
    st.integers(0, MAX_FREQUENCY_MONTHS).map(BillingStart.after_months),
)


@given(billing_starts, dates)
def test_a_start_is_deferred_exactly_when_it_resolves_after_payment(start, paid_on):
    first = start.resolve(paid_on=paid_on)
    assert first >= paid_on
    assert start.is_deferred(paid_on=paid_on) is (first > paid_on)


def test_billing_start_refuses_bad_values():
    with pytest.raises(InvalidArgumentError, match="count=-1 must be an int >= 0"):
        BillingStart.after_days(-1)
    with pytest.raises(InvalidDateError, match="on=None"):
        BillingStart.on(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidDateError, match="paid_on="):
        BillingStart.immediately().resolve(paid_on=datetime(2026, 1, 1))  # noqa: DTZ001


@given(
    dates,
    st.integers(min_value=0, max_value=MAX_FREQUENCY_MONTHS),
    st.integers(min_value=0, max_value=MAX_FREQUENCY_DAYS),
)
def test_delayed_starts_are_never_before_payment(paid_on, n, days):
    # Delays are bounded like frequencies: ten years, 120 months or 3660 days.
    for start in (BillingStart.after_days(days), BillingStart.after_months(n)):
        assert start.resolve(paid_on=paid_on) >= paid_on
    assert BillingStart.after_days(days).resolve(paid_on=paid_on) == paid_on + timedelta(days=days)


def test_add_months_refuses_a_bad_billing_day_day_or_count_with_typed_errors():
    with pytest.raises(InvalidBillingDayError, match="billing_day=-1 must be an int from 1 to 31"):
        add_months(date(2026, 1, 31), 1, billing_day=-1)
    for bad in (0, 32):
        with pytest.raises(InvalidBillingDayError, match=f"^billing_day={bad} must be an int "):
            add_months(date(2026, 1, 31), 1, billing_day=bad)
    for bad in (True, "1", 1.0):  # not a day: a type error (issue 12)
        with pytest.raises(InvalidTypeError, match=f"^billing_day={bad!r} must be an int "):
            add_months(date(2026, 1, 31), 1, billing_day=bad)
    with pytest.raises(InvalidDateError, match="day=None"):
        add_months(None, 1)
    with pytest.raises(InvalidDateError, match=r"day=datetime\.datetime"):
        add_months(datetime(2026, 1, 31, 12, tzinfo=UTC), 1)
    for bad in (1.0, "1", True, None):
        with pytest.raises(InvalidTypeError, match=r"months=.* must be an int"):
            add_months(date(2026, 1, 31), bad)
    assert add_months(date(2026, 1, 31), 1, billing_day=31) == date(2026, 2, 28)


@given(
    dates,
    st.one_of(month_frequencies, day_frequencies),
    st.one_of(st.none(), st.integers(28, 31), st.integers(1, 27)),
    st.integers(-30, 30),
    st.integers(0, 800),
)
def test_stepped_billing_dates_are_the_nth_dates(anchor, frequency, day, n, span):
    # dates_from and dates_through step from one date to the next (issue 13, the calendar's
    # hot path); each date must be the one nth computes from the anchor.
    billing_day = day if frequency.is_month_based else None
    schedule = schedule_for(anchor, frequency, billing_day=billing_day)
    stepped = schedule.dates_from(n)
    assert [next(stepped) for _ in range(6)] == [schedule.nth(n + i) for i in range(6)]
    last = schedule.nth(n) + timedelta(days=span)
    through = schedule.dates_through(n, last)
    assert through == [schedule.nth(n + i) for i in range(len(through))]
    assert through[-1] >= last
    assert all(earlier < last for earlier in through[:-1])


# -- the grid of a schedule (the calendar of proration's fast path) -----------------------------


@st.composite
def days_near_billing_dates(draw: st.DrawFn, schedule: BillingSchedule) -> date:
    """Any date, the last day of a month, or a day around one of ``schedule``'s dates."""
    day = draw(dates)
    match draw(st.sampled_from(["any", "month end", "near a billing date"])):
        case "month end":
            return day.replace(day=days_in_month(day.year, day.month))
        case "near a billing date":
            near = schedule.nth(draw(st.integers(-30, 30)))
            return near + timedelta(days=draw(st.integers(-2, 2)))
    return day


@st.composite
def clamping_schedules(draw: st.DrawFn) -> BillingSchedule:
    """Schedules whose billing day is often 29-31 (it clamps at short months' ends)."""
    frequency = draw(st.one_of(month_frequencies, day_frequencies))
    anchor = draw(dates)
    if not frequency.is_month_based:
        return BillingSchedule(anchor=anchor, frequency=frequency)
    day = draw(st.one_of(st.integers(1, 31), st.sampled_from([29, 30, 31])))
    anchor = anchor.replace(day=min(day, days_in_month(anchor.year, anchor.month)))
    return BillingSchedule(anchor=anchor, frequency=frequency, billing_day=day)


@settings(max_examples=300)
@given(clamping_schedules(), st.data())
def test_the_index_of_a_day_is_that_of_the_billing_period_that_holds_it(schedule, data):
    # index_of counts months instead of stepping nth (issue 13, engine third pass): around
    # billing dates and month ends, where days 29-31 clamp, nth(n) <= day < nth(n + 1).
    day = data.draw(days_near_billing_dates(schedule))
    n = schedule.index_of(day)
    assert schedule.nth(n) <= day < schedule.nth(n + 1)


@settings(max_examples=300)
@given(clamping_schedules(), st.data())
def test_a_grid_numbers_its_schedules_periods_from_another_origin(schedule, data):
    # Issue 13: proration reads billing periods off the grid of a schedule (what its dates
    # depend on): the grid's period holding a day is the schedule's, only numbered from
    # another origin — around billing dates and month ends too, where days 29-31 clamp.
    from subbill.periods import grid_date, grid_index, grid_of  # noqa: PLC0415

    day = data.draw(days_near_billing_dates(schedule))
    grid = grid_of(schedule)
    origin = grid_index(grid, schedule.anchor)
    n = schedule.index_of(day)
    assert grid_index(grid, day) - origin == n
    assert grid_date(grid, origin + n) == schedule.nth(n)
    assert grid_date(grid, origin + n + 1) == schedule.nth(n + 1)


def test_the_grid_of_a_schedule_for_is_read_without_building_it():
    from subbill.periods import grid_for, grid_of  # noqa: PLC0415

    for start, frequency, day, anchor in [
        (date(2026, 2, 28), MONTHLY, 31, None),
        (date(2026, 2, 10), QUARTERLY, None, None),
        (date(2026, 2, 10), ANNUAL, 29, date(2025, 3, 29)),
        (date(2026, 2, 10), WEEKLY, None, None),
        (date(2026, 2, 10), Frequency.days(10), None, date(2026, 1, 3)),
    ]:
        schedule = schedule_for(start, frequency, billing_day=day, anchor=anchor)
        assert grid_for(start, frequency, day, anchor) == grid_of(schedule)
    with pytest.raises(InvalidBillingDayError, match="billing_day=32"):
        grid_for(date(2026, 2, 10), MONTHLY, 32, None)
    with pytest.raises(InvalidBillingDayError, match="needs a month-based frequency"):
        grid_for(date(2026, 2, 10), WEEKLY, 3, None)

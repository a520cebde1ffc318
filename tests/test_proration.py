import itertools
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from subbill import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    BillingSchedule,
    Frequency,
    InvalidArgumentError,
    Money,
    OutOfBoundsError,
    Period,
    ProrationBasis,
    billable_periods,
    prorate,
)
from subbill.errors import InvalidBillingDayError, InvalidPeriodError
from subbill.periods import WEEKLY, days_in_month, schedule_for
from subbill.proration import BillablePeriod, BillingTiming, credit_unused, day_count, days360
from tests.strategies import billing_days, dates, day_frequencies, month_frequencies

ACTUAL = ProrationBasis.ACTUAL_DAYS
THIRTY = ProrationBasis.THIRTY_DAY_MONTH


def _summary(periods):
    return [(p.period.start, p.period.end, p.factor) for p in periods]


def test_issue_example_monthly_billing_day_13():
    periods = billable_periods(
        date(2011, 2, 1), as_of=date(2011, 4, 13), frequency=MONTHLY, billing_day=13
    )
    assert _summary(periods) == [
        (date(2011, 2, 1), date(2011, 2, 13), Fraction(12, 31)),
        (date(2011, 2, 13), date(2011, 3, 13), Fraction(1)),
        (date(2011, 3, 13), date(2011, 4, 13), Fraction(1)),
        (date(2011, 4, 13), date(2011, 5, 13), Fraction(1)),
    ]
    assert sum(p.factor for p in periods) == 3 + Fraction(12, 31)
    assert periods[0].cycle == Period(date(2011, 1, 13), date(2011, 2, 13))
    assert periods[0] == BillablePeriod(
        period=Period(date(2011, 2, 1), date(2011, 2, 13)), factor=Fraction(12, 31)
    )


def test_whole_periods_count_one_whatever_their_length():
    periods = billable_periods(date(2026, 1, 31), as_of=date(2026, 4, 30), frequency=MONTHLY)
    assert [p.period.days for p in periods] == [28, 31, 30, 31]
    assert all(p.factor == 1 and not p.is_partial for p in periods)


def test_month_end_billing_day_partial_february():
    # Billing on the 31st, starting mid-February: the enclosing period is 31 Jan – 28 Feb.
    periods = billable_periods(
        date(2026, 2, 14), as_of=date(2026, 2, 14), frequency=MONTHLY, billing_day=31
    )
    assert _summary(periods) == [(date(2026, 2, 14), date(2026, 2, 28), Fraction(14, 28))]
    assert periods[0].cycle == Period(date(2026, 1, 31), date(2026, 2, 28))


def test_leap_year_february_has_29_days():
    periods = billable_periods(
        date(2028, 2, 15), as_of=date(2028, 2, 15), frequency=MONTHLY, billing_day=1
    )
    assert _summary(periods) == [(date(2028, 2, 15), date(2028, 3, 1), Fraction(15, 29))]


def test_annual_partial_uses_365_or_366_days():
    leap = billable_periods(
        date(2028, 1, 1), date(2028, 7, 1), as_of=date(2028, 1, 1), frequency=ANNUAL
    )
    assert _summary(leap) == [(date(2028, 1, 1), date(2028, 7, 1), Fraction(182, 366))]
    common = billable_periods(
        date(2026, 1, 1), date(2026, 7, 1), as_of=date(2026, 1, 1), frequency=ANNUAL
    )
    assert common[0].factor == Fraction(181, 365)


def test_quarterly_partial_uses_the_quarters_days():
    periods = billable_periods(
        date(2026, 2, 1), as_of=date(2026, 2, 1), frequency=QUARTERLY, billing_day=1
    )
    # A quarterly schedule anchored on 1 February: the first period is whole.
    assert _summary(periods) == [(date(2026, 2, 1), date(2026, 5, 1), Fraction(1))]
    ended = billable_periods(
        date(2026, 2, 1), date(2026, 3, 1), as_of=date(2026, 2, 1), frequency=QUARTERLY
    )
    assert _summary(ended) == [(date(2026, 2, 1), date(2026, 3, 1), Fraction(28, 89))]


def test_trailing_partial_period_when_end_is_not_a_cycle_date():
    periods = billable_periods(
        date(2026, 1, 1), date(2026, 3, 11), as_of=date(2026, 12, 31), frequency=MONTHLY
    )
    assert _summary(periods) == [
        (date(2026, 1, 1), date(2026, 2, 1), Fraction(1)),
        (date(2026, 2, 1), date(2026, 3, 1), Fraction(1)),
        (date(2026, 3, 1), date(2026, 3, 11), Fraction(10, 31)),
    ]


def test_in_arrears_bills_only_ended_periods():
    in_arrears = billable_periods(
        date(2026, 1, 15),
        as_of=date(2026, 3, 14),
        frequency=MONTHLY,
        timing=BillingTiming.IN_ARREARS,
    )
    assert _summary(in_arrears) == [(date(2026, 1, 15), date(2026, 2, 15), Fraction(1))]
    on_the_day = billable_periods(
        date(2026, 1, 15),
        as_of=date(2026, 3, 15),
        frequency=MONTHLY,
        timing=BillingTiming.IN_ARREARS,
    )
    assert len(on_the_day) == 2


def test_nothing_is_due_before_the_start():
    assert billable_periods(date(2026, 5, 1), as_of=date(2026, 4, 30), frequency=MONTHLY) == ()


def test_thirty_day_month_basis_examples_from_the_issue():
    may = billable_periods(
        date(2026, 5, 23), as_of=date(2026, 5, 23), frequency=MONTHLY, billing_day=15, basis=THIRTY
    )
    assert _summary(may) == [(date(2026, 5, 23), date(2026, 6, 15), Fraction(22, 30))]
    feb = billable_periods(
        date(2026, 2, 23), as_of=date(2026, 2, 23), frequency=MONTHLY, billing_day=15, basis=THIRTY
    )
    assert _summary(feb) == [(date(2026, 2, 23), date(2026, 3, 15), Fraction(22, 30))]
    assert may[0].day_count == feb[0].day_count == (22, 30)
    assert days360(date(2026, 5, 23), date(2026, 6, 15)) == 22


def test_thirty_day_month_quarterly_counts_90_days():
    periods = billable_periods(
        date(2026, 2, 16), as_of=date(2026, 2, 16), frequency=QUARTERLY, billing_day=1, basis=THIRTY
    )
    assert _summary(periods) == [(date(2026, 2, 16), date(2026, 5, 1), Fraction(75, 90))]
    assert periods[0].day_count == (75, 90)


def test_thirty_day_month_pieces_of_a_period_add_up_to_it():
    # The pieces count positions in the period: cut anywhere, they add up to 30 days. As in
    # the 30/360 convention (the 31st counts as the 30th), a last day may count none.
    cycle = Period(date(2026, 2, 28), date(2026, 3, 31))
    last = Period(date(2026, 3, 30), date(2026, 3, 31))
    rest = Period(date(2026, 2, 28), date(2026, 3, 30))
    assert day_count(last, cycle=cycle, basis=THIRTY) == (0, 30)
    assert day_count(rest, cycle=cycle, basis=THIRTY) == (30, 30)
    # The review's case: a change on 2 March splits the period into 4 + 26 days, not 4 + 28.
    before = Period(date(2026, 2, 28), date(2026, 3, 2))
    after = Period(date(2026, 3, 2), date(2026, 3, 31))
    assert day_count(before, cycle=cycle, basis=THIRTY) == (4, 30)
    assert day_count(after, cycle=cycle, basis=THIRTY) == (26, 30)


@given(st.integers(0, 400), st.integers(1, 12), st.data())
def test_thirty_day_month_pieces_always_add_up(offset, months, data):
    start = date(2025, 1, 1) + timedelta(days=offset)
    schedule = schedule_for(start, Frequency.months(months))
    cycle = schedule.period_containing(start)
    cut = cycle.start + timedelta(days=data.draw(st.integers(1, cycle.days - 1)))
    first, second = Period(cycle.start, cut), Period(cut, cycle.end)
    (a, whole), (b, _) = (day_count(p, cycle=cycle, basis=THIRTY) for p in (first, second))
    assert a + b == whole == 30 * months
    assert 0 <= a <= whole


def test_no_proration_basis_bills_partial_periods_whole():
    periods = billable_periods(
        date(2026, 2, 1),
        as_of=date(2026, 2, 1),
        frequency=MONTHLY,
        billing_day=13,
        basis=ProrationBasis.NONE,
    )
    assert _summary(periods) == [(date(2026, 2, 1), date(2026, 2, 13), Fraction(1))]


def test_thirty_day_basis_needs_month_based_frequency():
    with pytest.raises(InvalidArgumentError, match="basis=thirty_day_month needs a month-based"):
        billable_periods(date(2026, 1, 1), as_of=date(2026, 1, 1), frequency=WEEKLY, basis=THIRTY)


def test_day_based_frequency_refuses_billing_day():
    with pytest.raises(InvalidBillingDayError, match="needs a month-based frequency"):
        billable_periods(date(2026, 1, 1), as_of=date(2026, 1, 1), frequency=WEEKLY, billing_day=3)


def test_end_must_be_after_start():
    with pytest.raises(InvalidPeriodError, match="end=2026-01-01 must be after start=2026-01-01"):
        billable_periods(
            date(2026, 1, 1), date(2026, 1, 1), as_of=date(2026, 2, 1), frequency=MONTHLY
        )


def test_prorate_rounds_once():
    assert prorate(Money("50.00", "EUR"), Fraction(12, 31)) == Money("19.35", "EUR")
    assert prorate(Money("1000", "JPY"), Fraction(1, 3)) == Money("333", "JPY")
    with pytest.raises(InvalidArgumentError, match="factor=-1 must be >= 0"):
        prorate(Money("1", "EUR"), -1)


def test_credit_unused_part_of_a_paid_period():
    (march,) = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY)
    price = Money("50.00", "EUR")
    assert credit_unused(price, march, on=date(2026, 3, 13)) == Money("30.65", "EUR")  # 19/31
    assert credit_unused(price, march, on=date(2026, 3, 1)) == price
    assert credit_unused(price, march, on=date(2026, 4, 1)) == Money.zero("EUR")
    used = prorate(price, march.split(on=date(2026, 3, 13))[0].factor)
    assert used + credit_unused(price, march, on=date(2026, 3, 13)) == price


def test_credit_unused_of_a_partial_period():
    (first,) = billable_periods(
        date(2026, 3, 10), as_of=date(2026, 3, 10), frequency=MONTHLY, billing_day=1
    )
    assert first.factor == Fraction(22, 31)
    # Changed on 20 March: 12 days of the 31 of March are unused.
    assert credit_unused(Money("31.00", "EUR"), first, on=date(2026, 3, 20)) == Money(
        "12.00", "EUR"
    )


def test_day_count_explains_the_factor_unreduced():
    cycle = Period(date(2026, 2, 13), date(2026, 3, 13))
    assert day_count(Period(date(2026, 3, 1), date(2026, 3, 13)), cycle=cycle) == (12, 28)
    with pytest.raises(InvalidPeriodError, match="must lie inside"):
        day_count(Period(date(2026, 1, 1), date(2026, 3, 13)), cycle=cycle)


# -- properties --------------------------------------------------------------------------------

frequencies = st.one_of(month_frequencies, day_frequencies)


@st.composite
def subscriptions(draw: st.DrawFn) -> dict[str, object]:
    frequency = draw(frequencies)
    start = draw(dates)
    end = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=1500)))
    return {
        "start": start,
        "end": None if end is None else start + timedelta(days=end),
        "as_of": start + timedelta(days=draw(st.integers(min_value=-30, max_value=1500))),
        "frequency": frequency,
        "billing_day": draw(billing_days) if frequency.is_month_based else None,
        "basis": draw(
            st.sampled_from(list(ProrationBasis))
            if frequency.is_month_based
            else st.sampled_from([ACTUAL, ProrationBasis.NONE])
        ),
    }


@given(subscriptions(), st.sampled_from(list(BillingTiming)))
def test_billable_periods_are_contiguous_inside_bounds_with_factors_in_unit_interval(sub, timing):
    periods = billable_periods(**sub, timing=timing)  # type: ignore[arg-type]
    start, end, as_of = sub["start"], sub["end"], sub["as_of"]
    if periods:
        assert periods[0].period.start == start
    for before, after in itertools.pairwise(periods):
        assert before.period.end == after.period.start
    for p in periods:
        assert start <= p.period.start < p.period.end
        assert end is None or p.period.end <= end
        # 0 only under 30/360, for a piece the convention counts as no day (the 31st).
        assert 0 < p.factor <= 1 or (p.factor == 0 and sub["basis"] is THIRTY)
        assert p.period.start >= p.cycle.start
        assert p.period.end <= p.cycle.end
        assert (p.factor == 1) == (not p.is_partial) or sub["basis"] is not ACTUAL
        if timing is BillingTiming.IN_ADVANCE:
            assert p.period.start <= as_of
        else:
            assert p.period.end <= as_of


@given(subscriptions())
def test_in_arrears_is_a_prefix_of_in_advance(sub):
    advance = billable_periods(**sub, timing=BillingTiming.IN_ADVANCE)  # type: ignore[arg-type]
    arrears = billable_periods(**sub, timing=BillingTiming.IN_ARREARS)  # type: ignore[arg-type]
    assert advance[: len(arrears)] == arrears
    assert len(advance) - len(arrears) in (0, 1)


@given(subscriptions())
def test_billable_periods_cover_start_to_min_of_end_and_as_of(sub):
    sub = {**sub, "basis": ACTUAL}
    periods = billable_periods(**sub, timing=BillingTiming.IN_ADVANCE)  # type: ignore[arg-type]
    start, end, as_of = sub["start"], sub["end"], sub["as_of"]
    if as_of < start:
        assert periods == ()
        return
    last = periods[-1].period
    assert as_of < last.end or last.end == end
    covered = sum(p.period.days for p in periods)
    assert covered == (last.end - start).days


@given(month_frequencies, dates, billing_days, st.integers(min_value=1, max_value=800))
def test_splitting_a_billing_period_gives_two_factors_summing_to_one(frequency, day, bday, offset):
    anchor_day = day.day if bday is None else bday
    schedule = BillingSchedule(
        anchor=day.replace(day=min(anchor_day, 28)) if bday is None else day.replace(day=1),
        frequency=frequency,
    )
    cycle = schedule.period_containing(day)
    assume(cycle.days > 1)
    on = cycle.start + timedelta(days=1 + offset % (cycle.days - 1))
    whole = BillablePeriod(period=cycle, factor=Fraction(1))
    first, second = whole.split(on=on)
    assert first.factor + second.factor == 1
    assert first.period.end == second.period.start == on


@given(day_frequencies, dates, st.integers(min_value=1, max_value=800))
def test_splitting_a_day_based_period_sums_to_one(frequency, day, offset):
    cycle = BillingSchedule(anchor=day, frequency=frequency).period(0)
    assume(cycle.days > 1)
    on = cycle.start + timedelta(days=1 + offset % (cycle.days - 1))
    first, second = BillablePeriod(period=cycle, factor=Fraction(1)).split(on=on)
    assert first.factor + second.factor == 1


@given(subscriptions(), st.integers(min_value=0, max_value=2000))
def test_billing_in_two_steps_gives_the_same_periods_as_at_once(sub, extra):
    sub = dict(sub)
    later = sub["as_of"] + timedelta(days=extra)  # type: ignore[operator]
    early = billable_periods(**sub)  # type: ignore[arg-type]
    sub["as_of"] = later
    full = billable_periods(**sub)  # type: ignore[arg-type]
    assert full[: len(early)] == early


def test_factor_of_a_frequency_with_many_months():
    periods = billable_periods(
        date(2026, 7, 1), as_of=date(2026, 7, 1), frequency=Frequency.years(2), billing_day=1
    )
    assert periods[0].factor == 1


def test_prorate_beyond_the_amount_bound_is_out_of_bounds_not_invalid_operation():
    with pytest.raises(OutOfBoundsError, match=r"factor=.* below 10\^15 in magnitude"):
        prorate(Money("9e14", "EUR"), Fraction(10**60))
    with pytest.raises(OutOfBoundsError):
        prorate(Money("9e14", "EUR"), Fraction(2))
    assert prorate(Money("9e14", "EUR"), Fraction(1)) == Money("900000000000000.00", "EUR")


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(1, 10_000_000),
    start_offset=st.integers(0, 27),
    used_days=st.integers(0, 40),
    basis=st.sampled_from(list(ProrationBasis)),
)
def test_the_engine_credits_exactly_what_credit_unused_says(cents, start_offset, used_days, basis):
    # One price rule: the engine's credit for a charge ended inside a period it billed in
    # advance is proration.credit_unused of that period, to the cent, on every basis.
    from subbill import ChargePlan, RecurringCharge, bill_subscription  # noqa: PLC0415

    price = Money(Decimal(cents) / 100, "EUR")
    start = date(2026, 3, 1) + timedelta(days=start_offset)
    charge = RecurringCharge(
        code="p", description="P", unit_price=price, start=start, billing_day=1, basis=basis
    )
    plan = ChargePlan(id="S", customer="C", currency="EUR", charges=(charge,))
    first = bill_subscription(plan, as_of=start)
    (billed,) = billable_periods(start, as_of=start, frequency=MONTHLY, billing_day=1, basis=basis)
    on = start + timedelta(days=used_days)
    ended = ChargePlan(
        id="S", customer="C", currency="EUR", charges=(attrs.evolve(charge, end=on),)
    )
    later = bill_subscription(ended, first.state, as_of=max(on, start))
    period = billed.period
    credit_lines = [
        line
        for line in (later.invoice.lines if later.invoice is not None else ())
        if line.period is not None and period.start <= line.period.start < period.end
    ]
    credited = -sum((line.net for line in credit_lines), Money.zero("EUR"))
    assert credited == credit_unused(price, billed, on=on)


def test_stepped_dates_and_spans_refuse_what_nth_refuses():
    # The review of issue 13: dates_from skipped nth's checks on a month-based schedule, and
    # periods_over silently dropped the last piece of a span ending beyond the calendar.
    from itertools import islice  # noqa: PLC0415

    from subbill.errors import InvalidDateError, InvalidTypeError  # noqa: PLC0415
    from subbill.proration import periods_over  # noqa: PLC0415

    schedule = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY, billing_day=31)
    with pytest.raises(OutOfBoundsError, match="n=100000"):
        list(islice(schedule.dates_from(100_000), 3))
    for wrong in (True, 1.5, "1"):
        with pytest.raises(InvalidTypeError):
            next(schedule.dates_from(wrong))
    far = schedule_for(date(3099, 1, 1), MONTHLY)
    with pytest.raises(OutOfBoundsError):
        periods_over(date(3099, 1, 1), date(9999, 12, 31), schedule=far)
    with pytest.raises(InvalidPeriodError, match="must be after start=2026-02-15"):
        periods_over(date(2026, 2, 15), date(2026, 1, 10), schedule=far)
    with pytest.raises(InvalidDateError):
        periods_over(date(2026, 2, 15), "2026-03-01", schedule=far)


def _periods_plainly(start, end, schedule, basis, until, in_advance):
    """periods_over written plainly: walk the billing periods one by one from nth."""
    from subbill.proration import period_factor  # noqa: PLC0415

    found = []
    n = schedule.index_of(start)
    while True:
        cycle = Period(schedule.nth(n), schedule.nth(n + 1))
        piece_start = max(cycle.start, start)
        piece_end = cycle.end if end is None else min(cycle.end, end)
        if until is not None and (piece_start if in_advance else piece_end) > until:
            return found
        piece = Period(piece_start, piece_end)
        found.append((piece, period_factor(piece, cycle=cycle, basis=basis), cycle))
        if end is not None and cycle.end >= end:
            return found
        n += 1


@settings(max_examples=300)
@given(
    dates,
    st.one_of(month_frequencies, day_frequencies),
    st.integers(0, 400),
    st.one_of(st.none(), st.integers(1, 900)),
    st.integers(-60, 900),
    st.booleans(),
    st.sampled_from([ACTUAL, ProrationBasis.NONE, THIRTY]),
    billing_days,
)
def test_periods_over_cuts_a_span_as_walking_its_billing_periods_does(
    start, frequency, anchored_before, length, until_after, in_advance, basis, day
):
    # Issue 13 made periods_over build its whole periods by bisection, not one test each:
    # it must cut every span exactly as walking the billing periods one by one does.
    from subbill.proration import periods_over  # noqa: PLC0415

    assume(frequency.is_month_based or basis is not THIRTY)
    billing_day = day if frequency.is_month_based else None
    schedule = schedule_for(
        start - timedelta(days=anchored_before), frequency, billing_day=billing_day
    )
    end = None if length is None else start + timedelta(days=length)
    until = start + timedelta(days=until_after)
    got = periods_over(
        start, end, schedule=schedule, basis=basis, until=until, in_advance=in_advance
    )
    assert [(p.period, p.factor, p.cycle) for p in got] == _periods_plainly(
        start, end, schedule, basis, until, in_advance
    )


def _month_end(day: date) -> date:
    return day.replace(day=days_in_month(day.year, day.month))


#: Dates, half of them the last day of their month (where billing days of 29-31 clamp).
edgy_dates = st.one_of(dates, dates.map(_month_end))


@settings(max_examples=400)
@given(
    edgy_dates,
    st.one_of(month_frequencies, day_frequencies),
    st.one_of(st.none(), st.integers(1, 1500)),
    st.integers(-60, 1500),
    st.sampled_from(list(BillingTiming)),
    st.sampled_from([ACTUAL, ProrationBasis.NONE, THIRTY]),
    st.one_of(billing_days, st.sampled_from([29, 30, 31])),  # days that clamp, often
    st.one_of(st.none(), st.integers(-400, 400)),
)
def test_billable_periods_are_the_billing_periods_walked_one_by_one(
    start, frequency, length, as_of_after, timing, basis, day, anchor_offset
):
    # Issue 13 made billable_periods read its calendar off a grid of shared whole periods,
    # without building the schedule: it must give, period by period (with each cycle and
    # basis), what walking schedule_for's billing periods one by one gives.
    assume(frequency.is_month_based or basis is not THIRTY)
    billing_day = day if frequency.is_month_based else None
    anchor = None
    if anchor_offset is not None:
        anchor = start + timedelta(days=anchor_offset)
        if billing_day is not None:  # an anchor falls on the billing day (clamped)
            anchor = schedule_for(anchor, frequency, billing_day=billing_day).anchor
    end = None if length is None else start + timedelta(days=length)
    as_of = start + timedelta(days=as_of_after)
    got = billable_periods(
        start,
        end,
        as_of=as_of,
        frequency=frequency,
        billing_day=billing_day,
        timing=timing,
        basis=basis,
        anchor=anchor,
    )
    schedule = schedule_for(start, frequency, billing_day=billing_day, anchor=anchor)
    in_advance = timing is BillingTiming.IN_ADVANCE
    assert [(p.period, p.factor, p.cycle) for p in got] == _periods_plainly(
        start, end, schedule, basis, as_of, in_advance
    )
    assert all(p.basis is basis for p in got)


def test_a_start_on_a_clamped_billing_date_is_a_whole_period():
    # 28 Feb is the February billing date of billing day 31: the period it starts is whole
    # (the grid once put 28 Feb in January's period, and cut an empty piece).
    periods = billable_periods(
        date(2026, 2, 28), as_of=date(2026, 4, 1), frequency=MONTHLY, billing_day=31
    )
    assert _summary(periods) == [
        (date(2026, 2, 28), date(2026, 3, 31), 1),
        (date(2026, 3, 31), date(2026, 4, 30), 1),
    ]
    leap = billable_periods(
        date(2028, 2, 29),
        date(2028, 4, 15),
        as_of=date(2028, 5, 1),
        frequency=QUARTERLY,
        billing_day=30,
        basis=THIRTY,
    )
    assert _summary(leap) == [(date(2028, 2, 29), date(2028, 4, 15), Fraction(46, 90))]


def test_billable_periods_spanning_many_shared_blocks():
    # A daily schedule over three years crosses dozens of blocks of shared whole periods.
    periods = billable_periods(
        date(2024, 1, 1), date(2027, 1, 1), as_of=date(2030, 1, 1), frequency=Frequency.days(1)
    )
    assert len(periods) == 366 + 365 + 365
    assert periods[0].period == Period(date(2024, 1, 1), date(2024, 1, 2))
    assert periods[-1].period == Period(date(2026, 12, 31), date(2027, 1, 1))
    assert all(p.factor == 1 for p in periods)


def test_as_of_on_the_last_computed_date_is_accepted():
    # 3099-12-31 is a valid as_of: it was refused as "last=3100-01-01 must be between …",
    # naming an argument the caller never passed (the day after until, looked up as a date).
    from subbill.proration import periods_over  # noqa: PLC0415

    last = date(3099, 12, 31)
    periods = billable_periods(date(3099, 11, 15), as_of=last, frequency=MONTHLY, billing_day=1)
    assert _summary(periods) == [
        (date(3099, 11, 15), date(3099, 12, 1), Fraction(16, 30)),
        (date(3099, 12, 1), date(3100, 1, 1), 1),
    ]
    schedule = schedule_for(date(3099, 1, 1), MONTHLY)
    assert len(periods_over(date(3099, 1, 1), None, schedule=schedule, until=last)) == 12

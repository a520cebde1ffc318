"""The engine's fast paths give what the general ones give (issue 13, engine: discounts)."""

from datetime import date, timedelta

import attrs
from hypothesis import assume, given
from hypothesis import strategies as st

from subbill import MONTHLY, QUARTERLY, Discount, Duration, Frequency, Money, RecurringCharge
from subbill.billing import (
    BillingState,
    _applies,
    _Member,
    _window,
    _within,
    bill_subscription,
)
from subbill.discounts import DiscountKind
from subbill.periods import Period
from subbill.proration import ProrationBasis
from subbill.taxes import tax_breakdown
from tests.builders import one_charge_plan
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions

_durations = st.one_of(
    st.just(Duration.once()),
    st.just(Duration.forever()),
    st.integers(min_value=1, max_value=14).map(Duration.periods),
    st.integers(min_value=1, max_value=14).map(Duration.months),
)
_days = st.integers(min_value=-400, max_value=400).map(lambda n: timedelta(days=n))


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    st.sampled_from([MONTHLY, QUARTERLY, Frequency.weeks(1), Frequency.days(10)]),
    st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
    _durations,
    st.one_of(st.none(), _days),
    st.one_of(st.none(), _days),
    st.integers(min_value=-3, max_value=30),
)
def test_a_discounts_periods_on_a_charge_are_those_its_duration_covers(
    start, frequency, billing_day, duration, starts, ends, offset
):
    if not frequency.is_month_based:
        billing_day = None
    price = Money("10.00", "EUR")
    charge = RecurringCharge(
        code="p",
        description="P",
        unit_price=price,
        start=start,
        frequency=frequency,
        billing_day=billing_day,
    )
    starts_on = None if starts is None else start + starts
    ends_on = None if ends is None else (starts_on or start) + abs(ends)
    discount = Discount.percent_off(
        "D", "10", duration=duration, starts_on=starts_on, ends_on=ends_on
    )
    schedule = charge.schedule
    index = schedule.index_of(start) + offset
    cycle = Period(start=schedule.nth(index), end=schedule.nth(index + 1))
    member = _Member(charge, cycle, cycle, None, index, 0)
    window = _window(discount, charge, schedule.index_of)
    assert _within(window, index, cycle.start) == _applies(discount, member, schedule.index_of)


def _lines_of(subscription, state, as_of, *, blocks):
    """The lines (and what fixed amounts left unused) of one call, blocks or not."""
    from subbill.billing import _Run  # noqa: PLC0415

    run = _Run(subscription, state)
    changed, spans, _ = run.changes(as_of, blocks=blocks)
    lines = run.lines(changed, spans)
    shown = [
        (repr(line), repr((line.net, line.base, line.taxes, line.tax, line.total)))
        for line in lines
    ]
    return shown, run.unused


@given(billing_subscriptions(), as_of_dates, st.integers(0, 400))
def test_whole_periods_in_blocks_are_billed_as_one_member_each(subscription, d1, gap):
    # changes(blocks=True) gives a charge's whole periods billed once as one _Wholes
    # (issue 13, engine third pass): the lines must be those of one _Member per period.
    assume(not any(d.kind is DiscountKind.FIXED_AMOUNT for d in subscription.discounts))
    state = BillingState()
    for as_of in (d1, d1 + timedelta(days=gap)):
        assert _lines_of(subscription, state, as_of, blocks=True) == _lines_of(
            subscription, state, as_of, blocks=False
        )
        state = bill_subscription(subscription, state, as_of=as_of).state


@given(billing_subscriptions(), as_of_dates, st.integers(0, 400))
def test_an_engine_invoices_tax_breakdown_is_that_of_its_lines(subscription, d1, gap):
    # bill_subscription sums the breakdown of one rate itself (issue 13, engine third pass):
    # the rows, digits included, are what tax_breakdown gives the invoice's lines.
    state = BillingState()
    for as_of in (d1, d1 + timedelta(days=gap)):
        result = bill_subscription(subscription, state, as_of=as_of)
        if result.invoice is not None:
            invoice = result.invoice
            expected = tax_breakdown(invoice.lines, currency=invoice.currency)
            assert repr(invoice.taxes) == repr(expected)
        state = result.state


def _with_basis(subscription, basis):
    charges = [
        attrs.evolve(charge, basis=basis)
        if charge.frequency.is_month_based or basis is not ProrationBasis.THIRTY_DAY_MONTH
        else charge
        for charge in subscription.charges
    ]
    return attrs.evolve(subscription, charges=charges)


@given(billing_subscriptions(), as_of_dates, st.integers(0, 400), st.sampled_from(ProrationBasis))
def test_whole_periods_in_blocks_are_billed_as_one_member_each_whatever_the_basis(
    subscription, d1, gap, basis
):
    # The review of the engine's third pass: 30/360 whole periods went into blocks, whose
    # lines told actual days (31/31) where one member per period tells 30/30.
    assume(not any(d.kind is DiscountKind.FIXED_AMOUNT for d in subscription.discounts))
    subscription = _with_basis(subscription, basis)
    state = BillingState()
    for as_of in (d1, d1 + timedelta(days=gap)):
        assert _lines_of(subscription, state, as_of, blocks=True) == _lines_of(
            subscription, state, as_of, blocks=False
        )
        state = bill_subscription(subscription, state, as_of=as_of).state


def test_a_thirty_day_month_charges_whole_months_tell_thirty_days():
    plan = one_charge_plan(
        "30.00", start=date(2025, 1, 1), frequency=MONTHLY, basis=ProrationBasis.THIRTY_DAY_MONTH
    )
    invoice = bill_subscription(plan, BillingState(), as_of=date(2025, 3, 15)).invoice
    told = [
        (line.amount, line.explanation.days, line.explanation.period_days) for line in invoice.lines
    ]
    assert told == [(Money("30.00", "EUR"), 30, 30)] * 3

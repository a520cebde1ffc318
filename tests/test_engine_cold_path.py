"""The engine's cold path (issue 13): a stored subscription to its bill, every object new.

A subscription of one plan span and nothing else builds its ``ChargePlan`` in one pass
(``Subscription._plain_charge_plan``); every other one through ``_charge_plan``, each part
by its own method. The charges of a subscription share one schedule of their own
(``BillingSchedule._on_cycle``), never one shared with another subscription; the engine reads
a checked day's billing period without a memo (``BillingSchedule._index_of``). Each fast path
is proven equal to the path it stands for, error for error, digits included.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import BillingState, ChargePlan, bill_subscription
from subbill.catalog import Catalog, Plan
from subbill.charges import RecurringCharge, _charge_digest
from subbill.discounts import Discount, Duration, terms_digest
from subbill.errors import InvalidArgumentError, InvalidStateError, SubbillError
from subbill.money import Money
from subbill.periods import (
    MONTHLY,
    BillingSchedule,
    Frequency,
    check_billing_date,
    schedule_for,
)
from subbill.subscriptions import Span, Subscription
from subbill.taxes import TaxRate
from tests.strategies import billing_days, dates, frequencies
from tests.test_charge_plan_unchecked import assert_same_fields, checked_plan, outcome
from tests.test_subscriptions import CATALOG, histories

PLANS = Catalog(
    currency="EUR",
    plans=[
        Plan(
            code="pro",
            name="Pro",
            rank=1,
            prices={MONTHLY: Money("29.90", "EUR"), Frequency.months(3): Money("0", "EUR")},
        ),
        Plan(code="free", name="Free", rank=0),
    ],
)
VAT = TaxRate(name="TVA", percent="20")
GST_INCLUDED = TaxRate(name="GST", percent="10", inclusive=True)
START = date(2026, 3, 1)
WELCOME = Discount.percent_off("WELCOME", 10, duration=Duration.periods(2))

prices = st.one_of(
    st.none(),  # the catalog's (none for some frequencies, zero for one)
    st.sampled_from(
        [
            Money("50.00", "EUR"),
            Money("0", "EUR"),
            Money("0.005", "EUR"),
            Money("1234.5678", "EUR"),
            Money("999999999999.99", "EUR"),  # × a big quantity: beyond the bound
            Money._make(Decimal(1) / Decimal(3), "EUR"),  # more places than an amount holds
            Money("10", "USD"),  # another currency than the subscription's
        ]
    ),
)


@st.composite
def plain_subscriptions(draw):
    """A subscription of one plan span and nothing else, over what its fields allow."""
    start = draw(st.dates(min_value=date(1899, 12, 1), max_value=date(3000, 1, 31)))
    frequency = draw(frequencies)
    billing_day = draw(billing_days) if frequency.is_month_based else None
    price = draw(prices)
    span = Span(
        code=draw(st.sampled_from(["pro", "pro", "pro", "free", "gone"])),
        start=start,
        end=draw(st.none() | st.integers(1, 400).map(lambda n: start + timedelta(days=n))),
        billed_from=draw(st.none() | st.integers(0, 40).map(lambda n: start + timedelta(days=n))),
        reason=draw(st.sampled_from([None, "plan_change"])),
        price=None,
        quantity=draw(st.sampled_from([None, Decimal(3), Decimal("2.5"), Decimal(10**6)])),
    )
    if span.end is not None and span.billed_from is not None and span.billed_from > span.end:
        span = attrs.evolve(span, billed_from=span.end)
    # The price written past the span's checks, which now refuse one with more places than
    # an amount holds: both paths must still refuse it alike in a span left unchecked.
    object.__setattr__(span, "price", price)
    fields = {
        "id": "S1",
        "customer": "C1",
        "currency": draw(st.sampled_from(["EUR", "EUR", "USD"])),
        "start": start,
        "frequency": frequency,
        "billing_day": billing_day,
        "plans": [span],
        "quantity": draw(st.sampled_from([Decimal(1), Decimal(4), Decimal("0.5")])),
        "tax_rates": draw(st.sampled_from([(), (VAT,), (VAT, GST_INCLUDED)])),
        "discounts": draw(st.sampled_from([(), (WELCOME,)])),
    }
    if draw(st.booleans()):
        fields["end"] = start + timedelta(days=draw(st.integers(1, 500)))
    if draw(st.booleans()):
        # A cancellation has both its days (made on a day, before the start for a scheduled
        # subscription; effective on another, from the start on).
        fields["cancel_at"] = start + timedelta(days=draw(st.integers(0, 500)))
        fields["cancelled_on"] = fields["cancel_at"] - timedelta(days=draw(st.integers(0, 60)))
    try:
        return Subscription(**fields)
    except SubbillError:
        # A subscription refused as built (a start beyond the billing dates is not): the
        # same fields with the price left to the catalog, which the subscription accepts.
        fields["plans"] = [attrs.evolve(span, price=None)]
        fields["currency"] = "EUR"
        return Subscription(**fields)


def assert_same_schedules(got, want):
    assert_same_fields(got, want)
    assert (got.day, got._month_index) == (want.day, want._month_index)


def assert_same_plans(got, want):
    if isinstance(want, tuple):  # refused: alike, with the same error
        assert got == want
        return
    assert_same_fields(got, want)
    for mine, theirs in zip(got.charges, want.charges, strict=True):
        assert_same_fields(mine, theirs)
        # The values the engine reads, set as the charge is built: the same, digits included.
        for name in ("period_price", "whole_price"):
            assert str(getattr(mine, name).amount) == str(getattr(theirs, name).amount), name
        assert mine.terms_digest == theirs.terms_digest
        assert mine.key == theirs.key
        assert_same_schedules(mine.schedule, theirs.schedule)


@given(plain_subscriptions())
def test_a_plain_subscriptions_plan_built_in_one_pass_is_the_general_one(sub):
    with patch.object(Subscription, "_charge_plan", side_effect=AssertionError("general")):
        fast = outcome(lambda: sub.to_charge_plan(PLANS))
    assert_same_plans(fast, outcome(lambda: sub._charge_plan(PLANS)))


@given(plain_subscriptions())
def test_a_plain_subscriptions_plan_is_the_one_the_checked_constructors_build(sub):
    # As tests/test_charge_plan_unchecked.py proves of the general path: the plan of the
    # fast path equals the checked constructors' (its cached values computed on first read).
    fast = outcome(lambda: sub.to_charge_plan(PLANS))
    assert_same_plans(fast, outcome(lambda: checked_plan(sub, PLANS)))


@given(histories())
def test_any_subscriptions_plan_is_the_general_one(sub):
    # Histories of plan changes, modules and add-ons: most take the general path, those
    # still on one plan span the fast one; the same plan either way.
    assert_same_plans(outcome(lambda: sub.to_charge_plan(CATALOG)), sub._charge_plan(CATALOG))


def bill(plan, state, as_of):
    return outcome(lambda: bill_subscription(plan, state, as_of=as_of))


@given(plain_subscriptions(), st.integers(0, 120), st.integers(1, 200))
def test_a_plain_subscription_bills_as_its_general_plan_bills(sub, first, then):
    # Two runs (the first invoice, prorated or not, then the renewal), from a fresh plan each
    # time as a bill run over a store builds it: the same invoices and states.
    if isinstance(outcome(lambda: sub.to_charge_plan(PLANS)), tuple):
        return
    general = sub._charge_plan(PLANS)
    state_fast = state_general = None
    as_of = sub.start + timedelta(days=first)
    for _ in range(2):
        if as_of > date(2999, 12, 31):
            return
        got = bill(sub.to_charge_plan(PLANS), state_fast, as_of)
        want = bill(general, state_general, as_of)
        assert got == want
        if isinstance(want, tuple):
            return
        assert repr(got.invoice) == repr(want.invoice)  # digits and explanations included
        state_fast, state_general = got.state, want.state
        as_of += timedelta(days=then)


@given(dates, frequencies, billing_days)
def test_the_charges_schedule_is_the_one_schedule_for_anchors_on_the_cycle(start, frequency, day):
    billing_day = day if frequency.is_month_based else None
    cycle = schedule_for(start, frequency, billing_day=billing_day)
    want = schedule_for(start, frequency, billing_day=cycle.day, anchor=cycle.anchor)
    got = BillingSchedule._on_cycle(start, frequency, billing_day)
    assert_same_schedules(got, want)
    assert got is not want  # its own: nothing is shared between subscriptions
    assert [got.nth(n) for n in range(-2, 3)] == [want.nth(n) for n in range(-2, 3)]


@given(
    dates,
    frequencies,
    billing_days,
    st.dates(min_value=date(1800, 1, 1), max_value=date(3099, 12, 31)),
)
def test_the_engines_index_of_a_checked_day_is_its_index(start, frequency, day, asked):
    billing_day = day if frequency.is_month_based else None
    schedule = BillingSchedule._on_cycle(start, frequency, billing_day)
    want = schedule_for(start, frequency, billing_day=billing_day).index_of(asked)
    assert schedule._index_of(asked) == want
    assert schedule._index_of(asked) == want  # remembered: the same
    assert schedule.nth(want) <= asked < schedule.nth(want + 1)


@pytest.mark.parametrize(
    "as_of",
    [
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        None,
        "2026-03-01",
        date(1899, 12, 31),
        date(3000, 1, 1),
        date(1900, 1, 1),
        date(2999, 12, 31),
    ],
)
def test_bill_subscription_checks_as_of_as_check_billing_date_does(as_of):
    plan = ChargePlan(id="S1", customer="C1", currency="EUR")
    checked = outcome(lambda: check_billing_date("as_of", as_of))
    billed = outcome(lambda: bill_subscription(plan, as_of=as_of))
    if isinstance(checked, tuple):
        assert billed == checked
    else:
        assert billed.invoice is None


@pytest.mark.parametrize(("billed", "refused"), [(date(2026, 4, 1), True), (START, False)])
def test_billed_periods_at_other_terms_are_refused_and_only_they(billed, refused):
    # _check_terms looks the billed-through date up only for a digest that differs.
    charge = RecurringCharge(
        code="pro", description="Pro", unit_price=Money("10", "EUR"), start=START
    )
    before = bill_subscription(
        ChargePlan(id="S1", customer="C1", currency="EUR", charges=[charge]), as_of=START
    ).state
    state = attrs.evolve(before, billed_through={charge.key: billed})
    dearer = attrs.evolve(charge, unit_price=Money("12", "EUR"))
    plan = ChargePlan(id="S1", customer="C1", currency="EUR", charges=[dearer])
    got = outcome(lambda: bill_subscription(plan, state, as_of=date(2026, 4, 1)))
    if refused:
        assert got == (
            InvalidStateError,
            (
                "charge 'pro@2026-03-01' of subscription 'S1' was billed through 2026-04-01 at "
                "other terms (price, quantity, calendar, discounts or taxes); billed periods "
                "keep their terms: a new price or quantity is a new charge from a date "
                "(RecurringCharge.change(on=…))"
            ),
        )
    else:
        assert got.invoice.total == Money("24", "EUR")  # March and April at the new price


texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=20)


@given(
    st.tuples(
        texts,
        st.sampled_from(["EUR", "JPY"]),
        texts,
        dates,
        st.sampled_from(["P1M", "P3M", "P1Y", "P10D"]),
        st.none() | st.integers(1, 31),
        texts,
        texts,
        texts,
        texts,
    )
)
def test_a_charges_digest_is_the_terms_digest_of_its_parts(parts):
    assert _charge_digest(*parts) == terms_digest(*parts)


def test_the_silver_subscription_takes_the_plain_path_and_its_schedule_is_its_own():
    catalog = Catalog(
        currency="EUR",
        plans=[Plan(code="pro", name="Pro", rank=1, prices={MONTHLY: Money("50.00", "EUR")})],
    )
    first, second = (
        Subscription.create(
            id=f"S{n}",
            customer="C",
            catalog=catalog,
            plan="pro",
            start=date(2025, 1, 15),
            billing_day=1,
        )
        for n in (1, 2)
    )
    with patch.object(Subscription, "_charge_plan", side_effect=AssertionError("general")):
        one, two = first.to_charge_plan(catalog), second.to_charge_plan(catalog)
    assert one.charges[0].schedule == two.charges[0].schedule
    assert one.charges[0].schedule is not two.charges[0].schedule  # not shared
    invoice = bill_subscription(one, as_of=date(2025, 1, 15)).invoice
    assert invoice is not None
    assert invoice.total == Money("27.42", "EUR")
    state = BillingState(billed_through={"pro@2025-01-15": date(2025, 2, 1)})
    renewal = bill_subscription(one, state, as_of=date(2025, 2, 1))
    assert renewal.invoice is not None
    assert renewal.invoice.total == Money("50.00", "EUR")


def test_a_plan_of_one_charge_in_another_currency_is_refused_naming_it():
    charge = RecurringCharge(
        code="pro", description="Pro", unit_price=Money("10", "USD"), start=date(2026, 1, 1)
    )
    with pytest.raises(InvalidArgumentError) as error:
        ChargePlan(id="S1", customer="C1", currency="EUR", charges=[charge])
    assert str(error.value) == "charge 'pro' is in USD; subscription 'S1' bills in currency=EUR"

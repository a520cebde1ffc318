"""Money is conserved: a credit mirrors exactly what was charged, and runs can be split freely.

The worked examples of issue 10 with their numbers, then the properties that would have
caught them: for every proration basis, discount kind, scope and duration,

- a credit never exceeds what was charged for its period;
- charged − credited = what billing with the end already known charges;
- billing up to D1 then up to D2 gives what billing up to D2 at once gives.
"""

from datetime import date, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill.billing import BillingState, ChargePlan, bill_subscription
from subbill.charges import OneTimeCharge, RecurringCharge
from subbill.discounts import Discount, Duration
from subbill.errors import InvalidStateError
from subbill.invoices import LineKind
from subbill.money import Money
from subbill.periods import ANNUAL, MONTHLY, QUARTERLY
from subbill.proration import BillingTiming, ProrationBasis
from tests.builders import VAT, eur


def charge(price="10.00", *, start=date(2026, 3, 1), end=None, code="plan", **fields):
    return RecurringCharge(
        code=code, description=code.title(), unit_price=eur(price), start=start, end=end, **fields
    )


def sub(*charges, discounts=(), one_time=()):
    return ChargePlan(
        id="S1",
        customer="ACME",
        currency="EUR",
        charges=charges,
        discounts=discounts,
        one_time=one_time,
    )


def net_of(result, key=None):
    if result.invoice is None:
        return eur("0")
    return Money.total(
        (line.net for line in result.invoice.lines if key is None or line.charge_key == key),
        currency="EUR",
    )


# -- the worked examples ----------------------------------------------------------------------


def _ended_on_3_march(subscription_of):
    first = bill_subscription(subscription_of(None), as_of=date(2026, 3, 1))
    second = bill_subscription(
        subscription_of(date(2026, 3, 3)), first.state, as_of=date(2026, 3, 3)
    )
    known = bill_subscription(subscription_of(date(2026, 3, 3)), as_of=date(2026, 3, 1))
    return first, second, known


def test_fixed_discount_credit_gives_back_only_what_was_paid():
    eight = Discount.amount_off("EIGHT", eur("8.00"))
    first, second, known = _ended_on_3_march(lambda end: sub(charge(end=end, discounts=(eight,))))
    assert first.invoice.total == eur("2.00")
    assert second.invoice.total == eur("-1.87")  # not −9.35: nothing is invented
    (credit,) = second.invoice.lines
    assert credit.kind is LineKind.PRORATION_CREDIT
    assert (credit.amount, credit.discount) == (eur("-9.35"), eur("-7.48"))
    # 2/31 × 10.00 − 2/31 × 8.00 = 0.65 − 0.52: what billing with the end known charges.
    assert known.invoice.total == eur("0.13")
    assert first.invoice.total + second.invoice.total == eur("0.13")


def test_once_fixed_discount_credit_gives_back_only_what_was_paid():
    once = Discount.amount_off("EIGHT", eur("8.00"), duration=Duration.once())
    first, second, _ = _ended_on_3_march(lambda end: sub(charge(end=end, discounts=(once,))))
    assert (first.invoice.total, second.invoice.total) == (eur("2.00"), eur("-1.87"))


def test_invoice_fixed_discount_credit_is_the_same_as_on_the_charge():
    eight = Discount.amount_off("EIGHT", eur("8.00"))
    first, second, known = _ended_on_3_march(lambda end: sub(charge(end=end), discounts=(eight,)))
    assert (first.invoice.total, second.invoice.total) == (eur("2.00"), eur("-1.87"))
    assert known.invoice.total == eur("0.13")


def test_invoice_fixed_discount_is_per_billing_period_on_a_catch_up_invoice():
    eight = Discount.amount_off("EIGHT", eur("8.00"))
    subscription = sub(charge(), discounts=(eight,))
    at_once = bill_subscription(subscription, as_of=date(2026, 4, 1))
    march = bill_subscription(subscription, as_of=date(2026, 3, 1))
    april = bill_subscription(subscription, march.state, as_of=date(2026, 4, 1))
    assert at_once.invoice.total == eur("4.00")  # 2.00 + 2.00, not 12.00
    assert march.invoice.total + april.invoice.total == eur("4.00")


def test_invoice_percentage_does_not_depend_on_how_runs_are_split():
    ten = Discount.percent_off("TEN", "10")
    subscription = sub(charge("0.03"), discounts=(ten,))
    at_once = bill_subscription(subscription, as_of=date(2026, 4, 1))
    march = bill_subscription(subscription, as_of=date(2026, 3, 1))
    april = bill_subscription(subscription, march.state, as_of=date(2026, 4, 1))
    assert at_once.invoice.discount_total == eur("0.00")
    assert march.invoice.discount_total + april.invoice.discount_total == eur("0.00")
    assert at_once.invoice.total == march.invoice.total + april.invoice.total == eur("0.06")


def test_no_proration_never_refunds_a_used_month():
    billed = bill_subscription(
        sub(charge("3000", start=date(2026, 1, 1), basis=ProrationBasis.NONE)),
        as_of=date(2026, 1, 1),
    )
    assert billed.invoice.total == eur("3000.00")
    ended = sub(
        charge("3000", start=date(2026, 1, 1), end=date(2026, 1, 31), basis=ProrationBasis.NONE)
    )
    after = bill_subscription(ended, billed.state, as_of=date(2026, 1, 31))
    assert after.invoice is None  # credit 0, not −3,000
    assert bill_subscription(ended, as_of=date(2026, 1, 1)).invoice.total == eur("3000.00")


def test_no_proration_credits_everything_for_an_end_at_the_period_start():
    none = ProrationBasis.NONE
    billed = bill_subscription(
        sub(charge("3000", start=date(2026, 1, 1), basis=none)), as_of=date(2026, 2, 1)
    )
    assert billed.invoice.total == eur("6000.00")
    ended = sub(charge("3000", start=date(2026, 1, 1), end=date(2026, 2, 1), basis=none))
    after = bill_subscription(ended, billed.state, as_of=date(2026, 2, 1))
    assert after.invoice.total == eur("-3000.00")  # February, not started, all given back


def test_no_proration_start_inside_a_period_charges_it_whole():
    result = bill_subscription(
        sub(charge("3000", start=date(2026, 1, 20), billing_day=1, basis=ProrationBasis.NONE)),
        as_of=date(2026, 1, 20),
    )
    assert result.invoice.total == eur("3000.00")


def test_no_proration_plan_change_charges_the_new_plan_whole_and_credits_nothing():
    old = charge("3000", start=date(2026, 1, 1), basis=ProrationBasis.NONE)
    first = bill_subscription(sub(old), as_of=date(2026, 1, 1))
    before, after = old.change(on=date(2026, 1, 16), unit_price=eur("5000"), code="pro")
    second = bill_subscription(sub(before, after), first.state, as_of=date(2026, 1, 16))
    assert [(line.code, line.amount) for line in second.invoice.lines] == [("pro", eur("5000.00"))]


def test_thirty_360_split_keeps_what_billing_with_the_end_known_charges():
    basis = ProrationBasis.THIRTY_DAY_MONTH
    first = bill_subscription(
        sub(charge("3000", start=date(2026, 1, 29), basis=basis)), as_of=date(2026, 1, 29)
    )
    assert first.invoice.total == eur("3000.00")
    ended = sub(charge("3000", start=date(2026, 1, 29), end=date(2026, 1, 30), basis=basis))
    second = bill_subscription(ended, first.state, as_of=date(2026, 1, 30))
    known = bill_subscription(ended, as_of=date(2026, 1, 29))
    assert known.invoice.total == eur("100.00")
    assert first.invoice.total + second.invoice.total == eur("100.00")  # not 200
    (credit,) = second.invoice.lines
    used = known.invoice.lines[0].explanation
    # The day counts of the two pieces add up to the 30 days of the period.
    assert credit.explanation.days + used.days == credit.explanation.period_days == 30


def test_a_state_with_a_dropped_charge_is_refused():
    first = bill_subscription(sub(charge()), as_of=date(2026, 3, 1))
    with pytest.raises(InvalidStateError, match="plan@2026-03-01"):
        bill_subscription(sub(charge(code="other")), first.state, as_of=date(2026, 3, 15))


# -- the properties ------------------------------------------------------------------------------

BASES = st.sampled_from(list(ProrationBasis))
TIMINGS = st.sampled_from(list(BillingTiming))
DURATIONS = st.sampled_from(
    [Duration.once(), Duration.periods(2), Duration.months(2), Duration.forever()]
)


@st.composite
def discounts(draw):
    kind = draw(st.sampled_from(["percent", "amount", "unit_percent", "unit_amount"]))
    duration = draw(DURATIONS)
    if kind in ("percent", "unit_percent"):
        percent = draw(st.integers(1, 100))
        make = Discount.percent_off if kind == "percent" else Discount.per_unit_percent_off
        return make("D", percent, duration=duration)
    amount = eur(draw(st.decimals(min_value="0.01", max_value="80", places=2)))
    make = Discount.amount_off if kind == "amount" else Discount.per_unit_amount_off
    return make("D", amount, duration=duration)


@st.composite
def scenarios(draw):
    frequency = draw(st.sampled_from([MONTHLY, QUARTERLY]))
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 90)))
    price = draw(st.decimals(min_value="0", max_value="500", places=2))
    quantity = draw(st.integers(1, 5))
    discount = draw(discounts())
    on_invoice = draw(st.booleans())
    basis = draw(BASES)
    timing = draw(TIMINGS)
    billing_day = draw(st.one_of(st.none(), st.integers(1, 31)))
    taxed = draw(st.booleans())
    return {
        "taxed": taxed,
        "frequency": frequency,
        "start": start,
        "price": price,
        "quantity": quantity,
        "discount": discount,
        "on_invoice": on_invoice,
        "basis": basis,
        "timing": timing,
        "billing_day": billing_day,
    }


def _subscription(scenario, end=None):
    discount = scenario["discount"]
    item = RecurringCharge(
        code="plan",
        description="Plan",
        unit_price=eur(scenario["price"]),
        quantity=scenario["quantity"],
        frequency=scenario["frequency"],
        billing_day=scenario["billing_day"],
        basis=scenario["basis"],
        timing=scenario["timing"],
        start=scenario["start"],
        end=end,
        discounts=() if scenario["on_invoice"] else (discount,),
        tax_rates=(VAT,) if scenario["taxed"] else (),
    )
    return sub(item, discounts=(discount,) if scenario["on_invoice"] else ())


def _nonzero(nets):
    return {key: value for key, value in nets.items() if not value.is_zero()}


def _period_nets(results, *, with_tax=False):
    """What was charged for each billing period, over every invoice, by cycle start.

    ``with_tax``: the totals with tax (rounded per line) instead of the nets.
    """
    nets = {}
    for result in results:
        if result.invoice is None:
            continue
        for line in result.invoice.lines:
            cycle = line.explanation.cycle
            amount = line.total if with_tax else line.net
            nets[cycle.start] = nets.get(cycle.start, eur("0")) + amount
    return nets


@settings(max_examples=500)
@given(scenarios(), st.integers(0, 200), st.integers(1, 400))
def test_credit_never_exceeds_charge(scenario, billed_days, end_days):
    start = scenario["start"]
    as_of = start + timedelta(days=billed_days)
    first = bill_subscription(_subscription(scenario), as_of=as_of)
    end = start + timedelta(days=end_days)
    second = bill_subscription(_subscription(scenario, end), first.state, as_of=as_of)
    charged = _period_nets([first])
    for cycle_start, credited in _period_nets([second]).items():
        if credited.is_negative():
            assert -credited <= charged.get(cycle_start, eur("0"))


@settings(max_examples=500)
@given(scenarios(), st.integers(0, 200), st.integers(1, 400))
def test_charge_minus_credit_equals_billing_with_the_end_known(scenario, billed_days, end_days):
    start = scenario["start"]
    as_of = start + timedelta(days=billed_days)
    end = start + timedelta(days=end_days)
    first = bill_subscription(_subscription(scenario), as_of=as_of)
    second = bill_subscription(_subscription(scenario, end), first.state, as_of=as_of)
    known = bill_subscription(_subscription(scenario, end), as_of=as_of)
    for with_tax in (False, True):
        together = _period_nets([first, second], with_tax=with_tax)
        expected = _period_nets([known], with_tax=with_tax)
        for cycle_start in set(together) | set(expected):
            assert together.get(cycle_start, eur("0")) == expected.get(cycle_start, eur("0"))


@settings(max_examples=500)
@given(scenarios(), st.integers(0, 200), st.integers(0, 200), st.none() | st.integers(1, 400))
def test_billing_to_d1_then_d2_equals_billing_to_d2(scenario, d1, extra, end_days):
    start = scenario["start"]
    end = None if end_days is None else start + timedelta(days=end_days)
    subscription = _subscription(scenario, end)
    first_day = start + timedelta(days=d1)
    second_day = first_day + timedelta(days=extra)
    first = bill_subscription(subscription, as_of=first_day)
    second = bill_subscription(subscription, first.state, as_of=second_day)
    at_once = bill_subscription(subscription, as_of=second_day)
    for with_tax in (False, True):
        split = _period_nets([first, second], with_tax=with_tax)
        assert _nonzero(split) == _nonzero(_period_nets([at_once], with_tax=with_tax))
    assert second.state.billed_through == at_once.state.billed_through


def test_one_time_lines_share_the_fixed_amount_of_their_period():
    eight = Discount.amount_off("EIGHT", eur("8.00"), duration=Duration.once())
    fee = OneTimeCharge(
        code="setup", description="Setup", unit_price=eur("5.00"), due_on=date(2026, 3, 1)
    )
    result = bill_subscription(
        sub(charge(), discounts=(eight,), one_time=(fee,)), as_of=date(2026, 3, 1)
    )
    # 8.00 once for the first billing period, spread over its two lines (10.00 and 5.00).
    assert result.invoice.discount_total == eur("8.00")
    assert result.invoice.total == eur("7.00")
    assert BillingState() != result.state


def test_a_fixed_amount_reports_what_it_could_not_use():
    fifty = Discount.amount_off("FIFTY", eur("50.00"))
    result = bill_subscription(sub(charge("30.00"), discounts=(fifty,)), as_of=date(2026, 3, 1))
    (applied,) = result.invoice.discounts
    assert (applied.amount, applied.unused) == (eur("30.00"), eur("20.00"))
    assert result.invoice.total == eur("0.00")


def test_a_period_priced_again_to_the_same_amount_bills_nothing():
    # Under NONE a mid-period end changes nothing: no line, not even a discount of zero.
    ten = Discount.percent_off("TEN", "10")
    none = ProrationBasis.NONE
    first = bill_subscription(sub(charge(basis=none, discounts=(ten,))), as_of=date(2026, 3, 1))
    ended = sub(charge(basis=none, end=date(2026, 3, 10), discounts=(ten,)))
    assert bill_subscription(ended, first.state, as_of=date(2026, 3, 10)).invoice is None


def test_a_change_that_changes_nothing_under_30_360_costs_nothing():
    # The review's case: a no-op change on 2 March used to give −2,600 + 2,800 = +200.
    item = charge(
        "3000", start=date(2026, 1, 31), billing_day=31, basis=ProrationBasis.THIRTY_DAY_MONTH
    )
    first = bill_subscription(sub(item), as_of=date(2026, 2, 28))
    for day in (date(2026, 3, 2), date(2026, 3, 30)):
        old, new = item.change(on=day, quantity=1)
        second = bill_subscription(sub(old, new), first.state, as_of=day)
        assert second.invoice is None or second.invoice.total == eur("0.00")


# -- billed periods keep their terms in the pure engine too (review of issue 10) -----------------


def test_removing_an_invoice_discount_after_billing_is_refused_not_over_credited():
    half = Discount.percent_off("HALF", "50")
    first = bill_subscription(sub(charge("29.00"), discounts=(half,)), as_of=date(2026, 3, 1))
    assert first.invoice.total == eur("14.50")
    with pytest.raises(InvalidStateError, match="HALF"):
        bill_subscription(
            sub(charge("29.00", end=date(2026, 3, 2))), first.state, as_of=date(2026, 3, 2)
        )
    # Kept, the cancellation credits what was paid for the unused days: 14.50 − 0.47.
    kept = bill_subscription(
        sub(charge("29.00", end=date(2026, 3, 2)), discounts=(half,)),
        first.state,
        as_of=date(2026, 3, 2),
    )
    assert kept.invoice.total == eur("-14.03")


def test_a_new_price_under_a_billed_charge_is_refused():
    first = bill_subscription(sub(charge("10.00")), as_of=date(2026, 3, 1))
    with pytest.raises(InvalidStateError, match=r"RecurringCharge\.change"):
        bill_subscription(sub(charge("12.00")), first.state, as_of=date(2026, 4, 1))
    old, new = charge("10.00").change(on=date(2026, 4, 1), unit_price=eur("12.00"))
    april = bill_subscription(sub(old, new), first.state, as_of=date(2026, 4, 1))
    assert april.invoice.total == eur("12.00")


def test_a_discount_added_later_must_start_after_what_was_billed():
    first = bill_subscription(sub(charge("10.00")), as_of=date(2026, 3, 1))
    ten = Discount.percent_off("TEN", "10")
    with pytest.raises(InvalidStateError, match="would reduce periods billed through"):
        bill_subscription(
            sub(charge("10.00"), discounts=(ten,)), first.state, as_of=date(2026, 4, 1)
        )
    # The review's case: a discount starting inside a period billed in part (the charge
    # ended on 20 March) reaches that whole period: refused too.
    short = bill_subscription(sub(charge("31.00", end=date(2026, 3, 20))), as_of=date(2026, 3, 1))
    inside = Discount.percent_off("NEW", "50", starts_on=date(2026, 3, 20))
    with pytest.raises(InvalidStateError):
        bill_subscription(
            sub(charge("31.00", end=date(2026, 3, 1)), discounts=(inside,)),
            short.state,
            as_of=date(2026, 3, 21),
        )
    later = Discount.percent_off("TEN", "10", starts_on=date(2026, 4, 1))
    april = bill_subscription(
        sub(charge("10.00"), discounts=(later,)), first.state, as_of=date(2026, 4, 1)
    )
    assert april.invoice.total == eur("9.00")


def test_a_state_stored_without_terms_is_trusted_and_its_terms_recorded():
    first = bill_subscription(sub(charge("10.00")), as_of=date(2026, 3, 1))
    legacy = attrs.evolve(first.state, terms=())
    april = bill_subscription(sub(charge("10.00")), legacy, as_of=date(2026, 4, 1))
    assert april.invoice.total == eur("10.00")
    assert dict(april.state.terms).keys() == {"plan@2026-03-01"}


@pytest.mark.parametrize(
    "others",
    [
        [("annual", "120.00", ANNUAL, date(2026, 1, 1))],
        [
            ("quarterly", "90.00", QUARTERLY, date(2026, 1, 1)),
            ("annual", "120.00", ANNUAL, date(2026, 1, 1)),
        ],
        [("second", "40.00", MONTHLY, date(2026, 1, 15))],
    ],
    ids=["monthly-and-annual", "three-frequencies", "two-billing-days"],
)
def test_an_invoice_fixed_amount_once_is_taken_once_whatever_the_frequencies(others):
    # The review's case: 30.00 off once on monthly 50 + annual 120 took 60.00 off.
    welcome = Discount.amount_off("WELCOME", eur("30.00"), duration=Duration.once())
    charges = [charge("50.00", start=date(2026, 1, 1))] + [
        charge(price, start=start, code=code, frequency=frequency)
        for code, price, frequency, start in others
    ]
    result = bill_subscription(sub(*charges, discounts=(welcome,)), as_of=date(2026, 1, 20))
    assert result.invoice.discount_total == eur("30.00")
    later = bill_subscription(
        sub(*charges, discounts=(welcome,)), result.state, as_of=date(2026, 3, 1)
    )
    assert later.invoice.discount_total == eur("0.00")


def test_dropping_a_billed_one_time_charge_that_shares_a_fixed_amount_is_refused():
    # The review's case: the one-time OFF discount shared with the setup fee was taken
    # again on the plan once the setup fee was no longer listed.
    pro = charge("100.00", timing=BillingTiming.IN_ARREARS)
    setup = OneTimeCharge(
        code="setup", description="Setup", unit_price=eur("50.00"), due_on=date(2026, 3, 1)
    )
    off = Discount.amount_off("OFF", eur("30.00"), duration=Duration.once())
    first = bill_subscription(sub(pro, one_time=(setup,), discounts=(off,)), as_of=date(2026, 3, 1))
    with pytest.raises(InvalidStateError, match="keep it listed"):
        bill_subscription(sub(pro, discounts=(off,)), first.state, as_of=date(2026, 4, 1))
    kept = bill_subscription(
        sub(pro, one_time=(setup,), discounts=(off,)), first.state, as_of=date(2026, 4, 1)
    )
    assert first.invoice.discount_total + kept.invoice.discount_total == eur("30.00")


def test_the_order_of_charges_never_changes_an_invoice_fixed_amount():
    a = charge("100.00", code="a")
    b = charge("100.00", code="b", start=date(2026, 3, 15), billing_day=15)
    off = Discount.amount_off("OFF", eur("30.00"))
    ab = bill_subscription(sub(a, b, discounts=(off,)), as_of=date(2026, 6, 1))
    ba = bill_subscription(sub(b, a, discounts=(off,)), as_of=date(2026, 6, 1))
    first = bill_subscription(sub(a, b, discounts=(off,)), as_of=date(2026, 3, 15))
    split = bill_subscription(sub(b, a, discounts=(off,)), first.state, as_of=date(2026, 6, 1))
    assert ab.invoice.discount_total == ba.invoice.discount_total
    assert first.invoice.discount_total + split.invoice.discount_total == (
        ab.invoice.discount_total
    )

"""A plan of one charge billed forward in one pass gives what the general path gives.

Issue 13, the engine's fifth pass: :func:`subbill.billing.bill_subscription` bills a plan of
one recurring charge and nothing else (a plain subscription's plan), given no usage record,
through ``_bill_plain`` when the call bills forward from its state; any other call goes
through ``_bill_general``. Each property bills the same calls both ways and asks for the
same results (invoices, lines, explanations and states, digits included) or the same error.
"""

from datetime import date, timedelta
from decimal import Decimal

import attrs
from benchmarks.workloads import silver_inputs
from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import (
    BillingState,
    ChargePlan,
    NegativeBalancePolicy,
    _bill_general,
    bill_subscription,
)
from subbill.errors import SubbillError
from subbill.money import Money
from subbill.periods import schedule_for
from subbill.taxes import TaxRounding
from tests.strategies import billing_days, dates, frequencies
from tests.test_billing import as_of_dates, charges


def _outcome(bill):
    """``repr`` of a call's result (digits and explanations included), or its error."""
    try:
        result = bill()
    except SubbillError as error:
        return ("error", type(error), str(error))
    return ("result", repr(result), result)


def _both(plan, state, as_of):
    """The outcome of ``bill_subscription`` (as a bill run calls it) and the general path's."""
    fast = _outcome(lambda: bill_subscription(plan, state, as_of=as_of, usage=[]))
    general = _outcome(lambda: _bill_general(plan, state or BillingState(), as_of, ()))
    return fast, general


@st.composite
def plain_plans(draw):
    """A plan of one recurring charge (with or without its discounts), in any policy."""
    charge = draw(charges("c0"))
    if draw(st.booleans()):
        charge = attrs.evolve(charge, discounts=())
    return ChargePlan(
        id="S",
        customer="C",
        currency="EUR",
        charges=(charge,),
        payment_terms_days=draw(st.integers(0, 365)),
        tax_rounding=draw(st.sampled_from(list(TaxRounding))),
        negative_balance=draw(st.sampled_from(list(NegativeBalancePolicy))),
    )


@given(
    plain_plans(),
    as_of_dates,
    st.lists(st.integers(0, 400), max_size=3),
    st.one_of(st.none(), st.decimals(min_value=0, max_value=500, places=2)),
)
def test_a_plain_plan_bills_as_the_general_path_does(plan, d1, gaps, credit):
    # Bills on d1 and after each gap, from the state each call returns (and a credit
    # balance given before the first): every call gives the general path's result.
    state = BillingState() if credit is None else BillingState().with_credit(Money(credit, "EUR"))
    as_of = d1
    for gap in (0, *gaps):
        as_of += timedelta(days=gap)
        fast, general = _both(plan, state, as_of)
        assert fast[:2] == general[:2]
        if fast[0] == "error":
            return
        assert fast[2] == general[2]
        state = fast[2].state


@given(plain_plans(), plain_plans(), as_of_dates, st.integers(0, 400))
def test_a_plain_plan_refuses_another_plans_state_as_the_general_path_does(first, then, d1, gap):
    # A state billed by another charge (other key, price or calendar), or with other terms:
    # the same result or the same error (InvalidStateError) as the general path.
    state = bill_subscription(first, None, as_of=d1).state
    as_of = d1 + timedelta(days=gap)
    fast, general = _both(then, state, as_of)
    assert fast[:2] == general[:2]
    fast, general = _both(attrs.evolve(then, charges=(first.charges[0],)), state, as_of)
    assert fast[:2] == general[:2]


def test_a_fresh_silver_plan_bills_its_two_invoices_as_the_general_path_does():
    # The silver workload's plans, each built by Subscription.to_charge_plan: a prorated
    # first invoice (27.42) on 15 Jan 2025, then 50.00 on 1 Feb 2025.
    fresh, general = silver_inputs(2), silver_inputs(2)
    for plan, other in zip(fresh, general, strict=True):
        state = None
        for as_of in (date(2025, 1, 15), date(2025, 2, 1), date(2025, 2, 1)):
            result = bill_subscription(plan, state, as_of=as_of, usage=[])
            expected = _bill_general(other, state or BillingState(), as_of, ())
            assert repr(result) == repr(expected)
            assert result == expected
            state = result.state
    assert state.billed_through == (("monthly-50@2025-01-15", date(2025, 3, 1)),)
    assert expected.invoice is None


def test_a_plain_plans_invoice_totals_are_its_lines_sums():
    # The prorated first invoice of the silver workload: 17/31 of 50.00.
    (plan,) = silver_inputs(1)
    invoice = bill_subscription(plan, None, as_of=date(2025, 1, 15), usage=[]).invoice
    assert invoice.total == Money("27.42", "EUR")
    assert invoice.net == Money("27.42", "EUR")
    assert invoice.tax == Money("0", "EUR")
    assert invoice.due_on == date(2025, 2, 14)
    assert [line.amount for line in invoice.lines] == [Money("27.42", "EUR")]
    assert invoice.lines[0].explanation.days == 17


@given(dates, frequencies, billing_days, dates)
def test_the_bounds_of_a_days_period_are_the_schedules_nth_dates(start, frequency, day, within):
    # The engine's _bounds(n): nth(n) and nth(n + 1), unchecked, of the index of a day.
    schedule = schedule_for(start, frequency, billing_day=day if frequency.is_month_based else None)
    n = schedule.index_of(within)
    assert schedule._bounds(n) == (schedule.nth(n), schedule.nth(n + 1))
    low, high = schedule._bounds(n)
    assert low <= within < high


def test_a_credit_balance_is_used_by_a_plain_plans_invoice():
    (plan,) = silver_inputs(1)
    state = BillingState().with_credit(Money("30.00", "EUR"))
    result = bill_subscription(plan, state, as_of=date(2025, 1, 15), usage=[])
    assert result.invoice.credit_applied == Money("27.42", "EUR")
    assert result.state.credit_balance == Money("2.58", "EUR")
    assert result.state.credit_balance.amount == Decimal("2.58")

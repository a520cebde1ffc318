"""The engine's per-call fast paths give what the general ones give (issue 13, per-call overhead).

Each property bills the same plans twice (a first bill, then a later one from its state), once
through the fast path and once forced through the general one, and asks for the same results:
the same invoices (lines, explanations, digits included) and the same states.
"""

import itertools
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import BillingState, bill_subscription
from subbill.periods import schedule_for
from tests.strategies import billing_days, dates, frequencies
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions


def _bills(subscription, d1, gap, usage):
    """The results of billing ``subscription`` on d1 then on d1 + gap, each given ``usage()``."""
    state = BillingState()
    results = []
    for as_of in (d1, d1 + timedelta(days=gap)):
        result = bill_subscription(subscription, state, as_of=as_of, usage=usage())
        results.append(result)
        state = result.state
    return results


@given(billing_subscriptions(), as_of_dates, st.integers(0, 400))
def test_a_plan_without_usage_given_no_record_bills_as_the_usage_steps_do(subscription, d1, gap):
    # An empty list or tuple of records skips the usage steps (no usage charge, no usage
    # period billed); an empty iterator still runs them: the results must be the same.
    general = _bills(subscription, d1, gap, lambda: iter(()))
    for empty in (list, tuple):
        fast = _bills(subscription, d1, gap, empty)
        assert fast == general
        assert repr(fast) == repr(general)  # digits and explanations included


@given(dates, frequencies, billing_days, dates, st.integers(0, 800))
def test_the_dates_through_a_day_are_those_the_schedule_iterates(start, frequency, day, low, gap):
    # The engine reads a charge's billing dates through the unchecked _dates_through: from
    # the period holding ``low`` to the first date on or after ``last``, as dates_from gives.
    schedule = schedule_for(start, frequency, billing_day=day if frequency.is_month_based else None)
    last = low + timedelta(days=gap)
    first = schedule.index_of(low)
    iterated = list(itertools.takewhile(lambda d: d < last, schedule.dates_from(first)))
    expected = [*iterated, schedule.nth(first + len(iterated))]
    assert schedule._dates_through(first, last) == expected
    assert schedule.dates_through(first, last) == expected

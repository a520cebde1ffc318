"""``Subscription.to_charge_plan`` builds its charges and plan without re-checking fields.

The proof: for any valid subscription, the plan built through the unchecked constructors
(``RecurringCharge._from_checked``, ``ChargePlan._from_checked``) equals, field by field, the
one the checked constructors build from the same values — and where the checked build
refuses the subscription, the unchecked one refuses it with the same error.
"""

from decimal import Decimal
from unittest.mock import patch

import attrs
import pytest
from benchmarks.workloads import mix_subscriptions
from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import ChargePlan
from subbill.catalog import Catalog, Plan
from subbill.charges import RecurringCharge
from subbill.errors import SubbillError
from subbill.money import Money
from subbill.periods import MONTHLY
from subbill.subscriptions import Span
from subbill.taxes import TaxRate
from tests.test_codec_rows import START, plain_subscription
from tests.test_subscriptions import CATALOG, histories
from tests.test_trials import CATALOG as TRIAL_CATALOG
from tests.test_trials import trial_subscriptions


def _checked(cls, **fields):
    # A caller's hints (the key's text, a price its span checked): the checked build
    # computes and checks them itself.
    fields.pop("key", None)
    fields.pop("priced", None)
    schedule = fields.pop("schedule", None)
    if schedule is not None:  # a charge on the subscription's cycle: its fields, checked
        fields.update(
            frequency=schedule.frequency, billing_day=schedule.day, anchor=schedule.anchor
        )
    return cls(**fields)


def checked_plan(subscription, catalog):
    """The plan as the checked constructors build it from the same values."""
    with (
        patch.object(RecurringCharge, "_from_checked", classmethod(_checked)),
        patch.object(ChargePlan, "_from_checked", classmethod(_checked)),
    ):
        return subscription.to_charge_plan(catalog)


def outcome(build):
    """The plan built, or the error raised: its class and message."""
    try:
        return build()
    except SubbillError as error:
        return (type(error), str(error))


def assert_same_fields(got, want):
    assert type(got) is type(want)
    for field in attrs.fields(type(want)):
        mine, theirs = getattr(got, field.name), getattr(want, field.name)
        assert mine == theirs, field.name
        assert type(mine) is type(theirs), field.name


def assert_same_plans(subscription, catalog):
    unchecked = outcome(lambda: subscription.to_charge_plan(catalog))
    checked = outcome(lambda: checked_plan(subscription, catalog))
    if isinstance(checked, tuple):
        assert unchecked == checked  # refused alike, with the same error
        return
    assert_same_fields(unchecked, checked)
    for mine, theirs in zip(unchecked.charges, checked.charges, strict=True):
        assert_same_fields(mine, theirs)
        # What the checked build computes on the way: the period's price, the schedule.
        assert mine.period_price == theirs.period_price
        assert str(mine.period_price.amount) == str(theirs.period_price.amount)
        assert mine.schedule == theirs.schedule
        assert mine.key == theirs.key
        # Set by the unchecked build for the engine (issue 13, per-call overhead); computed
        # on first read by the checked one: the same values, digits included.
        assert mine.whole_price == theirs.whole_price
        assert str(mine.whole_price.amount) == str(theirs.whole_price.amount)
        assert mine.terms_digest == theirs.terms_digest


@given(histories())
def test_unchecked_charge_plan_equals_the_checked_one(subscription):
    assert_same_plans(subscription, CATALOG)


@given(trial_subscriptions())
def test_unchecked_charge_plan_equals_the_checked_one_with_trials_and_phases(case):
    subscription, _ = case
    assert_same_plans(subscription, TRIAL_CATALOG)


MIX = list(mix_subscriptions(60))


@given(st.sampled_from(MIX))
def test_unchecked_charge_plan_equals_the_checked_one_for_quoted_lines(subscription):
    assert_same_plans(subscription, None)


# -- what a valid subscription does not guarantee: still refused, with the same error ---------

EUR_CATALOG = Catalog(
    currency="EUR",
    plans=[Plan(code="pro", name="Pro", rank=1, prices={MONTHLY: Money("10", "EUR")})],
)


def subscription(**fields):
    return plain_subscription(**{"billing_day": None, **fields})


@pytest.mark.parametrize(
    ("sub", "catalog", "message"),
    [
        # unit_price × quantity beyond the bound of an amount
        (
            subscription(
                plans=[Span(code="pro", start=START, price=Money("10000000000000", "EUR"))],
                quantity=Decimal(1000),
            ),
            EUR_CATALOG,
            "unit_price × quantity",
        ),
        # inclusive and exclusive rates together
        (
            subscription(
                tax_rates=[
                    TaxRate(name="TVA", percent="20"),
                    TaxRate(name="GST", percent="10", inclusive=True),
                ]
            ),
            EUR_CATALOG,
            "mixes inclusive and exclusive",
        ),
        # the catalog's price, in another currency than the subscription's
        (
            subscription(currency="USD", plans=[Span(code="pro", start=START)]),
            EUR_CATALOG,
            "is in EUR",
        ),
    ],
)
def test_unchecked_charge_plan_refuses_what_the_checked_one_refuses(sub, catalog, message):
    unchecked = outcome(lambda: sub.to_charge_plan(catalog))
    assert unchecked == outcome(lambda: checked_plan(sub, catalog))
    assert isinstance(unchecked, tuple)
    assert message in unchecked[1]


def test_the_silver_subscription_plan_is_built_unchecked():
    sub = subscription()
    with patch.object(RecurringCharge, "__init__", side_effect=AssertionError("checked")):
        plan = sub.to_charge_plan(EUR_CATALOG)
    assert plan.charges[0].period_price == Money("50.00", "EUR")
    assert plan == checked_plan(sub, EUR_CATALOG)

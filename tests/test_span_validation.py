"""Issue 13, fourth pass, step 1: what a subscription bills is refused where it must be.

A ``Span`` (built through the API, or read checked from a stored row) took a negative price
— its subscription then billed negative invoices — and a price beyond the bounds of an
amount (refused only later, by the engine); ``change_quantity`` and ``create`` took 0 seats
(invoices of 0.00, each taking an invoice number); a subscription took a cancellation
without the day it takes effect (``cancelled_on`` without ``cancel_at``: it billed on as if
never cancelled), or one taking effect before its start. A ``cancelled_on`` before the start
is the day a scheduled subscription was cancelled (:meth:`Subscription.cancel` writes it):
it stays accepted.

Review 90: 0 seats are refused by the verbs that set them, not by ``Span`` and
``Subscription`` (an earlier release stored and billed them: such rows stay readable), and a
quoted line takes a negative unit price (a discount line); ``tests/test_review90_fixes.py``.
"""

import json
import re
import sqlite3
from datetime import date

import attrs
import pytest

from subbill.billing import bill_subscription
from subbill.catalog import Plan
from subbill.errors import (
    InputError,
    InvalidArgumentError,
    InvalidPeriodError,
    InvalidQuantityError,
    OutOfBoundsError,
)
from subbill.money import Money
from subbill.periods import MONTHLY
from subbill.service import run_billing
from subbill.storage import SQLiteStore, codec
from subbill.storage.codec import StoredDataError, loads
from subbill.subscriptions import QuotedLine, Span, Subscription
from tests.test_trusted_read_refusals import CATALOG  # plan "a", 30.00 EUR a month

START = date(2026, 3, 1)


def _eur(amount):
    return Money(amount, "EUR")


def _subscription(**fields):
    base = {
        "id": "S1",
        "customer": "C",
        "currency": "EUR",
        "start": START,
        "plans": [Span(code="a", start=START, price=_eur("30.00"))],
    }
    return Subscription(**{**base, **fields})


# -- a span's price ---------------------------------------------------------------------------


def test_a_span_refuses_a_negative_price():
    with pytest.raises(InvalidArgumentError) as error:
        Span(code="a", start=START, price=_eur("-30.00"))
    assert str(error.value) == "price=Money('-30.00', 'EUR') of 'a' must be >= 0 (a price)"


def test_a_span_refuses_a_price_beyond_the_bounds_of_an_amount():
    beyond = _eur("999999999999999") + _eur("1")  # a sum is not held to the bound
    with pytest.raises(OutOfBoundsError) as error:
        Span(code="a", start=START, price=beyond)
    assert str(error.value) == (
        "price=Money('1000000000000000', 'EUR') must be below 10^15 in magnitude"
    )
    with pytest.raises(OutOfBoundsError, match="at most 9 decimal places"):
        Span(code="a", start=START, price=_eur("1") / 3)


def test_a_span_takes_the_prices_a_catalog_takes():
    # A catalog's price is a Money >= 0 with at most 9 decimal places: a sub-cent unit
    # price (0.002 EUR a call) and a free plan are prices.
    for amount in ("0.002", "0.000000001", "0", "0.00", "-0.00", "999999999999999.99"):
        assert Span(code="a", start=START, price=_eur(amount)).price == _eur(amount)
        Plan(code="p", name="P", rank=1, prices={MONTHLY: _eur(amount)})  # the same rule


def test_a_subscription_of_a_negative_span_price_is_refused_before_it_bills():
    sub = _subscription()
    with pytest.raises(InvalidArgumentError, match="must be >= 0"):
        attrs.evolve(sub, plans=[attrs.evolve(sub.plans[0], price=_eur("-30.00"))])


# -- seats --------------------------------------------------------------------------------------


def test_a_subscription_and_a_plan_span_stored_with_zero_seats_stay_readable():
    # Review 90 (F1): an earlier release stored them (create(quantity=0), a past
    # change_quantity(0)); the verbs refuse 0, the values stored keep it.
    assert _subscription(quantity=0).quantity == 0
    assert _subscription(quantity="0.000000").quantity == 0
    assert Span(code="a", start=START, price=_eur("30.00"), quantity=0).quantity == 0


def test_create_refuses_zero_seats():
    with pytest.raises(InvalidQuantityError) as error:
        Subscription.create(
            id="S1", customer="C", catalog=CATALOG, plan="a", start=START, quantity="0.000000"
        )
    assert str(error.value) == (
        "quantity=0.000000 must be > 0 (the seats of a plan; cancel the subscription to bill "
        "nothing)"
    )


def test_change_quantity_to_zero_seats_is_refused_and_changes_nothing():
    sub = Subscription.create(id="S1", customer="C", catalog=CATALOG, plan="a", start=START)
    with pytest.raises(InvalidQuantityError, match="must be > 0"):
        sub.change_quantity(0, on=date(2026, 3, 10))
    assert sub.plans[0].quantity is None  # nothing half-applied
    assert sub.change_quantity("0.5", on=date(2026, 3, 10)).plans[-1].quantity == 0.5


def test_a_subscriptions_file_with_zero_seats_is_refused_at_its_path():
    with pytest.raises(InputError, match=r"^quantity: quantity=0 must be > 0 \(the seats"):
        Subscription.from_mapping(
            {"id": "S1", "customer": "C", "plan": "a", "start": "2026-03-01", "quantity": 0},
            catalog=CATALOG,
        )


# -- quoted lines -----------------------------------------------------------------------------


def test_a_quoted_line_takes_a_negative_unit_price_a_discount_line():
    # Review 90 (F2): a « remise » line bought through a quote is stored and billed.
    for frequency in (None, MONTHLY):
        line = QuotedLine(
            code="remise", name="Remise", unit_price=_eur("-5"), start=START, frequency=frequency
        )
        assert line.unit_price == _eur("-5")
    line = QuotedLine(code="api", name="API", unit_price=_eur("0.002"), start=START)
    assert line.unit_price == _eur("0.002")


# -- the cancellation -------------------------------------------------------------------------


def test_a_scheduled_subscription_cancelled_before_its_start_is_kept_and_stored():
    # cancelled_on is the day the cancellation was made: before the start for a
    # subscription cancelled while scheduled. It takes effect on the start.
    sub = Subscription.create(id="S1", customer="C", catalog=CATALOG, plan="a", start=START)
    cancelled = sub.cancel(on=date(2026, 2, 10))
    assert (cancelled.cancelled_on, cancelled.cancel_at) == (date(2026, 2, 10), START)
    text = codec.subscription_text(cancelled)
    read = codec.read_subscription(text, table="subscriptions", key="S1")
    assert read == cancelled
    assert bill_subscription(read.to_charge_plan(CATALOG), as_of=date(2026, 5, 1)).invoice is None


def test_a_cancellation_without_the_day_it_takes_effect_is_refused():
    with pytest.raises(InvalidArgumentError) as error:
        _subscription(cancelled_on=date(2026, 4, 10))
    assert str(error.value) == (
        "cancelled_on=2026-04-10 without cancel_at: a cancellation has both the day it was "
        "made and the day it takes effect (cancel() sets them)"
    )
    with pytest.raises(InvalidArgumentError, match="cancel_at=2026-05-01 without cancelled_on"):
        _subscription(cancel_at=date(2026, 5, 1))


def test_a_cancellation_taking_effect_before_the_start_is_refused():
    with pytest.raises(InvalidPeriodError) as error:
        _subscription(cancelled_on=date(2026, 1, 10), cancel_at=date(2026, 2, 1))
    assert str(error.value) == (
        "cancel_at=2026-02-01 must not be before start=2026-03-01 (a cancellation takes "
        "effect on the start at the earliest)"
    )


# -- stored rows ------------------------------------------------------------------------------


def _data(**changes):
    sub = Subscription.create(id="S1", customer="C", catalog=CATALOG, plan="a", start=START)
    data = json.loads(codec.subscription_text(sub))["data"]
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"plans": [{"code": "a", "price": "-30.00 EUR", "start": "2026-03-01"}]},
            "price=Money('-30.00', 'EUR') of 'a' must be >= 0 (a price)",
        ),
        ({"cancelled_on": "2026-04-10"}, "cancelled_on=2026-04-10 without cancel_at"),
    ],
)
def test_the_checked_read_refuses_a_row_the_api_refuses(changes, message):
    document = codec.document_text({"data": _data(**changes), "version": codec.FORMAT_VERSION})
    with pytest.raises(StoredDataError, match=re.escape(message)):
        loads(document, Subscription, table="subscriptions", key="S1")


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": "0"},
        {"plans": [{"code": "a", "price": "30.00 EUR", "quantity": "0", "start": "2026-03-01"}]},
    ],
)
def test_the_checked_read_takes_a_row_of_zero_seats(changes):
    document = codec.document_text({"data": _data(**changes), "version": codec.FORMAT_VERSION})
    sub = loads(document, Subscription, table="subscriptions", key="S1")
    assert sub.quantity == 0 or sub.plans[0].quantity == 0


def test_an_older_row_with_a_negative_price_fails_its_own_subscription_only(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_catalog(CATALOG)
    for sub_id in ("S0", "S1", "S2"):
        store.save_subscription(
            Subscription.create(id=sub_id, customer="C", catalog=CATALOG, plan="a", start=START)
        )
    bad = _data(plans=[{"code": "a", "price": "-30.00 EUR", "start": "2026-03-01"}])
    older = codec.document_text({"data": bad, "version": codec.FORMAT_VERSION})
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE subscriptions SET document = ? WHERE id = 'S1'", (older,))
    connection.close()
    report = run_billing(store, as_of=date(2026, 4, 15))
    assert [failure.subscription for failure in report.failures] == ["S1"]
    assert isinstance(report.failures[0].error, StoredDataError)
    assert "must be >= 0 (a price)" in str(report.failures[0].error)
    totals = sorted((invoice.subscription, str(invoice.total)) for invoice in store.invoices())
    assert totals == [("S0", "60.00 EUR"), ("S2", "60.00 EUR")]
    store.close()

"""Review 90: rows an earlier release stored and billed stay readable and billed.

Issue 13's span validation (fourth pass) refused 0 seats in ``Span`` and ``Subscription``
and a negative unit price in ``QuotedLine``, in their constructors and so in both readers
of a stored row: a subscription stored with 0 seats, one whose history holds a past
``change_quantity(0)`` (a « pause », billed 0.00 that month), and one bought with a
« remise » line (a negative recurring quoted line) then failed every billing run, and
``store.get_subscription`` could not even load them to repair them. 0 seats are now
refused by the verbs that set seats (``change_quantity``, ``Subscription.create``, a
subscriptions file), not by the values stored; a quoted line may be a discount line. And
``codec.read_subscription`` met with a lone surrogate raised a raw ``UnicodeEncodeError``.
"""

import json
import re
import sqlite3
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill.errors import InvalidQuantityError
from subbill.money import Money
from subbill.periods import MONTHLY
from subbill.quotes import LineItem, Quote
from subbill.service import run_billing
from subbill.storage import SQLiteStore, codec
from subbill.storage.codec import StoredDataError, loads, read_subscription
from subbill.subscriptions import QuotedLine, Span, Subscription
from tests.seed_catalog import seed_catalog
from tests.test_codec_rows import same_fields

#: Rows as the release before the span validation (bab1797) wrote them in SQLite, stamp and
#: all: ``create(..., quantity=3).change_quantity(0, on=1 Feb).change_quantity(3, on=1 Mar)``,
#: ``create(..., quantity=0)``, and a subscription of a base line and a « remise » line.
OLD_ROWS = {
    "A-zero-then-3": (
        '{"data":{"currency":"EUR","customer":"C","history":[{"code":"pro","kind":'
        '"quantity_change","on":"2026-02-01"},{"code":"pro","kind":"quantity_change","on":'
        '"2026-03-01"}],"id":"A-zero-then-3","plans":[{"code":"pro","end":"2026-02-01",'
        '"price":"59.00 EUR","start":"2026-01-01"},{"code":"pro","end":"2026-03-01","price":'
        '"59.00 EUR","quantity":"0","reason":"quantity_change","start":"2026-02-01"},{"code":'
        '"pro","price":"59.00 EUR","quantity":"3","reason":"quantity_change","start":'
        '"2026-03-01"}],"quantity":"3","start":"2026-01-01"},"stamp":"09e635af9f59c713",'
        '"version":5}'
    ),
    "C-zero-seats": (
        '{"data":{"currency":"EUR","customer":"C","id":"C-zero-seats","plans":[{"code":"pro",'
        '"price":"59.00 EUR","start":"2026-01-01"}],"quantity":"0","start":"2026-01-01"},'
        '"stamp":"18a81c06bec561eb","version":5}'
    ),
    "F-quoted-negative": (
        '{"data":{"currency":"EUR","customer":"C","id":"F-quoted-negative","lines":[{"code":'
        '"base","frequency":"P1M","name":"Base","start":"2026-01-01","unit_price":"100 EUR"},'
        '{"code":"remise","frequency":"P1M","name":"Remise","start":"2026-01-01","unit_price":'
        '"-10 EUR"}],"start":"2026-01-01"},"stamp":"32809e15b1297c00","version":5}'
    ),
}
START = date(2026, 1, 1)
NO_SEATS = "quantity=0 must be > 0 (the seats of a plan; cancel the subscription to bill nothing)"


def _old_store(tmp_path):
    """An SQLite store holding ``OLD_ROWS`` as the earlier release wrote them."""
    path = tmp_path / "old.db"
    store = SQLiteStore(path)
    catalog = seed_catalog()
    store.save_catalog(catalog)
    for sub_id in OLD_ROWS:  # a row of each id, then its text as the old tree wrote it
        store.save_subscription(
            Subscription.create(id=sub_id, customer="C", catalog=catalog, plan="pro", start=START)
        )
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "UPDATE subscriptions SET document = ? WHERE id = ?",
            [(text, sub_id) for sub_id, text in OLD_ROWS.items()],
        )
    connection.close()
    return store


def _checked(text, key):
    return loads(text, Subscription, table="subscriptions", key=key)


# -- F1: 0 seats stored by an earlier release --------------------------------------------------


def test_a_database_the_earlier_release_wrote_is_billed_as_it_billed_it(tmp_path):
    store = _old_store(tmp_path)
    report = run_billing(store, as_of=date(2026, 4, 1))
    assert report.failures == ()
    assert report.invoice_count == 3
    lines = {
        invoice.subscription: [(str(line.period.start), str(line.amount)) for line in invoice.lines]
        for invoice in store.invoices()
    }
    months = ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    # A: 3 seats of 59.00, none in February (the past 0-seat span), 3 again from March.
    assert lines["A-zero-then-3"] == list(
        zip(months, ["177.00 EUR", "0.00 EUR", "177.00 EUR", "177.00 EUR"], strict=True)
    )
    assert lines["C-zero-seats"] == list(zip(months, ["0.00 EUR"] * 4, strict=True))
    assert lines["F-quoted-negative"] == list(
        zip(months + months, ["100.00 EUR"] * 4 + ["-10.00 EUR"] * 4, strict=True)
    )
    totals = {invoice.subscription: str(invoice.total) for invoice in store.invoices()}
    assert totals == {
        "A-zero-then-3": "531.00 EUR",
        "C-zero-seats": "0.00 EUR",
        "F-quoted-negative": "360.00 EUR",
    }
    store.close()


def test_a_stored_subscription_of_zero_seats_loads_to_be_repaired(tmp_path):
    store = _old_store(tmp_path)
    paused = store.get_subscription("A-zero-then-3")
    assert [span.quantity for span in paused.plans] == [None, Decimal(0), Decimal(3)]
    free = store.get_subscription("C-zero-seats")
    assert free.quantity == 0
    # Repaired through the verbs: new seats, or cancelled to bill nothing.
    assert free.change_quantity(2, on=date(2026, 4, 1)).plans[-1].quantity == 2
    assert free.cancel(on=date(2026, 4, 1)).cancel_at is not None
    store.close()


@pytest.mark.parametrize("sub_id", sorted(OLD_ROWS))
def test_an_old_row_reads_trusted_as_it_reads_checked(sub_id):
    text = OLD_ROWS[sub_id]
    trusted = read_subscription(text, table="subscriptions", key=sub_id)
    same_fields(trusted, _checked(text, sub_id))
    assert codec.subscription_text(trusted) == text  # written back byte for byte


def test_the_zero_seat_row_is_read_by_the_one_plan_reader():
    text = OLD_ROWS["C-zero-seats"]
    data_end = len(text) - codec._STAMP_TAIL
    assert codec._stamp_matches(text, data_end)  # its stamp: the trusted path is taken
    found = codec._ONE_PLAN(text, len(codec._STAMP_HEAD), data_end)
    assert found is not None
    sub = codec._one_plan_subscription(found.groups(codec._ABSENT))
    assert sub is not None
    assert sub.quantity == 0


def test_a_span_and_a_subscription_take_zero_seats():
    span = Span(code="pro", start=START, price=Money("59.00", "EUR"), quantity=0)
    assert span.quantity == 0
    sub = Subscription(id="S1", customer="C", currency="EUR", start=START, plans=[span])
    assert attrs.evolve(sub, quantity="0.000").quantity == 0


def test_change_quantity_to_zero_seats_is_refused_and_says_what_to_do():
    sub = Subscription.create(
        id="S1", customer="C", catalog=seed_catalog(), plan="pro", start=START, quantity=3
    )
    for zero in (0, "0", "0.000", Decimal("-0")):
        with pytest.raises(InvalidQuantityError) as error:
            sub.change_quantity(zero, on=date(2026, 2, 1))
        assert str(error.value) == NO_SEATS.replace("=0", f"={Decimal(str(zero))}")
    assert sub.change_quantity(2, on=date(2026, 2, 1)).plans[-1].quantity == 2


def test_create_refuses_zero_seats():
    with pytest.raises(InvalidQuantityError) as error:
        Subscription.create(
            id="S1", customer="C", catalog=seed_catalog(), plan="pro", start=START, quantity=0
        )
    assert str(error.value) == NO_SEATS


_SEATS = st.sampled_from(["0", "0.000", "0.5", "1", "3", "12"])


@st.composite
def subscriptions_with_zero_seats(draw):
    """A subscription stored with 0 seats somewhere: its own, or a span's (a past « pause »)."""
    price = Money(draw(st.sampled_from(["0.00", "29.00", "59.00", "0.002"])), "EUR")
    starts = sorted(set(draw(st.lists(st.integers(0, 400), min_size=1, max_size=4))) | {0})
    days = [date.fromordinal(START.toordinal() + offset) for offset in starts]
    ends = [*days[1:], None]
    spans = [
        Span(
            code="pro",
            start=day,
            end=end,
            price=price,
            quantity=draw(st.none() | _SEATS),
            reason=None if index == 0 else "quantity_change",
        )
        for index, (day, end) in enumerate(zip(days, ends, strict=True))
    ]
    quantity = draw(_SEATS)
    if Decimal(quantity) and all(span.quantity != 0 for span in spans):
        index = draw(st.integers(0, len(spans) - 1))
        spans[index] = attrs.evolve(spans[index], quantity=draw(st.sampled_from(["0", "0.000"])))
    return Subscription(
        id="S1", customer="C", currency="EUR", start=START, plans=spans, quantity=quantity
    )


@given(subscriptions_with_zero_seats())
def test_a_row_of_zero_seats_reads_trusted_as_it_reads_checked(sub):
    # The invariant "trusted == checked", extended to 0 seats: both take them.
    assert any(span.quantity == 0 for span in sub.plans) or sub.quantity == 0
    text = codec.subscription_text(sub)
    trusted = read_subscription(text, table="subscriptions", key="S1")
    same_fields(trusted, sub)
    same_fields(trusted, _checked(text, "S1"))
    data = json.loads(text)["data"]
    assert codec._trusted_subscription(data) is not None  # the trusted path, taken


# -- F2: a negative quoted line (a discount line) ------------------------------------------------


#: A « remise » line: -10.00 a month beside the line it lowers.
REMISE = {"code": "remise", "name": "Remise", "unit_price": Money("-10", "EUR"), "start": START}


def test_a_quoted_line_may_be_a_discount_line():
    remise = QuotedLine(**REMISE, frequency=MONTHLY)
    assert remise.unit_price == Money("-10", "EUR")
    one_time = QuotedLine(code="geste", name="Geste", unit_price=Money("-5", "EUR"), start=START)
    assert one_time.unit_price == Money("-5", "EUR")


def test_a_quote_with_a_discount_line_is_accepted_and_bills_the_net():
    site = LineItem(code="site", name="Site", unit_price=Money("100", "EUR"), frequency=MONTHLY)
    remise = LineItem(
        code="remise", name="Remise fidélité", unit_price=Money("-10", "EUR"), frequency=MONTHLY
    )
    quote = Quote(
        id="Q1", customer="Garage", currency="EUR", valid_until=date(2026, 2, 1),
        lines=(site, remise),
    )  # fmt: skip
    bought = quote.accept(on=date(2026, 1, 5), payment_method="pm_1")
    assert [str(line.amount) for line in bought.invoice.lines] == ["100.00 EUR", "-10.00 EUR"]
    assert str(bought.invoice.total) == "90.00 EUR"
    text = codec.subscription_text(bought.subscription)
    read = read_subscription(text, table="subscriptions", key=bought.subscription.id)
    assert read == bought.subscription


# -- F5: a lone surrogate in a stamped-shaped text ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"data":{"id":"\ud800"},"stamp":"0123456789abcdef","version":5}',
        # reformatted, the surrogate escaped (as a database rewriting JSON gives it back)
        '{"data": {"id": "\\ud800"}, "stamp": "0123456789abcdef", "version": 5}',
    ],
    ids=["raw", "escaped"],
)
def test_a_lone_surrogate_in_a_stamped_text_is_a_named_stored_data_error(text):
    with pytest.raises(StoredDataError) as error:
        read_subscription(text, table="subscriptions", key="S1")
    assert re.match(
        r"subscriptions row 'S1': a stored Subscription cannot be read back", str(error.value)
    )

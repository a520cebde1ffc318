"""Issue 13: a trusted (stamped) row gives what its checked read gives, and so does the engine.

A stamp has no key: a row edited by hand and stamped again, as the stamp is documented, is
read by the trusted reader. Review 82 found such rows read trusted and billed — a billing
day of 0 (a raw ``ValueError`` that stopped the whole run), 32 or 45, a weekly plan with a
billing day, a start in year 1, negative or over-precise seats, a price in another currency,
an empty payment method, no plan, two plans from the start, an end before the start —
where the checked read of the same data refuses them (a ``StoredDataError``) or normalises
them, and the engine's cold path (``BillingSchedule._on_cycle``) skipped the checks
``schedule_for`` makes. Each row now gives exactly the checked read's outcome, fails its
own subscription only in ``run_billing``, and the cold path checks what the public one does.
"""

import json
import sqlite3
from datetime import date

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subbill.billing import bill_subscription
from subbill.catalog import Catalog, Plan
from subbill.errors import (
    InvalidBillingDayError,
    InvalidTypeError,
    OutOfBoundsError,
    SubbillError,
)
from subbill.money import Money
from subbill.periods import MONTHLY, BillingSchedule, Frequency, schedule_for
from subbill.service import run_billing
from subbill.storage import SQLiteStore, codec
from subbill.storage.codec import StoredDataError, loads, read_subscription
from subbill.subscriptions import Subscription
from tests.test_codec_rows import CATALOG as STORED_CATALOG
from tests.test_codec_rows import same_fields
from tests.test_persisted_run_row_reads import every_stored_shape, varied_subscriptions

WEEKLY = Frequency.weeks(1)
CATALOG = Catalog(
    currency="EUR",
    plans=[
        Plan(
            code="a",
            name="A",
            rank=1,
            prices={MONTHLY: Money("30.00", "EUR"), WEEKLY: Money("7.00", "EUR")},
        )
    ],
)
START = date(2026, 1, 10)
AS_OF = date(2026, 3, 20)


def _subscription(sub_id="S1", frequency=MONTHLY):
    return Subscription.create(
        id=sub_id, customer="C", catalog=CATALOG, plan="a", start=START, frequency=frequency
    )


def _stamped(data):
    """``data`` stamped again, as a tool that knows the documented stamp would write it.

    A lone surrogate cannot be written as UTF-8: such text is written escaped (ASCII).
    """
    data_text = codec.document_text(data)
    try:
        data_text.encode()
    except UnicodeEncodeError:
        data_text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return f"{codec._STAMP_HEAD}{data_text}{codec._STAMP_MID}{codec._stamp(data_text)}{codec._STAMP_END}"  # noqa: E501


def _unstamped(data):
    return codec.document_text({"data": data, "version": codec.FORMAT_VERSION})


def _edited(sub, **changes):
    data = json.loads(codec.subscription_text(sub))["data"]
    data.update(changes)
    return data


def _span(**changes):
    return [{"code": "a", "price": "30.00 EUR", "start": "2026-01-10", **changes}]


def _outcome(read):
    """A read's subscription, or the type and message of its error."""
    try:
        return read()
    except Exception as error:
        return type(error), str(error)


def _both(data, key="S1"):
    trusted = _outcome(lambda: read_subscription(_stamped(data), table="subscriptions", key=key))
    checked = _outcome(
        lambda: loads(_unstamped(data), Subscription, table="subscriptions", key=key)
    )
    return trusted, checked


def _same(trusted, checked):
    if isinstance(checked, Subscription):
        assert isinstance(trusted, Subscription), trusted
        same_fields(trusted, checked)
        assert repr(trusted) == repr(checked)
    else:
        assert trusted == checked


#: Review 82's rows (F1: the cycle's fields; F2: the rest), each ``(frequency, changes)``.
#: The checked read refuses each of them.
REFUSED = {
    "billing_day 0": (MONTHLY, {"billing_day": 0}),
    "billing_day 32": (MONTHLY, {"billing_day": 32}),
    "billing_day 45": (MONTHLY, {"billing_day": 45}),
    "weekly with billing_day 15": (WEEKLY, {"billing_day": 15}),
    "start 0001-01-01": (MONTHLY, {"start": "0001-01-01"}),
    "start 9999-12-31": (MONTHLY, {"start": "9999-12-31"}),
    "start and span 0001-01-01": (
        MONTHLY,
        {"start": "0001-01-01", "plans": _span(start="0001-01-01")},
    ),
    "quantity -1": (MONTHLY, {"quantity": "-1"}),
    "quantity 1.123456789": (MONTHLY, {"quantity": "1.123456789"}),
    "quantity 10^14": (MONTHLY, {"quantity": "99999999999999"}),
    "quantity true": (MONTHLY, {"quantity": True}),
    "span quantity -3": (MONTHLY, {"plans": _span(quantity="-3")}),
    "price in USD": (MONTHLY, {"plans": _span(price="10.00 USD")}),
    "payment method empty": (MONTHLY, {"payment_method": ""}),
    "payment method on two lines": (MONTHLY, {"payment_method": "a\nb"}),
    "payment method a card number": (MONTHLY, {"payment_method": "tok 4242 4242 4242 4242"}),
    "reason on two lines": (MONTHLY, {"plans": _span(reason="a\nb")}),
    "reason empty": (MONTHLY, {"plans": _span(reason="")}),
    "code empty": (MONTHLY, {"plans": _span(code="")}),
    "customer empty": (MONTHLY, {"customer": ""}),
    "currency a number": (MONTHLY, {"currency": 3}),
    "no plan": (MONTHLY, {"plans": []}),
    "two plans from the start": (MONTHLY, {"plans": _span() + _span()}),
    "a plan from before the start": (MONTHLY, {"plans": _span(start="2025-01-10")}),
    "end before the start": (MONTHLY, {"end": "2025-01-01"}),
    "span end before its start": (MONTHLY, {"plans": _span(end="2026-01-01")}),
    "billed_from before the span": (MONTHLY, {"plans": _span(billed_from="2025-06-01")}),
    "cancel_at in year 1": (MONTHLY, {"cancel_at": "0001-01-01"}),
    # Issue 13, fourth pass: what a span and a subscription now refuse.
    "price -30.00 EUR": (MONTHLY, {"plans": _span(price="-30.00 EUR")}),
    "price -0.01 EUR": (MONTHLY, {"plans": _span(price="-0.01 EUR")}),
    "cancelled_on without cancel_at": (MONTHLY, {"cancelled_on": "2026-02-01"}),
    "cancel_at without cancelled_on": (MONTHLY, {"cancel_at": "2026-03-10"}),
    "cancel_at before the start": (
        MONTHLY,
        {"cancelled_on": "2025-12-01", "cancel_at": "2026-01-01"},
    ),
}

#: Rows the checked read normalises (or takes as they are): the trusted read gives the same.
NORMALISED = {
    # Review 90: 0 seats stored by an earlier release are read (only the verbs refuse 0).
    "quantity 0": {"quantity": "0"},
    "quantity 0.000000": {"quantity": "0.000000"},
    "span quantity 0": {"plans": _span(quantity="0")},
    "quantity 1E+2": {"quantity": "1E+2"},
    "quantity 1.0000000": {"quantity": "1.0000000"},
    "quantity an int": {"quantity": 2},
    "price 30.001 EUR": {"plans": _span(price="30.001 EUR")},
    "price 0.002 EUR": {"plans": _span(price="0.002 EUR")},
    "price -0.00 EUR": {"plans": _span(price="-0.00 EUR")},
    "price 0 EUR": {"plans": _span(price="0 EUR")},
    "cancelled before the start": {"cancelled_on": "2025-12-01", "cancel_at": "2026-01-10"},
    "price 10.00 eur": {"plans": _span(price="10.00 eur")},
    "price 3E+1 EUR": {"plans": _span(price="3E+1 EUR")},
    "currency eur": {"currency": "eur"},
    "id a number": {"id": 5},
    "code a number": {"plans": _span(code=5)},
    "customer with a no-break space": {"customer": "C\u00a0D"},
    "billing_day 31": {"billing_day": 31},
    "start 1800-01-01 and its span": {"start": "1800-01-01", "plans": _span(start="1800-01-01")},
}


@pytest.mark.parametrize(("frequency", "changes"), REFUSED.values(), ids=REFUSED.keys())
def test_a_restamped_row_the_checked_read_refuses_is_refused_by_the_trusted_read(
    frequency, changes
):
    data = _edited(_subscription(frequency=frequency), **changes)
    trusted, checked = _both(data)
    assert checked[0] is StoredDataError
    assert trusted == checked  # the same error, the same words


@pytest.mark.parametrize("changes", NORMALISED.values(), ids=NORMALISED.keys())
def test_a_restamped_row_the_checked_read_normalises_reads_as_the_checked_read(changes):
    trusted, checked = _both(_edited(_subscription(), **changes))
    assert isinstance(checked, Subscription)
    _same(trusted, checked)


def test_normalised_rows_read_the_checked_values():
    # Real values, not only agreement: the checked read normalises them.
    def read(**changes):
        text = _stamped(_edited(_subscription(), **changes))
        return read_subscription(text, table="subscriptions", key="S1")

    assert repr(read(quantity="1E+2").quantity) == "Decimal('100')"
    assert read(currency="eur").currency == "EUR"
    assert read(plans=_span(price="10.00 eur")).plans[0].price == Money("10.00", "EUR")
    assert read(plans=_span(price="10.00 eur")).plans[0].price.currency == "EUR"
    assert read(id=5).id == "5"


def _store_with(tmp_path, bad_text):
    """S0, S1 and S2 stored, S1's row replaced by ``bad_text``."""
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_catalog(CATALOG)
    for sub_id in ("S0", "S1", "S2"):
        store.save_subscription(_subscription(sub_id))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE subscriptions SET document = ? WHERE id = 'S1'", (bad_text,))
    connection.close()
    return store


@pytest.mark.parametrize(("frequency", "changes"), REFUSED.values(), ids=REFUSED.keys())
def test_a_restamped_row_the_checked_read_refuses_fails_only_its_subscription_in_a_run(
    tmp_path, frequency, changes
):
    text = _stamped(_edited(_subscription("S1", frequency), **changes))
    store = _store_with(tmp_path, text)
    report = run_billing(store, as_of=AS_OF)
    assert [failure.subscription for failure in report.failures] == ["S1"]
    assert isinstance(report.failures[0].error, StoredDataError)
    assert report.invoice_count == 2
    billed = {invoice.subscription: invoice for invoice in store.invoices()}
    assert set(billed) == {"S0", "S2"}
    for invoice in billed.values():  # from 10 Jan, 10 Feb and 10 Mar
        assert [str(line.net) for line in invoice.lines] == ["30.00 EUR"] * 3
    store.close()


# -- the engine's cold path checks what schedule_for checks ----------------------------------


def _unchecked(sub, **fields):
    """``sub`` with ``fields`` written past its checks (as an unchecked read could)."""
    for name, value in fields.items():
        object.__setattr__(sub, name, value)
    return sub


@pytest.mark.parametrize(
    ("start", "frequency", "billing_day", "error"),
    [
        (START, MONTHLY, 0, InvalidBillingDayError),
        (START, MONTHLY, 32, InvalidBillingDayError),
        (START, MONTHLY, 45, InvalidBillingDayError),
        (START, MONTHLY, True, InvalidTypeError),
        (START, WEEKLY, 15, InvalidBillingDayError),
        (date(1, 1, 1), MONTHLY, None, OutOfBoundsError),
        (date(9999, 12, 31), MONTHLY, 1, OutOfBoundsError),
        (date(1799, 12, 31), WEEKLY, None, OutOfBoundsError),
    ],
)
def test_the_cold_schedule_refuses_what_schedule_for_refuses(start, frequency, billing_day, error):
    with pytest.raises(error) as public:
        schedule_for(start, frequency, billing_day=billing_day)
    with pytest.raises(error) as cold:
        BillingSchedule._on_cycle(start, frequency, billing_day)
    assert str(cold.value) == str(public.value)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"billing_day": 0}, InvalidBillingDayError),
        ({"billing_day": 32}, InvalidBillingDayError),
        ({"frequency": WEEKLY, "billing_day": 15}, InvalidBillingDayError),
        ({"start": date(1, 1, 1)}, OutOfBoundsError),
    ],
)
def test_an_unchecked_subscription_is_refused_by_the_engine_with_the_named_error(fields, error):
    # Review 82 (F1): billing_day=0 made a raw ValueError escape; 32, a weekly billing day
    # and year 1 were billed. The cold path now refuses them as the public schedule does.
    sub = _unchecked(_subscription(), **fields)
    with pytest.raises(error):
        sub.to_charge_plan(CATALOG)
    with pytest.raises(error):
        sub.charges(CATALOG)


def test_the_cold_schedule_of_ordinary_fields_is_the_public_one():
    for start, frequency, day in [
        (date(2026, 1, 31), MONTHLY, None),
        (date(2026, 2, 10), MONTHLY, 31),
        (date(2026, 2, 10), Frequency.parse("P1Y"), 1),
        (date(2026, 2, 10), WEEKLY, None),
        (date(1800, 1, 1), MONTHLY, 31),
        (date(3099, 12, 31), MONTHLY, 1),
    ]:
        cold = BillingSchedule._on_cycle(start, frequency, day)
        public = schedule_for(start, frequency, billing_day=day)
        assert cold.anchor == public.anchor
        assert [cold.nth(n) for n in range(-3, 4)] == [public.nth(n) for n in range(-3, 4)]


def test_a_good_restamped_row_is_still_billed_from_the_trusted_read():
    sub = _subscription()
    read = read_subscription(codec.subscription_text(sub), table="subscriptions", key="S1")
    same_fields(read, sub)
    result = bill_subscription(read.to_charge_plan(CATALOG), None, as_of=AS_OF)
    assert [(line.period.start, str(line.net)) for line in result.invoice.lines] == [
        (date(2026, 1, 10), "30.00 EUR"),
        (date(2026, 2, 10), "30.00 EUR"),
        (date(2026, 3, 10), "30.00 EUR"),
    ]


# -- the property: after any edit, the trusted read is the checked read ----------------------

#: Values near where the checks draw a line, for each field (beside any JSON value).
_DATES = ["1799-12-31", "1800-01-01", "2020-01-01", "2024-01-01", "2024-02-29", "2026-01-10",
          "2025-06-01", "2026-06-01", "2027-06-01", "2031-01-01", "3099-12-31", "3100-01-01",
          "0001-01-01", "9999-12-31", "20240101", "2024-W01-1", "2024-02-30",
          20240101]  # fmt: skip
_TEXTS = ["", " ", "x", "a\nb", "a\tb", "\u00a0", "C\u00a0D", "\u202ex", "\u2028", "\ud800",
          "pm_card_1", "tok 4242 4242 4242 4242", "FR7630006000011234567890189", 5,
          None]  # fmt: skip
_NUMBERS = ["0", "-0", "0.0", "0.000000", "0.000001", "-1", "1", "1.5", "1.0000000",
            "1.000001", "1.1234567", "1E+2", "1e-7",
            "1_000", " 2 ", "999999999999", "1000000000000", "1000000000001", "NaN", "-Inf",
            0, 2, -1, 2.5, True]  # fmt: skip
_PRICES = ["30.00 EUR", "-30.00 EUR", "-0.01 EUR", "-0.00 EUR", "0 EUR", "0.002 EUR",
           "-0.002 EUR", "30.001 EUR", "30.0000000001 EUR", "10.00 eur",
           "10.00 USD", "1E+1 EUR", "1E+15 EUR", "-1E+15 EUR", "999999999999999.99 EUR",
           "30.00  EUR", "30.00 EUR ", "30.00", "x EUR"]  # fmt: skip
_SPAN = {"code": "pro", "start": "2026-01-10", "price": "30.00 EUR"}
_VALUES = {
    "id": _TEXTS, "customer": _TEXTS, "payment_method": _TEXTS, "code": _TEXTS,
    "reason": _TEXTS, "start": _DATES, "end": _DATES, "cancelled_on": _DATES,
    "cancel_at": _DATES, "billed_from": _DATES, "quantity": _NUMBERS, "price": _PRICES,
    "currency": ["EUR", "eur", " EUR", "USD", "XXX", "EU", 3, None],
    "billing_day": [0, 1, 15, 28, 31, 32, 45, -1, True, "1", 1.0, None],
    "frequency": ["P1M", "P3M", "P1Y", "P1W", "P2W", "P0M", "P1D", "x", None],
    "plans": [[], [_SPAN], [_SPAN, _SPAN], [{**_SPAN, "end": "2026-02-10"}, _SPAN], None],
    "modules": [[], [_SPAN], None], "addons": [[], [_SPAN], None],
}  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
#: ``cancellation``: both days of a cancellation set at once (each of ``_DATES``).
_FIELDS = sorted(codec._SUBSCRIPTION_KEYS | {"discounts", "trial", "zzz", "cancellation"})
_SPAN_FIELDS = sorted(codec._SPAN_KEYS | {"usage", "zzz"})
_DELETE = object()


@st.composite
def _edit(draw, data):
    """Set one field of ``data`` (or of one of its spans) to a value, or remove it."""
    spans = [(kind, index) for kind in ("plans", "modules", "addons")
             if type(data.get(kind)) is list for index in range(len(data[kind]))]  # fmt: skip
    if spans and draw(st.booleans()):
        kind, index = draw(st.sampled_from(spans))
        target, field = data[kind][index], draw(st.sampled_from(_SPAN_FIELDS))
        if type(target) is not dict:
            return
    else:
        target, field = data, draw(st.sampled_from(_FIELDS))
    if field == "cancellation":
        data["cancelled_on"], data["cancel_at"] = (
            draw(st.sampled_from(_DATES)),
            draw(st.sampled_from(_DATES)),
        )
        return
    near = st.sampled_from(_VALUES.get(field, [None]))
    value = draw(st.one_of(near, near, near, _JSON, st.just(_DELETE)))
    if value is _DELETE:
        target.pop(field, None)
    else:
        target[field] = json.loads(json.dumps(value))  # a copy: spans are not shared


@st.composite
def edited_rows(draw):
    """The data of a stored subscription after one or two edits of any field (or a span's).

    Mostly of the shape the trusted read takes (a varied catalog subscription, or any
    stored shape without its history of changes), so that the edits meet its checks.
    """
    sub = draw(st.one_of(varied_subscriptions(), varied_subscriptions(), every_stored_shape()))
    data = json.loads(codec.subscription_text(sub))["data"]
    if draw(st.booleans()):
        data.pop("history", None)  # a log of changes: the subscription reads without it
    for _ in range(draw(st.integers(1, 2))):
        draw(_edit(data))
    return data


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(edited_rows())
def test_a_restamped_row_reads_trusted_as_it_reads_checked_after_any_edit(data):
    trusted, checked = _both(data, key=str(data.get("id")))
    _same(trusted, checked)
    if not isinstance(checked, Subscription):
        assert trusted[0] is StoredDataError


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(edited_rows())
def test_a_row_the_trusted_read_takes_is_billed_or_refused_with_a_named_error(data):
    # What the trusted read gives the engine is a checked subscription's: billing it either
    # works or raises a SubbillError, never a raw error (F1's ValueError).
    read = _outcome(lambda: read_subscription(_stamped(data), table="subscriptions", key="S"))
    if isinstance(read, Subscription):
        try:
            plan = read.to_charge_plan(STORED_CATALOG)
            bill_subscription(plan, None, as_of=date(2026, 6, 1))
        except SubbillError:
            pass


def test_the_trusted_read_takes_every_edit_that_keeps_a_row_ordinary():
    # The cheap checks let the ordinary rows through: the trusted path is taken.
    sub = attrs.evolve(_subscription(), billing_day=31, quantity="2.5", payment_method="pm_1")
    data = json.loads(codec.subscription_text(sub))["data"]
    trusted = codec._trusted_subscription(data)
    assert trusted is not None
    same_fields(trusted, sub)

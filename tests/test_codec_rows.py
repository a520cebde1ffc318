"""The rows of the SQL stores' hot path: stamped subscriptions, hand-written codecs.

A subscription row the codec stamped is read back without its checks; any other (edited by
hand, damaged, older) is checked in full. The hand-written encoders and decoders of the hot
shapes give exactly what cattrs gives.
"""

import decimal
import json
import sqlite3
from datetime import date, timedelta
from unittest.mock import patch

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from subbill.billing import BillingState, bill_subscription
from subbill.catalog import Catalog, Plan
from subbill.errors import SubbillError
from subbill.money import Money
from subbill.periods import MONTHLY, Frequency
from subbill.storage import SQLiteStore, codec
from subbill.storage.codec import StoredDataError, dumps, loads, read_subscription
from subbill.subscriptions import Span, Subscription
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions
from tests.test_subscriptions import CATALOG, histories

START = date(2026, 3, 1)


def plain_subscription(**changes):
    """A subscription of one plan span (50.00 EUR) on billing day 1, with ``changes``."""
    plan = Span(code="pro", start=START, price=Money("50.00", "EUR"))
    plain = Subscription(
        id="S1", customer="C1", currency="EUR", start=START, billing_day=1, plans=[plan]
    )
    return attrs.evolve(plain, **changes)


def same_fields(read, expected):
    """Equal, and each field of the same type: nothing the checked read would normalise."""
    assert read == expected
    for field in attrs.fields(type(expected)):
        got, want = getattr(read, field.name), getattr(expected, field.name)
        assert type(got) is type(want), field.name
        if isinstance(want, tuple):
            for got_item, want_item in zip(got, want, strict=True):
                if attrs.has(type(want_item)):
                    same_fields(got_item, want_item)
                else:
                    assert type(got_item) is type(want_item)


def checked(text):
    """The checked read of a row's text: the stamp ignored."""
    document = json.loads(text)
    document.pop("stamp", None)
    return loads(json.dumps(document), Subscription)


@st.composite
def stored_subscriptions(draw):
    sub = draw(histories())
    changes = {}
    if draw(st.booleans()):
        changes["quantity"] = draw(st.sampled_from(["1", "3", "2.5", "0.000001", "1000000"]))
    if draw(st.booleans()):
        changes["payment_method"] = "pm_card_1"
    if draw(st.booleans()):
        changes["frequency"] = draw(st.sampled_from([MONTHLY, Frequency.parse("P3M")]))
    if draw(st.booleans()):
        changes["end"] = date(2031, 1, 1)
    if not changes:
        return sub
    try:
        return attrs.evolve(sub, **changes)
    except SubbillError:  # a combination the subscription refuses: keep it as is
        return sub


#: The fields of a subscription the trusted reader builds (any other: read checked).
TRUSTED_KEYS = set(codec._SUBSCRIPTION_KEYS)


def spans_of(data):
    return [span for kind in ("plans", "modules", "addons") for span in data.get(kind, ())]


@given(stored_subscriptions())
def test_a_stamped_row_reads_back_as_its_checked_read(sub):
    text = codec.subscription_text(sub)
    data = json.loads(text)["data"]
    if data.keys() <= TRUSTED_KEYS and all("usage" not in span for span in spans_of(data)):
        assert codec._trusted_subscription(data) is not None  # the trusted path, taken
    trusted = read_subscription(text, table="subscriptions", key=sub.id)
    same_fields(trusted, sub)
    same_fields(trusted, checked(text))
    assert trusted.to_charge_plan(CATALOG) == sub.to_charge_plan(CATALOG)


def test_a_stamped_row_is_the_document_with_a_stamp():
    sub = plain_subscription()
    text = codec.subscription_text(sub)
    document = json.loads(text)
    assert document["version"] == 5
    assert document["data"] == json.loads(dumps(sub))["data"]
    assert len(document["stamp"]) == 16
    # Canonical JSON: the text is what the codec writes for the whole document.
    assert text == json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_a_row_edited_by_hand_is_checked_again():
    # The end moved before the start, the stamp left as it was: the checked read refuses it.
    text = codec.subscription_text(plain_subscription(end=date(2027, 1, 1)))
    edited = text.replace('"end":"2027-01-01"', '"end":"2025-01-01"')
    assert edited != text
    with pytest.raises(StoredDataError, match=r"subscriptions row 'S1'.*end=2025-01-01"):
        read_subscription(edited, table="subscriptions", key="S1")


def test_a_valid_edit_is_read_checked_as_edited():
    text = codec.subscription_text(plain_subscription())
    edited = text.replace('"customer":"C1"', '"customer":""')
    # An empty customer, which the checked read refuses: the stamp no longer vouches.
    with pytest.raises(StoredDataError, match="subscriptions row 'S1'"):
        read_subscription(edited, table="subscriptions", key="S1")
    fine = text.replace('"customer":"C1"', '"customer":"C2"')
    assert read_subscription(fine, table="subscriptions", key="S1").customer == "C2"


def test_a_stamp_copied_from_another_row_vouches_for_nothing():
    one = codec.subscription_text(plain_subscription())
    other = codec.subscription_text(plain_subscription(customer="C2", end=date(2027, 1, 1)))
    stamp_of_one = json.loads(one)["stamp"]
    forged = other.replace(json.loads(other)["stamp"], stamp_of_one)
    forged = forged.replace('"end":"2027-01-01"', '"end":"2020-01-01"')
    with pytest.raises(StoredDataError, match="end=2020-01-01"):
        read_subscription(forged, table="subscriptions", key="S1")


def test_a_reformatted_stamped_row_still_reads_trusted_or_checked_alike():
    # PostgreSQL's jsonb gives a document back with blanks and its own key order.
    sub = plain_subscription()
    document = json.loads(codec.subscription_text(sub))
    spaced = json.dumps({"version": 5, "stamp": document["stamp"], "data": document["data"]})
    assert read_subscription(spaced, table="subscriptions", key="S1") == sub
    document["data"]["start"] = "2026-03-02"  # now before nothing, but the plan's start
    with pytest.raises(StoredDataError, match="first plan starts on 2026-03-01"):
        read_subscription(json.dumps(document), table="subscriptions", key="S1")


def test_older_documents_read_checked():
    sub = plain_subscription()
    assert read_subscription(dumps(sub), table="subscriptions", key="S1") == sub
    bad = dumps(sub).replace('"start":"2026-03-01"},"version"', '"start":"2026-02-01"},"version"')
    with pytest.raises(StoredDataError, match="subscriptions row 'S1'"):
        read_subscription(bad, table="subscriptions", key="S1")


def test_a_stored_row_edited_by_hand_fails_its_own_subscription(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_subscription(plain_subscription())
    store.save_subscription(plain_subscription(id="S2"))
    with sqlite3.connect(path) as connection:
        sql = "SELECT document FROM subscriptions WHERE id = 'S1'"
        (text,) = connection.execute(sql).fetchone()
        assert '"stamp":"' in text
        connection.execute(
            "UPDATE subscriptions SET document = ? WHERE id = 'S1'",
            (text.replace('"price":"50.00 EUR"', '"price":"50.00 XXX"'),),
        )
    rows, _ = store.billing_rows(None, limit=10)
    assert [row.subscription_id for row in rows] == ["S1", "S2"]
    assert isinstance(rows[0].error, StoredDataError)
    assert "XXX" in str(rows[0].error)
    assert rows[1].subscription == plain_subscription(id="S2")
    store.close()


def restamped(text, old, new):
    """``text`` edited (``old`` → ``new``) and stamped again, as a tool that knows the
    documented stamp would write it: the stamp matches, the data is not subbill's."""
    document = json.loads(text)
    data = json.dumps(document["data"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    data = data.replace(old, new)
    assert data != json.dumps(document["data"], sort_keys=True, separators=(",", ":"))
    return f'{{"data":{data},"stamp":"{codec._stamp(data)}","version":5}}'


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('"quantity":"3"', '"quantity":"x"', "x is not a number @ $.quantity"),
        ('"price":"50.00 EUR"', '"price":"x EUR"', "x"),
    ],
)
def test_a_stamped_row_whose_numbers_are_not_numbers_is_a_damaged_row(old, new, named):
    # Review: the trusted reader let decimal.InvalidOperation escape (a raw error that
    # stopped the whole run), and read "x" as NaN under a context that does not trap it.
    text = restamped(codec.subscription_text(plain_subscription(quantity=3)), old, new)
    with pytest.raises(StoredDataError, match=r"subscriptions row 'S1'") as raised:
        read_subscription(text, table="subscriptions", key="S1")
    assert named in str(raised.value)
    with decimal.localcontext() as caller:
        caller.traps[decimal.InvalidOperation] = False
        with pytest.raises(StoredDataError):
            read_subscription(text, table="subscriptions", key="S1")
        assert not caller.flags[decimal.InvalidOperation]  # the caller's context untouched


def test_a_restamped_row_that_is_no_number_fails_only_its_own_subscription(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_subscription(plain_subscription(quantity=3))
    store.save_subscription(plain_subscription(id="S2"))
    with sqlite3.connect(path) as connection:
        sql = "SELECT document FROM subscriptions WHERE id = 'S1'"
        (text,) = connection.execute(sql).fetchone()
        connection.execute(
            "UPDATE subscriptions SET document = ? WHERE id = 'S1'",
            (restamped(text, '"quantity":"3"', '"quantity":"x"'),),
        )
    rows, _ = store.billing_rows(None, limit=10)
    assert [row.subscription_id for row in rows] == ["S1", "S2"]
    assert isinstance(rows[0].error, StoredDataError)
    assert rows[1].subscription == plain_subscription(id="S2")
    store.close()


# -- the hand-written codecs of the hot shapes ------------------------------------------------


def billed_twice(plan, as_of, later):
    """The invoices (finalized) and states of billing ``plan`` on ``as_of``, then ``later``."""
    first = bill_subscription(plan, as_of=as_of)
    second = bill_subscription(plan, first.state, as_of=later)
    invoices = [
        result.invoice.finalize(number=f"F-{index}")
        for index, result in enumerate((first, second))
        if result.invoice is not None
    ]
    drafts = [r.invoice for r in (first, second) if r.invoice is not None]
    return [*invoices, *drafts], [first.state, second.state]


@st.composite
def untaxed_plans(draw):
    """The billing tests' plans; half of them without taxes nor discounts (the hot shape)."""
    plan = draw(billing_subscriptions(invoice_discounts=False))
    if draw(st.booleans()):
        charges = [attrs.evolve(c, tax_rates=(), discounts=()) for c in plan.charges]
        plan = attrs.evolve(plan, charges=charges)
    return plan


@given(untaxed_plans(), as_of_dates, st.integers(1, 400))
def test_fast_documents_equal_what_cattrs_writes(plan, as_of, days):
    invoices, states = billed_twice(plan, as_of, as_of + timedelta(days=days))
    for value in (*invoices, *states):
        expected = codec.CONVERTER.unstructure(value)
        fast = codec._TEXT_WRITERS[type(value)](value, ())
        event("hand-written" if fast is not None else "cattrs")
        if fast is not None:  # byte for byte the text of cattrs' document
            assert fast == codec.document_text({"data": expected, "version": 4})
        assert dumps(value) == codec.document_text({"data": expected, "version": 4})
        assert loads(dumps(value), type(value)) == value


@given(untaxed_plans(), as_of_dates, st.integers(1, 400))
def test_fast_state_read_equals_what_cattrs_reads(plan, as_of, days):
    _, states = billed_twice(plan, as_of, as_of + timedelta(days=days))
    for state in states:
        data = json.loads(dumps(state))["data"]
        fast = codec._fast_state_read(data)
        if fast is not None:
            assert fast == codec.CONVERTER.structure(data, BillingState)
            assert fast.billed_through == state.billed_through
            assert fast.terms == state.terms


def silver_invoice_and_state():
    sub = plain_subscription(
        start=date(2025, 1, 15),
        plans=[Span(code="pro", start=date(2025, 1, 15), price=Money("50.00", "EUR"))],
    )
    catalog = Catalog(
        currency="EUR",
        plans=[Plan(code="pro", name="Pro", rank=1, prices={MONTHLY: Money("50.00", "EUR")})],
    )
    result = bill_subscription(sub.to_charge_plan(catalog), as_of=date(2025, 1, 15))
    return result.invoice.finalize(number="F-1"), result.state


def test_the_silver_shapes_are_written_and_read_by_hand():
    invoice, state = silver_invoice_and_state()
    for value, fast in ((invoice, codec._invoice_text), (state, codec._state_text)):
        written = fast(value, ())
        assert written is not None  # the hand-written path, taken
        expected = codec.CONVERTER.unstructure(value)
        assert written == codec.document_text({"data": expected, "version": 4})
    data = json.loads(dumps(state))["data"]
    assert codec._fast_state_read(data) == state


@pytest.mark.parametrize(
    "data",
    [
        {"billed_through": [["pro@2025-01-15", "2025-13-01"]]},
        {"billed_through": [["pro@2025-01-15", 20250201]]},
        {"billed_through": [["pro@2025-01-15"]]},
        {"terms": [["pro@2025-01-15", 7]]},  # cattrs reads a digest 7 as "7": so does this
        {"billed_through": "pro"},
        {"billed_through": [], "extra": 1},
    ],
)
def test_a_damaged_state_is_named_as_cattrs_names_it(data):
    text = json.dumps({"version": 4, "data": data})

    def read():
        try:
            return loads(text, BillingState, table="billing_states", key="S1")
        except StoredDataError as error:
            return str(error)

    fast = read()
    with patch.object(codec, "_fast_state_read", lambda _data: None):
        assert fast == read()  # what cattrs alone reads, or the error it names
    if isinstance(fast, str):
        assert "billing_states row 'S1'" in fast

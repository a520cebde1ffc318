"""The persisted run, third pass: reading (issue 13): fewer steps, nothing shared.

Each step the read side now skips is proven equal to the path it replaces, error for error:
a billing state's row read without :func:`~subbill.storage.codec.loads`' generic steps, a
stamped subscription's data parsed where it stands in its row, a subscription's end found
without a list.
"""

import json
from datetime import date

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.errors import SubbillError
from subbill.storage import codec
from subbill.storage.codec import StoredDataError, loads, read_billing_state, read_subscription
from subbill.subscriptions import Subscription
from tests.test_codec_rows import CATALOG, checked, plain_subscription, stored_subscriptions
from tests.test_persisted_run_rows import state_documents
from tests.test_subscriptions import histories
from tests.test_trials import trial_subscriptions
from tests.test_usage_billing import CATALOG_DATA as USAGE_CATALOG_DATA


def _outcome(read):
    """What a read gives: the value, or the class and message of the error it raises."""
    try:
        return read()
    except SubbillError as error:
        return (type(error), str(error))


def _state_field_types(state):
    return [
        (type(getattr(state, field.name)), [type(part) for pair in value for part in pair])
        if isinstance(value := getattr(state, field.name), tuple)
        else type(value)
        for field in attrs.fields(BillingState)
    ]


# -- a billing state's row read in fewer steps ------------------------------------------------

#: How a row's text may differ from the codec's: another version, blanks, another key,
#: something after the document, text that is not JSON at all.
_STATE_TEXTS = st.sampled_from(
    [
        lambda d: json.dumps({"version": 4, "data": d}),
        lambda d: codec.document_text({"version": 4, "data": d}),
        lambda d: " " + codec.document_text({"version": 4, "data": d}) + "\n",
        lambda d: codec.document_text({"version": 4, "data": d}) + " 1",
        lambda d: codec.document_text({"version": 3, "data": d}),
        lambda d: codec.document_text({"version": 5, "data": d}),
        lambda d: codec.document_text({"version": True, "data": d}),
        lambda d: codec.document_text({"version": 4.0, "data": d}),
        lambda d: codec.document_text({"version": "4", "data": d}),
        lambda d: codec.document_text({"version": 4, "data": d, "stamp": "x"}),
        lambda d: codec.document_text({"version": 4}),
        lambda d: codec.document_text({"version": 4, "data": [d]}),
        lambda d: codec.document_text([4, d]),
        lambda d: codec.document_text({"version": 4, "data": d})[:-1],
        lambda d: "[" * 100_000,
        lambda _d: "",
    ]
)


@given(state_documents(), _STATE_TEXTS)
def test_a_state_row_read_in_fewer_steps_is_what_loads_reads(data, written):
    text = written(data)
    fast = _outcome(lambda: read_billing_state(text, table="billing_states", key="S1"))
    want = _outcome(lambda: loads(text, BillingState, table="billing_states", key="S1"))
    assert fast == want
    if isinstance(want, BillingState):
        assert _state_field_types(fast) == _state_field_types(want)
    else:
        assert want[0] is StoredDataError


def test_the_silver_state_row_is_read_in_fewer_steps():
    text = (
        '{"data":{"billed_through":[["monthly-50@2025-01-15","2025-02-01"]],'
        '"terms":[["monthly-50@2025-01-15","v1:82702012c477c69b"]]},"version":4}'
    )
    state = read_billing_state(text, table="billing_states", key="S1")
    assert state.billed_through == (("monthly-50@2025-01-15", date(2025, 2, 1)),)
    assert state.terms == (("monthly-50@2025-01-15", "v1:82702012c477c69b"),)
    assert state == loads(text, BillingState, table="billing_states", key="S1")


# -- a stamped row's data parsed where it stands ----------------------------------------------


def _restamped(data_text):
    """A row stamped over ``data_text`` as written: what the codec vouches for, or not."""
    return (
        f"{codec._STAMP_HEAD}{data_text}{codec._STAMP_MID}{codec._stamp(data_text)}"
        f"{codec._STAMP_END}"
    )


_DATA_TEXTS = st.sampled_from(
    [
        lambda t: t,  # as the codec writes it
        lambda t: f" {t}",  # blanks around the data: read checked now
        lambda t: f"{t} ",
        lambda t: f"{t}\n",
        lambda t: f"{t},1",  # more than one value where the data stands
        lambda t: f"{t}}}",
        lambda t: t[:-1],  # cut short
        lambda t: f"[{t}]",  # data that is no object
    ]
)


@given(stored_subscriptions(), _DATA_TEXTS)
def test_a_stamped_row_parsed_where_its_data_stands_reads_as_its_checked_read(sub, written):
    data_text = codec.document_text(json.loads(codec.subscription_text(sub))["data"])
    text = _restamped(written(data_text))
    read = _outcome(lambda: read_subscription(text, table="subscriptions", key=sub.id))
    want = _outcome(lambda: loads(text, Subscription, table="subscriptions", key=sub.id))
    assert read == want
    if isinstance(want, Subscription):
        assert read == sub
        assert read.to_charge_plan(CATALOG) == sub.to_charge_plan(CATALOG)


def test_a_stamped_row_of_the_codec_is_read_trusted_where_its_data_stands():
    sub = plain_subscription()
    text = codec.subscription_text(sub)
    assert codec._stamped_data(text) == json.loads(text)["data"]
    assert read_subscription(text, table="subscriptions", key="S1") == checked(text) == sub
    # The same data after a blank: its stamp matches, yet it is not where the codec puts it.
    spaced = _restamped(" " + codec.document_text(json.loads(text)["data"]))
    assert codec._stamped_data(spaced) is None
    assert read_subscription(spaced, table="subscriptions", key="S1") == sub


# -- a subscription's end ---------------------------------------------------------------------


def _earliest_end(sub):
    """The end as it was found before: the earliest of the end, cancellation and lapse."""
    ends = [day for day in (sub.end, sub.cancel_at, sub._trial_lapse) if day is not None]
    return min(ends) if ends else None


@given(histories())
def test_a_subscription_ends_on_the_earliest_of_its_end_and_cancellation(sub):
    assert sub.ends_on == _earliest_end(sub)


@given(trial_subscriptions(), st.sampled_from([None, date(2026, 6, 30), date(2030, 1, 1)]))
def test_a_trial_subscription_ends_on_the_earliest_of_its_end_and_its_trials_lapse(case, end):
    sub, _ = case
    if end is not None and end > sub.start:
        sub = attrs.evolve(sub, end=end)
    assert sub.ends_on == _earliest_end(sub)


# -- a catalog says once whether a plan has usage charges --------------------------------------


def test_a_catalog_has_usage_when_one_of_its_plans_has_usage_charges():
    with_usage = Catalog.from_mapping(USAGE_CATALOG_DATA)
    without = Catalog.from_mapping(
        {**USAGE_CATALOG_DATA, "plans": [USAGE_CATALOG_DATA["plans"][1]]}
    )
    assert with_usage.has_usage is True
    assert without.has_usage is False
    assert CATALOG.has_usage is any(plan.usage for plan in CATALOG.plans)
    # A subscription of a plan without usage, in a catalog where another plan has some,
    # schedules none; one of the plan with usage schedules its charge.
    sub = Subscription.create(
        id="S1", customer="C", catalog=with_usage, plan="max", start=date(2026, 3, 1)
    )
    assert sub.usage_charges(with_usage) == ()
    pro = Subscription.create(
        id="S2", customer="C", catalog=with_usage, plan="pro", start=date(2026, 3, 1)
    )
    assert [usage.charge.code for usage in pro.usage_charges(with_usage)] == ["api"]


# -- the review of this pass ----------------------------------------------------------------


def test_a_state_row_given_as_bytes_is_read_as_loads_reads_it():
    # read_billing_state raised a raw TypeError on bytes, where loads reads them.
    text = '{"data":{"billed_through":[["pro@2026-03-01","2026-04-01"]]},"version":4}'
    for raw in (text.encode(), bytearray(text.encode())):
        state = read_billing_state(raw, table="billing_states", key="S1")
        assert state == loads(raw, BillingState, table="billing_states", key="S1")
        assert state.billed_through == (("pro@2026-03-01", date(2026, 4, 1)),)


def test_usage_charges_of_something_that_is_no_catalog_is_a_typed_error():
    # A raw AttributeError before (found by the review of this pass; older than it).
    sub = plain_subscription()
    for catalog in ("x", 5):
        with pytest.raises(SubbillError, match="catalog"):
            sub.usage_charges(catalog)

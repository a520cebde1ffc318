"""The persisted run's rows, second pass (issue 13): states read and invoices written by hand.

A billing state of the hot shape is read with its constructor's checks made inline: the
same state as the constructor builds, or none (then cattrs reads it and names the error).
"""

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import BillingState, bill_subscription
from subbill.errors import SubbillError
from subbill.invoices import Invoice
from subbill.storage import codec
from subbill.taxes import TaxRate

_KEYS = st.sampled_from(["pro@2025-01-15", "a", "b@2026-03-01", "", "é"])
_DAYS = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["2025-02-30", "2025-13-01", "20250201", "x", "2025-02-01T00:00"]),
)
_PAIR_ITEMS = st.one_of(
    st.lists(st.one_of(_KEYS, _DAYS), min_size=2, max_size=2),
    st.lists(st.one_of(_KEYS, st.integers()), min_size=1, max_size=3),
)


@st.composite
def state_documents(draw):
    """The data of a stored billing state: mostly the hot shape, sometimes damaged."""
    data = {}
    if draw(st.booleans()):
        data["billed_through"] = draw(
            st.lists(st.tuples(_KEYS, _DAYS).map(list) | _PAIR_ITEMS, max_size=4)
        )
    if draw(st.booleans()):
        data["terms"] = draw(
            st.lists(st.tuples(_KEYS, st.text(max_size=8)).map(list) | _PAIR_ITEMS, max_size=4)
        )
    if draw(st.integers(0, 9)) == 0:
        data["one_time_billed"] = ["setup"]
    return data


def _checked(data):
    """The state cattrs and the checked constructor read, or ``None`` if they refuse it."""
    try:
        return codec.CONVERTER.structure(json.loads(json.dumps(data)), BillingState)
    except (Exception, SubbillError):  # any refusal (cattrs groups them)
        return None


@given(state_documents())
def test_a_state_read_by_hand_is_the_checked_constructors(data):
    fast = codec._fast_state_read(json.loads(json.dumps(data)))
    if fast is None:
        return  # read by cattrs, as before
    checked = _checked(data)
    assert checked is not None, "read by hand a state the constructor refuses"
    assert fast == checked
    for name in ("billed_through", "one_time_billed", "credit_balance", "terms", "usage_billed"):
        assert type(getattr(fast, name)) is type(getattr(checked, name)), name
    for (key, day), (want_key, want_day) in zip(
        fast.billed_through, checked.billed_through, strict=True
    ):
        assert (type(key), type(day)) == (type(want_key), type(want_day))
        assert (key, day) == (want_key, want_day)


def test_a_state_out_of_the_computed_bounds_is_left_to_the_checked_read():
    data = {"billed_through": [["pro@2025-01-15", "1700-01-01"]]}
    assert codec._fast_state_read(data) is None
    assert _checked(data) is None


def test_the_pairs_of_a_state_read_by_hand_are_sorted():
    data = {
        "billed_through": [["b", "2025-02-01"], ["a", "2025-03-01"]],
        "terms": [["b", "2"], ["a", "1"]],
    }
    state = codec._fast_state_read(data)
    assert state is not None
    assert state.billed_through == (("a", date(2025, 3, 1)), ("b", date(2025, 2, 1)))
    assert state.terms == (("a", "1"), ("b", "2"))
    assert state == BillingState(billed_through=state.billed_through, terms=state.terms)


def _mix_invoices(count):
    """The persisted mix's invoices (taxed lines, TVA 20 %, a volume discount on some)."""
    from benchmarks.workloads import mix_subscriptions  # noqa: PLC0415  (bench inputs)

    for sub in mix_subscriptions(count):
        result = bill_subscription(sub.to_charge_plan(None), as_of=date(2026, 6, 1))
        if result.invoice is not None:
            yield result.invoice.finalize(number="F-2026-000001")


def test_the_taxed_invoices_of_the_mix_are_written_by_hand_as_cattrs_writes_them():
    by_hand = 0
    for invoice in _mix_invoices(40):
        written = codec._invoice_text(invoice, ())
        expected = codec.CONVERTER.unstructure(invoice)
        if written is None:
            assert invoice.discounts  # only a discounted invoice goes to cattrs
            continue
        by_hand += 1
        assert invoice.taxes
        assert written == codec.document_text({"data": expected, "version": 4})
        assert codec.loads(codec.dumps(invoice), Invoice) == invoice
    assert by_hand >= 20


def test_a_rate_text_is_its_own_rates():
    rate = TaxRate(name="TVA 20 %", percent="20")
    assert codec._rate_text(rate) == '{"name":"TVA 20 %","percent":"20"}'
    assert codec._rate_text(rate) == codec.document_text(codec.CONVERTER.unstructure(rate))
    # A rate equal in value but written otherwise has its own text.
    assert codec._rate_text(TaxRate(name="TVA 20 %", percent="20.0")) == (
        '{"name":"TVA 20 %","percent":"20.0"}'
    )


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=6), _JSON, max_size=5))
def test_the_document_text_is_what_json_dumps_writes(document):
    expected = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert codec.document_text(document) == expected

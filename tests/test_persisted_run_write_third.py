"""The persisted run's write side, third pass (issue 13): a billed page to its rows.

A bill run numbers the engine's drafts where they stand (they are its own), writes each
invoice's row from a template of its usual shape, and hands the store rows it built from
values the engine made (the public ``add_invoices`` and ``save_billing_states`` keep every
check). Each is proven equal to the general path it stands in for.
"""

from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from benchmarks.workloads import silver_catalog, silver_subscriptions
from hypothesis import assume, given
from hypothesis import strategies as st

from subbill.billing import BillingState, bill_subscription
from subbill.errors import SubbillError
from subbill.invoices import Invoice, InvoiceStatus
from subbill.money import DECIMAL_CONTEXT, Money
from subbill.periods import Period
from subbill.storage import _arguments, codec
from subbill.storage._arguments import check_states
from subbill.storage.codec import loads
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions
from tests.test_persisted_run_write import (
    _COLUMN_SETS,
    _cattrs_text,
    _declined,
    _invoices_of_every_shape,
)

_TOTALS = ("subtotal", "discount_total", "net", "tax", "total", "amount_paid", "credited")


def _drafts(plan, as_of, days):
    """The engine's drafts of two runs of ``plan`` (invoices, and credit notes after an end)."""
    first = bill_subscription(plan, as_of=as_of)
    second = bill_subscription(plan, first.state, as_of=as_of + timedelta(days=days))
    return [result.invoice for result in (first, second)]


def _same_invoice(got: Invoice, want: Invoice) -> None:
    for field in attrs.fields(Invoice):
        assert getattr(got, field.name) == getattr(want, field.name), field.name
    for name in _TOTALS:
        a, b = getattr(got, name), getattr(want, name)
        assert (str(a.amount), a.currency) == (str(b.amount), b.currency), name
    assert str(got.amount_due.amount) == str(want.amount_due.amount)
    assert got == want


@given(billing_subscriptions(), as_of_dates, st.integers(1, 400))
def test_a_draft_finalized_in_place_is_the_invoice_finalize_gives(plan, as_of, days):
    copies = _drafts(plan, as_of, days)
    owned = _drafts(plan, as_of, days)  # the same drafts, billed again: the run's own
    assume(any(draft is not None for draft in copies))
    for index, (copy, own) in enumerate(zip(copies, owned, strict=True)):
        if copy is None:
            continue
        number = f"F-2026-{index:06d}"
        want = copy.finalize(number=number)
        got = own._finalize_own_draft(number)
        assert got is own  # numbered where it stands: nothing copied
        _same_invoice(got, want)
        assert got.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID)


@pytest.mark.parametrize("number", ["", "F-1\nF-2", 7, None])
def test_a_draft_finalized_in_place_refuses_a_bad_number_and_stays_a_draft(number):
    draft = _drafts(_silver_plan(), date(2026, 1, 15), 17)[0]
    with pytest.raises(SubbillError) as refused:
        draft.finalize(number=number)
    with pytest.raises(type(refused.value), match=str(refused.value).split("=")[0]):
        draft._finalize_own_draft(number)
    assert (draft.status, draft.number) == (InvoiceStatus.DRAFT, None)  # nothing half-set


def test_a_numbered_invoice_is_not_finalized_again_in_place():
    draft = _drafts(_silver_plan(), date(2026, 1, 15), 17)[0]
    issued = draft.finalize(number="F-1")
    with pytest.raises(SubbillError, match="only a draft is finalised"):
        issued._finalize_own_draft("F-2")
    assert issued.number == "F-1"


def _silver_plan():
    catalog = silver_catalog()
    return next(silver_subscriptions(1, catalog)).to_charge_plan(catalog)


# -- the invoice's text --------------------------------------------------------------------------


def _line_variant(line, how):
    """``line`` with its discount, base or cycle given as another object of the same value,
    or a value of other digits (the shapes the writer's shortcuts must tell apart)."""
    currency = line.amount.currency
    amount = line.amount.amount
    if how == "zero discount, two places":
        return attrs.evolve(line, discount=Money("0.00", currency))
    if how == "zero discount, another object":
        return attrs.evolve(line, discount=Money(Decimal(0), currency))
    if how == "base, the amount's own":
        return attrs.evolve(line, base=line.amount)
    if how == "base, the amount with more places":
        return attrs.evolve(
            line, base=Money(DECIMAL_CONTEXT.add(amount, Decimal("0.000")), currency)
        )
    if how == "cycle, an equal period" and line.period is not None:
        why = attrs.evolve(line.explanation, cycle=Period(line.period.start, line.period.end))
        return attrs.evolve(line, explanation=why)
    return line


_VARIANTS = st.sampled_from(
    [
        "as billed",
        "zero discount, two places",
        "zero discount, another object",
        "base, the amount's own",
        "base, the amount with more places",
        "cycle, an equal period",
    ]
)


@given(billing_subscriptions(), as_of_dates, st.integers(1, 400), _COLUMN_SETS, _VARIANTS)
def test_an_invoice_row_text_is_the_general_writers_for_every_line_shape(
    plan, as_of, days, columns, how
):
    for invoice in _invoices_of_every_shape(plan, as_of, days):
        try:
            lines = tuple(_line_variant(line, how) for line in invoice.lines)
            varied = attrs.evolve(invoice, lines=lines)
        except SubbillError:
            continue  # a variant the constructor refuses is never written
        fast = codec._invoice_text(varied, columns)
        assert (fast is None) is _declined(varied)
        if fast is not None:
            assert fast == _cattrs_text(varied, columns)
            if not columns:
                assert loads(fast, Invoice) == varied


# -- the states' checks ----------------------------------------------------------------------------

_STATE_KEYS = st.one_of(
    st.text(max_size=6),  # blank, control characters, bidirectional marks, lone surrogates
    st.sampled_from(["S1", " ", "S\u202e1", "S\ud8001", "S\n1"]),
    st.integers(0, 3),
    st.none(),
)
_STATE_ITEMS = st.one_of(
    st.tuples(_STATE_KEYS, st.sampled_from([BillingState(), "state", None])),
    st.tuples(_STATE_KEYS),
    st.tuples(_STATE_KEYS, st.just(BillingState()), st.just(BillingState())),
)


def _outcome(check, states):
    try:
        return check(states)
    except SubbillError as error:
        return (type(error), str(error))


@given(st.lists(_STATE_ITEMS, max_size=6))
def test_states_checked_at_once_are_checked_as_one_by_one(states):
    # The states' keys are searched for controls at once: the same pairs, or the same first
    # refusal (type and message), as checking each pair in turn.
    items = tuple(states)
    assert _outcome(check_states, states) == _outcome(_arguments._states_one_by_one, items)

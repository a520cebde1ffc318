"""The persisted run's write side, fourth pass (issue 13): each fast path is the general one.

A page is billed in one pass (``_bill_page``), decided in one pass (``_writes_of``) and, when
nothing moved and nothing settles an invoice, written at once; its drafts are numbered at
once (``Invoice._finalize_own_drafts``, the numbers checked together); a run's tally counts a
page at once; a line of the usual shape is written from one template. Each is proven equal
to the general path it stands in for: the same values, or the same error.
"""

import contextlib
from datetime import date, timedelta

import attrs
import pytest
from benchmarks.workloads import silver_subscriptions
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from subbill import service
from subbill._validate import check_line, lines_pass
from subbill.billing import BillingState, bill_subscription
from subbill.errors import InvalidStateError, SubbillError
from subbill.invoices import DocumentKind, Invoice, InvoiceStatus, LineKind
from subbill.money import Money
from subbill.periods import Period
from subbill.proration import ProrationBasis
from subbill.service import BillingFailure, _Tally, replace_subscription, run_billing
from subbill.storage import MemoryStore, codec
from subbill.storage._sql import INVOICE_COLUMNS, invoice_text
from subbill.storage.errors import StoredDataError
from subbill.storage.protocols import BillingRow
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions
from tests.test_persisted_run_write import _cattrs_text, _declined, _invoices_of_every_shape
from tests.test_persisted_run_write_third import _drafts, _same_invoice, _silver_plan
from tests.test_subscriptions import CATALOG as SUBSCRIPTION_CATALOG
from tests.test_subscriptions import histories

# -- the usual line, in one template ------------------------------------------------------------


@pytest.mark.parametrize("enum", [LineKind, ProrationBasis])
def test_every_value_the_line_template_writes_as_it_stands_is_its_own_json_text(enum):
    # The template writes a line's kind and its explanation's basis without escaping them.
    for member in enum:
        assert codec._json_text(member.value) == f'"{member.value}"'


def _explained_by_copies(line, how):
    """``line`` whose explanation holds another object of the same value where the template
    requires the line's own (its shortcut must then decline, the text unchanged)."""
    why = line.explanation
    if how == "unit price":
        copy = Money(why.unit_price.amount, why.unit_price.currency)
        return attrs.evolve(line, explanation=attrs.evolve(why, unit_price=copy))
    if how == "quantity":
        return attrs.evolve(line, explanation=attrs.evolve(why, quantity=+why.quantity))
    if how == "period" and why.period is not None:
        copy = Period(why.period.start, why.period.end)
        return attrs.evolve(line, explanation=attrs.evolve(why, period=copy))
    if how == "base, an equal copy":
        return attrs.evolve(line, base=Money(line.base.amount, line.base.currency))
    if how == "cycle, earlier" and why.cycle is not None:
        cycle = Period(why.cycle.start - timedelta(days=1), why.cycle.end)
        return attrs.evolve(line, explanation=attrs.evolve(why, cycle=cycle))
    return line


def _with_copies(invoice, how):
    """``invoice`` whose lines are ``_explained_by_copies``, or ``None`` if that is refused."""
    with contextlib.suppress(SubbillError):
        return attrs.evolve(
            invoice, lines=tuple(_explained_by_copies(x, how) for x in invoice.lines)
        )
    return None


_COPIES = st.sampled_from(
    [
        "as billed",
        "unit price",
        "quantity",
        "period",
        "base, an equal copy",
        "cycle, another period",
    ]
)


@given(billing_subscriptions(), as_of_dates, st.integers(1, 400), _COPIES)
def test_an_invoice_row_text_from_the_usual_line_template_is_the_general_writers(
    plan, as_of, days, how
):
    every = (_with_copies(invoice, how) for invoice in _invoices_of_every_shape(plan, as_of, days))
    for varied in filter(None, every):  # a variant the constructor refuses is never written
        assert (codec._invoice_text(varied, INVOICE_COLUMNS) is None) is _declined(varied)
        assert invoice_text(varied) == _cattrs_text(varied, INVOICE_COLUMNS)
        assert codec.invoice_row_text(varied, ()) == _cattrs_text(varied)


@given(billing_subscriptions(), as_of_dates, st.integers(1, 400))
def test_a_state_row_text_is_the_general_writers(plan, as_of, days):
    first = bill_subscription(plan, as_of=as_of)
    second = bill_subscription(plan, first.state, as_of=as_of + timedelta(days=days))
    for state in (first.state, second.state, BillingState()):
        assert codec.state_row_text(state) == _cattrs_text(state) == codec.dumps(state)


def test_a_one_charge_state_whose_terms_name_another_key_writes_that_key():
    state = BillingState(billed_through=[("a@2026", date(2026, 3, 1))], terms=[("b", "v1:0")])
    assert codec.state_row_text(state) == _cattrs_text(state)
    assert '"terms":[["b","v1:0"]]' in codec.state_row_text(state)


# -- numbering a page's drafts at once ------------------------------------------------------------

_NUMBERS = st.one_of(
    st.sampled_from(["F-2026-000001", "F-2026-000002", "F-\u00e92026-3", "A" * 40]),
    st.text(max_size=6),  # blank, controls, bidirectional marks, lone surrogates, other text
    st.sampled_from(["", " ", "F-1\n", "F\x7f1", "F\u202e1", "F\ud8001", 7, None]),
)


def _outcome(call):
    try:
        return call()
    except SubbillError as error:
        return (type(error), str(error))


@given(st.lists(_NUMBERS, max_size=5))
def test_numbers_checked_at_once_pass_exactly_when_each_passes(numbers):
    assert lines_pass(numbers) is all(
        not isinstance(_outcome(lambda n=n: check_line("number", n)), tuple) for n in numbers
    )


@given(billing_subscriptions(), as_of_dates, st.integers(1, 400), st.lists(_NUMBERS, max_size=3))
def test_drafts_finalized_at_once_are_finalized_one_by_one(plan, as_of, days, bad):
    copies = [d for d in _drafts(plan, as_of, days) if d is not None]
    owned = [d for d in _drafts(plan, as_of, days) if d is not None]
    assume(copies)
    numbers = [f"F-2026-{index:06d}" for index in range(len(copies))]
    numbers = (bad + numbers)[: len(copies)]  # bad numbers first, when drawn
    one_by_one = _outcome(
        lambda: [d._finalize_own_draft(n) for d, n in zip(copies, numbers, strict=True)]
    )
    at_once = _outcome(lambda: Invoice._finalize_own_drafts(owned, numbers))
    if isinstance(one_by_one, tuple):  # the same first refusal, the same drafts numbered
        assert at_once == one_by_one
        for copy, own in zip(copies, owned, strict=True):
            assert (own.number, own.status) == (copy.number, copy.status)
        return
    assert [got is own for got, own in zip(at_once, owned, strict=True)] == [True] * len(owned)
    for got, want in zip(at_once, one_by_one, strict=True):
        _same_invoice(got, want)


def test_drafts_of_another_shape_are_finalized_as_finalize_finalizes_them():
    draft = _drafts(_silver_plan(), date(2026, 1, 15), 17)[0]
    issued = draft.finalize(number="F-1")
    with pytest.raises(SubbillError, match="only a draft is finalised"):
        Invoice._finalize_own_drafts([issued], ["F-2"])
    paid = attrs.evolve(draft, credit_applied=draft.total)  # customer credit pays it all
    (numbered,) = Invoice._finalize_own_drafts([paid], ["F-3"])
    _same_invoice(numbered, attrs.evolve(draft, credit_applied=draft.total).finalize(number="F-3"))
    assert numbered.status is InvoiceStatus.PAID


# -- the page's loop -------------------------------------------------------------------------------


def _rows(plan_subscriptions, shapes):
    """Rows of a page in every shape ``_bill_page`` tells apart, with usage to match."""
    rows, usage = [], {}
    for index, (subscription, shape) in enumerate(zip(plan_subscriptions, shapes, strict=False)):
        key = f"S{index}"
        if shape == "damaged":
            error = StoredDataError("bad", table="subscriptions", key=key)
            rows.append(BillingRow(key, None, None, error, None))
        elif shape == "no subscription":
            rows.append(BillingRow(key, None, None, None, None))
        elif shape == "damaged usage":
            rows.append(BillingRow(key, subscription, None, None, 1))
            usage[key] = StoredDataError("bad", table="usage_records", key=key)
        else:
            rows.append(BillingRow(key, subscription, None, None, 1))
            if shape == "records":
                usage[key] = []
    return rows, usage


def _general(catalog, row, as_of, usage):
    """The row's outcome as the run billed it before (``_bill_row`` then ``_billed``)."""
    if row.error is not None:
        return BillingFailure(subscription=row.subscription_id, error=row.error)
    if row.subscription is None:
        error = StoredDataError("no subscription", table="subscriptions", key=row.subscription_id)
        return BillingFailure(subscription=row.subscription_id, error=error)
    records = usage.get(row.subscription_id, [])
    if isinstance(records, StoredDataError):
        return BillingFailure(subscription=row.subscription_id, error=records)
    return service._billed(
        catalog, row.subscription_id, row.subscription, row.state, as_of, usage=records
    )


_SHAPES = st.lists(
    st.sampled_from(["billed", "records", "damaged", "no subscription", "damaged usage"]),
    min_size=1,
    max_size=4,
)


@settings(max_examples=40)
@given(st.lists(histories(), min_size=1, max_size=4), _SHAPES, st.integers(0, 400), st.booleans())
def test_a_page_billed_in_one_pass_is_each_row_billed_alone(subscriptions, shapes, offset, bare):
    catalog = None if bare else SUBSCRIPTION_CATALOG  # no catalog: a plan is refused
    rows, usage = _rows(subscriptions, shapes)
    as_of = date(2026, 3, 1) + timedelta(days=offset)
    page = service._bill_page(catalog, rows, as_of, usage)
    assert [row for row, _ in page] == rows
    for (row, got), want in zip(
        page, [_general(catalog, row, as_of, usage) for row in rows], strict=True
    ):
        if isinstance(want, BillingFailure):
            assert (type(got.error), str(got.error)) == (type(want.error), str(want.error))
            assert got.subscription == want.subscription == row.subscription_id
        else:
            assert got == want


def test_a_plan_billed_from_a_store_without_catalog_fails_its_own_row():
    rows = [BillingRow("S0", attrs.evolve(_silver_subscription(), id="S0"), None, None, 1)]
    ((_, outcome),) = service._bill_page(None, rows, date(2025, 2, 1), {})
    assert isinstance(outcome.error, InvalidStateError)
    assert "has a plan but the store has no catalog" in str(outcome.error)


def _silver_subscription():
    return next(silver_subscriptions(1))


def _stored(subscriptions):
    store = MemoryStore()
    store.save_catalog(SUBSCRIPTION_CATALOG)
    for index, subscription in enumerate(subscriptions):
        replace_subscription(store, attrs.evolve(subscription, id=f"S{index}"))
    return store


@settings(max_examples=40)
@given(
    st.lists(histories(), min_size=1, max_size=4),
    st.lists(st.integers(0, 400), min_size=1, max_size=3).map(sorted),
    st.integers(1, 3),
)
def test_a_page_written_at_once_is_the_page_written_row_by_row(subscriptions, offsets, batch):
    # The at-once path (nothing moved, nothing settles) against the row-by-row path it
    # stands in for (forced: every page decided as if a draft settled an invoice).
    at_once, row_by_row = _stored(subscriptions), _stored(subscriptions)
    decide = service._writes_of

    def as_settling(billed):
        return decide(billed)._replace(settles=True)

    for offset in offsets:
        day = date(2026, 3, 1) + timedelta(days=offset)
        want_report = _with(service, "_writes_of", as_settling, run_billing, row_by_row, day, batch)
        got_report = run_billing(at_once, as_of=day, batch_size=batch)
        assert _report(got_report) == _report(want_report)
    assert at_once.invoices() == row_by_row.invoices()
    for index in range(len(subscriptions)):
        key = f"S{index}"
        assert at_once.get_billing_state(key) == row_by_row.get_billing_state(key)


def _with(module, name, value, run, store, day, batch):
    kept = getattr(module, name)
    setattr(module, name, value)
    try:
        return run(store, as_of=day, batch_size=batch)
    finally:
        setattr(module, name, kept)


def _report(report):
    failures = [(f.subscription, type(f.error), str(f.error)) for f in report.failures]
    totals = {
        currency: (str(money.amount), money.currency) for currency, money in report.total.items()
    }
    return (attrs.evolve(report, failures=(), total={}), failures, totals)


# -- the run's tally -------------------------------------------------------------------------------


def _numbered(plan, as_of, days):
    issued = []
    for index, draft in enumerate(_drafts(plan, as_of, days)):
        if draft is not None:
            issued.append(draft)
            issued.append(draft.finalize(number=f"F-2026-{index:06d}"))
    return issued


@given(
    st.lists(st.tuples(billing_subscriptions(), as_of_dates, st.integers(1, 400)), max_size=3),
    st.lists(st.sampled_from(["invoice", "none", "failure"]), max_size=8),
)
def test_a_page_counted_at_once_is_counted_one_by_one(plans, picks):
    invoices = [invoice for plan in plans for invoice in _numbered(*plan)]
    failure = BillingFailure(subscription="S9", error=InvalidStateError("refused"))
    outcomes = []
    for pick in picks:
        if pick == "invoice" and invoices:
            outcomes.append(("S", invoices.pop()))
        else:
            outcomes.append(("S", failure if pick == "failure" else None))
    outcomes += [("S", invoice) for invoice in invoices]
    at_once = _Tally()
    at_once.add_page(outcomes[:3])
    at_once.add_page(outcomes[3:])
    report = at_once.report(date(2026, 3, 1))
    numbered = [o for _, o in outcomes if isinstance(o, Invoice) and o.number is not None]
    totals: dict[str, Money] = {}
    for invoice in numbered:  # what the tally added one outcome at a time: Money's sums
        previous = totals.get(invoice.currency)
        totals[invoice.currency] = invoice.total if previous is None else previous + invoice.total
    assert (report.subscriptions, report.invoice_count) == (len(outcomes), len(numbered))
    assert report.credit_note_count == sum(i.kind is DocumentKind.CREDIT_NOTE for i in numbered)
    assert report.first_number == (numbered[0].number if numbered else None)
    assert report.last_number == (numbered[-1].number if numbered else None)
    assert report.failures == tuple(o for _, o in outcomes if isinstance(o, BillingFailure))
    assert [(c, str(m.amount)) for c, m in report.total.items()] == [
        (c, str(m.amount)) for c, m in totals.items()
    ]
    single = _Tally()
    for _, outcome in outcomes:
        single.add(outcome)
    assert _report(single.report(date(2026, 3, 1))) == _report(report)

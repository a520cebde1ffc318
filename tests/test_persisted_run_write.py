"""The persisted run, third pass (issue 13): the write side, from a billed result to rows.

An invoice's and a billing state's rows are written as JSON text directly: byte for byte
the text of cattrs' document (less the row's columns), or declined for cattrs to write.
A page's invoice numbers are reserved at once, as one by one; a draft is finalized with
the totals it holds. A run's report sums its invoices' totals per currency as Money does.
"""

import decimal
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import assume, event, given, reject
from hypothesis import strategies as st

from subbill.billing import BillingState, bill_subscription, draft_invoice
from subbill.errors import CurrencyMismatchError, SubbillError
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceNumbering,
    InvoiceStatus,
    LineExplanation,
    LineKind,
    Payment,
    credit_note_for,
    one_time_line,
)
from subbill.money import Money
from subbill.service import _Tally
from subbill.storage import codec
from subbill.storage._sql import INVOICE_COLUMNS, invoice_text
from subbill.storage.codec import loads, row_text
from tests.builders import one_charge_plan
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions
from tests.test_codec_rows import silver_invoice_and_state


def _cattrs_text(value: object, columns=()) -> str:
    """The text cattrs' document gives, less ``columns``' fields (the path before)."""
    data = codec.CONVERTER.unstructure(value)
    for name in columns:
        data.pop(name, None)
    return codec.document_text({"data": data, "version": codec.FORMAT_VERSION})


def _declined(invoice: Invoice) -> bool:
    """Whether the invoice writer leaves ``invoice`` to cattrs (the shapes it does not take)."""
    return bool(
        invoice.discounts
        or invoice.credit_applied is not None
        or invoice.payments
        or invoice.corrects is not None
        or invoice.corrections
        or any(line.explanation.discounts or line.explanation.usage for line in invoice.lines)
    )


def _invoices_of_every_shape(plan, as_of, days):
    """Drafts, finalized, paid, credited invoices and credit notes billing ``plan`` gives."""
    first = bill_subscription(plan, as_of=as_of)
    second = bill_subscription(plan, first.state, as_of=as_of + timedelta(days=days))
    for index, result in enumerate((first, second)):
        draft = result.invoice
        if draft is None:
            continue
        yield draft
        issued = draft.finalize(number=f"F-2026-00000{index + 1}")
        yield issued
        settled = issued
        if issued.amount_due.is_positive():
            paid = Payment(amount=issued.amount_due, paid_on=issued.issued_on, reference="P1")
            settled = issued.apply_payment(paid).invoice
            yield settled
        if issued.kind is DocumentKind.INVOICE and issued.total.is_positive():
            note = credit_note_for(issued, issued_on=issued.issued_on).finalize(number="AV-1")
            yield note
            yield issued.apply_credit_note(note).invoice
            # a note of the paid invoice that only names it (names_only), and the invoice
            named = credit_note_for(settled, issued_on=issued.issued_on)
            named = attrs.evolve(named, names_only=True).finalize(number="AV-2")
            yield named
            yield settled.name_credit_note(named)


_COLUMN_SETS = st.sampled_from([(), INVOICE_COLUMNS, ("number",), ("customer", "issued_on")])


@given(billing_subscriptions(), as_of_dates, st.integers(1, 400), _COLUMN_SETS)
def test_an_invoice_row_text_is_the_text_of_its_cattrs_document(plan, as_of, days, columns):
    for invoice in _invoices_of_every_shape(plan, as_of, days):
        fast = codec._invoice_text(invoice, columns)
        event("cattrs" if fast is None else "by hand")
        assert (fast is None) is _declined(invoice)
        expected = _cattrs_text(invoice, columns)
        if fast is not None:
            assert fast == expected
        assert row_text(invoice, columns=columns) == expected
        if not columns:
            assert codec.dumps(invoice) == expected
            assert loads(expected, Invoice) == invoice


_AWKWARD_TEXT = st.text(min_size=1, max_size=12)


@given(billing_subscriptions(invoice_discounts=False), as_of_dates, _AWKWARD_TEXT, _AWKWARD_TEXT)
def test_texts_are_escaped_as_json_escapes_them(plan, as_of, customer, description):
    # Quotes, backslashes, control and non-ASCII characters, lone surrogates: json's own
    # escaping (ensure_ascii off), whatever the constructor lets through.
    charges = [attrs.evolve(charge, discounts=()) for charge in plan.charges]
    invoice = bill_subscription(attrs.evolve(plan, charges=charges), as_of=as_of).invoice
    assume(invoice is not None)
    try:
        line = attrs.evolve(invoice.lines[0], description=description, code=description)
        invoice = attrs.evolve(invoice, customer=customer, lines=(line, *invoice.lines[1:]))
    except SubbillError:
        reject()
    text = codec._invoice_text(invoice, ())
    assert text is not None
    assert text == _cattrs_text(invoice)


_KEYS = st.text(max_size=10)
_DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@st.composite
def billing_states(draw):
    """Billing states of every shape: billed-through dates and terms, or more."""
    fields = {
        "billed_through": draw(st.lists(st.tuples(_KEYS, _DAYS), max_size=3)),
        "terms": draw(st.lists(st.tuples(_KEYS, st.text(max_size=10)), max_size=3)),
    }
    if draw(st.integers(0, 3)) == 0:
        fields["one_time_billed"] = frozenset(draw(st.lists(_KEYS, max_size=2)))
    if draw(st.integers(0, 3)) == 0:
        fields["credit_balance"] = Money(draw(st.sampled_from(["0", "12.50"])), "EUR")
    try:
        return BillingState(**fields)
    except SubbillError:
        reject()


@given(billing_states())
def test_a_state_row_text_is_the_text_of_its_cattrs_document(state):
    fast = codec._state_text(state, ())
    event("cattrs" if fast is None else "by hand")
    declined = bool(state.one_time_billed or state.credit_balance is not None)
    assert (fast is None) is declined
    expected = _cattrs_text(state)
    if fast is not None:
        assert fast == expected
    assert codec.dumps(state) == expected
    assert loads(expected, BillingState) == state


def test_a_state_writer_leaves_columns_to_the_generic_path():
    state = BillingState(billed_through=[("pro@2026-01-01", date(2026, 3, 1))])
    assert codec._state_text(state, ("terms",)) is None
    assert row_text(state, columns=("terms",)) == _cattrs_text(state, ("terms",))


def test_an_empty_state_is_written_as_an_empty_document():
    assert codec.dumps(BillingState()) == '{"data":{},"version":4}' == _cattrs_text(BillingState())


def test_the_stores_rows_are_the_row_texts():
    invoice, state = silver_invoice_and_state()
    assert codec._invoice_text(invoice, INVOICE_COLUMNS) is not None  # written by hand
    assert invoice_text(invoice) == _cattrs_text(invoice, INVOICE_COLUMNS)
    assert invoice_text(invoice) == (
        '{"data":{"currency":"EUR","due_on":"2025-02-14","lines":[{"amount":"27.42 EUR",'
        '"charge_key":"pro@2025-01-15","code":"pro","description":"Pro","explanation":'
        '{"basis":"actual_days","cycle":"2025-01-01/2025-02-01","days":17,"period_days":31},'
        '"kind":"proration_charge","period":"2025-01-15/2025-02-01","quantity":"1",'
        '"unit_price":"50.00 EUR"}],"status":"open"},"version":4}'
    )
    assert codec.dumps(state) == _cattrs_text(state)


# -- numbering --------------------------------------------------------------------------------

_PATTERNS = st.sampled_from(["F-{year}-{seq:06d}", "{seq}", "AV{seq:03d}/{year}", "N{seq:02d}"])


@given(
    _PATTERNS,
    st.one_of(st.none(), st.integers(0, 10**7)),
    st.integers(0, 12),
    st.dates(min_value=date(990, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(-2, 2),
)
def test_numbers_reserved_at_once_are_those_reserved_one_by_one(
    pattern, seq, count, issued_on, year_shift
):
    numbering = InvoiceNumbering(pattern=pattern)
    previous = None if seq is None else numbering.format(year=issued_on.year + year_shift, seq=seq)

    def one_by_one():
        numbers, last = [], previous
        for _ in range(count):
            last = numbering.next_number(last, issued_on=issued_on)
            numbers.append(last)
        return numbers

    def outcome(reserve):
        try:
            return reserve()
        except SubbillError as error:
            return type(error), str(error)

    expected = outcome(one_by_one)
    event("refused" if isinstance(expected, tuple) else "numbered")
    assert outcome(lambda: numbering.next_numbers(previous, count, issued_on=issued_on)) == (
        expected
    )


def test_a_count_of_numbers_must_be_an_int():
    with pytest.raises(SubbillError, match=r"count='2' must be an int >= 0"):
        InvoiceNumbering().next_numbers(None, "2", issued_on=date(2026, 1, 1))


# -- finalize ---------------------------------------------------------------------------------


@given(billing_subscriptions(), as_of_dates, st.sampled_from(["net", "tax", "total", None]))
def test_a_draft_finalized_with_some_totals_computed_has_every_total(plan, as_of, computed):
    draft = bill_subscription(plan, as_of=as_of).invoice
    assume(draft is not None)
    # A draft built as a caller builds one: only the total read (if any) is computed.
    draft = Invoice._engine_draft(
        customer=draft.customer,
        currency=draft.currency,
        issued_on=draft.issued_on,
        due_on=draft.due_on,
        lines=draft.lines,
        subscription=draft.subscription,
        discounts=draft.discounts,
        taxes=draft.taxes,
        kind=draft.kind,
        credit_applied=draft.credit_applied,
    )
    if computed is not None:
        getattr(draft, computed)
    issued = draft.finalize(number="F-1")
    fresh = Invoice(**{f.name: getattr(issued, f.name) for f in attrs.fields(Invoice)})
    for name in ("subtotal", "discount_total", "net", "tax", "total", "amount_paid", "credited"):
        got, want = getattr(issued, name), getattr(fresh, name)
        assert (str(got.amount), got.currency) == (str(want.amount), want.currency), name
    assert issued.status is fresh.status
    assert issued.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID)


def test_quotes_backslashes_and_accents_are_written_as_json_writes_them():
    invoice, _ = silver_invoice_and_state()
    line = attrs.evolve(invoice.lines[0], description='Abonnement « Pro » "2025" \\ été')
    invoice = attrs.evolve(invoice, customer='Café "Zinc" ⚡', lines=(line,))
    text = codec._invoice_text(invoice, ())
    assert text is not None
    assert text == _cattrs_text(invoice)
    assert '"description":"Abonnement « Pro » \\"2025\\" \\\\ été"' in text
    assert loads(text, Invoice) == invoice


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_an_amount_is_written_in_plain_notation(amount):
    assert codec._amount_text(amount) == f"{amount:f}"


# -- the review of the third pass: the stored text never depends on the caller's context ----


def _tiny_priced_invoice():
    plan = one_charge_plan(
        "0.0000001", start=date(2025, 1, 1), code="api", description="API calls", quantity=1
    )
    return bill_subscription(plan, as_of=date(2025, 1, 1)).invoice


def test_a_stored_invoice_text_is_the_same_whatever_the_callers_capitals():
    invoice = _tiny_priced_invoice()
    written = row_text(invoice)
    cattrs_text = codec.document_text(codec.to_document(invoice))
    assert '"unit_price":"0.0000001 EUR"' in written
    with decimal.localcontext() as context:
        context.capitals = 0  # the caller's own context, e.g. for its own printing
        assert row_text(invoice) == written
        assert codec.document_text(codec.to_document(invoice)) == cattrs_text == written


def test_an_explanation_reason_that_is_no_text_is_refused_with_a_typed_error():
    # Accepted before, then the hand-written writer raised a raw TypeError on saving it.
    with pytest.raises(SubbillError, match="reason"):
        LineExplanation(unit_price=Money("10", "EUR"), quantity=Decimal(1), reason=5)


def test_a_line_discount_in_another_currency_is_refused_before_it_is_stored():
    # The review found such a line written, then unreadable (its net cannot be computed).
    explanation = LineExplanation(unit_price=Money("10", "EUR"), quantity=Decimal(1))
    with pytest.raises(CurrencyMismatchError, match="EUR and USD"):
        InvoiceLine(
            kind=LineKind.ONE_TIME,
            code="x",
            description="X",
            charge_key="x",
            period=None,
            quantity=Decimal(1),
            unit_price=Money("10", "EUR"),
            factor=Fraction(1),
            amount=Money("10", "EUR"),
            discount=Money("0", "USD"),
            base=Money("10", "EUR"),
            explanation=explanation,
        )


# -- the run's report -------------------------------------------------------------------------

_CURRENCY_PLACES = {"EUR": 2, "USD": 2, "JPY": 0}


@st.composite
def _invoices_in_currencies(draw):
    """Numbered invoices (and credit notes, for negative amounts) in a few currencies."""
    invoices = []
    for n in range(draw(st.integers(0, 6))):
        currency = draw(st.sampled_from(sorted(_CURRENCY_PLACES)))
        cents = draw(st.integers(-(10**7), 10**7).filter(bool))
        amount = Money(Decimal(cents).scaleb(-_CURRENCY_PLACES[currency]), currency)
        draft = draft_invoice(customer="C", currency=currency, issued_on=date(2026, 3, 1),
                              lines=[one_time_line("x", "X", amount)])  # fmt: skip
        invoices.append(draft.finalize(number=f"F-{n}"))
    return invoices


@given(_invoices_in_currencies())
def test_a_run_reports_each_currency_total_as_the_sum_of_its_invoices(invoices):
    tally = _Tally()
    for invoice in [None, *invoices]:
        tally.add(invoice)
    expected: dict[str, Money] = {}
    for invoice in invoices:
        before = expected.get(invoice.currency)
        expected[invoice.currency] = invoice.total if before is None else before + invoice.total
    report = tally.report(date(2026, 3, 1))
    assert report.total == expected
    assert [(c, str(m)) for c, m in report.total.items()] == [
        (c, str(m)) for c, m in expected.items()
    ]  # the same digits, in the same order
    assert (report.subscriptions, report.invoice_count) == (len(invoices) + 1, len(invoices))

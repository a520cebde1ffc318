import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import attrs
import pytest
from pypdf import PdfReader

from subbill import InvalidArgumentError, InvalidStateError, InvoiceStatus, Money, Payment, TaxRate
from subbill.billing import draft_invoice
from subbill.errors import (
    CurrencyMismatchError,
    FloatAmountError,
    InvalidAmountError,
    InvalidQuantityError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import (
    Correction,
    DocumentKind,
    InvalidTransitionError,
    InvoiceNumbering,
    LineKind,
    credit_note_for,
    one_time_line,
)
from subbill.l10n import invoice_text
from subbill.pdf import render_invoice_pdf

EUR = "EUR"


def invoice(*prices, kind=LineKind.ONE_TIME):
    lines = [
        one_time_line(f"item{i}", f"Item {i}", Money(p, EUR), kind=kind)
        for i, p in enumerate(prices)
    ]
    return draft_invoice(
        customer="ACME",
        currency=EUR,
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 31),
        lines=lines,
    )


def test_numbering_is_gapless_chronological_and_yearly():
    numbering = InvoiceNumbering()
    assert numbering.next_number(None, issued_on=date(2026, 1, 5)) == "F-2026-000001"
    assert numbering.next_number("F-2026-000123", issued_on=date(2026, 3, 1)) == "F-2026-000124"
    assert numbering.next_number("F-2026-000124", issued_on=date(2027, 1, 1)) == "F-2027-000001"
    with pytest.raises(InvalidArgumentError, match="invoice numbers must be chronological"):
        numbering.next_number("F-2027-000001", issued_on=date(2026, 12, 31))
    with pytest.raises(InvalidArgumentError, match="number='X-1' does not match pattern="):
        numbering.next_number("X-1", issued_on=date(2026, 1, 1))


def test_numbering_without_year_never_resets():
    numbering = InvoiceNumbering(pattern="INV{seq:05d}")
    assert numbering.next_number("INV00099", issued_on=date(2030, 1, 1)) == "INV00100"
    with pytest.raises(InvalidArgumentError, match="must contain"):
        InvoiceNumbering(pattern="F-{year}")


def test_lifecycle_draft_open_partially_paid_paid():
    draft = invoice("100.00")
    assert draft.status is InvoiceStatus.DRAFT
    opened = draft.finalize(number="F-2026-000001")
    assert (opened.status, opened.number, opened.amount_due) == (
        InvoiceStatus.OPEN,
        "F-2026-000001",
        Money("100.00", EUR),
    )
    partial = opened.apply_payment(
        Payment(amount=Money("30", EUR), paid_on=date(2026, 3, 10), method="card-4242")
    )
    assert partial.invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert partial.invoice.amount_due == Money("70.00", EUR)
    assert partial.overpayment == Money.zero(EUR)
    paid = partial.invoice.apply_payment(
        Payment(amount=Money("70", EUR), paid_on=date(2026, 3, 11))
    )
    assert paid.invoice.status is InvoiceStatus.PAID
    assert paid.invoice.amount_paid == Money("100.00", EUR)


def test_overpayment_becomes_customer_credit():
    opened = invoice("100.00").finalize(number="F-1")
    result = opened.apply_payment(Payment(amount=Money("120", EUR), paid_on=date(2026, 3, 2)))
    assert result.invoice.is_paid
    assert result.invoice.amount_paid == Money("100.00", EUR)
    assert result.overpayment == Money("20", EUR)


def test_invalid_transitions_name_the_status_and_action():
    draft = invoice("10")
    with pytest.raises(InvalidTransitionError, match="cannot pay draft invoice with status=draft"):
        draft.apply_payment(Payment(amount=Money("1", EUR), paid_on=date(2026, 3, 2)))
    opened = draft.finalize(number="F-1")
    with pytest.raises(
        InvalidTransitionError, match="cannot finalize invoice F-1 with status=open"
    ):
        opened.finalize(number="F-2")
    paid = opened.apply_payment(Payment(amount=Money("10", EUR), paid_on=date(2026, 3, 2))).invoice
    with pytest.raises(InvalidTransitionError, match="cannot void invoice F-1 with status=paid"):
        paid.void()
    with pytest.raises(InvalidStateError, match="never voided nor deleted; issue a credit note"):
        opened.void()
    assert draft.void().status is InvoiceStatus.VOID
    with pytest.raises(CurrencyMismatchError):
        opened.apply_payment(Payment(amount=Money("1", "USD"), paid_on=date(2026, 3, 2)))


def test_overdue_is_derived_from_the_due_date():
    opened = invoice("10").finalize(number="F-1")
    assert not opened.is_overdue(as_of=date(2026, 3, 31))
    assert opened.is_overdue(as_of=date(2026, 4, 1))
    paid = opened.apply_payment(Payment(amount=Money("10", EUR), paid_on=date(2026, 4, 2))).invoice
    assert not paid.is_overdue(as_of=date(2026, 5, 1))


def test_negative_total_is_a_credit_note_never_a_negative_invoice():
    note = invoice("-30.00", kind=LineKind.ADJUSTMENT)
    assert note.kind is DocumentKind.CREDIT_NOTE
    assert note.total == Money("-30.00", EUR)
    assert note.amount_due == Money.zero(EUR)
    with pytest.raises(InvalidArgumentError, match="must be a credit note"):
        type(note)(
            customer="A",
            currency=EUR,
            issued_on=date(2026, 3, 1),
            due_on=date(2026, 3, 1),
            lines=note.lines,
            kind=DocumentKind.INVOICE,
        )


def test_records_for_notebooks():
    records = invoice("12.50", "7.50").to_records()
    assert [r["total"] for r in records] == [Decimal("12.50"), Decimal("7.50")]
    assert set(records[0]) >= {
        "invoice",
        "kind",
        "description",
        "period_start",
        "amount",
        "discount",
        "tax",
        "total",
    }


def test_text_and_html():
    opened = invoice("1234.56").finalize(number="F-2026-000124")
    text = invoice_text(opened, locale="fr_FR")
    assert "Facture F-2026-000124 (à payer)" in text
    assert "Reste à payer" in text
    assert "1\u202f234,56\xa0€" in text
    assert "Invoice F-2026-000124 (open)" in str(opened)
    assert "<table>" in opened._repr_html_()


def test_a_hand_made_line_refuses_a_float_price_as_money_does():
    # The review: one_time_line("c", "d", 10.0) raised a raw AttributeError.
    with pytest.raises(FloatAmountError, match=r"^price=10\.0 is a float; pass a str or a Decimal"):
        one_time_line("c", "d", 10.0)
    with pytest.raises(InvalidTypeError, match=r"^price='10' must be a Money$"):
        one_time_line("c", "d", "10")
    with pytest.raises(FloatAmountError, match=r"^quantity=1\.5 is a float"):
        one_time_line("c", "d", Money("10", "EUR"), quantity=1.5)
    with pytest.raises(InvalidQuantityError, match=r"^quantity=-2 must be >= 0$"):
        one_time_line("c", "d", Money("10", "EUR"), quantity=-2)
    with pytest.raises(InvalidTypeError, match=r"^kind='one_time' must be a LineKind"):
        one_time_line("c", "d", Money("10", "EUR"), kind="one_time")
    line = one_time_line("c", "d", Money("10", "EUR"), quantity=3)
    assert (line.quantity, line.amount) == (Decimal(3), Money("30.00", "EUR"))


# -- issue 10: credit applied, French corrections ------------------------------------------------

VAT20 = TaxRate(name="TVA 20 %", percent="20")


def eur(amount):
    return Money(amount, EUR)


def numbered(*prices, number="F-2026-000001", credit_applied=None):
    return draft_invoice(
        customer="ACME",
        currency=EUR,
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 31),
        lines=[one_time_line(f"item{i}", f"Item {i}", eur(p)) for i, p in enumerate(prices)],
        credit_applied=credit_applied,
    ).finalize(number=number)


def test_credit_applied_lies_between_zero_and_the_total():
    with pytest.raises(
        OutOfBoundsError,
        match=r"credit_applied=Money\('150', 'EUR'\) must be "
        r"between 0 and the invoice's total 100.00 EUR",
    ):
        numbered("100.00", credit_applied=eur("150"))
    with pytest.raises(OutOfBoundsError, match="credit_applied=Money"):
        numbered("100.00", credit_applied=eur("-10"))
    with pytest.raises(CurrencyMismatchError):
        numbered("100.00", credit_applied=Money("10", "USD"))
    with pytest.raises(OutOfBoundsError, match="on a credit note"):
        draft_invoice(
            customer="ACME",
            currency=EUR,
            issued_on=date(2026, 3, 1),
            lines=[one_time_line("x", "X", eur("-30"), kind=LineKind.ADJUSTMENT)],
            credit_applied=eur("10"),
        )
    whole = numbered("100.00", credit_applied=eur("100"))
    assert (whole.amount_due, whole.status) == (Money.zero(EUR), InvoiceStatus.PAID)


def test_payments_never_exceed_what_the_invoice_leaves_to_pay():
    opened = numbered("100.00", credit_applied=eur("30"))
    with pytest.raises(OutOfBoundsError, match="amount_paid=Money"):
        attrs.evolve(opened, payments=(Payment(amount=eur("80"), paid_on=date(2026, 3, 2)),))


def test_a_numbered_invoice_is_never_voided_whatever_its_status():
    opened = numbered("100.00")
    partial = opened.apply_payment(Payment(amount=eur("40"), paid_on=date(2026, 3, 2))).invoice
    for invoice_ in (opened, partial):
        with pytest.raises(InvalidStateError) as caught:
            invoice_.void()
        assert str(caught.value) == (
            f"cannot void invoice F-2026-000001 with status={invoice_.status.value}: a numbered "
            "invoice is never voided nor deleted; issue a credit note that corrects it "
            "(credit_note_for)"
        )


def test_only_a_draft_can_be_discarded():
    draft = invoice("10")
    discarded = draft.void()
    assert (discarded.status, discarded.number, discarded.amount_due) == (
        InvoiceStatus.VOID,
        None,
        Money.zero(EUR),
    )
    with pytest.raises(InvalidStateError, match="only a draft can be discarded"):
        discarded.void()
    with pytest.raises(InvalidStateError, match="only a draft can be discarded"):
        credit_note_for(discarded, issued_on=date(2026, 3, 2))


def test_full_credit_note_references_the_invoice_and_is_numbered_in_the_series():
    line = one_time_line("setup", "Installation", eur("100.00"))
    taxed = attrs.evolve(line, tax_rates=(VAT20,), taxes=((VAT20, eur("20.00")),))
    numbering = InvoiceNumbering()
    first = numbering.next_number(None, issued_on=date(2026, 3, 1))
    opened = draft_invoice(
        customer="ACME", currency=EUR, issued_on=date(2026, 3, 1), lines=[taxed]
    ).finalize(number=first)
    note = credit_note_for(opened, issued_on=date(2026, 3, 10))
    assert (note.status, note.number, note.kind, note.corrects) == (
        InvoiceStatus.DRAFT,
        None,
        DocumentKind.CREDIT_NOTE,
        "F-2026-000001",
    )
    note = note.finalize(number=numbering.next_number(first, issued_on=note.issued_on))
    assert note.number == "F-2026-000002"
    assert (note.net, note.tax, note.total) == (eur("-100.00"), eur("-20.00"), eur("-120.00"))
    assert [(row.rate, row.base, row.tax) for row in note.taxes] == [
        (VAT20, eur("-100.00"), eur("-20.00"))
    ]
    assert (note.customer, note.subscription, note.issued_on, note.due_on) == (
        "ACME",
        None,
        date(2026, 3, 10),
        date(2026, 3, 10),
    )
    applied = opened.apply_credit_note(note)
    assert applied.invoice.corrections == (
        Correction(credit_note="F-2026-000002", credited_on=date(2026, 3, 10), amount=eur("120")),
    )
    assert (applied.invoice.amount_due, applied.invoice.status) == (
        Money.zero(EUR),
        InvoiceStatus.PAID,
    )
    assert applied.returned == Money.zero(EUR)  # nothing was paid: it only cancels what is due
    assert not applied.invoice.is_overdue(as_of=date(2026, 6, 1))


def _gesture(invoice, amount, *, on):
    """A draft credit note of ``invoice`` for one goodwill line ("Geste") of ``amount`` euros."""
    return credit_note_for(invoice, issued_on=on, lines=[one_time_line("g", "Geste", eur(amount))])


def test_partial_credit_notes_never_credit_more_than_the_invoice():
    opened = numbered("100.00")
    sixty = _gesture(opened, "60", on=date(2026, 3, 2)).finalize(number="F-2026-000002")
    opened = opened.apply_credit_note(sixty).invoice
    assert (opened.credited, opened.creditable, opened.amount_due) == (
        eur("60.00"),
        eur("40.00"),
        eur("40.00"),
    )
    with pytest.raises(OutOfBoundsError) as caught:
        _gesture(opened, "50", on=date(2026, 3, 3))
    assert str(caught.value) == (
        "credit=Money('50.00', 'EUR') must be <= 40.00 EUR (total 100.00 EUR of invoice "
        "F-2026-000001 - 60.00 EUR already credited)"
    )
    with pytest.raises(OutOfBoundsError, match="credit=Money"):
        credit_note_for(opened, issued_on=date(2026, 3, 3))  # all lines: 100 > 40 left
    forty = _gesture(opened, "40", on=date(2026, 3, 3)).finalize(number="F-2026-000003")
    done = opened.apply_credit_note(forty).invoice
    assert (done.credited, done.creditable, done.status) == (
        eur("100.00"),
        Money.zero(EUR),
        InvoiceStatus.PAID,
    )


def test_two_drafts_from_the_same_invoice_cannot_both_be_applied_beyond_its_total():
    opened = numbered("100.00")
    first = credit_note_for(opened, issued_on=date(2026, 3, 2)).finalize(number="A-1")
    second = credit_note_for(opened, issued_on=date(2026, 3, 2)).finalize(number="A-2")
    credited = opened.apply_credit_note(first).invoice
    with pytest.raises(OutOfBoundsError, match=r"credit=Money\('100.00', 'EUR'\) must be <= 0"):
        credited.apply_credit_note(second)
    with pytest.raises(InvalidStateError, match="credit note A-1 is already applied"):
        credited.apply_credit_note(first)


def test_credit_note_cancels_what_is_due_first_then_returns_what_was_paid():
    opened = numbered("100.00")
    thirty = credit_note_for(
        opened, issued_on=date(2026, 3, 2), lines=[one_time_line("g", "Geste", eur("30"))]
    ).finalize(number="A-1")
    applied = opened.apply_credit_note(thirty)
    assert (applied.invoice.amount_due, applied.returned) == (eur("70.00"), Money.zero(EUR))
    paid = applied.invoice.apply_payment(Payment(amount=eur("70"), paid_on=date(2026, 3, 3)))
    assert (paid.invoice.status, paid.overpayment) == (InvoiceStatus.PAID, Money.zero(EUR))
    twenty = credit_note_for(
        paid.invoice, issued_on=date(2026, 3, 4), lines=[one_time_line("g", "Geste", eur("20"))]
    ).finalize(number="A-2")
    again = paid.invoice.apply_credit_note(twenty)
    assert (again.invoice.amount_due, again.returned) == (Money.zero(EUR), eur("20.00"))


def test_credit_note_returns_the_customer_credit_the_invoice_consumed():
    # 50.00 billed with 20.00 of customer credit: 30.00 due; a full correction cancels the
    # 30.00 still due and gives the 20.00 of credit back.
    opened = numbered("50.00", credit_applied=eur("20.00"))
    note = credit_note_for(opened, issued_on=date(2026, 3, 5)).finalize(number="A-1")
    applied = opened.apply_credit_note(note)
    assert (applied.invoice.amount_due, applied.returned) == (Money.zero(EUR), eur("20.00"))


def test_what_cannot_be_corrected_by_a_credit_note():
    opened = numbered("100.00")
    with pytest.raises(InvalidStateError, match="only a draft can be discarded"):
        credit_note_for(invoice("10"), issued_on=date(2026, 3, 2))
    note = credit_note_for(opened, issued_on=date(2026, 3, 2)).finalize(number="A-1")
    with pytest.raises(InvalidStateError, match="only an invoice is corrected"):
        credit_note_for(note, issued_on=date(2026, 3, 3))
    with pytest.raises(InvalidArgumentError, match="issued_on=2026-02-28 is before invoice"):
        credit_note_for(opened, issued_on=date(2026, 2, 28))
    with pytest.raises(InvalidArgumentError, match="a credit note must credit an amount > 0"):
        credit_note_for(
            opened,
            issued_on=date(2026, 3, 2),
            lines=[one_time_line("x", "X", eur("-5"), kind=LineKind.ADJUSTMENT)],
        )
    with pytest.raises(InvalidStateError, match="finalize it first"):
        opened.apply_credit_note(credit_note_for(opened, issued_on=date(2026, 3, 2)))
    other = numbered("100.00", number="F-2026-000009")
    with pytest.raises(InvalidArgumentError, match="corrects='F-2026-000001', not invoice"):
        other.apply_credit_note(note)
    with pytest.raises(InvalidArgumentError, match="only a credit note corrects an invoice"):
        attrs.evolve(opened, corrects="F-2026-000000")


def test_a_credit_note_names_the_invoice_it_corrects_in_its_text_and_pdf():
    billed = invoice("80.00").finalize(number="F-2026-000001")
    note = credit_note_for(billed, issued_on=date(2026, 3, 5)).finalize(number="F-2026-000002")
    assert note.corrects == "F-2026-000001"
    assert "Avoir sur la facture : F-2026-000001" in invoice_text(note, locale="fr_FR")
    assert "Corrects invoice: F-2026-000001" in invoice_text(note, locale="en_US")
    assert "Corrects" not in invoice_text(billed, locale="en_US")
    reader = PdfReader(BytesIO(render_invoice_pdf(note, locale="fr_FR")))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "Avoir sur la facture : F-2026-000001" in text


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: attrs.evolve(invoice("1.00"), kind="invoice"), "kind"),
        (lambda: attrs.evolve(invoice("1.00"), status="open"), "status"),
        (lambda: attrs.evolve(invoice("1.00").lines[0], kind="one_time"), "kind"),
        (lambda: attrs.evolve(invoice("1.00").lines[0].explanation, basis="none"), "basis"),
    ],
)
def test_document_enums_refuse_strings(build, field):
    with pytest.raises(InvalidTypeError, match=f"{field}="):
        build()


# -- review of issue 10: a payment is real money; a numbering pattern is checked when built --


def test_a_payment_of_an_unrounded_amount_is_refused():
    with pytest.raises(
        InvalidAmountError, match=r"amount=Money\('3\.333.*', 'EUR'\) must be rounded to the minor"
    ):
        Payment(amount=Money("10", EUR) / 3, paid_on=date(2026, 3, 2))
    with pytest.raises(InvalidAmountError, match=r"JPY \(0 decimal places\)"):
        Payment(amount=Money("1.5", "JPY"), paid_on=date(2026, 3, 2))
    with pytest.raises(OutOfBoundsError, match=r"amount=.* below 10\^15"):
        Payment(amount=Money("9e14", EUR) + Money("9e14", EUR), paid_on=date(2026, 3, 2))
    paid = Payment(amount=(Money("10", EUR) / 3).rounded(), paid_on=date(2026, 3, 2))
    assert paid.amount == Money("3.33", EUR)


@pytest.mark.parametrize(
    ("pattern", "error", "problem"),
    [
        ("{seq}{seq}", InvalidArgumentError, r"\{seq\} 2 times"),
        ("F-{month}-{seq}", InvalidArgumentError, r"\{month\} is not one"),
        (None, InvalidTypeError, "a str such as"),
        ("{seq:>100000000}", InvalidArgumentError, "is not a zero-padded width"),
        ("{seq:6d}", InvalidArgumentError, "is not a zero-padded width"),
        ("{year}-{year}-{seq}", InvalidArgumentError, r"\{year\} 2"),
        ("F-{seq", InvalidArgumentError, "not a format string"),
        ("F-{{seq}}", InvalidArgumentError, "brace"),
        ("F\n{seq}", InvalidArgumentError, "control character"),
        ("{seq!r}", InvalidArgumentError, "is not one"),
    ],
)
def test_a_numbering_pattern_is_refused_when_built_naming_the_fields(pattern, error, problem):
    with pytest.raises(error) as caught:
        InvoiceNumbering(pattern=pattern)
    message = str(caught.value)
    assert f"pattern={pattern!r}" in message
    assert "{seq} once" in message
    assert "{year}" in message
    assert re.search(problem, message), message
    assert len(message) < 400


def test_numbering_patterns_that_number_invoices_are_accepted():
    for pattern, expected in [
        ("F-{year}-{seq:06d}", "F-2026-000007"),
        ("AV{year}{seq:04d}", "AV20260007"),
        ("{seq}", "7"),
        ("INV-{seq:020d}", "INV-" + "7".zfill(20)),
    ]:
        numbering = InvoiceNumbering(pattern=pattern)
        assert numbering.next_number(None, issued_on=date(2026, 3, 1)).endswith("1")
        assert numbering.format(year=2026, seq=7) == expected
        assert numbering.parse(expected)[1] == 7


def test_an_invoice_s_tax_breakdown_is_the_one_its_lines_add_up_to():
    # Issue 12: Invoice.taxes was stored and never checked: a 5.00 EUR breakdown on untaxed
    # lines was accepted.
    from subbill.invoices import one_time_line  # noqa: PLC0415
    from subbill.taxes import TaxBreakdown  # noqa: PLC0415

    vat = TaxRate(name="TVA 20 %", percent="20")
    untaxed = draft_invoice(
        customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        lines=[one_time_line("setup", "Installation", Money("25", "EUR"))],
    )  # fmt: skip
    bogus = (TaxBreakdown(rate=vat, base=Money("25", "EUR"), tax=Money("5", "EUR")),)
    with pytest.raises(InvalidArgumentError, match=r"taxes=\[TVA 20 % 5 EUR on 25 EUR\] is not"):
        attrs.evolve(untaxed, taxes=bogus)
    from subbill import ChargePlan, OneTimeCharge, bill_subscription  # noqa: PLC0415

    setup = OneTimeCharge(code="setup", description="Installation", unit_price=Money("25", "EUR"),
                          due_on=date(2026, 3, 1), tax_rates=(vat,))  # fmt: skip
    plan = ChargePlan(id="S", customer="ACME", currency="EUR", one_time=(setup,))
    taxed = bill_subscription(plan, as_of=date(2026, 3, 1)).invoice
    assert [(row.base, row.tax) for row in taxed.taxes] == [
        (Money("25.00", "EUR"), Money("5.00", "EUR"))
    ]
    with pytest.raises(InvalidArgumentError, match="is not the breakdown of the lines' taxes"):
        attrs.evolve(taxed, taxes=())


def test_a_credit_note_is_never_finalized_under_the_number_it_corrects():
    # The review of issue 13: finalize copies the draft's slots; it still refuses a credit
    # note numbered like the invoice it corrects (a store could not read it back).
    invoice = draft_invoice(
        customer="c",
        currency="EUR",
        issued_on=date(2026, 1, 1),
        lines=[one_time_line("x", "X", Money("10", "EUR"))],
    ).finalize(number="F-2026-000001")
    note = credit_note_for(invoice, issued_on=date(2026, 1, 2))
    with pytest.raises(InvalidArgumentError, match="corrects='F-2026-000001' must be the number"):
        note.finalize(number="F-2026-000001")
    assert note.finalize(number="F-2026-000002").corrects == "F-2026-000001"


# -- a hand-made taxed line (issue 14, fx-fixes review) --------------------------------------------


def test_one_time_line_computes_the_taxes_of_its_rates():
    from subbill.invoices import one_time_line  # noqa: PLC0415
    from subbill.taxes import TaxRate, line_tax  # noqa: PLC0415

    vat = TaxRate(name="TVA 20 %", percent="20")
    line = one_time_line(
        "geste", "Geste commercial", Money("10.01", "EUR"), quantity=3, tax_rates=[vat]
    )
    assert line.tax_rates == (vat,)
    assert line.taxes == ((vat, Money("6.01", "EUR")),)  # 20 % of 30.03, rounded half-up
    assert (line.base, line.total) == (Money("30.03", "EUR"), Money("36.04", "EUR"))
    inclusive = TaxRate(name="TVA TTC", percent="20", inclusive=True)
    gross = one_time_line("geste", "Geste", Money("12.00", "EUR"), tax_rates=(inclusive,))
    expected = line_tax(Money("12.00", "EUR"), (inclusive,))
    assert (gross.base, gross.taxes) == (expected.base, expected.taxes)
    assert (gross.base, gross.tax) == (Money("10.00", "EUR"), Money("2.00", "EUR"))

from datetime import date
from decimal import Decimal

import pytest

from subbill import (
    CurrencyMismatchError,
    DocumentKind,
    InvalidArgumentError,
    InvalidTransitionError,
    InvoiceNumbering,
    InvoiceStatus,
    LineKind,
    Money,
    Payment,
)
from subbill.billing import draft_invoice
from subbill.invoices import one_time_line

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
    assert opened.void().status is InvoiceStatus.VOID
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
    text = opened.to_text(locale="fr_FR")
    assert "Facture F-2026-000124 (à payer)" in text
    assert "Reste à payer" in text
    assert "1\u202f234,56\xa0€" in text
    assert "Invoice F-2026-000124 (open)" in str(opened)
    assert "<table>" in opened._repr_html_()

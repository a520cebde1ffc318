"""Review 92: what may be credited against an invoice counts only credit lines recorded elsewhere.

``Invoice.charged`` left out every line with a period and a negative net, whether or not an
earlier invoice recorded it: an invoice's own « remise » line, an upgrade invoice stored by an
older release (its credit recorded nowhere) or one whose credit found too little left on the
invoice it credits. Each let a gesture credit more than the invoice charged.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import attrs
import pytest

from subbill.billing import ChargePlan, bill_subscription
from subbill.errors import OutOfBoundsError
from subbill.invoices import Invoice, LineKind, credit_note_for, credits_a_period, one_time_line
from subbill.money import Money
from subbill.payments import account_balance
from subbill.periods import MONTHLY
from subbill.service import correct_invoice, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import to_document
from subbill.subscriptions import QuotedLine
from subbill.taxes import TaxRate
from tests.test_credit_lines import FIRST, JULY, UPGRADE, subscribed, upgrade, upgraded

TVA = TaxRate(name="TVA 20 %", percent="20")


def _gesture(ht: str) -> list:
    return [one_time_line("geste", "Geste commercial", Money(ht, "EUR"), tax_rates=(TVA,))]


def _monthly(code: str, name: str, price: str) -> QuotedLine:
    return QuotedLine(
        code=code,
        name=name,
        unit_price=Money(price, "EUR"),
        frequency=MONTHLY,
        start=date(2026, 3, 1),
    )


def _remise_invoice() -> Invoice:
    pro, remise = _monthly("pro", "Pro", "100"), _monthly("remise", "Remise", "-10")
    plan = ChargePlan(
        id="S",
        customer="C",
        currency="EUR",
        charges=(pro.charge(ends_on=None), remise.charge(ends_on=None)),
    )
    billed = bill_subscription(plan, None, as_of=date(2026, 3, 1)).invoice
    assert billed is not None
    return billed.finalize(number="F-2026-000001")


def test_an_invoices_own_remise_line_is_not_a_credit_of_another_invoice():
    """F1: 100.00 + remise −10.00 = 90.00; a 100.00 gesture used to be accepted."""
    invoice = _remise_invoice()
    remise = next(line for line in invoice.lines if line.code == "remise")
    assert (remise.kind, remise.net) == (LineKind.RECURRING, Money("-10.00", "EUR"))
    assert not credits_a_period(remise)
    assert (invoice.total, invoice.charged, invoice.creditable) == (
        Money("90.00", "EUR"),
        Money("90.00", "EUR"),
        Money("90.00", "EUR"),
    )
    with pytest.raises(OutOfBoundsError, match=r"must be <= 90\.00 EUR"):
        credit_note_for(
            invoice,
            issued_on=date(2026, 3, 2),
            lines=[one_time_line("geste", "Geste commercial", Money("100", "EUR"))],
        )


def test_an_upgrade_whose_credit_found_too_little_left_charged_its_total():
    """F2 (2): a gesture of 200.00 TTC on F-1 first leaves 148.00, less than the upgrade's
    231.68 credit: the upgrade invoice records nothing on F-1, names nothing, and may be
    credited its total (239.67) only, not the 471.35 of Pro."""
    store = subscribed(MemoryStore())
    correct_invoice(store, FIRST, issued_on=date(2026, 6, 1), lines=_gesture("166.67"))
    upgrade(store)
    run_billing(store, as_of=JULY)
    first, note, upgraded_invoice = store.invoices(subscription="S1")
    assert note.total == Money("-200.00", "EUR")
    assert upgraded_invoice.credits_periods_of == ()
    assert first.creditable == Money("148.00", "EUR")
    assert (upgraded_invoice.total, upgraded_invoice.charged) == (
        Money("239.67", "EUR"),
        Money("239.67", "EUR"),
    )
    with pytest.raises(OutOfBoundsError, match=r"must be <= 239\.67 EUR"):
        correct_invoice(
            store,
            upgraded_invoice.number,
            issued_on=date(2026, 7, 2),
            lines=_gesture("392.79"),
        )


def test_an_upgrade_stored_by_an_older_release_charged_its_total(tmp_path):
    """F2 (1): the upgrade walk stored as an older release stored it (no credits_periods_of,
    F-1 records nothing): F-1 may be credited 348.00 and F-2 239.67, never 471.35."""
    path = tmp_path / "billing.db"
    store = upgraded(SQLiteStore(path))
    first, second = store.get_invoice(FIRST), store.get_invoice(UPGRADE)
    assert second.credits_periods_of == (FIRST,)  # as this release links them
    store.close()
    older_first = attrs.evolve(first, corrections=())
    older_second = attrs.evolve(second, credits_periods_of=())
    raw = sqlite3.connect(path)
    with raw:
        for number, invoice in ((FIRST, older_first), (UPGRADE, older_second)):
            document = to_document(invoice, version=3)
            text = json.dumps(document, separators=(",", ":"), sort_keys=True)
            raw.execute("UPDATE invoices SET document = ? WHERE number = ?", (text, number))
    raw.close()
    store = SQLiteStore(path)
    second = store.get_invoice(UPGRADE)
    assert second.credits_periods_of == ()
    assert (second.charged, second.creditable) == (Money("239.67", "EUR"),) * 2
    correct_invoice(store, FIRST, issued_on=date(2026, 7, 2), lines=_gesture("290.00"))
    with pytest.raises(OutOfBoundsError, match=r"must be <= 239\.67 EUR"):
        correct_invoice(store, UPGRADE, issued_on=date(2026, 7, 2), lines=_gesture("392.79"))
    report = account_balance(
        store.invoices(subscription="S1"),
        currency="EUR",
        payments=[],
        refunds=[],
        state=store.get_billing_state("S1"),
    )
    assert (report.invoiced, report.credited, report.credit_balance) == (
        Money("587.67", "EUR"),
        Money("348.00", "EUR"),
        Money("0", "EUR"),
    )
    store.close()


def test_a_full_credit_note_of_an_invoice_with_its_own_negative_line_credits_its_total():
    """The note of ``credit_note_for`` gives the remise line back (+10.00): that reversal is
    no charge of the note's own, so the note credits 90.00, all the invoice charged (it was
    counted as a 10.00 charge consumed on the note, a 100.00 credit of a 90.00 invoice)."""
    invoice = _remise_invoice()
    note = credit_note_for(invoice, issued_on=date(2026, 3, 2)).finalize(number="A-2026-000001")
    assert note.total == Money("-90.00", "EUR")
    applied = invoice.apply_credit_note(note).invoice
    assert (applied.credited, applied.creditable, applied.amount_due) == (
        Money("90.00", "EUR"),
        Money("0.00", "EUR"),
        Money("0.00", "EUR"),
    )
    (correction,) = applied.corrections
    assert (correction.amount, correction.consumed) == (Money("90.00", "EUR"), None)

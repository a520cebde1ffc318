"""Review 81 of "credit notes of paid invoices" (issue 17 follow-up): its findings, fixed.

- F3: under ``NegativeBalancePolicy.CREDIT_NOTE`` a note of the invoice it corrects cancels
  what is still due on it and the rest is owed on the note itself, whatever was paid: 8.00
  less paid no longer sends 231.67 to the credit balance for the renewal to consume.
- F1: format 3 leaves ``names_only`` (and ``applied``) out when unset.
- F2, F4: dunning counts only what a note cancelled; a note that only names a paid invoice
  neither lowers what was due nor blocks an earlier dunning run.
- F7: a note owed on itself stays owed on itself under a later ``CARRY_FORWARD``.
- F6: the row of a paid invoice states a fact of the note's issue (« Remboursement par avoir »),
  true after the note is refunded.

Each test failed on 7092025 (the code reviewed).
"""

import json
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import payments
from subbill.billing import BillingState, NegativeBalancePolicy, draft_invoice, record_payment
from subbill.catalog import ChangeTiming
from subbill.dunning import DunningPolicy, amount_due_on, late_payment_costs
from subbill.dunning_service import run_dunning
from subbill.errors import InvalidArgumentError, InvalidStateError, OutOfBoundsError
from subbill.invoices import (
    Correction,
    Invoice,
    InvoiceStatus,
    Payment,
    credit_note_for,
    one_time_line,
)
from subbill.l10n.invoice import invoice_text, settlement_rows
from subbill.service import replace_subscription, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import from_document, to_document
from tests.test_credit_notes_of_paid_invoices import (
    JEAN,
    VAT_20,
    balance_of,
    billed,
    bring_forward,
    eur,
    pay,
)
from tests.test_credit_notes_of_paid_invoices import downgraded as _downgraded_paid
from tests.test_credit_notes_of_paid_invoices import store as _each_store

CARRY_FORWARD = NegativeBalancePolicy.CARRY_FORWARD
store = _each_store  # the fixture: an empty store of each adapter


def downgraded(store, paid):
    """Jean's Pro (708.00) paid ``paid``, moved to Essentiel on 1 July 2026, renewed 2027."""
    billed(store, JEAN)
    pay(store, "F-2026-000001", paid)
    moved = store.get_subscription("S4").change_plan(
        "essentiel", store.load_catalog(), on=date(2026, 7, 1), timing=ChangeTiming.IMMEDIATE
    )
    assert replace_subscription(store, moved)
    run_billing(store, as_of=date(2026, 7, 1))
    run_billing(store, as_of=date(2027, 3, 1))
    return store


def named_paid(store):
    """F-2026-000001 paid on 15 March; the 1 July run's −473.29 only names it."""
    billed(store, JEAN)
    pay(store, "F-2026-000001", "708.00")
    bring_forward(store, "S4", date(2026, 6, 30))
    run_billing(store, as_of=date(2026, 7, 1))
    return store


# -- F3: one rule, whatever was paid ---------------------------------------------------------


def test_a_note_of_a_partly_paid_invoice_cancels_what_is_due_and_owes_the_rest_on_itself(store):
    downgraded(store, "700.00")
    invoice, note, renewal = store.invoices(subscription="S4")
    assert (note.number, note.total, note.corrects, note.names_only, note.applied) == (
        "F-2026-000002",
        eur("-239.67"),
        "F-2026-000001",
        False,
        eur("8.00"),  # what was still due: cancelled
    )
    assert invoice.corrections == (
        Correction(
            credit_note="F-2026-000002",
            credited_on=date(2026, 7, 1),
            amount=eur("471.35"),  # its credit lines, of which Essentiel took 231.68 on it
            applied=eur("8.00"),
            consumed=eur("231.68"),
        ),
    )
    (correction,) = invoice.corrections
    assert (correction.cancels, correction.owed_on_note) == (eur("8.00"), eur("231.67"))
    assert (invoice.status, invoice.amount_due, invoice.cancelled) == (
        InvoiceStatus.PAID,
        eur("0.00"),
        eur("8.00"),
    )
    # Nothing went to the credit balance: the renewal of 1 March 2027 asks its whole total.
    assert renewal.credit_applied is None
    assert [renewal.number, renewal.amount_due] == ["F-2027-000001", renewal.total]
    assert renewal.total == eur("348.00")
    state = store.get_billing_state("S4")
    assert state.credit_balance is None
    assert payments.refundable(state, currency="EUR", credit_note=note) == eur("231.67")
    report = balance_of(store, state=state)
    assert (report.received, report.due, report.owed_on_credit_notes) == (
        eur("700.00"),
        eur("348.00"),
        eur("231.67"),
    )
    assert report.is_balanced
    # Refunded against the note, never more than it owes; the state is left as it is.
    refund = payments.Refund(
        amount=eur("231.67"), refunded_on=date(2026, 7, 2), credit_note=note.number
    )
    assert payments.record_refund(refund, state or BillingState(), credit_note=note) == (
        state or BillingState()
    )
    with pytest.raises(OutOfBoundsError, match=r"<= 231\.67"):
        payments.record_refund(
            attrs.evolve(refund, amount=eur("231.68")), BillingState(), credit_note=note
        )
    assert balance_of(store, refunds=[refund], state=state).is_balanced


def test_a_partly_paid_invoice_rows_add_up_with_the_rest_on_the_note(store):
    downgraded(store, "700.00")
    invoice, _note, _ = store.invoices(subscription="S4")
    rows = settlement_rows(invoice, locale="fr_FR")
    assert rows == [
        ("Déjà payé", eur("-700.00")),
        ("Avoir F-2026-000002 du 1 juillet 2026", eur("-239.67")),
        ("Remboursement par avoir", eur("231.67")),
        ("Reste à payer", eur("0.00")),
    ]
    assert sum((amount for _, amount in rows[:-1]), start=invoice.total) == rows[-1][1]
    text = invoice_text(invoice, locale="en_US")
    assert "Refund by credit note" in text
    assert "Returned to customer credit" not in text


@given(paid_cents=st.integers(1, 70_800))
def test_a_note_cancels_what_is_due_on_its_invoice_and_owes_the_rest_on_itself(paid_cents):
    store = downgraded(MemoryStore(), str(Decimal(paid_cents) / 100))
    invoice, note, renewal = store.invoices(subscription="S4")
    due_before = eur("708.00") - eur(str(Decimal(paid_cents) / 100))
    credited = -note.total
    state = store.get_billing_state("S4")
    assert state.credit_balance is None or state.credit_balance.is_zero()
    assert renewal.credit_applied is None
    assert renewal.amount_due == eur("348.00")
    assert invoice.amount_due == max(due_before - credited, eur("0"))
    owed = max(credited - due_before, eur("0"))
    assert payments.refundable(state or BillingState(), currency="EUR", credit_note=note) == owed
    report = balance_of(store, state=state)
    assert report.owed_on_credit_notes == owed
    assert report.is_balanced
    rows = settlement_rows(invoice, locale="fr_FR")
    assert sum((amount for _, amount in rows[:-1]), start=invoice.total) == rows[-1][1]


@given(
    price=st.integers(2, 10_000_000),
    paid=st.integers(0, 10_000_000),
    credited=st.integers(0, 10_000_000),
    taxed=st.booleans(),
)
def test_a_note_applied_in_part_moves_nothing_to_the_balance_and_is_owed_on_itself(
    price, paid, credited, taxed
):
    cents = Decimal("0.01")
    setup = one_time_line("setup", "Setup", eur(price * cents), tax_rates=[VAT_20] * taxed)
    invoice = draft_invoice(
        customer="ACME", currency="EUR", issued_on=date(2026, 3, 1), lines=[setup]
    ).finalize(number="F-2026-000001")
    total = int(invoice.total.amount * 100)
    paid_cents = 1 + paid % (total - 1)  # 0 < paid < total: something still due
    payment = Payment(amount=eur(paid_cents * cents), paid_on=date(2026, 3, 2))
    invoice, state = record_payment(invoice, payment, BillingState())
    received = [payment]
    due = invoice.amount_due
    due_cents = total - paid_cents
    # A note crediting more than is due, at most the invoice's total.
    gesture_cents = due_cents + 1 + credited % (total - due_cents)
    gesture = one_time_line("geste", "Geste", eur(gesture_cents * cents))
    draft = credit_note_for(invoice, issued_on=date(2026, 3, 9), lines=[gesture])
    note = attrs.evolve(draft, applied=due).finalize(number="F-2026-000002")
    result = payments.record_credit_note(invoice, note, state)
    assert (result.state, result.returned) == (state, eur("0"))
    assert (result.invoice.status, result.invoice.amount_due) == (InvoiceStatus.PAID, eur("0"))
    assert payments.refundable(state, currency="EUR", credit_note=note) == gesture.total - due
    report = payments.account_balance(
        [result.invoice, note], currency="EUR", payments=received, refunds=[], state=state
    )
    assert report.owed_on_credit_notes == gesture.total - due
    assert report.is_balanced
    rows = settlement_rows(result.invoice, locale="fr_FR")
    assert sum((amount for _, amount in rows[:-1]), start=result.invoice.total) == rows[-1][1]


def test_a_part_applied_is_checked():
    invoice = draft_invoice(
        customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        lines=[one_time_line("setup", "Setup", eur("100"))],
    ).finalize(number="F-2026-000001")  # fmt: skip
    draft = credit_note_for(
        invoice, issued_on=date(2026, 3, 9), lines=[one_time_line("g", "G", eur("40"))]
    )
    with pytest.raises(OutOfBoundsError, match=r"must be > 0 and < 40\.00 EUR"):
        attrs.evolve(draft, applied=eur("40"))
    with pytest.raises(InvalidArgumentError, match="names_only=False"):
        attrs.evolve(draft, applied=eur("10"), names_only=True)
    with pytest.raises(InvalidArgumentError, match="corrects set"):
        attrs.evolve(draft, applied=eur("10"), corrects=None)
    note = attrs.evolve(draft, applied=eur("10")).finalize(number="F-2026-000002")
    # The invoice owes 100.00: a note that would cancel only 10.00 of it while owing 30.00
    # on itself is refused by the invoice's own check.
    with pytest.raises(InvalidArgumentError, match="not settled otherwise"):
        invoice.apply_credit_note(note)
    paid = invoice.apply_payment(Payment(amount=eur("95"), paid_on=date(2026, 3, 2))).invoice
    with pytest.raises(InvalidStateError, match=r"which owes 5\.00 EUR"):
        paid.apply_credit_note(note)  # applies more than is due


# -- F1: format 3 as before ------------------------------------------------------------------


def test_format_3_leaves_names_only_and_applied_out_when_unset():
    store = billed(MemoryStore(), JEAN)
    invoice = store.get_invoice("F-2026-000001")
    data = to_document(invoice, version=3)["data"]
    assert "names_only" not in data
    assert "applied" not in data
    corrected, note, _ = downgraded(MemoryStore(), "700.00").invoices(subscription="S4")
    text = json.dumps(to_document(corrected, version=3))
    assert '"applied": {"amount": "8.00", "currency": "EUR"}' in text
    assert "names_only" not in text
    for version in (3, 4):
        for value in (corrected, note):
            document = json.loads(json.dumps(to_document(value, version=version)))
            assert from_document(document, Invoice) == value
    named = named_paid(MemoryStore()).get_invoice("F-2026-000002")
    assert to_document(named, version=3)["data"]["names_only"] is True


# -- F2 and F4: dunning counts only what a note cancelled ------------------------------------


def test_a_note_that_only_names_an_invoice_cancels_nothing_of_what_was_due():
    store = billed(MemoryStore(), JEAN)
    bring_forward(store, "S4", date(2026, 6, 30))
    pay(store, "F-2026-000001", "708.00", on=date(2026, 7, 10))  # recorded before the run
    run_billing(store, as_of=date(2026, 7, 1))
    invoice = store.get_invoice("F-2026-000001")
    assert [c.names_only for c in invoice.corrections] == [True]
    assert amount_due_on(invoice, date(2026, 7, 5)) == eur("708.00")
    costs = late_payment_costs(invoice, percent="10", as_of=date(2026, 7, 15))
    assert [(s.amount, s.days, s.penalty) for s in costs.slices] == [
        (eur("708.00"), 101, eur("19.59"))  # 31 March to 10 July, the 708.00 unpaid
    ]
    assert costs.penalty == eur("19.59")


def test_a_dunning_run_may_be_dated_before_a_note_that_only_names_a_paid_invoice(tmp_path):
    store = named_paid(SQLiteStore(tmp_path / "billing.db"))
    try:
        report = run_dunning(store, as_of=date(2026, 6, 30), policy=DunningPolicy.standard())
        assert report.actions == ()
    finally:
        store.close()


# -- F7: the stored fact wins over the policy now --------------------------------------------


def test_a_note_owed_on_itself_stays_owed_on_itself_under_carry_forward(store):
    named_paid(store)
    note = store.get_invoice("F-2026-000002")
    state = store.get_billing_state("S4") or BillingState()
    assert note.names_only
    assert payments.refundable(
        state, currency="EUR", credit_note=note, negative_balance=CARRY_FORWARD
    ) == eur("473.29")
    documents = store.invoices(subscription="S4")
    report = payments.account_balance(
        documents,
        currency="EUR",
        payments=store.payments("F-2026-000001"),
        refunds=[],
        state=state,
        negative_balance=CARRY_FORWARD,
    )
    assert (report.owed_on_credit_notes, report.is_balanced) == (eur("473.29"), True)


# -- F6: the paid invoice's row stays true once the note is refunded -------------------------


def test_the_paid_invoice_row_states_what_the_note_took_over_not_what_is_still_owed(store):
    named_paid(store)
    invoice = store.get_invoice("F-2026-000001")
    french = invoice_text(invoice, locale="fr_FR")
    english = invoice_text(invoice, locale="en_US")
    assert "Remboursement par avoir" in french
    assert "Dû au client" not in french
    assert "Refund by credit note" in english
    assert "Owed to the customer" not in english


def test_the_paid_downgrade_is_unchanged(store):
    _downgraded_paid(store)
    _, note, renewal = store.invoices(subscription="S4")
    assert (note.names_only, note.applied, renewal.amount_due) == (True, None, eur("348.00"))

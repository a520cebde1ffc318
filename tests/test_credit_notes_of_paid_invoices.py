"""A credit note of a paid invoice names it, and the paid invoice lists it (issue 17 follow-up).

Review 73's R3: when the engine bills back part of periods a **paid** invoice billed (a
cancellation brought forward, a downgrade…) under ``NegativeBalancePolicy.CREDIT_NOTE``, the
credit note named no invoice (``corrects=None``) and the paid invoice listed none. Now the
note names it (``corrects``) and says it only names it (``names_only``): what it gives back
stays owed on the note, refunded against it — the money is exactly what it was before the
link, which the first tests below pin (they pass on the code before this change too).

The reviewer's scenario: Jean Petit's yearly Pro (590.00 + TVA 20 % = 708.00, billed on
1 March 2026, paid on 15 March), cancelled, the cancellation brought forward to 30 June
(billed on 1 July: −473.29 = 244/365 × 590.00 + TVA) then to 10 June (billed on 2 July:
−38.80 = 20/365 × 590.00 + TVA).
"""

from datetime import date

import attrs
import pytest

from subbill import Money
from subbill.billing import BillingState
from subbill.catalog import Catalog, ChangeTiming
from subbill.invoices import DocumentKind, InvoiceStatus, Payment
from subbill.payments import Refund, account_balance, record_refund, refundable
from subbill.service import pay_invoice, replace_subscription, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.subscriptions import Subscription
from tests.test_new_user_walk import WALK_CATALOG

CATALOG = WALK_CATALOG  # Essentiel 29.00/290.00, Pro 59.00/590.00
VAT = {"name": "TVA 20 %", "percent": "20"}
#: Jean Petit's yearly Pro: F-2026-000001, 708.00, on 1 March 2026.
JEAN = {"id": "S4", "customer": "Jean Petit", "plan": "pro", "start": "2026-03-01",
        "frequency": "annual", "tax": VAT}  # fmt: skip
#: Boulangerie Martin's yearly Essentiel: 348.00 on 1 March 2026, left unpaid but 100.00.
MARTIN = {"id": "S3", "customer": "Boulangerie Martin", "plan": "essentiel",
          "start": "2026-03-01", "frequency": "annual", "tax": VAT}  # fmt: skip


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    """An empty store of each adapter."""
    if request.param == "memory":
        yield MemoryStore()
        return
    opened = SQLiteStore(tmp_path / "billing.db")
    yield opened
    opened.close()


def billed(store, *entries):
    """``entries`` stored with the catalog and billed on 1 March 2026 (one invoice each)."""
    catalog = Catalog.from_mapping(CATALOG)
    store.save_catalog(catalog)
    for entry in entries:
        store.save_subscription(Subscription.from_mapping(entry, catalog=catalog))
    run_billing(store, as_of=date(2026, 3, 1))
    return store


def pay(store, number, amount, on=date(2026, 3, 15)):
    payment = Payment(amount=eur(amount), paid_on=on, reference=f"V-{number}")
    return pay_invoice(store, number, payment)


def bring_forward(store, subscription_id, on):
    """Cancel (if not yet) and bring the cancellation forward to ``on``."""
    subscription = store.get_subscription(subscription_id)
    if subscription.cancelled_on is None:
        subscription = subscription.cancel(on=date(2026, 4, 1))
    assert replace_subscription(store, subscription.bring_cancellation_forward(on=on))


def reviewed(store):
    """Review 73's R3 scenario: F-2026-000001 paid, then credited twice (F-…02, F-…03)."""
    billed(store, JEAN)
    pay(store, "F-2026-000001", "708.00")
    bring_forward(store, "S4", date(2026, 6, 30))
    assert run_billing(store, as_of=date(2026, 7, 1)).credit_note_count == 1
    bring_forward(store, "S4", date(2026, 6, 10))
    assert run_billing(store, as_of=date(2026, 7, 2)).credit_note_count == 1
    return store


def downgraded(store):
    """Jean's paid Pro moved to Essentiel on 1 July 2026, then renewed on 1 March 2027."""
    billed(store, JEAN)
    pay(store, "F-2026-000001", "708.00")
    catalog = store.load_catalog()
    moved = store.get_subscription("S4").change_plan(
        "essentiel", catalog, on=date(2026, 7, 1), timing=ChangeTiming.IMMEDIATE
    )
    assert replace_subscription(store, moved)
    run_billing(store, as_of=date(2026, 7, 1))
    run_billing(store, as_of=date(2027, 3, 1))
    return store


def balance_of(store, *, refunds=(), state=None):
    """``account_balance`` of S4's documents, payments as received, ``refunds`` and state."""
    documents = store.invoices(subscription="S4")
    return account_balance(
        documents,
        currency="EUR",
        payments=[payment for doc in documents for payment in store.payments(doc.number)],
        refunds=refunds,
        state=store.get_billing_state("S4") if state is None else state,
    )


# -- the money, as it was before the link (these pass on the code before it too) ---------------


def test_the_reviewed_notes_of_a_paid_invoice_are_owed_on_themselves(store):
    reviewed(store)
    invoice, first, second = store.invoices(subscription="S4")
    assert [doc.number for doc in (invoice, first, second)] == [
        "F-2026-000001",
        "F-2026-000002",
        "F-2026-000003",
    ]
    assert (first.kind, first.total, first.issued_on) == (
        DocumentKind.CREDIT_NOTE,
        eur("-473.29"),  # 244/365 × 590.00 = 394.41, + 78.88 TVA
        date(2026, 7, 1),
    )
    assert (second.total, second.issued_on) == (eur("-38.80"), date(2026, 7, 2))  # 32.33 + 6.47
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == (
        InvoiceStatus.PAID,
        eur("0.00"),
        eur("708.00"),
    )
    state = store.get_billing_state("S4")
    assert state.credit_balance is None  # nothing went to the credit balance
    assert refundable(state, currency="EUR") == eur("0")
    assert refundable(state, currency="EUR", credit_note=first) == eur("473.29")
    assert refundable(state, currency="EUR", credit_note=second) == eur("38.80")
    report = balance_of(store, state=state)
    assert (report.received, report.paid_on_invoices, report.owed_on_credit_notes) == (
        eur("708.00"),
        eur("195.91"),  # 708.00 − 473.29 − 38.80
        eur("512.09"),
    )
    assert report.credit_balance.is_zero()
    assert report.is_balanced


def test_refunding_the_reviewed_notes_pays_them_out_and_leaves_the_balance(store):
    reviewed(store)
    _, first, second = store.invoices(subscription="S4")
    state = store.get_billing_state("S4") or BillingState()
    refunds = [
        Refund(amount=eur("473.29"), refunded_on=date(2026, 7, 3), credit_note=first.number),
        Refund(amount=eur("38.80"), refunded_on=date(2026, 7, 3), credit_note=second.number),
    ]
    for note, refund in zip((first, second), refunds, strict=True):
        assert record_refund(refund, state, credit_note=note, refunds=refunds[:0]) == state
        too_much = attrs.evolve(refund, amount=refund.amount + eur("0.01"))
        with pytest.raises(Exception, match=f"<= {refund.amount}"):
            record_refund(too_much, state, credit_note=note)
    assert refundable(state, currency="EUR", credit_note=first, refunds=refunds) == eur("0.00")
    report = balance_of(store, refunds=refunds, state=state)
    assert (report.owed_on_credit_notes, report.refunded) == (eur("0.00"), eur("512.09"))
    assert report.is_balanced


def test_a_downgrade_of_a_paid_invoice_is_owed_on_its_note_and_the_renewal_asks_its_total(store):
    downgraded(store)
    invoice, note, renewal = store.invoices(subscription="S4")
    # Pro credited from 1 July (245/365 × 590.00) and Essentiel charged (245/365 × 290.00),
    # with their TVA: a credit note of −239.67 on 1 July.
    assert (note.kind, note.total, note.issued_on) == (
        DocumentKind.CREDIT_NOTE,
        eur("-239.67"),
        date(2026, 7, 1),
    )
    assert (invoice.status, invoice.amount_due) == (InvoiceStatus.PAID, eur("0.00"))
    # The renewal uses no credit: the note is refunded, not carried to the next invoice.
    assert (renewal.number, renewal.total, renewal.credit_applied, renewal.amount_due) == (
        "F-2027-000001",
        eur("348.00"),
        None,
        eur("348.00"),
    )
    state = store.get_billing_state("S4")
    assert state.credit_balance is None
    assert refundable(state, currency="EUR", credit_note=note) == eur("239.67")
    report = balance_of(store, state=state)
    assert (report.due, report.owed_on_credit_notes) == (eur("348.00"), eur("239.67"))
    assert report.is_balanced

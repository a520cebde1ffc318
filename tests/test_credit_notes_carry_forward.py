"""Review 83 (issue 17 follow-up): credit notes under ``CARRY_FORWARD`` cancel what is due.

The review's walk (a French SaaS, yearly Pro 590.00 € + TVA 20 % billed on 1 March 2026;
J1 paid 708.00, J2 paid 700.00, J3 paid nothing; on 1 July J1 and J3 cancelled, J2 moved
to Essentiel), under ``NegativeBalancePolicy.CARRY_FORWARD``:

- F1: the engine's note of periods an open invoice billed cancels what is still due on it;
  only the rest stays in the credit balance (J3 was dunned for 708.00 € while 471.35 € of
  credit sat in the balance of a cancelled subscription; J2 suspended for 8.00 €).
- F2: the engine's notes name the invoice they correct (number and date), paid or not, and
  can be made into Factur-X.

Each test failed before the fix.
"""

import io
from datetime import date
from decimal import Decimal
from html import escape as html_escape

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import payments
from subbill.billing import BillingState, BillingTerms, NegativeBalancePolicy, bill_subscription
from subbill.catalog import Catalog
from subbill.errors import InvalidArgumentError, InvalidStateError, InvalidTypeError
from subbill.invoices import DocumentKind, InvoiceStatus, Payment
from subbill.l10n.invoice import invoice_html, invoice_text, settlement_rows
from subbill.pdf import render_invoice_pdf
from subbill.service import pay_invoice, replace_subscription, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.subscriptions import Subscription
from tests.test_credit_notes_of_paid_invoices import VAT, eur
from tests.test_credit_notes_of_paid_invoices import store as _each_store
from tests.test_new_user_walk import WALK_CATALOG

CARRY_FORWARD = NegativeBalancePolicy.CARRY_FORWARD
#: The review's catalog (scratch/cat.json): Essentiel 290 / Pro 590 a year, downgrades now.
CATALOG = {**WALK_CATALOG, "policy": {"downgrade": "immediate"}}
CUSTOMERS = {
    "J1": "Jean Dupont SARL",
    "J2": "Marie Durand",
    "J3": "Paul Martin",
    "J4": "Unpaid SAS",
}


store = _each_store  # the fixture: an empty store of each adapter


def loaded(store, ids=("J1", "J2", "J3", "J4"), policy=CARRY_FORWARD):
    """The review's subscriptions under ``policy``, billed on 1 March 2026 (708.00 each)."""
    catalog = Catalog.from_mapping(CATALOG)
    store.save_catalog(catalog)
    for sid in ids:
        entry = {"id": sid, "customer": CUSTOMERS[sid], "plan": "pro", "start": "2026-03-01",
                 "frequency": "annual", "billing_day": 1, "tax": VAT}  # fmt: skip
        subscription = Subscription.from_mapping(entry, catalog=catalog)
        store.save_subscription(
            attrs.evolve(subscription, terms=BillingTerms(negative_balance=policy))
        )
    run_billing(store, as_of=date(2026, 3, 1))
    return store


def pay(store, number, amount):
    payment = Payment(amount=eur(amount), paid_on=date(2026, 3, 15), reference=f"V-{number}")
    return pay_invoice(store, number, payment)


def walked(store, policy=CARRY_FORWARD):
    """The review's t03: J1 paid 708, J2 paid 700, J3 nothing; 1 July changes, billed."""
    loaded(store, policy=policy)
    pay(store, "F-2026-000001", "708.00")
    pay(store, "F-2026-000002", "700.00")
    catalog = store.load_catalog()
    july = date(2026, 7, 1)
    replace_subscription(store, store.get_subscription("J1").cancel(on=july, at_period_end=False))
    replace_subscription(
        store, store.get_subscription("J2").change_plan("essentiel", catalog, on=july)
    )
    replace_subscription(store, store.get_subscription("J3").cancel(on=july, at_period_end=False))
    report = run_billing(store, as_of=july)
    assert (report.credit_note_count, report.first_number, report.last_number) == (
        3,
        "F-2026-000005",
        "F-2026-000007",
    )
    return store


def balance_of(store, sid):
    documents = store.invoices(subscription=sid)
    received = [p for doc in documents if doc.number for p in store.payments(doc.number)]
    return payments.account_balance(
        documents,
        currency="EUR",
        payments=received,
        refunds=[],
        state=store.get_billing_state(sid),
        negative_balance=CARRY_FORWARD,
    )


# -- F1 and F2: the worked numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("sid", "number", "total", "corrected", "status", "due", "balance"),
    [
        # J3 paid nothing: 708.00 − 471.35 still due (what dunning claims), nothing in credit
        ("J3", "F-2026-000007", "-471.35", "F-2026-000003", "open", "236.65", "0.00"),
        # J2 paid 700.00: the 8.00 due cancelled, 239.67 − 8.00 carried to the balance
        ("J2", "F-2026-000006", "-239.67", "F-2026-000002", "paid", "0.00", "231.67"),
    ],
)
def test_the_note_cancels_what_is_due_and_the_rest_stays_in_the_balance(
    store, sid, number, total, corrected, status, due, balance
):
    walked(store)
    invoice, note = store.invoices(subscription=sid)
    assert (note.number, note.kind, note.total, note.corrects) == (
        number,
        DocumentKind.CREDIT_NOTE,
        eur(total),
        corrected,
    )
    assert (note.names_only, note.applied) == (False, None)
    assert (invoice.status, invoice.amount_due) == (InvoiceStatus(status), eur(due))
    state = store.get_billing_state(sid)
    assert state.credit_balance == eur(balance)
    assert payments.refundable(
        state, currency="EUR", credit_note=note, negative_balance=CARRY_FORWARD
    ) == eur(balance)
    report = balance_of(store, sid)
    assert (report.due, report.credit_balance, report.is_balanced) == (
        eur(due),
        eur(balance),
        True,
    )


def test_j1_paid_its_note_names_the_invoice_and_the_whole_credit_is_in_the_balance(store):
    walked(store)
    invoice, note = store.invoices(subscription="J1")
    assert (note.number, note.total, note.corrects) == (
        "F-2026-000005",
        eur("-471.35"),
        "F-2026-000001",
    )
    assert (invoice.status, invoice.amount_due, invoice.creditable) == (
        InvoiceStatus.PAID,
        eur("0"),
        eur("236.65"),
    )
    state = store.get_billing_state("J1")
    assert state.credit_balance == eur("471.35")
    assert payments.refundable(
        state, currency="EUR", credit_note=note, negative_balance=CARRY_FORWARD
    ) == eur("471.35")
    assert balance_of(store, "J1").is_balanced


def test_credit_note_policy_is_unchanged_by_the_walk(store):
    walked(store, policy=NegativeBalancePolicy.CREDIT_NOTE)
    _, j1 = store.invoices(subscription="J1")
    _, j2 = store.invoices(subscription="J2")
    _, j3 = store.invoices(subscription="J3")
    assert (j1.names_only, j2.applied, j3.corrects) == (True, eur("8.00"), "F-2026-000003")
    assert store.get_invoice("F-2026-000003").amount_due == eur("236.65")
    assert all(
        (store.get_billing_state(sid).credit_balance or eur("0")).is_zero()
        for sid in ("J1", "J2", "J3")
    )


# -- the pure API gives exactly what the store stores ------------------------------------------


def test_link_credit_note_under_carry_forward_gives_what_the_store_stores(store):
    walked(store)
    pure = loaded(MemoryStore())
    pay(pure, "F-2026-000001", "708.00")
    pay(pure, "F-2026-000002", "700.00")
    catalog = pure.load_catalog()
    july = date(2026, 7, 1)
    changed = {
        "J1": pure.get_subscription("J1").cancel(on=july, at_period_end=False),
        "J2": pure.get_subscription("J2").change_plan("essentiel", catalog, on=july),
        "J3": pure.get_subscription("J3").cancel(on=july, at_period_end=False),
    }
    for number, sid in enumerate(("J1", "J2", "J3"), start=5):
        (invoice,) = pure.invoices(subscription=sid)
        billed = bill_subscription(
            changed[sid].to_charge_plan(catalog), pure.get_billing_state(sid), as_of=july
        )
        link = payments.link_credit_note(billed.invoice, [invoice], negative_balance=CARRY_FORWARD)
        assert link.invoice == invoice
        note = link.note.finalize(number=f"F-2026-{number:06d}")
        result = payments.record_credit_note(invoice, note, billed.state, in_balance=True)
        assert store.get_invoice(note.number) == note
        assert store.get_invoice(invoice.number) == result.invoice
        assert store.get_billing_state(sid) == result.state


def test_in_balance_is_checked():
    store = walked(MemoryStore())
    invoice = store.get_invoice("F-2026-000003")
    (stored,) = store.invoices(subscription="J3")[1:]
    note = attrs.evolve(stored, number=None, status=InvoiceStatus.DRAFT).finalize(
        number="F-2026-000099"
    )
    with pytest.raises(InvalidStateError, match=r"does not hold the 471\.35 EUR"):
        payments.record_credit_note(
            attrs.evolve(invoice, corrections=(), status=InvoiceStatus.OPEN),
            note,
            BillingState(credit_balance=eur("100.00")),
            in_balance=True,
        )
    with pytest.raises(InvalidTypeError, match="in_balance"):
        payments.record_credit_note(invoice, note, BillingState(), in_balance="yes")
    named = attrs.evolve(note, names_only=True)
    with pytest.raises(InvalidArgumentError, match="names_only=True"):
        payments.record_credit_note(invoice, named, BillingState(), in_balance=True)


# -- the invariant -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(paid_cents=st.integers(0, 70_800), cancelled_on=st.integers(1, 360))
def test_under_carry_forward_balance_plus_cancelled_is_the_notes_amount(paid_cents, cancelled_on):
    store = loaded(MemoryStore(), ids=("J3",))
    if paid_cents:
        pay(store, "F-2026-000001", str(Decimal(paid_cents) / 100))
    day = date.fromordinal(date(2026, 3, 1).toordinal() + cancelled_on)
    replace_subscription(store, store.get_subscription("J3").cancel(on=day, at_period_end=False))
    run_billing(store, as_of=day)
    invoice, note = store.invoices(subscription="J3")
    due_before = eur("708.00") - eur(str(Decimal(paid_cents) / 100))
    cancelled = due_before - invoice.amount_due
    state = store.get_billing_state("J3")
    balance = state.credit_balance or eur("0")
    assert note.corrects == "F-2026-000001"
    assert balance + cancelled == -note.total
    assert cancelled == min(due_before, -note.total)
    report = balance_of(store, "J3")
    assert report.is_balanced
    assert report.due == invoice.amount_due


# -- end to end: a SQLite file and the ``subbill`` commands ------------------------------------


@pytest.fixture
def walked_db(tmp_path):
    """The review's t03/t04 in a SQLite file, closed: what ``subbill`` commands open."""
    db = tmp_path / "cf.db"
    walked(SQLiteStore(db)).close()
    return db


def test_subbill_dunning_claims_what_is_still_due_and_spares_j2(capsys, walked_db):
    from tests.test_cli import run  # noqa: PLC0415  (the CLI tests' runner)

    argv = ("dunning", "--as-of", "2026-07-15", "--locale", "fr_FR", "--db", walked_db)
    status, out, err = run(capsys, *argv)
    assert (status, err) == (0, "")
    text = " ".join(out.split())  # the letters are wrapped
    assert "F-2026-000003 (Paul Martin)" in text
    assert "F-2026-000004 (Unpaid SAS)" in text  # unpaid, not credited: 708,00 €
    assert "F-2026-000002" not in text  # J2: its note cancelled the 8,00 € due
    assert "236,65 €" in text  # J3: 708,00 − 471,35, what is still due
    assert text.count("708,00 €") == 1  # J4's only


def test_subbill_invoice_show_names_the_invoice_the_carry_forward_note_corrects(capsys, walked_db):
    from tests.test_cli import run  # noqa: PLC0415

    for note, invoice in (("F-2026-000007", "F-2026-000003"), ("F-2026-000005", "F-2026-000001")):
        argv = ("invoice", "show", note, "--db", walked_db, "--locale", "fr_FR")
        status, out, err = run(capsys, *argv)
        assert (status, err) == (0, "")
        assert f"Avoir sur la facture : {invoice} du 1 mars 2026" in out.splitlines()
    status, out, err = run(capsys, "invoice", "show", "F-2026-000003", "--db", walked_db)
    assert (status, err) == (0, "")
    assert out.splitlines()[-1].split() == ["Amount", "due", "€236.65"]


# -- F6, F10: the credit note says how it settles ----------------------------------------------


@pytest.mark.parametrize(
    ("policy", "number", "rows"),
    [
        # J2 paid 700.00: 8.00 cancelled, the rest refunded on the note (CREDIT_NOTE)
        (NegativeBalancePolicy.CREDIT_NOTE, "F-2026-000006",
         [("Imputé sur la facture F-2026-000002", "8.00"),
          ("À rembourser au titre de cet avoir", "231.67")]),
        # ... or carried to the credit balance (CARRY_FORWARD)
        (CARRY_FORWARD, "F-2026-000006",
         [("Imputé sur la facture F-2026-000002", "8.00"),
          ("Reporté au crédit client", "231.67")]),
        # J3 unpaid: all of it cancelled on F-2026-000003
        (CARRY_FORWARD, "F-2026-000007", [("Imputé sur la facture F-2026-000003", "471.35")]),
        # J1 paid: all of it owed on the note, or carried
        (NegativeBalancePolicy.CREDIT_NOTE, "F-2026-000005",
         [("À rembourser au titre de cet avoir", "471.35")]),
        (CARRY_FORWARD, "F-2026-000005", [("Reporté au crédit client", "471.35")]),
    ],
)  # fmt: skip
def test_the_credit_note_shows_how_it_settles(policy, number, rows):
    pypdf = pytest.importorskip("pypdf")
    store = walked(MemoryStore(), policy=policy)
    note = store.get_invoice(number)
    corrected = store.get_invoice(note.corrects)
    found = settlement_rows(note, locale="fr_FR", corrected=corrected)
    assert found == [(words, eur(amount)) for words, amount in rows]
    assert sum((amount for _, amount in found), start=note.total) == eur("0")
    text = invoice_text(note, locale="fr_FR", corrected=corrected)
    html = invoice_html(note, locale="fr_FR", corrected=corrected)
    pdf = render_invoice_pdf(note, locale="fr_FR", corrected=corrected)
    pages = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for words, _ in rows:
        assert words in text
        assert html_escape(words) in html
        assert words in " ".join(pages.split())
    assert settlement_rows(note, locale="fr_FR") == []  # without its invoice: nothing known


def test_the_invoice_row_of_what_a_note_refunds_says_refund():
    store = walked(MemoryStore(), policy=NegativeBalancePolicy.CREDIT_NOTE)
    invoice = store.get_invoice("F-2026-000002")
    assert settlement_rows(invoice, locale="fr_FR")[-2:] == [
        ("Remboursement par avoir", eur("231.67")),
        ("Reste à payer", eur("0.00")),
    ]
    assert ("Refund by credit note", eur("231.67")) in settlement_rows(invoice, locale="en_US")

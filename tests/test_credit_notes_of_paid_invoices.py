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

import json
import re
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from subbill import Money
from subbill.billing import (
    BillingState,
    NegativeBalancePolicy,
    bill_subscription,
    draft_invoice,
    record_payment,
)
from subbill.catalog import Catalog, ChangeTiming
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import (
    Correction,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    credit_note_for,
    one_time_line,
)
from subbill.l10n.invoice import settlement_rows
from subbill.payments import (
    CreditNoteLink,
    Refund,
    account_balance,
    link_credit_note,
    record_credit_note,
    record_refund,
    refundable,
)
from subbill.portal import InvoiceLabel, portal_overview
from subbill.service import pay_invoice, replace_subscription, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import StoredDataError, dumps, loads
from subbill.subscriptions import Subscription
from subbill.taxes import TaxRate
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


# -- the link: the note names the paid invoice, which lists it --------------------------------


def test_the_reviewed_notes_name_the_paid_invoice_and_it_lists_them(store):
    reviewed(store)
    invoice, first, second = store.invoices(subscription="S4")
    assert (first.corrects, first.names_only) == ("F-2026-000001", True)
    assert (second.corrects, second.names_only) == ("F-2026-000001", True)
    assert [
        (c.credit_note, c.credited_on, c.amount, c.names_only) for c in invoice.corrections
    ] == [
        ("F-2026-000002", date(2026, 7, 1), eur("473.29"), True),
        ("F-2026-000003", date(2026, 7, 2), eur("38.80"), True),
    ]
    # Still paid, nothing due; what may still be credited counts both notes.
    assert (invoice.status, invoice.amount_due) == (InvoiceStatus.PAID, eur("0.00"))
    assert (invoice.credited, invoice.creditable) == (eur("512.09"), eur("195.91"))


def test_a_downgrade_note_names_the_paid_invoice_it_bills_back(store):
    downgraded(store)
    invoice, note, _ = store.invoices(subscription="S4")
    assert (note.corrects, note.names_only) == ("F-2026-000001", True)
    # Its credit lines credit 471.35 of the paid year; 231.68 of it pays Essentiel on the
    # note (consumed), which gives back 239.67, owed on itself (issue 17, credit lines).
    assert [
        (c.credit_note, c.amount, c.consumed, c.names_only, c.owed_on_note)
        for c in invoice.corrections
    ] == [("F-2026-000002", eur("471.35"), eur("231.68"), True, eur("239.67"))]


def test_an_unpaid_invoice_is_still_settled_by_its_note_beside_a_paid_one_in_one_run(store):
    # S3 (348.00, 100.00 paid) and S4 (708.00 paid) brought forward to 30 June, billed in
    # one page: S3's note is applied to F-2026-000001 (it cancels 232.63 of the 248.00 still
    # due, as before); S4's note only names F-2026-000002.
    billed(store, MARTIN, JEAN)  # F-…01 is S3's (id order), F-…02 S4's
    pay(store, "F-2026-000001", "100.00")
    pay(store, "F-2026-000002", "708.00")
    bring_forward(store, "S3", date(2026, 6, 30))
    bring_forward(store, "S4", date(2026, 6, 30))
    report = run_billing(store, as_of=date(2026, 7, 1), batch_size=2)
    assert (report.credit_note_count, report.first_number, report.last_number) == (
        2,
        "F-2026-000003",
        "F-2026-000004",
    )
    s3_invoice, s3_note = store.invoices(subscription="S3")
    s4_invoice, s4_note = store.invoices(subscription="S4")
    assert (s3_note.total, s3_note.corrects, s3_note.names_only) == (
        eur("-232.63"),  # 244/365 × 290.00 + TVA
        "F-2026-000001",
        False,
    )
    # 348.00 − 100.00 = 248.00 still due: 232.63 of it cancelled, 15.37 left to pay.
    assert (s3_invoice.amount_due, s3_invoice.status) == (
        eur("15.37"),
        InvoiceStatus.PARTIALLY_PAID,
    )
    assert store.get_billing_state("S3").credit_balance is None
    assert (s4_note.total, s4_note.corrects, s4_note.names_only) == (
        eur("-473.29"),
        "F-2026-000002",
        True,
    )
    assert [c.names_only for c in s4_invoice.corrections] == [True]
    assert store.get_billing_state("S4").credit_balance is None


# -- subbill invoice show, end to end on a SQLite file ------------------------------------------


@pytest.fixture
def reviewed_db(tmp_path):
    """The reviewed scenario in a SQLite file, closed: what ``subbill`` commands open."""
    db = tmp_path / "t03.db"
    reviewed(SQLiteStore(db)).close()
    return db


def shown(capsys, db, number, *options, locale="fr_FR"):
    """``subbill invoice show NUMBER --db DB --locale LOCALE OPTIONS``: its output lines."""
    from tests.test_cli import run  # noqa: PLC0415  (the CLI tests' runner)

    status, out, err = run(
        capsys, "invoice", "show", number, "--db", db, "--locale", locale, *options
    )
    assert (status, err) == (0, ""), err
    return out.splitlines()


PAID_TOTALS_FR = [
    "Total TTC                               708,00 €",
    "Déjà payé                              -708,00 €",
    "Avoir F-2026-000002 du 1 juillet 2026  -473,29 €",
    "Avoir F-2026-000003 du 2 juillet 2026   -38,80 €",
    "Remboursement par avoir                 512,09 €",
    "Reste à payer                             0,00 €",
]


def test_invoice_show_of_the_paid_invoice_lists_its_notes_and_adds_up(capsys, reviewed_db):
    totals = shown(capsys, reviewed_db, "F-2026-000001")[-6:]
    assert [
        " ".join(line.replace("\u202f", " ").replace("\xa0", " ").split()) for line in totals
    ] == [" ".join(line.split()) for line in PAID_TOTALS_FR]
    # 708.00 − 708.00 − 473.29 − 38.80 + 512.09 = 0.00: the rows add up to what is due
    english = shown(capsys, reviewed_db, "F-2026-000001", locale="en_US")[-4:]
    assert [line.split("  ")[0] for line in english] == [
        "Credit note F-2026-000002 of July 1, 2026",
        "Credit note F-2026-000003 of July 2, 2026",
        "Refund by credit note",
        "Amount due",
    ]
    assert english[-2].split()[-1] == "€512.09"


def test_invoice_show_of_each_note_names_the_paid_invoice(capsys, reviewed_db):
    for number in ("F-2026-000002", "F-2026-000003"):
        lines = shown(capsys, reviewed_db, number)
        assert lines[0] == f"Avoir {number} (émis)"
        assert "Avoir sur la facture : F-2026-000001 du 1 mars 2026" in lines
        assert not any("Reste à payer" in line or "Échéance" in line for line in lines)


def test_the_pdfs_of_the_paid_invoice_and_its_note_name_each_other(capsys, tmp_path, reviewed_db):
    pytest.importorskip("fpdf")
    pytest.importorskip("pypdf")
    from tests.test_cli_facturx import pdf_text  # noqa: PLC0415  (pypdf when asked)

    shown(capsys, reviewed_db, "F-2026-000001", "--pdf", tmp_path / "invoice.pdf")
    text = pdf_text(tmp_path / "invoice.pdf").replace("\u202f", " ")
    assert (
        "Total TTC 708,00 € Déjà payé -708,00 € Avoir F-2026-000002 du 1 juillet 2026 -473,29 € "
        "Avoir F-2026-000003 du 2 juillet 2026 -38,80 € Remboursement par avoir 512,09 € "
        "Reste à payer 0,00 €"
    ) in text
    shown(capsys, reviewed_db, "F-2026-000002", "--pdf", tmp_path / "note.pdf")
    note = pdf_text(tmp_path / "note.pdf").replace("\u202f", " ")
    assert "Avoir sur la facture : F-2026-000001 du 1 mars 2026" in note
    assert "Reste à payer" not in note


def test_the_facturx_of_a_paid_invoices_note_refers_to_it_and_passes_the_checks(
    capsys, tmp_path, reviewed_db, rules
):
    facturx = pytest.importorskip("facturx")
    pytest.importorskip("fpdf")
    pytest.importorskip("pypdf")
    from tests.test_cli_facturx import doc_example, pdf_text  # noqa: PLC0415  (when asked)

    seller = tmp_path / "seller.toml"
    seller.write_text(doc_example("Seller", "toml"), encoding="utf-8")
    record = json.loads(doc_example("Customer", "json")) | {"id": "Jean Petit"}
    buyer = tmp_path / "buyer.json"
    buyer.write_text(json.dumps(record), encoding="utf-8")
    out_file = tmp_path / "avoir.pdf"
    shown(
        capsys, reviewed_db, "F-2026-000002",
        "--facturx", out_file, "--seller", seller, "--buyer", buyer,
    )  # fmt: skip
    printed = pdf_text(out_file).replace("\u202f", " ")
    assert "Avoir sur la facture : F-2026-000001 du 1 mars 2026" in printed
    _, xml = facturx.get_xml_from_pdf(out_file.read_bytes(), check_xsd=True)
    text = xml.decode()
    assert "<ram:ID>F-2026-000002</ram:ID><ram:TypeCode>381<" in "".join(text.split())
    # BT-25 and BT-26: the paid invoice, its number and date
    reference = re.search(
        r"<ram:InvoiceReferencedDocument>(.*?)</ram:InvoiceReferencedDocument>", text, re.DOTALL
    )
    assert reference is not None
    assert "<ram:IssuerAssignedID>F-2026-000001</ram:IssuerAssignedID>" in reference.group(1)
    assert ">20260301<" in reference.group(1)
    # A credit note keeps the late-payment notes PMD and PMT: BR-FR-05 asks them of every
    # document the French platforms carry, credit notes included (without them it fails).
    assert "<ram:SubjectCode>PMD</ram:SubjectCode>" in text
    assert "<ram:SubjectCode>PMT</ram:SubjectCode>" in text
    assert rules.errors(xml) == []
    late_note = r"<ram:IncludedNote>(?:(?!</ram:IncludedNote>).)*?PM[DT]</ram:SubjectCode>"
    stripped = re.sub(late_note + r".*?</ram:IncludedNote>", "", text, flags=re.DOTALL)
    assert "PMD" not in stripped
    assert {rule for _, rule, _ in rules.errors(stripped.encode())} >= {"BR-FR-05"}


# -- the portal lists each credit note with the invoice it corrects ----------------------------


def test_the_portal_lists_the_notes_of_the_paid_invoice_with_it(capsys, reviewed_db):
    from tests.test_cli import run  # noqa: PLC0415  (the CLI tests' runner)

    store = SQLiteStore(reviewed_db, read_only=True)
    overview = portal_overview(
        "Jean Petit",
        catalog=store.load_catalog(),
        invoices=store.invoices(),
        subscriptions=[store.get_subscription("S4")],
        as_of=date(2026, 7, 3),
    )
    store.close()
    assert [(row.number, row.label, row.corrects) for row in overview.invoices] == [
        ("F-2026-000003", InvoiceLabel.CREDIT_NOTE, "F-2026-000001"),
        ("F-2026-000002", InvoiceLabel.CREDIT_NOTE, "F-2026-000001"),
        ("F-2026-000001", InvoiceLabel.PAID, None),
    ]
    status, out, err = run(
        capsys, "portal", "Jean Petit", "--as-of", "2026-07-03", "--db", reviewed_db,
        "--locale", "fr_FR",
    )  # fmt: skip
    assert (status, err) == (0, "")
    rows = [line for line in out.splitlines() if line.startswith("F-2026-00000")]
    assert [line.split("  ")[0] for line in rows] == [
        "F-2026-000003",
        "F-2026-000002",
        "F-2026-000001",
    ]
    assert ["Avoir sur F-2026-000001" in line for line in rows] == [True, True, False]


# -- the pure API: bill_subscription, link_credit_note, record_credit_note ---------------------


def _pure_jean(*, paid: str | None):
    """Jean's Pro billed on 1 March 2026 (paid ``paid``), brought forward to 30 June, billed."""
    catalog = Catalog.from_mapping(CATALOG)
    subscription = Subscription.from_mapping(JEAN, catalog=catalog)
    first = bill_subscription(subscription.to_charge_plan(catalog), as_of=date(2026, 3, 1))
    invoice = first.invoice.finalize(number="F-2026-000001")
    state = first.state
    if paid is not None:
        payment = Payment(amount=eur(paid), paid_on=date(2026, 3, 15))
        invoice, state = record_payment(invoice, payment, state)
    ended = subscription.cancel(on=date(2026, 4, 1)).bring_cancellation_forward(
        on=date(2026, 6, 30)
    )
    later = bill_subscription(ended.to_charge_plan(catalog), state, as_of=date(2026, 7, 1))
    return invoice, later


def test_the_pure_api_names_a_paid_invoice_and_moves_no_money():
    invoice, later = _pure_jean(paid="708.00")
    assert (later.invoice.corrects, later.invoice.total) == (None, eur("-473.29"))
    link = link_credit_note(later.invoice, [invoice])
    assert link.invoice is invoice
    assert (link.note.corrects, link.note.names_only, link.note.total) == (
        "F-2026-000001",
        True,
        eur("-473.29"),
    )
    note = link.note.finalize(number="F-2026-000002")
    result = record_credit_note(link.invoice, note, later.state)
    assert (result.state, result.returned) == (later.state, eur("0.00"))
    assert [(c.credit_note, c.names_only) for c in result.invoice.corrections] == [
        ("F-2026-000002", True)
    ]
    assert result.invoice.amount_due.is_zero()
    assert result.invoice.is_paid
    assert refundable(result.state, currency="EUR", credit_note=note) == eur("473.29")
    # the very note run_billing stores (its first run of the reviewed scenario)
    assert reviewed(MemoryStore()).get_invoice("F-2026-000002") == note


def test_the_pure_api_applies_a_note_to_an_invoice_that_still_owes():
    invoice, later = _pure_jean(paid="100.00")
    link = link_credit_note(later.invoice, [invoice])
    assert (link.note.corrects, link.note.names_only) == ("F-2026-000001", False)
    note = link.note.finalize(number="F-2026-000002")
    result = record_credit_note(link.invoice, note, later.state)
    # 608.00 still due: 473.29 of it cancelled, 134.71 left, nothing returned
    assert (result.invoice.amount_due, result.returned) == (eur("134.71"), eur("0.00"))


def test_link_credit_note_leaves_alone_what_it_does_not_link():
    invoice, later = _pure_jean(paid="708.00")
    draft = later.invoice
    # issue 17 follow-up (review 83, F2): a CARRY_FORWARD note names the paid invoice too,
    # applied whole (what it gives back stays in the balance), never names_only
    carried = link_credit_note(
        draft, [invoice], negative_balance=NegativeBalancePolicy.CARRY_FORWARD
    )
    assert (carried.note, carried.invoice) == (
        attrs.evolve(draft, corrects="F-2026-000001"),
        invoice,
    )
    # no invoice of the subscription billed those periods
    assert link_credit_note(draft, []) == CreditNoteLink(note=draft, invoice=None)
    other = attrs.evolve(invoice, subscription="S9")
    assert link_credit_note(draft, [other]).invoice is None
    # credited so much already that the note does not fit: it stands alone
    gesture = one_time_line("geste", "Geste", eur("600.00"))
    first = attrs.evolve(credit_note_for(invoice, issued_on=date(2026, 6, 1), lines=[gesture]),
                         names_only=True).finalize(number="F-2026-000002")  # fmt: skip
    assert link_credit_note(draft, [invoice.name_credit_note(first)]).invoice is None
    # an invoice is not a credit note to link
    assert link_credit_note(invoice_draft := _pure_jean(paid=None)[1].invoice, []).invoice is None
    assert invoice_draft.kind is DocumentKind.CREDIT_NOTE


def test_link_credit_note_refuses_a_numbered_note_and_what_is_not_an_invoice():
    invoice, later = _pure_jean(paid="708.00")
    with pytest.raises(InvalidStateError, match="draft=F-2026-000002 is open: name the invoice"):
        link_credit_note(later.invoice.finalize(number="F-2026-000002"), [invoice])
    with pytest.raises(InvalidTypeError, match="draft='F-1' must be a draft credit note"):
        link_credit_note("F-1", [invoice])
    with pytest.raises(InvalidTypeError, match=r"invoices\[0\]='F-2026-000001' must be an Invoice"):
        link_credit_note(later.invoice, ["F-2026-000001"])
    with pytest.raises(InvalidTypeError, match="negative_balance='refund'"):
        link_credit_note(later.invoice, [invoice], negative_balance="refund")


# -- the stored fact: checked where it is built, read back as written ------------------------


def _paid_and_named(amount="40.00"):
    """A paid 100.00 invoice, and a credit note of ``amount`` that only names it."""
    invoice = draft_invoice(
        customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        lines=[one_time_line("setup", "Installation", eur("100.00"))],
    ).finalize(number="F-2026-000001")  # fmt: skip
    paid = invoice.apply_payment(Payment(amount=eur("100.00"), paid_on=date(2026, 3, 2))).invoice
    draft = credit_note_for(
        paid, issued_on=date(2026, 3, 9), lines=[one_time_line("geste", "Geste", eur(amount))]
    )
    return paid, attrs.evolve(draft, names_only=True).finalize(number="F-2026-000002")


def test_a_note_names_only_an_invoice_it_corrects_and_a_bool_says_so():
    paid, note = _paid_and_named()
    with pytest.raises(InvalidArgumentError, match="names_only=True needs corrects"):
        attrs.evolve(note, corrects=None)
    with pytest.raises(InvalidTypeError, match="names_only='yes' must be a bool"):
        attrs.evolve(note, names_only="yes")
    with pytest.raises(InvalidArgumentError, match="only a credit note corrects an invoice"):
        attrs.evolve(paid, names_only=True, corrects="F-0")
    with pytest.raises(InvalidTypeError, match="names_only=1 must be a bool"):
        Correction(credit_note="F-2", credited_on=date(2026, 3, 9), amount=eur("1"), names_only=1)


def test_an_invoice_that_owes_something_is_never_named_only():
    paid, note = _paid_and_named()
    unpaid = attrs.evolve(paid, payments=(), status=InvoiceStatus.OPEN)
    with pytest.raises(InvalidStateError, match=r"invoice F-2026-000001 still owes 100\.00 EUR"):
        unpaid.name_credit_note(note)
    # nor built so: a named-only correction on an invoice 60.00 short of settled
    named = paid.name_credit_note(note)
    with pytest.raises(InvalidArgumentError, match=r"but 60.00 EUR of it is not settled otherwise"):
        attrs.evolve(named, payments=(Payment(amount=eur("40.00"), paid_on=date(2026, 3, 2)),))


def test_a_note_is_named_or_applied_as_it_says_once_and_within_what_is_creditable():
    paid, note = _paid_and_named()
    with pytest.raises(InvalidArgumentError, match="names_only=True: it only names invoice"):
        paid.apply_credit_note(note)
    applied_note = attrs.evolve(note, names_only=False)
    with pytest.raises(InvalidArgumentError, match="names_only=False: it is applied to"):
        paid.name_credit_note(applied_note)
    named = paid.name_credit_note(note)
    assert (named.status, named.amount_due, named.credited, named.creditable) == (
        InvoiceStatus.PAID, eur("0"), eur("40.00"), eur("60.00"),
    )  # fmt: skip
    with pytest.raises(InvalidStateError, match="credit note F-2026-000002 names invoice F-2026"):
        named.name_credit_note(note)
    _, big = _paid_and_named("60.01")
    big = attrs.evolve(big, number="F-2026-000003")
    with pytest.raises(
        OutOfBoundsError, match=r"credit=Money\('60\.01', 'EUR'\) must be <= 60\.00 EUR"
    ):
        named.name_credit_note(big)
    # an applied gesture after it gives all it credits back to the credit balance
    gesture = credit_note_for(
        named, issued_on=date(2026, 3, 10), lines=[one_time_line("g", "G", eur("10.00"))]
    ).finalize(number="F-2026-000003")
    result = record_credit_note(named, gesture, BillingState())
    assert (result.returned, result.state.credit_balance) == (eur("10.00"), eur("10.00"))
    rows = settlement_rows(result.invoice, locale="en_US")
    assert rows == [
        ("Paid", eur("-100.00")),
        ("Credit note F-2026-000002 of March 9, 2026", eur("-40.00")),
        ("Credit note F-2026-000003 of March 10, 2026", eur("-10.00")),
        ("Returned to customer credit", eur("10.00")),
        ("Refund by credit note", eur("40.00")),
        ("Amount due", eur("0.00")),
    ]
    # the total and the rows but the last add up to the amount due
    assert sum((amount for _, amount in rows[:-1]), start=named.total) == rows[-1][1]


def test_the_stored_fact_reads_back_and_older_notes_read_as_applied():
    paid, note = _paid_and_named()
    named = paid.name_credit_note(note)
    for value in (note, named):
        text = dumps(value)
        assert '"names_only":true' in text
        assert loads(text, Invoice) == value
    # a note stored before the fact existed (corrects, no names_only) is one applied to the
    # invoice: what it owes sits in the credit balance, as it always did
    older = dumps(note).replace(',"names_only":true', "")
    read = loads(older, Invoice)
    assert (read.corrects, read.names_only) == ("F-2026-000001", False)
    state = BillingState(credit_balance=eur("15.00"))
    assert refundable(state, currency="EUR", credit_note=read) == eur("15.00")  # the balance
    assert refundable(state, currency="EUR", credit_note=note) == eur("40.00")  # the note
    with pytest.raises(StoredDataError, match="names_only='yes' must be a bool"):
        loads(dumps(note).replace('"names_only":true', '"names_only":"yes"'), Invoice)


# -- the invariant: naming the paid invoice moves no money -----------------------------------

VAT_20 = TaxRate(name="TVA 20 %", percent="20")


@given(
    price=st.integers(1, 10_000_000),
    credited=st.integers(1, 10_000_000),
    extra=st.integers(0, 100_000),
    refunded=st.integers(0, 10_000_000),
    taxed=st.booleans(),
)
def test_a_credit_note_naming_a_paid_invoice_owes_what_a_note_naming_none_owes(
    price, credited, extra, refunded, taxed
):
    rates = (VAT_20,) if taxed else ()
    cents = Decimal("0.01")
    invoice = draft_invoice(
        customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        lines=[one_time_line("setup", "Setup", eur(price * cents), tax_rates=rates)],
    ).finalize(number="F-2026-000001")  # fmt: skip
    received = Payment(amount=invoice.total + eur(extra * cents), paid_on=date(2026, 3, 2))
    paid, state = record_payment(invoice, received, BillingState())  # extra: customer credit
    gesture = one_time_line("geste", "Geste", eur(credited * cents), tax_rates=rates)
    assume(gesture.total <= paid.creditable)
    draft = credit_note_for(paid, issued_on=date(2026, 3, 9), lines=[gesture])
    alone = attrs.evolve(draft, corrects=None).finalize(number="F-2026-000002")
    named = attrs.evolve(draft, names_only=True).finalize(number="F-2026-000002")
    result = record_credit_note(paid, named, state)
    assert (result.state, result.returned) == (state, eur("0"))
    listed = result.invoice
    assert (listed.status, listed.amount_due) == (paid.status, paid.amount_due)
    refund = Refund(
        amount=eur(min(refunded, credited) * cents) + eur("0.01"),
        refunded_on=date(2026, 3, 10),
        credit_note="F-2026-000002",
    )
    for refunds in ((), (refund,)):
        assert refundable(state, currency="EUR", credit_note=named, refunds=refunds) == (
            refundable(state, currency="EUR", credit_note=alone, refunds=refunds)
        )
    outcomes = []
    for note, invoice_now in ((alone, paid), (named, listed)):
        try:
            after = record_refund(refund, state, credit_note=note)
        except OutOfBoundsError as error:
            outcomes.append(str(error))
            continue
        report = account_balance(
            [invoice_now, note], currency="EUR", payments=[received], refunds=[refund], state=after
        )
        assert report.is_balanced
        outcomes.append((after, report))
    assert outcomes[0] == outcomes[1]
    rows = settlement_rows(listed, locale="fr_FR")
    assert sum((amount for _, amount in rows[:-1]), start=listed.total) == rows[-1][1]

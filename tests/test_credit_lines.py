"""A credit inside an invoice counts against the invoice it credits (review finding F7).

The finding: Essentiel 290 € / Pro 590 € a year, TVA 20 %, from 1 March 2026
(F-2026-000001, 348.00); upgraded to Pro on 1 July 2026. ``run_billing`` issues
F-2026-000002, an **invoice** of 239.67: « Essentiel, crédit de la part non utilisée »
−193.07 HT (243/365 × 290.00; −231.68 TTC) and Pro +392.79 HT (243/365 × 590.00; 471.35
TTC). F-2026-000001 recorded nothing (``creditable`` 348.00), so a manual credit of its
whole 348.00 was accepted: its Essentiel year credited 348.00 + 231.68 in all.

Now F-2026-000002 names F-2026-000001 (``credits_periods_of``), which records the credit
lines (a ``Correction`` with ``consumed``): credited 231.68, creditable 348.00 − 231.68 =
116.32. The credit is consumed on F-2026-000002 (the customer pays 239.67 there), so
F-2026-000001 still asks 348.00: nothing cancelled, refunded, nor put in the credit
balance. The engine's documents do not change.

Each example test failed before the change.
"""

import contextlib
import io
import json
import re
import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from html import escape as html_escape

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from subbill import Money
from subbill.billing import BillingState, BillingTerms, NegativeBalancePolicy, bill_subscription
from subbill.catalog import Catalog
from subbill.dunning import amount_due_on
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
    StorageError,
    SubbillError,
)
from subbill.invoices import (
    Correction,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    LineKind,
    Payment,
    credit_note_for,
    credits_a_period,
    one_time_line,
)
from subbill.l10n.invoice import invoice_html, invoice_text, settlement_rows
from subbill.l10n.portal import portal_text
from subbill.payments import (
    CreditLinesLink,
    account_balance,
    link_credit_lines,
    record_credit_note,
    refundable,
)
from subbill.portal import portal_overview
from subbill.service import correct_invoice, pay_invoice, replace_subscription, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import dumps, loads, to_document
from subbill.subscriptions import Subscription
from subbill.taxes import TaxRate
from tests.test_new_user_walk import WALK_CATALOG
from tests.test_usage_store import store as _each_store

VAT = {"name": "TVA 20 %", "percent": "20"}
#: Essentiel 290 / Pro 590 a year (29 / 59 a month), downgrades at once (credit notes that
#: also carry the new plan's line).
CATALOG = {**WALK_CATALOG, "policy": {"downgrade": "immediate"}}
ESSENTIEL = {"id": "S1", "customer": "ACME", "plan": "essentiel", "start": "2026-03-01",
             "frequency": "annual", "tax": VAT}  # fmt: skip
JULY = date(2026, 7, 1)
FIRST, UPGRADE = "F-2026-000001", "F-2026-000002"


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


store = _each_store  # the fixture: an empty store of each adapter (PostgreSQL if installed)


def subscribed(store, policy=NegativeBalancePolicy.CREDIT_NOTE):
    """S1's yearly Essentiel stored and billed on 1 March 2026 (F-2026-000001, 348.00)."""
    catalog = Catalog.from_mapping(WALK_CATALOG)
    store.save_catalog(catalog)
    subscription = Subscription.from_mapping(ESSENTIEL, catalog=catalog)
    store.save_subscription(attrs.evolve(subscription, terms=BillingTerms(negative_balance=policy)))
    run_billing(store, as_of=date(2026, 3, 1))
    return store


def upgrade(store, on=JULY):
    catalog = store.load_catalog()
    changed = store.get_subscription("S1").change_plan("pro", catalog, on=on)
    assert replace_subscription(store, changed)


def upgraded(store, policy=NegativeBalancePolicy.CREDIT_NOTE):
    """The finding's walk: billed on 1 March, upgraded to Pro on 1 July, billed on 1 July."""
    subscribed(store, policy)
    upgrade(store)
    report = run_billing(store, as_of=JULY)
    assert (report.invoice_count, report.credit_note_count, report.last_number) == (
        1,
        0,
        UPGRADE,
    )
    return store


COUNTED = Correction(
    credit_note=UPGRADE, credited_on=JULY, amount=eur("231.68"), consumed=eur("231.68")
)


# -- 1. the finding, end to end ----------------------------------------------------------------


def test_a_full_manual_credit_after_an_upgrade_is_refused_naming_what_is_left(store):
    upgraded(store)
    first = store.get_invoice(FIRST)
    with pytest.raises(OutOfBoundsError) as refused:
        credit_note_for(first, issued_on=date(2026, 7, 2))  # its whole 348.00
    assert str(refused.value) == (
        "credit=Money('348.00', 'EUR') must be <= 116.32 EUR (total 348.00 EUR of invoice "
        "F-2026-000001 - 231.68 EUR already credited)"
    )
    # a note built before the upgrade and recorded now: refused as well
    before = subscribed(MemoryStore()).get_invoice(FIRST)
    note = credit_note_for(before, issued_on=date(2026, 7, 2)).finalize(number="F-2026-000003")
    with pytest.raises(OutOfBoundsError, match=r"<= 116\.32 EUR"):
        record_credit_note(first, note, BillingState())
    # the service's manual credit (a gesture of 290.00 + TVA = 348.00): refused, nothing stored
    gesture = one_time_line(
        "geste", "Geste commercial", eur("290"), tax_rates=(TaxRate(name="TVA 20 %", percent="20"),)
    )
    with pytest.raises(OutOfBoundsError, match=r"<= 116\.32 EUR"):
        correct_invoice(store, FIRST, issued_on=date(2026, 7, 2), lines=[gesture])
    assert [doc.number for doc in store.invoices()] == [FIRST, UPGRADE]
    # what is left is still creditable: 96.93 + TVA 19.39 = 116.32
    rest = one_time_line(
        "geste",
        "Geste commercial",
        eur("96.93"),
        tax_rates=(TaxRate(name="TVA 20 %", percent="20"),),
    )
    done = correct_invoice(store, FIRST, issued_on=date(2026, 7, 2), lines=[rest])
    assert (done.credit_note.total, done.invoice.creditable) == (eur("-116.32"), eur("0.00"))
    assert done.invoice.credited == done.invoice.total == eur("348.00")


def test_the_upgrade_invoice_names_the_invoice_it_credits_which_counts_it(store):
    upgraded(store)
    first, invoice = store.invoices(subscription="S1")
    # the engine's document is what it was: only the reference is added
    assert (invoice.number, invoice.kind, invoice.total, invoice.credits_periods_of) == (
        UPGRADE,
        DocumentKind.INVOICE,
        eur("239.67"),
        (FIRST,),
    )
    assert [(line.kind, line.total) for line in invoice.lines] == [
        (LineKind.PRORATION_CREDIT, eur("-231.68")),
        (LineKind.PRORATION_CHARGE, eur("471.35")),
    ]
    assert (invoice.corrects, invoice.corrections, invoice.amount_due) == (
        None,
        (),
        eur("239.67"),
    )
    assert first.corrections == (COUNTED,)
    assert (first.credited, first.creditable, first.cancelled) == (
        eur("231.68"),
        eur("116.32"),
        eur("0"),
    )
    # consumed on F-2026-000002: nothing of F-2026-000001's 348.00 is cancelled
    assert (first.status, first.amount_due) == (InvoiceStatus.OPEN, eur("348.00"))
    assert amount_due_on(first, JULY) == eur("348.00")
    state = store.get_billing_state("S1")
    assert (state.credit_balance or eur("0")).is_zero()


def test_the_pure_api_gives_exactly_what_the_store_stores(store):
    upgraded(store)
    pure = subscribed(MemoryStore())
    upgrade(pure)
    catalog = pure.load_catalog()
    plan = pure.get_subscription("S1").to_charge_plan(catalog)
    billed = bill_subscription(plan, pure.get_billing_state("S1"), as_of=JULY)
    link = link_credit_lines(
        billed.invoice.finalize(number=UPGRADE), pure.invoices(subscription="S1")
    )
    assert isinstance(link, CreditLinesLink)
    assert link.invoice == store.get_invoice(UPGRADE)
    assert link.credited == (store.get_invoice(FIRST),)
    assert billed.state == store.get_billing_state("S1")


def test_a_second_run_changes_nothing(store):
    upgraded(store)
    before = store.invoices()
    for day in (JULY, date(2026, 7, 2)):
        assert run_billing(store, as_of=day).invoice_count == 0
    assert store.invoices() == before


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_run_killed_while_recording_the_credit_lines_is_undone_and_rerun_once(kind, tmp_path):
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "billing.db")
    subscribed(store)
    upgrade(store)
    saved = store.save_invoice

    def killed(invoice):
        raise StorageError("the disk is full (simulated)")

    store.save_invoice = killed  # the run dies while F-2026-000001 records the credit
    with pytest.raises(StorageError):
        run_billing(store, as_of=JULY)
    assert [doc.number for doc in store.invoices()] == [FIRST]  # nothing half-applied
    assert store.get_invoice(FIRST).corrections == ()
    store.save_invoice = saved
    assert run_billing(store, as_of=JULY).invoice_count == 1
    assert store.get_invoice(FIRST).corrections == (COUNTED,)
    assert store.get_invoice(UPGRADE).credits_periods_of == (FIRST,)


def test_a_cancellation_after_the_upgrade_credits_the_upgrade_invoice_and_leaves_the_first(
    store,
):
    """A later credit note of Pro's periods names F-2026-000002; F-2026-000001 is untouched.

    The note (181/365 of Pro's 590.00 + TVA = 351.09) credits Pro's period, which
    F-2026-000002 charged (471.35; its total 239.67 nets Essentiel's credit, counted on
    F-2026-000001). It cancels all F-2026-000002 asks (239.67) and owes the rest (111.42)
    on itself. (Review 91, F2: it used to be compared with the net total 239.67, name no
    invoice and stand on its own while 587.67 stayed due.)
    """
    upgraded(store)
    cancelled = store.get_subscription("S1").cancel(on=date(2026, 9, 1), at_period_end=False)
    assert replace_subscription(store, cancelled)
    run_billing(store, as_of=date(2026, 9, 1))
    note = store.get_invoice("F-2026-000003")
    assert (note.kind, note.total, note.corrects, note.applied, note.credits_periods_of) == (
        DocumentKind.CREDIT_NOTE,
        eur("-351.09"),
        UPGRADE,
        eur("239.67"),
        (),
    )
    assert store.get_invoice(UPGRADE).corrections == (
        Correction(
            credit_note="F-2026-000003",
            credited_on=date(2026, 9, 1),
            amount=eur("351.09"),
            applied=eur("239.67"),
        ),
    )
    assert store.get_invoice(UPGRADE).amount_due == eur("0.00")
    assert store.get_invoice(FIRST).corrections == (COUNTED,)


def test_a_downgrade_note_counts_its_whole_credit_against_the_invoice(store):
    """The note −239.67 credits 471.35 of Pro's year; 231.68 of it pays Essentiel on it.

    Before, F-2026-000001 counted only the note's total (creditable 708.00 − 239.67 =
    468.33), so a manual credit of 468.33 more was accepted: its Pro year credited 939.68.
    """
    catalog = Catalog.from_mapping(CATALOG)
    store.save_catalog(catalog)
    entry = {**ESSENTIEL, "plan": "pro"}
    store.save_subscription(Subscription.from_mapping(entry, catalog=catalog))
    run_billing(store, as_of=date(2026, 3, 1))
    changed = store.get_subscription("S1").change_plan("essentiel", catalog, on=JULY)
    assert replace_subscription(store, changed)
    run_billing(store, as_of=JULY)
    first, note = store.invoices(subscription="S1")
    assert (note.kind, note.total, note.corrects, note.applied, note.names_only) == (
        DocumentKind.CREDIT_NOTE,
        eur("-239.67"),
        FIRST,
        None,
        False,
    )
    assert first.corrections == (
        Correction(
            credit_note=UPGRADE,
            credited_on=JULY,
            amount=eur("471.35"),  # 243/365 of Pro's 590.00 + TVA, credited
            consumed=eur("231.68"),  # Essentiel's 243/365 of 290.00 + TVA, charged on it
        ),
    )
    # the note cancels what it gives back (239.67) of the 708.00 due, no more
    assert (first.credited, first.creditable, first.cancelled, first.amount_due) == (
        eur("471.35"),
        eur("236.65"),
        eur("239.67"),
        eur("468.33"),
    )
    with pytest.raises(OutOfBoundsError, match=r"<= 236\.65 EUR"):
        credit_note_for(first, issued_on=date(2026, 7, 2))
    assert settlement_rows(first, locale="fr_FR") == [
        ("Avoir F-2026-000002 du 1 juillet 2026", eur("-239.67")),
        ("Reste à payer", eur("468.33")),
    ]
    report = account_balance(
        [first, note], currency="EUR", payments=[], refunds=[],
        state=store.get_billing_state("S1"),
    )  # fmt: skip
    assert (report.due, report.is_balanced) == (eur("468.33"), True)


def test_the_upgrade_invoice_itself_is_credited_in_full_by_hand(store):
    """A full credit of F-2026-000002 gives back its 239.67 and credits all it charged.

    It credits Pro's 471.35 and charges back Essentiel's 231.68 (the reversed credit line):
    the record counts 471.35, of which 231.68 consumed, so nothing is left to credit (a
    first version counted the Pro line alone against the net total, 239.67, and refused
    it; a second counted 239.67 only, which left 231.68 of Pro creditable again).
    """
    upgraded(store)
    invoice = store.get_invoice(UPGRADE)
    note = credit_note_for(invoice, issued_on=date(2026, 7, 2)).finalize(number="F-2026-000003")
    assert note.total == eur("-239.67")
    recorded = record_credit_note(invoice, note, BillingState()).invoice
    assert recorded.corrections == (
        Correction(
            credit_note="F-2026-000003",
            credited_on=date(2026, 7, 2),
            amount=eur("471.35"),
            consumed=eur("231.68"),
        ),
    )
    assert (recorded.creditable, recorded.amount_due) == (eur("0.00"), eur("0.00"))


# -- 2. every reader of corrections gives the right figure -------------------------------------


def test_money_readers_count_the_consumed_credit_nowhere_but_creditable(store):
    upgraded(store)
    first = store.get_invoice(FIRST)
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR") == eur("0")
    report = account_balance(
        store.invoices(subscription="S1"), currency="EUR", payments=[], refunds=[], state=state
    )
    assert (report.due, report.credited, report.is_balanced) == (
        eur("587.67"),  # 348.00 + 239.67: the customer pays the net of the upgrade
        eur("0"),
        True,
    )
    # the customer pays both: both paid, nothing owed back, nothing in credit
    for number, amount in ((FIRST, "348.00"), (UPGRADE, "239.67")):
        pay_invoice(store, number, Payment(amount=eur(amount), paid_on=date(2026, 7, 10)))
    paid = store.invoices(subscription="S1")
    assert [doc.status for doc in paid] == [InvoiceStatus.PAID, InvoiceStatus.PAID]
    received = [p for doc in paid for p in store.payments(doc.number)]
    report = account_balance(
        paid,
        currency="EUR",
        payments=received,
        refunds=[],
        state=store.get_billing_state("S1"),
    )
    assert (report.paid_on_invoices, report.credit_balance, report.is_balanced) == (
        eur("587.67"),
        eur("0"),
        True,
    )
    assert settlement_rows(first, locale="fr_FR") == [("Reste à payer", eur("348.00"))]


def test_documents_name_the_invoice_the_credit_lines_credit(store):
    upgraded(store)
    first, invoice = store.invoices(subscription="S1")
    said = {
        "fr_FR": (
            (
                "Crédit des périodes facturées sur la facture F-2026-000001 : les lignes de "
                "crédit ci-dessus sont déduites de cette facture"
            ),
            (
                "Période créditée par la facture F-2026-000002 du 1 juillet 2026 : 231,68\xa0€, "
                "déduits de cette facture-là (le reste à payer ci-dessus n'en change pas)"
            ),
        ),
        "en_US": (
            (
                "Credit of periods billed on invoice F-2026-000001: the credit lines above are "
                "deducted from this invoice"
            ),
            (
                "Period credited by invoice F-2026-000002 of July 1, 2026: €231.68, deducted "
                "from that invoice (the amount due above does not change)"
            ),
        ),
    }
    for locale, (on_upgrade, on_first) in said.items():
        assert on_upgrade in invoice_text(invoice, locale=locale)
        assert html_escape(on_upgrade) in invoice_html(invoice, locale=locale)
        assert on_first in invoice_text(first, locale=locale)
        assert html_escape(on_first) in invoice_html(first, locale=locale)
        assert on_first not in invoice_text(invoice, locale=locale)
    # the totals of F-2026-000001 are its own: 348.00 asked, no « Avoir » row
    text = invoice_text(first, locale="fr_FR")
    assert "Avoir" not in text
    assert "Remboursement" not in text


def test_the_pdf_names_the_invoice_the_credit_lines_credit():
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("fpdf")
    from subbill.pdf import render_invoice_pdf  # noqa: PLC0415  (needs fpdf2)

    store = upgraded(MemoryStore())
    for number, words in (
        (UPGRADE, "Crédit des périodes facturées sur la facture F-2026-000001"),
        (FIRST, "Période créditée par la facture F-2026-000002 du 1 juillet 2026"),
    ):
        pdf = render_invoice_pdf(store.get_invoice(number), locale="fr_FR")
        pages = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert words in " ".join(pages.split())


def test_the_portal_shows_what_each_invoice_asks_and_what_the_upgrade_credits():
    store = upgraded(MemoryStore())
    overview = portal_overview(
        "ACME", invoices=store.invoices(), subscriptions=[store.get_subscription("S1")],
        catalog=store.load_catalog(), as_of=date(2026, 7, 2),
    )  # fmt: skip
    rows = {row.number: row for row in overview.invoices}
    assert (rows[FIRST].amount_due, rows[FIRST].credits_periods_of) == (eur("348.00"), ())
    assert (rows[UPGRADE].amount_due, rows[UPGRADE].credits_periods_of) == (
        eur("239.67"),
        (FIRST,),
    )
    assert "Non payée, crédite F-2026-000001" in portal_text(overview, locale="fr_FR")
    assert "Unpaid, credits F-2026-000001" in portal_text(overview, locale="en_US")


def test_the_factur_x_of_the_upgrade_refers_to_the_invoice_it_credits(rules):
    from subbill.einvoice import invoice_xml  # noqa: PLC0415  (needs factur-x)
    from tests.einvoicing_data import BUYER, SELLER  # noqa: PLC0415

    store = upgraded(MemoryStore())
    buyer = attrs.evolve(BUYER, id="ACME")
    xml = invoice_xml(store.get_invoice(UPGRADE), seller=SELLER, buyer=buyer)
    assert rules.errors(xml) == []
    text = xml.decode()
    referenced = re.findall(
        r"<ram:InvoiceReferencedDocument>\s*<ram:IssuerAssignedID>([^<]*)<", text
    )
    assert referenced == [FIRST]
    assert "<ram:TypeCode>380</ram:TypeCode>" in text  # an invoice, not a credit note
    first = invoice_xml(store.get_invoice(FIRST), seller=SELLER, buyer=buyer)
    assert rules.errors(first) == []
    # F-2026-000001 still asks its 348.00 (BT-115), nothing prepaid
    assert re.findall(r"<ram:DuePayableAmount>([^<]*)<", first.decode()) == ["348.00"]
    assert "TotalPrepaidAmount" not in first.decode()


# -- 3. the shapes and their checks ------------------------------------------------------------


def test_what_a_document_consumed_is_part_of_its_credit_and_settles_nothing():
    for wrong in (eur("231.69"), eur("0"), eur("-1")):
        with pytest.raises(OutOfBoundsError, match=r"consumed=.* must be > 0 and <= amount"):
            attrs.evolve(COUNTED, consumed=wrong)
    with pytest.raises(InvalidArgumentError, match="names_only"):
        attrs.evolve(COUNTED, names_only=True)
    with pytest.raises(InvalidArgumentError, match="apply nothing"):
        attrs.evolve(COUNTED, applied=eur("1"))
    with pytest.raises(InvalidTypeError, match="consumed"):
        attrs.evolve(COUNTED, consumed="231.68")
    assert (COUNTED.cancels, COUNTED.owed_on_note) == (eur("0"), eur("0"))
    # a downgrade's note: 471.35 credited, 231.68 taken by its own charge, 239.67 given back
    note = attrs.evolve(COUNTED, amount=eur("471.35"), names_only=True)
    assert (note.cancels, note.owed_on_note) == (eur("0"), eur("239.67"))
    part = attrs.evolve(COUNTED, amount=eur("471.35"), applied=eur("8.00"))
    assert (part.cancels, part.owed_on_note) == (eur("8.00"), eur("231.67"))
    with pytest.raises(OutOfBoundsError, match=r"applied=.* must be > 0 and < 239\.67"):
        attrs.evolve(part, applied=eur("239.67"))


def test_credits_periods_of_names_other_invoices_once_and_needs_a_credit_line():
    store = upgraded(MemoryStore())
    invoice = store.get_invoice(UPGRADE)
    with pytest.raises(InvalidArgumentError, match="own number"):
        attrs.evolve(invoice, credits_periods_of=(UPGRADE,))
    with pytest.raises(InvalidArgumentError, match="twice"):
        attrs.evolve(invoice, credits_periods_of=(FIRST, FIRST))
    with pytest.raises(InvalidTypeError, match="tuple"):
        attrs.evolve(invoice, credits_periods_of=[FIRST])
    with pytest.raises(InvalidArgumentError, match="no credit line"):
        attrs.evolve(store.get_invoice(FIRST), credits_periods_of=("F-2025-000009",))


def test_count_credit_lines_refuses_twice_and_beyond_creditable():
    store = upgraded(MemoryStore())
    first, invoice = store.get_invoice(FIRST), store.get_invoice(UPGRADE)
    with pytest.raises(InvalidStateError, match="already"):
        first.count_credit_lines(invoice, lines=invoice.lines[:1])
    with pytest.raises(InvalidArgumentError, match="credits no period"):
        first.count_credit_lines(invoice, lines=invoice.lines[1:])
    fresh = subscribed(MemoryStore()).get_invoice(FIRST)
    with pytest.raises(InvalidArgumentError, match="not a line of"):
        fresh.count_credit_lines(invoice, lines=fresh.lines)


def test_link_credit_lines_leaves_alone_what_it_cannot_count():
    store = upgraded(MemoryStore())
    invoice = store.get_invoice(UPGRADE)
    fresh = attrs.evolve(invoice, credits_periods_of=())
    # an invoice credited in full already: the lines stand on their own
    full = subscribed(MemoryStore()).get_invoice(FIRST)
    note = credit_note_for(full, issued_on=JULY).finalize(number="F-2026-000003")
    credited = record_credit_note(full, note, BillingState()).invoice
    assert link_credit_lines(fresh, [credited]) == CreditLinesLink(invoice=fresh)
    # a draft, and an invoice without credit lines, come back as they are
    assert link_credit_lines(full, [full]) == CreditLinesLink(invoice=full)
    with pytest.raises(InvalidTypeError):
        link_credit_lines("F-2026-000002", [full])


# -- 5. stored documents -----------------------------------------------------------------------


def test_stored_documents_read_back_and_older_ones_read_as_before():
    store = upgraded(MemoryStore())
    first, invoice = store.get_invoice(FIRST), store.get_invoice(UPGRADE)
    for value in (first, invoice, COUNTED):
        assert loads(dumps(value), type(value)) == value
    # written before the fields existed: the same document without them reads as before
    older = loads(dumps(invoice).replace('"credits_periods_of":["F-2026-000001"],', ""), Invoice)
    assert older == attrs.evolve(invoice, credits_periods_of=())
    # an invoice or a note without the new facts is written as before (no new key)
    plain = subscribed(MemoryStore()).get_invoice(FIRST)
    assert "consumed" not in dumps(plain)
    assert "credits_periods_of" not in dumps(plain)
    note = credit_note_for(plain, issued_on=JULY).finalize(number="F-2026-000003")
    noted = record_credit_note(plain, note, BillingState()).invoice
    assert "consumed" not in dumps(noted)
    assert "credits_periods_of" not in dumps(note)


# -- 4. properties: over plan changes and manual credits ----------------------------------------


_STEP = st.tuples(
    st.integers(min_value=1, max_value=150),  # days after the previous step
    st.sampled_from(["switch", "quantity", "cancel", "credit", "pay"]),
    st.integers(min_value=1, max_value=5),  # a quantity, or the share of what is left (/5)
)


def _billed_by(documents, document, line):
    """The last invoice before ``document`` that billed the period ``line`` credits.

    For a credit note's line, when a credit note billed the period last (its new quantity's
    charge: seats changed twice, backdated), the invoice that note names that billed the
    period first (review 100). An invoice's credit lines count invoices only, as before.
    """
    earlier = documents[: documents.index(document)]
    traced = document.kind is DocumentKind.CREDIT_NOTE
    for stored in reversed(earlier):
        if stored.kind is DocumentKind.INVOICE and any(
            own.charge_key == line.charge_key
            and own.period is not None
            and own.period.start <= line.period.start < own.period.end
            and own.net.is_positive()
            for own in stored.lines
        ):
            return stored
        if (
            traced
            and stored.kind is DocumentKind.CREDIT_NOTE
            and any(
                own.charge_key == line.charge_key
                and own.period is not None
                and own.period.start <= line.period.start < own.period.end
                and own.total.is_positive()
                for own in stored.lines
            )
        ):
            names = {stored.corrects, *stored.credits_periods_of}
            return next(
                (
                    first
                    for first in reversed(earlier)
                    if first.kind is DocumentKind.INVOICE
                    and first.number in names
                    and any(
                        own.period is not None
                        and own.net.is_positive()
                        and own.period.start <= line.period.start < own.period.end
                        for own in first.lines
                    )
                    and all(own.charge_key != line.charge_key for own in first.lines)
                ),
                None,
            )
    return None


def _credited_by_documents(documents, invoice):
    """What the documents credit ``invoice``: its credit notes, and credit lines naming it."""
    total = eur("0")
    for document in documents:
        if document.corrects == invoice.number:  # its credit lines, whatever it charges
            total += Money.total(
                (-line.total for line in document.lines if line.total.is_negative()),
                currency="EUR",
            )
        if invoice.number in document.credits_periods_of:
            credit = Money.total(
                (
                    -line.total
                    for line in document.lines
                    if line.period is not None
                    and line.net.is_negative()
                    and _billed_by(documents, document, line) is invoice
                ),
                currency="EUR",
            )
            if document.kind is DocumentKind.CREDIT_NOTE:
                # A note's share credits what it gives back: its credit of the periods the
                # invoice billed, less its own charges of those periods (review 100).
                again = Money.total(
                    (line.total for line in document.lines if _charges_again(invoice, line)),
                    currency="EUR",
                )
                credit = credit - again if again < credit else credit  # whole: as before
                # bounded by what the invoice may still be credited (a hand credit first)
                credit = min(credit, max(invoice.charged - total, eur("0")))
            total += credit
    return total


def _charges_again(invoice, line):
    """Whether ``line`` (of a note) charges again part of a period ``invoice`` billed."""
    return (
        line.period is not None
        and line.total.is_positive()
        and any(
            own.period is not None
            and own.net.is_positive()
            and own.period.start <= line.period.start < own.period.end
            for own in invoice.lines
        )
    )


def _next_month(day):
    """The first day of the month after ``day``'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _billed_until(store, day, until):
    """Bill on each first of the month after ``day`` and before ``until``; ``until``."""
    month = _next_month(day)
    while month < until:
        run_billing(store, as_of=month)
        month = _next_month(month)
    return until


def _walk(store, steps, frequency, policy, *, quantity=1, back=timedelta(0)):
    """Bill the steps; « backdate » changes the seats from ``back`` before the step's day."""
    catalog = Catalog.from_mapping(CATALOG)
    store.save_catalog(catalog)
    entry = {**ESSENTIEL, "frequency": frequency, "quantity": quantity}
    subscription = Subscription.from_mapping(entry, catalog=catalog)
    store.save_subscription(attrs.evolve(subscription, terms=BillingTerms(negative_balance=policy)))
    day = date(2026, 3, 1)
    run_billing(store, as_of=day)
    received = []
    for gap, action, size in steps:
        day = (
            _billed_until(store, day, day + timedelta(days=gap))
            if back
            else day + timedelta(days=gap)
        )
        current = store.get_subscription("S1")
        try:
            if action == "switch" and current.cancelled_on is None:
                target = "pro" if current.plan_on(day) == "essentiel" else "essentiel"
                replace_subscription(store, current.change_plan(target, catalog, on=day))
            elif action == "quantity" and current.cancelled_on is None:
                replace_subscription(store, current.change_quantity(size, on=day))
            elif action == "backdate" and current.cancelled_on is None:
                since = max(day - back, date(2026, 3, 1))
                replace_subscription(store, current.change_quantity(size, on=since))
            elif action == "cancel" and current.cancelled_on is None:
                replace_subscription(store, current.cancel(on=day, at_period_end=False))
        except SubbillError:
            pass  # a change the subscription refuses (a plan it has, a date it ended)
        run_billing(store, as_of=day)
        invoices = [
            doc for doc in store.invoices(subscription="S1") if doc.kind is DocumentKind.INVOICE
        ]
        if action == "credit" and invoices:
            # a gesture of size/5 of what the last invoice may still be credited, with TVA
            target = invoices[-1]
            share = (target.creditable.amount * size / 5 / Decimal("1.2")).quantize(Decimal("1"))
            gesture = one_time_line("geste", "Geste", eur(str(share + 1)), tax_rates=(TVA,))
            with contextlib.suppress(OutOfBoundsError):  # beyond what is creditable: refused
                correct_invoice(store, target.number, issued_on=day, lines=[gesture])
        elif action == "pay":
            for invoice in invoices:
                if invoice.amount_due.is_positive():
                    payment = Payment(amount=invoice.amount_due, paid_on=day)
                    pay_invoice(store, invoice.number, payment)
                    received.append(payment)
    return received


TVA = TaxRate(name="TVA 20 %", percent="20")


def documents_by(documents, number):
    """The document numbered ``number``."""
    return next(document for document in documents if document.number == number)


def _named(document, invoice):
    """Whether ``document`` names ``invoice`` as the invoice whose period it credits."""
    if document.kind is DocumentKind.CREDIT_NOTE and document.corrects is not None:
        return document.corrects == invoice.number
    return invoice.number in document.credits_periods_of


@settings(max_examples=60)
@given(
    steps=st.lists(_STEP, min_size=1, max_size=6),
    frequency=st.sampled_from(["annual", "monthly"]),
    policy=st.sampled_from(list(NegativeBalancePolicy)),
)
# review 91: two plan changes in one year (F1), an upgrade then a cancellation (F2)
@example(steps=[(122, "switch", 1), (62, "switch", 1)], frequency="annual",
         policy=NegativeBalancePolicy.CREDIT_NOTE)  # fmt: skip
@example(steps=[(122, "switch", 1), (62, "cancel", 1)], frequency="annual",
         policy=NegativeBalancePolicy.CARRY_FORWARD)  # fmt: skip
@example(steps=[(122, "switch", 1), (62, "switch", 1), (1, "credit", 5)], frequency="annual",
         policy=NegativeBalancePolicy.CREDIT_NOTE)  # fmt: skip
@example(steps=[(1, "switch", 1)] * 4, frequency="annual",
         policy=NegativeBalancePolicy.CREDIT_NOTE)  # fmt: skip
def test_credit_never_exceeds_what_an_invoice_charged_for_its_periods(steps, frequency, policy):
    """What notes and later documents' credit lines credit an invoice never exceeds what it
    charged for its own periods (its total without its own credit lines of other invoices'
    periods, which those invoices count), whatever number of changes in a period.

    And the invoice's records say exactly that (``credited``); every credit line of a
    period is counted on the invoice that billed that period and names it, unless a manual
    credit took that invoice's ``creditable`` first; what it asks counts only what notes
    cancelled, and the account still balances.
    """
    check_credits_of_a_walk(steps, frequency, policy)


def check_credits_of_a_walk(steps, frequency, policy, *, quantity=1, back=timedelta(0)):
    """The property's checks over the documents of ``_walk`` (also over backdated seats)."""
    store = MemoryStore()
    received = _walk(store, steps, frequency, policy, quantity=quantity, back=back)
    documents = store.invoices(subscription="S1")
    kinds = {document.number: document.kind for document in documents}
    gestures = any(action == "credit" for _, action, _ in steps)
    for invoice in documents:
        if invoice.kind is not DocumentKind.INVOICE:
            continue
        # Its credit lines are left out only once counted on the invoices it names.
        counted = [line for line in invoice.lines if credits_a_period(line)]
        charged = invoice.total + Money.total(
            (-line.total for line in counted if invoice.credits_periods_of),
            currency="EUR",
        )  # fmt: skip
        assert invoice.charged == charged
        credited = _credited_by_documents(documents, invoice)
        assert credited <= charged
        assert credited == invoice.credited
        # consumed whole: credit lines of later invoices; in part: notes that also charge
        consumed = [c for c in invoice.corrections if kinds[c.credit_note] is DocumentKind.INVOICE]
        assert all(c.consumed == c.amount for c in consumed)
        assert {c.credit_note for c in consumed} == {
            doc.number
            for doc in documents
            if doc.kind is DocumentKind.INVOICE and invoice.number in doc.credits_periods_of
        }
        # a note of periods several invoices billed: each it names records its share
        shared = {c.credit_note for c in invoice.corrections} - {c.credit_note for c in consumed}
        assert {n for n in shared if documents_by(documents, n).corrects is None} == {
            doc.number
            for doc in documents
            if doc.kind is DocumentKind.CREDIT_NOTE and invoice.number in doc.credits_periods_of
        }
        paid = invoice.amount_paid + (invoice.credit_applied or eur("0"))
        assert invoice.amount_due == max(invoice.total - paid - invoice.cancelled, eur("0"))
    if not gestures:
        for document in documents:
            for line in document.lines:
                if line.period is None or not line.net.is_negative():
                    continue
                billed = _billed_by(documents, document, line)
                assert billed is None or _named(document, billed), (document, line)
    report = account_balance(
        documents,
        currency="EUR",
        payments=received,
        refunds=[],
        state=store.get_billing_state("S1") or BillingState(),
        negative_balance=policy,
    )
    assert report.is_balanced, report


def test_an_invoice_stored_in_the_previous_format_takes_the_credit_and_reads_back(tmp_path):
    """An SQLite row of format 3 (an older subbill's) is read as before, then counts the credit."""
    path = tmp_path / "billing.db"
    store = subscribed(SQLiteStore(path))
    first = store.get_invoice(FIRST)
    store.close()
    raw = sqlite3.connect(path)
    older = json.dumps(to_document(first, version=3), separators=(",", ":"), sort_keys=True)
    with raw:
        raw.execute("UPDATE invoices SET document = ? WHERE number = ?", (older, FIRST))
    store = SQLiteStore(path)
    assert store.get_invoice(FIRST) == first  # read as before
    upgrade(store)
    run_billing(store, as_of=JULY)
    store.close()
    store = SQLiteStore(path)
    assert store.get_invoice(FIRST) == attrs.evolve(first, corrections=(COUNTED,))
    assert store.get_invoice(UPGRADE).credits_periods_of == (FIRST,)
    store.close()
    (text,) = raw.execute("SELECT document FROM invoices WHERE number = ?", (FIRST,)).fetchone()
    raw.close()
    assert json.loads(text)["version"] == 4  # written again in the current format

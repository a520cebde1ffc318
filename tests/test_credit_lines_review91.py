"""Review 91: a credit never gives back more than was charged for that period.

The walk: Essentiel 290 € / Pro 590 € / Business 1,190 € a year, TVA 20 %, from 1 March
2026 (F-2026-000001, 348.00); upgraded to Pro on 1 July (F-2026-000002, 239.67 = −231.68
Essentiel's unused part + 471.35 Pro). F-2026-000002's total nets the credit of
F-2026-000001's period, which F-2026-000001 counts; what F-2026-000002 *charged* (Pro,
471.35 with its TVA) is what may be credited against it. Before, a second change in the
period compared the new credit (Pro's 351.09 from 1 September) with F-2026-000002's net
total 239.67: it counted against nothing, named nothing, and F-2026-000002 could then be
credited again by hand (Pro's period credited 351.09 + 239.66 = 590.75 of 471.35 charged).

F1: a second plan change in the period (s2_twice.py, s9_up_down.py); F2: upgrade then
cancellation (s4_up_cancel.py); F3: a note crediting periods of several invoices (pinned
as a strict expected failure, passing since each invoice records its share:
``tests/test_credit_note_of_several_invoices.py``); F4: the upgrade invoice's reference
carries the date. Each test failed before its fix.
"""

import io
import re
from datetime import date
from html import escape as html_escape

import attrs
import pytest

from subbill import Money
from subbill.billing import BillingTerms, NegativeBalancePolicy
from subbill.catalog import Catalog
from subbill.cli import main
from subbill.dunning import DunningPolicy, amount_due_on, dunning_actions
from subbill.errors import InvalidArgumentError, InvalidTypeError, OutOfBoundsError
from subbill.invoices import Correction, DocumentKind, InvoiceStatus, Payment, one_time_line
from subbill.l10n.invoice import invoice_html, invoice_text
from subbill.payments import account_balance, refundable
from subbill.service import correct_invoice, pay_invoice, replace_subscription, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.subscriptions import Subscription
from subbill.taxes import TaxRate
from tests.test_credit_lines import CATALOG, ESSENTIEL, FIRST, JULY, UPGRADE, upgraded
from tests.test_usage_store import store as _each_store

store = _each_store  # the fixture: an empty store of each adapter (PostgreSQL if installed)

SEPTEMBER = date(2026, 9, 1)
THIRD = "F-2026-000003"
TVA = TaxRate(name="TVA 20 %", percent="20")
#: The walk's catalog with Business (119 / 1,190 €), downgrades at once.
BUSINESS = {"code": "business", "name": "Business", "rank": 3,
            "prices": {"monthly": "119.00", "annual": "1190.00"}}  # fmt: skip


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _catalog(store) -> Catalog:
    plans = [plan for plan in CATALOG["plans"] if plan["code"] != "business"]
    catalog = Catalog.from_mapping({**CATALOG, "plans": [*plans, BUSINESS]})
    store.save_catalog(catalog)
    return catalog


def _upgraded(store, policy=NegativeBalancePolicy.CREDIT_NOTE) -> Catalog:
    """F-2026-000001 (Essentiel, 1 March) and F-2026-000002 (→ Pro, 1 July), unpaid."""
    catalog = _catalog(store)
    subscription = Subscription.from_mapping(ESSENTIEL, catalog=catalog)
    store.save_subscription(attrs.evolve(subscription, terms=BillingTerms(negative_balance=policy)))
    run_billing(store, as_of=date(2026, 3, 1))
    changed = store.get_subscription("S1").change_plan("pro", catalog, on=JULY)
    assert replace_subscription(store, changed)
    run_billing(store, as_of=JULY)
    return catalog


def _changed(store, plan: str, policy=NegativeBalancePolicy.CREDIT_NOTE):
    """The walk, then moved to ``plan`` on 1 September and billed: the three documents."""
    catalog = _upgraded(store, policy)
    changed = store.get_subscription("S1").change_plan(plan, catalog, on=SEPTEMBER)
    assert replace_subscription(store, changed)
    run_billing(store, as_of=SEPTEMBER)
    return store.invoices(subscription="S1")


def _by_third(amount: str, **part: Money) -> Correction:
    """F-2026-000003's record (1 September) on the invoice whose period it credits."""
    return Correction(credit_note=THIRD, credited_on=SEPTEMBER, amount=eur(amount), **part)


def _gesture(amount_ht: str):
    return one_time_line("geste", "Geste commercial", eur(amount_ht), tax_rates=(TVA,))


# -- F1: the second plan change in a period ------------------------------------------------------


def test_an_upgrade_invoice_may_be_credited_what_it_charged_not_its_net_total(store):
    upgraded(store)
    invoice = store.get_invoice(UPGRADE)
    assert (invoice.total, invoice.charged, invoice.creditable) == (
        eur("239.67"),
        eur("471.35"),  # Pro 392.79 HT + TVA: Essentiel's credit is counted on F-2026-000001
        eur("471.35"),
    )
    assert store.get_invoice(FIRST).charged == eur("348.00")


def test_a_second_upgrade_counts_its_credit_against_the_invoice_that_billed_the_period(store):
    """s2_twice.py: Essentiel → Pro on 1 July → Business on 1 September."""
    first, second, third = _changed(store, "business")
    assert (third.kind, third.total, third.credits_periods_of) == (
        DocumentKind.INVOICE,
        eur("357.04"),  # −351.09 Pro (Sep → Mar) + 708.13 Business
        (UPGRADE,),
    )
    assert second.corrections == (_by_third("351.09", consumed=eur("351.09")),)
    assert (second.credited, second.creditable, second.amount_due) == (
        eur("351.09"),
        eur("120.26"),  # 471.35 charged for Pro − 351.09 credited
        eur("239.67"),  # consumed on F-2026-000003: cancels nothing here
    )
    assert (first.credited, first.creditable) == (eur("231.68"), eur("116.32"))  # untouched
    # s2b_gesture.py: the gesture of 199.72 HT (239.66 TTC) on F-2026-000002 is refused now
    with pytest.raises(OutOfBoundsError, match=r"credit=.*239\.66.* must be <= 120\.26 EUR"):
        correct_invoice(store, UPGRADE, issued_on=date(2026, 9, 2), lines=[_gesture("199.72")])
    assert len(store.invoices(subscription="S1")) == 3  # nothing half-applied
    # what is left may still be credited: 100.21 HT + TVA = 120.25
    corrected = correct_invoice(
        store, UPGRADE, issued_on=date(2026, 9, 2), lines=[_gesture("100.21")]
    )
    assert corrected.credit_note.total == eur("-120.25")


@pytest.mark.parametrize("policy", list(NegativeBalancePolicy))
def test_an_upgrade_then_downgrade_back_names_and_settles_the_upgrade_invoice(store, policy):
    """s9_up_down.py: Essentiel → Pro on 1 July → Essentiel on 1 September (at once)."""
    first, second, note = _changed(store, "essentiel", policy)
    assert (note.kind, note.total, note.corrects) == (
        DocumentKind.CREDIT_NOTE,
        eur("-178.52"),  # −351.09 Pro (Sep → Mar) + 172.57 Essentiel (Sep → Mar)
        UPGRADE,
    )
    assert second.corrections == (_by_third("351.09", consumed=eur("172.57")),)
    assert (second.creditable, second.amount_due, first.amount_due) == (
        eur("120.26"),
        eur("61.15"),  # 239.67 − 178.52 cancelled
        eur("348.00"),
    )
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note, negative_balance=policy) == eur("0")
    # Essentiel Mar → Jul 116.32 + Pro Jul → Sep 120.26 + Essentiel Sep → Mar 172.57
    report = account_balance(
        [first, second, note], currency="EUR", payments=[], refunds=[], state=state,
        negative_balance=policy,
    )  # fmt: skip
    assert (report.due, report.is_balanced) == (eur("409.15"), True)


# -- F2: upgrade, then cancellation ------------------------------------------------------------


def _cancelled(store, policy):
    _upgraded(store, policy)
    cancelled = store.get_subscription("S1").cancel(on=SEPTEMBER, at_period_end=False)
    assert replace_subscription(store, cancelled)
    run_billing(store, as_of=SEPTEMBER)
    return store.invoices(subscription="S1")


def test_the_cancellation_note_names_the_upgrade_invoice_and_cancels_what_is_due_there(store):
    """s4_up_cancel.py CREDIT_NOTE 0 0: nothing paid; the note −351.09 credits Pro's period.

    It names F-2026-000002 and cancels all it asks (239.67); the rest, 111.42, is owed on
    the note (refunded against it). Dunning claims F-2026-000001's 348.00 only: F-2026-000002
    is settled, and nobody is dunned for what the same note owes back on it.
    """
    first, second, note = _cancelled(store, NegativeBalancePolicy.CREDIT_NOTE)
    assert (note.kind, note.total, note.corrects, note.applied, note.names_only) == (
        DocumentKind.CREDIT_NOTE,
        eur("-351.09"),
        UPGRADE,
        eur("239.67"),
        False,
    )
    assert second.corrections == (_by_third("351.09", applied=eur("239.67")),)
    assert (second.status, second.amount_due, second.creditable) == (
        InvoiceStatus.PAID,
        eur("0.00"),
        eur("120.26"),  # Pro Jul → Sep, still charged
    )
    assert (first.amount_due, first.creditable) == (eur("348.00"), eur("116.32"))
    state = store.get_billing_state("S1")
    policy = NegativeBalancePolicy.CREDIT_NOTE
    assert refundable(state, currency="EUR", credit_note=note, negative_balance=policy) == eur(
        "111.42"
    )
    late = date(2026, 10, 15)
    assert [amount_due_on(doc, late) for doc in (first, second)] == [eur("348.00"), eur("0.00")]
    actions = dunning_actions(
        [first, second, note], policy=DunningPolicy.standard(), history=(), as_of=late
    )
    assert {(action.invoice, action.amount_due) for action in actions} == {(FIRST, eur("348.00"))}
    report = account_balance(
        [first, second, note], currency="EUR", payments=[], refunds=[], state=state
    )
    assert (report.due, report.owed_on_credit_notes, report.is_balanced) == (
        eur("348.00"),
        eur("111.42"),
        True,
    )
    # F-2026-000002's Pro period is credited 351.09 of its 471.35: a gesture of 239.66 is refused
    with pytest.raises(OutOfBoundsError, match=r"must be <= 120\.26 EUR"):
        correct_invoice(store, UPGRADE, issued_on=date(2026, 9, 2), lines=[_gesture("199.72")])


def test_the_cancellation_note_carries_forward_what_it_does_not_cancel(store):
    """s4_up_cancel.py CARRY_FORWARD 0 0: 239.67 cancelled, 111.42 in the credit balance."""
    first, second, note = _cancelled(store, NegativeBalancePolicy.CARRY_FORWARD)
    assert (note.corrects, note.applied, note.names_only) == (UPGRADE, None, False)
    assert (second.status, second.amount_due, second.cancelled) == (
        InvoiceStatus.PAID,
        eur("0.00"),
        eur("351.09"),  # applied whole: 111.42 beyond what was due went to the balance
    )
    state = store.get_billing_state("S1")
    assert state.credit_balance == eur("111.42")
    policy = NegativeBalancePolicy.CARRY_FORWARD
    assert refundable(state, currency="EUR", negative_balance=policy) == eur("111.42")
    actions = dunning_actions(
        [first, second, note], policy=DunningPolicy.standard(), history=(),
        as_of=date(2026, 10, 15),
    )  # fmt: skip
    assert {(action.invoice, action.amount_due) for action in actions} == {(FIRST, eur("348.00"))}
    report = account_balance(
        [first, second, note], currency="EUR", payments=[], refunds=[], state=state,
        negative_balance=policy,
    )  # fmt: skip
    assert (report.due, report.credit_balance, report.is_balanced) == (
        eur("348.00"),
        eur("111.42"),
        True,
    )


def test_the_cancellation_note_of_a_paid_upgrade_only_names_it():
    """Both invoices paid: the note names F-2026-000002 and owes all its 351.09 itself."""
    store = MemoryStore()
    _upgraded(store)
    pay_invoice(store, FIRST, Payment(amount=eur("348.00"), paid_on=date(2026, 3, 15)))
    pay_invoice(store, UPGRADE, Payment(amount=eur("239.67"), paid_on=date(2026, 7, 15)))
    cancelled = store.get_subscription("S1").cancel(on=SEPTEMBER, at_period_end=False)
    assert replace_subscription(store, cancelled)
    run_billing(store, as_of=SEPTEMBER)
    _first, second, note = store.invoices(subscription="S1")
    assert (note.corrects, note.names_only) == (UPGRADE, True)
    assert (second.credited, second.creditable, second.amount_due) == (
        eur("351.09"),
        eur("120.26"),
        eur("0.00"),
    )
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note) == eur("351.09")


# -- F3: a note crediting periods of several invoices ------------------------------------------


def test_a_backdated_seat_reduction_note_counts_against_each_invoice_it_credits():
    """s6_backdated.py CREDIT_NOTE 1: Pro × 3 seats a month (212.40 each, F-1..F-3, unpaid),
    reduced to 1 seat from 15 March, billed on 2 May: the note −360.85 credits periods of
    the three invoices. Each should record its share and cancel what it asks; a gesture of
    212.40 on F-2026-000002 (April, credited whole by the note) should be refused."""
    store = MemoryStore()
    catalog = _catalog(store)
    entry = {**ESSENTIEL, "plan": "pro", "frequency": "monthly", "quantity": 3}
    store.save_subscription(Subscription.from_mapping(entry, catalog=catalog))
    for month in (3, 4, 5):
        run_billing(store, as_of=date(2026, month, 1))
    changed = store.get_subscription("S1").change_quantity(1, on=date(2026, 3, 15))
    assert replace_subscription(store, changed)
    run_billing(store, as_of=date(2026, 5, 2))
    *invoices, note = store.invoices(subscription="S1")
    assert [doc.total for doc in invoices] == [eur("212.40")] * 3
    assert note.total == eur("-360.85")
    recorded = [[c.credit_note for c in invoice.corrections] for invoice in invoices]
    assert recorded == [["F-2026-000004"]] * 3
    assert Money.total((i.cancelled for i in invoices), currency="EUR") == eur("360.85")
    with pytest.raises(OutOfBoundsError):
        correct_invoice(store, UPGRADE, issued_on=date(2026, 5, 3), lines=[_gesture("177.00")])


# -- F4: the upgrade invoice's reference carries the credited invoice's date ---------------------


def test_the_upgrade_invoice_refers_to_the_invoice_it_credits_with_its_date():
    store = upgraded(MemoryStore())
    first, invoice = store.invoices(subscription="S1")
    said = {
        "fr_FR": (
            "Crédit des périodes facturées sur la facture F-2026-000001 du 1 mars 2026 : les "
            "lignes de crédit ci-dessus sont déduites de cette facture"
        ),
        "en_US": (
            "Credit of periods billed on invoice F-2026-000001 of March 1, 2026: the credit "
            "lines above are deducted from this invoice"
        ),
    }
    for locale, words in said.items():
        assert words in invoice_text(invoice, locale=locale, credited=[first])
        assert html_escape(words) in invoice_html(invoice, locale=locale, credited=[first])
        # without the invoice, its number alone (as a credit note without ``corrected``)
        assert "F-2026-000001 :" in invoice_text(invoice, locale="fr_FR")
    other = attrs.evolve(first, number="F-2026-000009")
    with pytest.raises(InvalidArgumentError, match="F-2026-000009"):
        invoice_text(invoice, locale="fr_FR", credited=[other])
    with pytest.raises(InvalidTypeError):
        invoice_text(invoice, locale="fr_FR", credited=["F-2026-000001"])


def test_the_upgrade_invoice_pdf_refers_to_the_invoice_it_credits_with_its_date():
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("fpdf")
    from subbill.pdf import render_invoice_pdf  # noqa: PLC0415  (needs fpdf2)

    store = upgraded(MemoryStore())
    first, invoice = store.invoices(subscription="S1")
    pdf = render_invoice_pdf(invoice, locale="fr_FR", credited=[first])
    pages = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "sur la facture F-2026-000001 du 1 mars 2026" in " ".join(pages.split())


def test_the_factur_x_of_the_upgrade_dates_the_invoice_it_credits(rules):
    from subbill.einvoice import invoice_xml  # noqa: PLC0415  (needs factur-x)
    from tests.einvoicing_data import BUYER, SELLER  # noqa: PLC0415

    store = upgraded(MemoryStore())
    first, invoice = store.invoices(subscription="S1")
    buyer = attrs.evolve(BUYER, id="ACME")
    xml = invoice_xml(invoice, seller=SELLER, buyer=buyer, credited=[first])
    assert rules.errors(xml) == []
    referenced = re.findall(
        r"<ram:InvoiceReferencedDocument>\s*<ram:IssuerAssignedID>([^<]*)</ram:IssuerAssignedID>"
        r"\s*<ram:FormattedIssueDateTime>\s*<qdt:DateTimeString format=\"102\">([^<]*)<",
        xml.decode(),
    )
    assert referenced == [(FIRST, "20260301")]


def test_subbill_invoice_show_dates_the_invoice_an_upgrade_credits(tmp_path, capsys):
    path = tmp_path / "billing.db"
    upgraded(SQLiteStore(path)).close()
    assert main(["invoice", "show", UPGRADE, "--locale", "fr_FR", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "sur la facture F-2026-000001 du 1 mars 2026 : les lignes de crédit" in out

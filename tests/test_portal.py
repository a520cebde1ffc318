import re
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from subbill import (
    BillingTerms,
    Card,
    InvalidCardError,
    InvoiceNumbering,
    LineItem,
    Money,
    OtherMethod,
    Payment,
    Quote,
    RefusedError,
    Subscription,
    SubscriptionStatus,
    TaxRate,
    Ticket,
    TicketStatus,
    Wallet,
    bill_subscription,
    portal_overview,
    purchase,
)
from subbill.l10n import refusal_text
from subbill.pdf import Party, render_invoice_pdf
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
AS_OF = date(2026, 4, 10)
VAT = TaxRate(name="TVA 20 %", percent="20")
VAT10 = TaxRate(name="TVA 10 %", percent="10")


def eur(amount):
    return Money(amount, "EUR")


def visa(**kw):
    fields = {"id": "visa", "brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2027}
    fields.update(kw)
    return Card(**fields)


def test_card_expiry_is_the_last_day_of_its_month():
    card = visa(exp_month=3, exp_year=2026)
    assert not card.is_expired(as_of=date(2026, 3, 31))
    assert card.is_expired(as_of=date(2026, 4, 1))
    assert card.expires_before(date(2026, 4, 1))
    assert not card.expires_before(date(2026, 3, 31))
    assert card.label == "Visa •••• 4242 (03/2026)"


@pytest.mark.parametrize(
    "number", ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242"]
)
def test_a_full_card_number_is_refused(number):
    with pytest.raises(InvalidCardError, match="full card number"):
        visa(last4=number)


def test_wallet_refuses_deleting_the_only_method_of_an_active_subscription():
    sub = Subscription.create(
        id="ABO-1",
        customer="ACME",
        catalog=CATALOG,
        plan="pro",
        start=date(2026, 1, 1),
        payment_method="visa",
    )
    wallet = Wallet(customer="ACME").add(visa())
    assert wallet.default == "visa"
    with pytest.raises(RefusedError, match="only_method") as caught:
        wallet.delete("visa", subscriptions=[sub], as_of=AS_OF)
    assert caught.value.refusal.fact("subscriptions") == "ABO-1"
    assert "ABO-1" in refusal_text(caught.value.refusal, locale="fr_FR")
    wallet = wallet.add(visa(id="mc", brand="Mastercard", last4="5555")).set_default("mc")
    assert wallet.default == "mc"
    # Another method exists, but the subscription still uses visa: a replacement is named,
    # and the subscription moves to it (it never points at a deleted method).
    with pytest.raises(RefusedError, match="in_use"):
        wallet.delete("visa", subscriptions=[sub], as_of=AS_OF)
    deletion = wallet.delete("visa", subscriptions=[sub], as_of=AS_OF, replacement="mc")
    assert [m.id for m in deletion.wallet.methods] == ["mc"]
    (moved,) = deletion.moved
    assert moved.payment_method == "mc"
    assert moved.history[-1].kind == "payment_method_changed"
    ended = sub.cancel(on=date(2026, 1, 10), at_period_end=False)
    assert (
        Wallet(customer="ACME")
        .add(visa())
        .delete("visa", subscriptions=[ended], as_of=AS_OF)
        .wallet.methods
        == ()
    )


def test_changing_the_default_card_does_not_move_the_subscription_but_change_payment_method_does():
    sub = Subscription.create(
        id="ABO-1", customer="ACME", catalog=CATALOG, plan="pro", start=date(2026, 1, 1),
        payment_method="visa",
    )
    wallet = Wallet(customer="ACME").add(visa()).add(
        visa(id="mc", brand="Mastercard", last4="5555")
    )
    wallet = wallet.set_default("mc")
    assert sub.payment_method == "visa"  # the wallet's default is only a default
    moved = sub.change_payment_method("mc", on=date(2026, 3, 10))
    assert moved.payment_method == "mc"
    assert sub.change_payment_method("visa", on=date(2026, 3, 10)) is sub


def _portal_data():
    sub = Subscription.create(
        id="ABO-1",
        customer="ACME",
        catalog=CATALOG,
        plan="pro",
        start=date(2026, 1, 1),
        modules=["stock", "crm"],
        payment_method="visa",
    )
    numbering = InvoiceNumbering()
    first = bill_subscription(sub.to_charge_plan(CATALOG), as_of=date(2026, 3, 1))
    january = first.invoice.finalize(number="F-2026-000001")
    paid = january.apply_payment(Payment(amount=january.total, paid_on=date(2026, 3, 5))).invoice
    plan = sub.to_charge_plan(CATALOG)
    april = bill_subscription(plan, first.state, as_of=date(2026, 4, 1)).invoice
    april = april.finalize(
        number=numbering.next_number("F-2026-000001", issued_on=date(2026, 4, 1))
    )
    march_due = bill_subscription(
        Subscription.create(
            id="ABO-1",
            customer="ACME",
            catalog=CATALOG,
            plan="pro",
            start=date(2026, 1, 1),
            terms=BillingTerms(payment_terms_days=5),
        ).to_charge_plan(CATALOG),
        as_of=date(2026, 1, 1),
    ).invoice.finalize(number="F-2026-000000")
    quotes = [
        Quote(
            id="Q-1",
            customer="ACME",
            currency="EUR",
            valid_until=date(2026, 4, 9),
            lines=(LineItem(code="pack", name="Success Pack", unit_price=eur("1500")),),
        ).send(on=date(2026, 3, 1)),
        Quote(
            id="Q-2",
            customer="ACME",
            currency="EUR",
            valid_until=date(2026, 4, 30),
            lines=(LineItem(code="user", name="Utilisateur", unit_price=eur("25"), quantity=2),),
        ).send(on=date(2026, 4, 1)),
        Quote(
            id="Q-X",
            customer="Other",
            currency="EUR",
            valid_until=date(2026, 4, 30),
            lines=(LineItem(code="user", name="U", unit_price=eur("25")),),
        ),
    ]
    order = purchase(quotes[1], paid_on=date(2026, 4, 2)).order
    tickets = [
        Ticket(
            reference="#1042",
            customer="ACME",
            subject="Export comptable",
            status=TicketStatus.IN_PROGRESS,
            opened_on=date(2026, 4, 3),
        ),
        Ticket(
            reference="#0999",
            customer="ACME",
            subject="Connexion",
            status=TicketStatus.CLOSED,
            opened_on=date(2026, 2, 1),
            updated_on=date(2026, 2, 2),
        ),
    ]
    wallet = (
        Wallet(customer="ACME")
        .add(visa())
        .add(visa(id="old", last4="1111", exp_month=1, exp_year=2026))
    )
    return sub, [paid, april, march_due], quotes, [order], tickets, wallet


def test_portal_overview_shows_what_the_odoo_portal_shows():
    sub, invoices, quotes, orders, tickets, wallet = _portal_data()
    view = portal_overview(
        "ACME",
        catalog=CATALOG,
        quotes=quotes,
        orders=orders,
        invoices=invoices,
        subscriptions=[sub],
        tickets=tickets,
        wallet=wallet,
        as_of=AS_OF,
    )
    assert [(q.id, q.status.value, q.is_expired, q.amount) for q in view.quotes] == [
        ("Q-2", "sent", False, eur("50.00")),
        ("Q-1", "expired", True, eur("1500.00")),
    ]
    assert [(o.id, o.paid_now) for o in view.orders] == [("SO-Q-2", eur("50.00"))]
    assert [(i.number, i.label, i.amount_due) for i in view.invoices] == [
        ("F-2026-000002", "unpaid", eur("73.00")),
        ("F-2026-000001", "paid", eur("0")),
        ("F-2026-000000", "overdue", eur("59.00")),
    ]
    (row,) = view.subscriptions
    assert row.status is SubscriptionStatus.UNPAID
    assert (row.plan, row.apps, row.lines, row.next_billing, row.next_amount) == (
        "Pro",
        2,
        0,
        date(2026, 5, 1),
        eur("73.00"),
    )
    assert row.payment_method == "Visa •••• 4242 (12/2027)"
    assert [(t.reference, t.status) for t in view.tickets] == [
        ("#1042", TicketStatus.IN_PROGRESS),
        ("#0999", TicketStatus.CLOSED),
    ]
    assert [(c.id, c.is_default, c.is_expired) for c in view.payment_methods] == [
        ("visa", True, False),
        ("old", False, True),
    ]
    other = portal_overview(
        "Other", catalog=CATALOG, quotes=quotes, invoices=invoices, wallet=wallet, as_of=AS_OF
    )
    assert [q.id for q in other.quotes] == ["Q-X"]
    assert other.invoices == ()
    assert other.payment_methods == ()


def test_other_methods_never_expire():
    sepa = OtherMethod(id="sepa", kind="sepa_debit", label="Prélèvement SEPA FR76 •••• 1234")
    assert not sepa.is_expired(as_of=date(2099, 1, 1))


def _text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    return re.sub(r"[\xa0\u202f]", " ", text)


def test_pdf_invoice_reads_back_with_number_totals_and_vat_breakdown():
    sub = Subscription.create(
        id="ABO-1",
        customer="ACME",
        catalog=CATALOG,
        plan="business",
        start=date(2026, 3, 1),
        modules=["stock"],
        tax_rates=(VAT,),
    )
    invoice = bill_subscription(sub.to_charge_plan(CATALOG), as_of=date(2026, 3, 1)).invoice
    from subbill.billing import draft_invoice  # noqa: PLC0415
    from subbill.invoices import InvoiceLine  # noqa: PLC0415, F401

    books = bill_subscription(
        Subscription.create(
            id="X",
            customer="ACME",
            catalog=CATALOG,
            plan="essentiel",
            start=date(2026, 3, 1),
            tax_rates=(VAT10,),
        ).to_charge_plan(CATALOG),
        as_of=date(2026, 3, 1),
    ).invoice
    both = draft_invoice(
        customer="ACME",
        currency="EUR",
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 31),
        lines=[*invoice.lines, *books.lines],
        subscription="ABO-1",
    ).finalize(number="F-2026-000124")
    pdf = render_invoice_pdf(
        both,
        locale="fr_FR",
        seller=Party(
            name="Logiciel SAS",
            address=("1 rue de la Paix", "75002 Paris"),
            siret="123 456 789 00012",
            vat_number="FR12345678901",
        ),
        buyer=Party(name="ACME SARL", address=("5 quai du Port", "13002 Marseille")),
    )
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "Facture F-2026-000124" in text
    assert "Total HT" in text
    assert "157,00 €" in text
    assert "TVA 20 % sur 128,00 €" in text
    assert "25,60 €" in text
    assert "TVA 10 % sur 29,00 €" in text
    assert "2,90 €" in text
    assert "Total TTC" in text
    assert "185,50 €" in text
    assert "Logiciel SAS" in text
    assert "ACME SARL" in text

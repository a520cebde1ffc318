import re
from datetime import date
from io import BytesIO

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from subbill import (
    MONTHLY,
    BillingStart,
    BillingTerms,
    Card,
    Discount,
    Duration,
    LineItem,
    Payment,
    Quote,
    RefusedError,
    Subscription,
    SubscriptionStatus,
    TaxRate,
    Wallet,
    bill_subscription,
    portal_overview,
    purchase,
)
from subbill.errors import InvalidArgumentError, InvalidDateError, InvalidTypeError
from subbill.invoices import InvoiceNumbering
from subbill.l10n import refusal_text
from subbill.payments import InvalidCardError, OtherMethod
from subbill.pdf import Party, render_invoice_pdf
from subbill.portal import InvoiceLabel, TicketStatus
from tests.builders import VAT, eur, item, quote, ticket
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
AS_OF = date(2026, 4, 10)
VAT10 = TaxRate(name="TVA 10 %", percent="10")


def acme(*, plan="pro", start=date(2026, 1, 1), **fields):
    """ACME's subscription ``ABO-1`` to the seed catalog (``pro`` from 1 January 2026 unless
    told)."""
    fields.setdefault("id", "ABO-1")
    return Subscription.create(customer="ACME", catalog=CATALOG, plan=plan, start=start, **fields)


def visa(**kw):
    fields = {"id": "visa", "brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2027}
    fields.update(kw)
    return Card(**fields)


def test_card_expiry_is_the_last_day_of_its_month():
    card = visa(exp_month=3, exp_year=2026)
    assert not card.is_expired(as_of=date(2026, 3, 31))
    assert card.is_expired(as_of=date(2026, 4, 1))
    assert card.is_expired(as_of=date(2026, 4, 1))
    assert not card.is_expired(as_of=date(2026, 3, 31))
    assert card.label == "Visa •••• 4242 (03/2026)"


@pytest.mark.parametrize(
    "number", ["4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242"]
)
def test_a_full_card_number_is_refused(number):
    with pytest.raises(InvalidCardError, match="full card number"):
        visa(last4=number)


def test_wallet_refuses_deleting_the_only_method_of_an_active_subscription():
    sub = acme(payment_method="visa")
    wallet = Wallet(customer="ACME").add(visa())
    assert wallet.default == "visa"
    with pytest.raises(RefusedError, match="only_method") as caught:
        wallet.delete("visa", subscriptions=[sub], on=AS_OF)
    assert caught.value.refusal.fact("subscriptions") == "ABO-1"
    assert "ABO-1" in refusal_text(caught.value.refusal, locale="fr_FR")
    wallet = wallet.add(visa(id="mc", brand="Mastercard", last4="5555")).set_default("mc")
    assert wallet.default == "mc"
    # Another method exists, but the subscription still uses visa: a replacement is named,
    # and the subscription moves to it (it never points at a deleted method).
    with pytest.raises(RefusedError, match="in_use"):
        wallet.delete("visa", subscriptions=[sub], on=AS_OF)
    deletion = wallet.delete("visa", subscriptions=[sub], on=AS_OF, replacement="mc")
    assert [m.id for m in deletion.wallet.methods] == ["mc"]
    (moved,) = deletion.moved
    assert moved.payment_method == "mc"
    assert moved.history[-1].kind == "payment_method_changed"
    ended = sub.cancel(on=date(2026, 1, 10), at_period_end=False)
    assert (
        Wallet(customer="ACME")
        .add(visa())
        .delete("visa", subscriptions=[ended], on=AS_OF)
        .wallet.methods
        == ()
    )


def test_deleting_a_method_is_dated_on_and_refuses_what_is_not_a_list_of_subscriptions():
    # The review: delete(..., subscriptions=None, as_of=d) raised a raw TypeError, and a
    # change is dated ``on=`` (issue 12), not ``as_of=``.
    sub = acme(payment_method="visa")
    wallet = Wallet(customer="ACME").add(visa()).add(visa(id="mc", brand="Mastercard"))
    with pytest.raises(InvalidTypeError, match=r"^subscriptions=None must be an iterable of "):
        wallet.delete("visa", subscriptions=None, on=AS_OF)
    with pytest.raises(InvalidTypeError, match=r"^subscriptions=None must be an iterable of "):
        wallet.can_delete("visa", subscriptions=None, as_of=AS_OF)
    with pytest.raises(InvalidDateError, match=r"^on=None must be a datetime\.date"):
        wallet.delete("visa", subscriptions=[sub], replacement="mc")
    deletion = wallet.delete("visa", subscriptions=[sub], on=AS_OF, replacement="mc")
    with pytest.warns(DeprecationWarning, match=r"as_of=\.\.\.\) is deprecated: pass on="):
        old = wallet.delete("visa", subscriptions=[sub], as_of=AS_OF, replacement="mc")
    assert old == deletion
    with pytest.raises(InvalidArgumentError, match=r"pass on= only"):
        wallet.delete("visa", subscriptions=[sub], on=AS_OF, as_of=AS_OF, replacement="mc")


def test_changing_the_default_card_does_not_move_the_subscription_but_change_payment_method_does():
    sub = acme(payment_method="visa")
    wallet = (
        Wallet(customer="ACME").add(visa()).add(visa(id="mc", brand="Mastercard", last4="5555"))
    )
    wallet = wallet.set_default("mc")
    assert sub.payment_method == "visa"  # the wallet's default is only a default
    moved = sub.change_payment_method("mc", on=date(2026, 3, 10))
    assert moved.payment_method == "mc"
    assert sub.change_payment_method("visa", on=date(2026, 3, 10)) is sub


def _portal_data():
    sub = acme(modules=["stock", "crm"], payment_method="visa")
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
        acme(terms=BillingTerms(payment_terms_days=5)).to_charge_plan(CATALOG),
        as_of=date(2026, 1, 1),
    ).invoice.finalize(number="F-2026-000000")
    quotes = [
        quote("Q-1", item("pack", "1500", name="Success Pack"), valid_until=date(2026, 4, 9)).send(
            on=date(2026, 3, 1)
        ),
        quote(
            "Q-2", item("user", "25", name="Utilisateur", quantity=2), valid_until=date(2026, 4, 30)
        ).send(on=date(2026, 4, 1)),
        quote("Q-X", item("user", "25", name="U"), customer="Other", valid_until=date(2026, 4, 30)),
    ]
    order = purchase(quotes[1], paid_on=date(2026, 4, 2)).order
    tickets = [
        ticket("#1042", "Export comptable", TicketStatus.IN_PROGRESS, opened_on=date(2026, 4, 3)),
        ticket(
            "#0999",
            "Connexion",
            TicketStatus.CLOSED,
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
        ("F-2026-000002", InvoiceLabel.UNPAID, eur("73.00")),
        ("F-2026-000001", InvoiceLabel.PAID, eur("0")),
        ("F-2026-000000", InvoiceLabel.OVERDUE, eur("59.00")),
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
    sub = acme(plan="business", start=date(2026, 3, 1), modules=["stock"], tax_rates=(VAT,))
    invoice = bill_subscription(sub.to_charge_plan(CATALOG), as_of=date(2026, 3, 1)).invoice
    from subbill.billing import draft_invoice  # noqa: PLC0415
    from subbill.invoices import InvoiceLine  # noqa: PLC0415, F401

    books = bill_subscription(
        acme(id="X", plan="essentiel", start=date(2026, 3, 1), tax_rates=(VAT10,)).to_charge_plan(
            CATALOG
        ),
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


# -- quotes show what accepting charges; invoices carry typed labels (issue 11) -----------------

PAID_ON = date(2026, 8, 31)


def _website_quote(**changes):
    """Seed 004's quote: website setup 1,500.00 HT, SEO 300.00 HT a month from 6 months later."""
    fields = {
        "id": "DEVIS-1",
        "customer": "ACME",
        "currency": "EUR",
        "valid_until": date(2026, 9, 30),
        "lines": (
            LineItem(
                code="site", name="Création du site", unit_price=eur("1500.00"), tax_rates=(VAT,)
            ),
            LineItem(
                code="seo",
                name="SEO",
                unit_price=eur("300.00"),
                frequency=MONTHLY,
                billing_start=BillingStart.after_months(6),
                tax_rates=(VAT,),
            ),
        ),
        "discounts": (Discount.percent_off("LANCEMENT", "10", duration=Duration.once()),),
    }
    fields.update(changes)
    return Quote(**fields).send(on=date(2026, 8, 1))


def test_quote_amount_is_the_ttc_total_due_on_accepting_not_the_ht_list_price():
    # 1,500.00 HT − 10 % = 1,350.00 HT, + TVA 20 % = 1,620.00 TTC; the SEO starts later.
    # Before issue 11 the portal summed unit price × quantity: 1,800.00 (HT, undiscounted).
    (row,) = portal_overview(
        "ACME", catalog=CATALOG, quotes=[_website_quote()], as_of=PAID_ON
    ).quotes
    assert row.amount == eur("1620.00")
    assert (row.next_payment, row.next_payment_on) == (eur("360.00"), date(2027, 2, 28))
    assert row.accepted_on == PAID_ON
    bought = _website_quote().accept(on=PAID_ON)
    assert bought.payment.amount == row.amount  # exactly what accepting charges


def test_an_accepted_quote_shows_what_was_paid_on_its_day():
    bought = _website_quote().accept(on=date(2026, 9, 2))
    accepted = bought.quote
    (row,) = portal_overview(
        "ACME", catalog=CATALOG, quotes=[accepted], as_of=date(2026, 12, 1)
    ).quotes
    assert row.status.value == "accepted"
    assert (row.accepted_on, row.amount) == (date(2026, 9, 2), eur("1620.00"))
    assert row.amount == bought.payment.amount
    assert (row.next_payment, row.next_payment_on) == (eur("360.00"), date(2027, 3, 2))


def test_an_expired_quote_shows_what_it_cost_on_its_last_valid_day():
    (row,) = portal_overview(
        "ACME", catalog=CATALOG, quotes=[_website_quote()], as_of=date(2026, 11, 1)
    ).quotes
    assert (row.is_expired, row.accepted_on, row.amount) == (
        True,
        date(2026, 9, 30),
        eur("1620.00"),
    )


def test_a_quote_with_only_later_lines_costs_nothing_on_accepting():
    seo_only = _website_quote(lines=(_website_quote().lines[1],), discounts=())
    (row,) = portal_overview("ACME", catalog=CATALOG, quotes=[seo_only], as_of=PAID_ON).quotes
    assert row.amount == eur("0")
    assert (row.next_payment, row.next_payment_on) == (eur("360.00"), date(2027, 2, 28))
    draft = Quote(id="Q-0", customer="ACME", currency="EUR", valid_until=date(2026, 9, 30))
    (empty,) = portal_overview("ACME", catalog=CATALOG, quotes=[draft], as_of=PAID_ON).quotes
    assert (empty.amount, empty.next_payment) == (eur("0"), None)


def _march_invoice(total="120.00"):
    from subbill.billing import draft_invoice  # noqa: PLC0415
    from subbill.invoices import one_time_line  # noqa: PLC0415

    return draft_invoice(
        customer="ACME",
        currency="EUR",
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 31),
        lines=[one_time_line("x", "Pack", eur(total))],
    )


def test_invoice_labels_are_typed_and_overdue_wins_over_partially_paid():
    from subbill.invoices import credit_note_for  # noqa: PLC0415
    from subbill.portal import invoice_label  # noqa: PLC0415

    draft = _march_invoice()
    assert invoice_label(draft, as_of=date(2026, 3, 1)) is InvoiceLabel.DRAFT
    issued = draft.finalize(number="F-2026-000010")
    part = issued.apply_payment(Payment(amount=eur("20.00"), paid_on=date(2026, 3, 5))).invoice
    assert part.amount_due == eur("100.00")
    assert invoice_label(issued, as_of=date(2026, 3, 31)) is InvoiceLabel.UNPAID
    assert invoice_label(issued, as_of=date(2026, 4, 1)) is InvoiceLabel.OVERDUE
    assert invoice_label(part, as_of=date(2026, 3, 31)) is InvoiceLabel.PARTIALLY_PAID
    # partially paid AND past its due date: overdue wins (the customer must act)
    assert invoice_label(part, as_of=date(2026, 4, 1)) is InvoiceLabel.OVERDUE
    paid = part.apply_payment(Payment(amount=eur("100.00"), paid_on=date(2026, 4, 2))).invoice
    assert invoice_label(paid, as_of=date(2026, 5, 1)) is InvoiceLabel.PAID
    assert invoice_label(draft.void(), as_of=date(2026, 5, 1)) is InvoiceLabel.VOID
    note = credit_note_for(issued, issued_on=date(2026, 3, 2)).finalize(number="F-2026-000011")
    assert invoice_label(note, as_of=date(2026, 5, 1)) is InvoiceLabel.CREDIT_NOTE


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        ({"quotes": [None]}, r"quotes\[0\]=None must be a Quote"),
        ({"quotes": "Q-1"}, r"quotes='Q-1' must be an iterable of Quotes"),
        ({"invoices": 5}, r"invoices=5 must be an iterable of Invoices"),
        ({"subscriptions": [object()]}, r"subscriptions\[0\]=.* must be a Subscription"),
        ({"tickets": [{"reference": "#1"}]}, r"tickets\[0\]=.* must be a Ticket"),
        ({"orders": [1]}, r"orders\[0\]=1 must be a SalesOrder"),
        ({"invoices": ["F-1"]}, r"invoices\[0\]='F-1' must be an Invoice$"),
        ({"catalog": "pro"}, r"catalog='pro' must be a Catalog or None"),
    ],
)
def test_portal_refuses_what_is_not_of_its_kind_with_a_typed_error(arguments, name):
    from subbill.errors import InvalidTypeError  # noqa: PLC0415

    fields = {"catalog": CATALOG, "as_of": AS_OF, **arguments}
    with pytest.raises(InvalidTypeError, match=name):
        portal_overview("ACME", **fields)


@st.composite
def _quotes(draw):
    lines = []
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        recurring = draw(st.booleans())
        price = draw(st.decimals(min_value="0.01", max_value="5000", places=2))
        lines.append(
            LineItem(
                code=f"l{index}",
                name=f"Ligne {index}",
                unit_price=eur(price),
                quantity=draw(st.integers(min_value=1, max_value=5)),
                frequency=MONTHLY if recurring else None,
                billing_start=(
                    BillingStart.after_months(draw(st.integers(min_value=1, max_value=12)))
                    if recurring and draw(st.booleans())
                    else None
                ),
                tax_rates=draw(st.sampled_from([(), (VAT,), (VAT10,)])),
            )
        )
    percent = draw(st.integers(min_value=0, max_value=50))
    discounts = (Discount.percent_off("D", percent, duration=Duration.once()),) if percent else ()
    return quote("Q", *lines, discounts=discounts).send(on=date(2026, 1, 1))


@settings(max_examples=40, deadline=None)
@given(quote=_quotes(), paid_on=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)))
def test_portal_quote_amount_is_what_accepting_charges(quote, paid_on):
    (row,) = portal_overview("ACME", catalog=CATALOG, quotes=[quote], as_of=paid_on).quotes
    bought = quote.accept(on=paid_on)
    paid = bought.payment.amount if bought.payment is not None else eur("0")
    assert row.amount == paid
    assert row.amount == (bought.checkout.total_due_now or eur("0"))

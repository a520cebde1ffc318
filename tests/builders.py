"""Shared test vocabulary: the VAT rate, euro amounts, the quoted lines of the agency's sale
and the fleet of subscriptions the bill-run tests spread over workers.

One place for the data several test modules build alike, so each test reads as its case.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from subbill.billing import ChargePlan, draft_invoice
from subbill.charges import OneTimeCharge, RecurringCharge
from subbill.discounts import Discount, Duration
from subbill.invoices import Invoice, one_time_line
from subbill.licenses import LicenseAccount
from subbill.money import Money
from subbill.periods import ANNUAL, MONTHLY, QUARTERLY, BillingStart
from subbill.portal import Ticket, TicketStatus
from subbill.quotes import LineItem, PaymentLink, Quote
from subbill.taxes import TaxRate

VAT = TaxRate(name="TVA 20 %", percent="20")


def invoice_due(
    amount: str,
    *,
    due_on: date,
    number: str | None = "F-2027-000001",
    currency: str = "EUR",
    subscription: str | None = "S1",
) -> Invoice:
    """A one-line invoice of ``amount`` to ACME, issued 30 days before ``due_on``, numbered
    (a draft when ``number`` is None): the unpaid invoice of the dunning tests."""
    draft = draft_invoice(
        customer="ACME",
        currency=currency,
        issued_on=due_on - timedelta(days=30),
        due_on=due_on,
        subscription=subscription,
        lines=[one_time_line("pro", "Plan Pro", Money(amount, currency))],
    )
    return draft if number is None else draft.finalize(number=number)


def eur(amount: "str | int | Decimal") -> Money:
    """An amount in euros."""
    return Money(amount, "EUR")


def website(price: str = "3000.00", name: str = "Création du site web") -> LineItem:
    """A one-time website build, taxed at VAT 20 %."""
    return LineItem(code="site", name=name, unit_price=eur(price), tax_rates=(VAT,))


def seo(price: str = "500.00", name: str = "SEO mensuel", **fields: Any) -> LineItem:
    """Monthly SEO billed from six months after payment, taxed at VAT 20 %."""
    return LineItem(
        code="seo",
        name=name,
        unit_price=eur(price),
        frequency=MONTHLY,
        billing_start=BillingStart.after_months(6),
        tax_rates=(VAT,),
        **fields,
    )


def item(code: str, price: str, *, name: str | None = None, **fields: Any) -> LineItem:
    """A quoted line ``code`` at ``price`` euros, named ``code`` in capitals unless ``name``.

    ``fields`` are the rest of the line (``frequency=MONTHLY``, ``billing_start=``…).
    """
    return LineItem(code=code, name=name or code.upper(), unit_price=eur(price), **fields)


def audit(payments: int, name: str = "Audit trimestriel") -> LineItem:
    """A quarterly audit of 900.00 billed from 15 March 2026, for ``payments`` quarters."""
    return item(
        "audit",
        "900",
        name=name,
        frequency=QUARTERLY,
        billing_start=BillingStart.on(date(2026, 3, 15)),
        payments=payments,
    )


def payment_link(
    *lines: LineItem, link_id: str = "L", discounts: tuple[Discount, ...] = ()
) -> PaymentLink:
    """A payment link in euros that sells ``lines``."""
    return PaymentLink(id=link_id, currency="EUR", lines=lines, discounts=discounts)


def quote(
    quote_id: str,
    *lines: LineItem,
    customer: str = "ACME",
    valid_until: date = date(2026, 12, 31),
    discounts: tuple[Discount, ...] = (),
) -> Quote:
    """A draft quote in euros to ``customer`` for ``lines``, valid until ``valid_until``."""
    return Quote(
        id=quote_id,
        customer=customer,
        currency="EUR",
        valid_until=valid_until,
        lines=lines,
        discounts=discounts,
    )


def ticket(
    reference: str, subject: str, status: TicketStatus, *, opened_on: date, **fields: Any
) -> Ticket:
    """ACME's support ticket ``reference`` about ``subject``, opened on ``opened_on``."""
    return Ticket(
        reference=reference,
        customer="ACME",
        subject=subject,
        status=status,
        opened_on=opened_on,
        **fields,
    )


def account(**changes: Any) -> LicenseAccount:
    """Garage Petit's two-year account of 6 TBox seats from 15 September 2025."""
    fields: dict[str, Any] = {
        "customer": "Garage Petit",
        "product": "TBox",
        "seats": 6,
        "start": date(2025, 9, 15),
        "years": 2,
    }
    return LicenseAccount(**(fields | changes))


def fleet(count: int) -> list[ChargePlan]:
    """``count`` varied subscriptions (frequencies, billing days, ends, discounts, set-up fees)."""
    frequencies = (MONTHLY, QUARTERLY, ANNUAL)
    result = []
    for n in range(count):
        start = date(2025, 1, 1) + timedelta(days=(n * 41) % 500)
        welcome = Discount.percent_off("WELCOME", "20", duration=Duration.periods(2))
        plan = RecurringCharge(
            code="plan",
            description="Plan",
            unit_price=eur(f"{19 + n % 7}.90"),
            quantity=1 + n % 3,
            frequency=frequencies[n % len(frequencies)],
            billing_day=1 + (n * 11) % 31,
            start=start,
            end=start + timedelta(days=200) if n % 4 == 0 else None,
            discounts=(welcome,) if n % 5 == 0 else (),
            tax_rates=(VAT,),
        )
        setup = OneTimeCharge(
            code="setup",
            description="Set-up",
            unit_price=eur("49.00"),
            due_on=start,
            tax_rates=(VAT,),
        )
        result.append(
            ChargePlan(
                id=f"S{n:03d}",
                customer=f"Customer {n:03d}",
                currency="EUR",
                charges=(plan,),
                one_time=(setup,) if n % 2 else (),
            )
        )
    return result


# -- the same facts as input documents (JSON/TOML fields), for the CLI and the readers ----------

VAT_FIELDS = {"name": "TVA 20 %", "percent": "20"}


def subscription_fields(**changes: Any) -> dict[str, Any]:
    """Boulangerie Martin's monthly ``essentiel`` subscription with CRM, as input fields."""
    return {
        "id": "S1",
        "customer": "Boulangerie Martin",
        "plan": "essentiel",
        "start": "2026-03-01",
        "frequency": "monthly",
        "modules": ["crm"],
        "tax": VAT_FIELDS,
    } | changes


def account_fields(**changes: Any) -> dict[str, Any]:
    """Garage Petit's two-year account of 6 TBox seats, as input fields."""
    return {
        "customer": "Garage Petit",
        "product": "TBox",
        "seats": 6,
        "start": "2025-09-15",
        "years": 2,
    } | changes


def seo_fields(**changes: Any) -> dict[str, Any]:
    """A payment link's SEO line (500.00 a month for 12 payments, from six months on)."""
    return {
        "code": "seo",
        "name": "Référencement (SEO)",
        "unit_price": "500.00",
        "frequency": "monthly",
        "start": {"after_months": 6},
        "payments": 12,
        "tax": VAT_FIELDS,
    } | changes


def ledger_fields() -> dict[str, Any]:
    """A ledger file: Partenaire is granted 500 TBox licence-years on 5 January 2026 and hands
    200 of them to Revendeur Ouest the next day."""
    return {
        "ledger": [
            {
                "kind": "grant",
                "on": "2026-01-05",
                "product": "TBox",
                "target": "Partenaire",
                "licence_years": 500,
                "reference": "BC-2026-001",
            },
            {
                "kind": "transfer",
                "on": "2026-01-06",
                "product": "TBox",
                "source": "Partenaire",
                "target": "Revendeur Ouest",
                "licence_years": 200,
                "reference": "T-2026-001",
            },
        ]
    }


def one_charge_plan(price: str, *, start: date, **charge: Any) -> ChargePlan:
    """Subscription ``S1`` of customer ``C`` in euros: one charge ``p`` at ``price``."""
    return ChargePlan(
        id="S1",
        customer="C",
        currency="EUR",
        charges=[
            RecurringCharge(
                code=charge.pop("code", "p"),
                description=charge.pop("description", "P"),
                unit_price=Money(price, "EUR"),
                start=start,
                **charge,
            )
        ],
    )

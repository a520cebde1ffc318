"""Bad inputs to e-invoicing: identifiers, the seller's party, VAT categories, Factur-X XML."""

from datetime import date

import attrs

from subbill import Money
from subbill.billing import BillingTerms, ChargePlan, bill_subscription, draft_invoice
from subbill.charges import RecurringCharge
from subbill.customers import Customer, CustomerKind
from subbill.einvoice import invoice_xml
from subbill.errors import (
    FloatAmountError,
    InvalidArgumentError,
    InvalidIdentifierError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import Invoice, credit_note_for, one_time_line
from subbill.parties import Party, reverse_charge
from subbill.taxes import TaxRate, VatCategory
from tests.adversarial import Case
from tests.einvoicing_data import FRANCHISE

SIREN = "732829320"
VAT = TaxRate(name="TVA 20 %", percent="20")
SELLER = Party(legal_name="Logiciel SAS", siren=SIREN, vat_number="FR44732829320", city="Paris")
BUYER = Customer(id="C-1", country="FR", siren="552100554", vat_number="FR96552100554")
BUYER_DE = Customer(id="C-DE", country="DE", vat_number="DE136695976")


def _eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _billed(*rates: TaxRate, currency: str = "EUR", price: str = "50.00") -> Invoice:
    charge = RecurringCharge(
        code="pro",
        description="Pro",
        unit_price=Money(price, currency),
        start=date(2026, 3, 1),
        tax_rates=rates,
    )
    plan = ChargePlan(id="S1", customer="C-1", currency=currency, charges=[charge])
    invoice = bill_subscription(plan, as_of=date(2026, 3, 1)).invoice
    assert invoice is not None
    return invoice.finalize(number="F-2026-000001")


_INVOICE = _billed(VAT)
_NOTE = credit_note_for(_INVOICE, issued_on=date(2026, 3, 5)).finalize(number="A-2026-000001")
_ENGINE_NOTE = draft_invoice(
    customer="C-1",
    currency="EUR",
    issued_on=date(2026, 3, 1),
    lines=[one_time_line("back", "Back", _eur("-10"))],
).finalize(number="A-2026-000002")
_INCLUSIVE = TaxRate(name="TTC", percent="20", inclusive=True)
_VAT_55 = TaxRate(name="TVA 5,5 %", percent="5.5")
_ODD = TaxRate(name="Odd", percent="8.875")


def _xml(invoice: Invoice = _INVOICE, **fields: object) -> bytes:
    arguments: dict[str, object] = {"seller": SELLER, "buyer": BUYER}
    arguments.update(fields)
    return invoice_xml(invoice, **arguments)  # type: ignore[arg-type]


def _party(**fields: object) -> Party:
    arguments: dict[str, object] = {"legal_name": "Logiciel SAS", "siren": SIREN}
    arguments.update(fields)
    return Party(**arguments)  # type: ignore[arg-type]


def _exempt(**fields: object) -> TaxRate:
    return attrs.evolve(FRANCHISE, **fields)


CASES = [
    # -- identifiers, checked when a customer or the seller is built
    Case(
        "einvoice-siren-checksum",
        lambda: Customer(id="C", siren="732829321"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-siren-length", lambda: Customer(id="C", siren="73282932"), InvalidIdentifierError
    ),
    Case("einvoice-siren-not-text", lambda: Customer(id="C", siren=732829320), InvalidTypeError),
    Case(
        "einvoice-siret-checksum",
        lambda: Customer(id="C", siret="73282932000075"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-siret-of-another-siren",
        lambda: Customer(id="C", siren="552100554", siret="73282932000074"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-vat-checksum",
        lambda: Customer(id="C", vat_number="FR45732829320"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-vat-unknown-prefix",
        lambda: Customer(id="C", vat_number="XX123456789"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-vat-german-checksum",
        lambda: Customer(id="C", vat_number="DE136695977"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-scheme-without-address",
        lambda: Customer(id="C", einvoicing_scheme="0225"),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-scheme-bad",
        lambda: Customer(id="C", einvoicing_address="x@y.fr", einvoicing_scheme="mail"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-0225-not-a-siren",
        lambda: Customer(id="C", einvoicing_address="123", einvoicing_scheme="0225"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-0225-another-siren",
        lambda: Customer(
            id="C", siren="552100554", einvoicing_address=SIREN, einvoicing_scheme="0225"
        ),
        InvalidIdentifierError,
    ),
    # -- the seller's party
    Case(
        "einvoice-party-french-without-siren", lambda: Party(legal_name="X"), InvalidIdentifierError
    ),
    Case(
        "einvoice-party-siren-checksum", lambda: _party(siren="732829321"), InvalidIdentifierError
    ),
    Case(
        "einvoice-party-vat-checksum",
        lambda: _party(vat_number="FR45732829320"),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-party-capital-zero", lambda: _party(share_capital=_eur("0")), InvalidArgumentError
    ),
    Case(
        "einvoice-party-capital-not-money", lambda: _party(share_capital="10000"), InvalidTypeError
    ),
    Case(
        "einvoice-party-four-address-lines",
        lambda: _party(address=("a", "b", "c", "d")),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-party-address-control",
        lambda: _party(address=("a\nTotal: 0",)),
        InvalidArgumentError,
    ),
    Case("einvoice-party-country", lambda: _party(country="France"), InvalidArgumentError),
    Case(
        "einvoice-party-vat-on-debits-text", lambda: _party(vat_on_debits="yes"), InvalidTypeError
    ),
    # -- VAT categories
    Case(
        "einvoice-exempt-without-reason",
        lambda: _exempt(exemption_reason=None),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-exempt-without-code", lambda: _exempt(exemption_code=None), InvalidArgumentError
    ),
    Case("einvoice-exempt-bad-vatex", lambda: _exempt(exemption_code="293B"), InvalidArgumentError),
    Case(
        "einvoice-exempt-empty-reason", lambda: _exempt(exemption_reason="  "), InvalidArgumentError
    ),
    Case("einvoice-exempt-at-20", lambda: _exempt(percent="20"), OutOfBoundsError),
    Case(
        "einvoice-reverse-charge-at-20",
        lambda: _exempt(category=VatCategory.AE, percent="20"),
        OutOfBoundsError,
    ),
    Case(
        "einvoice-standard-with-reason",
        lambda: TaxRate(name="TVA", percent="20", exemption_reason="x"),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-zero-rated-at-5",
        lambda: TaxRate(name="Z", percent="5", category=VatCategory.Z),
        OutOfBoundsError,
    ),
    Case(
        "einvoice-category-text",
        lambda: TaxRate(name="T", percent="20", category="S"),
        InvalidTypeError,
    ),
    # -- late-payment penalty rate
    Case("einvoice-penalty-zero", lambda: BillingTerms(late_payment_percent="0"), OutOfBoundsError),
    Case(
        "einvoice-penalty-above-100",
        lambda: BillingTerms(late_payment_percent="150"),
        OutOfBoundsError,
    ),
    Case(
        "einvoice-penalty-float", lambda: BillingTerms(late_payment_percent=12.5), FloatAmountError
    ),
    # -- reverse charge
    Case(
        "einvoice-reverse-seller-without-vat",
        lambda: reverse_charge(_party(), BUYER_DE),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-reverse-buyer-without-vat",
        lambda: reverse_charge(SELLER, Customer(id="C-DE", country="DE")),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-reverse-buyer-without-country",
        lambda: reverse_charge(SELLER, Customer(id="C-X")),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-reverse-seller-type",
        lambda: reverse_charge("Logiciel", BUYER_DE),
        InvalidTypeError,
    ),
    Case("einvoice-reverse-buyer-type", lambda: reverse_charge(SELLER, "C-DE"), InvalidTypeError),
    # -- Factur-X XML
    Case(
        "einvoice-xml-draft",
        lambda: _xml(
            draft_invoice(
                customer="C-1",
                currency="EUR",
                issued_on=date(2026, 3, 1),
                lines=[one_time_line("x", "X", _eur("1"))],
            )
        ),
        InvalidStateError,
    ),
    Case("einvoice-xml-not-an-invoice", lambda: _xml("F-2026-000001"), InvalidTypeError),
    Case("einvoice-xml-seller-type", lambda: _xml(seller="Logiciel SAS"), InvalidTypeError),
    Case("einvoice-xml-buyer-type", lambda: _xml(buyer="C-1"), InvalidTypeError),
    Case("einvoice-xml-terms-type", lambda: _xml(terms=30), InvalidTypeError),
    Case("einvoice-xml-operation-text", lambda: _xml(operation="S"), InvalidTypeError),
    Case("einvoice-xml-profile", lambda: _xml(profile="extended"), InvalidArgumentError),
    Case("einvoice-xml-another-customer", lambda: _xml(buyer=BUYER_DE), InvalidArgumentError),
    Case(
        "einvoice-xml-buyer-without-address",
        lambda: _xml(buyer=Customer(id="C-1", country="FR")),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-xml-consumer",
        lambda: _xml(buyer=Customer(id="C-1", kind=CustomerKind.CONSUMER, country="FR")),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-xml-address-without-scheme",
        lambda: _xml(buyer=Customer(id="C-1", country="FR", einvoicing_address="x@y.fr")),
        InvalidIdentifierError,
    ),
    Case(
        "einvoice-xml-buyer-without-country",
        lambda: _xml(buyer=Customer(id="C-1", siren="552100554")),
        InvalidArgumentError,
    ),
    Case("einvoice-xml-line-without-rate", lambda: _xml(_billed()), InvalidArgumentError),
    Case("einvoice-xml-line-two-rates", lambda: _xml(_billed(VAT, _VAT_55)), InvalidArgumentError),
    Case("einvoice-xml-inclusive-rate", lambda: _xml(_billed(_INCLUSIVE)), InvalidArgumentError),
    Case("einvoice-xml-rate-three-decimals", lambda: _xml(_billed(_ODD)), InvalidArgumentError),
    Case(
        "einvoice-xml-three-decimal-currency",
        lambda: _xml(_billed(VAT, currency="KWD", price="5.000")),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-xml-usd-without-eur-vat",
        lambda: _xml(_billed(VAT, currency="USD")),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-xml-eur-vat-in-usd",
        lambda: _xml(_billed(VAT, currency="USD"), vat_total_eur=Money("9", "USD")),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-xml-eur-vat-on-eur", lambda: _xml(vat_total_eur=_eur("10")), InvalidArgumentError
    ),
    Case(
        "einvoice-xml-eur-vat-float",
        lambda: _xml(_billed(VAT, currency="USD"), vat_total_eur=9.21),
        FloatAmountError,
    ),
    Case("einvoice-xml-note-without-corrected", lambda: _xml(_NOTE), InvalidArgumentError),
    Case(
        "einvoice-xml-note-wrong-corrected",
        lambda: _xml(_NOTE, corrected=_NOTE),
        InvalidArgumentError,
    ),
    Case(
        "einvoice-xml-corrected-on-invoice", lambda: _xml(corrected=_INVOICE), InvalidArgumentError
    ),
    Case("einvoice-xml-engine-credit-note", lambda: _xml(_ENGINE_NOTE), InvalidStateError),
]

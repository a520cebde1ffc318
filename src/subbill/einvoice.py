"""Factur-X (EN 16931 CII) XML of an invoice or a credit note (optional extra ``subbill[facturx]``).

:func:`invoice_xml` turns a numbered :class:`~subbill.invoices.Invoice`, the seller's
:class:`~subbill.parties.Party` and the buyer's :class:`~subbill.customers.Customer` into
the bytes of a Cross Industry Invoice, profile EN 16931 (or BASIC), as the French reform of
electronic invoicing asks: an invoice (type 380) or a credit note (381, naming the invoice
it corrects), each line with its quantity, unit price, discount (a line allowance) and
billing period, the VAT breakdown per rate and category with the exemption reasons, the
totals, the payment terms and due date, what was already paid, both electronic addresses,
and the French legal mentions as notes with their subject codes (late-payment penalties
PMD, the 40 € fixed indemnity PMT, escompte AAB, VAT on debits TXD; a consumer buyer is not
given PMD and PMT, which only businesses owe each other).

The XML is built by the factur-x library (Akretion) from the EN 16931 business terms
(``BT-…``): it knows the CII element order, the decimals of each currency and the XSD of
every profile. What subbill adds is the mapping from its own values, and the checks that
make a document it cannot express correctly a typed error rather than an invalid file: a
draft (no number), a line with no VAT rate or several, tax-inclusive prices, a credit note
without the invoice it corrects, a non-euro invoice without its VAT total in euros, a buyer
without an electronic invoicing address.

:func:`facturx_pdf` makes the Factur-X document itself: the invoice printed as a PDF/A-3B
(:func:`subbill.pdf.render_facturx_pdf`), its legal mentions in the reader's language, with
this XML attached as ``factur-x.xml``.

Everything here is a pure function of its arguments: no clock, no file.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypedDict, Unpack

from subbill._validate import check_enum, check_instance
from subbill.billing import BillingTerms
from subbill.customers import Customer
from subbill.errors import (
    InvalidArgumentError,
    InvalidIdentifierError,
    InvalidStateError,
)
from subbill.identifiers import SIREN_SCHEME
from subbill.invoices import DocumentKind, Invoice, InvoiceLine, InvoiceStatus, LineKind
from subbill.l10n import format_date, phrase
from subbill.l10n.invoice import credited_invoices
from subbill.l10n.mentions import legal_information, legal_mentions, printed_mentions
from subbill.money import DECIMAL_CONTEXT, Money, currency_precision
from subbill.parties import MAX_ADDRESS_LINES, OperationCategory, Party, buyer_country
from subbill.pdf import render_facturx_pdf
from subbill.taxes import EXEMPT_CATEGORIES, TaxRate, VatCategory

__all__ = [
    "INDEMNITY_NOTE",
    "Options",
    "Profile",
    "facturx_pdf",
    "invoice_data",
    "invoice_xml",
]

#: The ISO 6523 scheme of a SIREN as a legal identifier (BT-30, BT-47).
_SIREN_ID = "0002"
#: The ISO 6523 scheme of a SIRET as a party identifier (BT-29, BT-46).
_SIRET_ID = "0009"
#: UN/ECE rec. 20 unit of an invoiced quantity: "one" (a seat, a licence, a subscription).
_UNIT = "C62"
#: UNTDID 5189: the reason code of a line allowance that is a discount.
_DISCOUNT_CODE = "95"

#: The fixed indemnity for recovery costs every French B2B invoice states (art. D441-5).
INDEMNITY_NOTE = phrase("mention", "indemnity", locale="fr_FR")


class Profile(enum.Enum):
    """The Factur-X profile of the XML: EN 16931 (every line; the default) or BASIC."""

    EN16931 = "en16931"
    BASIC = "basic"


#: The conformance level a Factur-X PDF's metadata states for each profile.
_LEVELS = {Profile.EN16931: "EN 16931", Profile.BASIC: "BASIC"}

#: The specification identifier (BT-24) of each profile.
_GUIDELINES = {
    Profile.EN16931: "urn:cen.eu:en16931:2017",
    Profile.BASIC: "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
}


#: The letter of the business process (BT-23) of each category: B1 goods, S1 services…
_PROCESS_LETTER = {
    OperationCategory.GOODS: "B",
    OperationCategory.SERVICES: "S",
    OperationCategory.MIXED: "M",
}


def _profile(value: object) -> Profile:
    if isinstance(value, Profile):
        return value
    for profile in Profile:
        if value == profile.value:
            return profile
    raise InvalidArgumentError(
        f"profile={value!r} must be 'en16931' (the default) or 'basic' (or a Profile)"
    )


def _amount(money: Money, sign: int = 1) -> str:
    """An amount in the invoice's currency, at its minor unit (``"12.30"``, JPY ``"1230"``)."""
    places = currency_precision(money.currency)
    value = money.rounded().amount * sign
    if not value:  # never "-0.00": a zero of a credit note (nothing owed on it) is 0.00
        value = value.copy_abs()
    return f"{value:.{places}f}"


def _decimal(value: Decimal, name: str, places: int) -> str:
    """A price or quantity with at most ``places`` decimals, written without a trailing 0."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidArgumentError(
            f"{name}={value} has more than {places} decimals: a Factur-X price or quantity "
            f"has at most {places}"
        )
    return f"{value.normalize():f}"


def _percent(rate: TaxRate) -> str:
    text = f"{rate.percent:.2f}"
    if Decimal(text) != rate.percent:
        raise InvalidArgumentError(
            f"tax rate {rate.name!r} is {rate.percent} %: an e-invoice states a VAT rate with at "
            "most 2 decimals"
        )
    return text


def _line_rate(line: InvoiceLine, index: int) -> TaxRate:
    if len(line.tax_rates) != 1:
        raise InvalidArgumentError(
            f"lines[{index}] ({line.code!r}) has {len(line.tax_rates)} tax rates: an EN 16931 "
            "line has exactly one VAT rate and category (an exempt sale has a rate of "
            "category E, AE, K, G or O at 0 %)"
        )
    rate = line.tax_rates[0]
    if len(line.taxes) != 1 or line.taxes[0][0] != rate:
        raise InvalidArgumentError(
            f"lines[{index}] ({line.code!r}) states the rate {rate.name!r} but its taxes are "
            f"{[(taxed.name, str(amount)) for taxed, amount in line.taxes]}: its VAT would be "
            "missing from the breakdown; build a taxed line with one_time_line(..., "
            "tax_rates=(...))"
        )
    if rate.category is VatCategory.S and rate.percent == 0:
        raise InvalidArgumentError(
            f"lines[{index}] ({line.code!r}) is taxed at {rate.name!r}, 0 % in category S "
            "(standard rate): EN 16931 refuses a standard rate of 0 % (BR-S-05). Give that "
            "rate its category: Z (zero rated), or E with its exemption reason and code for "
            "the franchise (« TVA non applicable, art. 293 B du CGI », VATEX-FR-FRANCHISE), "
            "or AE, K, G, O with theirs"
        )
    if rate.category is VatCategory.O:
        # BR-O-02/05: an invoice outside the scope of VAT states no VAT identifier of the
        # seller and no rate on its lines; subbill writes both for every other category.
        raise InvalidArgumentError(
            f"lines[{index}] ({line.code!r}) is taxed at {rate.name!r}, category O (outside "
            "the scope of VAT): subbill does not write Factur-X for category O yet (EN 16931 "
            "BR-O-02 and BR-O-05); issue the PDF without Factur-X"
        )
    if rate.inclusive:
        raise InvalidArgumentError(
            f"lines[{index}] ({line.code!r}) is priced tax-inclusive ({rate.name!r}): an "
            "EN 16931 invoice states net prices; bill with exclusive rates"
        )
    return rate


def _party(
    party: Party | Customer, *, name: str, country: str, **more: str | None
) -> dict[str, Any]:
    """What the seller and the buyer state alike: name, address, identifiers (None left out)."""
    data: dict[str, Any] = {
        "name": name,
        "country_code": country,
        "postcode": party.postcode,
        "city": party.city,
        "vat_identifier": party.vat_number,
        **more,
    }
    if party.siren is not None:
        data["legal_identifier"] = party.siren
        data["legal_identifier_schemeid"] = _SIREN_ID
    if party.siret is not None:
        data["identifiers"] = {_SIRET_ID: party.siret}
    for key, line in zip(("addr_l1", "addr_l2", "addr_l3"), party.address, strict=False):
        data[key] = line
    return {key: value for key, value in data.items() if value is not None}


def _seller(seller: Party) -> dict[str, Any]:
    address, scheme = seller.einvoicing_address, seller.einvoicing_scheme
    if address is None or scheme is None:
        if seller.siren is None:
            raise InvalidIdentifierError(
                "seller.einvoicing_address",
                address,
                "an electronic invoicing address with its scheme (BT-34), or a SIREN",
            )
        address, scheme = seller.siren, SIREN_SCHEME
    return _party(
        seller,
        name=seller.legal_name,
        country=seller.country,
        legal_info=legal_information(seller, locale="fr_FR"),
        tax_identifier=seller.tax_registration,
        einvoicing_addr=address,
        einvoicing_addr_schemeid=scheme,
    )


#: The categories whose invoice names the seller's VAT number (BT-31) or, failing it, its tax
#: registration (BT-32): BR-S-02, BR-Z-02, BR-E-02, BR-AE-02.
_VAT_OR_REGISTRATION = frozenset((VatCategory.S, VatCategory.Z, VatCategory.E, VatCategory.AE))
#: The categories whose invoice names the seller's VAT number itself: BR-IC-02, BR-G-02.
_VAT_ONLY = frozenset((VatCategory.K, VatCategory.G))


def _check_seller_tax_id(seller: Party, invoice: Invoice) -> None:
    """The seller states the tax identifier each VAT category of the invoice asks."""
    if seller.vat_number is not None:
        return
    found = {row.rate.category for row in invoice.taxes}
    if found & _VAT_ONLY:
        category = min(category.value for category in found & _VAT_ONLY)
        wanted = "the seller's VAT number (BT-31)"
    elif seller.tax_registration is None and found & _VAT_OR_REGISTRATION:
        category = min(category.value for category in found & _VAT_OR_REGISTRATION)
        wanted = (
            "the seller's VAT number (BT-31), or, for a seller without one (the VAT franchise, "
            "art. 293 B du CGI), its tax registration: Party(tax_registration=…), written as "
            "BT-32"
        )
    else:
        return
    rule = "BR-IC-02" if category == "K" else f"BR-{category}-02"
    raise InvalidIdentifierError(
        "seller.vat_number",
        None,
        f"{wanted}; an invoice of VAT category {category} states it ({rule})",
    )


def _buyer(buyer: Customer) -> dict[str, Any]:
    country = buyer_country(buyer, needed_for="an e-invoice states the buyer's country")
    address, scheme = buyer.einvoicing_address, buyer.einvoicing_scheme
    if address is not None and scheme is None:
        raise InvalidIdentifierError(
            "buyer.einvoicing_scheme",
            None,
            f"the scheme of the electronic address {address!r} of customer {buyer.id!r} "
            "('0225' for a SIREN)",
        )
    if address is None:
        if buyer.siren is None:
            raise InvalidIdentifierError(
                "buyer.einvoicing_address",
                None,
                f"the electronic invoicing address (BT-49) of customer {buyer.id!r}, or its "
                "SIREN (its default address, scheme 0225)",
            )
        address, scheme = buyer.siren, SIREN_SCHEME
    if len(buyer.address) > MAX_ADDRESS_LINES:
        raise InvalidArgumentError(
            f"buyer.address has {len(buyer.address)} lines (customer {buyer.id!r}); an "
            "e-invoice has room for 3 street lines (postcode and city have their own fields)"
        )
    return _party(
        buyer,
        name=buyer.name,
        country=country,
        einvoicing_addr=address,
        einvoicing_addr_schemeid=scheme,
    )


def _notes(
    seller: Party, terms: BillingTerms, operation: OperationCategory, buyer: Customer
) -> list[dict[str, str]]:
    mentions = legal_mentions(seller, terms=terms, operation=operation, locale="fr_FR", buyer=buyer)
    return [{"BT-21": mention.subject, "BT-22": mention.text} for mention in mentions]


#: The places of a Factur-X quantity (BT-129, BT-149).
_QUANTITY_PLACES = Decimal("0.0001")


def _usage_base(line: InvoiceLine) -> Decimal | None:
    """A usage line's price base quantity (BT-149): its quantity, to 4 places (else 1).

    A usage line's price (BT-146) is that of its whole quantity, its tiers explained on the
    invoice: priced per that quantity, price ÷ base × quantity is its amount, as on every
    other line. ``None`` for a line of a unit price.
    """
    if line.kind not in (LineKind.USAGE, LineKind.USAGE_CORRECTION):
        return None
    base = line.quantity.quantize(_QUANTITY_PLACES, rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)
    return base if base > 0 else Decimal(1)  # no usage (a minimum commitment): 1 period


def _line(line: InvoiceLine, index: int, sign: int) -> dict[str, Any]:
    rate = _line_rate(line, index)
    # A credit line (negative) is a negative quantity at a positive price: EN 16931 refuses
    # a negative price (BR-27).
    direction = -sign if line.amount.is_negative() else sign
    quantity = line.quantity
    base = _usage_base(line)
    if base is not None:
        quantity = base
    data: dict[str, Any] = {
        "BT-126": str(index + 1),
        "BT-153": line.description,
        "BT-129": _decimal(quantity * direction, f"lines[{index}].quantity", 4),
        "BT-130": _UNIT,
        "BT-146": _decimal(line.unit_price.amount.copy_abs(), f"lines[{index}].unit_price", 4),
        "BT-131": _amount(line.amount - line.discount, sign),
        "BT-151": rate.category.value,
        "BT-152": _percent(rate),
        "BT-155": line.code,
    }
    if base is not None:
        data["BT-149"] = _decimal(base, f"lines[{index}].quantity", 4)
        data["BT-150"] = _UNIT
    if line.period is not None:
        data["BT-134"] = line.period.start
        data["BT-135"] = line.period.end - timedelta(days=1)
    if not line.discount.is_zero():
        data["BG-27"] = [
            {
                "amount": _amount(line.discount, sign),
                "reason": "Remise",
                "reason_code": _DISCOUNT_CODE,
            }
        ]
    return data


def _breakdown(invoice: Invoice, sign: int) -> list[dict[str, str]]:
    rows = []
    for row in invoice.taxes:
        data = {
            "BT-116": _amount(row.base, sign),
            "BT-117": _amount(row.tax, sign),
            "BT-118": row.rate.category.value,
            "BT-119": _percent(row.rate),
        }
        if row.rate.category in EXEMPT_CATEGORIES:
            data["BT-120"] = row.rate.exemption_reason or ""
            data["BT-121"] = row.rate.exemption_code or ""
        rows.append(data)
    return rows


def _payment_terms(invoice: Invoice) -> str:
    days = (invoice.due_on - invoice.issued_on).days
    due = format_date(invoice.due_on, locale="fr_FR")
    if days <= 0:
        return f"Paiement à réception de la facture, le {due}"
    return f"Paiement à {days} jours, au plus tard le {due}"


def _check_invoice(
    invoice: Invoice, corrected: Invoice | None, known: Mapping[str, Invoice]
) -> None:
    if invoice.number is None or invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        raise InvalidStateError(
            f"invoice with status={invoice.status.value} has no number: only a finalised "
            "invoice or credit note is issued as an e-invoice (finalize it first)"
        )
    if currency_precision(invoice.currency) > 2:
        raise InvalidArgumentError(
            f"currency={invoice.currency} has {currency_precision(invoice.currency)} decimals: "
            "French e-invoices state amounts with at most 2 (BR-FR-DEC-01)"
        )
    if (
        invoice.kind is DocumentKind.CREDIT_NOTE
        and invoice.corrects is None
        and invoice.credits_periods_of
    ):
        # A note of periods several invoices billed refers to each, with its date (BG-3).
        missing = [number for number in invoice.credits_periods_of if number not in known]
        if corrected is not None or missing:
            raise InvalidArgumentError(
                f"credit note {invoice.number} credits periods of invoices "
                f"{', '.join(invoice.credits_periods_of)}: pass them as credited=… (missing: "
                f"{', '.join(missing) or 'none'}; corrected= is for a note of one invoice): "
                "their dates are part of the references (BT-25, BT-26)"
            )
    elif invoice.kind is DocumentKind.CREDIT_NOTE:
        if invoice.corrects is None:
            raise InvalidStateError(
                f"credit note {invoice.number} names no invoice it corrects (corrects=None): "
                "a French credit note refers to the invoice it corrects, with its date "
                "(BT-25, BT-26); make it with credit_note_for(invoice, …)"
            )
        if corrected is None:
            raise InvalidArgumentError(
                f"corrected=None: credit note {invoice.number} corrects {invoice.corrects}; "
                "pass that invoice (corrected=…): its date is part of the reference (BT-26)"
            )
        check_instance("corrected", corrected, Invoice)
        if corrected.number != invoice.corrects:
            raise InvalidArgumentError(
                f"corrected is invoice {corrected.number}, but credit note {invoice.number} "
                f"corrects {invoice.corrects}"
            )
    elif corrected is not None:
        raise InvalidArgumentError(
            f"corrected={corrected.number!r}: only a credit note refers to an invoice it corrects"
        )


def _owed_on_note(note: Invoice, corrected: Invoice | None) -> Money:
    """What the credit ``note`` owes the customer on itself (> 0), as ``corrected`` records it.

    :attr:`~subbill.invoices.Correction.owed_on_note` of its record on the invoice it
    corrects: all of it for a note that only names it, the rest of a note applied in part,
    nothing for a note applied whole (what it gave back beyond what was due went to the
    credit balance). A note the invoice does not record (not applied yet) owes all of it. A
    note of several invoices says it itself: all it gives back when it only names them, the
    rest beyond ``applied`` when applied in part, nothing when applied whole.
    """
    if note.corrects is None and note.credits_periods_of:  # linked: its own fields say it
        if note.names_only:
            return -note.total
        if note.applied is not None:
            return -note.total - note.applied
        return Money.zero(note.currency)
    if corrected is not None:
        for correction in corrected.corrections:
            if correction.credit_note == note.number:
                return correction.owed_on_note
    return -note.total


def invoice_data(
    invoice: Invoice,
    *,
    seller: Party,
    buyer: Customer,
    profile: Profile | str = Profile.EN16931,
    terms: BillingTerms | None = None,
    operation: OperationCategory = OperationCategory.SERVICES,
    corrected: Invoice | None = None,
    credited: Sequence[Invoice] = (),
    vat_total_eur: Money | None = None,
) -> dict[str, Any]:
    """The EN 16931 business terms of ``invoice``, keyed by their ids (``"BT-1"``, ``"BG-25"``).

    What :func:`invoice_xml` gives the factur-x library to build the XML; its arguments and
    errors are the same. Amounts are strings at the currency's minor unit, dates
    :class:`~datetime.date` values; a credit note's amounts are positive (its type code
    says it credits).
    """
    check_instance("invoice", invoice, Invoice)
    check_instance("seller", seller, Party)
    check_instance("buyer", buyer, Customer)
    chosen = _profile(profile)
    terms = BillingTerms() if terms is None else terms
    check_instance("terms", terms, BillingTerms)
    check_enum("operation", operation, OperationCategory)
    known = credited_invoices(invoice, credited)
    _check_invoice(invoice, corrected, known)
    _check_seller_tax_id(seller, invoice)
    if invoice.customer != buyer.id:
        raise InvalidArgumentError(
            f"buyer is customer {buyer.id!r}, but the invoice is customer {invoice.customer!r}'s"
        )
    credit_note = invoice.kind is DocumentKind.CREDIT_NOTE
    sign = -1 if credit_note else 1
    lines = [_line(line, index, sign) for index, line in enumerate(invoice.lines)]
    # BT-113: what already settled the document, so that BT-115 (total − BT-113) is what
    # the document still asks, as its visible page says: on an invoice, its payments, the
    # customer credit applied and what its credit notes cancelled (its ``amount_due`` is
    # the rest); on a credit note, what of it was applied to the invoice it corrects (or
    # carried to the credit balance): the rest is what the note owes the customer itself.
    if credit_note:
        prepaid = invoice.total + _owed_on_note(invoice, corrected)
    else:
        prepaid = invoice.total - invoice.amount_due
    # Already paid (business process x2): what was paid is the whole total, nothing is due.
    # Not a zero total, which is settled without any payment (BR-FR-CO-09 wants BT-113).
    paid = not credit_note and not prepaid.is_zero() and prepaid == invoice.total
    data: dict[str, Any] = {
        "BT-1": invoice.number,
        "BT-2": invoice.issued_on,
        "BT-3": "381" if credit_note else "380",
        "BT-5": invoice.currency,
        "BT-23": f"{_PROCESS_LETTER[operation]}{2 if paid else 1}",
        "BT-24": _GUIDELINES[Profile.EN16931],
        "BG-1": _notes(seller, terms, operation, buyer),
        "BG-4": _seller(seller),
        "BG-7": _buyer(buyer),
        "BG-23": _breakdown(invoice, sign),
        "BG-25": lines,
        "BT-20": _payment_terms(invoice),
        "BT-106": _amount(invoice.net, sign),
        "BT-109": _amount(invoice.net, sign),
        "BT-110": _amount(invoice.tax, sign),
        "BT-112": _amount(invoice.total, sign),
        "BT-115": _amount(invoice.total - prepaid, sign),
    }
    if paid:
        # A document already paid (business process x2) is due on the day it was paid.
        dates = [payment.paid_on for payment in invoice.payments]
        data["BT-9"] = max(dates, default=invoice.issued_on)
    elif not credit_note:
        data["BT-9"] = invoice.due_on
    if not prepaid.is_zero():
        data["BT-113"] = _amount(prepaid, sign)
    periods = [line.period for line in invoice.lines if line.period is not None]
    if periods:
        data["BT-73"] = min(period.start for period in periods)
        data["BT-74"] = max(period.end for period in periods) - timedelta(days=1)
    if corrected is not None:
        data["BG-3"] = [{"BT-25": corrected.number, "BT-26": corrected.issued_on}]
    elif invoice.credits_periods_of:
        # An invoice whose credit lines credit periods earlier invoices billed refers to
        # them (BG-3, preceding invoice reference: allowed on an invoice), dated (BT-26)
        # when given them as ``credited``, as a credit note's reference is.
        data["BG-3"] = [
            {"BT-25": number, "BT-26": known[number].issued_on}
            if number in known
            else {"BT-25": number}
            for number in invoice.credits_periods_of
        ]
    _vat_in_euros(data, invoice, vat_total_eur)
    if chosen is Profile.BASIC:
        _basic(data)
    return data


def _vat_in_euros(data: dict[str, Any], invoice: Invoice, vat_total_eur: Money | None) -> None:
    """A non-euro invoice states its VAT total in euros too (BT-6, BT-111; BR-FR-CO-12)."""
    if invoice.currency == "EUR":
        if vat_total_eur is not None:
            raise InvalidArgumentError(
                f"vat_total_eur={vat_total_eur}: only an invoice in another currency than EUR "
                "states its VAT total in euros"
            )
        return
    if vat_total_eur is None:
        raise InvalidArgumentError(
            f"vat_total_eur=None: invoice {invoice.number} is in {invoice.currency}; a French "
            "e-invoice also states its VAT total in euros (BT-111), at your conversion rate"
        )
    check_instance("vat_total_eur", vat_total_eur, Money)
    if vat_total_eur.currency != "EUR":
        raise InvalidArgumentError(f"vat_total_eur={vat_total_eur} must be in EUR")
    if vat_total_eur.is_negative() != invoice.tax.is_negative():
        raise InvalidArgumentError(
            f"vat_total_eur={vat_total_eur} must have the sign of the invoice's tax {invoice.tax}"
        )
    sign = -1 if invoice.kind is DocumentKind.CREDIT_NOTE else 1
    data["BT-6"] = "EUR"
    data["BT-111"] = _amount(vat_total_eur, sign)


#: What the BASIC profile leaves out of EN 16931 (per line, and of the parties).
_NOT_IN_BASIC_LINE = ("BT-155",)
_NOT_IN_BASIC_PARTY = ("legal_info",)


def _basic(data: dict[str, Any]) -> None:
    for line in data["BG-25"]:
        for key in _NOT_IN_BASIC_LINE:
            line.pop(key, None)
    for party in ("BG-4", "BG-7"):
        for key in _NOT_IN_BASIC_PARTY:
            data[party].pop(key, None)


_NIL_DELIVERY = b'<ram:ApplicableHeaderTradeDelivery xsi:nil="true"/>'
_EMPTY_DELIVERY = b"<ram:ApplicableHeaderTradeDelivery/>"


class Options(TypedDict, total=False):
    """The keyword arguments :func:`invoice_xml` passes on to :func:`invoice_data`."""

    profile: Profile | str
    terms: BillingTerms | None
    operation: OperationCategory
    corrected: Invoice | None
    credited: Sequence[Invoice]
    vat_total_eur: Money | None


def invoice_xml(
    invoice: Invoice, *, seller: Party, buyer: Customer, **options: Unpack[Options]
) -> bytes:
    """The Factur-X CII XML of a finalised invoice or credit note, as UTF-8 bytes.

    ``seller`` is the business that bills, ``buyer`` the stored customer the invoice is for;
    the options are :func:`invoice_data`'s: ``profile`` ``"en16931"`` (default) or
    ``"basic"``; ``terms`` the customer's billing terms (their late-payment rate goes in the
    penalties note; None: the legal default); ``operation`` the category of the operation
    (services by default); ``corrected`` the invoice a credit note corrects (required for a
    credit note); ``credited`` the earlier invoices whose periods an invoice's credit lines
    credit (``credits_periods_of``; each given is referred to with its date, BT-26);
    ``vat_total_eur`` the VAT total in euros of an invoice in another currency
    (required then).

    Needs the optional dependency factur-x (``pip install 'subbill[facturx]'``).

    Raises:
        InvalidStateError: a draft or void invoice, a credit note that corrects no invoice.
        InvalidIdentifierError: the buyer has no electronic address nor SIREN (BT-49); the
            seller has no VAT number nor tax registration (BT-31, BT-32), or no VAT number
            for an intra-EU supply (K) or an export (G).
        InvalidArgumentError: what EN 16931 cannot state as given (a line without exactly
            one exclusive VAT rate, a rate of 0 % in category S, a currency with 3
            decimals, a non-euro invoice without ``vat_total_eur``, an unknown profile).
    """
    data = invoice_data(invoice, seller=seller, buyer=buyer, **options)
    try:
        from facturx import generate_cii_xml  # type: ignore[import-untyped]  # noqa: PLC0415
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("invoice_xml needs factur-x: pip install 'subbill[facturx]'") from error
    basic = _profile(options.get("profile", Profile.EN16931)) is Profile.BASIC
    xml: bytes = generate_cii_xml(data, level="en16931", check_xsd=False, check_schematron=False)
    # factur-x (7.8) writes the header's delivery block, which CII requires even empty, as
    # xsi:nil when it has no ship-to party: the XSD refuses that, an empty element is right.
    xml = xml.replace(_NIL_DELIVERY, _EMPTY_DELIVERY, 1)
    if basic:
        xml = xml.replace(
            _GUIDELINES[Profile.EN16931].encode(), _GUIDELINES[Profile.BASIC].encode(), 1
        )
    return xml


def facturx_pdf(
    invoice: Invoice,
    *,
    seller: Party,
    buyer: Customer,
    locale: str = "fr_FR",
    notes: Sequence[str] = (),
    **options: Unpack[Options],
) -> bytes:
    """The Factur-X document of a finalised invoice or credit note: a PDF/A-3B, as bytes.

    The invoice printed in ``locale`` (French by default) with the seller's and the buyer's
    legal mentions, the French invoice's (penalty rate, the 40 € indemnity, escompte, the
    category of the operation, VAT on debits; a consumer buyer is not given the first two,
    in the PDF nor in the XML) and the exemption reason of each rate that has one, then
    ``notes``; the XML of :func:`invoice_xml` (same arguments and errors)
    attached as ``factur-x.xml``, relationship « Data », and the XMP metadata that name the
    profile (``EN 16931`` or ``BASIC``). ``factur-x``'s ``get_xml_from_pdf`` reads the XML
    back.

    Needs the optional dependencies factur-x and fpdf2 (``pip install
    'subbill[facturx]'``).
    """
    xml = invoice_xml(invoice, seller=seller, buyer=buyer, **options)
    profile = _profile(options.get("profile", Profile.EN16931))
    operation = options.get("operation", OperationCategory.SERVICES)
    terms = options.get("terms")
    mentions = printed_mentions(
        invoice, seller, buyer=buyer, terms=terms, operation=operation, locale=locale
    )
    printed = [*mentions, *notes]
    return render_facturx_pdf(
        invoice,
        xml,
        level=_LEVELS[profile],
        locale=locale,
        seller=seller,
        buyer=buyer,
        notes=printed,
        corrected=options.get("corrected"),
        credited=options.get("credited", ()),
    )

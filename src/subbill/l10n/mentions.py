"""The legal mentions of a French invoice, in French or English, from the facts that make them.

What the Code de commerce (L441-9, D441-5) and the 2026 reform ask an invoice between
businesses to state, beyond its amounts: the late-payment penalty rate, the fixed 40 €
indemnity for recovery costs, the escompte conditions, the category of the operation and the
seller's option for VAT on debits (a consumer is not given the first two, which only
businesses owe each other); and, about the seller, its legal form, share capital and
trade register (:func:`legal_information`). The PDF prints them in the document's language;
a Factur-X e-invoice carries the French ones as notes, each under its subject code.

>>> from subbill.parties import Party
>>> seller = Party(legal_name="Logiciel SAS", siren="732829320")
>>> [m.subject for m in legal_mentions(seller, locale="fr_FR")]
['PMD', 'PMT', 'AAB', 'AAI']
>>> legal_mentions(seller, locale="en_US")[3].text
'Category of the operation: supply of services'
"""

from __future__ import annotations

from typing import NamedTuple

from subbill._validate import check_enum, check_instance
from subbill.billing import BillingTerms
from subbill.customers import Customer
from subbill.invoices import DocumentKind, Invoice
from subbill.l10n._format import format_money, format_quantity
from subbill.l10n.words import label, phrase
from subbill.parties import OperationCategory, Party

__all__ = [
    "BUSINESS_ONLY",
    "Mention",
    "legal_information",
    "legal_mentions",
    "printed_mentions",
]

#: The mentions only an invoice between businesses states (art. L441-10 of the Code de
#: commerce): the late-payment penalty rate and the 40 € fixed indemnity.
BUSINESS_ONLY = frozenset(("PMD", "PMT"))


class Mention(NamedTuple):
    """One legal mention: its text, and the subject code an e-invoice files it under.

    ``subject`` is the UNTDID 4451 code of the note (BT-21): ``PMD`` late-payment
    penalties, ``PMT`` the fixed indemnity, ``AAB`` escompte, ``AAI`` the category of the
    operation, ``TXD`` VAT on debits.
    """

    subject: str
    text: str


def legal_mentions(
    seller: Party,
    *,
    terms: BillingTerms | None = None,
    operation: OperationCategory = OperationCategory.SERVICES,
    locale: str,
    buyer: Customer | None = None,
) -> tuple[Mention, ...]:
    """The mentions an invoice of ``seller`` states, in ``locale``'s words.

    The penalty rate is ``terms.late_payment_percent`` (annual), or the legal default (the
    ECB rate plus 10 points) when the terms set none; VAT on debits is stated only when the
    seller opted for it. A consumer ``buyer`` (``CustomerKind.CONSUMER``) is not given the
    mentions art. L441-10 asks of invoices between businesses only: the penalty rate and the
    40 € indemnity (``PMD``, ``PMT``) are left out.

    >>> from subbill.customers import CustomerKind
    >>> consumer = Customer(id="C-9", kind=CustomerKind.CONSUMER)
    >>> seller = Party(legal_name="Logiciel SAS", siren="732829320")
    >>> [m.subject for m in legal_mentions(seller, buyer=consumer, locale="fr_FR")]
    ['AAB', 'AAI']

    >>> from subbill.parties import Party
    >>> seller = Party(legal_name="Logiciel SAS", siren="732829320", vat_on_debits=True)
    >>> for mention in legal_mentions(seller, terms=BillingTerms(late_payment_percent="12.5"),
    ...                               locale="fr_FR"):
    ...     print(mention.subject, mention.text.split(" (art.")[0])
    PMD Pénalités de retard : 12,5 % par an
    PMT Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €
    AAB Pas d'escompte pour paiement anticipé
    AAI Catégorie de l'opération : prestation de services
    TXD Option pour le paiement de la taxe d'après les débits
    """
    check_instance("seller", seller, Party)
    terms = BillingTerms() if terms is None else terms
    check_instance("terms", terms, BillingTerms)
    check_enum("operation", operation, OperationCategory)
    if buyer is not None:
        check_instance("buyer", buyer, Customer)
    percent = terms.late_payment_percent
    if percent is None:
        penalty = phrase("mention", "penalty_default", locale=locale)
    else:
        shown = format_quantity(percent, locale=locale)
        penalty = phrase("mention", "penalty_rate", locale=locale, percent=shown)
    category = label(operation, locale=locale)
    mentions = [
        Mention("PMD", penalty),
        Mention("PMT", phrase("mention", "indemnity", locale=locale)),
        Mention("AAB", phrase("mention", "no_escompte", locale=locale)),
        Mention("AAI", phrase("mention", "operation", locale=locale, operation=category)),
    ]
    if buyer is not None and not buyer.is_business:
        mentions = [mention for mention in mentions if mention.subject not in BUSINESS_ONLY]
    if seller.vat_on_debits:
        mentions.append(Mention("TXD", phrase("mention", "vat_on_debits", locale=locale)))
    return tuple(mentions)


def printed_mentions(
    invoice: Invoice,
    seller: Party,
    *,
    buyer: Customer | None = None,
    terms: BillingTerms | None = None,
    operation: OperationCategory = OperationCategory.SERVICES,
    locale: str,
) -> tuple[str, ...]:
    """What a PDF of ``invoice`` prints under « Mentions légales », in ``locale``'s words.

    The texts of :func:`legal_mentions` (the B2B-only ones left out for a consumer
    ``buyer``), then the exemption reason of each VAT rate of the invoice that has one
    (« TVA non applicable, art. 293 B du CGI »), once each. A credit note asks no payment:
    it states no late-payment mention (:data:`BUSINESS_ONLY`: the penalties, the indemnity).
    """
    check_instance("invoice", invoice, Invoice)
    mentions = legal_mentions(seller, terms=terms, operation=operation, locale=locale, buyer=buyer)
    if invoice.kind is DocumentKind.CREDIT_NOTE:  # nothing to pay, nothing paid late
        mentions = tuple(mention for mention in mentions if mention.subject not in BUSINESS_ONLY)
    reasons = dict.fromkeys(
        row.rate.exemption_reason for row in invoice.taxes if row.rate.exemption_reason
    )
    return (*(mention.text for mention in mentions), *reasons)


def legal_information(seller: Party, *, locale: str) -> str | None:
    """The seller's legal form, share capital and trade register, on one line; None if unknown.

    >>> from subbill import Money
    >>> seller = Party(legal_name="Logiciel SAS", legal_form="SAS", siren="732829320",
    ...     share_capital=Money("10000", "EUR"), rcs_city="Paris")
    >>> print(legal_information(seller, locale="en_US"))
    SAS with a share capital of €10,000.00 — RCS Paris 732 829 320
    """
    check_instance("seller", seller, Party)
    parts = []
    if seller.legal_form is not None:
        parts.append(
            seller.legal_form
            if seller.share_capital is None
            else phrase(
                "mention",
                "share_capital",
                locale=locale,
                form=seller.legal_form,
                capital=format_money(seller.share_capital, locale=locale),
            )
        )
    if seller.registration is not None:
        parts.append(seller.registration)
    return " — ".join(parts) or None

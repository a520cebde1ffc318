"""The seller's party, and the reverse-charge decision between a seller and its customer.

The buyer of a document is a stored :class:`~subbill.customers.Customer`; the seller is a
:class:`Party`, a configuration value of the business that bills: what French invoices
must say about it (legal name and form, share capital, address, SIREN/SIRET, the RCS city
it is registered in, VAT number, electronic invoicing address, whether it pays VAT on
debits). Its identifiers are checked when it is built, like a customer's.

:func:`reverse_charge` answers the common case of « autoliquidation »: services sold to a
business in another EU member state bear no VAT from the seller — the buyer accounts for it
— and the invoice says so (category ``AE``, both VAT numbers).

>>> seller = Party(legal_name="Logiciel SAS", legal_form="SAS",
...     share_capital=Money("10000", "EUR"), address=("1 rue de la Paix",),
...     postcode="75002", city="Paris", siren="732829320", rcs_city="Paris",
...     vat_number="FR44732829320")
>>> seller.registration
'RCS Paris 732 829 320'
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from subbill._validate import check_line, check_text, instance_of, one_line, to_tuple
from subbill.customers import Customer, check_country, check_identifiers, to_country
from subbill.errors import InvalidArgumentError, InvalidIdentifierError, InvalidTypeError
from subbill.identifiers import (
    EU_COUNTRIES,
    optional_siren,
    optional_siret,
    optional_vat_number,
    vat_country,
)
from subbill.money import Money
from subbill.taxes import TaxRate, VatCategory

__all__ = [
    "MAX_ADDRESS_LINES",
    "REVERSE_CHARGE",
    "OperationCategory",
    "Party",
    "buyer_country",
    "reverse_charge",
]


class OperationCategory(enum.Enum):
    """The category of the operations an invoice bills: goods, services or both.

    French invoices state it (« catégorie de l'opération »); an e-invoice also shows it as
    the letter of its business process (``S1`` services, ``B1`` goods, ``M1`` both).
    """

    GOODS = "goods"
    SERVICES = "services"
    MIXED = "mixed"


#: The rate of a reverse-charged sale: 0 %, category AE, « Autoliquidation » (VATEX-EU-AE).
REVERSE_CHARGE = TaxRate(
    name="Autoliquidation",
    percent="0",
    category=VatCategory.AE,
    exemption_reason="Autoliquidation",
    exemption_code="VATEX-EU-AE",
)

#: The most address lines an e-invoice has room for (EN 16931: BT-35, BT-36, BT-162).
MAX_ADDRESS_LINES = 3


def _check_address(_instance: Any, _attribute: Any, lines: tuple[str, ...]) -> None:
    for index, line in enumerate(lines):
        check_line(f"address[{index}]", line)
    if len(lines) > MAX_ADDRESS_LINES:
        raise InvalidArgumentError(
            f"address has {len(lines)} lines; at most {MAX_ADDRESS_LINES} street lines "
            "(postcode and city have their own fields)"
        )


def _check_capital(_instance: Any, _attribute: Any, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise InvalidTypeError("share_capital", value, "a Money such as Money('10000', 'EUR')")
    if value.is_negative() or value.is_zero():
        raise InvalidArgumentError(f"share_capital={value} must be above 0")


@attrs.frozen(kw_only=True)
class Party:
    """The seller as French invoices and e-invoices name it.

    ``address`` is its street lines (at most 3), ``postcode``, ``city`` and ``country``
    (ISO 3166, default ``FR``) the rest; ``siren`` is required for a French seller;
    ``siret`` (its establishment) starts with it; ``rcs_city`` is the city of the trade
    register (« RCS Paris »); ``vat_number`` its intra-EU VAT number; ``tax_registration``
    the identifier it is registered under with its tax office when it has no VAT number (a
    seller under the VAT franchise, « franchise en base »): an e-invoice states one of the
    two (BT-31 or BT-32, scheme ``FC``);
    ``einvoicing_address`` with ``einvoicing_scheme`` its electronic invoicing address
    (``0225``: its SIREN, the French directory's default); ``vat_on_debits`` whether it
    opted to pay VAT on debits (« option pour le paiement de la taxe d'après les débits »).
    """

    legal_name: str = attrs.field(validator=check_text)
    legal_form: str | None = attrs.field(default=None, validator=one_line(optional=True))
    share_capital: Money | None = attrs.field(default=None, validator=_check_capital)
    address: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_check_address)
    postcode: str | None = attrs.field(default=None, validator=one_line(optional=True))
    city: str | None = attrs.field(default=None, validator=one_line(optional=True))
    country: str = attrs.field(default="FR", converter=to_country, validator=check_country)
    siren: str | None = attrs.field(default=None, converter=optional_siren)
    siret: str | None = attrs.field(default=None, converter=optional_siret)
    rcs_city: str | None = attrs.field(default=None, validator=one_line(optional=True))
    vat_number: str | None = attrs.field(default=None, converter=optional_vat_number)
    tax_registration: str | None = attrs.field(default=None, validator=one_line(optional=True))
    einvoicing_address: str | None = attrs.field(default=None, validator=one_line(optional=True))
    einvoicing_scheme: str | None = attrs.field(default=None)
    vat_on_debits: bool = attrs.field(default=False, validator=instance_of(bool))

    def __attrs_post_init__(self) -> None:
        if self.country == "FR" and self.siren is None:
            raise InvalidIdentifierError(
                "siren", None, "the SIREN of a French seller (9 digits): invoices state it"
            )
        check_identifiers(self)

    @property
    def registration(self) -> str | None:
        """« RCS <city> <SIREN> », the trade-register mention, when both are known."""
        if self.rcs_city is None or self.siren is None:
            return None
        number = self.siren
        return f"RCS {self.rcs_city} {number[:3]} {number[3:6]} {number[6:]}"


def buyer_country(buyer: Customer, *, needed_for: str) -> str:
    """Where ``buyer`` is established: its country, else the prefix of its VAT number.

    Raises :class:`~subbill.errors.InvalidArgumentError` when neither is known, saying what
    the country is ``needed_for``.

    >>> buyer_country(Customer(id="C", vat_number="EL094259216"), needed_for="VAT")
    'GR'
    """
    if buyer.country is not None:
        return buyer.country
    if buyer.vat_number is not None:
        return vat_country(buyer.vat_number)
    raise InvalidArgumentError(
        f"buyer.country=None (customer {buyer.id!r}): {needed_for}; give its country or its "
        "VAT number"
    )


def reverse_charge(seller: Party, buyer: Customer) -> TaxRate | None:
    """:data:`REVERSE_CHARGE` when services sold to ``buyer`` are reverse-charged, else None.

    Services to a business established in another EU member state than the seller's are
    taxed where the buyer is, by the buyer (« autoliquidation », art. 283-2 du CGI; article
    196 of the VAT directive): the invoice bears no VAT, category AE, and names both VAT
    numbers — a missing one is an error naming it. A consumer, a buyer in the seller's
    country or outside the EU: None (the caller's own rate applies).

    >>> seller = Party(legal_name="Logiciel SAS", siren="732829320",
    ...                vat_number="FR44732829320")
    >>> buyer = Customer(id="C-DE", country="DE", vat_number="DE136695976")
    >>> reverse_charge(seller, buyer).category.value
    'AE'
    >>> reverse_charge(seller, Customer(id="C-FR", country="FR")) is None
    True
    """
    if not isinstance(seller, Party):
        raise InvalidTypeError("seller", seller, "a Party")
    if not isinstance(buyer, Customer):
        raise InvalidTypeError("buyer", buyer, "a Customer")
    if not buyer.is_business:
        return None
    country = buyer_country(buyer, needed_for="reverse charge depends on where it is established")
    if country == seller.country or country not in EU_COUNTRIES:
        return None
    if seller.country not in EU_COUNTRIES:
        return None
    if seller.vat_number is None:
        raise InvalidIdentifierError(
            "seller.vat_number", None, "the seller's VAT number: a reverse-charged invoice names it"
        )
    if buyer.vat_number is None:
        raise InvalidIdentifierError(
            "buyer.vat_number",
            None,
            f"the VAT number of customer {buyer.id!r}: a reverse-charged invoice names it",
        )
    return REVERSE_CHARGE

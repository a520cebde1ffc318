"""Customers: who subscriptions, quotes, invoices and payment methods belong to.

A :class:`Customer` is stored (``store.save_customer``) and referred to by its ``id``
everywhere else: ``Subscription.customer``, ``Quote.customer``, ``Invoice.customer``,
``Wallet.customer``. It holds what documents need to name the buyer: legal name, address,
country, whether it is a business or a consumer, the language documents are written in,
and for a business its SIREN/SIRET, VAT number and electronic invoicing address. Every
field but the id may be left empty; identifiers are checked when the record is built
(python-stdnum: format, length and check digits) and kept in their compact form, so a bad
SIREN is refused with :class:`~subbill.errors.InvalidIdentifierError` naming the field.

>>> acme = Customer(id="C-1", legal_name="Atelier Dupont SARL", country="fr",
...                 kind=CustomerKind.BUSINESS, siren="732829320")
>>> acme.country, acme.locale, acme.is_business
('FR', 'fr_FR', True)
"""

from __future__ import annotations

import enum
import re
from typing import Any, Protocol

import attrs

from subbill._validate import (
    LOCALE_NAME,
    brief,
    check_locale,
    check_text,
    enum_of,
    one_line,
    to_tuple,
)
from subbill.errors import InvalidArgumentError, InvalidIdentifierError
from subbill.identifiers import (
    check_einvoicing_address,
    check_vat_of_siren,
    optional_siren,
    optional_siret,
    optional_vat_number,
)

__all__ = [
    "Customer",
    "CustomerKind",
    "check_country",
    "check_identifiers",
    "to_country",
]

_COUNTRY = re.compile(r"[A-Z]{2}")


class _Identified(Protocol):
    """What :func:`check_identifiers` reads: a customer, or the seller's party."""

    @property
    def siren(self) -> str | None: ...
    @property
    def siret(self) -> str | None: ...
    @property
    def vat_number(self) -> str | None: ...
    @property
    def einvoicing_address(self) -> str | None: ...
    @property
    def einvoicing_scheme(self) -> str | None: ...


def check_identifiers(party: _Identified, *, where: str = "") -> None:
    """Check that a party's identifiers agree with each other.

    A SIRET starts with the SIREN, a French VAT number ends with it; the e-invoicing
    address goes with its scheme (and is the SIREN under scheme ``0225``). ``where``
    prefixes the field names in errors.
    """
    if (
        party.siren is not None
        and party.siret is not None
        and not party.siret.startswith(party.siren)
    ):
        raise InvalidIdentifierError(
            f"{where}siret", party.siret, f"the SIRET of SIREN {party.siren} (its first 9 digits)"
        )
    check_vat_of_siren(party.vat_number, party.siren, where=where)
    check_einvoicing_address(
        party.einvoicing_address,
        party.einvoicing_scheme,
        siren_number=party.siren,
        where=where,
    )


class CustomerKind(enum.Enum):
    """A business (B2B: SIREN, VAT number, e-invoices) or a consumer (B2C)."""

    BUSINESS = "business"
    CONSUMER = "consumer"


def to_country(value: object) -> object:
    """Attrs converter: a country code as ISO 3166 writes it (``" fr"`` → ``"FR"``)."""
    return value.strip().upper() if isinstance(value, str) else value


def check_country(_instance: Any, _attribute: Any, value: object) -> None:
    """Attrs validator: a two-letter ISO 3166 country code (``FR``, ``DE``)."""
    if value is not None and (not isinstance(value, str) or not _COUNTRY.fullmatch(value)):
        raise InvalidArgumentError(
            f"country={value!r} must be an ISO 3166 two-letter country code such as 'FR'"
        )


def _check_locale(_instance: Any, _attribute: Any, value: object) -> None:
    """A locale babel knows, written language then optional country (``fr_FR``, ``en``)."""
    if isinstance(value, str) and not LOCALE_NAME.fullmatch(value):
        raise InvalidArgumentError(
            f"locale={brief(value)!r} must be a locale such as 'fr_FR' or 'en' (language, "
            "then an optional country)"
        )
    check_locale("locale", value)


def _check_address(_instance: Any, _attribute: Any, value: tuple[object, ...]) -> None:
    for index, line in enumerate(value):
        if not isinstance(line, str) or not line.strip() or "\n" in line or "\r" in line:
            raise InvalidArgumentError(
                f"address[{index}]={line!r} must be one non-empty line of text"
            )


@attrs.frozen(kw_only=True)
class Customer:
    """A customer record: identity and the facts documents print about the buyer.

    ``address`` is its lines (street, postcode and city…); ``country`` an ISO 3166 code;
    ``locale`` the language of its documents and portal (default ``fr_FR``; one babel
    knows, else :class:`~subbill.errors.UnknownLocaleError`); ``siren``,
    ``siret``, ``vat_number`` and ``einvoicing_address`` matter for a business: the
    identifiers are checked and compacted (a SIRET starts with the SIREN), the electronic
    invoicing address goes with its ``einvoicing_scheme`` (``0225``: a SIREN). ``postcode``
    and ``city``, when given, are what an e-invoice puts in the buyer's address fields
    (``address`` then holds the street lines).

    >>> Customer(id="C-2", siren="732 829 320", siret="73282932000074").siren
    '732829320'
    """

    id: str = attrs.field(validator=check_text)
    legal_name: str | None = attrs.field(default=None, validator=one_line(optional=True))
    address: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_check_address)
    country: str | None = attrs.field(default=None, converter=to_country, validator=check_country)
    kind: CustomerKind = attrs.field(default=CustomerKind.BUSINESS, validator=enum_of(CustomerKind))
    locale: str = attrs.field(default="fr_FR", validator=_check_locale)
    siren: str | None = attrs.field(default=None, converter=optional_siren)
    siret: str | None = attrs.field(default=None, converter=optional_siret)
    vat_number: str | None = attrs.field(default=None, converter=optional_vat_number)
    einvoicing_address: str | None = attrs.field(default=None, validator=one_line(optional=True))
    einvoicing_scheme: str | None = attrs.field(default=None)
    postcode: str | None = attrs.field(default=None, validator=one_line(optional=True))
    city: str | None = attrs.field(default=None, validator=one_line(optional=True))

    def __attrs_post_init__(self) -> None:
        check_identifiers(self)

    @property
    def is_business(self) -> bool:
        """True for a business customer."""
        return self.kind is CustomerKind.BUSINESS

    @property
    def name(self) -> str:
        """The name to print: the legal name, else the id."""
        return self.legal_name or self.id

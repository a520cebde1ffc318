"""Company identifiers checked when a party or a customer is built: SIREN, SIRET, VAT numbers.

Each check reads the identifier with python-stdnum (its format, length and check digits),
returns it in its compact form (no spaces nor dots: ``"732 829 320"`` → ``"732829320"``)
and refuses a bad one with :class:`~subbill.errors.InvalidIdentifierError` naming the field.

>>> siren("siren", "732 829 320")
'732829320'
>>> vat_number("vat_number", "fr 44 732829320")
'FR44732829320'
>>> siren("siren", "732829321")
Traceback (most recent call last):
...
subbill.errors.InvalidIdentifierError: siren='732829321' must be a SIREN (9 digits, Luhn check digit): the number's checksum or check digit is invalid
"""  # noqa: E501  (the doctest shows the whole message)

from __future__ import annotations

import re
from collections.abc import Callable
from types import ModuleType

from stdnum import vatin
from stdnum.exceptions import ValidationError
from stdnum.fr import siren as _siren
from stdnum.fr import siret as _siret

from subbill._validate import brief
from subbill.errors import InvalidArgumentError, InvalidIdentifierError, InvalidTypeError

__all__ = [
    "EU_COUNTRIES",
    "SIREN_SCHEME",
    "check_einvoicing_address",
    "check_scheme",
    "check_vat_of_siren",
    "optional_siren",
    "optional_siret",
    "optional_vat_number",
    "siren",
    "siret",
    "vat_country",
    "vat_number",
]

#: The ISO 6523 scheme of an electronic invoicing address that is a SIREN (the French
#: directory's default address of a company).
SIREN_SCHEME = "0225"

#: Member states of the European Union (ISO 3166 codes; Greece's VAT prefix is EL).
EU_COUNTRIES: frozenset[str] = frozenset(
    (
        *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
        *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
    )
)

#: An electronic address scheme: an ISO 6523 code (4 digits) or an EAS code (``EM``).
_SCHEME = re.compile(r"[0-9]{4}|[A-Z]{2}")


def _read(name: str, value: object, module: ModuleType, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(name, brief(value), f"a {what} as a str")
    validate: Callable[[str], str] = module.validate
    try:
        return validate(value)
    except ValidationError as error:
        message = str(error).rstrip(".")
        raise InvalidIdentifierError(
            name, brief(value), f"a {what}: {message[:1].lower()}{message[1:]}"
        ) from None


def siren(name: str, value: object) -> str:
    """A SIREN (a French company's 9-digit number), compact; else a typed error naming ``name``."""
    return _read(name, value, _siren, "SIREN (9 digits, Luhn check digit)")


def siret(name: str, value: object) -> str:
    """A SIRET (SIREN + 5-digit establishment number), compact, checked like a SIREN.

    >>> siret("siret", "732 829 320 00074")
    '73282932000074'
    """
    return _read(name, value, _siret, "SIRET (14 digits: SIREN + establishment, Luhn check)")


def vat_number(name: str, value: object) -> str:
    """A VAT number with its country prefix (``FR44732829320``, ``DE136695976``), compact.

    Checked by the rules of its country (the French key derived from the SIREN, the German
    check digit…); a prefix python-stdnum does not know is refused.
    """
    return _read(name, value, vatin, "VAT number with its country prefix such as FR44732829320")


def vat_country(number: str) -> str:
    """The ISO 3166 country of a compact VAT number (Greece's ``EL`` is ``GR``).

    >>> vat_country("EL094259216"), vat_country("FR44732829320")
    ('GR', 'FR')
    """
    prefix = number[:2].upper()
    return "GR" if prefix == "EL" else prefix


def check_scheme(name: str, value: object) -> str:
    """An electronic address scheme: 4 digits (ISO 6523, ``0225`` for a SIREN) or ``EM``.

    >>> check_scheme("einvoicing_scheme", "0225")
    '0225'
    """
    if not isinstance(value, str) or not _SCHEME.fullmatch(value):
        raise InvalidIdentifierError(
            name,
            brief(value),
            "an electronic address scheme: an ISO 6523 code of 4 digits such as '0225' "
            "(SIREN) or '0009' (SIRET), or an EAS code such as 'EM' (e-mail)",
        )
    return value


def check_einvoicing_address(
    address: str | None, scheme: str | None, *, siren_number: str | None, where: str = ""
) -> None:
    """Check an electronic invoicing address against its scheme and the party's SIREN.

    An address with scheme ``0225`` is a SIREN, optionally followed by ``_`` and a suffix
    (``732829320_FACTURES``): the SIREN is checked, and is the party's own when it has one.
    ``where`` prefixes the field names in errors (``buyer.``).

    >>> check_einvoicing_address("732829320_ACHATS", "0225", siren_number="732829320")
    >>> check_einvoicing_address("552100554", "0225", siren_number="732829320")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidIdentifierError: einvoicing_address='552100554' must be ...
    """
    if scheme is not None and address is None:
        raise InvalidArgumentError(
            f"{where}einvoicing_address=None with einvoicing_scheme={scheme!r}: a scheme "
            "qualifies an address (einvoicing_address='732829320', einvoicing_scheme='0225')"
        )
    if address is None or scheme is None:
        return  # an address of unknown scheme (records written before schemes) is kept
    check_scheme(f"{where}einvoicing_scheme", scheme)
    if scheme == SIREN_SCHEME:
        number = siren(f"{where}einvoicing_address", address.split("_", 1)[0])
        if siren_number is not None and number != siren_number:
            raise InvalidIdentifierError(
                f"{where}einvoicing_address",
                address,
                f"the party's own SIREN {siren_number} (scheme 0225), optionally followed "
                "by _ and a suffix",
            )


def check_vat_of_siren(vat: str | None, siren_number: str | None, *, where: str = "") -> None:
    """Check that a French VAT number is the one of the party's SIREN.

    A French VAT number is ``FR``, a 2-character key computed from the SIREN, then the
    SIREN itself: a party with both states the same company twice, so they must agree. A
    foreign VAT number, or a party without one of the two, is not compared. ``where``
    prefixes the field names in errors (``buyer.``).

    >>> check_vat_of_siren("FR44732829320", "732829320")
    >>> check_vat_of_siren("FR96552100554", "732829320")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidIdentifierError: vat_number='FR96552100554' must be ...
    """
    if vat is None or siren_number is None or not vat.startswith("FR"):
        return
    if vat[4:] != siren_number:
        raise InvalidIdentifierError(
            f"{where}vat_number",
            vat,
            f"the French VAT number of SIREN {siren_number} (FR, its key, then the SIREN), "
            f"but it is the VAT number of SIREN {vat[4:]}",
        )


def optional_siren(value: object) -> str | None:
    """Attrs converter of a ``siren`` field: None, or a checked compact SIREN.

    >>> optional_siren("732 829 320"), optional_siren(None)
    ('732829320', None)
    """
    return None if value is None else siren("siren", value)


def optional_siret(value: object) -> str | None:
    """Attrs converter of a ``siret`` field: None, or a checked compact SIRET."""
    return None if value is None else siret("siret", value)


def optional_vat_number(value: object) -> str | None:
    """Attrs converter of a ``vat_number`` field: None, or a checked compact VAT number."""
    return None if value is None else vat_number("vat_number", value)

r"""Small converters and validators the value objects share (private).

Three families of checks live here, so that every value object applies the same rule:

- **Text** (:func:`check_line`, :func:`check_text`, :func:`one_line`): identifiers, numbers,
  codes and names (customer and subscription ids, invoice numbers, plan, module, charge and
  discount codes, product names, descriptions, labels) are one line of printable text. A
  control character (newline, carriage return, ESC, NUL, any other C0 or C1 control, DEL),
  a bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069, and the marks U+200E,
  U+200F, U+061C) or a line or paragraph separator (U+2028, U+2029) is refused with an
  :class:`~subbill.errors.InvalidArgumentError` naming the field, so that a customer named
  ``"ACME\nTotal due: 0.00 EUR"`` cannot forge a line of an invoice. Text outputs escape the
  same characters again (:func:`escape_controls`) for data that did not come through here.
- **Policies** (:func:`check_enum`, :func:`enum_of`): a policy is an enum member; a string is
  refused (never guessed) with an :class:`~subbill.errors.InvalidTypeError` that lists the
  allowed members and names the one a string spells exactly.
- **Card data** (:func:`check_no_card_number`, :func:`check_no_card_data`): payment-method
  fields never hold a full card number nor a security code
  (:class:`~subbill.errors.CardDataError`); ``subbill.payments`` re-exports both.
"""

from __future__ import annotations

import decimal
import enum
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import attrs
import babel

from subbill.errors import (
    CardDataError,
    FloatAmountError,
    InvalidArgumentError,
    InvalidTypeError,
    OutOfBoundsError,
    UnknownLocaleError,
)

_E = TypeVar("_E", bound=enum.Enum)

# -- collections ---------------------------------------------------------------------------------


def to_tuple(value: object) -> tuple[Any, ...]:
    """A collection as a tuple (losslessly); a single item as a one-item tuple."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return tuple(value)
    return (value,)


# -- text ----------------------------------------------------------------------------------------

#: Characters that can forge or reorder what a person reads: C0 and C1 controls, DEL, the
#: bidirectional marks, embeddings, overrides and isolates, the line and paragraph separators.
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"  # a lone surrogate is no text: it cannot be written as UTF-8
)
_MULTILINE_ALLOWED = frozenset("\n\t")


def _describe_character(character: str) -> str:
    name = unicodedata.name(character, "")
    if 0xD800 <= ord(character) <= 0xDFFF:
        name = "a lone surrogate, not a character"
    elif not name:  # C0/C1 controls have no name in the Unicode database, only an alias
        name = {
            "\x00": "NUL",
            "\t": "TAB",
            "\n": "LINE FEED",
            "\r": "CARRIAGE RETURN",
            "\x1b": "ESCAPE",
            "\x7f": "DELETE",
        }.get(character, "control character")
    return f"U+{ord(character):04X} ({name})"


def check_line(
    name: str,
    value: object,
    *,
    optional: bool = False,
    allow_empty: bool = False,
    multiline: bool = False,
) -> Any:
    r"""Return ``value`` if it is a one-line ``str`` fit for an identifier or a name.

    ``optional`` lets ``None`` through; ``allow_empty`` lets ``""`` through (fields whose
    default is empty); ``multiline`` allows newlines and tabs (a customer's message), never
    the other controls. Anything else raises an error naming the field:
    :class:`~subbill.errors.InvalidTypeError` for a value that is not a ``str``,
    :class:`~subbill.errors.InvalidArgumentError` for a blank one or one holding a control
    character.

    >>> check_line("customer", "ACME")
    'ACME'
    >>> check_line("customer", "ACME\nTotal due: 0.00 EUR")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: customer='ACME\nTotal due: 0.00 EUR' holds U+000A (LINE FEED) at position 4; identifiers, numbers, codes and names must be one line of printable text (no control character, no bidirectional override, no lone surrogate)
    """  # noqa: E501  (the doctest shows the whole message)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        expected = "a non-empty str" + (" or None" if optional else "")
        raise InvalidTypeError(name, value, expected)
    if not value.strip():
        if allow_empty and not value:
            return value
        raise InvalidArgumentError(f"{name}={value!r} must be a non-empty str")
    for match in CONTROL_CHARACTERS.finditer(value):
        character = match.group()
        if multiline and character in _MULTILINE_ALLOWED:
            continue
        raise InvalidArgumentError(
            f"{name}={value!r} holds {_describe_character(character)} at position "
            f"{match.start()}; identifiers, numbers, codes and names must be one line of "
            "printable text (no control character, no bidirectional override, no lone "
            "surrogate)"
        )
    return value


def check_text(_instance: Any, attribute: Any, value: str) -> None:
    """Attrs validator: a non-empty, one-line ``str`` (see :func:`check_line`)."""
    check_line(attribute.name, value)


def one_line(
    *, optional: bool = False, allow_empty: bool = False, multiline: bool = False
) -> Callable[[Any, Any, Any], None]:
    """Attrs validator factory: :func:`check_line` with its options, on the field's name."""

    def validate(_instance: Any, attribute: Any, value: object) -> None:
        check_line(
            attribute.name, value, optional=optional, allow_empty=allow_empty, multiline=multiline
        )

    return validate


def escape_controls(text: str) -> str:
    r"""``text`` with every control character and bidi override shown as an escape.

    Text and PDF outputs pass what they print through it, one output line at a time, so that
    no value can start a new line or reorder what follows, whatever its origin.

    >>> escape_controls("ACME\nTotal due: 0.00 EUR\u202e")
    'ACME\\nTotal due: 0.00 EUR\\u202e'
    """
    if CONTROL_CHARACTERS.search(text) is None:
        return text
    return CONTROL_CHARACTERS.sub(lambda match: _escape(match.group()), text)


def _escape(character: str) -> str:
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(
        character,
        f"\\x{ord(character):02x}" if ord(character) < 0x100 else f"\\u{ord(character):04x}",
    )


# -- policies ------------------------------------------------------------------------------------


def check_enum(name: str, value: object, kind: type[_E], *, optional: bool = False) -> Any:
    """Return ``value`` if it is a member of the enum ``kind`` (or ``None`` when ``optional``).

    A string is refused, even one that spells a member's value: a policy is never guessed
    from text. The error lists the allowed members and, for a string that is exactly a
    member's value, names the member to pass instead.

    >>> from subbill.taxes import TaxRounding
    >>> check_enum("tax_rounding", "per_line", TaxRounding)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: tax_rounding='per_line' must be a TaxRounding: TaxRounding.PER_LINE or TaxRounding.PER_INVOICE (a str is never converted; pass TaxRounding.PER_LINE)
    """  # noqa: E501  (the doctest shows the whole message)
    if value is None and optional:
        return None
    if isinstance(value, kind):
        return value
    raise InvalidTypeError(name, value, _expected_member(value, kind, optional=optional))


def _expected_member(value: object, kind: type[enum.Enum], *, optional: bool) -> str:
    members = [f"{kind.__name__}.{member.name}" for member in kind]
    if optional:
        members.append("None")
    listed = members[0] if len(members) == 1 else ", ".join(members[:-1]) + " or " + members[-1]
    article = "an" if kind.__name__[0] in "AEIOU" else "a"
    text = f"{article} {kind.__name__}: {listed}"
    if isinstance(value, str):
        spelled = [member for member in kind if value in (member.value, member.name)]
        hint = f"; pass {kind.__name__}.{spelled[0].name}" if spelled else ""
        text += f" (a str is never converted{hint})"
    return text


def enum_of(kind: type[_E], *, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    """Attrs validator factory: :func:`check_enum` on the field's name."""

    def validate(_instance: Any, attribute: Any, value: object) -> None:
        check_enum(attribute.name, value, kind, optional=optional)

    return validate


def items_of(kind: type | tuple[type, ...], what: str) -> Callable[[Any, Any, Any], None]:
    """Attrs validator factory: every item of a tuple field is a ``kind`` (named ``what``).

    >>> from subbill.discounts import Discount
    >>> items_of(Discount, "a Discount")(None, type("A", (), {"name": "discounts"}), (None,))
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: discounts[0]=None must be a Discount
    """

    def validate(_instance: Any, attribute: Any, value: tuple[Any, ...]) -> None:
        for index, item in enumerate(value):
            if not isinstance(item, kind):
                raise InvalidTypeError(f"{attribute.name}[{index}]", item, what)

    return validate


def instance_of(kind: type, *, optional: bool = False) -> Any:
    """Validate (for attrs) an instance of ``kind`` (or ``None`` when ``optional``).

    Anything else raises :class:`~subbill.errors.InvalidTypeError` naming the field; for an
    enum, the message lists the allowed members (see :func:`check_enum`).
    """
    if issubclass(kind, enum.Enum):
        return enum_of(kind, optional=optional)

    def validate(_instance: Any, attribute: Any, value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            expected = f"a {kind.__name__}" + (" or None" if optional else "")
            raise InvalidTypeError(attribute.name, value, expected)

    return validate


# -- card data -----------------------------------------------------------------------------------

CARD_DATA_ADVICE = (
    "store only the card's brand, its last 4 digits, its expiry and the payment processor's "
    "token; never the full number nor the security code"
)
#: Keys that would hold a card's security code; refused wherever they appear.
SECURITY_CODE_KEYS = frozenset({"cvc", "cvv", "cvv2", "cid", "security_code"})

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
# What may separate the digit groups of a card number: spaces, dashes, dots, underscores and
# slashes, mixed or not (« 4242 4242-4242 4242 », « 4111.1111_1111/1111 »).
_SEPARATOR = rf"[\s{_DASHES}._/\\]"
# Digit groups separated by at most three separators.
_DIGIT_RUN = re.compile(rf"\d+(?:{_SEPARATOR}{{1,3}}\d+)*")
_SEPARATORS = re.compile(rf"{_SEPARATOR}+")
# An IBAN, compact or printed in groups of four (a SEPA mandate's label may show one).
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)\b")


def _luhn(digits: str) -> bool:
    total = 0
    for position, character in enumerate(reversed(digits)):
        digit = int(character)
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _is_iban(text: str) -> bool:
    compact = text.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return 15 <= len(compact) <= 34 and int(number) % 97 == 1


def _is_card_in_disguise(iban: str) -> bool:
    """Tell whether a valid IBAN's BBAN (after its first four characters) is a card number.

    Any digits become a valid IBAN once a country code and the check digits computed for
    them are put in front (``"FR31" + "4111111111111111"``): such an IBAN is not exempted.
    """
    bban = iban.replace(" ", "")[4:]
    return bban.isdigit() and 13 <= len(bban) <= 19 and _luhn(bban)


def _card_number_in(text: str) -> bool:
    ibans = [match.group() for match in _IBAN.finditer(text)]
    if any(_is_iban(iban) and _is_card_in_disguise(iban) for iban in ibans):
        return True
    text = _IBAN.sub(lambda m: "#" if _is_iban(m.group()) else m.group(), text)
    for run in _DIGIT_RUN.finditer(text):
        groups = _SEPARATORS.split(run.group())
        for first in range(len(groups)):
            digits = ""
            for group in groups[first:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and _luhn(digits):
                    return True
    return False


def check_no_card_number(name: str, value: object) -> Any:
    """Refuse a payment-method field that holds what looks like a full card number.

    A card number is 13 to 19 digits that pass the Luhn check, written together or in
    groups separated by spaces, dashes, dots, underscores or slashes, anywhere in the text
    (``"tok 4242 4242 4242 4242"``, ``"Visa 4111.1111_1111/1111"``); it raises
    :class:`~subbill.errors.CardDataError`, whose message never repeats the number. A valid
    IBAN is not taken for one, unless what follows its first four characters is itself a
    card number (``"FR31 4111 1111 1111 1111"``). Only payment-method fields are scanned
    (a SIRET has 14 digits and passes Luhn too). An ``int`` is scanned as its digits;
    anything else is returned as is, for the field's own validator to judge.

    >>> check_no_card_number("label", "Visa •••• 4242")
    'Visa •••• 4242'
    >>> check_no_card_number("label", "Visa 4242-4242-4242-4242")
    Traceback (most recent call last):
    ...
    subbill.errors.CardDataError: label holds what looks like a full card number; store only the card's brand, its last 4 digits, its expiry and the payment processor's token; never the full number nor the security code
    """  # noqa: E501  (the doctest shows the whole message)
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and _card_number_in(text):
        raise CardDataError(f"{name} holds what looks like a full card number; {CARD_DATA_ADVICE}")
    return value


def check_no_card_data(data: object, path: str = "") -> None:
    """Refuse a security-code key (``cvc``, ``cvv``, ``cvv2``, ``cid``, ``security_code``).

    ``data`` is plain data (mappings, lists) read from a file or a request; the keys are
    compared case-insensitively, ``-`` and spaces counting as ``_``, at any depth. The
    :class:`~subbill.errors.CardDataError` names the path of the key, never its value.

    >>> check_no_card_data({"methods": [{"id": "pm_1", "CVC": "123"}]})
    Traceback (most recent call last):
    ...
    subbill.errors.CardDataError: methods[0].CVC is a card security code: store only the card's brand, its last 4 digits, its expiry and the payment processor's token; never the full number nor the security code
    """  # noqa: E501  (the doctest shows the whole message)
    if isinstance(data, Mapping):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            normal = str(key).strip().lower().replace("-", "_").replace(" ", "_")
            if normal in SECURITY_CODE_KEYS:
                raise CardDataError(f"{where} is a card security code: {CARD_DATA_ADVICE}")
            check_no_card_data(value, where)
    elif isinstance(data, list | tuple):
        for index, item in enumerate(data):
            check_no_card_data(item, f"{path}[{index}]")


def check_payment_reference(
    name: str, value: object, *, optional: bool = False, allow_empty: bool = False
) -> Any:
    """Return ``value`` if it fits a payment-method field: one line, no full card number.

    The card-number check comes first, so that no error message ever repeats a card number.
    ``optional`` lets ``None`` through, ``allow_empty`` lets ``""`` through.

    >>> check_payment_reference("payment_method", "pm_1MqLiJLkdIwHu7ix")
    'pm_1MqLiJLkdIwHu7ix'
    """
    check_no_card_number(name, value)
    return check_line(name, value, optional=optional, allow_empty=allow_empty)


def payment_reference(
    *, optional: bool = False, allow_empty: bool = False
) -> Callable[[Any, Any, Any], None]:
    """Attrs validator factory: :func:`check_payment_reference` on the field's name."""

    def validate(_instance: Any, attribute: Any, value: object) -> None:
        check_payment_reference(attribute.name, value, optional=optional, allow_empty=allow_empty)

    return validate


# -- error messages ------------------------------------------------------------------------------


def brief(value: object) -> object:
    """``value`` as an error message may show it: a number of thousands of digits shortened.

    ``repr()`` of an int of more than 4300 digits raises ValueError; a 5000-character
    string would make a 5000-character message. A huge whole ``Fraction`` (an int made a
    proration factor) is shown as that int would be.

    >>> brief(10**5000), brief("9" * 5000)
    (Decimal('1.0000000000E+5000'), '9999999999…9999999999 (5000 characters)')
    >>> brief(Fraction(10**40, 1)), brief(Fraction(10**40, 3))
    (Decimal('1.0000000000E+40'), 'Fraction(1.0000000000E+40, 3)')
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        with decimal.localcontext(_BRIEF):
            return +Decimal(value)
    if isinstance(value, Fraction) and max(abs(value.numerator), value.denominator) >= 10**40:
        if value.denominator == 1:  # a whole number (an int made a factor): as that int
            return brief(value.numerator)
        with decimal.localcontext(_BRIEF):
            return f"Fraction({+Decimal(value.numerator)}, {+Decimal(value.denominator)})"
    if isinstance(value, str) and len(value) > 40:
        return f"{value[:10]}…{value[-10:]} ({len(value)} characters)"
    return value


_BRIEF = decimal.Context(prec=11, rounding=decimal.ROUND_HALF_EVEN)


# -- counts --------------------------------------------------------------------------------------


def check_count(
    name: str,
    value: object,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    error: Callable[[str], Exception] = InvalidArgumentError,
) -> int:
    """Return ``value`` if it is an int (not a bool) in ``minimum..maximum``; else raise.

    A value that is not an int (a ``str``, a ``float``, a ``bool``…) raises
    :class:`~subbill.errors.InvalidTypeError`, wherever it is given; an int out of range
    raises ``error`` (the caller's ``ValueError``-based error, e.g.
    :class:`~subbill.errors.InvalidFrequencyError`), called with the message. Both messages
    name the value and the range expected.

    >>> check_count("seats", 3, minimum=1)
    3
    >>> check_count("seats", "3", minimum=1)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: seats='3' must be an int >= 1
    >>> check_count("seats", True, minimum=1)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: seats=True must be an int >= 1
    >>> check_count("month", 13, minimum=1, maximum=12)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: month=13 must be an int from 1 to 12
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(name, brief(value), f"an int {_range(minimum, maximum)}")
    if value < minimum or (maximum is not None and value > maximum):
        raise error(f"{name}={brief(value)!r} must be an int {_range(minimum, maximum)}")
    return value


def _range(minimum: int, maximum: int | None) -> str:
    return f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"


def check_bounded(
    name: str,
    value: object,
    *,
    minimum: int,
    maximum: int,
    unit: str,
    error: Callable[[str], Exception] = InvalidArgumentError,
) -> int:
    """Return ``value`` if it is an int from ``minimum`` to ``maximum`` (a bound of billing).

    Like :func:`check_count` up to ``maximum``; beyond it, the magnitude is more than
    billing needs: :class:`~subbill.errors.OutOfBoundsError`, the maximum counted in
    ``unit``.

    >>> check_bounded("years", 900, minimum=1, maximum=99, unit="years")
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: years=900 must be at most 99 years
    >>> check_bounded("seats", 10**20, minimum=1, maximum=10**12, unit="seats")
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: seats=100000000000000000000 must be at most 10^12 seats
    """
    count = check_count(name, value, minimum=minimum, error=error)
    if count > maximum:
        digits = str(maximum)
        shown = f"10^{len(digits) - 1}" if len(digits) > 6 and digits.rstrip("0") == "1" else digits
        raise OutOfBoundsError(name, brief(count), f"at most {shown} {unit}")
    return count


# -- collections of one kind ---------------------------------------------------------------------


def with_article(name: str) -> str:
    """``name`` after its indefinite article, as messages name a kind: ``an Invoice``, ``a Plan``.

    >>> with_article("Invoice"), with_article("Plan"), with_article("UsageRecord")
    ('an Invoice', 'a Plan', 'a UsageRecord')
    """
    # "U" sounds "you" at the start of a word (a UsageRecord, a Unit), "uh" in "Undo".
    vowel = name[:1].upper() in ("A", "E", "I", "O") or name[:2] in ("Un", "Up")
    return f"an {name}" if vowel else f"a {name}"


def check_items(
    name: str, values: object, *kinds: type, collection: str | None = None
) -> tuple[Any, ...]:
    """Return ``values`` as a tuple whose every item is an instance of one of ``kinds``.

    ``values`` is any iterable but a ``str``, ``bytes`` or mapping; anything else raises
    :class:`~subbill.errors.InvalidTypeError` saying it must be ``collection`` (default: ``a
    list of`` the kinds), and an item of another kind one naming the item (``plans[0]``).

    >>> check_items("plans", ["pro"], int)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: plans[0]='pro' must be an int
    >>> check_items("methods", "pm_1", int, str, collection="an iterable of methods")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: methods='pm_1' must be an iterable of methods
    """
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        listed = " or ".join(kind.__name__ for kind in kinds)
        raise InvalidTypeError(name, values, collection or f"a list of {listed}")
    items = tuple(values)
    for index, item in enumerate(items):
        if not isinstance(item, kinds):
            expected = " or ".join(with_article(kind.__name__) for kind in kinds)
            raise InvalidTypeError(f"{name}[{index}]", item, expected)
    return items


# -- records -------------------------------------------------------------------------------------

_T = TypeVar("_T")


def record_from(kind: type[_T], source: object, **fields: object) -> _T:
    """A ``kind`` (an attrs class) whose ``fields`` are given, the others ``source``'s own.

    For records that list an object as a screen shows it (a portal row, a dashboard row):
    each field not given is the attribute of ``source`` that has its name, so a row says
    only what it computes.

    >>> from datetime import date
    >>> from subbill.periods import Period
    >>> march = Period(date(2026, 3, 1), date(2026, 4, 1))
    >>> record_from(Period, march, end=date(2026, 3, 13))
    Period(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 13))
    """
    copied = {
        field.name: getattr(source, field.name)
        for field in attrs.fields(kind)  # type: ignore[arg-type]  # attrs classes only
        if field.init and field.name not in fields
    }
    return kind(**copied, **fields)


# -- kinds and locales ---------------------------------------------------------------------------


def check_instance(name: str, value: object, kind: type[_T]) -> _T:
    """Return ``value`` if it is a ``kind``; a ``float`` given for an exact value is refused.

    For arguments an exact value is expected in (a ``Money`` price, a count): a ``float``
    raises :class:`~subbill.errors.FloatAmountError` (as ``Money`` itself does), anything
    else of another kind :class:`~subbill.errors.InvalidTypeError` naming ``kind``.

    >>> from subbill.money import Money
    >>> check_instance("price", 10.0, Money)
    Traceback (most recent call last):
    ...
    subbill.errors.FloatAmountError: price=10.0 is a float; pass a str or a Decimal, e.g. Money("10.0", "EUR")
    >>> check_instance("price", "10", Money)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: price='10' must be a Money
    """  # noqa: E501  (the doctest shows the whole message)
    if isinstance(value, kind):
        return value
    if isinstance(value, float):
        raise FloatAmountError(name, value)
    raise InvalidTypeError(name, brief(value), with_article(kind.__name__))


#: What a locale name looks like: a language, then an optional territory (``fr``, ``fr_FR``).
LOCALE_NAME = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def check_locale(name: str, value: object) -> str:
    """Return ``value`` if it is the name of a locale babel knows (``fr_FR``, ``en``).

    A value that is not a ``str`` raises :class:`~subbill.errors.InvalidTypeError`, a name
    babel does not know :class:`~subbill.errors.UnknownLocaleError` (as the renderers of
    ``subbill.l10n`` do when they are given one), so that no record holds a locale its
    documents could not be written in.

    >>> check_locale("locale", "fr_FR")
    'fr_FR'
    >>> check_locale("locale", "xx")
    Traceback (most recent call last):
    ...
    subbill.errors.UnknownLocaleError: locale='xx' is not a known locale; expected e.g. 'fr_FR' or 'en_US'
    """  # noqa: E501  (the doctest shows the whole message)
    if not isinstance(value, str):
        raise InvalidTypeError(name, brief(value), "a str naming a locale, such as 'fr_FR'")
    if not _is_locale(value):
        raise UnknownLocaleError(brief(value))
    return value


@functools.lru_cache(maxsize=256)
def _is_locale(text: str) -> bool:
    if not LOCALE_NAME.fullmatch(text):
        return False
    try:
        babel.Locale.parse(text)
    except (ValueError, TypeError, babel.UnknownLocaleError):
        return False
    return True


def lines_pass(values: Sequence[object]) -> bool:
    r"""Whether every one of ``values`` passes :func:`check_line`, searched at once.

    Each a non-blank ``str``; the controls :func:`~subbill._validate.check_line` refuses are
    single characters, so the joined values hold one exactly when a value does. Of ASCII
    text, those are the characters ``str.isprintable`` refuses (``\x00``-``\x1f``,
    ``\x7f``): a search of the text's characters in C, without the expression.

    >>> lines_pass(["F-2026-000001", "F-2026-000002"]), lines_pass(["F-1", "F-\x7f"])
    (True, False)
    >>> lines_pass(["F-1", "F-\u202e2"]), lines_pass(["F-1", " "])
    (False, False)
    """
    for value in values:
        if not isinstance(value, str) or not value.strip():
            return False
    joined = "".join(values)  # type: ignore[arg-type]  # each a str, checked above
    if joined.isascii():
        return joined.isprintable()
    return CONTROL_CHARACTERS.search(joined) is None

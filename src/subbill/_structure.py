"""Strict reading of plain data (a mapping parsed from JSON or TOML) into value objects.

Every ``from_mapping`` constructor goes through here. A document's shape is a private
attrs class (``_PlanDocument``…) whose field types say what each key must hold; cattrs
structures the data into it with strict hooks, and every bad field of the document is
reported at once, as one :class:`~subbill.errors.InputError` listing ``(path, message)``
problems:

- an unknown key is refused, with the closest known key when there is one (a typo never
  silently drops a limit or a price);
- a ``bool``, a ``float`` or a ``str`` is refused where an ``int`` is expected; a ``bool`` or
  a ``float`` where a decimal number is (amounts are written as strings, ``"29.90"``, or
  ints: a float cannot hold an exact amount);
- prices and quantities are ``>= 0``; names, codes and identifiers are non-empty text;
- two keys of a catalog's ``prices`` naming one frequency (``annual``, ``P12M`` and
  ``P1Y``; ``monthly`` and ``Monthly``) are refused at the second key's path
  (``subbill.catalog``): a frequency has one price, never "the first one wins";
- a key named like a card security code (``cvc``, ``cvv``, ``cvv2``, ``cid``,
  ``security_code``) anywhere in the data is refused with
  :class:`~subbill.errors.CardDataError` before anything else is read.

This module reads no file: the caller parses the file and passes the mapping.

>>> @attrs.frozen(kw_only=True)
... class _Doc:
...     name: Text
...     limits: dict[str, Limit | None] = attrs.field(factory=dict)
>>> structure({"name": "Pro", "limits": {"clients": 10}}, _Doc)
_Doc(name='Pro', limits={'clients': 10})
>>> structure({"name": "", "limts": {}, "limits": {"clients": -1}}, _Doc)
Traceback (most recent call last):
...
subbill.errors.InputError: name: '' must be a non-empty text
limits.clients: limit=-1 must be an int >= 0
limts: unknown key, did you mean 'limits'?
"""

from __future__ import annotations

import difflib
import enum
import re
import reprlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NewType, TypeVar

import attrs
import cattrs
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_mapping,
    is_sequence,
    mapping_structure_factory,
)
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn

from subbill._validate import check_count, with_article
from subbill.decisions import RefusedError
from subbill.errors import CardDataError, InputError, SubbillError
from subbill.money import (
    MAX_QUANTITY,
    MAX_QUANTITY_PLACES,
    check_decimal,
    read_amount,
    read_currency,
    read_decimal,
)
from subbill.periods import AnyBillingStart, BillingStart, Frequency
from subbill.taxes import TaxRate, VatCategory

__all__ = [
    "CARD_SECURITY_KEYS",
    "Amount",
    "Currency",
    "FrequencyName",
    "Limit",
    "Percent",
    "Positive",
    "Price",
    "Problems",
    "Quantity",
    "TaxRates",
    "Text",
    "entries",
    "join_path",
    "key_path",
    "read_iso_date",
    "refuse_card_codes",
    "show",
    "structure",
]

_T = TypeVar("_T")

#: Keys that would hold a card's security code: refused wherever they appear.
CARD_SECURITY_KEYS = frozenset({"cvc", "cvv", "cvv2", "cid", "security_code"})

# -- the types a document's fields are declared with --------------------------------------------

Text = NewType("Text", str)
"""A non-empty string (names, codes, identifiers)."""
Positive = NewType("Positive", int)
"""An ``int >= 1`` (seats, years, numbers of payments or periods)."""
Limit = NewType("Limit", int)
"""A usage limit: an ``int >= 0``; declared ``Limit | None``, ``None`` meaning unlimited."""
Price = NewType("Price", Decimal)
"""A price: a decimal number ``>= 0``, written as a string (``"29.90"``) or an int."""
Amount = NewType("Amount", Decimal)
"""An amount of money (a fixed discount): a decimal number, a string or an int."""
Percent = NewType("Percent", Decimal)
"""A percentage between 0 and 100, written as a string (``"5.5"``) or an int."""
Quantity = NewType("Quantity", Decimal)
"""A quantity (seats, units): a decimal number ``>= 0``, a string or an int."""
Currency = NewType("Currency", str)
"""An ISO 4217 currency code, normalised to upper case (``"eur"`` → ``"EUR"``)."""
FrequencyName = NewType("FrequencyName", str)
"""A billing frequency as written in the data (``"monthly"``, ``"P3M"``), checked, kept as is."""
TaxRates = NewType("TaxRates", tuple[TaxRate, ...])
"""Tax rates: one ``{"name": …, "percent": …, "inclusive": false}`` or a list of them.

A rate may also give its EN 16931 ``category`` (``"S"`` by default, ``"Z"``, ``"E"``…) and,
for an exempt one, its ``exemption_reason`` and ``exemption_code``.
"""


class _HookError(ValueError):
    """A value a hook refuses; the message says what was expected (the path is added later)."""


_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlevel = 2
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 4


def show(value: object) -> str:
    """The value as messages quote it: its ``repr``, cut short when long or deep.

    >>> show("ok"), len(show("x" * 1000))
    ("'ok'", 60)
    >>> show([[[[1]]]])
    '[[[...]]]'
    """
    return _REPR.repr(value)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, float):
        return "a float"
    if value is None:
        return "null"
    return with_article(type(value).__name__)


def _not_a(value: object, expected: str) -> _HookError:
    """The error for a value of the wrong kind: ``'6' must be a whole number, not a string``."""
    return _HookError(f"{show(value)} must be {expected}, not {_kind(value)}")


# -- hooks -------------------------------------------------------------------------------------


def _text(value: object, _kind_of: object) -> str:
    text = _string(value, str)
    if not text.strip():
        raise _HookError(f"{show(value)} must be a non-empty text")
    return text


def _string(value: object, _kind_of: object) -> str:
    if not isinstance(value, str):
        raise _not_a(value, "a text")
    return value


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _not_a(value, "a whole number")
    return value


def _int(value: object, _kind_of: object) -> int:
    return _whole(value)


def _positive(value: object, _kind_of: object) -> int:
    number = _whole(value)
    if number < 1:
        raise _HookError(f"{number} must be an int >= 1")
    return number


def _limit(value: object, _kind_of: object) -> int:
    return check_count("limit", _whole(value), minimum=0, error=_HookError)


def _bool(value: object, _kind_of: object) -> bool:
    if not isinstance(value, bool):
        raise _not_a(value, "true or false")
    return value


def read_quantity(value: object, name: str) -> Decimal:
    """A quantity within its bound (10^12, 6 places), not an amount's (10^15)."""
    number = read_decimal(value, name)
    if number < 0:  # the hook's own message, before the bound of a magnitude
        return number
    return check_decimal(
        name, number, limit=MAX_QUANTITY, places=MAX_QUANTITY_PLACES, inclusive=True, shown=value
    )


def _decimal(
    name: str,
    *,
    low: Decimal | None = None,
    high: Decimal | None = None,
    read: Callable[[object, str], Decimal] = read_amount,
) -> Callable[[object, object], Decimal]:
    def hook(value: object, _kind_of: object) -> Decimal:
        if isinstance(value, float):
            raise _HookError(
                f"{name}={value!r} is a float, which cannot hold an exact amount; write it as "
                f'a string such as "{value!r}" (or pass a Decimal)'
            )
        number = read(value, name)
        if low is not None and number < low:
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise _HookError(f"{name}={show(value)} must be {bound}")
        if high is not None and number > high:
            raise _HookError(f"{name}={show(value)} must be between {low} and {high}")
        return number

    return hook


def _currency(value: object, _kind_of: object) -> str:
    return read_currency(value)


# Exactly YYYY-MM-DD, ASCII digits: Python 3.11's ``date.fromisoformat`` also reads the basic
# format "20260301" and week dates "2026-W09-1", which the files' format does not allow.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def read_iso_date(text: str) -> date:
    """Read a date written exactly ``YYYY-MM-DD``; ``ValueError`` says what is wrong.

    >>> read_iso_date("2026-03-01")
    datetime.date(2026, 3, 1)
    >>> read_iso_date("20260301")
    Traceback (most recent call last):
    ...
    ValueError: Invalid isoformat string: '20260301'
    """
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"Invalid isoformat string: {text!r}")  # as fromisoformat says it
    return date.fromisoformat(text)


def _date(value: object, _kind_of: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # a TOML date, or a date passed by a Python caller
    if not isinstance(value, str):
        raise _not_a(value, "a date such as '2026-03-01'")
    try:
        return read_iso_date(value)
    except ValueError as error:
        raise _HookError(f"{show(value)} is not a date ({error}); expected YYYY-MM-DD") from None


def _frequency(value: object, _kind_of: object) -> Frequency:
    if isinstance(value, Frequency):
        return value
    if not isinstance(value, str):
        raise _not_a(value, "a frequency such as 'monthly'")
    return Frequency.parse(value)


def _frequency_name(value: object, _kind_of: object) -> str:
    _frequency(value, Frequency)
    return str(value)


def _billing_start(value: object, _kind_of: object) -> AnyBillingStart | None:
    if value is None or isinstance(value, AnyBillingStart):
        return value
    if value == "immediately":
        return BillingStart.immediately()
    expected = "'immediately', {'after_months': N}, {'after_days': N} or {'on': 'YYYY-MM-DD'}"
    if not isinstance(value, Mapping):
        raise _HookError(f"{show(value)} must be {expected}")
    start = _CONVERTER.structure(value, _StartDocument)
    given = [name for name in ("after_months", "after_days", "on") if name in value]
    if len(given) != 1:
        raise _HookError(f"{show(value)} must hold exactly one key: {expected}")
    if start.on is not None:
        return BillingStart.on(start.on)
    if start.after_days is not None:
        return BillingStart.after_days(start.after_days)
    if start.after_months is not None:
        return BillingStart.after_months(start.after_months)
    raise _HookError(f"{show(value)} must be {expected}")


def _tax_rates(value: object, _kind_of: object) -> tuple[TaxRate, ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return (_tax_rate(_CONVERTER.structure(value, _TaxDocument)),)
    documents = _CONVERTER.structure(value, tuple[_TaxDocument, ...])
    return tuple(_tax_rate(document) for document in documents)


def _tax_rate(document: _TaxDocument) -> TaxRate:
    return TaxRate(**attrs.asdict(document, recurse=False))  # the same fields, by name


def _enum(kind: type[enum.Enum], _converter: object) -> Callable[[object, object], enum.Enum]:
    values = [member.value for member in kind]
    expected = " or ".join(repr(value) for value in values)
    if len(values) > 2:
        expected = ", ".join(repr(value) for value in values[:-1]) + f" or {values[-1]!r}"

    def hook(value: object, _kind_of: object) -> enum.Enum:
        if isinstance(value, kind):
            return value
        if isinstance(value, str) and value in values:
            return kind(value)
        raise _HookError(f"{show(value)} must be {expected}")

    return hook


_A_MAPPING = "a mapping (an object with keys)"


def _document(kind: type, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    read: Any = make_dict_structure_fn(
        kind, converter, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
    )

    def hook(value: object, _kind_of: object) -> Any:
        if not isinstance(value, Mapping):
            raise _not_a(value, _A_MAPPING)
        return read(value, kind)

    return hook


def _sequence(kind: type, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    read: Callable[[object, object], Any] = homogenous_tuple_structure_factory(kind, converter)

    def hook(value: object, _kind_of: object) -> Any:
        if not isinstance(value, list | tuple):
            raise _HookError(f"{show(value)} must be a list")
        return read(value, kind)

    return hook


def _mapping(kind: type, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    read: Any = mapping_structure_factory(kind, converter)

    def hook(value: object, _kind_of: object) -> Any:
        if not isinstance(value, Mapping):
            raise _not_a(value, _A_MAPPING)
        return read(value, kind)

    return hook


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook_factory(attrs.has, _document)
    converter.register_structure_hook_factory(is_sequence, _sequence)
    converter.register_structure_hook_factory(is_mapping, _mapping)
    converter.register_structure_hook_factory(
        lambda kind: isinstance(kind, type) and issubclass(kind, enum.Enum), _enum
    )
    hooks: dict[Any, Callable[[object, object], Any]] = {
        str: _string,
        int: _int,
        bool: _bool,
        date: _date,
        Frequency: _frequency,
        AnyBillingStart: _billing_start,
        AnyBillingStart | None: _billing_start,
        Text: _text,
        Positive: _positive,
        Limit: _limit,
        Price: _decimal("amount", low=Decimal(0)),
        Amount: _decimal("amount"),
        Percent: _decimal("percent", low=Decimal(0), high=Decimal(100)),
        Quantity: _decimal("quantity", low=Decimal(0), read=read_quantity),
        Decimal: _decimal("amount"),
        Currency: _currency,
        FrequencyName: _frequency_name,
        TaxRates: _tax_rates,
    }
    for kind, hook in hooks.items():
        converter.register_structure_hook(kind, hook)
    return converter


@attrs.frozen(kw_only=True)
class _TaxDocument:
    name: Text
    percent: Percent
    inclusive: bool = False
    category: VatCategory = VatCategory.S
    exemption_reason: Text | None = None
    exemption_code: Text | None = None


@attrs.frozen(kw_only=True)
class _StartDocument:
    after_months: Positive | None = None
    after_days: Positive | None = None
    on: date | None = None


_CONVERTER = _converter()

# -- problems: paths and messages --------------------------------------------------------------


def join_path(prefix: str, path: str) -> str:
    """``prefix`` followed by a path inside it (``lines[0]`` + ``unit_price``).

    >>> join_path("lines[0]", "unit_price"), join_path("lines", "[2]"), join_path("", "id")
    ('lines[0].unit_price', 'lines[2]', 'id')
    """
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def key_path(prefix: str, key: object) -> str:
    """The path of ``key`` inside ``prefix``: dotted when it reads plainly, else ``['a b']``.

    >>> key_path("plans[0].prices", "P12M"), key_path("plans[0].prices", "2 weeks")
    ('plans[0].prices.P12M', "plans[0].prices['2 weeks']")
    """
    if isinstance(key, str) and key and key.isprintable() and not any(c in key for c in ".[]'\" "):
        return join_path(prefix, key)
    return f"{prefix}[{show(key)}]"


def _unknown(key: object, known: Iterable[str]) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(str(key), names, n=1) if isinstance(key, str) else []
    if close:
        return f"unknown key, did you mean {close[0]!r}?"
    return "unknown key; expected " + (", ".join(names) if names else "no key")


def _note_path(path: str, error: BaseException, parent: BaseValidationError) -> str:
    for note in reversed(getattr(error, "__notes__", ())):
        if isinstance(note, AttributeValidationNote):
            return key_path(path, note.name)
        if isinstance(note, IterableValidationNote):
            if is_mapping(parent.cl):
                return key_path(path, note.index)
            return f"{path}[{note.index}]"
    return path


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return "is missing"
    if isinstance(error, _HookError | SubbillError):
        return str(error)
    return f"cannot be read ({type(error).__name__}: {error})"


def _flatten(error: BaseException, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(error, ForbiddenExtraKeysError):
        known = [field.name for field in attrs.fields(error.cl)]
        for key in sorted(error.extra_fields, key=str):
            yield key_path(path, key), _unknown(key, known)
    elif isinstance(error, BaseValidationError):
        for inner in error.exceptions:
            yield from _flatten(inner, _note_path(path, inner, error))
    else:
        yield path, _describe(error)


def structure(
    data: object,
    kind: type[_T],
    *,
    error: Callable[[tuple[tuple[str, str], ...]], InputError] = InputError,
) -> _T:
    """Read ``data`` as a ``kind`` document, or raise ``error`` listing every bad field.

    Card security codes anywhere in ``data`` are refused first
    (:class:`~subbill.errors.CardDataError`). Problems come in document order, unknown
    keys last.
    """
    refuse_card_codes(data)
    try:
        return _CONVERTER.structure(data, kind)
    except (BaseValidationError, _HookError, SubbillError) as caught:
        problems = list(_flatten(caught, ""))
    ordered = [p for p in problems if not p[1].startswith("unknown key")]
    ordered += [p for p in problems if p[1].startswith("unknown key")]
    raise error(tuple(ordered)) from None


def refuse_card_codes(data: object, *, path: str = "") -> None:
    """Refuse a key that would hold a card security code, at any depth of ``data``.

    >>> refuse_card_codes({"lines": [{"code": "a", "card": {"CVC": "123"}}]})
    Traceback (most recent call last):
    ...
    subbill.errors.CardDataError: lines[0].card.CVC: a card security code must never be given \
to subbill; keep only the card's brand, last 4 digits, expiry and the payment processor's token
    """
    found: list[str] = []
    seen: set[int] = set()
    pending: list[tuple[str, object]] = [(path, data)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, Mapping | list | tuple):
            if id(value) in seen:
                continue  # a structure that contains itself: each part is looked at once
            seen.add(id(value))
        if isinstance(value, Mapping):
            children = [(key_path(where, key), key, item) for key, item in value.items()]
            for here, key, _item in children:
                if isinstance(key, str) and key.strip().lower().replace("-", "_") in (
                    CARD_SECURITY_KEYS
                ):
                    found.append(here)
            pending.extend((here, item) for here, _key_, item in reversed(children))
        elif isinstance(value, list | tuple):
            pending.extend(
                (f"{where}[{index}]", item) for index, item in reversed(list(enumerate(value)))
            )
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise CardDataError(
            f"{shown}: a card security code must never be given to subbill; keep only the "
            "card's brand, last 4 digits, expiry and the payment processor's token"
        )


def entries(data: object, key: str) -> tuple[Mapping[str, Any], ...]:
    """The mappings of ``data[key]`` in a document ``{key: [{…}, …]}``; every problem at once.

    >>> entries({"accounts": [{"seats": 2}]}, "accounts")
    ({'seats': 2},)
    >>> entries({"acounts": [], "x": 1}, "accounts")
    Traceback (most recent call last):
    ...
    subbill.errors.InputError: accounts: is missing
    acounts: unknown key, did you mean 'accounts'?
    x: unknown key; expected accounts
    """
    refuse_card_codes(data)
    if not isinstance(data, Mapping):
        raise InputError(
            [("", f"{show(data)} must be a mapping such as {{{key!r}: [...]}}, not {_kind(data)}")]
        )
    problems: list[tuple[str, str]] = []
    items = data.get(key)
    if key not in data:
        problems.append((key, "is missing"))
    elif not isinstance(items, list | tuple):
        problems.append((key, f"{show(items)} must be a list"))
    else:
        problems.extend(
            (f"{key}[{index}]", f"{show(item)} must be a mapping, not {_kind(item)}")
            for index, item in enumerate(items)
            if not isinstance(item, Mapping)
        )
    problems.extend((key_path("", other), _unknown(other, [key])) for other in data if other != key)
    if problems:
        raise InputError(problems)
    return tuple(data[key])


class Problems:
    """Collects the ``(path, message)`` problems met while building value objects.

    The structured document is turned into value objects piece by piece, each inside
    ``with problems.at(path):``; a :class:`~subbill.errors.SubbillError` raised there is
    recorded under ``path`` (an :class:`~subbill.errors.InputError`'s own problems under
    paths inside it) and the next piece is built. Refusals
    (:class:`~subbill.decisions.RefusedError`) and card data are not bad fields: they go
    through. :meth:`check` raises once, with every problem.

    >>> from subbill.money import Money
    >>> problems = Problems()
    >>> with problems.at("lines[0].unit_price"):
    ...     Money("1e", "EUR")
    >>> problems.check()
    Traceback (most recent call last):
    ...
    subbill.errors.InputError: lines[0].unit_price: amount='1e' must be a decimal number ...
    """

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    @contextmanager
    def at(self, path: str) -> Iterator[None]:
        """Record a bad value met inside the block under ``path``."""
        try:
            yield
        except (RefusedError, CardDataError):
            raise
        except InputError as error:
            self.found.extend(
                (join_path(path, inner), message) for inner, message in error.problems
            )
        except SubbillError as error:
            self.found.append((path, str(error)))

    def add(self, path: str, message: str) -> None:
        """Record one problem."""
        self.found.append((path, message))

    def build(
        self,
        make: Callable[[], _T],
        *,
        path: str = "",
        error: Callable[[tuple[tuple[str, str], ...]], InputError] = InputError,
    ) -> _T:
        """What ``make`` builds last, once everything else is known good.

        Raises ``error`` with every problem recorded so far, or with the bad value ``make``
        met (recorded under ``path``).
        """
        self.check(error)
        with self.at(path):
            return make()
        raise error(tuple(self.found))  # only reached when ``make`` failed

    def check(
        self, error: Callable[[tuple[tuple[str, str], ...]], InputError] = InputError
    ) -> None:
        """Raise ``error`` with every problem recorded, if any."""
        if self.found:
            raise error(tuple(self.found))

"""Value objects as versioned plain data (JSON-ready), with cattrs.

Every stored document is ``{"version": 4, "data": …}`` (a subscription's row in the SQL
stores is version 5, format 4 stamped: see below); ``from_document`` refuses a version it
does not know. Format 4 is compact: a field holding its default is left out; Money is one
string, ``"19.99 EUR"`` (never a float), a period ``"2026-03-01/2026-04-01"`` (ISO 8601's
interval); an invoice line's explanation leaves out what it repeats of its line (unit
price, quantity, factor, period) and reads it back from there, and the line leaves out its
factor when the explanation's days of the period state it (17 of 31 days). Dates are ISO strings,
fractions ``"12/31"``, frequencies ISO 8601 durations (``"P1M"``), enums their value. A
discount's duration and a line's billing start are tagged by their ``kind``:
``{"type": "months", "count": 3}``, ``{"type": "once"}``, ``{"type": "after_months",
"count": 6}``, ``{"type": "on_date", "day": "2026-03-10"}``. Structuring goes through each
class's validating ``__init__``, so stored data is checked again when it is read — except a
stamped subscription row whose stamp matches (version 5 below), built back unchecked.

Versions, and how an older document is read (migrated on read; it is written back in the
current version the next time its object is saved):

1. durations ``{"kind": "months", "count": 3}`` and billing starts
   ``{"kind": "after_months", "count": 6, "on_date": null}``: read by a converter whose
   only difference is the hooks of those two unions, so the migration follows the types
   and finds a duration or a billing start wherever it sits in a document;
2. an invoice line's explanation has a ``rule`` (``"whole_period"``, ``"one_time"``…) that
   restated the line's kind: dropped on read;
3. every field written, Money as ``{"amount": "19.99", "currency": "EUR"}``, periods as
   ``{"start": …, "end": …}`` (``to_document(value, version=3)`` still writes it, for a
   reader that does not know format 4);
4. the current version (compact);
5. a subscription's row in the SQL stores (:func:`subscription_text`): format 4's document
   stamped with a digest of its own data's text, ``{"data": …, "stamp": "…", "version": 5}``.
   A row whose stamp matches its data was written by this codec from a validated
   :class:`~subbill.subscriptions.Subscription`: :func:`read_subscription` builds it back
   without running its checks again. A row without a stamp, with one that does not match
   (edited by hand, damaged) or of an older version is read as every other document is,
   checked field by field.
"""

from __future__ import annotations

import decimal
import hashlib
import itertools
import json
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from subbill._validate import brief, check_no_card_number
from subbill.billing import BillingState, BillingTerms, ChargePlan
from subbill.catalog import Catalog
from subbill.decisions import Allowed, Refused
from subbill.discounts import (
    Discount,
    Duration,
    DurationKind,
    Forever,
    ForMonths,
    ForPeriods,
    Once,
)
from subbill.errors import InvalidArgumentError, InvalidTypeError, SubbillError
from subbill.invoices import (
    Correction,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineExplanation,
)
from subbill.metering import (
    ChargeModel,
    Graduated,
    GraduatedPercentage,
    ModelKind,
    Package,
    Percentage,
    PerUnit,
    Volume,
)
from subbill.money import (
    DECIMAL_CONTEXT,
    MAX_AMOUNT,
    MAX_AMOUNT_PLACES,
    MAX_COMPUTED_DATE,
    MAX_QUANTITY,
    MAX_QUANTITY_PLACES,
    MIN_COMPUTED_DATE,
    Money,
    is_currency,
)
from subbill.periods import (
    AfterDays,
    AfterMonths,
    BillingStart,
    Frequency,
    FrequencyUnit,
    Immediately,
    OnDate,
    Period,
    StartKind,
)
from subbill.proration import ProrationBasis
from subbill.storage.errors import StoredDataError
from subbill.subscriptions import Span, Subscription
from subbill.taxes import TaxRate

__all__ = [
    "CONVERTER",
    "FORMAT_VERSION",
    "OnePlanRow",
    "StoredDataError",
    "document_text",
    "dumps",
    "from_document",
    "invoice_row_text",
    "loads",
    "read_billing_state",
    "read_billing_subscription",
    "read_subscription",
    "row_text",
    "state_row_text",
    "subscription_text",
    "to_document",
]

FORMAT_VERSION = 4
#: The version of a stamped subscription row (format 4's data and a stamp).
_STAMPED = 5

_T = TypeVar("_T")

#: The classes of each tagged union, by the value of their ``kind``.
_DURATIONS: dict[str, type[Duration]] = {
    cls.kind.value: cls for cls in (Once, ForPeriods, ForMonths, Forever)
}
_STARTS: dict[str, type[BillingStart]] = {
    cls.kind.value: cls for cls in (Immediately, OnDate, AfterDays, AfterMonths)
}


#: The class of each usage charge model, by its kind (``"graduated"``).
_MODELS: dict[str, type] = {
    ModelKind.PER_UNIT.value: PerUnit,
    ModelKind.PACKAGE.value: Package,
    ModelKind.GRADUATED.value: Graduated,
    ModelKind.VOLUME.value: Volume,
    ModelKind.PERCENTAGE.value: Percentage,
    ModelKind.GRADUATED_PERCENTAGE.value: GraduatedPercentage,
}
_MODEL_KINDS = {cls: kind for kind, cls in _MODELS.items()}


def _model_hooks(converter: cattrs.Converter) -> None:
    """A usage charge's model stored as ``{"kind": "graduated", **fields}``."""

    def unstructure(value: Any) -> dict[str, Any]:
        document: dict[str, Any] = {"kind": _MODEL_KINDS[type(value)]}
        for field in attrs.fields(type(value)):
            document[field.name] = converter.unstructure(getattr(value, field.name))
        return document

    def structure(value: object, _kind: object) -> Any:
        fields = dict(_mapping(value, "model"))
        tag = fields.pop("kind", None)
        if tag not in _MODELS:
            raise ValueError(f"kind={tag!r} is not a usage model (one of {', '.join(_MODELS)})")
        return converter.structure(fields, _MODELS[tag])

    for cls in _MODELS.values():
        converter.register_unstructure_hook(cls, unstructure)
    converter.register_structure_hook_func(lambda kind: kind == ChargeModel, structure)


def _is_union_of(base: type) -> Callable[[Any], bool]:
    """A predicate: ``kind`` is ``base``, or a union (maybe with ``None``) of its classes."""

    def predicate(kind: Any) -> bool:
        if kind is base:
            return True
        if typing.get_origin(kind) not in (typing.Union, types.UnionType):
            return False
        members = [m for m in typing.get_args(kind) if m is not type(None)]
        return all(isinstance(m, type) and issubclass(m, base) for m in members)

    return predicate


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what}={value!r} must be a mapping")
    return value


def _tagged_hooks(
    converter: cattrs.Converter, base: type, classes: Mapping[str, type], what: str
) -> None:
    """Store each class of the union ``base`` as ``{"type": kind, **fields}``."""

    def unstructure(value: Any) -> dict[str, Any]:
        document: dict[str, Any] = {"type": value.kind.value}
        for field in attrs.fields(type(value)):
            document[field.name] = converter.unstructure(getattr(value, field.name))
        return document

    def structure(value: object, _kind: object) -> Any:
        if value is None:
            return None  # an optional field (a one-time line's billing start)
        fields = dict(_mapping(value, what))
        tag = fields.pop("type", None)
        if tag not in classes:
            raise ValueError(f"type={tag!r} is not a {what} (one of {', '.join(classes)})")
        return converter.structure(fields, classes[tag])

    converter.register_unstructure_hook_func(
        lambda kind: isinstance(kind, type) and issubclass(kind, base), unstructure
    )
    converter.register_structure_hook_func(_is_union_of(base), structure)


def _v1_duration(value: object, _kind: object) -> Duration | None:
    """A version-1 duration: ``{"kind": "months", "count": 3}``."""
    if value is None:
        return None
    fields = _mapping(value, "duration")
    if set(fields) != {"kind", "count"}:
        raise ValueError(f"duration={value!r} must hold kind and count (version 1)")
    kind, count = DurationKind(fields["kind"]), fields["count"]
    if kind in (DurationKind.ONCE, DurationKind.FOREVER):
        if count != 0:
            raise ValueError(f"count={count!r} has no meaning for duration {kind.value}")
        return Once() if kind is DurationKind.ONCE else Forever()
    return ForPeriods(count) if kind is DurationKind.PERIODS else ForMonths(count)


def _v1_billing_start(value: object, _kind: object) -> BillingStart | None:
    """A version-1 billing start: ``{"kind": "after_months", "count": 6, "on_date": null}``."""
    if value is None:
        return None
    fields = _mapping(value, "billing_start")
    if set(fields) != {"kind", "count", "on_date"}:
        raise ValueError(f"billing_start={value!r} must hold kind, count and on_date (version 1)")
    kind, count, on_date = StartKind(fields["kind"]), fields["count"], fields["on_date"]
    if (on_date is None) is (kind is StartKind.ON_DATE):
        raise ValueError(f"on_date={on_date!r} is only (and always) for kind=on_date")
    if kind in (StartKind.IMMEDIATELY, StartKind.ON_DATE) and count != 0:
        raise ValueError(f"count={count!r} is only for kind=after_days/after_months")
    match kind:
        case StartKind.IMMEDIATELY:
            return Immediately()
        case StartKind.ON_DATE:
            return OnDate(date.fromisoformat(on_date))
        case StartKind.AFTER_DAYS:
            return AfterDays(count)
        case StartKind.AFTER_MONTHS:
            return AfterMonths(count)


#: The version from which documents are compact (defaults left out, Money and periods as
#: one string each, an explanation's repeats of its line left out).
_COMPACT_FROM = 4


def _two_parts(value: object, separator: str, what: str, shape: str) -> list[str]:
    """The two parts of a format-4 text (``"19.99 EUR"``, ``"start/end"``), else ValueError."""
    if not isinstance(value, str) or value.count(separator) != 1:
        raise ValueError(f"{what}={value!r} must be written {shape!r} (format 4)")
    return value.split(separator)


def _amount_text(amount: Decimal) -> str:
    """A decimal in plain notation, never with an exponent: ``f"{amount:f}"``.

    Its ``str`` when that has no exponent (the same text, three times cheaper). ``str``
    writes an exponent as ``E`` or ``e`` as the caller's context says (``capitals``): both
    are looked for, so the text never depends on the caller's context.
    """
    text = str(amount)
    return f"{amount:f}" if "E" in text or "e" in text else text


def _decimal_text(value: Decimal) -> str:
    """A decimal as ``str`` writes it in the default context: an exponent is ``E``.

    ``str`` follows the caller's context (``capitals=0`` writes ``1e+6``); the stored text
    must not, so a lower-case exponent (the only ``e`` a decimal's text holds) is raised.

    >>> import decimal
    >>> with decimal.localcontext() as context:
    ...     context.capitals = 0
    ...     _decimal_text(Decimal("1E+6"))
    '1E+6'
    """
    text = str(value)
    return text.replace("e", "E") if "e" in text else text


def _money_text(money: Money) -> str:
    text = str(money.amount)  # _amount_text's, inline: a money's text is written per line
    if "E" in text or "e" in text:
        text = f"{money.amount:f}"
    return f"{text} {money.currency}"


def _money_from_text(value: object, _kind: object) -> Money:
    amount, currency = _two_parts(value, " ", "money", "amount CUR")
    return Money(amount, currency)


def _period_text(period: Period) -> str:
    return f"{period.start.isoformat()}/{period.end.isoformat()}"


def _period_from_text(value: object, _kind: object) -> Period:
    start, end = _two_parts(value, "/", "period", "start/end")
    return Period(date.fromisoformat(start), date.fromisoformat(end))


#: What an invoice line's explanation repeats of its line: stored once, on the line.
_REPEATED = ("unit_price", "quantity", "factor", "period")


def _factor_of(explanation: Mapping[str, Any]) -> Fraction | None:
    """The factor an explanation's ``days`` of ``period_days`` state, if it has both."""
    days, whole = explanation.get("days"), explanation.get("period_days")
    if type(days) is not int or type(whole) is not int or whole <= 0:
        return None
    return Fraction(days, whole)


def _line_hooks(converter: cattrs.Converter) -> None:
    """Format 4: what a line's document can be read back without is left out of it.

    An explanation's fields equal to its line's, a discount of nothing, a taxable base equal
    to the net (amount − discount) are left out, and read back from the line; so is the
    line's factor when it is the explanation's ``days`` of ``period_days`` (12/31).

    The explanation's other fields are left out when they hold their default (as every
    record's are in format 4); its repeated ones only when equal to the line's, since an
    absent one reads as the line's value, not the default.
    """
    # The line's own fields; its explanation is written by ``unstructure`` below, once (left
    # to cattrs, it would be unstructured a first time only to be replaced).
    line_out = make_dict_unstructure_fn(
        InvoiceLine, converter, _cattrs_omit_if_default=True, explanation=override(omit=True)
    )
    why_out = make_dict_unstructure_fn(LineExplanation, converter)
    line_in = make_dict_structure_fn(InvoiceLine, converter, _cattrs_forbid_extra_keys=True)
    defaults = {
        field.name: converter.unstructure(field.default)
        for field in attrs.fields(LineExplanation)
        if field.default is not attrs.NOTHING and field.name not in _REPEATED
    }

    def unstructure(line: InvoiceLine) -> dict[str, Any]:
        document = line_out(line)
        # A discount of nothing, and a taxable base that is the net (an exclusive rate, or
        # none), are what reading puts back when they are absent.
        if document["discount"] == f"0 {line.amount.currency}":
            del document["discount"]
        if document["base"] == _money_text(line.amount - line.discount):
            del document["base"]
        why = why_out(line.explanation)
        document["explanation"] = {
            key: value
            for key, value in why.items()
            if not (key in _REPEATED and value == document.get(key))
            and not (key in defaults and value == defaults[key])
        }
        if _factor_of(document["explanation"]) == line.factor:
            del document["factor"]  # the explanation's days of the period give it back
        return document

    def structure(value: object, _kind: object) -> InvoiceLine:
        document = dict(_mapping(value, "line"))
        if "factor" not in document:
            factor = _factor_of(_mapping(document.get("explanation", {}), "explanation"))
            if factor is not None:
                document["factor"] = f"{factor.numerator}/{factor.denominator}"
        if "discount" not in document or "base" not in document:
            amount = _money_from_text(document.get("amount"), Money)
            document.setdefault("discount", f"0 {amount.currency}")
            discount = _money_from_text(document["discount"], Money)
            document.setdefault("base", _money_text(amount - discount))
        why = dict(_mapping(document.get("explanation", {}), "explanation"))
        for key in _REPEATED:
            if key not in why and key in document:
                why[key] = document[key]
        document["explanation"] = why
        line: InvoiceLine = line_in(document, InvoiceLine)
        return line

    converter.register_unstructure_hook(InvoiceLine, unstructure)
    converter.register_structure_hook(InvoiceLine, structure)


def _stored_decimal(value: object) -> Decimal:
    """A stored number, read in the library's context (never the caller's).

    A text that is no number raises ``InvalidOperation`` (a damaged row), never a NaN nor
    a flag set in the caller's context.
    """
    try:
        with decimal.localcontext(DECIMAL_CONTEXT):
            return Decimal(str(value))
    except decimal.InvalidOperation:
        raise ValueError(f"{brief(value)} is not a number") from None


def _converter(version: int = FORMAT_VERSION) -> cattrs.Converter:
    compact = version >= _COMPACT_FROM
    converter = cattrs.Converter(forbid_extra_keys=True, omit_if_default=compact)
    converter.register_unstructure_hook(Decimal, _decimal_text)
    converter.register_structure_hook(Decimal, lambda value, _: _stored_decimal(value))
    converter.register_unstructure_hook(
        Fraction, lambda value: f"{value.numerator}/{value.denominator}"
    )
    converter.register_structure_hook(Fraction, lambda value, _: Fraction(str(value)))
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, lambda value, _: date.fromisoformat(value))
    # A moment (a charge attempt's claim) keeps its time and offset: "2027-03-11T09:00:00+00:00".
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    if compact:
        converter.register_unstructure_hook(Money, _money_text)
        converter.register_structure_hook(Money, _money_from_text)
        converter.register_unstructure_hook(Period, _period_text)
        converter.register_structure_hook(Period, _period_from_text)
    else:
        converter.register_unstructure_hook(
            Money, lambda money: {"amount": _decimal_text(money.amount), "currency": money.currency}
        )
        converter.register_structure_hook(
            Money, lambda value, _: Money(value["amount"], value["currency"])
        )
    converter.register_unstructure_hook(Frequency, str)
    converter.register_structure_hook(Frequency, lambda value, _: Frequency.parse(value))
    converter.register_unstructure_hook_func(
        lambda kind: kind is frozenset or getattr(kind, "__origin__", None) is frozenset,
        sorted,
    )
    # Decisions are a union of two attrs classes: tag them.
    converter.register_unstructure_hook(
        Allowed | Refused,
        lambda d: (
            {"allowed": True}
            if isinstance(d, Allowed)
            else {"allowed": False, "code": d.code, "facts": [list(f) for f in d.facts]}
        ),
    )
    converter.register_structure_hook(
        Allowed | Refused,
        lambda v, _: (
            Allowed()
            if v["allowed"]
            else Refused(code=v["code"], facts=tuple(tuple(f) for f in v["facts"]))
        ),
    )
    _tagged_hooks(converter, Duration, _DURATIONS, "duration")
    _tagged_hooks(converter, BillingStart, _STARTS, "billing start")
    _model_hooks(converter)
    if version == 1:
        converter.register_structure_hook_func(_is_union_of(Duration), _v1_duration)
        converter.register_structure_hook_func(_is_union_of(BillingStart), _v1_billing_start)
    if compact:
        _line_hooks(converter)
    # Last: it reads lines with the hooks registered above.
    _invoice_hooks(converter, compact=compact)
    return converter


def _names_only(value: object, _kind: object) -> bool:
    """A stored ``names_only``: a JSON boolean, never a text or a number read as one."""
    if type(value) is not bool:
        raise InvalidTypeError("names_only", brief(value), "a bool (true or false)")
    return value


def _invoice_hooks(converter: cattrs.Converter, *, compact: bool) -> None:
    """Read an invoice's and a correction's ``names_only`` strictly; write them when set.

    cattrs' bool takes ``"yes"`` for ``True``: a damaged value is named instead of deciding
    where money is owed. ``names_only`` and ``applied`` (and a correction's ``consumed``, an
    invoice's ``credits_periods_of``) are left out while they hold their default in every
    format (format 4 leaves out every default): a document that uses none is the one
    written before they existed, which an older reader still reads.
    """
    strict = override(struct_hook=_names_only)
    for cls in (Correction, Invoice):  # an invoice's writer takes its corrections' one
        structure = make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=True, names_only=strict
        )
        converter.register_structure_hook(cls, structure)
        if not compact:
            unstructure = make_dict_unstructure_fn(
                cls,
                converter,
                names_only=override(omit_if_default=True),
                applied=override(omit_if_default=True),
                consumed=override(omit_if_default=True),
                credits_periods_of=override(omit_if_default=True),
            )
            converter.register_unstructure_hook(cls, unstructure)


CONVERTER = _converter()
_FORMAT_3 = _converter(3)
#: The converter that reads each version still readable (older ones migrate on read).
_READERS = {
    1: _converter(1),
    2: _FORMAT_3,
    3: _FORMAT_3,
    FORMAT_VERSION: CONVERTER,
    _STAMPED: CONVERTER,  # format 4's data, stamped (a subscription's row)
}


#: The version from which an invoice line's explanation has no ``rule``.
_RULE_DROPPED = 3


def _without_line_rules(data: Any) -> Any:
    """Versions 1 and 2: drop the ``rule`` of every invoice line's explanation."""
    if isinstance(data, list):
        return [_without_line_rules(item) for item in data]
    if not isinstance(data, dict):
        return data
    copied = {key: _without_line_rules(value) for key, value in data.items()}
    explanation = copied.get("explanation")
    if isinstance(explanation, dict) and "rule" in explanation:
        copied["explanation"] = {k: v for k, v in explanation.items() if k != "rule"}
    return copied


def to_document(value: object, *, version: int = FORMAT_VERSION) -> dict[str, Any]:
    """The versioned plain-data document of a value object.

    ``version`` 3 writes the previous format (Money as ``{"amount", "currency"}``, every
    field written), for a reader that does not know format 4 yet.

    >>> from subbill.money import Money
    >>> to_document(Money("19.99", "EUR"), version=3)
    {'version': 3, 'data': {'amount': '19.99', 'currency': 'EUR'}}
    """
    writers = {3: _FORMAT_3, FORMAT_VERSION: CONVERTER}
    if type(version) is not int:
        raise InvalidTypeError("version", version, f"an int: {FORMAT_VERSION} or 3")
    if version not in writers:
        raise InvalidArgumentError(
            f"version={version!r} must be {FORMAT_VERSION} (current) or 3 (the previous format)"
        )
    return {"version": version, "data": writers[version].unstructure(value)}


def from_document(
    document: dict[str, Any], kind: type[_T], *, table: str | None = None, key: object = None
) -> _T:
    """Read a value object of ``kind`` back from its document (validated again).

    A document that cannot be read (an unknown version, ``data`` that is not a JSON object,
    a field of the wrong shape…) raises :class:`StoredDataError` naming ``table`` and
    ``key`` (the row it came from) when they are given, never a raw Python error.

    >>> from subbill.billing import BillingState
    >>> from_document({"version": 3, "data": "x"}, BillingState, table="billing_states", key="S1")
    Traceback (most recent call last):
    ...
    subbill.errors.StoredDataError: billing_states row 'S1': a stored BillingState cannot be read back: data='x' (a str) must be a JSON object
    """  # noqa: E501  (the doctest shows the whole message)
    version = document.get("version") if isinstance(document, dict) else None
    reader = _READERS.get(version) if type(version) is int else None
    if reader is None:
        raise StoredDataError(
            f"version={version!r} of a stored {kind.__name__} is not supported; "
            f"expected {FORMAT_VERSION} (or an older one it migrates: "
            f"{', '.join(str(v) for v in sorted(_READERS) if v != FORMAT_VERSION)})",
            table=table,
            key=key,
        )
    try:
        data = document["data"]
        # Every record is stored as a JSON object; from format 4 an amount or a period alone
        # is one string ("19.99 EUR", "2026-03-01/2026-04-01").
        written_as_text = kind in (Money, Period) and reader is CONVERTER
        if not isinstance(data, str if written_as_text else dict):
            expected = "a string" if written_as_text else "a JSON object"
            raise TypeError(f"data={_shape(data)} must be {expected}")
        if isinstance(version, int) and version < _RULE_DROPPED:
            data = _without_line_rules(data)
        if kind is BillingState and reader is CONVERTER:
            state = _fast_state_read(data)
            if state is not None:  # the hot shape, read by hand through its checks
                return state  # type: ignore[return-value]  # kind is BillingState
        return reader.structure(data, kind)
    except (
        cattrs.BaseValidationError,
        SubbillError,
        LookupError,
        AttributeError,  # a hook given a value of another shape than the one it reads
        TypeError,
        ValueError,
        ArithmeticError,
        RecursionError,
    ) as error:
        raise StoredDataError(
            f"a stored {kind.__name__} cannot be read back: {_reasons(error)}",
            table=table,
            key=key,
        ) from None


def _shape(data: object) -> str:
    """What a document's ``data`` is, shortly: ``'x' (a str)``, ``a list of 2 items``."""
    if isinstance(data, list):
        return f"a list of {len(data)} items"
    return f"{brief(data)!r} (a {type(data).__name__})"


def _reasons(error: Exception) -> str:
    """What is wrong in a document: each problem and where (``@ $.lines[3].billing_start``)."""
    if isinstance(error, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(error, format_exception=_problem))
    return str(error)


def _problem(error: BaseException, kind: Any) -> str:
    """A problem in our own words when we raised it, else in cattrs'."""
    if isinstance(error, SubbillError | ValueError) and str(error):
        return str(error)
    return format_exception(error, kind)


def dumps(value: object) -> str:
    """JSON text of a value object's document (keys sorted: stable, comparable; compact).

    >>> from subbill.money import Money
    >>> dumps(Money("19.99", "EUR"))
    '{"data":"19.99 EUR","version":4}'
    >>> loads(_, Money)
    Money('19.99', 'EUR')
    """
    return row_text(value)


def row_text(value: object, *, columns: Collection[str] = ()) -> str:
    """JSON text of a value object's document without the fields its row keeps in ``columns``.

    What :func:`dumps` writes, less those fields of its ``data`` (a store reads them back
    from the row's columns: ``loads(…, columns=…)``). An invoice or a billing state of the
    common shapes is written as text directly, byte for byte what the document would give.

    >>> from subbill.billing import BillingState
    >>> state = BillingState(billed_through=[("pro@2026-01-01", date(2026, 3, 1))])
    >>> row_text(state)
    '{"data":{"billed_through":[["pro@2026-01-01","2026-03-01"]]},"version":4}'
    """
    fast = _TEXT_WRITERS.get(type(value))
    text = None if fast is None else fast(value, columns)
    if text is not None:
        return text
    document = to_document(value)
    for name in columns:
        document["data"].pop(name, None)
    return document_text(document)


def invoice_row_text(invoice: Invoice, columns: Collection[str]) -> str:
    """:func:`row_text` of an invoice, without the fields its row keeps in ``columns``.

    The same text, its writer called directly (a store writes one per invoice).

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> draft = draft_invoice(customer="C", currency="EUR", issued_on=date(2026, 3, 1),
    ...                       lines=[one_time_line("x", "X", Money("10", "EUR"))])
    >>> invoice = draft.finalize(number="F-1")
    >>> invoice_row_text(invoice, ("number",)) == row_text(invoice, columns=("number",))
    True
    """
    text = _invoice_text(invoice, columns) if type(invoice) is Invoice else None
    return row_text(invoice, columns=columns) if text is None else text


def state_row_text(state: BillingState) -> str:
    """:func:`dumps` of a billing state (the document of its row), its writer called directly.

    >>> state = BillingState(billed_through=[("pro@2026-01-01", date(2026, 3, 1))])
    >>> state_row_text(state) == dumps(state)
    True
    """
    text = _state_text(state, _NO_COLUMNS) if type(state) is BillingState else None
    return row_text(state) if text is None else text


_NO_COLUMNS: tuple[str, ...] = ()
_COMPACT = (",", ":")  # no blank after separators: a stored document is read by programs
# What ``json.dumps(…, sort_keys=True, ensure_ascii=False, separators=_COMPACT)`` builds at
# each call, built once (it holds no state between calls): the same text, without the cost.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=_COMPACT)
_canonical_text = _CANONICAL.encode


def document_text(document: Mapping[str, Any]) -> str:
    """JSON text of a document (keys sorted, compact): what :func:`dumps` writes."""
    return _canonical_text(document)


def loads(
    text: str,
    kind: type[_T],
    *,
    table: str | None = None,
    key: object = None,
    columns: Mapping[str, Any] | None = None,
) -> _T:
    """A value object of ``kind`` from :func:`dumps`' text.

    ``columns`` are fields a store keeps in the row's own columns and left out of the
    document (the invoices of ``SQLiteStore``): each goes back where the document lacks it.
    ``table`` and ``key`` name the row the text was read from, for the error a damaged
    row raises:

    >>> from subbill.billing import BillingState
    >>> loads('{"version": 2, "data": {"billed_through": 3}}', BillingState,
    ...       table="billing_states", key="S1")
    Traceback (most recent call last):
    ...
    subbill.errors.StoredDataError: billing_states row 'S1': a stored BillingState ...
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise StoredDataError(
            f"a stored {kind.__name__} is not valid JSON: {error}", table=table, key=key
        ) from None
    if columns and isinstance(document, dict) and isinstance(document.get("data"), dict):
        # Fields a store keeps in the row's own columns, left out of the document.
        data = document["data"]
        for name, value in columns.items():
            if value is not None:
                data.setdefault(name, value)
    return from_document(document, kind, table=table, key=key)


# -- stamped subscription rows ---------------------------------------------------------------
#
# The stamp is an 8-byte BLAKE2b digest (stdlib ``hashlib``: nothing to install) of the
# canonical JSON text of the document's data, personalised with the format, so that a stamp
# of another format or another kind of document never matches. It is no signature (it has
# no secret key): it tells a row this codec wrote from a validated value apart from one
# edited by hand, damaged or written by an older version, which are checked in full.
# A check that a later version adds to ``Subscription`` must change ``_STAMP_PERSON``.

_STAMP_PERSON = b"subbill:sub:v5"
_STAMP_HEAD = '{"data":'
_STAMP_MID = ',"stamp":"'
_STAMP_END = f'","version":{_STAMPED}}}'
_STAMP_TAIL = len(_STAMP_MID) + 16 + len(_STAMP_END)  # what follows the data's text


#: The digest's parameters, set once: each stamp hashes a copy of it (the same digest as
#: ``hashlib.blake2b(text, digest_size=8, person=…)``, without parsing them again).
_STAMP_DIGEST = hashlib.blake2b(digest_size=8, person=_STAMP_PERSON)


def _stamp(data_text: str) -> str:
    """The stamp of a document's data text: 16 hex digits."""
    digest = _STAMP_DIGEST.copy()
    digest.update(data_text.encode())
    return digest.hexdigest()


def subscription_text(subscription: Subscription) -> str:
    """The stamped JSON text of a subscription's row (format 5: format 4's data, stamped).

    The same text as :func:`document_text` writes (keys sorted, compact):

    >>> from datetime import date
    >>> from subbill.subscriptions import Span
    >>> sub = Subscription(id="S1", customer="C1", currency="EUR", start=date(2026, 3, 1),
    ...     plans=[Span(code="pro", start=date(2026, 3, 1), price=Money("50.00", "EUR"))])
    >>> subscription_text(sub)
    '{"data":{"currency":"EUR","customer":"C1","id":"S1","plans":[{"code":"pro","price":"50.00 EUR","start":"2026-03-01"}],"start":"2026-03-01"},"stamp":"...","version":5}'
    >>> read_subscription(_, table="subscriptions", key="S1") == sub
    True
    """  # noqa: E501  (a doctest's expected output is one line)
    data_text = _canonical_text(CONVERTER.unstructure(subscription))
    return f"{_STAMP_HEAD}{data_text}{_STAMP_MID}{_stamp(data_text)}{_STAMP_END}"


#: Parses one JSON value from a text's index, returning it and where it ends (what
#: ``json.loads`` runs once it has skipped the whitespace around the value; the decoder's
#: ``raw_decode`` without its Python frame). No value there raises ``StopIteration``, a
#: malformed one ``ValueError``.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _stamp_matches(text: str, data_end: int) -> bool:
    """True for a row as :func:`subscription_text` writes it whose stamp matches its data.

    ``data_end``: where the data's text would end (the stamp's length before the end).
    """
    try:
        return (
            text.endswith(_STAMP_END)
            and text.startswith(_STAMP_MID, data_end)
            and text.startswith(_STAMP_HEAD)
            and text.startswith(
                _stamp(text[len(_STAMP_HEAD) : data_end]), data_end + len(_STAMP_MID)
            )
        )
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 text, none the codec wrote
        return False


def _data_at(text: str, data_end: int) -> Any:
    """The data of a stamped row, parsed where it stands; ``None`` if it ends elsewhere.

    No copy and no whitespace skipped: the data must end where the stamp starts, or the
    row is read checked.
    """
    try:
        data, end = _scan_once(text, len(_STAMP_HEAD))
    except (StopIteration, ValueError, RecursionError):  # pragma: no cover  (stamped)
        return None
    return data if end == data_end else None


def _stamped_data(text: str) -> Any:
    """The data of a row stamped by :func:`subscription_text` whose stamp matches, or None.

    The row's text is read as written (SQLite keeps it); a database that rewrites JSON
    (PostgreSQL's ``jsonb``) gives it back reformatted, and the data's canonical text is
    then written again to check the stamp.
    """
    data_end = len(text) - _STAMP_TAIL
    if _stamp_matches(text, data_end):
        return _data_at(text, data_end)
    if '"stamp"' not in text:
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None  # the checked read names the error
    if not (
        isinstance(document, dict)
        and document.get("version") == _STAMPED
        and isinstance(document.get("stamp"), str)
        and set(document) == {"data", "stamp", "version"}
    ):
        return None
    data = document["data"]
    try:
        stamp = _stamp(_canonical_text(data))
    except UnicodeEncodeError:  # a lone surrogate (written escaped): none the codec wrote
        return None
    return data if stamp == document["stamp"] else None


def read_billing_state(text: str, *, table: str, key: object) -> BillingState:
    """A billing state from its row's text: what :func:`loads` reads, in fewer steps.

    A document of the current format, written without whitespace around it, whose data has
    the hot shape (billed-through dates and terms) is read by the fast state reader, as
    :func:`from_document` reads it; any other text goes through :func:`loads`, whose error
    names ``table`` and ``key`` (``tests/test_persisted_run_reading.py`` proves the two
    agree, error for error). Text given as bytes is read by :func:`loads` too.

    >>> read_billing_state('{"data":{"billed_through":[["pro@2026-03-01","2026-04-01"]]},'
    ...                    '"version":4}', table="billing_states", key="S1").billed_through
    (('pro@2026-03-01', datetime.date(2026, 4, 1)),)
    """
    if type(text) is str:  # bytes and the like: loads reads them (or says why)
        state = _one_charge_state(text)
        if state is not None:
            return state
        try:
            document, end = _scan_once(text, 0)
        except (StopIteration, ValueError, RecursionError):
            pass  # loads says why
        else:
            if end == len(text) and type(document) is dict:
                version = document.get("version")
                if type(version) is int and version == FORMAT_VERSION:
                    state = _fast_state_read(document.get("data"))
                    if state is not None:
                        return state
    return loads(text, BillingState, table=table, key=key)


def read_subscription(text: str, *, table: str, key: object) -> Subscription:
    """A subscription from its row's text: trusted when its stamp matches, else checked.

    A row :func:`subscription_text` wrote, whose stamp matches its data, is built back
    without running the checks its subscription passed when it was written (for the shapes
    :func:`_trusted_subscription` knows, and values that cheap comparisons find ordinary; any
    other is read checked, so both give the same subscription or error). Any other row is read
    by :func:`loads`, checked, and one that cannot be read raises :class:`StoredDataError`
    naming ``table`` and ``key``.
    """
    return _read(text, table, key, _one_plan_subscription)


def read_billing_subscription(text: str, *, table: str, key: object) -> Subscription | OnePlanRow:
    """:func:`read_subscription` for a bill run: a usual row's values stand in for it.

    A row the trusted read would build from the values of one plan span and the usual
    fields (``_ONE_PLAN``) gives those values (a :class:`OnePlanRow`: what billing reads of
    the subscription, without building it); any other row gives the subscription
    :func:`read_subscription` gives, or raises its error. The values are held to what the
    trusted read holds them to, by the same functions: a row read here stands in for the
    very subscription :func:`read_subscription` reads (``OnePlanRow.subscription()``), or
    both read it the same way (``tests/test_plan_rows.py``).
    """
    return _read(text, table, key, _one_plan_row)


def _read(
    text: str,
    table: str,
    key: object,
    one_plan: Callable[[tuple[Any, ...]], _T | None],
) -> _T | Subscription:
    """A subscription's row read trusted when its stamp matches, else checked.

    ``one_plan`` reads the groups of a row of the usual shape (``_ONE_PLAN``).
    """
    data_end = len(text) - _STAMP_TAIL
    if _stamp_matches(text, data_end):
        # The usual shape (one plan span), its strings read where they stand; any other
        # data is parsed.
        found = _ONE_PLAN(text, len(_STAMP_HEAD), data_end)
        trusted = (
            one_plan(found.groups(_ABSENT))
            if found is not None
            else _trusted_subscription(_data_at(text, data_end))
        )
        if trusted is not None:
            return trusted
    else:
        data = _stamped_data(text)
        if data is not None:
            subscription = _trusted_subscription(data)
            if subscription is not None:
                return subscription
    return loads(text, Subscription, table=table, key=key)


def _setters(cls: type) -> dict[str, Callable[[Any, Any], None]]:
    """``{field: setter}`` writing the slots of a frozen attrs class past its checks."""
    found: dict[str, Callable[[Any, Any], None]] = {}
    for field in attrs.fields(cls):
        owner = next(klass for klass in cls.__mro__ if field.name in vars(klass))
        found[field.name] = vars(owner)[field.name].__set__
    return found


def _defaults(cls: type) -> dict[str, Any]:
    """Each field's default (a factory's value, built once: the classes are frozen)."""
    found: dict[str, Any] = {}
    for field in attrs.fields(cls):
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        found[field.name] = default
    return found


# -- the trusted read of a stamped subscription ----------------------------------------------
#
# A stamped row's data is built back slot by slot, each slot written once: what the data
# holds read as the checked read reads it, every other field its default (the very object
# the class's default is, or its factory's value built once: the classes are frozen).
# Numbers are read exactly, in a private context of the library (never the caller's) that
# traps every signal: a text that is no number, or one the context would round, raises, and
# the row is read checked. Nothing is kept from one row to the next.
#
# A stamp has no key: a row edited by hand and stamped again is read here too. So each
# value is held to what the checked read accepts, by cheap comparisons on the ordinary
# values the codec writes (text of printable characters, dates within the bounds, numbers
# within theirs, a billing day from 1 to 31 on a month-based frequency, plans that follow
# each other from the start); anything outside the ordinary sends the row to the checked
# read, which accepts it, normalises it or names what is wrong with it
# (``tests/test_trusted_read_refusals.py`` proves both reads agree after any edit).

#: The library's precision and exponent bounds, with every signal trapped: ``create_decimal``
#: gives exactly what ``Decimal(text)`` gives in the library's context, or raises.
_EXACT = decimal.Context(
    prec=DECIMAL_CONTEXT.prec,
    Emax=DECIMAL_CONTEXT.Emax,
    Emin=DECIMAL_CONTEXT.Emin,
    clamp=DECIMAL_CONTEXT.clamp,
    traps=list(DECIMAL_CONTEXT.flags),
)
_exact_decimal = _EXACT.create_decimal


def _number(value: Any) -> Decimal:
    """A stored number read exactly; ``ValueError`` for a NaN or an infinity (read checked)."""
    number = _exact_decimal(value)
    if not number.is_finite():
        raise ValueError(value)
    return number


_day = date.fromisoformat
_new = object.__new__
#: A key the stamped data does not hold (beside ``None``, which it may hold).
_ABSENT: Any = object()
#: A JSON string written without escapes (the codec escapes as ``json`` does): the text
#: between its quotes is its value.
_PLAIN_STRING = r'"([^"\\\x00-\x1f]*+)"'

_money = Money._make

#: The fields of a span and of a subscription the trusted read knows: catalog spans,
#: dates, seats. A subscription with anything else (quoted lines, discounts, taxes, terms,
#: a trial, phases, a history, a span's usage charges…) is read checked.
_SPAN_KEYS = frozenset(("code", "start", "end", "billed_from", "reason", "price", "quantity"))
_SUBSCRIPTION_KEYS = frozenset(
    (
        "id",
        "customer",
        "currency",
        "start",
        "end",
        "frequency",
        "billing_day",
        "plans",
        "modules",
        "addons",
        "quantity",
        "payment_method",
        "cancelled_on",
        "cancel_at",
    )
)
_SPAN_SLOTS = _setters(Span)
_SPAN_CODE, _SPAN_START, _SPAN_END, _SPAN_BILLED_FROM, _SPAN_REASON, _SPAN_PRICE = (
    _SPAN_SLOTS[name] for name in ("code", "start", "end", "billed_from", "reason", "price")
)
_SPAN_QUANTITY, _SPAN_USAGE = _SPAN_SLOTS["quantity"], _SPAN_SLOTS["usage"]
_SUBSCRIPTION_DEFAULTS = _defaults(Subscription)
_SUBSCRIPTION_SLOTS = _setters(Subscription)
(
    _SUB_ID,
    _SUB_CUSTOMER,
    _SUB_CURRENCY,
    _SUB_START,
    _SUB_END,
    _SUB_FREQUENCY,
    _SUB_BILLING_DAY,
    _SUB_PLANS,
    _SUB_MODULES,
    _SUB_ADDONS,
    _SUB_QUANTITY,
    _SUB_PAYMENT_METHOD,
    _SUB_DISCOUNTS,
    _SUB_TAX_RATES,
    _SUB_TERMS,
    _SUB_CANCELLED_ON,
    _SUB_CANCEL_AT,
    _SUB_WITHDRAWN,
    _SUB_LINES,
    _SUB_HISTORY,
    _SUB_TRIAL,
    _SUB_PHASES,
) = _SUBSCRIPTION_SLOTS.values()  # the fields' order (one added fails here, at import)
(
    _NO_DISCOUNTS,
    _NO_TAX_RATES,
    _DEFAULT_TERMS,
    _NO_WITHDRAWN,
    _NO_LINES,
    _NO_HISTORY,
    _NO_TRIAL,
    _NO_PHASES,
    _MONTHLY,
    _ONE,
) = (
    _SUBSCRIPTION_DEFAULTS[name]
    for name in (
        "discounts",
        "tax_rates",
        "terms",
        "withdrawn",
        "lines",
        "history",
        "trial",
        "phases",
        "frequency",
        "quantity",
    )
)


#: The most decimals of a price (a quantity) as the codec writes it, plus one: what follows
#: the dot in ``"19.99"`` is at most that long without the dot.
_PRICE_TAIL, _QUANTITY_TAIL = MAX_AMOUNT_PLACES + 1, MAX_QUANTITY_PLACES + 1
#: The most characters before the dot of a price below 10^15 in magnitude (its digits).
_PRICE_HEAD = len(str(MAX_AMOUNT.to_integral_value() - 1))
_EARLIEST, _LATEST = MIN_COMPUTED_DATE, MAX_COMPUTED_DATE
_MONTHS = FrequencyUnit.MONTH
#: The currency codes met in stamped rows that ``read_currency`` returns as they are (upper
#: case, known): only such codes are kept, so it holds at most the ISO 4217 list.
_CURRENCIES: set[str] = set()


def _trusted_money(text: str, currency: str) -> Money:
    """A price of stamped data (``"50.00 EUR"``) in ``currency``, its amount read exactly.

    Written as the codec writes an amount (no exponent, at most 9 decimals), not negative
    and below 10^15: what ``Money`` reads as it is and a span takes. Anything else raises
    :class:`_UnknownShapeError`.
    """
    amount, code = text.split(" ")
    number = _number(amount)
    dot = amount.find(".")
    if (
        code != currency
        or amount[0] == "-"  # a negative price (or -0) is read checked, which refuses it
        or "E" in amount
        or "e" in amount
        or (len(amount) - dot > _PRICE_TAIL if dot >= 0 else len(amount) > _PRICE_HEAD)
        or dot > _PRICE_HEAD  # a sign or a leading zero counted: such a price is read checked
    ):
        raise _UnknownShapeError
    return _money(number, code)


def _quantity(text: Any) -> Decimal:
    """Seats of stamped data: what ``to_quantity`` returns as it is, from 0 to 10^12.

    Written as the codec writes a quantity (a text, no exponent, at most 6 decimals). 0 is
    read as the checked read reads it: a subscription or a past span of 0 seats stored by
    an earlier release (only the verbs that set seats refuse 0).
    """
    if type(text) is not str or "E" in text or "e" in text:
        raise _UnknownShapeError
    number = _number(text)
    dot = text.find(".")
    if (dot >= 0 and len(text) - dot > _QUANTITY_TAIL) or not 0 <= number <= MAX_QUANTITY:
        raise _UnknownShapeError
    return number


def _line(value: Any) -> str:
    """One line of printable text of stamped data, as ``check_line`` accepts it.

    Not empty nor blank (``strip`` leaves something, as ``check_line`` asks), every
    character printable (which no control character, bidirectional mark, line separator
    nor lone surrogate is); :class:`_UnknownShapeError` for anything else (the checked read
    takes some of it: a no-break space, a number).
    """
    if type(value) is not str or not value.strip() or not value.isprintable():
        raise _UnknownShapeError
    return value


def _payment_method(value: Any) -> str:
    """A payment method of stamped data: one line, no card number (the checked read's)."""
    method = _line(value)
    if len(method) >= 13:  # a card number has 13 digits at least
        check_no_card_number("payment_method", method)  # CardDataError: read checked
    return method


def _day_in_bounds(value: Any) -> date:
    """A date of stamped data within the bounds ``check_date`` holds a date to."""
    day = _day(value)
    if not _EARLIEST <= day <= _LATEST:
        raise _UnknownShapeError
    return day


def _cancellation(cancelled_on: Any, cancel_at: Any, start: date) -> tuple[date, date]:
    """A cancellation of stamped data: both its days, taking effect from ``start`` on.

    ``(cancelled_on, cancel_at)`` as the checked read takes them; one day without the other
    (``_ABSENT``) or an effect before ``start`` is read checked, which refuses it.
    """
    if cancelled_on is _ABSENT or cancel_at is _ABSENT:
        raise _UnknownShapeError
    made, effective = _day_in_bounds(cancelled_on), _day_in_bounds(cancel_at)
    if effective < start:
        raise _UnknownShapeError
    return made, effective


_FREQUENCIES: dict[str, Frequency] = {}


def _frequency(text: str) -> Frequency:
    found = _FREQUENCIES.get(text)
    if found is None:
        found = Frequency.parse(text)
        if len(_FREQUENCIES) < 64:
            _FREQUENCIES[text] = found
    return found


def _trusted_span(data: Any, currency: str) -> Span:
    """A span of stamped data, built unchecked (:class:`_UnknownShapeError`: another shape).

    Its code one line, its dates within the bounds and in order (an end after the start,
    billing from the start on), its price in the subscription's ``currency``: as ``Span``
    and ``Subscription`` check them.
    """
    if type(data) is not dict or not _SPAN_KEYS.issuperset(data):
        raise _UnknownShapeError
    get = data.get
    values = _span_values(
        data["code"],
        data["start"],
        get("end", _ABSENT),
        get("billed_from", _ABSENT),
        get("reason", _ABSENT),
        get("price", _ABSENT),
        get("quantity", _ABSENT),
        currency,
    )
    return _span(values)


def _span(values: _SpanValues) -> Span:
    """The span of ``values``, each slot written once."""
    code, start, end, billed_from, reason, price, quantity = values
    span = _new(Span)
    _SPAN_CODE(span, code)
    _SPAN_START(span, start)
    _SPAN_END(span, end)
    _SPAN_BILLED_FROM(span, billed_from)
    _SPAN_REASON(span, reason)
    _SPAN_PRICE(span, price)
    _SPAN_QUANTITY(span, quantity)
    _SPAN_USAGE(span, None)
    return span


#: A span's fields as ``Span`` holds them: code, start, end, billed from, reason, price, seats.
_SpanValues = tuple[str, date, date | None, date | None, str | None, Money | None, Decimal | None]


def _span_values(  # noqa: PLR0917  (a span's fields, read as they stand)
    code: Any,
    start_text: Any,
    end_text: Any,
    billed_from_text: Any,
    reason: Any,
    price: Any,
    quantity: Any,
    currency: str,
) -> _SpanValues:
    """The fields of a span of stamped data, each read and held to what ``Span`` takes.

    Its code one line, its dates within the bounds and in order (an end after the start,
    billing from the start on), its price in ``currency``; anything else raises one of
    ``_NOT_TRUSTED``.
    """
    start = _day(start_text)
    end = None if end_text is _ABSENT else _day(end_text)
    billed_from = None if billed_from_text is _ABSENT else _day(billed_from_text)
    if (
        type(code) is not str
        or not code.strip()
        or not code.isprintable()
        or not _EARLIEST <= start <= _LATEST
        or (end is not None and not start < end <= _LATEST)
        or (billed_from is not None and not start <= billed_from <= _LATEST)
    ):
        raise _UnknownShapeError
    return (
        code,
        start,
        end,
        billed_from,
        None if reason is _ABSENT else _line(reason),
        None if price is _ABSENT else _trusted_money(price, currency),
        None if quantity is _ABSENT else _quantity(quantity),
    )


def _trusted_spans(data: Any, currency: str) -> tuple[Span, ...]:
    if type(data) is not list:
        raise _UnknownShapeError
    if len(data) == 1:  # the usual plan history: one span
        return (_trusted_span(data[0], currency),)
    return tuple([_trusted_span(span, currency) for span in data])


class _UnknownShapeError(Exception):
    """A stamped document of a shape the trusted reader does not know: read it checked."""


def _trusted_subscription(data: Any) -> Subscription | None:
    """The subscription of stamped ``data``, built unchecked; ``None`` for another shape.

    Each slot is written once: what ``data`` holds, read as the checked read reads it, or the
    field's default (``tests/test_persisted_run_row_reads.py`` proves the result equals the
    checked read, field for field, over every shape the stores hold). Each value is held to
    what the checked read accepts as is (``tests/test_trusted_read_refusals.py``): any other
    gives ``None``, and the row is read checked.
    """
    if type(data) is not dict or not _SUBSCRIPTION_KEYS.issuperset(data):
        return None
    get = data.get
    try:
        currency = data["currency"]
        return _subscription_of(
            _subscription_values(
                data["id"],
                data["customer"],
                currency,
                data["start"],
                get("end", _ABSENT),
                get("frequency", _ABSENT),
                get("billing_day"),
                get("quantity", _ABSENT),
                get("payment_method"),
                get("cancelled_on", _ABSENT),
                get("cancel_at", _ABSENT),
            ),
            _trusted_spans(data["plans"], currency),
            _trusted_spans(data["modules"], currency) if "modules" in data else (),
            _trusted_spans(data["addons"], currency) if "addons" in data else (),
        )
    except _NOT_TRUSTED:
        return None  # not a shape this reader knows: the checked read says what it holds


#: What a value the trusted read does not take raises (the row is then read checked).
_NOT_TRUSTED = (
    _UnknownShapeError,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,  # a number that is not one, or one the library's context would round
    SubbillError,  # a card number in the payment method: the checked read names it
)


def _subscription_of(
    values: _SubscriptionValues | None,
    plans: tuple[Span, ...],
    modules: tuple[Span, ...],
    addons: tuple[Span, ...],
) -> Subscription | None:
    """A subscription of stamped data from its fields' values and its spans.

    ``None`` for values the checked read refuses or normalises (:func:`_subscription_values`
    gave none), no plan, none from the start, or plans that do not follow each other.
    """
    if values is None or not plans or plans[0].start != values[3]:
        return None  # no plan, or none from the start: the checked read says why
    if len(plans) > 1:
        for before, after in itertools.pairwise(plans):
            if before.end != after.start:
                return None  # a gap or an overlap
    return _subscription(values, plans, modules, addons)


#: A subscription's own fields as ``Subscription`` holds them, in this order: id, customer,
#: currency, start, end, frequency, billing day, seats, payment method, the day a
#: cancellation was made and the day it takes effect.
_SubscriptionValues = tuple[
    str,
    str,
    str,
    date,
    date | None,
    Frequency,
    int | None,
    Decimal,
    str | None,
    date | None,
    date | None,
]


def _subscription_values(  # noqa: PLR0917  (a subscription's fields, as they stand)
    sub_id: Any,
    customer: Any,
    currency: Any,
    start_text: Any,
    end_text: Any,
    frequency_text: Any,
    billing_day: Any,
    quantity: Any,
    method: Any,
    cancelled_on: Any,
    cancel_at: Any,
) -> _SubscriptionValues | None:
    """The fields of a subscription of stamped data, each read as the checked read reads it.

    ``None`` for a value the checked read refuses or normalises; a value of another type
    raises one of ``_NOT_TRUSTED``. Its spans are not looked at.
    """
    start = _day(start_text)
    end = None if end_text is _ABSENT else _day(end_text)
    frequency = _MONTHLY if frequency_text is _ABSENT else _frequency(frequency_text)
    if currency not in _CURRENCIES:
        if type(currency) is not str or not is_currency(currency):
            return None
        _CURRENCIES.add(currency)
    if (
        type(sub_id) is not str
        or type(customer) is not str
        or not sub_id.strip()
        or not customer.strip()
        or not sub_id.isprintable()
        or not customer.isprintable()
        or not _EARLIEST <= start <= _LATEST
        or (end is not None and not start < end <= _LATEST)
        or (
            billing_day is not None
            and (
                type(billing_day) is not int
                or not 1 <= billing_day <= 31
                or frequency.unit is not _MONTHS
            )
        )
    ):
        return None
    made = at = None  # the day a cancellation was made, the day it takes effect
    if cancel_at is not _ABSENT or cancelled_on is not _ABSENT:
        made, at = _cancellation(cancelled_on, cancel_at, start)
    seats = _ONE if quantity is _ABSENT else _quantity(quantity)
    method = None if method is None else _payment_method(method)
    return sub_id, customer, currency, start, end, frequency, billing_day, seats, method, made, at


def _subscription(
    values: _SubscriptionValues,
    plans: tuple[Span, ...],
    modules: tuple[Span, ...],
    addons: tuple[Span, ...],
) -> Subscription:
    """The subscription of ``values`` and these spans, each slot written once."""
    sub_id, customer, currency, start, end, frequency, day, seats, method, made, effective = values
    sub = _new(Subscription)
    _SUB_ID(sub, sub_id)
    _SUB_CUSTOMER(sub, customer)
    _SUB_CURRENCY(sub, currency)
    _SUB_START(sub, start)
    _SUB_END(sub, end)
    _SUB_FREQUENCY(sub, frequency)
    _SUB_BILLING_DAY(sub, day)
    _SUB_PLANS(sub, plans)
    _SUB_MODULES(sub, modules)
    _SUB_ADDONS(sub, addons)
    _SUB_QUANTITY(sub, seats)
    _SUB_PAYMENT_METHOD(sub, method)
    _SUB_DISCOUNTS(sub, _NO_DISCOUNTS)
    _SUB_TAX_RATES(sub, _NO_TAX_RATES)
    _SUB_TERMS(sub, _DEFAULT_TERMS)
    _SUB_CANCELLED_ON(sub, made)
    _SUB_CANCEL_AT(sub, effective)
    _SUB_WITHDRAWN(sub, _NO_WITHDRAWN)
    _SUB_LINES(sub, _NO_LINES)
    _SUB_HISTORY(sub, _NO_HISTORY)
    _SUB_TRIAL(sub, _NO_TRIAL)
    _SUB_PHASES(sub, _NO_PHASES)
    return sub


#: The data of a stamped subscription of the usual shape, as :func:`subscription_text`
#: writes it (keys sorted, compact): one plan span (its code, end, price, seats, start), a
#: billing day, a cancellation, an end, a frequency, a payment method, seats. Its strings
#: are read where they stand (written without escapes: the text between the quotes is the
#: value), without the JSON decoder; the values are checked as the decoded data's are
#: (``_subscription_of``). Any other data is parsed.
_ONE_PLAN = re.compile(
    r"\{"
    r'(?:"billing_day":([1-9][0-9]?),)?+'
    rf'(?:"cancel_at":{_PLAIN_STRING},"cancelled_on":{_PLAIN_STRING},)?+'
    rf'"currency":{_PLAIN_STRING},"customer":{_PLAIN_STRING},'
    rf'(?:"end":{_PLAIN_STRING},)?+(?:"frequency":{_PLAIN_STRING},)?+"id":{_PLAIN_STRING},'
    rf'(?:"payment_method":{_PLAIN_STRING},)?+'
    rf'"plans":\[\{{"code":{_PLAIN_STRING},(?:"end":{_PLAIN_STRING},)?+'
    rf'(?:"price":{_PLAIN_STRING},)?+(?:"quantity":{_PLAIN_STRING},)?+"start":{_PLAIN_STRING}\}}\],'
    rf'(?:"quantity":{_PLAIN_STRING},)?+"start":{_PLAIN_STRING}'
    r"\}"
).fullmatch


def _one_plan_subscription(groups: tuple[Any, ...]) -> Subscription | None:
    """The subscription of ``_ONE_PLAN``'s groups (``_ABSENT``: a group not matched)."""
    row = _one_plan_row(groups)
    return None if row is None else row.subscription()


def _one_plan_row(groups: tuple[Any, ...]) -> OnePlanRow | None:
    """The values of ``_ONE_PLAN``'s groups; ``None``: the row is read checked."""
    (
        billing_day,
        cancel_at,
        cancelled_on,
        currency,
        customer,
        end,
        frequency,
        sub_id,
        method,
        code,
        span_end,
        price,
        seats,
        span_start,
        quantity,
        start,
    ) = groups
    try:
        span = _span_values(code, span_start, span_end, _ABSENT, _ABSENT, price, seats, currency)
        values = _subscription_values(
            sub_id,
            customer,
            currency,
            start,
            end,
            frequency,
            None if billing_day is _ABSENT else int(billing_day),
            quantity,
            None if method is _ABSENT else method,
            cancelled_on,
            cancel_at,
        )
    except _NOT_TRUSTED:
        return None
    if values is None or span[1] != values[3]:
        return None  # a value the checked read refuses, or a plan not from the start
    # The charge's key (``code@start``) as the start is written, when it is written as
    # ``isoformat`` writes it (what ``fromisoformat`` reads of 10 characters with both
    # dashes: not a week date, ``2025-W03-3``).
    key = (
        f"{code}@{span_start}"
        if len(span_start) == _ISO_DAY and span_start[4] == "-" == span_start[7]
        else None
    )
    return _new_row(OnePlanRow, (*values, *span, key))


_ISO_DAY = len("2026-03-01")
_new_row = tuple.__new__


class OnePlanRow(NamedTuple):
    """A stamped subscription of one plan span and the usual fields, as a bill run reads it.

    The values :func:`read_billing_subscription` read from the row, held to what the
    trusted read holds them to: a subscription (id, customer, currency, start, end,
    frequency, billing day, seats, payment method, both days of a cancellation) of one plan
    span (``plan_…``: its code, start, end, billing start, reason, price and seats) and no
    other item, discount, tax rate, term, trial nor history. It stands in for the
    subscription it reads: :meth:`to_charge_plan` gives that subscription's plan (built
    straight from the values for a catalog without usage charges), :meth:`subscription`
    builds it, and any other attribute is the subscription's (built then). It is no
    ``Subscription``: ``==`` and ``isinstance`` tell them apart.
    """

    id: str
    customer: str
    currency: str
    start: date
    end: date | None
    frequency: Frequency
    billing_day: int | None
    quantity: Decimal
    payment_method: str | None
    cancelled_on: date | None
    cancel_at: date | None
    plan_code: str
    plan_start: date
    plan_end: date | None
    plan_billed_from: date | None
    plan_reason: str | None
    plan_price: Money | None
    plan_seats: Decimal | None
    #: The charge's key when the row wrote its start as ``isoformat`` writes it.
    plan_key: str | None

    def subscription(self) -> Subscription:
        """The subscription the row holds (built each time it is asked for)."""
        return _subscription(self[:11], self.plans, (), ())  # its own fields, then its span

    def to_charge_plan(self, catalog: Catalog | None = None) -> ChargePlan:
        """:meth:`Subscription.to_charge_plan` of the subscription the row holds.

        With a catalog without usage charges, built from the row's values
        (``Subscription._one_plan_charge_plan``, as the subscription builds it).
        """
        if type(catalog) is Catalog and not catalog.has_usage:
            return Subscription._one_plan_charge_plan(
                self,
                self.plan_code,
                self.plan_start,
                self.plan_end,
                self.plan_billed_from,
                self.plan_reason,
                self.plan_price,
                self.plan_seats,
                catalog,
                self.plan_key,
                priced=True,  # a price the trusted read held to the bounds of an amount
            )
        return self.subscription().to_charge_plan(catalog)

    @property
    def plans(self) -> tuple[Span, ...]:
        """The subscription's plan spans (its one span)."""
        return (_span(self[11:18]),)  # the span's fields, after the subscription's

    @property
    def ends_on(self) -> date | None:
        """:attr:`Subscription.ends_on`: its end, or its cancellation's if earlier (no trial)."""
        ends, cancel_at = self.end, self.cancel_at
        if cancel_at is not None and (ends is None or cancel_at < ends):
            ends = cancel_at
        return ends

    @property
    def tax_rates(self) -> tuple[TaxRate, ...]:
        """:attr:`Subscription.tax_rates`: none."""
        return ()

    @property
    def terms(self) -> BillingTerms:
        """:attr:`Subscription.terms`: the default terms."""
        terms: BillingTerms = _DEFAULT_TERMS
        return terms

    @property
    def invoice_discounts(self) -> tuple[Discount, ...]:
        """:attr:`Subscription.invoice_discounts`: none."""
        return ()

    def __getattr__(self, name: str) -> Any:
        """Any other attribute: the subscription's."""
        return getattr(self.subscription(), name)


# -- hand-written codecs of the hot shapes ---------------------------------------------------
#
# A bill run writes a one-line invoice and a billing state per subscription, and reads the
# state back on the next run. For the shapes it writes most (an invoice without discounts
# nor payments, its lines taxed or not; a state of billed-through dates and terms), the
# documents are built
# by hand: the same data as cattrs builds (``tests/test_codec_rows.py`` proves it over
# generated values), without its generic machinery. Any other shape goes through cattrs.
# A state of that shape is read with its constructor's checks made inline.


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


# The canonical JSON text (:func:`document_text`) of the hot shapes, written directly: keys
# in sorted order, strings escaped as ``json`` escapes them without ``ensure_ascii``, no
# blank. What is known to need no escaping is written as it is: ISO dates and periods,
# amounts (digits and an ISO 4217 code), fractions, ints. Each writer declines (``None``) a
# value of another shape, which cattrs then writes (tests/test_persisted_run_write.py
# proves the texts are cattrs' own, byte for byte, over generated invoices and states).
_json_text = json.encoder.encode_basestring
#: The end of a current document's text, after its data.
_DOCUMENT_END = f'}},"version":{FORMAT_VERSION}}}'
# The members the writers compare, read once: an enum member read through its class goes
# through the enum's metaclass (about as long as writing a short text).
_INVOICE_KIND, _DRAFT_STATUS = DocumentKind.INVOICE, InvoiceStatus.DRAFT


def _line_text(line: InvoiceLine) -> str | None:
    """A line's format-4 JSON text as :func:`_line_hooks` writes it; ``None``: another shape."""
    why = line.explanation
    days, whole = why.days, why.period_days
    if (
        why.discounts
        or why.usage is not None
        or not (days is None or type(days) is int)
        or not (whole is None or type(whole) is int)
    ):
        return None
    amount, discount, factor, period = line.amount, line.discount, line.factor, line.period
    currency, number = amount.currency, amount.amount
    amount_text = str(number)  # _amount_text's, inline
    if "E" in amount_text or "e" in amount_text:
        amount_text = f"{number:f}"
    taxes = ""
    if line.tax_rates:
        taxes = f',"tax_rates":[{",".join(map(_rate_text, line.tax_rates))}]'
    if line.taxes:
        taxed = ",".join(f'[{_rate_text(rate)},"{_money_text(tax)}"]' for rate, tax in line.taxes)
        taxes = f'{taxes},"taxes":[{taxed}]'
    base, cycle, basis = line.base, why.cycle, why.basis
    if (
        discount is Money.zero(currency)  # no discount: the net is the amount, as written
        and (base is amount or (base.amount is number and base.currency == currency))
        and period is not None
        and cycle is not None
        and basis is not None
        and days is not None
        and whole is not None
        and whole > 0
        and why.reason is None
        and why.factor is factor
        and why.period is period
        and why.quantity is line.quantity
        and why.unit_price is line.unit_price
        and days * factor.denominator == whole * factor.numerator
    ):  # the usual line (a recurring charge's period), in one template: _usual_line_text
        return _usual_line_text(
            line, amount_text, currency, period, cycle, basis, days, whole, taxes
        )
    unit_price = _money_text(line.unit_price)
    quantity = _decimal_text(line.quantity)
    period_text = "null" if period is None else f'"{_period_text(period)}"'
    # What reading puts back without a base: the net, ``amount - discount`` (one currency).
    if discount is Money.zero(currency):  # no discount (0, no places): the net is the amount
        discount_text, net = "", amount_text  # amount - 0 keeps its digits (plain text)
    else:
        written = _money_text(discount)
        discount_text = "" if written == f"0 {currency}" else f',"discount":"{written}"'
        net = _amount_text(DECIMAL_CONTEXT.subtract(amount.amount, discount.amount))
    if base.currency == currency and (
        (base.amount is number and net is amount_text) or _amount_text(base.amount) == net
    ):
        base_text = ""
    else:
        base_text = f',"base":"{_money_text(base)}"'
    factor_text = (
        ""  # the explanation's days of the period give the factor back (_factor_of)
        if days is not None
        and whole is not None
        and whole > 0
        and days * factor.denominator == whole * factor.numerator
        else f',"factor":"{_fraction_text(factor)}"'
    )
    explanation = _explanation_text(line, unit_price, quantity, period_text)
    return (
        f'{{"amount":"{amount_text} {currency}"{base_text},'
        f'"charge_key":{_json_text(line.charge_key)},'
        f'"code":{_json_text(line.code)},"description":{_json_text(line.description)}'
        f'{discount_text},"explanation":{{{explanation}}}'
        f'{factor_text},"kind":{_json_text(line.kind._value_)},"period":{period_text},'
        f'"quantity":"{quantity}"{taxes},"unit_price":"{unit_price}"}}'
    )


def _usual_line_text(  # noqa: PLR0917  (the values _line_text read, passed on)
    line: InvoiceLine,
    amount_text: str,
    currency: str,
    period: Period,
    cycle: Period,
    basis: ProrationBasis,
    days: int,
    whole: int,
    taxes: str,
) -> str:
    """:func:`_line_text` of a line of the usual shape, in one template.

    The shape ``_line_text`` checked: no discount (the engine's zero), a base that is the
    amount, an explanation whose unit price, quantity, factor and period are the line's own
    objects, with a basis, a cycle and the days of the period the factor is. Written as the
    general path writes it: the explanation's ``basis``, ``cycle`` (the line's period's
    text when its days are the period's), ``days`` and ``period_days``; no ``base``,
    ``discount`` nor ``factor``. An enum's value is written as it stands (each is its own
    JSON text: ``tests/test_persisted_run_write_fourth.py``).
    """
    start, end = period.start, period.end
    period_text = f"{start.isoformat()}/{end.isoformat()}"
    if cycle is period or (cycle.start == start and cycle.end == end):
        cycle_text = period_text  # equal days, equal text
    else:
        cycle_text = f"{cycle.start.isoformat()}/{cycle.end.isoformat()}"
    unit_price = line.unit_price
    price = str(unit_price.amount)  # _amount_text's, inline
    if "E" in price or "e" in price:
        price = f"{unit_price.amount:f}"
    quantity = str(line.quantity)  # _decimal_text's, inline
    if "e" in quantity:
        quantity = quantity.replace("e", "E")
    return (
        f'{{"amount":"{amount_text} {currency}","charge_key":{_json_text(line.charge_key)},'
        f'"code":{_json_text(line.code)},"description":{_json_text(line.description)},'
        f'"explanation":{{"basis":"{basis._value_}","cycle":"{cycle_text}","days":{days},'
        f'"period_days":{whole}}},"kind":"{line.kind._value_}",'
        f'"period":"{period_text}","quantity":"{quantity}"{taxes},'
        f'"unit_price":"{price} {unit_price.currency}"}}'
    )


def _cycle_text(cycle: Period, line: InvoiceLine, period: str) -> str:
    """The JSON of a line's explanation's ``cycle``: ``period`` (the line's) when equal."""
    if cycle is line.period or cycle == line.period:  # equal days, equal text
        return period
    return f'"{_period_text(cycle)}"'


def _explanation_text(line: InvoiceLine, unit_price: str, quantity: str, period: str) -> str:
    """The inside of a line's explanation's JSON object, as :func:`_line_hooks` writes it.

    Its fields other than their defaults; the repeated ones (unit price, quantity, factor,
    period) only where they differ from the line's: ``unit_price``, ``quantity`` and
    ``period`` are the line's texts (the period's JSON: quoted, or ``null``). A value that
    is the line's own object has the line's text.
    """
    why = line.explanation
    basis, cycle, days, whole = why.basis, why.cycle, why.days, why.period_days
    if (
        basis is not None
        and cycle is not None
        and days is not None
        and whole is not None
        and why.reason is None
        and why.factor is line.factor
        and why.period is line.period
        and why.quantity is line.quantity
        and why.unit_price is line.unit_price
    ):  # a recurring line's usual explanation, in one template: the fields it writes
        return (
            f'"basis":{_json_text(basis._value_)},"cycle":{_cycle_text(cycle, line, period)},'
            f'"days":{days},"period_days":{whole}'
        )
    explained = []
    if basis is not None:
        explained.append(f'"basis":{_json_text(basis._value_)}')
    if cycle is not None:
        explained.append(f'"cycle":{_cycle_text(cycle, line, period)}')
    if why.days is not None:
        explained.append(f'"days":{why.days}')
    if why.factor is not line.factor:
        text = _fraction_text(why.factor)
        if text != _fraction_text(line.factor):
            explained.append(f'"factor":"{text}"')
    if why.period is not line.period:
        text = "null" if why.period is None else f'"{_period_text(why.period)}"'
        if text != period:
            explained.append(f'"period":{text}')
    if why.period_days is not None:
        explained.append(f'"period_days":{why.period_days}')
    if why.quantity is not line.quantity and (text := _decimal_text(why.quantity)) != quantity:
        explained.append(f'"quantity":"{text}"')
    if why.reason is not None:
        explained.append(f'"reason":{_json_text(why.reason)}')
    if (
        why.unit_price is not line.unit_price
        and (text := _money_text(why.unit_price)) != unit_price
    ):
        explained.append(f'"unit_price":"{text}"')
    return ",".join(explained)


#: The JSON text of each tax rate written lately, by the rate's id: ``(rate, text)`` (the
#: rate is kept, so its id is not reused while it is here). Rates are few and shared by the
#: charges and lines that use them; the cache is emptied when it grows past 256.
_RATE_TEXTS: dict[int, tuple[TaxRate, str]] = {}
_RATE_TEXTS_KEPT = 256


def _rate_text(rate: TaxRate) -> str:
    """A tax rate's document as cattrs writes it, as canonical JSON text."""
    found = _RATE_TEXTS.get(id(rate))
    if found is None or found[0] is not rate:
        if len(_RATE_TEXTS) >= _RATE_TEXTS_KEPT:
            _RATE_TEXTS.clear()
        found = _RATE_TEXTS[id(rate)] = (rate, _canonical_text(CONVERTER.unstructure(rate)))
    return found[1]


def _invoice_text(invoice: Invoice, columns: Collection[str]) -> str | None:
    """An invoice's document as canonical JSON text, without ``columns``' fields.

    The text cattrs' document gives (:func:`row_text`); ``None``: another shape.
    """
    if (
        invoice.discounts
        or invoice.credit_applied is not None
        or invoice.payments
        or invoice.corrects is not None  # also any note with names_only (it needs corrects)
        or invoice.corrections
        or invoice.credits_periods_of
    ):
        return None
    lines = []
    for line in invoice.lines:
        text = _line_text(line)
        if text is None:
            return None
        lines.append(text)
    customer = issued_on = kind = number = status = subscription = taxes = ""
    if "customer" not in columns:
        customer = f',"customer":{_json_text(invoice.customer)}'
    if "issued_on" not in columns:
        issued_on = f',"issued_on":"{invoice.issued_on.isoformat()}"'
    if invoice.kind is not _INVOICE_KIND:
        kind = f',"kind":{_json_text(invoice.kind._value_)}'
    if invoice.number is not None and "number" not in columns:
        number = f',"number":{_json_text(invoice.number)}'
    if invoice.status is not _DRAFT_STATUS:
        status = f',"status":{_json_text(invoice.status._value_)}'
    if invoice.subscription is not None and "subscription" not in columns:
        subscription = f',"subscription":{_json_text(invoice.subscription)}'
    if invoice.taxes:
        taxes = ",".join(
            f'{{"base":"{_money_text(breakdown.base)}","rate":{_rate_text(breakdown.rate)},'
            f'"tax":"{_money_text(breakdown.tax)}"}}'
            for breakdown in invoice.taxes
        )
        taxes = f',"taxes":[{taxes}]'
    return (
        f'{{"data":{{"currency":{_json_text(invoice.currency)}{customer},'
        f'"due_on":"{invoice.due_on.isoformat()}"{issued_on}{kind},"lines":[{",".join(lines)}]'
        f"{number}{status}{subscription}{taxes}{_DOCUMENT_END}"
    )


def _state_text(state: BillingState, columns: Collection[str]) -> str | None:
    """A billing state's document as canonical JSON text; ``None``: another shape."""
    if state.one_time_billed or state.credit_balance is not None or state.usage_billed or columns:
        return None
    billed_through, charge_terms = state.billed_through, state.terms
    if len(billed_through) == 1 and len(charge_terms) == 1:  # one charge: one template
        (charge, day), (termed, digest) = billed_through[0], charge_terms[0]
        key = _json_text(charge)  # the usual state's terms are its charge's: escaped once
        return (
            f'{{"data":{{"billed_through":[[{key},"{day.isoformat()}"]],"terms":[['
            f"{key if termed == charge else _json_text(termed)},{_json_text(digest)}]]"
            f"{_DOCUMENT_END}"
        )
    billed = terms = ""
    if state.billed_through:
        pairs = [f'[{_json_text(key)},"{day.isoformat()}"]' for key, day in state.billed_through]
        billed = f'"billed_through":[{",".join(pairs)}]'
    if state.terms:
        pairs = [f"[{_json_text(key)},{_json_text(digest)}]" for key, digest in state.terms]
        terms = f'"terms":[{",".join(pairs)}]'
    between = "," if billed and terms else ""
    return f'{{"data":{{{billed}{between}{terms}{_DOCUMENT_END}'


_STATE_KEYS = frozenset(("billed_through", "terms"))


def _text_pairs(value: object) -> list[tuple[str, str]] | None:
    """``[[text, text], …]`` as pairs, or ``None`` for anything else."""
    if not isinstance(value, list):
        return None
    pairs = []
    for item in value:
        if type(item) is not list or len(item) != 2:
            return None
        key, text = item
        if type(key) is not str or type(text) is not str:
            return None
        pairs.append((key, text))
    return pairs


def _billed_day(text: str) -> date | None:
    """A billed-through day of a state's text; ``None``: not one the constructor takes."""
    try:
        day = _day(text)
    except ValueError:
        return None
    if not MIN_COMPUTED_DATE <= day <= MAX_COMPUTED_DATE:
        return None  # the constructor refuses it: cattrs names it
    return day


def _billed_through(found: object) -> tuple[tuple[str, date], ...] | None:
    """``[[key, ISO day], …]`` as the constructor keeps it (sorted), or ``None``.

    ``None`` for anything the constructor refuses or cattrs would read otherwise: another
    shape, a day out of the computed bounds, a charge billed through two dates.
    """
    pairs = _text_pairs(found)
    if pairs is None:
        return None
    days = []
    for key, text in pairs:
        day = _billed_day(text)
        if day is None:
            return None
        days.append((key, day))
    if len(days) < 2:  # one pair or none: nothing to sort
        return tuple(days)
    billed = tuple(sorted(days))
    if not _distinct_keys(billed):
        return None  # a charge billed through two dates: the checked read names it
    return billed


def _distinct_keys(pairs: tuple[tuple[str, Any], ...]) -> bool:
    """Whether each key of the sorted ``pairs`` is there once (the constructor refuses twice)."""
    return all(key != next_key for (key, _), (next_key, _) in itertools.pairwise(pairs))


def _fast_state_read(data: object) -> BillingState | None:
    """A state of the hot shape, checked as its constructor checks it; ``None``: read by cattrs.

    For billed-through dates and terms, :class:`BillingState`'s constructor checks that each
    key is text, each date a plain ``date`` within the computed bounds and each digest text,
    and sorts the pairs: the same checks, made here inline, and the state built slot by slot
    (``tests/test_persisted_run_rows.py`` proves it equals the constructor's, over generated
    documents). Anything this reader does not take as it is (another shape, a value it
    cannot read, one the constructor refuses) goes to cattrs, whose error names the field.
    """
    if type(data) is not dict or not _STATE_KEYS.issuperset(data):
        return None
    billed: tuple[tuple[str, date], ...] = ()
    if "billed_through" in data:
        found = _billed_through(data["billed_through"])
        if found is None:
            return None
        billed = found
    terms: tuple[tuple[str, str], ...] = ()
    if "terms" in data:
        pairs = _text_pairs(data["terms"])
        if pairs is None:
            return None
        terms = tuple(sorted(pairs)) if len(pairs) > 1 else tuple(pairs)
        if not _distinct_keys(terms):
            return None  # a charge billed at two sets of terms: the checked read names it
    return _state(billed, terms)


def _state(
    billed: tuple[tuple[str, date], ...], terms: tuple[tuple[str, str], ...]
) -> BillingState:
    """A state of billed-through dates and terms as its constructor builds it, slot by slot."""
    state = _new_state(BillingState)
    _SET_BILLED_THROUGH(state, billed)
    _SET_ONE_TIME_BILLED(state, _NO_KEYS)
    _SET_CREDIT_BALANCE(state, None)
    _SET_TERMS(state, terms)
    _SET_USAGE_BILLED(state, ())
    return state


#: The text of a one-charge state (one billed-through date, its terms or none), as
#: ``_state_text`` writes it: its strings are read where they stand, without the JSON
#: decoder. Any other text is parsed.
_ONE_CHARGE_STATE = re.compile(
    rf'\{{"data":\{{"billed_through":\[\[{_PLAIN_STRING},{_PLAIN_STRING}\]\]'
    rf'(?:,"terms":\[\[{_PLAIN_STRING},{_PLAIN_STRING}\]\])?\}},"version":{FORMAT_VERSION}\}}'
).fullmatch


def _one_charge_state(text: str) -> BillingState | None:
    """The state of a one-charge state's text, checked as :func:`_fast_state_read` checks it.

    ``None``: the text has another shape, or a value the fast reader does not take.
    """
    found = _ONE_CHARGE_STATE(text)
    if found is None:
        return None
    key, day_text, terms_key, digest = found.groups()
    day = _billed_day(day_text)
    if day is None:
        return None
    return _state(((key, day),), () if terms_key is None else ((terms_key, digest),))


_new_state = object.__new__
(
    _SET_BILLED_THROUGH,
    _SET_ONE_TIME_BILLED,
    _SET_CREDIT_BALANCE,
    _SET_TERMS,
    _SET_USAGE_BILLED,
) = (
    _setters(BillingState)[name]
    for name in ("billed_through", "one_time_billed", "credit_balance", "terms", "usage_billed")
)
_NO_KEYS: frozenset[str] = frozenset()


#: The hand-written text writers of the hot shapes, by class (``None``: not this value's
#: shape, or ``columns`` it does not leave out).
_TEXT_WRITERS: dict[type, Callable[[Any, Collection[str]], str | None]] = {
    Invoice: _invoice_text,
    BillingState: _state_text,
}

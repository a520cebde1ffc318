"""Value objects as versioned plain data (JSON-ready), with cattrs.

Every stored document is ``{"version": 1, "data": …}``; ``from_document`` refuses a version
it does not know and a migration step is added here when the format changes. Money is
``{"amount": "19.99", "currency": "EUR"}`` (a string: never a float), dates ISO strings,
fractions ``"12/31"``, frequencies ISO 8601 durations (``"P1M"``), enums their value.
Structuring goes through each class's validating ``__init__``, so stored data is checked
again when it is read.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import cattrs

from subbill.decisions import Allowed, Refused
from subbill.errors import SubbillError
from subbill.money import Money
from subbill.periods import Frequency
from subbill.storage.errors import StoredDataError

__all__ = ["FORMAT_VERSION", "StoredDataError", "dumps", "from_document", "loads", "to_document"]

FORMAT_VERSION = 1

T = TypeVar("T")


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, lambda value, _: Decimal(str(value)))
    converter.register_unstructure_hook(
        Fraction, lambda value: f"{value.numerator}/{value.denominator}"
    )
    converter.register_structure_hook(Fraction, lambda value, _: Fraction(str(value)))
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, lambda value, _: date.fromisoformat(value))
    converter.register_unstructure_hook(
        Money, lambda money: {"amount": str(money.amount), "currency": money.currency}
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
    return converter


CONVERTER = _converter()


def to_document(value: object) -> dict[str, Any]:
    """The versioned plain-data document of a value object."""
    return {"version": FORMAT_VERSION, "data": CONVERTER.unstructure(value)}


def from_document(
    document: dict[str, Any], kind: type[T], *, table: str | None = None, key: object = None
) -> T:
    """Read a value object of ``kind`` back from its document (validated again).

    A document that cannot be read raises :class:`StoredDataError` naming ``table`` and
    ``key`` (the row it came from) when they are given.
    """
    version = document.get("version") if isinstance(document, dict) else None
    if version != FORMAT_VERSION:
        raise StoredDataError(
            f"version={version!r} of a stored {kind.__name__} is not supported; "
            f"expected {FORMAT_VERSION}",
            table=table,
            key=key,
        )
    try:
        return CONVERTER.structure(document["data"], kind)
    except (
        cattrs.BaseValidationError,
        SubbillError,
        KeyError,
        TypeError,
        ValueError,
        ArithmeticError,
        RecursionError,
    ) as error:
        raise StoredDataError(
            f"a stored {kind.__name__} cannot be read back: {error}", table=table, key=key
        ) from None


def dumps(value: object) -> str:
    """JSON text of a value object's document (keys sorted: stable, comparable)."""
    return json.dumps(to_document(value), sort_keys=True, ensure_ascii=False)


def loads(text: str, kind: type[T], *, table: str | None = None, key: object = None) -> T:
    """A value object of ``kind`` from :func:`dumps`' text.

    ``table`` and ``key`` name the row the text was read from, for the error a damaged
    row raises:

    >>> from subbill.billing import BillingState
    >>> loads('{"version": 1, "data": {"billed_through": 3}}', BillingState,
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
    return from_document(document, kind, table=table, key=key)

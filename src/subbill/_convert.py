"""Small converters and validators the value objects share (private)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from subbill.errors import InvalidArgumentError, InvalidTypeError


def to_tuple(value: object) -> tuple[Any, ...]:
    """A collection as a tuple (losslessly); a single item as a one-item tuple."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return tuple(value)
    return (value,)


def check_text(_instance: Any, attribute: Any, value: str) -> None:
    """Attrs validator: a non-empty ``str``."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{attribute.name}={value!r} must be a non-empty str")


def instance_of(kind: type, *, optional: bool = False) -> Any:
    """Validate (for attrs) an instance of ``kind`` (or ``None`` when ``optional``).

    Anything else raises :class:`~subbill.errors.InvalidTypeError` naming the field.
    """

    def validate(_instance: Any, attribute: Any, value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            expected = f"a {kind.__name__}" + (" or None" if optional else "")
            raise InvalidTypeError(attribute.name, value, expected)

    return validate

"""Small converters and validators the value objects share (private)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from subbill.errors import InvalidArgumentError


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

"""Frozen attrs records built without their checks (private).

The billing engine builds values it has already validated (lines, explanations, invoices,
states, and the results a worker process sends back); :func:`slot_setters` lets it write
their slots directly, past the frozen class's ``__setattr__``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["slot_setters"]


def slot_setters(cls: type) -> dict[str, Callable[[Any, Any], None]]:
    """``{field: setter}`` writing a frozen attrs class's slots directly (unchecked builds)."""
    return {field.name: vars(cls)[field.name].__set__ for field in attrs.fields(cls)}

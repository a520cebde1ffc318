"""Bad inputs, one file of cases per area; ``tests/test_adversarial.py`` runs them all.

Each :class:`Case` calls one public entry (or the command line) with one bad input and names
the error class it must raise; ``unchanged`` (optional) checks afterwards that nothing was
half-applied (a store, a file, an object).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Case"]


@dataclass(frozen=True)
class Case:
    """One bad input: what to call, the error it must raise, and what must be unchanged."""

    id: str
    call: Callable[[], object]
    error: type[BaseException]
    unchanged: Callable[[], bool] | None = None

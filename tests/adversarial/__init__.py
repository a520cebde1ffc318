"""Bad inputs, one file of cases per area; ``tests/test_adversarial.py`` runs them all.

Each :class:`Case` calls one public entry (or the command line) with one bad input and names
the error class it must raise; ``unchanged`` (optional) checks afterwards that nothing was
half-applied (a store, a file, an object).
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Case", "kept_folder"]


@dataclass(frozen=True)
class Case:
    """One bad input: what to call, the error it must raise, and what must be unchanged."""

    id: str
    call: Callable[[], object]
    error: type[BaseException]
    unchanged: Callable[[], bool] | None = None


_KEPT: list[tempfile.TemporaryDirectory[str]] = []


@functools.cache
def kept_folder(prefix: str) -> Path:
    """A temporary folder for the cases of one area (one per ``prefix``), made on first use and
    removed when the test process ends."""
    folder = tempfile.TemporaryDirectory(prefix=prefix)
    _KEPT.append(folder)
    return Path(folder.name)

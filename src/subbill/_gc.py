"""Fewer garbage collections while a bill run lasts (private).

A bill run allocates a few dozen short-lived records per invoice (lines, amounts,
explanations). CPython's cyclic collector looks at the youngest objects every 700 container
allocations, and each of those collections, and the older-generation ones they lead to,
walk objects that reference counting alone frees anyway: measured, 7 to 35 % of a run's
time. While at least one run lasts (:func:`fewer_collections`), the youngest generation's
threshold is raised to :data:`RUN_THRESHOLD`; the collector stays enabled and still
collects cycles, only less often. When the last run ends, the caller's threshold is put
back, unless the caller changed it meanwhile (then theirs stays). A caller whose threshold
is already higher, or who turned the collector off (threshold 0 or ``gc.disable()``), is
left as it is.

>>> import gc
>>> before = gc.get_threshold()
>>> with fewer_collections():
...     gc.get_threshold()[0] >= RUN_THRESHOLD or gc.get_threshold()[0] == 0
True
>>> gc.get_threshold() == before
True
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["RUN_THRESHOLD", "fewer_collections"]

#: The youngest generation's collection threshold while a run lasts (CPython's default: 700).
RUN_THRESHOLD: Final = 20_000

_LOCK = threading.Lock()


class _Scope:
    """The runs in progress, and what the first one found and set (one per process)."""

    active = 0
    saved: tuple[int, ...] | None = None  # the caller's thresholds, when this module set its
    applied: tuple[int, ...] | None = None  # what this module set


def _enter() -> None:
    with _LOCK:
        _Scope.active += 1
        if _Scope.active > 1:
            return
        current = gc.get_threshold()
        if current[0] == 0 or current[0] >= RUN_THRESHOLD:
            return  # the collector is off, or collects less often already: left as it is
        applied = (RUN_THRESHOLD, *current[1:])
        gc.set_threshold(*applied)
        _Scope.saved, _Scope.applied = current, applied


def _leave() -> None:
    with _LOCK:
        _Scope.active -= 1
        if _Scope.active:
            return
        saved, applied = _Scope.saved, _Scope.applied
        _Scope.saved = _Scope.applied = None
        if saved is not None and gc.get_threshold() == applied:
            gc.set_threshold(*saved)  # else the caller changed it meanwhile: theirs stays


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the youngest generation's threshold while the block (a run) lasts.

    Runs may nest or overlap (two generators, two threads): the caller's threshold is put
    back when the last one ends, whatever order they end in.
    """
    _enter()
    try:
        yield
    finally:
        _leave()

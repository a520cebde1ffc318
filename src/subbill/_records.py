"""Frozen attrs records built without their checks, and fast cached slots (private).

The billing engine builds values it has already validated (lines, explanations, invoices,
states, and the results a worker process sends back); :func:`slot_setters` lets it write
their slots directly, past the frozen class's ``__setattr__``.

A slotted attrs class with a :func:`functools.cached_property` keeps the cached value in a slot
and computes it from a ``__getattr__`` attrs adds. CPython 3.11 then specialises no attribute
read on the class (every ``line.amount`` takes the generic path, about three times slower).
:func:`fast_cached_slots` replaces that ``__getattr__`` by one small descriptor per cached
name, so the class's plain fields are read at full speed again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["cached_slot", "fast_cached_slots", "slot_setters"]

_T = TypeVar("_T")
_C = TypeVar("_C", bound=type)

#: ``{(module, qualname): {name: function}}`` of the :class:`cached_slot`s of classes that
#: :func:`fast_cached_slots` has not finished yet (attrs builds a new class and drops them).
_PENDING: dict[tuple[str, str], dict[str, Callable[[Any], Any]]] = {}


def slot_setters(cls: type) -> dict[str, Callable[[Any, Any], None]]:
    """``{field: setter}`` writing a frozen attrs class's slots directly (unchecked builds)."""
    return {field.name: vars(cls)[field.name].__set__ for field in attrs.fields(cls)}


class cached_slot(functools.cached_property[_T]):  # noqa: N801 - reads as the decorator it replaces
    """A :func:`functools.cached_property` of a class finished by :func:`fast_cached_slots`.

    attrs turns it into a slot as it does any cached property; the class decorator then puts a
    :class:`_CachedSlot` in front of that slot.
    """

    def __set_name__(self, owner: type[Any], name: str) -> None:
        """Note the function under its class's name, for :func:`fast_cached_slots`."""
        if "__getattr__" in vars(owner):
            raise TypeError(f"{owner.__qualname__}: cached_slot needs a class without __getattr__")
        super().__set_name__(owner, name)
        _PENDING.setdefault((owner.__module__, owner.__qualname__), {})[name] = self.func


class _CachedSlot:
    # The slot of a cached value: read it, or compute it once and store it there. ``__set__``
    # is the slot's own setter (a C method), so ``vars(cls)[name].__set__`` still writes the
    # slot as fast as for a plain field, and attrs' ``object.__setattr__`` reaches it.
    # ``__doc__`` is the function's (``help(Invoice.total)``), so the class has no docstring.

    __slots__ = ("__doc__", "__set__", "_func", "_get")

    def __init__(self, member: Any, func: Callable[[Any], Any]) -> None:
        self._get = member.__get__
        self.__set__ = member.__set__
        self._func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        """The stored value; on the first read, the function's, stored."""
        if obj is None:
            return self
        try:
            return self._get(obj, owner)
        except AttributeError:
            value = self._func(obj)
            self.__set__(obj, value)
            return value


def fast_cached_slots(cls: _C) -> _C:
    """Replace attrs' ``__getattr__`` of a slotted class by one descriptor per cached slot.

    Put it above ``@attrs.frozen`` on a class whose cached properties are :class:`cached_slot`.
    Reads and writes behave as before: a cached value is computed on its first read and stored
    in its slot; ``vars(cls)[name].__set__`` writes the slot.

    >>> import attrs
    >>> @fast_cached_slots
    ... @attrs.frozen
    ... class Box:
    ...     side: int
    ...     @cached_slot
    ...     def area(self) -> int:
    ...         return self.side * self.side
    >>> box = Box(3)
    >>> box.area, "__getattr__" in vars(Box)
    (9, False)
    """
    cached = _PENDING.pop((cls.__module__, cls.__qualname__), None)
    if not cached or "__getattr__" not in vars(cls):
        raise TypeError(f"{cls.__qualname__}: expected a slotted attrs class with cached_slot(s)")
    for name, func in cached.items():
        type.__setattr__(cls, name, _CachedSlot(vars(cls)[name], func))
    type.__delattr__(cls, "__getattr__")
    return cls

"""The checks every store applies to what it is given, written once so that the stores agree.

A write is given the value object it stores (``save_catalog(catalog)``…): anything else
is refused with an :class:`~subbill.errors.InvalidTypeError` naming the argument and the
class expected, before anything is written. A page of ids is 1 to :data:`MAX_LIMIT` long.
The options of a store (its numbering, the SQLite file's path and timeout) are checked
before a file is opened or created.

>>> from subbill.catalog import Catalog
>>> checked("catalog", None, Catalog)
Traceback (most recent call last):
...
subbill.errors.InvalidTypeError: catalog=None must be a Catalog
"""

from __future__ import annotations

import os
from typing import Final, TypeVar

from subbill._validate import brief, check_count, check_items, check_line, with_article
from subbill.billing import BillingState
from subbill.errors import InvalidTypeError, OutOfBoundsError
from subbill.invoices import InvoiceNumbering

__all__ = [
    "MAX_LIMIT",
    "MAX_TIMEOUT",
    "check_after",
    "check_flag",
    "check_key",
    "check_limit",
    "check_numbering",
    "check_path",
    "check_states",
    "check_timeout",
    "checked",
]

_T = TypeVar("_T")

#: The longest page of ids a store returns at once (``subscription_ids_after``'s ``limit``).
MAX_LIMIT: Final = 1_000_000
#: The longest a SQLite store waits for another process's write lock, in seconds.
MAX_TIMEOUT: Final = 3600


def checked(name: str, value: object, kind: type[_T]) -> _T:
    """Return ``value`` if it is a ``kind``; else an :class:`InvalidTypeError` naming ``name``."""
    if not isinstance(value, kind):
        raise InvalidTypeError(name, brief(value), with_article(kind.__name__))
    return value


def check_key(name: str, value: object) -> str:
    """Return ``value`` if it is an id a store can key a row with: one line of text.

    >>> check_key("subscription_id", 3)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: subscription_id=3 must be a non-empty str
    """
    text: str = check_line(name, value)
    return text


def check_states(states: object) -> list[tuple[str, BillingState]]:
    """Return ``states`` as a list if it holds ``(subscription_id, BillingState)`` pairs.

    >>> check_states([("S1",)])
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: states[0]=('S1',) must be a (subscription_id, BillingState) pair
    """  # noqa: E501  (the doctest shows the whole message)
    pairs = []
    for index, pair in enumerate(check_items("states", states, tuple)):
        if len(pair) != 2:
            raise InvalidTypeError(
                f"states[{index}]", brief(pair), "a (subscription_id, BillingState) pair"
            )
        key, state = pair
        pairs.append(
            (
                check_key(f"states[{index}][0]", key),
                checked(f"states[{index}][1]", state, BillingState),
            )
        )
    return pairs


def check_after(after: object) -> str | None:
    """Return ``after`` (where a page of ids starts) if it is a ``str`` or ``None``."""
    if after is not None and not isinstance(after, str):
        raise InvalidTypeError("after", brief(after), "a str or None")
    return after


def check_limit(limit: object) -> int:
    """Return ``limit`` if it is an int from 1 to :data:`MAX_LIMIT`.

    >>> check_limit(-1)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: limit=-1 must be an int from 1 to 1000000
    """
    return check_count("limit", limit, minimum=1, maximum=MAX_LIMIT)


def check_numbering(numbering: object) -> InvoiceNumbering:
    """Return ``numbering``, or the default :class:`InvoiceNumbering` for ``None``."""
    if numbering is None:
        return InvoiceNumbering()
    if not isinstance(numbering, InvoiceNumbering):
        raise InvalidTypeError("numbering", brief(numbering), "an InvoiceNumbering or None")
    return numbering


def check_path(path: object) -> str:
    """The text of a database file's ``path``: a ``str`` or an ``os.PathLike`` (a ``Path``).

    >>> check_path(123)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: path=123 must be a str or an os.PathLike (a Path)
    """
    text = os.fspath(path) if isinstance(path, os.PathLike) else path
    if not isinstance(text, str):
        raise InvalidTypeError("path", brief(path), "a str or an os.PathLike (a Path)")
    return text


def check_timeout(timeout: object) -> float:
    """Return ``timeout`` if it is a number of seconds above 0 and up to :data:`MAX_TIMEOUT`.

    An ``int`` or a ``float`` (seconds are not money); ``nan`` and infinities are out of
    bounds.

    >>> check_timeout(1e308)
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: timeout=1e+308 must be more than 0 and at most 3600 seconds
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise InvalidTypeError("timeout", brief(timeout), "a number of seconds (int or float)")
    if not 0 < timeout <= MAX_TIMEOUT:  # nan compares false: refused too
        raise OutOfBoundsError(
            "timeout", brief(timeout), f"more than 0 and at most {MAX_TIMEOUT} seconds"
        )
    return timeout


def check_flag(name: str, value: object) -> bool:
    """Return ``value`` if it is a ``bool`` (an option such as ``read_only``)."""
    if not isinstance(value, bool):
        raise InvalidTypeError(name, brief(value), "a bool")
    return value

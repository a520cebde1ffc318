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
from collections.abc import Callable, Mapping, Sequence, Set
from datetime import date, timedelta
from typing import Final, TypeVar

from subbill._validate import (
    CONTROL_CHARACTERS,
    brief,
    check_count,
    check_items,
    check_line,
    with_article,
)
from subbill.billing import BillingState
from subbill.dunning import DunningAction, DunningEvent
from subbill.errors import (
    InvalidArgumentError,
    InvalidTypeError,
    OutOfBoundsError,
    SubbillError,
)
from subbill.invoices import DocumentKind, Invoice, InvoiceNumbering, InvoiceStatus
from subbill.metering import UsageRecord, deduplicate, describe_record
from subbill.money import MAX_COMPUTED_DATE
from subbill.periods import check_date

__all__ = [
    "LATEST_BEFORE",
    "MAX_LIMIT",
    "MAX_TIMEOUT",
    "check_after",
    "check_before",
    "check_dunning_events",
    "check_flag",
    "check_key",
    "check_limit",
    "check_numbering",
    "check_optional_key",
    "check_path",
    "check_states",
    "check_subscription_ids",
    "check_timeout",
    "check_usage_records",
    "checked",
    "dunning_conflict",
    "new_usage_records",
    "usage_conflict",
]

_T = TypeVar("_T")
_K = TypeVar("_K", DunningEvent, DunningAction)

#: The longest page of ids a store returns at once (``subscription_ids_after``'s ``limit``).
MAX_LIMIT: Final = 1_000_000
#: The latest ``before`` of ``usage_records``: the day after the latest a record may be dated.
LATEST_BEFORE: Final = MAX_COMPUTED_DATE + timedelta(days=1)
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
    items = check_items("states", states, tuple)
    fast = _plain_states(items)
    return _states_one_by_one(items) if fast is None else fast


def _states_one_by_one(items: tuple[tuple[object, ...], ...]) -> list[tuple[str, BillingState]]:
    """:func:`check_states` of ``items``, pair by pair: the first one refused is named."""
    pairs: list[tuple[str, BillingState]] = []
    for index, pair in enumerate(items):
        if len(pair) != 2:
            raise InvalidTypeError(
                f"states[{index}]", brief(pair), "a (subscription_id, BillingState) pair"
            )
        key, state = pair
        # The names of the fields are written only for an error (a write of many states
        # checks each one): a key is checked under a placeholder, then again to name it.
        try:
            text = check_line("states[…][0]", key)
        except SubbillError:
            check_key(f"states[{index}][0]", key)  # raises the same error, named
            raise
        pairs.append((text, checked(f"states[{index}][1]", state, BillingState)))
    return pairs


def _plain_states(items: tuple[tuple[object, ...], ...]) -> list[tuple[str, BillingState]] | None:
    """``items`` as :func:`check_states` returns them when every one passes its checks.

    The same checks (a pair, a non-blank ``str`` key, a :class:`BillingState`), with the
    keys' characters searched at once (the controls are single characters: joined keys
    hold one exactly when a key does); ``None`` when any fails, for :func:`check_states` to
    name the first one as before.
    """
    pairs = []
    for pair in items:
        if len(pair) != 2:
            return None
        key, state = pair
        if not isinstance(key, str) or not key.strip() or not isinstance(state, BillingState):
            return None
        pairs.append((key, state))
    if CONTROL_CHARACTERS.search("".join(key for key, _ in pairs)) is not None:
        return None
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


def check_usage_records(records: object) -> tuple[UsageRecord, ...]:
    """Return ``records`` with each ``(subscription, key)`` once, in the order they came.

    A record given twice is kept once; two different records under one key are refused
    (:func:`~subbill.metering.deduplicate`'s :class:`~subbill.errors.InvalidArgumentError`).

    >>> check_usage_records([None])
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: records[0]=None must be a UsageRecord
    """
    return deduplicate(check_items("records", records, UsageRecord))


def usage_conflict(stored: UsageRecord, given: UsageRecord) -> InvalidArgumentError:
    """The error of a record whose key is stored already for another record.

    >>> from datetime import date
    >>> stored = UsageRecord(subscription="S1", metric="calls", quantity=3,
    ...                      used_on=date(2026, 3, 2), key="evt_1")
    >>> print(usage_conflict(stored, UsageRecord(subscription="S1", metric="calls",
    ...     quantity=4, used_on=date(2026, 3, 2), key="evt_1")))
    key='evt_1' of subscription 'S1' is stored already for another record (calls 3 on \
2026-03-02, given: calls 4 on 2026-03-02); a key names one record: nothing was added
    """
    return InvalidArgumentError(
        f"key={given.key!r} of subscription {given.subscription!r} is stored already for "
        f"another record ({describe_record(stored)}, given: {describe_record(given)}); a key "
        "names one record: nothing was added"
    )


def new_usage_records(
    records: Sequence[UsageRecord], stored: Mapping[tuple[str, str], UsageRecord]
) -> list[UsageRecord]:
    """The ``records`` not ``stored`` yet (by subscription and key), in their order.

    A record stored already with the same content is left out; one whose key is stored for
    another record is refused (:func:`usage_conflict`): the caller has written nothing yet.
    """
    new = []
    for record in records:
        found = stored.get((record.subscription, record.key))
        if found is None:
            new.append(record)
        elif found != record:
            raise usage_conflict(found, record)
    return new


def check_subscription_ids(subscription_ids: object) -> list[str]:
    """Return ``subscription_ids`` as a list without repeats, if each is a ``str``."""
    return list(dict.fromkeys(check_items("subscription_ids", subscription_ids, str)))


def check_before(before: object) -> date:
    """Return ``before`` if it is a date up to :data:`LATEST_BEFORE`.

    >>> check_before("2026-03-01")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidDateError: before='2026-03-01' must be a datetime.date (got str); ...
    """
    return check_date("before", before, latest=LATEST_BEFORE)


def dunning_conflict(key: str) -> InvalidArgumentError:
    """The refusal of a dunning event whose key is recorded already (or given twice).

    >>> print(dunning_conflict("F-1/courtesy"))
    dunning event key='F-1/courtesy' is recorded already: a step is recorded once per invoice (and a retry once per attempt)
    """  # noqa: E501  (the doctest shows the whole message)
    return InvalidArgumentError(
        f"dunning event key={key!r} is recorded already: a step is recorded once per invoice "
        "(and a retry once per attempt)"
    )


def check_dunning_events(events: object) -> list[DunningEvent]:
    """Return ``events`` as a list if they are dunning events with distinct keys.

    >>> check_dunning_events(["F-1/courtesy"])
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: events[0]='F-1/courtesy' must be a DunningEvent
    """
    return _distinct(list(check_items("events", events, DunningEvent)), dunning_conflict)


def _distinct(items: list[_K], conflict: Callable[[str], InvalidArgumentError]) -> list[_K]:
    """``items`` if their keys are distinct; else the conflict of the first key given twice."""
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            raise conflict(item.key)
        seen.add(item.key)
    return items


def check_dunning_actions(actions: object) -> list[DunningAction]:
    """Return ``actions`` as a list if they are dunning actions with distinct keys.

    >>> check_dunning_actions([1])
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: actions[0]=1 must be a DunningAction
    """
    return _distinct(list(check_items("actions", actions, DunningAction)), outbox_conflict)


def outbox_conflict(key: str) -> InvalidArgumentError:
    """The refusal of a dunning action queued already (or given twice).

    >>> print(outbox_conflict("F-1/courtesy"))
    dunning action key='F-1/courtesy' is queued already: an action is sent once
    """
    return InvalidArgumentError(
        f"dunning action key={key!r} is queued already: an action is sent once"
    )


def check_action_keys(keys: object) -> list[str]:
    """Return ``keys`` (dunning action keys, e.g. ``"F-1/courtesy"``) as a list of text.

    >>> check_action_keys("F-1/courtesy")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: keys='F-1/courtesy' must be a sequence of action keys
    """
    if isinstance(keys, str | bytes) or not isinstance(keys, Sequence | Set):
        raise InvalidTypeError("keys", brief(keys), "a sequence of action keys")
    return [check_line(f"keys[{index}]", key) for index, key in enumerate(keys)]


def check_optional_key(name: str, value: object) -> str | None:
    """Return ``value`` if it is ``None`` or an id a store can key a row with."""
    return None if value is None else check_key(name, value)


def check_invoice_numbers(numbers: object) -> list[str]:
    """Return ``numbers`` as a list if it is a sequence of invoice numbers (text, not one str)."""
    if isinstance(numbers, str | bytes) or not isinstance(numbers, Sequence):
        raise InvalidTypeError("invoices", brief(numbers), "a sequence of invoice numbers")
    return [check_key(f"invoices[{index}]", number) for index, number in enumerate(numbers)]


def in_dunning(invoice: Invoice, as_of: date) -> bool:
    """Whether a dunning run as of ``as_of`` reads ``invoice`` (the SQL stores' index, in Python).

    An invoice (not a credit note) that is not paid nor credited in full nor void now, or
    one credited in full by a credit note dated after ``as_of``.
    """
    if invoice.kind is not DocumentKind.INVOICE or invoice.status is InvoiceStatus.VOID:
        return False
    if invoice.status is not InvoiceStatus.PAID:
        return True
    return any(correction.credited_on > as_of for correction in invoice.corrections)

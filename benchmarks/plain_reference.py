"""A deliberately plain reference: the silver workload's one-line invoice, in plain Python.

The yardstick every row of ``make bench`` is also divided by. It bills what the silver
workload bills — a monthly price on a billing day, prorated on its first, partial period
(price × days ÷ days of the enclosing month, ``ROUND_HALF_UP`` to cents) — the way anyone
would write it in an afternoon: tuples, ``calendar.monthrange`` and ``Decimal``; no
validation, no taxes, no discounts, no explanation. Its speed only says how fast this
machine runs plain Python *right now*: a subbill figure divided by it is a figure in which
the machine's load and speed cancel out (see ``docs/benchmarks.md``).

>>> from datetime import date
>>> from decimal import Decimal
>>> subscription = PlainSubscription("S1", "C1", Decimal("50.00"), date(2025, 1, 15), 1)
>>> first, through = bill(subscription, as_of=date(2025, 1, 15), billed_through=None)
>>> first.total, first.lines[0].period_start, first.lines[0].period_end, through
(Decimal('27.42'), datetime.date(2025, 1, 15), datetime.date(2025, 2, 1), datetime.date(2025, 2, 1))
>>> renewal, through = bill(subscription, as_of=date(2025, 2, 1), billed_through=through)
>>> renewal.total, through
(Decimal('50.00'), datetime.date(2025, 3, 1))
>>> bill(subscription, as_of=date(2025, 2, 1), billed_through=through)
(None, datetime.date(2025, 3, 1))
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import NamedTuple

CENT = Decimal("0.01")
# Its own context: the caller's decimal context is neither read nor changed.
CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)


class PlainSubscription(NamedTuple):
    """A monthly subscription: price per month, first day, day of the month it renews on."""

    id: str
    customer: str
    price: Decimal
    start: date
    billing_day: int


class PlainLine(NamedTuple):
    """One invoice line: the period ``[period_start, period_end)`` and its amount."""

    period_start: date
    period_end: date
    days: int
    days_in_period: int
    amount: Decimal


class PlainInvoice(NamedTuple):
    """An invoice: whose, on which date, its lines and its total."""

    subscription: str
    customer: str
    issued_on: date
    lines: tuple[PlainLine, ...]
    total: Decimal


def billing_date(year: int, month: int, day: int) -> date:
    """``day`` of ``month`` (months past 12 roll into the next years), clamped to its end."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def cycle_of(day: date, billing_day: int) -> tuple[date, date]:
    """The monthly billing period ``[start, end)`` that contains ``day``."""
    start = billing_date(day.year, day.month, billing_day)
    if start > day:
        start = billing_date(day.year, day.month - 1, billing_day)
    return start, billing_date(start.year, start.month + 1, billing_day)


def bill(
    subscription: PlainSubscription, *, as_of: date, billed_through: date | None
) -> tuple[PlainInvoice | None, date | None]:
    """Bill in advance every period started by ``as_of``; the invoice and the new billed-through.

    ``billed_through`` is where the last invoice stopped (``None`` before the first one).
    """
    cursor = subscription.start if billed_through is None else billed_through
    lines = []
    while cursor <= as_of:
        cycle_start, cycle_end = cycle_of(cursor, subscription.billing_day)
        days = (cycle_end - cursor).days
        whole = (cycle_end - cycle_start).days
        amount = CONTEXT.divide(CONTEXT.multiply(subscription.price, Decimal(days)), whole)
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP, context=CONTEXT)
        lines.append(PlainLine(cursor, cycle_end, days, whole, amount))
        cursor = cycle_end
    if not lines:
        return None, billed_through
    total = CONTEXT.create_decimal(0)
    for line in lines:
        total = CONTEXT.add(total, line.amount)
    invoice = PlainInvoice(
        subscription.id,
        subscription.customer,
        as_of,
        tuple(lines),
        total.quantize(CENT, context=CONTEXT),
    )
    return invoice, cursor


def bill_all(
    subscriptions: Iterable[PlainSubscription],
    *,
    as_of: date,
    billed_through: Iterable[date | None],
) -> Iterator[tuple[PlainInvoice | None, date | None]]:
    """Bill each subscription with its billed-through date, streaming the results in order."""
    for subscription, through in zip(subscriptions, billed_through, strict=True):
        yield bill(subscription, as_of=as_of, billed_through=through)

"""A deliberately plain reference for the usage row: records summed, then priced by tiers.

What the usage row of ``make bench`` measures subbill against: the usage records of many
subscriptions for one month, each idempotency key once, summed per subscription and priced
by graduated tiers (each unit in the tier it falls in), rounded ``ROUND_HALF_UP`` to cents —
written the way anyone would in an afternoon: a dict, a loop and ``Decimal``; no
validation, no taxes, no explanation, no late records.

>>> from datetime import date
>>> from decimal import Decimal
>>> records = [PlainRecord("S1", "e1", date(2026, 3, 2), Decimal(1000)),
...            PlainRecord("S1", "e1", date(2026, 3, 2), Decimal(1000)),  # sent twice
...            PlainRecord("S1", "e2", date(2026, 3, 9), Decimal(200)),
...            PlainRecord("S1", "e3", date(2026, 4, 1), Decimal(5000))]  # April's
>>> bill_usage(records, start=date(2026, 3, 1), end=date(2026, 4, 1),
...            tiers=((Decimal(1000), Decimal("0.015")), (None, Decimal("0.020"))))
{'S1': Decimal('19.00')}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import NamedTuple

CENT = Decimal("0.01")
# Its own context: the caller's decimal context is neither read nor changed.
CONTEXT = Context(prec=28, rounding=ROUND_HALF_UP)

#: ``(up to, unit price)`` of each tier, the last one unbounded (``None``).
Tiers = Sequence[tuple[Decimal | None, Decimal]]


class PlainRecord(NamedTuple):
    """One usage record: whose, its idempotency key, the day it happened, how much."""

    subscription: str
    key: str
    used_on: date
    quantity: Decimal


def graduated(quantity: Decimal, tiers: Tiers) -> Decimal:
    """The price of ``quantity`` units, each in the tier it falls in (unrounded)."""
    total, lower = Decimal(0), Decimal(0)
    for upper, price in tiers:
        if quantity <= lower:
            break
        inside = quantity - lower if upper is None else min(quantity, upper) - lower
        total = CONTEXT.add(total, CONTEXT.multiply(inside, price))
        if upper is None:
            break
        lower = upper
    return total


def bill_usage(
    records: Iterable[PlainRecord], *, start: date, end: date, tiers: Tiers
) -> dict[str, Decimal]:
    """Each subscription's amount for ``[start, end)``: its records summed and priced."""
    seen: set[tuple[str, str]] = set()
    used: dict[str, Decimal] = {}
    for record in records:
        if (record.subscription, record.key) in seen:
            continue
        seen.add((record.subscription, record.key))
        if start <= record.used_on < end:
            used[record.subscription] = CONTEXT.add(
                used.get(record.subscription, Decimal(0)), record.quantity
            )
    return {
        subscription: graduated(quantity, tiers).quantize(CENT, context=CONTEXT)
        for subscription, quantity in used.items()
    }

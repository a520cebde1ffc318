"""Exact proration: which periods a subscription owes by a date, and for what share of each.

A partial period's factor is its days over the days of the billing period that encloses
it in the schedule (28–31 for monthly, 89–92 quarterly, 365/366 annual), kept as an exact
``Fraction``; a whole period counts exactly 1 whatever its length. Other conventions are
explicit :class:`ProrationBasis` policies.

>>> periods = billable_periods(date(2011, 2, 1), as_of=date(2011, 4, 13),
...                            frequency=MONTHLY, billing_day=13)
>>> [(str(p.period.start), str(p.factor)) for p in periods]
[('2011-02-01', '12/31'), ('2011-02-13', '1'), ('2011-03-13', '1'), ('2011-04-13', '1')]
>>> sum(p.factor for p in periods)
Fraction(105, 31)
"""

from __future__ import annotations

import enum
import functools
import itertools
from datetime import date
from decimal import ROUND_HALF_UP
from fractions import Fraction
from typing import Any

import attrs

from subbill._records import slot_setters
from subbill._validate import brief, instance_of
from subbill.errors import InvalidArgumentError, InvalidPeriodError, InvalidTypeError
from subbill.money import Money, Number, read_fraction
from subbill.periods import (
    BillingSchedule,
    Frequency,
    Grid,
    Period,
    check_date,
    grid_date,
    grid_for,
    grid_index,
    grid_of,
)

__all__ = [
    "BillablePeriod",
    "BillingTiming",
    "ProrationBasis",
    "billable_periods",
    "credit_unused",
    "day_count",
    "days360",
    "period_factor",
    "periods_over",
    "prorate",
]


_ONE = Fraction(1)


class BillingTiming(enum.Enum):
    """When a period is billed: at its start (in advance) or once it is over (in arrears)."""

    IN_ADVANCE = "in_advance"
    IN_ARREARS = "in_arrears"


class ProrationBasis(enum.Enum):
    """How a partial period is priced.

    - ``ACTUAL_DAYS`` (default): days used ÷ days of the enclosing billing period.
    - ``THIRTY_DAY_MONTH``: the 30/360 convention (see :func:`days360`); a period of n
      months counts 30·n days.
    - ``NONE``: a partial period is billed as a whole one.
    """

    ACTUAL_DAYS = "actual_days"
    THIRTY_DAY_MONTH = "thirty_day_month"
    NONE = "none"


def days360(start: date, end: date) -> int:
    """Count the days from ``start`` to ``end`` under the 30/360 convention.

    ``360·(y2−y1) + 30·(m2−m1) + (min(d2, 30) − min(d1, 30))``: every month counts 30 days,
    and the 31st counts as the 30th.

    >>> days360(date(2026, 5, 23), date(2026, 6, 15)), days360(date(2026, 2, 23), date(2026, 3, 15))
    (22, 22)
    """
    return (
        360 * (end.year - start.year)
        + 30 * (end.month - start.month)
        + (min(end.day, 30) - min(start.day, 30))
    )


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def period_factor(
    period: Period, *, cycle: Period, basis: ProrationBasis = ProrationBasis.ACTUAL_DAYS
) -> Fraction:
    """Return the share of billing period ``cycle`` that ``period`` (inside it) stands for.

    Under ``THIRTY_DAY_MONTH`` a partial period counts the 30/360 position of its end minus
    that of its start within the billing period (each kept within ``[0, 30·n]``), so the
    pieces of a period always add up to the whole period and a piece never costs more than
    it; as in the 30/360 convention, where the 31st counts as the 30th, a one-day piece at a
    month's end may count 0 days.

    >>> feb = Period(date(2026, 2, 1), date(2026, 3, 1))
    >>> period_factor(Period(date(2026, 2, 15), date(2026, 3, 1)), cycle=feb)
    Fraction(1, 2)
    >>> period_factor(Period(date(2026, 2, 15), date(2026, 3, 1)), cycle=feb,
    ...               basis=ProrationBasis.THIRTY_DAY_MONTH)
    Fraction(8, 15)
    """
    counted, whole = day_count(period, cycle=cycle, basis=basis)
    return Fraction(counted, whole)


def day_count(
    period: Period, *, cycle: Period, basis: ProrationBasis = ProrationBasis.ACTUAL_DAYS
) -> tuple[int, int]:
    """Return ``(days counted, days of the whole period)``: the factor before reduction.

    This is what an explanation shows (``12/28``, where the factor itself is ``3/7``).

    >>> cycle = Period(date(2026, 2, 13), date(2026, 3, 13))
    >>> day_count(Period(date(2026, 3, 1), date(2026, 3, 13)), cycle=cycle)
    (12, 28)
    >>> day_count(Period(date(2026, 3, 1), date(2026, 3, 13)), cycle=cycle,
    ...           basis=ProrationBasis.THIRTY_DAY_MONTH)
    (12, 30)
    """
    if period.start < cycle.start or period.end > cycle.end:
        raise InvalidPeriodError(
            f"period=[{period.start.isoformat()}, {period.end.isoformat()}) must lie inside "
            f"cycle=[{cycle.start.isoformat()}, {cycle.end.isoformat()})"
        )
    if basis is ProrationBasis.ACTUAL_DAYS:
        return period.days, cycle.days
    if basis is ProrationBasis.NONE:
        return cycle.days, cycle.days
    months = _months_between(cycle.start, cycle.end)
    if months < 1:
        raise InvalidArgumentError(
            f"basis={basis.value} needs a month-based billing period; "
            f"cycle=[{cycle.start.isoformat()}, {cycle.end.isoformat()}) is not a whole "
            "number of months"
        )
    whole = 30 * months
    if period == cycle:
        return whole, whole
    # A piece counts the 30/360 position of its end minus that of its start, both measured
    # from the period's start and kept within [0, 30·n]: the pieces of a period always add
    # up to it, however it is cut (a change on the 2nd gives 4 + 26 days, never 4 + 28).
    return _position(cycle, period.end, whole) - _position(cycle, period.start, whole), whole


def _position(cycle: Period, day: date, whole: int) -> int:
    """Where ``day`` falls in ``cycle`` under 30/360, from 0 (its start) to ``whole`` (its end)."""
    if day >= cycle.end:
        return whole
    return min(max(days360(cycle.start, day), 0), whole)


def _check_factor(_instance: Any, _attribute: Any, factor: Fraction) -> None:
    # 0 is possible under 30/360 only (a one-day piece that the convention counts as none).
    if not isinstance(factor, Fraction) or not 0 <= factor <= 1:
        raise InvalidArgumentError(f"factor={factor!r} must be a Fraction in [0, 1]")


@attrs.frozen(kw_only=True)
class BillablePeriod:
    """A period to bill and the exact share of a whole billing period it stands for.

    ``cycle`` is the schedule's billing period that encloses ``period`` (the same period
    when it is whole); it is what the factor's denominator counts, and what an invoice line
    shows to explain the amount. Two billable periods are equal when their period and
    factor are.
    """

    period: Period = attrs.field(validator=instance_of(Period))
    factor: Fraction = attrs.field(validator=_check_factor)
    cycle: Period = attrs.field(
        default=attrs.Factory(lambda self: self.period, takes_self=True), eq=False
    )
    basis: ProrationBasis = attrs.field(default=ProrationBasis.ACTUAL_DAYS, eq=False)

    @property
    def day_count(self) -> tuple[int, int]:
        """``(days counted, days of the billing period)`` behind the factor, unreduced."""
        return day_count(self.period, cycle=self.cycle, basis=self.basis)

    @property
    def is_partial(self) -> bool:
        """True when the period is shorter than its billing period."""
        return self.period != self.cycle

    def split(self, *, on: date) -> tuple[BillablePeriod, BillablePeriod]:
        """Cut at ``on`` into two billable periods of the same cycle and basis.

        Under ``ACTUAL_DAYS`` the two factors add up exactly to this one's.

        >>> whole = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1),
        ...                          frequency=MONTHLY)[0]
        >>> used, unused = whole.split(on=date(2026, 3, 13))
        >>> used.factor, unused.factor, used.factor + unused.factor
        (Fraction(12, 31), Fraction(19, 31), Fraction(1, 1))
        """
        first, second = self.period.split(on=on)
        return (
            BillablePeriod(
                period=first,
                factor=period_factor(first, cycle=self.cycle, basis=self.basis),
                cycle=self.cycle,
                basis=self.basis,
            ),
            BillablePeriod(
                period=second,
                factor=period_factor(second, cycle=self.cycle, basis=self.basis),
                cycle=self.cycle,
                basis=self.basis,
            ),
        )


def billable_periods(
    start: date,
    end: date | None = None,
    *,
    as_of: date,
    frequency: Frequency,
    billing_day: int | None = None,
    timing: BillingTiming = BillingTiming.IN_ADVANCE,
    basis: ProrationBasis = ProrationBasis.ACTUAL_DAYS,
    anchor: date | None = None,
) -> tuple[BillablePeriod, ...]:
    """Return the periods a subscription running over ``[start, end)`` owes by ``as_of``.

    Cycle dates come from :func:`~subbill.periods.schedule_for`: a
    :class:`~subbill.periods.BillingSchedule` anchored on the ``billing_day`` of ``start``'s
    month (default: ``start.day``), or on ``anchor`` when given. The result is a leading
    partial period when ``start`` is not a cycle date, whole periods (factor 1), and a
    trailing partial period when ``end`` is not a cycle date. ``IN_ADVANCE`` returns every
    period started by ``as_of``; ``IN_ARREARS`` every period ended by ``as_of``.

    Raises:
        InvalidDateError: a date argument is not a ``date``.
        InvalidPeriodError: ``end`` is not after ``start``.
        InvalidBillingDayError: ``billing_day`` is not 1–31 or the frequency is day-based.

    >>> periods = billable_periods(date(2026, 1, 10), date(2026, 3, 20), as_of=date(2026, 12, 31),
    ...                            frequency=MONTHLY, billing_day=1)
    >>> [(p.period.days, p.cycle.days, str(p.factor)) for p in periods]
    [(22, 31, '22/31'), (28, 28, '1'), (19, 31, '19/31')]
    """
    _check_span(start, end)
    check_date("as_of", as_of)
    if not isinstance(frequency, Frequency):
        raise InvalidTypeError("frequency", frequency, "a Frequency, e.g. MONTHLY")
    if not isinstance(timing, BillingTiming):
        raise InvalidTypeError("timing", timing, "a BillingTiming")
    if not isinstance(basis, ProrationBasis):
        raise InvalidTypeError("basis", basis, "a ProrationBasis")
    grid = grid_for(start, frequency, billing_day, anchor)
    _check_basis(basis, frequency)
    return _periods_over(
        start, end, grid, basis, until=as_of, in_advance=timing is BillingTiming.IN_ADVANCE
    )


def periods_over(
    start: date,
    end: date | None,
    *,
    schedule: BillingSchedule,
    basis: ProrationBasis = ProrationBasis.ACTUAL_DAYS,
    until: date | None = None,
    in_advance: bool = True,
) -> tuple[BillablePeriod, ...]:
    """Cut ``[start, end)`` along ``schedule``'s billing periods, each with its factor.

    With ``until``, stop at the pieces that start (``in_advance``) or end (in arrears)
    after it; without it, ``end`` is required. This is :func:`billable_periods` over a
    schedule you already have, e.g. to credit ``[change date, billed through)``.

    >>> from subbill.periods import schedule_for
    >>> schedule = schedule_for(date(2026, 1, 1), MONTHLY)
    >>> [str(p.factor) for p in periods_over(date(2026, 2, 15), date(2026, 4, 10),
    ...                                        schedule=schedule)]
    ['1/2', '1', '3/10']
    """
    if not isinstance(basis, ProrationBasis):
        raise InvalidTypeError("basis", basis, "a ProrationBasis")
    if not isinstance(schedule, BillingSchedule):
        raise InvalidTypeError("schedule", schedule, "a BillingSchedule")
    _check_basis(basis, schedule.frequency)
    if end is None and until is None:
        raise InvalidArgumentError("end=None needs until= (an open-ended span never stops)")
    _check_span(start, end)
    if until is not None:
        check_date("until", until)
    return _periods_over(start, end, grid_of(schedule), basis, until=until, in_advance=in_advance)


def _check_span(start: date, end: date | None) -> None:
    """``start`` a date, and ``end`` (if any) a date after it."""
    check_date("start", start)
    if end is not None:
        check_date("end", end)
        if end <= start:
            raise InvalidPeriodError(
                f"end={end.isoformat()} must be after start={start.isoformat()}"
            )


def _check_basis(basis: ProrationBasis, frequency: Frequency) -> None:
    if basis is ProrationBasis.THIRTY_DAY_MONTH and not frequency.is_month_based:
        raise InvalidArgumentError(
            f"basis={basis.value} needs a month-based frequency, not frequency={frequency}"
        )


def _periods_over(
    start: date,
    end: date | None,
    grid: Grid,
    basis: ProrationBasis,
    *,
    until: date | None,
    in_advance: bool,
) -> tuple[BillablePeriod, ...]:
    """:func:`periods_over` once its arguments are checked, over the schedule's grid.

    A piece of the billing period ``start`` falls in when it is not a billing date, a run
    of whole periods (shared, from :func:`_whole_periods`), then a piece of the period
    ``end`` falls in; with ``until``, only the pieces that start (in advance) or end (in
    arrears) by it.
    """
    limit = date.max if until is None else until
    index = grid_index(grid, start)
    lead: tuple[BillablePeriod, ...] = ()
    cycle_start = grid_date(grid, index)
    if cycle_start < start:
        cycle_end = grid_date(grid, index + 1)
        piece_end = cycle_end if end is None or end > cycle_end else end
        if (start if in_advance else piece_end) > limit:
            return ()
        lead = (_piece(start, piece_end, cycle_start, cycle_end, basis),)
        if end is not None and cycle_end >= end:
            return lead
        index += 1
    # Whole periods: those ending by ``end`` and, in advance, starting by ``until`` (in
    # arrears: ending by it). Grid period i ends by a day d when i + 1 <= the index of d.
    ends_by_end = _NO_LIMIT if end is None else grid_index(grid, end) - 1
    within_limit = (
        _NO_LIMIT if until is None else grid_index(grid, until) - (0 if in_advance else 1)
    )
    through = min(ends_by_end, within_limit)
    found = lead + _whole_run(grid, basis, index, through) if through >= index else lead
    if through < ends_by_end or end is None:
        return found  # stopped by ``until``
    # ``end`` falls in period through + 1: a last piece, unless it is that period's start.
    cycle_start = grid_date(grid, through + 1)
    if cycle_start == end or (cycle_start if in_advance else end) > limit:
        return found
    cycle_end = grid_date(grid, through + 2)
    return (*found, _piece(cycle_start, end, cycle_start, cycle_end, basis))


#: Beyond any grid index (the index of a span with no end or no limit).
_NO_LIMIT = 1 << 62
#: Whole periods per shared block (see :func:`_whole_periods`).
_BLOCK = 16


def _whole_run(
    grid: Grid, basis: ProrationBasis, first: int, through: int
) -> tuple[BillablePeriod, ...]:
    """The whole grid periods ``first`` … ``through`` (``first <= through``) on ``basis``."""
    block, stop = divmod(first, _BLOCK)
    last_block, last_stop = divmod(through, _BLOCK)
    if block == last_block:
        return _whole_periods(grid, basis, block)[stop : last_stop + 1]
    if block + 1 == last_block:
        return (
            _whole_periods(grid, basis, block)[stop:]
            + _whole_periods(grid, basis, last_block)[: last_stop + 1]
        )
    blocks = [_whole_periods(grid, basis, b) for b in range(block, last_block + 1)]
    blocks[0], blocks[-1] = blocks[0][stop:], blocks[-1][: last_stop + 1]
    return tuple(itertools.chain.from_iterable(blocks))


@functools.lru_cache(maxsize=4096)
def _whole_periods(grid: Grid, basis: ProrationBasis, block: int) -> tuple[BillablePeriod, ...]:
    """The grid's whole periods ``16·block`` … ``16·block + 15`` on ``basis``, each of factor 1.

    Immutable values, shared by every call that bills them: the periods of one grid are the
    same whatever the span that needs them. The cache is bounded: 4096 blocks of 16 periods,
    about 11 MB when full.
    """
    first = block * _BLOCK
    dates = [grid_date(grid, index) for index in range(first, first + _BLOCK + 1)]
    cycles = [Period._make(start, end) for start, end in itertools.pairwise(dates)]
    return tuple(_billable(cycle, _ONE, cycle, basis) for cycle in cycles)


def _piece(
    start: date, end: date, cycle_start: date, cycle_end: date, basis: ProrationBasis
) -> BillablePeriod:
    """The billable piece ``[start, end)`` of the billing period ``[cycle_start, cycle_end)``."""
    cycle = Period._make(cycle_start, cycle_end)  # computed from valid dates
    piece = Period._make(start, end)
    return _billable(piece, _fraction(*day_count(piece, cycle=cycle, basis=basis)), cycle, basis)


#: ``Fraction(counted, whole)``, reduced once per pair (a bounded cache): the factors of
#: partial periods repeat (12/31, 19/28, …).
_fraction = functools.lru_cache(maxsize=8192)(Fraction)


def _billable(
    period: Period, factor: Fraction, cycle: Period, basis: ProrationBasis
) -> BillablePeriod:
    billable = object.__new__(BillablePeriod)
    set_period, set_factor, set_cycle, set_basis = _BILLABLE_SLOTS
    set_period(billable, period)
    set_factor(billable, factor)
    set_cycle(billable, cycle)
    set_basis(billable, basis)
    return billable


_BILLABLE_SLOTS = tuple(slot_setters(BillablePeriod).values())


def prorate(amount: Money, factor: Number, *, rounding: str = ROUND_HALF_UP) -> Money:
    """Return ``amount × factor`` rounded to the currency's minor unit.

    >>> prorate(Money("50.00", "EUR"), Fraction(12, 31))
    Money('19.35', 'EUR')
    """
    if not isinstance(amount, Money):
        raise InvalidTypeError("amount", amount, "a Money")
    exact = read_fraction(factor, "factor")
    if exact < 0:
        raise InvalidArgumentError(f"factor={brief(factor)!r} must be >= 0")
    return (amount * exact).rounded(rounding)


def credit_unused(
    price: Money, billed: BillablePeriod, *, on: date, rounding: str = ROUND_HALF_UP
) -> Money:
    """Return the credit for the part of ``billed`` from ``on`` to its end, at ``price``.

    ``price`` is the price of one whole billing period (what a factor of 1 costs). The credit
    mirrors what was charged: it is what ``billed`` cost minus what the used part
    ``[start, on)`` costs on the same basis, each rounded once, so that charged − credited is
    exactly what billing with the end known charges (the billing engine bills the same
    difference, after discounts). Before the period it credits all that was billed; after
    it, nothing; under ``ProrationBasis.NONE`` a used part counts whole, so nothing.

    >>> march = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY)[0]
    >>> credit_unused(Money("31.00", "EUR"), march, on=date(2026, 3, 13))
    Money('19.00', 'EUR')
    >>> credit_unused(Money("10.00", "EUR"), march, on=date(2026, 3, 3))  # 10.00 − 0.65
    Money('9.35', 'EUR')
    """
    check_date("on", on)
    charged = prorate(price, billed.factor, rounding=rounding)
    if on <= billed.period.start:
        return charged
    if on >= billed.period.end:
        return Money.zero(price.currency)
    used = billed.split(on=on)[0].factor
    return charged - prorate(price, used, rounding=rounding)

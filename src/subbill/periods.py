"""The billing calendar: frequencies, half-open periods, billing-day schedules, billing starts.

Billing dates are counted from an anchor, never from the previous date, so a billing day
of 31 gives 31 Jan, 28 Feb, 31 Mar, 30 Apr and never drifts to the 28th:

>>> schedule = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY)
>>> [str(d) for d in itertools.islice(schedule.dates(), 4)]
['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']

Periods are half-open ``[start, end)``: ``Period(date(2026, 3, 1), date(2026, 4, 1))`` is
the whole of March, 31 days, and people are shown its inclusive last day, 31 March.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Self, TypeAlias

import attrs

from subbill._validate import brief, check_count, instance_of
from subbill.errors import (
    InvalidArgumentError,
    InvalidBillingDayError,
    InvalidDateError,
    InvalidFrequencyError,
    InvalidPeriodError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.money import (
    MAX_COMPUTED_DATE,
    MAX_DATE,
    MAX_FREQUENCY_DAYS,
    MAX_FREQUENCY_MONTHS,
    MAX_PAYMENT_TERMS_DAYS,
    MIN_COMPUTED_DATE,
    MIN_DATE,
)

__all__ = [
    "ANNUAL",
    "DAILY",
    "MONTHLY",
    "QUARTERLY",
    "SEMIANNUAL",
    "WEEKLY",
    "AfterDays",
    "AfterMonths",
    "AnyBillingStart",
    "BillingSchedule",
    "BillingStart",
    "Frequency",
    "FrequencyUnit",
    "Grid",
    "Immediately",
    "OnDate",
    "Period",
    "StartKind",
    "add_months",
    "check_billing_date",
    "check_date",
    "check_payment_terms_days",
    "days_in_month",
    "grid_date",
    "grid_for",
    "grid_index",
    "grid_of",
    "schedule_for",
]

_ONE_DAY = timedelta(days=1)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_date(
    name: str,
    value: object,
    *,
    latest: date = MAX_COMPUTED_DATE,
    earliest: date = MIN_COMPUTED_DATE,
) -> date:
    """Return ``value`` if it is a plain ``date`` (not a ``datetime``) within the bounds.

    Used by every function that takes a date, so that a ``datetime`` (whose time and time
    zone would be silently dropped) or ``None`` gets a clear error naming the argument, and
    a date outside 1800-01-01 … 3099-12-31 is refused where it comes in, not as "year out
    of range" when a period after it is computed. Dates that start or end billing are
    held to 1900-01-01 … 2999-12-31 (:func:`check_billing_date`): what is computed before
    and after them (an enclosing cycle, a period's end, a due date) stays within the bounds.

    >>> check_date("as_of", date(9999, 12, 31))
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: as_of=datetime.date(9999, 12, 31) must be between ...
    """
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidDateError(name, value)
    if not earliest <= value <= latest:
        raise OutOfBoundsError(
            name, value, f"between {earliest.isoformat()} and {latest.isoformat()}"
        )
    return value


def check_billing_date(name: str, value: object) -> date:
    """Like :func:`check_date`, for a date that starts or ends billing: up to 2999-12-31.

    >>> check_billing_date("start", date(3000, 1, 1))
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: start=datetime.date(3000, 1, 1) must be between 1900-01-01 ...
    """
    return check_date(name, value, latest=MAX_DATE, earliest=MIN_DATE)


def check_payment_terms_days(value: object, name: str = "payment_terms_days") -> int:
    """Return ``value`` if it is an int of days from 0 to 365, else raise.

    >>> check_payment_terms_days(30)
    30
    >>> check_payment_terms_days(10**9)
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: payment_terms_days=1000000000 must be at most 365 days
    """
    return _check_int(name, value, minimum=0, maximum=MAX_PAYMENT_TERMS_DAYS, unit="days")


def _check_int(
    name: str,
    value: object,
    *,
    minimum: int,
    maximum: int,
    unit: str,
    error: type[InvalidArgumentError | InvalidFrequencyError] = InvalidArgumentError,
) -> int:
    """An int from ``minimum`` (else ``error``) to ``maximum`` (else OutOfBoundsError)."""
    value = check_count(name, value, minimum=minimum, error=error)
    if value > maximum:
        raise OutOfBoundsError(name, brief(value), f"at most {maximum} {unit}")
    return value


def days_in_month(year: int, month: int) -> int:
    """Return the number of days of ``month`` in ``year`` (Gregorian calendar).

    >>> days_in_month(2026, 2), days_in_month(2028, 2), days_in_month(2100, 2)
    (28, 29, 28)
    """
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(day: date, months: int, *, billing_day: int | None = None) -> date:
    """Move ``day`` by ``months`` calendar months, clamping to the end of shorter months.

    The result falls on ``billing_day`` (default: ``day.day``) or on the last day of the
    target month when that month is shorter.

    >>> add_months(date(2026, 1, 31), 1)
    datetime.date(2026, 2, 28)
    >>> add_months(date(2026, 2, 28), 1, billing_day=31)
    datetime.date(2026, 3, 31)
    >>> add_months(date(2026, 3, 31), -1)
    datetime.date(2026, 2, 28)
    >>> add_months(date(2026, 3, 31), 1, billing_day=-1)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidBillingDayError: billing_day=-1 must be an int from 1 to 31
    """
    if type(day) is not date:  # a datetime too: its time would be silently dropped
        raise InvalidDateError("day", day)
    if type(months) is not int:  # a bool too
        raise InvalidTypeError("months", brief(months), "an int")
    if billing_day is not None:
        _check_billing_day_number(billing_day)
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise OutOfBoundsError(
            "months",
            brief(months),
            f"small enough to stay within years 1-9999 from {day.isoformat()}",
        )
    wanted = day.day if billing_day is None else billing_day
    return date(year, month0 + 1, min(wanted, days_in_month(year, month0 + 1)))


def _add_days(day: date, days: int) -> date:
    """``day`` moved by ``days``; a move beyond years 1-9999 is OutOfBoundsError."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise OutOfBoundsError(
            "days",
            brief(days),
            f"small enough to stay within years 1-9999 from {day.isoformat()}",
        ) from None


# -- Frequency -------------------------------------------------------------------------------


class FrequencyUnit(enum.Enum):
    """The two units a frequency is counted in (weeks are 7 days, years 12 months)."""

    DAY = "day"
    MONTH = "month"


#: How each constructor counts: its unit, how many units one of its steps is, and its bound
#: in steps (ten years) with the words the error shows.
_STEPS: dict[str, tuple[FrequencyUnit, int, int, str]] = {
    "days": (FrequencyUnit.DAY, 1, MAX_FREQUENCY_DAYS, "days (ten years)"),
    "weeks": (FrequencyUnit.DAY, 7, MAX_FREQUENCY_DAYS // 7, "weeks (ten years)"),
    "months": (FrequencyUnit.MONTH, 1, MAX_FREQUENCY_MONTHS, "months (ten years)"),
    "years": (FrequencyUnit.MONTH, 12, MAX_FREQUENCY_MONTHS // 12, "years"),
}


def _check_count(name: str, value: object, steps: str) -> int:
    """A count from 1 (else InvalidFrequencyError) to the bound of ``steps`` (else OutOfBounds)."""
    _unit, _size, maximum, words = _STEPS[steps]
    return _check_int(
        name, value, minimum=1, maximum=maximum, unit=words, error=InvalidFrequencyError
    )


def _check_frequency_count(instance: Frequency, _attribute: Any, count: int) -> None:
    _check_count("count", count, "months" if instance.unit is FrequencyUnit.MONTH else "days")


_ISO_PATTERN = re.compile(r"^P(\d+)([DWMY])$")
_NAMES: dict[str, tuple[FrequencyUnit, int]] = {
    "daily": (FrequencyUnit.DAY, 1),
    "weekly": (FrequencyUnit.DAY, 7),
    "biweekly": (FrequencyUnit.DAY, 14),
    "monthly": (FrequencyUnit.MONTH, 1),
    "bimonthly": (FrequencyUnit.MONTH, 2),
    "quarterly": (FrequencyUnit.MONTH, 3),
    "semiannual": (FrequencyUnit.MONTH, 6),
    "annual": (FrequencyUnit.MONTH, 12),
    "yearly": (FrequencyUnit.MONTH, 12),
    "biennial": (FrequencyUnit.MONTH, 24),
}
_WORDS = re.compile(r"^(\d+)\s*(day|week|month|year)s?$")


@attrs.frozen(kw_only=True, cache_hash=True)
class Frequency:
    """How often a recurring charge is billed: a count of days or of months.

    Weeks are stored as 7 days and years as 12 months, so ``Frequency.years(1) == ANNUAL``.
    Month-based frequencies fall on a billing day and clamp to the end of shorter months.

    >>> Frequency.weeks(2) == Frequency.days(14), Frequency.years(1) == ANNUAL
    (True, True)

    A frequency is at most ten years: 120 months, 3660 days (522 weeks).

    >>> Frequency.months(0)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidFrequencyError: months=0 must be an int >= 1
    >>> Frequency.months(10**9)
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: months=1000000000 must be at most 120 months (ten years)
    """

    unit: FrequencyUnit = attrs.field(validator=instance_of(FrequencyUnit))
    count: int = attrs.field(validator=_check_frequency_count)

    @classmethod
    def _counted(cls, steps: str, n: int) -> Self:
        """Every ``n`` ``steps`` (``days``, ``weeks``, ``months``, ``years``; see _STEPS)."""
        unit, size, _maximum, _words = _STEPS[steps]
        return cls(unit=unit, count=size * _check_count(steps, n, steps))

    @classmethod
    def days(cls, n: int) -> Self:
        """Every ``n`` days (at most 3660)."""
        return cls._counted("days", n)

    @classmethod
    def weeks(cls, n: int) -> Self:
        """Every ``n`` weeks (stored as ``7 * n`` days; at most 522 weeks)."""
        return cls._counted("weeks", n)

    @classmethod
    def months(cls, n: int) -> Self:
        """Every ``n`` calendar months (at most 120)."""
        return cls._counted("months", n)

    @classmethod
    def years(cls, n: int) -> Self:
        """Every ``n`` years (stored as ``12 * n`` months; at most 10 years)."""
        return cls._counted("years", n)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read a frequency from a name, an ISO 8601 duration or words.

        >>> [str(Frequency.parse(t)) for t in ("monthly", "P3M", "P1Y", "2 weeks", "P10D")]
        ['P1M', 'P3M', 'P1Y', 'P2W', 'P10D']
        """
        if not isinstance(text, str):
            raise InvalidFrequencyError(f"frequency={text!r} must be a str such as 'monthly'")
        key = text.strip().lower()
        if key in _NAMES:
            unit, count = _NAMES[key]
            return cls(unit=unit, count=count)
        match = _ISO_PATTERN.match(key.upper()) or _WORDS.match(key)
        if match is None:
            raise InvalidFrequencyError(
                f"frequency={text!r} must be a name ({', '.join(sorted(_NAMES))}), "
                "an ISO 8601 duration such as 'P3M', or words such as '2 weeks'"
            )
        digits, unit_text = match.group(1), match.group(2).upper()[0]
        if len(digits) > 6:  # int() of 5000 digits would raise ValueError
            raise OutOfBoundsError("frequency", text, "at most ten years")
        steps = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}[unit_text]
        return cls._counted(steps, int(digits))

    @property
    def is_month_based(self) -> bool:
        """True for frequencies counted in months (monthly, quarterly, annual, …)."""
        return self.unit is FrequencyUnit.MONTH

    def advance(self, day: date, n: int = 1, *, billing_day: int | None = None) -> date:
        """Return ``day`` moved by ``n`` periods (month-based: clamped to the month's end).

        >>> MONTHLY.advance(date(2026, 1, 31)), Frequency.weeks(1).advance(date(2026, 1, 31))
        (datetime.date(2026, 2, 28), datetime.date(2026, 2, 7))
        """
        if self.unit is FrequencyUnit.MONTH:
            return add_months(day, self.count * n, billing_day=billing_day)
        return _add_days(day, self.count * n)

    def __str__(self) -> str:
        """The ISO 8601 duration of one period: ``P1M``, ``P3M``, ``P1Y``, ``P1W``, ``P10D``."""
        if self.unit is FrequencyUnit.MONTH:
            return f"P{self.count // 12}Y" if self.count % 12 == 0 else f"P{self.count}M"
        return f"P{self.count // 7}W" if self.count % 7 == 0 else f"P{self.count}D"


DAILY = Frequency.days(1)
WEEKLY = Frequency.weeks(1)
MONTHLY = Frequency.months(1)
QUARTERLY = Frequency.months(3)
SEMIANNUAL = Frequency.months(6)
ANNUAL = Frequency.months(12)


# -- Period -----------------------------------------------------------------------------------


def _check_period(instance: Period, _attribute: Any, end: date) -> None:
    check_date("start", instance.start)
    check_date("end", end)
    if end <= instance.start:
        raise InvalidPeriodError(
            f"end={end.isoformat()} must be after start={instance.start.isoformat()} "
            "(a period is half-open: [start, end))"
        )


@attrs.frozen(order=True)
class Period:
    """A half-open span of days ``[start, end)``: ``start`` is in it, ``end`` is not.

    >>> march = Period(date(2026, 3, 1), date(2026, 4, 1))
    >>> march.days, date(2026, 3, 31) in march, date(2026, 4, 1) in march
    (31, True, False)
    >>> march.last_day
    datetime.date(2026, 3, 31)
    """

    start: date
    end: date = attrs.field(validator=_check_period)

    @classmethod
    def _make(cls, start: date, end: date) -> Self:
        """Build without validation, for periods computed from valid ones."""
        period = object.__new__(cls)
        _set_start(period, start)
        _set_end(period, end)
        return period

    @classmethod
    def inclusive(cls, first: date, last: date) -> Self:
        """Build from the first and last days as people write them (both included).

        >>> Period.inclusive(date(2026, 3, 1), date(2026, 3, 31)).days
        31
        """
        return cls(check_date("first", first), check_date("last", last) + _ONE_DAY)

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        """The last day inside the period (``end`` minus one day), as shown to people."""
        return self.end - _ONE_DAY

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def overlaps(self, other: Period) -> bool:
        """Tell whether the two periods share at least one day."""
        return self.start < other.end and other.start < self.end

    def intersection(self, other: Period) -> Period | None:
        """Return the days both periods share, or ``None``.

        >>> Period(date(2026, 1, 1), date(2026, 3, 1)).intersection(
        ...     Period(date(2026, 2, 1), date(2026, 4, 1)))
        Period(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 3, 1))
        """
        start = max(self.start, other.start)
        end = min(self.end, other.end)
        return Period._make(start, end) if start < end else None

    def split(self, *, on: date) -> tuple[Period, Period]:
        """Cut into ``[start, on)`` and ``[on, end)``; ``on`` must be strictly inside."""
        check_date("on", on)
        if not self.start < on < self.end:
            raise InvalidPeriodError(
                f"on={on.isoformat()} must be strictly between start={self.start.isoformat()} "
                f"and end={self.end.isoformat()} to split the period"
            )
        return Period._make(self.start, on), Period._make(on, self.end)


# -- BillingSchedule ------------------------------------------------------------------------


_LAST_STEPPABLE = date(9999, 12, 31)
_MEMO_SIZE = 256  # days a schedule remembers the index of

# Period._make writes the two slots directly (the frozen class refuses attribute writes).
_set_start = vars(Period)["start"].__set__
_set_end = vars(Period)["end"].__set__


def _check_billing_day_number(value: object) -> int:
    """A billing day is an int from 1 to 31 (InvalidBillingDayError)."""
    return check_count("billing_day", value, minimum=1, maximum=31, error=InvalidBillingDayError)


def _check_billing_day(instance: BillingSchedule, _attribute: Any, value: int | None) -> None:
    if value is None:
        return
    _check_billing_day_number(value)
    if not instance.frequency.is_month_based:
        raise InvalidBillingDayError(
            f"billing_day={value!r} needs a month-based frequency; "
            f"frequency={instance.frequency} is counted in days"
        )
    anchor = instance.anchor
    expected = min(value, days_in_month(anchor.year, anchor.month))
    if anchor.day != expected:
        raise InvalidBillingDayError(
            f"anchor={anchor.isoformat()} must fall on billing_day={value} "
            f"(or the last day of a shorter month): expected "
            f"{anchor.replace(day=expected).isoformat()}"
        )


@attrs.frozen(kw_only=True)
class BillingSchedule:
    """The billing dates of a recurring charge: ``anchor + n × frequency``, for any int ``n``.

    For month-based frequencies every date falls on ``billing_day`` (default: the anchor's
    day) or on the last day of a shorter month, and is computed from the anchor, so the
    schedule never drifts.

    >>> s = BillingSchedule(anchor=date(2028, 1, 31), frequency=MONTHLY, billing_day=31)
    >>> s.nth(1), s.nth(-2)
    (datetime.date(2028, 2, 29), datetime.date(2027, 11, 30))
    >>> s.period_containing(date(2028, 3, 15))
    Period(start=datetime.date(2028, 2, 29), end=datetime.date(2028, 3, 31))
    """

    anchor: date = attrs.field(validator=lambda _i, _a, v: check_date("anchor", v))
    frequency: Frequency = attrs.field(validator=instance_of(Frequency))
    billing_day: int | None = attrs.field(default=None, validator=_check_billing_day)
    # Derived once, for the hot path of nth(): the anchor's month index and the billing day.
    _month_index: int = attrs.field(init=False, eq=False, repr=False)
    _day: int | None = attrs.field(init=False, eq=False, repr=False)
    # The index of each day asked (a memo, bounded): charges on one schedule ask for the
    # same billing dates over and over.
    _indices: dict[date, int] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        month_based = self.frequency.is_month_based
        day = self.anchor.day if self.billing_day is None else self.billing_day
        object.__setattr__(self, "_month_index", self.anchor.year * 12 + self.anchor.month - 1)
        object.__setattr__(self, "_day", day if month_based else None)
        object.__setattr__(self, "_indices", {})

    @classmethod
    def _on_cycle(
        cls, start: date, frequency: Frequency, billing_day: int | None
    ) -> BillingSchedule:
        """The schedule of the charges on the cycle of a subscription's fields.

        ``schedule_for(start, frequency, billing_day=billing_day)`` anchors the cycle (on
        ``billing_day`` of ``start``'s month, clamped; on ``start`` in days); a charge on it
        is given that anchor and :attr:`day`. This is ``BillingSchedule(anchor=anchor,
        frequency=frequency, billing_day=day)`` of them, built without the first schedule.
        It makes the checks ``schedule_for`` makes, by comparisons on the ordinary values
        (a ``date`` within the bounds, a billing day from 1 to 31 on a month-based
        frequency); any other value goes through ``schedule_for``'s checks, which raise
        their error (a subscription read unchecked from a row edited by hand):

        >>> BillingSchedule._on_cycle(date(2026, 1, 10), MONTHLY, 0)
        Traceback (most recent call last):
        ...
        subbill.errors.InvalidBillingDayError: billing_day=0 must be an int from 1 to 31
        """
        if start.__class__ is not date or not MIN_COMPUTED_DATE <= start <= MAX_COMPUTED_DATE:
            _schedule(start, frequency, billing_day, None)  # raises what the checks refuse
        day: int | None = None
        if frequency.__class__ is Frequency and frequency.unit is FrequencyUnit.MONTH:
            if billing_day is None:
                day = start.day
            elif billing_day.__class__ is int and 1 <= billing_day <= 31:
                day = billing_day
                if day != start.day:
                    last = days_in_month(start.year, start.month)
                    start = date(start.year, start.month, day if day <= last else last)
            else:
                _schedule(start, frequency, billing_day, None)  # raises InvalidBillingDayError
        elif billing_day is not None or frequency.__class__ is not Frequency:
            _schedule(start, frequency, billing_day, None)  # raises InvalidBillingDayError
        schedule = _new_schedule(cls)
        _SET_ANCHOR(schedule, start)
        _SET_FREQUENCY(schedule, frequency)
        _SET_BILLING_DAY(schedule, day)
        _SET_MONTH_INDEX(schedule, start.year * 12 + start.month - 1)
        _SET_DAY(schedule, day)
        _SET_INDICES(schedule, {})
        return schedule

    @property
    def day(self) -> int | None:
        """The day of the month billing falls on (``None`` for day-based frequencies)."""
        return self._day

    def nth(self, n: int) -> date:
        """Return the ``n``-th billing date (``nth(0)`` is the anchor; ``n`` may be negative).

        ``n`` is an int (not a bool): anything else raises
        :class:`~subbill.errors.InvalidTypeError`.
        """
        if n.__class__ is not int:  # one cheap check: the engine calls this per period
            raise InvalidTypeError("n", brief(n), "an int")
        day = self._day
        if day is None:
            return _add_days(self.anchor, self.frequency.count * n)
        year, month0 = divmod(self._month_index + self.frequency.count * n, 12)
        if not 1 <= year <= 9999:
            raise OutOfBoundsError(
                "n", brief(n), f"small enough to stay within years 1-9999 of {self.anchor}"
            )
        last = days_in_month(year, month0 + 1)
        return date(year, month0 + 1, day if day <= last else last)

    def dates(self) -> Iterator[date]:
        """Iterate the billing dates from the anchor on (an endless iterator)."""
        return self.dates_from(0)

    def dates_from(self, n: int) -> Iterator[date]:
        """Iterate the billing dates from the ``n``-th on: ``nth(n)``, ``nth(n + 1)`` and so on.

        Computed one step from the last (endless; it stops at year 9999).

        >>> s = BillingSchedule(anchor=date(2028, 1, 31), frequency=MONTHLY, billing_day=31)
        >>> it = s.dates_from(0)
        >>> [next(it) for _ in range(3)]
        [datetime.date(2028, 1, 31), datetime.date(2028, 2, 29), datetime.date(2028, 3, 31)]
        """
        first = self.nth(n)  # refuses an n that is not an int, or beyond the calendar, typed
        day = self._day
        step = self.frequency.count
        if day is None:
            current = first
            delta = timedelta(days=step)
            while True:
                yield current
                if current > _LAST_STEPPABLE - delta:
                    return
                current += delta
        index = self._month_index + step * n
        while True:
            year, month0 = divmod(index, 12)
            if not 1 <= year <= 9999:
                return
            last = days_in_month(year, month0 + 1)
            yield date(year, month0 + 1, day if day <= last else last)
            index += step

    def dates_through(self, n: int, last: date) -> list[date]:
        """The billing dates from the ``n``-th up to the first one on or after ``last``.

        What :meth:`dates_from` yields, stopped there (that date included), in one list.

        >>> s = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY)
        >>> [day.isoformat() for day in s.dates_through(0, date(2026, 3, 10))]
        ['2026-01-31', '2026-02-28', '2026-03-31']
        """
        check_date("last", last)
        self.nth(n)  # refuses an n that is not an int, or beyond the calendar, typed
        return self._dates_through(n, last)

    def _dates_through(self, n: int, last: date) -> list[date]:
        """:meth:`dates_through` without its checks, for the billing engine's hot path.

        ``n`` is the index of a day within the calendar (:meth:`index_of` of a checked date)
        and ``last`` a checked date: what the public method checks holds already.
        """
        day = self._day
        step = self.frequency.count
        found: list[date] = []
        append = found.append
        if day is None:
            current = self.nth(n)
            delta = timedelta(days=step)
            append(current)
            while current < last:
                current += delta
                append(current)
            return found
        index = self._month_index + step * n
        if day <= 28:  # on every month's calendar: no month end to clamp to
            while True:
                year, month0 = divmod(index, 12)
                current = date(year, month0 + 1, day)
                append(current)
                if current >= last:
                    return found
                index += step
        while True:
            year, month0 = divmod(index, 12)
            month = month0 + 1
            length = days_in_month(year, month)
            current = date(year, month, day if day <= length else length)
            append(current)
            if current >= last:
                return found
            index += step

    def _bounds(self, n: int) -> tuple[date, date]:
        """``(nth(n), nth(n + 1))`` without the checks of :meth:`nth`, for the engine's hot path.

        ``n`` is the index of a day within the calendar (:meth:`index_of` of a checked
        date): what :meth:`nth` checks holds already, as for :meth:`_dates_through`.
        """
        day = self._day
        step = self.frequency.count
        if day is None:
            low = self.nth(n)
            return low, low + timedelta(days=step)
        index = self._month_index + step * n
        year, month0 = divmod(index, 12)
        after, after0 = divmod(index + step, 12)
        if day <= 28:  # on every month's calendar: no month end to clamp to
            return date(year, month0 + 1, day), date(after, after0 + 1, day)
        last = days_in_month(year, month0 + 1)
        high = days_in_month(after, after0 + 1)
        return (
            date(year, month0 + 1, day if day <= last else last),
            date(after, after0 + 1, day if day <= high else high),
        )

    def index_of(self, day: date) -> int:
        """Return the ``n`` whose period ``[nth(n), nth(n + 1))`` contains ``day``.

        >>> BillingSchedule(anchor=date(2026, 1, 15), frequency=MONTHLY).index_of(
        ...     date(2025, 12, 14))
        -2
        """
        found = self._indices.get(day) if type(day) is date else None
        if found is not None:
            return found
        check_date("day", day)
        return self._index_of(day)

    def _index_of(self, day: date) -> int:
        """:meth:`index_of` of a checked date (a plain ``date`` within the computed bounds).

        The billing engine's: the days it asks are a checked ``as_of``, a state's dates (each
        checked when the state was built) and a charge's (checked billing dates). A charge
        built from a subscription has a schedule of its own: the memo serves the same day
        asked twice in one call (the day billed through is most often ``as_of``).
        """
        found = self._indices.get(day)
        if found is not None:
            return found
        billing_day = self._day
        count = self.frequency.count
        if billing_day is not None:
            # nth(n) falls in month _month_index + count × n: the last n whose month is not
            # after day's, unless that month is day's own and its billing date (the billing
            # day, clamped to the month's end) comes after day; nth(n + 1) is in a later month.
            year, month = day.year, day.month
            n, offset = divmod(year * 12 + month - 1 - self._month_index, count)
            if offset == 0 and day.day < billing_day and day.day < days_in_month(year, month):
                n -= 1
        else:
            n = (day - self.anchor).days // count
        if len(self._indices) < _MEMO_SIZE:
            self._indices[day] = n
        return n

    def period(self, n: int) -> Period:
        """Return the ``n``-th billing period ``[nth(n), nth(n + 1))``."""
        return Period._make(self.nth(n), self.nth(n + 1))

    def period_containing(self, day: date) -> Period:
        """Return the billing period that contains ``day``."""
        return self.period(self.index_of(day))


_new_schedule = object.__new__
(
    _SET_ANCHOR,
    _SET_FREQUENCY,
    _SET_BILLING_DAY,
    _SET_MONTH_INDEX,
    _SET_DAY,
    _SET_INDICES,
) = (vars(BillingSchedule)[field.name].__set__ for field in attrs.fields(BillingSchedule))

# -- BillingStart ---------------------------------------------------------------------------


class StartKind(enum.Enum):
    """How a recurring line's first billing date is chosen: the ``kind`` of each start class."""

    IMMEDIATELY = "immediately"
    ON_DATE = "on_date"
    AFTER_DAYS = "after_days"
    AFTER_MONTHS = "after_months"


class BillingStart:
    """When billing of a recurring line begins: at payment, on a date, or N days/months after.

    Each way is a small class — :class:`Immediately`, :class:`OnDate`, :class:`AfterDays`,
    :class:`AfterMonths` — that ``match`` tells apart (annotate with
    :data:`AnyBillingStart`); ``BillingStart`` builds them and is their common base, so
    ``isinstance(start, BillingStart)`` holds for each. Every one resolves against the
    payment date:

    >>> paid = date(2026, 1, 31)
    >>> BillingStart.after_months(1).resolve(paid_on=paid)
    datetime.date(2026, 2, 28)
    >>> BillingStart.after_days(30).resolve(paid_on=paid)
    datetime.date(2026, 3, 2)
    >>> BillingStart.on(date(2026, 1, 1)).resolve(paid_on=paid)  # a past date: due at payment
    datetime.date(2026, 1, 31)
    >>> match BillingStart.after_months(6):
    ...     case AfterMonths(n):
    ...         n
    6
    """

    __slots__ = ()

    #: Which of the four ways this is (what a stored document names it by).
    kind: ClassVar[StartKind]

    @staticmethod
    def immediately() -> Immediately:
        """Billing starts on the payment date.

        >>> BillingStart.immediately()
        Immediately()
        """
        return _IMMEDIATELY

    @staticmethod
    def on(day: date) -> OnDate:
        """Billing starts on a custom date (or at payment, if that date has passed).

        >>> BillingStart.on(date(2026, 3, 10))
        OnDate(day=datetime.date(2026, 3, 10))
        """
        return OnDate(check_billing_date("on", day))

    @staticmethod
    def after_days(n: int) -> AfterDays:
        """Billing starts ``n`` days after payment (at most 3660).

        >>> BillingStart.after_days(45)
        AfterDays(count=45)
        """
        return AfterDays(n)

    @staticmethod
    def after_months(n: int) -> AfterMonths:
        """Billing starts ``n`` calendar months after payment (at most 120).

        >>> BillingStart.after_months(6)
        AfterMonths(count=6)
        """
        return AfterMonths(n)

    def __init__(self, *_args: object, **fields: object) -> None:
        """Refused: ``BillingStart`` only builds and groups the four classes."""
        raise InvalidTypeError(
            "BillingStart",
            fields,
            "built by BillingStart.immediately(), .on(day), .after_days(n) or .after_months(n)",
        )

    def resolve(self, *, paid_on: date) -> date:  # pragma: no cover - each start has its own
        """Return the first billing date for a payment made on ``paid_on``."""
        raise NotImplementedError

    def is_deferred(self, *, paid_on: date) -> bool:
        """Tell whether billing starts after ``paid_on`` (the line is post-dated).

        >>> BillingStart.after_days(0).is_deferred(paid_on=date(2026, 1, 31))
        False
        """
        return self.resolve(paid_on=paid_on) > paid_on


@attrs.frozen
class Immediately(BillingStart):
    """Billing starts on the payment date."""

    kind = StartKind.IMMEDIATELY

    def resolve(self, *, paid_on: date) -> date:
        """``paid_on`` itself."""
        return check_date("paid_on", paid_on)


def _check_on_date(_instance: object, attribute: Any, day: date) -> None:
    check_billing_date(attribute.name, day)


@attrs.frozen
class OnDate(BillingStart):
    """Billing starts on ``day``, or at payment if ``day`` has passed by then."""

    kind = StartKind.ON_DATE

    day: date = attrs.field(validator=_check_on_date)

    def resolve(self, *, paid_on: date) -> date:
        """The later of ``day`` and ``paid_on``."""
        return max(self.day, check_date("paid_on", paid_on))


def _check_delay(maximum: int, unit: str) -> Any:
    def validate(_instance: object, attribute: Any, count: object) -> None:
        _check_int(attribute.name, count, minimum=0, maximum=maximum, unit=unit)

    return validate


@attrs.frozen
class AfterDays(BillingStart):
    """Billing starts ``count`` days after payment (0 to 3660)."""

    kind = StartKind.AFTER_DAYS

    count: int = attrs.field(validator=_check_delay(MAX_FREQUENCY_DAYS, "days (ten years)"))

    def resolve(self, *, paid_on: date) -> date:
        """``paid_on`` plus ``count`` days."""
        return _add_days(check_date("paid_on", paid_on), self.count)


@attrs.frozen
class AfterMonths(BillingStart):
    """Billing starts ``count`` calendar months after payment (0 to 120).

    Clamped to the month's end: paid on 31 January, one month after is 28 February.
    """

    kind = StartKind.AFTER_MONTHS

    count: int = attrs.field(validator=_check_delay(MAX_FREQUENCY_MONTHS, "months (ten years)"))

    def resolve(self, *, paid_on: date) -> date:
        """``paid_on`` moved by ``count`` months, clamped to the end of shorter months."""
        return add_months(check_date("paid_on", paid_on), self.count)


#: Any billing start: ``match`` on it covers the four cases.
AnyBillingStart: TypeAlias = Immediately | OnDate | AfterDays | AfterMonths

_IMMEDIATELY = Immediately()


def schedule_for(
    start: date,
    frequency: Frequency,
    *,
    billing_day: int | None = None,
    anchor: date | None = None,
) -> BillingSchedule:
    """Return the billing schedule of a charge starting on ``start``.

    Without ``anchor``, the schedule is anchored on the ``billing_day`` of ``start``'s month
    (clamped; default ``start.day``). With ``anchor`` (a billing-cycle anchor kept across
    plan changes), it is anchored there, on ``billing_day`` or the anchor's day.

    >>> schedule_for(date(2026, 2, 1), MONTHLY, billing_day=31).anchor
    datetime.date(2026, 2, 28)
    >>> schedule_for(date(2026, 5, 20), QUARTERLY, anchor=date(2026, 1, 1)).period_containing(
    ...     date(2026, 5, 20))
    Period(start=datetime.date(2026, 4, 1), end=datetime.date(2026, 7, 1))
    """
    if (
        type(start) is date
        and isinstance(frequency, Frequency)
        and (billing_day is None or type(billing_day) is int)
        and (anchor is None or type(anchor) is date)
    ):
        # A schedule is an immutable value: charges that start on the same day (a month's
        # cohort of subscriptions, the charges of one plan) share it.
        return _shared_schedule(start, frequency, billing_day, anchor)
    return _schedule(start, frequency, billing_day, anchor)


def _schedule(
    start: date, frequency: Frequency, billing_day: int | None, anchor: date | None
) -> BillingSchedule:
    if anchor is not None:
        check_date("anchor", anchor)
        return BillingSchedule(anchor=anchor, frequency=frequency, billing_day=billing_day)
    check_date("start", start)
    if not isinstance(frequency, Frequency) or not frequency.is_month_based:
        # BillingSchedule's validators refuse a bad frequency or billing day, with their words.
        return BillingSchedule(anchor=start, frequency=frequency, billing_day=billing_day)
    day = start.day if billing_day is None else _check_billing_day_number(billing_day)
    first = start.replace(day=min(day, days_in_month(start.year, start.month)))
    return BillingSchedule(anchor=first, frequency=frequency, billing_day=billing_day)


_shared_schedule = functools.lru_cache(maxsize=4096)(_schedule)


# -- The grid of a schedule (the fast path of proration) ----------------------------------

#: What a schedule's billing dates depend on, and nothing else: ``(True, step in months, the
#: anchor's month index modulo step, billing day)`` or ``(False, step in days, the anchor's
#: ordinal modulo step, 0)``. Schedules with the same grid have the same billing dates, only
#: numbered from another anchor: grid period ``i`` is ``[grid_date(grid, i),
#: grid_date(grid, i + 1))``, whatever the anchor.
Grid: TypeAlias = tuple[bool, int, int, int]


def grid_of(schedule: BillingSchedule) -> Grid:
    """The grid of ``schedule`` (its ``nth(n)`` is grid date ``n`` + the anchor's index)."""
    step = schedule.frequency.count
    day = schedule.day
    if day is None:
        return False, step, schedule.anchor.toordinal() % step, 0
    return True, step, schedule._month_index % step, day


def grid_for(
    start: date, frequency: Frequency, billing_day: int | None, anchor: date | None
) -> Grid:
    """The grid of ``schedule_for(start, frequency, billing_day=…, anchor=…)``.

    ``start`` is a checked date and ``frequency`` a Frequency. Without an anchor, a
    month-based schedule is anchored in ``start``'s month on ``billing_day`` (default
    ``start.day``): its grid is read from them without building the schedule. Any other
    case (and any bad billing day, for its typed error) goes through :func:`schedule_for`.
    """
    if (
        anchor is None
        and frequency.unit is FrequencyUnit.MONTH
        and (billing_day is None or (type(billing_day) is int and 1 <= billing_day <= 31))
    ):
        step = frequency.count
        month = start.year * 12 + start.month - 1
        return True, step, month % step, start.day if billing_day is None else billing_day
    return grid_of(schedule_for(start, frequency, billing_day=billing_day, anchor=anchor))


def grid_date(grid: Grid, index: int) -> date:
    """The first day of the grid's period ``index``: its billing date ``index``.

    >>> grid = grid_for(date(2026, 1, 31), MONTHLY, None, None)
    >>> grid_date(grid, grid_index(grid, date(2026, 2, 15)))  # still January's period
    datetime.date(2026, 1, 31)
    >>> grid_date(grid, grid_index(grid, date(2026, 2, 28)))  # the 31st, clamped
    datetime.date(2026, 2, 28)
    """
    month_based, step, residue, day = grid
    if not month_based:
        return date.fromordinal(residue + step * index)
    year, month0 = divmod(residue + step * index, 12)
    last = days_in_month(year, month0 + 1)
    return date(year, month0 + 1, day if day <= last else last)


def grid_index(grid: Grid, day: date) -> int:
    """The index of the grid's period that contains ``day``."""
    month_based, step, residue, billing_day = grid
    if not month_based:
        return (day.toordinal() - residue) // step
    index, offset = divmod(day.year * 12 + day.month - 1 - residue, step)
    # In the month of a billing date, a day before the billing day (clamped to the month's
    # end) belongs to the period before.
    if offset != 0 or day.day >= billing_day:
        return index
    return index - 1 if day.day < 28 or day.day < days_in_month(day.year, day.month) else index

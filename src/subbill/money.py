"""Exact money: a ``Decimal`` amount in one ISO 4217 currency.

Amounts keep full precision through arithmetic (50 significant digits, far beyond the 28
the library promises) and are rounded only when a document shows them, with
:meth:`Money.rounded`, to the currency's minor unit as babel's CLDR data gives it
(JPY 0 decimals, EUR 2, KWD 3). All arithmetic runs in a private ``decimal.Context``: the
caller's thread-local context is never read nor changed, so a result never depends on it.

>>> price = Money("19.99", "EUR")
>>> price * 3
Money('59.97', 'EUR')
>>> (Money("100", "EUR") / 3).rounded()
Money('33.33', 'EUR')
>>> [str(part) for part in Money("100.00", "EUR").split(3)]
['33.34 EUR', '33.33 EUR', '33.33 EUR']
"""

from __future__ import annotations

import decimal
import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Final, Self, TypeAlias

import attrs
from babel.numbers import get_currency_precision, list_currencies

from subbill._validate import brief, check_count
from subbill.errors import (
    CurrencyMismatchError,
    FloatAmountError,
    InvalidAllocationError,
    InvalidAmountError,
    InvalidArgumentError,
    InvalidTypeError,
    OutOfBoundsError,
    UnknownCurrencyError,
)

__all__ = [
    "DECIMAL_CONTEXT",
    "MAX_ALLOCATION_PARTS",
    "MAX_AMOUNT",
    "MAX_AMOUNT_PLACES",
    "MAX_COMPUTED_DATE",
    "MAX_DATE",
    "MAX_DISCOUNT_MONTHS",
    "MAX_DISCOUNT_PERIODS",
    "MAX_FREQUENCY_DAYS",
    "MAX_FREQUENCY_MONTHS",
    "MAX_PAYMENT_TERMS_DAYS",
    "MAX_PERCENT_PLACES",
    "MAX_QUANTITY",
    "MAX_QUANTITY_PLACES",
    "MIN_COMPUTED_DATE",
    "MIN_DATE",
    "ROUNDINGS",
    "ROUND_HALF_UP",
    "Money",
    "Number",
    "check_decimal",
    "check_money",
    "currency_precision",
    "is_currency",
    "minor_unit",
    "read_amount",
    "read_currency",
    "read_decimal",
    "read_fraction",
    "read_percent",
    "round_fraction",
    "round_preserving_sum",
]

#: What ``Money`` can be multiplied or divided by: exact numbers only.
Number: TypeAlias = int | Decimal | Fraction

# Every operation of this module runs in this context, never in the caller's.
#: The library's own decimal context: every computation passes it explicitly, so the
#: caller's context (``decimal.getcontext()``) is never read nor changed.
DECIMAL_CONTEXT = decimal.Context(
    prec=50,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

# -- bounds -------------------------------------------------------------------------------------
# What billing needs, written once: every validator of the library reads these. Within them
# every computation is exact (an amount has at most 15 + 9 digits, a period price
# ``unit_price × quantity`` at most 15 + 15, times a percentage at most 39: far inside the 50
# digits of the private context) and fast (no Fraction of a 10**-999999 amount); beyond them
# a value is refused with OutOfBoundsError where it is built, never at billing time.
# docs/bounds.md explains each one.

#: An amount (price, discount, payment, period price) is below this in magnitude (major units).
MAX_AMOUNT: Final = Decimal("1E+15")
#: Most decimal places of an amount: unit prices of 0.0004 per call, or 0.00000015 per token.
MAX_AMOUNT_PLACES: Final = 9
#: Most parts ``Money.split`` and ``Money.allocate`` make (a million: one per seat or line).
MAX_ALLOCATION_PARTS: Final = 1_000_000
#: Largest quantity (seats, units, calls), inclusive.
MAX_QUANTITY: Final = Decimal("1E+12")
#: Most decimal places of a quantity (2.5 GB, 0.000001 GB).
MAX_QUANTITY_PLACES: Final = 6
#: Most decimal places of a percentage (tax rate 8.875, discount 33.333333); 0 to 100 %.
MAX_PERCENT_PLACES: Final = 6
#: Longest frequency and billing-start delay counted in months: ten years.
MAX_FREQUENCY_MONTHS: Final = 120
#: Longest frequency and billing-start delay counted in days (or 7-day weeks): ten years.
MAX_FREQUENCY_DAYS: Final = 3660
#: Longest payment terms, in days.
MAX_PAYMENT_TERMS_DAYS: Final = 365
#: Longest discount duration counted in months (a hundred years: "forever" in practice).
MAX_DISCOUNT_MONTHS: Final = 1200
#: Longest discount duration counted in billing periods.
MAX_DISCOUNT_PERIODS: Final = 3660
#: Earliest date billing may start or end on (the earliest ``start``, ``due_on``, ``as_of``).
MIN_DATE: Final = date(1900, 1, 1)
#: Earliest date the library reads at all (a period's start, an explanation's cycle, a
#: payment date): a century of room before MIN_DATE, as MAX_COMPUTED_DATE leaves after
#: MAX_DATE, so the billing cycle that encloses a start on MIN_DATE (it may begin up to a
#: ten-year frequency earlier) is a value the library can build and read back.
MIN_COMPUTED_DATE: Final = date(1800, 1, 1)
#: Latest date billing may start or end on (a charge's start and end, a one-time charge's
#: due date, a billing start, a discount's start).
MAX_DATE: Final = date(2999, 12, 31)
#: Latest date the library reads at all (``as_of``, a payment date, a period's end): a
#: century of room for the periods, due dates and billing dates computed after MAX_DATE,
#: and far from year 9999, where ``datetime.date`` ends.
MAX_COMPUTED_DATE: Final = date(3099, 12, 31)


def _places(value: Decimal) -> int:
    """Decimal places of a finite ``value``, trailing zeros not counted (1.500 has 1)."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or not any(digits):
        return 0
    trailing = 0
    for digit in reversed(digits):
        if digit:
            break
        trailing += 1
    return max(0, -(exponent + trailing))


def check_decimal(
    name: str,
    value: Decimal,
    *,
    limit: Decimal,
    places: int,
    inclusive: bool = False,
    shown: object = None,
) -> Decimal:
    """Refuse a finite ``value`` beyond ``limit`` in magnitude or with more than ``places``.

    ``inclusive`` says whether ``limit`` itself is allowed; ``shown`` is the value as the
    caller gave it, for the message. Returns ``value`` written with at most ``places``
    decimals and no positive exponent (losslessly: only zeros are dropped or added), so
    ``Decimal("1.5000000000000")`` reads as ``1.500000000`` and ``Decimal("1E+3")`` as
    ``1000``. Runs in the private context: the caller's is never read.

    >>> check_decimal("x", Decimal("1E+3"), limit=MAX_AMOUNT, places=2)
    Decimal('1000')
    >>> check_decimal("x", Decimal("0.001"), limit=MAX_AMOUNT, places=2)
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: x=Decimal('0.001') must be written with at most 2 ...
    """
    magnitude = value.copy_abs()
    if magnitude > limit or (magnitude == limit and not inclusive):
        word = "at most" if inclusive else "below"
        raise OutOfBoundsError(
            name,
            brief(value if shown is None else shown),
            f"{word} 10^{limit.adjusted()} in magnitude",
        )
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # noqa: S101  (finite)
    if -places <= exponent <= 0:
        return value
    if exponent > 0:
        return value.quantize(_QUANTA[0], context=DECIMAL_CONTEXT)
    if _places(value) > places:
        raise OutOfBoundsError(
            name,
            brief(value if shown is None else shown),
            f"written with at most {places} decimal places",
        )
    return value.quantize(_QUANTA[places], context=DECIMAL_CONTEXT)


_QUANTA = tuple(Decimal(1).scaleb(-n, context=DECIMAL_CONTEXT) for n in range(13))
# A nonzero amount is at least MAX_AMOUNT in magnitude when its adjusted exponent is this.
_AMOUNT_DIGITS: Final = MAX_AMOUNT.adjusted()


@functools.cache
def _known_currencies() -> frozenset[str]:
    # XXX means "no currency" and XTS "for testing" in ISO 4217: never money to bill.
    return frozenset(list_currencies()) - {"XXX", "XTS"}


def is_currency(code: str) -> bool:
    """Tell whether ``code`` is an ISO 4217 currency code that babel knows.

    >>> is_currency("EUR"), is_currency("eur"), is_currency("EUX")
    (True, False, False)
    """
    return code in _known_currencies()


@functools.cache
def currency_precision(currency: str) -> int:
    """Return the number of decimals of ``currency``'s minor unit (from babel's CLDR data).

    >>> currency_precision("EUR"), currency_precision("JPY"), currency_precision("KWD")
    (2, 0, 3)
    """
    code = read_currency(currency)
    return int(get_currency_precision(code))


@functools.cache
def minor_unit(currency: str) -> Decimal:
    """Return one minor unit of ``currency`` as a ``Decimal``: the quantum amounts round to.

    >>> minor_unit("EUR"), minor_unit("JPY"), minor_unit("KWD")
    (Decimal('0.01'), Decimal('1'), Decimal('0.001'))
    """
    return Decimal(1).scaleb(-currency_precision(currency), context=DECIMAL_CONTEXT)


def read_currency(value: object) -> str:
    """Read an ISO 4217 code (``"eur"`` → ``"EUR"``); refuse one babel does not know.

    >>> read_currency(" eur ")
    'EUR'
    """
    if not isinstance(value, str):
        raise UnknownCurrencyError(value)
    code = value.strip().upper()
    if not is_currency(code):
        raise UnknownCurrencyError(value)
    return code


def read_decimal(value: object, name: str) -> Decimal:
    """Read an exact, finite number (``str``, ``int`` or ``Decimal``); never a float or a bool.

    Strings are parsed in the private context, so a bad one raises the same error whatever
    the caller's context (and sets none of its flags).

    >>> read_decimal(" 19.99 ", "amount")
    Decimal('19.99')
    """
    if isinstance(value, bool):
        raise InvalidAmountError(name, value, "a str, an int or a Decimal, not a bool")
    if isinstance(value, float):
        raise FloatAmountError(name, value)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        amount = _parse(value.strip(), name, value)
    else:
        raise InvalidAmountError(name, value, "a str, an int or a Decimal")
    if not amount.is_finite():
        raise InvalidAmountError(name, value, "a finite number")
    return amount


# Reads a plain decimal string exactly (no precision limit, nothing rounded) and fast; what
# it refuses (underscores, errors) goes through Decimal() in the private context.
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[
        decimal.InvalidOperation,
        decimal.Overflow,
        decimal.Underflow,
        decimal.Clamped,
        decimal.Inexact,
        decimal.Rounded,
        decimal.Subnormal,
    ],
)


def _parse(text: str, name: str, value: object) -> Decimal:
    try:
        return _EXACT.create_decimal(text)
    except (decimal.Overflow, decimal.Underflow, decimal.Subnormal):
        # an exponent beyond what Decimal holds at all: "1e99999999999999999999"
        raise OutOfBoundsError(name, brief(value), "a number Decimal can hold") from None
    except decimal.DecimalException:
        pass
    try:
        with decimal.localcontext(DECIMAL_CONTEXT):
            return Decimal(text)
    except decimal.InvalidOperation:
        raise InvalidAmountError(name, value, 'a decimal number such as "19.99"') from None


def read_amount(value: object, name: str = "amount") -> Decimal:
    """Read an amount within the bounds: ``|amount| < 10^15``, at most 9 decimal places."""
    amount = read_decimal(value, name)
    return check_decimal(name, amount, limit=MAX_AMOUNT, places=MAX_AMOUNT_PLACES, shown=value)


def read_percent(value: object, name: str = "percent") -> Decimal:
    """Read a percentage: an exact number with at most 6 decimal places.

    The range (0 to 100 for a tax rate, above 0 for a discount) is the caller's to check,
    with its own error: a value beyond 100 in magnitude is returned as read.

    >>> read_percent("8.875"), read_percent("120")
    (Decimal('8.875'), Decimal('120'))
    >>> read_percent("1e-999999")
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: percent='1e-999999' must be written with at most 6 ...
    """
    percent = read_decimal(value, name)
    if percent.copy_abs() > _HUNDRED:
        return percent
    return check_decimal(
        name, percent, limit=_HUNDRED, places=MAX_PERCENT_PLACES, inclusive=True, shown=value
    )


_HUNDRED: Final = Decimal(100)


def check_money(name: str, money: Money) -> Money:
    """Return ``money`` if its amount is within the bounds of an amount, else raise.

    For values that may come from arithmetic (``Money("1", "EUR") / 3`` has 48 decimal
    places) where a price or a discount is expected.

    >>> check_money("unit_price", Money("1", "EUR") / 3)
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: unit_price=Money('0.333...', 'EUR') must be written ...
    """
    amount = check_decimal(
        name, money.amount, limit=MAX_AMOUNT, places=MAX_AMOUNT_PLACES, shown=money
    )
    return money if amount is money.amount else Money._make(amount, money.currency)


def read_fraction(value: object, name: str) -> Fraction:
    """Read an exact number (int, Decimal, Fraction) as a Fraction; refuse anything else."""
    if isinstance(value, bool):
        raise InvalidAmountError(name, value, "an int, a Decimal or a Fraction, not a bool")
    if isinstance(value, float):
        raise FloatAmountError(name, value)
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmountError(name, value, "a finite number")
        return Fraction(value)
    raise InvalidAmountError(name, value, "an int, a Decimal or a Fraction")


def _scale(amount: Decimal, factor: object, name: str) -> Decimal:
    """Multiply ``amount`` by an exact number in the private context."""
    if isinstance(factor, int) and not isinstance(factor, bool):
        return DECIMAL_CONTEXT.multiply(amount, Decimal(factor))
    if isinstance(factor, Decimal) and factor.is_finite():
        return DECIMAL_CONTEXT.multiply(amount, factor)
    fraction = factor if type(factor) is Fraction else read_fraction(factor, name)
    return DECIMAL_CONTEXT.divide(
        DECIMAL_CONTEXT.multiply(amount, Decimal(fraction.numerator)), Decimal(fraction.denominator)
    )


def _divide(amount: Decimal, divisor: object, name: str) -> Decimal:
    """Divide ``amount`` by a non-zero exact number in the private context."""
    if isinstance(divisor, int) and not isinstance(divisor, bool) and divisor:
        return DECIMAL_CONTEXT.divide(amount, Decimal(divisor))
    if isinstance(divisor, Decimal) and divisor.is_finite() and divisor:
        return DECIMAL_CONTEXT.divide(amount, divisor)
    fraction = read_fraction(divisor, name)
    if fraction == 0:
        raise InvalidArgumentError(f"{name}={brief(divisor)!r} must not be zero")
    return _scale(amount, 1 / fraction, name)


def round_fraction(value: Fraction, rounding: str = ROUND_HALF_UP) -> int:
    """Round an exact fraction to an integer with a ``decimal.ROUND_*`` mode.

    >>> round_fraction(Fraction(5, 2)), round_fraction(Fraction(-5, 2))
    (3, -3)
    """
    quotient = DECIMAL_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return int(quotient.quantize(Decimal(1), rounding=rounding, context=DECIMAL_CONTEXT))


def round_preserving_sum(exact: Sequence[Fraction], total: int) -> list[int]:
    """Round exact values (in minor units, any sign) to integers that add up to ``total``.

    Each value is first rounded toward zero; the units still missing (or in excess) then go
    one each to the values with the largest remainders, ties to the earliest. ``total``
    must be within one unit per value of the exact sum (it is, when it is that sum rounded).

    >>> round_preserving_sum([Fraction(10, 3)] * 3, 10)
    [4, 3, 3]
    >>> round_preserving_sum([Fraction(-5, 2), Fraction(-5, 2)], -5)
    [-3, -2]
    """
    parts = [int(value) for value in exact]  # toward zero
    missing = total - sum(parts)
    step = 1 if missing >= 0 else -1
    if abs(missing) > len(parts):
        raise InvalidAllocationError(
            f"total={total} is more than one unit per part away from the exact sum "
            f"{sum(exact, Fraction(0))}"
        )
    # A unit added where the value is positive (or taken where negative) moves it toward
    # its exact value; prefer the largest remainders in that direction.
    order = sorted(range(len(parts)), key=lambda i: (-(step * (exact[i] - parts[i])), i))
    for index in order[: abs(missing)]:
        parts[index] += step
    return parts


@attrs.frozen(repr=False, order=False)
class Money:
    """An exact amount of one currency.

    Args:
        amount: a ``str``, ``int`` or ``Decimal``; a ``float`` is refused because it cannot
            hold 0.10 exactly.
        currency: an ISO 4217 code, any case (``"eur"`` becomes ``"EUR"``).

    Raises:
        FloatAmountError: ``amount`` is a float.
        InvalidAmountError: ``amount`` is not a finite decimal number.
        UnknownCurrencyError: ``currency`` is not an ISO 4217 code.

    Arithmetic (``+``, ``-``, comparisons) needs the same currency on both sides, else
    :class:`~subbill.errors.CurrencyMismatchError`; ``*`` and ``/`` take exact numbers.
    ``sum()`` works directly, or from ``Money.zero(currency)`` for a possibly empty list.

    >>> Money("0.10", "eur") + Money("0.20", "EUR") == Money("0.30", "EUR")
    True
    >>> sum([Money("1.50", "EUR"), Money("2.25", "EUR")])
    Money('3.75', 'EUR')
    >>> Money("10", "EUR") + Money("10", "USD")
    Traceback (most recent call last):
    ...
    subbill.errors.CurrencyMismatchError: cannot add EUR and USD: both amounts must be ...
    """

    amount: Decimal = attrs.field(converter=read_amount)
    currency: str = attrs.field(converter=read_currency)

    @classmethod
    def _make(cls, amount: Decimal, currency: str) -> Self:
        """Build without validation, for results of operations on valid Money."""
        money = _new(cls)
        _set_amount(money, amount)
        _set_currency(money, currency)
        return money

    @classmethod
    def zero(cls, currency: str) -> Self:
        """Return zero in ``currency``: the start value of a sum.

        >>> sum([], Money.zero("JPY"))
        Money('0', 'JPY')
        """
        if cls is Money:
            found = _ZEROS.get(currency)
            if found is None:
                found = _ZEROS[currency] = cls(Decimal(0), currency)
            return found  # type: ignore[return-value]  # cls is Money here
        return cls(Decimal(0), currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], *, currency: str) -> Self:
        """Add ``amounts`` (possibly none) that must all be in ``currency``.

        >>> Money.total([Money("1", "EUR"), Money("2", "EUR")], currency="EUR")
        Money('3', 'EUR')
        """
        code = currency if currency in _known_currencies() else read_currency(currency)
        result = Decimal(0)
        for item in amounts:
            if item.currency != code:
                raise CurrencyMismatchError(code, item.currency, "add")
            result = DECIMAL_CONTEXT.add(result, item.amount)
        return cls._make(result, code)

    @classmethod
    def from_minor_units(cls, units: int, currency: str) -> Self:
        """Build from an integer count of minor units (cents for EUR, yen for JPY).

        ``units`` is bounded like amounts: at most ``10^15`` major units in magnitude (the
        rounding of any valid amount), else :class:`~subbill.errors.OutOfBoundsError`.

        >>> Money.from_minor_units(1999, "EUR"), Money.from_minor_units(1999, "JPY")
        (Money('19.99', 'EUR'), Money('1999', 'JPY'))
        """
        if isinstance(units, bool) or not isinstance(units, int):
            raise InvalidAmountError("units", units, "an int count of minor units")
        code = read_currency(currency)
        precision = currency_precision(code)
        # Inclusive: 999999999999999.5 JPY, a valid amount, rounds to 10^15 yen.
        if abs(units) > 10 ** (MAX_AMOUNT.adjusted() + precision):
            raise OutOfBoundsError(
                "units",
                brief(units),
                f"<= 10^{MAX_AMOUNT.adjusted() + precision} minor units of {code}",
            )
        return cls._make(_from_units(units, precision), code)

    # -- rounding --------------------------------------------------------------------------

    def rounded(self, rounding: str = ROUND_HALF_UP) -> Money:
        """Round to the currency's minor unit (half-up unless ``rounding`` says otherwise).

        ``rounding`` is one of the ``decimal.ROUND_*`` constants.

        >>> Money("1.005", "EUR").rounded()
        Money('1.01', 'EUR')
        >>> from decimal import ROUND_HALF_EVEN
        >>> Money("1.005", "EUR").rounded(ROUND_HALF_EVEN)
        Money('1.00', 'EUR')
        >>> Money("1234.5", "JPY").rounded(), Money("1.2345", "KWD").rounded()
        (Money('1235', 'JPY'), Money('1.235', 'KWD'))
        """
        if rounding not in ROUNDINGS:
            raise InvalidArgumentError(
                f"rounding={rounding!r} must be one of the decimal.ROUND_* constants"
            )
        return Money._make(
            self.amount.quantize(
                minor_unit(self.currency), rounding=rounding, context=DECIMAL_CONTEXT
            ),
            self.currency,
        )

    def is_rounded(self) -> bool:
        """Tell whether the amount already has no digits below the minor unit.

        >>> Money("1.50", "EUR").is_rounded(), Money("1.505", "EUR").is_rounded()
        (True, False)
        """
        return self.amount == self.amount.quantize(
            minor_unit(self.currency), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT
        )

    def to_minor_units(self, rounding: str = ROUND_HALF_UP) -> int:
        """Return the rounded amount as an integer count of minor units.

        >>> Money("19.99", "EUR").to_minor_units()
        1999
        """
        rounded = self.rounded(rounding).amount
        return int(rounded.scaleb(currency_precision(self.currency), context=DECIMAL_CONTEXT))

    # -- splitting ---------------------------------------------------------------------------

    def allocate(
        self, weights: Iterable[Number], rounding: str = ROUND_HALF_UP
    ) -> tuple[Money, ...]:
        """Split the rounded amount into parts proportional to ``weights``.

        The parts add up exactly to ``self.rounded(rounding)``: each part gets the whole
        minor units of its exact share, and the units left over go one each to the parts
        with the largest remainders (ties to the earliest part). A zero weight gets zero.

        ``weights`` is any iterable (a list, a tuple, a generator) of at most
        :data:`MAX_ALLOCATION_PARTS` exact numbers.

        Raises:
            InvalidAllocationError: no weights, a negative weight, or weights summing to 0.
            InvalidTypeError: ``weights`` is not an iterable of numbers (a ``str`` is not).
            OutOfBoundsError: more than :data:`MAX_ALLOCATION_PARTS` weights.

        >>> Money("100.00", "EUR").allocate([1, 1, 1])
        (Money('33.34', 'EUR'), Money('33.33', 'EUR'), Money('33.33', 'EUR'))
        >>> Money("10.00", "EUR").allocate([Decimal("70"), Decimal("20"), Decimal("10")])
        (Money('7.00', 'EUR'), Money('2.00', 'EUR'), Money('1.00', 'EUR'))
        >>> Money("-0.05", "EUR").allocate([1, 1])
        (Money('-0.03', 'EUR'), Money('-0.02', 'EUR'))
        """
        items = _weights(weights)
        if len(items) == 0:
            raise InvalidAllocationError("weights=() must hold at least one weight")
        shares = [read_fraction(weight, f"weights[{index}]") for index, weight in enumerate(items)]
        for index, share in enumerate(shares):
            if share < 0:
                raise InvalidAllocationError(f"weights[{index}]={items[index]!r} must be >= 0")
        whole = sum(shares, Fraction(0))
        if whole == 0:
            shown = repr(tuple(items)) if len(items) <= 10 else f"({len(items):,} zeros)"
            raise InvalidAllocationError(f"weights={shown} must not all be zero")
        units = self.to_minor_units(rounding)
        parts = round_preserving_sum([units * share / whole for share in shares], units)
        precision = currency_precision(self.currency)
        return tuple(Money._make(_from_units(part, precision), self.currency) for part in parts)

    def split(self, n: int, rounding: str = ROUND_HALF_UP) -> tuple[Money, ...]:
        """Split the rounded amount into ``n`` parts that differ by at most one minor unit.

        ``n`` is at most :data:`MAX_ALLOCATION_PARTS`, else
        :class:`~subbill.errors.OutOfBoundsError`.

        >>> Money("10", "JPY").split(3)
        (Money('4', 'JPY'), Money('3', 'JPY'), Money('3', 'JPY'))
        """
        check_count("n", n, minimum=1, error=InvalidAllocationError)
        if n > MAX_ALLOCATION_PARTS:
            raise OutOfBoundsError("n", brief(n), f"at most {MAX_ALLOCATION_PARTS:,} parts")
        return self.allocate([1] * n, rounding)

    # -- predicates ----------------------------------------------------------------------------

    def is_zero(self) -> bool:
        """Tell whether the amount is exactly zero."""
        return self.amount == 0

    def is_positive(self) -> bool:
        """Tell whether the amount is above zero."""
        return self.amount > 0

    def is_negative(self) -> bool:
        """Tell whether the amount is below zero."""
        return self.amount < 0

    # -- arithmetic ------------------------------------------------------------------------------

    def _same_currency(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency, operation)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money._make(DECIMAL_CONTEXT.add(self.amount, other.amount), self.currency)

    def __radd__(self, other: object) -> Money:
        # Lets the builtin sum() start from its int 0.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money._make(DECIMAL_CONTEXT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money._make(DECIMAL_CONTEXT.minus(self.amount), self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money._make(DECIMAL_CONTEXT.abs(self.amount), self.currency)

    def __mul__(self, factor: Number) -> Money:
        if not isinstance(factor, _OPERANDS):
            return NotImplemented
        return self._scaled("factor", factor, "×", _scale)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Number) -> Money:
        if not isinstance(divisor, _OPERANDS):
            return NotImplemented
        return self._scaled("divisor", divisor, "÷", _divide)

    def _scaled(
        self,
        name: str,
        operand: object,
        symbol: str,
        operation: Callable[[Decimal, Any, str], Decimal],
    ) -> Money:
        """``self`` times or divided by an exact number, within the bound of an amount."""
        if isinstance(operand, Money):
            raise InvalidAmountError(name, operand, "a number (int, Decimal or Fraction)")
        try:
            result = operation(self.amount, operand, name)
        except decimal.DecimalException:
            raise self._beyond(name, operand, symbol) from None
        # |result| >= 10^15: one int comparison (a zero has any exponent).
        if result.adjusted() >= _AMOUNT_DIGITS and result:
            raise self._beyond(name, operand, symbol)
        return Money._make(result, self.currency)

    def _beyond(self, name: str, operand: object, symbol: str) -> OutOfBoundsError:
        """The error for a product or quotient of ``self`` beyond the bound of an amount."""
        return OutOfBoundsError(
            name,
            brief(operand),
            f"such that {self!r} {symbol} {name} is below 10^{_AMOUNT_DIGITS} in magnitude "
            "(the bound of an amount)",
        )

    def percent(self, percent: Decimal) -> Money:
        """Exactly ``percent`` % of the amount (unrounded).

        >>> Money("11.90", "USD").percent(Decimal("15"))
        Money('1.7850', 'USD')
        """
        if not isinstance(percent, Decimal) or not percent.is_finite():
            raise InvalidAmountError("percent", percent, "a finite Decimal")
        try:
            product = DECIMAL_CONTEXT.multiply(self.amount, percent).scaleb(
                -2, context=DECIMAL_CONTEXT
            )
        except decimal.DecimalException:
            raise self._beyond("percent", percent, "× 1/100 ×") from None
        if product.adjusted() >= _AMOUNT_DIGITS and product:
            raise self._beyond("percent", percent, "× 1/100 ×")
        return Money._make(product, self.currency)

    def _times_rounded(self, factor: Fraction) -> Money:
        """``(self * factor).rounded()`` for a ``Fraction`` factor, in one step (private).

        The same Decimal operations in the same context, so the same digits, without the
        checks of an operand of any type: the billing engine's prorated amounts. Beyond the
        bound of an amount, the public operators raise their own error.
        """
        try:
            exact = _MULTIPLY(self.amount, Decimal(factor.numerator))
            exact = _DIVIDE(exact, Decimal(factor.denominator))
        except decimal.DecimalException:  # pragma: no cover  (beyond what Decimal holds)
            return (self * factor).rounded()
        if exact and exact.adjusted() >= _AMOUNT_DIGITS:
            return (self * factor).rounded()  # raises OutOfBoundsError
        currency = self.currency
        return Money._make(
            exact.quantize(minor_unit(currency), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT),
            currency,
        )

    def _prorated(self, days: int, whole: int) -> Money:
        """``self._times_rounded(Fraction(days, whole))`` of a day count ``days / whole`` (private).

        ``days`` and ``whole`` are what the factor reduces (``0 <= days``, ``0 < whole``): the
        product by ``days`` is exact (an amount's digits and a day count fit the context's
        precision), and so is the quotient's ideal exponent, so dividing by ``whole``
        instead of the reduced denominator gives the same digits, with no ``Fraction`` read.

        >>> Money("50.00", "EUR")._prorated(17, 31)
        Money('27.42', 'EUR')
        """
        try:
            exact = _MULTIPLY(self.amount, _DAYS[days] if days < _DAYS_KEPT else Decimal(days))
            exact = _DIVIDE(exact, _DAYS[whole] if whole < _DAYS_KEPT else Decimal(whole))
        except decimal.DecimalException:  # pragma: no cover  (beyond what Decimal holds)
            return self._times_rounded(Fraction(days, whole))
        if exact and exact.adjusted() >= _AMOUNT_DIGITS:
            return self._times_rounded(Fraction(days, whole))  # raises OutOfBoundsError
        currency = self.currency
        return Money._make(
            exact.quantize(minor_unit(currency), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT),
            currency,
        )

    def _percent_rounded(self, percent: Decimal, rounding: str) -> Money:
        """``self.percent(percent).rounded(rounding)`` in one step (private): a line's tax.

        ``percent`` is a tax rate's (a finite Decimal, checked when the rate was built).
        """
        if rounding not in ROUNDINGS:
            return self.percent(percent).rounded(rounding)  # raises InvalidArgumentError
        try:
            product = _MULTIPLY(self.amount, percent).scaleb(-2, context=DECIMAL_CONTEXT)
        except decimal.DecimalException:  # pragma: no cover  (beyond what Decimal holds)
            return self.percent(percent).rounded(rounding)
        if product and product.adjusted() >= _AMOUNT_DIGITS:
            return self.percent(percent).rounded(rounding)  # raises OutOfBoundsError
        currency = self.currency
        return Money._make(
            product.quantize(minor_unit(currency), rounding=rounding, context=DECIMAL_CONTEXT),
            currency,
        )

    def _compare(self, other: object, operation: str) -> Decimal | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other, operation)
        return other.amount

    def __lt__(self, other: Money) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount < amount

    def __le__(self, other: Money) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount <= amount

    def __gt__(self, other: Money) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount > amount

    def __ge__(self, other: Money) -> bool:
        amount = self._compare(other, "compare")
        return NotImplemented if amount is None else self.amount >= amount

    # -- display ---------------------------------------------------------------------------------

    # Written with format "f", never str(): str() reads the caller's context (its
    # ``capitals``) and writes 0.0000001 as 1E-7.
    def __repr__(self) -> str:
        return f"Money('{self.amount:f}', '{self.currency}')"

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Process pools send results back pickled: restore without re-validating (pickles
        # are trusted data by nature; never unpickle untrusted bytes). A subclass keeps its
        # class and its own fields (copy, deepcopy and pickle all read this).
        if type(self) is Money:
            return (_restore, (self.amount, self.currency))
        return (_restore_as, (type(self),), self.__getstate__())


# What ``*`` and ``/`` take (a Money is refused by name, a float as a FloatAmountError).
_OPERANDS = (int, Decimal, Fraction, float, Money)
_MULTIPLY = DECIMAL_CONTEXT.multiply
_DIVIDE = DECIMAL_CONTEXT.divide
#: ``Decimal(n)`` of each day count a billing period can hold (ten years), for ``_prorated``.
_DAYS_KEPT: Final = 3661
_DAYS: Final = tuple(Decimal(days) for days in range(_DAYS_KEPT))

# Money._make writes the slots directly: the frozen class's own __setattr__ refuses writes.
_new = object.__new__
_set_amount = vars(Money)["amount"].__set__
_set_currency = vars(Money)["currency"].__set__

#: ``Money.zero`` of each currency spelling asked (a few dozen at most: ISO codes, any case).
_ZEROS: dict[str, Money] = {}


def _weights(weights: object) -> Sequence[object]:
    """``weights`` as a list or tuple of at most MAX_ALLOCATION_PARTS items, else raise."""
    if isinstance(weights, list | tuple):
        items: Sequence[object] = weights
    elif isinstance(weights, str | bytes) or not isinstance(weights, Iterable):
        raise InvalidTypeError(
            "weights", brief(weights), "an iterable of numbers (int, Decimal or Fraction)"
        )
    else:
        items = list(itertools.islice(weights, MAX_ALLOCATION_PARTS + 1))
    if len(items) > MAX_ALLOCATION_PARTS:
        raise OutOfBoundsError(
            "weights", f"{len(items):,} weights or more", f"at most {MAX_ALLOCATION_PARTS:,}"
        )
    return items


def _from_units(units: int, precision: int) -> Decimal:
    """``units`` minor units as an amount with ``precision`` decimals (exact: no rounding)."""
    return Decimal(units).scaleb(-precision, context=DECIMAL_CONTEXT)


def _restore(amount: Decimal, currency: str) -> Money:
    return Money._make(amount, currency)


def _restore_as(cls: type[Money]) -> Money:
    """An empty instance of a subclass of Money, its fields then set from its state."""
    return _new(cls)


#: The rounding modes of :mod:`decimal` that a rounding argument may name.
ROUNDINGS = frozenset(
    {
        decimal.ROUND_CEILING,
        decimal.ROUND_DOWN,
        decimal.ROUND_FLOOR,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_UP,
        decimal.ROUND_05UP,
    }
)

r"""A usage price explained piece by piece, in French or English.

:func:`describe_usage` writes the exact pieces of a :class:`~subbill.metering.UsagePrice`
as the sum people check, then the amount rounded once: « 1 000 × 0,015 € + 200 × 0,020 € =
19,00 € ». Unit prices keep every digit they have (all of one line written with as many
decimals as the longest, at least the currency's); a quantity that is not a decimal number
(a time-weighted 131/31 seats) is written as its fraction.

>>> from datetime import date
>>> from subbill.metering import Aggregation, Graduated, Metric, Tier, UsageCharge, price_usage
>>> from subbill.periods import Period
>>> api = UsageCharge(code="api", description="Appels API", currency="EUR",
...     metric=Metric(code="api_calls", aggregation=Aggregation.SUM),
...     model=Graduated(tiers=(Tier(up_to=1000, unit_price=Money("0.015", "EUR")),
...                            Tier(unit_price=Money("0.02", "EUR")))))
>>> price = price_usage(api, 1200, Period(date(2026, 3, 1), date(2026, 4, 1)))
>>> print(describe_usage(price, locale="fr_FR").replace("\u202f", " ").replace("\xa0", " "))
1 000 × 0,015 € + 200 × 0,020 € = 19,00 €
>>> describe_usage(price, locale="en_US")
'1,000 × €0.015 + 200 × €0.020 = €19.00'
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from fractions import Fraction

import babel
import babel.numbers

from subbill._validate import brief
from subbill.errors import InvalidTypeError
from subbill.l10n._format import format_money, format_quantity
from subbill.l10n.words import phrase, words_for
from subbill.metering import PieceKind, UsagePiece, UsagePrice
from subbill.money import DECIMAL_CONTEXT, Money, currency_precision

__all__ = ["describe_usage"]

# Most decimal places a unit price or an exact amount is written with (an amount's bound).
_MOST_PLACES = 9

#: How the words name the rounding of a transformation.
_DIRECTIONS = {
    decimal.ROUND_UP: "up",
    decimal.ROUND_CEILING: "up",
    decimal.ROUND_DOWN: "down",
    decimal.ROUND_FLOOR: "down",
}


#: The limits of a whole period (a partial one has its share of them).
_PERIOD_LIMITS = (PieceKind.MINIMUM_COMMITMENT, PieceKind.MAXIMUM_SPEND)


def _decimal(value: Fraction) -> Decimal | None:
    """``value`` as a ``Decimal`` when it is one with at most 9 places, else ``None``."""
    for places in range(_MOST_PLACES + 1):
        scaled = value * 10**places
        if scaled.denominator == 1:
            return Decimal(scaled.numerator).scaleb(-places, context=DECIMAL_CONTEXT)
    return None


def _places(amount: Decimal) -> int:
    exponent = amount.normalize(context=DECIMAL_CONTEXT).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _money(amount: Decimal, currency: str, places: int, *, locale: str) -> str:
    """``amount`` in ``currency`` written with exactly ``places`` decimals, as ``locale`` does."""
    found = babel.Locale.parse(locale)
    pattern = found.currency_formats["standard"].pattern
    digits = "0." + "0" * places if places else "0"
    shown = re.sub(r"0\.0+|0(?![0.])", digits, pattern, count=1)
    with decimal.localcontext(DECIMAL_CONTEXT):  # never the caller's context
        return babel.numbers.format_currency(
            amount, currency, format=shown, locale=found, currency_digits=False
        )


def _quantity(value: Fraction, *, locale: str) -> str:
    exact = _decimal(value)
    if exact is None:
        return f"{value.numerator}/{value.denominator}"
    return format_quantity(exact, locale=locale)


def _percent(percent: Decimal, *, locale: str) -> str:
    with decimal.localcontext(DECIMAL_CONTEXT):
        return babel.numbers.format_percent(
            percent.scaleb(-2, context=DECIMAL_CONTEXT),
            locale=babel.Locale.parse(locale),
            decimal_quantization=False,
        )


class _Writer:
    """Writes the amounts of one price: unit prices with a common number of decimals."""

    def __init__(self, price: UsagePrice, *, locale: str) -> None:
        self.currency = price.currency
        self.locale = locale
        precision = currency_precision(price.currency)
        prices = [
            money.amount
            for piece in price.pieces
            for money in (piece.unit_price, piece.flat)
            if money is not None
        ]
        self.places = max([precision, *(_places(amount) for amount in prices)])
        self.precision = precision

    def unit(self, money: Money) -> str:
        return _money(money.amount, self.currency, self.places, locale=self.locale)

    def exact(self, value: Fraction) -> str:
        """An exact amount with its own digits (at least the currency's), else rounded."""
        found = _decimal(value)
        if found is None:
            return format_money(Money._make(_approximate(value), self.currency), locale=self.locale)
        places = max(self.precision, _places(found))
        return _money(found, self.currency, places, locale=self.locale)


def _approximate(value: Fraction) -> Decimal:
    return DECIMAL_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def _term(
    piece: UsagePiece, price: UsagePrice, writer: _Writer, *, locale: str
) -> tuple[Fraction, str]:
    """The piece as a term of the sum: its signed amount and its words (without the sign)."""
    quantity = _quantity(piece.quantity, locale=locale)
    kind = piece.kind
    if kind in (PieceKind.UNITS, PieceKind.PERCENT):
        parts = []
        if piece.unit_price is not None:
            parts.append(f"{quantity} × {writer.unit(piece.unit_price)}")
        if piece.percent is not None:
            parts.append(
                f"{_percent(piece.percent, locale=locale)} × {writer.exact(piece.quantity)}"
            )
        if piece.flat is not None:
            parts.append(writer.unit(piece.flat))
        return piece.subtotal, " + ".join(parts)
    if kind is PieceKind.FREE_UNITS:
        return piece.subtotal, phrase("usage", "free_units", locale=locale, quantity=quantity)
    if kind in (PieceKind.PACKAGES, PieceKind.TRANSACTION_FEES):
        assert piece.unit_price is not None  # noqa: S101  (a price per package, per transaction)
        return piece.subtotal, phrase(
            "usage", kind.value, locale=locale, count=quantity, price=writer.unit(piece.unit_price)
        )
    # an adjustment: to the minimum or maximum per transaction, the commitment or the cap
    limit = {
        PieceKind.MINIMUM_COMMITMENT: price.minimum,
        PieceKind.MAXIMUM_SPEND: price.maximum,
    }.get(kind, piece.unit_price)
    assert limit is not None  # noqa: S101  (an adjustment is made to a limit)
    shown = writer.unit(limit)
    exact = price.limit(kind) if kind in _PERIOD_LIMITS else None
    if exact is not None and price.share != 1:  # a partial period's share of the limit
        shown = f"{_quantity(price.share, locale=locale)} × {shown} = {writer.exact(exact)}"
    words = phrase("usage", kind.value, locale=locale, count=quantity, limit=shown)
    return piece.subtotal, f"{writer.exact(abs(piece.subtotal))} ({words})"


def describe_usage(price: UsagePrice, *, locale: str) -> str:
    r"""Explain a usage price: its exact pieces as a sum, then the amount rounded once.

    A transformation is written first (« 125 ÷ 60, arrondi au supérieur = 3 : »); the
    minimum commitment's top-up and the maximum spend's allowance are terms of their own.

    >>> from datetime import date
    >>> from decimal import ROUND_UP
    >>> from subbill.metering import (Aggregation, Metric, PerUnit, Transformation,
    ...     UsageCharge, price_usage)
    >>> from subbill.periods import Period
    >>> calls = UsageCharge(code="calls", description="Appels", currency="EUR",
    ...     metric=Metric(code="minutes", aggregation=Aggregation.SUM),
    ...     model=PerUnit(unit_price=Money("0.50", "EUR")),
    ...     transformation=Transformation(divide_by=60, rounding=ROUND_UP),
    ...     minimum=Money("5", "EUR"))
    >>> price = price_usage(calls, 125, Period(date(2026, 3, 1), date(2026, 4, 1)))
    >>> print(describe_usage(price, locale="fr_FR").replace("\xa0", " "))
    125 ÷ 60, arrondi au supérieur = 3 : 3 × 0,50 € + 3,50 € (complément à l'engagement
    minimum de 5,00 €) = 5,00 €
    """
    if not isinstance(price, UsagePrice):
        raise InvalidTypeError("price", brief(price), "a UsagePrice")
    writer = _Writer(price, locale=locale)
    text = ""
    for index, piece in enumerate(price.pieces):
        subtotal, words = _term(piece, price, writer, locale=locale)
        if index == 0:
            text = f"−{words}" if subtotal < 0 else words
        else:
            text += f" − {words}" if subtotal < 0 else f" + {words}"
    text += f" = {format_money(price.amount, locale=locale)}"
    if price.transformation is not None:
        transformation = price.transformation
        direction = _DIRECTIONS.get(transformation.rounding, "nearest")
        head = phrase(
            "usage",
            "transformation",
            locale=locale,
            measured=_quantity(price.measured, locale=locale),
            divide_by=transformation.divide_by,
            rounded=words_for("usage_rounding", direction, locale=locale),
            quantity=_quantity(price.quantity, locale=locale),
        )
        text = f"{head}{words_for('typography', 'colon', locale=locale)}{text}"
    return text

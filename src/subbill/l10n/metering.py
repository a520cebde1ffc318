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
from subbill.l10n._format import format_money, format_quantity, is_french
from subbill.l10n.words import label, phrase, words_for
from subbill.metering import (
    Graduated,
    GraduatedPercentage,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    PieceKind,
    Tier,
    UsageCharge,
    UsagePiece,
    UsagePrice,
    Volume,
)
from subbill.money import DECIMAL_CONTEXT, Money, currency_precision

__all__ = ["describe_tariff", "describe_usage"]

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


# -- the tariff of a usage charge ----------------------------------------------------------------


def _price(money: Money, *, locale: str, places: int = 0) -> str:
    """A price with every digit it has, at least ``places`` and the currency's: 0,015 €."""
    places = max(places, currency_precision(money.currency), _places(money.amount))
    return _money(money.amount, money.currency, places, locale=locale)


def _separator(locale: str) -> str:
    """Between the parts of a tariff: « ; » in French, "; " in English."""
    return " ; " if is_french(locale) else "; "


def _tier(tier: Tier | PercentTier, *, locale: str, places: int) -> str:
    """What one tier costs: « 0,015 € l'unité », « 3 % + 1,00 € forfait ».

    Unit prices are written with ``places`` decimals at least (as many as the longest).
    """
    parts = []
    if isinstance(tier, Tier) and tier.unit_price is not None:
        price = _price(tier.unit_price, locale=locale, places=places)
        parts.append(phrase("tariff", "each", locale=locale, price=price))
    if isinstance(tier, PercentTier) and tier.percent is not None:
        parts.append(_percent(tier.percent, locale=locale))
    if tier.flat is not None:
        parts.append(
            phrase("tariff", "flat", locale=locale, price=_price(tier.flat, locale=locale))
        )
    return " + ".join(parts)


def _tiers(tiers: tuple[Tier, ...] | tuple[PercentTier, ...], currency: str, *, locale: str) -> str:
    """Each tier, « jusqu'à 1 000 : … ; au-delà : … »."""
    units = [t.unit_price.amount for t in tiers if isinstance(t, Tier) and t.unit_price is not None]
    places = max((_places(amount) for amount in units), default=0)
    colon = words_for("typography", "colon", locale=locale)
    texts = []
    for tier in tiers:
        if tier.up_to is None:
            bound = words_for("tariff", "beyond", locale=locale)
        elif isinstance(tier, PercentTier):
            bound = phrase(
                "tariff",
                "up_to",
                locale=locale,
                bound=_price(Money(tier.up_to, currency), locale=locale),
            )
        else:
            bound = phrase(
                "tariff", "up_to", locale=locale, bound=format_quantity(tier.up_to, locale=locale)
            )
        texts.append(f"{bound}{colon}{_tier(tier, locale=locale, places=places)}")
    return _separator(locale).join(texts)


def _model(charge: UsageCharge, *, locale: str) -> str:
    """The model's prices in words."""
    model = charge.model
    match model:
        case PerUnit(unit_price=price):
            return phrase("tariff", "each", locale=locale, price=_price(price, locale=locale))
        case Package(price=price, size=size, free_units=free):
            text = phrase(
                "tariff", "package", locale=locale, price=_price(price, locale=locale), size=size
            )
            if free:
                text += phrase(
                    "tariff", "free", locale=locale, free=format_quantity(free, locale=locale)
                )
            return text
        case Graduated(tiers=tiers) | Volume(tiers=tiers):
            return _tiers(tiers, charge.currency, locale=locale)
        case GraduatedPercentage(tiers=percent_tiers):
            return _tiers(percent_tiers, charge.currency, locale=locale)
        case Percentage():
            text = _percent(model.percent, locale=locale)
            if model.fixed_fee is not None:
                text += " + " + _price(model.fixed_fee, locale=locale)
            text += phrase("tariff", "per_transaction", locale=locale)
            for kind, limit in (
                ("transaction_minimum", model.transaction_minimum),
                ("transaction_maximum", model.transaction_maximum),
            ):
                if limit is not None:
                    text += phrase(
                        "tariff", kind, locale=locale, limit=_price(limit, locale=locale)
                    )
            return text
    raise InvalidTypeError("charge.model", brief(model), "a usage charge model")  # pragma: no cover


def describe_tariff(charge: UsageCharge, *, locale: str) -> str:
    r"""What a usage charge bills, before any usage: its model, prices and limits, in words.

    The model's kind, its prices (each with every digit it has), the transformation of the
    measured quantity, then the minimum commitment and the maximum spend per period.

    >>> from subbill.metering import Aggregation, Metric
    >>> api = UsageCharge(code="api", description="Appels API", currency="EUR",
    ...     metric=Metric(code="api_calls", aggregation=Aggregation.SUM),
    ...     model=Graduated(tiers=(Tier(up_to=1000, unit_price=Money("0.015", "EUR")),
    ...                            Tier(unit_price=Money("0.02", "EUR")))),
    ...     minimum=Money("10", "EUR"))
    >>> describe_tariff(api, locale="en_US")
    'Graduated: up to 1,000: €0.015 each; beyond: €0.020 each; minimum commitment €10.00 per period'
    >>> text = describe_tariff(api, locale="fr_FR").replace("\u202f", " ").replace("\xa0", " ")
    >>> print(*text.split(" ; "), sep=" ;\n")
    Par paliers : jusqu'à 1 000 : 0,015 € l'unité ;
    au-delà : 0,020 € l'unité ;
    engagement minimum de 10,00 € par période
    """
    if not isinstance(charge, UsageCharge):
        raise InvalidTypeError("charge", brief(charge), "a UsageCharge")
    colon = words_for("typography", "colon", locale=locale)
    parts = [f"{label(charge.model_kind, locale=locale)}{colon}{_model(charge, locale=locale)}"]
    transformation = charge.transformation
    if transformation is not None:
        direction = _DIRECTIONS.get(transformation.rounding, "nearest")
        parts.append(
            phrase(
                "tariff",
                "transformation",
                locale=locale,
                divide_by=transformation.divide_by,
                rounded=words_for("usage_rounding", direction, locale=locale),
            )
        )
    for kind, limit in (("minimum", charge.minimum), ("maximum", charge.maximum)):
        if limit is not None:
            parts.append(phrase("tariff", kind, locale=locale, limit=_price(limit, locale=locale)))
    return _separator(locale).join(parts)

"""Usage-based charges: usage records, metrics that aggregate them, and the models that price them.

A :class:`UsageRecord` says that a subscription used ``quantity`` of a metric on a day; its
idempotency ``key`` makes a record sent twice count once (:func:`deduplicate`). A
:class:`Metric` turns the records of a billing period into one exact quantity
(:func:`aggregate`): their sum, count, maximum, last value, the count of unique values of a
property, or the time-weighted value of a gauge (seats held, prorated by days). A
:class:`UsageCharge` prices that quantity with one model (:class:`PerUnit`,
:class:`Package`, :class:`Graduated`, :class:`Volume`, :class:`Percentage`,
:class:`GraduatedPercentage`), after an optional :class:`Transformation` (per hour from
minutes), within an optional minimum commitment and maximum spend per period.

:func:`price_usage` returns a :class:`UsagePrice`: the exact (unrounded) amount, its pieces
tier by tier, each exact and adding up exactly to it, and the amount rounded once to the
currency's minor unit. Everything is computed with :class:`~fractions.Fraction`: exact, and
independent of any decimal context.

>>> api = UsageCharge(code="api", description="Appels API", currency="EUR",
...     metric=Metric(code="api_calls", aggregation=Aggregation.SUM),
...     model=Graduated(tiers=(Tier(up_to=1000, unit_price=Money("0.015", "EUR")),
...                            Tier(unit_price=Money("0.020", "EUR")))))
>>> price = price_usage(api, 1200, Period(date(2026, 3, 1), date(2026, 4, 1)))
>>> [(piece.tier, piece.quantity, piece.subtotal) for piece in price.pieces]
[(1, Fraction(1000, 1), Fraction(15, 1)), (2, Fraction(200, 1), Fraction(4, 1))]
>>> price.amount
Money('19.00', 'EUR')
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Final, Self, TypeAlias

import attrs

from subbill._structure import (
    Currency,
    Percent,
    Positive,
    Price,
    Problems,
    Quantity,
    TaxRates,
    Text,
    join_path,
    read_quantity,
    structure,
)
from subbill._validate import (
    brief,
    check_bounded,
    check_instance,
    check_items,
    check_line,
    check_text,
    instance_of,
    to_tuple,
)
from subbill.charges import check_tax_rates, to_quantity
from subbill.discounts import terms_digest
from subbill.errors import (
    InvalidArgumentError,
    InvalidPeriodError,
    InvalidQuantityError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.money import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    ROUNDINGS,
    Money,
    check_money,
    currency_precision,
    read_amount,
    read_currency,
    read_percent,
    round_fraction,
)
from subbill.periods import (
    MONTHLY,
    BillingSchedule,
    Frequency,
    Period,
    check_billing_date,
    check_date,
    schedule_for,
)
from subbill.taxes import TaxRate

__all__ = [
    "Aggregation",
    "ChargeModel",
    "Graduated",
    "GraduatedPercentage",
    "Metric",
    "ModelKind",
    "Package",
    "PerUnit",
    "PercentTier",
    "Percentage",
    "PieceKind",
    "ScheduledUsage",
    "Tier",
    "Transformation",
    "UsageCharge",
    "UsageInput",
    "UsagePiece",
    "UsagePrice",
    "UsageRecord",
    "Volume",
    "aggregate",
    "deduplicate",
    "describe_record",
    "price_usage",
]

_ZERO: Final = Fraction(0)
_HUNDRED: Final = Fraction(100)
# Most distinct denominators a priced quantity may have (a time-weighted value over a period
# of days of quantities with 6 places has at most 10^6 × 3660 days).
_MAX_DENOMINATOR: Final = 10**12

# -- usage records -------------------------------------------------------------------------------


def _to_properties(value: object) -> Any:
    """A mapping as a read-only mapping sorted by key (losslessly); anything else as it is."""
    if isinstance(value, Mapping):
        return MappingProxyType(dict(sorted(value.items(), key=lambda item: str(item[0]))))
    return value


def _check_properties(_instance: Any, attribute: Any, value: object) -> None:
    if not isinstance(value, Mapping):
        raise InvalidTypeError(attribute.name, brief(value), "a mapping of str to str")
    for key, item in value.items():
        check_line(f"{attribute.name} key", key)
        check_line(f"{attribute.name}[{key!r}]", item)


def _properties_key(value: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """What records compare and hash their properties by: the sorted pairs."""
    return tuple(value.items())


def _check_day(_instance: Any, attribute: Any, value: Any) -> None:
    check_date(attribute.name, value)


_NO_PROPERTIES: Final[Mapping[str, str]] = MappingProxyType({})


@attrs.frozen(kw_only=True)
class UsageRecord:
    """What a subscription used of a metric on one day, identified by an idempotency key.

    Attributes:
        subscription: the id of the subscription that used it.
        metric: the code of the :class:`Metric` it counts in (``api_calls``).
        quantity: how much, ``>= 0`` (``Decimal``, at most 6 decimal places): calls, GB,
            seats held from that day on, or the amount of a transaction.
        used_on: the day it happened; it counts in the period that holds that day.
        key: the idempotency key: the same record sent twice counts once; two different
            records of one subscription never share a key (:func:`deduplicate`).
        properties: optional facts about it (``{"user": "u_42"}``), text to text, read-only.

    >>> UsageRecord(subscription="S1", metric="api_calls", quantity="-3",
    ...             used_on=date(2026, 3, 2), key="evt_1")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidQuantityError: quantity='-3' must be >= 0
    """

    subscription: str = attrs.field(validator=check_text)
    metric: str = attrs.field(validator=check_text)
    quantity: Decimal = attrs.field(converter=to_quantity)
    used_on: date = attrs.field(validator=_check_day)
    key: str = attrs.field(validator=check_text)
    properties: Mapping[str, str] = attrs.field(
        default=_NO_PROPERTIES,
        converter=_to_properties,
        validator=_check_properties,
        eq=_properties_key,
    )


def deduplicate(records: Iterable[UsageRecord]) -> tuple[UsageRecord, ...]:
    """The records with each idempotency key once, in the order they first came.

    A key is a subscription's: two subscriptions may use the same one. The same record sent
    twice counts once; two different records under one key are refused, naming the key
    (nothing is kept: the caller decides which one is right).

    >>> first = UsageRecord(subscription="S1", metric="calls", quantity=3,
    ...                     used_on=date(2026, 3, 2), key="evt_1")
    >>> deduplicate([first, first]) == (first,)
    True
    >>> deduplicate([first, attrs.evolve(first, quantity=4)])
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: key='evt_1' of subscription 'S1' names two different \
records (calls 3 on 2026-03-02, then calls 4 on 2026-03-02); a key names one record
    """
    kept: dict[tuple[str, str], UsageRecord] = {}
    for record in check_items("records", records, UsageRecord):
        found = kept.setdefault((record.subscription, record.key), record)
        if found != record:
            raise InvalidArgumentError(
                f"key={record.key!r} of subscription {record.subscription!r} names two "
                f"different records ({describe_record(found)}, then "
                f"{describe_record(record)}); a key names one record"
            )
    return tuple(kept.values())


def describe_record(record: UsageRecord) -> str:
    """A record as a message shows it: its metric, quantity, day and properties."""
    text = f"{record.metric} {record.quantity} on {record.used_on.isoformat()}"
    return f"{text} {dict(record.properties)}" if record.properties else text


# -- metrics and aggregation ----------------------------------------------------------------------


class Aggregation(enum.Enum):
    """How a :class:`Metric` turns the records of a period into one quantity.

    - ``SUM``: the sum of their quantities (API calls, GB transferred);
    - ``COUNT``: how many records there are (their quantities do not matter);
    - ``MAX``: the largest quantity (peak storage), 0 without records;
    - ``LAST``: the quantity of the latest dated record (of records of the same day, the one
      whose key sorts last), 0 without records;
    - ``UNIQUE_COUNT``: how many distinct values the metric's ``property_name`` takes (active
      users); a record without that property does not count;
    - ``TIME_WEIGHTED``: a gauge, for a recurring metric such as seats held: each record
      sets the value from its day on (the last record before the period sets it at the
      period's start), and the result is the sum of value × days held ÷ the period's days.
    """

    SUM = "sum"
    COUNT = "count"
    MAX = "max"
    LAST = "last"
    UNIQUE_COUNT = "unique_count"
    TIME_WEIGHTED = "time_weighted"


def _check_metric(instance: Metric) -> None:
    unique = instance.aggregation is Aggregation.UNIQUE_COUNT
    if unique and instance.property_name is None:
        raise InvalidArgumentError(
            f"metric {instance.code!r} counts unique values (aggregation=unique_count): "
            "property_name must name the property whose values it counts"
        )
    if not unique and instance.property_name is not None:
        raise InvalidArgumentError(
            f"property_name={instance.property_name!r} of metric {instance.code!r} is only "
            f"read by aggregation=unique_count, not aggregation={instance.aggregation.value}"
        )


@attrs.frozen(kw_only=True)
class Metric:
    """What is measured and how its records aggregate over a period.

    Attributes:
        code: the code the records name (``api_calls``).
        aggregation: how the records of a period make one quantity (:class:`Aggregation`).
        property_name: the property whose distinct values ``UNIQUE_COUNT`` counts (and only
            that aggregation).
    """

    code: str = attrs.field(validator=check_text)
    aggregation: Aggregation = attrs.field(validator=instance_of(Aggregation))
    property_name: str | None = attrs.field(
        default=None, validator=lambda _i, a, v: check_line(a.name, v, optional=True)
    )

    def __attrs_post_init__(self) -> None:
        _check_metric(self)


def _metric_records(metric: Metric, records: Iterable[UsageRecord]) -> list[UsageRecord]:
    """The records of ``metric`` (each key once); records of one subscription only."""
    check_instance("metric", metric, Metric)
    unique = deduplicate(records)
    subscriptions = {record.subscription for record in unique}
    if len(subscriptions) > 1:
        shown = ", ".join(repr(s) for s in sorted(subscriptions)[:3])
        raise InvalidArgumentError(
            f"records of several subscriptions ({shown}) cannot be aggregated together; "
            "aggregate each subscription's records on their own"
        )
    return [record for record in unique if record.metric == metric.code]


def aggregate(metric: Metric, records: Iterable[UsageRecord], period: Period) -> Fraction:
    """The exact quantity ``metric`` measures over ``period`` from ``records``.

    Only the records of the metric's code count, each idempotency key once
    (:func:`deduplicate`), and only those dated within ``[period.start, period.end)``: a
    record outside the period never counts in it. A time-weighted metric also reads the
    last record before the period (the value held at its start). The result is a
    ``Fraction``: exact, whole or decimal for every aggregation but a time-weighted one
    (3 seats for 12 days then 5 for 19 days of 31 is 131/31 seats).

    >>> march = Period(date(2026, 3, 1), date(2026, 4, 1))
    >>> seats = Metric(code="seats", aggregation=Aggregation.TIME_WEIGHTED)
    >>> held = [UsageRecord(subscription="S1", metric="seats", quantity=3,
    ...                     used_on=date(2026, 2, 10), key="s1"),
    ...         UsageRecord(subscription="S1", metric="seats", quantity=5,
    ...                     used_on=date(2026, 3, 13), key="s2")]
    >>> aggregate(seats, held, march)
    Fraction(131, 31)

    Raises:
        InvalidArgumentError: a key names two different records, or the records are of
            several subscriptions.
    """
    kept = _metric_records(metric, records)
    check_instance("period", period, Period)
    if metric.aggregation is Aggregation.TIME_WEIGHTED:
        return _time_weighted(kept, period)
    inside = [record for record in kept if period.start <= record.used_on < period.end]
    return _AGGREGATIONS[metric.aggregation](metric, inside)


def _sum(_metric: Metric, records: list[UsageRecord]) -> Fraction:
    return sum((Fraction(record.quantity) for record in records), _ZERO)


def _count(_metric: Metric, records: list[UsageRecord]) -> Fraction:
    return Fraction(len(records))


def _max(_metric: Metric, records: list[UsageRecord]) -> Fraction:
    return max((Fraction(record.quantity) for record in records), default=_ZERO)


def _last(_metric: Metric, records: list[UsageRecord]) -> Fraction:
    if not records:
        return _ZERO
    return Fraction(max(records, key=lambda record: (record.used_on, record.key)).quantity)


def _unique_count(metric: Metric, records: list[UsageRecord]) -> Fraction:
    name = metric.property_name or ""
    return Fraction(len({r.properties[name] for r in records if name in r.properties}))


_AGGREGATIONS: Final[dict[Aggregation, Callable[[Metric, list[UsageRecord]], Fraction]]] = {
    Aggregation.SUM: _sum,
    Aggregation.COUNT: _count,
    Aggregation.MAX: _max,
    Aggregation.LAST: _last,
    Aggregation.UNIQUE_COUNT: _unique_count,
}


def _time_weighted(records: list[UsageRecord], period: Period) -> Fraction:
    """Σ value × days held ÷ days of ``period``; a record sets the value from its day on."""
    ordered = sorted(
        (record for record in records if record.used_on < period.end),
        key=lambda record: (record.used_on, record.key),
    )
    held = _ZERO
    since = period.start
    total = _ZERO  # value-days
    for record in ordered:
        day = max(record.used_on, period.start)
        total += held * (day - since).days
        held, since = Fraction(record.quantity), day
    total += held * (period.end - since).days
    return total / period.days


# -- the pieces of a price -----------------------------------------------------------------------


def _check_price(name: str, value: object, *, optional: bool = False) -> None:
    """A price of a model: a ``Money >= 0`` within the bounds of an amount."""
    if value is None and optional:
        return
    money = check_instance(name, value, Money)
    check_money(name, money)
    if money.is_negative():
        raise InvalidArgumentError(f"{name}={money!r} must be >= 0")


def _price(*, optional: bool = False) -> Any:
    def validate(_instance: Any, attribute: Any, value: object) -> None:
        _check_price(attribute.name, value, optional=optional)

    return validate


def _bound(name: str, value: object, *, amount: bool) -> Decimal | None:
    """An optional tier bound ``> 0``: a quantity, or an amount for percentage tiers."""
    if value is None:
        return None
    number = read_amount(value, name) if amount else read_quantity(value, name)
    if number <= 0:
        raise InvalidQuantityError(f"{name}={brief(value)!r} must be > 0 (or None: unbounded)")
    return number


def _quantity_bound(value: object) -> Decimal | None:
    return _bound("up_to", value, amount=False)


def _amount_bound(value: object) -> Decimal | None:
    return _bound("up_to", value, amount=True)


def _to_percent(value: object) -> Decimal | None:
    if value is None:
        return None
    percent = read_percent(value)
    if not 0 <= percent <= 100:
        raise InvalidArgumentError(f"percent={brief(value)!r} must be between 0 and 100")
    return percent


@attrs.frozen(kw_only=True)
class Tier:
    """A tier of units: up to ``up_to`` units inclusive (``None``: unbounded, the last tier).

    It has a price per unit, a flat amount, or both.

    >>> Tier(up_to=0, unit_price=Money("1", "EUR"))
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidQuantityError: up_to=0 must be > 0 (or None: unbounded)
    """

    up_to: Decimal | None = attrs.field(default=None, converter=_quantity_bound)
    unit_price: Money | None = attrs.field(default=None, validator=_price(optional=True))
    flat: Money | None = attrs.field(default=None, validator=_price(optional=True))

    def __attrs_post_init__(self) -> None:
        if self.unit_price is None and self.flat is None:
            raise InvalidArgumentError(
                f"tier up to {self.up_to} has neither unit_price nor flat; it needs one of them"
            )


@attrs.frozen(kw_only=True)
class PercentTier:
    """A tier of transaction amounts: up to ``up_to`` inclusive (``None``: unbounded).

    It has a percentage of the amounts in it, a flat amount, or both.
    """

    up_to: Decimal | None = attrs.field(default=None, converter=_amount_bound)
    percent: Decimal | None = attrs.field(default=None, converter=_to_percent)
    flat: Money | None = attrs.field(default=None, validator=_price(optional=True))

    def __attrs_post_init__(self) -> None:
        if self.percent is None and self.flat is None:
            raise InvalidArgumentError(
                f"tier up to {self.up_to} has neither percent nor flat; it needs one of them"
            )


def _check_tiers(
    expected: type[Tier | PercentTier], attribute: Any, tiers: tuple[Any, ...]
) -> None:
    if not tiers:
        raise InvalidArgumentError(f"{attribute.name}=() must hold at least one tier")
    previous: Decimal = Decimal(0)
    for index, tier in enumerate(tiers):
        if not isinstance(tier, expected):
            raise InvalidTypeError(
                f"{attribute.name}[{index}]", brief(tier), f"a {expected.__name__}"
            )
        last = index == len(tiers) - 1
        if last and tier.up_to is not None:
            raise InvalidArgumentError(
                f"{attribute.name}[{index}].up_to={tier.up_to} must be None: the last tier "
                "is unbounded"
            )
        if not last and tier.up_to is None:
            raise InvalidArgumentError(
                f"{attribute.name}[{index}].up_to=None: only the last tier is unbounded"
            )
        if tier.up_to is not None:
            if tier.up_to <= previous:
                raise InvalidArgumentError(
                    f"{attribute.name}[{index}].up_to={tier.up_to} must be above the previous "
                    f"tier's up_to={previous}"
                )
            previous = tier.up_to


def _tiers(kind: type[Tier | PercentTier] = Tier) -> Any:
    """A field of tiers of ``kind``: at least one, increasing bounds, the last unbounded."""
    return attrs.field(converter=to_tuple, validator=lambda _i, a, v: _check_tiers(kind, a, v))


@attrs.frozen(kw_only=True)
class PerUnit:
    """Every unit at one price."""

    unit_price: Money = attrs.field(validator=_price())


@attrs.frozen(kw_only=True)
class Package:
    """A price per package of ``size`` units; a partial package costs a whole one.

    The first ``free_units`` are free; the packages are counted on the units beyond them.
    """

    price: Money = attrs.field(validator=_price())
    size: int = attrs.field(
        validator=lambda _i, a, v: check_bounded(
            a.name, v, minimum=1, maximum=int(MAX_QUANTITY), unit="units"
        )
    )
    free_units: Decimal = attrs.field(default=Decimal(0), converter=to_quantity)


@attrs.frozen(kw_only=True)
class Graduated:
    """Each unit priced in the tier it falls in.

    A tier's flat amount is due once usage enters it; the first tier's even at zero usage.
    """

    tiers: tuple[Tier, ...] = _tiers()


@attrs.frozen(kw_only=True)
class Volume:
    """All units priced at the tier the total reaches (up to ``up_to`` inclusive).

    The amount is that tier's flat amount plus its unit price × all units; zero units reach
    the first tier (its flat amount is due).
    """

    tiers: tuple[Tier, ...] = _tiers()


def _check_percentage(instance: Percentage) -> None:
    low, high = instance.transaction_minimum, instance.transaction_maximum
    if low is not None and high is not None and low.amount > high.amount:
        raise InvalidArgumentError(
            f"transaction_minimum={low!r} must not be above transaction_maximum={high!r}"
        )


@attrs.frozen(kw_only=True)
class Percentage:
    """A percentage of each transaction's amount, plus a fixed fee per transaction.

    Each transaction's fee (percentage + fixed fee) is brought up to
    ``transaction_minimum`` and down to ``transaction_maximum`` when they are given.
    """

    percent: Decimal = attrs.field(converter=_to_percent)
    fixed_fee: Money | None = attrs.field(default=None, validator=_price(optional=True))
    transaction_minimum: Money | None = attrs.field(default=None, validator=_price(optional=True))
    transaction_maximum: Money | None = attrs.field(default=None, validator=_price(optional=True))

    def __attrs_post_init__(self) -> None:
        _check_percentage(self)

    @property
    def prices_each_transaction(self) -> bool:
        """True when a fee, a minimum or a maximum applies to each transaction on its own."""
        return any(
            money is not None
            for money in (self.fixed_fee, self.transaction_minimum, self.transaction_maximum)
        )


@attrs.frozen(kw_only=True)
class GraduatedPercentage:
    """Each part of the transactions' total amount taxed at the percentage of its tier.

    Flat amounts are due as in :class:`Graduated`.
    """

    tiers: tuple[PercentTier, ...] = _tiers(PercentTier)


#: A usage charge's pricing model.
ChargeModel: TypeAlias = PerUnit | Package | Graduated | Volume | Percentage | GraduatedPercentage
_MODELS: Final = (PerUnit, Package, Graduated, Volume, Percentage, GraduatedPercentage)
_PERCENTAGES: Final = (Percentage, GraduatedPercentage)


def _check_rounding(name: str, rounding: object) -> str:
    if rounding not in ROUNDINGS:
        raise InvalidArgumentError(
            f"{name}={brief(rounding)!r} must be one of the decimal.ROUND_* constants"
        )
    return rounding


@attrs.frozen(kw_only=True)
class Transformation:
    """How a measured quantity is turned into billed units: ÷ ``divide_by``, rounded.

    ``rounding`` is a ``decimal.ROUND_*`` mode: ``ROUND_UP`` bills a started hour (125
    minutes ÷ 60 → 3 hours), ``ROUND_DOWN`` only the whole ones (→ 2).

    >>> from decimal import ROUND_DOWN, ROUND_UP
    >>> Transformation(divide_by=60, rounding=ROUND_UP).apply(Fraction(125))
    Fraction(3, 1)
    >>> Transformation(divide_by=60, rounding=ROUND_DOWN).apply(Fraction(125))
    Fraction(2, 1)
    """

    divide_by: int = attrs.field(
        validator=lambda _i, a, v: check_bounded(
            a.name, v, minimum=1, maximum=int(MAX_QUANTITY), unit="units"
        )
    )
    rounding: str = attrs.field(validator=lambda _i, a, v: _check_rounding(a.name, v))

    def apply(self, quantity: Fraction) -> Fraction:
        """The billed units of a measured ``quantity``: a whole number."""
        return Fraction(round_fraction(quantity / self.divide_by, self.rounding))


# -- the usage charge -----------------------------------------------------------------------------


def _model_prices(model: ChargeModel) -> Iterable[tuple[str, Money | None]]:
    """Every price of ``model``, named by its path in the model."""
    for field in attrs.fields(type(model)):
        value = getattr(model, field.name)
        if isinstance(value, Money):
            yield f"model.{field.name}", value
        elif field.name == "tiers":
            for index, tier in enumerate(value):
                for name in ("unit_price", "flat"):
                    yield f"model.tiers[{index}].{name}", getattr(tier, name, None)


def _check_charge(instance: UsageCharge) -> None:
    code, currency = instance.code, instance.currency
    priced = [*_model_prices(instance.model), ("minimum", instance.minimum)]
    priced.append(("maximum", instance.maximum))
    for name, money in priced:
        if money is not None and money.currency != currency:
            raise InvalidArgumentError(
                f"{name}={money!r} of usage charge {code!r} must be in the charge's "
                f"currency {currency}"
            )
    low, high = instance.minimum, instance.maximum
    if low is not None and high is not None and low.amount > high.amount:
        raise InvalidArgumentError(
            f"minimum={low!r} of usage charge {code!r} must not be above maximum={high!r}"
        )
    if isinstance(instance.model, _PERCENTAGES):
        if instance.metric.aggregation is not Aggregation.SUM:
            raise InvalidArgumentError(
                f"usage charge {code!r} prices transaction amounts: its metric "
                f"{instance.metric.code!r} must add them up (aggregation=sum), not "
                f"aggregation={instance.metric.aggregation.value}"
            )
        if instance.transformation is not None:
            raise InvalidArgumentError(
                f"usage charge {code!r} prices transaction amounts, which a transformation "
                "would round: give it none"
            )


def _check_model(_instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, _MODELS):
        names = ", ".join(kind.__name__ for kind in _MODELS)
        raise InvalidTypeError(attribute.name, brief(value), f"one of {names}")


@attrs.frozen(kw_only=True)
class UsageCharge:
    """What a subscription's usage of one metric costs, billed in arrears each period.

    Attributes:
        code: the charge's code; its lines refer to it.
        description: what the customer reads on the invoice.
        metric: what is measured and how it aggregates over a period.
        model: how the quantity is priced (:data:`ChargeModel`).
        currency: the currency of every price of the charge.
        tax_rates: its taxes, as on other charges.
        transformation: how the measured quantity becomes billed units (optional).
        minimum: a minimum commitment per period: a top-up brings a lower total up to it.
        maximum: a maximum spend per period: an allowance brings a higher total down to it.
    """

    code: str = attrs.field(validator=check_text)
    description: str = attrs.field(validator=check_text)
    metric: Metric = attrs.field(validator=instance_of(Metric))
    model: ChargeModel = attrs.field(validator=_check_model)
    currency: str = attrs.field(converter=read_currency)
    tax_rates: tuple[TaxRate, ...] = attrs.field(
        default=(), converter=to_tuple, validator=check_tax_rates
    )
    transformation: Transformation | None = attrs.field(
        default=None, validator=instance_of(Transformation, optional=True)
    )
    minimum: Money | None = attrs.field(default=None, validator=_price(optional=True))
    maximum: Money | None = attrs.field(default=None, validator=_price(optional=True))

    def __attrs_post_init__(self) -> None:
        _check_charge(self)

    @property
    def model_kind(self) -> ModelKind:
        """The kind of the charge's model (``ModelKind.GRADUATED``…)."""
        return next(kind for kind, (model, _fields) in _KINDS.items() if type(self.model) is model)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Build a usage charge from plain data (a mapping read from JSON or TOML).

        Prices are written as strings (``"0.015"``) or ints, in ``currency``; the model is
        ``{"kind": …}`` with the fields of its class. Every bad field is reported at once
        in one :class:`~subbill.errors.InputError`, with its path; unknown keys are refused
        (with the closest known one), as are fields the model's kind does not take.

        >>> charge = UsageCharge.from_mapping({"code": "api", "description": "Appels API",
        ...     "currency": "EUR", "metric": {"code": "api_calls", "aggregation": "sum"},
        ...     "model": {"kind": "graduated", "tiers": [
        ...         {"up_to": 1000, "unit_price": "0.015"}, {"unit_price": "0.020"}]}})
        >>> charge.model.tiers[1].unit_price
        Money('0.020', 'EUR')
        >>> UsageCharge.from_mapping({"code": "api", "description": "API", "currency": "EUR",
        ...     "metric": {"code": "calls", "aggregation": "total"},
        ...     "model": {"kind": "per_unit", "unit_price": 0.5, "size": 3}})
        Traceback (most recent call last):
        ...
        subbill.errors.InputError: metric.aggregation: 'total' must be 'sum', 'count', ...
        model.unit_price: amount=0.5 is a float, which cannot hold an exact amount; ...
        """
        document = structure(data, _ChargeDocument)
        currency = document.currency
        problems = Problems()
        with problems.at("metric"):
            metric = Metric(**attrs.asdict(document.metric, recurse=False))
        model = _model(document.model, currency, problems)
        transformation = None
        if document.transformation is not None:
            with problems.at("transformation"):
                transformation = _transformation(document.transformation)
        limits = _fields(document, ("minimum", "maximum"), currency, problems)
        return problems.build(
            lambda: cls(
                code=document.code,
                description=document.description,
                metric=metric,
                model=model,  # type: ignore[arg-type]  # built when no problem was met
                currency=currency,
                tax_rates=document.tax_rates,
                transformation=transformation,
                **limits,
            )
        )


def _check_span(instance: ScheduledUsage) -> None:
    check_billing_date("start", instance.start)
    if instance.end is not None:
        check_billing_date("end", instance.end)
        if instance.end < instance.start:
            raise InvalidPeriodError(
                f"end={instance.end.isoformat()} of usage charge {instance.charge.code!r} must "
                f"not be before start={instance.start.isoformat()}"
            )
    instance.schedule  # noqa: B018  (builds, and so checks, the billing day and anchor)


@attrs.frozen(kw_only=True)
class ScheduledUsage:
    """A usage charge on a subscription's billing cycle, billed in arrears from ``start``.

    Each billing period of the schedule (``frequency``, ``billing_day``, ``anchor``, as a
    :class:`~subbill.charges.RecurringCharge` has them) is billed once it has ended; the
    first and last periods are the part of theirs that ``[start, end)`` covers. In such a
    partial period only the records dated in it count, the minimum commitment and the
    maximum spend are prorated by days (``share``: its days ÷ the whole period's), and a
    time-weighted metric (seats held) counts value-days over the whole period's days.

    >>> from subbill.money import Money
    >>> api = UsageCharge(code="api", description="API", currency="EUR",
    ...     metric=Metric(code="calls", aggregation=Aggregation.SUM),
    ...     model=PerUnit(unit_price=Money("0.01", "EUR")))
    >>> ScheduledUsage(charge=api, start=date(2026, 3, 10), billing_day=1).key
    'api@2026-03-10'
    """

    charge: UsageCharge = attrs.field(validator=instance_of(UsageCharge))
    start: date
    end: date | None = None
    frequency: Frequency = attrs.field(default=MONTHLY, validator=instance_of(Frequency))
    billing_day: int | None = None
    anchor: date | None = None

    def __attrs_post_init__(self) -> None:
        _check_span(self)

    @property
    def key(self) -> str:
        """Identifies the charge in a billing state: ``code@start``."""
        return f"{self.charge.code}@{self.start.isoformat()}"

    @property
    def code(self) -> str:
        """The charge's code."""
        return self.charge.code

    @property
    def currency(self) -> str:
        """The charge's currency."""
        return self.charge.currency

    @property
    def schedule(self) -> BillingSchedule:
        """The billing schedule the charge's periods follow."""
        return schedule_for(
            self.start, self.frequency, billing_day=self.billing_day, anchor=self.anchor
        )

    def ending(self, *, on: date) -> ScheduledUsage:
        """Return the charge ended on ``on`` (exclusive): its last period is billed to there."""
        return attrs.evolve(self, end=on)

    @property
    def terms_digest(self) -> str:
        """A digest of what the charge's periods are priced with, recorded when it is billed.

        Its metric, model and prices, transformation, minimum and maximum, tax rates and
        calendar: billing refuses to price billed periods of the charge again at other
        terms (end it and start another). Each field by its value, never a ``repr``; a
        field left at ``None`` is not written, so that an optional field added in a later
        version does not make every billed charge look changed.

        >>> api = UsageCharge(code="api", description="API", currency="EUR",
        ...     metric=Metric(code="calls", aggregation=Aggregation.SUM),
        ...     model=PerUnit(unit_price=Money("0.01", "EUR")))
        >>> usage = ScheduledUsage(charge=api, start=date(2026, 3, 1))
        >>> usage.terms_digest == attrs.evolve(usage, charge=attrs.evolve(api,
        ...     description="Appels API")).terms_digest
        True
        """
        charge, schedule = self.charge, self.schedule
        return terms_digest(
            _terms_of(charge.metric),
            type(charge.model).__name__,
            _terms_of(charge.model),
            _terms_of(charge.transformation),
            _terms_of(charge.minimum),
            _terms_of(charge.maximum),
            tuple((str(rate.percent), rate.inclusive) for rate in charge.tax_rates),
            schedule.anchor,
            schedule.frequency,
            schedule.day,
        )


def _terms_of(value: object) -> object:
    """``value`` as a terms digest writes it: amounts as written, records field by field."""
    if isinstance(value, Money):
        return (str(value.amount), value.currency)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return tuple(_terms_of(item) for item in value)
    if attrs.has(type(value)):
        return tuple(
            (field.name, _terms_of(found))
            for field in attrs.fields(type(value))  # type: ignore[arg-type]  # an attrs class
            if (found := getattr(value, field.name)) is not None
        )
    return value if value is None or isinstance(value, int | str) else str(value)


# -- pricing --------------------------------------------------------------------------------------


class PieceKind(enum.Enum):
    """What one piece of a usage price is."""

    UNITS = "units"  # quantity × unit price (+ a tier's flat amount)
    FREE_UNITS = "free_units"  # units a package model gives free
    PACKAGES = "packages"  # packages × package price
    PERCENT = "percent"  # a percentage of an amount (+ a tier's flat amount)
    TRANSACTION_FEES = "transaction_fees"  # transactions × fixed fee
    TRANSACTION_MINIMUM = "transaction_minimum"  # what raised transactions to their minimum
    TRANSACTION_MAXIMUM = "transaction_maximum"  # what lowered transactions to their maximum
    MINIMUM_COMMITMENT = "minimum_commitment"  # the top-up to the minimum commitment
    MAXIMUM_SPEND = "maximum_spend"  # the allowance down to the maximum spend


@attrs.frozen(kw_only=True)
class UsagePiece:
    """One exact piece of a usage price: ``quantity × unit_price (or percent) + flat``.

    Attributes:
        kind: what the piece is (:class:`PieceKind`).
        quantity: units, packages or transactions counted, or the amount a percentage
            is of (exact); ``1`` for a top-up or an allowance.
        unit_price: the price of one unit, package or transaction, if any.
        percent: the percentage, for a piece that is one.
        flat: a tier's flat amount, if any.
        tier: the tier's number (from 1), for a piece of a tiered model.
        subtotal: the piece's exact amount, in major units of the charge's currency.
    """

    kind: PieceKind
    quantity: Fraction
    unit_price: Money | None = None
    percent: Decimal | None = None
    flat: Money | None = None
    tier: int | None = None
    subtotal: Fraction


@attrs.frozen(kw_only=True)
class UsagePrice:
    """What a usage charge costs for one period, and how.

    Attributes:
        code: the charge's code. period: the period priced. currency: its currency.
        measured: what the metric aggregated over the period (exact).
        quantity: what was priced: ``measured`` after the charge's transformation.
        transformation: the charge's transformation, if any.
        transactions: how many transactions a percentage model priced one by one
            (``None`` when it priced a total).
        pieces: the exact pieces, in order; they add up exactly to ``unrounded``.
        minimum, maximum: the charge's minimum commitment and maximum spend, if any.
        share: the share of a whole period the priced one is (``1``; ``12/31`` for the
            first 12 days of a 31-day period): the minimum and maximum apply times it.
        unrounded: the exact amount, in major units.
        amount: ``unrounded`` rounded once to the currency's minor unit.
    """

    code: str
    period: Period
    currency: str
    measured: Fraction
    quantity: Fraction
    transformation: Transformation | None = None
    transactions: int | None = None
    pieces: tuple[UsagePiece, ...]
    minimum: Money | None = None
    maximum: Money | None = None
    share: Fraction = Fraction(1)
    unrounded: Fraction
    amount: Money

    def limit(self, kind: PieceKind) -> Fraction | None:
        """The exact minimum commitment or maximum spend of this period (times its share).

        ``None`` when the charge has none of that ``kind``.
        """
        money = self.minimum if kind is PieceKind.MINIMUM_COMMITMENT else self.maximum
        return None if money is None else _exact(money) * self.share


#: A quantity to price, or the records it is aggregated from.
UsageInput: TypeAlias = int | Decimal | Fraction | Iterable[UsageRecord]


def _priced_quantity(value: object) -> Fraction:
    if isinstance(value, Fraction):
        if value < 0:
            raise InvalidQuantityError(f"quantity={value!r} must be >= 0")
        if value > MAX_QUANTITY or value.denominator > _MAX_DENOMINATOR:
            raise OutOfBoundsError(
                "quantity", brief(value), "at most 10^12, with a denominator of at most 10^12"
            )
        return value
    return Fraction(to_quantity(value))


def price_usage(
    charge: UsageCharge,
    usage: UsageInput,
    period: Period,
    *,
    rounding: str = ROUND_HALF_UP,
    share: Fraction = Fraction(1),
) -> UsagePrice:
    """Price ``charge`` for ``period``: exact pieces, the exact amount, and it rounded once.

    ``usage`` is the quantity already aggregated (an int, a ``Decimal`` or a ``Fraction``),
    or the records to aggregate with the charge's metric (:func:`aggregate`). A
    :class:`Percentage` model with a fixed fee, a minimum or a maximum per transaction
    prices each record as one transaction, so it needs the records. ``rounding`` is the
    ``decimal.ROUND_*`` mode of the one rounding to the currency's minor unit. ``share``
    (above 0, at most 1) is the part of a whole billing period that ``period`` is: the
    minimum commitment and the maximum spend of a partial period are theirs times it.

    >>> from decimal import ROUND_UP
    >>> calls = UsageCharge(code="calls", description="Calls", currency="EUR",
    ...     metric=Metric(code="minutes", aggregation=Aggregation.SUM),
    ...     model=PerUnit(unit_price=Money("0.50", "EUR")),
    ...     transformation=Transformation(divide_by=60, rounding=ROUND_UP),
    ...     minimum=Money("5", "EUR"))
    >>> price = price_usage(calls, 125, Period(date(2026, 3, 1), date(2026, 4, 1)))
    >>> price.quantity, [(p.kind.value, p.subtotal) for p in price.pieces], price.amount
    (Fraction(3, 1), [('units', Fraction(3, 2)), ('minimum_commitment', Fraction(7, 2))], \
Money('5.00', 'EUR'))
    """
    check_instance("charge", charge, UsageCharge)
    check_instance("period", period, Period)
    _check_rounding("rounding", rounding)
    _check_share(share)
    model = charge.model
    transactions: list[Fraction] | None = None
    if isinstance(usage, int | Decimal | Fraction | str | float):
        measured = _priced_quantity(usage)
        if isinstance(model, Percentage) and model.prices_each_transaction:
            raise InvalidArgumentError(
                f"usage charge {charge.code!r} prices each transaction (a fixed fee, a minimum "
                f"or a maximum per transaction): pass its records, not usage={brief(usage)!r}"
            )
    else:
        records = _metric_records(charge.metric, check_items("usage", usage, UsageRecord))
        measured = aggregate(charge.metric, records, period)
        if isinstance(model, Percentage) and model.prices_each_transaction:
            transactions = [Fraction(r.quantity) for r in records if r.used_on in period]
    quantity = measured if charge.transformation is None else charge.transformation.apply(measured)
    pieces = _price_model(model, quantity, transactions)
    pieces += _limits(charge, sum((piece.subtotal for piece in pieces), _ZERO), share)
    unrounded = sum((piece.subtotal for piece in pieces), _ZERO)
    return UsagePrice(
        code=charge.code,
        period=period,
        currency=charge.currency,
        measured=measured,
        quantity=quantity,
        transformation=charge.transformation,
        transactions=None if transactions is None else len(transactions),
        pieces=tuple(pieces),
        minimum=charge.minimum,
        maximum=charge.maximum,
        share=share,
        unrounded=unrounded,
        amount=_rounded(unrounded, charge, rounding),
    )


def _check_share(share: object) -> None:
    if not isinstance(share, Fraction):
        raise InvalidTypeError("share", brief(share), "a Fraction above 0 and at most 1")
    if not 0 < share <= 1:
        raise OutOfBoundsError("share", brief(share), "above 0 and at most 1")


def _rounded(unrounded: Fraction, charge: UsageCharge, rounding: str) -> Money:
    if abs(unrounded) >= MAX_AMOUNT:
        raise OutOfBoundsError(
            "amount",
            brief(unrounded),
            f"below 10^{MAX_AMOUNT.adjusted()} in magnitude (usage charge {charge.code!r}: "
            "the usage priced is beyond what one charge bills)",
        )
    scale = 10 ** currency_precision(charge.currency)
    return Money.from_minor_units(round_fraction(unrounded * scale, rounding), charge.currency)


def _exact(money: Money | None) -> Fraction:
    return _ZERO if money is None else Fraction(money.amount)


def _price_model(
    model: ChargeModel, quantity: Fraction, transactions: list[Fraction] | None
) -> list[UsagePiece]:
    match model:
        case PerUnit(unit_price=price):
            return [
                UsagePiece(
                    kind=PieceKind.UNITS,
                    quantity=quantity,
                    unit_price=price,
                    subtotal=quantity * _exact(price),
                )
            ]
        case Package():
            return _package(model, quantity)
        case Graduated(tiers=tiers):
            return _graduated(tiers, quantity)
        case Volume(tiers=tiers):
            return _volume(tiers, quantity)
        case Percentage():
            return _percentage(model, quantity, transactions)
        case GraduatedPercentage(tiers=tiers):
            return _graduated(tiers, quantity)
    raise AssertionError(model)  # pragma: no cover  (the charge checks its model)


def _package(model: Package, quantity: Fraction) -> list[UsagePiece]:
    pieces: list[UsagePiece] = []
    free = min(quantity, Fraction(model.free_units))
    if model.free_units:
        pieces.append(UsagePiece(kind=PieceKind.FREE_UNITS, quantity=free, subtotal=_ZERO))
    packages = Fraction(math.ceil((quantity - free) / model.size))
    pieces.append(
        UsagePiece(
            kind=PieceKind.PACKAGES,
            quantity=packages,
            unit_price=model.price,
            subtotal=packages * _exact(model.price),
        )
    )
    return pieces


def _rate(tier: Tier | PercentTier) -> tuple[Fraction, dict[str, Any]]:
    """A tier's price of one unit (or of one unit of amount), and how a piece shows it."""
    if isinstance(tier, PercentTier):
        if tier.percent is None:
            return _ZERO, {}
        return Fraction(tier.percent) / _HUNDRED, {"percent": tier.percent}
    if tier.unit_price is None:
        return _ZERO, {}
    return _exact(tier.unit_price), {"unit_price": tier.unit_price}


def _tier_piece(
    tier: Tier | PercentTier, number: int, quantity: Fraction, *, flat: bool = True
) -> UsagePiece:
    rate, shown = _rate(tier)
    kind = PieceKind.PERCENT if isinstance(tier, PercentTier) else PieceKind.UNITS
    due = tier.flat if flat else None
    return UsagePiece(
        kind=kind,
        quantity=quantity,
        flat=due,
        tier=number,
        subtotal=quantity * rate + _exact(due),
        **shown,
    )


def _graduated(tiers: Sequence[Tier | PercentTier], quantity: Fraction) -> list[UsagePiece]:
    pieces: list[UsagePiece] = []
    lower = _ZERO
    for number, tier in enumerate(tiers, start=1):
        if number > 1 and quantity <= lower:
            break  # usage never entered this tier: nothing of it, not even its flat amount
        upper = None if tier.up_to is None else Fraction(tier.up_to)
        inside = quantity - lower if upper is None else min(quantity, upper) - lower
        pieces.append(_tier_piece(tier, number, inside))
        if upper is None:
            break
        lower = upper
    return pieces


def _volume(tiers: tuple[Tier, ...], quantity: Fraction) -> list[UsagePiece]:
    for number, tier in enumerate(tiers, start=1):
        if tier.up_to is None or quantity <= tier.up_to:
            return [_tier_piece(tier, number, quantity)]
    raise AssertionError(tiers)  # pragma: no cover  (the last tier is unbounded)


def _percentage(
    model: Percentage, quantity: Fraction, transactions: list[Fraction] | None
) -> list[UsagePiece]:
    rate = Fraction(model.percent) / _HUNDRED
    pieces = [
        UsagePiece(
            kind=PieceKind.PERCENT,
            quantity=quantity,
            percent=model.percent,
            subtotal=quantity * rate,
        )
    ]
    if transactions is None:
        return pieces
    fee = _exact(model.fixed_fee)
    if model.fixed_fee is not None:
        count = Fraction(len(transactions))
        pieces.append(
            UsagePiece(
                kind=PieceKind.TRANSACTION_FEES,
                quantity=count,
                unit_price=model.fixed_fee,
                subtotal=count * fee,
            )
        )
    raised, lowered = [], []
    for amount in transactions:
        due = amount * rate + fee
        if model.transaction_minimum is not None and due < _exact(model.transaction_minimum):
            raised.append(_exact(model.transaction_minimum) - due)
        elif model.transaction_maximum is not None and due > _exact(model.transaction_maximum):
            lowered.append(_exact(model.transaction_maximum) - due)
    for kind, limit, moves in (
        (PieceKind.TRANSACTION_MINIMUM, model.transaction_minimum, raised),
        (PieceKind.TRANSACTION_MAXIMUM, model.transaction_maximum, lowered),
    ):
        if moves:
            pieces.append(
                UsagePiece(
                    kind=kind,
                    quantity=Fraction(len(moves)),
                    unit_price=limit,
                    subtotal=sum(moves, _ZERO),
                )
            )
    return pieces


def _limits(charge: UsageCharge, total: Fraction, share: Fraction) -> list[UsagePiece]:
    """The top-up to the minimum commitment, or the allowance down to the maximum spend.

    Both are ``share`` of the charge's (the part of a whole period that is priced).
    """
    low = None if charge.minimum is None else _exact(charge.minimum) * share
    high = None if charge.maximum is None else _exact(charge.maximum) * share
    if low is not None and total < low:
        kind, subtotal = PieceKind.MINIMUM_COMMITMENT, low - total
    elif high is not None and total > high:
        kind, subtotal = PieceKind.MAXIMUM_SPEND, high - total
    else:
        return []
    return [UsagePiece(kind=kind, quantity=Fraction(1), subtotal=subtotal)]


# -- the charge as plain data --------------------------------------------------------------------


class ModelKind(enum.Enum):
    """The kind of a usage charge's model, as plain data names it (``"graduated"``)."""

    PER_UNIT = "per_unit"
    PACKAGE = "package"
    GRADUATED = "graduated"
    VOLUME = "volume"
    PERCENTAGE = "percentage"
    GRADUATED_PERCENTAGE = "graduated_percentage"


#: Each kind of model, its class and the fields of the data it takes.
_KINDS: Final[dict[ModelKind, tuple[type, frozenset[str]]]] = {
    ModelKind.PER_UNIT: (PerUnit, frozenset({"unit_price"})),
    ModelKind.PACKAGE: (Package, frozenset({"price", "size", "free_units"})),
    ModelKind.GRADUATED: (Graduated, frozenset({"tiers"})),
    ModelKind.VOLUME: (Volume, frozenset({"tiers"})),
    ModelKind.PERCENTAGE: (
        Percentage,
        frozenset({"percent", "fixed_fee", "transaction_minimum", "transaction_maximum"}),
    ),
    ModelKind.GRADUATED_PERCENTAGE: (GraduatedPercentage, frozenset({"tiers"})),
}

#: The decimal rounding modes as the data names them (``"up"`` is ``decimal.ROUND_UP``).
_ROUNDING_NAMES: Final = {mode.removeprefix("ROUND_").lower(): mode for mode in ROUNDINGS}


@attrs.frozen(kw_only=True)
class _TierDocument:
    up_to: Decimal | None = None
    unit_price: Price | None = None
    percent: Percent | None = None
    flat: Price | None = None


@attrs.frozen(kw_only=True)
class _ModelDocument:
    kind: ModelKind
    unit_price: Price | None = None
    price: Price | None = None
    size: Positive | None = None
    free_units: Quantity | None = None
    tiers: tuple[_TierDocument, ...] | None = None
    percent: Percent | None = None
    fixed_fee: Price | None = None
    transaction_minimum: Price | None = None
    transaction_maximum: Price | None = None


@attrs.frozen(kw_only=True)
class _MetricDocument:
    code: Text
    aggregation: Aggregation
    property_name: Text | None = None


@attrs.frozen(kw_only=True)
class _TransformationDocument:
    divide_by: Positive
    rounding: Text


@attrs.frozen(kw_only=True)
class _ChargeDocument:
    code: Text
    description: Text
    currency: Currency
    metric: _MetricDocument
    model: _ModelDocument
    tax_rates: TaxRates = attrs.field(factory=tuple)  # type: ignore[assignment]
    transformation: _TransformationDocument | None = None
    minimum: Price | None = None
    maximum: Price | None = None


_PRICES: Final = frozenset(
    {
        "unit_price",
        "price",
        "flat",
        "fixed_fee",
        "transaction_minimum",
        "transaction_maximum",
        "minimum",
        "maximum",
    }
)


def _fields(
    document: Any, names: Iterable[str], currency: str, problems: Problems, path: str = ""
) -> dict[str, Any]:
    """The given fields of ``document``, its prices as ``Money`` in ``currency``.

    A price beyond the bounds of an amount is recorded under its path, and left out.
    """
    fields: dict[str, Any] = {}
    for name in names:
        value = getattr(document, name)
        if value is None:
            continue
        if name not in _PRICES:
            fields[name] = value
            continue
        with problems.at(join_path(path, name)):
            fields[name] = Money(value, currency)
    return fields


def _foreign(document: Any, taken: Iterable[str], path: str, what: str, problems: Problems) -> None:
    """Record each field given in ``document`` that ``what`` does not take."""
    names = sorted(taken)
    for field in attrs.fields(type(document)):
        if field.name not in (*names, "kind") and getattr(document, field.name) is not None:
            problems.add(
                join_path(path, field.name),
                f"is not a field of {what} (its fields: {', '.join(names)})",
            )


def _model(document: _ModelDocument, currency: str, problems: Problems) -> ChargeModel | None:
    """The model of ``document``, or ``None`` with its problems recorded under ``model``."""
    kind, taken = _KINDS[document.kind]
    found = len(problems.found)
    what = f"a {document.kind.value} model"
    _foreign(document, taken, "model", what, problems)
    fields = _fields(document, taken, currency, problems, "model")
    if "tiers" in fields:
        tier: type[Tier | PercentTier] = PercentTier if kind is GraduatedPercentage else Tier
        names = ("up_to", "percent" if tier is PercentTier else "unit_price", "flat")
        tiers = []
        for index, item in enumerate(fields["tiers"]):
            path = f"model.tiers[{index}]"
            _foreign(item, names, path, f"a tier of {what}", problems)
            values = _fields(item, names, currency, problems, path)
            with problems.at(path):
                tiers.append(tier(**values))
        fields["tiers"] = tuple(tiers)
    if len(problems.found) > found:
        return None
    with problems.at("model"):
        return kind(**fields)  # type: ignore[no-any-return]
    return None


def _transformation(document: _TransformationDocument) -> Transformation:
    mode = _ROUNDING_NAMES.get(document.rounding)
    if mode is None:
        names = ", ".join(sorted(_ROUNDING_NAMES))
        raise InvalidArgumentError(f"rounding={document.rounding!r} must be one of {names}")
    return Transformation(divide_by=document.divide_by, rounding=mode)

"""Bad inputs of usage billing (issue 15): records, metrics, charge models, pricing, plain data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_UP
from fractions import Fraction

from subbill import Money, Period
from subbill.errors import (
    CardDataError,
    FloatAmountError,
    InputError,
    InvalidAmountError,
    InvalidArgumentError,
    InvalidDateError,
    InvalidQuantityError,
    InvalidTypeError,
    OutOfBoundsError,
    UnknownCurrencyError,
)
from subbill.l10n import describe_usage
from subbill.metering import (
    Aggregation,
    Graduated,
    Metric,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    Tier,
    Transformation,
    UsageCharge,
    UsageRecord,
    aggregate,
    deduplicate,
    price_usage,
)
from tests.adversarial import Case

EUR = Money("1", "EUR")
MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))
SUM = Metric(code="calls", aggregation=Aggregation.SUM)


def _record(**fields: object) -> Callable[[], object]:
    values: dict[str, object] = {
        "subscription": "S1",
        "metric": "calls",
        "quantity": 1,
        "used_on": date(2026, 3, 2),
        "key": "evt_1",
    }
    values.update(fields)
    return lambda: UsageRecord(**values)  # type: ignore[arg-type]


def _charge(**fields: object) -> Callable[[], object]:
    values: dict[str, object] = {
        "code": "api",
        "description": "API",
        "currency": "EUR",
        "metric": SUM,
        "model": PerUnit(unit_price=EUR),
    }
    values.update(fields)
    return lambda: UsageCharge(**values)  # type: ignore[arg-type]


RECORD = UsageRecord(
    subscription="S1", metric="calls", quantity=1, used_on=date(2026, 3, 2), key="evt_1"
)
PER_UNIT = UsageCharge(
    code="api", description="API", currency="EUR", metric=SUM, model=PerUnit(unit_price=EUR)
)
DATA = {
    "code": "api",
    "description": "API",
    "currency": "EUR",
    "metric": {"code": "calls", "aggregation": "sum"},
    "model": {"kind": "per_unit", "unit_price": "0.01"},
}

CASES = [
    # -- records
    Case("metering-record-negative-quantity", _record(quantity=-1), InvalidQuantityError),
    Case("metering-record-float-quantity", _record(quantity=1.5), FloatAmountError),
    Case("metering-record-quantity-too-large", _record(quantity=10**13), OutOfBoundsError),
    Case("metering-record-datetime", _record(used_on=datetime(2026, 3, 2)), InvalidDateError),  # noqa: DTZ001
    Case("metering-record-key-newline", _record(key="evt\n1"), InvalidArgumentError),
    Case("metering-record-empty-subscription", _record(subscription=" "), InvalidArgumentError),
    Case("metering-record-properties-list", _record(properties=["a"]), InvalidTypeError),
    Case("metering-record-property-int", _record(properties={"user": 42}), InvalidTypeError),
    Case(
        "metering-record-property-key-control",
        _record(properties={"us\x1ber": "a"}),
        InvalidArgumentError,
    ),
    Case(
        "metering-dedupe-key-reused",
        lambda: deduplicate(
            [
                RECORD,
                UsageRecord(
                    subscription="S1",
                    metric="calls",
                    quantity=2,
                    used_on=date(2026, 3, 2),
                    key="evt_1",
                ),
            ]
        ),
        InvalidArgumentError,
    ),
    Case("metering-dedupe-not-records", lambda: deduplicate([RECORD, "evt"]), InvalidTypeError),
    Case("metering-dedupe-a-string", lambda: deduplicate("evt_1"), InvalidTypeError),
    # -- metrics and aggregation
    Case(
        "metering-metric-unique-without-property",
        lambda: Metric(code="users", aggregation=Aggregation.UNIQUE_COUNT),
        InvalidArgumentError,
    ),
    Case(
        "metering-metric-property-without-unique",
        lambda: Metric(code="calls", aggregation=Aggregation.SUM, property_name="user"),
        InvalidArgumentError,
    ),
    Case(
        "metering-metric-aggregation-string",
        lambda: Metric(code="calls", aggregation="sum"),
        InvalidTypeError,
    ),
    Case(
        "metering-aggregate-two-subscriptions",
        lambda: aggregate(
            SUM,
            [
                RECORD,
                UsageRecord(
                    subscription="S2", metric="calls", quantity=1, used_on=date(2026, 3, 2), key="e"
                ),
            ],
            MARCH,
        ),
        InvalidArgumentError,
    ),
    Case("metering-aggregate-no-period", lambda: aggregate(SUM, [RECORD], None), InvalidTypeError),
    Case(
        "metering-aggregate-no-metric",
        lambda: aggregate("calls", [RECORD], MARCH),
        InvalidTypeError,
    ),
    # -- models
    Case("metering-tier-without-price", lambda: Tier(up_to=10), InvalidArgumentError),
    Case(
        "metering-tier-negative-price",
        lambda: Tier(unit_price=Money("-1", "EUR")),
        InvalidArgumentError,
    ),
    Case("metering-tier-float-price", lambda: Tier(unit_price=0.5), FloatAmountError),
    Case("metering-tier-zero-bound", lambda: Tier(up_to=0, flat=EUR), InvalidQuantityError),
    Case("metering-tiers-empty", lambda: Graduated(tiers=()), InvalidArgumentError),
    Case(
        "metering-tiers-last-bounded",
        lambda: Graduated(tiers=(Tier(up_to=10, flat=EUR),)),
        InvalidArgumentError,
    ),
    Case(
        "metering-tiers-unbounded-in-the-middle",
        lambda: Graduated(tiers=(Tier(flat=EUR), Tier(flat=EUR))),
        InvalidArgumentError,
    ),
    Case(
        "metering-tiers-percent-tier-in-graduated",
        lambda: Graduated(tiers=(PercentTier(percent=2),)),
        InvalidTypeError,
    ),
    Case("metering-package-size-zero", lambda: Package(price=EUR, size=0), InvalidArgumentError),
    Case("metering-package-size-string", lambda: Package(price=EUR, size="100"), InvalidTypeError),
    Case("metering-percentage-above-100", lambda: Percentage(percent=120), InvalidArgumentError),
    Case("metering-percentage-nan", lambda: Percentage(percent="NaN"), InvalidAmountError),
    Case(
        "metering-percentage-minimum-above-maximum",
        lambda: Percentage(
            percent=1, transaction_minimum=Money("5", "EUR"), transaction_maximum=EUR
        ),
        InvalidArgumentError,
    ),
    Case(
        "metering-transformation-divide-by-zero",
        lambda: Transformation(divide_by=0, rounding=ROUND_UP),
        InvalidArgumentError,
    ),
    Case(
        "metering-transformation-rounding-word",
        lambda: Transformation(divide_by=60, rounding="up"),
        InvalidArgumentError,
    ),
    # -- charges
    Case(
        "metering-charge-price-in-another-currency",
        _charge(model=PerUnit(unit_price=Money("1", "USD"))),
        InvalidArgumentError,
    ),
    Case(
        "metering-charge-minimum-above-maximum",
        _charge(minimum=Money("10", "EUR"), maximum=EUR),
        InvalidArgumentError,
    ),
    Case(
        "metering-charge-percentage-of-a-count",
        _charge(
            metric=Metric(code="calls", aggregation=Aggregation.COUNT),
            model=Percentage(percent=2),
        ),
        InvalidArgumentError,
    ),
    Case(
        "metering-charge-percentage-transformed",
        _charge(
            model=Percentage(percent=2),
            transformation=Transformation(divide_by=10, rounding=ROUND_UP),
        ),
        InvalidArgumentError,
    ),
    Case("metering-charge-model-mapping", _charge(model={"kind": "per_unit"}), InvalidTypeError),
    Case("metering-charge-currency", _charge(currency="EUX"), UnknownCurrencyError),
    # -- pricing
    Case("metering-price-negative", lambda: price_usage(PER_UNIT, -1, MARCH), InvalidQuantityError),
    Case("metering-price-float", lambda: price_usage(PER_UNIT, 1.5, MARCH), FloatAmountError),
    Case("metering-price-text", lambda: price_usage(PER_UNIT, "lots", MARCH), InvalidAmountError),
    Case("metering-price-none", lambda: price_usage(PER_UNIT, None, MARCH), InvalidTypeError),
    Case(
        "metering-price-huge-fraction",
        lambda: price_usage(PER_UNIT, Fraction(1, 10**20), MARCH),
        OutOfBoundsError,
    ),
    Case(
        "metering-price-beyond-an-amount",
        lambda: price_usage(
            UsageCharge(
                code="api",
                description="API",
                currency="EUR",
                metric=SUM,
                model=PerUnit(unit_price=Money("10000", "EUR")),
            ),
            10**12,
            MARCH,
        ),
        OutOfBoundsError,
    ),
    Case(
        "metering-price-rounding",
        lambda: price_usage(PER_UNIT, 1, MARCH, rounding="half-up"),
        InvalidArgumentError,
    ),
    Case("metering-price-no-charge", lambda: price_usage(None, 1, MARCH), InvalidTypeError),
    Case(
        "metering-price-per-transaction-without-records",
        lambda: price_usage(
            UsageCharge(
                code="pay",
                description="Paiements",
                currency="EUR",
                metric=SUM,
                model=Percentage(percent=2, fixed_fee=EUR),
            ),
            100,
            MARCH,
        ),
        InvalidArgumentError,
    ),
    Case(
        "metering-describe-not-a-price",
        lambda: describe_usage(PER_UNIT, locale="fr_FR"),
        InvalidTypeError,
    ),
    # -- plain data
    Case(
        "metering-data-float-price",
        lambda: UsageCharge.from_mapping(
            {**DATA, "model": {"kind": "per_unit", "unit_price": 0.01}}
        ),
        InputError,
    ),
    Case(
        "metering-data-unknown-kind",
        lambda: UsageCharge.from_mapping({**DATA, "model": {"kind": "tiered"}}),
        InputError,
    ),
    Case(
        "metering-data-field-of-another-kind",
        lambda: UsageCharge.from_mapping(
            {**DATA, "model": {"kind": "per_unit", "unit_price": "1", "size": 5}}
        ),
        InputError,
    ),
    Case(
        "metering-data-missing-model",
        lambda: UsageCharge.from_mapping({k: v for k, v in DATA.items() if k != "model"}),
        InputError,
    ),
    Case(
        "metering-data-typo", lambda: UsageCharge.from_mapping({**DATA, "maximun": "5"}), InputError
    ),
    Case(
        "metering-data-card-code",
        lambda: UsageCharge.from_mapping({**DATA, "cvc": "123"}),
        CardDataError,
    ),
    Case(
        "metering-data-minimum-above-maximum",
        lambda: UsageCharge.from_mapping({**DATA, "minimum": "10", "maximum": "5"}),
        InputError,
    ),
]

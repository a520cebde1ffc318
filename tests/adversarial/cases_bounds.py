"""Bad inputs beyond the bounds: amounts, quantities, percentages, counts, days and dates.

Each is refused where it is built with ``OutOfBoundsError`` (or the more specific class that
already fits: a billing day, a percentage above 100, a negative quantity), never as a raw
``decimal.InvalidOperation``, ``OverflowError`` or "year out of range" later.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from subbill import (
    MONTHLY,
    BillingSchedule,
    BillingStart,
    ChargePlan,
    Discount,
    Duration,
    Frequency,
    LineItem,
    Money,
    OneTimeCharge,
    Payment,
    Period,
    RecurringCharge,
    TaxRate,
    bill_subscription,
    billable_periods,
    prorate,
)
from subbill.charges import to_quantity
from subbill.errors import (
    InvalidArgumentError,
    InvalidBillingDayError,
    InvalidFrequencyError,
    InvalidQuantityError,
    OutOfBoundsError,
)
from subbill.periods import FrequencyUnit, add_months, check_payment_terms_days
from tests.adversarial import Case

FAR = date(9999, 12, 31)
ANCIENT = date(1, 1, 1)
START = date(2026, 3, 1)
T = TypeVar("T")


def eur(amount: object) -> Money:
    return Money(amount, "EUR")  # type: ignore[arg-type]


def _builder(kind: Callable[..., T], **defaults: Any) -> Callable[..., T]:
    """Build ``kind`` from ``defaults``, any of them replaced by the keywords of the call."""

    def build(**fields: Any) -> T:
        return kind(**{**defaults, **fields})

    return build


charge = _builder(RecurringCharge, code="pro", description="Pro", unit_price=eur("10"), start=START)
one_time = _builder(
    OneTimeCharge, code="setup", description="Setup", unit_price=eur("10"), due_on=START
)
line = _builder(LineItem, code="site", name="Site", unit_price=eur("10"))


def subscription() -> ChargePlan:
    return ChargePlan(id="S1", customer="ACME", currency="EUR", charges=(charge(),))


SEATS = charge(quantity=3)
SEATS_BEFORE = repr(SEATS)
SCHEDULE = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY)


def _seats_unchanged() -> bool:
    return repr(SEATS) == SEATS_BEFORE


CASES = [
    # -- amounts: |amount| < 10^15, at most 9 decimal places ---------------------------------
    Case("bounds-money-1e999", lambda: Money("1e999", "EUR"), OutOfBoundsError),
    Case("bounds-money-minus-1e999", lambda: Money("-1e999", "EUR"), OutOfBoundsError),
    Case("bounds-money-1e-999999", lambda: Money("1e-999999", "EUR"), OutOfBoundsError),
    Case("bounds-money-exactly-1e15", lambda: Money("1E+15", "EUR"), OutOfBoundsError),
    Case("bounds-money-int-1e15", lambda: Money(10**15, "USD"), OutOfBoundsError),
    Case("bounds-money-negative-1e15", lambda: Money(-(10**15), "JPY"), OutOfBoundsError),
    Case("bounds-money-decimal-1e16", lambda: Money(Decimal("1E+16"), "EUR"), OutOfBoundsError),
    Case("bounds-money-huge-int", lambda: Money(10**5000, "EUR"), OutOfBoundsError),
    Case("bounds-money-5000-nines", lambda: Money("9" * 5000, "EUR"), OutOfBoundsError),
    Case("bounds-money-ten-places", lambda: Money("0.0000000001", "EUR"), OutOfBoundsError),
    Case("bounds-money-price-ten-places", lambda: Money("19.9999999999", "EUR"), OutOfBoundsError),
    Case(
        "bounds-money-decimal-1e-30",
        lambda: Money(Decimal("1E-30"), "KWD"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-minor-units-1e18-cents",
        lambda: Money.from_minor_units(10**18, "EUR"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-minor-units-minus-1e30-yen",
        lambda: Money.from_minor_units(-(10**30), "JPY"),
        OutOfBoundsError,
    ),
    # -- quantities: 0 to 10^12, at most 6 decimal places ------------------------------------
    Case("bounds-quantity-1e12-plus-1", lambda: charge(quantity=10**12 + 1), OutOfBoundsError),
    Case("bounds-quantity-1e13-str", lambda: charge(quantity="1e13"), OutOfBoundsError),
    Case("bounds-quantity-seven-places", lambda: charge(quantity="0.0000001"), OutOfBoundsError),
    Case("bounds-quantity-1e-999999", lambda: to_quantity("1e-999999"), OutOfBoundsError),
    Case("bounds-quantity-1e999999999", lambda: to_quantity("1e999999999"), OutOfBoundsError),
    Case("bounds-quantity-negative", lambda: charge(quantity=-2), InvalidQuantityError),
    Case("bounds-one-time-quantity-1e15", lambda: one_time(quantity=10**15), OutOfBoundsError),
    Case("bounds-line-item-quantity-1e13", lambda: line(quantity=10**13), OutOfBoundsError),
    Case(
        "bounds-change-quantity-1e13",
        lambda: SEATS.change(on=date(2026, 3, 13), quantity=10**13),
        OutOfBoundsError,
        _seats_unchanged,
    ),
    # -- unit_price × quantity is an amount too ------------------------------------------------
    Case(
        "bounds-period-price-1e15",
        lambda: charge(unit_price=eur("1000000000"), quantity=1_000_000),
        OutOfBoundsError,
    ),
    Case(
        "bounds-one-time-period-price-negative",
        lambda: one_time(unit_price=eur("-999999999999999"), quantity=2),
        OutOfBoundsError,
    ),
    Case(
        "bounds-change-price-times-seats",
        lambda: SEATS.change(on=date(2026, 3, 13), unit_price=eur("999999999999999")),
        OutOfBoundsError,
        _seats_unchanged,
    ),
    Case(
        "bounds-unit-price-unrounded-third",
        lambda: charge(unit_price=eur("100") / 3),
        OutOfBoundsError,
    ),
    Case(
        "bounds-unit-price-computed-1e16",
        lambda: charge(unit_price=eur("900000000000000") * 100),
        OutOfBoundsError,
    ),
    Case(
        "bounds-one-time-unit-price-unrounded",
        lambda: one_time(unit_price=eur("1") / 7),
        OutOfBoundsError,
    ),
    # -- percentages: 0 to 100, at most 6 decimal places -------------------------------------
    Case(
        "bounds-tax-percent-1e-999999",
        lambda: TaxRate(name="x", percent="1e-999999"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-tax-percent-seven-places",
        lambda: TaxRate(name="x", percent="5.1234567"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-tax-percent-1e999", lambda: TaxRate(name="x", percent="1e999"), InvalidArgumentError
    ),
    Case("bounds-tax-percent-101", lambda: TaxRate(name="x", percent="101"), InvalidArgumentError),
    Case(
        "bounds-discount-percent-seven-places",
        lambda: Discount.percent_off("X", "10.0000001"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-per-unit-percent-1e-999999",
        lambda: Discount.per_unit_percent_off("X", "1e-999999"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-discount-percent-1e999",
        lambda: Discount.percent_off("X", Decimal("1E+999")),
        InvalidArgumentError,
    ),
    # -- discount amounts and durations --------------------------------------------------------
    Case(
        "bounds-discount-amount-unrounded",
        lambda: Discount.amount_off("X", eur("1") / 3),
        OutOfBoundsError,
    ),
    Case(
        "bounds-per-unit-amount-1e16",
        lambda: Discount.per_unit_amount_off("X", eur("900000000000000") * 100),
        OutOfBoundsError,
    ),
    Case("bounds-duration-months-1e9", lambda: Duration.months(10**9), OutOfBoundsError),
    Case("bounds-duration-months-1201", lambda: Duration.months(1201), OutOfBoundsError),
    Case("bounds-duration-periods-1e9", lambda: Duration.periods(10**9), OutOfBoundsError),
    Case(
        "bounds-discount-starts-far",
        lambda: Discount.percent_off("X", "10", starts_on=FAR),
        OutOfBoundsError,
    ),
    # -- frequencies: at most ten years ----------------------------------------------------------
    Case("bounds-frequency-months-1e9", lambda: Frequency.months(10**9), OutOfBoundsError),
    Case("bounds-frequency-months-121", lambda: Frequency.months(121), OutOfBoundsError),
    Case("bounds-frequency-years-11", lambda: Frequency.years(11), OutOfBoundsError),
    Case("bounds-frequency-weeks-523", lambda: Frequency.weeks(523), OutOfBoundsError),
    Case("bounds-frequency-days-3661", lambda: Frequency.days(3661), OutOfBoundsError),
    Case(
        "bounds-frequency-direct-month-count",
        lambda: Frequency(unit=FrequencyUnit.MONTH, count=10**9),
        OutOfBoundsError,
    ),
    Case(
        "bounds-frequency-direct-day-count",
        lambda: Frequency(unit=FrequencyUnit.DAY, count=10**6),
        OutOfBoundsError,
    ),
    Case("bounds-frequency-parse-p1e9m", lambda: Frequency.parse("P1000000000M"), OutOfBoundsError),
    Case(
        "bounds-frequency-parse-5000-digits",
        lambda: Frequency.parse("P" + "9" * 5000 + "D"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-frequency-parse-200-years", lambda: Frequency.parse("200 years"), OutOfBoundsError
    ),
    Case("bounds-frequency-parse-p11y", lambda: Frequency.parse("P11Y"), OutOfBoundsError),
    Case("bounds-frequency-months-zero", lambda: Frequency.months(0), InvalidFrequencyError),
    # -- billing days, delays, payment terms -----------------------------------------------------
    Case("bounds-billing-day-32", lambda: charge(billing_day=32), InvalidBillingDayError),
    Case("bounds-billing-day-zero", lambda: charge(billing_day=0), InvalidBillingDayError),
    Case(
        "bounds-schedule-billing-day-1e9",
        lambda: BillingSchedule(anchor=START, frequency=MONTHLY, billing_day=10**9),
        InvalidBillingDayError,
    ),
    Case("bounds-start-after-days-1e9", lambda: BillingStart.after_days(10**9), OutOfBoundsError),
    Case(
        "bounds-start-after-months-1e9", lambda: BillingStart.after_months(10**9), OutOfBoundsError
    ),
    Case("bounds-start-after-months-121", lambda: BillingStart.after_months(121), OutOfBoundsError),
    Case("bounds-payment-terms-1e9", lambda: check_payment_terms_days(10**9), OutOfBoundsError),
    Case("bounds-payment-terms-366", lambda: check_payment_terms_days(366), OutOfBoundsError),
    # -- dates: billing starts and ends within 1900-01-01 … 2999-12-31 ---------------------------
    Case("bounds-charge-start-9999-12-31", lambda: charge(start=FAR), OutOfBoundsError),
    Case("bounds-charge-start-year-1", lambda: charge(start=ANCIENT), OutOfBoundsError),
    Case("bounds-charge-start-1899", lambda: charge(start=date(1899, 12, 31)), OutOfBoundsError),
    Case("bounds-charge-start-3000", lambda: charge(start=date(3000, 1, 1)), OutOfBoundsError),
    Case("bounds-charge-end-9999-12-31", lambda: charge(end=FAR), OutOfBoundsError),
    Case("bounds-one-time-due-9999", lambda: one_time(due_on=FAR), OutOfBoundsError),
    Case(
        "bounds-change-on-far",
        lambda: SEATS.change(on=date(3000, 1, 1), quantity=4),
        OutOfBoundsError,
        _seats_unchanged,
    ),
    Case("bounds-billing-start-on-far", lambda: BillingStart.on(FAR), OutOfBoundsError),
    Case(
        "bounds-schedule-anchor-far",
        lambda: BillingSchedule(anchor=FAR, frequency=MONTHLY),
        OutOfBoundsError,
    ),
    Case("bounds-period-end-far", lambda: Period(START, FAR), OutOfBoundsError),
    Case(
        "bounds-period-inclusive-ancient",
        lambda: Period.inclusive(ANCIENT, START),
        OutOfBoundsError,
    ),
    Case(
        "bounds-bill-as-of-9999",
        lambda: bill_subscription(subscription(), as_of=FAR),
        OutOfBoundsError,
    ),
    Case(
        "bounds-bill-as-of-year-1",
        lambda: bill_subscription(subscription(), as_of=ANCIENT),
        OutOfBoundsError,
    ),
    Case(
        "bounds-billable-periods-as-of-9999",
        lambda: billable_periods(START, as_of=FAR, frequency=MONTHLY),
        OutOfBoundsError,
    ),
    Case(
        "bounds-payment-paid-on-9999",
        lambda: Payment(amount=eur("10"), paid_on=FAR),
        OutOfBoundsError,
    ),
    Case(
        "bounds-line-item-start-on-far",
        lambda: line(frequency=MONTHLY, billing_start=BillingStart.on(FAR)),
        OutOfBoundsError,
    ),
    # -- calendar arithmetic beyond year 9999 ---------------------------------------------------
    Case("bounds-add-months-1e9", lambda: add_months(date(2026, 1, 31), 10**9), OutOfBoundsError),
    Case("bounds-advance-monthly-1e9", lambda: MONTHLY.advance(START, 10**9), OutOfBoundsError),
    Case(
        "bounds-advance-daily-1e9",
        lambda: Frequency.days(1).advance(START, 10**9),
        OutOfBoundsError,
    ),
    Case("bounds-schedule-nth-1e9", lambda: SCHEDULE.nth(10**9), OutOfBoundsError),
    Case(
        "bounds-schedule-nth-daily-minus-1e9",
        lambda: BillingSchedule(anchor=START, frequency=Frequency.days(1)).nth(-(10**9)),
        OutOfBoundsError,
    ),
    Case(
        "bounds-billing-start-resolve-far",
        lambda: BillingStart.after_days(30).resolve(paid_on=FAR),
        OutOfBoundsError,
    ),
    Case(
        "bounds-prorate-computed-amount-still-refused-as-price",
        lambda: charge(unit_price=prorate(eur("10"), 1) / 3),
        OutOfBoundsError,
    ),
    Case(
        "bounds-days-ago-start-before-1900",
        lambda: charge(start=date(1900, 1, 1) - timedelta(days=1)),
        OutOfBoundsError,
    ),
]

__all__ = ["CASES"]

# Numbers too long to print: the message must still be written (repr() of an int of more
# than 4300 digits raises ValueError).
CASES += [
    Case("bounds-quantity-5000-digit-int", lambda: to_quantity(10**5000), OutOfBoundsError),
    Case("bounds-months-5000-digit-int", lambda: Frequency.months(10**5000), OutOfBoundsError),
    Case(
        "bounds-months-negative-5000-digit-int",
        lambda: Frequency.months(-(10**5000)),
        InvalidFrequencyError,
    ),
    Case("bounds-duration-5000-digit-int", lambda: Duration.periods(10**5000), OutOfBoundsError),
    Case(
        "bounds-minor-units-5000-digit-int",
        lambda: Money.from_minor_units(10**5000, "EUR"),
        OutOfBoundsError,
    ),
    Case("bounds-add-months-5000-digit-int", lambda: add_months(START, 10**5000), OutOfBoundsError),
    Case(
        "bounds-advance-days-5000-digit-int",
        lambda: Frequency.days(1).advance(START, 10**5000),
        OutOfBoundsError,
    ),
    Case("bounds-nth-5000-digit-int", lambda: SCHEDULE.nth(10**5000), OutOfBoundsError),
]

# Exponents beyond what Decimal itself holds.
CASES += [
    Case(
        "bounds-money-exponent-beyond-decimal",
        lambda: Money("1e99999999999999999999999", "EUR"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-money-negative-exponent-beyond-decimal",
        lambda: Money("1e-99999999999999999999999", "EUR"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-quantity-exponent-beyond-decimal",
        lambda: to_quantity("1e99999999999999999999999"),
        OutOfBoundsError,
    ),
    Case(
        "bounds-percent-exponent-beyond-decimal",
        lambda: TaxRate(name="x", percent="1e-99999999999999999999999"),
        OutOfBoundsError,
    ),
]

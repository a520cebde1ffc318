"""Magnitudes are bounded to what billing needs; beyond the bounds, OutOfBoundsError at once.

The bounds live in ``subbill.money`` (``MAX_AMOUNT``, ``MAX_QUANTITY``, ``MIN_DATE``, …) and
are explained in ``docs/bounds.md``. Within them everything bills without error and to the
exact cent; outside them a value is refused where it is built, never at billing time.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill.billing import ChargePlan, bill_subscription
from subbill.charges import OneTimeCharge, RecurringCharge, to_quantity
from subbill.discounts import Discount, Duration
from subbill.errors import (
    InvalidArgumentError,
    InvalidBillingDayError,
    InvalidFrequencyError,
    InvalidQuantityError,
    OutOfBoundsError,
)
from subbill.invoices import Invoice
from subbill.money import (
    MAX_AMOUNT,
    MAX_AMOUNT_PLACES,
    MAX_COMPUTED_DATE,
    MAX_DATE,
    MAX_DISCOUNT_MONTHS,
    MAX_DISCOUNT_PERIODS,
    MAX_FREQUENCY_DAYS,
    MAX_FREQUENCY_MONTHS,
    MAX_PAYMENT_TERMS_DAYS,
    MAX_PERCENT_PLACES,
    MAX_QUANTITY,
    MAX_QUANTITY_PLACES,
    MIN_COMPUTED_DATE,
    MIN_DATE,
    Money,
    currency_precision,
)
from subbill.periods import (
    ANNUAL,
    MONTHLY,
    BillingSchedule,
    BillingStart,
    Frequency,
    Period,
    add_months,
    check_date,
    check_payment_terms_days,
)
from subbill.proration import billable_periods
from subbill.storage.codec import dumps, loads
from subbill.storage.sqlite import SQLiteStore
from subbill.taxes import TaxRate, line_taxes
from tests.builders import VAT, eur


def charge(**fields: object) -> RecurringCharge:
    values: dict[str, object] = {
        "code": "pro",
        "description": "Pro",
        "unit_price": eur("10"),
        "start": date(2026, 3, 1),
    }
    values.update(fields)
    return RecurringCharge(**values)  # type: ignore[arg-type]


def subscription(*charges: RecurringCharge, currency: str = "EUR") -> ChargePlan:
    return ChargePlan(id="S1", customer="ACME", currency=currency, charges=charges)


# -- the bounds themselves --------------------------------------------------------------------


def test_the_bounds_are_what_the_docs_say():
    assert Decimal(10) ** 15 == MAX_AMOUNT
    assert MAX_AMOUNT_PLACES == 9
    assert Decimal(10) ** 12 == MAX_QUANTITY
    assert MAX_QUANTITY_PLACES == 6
    assert MAX_PERCENT_PLACES == 6
    assert (MAX_FREQUENCY_MONTHS, MAX_FREQUENCY_DAYS) == (120, 3660)
    assert MAX_PAYMENT_TERMS_DAYS == 365
    assert (MAX_DISCOUNT_MONTHS, MAX_DISCOUNT_PERIODS) == (1200, 3660)
    assert (date(1900, 1, 1), date(2999, 12, 31)) == (MIN_DATE, MAX_DATE)
    assert date(3099, 12, 31) == MAX_COMPUTED_DATE


# -- the cases of the issue -----------------------------------------------------------------------


def test_money_1e999_is_refused_at_construction():
    with pytest.raises(OutOfBoundsError, match=r"amount='1e999' must be below 10\^15"):
        Money("1e999", "EUR")


def test_money_1e_minus_999999_is_refused_before_any_tax_is_computed():
    with pytest.raises(
        OutOfBoundsError, match=r"amount='1e-999999' must be written with at most 9 decimal"
    ):
        Money("1e-999999", "EUR")
    # the smallest amount that is accepted is taxed at once, to the cent
    (tax,) = line_taxes([Money("0.000000001", "EUR")], [(VAT,)])
    assert tax.tax == eur("0.00")


def test_frequency_of_a_billion_months_is_refused():
    with pytest.raises(OutOfBoundsError, match=r"months=1000000000 must be at most 120 months"):
        Frequency.months(10**9)
    assert Frequency.months(120) == Frequency.years(10)


def test_a_charge_starting_on_9999_12_31_is_refused_at_construction():
    with pytest.raises(
        OutOfBoundsError,
        match=r"start=datetime.date\(9999, 12, 31\) must be between 1900-01-01 and 2999-12-31",
    ):
        charge(start=date(9999, 12, 31))


def test_a_charge_starting_on_the_last_date_bills_without_error():
    last = charge(unit_price=eur("1200"), frequency=Frequency.years(10), start=MAX_DATE)
    result = bill_subscription(subscription(last), as_of=MAX_DATE)
    (line,) = result.invoice.lines
    assert line.period == Period(MAX_DATE, date(3009, 12, 31))
    assert line.amount == eur("1200.00")
    first = charge(unit_price=eur("31"), start=MIN_DATE, end=date(1900, 1, 13))
    (early,) = bill_subscription(subscription(first), as_of=MIN_DATE).invoice.lines
    assert early.amount == eur("12.00")


def test_a_start_on_the_first_date_with_a_later_billing_day_is_stored_and_read_back():
    # The first cycle of a start on 1900-01-01 billed on the 15th encloses it from
    # 1899-12-15: the invoice used to be written with that cycle in its explanation and then
    # refused when read back ("must be between 1900-01-01 and 3099-12-31").
    first = charge(unit_price=eur("31"), start=MIN_DATE, billing_day=15)
    billed = bill_subscription(subscription(first), as_of=MIN_DATE).invoice
    invoice = billed.finalize(number="F-1900-0001")
    (line,) = invoice.lines
    assert line.period == Period(MIN_DATE, date(1900, 1, 15))
    assert line.amount == eur("14.00")  # 14 of the 31 days of 15 Dec 1899 – 14 Jan 1900
    assert loads(dumps(invoice), Invoice) == invoice
    store = SQLiteStore(":memory:")
    store.add_invoice(invoice)
    assert store.get_invoice(invoice.number) == invoice
    with pytest.raises(OutOfBoundsError, match=r"start=datetime.date\(1899, 12, 31\)"):
        charge(start=date(1899, 12, 31))
    assert check_date("paid_on", MIN_COMPUTED_DATE) == date(1800, 1, 1)
    with pytest.raises(OutOfBoundsError, match="between 1800-01-01 and 3099-12-31"):
        check_date("paid_on", date(1799, 12, 31))


def test_billing_as_of_the_last_billing_date_bills_a_period_ending_after_it():
    result = bill_subscription(
        subscription(charge(start=MAX_DATE, frequency=Frequency.years(10))), as_of=MAX_DATE
    )
    (line,) = result.invoice.lines
    assert (line.period.start, line.period.end) == (MAX_DATE, date(3009, 12, 31))
    # as_of is a billing date: after MAX_DATE it is refused, so that nothing billing
    # computes from it (period ends, due dates) can fall beyond the dates values accept.
    with pytest.raises(OutOfBoundsError, match="as_of"):
        bill_subscription(
            subscription(charge(start=MAX_DATE, frequency=Frequency.years(10))),
            as_of=date(3050, 6, 1),
        )


def test_billing_as_of_a_date_beyond_the_bounds_is_refused_naming_it():
    with pytest.raises(OutOfBoundsError, match=r"as_of=datetime.date\(9999, 12, 31\)"):
        bill_subscription(subscription(charge()), as_of=date(9999, 12, 31))


def test_usage_price_of_0_0004_per_call_for_10_12_calls_bills_exactly():
    calls = charge(unit_price=eur("0.0004"), quantity=10**12)
    (line,) = bill_subscription(subscription(calls), as_of=date(2026, 3, 1)).invoice.lines
    assert line.amount == eur("400000000.00")


def test_prices_with_six_and_nine_decimal_places_bill_to_the_cent():
    gigabytes = charge(unit_price=eur("0.000123"), quantity="1234567.891234")
    (line,) = bill_subscription(subscription(gigabytes), as_of=date(2026, 3, 1)).invoice.lines
    assert line.amount == eur("151.85")  # 151.851850621782...
    tokens = charge(unit_price=Money("0.000000150", "USD"), quantity=987_654_321)
    (line,) = bill_subscription(
        subscription(tokens, currency="USD"), as_of=date(2026, 3, 1)
    ).invoice.lines
    assert line.amount == Money("148.15", "USD")  # 148.14814815


def test_the_period_price_is_bounded_like_an_amount():
    with pytest.raises(
        OutOfBoundsError,
        match=r"unit_price × quantity=Money\('1000000000000000', 'EUR'\) must be below 10\^15",
    ):
        charge(unit_price=eur("1000"), quantity=10**12)
    assert charge(unit_price=eur("999.999999"), quantity=10**12).period_price == eur(
        "999999999000000"
    )
    with pytest.raises(OutOfBoundsError, match="unit_price × quantity"):
        OneTimeCharge(
            code="x",
            description="X",
            unit_price=eur("-999999999999999"),
            quantity=2,
            due_on=date(2026, 3, 1),
        )


def test_a_computed_unit_price_must_be_rounded_first():
    with pytest.raises(OutOfBoundsError, match="unit_price=Money"):
        charge(unit_price=eur("100") / 3)
    assert charge(unit_price=(eur("100") / 3).rounded()).unit_price == eur("33.33")


def test_trailing_zeros_and_exponents_are_read_losslessly():
    assert Money("1.500000000000000000", "EUR").amount == Decimal("1.500000000")
    assert repr(Money("1E+3", "EUR")) == "Money('1000', 'EUR')"
    assert repr(Money("0.000000001", "EUR")) == "Money('0.000000001', 'EUR')"
    assert to_quantity("2.5000000000") == Decimal("2.5")
    assert TaxRate(name="x", percent="8.8750000000").percent == Decimal("8.875000")


def test_quantity_bounds():
    assert to_quantity(10**12) == Decimal(10**12)
    assert to_quantity("0.000001") == Decimal("0.000001")
    with pytest.raises(OutOfBoundsError, match=r"quantity=1000000000001 must be at most 10\^12"):
        to_quantity(10**12 + 1)
    with pytest.raises(OutOfBoundsError, match=r"quantity='0\.0000001' must be written with at"):
        to_quantity("0.0000001")
    with pytest.raises(InvalidQuantityError, match="quantity=-2 must be >= 0"):
        to_quantity(-2)


def test_percentages_have_at_most_six_decimal_places():
    assert TaxRate(name="NY", percent="8.875").rate == Fraction(71, 800)
    assert Discount.percent_off("THIRD", "33.333333").percent == Decimal("33.333333")
    with pytest.raises(OutOfBoundsError, match=r"percent='33\.3333333' must be written"):
        Discount.percent_off("THIRD", "33.3333333")
    with pytest.raises(OutOfBoundsError, match="percent='1e-999999'"):
        TaxRate(name="x", percent="1e-999999")
    with pytest.raises(InvalidArgumentError, match="must be between 0 and 100"):
        TaxRate(name="x", percent="1e999")


def test_frequencies_billing_starts_and_durations_are_at_most_their_bounds():
    assert Frequency.days(3660).count == 3660
    assert Frequency.weeks(522).count == 3654
    assert Frequency.parse("P10Y") == Frequency.months(120)
    for too_long in (
        lambda: Frequency.days(3661),
        lambda: Frequency.weeks(523),
        lambda: Frequency.years(11),
        lambda: Frequency.parse("P11Y"),
        lambda: Frequency.parse("P" + "9" * 5000 + "D"),
        lambda: BillingStart.after_days(3661),
        lambda: BillingStart.after_months(121),
        lambda: Duration.months(1201),
        lambda: Duration.periods(3661),
    ):
        with pytest.raises(OutOfBoundsError):
            too_long()
    with pytest.raises(InvalidFrequencyError, match="months=0 must be an int >= 1"):
        Frequency.months(0)
    with pytest.raises(InvalidBillingDayError):
        charge(billing_day=32)


def test_payment_terms_are_bounded():
    assert check_payment_terms_days(0) == 0
    assert check_payment_terms_days(365) == 365
    with pytest.raises(OutOfBoundsError, match="payment_terms_days=366 must be at most 365"):
        check_payment_terms_days(366)
    with pytest.raises(InvalidArgumentError, match="payment_terms_days=-1 must be an int >= 0"):
        check_payment_terms_days(-1)


def test_calendar_arithmetic_beyond_year_9999_is_out_of_bounds_not_a_crash():
    with pytest.raises(OutOfBoundsError, match="months=1000000000"):
        add_months(date(2026, 1, 31), 10**9)
    with pytest.raises(OutOfBoundsError):
        MONTHLY.advance(date(2026, 1, 31), 10**9)
    with pytest.raises(OutOfBoundsError):
        Frequency.days(1).advance(date(2026, 1, 31), 10**9)
    with pytest.raises(OutOfBoundsError):
        BillingSchedule(anchor=date(2026, 1, 31), frequency=ANNUAL).nth(10**6)


def test_minor_units_are_bounded_like_amounts():
    # 999999999999999.995 EUR is a valid amount: rounded, it is 10^15 EUR, which is accepted
    rounded = Money("999999999999999.995", "EUR").to_minor_units()
    assert Money.from_minor_units(rounded, "EUR").amount == Decimal("1000000000000000.00")
    with pytest.raises(OutOfBoundsError, match="units="):
        Money.from_minor_units(10**17 + 1, "EUR")


# -- properties ---------------------------------------------------------------------------------

_WIDE = decimal.Context(prec=80)
CURRENCIES = ("EUR", "JPY", "KWD", "USD")


def _half_up(value: Fraction, currency: str) -> Money:
    scale = 10 ** currency_precision(currency)
    units = value * scale
    whole = int(abs(units) + Fraction(1, 2))
    return Money.from_minor_units(whole if units >= 0 else -whole, currency)


@st.composite
def bounded_prices(draw: st.DrawFn) -> tuple[Decimal, Decimal]:
    """A quantity and a unit price within the bounds whose product is below 10^15."""
    quantity = draw(
        st.one_of(
            st.integers(min_value=0, max_value=10**12).map(Decimal),
            st.decimals(min_value=0, max_value=MAX_QUANTITY, places=MAX_QUANTITY_PLACES),
        )
    )
    limit = MAX_AMOUNT - Decimal("1E-9")
    if quantity > 1:
        limit = _WIDE.divide(limit, quantity).quantize(
            Decimal("1E-9"), rounding=decimal.ROUND_DOWN, context=_WIDE
        )
    price = draw(
        st.decimals(min_value=0, max_value=limit, places=MAX_AMOUNT_PLACES, allow_nan=False)
    )
    return price, quantity


frequencies = st.one_of(
    st.integers(min_value=1, max_value=MAX_FREQUENCY_MONTHS).map(Frequency.months),
    st.integers(min_value=1, max_value=MAX_FREQUENCY_DAYS).map(Frequency.days),
)
bounded_dates = st.one_of(
    st.dates(min_value=MIN_DATE, max_value=MAX_DATE),
    st.sampled_from([MIN_DATE, MAX_DATE, MAX_DATE - timedelta(days=1), date(2999, 2, 28)]),
)


@settings(max_examples=500)
@given(
    prices=bounded_prices(),
    currency=st.sampled_from(CURRENCIES),
    frequency=frequencies,
    start=bounded_dates,
    billing_day=st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
    later=st.integers(min_value=0, max_value=400),
)
def test_anything_within_the_bounds_bills_without_error_and_exactly(
    prices: tuple[Decimal, Decimal],
    currency: str,
    frequency: Frequency,
    start: date,
    billing_day: int | None,
    later: int,
) -> None:
    price, quantity = prices
    item = RecurringCharge(
        code="item",
        description="Item",
        unit_price=Money(price, currency),
        quantity=quantity,
        frequency=frequency,
        billing_day=billing_day if frequency.is_month_based else None,
        start=start,
        tax_rates=(VAT,),
    )
    as_of = min(start + timedelta(days=later), MAX_DATE)
    refused: OutOfBoundsError | None = None
    try:
        result = bill_subscription(subscription(item, currency=currency), as_of=as_of)
    except OutOfBoundsError as error:
        refused = error
    if refused is not None:
        # Each line is within the bound; several periods' sum may not be. Such an invoice
        # is refused as it is built (it would be stored, then unreadable), naming the sum.
        assert refused.name in ("subtotal", "net", "tax", "total", "taxes[0].base")
        assert isinstance(refused.value, Money)
        assert refused.value.amount.copy_abs() >= MAX_AMOUNT
        return
    assert result.invoice is not None
    assert result.invoice.total.amount.copy_abs() < MAX_AMOUNT
    # what the engine accepts, the checked constructor (a store's read) accepts too
    assert attrs.evolve(result.invoice) == result.invoice
    for line in result.invoice.lines:
        exact = Fraction(price) * Fraction(quantity) * line.factor
        assert line.amount == _half_up(exact, currency)
        assert line.tax == _half_up(Fraction(line.amount.amount) / 5, currency)
    assert result.invoice.total == Money.total(
        (line.amount + line.tax for line in result.invoice.lines), currency=currency
    )


def _too_many_places(places: int) -> st.SearchStrategy[Decimal]:
    """A number with more than ``places`` significant decimal places."""
    return st.builds(
        lambda digits, extra, sign: Decimal(sign * (digits * 10 + 7)).scaleb(
            -(places + extra), context=_WIDE
        ),
        st.integers(min_value=0, max_value=10**9),
        st.integers(min_value=1, max_value=10**6),
        st.sampled_from([1, -1]),
    )


def _too_big(limit: Decimal, *, inclusive: bool) -> st.SearchStrategy[Decimal]:
    low = int(limit) + (1 if inclusive else 0)
    return st.one_of(
        st.integers(min_value=low, max_value=low * 10**30).map(Decimal),
        st.integers(min_value=16, max_value=10**6).map(lambda e: Decimal(f"1E+{e}")),
    )


def _charge_with(**fields: object) -> Callable[[], object]:
    return lambda: charge(**fields)


refused: st.SearchStrategy[Callable[[], object]] = st.one_of(
    _too_big(MAX_AMOUNT, inclusive=False).map(lambda a: lambda: Money(a, "EUR")),
    _too_big(MAX_AMOUNT, inclusive=False).map(lambda a: lambda: Money(a.copy_negate(), "JPY")),
    _too_many_places(MAX_AMOUNT_PLACES).map(lambda a: lambda: Money(a, "EUR")),
    _too_many_places(MAX_AMOUNT_PLACES).map(lambda a: lambda: Money(str(a), "USD")),
    _too_big(MAX_QUANTITY, inclusive=True).map(lambda q: _charge_with(quantity=q)),
    _too_many_places(MAX_QUANTITY_PLACES).map(abs).map(lambda q: _charge_with(quantity=q)),
    _too_many_places(MAX_PERCENT_PLACES)
    .map(lambda p: abs(p) % 100)
    .filter(lambda p: p > 0)
    .map(lambda p: lambda: TaxRate(name="x", percent=p)),
    _too_many_places(MAX_PERCENT_PLACES)
    .map(lambda p: abs(p) % 100)
    .filter(lambda p: p > 0)
    .map(lambda p: lambda: Discount.percent_off("X", p)),
    st.integers(min_value=MAX_FREQUENCY_MONTHS + 1, max_value=10**18).map(
        lambda n: lambda: Frequency.months(n)
    ),
    st.integers(min_value=MAX_FREQUENCY_DAYS + 1, max_value=10**18).map(
        lambda n: lambda: Frequency.days(n)
    ),
    st.integers(min_value=MAX_FREQUENCY_DAYS // 7 + 1, max_value=10**18).map(
        lambda n: lambda: Frequency.weeks(n)
    ),
    st.integers(min_value=MAX_FREQUENCY_MONTHS // 12 + 1, max_value=10**18).map(
        lambda n: lambda: Frequency.years(n)
    ),
    st.dates(max_value=MIN_DATE - timedelta(days=1)).map(lambda d: _charge_with(start=d)),
    st.dates(min_value=MAX_DATE + timedelta(days=1)).map(lambda d: _charge_with(start=d)),
    st.dates(min_value=MAX_COMPUTED_DATE + timedelta(days=1)).map(
        lambda d: lambda: bill_subscription(subscription(charge()), as_of=d)
    ),
    st.dates(max_value=MIN_DATE - timedelta(days=1)).map(
        lambda d: lambda: bill_subscription(subscription(charge()), as_of=d)
    ),
    st.dates(min_value=MAX_COMPUTED_DATE + timedelta(days=1)).map(
        lambda d: lambda: billable_periods(date(2026, 1, 1), as_of=d, frequency=MONTHLY)
    ),
    st.dates(min_value=MAX_DATE + timedelta(days=1)).map(lambda d: lambda: BillingStart.on(d)),
    st.dates(min_value=MAX_DATE + timedelta(days=1)).map(
        lambda d: lambda: Discount.percent_off("X", "10", starts_on=d)
    ),
    st.integers(min_value=MAX_PAYMENT_TERMS_DAYS + 1).map(
        lambda n: lambda: check_payment_terms_days(n)
    ),
)


@settings(max_examples=500)
@given(refused)
def test_anything_outside_the_bounds_is_refused_with_out_of_bounds_error(
    build: Callable[[], object],
) -> None:
    with pytest.raises(OutOfBoundsError):
        build()


def test_billing_refuses_absurd_payment_terms_and_dates_at_once():
    plan = RecurringCharge(
        code="p", description="P", unit_price=Money("10", "EUR"), start=date(2026, 1, 1)
    )
    with pytest.raises(OutOfBoundsError, match="payment_terms_days"):
        ChargePlan(id="S", customer="C", currency="EUR", charges=(plan,), payment_terms_days=10**9)
    sub = ChargePlan(id="S", customer="C", currency="EUR", charges=(plan,))
    with pytest.raises(OutOfBoundsError, match="as_of"):
        bill_subscription(sub, as_of=date(3095, 1, 1))

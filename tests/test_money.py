import decimal
import itertools
import pickle
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from subbill import InvalidArgumentError, InvalidTypeError, Money, OutOfBoundsError, SubbillError
from subbill.errors import (
    CurrencyMismatchError,
    FloatAmountError,
    InvalidAllocationError,
    InvalidAmountError,
    UnknownCurrencyError,
)
from subbill.money import currency_precision
from tests.strategies import CURRENCIES, money, weights

# -- construction -----------------------------------------------------------------------


def test_amount_from_str_int_and_decimal():
    assert Money("19.99", "EUR").amount == Decimal("19.99")
    assert Money(20, "EUR").amount == Decimal(20)
    assert Money(Decimal("0.1"), "EUR").amount == Decimal("0.1")
    assert Money(" 7.5 ", "eur").currency == "EUR"


def test_float_is_refused_with_advice():
    with pytest.raises(
        FloatAmountError, match=r"amount=19\.99 is a float; pass a str or a Decimal"
    ):
        Money(19.99, "EUR")  # type: ignore[arg-type]
    assert issubclass(FloatAmountError, SubbillError)
    assert issubclass(FloatAmountError, TypeError)
    assert FloatAmountError.code == "float_amount"


@pytest.mark.parametrize("bad", ["abc", "", "1,50", "NaN", "Infinity", True, None, [1]])
def test_bad_amounts_are_refused_naming_the_value(bad):
    with pytest.raises(InvalidAmountError, match=r"amount=") as caught:
        Money(bad, "EUR")
    assert caught.value.value == bad


@pytest.mark.parametrize("code", ["EUX", "euros", "", "E", 978])
def test_unknown_currency_is_refused_naming_it(code):
    with pytest.raises(UnknownCurrencyError, match=repr(code)) as caught:
        Money("1", code)
    assert caught.value.currency == code
    assert caught.value.code == "unknown_currency"


def test_currency_precision_comes_from_babel():
    assert [currency_precision(c) for c in ("EUR", "USD", "JPY", "KWD", "BHD")] == [2, 2, 0, 3, 3]


def test_repr_and_str():
    assert repr(Money("19.90", "EUR")) == "Money('19.90', 'EUR')"
    assert str(Money("19.90", "EUR")) == "19.90 EUR"


def test_equal_amounts_are_equal_whatever_their_exponent():
    assert Money("1.0", "EUR") == Money("1.00", "EUR")
    assert hash(Money("1.0", "EUR")) == hash(Money("1.00", "EUR"))
    assert Money("1", "EUR") != Money("1", "USD")


def test_money_pickles_for_process_pools():
    m = Money("12.345", "KWD")
    assert pickle.loads(pickle.dumps(m)) == m


# -- arithmetic ----------------------------------------------------------------------------


def test_add_subtract_negate_abs():
    a, b = Money("10.10", "EUR"), Money("0.20", "EUR")
    assert a + b == Money("10.30", "EUR")
    assert a - b == Money("9.90", "EUR")
    assert -a == Money("-10.10", "EUR")
    assert abs(-a) == a
    assert +a is a


def test_mixing_currencies_raises_currency_mismatch():
    eur, usd = Money("1", "EUR"), Money("1", "USD")
    for operation in (lambda: eur + usd, lambda: eur - usd, lambda: eur < usd, lambda: eur >= usd):
        with pytest.raises(CurrencyMismatchError, match="EUR and USD"):
            operation()


def test_comparisons():
    assert Money("1.00", "EUR") < Money("1.01", "EUR") <= Money("1.01", "EUR")
    assert Money("2", "EUR") > Money("1.99", "EUR") >= Money("1.99", "EUR")
    assert max(Money("3", "EUR"), Money("5", "EUR")) == Money("5", "EUR")


def test_sum_works_from_zero_and_from_builtin_start():
    parts = [Money("0.10", "EUR")] * 3
    assert sum(parts, Money.zero("EUR")) == Money("0.30", "EUR")
    assert sum(parts) == Money("0.30", "EUR")
    assert Money.total([], currency="EUR") == Money.zero("EUR")
    with pytest.raises(CurrencyMismatchError):
        Money.total([Money("1", "USD")], currency="EUR")


def test_multiply_and_divide_by_exact_numbers():
    m = Money("10.00", "EUR")
    assert m * 3 == Money("30.00", "EUR")
    assert 3 * m == Money("30.00", "EUR")
    assert m * Decimal("0.2") == Money("2.000", "EUR")
    assert m * Fraction(1, 4) == Money("2.5", "EUR")
    assert m / 4 == Money("2.5", "EUR")
    assert m / Fraction(1, 3) == Money("30", "EUR")
    assert (m / 3).amount == Decimal("3.3333333333333333333333333333333333333333333333333")


def test_multiply_by_float_or_money_is_refused():
    m = Money("10.00", "EUR")
    with pytest.raises(FloatAmountError, match=r"factor=0\.5"):
        m * 0.5  # type: ignore[operator]
    with pytest.raises(InvalidAmountError, match="factor="):
        m * m  # type: ignore[operator]
    with pytest.raises(InvalidArgumentError, match="divisor=0 must not be zero"):
        m / 0


def test_precision_is_at_least_28_significant_digits():
    third = Money("1", "EUR") / 3
    digits = third.amount.as_tuple().digits
    assert len(digits) >= 28
    assert set(digits) == {3}


def test_arithmetic_ignores_the_callers_decimal_context():
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_DOWN
        assert (Money("12345.67", "EUR") * 3).amount == Decimal("37037.01")
        assert (Money("100", "EUR") / 3).rounded() == Money("33.33", "EUR")
    assert decimal.getcontext().prec == 28


@given(money(), money())
def test_adding_then_subtracting_returns_the_same_amount(a, b):
    b = Money(b.amount, a.currency)
    assert (a + b) - b == a


@given(money(), st.integers(min_value=1, max_value=10**6))
def test_multiplying_then_dividing_by_an_int_is_exact(m, k):
    # Within the bound of an amount (a product beyond it is refused: test_bounds.py).
    assume(abs(m.amount * k) < 10**15)
    assert (m * k) / k == m


# -- rounding ------------------------------------------------------------------------------


def test_rounding_to_minor_unit_half_up_by_default():
    assert Money("2.675", "EUR").rounded() == Money("2.68", "EUR")
    assert Money("-2.675", "EUR").rounded() == Money("-2.68", "EUR")
    assert Money("2.675", "EUR").rounded(ROUND_HALF_EVEN) == Money("2.68", "EUR")
    assert Money("2.665", "EUR").rounded(ROUND_HALF_EVEN) == Money("2.66", "EUR")
    assert Money("99.5", "JPY").rounded() == Money("100", "JPY")
    assert Money("1.0005", "KWD").rounded() == Money("1.001", "KWD")
    assert str(Money("3", "EUR").rounded()) == "3.00 EUR"


def test_unknown_rounding_mode_is_refused():
    with pytest.raises(InvalidArgumentError, match="rounding='HALF'"):
        Money("1", "EUR").rounded("HALF")


def test_minor_units_round_trip():
    assert Money("19.99", "EUR").to_minor_units() == 1999
    assert Money.from_minor_units(-5, "KWD") == Money("-0.005", "KWD")


@given(money())
def test_rounded_amount_has_no_digit_below_the_minor_unit(m):
    r = m.rounded()
    assert r.is_rounded()
    assert -r.amount.as_tuple().exponent == currency_precision(m.currency)
    assert abs(r - m).amount <= Decimal(1).scaleb(-currency_precision(m.currency)) / 2


# -- allocation -----------------------------------------------------------------------------


def test_allocate_by_weights_largest_remainder_earliest_first():
    assert Money("100.00", "EUR").allocate([1, 1, 1]) == (
        Money("33.34", "EUR"),
        Money("33.33", "EUR"),
        Money("33.33", "EUR"),
    )
    assert Money("0.05", "EUR").allocate([3, 7]) == (Money("0.02", "EUR"), Money("0.03", "EUR"))
    assert Money("10", "JPY").allocate([0, 1, 1]) == (
        Money("0", "JPY"),
        Money("5", "JPY"),
        Money("5", "JPY"),
    )


def test_allocate_rounds_the_whole_first():
    parts = Money("10.005", "EUR").allocate([1, 1])
    assert sum(parts) == Money("10.01", "EUR")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], r"weights=\(\) must hold at least one weight"),
        ([1, -1], r"weights\[1\]=-1 must be >= 0"),
        ([0, 0], r"must not all be zero"),
    ],
)
def test_bad_weights_are_refused(bad, message):
    with pytest.raises(InvalidAllocationError, match=message):
        Money("1", "EUR").allocate(bad)


def test_float_weights_are_refused():
    with pytest.raises(FloatAmountError, match=r"weights\[0\]=0.5"):
        Money("1", "EUR").allocate([0.5])  # type: ignore[list-item]


def test_split_into_equal_parts():
    assert Money("10.00", "EUR").split(3) == (
        Money("3.34", "EUR"),
        Money("3.33", "EUR"),
        Money("3.33", "EUR"),
    )
    with pytest.raises(InvalidAllocationError, match="n=0 must be an int >= 1"):
        Money("1", "EUR").split(0)


@given(money(), st.lists(weights, min_size=1, max_size=12))
def test_allocation_parts_sum_to_whole(m, ws):
    assume(sum(Fraction(w) for w in ws) > 0)
    parts = m.allocate(ws)
    assert len(parts) == len(ws)
    assert sum(parts, Money.zero(m.currency)) == m.rounded()
    assert all(p.is_rounded() and p.currency == m.currency for p in parts)


@given(money(), st.lists(weights, min_size=1, max_size=12))
def test_allocation_parts_are_within_one_minor_unit_of_their_exact_share(m, ws):
    total = sum(Fraction(w) for w in ws)
    assume(total > 0)
    whole = m.rounded()
    unit = Fraction(1, 10 ** currency_precision(m.currency))
    for part, w in zip(whole.allocate(ws), ws, strict=True):
        exact = Fraction(whole.amount) * Fraction(w) / total
        assert abs(Fraction(part.amount) - exact) < unit


@given(money(), st.integers(min_value=1, max_value=50))
def test_equal_weights_give_parts_differing_by_at_most_one_minor_unit(m, n):
    parts = m.split(n)
    units = [p.to_minor_units() for p in parts]
    assert max(units) - min(units) <= 1
    assert sum(units) == m.to_minor_units()
    assert units == sorted(units, reverse=m.amount >= 0)  # the extra units go first


@pytest.mark.parametrize("code", CURRENCIES)
def test_zero_in_every_currency(code):
    assert Money.zero(code).is_zero()
    assert not Money.zero(code).is_negative()
    assert Money("-1", code).is_negative()
    assert Money("1", code).is_positive()


def test_no_currency_codes_are_not_money():
    with pytest.raises(UnknownCurrencyError, match="currency='XXX'"):
        Money("1", "XXX")


# -- bounds and the caller's context -------------------------------------------------------------


def test_repr_and_str_write_every_digit_without_exponent():
    assert repr(Money("0.0000001", "EUR")) == "Money('0.0000001', 'EUR')"
    assert str(Money("1E+3", "EUR")) == "1000 EUR"
    with decimal.localcontext(decimal.Context(capitals=0)):
        assert str(Money("0.000000001", "EUR")) == "0.000000001 EUR"


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(CURRENCIES))
def test_minor_units_round_trip_exactly_within_the_bounds(units, currency):
    money = Money.from_minor_units(units, currency)
    assert money.to_minor_units() == units
    assert money.is_rounded()


def test_amounts_beyond_the_bounds_are_refused_with_out_of_bounds_error():
    with pytest.raises(OutOfBoundsError, match=r"amount='1e999' must be below 10\^15 in magn"):
        Money("1e999", "EUR")
    with pytest.raises(OutOfBoundsError, match="must be written with at most 9 decimal places"):
        Money("0.0000000001", "EUR")
    assert issubclass(OutOfBoundsError, SubbillError)
    assert Money("999999999999999.999999999", "EUR").amount == Decimal("999999999999999.999999999")


def test_a_bad_string_gets_the_same_error_whatever_the_callers_traps():
    with decimal.localcontext(decimal.Context(traps=[])) as context:
        with pytest.raises(InvalidAmountError, match=r'a decimal number such as "19\.99"'):
            Money("abc", "EUR")
        assert not context.flags[decimal.InvalidOperation]


# -- review of issue 10: arithmetic stays within the bounds, errors are typed ----------------


def test_a_product_beyond_the_amount_bound_is_out_of_bounds():
    with pytest.raises(OutOfBoundsError, match=r"factor=1000 must be such that Money\('1000"):
        Money("1e14", "EUR") * 1000
    with pytest.raises(OutOfBoundsError, match="factor=1000"):
        1000 * Money("-1e14", "EUR")
    with pytest.raises(OutOfBoundsError, match="factor="):
        Money("9e14", "EUR") * Fraction(10**60)
    assert Money("1e14", "EUR") * 9 == Money("900000000000000", "EUR")
    assert Money("0", "EUR") * Decimal("1e50") == Money("0", "EUR")


def test_a_quotient_beyond_the_amount_bound_is_out_of_bounds_not_a_decimal_signal():
    with pytest.raises(OutOfBoundsError, match=r"divisor=Decimal\('1E-999999'\)"):
        Money("10", "EUR") / Decimal("1e-999999")
    with pytest.raises(OutOfBoundsError, match="divisor="):
        Money("10", "EUR") / Fraction(1, 10**20)
    with pytest.raises(OutOfBoundsError, match="percent="):
        Money("1", "EUR").percent(Decimal("1e999999"))
    assert Money("10", "EUR") / Decimal("0.5") == Money("20", "EUR")


def test_split_into_too_many_parts_is_out_of_bounds():
    with pytest.raises(OutOfBoundsError, match=r"n=10{30} must be at most 1,000,000"):
        Money("10", "EUR").split(10**30)
    with pytest.raises(OutOfBoundsError, match="n=1000001 must be at most 1,000,000 parts"):
        Money("10", "EUR").split(10**6 + 1)


def test_allocate_takes_any_iterable_of_weights():
    assert Money("10", "EUR").allocate(iter([1, 2])) == (Money("3.33", "EUR"), Money("6.67", "EUR"))
    assert Money("10", "EUR").allocate(w for w in (1, 1)) == (
        Money("5.00", "EUR"),
        Money("5.00", "EUR"),
    )
    for bad in (None, 3, "12", Money("1", "EUR")):
        with pytest.raises(InvalidTypeError, match=r"weights=.* must be an iterable of numbers"):
            Money("10", "EUR").allocate(bad)
    with pytest.raises(OutOfBoundsError, match="weights="):
        Money("10", "EUR").allocate(itertools.repeat(1))


_ENGINE_FACTORS = st.builds(
    Fraction, st.integers(min_value=-4000, max_value=4000), st.integers(min_value=1, max_value=3660)
)
_PERCENTS = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)
_ROUNDINGS = st.sampled_from([decimal.ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN])


def _outcome(compute):  # the value (with its digits) or the error's type and message
    try:
        return repr(compute())
    except SubbillError as error:
        return (type(error), str(error))


@given(money(), _ENGINE_FACTORS)
def test_a_prorated_amount_in_one_step_is_the_product_rounded(amount, factor):
    # The engine's one-step proration (issue 13) gives what the public operators give,
    # written with the same digits, and raises what they raise beyond the bound of an amount.
    def public() -> Money:
        return (amount * factor).rounded()

    assert _outcome(lambda: amount._times_rounded(factor)) == _outcome(public)


@given(money(), _PERCENTS, _ROUNDINGS)
def test_a_tax_in_one_step_is_the_percentage_rounded(amount, percent, rounding):
    assert _outcome(lambda: amount._percent_rounded(percent, rounding)) == _outcome(
        lambda: amount.percent(percent).rounded(rounding)
    )


@given(
    money(),
    st.decimals(min_value=Decimal("0.000001"), max_value=100, places=6, allow_nan=False),
)
def test_a_percentage_in_one_step_is_the_fraction_rate_applied_and_rounded(amount, percent):
    # A percentage discount's amount (issue 13, engine: discounts): percent % in one Decimal
    # step is (amount × the discount's Fraction rate).rounded(), with the same digits.
    def with_the_rate() -> Money:
        return (amount * (Fraction(percent) / 100)).rounded()

    one_step = _outcome(lambda: amount._percent_rounded(percent, decimal.ROUND_HALF_UP))
    assert one_step == _outcome(with_the_rate)


def test_a_prorated_amount_in_one_step_refuses_what_the_operators_refuse():
    big = Money("999999999999999", "EUR")
    with pytest.raises(OutOfBoundsError):
        big._times_rounded(Fraction(3, 2))
    with pytest.raises(OutOfBoundsError):
        big._percent_rounded(Decimal(100) * 20, decimal.ROUND_HALF_UP)
    with pytest.raises(InvalidArgumentError):
        Money("1", "EUR")._percent_rounded(Decimal(20), "HALF_UP")

"""The shared argument checks of ``subbill._validate``: counts, kinds, locales, brief values.

Issue 12 says a value of the wrong type raises :class:`~subbill.errors.InvalidTypeError`
(a ``TypeError``), a value of the right type out of range the caller's ``ValueError``-based
error. ``check_count`` keeps the two apart for every caller: a str where a count is expected
is a type error wherever it is given.
"""

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import Money, Payment
from subbill._validate import brief, check_count, check_instance, check_locale
from subbill.discounts import Discount, Duration
from subbill.errors import (
    FloatAmountError,
    InvalidAllocationError,
    InvalidArgumentError,
    InvalidFrequencyError,
    InvalidTypeError,
    OutOfBoundsError,
    UnknownLocaleError,
)
from subbill.licenses import LicenseAccount, LicenseLedger, renewal_form
from subbill.periods import BillingStart, Frequency
from subbill.proration import prorate
from subbill.service import run_billing
from subbill.storage import MemoryStore

D = date(2026, 1, 5)
ACCOUNT = LicenseAccount(customer="ACME", product="TBox", seats=10, start=date(2025, 6, 1), years=1)
LEDGER = LicenseLedger().grant("R", "TBox", 50, on=D)

not_ints = st.one_of(
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.decimals(allow_nan=False),
    st.none(),
    st.fractions(),
)


@given(value=not_ints)
def test_a_count_of_the_wrong_type_is_always_a_type_error(value):
    with pytest.raises(InvalidTypeError) as caught:
        check_count("n", value, minimum=1, error=InvalidAllocationError)
    assert str(caught.value) == f"n={value!r} must be an int >= 1"
    assert isinstance(caught.value, TypeError)


@given(value=st.integers(max_value=0))
def test_an_int_out_of_range_is_the_callers_error(value):
    with pytest.raises(InvalidAllocationError, match=rf"^n={value} must be an int >= 1$"):
        check_count("n", value, minimum=1, error=InvalidAllocationError)


@given(value=st.integers(min_value=1, max_value=12))
def test_an_int_in_range_is_returned_as_is(value):
    assert check_count("month", value, minimum=1, maximum=12) is value


# The calls named by the new-user review: each raised a ValueError-based error for a str.
WRONG_TYPES = {
    "Money.split('3')": lambda: Money("10", "EUR").split("3"),
    "Frequency.months('1')": lambda: Frequency.months("1"),
    "Duration.months('3')": lambda: Duration.months("3"),
    "BillingStart.after_days('3')": lambda: BillingStart.after_days("3"),
    "renewal_form(years='1')": lambda: renewal_form(
        ACCOUNT, years="1", ledger=LEDGER, pool="R", on=D
    ),
    "run_billing(batch_size='10')": lambda: run_billing(MemoryStore(), as_of=D, batch_size="10"),
}


@pytest.mark.parametrize("call", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_count_given_as_a_str_is_a_type_error_naming_the_value(call):
    with pytest.raises(InvalidTypeError, match=r"='[0-9]+' must be an int"):
        call()


def test_a_count_below_its_minimum_keeps_the_error_of_its_domain():
    with pytest.raises(InvalidAllocationError, match=r"^n=0 must be an int >= 1$"):
        Money("10", "EUR").split(0)
    with pytest.raises(InvalidFrequencyError, match=r"^months=0 must be an int >= 1$"):
        Frequency.months(0)
    with pytest.raises(InvalidArgumentError, match=r"^years=0 must be an int >= 1$"):
        renewal_form(ACCOUNT, years=0, ledger=LEDGER, pool="R", on=D)


def test_a_float_amount_is_a_float_amount_error_like_moneys_own():
    with pytest.raises(FloatAmountError, match=r"^amount=10\.0 is a float; pass a str or a "):
        Payment(amount=10.0, paid_on=D)
    with pytest.raises(FloatAmountError, match=r"^amount=5\.0 is a float"):
        Discount.amount_off("x", 5.0)
    with pytest.raises(InvalidTypeError, match=r"^amount='5' must be a Money$"):
        Discount.amount_off("x", "5")
    with pytest.raises(InvalidTypeError, match=r"^amount='10' must be a Money$"):
        Payment(amount="10", paid_on=D)
    # A Money of the right type, but not > 0: still a ValueError-based error.
    with pytest.raises(InvalidArgumentError, match=r"must be a Money > 0"):
        Payment(amount=Money("0", "EUR"), paid_on=D)


def test_check_instance_names_the_kind_and_refuses_a_float_as_an_amount():
    assert check_instance("price", Money("1", "EUR"), Money) == Money("1", "EUR")
    with pytest.raises(FloatAmountError):
        check_instance("price", 1.5, Money)
    with pytest.raises(InvalidTypeError, match=r"^price=None must be a Money$"):
        check_instance("price", None, Money)


def test_a_locale_must_be_one_babel_knows():
    assert check_locale("locale", "fr_FR") == "fr_FR"
    assert check_locale("locale", "en") == "en"
    with pytest.raises(UnknownLocaleError, match=r"^locale='xx' is not a known locale"):
        check_locale("locale", "xx")
    with pytest.raises(InvalidTypeError, match=r"^locale=3 must be a str"):
        check_locale("locale", 3)


def test_brief_shows_a_huge_whole_fraction_as_the_int_it_is():
    assert brief(Fraction(10**40)) == brief(10**40)
    assert brief(Fraction(-(10**50))) == brief(-(10**50))
    assert brief(Fraction(10**40, 3)) == "Fraction(1.0000000000E+40, 3)"
    assert brief(Fraction(5)) == Fraction(5)  # its repr is short and exact


def test_prorate_beyond_the_bounds_shows_the_factor_as_an_int():
    # The review: prorate(m, 10**40) said factor='Fraction(1.0000000000E+40, 1)'.
    with pytest.raises(OutOfBoundsError) as caught:
        prorate(Money("1", "EUR"), 10**40)
    assert str(caught.value).startswith("factor=Decimal('1.0000000000E+40') must be such that")
    # A negative factor of thousands of digits raised a raw ValueError from repr().
    negative = r"^factor=Decimal\('-1\.0000000000E\+5000'\) must be >= 0$"
    with pytest.raises(InvalidArgumentError, match=negative):
        prorate(Money("1", "EUR"), -(10**5000))

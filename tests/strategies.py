"""Hypothesis strategies shared by the test modules."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import strategies as st

from subbill import Frequency, Money

CURRENCIES = ("EUR", "USD", "JPY", "KWD", "GBP", "CHF")

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


def amounts_within(bound: str) -> st.SearchStrategy[Decimal]:
    """Finite decimals of at most six places from ``-bound`` to ``bound``."""
    return st.decimals(
        min_value=-Decimal(bound),
        max_value=Decimal(bound),
        allow_nan=False,
        allow_infinity=False,
        places=6,
    )


amounts = amounts_within("1000000000")


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    code = currency or draw(st.sampled_from(CURRENCIES))
    return Money(draw(amounts), code)


month_frequencies = st.sampled_from([Frequency.months(n) for n in (1, 2, 3, 6, 12, 24)])
day_frequencies = st.sampled_from([Frequency.days(n) for n in (1, 7, 10, 14, 30)])
frequencies = st.one_of(month_frequencies, day_frequencies)

billing_days = st.one_of(st.none(), st.integers(min_value=1, max_value=31))

weights = st.one_of(
    st.integers(min_value=0, max_value=10_000),
    st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False, allow_infinity=False),
    st.fractions(min_value=0, max_value=10_000, max_denominator=1_000),
).map(lambda w: w if not isinstance(w, Fraction) else Fraction(w))

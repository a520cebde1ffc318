from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from subbill import MONTHLY, QUARTERLY, Frequency, Money, Period, ProrationBasis, billable_periods
from subbill.errors import InvalidTypeError
from subbill.l10n import (
    UnknownLocaleError,
    describe_proration,
    format_date,
    format_factor,
    format_frequency,
    format_money,
    format_period,
)

NNBSP, NBSP = "\u202f", "\xa0"


def test_format_money_french_uses_babel_spacing():
    assert format_money(Money("1234.56", "EUR"), locale="fr_FR") == f"1{NNBSP}234,56{NBSP}€"
    assert format_money(Money("1234.565", "EUR"), locale="fr_FR") == f"1{NNBSP}234,57{NBSP}€"
    assert format_money(Money("-5", "EUR"), locale="fr_FR") == f"-5,00{NBSP}€"


def test_format_money_english():
    assert format_money(Money("1234.56", "EUR"), locale="en_US") == "€1,234.56"
    assert format_money(Money("1234.5", "USD"), locale="en_US") == "$1,234.50"
    assert format_money(Money("1234", "JPY"), locale="en_US") == "¥1,234"


def test_unknown_locale_is_a_typed_error():
    with pytest.raises(UnknownLocaleError, match="locale='xx_YY'"):
        format_money(Money("1", "EUR"), locale="xx_YY")


def test_format_date():
    assert format_date(date(2026, 3, 1), locale="fr_FR") == "1 mars 2026"
    assert format_date(date(2026, 3, 1), locale="en_US") == "March 1, 2026"
    assert format_date(date(2026, 3, 1), locale="fr_FR", format="short") == "01/03/2026"


def test_format_period_shows_the_inclusive_last_day():
    march = Period(date(2026, 3, 1), date(2026, 4, 1))
    assert format_period(march, locale="fr_FR") == "du 1 mars au 31 mars 2026"
    assert format_period(march, locale="en_US") == "from March 1 to March 31, 2026"
    assert format_period(march, locale="fr_FR", compact=True) == "du 1 au 31 mars 2026"
    across = Period(date(2025, 12, 15), date(2026, 1, 15))
    assert format_period(across, locale="fr_FR") == "du 15 décembre 2025 au 14 janvier 2026"
    assert (
        format_period(Period(date(2026, 3, 1), date(2026, 3, 2)), locale="en_US")
        == "on March 1, 2026"
    )


def test_format_factor_and_frequency():
    assert format_factor(Fraction(12, 31)) == "12/31"
    assert format_factor(Fraction(1)) == "1"
    assert format_frequency(MONTHLY, locale="fr_FR") == "mensuel"
    assert format_frequency(QUARTERLY, locale="en_US") == "quarterly"
    assert format_frequency(Frequency.months(2), locale="fr_FR") == "tous les 2 mois"
    assert format_frequency(Frequency.days(10), locale="en_US") == "every 10 days"


def test_describe_proration_explains_the_amount():
    (first, _) = billable_periods(
        date(2011, 2, 1), as_of=date(2011, 2, 13), frequency=MONTHLY, billing_day=13
    )
    text = describe_proration(Money("50.00", "EUR"), first, locale="fr_FR")
    assert text == (
        f"12/31 × 50,00{NBSP}€ = 19,35{NBSP}€ : du 1 au 12 février 2011, "
        "soit 12 jours sur les 31 de la période du 13 janvier au 12 février 2011"
    )
    english = describe_proration(Money("50.00", "EUR"), first, locale="en_US", reason="plan change")
    assert english == (
        "12/31 × €50.00 = €19.35: from February 1 to 12, 2011, 12 days of the 31 of the "
        "period from January 13 to February 12, 2011 (plan change)"
    )


def test_describe_whole_period_and_thirty_day_basis():
    (whole,) = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY)
    assert describe_proration(Money("50", "EUR"), whole, locale="fr_FR") == (
        f"1 × 50,00{NBSP}€ = 50,00{NBSP}€ : du 1 au 31 mars 2026"
    )
    (partial,) = billable_periods(
        date(2026, 5, 23),
        as_of=date(2026, 5, 23),
        frequency=MONTHLY,
        billing_day=15,
        basis=ProrationBasis.THIRTY_DAY_MONTH,
    )
    assert describe_proration(Money("30", "EUR"), partial, locale="fr_FR") == (
        f"22/30 × 30,00{NBSP}€ = 22,00{NBSP}€ : du 23 mai au 14 juin 2026 (base 30/360)"
    )


@pytest.mark.parametrize("value", [None, "19.99", Decimal("19.99"), 19.99])
def test_format_money_refuses_what_is_not_money_with_a_typed_error(value):
    with pytest.raises(InvalidTypeError, match=r"money=.* must be a Money"):
        format_money(value, locale="fr_FR")

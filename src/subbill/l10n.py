r"""Words for people: money, dates, periods and proration in French or English, via babel.

This module is the edge of the library: the core returns codes, dates, ``Money`` and
``Fraction``; these functions turn them into text. ``locale`` is always passed explicitly.
Numbers and dates are formatted by babel for any CLDR locale; the few phrases subbill
writes itself (« du … au … ») exist in French and English, other languages get English.

>>> format_money(Money("1234.56", "EUR"), locale="fr_FR")
'1\u202f234,56\xa0€'
>>> format_period(Period(date(2026, 3, 1), date(2026, 4, 1)), locale="fr_FR")
'du 1 mars au 31 mars 2026'
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import ClassVar

import babel
import babel.dates
import babel.numbers

from subbill.errors import SubbillError
from subbill.money import Money
from subbill.periods import Frequency, FrequencyUnit, Period, check_date
from subbill.proration import BillablePeriod, ProrationBasis

__all__ = [
    "UnknownLocaleError",
    "describe_proration",
    "format_date",
    "format_factor",
    "format_frequency",
    "format_money",
    "format_period",
]


class UnknownLocaleError(SubbillError, ValueError):
    """A locale name that babel does not know."""

    code: ClassVar[str] = "unknown_locale"

    def __init__(self, locale: object) -> None:
        self.locale = locale
        super().__init__(
            f"locale={locale!r} is not a known locale; expected e.g. 'fr_FR' or 'en_US'"
        )


def _locale(locale: str) -> babel.Locale:
    try:
        return babel.Locale.parse(locale)
    except (ValueError, TypeError, babel.UnknownLocaleError):
        raise UnknownLocaleError(locale) from None


def _is_french(locale: str) -> bool:
    return _locale(locale).language == "fr"


def format_money(money: Money, *, locale: str) -> str:
    r"""Format ``money``, rounded to its minor unit, the way ``locale`` writes amounts.

    >>> format_money(Money("19.99", "EUR"), locale="en_US")
    '€19.99'
    >>> format_money(Money("1500", "JPY"), locale="fr_FR")
    '1\u202f500\xa0JPY'
    """
    return babel.numbers.format_currency(
        money.rounded().amount, money.currency, locale=_locale(locale)
    )


def format_date(day: date, *, locale: str, format: str = "long") -> str:  # noqa: A002
    """Format a date (babel's ``short``, ``medium``, ``long``, ``full`` or a pattern).

    >>> format_date(date(2026, 3, 1), locale="fr_FR"), format_date(date(2026, 3, 1), locale="en_US")
    ('1 mars 2026', 'March 1, 2026')
    """
    check_date("day", day)
    return babel.dates.format_date(day, format=format, locale=_locale(locale))


def format_period(period: Period, *, locale: str, compact: bool = False) -> str:
    """Describe a half-open period with its inclusive last day, as people read it.

    With ``compact=True`` a period inside one month names the month once.

    >>> march = Period(date(2026, 3, 1), date(2026, 4, 1))
    >>> format_period(march, locale="en_US")
    'from March 1 to March 31, 2026'
    >>> format_period(Period(date(2026, 3, 1), date(2026, 3, 13)), locale="fr_FR", compact=True)
    'du 1 au 12 mars 2026'
    >>> format_period(Period(date(2025, 12, 20), date(2026, 1, 20)), locale="fr_FR")
    'du 20 décembre 2025 au 19 janvier 2026'
    >>> format_period(Period(date(2026, 3, 12), date(2026, 3, 13)), locale="fr_FR")
    'le 12 mars 2026'
    """
    first, last = period.start, period.last_day
    french = _is_french(locale)
    last_text = format_date(last, locale=locale)
    if first == last:
        return f"le {last_text}" if french else f"on {last_text}"
    if first.year != last.year:
        first_text = format_date(first, locale=locale)
    elif compact and first.month == last.month:
        if french:
            first_text = str(first.day)
        else:
            first_text = format_date(first, locale=locale, format="MMMM d")
            last_text = format_date(last, locale=locale, format="d, y")
    else:
        first_text = format_date(first, locale=locale, format="d MMMM" if french else "MMMM d")
    return f"du {first_text} au {last_text}" if french else f"from {first_text} to {last_text}"


def format_factor(factor: Fraction) -> str:
    """Write a proration factor as people check it: ``12/31``, or ``1`` for a whole period.

    >>> format_factor(Fraction(12, 31)), format_factor(Fraction(1))
    ('12/31', '1')
    """
    return (
        str(factor.numerator)
        if factor.denominator == 1
        else f"{factor.numerator}/{factor.denominator}"
    )


_FRENCH_NAMES = {
    (FrequencyUnit.DAY, 1): "quotidien",
    (FrequencyUnit.DAY, 7): "hebdomadaire",
    (FrequencyUnit.MONTH, 1): "mensuel",
    (FrequencyUnit.MONTH, 3): "trimestriel",
    (FrequencyUnit.MONTH, 6): "semestriel",
    (FrequencyUnit.MONTH, 12): "annuel",
}
_ENGLISH_NAMES = {
    (FrequencyUnit.DAY, 1): "daily",
    (FrequencyUnit.DAY, 7): "weekly",
    (FrequencyUnit.MONTH, 1): "monthly",
    (FrequencyUnit.MONTH, 3): "quarterly",
    (FrequencyUnit.MONTH, 6): "semiannual",
    (FrequencyUnit.MONTH, 12): "annual",
}


def format_frequency(frequency: Frequency, *, locale: str) -> str:
    """Name a billing frequency: « mensuel », « trimestriel », « tous les 2 mois ».

    >>> format_frequency(Frequency.months(3), locale="fr_FR")
    'trimestriel'
    >>> format_frequency(Frequency.years(2), locale="fr_FR"), format_frequency(
    ...     Frequency.weeks(2), locale="en_US")
    ('tous les 2 ans', 'every 2 weeks')
    """
    key = (frequency.unit, frequency.count)
    french = _is_french(locale)
    names = _FRENCH_NAMES if french else _ENGLISH_NAMES
    if key in names:
        return names[key]
    count = frequency.count
    if frequency.unit is FrequencyUnit.MONTH:
        number, unit = (
            (count // 12, ("ans", "years")) if count % 12 == 0 else (count, ("mois", "months"))
        )
    else:
        number, unit = (
            (count // 7, ("semaines", "weeks")) if count % 7 == 0 else (count, ("jours", "days"))
        )
    return f"tous les {number} {unit[0]}" if french else f"every {number} {unit[1]}"


def describe_proration(
    price: Money, billable: BillablePeriod, *, locale: str, reason: str | None = None
) -> str:
    r"""Explain a prorated amount: factor × price = amount, over which days, and why.

    ``price`` is the price of a whole billing period; ``reason`` is an optional words to
    append in brackets (already in the reader's language).

    >>> first = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1),
    ...                          frequency=MONTHLY, billing_day=13)[0]
    >>> describe_proration(Money("50.00", "EUR"), first, locale="fr_FR",
    ...                    reason="changement de plan")
    '12/28 × 50,00\xa0€ = 21,43\xa0€ : du 1 au 12 mars 2026, soit 12 jours sur les 28 de la
    période du 13 février au 12 mars 2026 (changement de plan)'
    """
    amount = (price * billable.factor).rounded()
    french = _is_french(locale)
    counted, whole = billable.day_count
    shown = format_factor(billable.factor) if counted == whole else f"{counted}/{whole}"
    head = f"{shown} × {format_money(price, locale=locale)} = {format_money(amount, locale=locale)}"
    text = (
        f"{head} : {format_period(billable.period, locale=locale, compact=True)}"
        if french
        else (f"{head}: {format_period(billable.period, locale=locale, compact=True)}")
    )
    if billable.is_partial:
        cycle = format_period(billable.cycle, locale=locale)
        if billable.basis is ProrationBasis.THIRTY_DAY_MONTH:
            text += " (base 30/360)" if french else " (30/360 basis)"
        elif billable.basis is ProrationBasis.ACTUAL_DAYS:
            text += (
                f", soit {_days(counted, french=True)} sur les {whole} de la période {cycle}"
                if french
                else f", {_days(counted, french=False)} of the {whole} of the period {cycle}"
            )
    if reason:
        text += f" ({reason})"
    return text


def _days(count: int, *, french: bool) -> str:
    if french:
        return f"{count} jour" if count == 1 else f"{count} jours"
    return f"{count} day" if count == 1 else f"{count} days"

r"""The primitives of words for people: money, dates, periods, frequencies, factors, tables.

babel formats numbers and dates for any CLDR locale; the few phrases these primitives write
themselves (« du … au … », « mensuel ») exist in French and English, other languages get
English. This module knows no domain object but ``Money``, ``Period`` and ``Frequency``: it
imports only :mod:`subbill.money` and :mod:`subbill.periods` (with the errors and the text
escapes every module shares), so that every document renderer of :mod:`subbill.l10n` builds
on it and nothing here depends on what it renders.

Every text returned is safe to print: a control character or a bidirectional override that
reached a value is shown as an escape (``\n``, ``\x1b``, ``\u202e``).
"""

from __future__ import annotations

import decimal
import functools
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction

import babel
import babel.dates
import babel.numbers

from subbill._validate import brief, escape_controls
from subbill.errors import InvalidTypeError, UnknownLocaleError
from subbill.money import DECIMAL_CONTEXT, Money
from subbill.periods import Frequency, FrequencyUnit, Period, check_date

__all__ = [
    "UnknownLocaleError",
    "format_date",
    "format_factor",
    "format_frequency",
    "format_money",
    "format_period",
    "format_quantity",
    "format_short_date",
    "is_french",
    "text_lines",
    "text_table",
]


def _locale(locale: str) -> babel.Locale:
    try:
        return babel.Locale.parse(locale)
    except (ValueError, TypeError, babel.UnknownLocaleError):
        raise UnknownLocaleError(locale) from None


def is_french(locale: str) -> bool:
    """True when ``locale`` is a French one (its words are French; all others get English).

    >>> is_french("fr_CA"), is_french("en_GB"), is_french("de_DE")
    (True, False, False)
    """
    return _locale(locale).language == "fr"


def format_money(money: Money, *, locale: str) -> str:
    r"""Format ``money``, rounded to its minor unit, the way ``locale`` writes amounts.

    >>> format_money(Money("19.99", "EUR"), locale="en_US")
    '€19.99'
    >>> format_money(Money("1500", "JPY"), locale="fr_FR")
    '1\u202f500\xa0JPY'
    >>> format_money(None, locale="fr_FR")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: money=None must be a Money (an amount and its currency)
    """
    if not isinstance(money, Money):
        raise InvalidTypeError("money", money, "a Money (an amount and its currency)")
    amount = money.rounded().amount
    # babel rounds in the thread's context: give it the library's, never the caller's.
    with decimal.localcontext(DECIMAL_CONTEXT):
        return babel.numbers.format_currency(amount, money.currency, locale=_locale(locale))


def format_quantity(quantity: Decimal, *, locale: str) -> str:
    """Write a quantity with every digit it has (``2.5``, ``0.000001``) the way ``locale`` does.

    >>> format_quantity(Decimal("2.5"), locale="fr_FR"), format_quantity(Decimal("3"),
    ...     locale="en_US")
    ('2,5', '3')
    """
    # In the library's decimal context, never the caller's.
    with decimal.localcontext(DECIMAL_CONTEXT):
        return babel.numbers.format_decimal(
            quantity, locale=_locale(locale), decimal_quantization=False
        )


def format_date(day: date, *, locale: str, format: str = "long") -> str:  # noqa: A002
    """Format a date (babel's ``short``, ``medium``, ``long``, ``full`` or a pattern).

    >>> format_date(date(2026, 3, 1), locale="fr_FR"), format_date(date(2026, 3, 1), locale="en_US")
    ('1 mars 2026', 'March 1, 2026')
    """
    check_date("day", day)
    return babel.dates.format_date(day, format=format, locale=_locale(locale))


def format_short_date(day: date, *, locale: str) -> str:
    """Write a date in ``locale``'s short numeric form, always with a four-digit year.

    For tables: babel's ``short`` form writes two digits of the year in some locales
    (« 5/31/26 » in ``en_US``), which cannot tell 2026 from 2926.

    >>> format_short_date(date(2926, 5, 31), locale="en_US")
    '5/31/2926'
    >>> format_short_date(date(2026, 5, 31), locale="fr_FR")
    '31/05/2026'
    """
    check_date("day", day)
    return babel.dates.format_date(day, format=_short_pattern(locale), locale=_locale(locale))


@functools.lru_cache(maxsize=64)
def _short_pattern(locale: str) -> str:
    """``locale``'s short date pattern, its year (``yy``, ``y``) written ``yyyy``.

    Quoted literal text (``'de'``) is kept as it is.
    """
    pattern = _locale(locale).date_formats["short"].pattern
    return _YEAR_FIELD.sub(lambda match: match.group(1) or "yyyy", pattern)


# A quoted literal (kept), or the year field of a date pattern.
_YEAR_FIELD = re.compile(r"('[^']*')|y+")


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
    if not isinstance(period, Period):
        raise InvalidTypeError("period", brief(period), "a Period")
    first, last = period.start, period.last_day
    french = is_french(locale)
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


#: The frequencies that have a name of their own, as (French, English).
_NAMES = {
    (FrequencyUnit.DAY, 1): ("quotidien", "daily"),
    (FrequencyUnit.DAY, 7): ("hebdomadaire", "weekly"),
    (FrequencyUnit.MONTH, 1): ("mensuel", "monthly"),
    (FrequencyUnit.MONTH, 3): ("trimestriel", "quarterly"),
    (FrequencyUnit.MONTH, 6): ("semestriel", "semiannual"),
    (FrequencyUnit.MONTH, 12): ("annuel", "annual"),
}


def format_frequency(frequency: Frequency, *, locale: str) -> str:
    """Name a billing frequency: « mensuel », « trimestriel », « tous les 2 mois ».

    >>> format_frequency(Frequency.months(3), locale="fr_FR")
    'trimestriel'
    >>> format_frequency(Frequency.years(2), locale="fr_FR"), format_frequency(
    ...     Frequency.weeks(2), locale="en_US")
    ('tous les 2 ans', 'every 2 weeks')
    """
    french = is_french(locale)
    names = _NAMES.get((frequency.unit, frequency.count))
    if names is not None:
        return names[0] if french else names[1]
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


def text_lines(lines: Sequence[str]) -> str:
    r"""Join output lines, each escaped: a value can never start a line of its own.

    >>> text_lines(["Client : ACME\nTotal dû : 0 €", "Total : 10 €"])
    'Client : ACME\\nTotal dû : 0 €\nTotal : 10 €'
    """
    return "\n".join(escape_controls(line) for line in lines)


def text_table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    r"""Lines of a plain-text table: headings, a rule, then the rows, columns padded.

    Control characters in cells are shown as escapes before the cells are measured.

    >>> print("\n".join(text_table(["Plan", "Prix"], [["Pro", "50 €"], ["Business", "80 €"]])))
    Plan      Prix
    --------  ----
    Pro       50 €
    Business  80 €
    """
    headings = [escape_controls(cell) for cell in headings]
    rows = [[escape_controls(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in (headings, *rows)) for i in range(len(headings))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    return [line(headings), "  ".join("-" * width for width in widths), *map(line, rows)]

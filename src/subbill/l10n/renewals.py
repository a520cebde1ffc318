"""Licence renewals in words: the reseller's dashboard and the renewal form as filled.

:func:`dashboard_text` writes :func:`subbill.renewals.renewal_dashboard` (how many companies
to renew, then each account with its colour); :func:`renewal_text` the renewal form that
:func:`subbill.licenses.renew` filled, as ``subbill renew`` prints it.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from subbill.l10n._format import (
    format_date,
    format_factor,
    format_short_date,
    text_lines,
    text_table,
)
from subbill.l10n.words import count_words, inline, label, phrase, words_for
from subbill.licenses import LicenseAccount, Renewal
from subbill.renewals import RenewalDashboard, RenewalStatus

__all__ = ["dashboard_text", "renewal_text", "term_text"]

_COLUMNS = ("customer", "product", "reseller", "start", "end", "years", "seats", "colour")


def _renewal_words(status: RenewalStatus, *, locale: str) -> str:
    """« orange (expire dans moins de 3 mois) »: the colour, then the status in words."""
    colour = words_for("renewal_colour", status.colour, locale=locale)
    return f"{colour} ({inline(label(status, locale=locale))})"


def dashboard_text(board: RenewalDashboard, *, locale: str) -> str:
    """The reseller's renewal dashboard as text: the count, then the list.

    The count of companies to renew (and by reseller), then one row per account with its
    colour named (« orange (expire dans moins de 3 mois) »). The « licences à renouveler »
    column counts seats (users of the term), not licence-years.
    """
    day = format_date(board.as_of, locale=locale)
    out = [
        phrase("dashboard", "title", locale=locale, day=day),
        phrase("dashboard", "to_renew", locale=locale, count=board.companies_to_renew),
    ]
    for reseller, number in board.by_reseller:
        name = reseller or words_for("dashboard", "no_reseller", locale=locale)
        out.append(
            "  " + phrase("dashboard", "by_reseller", locale=locale, reseller=name, count=number)
        )
    out.append("")
    if not board.rows:
        out.append(words_for("dashboard", "no_accounts", locale=locale))
        return text_lines(out)
    rows = [
        (
            row.customer,
            row.product,
            row.reseller or "—",
            format_short_date(row.start, locale=locale),
            format_short_date(row.end, locale=locale),
            str(row.years),
            str(row.seats),
            _renewal_words(row.status, locale=locale),
        )
        for row in board.rows
    ]
    headings = [words_for("dashboard_column", code, locale=locale) for code in _COLUMNS]
    out.extend(text_table(headings, rows))
    return text_lines(out)


def term_text(account: LicenseAccount, *, locale: str) -> str:
    """The term of a licence account, first and last day: « du 1 janvier au 31 décembre 2026 ».

    >>> from subbill.licenses import LicenseAccount
    >>> term_text(LicenseAccount(customer="ACME", product="Office", start=date(2026, 1, 1),
    ...     years=1, seats=5), locale="en_US")
    'January 1, 2026 to December 31, 2026'
    """
    start = format_date(account.start, locale=locale)
    last = format_date(account.last_day, locale=locale)
    return phrase("renewal", "term", locale=locale, start=start, last=last)


def renewal_text(done: Renewal, *, on: date, locale: str) -> str:
    """The renewal form, as filled on ``on``: the pool, the years, the seats, what is left."""
    form, account = done.form, done.renewed

    def line(code: str, **values: object) -> str:
        return "  " + phrase("renewal", code, locale=locale, **values)

    seats = count_words(form.seats, "user", "users", locale=locale)
    years = count_words(form.years, "year", "years", locale=locale)
    lines = [
        phrase(
            "renewal",
            "title",
            locale=locale,
            customer=account.customer,
            product=account.product,
            day=format_date(on, locale=locale),
        ),
        line("available", pool=form.pool, count=format_factor(form.available)),
        line("years", count=form.years),
        line("seats", customer=account.customer, count=form.seats),
        line(
            "used", count=format_factor(Fraction(form.seats * form.years)), seats=seats, years=years
        ),
        line("left", count=format_factor(form.left)),
        line("new_term", term=term_text(done.new_term, locale=locale)),
    ]
    return text_lines(lines)

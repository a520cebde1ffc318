r"""Words for people: money, dates, documents and reports in French or English, via babel.

This package is the edge of the library: the core returns codes, enums, dates, ``Money``
and ``Fraction``; these functions turn them into text. ``locale`` is always passed
explicitly. Numbers and dates are formatted by babel for any CLDR locale; the words subbill
writes itself exist in French and English, other languages get English. Nothing in the core
imports this package.

- :mod:`subbill.l10n._format` — the primitives: :func:`format_money`, :func:`format_date`,
  :func:`format_period`, :func:`format_short_date`, :func:`format_frequency`,
  :func:`format_factor`, :func:`text_table` (it imports no domain module but money and
  periods);
- :mod:`subbill.l10n.words` — every word, keyed by (kind, code): :func:`label`,
  :func:`words_for`, :func:`phrase`, :func:`reason_label`, …;
- one module per document or report: :mod:`~subbill.l10n.invoice` (:func:`invoice_text`,
  :func:`invoice_html`, :func:`describe_line`, :func:`describe_proration`),
  :mod:`~subbill.l10n.metering` (:func:`describe_usage`: a usage price piece by piece),
  :mod:`~subbill.l10n.checkout` (:func:`checkout_text`), :mod:`~subbill.l10n.portal`
  (:func:`portal_text`), :mod:`~subbill.l10n.review` (:func:`finding_text`,
  :func:`review_text`, :func:`story_text`, :func:`change_text`),
  :mod:`~subbill.l10n.renewals` (:func:`dashboard_text`, :func:`renewal_text`,
  :func:`term_text`), :mod:`~subbill.l10n.dunning` (:func:`action_text`: a reminder, the
  formal notice, a suspension; :func:`late_payment_text`, :func:`card_notice_text`) and
  :mod:`~subbill.l10n.refusals` (:func:`refusal_text`).

Every text these functions return is safe to print: a control character or a bidirectional
override that reached a value (names and codes refuse them at construction, but an object
may come from elsewhere) is shown as an escape (``\n``, ``\x1b``, ``\u202e``), so that no
value can start a line of its own or reorder the text around it.

>>> from datetime import date
>>> from subbill import Money, Period
>>> format_money(Money("1234.56", "EUR"), locale="fr_FR")
'1\u202f234,56\xa0€'
>>> format_period(Period(date(2026, 3, 1), date(2026, 4, 1)), locale="fr_FR")
'du 1 mars au 31 mars 2026'
"""

from subbill.l10n._format import (
    UnknownLocaleError,
    format_date,
    format_factor,
    format_frequency,
    format_money,
    format_period,
    format_short_date,
    text_table,
)
from subbill.l10n.checkout import checkout_text
from subbill.l10n.dunning import action_text, card_notice_text, late_payment_text
from subbill.l10n.invoice import describe_line, describe_proration, invoice_html, invoice_text
from subbill.l10n.metering import describe_usage
from subbill.l10n.portal import portal_text
from subbill.l10n.refusals import refusal_text
from subbill.l10n.renewals import dashboard_text, renewal_text, term_text
from subbill.l10n.review import change_text, finding_text, review_text, story_text
from subbill.l10n.words import (
    count_words,
    knows_finding,
    knows_label,
    knows_refusal,
    label,
    phrase,
    reason_label,
    words_for,
)

__all__ = [
    "UnknownLocaleError",
    "action_text",
    "card_notice_text",
    "change_text",
    "checkout_text",
    "count_words",
    "dashboard_text",
    "describe_line",
    "describe_proration",
    "describe_usage",
    "finding_text",
    "format_date",
    "format_factor",
    "format_frequency",
    "format_money",
    "format_period",
    "format_short_date",
    "invoice_html",
    "invoice_text",
    "knows_finding",
    "knows_label",
    "knows_refusal",
    "label",
    "late_payment_text",
    "phrase",
    "portal_text",
    "reason_label",
    "refusal_text",
    "renewal_text",
    "review_text",
    "story_text",
    "term_text",
    "text_table",
    "words_for",
]

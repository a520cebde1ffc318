r"""Words for people: money, dates, periods and proration in French or English, via babel.

This module is the edge of the library: the core returns codes, dates, ``Money`` and
``Fraction``; these functions turn them into text. ``locale`` is always passed explicitly.
Numbers and dates are formatted by babel for any CLDR locale; the few phrases subbill
writes itself (« du … au … ») exist in French and English, other languages get English.

Every text this module returns is safe to print: a control character or a bidirectional
override that reached a value (names and codes refuse them at construction, but an object
may come from elsewhere) is shown as an escape (``\n``, ``\x1b``, ``\u202e``), so that no
value can start a line of its own or reorder the text around it.

>>> format_money(Money("1234.56", "EUR"), locale="fr_FR")
'1\u202f234,56\xa0€'
>>> format_period(Period(date(2026, 3, 1), date(2026, 4, 1)), locale="fr_FR")
'du 1 mars au 31 mars 2026'
"""

from __future__ import annotations

import decimal
import enum
import html
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

import babel
import babel.dates
import babel.numbers

from subbill._convert import escape_controls
from subbill.catalog import ChangeTiming
from subbill.customers import CustomerKind
from subbill.decisions import Refused
from subbill.errors import InvalidArgumentError, InvalidTypeError, SubbillError
from subbill.invoices import DocumentKind, Invoice, InvoiceLine, InvoiceStatus, LineKind
from subbill.licenses import EntryKind
from subbill.money import _CONTEXT, Money
from subbill.periods import Frequency, FrequencyUnit, Period, check_date
from subbill.portal import InvoiceLabel, PortalOverview, TicketStatus
from subbill.proration import BillablePeriod, ProrationBasis
from subbill.quotes import QuoteStatus
from subbill.renewals import RenewalDashboard, RenewalStatus
from subbill.subscriptions import Change, ChangeDirection, SpanKind, SubscriptionStatus
from subbill.usage import Finding, InvoiceStory, UsageState

__all__ = [
    "UnknownLocaleError",
    "change_text",
    "dashboard_text",
    "describe_line",
    "describe_proration",
    "finding_text",
    "format_date",
    "format_factor",
    "format_frequency",
    "format_money",
    "format_period",
    "invoice_html",
    "invoice_text",
    "knows_finding",
    "knows_label",
    "knows_refusal",
    "label",
    "portal_text",
    "reason_label",
    "refusal_text",
    "story_text",
    "text_table",
    "words_for",
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
    >>> format_money(None, locale="fr_FR")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: money=None must be a Money (an amount and its currency)
    """
    if not isinstance(money, Money):
        raise InvalidTypeError("money", money, "a Money (an amount and its currency)")
    amount = money.rounded().amount
    # babel rounds in the thread's context: give it the library's, never the caller's.
    with decimal.localcontext(_CONTEXT):
        return babel.numbers.format_currency(amount, money.currency, locale=_locale(locale))


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


# -- words: French and English, looked up by (kind, code) ----------------------------------------

#: Every word subbill shows, keyed by (kind, code): a code alone never picks a word, since two
#: kinds may share one (an invoice ``open`` is « à payer », a ticket ``open`` is « Ouvert »).
#: Statuses are written as they stand alone in a badge or a table cell (capitalised, and in
#: French agreeing with the thing they describe: une facture « Payée », un abonnement
#: « Actif »); a sentence that embeds one lowers its first letter (:func:`_inline`). The
#: descriptive words (reasons, directions, colours, kinds of line) are lower case.
_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    # a subscription (un abonnement), on a date
    ("subscription_status", "scheduled"): ("Planifié", "Scheduled"),
    ("subscription_status", "active"): ("Actif", "Active"),
    ("subscription_status", "cancelled_at_period_end"): (
        "Résilié en fin de période",
        "Cancelled at period end",
    ),
    ("subscription_status", "cancelled"): ("Résilié", "Cancelled"),
    ("subscription_status", "expired"): ("Expiré", "Expired"),
    ("subscription_status", "unpaid"): ("Impayé", "Unpaid"),
    # a quote (un devis)
    ("quote_status", "draft"): ("Brouillon", "Draft"),
    ("quote_status", "sent"): ("Envoyé", "Sent"),
    ("quote_status", "accepted"): ("Accepté", "Accepted"),
    ("quote_status", "rejected"): ("Refusé", "Rejected"),
    ("quote_status", "changes_requested"): ("Modifications demandées", "Changes requested"),
    ("quote_status", "cancelled"): ("Annulé", "Cancelled"),
    ("quote_status", "expired"): ("Expiré", "Expired"),
    # an invoice (une facture) as the portal labels it before its amount
    ("invoice_label", "paid"): ("Payée", "Paid"),
    ("invoice_label", "unpaid"): ("Non payée", "Unpaid"),
    ("invoice_label", "overdue"): ("En retard", "Overdue"),
    ("invoice_label", "partially_paid"): ("Partiellement payée", "Partially paid"),
    ("invoice_label", "credit_note"): ("Avoir", "Credit note"),
    ("invoice_label", "draft"): ("Brouillon", "Draft"),
    ("invoice_label", "void"): ("Annulée", "Void"),
    # an invoice's own status and kind, in its header
    ("invoice_status", "draft"): ("Brouillon", "Draft"),
    ("invoice_status", "open"): ("À payer", "Open"),
    ("invoice_status", "partially_paid"): ("Partiellement payée", "Partially paid"),
    ("invoice_status", "paid"): ("Payée", "Paid"),
    ("invoice_status", "void"): ("Annulée", "Void"),
    ("document_kind", "invoice"): ("Facture", "Invoice"),
    ("document_kind", "credit_note"): ("Avoir", "Credit note"),
    # a support ticket (un ticket)
    ("customer_kind", "business"): ("Professionnel", "Business"),
    ("customer_kind", "consumer"): ("Particulier", "Consumer"),
    ("ticket_status", "open"): ("Ouvert", "Open"),
    ("ticket_status", "in_progress"): ("En cours", "In progress"),
    ("ticket_status", "closed"): ("Fermé", "Closed"),
    # a licence account (un compte) on the reseller's dashboard, and its colour
    ("renewal_status", "not_started"): ("Pas encore commencé", "Not started"),
    ("renewal_status", "active"): ("Actif", "Active"),
    ("renewal_status", "expiring_soon"): (
        "Expire dans moins de 3 mois",
        "Expires within 3 months",
    ),
    ("renewal_status", "expired"): ("Expiré", "Expired"),
    ("renewal_status", "renewed"): ("Renouvelé", "Renewed"),
    ("renewal_colour", "blue"): ("bleu", "blue"),
    ("renewal_colour", "orange"): ("orange", "orange"),
    ("renewal_colour", "red"): ("rouge", "red"),
    ("renewal_colour", "green"): ("vert ✓", "green ✓"),
    ("renewal_colour", "none"): ("—", "—"),
    # a resource against its limit, in the monthly review
    ("usage_state", "ok"): ("Dans les limites", "Within limits"),
    ("usage_state", "near_limit"): ("Proche de la limite", "Near the limit"),
    ("usage_state", "at_limit"): ("Limite atteinte", "Limit reached"),
    ("usage_state", "over"): ("Limite dépassée", "Over the limit"),
    # descriptive words
    ("line_kind", "recurring"): ("récurrent", "recurring"),
    ("line_kind", "one_time"): ("ponctuel", "one-time"),
    ("line_kind", "proration_charge"): ("au prorata", "prorated charge"),
    ("line_kind", "proration_credit"): ("crédit au prorata", "prorated credit"),
    ("line_kind", "adjustment"): ("ajustement", "adjustment"),
    ("change_direction", "upgrade"): ("montée de plan", "upgrade"),
    ("change_direction", "downgrade"): ("descente de plan", "downgrade"),
    ("change_direction", "same"): ("même palier", "same tier"),
    ("change_timing", "immediate"): ("immédiatement, au prorata", "now, pro rata"),
    ("change_timing", "period_end"): ("à la prochaine période", "at the next period"),
    ("span_kind", "plan"): ("plan", "plan"),
    ("span_kind", "module"): ("module", "module"),
    ("span_kind", "addon"): ("option", "add-on"),
    ("ledger_entry", "grant"): ("achat à l'éditeur", "grant"),
    ("ledger_entry", "transfer"): ("transfert", "transfer"),
    ("ledger_entry", "assignment"): ("attribution", "assignment"),
    ("ledger_entry", "renewal"): ("renouvellement", "renewal"),
    ("ledger_entry", "return"): ("retour", "return"),
    # why a charge started mid-cycle (a charge's ``reason``)
    ("reason", "plan_change"): ("changement de plan", "plan change"),
    ("reason", "upgrade"): ("montée de plan", "upgrade"),
    ("reason", "downgrade"): ("descente de plan", "downgrade"),
    ("reason", "quantity_change"): ("changement de quantité", "quantity change"),
    ("reason", "price_change"): ("changement de prix", "price change"),
    ("reason", "module_activated"): ("module activé", "module switched on"),
    ("reason", "module_deactivated"): ("module désactivé", "module switched off"),
    ("reason", "addon_subscribed"): ("option souscrite", "add-on subscribed"),
    ("reason", "addon_cancelled"): ("option résiliée", "add-on cancelled"),
    ("reason", "cancellation"): ("résiliation", "cancellation"),
    ("reason", "change"): ("modification", "change"),
    # the headings of documents (invoices, PDFs, the command line)
    ("heading", "draft_number"): ("brouillon", "draft"),
    ("heading", "customer"): ("Client", "Customer"),
    ("heading", "subscription"): ("Abonnement", "Subscription"),
    ("heading", "corrects"): ("Avoir sur la facture", "Corrects invoice"),
    ("heading", "issued_on"): ("Date", "Date"),
    ("heading", "due_on"): ("Échéance", "Due"),
    ("heading", "description"): ("Description", "Description"),
    ("heading", "period"): ("Période", "Period"),
    ("heading", "quantity"): ("Qté", "Qty"),
    ("heading", "unit_price"): ("Prix unitaire", "Unit price"),
    ("heading", "amount"): ("Montant", "Amount"),
    ("heading", "discount"): ("Remise", "Discount"),
    ("heading", "net"): ("Net", "Net"),
    ("heading", "subtotal"): ("Sous-total", "Subtotal"),
    ("heading", "discounts"): ("Remises", "Discounts"),
    ("heading", "total_net"): ("Total HT", "Total excl. tax"),
    ("heading", "tax_on"): ("{rate} sur {base}", "{rate} on {base}"),
    ("heading", "total"): ("Total TTC", "Total incl. tax"),
    ("heading", "credit_applied"): ("Crédit client appliqué", "Customer credit applied"),
    ("heading", "amount_paid"): ("Déjà payé", "Paid"),
    ("heading", "amount_due"): ("Reste à payer", "Amount due"),
    ("heading", "unused"): ("non utilisé", "unused"),
    ("heading", "unused_credit"): ("crédit de la part non utilisée", "credit for the unused part"),
    ("heading", "one_time"): ("facturé une fois", "billed once"),
}

#: The kind of each enum whose values people see; its members are looked up by their value.
_KINDS: dict[type[enum.Enum], str] = {
    SubscriptionStatus: "subscription_status",
    QuoteStatus: "quote_status",
    InvoiceLabel: "invoice_label",
    InvoiceStatus: "invoice_status",
    DocumentKind: "document_kind",
    TicketStatus: "ticket_status",
    CustomerKind: "customer_kind",
    RenewalStatus: "renewal_status",
    UsageState: "usage_state",
    LineKind: "line_kind",
    ChangeDirection: "change_direction",
    ChangeTiming: "change_timing",
    SpanKind: "span_kind",
    EntryKind: "ledger_entry",
}


def _kinds_of_codes() -> dict[str, tuple[str, ...]]:
    """Each code, with the kinds that use it (headings and reasons apart: see :func:`label`)."""
    kinds: dict[str, tuple[str, ...]] = {}
    for kind, code in _WORDS:
        if kind not in ("heading", "reason"):
            kinds[code] = (*kinds.get(code, ()), kind)
    return kinds


#: The kinds that use each code: :func:`label` reads a bare code only when there is one.
_KINDS_OF_CODE = _kinds_of_codes()


def _pick(words: tuple[str, str], locale: str) -> str:
    return words[0] if _is_french(locale) else words[1]


def _inline(word: str) -> str:
    """A status word inside a sentence: its first letter lowered (« (à payer) »)."""
    return word if word[1:2].isupper() else word[:1].lower() + word[1:]


def words_for(kind: str, code: str, *, locale: str) -> str:
    """The words of ``code`` of ``kind`` (``"ticket_status"``, ``"renewal_colour"``, …).

    >>> words_for("ticket_status", "open", locale="fr_FR")
    'Ouvert'
    >>> words_for("invoice_status", "open", locale="fr_FR")
    'À payer'
    >>> words_for("ticket_status", "lost", locale="fr_FR")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: code='lost' of kind='ticket_status' has no words; expected one of 'closed', 'in_progress', 'open'
    """  # noqa: E501  (the doctest shows the whole message)
    words = _WORDS.get((kind, code))
    if words is None:
        known = sorted(c for k, c in _WORDS if k == kind)
        if not known:
            kinds = ", ".join(sorted({k for k, _ in _WORDS}))
            raise InvalidArgumentError(f"kind={kind!r} is not a kind of words; expected {kinds}")
        raise InvalidArgumentError(
            f"code={code!r} of kind={kind!r} has no words; expected one of "
            + ", ".join(map(repr, known))
        )
    return _pick(words, locale)


def knows_label(value: enum.Enum) -> bool:
    """True when :func:`label` has French and English words for the enum member ``value``."""
    kind = _KINDS.get(type(value))
    return kind is not None and (kind, str(value.value)) in _WORDS


def label(value: enum.Enum | str, *, locale: str) -> str:
    """The French or English words for a value subbill shows: an enum member, or a heading.

    An enum member is looked up by its kind and its code: an invoice's ``OPEN`` and a
    ticket's ``OPEN`` have their own words. A ``str`` is a heading of the documents
    (``"total"``, ``"amount_due"``) or a code that a single kind uses (``"green"``); a code
    that several kinds share is refused, naming them: pass the enum member instead (or
    use :func:`words_for`). The reason of a charge has its own function,
    :func:`reason_label`.

    >>> from subbill.portal import InvoiceLabel, TicketStatus
    >>> label(InvoiceLabel.PARTIALLY_PAID, locale="fr_FR"), label(TicketStatus.OPEN, locale="en_US")
    ('Partiellement payée', 'Open')
    >>> label("total", locale="fr_FR")
    'Total TTC'
    >>> label("open", locale="fr_FR")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: code='open' names several things (invoice_status, ticket_status): pass the enum member (e.g. TicketStatus.OPEN), or words_for(kind, code)
    """  # noqa: E501  (the doctest shows the whole message)
    if isinstance(value, enum.Enum):
        kind = _KINDS.get(type(value))
        if kind is None:
            raise InvalidTypeError(
                "value", value, "a member of an enum people see (a status, a kind) or a heading"
            )
        return words_for(kind, str(value.value), locale=locale)
    if not isinstance(value, str):
        raise InvalidTypeError("value", value, "an enum member or a heading code (a str)")
    if ("heading", value) in _WORDS:
        return words_for("heading", value, locale=locale)
    kinds = _KINDS_OF_CODE.get(value, ())
    if len(kinds) > 1:
        example = next(
            (f"{k.__name__}.{value.upper()}" for k, name in _KINDS.items() if name == kinds[-1]),
            kinds[-1],
        )
        raise InvalidArgumentError(
            f"code={value!r} names several things ({', '.join(kinds)}): pass the enum member "
            f"(e.g. {example}), or words_for(kind, code)"
        )
    if not kinds:
        raise InvalidArgumentError(
            f"code={value!r} has no words; expected a heading such as 'total' or an enum "
            "member such as TicketStatus.OPEN"
        )
    return words_for(kinds[0], value, locale=locale)


def reason_label(reason: str, *, locale: str) -> str:
    """Words for why a charge started mid-cycle (``plan_change`` → « changement de plan »).

    A reason subbill has no words for is shown as it is (a charge's reason is free text).
    """
    if ("reason", reason) in _WORDS:
        return words_for("reason", reason, locale=locale)
    return escape_controls(str(reason))


# -- invoices ------------------------------------------------------------------------------------


def _quantity(quantity: Decimal, *, locale: str) -> str:
    # Every digit of a quantity is shown (2.5, 0.000001: up to 6 places), in the library's
    # decimal context, never the caller's.
    with decimal.localcontext(_CONTEXT):
        return babel.numbers.format_decimal(
            quantity, locale=_locale(locale), decimal_quantization=False
        )


def describe_line(line: InvoiceLine, *, locale: str) -> str:
    r"""Explain an invoice line: factor × price, over which days, why, and its discounts.

    >>> from subbill import RecurringCharge, ChargePlan, bill_subscription
    >>> pro = RecurringCharge(code="pro", description="Pro", unit_price=Money("50", "EUR"),
    ...                       start=date(2026, 3, 1))
    >>> old, new = pro.change(date(2026, 3, 13), unit_price=Money("80", "EUR"),
    ...                       reason="plan_change")
    >>> first = bill_subscription(ChargePlan(id="S", customer="C", currency="EUR",
    ...     charges=(pro,)), as_of=date(2026, 3, 1))
    >>> later = bill_subscription(ChargePlan(id="S", customer="C", currency="EUR",
    ...     charges=(old, new)), first.state, as_of=date(2026, 3, 13))
    >>> for line in later.invoice.lines:  # (no-break spaces shown as spaces)
    ...     print(describe_line(line, locale="fr_FR").replace("\xa0", " "))
    crédit de la part non utilisée : 19/31 × 50,00 € : du 13 au 31 mars 2026, soit 19 jours
    sur les 31 de la période du 1 mars au 31 mars 2026
    19/31 × 80,00 € : du 13 au 31 mars 2026, soit 19 jours sur les 31 de la période du
    1 mars au 31 mars 2026 (changement de plan)
    """
    french = _is_french(locale)
    explanation = line.explanation
    price = explanation.unit_price
    parts: list[str] = []
    quantity = explanation.quantity
    head_price = format_money(price, locale=locale)
    if quantity != 1:
        head_price = f"{_quantity(quantity, locale=locale)} × {head_price}"
    colon = " : " if french else ": "
    if explanation.rule == "one_time":
        parts.append(f"{head_price}{colon}{label('one_time', locale=locale)}")
    else:
        days, whole = explanation.days, explanation.period_days
        factor = explanation.factor
        shown = (
            f"{days}/{whole}"
            if days is not None and whole is not None and days != whole
            else format_factor(factor)
        )
        text = f"{shown} × {head_price}"
        if explanation.period is not None:
            text += f"{colon}{format_period(explanation.period, locale=locale, compact=True)}"
        if (
            factor != 1
            and explanation.cycle is not None
            and explanation.basis is ProrationBasis.ACTUAL_DAYS
            and days is not None
        ):
            cycle = format_period(explanation.cycle, locale=locale)
            text += (
                f", soit {_days(days, french=True)} sur les {whole} de la période {cycle}"
                if french
                else f", {_days(days, french=False)} of the {whole} of the period {cycle}"
            )
        elif explanation.basis is ProrationBasis.THIRTY_DAY_MONTH and factor != 1:
            text += " (base 30/360)" if french else " (30/360 basis)"
        if explanation.rule == "unused_credit":
            text = f"{label('unused_credit', locale=locale)}{colon}{text}"
        parts.append(text)
    if explanation.reason and explanation.rule != "unused_credit":
        parts[-1] += f" ({reason_label(explanation.reason, locale=locale)})"
    for discount in explanation.discounts:
        word = label("discount", locale=locale).lower()
        parts.append(
            f"− {word} {discount.code}{colon}{format_money(discount.amount, locale=locale)}"
        )
    return escape_controls(" ; ".join(parts) if french else "; ".join(parts))


def _text_lines(lines: Sequence[str]) -> str:
    """Join output lines, each escaped: a value can never start a line of its own."""
    return "\n".join(escape_controls(line) for line in lines)


def _rows(invoice: Invoice, *, locale: str) -> list[tuple[str, str]]:
    """The totals block: (label, amount) rows."""

    def money(amount: Money) -> str:
        return format_money(amount, locale=locale)

    rows = [(label("subtotal", locale=locale), money(invoice.subtotal))]
    if not invoice.discount_total.is_zero():
        rows.append((label("discounts", locale=locale), money(-invoice.discount_total)))
    rows.append((label("total_net", locale=locale), money(invoice.net)))
    for row in invoice.taxes:
        words = label("tax_on", locale=locale).format(rate=row.rate.name, base=money(row.base))
        rows.append((words, money(row.tax)))
    rows.append((label("total", locale=locale), money(invoice.total)))
    if invoice.credit_applied is not None and not invoice.credit_applied.is_zero():
        rows.append((label("credit_applied", locale=locale), money(-invoice.credit_applied)))
    if invoice.payments:
        rows.append((label("amount_paid", locale=locale), money(-invoice.amount_paid)))
    rows.append((label("amount_due", locale=locale), money(invoice.amount_due)))
    return rows


def _header(invoice: Invoice, *, locale: str) -> list[str]:
    title = label(invoice.kind, locale=locale)
    number = invoice.number or "—"
    status = _inline(label(invoice.status, locale=locale))
    head = [f"{title} {escape_controls(number)} ({status})"]
    who = f"{label('customer', locale=locale)} : {escape_controls(invoice.customer)}"
    if invoice.subscription:
        subscription = escape_controls(invoice.subscription)
        who += f"    {label('subscription', locale=locale)} : {subscription}"
    head.append(who)
    head.append(
        f"{label('issued_on', locale=locale)} : {format_date(invoice.issued_on, locale=locale)}"
        f"    {label('due_on', locale=locale)} : {format_date(invoice.due_on, locale=locale)}"
    )
    if invoice.corrects is not None:  # a credit note names the invoice it corrects
        head.append(f"{label('corrects', locale=locale)} : {escape_controls(invoice.corrects)}")
    if not _is_french(locale):
        head[1:] = [item.replace(" : ", ": ") for item in head[1:]]
    return head


def _line_cells(line: InvoiceLine, *, locale: str) -> list[str]:
    period = "" if line.period is None else format_period(line.period, locale=locale, compact=True)
    return [
        escape_controls(line.description),
        period,
        _quantity(line.quantity, locale=locale),
        format_money(line.unit_price, locale=locale),
        format_money(line.amount, locale=locale),
        format_money(-line.discount, locale=locale) if not line.discount.is_zero() else "",
        format_money(line.net, locale=locale),
    ]


_COLUMNS = ("description", "period", "quantity", "unit_price", "amount", "discount", "net")


def invoice_text(invoice: Invoice, *, locale: str) -> str:
    """Render an invoice as a plain-text table, each line followed by its explanation."""
    headings = [label(code, locale=locale) for code in _COLUMNS]
    cells = [_line_cells(line, locale=locale) for line in invoice.lines]
    widths = [max(len(row[i]) for row in (headings, *cells)) for i in range(len(headings))]

    def row_text(row: list[str]) -> str:
        left = [row[i].ljust(widths[i]) for i in range(2)]
        right = [row[i].rjust(widths[i]) for i in range(2, len(row))]
        return "  ".join(left + right).rstrip()

    out = [*_header(invoice, locale=locale), "", row_text(headings)]
    out.append("-" * len(out[-1]))
    for line, row in zip(invoice.lines, cells, strict=True):
        out.append(row_text(row))
        out.append(f"    {describe_line(line, locale=locale)}")
    out.append("")
    totals = _rows(invoice, locale=locale)
    width = max(len(name) for name, _ in totals)
    amount_width = max(len(amount) for _, amount in totals)
    out.extend(f"{name.ljust(width)}  {amount.rjust(amount_width)}" for name, amount in totals)
    return _text_lines(out)


def invoice_html(invoice: Invoice, *, locale: str) -> str:
    """Render an invoice as an HTML table (for notebooks), explanations under each line."""
    def esc(text: str) -> str:
        return html.escape(escape_controls(text))

    headings = "".join(f"<th>{esc(label(code, locale=locale))}</th>" for code in _COLUMNS)
    body = []
    for line in invoice.lines:
        cells = "".join(f"<td>{esc(cell)}</td>" for cell in _line_cells(line, locale=locale))
        body.append(f"<tr>{cells}</tr>")
        body.append(
            f'<tr><td colspan="{len(_COLUMNS)}"><small>'
            f"{esc(describe_line(line, locale=locale))}</small></td></tr>"
        )
    totals = "".join(
        f'<tr><td colspan="{len(_COLUMNS) - 1}" style="text-align:right">{esc(name)}</td>'
        f"<td>{esc(amount)}</td></tr>"
        for name, amount in _rows(invoice, locale=locale)
    )
    header = "<br>".join(esc(item) for item in _header(invoice, locale=locale))
    return (
        f'<div class="subbill-invoice"><p>{header}</p><table>'
        f"<thead><tr>{headings}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot>{totals}</tfoot></table></div>"
    )


# -- decisions, findings and explanations of subscriptions ---------------------------------------

_REFUSALS: dict[str, tuple[str, str]] = {
    "unknown_module": ("Le module {module} n'existe pas.", "There is no module {module}."),
    "unknown_addon": ("L'option {addon} n'existe pas.", "There is no add-on {addon}."),
    "subscription_not_live": (
        "L'abonnement n'est pas en cours le {on}.",
        "The subscription is not running on {on}.",
    ),
    "already_active": ("{subject} est déjà actif.", "{subject} is already active."),
    "already_scheduled": (
        "{subject} est déjà prévu à partir du {since}.",
        "{subject} is already scheduled from {since}.",
    ),
    "included_in_plan": (
        "Le module {module} est déjà inclus dans votre plan {plan}.",
        "The module {module} is already included in your plan {plan}.",
    ),
    "requires_plan": (
        "Le module {module} n'est disponible qu'avec les plans : {plans}.",
        "The module {module} is only available with the plans: {plans}.",
    ),
    "requires_plan_minimum": (
        "Le module {module} nécessite le plan {minimum} ou supérieur.",
        "The module {module} requires plan {minimum} or above.",
    ),
    "requires_addon": (
        "{subject} nécessite l'option complémentaire {addons}, non souscrite.",
        "{subject} requires the add-on {addons}, which is not subscribed.",
    ),
    "no_price_for_frequency": (
        "{subject} n'est pas proposé avec cette fréquence de facturation ({frequency}).",
        "{subject} is not sold with this billing frequency ({frequency}).",
    ),
    "not_active": ("{subject} n'est pas actif.", "{subject} is not active."),
    "required_by": (
        "L'option {addon} est nécessaire aux modules actifs : {modules}.",
        "The add-on {addon} is needed by the active modules: {modules}.",
    ),
    "already_cancelled": (
        "L'abonnement est déjà résilié (fin le {cancel_at}).",
        "The subscription is already cancelled (ends on {cancel_at}).",
    ),
    "same_plan": ("Vous êtes déjà sur le plan {plan}.", "You are already on plan {plan}."),
    "in_use": (
        (
            "Ce moyen de paiement est utilisé par les abonnements {subscriptions} : indiquez "
            "celui qui le remplace."
        ),
        (
            "This payment method is used by the subscriptions {subscriptions}: name the one "
            "that replaces it."
        ),
    ),
    "only_method": (
        (
            "Impossible de supprimer ce moyen de paiement : c'est le seul des abonnements actifs "
            "{subscriptions}. Ajoutez-en un autre d'abord."
        ),
        (
            "This payment method cannot be deleted: it is the only one of the active "
            "subscriptions {subscriptions}. Add another one first."
        ),
    ),
    "not_enough_licences": (
        (
            "Licences insuffisantes chez {holder} pour {product} : il en faut {needed}, "
            "il en reste {available}."
        ),
        "Not enough {product} licences left with {holder}: {needed} needed, {available} available.",
    ),
    "already_renewed": (
        "Le compte {customer} ({product}) est déjà renouvelé.",
        "The account of {customer} ({product}) is already renewed.",
    ),
    "usage_over_limits": (
        "Le plan {plan} ne suffit pas pour votre utilisation actuelle : {resources}.",
        "Plan {plan} does not fit your current usage: {resources}.",
    ),
}


def _subject(facts: dict[str, str], *, french: bool) -> str:
    if "module" in facts:
        return f"Le module {facts['module']}" if french else f"The module {facts['module']}"
    if "addon" in facts:
        return f"L'option {facts['addon']}" if french else f"The add-on {facts['addon']}"
    if "plan" in facts:
        return f"Le plan {facts['plan']}" if french else f"Plan {facts['plan']}"
    return "Cet élément" if french else "This item"


def _render(
    templates: dict[str, tuple[str, str]], code: str, facts: dict[str, str], *, locale: str
) -> str:
    french = _is_french(locale)
    if code not in templates:
        return escape_controls(code)
    template = templates[code][0 if french else 1]
    values = dict(facts)
    for key in ("on", "cancel_at", "next_billing"):
        if values.get(key):
            values[key] = format_date(date.fromisoformat(values[key]), locale=locale)
    values["subject"] = _subject(facts, french=french)
    return escape_controls(template.format_map(_Missing(values)))


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def refusal_text(refused: Refused, *, locale: str) -> str:
    """Word a refusal for the person who asked, in French or English.

    >>> refusal_text(Refused(code="requires_plan", facts={"module": "Stock", "plans": "Pro",
    ...              "minimum": "Pro"}), locale="fr_FR")
    'Le module Stock nécessite le plan Pro ou supérieur.'
    >>> refusal_text(Refused(code="requires_addon", facts={"module": "Multi-dépôts",
    ...              "addons": "Multi-sociétés"}), locale="en_US")
    'The module Multi-dépôts requires the add-on Multi-sociétés, which is not subscribed.'
    """
    facts = dict(refused.facts)
    code = refused.code
    if code == "requires_plan" and facts.get("minimum"):
        code = "requires_plan_minimum"
    return _render(_REFUSALS, code, facts, locale=locale)


def knows_refusal(code: str) -> bool:
    """True when :func:`refusal_text` has words for ``code`` in French and English."""
    return code in _REFUSALS


_FINDINGS: dict[str, tuple[str, str]] = {
    "plan_ok": (
        "Votre plan {plan} correspond à votre activité.",
        "Your plan {plan} fits your activity.",
    ),
    "plan_too_small": (
        "Votre utilisation dépasse les limites du plan {plan} : passez au plan {next_step}.",
        "Your usage exceeds the limits of plan {plan}: move up to plan {next_step}.",
    ),
    "plan_too_large": (
        "Le plan {next_step} suffirait : descendre d'un palier économiserait {amount} par période.",
        "Plan {next_step} would do: one step down would save {amount} per period.",
    ),
    "module_unused": (
        (
            "Le module {module} n'a pas servi ce mois-ci : le désactiver économiserait {amount} "
            "par période."
        ),
        (
            "The module {module} was not used this month: switching it off would save {amount} "
            "per period."
        ),
    ),
    "module_unused_free": (
        "Le module {module} n'a pas servi ce mois-ci : le désactiver clarifierait votre interface.",
        "The module {module} was not used this month: switching it off would tidy your screens.",
    ),
    "modules_used": (
        "Tous les modules actifs ont servi ce mois-ci.",
        "Every active module was used this month.",
    ),
    "resource_near_limit": (
        "{resource} : {used} sur {limit} ({percent} %), proche de la limite.",
        "{resource}: {used} of {limit} ({percent} %), near the limit.",
    ),
    "resource_at_limit": (
        "{resource} : {used} sur {limit}, limite atteinte.",
        "{resource}: {used} of {limit}, limit reached.",
    ),
    "resource_over_limit": (
        "{resource} : {used} pour une limite de {limit}, limite dépassée.",
        "{resource}: {used} against a limit of {limit}, over the limit.",
    ),
    "usage_ok": (
        "Aucune ressource n'approche de sa limite.",
        "No resource is near its limit.",
    ),
    "invoice_matches": (
        "La facture {invoice} correspond à votre configuration.",
        "Invoice {invoice} matches your configuration.",
    ),
    "invoice_mismatch": (
        (
            "La facture {invoice} ne correspond pas à votre configuration : facturé {billed}, "
            "attendu {expected}."
        ),
        (
            "Invoice {invoice} does not match your configuration: billed {billed}, expected "
            "{expected}."
        ),
    ),
    "no_recent_invoice": ("Aucune facture ce mois-ci.", "No invoice this month."),
    "payment_method_missing": (
        "Aucun moyen de paiement actif : ajoutez-en un.",
        "No active payment method: add one.",
    ),
    "payment_method_expired": (
        "Votre moyen de paiement {method} a expiré : mettez-le à jour.",
        "Your payment method {method} has expired: update it.",
    ),
    "payment_method_expiring": (
        (
            "Votre moyen de paiement {method} expire avant le prochain prélèvement du "
            "{next_billing} : mettez-le à jour."
        ),
        "Your payment method {method} expires before the next charge on {next_billing}: update it.",
    ),
    "payment_method_ok": (
        "Votre moyen de paiement {method} est valide.",
        "Your payment method {method} is valid.",
    ),
}


def _money_fact(text: str, *, locale: str) -> str:
    amount, _, currency = text.partition(" ")
    return format_money(Money(amount, currency), locale=locale) if currency else text


def finding_text(finding: Finding, *, locale: str) -> str:
    r"""Word a finding of the monthly review.

    >>> from subbill.usage import Finding
    >>> text = finding_text(Finding(check="modules", code="module_unused", severity="warning",
    ...     facts={"module": "Stock"}, amount=Money("9", "EUR")), locale="fr_FR")
    >>> print(text.replace("\xa0", " "))
    Le module Stock n'a pas servi ce mois-ci : le désactiver économiserait 9,00 € par période.
    """
    facts = dict(finding.facts)
    code = finding.code
    if code == "module_unused" and finding.amount is None:
        code = "module_unused_free"
    if finding.amount is not None:
        facts["amount"] = format_money(finding.amount, locale=locale)
    for key in ("billed", "expected"):
        if key in facts:
            facts[key] = _money_fact(facts[key], locale=locale)
    return _render(_FINDINGS, code, facts, locale=locale)


def knows_finding(code: str) -> bool:
    """True when :func:`finding_text` has words for ``code``."""
    return code in _FINDINGS


_CHANGES = {
    "upgrade": (
        "montée vers le plan {code} (depuis {previous})",
        "upgrade to plan {code} (from {previous})",
    ),
    "downgrade": (
        "descente vers le plan {code} (depuis {previous})",
        "downgrade to plan {code} (from {previous})",
    ),
    "module_activated": ("module {code} activé", "module {code} switched on"),
    "module_deactivated": ("module {code} désactivé", "module {code} switched off"),
    "addon_subscribed": ("option {code} souscrite", "add-on {code} subscribed"),
    "addon_cancelled": ("option {code} résiliée", "add-on {code} cancelled"),
    "cancellation": ("résiliation demandée", "cancellation requested"),
    "price_change": ("nouveau prix de {code}", "new price of {code}"),
    "quantity_change": ("nouveau nombre de licences de {code}", "new seats of {code}"),
    "payment_method_changed": (
        "nouveau mode de paiement ({code})",
        "new payment method ({code})",
    ),
}


def change_text(change: Change, *, locale: str, names: Mapping[str, str] | None = None) -> str:
    """Word one event of a subscription's history, with its date (``names``: code → name)."""
    french = _is_french(locale)
    names = names or {}
    words = _CHANGES.get(change.kind, (change.kind, change.kind))[0 if french else 1]
    previous = change.previous or ""
    text = words.format(
        code=names.get(change.code, change.code), previous=names.get(previous, previous)
    )
    when = format_date(change.on, locale=locale)
    return escape_controls(f"le {when} : {text}" if french else f"on {when}: {text}")


def story_text(story: InvoiceStory, *, locale: str) -> str:
    """Explain an invoice from its subscription, line by line, then the changes.

    The answer to « J'ai des doutes sur le montant d'une facture ».
    """
    french = _is_french(locale)
    kinds = {
        "plan": ("plan", "plan"),
        "module": ("module", "module"),
        "addon": ("option", "add-on"),
        "line": ("ligne du devis", "quoted line"),
        "other": ("autre", "other"),
    }
    out = []
    invoice = story.invoice
    title = label(invoice.kind, locale=locale)
    head = f"{title} {invoice.number or '—'}"
    if story.period is not None:
        head += f" — {format_period(story.period, locale=locale)}"
    out.append(head)
    for item in story.lines:
        kind = kinds[item.item_kind][0 if french else 1]
        shown = item.line.explanation.cycle or item.line.period
        spans = "; ".join(
            format_period(Period(span.start, span.end or _far(span.start, shown)), locale=locale)
            for span in item.active
        )
        active = (f" — actif {spans}" if french else f" — active {spans}") if spans else ""
        amount = format_money(item.line.net, locale=locale)
        out.append(
            f"• {item.item_name} ({kind}){active} : {amount}"
            if french
            else f"• {item.item_name} ({kind}){active}: {amount}"
        )
        out.append(f"    {describe_line(item.line, locale=locale)}")
    if story.changes:
        out.append("Changements pendant la période :" if french else "Changes during the period:")
        names = dict(story.names)
        out.extend(
            f"• {change_text(change, locale=locale, names=names)}" for change in story.changes
        )
    else:
        out.append(
            "Aucun changement pendant la période." if french else "No change during the period."
        )
    return _text_lines(out)


def _far(start: date, period: Period | None) -> date:
    """An open span shown up to the end of the line's period."""
    return period.end if period is not None and period.end > start else start + timedelta(days=1)


# -- the customer portal --------------------------------------------------------------------------

#: The portal's titles and headings: (French, English).
_PORTAL: dict[str, tuple[str, str]] = {
    "quotes": ("Devis", "Quotes"),
    "no_quotes": ("Aucun devis.", "No quotes."),
    "orders": ("Commandes", "Orders"),
    "invoices": ("Factures", "Invoices"),
    "no_invoices": ("Aucune facture.", "No invoices."),
    "subscriptions": ("Abonnements", "Subscriptions"),
    "no_subscriptions": ("Aucun abonnement.", "No subscriptions."),
    "tickets": ("Tickets", "Tickets"),
    "payment_methods": ("Moyens de paiement", "Payment methods"),
    "reference": ("Référence", "Reference"),
    "valid_until": ("Valide jusqu'au", "Valid until"),
    "status": ("Statut", "Status"),
    "on_accepting": ("À l'acceptation (TTC)", "On accepting (incl. tax)"),
    "then": ("Puis", "Then"),
    "ordered_on": ("Date", "Date"),
    "items": ("Articles", "Items"),
    "paid_now": ("Payé", "Paid"),
    "number": ("Numéro", "Number"),
    "issued_on": ("Date", "Date"),
    "due_on": ("Échéance", "Due"),
    "total": ("Total TTC", "Total incl. tax"),
    "amount_due": ("Reste à payer", "Amount due"),
    "plan": ("Plan", "Plan"),
    "apps": ("Applications", "Apps"),
    "frequency": ("Facturation", "Billing"),
    "next_billing": ("Prochaine facture", "Next invoice"),
    "lines": ("Lignes", "Lines"),
    "next_amount": ("Montant TTC", "Amount incl. tax"),
    "payment_method": ("Moyen de paiement", "Payment method"),
    "ticket_reference": ("# Réf", "# Ref"),
    "subject": ("Sujet", "Subject"),
    "opened_on": ("Ouvert le", "Opened"),
    "updated_on": ("Mis à jour le", "Updated"),
    "method": ("Moyen", "Method"),
    "default": ("Par défaut", "Default"),
    "validity": ("Validité", "Validity"),
    "expired": ("Expiré", "Expired"),
    "valid": ("Valide", "Valid"),
}


def portal_text(overview: PortalOverview, *, locale: str) -> str:
    r"""The customer portal (seed 004) as text: quotes, orders, invoices, subscriptions, ….

    Each section is a table; every status is in words (« Payée », « En retard », « Ouvert »
    …, looked up by its kind). Quotes, invoices and subscriptions are always shown (« Aucun
    devis. » when there are none); orders, tickets and payment methods only when there are
    some. A quote shows what the customer pays on accepting, taxes included, then its
    first later payment.

    >>> from subbill.portal import PortalOverview
    >>> print(portal_text(PortalOverview(customer="ACME", as_of=date(2026, 4, 10), quotes=(),
    ...     orders=(), invoices=(), subscriptions=(), tickets=(), payment_methods=()),
    ...     locale="fr_FR"))
    Portail client de ACME au 10 avril 2026
    <BLANKLINE>
    Devis
    Aucun devis.
    <BLANKLINE>
    Factures
    Aucune facture.
    <BLANKLINE>
    Abonnements
    Aucun abonnement.
    """
    if not isinstance(overview, PortalOverview):
        raise InvalidTypeError("overview", overview, "a PortalOverview (see portal_overview)")
    french = _is_french(locale)

    def word(key: str) -> str:
        return _pick(_PORTAL[key], locale)

    def day(value: date | None) -> str:  # 30/09/2026, Sep 30, 2026
        shown = "short" if french else "medium"
        return "—" if value is None else format_date(value, locale=locale, format=shown)

    def money(amount: Money) -> str:
        return format_money(amount, locale=locale)

    when = format_date(overview.as_of, locale=locale)
    out = [
        f"Portail client de {overview.customer} au {when}"
        if french
        else f"Customer portal of {overview.customer} on {when}"
    ]

    def section(
        title: str, headings: Sequence[str], rows: Sequence[Sequence[str]], empty: str | None
    ) -> None:
        if not rows and empty is None:
            return
        out.extend(("", word(title)))
        if rows:
            out.extend(text_table([word(h) for h in headings], rows))
        else:
            out.append(word(empty or title))

    at = " le " if french else " on "
    section(
        "quotes",
        ("reference", "valid_until", "status", "on_accepting", "then"),
        [
            (
                row.id if row.version == 1 else f"{row.id} (v{row.version})",
                day(row.valid_until),
                label(row.status, locale=locale),
                money(row.amount),
                ""
                if row.next_payment is None or row.next_payment_on is None
                else f"{money(row.next_payment)}{at}{day(row.next_payment_on)}",
            )
            for row in overview.quotes
        ],
        "no_quotes",
    )
    section(
        "orders",
        ("reference", "ordered_on", "items", "paid_now"),
        [
            (row.id, day(row.ordered_on), str(row.items), money(row.paid_now))
            for row in overview.orders
        ],
        None,
    )
    section(
        "invoices",
        ("number", "issued_on", "due_on", "status", "total", "amount_due"),
        [
            (
                row.number or "—",
                day(row.issued_on),
                day(row.due_on),
                label(row.label, locale=locale),
                money(row.total),
                money(row.amount_due),
            )
            for row in overview.invoices
        ],
        "no_invoices",
    )
    section(
        "subscriptions",
        (
            "reference",
            "status",
            "plan",
            "apps",
            "lines",
            "frequency",
            "next_billing",
            "next_amount",
            "payment_method",
        ),
        [
            (
                row.id,
                label(row.status, locale=locale),
                row.plan or "—",
                str(row.apps),
                str(row.lines),
                format_frequency(row.frequency, locale=locale),
                day(row.next_billing),
                "—" if row.next_amount is None else money(row.next_amount),
                row.payment_method or "—",
            )
            for row in overview.subscriptions
        ],
        "no_subscriptions",
    )
    section(
        "tickets",
        ("ticket_reference", "subject", "status", "opened_on", "updated_on"),
        [
            (
                row.reference,
                row.subject,
                label(row.status, locale=locale),
                day(row.opened_on),
                day(row.updated_on),
            )
            for row in overview.tickets
        ],
        None,
    )
    section(
        "payment_methods",
        ("method", "default", "validity"),
        [
            (
                row.label,
                "✓" if row.is_default else "",
                word("expired" if row.is_expired else "valid"),
            )
            for row in overview.payment_methods
        ],
        None,
    )
    return _text_lines(out)


# -- the renewal dashboard ------------------------------------------------------------------

_DASHBOARD_HEADINGS = {
    True: (
        "Nom client",
        "Abonnement",
        "Nom revendeur",
        "Date de début",
        "Date de fin",
        "Durée (ans)",
        "Licences à renouveler (utilisateurs)",
        "Couleur",
    ),
    False: (
        "Customer",
        "Product",
        "Reseller",
        "Start",
        "End",
        "Years",
        "Licences to renew (seats)",
        "Colour",
    ),
}


def text_table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a plain-text table: headings, a rule, then the rows, columns padded.

    Control characters in cells are shown as escapes before the cells are measured.
    """
    headings = [escape_controls(cell) for cell in headings]
    rows = [[escape_controls(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in (headings, *rows)) for i in range(len(headings))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    return [line(headings), "  ".join("-" * width for width in widths), *map(line, rows)]


def _renewal_words(status: RenewalStatus, *, locale: str) -> str:
    """« orange (expire dans moins de 3 mois) »: the colour, then the status in words."""
    colour = words_for("renewal_colour", status.colour, locale=locale)
    return f"{colour} ({_inline(label(status, locale=locale))})"


def dashboard_text(board: RenewalDashboard, *, locale: str) -> str:
    """The reseller's renewal dashboard (seed 002) as text: the count, then the list.

    The count of companies to renew (and by reseller), then the seed's columns with each
    row's colour named (« orange (expire dans moins de 3 mois) »). The « licences à
    renouveler » column counts seats (users of the term), not licence-years.
    """
    french = _is_french(locale)
    day = format_date(board.as_of, locale=locale)
    count = board.companies_to_renew
    out = [
        f"Tableau de bord au {day}" if french else f"Dashboard on {day}",
        f"Nombre de sociétés à renouveler : {count}" if french else f"Companies to renew: {count}",
    ]
    for reseller, number in board.by_reseller:
        name = reseller or ("sans revendeur" if french else "no reseller")
        out.append(f"  dont {name} : {number}" if french else f"  {name}: {number}")
    out.append("")
    if not board.rows:
        out.append("Aucun compte de licences." if french else "No licence accounts.")
        return _text_lines(out)
    rows = [
        (
            row.customer,
            row.product,
            row.reseller or "—",
            format_date(row.start, locale=locale, format="short"),
            format_date(row.end, locale=locale, format="short"),
            str(row.years),
            str(row.seats),
            _renewal_words(row.status, locale=locale),
        )
        for row in board.rows
    ]
    out.extend(text_table(_DASHBOARD_HEADINGS[french], rows))
    return _text_lines(out)

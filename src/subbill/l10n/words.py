"""The French and English words subbill shows, keyed by (kind, code), and how to look them up.

One table, :data:`WORDS`, holds every word and phrase the documents and reports print: the
statuses and kinds of the enums people see (looked up by the enum member, see :func:`label`),
the headings of the documents, why a charge started mid-cycle (:func:`reason_label`), the
refusals, findings and changes (``{placeholders}`` filled from their facts), and the phrases
of each renderer of :mod:`subbill.l10n`, of the PDF and of the command line. A code alone
never picks a word, since two kinds may share one (an invoice ``open`` is « À payer », a
ticket ``open`` is « Ouvert »). French locales get the French words, every other locale the
English ones.

>>> words_for("ticket_status", "open", locale="fr_FR"), words_for("invoice_status", "open",
...     locale="fr_FR")
('Ouvert', 'À payer')
>>> phrase("review", "to_look_at", locale="en_US", count=2)
'2 point(s) to look at.'
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from importlib import resources
from types import MappingProxyType
from typing import Final

from subbill._validate import escape_controls
from subbill.catalog import ChangeTiming
from subbill.customers import CustomerKind
from subbill.dunning import DunningActionKind, EventOutcome
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import DocumentKind, InvoiceStatus, LineKind
from subbill.l10n._format import format_date, is_french
from subbill.licenses import EntryKind
from subbill.metering import Aggregation, ModelKind, PieceKind
from subbill.parties import OperationCategory
from subbill.portal import InvoiceLabel, TicketStatus
from subbill.quotes import QuoteStatus
from subbill.renewals import RenewalStatus
from subbill.subscriptions import (
    ChangeDirection,
    MissingPaymentMethod,
    SpanKind,
    SubscriptionStatus,
    TrialAnchor,
    TrialOutcome,
)
from subbill.usage import UsageState

__all__ = [
    "WORDS",
    "count_words",
    "fill",
    "inline",
    "knows_finding",
    "knows_label",
    "knows_refusal",
    "label",
    "phrase",
    "pick",
    "reason_label",
    "words_for",
]


def _read_words() -> dict[tuple[str, str], tuple[str, str]]:
    """The table of ``words.toml`` (beside this module), keyed by (kind, code)."""
    text = resources.files("subbill.l10n").joinpath("words.toml").read_text(encoding="utf-8")
    return {
        (kind, code): (french, english)
        for kind, codes in tomllib.loads(text).items()
        for code, (french, english) in codes.items()
    }


#: Every word subbill shows, keyed by (kind, code), as (French, English): the data file
#: ``words.toml`` beside this module, read once at import. Statuses are capitalised as they
#: stand alone in a badge (:func:`inline` lowers them inside a sentence); a phrase holds
#: ``{placeholders}`` that :func:`phrase` fills. The file's header says how words are written.
WORDS: Final[Mapping[tuple[str, str], tuple[str, str]]] = MappingProxyType(_read_words())


#: The kind of each enum whose values people see; its members are looked up by their value.
_KINDS: dict[type[enum.Enum], str] = {
    SubscriptionStatus: "subscription_status",
    QuoteStatus: "quote_status",
    InvoiceLabel: "invoice_label",
    InvoiceStatus: "invoice_status",
    DocumentKind: "document_kind",
    TicketStatus: "ticket_status",
    CustomerKind: "customer_kind",
    OperationCategory: "operation_category",
    RenewalStatus: "renewal_status",
    UsageState: "usage_state",
    LineKind: "line_kind",
    ChangeDirection: "change_direction",
    ChangeTiming: "change_timing",
    SpanKind: "span_kind",
    TrialAnchor: "trial_anchor",
    MissingPaymentMethod: "missing_payment_method",
    TrialOutcome: "trial_outcome",
    EntryKind: "ledger_entry",
    Aggregation: "aggregation",
    ModelKind: "usage_model",
    PieceKind: "usage_piece",
    DunningActionKind: "dunning_action",
    EventOutcome: "dunning_outcome",
}

#: The kinds whose codes :func:`label` reads alone (``label("green")``): those of the enums
#: people see, and the colours of the renewal dashboard. Headings have their own branch;
#: reasons their own function; phrases are looked up with their kind.
_LABEL_KINDS = frozenset({*_KINDS.values(), "renewal_colour"})


def _kinds_of_codes() -> dict[str, tuple[str, ...]]:
    """Each code, with the kinds of :data:`_LABEL_KINDS` that use it."""
    kinds: dict[str, tuple[str, ...]] = {}
    for kind, code in WORDS:
        if kind in _LABEL_KINDS:
            kinds[code] = (*kinds.get(code, ()), kind)
    return kinds


#: The kinds that use each code: :func:`label` reads a bare code only when there is one.
_KINDS_OF_CODE = _kinds_of_codes()


def pick(words: tuple[str, str], locale: str) -> str:
    """The French or the English one of ``words``, for ``locale``."""
    return words[0] if is_french(locale) else words[1]


def inline(word: str) -> str:
    """A status word inside a sentence: its first letter lowered (« (à payer) »).

    >>> inline("À payer"), inline("OK")
    ('à payer', 'OK')
    """
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
    words = WORDS.get((kind, code))
    if words is None:
        known = sorted(c for k, c in WORDS if k == kind)
        if not known:
            kinds = ", ".join(sorted({k for k, _ in WORDS}))
            raise InvalidArgumentError(f"kind={kind!r} is not a kind of words; expected {kinds}")
        raise InvalidArgumentError(
            f"code={code!r} of kind={kind!r} has no words; expected one of "
            + ", ".join(map(repr, known))
        )
    return pick(words, locale)


def phrase(kind: str, code: str, /, *, locale: str, **values: object) -> str:
    """The phrase ``code`` of ``kind``, its ``{placeholders}`` filled with ``values``.

    ``kind`` and ``code`` are positional, so that a phrase may have a ``{code}`` of its own.

    >>> phrase("dashboard", "to_renew", locale="fr_FR", count=3)
    'Nombre de sociétés à renouveler : 3'
    """
    return words_for(kind, code, locale=locale).format(**values)


def count_words(number: int, singular: str, plural: str, *, locale: str) -> str:
    """``number`` with its noun (codes of kind ``count``): « 1 an », « 0 utilisateur », « 2 days ».

    French counts 0 and 1 in the singular, English only 1.

    >>> count_words(2, "year", "years", locale="fr_FR"), count_words(1, "day", "days",
    ...     locale="en_US")
    ('2 ans', '1 day')
    """
    one = number < 2 if is_french(locale) else number == 1
    return phrase("count", singular if one else plural, locale=locale, count=number)


def knows_label(value: enum.Enum) -> bool:
    """True when :func:`label` has French and English words for the enum member ``value``."""
    kind = _KINDS.get(type(value))
    return kind is not None and (kind, str(value.value)) in WORDS


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
    if ("heading", value) in WORDS:
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
    if ("reason", reason) in WORDS:
        return words_for("reason", reason, locale=locale)
    return escape_controls(str(reason))


def knows_refusal(code: str) -> bool:
    """True when :func:`~subbill.l10n.refusal_text` has words for ``code``."""
    return ("refusal", code) in WORDS


def knows_finding(code: str) -> bool:
    """True when :func:`~subbill.l10n.finding_text` has words for ``code``."""
    return ("finding", code) in WORDS


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def _subject(facts: Mapping[str, str], *, locale: str) -> str:
    """« Le module Stock », « L'option Multi-sociétés », « Le plan Pro », « Cet élément »."""
    for code in ("module", "addon", "plan"):
        if code in facts:
            return phrase("subject", code, locale=locale, **{code: facts[code]})
    return words_for("subject", "item", locale=locale)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def fill(kind: str, code: str, facts: Mapping[str, str], *, locale: str) -> str:
    """The sentence ``code`` of ``kind`` (a refusal, a finding), filled with its ``facts``.

    Facts that are days (``on``, ``cancel_at``, ``next_billing``, in ISO form) are written
    as dates; ``{subject}`` names what the facts are about; a fact the facts lack shows as
    « … ». A code without words is shown as it is.
    """
    if (kind, code) not in WORDS:
        return escape_controls(code)
    values = dict(facts)
    for key in ("on", "cancel_at", "next_billing"):
        text = values.get(key)
        if text and _ISO_DAY.fullmatch(text):  # a refusal's day; a finding's comes formatted
            values[key] = format_date(date.fromisoformat(text), locale=locale)
    values["subject"] = _subject(facts, locale=locale)
    return escape_controls(words_for(kind, code, locale=locale).format_map(_Missing(values)))

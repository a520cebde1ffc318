r"""Dunning in words: each reminder, the formal notice, a run's actions, late-payment costs.

The core decides (:func:`subbill.dunning.dunning_actions` returns data: the invoice, the
step, the amount still due, the dates); this module writes it in French or English.
:func:`action_text` is what one action tells the customer (a reminder, the formal notice —
« mise en demeure » —, the suspension, the cancellation, a card retry);
:func:`late_payment_text` explains a document of late-payment costs;
:func:`card_notice_text` asks for a new card.

>>> from datetime import date
>>> from subbill import Money
>>> from subbill.dunning import DunningAction, DunningPolicy
>>> policy = DunningPolicy.standard()
>>> reminder = DunningAction(invoice="F-2027-000001", subscription="S1", customer="ACME",
...     step=policy.step("reminder_7"), actions=policy.step("reminder_7").actions,
...     on=date(2027, 3, 17), due_on=date(2027, 3, 10), amount_due=Money("120", "EUR"),
...     days_late=7)
>>> print(action_text(reminder, locale="fr_FR").replace("\xa0", " "))
Relance : votre facture F-2027-000001, échue le 10 mars 2027, reste impayée depuis 7 jours.
Montant restant dû : 120,00 €. Merci de procéder à son règlement dès réception de ce message.
"""

from __future__ import annotations

from subbill._validate import check_instance, escape_controls
from subbill.dunning import (
    DunningAction,
    DunningActionKind,
    LatePaymentCosts,
    read_penalty_percent,
)
from subbill.l10n._format import format_date, format_money, format_quantity, text_lines
from subbill.l10n.words import count_words, label, phrase
from subbill.portal import CardExpiryNotice

__all__ = ["action_text", "card_notice_text", "late_payment_text", "step_text"]

#: The width the paragraphs of a letter are wrapped to.
_WIDTH = 92


def _wrap(text: str) -> list[str]:
    """``text`` cut into lines of at most :data:`_WIDTH` characters, at spaces."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > _WIDTH:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return lines


def action_text(action: DunningAction, *, locale: str, percent: object = None) -> str:
    r"""What ``action`` tells the customer, paragraph by paragraph, in ``locale``'s words.

    A reminder (before, on or after the due date), the formal notice — with the late-payment
    costs French law attaches to a late B2B invoice when ``percent`` is given: the annual
    penalty rate (a ``Decimal`` or ``str``), or ``"legal"`` for the legal default (the ECB
    rate plus 10 points) —, then the suspension or the cancellation, or a card retry.

    >>> from datetime import date
    >>> from subbill import Money
    >>> from subbill.dunning import DunningAction, DunningPolicy
    >>> step = DunningPolicy.standard().step("formal_notice")
    >>> notice = DunningAction(invoice="F-1", subscription="S1", customer="ACME", step=step,
    ...     actions=step.actions, on=date(2027, 3, 25), due_on=date(2027, 3, 10),
    ...     amount_due=Money("120", "EUR"), days_late=15)
    >>> print(action_text(notice, locale="en_US", percent="10"))
    Formal notice to pay
    <BLANKLINE>
    Despite our reminders, your invoice F-1, due on March 10, 2027, has been unpaid for 15
    days. We hereby give you formal notice to pay us the sum of €120.00 on receipt.
    <BLANKLINE>
    This late payment entails by law a fixed indemnity for recovery costs of €40 and
    late-payment penalties at an annual rate of 10% (art. L441-10 and D441-5 of the French
    Commercial Code).
    <BLANKLINE>
    Access to the service is suspended from March 25, 2027 until everything due is paid.
    """
    check_instance("action", action, DunningAction)
    legal = isinstance(percent, str) and percent == "legal"
    rate = None if percent is None or legal else read_penalty_percent(percent)
    facts = {
        "invoice": escape_controls(action.invoice),
        "amount": format_money(action.amount_due, locale=locale),
        "due_on": format_date(action.due_on, locale=locale),
        "days": count_words(action.days_late, "day", "days", locale=locale),
        "on": format_date(action.on, locale=locale),
    }
    kinds = action.actions
    paragraphs: list[str] = []
    if DunningActionKind.FORMAL_NOTICE in kinds:
        paragraphs.append(phrase("dunning", "formal_notice_title", locale=locale))
        paragraphs.append(phrase("dunning", "formal_notice", locale=locale, **facts))
        if rate is not None:
            shown = format_quantity(rate, locale=locale)
            paragraphs.append(phrase("dunning", "late_costs_rate", locale=locale, percent=shown))
        elif legal:
            paragraphs.append(phrase("dunning", "late_costs_default", locale=locale))
    elif DunningActionKind.REMIND in kinds:
        if action.on < action.due_on:
            paragraphs.append(phrase("dunning", "courtesy", locale=locale, **facts))
        elif action.on == action.due_on:
            paragraphs.append(phrase("dunning", "due_today", locale=locale, **facts))
        else:
            paragraphs.append(phrase("dunning", "reminder", locale=locale, **facts))
    if DunningActionKind.RETRY_PAYMENT in kinds:
        paragraphs.append(
            phrase("dunning", "retry", locale=locale, attempt=action.attempt or 1, **facts)
        )
    if DunningActionKind.SUSPEND in kinds:
        paragraphs.append(phrase("dunning", "suspended", locale=locale, **facts))
    if DunningActionKind.CANCEL in kinds:
        paragraphs.append(phrase("dunning", "cancelled", locale=locale, **facts))
    out: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if index:
            out.append("")
        out.extend(_wrap(paragraph))
    return text_lines(out)


def step_text(action: DunningActionKind, *, locale: str) -> str:
    """What a step does, in a few words (« mise en demeure », « relance »)."""
    return label(action, locale=locale)


def late_payment_text(costs: LatePaymentCosts, *, locale: str) -> str:
    r"""A document of late-payment costs, explained: the days late, the penalties, the 40 €.

    >>> from datetime import date
    >>> from subbill import Money
    >>> from subbill.billing import draft_invoice
    >>> from subbill.dunning import late_payment_costs
    >>> from subbill.invoices import Payment, one_time_line
    >>> late = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2027, 2, 8),
    ...     due_on=date(2027, 3, 10), lines=[one_time_line("x", "X", Money("1000", "EUR"))],
    ... ).finalize(number="F-1").apply_payment(
    ...     Payment(amount=Money("1000", "EUR"), paid_on=date(2027, 3, 30))).invoice
    >>> costs = late_payment_costs(late, percent="10", as_of=date(2027, 3, 30))
    >>> print(late_payment_text(costs, locale="fr_FR").replace("\xa0", " ")
    ...       .replace("\u202f", " "))
    Frais de retard de paiement de la facture F-1
    Facture F-1, échue le 10 mars 2027 : 20 jours de retard.
    Pénalités de retard au taux annuel de 10 %, sur 20 jours (année de 365 jours) : 5,48 €
    Indemnité forfaitaire pour frais de recouvrement (art. D441-5 du Code de commerce) : 40,00 €
    Total dû : 45,48 €
    Ce document est distinct de la facture F-1 ; son règlement n'est pas requis pour rétablir
    le service.
    """
    check_instance("costs", costs, LatePaymentCosts)
    invoice = escape_controls(costs.invoice)
    days = count_words(costs.days_late, "day", "days", locale=locale)
    out = [
        phrase("dunning", "late_payment_title", locale=locale, invoice=invoice),
        phrase(
            "dunning",
            "late_payment_days",
            locale=locale,
            invoice=invoice,
            due_on=format_date(costs.due_on, locale=locale),
            days=days,
        ),
        phrase(
            "dunning",
            "late_payment_penalty",
            locale=locale,
            percent=format_quantity(costs.percent, locale=locale),
            days=days,
            amount=format_money(costs.penalty, locale=locale),
        ),
        phrase(
            "dunning",
            "late_payment_indemnity",
            locale=locale,
            amount=format_money(costs.indemnity, locale=locale),
        ),
        phrase(
            "dunning",
            "late_payment_total",
            locale=locale,
            amount=format_money(costs.total, locale=locale),
        ),
        *_wrap(phrase("dunning", "late_payment_note", locale=locale, invoice=invoice)),
    ]
    return text_lines(out)


def card_notice_text(notice: CardExpiryNotice, *, locale: str) -> str:
    """Ask for a new card: the card expires before the next billing date.

    >>> from datetime import date
    >>> notice = CardExpiryNotice(subscription="S1", method="pm_visa",
    ...     card="Visa •••• 4242 (02/2027)", expires_on=date(2027, 2, 28),
    ...     next_billing=date(2027, 3, 15))
    >>> print(card_notice_text(notice, locale="en_US"))
    Your card Visa •••• 4242 (02/2027) expires on February 28, 2027, before your next invoice
    on March 15, 2027: please update it.
    """
    check_instance("notice", notice, CardExpiryNotice)
    text = phrase(
        "dunning",
        "card_expiring",
        locale=locale,
        card=escape_controls(notice.card),
        expires_on=format_date(notice.expires_on, locale=locale),
        next_billing=format_date(notice.next_billing, locale=locale),
    )
    return text_lines(_wrap(text))

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
from subbill.billing import BillingTerms
from subbill.customers import Customer
from subbill.dunning import (
    INDEMNITY,
    RETRY_STEP,
    DunningAction,
    DunningActionKind,
    DunningEvent,
    DunningPolicy,
    LatePaymentCosts,
)
from subbill.l10n._format import (
    format_date,
    format_money,
    format_period,
    format_quantity,
    text_lines,
)
from subbill.l10n.words import count_words, label, phrase
from subbill.money import Money
from subbill.portal import CardExpiryNotice

__all__ = ["action_text", "card_notice_text", "late_payment_text", "skipped_text"]

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


def action_text(
    action: DunningAction,
    *,
    locale: str,
    terms: BillingTerms | None = None,
    buyer: Customer | None = None,
) -> str:
    r"""What ``action`` tells the customer, paragraph by paragraph, in ``locale``'s words.

    A reminder (before, on or after the due date), the formal notice, then the suspension
    or the cancellation, or a card retry. Given the customer's ``terms`` (a business under
    a policy with ``late_payment_costs``), the formal notice states the late-payment costs
    a claim will build (:func:`subbill.dunning.late_payment_costs`): the 40 € indemnity
    and the penalties at the terms' annual rate; the indemnity alone when the terms set no
    rate; nothing for an invoice in another currency than EUR (French law's indemnity is in
    euros), nor to a consumer ``buyer`` (``CustomerKind.CONSUMER``: late-payment costs are
    owed between businesses only, as :func:`subbill.l10n.mentions.legal_mentions` leaves
    them out of a consumer's invoice; no buyer given is a business, the default kind). The
    text of an action of no subscription says nothing of a suspension nor of a
    cancellation. It says « despite our reminders » only when a reminder was sent
    (``action.reminded``), and never « unpaid for 0 days ».

    Words are French for a French locale and English for any other, dates and amounts
    written the locale's way, as every text of :mod:`subbill.l10n`; an unknown locale is
    refused (:class:`~subbill.errors.UnknownLocaleError`).

    >>> from datetime import date
    >>> from subbill import Money
    >>> from subbill.billing import BillingTerms
    >>> from subbill.customers import Customer, CustomerKind
    >>> from subbill.dunning import DunningAction, DunningPolicy
    >>> step = DunningPolicy.standard().step("formal_notice")
    >>> notice = DunningAction(invoice="F-1", subscription="S1", customer="ACME", step=step,
    ...     actions=step.actions, on=date(2027, 3, 25), due_on=date(2027, 3, 10),
    ...     amount_due=Money("120", "EUR"), days_late=15, reminded=True)
    >>> print(action_text(notice, locale="en_US",
    ...                   terms=BillingTerms(late_payment_percent="10")))
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

    To a consumer, no late-payment costs:

    >>> consumer = Customer(id="C-9", kind=CustomerKind.CONSUMER)
    >>> "indemnity" in action_text(notice, locale="en_US", buyer=consumer,
    ...                            terms=BillingTerms(late_payment_percent="10"))
    False
    """
    check_instance("action", action, DunningAction)
    if terms is not None:
        check_instance("terms", terms, BillingTerms)
    if buyer is not None:
        check_instance("buyer", buyer, Customer)
        if not buyer.is_business:
            terms = None  # a consumer owes no late-payment costs: none are stated
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
        paragraphs.append(phrase("dunning", _notice_code(action), locale=locale, **facts))
        paragraphs.extend(_late_costs(action, terms, locale=locale))
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
    if action.subscription is not None:  # else nothing to suspend nor cancel: not said
        paragraphs.extend(
            phrase("dunning", code, locale=locale, **facts) for kind, code in _ENDS if kind in kinds
        )
    out: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if index:
            out.append("")
        out.extend(_wrap(paragraph))
    return text_lines(out)


#: What a step does to the subscription, and its words, in the order they are told.
_ENDS = ((DunningActionKind.SUSPEND, "suspended"), (DunningActionKind.CANCEL, "cancelled"))


def _notice_code(action: DunningAction) -> str:
    """The formal notice's words: before or on the due date, late, late after reminders."""
    if action.on < action.due_on:
        return "formal_notice_early"
    if action.days_late == 0:
        return "formal_notice_due_today"
    return "formal_notice" if action.reminded else "formal_notice_first"


def _late_costs(action: DunningAction, terms: BillingTerms | None, *, locale: str) -> list[str]:
    """The late-payment costs a formal notice states: what a claim would build.

    None without terms, nor for an invoice in another currency than EUR (the 40 €
    indemnity of French law is in euros: no costs are claimed on it); the indemnity alone
    when the terms set no rate (a claim then builds the indemnity alone).
    """
    if terms is None or action.amount_due.currency != INDEMNITY.currency:
        return []
    if terms.late_payment_percent is None:
        return [phrase("dunning", "late_costs_indemnity", locale=locale)]
    shown = format_quantity(terms.late_payment_percent, locale=locale)
    return [phrase("dunning", "late_costs_rate", locale=locale, percent=shown)]


def late_payment_text(costs: LatePaymentCosts, *, locale: str) -> str:
    r"""A document of late-payment costs, explained: each unpaid slice, the penalties, the 40 €.

    One line per slice an amount stayed unpaid (its days, amount × rate × days / 365 and
    its penalty): the slices add up to the penalties.

    >>> from datetime import date, timedelta
    >>> from subbill import Money
    >>> from subbill.billing import draft_invoice
    >>> from subbill.dunning import late_payment_costs
    >>> from subbill.invoices import Payment, one_time_line
    >>> due, amount = date(2027, 3, 10), Money("1000", "EUR")
    >>> sent = draft_invoice(customer="ACME", currency="EUR", issued_on=due, due_on=due,
    ...                      lines=[one_time_line("x", "X", amount)]).finalize(number="F-1")
    >>> paid_on = due + timedelta(days=20)
    >>> late = sent.apply_payment(Payment(amount=amount, paid_on=paid_on)).invoice
    >>> costs = late_payment_costs(late, percent="10", as_of=paid_on)
    >>> print(late_payment_text(costs, locale="fr_FR").replace("\xa0", " ")
    ...       .replace("\u202f", " "))
    Frais de retard de paiement de la facture F-1
    Facture F-1, échue le 10 mars 2027 : 20 jours de retard.
    Pénalités de retard au taux annuel de 10 % (année de 365 jours) : 5,48 €
      du 11 mars au 30 mars 2027 : 1 000,00 € × 10 % × 20/365 = 5,48 €
    Indemnité forfaitaire pour frais de recouvrement (art. D441-5 du Code de commerce) : 40,00 €
    Total dû : 45,48 €
    Ce document est distinct de la facture F-1 ; son règlement n'est pas requis pour rétablir le
    service.
    """
    check_instance("costs", costs, LatePaymentCosts)
    invoice = escape_controls(costs.invoice)

    def say(code: str, **values: object) -> str:
        return phrase("dunning", code, locale=locale, **values)

    def money(amount: Money) -> str:
        return format_money(amount, locale=locale)

    days = count_words(costs.days_late, "day", "days", locale=locale)
    due_on = format_date(costs.due_on, locale=locale)
    out = [
        say("late_payment_title", invoice=invoice),
        say("late_payment_days", invoice=invoice, due_on=due_on, days=days),
    ]
    if costs.percent is None:
        out.extend(_wrap(say("late_payment_no_rate")))
    else:
        rate = format_quantity(costs.percent, locale=locale)
        out.append(say("late_payment_penalty", percent=rate, amount=money(costs.penalty)))
        out.extend(
            say(
                "late_payment_slice",
                period=format_period(piece.period, locale=locale),
                amount=money(piece.amount),
                percent=rate,
                days=piece.days,
                penalty=money(piece.penalty),
            )
            for piece in costs.slices
        )
    out += [
        say("late_payment_indemnity", amount=money(costs.indemnity)),
        say("late_payment_total", amount=money(costs.total)),
        *_wrap(say("late_payment_note", invoice=invoice)),
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


def skipped_text(action: DunningAction, *, policy: DunningPolicy, locale: str) -> str:
    """The steps ``action`` skipped, in words: what each does and its day under ``policy``.

    A step is named as the reader knows it, not by the policy's code: « relance du 11 mars
    2027 » (a formal notice by its name, a card retry by its number). A step ``policy``
    does not hold (an action recorded under another policy) is named by its code, quoted.
    Empty when nothing was skipped.

    >>> from datetime import date
    >>> from subbill.dunning import dunning_actions
    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2027, 2, 8),
    ...     due_on=date(2027, 3, 10), lines=[one_time_line("x", "X", Money("120", "EUR"))],
    ... ).finalize(number="F-1")
    >>> policy = DunningPolicy(steps=DunningPolicy.standard().steps)
    >>> (notice,) = dunning_actions([invoice], policy=policy, history=(), as_of=date(2027, 3, 25))
    >>> skipped_text(notice, policy=policy, locale="fr_FR")
    '(étapes sautées : relance du 7 mars 2027, relance du 11 mars 2027, relance du 17 mars 2027)'
    """
    check_instance("action", action, DunningAction)
    check_instance("policy", policy, DunningPolicy)
    if not action.skipped:
        return ""
    steps = ", ".join(
        _skipped_step(event, action, policy, locale=locale) for event in action.skipped
    )
    return phrase("dunning_run", "skipped", locale=locale, steps=steps)


def _skipped_step(
    event: DunningEvent, action: DunningAction, policy: DunningPolicy, *, locale: str
) -> str:
    """One skipped step in words (« relance du 11 mars 2027 »), else its code quoted."""
    if event.step == RETRY_STEP:
        what = label(DunningActionKind.RETRY_PAYMENT, locale=locale)
        return what if event.attempt is None else f"{what} {event.attempt}"
    step = next((step for step in policy.steps if step.code == event.step), None)
    if step is None:
        return repr(escape_controls(event.step))
    kind = next((k for k in step.actions if k is DunningActionKind.FORMAL_NOTICE), step.actions[0])
    day = format_date(step.date_for(action.due_on), locale=locale)
    return phrase(
        "dunning_run", "skipped_step", locale=locale, step=label(kind, locale=locale), day=day
    )

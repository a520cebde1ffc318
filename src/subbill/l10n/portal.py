r"""The customer portal in words: quotes, orders, invoices, subscriptions, tickets, wallets.

:func:`subbill.portal.portal_overview` gathers what the portal shows as data;
:func:`portal_text` writes it as plain-text tables, in French or English.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from subbill._validate import escape_controls
from subbill.errors import InvalidTypeError
from subbill.l10n._format import format_date, format_frequency, format_money, text_lines, text_table
from subbill.l10n.dunning import card_notice_text
from subbill.l10n.words import count_words, label, phrase, words_for
from subbill.money import Money
from subbill.portal import InvoiceLabel, InvoiceRow, PortalOverview
from subbill.subscriptions import SubscriptionStatus

__all__ = ["portal_text"]


def _status(
    status: SubscriptionStatus,
    trial_ends_on: date | None,
    day: Callable[[date], str],
    *,
    locale: str,
) -> str:
    """A subscription's status in words, with the end of its trial: « En essai (jusqu'au …) »."""
    words = label(status, locale=locale)
    if trial_ends_on is None:
        return words
    return f"{words} ({phrase('portal', 'trial_until', locale=locale, day=day(trial_ends_on))})"


def portal_text(overview: PortalOverview, *, locale: str) -> str:
    r"""The customer portal as text: quotes, orders, invoices, subscriptions, ….

    Each section is a table; every status is in words (« Payée », « En retard », « Ouvert »
    …, looked up by its kind). Quotes, invoices and subscriptions are always shown (« Aucun
    devis. » when there are none); orders, tickets and payment methods only when there are
    some. A quote shows what the customer pays on accepting, taxes included, then its
    first later payment.

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
    date_format = words_for("date_format", "table", locale=locale)

    def word(key: str) -> str:
        return words_for("portal", key, locale=locale)

    def day(value: date | None) -> str:  # 30/09/2026, Sep 30, 2026
        return "—" if value is None else format_date(value, locale=locale, format=date_format)

    def money(amount: Money) -> str:
        return format_money(amount, locale=locale)

    when = format_date(overview.as_of, locale=locale)
    out = [phrase("portal", "title", locale=locale, customer=overview.customer, day=when)]

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
                else phrase(
                    "portal",
                    "next_payment",
                    locale=locale,
                    amount=money(row.next_payment),
                    day=day(row.next_payment_on),
                ),
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
                # a credit note asks no payment: no due date nor amount due (as on the note)
                "—" if row.label is InvoiceLabel.CREDIT_NOTE else day(row.due_on),
                _invoice_status(row, locale=locale),
                money(row.total),
                "—" if row.label is InvoiceLabel.CREDIT_NOTE else money(row.amount_due),
            )
            for row in overview.invoices
        ],
        "no_invoices",
    )
    # What a subscription bought: the apps (modules) switched on of a catalog plan, the
    # recurring lines of a quote. A count that does not apply to a subscription is "—", and
    # a column that applies to none of them is left out (a plain plan has no quoted lines).
    bought = [
        (
            "—" if row.plan is None else str(row.apps),
            str(row.lines) if row.lines or row.plan is None else "—",
        )
        for row in overview.subscriptions
    ]
    shown = [any(cells[i] != "—" for cells in bought) for i in (0, 1)]
    counts = [heading for heading, kept in zip(("apps", "lines"), shown, strict=True) if kept]
    section(
        "subscriptions",
        (
            "reference",
            "status",
            "plan",
            *counts,
            "frequency",
            "next_billing",
            "next_amount",
            "payment_method",
        ),
        [
            (
                row.id,
                _status(row.status, row.trial_ends_on, day, locale=locale),
                row.plan or "—",
                *(cell for cell, kept in zip(cells, shown, strict=True) if kept),
                ", ".join(format_frequency(f, locale=locale) for f in row.frequencies),
                day(row.next_billing),
                "—" if row.next_amount is None else money(row.next_amount),
                row.payment_method or "—",
            )
            for row, cells in zip(overview.subscriptions, bought, strict=True)
        ],
        "no_subscriptions",
    )
    section(
        "overdue",
        ("number", "due_on", "amount_due", "days_late", "next_step"),
        [
            (
                row.number,
                day(row.due_on),
                money(row.amount_due),
                count_words(row.days_late, "day", "days", locale=locale),
                "—"
                if row.next_step is None or row.next_step_on is None
                else phrase(
                    "dunning",
                    "next_step",
                    locale=locale,
                    step=", ".join(label(kind, locale=locale) for kind in row.next_actions),
                    on=day(row.next_step_on),
                ),
            )
            for row in overview.overdue
        ],
        None,
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
    if overview.card_notices:
        out.extend(("", word("card_notices")))
        for notice in overview.card_notices:
            out.extend(card_notice_text(notice, locale=locale).split("\n"))
    return text_lines(out)


def _invoice_status(row: InvoiceRow, *, locale: str) -> str:
    """An invoice's label; a credit note's names the invoice it corrects (« Avoir sur F-… »).

    An invoice that credits periods of earlier ones names them (« Non payée, crédite
    F-2026-000001 »); so does a credit note of periods several invoices billed (« Avoir sur
    F-2026-000001, F-2026-000002 »).
    """
    if row.corrects is None:
        if row.credits_periods_of:
            numbers = ", ".join(escape_controls(n) for n in row.credits_periods_of)
            if row.label is InvoiceLabel.CREDIT_NOTE:
                return label("credit_note_of", locale=locale).format(number=numbers)
            return label("credits_periods_of_row", locale=locale).format(
                label=label(row.label, locale=locale), numbers=numbers
            )
        return label(row.label, locale=locale)
    return label("credit_note_of", locale=locale).format(number=escape_controls(row.corrects))

"""A checkout in words: what the buyer pays today, line by line, then the payments to come.

:func:`subbill.quotes.checkout` computes what a quote or a payment link charges on the day
it is paid and on each later billing date; :func:`checkout_text` writes it as
``subbill quote`` prints it.
"""

from __future__ import annotations

from subbill.l10n._format import format_date, format_money, text_lines
from subbill.l10n.invoice import describe_line
from subbill.l10n.words import label, phrase, words_for
from subbill.money import Money
from subbill.quotes import Checkout

__all__ = ["checkout_text"]


def checkout_text(result: Checkout, *, locale: str) -> str:
    """What ``result`` charges on its payment day, explained, then each later payment.

    Today's lines show their net amount and explanation, then each tax and the total; a
    later payment shows its date, its total and its lines before tax.
    """

    def money(amount: Money) -> str:
        return format_money(amount, locale=locale)

    def word(code: str) -> str:
        return words_for("checkout", code, locale=locale)

    total = label("total", locale=locale)
    paid_on = format_date(result.paid_on, locale=locale)
    out = [phrase("checkout", "paid_on", locale=locale, day=paid_on), "", word("due_today")]
    due = result.due_now
    if due is None:
        out.append(f"  {word('nothing_due')}")
    else:
        for line in due.lines:
            out.append(f"  {line.description:<32} {money(line.net):>14}")
            out.append(f"      {describe_line(line, locale=locale)}")
        for tax in due.taxes:
            out.append(f"  {tax.rate.name:<32} {money(tax.tax):>14}")
        out.append(f"  {total:<32} {money(due.total):>14}")
    out.extend(("", word("upcoming")))
    if not result.future:
        out.append(f"  {word('none_upcoming')}")
    excluding_tax = word("excluding_tax")
    for invoice in result.future:
        detail = ", ".join(f"{line.description} {money(line.net)}" for line in invoice.lines)
        out.append(
            f"  {format_date(invoice.issued_on, locale=locale):<20} "
            f"{money(invoice.total):>14}   ({detail} {excluding_tax})"
        )
    return text_lines(out)

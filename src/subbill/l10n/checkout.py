"""A checkout in words: what the buyer pays today, line by line, then the payments to come.

:func:`subbill.quotes.checkout` computes what a quote or a payment link charges on the day
it is paid and on each later billing date; :func:`checkout_text` writes it as
``subbill quote`` prints it.
"""

from __future__ import annotations

from subbill.invoices import LineKind
from subbill.l10n._format import format_date, format_frequency, format_money, text_lines
from subbill.l10n.invoice import describe_line
from subbill.l10n.metering import describe_tariff
from subbill.l10n.words import label, phrase, words_for
from subbill.money import Money
from subbill.quotes import Checkout, PaymentLink, Quote

__all__ = ["checkout_text"]


def checkout_text(
    result: Checkout, *, locale: str, offer: PaymentLink | Quote | None = None
) -> str:
    """What ``result`` charges on its payment day, explained, then each later payment.

    Today's lines show their net amount and explanation, then each tax and the total; a
    later payment shows its date, its total and its lines before tax. The usage lines of
    ``offer`` (the quote or payment link checked out) are listed with what they bill: their
    frequency, in arrears, their tariff and minimum commitment; a later payment counts no
    usage (a usage line there is what it bills at zero usage, its minimum commitment).
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
    usage_lines = [line for line in offer.lines if line.usage is not None] if offer else []
    if usage_lines:
        out.extend(("", word("usage")))
        for item in usage_lines:
            assert item.usage is not None  # noqa: S101  (a usage line)
            assert item.frequency is not None  # noqa: S101  (a usage line has one)
            every = format_frequency(item.frequency, locale=locale)
            arrears = phrase("checkout", "in_arrears", locale=locale, frequency=every)
            out.append(f"  {item.name:<32} {arrears}")
            out.append(f"      {describe_tariff(item.usage, locale=locale)}")
    out.extend(("", word("upcoming")))
    if not result.future:
        out.append(f"  {word('none_upcoming')}")
    excluding_tax = word("excluding_tax")
    at_zero = word("at_zero_usage")
    for invoice in result.future:
        detail = ", ".join(
            f"{line.description} ({at_zero}) {money(line.net)}"
            if line.kind is LineKind.USAGE
            else f"{line.description} {money(line.net)}"
            for line in invoice.lines
        )
        out.append(
            f"  {format_date(invoice.issued_on, locale=locale):<20} "
            f"{money(invoice.total):>14}   ({detail} {excluding_tax})"
        )
    if usage_lines and result.future:
        out.append(f"  {word('usage_on_top')}")
    return text_lines(out)

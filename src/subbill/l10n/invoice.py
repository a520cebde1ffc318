r"""An invoice for people: its lines explained, as a text table or as HTML, in French or English.

:func:`describe_line` explains one line (factor × price, over which days, why, and its
discounts); :func:`describe_proration` explains a prorated amount before it is billed;
:func:`invoice_text` and :func:`invoice_html` render the whole document. The core's own
``str(invoice)`` and notebook table are plain and locale-free; these are the localised ones.

>>> from subbill.billing import draft_invoice
>>> from subbill.invoices import one_time_line
>>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
...     lines=[one_time_line("setup", "Installation", Money("1234.56", "EUR"))],
... ).finalize(number="F-2026-000124")
>>> print(invoice_text(invoice, locale="fr_FR").replace("\u202f", " ").replace("\xa0", " "))
Facture F-2026-000124 (à payer)
Client : ACME
Date : 1 mars 2026    Échéance : 1 mars 2026
<BLANKLINE>
Description   Période  Qté  Prix unitaire     Montant  Remise         Net
-------------------------------------------------------------------------
Installation             1     1 234,56 €  1 234,56 €          1 234,56 €
    1 234,56 € : facturé une fois
<BLANKLINE>
Sous-total     1 234,56 €
Total HT       1 234,56 €
Total TTC      1 234,56 €
Reste à payer  1 234,56 €
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from fractions import Fraction

from subbill._validate import brief, escape_controls, with_article
from subbill.billing import BillingTerms
from subbill.customers import Customer
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    UsageExplanation,
)
from subbill.l10n._format import (
    format_date,
    format_factor,
    format_money,
    format_period,
    format_quantity,
    text_lines,
)
from subbill.l10n.metering import describe_usage
from subbill.l10n.words import count_words, inline, label, phrase, reason_label, words_for
from subbill.money import DECIMAL_CONTEXT, Money
from subbill.proration import BillablePeriod, ProrationBasis

__all__ = [
    "LINE_COLUMNS",
    "asks_payment",
    "corrected_reference",
    "credit_line_mentions",
    "credited_invoices",
    "describe_line",
    "describe_proration",
    "invoice_html",
    "invoice_text",
    "late_payment_mentions",
    "line_cells",
    "line_description",
    "settlement_rows",
]


def _check(name: str, value: object, kind: type) -> None:
    """Refuse what this renderer cannot render, naming the argument and the kind expected."""
    if not isinstance(value, kind):
        raise InvalidTypeError(name, brief(value), with_article(kind.__name__))


def _days_of_cycle(days: int, whole: int | None, cycle: str, *, locale: str) -> str:
    """« , soit 12 jours sur les 31 de la période du … au … »."""
    counted = count_words(days, "day", "days", locale=locale)
    return phrase(
        "explanation", "days_of_cycle", locale=locale, days=counted, whole=whole, cycle=cycle
    )


def describe_proration(
    price: Money, billable: BillablePeriod, *, locale: str, reason: str | None = None
) -> str:
    r"""Explain a prorated amount: factor × price = amount, over which days, and why.

    ``price`` is the price of a whole billing period; ``reason`` is an optional words to
    append in brackets (already in the reader's language).

    >>> from subbill import MONTHLY, billable_periods
    >>> first = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1),
    ...                          frequency=MONTHLY, billing_day=13)[0]
    >>> describe_proration(Money("50.00", "EUR"), first, locale="fr_FR",
    ...                    reason="changement de plan")
    '12/28 × 50,00\xa0€ = 21,43\xa0€ : du 1 au 12 mars 2026, soit 12 jours sur les 28 de la
    période du 13 février au 12 mars 2026 (changement de plan)'
    """
    _check("price", price, Money)
    _check("billable", billable, BillablePeriod)
    amount = (price * billable.factor).rounded()
    counted, whole = billable.day_count
    shown = format_factor(billable.factor) if counted == whole else f"{counted}/{whole}"
    head = f"{shown} × {format_money(price, locale=locale)} = {format_money(amount, locale=locale)}"
    colon = words_for("typography", "colon", locale=locale)
    text = f"{head}{colon}{format_period(billable.period, locale=locale, compact=True)}"
    if billable.is_partial:
        cycle = format_period(billable.cycle, locale=locale)
        if billable.basis is ProrationBasis.THIRTY_DAY_MONTH:
            text += words_for("explanation", "thirty_day_basis", locale=locale)
        elif billable.basis is ProrationBasis.ACTUAL_DAYS:
            text += _days_of_cycle(counted, whole, cycle, locale=locale)
    if reason:
        text += f" ({reason})"
    return text


def describe_line(line: InvoiceLine, *, locale: str) -> str:
    r"""Explain an invoice line: factor × price, over which days, why, and its discounts.

    >>> from subbill import RecurringCharge, ChargePlan, bill_subscription
    >>> pro = RecurringCharge(code="pro", description="Pro", unit_price=Money("50", "EUR"),
    ...                       start=date(2026, 3, 1))
    >>> old, new = pro.change(on=date(2026, 3, 13), unit_price=Money("80", "EUR"),
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
    _check("line", line, InvoiceLine)
    explanation = line.explanation
    if explanation.usage is not None:
        return _describe_usage_line(line, explanation.usage, locale=locale)
    if line.kind in (LineKind.LATE_PENALTY, LineKind.RECOVERY_INDEMNITY):
        return _describe_late_payment_line(line, locale=locale)
    price = explanation.unit_price
    parts: list[str] = []
    quantity = explanation.quantity
    head_price = format_money(price, locale=locale)
    if quantity != 1:
        head_price = f"{format_quantity(quantity, locale=locale)} × {head_price}"
    colon = words_for("typography", "colon", locale=locale)
    credit = line.kind is LineKind.PRORATION_CREDIT
    if explanation.period is None:  # billed once, or credited once (a credit note's line)
        once = "one_time_credit" if line.amount.is_negative() else "one_time"
        parts.append(f"{head_price}{colon}{label(once, locale=locale)}")
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
            text += _days_of_cycle(days, whole, cycle, locale=locale)
        elif explanation.basis is ProrationBasis.THIRTY_DAY_MONTH and factor != 1:
            text += words_for("explanation", "thirty_day_basis", locale=locale)
        if credit:
            text = f"{label('unused_credit', locale=locale)}{colon}{text}"
        parts.append(text)
    if explanation.reason and not credit:
        parts[-1] += f" ({reason_label(explanation.reason, locale=locale)})"
    for discount in explanation.discounts:
        word = label("discount", locale=locale).lower()
        parts.append(
            f"− {word} {discount.code}{colon}{format_money(discount.amount, locale=locale)}"
        )
    return escape_controls(words_for("typography", "semicolon", locale=locale).join(parts))


def _describe_usage_line(line: InvoiceLine, usage: UsageExplanation, *, locale: str) -> str:
    """A usage line: its price piece by piece, over which days; a correction, less the billed."""
    colon = words_for("typography", "colon", locale=locale)
    text = describe_usage(usage.price, locale=locale)
    if usage.billed is not None:
        text = phrase(
            "usage",
            "correction",
            locale=locale,
            usage=text,
            billed=format_money(usage.billed, locale=locale),
        )
    explanation = line.explanation
    if explanation.period is not None:
        text += f"{colon}{format_period(explanation.period, locale=locale, compact=True)}"
        days, whole = explanation.days, explanation.period_days
        if explanation.cycle is not None and days is not None and days != whole:
            cycle = format_period(explanation.cycle, locale=locale)
            text += _days_of_cycle(days, whole, cycle, locale=locale)
    return escape_controls(text)


def _describe_late_payment_line(line: InvoiceLine, *, locale: str) -> str:
    """A line of late-payment costs: the 40 € indemnity, or the penalties' factor × amount."""
    invoice = line.description  # the late invoice's number
    if line.kind is LineKind.RECOVERY_INDEMNITY:
        return escape_controls(phrase("dunning", "indemnity_line", locale=locale, invoice=invoice))
    explanation = line.explanation
    base = format_money(explanation.unit_price, locale=locale)
    days = explanation.days
    # factor = rate × days / 365: shown so, the rate a percent (exact: the rate is a decimal)
    percent = None if not days else explanation.factor * 36500 / days
    if percent is not None and _is_decimal(percent):
        shown = DECIMAL_CONTEXT.divide(Decimal(percent.numerator), Decimal(percent.denominator))
        text = phrase(
            "dunning",
            "penalty_slice_line",
            locale=locale,
            invoice=invoice,
            base=base,
            percent=format_quantity(shown, locale=locale),
            days=days,
        )
    else:
        text = phrase(
            "dunning",
            "penalty_line",
            locale=locale,
            invoice=invoice,
            factor=format_factor(explanation.factor),
            base=base,
        )
    if explanation.period is not None:
        colon = words_for("typography", "colon", locale=locale)
        text += f"{colon}{format_period(explanation.period, locale=locale, compact=True)}"
    return escape_controls(text)


def _is_decimal(value: Fraction) -> bool:
    """True when ``value`` is written exactly in decimals (its denominator is 2ᵃ × 5ᵇ)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def asks_payment(invoice: Invoice) -> bool:
    """Whether ``invoice`` asks a payment: an invoice does, a credit note never.

    A document that asks no payment has no due date, no amount due and no late-payment
    mention, on every rendering (text, HTML, PDF).
    """
    _check("invoice", invoice, Invoice)
    return invoice.kind is not DocumentKind.CREDIT_NOTE


def _note_settles(note: Invoice, corrected: Invoice) -> tuple[Money, Money, Money] | None:
    """How the credit ``note`` settles: (cancelled on ``corrected``, carried, owed on itself).

    ``None`` when ``corrected`` does not record the note. A note applied whole cancels what
    was still due when it was applied and returns the rest to the credit balance: payments
    are only received while something is due, so that rest is what the notes recorded up to
    it put beyond what the invoice was settled with (credit, payments), less the earlier ones.
    """
    zero = Money.zero(note.currency)
    settled = (corrected.credit_applied or zero) + corrected.amount_paid - corrected.total
    before = zero
    for correction in corrected.corrections:
        after = before + correction.cancels
        if correction.credit_note == note.number:
            carried = max(settled + after, zero) - max(settled + before, zero)
            return correction.cancels - carried, carried, correction.owed_on_note
        before = after
    return None


def _note_rows(
    note: Invoice, corrected: Invoice | None, *, locale: str, credited: tuple[Invoice, ...] = ()
) -> list[tuple[str, Money]]:
    """A credit note's rows: what it cancelled on its invoice, carried, owes on itself."""
    if note.corrects is None and note.credits_periods_of:
        return _shared_note_rows(note, credited, locale=locale)
    if corrected is None or note.number is None:
        return []
    split = _note_settles(note, corrected)
    if split is None:
        return []
    words = (
        label("note_cancels", locale=locale).format(
            invoice=escape_controls(corrected.number or "")
        ),
        label("note_carried", locale=locale),
        label("note_refunds", locale=locale),
    )
    return [(w, amount) for w, amount in zip(words, split, strict=True) if amount.is_positive()]


def _shared_note_rows(
    note: Invoice, credited: tuple[Invoice, ...], *, locale: str
) -> list[tuple[str, Money]]:
    """A note of several invoices: what it cancelled on each, then what it carries or owes.

    Only once every document it names is given (as they record it): else no row, as a note
    without the invoice it corrects. An earlier credit note it names (a charge of that note
    credited back) records nothing: what it gives back for it is carried or owed.
    """
    known = credited_invoices(note, credited)
    if note.number is None or set(known) != set(note.credits_periods_of):
        return []
    rows: list[tuple[str, Money]] = []
    rest = -note.total
    for number in note.credits_periods_of:
        if known[number].kind is not DocumentKind.INVOICE:
            continue
        split = _note_settles(note, known[number])
        if split is None:
            return []
        cancelled = split[0]
        if cancelled.is_positive():
            words = label("note_cancels", locale=locale).format(invoice=escape_controls(number))
            rows.append((words, cancelled))
        rest -= cancelled
    if rest.is_positive():  # owed on the note (applied in part, or naming only) or carried
        owed = note.names_only or note.applied is not None
        rows.append((label("note_refunds" if owed else "note_carried", locale=locale), rest))
    return rows


def settlement_rows(
    invoice: Invoice,
    *,
    locale: str,
    corrected: Invoice | None = None,
    credited: Iterable[Invoice] = (),
) -> list[tuple[str, Money]]:
    """What follows « Total TTC » on a document: (words, signed amount) rows that add up.

    The customer credit applied, the payments, each credit note that corrects the invoice
    (as paid amounts are), what of them went back to the customer's credit balance beyond
    the total, what the notes settle on themselves (``names_only``: the invoice was settled
    already; ``applied``: the rest of a note beyond what was due), refunded against them —
    worded as a fact of the note's issue (« Remboursement par avoir »), true before and after
    its refund, since the invoice does not know the refunds — and the amount due (not on a
    credit note: it asks no payment). The total plus these rows, but the last, is the
    amount due.

    A credit note given the invoice it corrects as ``corrected`` (as it records the note)
    shows how it settles instead, rows that bring its total to 0: what it cancelled of what
    that invoice still owed (« Imputé sur la facture F-… »), what went to the customer's
    credit balance (« Reporté au crédit client ») and what it owes on itself, refunded
    against it (« À rembourser au titre de cet avoir »). A note crediting periods of several
    invoices (``credits_periods_of``), given them all as ``credited``, shows what it
    cancelled on each (« Imputé sur la facture F-… », one row each), then the same two rows.

    >>> from subbill.billing import draft_invoice, record_payment
    >>> from subbill.invoices import credit_note_for, one_time_line
    >>> from subbill.payments import BillingState, Payment, record_credit_note
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("setup", "Installation", Money("50", "EUR"))],
    ... ).finalize(number="F-2026-000001")
    >>> paid, state = record_payment(invoice,
    ...     Payment(amount=Money("50.00", "EUR"), paid_on=date(2026, 3, 2)), BillingState())
    >>> note = credit_note_for(paid, issued_on=date(2026, 3, 9)).finalize(number="F-2026-000002")
    >>> for words, amount in settlement_rows(
    ...         record_credit_note(paid, note, state).invoice, locale="en_US"):
    ...     print(words, format_money(amount, locale="en_US"))
    Paid -€50.00
    Credit note F-2026-000002 of March 9, 2026 -€50.00
    Returned to customer credit €50.00
    Amount due €0.00
    """
    _check("invoice", invoice, Invoice)
    if invoice.kind is DocumentKind.CREDIT_NOTE:
        return _note_rows(invoice, corrected, locale=locale, credited=_invoices(credited))
    zero = Money.zero(invoice.currency)
    credit = invoice.credit_applied or zero
    rows = []
    if not credit.is_zero():
        rows.append((label("credit_applied", locale=locale), -credit))
    if invoice.payments:
        rows.append((label("amount_paid", locale=locale), -invoice.amount_paid))
    # Each credit note, as paid amounts are, for what it gives back (what its own charges
    # took is not); credit lines of a later invoice are consumed there, settle nothing
    # here (credit_line_mentions says them).
    notes = [c for c in invoice.corrections if c.consumed != c.amount]
    for correction in notes:
        words = label("credited_by", locale=locale).format(
            credit_note=escape_controls(correction.credit_note),
            on=format_date(correction.credited_on, locale=locale),
        )
        rows.append((words, -(correction.cancels + correction.owed_on_note)))
    if notes:  # what the credit notes gave back beyond the total
        named = Money.total((c.owed_on_note for c in notes), currency=invoice.currency)
        returned = credit + invoice.amount_paid + invoice.cancelled - invoice.total
        if returned.is_positive():
            rows.append((label("returned_to_credit", locale=locale), returned))
        if named.is_positive():  # what the notes settle on themselves (refunded against them)
            rows.append((label("owed_on_credit_notes", locale=locale), named))
    if asks_payment(invoice):
        rows.append((label("amount_due", locale=locale), invoice.amount_due))
    return rows


def _rows(
    invoice: Invoice,
    corrected: Invoice | None,
    *,
    locale: str,
    credited: tuple[Invoice, ...] = (),
) -> list[tuple[str, str]]:
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
    rows.extend(
        (words, money(amount))
        for words, amount in settlement_rows(
            invoice, locale=locale, corrected=corrected, credited=credited
        )
    )
    return rows


def corrected_reference(
    invoice: Invoice,
    corrected: Invoice | None,
    *,
    locale: str,
    credited: Iterable[Invoice] = (),
) -> str:
    """What a credit note says of the invoice it corrects: its number, and its date if known.

    ``corrected`` is that invoice (its date is part of the reference French rules ask a
    credit note to give); without it, the number alone. A note crediting periods of
    several invoices (``credits_periods_of``) names each, dated when given it among
    ``credited`` (« F-2026-000001 du 1 mars 2026, F-2026-000002 du 1 avril 2026 »).

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import credit_note_for, one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("setup", "Installation", Money("50", "EUR"))],
    ... ).finalize(number="F-2026-000001")
    >>> note = credit_note_for(invoice, issued_on=date(2026, 3, 9)).finalize(number="F-2026-000002")
    >>> corrected_reference(note, invoice, locale="fr_FR")
    'F-2026-000001 du 1 mars 2026'

    Raises:
        InvalidArgumentError: ``corrected`` is not the invoice ``invoice`` corrects.
    """
    _check("invoice", invoice, Invoice)
    if invoice.corrects is None and invoice.credits_periods_of and corrected is None:
        return _dated(invoice, credited, locale=locale)
    if corrected is not None:
        _check("corrected", corrected, Invoice)
        if invoice.corrects is None or corrected.number != invoice.corrects:
            raise InvalidArgumentError(
                f"corrected is invoice {corrected.number}, but {invoice.number or 'the draft'} "
                f"corrects {invoice.corrects}"
            )
    number = escape_controls(invoice.corrects or "")
    if corrected is None:
        return number
    on = format_date(corrected.issued_on, locale=locale)
    return label("corrected_invoice", locale=locale).format(number=number, on=on)


def _dated(invoice: Invoice, credited: Iterable[Invoice], *, locale: str) -> str:
    """The invoices ``credits_periods_of`` names, each dated when given among ``credited``."""
    known = credited_invoices(invoice, credited)
    dated = label("corrected_invoice", locale=locale)
    return ", ".join(
        dated.format(
            number=escape_controls(number),
            on=format_date(known[number].issued_on, locale=locale),
        )
        if number in known
        else escape_controls(number)
        for number in invoice.credits_periods_of
    )


def _invoices(credited: Iterable[Invoice]) -> tuple[Invoice, ...]:
    """``credited`` as a tuple (read once), or the error for what is no iterable of them."""
    if isinstance(credited, (str, bytes)) or not isinstance(credited, Iterable):
        raise InvalidTypeError("credited", credited, "an iterable of Invoice")
    return tuple(credited)


def _header(
    invoice: Invoice,
    corrected: Invoice | None,
    *,
    locale: str,
    credited: tuple[Invoice, ...] = (),
) -> list[str]:
    colon = words_for("typography", "colon", locale=locale)

    def field(heading: str, value: str) -> str:
        return f"{label(heading, locale=locale)}{colon}{value}"

    def day(value: date) -> str:
        return format_date(value, locale=locale)

    title = label(invoice.kind, locale=locale)
    number = invoice.number or "—"
    # A credit note is paid by no one: issued (or a draft, or void), with no due date.
    note = not asks_payment(invoice)
    issued_note = note and invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
    status = inline(label("credit_note_issued" if issued_note else invoice.status, locale=locale))
    head = [f"{title} {escape_controls(number)} ({status})"]
    who = field("customer", escape_controls(invoice.customer))
    if invoice.subscription:
        who += "    " + field("subscription", escape_controls(invoice.subscription))
    head.append(who)
    issued = field("issued_on", day(invoice.issued_on))
    head.append(issued if note else f"{issued}    {field('due_on', day(invoice.due_on))}")
    if invoice.corrects is not None or corrected is not None:  # the invoice a note corrects
        head.append(field("corrects", corrected_reference(invoice, corrected, locale=locale)))
    elif note and invoice.credits_periods_of:  # a note of periods several invoices billed
        reference = corrected_reference(invoice, None, locale=locale, credited=credited)
        head.append(field("corrects_several", reference))
    return head


def line_description(line: InvoiceLine, *, locale: str) -> str:
    """A line's description as a document prints it, escaped.

    A line of late-payment costs names its kind and the late invoice (« Pénalités de retard
    (F-2027-000001) »); any other line prints its own description.
    """
    _check("line", line, InvoiceLine)
    if line.kind in (LineKind.LATE_PENALTY, LineKind.RECOVERY_INDEMNITY):
        kind = label(line.kind, locale=locale)
        return f"{kind[:1].upper()}{kind[1:]} ({escape_controls(line.description)})"
    return escape_controls(line.description)


def credited_invoices(invoice: Invoice, credited: Iterable[Invoice]) -> dict[str, Invoice]:
    """The invoices ``invoice`` names in ``credits_periods_of``, from ``credited``, by number.

    ``credited`` are the earlier invoices whose periods the document's credit lines credit,
    as the store holds them (their dates are part of the reference, as for the invoice a
    credit note corrects); any of them may be left out (named by its number alone).

    Raises:
        InvalidTypeError: ``credited`` holds something other than an invoice.
        InvalidArgumentError: ``credited`` holds an invoice ``invoice`` does not name.
    """
    _check("invoice", invoice, Invoice)
    if isinstance(credited, (str, bytes)) or not isinstance(credited, Iterable):
        raise InvalidTypeError("credited", credited, "an iterable of Invoice")
    found: dict[str, Invoice] = {}
    for earlier in credited:
        _check("credited", earlier, Invoice)
        if earlier.number is None or earlier.number not in invoice.credits_periods_of:
            raise InvalidArgumentError(
                f"credited holds invoice {earlier.number}, but {invoice.number or 'the draft'} "
                f"credits periods of {', '.join(invoice.credits_periods_of) or 'no invoice'}"
            )
        found[earlier.number] = earlier
    return found


def credit_line_mentions(
    invoice: Invoice, *, locale: str, credited: Iterable[Invoice] = ()
) -> list[str]:
    """What a document says of credit lines that credit periods of another invoice.

    An invoice whose credit lines credit periods earlier invoices billed (an upgrade's
    credit of the old plan, ``credits_periods_of``) names them, each with its date when
    given it among ``credited`` (« … F-2026-000001 du 1 mars 2026 »); an invoice whose periods a
    later invoice's credit lines credited (a :class:`~subbill.invoices.Correction` whose
    ``consumed`` is its whole ``amount``) names that invoice, its date and the amount,
    deducted there: its own amount due does not change. (A credit note's row, among the
    totals, shows what it gives back.)

    >>> from subbill.invoices import Correction
    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> first = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("essentiel", "Essentiel", Money("348", "EUR"))],
    ... ).finalize(number="F-2026-000001")
    >>> counted = Correction(credit_note="F-2026-000002", credited_on=date(2026, 7, 1),
    ...     amount=Money("231.68", "EUR"), consumed=Money("231.68", "EUR"))
    >>> import attrs
    >>> print(credit_line_mentions(attrs.evolve(first, corrections=(counted,)),
    ...     locale="en_US")[0])
    Period credited by invoice F-2026-000002 of July 1, 2026: €231.68, deducted from that invoice (the amount due above does not change)
    """  # noqa: E501  (the doctest shows the whole sentence)
    _check("invoice", invoice, Invoice)
    numbers = _dated(invoice, credited, locale=locale)
    said = []
    # A credit note names the invoices whose periods it credits in its heading (« Avoir sur
    # les factures »): they count its share each, nothing is deducted on the note.
    if invoice.credits_periods_of and invoice.kind is DocumentKind.INVOICE:
        said.append(phrase("mention", "credits_periods_of", locale=locale, invoices=numbers))
    said.extend(
        phrase(
            "mention",
            "periods_credited_by",
            locale=locale,
            invoice=escape_controls(correction.credit_note),
            on=format_date(correction.credited_on, locale=locale),
            amount=format_money(correction.amount, locale=locale),
        )
        for correction in invoice.corrections
        if correction.consumed == correction.amount
    )
    return said


def late_payment_mentions(
    invoice: Invoice, terms: BillingTerms | None, buyer: Customer | None, *, locale: str
) -> list[str]:
    """The late-payment mentions of ``terms`` on ``invoice``: the penalty rate, the 40 € indemnity.

    Stated on every invoice whose terms set a rate, between businesses only (art. L441-10
    of the French Commercial Code): none to a consumer ``buyer``; a buyer not known is
    taken as a business, the default kind of a customer record. None on a credit note: it
    asks no payment, so it cannot be paid late.
    """
    _check("invoice", invoice, Invoice)
    if buyer is not None:
        _check("buyer", buyer, Customer)
    if terms is None or not asks_payment(invoice):
        return []
    _check("terms", terms, BillingTerms)
    if terms.late_payment_percent is None or (buyer is not None and not buyer.is_business):
        return []
    shown = format_quantity(terms.late_payment_percent, locale=locale)
    return [
        phrase("mention", "penalty_rate", locale=locale, percent=shown),
        phrase("mention", "indemnity", locale=locale),
    ]


def line_cells(line: InvoiceLine, *, locale: str) -> list[str]:
    """A line's cells in the order of :data:`LINE_COLUMNS`, as every table of lines shows them.

    A usage line has no unit price (its ``unit_price`` is the period's amount: its
    explanation prices it tier by tier), a correction no quantity of its own (the
    period's, re-rated, is in its explanation), and a late-payment penalty neither (its
    explanation gives amount × rate × days / 365).
    """
    period = "" if line.period is None else format_period(line.period, locale=locale, compact=True)
    usage = line.explanation.usage is not None
    corrects = usage and line.kind is LineKind.USAGE_CORRECTION
    # A late-payment penalty is amount × rate × days / 365, not quantity × unit price (its
    # unit price is the amount it runs on): its explanation prices it.
    penalty = line.kind is LineKind.LATE_PENALTY
    return [
        line_description(line, locale=locale),
        period,
        "" if corrects or penalty else format_quantity(line.quantity, locale=locale),
        "" if usage or penalty else format_money(line.unit_price, locale=locale),
        format_money(line.amount, locale=locale),
        format_money(-line.discount, locale=locale) if not line.discount.is_zero() else "",
        format_money(line.net, locale=locale),
    ]


#: The columns of an invoice's table of lines (their headings: ``label(code, locale=…)``).
LINE_COLUMNS = ("description", "period", "quantity", "unit_price", "amount", "discount", "net")


def invoice_text(
    invoice: Invoice,
    *,
    locale: str,
    terms: BillingTerms | None = None,
    buyer: Customer | None = None,
    corrected: Invoice | None = None,
    credited: Iterable[Invoice] = (),
) -> str:
    """Render an invoice as a plain-text table, each line followed by its explanation.

    With the customer's ``terms``, a late-payment penalty rate they set is stated under the
    totals (« Pénalités de retard : 10 % par an … »), with the fixed indemnity for recovery
    costs (« … : 40 € »), as French law asks of invoices between businesses; neither to a
    consumer ``buyer`` (:class:`~subbill.customers.Customer` of kind ``CONSUMER``). A
    credit note names the invoice it corrects (« Avoir sur la facture : F-2026-000001 »),
    with its date when given that invoice as ``corrected`` (« … du 1 mars 2026 »); an
    invoice whose credit lines credit periods of earlier invoices names them, dated when
    given them as ``credited`` (:func:`credit_line_mentions`); so does a credit note of
    periods several invoices billed (« Avoir sur les factures : F-2026-000001 du 1 mars
    2026, … »), with what it cancelled on each.
    """
    _check("invoice", invoice, Invoice)
    credited = _invoices(credited)
    mentions = [
        *credit_line_mentions(invoice, locale=locale, credited=credited),
        *late_payment_mentions(invoice, terms, buyer, locale=locale),
    ]
    headings = [label(code, locale=locale) for code in LINE_COLUMNS]
    cells = [line_cells(line, locale=locale) for line in invoice.lines]
    widths = [max(len(row[i]) for row in (headings, *cells)) for i in range(len(headings))]

    def row_text(row: list[str]) -> str:
        left = [row[i].ljust(widths[i]) for i in range(2)]
        right = [row[i].rjust(widths[i]) for i in range(2, len(row))]
        return "  ".join(left + right).rstrip()

    out = [*_header(invoice, corrected, locale=locale, credited=credited), "", row_text(headings)]
    out.append("-" * len(out[-1]))
    for line, row in zip(invoice.lines, cells, strict=True):
        out.append(row_text(row))
        out.append(f"    {describe_line(line, locale=locale)}")
    out.append("")
    totals = _rows(invoice, corrected, locale=locale, credited=credited)
    width = max(len(name) for name, _ in totals)
    amount_width = max(len(amount) for _, amount in totals)
    out.extend(f"{name.ljust(width)}  {amount.rjust(amount_width)}" for name, amount in totals)
    if mentions:
        out.extend(("", *mentions))
    return text_lines(out)


def invoice_html(
    invoice: Invoice,
    *,
    locale: str,
    terms: BillingTerms | None = None,
    buyer: Customer | None = None,
    corrected: Invoice | None = None,
    credited: Iterable[Invoice] = (),
) -> str:
    """Render an invoice as an HTML table (for notebooks), explanations under each line.

    With the customer's ``terms``, a late-payment penalty rate they set is stated below,
    with the 40 € indemnity, as :func:`invoice_text` states them (none to a consumer); a
    credit note names the invoice it corrects, dated when given it as ``corrected``, an
    invoice the invoices whose periods it credits, dated when given them as ``credited``
    (and so does a credit note of several invoices' periods).
    """
    _check("invoice", invoice, Invoice)
    credited = _invoices(credited)
    mentions = [
        *credit_line_mentions(invoice, locale=locale, credited=credited),
        *late_payment_mentions(invoice, terms, buyer, locale=locale),
    ]

    def esc(text: str) -> str:
        return html.escape(escape_controls(text))

    headings = "".join(f"<th>{esc(label(code, locale=locale))}</th>" for code in LINE_COLUMNS)
    body = []
    for line in invoice.lines:
        cells = "".join(f"<td>{esc(cell)}</td>" for cell in line_cells(line, locale=locale))
        body.append(f"<tr>{cells}</tr>")
        body.append(
            f'<tr><td colspan="{len(LINE_COLUMNS)}"><small>'
            f"{esc(describe_line(line, locale=locale))}</small></td></tr>"
        )
    totals = "".join(
        f'<tr><td colspan="{len(LINE_COLUMNS) - 1}" style="text-align:right">{esc(name)}</td>'
        f"<td>{esc(amount)}</td></tr>"
        for name, amount in _rows(invoice, corrected, locale=locale, credited=credited)
    )
    heads = _header(invoice, corrected, locale=locale, credited=credited)
    header = "<br>".join(esc(item) for item in heads)
    return (
        f'<div class="subbill-invoice"><p>{header}</p><table>'
        f"<thead><tr>{headings}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot>{totals}</tfoot></table>"
        + "".join(f"<p><small>{esc(mention)}</small></p>" for mention in mentions)
        + "</div>"
    )

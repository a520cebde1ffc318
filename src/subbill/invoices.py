"""Invoices: lines that explain themselves, totals that add up, a lifecycle, numbers, payments.

An :class:`Invoice` is immutable. Its totals are derived from its lines, so they always
agree: ``net`` (HT) is the sum of the lines' taxable bases, ``tax`` the sum of their taxes
(and of the per-rate breakdown), ``total`` (TTC) their sum. A document whose total is
negative is a credit note (``DocumentKind.CREDIT_NOTE``), never a silently negative invoice.

Lifecycle: draft → open (finalised, numbered) → partially paid / paid. Only a draft can be
discarded (``void()``); a numbered invoice is never voided nor deleted (French rules): it is
corrected by a credit note that references it (:func:`credit_note_for`, numbered in the same
series), applied with :meth:`Invoice.apply_credit_note`. ``is_overdue(as_of=)`` is derived
from the due date, never stored.

>>> numbering = InvoiceNumbering()
>>> numbering.next_number("F-2026-000123", issued_on=date(2026, 3, 1))
'F-2026-000124'
>>> numbering.next_number("F-2026-000124", issued_on=date(2027, 1, 2))
'F-2027-000001'
"""

from __future__ import annotations

import contextlib
import enum
import html
import operator
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Self

import attrs

from subbill._records import cached_slot, fast_cached_slots, slot_setters
from subbill._validate import (
    brief,
    check_count,
    check_enum,
    check_instance,
    check_items,
    check_line,
    check_text,
    enum_of,
    escape_controls,
    instance_of,
    lines_pass,
    one_line,
    payment_reference,
)
from subbill.charges import to_quantity
from subbill.discounts import AppliedDiscount, LineDiscount
from subbill.errors import (
    CurrencyMismatchError,
    InvalidAmountError,
    InvalidArgumentError,
    InvalidStateError,
    InvalidTransitionError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.metering import UsagePrice
from subbill.money import (
    DECIMAL_CONTEXT,
    MAX_AMOUNT,
    Money,
    check_money,
    currency_precision,
)
from subbill.periods import Period, check_date
from subbill.proration import ProrationBasis
from subbill.taxes import (
    LineTax,
    TaxBreakdown,
    TaxRate,
    line_taxes,
    sum_taxes,
    tax_breakdown,
)

__all__ = [
    "Correction",
    "CreditNoteApplication",
    "DocumentKind",
    "InvalidTransitionError",
    "Invoice",
    "InvoiceLine",
    "InvoiceNumbering",
    "InvoiceStatus",
    "LineExplanation",
    "LineKind",
    "Payment",
    "PaymentApplication",
    "UsageExplanation",
    "check_document_sums",
    "check_same_account",
    "credit_note_for",
    "credit_of",
    "credits_a_period",
    "one_time_line",
]


class LineKind(enum.Enum):
    """What an invoice line bills."""

    RECURRING = "recurring"
    ONE_TIME = "one_time"
    PRORATION_CHARGE = "proration_charge"
    PRORATION_CREDIT = "proration_credit"
    ADJUSTMENT = "adjustment"
    USAGE = "usage"  # a usage charge's period, billed in arrears
    USAGE_CORRECTION = "usage_correction"  # a billed usage period re-rated (late records)
    RECOVERY_INDEMNITY = "recovery_indemnity"  # the fixed indemnity of a late invoice
    LATE_PENALTY = "late_penalty"  # penalties on a late invoice, at an annual rate


class DocumentKind(enum.Enum):
    """An invoice, or a credit note when the total is negative."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(enum.Enum):
    """Where an invoice is in its life."""

    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


# The members ``finalize`` reads, once (a member read through its enum costs as much as
# copying a field, on Python 3.11).
_DRAFT, _OPEN, _PAID = InvoiceStatus.DRAFT, InvoiceStatus.OPEN, InvoiceStatus.PAID
_INVOICE = DocumentKind.INVOICE

_WHOLE = Fraction(1)


@attrs.frozen(kw_only=True)
class UsageExplanation:
    """How a usage line was priced: the period's price piece by piece, and what was billed.

    ``price`` is the usage charge priced for the line's period with every record known
    (its exact pieces add up to ``price.unrounded``, rounded once to ``price.amount``).
    ``billed`` is what the period had been billed before (``None`` on its first line): a
    correction line bills ``price.amount − billed``.
    """

    price: UsagePrice = attrs.field(validator=instance_of(UsagePrice))
    billed: Money | None = attrs.field(default=None, validator=instance_of(Money, optional=True))


@attrs.frozen(kw_only=True)
class LineExplanation:
    """Why a line costs what it costs, as data that ``l10n`` turns into a sentence.

    What kind of line it is, the line says (:class:`LineKind`); a line without ``period``
    is billed once. ``days``/``period_days`` are the unreduced factor (12 of 31 days);
    ``reason`` is the charge's reason (``plan_change``, …); ``discounts`` what each discount
    took off the line; ``usage`` how a usage line was priced (:class:`UsageExplanation`).
    """

    unit_price: Money
    quantity: Decimal
    factor: Fraction = Fraction(1)
    period: Period | None = None
    cycle: Period | None = None
    days: int | None = None
    period_days: int | None = None
    basis: ProrationBasis | None = attrs.field(
        default=None, validator=enum_of(ProrationBasis, optional=True)
    )
    reason: str | None = attrs.field(default=None, validator=instance_of(str, optional=True))
    discounts: tuple[LineDiscount, ...] = ()
    usage: UsageExplanation | None = None

    @classmethod
    def _make(
        cls,
        *,
        unit_price: Money,
        quantity: Decimal,
        factor: Fraction = _WHOLE,
        period: Period | None = None,
        cycle: Period | None = None,
        days: int | None = None,
        period_days: int | None = None,
        basis: ProrationBasis | None = None,
        reason: str | None = None,
        discounts: tuple[LineDiscount, ...] = (),
        usage: UsageExplanation | None = None,
    ) -> Self:
        """Build without validation, for explanations the billing engine computes.

        The defaults are the class's: a line billed once has no period nor day count.
        """
        explanation = object.__new__(cls)
        values = (
            unit_price,
            quantity,
            factor,
            period,
            cycle,
            days,
            period_days,
            basis,
            reason,
            discounts,
            usage,
        )
        for setter, value in zip(_EXPLANATION_SETTERS, values, strict=True):
            setter(explanation, value)
        return explanation


# In the order of the fields (the order _make unpacks them in).
_EXPLANATION_SETTERS = tuple(slot_setters(LineExplanation).values())


def _rate_of(pair: object) -> object:
    """The rate of one of a line's ``(rate, amount)`` taxes; None for anything else."""
    return pair[0] if isinstance(pair, tuple) and len(pair) == 2 else None


def _check_discount_currency(instance: InvoiceLine, _attribute: Any, discount: Money) -> None:
    """A line's discount is in its amount's currency (``net`` subtracts one from the other).

    Else the line was stored, then could not be read back (its net cannot be computed).
    """
    amount = instance.amount
    if (
        isinstance(discount, Money)
        and isinstance(amount, Money)
        and discount.currency != amount.currency
    ):
        raise CurrencyMismatchError(amount.currency, discount.currency, "take a discount in")


def _check_taxes(instance: InvoiceLine, _attribute: Any, taxes: object) -> None:
    """A line's taxes are one amount per rate of its ``tax_rates``, in their order.

    Else the line would state a rate it charges no tax at (an invoice's breakdown, and its
    e-invoice, would miss it), or charge a tax at a rate it does not state. Build taxed
    lines with :func:`one_time_line` (``tax_rates=``), which computes them.
    """
    rates = instance.tax_rates
    if type(taxes) is tuple and type(rates) is tuple and len(taxes) == len(rates):
        # The common case (every line the engine and the codec build), in one plain loop.
        for pair, rate in zip(taxes, rates, strict=True):
            if (
                type(pair) is not tuple
                or len(pair) != 2
                or (pair[0] is not rate and pair[0] != rate)
                or not isinstance(pair[1], Money)
            ):
                break
        else:
            return
    rates = tuple(rates)
    pairs = tuple(taxes) if isinstance(taxes, tuple | list) else None
    if (
        pairs is not None
        and len(pairs) == len(rates)
        and all(_rate_of(pair) == rate for pair, rate in zip(pairs, rates, strict=True))
    ):
        for rate, amount in pairs:
            if not isinstance(amount, Money):
                raise InvalidTypeError(f"taxes[{rate.name!r}]", amount, "a Money")
        return
    given = ", ".join(getattr(rate, "name", repr(rate)) for rate in rates) or "none"
    charged = (
        ", ".join(
            f"{getattr(_rate_of(pair), 'name', '?')} {pair[1]}"
            if _rate_of(pair) is not None
            else repr(pair)
            for pair in pairs
        )
        if pairs is not None
        else repr(taxes)
    )
    raise InvalidArgumentError(
        f"line {instance.code!r}: taxes=[{charged or 'none'}] do not match "
        f"tax_rates=({given}): a line has one tax amount per rate, in the same order; build "
        "a taxed line with one_time_line(..., tax_rates=(...)), which computes them "
        "(attrs.evolve of tax_rates alone leaves the taxes behind)"
    )


@fast_cached_slots
@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One line: what was billed, for which period, and how its amount was reached.

    ``amount`` is ``unit_price × quantity × factor`` rounded (negative for a credit);
    ``discount`` what discounts took off (same sign); ``net`` = amount − discount, in the
    price's terms (tax-exclusive, or tax-inclusive when the rates are inclusive); ``base``
    the taxable base (HT), ``tax`` the tax, ``total`` = base + tax (TTC).
    """

    kind: LineKind = attrs.field(validator=enum_of(LineKind))
    code: str = attrs.field(validator=check_text)
    description: str = attrs.field(validator=check_text)
    charge_key: str = attrs.field(validator=check_text)
    period: Period | None
    quantity: Decimal
    unit_price: Money
    factor: Fraction
    amount: Money
    discount: Money = attrs.field(validator=_check_discount_currency)
    tax_rates: tuple[TaxRate, ...] = ()
    taxes: tuple[tuple[TaxRate, Money], ...] = attrs.field(default=(), validator=_check_taxes)
    base: Money
    explanation: LineExplanation

    @classmethod
    def _make(cls, **fields: Any) -> Self:
        """Build without validation, for lines the billing engine computes from valid charges."""
        line = object.__new__(cls)
        for name, value in fields.items():
            _LINE_SLOTS[name](line, value)
        return line

    # Derived once per line (a line is immutable), then read by every total of the invoice.

    @cached_slot
    def net(self) -> Money:
        """Amount after discounts (in the price's terms)."""
        return self.amount - self.discount

    @cached_slot
    def tax(self) -> Money:
        """The line's tax, all rates together."""
        return sum_taxes(self.taxes, currency=self.amount.currency)

    @cached_slot
    def total(self) -> Money:
        """Taxable base plus tax (TTC)."""
        return self.base + self.tax


_LINE_SLOTS = slot_setters(InvoiceLine)


@attrs.frozen(kw_only=True)
class Payment:
    """Money received for an invoice: amount, date and the payment method used.

    A payment is real money: its amount is above zero, rounded to the currency's minor
    unit (``Money("10", "EUR") / 3`` is refused: round it first) and within the bound of
    an amount.

    >>> Payment(amount=Money("10", "EUR") / 3, paid_on=date(2026, 3, 2))
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidAmountError: amount=Money('3.333...', 'EUR') must be rounded to ...
    """

    amount: Money
    paid_on: date = attrs.field(validator=lambda _i, _a, v: check_date("paid_on", v))
    method: str = attrs.field(default="", validator=payment_reference(allow_empty=True))
    reference: str = attrs.field(default="", validator=one_line(allow_empty=True))

    def __attrs_post_init__(self) -> None:
        check_instance("amount", self.amount, Money)  # a float: FloatAmountError, as Money's
        if not self.amount.is_positive():
            raise InvalidArgumentError(f"amount={self.amount!r} must be a Money > 0")
        if not self.amount.is_rounded():
            precision = currency_precision(self.amount.currency)
            raise InvalidAmountError(
                "amount",
                self.amount,
                f"rounded to the minor unit of {self.amount.currency} ({precision} decimal "
                "places): a payment is money received; round it first (.rounded())",
            )
        check_money("amount", self.amount)


@attrs.frozen(kw_only=True)
class PaymentApplication:
    """The invoice after a payment, and what was paid beyond the amount due (customer credit)."""

    invoice: Invoice
    overpayment: Money


def _check_correction(instance: Correction, _attribute: Any, amount: Money) -> None:
    if not isinstance(instance.credit_note, str) or not instance.credit_note.strip():
        raise InvalidArgumentError(
            f"credit_note={instance.credit_note!r} must be the credit note's number"
        )
    check_date("credited_on", instance.credited_on)
    if not isinstance(amount, Money):
        raise InvalidTypeError("amount", amount, "a Money")
    if not amount.is_positive():
        raise OutOfBoundsError("amount", amount, "> 0 (what the credit note credits)")


def _check_applied_part(
    name: str, applied: object, *, whole: Money, names_only: object, corrects: object = ""
) -> None:
    """``applied``, the part of a credit note applied to its invoice: None, or in (0, whole)."""
    if applied is None:
        return
    if not isinstance(applied, Money):
        raise InvalidTypeError(name, applied, f"None or a Money in {whole.currency}")
    if applied.currency != whole.currency:
        raise CurrencyMismatchError(whole.currency, applied.currency, f"record {name} in")
    if names_only is not False or corrects is None:
        raise InvalidArgumentError(
            f"{name}={applied}: only a credit note applied to the invoice it corrects "
            "(corrects set, names_only=False) applies part of itself to it"
        )
    if not applied.is_positive() or applied >= whole:
        raise OutOfBoundsError(
            name,
            applied,
            f"> 0 and < {whole} (the note's amount): the part that cancelled what was due; "
            "None when the whole note was applied",
        )


def _given_back(instance: Correction) -> Money:
    """What the document gives back (``amount`` less what it ``consumed`` itself)."""
    consumed = instance.consumed
    if isinstance(consumed, Money) and consumed.currency == instance.amount.currency:
        return instance.amount - consumed
    return instance.amount


def _check_correction_part(instance: Correction, _attribute: Any, applied: object) -> None:
    whole = _given_back(instance)
    if applied is not None and not whole.is_positive():
        raise InvalidArgumentError(
            f"applied={applied}: credit lines consumed whole on a later invoice (consumed = "
            "amount) apply nothing of themselves to this invoice"
        )
    _check_applied_part("applied", applied, whole=whole, names_only=instance.names_only)


def _check_consumed(instance: Correction, _attribute: Any, consumed: object) -> None:
    """``consumed``: None, or a part of ``amount`` in (0, amount]."""
    if consumed is None:
        return
    currency = instance.amount.currency
    if not isinstance(consumed, Money):
        raise InvalidTypeError("consumed", consumed, f"None or a Money in {currency}")
    if consumed.currency != currency:
        raise CurrencyMismatchError(currency, consumed.currency, "record consumed in")
    if not consumed.is_positive() or consumed > instance.amount:
        raise OutOfBoundsError(
            "consumed",
            consumed,
            f"> 0 and <= amount {instance.amount}: the part of the credit the document's own "
            "charges took; None when they took none",
        )
    if consumed == instance.amount and instance.names_only:
        raise InvalidArgumentError(
            f"consumed={consumed}: credit lines consumed whole on a later invoice do not only "
            "name this invoice (names_only): nothing of them is owed"
        )


@attrs.frozen(kw_only=True)
class Correction:
    """A credit of the invoice it corrects: the document's number, date and amount (> 0).

    Kept on the corrected invoice (``Invoice.corrections``), so that a credit is counted
    once only and what is left to credit is known from the invoice alone. ``names_only``
    tells how a credit note stands to the invoice: ``False`` (the default, and every
    correction stored before it existed), applied to it (:meth:`Invoice.apply_credit_note`:
    it cancelled what was still due, the rest went to the customer's credit balance);
    ``True``, it only names the invoice, which owed nothing when the note was issued
    (:meth:`Invoice.name_credit_note`): what the note gives back is owed on the note itself,
    not returned to the credit balance.

    ``applied`` (``None`` unless set) is the part of what the note gives back applied to the
    invoice when the note credits more than the invoice still owed under the
    ``CREDIT_NOTE`` policy (see :func:`subbill.payments.link_credit_note`): it cancelled
    what was due, and the rest is owed on the note itself (:attr:`owed_on_note`), not
    returned to the credit balance.

    >>> part = Correction(credit_note="F-2026-000002", credited_on=date(2026, 7, 1),
    ...     amount=Money("239.67", "EUR"), applied=Money("8.00", "EUR"))
    >>> part.cancels, part.owed_on_note
    (Money('8.00', 'EUR'), Money('231.67', 'EUR'))

    ``consumed`` (``None`` unless set) is the part of ``amount`` the crediting document's
    own charges took: the customer pays (or is given back) the net there, so that part
    counts in what this invoice was credited (:attr:`Invoice.credited`: its
    :attr:`Invoice.creditable` is lower by it), cancels nothing of what is due here and is
    owed on nothing. All of ``amount`` for credit lines of a later **invoice**
    (``credit_note`` holds that invoice's number; see
    :func:`subbill.payments.link_credit_lines`): an upgrade credits the unused part of the
    old plan on the invoice of the new one. Part of it for a credit note that also charges
    (a downgrade's note carries the new plan's line): ``amount`` is what its credit lines
    credit, ``amount − consumed`` what the note gives back (−its total), which cancels,
    names or is applied in part as any note does. A credit note of periods several invoices
    billed leaves one record on each, its share: ``amount`` what it credits that invoice's
    periods (its credit lines of them less its charges of the same periods), ``consumed``
    its charge of a period no invoice it names billed, taken on that share
    (:meth:`Invoice.apply_credit_note_share`).

    >>> upgrade = Correction(credit_note="F-2026-000002", credited_on=date(2026, 7, 1),
    ...     amount=Money("231.68", "EUR"), consumed=Money("231.68", "EUR"))
    >>> upgrade.cancels.is_zero(), upgrade.owed_on_note.is_zero()
    (True, True)
    >>> downgrade = Correction(credit_note="F-2026-000002", credited_on=date(2026, 7, 1),
    ...     amount=Money("471.35", "EUR"), consumed=Money("231.68", "EUR"))
    >>> downgrade.cancels, downgrade.owed_on_note.is_zero()
    (Money('239.67', 'EUR'), True)
    """

    credit_note: str
    credited_on: date
    amount: Money = attrs.field(validator=_check_correction)
    names_only: bool = attrs.field(default=False, validator=instance_of(bool))
    applied: Money | None = attrs.field(default=None, validator=_check_correction_part)
    consumed: Money | None = attrs.field(default=None, validator=_check_consumed)

    @property
    def owed_on_note(self) -> Money:
        """What the note owes the customer on itself (refunded against it).

        All it gives back (``amount − consumed``) for a note that only names the invoice,
        that less ``applied`` for a note applied in part, nothing for a note applied whole
        nor for credit lines consumed whole on a later invoice.
        """
        if self.names_only:
            return _given_back(self)
        if self.applied is not None:
            return _given_back(self) - self.applied
        return Money.zero(self.amount.currency)

    @property
    def cancels(self) -> Money:
        """What was applied to the invoice (``amount − consumed − owed_on_note``).

        Only this part cancels what the invoice owed (or, for a note applied whole, went
        back to the credit balance beyond it); a note that only names the invoice cancels
        nothing, nor does what the crediting document consumed (``consumed``).
        """
        return _given_back(self) - self.owed_on_note


@attrs.frozen(kw_only=True)
class CreditNoteApplication:
    """The corrected invoice, and what the correction gives back to the customer.

    ``returned`` is the part of the credit note that goes to the customer's credit balance:
    what the invoice had consumed of that balance (``credit_applied``) or had been paid,
    beyond what the corrected invoice still asks. The rest of the credit note cancelled what
    was still due. ``returned`` can be refunded with a ``subbill.payments.Refund``.
    """

    invoice: Invoice
    returned: Money


def _check_invoice(instance: Invoice, _attribute: Any, _value: object) -> None:
    currency = instance.currency
    for line in instance.lines:
        if line.amount.currency != currency:
            raise CurrencyMismatchError(currency, line.amount.currency, "invoice")
    check_date("issued_on", instance.issued_on)
    check_date("due_on", instance.due_on)
    if instance.due_on < instance.issued_on:
        raise InvalidArgumentError(
            f"due_on={instance.due_on.isoformat()} must not be before "
            f"issued_on={instance.issued_on.isoformat()}"
        )
    total = instance.total
    if total.is_negative() and instance.kind is not DocumentKind.CREDIT_NOTE:
        raise InvalidArgumentError(
            f"total={total} is negative: such a document must be a credit note "
            "(kind=DocumentKind.CREDIT_NOTE)"
        )
    if instance.kind is DocumentKind.CREDIT_NOTE and total.is_positive():
        raise InvalidArgumentError(f"total={total} is positive: a credit note credits")
    # A discarded draft (void) has no number; every other non-draft has one.
    if instance.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID) and instance.number is None:
        raise InvalidArgumentError(f"an invoice with status={instance.status.value} needs a number")
    _check_breakdown(instance)
    _check_line_amounts(instance)
    check_document_sums(
        currency,
        (
            ("subtotal", instance.subtotal.amount),
            ("discount_total", instance.discount_total.amount),
            ("net", instance.net.amount),
            ("tax", instance.tax.amount),
            ("total", total.amount),
        ),
        instance.taxes,
    )


_ZERO = Decimal(0)


#: The kinds of line the engine bills to credit a period an earlier invoice billed: the unused
#: part of a plan, module or seats (a change, a cancellation), a usage period re-rated down.
#: Compared by identity: a bill run asks it of every line, and a member's hash is a Python call.
_PRORATION_CREDIT, _USAGE_CORRECTION = LineKind.PRORATION_CREDIT, LineKind.USAGE_CORRECTION


def _check_numbered(note: Invoice) -> str:
    """The number of ``note``; a draft or void note is refused: it is not applied."""
    if note.number is None or note.status is InvoiceStatus.VOID:
        raise InvalidStateError(
            f"credit note with status={note.status.value} cannot be applied: finalize it "
            "first, so that it is numbered in the invoice series"
        )
    return note.number


def check_same_account(note: Invoice, invoice: Invoice) -> None:
    """Refuse the credit ``note`` of another customer or subscription than ``invoice``'s.

    A credit note credits its own customer's invoices, of its own subscription (``None``
    for both when the documents belong to none), as it does of its own currency.

    >>> from subbill.billing import draft_invoice
    >>> line = one_time_line("setup", "Installation", Money("50", "EUR"))
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[line]).finalize(number="F-1")
    >>> note = draft_invoice(customer="BOB", currency="EUR", issued_on=date(2026, 3, 9),
    ...     lines=[line])
    >>> check_same_account(note, invoice)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: credit note draft is of customer 'BOB' ...

    Raises:
        InvalidArgumentError: the customers or the subscriptions differ; the message names
            both.
    """
    if note.customer != invoice.customer or note.subscription != invoice.subscription:
        raise InvalidArgumentError(
            f"credit note {note.number or 'draft'} is of customer {note.customer!r} "
            f"(subscription {note.subscription!r}), invoice {invoice.number or 'draft'} of "
            f"customer {invoice.customer!r} (subscription {invoice.subscription!r}): a credit "
            "note credits only invoices of its own customer and subscription"
        )


def credits_a_period(line: InvoiceLine) -> bool:
    """Whether ``line`` credits a period an earlier invoice billed.

    A line of a credit kind (``PRORATION_CREDIT``, ``USAGE_CORRECTION``) with a period and a
    negative net. A line of a negative price (a quote's « remise » line billed every
    period) is the invoice's own: it credits nothing another invoice billed.

    >>> from subbill.periods import Period
    >>> remise = attrs.evolve(one_time_line("remise", "Remise", Money("-10", "EUR")),
    ...     kind=LineKind.RECURRING, period=Period(date(2026, 3, 1), date(2026, 4, 1)))
    >>> credits_a_period(remise), credits_a_period(attrs.evolve(remise,
    ...     kind=LineKind.PRORATION_CREDIT))
    (False, True)
    """
    kind = line.kind
    return (
        (kind is _PRORATION_CREDIT or kind is _USAGE_CORRECTION)
        and line.period is not None
        and line.net.is_negative()
    )


def _check_breakdown(instance: Invoice) -> None:
    """The per-rate breakdown shown is the one the lines' taxes add up to, never another.

    Summed as plain decimals in the library's context (this runs for every invoice built).
    """
    add = DECIMAL_CONTEXT.add
    bases: dict[TaxRate, Decimal] = {}
    taxes: dict[TaxRate, Decimal] = {}
    for line in instance.lines:
        for rate, amount in line.taxes:
            bases[rate] = add(bases.get(rate, _ZERO), line.base.amount)
            taxes[rate] = add(taxes.get(rate, _ZERO), amount.amount)
    shown = [(row.rate, row.base.amount, row.tax.amount) for row in instance.taxes]
    if shown != [(rate, bases[rate], taxes[rate]) for rate in bases]:
        derived = tax_breakdown(
            [LineTax(base=line.base, taxes=line.taxes) for line in instance.lines if line.taxes],
            currency=instance.currency,
        )
        given = ", ".join(f"{row.rate.name} {row.tax} on {row.base}" for row in instance.taxes)
        wanted = ", ".join(f"{row.rate.name} {row.tax} on {row.base}" for row in derived)
        raise InvalidArgumentError(
            f"taxes=[{given}] is not the breakdown of the lines' taxes: [{wanted}] "
            "(leave taxes out: draft_invoice derives it)"
        )


# A nonzero amount is at least MAX_AMOUNT in magnitude when its adjusted exponent is this.
_BOUND_DIGITS = MAX_AMOUNT.adjusted()


def _is_beyond(amount: Decimal) -> bool:
    """Whether ``amount`` is at least ``MAX_AMOUNT`` in magnitude (one int comparison)."""
    return bool(amount) and amount.adjusted() >= _BOUND_DIGITS


def _beyond(name: str, amount: Decimal, currency: str) -> OutOfBoundsError:
    """The error for a document amount beyond the bound of an amount."""
    return OutOfBoundsError(
        name,
        Money._make(amount, currency),
        f"below 10^{_BOUND_DIGITS} in magnitude, the bound of every amount a document "
        "stores and reads back: split the lines over several invoices (or credit notes)",
    )


def check_document_sums(
    currency: str,
    sums: Iterable[tuple[str, Decimal]],
    breakdown: Iterable[TaxBreakdown],
) -> None:
    """Refuse a document whose sums or tax breakdown reach the bound of an amount.

    Each line's amounts are within the bound, but their sums (``sums``: the name and the
    amount of the subtotal, the discounts, the net, the tax, the total) and each row of the
    per-rate breakdown need not be: such a document would be written and then refused when
    read back. Built once per document, by the checked constructor and by the engine.

    >>> check_document_sums("EUR", [("total", Decimal("1.44E+15"))], ())
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: total=Money('1440000000000000', 'EUR') must be below ...

    Raises:
        OutOfBoundsError: an amount is ``10^15`` or more in magnitude (its message names it).
    """
    for name, amount in sums:
        if amount and amount.adjusted() >= _BOUND_DIGITS:
            raise _beyond(name, amount, currency)
    for index, row in enumerate(breakdown):
        if _is_beyond(row.base.amount):
            raise _beyond(f"taxes[{index}].base", row.base.amount, currency)
        if _is_beyond(row.tax.amount):
            raise _beyond(f"taxes[{index}].tax", row.tax.amount, currency)


def _check_line_amounts(instance: Invoice) -> None:
    """Each line's stored amounts (amount, discount, base, taxes) are within the bound.

    A line built by hand may hold a sum of amounts (``Money`` arithmetic is not bounded).
    """
    currency = instance.currency
    for index, line in enumerate(instance.lines):
        for name, money in (
            ("amount", line.amount),
            ("discount", line.discount),
            ("base", line.base),
            *((f"taxes[{rate.name!r}]", amount) for rate, amount in line.taxes),
        ):
            if _is_beyond(money.amount):
                raise _beyond(f"lines[{index}].{name}", money.amount, currency)


def _check_money(name: str, value: object, currency: str) -> Money:
    if not isinstance(value, Money):
        raise InvalidTypeError(name, value, f"a Money in {currency}")
    if value.currency != currency:
        raise CurrencyMismatchError(currency, value.currency, f"record {name} on an invoice in")
    return value


def _check_settlement(instance: Invoice, _attribute: Any, _value: object) -> None:
    """What settles an invoice never exceeds it: credit applied, payments, corrections."""
    _check_paid(instance)
    _check_corrects(instance)
    _check_corrections(instance)
    _check_credits_periods_of(instance)
    _check_open_owes(instance)


def _check_open_owes(instance: Invoice) -> None:
    """An open (or partially paid) invoice owes something: one that owes nothing is paid.

    The rule every transition applies (``finalize``, ``apply_payment``,
    ``apply_credit_note`` make an invoice that owes nothing ``PAID``), applied to an
    invoice built by hand too: else it would be stored as open, listed among the unsettled
    invoices, and refuse a payment it has no use for.
    """
    if (
        instance.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
        and instance.kind is DocumentKind.INVOICE
        and instance.amount_due.is_zero()
    ):
        raise InvalidArgumentError(
            f"status={instance.status.value}, but invoice {instance.number} owes nothing "
            f"(total {instance.total}, settled in full): an invoice that owes nothing is "
            "paid (status=InvoiceStatus.PAID)"
        )


def _check_paid(instance: Invoice) -> None:
    currency = instance.currency
    total = instance.total
    zero = Money.zero(currency)
    credit = instance.credit_applied
    if credit is not None:
        _check_money("credit_applied", credit, currency)
        if instance.kind is DocumentKind.CREDIT_NOTE and not credit.is_zero():
            raise OutOfBoundsError("credit_applied", credit, "None or 0 on a credit note")
        if credit.is_negative() or credit > max(total, zero):
            raise OutOfBoundsError(
                "credit_applied", credit, f"between 0 and the invoice's total {total}"
            )
    for payment in instance.payments:
        if not isinstance(payment, Payment):
            raise InvalidTypeError("payments", payment, "Payment records")
        _check_money("payment", payment.amount, currency)
    settled = (credit or zero) + instance.amount_paid
    if instance.payments and settled > max(total, zero):
        raise OutOfBoundsError(
            "amount_paid",
            instance.amount_paid,
            f"<= total {total} - credit_applied {credit or zero}: an overpayment is "
            "customer credit, not a payment of the invoice",
        )


def _check_corrects(instance: Invoice) -> None:
    corrects = instance.corrects
    # A credit note crediting periods of several invoices names them all instead (one that
    # names an invoice it corrects is that invoice's, whatever else it lists).
    several = (
        instance.kind is DocumentKind.CREDIT_NOTE
        and corrects is None
        and bool(instance.credits_periods_of)
    )
    if instance.names_only is not False:
        if instance.names_only is not True:
            raise InvalidTypeError("names_only", instance.names_only, "a bool")
        if corrects is None and not several:
            raise InvalidArgumentError(
                "names_only=True needs corrects: only a credit note that names the invoice it "
                "corrects (or the invoices whose periods it credits) can name it without being "
                "applied to it"
            )
    if instance.applied is not None:
        _check_applied_part(
            "applied",
            instance.applied,
            whole=-instance.total,
            names_only=instance.names_only,
            corrects=instance.credits_periods_of if several else corrects,
        )
    if corrects is not None:
        if instance.kind is not DocumentKind.CREDIT_NOTE:
            raise InvalidArgumentError(
                f"corrects={corrects!r}: only a credit note corrects an invoice"
            )
        if not isinstance(corrects, str) or not corrects.strip() or corrects == instance.number:
            raise InvalidArgumentError(
                f"corrects={corrects!r} must be the number of the invoice the credit note corrects"
            )


def _check_credits_periods_of(instance: Invoice) -> None:
    """The invoices whose periods the credit lines credit: numbers, once each, not its own."""
    numbers = instance.credits_periods_of
    if not numbers:
        return
    if not isinstance(numbers, tuple):
        raise InvalidTypeError("credits_periods_of", numbers, "a tuple of invoice numbers")
    for number in numbers:
        if not isinstance(number, str) or not number.strip() or "\n" in number:
            raise InvalidArgumentError(
                f"credits_periods_of holds {brief(number)}: expected the number of an earlier "
                "invoice whose periods this document's credit lines credit"
            )
        if number == instance.number:
            raise InvalidArgumentError(
                f"credits_periods_of holds {number!r}, the document's own number: it names the "
                "earlier invoices whose periods its credit lines credit"
            )
    if len(set(numbers)) != len(numbers):
        raise InvalidArgumentError(f"credits_periods_of={numbers!r} names an invoice twice")
    if not any(credits_a_period(line) for line in instance.lines):
        raise InvalidArgumentError(
            f"credits_periods_of={numbers!r}: the document has no credit line of a period "
            "(a PRORATION_CREDIT or USAGE_CORRECTION line with a period and a negative net) to "
            "credit them with"
        )


def _check_corrections(instance: Invoice) -> None:
    currency, total = instance.currency, instance.total
    if instance.corrections:
        if instance.kind is not DocumentKind.INVOICE:
            raise InvalidArgumentError("only an invoice is corrected by credit notes")
        notes: set[str] = set()
        for correction in instance.corrections:
            if not isinstance(correction, Correction):
                raise InvalidTypeError("corrections", correction, "Correction records")
            _check_money("correction", correction.amount, currency)
            if correction.credit_note in notes:
                raise InvalidArgumentError(
                    f"credit_note={correction.credit_note!r} is applied twice to the invoice"
                )
            notes.add(correction.credit_note)
        if instance.credited > instance.charged:
            charged = instance.charged
            what = "total" if charged == total else "charge (its total without its credit lines)"
            raise OutOfBoundsError(
                "credited", instance.credited, f"<= the invoice's {what} {charged}"
            )
        _check_named(instance)


def _check_named(instance: Invoice) -> None:
    """A credit note keeps part of itself owed on itself only once nothing else is due.

    A note that only names the invoice (it cancels nothing), or one applied in part (the
    rest owed on the note): the invoice is settled by what settles it otherwise.
    """
    named = [c for c in instance.corrections if c.names_only or c.applied is not None]
    if named:
        zero = Money.zero(instance.currency)
        settled = (instance.credit_applied or zero) + instance.amount_paid
        applied = Money.total((c.cancels for c in instance.corrections), currency=instance.currency)
        if settled + applied < instance.total:
            how = "names_only=True" if named[0].names_only else f"applied={named[0].applied}"
            raise InvalidArgumentError(
                f"credit note {named[0].credit_note} names invoice {instance.number} ({how}), "
                f"but {instance.total - settled - applied} of it is not settled otherwise: a "
                "credit note of an invoice that owes something first cancels what is due "
                "(applied to it)"
            )


#: The columns of the plain, locale-free table of an invoice (``str(invoice)``, notebooks).
_PLAIN_COLUMNS = ("description", "period", "quantity", "unit_price", "amount", "discount", "net")


@fast_cached_slots
@attrs.frozen(kw_only=True)
class Invoice:
    """An immutable invoice (or credit note), its lines, discounts, taxes and payments.

    Build drafts with :func:`subbill.billing.bill_subscription` or :meth:`draft`; then
    ``finalize(number=…)``, ``apply_payment(…)``, ``void()``.
    """

    customer: str = attrs.field(validator=check_text)
    currency: str
    issued_on: date
    due_on: date
    lines: tuple[InvoiceLine, ...]
    subscription: str | None = attrs.field(default=None, validator=one_line(optional=True))
    discounts: tuple[AppliedDiscount, ...] = ()
    taxes: tuple[TaxBreakdown, ...] = ()
    kind: DocumentKind = attrs.field(default=DocumentKind.INVOICE, validator=enum_of(DocumentKind))
    status: InvoiceStatus = attrs.field(
        default=InvoiceStatus.DRAFT, validator=enum_of(InvoiceStatus)
    )
    number: str | None = attrs.field(default=None, validator=one_line(optional=True))
    credit_applied: Money | None = None
    payments: tuple[Payment, ...] = ()
    # A credit note: the number of the invoice it corrects (None for one the engine billed).
    corrects: str | None = None
    # An invoice: its credit notes (see ``apply_credit_note`` and ``name_credit_note``).
    corrections: tuple[Correction, ...] = ()
    # A credit note that names the invoice it corrects without being applied to it (that
    # invoice owed nothing): what it gives back is owed as by a note that corrects nothing.
    names_only: bool = False
    # A credit note applied in part to the invoice it corrects (it owed less than the note
    # under the CREDIT_NOTE policy): the part applied; the rest is owed on the note itself.
    applied: Money | None = None
    # The earlier invoices whose periods this document's credit lines credit (an upgrade's
    # invoice credits the unused part of the old plan), each recording them (a Correction
    # with ``consumed``): see ``subbill.payments.link_credit_lines``. On a credit note
    # (``corrects`` then None), the invoices whose periods it credits, each recording its
    # share (``apply_credit_note_share``): see ``subbill.payments.link_credit_note``.
    credits_periods_of: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        _check_invoice(self, None, None)  # the whole invoice, then what settles it
        _check_settlement(self, None, None)

    @classmethod
    def _engine_draft(
        cls,
        *,
        customer: str,
        currency: str,
        issued_on: date,
        due_on: date,
        lines: tuple[InvoiceLine, ...],
        subscription: str,
        discounts: tuple[AppliedDiscount, ...],
        taxes: tuple[TaxBreakdown, ...],
        kind: DocumentKind,
        credit_applied: Money | None,
    ) -> Self:
        """Build a draft without validation, for the invoices the billing engine computes.

        Every value was checked where it came from (the subscription, the engine's own
        lines, a breakdown derived from them); the engine's tests and the golden test pin
        that what it builds is what the checked constructor would accept.
        """
        invoice = object.__new__(cls)
        (
            set_customer,
            set_currency,
            set_issued_on,
            set_due_on,
            set_lines,
            set_subscription,
            set_discounts,
            set_taxes,
            set_kind,
            set_status,
            set_number,
            set_credit_applied,
            set_payments,
            set_corrects,
            set_corrections,
            set_names_only,
            set_applied,
            set_credits_periods_of,
        ) = _INVOICE_SETTERS
        set_customer(invoice, customer)
        set_currency(invoice, currency)
        set_issued_on(invoice, issued_on)
        set_due_on(invoice, due_on)
        set_lines(invoice, lines)
        set_subscription(invoice, subscription)
        set_discounts(invoice, discounts)
        set_taxes(invoice, taxes)
        set_kind(invoice, kind)
        set_status(invoice, InvoiceStatus.DRAFT)
        set_number(invoice, None)
        set_credit_applied(invoice, credit_applied)
        set_payments(invoice, ())
        set_corrects(invoice, None)
        set_corrections(invoice, ())
        set_names_only(invoice, False)  # noqa: FBT003  (a slot written, not a flag passed)
        set_applied(invoice, None)
        set_credits_periods_of(invoice, ())
        return invoice

    # -- totals, all derived from the lines (once: an invoice is immutable) ---------------------

    def _sum(self, values: Any) -> Money:
        return Money.total(values, currency=self.currency)

    @cached_slot
    def subtotal(self) -> Money:
        """Sum of the lines' amounts before discounts."""
        return self._sum(line.amount for line in self.lines)

    @cached_slot
    def discount_total(self) -> Money:
        """Sum of what discounts took off the lines."""
        return self._sum(line.discount for line in self.lines)

    @cached_slot
    def net(self) -> Money:
        """Total taxable base (HT)."""
        return self._sum(line.base for line in self.lines)

    @cached_slot
    def tax(self) -> Money:
        """Total tax."""
        return self._sum(line.tax for line in self.lines)

    @cached_slot
    def total(self) -> Money:
        """Total with taxes (TTC)."""
        return self.net + self.tax

    @cached_slot
    def amount_paid(self) -> Money:
        """What payments have covered so far."""
        if not self.payments:
            return Money.zero(self.currency)
        return self._sum(payment.amount for payment in self.payments)

    @cached_slot
    def credited(self) -> Money:
        """What the credit notes correcting this invoice have credited so far."""
        if not self.corrections:
            return Money.zero(self.currency)
        return self._sum(correction.amount for correction in self.corrections)

    @cached_slot
    def cancelled(self) -> Money:
        """What the credit notes applied to this invoice cancelled or returned (≤ credited).

        :attr:`credited` less what notes owe on themselves (:attr:`Correction.owed_on_note`:
        a note that only names the invoice, the rest of a note applied in part).
        """
        if not self.corrections:
            return Money.zero(self.currency)
        return self._sum(correction.cancels for correction in self.corrections)

    @cached_slot
    def charged(self) -> Money:
        """What this invoice charged: its total, without its own credit lines of a period.

        Its total for most invoices. An upgrade's invoice also credits the unused part of
        the old plan (:func:`credits_a_period` lines): once that credit is counted on the
        invoices that billed the old plan's period (they are named in
        ``credits_periods_of``: :func:`subbill.payments.link_credit_lines` records all its
        credit lines or none), it is not counted here, so what this invoice charged for its
        own periods (the new plan's line, with its tax) is what may be credited against it
        (:attr:`creditable`), even once it nets an earlier credit. An invoice naming none
        (its credit lines recorded nowhere, or a document stored before) charged its total.

        >>> from subbill.billing import draft_invoice
        >>> from subbill.periods import Period
        >>> unused = attrs.evolve(one_time_line("essentiel", "Essentiel", Money("-231.68",
        ...     "EUR")), kind=LineKind.PRORATION_CREDIT,
        ...     period=Period(date(2026, 7, 1), date(2027, 3, 1)))
        >>> upgrade = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 7, 1),
        ...     lines=[unused, one_time_line("pro", "Pro", Money("471.35", "EUR"))]
        ... ).finalize(number="F-2026-000002")
        >>> upgrade.total, upgrade.charged
        (Money('239.67', 'EUR'), Money('239.67', 'EUR'))
        >>> attrs.evolve(upgrade, credits_periods_of=("F-2026-000001",)).charged
        Money('471.35', 'EUR')
        """
        if not self.credits_periods_of:  # its credit lines are counted on no other invoice
            return self.total
        given = [line.total for line in self.lines if credits_a_period(line)]
        if not given:
            return self.total
        return self.total - self._sum(given)

    @property
    def creditable(self) -> Money:
        """What further credits may still credit: charged − credited (0 if not numbered).

        :attr:`charged` less :attr:`credited` (credit notes, and later invoices' credit
        lines of its periods). Only a numbered invoice is corrected by a credit note (a
        draft is discarded).
        """
        zero = Money.zero(self.currency)
        if (
            self.kind is not DocumentKind.INVOICE
            or self.number is None
            or self.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
        ):
            return zero
        return max(self.charged - self.credited, zero)

    def _bound(self) -> str:
        """Why :attr:`creditable` is what it is, for the message of a refused credit."""
        if self.charged == self.total:
            charged = f"total {self.total} of invoice {self.number}"
        else:
            charged = (
                f"charged {self.charged} by invoice {self.number}, whose total {self.total} "
                "nets its credit of other invoices' periods"
            )
        return f"<= {self.creditable} ({charged} - {self.credited} already credited)"

    def _excess(self) -> Money:
        """What credit applied, payments and credit notes settle beyond the total."""
        credit = self.credit_applied or Money.zero(self.currency)
        return max(
            credit + self.amount_paid + self.cancelled - self.total, Money.zero(self.currency)
        )

    @property
    def amount_due(self) -> Money:
        """What is still to pay: total − credit applied − payments − cancelled (never below 0).

        ``cancelled`` is what the credit notes applied to it cancelled (:attr:`cancelled`):
        a note that only names the invoice cancels nothing.
        """
        if self.kind is DocumentKind.CREDIT_NOTE or self.status is InvoiceStatus.VOID:
            return Money.zero(self.currency)
        credit = self.credit_applied or Money.zero(self.currency)
        return max(
            self.total - credit - self.amount_paid - self.cancelled, Money.zero(self.currency)
        )

    @property
    def is_paid(self) -> bool:
        """True once nothing is due on an open invoice."""
        return self.status is InvoiceStatus.PAID

    def is_overdue(self, *, as_of: date) -> bool:
        """True when the invoice is open, something is still due, and ``due_on`` has passed.

        The due date itself is not overdue yet.
        """
        check_date("as_of", as_of)
        return (
            self.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
            and self.amount_due.is_positive()
            and self.due_on < as_of
        )

    # -- lifecycle -------------------------------------------------------------------------------

    def _describe(self) -> str:
        return f"invoice {self.number}" if self.number else "draft invoice"

    def finalize(self, *, number: str) -> Self:
        """Open the draft under ``number``: it can then be paid; it can no longer change."""
        if self.status is not _DRAFT:
            raise InvalidTransitionError(
                self._describe(), self.status.value, "finalize", "only a draft is finalised"
            )
        if not self.lines:
            raise InvalidTransitionError(
                self._describe(),
                self.status.value,
                "finalize",
                "an invoice needs at least one line",
            )
        check_line("number", number)
        status = self._status_when_numbered()
        if type(self) is not Invoice:  # a subclass's own fields: its checked constructor
            return attrs.evolve(self, number=number, status=status)
        # Only the number (checked above) and the status change, to one a numbered invoice
        # may have: every other check of the constructor held when this draft was built.
        finalized = object.__new__(type(self))
        for setter, value in zip(_INVOICE_SETTERS, _invoice_fields(self), strict=True):
            setter(finalized, value)
        _SET_NUMBER(finalized, number)
        _SET_STATUS(finalized, status)
        _check_corrects(finalized)  # a credit note never bears the number it corrects
        # The totals derive from the lines, copied as they are: the draft's net, tax and
        # total (the engine wrote them as it summed the lines) are the invoice's. The others
        # (subtotal, discounts, paid, credited) are computed when first read.
        try:
            for read, write in _INVOICE_TOTALS:
                write(finalized, read(self))
        except AttributeError:  # not all computed on this draft: those that were
            for read, write in _INVOICE_TOTALS:
                with contextlib.suppress(AttributeError):
                    write(finalized, read(self))
        return finalized

    def _status_when_numbered(self) -> InvoiceStatus:
        """The status :meth:`finalize` gives this draft: paid when nothing is due, else open."""
        if self.kind is _INVOICE and (
            self.total.amount <= 0  # nothing settles it yet: what is due is its total
            if self.credit_applied is None and not self.payments and not self.corrections
            else self.amount_due.is_zero()
        ):
            return _PAID
        return _OPEN

    def _finalize_own_draft(self, number: str) -> Self:
        """:meth:`finalize`, for a caller that holds the only reference to this draft.

        A bill run numbers the drafts the engine just made for it, which no one else has
        seen and which it drops once their rows are written: an engine draft (an
        :class:`Invoice`, not a credit note correcting a number) is numbered where it stands
        (its number and status written, nothing copied) and returned; any other is
        finalized by :meth:`finalize`. The result equals ``finalize(number=number)``'s,
        field for field and total for total (property
        ``test_a_draft_finalized_in_place_is_the_invoice_finalize_gives``), and refuses
        what it refuses; never call it on an invoice another holder can see.
        """
        if (
            type(self) is not Invoice
            or self.status is not _DRAFT
            or not self.lines
            or self.corrects is not None
            or self.names_only is not False
            or self.applied is not None
        ):
            return self.finalize(number=number)
        check_line("number", number)  # checked before anything is written: nothing half-set
        _SET_STATUS(self, self._status_when_numbered())
        _SET_NUMBER(self, number)
        return self

    @classmethod
    def _finalize_own_drafts(cls, drafts: Sequence[Self], numbers: Sequence[str]) -> list[Self]:
        """:meth:`_finalize_own_draft` of each of ``drafts`` with its number, in order.

        The numbers are checked at once (:func:`~subbill._validate.lines_pass`); when one is
        refused, each draft is numbered in turn as :meth:`_finalize_own_draft` numbers it (the
        first refused raises its own error). A draft of the engine's usual shape (an
        invoice nothing settles yet) gets its status from its total inline; any other as
        :meth:`_status_when_numbered` gives it. Property
        ``test_drafts_finalized_at_once_are_finalized_one_by_one``.
        """
        if len(drafts) != len(numbers) or not lines_pass(numbers):
            return [
                draft._finalize_own_draft(number)
                for draft, number in zip(drafts, numbers, strict=True)
            ]
        finalized = []
        for draft, number in zip(drafts, numbers, strict=True):
            if (
                type(draft) is not Invoice
                or draft.status is not _DRAFT
                or not draft.lines
                or draft.corrects is not None
                or draft.names_only is not False
                or draft.applied is not None
            ):
                finalized.append(draft.finalize(number=number))
                continue
            if (
                draft.kind is _INVOICE
                and draft.credit_applied is None
                and not draft.payments
                and not draft.corrections
            ):  # nothing settles it yet: what is due is its total
                status = _PAID if draft.total.amount <= 0 else _OPEN
            else:
                status = draft._status_when_numbered()
            _SET_STATUS(draft, status)
            _SET_NUMBER(draft, number)
            finalized.append(draft)
        return finalized

    def void(self) -> Self:
        """Discard a draft (status ``VOID``); a numbered invoice is never voided.

        A finalised invoice is corrected by a credit note that references it
        (:func:`credit_note_for`), as French rules require; voiding it raises
        :class:`InvalidTransitionError` (an :class:`~subbill.errors.InvalidStateError`).
        Discarding a draft billed by ``bill_subscription`` means discarding the state returned
        with it too (it records the draft as billed and any customer credit it used).
        """
        if self.number is not None:
            raise InvalidTransitionError(
                self._describe(),
                self.status.value,
                "void",
                "a numbered invoice is never voided nor deleted; issue a credit note that "
                "corrects it (credit_note_for)",
            )
        if self.status is not InvoiceStatus.DRAFT:
            raise InvalidTransitionError(
                self._describe(), self.status.value, "void", "only a draft can be discarded"
            )
        return attrs.evolve(self, status=InvoiceStatus.VOID)

    def apply_credit_note(self, note: Invoice) -> CreditNoteApplication:
        """Record the numbered credit note ``note`` that corrects this invoice.

        The credit note first cancels what is still due; what it credits beyond that (the
        customer credit the invoice consumed, what was paid) is ``returned`` to the
        customer's credit balance (see ``subbill.payments.record_credit_note``, which also
        updates the billing state). A credit note is applied once, and all the credit notes
        of an invoice never credit more than its total. A note with ``applied`` set (see
        :func:`subbill.payments.link_credit_note`) applies that part only, at most what is
        due: nothing is returned, the rest is owed on the note itself.

        >>> from subbill.billing import draft_invoice
        >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        ...     lines=[one_time_line("setup", "Installation", Money("100", "EUR"))],
        ...     credit_applied=Money("30", "EUR")).finalize(number="F-2026-000001")
        >>> note = credit_note_for(invoice, issued_on=date(2026, 3, 5)).finalize(
        ...     number="F-2026-000002")
        >>> note.corrects, note.total
        ('F-2026-000001', Money('-100.00', 'EUR'))
        >>> applied = invoice.apply_credit_note(note)
        >>> applied.invoice.status.value, applied.invoice.amount_due.is_zero(), applied.returned
        ('paid', True, Money('30.00', 'EUR'))

        Raises:
            InvalidArgumentError: ``note`` is no credit note correcting this invoice, or is of
                another customer or subscription (:func:`check_same_account`).
        """
        if isinstance(note, Invoice) and note.names_only:
            raise InvalidArgumentError(
                f"credit note {note.number or 'draft'} has names_only=True: it only names "
                f"invoice {note.corrects!r}, it is not applied to it (name_credit_note)"
            )
        correction = self._correction_of(note, names_only=False)
        if correction.applied is not None and correction.applied > self.amount_due:
            raise InvalidStateError(
                f"credit note {note.number} applies {correction.applied} to invoice "
                f"{self.number}, which owes {self.amount_due}: the part applied only cancels "
                "what is due (link the note again: subbill.payments.link_credit_note)"
            )
        # Paid once the note cancels all that is due (an open invoice owes something).
        status = InvoiceStatus.PAID if self.amount_due <= correction.cancels else self.status
        corrected = attrs.evolve(self, corrections=(*self.corrections, correction), status=status)
        return CreditNoteApplication(
            invoice=corrected, returned=corrected._excess() - self._excess()
        )

    def name_credit_note(self, note: Invoice) -> Self:
        """Record the numbered credit ``note`` that names this invoice, which owes nothing.

        A credit note of an invoice already settled (paid, or settled by customer credit)
        names it, as French rules ask of every credit note, without being applied to it:
        the note was made with ``names_only=True``, nothing is due to cancel, and what the
        note gives back is owed on the note itself (refunded against it, see
        :func:`subbill.payments.refundable`), never returned to the credit balance. The
        invoice lists it (``corrections``, a :class:`Correction` with ``names_only``) and
        counts it in what it may still be credited (``creditable``); its amount due and its
        status do not change. Pure: returns the new invoice.

        >>> from subbill.billing import draft_invoice
        >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        ...     lines=[one_time_line("setup", "Installation", Money("100", "EUR"))]
        ... ).finalize(number="F-2026-000001")
        >>> paid = invoice.apply_payment(
        ...     Payment(amount=Money("100", "EUR"), paid_on=date(2026, 3, 2))).invoice
        >>> note = attrs.evolve(credit_note_for(paid, issued_on=date(2026, 3, 9), lines=[
        ...     one_time_line("geste", "Geste", Money("40", "EUR"))]), names_only=True
        ... ).finalize(number="F-2026-000002")
        >>> named = paid.name_credit_note(note)
        >>> named.status.value, named.amount_due.is_zero(), named.creditable
        ('paid', True, Money('60.00', 'EUR'))

        Raises:
            InvalidStateError: this invoice still owes something (apply the note instead:
                :meth:`apply_credit_note`), or the note is recorded on it already.
            InvalidArgumentError: ``note`` is no credit note naming only this invoice, or is
                of another customer or subscription (:func:`check_same_account`).
            OutOfBoundsError: the note credits more than :attr:`creditable`.
        """
        if isinstance(note, Invoice) and not note.names_only:
            raise InvalidArgumentError(
                f"credit note {note.number or 'draft'} has names_only=False: it is applied to "
                "the invoice it corrects (apply_credit_note)"
            )
        correction = self._correction_of(note, names_only=True)
        if not self.amount_due.is_zero():
            raise InvalidStateError(
                f"invoice {self.number} still owes {self.amount_due}: a credit note of it "
                "first cancels what is due; apply it (names_only=False, apply_credit_note)"
            )
        return attrs.evolve(self, corrections=(*self.corrections, correction))

    def apply_credit_note_share(
        self, note: Invoice, *, amount: Money, consumed: Money, spilled: Money | None = None
    ) -> CreditNoteApplication:
        """Record this invoice's share of the numbered credit ``note`` of several invoices.

        A credit note may credit periods several invoices billed (seats reduced from a day
        three monthly invoices ago): it names them all (``credits_periods_of``) and each
        records its share, a :class:`Correction` of ``amount`` — what the note's credit
        lines of the periods this invoice billed credit, with their tax — of which the
        note's own charges of those periods took ``consumed`` (0 when none), of which
        ``spilled`` (0 when ``None``) charges a period no invoice the note names billed. The
        invoice records, and counts against :attr:`creditable`, what the share credits its
        periods: ``amount`` less the charges of those same periods, which bill them again at
        the corrected quantity (April credited 212.40 at 3 seats and charged again 70.80 at
        1: 141.60 recorded, 70.80 still creditable), with ``spilled`` as the record's
        ``consumed``. What the share gives back (``amount − consumed``) settles as a note of
        this invoice alone would,
        by the note's ``names_only`` and ``applied`` (set for the note as a whole by
        :func:`subbill.payments.link_credit_note`): applied whole, it cancels what is due
        here first and returns the rest (``returned``); under a note applied in part it
        cancels at most what is due here, the rest owed on the note; under a note that only
        names the invoices it cancels nothing. Pure: returns the new invoice
        (:func:`subbill.payments.record_shared_credit_note` records every share at once).

        >>> from subbill.billing import draft_invoice
        >>> from subbill.periods import Period
        >>> april = Period(date(2026, 4, 1), date(2026, 5, 1))
        >>> seats = attrs.evolve(one_time_line("pro", "Pro x 3", Money("212.40", "EUR")),
        ...     kind=LineKind.RECURRING, period=april)
        >>> invoice = draft_invoice(customer="ACME", currency="EUR",
        ...     issued_on=date(2026, 4, 1), lines=[seats]).finalize(number="F-2026-000002")
        >>> credit = attrs.evolve(seats, kind=LineKind.PRORATION_CREDIT,
        ...     amount=Money("-212.40", "EUR"), base=Money("-212.40", "EUR"))
        >>> one = attrs.evolve(seats, amount=Money("70.80", "EUR"), base=Money("70.80", "EUR"))
        >>> note = attrs.evolve(draft_invoice(customer="ACME", currency="EUR",
        ...     issued_on=date(2026, 5, 2), lines=[credit, one]),
        ...     kind=DocumentKind.CREDIT_NOTE, credits_periods_of=("F-2026-000001",
        ...     "F-2026-000002")).finalize(number="F-2026-000004")
        >>> share = invoice.apply_credit_note_share(note, amount=Money("212.40", "EUR"),
        ...     consumed=Money("70.80", "EUR")).invoice
        >>> share.credited, share.creditable, share.amount_due
        (Money('141.60', 'EUR'), Money('70.80', 'EUR'), Money('70.80', 'EUR'))

        Raises:
            InvalidArgumentError: ``note`` is no credit note naming this invoice among the
                invoices whose periods it credits, or is of another customer or subscription
                (:func:`check_same_account`).
            InvalidStateError: the note is not numbered, is recorded here already, or only
                names the invoices while this one still owes something.
            OutOfBoundsError: ``consumed`` is not in [0, amount], ``spilled`` not in
                [0, consumed], or what the share credits the periods is more than
                :attr:`creditable`.
        """
        if not isinstance(note, Invoice):
            raise InvalidTypeError("note", note, "a credit note (an Invoice)")
        if note.currency != self.currency:
            raise CurrencyMismatchError(self.currency, note.currency, "credit")
        check_same_account(note, self)
        if note.kind is not DocumentKind.CREDIT_NOTE or self.number not in note.credits_periods_of:
            raise InvalidArgumentError(
                f"note={note.number or 'draft'} is no credit note crediting periods of invoice "
                f"{self.number} (its credits_periods_of: "
                f"{', '.join(note.credits_periods_of) or 'none'})"
            )
        number = _check_numbered(note)
        self._check_takes(number, f"credit note {number}")
        amount = _check_money("amount", amount, self.currency)
        consumed = _check_money("consumed", consumed, self.currency)
        if consumed.is_negative() or consumed > amount:
            raise OutOfBoundsError(
                "consumed",
                consumed,
                f">= 0 and <= amount {amount}: the part of the share the note's own charges take",
            )
        if not amount.is_positive():
            raise OutOfBoundsError("amount", amount, "> 0 (what the credit note credits)")
        spilled = Money.zero(self.currency) if spilled is None else spilled
        spilled = _check_money("spilled", spilled, self.currency)
        if spilled.is_negative() or spilled > consumed:
            raise OutOfBoundsError(
                "spilled", spilled, f">= 0 and <= consumed {consumed}: the part of it that "
                "charges a period no invoice the note names billed",
            )  # fmt: skip
        given, due = amount - consumed, self.amount_due
        # Counted net (review 100): the note's charges of these same periods bill them again
        # at the corrected quantity, so what it credits them is the rest.
        counted = given + spilled
        self._check_creditable(counted if counted.is_positive() else amount)
        names_only, applied = False, None
        if given.is_positive() and (note.names_only or note.applied is not None):
            if note.names_only and due.is_positive():
                raise InvalidStateError(
                    f"invoice {self.number} still owes {due}: credit note {note.number} only "
                    "names the invoices it credits, which it may only when none owes anything "
                    "(link it again: subbill.payments.link_credit_note)"
                )
            names_only = due.is_zero()
            applied = due if not names_only and due < given else None
        # Recorded net of the charges of these periods (what the share credits them); the
        # charge of a period no named invoice billed is ``consumed`` (it settles nothing
        # here). A share its charges take whole stays credit lines consumed whole.
        correction = Correction(
            credit_note=number,
            credited_on=note.issued_on,
            amount=counted if counted.is_positive() else amount,
            names_only=names_only,
            applied=applied,
            consumed=(spilled if spilled.is_positive() else None)
            if counted.is_positive()
            else amount,
        )
        status = InvoiceStatus.PAID if due <= correction.cancels else self.status
        corrected = attrs.evolve(self, corrections=(*self.corrections, correction), status=status)
        return CreditNoteApplication(
            invoice=corrected, returned=corrected._excess() - self._excess()
        )

    def count_credit_lines(self, document: Invoice, *, lines: Iterable[InvoiceLine]) -> Self:
        """Record that ``lines`` of the later numbered ``document`` credit periods it billed.

        An engine's invoice may carry credit lines of periods this invoice billed (an upgrade
        credits the unused part of the old plan on the invoice of the new one). Those lines
        credit this invoice as a credit note would: the invoice lists them (a
        :class:`Correction` named after ``document``, with ``consumed``) and counts them in
        :attr:`credited`, so :attr:`creditable` is lower by their total (with taxes). The
        credit is consumed on ``document``, where the customer pays the net: it cancels
        nothing of what is due here, and owes nothing. Pure: returns the new invoice
        (:func:`subbill.payments.link_credit_lines` finds the lines and the invoice).

        >>> from subbill.billing import draft_invoice
        >>> from subbill.periods import Period
        >>> year = Period(date(2026, 3, 1), date(2027, 3, 1))
        >>> line = attrs.evolve(one_time_line("essentiel", "Essentiel", Money("290", "EUR")),
        ...     kind=LineKind.RECURRING, period=year, charge_key="essentiel@2026-03-01")
        >>> first = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        ...     lines=[line]).finalize(number="F-2026-000001")
        >>> unused = Money("-193.07", "EUR")  # 243/365 of the year, credited
        >>> credit = attrs.evolve(line, kind=LineKind.PRORATION_CREDIT, amount=unused,
        ...     base=unused, period=Period(date(2026, 7, 1), date(2027, 3, 1)))
        >>> pro = one_time_line("pro", "Pro", Money("392.79", "EUR"))
        >>> upgrade = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 7, 1),
        ...     lines=[credit, pro]).finalize(number="F-2026-000002")
        >>> counted = first.count_credit_lines(upgrade, lines=[credit])
        >>> counted.credited, counted.creditable, counted.amount_due
        (Money('193.07', 'EUR'), Money('96.93', 'EUR'), Money('290.00', 'EUR'))

        Raises:
            InvalidArgumentError: a line is not a credit line of a period of ``document``,
                or ``document`` is no numbered invoice of this invoice's series.
            InvalidStateError: this invoice records ``document`` already.
            OutOfBoundsError: the lines credit more than :attr:`creditable`.
        """
        if not isinstance(document, Invoice):
            raise InvalidTypeError("document", document, "an Invoice")
        if document.currency != self.currency:
            raise CurrencyMismatchError(self.currency, document.currency, "credit")
        chosen = tuple(lines) if isinstance(lines, Iterable) else lines
        if not isinstance(chosen, tuple) or not chosen:
            raise InvalidTypeError("lines", lines, "a non-empty iterable of the document's lines")
        for line in chosen:
            if not isinstance(line, InvoiceLine) or not any(line is own for own in document.lines):
                raise InvalidArgumentError(
                    f"lines holds {brief(line)}, which is not a line of {document._describe()}"
                )
            if not credits_a_period(line):
                raise InvalidArgumentError(
                    f"line {line.description!r} of {document._describe()} credits no period "
                    "(a PRORATION_CREDIT or USAGE_CORRECTION line with a period and a "
                    "negative net)"
                )
        if (
            document.kind is not DocumentKind.INVOICE
            or document.number is None
            or document.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
            or document.number == self.number
        ):
            raise InvalidArgumentError(
                f"document={document.number or 'draft'} must be another numbered invoice: a "
                "credit note's credit is recorded by apply_credit_note or name_credit_note"
            )
        self._check_takes(document.number, f"{document.number}'s credit lines")
        amount = Money.total((-line.total for line in chosen), currency=self.currency)
        self._check_creditable(amount)
        correction = Correction(
            credit_note=document.number,
            credited_on=document.issued_on,
            amount=amount,
            consumed=amount,
        )
        return attrs.evolve(self, corrections=(*self.corrections, correction))

    def _check_takes(self, number: str | None, what: str) -> None:
        """Refuse unless this is an invoice that does not record ``number``'s credit yet."""
        if self.kind is not DocumentKind.INVOICE:
            raise InvalidArgumentError(f"{self._describe()} is no invoice: nothing credits it")
        for kept in self.corrections:
            if kept.credit_note == number:
                raise InvalidStateError(f"invoice {self.number} records {what} already")

    def _check_creditable(self, amount: Money) -> None:
        """Refuse a credit of ``amount`` unless this finalised invoice may still take it."""
        if self.status not in (
            InvoiceStatus.OPEN,
            InvoiceStatus.PARTIALLY_PAID,
            InvoiceStatus.PAID,
        ):
            raise InvalidTransitionError(
                self._describe(), self.status.value, "credit", "only a finalised invoice"
            )
        if amount > self.creditable:
            raise OutOfBoundsError("credit", amount, self._bound())

    def _correction_of(self, note: Invoice, *, names_only: bool) -> Correction:
        """The record of the numbered credit ``note`` of this invoice, once checked."""
        if not isinstance(note, Invoice):
            raise InvalidTypeError("note", note, "a credit note (an Invoice)")
        if note.currency != self.currency:
            raise CurrencyMismatchError(self.currency, note.currency, "credit")
        check_same_account(note, self)
        if note.kind is not DocumentKind.CREDIT_NOTE or note.corrects is None:
            raise InvalidArgumentError(
                f"note={note.number or 'draft'} is not a credit note correcting an invoice; "
                "build one with credit_note_for(invoice, ...)"
            )
        if note.corrects != self.number:
            raise InvalidArgumentError(
                f"credit note {note.number or 'draft'} corrects={note.corrects!r}, "
                f"not invoice {self.number!r}"
            )
        number = _check_numbered(note)
        for kept in self.corrections:
            if kept.credit_note == note.number:
                how = "names" if kept.names_only else "is already applied to"
                raise InvalidStateError(f"credit note {note.number} {how} invoice {self.number}")
        # What its credit lines credit: a note that also charges (a downgrade's, with the
        # new plan's line) consumed part of it on itself, and gives back the rest.
        consumed = _charged_on(note, self)
        amount = -note.total + consumed
        self._check_creditable(amount)
        return Correction(
            credit_note=number,
            credited_on=note.issued_on,
            amount=amount,
            names_only=names_only,
            applied=note.applied,
            consumed=consumed if consumed.is_positive() else None,
        )

    def apply_payment(self, payment: Payment) -> PaymentApplication:
        """Record ``payment``; what exceeds the amount due comes back as ``overpayment``.

        >>> from subbill.billing import draft_invoice
        >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        ...     lines=[one_time_line("setup", "Installation", Money("100", "EUR"))]
        ... ).finalize(number="F-2026-000001")
        >>> partial = invoice.apply_payment(
        ...     Payment(amount=Money("40", "EUR"), paid_on=date(2026, 3, 2)))
        >>> partial.invoice.status.value, partial.invoice.amount_due
        ('partially_paid', Money('60.00', 'EUR'))
        >>> final = partial.invoice.apply_payment(
        ...     Payment(amount=Money("75", "EUR"), paid_on=date(2026, 3, 5)))
        >>> final.invoice.status.value, final.overpayment
        ('paid', Money('15.00', 'EUR'))
        """
        if not isinstance(payment, Payment):
            raise InvalidTypeError("payment", payment, "a Payment")
        if payment.amount.currency != self.currency:
            raise CurrencyMismatchError(self.currency, payment.amount.currency, "pay")
        if self.kind is DocumentKind.CREDIT_NOTE or self.status not in (
            InvoiceStatus.OPEN,
            InvoiceStatus.PARTIALLY_PAID,
        ):
            raise InvalidTransitionError(
                self._describe(), self.status.value, "pay", "only an open invoice can be paid"
            )
        due = self.amount_due
        used = min(payment.amount, due)
        overpayment = payment.amount - used
        recorded = attrs.evolve(payment, amount=used) if overpayment.is_positive() else payment
        payments = (*self.payments, recorded) if used.is_positive() else self.payments
        status = InvoiceStatus.PAID if used == due else InvoiceStatus.PARTIALLY_PAID
        return PaymentApplication(
            invoice=attrs.evolve(self, payments=payments, status=status), overpayment=overpayment
        )

    # -- for terminals and notebooks: plain and locale-free --------------------------------------

    def _plain(self) -> tuple[list[str], list[list[str]], list[tuple[str, str]]]:
        """The header lines, the line cells and the totals, in codes, ISO dates and ``str(Money)``.

        Words for people, in French or English, are :mod:`subbill.l10n`'s job
        (``invoice_text``, ``invoice_html``); this is what a terminal or a notebook shows.
        """
        number = escape_controls(self.number or "draft")
        head = [f"{self.kind.value.replace('_', ' ').capitalize()} {number} ({self.status.value})"]
        who = f"customer: {escape_controls(self.customer)}"
        if self.subscription:
            who += f"    subscription: {escape_controls(self.subscription)}"
        head.append(who)
        head.append(f"issued_on: {self.issued_on.isoformat()}    due_on: {self.due_on.isoformat()}")
        if self.corrects is not None:
            head.append(f"corrects: {escape_controls(self.corrects)}")
        cells = [
            [
                escape_controls(line.description),
                ""
                if line.period is None
                else f"[{line.period.start.isoformat()}, {line.period.end.isoformat()})",
                f"{line.quantity:f}",
                str(line.unit_price),
                str(line.amount),
                "" if line.discount.is_zero() else str(-line.discount),
                str(line.net),
            ]
            for line in self.lines
        ]
        totals = [("subtotal", self.subtotal)]
        if not self.discount_total.is_zero():
            totals.append(("discounts", -self.discount_total))
        totals.append(("net", self.net))
        totals.extend((f"tax {escape_controls(row.rate.name)}", row.tax) for row in self.taxes)
        totals.append(("total", self.total))
        if self.credit_applied is not None and not self.credit_applied.is_zero():
            totals.append(("credit_applied", -self.credit_applied))
        if self.payments:
            totals.append(("amount_paid", -self.amount_paid))
        totals.append(("amount_due", self.amount_due))
        return head, cells, [(name, str(amount)) for name, amount in totals]

    def __str__(self) -> str:
        """The invoice as a plain, locale-free text table (``21.43 EUR``, ISO dates).

        >>> from subbill.billing import draft_invoice
        >>> print(draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        ...     lines=[one_time_line("setup", "Installation", Money("100", "EUR"))]
        ... ).finalize(number="F-2026-000001"))
        Invoice F-2026-000001 (open)
        customer: ACME
        issued_on: 2026-03-01    due_on: 2026-03-01
        <BLANKLINE>
        description   period  quantity  unit_price  amount      discount  net
        Installation          1         100 EUR     100.00 EUR            100.00 EUR
        <BLANKLINE>
        subtotal    100.00 EUR
        net         100.00 EUR
        total       100.00 EUR
        amount_due  100.00 EUR
        """
        head, cells, totals = self._plain()
        rows = [list(_PLAIN_COLUMNS), *cells]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_PLAIN_COLUMNS))]
        table = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]
        width = max(len(name) for name, _ in totals)
        return "\n".join(
            [*head, "", *table, "", *(f"{name.ljust(width)}  {amount}" for name, amount in totals)]
        )

    def _repr_html_(self) -> str:
        """The invoice as a plain, locale-free HTML table, for notebooks."""
        head, cells, totals = self._plain()
        headings = "".join(f"<th>{name}</th>" for name in _PLAIN_COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in cells
        )
        foot = "".join(
            f'<tr><td colspan="{len(_PLAIN_COLUMNS) - 1}" style="text-align:right">'
            f"{html.escape(name)}</td><td>{html.escape(amount)}</td></tr>"
            for name, amount in totals
        )
        header = "<br>".join(html.escape(line) for line in head)
        return (
            f'<div class="subbill-invoice"><p>{header}</p><table>'
            f"<thead><tr>{headings}</tr></thead><tbody>{body}</tbody>"
            f"<tfoot>{foot}</tfoot></table></div>"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per line (str, Decimal, date, None): ready for ``pandas.DataFrame``.

        >>> from subbill.billing import draft_invoice
        >>> draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
        ...     lines=[one_time_line("setup", "Installation", Money("100", "EUR"))]
        ... ).to_records()[0]["total"]
        Decimal('100.00')
        """
        records: list[dict[str, Any]] = []
        for position, line in enumerate(self.lines, start=1):
            records.append(
                {
                    "invoice": self.number,
                    "customer": self.customer,
                    "subscription": self.subscription,
                    "issued_on": self.issued_on,
                    "line": position,
                    "kind": line.kind.value,
                    "code": line.code,
                    "description": line.description,
                    "period_start": line.period.start if line.period else None,
                    "period_end": line.period.last_day if line.period else None,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price.amount,
                    "factor": line.factor,
                    "amount": line.amount.amount,
                    "discount": line.discount.amount,
                    "net": line.net.amount,
                    "tax_rates": ", ".join(rate.name for rate in line.tax_rates),
                    "tax": line.tax.amount,
                    "total": line.total.amount,
                    "currency": self.currency,
                }
            )
        return records


# -- numbering -------------------------------------------------------------------------------


_PATTERN_FIELDS = (
    "{seq} once (optionally zero-padded to at most 20 digits: {seq:06d}) and at most one "
    "{year}, with no other field"
)
# A zero-padded width (``06d``) or nothing: what ``InvoiceNumbering.parse`` reads back as digits.
_SEQ_FORMAT = re.compile(r"(?:0(?:[1-9]|1\d|20))?d?")


def _check_pattern(_instance: Any, _attribute: Any, pattern: object) -> None:
    """Refuse a pattern that cannot number invoices, naming it and the fields allowed."""
    if not isinstance(pattern, str):
        raise InvalidTypeError(
            "pattern", pattern, f"a str such as 'F-{{year}}-{{seq:06d}}': {_PATTERN_FIELDS}"
        )

    def refuse(problem: str) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"pattern={brief(pattern)!r} must contain {_PATTERN_FIELDS}: {problem}"
        )

    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as error:
        raise refuse(f"it is not a format string ({error})") from None
    fields: list[str] = []
    for literal, field, spec, conversion in parts:
        if "{" in literal or "}" in literal or not literal.isprintable():
            raise refuse("its text holds a brace or a control character")
        if field is None:
            continue
        if field not in ("seq", "year") or conversion is not None:
            raise refuse(f"{{{brief(field)}}} is not one")
        if field == "year" and spec:
            raise refuse("{year} takes no format")
        if field == "seq" and (not isinstance(spec, str) or not _SEQ_FORMAT.fullmatch(spec)):
            raise refuse(f"{{seq:{brief(spec)}}} is not a zero-padded width")
        fields.append(field)
    if fields.count("seq") != 1 or fields.count("year") > 1:
        raise refuse(
            f"it holds {{seq}} {fields.count('seq')} times, {{year}} {fields.count('year')}"
        )


_INVOICE_SLOTS = slot_setters(Invoice)
_INVOICE_SETTERS = tuple(_INVOICE_SLOTS.values())  # in the order of the fields
#: An invoice's fields, in the same order, read at once.
_invoice_fields = operator.attrgetter(*_INVOICE_SLOTS)
_SET_NUMBER, _SET_STATUS = _INVOICE_SLOTS["number"], _INVOICE_SLOTS["status"]
# A frozen attrs class keeps each cached total in a slot of its name: ``(read, write)`` of
# each (reading one not computed yet raises AttributeError).
_INVOICE_TOTALS = tuple(
    (vars(Invoice)[name].__get__, vars(Invoice)[name].__set__) for name in ("net", "tax", "total")
)


@fast_cached_slots
@attrs.frozen(kw_only=True)
class InvoiceNumbering:
    """Gapless, chronological invoice numbers: a pure function of the previous number.

    ``pattern`` holds ``{seq}`` (with a format such as ``{seq:06d}``) and optionally
    ``{year}``; with ``{year}`` the sequence restarts at 1 each calendar year, as French
    rules allow when the year is part of the number. Credit notes may use their own
    numbering (e.g. ``pattern="AV-{year}-{seq:06d}"``).
    """

    pattern: str = attrs.field(default="F-{year}-{seq:06d}", validator=_check_pattern)
    """The number's pattern; anything else is refused with the fields allowed.

    >>> InvoiceNumbering(pattern="F-{month}-{seq}")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: pattern='F-{month}-{seq}' must contain {seq} once ...
    """

    @cached_slot
    def _regex(self) -> re.Pattern[str]:
        """The pattern as a regular expression, built once (a bill run parses one per invoice)."""
        parts = re.split(r"(\{year\}|\{seq(?::[^}]*)?\})", self.pattern)
        regex = ""
        for part in parts:
            if part == "{year}":
                regex += r"(?P<year>\d{4})"
            elif part.startswith("{seq"):
                regex += r"(?P<seq>\d+)"
            else:
                regex += re.escape(part)
        return re.compile(f"^{regex}$")

    def parse(self, number: str) -> tuple[int | None, int]:
        """Return ``(year, sequence)`` of a number of this pattern (year ``None`` if absent)."""
        match = self._regex.match(number) if isinstance(number, str) else None
        if match is None:
            raise InvalidArgumentError(f"number={number!r} does not match pattern={self.pattern!r}")
        groups: Mapping[str, str] = match.groupdict()
        year = int(groups["year"]) if "year" in groups else None
        return year, int(groups["seq"])

    def format(self, *, year: int, seq: int) -> str:
        """Write the number of sequence ``seq`` in ``year``."""
        return self.pattern.format(year=year, seq=seq)

    def next_number(self, previous: str | None, *, issued_on: date) -> str:
        """Return the number after ``previous`` for an invoice issued on ``issued_on``.

        Refused if ``issued_on`` is in a year before ``previous``'s: numbers must follow the
        order of the dates.
        """
        check_date("issued_on", issued_on)
        yearly = "{year" in self.pattern
        if previous is None:
            return self.format(year=issued_on.year, seq=1)
        year, seq = self.parse(previous)
        if yearly and year is not None:
            if issued_on.year < year:
                raise InvalidArgumentError(
                    f"issued_on={issued_on.isoformat()} is before the year of "
                    f"previous={previous!r}: invoice numbers must be chronological"
                )
            if issued_on.year > year:
                return self.format(year=issued_on.year, seq=1)
        return self.format(year=issued_on.year, seq=seq + 1)

    def next_numbers(self, previous: str | None, count: int, *, issued_on: date) -> list[str]:
        """The ``count`` numbers after ``previous``, for invoices issued on ``issued_on``.

        What calling :meth:`next_number` ``count`` times, each time after the number it
        gave, returns (and refuses), with the previous number parsed once.

        >>> InvoiceNumbering().next_numbers("F-2025-000041", 3, issued_on=date(2026, 1, 2))
        ['F-2026-000001', 'F-2026-000002', 'F-2026-000003']
        """
        if check_count("count", count) == 0:
            return []
        first = self.next_number(previous, issued_on=issued_on)
        if count == 1:
            return [first]
        _, seq = self.parse(first)  # the next ones follow it within its year
        year = issued_on.year
        return [first, *(self.format(year=year, seq=n) for n in range(seq + 1, seq + count))]


def one_time_line(
    code: str,
    description: str,
    price: Money,
    *,
    quantity: int | Decimal = 1,
    kind: LineKind = LineKind.ONE_TIME,
    tax_rates: Iterable[TaxRate] = (),
) -> InvoiceLine:
    """A hand-made line with no discount, untaxed or taxed at ``tax_rates``.

    ``price`` is a :class:`~subbill.money.Money` (a ``float`` is refused with a
    :class:`~subbill.errors.FloatAmountError`, as ``Money`` refuses one); ``quantity`` an
    int, str or ``Decimal`` from 0 to 10^12, as every quantity. ``tax_rates`` are the
    line's rates (none by default): its taxes and taxable base are computed from them,
    rounded on the line, as the engine taxes a line (an inclusive rate is contained in the
    price). A commercial gesture credited with its VAT is such a line, given to
    :func:`credit_note_for`.

    >>> one_time_line("setup", "Installation", Money("500", "EUR"), quantity=2).amount
    Money('1000.00', 'EUR')
    >>> vat = TaxRate(name="TVA 20 %", percent="20")
    >>> line = one_time_line("geste", "Geste commercial", Money("10", "EUR"), tax_rates=(vat,))
    >>> line.base, line.tax, line.total
    (Money('10.00', 'EUR'), Money('2.00', 'EUR'), Money('12.00', 'EUR'))
    >>> one_time_line("setup", "Installation", 500.0)
    Traceback (most recent call last):
    ...
    subbill.errors.FloatAmountError: price=500.0 is a float; pass a str or a Decimal, e.g. ...
    """
    check_instance("price", price, Money)
    count = to_quantity(quantity)
    check_enum("kind", kind, LineKind)
    rates: tuple[TaxRate, ...] = check_items(
        "tax_rates", tax_rates, TaxRate, collection="an iterable of TaxRate (empty: no tax)"
    )
    amount = (price * count).rounded()
    zero = Money.zero(price.currency)
    taxed = line_taxes([amount], [rates])[0]
    return InvoiceLine(
        kind=kind,
        code=code,
        description=description,
        charge_key=code,
        period=None,
        quantity=count,
        unit_price=price,
        factor=Fraction(1),
        amount=amount,
        discount=zero,
        tax_rates=rates,
        taxes=taxed.taxes,
        base=taxed.base,
        explanation=LineExplanation(unit_price=price, quantity=count),
    )


# -- corrections ------------------------------------------------------------------------------


def _credit_line(line: InvoiceLine) -> InvoiceLine:
    """``line`` given back: amounts, discount, taxable base and taxes negated."""
    return attrs.evolve(
        line,
        amount=-line.amount,
        discount=-line.discount,
        base=-line.base,
        taxes=tuple((rate, -amount) for rate, amount in line.taxes),
    )


def credit_of(note: Invoice, invoice: Invoice) -> Money:
    """What the credit ``note`` credits ``invoice``: what it gives back, and what it charges.

    The total of its credit lines (−its total, plus its own positive lines): a downgrade's
    note credits the old plan's unused part and charges the new plan's on itself, so it
    credits the invoice more than it gives back. A positive line that gives back one of the
    invoice's own negative lines (:func:`credit_note_for` reverses them) counts the same way
    only for a credit line the invoices it names recorded (an upgrade's invoice: the note
    still credits all it charged for its own periods, and gives back only the net); the
    others (a remise, a credit recorded nowhere) take nothing. Measured against
    :attr:`Invoice.creditable`, so that together the credits of an invoice never exceed
    what it charged (:attr:`Invoice.charged`).

    >>> from subbill.billing import draft_invoice
    >>> first = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("pro", "Pro", Money("708", "EUR"))]
    ... ).finalize(number="F-2026-000001")
    >>> lines = [one_time_line("pro", "Pro", Money("-471.35", "EUR")),
    ...     one_time_line("essentiel", "Essentiel", Money("231.68", "EUR"))]
    >>> note = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 7, 1),
    ...     lines=lines)
    >>> note.total, credit_of(note, first)
    (Money('-239.67', 'EUR'), Money('471.35', 'EUR'))
    """
    if not isinstance(note, Invoice):
        raise InvalidTypeError("note", note, "a credit note (an Invoice)")
    if not isinstance(invoice, Invoice):
        raise InvalidTypeError("invoice", invoice, "an Invoice")
    return -note.total + _charged_on(note, invoice)


def _charged_on(note: Invoice, invoice: Invoice) -> Money:
    """What the positive lines of ``note`` total: the part of its credit they take.

    A positive line that reverses one of ``invoice``'s own negative lines (a discount line,
    a « remise », a credit line: :func:`credit_note_for` gives them back) takes nothing: the
    invoice charged its total net of them. Only a credit line the invoices ``invoice`` names
    counted (``credits_periods_of``) is given back as a charge of the note, as a downgrade's
    new plan is: the note then credits all ``invoice`` charged (:attr:`Invoice.charged`).
    """
    counted = bool(invoice.credits_periods_of)
    own = {
        (line.charge_key, line.period, -line.total.amount)
        for line in invoice.lines
        if line.total.is_negative() and not (counted and credits_a_period(line))
    }
    return Money.total(
        (
            line.total
            for line in note.lines
            if line.total.is_positive()
            and (line.charge_key, line.period, line.total.amount) not in own
        ),
        currency=note.currency,
    )


def credit_note_for(
    invoice: Invoice,
    *,
    issued_on: date,
    lines: Iterable[InvoiceLine] | None = None,
    due_on: date | None = None,
) -> Invoice:
    """A draft credit note that corrects the numbered ``invoice``, in full or in part.

    A numbered invoice is never voided nor deleted: it is corrected by a credit note that
    references it (``corrects``), numbered in the same series when finalised. ``lines`` are
    the lines to give back, as they read on an invoice (positive amounts): by default all the
    invoice's lines (a full correction); for a partial one, some of them or hand-made lines
    (``one_time_line("geste", "Geste commercial", Money("10", "EUR"))``). Taxes follow each
    line. Together, the credit notes of an invoice never credit more than its total: what is
    left is ``invoice.creditable``, which counts those already recorded on it
    (:meth:`Invoice.apply_credit_note`, :meth:`Invoice.name_credit_note`).

    >>> from subbill.billing import draft_invoice
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("setup", "Installation", Money("100", "EUR"))]
    ... ).finalize(number="F-2026-000001")
    >>> note = credit_note_for(invoice, issued_on=date(2026, 3, 2), lines=[
    ...     one_time_line("geste", "Geste commercial", Money("10", "EUR"))])
    >>> note.kind.value, note.corrects, note.total
    ('credit_note', 'F-2026-000001', Money('-10.00', 'EUR'))

    Raises:
        InvalidStateError: ``invoice`` is a draft (discard it instead), a credit note, or void.
        OutOfBoundsError: the lines credit more than ``invoice.creditable``.
    """
    if not isinstance(invoice, Invoice):
        raise InvalidTypeError("invoice", invoice, "an Invoice")
    if invoice.kind is not DocumentKind.INVOICE:
        raise InvalidStateError(
            f"{invoice.number or 'draft'} is a credit note: only an invoice is corrected"
        )
    if invoice.number is None or invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        raise InvalidStateError(
            f"invoice with status={invoice.status.value} and no number is not corrected by a "
            "credit note: only a draft can be discarded (void()), a finalised one is credited"
        )
    check_date("issued_on", issued_on)
    if issued_on < invoice.issued_on:
        raise InvalidArgumentError(
            f"issued_on={issued_on.isoformat()} is before invoice {invoice.number}'s "
            f"issued_on={invoice.issued_on.isoformat()}: a correction follows what it corrects"
        )
    if due_on is not None:
        check_date("due_on", due_on)
    chosen = invoice.lines if lines is None else lines
    given = check_items(
        "lines", chosen, InvoiceLine, collection="an iterable of InvoiceLine, or None for all"
    )
    for line in given:
        if line.amount.currency != invoice.currency:
            raise CurrencyMismatchError(invoice.currency, line.amount.currency, "credit")
    credited = tuple(_credit_line(line) for line in given)
    currency = invoice.currency
    total = Money.total((line.total for line in credited), currency=currency)
    if not total.is_negative():
        raise InvalidArgumentError(f"lines total {-total}: a credit note must credit an amount > 0")
    if -total > invoice.creditable:
        raise OutOfBoundsError("credit", -total, invoice._bound())
    breakdown = tax_breakdown(
        [LineTax(base=line.base, taxes=line.taxes) for line in credited], currency=currency
    )
    return Invoice(
        customer=invoice.customer,
        currency=currency,
        issued_on=issued_on,
        due_on=due_on or issued_on,
        lines=credited,
        subscription=invoice.subscription,
        taxes=breakdown,
        kind=DocumentKind.CREDIT_NOTE,
        corrects=invoice.number,
    )

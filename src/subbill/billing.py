"""The bill: what a subscription owes up to a date, as an invoice, and the bill run.

:func:`bill_subscription` is a pure function: given a subscription's charges, what has
already been billed (a :class:`BillingState`) and ``as_of``, it returns the invoice due (or
none) **and** the new state. Called again with that state, it returns nothing new, so a
crashed run can simply be run again. Billing up to D1 then up to D2 gives the same lines as
billing up to D2 at once.

:func:`bill_run` streams results over any iterable, optionally on a
``concurrent.futures.Executor``; results are identical with and without one.

>>> from subbill import MONTHLY, Money, RecurringCharge, TaxRate
>>> vat = TaxRate(name="TVA 20 %", percent="20")
>>> sub = BillableSubscription(id="S1", customer="ACME", currency="EUR", charges=(
...     RecurringCharge(code="pro", description="Plan Pro", unit_price=Money("50", "EUR"),
...                     start=date(2026, 3, 1), billing_day=13, tax_rates=(vat,)),))
>>> result = bill_subscription(sub, as_of=date(2026, 3, 1))
>>> [(str(line.factor), str(line.amount)) for line in result.invoice.lines]
[('3/7', '21.43 EUR')]
>>> result.invoice.total, bill_subscription(sub, result.state, as_of=date(2026, 3, 1)).invoice
(Money('25.72', 'EUR'), None)
"""

from __future__ import annotations

import collections
import enum
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from subbill._convert import check_text, enum_of, to_tuple
from subbill.charges import OneTimeCharge, RecurringCharge
from subbill.discounts import Discount, DiscountTarget, apply_discounts
from subbill.errors import InvalidArgumentError
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    LineExplanation,
    LineKind,
    Payment,
)
from subbill.money import Money
from subbill.periods import BillingSchedule, Period, check_date
from subbill.proration import BillablePeriod, periods_over
from subbill.taxes import LineTax, TaxRate, TaxRounding, line_taxes, tax_breakdown

__all__ = [
    "BillableSubscription",
    "BillingResult",
    "BillingState",
    "NegativeBalancePolicy",
    "bill_run",
    "bill_subscription",
    "draft_invoice",
    "record_payment",
]


class NegativeBalancePolicy(enum.Enum):
    """What happens to a negative total (more credited than charged).

    Either way the document is a credit note. ``CREDIT_NOTE``: the customer is owed its
    amount (refund). ``CARRY_FORWARD``: its amount goes to the customer's credit balance,
    which later invoices use up before anything is due.
    """

    CREDIT_NOTE = "credit_note"
    CARRY_FORWARD = "carry_forward"


def _check_subscription(instance: BillableSubscription, _attribute: Any, _value: object) -> None:
    currency = instance.currency
    keys: set[str] = set()
    for charge in (*instance.charges, *instance.one_time):
        if not isinstance(charge, RecurringCharge | OneTimeCharge):
            raise InvalidArgumentError(f"charges contains {charge!r}, not a charge")
        if charge.currency != currency:
            raise InvalidArgumentError(
                f"charge {charge.code!r} is in {charge.currency}; subscription "
                f"{instance.id!r} bills in currency={currency}"
            )
        if charge.key in keys:
            raise InvalidArgumentError(
                f"two charges of subscription {instance.id!r} have key={charge.key!r}; "
                "a code may start only once on a given date"
            )
        keys.add(charge.key)
    for discount in instance.discounts:
        if discount.amount is not None and discount.amount.currency != currency:
            raise InvalidArgumentError(
                f"discount {discount.code!r} is in {discount.amount.currency}, not {currency}"
            )
    if instance.payment_terms_days < 0:
        raise InvalidArgumentError(f"payment_terms_days={instance.payment_terms_days} must be >= 0")


@attrs.frozen(kw_only=True)
class BillableSubscription:
    """What the billing engine needs of a subscription: its charges and billing rules.

    ``discounts`` are invoice discounts (whole invoice, or the products they name);
    discounts of one charge go on the charge.
    """

    id: str = attrs.field(validator=check_text)
    customer: str = attrs.field(validator=check_text)
    currency: str
    charges: tuple[RecurringCharge, ...] = attrs.field(default=(), converter=to_tuple)
    one_time: tuple[OneTimeCharge, ...] = attrs.field(default=(), converter=to_tuple)
    discounts: tuple[Discount, ...] = attrs.field(default=(), converter=to_tuple)
    payment_terms_days: int = 30
    tax_rounding: TaxRounding = attrs.field(
        default=TaxRounding.PER_LINE, validator=enum_of(TaxRounding)
    )
    negative_balance: NegativeBalancePolicy = attrs.field(
        default=NegativeBalancePolicy.CREDIT_NOTE,
        validator=[enum_of(NegativeBalancePolicy), _check_subscription],
    )


def _to_pairs(value: object) -> tuple[tuple[str, date], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    if not isinstance(items, Iterable):
        raise InvalidArgumentError(f"billed_through={value!r} must map charge keys to dates")
    return tuple(
        sorted((str(key), check_date(f"billed_through[{key!r}]", day)) for key, day in items)
    )


@attrs.frozen(kw_only=True)
class BillingState:
    """What has been billed for one subscription: enough to never bill anything twice.

    ``billed_through`` maps each recurring charge's key to the (exclusive) end of what has
    been billed; ``one_time_billed`` holds the keys of one-time charges invoiced;
    ``credit_balance`` what the customer has in credit (carried-forward credit notes,
    overpayments).
    """

    billed_through: tuple[tuple[str, date], ...] = attrs.field(default=(), converter=_to_pairs)
    one_time_billed: frozenset[str] = frozenset()
    credit_balance: Money | None = None

    def billed_through_of(self, key: str) -> date | None:
        """The date billing of charge ``key`` has reached (exclusive), or ``None``."""
        for name, day in self.billed_through:
            if name == key:
                return day
        return None

    def with_credit(self, amount: Money) -> BillingState:
        """Return the state with ``amount`` added to the customer's credit balance."""
        balance = amount if self.credit_balance is None else self.credit_balance + amount
        return attrs.evolve(self, credit_balance=balance)


@attrs.frozen(kw_only=True)
class BillingResult:
    """The invoice a subscription owes now (``None`` if nothing), and the state after it."""

    subscription: str
    invoice: Invoice | None
    state: BillingState


@attrs.frozen(kw_only=True)
class _Draft:
    """A line before discounts and taxes."""

    kind: LineKind
    code: str
    description: str
    charge_key: str
    period: Period | None
    quantity: Decimal
    unit_price: Money
    factor: Fraction
    amount: Money
    tax_rates: tuple[TaxRate, ...]
    line_discounts: tuple[Discount, ...]
    explanation: LineExplanation
    period_start: date
    origin: date
    # periods_since(start): billing periods from the one containing ``start`` to this line's.
    periods_since: Callable[[date], int]


def _applies(discount: Discount, draft: _Draft) -> bool:
    """Whether ``discount``'s duration covers ``draft``'s period.

    Durations count billing periods from the one that contains the discount's start
    (``starts_on``, or the charge's start): *once* is that first billing period, on a charge
    or on the invoice alike. Judged on periods, never on invoices, a duration gives the same
    lines however the billing is split over runs, and credits mirror what was paid.
    """
    start = discount.starts_on or draft.origin
    since = draft.periods_since(start)
    return discount.applies_in(
        period_start=draft.period_start, periods_since_start=since, origin=start
    )


def _recurring_drafts(
    charge: RecurringCharge, billed_through: date | None, as_of: date
) -> tuple[list[_Draft], date | None]:
    """Lines a charge owes by ``as_of`` beyond ``billed_through``, and the new billed-through."""
    schedule = charge.schedule
    in_advance = charge.timing.value == "in_advance"
    due = periods_over(
        charge.start,
        charge.end,
        schedule=schedule,
        basis=charge.basis,
        until=as_of,
        in_advance=in_advance,
    )
    pieces: list[tuple[BillablePeriod, bool]] = []
    for billable in due:
        if billed_through is None or billable.period.start >= billed_through:
            pieces.append((billable, False))
        elif billable.period.end > billed_through:
            # Partly billed already (the charge was extended): bill the rest of the period.
            pieces.append((billable.split(billed_through)[1], False))
    reached = billed_through
    if due:
        last = due[-1].period.end
        reached = last if reached is None else max(reached, last)
    if billed_through is not None and charge.end is not None and charge.end < billed_through:
        # Billed beyond the charge's (new) end: give back the unused part.
        pieces.extend(
            (credit, True)
            for credit in periods_over(
                max(charge.end, charge.start), billed_through, schedule=schedule, basis=charge.basis
            )
        )
    if reached is not None and charge.end is not None:
        reached = min(reached, charge.end)
    return [
        _recurring_draft(charge, schedule, billable, credit) for billable, credit in pieces
    ], reached


def _recurring_draft(
    charge: RecurringCharge, schedule: BillingSchedule, billable: BillablePeriod, credit: bool
) -> _Draft:
    sign = -1 if credit else 1
    amount = (charge.period_price * billable.factor * sign).rounded()
    if credit:
        kind, rule = LineKind.PRORATION_CREDIT, "unused_credit"
    elif billable.is_partial:
        kind, rule = LineKind.PRORATION_CHARGE, "partial_period"
    else:
        kind, rule = LineKind.RECURRING, "whole_period"
    days, period_days = billable.day_count
    index_of = schedule.index_of
    line_index = index_of(billable.period.start)
    explanation = LineExplanation(
        rule=rule,
        unit_price=charge.unit_price,
        quantity=charge.quantity,
        factor=billable.factor,
        period=billable.period,
        cycle=billable.cycle,
        days=days,
        period_days=period_days,
        basis=billable.basis,
        # Why the charge started mid-cycle explains its first piece, not every later period.
        reason=charge.reason if billable.period.start == charge.start else None,
    )
    draft = _Draft(
        kind=kind,
        code=charge.code,
        description=charge.description,
        charge_key=charge.key,
        period=billable.period,
        quantity=charge.quantity,
        unit_price=charge.unit_price,
        factor=billable.factor,
        amount=amount,
        tax_rates=charge.tax_rates,
        line_discounts=(),
        explanation=explanation,
        # Durations are judged on the billing period a piece belongs to: a credit is
        # discounted as the period it gives back was, whatever day the change fell on.
        period_start=billable.cycle.start,
        origin=charge.start,
        periods_since=lambda start: line_index - index_of(start),
    )
    return _with_line_discounts(draft, charge.discounts)


def _with_line_discounts(draft: _Draft, discounts: Sequence[Discount]) -> _Draft:
    chosen = tuple(discount for discount in discounts if _applies(discount, draft))
    return attrs.evolve(draft, line_discounts=chosen) if chosen else draft


def _one_time_draft(charge: OneTimeCharge) -> _Draft:
    amount = (charge.unit_price * charge.quantity).rounded()
    kind = LineKind.ADJUSTMENT if amount.is_negative() else LineKind.ONE_TIME
    due_on = charge.due_on
    draft = _Draft(
        kind=kind,
        code=charge.code,
        description=charge.description,
        charge_key=charge.key,
        period=None,
        quantity=charge.quantity,
        unit_price=charge.unit_price,
        factor=Fraction(1),
        amount=amount,
        tax_rates=charge.tax_rates,
        line_discounts=(),
        explanation=LineExplanation(
            rule="one_time",
            unit_price=charge.unit_price,
            quantity=charge.quantity,
            reason=charge.reason,
        ),
        period_start=due_on,
        origin=due_on,
        periods_since=lambda start: 0 if due_on >= start else -1,
    )
    return _with_line_discounts(draft, charge.discounts)


def _invoice_discount_codes(draft: _Draft, discounts: Sequence[Discount]) -> frozenset[str]:
    return frozenset(
        discount.code
        for discount in discounts
        if discount.covers(draft.code) and _applies(discount, draft)
    )


def _lines(
    drafts: Sequence[_Draft],
    invoice_discounts: Sequence[Discount],
    rounding: TaxRounding,
) -> tuple[list[InvoiceLine], Any]:
    targets = [
        DiscountTarget(
            amount=draft.amount,
            unit_price=draft.unit_price,
            quantity=draft.quantity,
            factor=draft.factor,
            product=draft.code,
            line_discounts=draft.line_discounts,
            invoice_discounts=_invoice_discount_codes(draft, invoice_discounts),
        )
        for draft in drafts
    ]
    active = [d for d in invoice_discounts if any(d.code in t.invoice_discounts for t in targets)]
    outcome = apply_discounts(targets, active)
    currency = drafts[0].amount.currency
    discounts = [outcome.line_total(i, currency=currency).rounded() for i in range(len(drafts))]
    taxes = line_taxes(
        [draft.amount - discount for draft, discount in zip(drafts, discounts, strict=True)],
        [draft.tax_rates for draft in drafts],
        rounding=rounding,
    )
    lines = [
        InvoiceLine(
            kind=draft.kind,
            code=draft.code,
            description=draft.description,
            charge_key=draft.charge_key,
            period=draft.period,
            quantity=draft.quantity,
            unit_price=draft.unit_price,
            factor=draft.factor,
            amount=draft.amount,
            discount=discount,
            tax_rates=draft.tax_rates,
            taxes=tax.taxes,
            base=tax.base,
            explanation=(
                attrs.evolve(draft.explanation, discounts=outcome.per_line[index])
                if outcome.per_line[index]
                else draft.explanation
            ),
        )
        for index, (draft, discount, tax) in enumerate(zip(drafts, discounts, taxes, strict=True))
    ]
    return lines, outcome


def draft_invoice(
    *,
    customer: str,
    currency: str,
    issued_on: date,
    lines: Iterable[InvoiceLine],
    due_on: date | None = None,
    subscription: str | None = None,
    discounts: Sequence[Any] = (),
    credit_applied: Money | None = None,
) -> Invoice:
    """Assemble a draft invoice from finished lines.

    Adds the per-rate tax breakdown, and makes the document a credit note when its total
    is negative.
    """
    check_date("issued_on", issued_on)
    items = tuple(lines)
    breakdown = tax_breakdown(
        [LineTax(base=line.base, taxes=line.taxes) for line in items], currency=currency
    )
    total = Money.total((line.total for line in items), currency=currency)
    return Invoice(
        customer=customer,
        currency=currency,
        issued_on=issued_on,
        due_on=due_on or issued_on,
        lines=items,
        subscription=subscription,
        discounts=tuple(discounts),
        taxes=breakdown,
        kind=DocumentKind.CREDIT_NOTE if total.is_negative() else DocumentKind.INVOICE,
        credit_applied=credit_applied,
    )


def bill_subscription(
    subscription: BillableSubscription, state: BillingState | None = None, *, as_of: date
) -> BillingResult:
    """Return the invoice ``subscription`` owes by ``as_of`` beyond ``state``, and the new state.

    Recurring charges bill their periods (in advance: those started by ``as_of``; in
    arrears: those ended), prorated where partial; a charge whose end moved before what was
    already billed gets a credit for the unused part; one-time charges due by ``as_of``
    bill once. Discounts apply in their documented order, then taxes. The invoice is a
    draft (no number yet: numbering is the caller's sequence).
    """
    check_date("as_of", as_of)
    if not isinstance(subscription, BillableSubscription):
        raise InvalidArgumentError(f"subscription={subscription!r} must be a BillableSubscription")
    state = BillingState() if state is None else state
    drafts: list[_Draft] = []
    reached: dict[str, date] = dict(state.billed_through)
    for charge in subscription.charges:
        charge_drafts, through = _recurring_drafts(
            charge, state.billed_through_of(charge.key), as_of
        )
        drafts.extend(charge_drafts)
        if through is not None:
            reached[charge.key] = through
    one_time_billed = set(state.one_time_billed)
    for one_time in subscription.one_time:
        if one_time.key not in one_time_billed and one_time.due_on <= as_of:
            drafts.append(_one_time_draft(one_time))
            one_time_billed.add(one_time.key)
    if not drafts:
        return BillingResult(subscription=subscription.id, invoice=None, state=state)
    lines, outcome = _lines(drafts, subscription.discounts, subscription.tax_rounding)
    currency = subscription.currency
    total = Money.total((line.total for line in lines), currency=currency)
    balance = state.credit_balance or Money.zero(currency)
    credit_applied = None
    if total.is_positive() and balance.is_positive():
        credit_applied = min(balance, total)
        balance -= credit_applied
    elif (
        total.is_negative() and subscription.negative_balance is NegativeBalancePolicy.CARRY_FORWARD
    ):
        balance -= total
    invoice = draft_invoice(
        customer=subscription.customer,
        currency=currency,
        issued_on=as_of,
        due_on=as_of + timedelta(days=subscription.payment_terms_days),
        lines=lines,
        subscription=subscription.id,
        discounts=outcome.applied,
        credit_applied=credit_applied,
    )
    new_state = BillingState(
        billed_through=reached,
        one_time_billed=frozenset(one_time_billed),
        credit_balance=None if balance.is_zero() and state.credit_balance is None else balance,
    )
    return BillingResult(subscription=subscription.id, invoice=invoice, state=new_state)


def _bill_one(item: Any, as_of: date) -> BillingResult:
    if isinstance(item, BillableSubscription):
        return bill_subscription(item, None, as_of=as_of)
    subscription, state = item
    return bill_subscription(subscription, state, as_of=as_of)


def _bill_chunk(chunk: Sequence[Any], as_of: date) -> list[BillingResult]:
    return [_bill_one(item, as_of) for item in chunk]


def bill_run(
    items: Iterable[Any],
    *,
    as_of: date,
    executor: Executor | None = None,
    chunk_size: int = 200,
    max_pending: int = 8,
) -> Iterator[BillingResult]:
    """Bill every subscription of ``items`` as of ``as_of``, streaming the results in order.

    ``items`` yields subscriptions, or ``(subscription, state)`` pairs; it is read lazily,
    so a generator of a million subscriptions is never held in memory. With an
    ``executor`` (e.g. a ``ProcessPoolExecutor``), chunks of ``chunk_size`` are billed in
    parallel, at most ``max_pending`` chunks ahead of the consumer; the results are the same
    as without it, in the same order.
    """
    check_date("as_of", as_of)
    if executor is None:
        for item in items:
            yield _bill_one(item, as_of)
        return
    if chunk_size < 1 or max_pending < 1:
        raise InvalidArgumentError(
            f"chunk_size={chunk_size} and max_pending={max_pending} must be >= 1"
        )
    iterator = iter(items)
    pending: collections.deque[Any] = collections.deque()
    while True:
        chunk = list(itertools.islice(iterator, chunk_size))
        if chunk:
            pending.append(executor.submit(_bill_chunk, chunk, as_of))
        if pending and (len(pending) >= max_pending or not chunk):
            yield from pending.popleft().result()
        if not chunk and not pending:
            return


def record_payment(
    invoice: Invoice, payment: Payment, state: BillingState
) -> tuple[Invoice, BillingState]:
    """Apply ``payment`` to ``invoice``; an overpayment goes to the customer's credit balance.

    Nothing is lost: what exceeds the amount due is credited in the returned state, and the
    next invoices use it up before anything is due.

    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="C", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("x", "X", Money("80", "EUR"))]).finalize(number="F-1")
    >>> paid, state = record_payment(invoice,
    ...     Payment(amount=Money("100", "EUR"), paid_on=date(2026, 3, 2)), BillingState())
    >>> paid.status.value, state.credit_balance
    ('paid', Money('20.00', 'EUR'))
    """
    applied = invoice.apply_payment(payment)
    if applied.overpayment.is_positive():
        state = state.with_credit(applied.overpayment)
    return applied.invoice, state

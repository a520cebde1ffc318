"""The customer portal (as Odoo's « My Odoo » portal shows it), as plain data.

What the portal shows a customer: quotes with their validity date, status and the amount
the customer pays on accepting (taxes included, from the same checkout as accepting), sales
orders, invoices labelled paid or not (and overdue) with the amount due, subscriptions with
their status, the number of apps bought, billing information and the payment method,
support tickets with their reference and status, and saved cards with an expired flag;
given a dunning policy and its history, what is overdue and the next step of each overdue
invoice, and a notice when a subscription's card expires before its next billing date
(:func:`card_expiry_notice`). Everything is computed from the values given and ``as_of``.

Every fact is typed (:class:`InvoiceLabel`, :class:`TicketStatus`, ``QuoteStatus``, …):
:func:`subbill.l10n.portal_text` turns an overview into French or English words.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any, Protocol, TypeVar

import attrs

from subbill._validate import check_items, check_line, check_text, enum_of, record_from
from subbill.billing import bill_subscription
from subbill.catalog import Catalog
from subbill.dunning import (
    DunningActionKind,
    DunningEvent,
    DunningPolicy,
    DunningStep,
    amount_due_on,
    next_step,
)
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import DocumentKind, Invoice, InvoiceStatus
from subbill.money import Money
from subbill.payments import Card, Wallet
from subbill.periods import Frequency, check_date
from subbill.quotes import Quote, QuoteStatus, SalesOrder, checkout
from subbill.subscriptions import Subscription, SubscriptionStatus

_T = TypeVar("_T")

__all__ = [
    "CardExpiryNotice",
    "CardRow",
    "InvoiceLabel",
    "InvoiceRow",
    "OrderRow",
    "OverdueRow",
    "PortalOverview",
    "QuoteRow",
    "SubscriptionRow",
    "Ticket",
    "TicketRow",
    "TicketStatus",
    "card_expiry_notice",
    "invoice_label",
    "portal_overview",
]


class TicketStatus(enum.Enum):
    """A support ticket's status."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class InvoiceLabel(enum.Enum):
    """What the portal says before an invoice's amount (« Payée », « En retard », …).

    Derived on a date by :func:`invoice_label`; it is a fact about the invoice as the
    customer sees it, not the invoice's own :class:`~subbill.invoices.InvoiceStatus`: an
    open invoice past its due date is ``OVERDUE``.
    """

    PAID = "paid"
    UNPAID = "unpaid"
    OVERDUE = "overdue"
    PARTIALLY_PAID = "partially_paid"
    CREDIT_NOTE = "credit_note"
    DRAFT = "draft"
    VOID = "void"


@attrs.frozen(kw_only=True)
class Ticket:
    """A support ticket: its reference (« # Ref »), subject, status and dates."""

    reference: str = attrs.field(validator=check_text)
    customer: str = attrs.field(validator=check_text)
    subject: str = attrs.field(validator=check_text)
    status: TicketStatus = attrs.field(validator=enum_of(TicketStatus))
    opened_on: date
    updated_on: date | None = None


@attrs.frozen(kw_only=True)
class QuoteRow:
    """A quote as listed: validity date (« Valide jusqu'au »), status, expired flag, amounts.

    ``amount`` is what the customer pays on accepting, taxes included: the checkout's
    total due on ``accepted_on`` (zero when every line starts later). ``next_payment`` and
    ``next_payment_on`` are the first later payment the quote shows (its recurring lines),
    ``None`` when there is none. ``accepted_on`` is the day the quote was accepted, else the
    day it would be: ``as_of``, or its validity date once it has expired.
    """

    id: str
    version: int
    valid_until: date
    status: QuoteStatus
    is_expired: bool
    amount: Money
    accepted_on: date
    next_payment: Money | None = None
    next_payment_on: date | None = None


@attrs.frozen(kw_only=True)
class OrderRow:
    """A sales order as listed."""

    id: str
    ordered_on: date
    items: int
    paid_now: Money


@attrs.frozen(kw_only=True)
class InvoiceRow:
    """An invoice as listed: the label before the amount says whether it is paid.

    ``label`` and ``amount_due`` are those of the portal's day, as its overdue list reads
    them: payments and credit notes dated after it are not counted. ``corrects`` is, for a
    credit note, the number of the invoice it corrects (paid or not), else ``None``. A
    credit note asks no payment: the portal shows it with no due date nor amount due
    (« — »), as the note itself does. ``credits_periods_of`` names, for an invoice whose
    credit lines credit periods earlier invoices billed (an upgrade), those invoices; for a
    credit note of periods several invoices billed (``corrects`` then ``None``), each.
    """

    number: str | None
    issued_on: date
    due_on: date
    total: Money
    amount_due: Money
    label: InvoiceLabel
    corrects: str | None = None
    credits_periods_of: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class SubscriptionRow:
    """A subscription: status, plan, apps or lines bought, next invoice, payment method.

    ``plan`` is ``None`` for a subscription of quoted lines; ``apps`` counts the modules
    switched on, ``lines`` the recurring quoted lines running (or about to start);
    ``next_billing`` is the next billing date after the day shown and ``next_amount`` the
    total (taxes included) of the invoice the engine will issue that day, ``None`` when
    nothing more will be billed. ``trial_ends_on`` is the day its trial ends (its first
    paid day) while the trial has not ended, else ``None``.
    """

    id: str
    status: SubscriptionStatus
    plan: str | None
    apps: int
    lines: int
    #: How often it bills: one frequency, or each of its quoted lines' own (in order).
    frequencies: tuple[Frequency, ...]
    next_billing: date | None
    next_amount: Money | None
    payment_method: str | None
    trial_ends_on: date | None = None


@attrs.frozen(kw_only=True)
class TicketRow:
    """A ticket as listed."""

    reference: str
    subject: str
    status: TicketStatus
    opened_on: date
    updated_on: date | None


@attrs.frozen(kw_only=True)
class CardRow:
    """A saved payment method: label, default flag, expired flag."""

    id: str
    label: str
    is_default: bool
    is_expired: bool


@attrs.frozen(kw_only=True)
class OverdueRow:
    """An overdue invoice: what remains due, how late, and the next dunning step.

    Overdue on the portal's day, read from the payments and credit notes dated by then (an
    invoice paid since was still overdue that day). ``next_step`` is the step the next run
    will take (:func:`subbill.dunning.next_step`: the most advanced step whose day has come
    and that no run took yet, shown on the portal's day, else the next step to come) and
    ``next_step_on`` its day; both None when every step was taken, and for a late-payment
    costs document, listed as owed but never dunned. ``next_actions`` is what that run will
    do (:attr:`subbill.dunning.NextStep.actions`: no suspension nor cancellation of a
    subscription ended by then), empty when there is no next step.
    """

    number: str
    due_on: date
    amount_due: Money
    days_late: int
    next_step: DunningStep | None
    next_step_on: date | None
    next_actions: tuple[DunningActionKind, ...]


@attrs.frozen(kw_only=True)
class CardExpiryNotice:
    """The card of a subscription expires before its next billing date: ask for a new one.

    ``expires_on`` is the card's last valid day, ``next_billing`` the billing date it will
    no longer pay; ``card`` its label (« Visa •••• 4242 (02/2027) »).
    """

    subscription: str
    method: str
    card: str
    expires_on: date
    next_billing: date


@attrs.frozen(kw_only=True)
class PortalOverview:
    """Everything the portal shows one customer on ``as_of``.

    ``overdue`` (given a dunning policy) and ``card_notices`` are empty when there is
    nothing to say.
    """

    customer: str
    as_of: date
    quotes: tuple[QuoteRow, ...]
    orders: tuple[OrderRow, ...]
    invoices: tuple[InvoiceRow, ...]
    subscriptions: tuple[SubscriptionRow, ...]
    tickets: tuple[TicketRow, ...]
    payment_methods: tuple[CardRow, ...]
    overdue: tuple[OverdueRow, ...] = ()
    card_notices: tuple[CardExpiryNotice, ...] = ()


def invoice_label(invoice: Invoice, *, as_of: date) -> InvoiceLabel:
    """The label shown before an invoice's amount on ``as_of``: paid, unpaid, overdue, ….

    The first that applies, in this order: a credit note; a draft; a void invoice; paid;
    overdue (an open or partially paid invoice past its due date: an invoice both partially
    paid and overdue is ``OVERDUE``); partially paid; unpaid. The due date itself is not
    overdue yet. Read on ``as_of``, like the portal's overdue list: payments and credit
    notes dated after it are not counted (:func:`~subbill.dunning.amount_due_on`), so an
    invoice paid on 2 April is overdue on 30 March.

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="C", currency="EUR", issued_on=date(2026, 3, 1),
    ...     due_on=date(2026, 3, 31), lines=[one_time_line("x", "X", Money("10", "EUR"))]
    ... ).finalize(number="F-1")
    >>> [invoice_label(invoice, as_of=d).name for d in (date(2026, 3, 31), date(2026, 4, 1))]
    ['UNPAID', 'OVERDUE']
    """
    if not isinstance(invoice, Invoice):
        raise InvalidTypeError("invoice", invoice, "an Invoice")
    check_date("as_of", as_of)
    if invoice.kind is DocumentKind.CREDIT_NOTE:
        return InvoiceLabel.CREDIT_NOTE
    if invoice.status is InvoiceStatus.DRAFT:
        return InvoiceLabel.DRAFT
    if invoice.status is InvoiceStatus.VOID:
        return InvoiceLabel.VOID
    if not amount_due_on(invoice, as_of).is_positive():
        return InvoiceLabel.PAID
    if invoice.due_on < as_of:
        return InvoiceLabel.OVERDUE
    if any(payment.paid_on <= as_of for payment in invoice.payments):
        return InvoiceLabel.PARTIALLY_PAID
    return InvoiceLabel.UNPAID


def _amount_due(invoice: Invoice, as_of: date) -> Money:
    """What the invoice row shows as due on ``as_of`` (the date of the overdue list)."""
    if invoice.kind is DocumentKind.INVOICE and invoice.status is not InvoiceStatus.DRAFT:
        return amount_due_on(invoice, as_of)
    return invoice.amount_due


def _accepting_day(quote: Quote, as_of: date) -> date:
    """The day the quote was accepted, else the last day it can be: ``as_of`` or its validity."""
    if quote.status is QuoteStatus.ACCEPTED and quote.decided_on is not None:
        return quote.decided_on
    return min(as_of, quote.valid_until)


def _quote_row(quote: Quote, as_of: date) -> QuoteRow:
    """A quote's row; its amounts come from :func:`~subbill.quotes.checkout`, as on accepting.

    The engine prices the lines (quantities, per-unit and quote discounts, taxes, rounded
    once): the portal never re-prices a quote by hand.
    """
    day = _accepting_day(quote, as_of)
    amount = Money.zero(quote.currency)
    next_payment = next_payment_on = None
    if quote.lines:  # a draft may have none yet: nothing to pay
        paid = checkout(quote, paid_on=day)
        if paid.due_now is not None:
            amount = paid.due_now.total
        if paid.future and not quote.is_expired(as_of=as_of):  # an expired one is not due
            next_payment, next_payment_on = paid.future[0].total, paid.future[0].issued_on
    return record_from(
        QuoteRow,
        quote,
        status=quote.status_on(as_of=as_of),
        is_expired=quote.is_expired(as_of=as_of),
        amount=amount,
        accepted_on=day,
        next_payment=next_payment,
        next_payment_on=next_payment_on,
    )


def card_expiry_notice(
    subscription: Subscription,
    wallet: Wallet,
    *,
    as_of: date,
    catalog: Catalog | None = None,
) -> CardExpiryNotice | None:
    """A notice when ``subscription``'s card expires before its next billing date; else None.

    None too when the subscription bills no more, its payment method is not a card of
    ``wallet``, or the card is valid on the next billing date. ``catalog`` is needed for a
    catalog subscription's next billing date (as :meth:`Subscription.next_billing_date`).

    >>> from subbill.catalog import Plan
    >>> from subbill.periods import MONTHLY
    >>> catalog = Catalog(currency="EUR", plans=[
    ...     Plan(code="solo", name="Solo", rank=1, prices={MONTHLY: Money("10", "EUR")})])
    >>> sub = Subscription.create(id="S1", customer="C", catalog=catalog, plan="solo",
    ...                           start=date(2027, 1, 15), payment_method="pm_visa")
    >>> wallet = Wallet(customer="C", methods=[Card(id="pm_visa", brand="Visa",
    ...     last4="4242", exp_month=2, exp_year=2027)], default="pm_visa")
    >>> card_expiry_notice(sub, wallet, as_of=date(2027, 2, 20), catalog=catalog)
    CardExpiryNotice(subscription='S1', method='pm_visa', card='Visa •••• 4242 (02/2027)', \
expires_on=datetime.date(2027, 2, 28), next_billing=datetime.date(2027, 3, 15))
    >>> card_expiry_notice(sub, wallet, as_of=date(2027, 1, 20), catalog=catalog) is None
    True
    """
    if not isinstance(subscription, Subscription):
        raise InvalidTypeError("subscription", subscription, "a Subscription")
    if not isinstance(wallet, Wallet):
        raise InvalidTypeError("wallet", wallet, "a Wallet")
    check_date("as_of", as_of)
    if catalog is not None and not isinstance(catalog, Catalog):
        raise InvalidTypeError("catalog", catalog, "a Catalog or None")
    method = next((m for m in wallet.methods if m.id == subscription.payment_method), None)
    if not isinstance(method, Card):
        return None
    next_billing = subscription.next_billing_date(as_of, catalog)
    if next_billing is None or not method.is_expired(as_of=next_billing):
        return None
    return CardExpiryNotice(
        subscription=subscription.id,
        method=method.id,
        card=method.label,
        expires_on=method.valid_through,
        next_billing=next_billing,
    )


def _overdue_row(
    invoice: Invoice,
    policy: DunningPolicy,
    history: tuple[DunningEvent, ...],
    as_of: date,
    ends_on: Mapping[str, date],
) -> OverdueRow:
    upcoming = next_step(invoice, policy=policy, history=history, as_of=as_of, ends_on=ends_on)
    assert invoice.number is not None  # noqa: S101  (an overdue invoice is numbered)
    return OverdueRow(
        number=invoice.number,
        due_on=invoice.due_on,
        amount_due=amount_due_on(invoice, as_of),
        days_late=(as_of - invoice.due_on).days,
        next_step=None if upcoming is None else upcoming.step,
        next_step_on=None if upcoming is None else upcoming.on,
        next_actions=() if upcoming is None else upcoming.actions,
    )


def _subscription_row(  # noqa: PLR0917  (the portal's own helper, called once)
    subscription: Subscription,
    catalog: Catalog | None,
    wallet: Wallet | None,
    invoices: Iterable[Invoice],
    as_of: date,
    dunning: tuple[DunningEvent, ...],
) -> SubscriptionRow:
    status = subscription.status(as_of=as_of, invoices=invoices, dunning=dunning)
    day = max(as_of, subscription.start)
    plan = subscription.to_charge_plan(catalog)
    next_billing = subscription.next_billing_date(as_of, catalog)
    next_amount = None
    if next_billing is not None:
        # Ask the engine: what billing up to today leaves, then the invoice of that day.
        state = bill_subscription(plan, as_of=as_of).state
        upcoming = bill_subscription(plan, state, as_of=next_billing).invoice
        next_amount = None if upcoming is None else upcoming.total
    method = subscription.payment_method
    label = method
    if wallet is not None and method is not None:
        saved = {m.id: m for m in wallet.methods}
        if method in saved:
            label = saved[method].label
    return SubscriptionRow(
        id=subscription.id,
        status=status,
        plan=(
            subscription.current_plan(catalog, on=day).name
            if subscription.plans and catalog is not None
            else None
        ),
        apps=len(subscription.modules_on(day)),
        lines=sum(
            1
            for line in subscription.lines
            if line.is_recurring and (line.end is None or day < line.end)
        ),
        frequencies=tuple(
            dict.fromkeys(
                charge.frequency
                for charge in plan.charges
                if charge.end is None or day < charge.end
            )
        )
        or (subscription.frequency,),
        next_billing=next_billing,
        next_amount=next_amount,
        payment_method=label,
        trial_ends_on=(
            None
            if subscription.trial_ends_on is None or as_of >= subscription.trial_ends_on
            else subscription.trial_ends_on
        ),
    )


def portal_overview(
    customer: str,
    *,
    catalog: Catalog | None = None,
    quotes: Iterable[Quote] = (),
    orders: Iterable[SalesOrder] = (),
    invoices: Iterable[Invoice] = (),
    subscriptions: Iterable[Subscription] = (),
    tickets: Iterable[Ticket] = (),
    wallet: Wallet | None = None,
    dunning_policy: DunningPolicy | None = None,
    dunning: Iterable[DunningEvent] = (),
    as_of: date,
) -> PortalOverview:
    """What the portal shows ``customer`` on ``as_of``; other customers' items are left out.

    ``catalog`` names the plans of catalog subscriptions; it may be left out when the
    customer's subscriptions hold quoted lines only (bought from a quote or payment link).
    ``dunning`` (the dunning history) makes a suspended subscription show as suspended;
    with ``dunning_policy`` too, the overdue invoices are listed with their next step and
    what the run will do then (no suspension nor cancellation of a subscription of
    ``subscriptions`` that has ended by the step's day: dunning does neither,
    :func:`subbill.dunning.next_step`'s ``ends_on``).
    With a ``wallet``, a subscription whose card expires before its next billing date gets
    a notice (:func:`card_expiry_notice`).

    Quotes, orders and invoices are listed newest first, tickets by opening date (newest
    first), subscriptions and cards in the order given. Every argument is checked before
    anything is computed: an item of the wrong kind is an
    :class:`~subbill.errors.InvalidTypeError` naming it (``quotes[1]=…``).
    """
    check_date("as_of", as_of)
    check_line("customer", customer)
    if catalog is not None and not isinstance(catalog, Catalog):
        raise InvalidTypeError("catalog", catalog, "a Catalog or None")
    if wallet is not None and not isinstance(wallet, Wallet):
        raise InvalidTypeError("wallet", wallet, "a Wallet or None")
    all_quotes = _items("quotes", quotes, Quote)
    all_orders = _items("orders", orders, SalesOrder)
    all_invoices = _items("invoices", invoices, Invoice)
    all_subscriptions = _items("subscriptions", subscriptions, Subscription)
    all_tickets = _items("tickets", tickets, Ticket)
    if dunning_policy is not None and not isinstance(dunning_policy, DunningPolicy):
        raise InvalidTypeError("dunning_policy", dunning_policy, "a DunningPolicy or None")
    history = _items("dunning", dunning, DunningEvent)
    own_invoices = [i for i in all_invoices if i.customer == customer]
    own_subscriptions = [s for s in all_subscriptions if s.customer == customer]
    # what dunning will neither suspend nor cancel: a subscription from the day it ends
    ends_on = {s.id: s.ends_on for s in all_subscriptions if s.ends_on is not None}
    if catalog is None and any(s.plans for s in all_subscriptions if s.customer == customer):
        raise InvalidArgumentError(
            "catalog=None: the customer has a catalog subscription (a plan); pass the catalog "
            "(only subscriptions of quoted lines are shown without one)"
        )
    return PortalOverview(
        customer=customer,
        as_of=as_of,
        quotes=tuple(
            _quote_row(q, as_of)
            for q in _newest_first(all_quotes, customer, lambda q: q.valid_until)
        ),
        orders=tuple(
            record_from(OrderRow, o, items=len(o.lines))
            for o in _newest_first(all_orders, customer, lambda o: o.ordered_on)
        ),
        invoices=tuple(
            record_from(
                InvoiceRow,
                i,
                label=invoice_label(i, as_of=as_of),
                amount_due=_amount_due(i, as_of),
            )
            for i in _newest_first(own_invoices, customer, lambda i: (i.issued_on, i.number or ""))
        ),
        subscriptions=tuple(
            _subscription_row(s, catalog, wallet, own_invoices, as_of, history)
            for s in own_subscriptions
        ),
        tickets=tuple(
            record_from(TicketRow, t)
            for t in _newest_first(all_tickets, customer, lambda t: t.opened_on)
        ),
        payment_methods=_cards(wallet, customer, as_of),
        overdue=(
            ()
            if dunning_policy is None
            else tuple(
                _overdue_row(i, dunning_policy, history, as_of, ends_on)
                for i in sorted(own_invoices, key=lambda i: (i.due_on, i.number or ""))
                if i.number is not None
                and i.due_on < as_of
                and amount_due_on(i, as_of).is_positive()
            )
        ),
        card_notices=(
            ()
            if wallet is None or wallet.customer != customer
            else tuple(
                notice
                for s in own_subscriptions
                if (notice := card_expiry_notice(s, wallet, as_of=as_of, catalog=catalog))
                is not None
            )
        ),
    )


def _items(name: str, values: object, kind: type[_T]) -> tuple[_T, ...]:
    """``values`` as a tuple of ``kind``, or an error naming the argument or the item."""
    return check_items(name, values, kind, collection=f"an iterable of {kind.__name__}s")


class _Owned(Protocol):
    @property
    def customer(self) -> str: ...


_O = TypeVar("_O", bound=_Owned)


def _newest_first(items: Iterable[_O], customer: str, day: Callable[[_O], Any]) -> list[_O]:
    """The items of ``customer``, newest first by ``day`` (in the order given on one day)."""
    return sorted((item for item in items if item.customer == customer), key=day, reverse=True)


def _cards(wallet: Wallet | None, customer: str, as_of: date) -> tuple[CardRow, ...]:
    if wallet is None or wallet.customer != customer:
        return ()
    return tuple(
        record_from(
            CardRow, m, is_default=wallet.default == m.id, is_expired=m.is_expired(as_of=as_of)
        )
        for m in wallet.methods
    )

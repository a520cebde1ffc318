"""The customer portal (seed 004, « My Odoo »), as plain data.

What the portal shows a customer: quotes with their validity date and an expired flag,
sales orders, invoices labelled paid or not (and overdue) with the amount due,
subscriptions with their status, the number of apps bought, billing information and the
payment method, support tickets with their reference and status, and saved cards with an
expired flag. Everything is computed from the values given and ``as_of``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

import attrs

from subbill._convert import check_line, check_text, enum_of
from subbill.billing import bill_subscription
from subbill.catalog import Catalog
from subbill.errors import InvalidTypeError
from subbill.invoices import DocumentKind, Invoice, InvoiceStatus
from subbill.money import Money
from subbill.payments import Wallet
from subbill.periods import Frequency, check_date
from subbill.quotes import Quote, QuoteStatus, SalesOrder
from subbill.subscriptions import Subscription, SubscriptionStatus

__all__ = [
    "CardRow",
    "InvoiceRow",
    "OrderRow",
    "PortalOverview",
    "QuoteRow",
    "SubscriptionRow",
    "Ticket",
    "TicketRow",
    "TicketStatus",
    "invoice_label",
    "portal_overview",
]


class TicketStatus(enum.Enum):
    """A support ticket's status."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


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
    """A quote as listed: validity date (« Valide jusqu'au »), status, expired flag, amount."""

    id: str
    version: int
    valid_until: date
    status: QuoteStatus
    is_expired: bool
    amount: Money


@attrs.frozen(kw_only=True)
class OrderRow:
    """A sales order as listed."""

    id: str
    ordered_on: date
    items: int
    paid_now: Money


@attrs.frozen(kw_only=True)
class InvoiceRow:
    """An invoice as listed: the label before the amount says whether it is paid."""

    number: str | None
    issued_on: date
    due_on: date
    total: Money
    amount_due: Money
    label: str  # paid, unpaid, overdue, partially_paid, credit_note, void, draft


@attrs.frozen(kw_only=True)
class SubscriptionRow:
    """A subscription: status, plan, apps or lines bought, next invoice, payment method.

    ``plan`` is ``None`` for a subscription of quoted lines; ``apps`` counts the modules
    switched on, ``lines`` the recurring quoted lines running (or about to start);
    ``next_billing`` is the next billing date after the day shown and ``next_amount`` the
    total (taxes included) of the invoice the engine will issue that day, ``None`` when
    nothing more will be billed.
    """

    id: str
    status: SubscriptionStatus
    plan: str | None
    apps: int
    lines: int
    frequency: Frequency
    next_billing: date | None
    next_amount: Money | None
    payment_method: str | None


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
class PortalOverview:
    """Everything the portal shows one customer on ``as_of``."""

    customer: str
    as_of: date
    quotes: tuple[QuoteRow, ...]
    orders: tuple[OrderRow, ...]
    invoices: tuple[InvoiceRow, ...]
    subscriptions: tuple[SubscriptionRow, ...]
    tickets: tuple[TicketRow, ...]
    payment_methods: tuple[CardRow, ...]


def invoice_label(invoice: Invoice, *, as_of: date) -> str:
    """The label shown before an invoice's amount: paid, unpaid, overdue, ….

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="C", currency="EUR", issued_on=date(2026, 3, 1),
    ...     due_on=date(2026, 3, 31), lines=[one_time_line("x", "X", Money("10", "EUR"))]
    ... ).finalize(number="F-1")
    >>> [invoice_label(invoice, as_of=d) for d in (date(2026, 3, 31), date(2026, 4, 1))]
    ['unpaid', 'overdue']
    """
    if invoice.kind is DocumentKind.CREDIT_NOTE:
        return "credit_note"
    if invoice.status is InvoiceStatus.DRAFT:
        return "draft"
    if invoice.status is InvoiceStatus.VOID:
        return "void"
    if invoice.status is InvoiceStatus.PAID:
        return "paid"
    if invoice.is_overdue(as_of=as_of):
        return "overdue"
    if invoice.status is InvoiceStatus.PARTIALLY_PAID:
        return "partially_paid"
    return "unpaid"


def _quote_amount(quote: Quote) -> Money:
    return Money.total(
        ((line.unit_price * line.quantity).rounded() for line in quote.lines),
        currency=quote.currency,
    )


def _subscription_row(
    subscription: Subscription,
    catalog: Catalog | None,
    wallet: Wallet | None,
    invoices: Iterable[Invoice],
    as_of: date,
) -> SubscriptionRow:
    status = subscription.status(as_of=as_of, invoices=invoices)
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
        frequency=subscription.frequency,
        next_billing=next_billing,
        next_amount=next_amount,
        payment_method=label,
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
    as_of: date,
) -> PortalOverview:
    """What the portal shows ``customer`` on ``as_of``; other customers' items are left out.

    Quotes, orders and invoices are listed newest first, tickets by opening date (newest
    first), subscriptions and cards in the order given.
    """
    check_date("as_of", as_of)
    check_line("customer", customer)
    if wallet is not None and not isinstance(wallet, Wallet):
        raise InvalidTypeError("wallet", wallet, "a Wallet or None")
    own_invoices = [i for i in invoices if i.customer == customer]
    return PortalOverview(
        customer=customer,
        as_of=as_of,
        quotes=tuple(
            QuoteRow(
                id=q.id,
                version=q.version,
                valid_until=q.valid_until,
                status=q.status_on(as_of),
                is_expired=q.is_expired(as_of=as_of),
                amount=_quote_amount(q),
            )
            for q in sorted(
                (q for q in quotes if q.customer == customer),
                key=lambda q: q.valid_until,
                reverse=True,
            )
        ),
        orders=tuple(
            OrderRow(id=o.id, ordered_on=o.ordered_on, items=len(o.lines), paid_now=o.paid_now)
            for o in sorted(
                (o for o in orders if o.customer == customer),
                key=lambda o: o.ordered_on,
                reverse=True,
            )
        ),
        invoices=tuple(
            InvoiceRow(
                number=i.number,
                issued_on=i.issued_on,
                due_on=i.due_on,
                total=i.total,
                amount_due=i.amount_due,
                label=invoice_label(i, as_of=as_of),
            )
            for i in sorted(own_invoices, key=lambda i: (i.issued_on, i.number or ""), reverse=True)
        ),
        subscriptions=tuple(
            _subscription_row(s, catalog, wallet, own_invoices, as_of)
            for s in subscriptions
            if s.customer == customer
        ),
        tickets=tuple(
            TicketRow(
                reference=t.reference,
                subject=t.subject,
                status=t.status,
                opened_on=t.opened_on,
                updated_on=t.updated_on,
            )
            for t in sorted(
                (t for t in tickets if t.customer == customer),
                key=lambda t: t.opened_on,
                reverse=True,
            )
        ),
        payment_methods=_cards(wallet, customer, as_of),
    )


def _cards(wallet: Wallet | None, customer: str, as_of: date) -> tuple[CardRow, ...]:
    if wallet is None or wallet.customer != customer:
        return ()
    return tuple(
        CardRow(
            id=m.id,
            label=m.label,
            is_default=wallet.default == m.id,
            is_expired=m.is_expired(as_of=as_of),
        )
        for m in wallet.methods
    )

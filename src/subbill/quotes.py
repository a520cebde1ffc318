"""Quotes and payment links: one-time and recurring lines, checkout, purchase, lifecycle.

As HubSpot's payment links (recurring payments that start in the future) and the Odoo
portal's quotes sell them.
A recurring line has a billing frequency and a :class:`~subbill.periods.BillingStart`
(immediately, a custom date, N days or N months after payment). :func:`checkout` says what
the buyer pays now and what later; :func:`purchase` what exists afterwards.

The discount rules of the seed:

- a **one-time** discount (duration *once*) applies only to the items due at checkout, never
  to a post-dated recurring line; a per-unit discount on that line is the way to discount it;
- if the buyer pays after a line's billing start date, that line is due at checkout, so a
  one-time discount then reaches the first instalment of the subscription;
- a percentage one-time discount is spread over the lines due now (``allocate``).

>>> setup = LineItem(code="install", name="Installation", unit_price=Money("500", "EUR"))
>>> upkeep = LineItem(code="upkeep", name="Maintenance", unit_price=Money("40", "EUR"),
...                   frequency=MONTHLY, billing_start=BillingStart.after_months(1))
>>> result = checkout(PaymentLink(id="L1", currency="EUR", lines=(setup, upkeep)),
...                   paid_on=date(2026, 1, 15), horizon=date(2026, 4, 15))
>>> result.due_now.total
Money('500.00', 'EUR')
>>> [(str(p.issued_on), str(p.total)) for p in result.future]
[('2026-02-15', '40.00 EUR'), ('2026-03-15', '40.00 EUR'), ('2026-04-15', '40.00 EUR')]
"""

from __future__ import annotations

import difflib
import enum
import itertools
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Self, cast

import attrs

from subbill._structure import (
    Currency,
    Positive,
    Price,
    Problems,
    Quantity,
    TaxRates,
    Text,
    structure,
)
from subbill._validate import (
    check_count,
    check_instance,
    check_line,
    check_payment_reference,
    check_text,
    enum_of,
    instance_of,
    one_line,
    to_tuple,
)
from subbill.billing import BillingState, BillingTerms, ChargePlan, bill_subscription
from subbill.charges import OneTimeCharge, RecurringCharge, to_quantity
from subbill.discounts import (
    Discount,
    DiscountDocument,
    Once,
    read_discount,
    read_discounts,
)
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import InvalidTransitionError, Invoice, Payment
from subbill.metering import ScheduledUsage, UsageCharge
from subbill.money import Money, read_currency
from subbill.periods import (
    AfterMonths,
    AnyBillingStart,
    BillingStart,
    Frequency,
    add_months,
    check_date,
)
from subbill.subscriptions import (
    QuotedLine,
    Subscription,
    Trial,
    TrialAnchor,
    check_usage_line,
)
from subbill.taxes import TaxRate

__all__ = [
    "Checkout",
    "LineItem",
    "PaymentLink",
    "Purchase",
    "Quote",
    "QuoteStatus",
    "SalesOrder",
    "checkout",
    "purchase",
]


def _check_line(instance: LineItem, _attribute: Any, _value: object) -> None:
    check_line("code", instance.code)
    check_line("name", instance.name)
    if instance.usage is not None:
        check_instance("usage", instance.usage, UsageCharge)
        check_usage_line(instance, instance.usage)
    else:
        check_instance("unit_price", instance.unit_price, Money)
    if instance.end is not None:
        check_date("end", instance.end)
    for discount in instance.discounts:
        if not isinstance(discount, Discount) or not discount.is_per_unit:
            raise InvalidArgumentError(
                f"line {instance.code!r}: discounts={discount!r} must be per-unit discounts "
                "(Discount.per_unit_percent_off / per_unit_amount_off); quote-level "
                "discounts go on the quote"
            )
    if instance.frequency is None:
        if instance.payments is not None or instance.end is not None:
            raise InvalidArgumentError(
                f"line {instance.code!r} is one-time: payments= and end= need a frequency="
            )
        if instance.billing_start is not None:
            raise InvalidArgumentError(
                f"line {instance.code!r} is one-time: billing_start= needs a frequency="
            )
    if instance.payments is not None:
        check_count("payments", instance.payments, minimum=1)
    if instance.payments is not None and instance.end is not None:
        raise InvalidArgumentError(f"line {instance.code!r}: give payments= or end=, not both")


@attrs.frozen(kw_only=True)
class LineItem:
    """A product line of a quote or payment link.

    One-time when ``frequency`` is ``None``; otherwise recurring, billed every period from
    ``billing_start`` (default: immediately at payment), for ``payments`` periods or until
    ``end`` (else until cancelled). ``discounts`` are per-unit discounts of this line.

    A **usage line** has a ``usage`` charge (of the line's code) instead of a unit price:
    nothing of it is due at checkout; every period of its own cycle from ``billing_start``
    is billed in arrears on the usage recorded, with the charge's taxes.

    >>> from subbill.metering import Aggregation, Metric, PerUnit
    >>> calls = UsageCharge(code="api", description="Appels API", currency="EUR",
    ...     metric=Metric(code="api_calls", aggregation=Aggregation.SUM),
    ...     model=PerUnit(unit_price=Money("0.01", "EUR")))
    >>> LineItem(code="api", name="Appels API", usage=calls, frequency=MONTHLY).is_usage
    True
    >>> LineItem(code="api", name="Appels API", usage=calls)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: line 'api' has a usage charge but no frequency: \
usage is billed in arrears every period (give frequency=)
    """

    code: str
    name: str
    #: The price of one unit (``None`` for a usage line only).
    unit_price: Money | None = None
    quantity: Decimal = attrs.field(default=Decimal(1), converter=to_quantity)
    frequency: Frequency | None = attrs.field(
        default=None,
        validator=instance_of(Frequency, optional=True),
    )
    billing_start: AnyBillingStart | None = attrs.field(
        default=None, validator=instance_of(BillingStart, optional=True)
    )
    payments: int | None = None
    end: date | None = None
    discounts: tuple[Discount, ...] = attrs.field(default=(), converter=to_tuple)
    tax_rates: tuple[TaxRate, ...] = attrs.field(default=(), converter=to_tuple)
    #: What a usage line bills, in arrears (``None``: a line of a unit price).
    usage: UsageCharge | None = None

    def __attrs_post_init__(self) -> None:
        _check_line(self, None, None)  # the whole line, checked once

    @property
    def is_recurring(self) -> bool:
        """True for a recurring line (a usage line too)."""
        return self.frequency is not None

    @property
    def is_usage(self) -> bool:
        """True for a usage line (billed in arrears on what is used)."""
        return self.usage is not None

    @property
    def currency(self) -> str:
        """The currency of the line's price (or of its usage charge)."""
        usage = self.usage
        return usage.currency if usage is not None else cast(Money, self.unit_price).currency

    def first_billing_date(self, *, paid_on: date) -> date:
        """When the line is first billed for a payment on ``paid_on``."""
        if self.billing_start is None:
            return check_date("paid_on", paid_on)
        return self.billing_start.resolve(paid_on=paid_on)

    def billing_day(self, *, paid_on: date) -> int | None:
        """The day of the month billing falls on (``None``: the first billing date's day).

        « N months after payment » keeps the payment's day of the month: paid on 31 January,
        billed on 28 February, then 31 March — not the 28th of every month.
        """
        if not isinstance(self.billing_start, AfterMonths):
            return None
        if self.frequency is None or not self.frequency.is_month_based:
            return None
        return paid_on.day

    def resolve(self, *, paid_on: date) -> QuotedLine:
        """The line as bought on ``paid_on``: its dates fixed, ready for a subscription.

        >>> seo = LineItem(code="seo", name="SEO", unit_price=Money("300", "EUR"),
        ...                frequency=MONTHLY, billing_start=BillingStart.after_months(6))
        >>> line = seo.resolve(paid_on=date(2026, 8, 31))
        >>> line.start, line.billing_day, line.end
        (datetime.date(2027, 2, 28), 31, None)
        """
        return QuotedLine(
            code=self.code,
            name=self.name,
            unit_price=self.unit_price,
            quantity=self.quantity,
            frequency=self.frequency,
            start=self.first_billing_date(paid_on=paid_on),
            end=self.term_end(paid_on=paid_on),
            billing_day=self.billing_day(paid_on=paid_on),
            discounts=self.discounts,
            tax_rates=self.tax_rates,
            usage=self.usage,
        )

    def term_end(self, *, paid_on: date) -> date | None:
        """The end of a finite term (exclusive), or ``None`` when it runs until cancelled."""
        if self.frequency is None:
            return None
        if self.payments is not None:
            return self.frequency.advance(
                self.first_billing_date(paid_on=paid_on),
                self.payments,
                billing_day=self.billing_day(paid_on=paid_on),
            )
        return self.end


def _check_lines(instance: Any, _attribute: Any, lines: tuple[LineItem, ...]) -> None:
    currency = instance.currency
    codes = set()
    for index, line in enumerate(lines):
        if not isinstance(line, LineItem):
            raise InvalidTypeError(f"lines[{index}]", line, "a LineItem")
        if line.currency != currency:
            raise InvalidArgumentError(
                f"line {line.code!r} is in {line.currency}, not currency={currency}"
            )
        if line.code in codes:
            raise InvalidArgumentError(f"two lines have code={line.code!r}; codes must differ")
        codes.add(line.code)


def _currency(value: object) -> str:
    return read_currency(value)


def _check_offer_discounts(instance: Any, _attribute: Any, discounts: tuple[Discount, ...]) -> None:
    codes = {line.code for line in instance.lines}
    for index, discount in enumerate(discounts):
        if not isinstance(discount, Discount):
            raise InvalidTypeError(f"discounts[{index}]", discount, "a Discount")
        unknown = sorted(set(discount.applies_to or ()) - codes)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(codes), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; lines: {sorted(codes)}"
            raise InvalidArgumentError(
                f"discount {discount.code!r}: applies_to names {unknown[0]!r}, which is not "
                f"a line code{hint}"
            )
        if discount.amount is not None and discount.amount.currency != instance.currency:
            raise InvalidArgumentError(
                f"discount {discount.code!r} is in {discount.amount.currency}, not "
                f"currency={instance.currency}"
            )


def _check_offer_trial(instance: Any, _attribute: Any, trial: object) -> None:
    if trial is None:
        return
    check_instance("trial", trial, Trial)
    if not any(line.is_recurring for line in instance.lines):
        raise InvalidArgumentError(
            f"trial={trial!r}: {type(instance).__name__} {instance.id!r} has no recurring line "
            "for a trial to make free"
        )


def _check_terms_days(_instance: Any, _attribute: Any, value: object) -> None:
    BillingTerms(payment_terms_days=cast(int, value))  # checks it and names it


def _a_date(_instance: Any, attribute: Any, value: Any) -> None:
    check_date(attribute.name, value)


def _a_date_or_none(_instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        check_date(attribute.name, value)


def _check_version(_instance: Any, attribute: Any, value: Any) -> None:
    check_count(attribute.name, value, minimum=1)


@attrs.frozen(kw_only=True)
class PaymentLink:
    """A payment link: lines and discounts, paid by whoever opens it."""

    id: str = attrs.field(validator=check_text)
    currency: str = attrs.field(converter=_currency)
    lines: tuple[LineItem, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_lines
    )
    discounts: tuple[Discount, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_offer_discounts
    )
    #: Days from each invoice of the purchased subscription to its due date. 0 (default):
    #: due on its billing date, the day the card on file is charged (record it with
    #: ``service.pay_invoice``; subbill moves no money).
    payment_terms_days: int = attrs.field(default=0, validator=_check_terms_days)
    #: A free trial of the purchased subscription's recurring lines (see
    #: :class:`~subbill.subscriptions.Trial`): their first days bill nothing.
    trial: Trial | None = attrs.field(default=None, validator=_check_offer_trial)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, default_id: str | None = None) -> Self:
        """A payment link from plain data (a mapping read from a file).

        Keys: ``currency``, ``lines`` and optionally ``id`` (else ``default_id``) and
        ``discounts``. A line has ``code``, ``name``, ``unit_price`` (a string such as
        ``"29.90"`` or an int, >= 0) and optionally ``quantity``, ``frequency`` (absent: a
        one-time line), ``start`` (``"immediately"``, ``{"after_months": N}``,
        ``{"after_days": N}`` or ``{"on": "YYYY-MM-DD"}``), ``payments`` or ``end``,
        ``tax`` and per-unit ``discounts``. A discount has ``code``, one of ``percent`` or
        ``amount``, at most one of ``once`` (true), ``periods`` or ``months``, and
        optionally ``applies_to``. Every bad field is reported at once in an
        :class:`~subbill.errors.InputError`.

        >>> link = PaymentLink.from_mapping({"id": "L1", "currency": "EUR", "lines": [
        ...     {"code": "site", "name": "Site", "unit_price": "3000.00"}]})
        >>> link.lines[0].unit_price
        Money('3000.00', 'EUR')
        >>> PaymentLink.from_mapping({"id": "L1", "currency": "EUR", "lines": [
        ...     {"code": "site", "name": "Site", "unit_price": -5, "price": 3}]})
        Traceback (most recent call last):
        ...
        subbill.errors.InputError: lines[0].unit_price: amount=-5 must be >= 0
        lines[0].price: unknown key, did you mean 'unit_price'?
        """
        document = structure(data, _PaymentLinkDocument)
        problems = Problems()
        link_id = document.id or default_id
        if link_id is None:
            problems.add("id", "is missing")
        lines = _read_lines(document.lines, document.currency, problems)
        discounts = read_discounts(document.discounts, document.currency, problems)
        return problems.build(
            lambda: cls(
                id=link_id or "",
                currency=document.currency,
                lines=lines,
                discounts=discounts,
                payment_terms_days=document.payment_terms_days,
                trial=document.trial,
            )
        )


class QuoteStatus(enum.Enum):
    """Where a quote is in its life; ``EXPIRED`` is derived from the validity date."""

    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


def _message(value: object, action: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(
            f"message={value!r} must be a non-empty text: say why to {action}"
        )
    text: str = check_line("message", value.strip(), multiline=True)
    return text


@attrs.frozen(kw_only=True)
class Quote:
    """A quote: a customer, lines, quote-level discounts, a validity date, and a status.

    A draft or sent quote is expired once ``valid_until`` is strictly before the date
    asked about (the validity day itself still counts): see :meth:`status_on`. Verbs return
    a new quote or raise :class:`~subbill.invoices.InvalidTransitionError` naming the
    current status and the action tried.
    """

    id: str = attrs.field(validator=check_text)
    customer: str = attrs.field(validator=check_text)
    currency: str = attrs.field(converter=_currency)
    valid_until: date = attrs.field(validator=_a_date)
    lines: tuple[LineItem, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_lines
    )
    discounts: tuple[Discount, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_offer_discounts
    )
    status: QuoteStatus = attrs.field(default=QuoteStatus.DRAFT, validator=enum_of(QuoteStatus))
    #: 1 for a first quote; each :meth:`revise` adds one.
    version: int = attrs.field(default=1, validator=_check_version)
    previous: str | None = attrs.field(default=None, validator=one_line(optional=True))
    message: str | None = attrs.field(
        default=None, validator=one_line(optional=True, multiline=True)
    )
    decided_on: date | None = attrs.field(default=None, validator=_a_date_or_none)
    #: Days from each invoice of the purchased subscription to its due date (default 0).
    payment_terms_days: int = attrs.field(default=0, validator=_check_terms_days)
    #: A free trial of the purchased subscription's recurring lines (see
    #: :class:`~subbill.subscriptions.Trial`): their first days bill nothing.
    trial: Trial | None = attrs.field(default=None, validator=_check_offer_trial)

    _OPEN: ClassVar[frozenset[QuoteStatus]] = frozenset({QuoteStatus.DRAFT, QuoteStatus.SENT})

    def status_on(self, *, as_of: date) -> QuoteStatus:
        """The status on ``as_of``: ``EXPIRED`` for an open quote past its validity date.

        >>> q = Quote(id="Q1", customer="C", currency="EUR", valid_until=date(2026, 3, 31))
        >>> q.status_on(as_of=date(2026, 3, 31)).value, q.status_on(as_of=date(2026, 4, 1)).value
        ('draft', 'expired')
        """
        check_date("as_of", as_of)
        if self.status in self._OPEN and self.valid_until < as_of:
            return QuoteStatus.EXPIRED
        return self.status

    def is_expired(self, *, as_of: date) -> bool:
        """True when the quote can no longer be accepted because its validity date passed."""
        return self.status_on(as_of=as_of) is QuoteStatus.EXPIRED

    def _refuse(self, action: str, status: QuoteStatus, expected: str) -> InvalidTransitionError:
        return InvalidTransitionError(f"quote {self.id}", status.value, action, expected)

    def _open_on(self, on: date, action: str) -> None:
        status = self.status_on(as_of=on)
        if status not in self._OPEN:
            raise self._refuse(action, status, "only a draft or sent quote that has not expired")

    def send(self, *, on: date) -> Self:
        """Send the quote to the customer."""
        self._open_on(on, "send")
        if not self.lines:
            raise self._refuse("send", self.status, "a quote needs at least one line")
        return attrs.evolve(self, status=QuoteStatus.SENT)

    def accept(
        self,
        *,
        on: date,
        payment_method: str = "",
        reference: str | None = None,
        horizon: date | None = None,
    ) -> Purchase:
        """« Accepter et payer »: the quote is confirmed and paid on ``on``.

        The same path as :func:`purchase` (which see): the result carries the accepted
        quote (``Purchase.quote``), the payment recorded with ``payment_method``, the
        order, the invoice of what was due now and the subscription. An expired,
        rejected, cancelled or already accepted quote is refused (``InvalidStateError``).
        """
        self._open_on(on, "accept")
        if not self.lines:
            raise self._refuse("accept", self.status, "a quote needs at least one line")
        return purchase(
            self,
            paid_on=on,
            payment_method=payment_method,
            reference=reference,
            horizon=horizon,
        )

    def reject(self, *, message: str, on: date) -> Self:
        """Reject the quote; the customer's message is required."""
        text = _message(message, "reject the quote")
        self._open_on(on, "reject")
        return attrs.evolve(self, status=QuoteStatus.REJECTED, message=text, decided_on=on)

    def request_changes(self, *, message: str, on: date) -> Self:
        """Ask for changes; the message says which."""
        text = _message(message, "request changes")
        self._open_on(on, "request changes to")
        return attrs.evolve(self, status=QuoteStatus.CHANGES_REQUESTED, message=text, decided_on=on)

    def cancel(self, *, on: date) -> Self:
        """Withdraw the quote (the seller's side)."""
        status = self.status_on(as_of=on)
        if status in (QuoteStatus.ACCEPTED, QuoteStatus.CANCELLED):
            raise self._refuse("cancel", status, "an accepted or cancelled quote stays as it is")
        return attrs.evolve(self, status=QuoteStatus.CANCELLED, decided_on=on)

    def revise(self, *, id: str, valid_until: date, **changes: Any) -> Self:  # noqa: A002
        """A new version after changes were requested, linked to this one (``previous``)."""
        if self.status is not QuoteStatus.CHANGES_REQUESTED:
            raise self._refuse("revise", self.status, "only after changes were requested")
        return attrs.evolve(
            self,
            id=id,
            valid_until=valid_until,
            status=QuoteStatus.DRAFT,
            version=self.version + 1,
            previous=self.id,
            message=None,
            decided_on=None,
            **changes,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """A draft quote from plain data (a mapping read from a file).

        Keys: ``id``, ``customer``, ``currency``, ``valid_until`` (``YYYY-MM-DD``), and
        optionally ``lines`` and ``discounts``, written as for
        :meth:`PaymentLink.from_mapping`. Every bad field is reported at once in an
        :class:`~subbill.errors.InputError`.

        >>> Quote.from_mapping({"id": "Q1", "customer": "Garage", "currency": "EUR",
        ...                     "valid_until": "2026-03-31", "lines": [
        ...     {"code": "site", "name": "Site", "unit_price": 29.9}]})
        Traceback (most recent call last):
        ...
        subbill.errors.InputError: lines[0].unit_price: amount=29.9 is a float, ...
        """
        document = structure(data, _QuoteDocument)
        problems = Problems()
        lines = _read_lines(document.lines, document.currency, problems)
        discounts = read_discounts(document.discounts, document.currency, problems)
        return problems.build(
            lambda: cls(
                id=document.id,
                customer=document.customer,
                currency=document.currency,
                valid_until=document.valid_until,
                lines=lines,
                discounts=discounts,
                payment_terms_days=document.payment_terms_days,
                trial=document.trial,
            )
        )


# -- checkout ---------------------------------------------------------------------------------


def _charges(
    lines: Sequence[LineItem], *, paid_on: date, trial: Trial | None
) -> tuple[list[RecurringCharge], list[OneTimeCharge], list[ScheduledUsage]]:
    """What the lines bill once bought on ``paid_on``: as their subscription bills them.

    A trial runs from the first recurring line's billing start: the recurring and usage
    lines bill nothing before its end.
    """
    resolved = [line.resolve(paid_on=paid_on) for line in lines]
    paid_from, reanchor = None, False
    if trial is not None:
        start = min(line.start for line in resolved if line.is_recurring)
        paid_from, reanchor = trial.ends_on(start), trial.anchor is TrialAnchor.TRIAL_END
    recurring, once, usage = [], [], []
    for line in resolved:
        if line.is_usage:
            usage.append(line.scheduled_usage(ends_on=None, paid_from=paid_from, reanchor=reanchor))
            continue
        charge = line.charge(ends_on=None, paid_from=paid_from, reanchor=reanchor)
        if isinstance(charge, RecurringCharge):
            recurring.append(charge)
        else:
            once.append(charge)
    return recurring, once, usage


@attrs.frozen(kw_only=True)
class Checkout:
    """What the buyer pays now and what later.

    ``due_now`` is the invoice of the checkout (``None`` when nothing is due today);
    ``future`` the invoice due on each later billing date up to ``horizon``, in date order;
    ``state`` the billing state once the checkout is paid.
    """

    paid_on: date
    horizon: date
    due_now: Invoice | None
    future: tuple[Invoice, ...]
    state: BillingState

    @property
    def total_due_now(self) -> Money | None:
        """The checkout total (what the buyer pays today)."""
        return None if self.due_now is None else self.due_now.total


def _horizon(lines: Sequence[LineItem], paid_on: date, horizon: date | None) -> date:
    if horizon is not None:
        return check_date("horizon", horizon)
    ends = [line.term_end(paid_on=paid_on) for line in lines if line.is_recurring]
    if ends and all(end is not None for end in ends):
        return max(end for end in ends if end is not None)
    return add_months(paid_on, 12)


def _checkout_discounts(discounts: Sequence[Discount], paid_on: date) -> tuple[Discount, ...]:
    """The offer's discounts as billed: a one-time discount ends on the payment date.

    So it reduces only what is due at checkout, never a post-dated recurring line, and it
    stays on the subscription: a later credit of a discounted period mirrors it.
    """
    return tuple(
        attrs.evolve(d, ends_on=paid_on)
        if isinstance(d.duration, Once) and d.ends_on is None
        else d
        for d in discounts
    )


def checkout(
    offer: Quote | PaymentLink,
    *,
    paid_on: date,
    horizon: date | None = None,
    customer: str | None = None,
) -> Checkout:
    """Split an offer into what is due at checkout on ``paid_on`` and the future payments.

    Due now: the one-time lines and the recurring lines whose billing start is on or before
    ``paid_on``; one-time discounts reduce only those. Future payments: one invoice per later
    billing date up to ``horizon`` (default: the end of a finite term, else a year after
    ``paid_on``), each with the total due that day.
    """
    check_date("paid_on", paid_on)
    check_line("customer", customer, optional=True)
    if not isinstance(offer, Quote | PaymentLink):
        raise InvalidTypeError("offer", offer, "a Quote or a PaymentLink")
    if not offer.lines:
        raise InvalidArgumentError(f"{type(offer).__name__} {offer.id!r} has no lines to pay")
    until = _horizon(offer.lines, paid_on, horizon)
    recurring, once, usage = _charges(offer.lines, paid_on=paid_on, trial=offer.trial)
    buyer = customer or getattr(offer, "customer", None) or "buyer"
    now = ChargePlan(
        id=offer.id,
        customer=buyer,
        currency=offer.currency,
        charges=recurring,
        one_time=once,
        discounts=_checkout_discounts(offer.discounts, paid_on),
        payment_terms_days=offer.payment_terms_days,
        usage=usage,
    )
    first = bill_subscription(now, as_of=paid_on)
    future, _ = _future(now, first.state, paid_on=paid_on, until=until)
    return Checkout(
        paid_on=paid_on, horizon=until, due_now=first.invoice, future=future, state=first.state
    )


def _future(
    subscription: ChargePlan, state: BillingState, *, paid_on: date, until: date
) -> tuple[tuple[Invoice, ...], BillingState]:
    """Bill every later billing date up to ``until``, one invoice per date."""
    charges: list[RecurringCharge | ScheduledUsage] = [*subscription.charges, *subscription.usage]
    dates = sorted(
        {day for charge in charges for day in _billing_dates(charge, after=paid_on, until=until)}
    )
    invoices = []
    for day in dates:
        result = bill_subscription(subscription, state, as_of=day)
        state = result.state
        if result.invoice is not None:
            invoices.append(result.invoice)
    return tuple(invoices), state


def _billing_dates(
    charge: RecurringCharge | ScheduledUsage, *, after: date, until: date
) -> list[date]:
    """The billing dates of ``charge`` in ``(after, until]``; a usage charge's end too.

    A usage charge bills in arrears: each period on its end, the last one on its end.
    """
    schedule = charge.schedule
    start_index = schedule.index_of(charge.start)
    days = []
    end = charge.end
    for n in itertools.count(start_index):
        day = max(schedule.nth(n), charge.start)
        if day > until or (end is not None and day >= end):
            break
        if day > after:
            days.append(day)
    if isinstance(charge, ScheduledUsage) and end is not None and after < end <= until:
        days.append(end)
    return days


# -- purchase -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SalesOrder:
    """The sales order of a purchase: every line bought, and what was paid at checkout.

    ``reference`` is the purchase's idempotency key (the payment's reference);
    ``subscription`` the id of the subscription it created (``None``: one-time lines only);
    ``invoice`` the number of the invoice of what was due now, once stored
    (:func:`subbill.service.store_purchase`); ``quote`` the quote it accepts, if any.
    """

    id: str = attrs.field(validator=check_text)
    customer: str = attrs.field(validator=check_text)
    ordered_on: date
    lines: tuple[LineItem, ...] = attrs.field(converter=to_tuple)
    paid_now: Money = attrs.field(validator=instance_of(Money))
    reference: str | None = attrs.field(default=None, validator=one_line(optional=True))
    payment: Payment | None = attrs.field(
        default=None, validator=instance_of(Payment, optional=True)
    )
    subscription: str | None = attrs.field(default=None, validator=one_line(optional=True))
    invoice: str | None = attrs.field(default=None, validator=one_line(optional=True))
    quote: str | None = attrs.field(default=None, validator=one_line(optional=True))


@attrs.frozen(kw_only=True)
class Purchase:
    """What exists after a purchase (:func:`purchase`, :meth:`Quote.accept`).

    - ``reference``: its idempotency key, the payment's reference: storing the same
      purchase twice is a no-op (:func:`subbill.service.store_purchase`);
    - ``payment``: the payment of what was due now (``None`` when nothing was);
    - ``order``: the sales order;
    - ``invoice``: the invoice of what was due now, a draft; it is numbered, finalized and
      paid by ``payment`` when the purchase is stored (``None`` when nothing was due);
    - ``subscription``: **one** :class:`~subbill.subscriptions.Subscription` holding every
      recurring line (each with its own frequency and billing start) and the one-time
      lines, ``None`` when the offer has no recurring line; its status is scheduled until
      its first billing date;
    - ``state``: the subscription's billing state once the checkout is billed;
    - ``checkout``: what the buyer was shown (due now and the future payments);
    - ``quote``: the accepted quote, when a quote was bought.
    """

    reference: str
    payment: Payment | None
    order: SalesOrder
    invoice: Invoice | None
    subscription: Subscription | None
    state: BillingState
    checkout: Checkout
    quote: Quote | None = None

    @property
    def future(self) -> tuple[Invoice, ...]:
        """The invoices due on each later billing date, as the checkout showed them."""
        return self.checkout.future


def _purchased_subscription(
    offer: Quote | PaymentLink,
    lines: Sequence[QuotedLine],
    *,
    reference: str,
    customer: str,
    paid_on: date,
    payment_method: str,
) -> Subscription | None:
    recurring = sorted(
        (line for line in lines if line.is_recurring), key=lambda line: (line.start, line.code)
    )
    if not recurring:
        return None
    first = recurring[0]
    assert first.frequency is not None  # noqa: S101  (recurring)
    ends = [line.end for line in recurring]
    trial = offer.trial
    # A trial re-anchored on its end sets the subscription's billing day there.
    reanchored = trial is not None and trial.anchor is TrialAnchor.TRIAL_END
    return Subscription(
        id=f"{reference}-S1",
        customer=customer,
        currency=offer.currency,
        start=first.start,
        # A fixed term when every recurring line has one: the subscription then expires.
        end=None if any(end is None for end in ends) else max(e for e in ends if e is not None),
        # The subscription's own cycle (for cancelling at a period's end) is its first
        # line's; every line keeps its own frequency and billing day.
        frequency=first.frequency,
        billing_day=None if reanchored else first.billing_day,
        lines=tuple(lines),
        discounts=_checkout_discounts(offer.discounts, paid_on),
        terms=BillingTerms(payment_terms_days=offer.payment_terms_days),
        payment_method=payment_method or None,
        trial=trial,
    )


def purchase(
    offer: Quote | PaymentLink,
    *,
    paid_on: date,
    payment_method: str = "",
    reference: str | None = None,
    customer: str | None = None,
    horizon: date | None = None,
) -> Purchase:
    """Pay an offer on ``paid_on`` and return what exists afterwards (a :class:`Purchase`).

    ``payment_method`` is the id of the method that paid (recorded on the payment and the
    subscription); ``reference`` the payment's reference, the purchase's idempotency key
    (default: the offer's id — give each buyer's payment its own when a payment link is
    paid by many); ``customer`` the buyer (default: the quote's customer).

    One subscription holds every recurring line of the offer, each with its own frequency
    and billing start, and the one-time lines billed at checkout; billing it on each later
    billing date gives the checkout's future payments, due on the dates the checkout
    showed (the offer's ``payment_terms_days``, 0 by default). A quote must be open on
    ``paid_on``: an expired, rejected, cancelled or already accepted one is refused
    (:class:`~subbill.errors.InvalidStateError`), and the result carries it accepted.

    >>> setup = LineItem(code="site", name="Site", unit_price=Money("1500", "EUR"))
    >>> seo = LineItem(code="seo", name="SEO", unit_price=Money("300", "EUR"),
    ...                frequency=MONTHLY, billing_start=BillingStart.after_months(6))
    >>> bought = purchase(PaymentLink(id="L1", currency="EUR", lines=(setup, seo)),
    ...                   paid_on=date(2026, 8, 31), reference="pay_1", customer="Garage")
    >>> bought.invoice.total, bought.subscription.start
    (Money('1500.00', 'EUR'), datetime.date(2027, 2, 28))
    >>> bought.subscription.status(as_of=date(2027, 2, 1)).value
    'scheduled'
    """
    if not isinstance(offer, Quote | PaymentLink):
        raise InvalidTypeError("offer", offer, "a Quote or a PaymentLink")
    check_payment_reference("payment_method", payment_method, allow_empty=True)
    check_line("reference", reference, optional=True)
    check_date("paid_on", paid_on)
    accepted: Quote | None = None
    if isinstance(offer, Quote):
        # Only a quote still open on the payment date can be paid: never an expired,
        # rejected, cancelled or already accepted one.
        offer._open_on(paid_on, "pay")
        if not offer.lines:
            raise offer._refuse("pay", offer.status, "a quote needs at least one line")
        if customer is not None and customer != offer.customer:
            raise InvalidArgumentError(
                f"customer={customer!r}: quote {offer.id} is made out to {offer.customer!r}, "
                "who alone can accept it (leave customer= out, or revise the quote)"
            )
        accepted = attrs.evolve(offer, status=QuoteStatus.ACCEPTED, decided_on=paid_on)
    shown = checkout(offer, paid_on=paid_on, horizon=horizon, customer=customer)
    key = reference or offer.id
    buyer = customer or getattr(offer, "customer", None) or "buyer"
    lines = tuple(line.resolve(paid_on=paid_on) for line in offer.lines)
    subscription = _purchased_subscription(
        offer,
        lines,
        reference=key,
        customer=buyer,
        paid_on=paid_on,
        payment_method=payment_method,
    )
    if subscription is not None:
        # Billing the subscription itself on the payment date gives what is due now and
        # the state later bills, credits and corrections start from.
        result = bill_subscription(subscription.to_charge_plan(), as_of=paid_on)
        invoice, state = result.invoice, result.state
        if invoice is not None:
            invoice = attrs.evolve(invoice, due_on=paid_on)  # paid at checkout
    else:
        invoice = None if shown.due_now is None else attrs.evolve(shown.due_now, subscription=None)
        state = shown.state
    paid = invoice.total if invoice is not None else Money.zero(offer.currency)
    payment = (
        Payment(amount=paid, paid_on=paid_on, method=payment_method, reference=key)
        if paid.is_positive()
        else None
    )
    order = SalesOrder(
        id=f"SO-{key}",
        customer=buyer,
        ordered_on=paid_on,
        lines=offer.lines,
        paid_now=paid,
        reference=key,
        payment=payment,
        subscription=None if subscription is None else subscription.id,
        quote=None if accepted is None else accepted.id,
    )
    return Purchase(
        reference=key,
        payment=payment,
        order=order,
        invoice=invoice,
        subscription=subscription,
        state=state,
        checkout=shown,
        quote=accepted,
    )


# -- quotes and payment links as plain data -----------------------------------------------------


@attrs.frozen(kw_only=True)
class _LineDocument:
    code: Text
    name: Text
    unit_price: Price | None = None
    quantity: Quantity | None = None
    frequency: Frequency | None = None
    start: AnyBillingStart | None = None
    payments: Positive | None = None
    end: date | None = None
    tax: TaxRates | None = None
    discounts: tuple[DiscountDocument, ...] = ()
    usage: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class _PaymentLinkDocument:
    currency: Currency
    lines: tuple[_LineDocument, ...]
    id: Text | None = None
    discounts: tuple[DiscountDocument, ...] = ()
    payment_terms_days: int = 0
    trial: Trial | None = None


@attrs.frozen(kw_only=True)
class _QuoteDocument:
    id: Text
    customer: Text
    currency: Currency
    valid_until: date
    lines: tuple[_LineDocument, ...] = ()
    discounts: tuple[DiscountDocument, ...] = ()
    payment_terms_days: int = 0
    trial: Trial | None = None


#: The keys of a usage line's ``usage`` that are the line's own (its code, name, currency, tax).
_LINE_OWNED = {"code": "code", "description": "name", "currency": "currency", "tax_rates": "tax"}


def _read_usage(document: _LineDocument, currency: str, problems: Problems) -> UsageCharge | None:
    """A usage line's charge: its ``usage`` mapping, with the line's code, name and taxes."""
    data = document.usage
    if data is None:
        return None
    found = len(problems.found)
    for key, owner in _LINE_OWNED.items():
        if key in data:
            problems.add(f"usage.{key}", f"is the line's (its {owner}): leave it out here")
    if document.unit_price is not None:
        problems.add("unit_price", "a usage line is priced by its usage charge: leave it out")
    if len(problems.found) > found:
        return None
    with problems.at("usage"):
        charge = UsageCharge.from_mapping(
            {**data, "code": document.code, "description": document.name, "currency": currency}
        )
        return attrs.evolve(charge, tax_rates=document.tax or ())
    return None


def _read_line(document: _LineDocument, currency: str) -> LineItem:
    problems = Problems()
    discounts = []
    for index, discount in enumerate(document.discounts):
        with problems.at(f"discounts[{index}]"):
            discounts.append(read_discount(discount, currency, per_unit=True))
    usage = _read_usage(document, currency, problems)
    price = None
    if document.usage is None:
        with problems.at("unit_price"):
            if document.unit_price is None:
                raise InvalidArgumentError("is missing (or give a usage charge: usage)")
            price = Money(document.unit_price, currency)
    return problems.build(
        lambda: LineItem(
            code=document.code,
            name=document.name,
            unit_price=price,
            quantity=Decimal(1) if document.quantity is None else document.quantity,
            frequency=document.frequency,
            billing_start=document.start,
            payments=document.payments,
            end=document.end,
            tax_rates=() if usage is not None else document.tax or (),
            discounts=tuple(discounts),
            usage=usage,
        )
    )


def _read_lines(
    documents: Sequence[_LineDocument], currency: str, problems: Problems
) -> tuple[LineItem, ...]:
    lines = []
    for index, document in enumerate(documents):
        with problems.at(f"lines[{index}]"):
            lines.append(_read_line(document, currency))
    return tuple(lines)

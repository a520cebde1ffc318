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
>>> sub = ChargePlan(id="S1", customer="ACME", currency="EUR", charges=(
...     RecurringCharge(code="pro", description="Plan Pro", unit_price=Money("50", "EUR"),
...                     start=date(2026, 3, 1), billing_day=13, tax_rates=(vat,)),))
>>> result = bill_subscription(sub, as_of=date(2026, 3, 1))
>>> [(str(line.factor), str(line.amount)) for line in result.invoice.lines]
[('3/7', '21.43 EUR')]
>>> result.invoice.total, bill_subscription(sub, result.state, as_of=date(2026, 3, 1)).invoice
(Money('25.72', 'EUR'), None)
"""

from __future__ import annotations

import bisect
import enum
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from subbill import _wire
from subbill._gc import fewer_collections
from subbill._records import slot_setters
from subbill._validate import (
    brief,
    check_count,
    check_items,
    check_text,
    enum_of,
    items_of,
    to_tuple,
)
from subbill.charges import OneTimeCharge, RecurringCharge
from subbill.discounts import (
    AppliedDiscount,
    Discount,
    DiscountKind,
    DiscountTarget,
    ForMonths,
    ForPeriods,
    LineDiscount,
    Once,
    apply_discounts,
)
from subbill.errors import (
    CurrencyMismatchError,
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    LineExplanation,
    LineKind,
    Payment,
    UsageExplanation,
    check_document_sums,
)
from subbill.metering import (
    Aggregation,
    Percentage,
    ScheduledUsage,
    UsagePrice,
    UsageRecord,
    aggregate,
    deduplicate,
    price_usage,
)
from subbill.money import (
    DECIMAL_CONTEXT,
    MAX_AMOUNT,
    MAX_DATE,
    MAX_PAYMENT_TERMS_DAYS,
    MIN_DATE,
    Money,
    read_currency,
    read_percent,
)
from subbill.periods import (
    BillingSchedule,
    Period,
    add_months,
    check_billing_date,
    check_date,
    check_payment_terms_days,
)
from subbill.proration import BillingTiming, ProrationBasis, day_count
from subbill.taxes import (
    LineTax,
    TaxBreakdown,
    TaxRate,
    TaxRounding,
    exclusive_tax,
    line_tax,
    line_taxes,
    tax_breakdown,
)

_ONE = Fraction(1)

__all__ = [
    "BillingResult",
    "BillingState",
    "BillingTerms",
    "ChargePlan",
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


def _check_terms_days(_instance: Any, _attribute: Any, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError("payment_terms_days", value, "a whole number of days such as 30")
    if not 0 <= value <= MAX_PAYMENT_TERMS_DAYS:
        raise OutOfBoundsError(
            "payment_terms_days", brief(value), f"between 0 and {MAX_PAYMENT_TERMS_DAYS} days"
        )


def _to_late_payment_percent(value: object) -> Decimal | None:
    """An annual late-payment penalty rate above 0 and up to 100 %, or None (not stated)."""
    if value is None:
        return None
    percent = read_percent(value, "late_payment_percent")
    if not 0 < percent <= 100:
        raise OutOfBoundsError("late_payment_percent", brief(value), "above 0 and at most 100 (%)")
    return percent


@attrs.frozen(kw_only=True)
class BillingTerms:
    """How a customer is billed: payment terms, tax rounding, what a negative total does.

    Stored with the subscription (``Subscription.terms``), so that a customer's terms never
    depend on how a bill run is called. ``payment_terms_days``: days from an invoice's date
    to its due date (0 to 365); ``tax_rounding``: per line (default) or once per invoice;
    ``negative_balance``: a credit note refunded (default) or carried forward as credit;
    ``late_payment_percent``: the annual rate of the penalties a late payment bears (the
    « pénalités de retard » a French invoice states), None when the terms do not set one
    (French law then applies the ECB rate plus 10 points).

    >>> BillingTerms(payment_terms_days=15).tax_rounding
    <TaxRounding.PER_LINE: 'per_line'>
    >>> BillingTerms(late_payment_percent="12.5").late_payment_percent
    Decimal('12.5')
    """

    payment_terms_days: int = attrs.field(default=30, validator=_check_terms_days)
    tax_rounding: TaxRounding = attrs.field(
        default=TaxRounding.PER_LINE, validator=enum_of(TaxRounding)
    )
    negative_balance: NegativeBalancePolicy = attrs.field(
        default=NegativeBalancePolicy.CREDIT_NOTE, validator=enum_of(NegativeBalancePolicy)
    )
    late_payment_percent: Decimal | None = attrs.field(
        default=None, converter=_to_late_payment_percent
    )


def _check_subscription(instance: ChargePlan, _attribute: Any, _value: object) -> None:
    currency = instance.currency
    charges, one_time = instance.charges, instance.one_time
    if not one_time and len(charges) == 1 and type(charges[0]) is RecurringCharge:
        # One recurring charge (a plain subscription's plan): its currency is all there is
        # to check of it (one key is never twice); _check_keys names a mismatch.
        if charges[0].unit_price.currency != currency:
            _check_keys(instance, "charge", charges)
    else:
        items: tuple[RecurringCharge | OneTimeCharge, ...] = (
            (*charges, *one_time) if one_time else charges
        )
        for index, charge in enumerate(items):
            if type(charge) is not RecurringCharge and not isinstance(
                charge, RecurringCharge | OneTimeCharge
            ):
                where = (
                    f"charges[{index}]"
                    if index < len(charges)
                    else f"one_time[{index - len(charges)}]"
                )
                raise InvalidTypeError(where, charge, "a RecurringCharge or a OneTimeCharge")
        _check_keys(instance, "charge", items)
    if instance.usage:
        _check_keys(instance, "usage charge", instance.usage)
    for discount in instance.discounts:
        if discount.amount is not None and discount.amount.currency != currency:
            raise InvalidArgumentError(
                f"discount {discount.code!r} is in {discount.amount.currency}, not {currency}"
            )
    terms_days = instance.payment_terms_days
    if type(terms_days) is not int or not 0 <= terms_days <= MAX_PAYMENT_TERMS_DAYS:
        check_payment_terms_days(terms_days)  # raises the error that names it


def _check_keys(
    instance: ChargePlan,
    what: str,
    items: Sequence[RecurringCharge | OneTimeCharge | ScheduledUsage],
) -> None:
    """Each of ``items`` in the plan's currency, and no two of them with one key."""
    currency = instance.currency
    if len(items) == 1:  # one item: its currency alone (one key is never twice)
        (item,) = items
        if item.currency != currency:
            raise InvalidArgumentError(
                f"{what} {item.code!r} is in {item.currency}; subscription "
                f"{instance.id!r} bills in currency={currency}"
            )
        return
    keys: set[str] = set()
    for item in items:
        if item.currency != currency:
            raise InvalidArgumentError(
                f"{what} {item.code!r} is in {item.currency}; subscription "
                f"{instance.id!r} bills in currency={currency}"
            )
        if item.key in keys:
            raise InvalidArgumentError(
                f"two {what}s of subscription {instance.id!r} have key={item.key!r}; "
                "a code may start only once on a given date"
            )
        keys.add(item.key)


@attrs.frozen(kw_only=True)
class ChargePlan:
    """The engine's input: what a subscription charges, and the rules it is billed by.

    Derived from a subscription on its billing cycle
    (:meth:`~subbill.subscriptions.Subscription.to_charge_plan`) — or built by hand for
    charges of your own — and never stored: what is stored is the subscription and its
    :class:`BillingState`. ``discounts`` are invoice discounts (whole invoice, or the
    products they name); discounts of one charge go on the charge. ``usage`` are the usage
    charges, each on its schedule (:class:`~subbill.metering.ScheduledUsage`), billed in
    arrears from the records :func:`bill_subscription` is given.
    """

    id: str = attrs.field(validator=check_text)
    customer: str = attrs.field(validator=check_text)
    currency: str = attrs.field(converter=read_currency)
    charges: tuple[RecurringCharge, ...] = attrs.field(
        default=(), converter=to_tuple, validator=items_of(RecurringCharge, "a RecurringCharge")
    )
    one_time: tuple[OneTimeCharge, ...] = attrs.field(
        default=(), converter=to_tuple, validator=items_of(OneTimeCharge, "a OneTimeCharge")
    )
    discounts: tuple[Discount, ...] = attrs.field(
        default=(), converter=to_tuple, validator=items_of(Discount, "a Discount")
    )
    payment_terms_days: int = 30
    tax_rounding: TaxRounding = attrs.field(
        default=TaxRounding.PER_LINE, validator=enum_of(TaxRounding)
    )
    negative_balance: NegativeBalancePolicy = attrs.field(
        default=NegativeBalancePolicy.CREDIT_NOTE,
        validator=enum_of(NegativeBalancePolicy),
    )
    usage: tuple[ScheduledUsage, ...] = attrs.field(
        default=(), converter=to_tuple, validator=items_of(ScheduledUsage, "a ScheduledUsage")
    )

    def __attrs_post_init__(self) -> None:
        _check_subscription(self, None, None)  # the whole plan, checked once

    @classmethod
    def _from_checked(
        cls,
        *,
        id: str,  # noqa: A002  (the field's name)
        customer: str,
        currency: str,
        charges: tuple[RecurringCharge, ...],
        one_time: tuple[OneTimeCharge, ...],
        discounts: tuple[Discount, ...],
        payment_terms_days: int,
        tax_rounding: TaxRounding,
        negative_balance: NegativeBalancePolicy,
        usage: tuple[ScheduledUsage, ...],
    ) -> ChargePlan:
        """Build from a valid subscription's fields without checking each field again.

        For :meth:`~subbill.subscriptions.Subscription.to_charge_plan` only: the id,
        customer and currency are the subscription's (checked), the items tuples of the
        classes the subscription derived, the policies its terms' (checked). The whole
        plan is still checked: items in its currency, keys distinct, discounts in its
        currency, the payment terms.
        """
        plan = object.__new__(cls)
        # Each slot written by its own setter (no loop: this runs once per subscription).
        _SET_PLAN_ID(plan, id)
        _SET_PLAN_CUSTOMER(plan, customer)
        _SET_PLAN_CURRENCY(plan, currency)
        _SET_PLAN_CHARGES(plan, charges)
        _SET_PLAN_ONE_TIME(plan, one_time)
        _SET_PLAN_DISCOUNTS(plan, discounts)
        _SET_PLAN_TERMS_DAYS(plan, payment_terms_days)
        _SET_PLAN_TAX_ROUNDING(plan, tax_rounding)
        _SET_PLAN_NEGATIVE_BALANCE(plan, negative_balance)
        _SET_PLAN_USAGE(plan, usage)
        _check_subscription(plan, None, None)
        return plan


_PLAN_SETTERS = tuple(slot_setters(ChargePlan).values())  # in the order of the fields
(
    _SET_PLAN_ID,
    _SET_PLAN_CUSTOMER,
    _SET_PLAN_CURRENCY,
    _SET_PLAN_CHARGES,
    _SET_PLAN_ONE_TIME,
    _SET_PLAN_DISCOUNTS,
    _SET_PLAN_TERMS_DAYS,
    _SET_PLAN_TAX_ROUNDING,
    _SET_PLAN_NEGATIVE_BALANCE,
    _SET_PLAN_USAGE,
) = _PLAN_SETTERS


def _pairs(
    name: str, value: object, expected: str, read: Callable[[str, object], Any]
) -> tuple[tuple[str, Any], ...]:
    """``{key: value}`` (a mapping or pairs) as sorted pairs, each value checked by ``read``."""
    items = value.items() if isinstance(value, Mapping) else value
    if not isinstance(items, Iterable) or isinstance(items, str | bytes):
        raise InvalidTypeError(name, value, expected)
    pairs = []
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2 or not isinstance(item[0], str):
            raise InvalidTypeError(name, value, expected)
        key, read_value = item[0], read(f"{name}[{item[0]!r}]", item[1])
        pairs.append((key, read_value))
    return tuple(sorted(pairs))


def _to_pairs(value: object) -> tuple[tuple[str, date], ...]:
    pairs = _pairs("billed_through", value, "a mapping of charge keys to dates", check_date)
    _check_distinct_keys("billed_through", pairs, "each charge is billed through one date")
    return pairs


def _check_distinct_keys(name: str, pairs: tuple[tuple[str, Any], ...], rule: str) -> None:
    """Each key of ``pairs`` once (``rule`` says why): a key present twice is refused, named.

    ``pairs`` are sorted, so a key present twice is present in two neighbouring pairs.
    """
    for (key, _), (next_key, _) in itertools.pairwise(pairs):
        if key == next_key:
            raise InvalidArgumentError(f"{name} holds charge key={key!r} twice; {rule}")


def _digest_text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(name, value, "a digest (str)")
    return value


def _to_keys(value: object) -> frozenset[str]:
    keys = check_items("one_time_billed", value, str, collection="a set of one-time charge keys")
    return frozenset(keys)


def _to_terms(value: object) -> tuple[tuple[str, str], ...]:
    pairs = _pairs("terms", value, "a mapping of charge keys to digests", _digest_text)
    _check_distinct_keys("terms", pairs, "each charge is billed at one set of terms")
    return pairs


def _to_usage_billed(value: object) -> tuple[tuple[str, date, Decimal], ...]:
    """``(usage charge key, period start, amount billed)`` triples, sorted."""
    expected = "(usage charge key, period start, amount billed) triples"
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidTypeError("usage_billed", brief(value), expected)
    found = []
    for item in value:
        if (
            not isinstance(item, tuple | list)
            or len(item) != 3
            or not isinstance(item[0], str)
            or not isinstance(item[2], Decimal)
        ):
            raise InvalidTypeError("usage_billed", brief(value), expected)
        check_date("usage_billed", item[1])
        if not item[2].is_finite():
            raise InvalidTypeError("usage_billed", brief(value), expected)
        found.append((item[0], item[1], item[2]))
    if len({(key, start) for key, start, _ in found}) != len(found):
        raise InvalidArgumentError(
            f"usage_billed={brief(value)} holds a (usage charge, period) twice; each period "
            "is billed once"
        )
    return tuple(sorted(found))


def _check_credit_balance(_instance: Any, _attribute: Any, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise InvalidTypeError("credit_balance", value, "a Money >= 0, or None")
    if value.is_negative():
        raise OutOfBoundsError(
            "credit_balance", value, ">= 0: a customer's credit is never negative"
        )
    if value.amount >= MAX_AMOUNT:
        raise _balance_beyond(value)


def _balance_beyond(balance: Money) -> OutOfBoundsError:
    """The error for a credit balance that reaches the bound of an amount (sums may)."""
    return OutOfBoundsError(
        "credit_balance",
        balance,
        f"below 10^{MAX_AMOUNT.adjusted()} in magnitude, the bound of every amount a state "
        "stores and reads back: refund part of the customer's credit first",
    )


@attrs.frozen(kw_only=True)
class BillingState:
    """What has been billed for one subscription: enough to never bill anything twice.

    ``billed_through`` maps each recurring charge's key to the (exclusive) end of what has
    been billed; ``one_time_billed`` holds the keys of one-time charges invoiced;
    ``credit_balance`` what the customer has in credit (carried-forward credit notes,
    overpayments, corrected invoices), a ``Money`` >= 0 (``None``: never had any).
    """

    billed_through: tuple[tuple[str, date], ...] = attrs.field(default=(), converter=_to_pairs)
    one_time_billed: frozenset[str] = attrs.field(default=frozenset(), converter=_to_keys)
    credit_balance: Money | None = attrs.field(default=None, validator=_check_credit_balance)
    #: A digest of the terms each charge (and each invoice discount, ``discount:CODE``) was
    #: billed at: billing refuses to price billed periods again at other terms.
    terms: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_to_terms)
    #: Each usage period billed: ``(usage charge key, period start, amount billed)`` (the
    #: net, rounded), so that records arriving later re-rate it and bill the difference.
    usage_billed: tuple[tuple[str, date, Decimal], ...] = attrs.field(
        default=(), converter=_to_usage_billed
    )

    @classmethod
    def _make(
        cls,
        billed_through: Mapping[str, date],
        one_time_billed: frozenset[str],
        credit_balance: Money | None,
        terms: tuple[tuple[str, str], ...],
        usage_billed: tuple[tuple[str, date, Decimal], ...] = (),
    ) -> BillingState:
        """Build without validation, for the states the billing engine computes."""
        state = object.__new__(cls)
        (
            set_billed_through,
            set_one_time_billed,
            set_credit_balance,
            set_terms,
            set_usage_billed,
        ) = _STATE_SETTERS
        set_billed_through(
            state,
            tuple(sorted(billed_through.items()))
            if len(billed_through) > 1
            else tuple(billed_through.items()),
        )
        set_one_time_billed(state, one_time_billed)
        set_credit_balance(state, credit_balance)
        set_terms(state, terms)
        set_usage_billed(state, usage_billed)
        return state

    def billed_through_of(self, key: str) -> date | None:
        """The date billing of charge ``key`` has reached (exclusive), or ``None``."""
        for name, day in self.billed_through:
            if name == key:
                return day
        return None

    def with_credit(self, amount: Money) -> BillingState:
        """Return the state with ``amount`` (>= 0) added to the customer's credit balance."""
        if not isinstance(amount, Money):
            raise InvalidTypeError("amount", amount, "a Money >= 0")
        if amount.is_negative():
            raise OutOfBoundsError("amount", amount, ">= 0 (credit added to the balance)")
        balance = amount if self.credit_balance is None else self.credit_balance + amount
        return attrs.evolve(self, credit_balance=balance)


_STATE_SLOTS = slot_setters(BillingState)
_STATE_SETTERS = tuple(_STATE_SLOTS.values())  # in the order of the fields
#: The state of a subscription never billed (immutable: one value serves every call).
_NOTHING_BILLED = BillingState()


@attrs.frozen(kw_only=True)
class BillingResult:
    """The invoice a subscription owes now (``None`` if nothing), and the state after it."""

    subscription: str
    invoice: Invoice | None
    state: BillingState


_RESULT_SETTERS = tuple(slot_setters(BillingResult).values())  # in the order of the fields


# -- the engine ------------------------------------------------------------------------------
#
# Billing re-rates, it never patches. For each billing period (a "cycle" of a charge's
# schedule) the engine knows two pieces of each charge: the one already billed
# (``[start, billed_through)`` cut to the cycle) and the one due now (``[start, end)`` cut to
# the cycle, up to what ``as_of`` makes due). When they differ, it prices both the same way
# (price × quantity × factor, then the discounts of that period) and bills the difference.
# So what a period costs never depends on how billing was split over runs, and a credit is
# exactly "what was charged" minus "what billing with the end known charges": never more
# than was charged.


class _Member:
    """One item of one billing period: a charge (or one-time charge) and its two pieces."""

    __slots__ = ("applicable", "billed", "charge", "cycle", "due", "index", "order")

    def __init__(  # noqa: PLR0917  (a private record built on the hot path)
        self,
        charge: RecurringCharge | OneTimeCharge,
        cycle: Period,
        due: Period | None,
        billed: Period | None,
        index: int,
        order: int,
    ) -> None:
        self.charge = charge
        self.cycle = cycle
        self.due = due  # the piece billing with what is known now charges (None: nothing)
        self.billed = billed  # the piece already billed (None: nothing)
        self.index = index  # the cycle's index in the charge's schedule
        self.order = order  # the charge's position in the subscription
        # The discounts that apply, once known: the charge's, and the invoice ones' codes.
        self.applicable: tuple[tuple[Discount, ...], frozenset[str]] | None = None


class _Wholes:
    """A charge's consecutive whole periods billed for the first time, in one record.

    The periods ``[dates[i], dates[i + 1])``, of indices ``first + i`` in the charge's
    schedule: what one :class:`_Member` per period would say (each due whole, nothing
    billed), without a record nor a :class:`~subbill.periods.Period` each before its line.
    """

    __slots__ = ("charge", "dates", "first", "order")

    def __init__(self, charge: RecurringCharge, order: int, first: int, dates: list[date]) -> None:
        self.charge = charge
        self.order = order  # the charge's position in the subscription
        self.first = first  # the index of the first period in the charge's schedule
        self.dates = dates  # the periods' bounds: one more than the periods


class _Priced:
    """One member's piece priced: the engine's working line.

    The discount engine reads it directly (it is a
    :class:`~subbill.discounts.Discountable`: ``amount``, ``unit_price``, ``quantity``,
    ``factor``, ``product`` and the discounts that apply) and writes what each discount took
    off into ``discounts``; the invoice line is then built once from the due and billed
    pieces. ``days``/``whole`` are the unreduced day count behind ``factor``.
    """

    __slots__ = (
        "amount",
        "days",
        "discounts",
        "factor",
        "invoice_discounts",
        "line_discounts",
        "product",
        "quantity",
        "unit_price",
        "whole",
    )

    def __init__(  # noqa: PLR0917  (a private record built on the hot path)
        self,
        amount: Money,
        factor: Fraction,
        days: int,
        whole: int,
        charge: RecurringCharge | OneTimeCharge,
        line_discounts: tuple[Discount, ...],
        invoice_discounts: frozenset[str],
    ) -> None:
        self.amount = amount  # rounded, before discounts
        self.factor = factor
        self.days = days
        self.whole = whole
        self.unit_price = charge.unit_price
        self.quantity = charge.quantity
        self.product = charge.code
        self.line_discounts = line_discounts
        self.invoice_discounts = invoice_discounts
        self.discounts: dict[str, Money] = {}

    @property
    def total_discount(self) -> Money:
        """What all the discounts took off."""
        discounts = self.discounts
        if not discounts:
            return Money.zero(self.amount.currency)
        return Money.total(discounts.values(), currency=self.amount.currency)


def _cut(cycle: Period, start: date, end: date | None) -> Period | None:
    """``[start, end)`` cut to ``cycle`` (``None`` if they share no day; ``cycle`` if all)."""
    if end is None:
        return None
    low, high = cycle.start, cycle.end
    whole = True
    if start > low:
        low, whole = start, False
    if end < high:
        high, whole = end, False
    if low >= high:
        return None
    return cycle if whole else Period._make(low, high)


def _add_member(  # noqa: PLR0917  (one billing period's facts, on the hot path)
    changed: list[_Member | _Wholes],
    charge: RecurringCharge,
    order: int,
    index: int,
    cycle_start: date,
    cycle_end: date,
    due_through: date,
    billed: date,
) -> None:
    """Add the member of a billing period of ``charge`` to ``changed``, if it changed.

    Its due piece is ``[start, due_through)`` cut to the period, its billed one ``[start,
    billed)``: nothing is added when they are the same (or both empty).
    """
    cycle = _new_period(Period)  # Period._make, inline
    _PERIOD_START(cycle, cycle_start)
    _PERIOD_END(cycle, cycle_end)
    start = charge.start
    due = _cut(cycle, start, due_through)
    was = _cut(cycle, start, billed)
    if was is None:
        if due is None:
            return
    elif due is not None and (due is was or due == was):
        return
    changed.append(_Member(charge, cycle, due, was, index, order))


def _due_end(charge: RecurringCharge, schedule: BillingSchedule, as_of: date) -> date | None:
    """How far billing with what is known on ``as_of`` reaches (exclusive), or ``None``."""
    end = charge.end
    if charge.timing is BillingTiming.IN_ADVANCE:
        if as_of < charge.start:
            return None
        reach = schedule.nth(schedule._index_of(as_of) + 1)  # the end of the period of as_of
    else:
        cycle_start = schedule.nth(schedule._index_of(as_of))
        if cycle_start <= charge.start:
            return end if end is not None and end <= as_of else None
        reach = cycle_start
    return reach if end is None else min(reach, end)


def _cycles(schedule: BillingSchedule, low: date, high: date) -> Iterator[tuple[int, Period]]:
    """The schedule's billing periods that share a day with ``[low, high)``."""
    first = schedule.index_of(low)
    dates = schedule._dates_through(first, high)  # the last one is on or after high
    for offset, (start, end) in enumerate(itertools.pairwise(dates)):
        yield first + offset, Period._make(start, end)


def _applies(discount: Discount, member: _Member, origin_index: Callable[[date], int]) -> bool:
    """Whether ``discount``'s duration covers ``member``'s billing period.

    Durations count billing periods from the one that contains the discount's start
    (``starts_on``, or the charge's start): *once* is that first billing period, on a charge
    or on the invoice alike. Judged on periods, never on invoices, a duration gives the same
    lines however the billing is split over runs, and credits mirror what was paid.
    """
    charge = member.charge
    if isinstance(charge, OneTimeCharge):
        origin = discount.starts_on or charge.due_on
        since = 0 if charge.due_on >= origin else -1
        period_start = charge.due_on
    else:
        origin = discount.starts_on or charge.start
        since = member.index - origin_index(origin)
        period_start = member.cycle.start
    return discount.applies_in(period_start=period_start, periods_since_start=since, origin=origin)


#: The billing periods of a charge a discount covers (what :func:`_applies` tells period by
#: period): ``(first index, end index or None, periods starting before this date or None,
#: the last day a period may start on or None)``.
_Window = tuple[int, int | None, date | None, date | None]


def _window(
    discount: Discount, charge: RecurringCharge, index_of: Callable[[date], int]
) -> _Window:
    """The periods of ``charge`` that ``discount``'s duration covers, counted once per call.

    Periods from the one that contains the discount's start (``starts_on``, or the
    charge's start): once, the first; ``periods(n)``, the first ``n``; ``months(n)``, those
    starting before ``n`` months after the start; forever, all; none starting after
    ``ends_on``.
    """
    origin = discount.starts_on or charge.start
    first = index_of(origin)
    duration = discount.duration
    end: int | None = None
    before: date | None = None
    if type(duration) is ForMonths:
        before = add_months(origin, duration.count)
    elif type(duration) is ForPeriods:
        end = first + duration.count
    elif type(duration) is Once:
        end = first + 1
    return first, end, before, discount.ends_on


def _within(window: _Window, index: int, start: date) -> bool:
    """Whether the period of ``index`` starting on ``start`` is within ``window``."""
    first, end, before, last = window
    return (
        index >= first
        and (end is None or index < end)
        and (before is None or start < before)
        and (last is None or start <= last)
    )


def _day_count(charge: RecurringCharge, piece: Period, cycle: Period) -> tuple[Fraction, int, int]:
    """``(factor, days counted, days of the period)`` of ``piece`` in ``cycle``."""
    if (piece is cycle or piece == cycle) and charge.basis is not ProrationBasis.THIRTY_DAY_MONTH:
        return _ONE, cycle.days, cycle.days
    days, whole = day_count(piece, cycle=cycle, basis=charge.basis)
    return _fraction(days, whole), days, whole


#: ``days / whole`` as a Fraction, by day count: a few thousand pairs at most (whole <= 3660).
_FRACTIONS: dict[tuple[int, int], Fraction] = {}


def _fraction(days: int, whole: int) -> Fraction:
    found = _FRACTIONS.get((days, whole))
    if found is None:
        found = Fraction(days, whole)
        if len(_FRACTIONS) < 1 << 16:
            _FRACTIONS[(days, whole)] = found
    return found


def _gross(charge: RecurringCharge, factor: Fraction) -> Money:
    """``unit_price × quantity × factor``, rounded to the minor unit (half up)."""
    if factor == 1:
        return charge.whole_price
    return charge.period_price._times_rounded(factor)  # (period_price * factor).rounded()


def _coverage(members: Sequence[_Member], pieces: Sequence[Period], period: Period) -> Fraction:
    """The share of the subscription's billing ``period`` that ``pieces`` cover (merged).

    Counted on the first member's basis when every member bills on that same period, in
    actual days otherwise (charges of other frequencies or billing days).
    """
    if any(isinstance(m.charge, OneTimeCharge) for m in members):
        return _ONE
    charge = members[0].charge
    assert isinstance(charge, RecurringCharge)  # noqa: S101  (one-time handled above)
    same = all(m.cycle == period for m in members)
    merged: list[list[date]] = []
    for piece in sorted(pieces, key=lambda p: p.start):
        low, high = max(piece.start, period.start), min(piece.end, period.end)
        if low >= high:
            continue
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    total = Fraction(0)
    for low, high in merged:
        if same:
            total += _day_count(charge, Period._make(low, high), period)[0]
        else:
            total += Fraction((high - low).days, period.days)
    return min(total, _ONE)


def _price(
    members: Sequence[_Member],
    invoice_discounts: Sequence[Discount],
    run: _Run,
    period: Period,
    *,
    due_side: bool,
) -> tuple[list[_Priced | None], dict[str, Money]]:
    """Price one side (``due`` or ``billed``) of the members of one billing period.

    Also returns what each fixed amount could not use (a line cannot go below zero).
    """
    priced: list[_Priced | None] = []
    discounted = False
    for member in members:
        piece = member.due if due_side else member.billed
        if piece is None:
            priced.append(None)
            continue
        charge = member.charge
        if isinstance(charge, OneTimeCharge):
            factor, days, whole = _ONE, 0, 0
            gross = (charge.unit_price * charge.quantity).rounded()
        else:
            factor, days, whole = _day_count(charge, piece, member.cycle)
            gross = _gross(charge, factor)
        line_discounts, invoice_codes = _discounts_of(member, invoice_discounts, run)
        discounted = discounted or bool(line_discounts or invoice_codes)
        priced.append(_Priced(gross, factor, days, whole, charge, line_discounts, invoice_codes))
    if not discounted:
        return priced, {}  # nothing to take off: the discount engine has nothing to do
    present = [(m, p) for m, p in zip(members, priced, strict=True) if p is not None]
    targets = [p for _, p in present]
    active = [
        d for d in invoice_discounts if any(d.code in p.invoice_discounts for _, p in present)
    ]
    fixed_factors = {
        d.code: _coverage(
            covered := [m for m, p in present if d.code in p.invoice_discounts],
            [m.due if due_side else m.billed for m in covered],  # type: ignore[misc]
            period,
        )
        for d in active
        if d.kind is DiscountKind.FIXED_AMOUNT
    }
    outcome = apply_discounts(targets, active, fixed_factors=fixed_factors)
    for item, taken in zip(targets, outcome.per_line, strict=True):
        for line_discount in taken:
            item.discounts[line_discount.code] = line_discount.amount
    unused = {a.discount.code: a.unused for a in outcome.applied if a.unused.is_positive()}
    return priced, unused


_NO_CODES: frozenset[str] = frozenset()
_NOTHING_APPLIES: tuple[tuple[Discount, ...], frozenset[str]] = ((), _NO_CODES)
_NO_WINDOWS: tuple[list[tuple[Discount, _Window]], list[tuple[Discount, _Window]]] = ([], [])


def _applicable(
    own: Sequence[tuple[Discount, _Window]],
    shared: Sequence[tuple[Discount, _Window]],
    index: int,
    start: date,
) -> tuple[tuple[Discount, ...], frozenset[str]]:
    """The discounts of a charge and the codes of the invoice ones that apply to a period.

    The period of ``index`` starting on ``start``; ``own`` and ``shared``: the windows of
    the charge's discounts and of the invoice ones that cover it (:meth:`_Run.windows`).
    """
    line_discounts = tuple([d for d, w in own if _within(w, index, start)]) if own else ()
    codes = [d.code for d, w in shared if _within(w, index, start)] if shared else None
    if not line_discounts and not codes:
        return _NOTHING_APPLIES
    return line_discounts, frozenset(codes) if codes else _NO_CODES


def _discounts_of(
    member: _Member,
    invoice_discounts: Sequence[Discount],
    run: _Run,
) -> tuple[tuple[Discount, ...], frozenset[str]]:
    """The discounts of ``member``'s charge, and the codes of the invoice ones, that apply.

    Worked out once per member (both sides of its period are priced with them).
    """
    if member.applicable is not None:
        return member.applicable
    charge = member.charge
    if not charge.discounts and not invoice_discounts:
        return _NOTHING_APPLIES
    if isinstance(charge, RecurringCharge):
        # Each discount's periods on this charge, worked out once per call (_Run.windows).
        own, shared = run.windows(charge)
        applicable = _applicable(own, shared, member.index, member.cycle.start)
    else:
        index_of = run.origin_index(charge)
        line_discounts = tuple([d for d in charge.discounts if _applies(d, member, index_of)])
        codes = [
            d.code
            for d in invoice_discounts
            if d.covers(charge.code) and _applies(d, member, index_of)
        ]
        applicable = (line_discounts, frozenset(codes) if codes else _NO_CODES)
    member.applicable = applicable
    return applicable


def _discounted(
    member: _Member,
    invoice_discounts: Sequence[Discount],
    run: _Run,
) -> bool:
    """Whether a discount applies to ``member`` (else it is priced alone, at its gross)."""
    line_discounts, invoice_codes = _discounts_of(member, invoice_discounts, run)
    return bool(line_discounts or invoice_codes)


def _first_line(
    member: _Member, charge: RecurringCharge, *, on_line: bool, discounted: _Whole | None = None
) -> tuple[InvoiceLine, bool]:
    """The line of a period billed for the first time, not whole: its gross, or ``discounted``.

    (A whole period's line is written by :func:`_whole_lines`.) ``discounted``: what the
    discounts that apply take off the whole period ``member`` is (on the 30/360 basis).
    ``on_line`` (tax rounded per line): a line of at most one rate is taxed here, as
    :func:`_taxed` would tax it; the second value says whether it was.
    """
    cycle = member.cycle
    piece = member.due
    assert piece is not None  # noqa: S101  (a member billed for the first time is due)
    rates = charge.tax_rates
    if discounted is not None:  # a whole period on the 30/360 basis
        factor, (_, days, whole) = _ONE, _day_count(charge, piece, cycle)
        amount = charge.whole_price
    else:
        factor, days, whole = _day_count(charge, piece, cycle)
        amount = _gross(charge, factor)
    taken = () if discounted is None else discounted.discounts
    explanation = _explanation(charge, piece, cycle, factor, days, whole, taken)
    kind = LineKind.RECURRING if piece is cycle or piece == cycle else LineKind.PRORATION_CHARGE
    zero = Money.zero(amount.currency)
    line = _make_line(
        charge,
        kind,
        period=piece,
        factor=factor,
        amount=amount,
        discount=zero if discounted is None else discounted.discount,
        explanation=explanation,
    )
    if discounted is not None:
        _LINE_NET(line, discounted.net)
        found = discounted.tax
        if found is None:
            return line, False
        _LINE_TAXES(line, found.taxes)
        _LINE_BASE(line, found.base)
        _LINE_TAX(line, found.tax)
        _LINE_TOTAL(line, found.total)
        return line, True
    _LINE_NET(line, amount)  # amount − 0
    if not on_line or len(rates) > 1:
        return line, False
    # A partial period's tax (an inclusive one worked back).
    if rates and rates[0].inclusive:
        found = line_tax(amount, rates)
        _LINE_TAXES(line, found.taxes)
        _LINE_BASE(line, found.base)
        _LINE_TAX(line, found.tax)
        _LINE_TOTAL(line, found.total)
    elif not rates:
        _LINE_TAX(line, zero)
        _LINE_TOTAL(line, amount)
    else:
        rate = rates[0]
        tax = exclusive_tax(amount, rate)
        _LINE_TAXES(line, ((rate, tax),))
        _LINE_TAX(line, tax)
        _LINE_TOTAL(line, amount + tax)
    return line, True


#: What every whole period of a charge billed once shares, with the same discounts taken off
#: (a tuple read by position on the hot path): the charge's fields a line and its
#: explanation copy, the amount, what the discounts took off (each, and their total) and
#: the net, the tax (``None``: taxed later with the invoice's other lines), and whether the
#: line is taxed already.
_WholeValues = tuple[
    str,  # code
    str,  # description
    str,  # charge key
    Decimal,  # quantity
    Money,  # unit price
    ProrationBasis,
    tuple[TaxRate, ...],  # tax rates
    str | None,  # reason (shown on the charge's first period only)
    date,  # the charge's start
    Money,  # amount
    tuple[LineDiscount, ...],  # what each discount took off
    Money,  # discount: their total
    Money,  # net
    tuple[tuple[TaxRate, Money], ...],  # taxes
    Money,  # base
    Money | None,  # tax (None: taxed later)
    Money | None,  # total (None: taxed later)
    bool,  # taxed (the last)
]


def _whole_values(
    charge: RecurringCharge, *, on_line: bool, discounted: _Whole | None = None
) -> _WholeValues:
    """What the lines of ``charge``'s whole periods billed once share.

    ``discounted``: what the discounts that apply take off such a period (``None``:
    nothing). ``on_line`` (tax rounded per line): a line of at most one rate is taxed, with
    the charge's own tax of a whole period
    (:attr:`~subbill.charges.RecurringCharge.whole_tax`) when nothing is taken off, else with
    the tax ``discounted`` holds (none: taxed later).
    """
    amount = charge.whole_price
    rates = charge.tax_rates
    taxes: tuple[tuple[TaxRate, Money], ...] = ()
    base, tax, total, taxed = amount, None, None, False
    if discounted is not None:
        taken, discount, net = discounted.discounts, discounted.discount, discounted.net
        found = discounted.tax
    else:
        taken, discount, net = (), Money.zero(amount.currency), amount
        found = charge.whole_tax if on_line and len(rates) == 1 else None
        if on_line and not rates:
            tax, total, taxed = discount, amount, True  # no rate: a zero tax
    if found is not None:
        taxes, base, tax, total, taxed = found.taxes, found.base, found.tax, found.total, True
    shown = (
        charge.code,
        charge.description,
        charge.key,
        charge.quantity,
        charge.unit_price,
        charge.basis,
        rates,
        charge.reason,
        charge.start,
    )
    # Two tuples joined (no list built and turned into a tuple, as unpacking does).
    return shown + (amount, taken, discount, net, taxes, base, tax, total, taxed)  # noqa: RUF005


def _whole_lines(
    whole: _WholeValues,
    dates: Sequence[date],
    order: int,
    found: list[tuple[int, date, InvoiceLine, bool, Money | None]],
) -> None:
    """The lines of whole periods ``[dates[i], dates[i + 1])`` of a charge billed once.

    Each is what :func:`_explanation` and :func:`_make_line` build (a ``RECURRING`` line of
    factor 1) from :func:`_whole_values`, written slot by slot with its net, and when the
    values hold them its tax and total; each goes to ``found`` as
    ``(order, start, line, whether to tax it, None)``.
    """
    (
        code,
        description,
        key,
        quantity,
        unit_price,
        basis,
        rates,
        reason,
        charge_start,
        amount,
        taken,
        discount,
        net,
        taxes,
        base,
        tax,
        total,
        taxed,
    ) = whole
    untaxed = not taxed
    recurring = LineKind.RECURRING
    low = dates[0]
    for high in itertools.islice(dates, 1, None):
        cycle = _new_period(Period)  # Period._make, inline
        _PERIOD_START(cycle, low)
        _PERIOD_END(cycle, high)
        days = (high - low).days
        explanation = _new_explanation(LineExplanation)
        _WHY_UNIT_PRICE(explanation, unit_price)
        _WHY_QUANTITY(explanation, quantity)
        _WHY_FACTOR(explanation, _ONE)
        _WHY_PERIOD(explanation, cycle)
        _WHY_CYCLE(explanation, cycle)
        _WHY_DAYS(explanation, days)
        _WHY_PERIOD_DAYS(explanation, days)
        _WHY_BASIS(explanation, basis)
        _WHY_REASON(explanation, reason if low == charge_start else None)
        _WHY_DISCOUNTS(explanation, taken)
        _WHY_USAGE(explanation, None)
        line = _line_of(
            recurring,
            code,
            description,
            key,
            cycle,
            quantity,
            unit_price,
            _ONE,
            amount,
            discount,
            rates,
            taxes,
            base,
            explanation,
        )
        _LINE_NET(line, net)
        if tax is not None:
            _LINE_TAX(line, tax)
            _LINE_TOTAL(line, total)
        found.append((order, low, line, untaxed, None))
        low = high


_new_line = object.__new__


def _undiscounted(charge: RecurringCharge, piece: Period | None, cycle: Period) -> _Priced | None:
    """A piece of a charge without discounts priced: what :func:`_price` gives it alone."""
    if piece is None:
        return None
    factor, days, whole = _day_count(charge, piece, cycle)
    return _Priced(_gross(charge, factor), factor, days, whole, charge, (), _NO_CODES)


def _line(
    member: _Member, due: _Priced | None, billed: _Priced | None, currency: str
) -> InvoiceLine | None:
    """The invoice line for the difference between the due and billed pricing of a member."""
    zero = Money.zero(currency)
    if billed is None and due is not None:  # a period billed for the first time
        amount = due.amount
        deltas = due.discounts
    else:
        amount = (due.amount if due else zero) - (billed.amount if billed else zero)
        deltas = {}
        for code in [*(due.discounts if due else ()), *(billed.discounts if billed else ())]:
            if code not in deltas:
                deltas[code] = (due.discounts.get(code, zero) if due else zero) - (
                    billed.discounts.get(code, zero) if billed else zero
                )
    line_discounts, discount = _taken(deltas, currency)
    if amount.is_zero() and not line_discounts and billed is not None:
        return None  # a period priced again to the same amount: nothing to bill
    charge = member.charge
    if isinstance(charge, OneTimeCharge):
        kind = LineKind.ADJUSTMENT if amount.is_negative() else LineKind.ONE_TIME
        explanation = LineExplanation._make(
            unit_price=charge.unit_price,
            quantity=charge.quantity,
            reason=charge.reason,
            discounts=line_discounts,
        )
        return _make_line(
            charge,
            kind,
            period=None,
            factor=_ONE,
            amount=amount,
            discount=discount,
            explanation=explanation,
        )
    period, factor, days, whole, credit = _difference(member, due, billed)
    if credit:
        kind = LineKind.PRORATION_CREDIT
    elif period == member.cycle and billed is None:
        kind = LineKind.RECURRING
    else:
        kind = LineKind.PRORATION_CHARGE
    explanation = _explanation(charge, period, member.cycle, factor, days, whole, line_discounts)
    return _make_line(
        charge,
        kind,
        period=period,
        factor=factor,
        amount=amount,
        discount=discount,
        explanation=explanation,
    )


def _explanation(  # noqa: PLR0917  (the facts of one line, in the order they are read)
    charge: RecurringCharge,
    period: Period,
    cycle: Period,
    factor: Fraction,
    days: int,
    whole: int,
    discounts: tuple[LineDiscount, ...],
) -> LineExplanation:
    """Why a line of ``charge`` for ``period`` (of billing period ``cycle``) costs what it costs.

    Built through its slots, each written once (a line's worth of the engine's time): what
    ``LineExplanation._make`` builds from the same values.
    """
    explanation = _new_explanation(LineExplanation)
    _WHY_UNIT_PRICE(explanation, charge.unit_price)
    _WHY_QUANTITY(explanation, charge.quantity)
    _WHY_FACTOR(explanation, factor)
    _WHY_PERIOD(explanation, period)
    _WHY_CYCLE(explanation, cycle)
    _WHY_DAYS(explanation, days)
    _WHY_PERIOD_DAYS(explanation, whole)
    _WHY_BASIS(explanation, charge.basis)
    # Why the charge started mid-cycle explains its first piece, not every later period.
    _WHY_REASON(explanation, charge.reason if period.start == charge.start else None)
    _WHY_DISCOUNTS(explanation, discounts)
    _WHY_USAGE(explanation, None)
    return explanation


_new_explanation = object.__new__
#: A recurring line's explanation written slot by slot (:func:`_explanation`): every field.
_WHY = slot_setters(LineExplanation)
_WHY_UNIT_PRICE = _WHY.pop("unit_price")
_WHY_QUANTITY = _WHY.pop("quantity")
_WHY_FACTOR = _WHY.pop("factor")
_WHY_PERIOD = _WHY.pop("period")
_WHY_CYCLE = _WHY.pop("cycle")
_WHY_DAYS = _WHY.pop("days")
_WHY_PERIOD_DAYS = _WHY.pop("period_days")
_WHY_BASIS = _WHY.pop("basis")
_WHY_REASON = _WHY.pop("reason")
_WHY_DISCOUNTS = _WHY.pop("discounts")
_WHY_USAGE = _WHY.pop("usage")  # what is left in _WHY: fields it does not write (none)


def _taken(deltas: Mapping[str, Money], currency: str) -> tuple[tuple[LineDiscount, ...], Money]:
    """What each discount took off a line (those that took something), and their total."""
    line_discounts = tuple(
        LineDiscount(code=code, amount=delta)
        for code, delta in deltas.items()
        if not delta.is_zero()
    )
    if not line_discounts:
        return (), Money.zero(currency)
    return line_discounts, Money.total((d.amount for d in line_discounts), currency=currency)


class _Whole:
    """What a discounted whole period of a charge comes to, priced alone (one per call)."""

    __slots__ = ("amount", "discount", "discounts", "net", "tax", "unused", "values")

    def __init__(
        self,
        amount: Money,
        discounts: tuple[LineDiscount, ...],
        discount: Money,
        tax: LineTax | None,
        unused: dict[str, Money],
    ) -> None:
        self.amount = amount  # the gross
        self.discounts = discounts  # what each discount took off
        self.discount = discount  # their total
        self.net = amount - discount
        self.tax = tax  # the tax of the net on a line of its own (None: taxed with the others)
        self.unused = unused  # what each fixed amount could not use
        self.values: _WholeValues | None = None  # its lines' shared values, once worked out


def _difference(
    member: _Member, due: _Priced | None, billed: _Priced | None
) -> tuple[Period, Fraction, int, int, bool]:
    """The period a difference line covers, its factor and days, and whether it credits."""
    new, old = member.due, member.billed
    if old is None or billed is None:
        assert new is not None  # noqa: S101
        assert due is not None  # noqa: S101
        return new, due.factor, due.days, due.whole, False
    if new is None or due is None:
        return old, billed.factor, billed.days, billed.whole, True
    whole = due.whole
    if new.end != old.end:
        # The charge now ends earlier (give back the rest) or runs longer (bill the rest):
        # the difference is the piece between the two ends, counted from the longer side.
        credit = new.end < old.end
        longer, shorter = (billed, due) if credit else (due, billed)
        return (
            Period._make(min(new.end, old.end), max(new.end, old.end)),
            longer.factor - shorter.factor,
            longer.days - shorter.days,
            whole,
            credit,
        )
    # Same piece, other discounts (a fixed amount spread over a changed period).
    return new, Fraction(0), 0, whole, due.amount - billed.amount < Money.zero(due.amount.currency)


def _make_line(
    charge: RecurringCharge | OneTimeCharge,
    kind: LineKind,
    *,
    period: Period | None,
    factor: Fraction,
    amount: Money,
    discount: Money,
    explanation: LineExplanation,
) -> InvoiceLine:
    # The charge was validated when it was built: the line needs no second check. Its taxes
    # and taxable base are filled in by _taxed, before anyone reads the line.
    return _line_of(
        kind,
        charge.code,
        charge.description,
        charge.key,
        period,
        charge.quantity,
        charge.unit_price,
        factor,
        amount,
        discount,
        charge.tax_rates,
        (),
        amount,  # until _taxed sets it
        explanation,
    )


def _line_of(  # noqa: PLR0917  (every field of a line, in order, on the hot path)
    kind: LineKind,
    code: str,
    description: str,
    key: str,
    period: Period | None,
    quantity: Decimal,
    unit_price: Money,
    factor: Fraction,
    amount: Money,
    discount: Money,
    rates: tuple[TaxRate, ...],
    taxes: tuple[tuple[TaxRate, Money], ...],
    base: Money,
    explanation: LineExplanation,
) -> InvoiceLine:
    """An :class:`InvoiceLine` of values the engine computed, written slot by slot (no check)."""
    line = _new_line(InvoiceLine)
    _SET_KIND(line, kind)
    _SET_CODE(line, code)
    _SET_DESCRIPTION(line, description)
    _SET_CHARGE_KEY(line, key)
    _SET_PERIOD(line, period)
    _SET_QUANTITY(line, quantity)
    _SET_UNIT_PRICE(line, unit_price)
    _SET_FACTOR(line, factor)
    _SET_AMOUNT(line, amount)
    _SET_DISCOUNT(line, discount)
    _SET_TAX_RATES(line, rates)
    _SET_TAXES(line, taxes)
    _SET_BASE(line, base)
    _SET_EXPLANATION(line, explanation)
    return line


_LINE_FIELDS = slot_setters(InvoiceLine)
#: In the order of the fields (the order _make_line and _unpack_line write them in).
_LINE_SETTERS = tuple(_LINE_FIELDS.values())
#: Each read as a global by :func:`_line_of` (no tuple unpacked per line).
(
    _SET_KIND,
    _SET_CODE,
    _SET_DESCRIPTION,
    _SET_CHARGE_KEY,
    _SET_PERIOD,
    _SET_QUANTITY,
    _SET_UNIT_PRICE,
    _SET_FACTOR,
    _SET_AMOUNT,
    _SET_DISCOUNT,
    _SET_TAX_RATES,
    _SET_TAXES,
    _SET_BASE,
    _SET_EXPLANATION,
) = _LINE_SETTERS


def _taxed(
    lines: list[InvoiceLine], billed: Sequence[Money | None], tax_rounding: TaxRounding
) -> list[InvoiceLine]:
    """Give the engine's new lines their taxes and taxable base (before anyone sees them).

    A line that bills the difference for a period already billed (``billed``: the net it
    was billed at) is taxed as that difference: the tax of the period now minus the tax it
    was billed with, each rounded once, so that per line the tax charged for a period never
    depends on how billing was split over runs. Tax rounded once per invoice is the
    documented exception: it depends on what the invoice holds.
    """
    if tax_rounding is TaxRounding.PER_LINE and all(len(line.tax_rates) <= 1 for line in lines):
        # The common case, line by line: what line_taxes gives each line, without its checks.
        for line, was in zip(lines, billed, strict=True):
            own = line.tax_rates
            if was is None and own and not own[0].inclusive:
                # One exclusive rate on a line billed once: its net (already rounded) is its
                # base; its tax, and so its cached tax and total, written here once.
                net = line.net
                rate = own[0]
                added = exclusive_tax(net, rate)
                _LINE_TAXES(line, ((rate, added),))
                _LINE_BASE(line, net)
                _LINE_TAX(line, added)
                _LINE_TOTAL(line, net + added)
                continue
            found = line_tax(line.net, own)
            if was is not None:
                found = _tax_difference(line_tax(line.net + was, own), line_tax(was, own))
            _LINE_TAXES(line, found.taxes)
            _LINE_BASE(line, found.base)
        return lines
    rates = [line.tax_rates for line in lines]
    if tax_rounding is TaxRounding.PER_LINE and any(was is not None for was in billed):
        nets = [
            line.net if was is None else line.net + was
            for line, was in zip(lines, billed, strict=True)
        ]
        now = line_taxes(nets, rates, tax_rounding=tax_rounding)
        before = line_taxes(
            [
                Money.zero(line.net.currency) if was is None else was
                for line, was in zip(lines, billed, strict=True)
            ],
            rates,
            tax_rounding=tax_rounding,
        )
        taxes: Sequence[LineTax] = [
            tax if was is None else _tax_difference(tax, old)
            for tax, old, was in zip(now, before, billed, strict=True)
        ]
    else:
        taxes = line_taxes([line.net for line in lines], rates, tax_rounding=tax_rounding)
    for line, tax in zip(lines, taxes, strict=True):
        # The lines were made by _make_line for this call only: filling them in place
        # spares a copy of each.
        _LINE_TAXES(line, tax.taxes)
        _LINE_BASE(line, tax.base)
    return lines


# The slots of the engine's new lines that _taxed fills in (before anyone reads them).
_LINE_TAXES = _LINE_FIELDS["taxes"]
_LINE_BASE = _LINE_FIELDS["base"]
# A frozen attrs class keeps each cached property's value in a slot of the property's name.
_LINE_NET = vars(InvoiceLine)["net"].__set__
_LINE_TAX = vars(InvoiceLine)["tax"].__set__
_LINE_TOTAL = vars(InvoiceLine)["total"].__set__


def _tax_difference(now: LineTax, before: LineTax) -> LineTax:
    """The tax of a period now minus the tax it was billed with, rate by rate."""
    return LineTax(
        base=now.base - before.base,
        taxes=tuple(
            (rate, amount - old)
            for (rate, amount), (_, old) in zip(now.taxes, before.taxes, strict=True)
        ),
    )


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
    subscription: ChargePlan,
    state: BillingState | None = None,
    *,
    as_of: date,
    usage: Iterable[UsageRecord] = (),
) -> BillingResult:
    """Return the invoice ``subscription`` owes by ``as_of`` beyond ``state``, and the new state.

    Recurring charges bill their periods (in advance: those started by ``as_of``; in
    arrears: those ended), prorated where partial; one-time charges due by ``as_of`` bill
    once. A period already billed is billed again only for what changed, as a difference:
    a charge whose end moved before what was billed gets back exactly what was charged for
    the unused part (after its discounts), so ``charged − credited`` is what billing with
    the end known charges. Discounts apply in their documented order, then taxes. The
    invoice is a draft (no number yet: numbering is the caller's sequence).

    Usage charges (``subscription.usage``) bill each period once it has ended, from the
    records in ``usage`` (any order; a record sent twice counts once; records of metrics
    no usage charge measures are ignored): one ``LineKind.USAGE`` line per period, its
    explanation holding the exact pieces of its price. A period already billed that
    records given now fall in is priced again with every record given for it, and the
    difference is billed as a ``LineKind.USAGE_CORRECTION`` line (a credit when negative).
    So ``usage`` must hold **every** record of each period it holds one of (a billed period
    none of whose records are given stays as billed); a record of a time-weighted metric
    (seats held) carries into the periods after it, so each billed period from the earliest
    record given is priced again with every record. Taxes apply to usage lines as to
    others, and so do invoice discounts: percentages per line, and a fixed amount's share of
    the period (what the period's recurring and one-time lines left of it).

    Raises:
        InvalidStateError: ``state`` holds a charge the subscription no longer has (end a
            charge with :meth:`~subbill.charges.RecurringCharge.ending`, never drop it).
        InvalidArgumentError: a record of ``usage`` is another subscription's, or two
            records share an idempotency key.
    """
    # A billing date up to MAX_DATE: what billing computes after it (period ends, due
    # dates) stays within the dates every value accepts.
    if not (type(as_of) is date and MIN_DATE <= as_of <= MAX_DATE):
        check_billing_date("as_of", as_of)  # raises the error that names it
    if not isinstance(subscription, ChargePlan):
        raise InvalidTypeError("subscription", subscription, "a ChargePlan")
    state = _NOTHING_BILLED if state is None else state
    if not isinstance(state, BillingState):
        raise InvalidTypeError("state", state, "a BillingState (or None before the first bill)")
    charges = subscription.charges
    if (
        len(charges) == 1
        and not subscription.discounts
        and not subscription.one_time
        and not subscription.usage
        and not state.one_time_billed
        and not state.usage_billed
        and (type(usage) is tuple or type(usage) is list)  # _no_records, inline
        and not usage
    ):
        # One recurring charge and nothing else (a plain subscription's plan), no record:
        # billed forward in one pass when it can be, else as any other plan.
        charge = charges[0]
        if not charge.discounts and charge.basis is not _THIRTY_DAY_MONTH:
            result = _bill_plain(subscription, charge, state, as_of)
            if result is not None:
                return result
    return _bill_general(subscription, state, as_of, usage)


def _bill_general(
    subscription: ChargePlan, state: BillingState, as_of: date, usage: Iterable[UsageRecord]
) -> BillingResult:
    """:func:`bill_subscription` of any plan, its arguments checked."""
    run = _Run(subscription, state)
    _check_state(subscription, state, fixed=run.fixed)
    terms = _check_terms(subscription, state)
    changed, spans, reached = run.changes(as_of, blocks=not run.fixed)
    one_time_billed = state.one_time_billed
    if subscription.one_time:
        billed_once = set(one_time_billed)
        for order, one_time in enumerate(subscription.one_time, start=len(subscription.charges)):
            if one_time.key not in billed_once and one_time.due_on <= as_of:
                member = _one_time_member(one_time, run.first_schedule(), order, billed=False)
                changed.append(member)
                billed_once.add(one_time.key)
        one_time_billed = frozenset(billed_once)
    usage_found: list[tuple[int, date, InvoiceLine, bool, Money | None]] = []
    usage_billed = state.usage_billed
    # No usage charge, no usage period billed and no record given (an empty list or tuple,
    # as a bill run passes): nothing to check nor to bill, the usage steps are skipped.
    if subscription.usage or state.usage_billed or not _no_records(usage):
        # After the other lines: a usage period gets what they left of a fixed amount.
        run.spans, run.one_time_billed = spans, one_time_billed
        usage_found, usage_billed = _bill_usage(run, as_of, usage)
    lines = run.lines(changed, spans, usage_found) if changed or usage_found else []
    new_terms = (
        _terms_now(terms, reached, state)
        if reached or usage_billed != state.usage_billed
        else state.terms
    )
    if not lines:
        unchanged = (
            reached == dict(state.billed_through)
            and new_terms == state.terms
            and usage_billed == state.usage_billed
        )
        return BillingResult(
            subscription=subscription.id,
            invoice=None,
            state=state
            if unchanged
            else BillingState._make(
                reached, state.one_time_billed, state.credit_balance, new_terms, usage_billed
            ),
        )
    currency = subscription.currency
    net, tax, breakdown = _sums(lines, currency)
    # What its lines' totals (base + tax each) add up to: the same Decimal, digits included
    # (exact sums from 0 of the same terms, in another order; never a negative zero).
    sum_of_lines = DECIMAL_CONTEXT.add(net, tax)
    total = Money._make(sum_of_lines, currency)
    credit_applied, balance = _credit_after(subscription, state.credit_balance, total)
    items = tuple(lines)
    invoice = Invoice._engine_draft(
        customer=subscription.customer,
        currency=currency,
        issued_on=as_of,
        due_on=as_of + _TERMS_DAYS[subscription.payment_terms_days],
        lines=items,
        subscription=subscription.id,
        discounts=_applied(subscription, lines, run.unused),
        taxes=breakdown,
        kind=DocumentKind.CREDIT_NOTE if sum_of_lines < 0 else DocumentKind.INVOICE,
        credit_applied=credit_applied,
    )
    # The invoice's totals, summed by _sums as its properties sum them, read without a pass.
    invoice_net = Money._make(net, currency)
    invoice_tax = Money._make(tax, currency)
    _INVOICE_NET(invoice, invoice_net)
    _INVOICE_TAX(invoice, invoice_tax)
    _INVOICE_TOTAL(invoice, total)
    new_state = BillingState._make(reached, one_time_billed, balance, new_terms, usage_billed)
    return _result(subscription.id, invoice, new_state)


def _credit_after(
    plan: ChargePlan, credit_balance: Money | None, total: Money
) -> tuple[Money | None, Money | None]:
    """What of the customer's credit an invoice of ``total`` uses, and the credit after it.

    A positive total uses what credit there is; a negative one (a credit note) is carried
    to the credit under :attr:`NegativeBalancePolicy.CARRY_FORWARD`. The credit after is
    ``None`` when there was none and there is none.
    """
    balance = credit_balance or Money.zero(total.currency)
    credit_applied = None
    amount = total.amount
    if amount > 0 and balance.amount > 0:
        credit_applied = min(balance, total)
        balance -= credit_applied
    elif amount < 0 and plan.negative_balance is NegativeBalancePolicy.CARRY_FORWARD:
        balance -= total
        if balance.amount >= MAX_AMOUNT:
            raise _balance_beyond(balance)
    return credit_applied, None if not balance.amount and credit_balance is None else balance


def _bill_plain(
    plan: ChargePlan, charge: RecurringCharge, state: BillingState, as_of: date
) -> BillingResult | None:
    """:func:`_bill_general` of a plan of one recurring charge billed forward, in one pass.

    The plan holds ``charge`` alone (no discount on it nor on the invoice, no one-time nor
    usage charge, not on the 30/360 basis), ``state`` nothing but what ``charge`` was billed
    through and at which terms (its own, or none recorded), and no usage record is given.
    What the general path does for such a plan, without the steps it skips when nothing
    applies: its periods from where billing stopped (nothing billed of them yet) up to what
    is due, each line priced alone, summed once, and the new state built as it is known.
    ``None`` when the call is anything else (nothing due, a credit, a period billed in
    part, terms that differ, a state that holds another key): the general path bills it.
    """
    key = charge.key
    billed_through: date | None = None
    through = state.billed_through
    if through:
        if len(through) != 1:
            return None
        name, billed_through = through[0]
        if name != key:
            return None
    digest = charge.terms_digest
    terms = state.terms
    if not terms:
        terms = ((key, digest),)
    elif len(terms) != 1 or terms[0][0] != key or terms[0][1] != digest:
        return None
    span = _plain_span(charge, billed_through, as_of)
    if span is None:
        return None
    _, dates, billed, due_through = span
    if len(dates) == 2:  # one billing period (the usual call): its line written at once
        low, high = dates
        if billed not in (low, charge.start):
            return None  # the period billing stopped in was billed in part
        if (low == billed and high == due_through) or charge.basis is _ACTUAL_DAYS:
            start = None if low == billed else billed  # where a first piece starts
            return _plain_period(plan, charge, state, as_of, terms, low, high, due_through, start)
    lines = _plain_lines(plan, charge, span)
    if lines is None:
        return None
    return _plain_result(plan, state, lines, as_of, {key: due_through}, terms)


def _plain_period(  # noqa: PLR0917  (one period's line written at once, on the hot path)
    plan: ChargePlan,
    charge: RecurringCharge,
    state: BillingState,
    as_of: date,
    terms: tuple[tuple[str, str], ...],
    low: date,
    high: date,
    due_through: date,
    start: date | None,
) -> BillingResult:
    """:func:`_plain_lines` and :func:`_plain_result` of one billing period ``[low, high)``.

    Its one line, due through ``due_through``: a ``RECURRING`` line of the whole period
    (:func:`_whole_values` and :func:`_whole_lines`' values), or, when the charge starts
    inside it (``start``, counted in actual days) or is due through a day inside it, a
    ``PRORATION_CHARGE`` line of the part due (:func:`_first_line`'s), written slot by slot
    and taxed as :func:`_taxed` taxes it; then the invoice and state around it
    (:func:`_one_line_result`).
    """
    cycle = _new_period(Period)  # Period._make, inline
    _PERIOD_START(cycle, low)
    _PERIOD_END(cycle, high)
    whole = (high - low).days
    rates = charge.tax_rates
    on_line = plan.tax_rounding is _PER_LINE
    zero = Money.zero(plan.currency)
    # Its taxes, base, tax and total, when taxed here (tax None: taxed by _taxed).
    taxes: tuple[tuple[TaxRate, Money], ...] = ()
    tax: Money | None = None
    total: Money | None = None
    if start is None and due_through >= high:  # the whole period
        kind = _RECURRING
        piece, factor, days = cycle, _ONE, whole
        amount = base = charge.whole_price
        if on_line and len(rates) == 1:
            found = charge.whole_tax
            assert found is not None  # noqa: S101  (a charge of one rate has it)
            taxes, base, tax, total = found.taxes, found.base, found.tax, found.total
    else:  # the part due ([start or low, due_through or high)), actual days
        kind = _PRORATION_CHARGE
        if start is None:
            start = low
        end = high if due_through >= high else due_through
        piece = _new_period(Period)
        _PERIOD_START(piece, start)
        _PERIOD_END(piece, end)
        days = (end - start).days
        factor = _fraction(days, whole)
        amount = base = charge.period_price._prorated(days, whole)  # _gross
        if on_line and len(rates) == 1:
            rate = rates[0]
            if rate.inclusive:  # worked back
                found = line_tax(amount, rates)
                taxes, base, tax, total = found.taxes, found.base, found.tax, found.total
            else:
                tax = exclusive_tax(amount, rate)
                taxes = ((rate, tax),)
                total = Money._make(DECIMAL_CONTEXT.add(amount.amount, tax.amount), tax.currency)
    if tax is None and on_line and not rates:
        tax, total = zero, amount
    explanation = _explanation(charge, piece, cycle, factor, days, whole, ())
    line = _line_of(
        kind,
        charge.code,
        charge.description,
        charge.key,
        piece,
        charge.quantity,
        charge.unit_price,
        factor,
        amount,
        zero,
        rates,
        taxes,
        base,
        explanation,
    )
    _LINE_NET(line, amount)  # amount − 0
    if tax is None or total is None:  # more than one rate, or tax rounded once per invoice
        _taxed([line], (None,), plan.tax_rounding)
        taxes, base, tax, total = line.taxes, line.base, line.tax, line.total
    else:
        _LINE_TAX(line, tax)
        _LINE_TOTAL(line, total)
    return _one_line_result(
        plan, state, line, taxes, base, tax, total, as_of, (charge.key, due_through), terms
    )


def _one_line_result(  # noqa: PLR0917  (the facts of one call, on the hot path)
    plan: ChargePlan,
    state: BillingState,
    line: InvoiceLine,
    taxes: tuple[tuple[TaxRate, Money], ...],
    line_base: Money,
    line_tax_: Money,
    line_total: Money,
    as_of: date,
    billed_through: tuple[str, date],
    terms: tuple[tuple[str, str], ...],
) -> BillingResult:
    """:func:`_plain_result` of one line without a discount: what it builds, fewer objects.

    ``taxes``, ``line_base``, ``line_tax_`` and ``line_total`` are the line's own. The
    invoice's sums are the line's amounts added to 0 (as :func:`_sums` adds them): where
    such a sum is the line's amount digit for digit, the invoice and its tax breakdown hold
    the line's own ``Money`` (a value: sharing it changes nothing anyone can see but
    ``is``). A line of more than one rate or of an inclusive one, or a sum that may reach
    the bound of an amount, is summed by :func:`_sums`. ``billed_through``: the charge's
    key and how far it is billed now.
    """
    currency = plan.currency
    base = line_base.amount
    tax_amount = line_tax_.amount
    add = DECIMAL_CONTEXT.add
    net = add(_NO_AMOUNT, base)
    tax = add(_NO_AMOUNT, tax_amount)
    sum_of_lines = add(net, tax)
    if (
        len(taxes) > 1
        or net.adjusted() >= _AMOUNT_DIGITS
        or tax.adjusted() >= _AMOUNT_DIGITS
        or sum_of_lines.adjusted() >= _AMOUNT_DIGITS
        or (taxes and taxes[0][0].inclusive)
    ):
        key, due_through = billed_through
        return _plain_result(plan, state, [line], as_of, {key: due_through}, terms)
    # x + 0 is x written alike unless x is -0 or has a positive exponent: compare_total tells.
    invoice_net = line_base if not net.compare_total(base) else Money._make(net, currency)
    invoice_tax = line_tax_ if not tax.compare_total(tax_amount) else Money._make(tax, currency)
    total = (
        line_total
        if not sum_of_lines.compare_total(line_total.amount)
        else Money._make(sum_of_lines, currency)
    )
    breakdown: tuple[TaxBreakdown, ...] = ()
    if taxes:
        row = _new_row(TaxBreakdown)
        _ROW_RATE(row, taxes[0][0])
        _ROW_BASE(row, invoice_net)
        _ROW_TAX(row, invoice_tax)
        breakdown = (row,)
    invoice, balance = _plain_draft(plan, state, (line,), breakdown, total, as_of)
    _INVOICE_NET(invoice, invoice_net)
    _INVOICE_TAX(invoice, invoice_tax)
    _INVOICE_TOTAL(invoice, total)
    new_state = _new_state(BillingState)  # BillingState._make of one charge, inline
    _SET_BILLED_THROUGH(new_state, (billed_through,))
    _SET_ONE_TIME_BILLED(new_state, state.one_time_billed)
    _SET_CREDIT_BALANCE(new_state, balance)
    _SET_TERMS(new_state, terms)
    _SET_USAGE_BILLED(new_state, state.usage_billed)
    return _result(plan.id, invoice, new_state)


_new_row = object.__new__
_ROW_RATE, _ROW_BASE, _ROW_TAX = slot_setters(TaxBreakdown).values()
_new_state = object.__new__
_SET_BILLED_THROUGH = _STATE_SLOTS["billed_through"]
_SET_ONE_TIME_BILLED = _STATE_SLOTS["one_time_billed"]
_SET_CREDIT_BALANCE = _STATE_SLOTS["credit_balance"]
_SET_TERMS = _STATE_SLOTS["terms"]
_SET_USAGE_BILLED = _STATE_SLOTS["usage_billed"]
# Enum members the one-pass path compares, read once (in CPython 3.11 a member read through
# its class is a Python-level call).
_ACTUAL_DAYS = ProrationBasis.ACTUAL_DAYS
_THIRTY_DAY_MONTH = ProrationBasis.THIRTY_DAY_MONTH
_IN_ADVANCE = BillingTiming.IN_ADVANCE
_PER_LINE = TaxRounding.PER_LINE
_CARRY_FORWARD = NegativeBalancePolicy.CARRY_FORWARD
_RECURRING = LineKind.RECURRING
_PRORATION_CHARGE = LineKind.PRORATION_CHARGE
_INVOICE = DocumentKind.INVOICE
_CREDIT_NOTE = DocumentKind.CREDIT_NOTE


def _plain_span(
    charge: RecurringCharge, billed_through: date | None, as_of: date
) -> tuple[int, list[date], date, date] | None:
    """What :meth:`_Run.changes` finds of ``charge`` billed forward: the periods to bill.

    The index of the first period, the periods' bounds (the last on or after what is due),
    where billing stopped and how far it is due; ``None`` when nothing is due beyond what
    was billed (nothing to bill, or a credit).
    """
    schedule = charge.schedule
    start, end = charge.start, charge.end
    period: tuple[date, date] | None = None  # the billing period of as_of (in advance)
    index = 0
    if charge.timing is _IN_ADVANCE:  # _due_end, its index asked once
        if as_of < start:
            return None
        index = schedule._index_of(as_of)
        period = schedule._bounds(index)
        reach: date | None = period[1] if end is None or period[1] <= end else end
    else:
        reach = _due_end(charge, schedule, as_of)
    if reach is None or (billed_through is not None and billed_through > reach):
        return None
    due_through = reach if end is None or reach <= end else end
    billed = start if billed_through is None or billed_through < start else billed_through
    if due_through <= billed:
        return None
    if period is not None and billed >= period[0]:
        # Billing stopped in the period of as_of, the last one due: that period alone.
        return index, list(period), billed, due_through
    first = schedule._index_of(billed)
    dates = schedule._dates_through(first, due_through)  # the last one is on or after it
    return first, dates, billed, due_through


def _plain_lines(
    plan: ChargePlan, charge: RecurringCharge, span: tuple[int, list[date], date, date]
) -> list[InvoiceLine] | None:
    """The taxed lines of the periods of ``span`` (:func:`_plain_span`), in order.

    ``None`` when the period billing stopped in was billed in part (both sides priced).
    """
    first, dates, billed, due_through = span
    count = len(dates) - 1
    # The whole periods [dates[lo], dates[hi]) and, around them, at most one piece each side.
    lo = 0 if dates[0] == billed else 1
    hi = count if dates[-1] == due_through else count - 1
    if lo and billed != charge.start:
        return None
    on_line = plan.tax_rounding is TaxRounding.PER_LINE
    found: list[tuple[int, date, InvoiceLine, bool, Money | None]] = []
    if lo < hi:
        if lo:
            _plain_piece(charge, first, dates, 0, due_through, on_line, found)
        wholes = dates if lo == 0 and hi == count else dates[lo : hi + 1]
        _whole_lines(_whole_values(charge, on_line=on_line), wholes, 0, found)
        if hi < count:
            _plain_piece(charge, first + hi, dates, hi, due_through, on_line, found)
    else:  # one or two periods, each due in part (the charge starts or ends inside it)
        for position in range(count):
            _plain_piece(charge, first + position, dates, position, due_through, on_line, found)
    lines: list[InvoiceLine] = []
    untaxed: list[InvoiceLine] = []
    for _, _, line, to_tax, _ in found:
        lines.append(line)
        if to_tax:
            untaxed.append(line)
    if untaxed:
        _taxed(untaxed, [None] * len(untaxed), plan.tax_rounding)
    return lines


def _plain_result(  # noqa: PLR0917  (the facts of one call, on the hot path)
    plan: ChargePlan,
    state: BillingState,
    lines: list[InvoiceLine],
    as_of: date,
    billed_through: Mapping[str, date],
    terms: tuple[tuple[str, str], ...],
) -> BillingResult:
    """The draft invoice of ``lines`` and the state after it, built as they are known."""
    currency = plan.currency
    net, tax, breakdown = _sums(lines, currency)
    sum_of_lines = DECIMAL_CONTEXT.add(net, tax)
    total = Money._make(sum_of_lines, currency)
    invoice, balance = _plain_draft(plan, state, tuple(lines), breakdown, total, as_of)
    _INVOICE_NET(invoice, Money._make(net, currency))
    _INVOICE_TAX(invoice, Money._make(tax, currency))
    _INVOICE_TOTAL(invoice, total)
    new_state = BillingState._make(
        billed_through, state.one_time_billed, balance, terms, state.usage_billed
    )
    return _result(plan.id, invoice, new_state)


def _plain_draft(  # noqa: PLR0917  (the facts of one call, on the hot path)
    plan: ChargePlan,
    state: BillingState,
    lines: tuple[InvoiceLine, ...],
    breakdown: tuple[TaxBreakdown, ...],
    total: Money,
    as_of: date,
) -> tuple[Invoice, Money | None]:
    """The draft invoice of ``lines`` (no discount) totalling ``total``, and the credit after it.

    Its totals are left to the caller, who summed them.
    """
    credit_balance = state.credit_balance
    credit_applied = None
    balance: Money | None = None  # no credit before, none after
    negative = total.amount < _NO_AMOUNT
    if credit_balance is not None or (negative and plan.negative_balance is _CARRY_FORWARD):
        credit_applied, balance = _credit_after(plan, credit_balance, total)
    invoice = Invoice._engine_draft(
        customer=plan.customer,
        currency=plan.currency,
        issued_on=as_of,
        due_on=as_of + _TERMS_DAYS[plan.payment_terms_days],
        lines=lines,
        subscription=plan.id,
        discounts=(),
        taxes=breakdown,
        kind=_CREDIT_NOTE if negative else _INVOICE,
        credit_applied=credit_applied,
    )
    return invoice, balance


def _plain_piece(  # noqa: PLR0917  (one billing period's facts, on the hot path)
    charge: RecurringCharge,
    index: int,
    dates: Sequence[date],
    position: int,
    due_through: date,
    on_line: bool,
    found: list[tuple[int, date, InvoiceLine, bool, Money | None]],
) -> None:
    """The line of the period ``[dates[position], dates[position + 1])`` due in part.

    What :meth:`_Run.alone` gives the member of that period billed for the first time.
    """
    cycle = Period._make(dates[position], dates[position + 1])
    due = _cut(cycle, charge.start, due_through)
    assert due is not None  # noqa: S101  (a period of the charge's, due in part)
    member = _Member(charge, cycle, due, None, index, 0)
    line, taxed = _first_line(member, charge, on_line=on_line)
    found.append((0, cycle.start, line, not taxed, None))


# A frozen attrs class keeps each cached property's value in a slot of the property's name.
_INVOICE_NET = vars(Invoice)["net"].__set__
_INVOICE_TAX = vars(Invoice)["tax"].__set__
_INVOICE_TOTAL = vars(Invoice)["total"].__set__


def _no_records(usage: Iterable[UsageRecord]) -> bool:
    """Whether ``usage`` is known to hold no record without iterating it: an empty list or tuple.

    Any other iterable (a generator, a set) is read by the usage steps, which check it.
    """
    return (type(usage) is tuple or type(usage) is list) and not usage


def _sums(
    lines: Sequence[InvoiceLine], currency: str
) -> tuple[Decimal, Decimal, tuple[TaxBreakdown, ...]]:
    """The sums of the lines' bases and taxes, and the invoice's tax breakdown, bounded.

    Each line is within the bound of an amount, their sums need not be: an invoice whose
    sums (its subtotal and discounts too) or breakdown reach it is refused here
    (:func:`~subbill.invoices.check_document_sums`: nothing billed, the state unchanged)
    rather than stored and then unreadable.

    Summed from 0 in the lines' order, as the invoice's properties sum them (the same
    Decimal additions, so the same values, written the same). The breakdown is what
    :func:`~subbill.taxes.tax_breakdown` gives the lines: summed here when every line has
    the same one rate or none (the common case), else asked of it.
    """
    add = DECIMAL_CONTEXT.add
    discounts = net = tax = rate_base = rate_tax = _NO_AMOUNT
    rate: TaxRate | None = None
    mixed = False  # lines of several rates, or of more than one rate each
    discounted = False  # a line with a discount
    for line in lines:
        discount = line.discount.amount
        if discount:
            discounted = True
            discounts = add(discounts, discount)
        base = line.base.amount
        line_tax = line.tax.amount
        net = add(net, base)
        tax = add(tax, line_tax)
        taxes = line.taxes
        if not taxes:
            continue
        if len(taxes) != 1 or (rate is not None and taxes[0][0] is not rate):
            mixed = True
        rate = taxes[0][0]
        rate_base = add(rate_base, base)
        rate_tax = add(rate_tax, line_tax)  # its one amount (added to 0: the same sum)
    if mixed:
        breakdown = tax_breakdown(lines, currency=currency)
    elif rate is None:
        breakdown = ()
    else:
        breakdown = (
            TaxBreakdown(
                rate=rate,
                base=Money._make(rate_base, currency),
                tax=Money._make(rate_tax, currency),
            ),
        )
    # A line's amount is its net plus its discount, and an untaxed or exclusively taxed
    # line's net is its base: without discounts nor inclusive rates the subtotal is the net
    # (summed above); else the amounts are summed.
    subtotal = net
    if discounted or mixed or (rate is not None and rate.inclusive):
        subtotal = _NO_AMOUNT
        for line in lines:
            subtotal = add(subtotal, line.amount.amount)
    total = add(net, tax)
    if (
        subtotal.adjusted() >= _AMOUNT_DIGITS
        or discounts.adjusted() >= _AMOUNT_DIGITS
        or net.adjusted() >= _AMOUNT_DIGITS
        or tax.adjusted() >= _AMOUNT_DIGITS
        or total.adjusted() >= _AMOUNT_DIGITS
        or mixed
        or rate_base.adjusted() >= _AMOUNT_DIGITS
    ):  # one may reach the bound (or several rows to look at): named by the check
        sums = (
            ("subtotal", subtotal),
            ("discount_total", discounts),
            ("net", net),
            ("tax", tax),
            ("total", total),
        )
        check_document_sums(currency, sums, breakdown)
    return net, tax, breakdown


def _terms_now(
    terms: Mapping[str, str], reached: Mapping[str, date], state: BillingState
) -> tuple[tuple[str, str], ...]:
    """The terms of what is billed now: of each charge billed, the invoice discounts, usage.

    The state's own tuple when they did not change (states then share it).
    """
    kept = [
        (key, digest)
        for key, digest in terms.items()
        if key in reached or key.startswith(("discount:", "usage:"))
    ]
    if len(kept) > 1:
        kept.sort()
    now = tuple(kept)
    return state.terms if now == state.terms else now


def _result(subscription: str, invoice: Invoice, state: BillingState) -> BillingResult:
    """A :class:`BillingResult` built without its ``__init__`` (values the engine made)."""
    result = object.__new__(BillingResult)
    set_subscription, set_invoice, set_state = _RESULT_SETTERS
    set_subscription(result, subscription)
    set_invoice(result, invoice)
    set_state(result, state)
    return result


_NO_AMOUNT = Decimal(0)
#: A sum is at least MAX_AMOUNT in magnitude when its adjusted exponent is this (sums of
#: amounts of at most 9 places, never a zero with a positive exponent).
_AMOUNT_DIGITS = MAX_AMOUNT.adjusted()


def _FIRST_INDEX(_day: date) -> int:  # noqa: N802  (a constant function)
    """The index of a one-time charge's only period, whatever the day."""
    return 0


#: ``timedelta(days=n)`` of every payment term ``n`` (0 to 365 days).
_TERMS_DAYS = tuple(timedelta(days=days) for days in range(MAX_PAYMENT_TERMS_DAYS + 1))


class _Run:
    """One call of :func:`bill_subscription`: what its steps share."""

    def __init__(self, subscription: ChargePlan, state: BillingState) -> None:
        self.subscription = subscription
        self.state = state
        self._origin_index: dict[str, Callable[[date], int]] = {}
        self._windows: dict[
            str, tuple[list[tuple[Discount, _Window]], list[tuple[Discount, _Window]]]
        ] = {}
        self._whole: dict[tuple[str, tuple[int, ...], frozenset[str]], _Whole] = {}
        #: Whether an invoice fixed amount is spread over the lines of each billing period.
        self.fixed = bool(subscription.discounts) and any(
            d.kind is DiscountKind.FIXED_AMOUNT for d in subscription.discounts
        )
        #: What each fixed amount could not use on the lines of this call, by code.
        self.unused: dict[str, Money] = {}
        #: Per charge ``(due through, billed through)`` and the one-time charges billed, once
        #: this call's changes are known (what a usage period's fixed amounts depend on).
        self.spans: Mapping[str, tuple[date, date]] = {}
        self.one_time_billed: frozenset[str] = frozenset()
        #: What the other lines of a billing period left of each fixed amount (cached).
        self.left: dict[Period, dict[str, Money]] = {}

    def first_schedule(self) -> BillingSchedule | None:
        """The schedule of the subscription's billing periods (``None``: no recurring charge).

        That of its earliest charge (by start, then key), whatever order they are listed in.
        """
        charges = self.subscription.charges
        if not charges:
            return None
        return min(charges, key=lambda c: (c.start, c.key)).schedule

    def origin_index(self, charge: RecurringCharge | OneTimeCharge) -> Callable[[date], int]:
        """``day -> index of its billing period`` in ``charge``'s schedule (cached)."""
        if isinstance(charge, OneTimeCharge):
            return _FIRST_INDEX
        key = charge.key
        found = self._origin_index.get(key)
        if found is not None:
            return found
        schedule = charge.schedule
        indices: dict[date, int] = {}

        def index(day: date) -> int:
            found = indices.get(day)
            if found is None:
                found = indices[day] = schedule.index_of(day)
            return found

        self._origin_index[key] = index
        return index

    def windows(
        self, charge: RecurringCharge
    ) -> tuple[list[tuple[Discount, _Window]], list[tuple[Discount, _Window]]]:
        """The periods each of ``charge``'s discounts and each invoice one covers (cached).

        The invoice discounts that do not cover the charge's product are left out.
        """
        key = charge.key
        found = self._windows.get(key)
        if found is None:
            index_of = self.origin_index(charge)
            found = self._windows[key] = (
                [(d, _window(d, charge, index_of)) for d in charge.discounts],
                [
                    (d, _window(d, charge, index_of))
                    for d in self.subscription.discounts
                    if d.covers(charge.code)
                ],
            )
        return found

    def changes(
        self, as_of: date, *, blocks: bool = False
    ) -> tuple[list[_Member | _Wholes], dict[str, tuple[date, date]], dict[str, date]]:
        """The (charge, period) pairs whose due piece differs from the billed one.

        Also returns, per charge, ``(due through, billed through)``, and the new billed-through
        dates. ``blocks``: a charge's whole periods billed for the first time come as one
        :class:`_Wholes` (in the place of its first period), not one :class:`_Member` each.
        """
        reached: dict[str, date] = dict(self.state.billed_through)
        spans: dict[str, tuple[date, date]] = {}
        changed: list[_Member | _Wholes] = []
        for order, charge in enumerate(self.subscription.charges):
            key = charge.key
            schedule = charge.schedule
            billed_through = reached.get(key)
            reach = _due_end(charge, schedule, as_of)
            if reach is None:
                if billed_through is None:
                    continue  # not due yet, never billed
                reach = billed_through
            elif billed_through is not None and billed_through > reach:
                reach = billed_through
            start, end = charge.start, charge.end
            due_through = reach if end is None or reach <= end else end
            billed = start if billed_through is None or billed_through < start else billed_through
            spans[key] = (due_through, billed)
            reached[key] = due_through
            if due_through == billed:
                continue
            low, high = (due_through, billed) if due_through < billed else (billed, due_through)
            first = schedule._index_of(low)
            dates = schedule._dates_through(first, high)  # the last one is on or after high
            count = len(dates) - 1  # billing periods
            # The whole periods billed for the first time, [dates[lo], dates[hi]): those
            # from billed (dates[0] <= billed < dates[1]) up to due_through (dates[-2] <
            # due_through <= dates[-1]); billed >= start, so each is due whole.
            lo = hi = 0
            if billed < due_through:
                lo = 0 if dates[0] == billed else 1
                hi = count if dates[-1] == due_through else count - 1
            if blocks and lo < hi and charge.basis is not ProrationBasis.THIRTY_DAY_MONTH:
                # (a 30/360 period tells 30 days, not its own: one member each, as alone())
                # Before the block (at most one period), the block, after it (at most one).
                if lo:
                    _add_member(
                        changed, charge, order, first, dates[0], dates[1], due_through, billed
                    )
                changed.append(_Wholes(charge, order, first + lo, dates[lo : hi + 1]))
                if hi < count:
                    _add_member(
                        changed,
                        charge,
                        order,
                        first + hi,
                        dates[hi],
                        dates[-1],
                        due_through,
                        billed,
                    )
                continue
            for position in range(count):
                if lo <= position < hi:
                    # A whole period billed for the first time (billed >= start).
                    cycle = _new_period(Period)  # Period._make, inline: one per billing period
                    _PERIOD_START(cycle, dates[position])
                    _PERIOD_END(cycle, dates[position + 1])
                    changed.append(_Member(charge, cycle, cycle, None, first + position, order))
                    continue
                _add_member(
                    changed,
                    charge,
                    order,
                    first + position,
                    dates[position],
                    dates[position + 1],
                    due_through,
                    billed,
                )
        return changed, spans, reached

    def whole(self, member: _Member, *, on_line: bool) -> _Whole:
        """What the discounts that apply take off ``member``'s whole period (priced alone).

        The same for every whole period of its charge that the same discounts apply to:
        priced once per call.
        """
        line_discounts, codes = _discounts_of(member, self.subscription.discounts, self)
        key = (member.charge.key, tuple(map(id, line_discounts)), codes)
        found = self._whole.get(key)
        if found is not None:
            return found
        currency = self.subscription.currency
        priced, unused = _price(
            [member],
            self.subscription.discounts,
            self,
            member.cycle,
            due_side=True,
        )
        due = priced[0]
        assert due is not None  # noqa: S101  (due: billed for the first time)
        taken, discount = _taken(due.discounts, currency)
        rates = member.charge.tax_rates
        whole = _Whole(due.amount, taken, discount, None, unused)
        if on_line and len(rates) <= 1:
            whole.tax = line_tax(whole.net, rates)
        self._whole[key] = whole
        return whole

    def add_unused(self, unused: Mapping[str, Money]) -> None:
        """Add what each fixed amount could not use on a line to :attr:`unused`, by code."""
        for code, amount in unused.items():
            self.unused[code] = self.unused.get(code, Money.zero(amount.currency)) + amount

    def alone(
        self,
        member: _Member,
        found: list[tuple[int, date, InvoiceLine, bool, Money | None]],
        *,
        on_line: bool,
    ) -> bool:
        """Price a member on its own, its line (if any) added to ``found``.

        ``False`` (nothing done) when it is priced with the discount engine: a one-time
        charge, or a discount that applies to a piece that is not a whole period billed for
        the first time.
        """
        charge = member.charge
        if not isinstance(charge, RecurringCharge):
            return False
        invoice_discounts = self.subscription.discounts
        whole = None
        if (charge.discounts or invoice_discounts) and _discounted(member, invoice_discounts, self):
            if member.billed is not None or member.due is not member.cycle or self.fixed:
                return False
            # A whole period with discounts, billed for the first time: priced once per call
            # for the discounts that apply.
            whole = self.whole(member, on_line=on_line)
            self.add_unused(whole.unused)
        elif member.billed is not None:
            # Nothing to take off: each piece is its gross, priced on its own.
            due = _undiscounted(charge, member.due, member.cycle)
            billed = _undiscounted(charge, member.billed, member.cycle)
            difference = _line(member, due, billed, charge.currency)
            if difference is not None:
                was = None if billed is None else billed.amount
                found.append((member.order, member.cycle.start, difference, True, was))
            return True
        # A period billed for the first time, its gross or ``whole``.
        cycle = member.cycle
        if member.due is cycle and charge.basis is not ProrationBasis.THIRTY_DAY_MONTH:
            values = _whole_values(charge, on_line=on_line, discounted=whole)
            _whole_lines(values, (cycle.start, cycle.end), member.order, found)
            return True
        line, taxed = _first_line(member, charge, on_line=on_line, discounted=whole)
        found.append((member.order, cycle.start, line, not taxed, None))
        return True

    def lines(
        self,
        changed: list[_Member | _Wholes],
        spans: Mapping[str, tuple[date, date]],
        usage: Sequence[tuple[int, date, InvoiceLine, bool, Money | None]] = (),
    ) -> list[InvoiceLine]:
        """Price the changed members (due and billed sides): the taxed difference lines.

        Each member is priced alone, unless an invoice fixed amount is spread over the lines
        of each billing period (:func:`_groups`; :meth:`changes` then gives no
        :class:`_Wholes`). ``usage``: the usage lines, to be taxed with the others
        (:func:`_bill_usage`).
        """
        subscription = self.subscription
        # A line billed once on a per-line rounding of at most one rate is taxed as it is made.
        on_line = subscription.tax_rounding is TaxRounding.PER_LINE
        # (charge order, period start, line, whether to tax it, the net it was billed at)
        found: list[tuple[int, date, InvoiceLine, bool, Money | None]] = list(usage)
        if self.fixed:
            members = [member for member in changed if isinstance(member, _Member)]
            for period, group in _groups(self, members, spans):
                if len(group) != 1 or not self.alone(group[0], found, on_line=on_line):
                    self.priced(period, group, found)
        else:
            for member in changed:
                if isinstance(member, _Wholes):
                    self.wholes(member, found, on_line=on_line)
                elif not self.alone(member, found, on_line=on_line):
                    self.priced(member.cycle, [member], found)
        if len(found) > 1:
            found.sort(key=_LINE_ORDER)  # by charge, then period
        untaxed = [(line, was) for _, _, line, tax, was in found if tax]
        if untaxed:
            _taxed(
                [line for line, _ in untaxed],
                [was for _, was in untaxed],
                subscription.tax_rounding,
            )
        return [item[2] for item in found]

    def wholes(
        self,
        block: _Wholes,
        found: list[tuple[int, date, InvoiceLine, bool, Money | None]],
        *,
        on_line: bool,
    ) -> None:
        """The lines of a charge's whole periods billed for the first time, to ``found``.

        The periods the same discounts apply to (most often all) share their values, worked
        out once per call; each line is written from them (:func:`_whole_lines`).
        """
        charge, order, dates = block.charge, block.order, block.dates
        own, shared = (
            self.windows(charge) if charge.discounts or self.subscription.discounts else _NO_WINDOWS
        )
        if not own and not shared:  # no discount could apply: every period at its gross
            _whole_lines(_whole_values(charge, on_line=on_line), dates, order, found)
            return
        first = block.first
        count = len(dates) - 1
        position = 0
        while position < count:
            # The discounts that apply to the period at position, and the periods after it
            # that the same ones apply to.
            applicable = _applicable(own, shared, first + position, dates[position])
            end = position + 1
            while end < count and _applicable(own, shared, first + end, dates[end]) == applicable:
                end += 1
            if applicable is _NOTHING_APPLIES:
                values = _whole_values(charge, on_line=on_line)
            else:
                cycle = Period._make(dates[position], dates[position + 1])
                member = _Member(charge, cycle, cycle, None, first + position, order)
                member.applicable = applicable
                whole = self.whole(member, on_line=on_line)
                if whole.unused:
                    for _ in range(end - position):
                        self.add_unused(whole.unused)
                found_values = whole.values
                if found_values is None:
                    found_values = whole.values = _whole_values(
                        charge, on_line=on_line, discounted=whole
                    )
                values = found_values
            _whole_lines(values, dates[position : end + 1], order, found)
            position = end

    def priced(
        self,
        period: Period,
        members: list[_Member],
        found: list[tuple[int, date, InvoiceLine, bool, Money | None]],
    ) -> None:
        """Price ``members`` (of one billing ``period``) with the discount engine, both sides.

        Adds their difference lines to ``found``, and what fixed amounts could not use to
        :attr:`unused`.
        """
        subscription = self.subscription
        currency = subscription.currency
        invoice_discounts = subscription.discounts
        zero = Money.zero(currency)
        due_side, due_unused = _price(members, invoice_discounts, self, period, due_side=True)
        if any(member.billed is not None for member in members):
            billed_side, billed_unused = _price(
                members, invoice_discounts, self, period, due_side=False
            )
        else:  # periods billed for the first time: nothing was billed to price again
            billed_side, billed_unused = [None] * len(members), {}
        # In the order the discounts were priced (a set's order would vary with the hash
        # seed: the same invoice would list its discounts differently in two processes).
        for code in dict.fromkeys((*due_unused, *billed_unused)):
            delta = due_unused.get(code, zero) - billed_unused.get(code, zero)
            self.unused[code] = self.unused.get(code, zero) + delta
        for member, due, billed in zip(members, due_side, billed_side, strict=True):
            line = _line(member, due, billed, currency)
            if line is not None:
                # What the period was billed at (net), to tax the difference exactly.
                was = None if billed is None else billed.amount - billed.total_discount
                found.append((member.order, member.cycle.start, line, True, was))


_LINE_ORDER = operator.itemgetter(0, 1)
_new_period = object.__new__
_PERIOD_START = vars(Period)["start"].__set__
_PERIOD_END = vars(Period)["end"].__set__


def _check_terms(subscription: ChargePlan, state: BillingState) -> dict[str, str]:
    """Refuse to price billed periods again at other terms; return the terms of this call.

    A charge billed at one price, quantity, calendar, discounts or taxes keeps them for the
    periods billed (a new price is a new charge from a date:
    :meth:`~subbill.charges.RecurringCharge.change`). An invoice discount that reduced billed
    periods stays as it was; one added later must start after them (``starts_on``). A state
    without recorded terms (stored by subbill 0.1) is trusted, and its terms recorded.
    """
    terms: dict[str, str] = {}
    if not state.terms:  # nothing recorded yet (never billed, or billed by subbill 0.1)
        for charge in subscription.charges:
            terms[charge.key] = charge.terms_digest
        for discount in subscription.discounts:
            terms[f"discount:{discount.code}"] = discount.terms_digest
        for usage in subscription.usage:
            terms[f"usage:{usage.key}"] = usage.terms_digest
        return terms
    known = dict(state.terms)
    if subscription.usage:
        _check_usage_terms(subscription, state, known, terms)
    for charge in subscription.charges:
        digest = charge.terms_digest
        key = charge.key
        before = known.get(key)
        if (
            before is not None
            and before != digest
            and (billed := state.billed_through_of(key)) is not None
            and billed > charge.start
        ):
            raise InvalidStateError(
                f"charge {charge.key!r} of subscription {subscription.id!r} was billed through "
                f"{billed.isoformat()} at other terms (price, quantity, calendar, discounts or "
                "taxes); billed periods keep their terms: a new price or quantity is a new "
                "charge from a date (RecurringCharge.change(on=…))"
            )
        terms[key] = digest
    for discount in subscription.discounts:
        key = f"discount:{discount.code}"
        digest = discount.terms_digest
        before = known.get(key)
        if before is not None and before != digest:
            raise InvalidStateError(
                f"invoice discount {discount.code!r} of subscription {subscription.id!r} "
                "changed after it reduced billed periods; it stays as it was (its duration "
                "ends it)"
            )
        if before is None and _reaches_billed(discount, subscription, state):
            horizon = max((day for _, day in state.billed_through), default=None)
            through = horizon.isoformat() if horizon is not None else "its billed periods"
            raise InvalidStateError(
                f"invoice discount {discount.code!r} of subscription {subscription.id!r} is new "
                f"but would reduce periods billed through {through}: give it a starts_on in a "
                "billing period that has not been billed (a duration counts from the whole "
                "period that contains it)"
            )
        terms[key] = digest
    for key in known:
        if key.startswith("discount:") and key not in terms:
            raise InvalidStateError(
                f"invoice discount {key.removeprefix('discount:')!r} of subscription "
                f"{subscription.id!r} reduced billed periods and is no longer there; it stays "
                "as it was (its duration ends it)"
            )
    return terms


def _check_usage_terms(
    subscription: ChargePlan, state: BillingState, known: Mapping[str, str], terms: dict[str, str]
) -> None:
    """Refuse a billed usage charge at other terms; add each usage charge's to ``terms``.

    A usage period billed may be priced again (late records): always at the terms it was
    billed at. A usage charge billed before its terms were recorded is trusted.
    """
    billed = {key for key, _start, _amount in state.usage_billed}
    for usage in subscription.usage:
        key = f"usage:{usage.key}"
        digest = usage.terms_digest
        before = known.get(key)
        if before is not None and before != digest and usage.key in billed:
            first = min(start for k, start, _ in state.usage_billed if k == usage.key)
            raise InvalidStateError(
                f"usage charge {usage.key!r} of subscription {subscription.id!r} was billed "
                f"for periods from {first.isoformat()} at other terms (metric, model, prices, "
                "transformation, minimum, maximum, taxes or calendar); billed periods keep "
                "their terms: end it on a date (ScheduledUsage.ending(on=…)) and start "
                "another from that date"
            )
        terms[key] = digest


def _reaches_billed(discount: Discount, subscription: ChargePlan, state: BillingState) -> bool:
    """Whether a new ``discount`` would reduce a period already billed, even in part.

    A duration counts from the whole billing period that contains ``starts_on``, so a
    discount starting inside a period that was billed (even partly) reaches it. So does
    one that covers a usage charge whose period holding the start was billed (a late
    record would re-rate that period with a discount it never had).
    """
    for usage in subscription.usage if state.usage_billed else ():
        starts = [start for key, start, _ in state.usage_billed if key == usage.key]
        if starts and discount.covers(usage.code):
            origin = discount.starts_on or usage.start
            if usage.schedule.period_containing(origin).start <= max(starts):
                return True
    for charge in subscription.charges:
        billed = state.billed_through_of(charge.key)
        if billed is None or billed <= charge.start:
            continue
        origin = discount.starts_on or charge.start
        if charge.schedule.period_containing(origin).start < billed:
            return True
    return False


def _check_state(subscription: ChargePlan, state: BillingState, *, fixed: bool) -> None:
    """Refuse a state that billed recurring charges the subscription no longer has.

    ``fixed``: whether the subscription has an invoice fixed amount.
    """
    keys = {charge.key for charge in subscription.charges} if state.billed_through else ()
    for key, through in state.billed_through:
        if key not in keys and not _nothing_billed(key, through):
            raise InvalidStateError(
                f"charge {key!r} of subscription {subscription.id!r} was billed through "
                f"{through.isoformat()} but is no longer among its charges; end it on a date "
                "(RecurringCharge.ending, a plan change or a cancellation) instead of removing "
                "it, so that what was billed is credited"
            )
    # A one-time charge billed once is never billed again, whether or not the caller still
    # lists it: its key stays in ``one_time_billed``. But an invoice fixed amount is shared
    # with the one-time lines of its period: dropping one would re-price that period.
    if fixed:
        listed = {charge.key for charge in subscription.one_time}
        for key in sorted(state.one_time_billed - listed):
            raise InvalidStateError(
                f"one-time charge {key!r} of subscription {subscription.id!r} was billed and "
                "shares an invoice fixed amount with its billing period: keep it listed"
            )


def _check_usage_state(subscription: ChargePlan, state: BillingState) -> None:
    """Refuse a state that billed usage periods of a usage charge the plan no longer has."""
    keys = {usage.key for usage in subscription.usage}
    for key, start, _amount in state.usage_billed:
        if key not in keys:
            raise InvalidStateError(
                f"usage charge {key!r} of subscription {subscription.id!r} was billed for the "
                f"period from {start.isoformat()} but is no longer among its usage charges; "
                "end it on a date (ScheduledUsage.ending) instead of removing it, so that "
                "late records of its billed periods are still billed"
            )


def _usage_records(
    subscription: ChargePlan, usage: Iterable[UsageRecord]
) -> dict[str, list[UsageRecord]]:
    """The records of each metric of ``subscription`` (each key once)."""
    by_metric: dict[str, list[UsageRecord]] = {}
    for record in deduplicate(usage):
        if record.subscription != subscription.id:
            raise InvalidArgumentError(
                f"usage record {record.key!r} is of subscription {record.subscription!r}, not "
                f"{subscription.id!r}: give each subscription its own records"
            )
        by_metric.setdefault(record.metric, []).append(record)
    return by_metric


def _usage_piece(usage: ScheduledUsage, cycle: Period) -> Period | None:
    """The part of billing period ``cycle`` that ``usage`` covers (``None``: none)."""
    return _cut(cycle, usage.start, usage.end if usage.end is not None else cycle.end)


def _price_period(
    usage: ScheduledUsage, records: Sequence[UsageRecord], piece: Period, cycle: Period
) -> UsagePrice:
    """Price ``usage`` for ``piece`` of billing period ``cycle`` with ``records``."""
    charge = usage.charge
    share = _ONE if piece == cycle else Fraction(piece.days, cycle.days)
    if isinstance(charge.model, Percentage) and charge.model.prices_each_transaction:
        return price_usage(charge, records, piece, share=share)
    measured = aggregate(charge.metric, records, piece)
    if charge.metric.aggregation is Aggregation.TIME_WEIGHTED:
        measured *= share  # value-days over the whole period's days
    return price_usage(charge, measured, piece, share=share)


def _bill_usage(
    run: _Run, as_of: date, usage: Iterable[UsageRecord]
) -> tuple[
    list[tuple[int, date, InvoiceLine, bool, Money | None]], tuple[tuple[str, date, Decimal], ...]
]:
    """The usage lines due by ``as_of`` (untaxed), and the usage periods billed after them.

    Each usage period that has ended by ``as_of`` and was never billed gives a line; each
    billed one that a record given now falls in is priced again with every record given
    for it, its difference billed (a correction line).
    """
    subscription, state = run.subscription, run.state
    _check_usage_state(subscription, state)
    by_metric = _usage_records(subscription, usage)
    billed: dict[tuple[str, date], Decimal] = {
        (key, start): amount for key, start, amount in state.usage_billed
    }
    found: list[tuple[int, date, InvoiceLine, bool, Money | None]] = []
    order = len(subscription.charges) + len(subscription.one_time)
    currency = subscription.currency
    for position, scheduled in enumerate(subscription.usage, start=order):
        key = scheduled.key
        schedule = scheduled.schedule
        records = by_metric.get(scheduled.charge.metric.code, [])
        last = max((start for k, start in billed if k == key), default=None)
        # The billing periods to price: those never billed that have ended, then the billed
        # ones a record given now falls in.
        todo: dict[date, tuple[Period, Period, Decimal | None]] = {}
        first = scheduled.start if last is None else last
        end = scheduled.end
        high = as_of if end is None else min(as_of, end)
        if first < high:
            for _index, cycle in _cycles(schedule, first, high):
                piece = _usage_piece(scheduled, cycle)
                if piece is None or piece.end > as_of or piece.start < first:
                    continue
                if (key, piece.start) not in billed:
                    todo[piece.start] = (piece, cycle, None)
        for record in records:
            day = record.used_on
            if day < scheduled.start or (end is not None and day >= end):
                continue
            cycle = schedule.period_containing(day)
            piece = _usage_piece(scheduled, cycle)
            if piece is None or piece.start in todo:
                continue
            was = billed.get((key, piece.start))
            if was is not None:
                todo[piece.start] = (piece, cycle, was)
        _carry_forward(todo, scheduled, billed, records)
        held = _HeldValues(scheduled, records)
        for start in sorted(todo):
            piece, cycle, was = todo[start]
            price = _price_again(scheduled, records, piece, cycle, was, held)
            if price is None:
                continue  # a billed period of a gauge known unchanged
            billed[(key, start)] = price.amount.amount
            discounts = _usage_discounts(subscription.discounts, scheduled, cycle)
            fixed, alone = _usage_fixed(run, scheduled, piece, cycle, discounts)
            line = _usage_line(scheduled, price, cycle, was, currency, discounts, fixed)
            if line is not None:
                _usage_unused(run, line, fixed, alone, corrects=was is not None)
                billed_net = _billed_net(was, discounts, fixed, currency)
                found.append((position, start, line, True, billed_net))
    return found, tuple(sorted((key, start, amount) for (key, start), amount in billed.items()))


def _price_again(  # noqa: PLR0917  (the facts of one usage period, in the order they are read)
    scheduled: ScheduledUsage,
    records: Sequence[UsageRecord],
    piece: Period,
    cycle: Period,
    was: Decimal | None,
    held: _HeldValues,
) -> UsagePrice | None:
    """The price of a usage period (``was``: its amount billed); ``None``: known unchanged."""
    remembered = held.key(piece, cycle, was)
    if remembered is not None and held.amounts.get(remembered) == was:
        return None  # priced as a period of the same held value and days: unchanged
    inside = (
        records
        if scheduled.charge.metric.aggregation is Aggregation.TIME_WEIGHTED
        else [r for r in records if piece.start <= r.used_on < piece.end]
    )
    price = _price_period(scheduled, inside, piece, cycle)
    if remembered is not None:
        held.amounts[remembered] = price.amount.amount
    return price


def _billed_net(
    was: Decimal | None,
    discounts: Sequence[Discount],
    fixed: Mapping[str, Money],
    currency: str,
) -> Money | None:
    """The net a usage period was billed at (its amount, discounted); ``None``: never billed."""
    if was is None:
        return None
    before = Money._make(was, currency)
    return before - _usage_discounted(before, discounts, fixed)[1]


class _HeldValues:
    """The value a time-weighted charge holds at each day, and the amounts it priced.

    A billed period with no record inside holds one value throughout (the one in force at
    its start), so its amount depends only on that value and on its days and its cycle's:
    a run re-pricing every billed period of a gauge (:func:`_carry_forward`) prices each
    such combination once and skips a period whose amount it already knows unchanged.
    """

    __slots__ = ("amounts", "days", "gauge", "ordered")

    def __init__(self, scheduled: ScheduledUsage, records: Sequence[UsageRecord]) -> None:
        self.gauge = scheduled.charge.metric.aggregation is Aggregation.TIME_WEIGHTED
        self.ordered = (
            sorted(records, key=lambda record: (record.used_on, record.key)) if self.gauge else []
        )
        self.days = [record.used_on for record in self.ordered]
        self.amounts: dict[tuple[object, ...], Decimal] = {}

    def key(self, piece: Period, cycle: Period, was: Decimal | None) -> tuple[object, ...] | None:
        """What a billed ``piece``'s amount depends on.

        ``None`` for a charge that is no gauge, a period never billed (``was`` is ``None``:
        it needs its line) or one a record falls inside.
        """
        if not self.gauge or was is None:
            return None
        low = bisect.bisect_left(self.days, piece.start)
        if low < len(self.days) and self.days[low] < piece.end:
            return None
        if low == 0:
            return ((), piece.days, cycle.days)
        first = bisect.bisect_left(self.days, self.days[low - 1])  # the last day's records
        held = tuple((record.key, record.quantity) for record in self.ordered[first:low])
        return (held, piece.days, cycle.days)


def _carry_forward(
    todo: dict[date, tuple[Period, Period, Decimal | None]],
    scheduled: ScheduledUsage,
    billed: Mapping[tuple[str, date], Decimal],
    records: Sequence[UsageRecord],
) -> None:
    """Add to ``todo`` the billed periods of a time-weighted charge that ``records`` reach.

    A record of a gauge (seats held) sets the value from its day until the next record: a
    late one changes every billed period it carries into, not only its own. So each billed
    period ending after the earliest record given is priced again with every record (a
    period whose amount does not change gives no line).
    """
    if not records or scheduled.charge.metric.aggregation is not Aggregation.TIME_WEIGHTED:
        return
    since = min(record.used_on for record in records)
    key = scheduled.key
    for (charge_key, start), was in billed.items():
        if charge_key != key or start in todo:
            continue
        cycle = scheduled.schedule.period_containing(start)
        piece = _usage_piece(scheduled, cycle)
        if piece is not None and piece.start == start and piece.end > since:
            todo[start] = (piece, cycle, was)


def _usage_discounts(
    discounts: Sequence[Discount], scheduled: ScheduledUsage, cycle: Period
) -> tuple[Discount, ...]:
    """The invoice percentages and fixed amounts that reach ``scheduled``'s period ``cycle``.

    As on other lines: those whose products include the charge and whose duration covers
    the period, counted in billing periods from the one that holds the discount's start
    (``starts_on``, or the usage charge's start). Per-unit kinds have no unit to reduce on
    a usage line.
    """
    if not discounts:
        return ()
    schedule = scheduled.schedule
    index = schedule.index_of(cycle.start)
    found = []
    for discount in discounts:
        if discount.is_per_unit or not discount.covers(scheduled.code):
            continue
        origin = discount.starts_on or scheduled.start
        since = index - schedule.index_of(origin)
        if discount.applies_in(period_start=cycle.start, periods_since_start=since, origin=origin):
            found.append(discount)
    return tuple(found)


def _usage_fixed(
    run: _Run,
    scheduled: ScheduledUsage,
    piece: Period,
    cycle: Period,
    discounts: Sequence[Discount],
) -> tuple[dict[str, Money], frozenset[str]]:
    """The share of each invoice fixed amount in ``discounts`` a usage period may take.

    A fixed amount is per billing period of the subscription (that of its first charge's
    schedule holding ``cycle``'s start; without a recurring charge, ``cycle``): the recurring
    and one-time lines of that period take it first, as they always did, and what they left
    goes to its usage periods. When no other line of the period shares it, the amount is
    prorated by the days the usage piece covers. The usage charges it covers that run in the
    period get equal shares (``allocate``), so that a late record of one never moves another's.
    Also returns the codes of those no other line of the period shares.
    """
    fixed = [d for d in discounts if d.kind is DiscountKind.FIXED_AMOUNT]
    if not fixed:
        return {}, _NO_CODES
    primary = run.first_schedule()
    period = cycle if primary is None else primary.period_containing(cycle.start)
    left = run.left.get(period)
    if left is None:
        left = run.left[period] = _left_by_others(run, period)
    shares: dict[str, Money] = {}
    alone: set[str] = set()
    for discount in fixed:
        assert discount.amount is not None  # noqa: S101  (validated)
        remaining = left.get(discount.code)
        if remaining is None:
            alone.add(discount.code)
            share = _ONE if piece == cycle else Fraction(piece.days, cycle.days)
            remaining = (discount.amount * share).rounded()
        sharing = [
            u.key
            for u in run.subscription.usage
            if discount.covers(u.code)
            and u.start < period.end
            and (u.end is None or u.end > period.start)
        ]
        if len(sharing) > 1 and scheduled.key in sharing and remaining.is_positive():
            remaining = remaining.allocate([1] * len(sharing))[sharing.index(scheduled.key)]
        shares[discount.code] = remaining
    return shares, frozenset(alone)


def _usage_unused(
    run: _Run,
    line: InvoiceLine,
    fixed: Mapping[str, Money],
    alone: frozenset[str],
    *,
    corrects: bool,
) -> None:
    """Add what the fixed amounts ``alone`` leave unused of usage ``line``'s period.

    ``alone``: those no other line of the period shares (:func:`_usage_fixed`).
    """
    if not alone:
        return
    zero = Money.zero(line.amount.currency)
    took = {item.code: item.amount for item in line.explanation.discounts}
    for code in alone:
        unused = (zero if corrects else fixed[code]) - took.get(code, zero)
        run.unused[code] = run.unused.get(code, zero) + unused


def _left_by_others(run: _Run, period: Period) -> dict[str, Money]:
    """What the recurring and one-time lines of billing ``period`` left of each fixed amount.

    Only the fixed amounts they share (a period of no such line, or whose lines a fixed
    amount does not reach, leaves it whole: absent). Priced as billing with what is known
    now prices them (this call's changes included).
    """
    subscription = run.subscription
    members: list[_Member] = []
    for order, charge in enumerate(subscription.charges):
        span = run.spans.get(charge.key)
        if span is None:
            continue
        for index, cycle in _cycles(charge.schedule, period.start, period.end):
            if cycle.start < period.start:
                continue  # a period that started before: it belongs to an earlier one
            due = _cut(cycle, charge.start, span[0])
            if due is not None:
                members.append(_Member(charge, cycle, due, None, index, order))
    primary = run.first_schedule()
    offset = len(subscription.charges)
    for order, one_time in enumerate(subscription.one_time, start=offset):
        if one_time.key in run.one_time_billed:
            member = _one_time_member(one_time, primary, order, billed=False)
            if member.cycle == period:
                members.append(member)
    if not members:
        return {}
    invoice_discounts = subscription.discounts
    priced, unused = _price(members, invoice_discounts, run, period, due_side=True)
    zero = Money.zero(subscription.currency)
    shared = {code for item in priced if item is not None for code in item.invoice_discounts}
    return {
        d.code: unused.get(d.code, zero)
        for d in invoice_discounts
        if d.kind is DiscountKind.FIXED_AMOUNT and d.code in shared
    }


def _usage_discounted(
    amount: Money, discounts: Sequence[Discount], fixed: Mapping[str, Money]
) -> tuple[tuple[LineDiscount, ...], Money]:
    """What ``discounts`` take off a usage period's ``amount``, as on any line, and in all.

    Percentages first, per line; then each fixed amount's share (``fixed``), never taking
    the line below zero nor reducing a credit.
    """
    zero = Money.zero(amount.currency)
    if not discounts or amount.is_zero():
        return (), zero
    percentages = [d for d in discounts if d.kind is DiscountKind.PERCENTAGE]
    taken: list[LineDiscount] = []
    if percentages:
        target = DiscountTarget(
            amount=amount,
            unit_price=amount,
            quantity=_ONE_UNIT,
            invoice_discounts=frozenset(d.code for d in percentages),
        )
        [found] = apply_discounts([target], percentages).per_line
        taken.extend(found)
    net = amount - Money.total((d.amount for d in taken), currency=amount.currency)
    for code, share in fixed.items():
        off = min(share, net) if net.is_positive() and share.is_positive() else zero
        if not off.is_zero():
            taken.append(LineDiscount(code=code, amount=off))
            net -= off
    return tuple(taken), amount - net


_ONE_UNIT = Decimal(1)
_NO_SHARES: Mapping[str, Money] = {}


def _usage_line(  # noqa: PLR0917  (the facts of one usage line, in the order they are read)
    scheduled: ScheduledUsage,
    price: UsagePrice,
    cycle: Period,
    was: Decimal | None,
    currency: str,
    discounts: Sequence[Discount] = (),
    fixed: Mapping[str, Money] = _NO_SHARES,
) -> InvoiceLine | None:
    """The line of a usage period priced (``was``: what it was billed before, if it was).

    ``discounts`` (:func:`_usage_discounts`, the fixed amounts' shares ``fixed``) reduce it;
    a correction line takes off the difference of what they take off the period now and
    what they took off before.
    """
    taken, discount = _usage_discounted(price.amount, discounts, fixed)
    if was is None:
        amount = price.amount
        if amount.is_zero():
            return None  # nothing used, nothing due: recorded as billed, no line
        kind = LineKind.USAGE
        billed = None
    else:
        billed = Money._make(was, currency)
        amount = price.amount - billed
        if amount.is_zero():
            return None
        kind = LineKind.USAGE_CORRECTION
        before, _ = _usage_discounted(billed, discounts, fixed)
        deltas = {d.code: d.amount for d in taken}
        for item in before:
            deltas[item.code] = deltas.get(item.code, Money.zero(currency)) - item.amount
        taken, discount = _taken(deltas, currency)
    charge = scheduled.charge
    piece = price.period
    quantity = _usage_quantity(price.quantity)
    explanation = LineExplanation._make(
        unit_price=price.amount,
        quantity=quantity,
        factor=price.share,
        period=piece,
        cycle=cycle,
        days=piece.days,
        period_days=cycle.days,
        basis=ProrationBasis.ACTUAL_DAYS,
        discounts=taken,
        usage=UsageExplanation(price=price, billed=billed),
    )
    return InvoiceLine._make(
        kind=kind,
        code=charge.code,
        description=charge.description,
        charge_key=scheduled.key,
        period=piece,
        quantity=quantity,
        unit_price=price.amount,
        factor=price.share,
        amount=amount,
        discount=discount,
        tax_rates=charge.tax_rates,
        taxes=(),
        base=amount - discount,
        explanation=explanation,
    )


#: How many decimal places a usage line shows of a quantity that is no decimal number.
_QUANTITY_PLACES = Decimal("0.000001")


def _usage_quantity(quantity: Fraction) -> Decimal:
    """A priced quantity as a line's ``Decimal``: exact, or to 6 places (131/31 seats)."""
    exact = DECIMAL_CONTEXT.divide(Decimal(quantity.numerator), Decimal(quantity.denominator))
    # A decimal number when the denominator has no prime factor but 2 and 5 (the product
    # back is no test: rounded to the context's 50 digits, 143/31 × 31 gives 143 again).
    rest = quantity.denominator
    for factor in (2, 5):
        while rest % factor == 0:
            rest //= factor
    if rest == 1:
        return exact
    return exact.quantize(_QUANTITY_PLACES, context=DECIMAL_CONTEXT)


def _nothing_billed(key: str, through: date) -> bool:
    """True when a state entry ``code@start`` was billed through no later than its start."""
    _, _, start = key.rpartition("@")
    try:
        return through <= date.fromisoformat(start)
    except ValueError:
        return False


def _one_time_member(
    charge: OneTimeCharge, schedule: BillingSchedule | None, order: int, *, billed: bool
) -> _Member:
    """A one-time charge as a member of the billing period that contains its due date."""
    if schedule is None:
        cycle, index = Period._make(charge.due_on, charge.due_on + timedelta(days=1)), 0
    else:
        index = schedule.index_of(charge.due_on)
        cycle = schedule.period(index)
    piece = Period._make(charge.due_on, charge.due_on + timedelta(days=1))
    return _Member(charge, cycle, piece, piece if billed else None, index, order)


def _groups(
    run: _Run, changed: list[_Member], spans: Mapping[str, tuple[date, date]]
) -> list[tuple[Period, list[_Member]]]:
    """The members priced together, with the billing period they share (a fixed amount).

    Without an invoice fixed amount each member is priced alone (:meth:`_Run.lines` does not
    ask). With one, the amount is per billing period **of the subscription** (the periods of
    its first charge's schedule) and spread over the lines of that period: every charge
    period that starts in it, of whatever frequency or billing day, and the one-time charges
    due in it. So when one line
    of such a period changes, every line of it is priced again (those that did not change
    give no line unless their share of the fixed amount moved).
    """
    subscription = run.subscription
    primary = run.first_schedule()
    groups: dict[Period, list[_Member]] = {}
    for member in changed:
        period = member.cycle if primary is None else primary.period_containing(member.cycle.start)
        groups.setdefault(period, []).append(member)
    for period, members in groups.items():
        seen = {(member.charge.key, member.cycle.start) for member in members}
        for order, charge in enumerate(subscription.charges):
            if charge.key not in spans:
                continue
            due_through, billed = spans[charge.key]
            schedule = charge.schedule
            for index, cycle in _cycles(schedule, period.start, period.end):
                if cycle.start < period.start or (charge.key, cycle.start) in seen:
                    continue  # a period that started before: it belongs to an earlier one
                due = _cut(cycle, charge.start, due_through)
                was = _cut(cycle, charge.start, billed)
                if due is not None or was is not None:
                    members.append(_Member(charge, cycle, due, was, index, order))
        offset = len(subscription.charges)
        for order, one_time in enumerate(subscription.one_time, start=offset):
            if one_time.key in run.state.one_time_billed and not any(
                m.charge.key == one_time.key for m in members
            ):
                member = _one_time_member(one_time, primary, order, billed=True)
                if member.cycle == period:
                    members.append(member)
        members.sort(key=lambda m: (m.order, m.cycle.start))
    return list(groups.items())


def _applied(
    subscription: ChargePlan,
    lines: Sequence[InvoiceLine],
    unused: Mapping[str, Money],
) -> tuple[AppliedDiscount, ...]:
    """Each discount's total on the invoice (the sum of its lines'), in order of application.

    ``unused`` is what a fixed amount could not take off the periods this invoice bills.
    """
    if not unused:
        for line in lines:
            if line.explanation.discounts:
                break
        else:
            return ()  # no discount took anything off, none was left unused
    currency = subscription.currency
    found: dict[str, Discount] = {}
    charges: list[RecurringCharge | OneTimeCharge] = [
        *subscription.charges,
        *subscription.one_time,
    ]
    for charge in charges:
        for discount in charge.discounts:
            found.setdefault(discount.code, discount)
    for discount in subscription.discounts:
        found.setdefault(discount.code, discount)
    totals: dict[str, list[Money]] = {}
    for line in lines:
        for item in line.explanation.discounts:
            totals.setdefault(item.code, []).append(item.amount)
    for code, amount in unused.items():
        if amount.is_positive():
            totals.setdefault(code, [])
    zero = Money.zero(currency)
    return tuple(
        AppliedDiscount(
            discount=found[code],
            amount=Money.total(amounts, currency=currency),
            unused=max(unused.get(code, zero), zero),
        )
        for code, amounts in totals.items()
        if code in found
    )


def _bill_one(item: Any, as_of: date) -> BillingResult:
    if isinstance(item, ChargePlan):
        return bill_subscription(item, None, as_of=as_of)
    if not isinstance(item, tuple | list) or len(item) != 2:
        raise InvalidTypeError("items", item, "ChargePlans or (ChargePlan, BillingState) pairs")
    subscription, state = item
    return bill_subscription(subscription, state, as_of=as_of)


#: Bill runs on an executor: the chunks sent to workers and the packed results they return.
_WIRE: _wire.Wire[Any] = _wire.Wire(
    bill=_bill_one, plan=ChargePlan, state=BillingState, result=BillingResult
)


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

    While the run lasts (until it is exhausted, closed or fails), Python's cyclic garbage
    collector runs less often: its youngest generation's threshold is raised, and the
    caller's is put back when the run ends (:mod:`subbill._gc`).

    ``chunk_size`` and ``max_pending`` are 1 to 1,000,000, with an executor or without.
    Being a generator, it checks its arguments when the first result is asked for:

    >>> next(bill_run(5, as_of=date(2026, 3, 1)))
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: items=5 must be an iterable of ChargePlans or (ChargePlan, BillingState) pairs
    """  # noqa: E501  (the doctest shows the whole message)
    check_date("as_of", as_of)
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise InvalidTypeError(
            "items", brief(items), "an iterable of ChargePlans or (ChargePlan, BillingState) pairs"
        )
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise InvalidTypeError(
            "executor",
            brief(executor),
            "an Executor (an object with submit(), e.g. a ProcessPoolExecutor) or None",
        )
    check_count("chunk_size", chunk_size, minimum=1, maximum=1_000_000)
    check_count("max_pending", max_pending, minimum=1, maximum=1_000_000)
    # The collector runs less often while the run lasts (subbill._gc): the caller's setting
    # comes back when it ends, is closed, or fails.
    with fewer_collections():
        if executor is None:
            for item in items:
                yield _bill_one(item, as_of)
            return
        yield from _WIRE.run(
            executor, items, as_of=as_of, chunk_size=chunk_size, max_pending=max_pending
        )


def record_payment(
    invoice: Invoice, payment: Payment, state: BillingState
) -> tuple[Invoice, BillingState]:
    """Apply ``payment`` to ``invoice``; an overpayment goes to the customer's credit balance.

    Nothing is lost: what exceeds the amount due is credited in the returned state, and the
    next invoices use it up before anything is due. Everything is checked before anything is
    built (a payment in another currency than the balance is refused).

    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="C", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("x", "X", Money("80", "EUR"))]).finalize(number="F-1")
    >>> paid, state = record_payment(invoice,
    ...     Payment(amount=Money("100", "EUR"), paid_on=date(2026, 3, 2)), BillingState())
    >>> paid.status.value, state.credit_balance
    ('paid', Money('20.00', 'EUR'))
    """
    if not isinstance(state, BillingState):
        raise InvalidTypeError("state", state, "a BillingState")
    balance = state.credit_balance
    currency = invoice.currency if isinstance(invoice, Invoice) else None
    if balance is not None and currency is not None and balance.currency != currency:
        raise CurrencyMismatchError(balance.currency, currency, "record a payment of")
    applied = invoice.apply_payment(payment)
    if applied.overpayment.is_positive():
        state = state.with_credit(applied.overpayment)
    return applied.invoice, state

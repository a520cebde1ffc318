"""Charges: what one subscribed item bills, recurring or once.

A :class:`RecurringCharge` bills ``unit_price × quantity`` per billing period, from its
start to its optional end, on a schedule (frequency, billing day, cycle anchor), in advance
or in arrears, with its own discounts and tax rates. A change of quantity or price in the
middle of a period is one charge ending and another starting on the change date, on the
same billing cycle: :meth:`RecurringCharge.change` builds the pair, and the billing engine
credits the unused part of what was billed in advance and charges the new part.

>>> seats = RecurringCharge(code="pro", description="Plan Pro", unit_price=Money("10", "EUR"),
...                         quantity=3, start=date(2026, 3, 1))
>>> old, new = seats.change(on=date(2026, 3, 13), quantity=5)
>>> old.end, new.start, new.quantity, new.schedule.anchor
(datetime.date(2026, 3, 13), datetime.date(2026, 3, 13), Decimal('5'), datetime.date(2026, 3, 1))
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Self

import attrs

from subbill._validate import check_line, check_text, instance_of, to_tuple
from subbill.discounts import Discount, digest_text
from subbill.errors import (
    InvalidArgumentError,
    InvalidPeriodError,
    InvalidQuantityError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.money import (
    DECIMAL_CONTEXT,
    MAX_AMOUNT,
    MAX_AMOUNT_PLACES,
    MAX_DATE,
    MAX_QUANTITY,
    MAX_QUANTITY_PLACES,
    MIN_DATE,
    Money,
    check_decimal,
    check_money,
    minor_unit,
    read_decimal,
)
from subbill.periods import (
    MONTHLY,
    BillingSchedule,
    BillingStart,
    Frequency,
    check_billing_date,
    schedule_for,
)
from subbill.proration import BillingTiming, ProrationBasis
from subbill.taxes import LineTax, TaxRate, line_tax

__all__ = [
    "OneTimeCharge",
    "RecurringCharge",
    "check_tax_rates",
    "to_quantity",
]


def to_quantity(value: object) -> Decimal:
    """Read a quantity (seats, units): an int, str or Decimal from 0 to 10^12; never a float.

    At most 6 decimal places (2.5 GB, 0.000001 GB).

    >>> to_quantity(3), to_quantity("2.5")
    (Decimal('3'), Decimal('2.5'))
    >>> to_quantity(-2)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidQuantityError: quantity=-2 must be >= 0
    >>> to_quantity(10**13)
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: quantity=10000000000000 must be at most 10^12 in magnitude
    """
    quantity = read_decimal(value, "quantity")
    if quantity < 0:
        raise InvalidQuantityError(f"quantity={value!r} must be >= 0")
    return check_decimal(
        "quantity",
        quantity,
        limit=MAX_QUANTITY,
        places=MAX_QUANTITY_PLACES,
        inclusive=True,
        shown=value,
    )


#: :func:`~subbill.discounts.terms_digest` of a charge's terms, keyed by parts that are
#: equal only when they are written the same (text, dates, frequencies, ints, None).
def _charge_digest(  # noqa: PLR0917  (the parts of the digest, in their order)
    amount: str,
    currency: str,
    quantity: str,
    anchor: date,
    frequency: str,
    day: int | None,
    timing: str,
    basis: str,
    discounts: str,
    rates: str,
) -> str:
    """:func:`~subbill.discounts.terms_digest` of these parts, each written as ``str`` does."""
    return digest_text(
        f"{amount}\x1f{currency}\x1f{quantity}\x1f{anchor.isoformat()}\x1f{frequency}"
        f"\x1f{day}\x1f{timing}\x1f{basis}\x1f{discounts}\x1f{rates}"
    )


_terms_digest = functools.lru_cache(maxsize=4096)(_charge_digest)
#: What ``terms_digest`` writes of a charge's tax rates and frequency, by value (few of each).
_RATES_TEXT: dict[tuple[int, ...], tuple[tuple[TaxRate, ...], str]] = {}
_FREQUENCY_TEXT: dict[Frequency, str] = {}
_TEXTS_KEPT = 4096


def _check_money(_instance: Any, attribute: Any, value: Money) -> None:
    if not isinstance(value, Money):
        raise InvalidTypeError(attribute.name, value, "a Money")
    check_money(attribute.name, value)


def _check_period_price(instance: _Charge) -> Decimal:
    """``unit_price × quantity`` is an amount too: below 10^15 in magnitude; return it."""
    # Not with Money's ``*``, which refuses a product beyond the bound as a ``factor``.
    amount = DECIMAL_CONTEXT.multiply(instance.unit_price.amount, instance.quantity)
    if amount.copy_abs() >= MAX_AMOUNT:
        raise OutOfBoundsError(
            "unit_price × quantity",
            Money._make(amount, instance.unit_price.currency),
            f"below 10^{MAX_AMOUNT.adjusted()} in magnitude (charge {instance.code!r})",
        )
    return amount


def _check_discounts(instance: Any, _attribute: Any, discounts: tuple[Discount, ...]) -> None:
    currency = instance.unit_price.currency
    for index, discount in enumerate(discounts):
        if not isinstance(discount, Discount):
            raise InvalidTypeError(f"discounts[{index}]", discount, "a Discount")
        if discount.amount is not None and discount.amount.currency != currency:
            raise InvalidArgumentError(
                f"discount {discount.code!r} is in {discount.amount.currency} but the charge "
                f"{instance.code!r} is in {currency}"
            )


def check_tax_rates(_instance: Any, _attribute: Any, rates: tuple[TaxRate, ...]) -> None:
    """Attrs validator: a charge's ``tax_rates``, each a :class:`~subbill.taxes.TaxRate`."""
    for index, rate in enumerate(rates):
        if not isinstance(rate, TaxRate):
            raise InvalidTypeError(f"tax_rates[{index}]", rate, "a TaxRate")
    if len({rate.inclusive for rate in rates}) > 1:
        raise InvalidArgumentError(
            "tax_rates mixes inclusive and exclusive rates; a charge's rates must agree"
        )


@attrs.frozen(kw_only=True)
class _Charge:
    """What every charge has: a code, a description, ``unit_price × quantity``, discounts, taxes.

    Its own discounts and tax rates, and ``reason``: why it was made (one line, or ``None``).
    """

    code: str = attrs.field(validator=check_text)
    description: str = attrs.field(validator=check_text)
    unit_price: Money = attrs.field(validator=_check_money)
    quantity: Decimal = attrs.field(default=Decimal(1), converter=to_quantity)
    discounts: tuple[Discount, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_discounts
    )
    tax_rates: tuple[TaxRate, ...] = attrs.field(
        default=(), converter=to_tuple, validator=check_tax_rates
    )
    reason: str | None = None

    def __attrs_post_init__(self) -> None:
        # The whole charge, checked once its fields are all set.
        check_line("reason", self.reason, optional=True)
        self._check(_check_period_price(self))

    def _check(self, period_amount: Decimal) -> None:
        """What a kind of charge checks across its own fields (``unit_price × quantity``)."""

    @property
    def currency(self) -> str:
        """The charge's currency."""
        return self.unit_price.currency


def _check_dates(code: str, start: date, end: date | None) -> None:
    """A recurring charge's start and end: billing dates, the end not before the start."""
    check_billing_date("start", start)
    if end is not None:
        check_billing_date("end", end)
        if end < start:  # on the start: withdrawn, it bills nothing
            raise InvalidPeriodError(
                f"end={end.isoformat()} of charge {code!r} must not be before "
                f"start={start.isoformat()}"
            )


def _check_recurring(instance: RecurringCharge) -> None:
    if instance.basis is ProrationBasis.THIRTY_DAY_MONTH and not instance.frequency.is_month_based:
        raise InvalidArgumentError(
            f"basis={instance.basis.value} of charge {instance.code!r} needs a month-based "
            f"frequency, not frequency={instance.frequency} (30/360 counts days in months of "
            "30 days; use ProrationBasis.ACTUAL_DAYS with a frequency in days or weeks)"
        )
    _check_dates(instance.code, instance.start, instance.end)
    # Builds (and so validates) the schedule: billing day, anchor, frequency.
    instance.schedule  # noqa: B018


@attrs.frozen(kw_only=True)
class RecurringCharge(_Charge):
    """One subscribed item billed every period.

    Attributes:
        code: the product code (plan, module, option); lines and discounts refer to it.
        description: what the customer reads on the invoice.
        unit_price: the price of one unit for one whole billing period.
        quantity: seats or units, ``>= 0`` (``Decimal`` allowed).
        frequency, billing_day, anchor: the billing schedule (see
            :func:`~subbill.proration.schedule_for`); ``anchor`` keeps a changed charge on
            the cycle of the charge it replaces.
        timing: bill each period at its start (in advance) or once it is over (in arrears).
        basis: how partial periods are prorated; ``THIRTY_DAY_MONTH`` (30/360) needs a
            month-based frequency, and a day-based one is refused when the charge is built.
        start, end: the half-open span the charge runs over (``end=None``: until further
            notice).
        discounts: discounts of this charge only. tax_rates: its taxes.
        reason: why the charge starts mid-cycle (``"plan_change"``, ``"quantity_change"``,
            …): explanations show it, so it is one line of text (no control character).
    """

    frequency: Frequency = attrs.field(default=MONTHLY, validator=instance_of(Frequency))
    billing_day: int | None = None
    anchor: date | None = None
    timing: BillingTiming = attrs.field(
        default=BillingTiming.IN_ADVANCE, validator=instance_of(BillingTiming)
    )
    basis: ProrationBasis = attrs.field(
        default=ProrationBasis.ACTUAL_DAYS,
        validator=instance_of(ProrationBasis),
    )
    start: date
    end: date | None = None

    def _check(self, period_amount: Decimal) -> None:
        _check_recurring(self)
        # The product just checked is the period's price: kept, not multiplied again.
        _SET_PERIOD_PRICE(self, Money._make(period_amount, self.unit_price.currency))

    @classmethod
    def starting(cls, billing_start: BillingStart, *, paid_on: date, **fields: Any) -> Self:
        """Build a charge that starts on a ``BillingStart`` resolved against ``paid_on``.

        >>> RecurringCharge.starting(BillingStart.after_months(6), paid_on=date(2026, 1, 15),
        ...     code="seo", description="SEO", unit_price=Money("300", "EUR")).start
        datetime.date(2026, 7, 15)
        """
        return cls(start=billing_start.resolve(paid_on=paid_on), **fields)

    @classmethod
    def _from_checked(
        cls,
        *,
        code: str,
        description: str,
        unit_price: Money,
        quantity: Decimal,
        schedule: BillingSchedule,
        start: date,
        end: date | None,
        tax_rates: tuple[TaxRate, ...],
        reason: str | None,
        key: str | None = None,
        priced: bool = False,
    ) -> Self:
        """Build from fields a valid subscription already checked, without checking them again.

        For :meth:`~subbill.subscriptions.Subscription.charges` only: ``code``,
        ``description`` and ``reason`` are checked text (a span's code, a catalog item's
        name, a span's reason), ``quantity`` a quantity already read, ``tax_rates`` a tuple
        of :class:`~subbill.taxes.TaxRate`; ``schedule`` is the subscription's cycle (its
        anchor and billing day), which the charge takes as its ``frequency``,
        ``billing_day`` and ``anchor`` and keeps as its :attr:`schedule` (a charge anchored
        there follows it, whatever its start). The charge has no discounts of its own and
        the default timing and basis. What the charge checks across its fields is still
        checked, in the order the checked constructor checks it: the price's bounds, rates
        that agree, ``unit_price × quantity`` and the dates
        (``tests/test_charge_plan_unchecked.py`` proves the result equal to the checked
        one's, error for error).

        ``key``: the charge's :attr:`key` when the caller has its text already (``code@``
        and ``start`` as ``isoformat`` writes it); ``priced``: ``unit_price`` is known to
        be a ``Money`` within the bounds of an amount (a stored row's price the trusted
        read held to them), so its bounds are not checked again.
        """
        charge = object.__new__(cls)
        # Slot by slot, in the fields' order (no loop: this runs once per charge).
        _SET_CODE(charge, code)
        _SET_DESCRIPTION(charge, description)
        _SET_UNIT_PRICE(charge, unit_price)
        _SET_QUANTITY(charge, quantity)
        _SET_DISCOUNTS(charge, ())
        _SET_TAX_RATES(charge, tax_rates)
        _SET_REASON(charge, reason)
        _SET_FREQUENCY(charge, schedule.frequency)
        _SET_BILLING_DAY(charge, schedule._day)
        _SET_ANCHOR(charge, schedule.anchor)
        _SET_TIMING(charge, BillingTiming.IN_ADVANCE)
        _SET_BASIS(charge, ProrationBasis.ACTUAL_DAYS)
        _SET_START(charge, start)
        _SET_END(charge, end)
        amount, currency = unit_price.amount, unit_price.currency
        if priced:
            pass  # within the bounds of an amount: the caller read it so
        elif type(unit_price) is not Money:  # the validator's check (a subclass is one too)
            _check_money(None, _UNIT_PRICE, unit_price)
        elif not (
            amount.copy_abs() < MAX_AMOUNT
            and type(exponent := amount.as_tuple().exponent) is int
            and exponent >= -MAX_AMOUNT_PLACES
        ):  # what check_money lets through at once; else it raises, or lets it through
            check_money("unit_price", unit_price)
        if tax_rates:
            check_tax_rates(charge, None, tax_rates)
        period_amount = DECIMAL_CONTEXT.multiply(amount, quantity)
        if period_amount.copy_abs() >= MAX_AMOUNT:
            _check_period_price(charge)  # raises the error that names it
        # ``_check_recurring`` without its basis check (the default basis needs none), its
        # schedule kept as the cached property would build it (the anchor given: the same
        # value whatever the start); the key too.
        if not (
            type(start) is date
            and MIN_DATE <= start <= MAX_DATE
            and (end is None or (type(end) is date and start <= end <= MAX_DATE))
        ):  # what _check_dates lets through at once; else it raises
            _check_dates(code, start, end)
        _SET_SCHEDULE(charge, schedule)
        period_price = Money._make(period_amount, currency)
        _SET_PERIOD_PRICE(charge, period_price)
        _SET_KEY(charge, f"{code}@{start.isoformat()}" if key is None else key)
        # What the billing engine reads of every charge it is given (the digest) and of each
        # whole period it bills (the rounded price), set now: read later through the cached
        # properties, each would first miss its slot (an AttributeError that attrs'
        # ``__getattr__`` catches), which costs about as much again as computing it. The
        # price rounded as ``period_price.rounded()`` rounds it (half up, to the minor unit).
        _SET_WHOLE_PRICE(
            charge,
            Money._make(
                period_amount.quantize(
                    minor_unit(currency), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT
                ),
                currency,
            ),
        )
        _SET_TERMS_DIGEST(charge, _digest_of(charge))
        return charge

    @functools.cached_property
    def key(self) -> str:
        """Identifies the charge in a billing state: ``code@start``."""
        return f"{self.code}@{self.start.isoformat()}"

    @functools.cached_property
    def period_price(self) -> Money:
        """The price of one whole billing period: ``unit_price × quantity`` (unrounded)."""
        return self.unit_price * self.quantity

    @functools.cached_property
    def whole_price(self) -> Money:
        """The price of one whole billing period, rounded to the minor unit (half up).

        >>> RecurringCharge(code="c", description="C", unit_price=Money("3.333", "EUR"),
        ...                 quantity=3, start=date(2026, 1, 1)).whole_price
        Money('10.00', 'EUR')
        """
        return self.period_price.rounded()

    @functools.cached_property
    def whole_tax(self) -> LineTax | None:
        """The tax of :attr:`whole_price` on a line of its own, rounded on the line.

        What a whole period billed alone, nothing taken off, is taxed when tax is rounded per
        line (``None`` for a charge of more than one rate: those are taxed together).

        >>> RecurringCharge(code="c", description="C", unit_price=Money("27.42", "EUR"),
        ...     start=date(2026, 1, 1), tax_rates=(TaxRate(name="TVA", percent="20"),),
        ... ).whole_tax.total
        Money('32.90', 'EUR')
        """
        if len(self.tax_rates) > 1:
            return None
        return line_tax(self.whole_price, self.tax_rates)

    @functools.cached_property
    def terms_digest(self) -> str:
        """A digest of what the charge's periods are priced with, recorded when it is billed.

        Price, quantity, calendar, timing, proration basis, discounts and tax rates: billing
        refuses to price periods already billed again at other terms. Explicit fields (never
        a ``repr``), so that a field added in a later version does not make every billed
        charge look changed.
        """
        return _digest_of(self)

    @functools.cached_property
    def schedule(self) -> BillingSchedule:
        """The billing schedule the charge's periods follow."""
        return schedule_for(
            self.start, self.frequency, billing_day=self.billing_day, anchor=self.anchor
        )

    def ending(self, *, on: date) -> Self:
        """Return the charge ended on ``on`` (exclusive: ``on`` is not billed)."""
        return attrs.evolve(self, end=on)

    def change(
        self,
        *,
        on: date,
        quantity: object = None,
        unit_price: Money | None = None,
        code: str | None = None,
        description: str | None = None,
        tax_rates: tuple[TaxRate, ...] | None = None,
        discounts: tuple[Discount, ...] | None = None,
        reason: str = "change",
    ) -> tuple[Self, Self]:
        """Split the charge on ``on``: this one ends there, a new one starts there.

        The new charge keeps the billing cycle (same anchor and billing day) and whatever
        is not given; kept discounts go on counting their duration from this charge's start
        (a change never restarts a promotion); its ``reason`` explains its first period.
        Refused if ``on`` is not strictly inside the charge's span.
        """
        check_billing_date("on", on)
        if on <= self.start or (self.end is not None and on >= self.end):
            raise InvalidPeriodError(
                f"on={on.isoformat()} must be after start={self.start.isoformat()}"
                + ("" if self.end is None else f" and before end={self.end.isoformat()}")
                + f" to change charge {self.code!r}"
            )
        schedule = self.schedule
        new = attrs.evolve(
            self,
            start=on,
            anchor=schedule.anchor,
            billing_day=schedule.day,
            quantity=self.quantity if quantity is None else quantity,
            unit_price=self.unit_price if unit_price is None else unit_price,
            code=self.code if code is None else code,
            description=self.description if description is None else description,
            tax_rates=self.tax_rates if tax_rates is None else tax_rates,
            # Kept discounts keep counting their duration from the original start.
            discounts=tuple(
                d if d.starts_on is not None else attrs.evolve(d, starts_on=self.start)
                for d in self.discounts
            )
            if discounts is None
            else discounts,
            reason=reason,
        )
        return self.ending(on=on), new


def _digest_of(charge: RecurringCharge) -> str:
    """:attr:`RecurringCharge.terms_digest`, computed from the charge's fields."""
    schedule = charge.schedule
    frequency = schedule.frequency
    rates = charge.tax_rates
    rates_text = "()"
    if rates:
        # By the rates' identity (a Decimal keeps how it was written: 20 is not 20.0);
        # the cache holds them, so no other rate takes their id.
        key = tuple(map(id, rates))
        found = _RATES_TEXT.get(key)
        if found is None:
            found = (rates, str(tuple((rate.percent, rate.inclusive) for rate in rates)))
            if len(_RATES_TEXT) < _TEXTS_KEPT:
                _RATES_TEXT[key] = found
        rates_text = found[1]
    frequency_text = _FREQUENCY_TEXT.get(frequency)
    if frequency_text is None:
        frequency_text = _FREQUENCY_TEXT[frequency] = str(frequency)  # a few dozen at most
    # Each part as the digest writes it (a Decimal as written: 50.0 is not 50.00; a date,
    # a frequency and the rates as str writes them; an enum's value read from the member
    # itself, without the ``value`` property), so that charges of the same terms share
    # one digest, computed once (the parts hashed as they are: cheaper than one joined
    # text when the digest is shared, measured).
    discounts = charge.discounts
    return _terms_digest(
        str(charge.unit_price.amount),
        charge.unit_price.currency,
        str(charge.quantity),
        schedule.anchor,
        frequency_text,
        schedule._day,
        charge.timing._value_,
        charge.basis._value_,
        str(tuple(d.terms for d in discounts)) if discounts else "()",
        rates_text,
    )


_SET_PERIOD_PRICE = vars(RecurringCharge)["period_price"].__set__
_SET_WHOLE_PRICE = vars(RecurringCharge)["whole_price"].__set__
_SET_TERMS_DIGEST = vars(RecurringCharge)["terms_digest"].__set__
_SET_SCHEDULE = vars(RecurringCharge)["schedule"].__set__
_SET_KEY = vars(RecurringCharge)["key"].__set__
#: The slot setter of each field of a recurring charge, by name (the base class's slots too).
_RECURRING_SETTERS = {
    field.name: vars(next(k for k in RecurringCharge.__mro__ if field.name in vars(k)))[
        field.name
    ].__set__
    for field in attrs.fields(RecurringCharge)
}
(
    _SET_CODE,
    _SET_DESCRIPTION,
    _SET_UNIT_PRICE,
    _SET_QUANTITY,
    _SET_DISCOUNTS,
    _SET_TAX_RATES,
    _SET_REASON,
    _SET_FREQUENCY,
    _SET_BILLING_DAY,
    _SET_ANCHOR,
    _SET_TIMING,
    _SET_BASIS,
    _SET_START,
    _SET_END,
) = (
    _RECURRING_SETTERS[name]
    for name in (
        "code",
        "description",
        "unit_price",
        "quantity",
        "discounts",
        "tax_rates",
        "reason",
        "frequency",
        "billing_day",
        "anchor",
        "timing",
        "basis",
        "start",
        "end",
    )
)
_UNIT_PRICE = attrs.fields(RecurringCharge).unit_price


@attrs.frozen(kw_only=True)
class OneTimeCharge(_Charge):
    """A price × quantity due once, on ``due_on`` (set-up fees, packs, adjustments).

    A negative ``unit_price`` is an adjustment in the customer's favour.
    """

    due_on: date

    def _check(self, period_amount: Decimal) -> None:
        check_billing_date("due_on", self.due_on)

    @property
    def key(self) -> str:
        """Identifies the charge in a billing state: ``code@due_on``."""
        return f"{self.code}@{self.due_on.isoformat()}"

"""Discounts: what they take off, for how long, on which lines, and in which order.

Kinds: a percentage off, a fixed amount off, and per-unit discounts (a percentage or an
amount off each unit, rounded per unit to the minor unit). Durations: once, for N billing
periods, for N months from the start, or forever. Scope: a discount attached to a charge
applies to that charge's lines; a discount given to the invoice applies to all its lines,
or to the lines of the products it names, and is spread over them in proportion.

The order, always, before tax:

1. per-unit discounts;
2. percentages attached to lines;
3. invoice percentages, computed and rounded **per line** (an invoice's discount is the sum
   of its lines', so it never depends on how billing is split over invoices);
4. fixed amounts, line ones first, then invoice ones. A fixed amount is **per billing
   period**: it is prorated with the period's factor (the line's factor, or for an invoice
   discount the share of the period its lines cover, passed as ``fixed_factors``) and an
   invoice one is spread over the period's lines by ``allocate``.

A discount never takes a line below zero; what a fixed amount could not use is reported
as ``unused``. Percentages apply to credit lines too (a credit gives back what was paid,
discount included); fixed amounts only reduce what is charged.

>>> per_unit = Discount.per_unit_percent_off("LAUNCH", "15")
>>> outcome = apply_discounts([DiscountTarget(amount=Money("11.90", "USD"),
...     unit_price=Money("11.90", "USD"), quantity=Decimal(1), line_discounts=(per_unit,))])
>>> outcome.per_line[0][0].amount  # 15 % of 11.90 is 1.785, rounded per unit
Money('1.79', 'USD')
"""

from __future__ import annotations

import enum
import functools
import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, ClassVar, Protocol, Self, TypeAlias

import attrs

from subbill._records import cached_slot, fast_cached_slots
from subbill._structure import Amount, Percent, Positive, Problems, Text
from subbill._validate import brief, check_instance, check_line, instance_of
from subbill.errors import (
    CurrencyMismatchError,
    InvalidArgumentError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.money import (
    MAX_DISCOUNT_MONTHS,
    MAX_DISCOUNT_PERIODS,
    Money,
    check_money,
    read_percent,
)
from subbill.periods import add_months, check_billing_date

__all__ = [
    "AnyDuration",
    "AppliedDiscount",
    "Discount",
    "DiscountDocument",
    "DiscountKind",
    "DiscountOutcome",
    "DiscountTarget",
    "Discountable",
    "Duration",
    "DurationKind",
    "ForMonths",
    "ForPeriods",
    "Forever",
    "LineDiscount",
    "Once",
    "apply_discounts",
    "digest_text",
    "read_discount",
    "read_discounts",
    "terms_digest",
]


class DiscountKind(enum.Enum):
    """What a discount takes off."""

    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"
    PER_UNIT_PERCENTAGE = "per_unit_percentage"
    PER_UNIT_AMOUNT = "per_unit_amount"


class DurationKind(enum.Enum):
    """How long a discount lasts: the ``kind`` of each duration class."""

    ONCE = "once"
    PERIODS = "periods"
    MONTHS = "months"
    FOREVER = "forever"


class Duration:
    """How long a discount applies: once, for N billing periods, for N months, or forever.

    Each is a small class — :class:`Once`, :class:`ForPeriods`, :class:`ForMonths`,
    :class:`Forever` — that ``match`` tells apart (annotate with :data:`AnyDuration`);
    ``Duration`` builds them and is their common base, so ``isinstance(d, Duration)`` holds
    for each:

    - ``Duration.once()``: the first billing period (from the discount's start), on a charge
      or on the whole invoice; a quote's one-time discount reduces only what is due at
      checkout.
    - ``Duration.periods(n)``: the first ``n`` billing periods of each charge from the
      discount's start.
    - ``Duration.months(n)``: the periods that start within ``n`` months of the discount's
      start.
    - ``Duration.forever()``.

    A count is at most 3660 periods or 1200 months (a hundred years: use ``forever()``).

    >>> match Duration.months(3):
    ...     case ForMonths(n):
    ...         n
    3
    >>> Duration.periods(0)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: count=0 must be >= 1 for a duration in periods
    """

    __slots__ = ()

    #: Which of the four durations this is (what a stored document names it by).
    kind: ClassVar[DurationKind]

    def __init__(self, *_args: object, **fields: object) -> None:
        """Refused: ``Duration`` only builds and groups the four classes."""
        raise InvalidTypeError(
            "Duration", fields, "built by Duration.once(), .periods(n), .months(n) or .forever()"
        )

    @staticmethod
    def once() -> Once:
        """The first billing period from the discount's start."""
        return _ONCE

    @staticmethod
    def periods(n: int) -> ForPeriods:
        """The first ``n`` billing periods."""
        return ForPeriods(n)

    @staticmethod
    def months(n: int) -> ForMonths:
        """Periods starting less than ``n`` months after the discount's start."""
        return ForMonths(n)

    @staticmethod
    def forever() -> Forever:
        """Every period."""
        return _FOREVER


def _check_count(maximum: int, unit: str) -> Any:
    """A count of periods or months: an int from 1 to ``maximum``."""

    def validate(_instance: object, _attribute: Any, count: object) -> None:
        if isinstance(count, bool) or not isinstance(count, int):
            raise InvalidTypeError("count", brief(count), "an int")
        if count < 1:
            raise InvalidArgumentError(
                f"count={brief(count)!r} must be >= 1 for a duration in {unit}"
            )
        if count > maximum:
            raise OutOfBoundsError(
                "count",
                brief(count),
                f"at most {maximum} for a duration in {unit} (or use forever())",
            )

    return validate


@attrs.frozen
class Once(Duration):
    """The first billing period from the discount's start."""

    kind = DurationKind.ONCE


@attrs.frozen
class ForPeriods(Duration):
    """The first ``count`` billing periods of each charge (1 to 3660)."""

    kind = DurationKind.PERIODS

    count: int = attrs.field(validator=_check_count(MAX_DISCOUNT_PERIODS, "periods"))


@attrs.frozen
class ForMonths(Duration):
    """The periods that start less than ``count`` months after the start (1 to 1200)."""

    kind = DurationKind.MONTHS

    count: int = attrs.field(validator=_check_count(MAX_DISCOUNT_MONTHS, "months"))


@attrs.frozen
class Forever(Duration):
    """Every period."""

    kind = DurationKind.FOREVER


#: Any duration: ``match`` on it covers the four cases.
AnyDuration: TypeAlias = Once | ForPeriods | ForMonths | Forever

_ONCE = Once()
_FOREVER = Forever()
_WHOLE = Fraction(1)
_PERCENT_KINDS = (DiscountKind.PERCENTAGE, DiscountKind.PER_UNIT_PERCENTAGE)


def _check_discount(instance: Discount, _attribute: Any, _value: object) -> None:
    check_line("code", instance.code)
    check_line("description", instance.description, allow_empty=True)
    if instance.kind in _PERCENT_KINDS:
        if instance.percent is None or instance.amount is not None:
            raise InvalidArgumentError(
                f"discount {instance.code!r} of kind {instance.kind.value} needs percent= "
                "and no amount="
            )
        if not 0 < instance.percent <= 100:
            raise InvalidArgumentError(
                f"percent={instance.percent} of discount {instance.code!r} must be in (0, 100]"
            )
    else:
        if instance.amount is None or instance.percent is not None:
            raise InvalidArgumentError(
                f"discount {instance.code!r} of kind {instance.kind.value} needs amount= "
                "and no percent="
            )
        check_instance("amount", instance.amount, Money)  # a float: FloatAmountError
        if not instance.amount.is_positive():
            raise InvalidArgumentError(
                f"amount={instance.amount!r} of discount {instance.code!r} must be a Money > 0"
            )
        check_money("amount", instance.amount)
    if instance.starts_on is not None:
        check_billing_date("starts_on", instance.starts_on)
    if instance.ends_on is not None:
        check_billing_date("ends_on", instance.ends_on)
        if instance.starts_on is not None and instance.ends_on < instance.starts_on:
            raise InvalidArgumentError(
                f"ends_on={instance.ends_on.isoformat()} of discount {instance.code!r} must not "
                f"be before starts_on={instance.starts_on.isoformat()}"
            )


def _optional_percent(value: object) -> Decimal | None:
    # At most 6 decimal places; the range (0, 100] is checked by _check_discount.
    return None if value is None else read_percent(value, "percent")


def _to_codes(value: object) -> frozenset[str]:
    """Product codes, each one line of text (never ``None`` read as the code ``"None"``)."""
    if isinstance(value, str):
        return frozenset({check_line("applies_to", value)})
    if not isinstance(value, Sequence | frozenset | set) or isinstance(value, bytes):
        raise InvalidArgumentError(f"applies_to={value!r} must be product codes")
    return frozenset(check_line("applies_to", item) for item in value)


@fast_cached_slots
@attrs.frozen(kw_only=True)
class Discount:
    """A discount: its kind and value, its duration, and which lines it may reduce.

    Build one with :meth:`percent_off`, :meth:`amount_off`, :meth:`per_unit_percent_off`
    or :meth:`per_unit_amount_off`. ``applies_to`` names products (empty: every line);
    ``starts_on`` defaults to the start of the charge it is attached to (or of each line's
    charge, for an invoice discount); ``ends_on`` (optional) is the last day a period may
    start on to be discounted: a quote's one-time discount ends on the payment date, so it
    reduces only what is due at checkout, and it stays on the subscription, so a credit of a
    discounted period gives back exactly what was paid.

    >>> Discount.percent_off("WELCOME", "10", duration=Duration.months(3)).percent
    Decimal('10')
    >>> Discount.percent_off("BAD", "120")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: percent=120 of discount 'BAD' must be in (0, 100]
    """

    code: str
    kind: DiscountKind = attrs.field(validator=instance_of(DiscountKind))
    percent: Decimal | None = attrs.field(default=None, converter=_optional_percent)
    amount: Money | None = None
    duration: AnyDuration = attrs.field(default=_FOREVER, validator=instance_of(Duration))
    applies_to: frozenset[str] = attrs.field(default=frozenset(), converter=_to_codes)
    starts_on: date | None = None
    ends_on: date | None = None
    description: str = ""

    def __attrs_post_init__(self) -> None:
        _check_discount(self, None, None)  # the whole discount, checked once

    @classmethod
    def percent_off(cls, code: str, percent: str | int | Decimal, **options: Any) -> Self:
        """A percentage off the lines' amounts."""
        return cls(code=code, kind=DiscountKind.PERCENTAGE, percent=percent, **options)

    @classmethod
    def amount_off(cls, code: str, amount: Money, **options: Any) -> Self:
        """A fixed amount off (per billing period when attached to a charge)."""
        return cls(code=code, kind=DiscountKind.FIXED_AMOUNT, amount=amount, **options)

    @classmethod
    def per_unit_percent_off(cls, code: str, percent: str | int | Decimal, **options: Any) -> Self:
        """A percentage off each unit's price, rounded per unit to the minor unit."""
        return cls(code=code, kind=DiscountKind.PER_UNIT_PERCENTAGE, percent=percent, **options)

    @classmethod
    def per_unit_amount_off(cls, code: str, amount: Money, **options: Any) -> Self:
        """An amount off each unit's price (never more than the price)."""
        return cls(code=code, kind=DiscountKind.PER_UNIT_AMOUNT, amount=amount, **options)

    @property
    def is_per_unit(self) -> bool:
        """True for the per-unit kinds."""
        return self.kind in (DiscountKind.PER_UNIT_PERCENTAGE, DiscountKind.PER_UNIT_AMOUNT)

    @cached_slot
    def rate(self) -> Fraction:
        """The percentage as an exact fraction (0 for amount kinds)."""
        return Fraction(self.percent) / 100 if self.percent is not None else Fraction(0)

    @cached_slot
    def terms(self) -> tuple[object, ...]:
        """What the discount takes off, and when: the fields a billed period was reduced by.

        Explicit fields (never a ``repr``), so that a field added in a later version does not
        make every billed discount look changed.
        """
        amount = self.amount
        duration = self.duration
        return (
            self.code,
            self.kind.value,
            self.percent,
            None if amount is None else (amount.amount, amount.currency),
            duration.kind.value,
            duration.count if isinstance(duration, ForPeriods | ForMonths) else 0,
            tuple(sorted(self.applies_to)),
            self.starts_on,
            self.ends_on,
        )

    @cached_slot
    def terms_digest(self) -> str:
        """:func:`terms_digest` of :attr:`terms`: what a billing state records of it."""
        return terms_digest(*self.terms)

    def covers(self, product: str) -> bool:
        """Tell whether the discount may apply to a line of ``product``."""
        return not self.applies_to or product in self.applies_to

    def applies_in(self, *, period_start: date, periods_since_start: int, origin: date) -> bool:
        """Tell whether a line whose period starts on ``period_start`` is within the duration.

        ``origin`` is where the duration counts from (``starts_on``, or the charge's start);
        ``periods_since_start`` is the line's billing period index counted from the period
        that contains ``origin`` (0 for that period). ``once`` here means the first period.

        >>> d = Discount.percent_off("Q", "10", duration=Duration.months(3))
        >>> [d.applies_in(period_start=date(2026, m, 1), periods_since_start=m - 1,
        ...               origin=date(2026, 1, 1)) for m in (1, 3, 4)]
        [True, True, False]
        """
        if periods_since_start < 0:
            return False
        if self.ends_on is not None and period_start > self.ends_on:
            return False
        duration = self.duration
        # The two kinds asked for most, by their exact class first (the engine asks per period).
        if type(duration) is ForMonths:
            return period_start < _months_after(origin, duration.count)
        if type(duration) is Forever:
            return True
        match duration:
            case Forever():
                return True
            case Once():
                return periods_since_start == 0
            case ForPeriods(count):
                return periods_since_start < count
            case ForMonths(count):
                return period_start < _months_after(origin, count)


#: ``add_months(origin, count)``: where a duration in months ends, asked for every period.
_months_after = functools.lru_cache(maxsize=4096)(add_months)


#: The version of :func:`terms_digest`, written in front of every digest.
_TERMS_VERSION = "v1"


def terms_digest(*parts: object) -> str:
    """A short stable digest of ``parts`` (their ``str``), tagged with the digest version.

    What a billing state records of the terms a charge or a discount was billed at.

    >>> terms_digest("pro", 3)
    'v1:c18b6f03dbf4bf3c'
    """
    return digest_text("\x1f".join(map(str, parts)))


def digest_text(text: str) -> str:
    r""":func:`terms_digest` of parts already written as one text, joined by ``"\x1f"``.

    >>> digest_text("pro\x1f3") == terms_digest("pro", 3)
    True
    """
    return f"{_TERMS_VERSION}:{_blake2b(text.encode(), digest_size=8).hexdigest()}"


_blake2b = hashlib.blake2b


class Discountable(Protocol):
    """What the discount engine reads of a line.

    A :class:`DiscountTarget`, or the billing engine's own working line (it passes its
    lines as they are, never copied).

    ``amount`` is the line's rounded amount before discounts (negative for a credit);
    ``factor`` its share of a whole billing period (1 for a one-time line);
    ``line_discounts`` the line's own discounts that apply to it; ``invoice_discounts``
    the codes of the invoice discounts whose duration and products include this line.
    """

    @property
    def amount(self) -> Money: ...  # noqa: D102
    @property
    def unit_price(self) -> Money: ...  # noqa: D102
    @property
    def quantity(self) -> Decimal: ...  # noqa: D102
    @property
    def factor(self) -> Fraction: ...  # noqa: D102
    @property
    def product(self) -> str: ...  # noqa: D102
    @property
    def line_discounts(self) -> tuple[Discount, ...]: ...  # noqa: D102
    @property
    def invoice_discounts(self) -> frozenset[str]: ...  # noqa: D102


@attrs.frozen(kw_only=True)
class DiscountTarget:
    """What the discount engine needs to know of one line (a :class:`Discountable`).

    ``amount`` is the line's rounded amount before discounts (negative for a credit);
    ``factor`` its share of a whole billing period (1 for a one-time line);
    ``line_discounts`` the line's own discounts that apply to it; ``invoice_discounts``
    the codes of the invoice discounts whose duration and products include this line.
    """

    amount: Money
    unit_price: Money
    quantity: Decimal
    factor: Fraction = Fraction(1)
    product: str = ""
    line_discounts: tuple[Discount, ...] = ()
    invoice_discounts: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class LineDiscount:
    """One discount's share on one line (positive: it lowers a charge)."""

    code: str
    amount: Money


@attrs.frozen(kw_only=True)
class AppliedDiscount:
    """One discount's total on an invoice, and what a fixed amount could not use."""

    discount: Discount
    amount: Money
    unused: Money


@attrs.frozen(kw_only=True)
class DiscountOutcome:
    """The discounts of each line (in order of application) and the totals per discount."""

    per_line: tuple[tuple[LineDiscount, ...], ...]
    applied: tuple[AppliedDiscount, ...]

    def line_total(self, index: int, *, currency: str) -> Money:
        """The total discount of line ``index``."""
        return Money.total((d.amount for d in self.per_line[index]), currency=currency)


def _cap(off: Money, net: Money) -> Money:
    """Keep a discount between zero and the line's remaining net, on the line's side of zero.

    ``max(min(off, 0), net)`` for a credit, ``min(max(off, 0), net)`` otherwise, compared
    by amount (the same object returned on a tie as ``min`` and ``max`` return).
    """
    if off.currency != net.currency:
        raise CurrencyMismatchError(off.currency, net.currency, "compare")
    zero = Money.zero(net.currency)
    amount = off.amount
    if net.amount < 0:
        kept = zero if amount > 0 else off  # min(off, zero)
        return net if net.amount > kept.amount else kept  # max(kept, net)
    kept = zero if amount < 0 else off  # max(off, zero)
    return net if net.amount < kept.amount else kept  # min(kept, net)


def _percent_off(amount: Money, discount: Discount) -> Money:
    """``(amount × rate).rounded()`` of a percentage discount, without its ``Fraction`` rate.

    ``percent`` % of the amount in one Decimal step, rounded half up: the rate's
    denominator divides a power of ten, so both are exact and round the same value.
    """
    assert discount.percent is not None  # noqa: S101  (validated)
    return amount._percent_rounded(discount.percent, ROUND_HALF_UP)


def _per_unit_off(discount: Discount, target: Discountable) -> Money:
    price = target.unit_price
    if discount.kind is DiscountKind.PER_UNIT_PERCENTAGE:
        per_unit = _percent_off(price, discount)
    else:
        assert discount.amount is not None  # noqa: S101  (validated)
        per_unit = min(discount.amount, price)
    units = per_unit * target.quantity
    factor = target.factor
    if factor != 1:  # times 1 changes no digit: skipped
        units *= factor
    if target.amount.is_negative():
        units *= -1
    return units.rounded()


def _spread(total: Money, nets: list[Money], indices: list[int]) -> list[Money]:
    """Split ``total`` over lines in proportion to their nets (all of one sign)."""
    weights = [abs(nets[i]).amount for i in indices]
    if not any(weights):
        return [Money.zero(total.currency) for _ in indices]
    return list(total.allocate(weights))


def apply_discounts(
    targets: Sequence[Discountable],
    invoice_discounts: Sequence[Discount] = (),
    *,
    fixed_factors: Mapping[str, Fraction] | None = None,
) -> DiscountOutcome:
    """Apply line and invoice discounts to the lines of one billing period, before tax.

    ``fixed_factors`` gives, per invoice fixed-amount discount code, the share of the
    billing period the lines stand for (default 1: a whole period); the amount taken off is
    ``amount × factor`` rounded, spread over the lines by ``allocate``.

    >>> lines = [DiscountTarget(amount=Money("30.00", "EUR"), unit_price=Money("30.00", "EUR"),
    ...                         quantity=Decimal(1), product="pro", invoice_discounts={"TEN"}),
    ...          DiscountTarget(amount=Money("10.00", "EUR"), unit_price=Money("10.00", "EUR"),
    ...                         quantity=Decimal(1), product="seo", invoice_discounts={"TEN"})]
    >>> outcome = apply_discounts(lines, [Discount.amount_off("TEN", Money("50", "EUR"))])
    >>> [str(d.amount) for line in outcome.per_line for d in line]
    ['30.00 EUR', '10.00 EUR']
    >>> outcome.applied[0].unused
    Money('10.00', 'EUR')
    """
    if not targets:
        return DiscountOutcome(per_line=(), applied=())
    if len(targets) == 1:
        alone = _alone(targets[0], invoice_discounts)
        if alone is not None:
            return alone
    return _apply_all(targets, invoice_discounts, fixed_factors)


def _apply_all(
    targets: Sequence[Discountable],
    invoice_discounts: Sequence[Discount],
    fixed_factors: Mapping[str, Fraction] | None,
) -> DiscountOutcome:
    """:func:`apply_discounts` through the ledger: any lines, any discounts."""
    ledger = _Ledger(targets)
    per_unit_kinds = (DiscountKind.PER_UNIT_PERCENTAGE, DiscountKind.PER_UNIT_AMOUNT)
    for index, discount in _line_discounts(targets, *per_unit_kinds):
        ledger.per_unit(index, discount)
    for discount in invoice_discounts:
        if discount.is_per_unit:
            for index in ledger.invoice_lines(discount):
                ledger.per_unit(index, discount)
    for index, discount in _line_discounts(targets, DiscountKind.PERCENTAGE):
        off = (ledger.nets[index] * discount.rate).rounded()
        ledger.record(index, discount, _cap(off, ledger.nets[index]))
    for discount in invoice_discounts:
        if discount.kind is DiscountKind.PERCENTAGE:
            ledger.invoice_percentage(discount)
    for index, discount in _line_discounts(targets, DiscountKind.FIXED_AMOUNT):
        ledger.line_fixed(index, discount)
    factors = fixed_factors or {}
    for discount in invoice_discounts:
        if discount.kind is DiscountKind.FIXED_AMOUNT:
            ledger.invoice_fixed(discount, factors.get(discount.code, _WHOLE))
    return ledger.outcome()


_PER_UNIT_KINDS = frozenset((DiscountKind.PER_UNIT_PERCENTAGE, DiscountKind.PER_UNIT_AMOUNT))


def _alone(target: Discountable, invoice_discounts: Sequence[Discount]) -> DiscountOutcome | None:
    """:func:`apply_discounts` of one line alone, without the ledger (the engine's hot path).

    The same steps in the same order, with the same Money operations, so the same amounts:
    per-unit discounts (the line's, then the invoice's that reach it), the line's
    percentages, the invoice's percentages (each listed in ``applied``, even one that does
    not reach the line, as the ledger lists it), the line's fixed amounts. ``None`` (the
    ledger's work) for an invoice fixed amount (spread by share of the period) or two
    discounts of one code (the ledger adds them up under it).
    """
    own = target.line_discounts
    reaching = target.invoice_discounts
    steps: list[tuple[Discount, bool]] = [(d, True) for d in own if d.kind in _PER_UNIT_KINDS]
    for discount in invoice_discounts:
        kind = discount.kind
        if kind is DiscountKind.FIXED_AMOUNT:
            return None
        if kind is not DiscountKind.PERCENTAGE and discount.code in reaching:
            steps.append((discount, True))
    steps.extend((d, True) for d in own if d.kind is DiscountKind.PERCENTAGE)
    steps.extend(
        (d, d.code in reaching) for d in invoice_discounts if d.kind is DiscountKind.PERCENTAGE
    )
    steps.extend((d, True) for d in own if d.kind is DiscountKind.FIXED_AMOUNT)
    if len({d.code for d, _ in steps}) != len(steps):
        return None
    zero = Money.zero(target.amount.currency)
    net = target.amount.rounded()
    taken: list[LineDiscount] = []
    applied: list[AppliedDiscount] = []
    for discount, on_line in steps:
        off = unused = zero
        if on_line:
            kind = discount.kind
            if kind is DiscountKind.PERCENTAGE:
                off = _cap(_percent_off(net, discount), net)
            elif kind is DiscountKind.FIXED_AMOUNT:
                assert discount.amount is not None  # noqa: S101  (validated)
                wanted = (discount.amount * target.factor).rounded()
                off = _cap(wanted, net) if net.is_positive() else zero
                unused = zero + (wanted - off)
            else:
                off = _cap(_per_unit_off(discount, target), net)
            if off.is_zero():
                off = zero
            else:
                taken.append(LineDiscount(code=discount.code, amount=off))
                net -= off
                off = zero + off
        applied.append(AppliedDiscount(discount=discount, amount=off, unused=unused))
    return DiscountOutcome(per_line=(tuple(taken),), applied=tuple(applied))


def _line_discounts(
    targets: Sequence[Discountable], *kinds: DiscountKind
) -> list[tuple[int, Discount]]:
    """The (line index, discount) pairs of the lines' own discounts of the given kinds."""
    return [
        (index, discount)
        for index, target in enumerate(targets)
        for discount in target.line_discounts
        if discount.kind in kinds
    ]


class _Ledger:
    """The running nets of the lines while discounts are applied, and what each took off."""

    def __init__(self, targets: Sequence[Discountable]) -> None:
        self.targets = targets
        self.currency = targets[0].amount.currency
        self.zero = Money.zero(self.currency)
        self.nets = [target.amount.rounded() for target in targets]
        self.per_line: list[list[LineDiscount]] = [[] for _ in targets]
        self.totals: dict[str, Money] = {}
        self.unused: dict[str, Money] = {}
        self.order: list[Discount] = []

    def register(self, discount: Discount) -> None:
        if discount.code not in self.totals:
            self.order.append(discount)
            self.totals[discount.code] = self.zero
            self.unused[discount.code] = self.zero

    def record(self, index: int, discount: Discount, off: Money) -> None:
        self.register(discount)
        if off.is_zero():
            return
        self.per_line[index].append(LineDiscount(code=discount.code, amount=off))
        self.nets[index] -= off
        self.totals[discount.code] += off

    def invoice_lines(self, discount: Discount) -> list[int]:
        return [i for i, t in enumerate(self.targets) if discount.code in t.invoice_discounts]

    def spread(self, discount: Discount, total: Money, side: list[int]) -> None:
        self.register(discount)
        for index, off in zip(side, _spread(total, self.nets, side), strict=True):
            self.record(index, discount, off)

    def per_unit(self, index: int, discount: Discount) -> None:
        off = _per_unit_off(discount, self.targets[index])
        self.record(index, discount, _cap(off, self.nets[index]))

    def invoice_percentage(self, discount: Discount) -> None:
        # Per line, rounded once: the same whatever lines share the invoice, and a credit
        # line gives back exactly the share its period was given.
        self.register(discount)
        for index in self.invoice_lines(discount):
            net = self.nets[index]
            self.record(index, discount, _cap((net * discount.rate).rounded(), net))

    def line_fixed(self, index: int, discount: Discount) -> None:
        assert discount.amount is not None  # noqa: S101  (validated)
        wanted = (discount.amount * self.targets[index].factor).rounded()
        net = self.nets[index]
        off = _cap(wanted, net) if net.is_positive() else self.zero
        self.record(index, discount, off)
        self.unused[discount.code] += wanted - off

    def invoice_fixed(self, discount: Discount, factor: Fraction) -> None:
        assert discount.amount is not None  # noqa: S101  (validated)
        side = [i for i in self.invoice_lines(discount) if self.nets[i].is_positive()]
        base = Money.total((self.nets[i] for i in side), currency=self.currency)
        wanted = (discount.amount * factor).rounded()
        off = min(wanted, base)
        self.spread(discount, off, side)
        self.unused[discount.code] += wanted - off

    def outcome(self) -> DiscountOutcome:
        applied = tuple(
            AppliedDiscount(discount=d, amount=self.totals[d.code], unused=self.unused[d.code])
            for d in self.order
        )
        return DiscountOutcome(
            per_line=tuple(tuple(items) for items in self.per_line), applied=applied
        )


# -- discounts as plain data ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DiscountDocument:
    """A discount as plain data writes it (``code``, ``percent`` or ``amount``, a duration).

    Read into a :class:`Discount` by :func:`read_discount`.
    """

    code: Text
    percent: Percent | None = None
    amount: Amount | None = None
    once: bool = False
    periods: Positive | None = None
    months: Positive | None = None
    applies_to: tuple[Text, ...] = ()


def read_discount(document: DiscountDocument, currency: str, *, per_unit: bool) -> Discount:
    """The discount ``document`` writes, its amount in ``currency`` (per unit or not).

    One of ``percent`` or ``amount``; at most one of ``once``, ``periods``, ``months``
    (none: forever); ``applies_to`` the products it reduces. Every problem at once, in an
    :class:`~subbill.errors.InputError`.
    """
    problems = Problems()
    code, percent, amount = document.code, document.percent, document.amount
    if (percent is None) == (amount is None):
        problems.add("", f"discount {code!r} needs one of percent or amount")
    durations = {"once": document.once or None, "periods": document.periods}
    durations["months"] = document.months
    chosen = [name for name, value in durations.items() if value is not None]
    if len(chosen) > 1:
        problems.add("", f"give one of once, periods, months; not {' and '.join(chosen)}")
    problems.check()
    options: dict[str, Any] = {}
    if document.once:
        options["duration"] = Duration.once()
    elif document.periods is not None:
        options["duration"] = Duration.periods(document.periods)
    elif document.months is not None:
        options["duration"] = Duration.months(document.months)
    if document.applies_to:
        options["applies_to"] = frozenset(document.applies_to)
    if percent is not None:
        maker = Discount.per_unit_percent_off if per_unit else Discount.percent_off
        return problems.build(lambda: maker(code, percent, **options))
    with problems.at("amount"):
        money = Money(amount, currency)
    off = Discount.per_unit_amount_off if per_unit else Discount.amount_off
    return problems.build(lambda: off(code, money, **options))


def read_discounts(
    documents: Sequence[DiscountDocument], currency: str, problems: Problems
) -> tuple[Discount, ...]:
    """The invoice discounts ``documents`` write, each problem recorded under its path."""
    discounts = []
    for index, document in enumerate(documents):
        with problems.at(f"discounts[{index}]"):
            discounts.append(read_discount(document, currency, per_unit=False))
    return tuple(discounts)

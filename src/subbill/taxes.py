"""Tax rates, net and gross amounts, and tax rounding per line or per invoice.

A :class:`TaxRate` is exclusive (added to the price: 100.00 HT + 20 % = 120.00 TTC) or
inclusive (contained in the price: 600.00 TTC at 10 % is 545.45 HT + 54.55 tax).

>>> vat = TaxRate(name="TVA 20 %", percent="20")
>>> tax = line_taxes([Money("100.00", "EUR")], [(vat,)])[0]
>>> tax.base, tax.tax
(Money('100.00', 'EUR'), Money('20.00', 'EUR'))
>>> inclusive = TaxRate(name="GST 10 %", percent="10", inclusive=True)
>>> line_taxes([Money("600.00", "EUR")], [(inclusive,)])[0].base
Money('545.45', 'EUR')
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Protocol

import attrs

from subbill._records import cached_slot, fast_cached_slots
from subbill._validate import brief, check_enum, check_text, enum_of, instance_of
from subbill.errors import (
    CurrencyMismatchError,
    InvalidArgumentError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.money import (
    DECIMAL_CONTEXT,
    Money,
    currency_precision,
    read_percent,
    round_fraction,
    round_preserving_sum,
)

__all__ = [
    "EXEMPT_CATEGORIES",
    "LineTax",
    "TaxBreakdown",
    "TaxRate",
    "TaxRounding",
    "Taxed",
    "VatCategory",
    "exclusive_tax",
    "line_tax",
    "line_taxes",
    "sum_taxes",
    "tax_breakdown",
]


def _to_percent(value: object) -> Decimal:
    """A rate from 0 to 100 %, with at most 6 decimal places (8.875 %, 9.975 %)."""
    percent = read_percent(value, "percent")
    if not 0 <= percent <= 100:
        raise InvalidArgumentError(f"percent={value!r} must be between 0 and 100")
    return percent


class VatCategory(enum.Enum):
    """The EN 16931 VAT category of a rate (UNTDID 5305), what an e-invoice declares.

    ``S`` standard rate (the default), ``Z`` zero rated, ``E`` exempt (the French VAT
    franchise, « TVA non applicable, art. 293 B du CGI »), ``AE`` reverse charge
    (« Autoliquidation »), ``K`` intra-EU supply of goods, ``G`` export outside the EU,
    ``O`` outside the scope of VAT. Every category but ``S`` and ``Z`` carries an
    exemption reason (text and VATEX code) and a rate of 0 %.
    """

    S = "S"
    Z = "Z"
    E = "E"
    AE = "AE"
    K = "K"
    G = "G"
    O = "O"  # noqa: E741  (the letter EN 16931 uses)


#: The categories that state why no VAT is charged: an exemption reason and a VATEX code.
EXEMPT_CATEGORIES = frozenset(
    (VatCategory.E, VatCategory.AE, VatCategory.K, VatCategory.G, VatCategory.O)
)

#: A VATEX code (the CEF list of exemption reasons): ``VATEX-EU-AE``, ``VATEX-FR-FRANCHISE``.
_VATEX = re.compile(r"VATEX-[A-Z]{2}-[A-Z0-9]+(?:-[A-Z0-9]+)*")


def _check_category(instance: TaxRate, _attribute: Any, category: VatCategory) -> None:
    """A rate's category agrees with its percent and its exemption reason."""
    reason, code = instance.exemption_reason, instance.exemption_code
    for name, value in (("exemption_reason", reason), ("exemption_code", code)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidArgumentError(f"{name}={brief(value)!r} must be a non-empty text or None")
    if category not in EXEMPT_CATEGORIES:
        if reason is not None or code is not None:
            raise InvalidArgumentError(
                f"exemption_reason={reason!r}, exemption_code={code!r}: a rate of category "
                f"{category.value} is not exempt; only E, AE, K, G and O state a reason"
            )
        if category is VatCategory.Z and instance.percent != 0:
            raise OutOfBoundsError("percent", instance.percent, "0 for category Z (zero rated)")
        return
    if reason is None or code is None:
        missing = "exemption_reason" if reason is None else "exemption_code"
        raise InvalidArgumentError(
            f"{missing}=None: a rate of category {category.value} must state why no VAT is "
            "charged, as a text (« Autoliquidation ») and a VATEX code (VATEX-EU-AE)"
        )
    if not _VATEX.fullmatch(code):
        raise InvalidArgumentError(
            f"exemption_code={brief(code)!r} must be a VATEX code such as 'VATEX-EU-AE' or "
            "'VATEX-FR-FRANCHISE'"
        )
    if instance.percent != 0:
        raise OutOfBoundsError(
            "percent", instance.percent, f"0 for category {category.value} (no VAT charged)"
        )


@attrs.frozen(kw_only=True, cache_hash=True)
class TaxRate:
    """A named tax rate in percent, exclusive (added to prices) or inclusive (contained in them).

    ``category`` is its EN 16931 VAT category (standard by default); an exempt one (E, AE,
    K, G, O) is at 0 % and says why, in words (``exemption_reason``) and as a VATEX code
    (``exemption_code``).

    >>> TaxRate(name="TVA 5,5 %", percent="5.5").rate
    Fraction(11, 200)
    >>> franchise = TaxRate(name="Franchise", percent="0", category=VatCategory.E,
    ...     exemption_reason="TVA non applicable, art. 293 B du CGI",
    ...     exemption_code="VATEX-FR-FRANCHISE")
    >>> franchise.category.value
    'E'
    """

    name: str = attrs.field(validator=check_text)
    percent: Decimal = attrs.field(converter=_to_percent)
    inclusive: bool = attrs.field(default=False, validator=instance_of(bool))
    category: VatCategory = attrs.field(
        default=VatCategory.S, validator=[enum_of(VatCategory), _check_category]
    )
    exemption_reason: str | None = attrs.field(default=None)
    exemption_code: str | None = attrs.field(default=None)

    @property
    def rate(self) -> Fraction:
        """The rate as an exact fraction (20 % → 1/5)."""
        return Fraction(self.percent) / 100


class TaxRounding(enum.Enum):
    """Where tax is rounded: on each line (default), or once per rate on the invoice total."""

    PER_LINE = "per_line"
    PER_INVOICE = "per_invoice"


@fast_cached_slots
@attrs.frozen(kw_only=True)
class LineTax:
    """The tax of one line: its taxable base (HT) and the tax of each of its rates."""

    base: Money
    taxes: tuple[tuple[TaxRate, Money], ...]

    @cached_slot
    def tax(self) -> Money:
        """The line's total tax."""
        return sum_taxes(self.taxes, currency=self.base.currency)

    @cached_slot
    def total(self) -> Money:
        """Taxable base plus tax.

        >>> line_tax(Money("27.42", "EUR"), (TaxRate(name="TVA", percent="20"),)).total
        Money('32.90', 'EUR')
        """
        return self.base + self.tax


def sum_taxes(taxes: Sequence[tuple[TaxRate, Money]], *, currency: str) -> Money:
    """The total of a line's taxes: its one rate's amount as it is, when it has one.

    >>> vat = TaxRate(name="TVA", percent="20")
    >>> sum_taxes([(vat, Money("5.48", "EUR"))], currency="EUR"), sum_taxes([], currency="EUR")
    (Money('5.48', 'EUR'), Money('0', 'EUR'))
    """
    if len(taxes) == 1:
        return taxes[0][1]
    return Money.total((amount for _, amount in taxes), currency=currency)


@attrs.frozen(kw_only=True)
class TaxBreakdown:
    """One rate's row of an invoice's tax summary: taxable base and tax."""

    rate: TaxRate
    base: Money
    tax: Money


def _is_sequence(value: object) -> bool:
    return isinstance(value, list | tuple) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def _check_rates(rates: Sequence[TaxRate], index: int) -> bool:
    """Return whether the line's rates are inclusive; refuse a mix, or what is not a rate."""
    if not _is_sequence(rates):
        raise InvalidTypeError(f"rates[{index}]", rates, "a tuple of TaxRate (empty: no tax)")
    for rate in rates:
        if not isinstance(rate, TaxRate):
            raise InvalidTypeError(f"rates[{index}]", rates, "a tuple of TaxRate (empty: no tax)")
    kinds = {rate.inclusive for rate in rates}
    if len(kinds) > 1:
        names = ", ".join(rate.name for rate in rates)
        raise InvalidArgumentError(
            f"tax_rates[{index}]=({names}) mixes inclusive and exclusive rates; "
            "a line's rates must all be one or the other"
        )
    return kinds == {True}


def _units(money: Money) -> Fraction:
    """Exact amount in minor units."""
    scale: int = 10 ** currency_precision(money.currency)
    return Fraction(money.amount) * scale


def _exact_taxes(amount: Money, rates: Sequence[TaxRate], inclusive: bool) -> list[Fraction]:
    """Exact tax of each rate in minor units (unrounded)."""
    units = _units(amount)
    if inclusive:
        whole = 1 + sum((rate.rate for rate in rates), Fraction(0))
        return [units * rate.rate / whole for rate in rates]
    return [units * rate.rate for rate in rates]


def line_taxes(
    amounts: Sequence[Money],
    rates: Sequence[Sequence[TaxRate]],
    *,
    tax_rounding: TaxRounding = TaxRounding.PER_LINE,
    rounding: str = ROUND_HALF_UP,
) -> tuple[LineTax, ...]:
    """Compute each line's base and taxes; ``amounts[i]`` is taxed at ``rates[i]``.

    Amounts are net of discounts, tax-exclusive or tax-inclusive as the line's rates say.
    ``PER_LINE`` rounds every line's tax; ``PER_INVOICE`` rounds each rate's total once and
    spreads it over the lines (largest remainder), so line taxes still add up to it.

    >>> vat = TaxRate(name="TVA", percent="20")
    >>> lines, rates = [Money("0.03", "EUR")] * 3, [(vat,)] * 3
    >>> [str(t.tax.amount) for t in line_taxes(lines, rates)]
    ['0.01', '0.01', '0.01']
    >>> per_invoice = line_taxes(lines, rates, tax_rounding=TaxRounding.PER_INVOICE)
    >>> [str(t.tax.amount) for t in per_invoice]
    ['0.01', '0.01', '0.00']
    """
    check_enum("tax_rounding", tax_rounding, TaxRounding)
    if not _is_sequence(amounts):
        raise InvalidTypeError("amounts", amounts, "a list or tuple of Money, one per line")
    if not _is_sequence(rates):
        raise InvalidTypeError("rates", rates, "a list or tuple of tuples of TaxRate, one per line")
    for index, amount in enumerate(amounts):
        if not isinstance(amount, Money):
            raise InvalidTypeError(f"amounts[{index}]", amount, "a Money")
    if len(amounts) != len(rates):
        raise InvalidArgumentError(
            f"amounts has {len(amounts)} lines but rates has {len(rates)}; give one tuple "
            "of rates per line"
        )
    inclusive = [_check_rates(line_rates, index) for index, line_rates in enumerate(rates)]
    if tax_rounding is TaxRounding.PER_LINE and all(len(line_rates) <= 1 for line_rates in rates):
        return tuple(
            _single_rate(amount, line_rates, rounding)
            for amount, line_rates in zip(amounts, rates, strict=True)
        )
    exact = [
        _exact_taxes(amount, line_rates, incl)
        for amount, line_rates, incl in zip(amounts, rates, inclusive, strict=True)
    ]
    rounded: list[list[int]]
    if tax_rounding is TaxRounding.PER_LINE:
        rounded = [_round_line(values, rounding) for values in exact]
    else:
        rounded = _round_per_rate(exact, rates, rounding)
    result = []
    for amount, line_rates, incl, units in zip(amounts, rates, inclusive, rounded, strict=True):
        currency = amount.currency
        taxes = tuple(
            (rate, Money.from_minor_units(unit, currency))
            for rate, unit in zip(line_rates, units, strict=True)
        )
        tax_total = Money.from_minor_units(sum(units), currency)
        base = amount.rounded(rounding) - tax_total if incl else amount.rounded(rounding)
        result.append(LineTax(base=base, taxes=taxes))
    return tuple(result)


def line_tax(amount: Money, rates: Sequence[TaxRate], rounding: str = ROUND_HALF_UP) -> LineTax:
    """The tax of one line at one rate (or none), rounded on the line.

    What :func:`line_taxes` gives that line under ``TaxRounding.PER_LINE``, without the
    checks of a whole list: the billing engine's path for its common case.

    >>> vat = TaxRate(name="TVA", percent="20")
    >>> line_tax(Money("27.42", "EUR"), (vat,)).taxes[0][1]
    Money('5.48', 'EUR')
    """
    if len(rates) > 1:
        raise InvalidArgumentError(
            f"rates has {len(rates)} rates: line_tax takes one rate or none (line_taxes: more)"
        )
    return _single_rate(amount, rates, rounding)


_new_line_tax = object.__new__
_SET_BASE = vars(LineTax)["base"].__set__
_SET_TAXES = vars(LineTax)["taxes"].__set__
_SET_TAX = vars(LineTax)["tax"].__set__
_SET_TOTAL = vars(LineTax)["total"].__set__
_NO_TAX = Decimal(0)


def _summed(base: Money, taxes: tuple[tuple[TaxRate, Money], ...], tax: Money) -> LineTax:
    """A line's tax with its ``tax`` and ``total`` set: what they compute, computed now.

    ``tax`` is what :func:`sum_taxes` gives ``taxes`` (none: a zero; one: its amount).
    """
    found = _new_line_tax(LineTax)  # LineTax(base=base, taxes=taxes): no check to run
    _SET_BASE(found, base)
    _SET_TAXES(found, taxes)
    _SET_TAX(found, tax)
    _SET_TOTAL(found, base + tax)
    return found


def _single_rate(amount: Money, rates: Sequence[TaxRate], rounding: str) -> LineTax:
    """The common case, with Decimal arithmetic: one rate (or none), rounded on the line."""
    gross = amount.rounded(rounding)
    if not rates:
        return _summed(gross, (), Money._make(_NO_TAX, gross.currency))
    rate = rates[0]
    if rate.inclusive:
        tax = (amount * (rate.rate / (1 + rate.rate))).rounded(rounding)
        return _summed(gross - tax, ((rate, tax),), tax)
    tax = exclusive_tax(amount, rate, rounding)
    return _summed(gross, ((rate, tax),), tax)


def exclusive_tax(amount: Money, rate: TaxRate, rounding: str = ROUND_HALF_UP) -> Money:
    """The tax an exclusive ``rate`` adds to ``amount``, rounded once to the minor unit.

    >>> exclusive_tax(Money("27.42", "EUR"), TaxRate(name="TVA", percent="20"))
    Money('5.48', 'EUR')
    """
    return amount._percent_rounded(rate.percent, rounding)


def _round_line(values: list[Fraction], rounding: str) -> list[int]:
    """Round one line's taxes: the line total once, then spread over its rates."""
    if not values:
        return []
    total = round_fraction(sum(values, Fraction(0)), rounding)
    return round_preserving_sum(values, total)


def _round_per_rate(
    exact: list[list[Fraction]], rates: Sequence[Sequence[TaxRate]], rounding: str
) -> list[list[int]]:
    """Round each rate's invoice total once, then spread it over the lines that carry it."""
    rounded = [[0] * len(values) for values in exact]
    positions: dict[TaxRate, list[tuple[int, int]]] = {}
    for line, line_rates in enumerate(rates):
        for slot, rate in enumerate(line_rates):
            positions.setdefault(rate, []).append((line, slot))
    for places in positions.values():
        values = [exact[line][slot] for line, slot in places]
        total = round_fraction(sum(values, Fraction(0)), rounding)
        for (line, slot), unit in zip(places, round_preserving_sum(values, total), strict=True):
            rounded[line][slot] = unit
    return rounded


class Taxed(Protocol):
    """What :func:`tax_breakdown` reads of a line: a :class:`LineTax`, or an invoice line."""

    @property
    def base(self) -> Money: ...  # noqa: D102
    @property
    def taxes(self) -> tuple[tuple[TaxRate, Money], ...]: ...  # noqa: D102


def tax_breakdown(line_tax: Sequence[Taxed], *, currency: str) -> tuple[TaxBreakdown, ...]:
    """Sum line taxes per rate, in the order rates first appear; the rows add up to the tax.

    >>> vat = TaxRate(name="TVA", percent="20")
    >>> rows = tax_breakdown(line_taxes([Money("10", "EUR"), Money("5", "EUR")], [(vat,), (vat,)]),
    ...                      currency="EUR")
    >>> [(r.rate.name, str(r.base), str(r.tax)) for r in rows]
    [('TVA', '15.00 EUR', '3.00 EUR')]
    """
    code = Money.zero(currency).currency  # the currency, read (and checked) once
    add = DECIMAL_CONTEXT.add
    bases: dict[TaxRate, Decimal] = {}
    taxes: dict[TaxRate, Decimal] = {}
    # The sums of the rate of the last line, kept apart while the next lines have the same
    # rate (the common case: one rate on every line), so that a rate is hashed once per run.
    current: TaxRate | None = None
    base_sum = tax_sum = _ZERO
    for item in line_tax:
        base = item.base
        for rate, amount in item.taxes:
            if base.currency != code:
                raise CurrencyMismatchError(code, base.currency, "add")
            if amount.currency != code:
                raise CurrencyMismatchError(code, amount.currency, "add")
            if rate is not current:
                if current is not None:
                    bases[current], taxes[current] = base_sum, tax_sum
                current = rate
                base_sum = bases.setdefault(rate, _ZERO)  # first seen: its place in the order
                tax_sum = taxes.setdefault(rate, _ZERO)
            base_sum = add(base_sum, base.amount)
            tax_sum = add(tax_sum, amount.amount)
    if current is not None:
        bases[current], taxes[current] = base_sum, tax_sum
    return tuple(
        TaxBreakdown(
            rate=rate, base=Money._make(bases[rate], code), tax=Money._make(taxes[rate], code)
        )
        for rate in bases
    )


_ZERO = Decimal(0)

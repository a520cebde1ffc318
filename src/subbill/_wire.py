"""Bill runs on worker processes: what crosses the process boundary, and how (private).

With an executor, :func:`subbill.billing.bill_run` sends chunks of subscriptions to workers
and reads their results back. Pickled as they are, results cost the parent as much as the
billing itself: hundreds of small records per invoice (lines, explanations, periods,
``Money``, ``Fraction``) each built again, each through Python-level pickling. So both
directions travel **packed**:

- a subscription as a tuple of its fields (:class:`_Records`), rebuilt in the worker;
- a chunk's results with every value shared by many lines — an amount, a period, a
  quantity, a factor, a line's taxes — once per chunk, in a table (:class:`_Tables`), and
  its lines as one flat list of indices, ``str`` and ``int`` (which pickles in C, with no
  container per line); the parent builds each table entry once and every line of the chunk
  shares it.

Records are rebuilt through their slots, without their checks: they are copies of records
that were checked (the inputs) or that the worker's engine built valid (the results). A
``Decimal`` travels as its exact string (written in the library's own context, never the
caller's), a date as its ordinal; objects shared as they are (tax rates, discounts,
frequencies, reasons) travel as themselves, once per chunk (pickle's memo).

A subscription that fails in a worker fails as in one process: the worker stops the chunk
there and sends back the results before it and the error (its class, arguments and
attributes, rebuilt in the parent; the worker's traceback as a note); :class:`Wire` yields
those results, then raises that error. The records of :mod:`subbill.billing`, which sits
above this module, are given to :class:`Wire` by it.
"""

from __future__ import annotations

import collections
import itertools
import operator
import pickle
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

import attrs

from subbill._gc import fewer_collections
from subbill._records import slot_setters
from subbill.charges import RecurringCharge
from subbill.discounts import AppliedDiscount, LineDiscount
from subbill.invoices import DocumentKind, Invoice, InvoiceLine, LineExplanation, LineKind
from subbill.money import DECIMAL_CONTEXT, Money
from subbill.periods import Period
from subbill.proration import ProrationBasis
from subbill.taxes import TaxBreakdown, TaxRate

if TYPE_CHECKING:  # annotations only: billing sits above this module and imports it
    from subbill.billing import BillingResult, BillingState

__all__ = ["Wire"]

_Item = TypeVar("_Item")

#: A chunk's packed results: the tables, the packed results, the error that stopped it.
_Reply = tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[Any, ...] | None]

_LINE_KINDS = tuple(LineKind)
# Keyed by identity: an enum member is a singleton, and hashing one runs Python code.
_LINE_KIND_INDEX = {id(kind): index for index, kind in enumerate(_LINE_KINDS)}
_BASES: tuple[ProrationBasis | None, ...] = (None, *ProrationBasis)
_BASIS_INDEX = {id(basis): index for index, basis in enumerate(_BASES)}
_DOCUMENT_KINDS = tuple(DocumentKind)
_DOCUMENT_KIND_INDEX = {id(kind): index for index, kind in enumerate(_DOCUMENT_KINDS)}
_fromordinal = date.fromordinal
# Exact, and never through the caller's context (str() would read its ``capitals``).
_to_text = DECIMAL_CONTEXT.to_sci_string
_new = object.__new__

_LINE_SETTERS = tuple(slot_setters(InvoiceLine).values())
_WHY_SETTERS = tuple(slot_setters(LineExplanation).values())
# A frozen attrs class keeps each cached property's value in a slot of the property's name:
# an invoice's net, tax and total travel with it (added up once, by the worker).
_INVOICE_CACHES = tuple(vars(Invoice)[name].__set__ for name in ("net", "tax", "total"))
_DISCOUNT_SETTERS = tuple(slot_setters(LineDiscount).values())
_APPLIED_SETTERS = tuple(slot_setters(AppliedDiscount).values())
_BREAKDOWN_SETTERS = tuple(slot_setters(TaxBreakdown).values())


class _Tables:
    """The values a chunk's results share, each packed once, and their indices (worker side).

    ``numbers`` holds the exact strings of amounts and quantities (equal strings, one
    index: ``50.00`` and ``50.0`` stay apart), ``periods`` ``(start, end)`` ordinals,
    ``fractions`` the factors (by identity: the engine shares them; each kept alive here so
    that its ``id`` is not reused while the chunk is packed), ``taxes`` a line's taxes as
    ``((rate, number), ...)`` and ``discounts`` what discounts took off a line as ``((code,
    number), ...)``. ``lines`` holds every line of the chunk, :data:`_LINE_FIELDS` values
    each, one after the other: one flat list of atoms, which pickles and unpickles in C
    without a container per line.
    """

    __slots__ = ("discount_index", "discounts", "fraction_index", "fractions", "lines",
                 "number_index", "numbers", "period_index", "periods", "tax_index",
                 "taxes")  # fmt: skip

    def __init__(self) -> None:
        self.numbers: list[str] = []
        self.number_index: dict[str, int] = {}
        self.periods: list[tuple[int, int]] = []
        self.period_index: dict[tuple[date, date], int] = {}
        self.fractions: list[Fraction] = []
        self.fraction_index: dict[int, int] = {}
        self.taxes: list[tuple[tuple[TaxRate, int], ...]] = []
        self.tax_index: dict[tuple[Any, ...], int] = {}
        self.discounts: list[tuple[tuple[str, int], ...]] = []
        self.discount_index: dict[tuple[tuple[str, int], ...], int] = {}
        self.lines: list[Any] = []

    def number(self, value: Decimal) -> int:
        """The index of ``value``'s exact string (written in the library's own context)."""
        text = _to_text(value)
        found = self.number_index.get(text)
        if found is None:
            found = self.number_index[text] = len(self.numbers)
            self.numbers.append(text)
        return found

    def period(self, value: Period | None) -> int:
        """The index of ``value`` (-1: none)."""
        if value is None:
            return -1
        key = (value.start, value.end)
        found = self.period_index.get(key)
        if found is None:
            found = self.period_index[key] = len(self.periods)
            self.periods.append((value.start.toordinal(), value.end.toordinal()))
        return found

    def fraction(self, value: Fraction) -> int:
        """The index of ``value``."""
        found = self.fraction_index.get(id(value))
        if found is None:
            found = self.fraction_index[id(value)] = len(self.fractions)
            self.fractions.append(value)
        return found

    def line_taxes(self, taxes: tuple[tuple[TaxRate, Money], ...]) -> int:
        """The index of a line's ``taxes`` (rates by identity, kept alive by the table)."""
        number = self.number
        key: tuple[Any, ...]
        if len(taxes) == 1:  # the common case, keyed as a pair (several: a tuple of pairs)
            rate, amount = taxes[0]
            index = number(amount.amount)
            key = (id(rate), index)
            found = self.tax_index.get(key)
            if found is None:
                found = self.tax_index[key] = len(self.taxes)
                self.taxes.append(((rate, index),))
            return found
        entry = tuple([(rate, number(amount.amount)) for rate, amount in taxes])
        key = tuple([(id(rate), index) for rate, index in entry])
        found = self.tax_index.get(key)
        if found is None:
            found = self.tax_index[key] = len(self.taxes)
            self.taxes.append(entry)
        return found

    def line_discounts(self, discounts: tuple[LineDiscount, ...]) -> int:
        """The index of what discounts took off a line (-1: nothing)."""
        if not discounts:
            return -1
        number = self.number
        key = tuple([(taken.code, number(taken.amount.amount)) for taken in discounts])
        found = self.discount_index.get(key)
        if found is None:
            found = self.discount_index[key] = len(self.discounts)
            self.discounts.append(key)
        return found

    def add_lines(self, lines: Sequence[InvoiceLine]) -> None:
        """Append ``lines`` to :attr:`lines`, :data:`_LINE_FIELDS` values each."""
        number = self.number
        period = self.period
        fraction = self.fraction
        extend = self.lines.extend
        # The lines of one charge follow each other and share its price and quantity, and
        # most lines share one zero discount: the last of each is remembered (by identity).
        price: Money | None = None
        quantity: Decimal | None = None
        discount: Money | None = None
        price_index = quantity_index = discount_index = -1
        for line in lines:
            why = line.explanation
            if line.unit_price is not price:
                price = line.unit_price
                price_index = number(price.amount)
            if line.quantity is not quantity:
                quantity = line.quantity
                quantity_index = number(quantity)
            if line.discount is not discount:
                discount = line.discount
                discount_index = number(discount.amount)
            line_period = period(line.period)
            factor = fraction(line.factor)
            # The engine gives a line and its explanation the same objects: packed once.
            extend(
                (
                    _LINE_KIND_INDEX[id(line.kind)],
                    line.code,
                    line.description,
                    line.charge_key,
                    line_period,
                    quantity_index,
                    price_index,
                    factor,
                    number(line.amount.amount),
                    discount_index,
                    line.tax_rates,
                    self.line_taxes(line.taxes),
                    number(line.base.amount),
                    price_index if why.unit_price is price else number(why.unit_price.amount),
                    quantity_index if why.quantity is quantity else number(why.quantity),
                    factor if why.factor is line.factor else fraction(why.factor),
                    line_period if why.period is line.period else period(why.period),
                    line_period if why.cycle is line.period else period(why.cycle),
                    why.days,
                    why.period_days,
                    _BASIS_INDEX[id(why.basis)],
                    why.reason,
                    self.line_discounts(why.discounts),
                    why.usage,
                )
            )

    def packed(self) -> tuple[Any, ...]:
        """The tables as plain lists, in the order :class:`_Built` reads them."""
        return (
            self.numbers,
            self.periods,
            [(fraction.numerator, fraction.denominator) for fraction in self.fractions],
            self.taxes,
            self.discounts,
            self.lines,
        )


#: How many values :meth:`_Tables.add_lines` packs per line.
_LINE_FIELDS = 24


class _Built:
    """A chunk's tables built once (parent side): every line of the chunk shares them.

    :meth:`money` is the table of amounts as ``Money`` in a currency, built on first use
    (a chunk's invoices are mostly in one currency); likewise the lines' taxes and
    discounts, which hold amounts. ``lines`` reads the chunk's flat list of lines,
    :data:`_LINE_FIELDS` values at a time.
    """

    __slots__ = ("_discounts", "_moneys", "_taxes", "discounts", "fractions", "lines",
                 "numbers", "periods", "taxes")  # fmt: skip

    def __init__(self, packed: tuple[Any, ...]) -> None:
        numbers, periods, fractions, self.taxes, self.discounts, lines = packed
        make_period = Period._make
        self.numbers = [Decimal(number) for number in numbers]
        self.periods = [
            make_period(_fromordinal(start), _fromordinal(end)) for start, end in periods
        ]
        self.fractions = [Fraction(numerator, denominator) for numerator, denominator in fractions]
        # One iterator read _LINE_FIELDS values at a time (zip reuses its tuple).
        self.lines: Iterator[tuple[Any, ...]] = zip(*[iter(lines)] * _LINE_FIELDS, strict=True)
        self._moneys: dict[str, list[Money]] = {}
        self._taxes: dict[str, list[tuple[tuple[TaxRate, Money], ...]]] = {}
        self._discounts: dict[str, list[tuple[LineDiscount, ...]]] = {}

    def money(self, currency: str) -> list[Money]:
        """The amounts of the table as ``Money`` in ``currency``."""
        found = self._moneys.get(currency)
        if found is None:
            make = Money._make
            found = self._moneys[currency] = [make(number, currency) for number in self.numbers]
        return found

    def line_taxes(self, currency: str) -> list[tuple[tuple[TaxRate, Money], ...]]:
        """The lines' taxes of the table, in ``currency``."""
        found = self._taxes.get(currency)
        if found is None:
            moneys = self.money(currency)
            found = self._taxes[currency] = [
                tuple([(rate, moneys[index]) for rate, index in entry]) for entry in self.taxes
            ]
        return found

    def line_discounts(self, currency: str) -> list[tuple[LineDiscount, ...]]:
        """What discounts took off the lines of the table, in ``currency``."""
        found = self._discounts.get(currency)
        if found is None:
            moneys = self.money(currency)
            found = self._discounts[currency] = [
                tuple(
                    [
                        _record(LineDiscount, _DISCOUNT_SETTERS, (code, moneys[index]))
                        for code, index in entry
                    ]
                )
                for entry in self.discounts
            ]
        return found


def _unpack_lines(count: int, currency: str, built: _Built) -> tuple[InvoiceLine, ...]:
    """The next ``count`` lines of the chunk, in ``currency``."""
    moneys = built.money(currency)
    taxes = built.line_taxes(currency)
    discounts = built.line_discounts(currency) if built.discounts else []
    periods = built.periods
    numbers = built.numbers
    fractions = built.fractions
    (
        set_why_price,
        set_why_quantity,
        set_why_factor,
        set_why_period,
        set_why_cycle,
        set_days,
        set_period_days,
        set_basis,
        set_reason,
        set_discounts,
        set_usage,
    ) = _WHY_SETTERS
    (
        set_kind,
        set_code,
        set_description,
        set_charge_key,
        set_period,
        set_quantity,
        set_unit_price,
        set_factor,
        set_amount,
        set_discount,
        set_tax_rates,
        set_taxes,
        set_base,
        set_explanation,
    ) = _LINE_SETTERS
    lines = []
    for (
        kind,
        code,
        description,
        charge_key,
        period,
        quantity,
        unit_price,
        factor,
        amount,
        discount,
        tax_rates,
        line_taxes,
        base,
        why_price,
        why_quantity,
        why_factor,
        why_period,
        why_cycle,
        days,
        period_days,
        basis,
        reason,
        taken,
        usage,
    ) in itertools.islice(built.lines, count):
        why = _new(LineExplanation)
        set_why_price(why, moneys[why_price])
        set_why_quantity(why, numbers[why_quantity])
        set_why_factor(why, fractions[why_factor])
        set_why_period(why, None if why_period < 0 else periods[why_period])
        set_why_cycle(why, None if why_cycle < 0 else periods[why_cycle])
        set_days(why, days)
        set_period_days(why, period_days)
        set_basis(why, _BASES[basis])
        set_reason(why, reason)
        set_discounts(why, () if taken < 0 else discounts[taken])
        set_usage(why, usage)  # a usage line's priced pieces travel as they are
        line = _new(InvoiceLine)
        set_kind(line, _LINE_KINDS[kind])
        set_code(line, code)
        set_description(line, description)
        set_charge_key(line, charge_key)
        set_period(line, None if period < 0 else periods[period])
        set_quantity(line, numbers[quantity])
        set_unit_price(line, moneys[unit_price])
        set_factor(line, fractions[factor])
        set_amount(line, moneys[amount])
        set_discount(line, moneys[discount])
        set_tax_rates(line, tax_rates)
        set_taxes(line, taxes[line_taxes])
        set_base(line, moneys[base])
        set_explanation(line, why)
        lines.append(line)
    return tuple(lines)


def _pack_invoice(invoice: Invoice, tables: _Tables) -> tuple[Any, ...]:
    """An engine draft packed (it has no number, payment nor correction yet).

    Its lines go to the chunk's flat list of lines; the invoice says how many.
    """
    number = tables.number
    tables.add_lines(invoice.lines)
    return (
        invoice.customer,
        invoice.currency,
        invoice.issued_on.toordinal(),
        invoice.due_on.toordinal(),
        len(invoice.lines),
        invoice.subscription,
        tuple(
            [
                (item.discount, number(item.amount.amount), number(item.unused.amount))
                for item in invoice.discounts
            ]
        ),
        tuple(
            [(row.rate, number(row.base.amount), number(row.tax.amount)) for row in invoice.taxes]
        ),
        _DOCUMENT_KIND_INDEX[id(invoice.kind)],
        None if invoice.credit_applied is None else number(invoice.credit_applied.amount),
        number(invoice.net.amount),
        number(invoice.tax.amount),
        number(invoice.total.amount),
    )


def _unpack_invoice(packed: tuple[Any, ...], built: _Built) -> Invoice:
    (
        customer,
        currency,
        issued_on,
        due_on,
        lines,
        subscription,
        discounts,
        taxes,
        kind,
        credit_applied,
        net,
        tax,
        total,
    ) = packed
    moneys = built.money(currency)
    invoice = Invoice._engine_draft(
        customer=customer,
        currency=currency,
        issued_on=_fromordinal(issued_on),
        due_on=_fromordinal(due_on),
        lines=_unpack_lines(lines, currency, built),
        subscription=subscription,
        discounts=tuple(
            [
                _record(AppliedDiscount, _APPLIED_SETTERS, (found, moneys[amount], moneys[unused]))
                for found, amount, unused in discounts
            ]
        ),
        taxes=tuple(
            [
                _record(TaxBreakdown, _BREAKDOWN_SETTERS, (rate, moneys[base], moneys[added]))
                for rate, base, added in taxes
            ]
        ),
        kind=_DOCUMENT_KINDS[kind],
        credit_applied=None if credit_applied is None else moneys[credit_applied],
    )
    # Its totals, added up once by the worker (the parent reads them without a sum).
    set_net, set_tax, set_total = _INVOICE_CACHES
    set_net(invoice, moneys[net])
    set_tax(invoice, moneys[tax])
    set_total(invoice, moneys[total])
    return invoice


_Record = TypeVar("_Record")


def _record(
    cls: type[_Record], setters: Sequence[Callable[[Any, Any], None]], values: Sequence[Any]
) -> _Record:
    """A record of ``cls`` built through its slots, unchecked (its values were valid)."""
    built = _new(cls)
    for setter, value in zip(setters, values, strict=True):
        setter(built, value)
    return built


def _pack_error(error: Exception) -> tuple[Any, ...]:
    """``error`` as its class, arguments, attributes and the worker's traceback.

    Rebuilt by :func:`_unpack_error` without calling the class's ``__init__`` (whose
    signature need not match ``args``). An attribute that cannot be pickled travels as its
    ``repr``.
    """
    state = dict(vars(error))
    for name, value in state.items():
        try:
            pickle.dumps(value)
        except Exception:  # any value a pickler refuses travels as its repr
            state[name] = repr(value)
    where = "".join(traceback.format_exception(error))
    return (type(error), error.args, state, where)


def _unpack_error(packed: tuple[Any, ...]) -> Exception:
    cls, args, state, where = packed
    error: Exception = cls.__new__(cls, *args)
    error.args = args
    vars(error).update(state)
    error.add_note(f"Raised in a worker process of bill_run:\n{where.rstrip()}")
    return error


def bill_chunk(
    bill: Callable[[Any, date], BillingResult],
    chunk: Sequence[Any],
    as_of: date,
    records: _Records | None = None,
) -> _Reply:
    """In a worker: bill each item of ``chunk`` with ``bill``; the results packed.

    With ``records``, ``chunk`` is packed (:meth:`_Records.pack`) and each item is rebuilt
    first. Stops at the first item that raises (as one process would): the results before
    it and the error travel back.
    """
    tables = _Tables()
    results: list[tuple[Any, ...]] = []
    error = None
    items = chunk if records is None else records.unpack(chunk)
    with fewer_collections():
        for item in items:
            try:
                result = bill(item, as_of)
            except Exception as failed:  # sent back, to be raised in the parent
                error = _pack_error(failed)
                break
            results.append(_pack_result(result, tables))
    return tables.packed(), results, error


_CHARGE_TAIL = tuple(field.name for field in attrs.fields(RecurringCharge))[4:]
#: A recurring charge's fields after its price and quantity, read in one C call.
_charge_tail = operator.attrgetter(*_CHARGE_TAIL)


class _Records(NamedTuple):
    """The engine's input records, given by :mod:`subbill.billing`: packed for a worker.

    Pickled as they are, a chunk's subscriptions cost the parent a Python call per record
    and per field. Packed, a subscription is a tuple of its fields (a recurring charge's
    read in one C call), its amounts and quantities exact strings written in the library's
    context; the worker rebuilds the records through their slots, unchecked: they are
    copies of records that were checked when they were built. An item of another shape
    (or holding a subclass) travels as it is, so that the worker refuses it as one process
    would.
    """

    plan: type[Any]
    state: type[BillingState]

    def pack(self, chunk: Sequence[Any]) -> list[tuple[Any, ...]]:
        """``chunk`` packed: ``(plan, state or None)`` each, or ``(item,)`` as it is."""
        plan_type, state_type = self.plan, self.state
        packed: list[tuple[Any, ...]] = []
        for item in chunk:
            if type(item) is plan_type:
                plan, state = item, None
            elif (
                type(item) in _PAIRS
                and len(item) == 2
                and type(item[0]) is plan_type
                and (item[1] is None or type(item[1]) is state_type)
            ):
                plan, state = item
            else:
                packed.append((item,))
                continue
            charges = _pack_charges(plan.charges)
            balance = None if state is None else state.credit_balance
            if charges is None or (balance is not None and type(balance) is not Money):
                packed.append((item,))
                continue
            packed.append(
                (
                    (
                        plan.id,
                        plan.customer,
                        plan.currency,
                        charges,
                        plan.one_time,
                        plan.discounts,
                        plan.payment_terms_days,
                        plan.tax_rounding,
                        plan.negative_balance,
                        plan.usage,
                    ),
                    None
                    if state is None
                    else (
                        state.billed_through,
                        state.one_time_billed,
                        None if balance is None else (_to_text(balance.amount), balance.currency),
                        state.terms,
                        state.usage_billed,
                    ),
                )
            )
        return packed

    def unpack(self, packed: Sequence[tuple[Any, ...]]) -> Iterator[Any]:
        """The items of a packed chunk, rebuilt (in a worker)."""
        plan_setters = _setters(self.plan)
        state_setters = _setters(self.state)
        for entry in packed:
            if len(entry) == 1:
                yield entry[0]
                continue
            values, state = entry
            currency = values[2]
            charges = tuple([_unpack_charge(charge, currency) for charge in values[3]])
            plan = _record(self.plan, plan_setters, (*values[:3], charges, *values[4:]))
            if state is not None:
                billed_through, one_time, balance, terms, usage_billed = state
                credit = None if balance is None else Money._make(Decimal(balance[0]), balance[1])
                values = (billed_through, one_time, credit, terms, usage_billed)
                state = _record(self.state, state_setters, values)
            yield (plan, state)


_PAIRS = (tuple, list)


def _pack_charges(charges: tuple[RecurringCharge, ...]) -> tuple[tuple[Any, ...], ...] | None:
    """Recurring charges packed (``None``: one is of a subclass, or priced by a subclass)."""
    packed = []
    for charge in charges:
        price = charge.unit_price
        if type(charge) is not RecurringCharge or type(price) is not Money:
            return None
        packed.append(
            (
                charge.code,
                charge.description,
                _to_text(price.amount),
                _to_text(charge.quantity),
                *_charge_tail(charge),
            )
        )
    return tuple(packed)


def _unpack_charge(packed: tuple[Any, ...], currency: str) -> RecurringCharge:
    code, description, price, quantity, *tail = packed
    return _record(
        RecurringCharge,
        _setters(RecurringCharge),
        (code, description, Money._make(Decimal(price), currency), Decimal(quantity), *tail),
    )


_SETTERS: dict[type, tuple[Callable[[Any, Any], None], ...]] = {}


def _setters(cls: type) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot setters of a frozen attrs class, in the order of its fields (cached).

    A field a base class declares has its slot there: each is looked up along the MRO.
    """
    found = _SETTERS.get(cls)
    if found is None:
        fields = attrs.fields(cls)
        found = _SETTERS[cls] = tuple([getattr(cls, field.name).__set__ for field in fields])
    return found


def _pack_result(result: BillingResult, tables: _Tables) -> tuple[Any, ...]:
    state = result.state
    balance = state.credit_balance
    packed_state = (
        tuple([(key, day.toordinal()) for key, day in state.billed_through]),
        state.one_time_billed,
        None if balance is None else (tables.number(balance.amount), balance.currency),
        state.terms,
        state.usage_billed,
    )
    invoice = result.invoice
    return (
        result.subscription,
        None if invoice is None else _pack_invoice(invoice, tables),
        packed_state,
    )


class Wire(Generic[_Item]):
    """Bill runs on an executor, for :mod:`subbill.billing` (which gives its records).

    ``bill(item, as_of)`` bills one item (a module-level function: it is sent to the
    workers by name); ``plan``, ``state`` and ``result`` are the classes of the engine's
    input, of the billing state and of the result: the inputs are packed for the workers
    and rebuilt there, the results packed by the workers and rebuilt in the parent, each
    through their slots.
    """

    def __init__(
        self,
        *,
        bill: Callable[[_Item, date], BillingResult],
        plan: type[Any],
        state: type[BillingState],
        result: type[BillingResult],
    ) -> None:
        self.bill = bill
        self.records = _Records(plan, state)
        self.state = state
        self.result = result
        self._state_setters = _setters(state)
        self._result_setters = _setters(result)

    def run(
        self,
        executor: Executor,
        items: Iterable[_Item],
        *,
        as_of: date,
        chunk_size: int,
        max_pending: int,
    ) -> Iterator[BillingResult]:
        """Bill ``items`` in chunks on ``executor``, yielding the results in order.

        At most ``max_pending`` chunks are submitted ahead of the consumer; when the
        consumer stops (or an item fails), the chunks not started are cancelled.
        """
        iterator = iter(items)
        pending: collections.deque[Future[_Reply]] = collections.deque()
        try:
            while True:
                chunk = list(itertools.islice(iterator, chunk_size))
                if chunk:
                    pending.append(
                        executor.submit(
                            bill_chunk, self.bill, self.records.pack(chunk), as_of, self.records
                        )
                    )
                if pending and (len(pending) >= max_pending or not chunk):
                    yield from self.unpack(pending.popleft().result())
                if not chunk and not pending:
                    return
        finally:
            for future in pending:
                future.cancel()

    def unpack(self, reply: _Reply) -> Iterator[BillingResult]:
        """The results of one chunk's ``reply``; then its error, raised, if it has one."""
        packed_tables, results, error = reply
        built = _Built(packed_tables)
        state_cls, result_cls = self.state, self.result
        state_setters, result_setters = self._state_setters, self._result_setters
        for subscription, invoice, (
            billed_through,
            one_time,
            balance,
            terms,
            usage_billed,
        ) in results:
            state = _record(
                state_cls,
                state_setters,
                (
                    tuple([(key, _fromordinal(day)) for key, day in billed_through]),
                    one_time,
                    None if balance is None else built.money(balance[1])[balance[0]],
                    terms,
                    usage_billed,
                ),
            )
            yield _record(
                result_cls,
                result_setters,
                (
                    subscription,
                    None if invoice is None else _unpack_invoice(invoice, built),
                    state,
                ),
            )
        if error is not None:
            raise _unpack_error(error)

"""Bill runs on worker processes: what crosses the process boundary, and how (private).

With an executor, :func:`subbill.billing.bill_run` sends chunks of subscriptions to workers
and reads their results back. Pickled as they are, results cost the parent as much as the
billing itself: hundreds of small records per invoice (lines, explanations, periods,
``Money``, ``Fraction``) each built again, each through Python-level pickling. So a worker
sends a chunk's results **packed**:

- every value shared by many lines — an amount, a period, a quantity, a factor — once per
  chunk, in a table (:class:`_Tables`), and the lines refer to it by index; the parent
  builds each table entry once and every line of the chunk shares it;
- the records as flat tuples of ``str`` and ``int`` (which pickle in C), rebuilt by the
  parent through their slots, without their checks: the worker's engine built them valid.
  A ``Decimal`` travels as its exact string (never through a context), a date as its
  ordinal; objects the engine shares as they are (tax rates, discounts, reasons) travel as
  themselves, once per chunk (pickle's memo).

A subscription that fails in a worker fails as in one process: the worker stops the chunk
there and sends back the results before it and the error (its class, arguments and
attributes, rebuilt in the parent; the worker's traceback as a note); :class:`Wire` yields
those results, then raises that error. The records of :mod:`subbill.billing`, which sits
above this module, are given to :class:`Wire` by it.
"""

from __future__ import annotations

import collections
import itertools
import pickle
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from subbill._records import slot_setters
from subbill.discounts import AppliedDiscount, LineDiscount
from subbill.invoices import DocumentKind, Invoice, InvoiceLine, LineExplanation, LineKind
from subbill.money import Money
from subbill.periods import Period
from subbill.proration import ProrationBasis
from subbill.taxes import TaxBreakdown

if TYPE_CHECKING:  # annotations only: billing sits above this module and imports it
    from subbill.billing import BillingResult, BillingState

__all__ = ["Wire"]

_Item = TypeVar("_Item")

#: A chunk's packed results: the tables, the packed results, the error that stopped it.
_Reply = tuple[tuple[Any, ...], list[tuple[Any, ...]], tuple[Any, ...] | None]

_LINE_KINDS = tuple(LineKind)
_LINE_KIND_INDEX = {kind: index for index, kind in enumerate(_LINE_KINDS)}
_BASES: tuple[ProrationBasis | None, ...] = (None, *ProrationBasis)
_BASIS_INDEX = {basis: index for index, basis in enumerate(_BASES)}
_DOCUMENT_KINDS = tuple(DocumentKind)
_DOCUMENT_KIND_INDEX = {kind: index for index, kind in enumerate(_DOCUMENT_KINDS)}
_fromordinal = date.fromordinal
_new = object.__new__

_LINE_SETTERS = tuple(slot_setters(InvoiceLine).values())
_WHY_SETTERS = tuple(slot_setters(LineExplanation).values())
# A frozen attrs class keeps each cached property's value in a slot of the property's name:
# a line's net, tax and total travel with it (the worker's engine computed them).
_INVOICE_CACHES = tuple(vars(Invoice)[name].__set__ for name in ("net", "tax", "total"))
_SET_DISCOUNT_CODE, _SET_DISCOUNT_AMOUNT = slot_setters(LineDiscount).values()
_APPLIED_SETTERS = tuple(slot_setters(AppliedDiscount).values())
_BREAKDOWN_SETTERS = tuple(slot_setters(TaxBreakdown).values())


class _Tables:
    """The values a chunk's results share, each packed once, and their indices (worker side).

    ``numbers`` holds the exact strings of amounts and quantities (equal strings, one
    index: ``50.00`` and ``50.0`` stay apart), ``periods`` ``(start, end)`` ordinals,
    ``fractions`` the factors (by identity: the engine shares them; each kept alive here so
    that its ``id`` is not reused while the chunk is packed).
    """

    __slots__ = ("fraction_index", "fractions", "number_index", "numbers", "period_index",
                 "periods")  # fmt: skip

    def __init__(self) -> None:
        self.numbers: list[str] = []
        self.number_index: dict[str, int] = {}
        self.periods: list[tuple[int, int]] = []
        self.period_index: dict[tuple[date, date], int] = {}
        self.fractions: list[Fraction] = []
        self.fraction_index: dict[int, int] = {}

    def number(self, value: Decimal) -> int:
        """The index of ``value``'s exact string."""
        text = str(value)
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

    def packed(self) -> tuple[Any, ...]:
        """The tables as plain lists, in the order :class:`_Built` reads them."""
        return (
            self.numbers,
            self.periods,
            [(fraction.numerator, fraction.denominator) for fraction in self.fractions],
        )


class _Built:
    """A chunk's tables built once (parent side): every line of the chunk shares them.

    ``money(currency)`` is the table of amounts as ``Money`` in ``currency``, built on
    first use (a chunk's invoices are mostly in one currency).
    """

    __slots__ = ("_moneys", "fractions", "numbers", "periods")

    def __init__(self, packed: tuple[Any, ...]) -> None:
        numbers, periods, fractions = packed
        make_period = Period._make
        self.numbers = [Decimal(number) for number in numbers]
        self.periods = [
            make_period(_fromordinal(start), _fromordinal(end)) for start, end in periods
        ]
        self.fractions = [Fraction(numerator, denominator) for numerator, denominator in fractions]
        self._moneys: dict[str, list[Money]] = {}

    def money(self, currency: str) -> list[Money]:
        """The amounts of the table as ``Money`` in ``currency``."""
        found = self._moneys.get(currency)
        if found is None:
            make = Money._make
            found = self._moneys[currency] = [make(number, currency) for number in self.numbers]
        return found


def _pack_lines(lines: Sequence[InvoiceLine], tables: _Tables) -> tuple[tuple[Any, ...], ...]:
    """``lines`` as tuples of indices into ``tables`` and of shared objects."""
    number = tables.number
    period = tables.period
    fraction = tables.fraction
    packed = []
    for line in lines:
        why = line.explanation
        packed.append(
            (
                _LINE_KIND_INDEX[line.kind],
                line.code,
                line.description,
                line.charge_key,
                period(line.period),
                number(line.quantity),
                number(line.unit_price.amount),
                fraction(line.factor),
                number(line.amount.amount),
                number(line.discount.amount),
                line.tax_rates,
                tuple([(rate, number(tax.amount)) for rate, tax in line.taxes]),
                number(line.base.amount),
                number(why.unit_price.amount),
                number(why.quantity),
                fraction(why.factor),
                period(why.period),
                period(why.cycle),
                why.days,
                why.period_days,
                _BASIS_INDEX[why.basis],
                why.reason,
                tuple([(taken.code, number(taken.amount.amount)) for taken in why.discounts])
                if why.discounts
                else (),
            )
        )
    return tuple(packed)


def _unpack_line(
    packed: tuple[Any, ...],
    moneys: list[Money],
    built: _Built,
) -> InvoiceLine:
    (
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
        taxes,
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
        discounts,
    ) = packed
    periods = built.periods
    numbers = built.numbers
    fractions = built.fractions
    why = _new(LineExplanation)
    (
        set_price,
        set_quantity,
        set_factor,
        set_period,
        set_cycle,
        set_days,
        set_period_days,
        set_basis,
        set_reason,
        set_discounts,
    ) = _WHY_SETTERS
    set_price(why, moneys[why_price])
    set_quantity(why, numbers[why_quantity])
    set_factor(why, fractions[why_factor])
    set_period(why, None if why_period < 0 else periods[why_period])
    set_cycle(why, None if why_cycle < 0 else periods[why_cycle])
    set_days(why, days)
    set_period_days(why, period_days)
    set_basis(why, _BASES[basis])
    set_reason(why, reason)
    set_discounts(
        why,
        tuple([_line_discount(code, moneys[off]) for code, off in discounts]) if discounts else (),
    )
    line = _new(InvoiceLine)
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
    set_taxes(line, tuple([(rate, moneys[added]) for rate, added in taxes]))
    set_base(line, moneys[base])
    set_explanation(line, why)
    return line


def _line_discount(code: str, amount: Money) -> LineDiscount:
    taken = _new(LineDiscount)
    _SET_DISCOUNT_CODE(taken, code)
    _SET_DISCOUNT_AMOUNT(taken, amount)
    return taken


def _pack_invoice(invoice: Invoice, tables: _Tables) -> tuple[Any, ...]:
    """An engine draft packed (it has no number, payment nor correction yet)."""
    number = tables.number
    return (
        invoice.customer,
        invoice.currency,
        invoice.issued_on.toordinal(),
        invoice.due_on.toordinal(),
        _pack_lines(invoice.lines, tables),
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
        _DOCUMENT_KIND_INDEX[invoice.kind],
        None if invoice.credit_applied is None else number(invoice.credit_applied.amount),
        number(invoice.net.amount),
        number(invoice.tax.amount),
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
    ) = packed
    moneys = built.money(currency)
    invoice = Invoice._engine_draft(
        customer=customer,
        currency=currency,
        issued_on=_fromordinal(issued_on),
        due_on=_fromordinal(due_on),
        lines=tuple([_unpack_line(line, moneys, built) for line in lines]),
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
    set_total(invoice, invoice.net + invoice.tax)
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
    bill: Callable[[_Item, date], BillingResult], chunk: Sequence[_Item], as_of: date
) -> _Reply:
    """In a worker: bill each item of ``chunk`` with ``bill``; the results packed.

    Stops at the first item that raises (as one process would): the results before it and
    the error travel back.
    """
    tables = _Tables()
    results: list[tuple[Any, ...]] = []
    error = None
    for item in chunk:
        try:
            result = bill(item, as_of)
        except Exception as failed:  # sent back, to be raised in the parent
            error = _pack_error(failed)
            break
        results.append(_pack_result(result, tables))
    return tables.packed(), results, error


def _pack_result(result: BillingResult, tables: _Tables) -> tuple[Any, ...]:
    state = result.state
    balance = state.credit_balance
    packed_state = (
        tuple([(key, day.toordinal()) for key, day in state.billed_through]),
        state.one_time_billed,
        None if balance is None else (tables.number(balance.amount), balance.currency),
        state.terms,
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
    workers by name); ``state`` and ``result`` are the classes of the billing state and of
    the result, rebuilt in the parent through their slots.
    """

    def __init__(
        self,
        *,
        bill: Callable[[_Item, date], BillingResult],
        state: type[BillingState],
        result: type[BillingResult],
    ) -> None:
        self.bill = bill
        self.state = state
        self.result = result
        self._state_setters = tuple(slot_setters(state).values())
        self._result_setters = tuple(slot_setters(result).values())

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
                    pending.append(executor.submit(bill_chunk, self.bill, chunk, as_of))
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
        for subscription, invoice, (billed_through, one_time, balance, terms) in results:
            state = _record(
                state_cls,
                state_setters,
                (
                    tuple([(key, _fromordinal(day)) for key, day in billed_through]),
                    one_time,
                    None if balance is None else built.money(balance[1])[balance[0]],
                    terms,
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

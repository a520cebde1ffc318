"""Bill runs on worker processes (``subbill._wire``): the same results as in one process."""

import multiprocessing
import pickle
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date

import attrs
import pytest
from benchmarks.workloads import mix_inputs
from hypothesis import given
from hypothesis import strategies as st

from subbill import _wire
from subbill.billing import (
    _WIRE,
    BillingResult,
    BillingState,
    ChargePlan,
    NegativeBalancePolicy,
    bill_run,
    bill_subscription,
)
from subbill.charges import OneTimeCharge, RecurringCharge
from subbill.errors import InvalidStateError, InvalidTypeError
from subbill.invoices import InvoiceLine
from subbill.money import Money
from tests.builders import VAT, eur
from tests.test_billing import as_of_dates, subscriptions
from tests.test_decimal_context import CONTEXTS, caller_context

AS_OF = date(2026, 5, 20)


@pytest.fixture(scope="module")
def workers():
    # Forked: a worker starts in milliseconds (the suite builds one pool for the module).
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool


@st.composite
def varied_plans(draw):
    """A subscription of the billing strategies, with one-time charges and either policy."""
    plan = draw(subscriptions())
    one_time = tuple(
        OneTimeCharge(
            code=f"o{index}",
            description="Setup",
            unit_price=eur(draw(st.decimals(min_value=-300, max_value=300, places=2))),
            due_on=draw(as_of_dates),
            tax_rates=(VAT,),
        )
        for index in range(draw(st.integers(0, 2)))
    )
    policy = draw(st.sampled_from(list(NegativeBalancePolicy)))
    return attrs.evolve(plan, one_time=one_time, negative_balance=policy)


def _across(items, as_of, pool, chunk_size):
    """The results of ``items`` billed through ``pool`` (chunks of ``chunk_size``)."""
    return list(bill_run(items, as_of=as_of, executor=pool, chunk_size=chunk_size))


def _shown(value):
    """``value`` as nested tuples of reprs: equal values that show differently differ."""
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        return (type(value).__name__, *(_shown(getattr(value, f.name)) for f in fields))
    if isinstance(value, tuple | list):
        return tuple(_shown(item) for item in value)
    if isinstance(value, frozenset | set):  # its order is not part of its value
        return ("set", *sorted(repr(_shown(item)) for item in value))
    return repr(value)


def _same(back: BillingResult, single: BillingResult) -> None:
    """Equal, and shown the same (an amount keeps its exponent: ``0`` is not ``0.00``)."""
    assert back == single
    assert _shown(back) == _shown(single)
    if single.invoice is None:
        return
    assert back.invoice is not None
    assert (back.invoice.net, back.invoice.tax, back.invoice.total) == (
        single.invoice.net,
        single.invoice.tax,
        single.invoice.total,
    )
    assert repr(back.invoice.total) == repr(single.invoice.total)
    for again, line in zip(back.invoice.lines, single.invoice.lines, strict=True):
        assert again.explanation == line.explanation
        assert (again.net, again.tax, again.total) == (line.net, line.tax, line.total)
        assert repr((again.net, again.tax, again.total)) == repr((line.net, line.tax, line.total))


@given(
    st.lists(varied_plans(), min_size=1, max_size=4),
    as_of_dates,
    as_of_dates,
    st.integers(1, 3),
)
def test_results_across_processes_equal_single_process(workers, plans, first, then, chunk_size):
    # Each plan billed once, then again later with the state the first run returned: the
    # second run re-rates what was billed (credits, differences, credit balances).
    plans = [attrs.evolve(plan, id=f"S{index}") for index, plan in enumerate(plans)]
    early, late = min(first, then), max(first, then)
    single = [bill_subscription(plan, as_of=early) for plan in plans]
    for index, (back, result) in enumerate(
        zip(_across(plans, early, workers, chunk_size), single, strict=True)
    ):
        assert back.subscription == f"S{index}"
        _same(back, result)
    pairs = [(plan, result.state) for plan, result in zip(plans, single, strict=True)]
    again = [bill_subscription(plan, state, as_of=late) for plan, state in pairs]
    for back, result in zip(_across(pairs, late, workers, chunk_size), again, strict=True):
        _same(back, result)


@given(varied_plans(), as_of_dates, as_of_dates)
def test_a_result_packed_for_a_worker_process_reads_back_equal(subscription, first, then):
    # Moved here from test_billing with the packing: every invoice, line, explanation and
    # state the same once packed, pickled and rebuilt (checked constructors accept it too).
    result = bill_subscription(subscription, as_of=min(first, then))
    later = bill_subscription(subscription, result.state, as_of=max(first, then))
    for billed in (result, later):
        reply = _wire.bill_chunk(_Returning(billed), [None], first)
        (back,) = _WIRE.unpack(pickle.loads(pickle.dumps(reply)))
        _same(back, billed)
        assert BillingState(**attrs.asdict(back.state, recurse=False)) == back.state
        invoice = back.invoice
        if invoice is None:
            continue
        for built in (invoice, *invoice.lines, *(line.explanation for line in invoice.lines)):
            assert type(built)(**attrs.asdict(built, recurse=False)) == built


class _Returning:
    """A ``bill`` that returns a given result (to pack exactly what a test billed)."""

    def __init__(self, result):
        self.result = result

    def __call__(self, _item, _as_of):
        return self.result


def _plans(count, *, currency="EUR", price="10.00"):
    return [
        ChargePlan(
            id=f"{currency}{index}",
            customer="C",
            currency=currency,
            charges=(
                RecurringCharge(
                    code="pro",
                    description="Pro",
                    unit_price=Money(price, currency),
                    start=date(2026, 3, 1 + index),
                    billing_day=1,
                ),
            ),
        )
        for index in range(count)
    ]


def test_a_chunk_in_several_currencies_reads_back_each_in_its_own(workers):
    # The amounts of a chunk are shared in one table; each invoice reads them in its own
    # currency (and a credit balance in its own, with no invoice to tell it).
    items = [*_plans(3), *_plans(2, currency="JPY", price="1000"), *_plans(2, currency="USD")]
    balance = BillingState().with_credit(Money("12.50", "USD"))
    items[-1] = (items[-1], balance)
    later = attrs.evolve(
        items[-2], id="later", charges=(attrs.evolve(items[-2].charges[0], start=date(2026, 9, 1)),)
    )
    items.append((later, balance))  # nothing due yet: a state alone, in USD
    single = list(bill_run(items, as_of=AS_OF))
    spread = list(bill_run(items, as_of=AS_OF, executor=workers, chunk_size=7))
    for back, result in zip(spread, single, strict=True):
        _same(back, result)
    assert spread[3].invoice.total == Money("3000", "JPY")
    assert spread[-2].invoice.credit_applied == Money("12.50", "USD")
    assert (spread[-1].invoice, spread[-1].state.credit_balance) == (None, Money("12.50", "USD"))


def _failing_items(where):
    """Six subscriptions, the one at ``where`` (2 or 4) failing."""
    plans = _plans(6)
    billed = bill_subscription(plans[2], as_of=AS_OF).state
    changed = attrs.evolve(
        plans[2],
        charges=(attrs.evolve(plans[2].charges[0], unit_price=Money("99.00", "EUR")),),
    )
    items: list[object] = list(plans)
    if where == 2:
        items[2] = (changed, billed)  # billed periods at other terms: refused
    else:
        items[4] = (plans[4], "not a state")
    return items


def _run_until_it_fails(items, **options):
    got = []
    with pytest.raises(Exception) as failed:  # noqa: PT011  (compared field by field below)
        got.extend(bill_run(items, as_of=AS_OF, **options))
    return got, failed.value


@pytest.mark.parametrize("chunk_size", [1, 2, 4, 100])
@pytest.mark.parametrize("where", [2, 4], ids=["refused-state", "not-a-state"])
def test_a_subscription_failing_in_a_worker_fails_as_in_one_process(workers, chunk_size, where):
    # Before: the error, pickled by the worker as (message,), could not be rebuilt in the
    # parent (InvalidTypeError takes name, value, expected): the pool broke
    # (BrokenProcessPool) and the results billed before the failing one were lost.
    items = _failing_items(where)
    single, expected = _run_until_it_fails(items)
    spread, error = _run_until_it_fails(items, executor=workers, chunk_size=chunk_size)
    assert [r.subscription for r in single] == [f"EUR{i}" for i in range(where)]
    assert spread == single
    assert type(error) is type(expected)
    assert isinstance(error, InvalidStateError if where == 2 else InvalidTypeError)
    assert str(error) == str(expected)
    assert error.args == expected.args
    notes = vars(error).pop("__notes__")
    assert vars(error) == vars(expected)
    assert notes[0].startswith("Raised in a worker process of bill_run:\nTraceback")
    # The pool still works.
    assert list(bill_run(_plans(2), as_of=AS_OF, executor=workers)) == list(
        bill_run(_plans(2), as_of=AS_OF)
    )


def test_an_error_attribute_that_cannot_be_pickled_travels_as_its_repr():
    error = InvalidTypeError("state", lambda: None, "a BillingState")
    back = _wire._unpack_error(pickle.loads(pickle.dumps(_wire._pack_error(error))))
    assert type(back) is InvalidTypeError
    assert str(back) == str(error)
    assert back.name == "state"
    assert back.value == repr(error.value)


def test_closing_a_bill_run_early_cancels_the_chunks_not_started():
    started = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            future = super().submit(fn, *args, **kwargs)
            started.append(future)
            return future

    with Recording(max_workers=1) as pool:
        stream = bill_run(_plans(20), as_of=AS_OF, executor=pool, chunk_size=1, max_pending=8)
        assert next(stream).subscription == "EUR0"
        stream.close()
    assert len(started) == 8
    assert all(future.done() for future in started)
    assert any(future.cancelled() for future in started)


def test_packed_lines_are_rebuilt_with_every_field():
    # A new field on InvoiceLine must travel too: the rebuild writes each slot it knows.
    assert len(_wire._LINE_SETTERS) == len(attrs.fields(InvoiceLine))


class _InThisThread(Executor):
    """An executor that runs each call at once, in the caller's thread (and context)."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=CONTEXTS.keys())
def test_a_bill_run_on_an_executor_never_reads_the_callers_context(context):
    # Packing and rebuilding run in the caller's thread here: amounts written and read
    # back exactly whatever its precision, traps or exponent letter, and it is untouched.
    items = [(plan, None) for plan in _plans(3)] + list(mix_inputs(12))
    single = list(bill_run(items, as_of=AS_OF))
    with caller_context(context):
        spread = list(bill_run(items, as_of=AS_OF, executor=_InThisThread(), chunk_size=5))
    for back, result in zip(spread, single, strict=True):
        _same(back, result)


def test_a_packed_chunk_of_subscriptions_is_rebuilt_equal_in_a_worker():
    # The inputs travel packed too: each rebuilt equal, as a (plan, state) pair; an item
    # of another shape travels as it is (the worker refuses it as one process would).
    records = _WIRE.records
    items = [*mix_inputs(30), _plans(1)[0], [_plans(2)[1], None], "not a plan"]
    rebuilt = list(records.unpack(pickle.loads(pickle.dumps(records.pack(items)))))
    assert rebuilt[-1] == "not a plan"
    for item, again in zip(items[:-1], rebuilt[:-1], strict=True):
        plan, state = (item, None) if isinstance(item, ChargePlan) else item
        assert again == (plan, state)
        assert _shown(again[0]) == _shown(plan)
        assert [charge.schedule for charge in again[0].charges] == [
            charge.schedule for charge in plan.charges
        ]

"""Bill runs collect garbage less often while they last, and leave the collector as found."""

import gc
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import MONTHLY, ChargePlan, Money, RecurringCharge, bill_run
from subbill._gc import RUN_THRESHOLD, fewer_collections
from subbill.errors import InvalidTypeError
from subbill.service import run_billing
from subbill.storage import SQLiteStore
from tests.service_scenario import AS_OF, COUNT, fill

START = date(2026, 3, 1)


def plan(index):
    charge = RecurringCharge(
        code="pro",
        description="Pro",
        unit_price=Money("50", "EUR"),
        frequency=MONTHLY,
        start=START,
    )
    return ChargePlan(id=f"S{index}", customer=f"C{index}", currency="EUR", charges=(charge,))


@pytest.fixture
def caller_threshold():
    """The caller's thresholds: CPython's defaults, whatever an earlier test left."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*before)


def test_a_bill_run_raises_the_threshold_while_it_lasts_and_puts_it_back(caller_threshold):
    seen = []
    for result in bill_run([plan(n) for n in range(3)], as_of=START):
        seen.append((result.invoice.total, gc.get_threshold()))
    assert seen == [(Money("50.00", "EUR"), (RUN_THRESHOLD, 10, 10))] * 3
    assert gc.get_threshold() == caller_threshold


def test_a_bill_run_closed_midway_or_failing_puts_the_threshold_back(caller_threshold):
    run = bill_run([plan(n) for n in range(3)], as_of=START)
    next(run)
    assert gc.get_threshold()[0] == RUN_THRESHOLD
    run.close()
    assert gc.get_threshold() == caller_threshold
    failing = bill_run([plan(0), "not a plan"], as_of=START)
    next(failing)
    with pytest.raises(InvalidTypeError):
        next(failing)
    assert gc.get_threshold() == caller_threshold


def test_a_bill_run_on_an_executor_puts_the_threshold_back(caller_threshold):
    with ThreadPoolExecutor(2) as pool:
        results = list(bill_run([plan(n) for n in range(5)], as_of=START, executor=pool))
    assert [r.invoice.total for r in results] == [Money("50.00", "EUR")] * 5
    assert gc.get_threshold() == caller_threshold


def test_run_billing_raises_the_threshold_while_it_lasts_and_puts_it_back(
    caller_threshold, tmp_path
):
    fill(tmp_path / "s.db")
    store = SQLiteStore(tmp_path / "s.db")
    seen = []
    try:
        report = run_billing(
            store, as_of=AS_OF, after_each=lambda _: seen.append(gc.get_threshold())
        )
    finally:
        store.close()
    assert report.invoice_count == COUNT
    assert set(seen) == {(RUN_THRESHOLD, 10, 10)}
    assert gc.get_threshold() == caller_threshold


def test_a_caller_who_collects_less_often_or_never_is_left_as_it_is(caller_threshold):
    for threshold in ((0, 10, 10), (50_000, 5, 5)):
        gc.set_threshold(*threshold)
        with fewer_collections():
            assert gc.get_threshold() == threshold
        assert gc.get_threshold() == threshold
    gc.disable()
    try:
        with fewer_collections():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_threshold_the_caller_sets_during_a_run_stays(caller_threshold):
    with fewer_collections():
        gc.set_threshold(1_000, 10, 10)
    assert gc.get_threshold() == (1_000, 10, 10)


@given(order=st.permutations(range(4)), starts=st.lists(st.integers(0, 3), max_size=4))
def test_overlapping_runs_leave_the_collector_as_they_found_it(order, starts):
    # Runs started in one order and ended in any other (generators abandoned, threads):
    # the caller's threshold comes back once the last one ends.
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        scopes = [fewer_collections() for _ in range(4)]
        for scope in scopes:
            scope.__enter__()
            assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
        for index in order:
            assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
            scopes[index].__exit__(None, None, None)
        assert gc.get_threshold() == (700, 10, 10)
        for _ in starts:  # and a later run finds the caller's threshold again
            with fewer_collections():
                assert gc.get_threshold() == (RUN_THRESHOLD, 10, 10)
            assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)

"""bill_run on a Dask cluster (two worker processes) gives the single-process results, in order."""

import logging
from datetime import date, timedelta

import pytest

from subbill import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    BillingState,
    ChargePlan,
    Discount,
    Duration,
    Money,
    OneTimeCharge,
    RecurringCharge,
    TaxRate,
    bill_run,
    bill_subscription,
)

distributed = pytest.importorskip("distributed")

AS_OF = date(2026, 6, 30)
VAT = TaxRate(name="TVA 20 %", percent="20")


def subscriptions(count: int) -> list[ChargePlan]:
    frequencies = (MONTHLY, QUARTERLY, ANNUAL)
    result = []
    for n in range(count):
        start = date(2025, 1, 1) + timedelta(days=(n * 41) % 500)
        frequency = frequencies[n % len(frequencies)]
        plan = RecurringCharge(
            code="plan",
            description="Plan",
            unit_price=Money(f"{19 + n % 7}.90", "EUR"),
            quantity=1 + n % 3,
            frequency=frequency,
            billing_day=1 + (n * 11) % 31,
            start=start,
            end=start + timedelta(days=200) if n % 4 == 0 else None,
            discounts=(
                (Discount.percent_off("WELCOME", "20", duration=Duration.periods(2)),)
                if n % 5 == 0
                else ()
            ),
            tax_rates=(VAT,),
        )
        setup = OneTimeCharge(
            code="setup",
            description="Set-up",
            unit_price=Money("49.00", "EUR"),
            due_on=start,
            tax_rates=(VAT,),
        )
        result.append(
            ChargePlan(
                id=f"S{n:03d}",
                customer=f"Customer {n:03d}",
                currency="EUR",
                charges=(plan,),
                one_time=(setup,) if n % 2 else (),
            )
        )
    return result


@pytest.fixture(scope="module")
def client():
    with distributed.Client(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as dask_client:
        yield dask_client


def test_cluster_has_two_worker_processes(client):
    assert len(client.scheduler_info()["workers"]) == 2


def test_bill_run_on_a_dask_cluster_equals_the_single_process_run(client):
    subs = subscriptions(100)
    alone = list(bill_run(subs, as_of=AS_OF))
    on_cluster = list(
        bill_run(subs, as_of=AS_OF, executor=client.get_executor(), chunk_size=7, max_pending=3)
    )
    assert on_cluster == alone
    assert [result.subscription for result in on_cluster] == [sub.id for sub in subs]
    assert sum(result.invoice is not None for result in alone) == 100


def test_bill_run_on_a_dask_cluster_streams_subscriptions_with_their_states(client):
    subs = subscriptions(60)
    half = date(2025, 12, 31)
    states = [bill_subscription(sub, as_of=half).state for sub in subs]
    alone = list(bill_run(zip(subs, states, strict=True), as_of=AS_OF))
    on_cluster = list(
        bill_run(
            zip(subs, states, strict=True),  # a lazy iterator, read chunk by chunk
            as_of=AS_OF,
            executor=client.get_executor(),
            chunk_size=8,
        )
    )
    assert on_cluster == alone
    assert all(isinstance(result.state, BillingState) for result in on_cluster)

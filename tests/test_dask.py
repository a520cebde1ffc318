"""bill_run on a Dask cluster (two worker processes) gives the single-process results, in order."""

from datetime import date

import pytest

from subbill import BillingState, bill_run, bill_subscription
from tests.builders import fleet

distributed = pytest.importorskip("distributed")

AS_OF = date(2026, 6, 30)


def test_cluster_has_two_worker_processes(dask_client):
    assert len(dask_client.scheduler_info()["workers"]) == 2


def test_bill_run_on_a_dask_cluster_equals_the_single_process_run(dask_client):
    subs = fleet(100)
    alone = list(bill_run(subs, as_of=AS_OF))
    on_cluster = list(
        bill_run(
            subs, as_of=AS_OF, executor=dask_client.get_executor(), chunk_size=7, max_pending=3
        )
    )
    assert on_cluster == alone
    assert [result.subscription for result in on_cluster] == [sub.id for sub in subs]
    assert sum(result.invoice is not None for result in alone) == 100


def test_bill_run_on_a_dask_cluster_streams_subscriptions_with_their_states(dask_client):
    subs = fleet(60)
    half = date(2025, 12, 31)
    states = [bill_subscription(sub, as_of=half).state for sub in subs]
    alone = list(bill_run(zip(subs, states, strict=True), as_of=AS_OF))
    on_cluster = list(
        bill_run(
            zip(subs, states, strict=True),  # a lazy iterator, read chunk by chunk
            as_of=AS_OF,
            executor=dask_client.get_executor(),
            chunk_size=8,
        )
    )
    assert on_cluster == alone
    assert all(isinstance(result.state, BillingState) for result in on_cluster)

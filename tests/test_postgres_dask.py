"""subbill.dask.run_billing_on: one persisted run per shard on a local Dask cluster of processes.

Against PostgreSQL (the session's server) and SQLite: every subscription billed once, the
numbers gapless across shards, a worker killed mid-run costs nothing, a re-run bills nothing.
"""

import concurrent.futures
import functools
import os
import runpy
import signal
import sys
from datetime import date
from pathlib import Path

import attrs
import psycopg
import pytest

from subbill.dask import merge_reports, run_billing_on
from subbill.errors import InvalidArgumentError, InvalidDateError, InvalidTypeError
from subbill.storage import PostgresStore, SQLiteStore
from subbill.storage.errors import StoredDataError
from tests.service_scenario import AS_OF, COUNT, bill, fill
from tests.test_postgres_service import _billed_exactly_once
from tests.test_service import expected_numbers, issued

distributed = pytest.importorskip("distributed")


def die_once(marker, after, _subscription_id, *, counted={}):  # noqa: B006  (per process)
    """Kill this worker process (kill -9) after ``after`` subscriptions, once for ``marker``."""
    counted[marker] = counted.get(marker, 0) + 1
    if counted[marker] >= after:
        try:
            os.unlink(marker)  # only the first process to get here dies
        except FileNotFoundError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


def _bill_killing_a_worker(client, url, marker, *, after):
    """Bill as of AS_OF in 2 shards; one worker is killed after ``after`` subscriptions."""
    marker.touch()
    report = run_billing_on(
        client,
        url,
        as_of=AS_OF,
        shards=2,
        batch_size=2,
        after_each=functools.partial(die_once, str(marker), after),
    )
    assert not marker.exists()  # a worker did die, after committing some of its shard
    return report


def test_two_shards_on_two_workers_bill_every_subscription_once(dask_client, postgres_url):
    fill(postgres_url)
    report = run_billing_on(dask_client, postgres_url, as_of=AS_OF, shards=2, batch_size=4)
    assert issued(report) == (COUNT, "F-2026-000001", f"F-2026-{COUNT:06d}")
    assert report.subscriptions == COUNT
    assert report.is_complete
    invoices = _billed_exactly_once(postgres_url)
    assert report.total["EUR"] == sum((i.total for i in invoices[1:]), invoices[0].total)
    # It runs again, not cached.
    again = run_billing_on(dask_client, postgres_url, as_of=AS_OF, shards=2)
    assert issued(again) == (0, None, None)
    assert again.subscriptions == COUNT


def test_a_worker_killed_mid_run_loses_nothing_and_its_shard_completes_once(
    dask_client, postgres_url, tmp_path
):
    fill(postgres_url)
    report = _bill_killing_a_worker(dask_client, postgres_url, tmp_path / "die", after=5)
    invoices = _billed_exactly_once(postgres_url)
    # Its task ran again elsewhere and billed what was left; the report still counts what
    # the killed attempt had committed: everything the call billed.
    assert issued(report) == (COUNT, "F-2026-000001", f"F-2026-{COUNT:06d}")
    assert report.total == {"EUR": sum((i.total for i in invoices[1:]), invoices[0].total)}
    assert report.subscriptions == COUNT
    again = run_billing_on(dask_client, postgres_url, as_of=AS_OF, shards=2)
    assert issued(again) == (0, None, None)


def test_a_killed_worker_counts_only_what_the_call_billed_after_earlier_invoices(
    dask_client, postgres_url, tmp_path
):
    fill(postgres_url)
    earlier = run_billing_on(dask_client, postgres_url, as_of=date(2026, 2, 1), shards=2)
    assert earlier.invoice_count > 0
    report = _bill_killing_a_worker(dask_client, postgres_url, tmp_path / "die", after=4)
    stored = [i for i in PostgresStore(postgres_url).invoices() if i.issued_on == AS_OF]
    assert issued(report) == (len(stored), stored[0].number, stored[-1].number)
    assert stored[0].number == f"F-2026-{earlier.invoice_count + 1:06d}"
    assert report.total == {"EUR": sum((i.total for i in stored[1:]), stored[0].total)}


def test_shards_over_sqlite_on_a_process_pool_bill_like_one_run(tmp_path):
    fill(tmp_path / "sharded.db")
    fill(tmp_path / "single.db")
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        report = run_billing_on(
            pool, f"sqlite:///{tmp_path / 'sharded.db'}", as_of=AS_OF, shards=3, batch_size=5
        )
    single = bill(tmp_path / "single.db")
    assert (report.invoice_count, report.total) == (single.invoice_count, single.total)
    sharded = SQLiteStore(tmp_path / "sharded.db").invoices()
    assert [i.number for i in sharded] == expected_numbers(COUNT)
    alone = {i.subscription: i.total for i in SQLiteStore(tmp_path / "single.db").invoices()}
    assert {i.subscription: i.total for i in sharded} == alone


def test_a_damaged_row_comes_back_from_its_worker_as_a_typed_failure(dask_client, postgres_url):
    fill(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("UPDATE subscriptions SET document = '[]' WHERE id = 'S007'")
    report = run_billing_on(dask_client, postgres_url, as_of=AS_OF, shards=2)
    assert [f.subscription for f in report.failures] == ["S007"]
    failure = report.failures[0].error
    assert isinstance(failure, StoredDataError)
    assert (failure.table, failure.key) == ("subscriptions", "S007")
    assert report.invoice_count == COUNT - 1
    assert len(PostgresStore(postgres_url).invoices()) == COUNT - 1


@pytest.mark.parametrize(
    ("client", "url", "options", "error", "message"),
    [
        (None, "sqlite:///x.db", {}, InvalidTypeError, "client=None must be a Dask Client"),
        ("pool", "x.db", {}, InvalidArgumentError, "store_url='x.db' must be a store URL"),
        ("pool", "sqlite:///x.db", {"shards": 0}, InvalidArgumentError, "shards=0 must be"),
        ("pool", "sqlite:///x.db", {"batch_size": 0}, InvalidArgumentError, "batch_size=0"),
        ("pool", "sqlite:///x.db", {"as_of": "2026-03-01"}, InvalidDateError, "as_of="),
    ],
)
def test_bad_arguments_are_refused_before_any_task(client, url, options, error, message):
    pool = concurrent.futures.ThreadPoolExecutor(1) if client == "pool" else client
    arguments = {"as_of": AS_OF, "shards": 2, **options}
    with pytest.raises(error, match=message):
        run_billing_on(pool, url, **arguments)


def test_merged_reports_bound_the_numbers_in_their_order_past_a_million(postgres_url):
    store = PostgresStore(postgres_url)
    fill(postgres_url)
    shard = functools.partial(bill, postgres_url, shards=2)
    reports = [shard(shard=0), shard(shard=1)]
    merged = merge_reports(reports, as_of=AS_OF)
    assert issued(merged) == (COUNT, "F-2026-000001", f"F-2026-{COUNT:06d}")
    late = [
        attrs.evolve(reports[0], first_number="F-2026-999999", last_number="F-2026-1000001"),
        attrs.evolve(reports[1], first_number="F-2026-1000000", last_number="F-2026-1000002"),
    ]
    assert issued(merge_reports(late, as_of=AS_OF))[1:] == ("F-2026-999999", "F-2026-1000002")
    assert store.last_issued_on() == AS_OF


def test_the_dask_example_bills_and_stores_through_postgresql(postgres_url, capsys, monkeypatch):
    script = Path(__file__).parent.parent / "examples" / "bill_run_dask.py"
    monkeypatch.setattr(sys, "argv", [str(script), postgres_url])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    invoices = PostgresStore(postgres_url).invoices()
    assert len(invoices) == 300
    assert f"300 factures, de F-2026-000001 à {invoices[-1].number}" in out
    assert invoices[-1].number == "F-2026-000300"
    assert "relancée : 0 facture de plus" in out


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_invoices_since_a_position_are_read_back_in_pages_of_one_date(kind, postgres_url, tmp_path):
    url = postgres_url if kind == "postgres" else f"sqlite:///{tmp_path / 'since.db'}"
    fill(url)
    store = PostgresStore(url) if kind == "postgres" else SQLiteStore(tmp_path / "since.db")
    assert store.invoice_position() == 0
    bill(url, shards=2, shard=0)
    mark = store.invoice_position()
    bill(url)
    assert store.count_invoices_since(0, issued_on=AS_OF) == COUNT
    assert store.count_invoices_since(mark, issued_on=date(2026, 2, 1)) == 0
    later = store.count_invoices_since(mark, issued_on=AS_OF)
    assert 0 < later < COUNT
    first = store.invoices_since(mark, issued_on=AS_OF, limit=3)
    rest = store.invoices_since(first[-1][0], issued_on=AS_OF, limit=COUNT)
    numbers = [invoice.number for _, invoice in first + rest]
    assert numbers == expected_numbers(COUNT)[COUNT - later :]
    with pytest.raises(InvalidArgumentError, match="position=-1 must be"):
        store.count_invoices_since(-1, issued_on=AS_OF)
    with pytest.raises(InvalidDateError, match="issued_on="):
        store.invoices_since(0, issued_on="2026-03-01", limit=1)
    with pytest.raises(InvalidArgumentError, match="limit=0 must be"):
        store.invoices_since(0, issued_on=AS_OF, limit=0)
    store.close()

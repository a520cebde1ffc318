"""run_billing over PostgreSQL: killed processes, runs and shards at once, re-runs.

Each test bills the scenario of tests/service_scenario.py (40 subscriptions) in processes of
their own against one database of the session's server: whatever happens, each
(subscription, period) is billed exactly once and the numbers are gapless.
"""

import os
import random
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from subbill.storage import PostgresStore, SQLiteStore
from tests.service_scenario import AS_OF, COUNT, bill, fill
from tests.test_service import ROOT, _python, expected_numbers, invoices_by_subscription, issued

EVERY_SUBSCRIPTION = [f"S{n:03d}" for n in range(COUNT)]


def _count(url):
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute("SELECT count(*) FROM invoices").fetchone()[0]


def _billed_exactly_once(url):
    invoices = invoices_by_subscription(url)
    assert [i.number for i in invoices] == expected_numbers(COUNT)  # unique and gapless
    assert sorted(i.subscription for i in invoices) == EVERY_SUBSCRIPTION
    dates = [i.issued_on for i in invoices]
    assert dates == sorted(dates)
    return invoices


def _start(url, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.service_scenario", url, *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(runs):
    for run in runs:
        _, errors = run.communicate(timeout=300)
        assert run.returncode == 0, errors


@pytest.mark.parametrize(("batch_size", "kept"), [(8, 16), (5, 15), (None, 0)])
def test_a_run_killed_in_its_transaction_then_rerun_bills_everything_once(
    postgres_url, batch_size, kept
):
    fill(postgres_url)
    killed = _python(postgres_url, "bill", "17", *([] if batch_size is None else [str(batch_size)]))
    assert killed.returncode == 3, killed.stderr  # died inside the 17th invoice's transaction
    assert [i.number for i in invoices_by_subscription(postgres_url)] == expected_numbers(kept)
    report = bill(postgres_url)
    assert issued(report) == (COUNT - kept, f"F-2026-{kept + 1:06d}", f"F-2026-{COUNT:06d}")
    _billed_exactly_once(postgres_url)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_run_killed_at_a_random_point_then_rerun_bills_everything_once(postgres_url, seed):
    # kill -9 once it has committed a random number of invoices, a random instant later:
    # between, before or inside any statement of a page.
    fill(postgres_url)
    draw = random.Random(seed)  # noqa: S311  (a kill point, not a secret)
    committed, delay = draw.randrange(1, COUNT - 4), draw.uniform(0, 0.05)
    run = _start(postgres_url, "shard", "0", "1", "2")  # pages of 2: twenty transactions
    deadline = time.monotonic() + 120
    while run.poll() is None and _count(postgres_url) < committed:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(delay)
    os.kill(run.pid, signal.SIGKILL)
    run.communicate(timeout=300)
    kept = len(invoices_by_subscription(postgres_url))
    # Killed midway, or (on a busy machine the random delay can outlast the run) after its
    # last commit: either way the re-run bills what is left, exactly once.
    assert committed <= kept <= COUNT
    report = bill(postgres_url)
    assert report.invoice_count == COUNT - kept
    _billed_exactly_once(postgres_url)


def test_two_runs_at_once_create_every_invoice_once(postgres_url):
    fill(postgres_url)
    _finish([_start(postgres_url, "shard", "0", "1", "4") for _ in range(2)])
    _billed_exactly_once(postgres_url)


def test_two_shards_at_once_create_every_invoice_once(postgres_url):
    fill(postgres_url)
    _finish([_start(postgres_url, "shard", str(i), "2", "4") for i in range(2)])
    _billed_exactly_once(postgres_url)


def test_a_shard_killed_midway_then_rerun_bills_its_part_exactly_once(postgres_url):
    fill(postgres_url)
    killed = _python(postgres_url, "shard", "0", "2", "4", "6")  # dies inside its 6th invoice
    assert killed.returncode == 3, killed.stderr
    kept = len(invoices_by_subscription(postgres_url))
    assert 0 < kept < 6  # whole pages committed before, nothing of the open one
    first = bill(postgres_url, shard=0, shards=2)
    second = bill(postgres_url, shard=1, shards=2)
    assert kept + first.invoice_count + second.invoice_count == COUNT
    _billed_exactly_once(postgres_url)
    assert issued(bill(postgres_url, shard=0, shards=2)) == (0, None, None)  # a re-run: nothing


def test_a_run_over_postgresql_bills_what_a_run_over_sqlite_bills(postgres_url, tmp_path):
    fill(postgres_url)
    fill(tmp_path / "s.db")
    assert issued(bill(postgres_url)) == issued(bill(tmp_path / "s.db"))
    reference = PostgresStore(postgres_url).invoices()
    assert SQLiteStore(tmp_path / "s.db").invoices() == reference
    assert reference[0].issued_on == AS_OF

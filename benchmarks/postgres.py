"""Row g: the persisted bill run on PostgreSQL, 1 and 2 shards, beside SQLite.

The mix workload's subscriptions (``workloads.mix_subscriptions``) are stored once in a
template database of a PostgreSQL server started for the bench (``tests/postgres_server``,
with PostgreSQL's default durability: every commit reaches the disk), and once in an SQLite
file. Each repetition bills a fresh copy (``CREATE DATABASE … TEMPLATE``, a file copy),
untimed, then times ``run_billing`` with its defaults: SQLite in one process, PostgreSQL in
one process (1 shard) and in two processes at once (2 shards, forked before the clock,
``subbill.dask.bill_shard`` each). The server's CPU (user + system time of its processes,
read from ``/proc/<pid>/stat``) over the run is divided by the run's time: the cores it
took. The plain reference runs in the same process first, as for every row.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import psycopg
from tests.postgres_server import DURABLE_SETTINGS, PostgresServer, binaries

from benchmarks.measure import PlainRun, plain_run
from benchmarks.workloads import BILLING_AS_OF, mix_subscriptions
from subbill.dask import bill_shard, merge_reports
from subbill.service import run_billing
from subbill.storage import PostgresStore, SQLiteStore

TEMPLATE = "mix_template"
_TICKS = os.sysconf("SC_CLK_TCK")


class StoredRun(NamedTuple):
    """One persisted run: its time, what it created, and the server's CPU seconds."""

    plain: PlainRun
    seconds: float
    invoices: int
    total: str
    server_cpu: float


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU seconds of ``pid`` so far; with ``reaped``, its ended children's too."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # it has ended meanwhile: its time is its parent's reaped time
        return 0.0
    # utime, stime, cutime, cstime: fields 14 to 17 of /proc/<pid>/stat
    ticks = sum(int(field) for field in fields[11 : 15 if reaped else 13])
    return ticks / _TICKS


def server_cpu_seconds(data: Path) -> float:
    """CPU seconds of a server so far: its postmaster, its children running (backends,
    writers…) and those that ended (a backend ends with its connection: the postmaster
    reaps it and its time is added to the postmaster's children's time)."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    return cpu_seconds(postmaster, reaped=True) + sum(cpu_seconds(int(c)) for c in children)


def start_server() -> PostgresServer | None:
    """A durable server for the bench, or ``None`` where PostgreSQL is not installed."""
    return None if binaries() is None else PostgresServer(settings=DURABLE_SETTINGS).start()


def store_mix(server: PostgresServer, folder: Path, count: int) -> Path:
    """Store ``count`` mix subscriptions in the template database and an SQLite file."""
    with psycopg.connect(server.url(), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {TEMPLATE}")
    path = folder / "mix.db"
    stores = [PostgresStore(server.url(TEMPLATE)), SQLiteStore(path)]
    subscriptions = list(mix_subscriptions(count))
    for store in stores:
        with store.transaction():
            for subscription in subscriptions:
                store.save_subscription(subscription)
        store.close()
    return path


def fresh_database(server: PostgresServer, name: str) -> str:
    """A copy of the template database; its URL."""
    with psycopg.connect(server.url(), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return server.url(name)


def sqlite_run(template: str, plain_count: int) -> StoredRun:
    """``run_billing`` over a copy of the SQLite file, in this process."""
    plain = plain_run(plain_count)
    with tempfile.TemporaryDirectory(prefix="subbill-bench-") as folder:
        path = Path(folder) / "mix.db"
        shutil.copy(template, path)
        store = SQLiteStore(path)
        started = time.perf_counter()
        report = run_billing(store, as_of=BILLING_AS_OF)
        seconds = time.perf_counter() - started
        store.close()
    return StoredRun(plain, seconds, report.invoice_count, str(report.total.get("EUR")), 0.0)


def postgres_run(url: str, data: str, plain_count: int, shards: int) -> StoredRun:
    """``shards`` processes at once, each billing its shard of the database ``url``."""
    plain = plain_run(plain_count)
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=shards, mp_context=fork) as pool:
        list(pool.map(abs, range(shards)))  # the workers start before the clock
        before = server_cpu_seconds(Path(data))
        started = time.perf_counter()
        futures = [
            pool.submit(bill_shard, url, as_of=BILLING_AS_OF, shard=i, shards=shards)
            for i in range(shards)
        ]
        reports = [future.result() for future in futures]
        seconds = time.perf_counter() - started
        server = server_cpu_seconds(Path(data)) - before
    total = merge_reports(reports, as_of=BILLING_AS_OF).total.get("EUR")
    return StoredRun(plain, seconds, sum(r.invoice_count for r in reports), str(total), server)

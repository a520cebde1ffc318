"""Run subbill's benchmarks: ``make bench``. Prints one line per measurement.

Performance is measured here, never in a timed test. Each benchmark builds its inputs with
a seeded random generator, so runs are comparable from one commit to the next.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import TypedDict

from benchmarks.workloads import BILLING_AS_OF, mix_inputs, proration_inputs
from subbill import Money, bill_run, billable_periods
from subbill.invoices import LineKind


def bench_billable_periods(count: int) -> None:
    inputs = proration_inputs(count)
    started = time.perf_counter()
    periods = 0
    for kwargs in inputs:
        periods += len(billable_periods(**kwargs))  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    print(
        f"billable_periods: {count:,} subscriptions, {periods:,} periods in {elapsed:.2f} s "
        f"→ {count / elapsed:,.0f} subscriptions/s ({periods / elapsed:,.0f} periods/s)"
    )


class BillingRun(TypedDict):
    """What one ``billing_run`` billed, how long it took and its peak memory."""

    count: int
    workers: int
    invoices: int
    lines: int
    credit_lines: int
    credit_notes: int
    totals: dict[str, Money]
    elapsed: float  # seconds in bill_run, consuming its results (inputs built on the fly)
    setup: float  # seconds of those spent building the inputs
    rss: int  # peak RSS of this process, KiB
    workers_rss: int  # peak RSS of the largest worker process, KiB


def billing_run(count: int, *, workers: int = 0) -> BillingRun:
    """Bill ``mix_inputs(count)`` with ``bill_run``, in this process or on a pool of
    ``workers`` processes, consuming the results one by one."""
    setup = [0.0]
    items = mix_inputs(count, setup=setup)
    invoices = lines = credit_lines = credit_notes = 0
    totals: dict[str, Money] = {}
    started = time.perf_counter()
    # Forked workers are this process's children, so RUSAGE_CHILDREN sees their peak RSS.
    fork = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=fork) if workers else None
    try:
        for result in bill_run(items, as_of=BILLING_AS_OF, executor=pool):
            invoice = result.invoice
            if invoice is None:
                continue
            invoices += 1
            lines += len(invoice.lines)
            credit_lines += sum(line.kind is LineKind.PRORATION_CREDIT for line in invoice.lines)
            credit_notes += invoice.total.is_negative()
            total = totals.get(invoice.currency)
            totals[invoice.currency] = invoice.total if total is None else total + invoice.total
    finally:
        if pool is not None:
            pool.shutdown()
    elapsed = time.perf_counter() - started
    return BillingRun(
        count=count,
        workers=workers,
        invoices=invoices,
        lines=lines,
        credit_lines=credit_lines,
        credit_notes=credit_notes,
        totals=totals,
        elapsed=elapsed,
        setup=setup[0],
        rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        workers_rss=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )


def _totals(run: BillingRun) -> str:
    return ", ".join(f"{total.amount:,} {code}" for code, total in run["totals"].items())


def bench_billing(count: int) -> None:
    """``bill_run`` over ``count // 5`` then ``count`` streamed subscriptions in one process,
    then over ``count`` on 2 worker processes.

    Each run happens in its own process, forked from a fresh forkserver, so that its peak
    RSS is its own and not that of an earlier benchmark of this script (a spawned process
    would not do: Linux carries the parent's peak RSS over ``exec`` into ``ru_maxrss``).
    The two single-process runs show the peak does not grow with the number of subscriptions.
    """
    forkserver = multiprocessing.get_context("forkserver")
    runs: list[BillingRun] = []
    for size, workers in ((max(count // 5, 1), 0), (count, 0), (count, 2)):
        with ProcessPoolExecutor(max_workers=1, mp_context=forkserver) as fresh:
            run = fresh.submit(billing_run, size, workers=workers).result()
        runs.append(run)
        elapsed, setup, invoices = run["elapsed"], run["setup"], run["invoices"]
        head = (
            f"bill_run: {size:,} subscriptions, "
            f"{f'{workers} worker processes' if workers else 'single process'}: "
            f"{invoices:,} invoices, {run['lines']:,} lines ({run['credit_lines']:,} proration "
            f"credits, {run['credit_notes']:,} credit notes), total {_totals(run)}"
        )
        if workers:
            speed = (
                f"{elapsed:.2f} s wall clock → {invoices / elapsed:,.0f} invoices/s "
                f"(counting the {setup:.2f} s the main process spent meanwhile building the "
                f"inputs, incl. the first billing of the changed tenth); peak RSS: main "
                f"{run['rss']:,} KiB, largest worker {run['workers_rss']:,} KiB"
            )
        else:
            speed = (
                f"{elapsed - setup:.2f} s → {invoices / (elapsed - setup):,.0f} invoices/s "
                f"(not counting {setup:.2f} s building the inputs, incl. the first billing of "
                f"the changed tenth; {invoices / elapsed:,.0f}/s counting them); "
                f"peak RSS {run['rss']:,} KiB"
            )
        print(f"{head}; {speed}")
    small, single, parallel = runs
    same = (single["invoices"], single["totals"]) == (parallel["invoices"], parallel["totals"])
    print(
        f"bill_run: single process and 2 workers {'agree' if same else 'DISAGREE'}: "
        f"{single['invoices']:,} vs {parallel['invoices']:,} invoices, {_totals(single)} vs "
        f"{_totals(parallel)}; single-process peak RSS {small['rss']:,} KiB for "
        f"{small['count']:,} subscriptions, {single['rss']:,} KiB for {single['count']:,}"
    )
    if not same:
        raise SystemExit("bill_run gave different results with and without an executor")


BENCHMARKS = {"proration": bench_billable_periods, "billing": bench_billing}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run")
    parser.add_argument("--count", type=int, default=100_000, help="subscriptions per benchmark")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}")
    for name in args.names or BENCHMARKS:
        BENCHMARKS[name](args.count)


if __name__ == "__main__":
    main(sys.argv[1:])

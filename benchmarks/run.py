"""Run subbill's benchmarks: ``make bench``. Prints one line per measurement.

Performance is measured here, never in a timed test. Each benchmark builds its inputs with
a seeded random generator, so runs are comparable from one commit to the next.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from typing import TypedDict

from subbill import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    BillingState,
    ChargePlan,
    Discount,
    Duration,
    Money,
    ProrationBasis,
    RecurringCharge,
    TaxRate,
    bill_run,
    bill_subscription,
    billable_periods,
)
from subbill.invoices import LineKind


def proration_inputs(count: int, seed: int = 2026) -> list[dict[str, object]]:
    """``count`` varied subscriptions: monthly/quarterly/annual, billing days 1–31, starts
    over five years, a quarter of them with an end, three proration bases."""
    rng = random.Random(seed)
    first = date(2021, 1, 1)
    inputs = []
    for _ in range(count):
        start = first + timedelta(days=rng.randrange(5 * 365))
        frequency = rng.choice((MONTHLY, MONTHLY, QUARTERLY, ANNUAL))
        end = start + timedelta(days=rng.randrange(30, 1500)) if rng.random() < 0.25 else None
        inputs.append(
            {
                "start": start,
                "end": end,
                "as_of": date(2026, 11, 24),
                "frequency": frequency,
                "billing_day": rng.choice((None, rng.randint(1, 31))),
                "basis": rng.choice(
                    (
                        ProrationBasis.ACTUAL_DAYS,
                        ProrationBasis.ACTUAL_DAYS,
                        ProrationBasis.THIRTY_DAY_MONTH,
                        ProrationBasis.NONE,
                    )
                ),
            }
        )
    return inputs


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


BILLING_AS_OF = date(2026, 11, 24)
VAT = TaxRate(name="TVA 20 %", percent="20")


def _price(rng: random.Random) -> Money:
    cents = rng.randrange(500, 50_000)
    return Money(f"{cents // 100}.{cents % 100:02d}", "EUR")


def billing_inputs(
    count: int, seed: int = 2026, *, setup: list[float] | None = None
) -> Iterator[tuple[ChargePlan, BillingState | None]]:
    """Yield ``count`` ``(subscription, state)`` pairs lazily: never a list of all of them.

    Each subscription has 2–4 charges (monthly/quarterly/annual, billing days 1–31 or
    none, quantities 1–10, 5–500 EUR, TVA 20 %) starting over 2025–2026. One in three has
    a discount: 10 % off the invoice for 6 months, or 5 % off each unit of its first
    charge. One in ten changes a quantity mid-period: its state is a first billing of the
    unchanged subscription on the change date, so billing the changed one credits the
    unused part. ``setup[0]`` accumulates the time spent here (first billings included).
    """
    rng = random.Random(seed)
    first = date(2025, 1, 1)
    span = (BILLING_AS_OF - first).days
    for index in range(count):
        started = time.perf_counter()
        start = first + timedelta(days=rng.randrange(span))
        discounted = index % 3 == 0
        per_unit = discounted and rng.random() < 0.5
        charges = [
            RecurringCharge(
                code=f"p{number}",
                description=f"Produit {number}",
                unit_price=_price(rng),
                quantity=rng.randint(1, 10),
                frequency=rng.choice((MONTHLY, MONTHLY, QUARTERLY, ANNUAL)),
                billing_day=rng.choice((None, rng.randint(1, 31))),
                start=start,
                tax_rates=(VAT,),
                discounts=(
                    (Discount.per_unit_percent_off("VOLUME", "5"),)
                    if per_unit and number == 0
                    else ()
                ),
            )
            for number in range(rng.randint(2, 4))
        ]
        discounts = (
            (Discount.percent_off("PROMO", "10", duration=Duration.months(6)),)
            if discounted and not per_unit
            else ()
        )
        subscription = ChargePlan(
            id=f"S{index:07d}",
            customer=f"C{index:07d}",
            currency="EUR",
            charges=charges,
            discounts=discounts,
        )
        state = None
        days = (BILLING_AS_OF - start).days
        if index % 10 == 5 and days >= 2:
            on = start + timedelta(days=rng.randrange(1, days))
            state = bill_subscription(subscription, as_of=on).state
            which = rng.randrange(len(charges))
            charges[which : which + 1] = charges[which].change(
                on=on, quantity=charges[which].quantity % 10 + 1, reason="quantity_change"
            )
            subscription = ChargePlan(
                id=subscription.id,
                customer=subscription.customer,
                currency="EUR",
                charges=charges,
                discounts=discounts,
            )
        if setup is not None:
            setup[0] += time.perf_counter() - started
        yield subscription, state


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
    """Bill ``billing_inputs(count)`` with ``bill_run``, in this process or on a pool of
    ``workers`` processes, consuming the results one by one."""
    setup = [0.0]
    items = billing_inputs(count, setup=setup)
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

"""Run subbill's benchmarks: ``make bench``. Prints one line per benchmark.

Performance is measured here, never in a timed test. Each benchmark builds its inputs with
a seeded random generator, so runs are comparable from one commit to the next.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta

from subbill import ANNUAL, MONTHLY, QUARTERLY, ProrationBasis, billable_periods


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


BENCHMARKS = {"proration": bench_billable_periods}


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

"""Run subbill's benchmarks: ``make bench`` (``python -m benchmarks.run [NAMES] [--count N]``).

Prints ONE table at the end: every figure beside a yardstick measured in the same run,
interleaved with it (a subbill repetition, then a yardstick repetition, three times or
more; medians), and as a ratio to it. Every rate is also divided by the speed of a plain
reference implementation (:mod:`benchmarks.plain_reference`) run in the same process next
to it, so that the machine's load cancels out. The header gives the load average and the
CPU count. ``docs/benchmarks.md`` says what each row measures and how to read it.

Each measurement runs in a fresh process forked from a forkserver, so that its peak RSS is
its own (a spawned process would not do: Linux carries the parent's peak RSS over ``exec``
into ``ru_maxrss``). Performance is measured here, never in a timed test. Each benchmark
builds its inputs with a seeded generator, so runs are comparable from one commit to the
next.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from benchmarks import yardsticks
from benchmarks.measure import (
    MixRun,
    PdfRun,
    PhaseRun,
    calendar_run,
    mix_run,
    pdf_run,
    rss_run,
    silver_memory,
    silver_sqlite,
    store_silver,
    usage_run,
)

DEFAULT_COUNT = 20_000
SILVER_INITIAL = Decimal("27.42")  # 17/31 of 50.00 EUR, half-up
SILVER_MONTH = Decimal("50.00")

_T = TypeVar("_T")


# -- one table ------------------------------------------------------------------------------


@dataclass
class Row:
    """One row of the table; every cell already formatted."""

    workload: str
    n: str
    figure: str
    yardstick: str = "–"
    yardstick_figure: str = "–"
    ratio: str = "–"
    target: str = "–"
    met: str = "–"
    vs_plain: str = "–"
    rss: str = "–"


COLUMNS = (
    ("workload", "workload"),
    ("n", "N"),
    ("figure", "figure"),
    ("yardstick", "yardstick"),
    ("yardstick_figure", "yardstick figure"),
    ("ratio", "ratio"),
    ("target", "target"),
    ("met", "met"),
    ("vs_plain", "÷ plain ref"),
    ("rss", "peak RSS"),
)


@dataclass
class Report:
    """The rows, notes and failed agreement checks of one ``make bench``."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)


def _compared(
    workload: str,
    count: int,
    value: float,
    unit: str,
    *,
    yardstick: tuple[str, float | None],
    plain: float,
    rss: str,
    goal: tuple[str, str] = ("–", "–"),
    ratio: float | None = None,
) -> Row:
    """A row measured against ``yardstick`` (its name and figure): both figures, their ratio
    (``value`` / the yardstick's unless given), the ``goal`` (target, met or not), and
    ``value`` divided by the plain reference."""
    name, measured = yardstick
    if ratio is None and measured:
        ratio = value / measured
    target, met = goal
    return Row(
        workload=workload,
        n=f"{count:,}",
        figure=_rate(value, unit),
        yardstick=name,
        yardstick_figure=_rate(measured, unit),
        ratio=_ratio(ratio),
        target=target,
        met=met,
        vs_plain=_ratio(value / plain),
        rss=rss,
    )


def _rate(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.1f}×" if value >= 10 else f"{value:.2f}×" if value >= 1 else f"{value:.2g}×"


def _met(value: float | None, target: float, *, at_most: bool = False) -> str:
    if value is None:
        return "–"
    return "yes" if (value <= target if at_most else value >= target) else "NO"


def _mib(kib: int | None) -> str:
    return "–" if kib is None else f"{kib / 1024:,.0f} MiB"


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def render(rows: Sequence[Row]) -> str:
    """The table as Markdown (so that it pastes into ``docs/benchmarks.md`` as it is)."""
    cells = [[title for _, title in COLUMNS]]
    cells += [[getattr(row, name) for name, _ in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    """The machine's load average (1, 5, 15 minutes) and CPU count, for the header."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


# -- fresh processes ----------------------------------------------------------------------------


def progress(message: str) -> None:
    """A line on stderr while the bench runs (the table comes at the end, on stdout)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _fresh(function: Callable[..., _T], *args: Any) -> _T:
    """Run ``function(*args)`` in a fresh process forked from the forkserver; its result."""
    forkserver = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=forkserver) as fresh:
        return fresh.submit(function, *args).result()


def bench_silver(args: argparse.Namespace, report: Report, *, memory: bool, sqlite: bool) -> None:
    """Rows a and b: the silver workload, interleaved with django-silver runs."""
    count, silver_n, repeats = args.count, args.silver_count, args.repeats
    memory_runs: list[PhaseRun] = []
    sqlite_runs: list[PhaseRun] = []
    silver_runs: list[yardsticks.SilverRun] = []
    unavailable = yardsticks.silver_unavailable()
    for repeat in range(repeats):
        if memory:
            memory_runs.append(_fresh(silver_memory, count, count))
            last = memory_runs[-1]
            progress(
                f"silver in memory {repeat + 1}/{repeats}: "
                f"{2 * count / (last.initial_seconds + last.renewal_seconds):,.0f} inv/s"
            )
        if sqlite:
            sqlite_runs.append(_fresh(silver_sqlite, count, count, repeat == repeats - 1))
            last = sqlite_runs[-1]
            progress(
                f"silver via SQLiteStore {repeat + 1}/{repeats}: "
                f"{2 * count / (last.initial_seconds + last.renewal_seconds):,.0f} inv/s"
            )
        if unavailable is None:
            outcome = yardsticks.run_silver(silver_n)
            if isinstance(outcome, yardsticks.SilverUnavailable):
                unavailable = outcome
            else:
                silver_runs.append(outcome)
                progress(f"django-silver {repeat + 1}/{repeats}: {outcome.both_rate:,.0f} inv/s")
    silver = None if unavailable is not None else silver_runs
    if silver:
        report.notes.append(
            f"django-silver: {len(silver)} runs of silver_bench.py one --n {silver_n} --variant "
            f"mid --mode atomic (per-invoice rates compared with subbill's at N = {count:,}); "
            f"its peak RSS {max(r.peak_rss_mib for r in silver):,.0f} MiB"
        )
    for label, runs, target in (
        ("silver in memory (bill_run)", memory_runs, 250.0),
        ("silver via SQLiteStore (run_billing)", sqlite_runs, 120.0),
    ):
        if runs:
            _silver_rows(
                report,
                label,
                runs=runs,
                silver=silver,
                unavailable=unavailable,
                target=target,
                count=count,
                silver_n=silver_n,
            )
    if sqlite_runs:
        _sqlite_rows(report, sqlite_runs, count)


def _silver_rows(
    report: Report,
    label: str,
    *,
    runs: list[PhaseRun],
    silver: list[yardsticks.SilverRun] | None,
    unavailable: yardsticks.SilverUnavailable | None,
    target: float,
    count: int,
    silver_n: int,
) -> None:
    plain = _median(r.plain.rate for r in runs)
    rss = _mib(max(r.rss for r in runs))
    phases: tuple[tuple[str, Callable[[PhaseRun], float], Callable[[Any], float]], ...] = (
        (
            "15 Jan (initial)",
            lambda r: r.initial_invoices / r.initial_seconds,
            lambda s: s.initial_rate,
        ),
        (
            "1 Feb (renewal)",
            lambda r: r.renewal_invoices / r.renewal_seconds,
            lambda s: s.renewal_rate,
        ),
        (
            "both runs",
            lambda r: (
                (r.initial_invoices + r.renewal_invoices) / (r.initial_seconds + r.renewal_seconds)
            ),
            lambda s: s.both_rate,
        ),
    )
    for phase, ours, theirs in phases:
        rate = _median(ours(r) for r in runs)
        yard = None if not silver else _median(theirs(s) for s in silver)
        ratio = None if yard is None else rate / yard
        report.rows.append(
            Row(
                workload=f"{label}, {phase}",
                n=f"{count:,}",
                figure=_rate(rate, "inv/s"),
                yardstick=(
                    f"django-silver generate_docs, N={silver_n:,}"
                    if unavailable is None
                    else "django-silver"
                ),
                yardstick_figure=(
                    _rate(yard, "inv/s") if unavailable is None else unavailable.reason
                ),
                ratio=_ratio(ratio),
                target=f"≥ {target:g}×",
                met=_met(ratio, target),
                vs_plain=_ratio(rate / plain),
                rss=rss,
            )
        )
    _check_silver_amounts(report, label, runs, count)


def _check_silver_amounts(report: Report, label: str, runs: list[PhaseRun], count: int) -> None:
    """Every run billed N invoices of 27.42 then N of 50.00, as the plain reference did."""
    for run in runs:
        expected = (count, frozenset({SILVER_INITIAL}), count, frozenset({SILVER_MONTH}))
        got = (run.initial_invoices, run.initial_amounts, run.renewal_invoices, run.renewal_amounts)
        plain = (count, run.plain.initial, count, run.plain.renewal)
        if got != expected or plain != expected:
            report.disagreements.append(
                f"{label}: billed {got}, the plain reference {plain}, expected {expected}"
            )
            return
    report.notes.append(
        f"{label}: every run billed {count:,} invoices of {SILVER_INITIAL} EUR then {count:,} of "
        f"{SILVER_MONTH} EUR, as the plain reference did"
    )


def _sqlite_rows(report: Report, runs: list[PhaseRun], count: int) -> None:
    per_invoice = _median(r.bytes_per_invoice or 0.0 for r in runs)
    report.rows.append(
        Row(
            workload="silver via SQLiteStore: database growth per invoice",
            n=f"{count:,}",
            figure=f"{per_invoice:,.0f} B/invoice",
            target="≤ 600 B",
            met=_met(per_invoice, 600, at_most=True),
        )
    )
    last = runs[-1]
    if last.noop is not None:
        report.rows.append(
            Row(
                workload="silver via SQLiteStore: 3rd run, nothing due",
                n=f"{count:,}",
                figure="writes nothing" if last.noop_clean else "WRITES",
                target="writes nothing",
                met="yes" if last.noop_clean else "NO",
            )
        )
        report.notes.append(f"third run_billing on 1 Feb 2025 (nothing due): {last.noop}")


# -- c, e: the mix bench, single process and on 2 workers -----------------------------------


def bench_mix(args: argparse.Namespace, report: Report, *, single: bool, workers: bool) -> None:
    """Rows c and e: the mix bench against the plain reference, and 2 workers against 1."""
    count, repeats = args.mix_count, args.repeats
    singles: list[MixRun] = []
    pairs: list[MixRun] = []
    for _ in range(repeats):
        singles.append(_fresh(mix_run, count, args.count, 0))
        progress(f"mix bench, 1 process: {singles[-1].lines / singles[-1].seconds:,.0f} lines/s")
        if workers:
            pairs.append(_fresh(mix_run, count, args.count, 2))
            progress(f"mix bench, 2 workers: {pairs[-1].lines / pairs[-1].seconds:,.0f} lines/s")
    plain = _median(r.plain.rate for r in singles + pairs)
    invoices_per_s = _median(r.invoices / r.seconds for r in singles)
    lines_per_s = _median(r.lines / r.seconds for r in singles)
    rss = _mib(max(r.rss for r in singles))
    if single:
        lines = singles[0].lines
        per_invoice = lines / max(singles[0].invoices, 1)
        rows = (
            (
                f"mix bench, single process ({per_invoice:.1f} lines/invoice)",
                (lines_per_s, "lines/s", "plain reference (1 line/invoice)"),
                ("≥ 100,000 lines/s", _met(lines_per_s, 100_000)),
            ),
            (
                "mix bench, single process",
                (invoices_per_s, "inv/s", "plain reference"),
                ("–", "–"),
            ),
        )
        for workload, (value, unit, yardstick), goal in rows:
            row = _compared(
                workload, count, value, unit, yardstick=(yardstick, plain), plain=plain, rss=rss
            )
            row.target, row.met = goal
            report.rows.append(row)
    if workers:
        rate = _median(r.invoices / r.seconds for r in pairs)
        speedup = _median(s.seconds / p.seconds for s, p in zip(singles, pairs, strict=True))
        workers_rss = f"{_mib(max(r.rss for r in pairs))} + "
        workers_rss += f"{_mib(max(r.workers_rss for r in pairs))}/worker"
        report.rows.append(
            _compared(
                "mix bench, 2 worker processes vs 1",
                count,
                rate,
                "inv/s",
                yardstick=("the same, single process", invoices_per_s),
                plain=plain,
                rss=workers_rss,
                goal=("≥ 1.5×", _met(speedup, 1.5)),
                ratio=speedup,
            )
        )
        # CPU time moves far less with the load than wall time: what each side spends per
        # invoice, as a multiple of the single process's, and what that allows on 2 cores.
        parent = _median(p.cpu / s.cpu for s, p in zip(singles, pairs, strict=True))
        spent = _median(p.workers_cpu / s.cpu for s, p in zip(singles, pairs, strict=True))
        report.rows.append(
            Row(
                workload="mix bench, 2 workers: CPU per invoice vs 1 process",
                n=f"{count:,}",
                figure=f"parent {parent:.2f}× + workers {spent:.2f}×",
                yardstick="the same, single process",
                yardstick_figure="1×",
                ratio=_ratio(2 / (parent + spent)),
                target="≥ 1.5× (2 idle cores)",
                met=_met(2 / (parent + spent), 1.5),
            )
        )
        alike = {(r.invoices, r.lines, r.total) for r in singles + pairs}
        if len(alike) != 1:
            report.disagreements.append(f"mix bench: single process and 2 workers differ: {alike}")
        else:
            report.notes.append(
                f"mix bench: single process and 2 workers agree ({singles[0].invoices:,} "
                f"invoices, {singles[0].lines:,} lines, {singles[0].total:,} EUR)"
            )


# -- d: billable_periods against the plain calendar -------------------------------------------


def bench_proration(args: argparse.Namespace, report: Report) -> None:
    """Row d: ``billable_periods`` against ``plain_calendar.billable_periods``."""
    count = args.count
    run = _fresh(calendar_run, count, count, args.repeats)
    if run is None:
        report.rows.append(
            Row(
                workload="billable_periods",
                n=f"{count:,}",
                figure="–",
                yardstick="plain_calendar.billable_periods",
                yardstick_figure=(
                    f"not measured (no plain_calendar.py in {yardsticks.yardsticks_dir()}: "
                    "set SUBBILL_YARDSTICKS)"
                ),
                target="≥ 3×",
            )
        )
        return
    ours = run.periods / _median(run.ours)
    theirs = run.periods / _median(run.theirs)
    plain = _median(p.rate for p in run.plain)
    report.rows.append(
        _compared(
            "billable_periods (proration_inputs)",
            count,
            ours,
            "periods/s",
            yardstick=("plain_calendar.billable_periods", theirs),
            plain=plain,
            rss=_mib(run.rss),
            goal=("≥ 3×", _met(ours / theirs, 3)),
        )
    )
    if run.differing_periods or run.differing_factors:
        report.disagreements.append(
            f"billable_periods and the plain calendar disagree: {len(run.differing_periods)} "
            f"subscriptions on periods, {len(run.differing_factors)} factors; first: "
            f"{(run.differing_periods + run.differing_factors)[0]}"
        )
    report.notes.append(
        f"billable_periods and the plain calendar agree on all {run.periods:,} periods of "
        f"{count:,} subscriptions, and on every factor but {run.convention:,} 30/360 partial "
        "periods in a cycle that starts or ends on a clamped month end (the two 30/360 "
        "conventions differ there; docs/benchmarks.md)"
        if not (run.differing_periods or run.differing_factors)
        else "billable_periods and the plain calendar DISAGREE (see below)"
    )


# -- i: usage records aggregated and billed, against a plain usage reference ----------------


def bench_usage(args: argparse.Namespace, report: Report) -> None:
    """Row i: a month of usage records billed by subbill against :mod:`benchmarks.plain_usage`.

    N records of N/20 subscriptions (graduated API calls), each subscription's records
    deduplicated, aggregated, priced tier by tier, explained and taxed by
    ``bill_subscription``; the plain reference sums and prices them in a dict. The amounts
    before tax must agree.
    """
    count = args.count
    run = _fresh(usage_run, count, count, args.repeats)
    ours = run.records / _median(run.ours_times)
    theirs = run.records / _median(run.theirs_times)
    report.rows.append(
        _compared(
            "usage records aggregated and billed (graduated)",
            run.records,
            ours,
            "records/s",
            yardstick=("plain usage reference (dict + Decimal)", theirs),
            plain=_median(p.rate for p in run.plain),
            rss=_mib(run.rss),
        )
    )
    if run.ours != run.theirs:
        differing = sorted(
            k for k in run.ours.keys() | run.theirs.keys() if run.ours.get(k) != run.theirs.get(k)
        )
        report.disagreements.append(
            f"usage bench: subbill and the plain usage reference disagree on "
            f"{len(differing)} subscriptions; first: {differing[0]} "
            f"({run.ours.get(differing[0])} vs {run.theirs.get(differing[0])})"
        )
    else:
        report.notes.append(
            f"usage bench: subbill and the plain usage reference agree on the amounts of all "
            f"{len(run.ours):,} subscriptions ({run.records:,} records, one sent twice in each)"
        )


# -- f: run_billing's peak RSS, flat in N ---------------------------------------------------


def bench_rss(args: argparse.Namespace, report: Report) -> None:
    """Row f: ``run_billing``'s peak RSS at N and 10 N (each in a fresh process)."""
    small, big = max(args.count // 2, 1), args.count * 5
    measured: dict[int, int] = {}
    for size in (small,) if args.quick else (small, big):
        with tempfile.TemporaryDirectory(prefix="subbill-bench-") as folder:
            path = Path(folder) / "silver.db"
            _fresh(store_silver, path, size)
            rss, invoices = _fresh(rss_run, str(path))
        if invoices != 2 * size:
            report.disagreements.append(f"run_billing at N={size:,}: {invoices:,} invoices")
        measured[size] = rss
        progress(f"run_billing at N={size:,}: peak RSS {_mib(rss)}")
    grown = measured[big] / measured[small] if big in measured else None
    report.rows.append(
        Row(
            workload="run_billing peak RSS, silver workload (2 runs)",
            n=f"{big:,}" if grown is not None else f"{small:,}",
            figure=_mib(measured.get(big)) if grown is not None else "not measured (--quick)",
            yardstick=f"the same at N={small:,}",
            yardstick_figure=_mib(measured[small]),
            ratio=_ratio(grown),
            target="≤ 1.10×",
            met=_met(grown, 1.10, at_most=True),
            rss=_mib(max(measured.values())),
        )
    )


# -- g: the persisted bill run on PostgreSQL, 1 and 2 shards, beside SQLite -----------------


def bench_postgres(args: argparse.Namespace, report: Report) -> None:
    """Row g: ``run_billing`` over SQLite, then PostgreSQL with 1 and 2 shards (processes)."""
    from benchmarks import postgres  # noqa: PLC0415  (psycopg: only for this row)

    count = args.mix_count
    server = postgres.start_server()
    if server is None:
        report.rows.append(
            Row(
                workload="persisted run on PostgreSQL, 2 shards vs 1",
                n=f"{count:,}",
                figure="not measured (no PostgreSQL installed)",
                target="≥ 1.5×",
            )
        )
        return
    runs: dict[str, list[postgres.StoredRun]] = {"sqlite": [], "1": [], "2": []}
    try:
        with tempfile.TemporaryDirectory(prefix="subbill-bench-") as folder:
            template = postgres.store_mix(server, Path(folder), count)
            for repeat in range(args.repeats):
                runs["sqlite"].append(_fresh(postgres.sqlite_run, str(template), args.count))
                for shards in (1, 2):
                    url = postgres.fresh_database(server, f"run_{repeat}_{shards}")
                    done = _fresh(postgres.postgres_run, url, str(server.data), args.count, shards)
                    runs[str(shards)].append(done)
                    progress(
                        f"persisted mix on PostgreSQL, {shards} shard(s): "
                        f"{done.invoices / done.seconds:,.0f} inv/s, server "
                        f"{done.server_cpu / done.seconds:.2f} cores"
                    )
    finally:
        server.stop()
    plain = _median(r.plain.rate for rs in runs.values() for r in rs)
    rate = {key: _median(r.invoices / r.seconds for r in rs) for key, rs in runs.items()}
    cores = {key: _median(r.server_cpu / r.seconds for r in runs[key]) for key in ("1", "2")}
    speedup = _median(
        one.seconds / two.seconds for one, two in zip(runs["1"], runs["2"], strict=True)
    )
    rows = (
        ("persisted mix run, SQLite, 1 process", rate["sqlite"], ("plain reference", plain), None),
        (
            f"persisted mix run, PostgreSQL, 1 shard (server {cores['1']:.2f} cores)",
            rate["1"],
            ("SQLite, 1 process", rate["sqlite"]),
            None,
        ),
        (
            f"persisted mix run, PostgreSQL, 2 shards vs 1 (server {cores['2']:.2f} cores)",
            rate["2"],
            ("PostgreSQL, 1 shard", rate["1"]),
            speedup,
        ),
    )
    for workload, value, yardstick, ratio in rows:
        row = _compared(
            workload, count, value, "inv/s", yardstick=yardstick, plain=plain, rss="–", ratio=ratio
        )
        if ratio is not None:
            row.target, row.met = "≥ 1.5×", _met(ratio, 1.5)
        report.rows.append(row)
    alike = {(r.invoices, r.total) for rs in runs.values() for r in rs}
    if len(alike) != 1:
        report.disagreements.append(f"persisted mix: SQLite and PostgreSQL runs differ: {alike}")
    else:
        report.notes.append(
            f"persisted mix: SQLite and PostgreSQL (1 and 2 shards) agree "
            f"({runs['sqlite'][0].invoices:,} invoices, {runs['sqlite'][0].total}); the "
            "server's CPU is that of its processes (/proc/<pid>/stat) over the run's time"
        )


# -- g: PDF invoices and Factur-X documents, vs django-silver's PDFs ---------------------------


def bench_pdf(args: argparse.Namespace, report: Report) -> None:
    """Rows g: plain PDFs and Factur-X documents per second, vs django-silver's PDF rendering."""
    count, silver_n = args.pdf_count, args.silver_pdf_count
    runs: list[PdfRun] = []
    silver_runs: list[yardsticks.SilverPdfRun] = []
    unavailable = yardsticks.silver_unavailable()
    silver_unavailable = None if unavailable is None else unavailable.reason
    for repeat in range(args.repeats):
        outcome = _fresh(pdf_run, count, args.count)
        if isinstance(outcome, str):  # fpdf2 or factur-x missing: say so, measure nothing
            report.rows.extend(
                Row(workload=workload, n=f"{count:,}", figure=outcome)
                for workload in (_PLAIN_PDF, _FACTURX_PDF)
            )
            return
        runs.append(outcome)
        progress(
            f"PDFs {repeat + 1}/{args.repeats}: {count / outcome.plain_seconds:,.1f} plain/s, "
            f"{count / outcome.facturx_seconds:,.1f} Factur-X/s"
        )
        if silver_unavailable is None:
            silver = yardsticks.run_silver_pdf(silver_n)
            if isinstance(silver, yardsticks.SilverUnavailable):
                silver_unavailable = silver.reason
            else:
                silver_runs.append(silver)
                progress(f"django-silver PDFs {repeat + 1}/{args.repeats}: {silver.rate:,.1f}/s")
    plain = _median(r.plain.rate for r in runs)
    yard_name = f"django-silver generate_pdfs, N={silver_n:,}"
    yard = _median(s.rate for s in silver_runs) if silver_runs else None
    rss = _mib(max(r.rss for r in runs))
    for workload, seconds in (
        (_PLAIN_PDF, [r.plain_seconds for r in runs]),
        (_FACTURX_PDF, [r.facturx_seconds for r in runs]),
    ):
        row = _compared(
            workload,
            count,
            count / _median(seconds),
            "docs/s",
            yardstick=(yard_name, yard),
            plain=plain,
            rss=rss,
        )
        if yard is None:
            row.yardstick_figure = silver_unavailable or "not measured"
        report.rows.append(row)
    slower = _median(r.facturx_seconds / r.plain_seconds for r in runs)
    report.notes.append(
        f"PDFs: a Factur-X document (XML + PDF/A-3B, fonts embedded) takes {slower:.1f}× the "
        f"time of a plain PDF of the same invoice; {runs[0].plain_bytes:,} bytes plain, "
        f"{runs[0].facturx_bytes:,} bytes Factur-X; the XML inside every one of the "
        f"{count:,} documents states its invoice's grand total"
        if not any(r.disagreements for r in runs)
        else "PDFs: the XML inside a Factur-X document DISAGREES with its invoice (see below)"
    )
    for run_ in runs:
        report.disagreements.extend(f"Factur-X: {d}" for d in run_.disagreements[:3])


_PLAIN_PDF = "PDF invoices, plain (render_invoice_pdf)"
_FACTURX_PDF = "Factur-X documents (facturx_pdf: XML + PDF/A-3B)"


# -- the command line -----------------------------------------------------------------------


BENCHMARKS: dict[str, str] = {
    "memory": "a. silver workload in memory (bill_run) vs django-silver",
    "sqlite": "b. silver workload through SQLiteStore (run_billing) vs django-silver",
    "mix": "c. the mix bench, single process, vs the plain reference",
    "proration": "d. billable_periods vs the plain calendar",
    "workers": "e. the mix bench on 2 worker processes vs 1",
    "rss": "f. run_billing's peak RSS at N/2 vs 5 N",
    "postgres": "g. the persisted mix run on PostgreSQL, 1 and 2 shards, beside SQLite",
    "pdf": "h. plain PDFs and Factur-X documents per second vs django-silver's PDFs",
    "usage": "i. usage records aggregated and billed vs a plain usage reference",
    "billing": "the mix bench single and on 2 workers (= mix workers)",
}


def run(args: argparse.Namespace) -> Report:
    """Run the chosen benchmarks; the report to print."""
    names = set(args.names or BENCHMARKS)
    if "billing" in names:
        names |= {"mix", "workers"}
    report = Report()
    if names & {"memory", "sqlite"}:
        bench_silver(args, report, memory="memory" in names, sqlite="sqlite" in names)
    if names & {"mix", "workers"}:
        bench_mix(args, report, single="mix" in names, workers="workers" in names)
    if "proration" in names:
        bench_proration(args, report)
    if "rss" in names:
        bench_rss(args, report)
    if "postgres" in names:
        bench_postgres(args, report)
    if "pdf" in names:
        bench_pdf(args, report)
    if "usage" in names:
        bench_usage(args, report)
    return report


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line's arguments, with the sizes derived from ``--count``."""
    parser = argparse.ArgumentParser(
        description="subbill's benchmarks, each figure as a ratio to a yardstick run beside it.",
        epilog="benchmarks: " + "; ".join(f"{k}: {v}" for k, v in BENCHMARKS.items()),
    )
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run")
    parser.add_argument(
        "--count",
        type=int,
        default=DEFAULT_COUNT,
        help="N of the silver workload and of billable_periods (default 20,000); the mix "
        "bench bills N/4, django-silver N/20, the RSS row N/2 and 5 N",
    )
    parser.add_argument("--silver-count", type=int, help="N of django-silver (default N/20)")
    parser.add_argument("--mix-count", type=int, help="N of the mix bench (default N/4)")
    parser.add_argument(
        "--pdf-count", type=int, help="documents of the PDF rows (default N/200, at least 5)"
    )
    parser.add_argument(
        "--silver-pdf-count", type=int, default=50, help="N of django-silver's PDFs (50)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="repetitions, >= 3 (median)")
    parser.add_argument("--quick", action="store_true", help="skip the 5 N run of the RSS row")
    args = parser.parse_args(argv)
    if args.count < 1 or args.repeats < 1:
        parser.error("--count and --repeats must be >= 1")
    args.silver_count = args.silver_count or max(args.count // 20, 1)
    args.mix_count = args.mix_count or max(args.count // 4, 1)
    args.pdf_count = args.pdf_count or max(args.count // 200, 5)
    return args


def main(argv: Sequence[str]) -> int:
    """Run, print the table (and notes), return 1 if a result disagreed with its yardstick."""
    args = parse(argv)
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["benchmarks.measure"])
    print(f"subbill benchmarks, Python {sys.version.split()[0]}, {date.today()}")  # noqa: DTZ011
    print(f"at start: {machine()}", flush=True)
    started = time.perf_counter()
    report = run(args)
    print(f"at end: {machine()}; {time.perf_counter() - started:,.0f} s")
    print()
    print(render(report.rows))
    print()
    for note in report.notes:
        print(f"- {note}")
    for disagreement in report.disagreements:
        print(f"DISAGREE: {disagreement}")
    return 1 if report.disagreements else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

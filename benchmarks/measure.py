"""What ``make bench`` measures, each function run in a fresh process by ``benchmarks.run``.

Every measurement also runs the plain reference (:mod:`benchmarks.plain_reference`) on the
silver workload in the same process, right before it, so that ``benchmarks.run`` can divide
each figure by the machine's speed of the moment. Inputs are built before the clock starts.
"""

from __future__ import annotations

import multiprocessing
import resource
import sqlite3
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks import plain_reference, plain_usage, yardsticks
from benchmarks.workloads import (
    BILLING_AS_OF,
    DOCUMENT_SELLER,
    SILVER_RENEWAL,
    SILVER_START,
    USAGE_AS_OF,
    USAGE_START,
    USAGE_TIERS,
    document_inputs,
    mix_inputs,
    proration_inputs,
    silver_catalog,
    silver_inputs,
    silver_plain,
    silver_subscriptions,
    usage_inputs,
)
from subbill import ANNUAL, MONTHLY, QUARTERLY, bill_run, bill_subscription, billable_periods
from subbill.proration import BillingTiming, ProrationBasis
from subbill.service import run_billing
from subbill.storage import SQLiteStore


def peak_rss() -> int:
    """This process's peak RSS, KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- the plain reference, run next to every measurement ---------------------------------------


class PlainRun(NamedTuple):
    """The plain reference on the silver workload: invoices per second and the amounts."""

    rate: float
    initial: frozenset[Decimal]
    renewal: frozenset[Decimal]


def plain_run(count: int) -> PlainRun:
    """Bill the silver workload with the plain reference: 15 Jan then 1 Feb 2025.

    The invoices are consumed as they come (counted, their totals noted), as subbill's are,
    so that the reference adds nothing to the peak RSS of the measurement it runs beside.
    """
    subscriptions = silver_plain(count)
    invoices = 0
    amounts: tuple[set[Decimal], set[Decimal]] = (set(), set())
    started = time.perf_counter()
    through: list[date | None] = []
    for invoice, billed_through in plain_reference.bill_all(
        subscriptions, as_of=SILVER_START, billed_through=[None] * count
    ):
        through.append(billed_through)
        if invoice is not None:
            invoices += 1
            amounts[0].add(invoice.total)
    for invoice, _ in plain_reference.bill_all(
        subscriptions, as_of=SILVER_RENEWAL, billed_through=through
    ):
        if invoice is not None:
            invoices += 1
            amounts[1].add(invoice.total)
    elapsed = time.perf_counter() - started
    return PlainRun(
        rate=invoices / elapsed, initial=frozenset(amounts[0]), renewal=frozenset(amounts[1])
    )


# -- a, b, f: the silver workload, in memory and through SQLiteStore ---------------------------


class PhaseRun(NamedTuple):
    """Two runs of one silver repetition: seconds, invoices and amounts per run."""

    plain: PlainRun
    initial_seconds: float
    initial_invoices: int
    initial_amounts: frozenset[Decimal]
    renewal_seconds: float
    renewal_invoices: int
    renewal_amounts: frozenset[Decimal]
    rss: int
    bytes_per_invoice: float | None = None
    noop: str | None = None  # what a third run with nothing due wrote (SQLite only)
    noop_clean: bool = True


def silver_memory(count: int, plain_count: int) -> PhaseRun:
    """``bill_run`` on the silver workload in memory: 15 Jan, then 1 Feb with its states."""
    plain = plain_run(plain_count)
    plans = silver_inputs(count)
    started = time.perf_counter()
    states = []
    initial_invoices = 0
    initial_amounts = set()
    for result in bill_run(plans, as_of=SILVER_START):
        states.append(result.state)
        if result.invoice is not None:
            initial_invoices += 1
            initial_amounts.add(result.invoice.total.amount)
    initial_seconds = time.perf_counter() - started
    started = time.perf_counter()
    renewal_invoices = 0
    renewal_amounts = set()
    for result in bill_run(zip(plans, states, strict=True), as_of=SILVER_RENEWAL):
        if result.invoice is not None:
            renewal_invoices += 1
            renewal_amounts.add(result.invoice.total.amount)
    renewal_seconds = time.perf_counter() - started
    return PhaseRun(
        plain=plain,
        initial_seconds=initial_seconds,
        initial_invoices=initial_invoices,
        initial_amounts=frozenset(initial_amounts),
        renewal_seconds=renewal_seconds,
        renewal_invoices=renewal_invoices,
        renewal_amounts=frozenset(renewal_amounts),
        rss=peak_rss(),
    )


def invoice_count(report: object) -> int:
    """How many invoices a ``run_billing`` report says it created (a tuple or a count)."""
    for name in ("invoices", "invoice_count", "created"):
        value = getattr(report, name, None)
        if isinstance(value, int):
            return value
        if value is not None:
            return len(value)
    raise SystemExit(f"cannot tell how many invoices {report!r} created")


def _amounts(report: object, invoices: int) -> frozenset[Decimal]:
    """The one amount every invoice of a silver run has, from the run's total."""
    totals: dict[str, Any] = getattr(report, "total", None) or getattr(report, "totals", {})
    total = totals.get("EUR")
    if total is None or not invoices:
        return frozenset()
    return frozenset({(total.amount / invoices).quantize(Decimal("0.01"))})


def _files(path: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime (ns) of the database and of its WAL and shared-memory files."""
    found = {}
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            stat = part.stat()
            found[suffix or "db"] = (stat.st_size, stat.st_mtime_ns)
    return found


def _checkpointed_size(path: Path) -> int:
    """The database file's size once the WAL is folded into it (another connection)."""
    observer = sqlite3.connect(path)
    try:
        observer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        observer.close()
    return path.stat().st_size


def store_silver(path: Path, count: int) -> None:
    """A fresh ``SQLiteStore`` holding the silver catalog and ``count`` subscriptions.

    Stored the way ``subbill subscriptions load`` stores them: one transaction,
    ``save_subscription`` for each.
    """
    store = SQLiteStore(path)
    try:
        catalog = silver_catalog()
        store.save_catalog(catalog)
        with store.transaction():
            for subscription in silver_subscriptions(count, catalog):
                store.save_subscription(subscription)
    finally:
        store.close()


def silver_sqlite(count: int, plain_count: int, check_noop: bool) -> PhaseRun:
    """``run_billing`` (defaults) on 15 Jan then 1 Feb over a fresh ``SQLiteStore``."""
    plain = plain_run(plain_count)
    with tempfile.TemporaryDirectory(prefix="subbill-bench-") as folder:
        path = Path(folder) / "silver.db"
        store_silver(path, count)
        before = _checkpointed_size(path)
        store = SQLiteStore(path)
        try:
            started = time.perf_counter()
            initial = run_billing(store, as_of=SILVER_START)
            initial_seconds = time.perf_counter() - started
            started = time.perf_counter()
            renewal = run_billing(store, as_of=SILVER_RENEWAL)
            renewal_seconds = time.perf_counter() - started
        finally:
            store.close()
        initial_invoices, renewal_invoices = invoice_count(initial), invoice_count(renewal)
        grown = _checkpointed_size(path) - before
        per_invoice = grown / max(initial_invoices + renewal_invoices, 1)
        noop, clean = _noop_run(path) if check_noop else (None, True)
    return PhaseRun(
        plain=plain,
        initial_seconds=initial_seconds,
        initial_invoices=initial_invoices,
        initial_amounts=_amounts(initial, initial_invoices),
        renewal_seconds=renewal_seconds,
        renewal_invoices=renewal_invoices,
        renewal_amounts=_amounts(renewal, renewal_invoices),
        rss=peak_rss(),
        bytes_per_invoice=per_invoice,
        noop=noop,
        noop_clean=clean,
    )


def _noop_run(path: Path) -> tuple[str, bool]:
    """A third run on 1 Feb, with nothing due: what it wrote (files, ``data_version``)."""
    observer = sqlite3.connect(path)
    try:
        version = observer.execute("PRAGMA data_version").fetchone()[0]
        files = _files(path)
        store = SQLiteStore(path)
        try:
            report = run_billing(store, as_of=SILVER_RENEWAL)
        finally:
            store.close()
        after_files = _files(path)
        after_version = observer.execute("PRAGMA data_version").fetchone()[0]
    finally:
        observer.close()
    invoices = invoice_count(report)
    changed = sorted(
        name
        for name in files.keys() | after_files.keys()
        if files.get(name) != after_files.get(name) and name != "-shm"
    )
    clean = not invoices and not changed and version == after_version
    files_said = "unchanged" if not changed else "CHANGED: " + ", ".join(changed)
    version_said = "unchanged" if version == after_version else "CHANGED"
    said = f"{invoices} invoices; files {files_said} (size, mtime); data_version {version_said}"
    return said, clean


class MixRun(NamedTuple):
    """One ``bill_run`` over the mix bench: time, invoices, lines, total, peak RSS."""

    plain: PlainRun
    workers: int
    seconds: float
    invoices: int
    lines: int
    total: Decimal
    rss: int
    workers_rss: int
    cpu: float  # this process's CPU seconds over the run (all its threads)
    workers_cpu: float  # the workers' CPU seconds, from their start to their exit


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def mix_run(count: int, plain_count: int, workers: int) -> MixRun:
    """Bill ``mix_inputs(count)`` (built beforehand, untimed) in this process or on workers."""
    plain = plain_run(plain_count)
    items = list(mix_inputs(count))
    invoices = lines = 0
    total = Decimal(0)
    # Forked workers are this process's children, so RUSAGE_CHILDREN sees their peak RSS.
    fork = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=fork) if workers else None
    try:
        if pool is not None:  # start the workers before the clock
            list(pool.map(abs, range(workers)))
        cpu = _cpu(resource.RUSAGE_SELF)
        started = time.perf_counter()
        for result in bill_run(items, as_of=BILLING_AS_OF, executor=pool):
            invoice = result.invoice
            if invoice is None:
                continue
            invoices += 1
            lines += len(invoice.lines)
            total += invoice.total.amount
        seconds = time.perf_counter() - started
        cpu = _cpu(resource.RUSAGE_SELF) - cpu
    finally:
        if pool is not None:
            pool.shutdown()
    # Forked workers are this process's children: RUSAGE_CHILDREN sees their peak RSS.
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    workers_cpu = _cpu(resource.RUSAGE_CHILDREN)  # reaped by shutdown(): their whole life
    return MixRun(
        plain, workers, seconds, invoices, lines, total, peak_rss(), children, cpu, workers_cpu
    )


class CalendarRun(NamedTuple):
    """``billable_periods`` and the plain calendar, interleaved: seconds per pass."""

    plain: list[PlainRun]
    ours: list[float]
    theirs: list[float]
    periods: int
    differing_periods: list[str]  # start or end differ: a real disagreement
    convention: int  # 30/360 factors that differ by the documented convention only
    differing_factors: list[str]  # any other factor that differs
    rss: int


def plain_arguments(calendar: Any, kwargs: dict[str, object]) -> dict[str, object]:
    """One ``proration_inputs`` item in the plain calendar's own enums."""
    frequencies = {
        MONTHLY: calendar.Frequency.MONTHLY,
        QUARTERLY: calendar.Frequency.QUARTERLY,
        ANNUAL: calendar.Frequency.ANNUAL,
    }
    timing = kwargs.get("timing", BillingTiming.IN_ADVANCE)
    basis = kwargs.get("basis", ProrationBasis.ACTUAL_DAYS)
    assert isinstance(timing, BillingTiming)  # noqa: S101
    assert isinstance(basis, ProrationBasis)  # noqa: S101
    return dict(
        kwargs,
        frequency=frequencies[kwargs["frequency"]],  # type: ignore[index]
        timing=calendar.BillingTiming[timing.name],
        basis=calendar.ProrationBasis[basis.name],
    )


def by_convention(period: Any) -> bool:
    """A 30/360 partial period whose cycle has a clamped bound (a short month's end).

    There subbill counts the piece's position within its billing period (so the pieces
    of a period add up to it), while the plain calendar counts ``days360`` of the piece
    alone: the two conventions differ by a day or two of 30.
    """
    cycle = period.cycle
    return bool(
        period.basis is ProrationBasis.THIRTY_DAY_MONTH
        and min(cycle.start.day, 30) != min(cycle.end.day, 30)
    )


def compare_calendars(
    calendar: Any, ours_inputs: list[dict[str, object]], theirs_inputs: list[dict[str, object]]
) -> tuple[int, list[str], int, list[str]]:
    """Untimed: whether the two calendars agree, period by period and factor by factor.

    Returns the number of periods, the inputs whose periods differ, the number of factors
    that differ by the 30/360 convention only (:func:`by_convention`), and the other
    factors that differ.
    """
    periods, convention = 0, 0
    differing_periods: list[str] = []
    differing_factors: list[str] = []
    for kwargs, plain_kwargs in zip(ours_inputs, theirs_inputs, strict=True):
        ours = billable_periods(**kwargs)  # type: ignore[arg-type]
        theirs = calendar.billable_periods(**plain_kwargs)
        periods += len(ours)
        spans = [(p.period.start, p.period.end) for p in ours]
        if spans != [(p.period.start, p.period.end) for p in theirs]:
            differing_periods.append(f"{kwargs}")
            continue
        for mine, plain in zip(ours, theirs, strict=True):
            if mine.factor == plain.factor:
                continue
            if by_convention(mine):
                convention += 1
            else:
                differing_factors.append(f"{kwargs}: {mine} vs {plain.factor}")
    return periods, differing_periods, convention, differing_factors


def calendar_run(count: int, plain_count: int, repeats: int) -> CalendarRun | None:
    """Time ``billable_periods`` and the plain calendar on the same inputs, alternately."""
    calendar = yardsticks.load_plain_calendar()
    if calendar is None:
        return None
    ours_inputs = proration_inputs(count)
    theirs_inputs = [plain_arguments(calendar, kwargs) for kwargs in ours_inputs]
    ours_times, theirs_times, plains = [], [], []
    for repeat in range(repeats):
        plains.append(plain_run(plain_count))
        for which in (0, 1) if repeat % 2 == 0 else (1, 0):
            started = time.perf_counter()
            if which == 0:
                for kwargs in ours_inputs:
                    billable_periods(**kwargs)  # type: ignore[arg-type]
                ours_times.append(time.perf_counter() - started)
            else:
                for kwargs in theirs_inputs:
                    calendar.billable_periods(**kwargs)
                theirs_times.append(time.perf_counter() - started)
    periods, differing_periods, convention, differing_factors = compare_calendars(
        calendar, ours_inputs, theirs_inputs
    )
    compared = (periods, differing_periods, convention, differing_factors)
    return CalendarRun(plains, ours_times, theirs_times, *compared, peak_rss())


def rss_run(path: str) -> tuple[int, int]:
    """``run_billing`` on 15 Jan then 1 Feb over the stored silver workload: its peak RSS."""
    store = SQLiteStore(path)
    try:
        invoices = invoice_count(run_billing(store, as_of=SILVER_START))
        invoices += invoice_count(run_billing(store, as_of=SILVER_RENEWAL))
    finally:
        store.close()
    return peak_rss(), invoices


# -- g: PDF invoices and Factur-X documents -----------------------------------------------------


class PdfRun(NamedTuple):
    """PDFs rendered one after the other: plain ones, then Factur-X documents of the same."""

    plain: PlainRun
    documents: int
    plain_seconds: float
    facturx_seconds: float
    plain_bytes: int
    facturx_bytes: int
    disagreements: tuple[str, ...]
    rss: int


def pdf_run(count: int, plain_count: int) -> PdfRun | str:
    """Render ``count`` invoices as plain PDFs, then as Factur-X PDF/A-3Bs; or why not.

    Each Factur-X document's XML is read back afterwards (untimed): its grand total must be
    the invoice's. Needs fpdf2 and factur-x (``pip install -e '.[facturx]'``).
    """
    try:
        import facturx  # type: ignore[import-untyped]  # noqa: PLC0415

        from subbill.einvoice import facturx_pdf  # noqa: PLC0415
        from subbill.pdf import render_invoice_pdf  # noqa: PLC0415
    except ImportError as error:
        return f"not measured ({error.name} is not installed: pip install -e '.[facturx]')"
    plain = plain_run(plain_count)
    documents = document_inputs(count)
    warm, warm_buyer = documents[0]  # imports, fonts' coverage, babel's data: before the clock
    render_invoice_pdf(warm, locale="fr_FR", seller=DOCUMENT_SELLER, buyer=warm_buyer)
    facturx_pdf(warm, seller=DOCUMENT_SELLER, buyer=warm_buyer)
    started = time.perf_counter()
    plain_bytes = sum(
        len(render_invoice_pdf(invoice, locale="fr_FR", seller=DOCUMENT_SELLER, buyer=buyer))
        for invoice, buyer in documents
    )
    plain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    made = [
        facturx_pdf(invoice, seller=DOCUMENT_SELLER, buyer=buyer) for invoice, buyer in documents
    ]
    facturx_seconds = time.perf_counter() - started
    disagreements = []
    for (invoice, _), document in zip(documents, made, strict=True):
        _, xml = facturx.get_xml_from_pdf(document, check_xsd=False)
        total = f"<ram:GrandTotalAmount>{invoice.total.amount:.2f}</ram:GrandTotalAmount>"
        if total.encode() not in xml:
            disagreements.append(f"{invoice.number}: the XML inside does not say {total}")
    return PdfRun(
        plain,
        count,
        plain_seconds,
        facturx_seconds,
        plain_bytes // count,
        sum(map(len, made)) // count,
        tuple(disagreements),
        peak_rss(),
    )


class UsageRun(NamedTuple):
    """The usage row: subbill and the plain usage reference, interleaved, seconds per pass.

    ``ours`` and ``theirs`` are each subscription's amount before tax, to compare.
    """

    plain: list[PlainRun]
    ours_times: list[float]
    theirs_times: list[float]
    records: int
    ours: dict[str, Decimal]
    theirs: dict[str, Decimal]
    rss: int


def usage_run(count: int, plain_count: int, repeats: int) -> UsageRun:
    """Bill ``usage_inputs(count)`` with subbill and with the plain reference, alternately.

    subbill aggregates each subscription's records and bills its month in arrears
    (``bill_subscription(plan, as_of=…, usage=records)``: deduplicated, priced tier by
    tier, explained, taxed); the plain reference sums and prices them.
    """
    items, plain_records = usage_inputs(count)
    ours_times, theirs_times, plains = [], [], []
    ours: dict[str, Decimal] = {}
    theirs: dict[str, Decimal] = {}
    for repeat in range(repeats):
        plains.append(plain_run(plain_count))
        for which in (0, 1) if repeat % 2 == 0 else (1, 0):
            started = time.perf_counter()
            if which == 0:
                for plan, records in items:
                    invoice = bill_subscription(plan, as_of=USAGE_AS_OF, usage=records).invoice
                    if invoice is not None:
                        ours[plan.id] = invoice.subtotal.amount
                ours_times.append(time.perf_counter() - started)
            else:
                theirs = plain_usage.bill_usage(
                    plain_records, start=USAGE_START, end=USAGE_AS_OF, tiers=USAGE_TIERS
                )
                theirs_times.append(time.perf_counter() - started)
    return UsageRun(plains, ours_times, theirs_times, len(plain_records), ours, theirs, peak_rss())

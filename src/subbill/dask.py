"""Persisted bill runs sharded over Dask workers (or any pool of processes).

:func:`run_billing_on` submits one task per shard; each task opens its own store from the
URL (``postgresql://…``, or ``sqlite:///…`` on one machine) and runs
:func:`~subbill.service.run_billing` over its shard: it bills outside any lock and writes
each page in one short transaction, so the shards bill side by side and the numbers stay
gapless and in date order across them. The reports are gathered into one.

A worker that dies mid-run loses at most its open page (nothing of it is written); Dask
runs its task again on another worker, which bills what is left of that shard, exactly
once; running the whole call again bills nothing twice. The merged report still counts
what the killed attempt committed: it is read back from the store (every invoice dated
``as_of`` stored after the call began), not only added up from the tasks' reports.

This module imports neither Dask nor a database driver: it takes a Dask ``Client`` (or a
``concurrent.futures`` executor) and a URL.

>>> from datetime import date
>>> merge_reports([], as_of=date(2026, 3, 1)).invoice_count
0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import attrs

from subbill._validate import brief, check_count
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import InvoiceNumbering
from subbill.money import Money
from subbill.periods import check_date
from subbill.service import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, BillRunReport, run_billing
from subbill.storage._arguments import check_numbering
from subbill.storage.shards import MAX_SHARDS
from subbill.storage.sqlite import SQLiteStore
from subbill.storage.urls import is_store_url, open_store

if TYPE_CHECKING:
    from subbill.storage.postgres import PostgresStore

__all__ = ["bill_shard", "merge_reports", "run_billing_on"]


def bill_shard(
    store_url: str,
    *,
    as_of: date,
    shard: int,
    shards: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    numbering: InvoiceNumbering | None = None,
    after_each: Callable[[str], None] | None = None,
) -> BillRunReport:
    """Open the store ``store_url`` and bill its shard ``shard`` of ``shards`` (one task)."""
    store = open_store(store_url, numbering=numbering)
    try:
        return run_billing(
            store,
            as_of=as_of,
            batch_size=batch_size,
            shard=shard,
            shards=shards,
            after_each=after_each,
        )
    finally:
        store.close()


def run_billing_on(
    client: Any,
    store_url: str,
    *,
    as_of: date,
    shards: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    numbering: InvoiceNumbering | None = None,
    after_each: Callable[[str], None] | None = None,
) -> BillRunReport:
    """Bill the store ``store_url`` in ``shards`` tasks on ``client``; one report of them all.

    ``client`` is a Dask ``distributed.Client`` (each task is submitted with ``pure=False``:
    a second call runs again, never returns the first call's reports) or a
    ``concurrent.futures`` executor (a ``ProcessPoolExecutor``). ``shards`` is usually the
    number of worker processes; ``after_each(subscription_id)``, if given, must be picklable
    and is called in the worker after each subscription's page is committed.

    The report covers everything the call billed, even when a worker was killed mid-shard
    and its task ran again (the second attempt reports only what it billed itself): the
    store's last invoice position is noted before the tasks are submitted, and when the
    invoices dated ``as_of`` stored after it are more than the tasks reported, the count,
    the totals and the numbers' bounds are read back from those invoices. Another run
    issuing invoices dated ``as_of`` at the same time would be counted too; ``subscriptions``
    and ``failures`` are the tasks' (a task run again sees its whole shard).
    """
    check_date("as_of", as_of)
    count = check_count("shards", shards, minimum=1, maximum=MAX_SHARDS)
    check_count("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
    numbering = check_numbering(numbering)
    if not is_store_url(store_url):
        raise InvalidArgumentError(
            f"store_url={brief(store_url)!r} must be a store URL: postgresql://… or sqlite:///…"
        )
    if not callable(getattr(client, "submit", None)):
        raise InvalidTypeError(
            "client", brief(client), "a Dask Client or a concurrent.futures Executor"
        )
    options = {"as_of": as_of, "shards": count, "batch_size": batch_size, "numbering": numbering}
    if after_each is not None:
        options["after_each"] = after_each
    mark = _invoice_position(store_url, numbering)
    if callable(getattr(client, "gather", None)):  # Dask: tasks run again, never cached
        futures = [
            client.submit(bill_shard, store_url, shard=i, pure=False, **options)
            for i in range(count)
        ]
        reports = client.gather(futures)
    else:
        futures = [client.submit(bill_shard, store_url, shard=i, **options) for i in range(count)]
        reports = [future.result() for future in futures]
    merged = merge_reports(reports, as_of=as_of, numbering=numbering)
    store = open_store(store_url, numbering=numbering)
    try:
        return _whole_call(store, merged, mark)
    finally:
        store.close()


#: How many invoices are read back per page when the tasks' reports fell short.
_PAGE: Final = 1_000


def _invoice_position(store_url: str, numbering: InvoiceNumbering) -> int:
    """The position of the last invoice stored in ``store_url`` (``0`` if none)."""
    store = open_store(store_url, numbering=numbering)
    try:
        return store.invoice_position()
    finally:
        store.close()


def _whole_call(
    store: SQLiteStore | PostgresStore, merged: BillRunReport, mark: int
) -> BillRunReport:
    """``merged``, or what the store holds past ``mark`` dated its ``as_of`` if that is more.

    Counting is one query; the invoices are read back (a page at a time) only when the
    count differs from the tasks' (a task ran again after its worker died).
    """
    as_of = merged.as_of
    if store.count_invoices_since(mark, issued_on=as_of) == merged.invoice_count:
        return merged
    count = 0
    first: str | None = None
    last: str | None = None
    totals: dict[str, Money] = {}
    after = mark
    while page := store.invoices_since(after, issued_on=as_of, limit=_PAGE):
        after = page[-1][0]
        for _, invoice in page:
            count += 1
            first = first or invoice.number
            last = invoice.number
            previous = totals.get(invoice.currency)
            totals[invoice.currency] = (
                invoice.total if previous is None else previous + invoice.total
            )
    return attrs.evolve(
        merged, invoice_count=count, first_number=first, last_number=last, total=totals
    )


def merge_reports(
    reports: Sequence[BillRunReport],
    *,
    as_of: date,
    numbering: InvoiceNumbering | None = None,
) -> BillRunReport:
    """One report of the shards' ``reports``: counts and totals added, the numbers' bounds.

    ``first_number`` and ``last_number`` are the lowest and highest numbers issued in the
    order of ``numbering`` (the shards' numbers interleave).
    """
    numbering = check_numbering(numbering)
    numbers = [
        number
        for report in reports
        for number in (report.first_number, report.last_number)
        if number is not None
    ]
    totals: dict[str, Money] = {}
    for report in reports:
        for currency, total in report.total.items():
            totals[currency] = total if currency not in totals else totals[currency] + total
    return BillRunReport(
        as_of=as_of,
        subscriptions=sum(report.subscriptions for report in reports),
        invoice_count=sum(report.invoice_count for report in reports),
        first_number=min(numbers, key=numbering.parse) if numbers else None,
        last_number=max(numbers, key=numbering.parse) if numbers else None,
        total=totals,
        failures=tuple(
            sorted(
                (failure for report in reports for failure in report.failures),
                key=lambda failure: failure.subscription,
            )
        ),
    )

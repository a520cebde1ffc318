"""A store with a catalog and subscriptions to bill, shared by the service tests and the
processes they start (``python -m tests.service_scenario DB ACTION …``). ``DB`` is an
SQLite file's path, or a store URL (``postgresql://…``: tests/test_postgres_service.py)."""

import os
import sys
from datetime import date, timedelta

from subbill import Subscription, TaxRate
from subbill.service import run_billing
from subbill.storage import SQLiteStore, open_store
from subbill.storage.urls import is_store_url
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
AS_OF = date(2026, 3, 1)
COUNT = 40


def _open(database):
    return open_store(database) if is_store_url(database) else SQLiteStore(database)


def fill(path):
    store = _open(path)
    store.save_catalog(CATALOG)
    vat = TaxRate(name="TVA 20 %", percent="20")
    plans = ["essentiel", "pro", "business"]
    for index in range(COUNT):
        store.save_subscription(
            Subscription.create(
                id=f"S{index:03d}",
                customer=f"Client {index}",
                catalog=CATALOG,
                plan=plans[index % 3],
                start=date(2026, 1, 1) + timedelta(days=index),
                tax_rates=(vat,),
                modules=["crm"] if index % 4 == 0 else [],
            )
        )
    store.close()


def bill(path, die_after=None, batch_size=None, shard=0, shards=1):
    """Bill as of AS_OF; with ``die_after=N`` the process dies (os._exit) in the middle of
    the transaction of its N-th invoice, before the commit: as if killed. (A run adds a
    page's invoices at once with ``add_invoices``; ``add_invoice`` goes through it too.)"""
    store = _open(path)
    if die_after is not None:
        added = {"count": 0}
        add_invoices = store.add_invoices

        def add_then_maybe_die(invoices):
            add_invoices(invoices)
            added["count"] += len(invoices)
            if added["count"] >= die_after:
                os._exit(3)

        store.add_invoices = add_then_maybe_die
    options = {} if batch_size is None else {"batch_size": batch_size}
    if shards != 1:
        options.update(shard=shard, shards=shards)
    report = run_billing(store, as_of=AS_OF, **options)
    store.close()
    return report


if __name__ == "__main__":
    database, action, *rest = sys.argv[1:]
    if action == "bill":
        bill(
            database,
            die_after=int(rest[0]) if rest else None,
            batch_size=int(rest[1]) if len(rest) > 1 else None,
        )
    elif action == "shard":  # shard SHARD SHARDS [BATCH [DIE_AFTER]]
        bill(
            database,
            shard=int(rest[0]),
            shards=int(rest[1]),
            batch_size=int(rest[2]) if len(rest) > 2 else None,
            die_after=int(rest[3]) if len(rest) > 3 else None,
        )

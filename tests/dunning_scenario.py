"""Invoices to dun and a fake payment processor, shared by the dunning tests and the
processes they start (``python -m tests.dunning_scenario DB PROCESSOR AS_OF [DIE_AT [N]]``).

``DB`` is an SQLite file's path or a store URL; ``PROCESSOR`` the SQLite file where the
fake processor keeps what it charged, so that it outlives a killed run. ``DIE_AT`` kills
the run (``os._exit(3)``) at one point of its N-th time there:

- ``events``: inside the transaction that records a page's events, before the commit;
- ``before_charge``: the attempt recorded, before the processor is called;
- ``after_charge``: the processor charged the card, before its answer is recorded;
- ``payment``: inside the transaction that records a page's answers and payments, before
  the commit.
"""

import os
import sqlite3
import sys
from datetime import date, timedelta

from subbill import Money
from subbill.billing import draft_invoice
from subbill.dunning import DunningPolicy
from subbill.dunning_service import Charged, Declined, run_dunning
from subbill.invoices import one_time_line
from subbill.storage import SQLiteStore, open_store
from subbill.storage.urls import is_store_url

COUNT = 12
DUE = date(2027, 3, 10)
ISSUED = date(2027, 2, 8)
POLICY = DunningPolicy.standard()
#: Invoices per transaction: a run of COUNT invoices records them in three pages.
BATCH = 5
#: The days a run is made in the kill tests before the one killed: the courtesy reminders.
BEFORE = (date(2027, 3, 7),)
#: The day of the run that is killed (and of the two processes at once): the first retries
#: and the reminders of the first day after the due date, for every invoice.
KILLED_ON = date(2027, 3, 11)


def open_db(database):
    return open_store(database) if is_store_url(str(database)) else SQLiteStore(database)


def fill(database):
    """``COUNT`` invoices of 100 to 210 EUR, due on 10 March 2027, one per subscription."""
    store = open_db(database)
    with store.transaction():
        for index in range(COUNT):
            number = store.next_invoice_number(issued_on=ISSUED)
            store.add_invoice(
                draft_invoice(
                    customer=f"C{index}",
                    currency="EUR",
                    issued_on=ISSUED,
                    due_on=DUE,
                    subscription=f"S{index}",
                    lines=[one_time_line("x", "X", Money(100 + 10 * index, "EUR"))],
                ).finalize(number=number)
            )
    store.close()


class FakeProcessor:
    """A payment processor that succeeds or declines by script and keeps every charge.

    A key it has seen gets the answer it gave the first time, and no new charge: a real
    processor's idempotency keys. ``succeeds(key)`` is the script (by default: the invoices
    of even rank are charged, the others declined). It counts the calls and charges per
    key in an SQLite file (``path``), which outlives a killed run; ``die`` is called after
    a new charge is kept and before it answers (the kill tests pass ``os._exit``).
    """

    def __init__(self, path=":memory:", *, succeeds=None, die_before=None, die_after=None):
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=60)
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS charges (key TEXT PRIMARY KEY, invoice TEXT,"
            " amount TEXT, outcome TEXT, calls INTEGER)"
        )
        self.succeeds = succeeds or (lambda key: int(key.split(":")[1].rsplit("-", 1)[1]) % 2 == 0)
        self.die_before = die_before
        self.die_after = die_after

    def charge(self, invoice_number, amount, *, idempotency_key):
        if self.die_before is not None:
            self.die_before()
        self.connection.execute("BEGIN IMMEDIATE")
        row = self.connection.execute(
            "SELECT outcome FROM charges WHERE key = ?", (idempotency_key,)
        ).fetchone()
        if row is not None:
            self.connection.execute(
                "UPDATE charges SET calls = calls + 1 WHERE key = ?", (idempotency_key,)
            )
            self.connection.execute("COMMIT")
            return _outcome(row[0], idempotency_key)
        outcome = "charged" if self.succeeds(idempotency_key) else "declined"
        self.connection.execute(
            "INSERT INTO charges VALUES (?, ?, ?, ?, 1)",
            (idempotency_key, invoice_number, str(amount.amount), outcome),
        )
        self.connection.execute("COMMIT")
        if self.die_after is not None:
            self.die_after()
        return _outcome(outcome, idempotency_key)

    def charged(self):
        """``{key: (invoice, amount)}`` of every charge made (one per key, by construction)."""
        rows = self.connection.execute(
            "SELECT key, invoice, amount FROM charges WHERE outcome = 'charged' ORDER BY key"
        ).fetchall()
        return {key: (invoice, Money(amount, "EUR")) for key, invoice, amount in rows}

    def calls(self):
        """``{key: how many times it was sent}``."""
        return dict(self.connection.execute("SELECT key, calls FROM charges").fetchall())

    def close(self):
        self.connection.close()


def _outcome(outcome, key):
    if outcome == "charged":
        return Charged(reference=f"ch_{key.replace(':', '_')}")
    return Declined(reason="card_declined")


def _dying_after(count):
    seen = {"count": 0}

    def maybe_die():
        seen["count"] += 1
        if seen["count"] >= count:
            os._exit(3)

    return maybe_die


def die_after_writing(store, point, maybe_die):
    """Make ``store`` call ``maybe_die()`` after each write of ``point`` (events, payment).

    The write is made inside the run's open transaction: dying there commits nothing.
    """
    method = "add_dunning_events" if point == "events" else "add_payment"
    original = getattr(store, method)

    def then_maybe_die(*args):
        original(*args)
        maybe_die()

    setattr(store, method, then_maybe_die)


def run(database, processor, as_of, *, die_at=None, count=1):
    """Run dunning as of ``as_of`` through the processor file; maybe die at ``die_at``."""
    store = open_db(database)
    options = {}
    if die_at == "before_charge":
        options["die_before"] = _dying_after(count)
    elif die_at == "after_charge":
        options["die_after"] = _dying_after(count)
    gateway = FakeProcessor(processor, **options)
    if die_at in ("events", "payment"):
        die_after_writing(store, die_at, _dying_after(count))
    report = run_dunning(store, as_of=as_of, policy=POLICY, gateway=gateway, batch_size=BATCH)
    gateway.close()
    store.close()
    return report


def days(start, stop):
    """Every day from ``start`` to ``stop``, both included."""
    return [start + timedelta(days=n) for n in range((stop - start).days + 1)]


if __name__ == "__main__":
    database, processor, as_of, *rest = sys.argv[1:]
    run(
        database,
        processor,
        date.fromisoformat(as_of),
        die_at=rest[0] if rest else None,
        count=int(rest[1]) if len(rest) > 1 else 1,
    )

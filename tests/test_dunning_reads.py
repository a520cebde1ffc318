"""Issue 17: a dunning run reads only what it needs — the open invoices and their history.

The stores answer ``dunning_invoices(as_of=…)`` (the SQL ones from partial indexes of schema
7 for SQLite, 4 for PostgreSQL), ``dunning_events_of(numbers)`` and ``last_payment_on()``
alike; a run never reads a paid invoice, and decides on random histories exactly what
reading every invoice and the whole history decided.
"""

# ruff: noqa: S608  (the SQL of the plans is the stores' own text)

import tempfile
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money
from subbill.dunning import DunningPolicy, dunning_actions, events_of
from subbill.dunning_service import run_dunning
from subbill.errors import InvalidTypeError
from subbill.invoices import Payment
from subbill.service import correct_invoice, pay_invoice
from subbill.storage import MemoryStore, PostgresStore, SQLiteStore
from subbill.storage.postgres import SCHEMA_VERSION as POSTGRES_SCHEMA
from subbill.storage.sqlite import SCHEMA_VERSION
from tests import test_dunning_gaps
from tests.stores import as_older_schema
from tests.test_dunning_store import event, with_invoice

DUE = date(2027, 3, 10)
POLICY = DunningPolicy.standard()
any_store = test_dunning_gaps.any_store  # each store in turn (a fixture)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _five_invoices(store):
    """Open, partly paid, paid, credited in full on 12 March, and its credit note."""
    numbers = [with_invoice(store, "120.00", subscription=f"S{n}") for n in range(4)]
    pay_invoice(store, numbers[1], Payment(amount=eur("20.00"), paid_on=DUE))
    pay_invoice(store, numbers[2], Payment(amount=eur("120.00"), paid_on=DUE))
    note = correct_invoice(store, numbers[3], issued_on=DUE + timedelta(days=2)).credit_note
    return numbers, note.number


def test_the_stores_read_the_invoices_dunning_needs_and_no_settled_one(any_store):
    store = any_store
    (open_, part, paid, credited), note = _five_invoices(store)
    read = {
        day: [i.number for i in store.dunning_invoices(as_of=day)]
        for day in (DUE, DUE + timedelta(days=1), DUE + timedelta(days=2))
    }
    # Credited in full on 12 March: still owed on 10 and 11 March, no longer from the 12th.
    assert read == {
        DUE: [open_, part, credited],
        DUE + timedelta(days=1): [open_, part, credited],
        DUE + timedelta(days=2): [open_, part],
    }
    assert paid not in {n for numbers in read.values() for n in numbers}
    assert note not in {n for numbers in read.values() for n in numbers}
    assert store.dunning_invoices(as_of=DUE)[1] == store.get_invoice(part)
    assert store.last_payment_on() == DUE
    store.add_dunning_events([event(open_, "courtesy"), event(paid, "courtesy"),
                              event(open_, "reminder_1")])  # fmt: skip
    assert [e.key for e in store.dunning_events_of([open_, "F-9"])] == [
        f"{open_}/courtesy", f"{open_}/reminder_1",
    ]  # fmt: skip
    assert store.dunning_events_of([]) == []
    with pytest.raises(InvalidTypeError, match=r"invoices='F-1' must be a sequence"):
        store.dunning_events_of("F-1")


def test_an_empty_store_has_no_last_payment(tmp_path):
    assert MemoryStore().last_payment_on() is None
    store = SQLiteStore(tmp_path / "s.db")
    assert store.last_payment_on() is None
    assert store.dunning_invoices(as_of=DUE) == []
    store.close()


def test_sqlite_reads_the_open_invoices_and_the_last_payment_from_their_indexes(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    _five_invoices(store)

    def plan(sql, parameters=()):
        return " ".join(str(step) for step in store._rows(f"EXPLAIN QUERY PLAN {sql}", parameters))

    dunning = SQLiteStore._dunning
    assert "invoices_in_dunning" in plan(f"SELECT document FROM invoices WHERE {dunning.open}")
    assert "invoices_credited" in plan(
        f"SELECT document FROM invoices WHERE {dunning.credited} AND {dunning.credited_after}",
        (DUE.isoformat(),),
    )
    assert "payments_by_day" in plan(f"SELECT max({dunning.paid_on}) FROM payments")
    assert "dunning_events_by_day" in plan(f"SELECT max({dunning.event_on}) FROM dunning_events")
    store.close()


class _Watched(MemoryStore):
    """A memory store that notes every invoice a caller reads (and refuses a read of all)."""

    def __init__(self):
        super().__init__()
        self.read = set()
        self.watching = False

    def invoices(self, *, subscription=None):
        if self.watching:
            raise AssertionError("a dunning run read every invoice")
        return super().invoices(subscription=subscription)

    def dunning_events(self, *, invoice=None, subscription=None):
        if self.watching and invoice is None and subscription is None:
            raise AssertionError("a dunning run read the whole history")
        return super().dunning_events(invoice=invoice, subscription=subscription)

    def get_invoice(self, number):
        found = super().get_invoice(number)
        if found is not None:
            self.read.add(number)
        return found

    def dunning_invoices(self, *, as_of):
        found = super().dunning_invoices(as_of=as_of)
        self.read.update(i.number for i in found)
        return found


def test_a_run_never_reads_a_paid_invoice_nor_the_whole_history():
    store = _Watched()
    (open_, part, _paid, _credited), _note = _five_invoices(store)
    store.read.clear()
    store.watching = True
    # From 12 March on: the invoice credited in full that day is settled too.
    for offset in (2, 3, 8, 16):
        report = run_dunning(store, as_of=DUE + timedelta(days=offset), policy=POLICY)
        assert {a.invoice for a in report.actions} <= {open_, part}
    assert store.read == {open_, part}
    store.watching = False
    assert [(e.step, e.outcome.value) for e in store.dunning_events(invoice=open_)] == [
        ("courtesy", "skipped"),
        ("reminder_1", "taken"),
        ("reminder_7", "taken"),
        ("formal_notice", "taken"),
    ]


# -- the run decides what reading everything decided ---------------------------------------------

_day = st.integers(0, 40)


@st.composite
def histories(draw):
    """Invoices due around DUE; payments in part or in full and credit notes on some days."""
    invoices = draw(st.lists(st.tuples(st.integers(-10, 10), st.sampled_from(["50.00", "120.00"])),
                             min_size=1, max_size=4))  # fmt: skip
    runs = sorted(set(draw(st.lists(_day, min_size=1, max_size=5))))
    events = draw(
        st.lists(
            st.tuples(st.integers(0, len(invoices) - 1), _day,
                      st.sampled_from(["part", "full", "credit"])),
            max_size=4,
        )
    )  # fmt: skip
    return invoices, runs, sorted(events, key=lambda e: e[1])


def _fill(store, invoices):
    numbers = []
    for index, (offset, amount) in enumerate(invoices):
        issued = DUE - timedelta(days=30)
        with store.transaction():
            number = store.next_invoice_number(issued_on=issued)
            from subbill.billing import draft_invoice  # noqa: PLC0415
            from subbill.invoices import one_time_line  # noqa: PLC0415

            store.add_invoice(
                draft_invoice(
                    customer="ACME", currency="EUR", issued_on=issued,
                    due_on=DUE + timedelta(days=offset), subscription=f"S{index}",
                    lines=[one_time_line("pro", "Pro", eur(amount))],
                ).finalize(number=number)
            )  # fmt: skip
        numbers.append(number)
    return numbers


def _apply(store, number, what, day):
    invoice = store.get_invoice(number)
    if not invoice.amount_due.is_positive():
        return
    if what == "credit":
        correct_invoice(store, number, issued_on=day)
        return
    amount = invoice.amount_due if what == "full" else eur("10.00")
    pay_invoice(store, number, Payment(amount=amount, paid_on=day))


def _replay(store, invoices, runs, events):
    numbers = _fill(store, invoices)
    pending = list(events)
    decided_before = []
    for offset in runs:
        day = DUE - timedelta(days=10) + timedelta(days=offset)
        while pending and DUE - timedelta(days=10) + timedelta(days=pending[0][1]) <= day:
            index, when, what = pending.pop(0)
            _apply(store, numbers[index], what, DUE - timedelta(days=10) + timedelta(days=when))
        # What the run decided when it read every invoice and the whole history:
        everything = dunning_actions(
            store.invoices(), policy=DunningPolicy(steps=POLICY.steps),
            history=store.dunning_events(), as_of=day,
        )  # fmt: skip
        report = run_dunning(store, as_of=day, policy=POLICY)
        assert [e.key for e in events_of(report.actions)] == [e.key for e in events_of(everything)]
        decided_before.append([a.key for a in report.actions])
    return decided_before


@settings(max_examples=40, deadline=None)
@given(history=histories())
def test_a_run_reading_only_the_open_invoices_decides_what_reading_every_invoice_decided(
    history,
):
    invoices, runs, events = history
    in_memory = _replay(MemoryStore(), invoices, runs, events)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "s.db")
        try:
            assert _replay(store, invoices, runs, events) == in_memory
        finally:
            store.close()


# -- the schema: SQLite 6 -> 7, PostgreSQL 3 -> 4 ------------------------------------------------

_INDEXES = ("invoices_in_dunning", "invoices_credited", "payments_by_day", "dunning_events_by_day")


def test_a_schema_6_file_reads_the_open_invoices_read_only_and_gets_the_indexes_when_opened(
    tmp_path,
):
    path = tmp_path / "v6.db"
    store = SQLiteStore(path)
    (open_, part, _, credited), _ = _five_invoices(store)
    store.close()
    as_older_schema(path, 6)
    reader = SQLiteStore(path, read_only=True)  # never migrates: reads all the same
    assert [i.number for i in reader.dunning_invoices(as_of=DUE)] == [open_, part, credited]
    assert reader.last_payment_on() == DUE
    names = reader._all("SELECT name FROM sqlite_master WHERE type = 'index'")
    assert set(_INDEXES) & set(names) == set()
    reader.close()
    store = SQLiteStore(path)
    assert store._one("SELECT version FROM schema_version") == str(SCHEMA_VERSION) == "8"
    names = store._all("SELECT name FROM sqlite_master WHERE type = 'index'")
    assert set(_INDEXES) <= set(names)
    assert [i.number for i in store.dunning_invoices(as_of=DUE)] == [open_, part, credited]
    report = run_dunning(store, as_of=DUE + timedelta(days=2), policy=POLICY)
    assert [a.invoice for a in report.actions] == [open_, part]  # credited on the 12th
    store.close()


def test_a_postgresql_database_of_schema_3_gets_the_indexes_when_opened(postgres_url):
    store = PostgresStore(postgres_url)
    (open_, part, _, credited), _ = _five_invoices(store)
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for name in _INDEXES:
            connection.execute(f"DROP INDEX {name}")
        connection.execute("UPDATE schema_version SET version = 3")
    store = PostgresStore(postgres_url)
    assert store._one("SELECT version FROM schema_version") == str(POSTGRES_SCHEMA) == "4"
    names = store._all("SELECT indexname FROM pg_indexes WHERE tablename IN"
                       " ('invoices', 'payments', 'dunning_events')")  # fmt: skip
    assert set(_INDEXES) <= set(names)
    assert [i.number for i in store.dunning_invoices(as_of=DUE)] == [open_, part, credited]
    assert store.last_payment_on() == DUE
    store.close()


def test_a_damaged_invoice_row_is_read_by_dunning_and_named(tmp_path):
    # The indexes fail safe: a document that is not JSON stays writable and is read (its
    # reader names it), never left out of dunning.
    from subbill.storage.errors import StoredDataError  # noqa: PLC0415

    store = SQLiteStore(tmp_path / "s.db")
    (_, part, paid, _), _ = _five_invoices(store)
    store._execute("UPDATE invoices SET document = 'not json' WHERE number = ?", (paid,))
    with pytest.raises(StoredDataError) as damaged:
        store.dunning_invoices(as_of=DUE)
    assert (damaged.value.table, damaged.value.key) == ("invoices", paid)
    store._execute("UPDATE payments SET document = 'not json' WHERE invoice_number = ?", (part,))
    assert store.last_payment_on() == DUE  # the other invoice's payment
    store.close()


def test_an_invoice_credited_between_the_two_reads_is_read_once(tmp_path):
    # The open invoices and the credited ones are two reads: an invoice credited in full by
    # another process between them (its credit note dated after as_of) was in both.
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    number = with_invoice(store, "120.00")
    read = store._rows

    def then_credit(sql, parameters=()):
        rows = read(sql, parameters)
        if SQLiteStore._dunning.open in sql:
            other = SQLiteStore(path)
            correct_invoice(other, number, issued_on=DUE + timedelta(days=5))
            other.close()
        return rows

    store._rows = then_credit
    assert [i.number for i in store.dunning_invoices(as_of=DUE)] == [number]
    store.close()

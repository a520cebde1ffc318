"""SQLite schema 8 (issue 13, the write side): dunning's facts in columns of the invoices.

Up to schema 7 two partial indexes evaluated SQL predicates over each invoice's JSON document
on every insert and update. Schema 8 holds those facts in two INTEGER columns
(``in_dunning``, ``credited``) the store writes with the document; the partial indexes are
over the columns. These tests pin that the columns always equal schema 7's predicates run on
the document — whatever the store writes (every shape and status, inserted or replaced, or a
document damaged by hand) and after the migration of a schema 7 file — so that dunning reads
exactly the invoices it read before.
"""

# ruff: noqa: S608  (the SQL is the schema's own text)

import sqlite3
import tempfile
from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money
from subbill.billing import draft_invoice
from subbill.invoices import Invoice, InvoiceStatus, Payment, one_time_line
from subbill.service import correct_invoice, pay_invoice
from subbill.storage import SQLiteStore
from subbill.storage._sql import dunning_facts, invoice_text
from subbill.storage.sqlite import _MIGRATIONS, SCHEMA_VERSION
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions
from tests.test_dunning_store import DUE, with_invoice
from tests.test_persisted_run_write import _invoices_of_every_shape


def _schema_7_predicate(index: str) -> str:
    """The ``WHERE`` of schema 7's partial index ``index``, as its migration created it."""
    for statement in _MIGRATIONS[6]:
        if statement.startswith(f"CREATE INDEX {index} "):
            return statement.split(" WHERE ", 1)[1]
    raise AssertionError(f"schema 7 creates no index {index}")  # pragma: no cover


OLD_OPEN = _schema_7_predicate("invoices_in_dunning")
OLD_CREDITED = _schema_7_predicate("invoices_credited")
#: Schema 7's second dunning read, the paid invoices credited after the parameter.
OLD_CREDITED_AFTER = (
    "CASE WHEN json_valid(document) THEN json_extract(document, '$.data.status') END = 'paid'"
    " AND coalesce(CASE WHEN json_valid(document) THEN json_extract(document, '$.data.kind')"
    " END, 'invoice') = 'invoice' AND EXISTS (SELECT 1 FROM json_each(CASE WHEN"
    " json_valid(document) THEN document END, '$.data.corrections')"
    " WHERE json_extract(value, '$.credited_on') > ?)"
)


def _columns_and_predicates(connection) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    """Each invoice row: its number, its two columns, and schema 7's predicates (0 or 1)."""
    rows = connection.execute(
        f"SELECT number, in_dunning, credited, CASE WHEN {OLD_OPEN} THEN 1 ELSE 0 END,"
        f" CASE WHEN {OLD_CREDITED} THEN 1 ELSE 0 END FROM invoices ORDER BY position"
    ).fetchall()
    return [(number, (a, b), (c, d)) for number, a, b, c, d in rows]


def _renumbered(invoices: list[Invoice]) -> list[Invoice]:
    """The numbered ones, each under a number of its own (T-1, T-2, …)."""
    numbered = [invoice for invoice in invoices if invoice.number is not None]
    return [attrs.evolve(invoice, number=f"T-{n}") for n, invoice in enumerate(numbered, 1)]


@settings(max_examples=60, deadline=None)
@given(billing_subscriptions(), as_of_dates, st.integers(1, 400), st.integers(0, 5))
def test_dunning_columns_equal_the_predicates_of_the_document(plan, as_of, days, shift):
    # Every shape the store writes — open, paid, credited invoices and credit notes,
    # inserted (the columns given with the row), replaced by save_invoice with another
    # shape, or damaged by hand (the trigger sets them from the document).
    shapes = _renumbered(list(_invoices_of_every_shape(plan, as_of, days)))
    if not shapes:
        return
    store = SQLiteStore(":memory:")
    try:
        store.add_invoices(shapes)
        found = _columns_and_predicates(store._connection)
        assert [number for number, _, _ in found] == [i.number for i in shapes]
        for (_, columns, predicates), invoice in zip(found, shapes, strict=True):
            assert columns == predicates == dunning_facts(invoice)
        # Each row replaced with another shape (under the row's number).
        for index, invoice in enumerate(shapes):
            other = shapes[(index + shift + 1) % len(shapes)]
            if other.corrects == invoice.number:
                continue  # a credit note never bears the number it corrects
            store.save_invoice(attrs.evolve(other, number=invoice.number))
        for _, columns, predicates in _columns_and_predicates(store._connection):
            assert columns == predicates
        store._execute("UPDATE invoices SET document = 'not json' WHERE number = 'T-1'")
        for _, columns, predicates in _columns_and_predicates(store._connection):
            assert columns == predicates
        assert _columns_and_predicates(store._connection)[0][1] == (1, 0)  # read by dunning
    finally:
        store.close()


def test_a_payment_and_a_credit_note_keep_the_columns_true(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    numbers = [with_invoice(store, "120.00", subscription=f"S{n}") for n in range(4)]
    pay_invoice(store, numbers[1], Payment(amount=Money("20.00", "EUR"), paid_on=DUE))
    pay_invoice(store, numbers[2], Payment(amount=Money("120.00", "EUR"), paid_on=DUE))
    note = correct_invoice(store, numbers[3], issued_on=DUE).credit_note
    found = {number: columns for number, columns, _ in _columns_and_predicates(store._connection)}
    assert found == {
        numbers[0]: (1, 0),  # open
        numbers[1]: (1, 0),  # partly paid
        numbers[2]: (0, 0),  # paid
        numbers[3]: (0, 1),  # credited in full: settled, and credited
        note.number: (0, 0),  # a credit note is never dunned
    }
    assert all(c == p for _, c, p in _columns_and_predicates(store._connection))
    store.close()


def test_a_row_inserted_by_hand_without_its_facts_is_read_by_dunning(tmp_path):
    # Unknown facts fail safe: the row is read, and its reader decides (as for a damaged
    # document before schema 8).
    store = SQLiteStore(tmp_path / "s.db")
    number = with_invoice(store, "120.00")
    paid = store.get_invoice(number)
    store._execute(
        "INSERT INTO invoices (number, subscription, customer, issued_on, document)"
        " VALUES ('H-1', 'S9', 'ACME', ?, ?)",
        (paid.issued_on.isoformat(), invoice_text(attrs.evolve(paid, number="H-1"))),
    )
    assert [i.number for i in store.dunning_invoices(as_of=DUE)] == [number, "H-1"]
    store.close()


# -- a schema 7 file, as the previous subbill wrote it ------------------------------------------


def _schema_7_file(path: Path, invoices: list[Invoice], *, damaged: bool) -> None:
    """An SQLite file of schema 7 (its migrations' statements) holding ``invoices``' rows.

    Each row as schema 7's store wrote it (no dunning columns); ``damaged`` adds a row
    whose document is not JSON.
    """
    connection = sqlite3.connect(path)
    try:
        for statements in _MIGRATIONS[:7]:
            for statement in statements:
                connection.execute(statement)
        connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        connection.execute("INSERT INTO schema_version (version) VALUES (7)")
        rows = [
            (i.number, i.subscription, i.customer, i.issued_on.isoformat(), invoice_text(i))
            for i in invoices
        ]
        if damaged:
            rows.append(("D-1", "S9", "ACME", "2026-01-01", "not json"))
        connection.executemany(
            "INSERT INTO invoices (number, subscription, customer, issued_on, document)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        connection.commit()
    finally:
        connection.close()


def _dunning_positions(connection, open_: str, credited: str, day: str) -> list[int]:
    """The positions dunning reads as of ``day`` with the two ``WHERE``s of one schema."""
    read = connection.execute(f"SELECT position FROM invoices WHERE {open_}").fetchall()
    read += connection.execute(
        f"SELECT position FROM invoices WHERE {credited} AND {OLD_CREDITED_AFTER}", (day,)
    ).fetchall()
    return sorted({position for (position,) in read})


def _history(plan, as_of, days) -> list[Invoice]:
    """Invoices of every shape, and each open one paid in part, under numbers T-1, T-2, …"""
    shapes = [i for i in _invoices_of_every_shape(plan, as_of, days) if i.number is not None]
    part_paid = [
        invoice.apply_payment(
            Payment(amount=Money("0.01", invoice.currency), paid_on=invoice.issued_on)
        ).invoice
        for invoice in shapes
        if invoice.status is InvoiceStatus.OPEN
        and invoice.amount_due > Money("0.01", invoice.currency)
    ]
    return _renumbered(shapes + part_paid)


@settings(max_examples=25, deadline=None)
@given(billing_subscriptions(), as_of_dates, st.integers(1, 400), st.booleans())
def test_a_schema_7_file_migrates_and_dunning_reads_the_same_invoices(plan, as_of, days, damaged):
    invoices = _history(plan, as_of, days)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "v7.db"
        _schema_7_file(path, invoices, damaged=damaged)
        days_read = [as_of + timedelta(days=offset) for offset in (-1, 0, days, days + 400)]
        with sqlite3.connect(path) as raw:
            before = {
                d: _dunning_positions(raw, OLD_OPEN, OLD_CREDITED, d.isoformat()) for d in days_read
            }
        # Read-only, a schema 7 file is read as it is (from the documents).
        reader = SQLiteStore(path, read_only=True)
        if not damaged:
            for d in days_read:
                read = [i.number for i in reader.dunning_invoices(as_of=d)]
                assert read == [invoices[p - 1].number for p in before[d]]
        reader.close()
        store = SQLiteStore(path)  # migrates to schema 8
        assert store._one("SELECT version FROM schema_version") == str(SCHEMA_VERSION) == "8"
        found = _columns_and_predicates(store._connection)
        assert len(found) == len(invoices) + damaged
        assert all(columns == predicates for _, columns, predicates in found)
        dunning = SQLiteStore._dunning
        for d in days_read:
            after = _dunning_positions(store._connection, dunning.open, dunning.credited, d)
            assert after == before[d]
            if not damaged:
                read = [i.number for i in store.dunning_invoices(as_of=d)]
                assert read == [invoices[p - 1].number for p in before[d]]
        store.close()


def test_a_migrated_file_keeps_its_invoices_and_their_indexes(tmp_path):
    path = tmp_path / "v7.db"
    store = SQLiteStore(tmp_path / "source.db")
    numbers = [with_invoice(store, "120.00", subscription=f"S{n}") for n in range(3)]
    pay_invoice(store, numbers[1], Payment(amount=Money("120.00", "EUR"), paid_on=DUE))
    correct_invoice(store, numbers[2], issued_on=DUE + timedelta(days=3))
    invoices = store.invoices()
    store.close()
    _schema_7_file(path, invoices, damaged=False)
    with sqlite3.connect(path) as raw:  # the numbers issued so far, as the store kept them
        raw.execute(
            "INSERT INTO invoice_sequence (id, last_number, last_issued_on) VALUES (1, ?, ?)",
            (invoices[-1].number, invoices[-1].issued_on.isoformat()),
        )
    store = SQLiteStore(path)
    assert store.invoices() == invoices
    assert [i.number for i in store.dunning_invoices(as_of=DUE)] == [numbers[0], numbers[2]]
    assert [i.number for i in store.dunning_invoices(as_of=DUE + timedelta(days=3))] == [numbers[0]]
    names = set(store._all("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger')"))
    assert {
        "invoices_by_subscription",
        "invoices_in_dunning",
        "invoices_credited",
        "invoices_dunning_facts",
    } <= names
    # New invoices after the migration take the next positions and numbers.
    day = DUE + timedelta(days=3)
    with store.transaction():
        later = store.next_invoice_number(issued_on=day)
        store.add_invoice(
            draft_invoice(customer="ACME", currency="EUR", issued_on=day, subscription="S9",
                          lines=[one_time_line("pro", "Pro", Money("50.00", "EUR"))],
                          ).finalize(number=later)
        )  # fmt: skip
    assert [i.number for i in store.invoices()] == [*(i.number for i in invoices), later]
    store.close()


@pytest.mark.parametrize("sql", ["open", "credited"])
def test_the_dunning_reads_use_the_partial_indexes_of_the_columns(tmp_path, sql):
    store = SQLiteStore(tmp_path / "s.db")
    with_invoice(store, "120.00")
    dunning = SQLiteStore._dunning
    where = dunning.open if sql == "open" else f"{dunning.credited} AND {dunning.credited_after}"
    plan = store._rows(f"EXPLAIN QUERY PLAN SELECT document FROM invoices WHERE {where}",
                       () if sql == "open" else (DUE.isoformat(),))  # fmt: skip
    assert f"invoices_{'in_dunning' if sql == 'open' else 'credited'}" in str(plan)
    assert "json" not in dunning.open + dunning.credited  # no JSON parsed to find them
    store.close()


def test_inserting_an_invoice_evaluates_no_json_function(tmp_path):
    # The point of schema 8: an insert parses no JSON (SQLite's functions would run in
    # a partial index's predicate or a trigger).
    store = SQLiteStore(tmp_path / "s.db")
    called = []
    store._connection.create_function(
        "json_valid", 1, lambda text: called.append(text) or 1, deterministic=True
    )
    with_invoice(store, "120.00", issued=date(2027, 2, 1))
    assert called == []
    store.close()

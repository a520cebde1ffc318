"""The PostgreSQL store on a real server (started on loopback by tests/conftest.py).

Its agreement with the memory and SQLite stores is proven by the state machine of
tests/test_storage.py (a third store there); here: the schema, typed errors, damaged rows,
and the lock that serialises write transactions as SQLite's ``BEGIN IMMEDIATE`` does.
"""

import threading
import time
from datetime import date

import psycopg
import pytest

from subbill.errors import InvalidArgumentError, InvalidTypeError, StorageError
from subbill.service import run_billing
from subbill.storage import PostgresStore, open_store
from subbill.storage.errors import (
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StoredDataError,
)
from subbill.storage.postgres import SCHEMA_VERSION
from tests.postgres_server import _free_port
from tests.seed_catalog import seed_catalog
from tests.service_scenario import AS_OF, COUNT, bill, fill
from tests.stores import fill_every_table, snapshot

CATALOG = seed_catalog()
START = date(2026, 1, 1)


def _sql(url, statement, parameters=()):
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.execute(statement, parameters)
        return cursor.fetchall() if cursor.description else None


def expected_numbers(count):
    return [f"F-2026-{n:06d}" for n in range(1, count + 1)]


def test_open_store_opens_a_postgresql_url(postgres_url):
    store = open_store(postgres_url)
    assert isinstance(store, PostgresStore)
    assert _sql(postgres_url, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    store.close()


def test_a_reopened_database_keeps_its_data_and_its_schema(postgres_url):
    store = fill_every_table(PostgresStore(postgres_url), CATALOG, on=START)
    before = snapshot(store)
    store.close()
    again = PostgresStore(postgres_url)
    assert snapshot(again) == before
    assert [i.number for i in again.invoices()] == ["F-2026-000001"]
    assert _sql(postgres_url, "SELECT count(*) FROM schema_version") == [(1,)]


def test_processes_opening_a_new_database_at_once_create_its_schema_once(postgres_server):
    for _ in range(3):
        url = postgres_server.new_database()
        ready = threading.Barrier(4)
        outcomes = []

        def open_it(url=url, ready=ready, outcomes=outcomes):
            ready.wait()
            try:
                PostgresStore(url).close()
                outcomes.append("opened")
            except StorageError as error:
                outcomes.append(error)

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == ["opened"] * 4
        assert _sql(url, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_newer_schema_is_refused_with_a_storage_error(postgres_url):
    PostgresStore(postgres_url).close()
    _sql(postgres_url, "UPDATE schema_version SET version = 99")
    newer = f"schema version 99, newer than this subbill's {SCHEMA_VERSION}"
    with pytest.raises(StorageError, match=newer):
        PostgresStore(postgres_url)


def test_a_server_that_does_not_answer_is_a_typed_error():
    url = f"postgresql://subbill@127.0.0.1:{_free_port()}/none"
    with pytest.raises(StorageError, match="cannot reach the PostgreSQL server") as refused:
        PostgresStore(url, connect_timeout=2)
    assert isinstance(refused.value.__cause__, psycopg.OperationalError)
    assert "127.0.0.1" in str(refused.value)


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        (None, InvalidTypeError, "url=None must be a PostgreSQL URL or conninfo"),
        ("host=x =y", InvalidArgumentError, "must be a PostgreSQL URL"),
    ],
)
def test_a_bad_url_is_refused_before_any_connection(url, error, message):
    with pytest.raises(error, match=message):
        PostgresStore(url)


def test_a_password_is_never_shown_in_an_error():
    url = f"postgresql://subbill:s3cret@127.0.0.1:{_free_port()}/none"
    with pytest.raises(StorageError) as refused:
        PostgresStore(url, connect_timeout=1)
    assert "s3cret" not in str(refused.value)
    assert str(refused.value).startswith(f"postgresql://subbill@127.0.0.1:{url.split(':')[3]}")


def test_a_lock_held_too_long_is_a_typed_error_saying_how_long_it_waited(postgres_url):
    store = PostgresStore(postgres_url, timeout=0.2)
    with psycopg.connect(postgres_url) as holder:  # another process inside a transaction
        holder.execute("SELECT 1 FROM invoice_sequence FOR UPDATE")
        with pytest.raises(DatabaseLockedError, match=r"waited 0.2 s") as locked:
            store.save_catalog(CATALOG)
        assert isinstance(locked.value.__cause__, psycopg.errors.LockNotAvailable)
        holder.rollback()
    assert store.load_catalog() is None  # nothing written
    store.save_catalog(CATALOG)  # the lock released: the same store goes on
    assert store.load_catalog() == CATALOG


class _Failing:
    """A connection whose every statement fails with ``error`` (a psycopg exception)."""

    def __init__(self, error):
        self.error = error

    def execute(self, *_args):
        raise self.error

    def close(self):
        pass


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (psycopg.errors.SerializationFailure("could not serialize"), StorageError, "run it again"),
        (psycopg.errors.DeadlockDetected("deadlock detected"), StorageError, "conflicted"),
        (psycopg.errors.DiskFull("could not extend file"), DiskFullError, "disk is full"),
        (psycopg.errors.ReadOnlySqlTransaction("read-only"), ReadOnlyDatabaseError, "read-only"),
        (psycopg.errors.QueryCanceled("lock timeout"), DatabaseLockedError, "locked"),
        (psycopg.OperationalError("server closed the connection"), StorageError, "cannot reach"),
        (psycopg.InterfaceError("the connection is closed"), StorageError, "cannot reach"),
    ],
)
def test_every_driver_error_is_a_typed_storage_error(postgres_url, error, kind, message):
    store = PostgresStore(postgres_url)
    store._connection = _Failing(error)  # the server fails every statement from now on
    for call in (
        lambda: store.save_catalog(CATALOG),
        store.load_catalog,
        lambda: run_billing(store, as_of=AS_OF),
    ):
        with pytest.raises(kind, match=message) as raised:
            call()
        assert raised.value.__cause__ is error
        assert not isinstance(raised.value, psycopg.Error)


@pytest.mark.parametrize(
    ("table", "key_column", "key", "read"),
    [
        ("subscriptions", "id", "S1", lambda s: s.get_subscription("S1")),
        ("billing_states", "subscription_id", "S1", lambda s: s.get_billing_state("S1")),
        ("catalog", "id", 1, lambda s: s.load_catalog()),
        ("quotes", "id", "Q1", lambda s: s.get_quote("Q1")),
        ("invoices", "number", "F-2026-000001", lambda s: s.invoices()),
        ("license_accounts", "customer", "ACME", lambda s: s.license_accounts()),
    ],
)
def test_a_damaged_row_is_named_by_table_and_key(postgres_url, table, key_column, key, read):
    store = fill_every_table(PostgresStore(postgres_url), CATALOG, on=START)
    _sql(
        postgres_url,
        f'UPDATE {table} SET document = \'{{"version": 99, "data": {{}}}}\' '  # noqa: S608
        f"WHERE {key_column} = %s",
        (key,),
    )
    with pytest.raises(StoredDataError) as damaged:
        read(store)
    assert damaged.value.table == table
    assert str(key) in str(damaged.value.key)


def test_a_damaged_subscription_fails_alone_in_a_run(postgres_url):
    fill(postgres_url)
    _sql(postgres_url, "UPDATE subscriptions SET document = '[1]' WHERE id = 'S003'")
    report = bill(postgres_url)
    assert [f.subscription for f in report.failures] == ["S003"]
    assert isinstance(report.failures[0].error, StoredDataError)
    assert report.invoice_count == COUNT - 1


def test_a_subscription_stored_under_another_id_is_a_damaged_row(postgres_url):
    # As in SQLite (tests/test_service.py): S004's document copied into row S003 billed
    # S004 twice, and get_subscription("S003") returned S004.
    fill(postgres_url)
    _sql(
        postgres_url,
        "UPDATE subscriptions SET document = (SELECT document FROM subscriptions"
        " WHERE id = 'S004') WHERE id = 'S003'",
    )
    report = bill(postgres_url)
    assert [f.subscription for f in report.failures] == ["S003"]
    assert "it holds subscription 'S004'" in str(report.failures[0].error)
    assert report.invoice_count == COUNT - 1
    store = PostgresStore(postgres_url)
    assert [i.subscription for i in store.invoices()].count("S004") == 1
    with pytest.raises(StoredDataError, match="stored under another id"):
        store.get_subscription("S003")
    store.close()


def test_numbers_are_gapless_and_roll_back_with_their_transaction(postgres_url):
    store = PostgresStore(postgres_url)

    def reserve_then_fail():
        with store.transaction():
            store.reserve_invoice_numbers(3, issued_on=AS_OF)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        reserve_then_fail()
    assert store.last_issued_on() is None
    assert store.reserve_invoice_numbers(2, issued_on=AS_OF) == expected_numbers(2)


def _waiting_for_a_lock(url):
    rows = _sql(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND wait_event_type = 'Lock'",
    )
    return rows[0][0] > 0


def test_a_run_writing_its_page_serialises_with_another_run_so_each_bills_once(postgres_url):
    # Run A bills its first page outside any lock, opens its write transaction and checks
    # its rows' versions: none moved. Then run B (another connection) bills everything. In
    # READ COMMITTED nothing would stop B from committing while A's transaction is open,
    # and A would then write the page B already billed: 48 invoices for 40 subscriptions.
    # Every transaction of the store takes the counter's row lock first, so B waits for A
    # to commit, then finds A's rows moved and bills them again: nothing is due twice.
    fill(postgres_url)
    store = PostgresStore(postgres_url)
    check = store.billing_versions
    other = {}

    def check_then_race(ids):
        versions = check(ids)
        if "run" not in other:
            other["run"] = threading.Thread(
                target=lambda: other.setdefault("report", bill(postgres_url))
            )
            other["run"].start()
            deadline = time.monotonic() + 120
            while other["run"].is_alive() and not _waiting_for_a_lock(postgres_url):
                assert time.monotonic() < deadline, "run B neither finished nor waited"
                time.sleep(0.02)
        return versions

    store.billing_versions = check_then_race
    report = run_billing(store, as_of=AS_OF, batch_size=8)
    other["run"].join(timeout=120)
    invoices = store.invoices()
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]
    assert [i.number for i in invoices] == expected_numbers(COUNT)
    assert report.invoice_count + other["report"].invoice_count == COUNT
    assert report.invoice_count >= 8  # A wrote its first page; B billed what was left


def test_the_counter_row_survives_being_emptied_by_hand(postgres_url):
    # The lock every transaction takes is the counter's row: a schema without it (a
    # database emptied by hand) is refused with a typed error, never written unlocked.
    store = PostgresStore(postgres_url)
    _sql(postgres_url, "DELETE FROM invoice_sequence")
    with pytest.raises(StorageError, match="invoice_sequence"):
        store.save_catalog(CATALOG)
    assert store.load_catalog() is None

"""Usage records in the stores (issue 15): idempotent by key, read a page at a time by day.

The state machine of tests/test_storage.py proves the memory, SQLite and PostgreSQL stores
agree on them; here: worked examples, the schema migrations, typed errors, damaged rows, and
what a bill run reads of them.
"""

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import psycopg
import pytest

from subbill import InvalidArgumentError, InvalidTypeError, Subscription, bill_subscription
from subbill.errors import InvalidDateError, OutOfBoundsError
from subbill.metering import UsageRecord
from subbill.service import run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage._arguments import LATEST_BEFORE
from subbill.storage.codec import StoredDataError
from subbill.storage.postgres import SCHEMA_VERSION as POSTGRES_SCHEMA
from subbill.storage.postgres import PostgresStore
from subbill.storage.sqlite import SCHEMA_VERSION
from tests.seed_catalog import seed_catalog
from tests.stores import snapshot

CATALOG = seed_catalog()
MARCH = date(2026, 3, 1)
FORMAT_V3_DB = Path(__file__).parent / "fixtures" / "format_v3.db"


def record(key, quantity=1, day=2, *, subscription="S1", metric="api_calls", **properties):
    return UsageRecord(
        subscription=subscription,
        metric=metric,
        quantity=quantity,
        used_on=date(2026, 3, day),
        key=key,
        properties=properties,
    )


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "s.db")
    else:  # a new database on the session's server (skipped where PostgreSQL is missing)
        opened = PostgresStore(request.getfixturevalue("postgres_url"))
    yield opened
    opened.close()


# -- idempotent, all or nothing ----------------------------------------------------------------


def test_a_record_sent_twice_is_stored_once_and_counted_new_once(store):
    first = [record("evt_1", 3), record("evt_2", 5, 4), record("evt_1", 3)]
    assert store.add_usage_records(first) == 2
    assert store.add_usage_records(first) == 0  # the same file loaded again: nothing new
    # The same content with a quantity written otherwise ("3.0") is the same record.
    assert store.add_usage_records([record("evt_1", "3.0"), record("evt_3", 1, 5)]) == 1
    assert store.usage_record_count() == 3


def test_a_key_stored_for_another_record_refuses_the_whole_batch_naming_it(store):
    store.add_usage_records([record("evt_1", 3)])
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError) as refused:
        store.add_usage_records([record("evt_2", 1), record("evt_1", 4), record("evt_3", 1)])
    assert str(refused.value) == (
        "key='evt_1' of subscription 'S1' is stored already for another record (api_calls 3 "
        "on 2026-03-02, given: api_calls 4 on 2026-03-02); a key names one record: nothing "
        "was added"
    )
    assert snapshot(store) == before  # neither evt_2 (before it) nor evt_3 was added


def test_two_records_under_one_key_in_a_batch_are_refused_before_anything_is_read(store):
    with pytest.raises(InvalidArgumentError, match=r"^key='evt_1' of subscription 'S1' names"):
        store.add_usage_records([record("evt_1", 3), record("evt_1", 3, user="u_1")])
    assert store.usage_record_count() == 0


def test_a_key_belongs_to_its_subscription(store):
    assert store.add_usage_records([record("evt_1", 3), record("evt_1", 7, subscription="S2")]) == 2
    found = store.usage_records(["S2", "S1"], before=LATEST_BEFORE)
    assert list(found) == ["S2", "S1"]
    assert [r.quantity for r in found["S1"]] == [3]
    assert [r.quantity for r in found["S2"]] == [7]


def test_a_refused_batch_inside_a_transaction_undoes_only_itself(store):
    with store.transaction():
        store.add_usage_records([record("evt_1", 3)])
        with pytest.raises(InvalidArgumentError):
            store.add_usage_records([record("evt_2", 1), record("evt_1", 4)])
        store.add_usage_records([record("evt_4", 1)])
    keys = [r.key for r in store.usage_records(["S1"], before=LATEST_BEFORE)["S1"]]
    assert keys == ["evt_1", "evt_4"]


# -- read by page and date ---------------------------------------------------------------------


def test_a_page_reads_every_id_asked_with_its_records_before_the_day_by_day_then_key(store):
    store.add_usage_records(
        [
            record("b", 1, 10),
            record("a", 2, 10),
            record("z", 3, 1),
            record("late", 4, 31),
            record("x", 5, 2, subscription="S2", user="u_1"),
        ]
    )
    found = store.usage_records(["S1", "S3", "S2", "S1"], before=date(2026, 3, 31))
    assert list(found) == ["S1", "S3", "S2"]  # each once, in the order asked; S3 has none
    assert [(r.key, r.used_on.day) for r in found["S1"]] == [("z", 1), ("a", 10), ("b", 10)]
    assert found["S3"] == []
    assert found["S2"] == [record("x", 5, 2, subscription="S2", user="u_1")]
    assert dict(found["S2"][0].properties) == {"user": "u_1"}
    assert store.usage_records([], before=MARCH) == {}


@pytest.mark.parametrize(
    ("ids", "before", "error", "message"),
    [
        ("S1", MARCH, InvalidTypeError, "subscription_ids='S1' must be a list of str"),
        ([3], MARCH, InvalidTypeError, "subscription_ids[0]=3 must be a str"),
        (["S1"], "2026-03-01", InvalidDateError, "before='2026-03-01' must be a datetime.date"),
        (["S1"], date(9999, 1, 1), OutOfBoundsError, "before=datetime.date(9999, 1, 1) must be"),
    ],
)
def test_reading_usage_records_checks_its_arguments_typed(store, ids, before, error, message):
    with pytest.raises(error) as refused:
        store.usage_records(ids, before=before)
    assert str(refused.value).startswith(message)


def test_adding_something_else_than_usage_records_is_refused_typed(store):
    with pytest.raises(InvalidTypeError, match=r"^records\[1\]='evt' must be an? UsageRecord$"):
        store.add_usage_records([record("evt_1"), "evt"])
    assert store.usage_record_count() == 0


# -- SQLite: schema 5, documents, damaged rows -------------------------------------------------


def test_a_usage_record_is_stored_keyed_by_subscription_and_key_its_document_without_them(
    tmp_path,
):
    store = SQLiteStore(tmp_path / "s.db")
    store.add_usage_records([record("evt_1", "2.5", user="u_1")])
    rows = store._rows("SELECT subscription, key, used_on, document FROM usage_records")
    assert rows == [
        (
            "S1",
            "evt_1",
            "2026-03-02",
            (
                '{"data":{"metric":"api_calls","properties":{"user":"u_1"},"quantity":"2.5"},'
                '"version":4}'
            ),
        )
    ]
    plan = store._rows(
        "EXPLAIN QUERY PLAN SELECT key FROM usage_records WHERE subscription IN (?, ?)"
        " AND used_on < ?",
        ("S1", "S2", "2026-04-01"),
    )
    assert "usage_records_by_day" in " ".join(str(step) for step in plan)
    store.close()


def _as_schema_4(path):
    """A database file as subbill wrote it before usage records (schema 4)."""
    SQLiteStore(path).close()
    raw = sqlite3.connect(path)
    # 5 and 6's tables, 7's indexes
    for index in (
        "invoices_in_dunning",
        "invoices_credited",
        "payments_by_day",
        "dunning_events_by_day",
    ):
        raw.execute(f"DROP INDEX {index}")
    for table in ("usage_records", "dunning_events", "charge_attempts", "dunning_outbox"):
        raw.execute(f"DROP TABLE {table}")
    raw.execute("UPDATE schema_version SET version = 4")
    raw.commit()
    raw.close()


def test_a_schema_4_file_reads_no_usage_read_only_and_gets_the_table_when_opened(tmp_path):
    path = tmp_path / "v4.db"
    _as_schema_4(path)
    reader = SQLiteStore(path, read_only=True)  # never migrates: reads as having none
    assert reader.usage_records(["S1"], before=MARCH) == {"S1": []}
    assert reader.usage_record_count() == 0
    reader.close()
    store = SQLiteStore(path)
    assert store._one("SELECT version FROM schema_version") == str(SCHEMA_VERSION) == "8"
    assert store.add_usage_records([record("evt_1")]) == 1
    store.close()


def test_a_schema_3_file_is_migrated_through_4_to_5_and_stores_usage(tmp_path):
    path = tmp_path / "v3.db"
    shutil.copyfile(FORMAT_V3_DB, path)
    store = SQLiteStore(path)
    assert store.usage_record_count() == 0
    store.add_usage_records([record("evt_1")])
    assert store.usage_records(["S1"], before=LATEST_BEFORE) == {"S1": [record("evt_1")]}
    assert run_billing(store, as_of=date(2027, 6, 1)).is_complete
    store.close()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("document", '{"version": 4, "data": {"metric": "c"}}', "cannot be read back"),
        ("document", b"\xff\xfe", "is not UTF-8 text"),
        ("used_on", "2026-13-01", "cannot be read back"),
    ],
)
def test_a_damaged_usage_row_is_named_by_table_subscription_and_key(
    tmp_path, column, value, message
):
    store = SQLiteStore(tmp_path / "s.db")
    store.add_usage_records([record("evt_1"), record("evt_2")])
    store._connection.execute(
        f"UPDATE usage_records SET {column} = ? WHERE key = 'evt_2'",  # noqa: S608
        (value,),
    )
    with pytest.raises(StoredDataError) as damaged:
        store.usage_records(["S1"], before=LATEST_BEFORE)
    assert str(damaged.value).startswith("usage_records row 'S1/evt_2': ")
    assert message in str(damaged.value)
    with pytest.raises(StoredDataError, match="usage_records row 'S1/evt_2'"):
        store.add_usage_records([record("evt_2")])  # its key is looked up: read back, damaged
    store.close()


# -- a bill run reads each page's usage records once -------------------------------------------


class _CountingStore:
    """A store that counts its ``usage_records`` calls (and the ids and day of each)."""

    def __init__(self, store):
        self._store = store
        self.calls = []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def usage_records(self, subscription_ids, *, before):
        self.calls.append((list(subscription_ids), before))
        return self._store.usage_records(subscription_ids, before=before)


def _subscriptions(store, count):
    store.save_catalog(CATALOG)
    for number in range(count):
        store.save_subscription(
            Subscription.create(
                id=f"S{number}", customer=f"C{number}", catalog=CATALOG, plan="pro", start=MARCH
            )
        )


def test_a_bill_run_reads_the_usage_records_of_each_page_in_one_call(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    _subscriptions(store, 5)
    counting = _CountingStore(store)
    report = run_billing(counting, as_of=MARCH, batch_size=2)
    assert report.invoice_count == 5
    assert counting.calls == [
        (["S0", "S1"], date(2026, 3, 2)),
        (["S2", "S3"], date(2026, 3, 2)),
        (["S4"], date(2026, 3, 2)),
    ]
    store.close()


def test_a_damaged_usage_record_fails_its_own_subscription_only(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    _subscriptions(store, 3)
    store.add_usage_records(
        [record("evt_1", 1, 1, subscription="S1"), record("e", 1, 1, subscription="S2")]
    )
    store._connection.execute("UPDATE usage_records SET document = '{' WHERE key = 'evt_1'")
    report = run_billing(store, as_of=MARCH)
    assert [f.subscription for f in report.failures] == ["S1"]
    assert isinstance(report.failures[0].error, StoredDataError)
    assert "usage_records row 'S1/evt_1'" in str(report.failures[0].error)
    assert report.invoice_count == 2  # S0 and S2 billed, S1 not (nothing of it written)
    assert store.get_billing_state("S1") is None
    store.close()


def test_a_bill_run_gives_the_engine_each_page_usage_records(tmp_path, monkeypatch):
    # service._billed passes the engine each subscription's own records, those dated up to
    # as_of: never a later one, never another subscription's.
    store = SQLiteStore(tmp_path / "s.db")
    _subscriptions(store, 2)
    store.add_usage_records(
        [
            record("in", 4, 1, subscription="S1"),
            record("later", 5, 2, subscription="S1"),
            record("other", 6, 1, subscription="S0"),
        ]
    )
    given = {}

    def engine(plan, state=None, *, as_of, usage=()):
        given[plan.id] = list(usage)
        return bill_subscription(plan, state, as_of=as_of, usage=usage)

    monkeypatch.setattr("subbill.service.bill_subscription", engine)
    run_billing(store, as_of=MARCH)
    assert given == {
        "S0": [record("other", 6, 1, subscription="S0")],
        "S1": [record("in", 4, 1, subscription="S1")],
    }
    store.close()


def test_a_postgresql_database_of_schema_1_gets_the_usage_table_when_opened(postgres_url):
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        # 2 and 3's tables, 4's indexes
        for index in (
            "invoices_in_dunning",
            "invoices_credited",
            "payments_by_day",
            "dunning_events_by_day",
        ):
            connection.execute(f"DROP INDEX {index}")
        for table in ("usage_records", "dunning_events", "charge_attempts", "dunning_outbox"):
            connection.execute(f"DROP TABLE {table}")
        connection.execute("UPDATE schema_version SET version = 1")
    store = PostgresStore(postgres_url)
    assert store._one("SELECT version FROM schema_version") == str(POSTGRES_SCHEMA) == "4"
    assert store.add_usage_records([record("evt_1")]) == 1
    assert store.usage_records(["S1"], before=LATEST_BEFORE) == {"S1": [record("evt_1")]}
    store.close()

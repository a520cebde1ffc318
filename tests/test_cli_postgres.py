"""The command line against PostgreSQL (``--db postgresql://…``): the session's test server.

The same commands as on a SQLite file, with the same results: catalog and subscriptions
loaded, bill runs by shard, invoices shown; a URL holding a password is refused.
"""

import shutil

import pytest

from subbill.storage import PostgresStore, SQLiteStore
from tests.test_cli import (
    CATALOG,
    SUBSCRIPTIONS,
    assert_one_line_error,
    load_database,
    run,
    write_json,
)


def _totals(store):
    invoices = store.invoices()
    store.close()
    return [(i.number, i.subscription, i.total) for i in invoices]


def test_the_cli_loads_bills_by_shard_and_shows_invoices_in_postgresql(
    capsys, tmp_path, postgres_url, loaded
):
    subscriptions = write_json(tmp_path / "subscriptions.json", SUBSCRIPTIONS)
    status, out, err = run(capsys, "catalog", "load", CATALOG, "--db", postgres_url)
    assert status == 0, err
    assert "3 plans, 5 modules, 1 add-ons, in EUR." in out
    status, out, err = run(capsys, "subscriptions", "load", subscriptions, "--db", postgres_url)
    assert status == 0, err
    assert out.startswith("2 subscriptions saved to postgresql://")
    bill_run = ("bill-run", "--as-of", "2026-04-01")
    shards = [run(capsys, *bill_run, f"--shard={i}/2", "--db", postgres_url) for i in (0, 1)]
    assert [status for status, _, _ in shards] == [0, 0], shards
    assert "2 invoices created" in run(capsys, *bill_run, "--db", loaded)[1]
    assert _totals(PostgresStore(postgres_url)) == _totals(SQLiteStore(loaded))
    status, shown, err = run(capsys, "invoice", "show", "F-2026-000002", "--db", postgres_url)
    assert status == 0, err
    _, expected, _ = run(capsys, "invoice", "show", "F-2026-000002", "--db", loaded)
    assert shown == expected
    status, again, err = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", postgres_url)
    assert status == 0, err
    assert again.startswith("Bill run as of April 1, 2026: 2 subscriptions looked at, 0 invoices")


@pytest.fixture
def loaded(tmp_path, capsys):
    db = tmp_path / "billing.db"
    load_database(capsys, tmp_path, db)
    return db


def test_a_sqlite_url_names_the_file(capsys, tmp_path, loaded):
    copy = tmp_path / "copy.db"
    shutil.copy(loaded, copy)
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", f"sqlite:///{copy}")
    assert status == 0, err
    assert "2 invoices created" in out
    assert len(SQLiteStore(copy).invoices()) == 2


def test_a_db_url_with_a_password_is_refused_before_anything(capsys):
    line = assert_one_line_error(
        *run(capsys, "bill-run", "--db", "postgresql://billing:secret@localhost/billing"), 2
    )
    assert "must not hold a password" in line
    assert "PGPASSWORD" in line
    assert "secret" not in line


def test_an_unreachable_server_is_one_line(capsys, postgres_url):
    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    line = assert_one_line_error(*run(capsys, "bill-run", "--db", unreachable), 1)
    assert "postgresql://nobody@127.0.0.1:1/none: cannot reach the PostgreSQL server" in line

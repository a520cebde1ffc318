"""Stamped subscription rows (format 5) are never read by a subbill that predates them.

Format 5 came in the same release as SQLite schema 7 and PostgreSQL schema 4. A store that
writes a stamped row has migrated its database to that schema first, and a subbill whose
schema is older refuses such a database as a whole ("newer than this subbill's …: upgrade
subbill") before it reads a row: it never takes a stamped row for a damaged one. (The
subbill of schema 6, run on a database this one wrote, says so: checked by hand, see
``docs/benchmarks.md``.) These tests pin the two facts this rests on.
"""

import sqlite3

from subbill.storage import SQLiteStore, codec
from subbill.storage import postgres as postgres_module
from subbill.storage import sqlite as sqlite_module
from tests.test_codec_rows import plain_subscription

#: The first schemas of the release that writes stamped rows (format 5).
STAMPED_SQLITE_SCHEMA = 7
STAMPED_POSTGRES_SCHEMA = 4


def test_the_schemas_of_the_stamped_rows_release_are_kept():
    assert codec._STAMPED == 5
    assert sqlite_module.SCHEMA_VERSION >= STAMPED_SQLITE_SCHEMA
    assert postgres_module.SCHEMA_VERSION >= STAMPED_POSTGRES_SCHEMA


def test_a_database_holding_stamped_rows_has_the_schema_of_their_release(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_subscription(plain_subscription())
    store.close()
    with sqlite3.connect(path) as connection:
        (version,) = connection.execute("SELECT version FROM schema_version").fetchone()
        (text,) = connection.execute("SELECT document FROM subscriptions").fetchone()
    assert '"version":5' in text
    assert '"stamp":"' in text
    assert version >= STAMPED_SQLITE_SCHEMA

"""The PostgreSQL store: one server database shared by every process of an application.

The same :class:`~subbill.storage.protocols.Store` as ``SQLiteStore``, with the same
versioned documents (``codec``), kept in ``jsonb`` columns beside the few columns queries
need: ``jsonb`` is checked as JSON when written and can be queried by SQL
(``document->>'plan'``); it reorders keys and drops no value, and :func:`~codec.loads`
reads its text back equal. Text keys are ``COLLATE "C"``: ids sort as Python sorts them,
whatever the server's locale, so pages and shards are the same as in the other stores.

**Serialised writes.** PostgreSQL's READ COMMITTED lets two transactions run side by side,
where SQLite's ``BEGIN IMMEDIATE`` makes the second wait. A bill run relies on the wait:
it re-checks each row's version inside its write transaction, and two runs that both
passed the re-check before either wrote would both write. So every transaction of this
store starts by locking the invoice-number counter's row (``SELECT … FOR UPDATE``): write
transactions run one at a time, exactly as with SQLite, and stay short because billing
happens outside them. The same row-locked counter makes numbers gapless and in date order
(a ``SEQUENCE`` would leave gaps on a rollback).

What can go wrong is a :class:`~subbill.errors.StorageError`, never a ``psycopg``
exception: a server that cannot be reached, :class:`~subbill.storage.errors.DatabaseLockedError`
after waiting ``timeout`` seconds for a lock, a serialization failure or a deadlock (the
transaction is undone; run again), :class:`~subbill.storage.errors.DiskFullError`,
:class:`~subbill.storage.errors.ReadOnlyDatabaseError` (a standby), and
:class:`~subbill.storage.errors.StoredDataError` for a row that cannot be read back, naming
its table and key.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

try:
    import psycopg
    from psycopg import conninfo as _conninfo
except ImportError as missing:  # pragma: no cover  (the extra is in the test environment)
    raise ImportError(
        "subbill.storage.postgres needs psycopg 3: pip install 'subbill[postgres]'"
    ) from missing

from subbill._validate import brief, check_count, check_items
from subbill.errors import InvalidArgumentError, InvalidTypeError, StorageError
from subbill.invoices import InvoiceNumbering
from subbill.metering import UsageRecord
from subbill.storage._arguments import (
    MAX_LIMIT,
    check_after,
    check_before,
    check_limit,
    check_numbering,
    check_subscription_ids,
    check_timeout,
)
from subbill.storage._nesting import Nesting
from subbill.storage._numbering import reserve_numbers
from subbill.storage._sql import (
    DunningSQL,
    SQLDialect,
    SQLStore,
    subscription_from_text,
    usage_from_row,
)
from subbill.storage.codec import read_billing_state
from subbill.storage.errors import (
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StoredDataError,
)
from subbill.storage.protocols import BillingRow
from subbill.storage.shards import check_shard, shard_of

__all__ = ["SCHEMA_VERSION", "TABLES", "PostgresStore"]

_KEY = 'text COLLATE "C" NOT NULL'  # an id: sorted as Python sorts str
#: What a dunning run reads (issue 17): the predicates of the partial indexes of schema 4,
#: repeated by the queries (a partial index serves a WHERE that implies its own).
_CORRECTIONS = "document->'data'->'corrections'"
_DUNNING = DunningSQL(
    open=(
        "coalesce(document->'data'->>'status', '') NOT IN ('paid', 'void')"
        " AND coalesce(document->'data'->>'kind', 'invoice') = 'invoice'"
    ),
    credited=f"coalesce({_CORRECTIONS}, '[]'::jsonb) <> '[]'::jsonb",
    # The schema's own names; the date is a parameter.
    credited_after=(
        "document->'data'->>'status' = 'paid'"  # noqa: S608
        " AND coalesce(document->'data'->>'kind', 'invoice') = 'invoice'"
        " AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN"
        f" jsonb_typeof({_CORRECTIONS}) = 'array' THEN {_CORRECTIONS} ELSE '[]'::jsonb END)"
        " AS c WHERE c->>'credited_on' > %s)"
    ),
    paid_on="(document->'data'->>'paid_on')",
    event_on="(document->'data'->>'on')",
)

# Each migration takes the schema from its index to the next version.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE catalog (id integer PRIMARY KEY CHECK (id = 1), document jsonb NOT NULL)",
        (
            f"CREATE TABLE subscriptions (id {_KEY} PRIMARY KEY, customer {_KEY},"
            " document jsonb NOT NULL)"
        ),
        (
            f"CREATE TABLE billing_states (subscription_id {_KEY} PRIMARY KEY,"
            " document jsonb NOT NULL)"
        ),
        (
            "CREATE TABLE invoices (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            f' number {_KEY} UNIQUE, subscription text COLLATE "C", customer {_KEY},'
            " issued_on date NOT NULL, document jsonb NOT NULL)"
        ),
        "CREATE INDEX invoices_by_subscription ON invoices (subscription, position)",
        # The counter's one row is also the lock every transaction takes first.
        (
            "CREATE TABLE invoice_sequence (id integer PRIMARY KEY CHECK (id = 1),"
            " last_number text, last_issued_on date)"
        ),
        "INSERT INTO invoice_sequence (id) VALUES (1)",
        (
            "CREATE TABLE payments (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            f" invoice_number {_KEY}, document jsonb NOT NULL)"
        ),
        "CREATE INDEX payments_by_invoice ON payments (invoice_number, id)",
        f"CREATE TABLE quotes (id {_KEY} PRIMARY KEY, document jsonb NOT NULL)",
        (
            "CREATE TABLE ledger (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " document jsonb NOT NULL)"
        ),
        (
            f"CREATE TABLE license_accounts (customer {_KEY}, product {_KEY},"
            " start date NOT NULL, document jsonb NOT NULL, PRIMARY KEY (customer, product, start))"
        ),
        f"CREATE TABLE customers (id {_KEY} PRIMARY KEY, document jsonb NOT NULL)",
        (
            f"CREATE TABLE orders (reference {_KEY} PRIMARY KEY,"
            " position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,"
            f" customer {_KEY}, document jsonb NOT NULL)"
        ),
        "CREATE INDEX orders_by_customer ON orders (customer, position)",
        f"CREATE TABLE wallets (customer {_KEY} PRIMARY KEY, document jsonb NOT NULL)",
    ),
    (
        # Usage records (issue 15), one per subscription and idempotency key, read a page of
        # subscriptions at a time by day: their document leaves out what the columns hold.
        (
            f"CREATE TABLE usage_records (subscription {_KEY}, key {_KEY},"
            " used_on date NOT NULL, document jsonb NOT NULL, PRIMARY KEY (subscription, key))"
        ),
        "CREATE INDEX usage_records_by_day ON usage_records (subscription, used_on)",
    ),
    (
        # Dunning (issue 17): the events of the runs, one per key (invoice, step, attempt),
        # in the order recorded; the card retries by idempotency key.
        (
            "CREATE TABLE dunning_events (position bigint GENERATED ALWAYS AS IDENTITY"
            f' PRIMARY KEY, key {_KEY} UNIQUE, invoice {_KEY}, subscription text COLLATE "C",'
            " document jsonb NOT NULL)"
        ),
        "CREATE INDEX dunning_events_by_invoice ON dunning_events (invoice, position)",
        "CREATE INDEX dunning_events_by_subscription ON dunning_events (subscription, position)",
        (
            f"CREATE TABLE charge_attempts (key {_KEY} PRIMARY KEY, status text NOT NULL,"
            " document jsonb NOT NULL)"
        ),
        # The outbox: each action recorded, to send until the caller acknowledges it.
        (
            "CREATE TABLE dunning_outbox (position bigint GENERATED ALWAYS AS IDENTITY"
            f" PRIMARY KEY, key {_KEY} UNIQUE, sent smallint NOT NULL DEFAULT 0,"
            " document jsonb NOT NULL)"
        ),
        "CREATE INDEX dunning_outbox_unsent ON dunning_outbox (position) WHERE sent = 0",
    ),
    (
        # A dunning run reads only the open invoices (issue 17): partial indexes of the
        # invoices open now and of those credited, and the payments by day.
        f"CREATE INDEX invoices_in_dunning ON invoices (position) WHERE {_DUNNING.open}",
        f"CREATE INDEX invoices_credited ON invoices (position) WHERE {_DUNNING.credited}",
        f"CREATE INDEX payments_by_day ON payments ({_DUNNING.paid_on})",
        f"CREATE INDEX dunning_events_by_day ON dunning_events ({_DUNNING.event_on})",
    ),
)
SCHEMA_VERSION: Final = len(_MIGRATIONS)

#: The tables of the schema, for a tool (or a test) that empties them all.
TABLES: Final = (
    "catalog",
    "subscriptions",
    "billing_states",
    "invoices",
    "invoice_sequence",
    "payments",
    "quotes",
    "ledger",
    "license_accounts",
    "customers",
    "orders",
    "wallets",
    "usage_records",
    "dunning_events",
    "charge_attempts",
    "dunning_outbox",
)

# A key of pg_advisory_xact_lock, taken only while the schema is created or migrated (the
# counter's row, the lock of every other transaction, may not exist yet then).
_SCHEMA_LOCK: Final = 0x5B_B111
# The lock every transaction takes first: write transactions run one at a time.
_LOCK = "SELECT last_number, last_issued_on FROM invoice_sequence WHERE id = 1 FOR UPDATE"

# SQLSTATE codes met, translated to typed errors.
_LOCK_NOT_AVAILABLE, _QUERY_CANCELED = "55P03", "57014"
_SERIALIZATION, _DEADLOCK = "40001", "40P01"
_READ_ONLY_TRANSACTION, _INSUFFICIENT_PRIVILEGE = "25006", "42501"
_UNIQUE_VIOLATION = "23505"


class PostgresStore(SQLStore):
    """A :class:`~subbill.storage.protocols.Store` in a PostgreSQL database (psycopg 3).

    ``url`` is a ``postgresql://user@host:port/dbname`` URL or a libpq conninfo string
    (``"host=… dbname=…"``). The schema is created in the connection's schema on first use
    and migrated on opening, once, whichever process opens it first. ``timeout`` is how
    long a statement waits for a lock another process holds before
    :class:`~subbill.storage.errors.DatabaseLockedError`; ``connect_timeout`` how long it
    waits for the server to answer when connecting (whole seconds, at least 1).

    One connection per store, shared by the threads of a process under a lock; open one
    store per process (a Dask task, a worker) from the same URL.
    """

    _dialect = SQLDialect(
        mark="%s", document="document::text", json="%s::jsonb", dates_as_text=False, replace=False
    )
    _driver_error = psycopg.Error
    _migrations = _MIGRATIONS
    _create_schema_version = "CREATE TABLE IF NOT EXISTS schema_version (version integer)"
    # An invoice's date is read back as ISO text, as SQLite's is, whatever the server's
    # DateStyle.
    _invoice_fields = (
        "number, subscription, customer, to_char(issued_on, 'YYYY-MM-DD'), document::text"
    )
    _insert_order = "INSERT INTO orders (reference, customer, document) VALUES (%s, %s, %s::jsonb)"
    _dunning = _DUNNING
    _connection: psycopg.Connection[Any]

    def __init__(
        self,
        url: str,
        *,
        numbering: InvoiceNumbering | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
    ) -> None:
        # Every option is checked before the server is contacted.
        if not isinstance(url, str):
            raise InvalidTypeError("url", brief(url), "a PostgreSQL URL or conninfo (a str)")
        try:
            parts = _conninfo.conninfo_to_dict(url)
        except psycopg.Error:
            raise InvalidArgumentError(
                f"url={brief(url)!r} must be a PostgreSQL URL (postgresql://user@host/db) or"
                " a conninfo string (host=… dbname=…)"
            ) from None
        self.name = _display_name(parts)
        self._label = self.name
        self._schema = SCHEMA_VERSION
        self.numbering = check_numbering(numbering)
        self.timeout = check_timeout(timeout)
        waited = check_timeout(connect_timeout)
        self._url = url
        self._lock = threading.RLock()
        self._nesting = Nesting()
        with self._translating("connect"):
            self._connection = psycopg.connect(
                url, autocommit=True, connect_timeout=max(1, round(waited))
            )
        try:
            self._execute(
                "SELECT set_config('lock_timeout', %s, false)", (f"{int(timeout * 1000)}ms",)
            )
            self._migrate()
        except BaseException:
            self._connection.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({self.name!r})"

    # -- errors -----------------------------------------------------------------------------------

    def _storage_error(self, error: Exception, doing: str) -> StorageError:
        """The typed error for a driver's ``error`` met while ``doing`` something."""
        state = getattr(error, "sqlstate", None)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if state in (_LOCK_NOT_AVAILABLE, _QUERY_CANCELED):
            return DatabaseLockedError(self.name, waited=self.timeout)
        if state in (_SERIALIZATION, _DEADLOCK):
            return StorageError(
                f"{self.name}: {doing} failed: another transaction conflicted with this one"
                f" ({first}); nothing of this transaction was saved, run it again"
            )
        if state is not None and state.startswith("53"):  # insufficient resources
            return DiskFullError(self.name)
        if state in (_READ_ONLY_TRANSACTION, _INSUFFICIENT_PRIVILEGE):
            return ReadOnlyDatabaseError(self.name, reason=first)
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) and not state:
            return StorageError(
                f"{self.name}: cannot reach the PostgreSQL server ({first}); check that it"
                " is running and that the URL names it"
            )
        return StorageError(f"{self.name}: {doing} failed: {first}")

    # -- schema -----------------------------------------------------------------------------------

    def _version(self) -> int | None:
        """The schema version of the database, or ``None`` if it has none yet."""
        if self._one("SELECT to_regclass('schema_version')::text") is None:
            return None
        version = self._one("SELECT version FROM schema_version")
        return None if version is None else int(version)

    # -- the dialect's hooks -----------------------------------------------------------------

    def _begin(self) -> None:
        """``BEGIN``, then lock the counter's row: transactions run one at a time.

        Like SQLite's ``BEGIN IMMEDIATE``: the second waits for the first to end.
        """
        self._execute("BEGIN")
        if self._execute(_LOCK).fetchone() is None:
            raise StorageError(
                f"{self.name}: the invoice_sequence table lost its row, the counter"
                " every transaction locks first; restore it from a backup"
            )

    def _begin_migration(self) -> None:
        """``BEGIN``, then the schema's advisory lock (the counter's row may not exist yet).

        Two processes opening a new database at once: one creates, one waits.
        """
        self._execute("BEGIN")
        self._execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))

    def _in_transaction(self) -> bool:
        """Always: PostgreSQL never ends a transaction by itself (a ROLLBACK is harmless)."""
        return True

    def _executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        # One statement per row, pipelined: an array of documents would be escaped character
        # by character by the driver, several times slower.
        self._connection.cursor().executemany(sql, rows)

    def _is_duplicate_number(self, error: Exception) -> bool:
        return isinstance(error, psycopg.errors.UniqueViolation)

    # -- a bill run's batches ---------------------------------------------------------------------

    def billing_rows(
        self, after: str | None, *, limit: int, shard: int = 0, shards: int = 1
    ) -> tuple[list[BillingRow], str | None]:
        """The next page of subscriptions after ``after`` with their states.

        With one shard, one query. With several, the page's ids first, then the documents of
        this shard's rows only (the others' are never sent). A row's version is the pair of
        its two rows' ``xmin``: it changes whenever either is written.
        """
        check_after(after)
        check_limit(limit)
        check_shard(shard, shards)
        if shards == 1:
            rows = self._rows(
                f"{_SELECT_BILLING} WHERE s.id > %s ORDER BY s.id LIMIT %s", (after or "", limit)
            )
            return [_billing_row(*row) for row in rows], (str(rows[-1][0]) if rows else None)
        page = self._all(
            "SELECT id FROM subscriptions WHERE id > %s ORDER BY id LIMIT %s", (after or "", limit)
        )
        mine = [key for key in page if shard_of(key, shards) == shard]
        rows = (
            self._rows(f"{_SELECT_BILLING} WHERE s.id = ANY(%s) ORDER BY s.id", (mine,))
            if mine
            else []
        )
        return [_billing_row(*row) for row in rows], (page[-1] if page else None)

    def billing_versions(self, subscription_ids: Sequence[str]) -> dict[str, object]:
        """The version of each of ``subscription_ids`` still stored."""
        wanted = list(dict.fromkeys(check_items("subscription_ids", subscription_ids, str)))
        if not wanted:
            return {}
        rows = self._rows(_SELECT_VERSIONS, (wanted,))
        return {key: (subscription, state) for key, subscription, state in rows}

    # -- invoice numbers --------------------------------------------------------------------------

    def reserve_invoice_numbers(self, count: int, *, issued_on: date) -> list[str]:
        """Reserve the next ``count`` numbers at once, from the counter's locked row."""
        check_count("count", count, minimum=1, maximum=MAX_LIMIT)
        with self.transaction():  # its first statement locked the counter's row
            previous, last = self._rows(_LOCK)[0]
            numbers = reserve_numbers(
                self.numbering, previous, count, last_issued_on=last, issued_on=issued_on
            )
            self._execute(
                "UPDATE invoice_sequence SET last_number = %s, last_issued_on = %s WHERE id = 1",
                (numbers[-1], issued_on),
            )
            return numbers

    def last_issued_on(self) -> date | None:
        """The date of the last number issued, or ``None``."""
        rows = self._rows("SELECT last_issued_on FROM invoice_sequence WHERE id = 1")
        last: date | None = rows[0][0] if rows else None
        return last

    # -- usage records ----------------------------------------------------------------------------

    def _stored_usage(self, records: Sequence[UsageRecord]) -> dict[tuple[str, str], UsageRecord]:
        """The stored records of the ``(subscription, key)`` of ``records``, in one query."""
        rows = self._rows(
            f"{_SELECT_USAGE} JOIN unnest(%s::text[], %s::text[]) AS given (s, k)"
            " ON subscription = given.s AND key = given.k",
            ([r.subscription for r in records], [r.key for r in records]),
        )
        return {(row[0], row[1]): usage_from_row(row) for row in rows}

    def usage_records(
        self, subscription_ids: Sequence[str], *, before: date
    ) -> dict[str, list[UsageRecord]]:
        """The records of each of ``subscription_ids`` dated before ``before``, in one query."""
        wanted = check_subscription_ids(subscription_ids)
        day = check_before(before)
        found: dict[str, list[UsageRecord]] = {key: [] for key in wanted}
        if not wanted:
            return found
        rows = self._rows(
            f"{_SELECT_USAGE} WHERE subscription = ANY(%s) AND used_on < %s"
            " ORDER BY subscription, used_on, key",
            (wanted, day),
        )
        for row in rows:
            found[row[0]].append(usage_from_row(row))
        return found


def _display_name(parts: dict[str, Any]) -> str:
    """The database named in errors: ``postgresql://user@host:port/dbname``, no password."""
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


_SELECT_BILLING = (
    "SELECT s.id, s.document::text, b.document::text, s.xmin::text, b.xmin::text"
    " FROM subscriptions s LEFT JOIN billing_states b ON b.subscription_id = s.id"
)
_SELECT_VERSIONS = (
    "SELECT s.id, s.xmin::text, b.xmin::text FROM subscriptions s"
    " LEFT JOIN billing_states b ON b.subscription_id = s.id WHERE s.id = ANY(%s)"
)


def _billing_row(
    key: str, subscription: str, state: str | None, version: str, state_version: str | None
) -> BillingRow:
    """A subscription and its state read back; a damaged one is the row's error."""
    versions = (version, state_version)
    try:
        return BillingRow(
            key,
            subscription_from_text(subscription, key),
            None if state is None else read_billing_state(state, table="billing_states", key=key),
            None,
            versions,
        )
    except StoredDataError as error:
        return BillingRow(key, None, None, error, versions)


# A usage record's day is read back as ISO text, as SQLite's is.
_SELECT_USAGE = (
    "SELECT subscription, key, to_char(used_on, 'YYYY-MM-DD'), document::text FROM usage_records"
)

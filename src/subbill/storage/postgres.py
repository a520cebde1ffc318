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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any, Final, TypeVar

try:
    import psycopg
    from psycopg import conninfo as _conninfo
except ImportError as missing:  # pragma: no cover  (the extra is in the test environment)
    raise ImportError(
        "subbill.storage.postgres needs psycopg 3: pip install 'subbill[postgres]'"
    ) from missing

from subbill._validate import brief, check_count, check_items
from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.customers import Customer
from subbill.errors import InvalidArgumentError, InvalidTypeError, StorageError
from subbill.invoices import Invoice, InvoiceNumbering, Payment
from subbill.licenses import LedgerEntry, LicenseAccount, LicenseLedger
from subbill.metering import UsageRecord
from subbill.payments import Wallet
from subbill.periods import check_date
from subbill.quotes import Quote, SalesOrder
from subbill.storage._arguments import (
    MAX_LIMIT,
    check_after,
    check_before,
    check_key,
    check_limit,
    check_numbering,
    check_subscription_ids,
    check_timeout,
    check_usage_records,
    checked,
    new_usage_records,
)
from subbill.storage._nesting import Nesting
from subbill.storage._numbering import reserve_numbers
from subbill.storage.codec import dumps, loads
from subbill.storage.errors import (
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StoredDataError,
)
from subbill.storage.protocols import BillingRow
from subbill.storage.shards import check_shard, shard_of
from subbill.storage.sqlite import _invoice_from_row, _invoice_text, _usage_from_row, _usage_row
from subbill.subscriptions import Subscription

__all__ = ["SCHEMA_VERSION", "TABLES", "PostgresStore"]

_T = TypeVar("_T")

_KEY = 'text COLLATE "C" NOT NULL'  # an id: sorted as Python sorts str
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


class PostgresStore:
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

    def _storage_error(self, error: psycopg.Error, doing: str) -> StorageError:
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

    @contextmanager
    def _translating(self, doing: str) -> Iterator[None]:
        """Turn any ``psycopg`` error raised inside into a :class:`StorageError`."""
        try:
            yield
        except psycopg.Error as error:
            raise self._storage_error(error, doing) from error

    # -- schema -----------------------------------------------------------------------------------

    def _version(self) -> int | None:
        """The schema version of the database, or ``None`` if it has none yet."""
        if self._one("SELECT to_regclass('schema_version')::text") is None:
            return None
        version = self._one("SELECT version FROM schema_version")
        return None if version is None else int(version)

    def _migrate(self) -> None:
        """Create or upgrade the schema; a database already up to date is not locked at all."""
        current = self._version()
        if current is not None and current > SCHEMA_VERSION:
            raise self._newer(current)
        if current == SCHEMA_VERSION:
            return
        with self._lock, self._nesting.level():
            self._execute("BEGIN")
            try:
                # Two processes opening a new database at once: one creates, one waits.
                self._execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                self._execute("CREATE TABLE IF NOT EXISTS schema_version (version integer)")
                version = self._one("SELECT version FROM schema_version")
                current = 0 if version is None else int(version)
                if current > SCHEMA_VERSION:
                    raise self._newer(current)
                for statements in _MIGRATIONS[current:]:
                    for statement in statements:
                        self._execute(statement)
                self._execute("DELETE FROM schema_version")
                self._execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
                self._execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _newer(self, version: int) -> StorageError:
        return StorageError(
            f"{self.name}: database has schema version {version}, newer than this "
            f"subbill's {SCHEMA_VERSION}: upgrade subbill"
        )

    # -- transactions and statements --------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN``, lock the counter's row, … ``COMMIT``; rolled back if the block raises.

        The lock makes transactions run one at a time, like SQLite's ``BEGIN IMMEDIATE``.
        """
        with self._lock, self._nesting.level() as outermost:
            if not outermost:  # a nested block joins the open transaction
                yield
                return
            self._execute("BEGIN")
            try:
                if self._execute(_LOCK).fetchone() is None:
                    raise StorageError(
                        f"{self.name}: the invoice_sequence table lost its row, the counter"
                        " every transaction locks first; restore it from a backup"
                    )
                yield
                self._execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: ``SAVEPOINT`` … ``RELEASE``, undone alone if the block raises.

        Outside one, it is a transaction of its own.
        """
        with self.transaction():
            self._execute("SAVEPOINT subbill")
            try:
                yield
            except BaseException:
                with suppress(psycopg.Error):  # the error being raised says what failed
                    self._connection.execute("ROLLBACK TO SAVEPOINT subbill")
                    self._connection.execute("RELEASE SAVEPOINT subbill")
                raise
            self._execute("RELEASE SAVEPOINT subbill")

    def _rollback(self) -> None:
        """Undo the open transaction; if that fails too, the error being raised says why."""
        with suppress(psycopg.Error):
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection."""
        with self._translating("close"):
            self._connection.close()

    def _execute(self, sql: str, parameters: tuple[object, ...] = ()) -> psycopg.Cursor[Any]:
        try:
            return self._connection.execute(sql, parameters)
        except psycopg.Error as error:
            raise self._storage_error(error, sql.split(" ", 1)[0].lower()) from error

    def _rows(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except psycopg.Error as error:
            raise self._storage_error(error, "read") from error

    def _one(self, sql: str, parameters: tuple[object, ...] = ()) -> str | None:
        rows = self._rows(sql, parameters)
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def _all(self, sql: str, parameters: tuple[object, ...] = ()) -> list[str]:
        return [str(row[0]) for row in self._rows(sql, parameters)]

    def _write(self, sql: str, parameters: tuple[object, ...]) -> None:
        with self.transaction():
            self._execute(sql, parameters)

    def _write_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One statement per row, pipelined, in one transaction."""
        with self.transaction():
            try:
                self._connection.cursor().executemany(sql, rows)
            except psycopg.Error as error:
                raise self._storage_error(error, sql.split(" ", 1)[0].lower()) from error

    def _read(self, kind: type[_T], table: str, rows: list[tuple[Any, ...]]) -> list[_T]:
        """Documents from ``(key, document)`` rows; a damaged one is named by table and key."""
        return [loads(str(text), kind, table=table, key=key) for key, text in rows]

    def _read_one(self, kind: type[_T], table: str, key: object, text: str | None) -> _T | None:
        return None if text is None else loads(text, kind, table=table, key=key)

    # -- catalog ----------------------------------------------------------------------------------

    def load_catalog(self) -> Catalog | None:
        """The saved catalog, or ``None``."""
        text = self._one("SELECT document::text FROM catalog WHERE id = 1")
        return self._read_one(Catalog, "catalog", 1, text)

    def save_catalog(self, catalog: Catalog) -> None:
        """Replace the catalog."""
        checked("catalog", catalog, Catalog)
        self._write(
            "INSERT INTO catalog (id, document) VALUES (1, %s::jsonb)"
            " ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document",
            (dumps(catalog),),
        )

    # -- subscriptions and billing states ---------------------------------------------------------

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription ``subscription_id``, or ``None``."""
        text = self._one(
            "SELECT document::text FROM subscriptions WHERE id = %s", (subscription_id,)
        )
        return self._read_one(Subscription, "subscriptions", subscription_id, text)

    def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription."""
        checked("subscription", subscription, Subscription)
        self._write(
            "INSERT INTO subscriptions (id, customer, document) VALUES (%s, %s, %s::jsonb)"
            " ON CONFLICT (id) DO UPDATE SET customer = EXCLUDED.customer,"
            " document = EXCLUDED.document",
            (subscription.id, subscription.customer, dumps(subscription)),
        )

    def subscription_ids(self) -> list[str]:
        """Every subscription id, sorted."""
        return self._all("SELECT id FROM subscriptions ORDER BY id")

    def subscription_count(self) -> int:
        """How many subscriptions are stored."""
        return int(self._one("SELECT COUNT(*) FROM subscriptions") or 0)

    def subscription_ids_after(self, after: str | None, *, limit: int) -> list[str]:
        """The next ``limit`` subscription ids after ``after`` (from the first if ``None``)."""
        check_after(after)
        check_limit(limit)
        return self._all(
            "SELECT id FROM subscriptions WHERE id > %s ORDER BY id LIMIT %s", (after or "", limit)
        )

    def get_billing_state(self, subscription_id: str) -> BillingState | None:
        """The billing state of ``subscription_id``, or ``None``."""
        text = self._one(
            "SELECT document::text FROM billing_states WHERE subscription_id = %s",
            (subscription_id,),
        )
        return self._read_one(BillingState, "billing_states", subscription_id, text)

    def save_billing_state(self, subscription_id: str, state: BillingState) -> None:
        """Insert or replace a billing state."""
        self.save_billing_states([(check_key("subscription_id", subscription_id), state)])

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

    def save_billing_states(self, states: Sequence[tuple[str, BillingState]]) -> None:
        """Insert or replace the billing state of each ``(subscription_id, state)``."""
        latest = {  # the last state given for an id wins, as each replaces the one before
            check_key("subscription_id", key): dumps(checked("state", state, BillingState))
            for key, state in check_items("states", states, tuple)
        }
        if not latest:
            return
        self._write_many(
            "INSERT INTO billing_states (subscription_id, document) VALUES (%s, %s::jsonb)"
            " ON CONFLICT (subscription_id) DO UPDATE SET document = EXCLUDED.document",
            list(latest.items()),
        )

    # -- invoices and payments --------------------------------------------------------------------

    def next_invoice_number(self, *, issued_on: date) -> str:
        """Reserve and return the next invoice number (inside the caller's transaction).

        Refused (:class:`~subbill.errors.InvalidStateError`) if ``issued_on`` is before the
        date of the last number issued.
        """
        return self.reserve_invoice_numbers(1, issued_on=issued_on)[0]

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

    def invoice_position(self) -> int:
        """The position of the last invoice stored (``0`` if none); later ones come after it."""
        rows = self._rows("SELECT coalesce(max(position), 0) FROM invoices")
        return int(rows[0][0])

    def count_invoices_since(self, position: int, *, issued_on: date) -> int:
        """How many invoices dated ``issued_on`` were stored after ``position``."""
        check_count("position", position)
        check_date("issued_on", issued_on)
        rows = self._rows(
            "SELECT count(*) FROM invoices WHERE position > %s AND issued_on = %s",
            (position, issued_on),
        )
        return int(rows[0][0])

    def invoices_since(
        self, position: int, *, issued_on: date, limit: int
    ) -> list[tuple[int, Invoice]]:
        """The first ``limit`` invoices dated ``issued_on`` stored after ``position``.

        In the order they were stored, each with its position (the next page starts after
        the last one's).
        """
        check_count("position", position)
        check_date("issued_on", issued_on)
        limit = check_limit(limit)
        rows = self._rows(
            "SELECT position, number, subscription, customer, to_char(issued_on, 'YYYY-MM-DD'),"
            " document::text FROM invoices WHERE position > %s AND issued_on = %s"
            " ORDER BY position LIMIT %s",
            (position, issued_on, limit),
        )
        return [(int(row[0]), _invoice_from_row(row[1:])) for row in rows]

    def add_invoice(self, invoice: Invoice) -> None:
        """Add a numbered invoice; its number must be new."""
        self.add_invoices([checked("invoice", invoice, Invoice)])

    def add_invoices(self, invoices: Sequence[Invoice]) -> None:
        """Add numbered invoices, in order, in one statement; every number must be new."""
        rows: list[tuple[Any, ...]] = []
        for invoice in check_items("invoices", invoices, Invoice):
            if invoice.number is None:
                raise InvalidArgumentError("only a numbered invoice can be stored: finalize it")
            rows.append(
                (
                    invoice.number,
                    invoice.subscription,
                    invoice.customer,
                    invoice.issued_on,
                    _invoice_text(invoice),
                )
            )
        if not rows:
            return
        try:
            with self.savepoint():  # all or nothing, even inside the caller's transaction
                self._connection.cursor().executemany(_INSERT_INVOICES, rows)
        except psycopg.errors.UniqueViolation:
            numbers = [row[0] for row in rows]
            raise InvalidArgumentError(
                f"invoice number={self._stored_number(numbers)!r} already exists"
            ) from None
        except psycopg.Error as error:
            raise self._storage_error(error, "insert") from error

    def _stored_number(self, numbers: Sequence[str]) -> str:
        """The first of ``numbers`` already stored, or given twice (for the error)."""
        stored = set(self._all("SELECT number FROM invoices WHERE number = ANY(%s)", (numbers,)))
        seen: set[str] = set()
        for number in numbers:
            if number in seen or number in stored:
                return number
            seen.add(number)
        return numbers[0]

    def save_invoice(self, invoice: Invoice) -> None:
        """Replace a stored invoice."""
        checked("invoice", invoice, Invoice)
        with self.transaction():
            cursor = self._execute(
                "UPDATE invoices SET document = %s::jsonb, subscription = %s, customer = %s,"
                " issued_on = %s WHERE number = %s",
                (
                    _invoice_text(invoice),
                    invoice.subscription,
                    invoice.customer,
                    invoice.issued_on,
                    invoice.number,
                ),
            )
            if cursor.rowcount != 1:
                raise InvalidArgumentError(f"invoice number={invoice.number!r} is not stored")

    def get_invoice(self, number: str) -> Invoice | None:
        """The invoice ``number``, or ``None``."""
        rows = self._rows(f"{_SELECT_INVOICES} WHERE number = %s", (number,))
        return _invoice_from_row(rows[0]) if rows else None

    def invoices(self, *, subscription: str | None = None) -> list[Invoice]:
        """Invoices in the order they were added, all or those of ``subscription``."""
        if subscription is None:
            rows = self._rows(f"{_SELECT_INVOICES} ORDER BY position")
        else:
            rows = self._rows(
                f"{_SELECT_INVOICES} WHERE subscription = %s ORDER BY position", (subscription,)
            )
        return [_invoice_from_row(row) for row in rows]

    def add_payment(self, invoice_number: str, payment: Payment) -> None:
        """Record a payment for ``invoice_number``."""
        check_key("invoice_number", invoice_number)
        checked("payment", payment, Payment)
        self._write(
            "INSERT INTO payments (invoice_number, document) VALUES (%s, %s::jsonb)",
            (invoice_number, dumps(payment)),
        )

    def payments(self, invoice_number: str) -> list[Payment]:
        """The payments of ``invoice_number``, in the order recorded."""
        rows = self._rows(
            "SELECT id, document::text FROM payments WHERE invoice_number = %s ORDER BY id",
            (invoice_number,),
        )
        return self._read(Payment, "payments", rows)

    # -- quotes -----------------------------------------------------------------------------------

    def get_quote(self, quote_id: str) -> Quote | None:
        """The quote ``quote_id``, or ``None``."""
        text = self._one("SELECT document::text FROM quotes WHERE id = %s", (quote_id,))
        return self._read_one(Quote, "quotes", quote_id, text)

    def save_quote(self, quote: Quote) -> None:
        """Insert or replace a quote."""
        checked("quote", quote, Quote)
        self._write(
            "INSERT INTO quotes (id, document) VALUES (%s, %s::jsonb)"
            " ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document",
            (quote.id, dumps(quote)),
        )

    def quote_ids(self) -> list[str]:
        """Every quote id, sorted."""
        return self._all("SELECT id FROM quotes ORDER BY id")

    # -- licences ---------------------------------------------------------------------------------

    def load_ledger(self) -> LicenseLedger:
        """The whole ledger, in the order entries were appended."""
        rows = self._rows("SELECT position, document::text FROM ledger ORDER BY position")
        return LicenseLedger(entries=tuple(self._read(LedgerEntry, "ledger", rows)))

    def append_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger entries."""
        added = [(dumps(entry),) for entry in check_items("entries", entries, LedgerEntry)]
        if added:
            self._write_many("INSERT INTO ledger (document) VALUES (%s::jsonb)", added)

    def save_license_account(self, account: LicenseAccount) -> None:
        """Insert or replace the account of ``(customer, product, start)``."""
        checked("account", account, LicenseAccount)
        self._write(
            "INSERT INTO license_accounts (customer, product, start, document)"
            " VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT (customer, product, start)"
            " DO UPDATE SET document = EXCLUDED.document",
            (account.customer, account.product, account.start, dumps(account)),
        )

    def license_accounts(self) -> list[LicenseAccount]:
        """Every licence account, sorted by customer, product and start."""
        rows = self._rows(
            "SELECT customer || '/' || product || '/' || start::text, document::text"
            " FROM license_accounts ORDER BY customer, product, start"
        )
        return self._read(LicenseAccount, "license_accounts", rows)

    # -- customers, orders and wallets ------------------------------------------------------------

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer ``customer_id``, or ``None``."""
        text = self._one("SELECT document::text FROM customers WHERE id = %s", (customer_id,))
        return self._read_one(Customer, "customers", customer_id, text)

    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer."""
        checked("customer", customer, Customer)
        self._write(
            "INSERT INTO customers (id, document) VALUES (%s, %s::jsonb)"
            " ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document",
            (customer.id, dumps(customer)),
        )

    def customer_ids(self) -> list[str]:
        """Every customer id, sorted."""
        return self._all("SELECT id FROM customers ORDER BY id")

    def get_order(self, reference: str) -> SalesOrder | None:
        """The order of the purchase ``reference``, or ``None``."""
        text = self._one("SELECT document::text FROM orders WHERE reference = %s", (reference,))
        return self._read_one(SalesOrder, "orders", reference, text)

    def add_order(self, order: SalesOrder) -> None:
        """Add an order; its reference must be new."""
        checked("order", order, SalesOrder)
        key = order.reference or order.id
        with self.transaction():
            if self._one("SELECT reference FROM orders WHERE reference = %s", (key,)):
                raise InvalidArgumentError(f"an order with reference={key!r} already exists")
            self._execute(
                "INSERT INTO orders (reference, customer, document) VALUES (%s, %s, %s::jsonb)",
                (key, order.customer, dumps(order)),
            )

    def orders(self, *, customer: str | None = None) -> list[SalesOrder]:
        """Orders in the order they were added, all or those of ``customer``."""
        if customer is None:
            rows = self._rows("SELECT reference, document::text FROM orders ORDER BY position")
        else:
            rows = self._rows(
                "SELECT reference, document::text FROM orders WHERE customer = %s"
                " ORDER BY position",
                (customer,),
            )
        return self._read(SalesOrder, "orders", rows)

    def get_wallet(self, customer: str) -> Wallet | None:
        """The wallet of ``customer``, or ``None``."""
        text = self._one("SELECT document::text FROM wallets WHERE customer = %s", (customer,))
        return self._read_one(Wallet, "wallets", customer, text)

    def save_wallet(self, wallet: Wallet) -> None:
        """Insert or replace the wallet of ``wallet.customer``."""
        checked("wallet", wallet, Wallet)
        self._write(
            "INSERT INTO wallets (customer, document) VALUES (%s, %s::jsonb)"
            " ON CONFLICT (customer) DO UPDATE SET document = EXCLUDED.document",
            (wallet.customer, dumps(wallet)),
        )

    # -- usage records ----------------------------------------------------------------------------

    def add_usage_records(self, records: Sequence[UsageRecord]) -> int:
        """Add ``records`` (idempotent by subscription and key, all or nothing); how many new.

        One look-up of the keys already stored, then the new rows pipelined, in one
        transaction (write transactions run one at a time: no other can add a key between).
        """
        added = check_usage_records(records)
        if not added:
            return 0
        with self.savepoint():
            rows = self._rows(
                f"{_SELECT_USAGE} JOIN unnest(%s::text[], %s::text[]) AS given (s, k)"
                " ON subscription = given.s AND key = given.k",
                ([r.subscription for r in added], [r.key for r in added]),
            )
            stored = {(row[0], row[1]): _usage_from_row(row) for row in rows}
            new = new_usage_records(added, stored)
            if new:
                with self._translating("insert"):
                    self._connection.cursor().executemany(
                        _INSERT_USAGE, [_usage_row(record) for record in new]
                    )
        return len(new)

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
            found[row[0]].append(_usage_from_row(row))
        return found

    def usage_record_count(self) -> int:
        """How many usage records are stored."""
        return int(self._one("SELECT COUNT(*) FROM usage_records") or 0)


def _display_name(parts: dict[str, Any]) -> str:
    """The database named in errors: ``postgresql://user@host:port/dbname``, no password."""
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


# An invoice's number, subscription, customer and date live in its row's columns, read back
# as SQLite's are (the date as ISO text, whatever the server's DateStyle).
_SELECT_INVOICES = (
    "SELECT number, subscription, customer, to_char(issued_on, 'YYYY-MM-DD'), document::text"
    " FROM invoices"
)
# Rows go one statement each, pipelined (executemany): an array of documents would be
# escaped character by character by the driver, several times slower.
_INSERT_INVOICES = (
    "INSERT INTO invoices (number, subscription, customer, issued_on, document)"
    " VALUES (%s, %s, %s, %s, %s::jsonb)"
)
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
            loads(subscription, Subscription, table="subscriptions", key=key),
            None if state is None else loads(state, BillingState, table="billing_states", key=key),
            None,
            versions,
        )
    except StoredDataError as error:
        return BillingRow(key, None, None, error, versions)


# A usage record's day is read back as ISO text, as SQLite's is.
_SELECT_USAGE = (
    "SELECT subscription, key, to_char(used_on, 'YYYY-MM-DD'), document::text FROM usage_records"
)
_INSERT_USAGE = (
    "INSERT INTO usage_records (subscription, key, used_on, document)"
    " VALUES (%s, %s, %s, %s::jsonb)"
)

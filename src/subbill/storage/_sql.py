"""What the two SQL stores share: the repository written once, over a small dialect seam.

:class:`SQLStore` holds every method whose SQL differs between SQLite and PostgreSQL only in
spelling: the parameter mark (``?`` or ``%s``), how a document column is read and written
(text, or ``jsonb`` cast to and from text), how a row is inserted or replaced (``INSERT OR
REPLACE`` or ``ON CONFLICT … DO UPDATE``) and how a date is passed (ISO text or a
``date``): :class:`SQLDialect` says which. What differs in kind stays in each store: how a
write transaction is opened and serialised (``_begin``), how a driver's error becomes a
:class:`~subbill.errors.StorageError` (``_storage_error``), the schema and its migrations,
and the queries of a bill run's hot path, each tuned to its database.

The row helpers (an invoice's and a usage record's row, without what its columns hold) are
here too: both stores write the same rows.
"""

# The SQL below is assembled from the dialect's spellings and the schema's table and column
# names, never from a value: every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from typing import Any, ClassVar, NamedTuple, TypeVar

import attrs

from subbill._validate import check_count, check_items
from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.customers import Customer
from subbill.dunning import DunningAction, DunningEvent
from subbill.errors import InvalidArgumentError, StorageError
from subbill.invoices import DocumentKind, Invoice, InvoiceNumbering, InvoiceStatus, Payment
from subbill.licenses import LedgerEntry, LicenseAccount, LicenseLedger
from subbill.metering import UsageRecord
from subbill.payments import Wallet
from subbill.periods import check_date
from subbill.quotes import Quote, SalesOrder
from subbill.storage._arguments import (
    check_action_keys,
    check_after,
    check_dunning_actions,
    check_dunning_events,
    check_invoice_numbers,
    check_key,
    check_limit,
    check_optional_key,
    check_states,
    check_usage_records,
    checked,
    dunning_conflict,
    new_usage_records,
    outbox_conflict,
)
from subbill.storage._nesting import Nesting
from subbill.storage.codec import (
    OnePlanRow,
    dumps,
    invoice_row_text,
    loads,
    read_billing_subscription,
    read_subscription,
    row_text,
    state_row_text,
    subscription_text,
)
from subbill.storage.errors import StoredDataError
from subbill.storage.protocols import ChargeAttempt, ChargeStatus
from subbill.subscriptions import Subscription

__all__ = [
    "INVOICE_COLUMNS",
    "USAGE_COLUMNS",
    "SQLDialect",
    "SQLStore",
    "dunning_facts",
    "invoice_from_row",
    "invoice_text",
    "subscription_from_text",
    "usage_from_row",
    "usage_row",
    "utf8_text",
]

_T = TypeVar("_T")


@attrs.frozen(kw_only=True)
class SQLDialect:
    """How one SQL database spells what the shared repository methods say.

    >>> postgres = SQLDialect(mark="%s", document="document::text", json="%s::jsonb",
    ...                       dates_as_text=False, replace=False)
    >>> postgres.upsert("quotes", ("id", "document"))
    'INSERT INTO quotes (id, document) VALUES (%s, %s::jsonb) ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document'
    >>> sqlite = SQLDialect(mark="?", document="document", json="?",
    ...                     dates_as_text=True, replace=True)
    >>> sqlite.upsert("quotes", ("id", "document"))
    'INSERT OR REPLACE INTO quotes (id, document) VALUES (?, ?)'
    >>> sqlite.day(date(2026, 3, 1))
    '2026-03-01'
    """  # noqa: E501  (a doctest's expected output is one line)

    #: The parameter mark: ``?`` or ``%s``.
    mark: str
    #: A row's document read as JSON text.
    document: str
    #: The mark of a document parameter (JSON text), cast where the column needs it.
    json: str
    #: Dates are passed as ISO text (SQLite), or as ``date`` objects.
    dates_as_text: bool
    #: ``INSERT OR REPLACE`` (SQLite), or ``INSERT … ON CONFLICT … DO UPDATE``.
    replace: bool

    def values(self, columns: Sequence[str]) -> str:
        """The ``VALUES (…)`` marks of ``columns``: a document's is the JSON mark."""
        marks = ", ".join(self.json if name == "document" else self.mark for name in columns)
        return f"VALUES ({marks})"

    def upsert(self, table: str, columns: Sequence[str], *, keys: int = 1) -> str:
        """Insert a row or replace the one with the same first ``keys`` columns."""
        insert = f"INTO {table} ({', '.join(columns)}) {self.values(columns)}"
        if self.replace:
            return f"INSERT OR REPLACE {insert}"
        updated = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns[keys:])
        return f"INSERT {insert} ON CONFLICT ({', '.join(columns[:keys])}) DO UPDATE SET {updated}"

    def day(self, day: date) -> object:
        """A date as this database's parameter."""
        return day.isoformat() if self.dates_as_text else day


class DunningSQL(NamedTuple):
    """How a SQL store finds what a dunning run reads (issue 17), each served by an index.

    Each is SQL over the row's JSON ``document`` (``{"version": …, "data": {…}}``); the
    predicates are those of the partial indexes the schema creates, written once, so the
    query and its index stay the same text. They fail safe: a document whose layout they
    do not recognise is read (an invoice never left out of dunning for it).
    """

    #: ``WHERE`` of the invoices not paid nor credited in full nor void now, not credit notes.
    open: str
    #: ``WHERE`` of the invoices credited by a credit note (``corrections`` not empty).
    credited: str
    #: ``… AND`` of a paid invoice with a correction dated after the parameter (ISO text).
    credited_after: str
    #: A payment's date as ISO text (the payments' index by day serves its ``max``).
    paid_on: str
    #: A dunning event's day as ISO text (the events' index by day serves its ``max``).
    event_on: str


class SQLStore(ABC):
    """The repository methods of a SQL :class:`~subbill.storage.protocols.Store`.

    A subclass gives its :class:`SQLDialect`, its driver's error class, a connection, and
    the few hooks below; it opens the connection and the schema in its ``__init__``.
    """

    #: How this database spells parameters, documents, upserts and dates.
    _dialect: ClassVar[SQLDialect]
    #: The driver's root exception class (``sqlite3.Error``, ``psycopg.Error``).
    _driver_error: ClassVar[type[Exception]]
    #: Each migration takes the schema from its index to the next version.
    _migrations: ClassVar[tuple[tuple[str, ...], ...]]
    #: ``CREATE TABLE IF NOT EXISTS schema_version …`` as this database first wrote it.
    _create_schema_version: ClassVar[str]
    #: The version from which each table exists (a store opened read-only on an older
    #: schema reads none stored in a newer table).
    _tables_since: ClassVar[Mapping[str, int]] = {}
    #: ``SELECT`` of an invoice's row: number, subscription, customer, ISO date, document.
    _invoice_fields: ClassVar[str]
    #: ``INSERT`` of an order's row: reference, customer, document (the position follows).
    _insert_order: ClassVar[str]
    #: What dunning reads, as this database finds it from its indexes.
    _dunning: ClassVar[DunningSQL]
    #: Whether an invoice's row holds dunning's facts (:func:`dunning_facts`) in columns
    #: ``in_dunning`` and ``credited``, given with its document when it is inserted.
    _dunning_columns: ClassVar[bool] = False

    _connection: Any  # the driver's connection (typed by each store)
    numbering: InvoiceNumbering
    timeout: float
    _label: str  # the database, as errors name it
    _schema: int
    _lock: threading.RLock
    _nesting: Nesting

    # -- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def _storage_error(self, error: Exception, doing: str) -> StorageError:
        """The typed error for a driver's ``error`` met while ``doing`` something."""

    @abstractmethod
    def _version(self) -> int | None:
        """The schema version of the database, or ``None`` if it has none yet."""

    @abstractmethod
    def _begin(self) -> None:
        """Open a write transaction, serialised with every other process's."""

    @abstractmethod
    def _begin_migration(self) -> None:
        """Open the transaction that creates or upgrades the schema, one process at a time."""

    @abstractmethod
    def _in_transaction(self) -> bool:
        """Whether a transaction is still open (a database may have undone it already)."""

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run ``sql`` once per row (the driver's errors are left to the caller)."""

    @abstractmethod
    def _is_duplicate_number(self, error: Exception) -> bool:
        """Whether a driver's ``error`` on inserting invoices is a number already stored."""

    def _dunning_reads(self) -> DunningSQL:
        """What dunning reads in this database's schema (an older one opened read-only)."""
        return self._dunning

    @abstractmethod
    def _stored_usage(self, records: Sequence[UsageRecord]) -> dict[tuple[str, str], UsageRecord]:
        """The stored records of the ``(subscription, key)`` of ``records``."""

    # -- errors -----------------------------------------------------------------------------

    @contextmanager
    def _translating(self, doing: str) -> Iterator[None]:
        """Turn any driver error raised inside into a :class:`StorageError`."""
        try:
            yield
        except self._driver_error as error:
            raise self._storage_error(error, doing) from error

    def _newer(self, version: int) -> StorageError:
        return StorageError(
            f"{self._label}: database has schema version {version}, newer than this "
            f"subbill's {len(self._migrations)}: upgrade subbill"
        )

    # -- schema -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Create or upgrade the schema; a database already up to date is not locked at all."""
        latest = len(self._migrations)
        current = self._version()
        if current is not None and current > latest:
            raise self._newer(current)
        if current == latest:
            return
        with self._transaction(self._begin_migration):
            self._execute(self._create_schema_version)
            version = self._one("SELECT version FROM schema_version")
            current = 0 if version is None else int(version)
            if current > latest:  # another process upgraded it meanwhile
                raise self._newer(current)
            for statements in self._migrations[current:]:
                for statement in statements:
                    self._execute(statement)
            self._execute("DELETE FROM schema_version")
            self._execute(
                f"INSERT INTO schema_version (version) VALUES ({self._dialect.mark})", (latest,)
            )

    def _missing(self, table: str) -> bool:
        """Whether ``table`` is missing from an older schema opened read-only."""
        return self._schema < self._tables_since.get(table, 0)

    # -- transactions and statements --------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction around the block; rolled back if the block raises.

        A nested block joins the open transaction. If the block fails because of the
        database (disk full…), the error raised is that one, typed: the rollback that
        follows never masks it.
        """
        with self._transaction(self._begin):
            yield

    @contextmanager
    def _transaction(self, begin: Callable[[], None]) -> Iterator[None]:
        """The outermost block calls ``begin``, then commits, or rolls back if it raises."""
        with self._lock, self._nesting.level() as outermost:
            if not outermost:  # a nested block joins the open transaction
                yield
                return
            try:
                begin()
                yield
                self._execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: ``SAVEPOINT`` … ``RELEASE``, undone alone if the block raises.

        Outside one, it is a transaction of its own. A bill run keeps one subscription's
        failure from undoing the others of its batch this way.
        """
        with self.transaction():
            self._execute("SAVEPOINT subbill")
            try:
                yield
            except BaseException:
                if self._in_transaction():
                    with suppress(self._driver_error):  # the error being raised says what failed
                        self._connection.execute("ROLLBACK TO SAVEPOINT subbill")
                        self._connection.execute("RELEASE SAVEPOINT subbill")
                raise
            self._execute("RELEASE SAVEPOINT subbill")

    def _rollback(self) -> None:
        """Undo the open transaction, if the database has not already undone it."""
        if not self._in_transaction():
            return
        # If the rollback fails too, the error being raised already says what went wrong.
        with suppress(self._driver_error):
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection."""
        with self._translating("close"):
            self._connection.close()

    # The two statement runners catch the driver's errors inline: they run for every row a
    # bill run reads or writes, and a context manager per statement is most of their cost.

    def _execute(self, sql: str, parameters: Sequence[object] = ()) -> Any:
        try:
            return self._connection.execute(sql, parameters)
        except self._driver_error as error:
            raise self._storage_error(error, sql.split(" ", 1)[0].lower()) from error

    def _rows(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            rows: list[tuple[Any, ...]] = self._connection.execute(sql, parameters).fetchall()
        except self._driver_error as error:
            raise self._storage_error(error, "read") from error
        return rows

    def _one(self, sql: str, parameters: Sequence[object] = ()) -> str | None:
        rows = self._rows(sql, parameters)
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def _all(self, sql: str, parameters: Sequence[object] = ()) -> list[str]:
        return [str(row[0]) for row in self._rows(sql, parameters)]

    def _write(self, sql: str, parameters: Sequence[object]) -> None:
        with self._lock:
            if self._nesting.depth:  # inside this thread's open transaction: join it
                self._execute(sql, parameters)
                return
            with self.transaction():
                self._execute(sql, parameters)

    def _write_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One statement per row (pipelined where the driver can), all or none."""
        with self.savepoint():
            try:
                self._executemany(sql, rows)
            except self._driver_error as error:
                raise self._storage_error(error, sql.split(" ", 1)[0].lower()) from error

    def _read(self, kind: type[_T], table: str, rows: list[tuple[Any, ...]]) -> list[_T]:
        """Documents from ``(key, document)`` rows; a damaged one is named by table and key."""
        return [loads(str(text), kind, table=table, key=key) for key, text in rows]

    def _read_one(self, kind: type[_T], table: str, key: object, text: str | None) -> _T | None:
        return None if text is None else loads(text, kind, table=table, key=key)

    def _document(self, table: str, column: str, key: object) -> str | None:
        """The document of ``table``'s row whose ``column`` is ``key``, or ``None``."""
        if self._missing(table):
            return None
        document, mark = self._dialect.document, self._dialect.mark
        return self._one(f"SELECT {document} FROM {table} WHERE {column} = {mark}", (key,))

    def _get(self, kind: type[_T], table: str, column: str, key: object) -> _T | None:
        """The value stored in ``table`` under ``key`` (its ``column``), or ``None``."""
        return self._read_one(kind, table, key, self._document(table, column, key))

    def _ids(self, table: str) -> list[str]:
        """Every id of ``table`` (its ``id`` column), sorted."""
        return [] if self._missing(table) else self._all(f"SELECT id FROM {table} ORDER BY id")

    def _put(self, table: str, column: str, key: object, value: object) -> None:
        """Insert or replace the row of ``table`` under ``key``: its document is ``value``'s."""
        self._write(self._dialect.upsert(table, (column, "document")), (key, dumps(value)))

    # -- catalog ----------------------------------------------------------------------------

    def load_catalog(self) -> Catalog | None:
        """The saved catalog, or ``None``."""
        return self._get(Catalog, "catalog", "id", 1)

    def save_catalog(self, catalog: Catalog) -> None:
        """Replace the catalog."""
        checked("catalog", catalog, Catalog)
        self._put("catalog", "id", 1, catalog)

    # -- subscriptions and billing states ---------------------------------------------------

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription ``subscription_id``, or ``None``."""
        text = self._document("subscriptions", "id", subscription_id)
        return None if text is None else subscription_from_text(text, subscription_id)

    def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription."""
        checked("subscription", subscription, Subscription)
        self._write(
            self._dialect.upsert("subscriptions", ("id", "customer", "document")),
            (subscription.id, subscription.customer, subscription_text(subscription)),
        )

    def subscription_ids(self) -> list[str]:
        """Every subscription id, sorted."""
        return self._ids("subscriptions")

    def subscription_count(self) -> int:
        """How many subscriptions are stored."""
        return int(self._one("SELECT COUNT(*) FROM subscriptions") or 0)

    def subscription_ids_after(self, after: str | None, *, limit: int) -> list[str]:
        """The next ``limit`` subscription ids after ``after`` (from the first if ``None``)."""
        check_after(after)
        check_limit(limit)
        mark = self._dialect.mark
        if after is None:
            return self._all(f"SELECT id FROM subscriptions ORDER BY id LIMIT {mark}", (limit,))
        return self._all(
            f"SELECT id FROM subscriptions WHERE id > {mark} ORDER BY id LIMIT {mark}",
            (after, limit),
        )

    def get_billing_state(self, subscription_id: str) -> BillingState | None:
        """The billing state of ``subscription_id``, or ``None``."""
        return self._get(BillingState, "billing_states", "subscription_id", subscription_id)

    def save_billing_state(self, subscription_id: str, state: BillingState) -> None:
        """Insert or replace a billing state."""
        check_key("subscription_id", subscription_id)
        checked("state", state, BillingState)
        self._put("billing_states", "subscription_id", subscription_id, state)

    def save_billing_states(self, states: Sequence[tuple[str, BillingState]]) -> None:
        """Insert or replace the billing state of each ``(subscription_id, state)``, all or none."""
        rows = [(key, state_row_text(state)) for key, state in check_states(states)]
        if rows:
            self._write_many(
                self._dialect.upsert("billing_states", ("subscription_id", "document")), rows
            )

    # -- invoices and payments --------------------------------------------------------------

    def next_invoice_number(self, *, issued_on: date) -> str:
        """Reserve and return the next invoice number (inside the caller's transaction).

        Refused (:class:`~subbill.errors.InvalidStateError`) if ``issued_on`` is before the
        date of the last number issued.
        """
        return self.reserve_invoice_numbers(1, issued_on=issued_on)[0]

    @abstractmethod
    def reserve_invoice_numbers(self, count: int, *, issued_on: date) -> list[str]:
        """Reserve the next ``count`` numbers at once (inside the caller's transaction)."""

    def invoice_position(self) -> int:
        """The position of the last invoice stored (``0`` if none); later ones come after it."""
        return int(self._one("SELECT coalesce(max(position), 0) FROM invoices") or 0)

    def count_invoices_since(self, position: int, *, issued_on: date) -> int:
        """How many invoices dated ``issued_on`` were stored after ``position``."""
        mark = self._dialect.mark
        sql = f"SELECT count(*) FROM invoices WHERE position > {mark} AND issued_on = {mark}"
        parameters = (
            check_count("position", position),
            self._dialect.day(check_date("issued_on", issued_on)),
        )
        return int(self._one(sql, parameters) or 0)

    def invoices_since(
        self, position: int, *, issued_on: date, limit: int
    ) -> list[tuple[int, Invoice]]:
        """The first ``limit`` invoices dated ``issued_on`` stored after ``position``, in order.

        Each comes with its position (the next page starts after the last one's).
        """
        mark = self._dialect.mark
        rows = self._rows(
            f"SELECT position, {self._invoice_fields} FROM invoices"
            f" WHERE position > {mark} AND issued_on = {mark} ORDER BY position LIMIT {mark}",
            (
                check_count("position", position),
                self._dialect.day(check_date("issued_on", issued_on)),
                check_limit(limit),
            ),
        )
        return [(int(row[0]), invoice_from_row(row[1:])) for row in rows]

    def add_invoice(self, invoice: Invoice) -> None:
        """Add a numbered invoice; its number must be new."""
        self.add_invoices([checked("invoice", invoice, Invoice)])

    def add_invoices(self, invoices: Sequence[Invoice]) -> None:
        """Add numbered invoices, in order, in one statement; every number must be new."""
        as_text, facts = self._dialect.dates_as_text, self._dunning_columns
        rows: list[tuple[Any, ...]] = []
        for invoice in check_items("invoices", invoices, Invoice):
            number = invoice.number
            if number is None:
                raise InvalidArgumentError("only a numbered invoice can be stored: finalize it")
            issued_on = invoice.issued_on
            day = issued_on.isoformat() if as_text else issued_on  # the dialect's day(), inline
            text = invoice_row_text(invoice, INVOICE_COLUMNS)
            if facts:  # dunning_facts(invoice), inline
                in_dunning = int(invoice.kind is _INVOICE_KIND and invoice.status not in _SETTLED)
                credited = int(bool(invoice.corrections))
                rows.append(
                    (
                        number,
                        invoice.subscription,
                        invoice.customer,
                        day,
                        text,
                        in_dunning,
                        credited,
                    )
                )
            else:
                rows.append((number, invoice.subscription, invoice.customer, day, text))
        if not rows:
            return
        columns: tuple[str, ...] = ("number", "subscription", "customer", "issued_on", "document")
        if facts:
            columns += _DUNNING_COLUMNS
        sql = f"INSERT INTO invoices ({', '.join(columns)}) {self._dialect.values(columns)}"
        try:
            # All or nothing, even inside the caller's transaction: the unique number refuses
            # one already stored (no look-up first), and a new row takes the next position.
            with self.savepoint():
                try:
                    self._executemany(sql, rows)
                except self._driver_error as error:
                    if self._is_duplicate_number(error):
                        raise _DuplicateNumberError from None
                    raise self._storage_error(error, "insert") from error
        except _DuplicateNumberError:
            raise InvalidArgumentError(
                f"invoice number={self._stored_number(rows)!r} already exists"
            ) from None

    def _stored_number(self, rows: Sequence[tuple[Any, ...]]) -> str:
        """The first number of ``rows`` already stored, or given twice (for the error)."""
        sql = f"SELECT 1 FROM invoices WHERE number = {self._dialect.mark}"
        seen: set[str] = set()
        for number, *_ in rows:
            if number in seen or self._one(sql, (number,)):
                return str(number)
            seen.add(number)
        return str(rows[0][0])

    def save_invoice(self, invoice: Invoice) -> None:
        """Replace a stored invoice."""
        checked("invoice", invoice, Invoice)
        mark = self._dialect.mark
        with self.transaction():
            cursor = self._execute(
                f"UPDATE invoices SET document = {self._dialect.json}, subscription = {mark},"
                f" customer = {mark}, issued_on = {mark} WHERE number = {mark}",
                (
                    invoice_text(invoice),
                    invoice.subscription,
                    invoice.customer,
                    self._dialect.day(invoice.issued_on),
                    invoice.number,
                ),
            )
            if cursor.rowcount != 1:
                raise InvalidArgumentError(f"invoice number={invoice.number!r} is not stored")

    def get_invoice(self, number: str) -> Invoice | None:
        """The invoice ``number``, or ``None``."""
        rows = self._rows(
            f"SELECT {self._invoice_fields} FROM invoices WHERE number = {self._dialect.mark}",
            (number,),
        )
        return invoice_from_row(rows[0]) if rows else None

    def invoices(self, *, subscription: str | None = None) -> list[Invoice]:
        """Invoices in the order they were added, all or those of ``subscription``."""
        select = f"SELECT {self._invoice_fields} FROM invoices"
        if subscription is None:
            rows = self._rows(f"{select} ORDER BY position")
        else:
            rows = self._rows(
                f"{select} WHERE subscription = {self._dialect.mark} ORDER BY position",
                (subscription,),
            )
        return [invoice_from_row(row) for row in rows]

    def add_payment(self, invoice_number: str, payment: Payment) -> None:
        """Record a payment for ``invoice_number``."""
        check_key("invoice_number", invoice_number)
        checked("payment", payment, Payment)
        columns = ("invoice_number", "document")
        self._write(
            f"INSERT INTO payments ({', '.join(columns)}) {self._dialect.values(columns)}",
            (invoice_number, dumps(payment)),
        )

    def payments(self, invoice_number: str) -> list[Payment]:
        """The payments of ``invoice_number``, in the order recorded."""
        rows = self._rows(
            f"SELECT id, {self._dialect.document} FROM payments"
            f" WHERE invoice_number = {self._dialect.mark} ORDER BY id",
            (invoice_number,),
        )
        return self._read(Payment, "payments", rows)

    # -- quotes -----------------------------------------------------------------------------

    def get_quote(self, quote_id: str) -> Quote | None:
        """The quote ``quote_id``, or ``None``."""
        return self._get(Quote, "quotes", "id", quote_id)

    def save_quote(self, quote: Quote) -> None:
        """Insert or replace a quote."""
        checked("quote", quote, Quote)
        self._put("quotes", "id", quote.id, quote)

    def quote_ids(self) -> list[str]:
        """Every quote id, sorted."""
        return self._ids("quotes")

    # -- licences ---------------------------------------------------------------------------

    def load_ledger(self) -> LicenseLedger:
        """The whole ledger, in the order entries were appended."""
        rows = self._rows(
            f"SELECT position, {self._dialect.document} FROM ledger ORDER BY position"
        )
        return LicenseLedger(entries=tuple(self._read(LedgerEntry, "ledger", rows)))

    def append_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger entries."""
        added = [(dumps(entry),) for entry in check_items("entries", entries, LedgerEntry)]
        if added:
            sql = f"INSERT INTO ledger (document) {self._dialect.values(['document'])}"
            self._write_many(sql, added)

    def save_license_account(self, account: LicenseAccount) -> None:
        """Insert or replace the account of ``(customer, product, start)``."""
        checked("account", account, LicenseAccount)
        self._write(
            self._dialect.upsert(
                "license_accounts", ("customer", "product", "start", "document"), keys=3
            ),
            (account.customer, account.product, self._dialect.day(account.start), dumps(account)),
        )

    def license_accounts(self) -> list[LicenseAccount]:
        """Every licence account, sorted by customer, product and start."""
        rows = self._rows(
            f"SELECT customer, product, start, {self._dialect.document} FROM license_accounts"
            " ORDER BY customer, product, start"
        )
        keyed = [(f"{customer}/{product}/{start}", text) for customer, product, start, text in rows]
        return self._read(LicenseAccount, "license_accounts", keyed)

    # -- customers, orders and wallets ------------------------------------------------------

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer ``customer_id``, or ``None``."""
        return self._get(Customer, "customers", "id", customer_id)

    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer."""
        checked("customer", customer, Customer)
        self._put("customers", "id", customer.id, customer)

    def customer_ids(self) -> list[str]:
        """Every customer id, sorted."""
        return self._ids("customers")

    def get_order(self, reference: str) -> SalesOrder | None:
        """The order of the purchase ``reference``, or ``None``."""
        return self._get(SalesOrder, "orders", "reference", reference)

    def add_order(self, order: SalesOrder) -> None:
        """Add an order; its reference must be new."""
        checked("order", order, SalesOrder)
        key = order.reference or order.id
        with self.transaction():
            sql = f"SELECT reference FROM orders WHERE reference = {self._dialect.mark}"
            if self._one(sql, (key,)):
                raise InvalidArgumentError(f"an order with reference={key!r} already exists")
            self._execute(self._insert_order, (key, order.customer, dumps(order)))

    def orders(self, *, customer: str | None = None) -> list[SalesOrder]:
        """Orders in the order they were added, all or those of ``customer``."""
        if self._missing("orders"):
            return []
        select = f"SELECT reference, {self._dialect.document} FROM orders"
        if customer is None:
            rows = self._rows(f"{select} ORDER BY position")
        else:
            rows = self._rows(
                f"{select} WHERE customer = {self._dialect.mark} ORDER BY position", (customer,)
            )
        return self._read(SalesOrder, "orders", rows)

    def get_wallet(self, customer: str) -> Wallet | None:
        """The wallet of ``customer``, or ``None``."""
        return self._get(Wallet, "wallets", "customer", customer)

    def save_wallet(self, wallet: Wallet) -> None:
        """Insert or replace the wallet of ``wallet.customer``."""
        checked("wallet", wallet, Wallet)
        self._put("wallets", "customer", wallet.customer, wallet)

    # -- usage records ----------------------------------------------------------------------

    def add_usage_records(self, records: Sequence[UsageRecord]) -> int:
        """Add ``records`` (idempotent by subscription and key, all or nothing); how many new.

        One look-up of the keys already stored, then one insert of the new records, in one
        transaction (or the caller's, in a savepoint): write transactions run one at a
        time, so no other can add a key between.
        """
        added = check_usage_records(records)
        if not added:
            return 0
        columns = ("subscription", "key", "used_on", "document")
        sql = f"INSERT INTO usage_records ({', '.join(columns)}) {self._dialect.values(columns)}"
        with self.savepoint():
            new = new_usage_records(added, self._stored_usage(added))
            if new:
                with self._translating("insert"):
                    self._executemany(sql, [usage_row(record) for record in new])
        return len(new)

    def usage_record_count(self) -> int:
        """How many usage records are stored."""
        if self._missing("usage_records"):
            return 0
        return int(self._one("SELECT COUNT(*) FROM usage_records") or 0)

    # -- dunning ----------------------------------------------------------------------------

    def add_dunning_events(self, events: Sequence[DunningEvent]) -> None:
        """Record ``events`` in order, all or nothing; a key recorded already is refused.

        One look-up of the keys, then one insert, in one transaction (or the caller's, in a
        savepoint): write transactions run one at a time, so no other can record a key
        between; the unique key column stands behind it.
        """
        given = check_dunning_events(events)
        rows = [(e.key, e.invoice, e.subscription, dumps(e)) for e in given]
        self._insert_keyed("dunning_events", ("key", "invoice", "subscription"), rows)

    def _insert_keyed(
        self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert ``rows`` (``columns``, then the document; the key first), all or nothing.

        A key stored already is refused with its table's conflict (nothing inserted).
        """
        if not rows:
            return
        mark = self._dialect.mark
        names = (*columns, "document")
        sql = f"INSERT INTO {table} ({', '.join(names)}) {self._dialect.values(names)}"
        conflict = dunning_conflict if table == "dunning_events" else outbox_conflict
        with self.savepoint():
            keys = [row[0] for row in rows]
            for start in range(0, len(keys), _KEYS_PER_QUERY):
                chunk = keys[start : start + _KEYS_PER_QUERY]
                marks = ", ".join(mark for _ in chunk)
                stored = self._all(f"SELECT key FROM {table} WHERE key IN ({marks})", chunk)
                if stored:
                    raise conflict(min(stored, key=keys.index))
            with self._translating("insert"):
                self._executemany(sql, rows)

    def dunning_events(
        self, *, invoice: str | None = None, subscription: str | None = None
    ) -> list[DunningEvent]:
        """The events in the order recorded: all, or those of ``invoice``/``subscription``."""
        wanted = {
            "invoice": check_optional_key("invoice", invoice),
            "subscription": check_optional_key("subscription", subscription),
        }
        if self._missing("dunning_events"):
            return []
        mark = self._dialect.mark
        where = [f"{column} = {mark}" for column, value in wanted.items() if value is not None]
        rows = self._rows(
            f"SELECT key, {self._dialect.document} FROM dunning_events"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY position",
            [value for value in wanted.values() if value is not None],
        )
        return self._read(DunningEvent, "dunning_events", rows)

    def save_charge_attempt(self, attempt: ChargeAttempt) -> None:
        """Insert or replace the attempt of ``attempt.key``."""
        checked("attempt", attempt, ChargeAttempt)
        self._write(
            self._dialect.upsert("charge_attempts", ("key", "status", "document")),
            (attempt.key, attempt.status.value, dumps(attempt)),
        )

    def charge_attempts(self, *, status: ChargeStatus | None = None) -> list[ChargeAttempt]:
        """The attempts sorted by key: all, or those in ``status``."""
        if status is not None:
            checked("status", status, ChargeStatus)
        if self._missing("charge_attempts"):
            return []
        select = f"SELECT key, {self._dialect.document} FROM charge_attempts"
        if status is None:
            rows = self._rows(f"{select} ORDER BY key")
        else:
            rows = self._rows(
                f"{select} WHERE status = {self._dialect.mark} ORDER BY key", (status.value,)
            )
        return self._read(ChargeAttempt, "charge_attempts", rows)

    def dunning_invoices(self, *, as_of: date) -> list[Invoice]:
        """The invoices not settled on ``as_of`` (not credit notes), in the order added.

        Two reads, each from its partial index: the invoices open now, and the few paid ones
        credited by a credit note dated after ``as_of``. A paid invoice is not read. An
        invoice credited between the two reads is in both: it is returned once, as read
        last.
        """
        day = check_date("as_of", as_of).isoformat()
        dunning = self._dunning_reads()
        select = f"SELECT position, {self._invoice_fields} FROM invoices"
        rows = self._rows(f"{select} WHERE {dunning.open} ORDER BY position")
        rows += self._rows(
            f"{select} WHERE {dunning.credited} AND {dunning.credited_after} ORDER BY position",
            (day,),
        )
        by_position = {int(row[0]): row[1:] for row in rows}
        return [invoice_from_row(by_position[key]) for key in sorted(by_position)]

    def dunning_events_of(self, invoices: Sequence[str]) -> list[DunningEvent]:
        """The events of the invoices numbered ``invoices``, in the order recorded."""
        numbers = list(dict.fromkeys(check_invoice_numbers(invoices)))
        if not numbers or self._missing("dunning_events"):
            return []
        mark = self._dialect.mark
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(numbers), _KEYS_PER_QUERY):
            chunk = numbers[start : start + _KEYS_PER_QUERY]
            marks = ", ".join(mark for _ in chunk)
            rows += self._rows(
                f"SELECT position, key, {self._dialect.document} FROM dunning_events"
                f" WHERE invoice IN ({marks}) ORDER BY position",
                chunk,
            )
        rows.sort(key=lambda row: int(row[0]))
        return self._read(DunningEvent, "dunning_events", [row[1:] for row in rows])

    def last_dunning_event_on(self) -> date | None:
        """The latest day of a dunning event recorded (from the events' index by day)."""
        if self._missing("dunning_events"):
            return None
        last = self._one(f"SELECT max({self._dunning.event_on}) FROM dunning_events")
        return _stored_day(last, "dunning_events")

    def last_payment_on(self) -> date | None:
        """The date of the latest payment recorded (from the payments' index by day)."""
        last = self._one(f"SELECT max({self._dunning.paid_on}) FROM payments")
        return _stored_day(last, "payments")

    def charge_attempt(self, key: str) -> ChargeAttempt | None:
        """The attempt of idempotency key ``key``, or ``None``."""
        check_key("key", key)
        if self._missing("charge_attempts"):
            return None
        found = self._read(
            ChargeAttempt,
            "charge_attempts",
            self._rows(
                f"SELECT key, {self._dialect.document} FROM charge_attempts"
                f" WHERE key = {self._dialect.mark}",
                (key,),
            ),
        )
        return found[0] if found else None

    def queue_dunning_actions(self, actions: Sequence[DunningAction]) -> None:
        """Keep ``actions`` to send until acknowledged; a key queued already is refused.

        One look-up of the keys, then one insert, like :meth:`add_dunning_events`.
        """
        given = check_dunning_actions(actions)
        self._insert_keyed("dunning_outbox", ("key",), [(a.key, dumps(a)) for a in given])

    def unsent_dunning_actions(self) -> list[DunningAction]:
        """The actions queued and not acknowledged yet, in the order queued."""
        if self._missing("dunning_outbox"):
            return []
        rows = self._rows(
            f"SELECT key, {self._dialect.document} FROM dunning_outbox WHERE sent = 0"
            " ORDER BY position"
        )
        return self._read(DunningAction, "dunning_outbox", rows)

    def acknowledge_dunning(self, keys: Sequence[str]) -> int:
        """Mark the actions of ``keys`` as sent; how many of them were unsent."""
        given = list(dict.fromkeys(check_action_keys(keys)))
        if not given:
            return 0
        mark = self._dialect.mark
        done = 0
        with self.savepoint():
            for start in range(0, len(given), _KEYS_PER_QUERY):
                chunk = given[start : start + _KEYS_PER_QUERY]
                marks = ", ".join(mark for _ in chunk)
                unsent = f"FROM dunning_outbox WHERE sent = 0 AND key IN ({marks})"
                done += int(self._one(f"SELECT COUNT(*) {unsent}", chunk) or 0)
                self._execute(
                    f"UPDATE dunning_outbox SET sent = 1 WHERE sent = 0 AND key IN ({marks})",
                    chunk,
                )
        return done


_KEYS_PER_QUERY = 500  # keys bound in one IN (…): well under SQLite's limit of variables


class _DuplicateNumberError(Exception):
    """Raised inside the savepoint of ``add_invoices`` to undo it: a number is taken."""


# -- rows ------------------------------------------------------------------------------------

#: An invoice's columns beside its document (the queries need them): its document leaves
#: them out, and reading puts them back.
INVOICE_COLUMNS = ("number", "subscription", "customer", "issued_on")
#: A usage record's columns (the primary key and the index by day), left out of its document.
USAGE_COLUMNS = ("subscription", "key", "used_on")


def _stored_day(text: str | None, table: str) -> date | None:
    """A day read from ``table``'s documents (``None`` for none).

    One that is no ISO date is a damaged row (:class:`StoredDataError`).
    """
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise StoredDataError(
            f"a document holds the day {text!r}, not an ISO date (YYYY-MM-DD)",
            table=table,
            key="(latest day)",
        ) from None


def utf8_text(data: bytes, table: str, key: str) -> str:
    """A document's text read as bytes; one that is not UTF-8 is a damaged row."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StoredDataError(
            f"the document is not UTF-8 text: {error}", table=table, key=key
        ) from None


def subscription_from_text(text: str, key: str) -> Subscription:
    """The subscription stored under ``key``; a document of another id is a damaged row.

    (A document copied into another row would otherwise be billed twice.) A row the codec
    stamped is read back without its checks (:func:`~subbill.storage.codec.read_subscription`).
    """
    return _stored_under(key, read_subscription(text, table="subscriptions", key=key))


def billing_subscription_from_text(text: str, key: str) -> Subscription | OnePlanRow:
    """:func:`subscription_from_text` for a bill run: a usual row's values stand in for it.

    (:func:`~subbill.storage.codec.read_billing_subscription`.)
    """
    return _stored_under(key, read_billing_subscription(text, table="subscriptions", key=key))


_Read = TypeVar("_Read", Subscription, OnePlanRow, Subscription | OnePlanRow)


def _stored_under(key: str, read: _Read) -> _Read:
    """``read``, unless it holds a subscription of another id than ``key`` (a damaged row)."""
    if read.id != key:
        raise StoredDataError(
            f"it holds subscription {read.id!r}: a document stored under another id",
            table="subscriptions",
            key=key,
        )
    return read


def invoice_text(invoice: Invoice) -> str:
    """The document of an invoice's row: its JSON text without its columns' fields."""
    return invoice_row_text(invoice, INVOICE_COLUMNS)


#: The columns of dunning's facts, in the order :func:`dunning_facts` gives them.
_DUNNING_COLUMNS = ("in_dunning", "credited")
_SETTLED = (InvoiceStatus.PAID, InvoiceStatus.VOID)
_INVOICE_KIND = DocumentKind.INVOICE  # read once: a member read through its enum class is slow


def dunning_facts(invoice: Invoice) -> tuple[int, int]:
    """What dunning reads of an invoice's row: ``(in_dunning, credited)``, each 0 or 1.

    ``in_dunning`` is 1 for an invoice (not a credit note) neither paid nor void, which
    dunning reads; ``credited`` is 1 when a credit note corrects it. Both are what SQL
    predicates over the row's document say (property
    ``test_dunning_columns_equal_the_predicates_of_the_document``).

    >>> from subbill import Money
    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> draft = draft_invoice(customer="C", currency="EUR", issued_on=date(2026, 3, 1),
    ...                       lines=[one_time_line("x", "X", Money("10", "EUR"))])
    >>> dunning_facts(draft.finalize(number="F-1"))
    (1, 0)
    """
    return (
        int(invoice.kind is _INVOICE_KIND and invoice.status not in _SETTLED),
        int(bool(invoice.corrections)),
    )


def invoice_from_row(row: Sequence[Any]) -> Invoice:
    """An invoice read back from ``(number, subscription, customer, ISO date, document)``."""
    number, subscription, customer, issued_on, text = row
    columns = dict(zip(INVOICE_COLUMNS, (number, subscription, customer, issued_on), strict=True))
    return loads(str(text), Invoice, table="invoices", key=number, columns=columns)


def usage_row(record: UsageRecord) -> tuple[str, str, str, str]:
    """The row of a usage record: its columns, then its document without them."""
    text = row_text(record, columns=USAGE_COLUMNS)
    return record.subscription, record.key, record.used_on.isoformat(), text


def usage_from_row(row: Sequence[Any]) -> UsageRecord:
    """A usage record read back from its row (a damaged one names the table and its key).

    The document may come as bytes (SQLite reads them so, to name one that is not UTF-8).
    """
    subscription, key, used_on, document = row
    named = f"{subscription}/{key}"
    text = document if isinstance(document, str) else utf8_text(document, "usage_records", named)
    columns = dict(zip(USAGE_COLUMNS, (subscription, key, str(used_on)), strict=True))
    return loads(text, UsageRecord, table="usage_records", key=named, columns=columns)

"""The SQLite store: the embedded default. One file, WAL mode, schema created and migrated.

Each value object is stored as its versioned JSON document (``codec``) beside the few
columns queries need. ``transaction()`` is ``BEGIN IMMEDIATE … COMMIT``: it takes the
database's write lock at once, so two processes billing the same file write one page of
a run at a time and every invoice is created exactly once; an exception (or
a killed process) leaves the file as it was before the transaction. Every write outside a
transaction runs in a transaction of its own.

What can go wrong with the file is a :class:`~subbill.errors.StorageError`, never an
``sqlite3`` exception: :class:`~subbill.storage.errors.DatabaseLockedError` after waiting
``timeout`` seconds for another process's write lock,
:class:`~subbill.storage.errors.DiskFullError` (the transaction is rolled back and the
original error is the one raised), :class:`~subbill.storage.errors.ReadOnlyDatabaseError`,
and :class:`~subbill.storage.errors.StoredDataError` for a row that cannot be read back,
naming its table and id. ``read_only=True`` opens the file for reading only: it never
takes nor waits for the write lock (WAL readers do not block on a writer).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from subbill._validate import check_count, check_items
from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.customers import Customer
from subbill.errors import InvalidArgumentError, StorageError
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
    check_flag,
    check_key,
    check_limit,
    check_numbering,
    check_path,
    check_states,
    check_subscription_ids,
    check_timeout,
    check_usage_records,
    checked,
    new_usage_records,
)
from subbill.storage._nesting import Nesting
from subbill.storage._numbering import reserve_numbers
from subbill.storage.codec import document_text, dumps, loads, to_document
from subbill.storage.errors import (
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StoredDataError,
)
from subbill.storage.protocols import BillingRow
from subbill.storage.shards import check_shard, shard_of
from subbill.subscriptions import Subscription

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

_T = TypeVar("_T")
# Each migration takes the schema from its index to the next version.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE catalog (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL)",
        (
            "CREATE TABLE subscriptions (id TEXT PRIMARY KEY, customer TEXT NOT NULL,"
            " document TEXT NOT NULL)"
        ),
        "CREATE TABLE billing_states (subscription_id TEXT PRIMARY KEY, document TEXT NOT NULL)",
        (
            "CREATE TABLE invoices (number TEXT PRIMARY KEY, position INTEGER NOT NULL UNIQUE,"
            " subscription TEXT, customer TEXT NOT NULL, issued_on TEXT NOT NULL,"
            " document TEXT NOT NULL)"
        ),
        "CREATE INDEX invoices_by_subscription ON invoices (subscription, position)",
        (
            "CREATE TABLE invoice_sequence (id INTEGER PRIMARY KEY CHECK (id = 1),"
            " last_number TEXT NOT NULL)"
        ),
        (
            "CREATE TABLE payments (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " invoice_number TEXT NOT NULL, document TEXT NOT NULL)"
        ),
        "CREATE TABLE quotes (id TEXT PRIMARY KEY, document TEXT NOT NULL)",
        "CREATE TABLE ledger (position INTEGER PRIMARY KEY AUTOINCREMENT, document TEXT NOT NULL)",
        (
            "CREATE TABLE license_accounts (customer TEXT NOT NULL, product TEXT NOT NULL,"
            " start TEXT NOT NULL, document TEXT NOT NULL, PRIMARY KEY (customer, product, start))"
        ),
    ),
    (
        # The date of the last number issued: numbers follow the order of their dates.
        "ALTER TABLE invoice_sequence ADD COLUMN last_issued_on TEXT",
        "UPDATE invoice_sequence SET last_issued_on = (SELECT MAX(issued_on) FROM invoices)",
    ),
    (
        # Customers, the orders of purchases (keyed by the payment's reference), wallets.
        "CREATE TABLE customers (id TEXT PRIMARY KEY, document TEXT NOT NULL)",
        (
            "CREATE TABLE orders (reference TEXT PRIMARY KEY, position INTEGER NOT NULL UNIQUE,"
            " customer TEXT NOT NULL, document TEXT NOT NULL)"
        ),
        "CREATE INDEX orders_by_customer ON orders (customer, position)",
        "CREATE TABLE wallets (customer TEXT PRIMARY KEY, document TEXT NOT NULL)",
    ),
    (
        # Fewer bytes per invoice: an invoice's position is its rowid (one index less, and
        # a new row takes the next position by itself), and a billing state is stored in
        # its primary key's b-tree alone (WITHOUT ROWID: no second copy of the id).
        (
            "CREATE TABLE invoices_v4 (position INTEGER PRIMARY KEY, number TEXT NOT NULL"
            " UNIQUE, subscription TEXT, customer TEXT NOT NULL, issued_on TEXT NOT NULL,"
            " document TEXT NOT NULL)"
        ),
        (
            "INSERT INTO invoices_v4 (position, number, subscription, customer, issued_on,"
            " document) SELECT position, number, subscription, customer, issued_on, document"
            " FROM invoices ORDER BY position"
        ),
        "DROP TABLE invoices",
        "ALTER TABLE invoices_v4 RENAME TO invoices",
        # (an index holds its row's rowid, the position: in position order per subscription)
        "CREATE INDEX invoices_by_subscription ON invoices (subscription)",
        (
            "CREATE TABLE billing_states_v4 (subscription_id TEXT PRIMARY KEY,"
            " document TEXT NOT NULL) WITHOUT ROWID"
        ),
        "INSERT INTO billing_states_v4 SELECT subscription_id, document FROM billing_states",
        "DROP TABLE billing_states",
        "ALTER TABLE billing_states_v4 RENAME TO billing_states",
    ),
    (
        # Usage records (issue 15), one per subscription and idempotency key, read a page of
        # subscriptions at a time by day: their document leaves out what the columns hold.
        (
            "CREATE TABLE usage_records (subscription TEXT NOT NULL, key TEXT NOT NULL,"
            " used_on TEXT NOT NULL, document TEXT NOT NULL, PRIMARY KEY (subscription, key))"
            " WITHOUT ROWID"
        ),
        "CREATE INDEX usage_records_by_day ON usage_records (subscription, used_on)",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)


# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _FULL, _CANTOPEN, _NOTADB, _CORRUPT = 5, 6, 8, 13, 14, 26, 11


class SQLiteStore:
    """A :class:`~subbill.storage.protocols.Store` in one SQLite file.

    ``timeout`` is how long a write waits for another process's write lock before
    :class:`~subbill.storage.errors.DatabaseLockedError`; ``read_only=True`` opens an
    existing file for reading only (any write is refused with
    :class:`~subbill.storage.errors.ReadOnlyDatabaseError`). ``create=False`` opens only an
    existing subbill database (an older schema is upgraded): a missing file, an empty one or
    another SQLite database is refused with :class:`~subbill.errors.StorageError` and left
    as it was, never given a schema.

    >>> store = SQLiteStore(":memory:")
    >>> with store.transaction():
    ...     store.next_invoice_number(issued_on=date(2026, 3, 1))
    'F-2026-000001'
    >>> store.next_invoice_number(issued_on=date(2026, 2, 28))
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidStateError: issued_on=2026-02-28 is before 2026-03-01, the date of ...
    """

    def __init__(
        self,
        path: str | Path,
        *,
        numbering: InvoiceNumbering | None = None,
        timeout: float = 60.0,
        read_only: bool = False,
        create: bool = True,
    ) -> None:
        # Every option is checked before a file is opened (or created).
        self.path = check_path(path)
        self.numbering = check_numbering(numbering)
        self.timeout = check_timeout(timeout)
        self.read_only = check_flag("read_only", read_only)
        check_flag("create", create)
        self._lock = threading.RLock()
        self._nesting = Nesting()
        self._schema = SCHEMA_VERSION
        with self._translating("open"):
            if read_only or not create:
                # mode=rw: a missing file is an error, never created empty.
                mode = "ro" if read_only else "rw"
                uri = Path(self.path).resolve().as_uri() + f"?mode={mode}"
                self._connection = sqlite3.connect(
                    uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
                )
            else:
                self._connection = sqlite3.connect(
                    self.path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
        try:
            with self._translating("open"):
                self._connection.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            # Before WAL mode, which would write an empty file's header.
            if not create and not read_only and self._version() is None:
                raise StorageError(
                    f"{self.path}: not a subbill database (it has no schema version); point "
                    "--db at the right file, or create one with 'subbill catalog load FILE'"
                )
            with self._translating("open"):
                if not read_only:
                    self._connection.execute("PRAGMA journal_mode=WAL")
            if read_only:
                self._check_schema()
            else:
                self._migrate()
        except BaseException:
            self._connection.close()
            raise

    # -- errors -----------------------------------------------------------------------------------

    def _storage_error(self, error: sqlite3.Error, doing: str) -> StorageError:
        """The typed error for a driver's ``error`` met while ``doing`` something."""
        code = getattr(error, "sqlite_errorcode", None)
        primary = None if code is None else code & 0xFF
        if primary in (_BUSY, _LOCKED) or "database is locked" in str(error):
            return DatabaseLockedError(self.path, waited=self.timeout)
        if primary == _FULL:
            return DiskFullError(self.path)
        if primary == _READONLY:
            reason = (
                "opened read-only"
                if self.read_only
                else "the file, or the folder that holds it, cannot be written"
            )
            return ReadOnlyDatabaseError(self.path, reason=reason)
        if primary in (_NOTADB, _CORRUPT):
            return StorageError(
                f"{self.path}: not a subbill database, or a damaged one ({error}); "
                "point --db at the right file or restore it from a backup"
            )
        if primary == _CANTOPEN:
            return StorageError(
                f"{self.path}: cannot open the database file (its folder is missing, "
                "or it cannot be read)"
            )
        return StorageError(f"{self.path}: {doing} failed: {error}")

    @contextmanager
    def _translating(self, doing: str) -> Iterator[None]:
        """Turn any ``sqlite3`` error raised inside into a :class:`StorageError`."""
        try:
            yield
        except sqlite3.Error as error:
            raise self._storage_error(error, doing) from error

    # -- schema -----------------------------------------------------------------------------------

    def _version(self) -> int | None:
        """The schema version of the file, or ``None`` if it has none yet."""
        exists = self._one(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        )
        version = None if exists is None else self._one("SELECT version FROM schema_version")
        return None if version is None else int(version)

    def _migrate(self) -> None:
        """Create or upgrade the schema; a file already up to date is not locked at all."""
        current = self._version()
        if current is not None and current > SCHEMA_VERSION:
            raise self._newer(current)
        if current == SCHEMA_VERSION:
            return
        with self.transaction():
            self._execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = self._one("SELECT version FROM schema_version")
            current = 0 if version is None else int(version)
            if current > SCHEMA_VERSION:
                raise self._newer(current)
            for statements in _MIGRATIONS[current:]:
                for statement in statements:
                    self._execute(statement)
            if version is None:
                self._execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            else:
                self._execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    def _check_schema(self) -> None:
        """A read-only store cannot migrate: it reads any schema up to this one."""
        version = self._version()
        if version is None:
            raise StorageError(
                f"{self.path}: not a subbill database (it has no schema version); "
                "point --db at the right file"
            )
        if version > SCHEMA_VERSION:
            raise self._newer(version)
        self._schema = version

    def _newer(self, version: int) -> StorageError:
        return StorageError(
            f"{self.path}: database has schema version {version}, newer than this "
            f"subbill's {SCHEMA_VERSION}: upgrade subbill"
        )

    # -- transactions and statements --------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back if the block raises.

        If the block fails because of the database (disk full…), the error raised is that
        one, typed: the rollback that follows never masks it.
        """
        with self._lock, self._nesting.level() as outermost:
            if not outermost:  # a nested block joins the open transaction
                yield
                return
            if self.read_only:
                raise ReadOnlyDatabaseError(self.path, reason="opened read-only")
            self._execute("BEGIN IMMEDIATE")
            try:
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
                if self._connection.in_transaction:
                    with suppress(sqlite3.Error):  # the error being raised says what failed
                        self._connection.execute("ROLLBACK TO subbill")
                        self._connection.execute("RELEASE subbill")
                raise
            self._execute("RELEASE subbill")

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already undone it (disk full does)."""
        if not self._connection.in_transaction:
            return
        # If the rollback fails too, the error being raised already says what went wrong.
        with suppress(sqlite3.Error):
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection."""
        with self._translating("close"):
            self._connection.close()

    # The two statement runners catch the driver's errors inline: they run for every row a
    # bill run reads or writes, and a context manager per statement is most of their cost.

    def _execute(self, sql: str, parameters: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._connection.execute(sql, parameters)
        except sqlite3.Error as error:
            raise self._storage_error(error, sql.split(" ", 1)[0].lower()) from error

    def _rows(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise self._storage_error(error, "read") from error

    def _one(self, sql: str, parameters: tuple[object, ...] = ()) -> str | None:
        rows = self._rows(sql, parameters)
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def _all(self, sql: str, parameters: tuple[object, ...] = ()) -> list[str]:
        return [str(row[0]) for row in self._rows(sql, parameters)]

    def _write(self, sql: str, parameters: tuple[object, ...]) -> None:
        with self._lock:
            if self._nesting.depth:  # inside this thread's open transaction: join it
                self._execute(sql, parameters)
                return
            with self.transaction():
                self._execute(sql, parameters)

    def _read(self, kind: type[_T], table: str, rows: list[tuple[Any, ...]]) -> list[_T]:
        """Documents from ``(key, document)`` rows; a damaged one is named by table and key."""
        return [loads(str(text), kind, table=table, key=key) for key, text in rows]

    def _read_one(self, kind: type[_T], table: str, key: object, text: str | None) -> _T | None:
        return None if text is None else loads(text, kind, table=table, key=key)

    # -- catalog ---------------------------------------------------------------------------

    def load_catalog(self) -> Catalog | None:
        """The saved catalog, or ``None``."""
        text = self._one("SELECT document FROM catalog WHERE id = 1")
        return self._read_one(Catalog, "catalog", 1, text)

    def save_catalog(self, catalog: Catalog) -> None:
        """Replace the catalog."""
        checked("catalog", catalog, Catalog)
        self._write(
            "INSERT OR REPLACE INTO catalog (id, document) VALUES (1, ?)", (dumps(catalog),)
        )

    # -- subscriptions and billing states ------------------------------------------------------

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription ``subscription_id``, or ``None``."""
        text = self._one("SELECT document FROM subscriptions WHERE id = ?", (subscription_id,))
        found = self._read_one(Subscription, "subscriptions", subscription_id, text)
        if found is not None and found.id != subscription_id:
            raise StoredDataError(
                f"it holds subscription {found.id!r}: a document stored under another id",
                table="subscriptions",
                key=subscription_id,
            )
        return found

    def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription."""
        checked("subscription", subscription, Subscription)
        self._write(
            "INSERT OR REPLACE INTO subscriptions (id, customer, document) VALUES (?, ?, ?)",
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
        if after is None:
            return self._all("SELECT id FROM subscriptions ORDER BY id LIMIT ?", (limit,))
        return self._all(
            "SELECT id FROM subscriptions WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
        )

    def get_billing_state(self, subscription_id: str) -> BillingState | None:
        """The billing state of ``subscription_id``, or ``None``."""
        text = self._one(
            "SELECT document FROM billing_states WHERE subscription_id = ?", (subscription_id,)
        )
        return self._read_one(BillingState, "billing_states", subscription_id, text)

    def save_billing_state(self, subscription_id: str, state: BillingState) -> None:
        """Insert or replace a billing state."""
        check_key("subscription_id", subscription_id)
        checked("state", state, BillingState)
        self._write(
            "INSERT OR REPLACE INTO billing_states (subscription_id, document) VALUES (?, ?)",
            (subscription_id, dumps(state)),
        )

    # -- a bill run's batches ---------------------------------------------------------------

    def billing_rows(
        self, after: str | None, *, limit: int, shard: int = 0, shards: int = 1
    ) -> tuple[list[BillingRow], str | None]:
        """The next page of subscriptions after ``after`` with their states, in one query.

        Only the rows of shard ``shard`` of ``shards`` are read back (decoded); the version
        of a row is its two documents' bytes. Returns the rows and the page's last id. A
        row whose id is not text (a damaged file) cannot be paged through nor sharded: the
        first page of shard 0 reports it as a damaged row, once per run.
        """
        check_after(after)
        check_limit(limit)
        check_shard(shard, shards)
        if after is None:
            rows = self._rows(f"{_SELECT_BILLING} WHERE {_TEXT_ID} ORDER BY s.id LIMIT ?", (limit,))
        else:
            rows = self._rows(
                f"{_SELECT_BILLING} WHERE {_TEXT_ID} AND s.id > ? ORDER BY s.id LIMIT ?",
                (after, limit),
            )
        found = [
            _billing_row(key, subscription, state)
            for key, subscription, state in rows
            if shards == 1 or shard_of(key, shards) == shard
        ]
        if after is None and shard == 0:
            damaged = self._rows(f"{_SELECT_BILLING} WHERE NOT {_TEXT_ID} LIMIT ?", (limit,))
            found[:0] = [
                BillingRow(
                    repr(key),
                    None,
                    None,
                    StoredDataError(
                        f"its id {key!r} is not text: repair or delete the row",
                        table="subscriptions",
                        key=key,
                    ),
                    None,
                )
                for key, _, _ in damaged
            ]
        return found, (str(rows[-1][0]) if rows else None)

    def billing_versions(self, subscription_ids: Sequence[str]) -> dict[str, object]:
        """The version (both documents' bytes) of each of ``subscription_ids`` still stored."""
        wanted = check_items("subscription_ids", subscription_ids, str)
        versions: dict[str, object] = {}
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            chunk = wanted[start : start + _IDS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            rows = self._rows(f"{_SELECT_BILLING} WHERE s.id IN ({marks})", tuple(chunk))
            versions.update((key, (subscription, state)) for key, subscription, state in rows)
        return versions

    def save_billing_states(self, states: Sequence[tuple[str, BillingState]]) -> None:
        """Insert or replace the billing state of each ``(subscription_id, state)``, all or none."""
        rows = [(key, dumps(state)) for key, state in check_states(states)]
        with self.savepoint(), self._translating("insert"):
            self._connection.executemany(
                "INSERT OR REPLACE INTO billing_states (subscription_id, document) VALUES (?, ?)",
                rows,
            )

    # -- invoices and payments ------------------------------------------------------------------

    def next_invoice_number(self, *, issued_on: date) -> str:
        """Reserve and return the next invoice number (inside the caller's transaction).

        Refused (:class:`~subbill.errors.InvalidStateError`) if ``issued_on`` is before the
        date of the last number issued.
        """
        return self.reserve_invoice_numbers(1, issued_on=issued_on)[0]

    def reserve_invoice_numbers(self, count: int, *, issued_on: date) -> list[str]:
        """Reserve the next ``count`` numbers at once (inside the caller's transaction)."""
        check_count("count", count, minimum=1, maximum=MAX_LIMIT)
        with self.transaction():
            rows = self._rows("SELECT last_number, last_issued_on FROM invoice_sequence")
            previous, last = rows[0] if rows else (None, None)
            numbers = reserve_numbers(
                self.numbering,
                previous,
                count,
                last_issued_on=None if last is None else date.fromisoformat(last),
                issued_on=issued_on,
            )
            self._execute(
                "INSERT OR REPLACE INTO invoice_sequence (id, last_number, last_issued_on)"
                " VALUES (1, ?, ?)",
                (numbers[-1], issued_on.isoformat()),
            )
            return numbers

    def last_issued_on(self) -> date | None:
        """The date of the last number issued, or ``None``."""
        if self._schema < 2:  # an older file opened read-only: the invoices have the date
            last = self._one("SELECT MAX(issued_on) FROM invoices")
        else:
            last = self._one("SELECT last_issued_on FROM invoice_sequence")
        return None if last is None else date.fromisoformat(last)

    def invoice_position(self) -> int:
        """The position of the last invoice stored (``0`` if none); later ones come after it."""
        return int(self._one("SELECT coalesce(max(position), 0) FROM invoices") or 0)

    def count_invoices_since(self, position: int, *, issued_on: date) -> int:
        """How many invoices dated ``issued_on`` were stored after ``position``."""
        sql = "SELECT count(*) FROM invoices WHERE position > ? AND issued_on = ?"
        return int(
            self._one(
                sql,
                (check_count("position", position), check_date("issued_on", issued_on).isoformat()),
            )
            or 0
        )

    def invoices_since(
        self, position: int, *, issued_on: date, limit: int
    ) -> list[tuple[int, Invoice]]:
        """The first ``limit`` invoices dated ``issued_on`` stored after ``position``, in order."""
        rows = self._rows(
            "SELECT position, number, subscription, customer, issued_on, document FROM invoices"
            " WHERE position > ? AND issued_on = ? ORDER BY position LIMIT ?",
            (
                check_count("position", position),
                check_date("issued_on", issued_on).isoformat(),
                check_limit(limit),
            ),
        )
        return [(int(row[0]), _invoice_from_row(row[1:])) for row in rows]

    def add_invoice(self, invoice: Invoice) -> None:
        """Add a numbered invoice; its number must be new."""
        self.add_invoices([checked("invoice", invoice, Invoice)])

    def add_invoices(self, invoices: Sequence[Invoice]) -> None:
        """Add numbered invoices, in order, in one statement; every number must be new."""
        rows = []
        for invoice in check_items("invoices", invoices, Invoice):
            if invoice.number is None:
                raise InvalidArgumentError("only a numbered invoice can be stored: finalize it")
            rows.append(
                (
                    invoice.number,
                    invoice.subscription,
                    invoice.customer,
                    invoice.issued_on.isoformat(),
                    _invoice_text(invoice),
                )
            )
        try:
            self._insert_invoices(rows)
        except _DuplicateNumberError:
            raise InvalidArgumentError(
                f"invoice number={self._stored_number(rows)!r} already exists"
            ) from None

    def _insert_invoices(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert invoice rows, all or none (a number already stored undoes them all)."""
        duplicate = False
        with self.savepoint():  # all or nothing, even inside the caller's transaction
            try:  # the primary key refuses a number already stored: no look-up first
                self._connection.executemany(  # a new row's position is the next rowid
                    "INSERT INTO invoices (number, subscription, customer, issued_on, document)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
            except sqlite3.IntegrityError as error:
                if "invoices.number" not in str(error):
                    raise self._storage_error(error, "insert") from error
                duplicate = True
            except sqlite3.Error as error:
                raise self._storage_error(error, "insert") from error
            if duplicate:
                raise _DuplicateNumberError

    def _stored_number(self, rows: Sequence[tuple[Any, ...]]) -> str:
        """The first number of ``rows`` already stored, or given twice (for the error)."""
        seen: set[str] = set()
        for number, *_ in rows:
            if number in seen or self._one("SELECT 1 FROM invoices WHERE number = ?", (number,)):
                return str(number)
            seen.add(number)
        return str(rows[0][0])

    def save_invoice(self, invoice: Invoice) -> None:
        """Replace a stored invoice."""
        checked("invoice", invoice, Invoice)
        with self.transaction():
            cursor = self._execute(
                "UPDATE invoices SET document = ?, subscription = ?, customer = ?, issued_on = ?"
                " WHERE number = ?",
                (
                    _invoice_text(invoice),
                    invoice.subscription,
                    invoice.customer,
                    invoice.issued_on.isoformat(),
                    invoice.number,
                ),
            )
            if cursor.rowcount != 1:
                raise InvalidArgumentError(f"invoice number={invoice.number!r} is not stored")

    def get_invoice(self, number: str) -> Invoice | None:
        """The invoice ``number``, or ``None``."""
        rows = self._rows(f"{_SELECT_INVOICES} WHERE number = ?", (number,))
        return _invoice_from_row(rows[0]) if rows else None

    def invoices(self, *, subscription: str | None = None) -> list[Invoice]:
        """Invoices in the order they were added, all or those of ``subscription``."""
        if subscription is None:
            rows = self._rows(f"{_SELECT_INVOICES} ORDER BY position")
        else:
            rows = self._rows(
                f"{_SELECT_INVOICES} WHERE subscription = ? ORDER BY position",
                (subscription,),
            )
        return [_invoice_from_row(row) for row in rows]

    def add_payment(self, invoice_number: str, payment: Payment) -> None:
        """Record a payment for ``invoice_number``."""
        check_key("invoice_number", invoice_number)
        checked("payment", payment, Payment)
        self._write(
            "INSERT INTO payments (invoice_number, document) VALUES (?, ?)",
            (invoice_number, dumps(payment)),
        )

    def payments(self, invoice_number: str) -> list[Payment]:
        """The payments of ``invoice_number``, in the order recorded."""
        rows = self._rows(
            "SELECT id, document FROM payments WHERE invoice_number = ? ORDER BY id",
            (invoice_number,),
        )
        return self._read(Payment, "payments", rows)

    # -- quotes -----------------------------------------------------------------------------------

    def get_quote(self, quote_id: str) -> Quote | None:
        """The quote ``quote_id``, or ``None``."""
        text = self._one("SELECT document FROM quotes WHERE id = ?", (quote_id,))
        return self._read_one(Quote, "quotes", quote_id, text)

    def save_quote(self, quote: Quote) -> None:
        """Insert or replace a quote."""
        checked("quote", quote, Quote)
        self._write(
            "INSERT OR REPLACE INTO quotes (id, document) VALUES (?, ?)", (quote.id, dumps(quote))
        )

    def quote_ids(self) -> list[str]:
        """Every quote id, sorted."""
        return self._all("SELECT id FROM quotes ORDER BY id")

    # -- licences ---------------------------------------------------------------------------------

    def load_ledger(self) -> LicenseLedger:
        """The whole ledger, in the order entries were appended."""
        rows = self._rows("SELECT position, document FROM ledger ORDER BY position")
        return LicenseLedger(entries=tuple(self._read(LedgerEntry, "ledger", rows)))

    def append_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger entries."""
        added = check_items("entries", entries, LedgerEntry)
        with self.transaction():
            for entry in added:
                self._execute("INSERT INTO ledger (document) VALUES (?)", (dumps(entry),))

    def save_license_account(self, account: LicenseAccount) -> None:
        """Insert or replace the account of ``(customer, product, start)``."""
        checked("account", account, LicenseAccount)
        self._write(
            "INSERT OR REPLACE INTO license_accounts (customer, product, start, document)"
            " VALUES (?, ?, ?, ?)",
            (account.customer, account.product, account.start.isoformat(), dumps(account)),
        )

    def license_accounts(self) -> list[LicenseAccount]:
        """Every licence account, sorted by customer, product and start."""
        rows = self._rows(
            "SELECT customer || '/' || product || '/' || start, document FROM license_accounts"
            " ORDER BY customer, product, start"
        )
        return self._read(LicenseAccount, "license_accounts", rows)

    # -- customers, orders and wallets ------------------------------------------------------

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer ``customer_id``, or ``None``."""
        if self._schema < 3:  # an older file opened read-only: none stored
            return None
        text = self._one("SELECT document FROM customers WHERE id = ?", (customer_id,))
        return self._read_one(Customer, "customers", customer_id, text)

    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer."""
        checked("customer", customer, Customer)
        self._write(
            "INSERT OR REPLACE INTO customers (id, document) VALUES (?, ?)",
            (customer.id, dumps(customer)),
        )

    def customer_ids(self) -> list[str]:
        """Every customer id, sorted."""
        if self._schema < 3:  # an older file opened read-only: none stored
            return []
        return self._all("SELECT id FROM customers ORDER BY id")

    def get_order(self, reference: str) -> SalesOrder | None:
        """The order of the purchase ``reference``, or ``None``."""
        if self._schema < 3:  # an older file opened read-only: none stored
            return None
        text = self._one("SELECT document FROM orders WHERE reference = ?", (reference,))
        return self._read_one(SalesOrder, "orders", reference, text)

    def add_order(self, order: SalesOrder) -> None:
        """Add an order; its reference must be new."""
        checked("order", order, SalesOrder)
        key = order.reference or order.id
        with self.transaction():
            if self._one("SELECT reference FROM orders WHERE reference = ?", (key,)):
                raise InvalidArgumentError(f"an order with reference={key!r} already exists")
            self._execute(
                "INSERT INTO orders (reference, position, customer, document) VALUES (?,"
                " (SELECT COALESCE(MAX(position), 0) + 1 FROM orders), ?, ?)",
                (key, order.customer, dumps(order)),
            )

    def orders(self, *, customer: str | None = None) -> list[SalesOrder]:
        """Orders in the order they were added, all or those of ``customer``."""
        if self._schema < 3:  # an older file opened read-only: none stored
            return []
        if customer is None:
            rows = self._rows("SELECT reference, document FROM orders ORDER BY position")
        else:
            rows = self._rows(
                "SELECT reference, document FROM orders WHERE customer = ? ORDER BY position",
                (customer,),
            )
        return self._read(SalesOrder, "orders", rows)

    def get_wallet(self, customer: str) -> Wallet | None:
        """The wallet of ``customer``, or ``None``."""
        if self._schema < 3:  # an older file opened read-only: none stored
            return None
        text = self._one("SELECT document FROM wallets WHERE customer = ?", (customer,))
        return self._read_one(Wallet, "wallets", customer, text)

    def save_wallet(self, wallet: Wallet) -> None:
        """Insert or replace the wallet of ``wallet.customer``."""
        checked("wallet", wallet, Wallet)
        self._write(
            "INSERT OR REPLACE INTO wallets (customer, document) VALUES (?, ?)",
            (wallet.customer, dumps(wallet)),
        )

    # -- usage records ------------------------------------------------------------------------

    def add_usage_records(self, records: Sequence[UsageRecord]) -> int:
        """Add ``records`` (idempotent by subscription and key, all or nothing); how many new.

        One look-up of the keys already stored, then one insert of the new records, in one
        transaction (or the caller's, in a savepoint).
        """
        added = check_usage_records(records)
        if not added:
            return 0
        with self.savepoint():
            stored = self._stored_usage(added)
            new = new_usage_records(added, stored)
            if new:
                rows = [_usage_row(record) for record in new]
                with self._translating("insert"):
                    self._connection.executemany(_INSERT_USAGE, rows)
        return len(new)

    def _stored_usage(self, records: Sequence[UsageRecord]) -> dict[tuple[str, str], UsageRecord]:
        """The stored records of the ``(subscription, key)`` of ``records``."""
        found: dict[tuple[str, str], UsageRecord] = {}
        for start in range(0, len(records), _PAIRS_PER_QUERY):
            chunk = records[start : start + _PAIRS_PER_QUERY]
            pairs = ", ".join("(?, ?)" for _ in chunk)
            keys = tuple(value for r in chunk for value in (r.subscription, r.key))
            rows = self._rows(f"{_SELECT_USAGE} WHERE (subscription, key) IN ({pairs})", keys)
            found.update(((row[0], row[1]), _usage_from_row(row)) for row in rows)
        return found

    def usage_records(
        self, subscription_ids: Sequence[str], *, before: date
    ) -> dict[str, list[UsageRecord]]:
        """The records of each of ``subscription_ids`` dated before ``before``, by day and key.

        One query per 500 ids (a bill run's default page).
        """
        wanted = check_subscription_ids(subscription_ids)
        day = check_before(before).isoformat()
        found: dict[str, list[UsageRecord]] = {key: [] for key in wanted}
        if self._schema < 5:  # an older file opened read-only: none stored
            return found
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            chunk = wanted[start : start + _IDS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            rows = self._rows(
                f"{_SELECT_USAGE} WHERE subscription IN ({marks}) AND used_on < ?"
                " ORDER BY subscription, used_on, key",
                (*chunk, day),
            )
            for row in rows:
                found[row[0]].append(_usage_from_row(row))
        return found

    def usage_record_count(self) -> int:
        """How many usage records are stored."""
        if self._schema < 5:  # an older file opened read-only: none stored
            return 0
        return int(self._one("SELECT COUNT(*) FROM usage_records") or 0)


# An invoice's number, subscription, customer and date live in its row's columns (the
# queries need them): its document leaves them out, and reading puts them back.
_INVOICE_COLUMNS = ("number", "subscription", "customer", "issued_on")
_SELECT_INVOICES = "SELECT number, subscription, customer, issued_on, document FROM invoices"


class _DuplicateNumberError(Exception):
    """Raised inside the savepoint of ``add_invoices`` to undo it: a number is taken."""


# A page's documents are read as bytes and decoded row by row: a document that is not
# UTF-8 fails its own subscription, not the query of the whole page.
_SELECT_BILLING = (
    "SELECT s.id, CAST(s.document AS BLOB), CAST(b.document AS BLOB) FROM subscriptions s"
    " LEFT JOIN billing_states b ON b.subscription_id = s.id"
)
_TEXT_ID = "typeof(s.id) = 'text'"
_IDS_PER_QUERY = 500  # ids bound in one IN (…): well under SQLite's limit of variables


def _text(data: bytes, table: str, key: str) -> str:
    """A document's text; one that is not UTF-8 is a damaged row."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise StoredDataError(
            f"the document is not UTF-8 text: {error}", table=table, key=key
        ) from None


def _billing_row(key: str, subscription: bytes, state: bytes | None) -> BillingRow:
    """A subscription and its state read back; a damaged one is the row's error."""
    try:
        read = loads(
            _text(subscription, "subscriptions", key), Subscription, table="subscriptions", key=key
        )
        if read.id != key:
            raise StoredDataError(
                f"it holds subscription {read.id!r}: a document stored under another id",
                table="subscriptions",
                key=key,
            )
        return BillingRow(
            key,
            read,
            None
            if state is None
            else loads(
                _text(state, "billing_states", key), BillingState, table="billing_states", key=key
            ),
            None,
            (subscription, state),
        )
    except StoredDataError as error:
        return BillingRow(key, None, None, error, (subscription, state))


def _invoice_text(invoice: Invoice) -> str:
    document = to_document(invoice)
    for name in _INVOICE_COLUMNS:
        document["data"].pop(name, None)
    return document_text(document)


def _invoice_from_row(row: Sequence[Any]) -> Invoice:
    number, subscription, customer, issued_on, text = row
    columns = dict(zip(_INVOICE_COLUMNS, (number, subscription, customer, issued_on), strict=True))
    return loads(str(text), Invoice, table="invoices", key=number, columns=columns)


# A usage record's subscription, key and day live in its row's columns (the primary key and
# the index by day): its document leaves them out, and reading puts them back. Documents are
# read as bytes and decoded row by row, so that one not UTF-8 is named as a damaged row.
_USAGE_COLUMNS = ("subscription", "key", "used_on")
_SELECT_USAGE = "SELECT subscription, key, used_on, CAST(document AS BLOB) FROM usage_records"
_INSERT_USAGE = (
    "INSERT INTO usage_records (subscription, key, used_on, document) VALUES (?, ?, ?, ?)"
)
_PAIRS_PER_QUERY = _IDS_PER_QUERY // 2  # two variables per (subscription, key)


def _usage_row(record: UsageRecord) -> tuple[str, str, str, str]:
    """The row of a usage record: its columns, then its document without them."""
    document = to_document(record)
    for name in _USAGE_COLUMNS:
        document["data"].pop(name, None)
    return record.subscription, record.key, record.used_on.isoformat(), document_text(document)


def _usage_from_row(row: Sequence[Any]) -> UsageRecord:
    """A usage record read back from its row (a damaged one names the table and its key)."""
    subscription, key, used_on, document = row
    named = f"{subscription}/{key}"
    text = document if isinstance(document, str) else _text(document, "usage_records", named)
    columns = dict(zip(_USAGE_COLUMNS, (subscription, key, str(used_on)), strict=True))
    return loads(text, UsageRecord, table="usage_records", key=named, columns=columns)

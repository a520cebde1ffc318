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
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, cast

from subbill._validate import check_count, check_items
from subbill.errors import StorageError
from subbill.invoices import InvoiceNumbering
from subbill.metering import UsageRecord
from subbill.storage._arguments import (
    MAX_LIMIT,
    check_after,
    check_before,
    check_flag,
    check_limit,
    check_numbering,
    check_path,
    check_subscription_ids,
    check_timeout,
)
from subbill.storage._nesting import Nesting
from subbill.storage._numbering import reserve_numbers
from subbill.storage._sql import (
    DunningSQL,
    SQLDialect,
    SQLStore,
    billing_subscription_from_text,
    subscription_from_text,
    usage_from_row,
    utf8_text,
)
from subbill.storage.codec import OnePlanRow, read_billing_state
from subbill.storage.errors import (
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StoredDataError,
)
from subbill.storage.protocols import BillingRow, Store
from subbill.storage.shards import check_shard, shard_of
from subbill.subscriptions import Subscription

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "billing_page"]

#: A field of a row's JSON document, NULL for a document that is not JSON (a damaged row
#: stays writable and is read, to be named by its reader, rather than refused by an index).
_VALID = "CASE WHEN json_valid(document) THEN {} END"


def _field(path: str) -> str:
    return _VALID.format(f"json_extract(document, '{path}')")


#: What a dunning run read from an invoice's JSON document up to schema 7 (issue 17): the
#: predicates of schema 7's partial indexes, the query's own text (SQLite uses a partial index
#: only for a WHERE that repeats it). They stay the truth schema 8's columns hold: the
#: migration fills the columns with them, a trigger keeps them after any update of a document,
#: and a file of an older schema opened read-only is read with them.
_JSON_DUNNING = DunningSQL(
    open=(
        f"coalesce({_field('$.data.status')}, '') NOT IN ('paid', 'void')"
        f" AND coalesce({_field('$.data.kind')}, 'invoice') = 'invoice'"
    ),
    credited=(_VALID.format("json_array_length(document, '$.data.corrections')") + " > 0"),
    credited_after=(
        f"{_field('$.data.status')} = 'paid'"  # noqa: S608  (the schema's own names)
        f" AND coalesce({_field('$.data.kind')}, 'invoice') = 'invoice'"
        " AND EXISTS (SELECT 1 FROM json_each(" + _VALID.format("document") + ","
        " '$.data.corrections') WHERE json_extract(value, '$.credited_on') > ?)"
    ),
    paid_on=_field("$.data.paid_on"),
    event_on=_field("$.data.on"),
)
#: What a dunning run reads since schema 8: the facts of an invoice's row in two INTEGER
#: columns (0 or 1: no byte of the row's payload), ``in_dunning`` (open for dunning: not
#: paid nor void, not a credit note) and ``credited`` (a credit note corrects it), each
#: served by a partial index. Writing a row then parses no JSON: the store gives the
#: columns with the document (:func:`~subbill.storage._sql.dunning_facts`). The few paid
#: and credited invoices are still filtered by their document (``credited_after``).
_DUNNING = _JSON_DUNNING._replace(open="in_dunning = 1", credited="credited = 1")


def _fact(predicate: str) -> str:
    """A dunning fact of the row's document as 0 or 1 (a damaged document: as schema 7 read it)."""
    return f"CASE WHEN {predicate} THEN 1 ELSE 0 END"


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
    (
        # Dunning (issue 17): the events of the runs, one per key (invoice, step, attempt),
        # in the order recorded; the card retries by idempotency key.
        (
            "CREATE TABLE dunning_events (position INTEGER PRIMARY KEY, key TEXT NOT NULL"
            " UNIQUE, invoice TEXT NOT NULL, subscription TEXT, document TEXT NOT NULL)"
        ),
        "CREATE INDEX dunning_events_by_invoice ON dunning_events (invoice)",
        "CREATE INDEX dunning_events_by_subscription ON dunning_events (subscription)",
        (
            "CREATE TABLE charge_attempts (key TEXT PRIMARY KEY, status TEXT NOT NULL,"
            " document TEXT NOT NULL) WITHOUT ROWID"
        ),
        # The outbox: each action recorded, to send until the caller acknowledges it.
        (
            "CREATE TABLE dunning_outbox (position INTEGER PRIMARY KEY, key TEXT NOT NULL"
            " UNIQUE, sent INTEGER NOT NULL DEFAULT 0, document TEXT NOT NULL)"
        ),
        "CREATE INDEX dunning_outbox_unsent ON dunning_outbox (position) WHERE sent = 0",
    ),
    (
        # A dunning run reads only the open invoices (issue 17): partial indexes of the
        # invoices open now and of those credited, and the payments by day.
        f"CREATE INDEX invoices_in_dunning ON invoices (position) WHERE {_JSON_DUNNING.open}",
        (f"CREATE INDEX invoices_credited ON invoices (position) WHERE {_JSON_DUNNING.credited}"),
        f"CREATE INDEX payments_by_day ON payments ({_DUNNING.paid_on})",
        f"CREATE INDEX dunning_events_by_day ON dunning_events ({_DUNNING.event_on})",
    ),
    (
        # Dunning's facts in columns (issue 13): an insert evaluated schema 7's predicates,
        # parsing the document's JSON about five times. The table is rebuilt with the two
        # columns, filled from each stored document (a row of a newer file turned older keeps
        # no stale column). A row inserted without them (by hand) is read by dunning (1):
        # its reader decides, as for a damaged document.
        (
            "CREATE TABLE invoices_v8 (position INTEGER PRIMARY KEY, number TEXT NOT NULL"
            " UNIQUE, subscription TEXT, customer TEXT NOT NULL, issued_on TEXT NOT NULL,"
            " document TEXT NOT NULL, in_dunning INTEGER NOT NULL DEFAULT 1,"
            " credited INTEGER NOT NULL DEFAULT 1)"
        ),
        (
            "INSERT INTO invoices_v8 (position, number, subscription, customer, issued_on,"  # noqa: S608
            " document, in_dunning, credited) SELECT position, number, subscription, customer,"
            f" issued_on, document, {_fact(_JSON_DUNNING.open)},"
            f" {_fact(_JSON_DUNNING.credited)} FROM invoices ORDER BY position"
        ),
        "DROP TABLE invoices",
        "ALTER TABLE invoices_v8 RENAME TO invoices",
        "CREATE INDEX invoices_by_subscription ON invoices (subscription)",
        f"CREATE INDEX invoices_in_dunning ON invoices (position) WHERE {_DUNNING.open}",
        f"CREATE INDEX invoices_credited ON invoices (position) WHERE {_DUNNING.credited}",
        # Any update of a document (the store's, a payment's or a credit note's, or one
        # made by hand) sets the facts again from the document itself.
        (
            "CREATE TRIGGER invoices_dunning_facts AFTER UPDATE OF document ON invoices"  # noqa: S608
            f" BEGIN UPDATE invoices SET in_dunning = {_fact(_JSON_DUNNING.open)},"
            f" credited = {_fact(_JSON_DUNNING.credited)} WHERE position = NEW.position; END"
        ),
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)
_FACTS_SINCE = 8  # the schema whose invoices' rows hold dunning's facts in columns


# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _FULL, _CANTOPEN, _NOTADB, _CORRUPT = 5, 6, 8, 13, 14, 26, 11


class SQLiteStore(SQLStore):
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

    _dialect = SQLDialect(mark="?", document="document", json="?", dates_as_text=True, replace=True)
    _driver_error = sqlite3.Error
    _migrations = _MIGRATIONS
    _create_schema_version = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
    # Customers, orders and wallets came with version 3, usage records with version 5, the
    # dunning events, card retries and the dunning outbox with version 6 (the indexes of
    # what a dunning run reads with version 7: an older file read-only reads it without).
    _tables_since: ClassVar = {
        "customers": 3,
        "orders": 3,
        "wallets": 3,
        "usage_records": 5,
        "dunning_events": 6,
        "charge_attempts": 6,
        "dunning_outbox": 6,
    }
    _invoice_fields = "number, subscription, customer, issued_on, document"
    _dunning = _DUNNING
    _dunning_columns = True
    # A new order's position is the next one (a rowid-less unique column).
    _insert_order = (
        "INSERT INTO orders (reference, position, customer, document) VALUES (?,"
        " (SELECT COALESCE(MAX(position), 0) + 1 FROM orders), ?, ?)"
    )
    _connection: sqlite3.Connection

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
        self._label = self.path
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

    def _storage_error(self, error: Exception, doing: str) -> StorageError:
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

    # -- schema -----------------------------------------------------------------------------------

    def _version(self) -> int | None:
        """The schema version of the file, or ``None`` if it has none yet."""
        exists = self._one(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        )
        version = None if exists is None else self._one("SELECT version FROM schema_version")
        return None if version is None else int(version)

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

    # -- the dialect's hooks -----------------------------------------------------------------

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE``: the database's write lock at once (a read-only store refuses)."""
        if self.read_only:
            raise ReadOnlyDatabaseError(self.path, reason="opened read-only")
        self._execute("BEGIN IMMEDIATE")

    def _begin_migration(self) -> None:
        """``BEGIN IMMEDIATE``: a second process opening a new file waits, then finds it done."""
        self._execute("BEGIN IMMEDIATE")

    def _in_transaction(self) -> bool:
        """Whether SQLite still has the transaction open (a full disk undoes it already)."""
        return self._connection.in_transaction

    def _executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        self._connection.executemany(sql, rows)

    def _dunning_reads(self) -> DunningSQL:
        """Dunning's facts from their columns; a file before schema 8 (read-only) has none."""
        return _DUNNING if self._schema >= _FACTS_SINCE else _JSON_DUNNING

    def _is_duplicate_number(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "invoices.number" in str(error)

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
        return self._page(after, limit, shard, shards, subscription_from_text)

    def _billing_page(
        self, after: str | None, *, limit: int, shard: int = 0, shards: int = 1
    ) -> tuple[list[BillingRow], str | None]:
        """:meth:`billing_rows` as :func:`billing_page` reads it for a bill run.

        A usual stamped subscription (one plan span, the usual fields) is not built: its
        row's values stand in for it (:class:`~subbill.storage.codec.OnePlanRow`, whose
        ``to_charge_plan`` builds the plan straight from them); every other row is read as
        :meth:`billing_rows` reads it, with the same errors.
        """
        return self._page(after, limit, shard, shards, billing_subscription_from_text)

    def _page(
        self,
        after: str | None,
        limit: int,
        shard: int,
        shards: int,
        read: Callable[[str, str], Subscription | OnePlanRow],
    ) -> tuple[list[BillingRow], str | None]:
        """A page of rows, each subscription read by ``read`` (its text, its key)."""
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
            _billing_row(key, subscription, state, read)
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

    # -- invoice numbers ------------------------------------------------------------------------

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

    # -- usage records ------------------------------------------------------------------------

    def _stored_usage(self, records: Sequence[UsageRecord]) -> dict[tuple[str, str], UsageRecord]:
        """The stored records of the ``(subscription, key)`` of ``records``."""
        found: dict[tuple[str, str], UsageRecord] = {}
        for start in range(0, len(records), _PAIRS_PER_QUERY):
            chunk = records[start : start + _PAIRS_PER_QUERY]
            pairs = ", ".join("(?, ?)" for _ in chunk)
            keys = tuple(value for r in chunk for value in (r.subscription, r.key))
            rows = self._rows(f"{_SELECT_USAGE} WHERE (subscription, key) IN ({pairs})", keys)
            found.update(((row[0], row[1]), usage_from_row(row)) for row in rows)
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
                found[row[0]].append(usage_from_row(row))
        return found


# A page's documents are read as bytes and decoded row by row: a document that is not
# UTF-8 fails its own subscription, not the query of the whole page.
_SELECT_BILLING = (
    "SELECT s.id, CAST(s.document AS BLOB), CAST(b.document AS BLOB) FROM subscriptions s"
    " LEFT JOIN billing_states b ON b.subscription_id = s.id"
)
_TEXT_ID = "typeof(s.id) = 'text'"
_IDS_PER_QUERY = 500  # ids bound in one IN (…): well under SQLite's limit of variables


def _billing_row(
    key: str,
    subscription: bytes,
    state: bytes | None,
    read: Callable[[str, str], Subscription | OnePlanRow],
) -> BillingRow:
    """A subscription and its state read back; a damaged one is the row's error."""
    try:
        return BillingRow(
            key,
            # A OnePlanRow stands in for its subscription (billing_page's rows only).
            cast("Subscription", read(utf8_text(subscription, "subscriptions", key), key)),
            None
            if state is None
            else read_billing_state(
                utf8_text(state, "billing_states", key), table="billing_states", key=key
            ),
            None,
            (subscription, state),
        )
    except StoredDataError as error:
        return BillingRow(key, None, None, error, (subscription, state))


def billing_page(
    store: Store, after: str | None, *, limit: int, shard: int = 0, shards: int = 1
) -> tuple[list[BillingRow], str | None]:
    """The next page of ``store``'s subscriptions as :func:`~subbill.service.run_billing` bills it.

    ``store.billing_rows(after, limit=limit, shard=shard, shards=shards)``, except from a
    :class:`SQLiteStore` whose ``billing_rows`` is its own (not replaced on the instance
    nor overridden): there a usual stamped subscription's row gives the values billing
    reads of it instead of the subscription (:class:`~subbill.storage.codec.OnePlanRow`:
    its ``plans`` and ``to_charge_plan`` are the subscription's, and so is any other
    attribute), and every other row what ``billing_rows`` gives. A row's version, state and
    error are ``billing_rows``'.
    """
    if (
        isinstance(store, SQLiteStore)
        and "billing_rows" not in getattr(store, "__dict__", ())  # not replaced on the store
        and type(store).billing_rows is _OWN_BILLING_ROWS  # nor overridden, nor patched
    ):
        return store._billing_page(after, limit=limit, shard=shard, shards=shards)
    return store.billing_rows(after, limit=limit, shard=shard, shards=shards)


#: ``SQLiteStore.billing_rows`` as defined here: a subclass overriding it, or the class patched
#: (a test's ``mock.patch.object``), is read through it.
_OWN_BILLING_ROWS = SQLiteStore.billing_rows


# A usage record's day is read back as text, and its document as bytes decoded row by row,
# so that one not UTF-8 is named as a damaged row.
_SELECT_USAGE = "SELECT subscription, key, used_on, CAST(document AS BLOB) FROM usage_records"
_PAIRS_PER_QUERY = _IDS_PER_QUERY // 2  # two variables per (subscription, key)

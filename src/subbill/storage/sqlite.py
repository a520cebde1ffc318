"""The SQLite store: the embedded default. One file, WAL mode, schema created and migrated.

Each value object is stored as its versioned JSON document (``codec``) beside the few
columns queries need. ``transaction()`` is ``BEGIN IMMEDIATE … COMMIT``: it takes the
database's write lock at once, so two processes billing the same file are serialised
subscription by subscription and every invoice is created exactly once; an exception (or
a killed process) leaves the file as it was before the transaction. Every write outside a
transaction runs in a transaction of its own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.errors import InvalidArgumentError
from subbill.invoices import Invoice, InvoiceNumbering, Payment
from subbill.licenses import LedgerEntry, LicenseAccount, LicenseLedger
from subbill.quotes import Quote
from subbill.storage.codec import dumps, loads
from subbill.subscriptions import Subscription

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

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
)
SCHEMA_VERSION = len(_MIGRATIONS)


class SQLiteStore:
    """A :class:`~subbill.storage.protocols.Store` in one SQLite file.

    >>> store = SQLiteStore(":memory:")
    >>> with store.transaction():
    ...     store.next_invoice_number(issued_on=date(2026, 3, 1))
    'F-2026-000001'
    """

    def __init__(
        self,
        path: str | Path,
        *,
        numbering: InvoiceNumbering | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.path = str(path)
        self.numbering = numbering or InvoiceNumbering()
        self._connection = sqlite3.connect(
            self.path, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.RLock()
        self._depth = 0
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        self._migrate()

    def _migrate(self) -> None:
        with self.transaction():
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            row = self._connection.execute("SELECT version FROM schema_version").fetchone()
            current = 0 if row is None else int(row[0])
            if current > SCHEMA_VERSION:
                raise InvalidArgumentError(
                    f"database {self.path!r} has schema version {current}, newer than this "
                    f"subbill's {SCHEMA_VERSION}: upgrade subbill"
                )
            for statements in _MIGRATIONS[current:]:
                for statement in statements:
                    self._connection.execute(statement)
            if row is None:
                self._connection.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
            else:
                self._connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back if the block raises."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            else:
                self._connection.execute("COMMIT")
            finally:
                self._depth = 0

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def _one(self, sql: str, parameters: tuple[object, ...] = ()) -> str | None:
        row = self._connection.execute(sql, parameters).fetchone()
        return None if row is None else str(row[0])

    def _all(self, sql: str, parameters: tuple[object, ...] = ()) -> list[str]:
        return [str(row[0]) for row in self._connection.execute(sql, parameters)]

    def _write(self, sql: str, parameters: tuple[object, ...]) -> None:
        with self.transaction():
            self._connection.execute(sql, parameters)

    # -- catalog ---------------------------------------------------------------------------

    def load_catalog(self) -> Catalog | None:
        """The saved catalog, or ``None``."""
        text = self._one("SELECT document FROM catalog WHERE id = 1")
        return None if text is None else loads(text, Catalog)

    def save_catalog(self, catalog: Catalog) -> None:
        """Replace the catalog."""
        self._write(
            "INSERT OR REPLACE INTO catalog (id, document) VALUES (1, ?)", (dumps(catalog),)
        )

    # -- subscriptions and billing states ------------------------------------------------------

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription ``subscription_id``, or ``None``."""
        text = self._one("SELECT document FROM subscriptions WHERE id = ?", (subscription_id,))
        return None if text is None else loads(text, Subscription)

    def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription."""
        self._write(
            "INSERT OR REPLACE INTO subscriptions (id, customer, document) VALUES (?, ?, ?)",
            (subscription.id, subscription.customer, dumps(subscription)),
        )

    def subscription_ids(self) -> list[str]:
        """Every subscription id, sorted."""
        return self._all("SELECT id FROM subscriptions ORDER BY id")

    def get_billing_state(self, subscription_id: str) -> BillingState | None:
        """The billing state of ``subscription_id``, or ``None``."""
        text = self._one(
            "SELECT document FROM billing_states WHERE subscription_id = ?", (subscription_id,)
        )
        return None if text is None else loads(text, BillingState)

    def save_billing_state(self, subscription_id: str, state: BillingState) -> None:
        """Insert or replace a billing state."""
        self._write(
            "INSERT OR REPLACE INTO billing_states (subscription_id, document) VALUES (?, ?)",
            (subscription_id, dumps(state)),
        )

    # -- invoices and payments ------------------------------------------------------------------

    def next_invoice_number(self, *, issued_on: date) -> str:
        """Reserve and return the next invoice number (inside the caller's transaction)."""
        with self.transaction():
            previous = self._one("SELECT last_number FROM invoice_sequence WHERE id = 1")
            number = self.numbering.next_number(previous, issued_on=issued_on)
            self._connection.execute(
                "INSERT OR REPLACE INTO invoice_sequence (id, last_number) VALUES (1, ?)",
                (number,),
            )
            return number

    def add_invoice(self, invoice: Invoice) -> None:
        """Add a numbered invoice; its number must be new."""
        if invoice.number is None:
            raise InvalidArgumentError("only a numbered invoice can be stored: finalize it")
        with self.transaction():
            if self._one("SELECT number FROM invoices WHERE number = ?", (invoice.number,)):
                raise InvalidArgumentError(f"invoice number={invoice.number!r} already exists")
            self._connection.execute(
                "INSERT INTO invoices (number, position, subscription, customer, issued_on,"
                " document) VALUES (?, (SELECT COALESCE(MAX(position), 0) + 1 FROM invoices),"
                " ?, ?, ?, ?)",
                (
                    invoice.number,
                    invoice.subscription,
                    invoice.customer,
                    invoice.issued_on.isoformat(),
                    dumps(invoice),
                ),
            )

    def save_invoice(self, invoice: Invoice) -> None:
        """Replace a stored invoice."""
        with self.transaction():
            cursor = self._connection.execute(
                "UPDATE invoices SET document = ? WHERE number = ?",
                (dumps(invoice), invoice.number),
            )
            if cursor.rowcount != 1:
                raise InvalidArgumentError(f"invoice number={invoice.number!r} is not stored")

    def get_invoice(self, number: str) -> Invoice | None:
        """The invoice ``number``, or ``None``."""
        text = self._one("SELECT document FROM invoices WHERE number = ?", (number,))
        return None if text is None else loads(text, Invoice)

    def invoices(self, *, subscription: str | None = None) -> list[Invoice]:
        """Invoices in the order they were added, all or those of ``subscription``."""
        if subscription is None:
            texts = self._all("SELECT document FROM invoices ORDER BY position")
        else:
            texts = self._all(
                "SELECT document FROM invoices WHERE subscription = ? ORDER BY position",
                (subscription,),
            )
        return [loads(text, Invoice) for text in texts]

    def add_payment(self, invoice_number: str, payment: Payment) -> None:
        """Record a payment for ``invoice_number``."""
        self._write(
            "INSERT INTO payments (invoice_number, document) VALUES (?, ?)",
            (invoice_number, dumps(payment)),
        )

    def payments(self, invoice_number: str) -> list[Payment]:
        """The payments of ``invoice_number``, in the order recorded."""
        texts = self._all(
            "SELECT document FROM payments WHERE invoice_number = ? ORDER BY id", (invoice_number,)
        )
        return [loads(text, Payment) for text in texts]

    # -- quotes -----------------------------------------------------------------------------------

    def get_quote(self, quote_id: str) -> Quote | None:
        """The quote ``quote_id``, or ``None``."""
        text = self._one("SELECT document FROM quotes WHERE id = ?", (quote_id,))
        return None if text is None else loads(text, Quote)

    def save_quote(self, quote: Quote) -> None:
        """Insert or replace a quote."""
        self._write(
            "INSERT OR REPLACE INTO quotes (id, document) VALUES (?, ?)", (quote.id, dumps(quote))
        )

    def quote_ids(self) -> list[str]:
        """Every quote id, sorted."""
        return self._all("SELECT id FROM quotes ORDER BY id")

    # -- licences ---------------------------------------------------------------------------------

    def load_ledger(self) -> LicenseLedger:
        """The whole ledger, in the order entries were appended."""
        texts = self._all("SELECT document FROM ledger ORDER BY position")
        return LicenseLedger(entries=tuple(loads(text, LedgerEntry) for text in texts))

    def append_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger entries."""
        with self.transaction():
            for entry in entries:
                self._connection.execute(
                    "INSERT INTO ledger (document) VALUES (?)", (dumps(entry),)
                )

    def save_license_account(self, account: LicenseAccount) -> None:
        """Insert or replace the account of ``(customer, product, start)``."""
        self._write(
            "INSERT OR REPLACE INTO license_accounts (customer, product, start, document)"
            " VALUES (?, ?, ?, ?)",
            (account.customer, account.product, account.start.isoformat(), dumps(account)),
        )

    def license_accounts(self) -> list[LicenseAccount]:
        """Every licence account, sorted by customer, product and start."""
        texts = self._all("SELECT document FROM license_accounts ORDER BY customer, product, start")
        return [loads(text, LicenseAccount) for text in texts]

"""Bad inputs to the stores, the billing service and the command line that drives them.

Every case starts from a fresh store or database file (copied from one built once) and
checks afterwards that nothing changed: not the stored data, not the files beside it.
Command-line cases run the command as ``subbill`` does, but let its error out typed
(:func:`_cli`), after checking that ``subbill`` would exit with a non-zero status.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import attrs

from subbill import (
    LicenseLedger,
    Subscription,
    bill_subscription,
    cli,
)
from subbill.billing import BillingTerms, NegativeBalancePolicy
from subbill.errors import (
    InvalidArgumentError,
    InvalidDateError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
    StorageError,
)
from subbill.service import run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.errors import (
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StoredDataError,
)
from subbill.taxes import TaxRounding
from tests.adversarial import Case
from tests.seed_catalog import seed_catalog
from tests.stores import database_content, fill_every_table, site_quote, snapshot

__all__ = ["CASES"]

CATALOG = seed_catalog()
EXAMPLES = Path(__file__).parent.parent.parent / "examples"
JUNE = date(2026, 6, 1)
_ROOT = tempfile.TemporaryDirectory(prefix="subbill-adversarial-storage-")
_folders = iter(range(1_000_000))

CommandError: type[Exception] = cli._CommandError  # the command line's own typed error


# -- worlds: a store, or a database file in a folder, and how to tell they did not change ------


def _new_folder() -> Path:
    folder = Path(_ROOT.name) / f"case{next(_folders)}"
    folder.mkdir()
    return folder


def _fill(store: Any) -> Any:
    """A catalog, one subscription billed as of 1 June 2026, a quote, licences, a payment."""
    return fill_every_table(store, CATALOG, on=JUNE)


@functools.cache
def _template_store_file() -> Path:
    path = Path(_ROOT.name) / "template-store.db"
    store = _fill(SQLiteStore(path))
    store.close()
    return path


@functools.cache
def _template_cli_file() -> Path:
    """A database made with the command line: the SaaS catalog, two subscriptions, billed."""
    folder = Path(_ROOT.name) / "template-cli"
    folder.mkdir()
    db = folder / "billing.db"
    subscriptions = folder / "subscriptions.json"
    subscriptions.write_text(
        '{"subscriptions": ['
        '{"id": "S1", "customer": "Boulangerie Martin", "plan": "essentiel",'
        ' "start": "2026-03-01"},'
        '{"id": "S2", "customer": "Garage Petit", "plan": "pro", "start": "2026-03-15"}]}',
        encoding="utf-8",
    )
    accounts = folder / "accounts.json"
    accounts.write_text(
        '{"accounts": [{"customer": "ACME", "product": "TBox", "seats": 3,'
        ' "start": "2025-06-01", "years": 1}]}',
        encoding="utf-8",
    )
    with contextlib.redirect_stdout(io.StringIO()):
        for argv in (
            ["catalog", "load", str(EXAMPLES / "catalogue_saas.json"), "--db", str(db)],
            ["subscriptions", "load", str(subscriptions), "--db", str(db)],
            ["accounts", "load", str(accounts), "--db", str(db)],
            ["bill-run", "--as-of", "2026-04-01", "--db", str(db)],
        ):
            assert cli.main(argv) == 0, argv
    return db


@dataclass
class World:
    """A fresh store for one case, and what it held before the case ran."""

    folder: Path
    db: Path
    memory: MemoryStore | None = None
    opened: list[Any] = field(default_factory=list)
    before: Any = None

    def sqlite(self, **options: Any) -> SQLiteStore:
        store = SQLiteStore(self.db, **options)
        self.opened.append(store)
        return store

    def fingerprint(self) -> Any:
        """The stored data, and every other file of the folder (name and bytes)."""
        for store in self.opened:
            with contextlib.suppress(StorageError):
                store.close()
        self.opened.clear()
        files = {
            p.name: p.read_bytes()
            for p in sorted(self.folder.iterdir())
            if p.is_file() and not p.name.startswith(self.db.name)
        }
        if self.memory is not None:
            return snapshot(self.memory), files
        data = database_content(self.db) if self.db.exists() and _is_sqlite(self.db) else None
        return data, files


def _is_sqlite(path: Path) -> bool:
    return path.read_bytes()[:16] == b"SQLite format 3\x00"


def _world(kind: str) -> World:
    folder = _new_folder()
    db = folder / "billing.db"
    if kind == "memory":
        return World(folder=folder, db=db, memory=_fill(MemoryStore()))
    template = _template_cli_file() if kind == "cli" else _template_store_file()
    shutil.copy(template, db)
    return World(folder=folder, db=db)


def case(
    case_id: str,
    error: type[BaseException],
    act: Callable[[World], object],
    *,
    kind: str = "sqlite",
    prepare: Callable[[World], object] | None = None,
) -> Case:
    """A case run on a fresh world of ``kind`` ("memory", "sqlite" or "cli")."""
    worlds: list[World] = []

    def call() -> object:
        world = _world(kind)
        if prepare is not None:
            prepare(world)
        world.before = world.fingerprint()
        worlds.append(world)
        try:
            return act(world)
        finally:
            for store in world.opened:
                with contextlib.suppress(StorageError):
                    store.close()
            world.opened.clear()

    def unchanged() -> bool:
        world = worlds[-1]
        return bool(world.fingerprint() == world.before)

    return Case(f"storage-{case_id}", call, error, unchanged)


def _store(world: World) -> Any:
    return world.memory if world.memory is not None else world.sqlite()


# -- the command line, with its error typed ---------------------------------------------------


def _cli(*argv: object) -> None:
    """Run ``subbill argv`` and let its error out; it must fail with a non-zero status."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            status = cli._execute(cli._parse([str(arg) for arg in argv]))
        except BaseException as error:
            if cli._exit_status(error) == 0:
                raise AssertionError(f"subbill {argv} failed with exit status 0") from error
            raise
    raise AssertionError(f"subbill {argv} exited with {status}: it must fail")


@contextlib.contextmanager
def _patched_store(**options: Any) -> Iterator[None]:
    """The command line's store opened with ``options`` (a short lock timeout…)."""
    original = cli.SQLiteStore

    def opened(path: str, **given: Any) -> SQLiteStore:
        return original(path, **{**given, **options})

    cli.SQLiteStore = opened  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        cli.SQLiteStore = original  # type: ignore[misc]


def _hold_write_lock(world: World) -> None:
    other = sqlite3.connect(world.db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO quotes (id, document) VALUES ('held', '{}')")
    world.opened.append(_Rollback(other))


@dataclass
class _Rollback:
    """A connection holding a write lock; closing it gives up its write (like a crash)."""

    connection: sqlite3.Connection

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()


def _write(world: World, name: str, text: str) -> Path:
    path = world.folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _locked(action: Callable[[World], object]) -> Callable[[World], object]:
    def run(world: World) -> object:
        _hold_write_lock(world)
        return action(world)

    return run


def _fill_the_disk(store: SQLiteStore) -> SQLiteStore:
    pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
    store._connection.execute(f"PRAGMA max_page_count = {pages}")
    return store


def _save_many(store: Any) -> None:
    for number in range(1000):
        store.save_subscription(
            Subscription.create(
                id=f"N{number}", customer="C", catalog=CATALOG, plan="pro", start=JUNE
            )
        )


def _damage(table: str, where: str, document: str = '{"version": 1, "data": {"id": 3}}') -> Any:
    def damage(world: World) -> None:
        connection = sqlite3.connect(world.db, isolation_level=None)
        sql = f"UPDATE {table} SET document = ? WHERE {where}"  # noqa: S608  (our own names)
        connection.execute(sql, (document,))
        connection.close()

    return damage


def _set_schema(version: int) -> Callable[[World], None]:
    def set_schema(world: World) -> None:
        connection = sqlite3.connect(world.db, isolation_level=None)
        connection.execute("UPDATE schema_version SET version = ?", (version,))
        connection.close()

    return set_schema


# -- the cases ----------------------------------------------------------------------------------

CASES: list[Case] = []

# Invoice numbers follow their dates, in both stores and through run_billing.
_NUMBERING: tuple[tuple[str, type[BaseException], Callable[[World], object]], ...] = (
    *(
        (
            f"number-dated-{label}-the-last",
            InvalidStateError,
            lambda w, day=day: _store(w).next_invoice_number(issued_on=day),
        )
        for label, day in (
            ("a-day-before", date(2026, 5, 31)),
            ("a-year-before", date(2025, 6, 1)),
            ("long-ago", date(2000, 1, 1)),
        )
    ),
    (
        "run-as-of-before-the-last-invoice",
        InvalidStateError,
        lambda w: run_billing(_store(w), as_of=date(2026, 3, 1)),
    ),
    *(
        (
            f"issued-on-{label}",
            InvalidDateError,
            lambda w, value=value: _store(w).next_invoice_number(issued_on=value),
        )
        for label, value in (
            ("str", "2026-07-01"),
            ("none", None),
            ("datetime", datetime(2026, 7, 1, 12, 0)),  # noqa: DTZ001  (the bad input itself)
        )
    ),
    ("add-a-draft-invoice", InvalidArgumentError, lambda w: _store(w).add_invoice(_draft())),
    ("add-an-invoice-number-twice", InvalidArgumentError, lambda w: _add_again(_store(w))),
    (
        "save-an-invoice-never-added",
        InvalidArgumentError,
        lambda w: _save_renumbered(_store(w), "F-2026-000099"),
    ),
)
for kind in ("memory", "sqlite"):
    for label, error, act in _NUMBERING:
        CASES.append(case(f"{kind}-{label}", error, act, kind=kind))

# A subscription's billing terms are typed, checked when built (run_billing takes none).
for label, options, error in (
    ("tax-rounding-str", {"tax_rounding": "per_line"}, InvalidTypeError),
    ("tax-rounding-name", {"tax_rounding": "PER_INVOICE"}, InvalidTypeError),
    ("tax-rounding-int", {"tax_rounding": 1}, InvalidTypeError),
    (
        "tax-rounding-other-enum",
        {"tax_rounding": NegativeBalancePolicy.CREDIT_NOTE},
        InvalidTypeError,
    ),
    ("negative-balance-str", {"negative_balance": "carry_forward"}, InvalidTypeError),
    ("negative-balance-none", {"negative_balance": None}, InvalidTypeError),
    ("negative-balance-other-enum", {"negative_balance": TaxRounding.PER_LINE}, InvalidTypeError),
    ("terms-str", {"payment_terms_days": "30"}, InvalidTypeError),
    ("terms-bool", {"payment_terms_days": True}, InvalidTypeError),
    ("terms-float", {"payment_terms_days": 1.5}, InvalidTypeError),
    ("terms-negative", {"payment_terms_days": -1}, OutOfBoundsError),
    ("terms-beyond-a-year", {"payment_terms_days": 366}, OutOfBoundsError),
    ("terms-huge", {"payment_terms_days": 10**100}, OutOfBoundsError),
):
    CASES.append(
        case(
            f"billing-terms-{label}",
            error,
            lambda _w, options=options: BillingTerms(**options),
        )
    )
for label, value in (("str", "2026-07-01"), ("datetime", datetime(2026, 7, 1))):  # noqa: DTZ001
    CASES.append(
        case(
            f"run-as-of-{label}",
            InvalidDateError,
            lambda w, value=value: run_billing(_store(w), as_of=value),
        )
    )

# A store opened read-only refuses every write, typed.
for label, write in (
    ("save-catalog", lambda s: s.save_catalog(CATALOG)),
    (
        "save-subscription",
        lambda s: s.save_subscription(
            Subscription.create(id="S9", customer="C", catalog=CATALOG, plan="pro", start=JUNE)
        ),
    ),
    ("save-billing-state", lambda s: s.save_billing_state("S1", s.get_billing_state("S1"))),
    ("next-invoice-number", lambda s: s.next_invoice_number(issued_on=date(2026, 7, 1))),
    ("add-payment", lambda s: s.add_payment("F-2026-000001", s.payments("F-2026-000001")[0])),
    ("save-invoice", lambda s: s.save_invoice(s.invoices()[0])),
    ("save-quote", lambda s: s.save_quote(site_quote("Q2"))),
    ("append-ledger", lambda s: s.append_ledger(s.load_ledger().entries)),
    ("save-account", lambda s: s.save_license_account(s.license_accounts()[0])),
    ("run-billing", lambda s: run_billing(s, as_of=date(2026, 7, 1))),
):
    CASES.append(
        case(
            f"read-only-{label}",
            ReadOnlyDatabaseError,
            lambda w, write=write: write(w.sqlite(read_only=True)),
        )
    )

# Locked by another process: a typed error after the wait, nothing half-written.
CASES += [
    case(
        "locked-save-catalog",
        DatabaseLockedError,
        _locked(lambda w: w.sqlite(timeout=0.05).save_catalog(CATALOG)),
    ),
    case(
        "locked-run-billing",
        DatabaseLockedError,
        _locked(lambda w: run_billing(w.sqlite(timeout=0.05), as_of=date(2026, 7, 1))),
    ),
    case(
        "locked-reserve-a-number",
        DatabaseLockedError,
        _locked(lambda w: w.sqlite(timeout=0.05).next_invoice_number(issued_on=JUNE)),
    ),
]

# A full disk: typed, never masked by the rollback, the transaction kept whole or not at all.
CASES += [
    case(
        "disk-full-save-in-a-transaction",
        DiskFullError,
        lambda w: _in_one_transaction(_fill_the_disk(w.sqlite()), _save_many),
    ),
    case(
        "disk-full-append-ledger",
        DiskFullError,
        lambda w: _fill_the_disk(w.sqlite()).append_ledger(
            LicenseLedger().grant("Y" * 3000, "TBox", 1, on=JUNE).entries * 40
        ),
    ),
]

# A damaged row is named by table and id.
for table, where, read in (
    ("catalog", "id = 1", lambda s: s.load_catalog()),
    ("subscriptions", "id = 'S1'", lambda s: s.get_subscription("S1")),
    ("billing_states", "subscription_id = 'S1'", lambda s: s.get_billing_state("S1")),
    ("invoices", "number = 'F-2026-000001'", lambda s: s.get_invoice("F-2026-000001")),
    ("payments", "id = 1", lambda s: s.payments("F-2026-000001")),
    ("quotes", "id = 'Q1'", lambda s: s.get_quote("Q1")),
    ("ledger", "position = 1", lambda s: s.load_ledger()),
    ("license_accounts", "customer = 'ACME'", lambda s: s.license_accounts()),
):
    CASES.append(
        case(
            f"damaged-{table}-row",
            StoredDataError,
            lambda w, read=read: read(w.sqlite(read_only=True)),
            prepare=_damage(table, where),
        )
    )
CASES += [
    case(
        "damaged-invoice-not-json",
        StoredDataError,
        lambda w: w.sqlite().invoices(),
        prepare=_damage("invoices", "1 = 1", "{not json"),
    ),
    case(
        "damaged-subscription-unknown-version",
        StoredDataError,
        lambda w: w.sqlite().get_subscription("S1"),
        prepare=_damage("subscriptions", "id = 'S1'", '{"version": 99, "data": {}}'),
    ),
    case(
        "damaged-state-nested-too-deep",
        StoredDataError,
        lambda w: w.sqlite().get_billing_state("S1"),
        prepare=_damage("billing_states", "1 = 1", "[" * 100_000),
    ),
    case(
        "damaged-catalog-makes-run-billing-fail",
        StoredDataError,
        lambda w: run_billing(w.sqlite(), as_of=date(2026, 7, 1)),
        prepare=_damage("catalog", "id = 1", "null"),
    ),
]

# Files that cannot be opened as a subbill database.
CASES += [
    case(
        "open-not-a-database",
        StorageError,
        lambda w: w.sqlite(),
        prepare=lambda w: w.db.write_bytes(b"my catalog, not a database\n" * 50),
    ),
    case(
        "open-not-a-database-read-only",
        StorageError,
        lambda w: w.sqlite(read_only=True),
        prepare=lambda w: w.db.write_bytes(b"my catalog, not a database\n" * 50),
    ),
    case(
        "open-newer-schema",
        StorageError,
        lambda w: w.sqlite(),
        prepare=_set_schema(99),
    ),
    case(
        "open-newer-schema-read-only",
        StorageError,
        lambda w: w.sqlite(read_only=True),
        prepare=_set_schema(99),
    ),
    case(
        "open-in-a-missing-folder",
        StorageError,
        lambda w: SQLiteStore(w.folder / "missing" / "x.db"),
    ),
    case(
        "open-read-only-a-file-that-is-not-there",
        StorageError,
        lambda w: SQLiteStore(w.folder / "absent.db", read_only=True),
    ),
]


def _draft() -> Any:
    sub = Subscription.create(id="S7", customer="C7", catalog=CATALOG, plan="pro", start=JUNE)
    return bill_subscription(sub.to_charge_plan(CATALOG), None, as_of=JUNE).invoice


def _add_again(store: Any) -> None:
    store.add_invoice(store.invoices()[0])


def _save_renumbered(store: Any, number: str) -> None:
    store.save_invoice(attrs.evolve(store.invoices()[0], number=number))


def _in_one_transaction(store: Any, action: Callable[[Any], object]) -> None:
    with store.transaction():
        store.save_catalog(CATALOG)
        action(store)


# -- the command line ---------------------------------------------------------------------------


def _show_pdf(target: str, *extra: str) -> Callable[[World], None]:
    """``subbill invoice show F-2026-000001 --pdf FOLDER/target extra…`` on the world's database."""
    return lambda w: _cli(
        "invoice", "show", "F-2026-000001", "--db", w.db, "--pdf", w.folder / target, *extra
    )


def _link(kind: str) -> Callable[[World], None]:
    def make(world: World) -> None:
        if kind == "hard":
            os.link(world.db, world.folder / "copy.pdf")
        else:
            (world.folder / "copy.pdf").symlink_to(world.db)

    return make


# --pdf never writes onto the database (by any path or link), a file already there, or a folder.
for label, target, extra, prepare in (
    ("onto-the-database", "billing.db", (), None),
    ("onto-the-database-with-force", "billing.db", ("--force",), None),
    (
        "onto-the-database-by-a-relative-path",
        "x/../billing.db",
        ("--force",),
        lambda w: (w.folder / "x").mkdir(),
    ),
    ("onto-a-hard-link-of-the-database", "copy.pdf", ("--force",), _link("hard")),
    ("onto-a-symlink-to-the-database", "copy.pdf", ("--force",), _link("soft")),
    ("onto-the-database-wal", "billing.db-wal", ("--force",), None),
    ("onto-an-existing-file", "mine.pdf", (), lambda w: _write(w, "mine.pdf", "precious")),
    ("onto-a-folder", ".", ("--force",), None),
    ("in-a-missing-folder", "missing/x.pdf", (), None),
):
    pdf = _show_pdf(target, *extra)
    CASES.append(case(f"cli-pdf-{label}", CommandError, pdf, kind="cli", prepare=prepare))
CASES += [
    case(
        "cli-pdf-of-an-unknown-invoice",
        CommandError,
        lambda w: _cli("invoice", "show", "F-9", "--pdf", w.folder / "x.pdf", "--db", w.db),
        kind="cli",
    ),
    case(
        "cli-bill-run-before-the-last-invoice",
        InvalidStateError,
        lambda w: _cli("bill-run", "--as-of", "2026-03-01", "--db", w.db),
        kind="cli",
    ),
    case(
        "cli-bill-run-locked",
        DatabaseLockedError,
        _locked(lambda w: _locked_cli("bill-run", "--as-of", "2026-05-01", "--db", w.db)),
        kind="cli",
    ),
    case(
        "cli-catalog-load-locked",
        DatabaseLockedError,
        _locked(
            lambda w: _locked_cli("catalog", "load", EXAMPLES / "catalogue_saas.json", "--db", w.db)
        ),
        kind="cli",
    ),
    case(
        "cli-bill-run-on-a-file-that-is-not-a-database",
        StorageError,
        lambda w: _cli("bill-run", "--db", w.folder / "notes.db"),
        kind="cli",
        prepare=lambda w: _write(w, "notes.db", "my notes, not a database\n" * 50),
    ),
    case(
        "cli-invoice-show-on-a-file-that-is-not-a-database",
        StorageError,
        lambda w: _cli("invoice", "show", "F-1", "--db", w.folder / "notes.db"),
        kind="cli",
        prepare=lambda w: _write(w, "notes.db", "my notes, not a database\n" * 50),
    ),
    case(
        "cli-renewals-on-a-newer-schema",
        StorageError,
        lambda w: _cli("renewals", "--db", w.db),
        kind="cli",
        prepare=_set_schema(99),
    ),
    case(
        "cli-catalog-load-into-a-folder",
        StorageError,
        lambda w: _cli("catalog", "load", EXAMPLES / "catalogue_saas.json", "--db", w.folder),
        kind="cli",
    ),
]


def _locked_cli(*argv: object) -> None:
    with _patched_store(timeout=0.05):
        _cli(*argv)


# Input files that are not data: one line, exit 2, nothing loaded.
DEEP = "[" * 100_000 + "]" * 100_000
for command, name, text in (
    ("catalog", "nan.json", '{"currency": "EUR", "plans": [{"price": NaN}]}'),
    ("catalog", "infinity.json", '{"currency": "EUR", "plans": [{"price": Infinity}]}'),
    ("catalog", "minus-infinity.json", '{"currency": "EUR", "plans": [-Infinity]}'),
    ("catalog", "deep.json", DEEP),
    ("catalog", "33-levels.json", '{"a": ' * 33 + "1" + "}" * 33),
    ("catalog", "huge-integer.json", '{"currency": "EUR", "plans": [' + "9" * 5000 + "]}"),
    ("catalog", "nan.toml", 'currency = "EUR"\nprice = nan\n'),
    ("catalog", "infinity.toml", 'currency = "EUR"\nprice = +inf\n'),
    ("catalog", "deep.toml", "a = " + DEEP + "\n"),
    ("subscriptions", "nan.json", '{"subscriptions": [{"quantity": NaN}]}'),
    ("subscriptions", "deep.json", '{"subscriptions": ' + DEEP + "}"),
    ("accounts", "nan.json", '{"accounts": [{"seats": NaN}]}'),
    ("accounts", "deep.toml", "accounts = " + DEEP + "\n"),
):
    CASES.append(
        case(
            f"cli-{command}-load-{name.replace('.', '-')}",
            CommandError,
            lambda w, command=command, name=name: _cli(
                command, "load", w.folder / name, "--db", w.db
            ),
            kind="cli",
            prepare=lambda w, name=name, text=text: _write(w, name, text),
        )
    )
for name, text in (
    ("nan.json", '{"currency": "EUR", "lines": [{"unit_price": NaN}]}'),
    ("deep.json", DEEP),
):
    CASES.append(
        case(
            f"cli-quote-{name.replace('.', '-')}",
            CommandError,
            lambda w, name=name: _cli("quote", w.folder / name, "--paid-on", "2026-01-15"),
            kind="cli",
            prepare=lambda w, name=name, text=text: _write(w, name, text),
        )
    )

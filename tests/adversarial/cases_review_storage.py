"""Bad inputs a new user's review of issue 12 found getting past the stores, the service and
``bill_run`` raw (AttributeError, OverflowError, TypeError) or stored as garbage.

Every store case runs on a fresh store holding one row in every table, in memory and in an
SQLite file, and checks afterwards that the store still answers exactly what it did.
"""

import contextlib
import io
import itertools
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from subbill import bill_run, cli
from subbill.errors import InvalidArgumentError, InvalidTypeError, OutOfBoundsError
from subbill.service import invoices_of_run, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import StoredDataError, loads
from subbill.subscriptions import Subscription
from tests.adversarial import Case, kept_folder
from tests.seed_catalog import seed_catalog
from tests.stores import fill_every_table, snapshot

__all__ = ["CASES"]

CATALOG = seed_catalog()
EXAMPLES = Path(__file__).parent.parent.parent / "examples"
JUNE = date(2026, 6, 1)
_numbers = itertools.count()


def _folder() -> Path:
    folder = kept_folder("subbill-review-storage-") / f"case{next(_numbers)}"
    folder.mkdir()
    return folder


def _store_case(
    case_id: str, kind: str, act: Callable[[Any], object], error: type[BaseException]
) -> Case:
    """``act(store)`` on a fresh filled store of ``kind``; the store must answer as before."""
    seen: dict[str, Any] = {}

    def call() -> object:
        store = MemoryStore() if kind == "memory" else SQLiteStore(_folder() / "billing.db")
        fill_every_table(store, CATALOG, on=JUNE)
        seen.update(store=store, before=snapshot(store))
        return act(store)

    def unchanged() -> bool:
        store = seen["store"]
        try:
            return bool(snapshot(store) == seen["before"])
        finally:
            store.close()

    return Case(f"review-storage-{kind}-{case_id}", call, error, unchanged)


def _first_number(store: Any) -> str:
    return str(store.invoices()[0].number)


#: Bad values given to the stores: (id, action, error), each run on both stores.
_STORE_INPUTS: tuple[tuple[str, Callable[[Any], object], type[BaseException]], ...] = (
    ("save-catalog-none", lambda s: s.save_catalog(None), InvalidTypeError),
    ("save-catalog-str", lambda s: s.save_catalog("x"), InvalidTypeError),
    ("save-billing-state-str", lambda s: s.save_billing_state("S1", "x"), InvalidTypeError),
    ("append-ledger-str", lambda s: s.append_ledger("x"), InvalidTypeError),
    ("add-payment-none", lambda s: s.add_payment(_first_number(s), None), InvalidTypeError),
    ("save-subscription-none", lambda s: s.save_subscription(None), InvalidTypeError),
    ("add-invoice-str", lambda s: s.add_invoice("x"), InvalidTypeError),
    ("add-order-none", lambda s: s.add_order(None), InvalidTypeError),
    ("save-wallet-str", lambda s: s.save_wallet("x"), InvalidTypeError),
    (
        "ids-after-limit-huge",
        lambda s: s.subscription_ids_after(None, limit=10**30),
        InvalidArgumentError,
    ),
    (
        "ids-after-limit-negative",
        lambda s: s.subscription_ids_after(None, limit=-1),
        InvalidArgumentError,
    ),
    (
        "run-batch-size-2-to-the-63",
        lambda s: run_billing(s, as_of=date(2026, 7, 1), batch_size=2**63),
        InvalidArgumentError,
    ),
    ("invoices-of-run-str", lambda s: invoices_of_run(s, "x"), InvalidTypeError),
)


_opened: list[Path] = []  # the folder of the last store a case tried to open


def _sqlite_option(**options: object) -> Callable[[], object]:
    """Open a store in an empty folder with ``options``; the folder must stay empty."""

    def call() -> object:
        folder = _folder()
        _opened.append(folder)
        return SQLiteStore(folder / "billing.db", **options)

    return call


def _folder_is_empty() -> bool:
    return not any(_opened[-1].iterdir())


def _no_file_named_123() -> bool:
    return not Path("123").exists()


def _cli_batch_size(size: str) -> Callable[[], object]:
    """``subbill bill-run --batch-size SIZE`` on a database with a catalog: a usage error."""

    def call() -> object:
        db = str(_folder() / "billing.db")
        catalog = str(EXAMPLES / "catalogue_saas.json")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            assert cli.main(["catalog", "load", catalog, "--db", db]) == 0
            return cli._execute(cli._parse(["bill-run", "--batch-size", size, "--db", db]))

    return call


PLANS = [
    Subscription.create(
        id="S1", customer="C", catalog=CATALOG, plan="pro", start=JUNE
    ).to_charge_plan(CATALOG)
]

CASES: list[Case] = [
    _store_case(case_id, kind, act, error)
    for kind in ("memory", "sqlite")
    for case_id, act, error in _STORE_INPUTS
]
CASES += [
    Case(
        "review-storage-bill-run-items-int",
        lambda: list(bill_run(5, as_of=JUNE)),
        InvalidTypeError,
    ),
    Case(
        "review-storage-bill-run-items-str",
        lambda: list(bill_run("S1", as_of=JUNE)),
        InvalidTypeError,
    ),
    Case(
        "review-storage-bill-run-executor-str",
        lambda: list(bill_run(PLANS, as_of=JUNE, executor="x")),
        InvalidTypeError,
    ),
    Case(
        "review-storage-bill-run-chunk-size-zero",
        lambda: list(bill_run(PLANS, as_of=JUNE, chunk_size=0)),
        InvalidArgumentError,
    ),
    Case(
        "review-storage-bill-run-max-pending-negative",
        lambda: list(bill_run(PLANS, as_of=JUNE, max_pending=-1)),
        InvalidArgumentError,
    ),
    Case(
        "review-storage-sqlite-path-int",
        lambda: SQLiteStore(123),
        InvalidTypeError,
        _no_file_named_123,
    ),
    *(
        Case(f"review-storage-sqlite-{label}", _sqlite_option(**option), error, _folder_is_empty)
        for label, option, error in (
            ("numbering-str", {"numbering": "x"}, InvalidTypeError),
            ("timeout-str", {"timeout": "x"}, InvalidTypeError),
            ("timeout-1e308", {"timeout": 1e308}, OutOfBoundsError),
            ("timeout-negative", {"timeout": -1}, OutOfBoundsError),
        )
    ),
    Case(
        "review-storage-memory-numbering-str",
        lambda: MemoryStore(numbering="x"),
        InvalidTypeError,
    ),
    *(
        Case(
            f"review-storage-document-data-{label}",
            lambda data=data: loads(
                f'{{"version": 3, "data": {data}}}', Subscription, table="subscriptions", key="S1"
            ),
            StoredDataError,
        )
        for label, data in (("str", '"x"'), ("list", "[1, 2]"))
    ),
    Case("review-storage-cli-batch-size-zero", _cli_batch_size("0"), cli._CommandError),
    Case("review-storage-cli-batch-size-huge", _cli_batch_size("1" + "0" * 30), cli._CommandError),
]

"""Bad durations and billing starts: counts, dates, the old kind constructor, stored documents.

Stored-document cases copy the database written by codec format version 1
(``tests/fixtures/format_v1.db``), damage one row (in the old shape, or rewritten in the
current one), and read it: the error is a :class:`StoredDataError` naming the table and the
row, and reading it wrote nothing.
"""

from __future__ import annotations

import functools
import itertools
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from subbill import MONTHLY, Discount, LineItem, Money
from subbill.discounts import Duration, DurationKind, ForPeriods
from subbill.errors import (
    InvalidArgumentError,
    InvalidDateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.periods import AfterDays, BillingStart, OnDate, StartKind
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import dumps
from subbill.storage.errors import StoredDataError
from tests.adversarial import Case
from tests.fixtures import format_v1

__all__ = ["CASES"]

FORMAT_V1_DB = Path(__file__).parent.parent / "fixtures" / "format_v1.db"
_ROOT = tempfile.TemporaryDirectory(prefix="subbill-adversarial-unions-")
_files = itertools.count()
_KEYS = {"subscriptions": "id", "quotes": "id", "orders": "reference"}


@functools.cache
def _current(table: str, key: str) -> str:
    """The row's document as the current version writes it."""
    store = format_v1.fill(MemoryStore())
    value = {
        "subscriptions": store.get_subscription,
        "quotes": store.get_quote,
        "orders": store.get_order,
    }[table](key)
    # Spaced out again (the store writes compact JSON) so that each case's damage reads as
    # the document it damages.
    return json.dumps(json.loads(dumps(value)), sort_keys=True)


def _check_named(error: StoredDataError, table: str, key: str) -> None:
    assert (error.table, error.key) == (table, key), error
    assert str(error).startswith(f"{table} row {key!r}: "), error


def _damaged(
    case_id: str, table: str, key: str, damage: Callable[[str], str], *, current: bool = False
) -> Case:
    """Read row ``key`` of ``table`` after ``damage`` (of its version-1 or current document)."""
    column = _KEYS[table]
    select = f"SELECT document FROM {table} WHERE {column} = ?"  # noqa: S608  (own names)
    update = f"UPDATE {table} SET document = ? WHERE {column} = ?"  # noqa: S608
    written: dict[str, Any] = {}

    def call() -> object:
        path = Path(_ROOT.name) / f"case{next(_files)}.db"
        shutil.copyfile(FORMAT_V1_DB, path)
        connection = sqlite3.connect(path)
        (text,) = connection.execute(select, (key,)).fetchone()
        document = damage(_current(table, key) if current else text)
        assert document != text, "the damage must change the document"
        with connection:
            connection.execute(update, (document, key))
        connection.close()
        written.update(path=path, document=document)
        store = SQLiteStore(path)
        try:
            read = {"orders": store.get_order, "quotes": store.get_quote}
            return read.get(table, store.get_subscription)(key)
        except StoredDataError as error:
            _check_named(error, table, key)
            raise
        finally:
            store.close()

    def unchanged() -> bool:
        connection = sqlite3.connect(written["path"])
        try:
            return bool(connection.execute(select, (key,)).fetchone() == (written["document"],))
        finally:
            connection.close()

    return Case(case_id, call, StoredDataError, unchanged)


def _replace(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new)


_LINE: dict[str, Any] = {"code": "seo", "name": "SEO", "unit_price": Money("300", "EUR")}

CASES = [
    # -- counts -------------------------------------------------------------------------------
    Case("unions-duration-periods-zero", lambda: Duration.periods(0), InvalidArgumentError),
    Case("unions-duration-months-bool", lambda: Duration.months(True), InvalidTypeError),  # noqa: FBT003,
    Case(
        "unions-for-periods-text",
        lambda: ForPeriods("3"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case("unions-after-days-negative", lambda: AfterDays(-1), InvalidArgumentError),
    Case(
        "unions-after-months-fraction",
        lambda: BillingStart.after_months(1.5),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    # -- dates --------------------------------------------------------------------------------
    Case(
        "unions-on-datetime",
        lambda: BillingStart.on(datetime(2026, 3, 1, 12)),  # noqa: DTZ001
        InvalidDateError,
    ),
    Case(
        "unions-on-date-text",
        lambda: OnDate("2026-03-01"),  # type: ignore[arg-type]
        InvalidDateError,
    ),
    Case("unions-on-date-year-3000", lambda: OnDate(date(3000, 1, 1)), OutOfBoundsError),
    Case(
        "unions-resolve-paid-on-datetime",
        lambda: BillingStart.after_months(6).resolve(paid_on=datetime(2026, 3, 1)),  # noqa: DTZ001
        InvalidDateError,
    ),
    # -- the old "kind + optional fields" constructor, and strings for the classes ------------
    Case(
        "unions-duration-kind-constructor",
        lambda: Duration(kind=DurationKind.PERIODS, count=3),
        InvalidTypeError,
    ),
    Case(
        "unions-billing-start-kind-constructor",
        lambda: BillingStart(kind=StartKind.AFTER_MONTHS, count=6),
        InvalidTypeError,
    ),
    Case(
        "unions-discount-duration-text",
        lambda: Discount.percent_off("D", "10", duration="once"),
        InvalidTypeError,
    ),
    Case(
        "unions-line-billing-start-text",
        lambda: LineItem(**_LINE, frequency=MONTHLY, billing_start="immediately"),
        InvalidTypeError,
    ),
    # -- damaged stored documents, each shape -------------------------------------------------
    _damaged(
        "unions-stored-v1-duration-once-with-a-count",
        "subscriptions",
        "S-CAT",
        _replace('{"count": 0, "kind": "once"}', '{"count": 3, "kind": "once"}'),
    ),
    _damaged(
        "unions-stored-v1-start-after-months-with-a-date",
        "quotes",
        "Q-ALL",
        _replace(
            '{"count": 1, "kind": "after_months", "on_date": null}',
            '{"count": 1, "kind": "after_months", "on_date": "2026-01-01"}',
        ),
    ),
    _damaged(
        "unions-stored-v1-start-unknown-kind",
        "orders",
        "pay_001",
        _replace('"kind": "after_days"', '"kind": "after_weeks"'),
    ),
    _damaged(
        "unions-stored-v2-duration-unknown-type",
        "subscriptions",
        "S-CAT",
        _replace('"type": "months"', '"type": "weeks"'),
        current=True,
    ),
    _damaged(
        "unions-stored-v2-start-bad-day",
        "orders",
        "pay_001",
        _replace("2026-03-10", "2026-02-30"),
        current=True,
    ),
    _damaged(
        "unions-stored-v2-start-without-type",
        "quotes",
        "Q-ALL",
        _replace('{"count": 45, "type": "after_days"}', '{"count": 45}'),
        current=True,
    ),
    _damaged(
        "unions-stored-v2-duration-extra-count",
        "quotes",
        "Q-ALL",
        _replace('{"type": "once"}', '{"count": 0, "type": "once"}'),
        current=True,
    ),
    _damaged(
        "unions-stored-unknown-version",
        "quotes",
        "Q-ALL",
        _replace('"version": 1', '"version": 3'),
    ),
]

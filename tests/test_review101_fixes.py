"""Review 101: a custom numbering's refused number is refused alike by every store.

A number holding a lone surrogate reached SQLite's encoder before anything checked it: the
run raised a raw ``UnicodeEncodeError`` and rolled back the invoices of other subscriptions
on the page, where ``MemoryStore`` stored them and refused the rows it could not number.
"""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest

from subbill import Subscription, TaxRate
from subbill.errors import InvalidArgumentError
from subbill.invoices import InvoiceNumbering
from subbill.service import run_billing
from subbill.storage import MemoryStore, PostgresStore, SQLiteStore
from subbill.storage._numbering import reserve_numbers
from tests.seed_catalog import seed_catalog


@attrs.frozen
class _Surrogate(InvoiceNumbering):
    """``F-1``, ``F-2``…, the third holding a lone surrogate."""

    def next_numbers(self, previous: str | None, count: int, *, issued_on: date) -> list[str]:
        start = 0 if previous is None else int(previous.split("-")[1].rstrip("\ud800"))
        return [
            f"F-{n}" + ("\ud800" if n == 3 else "") for n in range(start + 1, start + count + 1)
        ]


def test_reserve_numbers_refuses_a_number_finalizing_would_refuse():
    with pytest.raises(InvalidArgumentError, match=r"number='F-3\\ud800'"):
        reserve_numbers(_Surrogate(), "F-2", 1, last_issued_on=None, issued_on=date(2026, 3, 1))
    assert reserve_numbers(
        _Surrogate(), None, 2, last_issued_on=None, issued_on=date(2026, 3, 1)
    ) == ["F-1", "F-2"]


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_refused_number_fails_its_rows_and_keeps_the_others_on_every_store(
    kind, tmp_path, request
):
    if kind == "postgres":
        store = PostgresStore(request.getfixturevalue("postgres_url"), numbering=_Surrogate())
    elif kind == "sqlite":
        store = SQLiteStore(tmp_path / "s.db", numbering=_Surrogate())
    else:
        store = MemoryStore(numbering=_Surrogate())
    catalog = seed_catalog()
    store.save_catalog(catalog)
    vat = TaxRate(name="TVA 20 %", percent="20")
    for i in range(6):
        store.save_subscription(
            Subscription.create(
                id=f"S{i}", customer=f"C{i}", catalog=catalog, plan="pro",
                start=date(2026, 1, 1) + timedelta(days=i), tax_rates=(vat,),
            )
        )  # fmt: skip
    report = run_billing(store, as_of=date(2026, 3, 1), batch_size=10)
    assert report.invoice_count == 2
    assert [(f.subscription, type(f.error)) for f in report.failures] == [
        (f"S{i}", InvalidArgumentError) for i in range(2, 6)
    ]
    assert [invoice.number for invoice in store.invoices()] == ["F-1", "F-2"]

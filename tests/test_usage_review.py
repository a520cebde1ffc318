"""Usage billing as a new user meets it: defects a review found on the catalog, store and CLI paths.

Issue 15. Each test follows the path the reviewer took (the pure API, a store and
``run_billing``, or ``python -m subbill …``) and failed before its fix.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest

from subbill.billing import bill_subscription
from subbill.catalog import Catalog
from subbill.errors import CatalogError
from subbill.invoices import LineKind
from subbill.parties import REVERSE_CHARGE
from subbill.service import invoices_of_run, run_billing
from subbill.storage import MemoryStore
from subbill.subscriptions import Subscription
from tests.test_usage_billing import CATALOG_DATA, THREE_MONTHS, VAT, eur

# -- 2. a plan's usage lines are taxed as the subscription's other lines ---------------------


def _taxes(invoice: object) -> list[tuple[str, LineKind, tuple[str, ...], str]]:
    return [
        (line.code, line.kind, tuple(rate.name for rate in line.tax_rates), str(line.amount))
        for line in invoice.lines  # type: ignore[attr-defined]
    ]


def test_a_plans_usage_line_is_taxed_at_the_subscriptions_rates_through_run_billing():
    catalog = Catalog.from_mapping(CATALOG_DATA)  # its API calls name no tax
    store = MemoryStore()
    store.save_catalog(catalog)
    sub = Subscription.create(id="S1", customer="ACME", catalog=catalog, plan="pro",
                              start=date(2026, 3, 1), tax_rates=(VAT,))  # fmt: skip
    store.save_subscription(sub)
    store.add_usage_records(THREE_MONTHS)
    (invoice,) = invoices_of_run(store, run_billing(store, as_of=date(2026, 4, 1)))
    assert _taxes(invoice) == [
        ("pro", LineKind.RECURRING, ("TVA 20 %",), "50.00 EUR"),
        ("pro", LineKind.RECURRING, ("TVA 20 %",), "50.00 EUR"),
        ("api", LineKind.USAGE, ("TVA 20 %",), "19.00 EUR"),
    ]
    assert invoice.total == eur("142.80")  # (100.00 + 19.00) × 1.20


def test_a_reverse_charged_customers_usage_line_bears_no_vat():
    catalog = Catalog.from_mapping(CATALOG_DATA)
    sub = Subscription.create(id="S1", customer="GmbH", catalog=catalog, plan="pro",
                              start=date(2026, 3, 1), tax_rates=(REVERSE_CHARGE,))  # fmt: skip
    result = bill_subscription(
        sub.to_charge_plan(catalog), as_of=date(2026, 4, 1), usage=THREE_MONTHS
    )
    assert result.invoice is not None
    assert [line.tax_rates for line in result.invoice.lines] == [(REVERSE_CHARGE,)] * 3
    assert result.invoice.total == eur("119.00")  # no VAT on any line, usage included


def test_a_catalogs_usage_charge_with_its_own_taxes_is_refused_at_its_path():
    data = copy.deepcopy(CATALOG_DATA)
    data["plans"][0]["usage"][0]["tax_rates"] = [{"name": "TVA 20 %", "percent": "20"}]
    with pytest.raises(CatalogError, match=r"the subscription's tax_rates") as error:
        Catalog.from_mapping(data)
    assert error.value.path == "plans[0].usage[0].tax_rates"


"""Usage billing as a new user meets it: defects a review found on the catalog, store and CLI paths.

Issue 15. Each test follows the path the reviewer took (the pure API, a store and
``run_billing``, or ``python -m subbill …``) and failed before its fix.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill.billing import ChargePlan, bill_subscription
from subbill.catalog import Catalog
from subbill.errors import CatalogError, InvalidArgumentError
from subbill.invoices import LineKind
from subbill.metering import Aggregation, Metric, PerUnit, ScheduledUsage, UsageCharge, UsageRecord
from subbill.money import Money
from subbill.parties import REVERSE_CHARGE
from subbill.periods import Period
from subbill.service import invoices_of_run, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.subscriptions import Subscription
from tests.stores import database_content
from tests.test_cli import load_database, run, write_json
from tests.test_cli_usage import HEADER, metered_catalog, write
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


# -- 1. a catalog reload with a new usage price keeps billed periods at the old one ----------


def _catalog(unit_price: str, monthly: str = "50") -> dict[str, object]:
    data = copy.deepcopy(CATALOG_DATA)
    plan = data["plans"][0]  # type: ignore[index]
    plan["prices"] = {"monthly": monthly}
    plan["usage"][0]["model"]["tiers"][1]["unit_price"] = unit_price
    return data


def _calls(*days: tuple[str, int]) -> dict[str, object]:
    return {
        "usage": [
            {
                "subscription": "S1",
                "metric": "api_calls",
                "quantity": quantity,
                "used_on": day,
                "key": f"k-{day}",
            }
            for day, quantity in days
        ]
    }


def _lines(db: Path, issued_on: date) -> list[tuple[str, LineKind, Period | None, str]]:
    store = SQLiteStore(db, read_only=True)
    try:
        return [
            (line.code, line.kind, line.period, str(line.amount))
            for invoice in store.invoices()
            if invoice.issued_on == issued_on
            for line in invoice.lines
        ]
    finally:
        store.close()


def _month(start: str, end: str) -> Period:
    return Period(date.fromisoformat(start), date.fromisoformat(end))


def test_a_catalog_reload_with_a_new_usage_price_bills_billed_periods_at_the_old_one(
    capsys, tmp_path
):
    # The reviewer's path: API calls at 0.020 beyond 1,000, a subscription from 24 March
    # billed to 24 June, then the catalog reloaded with 0.025 `--effective 2026-07-10`.
    # Before the fix the next bill-run refused the subscription ("billed … at other terms")
    # and billed nothing, its plan included.
    db = tmp_path / "c.db"
    subscription = {"id": "S1", "customer": "ACME", "plan": "pro", "start": "2026-03-24"}
    catalog = write_json(tmp_path / "cat.json", _catalog("0.020"))
    load_database(capsys, tmp_path, db, catalog=catalog,
                  subscriptions={"subscriptions": [subscription]})  # fmt: skip
    days = [("2026-04-01", 1200), ("2026-05-01", 1200), ("2026-06-01", 1200), ("2026-07-01", 1200),
            ("2026-07-30", 1200)]  # fmt: skip
    assert run(capsys, "usage", "load", write_json(tmp_path / "u.json", _calls(*days)),
               "--db", db)[0] == 0  # fmt: skip
    assert run(capsys, "bill-run", "--as-of", "2026-06-24", "--db", db)[0] == 0
    status, out, err = run(capsys, "catalog", "load", write_json(tmp_path / "cat2.json",
                           _catalog("0.025")), "--db", db, "--effective", "2026-07-10",
                           "--as-of", "2026-06-30")  # fmt: skip
    assert status == 0, err
    assert "New prices for 1 subscriptions, from 2026-07-10" in out
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-08-10", "--db", db)
    assert (status, err) == (0, ""), out
    # The plan was billed through 24 July in advance: the new terms start there.
    assert _lines(db, date(2026, 8, 10)) == [
        ("pro", LineKind.RECURRING, _month("2026-07-24", "2026-08-24"), "50.00 EUR"),
        # 24 June – 23 July, at the old price: 1,000 × 0.015 + 200 × 0.020
        ("api", LineKind.USAGE, _month("2026-06-24", "2026-07-24"), "19.00 EUR"),
    ]
    late = _calls(("2026-06-30", 100))  # a late record of a period billed at the old price
    late_file = write_json(tmp_path / "late.json", late)
    assert run(capsys, "usage", "load", late_file, "--db", db)[0] == 0
    assert run(capsys, "bill-run", "--as-of", "2026-08-24", "--db", db)[0] == 0
    assert _lines(db, date(2026, 8, 24)) == [
        ("pro", LineKind.RECURRING, _month("2026-08-24", "2026-09-24"), "50.00 EUR"),
        ("api", LineKind.USAGE_CORRECTION, _month("2026-06-24", "2026-07-24"), "2.00 EUR"),
        # 24 July – 23 August, at the new price: 1,000 × 0.015 + 200 × 0.025
        ("api", LineKind.USAGE, _month("2026-07-24", "2026-08-24"), "20.00 EUR"),
    ]


def test_a_new_usage_price_never_reaches_a_billed_usage_period_of_a_free_plan(capsys, tmp_path):
    # A plan of usage only (no recurring price, nothing billed in advance): billed to 24
    # July in arrears, a new price "effective" 10 July starts on 24 July, the end of what was
    # billed: the calls of 10–23 July are never billed twice.
    db = tmp_path / "c.db"
    subscription = {"id": "S1", "customer": "ACME", "plan": "pro", "start": "2026-03-24"}
    load_database(capsys, tmp_path, db,
                  catalog=write_json(tmp_path / "cat.json", _catalog("0.020", monthly="0")),
                  subscriptions={"subscriptions": [subscription]})  # fmt: skip
    days = [("2026-07-15", 1200), ("2026-07-30", 1200)]
    assert run(capsys, "usage", "load", write_json(tmp_path / "u.json", _calls(*days)),
               "--db", db)[0] == 0  # fmt: skip
    assert run(capsys, "bill-run", "--as-of", "2026-07-24", "--db", db)[0] == 0
    assert _lines(db, date(2026, 7, 24)) == [
        ("api", LineKind.USAGE, _month("2026-06-24", "2026-07-24"), "19.00 EUR")
    ]
    status, _, err = run(capsys, "catalog", "load", write_json(tmp_path / "cat2.json",
                         _catalog("0.025", monthly="0")), "--db", db, "--effective", "2026-07-10",
                         "--as-of", "2026-07-25")  # fmt: skip
    assert status == 0, err
    assert run(capsys, "bill-run", "--as-of", "2026-08-24", "--db", db)[0] == 0
    assert _lines(db, date(2026, 8, 24)) == [
        ("api", LineKind.USAGE, _month("2026-07-24", "2026-08-24"), "20.00 EUR")
    ]


def test_repricing_a_plans_usage_cuts_its_span_so_billed_periods_keep_their_terms():
    old, new = Catalog.from_mapping(_catalog("0.020")), Catalog.from_mapping(_catalog("0.025"))
    sub = Subscription.create(id="S1", customer="ACME", catalog=old, plan="pro",
                              start=date(2026, 3, 1))  # fmt: skip
    assert sub.plans[0].usage == old.plan("pro").usage  # fixed on the span, as its price
    records = THREE_MONTHS
    first = bill_subscription(sub.to_charge_plan(old), as_of=date(2026, 4, 1), usage=records)
    moved = sub.reprice(new, on=date(2026, 4, 1))
    assert [(s.start, s.end, s.usage == new.plan("pro").usage) for s in moved.plans] == [
        (date(2026, 3, 1), date(2026, 4, 1), False),
        (date(2026, 4, 1), None, True),
    ]
    # Billed with either catalog, the plan bills the same: the spans hold the terms.
    for catalog in (old, new):
        later = bill_subscription(
            moved.to_charge_plan(catalog), first.state, as_of=date(2026, 6, 1), usage=records
        )
        assert later.invoice is not None
        assert [str(line.amount) for line in later.invoice.lines if line.code == "api"] == [
            "12.00 EUR",  # April, 800 calls: tier 1 only
            "52.50 EUR",  # May, 2,500 calls: 1,000 × 0.015 + 1,500 × 0.025
        ]


# -- 4. a late record of a time-weighted metric re-rates every billed period it changes ------

SEATS = UsageCharge(
    code="seats",
    description="Sièges",
    currency="EUR",
    metric=Metric(code="seats", aggregation=Aggregation.TIME_WEIGHTED),
    model=PerUnit(unit_price=eur("10")),
)


def _seats_plan(*, start: date = date(2026, 3, 1), end: date | None = None,
                billing_day: int | None = None) -> ChargePlan:  # fmt: skip
    scheduled = ScheduledUsage(charge=SEATS, start=start, end=end, billing_day=billing_day)
    return ChargePlan(id="S1", customer="ACME", currency="EUR", usage=(scheduled,))


def _seats(quantity: int, day: date, key: str) -> UsageRecord:
    return UsageRecord(subscription="S1", metric="seats", quantity=quantity, used_on=day, key=key)


def test_a_late_seat_count_corrects_every_billed_period_it_carries_into():
    # The reviewer's case: 2 seats from 1 March, the plan left on 16 April; March (20.00) and
    # 1–15 April (2 × 15/30 × 10.00 = 10.00) billed; then "4 seats from 16 March" arrives.
    # March gains 2 seats × 16/31 (+10.32), and so does 1–15 April, which holds 4 seats
    # throughout (+2 × 15/30 × 10.00 = +10.00): before the fix, April's 10.00 was lost.
    seats = _seats_plan(end=date(2026, 4, 16))
    early = [_seats(2, date(2026, 3, 1), "s1")]
    billed = bill_subscription(seats, as_of=date(2026, 4, 16), usage=early)
    assert billed.invoice is not None
    assert [(line.period, str(line.amount)) for line in billed.invoice.lines] == [
        (Period(date(2026, 3, 1), date(2026, 4, 1)), "20.00 EUR"),
        (Period(date(2026, 4, 1), date(2026, 4, 16)), "10.00 EUR"),
    ]
    every = [*early, _seats(4, date(2026, 3, 16), "s2")]
    late = bill_subscription(seats, billed.state, as_of=date(2026, 5, 1), usage=every)
    assert late.invoice is not None
    assert [(line.kind, line.period, str(line.amount)) for line in late.invoice.lines] == [
        (LineKind.USAGE_CORRECTION, Period(date(2026, 3, 1), date(2026, 4, 1)), "10.32 EUR"),
        (LineKind.USAGE_CORRECTION, Period(date(2026, 4, 1), date(2026, 4, 16)), "10.00 EUR"),
    ]
    again = bill_subscription(seats, late.state, as_of=date(2026, 5, 1), usage=every)
    assert again.invoice is None  # corrected once, never twice


def test_a_late_seat_count_stops_correcting_at_the_next_recorded_count():
    # 2 seats from 1 March, 6 from 10 May; March to May billed. "3 seats from 20 March"
    # arrives: March +1 × 12/31 × 10.00 = +3.87, April +10.00 (3 seats all month), May only
    # for 1–9 May (+1 × 9/31 × 10.00 = +2.90): from 10 May the 6 seats hold.
    seats = _seats_plan()
    early = [_seats(2, date(2026, 3, 1), "s1"), _seats(6, date(2026, 5, 10), "s2")]
    billed = bill_subscription(seats, as_of=date(2026, 6, 1), usage=early)
    every = [*early, _seats(3, date(2026, 3, 20), "s3")]
    late = bill_subscription(seats, billed.state, as_of=date(2026, 6, 1), usage=every)
    assert late.invoice is not None
    assert [(line.period.start, str(line.amount)) for line in late.invoice.lines] == [
        (date(2026, 3, 1), "3.87 EUR"),
        (date(2026, 4, 1), "10.00 EUR"),
        (date(2026, 5, 1), "2.90 EUR"),
    ]


def _per_period(*results: object) -> dict[tuple[object, object], Money]:
    totals: dict[tuple[object, object], Money] = {}
    for result in results:
        invoice = result.invoice  # type: ignore[attr-defined]
        for line in () if invoice is None else invoice.lines:
            key = (line.charge_key, line.period)
            totals[key] = totals.get(key, Money.zero("EUR")) + line.amount
    return {key: amount for key, amount in totals.items() if not amount.is_zero()}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 150)), min_size=0, max_size=12),
    st.integers(0, 40),
    st.sampled_from([None, 1, 15, 31]),
    st.integers(0, 190),
    st.integers(0, 60),
    st.randoms(),
)
def test_a_late_records_corrections_plus_the_originals_equal_rebilling_every_period(
    drawn, start, billing_day, day, later, rng
):
    """For a time-weighted metric too, whose value carries into the periods after it."""
    origin = date(2026, 1, 1)
    records = [
        _seats(quantity, origin + timedelta(days=offset), f"k{index}")
        for index, (quantity, offset) in enumerate(drawn)
    ]
    seats = _seats_plan(start=origin + timedelta(days=start), billing_day=billing_day)
    as_of = origin + timedelta(days=day)
    early = [record for record in records if rng.random() < 0.6]
    original = bill_subscription(seats, as_of=as_of, usage=early)
    later_day = as_of + timedelta(days=later)
    corrected = bill_subscription(seats, original.state, as_of=later_day, usage=records)
    rebilled = bill_subscription(seats, as_of=later_day, usage=records)
    assert _per_period(original, corrected) == _per_period(rebilled)
    assert corrected.state == rebilled.state


# -- 3 and 6. usage load refuses a metric never billed, every problem at once ----------------


@pytest.fixture
def loaded(capsys, tmp_path):
    """tests/test_cli_usage.py's database: S1 measures API calls and users, S2 storage."""
    db = tmp_path / "billing.db"
    load_database(capsys, tmp_path, db, catalog=metered_catalog(tmp_path))
    return db


def test_a_record_of_a_metric_no_usage_charge_measures_is_refused_naming_the_metrics(
    capsys, tmp_path, loaded
):
    # Before the fix, "api_call" (the charge measures "api_calls") was stored, never billed.
    typo = write(tmp_path / "typo.csv", HEADER + "S1,api_call,5,2026-03-02,evt_1,\n")
    before = database_content(loaded)
    status, out, err = run(capsys, "usage", "load", typo, "--db", loaded)
    assert (status, out, database_content(loaded) == before) == (2, "", True)
    assert err == (
        f"subbill: error: {typo}: line 2: usage record 'evt_1' of subscription 'S1' has "
        "metric='api_call', which none of its usage charges measures (it would never be "
        "billed), did you mean 'api_calls'? Its usage charges measure 'active_users', "
        "'api_calls' (--any-metric stores it anyway)\n"
    )
    status, out, err = run(capsys, "usage", "load", typo, "--db", loaded, "--any-metric")
    assert (status, out, err) == (0, f"1 new usage record in {loaded} (0 already stored).\n", "")


def test_a_subscription_checks_that_its_usage_charges_measure_a_records_metric():
    catalog = Catalog.from_mapping(CATALOG_DATA)
    sub = Subscription.create(id="S1", customer="ACME", catalog=catalog, plan="pro",
                              start=date(2026, 3, 1))  # fmt: skip
    assert sub.measured_metrics(catalog) == frozenset({"api_calls"})
    sub.check_usage_record(THREE_MONTHS[0], catalog)  # measured: nothing to say
    typo = UsageRecord(subscription="S1", metric="api_call", quantity=1,
                       used_on=date(2026, 3, 2), key="e")  # fmt: skip
    with pytest.raises(InvalidArgumentError, match=r"metric='api_call', which none") as error:
        sub.check_usage_record(typo, catalog)
    assert "'api_calls'" in str(error.value)
    other = attrs.evolve(THREE_MONTHS[0], subscription="S2")
    with pytest.raises(InvalidArgumentError, match=r"of subscription 'S2', not 'S1'"):
        sub.check_usage_record(other, catalog)


def test_usage_load_reports_the_files_problems_and_the_databases_in_one_round(
    capsys, tmp_path, loaded
):
    # Before the fix, the bad quantity was reported first; the unknown subscription and the
    # metric only once it was fixed and the file loaded again.
    before = database_content(loaded)
    path = write(
        tmp_path / "bad.csv",
        HEADER
        + "S1,api_calls,-3,2026-03-02,evt_1,\n"
        + "S9,api_calls,1,2026-03-02,evt_2,\n"
        + "S2,storage,1,2026-03-02,evt_3,\n",
    )
    status, out, err = run(capsys, "usage", "load", path, "--db", loaded)
    assert (status, out) == (2, "")
    assert err.splitlines() == [
        f"subbill: error: {path}: line 2: quantity: quantity='-3' must be >= 0",
        (
            f"subbill: error: {path}: line 4: usage record 'evt_3' of subscription 'S2' has "
            "metric='storage', which none of its usage charges measures (it would never be "
            "billed), did you mean 'storage_gb'? Its usage charges measure 'storage_gb' "
            "(--any-metric stores it anyway)"
        ),
        (
            f"subbill: error: {path}: no subscription 'S9' in the database: load the "
            "subscriptions first ('subbill subscriptions load FILE'); nothing was added"
        ),
    ]
    assert database_content(loaded) == before


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_store_keeps_records_of_a_subscription_it_does_not_hold(kind, tmp_path):
    # The store is a repository: it keeps what it is given (the command line checks the
    # subscriptions); a bill run reads the records of the subscriptions it bills only.
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")
    orphan = attrs.evolve(THREE_MONTHS[0], subscription="nobody")
    assert store.add_usage_records([orphan]) == 1
    assert store.usage_records(["nobody"], before=date(2027, 1, 1)) == {"nobody": [orphan]}
    report = run_billing(store, as_of=date(2026, 4, 1))
    assert invoices_of_run(store, report) == []


def test_a_late_seat_count_through_the_store_corrects_march_and_the_days_of_april_billed():
    # The reviewer's path: a plan whose seats are billed by days, left for a plan without
    # usage on 16 April; `run_billing` on 16 April, then the late record, then the next run.
    seats = {"code": "seats", "description": "Sièges",
             "metric": {"code": "seats", "aggregation": "time_weighted"},
             "model": {"kind": "per_unit", "unit_price": "10"}}  # fmt: skip
    data = copy.deepcopy(CATALOG_DATA)
    data["plans"][0]["usage"] = [seats]
    catalog = Catalog.from_mapping(data)
    store = MemoryStore()
    store.save_catalog(catalog)
    sub = Subscription.create(id="S1", customer="ACME", catalog=catalog, plan="pro",
                              start=date(2026, 3, 1))  # fmt: skip
    store.save_subscription(sub.change_plan("max", catalog, on=date(2026, 4, 16)))
    store.add_usage_records([_seats(2, date(2026, 3, 1), "s1")])
    run_billing(store, as_of=date(2026, 4, 16))
    store.add_usage_records([_seats(4, date(2026, 3, 16), "s2")])
    (invoice,) = invoices_of_run(store, run_billing(store, as_of=date(2026, 4, 17)))
    assert [(line.kind, line.period, str(line.amount)) for line in invoice.lines] == [
        (LineKind.USAGE_CORRECTION, Period(date(2026, 3, 1), date(2026, 4, 1)), "10.32 EUR"),
        (LineKind.USAGE_CORRECTION, Period(date(2026, 4, 1), date(2026, 4, 16)), "10.00 EUR"),
    ]

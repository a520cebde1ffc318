"""Issue 13, fifth pass: a stored row straight to its ``ChargePlan`` in a bill run.

``run_billing`` reads a SQLite store's pages through ``billing_page``: a usual stamped
subscription (one plan span, the usual fields) is not built, its row's values stand in for
it (``codec.OnePlanRow``) and its plan is built straight from them. Each stand-in must be
the subscription the trusted read builds (``subscription()``), answer as it does, and give
its plan, field for field and digit for digit, or its error; any other row is read as
``billing_rows`` reads it.
"""

import tempfile
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import attrs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from subbill.periods import MONTHLY, Frequency
from subbill.service import run_billing
from subbill.storage import codec
from subbill.storage.codec import OnePlanRow, read_billing_subscription, read_subscription
from subbill.storage.sqlite import SQLiteStore, billing_page
from subbill.subscriptions import Subscription
from tests.test_charge_plan_unchecked import outcome
from tests.test_codec_rows import CATALOG
from tests.test_engine_cold_path import PLANS, assert_same_plans
from tests.test_one_plan_reader import _data_text, _restamped, near_misses, one_plan_subscriptions
from tests.test_persisted_run_row_reads import _varied, every_stored_shape
from tests.test_trusted_read_refusals import _outcome, _same, _stamped, edited_rows
from tests.test_usage_billing import cent_a_call

#: A catalog with a usage charge: a stand-in's plan is then its subscription's, built.
WITH_USAGE = attrs.evolve(
    CATALOG, plans=[attrs.evolve(plan, usage=(cent_a_call(),)) for plan in CATALOG.plans]
)
#: Catalogs a stand-in is billed with: the stored ones', one without the row's plan (an
#: unknown code), one with usage charges, none.
CATALOGS = (CATALOG, PLANS, WITH_USAGE, None)


def _read(text):
    return _outcome(lambda: read_billing_subscription(text, table="subscriptions", key="S"))


def _checked(text):
    return _outcome(lambda: read_subscription(text, table="subscriptions", key="S"))


def assert_stands_in(text):
    """The billing read of ``text`` stands in for what the trusted read gives, exactly."""
    got, want = _read(text), _checked(text)
    if not isinstance(got, OnePlanRow):
        _same(got, want)  # any other row: the same subscription, or the same error
        return
    assert isinstance(want, Subscription), want
    _same(got.subscription(), want)
    for name in (
        "id", "customer", "currency", "start", "end", "frequency", "billing_day", "quantity",
        "payment_method", "cancelled_on", "cancel_at", "plans", "ends_on", "tax_rates", "terms",
        "invoice_discounts", "schedule", "trial", "lines", "paid_from",
    ):  # fmt: skip
        assert repr(getattr(got, name)) == repr(getattr(want, name)), name
    for catalog in CATALOGS:
        plan = outcome(lambda catalog=catalog: got.to_charge_plan(catalog))
        assert_same_plans(plan, outcome(lambda catalog=catalog: want.to_charge_plan(catalog)))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(one_plan_subscriptions(), every_stored_shape()))
def test_a_plan_row_stands_in_for_the_stored_subscription_it_reads(sub):
    text = codec.subscription_text(sub)
    assert_stands_in(text)
    if codec._ONE_PLAN(text, len(codec._STAMP_HEAD), len(text) - codec._STAMP_TAIL):
        assert isinstance(_read(text), OnePlanRow)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(edited_rows())
def test_a_plan_row_stands_in_for_the_subscription_after_any_edit(data):
    assert_stands_in(_stamped(data))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(near_misses())
def test_a_plan_row_stands_in_for_the_subscription_for_near_misses(data_text):
    assert_stands_in(_restamped(data_text))


#: A start written otherwise than ``isoformat`` writes it, that ``fromisoformat`` reads
#: (a week date, the basic format): the charge's key is written from the date itself.
_OTHER_DAYS = ["2024-W20-5", "20240517", "2024W205"]


@pytest.mark.parametrize("day", _OTHER_DAYS)
def test_a_start_written_otherwise_gives_the_charges_key_as_isoformat_writes_it(day):
    text = codec.subscription_text(_varied())
    edited = _restamped(_data_text(text).replace('"2024-05-17"', f'"{day}"'))
    row = _read(edited)
    assert isinstance(row, OnePlanRow)  # the same day: the row is read as it is
    assert row.plan_key is None
    (charge,) = row.to_charge_plan(CATALOG).charges
    assert charge.key == "pro@2024-05-17"
    assert_stands_in(edited)


def test_the_usual_row_gives_its_charges_key_as_written():
    text = codec.subscription_text(_varied())
    row = _read(text)
    assert isinstance(row, OnePlanRow)
    assert row.plan_key == "pro@2024-05-17"
    (charge,) = row.to_charge_plan(CATALOG).charges
    assert charge.key == "pro@2024-05-17"
    assert str(charge.unit_price.amount) == "37.45"
    assert row.subscription() == read_subscription(text, table="subscriptions", key="S7")


def _store(tmp_path, subscriptions, catalog=CATALOG):
    store = SQLiteStore(tmp_path / "s.db")
    store.save_catalog(catalog)
    for sub in subscriptions:
        store.save_subscription(sub)
    return store


def _pages(read):
    after, rows = None, []
    while True:
        page, after = read(after)
        if after is None:
            return rows
        rows += page


def _shapes(count):
    """Stored subscriptions of several shapes: usual rows and others, in id order."""
    found = []
    for index in range(count):
        sub = _varied(quantity=str(1 + index % 4))
        if index % 3 == 1:
            sub = attrs.evolve(sub, payment_method="pm_1", end=date(2025, 6, 1))
        if index % 3 == 2:
            sub = sub.change_quantity(5, on=sub.start + timedelta(days=40))  # a history
        found.append(attrs.evolve(sub, id=f"S{index:03d}", customer=f"C{index}"))
    return found


@pytest.mark.parametrize("shards", [1, 2])
def test_billing_page_gives_billing_rows_rows_with_their_stand_ins(tmp_path, shards):
    store = _store(tmp_path, _shapes(12))
    run_billing(store, as_of=date(2024, 6, 1))  # states for some of them
    for shard in range(shards):
        plain = _pages(
            lambda after, shard=shard: store.billing_rows(
                after, limit=5, shard=shard, shards=shards
            )
        )
        paged = _pages(
            lambda after, shard=shard: billing_page(
                store, after, limit=5, shard=shard, shards=shards
            )
        )
        assert [row.subscription_id for row in paged] == [row.subscription_id for row in plain]
        stand_ins = 0
        for got, want in zip(paged, plain, strict=True):
            assert (got.state, got.error, got.version) == (want.state, want.error, want.version)
            if isinstance(got.subscription, OnePlanRow):
                stand_ins += 1
                assert got.subscription.subscription() == want.subscription
                assert_same_plans(
                    got.subscription.to_charge_plan(CATALOG),
                    want.subscription.to_charge_plan(CATALOG),
                )
            else:
                assert got.subscription == want.subscription
        assert 0 < stand_ins < len(plain)  # the histories are read as billing_rows reads them


def test_billing_page_reads_through_a_replaced_billing_rows(tmp_path):
    # A store whose billing_rows is replaced (a test's race, a wrapper) is read through it.
    store = _store(tmp_path, _shapes(3))
    calls = []
    read = store.billing_rows

    def counted(after, **options):
        calls.append(after)
        return read(after, **options)

    store.billing_rows = counted
    rows, _ = billing_page(store, None, limit=10)
    assert calls == [None]
    assert all(isinstance(row.subscription, Subscription) for row in rows)

    class Logged(SQLiteStore):
        def billing_rows(self, after, **options):
            calls.append(("logged", after))
            return super().billing_rows(after, **options)

    logged = Logged(tmp_path / "s.db")
    rows, _ = billing_page(logged, None, limit=10)
    assert calls[-1] == ("logged", None)
    assert all(isinstance(row.subscription, Subscription) for row in rows)


def test_billing_page_reads_through_any_billing_rows_set_on_the_store_or_patched(tmp_path):
    # Review 102: the check looked at the method's function only, so the store's own bound
    # method set on it, another store's, or the class patched still gave stand-ins (and
    # ignored the other store, or never called the patched method).
    store = _store(tmp_path, _shapes(3))
    store.billing_rows = store.billing_rows
    rows, _ = billing_page(store, None, limit=10)
    assert len(rows) == 3
    assert all(type(row.subscription) is Subscription for row in rows)

    (tmp_path / "other").mkdir()
    other = _store(tmp_path / "other", [])
    store.billing_rows = other.billing_rows
    assert billing_page(store, None, limit=10) == ([], None)

    fresh = SQLiteStore(tmp_path / "s.db")
    calls = []
    own = SQLiteStore.billing_rows

    def patched(self, after, **options):
        calls.append(after)
        return own(self, after, **options)

    with mock.patch.object(SQLiteStore, "billing_rows", patched):
        report = run_billing(fresh, as_of=date(2024, 6, 1))
    assert calls == [None, "S002"]
    assert report.invoice_count == 3


def test_a_damaged_row_among_stand_ins_fails_its_own_subscription_only(tmp_path):
    subs = _shapes(4)
    store = _store(tmp_path, subs)
    with store._connection:
        store._connection.execute(
            "UPDATE subscriptions SET document = replace(document, '\"C1\"', '\"C1\\u0001\"') "
            "WHERE id = 'S001'"
        )
    rows, _ = billing_page(store, None, limit=10)
    assert [row.error is None for row in rows] == [True, False, True, True]
    assert "subscriptions row 'S001'" in str(rows[1].error)
    report = run_billing(store, as_of=date(2024, 6, 1))
    assert [failure.subscription for failure in report.failures] == ["S001"]
    assert report.invoice_count == 3


@given(st.sampled_from([MONTHLY, Frequency.parse("P1Y")]), st.integers(1, 28))
@example(MONTHLY, 1)
def test_a_stand_in_bills_as_its_subscription_bills_through_a_store(frequency, day):
    # The same invoices and states through billing_page as through billing_rows, a store
    # each, on the first run and the next.
    subs = [attrs.evolve(sub, frequency=frequency, billing_day=day) for sub in _shapes(6)]
    results = []
    for replaced in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            store = _store(Path(folder), subs)
            if replaced:  # billing_rows read through: no stand-in
                store.billing_rows = store.billing_rows
            rows, _ = billing_page(store, None, limit=100)
            kinds = {type(row.subscription).__name__ for row in rows}
            assert ("OnePlanRow" in kinds) is not replaced
            for as_of in (date(2024, 6, 1), date(2025, 7, 1)):
                run_billing(store, as_of=as_of)
            results.append(
                (
                    [codec.dumps(invoice) for invoice in store.invoices()],
                    [codec.dumps(store.get_billing_state(sub.id)) for sub in subs],
                )
            )
            store.close()
    assert results[0] == results[1]
    assert results[0][0]  # something was billed

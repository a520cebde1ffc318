"""run_billing over SQLite: exactly once, after a crash, and with two processes at once.

And: numbers follow dates, options are typed, a damaged row fails only its subscription,
a run that bills nothing writes nothing, a store failure is typed.
"""

import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import InvalidArgumentError, Money, Payment, Subscription
from subbill.billing import BillingState, BillingTerms, NegativeBalancePolicy, bill_subscription
from subbill.errors import InvalidStateError, InvalidTypeError, OutOfBoundsError
from subbill.invoices import InvoiceStatus, one_time_line
from subbill.service import (
    MAX_BATCH_SIZE,
    correct_invoice,
    invoices_of_run,
    pay_invoice,
    replace_subscription,
    run_billing,
)
from subbill.storage import MemoryStore, SQLiteStore, open_store
from subbill.storage.errors import DiskFullError, StoredDataError
from subbill.taxes import TaxRounding
from tests.service_scenario import AS_OF, CATALOG, COUNT, bill, fill
from tests.test_subscriptions import CATALOG as SUBSCRIPTION_CATALOG
from tests.test_subscriptions import histories

ROOT = Path(__file__).parent.parent


def _python(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "tests.service_scenario", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kw,
    )


def invoices_by_subscription(where):
    """Every stored invoice, in order: ``where`` is a SQLite file or a store's URL."""
    store = open_store(where) if isinstance(where, str) and "://" in where else SQLiteStore(where)
    invoices = store.invoices()
    store.close()
    return invoices


def issued(report):
    """What a run created: how many invoices, and the first and last numbers."""
    return report.invoice_count, report.first_number, report.last_number


def only_number(report):
    """The number of the one invoice a run created."""
    assert report.invoice_count == 1
    assert report.first_number == report.last_number
    return report.first_number


def expected_numbers(count):
    return [f"F-2026-{n:06d}" for n in range(1, count + 1)]


def test_a_run_bills_each_subscription_once_and_a_rerun_bills_nothing(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    first = bill(path)
    assert first.subscriptions == COUNT
    assert issued(first) == (COUNT, "F-2026-000001", f"F-2026-{COUNT:06d}")
    assert issued(bill(path)) == (0, None, None)
    invoices = invoices_by_subscription(path)
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]


@pytest.mark.parametrize(("batch_size", "kept"), [(1, 16), (8, 16), (5, 15), (None, 0)])
def test_a_run_killed_midway_then_rerun_bills_everything_exactly_once(tmp_path, batch_size, kept):
    # A run saves its subscriptions batch by batch (DEFAULT_BATCH_SIZE = 500 > COUNT when
    # None): killed inside its 17th invoice, it keeps the batches committed before, whole,
    # and nothing of the open one; the re-run bills the rest, exactly once, gapless.
    path = tmp_path / "s.db"
    fill(path)
    killed = _python(str(path), "bill", "17", *([] if batch_size is None else [str(batch_size)]))
    assert killed.returncode == 3  # died inside the 17th invoice's transaction
    survived = invoices_by_subscription(path)
    assert [i.number for i in survived] == expected_numbers(kept)  # the open batch rolled back
    report = bill(path)
    assert issued(report) == (COUNT - kept, f"F-2026-{kept + 1:06d}", f"F-2026-{COUNT:06d}")
    invoices = invoices_by_subscription(path)
    assert [i.number for i in invoices] == expected_numbers(COUNT)  # gapless
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]
    reference = tmp_path / "reference.db"
    fill(reference)
    bill(reference)
    assert {i.subscription: i.total for i in invoices} == {
        i.subscription: i.total for i in invoices_by_subscription(reference)
    }


def test_two_processes_billing_the_same_file_create_every_invoice_once(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    command = [sys.executable, "-m", "tests.service_scenario", str(path), "bill"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    for run in runs:
        _, errors = run.communicate(timeout=300)
        assert run.returncode == 0, errors
    invoices = invoices_by_subscription(path)
    assert [i.number for i in invoices] == expected_numbers(COUNT)  # unique and gapless
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]


def test_a_plan_needs_a_catalog_but_quoted_lines_do_not():
    # A business selling only through payment links has no catalog: its purchased
    # subscriptions are billed; a catalog subscription in that store fails on its own,
    # naming the missing catalog, and nothing of it is written.
    store = MemoryStore()
    store.save_subscription(
        Subscription.create(
            id="S-PLAN", customer="C", catalog=CATALOG, plan=CATALOG.plans[0].code, start=AS_OF
        )
    )
    report = run_billing(store, as_of=AS_OF)
    (failure,) = report.failures
    assert failure.subscription == "S-PLAN"
    assert isinstance(failure.error, InvalidStateError)
    assert "has a plan but the store has no catalog" in str(failure.error)
    assert store.invoices() == []
    assert store.get_billing_state("S-PLAN") is None


# -- invoice numbers follow their dates --------------------------------------------------------


def _store(kind, tmp_path):
    return MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")


def _subscription(sub_id, start, plan="essentiel"):
    return Subscription.create(
        id=sub_id, customer=f"Client {sub_id}", catalog=CATALOG, plan=plan, start=start
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_run_as_of_a_date_before_the_last_invoice_is_refused(tmp_path, kind):
    store = _store(kind, tmp_path)
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("S1", date(2026, 6, 1)))
    june = run_billing(store, as_of=date(2026, 6, 1))
    assert issued(june) == (1, "F-2026-000001", "F-2026-000001")
    # A subscription that started in February, added after the June run.
    store.save_subscription(_subscription("S2", date(2026, 2, 1)))
    with pytest.raises(
        InvalidStateError,
        match=r"as_of=2026-03-01 is before 2026-06-01, the date of the last invoice issued",
    ):
        run_billing(store, as_of=date(2026, 3, 1))
    assert [i.number for i in store.invoices()] == ["F-2026-000001"]  # nothing was billed
    assert store.get_billing_state("S2") is None
    # On the date of the last invoice, or later, the run goes on: numbers follow dates.
    again = run_billing(store, as_of=date(2026, 6, 1))
    assert issued(again) == (1, "F-2026-000002", "F-2026-000002")
    invoices = store.invoices()
    assert [(i.number, i.issued_on) for i in invoices] == [
        ("F-2026-000001", date(2026, 6, 1)),
        ("F-2026-000002", date(2026, 6, 1)),
    ]


# -- typed options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"tax_rounding": "per_line"},
            InvalidTypeError,
            (
                "tax_rounding='per_line' must be a TaxRounding: TaxRounding.PER_LINE or "
                "TaxRounding.PER_INVOICE"
            ),
        ),
        (
            {"negative_balance": "carry_forward"},
            InvalidTypeError,
            (
                "negative_balance='carry_forward' must be a NegativeBalancePolicy: "
                "NegativeBalancePolicy.CREDIT_NOTE or NegativeBalancePolicy.CARRY_FORWARD"
            ),
        ),
        (
            {"tax_rounding": NegativeBalancePolicy.CARRY_FORWARD},
            InvalidTypeError,
            (
                "tax_rounding=<NegativeBalancePolicy.CARRY_FORWARD: 'carry_forward'> must be a "
                "TaxRounding"
            ),
        ),
        ({"payment_terms_days": "30"}, InvalidTypeError, "payment_terms_days='30' must be a whole"),
        ({"payment_terms_days": True}, InvalidTypeError, "payment_terms_days=True must be a whole"),
        ({"payment_terms_days": 30.0}, InvalidTypeError, "payment_terms_days=30.0 must be a whole"),
        (
            {"payment_terms_days": -1},
            OutOfBoundsError,
            "payment_terms_days=-1 must be between 0 and 365 days",
        ),
        (
            {"payment_terms_days": 10**9},
            OutOfBoundsError,
            "payment_terms_days=1000000000 must be between 0 and 365 days",
        ),
    ],
    ids=[
        "tax-rounding-str",
        "negative-balance-str",
        "tax-rounding-wrong-enum",
        "terms-str",
        "terms-bool",
        "terms-float",
        "terms-negative",
        "terms-huge",
    ],
)
def test_billing_terms_are_typed_and_checked_when_built(options, error, message):
    field = next(iter(options))
    with pytest.raises(error, match=f"^{field}=") as refused:
        BillingTerms(**options)
    assert str(refused.value).split(" must ")[0] == message.split(" must ")[0]


def test_each_subscription_is_billed_on_its_own_terms():
    store = MemoryStore()
    store.save_catalog(CATALOG)
    terms = BillingTerms(
        payment_terms_days=45,
        tax_rounding=TaxRounding.PER_INVOICE,
        negative_balance=NegativeBalancePolicy.CARRY_FORWARD,
    )
    store.save_subscription(attrs.evolve(_subscription("S1", AS_OF), terms=terms))
    store.save_subscription(_subscription("S2", AS_OF))
    run_billing(store, as_of=AS_OF)
    first, second = sorted(store.invoices(), key=lambda invoice: invoice.subscription)
    assert first.due_on == date(2026, 4, 15)  # 1 March + 45 days, S1's terms
    assert second.due_on == date(2026, 3, 31)  # the default 30 days
    assert store.get_subscription("S1").terms == terms  # stored with the subscription


def test_run_billing_takes_no_per_call_policy():
    with pytest.raises(TypeError, match="unexpected keyword argument 'tax_rounding'"):
        run_billing(MemoryStore(), as_of=AS_OF, tax_rounding=TaxRounding.PER_LINE)


# -- a damaged row fails its subscription only -----------------------------------------------


def _damage(path, table, key_column, key, document='{"version": 1, "data": {"id": 3}}'):
    connection = sqlite3.connect(path, isolation_level=None)
    sql = f"UPDATE {table} SET document = ? WHERE {key_column} = ?"  # noqa: S608  (the test's own names)
    connection.execute(sql, (document, key))
    connection.close()


def test_a_damaged_subscription_is_reported_and_every_other_one_is_billed(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    _damage(path, "subscriptions", "id", "S005")
    _damage(path, "subscriptions", "id", "S017", '{"version": 9, "data": {}}')
    report = bill(path)
    assert not report.is_complete
    assert [f.subscription for f in report.failures] == ["S005", "S017"]
    first, second = (f.error for f in report.failures)
    assert isinstance(first, StoredDataError)
    assert str(first).startswith("subscriptions row 'S005': a stored Subscription cannot be read")
    assert (first.table, first.key) == ("subscriptions", "S005")
    assert str(second).startswith("subscriptions row 'S017': version=9 of a stored Subscription")
    # gapless, the others billed
    assert issued(report) == (COUNT - 2, "F-2026-000001", f"F-2026-{COUNT - 2:06d}")
    billed = {i.subscription for i in invoices_by_subscription(path)}
    assert billed == {f"S{n:03d}" for n in range(COUNT)} - {"S005", "S017"}

    # Repaired, the next run bills exactly those two, once.
    store = SQLiteStore(path)
    store.save_subscription(_subscription("S005", date(2026, 1, 6), plan="business"))
    store.save_subscription(_subscription("S017", date(2026, 1, 18)))
    store.close()
    again = bill(path)
    assert again.is_complete
    assert issued(again) == (2, f"F-2026-{COUNT - 1:06d}", f"F-2026-{COUNT:06d}")
    assert issued(bill(path)) == (0, None, None)


def test_a_damaged_billing_state_fails_its_subscription_and_writes_nothing_for_it(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    bill(path)
    _damage(path, "billing_states", "subscription_id", "S003", "{oops")
    store = SQLiteStore(path)
    before = store.invoices()
    report = run_billing(store, as_of=date(2026, 4, 1))
    (failure,) = report.failures
    assert failure.subscription == "S003"
    assert str(failure.error).startswith("billing_states row 'S003': a stored BillingState is not")
    assert report.invoice_count == COUNT - 1
    assert [i for i in store.invoices() if i.subscription == "S003"] == [
        i for i in before if i.subscription == "S003"
    ]
    store.close()


@pytest.mark.parametrize(
    ("data", "shape"), [('"x"', "str"), ("[1, 2]", "list")], ids=["str", "list"]
)
@pytest.mark.parametrize(
    ("table", "key_column", "key", "kind"),
    [
        ("subscriptions", "id", "S005", "Subscription"),
        ("billing_states", "subscription_id", "S017", "BillingState"),
    ],
    ids=["subscription", "billing-state"],
)
def test_a_row_whose_data_is_not_an_object_fails_its_subscription_only(
    tmp_path, data, shape, table, key_column, key, kind
):
    # A review found {"version": 3, "data": "x"} raising AttributeError out of run_billing,
    # stopping the whole run, where a damaged row fails its own subscription.
    path = tmp_path / "s.db"
    fill(path)
    bill(path)
    _damage(path, table, key_column, key, f'{{"version": 3, "data": {data}}}')
    store = SQLiteStore(path)
    report = run_billing(store, as_of=date(2026, 4, 1))
    (failure,) = report.failures
    assert failure.subscription == key
    assert isinstance(failure.error, StoredDataError)
    assert (failure.error.table, failure.error.key) == (table, key)
    assert str(failure.error).startswith(f"{table} row {key!r}: a stored {kind} cannot be read")
    assert shape in str(failure.error)
    assert report.subscriptions == COUNT
    assert report.invoice_count == COUNT - 1  # every other one is billed
    assert key not in {i.subscription for i in store.invoices() if i.issued_on == date(2026, 4, 1)}
    store.close()


# -- the run's arguments -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize(
    ("batch_size", "shown"),
    [(2**63, "9223372036854775808"), (10**30, "1" + "0" * 30), (1_000_001, "1000001"),
     (0, "0"), (-1, "-1")],
    ids=["2-to-the-63", "10-to-the-30", "above-a-million", "zero", "negative"],
)  # fmt: skip
def test_run_billing_takes_a_batch_size_from_1_to_a_million(tmp_path, kind, batch_size, shown):
    # A review found batch_size=2**63 raising OverflowError on SQLite.
    store = _store(kind, tmp_path)
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("S1", AS_OF))
    with pytest.raises(InvalidArgumentError) as refused:
        run_billing(store, as_of=AS_OF, batch_size=batch_size)
    assert str(refused.value) == f"batch_size={shown} must be an int from 1 to 1000000"
    assert store.invoices() == []
    assert run_billing(store, as_of=AS_OF, batch_size=MAX_BATCH_SIZE).invoice_count == 1


@pytest.mark.parametrize("report", ["x", None, 3], ids=["str", "none", "int"])
def test_invoices_of_run_takes_a_bill_run_report(report):
    # A review found invoices_of_run(store, "x") raising AttributeError.
    with pytest.raises(InvalidTypeError) as refused:
        invoices_of_run(MemoryStore(), report)
    assert str(refused.value) == f"report={report!r} must be a BillRunReport (from run_billing)"


def test_invoices_of_run_takes_a_store():
    report = run_billing(MemoryStore(), as_of=AS_OF)
    with pytest.raises(InvalidTypeError, match=r"^store='x' must be a Store"):
        invoices_of_run("x", report)


# -- a run that bills nothing writes nothing ----------------------------------------------------


def test_a_run_that_bills_nothing_writes_nothing(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    bill(path)
    store = SQLiteStore(path)
    report = run_billing(store, as_of=AS_OF)
    assert issued(report) == (0, None, None)
    assert store._connection.total_changes == 0  # not one row written (was: one per state)
    store.close()


def test_a_run_saves_only_the_states_that_changed():
    store = MemoryStore()
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("S1", date(2026, 1, 1)))
    store.save_subscription(_subscription("S2", date(2026, 5, 1)))  # not started yet
    saved = []
    save, save_many = store.save_billing_state, store.save_billing_states

    def counting(subscription_id, state):
        saved.append(subscription_id)
        save(subscription_id, state)

    def counting_many(states):  # a page's states are saved at once
        saved.extend(subscription_id for subscription_id, _ in states)
        save_many(states)

    store.save_billing_state = counting
    store.save_billing_states = counting_many
    run_billing(store, as_of=AS_OF)
    assert saved == ["S1"]
    run_billing(store, as_of=AS_OF)
    assert saved == ["S1"]
    run_billing(store, as_of=date(2026, 4, 1))
    assert saved == ["S1", "S1"]


# -- a store failure during a run ------------------------------------------------------------------


def test_a_full_disk_during_a_run_stops_it_with_a_typed_error_and_keeps_what_was_committed(
    tmp_path,
):
    path = tmp_path / "s.db"
    fill(path)
    store = SQLiteStore(path)
    pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
    store._connection.execute(f"PRAGMA max_page_count = {pages + 3}")
    with pytest.raises(DiskFullError, match="disk is full"):
        run_billing(store, as_of=AS_OF, batch_size=2)
    store.close()
    invoices = invoices_by_subscription(path)
    assert 0 < len(invoices) < COUNT
    assert len(invoices) % 2 == 0  # whole batches: the one that met the full disk undone
    assert [i.number for i in invoices] == expected_numbers(len(invoices))
    store = SQLiteStore(path)
    billed = {i.subscription for i in invoices}
    assert {s for s in store.subscription_ids() if store.get_billing_state(s)} == billed
    store.close()
    rest = bill(path)  # room again: the run resumes where it stopped, exactly once
    assert rest.invoice_count == COUNT - len(invoices)
    assert [i.number for i in invoices_by_subscription(path)] == expected_numbers(COUNT)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_replace_subscription_never_rewrites_what_was_billed(kind, tmp_path):
    store = _store(kind, tmp_path)
    store.save_catalog(CATALOG)
    first = Subscription.create(
        id="R1", customer="C", catalog=CATALOG, plan="essentiel", start=date(2026, 3, 1)
    )
    assert replace_subscription(store, first) is False
    report = run_billing(store, as_of=date(2026, 3, 15))
    assert issued(report) == (1, report.first_number, report.first_number)
    assert str(store.get_invoice(report.first_number).total) == "29.00 EUR"
    pro = Subscription.create(
        id="R1", customer="C", catalog=CATALOG, plan="pro", start=date(2026, 3, 1)
    )
    with pytest.raises(InvalidStateError, match="change_plan"):
        replace_subscription(store, pro)
    assert store.get_subscription("R1") == first
    assert run_billing(store, as_of=date(2026, 3, 15)).invoice_count == 0
    upgraded = first.change_plan("pro", CATALOG, on=date(2026, 3, 20))
    assert replace_subscription(store, upgraded) is True
    report = run_billing(store, as_of=date(2026, 3, 20))
    assert report.invoice_count == 1
    number = report.first_number
    lines = store.get_invoice(number).lines
    assert [(line.code, str(line.amount)) for line in lines] == [
        ("essentiel", "-11.23 EUR"),  # 12/31 of 29.00 given back
        ("pro", "22.84 EUR"),  # 12/31 of 59.00
    ]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_an_overpaid_invoice_is_corrected_by_a_numbered_credit_note_and_the_credit_is_used(
    kind, tmp_path
):
    store = _store(kind, tmp_path)
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("K1", date(2026, 3, 1)))
    number = only_number(run_billing(store, as_of=date(2026, 3, 1)))
    paid = pay_invoice(
        store, number, Payment(amount=Money("40.00", "EUR"), paid_on=date(2026, 3, 2))
    )
    assert paid.status.value == "paid"
    assert store.get_invoice(number) == paid
    assert str(store.get_billing_state("K1").credit_balance) == "11.00 EUR"  # overpaid
    # The periods a subscription billed are corrected through the subscription (the engine
    # credits them); a correction note for them would credit them twice: refused.
    with pytest.raises(InvalidStateError, match="credit them twice"):
        correct_invoice(store, number, issued_on=date(2026, 3, 5))
    gesture = one_time_line("geste", "Geste commercial", Money("10.00", "EUR"))
    correction = correct_invoice(store, number, issued_on=date(2026, 3, 5), lines=[gesture])
    note = correction.credit_note
    assert (note.number, note.corrects, str(note.total)) == ("F-2026-000002", number, "-10.00 EUR")
    assert correction.returned == Money("10.00", "EUR")
    assert store.get_invoice("F-2026-000002") == note
    assert str(store.get_billing_state("K1").credit_balance) == "21.00 EUR"
    # The next invoice uses the credit before anything is due.
    april = only_number(run_billing(store, as_of=date(2026, 4, 1)))
    assert str(store.get_invoice(april).amount_due) == "8.00 EUR"  # 29.00 − 21.00


def test_a_cancellation_after_a_correction_never_credits_a_period_twice():
    # The review's case: a full correction of March, then a cancellation backdated to
    # 1 March, gave back 59.00 twice. The correction of billed periods is refused.
    store = MemoryStore()
    store.save_catalog(CATALOG)
    subscription = _subscription("K2", date(2026, 3, 1), plan="pro")
    store.save_subscription(subscription)
    number = only_number(run_billing(store, as_of=date(2026, 3, 1)))
    with pytest.raises(InvalidStateError):
        correct_invoice(store, number, issued_on=date(2026, 3, 5))
    replace_subscription(store, subscription.cancel(on=date(2026, 3, 1), at_period_end=False))
    credit = only_number(run_billing(store, as_of=date(2026, 3, 10)))
    assert str(store.get_invoice(credit).total) == "-59.00 EUR"
    net = sum((invoice.total for invoice in store.invoices()), Money("0", "EUR"))
    assert net == Money("0.00", "EUR")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_credit_note_dated_before_the_last_invoice_is_refused(kind, tmp_path):
    store = _store(kind, tmp_path)
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("K1", date(2026, 3, 1)))
    number = only_number(run_billing(store, as_of=date(2026, 3, 10)))
    gesture = [one_time_line("geste", "Geste commercial", Money("5.00", "EUR"))]
    with pytest.raises(InvalidArgumentError, match="2026-03-10"):
        correct_invoice(store, number, issued_on=date(2026, 3, 5), lines=gesture)
    run_billing(store, as_of=date(2026, 4, 1))
    with pytest.raises(InvalidStateError, match="2026-04-01"):  # numbers follow dates
        correct_invoice(store, number, issued_on=date(2026, 3, 20), lines=gesture)
    assert [i.number for i in store.invoices()] == [number, "F-2026-000002"]
    with pytest.raises(InvalidArgumentError, match="F-9"):
        correct_invoice(store, "F-9", issued_on=date(2026, 3, 12))


def test_a_run_after_the_last_billing_date_is_refused_before_anything():
    store = MemoryStore()
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("L1", date(2026, 3, 1)))
    with pytest.raises(OutOfBoundsError, match="as_of"):
        run_billing(store, as_of=date(3050, 1, 1))
    assert store.invoices() == []


def test_a_payment_dated_before_its_invoice_is_refused():
    store = MemoryStore()
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("P1", date(2026, 3, 1)))
    number = only_number(run_billing(store, as_of=date(2026, 3, 1)))
    with pytest.raises(InvalidArgumentError, match="before invoice"):
        pay_invoice(store, number, Payment(amount=Money("29.00", "EUR"), paid_on=date(2025, 3, 1)))
    assert store.payments(number) == []


@settings(max_examples=60)
@given(
    histories(),
    st.lists(st.integers(0, 400), min_size=1, max_size=4).map(sorted),
)
def test_run_billing_over_any_dates_gives_exactly_the_invoices_of_the_pure_engine(sub, offsets):
    # Issue 11's property, for catalog subscriptions: the store and run_billing add nothing
    # and lose nothing on top of the pure engine, run after run.
    store = MemoryStore()
    store.save_catalog(SUBSCRIPTION_CATALOG)
    replace_subscription(store, sub)
    state = None
    expected = []
    for offset in offsets:
        day = date(2026, 3, 1) + timedelta(days=offset)
        run_billing(store, as_of=day)
        result = bill_subscription(sub.to_charge_plan(SUBSCRIPTION_CATALOG), state, as_of=day)
        state = result.state
        if result.invoice is not None:
            expected.append(result.invoice)
    stored = store.invoices()
    assert [attrs.evolve(i, number=None, status=InvoiceStatus.DRAFT) for i in stored] == expected
    assert (store.get_billing_state(sub.id) or BillingState()) == (state or BillingState())


def test_a_damaged_invoice_met_while_settling_a_credit_fails_only_its_subscription(tmp_path):
    # The review of issue 13: the credit note of a cancellation is settled against the open
    # invoice that billed the period, read back from the store; that row damaged stopped the
    # whole run and undid its batch. It is that subscription's failure, and only its.
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_catalog(CATALOG)
    for n in range(4):
        store.save_subscription(
            Subscription.create(
                id=f"S{n}", customer=f"C{n}", catalog=CATALOG, plan="pro", start=date(2026, 1, 1)
            )
        )
    assert run_billing(store, as_of=date(2026, 2, 1)).invoice_count == 4
    cancelled = store.get_subscription("S1").cancel(on=date(2026, 2, 10), at_period_end=False)
    replace_subscription(store, cancelled)
    (february,) = [i for i in store.invoices(subscription="S1") if i.issued_on.month == 2]
    store.close()
    _damage(path, "invoices", "number", february.number)
    store = SQLiteStore(path)
    report = run_billing(store, as_of=date(2026, 3, 1))
    assert [f.subscription for f in report.failures] == ["S1"]
    assert isinstance(report.failures[0].error, StoredDataError)
    assert report.invoice_count == 3  # S0, S2 and S3 billed March
    for sub in ("S0", "S2", "S3"):  # (S1's damaged row is left as it was, for its owner)
        assert [i.issued_on for i in store.invoices(subscription=sub)] == [
            date(2026, 2, 1),
            date(2026, 3, 1),
        ]
    store.close()


def test_a_store_without_the_batched_run_s_methods_is_refused_typed():
    # The review of issue 13: a store written to the protocol before savepoints and paged
    # ids failed deep inside the run with a raw AttributeError.
    class OldStore:
        def __init__(self):
            self.inner = MemoryStore()

        def __getattr__(self, name):
            if name in {"savepoint", "subscription_ids_after", "subscription_count"}:
                raise AttributeError(name)
            return getattr(self.inner, name)

    with pytest.raises(InvalidTypeError, match="must be a Store"):
        run_billing(OldStore(), as_of=AS_OF)


def test_the_silver_workload_bills_27_42_then_50_00_through_a_batched_run(tmp_path):
    # Issue 13's workload (django-silver's own): monthly subscriptions at 50.00 EUR from
    # 15 Jan 2025 on billing day 1 — a prorated first invoice of 27.42 (17/31), then 50.00
    # on 1 Feb — through SQLiteStore and run_billing in batches; a third run writes nothing.
    from benchmarks.workloads import (  # noqa: PLC0415
        SILVER_RENEWAL,
        SILVER_START,
        silver_catalog,
        silver_subscriptions,
    )

    store = SQLiteStore(tmp_path / "silver.db")
    catalog = silver_catalog()
    store.save_catalog(catalog)
    for subscription in silver_subscriptions(7, catalog):
        store.save_subscription(subscription)
    first = run_billing(store, as_of=SILVER_START, batch_size=3)
    assert (first.invoice_count, first.total) == (7, {"EUR": Money("191.94", "EUR")})
    assert {str(i.total) for i in invoices_of_run(store, first)} == {"27.42 EUR"}
    renewal = run_billing(store, as_of=SILVER_RENEWAL, batch_size=3)
    assert {str(i.total) for i in invoices_of_run(store, renewal)} == {"50.00 EUR"}
    assert renewal.invoice_count == 7
    changes = store._connection.total_changes
    assert run_billing(store, as_of=SILVER_RENEWAL).invoice_count == 0
    assert store._connection.total_changes == changes  # nothing written
    store.close()


# -- pages billed outside the lock, shards (issue 13; issue 16's design) -------------------------


def _filled(kind, tmp_path, count=COUNT):
    """A store of ``kind`` holding the scenario's catalog and subscriptions."""
    if kind == "sqlite":
        fill(tmp_path / "s.db")
        return SQLiteStore(tmp_path / "s.db")
    store = MemoryStore()
    store.save_catalog(CATALOG)
    for subscription in _scenario_subscriptions(count):
        store.save_subscription(subscription)
    return store


def _scenario_subscriptions(count):
    path_store = MemoryStore()  # the same subscriptions as fill(), without a file
    for index in range(count):
        path_store.save_subscription(
            _subscription(f"S{index:03d}", date(2026, 1, 1) + timedelta(days=index))
        )
    return [path_store.get_subscription(key) for key in path_store.subscription_ids()]


def _reference_totals(kind, tmp_path):
    """What one plain run bills each subscription, on a store of its own."""
    folder = tmp_path / "reference"
    folder.mkdir()
    store = _filled(kind, folder)
    run_billing(store, as_of=AS_OF)
    return {i.subscription: i.total for i in store.invoices()}


def _race_after_the_first_page(store, kind, tmp_path, **run):
    """Make another run (``run_billing(**run)``, on another connection for SQLite) bill and
    commit right after ``store``'s first page is read; its report lands in the list returned.
    """
    other = SQLiteStore(tmp_path / "s.db") if kind == "sqlite" else store
    read = store.billing_rows
    raced = []

    def read_then_race(after, **options):
        page = read(after, **options)
        if not raced:
            raced.append("racing")  # (the memory store's other run reads through here too)
            raced[0] = run_billing(other, **run)
        return page

    store.billing_rows = read_then_race
    return raced


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_page_billed_by_another_run_meanwhile_is_billed_again_never_twice(tmp_path, kind):
    # A run bills its page outside any lock; another run bills the same subscriptions and
    # commits first. When the first writes, every version has moved: it bills them again
    # from what is stored then (nothing is due any more) and writes no invoice twice.
    store = _filled(kind, tmp_path)
    raced = _race_after_the_first_page(store, kind, tmp_path, as_of=AS_OF)
    report = run_billing(store, as_of=AS_OF, batch_size=8)
    assert issued(raced[0]) == (COUNT, "F-2026-000001", f"F-2026-{COUNT:06d}")
    assert issued(report) == (0, None, None)  # its first page moved; the others were billed
    invoices = store.invoices()
    assert [i.number for i in invoices] == expected_numbers(COUNT)
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]
    assert {i.subscription: i.total for i in invoices} == _reference_totals(kind, tmp_path)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_subscription_replaced_meanwhile_is_billed_as_stored_when_written(tmp_path, kind):
    # Between the read of its page and the write, S001 moves to the "business" plan: the
    # run bills what is stored when it writes, not what it read.
    store = _filled(kind, tmp_path, count=3)
    read = store.billing_rows
    replaced = _subscription("S001", date(2026, 1, 2), plan="business")

    def read_then_replace(after, **options):
        page = read(after, **options)
        store.save_subscription(replaced)
        return page

    store.billing_rows = read_then_replace
    report = run_billing(store, as_of=AS_OF)
    assert report.is_complete
    assert report.invoice_count == len(store.subscription_ids())
    (invoice,) = store.invoices(subscription="S001")
    expected = bill_subscription(replaced.to_charge_plan(CATALOG), None, as_of=AS_OF).invoice
    assert invoice.total == expected.total
    assert [line.description for line in invoice.lines] == [
        line.description for line in expected.lines
    ]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("shards", [2, 3])
def test_shards_bill_every_subscription_exactly_once_between_them(tmp_path, kind, shards):
    store = _filled(kind, tmp_path)
    reports = [
        run_billing(store, as_of=AS_OF, batch_size=7, shard=i, shards=shards) for i in range(shards)
    ]
    assert sum(r.subscriptions for r in reports) == COUNT
    assert all(0 < r.subscriptions < COUNT for r in reports)  # each shard has its own part
    assert sum(r.invoice_count for r in reports) == COUNT
    invoices = store.invoices()
    assert [i.number for i in invoices] == expected_numbers(COUNT)  # gapless across shards
    assert {i.subscription: i.total for i in invoices} == _reference_totals(kind, tmp_path)
    assert issued(run_billing(store, as_of=AS_OF, shard=1, shards=shards)) == (0, None, None)
    assert issued(run_billing(store, as_of=AS_OF)) == (0, None, None)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"shard": 2, "shards": 2}, InvalidArgumentError, "shard=2 must be an int from 0 to 1"),
        ({"shard": -1, "shards": 2}, InvalidArgumentError, "shard=-1 must be an int from 0"),
        ({"shard": 0, "shards": 0}, InvalidArgumentError, "shards=0 must be an int from 1"),
        ({"shard": "0", "shards": 2}, InvalidTypeError, "shard='0' must be an int"),
        ({"shard": 0, "shards": 2.0}, InvalidTypeError, "shards=2.0 must be an int"),
        ({"shard": True, "shards": 2}, InvalidTypeError, "shard=True must be an int"),
    ],
)
def test_a_shard_out_of_its_shards_is_refused_before_anything(options, error, message):
    store = MemoryStore()
    store.save_catalog(CATALOG)
    store.save_subscription(_subscription("S1", date(2026, 1, 1)))
    with pytest.raises(error, match=message):
        run_billing(store, as_of=AS_OF, **options)
    assert store.invoices() == []


def test_two_processes_each_billing_its_shard_of_one_file_create_every_invoice_once(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.service_scenario", str(path), "shard", str(i), "2", "4"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for run in runs:
        _, errors = run.communicate(timeout=300)
        assert run.returncode == 0, errors
    invoices = invoices_by_subscription(path)
    assert [i.number for i in invoices] == expected_numbers(COUNT)  # unique and gapless
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]
    dates = [i.issued_on for i in invoices]
    assert dates == sorted(dates)


def test_a_shard_killed_midway_then_rerun_bills_its_part_exactly_once(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    killed = _python(str(path), "shard", "0", "2", "4", "6")  # dies inside its 6th invoice
    assert killed.returncode == 3
    kept = len(invoices_by_subscription(path))
    assert 0 < kept < 6  # whole pages committed before, nothing of the open one
    first = bill(path, shard=0, shards=2)
    second = bill(path, shard=1, shards=2)
    assert kept + first.invoice_count + second.invoice_count == COUNT
    invoices = invoices_by_subscription(path)
    assert [i.number for i in invoices] == expected_numbers(COUNT)
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]


def test_a_page_the_store_refuses_is_written_one_subscription_at_a_time():
    # A refusal met while writing a page (here: a store refusing more than one invoice at
    # once) undoes the page's write and bills each subscription alone, in its own savepoint.
    store = _filled("memory", None, count=6)
    add_invoices = store.add_invoices

    def one_at_a_time(invoices):
        if len(invoices) > 1:
            raise InvalidArgumentError("invoices=[…] must hold one invoice")
        add_invoices(invoices)

    store.add_invoices = one_at_a_time
    report = run_billing(store, as_of=AS_OF)
    assert issued(report) == (6, "F-2026-000001", "F-2026-000006")
    assert report.is_complete
    assert [i.number for i in store.invoices()] == expected_numbers(6)


def _damaged(tmp_path, statement):
    """The scenario's database with one SQL ``statement`` run on it behind the store's back."""
    path = tmp_path / "s.db"
    fill(path)
    raw = sqlite3.connect(path)
    raw.execute(statement)
    raw.commit()
    raw.close()
    return path


# -- the review of the page-at-a-time run (issue 13) ------------------------------------------


@pytest.mark.parametrize("damage", ["blob", "null"])
def test_a_subscription_row_whose_id_is_not_text_fails_alone_and_the_run_ends(tmp_path, damage):
    # The review: a BLOB id paged forever (WHERE id > 'b\'S999\'' found it again), a NULL or
    # BLOB id among the others stopped the run with a raw or a wrong error.
    path = tmp_path / "s.db"
    fill(path)
    raw = sqlite3.connect(path)
    value = "CAST(id AS BLOB)" if damage == "blob" else "NULL"
    raw.execute(f"UPDATE subscriptions SET id = {value} WHERE id = 'S003'")  # noqa: S608
    raw.commit()
    raw.close()
    store = SQLiteStore(path)
    for shards in (1, 2):
        reports = [
            run_billing(store, as_of=AS_OF, batch_size=10, shard=i, shards=shards)
            for i in range(shards)
        ]
        failures = [f for r in reports for f in r.failures]
        assert len(failures) == 1
        assert isinstance(failures[0].error, StoredDataError)
        assert "is not text" in str(failures[0].error)
    assert sorted(i.subscription for i in store.invoices()) == [
        f"S{n:03d}" for n in range(COUNT) if n != 3
    ]
    store.close()


def test_a_document_that_is_not_utf8_fails_its_subscription_only(tmp_path):
    path = _damaged(
        tmp_path, "UPDATE subscriptions SET document = CAST(X'FFFE' AS TEXT) WHERE id = 'S003'"
    )
    store = SQLiteStore(path)
    report = run_billing(store, as_of=AS_OF)
    assert [f.subscription for f in report.failures] == ["S003"]
    assert "not UTF-8" in str(report.failures[0].error)
    assert report.invoice_count == COUNT - 1
    store.close()


def test_a_subscription_stored_under_another_id_is_a_damaged_row(tmp_path):
    # The review: S004's document copied into row S003 billed S004 twice.
    path = _damaged(
        tmp_path,
        "UPDATE subscriptions SET document = (SELECT document FROM subscriptions"
        " WHERE id = 'S004') WHERE id = 'S003'",
    )
    store = SQLiteStore(path)
    report = run_billing(store, as_of=AS_OF)
    assert [f.subscription for f in report.failures] == ["S003"]
    assert "it holds subscription 'S004'" in str(report.failures[0].error)
    assert [i.subscription for i in store.invoices()].count("S004") == 1
    with pytest.raises(StoredDataError, match="stored under another id"):
        store.get_subscription("S003")
    store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_run_overtaken_by_a_later_dated_run_stops_with_the_date_error(tmp_path, kind):
    # The review: a run as of 1 Mar racing a run as of 15 Mar reported hundreds of
    # per-subscription failures; it now stops, keeping the pages it committed.
    store = _filled(kind, tmp_path)
    later = AS_OF + timedelta(days=14)  # half of them, as of 15 Mar
    raced = _race_after_the_first_page(
        store, kind, tmp_path, as_of=later, batch_size=1, shard=1, shards=2
    )
    with pytest.raises(InvalidStateError, match="before 2026-03-15, the date of the last"):
        run_billing(store, as_of=AS_OF, batch_size=8)
    assert 0 < raced[0].invoice_count < COUNT
    assert [i.number for i in store.invoices()] == expected_numbers(raced[0].invoice_count)
    assert {i.issued_on for i in store.invoices()} == {AS_OF + timedelta(days=14)}


def test_a_run_reports_its_subscriptions_in_id_order_even_with_a_damaged_one(tmp_path):
    path = _damaged(tmp_path, "UPDATE subscriptions SET document = '{' WHERE id = 'S002'")
    store = SQLiteStore(path)
    seen = []
    run_billing(store, as_of=AS_OF, after_each=seen.append)
    assert seen == [f"S{n:03d}" for n in range(COUNT)]
    store.close()


def test_a_shard_s_progress_counts_towards_its_share_of_the_subscriptions():
    store = _filled("memory", None, count=10)
    progress = []
    run_billing(store, as_of=AS_OF, shard=0, shards=2, on_progress=lambda *p: progress.append(p))
    done, total = progress[-1]
    assert total == max(5, done)  # its even share of 10, or more if the hash gave it more


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize(
    ("states", "error", "message"),
    [
        ([("S000", BillingState(), 1)], InvalidTypeError, r"states\[0\]=.* must be a"),
        ([("S000",)], InvalidTypeError, r"states\[0\]=\('S000',\) must be a"),
        ([(3, BillingState())], InvalidTypeError, r"states\[0\]\[0\]=3 must be"),
        ([("S000", "x")], InvalidTypeError, r"states\[0\]\[1\]='x' must be a BillingState"),
        ("S000", InvalidTypeError, "states="),
    ],
)
def test_save_billing_states_refuses_what_is_not_pairs_typed(
    tmp_path, kind, states, error, message
):
    store = _store(kind, tmp_path)
    with pytest.raises(error, match=message):
        store.save_billing_states(states)
    assert store.get_billing_state("S000") is None

"""Dunning over a store: its events in every store, run_dunning exactly once, card retries.

The stores keep the events (one per key) and the card retries alike (the agreement state
machine of tests/test_storage.py drives them too); run_dunning records each action once,
after a kill at each point and with two processes at once; a retry is recorded before the
processor is called, so a killed run re-run never charges a card twice.
"""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money, Subscription, SubscriptionStatus
from subbill.billing import BillingTerms, draft_invoice
from subbill.catalog import Catalog, Plan
from subbill.dunning import (
    DunningActionKind,
    DunningEvent,
    DunningPolicy,
    DunningStep,
    EventOutcome,
)
from subbill.dunning_service import DEFAULT_CLAIM, PaymentGateway, run_dunning
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import InvoiceStatus, LineKind, Payment, one_time_line
from subbill.periods import MONTHLY
from subbill.service import pay_invoice
from subbill.storage import MemoryStore, PostgresStore, SQLiteStore
from subbill.storage.errors import StoredDataError
from subbill.storage.postgres import SCHEMA_VERSION as POSTGRES_SCHEMA
from subbill.storage.protocols import ChargeAttempt, ChargeStatus
from subbill.storage.sqlite import SCHEMA_VERSION
from tests import dunning_scenario
from tests.dunning_scenario import BEFORE, COUNT, KILLED_ON, FakeProcessor, fill
from tests.stores import INDEXES_SINCE, ScriptedGateway, as_older_schema, snapshot
from tests.test_dunning import run as run_pure

ROOT = Path(__file__).parent.parent
DUE = date(2027, 3, 10)
POLICY = DunningPolicy.standard()
REMINDERS = DunningPolicy(steps=POLICY.steps)
CATALOG = Catalog(
    currency="EUR",
    plans=[Plan(code="pro", name="Pro", rank=1, prices={MONTHLY: Money("120", "EUR")})],
)


def store_of(kind, tmp_path, request):
    if kind == "postgres":
        return PostgresStore(request.getfixturevalue("postgres_url"))
    return MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")


KINDS = ["memory", "sqlite", "postgres"]


def event(invoice, step, *, attempt=None, outcome=EventOutcome.TAKEN, subscription="S1"):
    actions = (
        ()
        if outcome is EventOutcome.SKIPPED
        else ((DunningActionKind.RETRY_PAYMENT,) if attempt else (DunningActionKind.REMIND,))
    )
    return DunningEvent(
        invoice=invoice, subscription=subscription, step=step, on=DUE, outcome=outcome,
        attempt=attempt, actions=actions,
    )  # fmt: skip


def with_invoice(store, amount="120.00", *, subscription="S1", customer="ACME", issued=None):
    """Store a numbered invoice due on DUE (issued 30 days before) and return its number."""
    issued_on = issued or DUE - timedelta(days=30)
    with store.transaction():
        number = store.next_invoice_number(issued_on=issued_on)
        store.add_invoice(
            draft_invoice(
                customer=customer,
                currency="EUR",
                issued_on=issued_on,
                due_on=DUE,
                subscription=subscription,
                lines=[one_time_line("pro", "Pro", Money(amount, "EUR"))],
            ).finalize(number=number)
        )
    return number


# -- the store keeps the events ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_dunning_events_are_kept_in_order_and_read_by_invoice_and_subscription(
    tmp_path, request, kind
):
    store = store_of(kind, tmp_path, request)
    assert store.dunning_events() == []
    first = [event("F-1", "courtesy"), event("F-1", "retry", attempt=1)]
    other = event("F-2", "reminder_1", subscription="S2", outcome=EventOutcome.SKIPPED)
    store.add_dunning_events(first)
    store.add_dunning_events([other, event("F-1", "reminder_1")])
    assert [e.key for e in store.dunning_events()] == [
        "F-1/courtesy", "F-1/retry/1", "F-2/reminder_1", "F-1/reminder_1",
    ]  # fmt: skip
    assert store.dunning_events(invoice="F-1") == [*first, event("F-1", "reminder_1")]
    assert store.dunning_events(subscription="S2") == [other]
    assert store.dunning_events(invoice="F-2", subscription="S1") == []
    store.add_dunning_events([])  # nothing to record: nothing written
    assert len(store.dunning_events()) == 4
    if kind != "memory":
        store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_an_event_whose_key_is_recorded_is_refused_with_its_whole_batch(tmp_path, request, kind):
    # The core's identity: a store refuses a second event with the same key (the invoice,
    # the step and, for a retry, the attempt), whatever its outcome or date.
    store = store_of(kind, tmp_path, request)
    store.add_dunning_events([event("F-1", "courtesy")])
    before = snapshot(store)
    again = event("F-1", "courtesy", outcome=EventOutcome.SKIPPED)
    for batch in ([event("F-1", "reminder_1"), again], [event("F-3", "x"), event("F-3", "x")]):
        with pytest.raises(InvalidArgumentError) as refused:
            store.add_dunning_events(batch)
        assert "is recorded already: a step is recorded once per invoice" in str(refused.value)
        assert snapshot(store) == before
    # Inside a caller's transaction, the refusal undoes its batch only.
    with store.transaction():
        store.add_dunning_events([event("F-2", "courtesy")])
        with pytest.raises(InvalidArgumentError, match="key='F-1/courtesy'"):
            store.add_dunning_events([event("F-2", "reminder_1"), again])
    assert [e.key for e in store.dunning_events()] == ["F-1/courtesy", "F-2/courtesy"]
    if kind != "memory":
        store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_charge_attempts_are_kept_by_key_and_read_by_status(tmp_path, request, kind):
    store = store_of(kind, tmp_path, request)
    pending = ChargeAttempt(
        key="dunning:F-2:retry:1", invoice="F-2", attempt=1, amount=Money("12.00", "EUR"), on=DUE
    )
    declined = ChargeAttempt(
        key="dunning:F-1:retry:1", invoice="F-1", attempt=1, amount=Money("120.00", "EUR"),
        on=DUE, status=ChargeStatus.DECLINED, reason="card_declined",
    )  # fmt: skip
    store.save_charge_attempt(pending)
    store.save_charge_attempt(declined)
    assert store.charge_attempts() == [declined, pending]  # by key
    assert store.charge_attempts(status=ChargeStatus.PENDING) == [pending]
    charged = ChargeAttempt(
        key=pending.key, invoice="F-2", attempt=1, amount=Money("12.00", "EUR"), on=DUE,
        status=ChargeStatus.CHARGED, reference="ch_1",
    )  # fmt: skip
    store.save_charge_attempt(charged)  # the processor's answer replaces the pending attempt
    assert store.charge_attempts(status=ChargeStatus.PENDING) == []
    assert store.charge_attempts() == [declined, charged]
    with pytest.raises(InvalidTypeError, match="status='pending' must be a ChargeStatus"):
        store.charge_attempts(status="pending")
    if kind != "memory":
        store.close()


def test_events_and_attempts_are_checked_typed_before_anything():
    store = MemoryStore()
    with pytest.raises(InvalidTypeError, match=r"events\[1\]='F-1/courtesy' must be a Dunning"):
        store.add_dunning_events([event("F-1", "courtesy"), "F-1/courtesy"])
    with pytest.raises(InvalidTypeError, match="invoice=3 must be a non-empty str"):
        store.dunning_events(invoice=3)
    with pytest.raises(InvalidArgumentError, match="attempt=0 must be an int >= 1"):
        ChargeAttempt(key="k", invoice="F-1", attempt=0, amount=Money("1", "EUR"), on=DUE)
    assert snapshot(store) == snapshot(MemoryStore())


def _as_schema_5(path):
    """A database file as subbill wrote it before dunning (schema 5), with an invoice."""
    store = SQLiteStore(path)
    with_invoice(store)
    store.close()
    as_older_schema(path, 5)


def test_a_schema_5_file_reads_no_events_read_only_and_gets_the_tables_when_opened(tmp_path):
    path = tmp_path / "v5.db"
    _as_schema_5(path)
    reader = SQLiteStore(path, read_only=True)  # never migrates: reads as having none
    assert reader.dunning_events() == []
    assert reader.dunning_events(invoice="F-2027-000001") == []
    assert reader.charge_attempts() == []
    assert [i.number for i in reader.invoices()] == ["F-2027-000001"]
    reader.close()
    store = SQLiteStore(path)
    assert store._one("SELECT version FROM schema_version") == str(SCHEMA_VERSION) == "8"
    assert [i.number for i in store.invoices()] == ["F-2027-000001"]  # kept
    report = run_dunning(store, as_of=date(2027, 3, 7), policy=POLICY)
    assert [a.key for a in report.actions] == ["F-2027-000001/courtesy"]
    assert [e.key for e in store.dunning_events()] == ["F-2027-000001/courtesy"]
    plan = store._rows(
        "EXPLAIN QUERY PLAN SELECT document FROM dunning_events WHERE invoice = ?", ("F-1",)
    )
    assert "dunning_events_by_invoice" in " ".join(str(step) for step in plan)
    store.close()


def test_a_postgresql_database_of_schema_2_gets_the_dunning_tables_when_opened(postgres_url):
    store = PostgresStore(postgres_url)
    with_invoice(store)
    store.close()
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for index in INDEXES_SINCE[7]:  # schema 4's (PostgreSQL's names are SQLite's)
            connection.execute(f"DROP INDEX {index}")
        connection.execute("DROP TABLE dunning_events")
        connection.execute("DROP TABLE charge_attempts")
        connection.execute("DROP TABLE dunning_outbox")
        connection.execute("UPDATE schema_version SET version = 2")
    store = PostgresStore(postgres_url)
    assert store._one("SELECT version FROM schema_version") == str(POSTGRES_SCHEMA) == "4"
    store.add_dunning_events([event("F-2027-000001", "courtesy")])
    assert [e.key for e in store.dunning_events()] == ["F-2027-000001/courtesy"]
    store.close()


def test_a_damaged_event_is_named_by_table_and_key(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    store.add_dunning_events([event("F-1", "courtesy")])
    store._execute('UPDATE dunning_events SET document = \'{"version": 99, "data": {}}\'')
    with pytest.raises(StoredDataError) as damaged:
        store.dunning_events()
    assert (damaged.value.table, damaged.value.key) == ("dunning_events", "F-1/courtesy")
    store.close()


# -- run_dunning: the worked examples, through a store -----------------------------------


def subscription_s1(terms=None):
    return Subscription.create(
        id="S1", customer="ACME", catalog=CATALOG, plan="pro", start=date(2027, 2, 8),
        **({} if terms is None else {"terms": terms}),
    )  # fmt: skip


def status_on(store, day):
    sub = store.get_subscription("S1")
    return sub.status(
        as_of=day, invoices=store.invoices(subscription="S1"),
        dunning=store.dunning_events(subscription="S1"),
    )  # fmt: skip


def daily(start, end):
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_120_eur_invoice_run_daily_is_reminded_suspended_and_reactivated_from_the_store(
    tmp_path, request, kind
):
    store = store_of(kind, tmp_path, request)
    store.save_subscription(subscription_s1())
    number = with_invoice(store)
    taken = []
    for day in daily(date(2027, 3, 1), date(2027, 4, 1)):
        report = run_dunning(store, as_of=day, policy=REMINDERS)
        taken += [(day, a.step.code, a.actions) for a in report.actions]
    days = daily(date(2027, 3, 1), date(2027, 4, 1))
    pure, _ = run_pure([store.get_invoice(number)], days, REMINDERS)
    assert taken == [(day, a.step.code, a.actions) for day, actions in pure for a in actions]
    assert [(day.day, code) for day, code, _ in taken] == [
        (7, "courtesy"), (11, "reminder_1"), (17, "reminder_7"), (25, "formal_notice"),
    ]  # fmt: skip
    assert status_on(store, date(2027, 3, 24)) is SubscriptionStatus.UNPAID
    assert status_on(store, date(2027, 3, 25)) is SubscriptionStatus.SUSPENDED
    pay_invoice(store, number, Payment(amount=Money("120.00", "EUR"), paid_on=date(2027, 4, 2)))
    assert status_on(store, date(2027, 4, 1)) is SubscriptionStatus.SUSPENDED
    assert status_on(store, date(2027, 4, 2)) is SubscriptionStatus.ACTIVE
    assert run_dunning(store, as_of=date(2027, 5, 1), policy=POLICY).actions == ()
    if kind != "memory":
        store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_card_retried_on_days_1_3_5_that_succeeds_on_day_5_pays_the_invoice_once(
    tmp_path, request, kind
):
    store = store_of(kind, tmp_path, request)
    number = with_invoice(store)
    gateway = ScriptedGateway(succeed={3})
    policy = DunningPolicy(steps=(), retry_days=(1, 3, 5, 7))
    charged = []
    for day in daily(DUE, DUE + timedelta(days=10)):
        report = run_dunning(store, as_of=day, policy=policy, gateway=gateway)
        charged += [(day, c.attempt, c.status) for c in report.charges]
    assert charged == [
        (date(2027, 3, 11), 1, ChargeStatus.DECLINED),
        (date(2027, 3, 13), 2, ChargeStatus.DECLINED),
        (date(2027, 3, 15), 3, ChargeStatus.CHARGED),
    ]  # not retried on day 7: paid
    assert gateway.charges == {f"dunning:{number}:retry:3": (number, Money("120.00", "EUR"))}
    assert store.payments(number) == [
        Payment(amount=Money("120.00", "EUR"), paid_on=date(2027, 3, 15), method="card",
                reference=f"dunning:{number}:retry:3"),
    ]  # fmt: skip
    assert store.get_invoice(number).status is InvoiceStatus.PAID
    assert [c.status for c in store.charge_attempts()] == [
        ChargeStatus.DECLINED, ChargeStatus.DECLINED, ChargeStatus.CHARGED,
    ]  # fmt: skip
    if kind != "memory":
        store.close()


def test_runs_on_the_due_date_and_20_days_later_record_the_skipped_reminders(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    store.save_subscription(subscription_s1())
    number = with_invoice(store, "1000.00")
    first = run_dunning(store, as_of=DUE, policy=REMINDERS)
    assert [a.step.code for a in first.actions] == ["courtesy"]
    second = run_dunning(store, as_of=DUE + timedelta(days=20), policy=REMINDERS)
    assert [(a.step.code, a.days_late) for a in second.actions] == [("formal_notice", 20)]
    assert [(e.step, e.outcome) for e in store.dunning_events(invoice=number)] == [
        ("courtesy", EventOutcome.TAKEN),
        ("reminder_1", EventOutcome.SKIPPED),
        ("reminder_7", EventOutcome.SKIPPED),
        ("formal_notice", EventOutcome.TAKEN),
    ]
    assert status_on(store, DUE + timedelta(days=20)) is SubscriptionStatus.SUSPENDED
    store.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_late_payment_document_is_numbered_in_the_invoice_series_once(tmp_path, request, kind):
    # 1,000.00 EUR due 10 March 2027 paid 20 days late at 10 % a year: 5.48 of penalties
    # plus the 40.00 indemnity, a document of 45.48 numbered after the invoice.
    store = store_of(kind, tmp_path, request)
    store.save_subscription(subscription_s1(BillingTerms(late_payment_percent="10")))
    number = with_invoice(store, "1000.00")
    pay_invoice(store, number, Payment(amount=Money("1000.00", "EUR"), paid_on=date(2027, 3, 30)))
    policy = DunningPolicy(steps=POLICY.steps, late_payment_costs=True)
    report = run_dunning(store, as_of=date(2027, 4, 2), policy=policy)
    (document,) = report.documents
    assert document.number == "F-2027-000002"
    assert (document.issued_on, document.total) == (date(2027, 4, 2), Money("45.48", "EUR"))
    assert [line.kind for line in document.lines] == [
        LineKind.RECOVERY_INDEMNITY, LineKind.LATE_PENALTY,
    ]  # fmt: skip
    assert store.get_invoice("F-2027-000002") == document
    assert store.dunning_events(invoice=number)[-1].key == f"{number}/late_payment_costs"
    assert run_dunning(store, as_of=date(2027, 4, 3), policy=policy).documents == ()  # once
    assert len(store.invoices()) == 2
    before = snapshot(store)
    with pytest.raises(InvalidStateError, match="is before 2027-04-02, the date of the last"):
        run_dunning(store, as_of=date(2027, 4, 1), policy=policy)
    assert snapshot(store) == before
    if kind != "memory":
        store.close()


def test_a_subscription_without_a_penalty_rate_is_claimed_the_indemnity_alone():
    # Issue 17's second review (F3): this run claimed nothing (and listed the invoice in
    # every later run) while the formal notice announced the 40 € indemnity, which the law
    # owes whatever the rate. Now: a document of the indemnity alone, once.
    store = MemoryStore()
    store.save_subscription(subscription_s1())
    number = with_invoice(store, "1000.00")
    pay_invoice(store, number, Payment(amount=Money("1000.00", "EUR"), paid_on=date(2027, 3, 30)))
    policy = DunningPolicy(steps=POLICY.steps, late_payment_costs=True)
    report = run_dunning(store, as_of=date(2027, 4, 2), policy=policy)
    (document,) = report.documents
    assert (document.number, document.total) == ("F-2027-000002", Money("40.00", "EUR"))
    assert [line.kind for line in document.lines] == [LineKind.RECOVERY_INDEMNITY]
    assert report.without_rate == (number,)
    again = run_dunning(store, as_of=date(2027, 4, 3), policy=policy)
    assert (again.documents, again.without_rate) == ((), ())
    assert [i.number for i in store.invoices()] == [number, "F-2027-000002"]


def test_a_run_repeated_on_the_same_day_records_nothing_more():
    store = MemoryStore()
    with_invoice(store)
    gateway = ScriptedGateway()
    assert run_dunning(store, as_of=DUE + timedelta(days=8), policy=POLICY, gateway=gateway).actions
    before = snapshot(store)
    again = run_dunning(store, as_of=DUE + timedelta(days=8), policy=POLICY, gateway=gateway)
    assert (again.actions, again.charges, again.documents) == ((), (), ())
    assert snapshot(store) == before


def test_without_a_gateway_no_retry_is_recorded():
    store = MemoryStore()
    number = with_invoice(store)
    report = run_dunning(store, as_of=DUE + timedelta(days=8), policy=POLICY)
    assert [a.step.code for a in report.actions] == ["reminder_7"]
    assert [e.step for e in store.dunning_events(invoice=number)] == [
        "courtesy", "reminder_1", "reminder_7",
    ]  # fmt: skip
    assert store.charge_attempts() == []
    # A later run with a gateway retries then: the missed retry dates collapse into one.
    gateway = ScriptedGateway(succeed={4})
    later = run_dunning(store, as_of=DUE + timedelta(days=9), policy=POLICY, gateway=gateway)
    assert [(c.attempt, c.status) for c in later.charges] == [(4, ChargeStatus.CHARGED)]


def test_a_cancel_step_cancels_the_stored_subscription_on_its_day():
    store = MemoryStore()
    store.save_subscription(subscription_s1())
    with_invoice(store)
    cancel = DunningStep(code="cancel", days=30, actions=(DunningActionKind.CANCEL,))
    policy = DunningPolicy(steps=(*POLICY.steps, cancel))
    day = DUE + timedelta(days=40)
    report = run_dunning(store, as_of=day, policy=policy)
    assert [a.step.code for a in report.actions] == ["cancel"]
    assert store.get_subscription("S1").ends_on == day
    assert status_on(store, day) is SubscriptionStatus.CANCELLED


def test_run_dunning_checks_its_arguments_typed():
    store = MemoryStore()
    with pytest.raises(InvalidTypeError, match="store="):
        run_dunning("subbill.db", as_of=DUE, policy=POLICY)
    with pytest.raises(InvalidTypeError, match="policy="):
        run_dunning(store, as_of=DUE, policy="standard")
    with pytest.raises(InvalidTypeError, match="gateway="):
        run_dunning(store, as_of=DUE, policy=POLICY, gateway=object())
    assert isinstance(ScriptedGateway(), PaymentGateway)


def test_an_answer_that_is_not_an_outcome_is_refused_typed_and_leaves_the_attempt_pending():
    class Broken:
        def charge(self, invoice_number, amount, *, idempotency_key):
            return True

    store = MemoryStore()
    with_invoice(store)
    with pytest.raises(InvalidTypeError, match="must be a Charged or Declined outcome"):
        run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=Broken())
    assert [c.status for c in store.charge_attempts()] == [ChargeStatus.PENDING]
    gateway = ScriptedGateway()
    retried = run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=gateway)
    assert [(c.attempt, c.status) for c in retried.charges] == [(1, ChargeStatus.DECLINED)]


# -- exactly once: a kill at each point, two processes at once -----------------------------------


def _python(*args):
    return subprocess.run(
        [sys.executable, "-m", "tests.dunning_scenario", *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def outcome(database, processor_path):
    """What a store holds after the runs, and what the processor charged."""
    store = dunning_scenario.open_db(database)
    held = {
        # By date, then key: a run killed between a page's retries and its steps records the
        # rest of that day in pages cut elsewhere on its re-run (same events, once each —
        # the store refuses a key twice — in another order of recording).
        "events": sorted((e.on, e.key, e.outcome) for e in store.dunning_events()),
        "attempts": store.charge_attempts(),
        "payments": {i.number: store.payments(i.number) for i in store.invoices()},
        "statuses": [(i.number, i.status) for i in store.invoices()],
    }
    store.close()
    processor = FakeProcessor(processor_path)
    charged = processor.charged()
    processor.close()
    return held, charged


def reference(tmp_path):
    database, processor = tmp_path / "reference.db", tmp_path / "reference-processor.db"
    fill(database)
    for day in (*BEFORE, KILLED_ON):
        dunning_scenario.run(database, processor, day)
    return outcome(database, processor)


def _no_charge_twice(held, charged):
    # One charge per invoice at most (a success stops the retries), and what the processor
    # charged is exactly what the store recorded as paid by card.
    invoices = [invoice for invoice, _ in charged.values()]
    assert len(invoices) == len(set(invoices))
    paid = {
        payment.reference: (number, payment.amount)
        for number, payments in held["payments"].items()
        for payment in payments
    }
    assert paid == charged
    assert all(a.status is not ChargeStatus.PENDING for a in held["attempts"])


@pytest.mark.parametrize(
    ("die_at", "count"),
    [("events", 1), ("events", 2), ("before_charge", 3), ("after_charge", 1),
     ("after_charge", 7), ("payment", 1), ("payment", 2)],
)  # fmt: skip
def test_a_run_killed_at_each_point_then_rerun_records_each_action_once(tmp_path, die_at, count):
    expected = reference(tmp_path)
    database, processor = tmp_path / "d.db", tmp_path / "processor.db"
    fill(database)
    for day in BEFORE:
        dunning_scenario.run(database, processor, day)
    killed = _python(database, processor, KILLED_ON.isoformat(), die_at, count)
    assert killed.returncode == 3, killed.stderr
    held, _ = outcome(database, processor)
    pending = [a for a in held["attempts"] if a.status is ChargeStatus.PENDING]
    if die_at in ("before_charge", "after_charge", "payment"):
        assert pending  # recorded before the processor was called (or its answer recorded)
    rerun = _python(database, processor, KILLED_ON.isoformat())
    assert rerun.returncode == 0, rerun.stderr
    held, charged = outcome(database, processor)
    assert (held, charged) == expected
    _no_charge_twice(held, charged)
    calls = FakeProcessor(processor).calls()
    assert all(n <= 2 for n in calls.values())  # a pending attempt is sent again, once


def test_two_processes_running_dunning_on_one_file_record_every_action_once(tmp_path):
    expected = reference(tmp_path)
    database, processor = tmp_path / "d.db", tmp_path / "processor.db"
    fill(database)
    for day in BEFORE:
        dunning_scenario.run(database, processor, day)
    command = [
        sys.executable, "-m", "tests.dunning_scenario", str(database), str(processor),
        KILLED_ON.isoformat(),
    ]  # fmt: skip
    runs = [
        subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    for process in runs:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors
    held, charged = outcome(database, processor)
    assert held == expected[0]
    assert charged == expected[1]
    _no_charge_twice(held, charged)
    assert len(held["events"]) == len({key for _, key, _ in held["events"]}) >= COUNT * 2


class _Killed(BaseException):
    """Stands for the process being killed: nothing catches it, no transaction commits."""


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(-4, 12), min_size=1, max_size=5, unique=True).map(sorted),
    succeed=st.frozensets(st.integers(1, 4)),
    point=st.sampled_from(["events", "before_charge", "after_charge", "payment"]),
    count=st.integers(1, 6),
)
def test_a_killed_run_re_run_never_repeats_a_gateway_charge(offsets, succeed, point, count):
    # Runs on increasing days; one of them is killed at a drawn point (its open transaction
    # undone), then every run is made again from that day: the processor never charges a
    # card twice, and the store records exactly what it charged.
    store = MemoryStore()
    numbers = [with_invoice(store, f"{100 + 10 * n}.00", subscription=f"S{n}") for n in range(3)]
    gateway = ScriptedGateway(succeed=succeed)
    calls = {"count": 0}

    def maybe_die():
        calls["count"] += 1
        if calls["count"] == count:
            raise _Killed

    class Dying(ScriptedGateway):
        def charge(self, invoice_number, amount, *, idempotency_key):
            if point == "before_charge":
                maybe_die()
            answer = gateway.charge(invoice_number, amount, idempotency_key=idempotency_key)
            if point == "after_charge":
                maybe_die()
            return answer

    if point in ("events", "payment"):
        dunning_scenario.die_after_writing(store, point, maybe_die)
    days = [DUE + timedelta(days=offset) for offset in offsets]
    for day in days:
        try:
            run_dunning(store, as_of=day, policy=POLICY, gateway=Dying())
        except _Killed:
            run_dunning(store, as_of=day, policy=POLICY, gateway=gateway)  # the re-run
    payments = {
        p.reference: (number, p.amount) for number in numbers for p in store.payments(number)
    }
    assert payments == gateway.charges
    assert len({number for number, _ in gateway.charges.values()}) == len(gateway.charges)
    assert all(a.status is not ChargeStatus.PENDING for a in store.charge_attempts())
    keys = [e.key for e in store.dunning_events()]
    assert len(keys) == len(set(keys))


def test_a_pending_attempt_whose_invoice_was_paid_meanwhile_is_left_to_review_not_re_sent():
    # Found while writing the retries: a pending attempt sent again after its invoice was
    # paid by transfer meanwhile made every later run raise InvalidTransitionError. Then
    # (issue 17's review) it was re-sent and reported unapplied: had the first call never
    # reached the processor, the card was charged for an invoice paid already. Now it is
    # not sent again: it is left for a person to check with the processor under its key.
    store = MemoryStore()
    number = with_invoice(store)
    gateway = ScriptedGateway(succeed={1})
    calls = []

    class StoppedAfterTheCharge:
        def charge(self, invoice_number, amount, *, idempotency_key):
            gateway.charge(invoice_number, amount, idempotency_key=idempotency_key)
            raise _Killed

    class Counting(ScriptedGateway):
        def charge(self, invoice_number, amount, *, idempotency_key):
            calls.append(idempotency_key)
            return gateway.charge(invoice_number, amount, idempotency_key=idempotency_key)

    with pytest.raises(_Killed):
        run_dunning(
            store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=StoppedAfterTheCharge()
        )
    transfer = Payment(amount=Money("120.00", "EUR"), paid_on=DUE + timedelta(days=2),
                       method="transfer", reference="virement-1")  # fmt: skip
    pay_invoice(store, number, transfer)
    report = run_dunning(store, as_of=DUE + timedelta(days=2), policy=POLICY, gateway=Counting())
    assert calls == []  # never sent again
    (review,) = report.to_review
    assert (review.key, review.status, review.reason) == (
        f"dunning:{number}:retry:1",
        ChargeStatus.TO_REVIEW,
        "invoice_paid_meanwhile",
    )
    assert (report.charges, report.unapplied) == ((), ())
    assert store.charge_attempts() == [review]
    assert store.payments(number) == [transfer]
    again = run_dunning(store, as_of=DUE + timedelta(days=3), policy=POLICY, gateway=Counting())
    assert (again.charges, again.to_review, calls) == ((), (), [])


def test_a_charge_whose_payment_the_store_refuses_is_kept_charged_and_reported():
    # The invoice is credited while the processor charges the card: the store refuses the
    # card's payment; the attempt is kept charged (never sent again), the money reported.
    store = MemoryStore()
    number = with_invoice(store)
    gateway = ScriptedGateway(succeed={1})
    transfer = Payment(amount=Money("120.00", "EUR"), paid_on=DUE + timedelta(days=1),
                       method="transfer", reference="virement-1")  # fmt: skip

    class PaidMeanwhile:
        def charge(self, invoice_number, amount, *, idempotency_key):
            pay_invoice(store, number, transfer)  # another process, during the call
            return gateway.charge(invoice_number, amount, idempotency_key=idempotency_key)

    report = run_dunning(
        store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=PaidMeanwhile()
    )
    (unapplied,) = report.unapplied
    assert unapplied.attempt.key == f"dunning:{number}:retry:1"
    assert unapplied.attempt.status is ChargeStatus.CHARGED
    assert str(unapplied.error) == (
        f"cannot pay invoice {number} with status=paid: only an open invoice can be paid"
    )
    assert [c.status for c in store.charge_attempts()] == [ChargeStatus.CHARGED]
    assert store.payments(number) == [transfer]  # the card's money is for a person to refund
    again = run_dunning(store, as_of=DUE + timedelta(days=3), policy=POLICY, gateway=gateway)
    assert (again.charges, again.unapplied) == ((), ())  # never sent again


# -- issue 17's review of the run: a failing gateway, the outbox, backdated runs, claims ---------

UTC_9AM = datetime(2027, 3, 11, 9, 0, tzinfo=UTC)


class _Unreachable(ScriptedGateway):
    """Declines every retry, but raises ConnectionError for the invoices in ``down``."""

    def __init__(self, down, succeed=()):
        super().__init__(succeed)
        self.down = set(down)
        self.calls = []

    def charge(self, invoice_number, amount, *, idempotency_key):
        self.calls.append(idempotency_key)
        if invoice_number in self.down:
            raise ConnectionError(f"processor: no answer for {invoice_number}")
        return super().charge(invoice_number, amount, idempotency_key=idempotency_key)


@pytest.mark.parametrize("kind", KINDS)
def test_a_gateway_call_that_raises_leaves_its_attempt_pending_and_dunning_goes_on(
    tmp_path, request, kind
):
    # Found by issue 17's review: one charge() raising ConnectionError made every later run
    # raise before anything else, so no invoice was reminded nor suspended ever again.
    store = store_of(kind, tmp_path, request)
    numbers = [with_invoice(store, subscription=f"S{n}") for n in range(3)]
    gateway = _Unreachable(down={numbers[2]})
    reports = {
        offset: run_dunning(store, as_of=DUE + timedelta(days=offset), policy=POLICY,
                            gateway=gateway)
        for offset in (1, 7, 16)
    }  # fmt: skip
    stuck = f"dunning:{numbers[2]}:retry:1"
    for report in reports.values():
        ((failed_attempt, error),) = [(f.attempt, f.error) for f in report.failed]
        assert (failed_attempt.key, failed_attempt.status) == (stuck, ChargeStatus.PENDING)
        assert isinstance(error, ConnectionError)
        assert str(error) == f"processor: no answer for {numbers[2]}"
    # Every invoice's dunning went on, the unreachable one's reminders included …
    # (each invoice's card retry first: a retry that pays leaves no step to take)
    assert [(a.invoice, a.step.code, a.attempt) for a in reports[7].actions] == [
        (numbers[0], "retry", 4), (numbers[0], "reminder_7", None),
        (numbers[1], "retry", 4), (numbers[1], "reminder_7", None),
        (numbers[2], "reminder_7", None),
    ]  # fmt: skip
    assert [(a.invoice, a.step.code) for a in reports[16].actions] == [
        (number, "formal_notice") for number in numbers
    ]
    # … but no new retry of it is sent while its first attempt is unresolved: sent again.
    assert gateway.calls.count(stuck) == 3
    assert [a.key for a in store.charge_attempts() if a.invoice == numbers[2]] == [stuck]
    gateway.down.clear()
    gateway.succeed.add(1)
    report = run_dunning(store, as_of=DUE + timedelta(days=17), policy=POLICY, gateway=gateway)
    assert [(c.key, c.status) for c in report.charges] == [(stuck, ChargeStatus.CHARGED)]
    assert store.get_invoice(numbers[2]).status is InvoiceStatus.PAID
    if kind != "memory":
        store.close()


class _StopError(Exception):
    """A run failing after it recorded a page (an error of the caller's hook)."""


@pytest.mark.parametrize("kind", KINDS)
def test_actions_of_a_run_that_failed_after_recording_them_are_reported_until_acknowledged(
    tmp_path, request, kind
):
    # Found by issue 17's review: a page's events were committed, then the run raised, and
    # no later run reported those reminders again (a suspension without its notice).
    store = store_of(kind, tmp_path, request)
    numbers = [with_invoice(store, subscription=f"S{n}") for n in range(2)]
    day = DUE + timedelta(days=15)

    def stop(number):
        if number == numbers[0]:
            raise _StopError

    with pytest.raises(_StopError):
        run_dunning(store, as_of=day, policy=REMINDERS, batch_size=1, after_each=stop)
    assert [e.invoice for e in store.dunning_events() if e.outcome is EventOutcome.TAKEN] == [
        numbers[0]
    ]
    report = run_dunning(store, as_of=day, policy=REMINDERS)
    assert [a.invoice for a in report.actions] == [numbers[1]]  # this run's
    assert [(a.invoice, a.step.code, a.amount_due) for a in report.unsent] == [
        (numbers[0], "formal_notice", Money("120.00", "EUR")),
        (numbers[1], "formal_notice", Money("120.00", "EUR")),
    ]  # the killed run's first
    assert report.unsent[0].actions == (DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND)
    assert store.acknowledge_dunning([a.key for a in report.unsent]) == 2
    assert store.acknowledge_dunning([a.key for a in report.unsent]) == 0  # idempotent
    assert store.unsent_dunning_actions() == []
    assert run_dunning(store, as_of=day, policy=REMINDERS).unsent == ()
    if kind != "memory":
        store.close()


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(-4, 20), min_size=1, max_size=6, unique=True).map(sorted),
    kills=st.lists(st.integers(1, 6), max_size=4),
    acknowledged=st.lists(st.booleans(), min_size=6, max_size=6),
)
def test_every_recorded_action_is_sent_once_whatever_runs_are_killed(offsets, kills, acknowledged):
    # The caller sends each action of the report's outbox, then acknowledges it (or dies
    # before acknowledging: sent again next time). Runs die after a drawn number of invoices
    # recorded: no action recorded is lost, none is reported again once acknowledged.
    store = MemoryStore()
    for n in range(3):
        with_invoice(store, f"{100 + 10 * n}.00", subscription=f"S{n}")
    sent, acked = [], set()
    deaths = list(kills)
    for index, offset in enumerate(offsets):
        seen = {"count": 0}
        die_after = deaths.pop(0) if deaths else None

        def maybe_die(_number, seen=seen, die_after=die_after):
            seen["count"] += 1
            if seen["count"] == die_after:
                raise _Killed

        day = DUE + timedelta(days=offset)
        try:
            report = run_dunning(store, as_of=day, policy=POLICY, batch_size=1,
                                 after_each=maybe_die)  # fmt: skip
        except _Killed:
            continue
        assert not acked & {a.key for a in report.unsent}  # never reported once acknowledged
        sent += [a.key for a in report.unsent]
        if acknowledged[index]:
            store.acknowledge_dunning([a.key for a in report.unsent])
            acked |= {a.key for a in report.unsent}
    left = [a.key for a in store.unsent_dunning_actions()]
    assert not acked & set(left)  # none left to send once acknowledged
    taken = [e.key for e in store.dunning_events() if e.outcome is EventOutcome.TAKEN]
    assert set(sent) | set(left) == set(taken)  # nothing lost: sent, or still to send


def test_a_run_dated_before_a_recorded_payment_is_refused_and_charges_no_card():
    # Found by issue 17's review: a payment of 06-02 recorded, then a run as of 06-01 with a
    # gateway sent reminder_1 and charged the card for the paid invoice.
    store = MemoryStore()
    number = with_invoice(store)
    transfer = Payment(amount=Money("120.00", "EUR"), paid_on=DUE + timedelta(days=2),
                       method="transfer")  # fmt: skip
    pay_invoice(store, number, transfer)
    gateway = _Unreachable(down=())
    with pytest.raises(InvalidStateError) as refused:
        run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=gateway)
    assert str(refused.value) == (
        "as_of=2027-03-11 is before 2027-03-12, the date of the last payment recorded: a "
        "dunning run decides from every payment recorded, so it cannot be dated before one; "
        "run it as of that date or later"
    )
    assert (gateway.calls, store.dunning_events(), store.charge_attempts()) == ([], [], [])
    report = run_dunning(store, as_of=DUE + timedelta(days=2), policy=POLICY, gateway=gateway)
    assert (report.actions, gateway.calls) == ((), [])


@pytest.mark.parametrize("paid", ["120.00", "20.00"])
def test_a_retry_is_not_sent_for_more_than_its_invoice_owes_when_it_is_sent(paid):
    # A payment recorded (by another process) between the retry's record and its call: the
    # attempt is withdrawn, never sent for more than the invoice owes.
    store = MemoryStore()
    number = with_invoice(store)
    gateway = _Unreachable(down=())
    day = DUE + timedelta(days=1)

    def paid_meanwhile(_number):
        pay_invoice(store, number, Payment(amount=Money(paid, "EUR"), paid_on=day))

    report = run_dunning(
        store, as_of=day, policy=POLICY, gateway=gateway, after_each=paid_meanwhile
    )
    assert gateway.calls == []
    ((key, status, reason),) = [(a.key, a.status, a.reason) for a in report.to_review]
    assert (key, status, reason) == (
        f"dunning:{number}:retry:1",
        ChargeStatus.WITHDRAWN,
        "invoice_no_longer_due_not_sent",
    )
    assert store.charge_attempts() == list(report.to_review)


def _one_retry_due():
    """A store with one invoice whose first retry is due, a processor that charges it."""
    store = MemoryStore()
    number = with_invoice(store)
    return store, f"dunning:{number}:retry:1", ScriptedGateway(succeed={1}), DUE + timedelta(1)


def test_an_attempt_claimed_by_a_run_in_progress_is_not_sent_by_another():
    # Found by issue 17's review: two processes re-sent the same pending attempt, and both
    # reports counted the charge.
    store, key, gateway, day = _one_retry_due()
    second = {}

    class WithASecondRun:
        def charge(self, invoice_number, amount, *, idempotency_key):
            # While the first run waits for the processor, a second run starts.
            second["report"] = run_dunning(
                store, as_of=day, policy=POLICY, gateway=gateway,
                now=UTC_9AM + timedelta(minutes=1),
            )  # fmt: skip
            return gateway.charge(invoice_number, amount, idempotency_key=idempotency_key)

    first = run_dunning(store, as_of=day, policy=POLICY, gateway=WithASecondRun(), now=UTC_9AM)
    assert [(c.key, c.status) for c in first.charges] == [(key, ChargeStatus.CHARGED)]
    assert second["report"].charges == ()
    assert [a.key for a in second["report"].in_flight] == [key]
    assert second["report"].in_flight[0].claimed_until == UTC_9AM + DEFAULT_CLAIM
    assert store.charge_attempts()[0].claimed_until is None  # answered: the claim is over


def test_an_attempt_whose_claimer_died_is_sent_again_once_its_claim_is_over():
    store, key, gateway, day = _one_retry_due()
    number = key.split(":")[1]

    class Dying:
        def charge(self, invoice_number, amount, *, idempotency_key):
            gateway.charge(invoice_number, amount, idempotency_key=idempotency_key)
            raise _Killed  # charged, then the process died

    with pytest.raises(_Killed):
        run_dunning(store, as_of=day, policy=POLICY, gateway=Dying(), now=UTC_9AM)
    during = run_dunning(store, as_of=day, policy=POLICY, gateway=gateway,
                         now=UTC_9AM + DEFAULT_CLAIM - timedelta(seconds=1))  # fmt: skip
    assert ([a.key for a in during.in_flight], during.charges) == ([key], ())
    without_clock = run_dunning(store, as_of=day, policy=POLICY, gateway=gateway)
    assert ([a.key for a in without_clock.in_flight], without_clock.charges) == ([key], ())
    after = run_dunning(store, as_of=day, policy=POLICY, gateway=gateway,
                        now=UTC_9AM + DEFAULT_CLAIM)  # fmt: skip
    assert [(c.key, c.status) for c in after.charges] == [(key, ChargeStatus.CHARGED)]
    assert len(gateway.charges) == 1  # the same key: charged once
    assert store.get_invoice(number).status is InvoiceStatus.PAID


def test_run_dunning_checks_its_clock_arguments_typed():
    store = MemoryStore()
    naive = UTC_9AM.replace(tzinfo=None)
    with pytest.raises(InvalidTypeError, match=r"now=datetime\.datetime\(2027, 3, 11, 9, 0\)"):
        run_dunning(store, as_of=DUE, policy=POLICY, now=naive)
    with pytest.raises(InvalidTypeError, match="now='2027-03-11'"):
        run_dunning(store, as_of=DUE, policy=POLICY, now="2027-03-11")
    with pytest.raises(InvalidTypeError, match="claim_for=15 must be a timedelta"):
        run_dunning(store, as_of=DUE, policy=POLICY, claim_for=15)
    with pytest.raises(InvalidArgumentError, match="claim_for=0:00:00 must be longer than 0"):
        run_dunning(store, as_of=DUE, policy=POLICY, claim_for=timedelta(0))


@pytest.mark.parametrize("kind", KINDS)
def test_the_outbox_refuses_a_key_queued_already_and_checks_its_arguments(tmp_path, request, kind):
    store = store_of(kind, tmp_path, request)
    with_invoice(store)
    report = run_dunning(store, as_of=DUE, policy=POLICY)
    (action,) = report.unsent
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match="is queued already"):
        store.queue_dunning_actions([action])
    with pytest.raises(InvalidTypeError, match=r"actions\[0\]=1 must be a DunningAction"):
        store.queue_dunning_actions([1])
    with pytest.raises(InvalidTypeError, match="keys='F' must be a sequence of action keys"):
        store.acknowledge_dunning("F")
    assert snapshot(store) == before
    assert store.acknowledge_dunning(["unknown/courtesy"]) == 0
    if kind != "memory":
        store.close()


def test_an_attempt_another_run_answered_meanwhile_keeps_its_answer():
    # Found while writing the claims: without `now`, a second run sent the first run's new
    # attempt (charged, the invoice paid) before the first sent it; the first then found the
    # invoice paid and overwrote the attempt CHARGED with WITHDRAWN.
    store, key, gateway, day = _one_retry_due()
    second = {}

    def second_run(_number):  # after the first run's page is committed, before its call
        second["report"] = run_dunning(store, as_of=day, policy=POLICY, gateway=gateway)

    first = run_dunning(store, as_of=day, policy=POLICY, gateway=gateway, after_each=second_run)
    assert [(c.key, c.status) for c in second["report"].charges] == [(key, ChargeStatus.CHARGED)]
    assert (first.charges, first.to_review) == ((), ())
    assert [(a.key, a.status) for a in store.charge_attempts()] == [(key, ChargeStatus.CHARGED)]
    assert len(gateway.charges) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_retry_that_pays_leaves_no_notice_nor_suspension_in_the_same_run(tmp_path, request, kind):
    # The core lists an invoice's card retry before its step (its review's fix 8); the run
    # used to record both in one transaction before calling the processor, so an invoice the
    # retry paid was served formal notice and suspended in the same run. Run only 15 days
    # late: the missed retries of days 1, 3, 5 and 7 collapse into one attempt (the 4th),
    # which succeeds.
    store = store_of(kind, tmp_path, request)
    number = with_invoice(store)
    gateway = ScriptedGateway(succeed={4})
    report = run_dunning(store, as_of=DUE + timedelta(days=15), policy=POLICY, gateway=gateway)
    assert [(a.invoice, a.step.code, a.attempt) for a in report.actions] == [(number, "retry", 4)]
    assert [c.status for c in report.charges] == [ChargeStatus.CHARGED]
    assert gateway.charges == {f"dunning:{number}:retry:4": (number, Money("120.00", "EUR"))}
    assert store.get_invoice(number).status is InvoiceStatus.PAID
    assert {e.step for e in store.dunning_events()} == {"retry"}
    assert report.unsent == ()
    # A declined retry leaves the step to the same run, after it.
    other = with_invoice(store, subscription="S2")
    declined = run_dunning(
        store, as_of=DUE + timedelta(days=15), policy=POLICY, gateway=ScriptedGateway()
    )
    assert [(a.invoice, a.step.code) for a in declined.actions] == [
        (other, "retry"),
        (other, "formal_notice"),
    ]


class _DownUntil(ScriptedGateway):
    """Raises ConnectionError until ``up`` is set, then charges every attempt."""

    def __init__(self):
        super().__init__(succeed=range(1, 10))
        self.up = False

    def charge(self, invoice_number, amount, *, idempotency_key):
        if not self.up:
            raise ConnectionError("processor unreachable")
        return super().charge(invoice_number, amount, idempotency_key=idempotency_key)


@pytest.mark.parametrize("kind", KINDS)
def test_a_charge_answered_late_is_a_payment_of_the_day_it_was_charged(tmp_path, request, kind):
    # Found by the second review of the run: an attempt recorded on day 1, left pending by
    # an unreachable processor and charged on day 20 was recorded as paid on day 1, so the
    # reminder of day 7 and the notice and suspension of day 15 came after the "payment".
    store = store_of(kind, tmp_path, request)
    number = with_invoice(store)
    gateway = _DownUntil()
    for days in (1, 7, 15):
        run_dunning(store, as_of=DUE + timedelta(days=days), policy=POLICY, gateway=gateway)
    gateway.up = True
    report = run_dunning(store, as_of=DUE + timedelta(days=20), policy=POLICY, gateway=gateway)
    assert [(c.key, c.status) for c in report.charges] == [
        (f"dunning:{number}:retry:1", ChargeStatus.CHARGED)
    ]
    (payment,) = store.payments(number)
    assert (payment.paid_on, payment.amount) == (date(2027, 3, 30), Money("120.00", "EUR"))
    taken = [e for e in store.dunning_events() if e.outcome is EventOutcome.TAKEN]
    assert max(e.on for e in taken) < payment.paid_on  # no action dated after the payment
    assert [e.step for e in taken if e.on == date(2027, 3, 25)] == ["formal_notice"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_without_a_gateway_takes_the_steps_of_an_invoice_with_a_pending_attempt(
    tmp_path, request, kind
):
    # Found by the second review: a pending attempt (its call failed) held back every step
    # of its invoice in runs without a gateway (the CLI's), which can never resolve it.
    store = store_of(kind, tmp_path, request)
    number = with_invoice(store)
    run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=_DownUntil())
    reports = [run_dunning(store, as_of=DUE + timedelta(days=d), policy=POLICY) for d in (7, 15)]
    steps = [[a.step.code for a in report.actions] for report in reports]
    assert steps == [["reminder_7"], ["formal_notice"]]
    assert [c.status for c in store.charge_attempts()] == [ChargeStatus.PENDING]
    assert number in {e.invoice for e in store.dunning_events()}


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"after_each": 5}, InvalidTypeError, "after_each=5 must be a callable or None"),
        ({"gateway": ScriptedGateway}, InvalidTypeError, "must be a PaymentGateway instance"),
        (
            {"gateway": ScriptedGateway(), "now": UTC_9AM, "claim_for": timedelta.max},
            OutOfBoundsError,
            "claim_for=.* must be at most 1 day, 0:00:00",
        ),
    ],
)
def test_bad_run_arguments_are_refused_before_anything_is_written(arguments, error, message):
    # Found by the second review: after_each=5 raised a raw TypeError after the first page was
    # committed; claim_for=timedelta.max a raw OverflowError; a gateway class (not an
    # instance) passed and its TypeError was taken for an outage, the attempt pending forever.
    store = MemoryStore()
    with_invoice(store)
    with pytest.raises(error, match=message):
        run_dunning(store, as_of=DUE - timedelta(days=3), policy=POLICY, **arguments)
    assert (store.dunning_events(), store.charge_attempts()) == ([], [])


@pytest.mark.parametrize("kind", KINDS)
def test_a_queued_notice_is_not_handed_out_once_its_invoice_is_paid(tmp_path, request, kind):
    # Found by the third review: the formal notice recorded on day 15, not sent (the caller
    # died), was still in the next run's `unsent` after the invoice was paid in full on
    # day 16 — a notice to a customer who has paid.
    store = store_of(kind, tmp_path, request)
    number = with_invoice(store)
    other = with_invoice(store, subscription="S2")
    first = run_dunning(store, as_of=DUE + timedelta(days=15), policy=REMINDERS)
    assert [(a.invoice, a.step.code) for a in first.unsent] == [
        (number, "formal_notice"), (other, "formal_notice")
    ]  # fmt: skip
    paid = Payment(amount=Money("120.00", "EUR"), paid_on=DUE + timedelta(days=16))
    pay_invoice(store, number, paid)
    later = run_dunning(store, as_of=DUE + timedelta(days=17), policy=REMINDERS)
    assert [(a.invoice, a.step.code) for a in later.unsent] == [(other, "formal_notice")]
    assert [a.invoice for a in store.unsent_dunning_actions()] == [other]

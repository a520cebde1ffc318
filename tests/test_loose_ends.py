"""Issue 17's loose ends, each through the paths a user takes (API, store, command line, portal).

A customer's kind from the command line (``subbill customers set-kind`` and ``load``), so a
costs run over consumers claims nothing; ``subbill dunning --help`` says ``resolve`` is
optional; ``resolve``'s unknown key said the command line's way; the portal's counts of
apps and quoted lines explained by their headings and left out where they do not apply;
``Subscription.bring_cancellation_forward`` (one change, refused when it would put the
cancellation back) used by dunning; why a stored payment is never applied twice.
"""

import json
from datetime import date, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money
from subbill.customers import Customer, CustomerKind
from subbill.dunning_service import resolve_charge_attempt, run_dunning
from subbill.errors import (
    InvalidArgumentError,
    InvalidDateError,
    InvalidStateError,
    InvalidTransitionError,
)
from subbill.invoices import DocumentKind, Payment
from subbill.l10n import portal_text
from subbill.periods import MONTHLY
from subbill.portal import PortalOverview, SubscriptionRow
from subbill.service import _invoice_and_state, correct_invoice, pay_invoice, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.subscriptions import SubscriptionStatus
from tests.builders import eur, invoice_due
from tests.test_cli import assert_one_line_error, run, write_json
from tests.test_cli_dunning import GARAGE, paid_late
from tests.test_dunning_run_review import WITH_CANCEL, day, subscription
from tests.test_dunning_store import CATALOG, KINDS, store_of

COSTS = (
    "Late-payment costs invoiced: F-2026-000002 (Garage Petit, late payment of F-2026-000001), "
    "€40.00"
)


def costs_run(capsys, db):
    """``subbill dunning --late-payment-costs`` the day after Garage Petit paid 20 days late."""
    status, out, err = run(
        capsys, "dunning", "--as-of", "2026-05-21", "--late-payment-costs", "--db", db
    )
    assert (status, err) == (0, "")
    return out


# -- 1. a customer's kind from the command line --------------------------------------------------


def test_a_consumer_recorded_with_set_kind_gets_no_late_payment_claim(capsys, tmp_path):
    # The stop's note: the command line had no way to store a customer's kind, so a costs run
    # over a store of consumers claimed from them (`customers` was no command: exit 2).
    db = paid_late(capsys, tmp_path, GARAGE["subscriptions"][0])
    status, out, err = run(capsys, "customers", "set-kind", "Garage Petit", "consumer", "--db", db)
    assert (status, err) == (0, "")
    assert out == (
        "Customer 'Garage Petit' is a consumer: no late-payment costs are claimed from it.\n"
    )
    out = costs_run(capsys, db)
    assert COSTS not in out
    store = SQLiteStore(db, read_only=True)
    assert [i.number for i in store.invoices()] == ["F-2026-000001"]  # no claim issued
    assert store.get_customer("Garage Petit") == Customer(
        id="Garage Petit", kind=CustomerKind.CONSUMER
    )
    store.close()


def test_set_kind_business_keeps_the_record_and_the_claim_follows(capsys, tmp_path):
    db = paid_late(capsys, tmp_path, GARAGE["subscriptions"][0])
    store = SQLiteStore(db)
    store.save_customer(
        Customer(id="Garage Petit", legal_name="Garage Petit SARL", kind=CustomerKind.CONSUMER)
    )
    store.close()
    status, out, err = run(capsys, "customers", "set-kind", "Garage Petit", "business", "--db", db)
    assert (status, err) == (0, "")
    assert out == (
        "Customer 'Garage Petit' is a business (was consumer): late-payment costs may be "
        "claimed from it ('subbill dunning --late-payment-costs').\n"
    )
    assert costs_run(capsys, db).splitlines()[-3] == COSTS
    store = SQLiteStore(db, read_only=True)
    assert store.get_customer("Garage Petit") == Customer(
        id="Garage Petit", legal_name="Garage Petit SARL", kind=CustomerKind.BUSINESS
    )
    store.close()


def test_customers_load_saves_the_records_of_a_file_and_a_consumer_gets_no_claim(capsys, tmp_path):
    db = paid_late(capsys, tmp_path, GARAGE["subscriptions"][0])
    path = write_json(
        tmp_path / "customers.json",
        {
            "customers": [
                {"id": "Garage Petit", "kind": "consumer", "locale": "fr_FR"},
                {"id": "Atelier Dupont", "legal_name": "Atelier Dupont SARL", "siren": "732829320"},
            ]
        },
    )
    status, out, err = run(capsys, "customers", "load", path, "--db", db)
    assert status == 0
    assert out == f"2 customer records saved to {db} (1 business, 1 consumer).\n"
    assert err == (  # nothing in the store names Atelier Dupont (issue 17's walk, F8)
        f"subbill: warning: no subscription nor invoice in {db} names customer "
        "'Atelier Dupont' (its record is saved); expected one of Garage Petit\n"
    )
    assert COSTS not in costs_run(capsys, db)
    store = SQLiteStore(db, read_only=True)
    assert store.customer_ids() == ["Atelier Dupont", "Garage Petit"]
    assert store.get_customer("Atelier Dupont").siren == "732829320"
    assert [i.number for i in store.invoices()] == ["F-2026-000001"]
    store.close()


def test_customers_load_reports_every_bad_record_and_saves_nothing(capsys, tmp_path):
    db = tmp_path / "billing.db"
    path = tmp_path / "customers.json"
    path.write_text(
        json.dumps(
            {
                "customers": [
                    {"id": "C-1", "kind": "person"},
                    {"id": "C-2"},
                    {"id": "C-2", "kind": "consumer"},
                    {"id": "C-3", "siren": "123"},
                ]
            }
        ),
        encoding="utf-8",
    )
    status, out, err = run(capsys, "customers", "load", path, "--db", db)
    assert (status, out) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"subbill: error: {path}: customers[0].kind: 'person' must be")
    assert lines[1] == (
        f"subbill: error: {path}: customers[2]: customer 'C-2' is given twice (customers[1])"
    )
    assert lines[2] == (
        f"subbill: error: {path}: customers[3]: siren='123' must be a SIREN (9 digits, Luhn "
        "check digit): the number has an invalid length"
    )
    assert not db.exists() or SQLiteStore(db, read_only=True).customer_ids() == []


def test_set_kind_refuses_a_customer_nothing_names_and_a_kind_it_does_not_know(capsys, tmp_path):
    db = paid_late(capsys, tmp_path, GARAGE["subscriptions"][0])
    line = assert_one_line_error(
        *run(capsys, "customers", "set-kind", "Garage Peti", "consumer", "--db", db), 1
    )
    assert line == (  # the subscription's customer offered (issue 17's walk, F1)
        f"subbill: error: no customer 'Garage Peti' in {db}: no customer record, subscription "
        "or invoice names it (nothing saved), did you mean 'Garage Petit'?"
    )
    store = SQLiteStore(db)
    store.save_customer(Customer(id="Garage Petit SARL"))
    store.close()
    line = assert_one_line_error(
        *run(capsys, "customers", "set-kind", "Garage Petit SAR", "consumer", "--db", db), 1
    )
    assert line.endswith("names it (nothing saved), did you mean 'Garage Petit SARL'?")
    line = assert_one_line_error(
        *run(capsys, "customers", "set-kind", "Garage Petit", "person", "--db", db), 2
    )
    assert "argument KIND: invalid choice: 'person' (choose from 'business', 'consumer')" in line
    store = SQLiteStore(db, read_only=True)
    assert store.customer_ids() == ["Garage Petit SARL"]
    store.close()


# -- 2. and 3. `subbill dunning --help` and `resolve`'s unknown key ------------------------------


def test_the_dunning_usage_shows_resolve_as_a_second_form_not_a_required_argument(capsys):
    # The stop's note: the usage line ended with `resolve ...`, as if every run needed it.
    status, out, _ = run(capsys, "dunning", "--help")
    assert status == 0
    usage = out.split("\n\n")[0].splitlines()
    assert usage[0] == "usage: subbill dunning [-h] [--as-of DATE] [--locale LOCALE] [--db DB]"
    assert usage[1].split() == ["[--late-payment-costs]", "[--policy", "FILE]", "[--to-review]"]
    assert usage[2].startswith("       subbill dunning resolve [-h] [--locale LOCALE] [--db DB]")
    assert "(--charged REFERENCE | --not-charged)" in out.split("\n\n")[0]
    assert "optional command:" in out


def test_resolve_of_an_unknown_key_is_said_the_library_way_in_python():
    with pytest.raises(InvalidArgumentError) as caught:
        resolve_charge_attempt(MemoryStore(), "dunning:F-1:retry:9", charged=False)
    assert str(caught.value) == (
        "key='dunning:F-1:retry:9': there is no such charge attempt (the attempts to review "
        "are store.charge_attempts(status=ChargeStatus.TO_REVIEW))"
    )


def test_resolve_of_an_unknown_key_is_said_the_command_line_way(capsys, tmp_path):
    # The stop's note: the command line's message named the Python call first.
    db = paid_late(capsys, tmp_path, GARAGE["subscriptions"][0])
    argv = ("dunning", "resolve", "dunning:F-2026-000001:retry:2", "--not-charged", "--db", db)
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert line == (
        "subbill: error: no charge attempt 'dunning:F-2026-000001:retry:2' in "
        f"{db}; no attempt is to review ('subbill dunning --to-review' lists the attempts to "
        "review with their keys)"
    )
    from subbill.storage.protocols import ChargeAttempt, ChargeStatus  # noqa: PLC0415

    store = SQLiteStore(db)
    store.save_charge_attempt(
        ChargeAttempt(
            key="dunning:F-2026-000001:retry:1", invoice="F-2026-000001", attempt=1,
            amount=eur("816.00"), on=date(2026, 5, 2), status=ChargeStatus.TO_REVIEW,
        )
    )  # fmt: skip
    store.close()
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert line == (
        "subbill: error: no charge attempt 'dunning:F-2026-000001:retry:2' in "
        f"{db}, did you mean 'dunning:F-2026-000001:retry:1'? ('subbill dunning --to-review' "
        "lists the attempts to review with their keys)"
    )


# -- 4. the portal's apps and quoted lines -------------------------------------------------------


def _row(id_: str, *, plan: str | None, apps: int, lines: int) -> SubscriptionRow:
    return SubscriptionRow(
        id=id_, status=SubscriptionStatus.ACTIVE, plan=plan, apps=apps, lines=lines,
        frequencies=(MONTHLY,), next_billing=date(2026, 5, 1), next_amount=eur("10.00"),
        payment_method=None,
    )  # fmt: skip


def _subscriptions_table(*rows: SubscriptionRow) -> list[list[str]]:
    from tests.test_l10n import _table  # noqa: PLC0415

    overview = PortalOverview(
        customer="ACME", as_of=date(2026, 4, 10), quotes=(), orders=(), invoices=(),
        subscriptions=rows, tickets=(), payment_methods=(),
    )  # fmt: skip
    return _table(portal_text(overview, locale="en_US"), "Subscriptions")


def test_a_plain_plan_shows_its_apps_on_and_no_quoted_lines_column():
    # The stop's note: "Apps 0 / Lines 0" unexplained for a plain plan.
    assert _subscriptions_table(_row("S1", plan="Pro", apps=0, lines=0)) == [
        ["Reference", "Status", "Plan", "Apps on", "Billing", "Next invoice",
         "Amount incl. tax", "Payment method"],
        ["S1", "Active", "Pro", "0", "monthly", "May 1, 2026", "€10.00", "—"],
    ]  # fmt: skip


def test_quoted_lines_show_their_count_and_no_apps_column():
    assert _subscriptions_table(_row("S2", plan=None, apps=0, lines=2))[0][3] == "Quoted lines"
    assert _subscriptions_table(_row("S2", plan=None, apps=0, lines=2))[1][:4] == [
        "S2", "Active", "—", "2",
    ]  # fmt: skip


def test_a_plan_beside_quoted_lines_shows_both_counts_with_a_dash_where_one_does_not_apply():
    table = _subscriptions_table(
        _row("S1", plan="Pro", apps=3, lines=0), _row("S2", plan=None, apps=0, lines=1)
    )
    assert [row[:5] for row in table] == [
        ["Reference", "Status", "Plan", "Apps on", "Quoted lines"],
        ["S1", "Active", "Pro", "3", "—"],
        ["S2", "Active", "—", "—", "1"],
    ]


# -- 5. bringing a cancellation forward ----------------------------------------------------------


def test_a_dunning_cancellation_brings_the_customer_s_forward_in_one_history_change(
    tmp_path, request, kind
):
    # The stop's note: dunning cleared the cancellation and cancelled again (two
    # "cancellation" changes). The credit is the one the old path gave: -112.00, 248.00 owed.
    store = store_of(kind, tmp_path, request)
    store.save_catalog(CATALOG)
    store.save_subscription(subscription())
    for billed in (day(2, 8), day(3, 8), day(4, 8)):
        run_billing(store, as_of=billed)
    store.save_subscription(store.get_subscription("S1").cancel(on=day(4, 9)))
    run_dunning(store, as_of=day(4, 10), policy=WITH_CANCEL)
    cancelled = store.get_subscription("S1")
    assert (cancelled.cancel_at, cancelled.cancelled_on) == (day(4, 10), day(4, 10))
    assert [(c.on, c.kind, c.previous) for c in cancelled.history if "cancel" in c.kind] == [
        (day(4, 9), "cancellation", None),
        (day(4, 10), "cancellation_brought_forward", "2027-05-08"),
    ]
    run_billing(store, as_of=day(4, 11))
    notes = [i.total for i in store.invoices() if i.kind is DocumentKind.CREDIT_NOTE]
    assert notes == [Money("-112.00", "EUR")]
    owed = Money.total((i.amount_due for i in store.invoices()), currency="EUR")
    assert owed == Money("248.00", "EUR")
    if kind != "memory":
        store.close()


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def test_bringing_a_cancellation_later_or_to_its_own_day_is_refused_naming_the_dates():
    ending = subscription().cancel(on=day(4, 9))
    assert ending.cancel_at == day(5, 8)
    for later in (day(5, 8), day(5, 9)):
        with pytest.raises(InvalidStateError) as caught:
            ending.bring_cancellation_forward(on=later)
        assert str(caught.value) == (
            f"on={later.isoformat()} is not before 2027-05-08, the day the cancellation of "
            "subscription 'S1' takes effect: a cancellation is brought forward, never put back "
            "nor set again"
        )
    with pytest.raises(InvalidStateError, match=r"subscription 'S1' is not cancelled: there is"):
        subscription().bring_cancellation_forward(on=day(4, 9))
    with pytest.raises(InvalidDateError, match="on="):
        ending.bring_cancellation_forward(on="2027-04-10")


@settings(max_examples=60, deadline=None)
@given(
    asked=st.integers(min_value=0, max_value=120), earlier=st.integers(min_value=0, max_value=120)
)
def test_a_cancellation_brought_forward_is_an_immediate_cancellation_on_that_day(asked, earlier):
    # Whatever the days: the subscription brought forward is the one a cancellation on that
    # day would have made, but for its history (one change more, naming the day it replaced).
    at_period_end = subscription().cancel(on=day(2, 8) + timedelta(days=asked))
    on = max(at_period_end.cancel_at - timedelta(days=1 + earlier), day(2, 8))
    if on >= at_period_end.cancel_at:
        return
    brought = at_period_end.bring_cancellation_forward(on=on)
    at_once = subscription().cancel(on=on, at_period_end=False)
    assert attrs.evolve(brought, history=()) == attrs.evolve(at_once, history=())
    assert brought.history[:-1] == at_period_end.history
    assert brought.history[-1].previous == at_period_end.cancel_at.isoformat()


# -- 6. a stored payment is applied once -----------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    payments=st.lists(st.integers(min_value=1, max_value=15_000), min_size=1, max_size=5),
    credited=st.booleans(),
)
def test_every_stored_payment_is_counted_on_its_invoice_so_none_is_applied_twice(
    payments, credited
):
    # `_invoice_and_state` applies the store's payments beyond the invoice's count. That
    # count is exact because a payment applied is always recorded on the invoice: an open
    # invoice always owes something (finalize, payments and credit notes make one owing
    # nothing paid) and a payment is above zero, so each one applies at least a cent; one
    # that would apply nothing is refused (the next test).
    store = MemoryStore()
    draft = invoice_due("100.00", due_on=date(2027, 3, 10), number=None)
    number = store.next_invoice_number(issued_on=draft.issued_on)
    store.add_invoice(draft.finalize(number=number))
    if credited:  # a partial credit note first: 30.00 of the invoice cancelled
        from subbill.invoices import one_time_line  # noqa: PLC0415

        lines = [one_time_line("pro", "Plan Pro", eur("30.00"))]
        correct_invoice(store, number, issued_on=date(2027, 2, 9), lines=lines)
    for index, cents in enumerate(payments):
        paid_on = date(2027, 2, 10) + timedelta(days=index)
        try:
            amount = eur(f"{cents // 100}.{cents % 100:02d}")
            pay_invoice(store, number, Payment(amount=amount, paid_on=paid_on))
        except InvalidTransitionError:  # paid already: refused, nothing written
            assert store.get_invoice(number).amount_due.is_zero()
        stored = store.get_invoice(number)
        assert len(stored.payments) == len(store.payments(number))
        assert _invoice_and_state(store, number)[0] == stored  # nothing applied again
    due = eur("70.00" if credited else "100.00")
    assert stored.amount_paid == min(sum((p.amount for p in store.payments(number)), eur(0)), due)


def test_a_payment_that_would_apply_nothing_is_refused_and_never_stored():
    # An invoice owing nothing while open is not one subbill builds (finalize makes it paid),
    # and one built by hand is refused now too (an open invoice owes something), so it is
    # never stored. The same invoice settled, as finalize makes it (paid): its payment
    # would apply nothing. It is refused, and nothing is written, so it cannot be applied
    # again on a later call.
    store = MemoryStore()
    with pytest.raises(InvalidArgumentError, match="status=open, but invoice F-2027-000001"):
        attrs.evolve(invoice_due("100.00", due_on=date(2027, 3, 10)), credit_applied=eur("100.00"))
    owing_nothing = attrs.evolve(
        invoice_due("100.00", due_on=date(2027, 3, 10), number=None),
        credit_applied=eur("100.00"),
    ).finalize(number="F-2027-000001")
    assert owing_nothing.status.value == "paid"
    store.add_invoice(owing_nothing)
    payment = Payment(amount=eur("30.00"), paid_on=date(2027, 2, 10))
    with pytest.raises(InvalidStateError):
        pay_invoice(store, "F-2027-000001", payment)
    assert store.payments("F-2027-000001") == []
    assert store.get_invoice("F-2027-000001") == owing_nothing
    assert store.get_billing_state("S1") is None

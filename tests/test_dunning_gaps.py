"""Issue 17, the dunning run's remaining gaps: each test failed before its fix.

The portal reads one date; ``pay_invoice`` does what its docstring says; an attempt left to
review has a way out (``resolve_charge_attempt``, ``subbill dunning resolve``); the command
line reads a policy file; a run reads only what dunning needs from the store.
"""

from datetime import date, timedelta

import pytest

from subbill import Money
from subbill.dunning_service import resolve_charge_attempt, run_dunning
from subbill.errors import (
    InvalidArgumentError,
    InvalidDateError,
    InvalidStateError,
    InvalidTypeError,
)
from subbill.invoices import Payment
from subbill.portal import InvoiceLabel, portal_overview
from subbill.service import pay_invoice
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.protocols import ChargeAttempt, ChargeStatus
from tests.seed_catalog import seed_catalog
from tests.stores import snapshot
from tests.test_dunning_review import POLICY, an_invoice, pay
from tests.test_dunning_store import KINDS, _Unreachable, store_of, with_invoice

DUE = date(2027, 3, 10)


# -- the portal reads one date --------------------------------------------------------------------


def test_the_portals_invoice_rows_read_the_same_date_as_its_overdue_list():
    # Paid on 2 April: on 30 March the portal lists it as overdue, and its invoice row must
    # say so too (it said "paid", today's status), with the amount due that day.
    paid = pay(an_invoice(), "120.00", date(2027, 4, 2))
    overview = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[paid], dunning_policy=POLICY,
        as_of=date(2027, 3, 30),
    )  # fmt: skip
    ((overdue, row),) = zip(overview.overdue, overview.invoices, strict=True)
    assert (row.number, row.label, row.amount_due) == (
        overdue.number, InvoiceLabel.OVERDUE, overdue.amount_due,
    )  # fmt: skip
    assert row.amount_due == Money("120.00", "EUR")
    # Before its due date it was unpaid; a part paid by then makes it partially paid; on
    # the day of its payment and after, paid.
    part = pay(an_invoice(), "20.00", date(2027, 3, 1))
    both = pay(part, "100.00", date(2027, 4, 2))
    rows = [
        portal_overview("ACME", catalog=seed_catalog(), invoices=[i], as_of=day).invoices[0]
        for i, day in ((paid, date(2027, 3, 5)), (both, date(2027, 3, 5)), (both, date(2027, 4, 2)))
    ]
    assert [(r.label, r.amount_due) for r in rows] == [
        (InvoiceLabel.UNPAID, Money("120.00", "EUR")),
        (InvoiceLabel.PARTIALLY_PAID, Money("100.00", "EUR")),
        (InvoiceLabel.PAID, Money("0.00", "EUR")),
    ]


# -- pay_invoice: an overpayment is credit, an invoice with nothing due is refused ----------------


def test_an_overpayment_of_an_open_invoice_goes_to_the_credit_balance():
    store = MemoryStore()
    number = with_invoice(store, "120.00")
    paid = pay_invoice(store, number, Payment(amount=Money("150.00", "EUR"), paid_on=DUE))
    assert (paid.amount_due, paid.amount_paid) == (Money("0.00", "EUR"), Money("120.00", "EUR"))
    state = store.get_billing_state("S1")
    assert state is not None
    assert state.credit_balance == Money("30.00", "EUR")


def test_a_payment_of_an_invoice_with_nothing_due_is_refused_and_nothing_written():
    store = MemoryStore()
    number = with_invoice(store, "120.00")
    pay_invoice(store, number, Payment(amount=Money("120.00", "EUR"), paid_on=DUE))
    before = (store.get_invoice(number), store.payments(number), store.get_billing_state("S1"))
    with pytest.raises(InvalidStateError, match=rf"invoice {number}.*status=paid"):
        pay_invoice(store, number, Payment(amount=Money("10.00", "EUR"), paid_on=DUE))
    after = (store.get_invoice(number), store.payments(number), store.get_billing_state("S1"))
    assert after == before


# -- an attempt left to review has a way out ----------------------------------------------------


@pytest.fixture(params=KINDS)
def any_store(request, tmp_path):
    """Each store in turn: memory, SQLite, PostgreSQL (closed after the test)."""
    store = store_of(request.param, tmp_path, request)
    yield store
    if request.param != "memory":
        store.close()


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _to_review(store, *, paid: str = "100.00"):
    """An invoice of 120.00 whose retry 1 was left pending, then ``paid`` by transfer: to review."""
    number = with_invoice(store, "120.00")
    failing = _Unreachable(down={number})
    run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=failing)
    pay_invoice(store, number, Payment(amount=eur(paid), paid_on=DUE + timedelta(days=2)))
    report = run_dunning(store, as_of=DUE + timedelta(days=2), policy=POLICY, gateway=failing)
    (attempt,) = report.to_review
    assert (attempt.status, attempt.amount) == (ChargeStatus.TO_REVIEW, eur("120.00"))
    return number, attempt.key


def test_an_attempt_to_review_said_charged_pays_what_is_due_and_credits_the_rest_once(any_store):
    store = any_store
    number, key = _to_review(store)  # owes 20.00 after a transfer of 100.00
    on = DUE + timedelta(days=4)
    resolved = resolve_charge_attempt(store, key, charged=True, reference="ch_42", on=on)
    assert (resolved.status, resolved.reference, resolved.resolved_on) == (
        ChargeStatus.CHARGED, "ch_42", on,
    )  # fmt: skip
    assert store.charge_attempt(key) == resolved
    invoice = store.get_invoice(number)
    assert (invoice.amount_due, invoice.amount_paid) == (eur("0.00"), eur("120.00"))
    assert [(p.amount, p.paid_on, p.reference) for p in store.payments(number)] == [
        (eur("100.00"), DUE + timedelta(days=2), ""),
        (eur("120.00"), on, key),
    ]
    assert store.get_billing_state("S1").credit_balance == eur("100.00")  # paid twice
    # The same answer again changes nothing.
    before = snapshot(store)
    again = resolve_charge_attempt(store, key, charged=True, reference="ch_42", on=on)
    assert again == resolved
    assert snapshot(store) == before
    # Another answer after one is recorded is refused, naming it; nothing written.
    for other in (
        {"charged": False},
        {"charged": True, "reference": "ch_43", "on": on},
        {"charged": True, "reference": "ch_42", "on": on + timedelta(days=1)},
    ):
        with pytest.raises(InvalidStateError, match=rf"{key}.*charged \(reference='ch_42' on"):
            resolve_charge_attempt(store, key, **other)
        assert snapshot(store) == before


def test_an_attempt_to_review_of_an_invoice_paid_in_full_said_charged_is_customer_credit(
    any_store,
):
    store = any_store
    number, key = _to_review(store, paid="120.00")
    on = DUE + timedelta(days=3)
    resolve_charge_attempt(store, key, charged=True, reference="ch_1", on=on)
    assert store.get_billing_state("S1").credit_balance == eur("120.00")
    assert [p.reference for p in store.payments(number)] == [""]  # no payment of a paid one
    before = snapshot(store)
    resolve_charge_attempt(store, key, charged=True, reference="ch_1", on=on)
    assert snapshot(store) == before  # credited once


def test_an_attempt_to_review_said_not_charged_frees_its_invoice_for_a_new_retry(any_store):
    store = any_store
    number, key = _to_review(store)  # owes 20.00
    gateway = _Unreachable(down=(), succeed={3})
    # Still to review: no new retry on day 3 …
    held = run_dunning(store, as_of=DUE + timedelta(days=3), policy=POLICY, gateway=gateway)
    assert held.charges == ()
    resolved = resolve_charge_attempt(store, key, charged=False)
    assert resolved.status is ChargeStatus.NOT_CHARGED
    before = snapshot(store)
    assert resolve_charge_attempt(store, key, charged=False) == resolved
    assert snapshot(store) == before
    with pytest.raises(InvalidStateError, match=rf"{key!r} is not_charged"):
        resolve_charge_attempt(store, key, charged=True, reference="ch_1", on=DUE)
    # … once answered, the next retry day charges what is still due.
    report = run_dunning(store, as_of=DUE + timedelta(days=5), policy=POLICY, gateway=gateway)
    assert [(c.key, c.amount, c.status) for c in report.charges] == [
        (f"dunning:{number}:retry:3", eur("20.00"), ChargeStatus.CHARGED),
    ]
    assert store.get_invoice(number).amount_due == eur("0.00")


def test_resolving_refuses_an_unknown_key_an_attempt_not_to_review_and_a_bad_answer():
    store = MemoryStore()
    _, key = _to_review(store)
    before = snapshot(store)
    with pytest.raises(InvalidArgumentError, match=r"key='dunning:F-9:retry:1': there is no such"):
        resolve_charge_attempt(store, "dunning:F-9:retry:1", charged=False)
    with pytest.raises(InvalidTypeError, match=r"charged='yes' must be True or False"):
        resolve_charge_attempt(store, key, charged="yes")
    with pytest.raises(InvalidTypeError, match=r"reference=None"):
        resolve_charge_attempt(store, key, charged=True, on=DUE)
    with pytest.raises(InvalidDateError, match=r"on=None must be a datetime.date"):
        resolve_charge_attempt(store, key, charged=True, reference="ch_1")
    with pytest.raises(InvalidArgumentError, match=r"given with charged=False"):
        resolve_charge_attempt(store, key, charged=False, reference="ch_1")
    with pytest.raises(InvalidArgumentError, match=r"on=2027-03-10 is before 2027-03-11"):
        resolve_charge_attempt(store, key, charged=True, reference="ch_1", on=DUE)
    assert snapshot(store) == before
    pending = ChargeAttempt(
        key="dunning:F-8:retry:1", invoice="F-8", attempt=1, amount=eur("5.00"), on=DUE
    )
    store.save_charge_attempt(pending)
    with pytest.raises(InvalidStateError, match=r"'dunning:F-8:retry:1' is pending, not to_review"):
        resolve_charge_attempt(store, pending.key, charged=False)


def test_a_charge_with_nowhere_to_go_is_refused_and_nothing_recorded():
    # An invoice of no subscription, paid in full by transfer: the card's money has no
    # credit balance to go to — refused, the attempt stays to review (refund, then answer).
    store = MemoryStore()
    number = with_invoice(store, "120.00", subscription=None)
    pay_invoice(store, number, Payment(amount=eur("120.00"), paid_on=DUE))
    attempt = ChargeAttempt(
        key=f"dunning:{number}:retry:1", invoice=number, attempt=1, amount=eur("120.00"),
        on=DUE, status=ChargeStatus.TO_REVIEW, reason="invoice_paid_meanwhile",
    )  # fmt: skip
    store.save_charge_attempt(attempt)
    before = snapshot(store)
    with pytest.raises(InvalidStateError, match=rf"invoice {number!r} owes nothing and belongs"):
        resolve_charge_attempt(store, attempt.key, charged=True, reference="ch_1", on=DUE)
    assert snapshot(store) == before
    assert store.charge_attempt(attempt.key) == attempt


# -- the command line: a policy file, the retries it cannot charge, attempts to review -----------


def _cli_billed(capsys, tmp_path):
    from tests.test_cli_dunning import billed  # noqa: PLC0415  (the CLI's own fixtures)

    return billed(capsys, tmp_path, tmp_path / "billing.db")


def test_subbill_dunning_says_it_charges_no_card_and_lists_the_retries_due(capsys, tmp_path):
    from tests.test_cli import run as cli  # noqa: PLC0415
    from tests.test_cli_dunning import GARAGE, billed  # noqa: PLC0415

    # Card retries are for a subscription that pays by card (a saved payment method).
    garage = {**GARAGE["subscriptions"][0], "payment_method": "pm_visa_4242"}
    db = billed(capsys, tmp_path, tmp_path / "billing.db", {"subscriptions": [garage]})
    status, out, err = cli(capsys, "dunning", "--as-of", "2026-05-02", "--db", db)
    assert (status, err) == (0, "")
    assert out.endswith(
        "\nF-2026-000001 (Garage Petit) — card retry 1 due: €816.00, not charged\n"
        "The command line has no payment processor: it charges no card and records none of "
        "these retries; an application makes them with run_dunning and its payment gateway.\n"
    )
    store = SQLiteStore(db, read_only=True)
    assert store.charge_attempts() == []
    assert [e.key for e in store.dunning_events()] == [
        "F-2026-000001/courtesy", "F-2026-000001/reminder_1",
    ]  # fmt: skip
    store.close()


def test_subbill_dunning_policy_reads_a_toml_or_json_file(capsys, tmp_path):
    from tests.test_cli import run as cli  # noqa: PLC0415

    db = _cli_billed(capsys, tmp_path)
    toml = tmp_path / "policy.toml"
    toml.write_text(
        "retry_days = []\n"
        '[[steps]]\ncode = "call_me"\ndays = 2\nactions = ["remind"]\n'
        '[[steps]]\ncode = "cut"\ndays = 10\nactions = ["formal_notice", "suspend"]\n',
        encoding="utf-8",
    )
    status, out, err = cli(capsys, "dunning", "--as-of", "2026-05-03", "--db", db, "--policy", toml)
    assert (status, err) == (0, "")
    assert "card retry" not in out  # the file's policy has no retries
    store = SQLiteStore(db, read_only=True)
    assert [e.key for e in store.dunning_events()] == ["F-2026-000001/call_me"]
    store.close()
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"steps": [{"code": "r", "days": "2", "actions": ["phone"]}], "retry_dayz": [1]}',
        encoding="utf-8",
    )
    status, out, err = cli(capsys, "dunning", "--as-of", "2026-05-03", "--db", db, "--policy", bad)
    assert (status, out) == (2, "")
    assert err.splitlines() == [
        f"subbill: error: {bad}: steps[0].days: '2' must be a whole number, not a string",
        (
            f"subbill: error: {bad}: steps[0].actions[0]: 'phone' must be 'remind', "
            "'formal_notice', 'suspend' or 'cancel'"
        ),
        f"subbill: error: {bad}: retry_dayz: unknown key, did you mean 'retry_days'?",
    ]


def test_subbill_dunning_lists_the_attempts_to_review_and_resolves_one(capsys, tmp_path):
    from tests.test_cli import run as cli  # noqa: PLC0415

    db = _cli_billed(capsys, tmp_path)
    store = SQLiteStore(db)
    pay_invoice(store, "F-2026-000001", Payment(amount=eur("800.00"), paid_on=date(2026, 5, 3)))
    key = "dunning:F-2026-000001:retry:1"
    store.save_charge_attempt(
        ChargeAttempt(
            key=key, invoice="F-2026-000001", attempt=1, amount=eur("816.00"),
            on=date(2026, 5, 2), status=ChargeStatus.TO_REVIEW, reason="invoice_paid_meanwhile",
        )
    )  # fmt: skip
    store.close()
    status, out, err = cli(capsys, "dunning", "--to-review", "--db", db)
    assert (status, err) == (0, "")
    assert out == (
        "Card retries to check with the payment processor: 1.\n"
        f"{key}: invoice F-2026-000001, €816.00, attempt of May 2, 2026 (the invoice was paid "
        "meanwhile: the attempt may have reached the processor)\n"
        "Once checked: subbill dunning resolve KEY --charged REFERENCE --on DATE, or "
        "--not-charged.\n"
    )
    status, out, err = cli(capsys, "dunning", "resolve", key, "--charged", "ch_9", "--db", db)
    assert status == 2
    assert "--charged REFERENCE needs --on DATE" in err
    argv = ("dunning", "resolve", key, "--charged", "ch_9", "--on", "2026-05-04", "--db", db)
    status, out, err = cli(capsys, *argv)
    assert (status, err) == (0, "")
    charged_line = (
        f"{key}: charged (ch_9, on May 4, 2026), recorded; invoice F-2026-000001: €0.00 due.\n"
    )
    assert out == charged_line + (
        "€800.00 beyond what invoice F-2026-000001 owed went to the credit balance of "
        "subscription S2 (the customer paid twice: used up by their next invoices, or refund "
        "it).\n"
    )
    assert cli(capsys, *argv)[:2] == (0, charged_line)  # the same answer again: nothing more
    status, out, err = cli(capsys, "dunning", "resolve", key, "--not-charged", "--db", db)
    assert (status, out) == (1, "")
    assert f"charge attempt {key!r} is charged (reference='ch_9' on 2026-05-04)" in err
    store = SQLiteStore(db, read_only=True)
    assert store.get_invoice("F-2026-000001").amount_due == eur("0.00")
    assert store.get_billing_state("S2").credit_balance == eur("800.00")
    assert [p.reference for p in store.payments("F-2026-000001")] == ["", key]
    store.close()
    assert cli(capsys, "dunning", "--to-review", "--db", db)[1] == (
        "Card retries to check with the payment processor: 0.\n"
    )

"""Review 90 (F1): a dunning run fails a damaged subscription row's own invoices only.

``run_dunning`` read each invoice's subscription (has it ended? does it pay by card? its
terms for the costs claimed) with ``store.get_subscription``, without isolating a row that
fails to read: one such row — any :class:`StoredDataError` — stopped the reminders, formal
notices and suspensions of every customer, and ``subbill dunning`` exited with no event
recorded. A billing run bills the others; so does dunning now: the damaged subscription's
invoices are named in the report's ``failures`` (nothing recorded for them), every other
invoice gets its steps, and ``subbill dunning`` exits 1 after printing them.
"""

import sqlite3
from datetime import date

from subbill import Money
from subbill.billing import BillingTerms
from subbill.catalog import Catalog, Plan
from subbill.cli import main
from subbill.dunning import DunningActionKind, DunningPolicy
from subbill.dunning_service import run_dunning
from subbill.invoices import Payment
from subbill.periods import MONTHLY
from subbill.service import pay_invoice, run_billing
from subbill.storage import SQLiteStore
from subbill.storage.errors import StoredDataError
from subbill.subscriptions import Subscription

CATALOG = Catalog(
    currency="EUR",
    plans=[Plan(code="a", name="A", rank=1, prices={MONTHLY: Money("30.00", "EUR")})],
)
START = date(2026, 3, 1)
#: Due 31 March (30 days' terms): the formal notice and the suspension 15 days after.
NOTICE_DAY = date(2026, 4, 15)
#: A row that cannot be read back: a span of a negative price (refused by ``Span``).
DAMAGED = (
    '{"data":{"currency":"EUR","customer":"C1","id":"S1","plans":[{"code":"a","price":'
    '"-30.00 EUR","start":"2026-03-01"}],"start":"2026-03-01"},"version":4}'
)


def _billed_store(path):
    """S0, S1 and S2 billed on 1 March (one invoice each, due 31 March), S1's row damaged."""
    store = SQLiteStore(path)
    store.save_catalog(CATALOG)
    for index in range(3):
        store.save_subscription(
            Subscription.create(
                id=f"S{index}",
                customer=f"C{index}",
                catalog=CATALOG,
                plan="a",
                start=START,
                terms=BillingTerms(payment_terms_days=30, late_payment_percent="10"),
            )
        )
    assert run_billing(store, as_of=START).invoice_count == 3
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE subscriptions SET document = ? WHERE id = 'S1'", (DAMAGED,))
    connection.close()
    return store


def _numbers(store):
    return {invoice.subscription: invoice.number for invoice in store.invoices()}


def test_a_damaged_subscription_row_fails_its_own_invoices_steps_only(tmp_path):
    store = _billed_store(tmp_path / "s.db")
    numbers = _numbers(store)
    report = run_dunning(store, as_of=NOTICE_DAY, policy=DunningPolicy.standard())
    assert not report.is_complete
    [failure] = report.failures
    assert type(failure).__name__ == "DunningFailure"
    assert (failure.subscription, failure.invoices) == ("S1", (numbers["S1"],))
    assert isinstance(failure.error, StoredDataError)
    assert "subscriptions row 'S1'" in str(failure.error)
    assert "must be >= 0 (a price)" in str(failure.error)
    # Every other customer gets the formal notice and the suspension, recorded and queued.
    notices = {
        action.invoice: action.actions
        for action in report.actions
        if DunningActionKind.FORMAL_NOTICE in action.actions
    }
    assert notices == {
        numbers["S0"]: (DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND),
        numbers["S2"]: (DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND),
    }
    assert {action.invoice for action in report.unsent} == {numbers["S0"], numbers["S2"]}
    assert store.dunning_events(invoice=numbers["S1"]) == []
    steps = ["courtesy", "reminder_1", "reminder_7", "formal_notice"]  # the first 3 skipped
    assert [event.step for event in store.dunning_events(invoice=numbers["S0"])] == steps
    assert [event.step for event in store.dunning_events(invoice=numbers["S2"])] == steps
    # Once the row is repaired, the next run takes S1's steps.
    store.save_subscription(
        Subscription.create(id="S1", customer="C1", catalog=CATALOG, plan="a", start=START)
    )
    again = run_dunning(store, as_of=NOTICE_DAY, policy=DunningPolicy.standard())
    assert again.failures == ()
    assert [action.invoice for action in again.actions] == [numbers["S1"]]
    store.close()


def test_late_payment_costs_are_claimed_for_every_readable_subscription(tmp_path):
    store = _billed_store(tmp_path / "s.db")
    numbers = _numbers(store)
    late = date(2026, 4, 10)
    for owner in ("S0", "S1"):  # paid 10 days late
        pay_invoice(store, numbers[owner], Payment(amount=Money("30.00", "EUR"), paid_on=late))
    report = run_dunning(
        store, as_of=NOTICE_DAY, policy=DunningPolicy.standard(late_payment_costs=True)
    )
    # S0's costs document is issued; S1's terms cannot be read: no document, named.
    # 40.00 indemnity + 10 % a year on 30.00 for the 10 days late (0.08)
    assert [(d.customer, str(d.total)) for d in report.documents] == [("C0", "40.08 EUR")]
    by_owner = {failure.subscription: failure for failure in report.failures}
    assert set(by_owner) == {"S1"}
    assert by_owner["S1"].invoices == (numbers["S1"],)
    assert isinstance(by_owner["S1"].error, StoredDataError)
    # S2, still open, gets its formal notice.
    assert numbers["S2"] in {action.invoice for action in report.actions}
    store.close()


def test_subbill_dunning_prints_the_others_and_exits_1_naming_the_damaged_row(capsys, tmp_path):
    path = tmp_path / "s.db"
    store = _billed_store(path)
    numbers = _numbers(store)
    store.close()
    status = main(["dunning", "--as-of", NOTICE_DAY.isoformat(), "--db", str(path)])
    captured = capsys.readouterr()
    assert status == 1
    assert f"{numbers['S0']} (C0)" in captured.out
    assert f"{numbers['S2']} (C2)" in captured.out
    assert numbers["S1"] not in captured.out
    [line] = captured.err.splitlines()
    assert line.startswith(
        f"subbill: error: subscription 'S1': the dunning steps of {numbers['S1']} were not "
        "taken: subscriptions row 'S1'"
    )
    assert "Traceback" not in captured.err
    with sqlite3.connect(path) as connection:
        recorded = connection.execute(
            "SELECT subscription, count(*) FROM dunning_events GROUP BY subscription"
        ).fetchall()
    connection.close()
    assert recorded == [("S0", 4), ("S2", 4)]  # the formal notices (3 steps skipped each)

"""Issue 17's dunning core after its adversarial review: one test per defect found.

Each test failed before its fix (the review's repro scripts, turned into assertions).
"""

from datetime import date, timedelta

import pytest

import subbill.dunning as dn
from subbill import Money, Subscription, SubscriptionStatus
from subbill.billing import BillingTerms, draft_invoice
from subbill.dunning import DunningAction, DunningActionKind, DunningEvent, DunningPolicy
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import Invoice, LineKind, Payment, credit_note_for, one_time_line
from subbill.l10n import invoice_text
from subbill.l10n.dunning import action_text, late_payment_text
from subbill.portal import portal_overview
from subbill.service import correct_invoice
from subbill.storage import MemoryStore
from tests.builders import invoice_due
from tests.seed_catalog import seed_catalog

DunningStep = dn.DunningStep
amount_due_on, dunning_actions = dn.amount_due_on, dn.dunning_actions
dunning_state, events_of, is_overdue_on = dn.dunning_state, dn.events_of, dn.is_overdue_on
late_payment_claims, late_payment_costs = dn.late_payment_claims, dn.late_payment_costs
next_step = dn.next_step

DUE = date(2027, 3, 10)
POLICY = DunningPolicy.standard()
REMINDERS = DunningPolicy(steps=POLICY.steps)
COSTS = DunningPolicy.standard(late_payment_costs=True)


def an_invoice(
    amount: str = "120.00", *, due_on: date = DUE, number: str = "F-2027-000001",
    currency: str = "EUR",
) -> Invoice:  # fmt: skip
    return invoice_due(amount, due_on=due_on, number=number, currency=currency)


def pay(invoice: Invoice, amount: str, on: date) -> Invoice:
    money = Money(amount, invoice.currency)
    return invoice.apply_payment(Payment(amount=money, paid_on=on)).invoice


def run(
    invoices: list[Invoice], days: list[date], policy: DunningPolicy = POLICY
) -> tuple[DunningEvent, ...]:
    history: tuple[DunningEvent, ...] = ()
    for day in days:
        history += events_of(dunning_actions(invoices, policy=policy, history=history, as_of=day))
    return history


def daily(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def subscription() -> Subscription:
    return Subscription.create(
        id="S1", customer="ACME", catalog=seed_catalog(), plan="pro", start=date(2027, 1, 10)
    )


def plain(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


# -- 1. a past date reads the payments as of that date ------------------------------------------


def test_an_invoice_paid_on_2_april_was_unpaid_on_24_march():
    paid = pay(an_invoice(), "120.00", date(2027, 4, 2))
    sub = subscription()
    assert sub.status(as_of=date(2027, 3, 24), invoices=[paid]) is SubscriptionStatus.UNPAID
    assert sub.status(as_of=date(2027, 4, 2), invoices=[paid]) is SubscriptionStatus.ACTIVE
    assert is_overdue_on(paid, date(2027, 3, 24))
    assert not is_overdue_on(paid, DUE)  # the due date itself is not overdue yet


def test_the_portal_on_30_march_lists_an_invoice_paid_on_2_april_as_overdue():
    invoice = an_invoice()
    history = run([invoice], [date(2027, 3, 7)])
    paid = pay(invoice, "120.00", date(2027, 4, 2))
    overview = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[paid], subscriptions=[subscription()],
        dunning_policy=POLICY, dunning=history, as_of=date(2027, 3, 30),
    )  # fmt: skip
    (row,) = overview.overdue
    assert (row.number, row.amount_due, row.days_late) == (
        "F-2027-000001", Money("120.00", "EUR"), 20,
    )  # fmt: skip
    assert overview.subscriptions[0].status is SubscriptionStatus.UNPAID


# -- 2. a late-payment costs document never makes a subscription unpaid -------------------------


def _costs_document(paid_on: date) -> tuple[Invoice, Invoice]:
    paid = pay(an_invoice("1000.00"), "1000.00", paid_on)
    costs = late_payment_costs(paid, percent="10", as_of=paid_on)
    assert costs is not None
    return paid, costs.document.finalize(number="F-2027-000002")


def test_an_unpaid_costs_document_does_not_make_the_subscription_unpaid():
    paid, document = _costs_document(date(2027, 3, 30))
    assert document.due_on == date(2027, 3, 30)
    sub = subscription()
    for day in (date(2027, 3, 31), date(2027, 4, 30)):
        assert sub.status(as_of=day, invoices=[paid, document]) is SubscriptionStatus.ACTIVE
        assert not is_overdue_on(document, day)
    # It is owed all the same: the portal lists it, with no dunning step.
    overview = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[paid, document], subscriptions=[subscription()],
        dunning_policy=POLICY, as_of=date(2027, 4, 30),
    )  # fmt: skip
    (row,) = overview.overdue
    assert (row.number, row.amount_due, row.next_step) == (
        "F-2027-000002", Money("45.48", "EUR"), None,
    )  # fmt: skip


# -- 3. a suspension whose invoice is not given is refused, never read as lifted --------------


def test_a_suspension_without_its_invoice_is_refused_naming_it():
    invoice = an_invoice()
    history = run([invoice], daily(date(2027, 3, 1), date(2027, 3, 26)))
    sub = subscription()
    with pytest.raises(InvalidArgumentError, match=r"F-2027-000001.*2027-03-25"):
        sub.status(as_of=date(2027, 3, 26), dunning=history)
    other = an_invoice(number="F-2027-000009", due_on=date(2027, 4, 10))
    with pytest.raises(InvalidArgumentError, match="F-2027-000001"):
        dunning_state("S1", invoices=[other], history=history, as_of=date(2027, 3, 26))
    assert sub.status(as_of=date(2027, 3, 26), invoices=[invoice], dunning=history) is (
        SubscriptionStatus.SUSPENDED
    )
    # Before the suspension's day, it is not in the history yet: nothing to refuse.
    assert sub.status(as_of=date(2027, 3, 24), dunning=history) is SubscriptionStatus.ACTIVE


# -- 4. a credit note counts from its issue date -------------------------------------------------


def test_a_credit_note_of_1_april_lifts_a_25_march_suspension_on_1_april_only():
    invoice = an_invoice()
    history = run([invoice], daily(date(2027, 3, 1), date(2027, 3, 31)), REMINDERS)
    note = credit_note_for(invoice, issued_on=date(2027, 4, 1)).finalize(number="A-1")
    credited = invoice.apply_credit_note(note).invoice
    sub = subscription()
    for day in (date(2027, 3, 26), date(2027, 3, 31)):
        status = sub.status(as_of=day, invoices=[credited, note], dunning=history)
        assert status is SubscriptionStatus.SUSPENDED
    state = dunning_state("S1", invoices=[credited], history=history, as_of=date(2027, 4, 2))
    assert (state.suspended_since, state.reactivated_on) == (None, date(2027, 4, 1))
    assert amount_due_on(credited, date(2027, 3, 31)) == Money("120.00", "EUR")
    assert amount_due_on(credited, date(2027, 4, 1)) == Money("0.00", "EUR")
    # A run of 31 March replayed with the credited invoice still sees it unpaid.
    actions = dunning_actions([credited], policy=REMINDERS, history=(), as_of=date(2027, 3, 31))
    assert [a.amount_due for a in actions] == [Money("120.00", "EUR")]


def test_a_partial_credit_note_counts_from_its_date():
    invoice = an_invoice()
    note = credit_note_for(
        invoice, issued_on=date(2027, 3, 12), lines=[one_time_line("g", "G", Money("20", "EUR"))]
    ).finalize(number="A-2")
    credited = invoice.apply_credit_note(note).invoice
    assert amount_due_on(credited, date(2027, 3, 11)) == Money("120.00", "EUR")
    assert amount_due_on(credited, date(2027, 3, 12)) == Money("100.00", "EUR")


# -- 5. the next step is the one the run will take -----------------------------------------------


def test_the_next_step_is_the_most_advanced_due_step_the_run_will_take():
    invoice = an_invoice()
    history = run([invoice], [date(2027, 3, 7)])
    upcoming = next_step(invoice, policy=POLICY, history=history, as_of=date(2027, 3, 30))
    assert upcoming is not None
    assert (upcoming.step.code, upcoming.on) == ("formal_notice", date(2027, 3, 30))
    taken = dunning_actions([invoice], policy=POLICY, history=history, as_of=date(2027, 3, 30))
    assert upcoming.step in [a.step for a in taken]
    overview = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[invoice], subscriptions=[subscription()],
        dunning_policy=POLICY, dunning=history, as_of=date(2027, 3, 30),
    )  # fmt: skip
    assert overview.overdue[0].next_step == POLICY.step("formal_notice")
    # Before any step's day: the first step to come, on its day.
    early = next_step(invoice, policy=POLICY, history=(), as_of=date(2027, 3, 1))
    assert early is not None
    assert (early.step.code, early.on) == ("courtesy", date(2027, 3, 7))


# -- 6. a costs document can be corrected -------------------------------------------------------


def test_the_service_corrects_a_costs_document_with_a_credit_note():
    store = MemoryStore()
    store.save_subscription(subscription())
    paid = pay(an_invoice("1000.00"), "1000.00", date(2027, 3, 30))
    costs = late_payment_costs(paid, percent="10", as_of=date(2027, 4, 1))
    assert costs is not None
    number = store.next_invoice_number(issued_on=date(2027, 4, 1))
    store.add_invoice(costs.document.finalize(number=number))
    correction = correct_invoice(store, number, issued_on=date(2027, 4, 5))
    assert correction.credit_note.total == Money("-45.48", "EUR")
    assert correction.invoice.amount_due == Money("0.00", "EUR")
    assert correction.credit_note.corrects == number


# -- 7. claims and texts promise only what can be built ------------------------------------------


def test_an_invoice_in_usd_is_claimed_no_costs_and_its_notice_promises_none():
    usd = pay(an_invoice(currency="USD"), "120.00", date(2027, 3, 20))
    assert late_payment_claims([usd], policy=COSTS, history=(), as_of=date(2027, 3, 21)) == ()
    unpaid = an_invoice("100.00", currency="USD")
    (notice,) = dunning_actions([unpaid], policy=REMINDERS, history=(), as_of=date(2027, 3, 25))
    text = plain(action_text(notice, locale="fr_FR", terms=BillingTerms(late_payment_percent="10")))
    for words in ("40 €", "indemnité", "pénalités"):
        assert words not in text


def test_terms_without_a_rate_claim_and_promise_the_indemnity_alone():
    paid = pay(an_invoice("1000.00"), "1000.00", date(2027, 3, 30))
    (claim,) = late_payment_claims([paid], policy=COSTS, history=(), as_of=date(2027, 3, 30))
    costs = late_payment_costs(
        claim.invoice, percent=BillingTerms().late_payment_percent, as_of=claim.on
    )
    assert costs is not None
    assert (costs.percent, costs.penalty, costs.total) == (
        None, Money("0.00", "EUR"), Money("40.00", "EUR"),
    )  # fmt: skip
    assert [line.kind for line in costs.document.lines] == [LineKind.RECOVERY_INDEMNITY]
    text = plain(late_payment_text(costs, locale="en_US"))
    assert "your terms set no rate, so only the fixed indemnity is claimed" in text
    (notice,) = dunning_actions(
        [an_invoice()], policy=REMINDERS, history=(), as_of=date(2027, 3, 25)
    )
    words = plain(action_text(notice, locale="en_US", terms=BillingTerms()))
    assert "a fixed indemnity for recovery costs of €40 (art. D441-5" in words
    assert "penalties" not in words


# -- 8. a retry comes before the step of the same run -------------------------------------------


def test_a_retry_comes_first_and_its_success_leaves_no_notice_nor_suspension():
    invoice = an_invoice()
    history = run([invoice], [date(2027, 3, 7)])
    day = date(2027, 3, 25)
    actions = dunning_actions([invoice], policy=POLICY, history=history, as_of=day)
    assert [a.step.code for a in actions] == ["retry", "formal_notice"]
    # The service charges the card first; the charge succeeds: the invoice is paid that day.
    retry = actions[0]
    history += retry.events
    paid = pay(invoice, "120.00", day)
    assert dunning_actions([paid], policy=POLICY, history=history, as_of=day) == ()
    sub = subscription()
    assert sub.status(as_of=day, invoices=[paid], dunning=history) is SubscriptionStatus.ACTIVE


# -- 9. the costs document explains itself after partial payments --------------------------------


def test_costs_after_partial_payments_are_explained_slice_by_slice():
    invoice = pay(an_invoice("1000.00"), "500.00", date(2027, 3, 20))
    invoice = pay(invoice, "500.00", date(2027, 3, 30))
    costs = late_payment_costs(invoice, percent="10", as_of=date(2027, 3, 31))
    assert costs is not None
    assert [(s.amount, s.days, s.penalty) for s in costs.slices] == [
        (Money("1000.00", "EUR"), 10, Money("2.74", "EUR")),
        (Money("500.00", "EUR"), 10, Money("1.37", "EUR")),
    ]
    assert costs.penalty == Money("4.11", "EUR")
    text = plain(late_payment_text(costs, locale="en_US"))
    assert "from March 11 to March 20, 2027: €1,000.00 × 10% × 10/365 = €2.74" in text
    assert "from March 21 to March 30, 2027: €500.00 × 10% × 10/365 = €1.37" in text
    assert "over 20 days" not in text
    document = plain(invoice_text(costs.document.finalize(number="F-9"), locale="en_US"))
    assert "€1,000.00 × 10% × 10/365" in document
    assert "€500.00 × 10% × 10/365" in document
    assert "3/730" not in document
    assert costs.document.total == Money("44.11", "EUR")


# -- 10. reactivation needs only what is overdue on the payment day ----------------------------


def test_paying_the_late_invoice_reactivates_though_another_is_due_that_day():
    late = an_invoice()
    history = run([late], daily(date(2027, 3, 1), date(2027, 4, 1)), REMINDERS)
    paid = pay(late, "120.00", date(2027, 4, 2))
    due_today = an_invoice(number="F-2027-000002", due_on=date(2027, 4, 2))
    state = dunning_state("S1", invoices=[paid, due_today], history=history, as_of=date(2027, 4, 2))
    assert (state.suspended_since, state.reactivated_on) == (None, date(2027, 4, 2))


# -- 11. nothing before the invoice's issue date -------------------------------------------------


def test_no_courtesy_reminder_before_the_invoice_is_issued():
    issued_on_due = draft_invoice(
        customer="ACME", currency="EUR", issued_on=DUE, due_on=DUE, subscription="S1",
        lines=[one_time_line("x", "X", Money("120", "EUR"))],
    ).finalize(number="F-1")  # fmt: skip
    assert dunning_actions([issued_on_due], policy=POLICY, history=(), as_of=date(2027, 3, 7)) == ()
    (courtesy,) = dunning_actions([issued_on_due], policy=POLICY, history=(), as_of=DUE)
    assert (courtesy.step.code, courtesy.on) == ("courtesy", DUE)
    upcoming = next_step(issued_on_due, policy=POLICY, history=(), as_of=date(2027, 3, 7))
    assert upcoming is not None
    assert (upcoming.step.code, upcoming.on) == ("courtesy", DUE)


# -- 12. the words --------------------------------------------------------------------------------


def test_a_formal_notice_on_the_due_date_says_it_is_due_today():
    step = DunningStep(code="fn", days=0, actions=(DunningActionKind.FORMAL_NOTICE,))
    (notice,) = dunning_actions(
        [an_invoice()], policy=DunningPolicy(steps=(step,)), history=(), as_of=DUE
    )
    french = plain(action_text(notice, locale="fr_FR"))
    assert "0 jour" not in french
    assert "Malgré" not in french
    assert "Votre facture F-2027-000001 arrive à échéance aujourd'hui, le 10 mars 2027" in french
    assert "0 days" not in plain(action_text(notice, locale="en_US"))


def test_despite_our_reminders_only_after_a_reminder():
    invoice = an_invoice()
    (first,) = dunning_actions([invoice], policy=REMINDERS, history=(), as_of=date(2027, 3, 25))
    assert not first.reminded
    assert plain(action_text(first, locale="fr_FR")).startswith(
        "Mise en demeure de payer Votre facture F-2027-000001, échue le 10 mars 2027, reste "
        "impayée depuis 15 jours."
    )
    history = run([invoice], [date(2027, 3, 11)], REMINDERS)
    (after,) = dunning_actions(
        [invoice], policy=REMINDERS, history=history, as_of=date(2027, 3, 25)
    )
    assert after.reminded
    assert "Malgré nos relances, votre facture" in plain(action_text(after, locale="fr_FR"))


@pytest.mark.parametrize("days", [3, "13", None, {1, 3}])
def test_retry_days_must_be_a_sequence(days: object):
    with pytest.raises(InvalidTypeError, match=r"retry_days=.* must be a sequence"):
        DunningPolicy(steps=POLICY.steps, retry_days=days)


def test_retry_days_as_a_list_are_kept():
    assert DunningPolicy(steps=(), retry_days=[1, 3]).retry_days == (1, 3)


def test_a_hand_built_action_has_no_reminder_by_default():
    step = POLICY.step("formal_notice")
    action = DunningAction(
        invoice="F-1", subscription="S1", customer="ACME", step=step, actions=step.actions,
        on=date(2027, 3, 25), due_on=DUE, amount_due=Money("120", "EUR"), days_late=15,
    )  # fmt: skip
    assert "Your invoice F-1" in plain(action_text(action, locale="en_US"))


# -- the property, stated precisely ---------------------------------------------------------------


def test_a_run_cannot_act_on_a_past_it_did_not_see():
    # Paid in full on 28 March, between two runs: the daily run suspended on 25 March, a
    # run on 10 and 30 March only never does (on 30 March the invoice is paid). By design:
    # the sparse-runs property holds for payments in full dated after the last run's day.
    paid = pay(an_invoice(), "120.00", date(2027, 3, 28))
    daily_history = run([paid], daily(DUE, date(2027, 3, 30)), REMINDERS)
    sparse_history = run([paid], [DUE, date(2027, 3, 30)], REMINDERS)
    assert any(e.does(DunningActionKind.SUSPEND) for e in daily_history)
    assert not any(e.does(DunningActionKind.SUSPEND) for e in sparse_history)
    # Both agree on the status of 30 March: the payment of 28 March lifted the suspension.
    sub = subscription()
    for history in (daily_history, sparse_history):
        status = sub.status(as_of=date(2027, 3, 30), invoices=[paid], dunning=history)
        assert status is SubscriptionStatus.ACTIVE


def test_a_payment_in_full_on_the_last_day_is_a_past_the_sparse_runs_did_not_see():
    # Paid on D itself: the daily run of D - 1 took the step of that day; a single run on D
    # sees the invoice paid and takes nothing. Hence "after D" in the property.
    step = DunningStep(code="eve", days=-1, actions=(DunningActionKind.REMIND,))
    policy = DunningPolicy(steps=(step,))
    paid = pay(an_invoice(), "120.00", DUE)
    assert [e.step for e in run([paid], daily(date(2027, 3, 8), DUE), policy)] == ["eve"]
    assert run([paid], [DUE], policy) == ()

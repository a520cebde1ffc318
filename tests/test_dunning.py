"""Dunning as pure decisions: the policy, the actions of a run, the status, late-payment costs."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money, Subscription, SubscriptionStatus
from subbill.billing import BillingTerms, draft_invoice
from subbill.dunning import (
    DunningAction,
    DunningActionKind,
    DunningEvent,
    DunningPolicy,
    DunningStep,
    EventOutcome,
    amount_due_on,
    dunning_actions,
    dunning_state,
    events_of,
    late_payment_claims,
    late_payment_costs,
    next_step,
)
from subbill.invoices import Invoice, LineKind, Payment, credit_note_for, one_time_line
from subbill.l10n import invoice_html, invoice_text, label, portal_text
from subbill.l10n.dunning import action_text, card_notice_text, late_payment_text
from subbill.payments import Card, OtherMethod, Wallet
from subbill.portal import CardExpiryNotice, card_expiry_notice, portal_overview
from subbill.storage.codec import dumps, loads
from tests.builders import invoice_due
from tests.seed_catalog import seed_catalog

DUE = date(2027, 3, 10)
POLICY = DunningPolicy.standard()
REMINDERS = DunningPolicy(steps=POLICY.steps)  # the steps alone, no card retries


def an_invoice(
    amount: str = "120.00",
    *,
    due_on: date = DUE,
    number: str = "F-2027-000001",
    subscription: str | None = "S1",
) -> Invoice:
    return invoice_due(amount, due_on=due_on, number=number, subscription=subscription)


def pay(invoice: Invoice, amount: str, on: date) -> Invoice:
    return invoice.apply_payment(Payment(amount=Money(amount, "EUR"), paid_on=on)).invoice


def run(
    invoices: list[Invoice], days: list[date], policy: DunningPolicy = POLICY
) -> tuple[list[tuple[date, list[DunningAction]]], tuple[DunningEvent, ...]]:
    """Run dunning on each of ``days``, recording every event; the actions of each run."""
    history: tuple[DunningEvent, ...] = ()
    runs = []
    for day in days:
        actions = list(dunning_actions(invoices, policy=policy, history=history, as_of=day))
        history += events_of(actions)
        runs.append((day, actions))
    return runs, history


def daily(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def subscription() -> Subscription:
    return Subscription.create(
        id="S1", customer="ACME", catalog=seed_catalog(), plan="pro", start=date(2027, 1, 10)
    )


# -- the worked examples -----------------------------------------------------------------


def test_a_120_eur_invoice_is_reminded_on_7_11_17_march_and_suspended_on_25_march():
    invoice = an_invoice()
    runs, history = run([invoice], daily(date(2027, 3, 1), date(2027, 4, 1)), REMINDERS)
    taken = [(day, a.step.code, a.actions) for day, actions in runs for a in actions]
    remind = (DunningActionKind.REMIND,)
    assert taken == [
        (date(2027, 3, 7), "courtesy", remind),
        (date(2027, 3, 11), "reminder_1", remind),
        (date(2027, 3, 17), "reminder_7", remind),
        (date(2027, 3, 25), "formal_notice",
         (DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND)),
    ]  # fmt: skip
    amounts = {a.step.code: (a.amount_due, a.days_late) for _, actions in runs for a in actions}
    assert amounts["courtesy"] == (Money("120.00", "EUR"), 0)
    assert amounts["reminder_7"] == (Money("120.00", "EUR"), 7)
    assert amounts["formal_notice"] == (Money("120.00", "EUR"), 15)
    sub = subscription()
    status = sub.status(as_of=date(2027, 3, 24), invoices=[invoice], dunning=history)
    assert status is SubscriptionStatus.UNPAID
    for day in (date(2027, 3, 25), date(2027, 4, 1)):
        status = sub.status(as_of=day, invoices=[invoice], dunning=history)
        assert status is SubscriptionStatus.SUSPENDED
    # Paid on 2 April: reactivated from 2 April.
    paid = pay(invoice, "120.00", date(2027, 4, 2))
    state = dunning_state("S1", invoices=[paid], history=history, as_of=date(2027, 4, 2))
    assert (state.suspended_since, state.reactivated_on) == (None, date(2027, 4, 2))
    assert sub.status(as_of=date(2027, 4, 2), invoices=[paid], dunning=history) is (
        SubscriptionStatus.ACTIVE
    )
    assert sub.status(as_of=date(2027, 4, 1), invoices=[paid], dunning=history) is (
        SubscriptionStatus.SUSPENDED
    )
    assert dunning_actions([paid], policy=POLICY, history=history, as_of=date(2027, 5, 1)) == ()


def test_a_card_retried_on_days_1_3_5_that_succeeds_on_day_5_is_not_retried_again():
    invoice = an_invoice()
    policy = DunningPolicy(steps=(), retry_days=(1, 3, 5, 7))
    history: tuple[DunningEvent, ...] = ()
    attempts = []
    for day in daily(DUE, DUE + timedelta(days=10)):
        for action in dunning_actions([invoice], policy=policy, history=history, as_of=day):
            history += action.events
            attempts.append(((day - DUE).days, action.attempt, action.idempotency_key))
            if (day - DUE).days == 5:  # the processor accepts the charge: the invoice is paid
                invoice = pay(invoice, str(action.amount_due.amount), day)
    assert attempts == [
        (1, 1, "dunning:F-2027-000001:retry:1"),
        (3, 2, "dunning:F-2027-000001:retry:2"),
        (5, 3, "dunning:F-2027-000001:retry:3"),
    ]
    assert [event.key for event in history] == [
        "F-2027-000001/retry/1", "F-2027-000001/retry/2", "F-2027-000001/retry/3",
    ]  # fmt: skip


def test_missed_retry_dates_collapse_into_one_attempt():
    invoice = an_invoice()
    policy = DunningPolicy(steps=(), retry_days=(1, 3, 5, 7))
    (action,) = dunning_actions([invoice], policy=policy, history=(), as_of=DUE + timedelta(6))
    assert action.attempt == 3
    assert [(e.attempt, e.outcome) for e in action.skipped] == [
        (1, EventOutcome.SKIPPED), (2, EventOutcome.SKIPPED),
    ]  # fmt: skip
    assert action.idempotency_key == "dunning:F-2027-000001:retry:3"


def test_1000_eur_paid_20_days_late_at_10_percent_owes_a_document_of_45_48():
    paid = pay(an_invoice("1000.00"), "1000.00", DUE + timedelta(days=20))
    costs = late_payment_costs(paid, percent="10", as_of=date(2027, 4, 2))
    assert costs is not None
    assert costs.days_late == 20
    assert costs.penalty == Money("5.48", "EUR")  # 1,000.00 × 10 % × 20/365
    assert costs.indemnity == Money("40.00", "EUR")
    document = costs.document
    assert document.total == Money("45.48", "EUR") == costs.total
    assert [line.kind for line in document.lines] == [
        LineKind.RECOVERY_INDEMNITY, LineKind.LATE_PENALTY,
    ]  # fmt: skip
    assert document.taxes == ()
    assert (document.customer, document.subscription) == ("ACME", "S1")
    assert document.issued_on == date(2027, 4, 2)
    assert document.number is None
    # a separate document: the late invoice itself is untouched
    assert paid.total == Money("1000.00", "EUR")
    assert paid.is_paid


def test_an_invoice_paid_late_is_claimed_its_costs_once_under_the_option():
    policy = DunningPolicy.standard(late_payment_costs=True)
    late = pay(an_invoice("1000.00"), "1000.00", DUE + timedelta(days=20))
    on_time = pay(an_invoice(number="F-2027-000002"), "120.00", DUE)
    in_part = pay(an_invoice(number="F-2027-000003"), "20.00", DUE + timedelta(days=3))
    day = DUE + timedelta(days=21)
    invoices = [late, on_time, in_part]
    (claim,) = late_payment_claims(invoices, policy=policy, history=(), as_of=day)
    assert (claim.invoice, claim.paid_on, claim.on) == (late, DUE + timedelta(days=20), day)
    assert claim.event.key == "F-2027-000001/late_payment_costs"
    terms = BillingTerms(late_payment_percent="10")  # the subscription's terms
    costs = late_payment_costs(claim.invoice, percent=terms.late_payment_percent, as_of=day)
    assert costs is not None
    assert costs.total == Money("45.48", "EUR")
    assert late_payment_claims(invoices, policy=policy, history=(claim.event,), as_of=day) == ()
    assert late_payment_claims(invoices, policy=POLICY, history=(), as_of=day) == ()
    # Before its payment, the invoice is in dunning, not claimed.
    before = DUE + timedelta(days=19)
    assert late_payment_claims(invoices, policy=policy, history=(), as_of=before) == ()


def test_runs_only_on_the_due_date_and_20_days_later_skip_the_reminders_of_days_1_and_7():
    invoice = an_invoice("1000.00")
    runs, history = run([invoice], [DUE, DUE + timedelta(days=20)], REMINDERS)
    (first,) = runs[0][1]
    assert first.step.code == "courtesy"
    assert first.skipped == ()
    (second,) = runs[1][1]
    assert second.step.code == "formal_notice"
    assert DunningActionKind.SUSPEND in second.actions
    assert second.days_late == 20
    assert [(e.step, e.outcome) for e in second.skipped] == [
        ("reminder_1", EventOutcome.SKIPPED), ("reminder_7", EventOutcome.SKIPPED),
    ]  # fmt: skip
    assert [e.key for e in history] == [
        "F-2027-000001/courtesy",
        "F-2027-000001/reminder_1",
        "F-2027-000001/reminder_7",
        "F-2027-000001/formal_notice",
    ]
    status = subscription().status(as_of=DUE + timedelta(20), invoices=[invoice], dunning=history)
    assert status is SubscriptionStatus.SUSPENDED


# -- the rules of a run --------------------------------------------------------------------------


def test_a_partial_payment_keeps_the_remainder_in_dunning():
    invoice = pay(an_invoice(), "50.00", DUE + timedelta(days=2))
    (action,) = dunning_actions([invoice], policy=REMINDERS, history=(), as_of=DUE + timedelta(8))
    assert action.step.code == "reminder_7"
    assert action.amount_due == Money("70.00", "EUR")


def test_a_payment_dated_after_the_run_is_not_counted_on_it():
    invoice = pay(an_invoice(), "120.00", DUE + timedelta(days=5))
    (action,) = dunning_actions([invoice], policy=REMINDERS, history=(), as_of=DUE + timedelta(1))
    assert action.amount_due == Money("120.00", "EUR")
    assert amount_due_on(invoice, DUE + timedelta(days=5)) == Money("0.00", "EUR")


def test_a_credited_invoice_gets_no_action():
    invoice = an_invoice()
    note = credit_note_for(invoice, issued_on=DUE).finalize(number="F-2027-000002")
    credited = invoice.apply_credit_note(note).invoice
    assert dunning_actions([credited], policy=POLICY, history=(), as_of=DUE + timedelta(30)) == ()


def test_a_draft_and_a_late_payment_document_are_never_dunned():
    draft = draft_invoice(
        customer="ACME", currency="EUR", issued_on=date(2027, 2, 1), due_on=DUE,
        lines=[one_time_line("pro", "Plan Pro", Money("10", "EUR"))],
    )  # fmt: skip
    paid = pay(an_invoice("1000.00"), "1000.00", DUE + timedelta(days=20))
    costs = late_payment_costs(paid, percent="10", as_of=DUE + timedelta(days=20))
    assert costs is not None
    claim = costs.document.finalize(number="F-2027-000003")
    later = DUE + timedelta(days=90)
    assert dunning_actions([draft, claim], policy=POLICY, history=(), as_of=later) == ()


def test_the_next_step_is_the_first_not_taken():
    invoice = an_invoice()
    _, history = run([invoice], [date(2027, 3, 12)], REMINDERS)
    upcoming = next_step(invoice, policy=REMINDERS, history=history, as_of=date(2027, 3, 12))
    assert upcoming is not None
    assert (upcoming.step.code, upcoming.on) == ("reminder_7", date(2027, 3, 17))
    paid = pay(invoice, "120.00", date(2027, 3, 12))
    assert next_step(paid, policy=REMINDERS, history=history, as_of=date(2027, 3, 12)) is None


def test_a_cancel_step_cancels_the_subscription_on_its_day():
    cancel = DunningStep(code="cancel", days=30, actions=(DunningActionKind.CANCEL,))
    policy = DunningPolicy(steps=(*POLICY.steps, cancel))
    invoice = an_invoice()
    _, history = run([invoice], [DUE + timedelta(days=40)], policy)
    sub = subscription()
    assert sub.status(as_of=DUE + timedelta(days=40), invoices=[invoice], dunning=history) is (
        SubscriptionStatus.CANCELLED
    )
    # The service ends the subscription with the usual verb, on the action's day.
    ended = sub.cancel(on=DUE + timedelta(days=40), at_period_end=False)
    assert ended.ends_on == DUE + timedelta(days=40)


def test_a_run_that_skips_the_suspending_step_still_suspends():
    # Found by the run-sequence property: the skipped formal notice took its suspension with it.
    late = DunningStep(code="last_reminder", days=20, actions=(DunningActionKind.REMIND,))
    policy = DunningPolicy(steps=(*POLICY.steps, late))
    invoice = an_invoice()
    runs, history = run([invoice], [DUE + timedelta(days=22)], policy)
    (action,) = runs[0][1]
    assert action.step.code == "last_reminder"
    assert action.actions == (DunningActionKind.REMIND, DunningActionKind.SUSPEND)
    assert "formal_notice" in {e.step for e in action.skipped}
    status = subscription().status(as_of=DUE + timedelta(22), invoices=[invoice], dunning=history)
    assert status is SubscriptionStatus.SUSPENDED


def test_a_suspension_before_the_due_date_lasts_until_its_invoice_is_paid():
    # Found by the run-sequence property: suspended on the due date, a daily run lifted it
    # at once (nothing was overdue yet) where a later run kept it.
    early = DunningStep(code="suspend", days=0, actions=(DunningActionKind.SUSPEND,))
    policy = DunningPolicy(steps=(early,))
    invoice = an_invoice()
    _, history = run([invoice], daily(DUE - timedelta(days=1), DUE + timedelta(days=3)), policy)
    sub = subscription()
    for day in (DUE, DUE + timedelta(days=3)):
        assert sub.status(as_of=day, invoices=[invoice], dunning=history) is (
            SubscriptionStatus.SUSPENDED
        )
    paid = pay(invoice, "120.00", DUE + timedelta(days=4))
    state = dunning_state("S1", invoices=[paid], history=history, as_of=DUE + timedelta(days=9))
    assert state.reactivated_on == DUE + timedelta(days=4)


def test_a_later_suspension_does_not_hold_back_an_earlier_reactivation():
    # Invoice 1 suspended on 25 March and paid on 2 April; invoice 2 (due 1 May, not due on
    # 2 April) suspended on 10 May: reactivated on 2 April, suspended again from 10 May.
    first = an_invoice()
    second = an_invoice(number="F-2027-000002", due_on=date(2027, 5, 1))
    policy = DunningPolicy(steps=(POLICY.steps[-1],))
    _, history = run([first, second], [date(2027, 3, 25), date(2027, 5, 16)], policy)
    paid = [pay(first, "120.00", date(2027, 4, 2)), second]
    april = dunning_state("S1", invoices=paid, history=history, as_of=date(2027, 4, 20))
    assert (april.suspended_since, april.reactivated_on) == (None, date(2027, 4, 2))
    may = dunning_state("S1", invoices=paid, history=history, as_of=date(2027, 5, 20))
    assert (may.suspended_since, may.reactivated_on) == (date(2027, 5, 16), date(2027, 4, 2))


def test_suspended_comes_after_expired_and_before_unpaid_and_a_pending_cancellation():
    invoice = an_invoice()
    day = DUE + timedelta(days=20)
    _, history = run([invoice], [day], REMINDERS)
    sub = subscription()
    assert sub.status(as_of=day, invoices=[invoice]) is SubscriptionStatus.UNPAID
    assert sub.status(as_of=day, invoices=[invoice], dunning=history) is (
        SubscriptionStatus.SUSPENDED
    )
    ending = sub.cancel(on=day)  # at the period's end: still running on ``day``
    assert ending.status(as_of=day, invoices=[invoice], dunning=history) is (
        SubscriptionStatus.SUSPENDED
    )
    expired = attrs.evolve(sub, end=day)
    assert expired.status(as_of=day, invoices=[invoice], dunning=history) is (
        SubscriptionStatus.EXPIRED
    )
    assert list(SubscriptionStatus).index(SubscriptionStatus.SUSPENDED) + 1 == list(
        SubscriptionStatus
    ).index(SubscriptionStatus.UNPAID)


def test_other_subscriptions_events_do_not_suspend_this_one():
    invoice = an_invoice(subscription="S2")
    _, history = run([invoice], [DUE + timedelta(days=20)], REMINDERS)
    sub = subscription()
    status = sub.status(as_of=DUE + timedelta(days=20), invoices=[invoice], dunning=history)
    assert status is SubscriptionStatus.ACTIVE


# -- stored and read back ------------------------------------------------------------------------


def test_events_and_the_policy_round_trip_through_the_codec():
    _, history = run([an_invoice()], [DUE + timedelta(days=20)])
    for value in (*history, POLICY, DunningPolicy.standard(late_payment_costs=True)):
        assert loads(dumps(value), type(value)) == value
    assert '"outcome":"skipped"' in dumps(history[0])


def test_terms_without_a_penalty_rate_read_back_equal_and_omit_it():
    terms = BillingTerms()
    assert "late_payment_percent" not in dumps(terms)
    assert loads(dumps(terms), BillingTerms) == terms
    sub = subscription()
    assert "late_payment_percent" not in dumps(sub)
    assert loads(dumps(sub), Subscription) == sub


# -- properties ----------------------------------------------------------------------------------

# What a step may do (a step never retries the card: the retries are the policy's retry_days).
_KINDS = [kind for kind in DunningActionKind if kind is not DunningActionKind.RETRY_PAYMENT]


@st.composite
def policies(draw: st.DrawFn) -> DunningPolicy:
    offsets = sorted(draw(st.sets(st.integers(-5, 40), min_size=1, max_size=5)))
    steps = tuple(
        DunningStep(
            code=f"step_{offset}",
            days=offset,
            actions=tuple(draw(st.sets(st.sampled_from(_KINDS), min_size=1, max_size=2))),
        )
        for offset in offsets
    )
    retries = tuple(sorted(draw(st.sets(st.integers(0, 20), max_size=4))))
    return DunningPolicy(steps=steps, retry_days=retries)


@st.composite
def unpaid_invoices(draw: st.DrawFn, *, end: date) -> list[Invoice]:
    """Invoices due around March 2027, paid in part on any day, maybe in full after ``end``
    (the days 1 to 3 after it): the payments the property holds for."""
    invoices = []
    for index in range(draw(st.integers(1, 3))):
        due = DUE + timedelta(days=draw(st.integers(-10, 10)))
        invoice = an_invoice("120.00", due_on=due, number=f"F-2027-{index + 1:06d}",
                             subscription=draw(st.sampled_from(["S1", "S2"])))  # fmt: skip
        if draw(st.booleans()):  # a part paid, on any day
            paid_on = due + timedelta(days=draw(st.integers(-5, 40)))
            invoice = pay(invoice, str(draw(st.integers(1, 119))), paid_on)
        if draw(st.booleans()):  # the rest paid after the last run's day
            rest_on = end + timedelta(days=draw(st.integers(1, 3)))
            invoice = pay(invoice, str(invoice.amount_due.amount), rest_on)
        invoices.append(invoice)
    return invoices


def _most_advanced(history: tuple[DunningEvent, ...], policy: DunningPolicy) -> dict[str, int]:
    ranks = {step.code: rank for rank, step in enumerate(policy.steps)}
    reached: dict[str, int] = {}
    for event in history:
        if event.outcome is EventOutcome.TAKEN and event.step in ranks:
            reached[event.invoice] = max(reached.get(event.invoice, -1), ranks[event.step])
    return reached


@settings(max_examples=150, deadline=None)
@given(data=st.data(), policy=policies(), end_offset=st.integers(-12, 60))
def test_any_increasing_run_dates_ending_on_a_day_reach_the_daily_runs_steps_and_status(
    data: st.DataObject, policy: DunningPolicy, end_offset: int
):
    # Precisely: for payments in part on any day, and payments in full dated after D. A
    # payment in full dated on D or before, after a run that did not happen, stops dunning
    # where it stood: a run cannot act on a past it did not see
    # (test_dunning_review.test_a_run_cannot_act_on_a_past_it_did_not_see).
    end = DUE + timedelta(days=end_offset)
    invoices = data.draw(unpaid_invoices(end=end))
    start = DUE - timedelta(days=20)
    every_day = daily(start, end)
    chosen = data.draw(st.sets(st.sampled_from(every_day[:-1]))) if len(every_day) > 1 else set()
    sparse = [*sorted(chosen), end]
    _, by_day = run(invoices, every_day, policy)
    _, by_runs = run(invoices, sparse, policy)
    assert _most_advanced(by_runs, policy) == _most_advanced(by_day, policy)
    assert {e.key for e in by_runs} == {e.key for e in by_day}  # same steps taken or skipped
    last = lambda history, n: max(  # noqa: E731
        (e.attempt or 0 for e in history if e.invoice == n and e.outcome is EventOutcome.TAKEN),
        default=0,
    )
    for invoice in invoices:
        assert last(by_runs, invoice.number) == last(by_day, invoice.number)
    sub = subscription()
    for sub_id in ("S1", "S2"):
        sub = Subscription.create(id=sub_id, customer="ACME", catalog=seed_catalog(),
                                  plan="pro", start=date(2027, 1, 10))  # fmt: skip
        assert sub.status(as_of=end, invoices=invoices, dunning=by_runs) is sub.status(
            as_of=end, invoices=invoices, dunning=by_day
        )


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    policy=policies(),
    days=st.lists(st.integers(-10, 60), min_size=1, max_size=12),
)
def test_no_step_is_taken_twice(data: st.DataObject, policy: DunningPolicy, days: list[int]):
    # Runs in any order, the same day twice included.
    invoices = data.draw(unpaid_invoices(end=DUE + timedelta(days=60)))
    _, history = run(invoices, [DUE + timedelta(days=n) for n in days], policy)
    keys = [event.key for event in history]
    assert len(keys) == len(set(keys))


@settings(max_examples=150, deadline=None)
@given(
    policy=policies(),
    paid_after=st.lists(st.integers(-5, 40), min_size=1, max_size=3),
    runs=st.sets(st.integers(-10, 60), min_size=1, max_size=15),
)
def test_a_paid_invoice_never_gets_an_action_dated_after_its_payment(
    policy: DunningPolicy, paid_after: list[int], runs: set[int]
):
    invoices = [
        pay(an_invoice(number=f"F-2027-{n:06d}"), "120.00", DUE + timedelta(days=days))
        for n, days in enumerate(paid_after, start=1)
    ]
    paid_on = {invoice.number: invoice.payments[-1].paid_on for invoice in invoices}
    results, _ = run(invoices, [DUE + timedelta(days=n) for n in sorted(runs)], policy)
    for day, actions in results:
        for action in actions:
            assert day < paid_on[action.invoice]
            assert action.on == day


# -- words -------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def _actions_of(policy: DunningPolicy, days: list[date]) -> list[DunningAction]:
    runs, _ = run([an_invoice()], days, policy)
    return [action for _, actions in runs for action in actions]


def test_each_reminder_and_the_formal_notice_in_french():
    courtesy, on_time, late, notice = _actions_of(
        DunningPolicy(steps=(*POLICY.steps[:1], DunningStep(code="due", days=0,
                      actions=(DunningActionKind.REMIND,)), *POLICY.steps[2:])),
        [date(2027, 3, 7), DUE, date(2027, 3, 17), date(2027, 3, 25)],
    )  # fmt: skip
    assert _plain(action_text(courtesy, locale="fr_FR")) == (
        "Rappel : votre facture F-2027-000001 d'un montant de 120,00 € arrive à échéance le "
        "10 mars 2027. Si vous l'avez déjà réglée, merci de ne pas tenir compte de ce message."
    )
    assert _plain(action_text(on_time, locale="fr_FR")).endswith(
        "arrive à échéance aujourd'hui, le 10 mars 2027."
    )
    assert _plain(action_text(late, locale="fr_FR")) == (
        "Relance : votre facture F-2027-000001, échue le 10 mars 2027, reste impayée depuis "
        "7 jours. Montant restant dû : 120,00 €. Merci de procéder à son règlement dès "
        "réception de ce message."
    )
    text = action_text(notice, locale="fr_FR", terms=BillingTerms(late_payment_percent="10"))
    assert text.startswith("Mise en demeure de payer\n\nMalgré nos relances")
    plain = _plain(text)
    assert "reste impayée depuis 15 jours" in plain
    assert "la somme de 120,00 € dès réception" in plain
    assert "pénalités de retard au taux annuel de 10 %" in plain
    assert "indemnité forfaitaire pour frais de recouvrement de 40 €" in plain
    assert plain.endswith(
        "L'accès au service est suspendu à compter du 25 mars 2027, jusqu'au règlement de "
        "toutes les sommes dues."
    )
    legal = _plain(action_text(notice, locale="fr_FR", terms=BillingTerms()))
    # No rate in the terms: the claim builds the indemnity alone, and the notice says so.
    assert "indemnité forfaitaire pour frais de recouvrement de 40 € (art. D441-5" in legal
    assert "pénalités" not in legal
    assert "Banque centrale" not in legal
    assert "indemnité" not in _plain(action_text(notice, locale="fr_FR"))
    assert all(len(line) <= 92 for line in text.splitlines())


def test_the_formal_notice_and_a_retry_in_english():
    runs, _ = run([an_invoice()], [date(2027, 3, 25)], POLICY)
    retry, notice = runs[0][1]  # the retry first (a success makes the notice moot)
    english = _plain(action_text(notice, locale="en_US"))
    # The first run of this invoice: no reminder was sent, so no « despite our reminders ».
    assert english.startswith("Formal notice to pay Your invoice F-2027-000001, due on")
    assert "has been unpaid for 15 days" in english
    assert _plain(action_text(retry, locale="en_US")) == (
        "New card payment of €120.00 for invoice F-2027-000001 (attempt 4)."
    )
    assert _plain(action_text(retry, locale="fr_FR")) == (
        "Nouvelle tentative de paiement par carte de 120,00 € pour la facture F-2027-000001 "
        "(tentative n° 4)."
    )


def test_the_suspended_status_and_a_cancellation_have_words():
    assert label(SubscriptionStatus.SUSPENDED, locale="fr_FR") == "Suspendu"
    assert label(SubscriptionStatus.SUSPENDED, locale="en_US") == "Suspended"
    cancel = DunningStep(code="cancel", days=30, actions=(DunningActionKind.CANCEL,))
    (action,) = _actions_of(DunningPolicy(steps=(cancel,)), [DUE + timedelta(days=30)])
    assert _plain(action_text(action, locale="fr_FR")) == (
        "L'abonnement est résilié à compter du 9 avril 2027."
    )


def test_the_late_payment_document_explains_itself():
    paid = pay(an_invoice("1000.00"), "1000.00", DUE + timedelta(days=20))
    costs = late_payment_costs(paid, percent="10", as_of=date(2027, 3, 30))
    assert costs is not None
    english = _plain(late_payment_text(costs, locale="en_US"))
    assert "Invoice F-2027-000001, due on March 10, 2027: 20 days late." in english
    assert "at an annual rate of 10% (a 365-day year): €5.48" in english
    assert "from March 11 to March 30, 2027: €1,000.00 × 10% × 20/365 = €5.48" in english
    assert "Total due: €45.48" in english
    document = _plain(invoice_text(costs.document.finalize(number="F-2027-000002"),
                                   locale="fr_FR"))  # fmt: skip
    assert "Indemnité forfaitaire pour frais de recouvrement (F-2027-000001)" in document
    assert "de la facture F-2027-000001 : 1 000,00 € × 10 % × 20/365" in document
    assert "Total TTC 45,48 €" in document


def test_an_invoice_states_the_penalty_rate_its_terms_set():
    invoice = an_invoice()
    with_rate = invoice_text(invoice, locale="fr_FR", terms=BillingTerms(late_payment_percent="10"))
    assert with_rate.splitlines()[-2:] == [
        "Pénalités de retard : 10 % par an (art. L441-10 du Code de commerce)",
        (
            "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : "
            "40 € (art. L441-10 et D441-5 du Code de commerce)"
        ),
    ]
    assert "Pénalités" not in invoice_text(invoice, locale="fr_FR", terms=BillingTerms())
    assert invoice_text(invoice, locale="fr_FR") == invoice_text(
        invoice, locale="fr_FR", terms=BillingTerms()
    )
    html = invoice_html(invoice, locale="en_US", terms=BillingTerms(late_payment_percent="10"))
    assert "Late-payment penalties: 10% a year" in html


def test_a_pdf_without_the_seller_states_the_penalty_rate_of_the_terms():
    pytest.importorskip("fpdf")
    pypdf = pytest.importorskip("pypdf")
    import io  # noqa: PLC0415

    from subbill.customers import Customer, CustomerKind  # noqa: PLC0415
    from subbill.pdf import render_invoice_pdf  # noqa: PLC0415

    def text_of(document: bytes) -> str:
        pages = pypdf.PdfReader(io.BytesIO(document)).pages
        return _plain(" ".join(page.extract_text() for page in pages))

    terms = BillingTerms(late_payment_percent="10")
    shown = text_of(render_invoice_pdf(an_invoice(), locale="fr_FR", terms=terms))
    assert "Pénalités de retard : 10 % par an" in shown
    paid = pay(an_invoice("1000.00"), "1000.00", DUE + timedelta(days=20))
    costs = late_payment_costs(paid, percent="10", as_of=DUE + timedelta(days=20))
    assert costs is not None
    claim = text_of(render_invoice_pdf(costs.document.finalize(number="F-2027-000002"),
                                       locale="fr_FR"))  # fmt: skip
    # with its quantity and unit price, as the text document shows them (review 83)
    assert (
        "Indemnité forfaitaire pour frais de recouvrement (F-2027-000001) 1 40,00 € 40,00 €"
        in claim
    )
    assert "Pénalités de retard (F-2027-000001) du 11 au 30 mars 2027 5,48 €" in claim
    consumer = Customer(id="ACME", kind=CustomerKind.CONSUMER)
    to_consumer = render_invoice_pdf(an_invoice(), locale="fr_FR", terms=terms, buyer=consumer)
    assert "Pénalités" not in text_of(to_consumer)


# -- the portal ----------------------------------------------------------------------------------


def test_the_portal_shows_what_is_overdue_and_the_next_step():
    invoice = an_invoice()
    _, history = run([invoice], [date(2027, 3, 12)], POLICY)
    overview = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[invoice], subscriptions=[subscription()],
        dunning_policy=POLICY, dunning=history, as_of=date(2027, 3, 12),
    )  # fmt: skip
    (row,) = overview.overdue
    assert (row.number, row.amount_due, row.days_late) == (
        "F-2027-000001", Money("120.00", "EUR"), 2,
    )  # fmt: skip
    assert (row.next_step.code, row.next_step_on) == ("reminder_7", date(2027, 3, 17))
    assert overview.subscriptions[0].status is SubscriptionStatus.UNPAID
    text = _plain(portal_text(overview, locale="fr_FR"))
    assert "Impayés Numéro Échéance Reste à payer Retard Prochaine étape" in text
    assert "F-2027-000001 10/03/2027 120,00 € 2 jours relance le 17/03/2027" in text
    # Once the formal notice is taken: suspended, and no step left.
    _, history = run([invoice], [date(2027, 3, 12), date(2027, 3, 26)], POLICY)
    later = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[invoice], subscriptions=[subscription()],
        dunning_policy=POLICY, dunning=history, as_of=date(2027, 3, 26),
    )  # fmt: skip
    assert later.subscriptions[0].status is SubscriptionStatus.SUSPENDED
    assert later.overdue[0].next_step is None
    assert "Suspendu" in portal_text(later, locale="fr_FR")


def test_a_card_expiring_before_the_next_billing_date_gets_a_notice():
    sub = attrs.evolve(subscription(), payment_method="pm_visa")
    wallet = Wallet(customer="ACME", default="pm_visa", methods=[
        Card(id="pm_visa", brand="Visa", last4="4242", exp_month=3, exp_year=2027)])  # fmt: skip
    notice = card_expiry_notice(sub, wallet, as_of=date(2027, 3, 20), catalog=seed_catalog())
    assert notice == CardExpiryNotice(
        subscription="S1", method="pm_visa", card="Visa •••• 4242 (03/2027)",
        expires_on=date(2027, 3, 31), next_billing=date(2027, 4, 10),
    )  # fmt: skip
    assert card_expiry_notice(sub, wallet, as_of=date(2027, 2, 20), catalog=seed_catalog()) is None
    transfer = Wallet(customer="ACME", default="pm_visa", methods=[
        OtherMethod(id="pm_visa", kind="transfer", label="Virement")])  # fmt: skip
    by_transfer = card_expiry_notice(sub, transfer, as_of=date(2027, 3, 20), catalog=seed_catalog())
    assert by_transfer is None
    assert card_notice_text(notice, locale="fr_FR").replace("\xa0", " ") == (
        "Votre carte Visa •••• 4242 (03/2027) expire le 31 mars 2027, avant votre prochaine "
        "facture\ndu 10 avril 2027 : merci de la mettre à jour."
    )
    overview = portal_overview("ACME", catalog=seed_catalog(), subscriptions=[sub],
                               wallet=wallet, as_of=date(2027, 3, 20))  # fmt: skip
    assert overview.card_notices == (notice,)
    assert "Cartes à mettre à jour" in portal_text(overview, locale="fr_FR")


@settings(max_examples=100, deadline=None)
@given(
    policy=policies(),
    runs=st.sets(st.integers(-5, 40), min_size=1, max_size=10),
    paid_after=st.integers(1, 60),
)
def test_paying_everything_due_reactivates_from_the_payment_date(
    policy: DunningPolicy, runs: set[int], paid_after: int
):
    invoices = [an_invoice(), an_invoice(number="F-2027-000002", due_on=DUE + timedelta(5))]
    paid_on = DUE + timedelta(days=paid_after)
    days = [DUE + timedelta(days=n) for n in sorted(runs) if DUE + timedelta(days=n) < paid_on]
    _, history = run(invoices, days, policy)
    paid = [pay(invoice, "120.00", paid_on) for invoice in invoices]
    state = dunning_state("S1", invoices=paid, history=history, as_of=paid_on)
    assert not state.is_suspended
    suspended = any(event.does(DunningActionKind.SUSPEND) for event in history)
    assert state.reactivated_on == (paid_on if suspended else None)
    status = subscription().status(as_of=paid_on, invoices=paid, dunning=history)
    assert status is not SubscriptionStatus.SUSPENDED


@settings(max_examples=150, deadline=None)
@given(
    amount=st.integers(1, 10**7),
    percent=st.decimals(min_value="0.01", max_value="100", places=2),
    payments=st.lists(st.tuples(st.integers(1, 60), st.integers(1, 99)), max_size=3),
    as_of=st.integers(1, 400),
)
def test_late_payment_costs_are_the_indemnity_plus_each_unpaid_slices_penalty(
    amount: int, percent: Decimal, payments: list[tuple[int, int]], as_of: int
):
    # The penalty: per stretch an amount stayed unpaid, amount × rate × days / 365 rounded
    # like any line, so that the document's lines (its explanation) add up to it; within half
    # a cent per slice of the exact rate × Σ (amount unpaid × its days) / 365.
    invoice = an_invoice(f"{amount}.00")
    for days, share in payments:
        part = (invoice.amount_due * share / 100).rounded()
        if part.is_positive() and part < invoice.amount_due:
            invoice = pay(invoice, str(part.amount), DUE + timedelta(days=days))
    day = DUE + timedelta(days=as_of)
    costs = late_payment_costs(invoice, percent=percent, as_of=day)
    assert costs is not None
    unpaid = [amount_due_on(invoice, DUE + timedelta(days=n)) for n in range(as_of)]
    stretches: list[tuple[Money, int]] = []
    for owed in unpaid:  # consecutive days with the same amount unpaid: one slice
        if stretches and stretches[-1][0] == owed:
            stretches[-1] = (owed, stretches[-1][1] + 1)
        else:
            stretches.append((owed, 1))
    rate = Fraction(percent) / 100
    assert [(s.amount, s.days) for s in costs.slices] == stretches
    assert [s.penalty for s in costs.slices] == [
        (owed * (rate * days / 365)).rounded() for owed, days in stretches
    ]
    assert costs.penalty == Money.total((s.penalty for s in costs.slices), currency="EUR")
    penalties = [line.amount for line in costs.document.lines if line.kind is LineKind.LATE_PENALTY]
    assert penalties == [s.penalty for s in costs.slices]
    exact = sum((Fraction(a.amount) for a in unpaid), Fraction(0)) * rate / 365
    assert abs(Fraction(costs.penalty.amount) - exact) <= Fraction(1, 200) * len(stretches)
    assert costs.document.total == costs.penalty + Money("40.00", "EUR") == costs.total
    assert costs.days_late == as_of

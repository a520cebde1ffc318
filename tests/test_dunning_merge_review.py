"""Issue 17: defects a review found where the dunning fixes and the open-invoice reads met.

N1: a policy step with ``retry_payment`` charged nothing yet told the customer a card
payment was made — a step is refused that action (card retries are ``retry_days``).
N2: a subscription dunning cancelled through an invoice paid since was suspended again by a
run under a policy without a cancel step (the run read only its own invoices' events).
N3: a run dated before the last dunning event was accepted when that event's invoice was
paid or credited since (the run read only the open invoices' events).
"""

from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money
from subbill.billing import draft_invoice
from subbill.dunning import DunningActionKind, DunningPolicy, DunningStep, dunning_actions
from subbill.dunning_service import run_dunning
from subbill.errors import InputError, InvalidArgumentError, InvalidStateError
from subbill.invoices import Payment, one_time_line
from subbill.service import pay_invoice
from subbill.storage import MemoryStore
from tests.test_dunning_store import KINDS, store_of

STANDARD = attrs.evolve(DunningPolicy.standard(), retry_days=())
WITH_CANCEL = attrs.evolve(
    STANDARD,
    steps=(
        *STANDARD.steps,
        DunningStep(code="cancel", days=30, actions=(DunningActionKind.CANCEL,)),
    ),
)


def day(month: int, number: int) -> date:
    return date(2027, month, number)


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    opened = store_of(request.param, tmp_path, request)
    yield opened
    if request.param != "memory":
        opened.close()


def add(store, *, due: date, issued: date, subscription: str = "S1") -> str:
    """A numbered invoice of 120.00 EUR of ``subscription``; its number."""
    with store.transaction():
        number = store.next_invoice_number(issued_on=issued)
        store.add_invoice(
            draft_invoice(
                customer="ACME",
                currency="EUR",
                issued_on=issued,
                due_on=due,
                subscription=subscription,
                lines=[one_time_line("pro", "Pro", Money("120.00", "EUR"))],
            ).finalize(number=number)
        )
    return number


def paid(store, number: str, on: date, amount: str = "120.00") -> None:
    pay_invoice(
        store, number, Payment(amount=Money(amount, "EUR"), paid_on=on, reference=f"t-{on}")
    )


# -- N1: a step never retries the card ------------------------------------------------------------


def test_a_policy_step_that_retries_the_card_is_refused():
    with pytest.raises(InvalidArgumentError, match=r"step 'card_again'.*retry_days"):
        DunningStep(code="card_again", days=2, actions=(DunningActionKind.RETRY_PAYMENT,))
    bad = {"steps": [{"code": "card_again", "days": 2, "actions": ["retry_payment"]}]}
    with pytest.raises(InputError) as raised:  # told with the file's other mistakes
        DunningPolicy.from_mapping({**bad, "retry_dayz": [1]})
    assert str(raised.value).splitlines() == [
        (
            "steps[0].actions[0]: 'retry_payment' must be 'remind', 'formal_notice', 'suspend' "
            "or 'cancel'"
        ),
        "retry_dayz: unknown key, did you mean 'retry_days'?",
    ]
    # The retries of the schedule are what charges the card.
    assert DunningPolicy.from_mapping({"steps": [], "retry_days": [2]}).retry_days == (2,)


# -- N2: a subscription cancelled by dunning, under a policy without a cancel step ----------------


@pytest.mark.parametrize("first_paid", [True, False])
def test_a_subscription_cancelled_by_dunning_is_not_suspended_by_a_run_without_a_cancel_step(
    store, first_paid
):
    first = add(store, due=day(3, 10), issued=day(2, 8))
    second = add(store, due=day(4, 1), issued=day(3, 1))
    cancelled = run_dunning(store, as_of=day(4, 9), policy=WITH_CANCEL)
    assert [(a.key, a.actions) for a in cancelled.actions] == [
        (f"{first}/cancel", (DunningActionKind.CANCEL, DunningActionKind.SUSPEND)),
        (f"{second}/reminder_7", (DunningActionKind.REMIND,)),
    ]
    if first_paid:
        paid(store, first, day(4, 10))
    later = run_dunning(store, as_of=day(4, 16), policy=STANDARD)
    # The formal notice goes on (the money is owed); no suspension of a cancelled subscription.
    assert [(a.key, a.actions) for a in later.actions] == [
        (f"{second}/formal_notice", (DunningActionKind.FORMAL_NOTICE,)),
    ]


# -- N3: a run dated before the last dunning event, whatever its invoice ------------------------


def test_a_run_dated_before_a_costs_claim_of_a_paid_invoice_is_refused(store):
    costs = DunningPolicy.standard(late_payment_costs=True)
    number = add(store, due=day(3, 10), issued=day(2, 8))
    run_dunning(store, as_of=day(3, 25), policy=costs)
    paid(store, number, day(3, 26))
    run_dunning(store, as_of=day(3, 30), policy=costs)  # the claim's event: 30 March
    assert store.last_dunning_event_on() == day(3, 30)
    with pytest.raises(InvalidStateError, match=r"2027-03-30, the date of the last dunning event"):
        run_dunning(store, as_of=day(3, 27), policy=DunningPolicy.standard())


def test_a_run_dated_before_a_notice_of_an_invoice_paid_since_is_refused_and_records_nothing(
    store,
):
    first = add(store, due=day(3, 10), issued=day(2, 8))
    run_dunning(store, as_of=day(3, 25), policy=STANDARD)  # its formal notice on 25 March
    paid(store, first, day(3, 20))  # a transfer recorded late, dated before the notice
    add(store, due=day(3, 18), issued=day(3, 1))
    events = store.dunning_events()
    with pytest.raises(InvalidStateError, match=r"2027-03-25, the date of the last dunning event"):
        run_dunning(store, as_of=day(3, 21), policy=STANDARD)
    assert store.dunning_events() == events


def test_a_store_without_dunning_events_has_no_last_event_day(store):
    assert store.last_dunning_event_on() is None


# -- property: a run reading the open invoices decides as one reading everything ---------------


@st.composite
def lives(draw):
    """Invoices of two subscriptions; runs on increasing days, each under either policy,
    with payments (full or partial) between them."""
    dues = draw(st.lists(st.integers(0, 30), min_size=2, max_size=5))
    owners = draw(st.lists(st.sampled_from(["S1", "S2"]), min_size=len(dues), max_size=len(dues)))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(1, 12),  # days since the last run
                st.booleans(),  # under the policy that cancels
                st.one_of(st.none(), st.tuples(st.integers(0, 4), st.booleans())),  # a payment
            ),
            min_size=1,
            max_size=8,
        )
    )
    return list(zip(dues, owners, strict=True)), steps


@settings(max_examples=60, deadline=None)
@given(life=lives())
def test_a_run_reading_open_invoices_decides_as_one_reading_everything_whatever_each_runs_policy(
    life,
):
    invoices, steps = life
    store = MemoryStore()
    numbers = [
        add(store, due=day(3, 1) + timedelta(days=due), issued=day(2, 1), subscription=owner)
        for due, owner in invoices
    ]
    on = day(3, 1)
    for gap, cancels, payment in steps:
        on += timedelta(days=gap)
        if payment is not None:
            index, full = payment
            number = numbers[index % len(numbers)]
            due = store.get_invoice(number).amount_due
            if due.is_positive():
                amount = due if full else min(due, Money("30.00", "EUR"))
                pay_invoice(store, number, Payment(amount=amount, paid_on=on, reference=f"p-{on}"))
        policy = WITH_CANCEL if cancels else STANDARD
        everything = dunning_actions(
            store.invoices(), policy=policy, history=store.dunning_events(), as_of=on
        )
        report = run_dunning(store, as_of=on, policy=policy)
        assert sorted((a.key, a.actions) for a in report.actions) == sorted(
            (a.key, a.actions) for a in everything
        )


# -- a new user's walk: the bill-run summary told a credit note as an invoice --------------------


def test_a_bill_run_counts_its_credit_notes_apart_and_says_so():
    from subbill.cli import _bill_run_summary  # noqa: PLC0415  (the CLI's summary line)
    from subbill.service import run_billing  # noqa: PLC0415
    from tests.test_dunning_run_review import CATALOG, subscription  # noqa: PLC0415

    store = MemoryStore()
    store.save_catalog(CATALOG)
    store.save_subscription(subscription())
    for billed in (day(2, 8), day(3, 8), day(4, 8)):
        run_billing(store, as_of=billed)
    store.save_subscription(store.get_subscription("S1").cancel(on=day(4, 10), at_period_end=False))
    report = run_billing(store, as_of=day(4, 11))
    assert (report.invoice_count, report.credit_note_count) == (1, 1)
    assert report.total == {"EUR": Money("-112.00", "EUR")}
    assert _bill_run_summary(report, locale="en_US") == (
        "Bill run as of April 11, 2027: 1 subscription looked at, 0 invoices and 1 credit note "
        f"created ({report.first_number})."
    )
    assert "0 facture et 1 avoir créés" in _bill_run_summary(report, locale="fr_FR")

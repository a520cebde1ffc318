"""run_dunning after issue 17's independent review of the run: one test per defect (F1–F11).

Each test failed before its fix (the review's repro scripts in /work/review64/scratch,
turned into assertions), through run_dunning on the memory, SQLite and PostgreSQL stores
where the store matters.
"""

from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money, Subscription
from subbill.billing import BillingTerms
from subbill.customers import Customer, CustomerKind
from subbill.dunning import DunningActionKind, DunningPolicy, DunningStep, dunning_actions
from subbill.dunning_service import Charged, run_dunning
from subbill.errors import InvalidStateError, InvalidTypeError
from subbill.invoices import DocumentKind, Payment
from subbill.l10n.dunning import action_text
from subbill.payments import Card, OtherMethod, Wallet
from subbill.service import correct_invoice, pay_invoice, run_billing
from subbill.storage.protocols import ChargeAttempt
from tests.builders import invoice_due
from tests.stores import snapshot
from tests.test_dunning import daily, policies, unpaid_invoices
from tests.test_dunning import run as run_pure
from tests.test_dunning_store import CATALOG, DUE, KINDS, POLICY, store_of, with_invoice

CANCEL = DunningStep(code="cancel", days=30, actions=(DunningActionKind.CANCEL,))
#: The standard policy and a cancellation 30 days after the due date (no card retries).
WITH_CANCEL = DunningPolicy(steps=(*POLICY.steps, CANCEL))
SUSPEND, CANCELLED = DunningActionKind.SUSPEND, DunningActionKind.CANCEL


def day(month: int, number: int) -> date:
    return date(2027, month, number)


def subscription(**fields):
    return Subscription.create(
        id="S1", customer="ACME", catalog=CATALOG, plan="pro", start=day(2, 8), **fields
    )


def words(action, **keywords) -> str:
    return " ".join(action_text(action, locale="en_US", **keywords).split())


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    opened = store_of(request.param, tmp_path, request)
    yield opened
    if request.param != "memory":
        opened.close()


class Recording:
    """A processor that charges every attempt and records each call's keywords."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def charge(self, invoice_number, amount, *, idempotency_key, payment_method=None,
               customer=None):  # fmt: skip
        self.calls.append({
            "invoice": invoice_number, "amount": amount, "key": idempotency_key,
            "payment_method": payment_method, "customer": customer,
        })  # fmt: skip
        return Charged(reference=f"ch_{len(self.calls)}")


# -- F5, F4: a run dated before a credit note or a dunning event is refused ---------------------


def test_a_run_dated_before_a_credit_note_is_refused_and_cancels_nothing(store):
    # F5: an invoice credited in full on 12 April, then a run as of 10 April: it cancelled
    # the subscription (and the outbox dropped the cancellation: never told).
    store.save_subscription(subscription())
    number = with_invoice(store)
    correct_invoice(store, number, issued_on=day(4, 12))
    before = snapshot(store)
    with pytest.raises(InvalidStateError) as refused:
        run_dunning(store, as_of=day(4, 10), policy=WITH_CANCEL)
    assert str(refused.value) == (
        "as_of=2027-04-10 is before 2027-04-12, the date of the last credit note recorded: a "
        "dunning run decides from every credit note recorded, so it cannot be dated before "
        "one; run it as of that date or later"
    )
    assert snapshot(store) == before
    assert store.get_subscription("S1").cancel_at is None
    assert run_dunning(store, as_of=day(4, 12), policy=WITH_CANCEL).actions == ()


def test_a_run_dated_before_a_dunning_event_is_refused_and_charges_no_card(store):
    # F4: a run of 25 March (no gateway) took the formal notice and the suspension; a run
    # as of 20 March with a gateway then charged the card and recorded the payment on
    # 20 March, under a notice already taken on 25 March (the suspension never existed).
    store.save_subscription(subscription(payment_method="pm_visa"))
    with_invoice(store)
    run_dunning(store, as_of=day(3, 25), policy=POLICY)
    before = snapshot(store)
    gateway = Recording()
    with pytest.raises(InvalidStateError, match=(
        "as_of=2027-03-20 is before 2027-03-25, the date of the last dunning event recorded"
    )):  # fmt: skip
        run_dunning(store, as_of=day(3, 20), policy=POLICY, gateway=gateway)
    assert (gateway.calls, snapshot(store)) == ([], before)


# -- F6, F3: late-payment costs, business customers only; the indemnity alone without a rate ----


def _paid_twenty_days_late(store, customer_kind, terms):
    store.save_customer(Customer(id="ACME", kind=customer_kind))
    store.save_subscription(subscription(terms=terms))
    number = with_invoice(store, "1000.00")
    notice = run_dunning(store, as_of=day(3, 25), policy=POLICY).unsent[0]
    store.acknowledge_dunning([notice.key])
    pay_invoice(store, number, Payment(amount=Money("1000.00", "EUR"), paid_on=day(3, 30)))
    costs = DunningPolicy(steps=POLICY.steps, late_payment_costs=True)
    return number, notice, run_dunning(store, as_of=day(3, 30), policy=costs)


def test_a_consumer_is_claimed_no_late_payment_costs_nor_told_of_them(store):
    # F6: a consumer was invoiced a document of 45.48 (the 40 € indemnity and penalties)
    # and its formal notice stated them: they are owed between businesses only.
    terms = BillingTerms(late_payment_percent="10")
    number, notice, report = _paid_twenty_days_late(store, CustomerKind.CONSUMER, terms)
    assert (report.documents, report.without_rate) == ((), ())
    assert [i.number for i in store.invoices()] == [number]
    consumer = store.get_customer("ACME")
    assert "indemnity" not in words(notice, terms=terms, buyer=consumer)
    business = Customer(id="ACME", kind=CustomerKind.BUSINESS)
    assert (
        "This late payment entails by law a fixed indemnity for recovery costs of €40 and "
        "late-payment penalties at an annual rate of 10%"
    ) in words(notice, terms=terms, buyer=business)


def test_a_business_without_a_penalty_rate_is_claimed_the_indemnity_its_notice_announced(store):
    # F3: the notice announced the 40 € indemnity; the run never claimed it (and listed the
    # invoice as "without rate" in every later run).
    number, notice, report = _paid_twenty_days_late(store, CustomerKind.BUSINESS, BillingTerms())
    assert "fixed indemnity for recovery costs of €40" in words(
        notice, terms=store.get_subscription("S1").terms, buyer=store.get_customer("ACME")
    )
    (document,) = report.documents
    assert (document.number, document.customer, document.total) == (
        "F-2027-000002", "ACME", Money("40.00", "EUR")
    )  # fmt: skip
    assert report.without_rate == (number,)
    costs = DunningPolicy(steps=POLICY.steps, late_payment_costs=True)
    later = run_dunning(store, as_of=day(3, 31), policy=costs)
    assert (later.documents, later.without_rate) == ((), ())


# -- F1, F2: the outbox hands out what stands on the run's day -----------------------------------


def test_a_cancellation_carried_out_is_still_told_once_the_invoice_is_paid(store):
    # F1: the cancel action recorded on 10 April (the subscription cancelled), not sent;
    # paid on 11 April: the run of 11 April dropped it — cancelled and never told.
    store.save_subscription(subscription())
    number = with_invoice(store)
    (queued,) = run_dunning(store, as_of=day(4, 9), policy=WITH_CANCEL).unsent
    assert (queued.step.code, queued.actions) == ("cancel", (CANCELLED, SUSPEND))
    pay_invoice(store, number, Payment(amount=Money("120.00", "EUR"), paid_on=day(4, 11)))
    (told,) = run_dunning(store, as_of=day(4, 11), policy=WITH_CANCEL).unsent
    assert (told.key, told.actions, told.amount_due) == (
        queued.key, (CANCELLED,), Money("0.00", "EUR")
    )  # fmt: skip
    assert words(told) == "The subscription is cancelled from April 9, 2027."
    assert store.get_subscription("S1").cancel_at == day(4, 9)
    assert [a.key for a in store.unsent_dunning_actions()] == [queued.key]


def test_a_queued_notice_handed_out_later_states_what_is_owed_on_the_run_day(store):
    # F2: the formal notice queued on 25 March for 120.00; 100.00 paid on 26 March; the run
    # of 26 March handed it out demanding 120.00.
    number = with_invoice(store)
    (queued,) = run_dunning(store, as_of=day(3, 25), policy=POLICY).unsent
    pay_invoice(store, number, Payment(amount=Money("100.00", "EUR"), paid_on=day(3, 26)))
    (notice,) = run_dunning(store, as_of=day(3, 26), policy=POLICY).unsent
    assert (notice.key, notice.amount_due, notice.days_late, notice.on) == (
        queued.key, Money("20.00", "EUR"), 16, day(3, 25)
    )  # fmt: skip
    assert "has been unpaid for 16 days" in words(notice)
    assert "formal notice to pay us the sum of €20.00 on receipt" in words(notice)
    assert store.unsent_dunning_actions() == [queued]  # the stored action is as recorded


# -- F7, F8: one cancellation, on its day --------------------------------------------------------


def test_a_subscription_cancelled_by_dunning_is_not_suspended_nor_cancelled_again(store):
    # F7: after the cancellation of 10 April, the subscription's next invoice got a formal
    # notice announcing a suspension (22 April) and a second "cancelled from May 7".
    store.save_catalog(CATALOG)
    store.save_subscription(subscription())
    for billed in (day(2, 8), day(3, 8), day(4, 8)):
        run_billing(store, as_of=billed)
    told = []
    for offset in range(33):
        report = run_dunning(store, as_of=day(4, 10) + timedelta(days=offset), policy=WITH_CANCEL)
        told += [(a.on, a.invoice, a.step.code, a.actions) for a in report.unsent]
        store.acknowledge_dunning([a.key for a in report.unsent])
    ends = [(on, step, kinds) for on, _, step, kinds in told if {SUSPEND, CANCELLED} & set(kinds)]
    assert ends == [(day(4, 10), "cancel", (CANCELLED, SUSPEND))]
    second = [(on, step, kinds) for on, invoice, step, kinds in told
              if invoice == "F-2027-000002"]  # fmt: skip
    assert second == [
        (day(4, 10), "reminder_1", (DunningActionKind.REMIND,)),
        (day(4, 14), "reminder_7", (DunningActionKind.REMIND,)),
        (day(4, 22), "formal_notice", (DunningActionKind.FORMAL_NOTICE,)),
    ]
    assert store.get_subscription("S1").cancel_at == day(4, 10)


def test_two_invoices_reaching_the_cancel_step_in_one_run_cancel_once():
    # F7, within one run: the invoice whose cancel step came first ends the subscription,
    # whatever the order of the invoices; the other takes what daily runs would have taken
    # before that day (its formal notice and suspension of day 15, no cancellation).
    first = invoice_due("120.00", due_on=DUE, number="F-1")
    second = invoice_due("120.00", due_on=DUE + timedelta(days=1), number="F-2")
    actions = dunning_actions([second, first], policy=WITH_CANCEL, history=(),
                              as_of=DUE + timedelta(days=31))  # fmt: skip
    assert [(a.invoice, a.step.code, a.actions) for a in actions] == [
        ("F-2", "formal_notice", (DunningActionKind.FORMAL_NOTICE, SUSPEND)),
        ("F-1", "cancel", (CANCELLED, SUSPEND)),
    ]


def test_the_first_cancel_step_ends_the_subscription_whatever_the_page_of_its_invoice(store):
    # F7 through the store, a page per invoice: the invoice listed first (due a day later)
    # was decided alone and cancelled the subscription a day late, on its own step.
    later = with_invoice(store)
    store.add_invoice(  # due a day earlier, listed after
        invoice_due("120.00", due_on=DUE - timedelta(days=1), number="F-2027-000002")
    )
    report = run_dunning(store, as_of=DUE + timedelta(days=31), policy=WITH_CANCEL, batch_size=1)
    assert [(a.invoice, a.step.code, a.actions) for a in report.actions] == [
        (later, "formal_notice", (DunningActionKind.FORMAL_NOTICE, SUSPEND)),
        ("F-2027-000002", "cancel", (CANCELLED, SUSPEND)),
    ]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), policy=policies(), end_offset=st.integers(-12, 60))
def test_a_subscription_is_cancelled_at_most_once_and_never_suspended_after(
    data: st.DataObject, policy: DunningPolicy, end_offset: int
) -> None:
    # F7's invariant, for any runs: one cancellation per subscription, and no suspension nor
    # cancellation of it dated after that one; none at all for an invoice of no subscription.
    end = DUE + timedelta(days=end_offset)
    invoices = data.draw(unpaid_invoices(end=end))
    if data.draw(st.booleans()):  # a one-off invoice too
        invoices.append(invoice_due("50.00", due_on=DUE, number="F-2027-000009",
                                    subscription=None))  # fmt: skip
    every_day = daily(DUE - timedelta(days=20), end)
    chosen = data.draw(st.sets(st.sampled_from(every_day[:-1]))) if len(every_day) > 1 else set()
    _, history = run_pure(invoices, [*sorted(chosen), end], policy)
    for owner in ("S1", "S2"):
        ends = [e for e in history if e.subscription == owner and e.does(CANCELLED)]
        assert len(ends) <= 1
        after = [e for e in history if e.subscription == owner and ends and e.on > ends[0].on
                 and (e.does(SUSPEND) or e.does(CANCELLED))]  # fmt: skip
        assert after == []
    assert not [e for e in history if e.subscription is None
                and (e.does(SUSPEND) or e.does(CANCELLED))]  # fmt: skip


def test_a_dunning_cancellation_brings_a_customer_cancellation_at_period_end_forward(store):
    # F8: the customer cancelled at the period's end (8 May); the cancel step of 10 April
    # kept 8 May: no credit note, 112.00 more owed, while the status said cancelled.
    store.save_catalog(CATALOG)
    store.save_subscription(subscription())
    for billed in (day(2, 8), day(3, 8), day(4, 8)):
        run_billing(store, as_of=billed)
    ending = store.get_subscription("S1").cancel(on=day(4, 9), at_period_end=True)
    assert ending.cancel_at == day(5, 8)
    store.save_subscription(ending)
    run_dunning(store, as_of=day(4, 10), policy=WITH_CANCEL)
    assert store.get_subscription("S1").cancel_at == day(4, 10)
    run_billing(store, as_of=day(4, 11))
    notes = [i.total for i in store.invoices() if i.kind is DocumentKind.CREDIT_NOTE]
    assert notes == [Money("-112.00", "EUR")]
    owed = Money.total((i.amount_due for i in store.invoices()), currency="EUR")
    assert owed == Money("248.00", "EUR")


# -- F9: card retries only for a subscription that pays by card --------------------------------


@pytest.mark.parametrize(
    ("method", "wallet", "calls"),
    [
        (None, None, []),
        ("pm_sepa", OtherMethod(id="pm_sepa", kind="sepa_debit", label="SEPA"), []),
        ("pm_visa", Card(id="pm_visa", brand="Visa", last4="4242", exp_month=12, exp_year=2030),
         [("pm_visa", "ACME")]),
        ("pm_visa", None, [("pm_visa", "ACME")]),
    ],
)  # fmt: skip
def test_a_card_retry_is_sent_only_for_a_subscription_that_pays_by_card(
    store, method, wallet, calls
):
    # F9: a subscription with no payment method got its card "retried"; the gateway was
    # given neither the payment method nor the customer.
    store.save_subscription(subscription(payment_method=method))
    if wallet is not None:
        store.save_wallet(Wallet(customer="ACME", methods=(wallet,)))
    number = with_invoice(store)
    gateway = Recording()
    report = run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=gateway)
    assert [(c["payment_method"], c["customer"]) for c in gateway.calls] == calls
    assert [c["key"] for c in gateway.calls] == [f"dunning:{number}:retry:1" for _ in calls]
    assert [a.step.code for a in report.actions] == ["retry"] * len(calls) + ["reminder_1"] * (
        not calls
    )


def test_an_invoice_without_a_subscription_gets_no_card_retry(store):
    number = with_invoice(store, subscription=None)
    gateway = Recording()
    report = run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=gateway)
    assert gateway.calls == []
    assert [(a.invoice, a.step.code) for a in report.actions] == [(number, "reminder_1")]


# -- F10, F11 -----------------------------------------------------------------------------------


def test_a_naive_claim_end_is_refused_typed():
    # F10: a naive claimed_until was stored, then every run with `now` died on a TypeError.
    with pytest.raises(InvalidTypeError) as refused:
        ChargeAttempt(key="dunning:F-1:retry:1", invoice="F-1", attempt=1,
                      amount=Money("120.00", "EUR"), on=DUE,
                      claimed_until=datetime(2027, 3, 11, 9, 15))  # noqa: DTZ001  # fmt: skip
    assert str(refused.value) == (
        "claimed_until=datetime.datetime(2027, 3, 11, 9, 15) must be a datetime with its "
        "time zone, or None"
    )
    aware = datetime(2027, 3, 11, 9, 15, tzinfo=UTC)
    assert ChargeAttempt(key="k", invoice="F-1", attempt=1, amount=Money("1", "EUR"), on=DUE,
                         claimed_until=aware).claimed_until == aware  # fmt: skip


def test_an_invoice_without_a_subscription_is_not_told_of_a_suspension(store):
    # F11: a one-off invoice's formal notice announced "access to the service is suspended".
    with_invoice(store, subscription=None)
    (notice,) = run_dunning(store, as_of=DUE + timedelta(days=15), policy=POLICY).unsent
    assert (notice.subscription, notice.actions) == (None, (DunningActionKind.FORMAL_NOTICE,))
    assert "suspended" not in words(notice)
    by_hand = attrs.evolve(notice, actions=(DunningActionKind.FORMAL_NOTICE, SUSPEND))
    assert words(by_hand) == words(notice)  # the words say nothing of it either


def test_a_gateway_taking_any_keywords_is_given_the_card_and_the_customer():
    # F9: a gateway written with **keywords gets them too; one without them (ScriptedGateway,
    # the tests above) is called as before.
    store = store_of("memory", None, None)
    store.save_subscription(subscription(payment_method="pm_visa"))
    with_invoice(store)
    seen: list[dict[str, object]] = []

    class Open:
        def charge(self, invoice_number, amount, *, idempotency_key, **keywords):
            seen.append(keywords)
            return Charged(reference="ch_1")

    run_dunning(store, as_of=DUE + timedelta(days=1), policy=POLICY, gateway=Open())
    assert seen == [{"payment_method": "pm_visa", "customer": "ACME"}]

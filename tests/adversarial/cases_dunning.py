"""Bad inputs of dunning (issue 17): policies, steps, events, runs, late-payment costs, words."""

from __future__ import annotations

from datetime import date, datetime

from subbill import Money, Subscription
from subbill.billing import BillingTerms
from subbill.catalog import Catalog, Plan
from subbill.dunning import (
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
from subbill.errors import (
    FloatAmountError,
    InvalidAmountError,
    InvalidArgumentError,
    InvalidDateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import Payment
from subbill.l10n import UnknownLocaleError
from subbill.l10n.dunning import action_text, card_notice_text, late_payment_text
from subbill.payments import Wallet
from subbill.periods import MONTHLY
from subbill.portal import card_expiry_notice, portal_overview
from tests.adversarial import Case
from tests.builders import invoice_due

DUE = date(2027, 3, 10)
POLICY = DunningPolicy.standard()
REMIND = (DunningActionKind.REMIND,)

INVOICE = invoice_due("1000", due_on=DUE)
USD = invoice_due("1000", due_on=DUE, currency="USD", number="F-2027-000002")
DRAFT = invoice_due("10", due_on=DUE, number=None)
PAID_LATE = INVOICE.apply_payment(Payment(amount=Money("1000", "EUR"), paid_on=date(2027, 3, 30)))
CLAIM = late_payment_costs(PAID_LATE.invoice, percent="10", as_of=date(2027, 3, 30))
CATALOG = Catalog(
    currency="EUR",
    plans=[Plan(code="solo", name="Solo", rank=1, prices={MONTHLY: Money("30", "EUR")})],
)
SUB = Subscription.create(id="S1", customer="ACME", catalog=CATALOG, plan="solo", start=DUE)
SUB_BEFORE = repr(SUB)
SUSPENSION = DunningEvent(invoice="F-2027-000001", subscription="S1", step="formal_notice",
                          on=date(2027, 3, 25), outcome=EventOutcome.TAKEN,
                          actions=(DunningActionKind.SUSPEND,))  # fmt: skip
(ACTION,) = (a for a in dunning_actions([INVOICE], policy=POLICY, history=(), as_of=DUE)
             if a.attempt is None)  # fmt: skip


def _event(**fields: object) -> object:
    values: dict[str, object] = {
        "invoice": "F-1",
        "subscription": "S1",
        "step": "courtesy",
        "on": DUE,
        "outcome": EventOutcome.TAKEN,
        "actions": REMIND,
    }
    values.update(fields)
    return lambda: DunningEvent(**values)  # type: ignore[arg-type]


def _run(**fields: object) -> object:
    values: dict[str, object] = {"policy": POLICY, "history": (), "as_of": DUE}
    values.update(fields)
    invoices = values.pop("invoices", [INVOICE])
    return lambda: dunning_actions(invoices, **values)  # type: ignore[arg-type]


CASES = [
    # -- steps and policies
    Case(
        "dunning-step-no-action",
        lambda: DunningStep(code="x", days=1, actions=()),
        InvalidArgumentError,
    ),
    Case(
        "dunning-step-action-as-text",
        lambda: DunningStep(code="x", days=1, actions="remind"),
        InvalidTypeError,
    ),
    Case(
        "dunning-step-action-twice",
        lambda: DunningStep(code="x", days=1, actions=REMIND * 2),
        InvalidArgumentError,
    ),
    Case(
        "dunning-step-days-float",
        lambda: DunningStep(code="x", days=1.5, actions=REMIND),
        InvalidTypeError,
    ),
    Case(
        "dunning-step-days-bool",
        lambda: DunningStep(code="x", days=True, actions=REMIND),
        InvalidTypeError,
    ),
    Case(
        "dunning-step-days-huge",
        lambda: DunningStep(code="x", days=10**9, actions=REMIND),
        OutOfBoundsError,
    ),
    Case(
        "dunning-step-code-retry",
        lambda: DunningStep(code="retry", days=1, actions=REMIND),
        InvalidArgumentError,
    ),
    Case(
        "dunning-step-code-claim",
        lambda: DunningStep(code="late_payment_costs", days=1, actions=REMIND),
        InvalidArgumentError,
    ),
    Case(
        "dunning-claims-policy-text",
        lambda: late_payment_claims([INVOICE], policy="on", history=(), as_of=DUE),
        InvalidTypeError,
    ),
    Case(
        "dunning-step-code-slash",
        lambda: DunningStep(code="a/b", days=1, actions=REMIND),
        InvalidArgumentError,
    ),
    Case(
        "dunning-step-code-empty",
        lambda: DunningStep(code=" ", days=1, actions=REMIND),
        InvalidArgumentError,
    ),
    Case(
        "dunning-step-code-newline",
        lambda: DunningStep(code="a\nb", days=1, actions=REMIND),
        InvalidArgumentError,
    ),
    Case(
        "dunning-policy-steps-out-of-order",
        lambda: DunningPolicy(
            steps=(
                DunningStep(code="b", days=7, actions=REMIND),
                DunningStep(code="a", days=1, actions=REMIND),
            )
        ),
        InvalidArgumentError,
    ),
    Case(
        "dunning-policy-same-day-twice",
        lambda: DunningPolicy(
            steps=(
                DunningStep(code="a", days=1, actions=REMIND),
                DunningStep(code="b", days=1, actions=REMIND),
            )
        ),
        InvalidArgumentError,
    ),
    Case(
        "dunning-policy-step-not-a-step",
        lambda: DunningPolicy(steps=("courtesy",)),
        InvalidTypeError,
    ),
    Case(
        "dunning-policy-retries-decreasing",
        lambda: DunningPolicy(steps=(), retry_days=(3, 1)),
        InvalidArgumentError,
    ),
    Case(
        "dunning-policy-retry-before-due",
        lambda: DunningPolicy(steps=(), retry_days=(-1,)),
        OutOfBoundsError,
    ),
    Case(
        "dunning-policy-retry-text",
        lambda: DunningPolicy(steps=(), retry_days=("1",)),
        InvalidTypeError,
    ),
    Case(
        "dunning-policy-retries-a-number",  # once read as (3,)
        lambda: DunningPolicy(steps=(), retry_days=3),
        InvalidTypeError,
    ),
    Case(
        "dunning-policy-retries-a-set",
        lambda: DunningPolicy(steps=(), retry_days={1, 3}),
        InvalidTypeError,
    ),
    Case(
        "dunning-policy-costs-not-bool",
        lambda: DunningPolicy(steps=(), late_payment_costs="yes"),
        InvalidTypeError,
    ),
    Case("dunning-policy-unknown-step", lambda: POLICY.step("nope"), InvalidArgumentError),
    # -- events
    Case(
        "dunning-event-skipped-with-actions",
        _event(outcome=EventOutcome.SKIPPED),
        InvalidArgumentError,
    ),
    Case("dunning-event-outcome-text", _event(outcome="taken"), InvalidTypeError),
    Case("dunning-event-retry-without-attempt", _event(step="retry", actions=()), InvalidTypeError),
    Case(
        "dunning-event-retry-attempt-zero",
        _event(step="retry", attempt=0, actions=()),
        InvalidArgumentError,
    ),
    Case("dunning-event-attempt-of-a-step", _event(attempt=2), InvalidArgumentError),
    Case("dunning-event-datetime", _event(on=datetime(2027, 3, 10, 9)), InvalidDateError),  # noqa: DTZ001  (the bad input)
    Case("dunning-event-invoice-newline", _event(invoice="F-1\nF-2"), InvalidArgumentError),
    # -- a run
    Case("dunning-run-invoices-not-a-list", _run(invoices=INVOICE), InvalidTypeError),
    Case("dunning-run-same-invoice-twice", _run(invoices=[INVOICE, INVOICE]), InvalidArgumentError),
    Case("dunning-run-invoice-not-an-invoice", _run(invoices=["F-1"]), InvalidTypeError),
    Case("dunning-run-policy-missing", _run(policy=None), InvalidTypeError),
    Case("dunning-run-history-not-events", _run(history=["F-1/courtesy"]), InvalidTypeError),
    Case("dunning-run-history-a-string", _run(history="F-1/courtesy"), InvalidTypeError),
    Case("dunning-run-as-of-datetime", _run(as_of=datetime(2027, 3, 10)), InvalidDateError),  # noqa: DTZ001  (the bad input)
    Case("dunning-run-as-of-far", _run(as_of=date(9999, 1, 1)), OutOfBoundsError),
    Case("dunning-events-of-not-actions", lambda: events_of(["x"]), InvalidTypeError),
    Case(
        "dunning-next-step-not-an-invoice",
        lambda: next_step("F-1", policy=POLICY, history=(), as_of=DUE),
        InvalidTypeError,
    ),
    Case(
        "dunning-amount-due-on-text", lambda: amount_due_on(INVOICE, "2027-03-10"), InvalidDateError
    ),
    Case(
        "dunning-state-subscription-empty",
        lambda: dunning_state("", invoices=(), history=(), as_of=DUE),
        InvalidArgumentError,
    ),
    Case(
        "dunning-state-as-of-text",  # refused with no history too (it was not checked)
        lambda: dunning_state("S1", invoices=(), history=(), as_of="2027-03-10"),
        InvalidDateError,
    ),
    Case(
        "dunning-status-events-not-events",
        lambda: SUB.status(as_of=DUE, dunning=[{"step": "courtesy"}]),
        InvalidTypeError,
        lambda: repr(SUB) == SUB_BEFORE,
    ),
    Case(
        "dunning-status-suspended-invoice-missing",  # once read as lifted: ACTIVE
        lambda: SUB.status(as_of=date(2027, 3, 26), dunning=[SUSPENSION]),
        InvalidArgumentError,
        lambda: repr(SUB) == SUB_BEFORE,
    ),
    # -- late-payment costs
    Case(
        "dunning-costs-rate-zero",
        lambda: late_payment_costs(INVOICE, percent="0", as_of=DUE),
        OutOfBoundsError,
    ),
    Case(
        "dunning-costs-rate-above-100",
        lambda: late_payment_costs(INVOICE, percent="150", as_of=DUE),
        OutOfBoundsError,
    ),
    Case(
        "dunning-costs-rate-float",
        lambda: late_payment_costs(INVOICE, percent=10.0, as_of=DUE),
        FloatAmountError,
    ),
    Case(
        "dunning-costs-rate-empty",  # None is no rate set: the indemnity alone is claimed
        lambda: late_payment_costs(INVOICE, percent="", as_of=DUE),
        InvalidAmountError,
    ),
    Case(
        "dunning-costs-in-usd",
        lambda: late_payment_costs(USD, percent="10", as_of=date(2027, 4, 1)),
        InvalidArgumentError,
    ),
    Case(
        "dunning-costs-of-a-draft",
        lambda: late_payment_costs(DRAFT, percent="10", as_of=date(2027, 4, 1)),
        InvalidArgumentError,
    ),
    Case(
        "dunning-costs-of-costs",
        lambda: late_payment_costs(
            CLAIM.document.finalize(number="F-9"),
            percent="10",  # type: ignore[union-attr]
            as_of=date(2027, 5, 1),
        ),
        InvalidArgumentError,
    ),
    Case(
        "dunning-costs-terms-days-negative",
        lambda: late_payment_costs(INVOICE, percent="10", as_of=DUE, payment_terms_days=-1),
        InvalidArgumentError,
    ),
    Case(
        "dunning-terms-rate-text",
        lambda: BillingTerms(late_payment_percent="ten"),
        InvalidAmountError,
    ),
    # -- words, the portal, the card notice
    Case(
        "dunning-words-not-an-action", lambda: action_text("F-1", locale="fr_FR"), InvalidTypeError
    ),
    Case(
        "dunning-words-terms-a-rate",
        lambda: action_text(ACTION, locale="fr_FR", terms="10"),
        InvalidTypeError,
    ),
    Case(
        "dunning-words-unknown-locale",
        lambda: action_text(ACTION, locale="xx_YY"),
        UnknownLocaleError,
    ),
    Case(
        "dunning-words-costs-not-costs",
        lambda: late_payment_text(INVOICE, locale="fr_FR"),
        InvalidTypeError,
    ),
    Case(
        "dunning-words-notice-not-notice",
        lambda: card_notice_text(None, locale="fr_FR"),
        InvalidTypeError,
    ),
    Case(
        "dunning-card-notice-not-a-wallet",
        lambda: card_expiry_notice(SUB, "pm_visa", as_of=DUE, catalog=CATALOG),
        InvalidTypeError,
    ),
    Case(
        "dunning-card-notice-not-a-subscription",
        lambda: card_expiry_notice("S1", Wallet(customer="ACME"), as_of=DUE),
        InvalidTypeError,
    ),
    Case(
        "dunning-portal-policy-text",
        lambda: portal_overview("ACME", catalog=CATALOG, dunning_policy="standard", as_of=DUE),
        InvalidTypeError,
    ),
    Case(
        "dunning-portal-history-not-events",
        lambda: portal_overview("ACME", catalog=CATALOG, dunning=[1], as_of=DUE),
        InvalidTypeError,
    ),
]

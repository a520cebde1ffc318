"""Bad inputs the review of issue 10 found escaping the engine and subscriptions raw."""

from datetime import date

import attrs

from subbill import (
    BillingState,
    ChargePlan,
    Discount,
    Money,
    RecurringCharge,
    Subscription,
    bill_run,
    bill_subscription,
    preview_change,
)
from subbill.errors import (
    InvalidArgumentError,
    InvalidDateError,
    InvalidStateError,
    InvalidTypeError,
    UnknownCurrencyError,
)
from subbill.service import replace_subscription, run_billing
from subbill.storage import MemoryStore
from subbill.subscriptions import Change, Span, check_replacement
from tests.adversarial import Case
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
CHARGE = RecurringCharge(
    code="p", description="P", unit_price=Money("1", "EUR"), start=date(2026, 1, 1)
)
SUB = ChargePlan(id="S", customer="C", currency="EUR", charges=(CHARGE,))
LIVE = Subscription.create(
    id="S1", customer="C", catalog=CATALOG, plan="essentiel", start=date(2026, 3, 1)
)
BILLED = bill_subscription(LIVE.to_charge_plan(CATALOG), as_of=date(2026, 3, 1)).state
HALF_OFF = attrs.evolve(LIVE, discounts=(Discount.percent_off("HALF", "50"),))
HALF_BILLED = bill_subscription(HALF_OFF.to_charge_plan(CATALOG), as_of=date(2026, 3, 1)).state


def _billable(**fields):
    return lambda: ChargePlan(id="S", customer="C", **{"currency": "EUR", **fields})


CASES = [
    Case(
        "review-engine-discounts-none",
        _billable(charges=(CHARGE,), discounts=None),
        InvalidTypeError,
    ),
    Case("review-engine-discounts-str", _billable(discounts=("x",)), InvalidTypeError),
    Case("review-engine-charges-str", _billable(charges=("x",)), InvalidTypeError),
    Case("review-engine-currency-xyz", _billable(currency="XYZ"), UnknownCurrencyError),
    Case("review-engine-currency-none", _billable(currency=None), UnknownCurrencyError),
    Case(
        "review-engine-state-float",
        lambda: bill_subscription(SUB, 1.5, as_of=date(2026, 1, 1)),
        InvalidTypeError,
    ),
    Case(
        "review-engine-billed-through-str",
        lambda: BillingState(billed_through="x"),
        InvalidTypeError,
    ),
    Case(
        "review-engine-billed-through-ints",
        lambda: BillingState(billed_through=[(1, 2)]),
        InvalidTypeError,
    ),
    Case(
        "review-engine-one-time-billed-str",
        lambda: BillingState(one_time_billed="abc"),
        InvalidTypeError,
    ),
    Case(
        "review-engine-one-time-billed-ints",
        lambda: BillingState(one_time_billed={1}),
        InvalidTypeError,
    ),
    Case(
        "review-engine-bill-run-int",
        lambda: list(bill_run([5], as_of=date(2026, 1, 1))),
        InvalidTypeError,
    ),
    Case(
        "review-engine-preview-state-str",
        lambda: preview_change(LIVE, "pro", CATALOG, on=date(2026, 3, 5), state="x"),
        InvalidTypeError,
    ),
    Case(
        "review-engine-subscription-discount-str",
        lambda: Subscription.create(
            id="S1",
            customer="C",
            catalog=CATALOG,
            plan="essentiel",
            start=date(2026, 3, 1),
            discounts=("x",),
        ),
        InvalidTypeError,
    ),
    Case(
        "review-engine-subscription-currency",
        lambda: attrs.evolve(LIVE, currency="XYZ"),
        UnknownCurrencyError,
    ),
    Case(
        "review-engine-subscription-plans-str",
        lambda: attrs.evolve(LIVE, plans=("essentiel",)),
        InvalidTypeError,
    ),
    Case(
        "review-engine-status-none",
        lambda: LIVE.status(as_of=date(2026, 3, 5), invoices=[None]),
        InvalidTypeError,
    ),
    Case(
        "review-engine-usage-str",
        lambda: LIVE.change_plan("pro", CATALOG, on=date(2026, 3, 5), usage={"clients": "x"}),
        InvalidTypeError,
    ),
    Case(
        "review-engine-usage-list",
        lambda: LIVE.change_plan("pro", CATALOG, on=date(2026, 3, 5), usage=[1]),
        InvalidTypeError,
    ),
    Case(
        "review-engine-usage-negative",
        lambda: LIVE.change_plan("pro", CATALOG, on=date(2026, 3, 5), usage={"clients": -1}),
        InvalidTypeError,
    ),
    Case(
        "review-engine-from-mapping-catalog-none",
        lambda: Subscription.from_mapping(
            {"id": "S", "customer": "C", "plan": "essentiel", "start": "2026-03-01"}, catalog=None
        ),
        InvalidTypeError,
    ),
    Case(
        "review-engine-replace-drops-discount",
        lambda: check_replacement(HALF_OFF, LIVE, catalog=CATALOG, state=HALF_BILLED),
        InvalidStateError,
    ),
    Case(
        "review-engine-replace-other-plan",
        lambda: check_replacement(
            LIVE,
            Subscription.create(
                id="S1", customer="C", catalog=CATALOG, plan="pro", start=date(2026, 3, 1)
            ),
            catalog=CATALOG,
            state=BILLED,
        ),
        InvalidStateError,
    ),
    Case(
        "review-engine-replace-other-seats",
        lambda: check_replacement(
            LIVE, attrs.evolve(LIVE, quantity=3), catalog=CATALOG, state=BILLED
        ),
        InvalidStateError,
    ),
]

# The second review: fields accepted when built, then crashing storage or a bill run.
CASES += [
    Case(
        "review-engine-cancel-at-str", lambda: attrs.evolve(LIVE, cancel_at="x"), InvalidDateError
    ),
    Case(
        "review-engine-cancelled-on-str",
        lambda: attrs.evolve(LIVE, cancelled_on="x"),
        InvalidDateError,
    ),
    Case(
        "review-engine-change-on-str",
        lambda: Change(on="x", kind="upgrade", code="pro"),
        InvalidDateError,
    ),
    Case(
        "review-engine-span-price-float",
        lambda: Span(code="pro", start=date(2026, 3, 1), price=3.5),
        InvalidTypeError,
    ),
    Case(
        "review-engine-span-price-currency",
        lambda: attrs.evolve(LIVE, plans=(attrs.evolve(LIVE.plans[0], price=Money("3", "USD")),)),
        InvalidArgumentError,
    ),
    Case(
        "review-engine-cancel-at-period-end-str",
        lambda: LIVE.cancel(on=date(2026, 3, 10), at_period_end="no"),
        InvalidTypeError,
    ),
    Case(
        "review-engine-replace-not-a-subscription",
        lambda: replace_subscription(MemoryStore(), "x"),
        InvalidTypeError,
    ),
    Case(
        "review-engine-run-billing-no-store",
        lambda: run_billing(None, as_of=date(2026, 3, 1)),
        InvalidTypeError,
    ),
    Case(
        "review-engine-change-plan-no-catalog",
        lambda: LIVE.change_plan("pro", None, on=date(2026, 3, 5)),
        InvalidTypeError,
    ),
    Case(
        "review-engine-reprice-str",
        lambda: LIVE.reprice("cat", on=date(2026, 4, 1)),
        InvalidTypeError,
    ),
    Case("review-engine-priced-none", lambda: LIVE.priced(None), InvalidTypeError),
    Case("review-engine-charge-plan-none", lambda: LIVE.to_charge_plan(None), InvalidTypeError),
    Case(
        "review-engine-status-invoices-none",
        lambda: LIVE.status(as_of=date(2026, 3, 5), invoices=None),
        InvalidTypeError,
    ),
    Case(
        "review-engine-check-replacement-str",
        lambda: check_replacement("x", LIVE, catalog=CATALOG, state=BILLED),
        InvalidTypeError,
    ),
    Case(
        "review-engine-check-replacement-catalog-none",
        lambda: check_replacement(LIVE, LIVE, catalog=None, state=BILLED),
        InvalidTypeError,
    ),
    Case(
        "review-engine-check-replacement-state-str",
        lambda: check_replacement(LIVE, LIVE, catalog=CATALOG, state="x"),
        InvalidTypeError,
    ),
    Case(
        "review-engine-preview-catalog-str",
        lambda: preview_change(LIVE, "pro", "cat", on=date(2026, 3, 5)),
        InvalidTypeError,
    ),
]

__all__ = ["CASES"]

"""Bad inputs of trials and phases (issue 15): each refused where it is built, typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from subbill import Discount, Money, Subscription
from subbill.catalog import Catalog, Plan
from subbill.errors import (
    FloatAmountError,
    InvalidArgumentError,
    InvalidDateError,
    InvalidPeriodError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.periods import MONTHLY
from subbill.subscriptions import Phase, QuotedLine, Trial, TrialAnchor, trial_outcome
from tests.adversarial import Case

CATALOG = Catalog(
    currency="EUR",
    plans=[Plan(code="solo", name="Solo", rank=1, prices={MONTHLY: Money("30", "EUR")})],
)
START = date(2026, 3, 10)
SUB = Subscription.create(
    id="S1", customer="C", catalog=CATALOG, plan="solo", start=START, trial=Trial(days=14)
)
SUB_BEFORE = repr(SUB)
INTRO = Discount.percent_off("INTRO", 50)


def _create(**fields: object) -> Callable[[], object]:
    return lambda: Subscription.create(
        id="S1",
        customer="C",
        catalog=CATALOG,
        plan="solo",
        start=START,
        **fields,  # type: ignore[arg-type]
    )


def _unchanged() -> bool:
    return repr(SUB) == SUB_BEFORE


def _quoted_with_phases() -> object:
    line = QuotedLine(
        code="seo", name="SEO", unit_price=Money("300", "EUR"), frequency=MONTHLY, start=START
    )
    return Subscription(
        id="S2", customer="C", currency="EUR", start=START, lines=[line], phases=[Phase()]
    )


CASES = [
    Case("trial_without_length", Trial, InvalidArgumentError),
    Case(
        "trial_days_and_until",
        lambda: Trial(days=14, until=date(2026, 4, 1)),
        InvalidArgumentError,
    ),
    Case("trial_zero_days", lambda: Trial(days=0), InvalidArgumentError),
    Case("trial_negative_days", lambda: Trial(days=-3), InvalidArgumentError),
    Case("trial_days_as_text", lambda: Trial(days="14"), InvalidTypeError),  # type: ignore[arg-type]
    Case("trial_days_as_bool", lambda: Trial(days=True), InvalidTypeError),
    Case("trial_days_beyond_bound", lambda: Trial(days=10**6), OutOfBoundsError),
    Case(
        "trial_until_datetime",
        lambda: Trial(until=datetime(2026, 4, 1)),  # noqa: DTZ001  (the bad input)
        InvalidDateError,
    ),
    Case("trial_until_far", lambda: Trial(until=date(9999, 1, 1)), OutOfBoundsError),
    Case(
        "trial_anchor_as_text",
        lambda: Trial(days=14, anchor="trial_end"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "trial_policy_as_text",
        lambda: Trial(days=14, missing_payment_method="cancel"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "trial_until_on_start",
        _create(trial=Trial(until=START)),
        InvalidPeriodError,
    ),
    Case(
        "trial_until_before_start",
        _create(trial=Trial(until=date(2026, 3, 1))),
        InvalidPeriodError,
    ),
    Case(
        "trial_re_anchored_with_billing_day",
        _create(trial=Trial(days=14, anchor=TrialAnchor.TRIAL_END), billing_day=1),
        InvalidArgumentError,
    ),
    Case("trial_not_a_trial", _create(trial=14), InvalidTypeError),
    # Trials on quoted lines are allowed (issue 15, tests/test_usage_lines.py); phases are not.
    Case("phases_on_quoted_lines", _quoted_with_phases, InvalidArgumentError),
    Case("phase_zero_periods", lambda: Phase(periods=0), InvalidArgumentError),
    Case("phase_periods_beyond_bound", lambda: Phase(periods=10**5), OutOfBoundsError),
    Case("phase_periods_as_float", lambda: Phase(periods=3.0), InvalidTypeError),  # type: ignore[arg-type]
    Case("phase_prices_as_text", lambda: Phase(prices="solo"), InvalidTypeError),
    Case(
        "phase_price_float",
        lambda: Phase(prices={"solo": Money(29.5, "EUR")}),  # type: ignore[arg-type]
        FloatAmountError,
    ),
    Case("phase_price_not_money", lambda: Phase(prices={"solo": 29}), InvalidTypeError),
    Case(
        "phase_price_negative",
        lambda: Phase(prices={"solo": Money("-1", "EUR")}),
        InvalidArgumentError,
    ),
    Case(
        "phase_price_code_blank",
        lambda: Phase(prices={" ": Money("1", "EUR")}),
        InvalidArgumentError,
    ),
    Case(
        "phase_discount_dated",
        lambda: Phase(discounts=[Discount.percent_off("X", 10, starts_on=START)]),
        InvalidArgumentError,
    ),
    Case("phase_discount_not_discount", lambda: Phase(discounts=["X"]), InvalidTypeError),
    Case(
        "phase_evergreen_not_last",
        _create(phases=[Phase(), Phase(periods=2)]),
        InvalidArgumentError,
    ),
    Case(
        "phase_price_other_currency",
        _create(phases=[Phase(periods=2, prices={"solo": Money("25", "USD")})]),
        InvalidArgumentError,
    ),
    Case(
        "phase_discount_codes_twice",
        _create(phases=[Phase(periods=1, discounts=[INTRO]), Phase(discounts=[INTRO])]),
        InvalidArgumentError,
    ),
    Case(
        "phase_price_unknown_item",
        _create(phases=[Phase(periods=2, prices={"gold": Money("25", "EUR")})]),
        InvalidArgumentError,
    ),
    Case("phases_not_phases", _create(phases=["3 months"]), InvalidTypeError),
    Case(
        "trial_outcome_not_subscription",
        lambda: trial_outcome("S1", on=START),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "trial_outcome_datetime",
        lambda: trial_outcome(SUB, on=datetime(2026, 3, 20)),  # noqa: DTZ001
        InvalidDateError,
        _unchanged,
    ),
    Case("is_in_trial_text", lambda: SUB.is_in_trial("2026-03-20"), InvalidDateError, _unchanged),
    Case(
        "payment_method_on_none",
        lambda: SUB.payment_method_on(None),  # type: ignore[arg-type]
        InvalidDateError,
        _unchanged,
    ),
]

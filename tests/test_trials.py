"""Trials and phases (issue 15): free days first, then phases at their own prices or discounts.

Worked numbers: a 14-day trial converted keeping the billing day and re-anchored, a trial
ending with no payment method under each policy, a three-phase subscription billed through
its phase changes, a plan change during a phase. Properties: nothing is ever billed for a
day inside a trial; the phases' invoices add up to each phase's periods at its price.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Discount, Money, Subscription, SubscriptionStatus, bill_subscription
from subbill.catalog import Catalog, ChangeTiming, Module, Plan
from subbill.errors import InputError
from subbill.l10n import portal_text, review_text
from subbill.periods import MONTHLY, WEEKLY, Frequency
from subbill.portal import portal_overview
from subbill.storage.codec import dumps, loads
from subbill.subscriptions import (
    MissingPaymentMethod,
    Phase,
    Trial,
    TrialAnchor,
    TrialOutcome,
    trial_outcome,
)
from subbill.taxes import TaxRate
from subbill.usage import monthly_review

QUARTERLY = Frequency.months(3)


def _plan(code: str, rank: int, monthly: int) -> Plan:
    """A plan sold monthly, weekly (a quarter of it) and quarterly (5 less than 3 months)."""
    prices = {MONTHLY: monthly, WEEKLY: monthly // 4, QUARTERLY: 3 * monthly - 5}
    return Plan(
        code=code,
        name=code.title(),
        rank=rank,
        prices={frequency: Money(amount, "EUR") for frequency, amount in prices.items()},
    )


CATALOG = Catalog(
    currency="EUR",
    plans=[_plan("solo", 1, 30), _plan("team", 2, 60)],
    modules=[Module(code="stock", name="Stock", prices={MONTHLY: Money("9", "EUR")})],
)
TVA = TaxRate(name="TVA", percent="20")
START = date(2026, 3, 10)
TRIAL_END = date(2026, 3, 24)  # 14 days after START


def new(plan: str = "solo", **fields: object) -> Subscription:
    return Subscription.create(
        id="S1",
        customer="Boulangerie Martin",
        catalog=CATALOG,
        plan=plan,
        start=START,
        **fields,  # type: ignore[arg-type]
    )


def invoices(subscription: Subscription, days, state=None):
    """Bill on each day; return ``{day: invoice or None}`` and the last state."""
    found = {}
    for day in days:
        result = bill_subscription(subscription.to_charge_plan(CATALOG), state, as_of=day)
        state = result.state
        found[day] = result.invoice
    return found, state


def lines(invoice):
    return [
        (line.code, line.period.start, line.period.end, str(line.amount), str(line.discount))
        for line in invoice.lines
    ]


# -- trials: worked numbers -------------------------------------------------------------------


def test_fourteen_day_trial_keeping_the_billing_day_bills_a_prorated_first_period():
    sub = new(trial=Trial(days=14), payment_method="pm_visa", tax_rates=[TVA])
    assert sub.trial_ends_on == TRIAL_END
    billed, _ = invoices(sub, [START, date(2026, 3, 23), TRIAL_END, date(2026, 4, 10)])
    assert billed[START] is None
    assert billed[date(2026, 3, 23)] is None
    first = billed[TRIAL_END]
    # The cycle keeps billing day 10: the first paid period is 24 March – 9 April, 17 days
    # of the 31-day period 10 March – 9 April: 30.00 × 17/31 = 16.4516… → 16.45 HT,
    # TVA 20 % 3.29, 19.74 TTC.
    assert lines(first) == [("solo", TRIAL_END, date(2026, 4, 10), "16.45 EUR", "0 EUR")]
    assert first.lines[0].explanation.reason == "trial_end"
    assert str(first.tax) == "3.29 EUR"
    assert str(first.total) == "19.74 EUR"
    second = billed[date(2026, 4, 10)]
    assert lines(second) == [("solo", date(2026, 4, 10), date(2026, 5, 10), "30.00 EUR", "0 EUR")]
    assert str(second.total) == "36.00 EUR"


def test_fourteen_day_trial_re_anchored_bills_whole_periods_from_its_end():
    sub = new(trial=Trial(days=14, anchor=TrialAnchor.TRIAL_END), payment_method="pm_visa")
    assert sub.schedule.anchor == TRIAL_END
    days = [TRIAL_END, date(2026, 4, 10), date(2026, 4, 24)]
    billed, _ = invoices(sub, days)
    assert lines(billed[TRIAL_END]) == [
        ("solo", TRIAL_END, date(2026, 4, 24), "30.00 EUR", "0 EUR")
    ]
    assert billed[date(2026, 4, 10)] is None  # the old billing day is gone
    assert lines(billed[date(2026, 4, 24)]) == [
        ("solo", date(2026, 4, 24), date(2026, 5, 24), "30.00 EUR", "0 EUR")
    ]
    assert sub.next_billing_date(START, CATALOG) == TRIAL_END


def test_trial_until_a_date_runs_up_to_that_day():
    sub = new(trial=Trial(until=date(2026, 4, 1)), payment_method="pm_visa")
    billed, _ = invoices(sub, [date(2026, 3, 31), date(2026, 4, 1)])
    assert billed[date(2026, 3, 31)] is None
    # 1 – 9 April: 9 days of the 31-day period 10 March – 9 April: 30 × 9/31 = 8.709… → 8.71.
    assert lines(billed[date(2026, 4, 1)]) == [
        ("solo", date(2026, 4, 1), date(2026, 4, 10), "8.71 EUR", "0 EUR")
    ]


def test_trial_ending_without_payment_method_is_invoiced_anyway_by_default():
    sub = new(trial=Trial(days=14))
    assert sub.trial.missing_payment_method is MissingPaymentMethod.INVOICE
    assert trial_outcome(sub, on=date(2026, 3, 23)) is TrialOutcome.RUNNING
    assert trial_outcome(sub, on=TRIAL_END) is TrialOutcome.INVOICED_WITHOUT_PAYMENT_METHOD
    assert sub.status(as_of=TRIAL_END) is SubscriptionStatus.ACTIVE
    billed, _ = invoices(sub, [TRIAL_END])
    assert lines(billed[TRIAL_END]) == [
        ("solo", TRIAL_END, date(2026, 4, 10), "16.45 EUR", "0 EUR")
    ]


def test_trial_ending_without_payment_method_cancels_under_the_cancel_policy():
    sub = new(trial=Trial(days=14, missing_payment_method=MissingPaymentMethod.CANCEL))
    assert sub.status(as_of=date(2026, 3, 23)) is SubscriptionStatus.TRIAL
    assert sub.status(as_of=TRIAL_END) is SubscriptionStatus.CANCELLED
    assert trial_outcome(sub, on=TRIAL_END) is TrialOutcome.CANCELLED
    assert sub.ends_on == TRIAL_END
    billed, _ = invoices(sub, [START, TRIAL_END, date(2026, 4, 10), date(2026, 5, 10)])
    assert set(billed.values()) == {None}  # nothing, ever
    assert sub.next_billing_date(START, CATALOG) is None


def test_a_payment_method_added_before_the_trial_ends_converts_it():
    sub = new(trial=Trial(days=14, missing_payment_method=MissingPaymentMethod.CANCEL))
    in_time = sub.change_payment_method("pm_visa", on=date(2026, 3, 20))
    assert trial_outcome(in_time, on=TRIAL_END) is TrialOutcome.CONVERTED
    assert in_time.status(as_of=TRIAL_END) is SubscriptionStatus.ACTIVE
    billed, _ = invoices(in_time, [TRIAL_END])
    assert str(billed[TRIAL_END].total) == "16.45 EUR"
    # Added the day after the trial ended: too late, it stays cancelled.
    late = sub.change_payment_method("pm_visa", on=date(2026, 3, 25))
    assert late.payment_method == "pm_visa"
    assert trial_outcome(late, on=date(2026, 3, 25)) is TrialOutcome.CANCELLED
    assert late.status(as_of=date(2026, 3, 25)) is SubscriptionStatus.CANCELLED
    # A method removed before the trial ends counts as none.
    removed = new(
        trial=Trial(days=14, missing_payment_method=MissingPaymentMethod.CANCEL),
        payment_method="pm_visa",
    ).change_payment_method(None, on=date(2026, 3, 15))
    assert removed.payment_method_on(date(2026, 3, 14)) == "pm_visa"
    assert trial_outcome(removed, on=TRIAL_END) is TrialOutcome.CANCELLED


def test_cancelling_at_period_end_inside_a_trial_ends_it_with_the_trial():
    sub = new(trial=Trial(days=14), payment_method="pm_visa").cancel(on=date(2026, 3, 12))
    assert sub.cancel_at == TRIAL_END
    # A pending cancellation comes before the trial in the status's order.
    assert sub.status(as_of=date(2026, 3, 12)) is SubscriptionStatus.CANCELLED_AT_PERIOD_END
    assert sub.status(as_of=TRIAL_END) is SubscriptionStatus.CANCELLED
    assert trial_outcome(sub, on=TRIAL_END) is TrialOutcome.CANCELLED
    assert sub.charges(CATALOG) == ()


def test_status_says_trial_inside_the_trial_only():
    sub = new(trial=Trial(days=14), payment_method="pm_visa")
    assert sub.status(as_of=date(2026, 3, 9)) is SubscriptionStatus.SCHEDULED
    assert sub.status(as_of=START) is SubscriptionStatus.TRIAL
    assert sub.status(as_of=date(2026, 3, 23)) is SubscriptionStatus.TRIAL
    assert sub.status(as_of=TRIAL_END) is SubscriptionStatus.ACTIVE
    assert trial_outcome(new(), on=START) is None  # no trial


def test_changes_inside_a_trial_are_billed_from_its_end():
    sub = new(trial=Trial(days=14), payment_method="pm_visa")
    sub = sub.change_plan("team", CATALOG, on=date(2026, 3, 15))  # inside the trial
    sub = sub.activate("stock", CATALOG, on=date(2026, 3, 20))
    billed, _ = invoices(sub, [START, date(2026, 3, 20), TRIAL_END])
    assert billed[START] is None
    assert billed[date(2026, 3, 20)] is None
    # Only what runs at the trial's end is billed, from its end: 60 × 17/31 = 32.90,
    # 9 × 17/31 = 4.935… → 4.94.
    assert lines(billed[TRIAL_END]) == [
        ("team", TRIAL_END, date(2026, 4, 10), "32.90 EUR", "0 EUR"),
        ("stock", TRIAL_END, date(2026, 4, 10), "4.94 EUR", "0 EUR"),
    ]


# -- phases: worked numbers -------------------------------------------------------------------


def test_three_phases_bill_each_phase_exactly():
    # 3 months at 50 % off, then 2 months at 25.00, then the plan's own price for good.
    sub = Subscription.create(
        id="S1",
        customer="C",
        catalog=CATALOG,
        plan="solo",
        start=date(2026, 3, 1),
        phases=[
            Phase(periods=3, discounts=[Discount.percent_off("INTRO", 50)]),
            Phase(periods=2, prices={"solo": Money("25", "EUR")}),
            Phase(),
        ],
    )
    windows = sub.phase_windows()
    assert [(w.start, w.end) for w in windows] == [
        (date(2026, 3, 1), date(2026, 6, 1)),
        (date(2026, 6, 1), date(2026, 8, 1)),
        (date(2026, 8, 1), None),
    ]
    days = [date(2026, month, 1) for month in range(3, 11)]
    billed, _ = invoices(sub, days)
    assert [(str(billed[d].lines[0].amount), str(billed[d].total)) for d in days] == [
        ("30.00 EUR", "15.00 EUR"),  # March: 30.00 − 50 %
        ("30.00 EUR", "15.00 EUR"),
        ("30.00 EUR", "15.00 EUR"),
        ("25.00 EUR", "25.00 EUR"),  # June, phase 2: 25.00
        ("25.00 EUR", "25.00 EUR"),
        ("30.00 EUR", "30.00 EUR"),  # August on: the plan's price
        ("30.00 EUR", "30.00 EUR"),
        ("30.00 EUR", "30.00 EUR"),
    ]
    assert billed[date(2026, 6, 1)].lines[0].explanation.reason == "phase_change"


def test_phases_start_at_the_end_of_the_trial():
    sub = new(
        trial=Trial(days=14),
        payment_method="pm_visa",
        phases=[Phase(periods=2, discounts=[Discount.percent_off("INTRO", 50)])],
    )
    # The prorated first period counts as the phase's first: 24 March – 9 April, then
    # 10 April – 9 May; the plan's price from 10 May.
    assert [(w.start, w.end) for w in sub.phase_windows()] == [(TRIAL_END, date(2026, 5, 10))]
    billed, _ = invoices(sub, [TRIAL_END, date(2026, 4, 10), date(2026, 5, 10)])
    # 16.45 − 50 % (8.2258… → 8.23) = 8.22; 30.00 − 15.00; 30.00.
    assert [str(billed[d].total) for d in billed] == ["8.22 EUR", "15.00 EUR", "30.00 EUR"]


def test_plan_change_during_a_phase_follows_the_change_policy():
    sub = Subscription.create(
        id="S1",
        customer="C",
        catalog=CATALOG,
        plan="solo",
        start=date(2026, 3, 1),
        phases=[
            Phase(periods=3, discounts=[Discount.percent_off("INTRO", 50)]),
            Phase(periods=1, prices={"solo": Money("25", "EUR"), "team": Money("50", "EUR")}),
        ],
    )
    _, state = invoices(sub, [date(2026, 3, 1), date(2026, 4, 1)])
    # An upgrade is immediate (the catalog's policy): on 16 April, the unused half of April
    # on Solo is credited at what it was billed (−15.00 + 7.50 of discount), Team is billed
    # for it at the phase's 50 % (30.00 − 15.00).
    upgraded = sub.change_plan("team", CATALOG, on=date(2026, 4, 16))
    days = [date(2026, 4, 16), date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)]
    billed, _ = invoices(upgraded, days, state)
    assert lines(billed[date(2026, 4, 16)]) == [
        ("solo", date(2026, 4, 16), date(2026, 5, 1), "-15.00 EUR", "-7.50 EUR"),
        ("team", date(2026, 4, 16), date(2026, 5, 1), "30.00 EUR", "15.00 EUR"),
    ]
    assert str(billed[date(2026, 4, 16)].total) == "7.50 EUR"
    assert str(billed[date(2026, 5, 1)].total) == "30.00 EUR"  # 60.00 − 50 %
    assert str(billed[date(2026, 6, 1)].total) == "50.00 EUR"  # phase 2's price of Team
    assert str(billed[date(2026, 7, 1)].total) == "60.00 EUR"  # Team's own price
    # A downgrade waits for the period's end (the policy): Solo from 1 May, at 50 %.
    downgraded = upgraded.change_plan("solo", CATALOG, on=date(2026, 4, 20))
    assert downgraded.plan_on(date(2026, 5, 1)) == "solo"
    later, _ = invoices(downgraded, days, state)
    assert str(later[date(2026, 5, 1)].total) == "15.00 EUR"


def test_plan_change_at_period_end_during_a_phase_keeps_the_phase_discount():
    sub = Subscription.create(
        id="S1",
        customer="C",
        catalog=CATALOG,
        plan="solo",
        start=date(2026, 3, 1),
        phases=[Phase(periods=3, discounts=[Discount.percent_off("INTRO", 50)])],
    )
    changed = sub.change_plan("team", CATALOG, on=date(2026, 3, 20), timing=ChangeTiming.PERIOD_END)
    days = [date(2026, month, 1) for month in (3, 4, 5, 6)]
    billed, _ = invoices(changed, days)
    # Solo in March at 50 %, Team from April at 50 %, Team's own price after the phase.
    assert [str(invoice.total) for invoice in billed.values()] == [
        "15.00 EUR",
        "30.00 EUR",
        "30.00 EUR",
        "60.00 EUR",
    ]


# -- the portal, the monthly review, storage ------------------------------------------------


def test_portal_shows_the_trial_and_its_end():
    sub = new(trial=Trial(days=14), payment_method="pm_visa")
    overview = portal_overview(
        "Boulangerie Martin", catalog=CATALOG, subscriptions=[sub], as_of=date(2026, 3, 15)
    )
    row = overview.subscriptions[0]
    assert row.status is SubscriptionStatus.TRIAL
    assert row.trial_ends_on == TRIAL_END
    assert row.next_billing == TRIAL_END
    assert str(row.next_amount) == "16.45 EUR"
    assert "En essai (jusqu'au 24/03/2026)" in portal_text(overview, locale="fr_FR")
    assert "Trial (until" in portal_text(overview, locale="en_US")
    after = portal_overview(
        "Boulangerie Martin", catalog=CATALOG, subscriptions=[sub], as_of=TRIAL_END
    )
    assert after.subscriptions[0].status is SubscriptionStatus.ACTIVE
    assert after.subscriptions[0].trial_ends_on is None


def test_monthly_review_shows_the_trial_and_what_its_end_will_do():
    sub = new(trial=Trial(days=14, missing_payment_method=MissingPaymentMethod.CANCEL))
    findings = monthly_review(sub, CATALOG, as_of=date(2026, 3, 15))
    trial = [(f.code, f.severity, f.fact("ends_on")) for f in findings if f.check == "trial"]
    assert trial == [
        ("trial_running", "info", TRIAL_END),
        ("trial_will_cancel", "action", TRIAL_END),
    ]
    text = review_text(
        findings,
        subscription="S1",
        customer="Boulangerie Martin",
        as_of=date(2026, 3, 15),
        locale="fr_FR",
    )
    assert "Période d'essai\n" in text
    assert "l'abonnement sera résilié à la fin de l'essai" in text
    over = monthly_review(sub, CATALOG, as_of=date(2026, 4, 10))
    assert [(f.code, f.severity) for f in over if f.check == "trial"] == [
        ("trial_cancelled", "warning")
    ]
    invoiced = new(trial=Trial(days=14))
    codes = [f.code for f in monthly_review(invoiced, CATALOG, as_of=date(2026, 3, 15))]
    assert "trial_will_invoice" in codes
    converted = new(trial=Trial(days=14), payment_method="pm_visa")
    codes = [f.code for f in monthly_review(converted, CATALOG, as_of=date(2026, 4, 10))]
    assert "trial_converted" in codes
    # More than a month after the trial: nothing more to say about it.
    codes = [f.code for f in monthly_review(converted, CATALOG, as_of=date(2026, 5, 10))]
    assert not [code for code in codes if code.startswith("trial")]


def test_trials_and_phases_are_stored_and_read_back_equal():
    sub = new(
        trial=Trial(
            until=date(2026, 4, 1),
            anchor=TrialAnchor.TRIAL_END,
            missing_payment_method=MissingPaymentMethod.CANCEL,
        ),
        phases=[
            Phase(periods=3, discounts=[Discount.percent_off("INTRO", 50)]),
            Phase(periods=2, prices={"solo": Money("25", "EUR")}),
        ],
    )
    text = dumps(sub)
    assert loads(text, Subscription) == sub
    assert '"trial":{"anchor":"trial_end","missing_payment_method":"cancel"' in text


def test_subscriptions_stored_before_trials_read_back_equal():
    # A document written before trials and phases existed: no key for them.
    stored = (
        '{"data":{"currency":"EUR","customer":"C","id":"S1","plans":[{"code":"solo",'
        '"price":"30 EUR","start":"2026-03-10"}],"start":"2026-03-10"},"version":4}'
    )
    plain = Subscription.create(id="S1", customer="C", catalog=CATALOG, plan="solo", start=START)
    assert loads(stored, Subscription) == plain
    assert dumps(plain) == stored  # the new fields, at their defaults, are left out
    assert plain.trial is None
    assert plain.phases == ()


# -- properties -------------------------------------------------------------------------------


@st.composite
def trial_subscriptions(draw):
    start = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
    frequency = draw(st.sampled_from([MONTHLY, WEEKLY, QUARTERLY]))
    if draw(st.booleans()):
        trial = Trial(days=draw(st.integers(1, 120)))
    else:
        trial = Trial(until=start + timedelta(days=draw(st.integers(1, 120))))
    trial = attrs.evolve(
        trial,
        anchor=draw(st.sampled_from(list(TrialAnchor))),
        missing_payment_method=draw(st.sampled_from(list(MissingPaymentMethod))),
    )
    fields = {}
    if trial.anchor is TrialAnchor.KEEP_BILLING_DAY and frequency.is_month_based:
        fields["billing_day"] = draw(st.none() | st.integers(1, 31))
    sub = Subscription.create(
        id="S1",
        customer="C",
        catalog=CATALOG,
        plan="solo",
        start=start,
        frequency=frequency,
        trial=trial,
        payment_method=draw(st.none() | st.just("pm_visa")),
        phases=draw(st.sampled_from([(), (Phase(periods=2, prices={"team": Money("1", "EUR")}),)])),
        **fields,
    )
    offsets = draw(st.lists(st.integers(0, 200), min_size=1, max_size=4))
    for offset in sorted(offsets)[:2]:  # changes inside or after the trial
        day = start + timedelta(days=offset)
        target = "team" if sub.plan_on(day) == "solo" else "solo"
        if sub.is_live_on(day):
            sub = sub.change_plan(target, CATALOG, on=day)
    return sub, sorted(start + timedelta(days=o) for o in draw(st.lists(st.integers(0, 400))))


@settings(max_examples=150, deadline=None)
@given(trial_subscriptions())
def test_nothing_is_ever_billed_for_a_day_inside_a_trial(case):
    sub, days = case
    ends = sub.trial_ends_on
    billed, _ = invoices(sub, [*days, ends + timedelta(days=400)])
    for invoice in billed.values():
        for line in invoice.lines if invoice is not None else ():
            assert line.period is not None
            assert line.period.start >= ends, (line.period, ends)
    for charge in sub.charges(CATALOG):
        assert charge.start >= ends


PRICES = st.integers(100, 9_999).map(lambda cents: Money(Decimal(cents) / 100, "EUR"))


@st.composite
def phases(draw):
    found = []
    for index in range(draw(st.integers(1, 3))):
        priced = draw(st.booleans())
        found.append(
            Phase(
                periods=draw(st.integers(1, 4)),
                prices={"solo": draw(PRICES)} if priced else {},
                discounts=[]
                if priced
                else [Discount.percent_off(f"P{index}", draw(st.integers(1, 100)))],
            )
        )
    return found


def _rounded(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@settings(max_examples=100, deadline=None)
@given(
    phases(),
    st.sampled_from([None, Trial(days=10, anchor=TrialAnchor.TRIAL_END)]),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
)
def test_phase_invoices_add_up_to_each_phase_periods_at_its_price(all_phases, trial, start):
    sub = Subscription.create(
        id="S1",
        customer="C",
        catalog=CATALOG,
        plan="solo",
        start=start,
        trial=trial,
        payment_method="pm_visa",
        phases=all_phases,
    )
    schedule = sub.schedule
    first = schedule.index_of(sub.paid_from)
    count = sum(phase.periods for phase in all_phases) + 2  # and two periods after them
    days = [schedule.nth(first + n) for n in range(count)]
    billed, _ = invoices(sub, days)
    expected = Decimal(0)
    for phase in all_phases:
        price = phase.price_of("solo") or Money("30", "EUR")
        off = phase.discounts[0].percent / 100 if phase.discounts else Decimal(0)
        expected += phase.periods * (price.amount - _rounded(price.amount * off))
    expected += 2 * Decimal(30)
    assert sum(invoice.total.amount for invoice in billed.values()) == expected
    for window in sub.phase_windows():  # each billing date of a phase bills that phase
        inside = [d for d in days if window.start <= d and (window.end is None or d < window.end)]
        assert len(inside) == window.phase.periods


def test_as_known_on_the_trial_end_keeps_the_payment_method_of_that_day():
    # The review replays billing as known on each invoice's day: a card added after the
    # trial ended must not make that replay convert a trial that was cancelled.
    sub = new(trial=Trial(days=14, missing_payment_method=MissingPaymentMethod.CANCEL))
    late = sub.change_payment_method("pm_visa", on=date(2026, 3, 25))
    known = late.as_known_on(TRIAL_END)
    assert known.payment_method is None
    assert trial_outcome(known, on=TRIAL_END) is TrialOutcome.CANCELLED
    assert known.to_charge_plan(CATALOG).charges == ()
    assert late.as_known_on(date(2026, 3, 25)).payment_method == "pm_visa"


def test_from_mapping_reads_a_trial():
    sub = Subscription.from_mapping(
        {
            "id": "S1",
            "customer": "C",
            "plan": "solo",
            "start": "2026-03-10",
            "trial": {"days": 14, "anchor": "trial_end", "missing_payment_method": "cancel"},
        },
        catalog=CATALOG,
    )
    assert sub.trial == Trial(
        days=14, anchor=TrialAnchor.TRIAL_END, missing_payment_method=MissingPaymentMethod.CANCEL
    )
    with pytest.raises(InputError) as caught:
        Subscription.from_mapping(
            {
                "id": "S1",
                "customer": "C",
                "plan": "solo",
                "start": "2026-03-10",
                "trial": {"days": 14, "anchor": "later", "weeks": 2},
            },
            catalog=CATALOG,
        )
    message = str(caught.value)
    assert "trial.anchor" in message
    assert "trial.weeks: unknown key" in message

import itertools
import json
import pickle
from datetime import date, timedelta
from fractions import Fraction

import attrs
import pytest
from benchmarks.workloads import mix_subscriptions
from hypothesis import given
from hypothesis import strategies as st

from subbill import (
    Allowed,
    Catalog,
    Discount,
    InvalidArgumentError,
    Refused,
    RefusedError,
    Subscription,
    SubscriptionStatus,
    bill_subscription,
    can_activate,
    preview_change,
)
from subbill.catalog import ChangeTiming
from subbill.charges import RecurringCharge
from subbill.errors import InputError, InvalidStateError
from subbill.invoices import LineKind, Payment
from subbill.l10n import knows_refusal, refusal_text
from subbill.subscriptions import ChangeDirection, can_add, can_deactivate, check_replacement
from tests.builders import eur
from tests.seed_catalog import SEED_CATALOG_DATA, seed_catalog

CATALOG = seed_catalog()
START = date(2026, 3, 1)


def new(plan="essentiel", **kw):
    return Subscription.create(
        id="S1", customer="Boulangerie Martin", catalog=CATALOG, plan=plan, start=START, **kw
    )


def bill(subscription, state=None, *, as_of):
    return bill_subscription(subscription.to_charge_plan(CATALOG), state, as_of=as_of)


# -- status -------------------------------------------------------------------------------------


def test_status_is_derived_from_dates_and_events():
    sub = new()
    assert sub.status(as_of=date(2026, 2, 28)) is SubscriptionStatus.SCHEDULED
    assert sub.status(as_of=START) is SubscriptionStatus.ACTIVE
    cancelled = sub.cancel(on=date(2026, 4, 10))
    assert cancelled.cancel_at == date(2026, 5, 1)
    assert cancelled.status(as_of=date(2026, 4, 30)) is SubscriptionStatus.CANCELLED_AT_PERIOD_END
    assert cancelled.status(as_of=date(2026, 5, 1)) is SubscriptionStatus.CANCELLED
    fixed = Subscription.create(
        id="S2", customer="C", catalog=CATALOG, plan="pro", start=START, end=date(2027, 3, 1)
    )
    assert fixed.status(as_of=date(2027, 2, 28)) is SubscriptionStatus.ACTIVE
    assert fixed.status(as_of=date(2027, 3, 1)) is SubscriptionStatus.EXPIRED


def test_unpaid_when_an_open_invoice_is_overdue():
    sub = new()
    invoice = bill(sub, as_of=START).invoice.finalize(number="F-2026-000001")
    assert sub.status(as_of=date(2026, 3, 31), invoices=[invoice]) is SubscriptionStatus.ACTIVE
    assert sub.status(as_of=date(2026, 4, 1), invoices=[invoice]) is SubscriptionStatus.UNPAID
    paid = invoice.apply_payment(Payment(amount=eur("29"), paid_on=date(2026, 4, 2))).invoice
    assert sub.status(as_of=date(2026, 4, 3), invoices=[paid]) is SubscriptionStatus.ACTIVE


def test_immediate_cancellation_credits_the_rest_of_the_period():
    sub = new()
    first = bill(sub, as_of=START)
    cancelled = sub.cancel(on=date(2026, 3, 21), at_period_end=False)
    result = bill(cancelled, first.state, as_of=date(2026, 3, 21))
    assert [(line.kind, line.amount) for line in result.invoice.lines] == [
        (LineKind.PRORATION_CREDIT, eur("-10.29"))
    ]
    with pytest.raises(RefusedError, match="already_cancelled"):
        cancelled.cancel(on=date(2026, 3, 22))


# -- modules --------------------------------------------------------------------------------------


def test_module_refused_by_plan_names_the_minimum_plan():
    decision = can_activate(new(), "stock", CATALOG, on=START)
    assert decision == Refused(
        code="requires_plan", facts={"module": "Stock", "plans": "Pro, Business", "minimum": "Pro"}
    )
    assert (
        refusal_text(decision, locale="fr_FR")
        == "Le module Stock nécessite le plan Pro ou supérieur."
    )
    assert refusal_text(decision, locale="en_US") == "The module Stock requires plan Pro or above."


def test_module_refused_by_missing_addon_then_allowed_once_subscribed():
    sub = new("pro")
    decision = can_activate(sub, "multidepot", CATALOG, on=START)
    assert isinstance(decision, Refused)
    assert decision.code == "requires_addon"
    assert decision.fact("addons") == "Multi-sociétés"
    assert refusal_text(decision, locale="fr_FR") == (
        "Le module Multi-dépôts nécessite l'option complémentaire Multi-sociétés, non souscrite."
    )
    with_addon = sub.add("multisoc", CATALOG, on=date(2026, 3, 5))
    assert can_activate(with_addon, "multidepot", CATALOG, on=date(2026, 3, 5)) == Allowed()
    with pytest.raises(RefusedError, match="requires_addon"):
        sub.activate("multidepot", CATALOG, on=START)


def test_module_already_active_or_included_in_plan():
    sub = new("pro", modules=["crm"])
    assert can_activate(sub, "crm", CATALOG, on=START).code == "already_active"
    assert can_activate(sub, "rapports", CATALOG, on=START).code == "included_in_plan"
    assert can_deactivate(sub, "rapports", CATALOG, on=START).code == "included_in_plan"
    assert can_deactivate(sub, "stock", CATALOG, on=START).code == "not_active"
    assert can_activate(sub, "nope", CATALOG, on=START).code == "unknown_module"


def test_module_activated_mid_period_is_billed_pro_rata():
    sub = new("pro")
    first = bill(sub, as_of=START)
    with_stock = sub.activate("stock", CATALOG, on=date(2026, 3, 11))
    result = bill(with_stock, first.state, as_of=date(2026, 3, 11))
    (line,) = result.invoice.lines
    assert (line.code, line.factor, line.amount) == ("stock", Fraction(21, 31), eur("6.10"))
    assert line.explanation.reason == "module_activated"


def test_module_activated_with_next_period_billing():
    sub = new("pro")
    first = bill(sub, as_of=START)
    with_stock = sub.activate(
        "stock", CATALOG, on=date(2026, 3, 11), timing=ChangeTiming.PERIOD_END
    )
    assert "stock" in with_stock.modules_on(date(2026, 3, 11))  # usable now
    assert bill(with_stock, first.state, as_of=date(2026, 3, 11)).invoice is None  # billed later
    april = bill(with_stock, first.state, as_of=date(2026, 4, 1))
    assert [(line.code, line.amount) for line in april.invoice.lines] == [
        ("pro", eur("59.00")),
        ("stock", eur("9.00")),
    ]


def test_module_deactivated_at_period_end_by_policy():
    sub = new("pro", modules=["stock"])
    off = sub.deactivate("stock", CATALOG, on=date(2026, 3, 20))
    assert "stock" in off.modules_on(date(2026, 3, 31))
    assert "stock" not in off.modules_on(date(2026, 4, 1))
    first = bill(sub, as_of=START)
    assert bill(off, first.state, as_of=date(2026, 3, 20)).invoice is None  # no credit
    april = bill(off, first.state, as_of=date(2026, 4, 1))
    assert [line.code for line in april.invoice.lines] == ["pro"]


def test_addon_cannot_be_cancelled_while_a_module_needs_it():
    sub = new("pro", addons=["multisoc"], modules=["multidepot"])
    with pytest.raises(RefusedError, match="required_by") as caught:
        sub.remove("multisoc", CATALOG, on=date(2026, 3, 10))
    assert refusal_text(caught.value.refusal, locale="fr_FR") == (
        "L'option Multi-sociétés est nécessaire aux modules actifs : Multi-dépôts."
    )
    assert can_add(sub, "multisoc", CATALOG, on=START).code == "already_active"


# -- plan changes ------------------------------------------------------------------------------


def test_upgrade_is_immediate_and_prorated():
    sub = new()
    first = bill(sub, as_of=START)
    preview = preview_change(sub, "pro", CATALOG, on=date(2026, 3, 13))
    assert preview.direction is ChangeDirection.UPGRADE
    assert preview.timing is ChangeTiming.IMMEDIATE
    assert preview.effective_on == date(2026, 3, 13)
    assert [(line.code, line.kind, line.amount) for line in preview.lines] == [
        ("essentiel", LineKind.PRORATION_CREDIT, eur("-17.77")),  # 19/31 × 29
        ("pro", LineKind.PRORATION_CHARGE, eur("36.16")),  # 19/31 × 59
    ]
    assert preview.amount_due == eur("18.39")
    upgraded = sub.change_plan("pro", CATALOG, on=date(2026, 3, 13))
    result = bill(upgraded, first.state, as_of=date(2026, 3, 13))
    assert result.invoice.lines == preview.lines
    assert upgraded.history[-1].kind == "upgrade"


def test_downgrade_applies_at_the_next_period():
    sub = new("business")
    first = bill(sub, as_of=START)
    preview = preview_change(sub, "pro", CATALOG, on=date(2026, 3, 13))
    assert preview.direction is ChangeDirection.DOWNGRADE
    assert preview.effective_on == date(2026, 4, 1)
    down = sub.change_plan("pro", CATALOG, on=date(2026, 3, 13))
    assert down.plan_on(date(2026, 3, 31)) == "business"
    assert bill(down, first.state, as_of=date(2026, 3, 13)).invoice is None
    april = bill(down, first.state, as_of=date(2026, 4, 1))
    assert [(line.code, line.amount) for line in april.invoice.lines] == [("pro", eur("59.00"))]


def test_downgrade_refused_when_usage_exceeds_the_new_limits():
    sub = new("pro")
    preview = preview_change(
        sub, "essentiel", CATALOG, on=START, usage={"clients": 150, "documents": 20}
    )
    assert preview.over_limits == (("clients", 150, 100),)
    assert preview.decision.code == "usage_over_limits"
    assert refusal_text(preview.decision, locale="fr_FR") == (
        "Le plan Essentiel ne suffit pas pour votre utilisation actuelle : clients 150/100."
    )
    with pytest.raises(RefusedError, match="usage_over_limits"):
        sub.change_plan("essentiel", CATALOG, on=START, usage={"clients": 150})


def test_downgrade_switches_off_modules_the_new_plan_does_not_allow():
    sub = new("pro", modules=["stock", "crm"])
    preview = preview_change(sub, "essentiel", CATALOG, on=date(2026, 3, 13))
    assert preview.modules_switched_off == {"stock"}
    down = sub.change_plan("essentiel", CATALOG, on=date(2026, 3, 13))
    assert down.modules_on(date(2026, 4, 1)) == {"crm"}
    assert "stock" in down.modules_on(date(2026, 3, 31))


def test_caller_can_override_the_policy():
    sub = new("business")
    first = bill(sub, as_of=START)
    down = sub.change_plan("pro", CATALOG, on=date(2026, 3, 13), timing=ChangeTiming.IMMEDIATE)
    result = bill(down, first.state, as_of=date(2026, 3, 13))
    assert [line.amount for line in result.invoice.lines] == [eur("-72.94"), eur("36.16")]


def test_same_plan_is_refused():
    assert preview_change(new(), "essentiel", CATALOG, on=START).decision.code == "same_plan"


# -- properties --------------------------------------------------------------------------------

days = st.integers(0, 700)


@given(days, st.sampled_from(["pro", "business"]))
def test_upgrade_then_immediate_reverse_downgrade_nets_to_zero(offset, higher):
    sub = new()
    on = START + timedelta(days=offset)
    first = bill(sub, as_of=on)
    up = sub.change_plan(higher, CATALOG, on=on)
    back = up.change_plan("essentiel", CATALOG, on=on, timing=ChangeTiming.IMMEDIATE)
    result = bill(back, first.state, as_of=on)
    total = (
        sum((line.amount for line in result.invoice.lines), eur("0"))
        if result.invoice
        else eur("0")
    )
    assert total == eur("0")


# The timed changes a history draws from: the verb and the codes it is given.
TIMED_CHANGES = {
    "plan": (Subscription.change_plan, ["essentiel", "pro", "business"]),
    "activate": (Subscription.activate, ["stock", "crm", "multidepot", "agenda"]),
    "deactivate": (Subscription.deactivate, ["stock", "crm", "agenda"]),
}


@st.composite
def histories(draw):
    sub = new(draw(st.sampled_from(["essentiel", "pro", "business"])))
    day = START
    for _ in range(draw(st.integers(0, 6))):
        day += timedelta(days=draw(st.integers(1, 60)))
        action = draw(st.sampled_from([*TIMED_CHANGES, "addon"]))
        timing = draw(st.sampled_from(list(ChangeTiming)))
        try:
            if action == "addon":
                sub = sub.add("multisoc", CATALOG, on=day)
            else:
                change, codes = TIMED_CHANGES[action]
                sub = change(sub, draw(st.sampled_from(codes)), CATALOG, on=day, timing=timing)
        except RefusedError as error:
            assert knows_refusal(error.refusal.code)  # noqa: PT017  (a strategy, not a test)
    return sub


@given(histories(), st.integers(0, 500))
def test_derived_charges_of_an_item_never_overlap_nor_leave_a_gap(sub, offset):
    # A charge that ends the day it starts covers no day (a span withdrawn before it ran,
    # kept so that what was billed for it is credited): the days are covered by the others.
    everything = sub.charges(CATALOG)
    charges = [c for c in everything if c.end != c.start]
    withdrawn = {
        f"{w.span.code}@{(w.span.billed_from or w.span.start).isoformat()}" for w in sub.withdrawn
    }
    ended_early = {
        f"{span.code}@{(span.billed_from or span.start).isoformat()}"
        for span in (*sub.plans, *sub.modules, *sub.addons)
        if span.end is not None and span.end <= (span.billed_from or span.start)
    }
    assert {c.key for c in everything if c.end == c.start} <= withdrawn | ended_early
    plans = sorted(
        (c for c in charges if c.code in {"essentiel", "pro", "business"}), key=lambda c: c.start
    )
    for before, after in itertools.pairwise(plans):
        assert before.end == after.start
    assert plans[0].start == START
    assert plans[-1].end is None
    day = START + timedelta(days=offset)
    active = [c for c in plans if c.start <= day and (c.end is None or day < c.end)]
    assert len(active) == 1
    assert active[0].code == sub.plan_on(day)
    for code in {c.code for c in charges} - {"essentiel", "pro", "business"}:
        spans = sorted((c for c in charges if c.code == code), key=lambda c: c.start)
        for before, after in itertools.pairwise(spans):
            assert before.end is not None
            assert before.end <= after.start


@given(
    histories(),
    st.sampled_from(["stock", "crm", "multidepot", "agenda", "rapports", "ghost"]),
    days,
)
def test_every_refusal_has_french_and_english_words(sub, module, offset):
    day = START + timedelta(days=offset)
    for decision in (
        can_activate(sub, module, CATALOG, on=day),
        can_deactivate(sub, module, CATALOG, on=day),
        can_add(sub, "multisoc", CATALOG, on=day),
        preview_change(sub, "pro", CATALOG, on=day, usage={"clients": 2000}).decision,
    ):
        if isinstance(decision, Refused):
            assert knows_refusal(decision.code)
            french = refusal_text(decision, locale="fr_FR")
            english = refusal_text(decision, locale="en_US")
            assert "…" not in french
            assert "…" not in english
            assert french != english


# -- prices are kept on the subscription; a new catalog never re-prices what was billed --------


def _raised(price):
    data = json.loads(json.dumps(SEED_CATALOG_DATA))
    data["plans"][0]["prices"]["monthly"] = price
    return Catalog.from_mapping(data)


def test_a_new_catalog_never_reprices_billed_periods():
    subscription = new()
    march = bill(subscription, as_of=date(2026, 3, 15))
    assert march.invoice.total == eur("29.00")
    raised = _raised("35.00")
    # Billing with the new catalog, again and later: March keeps 29.00, and so does April
    # until the new price is applied from a date.
    again = bill_subscription(
        subscription.to_charge_plan(raised), march.state, as_of=date(2026, 3, 15)
    )
    assert again.invoice is None
    april = bill_subscription(
        subscription.to_charge_plan(raised), march.state, as_of=date(2026, 4, 1)
    )
    assert april.invoice.total == eur("29.00")


def test_reprice_applies_new_prices_from_a_date_and_keeps_billed_ones():
    subscription = new()
    march = bill(subscription, as_of=date(2026, 3, 15))
    raised = _raised("35.00")
    repriced = subscription.reprice(raised, on=date(2026, 4, 1))
    check_replacement(subscription, repriced, catalog=raised, state=march.state)  # allowed
    same = bill_subscription(repriced.to_charge_plan(raised), march.state, as_of=date(2026, 3, 15))
    assert same.invoice is None
    april = bill_subscription(repriced.to_charge_plan(raised), march.state, as_of=date(2026, 4, 1))
    assert [(line.code, line.amount) for line in april.invoice.lines] == [
        ("essentiel", eur("35.00"))
    ]
    assert repriced.history[-1].kind == "price_change"


def test_replacing_a_billed_subscription_on_another_plan_is_refused():
    subscription = new()
    march = bill(subscription, as_of=date(2026, 3, 15))
    with pytest.raises(InvalidStateError, match=r"change_plan"):
        check_replacement(subscription, new("pro"), catalog=CATALOG, state=march.state)
    moved = Subscription.create(
        id="S1",
        customer="Boulangerie Martin",
        catalog=CATALOG,
        plan="essentiel",
        start=START + timedelta(days=1),
    )
    with pytest.raises(InvalidStateError, match=r"billed through 2026-04-01"):
        check_replacement(subscription, moved, catalog=CATALOG, state=march.state)
    # A replacement that only changes the future is accepted, and a recorded change too.
    upgraded = subscription.change_plan("pro", CATALOG, on=date(2026, 3, 20))
    check_replacement(subscription, upgraded, catalog=CATALOG, state=march.state)
    cancelled = subscription.cancel(on=date(2026, 3, 20), at_period_end=False)
    check_replacement(subscription, cancelled, catalog=CATALOG, state=march.state)
    credit = bill(cancelled, march.state, as_of=date(2026, 3, 20))
    assert credit.invoice.total == eur("-11.23")  # 12/31 of 29.00 given back


# -- a change never drops what was billed (review of issue 10) ---------------------------------


def _billed_upgrade():
    subscription = new()
    first = bill(subscription, as_of=START)
    upgraded = subscription.change_plan("pro", CATALOG, on=date(2026, 3, 15))
    second = bill(upgraded, first.state, as_of=date(2026, 3, 15))
    return upgraded, first, second


def test_an_upgrade_reversed_the_same_day_after_a_bill_nets_to_zero():
    upgraded, first, second = _billed_upgrade()
    assert second.invoice.total == eur("16.45")  # 17/31 of (59.00 − 29.00)
    back = upgraded.change_plan(
        "essentiel", CATALOG, on=date(2026, 3, 15), timing=ChangeTiming.IMMEDIATE
    )
    third = bill(back, second.state, as_of=date(2026, 3, 15))
    assert third.invoice.total == eur("-16.45")
    assert first.invoice.total + second.invoice.total + third.invoice.total == eur("29.00")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.change_plan("business", CATALOG, on=date(2026, 3, 15)),
        lambda s: s.change_plan("business", CATALOG, on=date(2026, 3, 10)),
        lambda s: s.cancel(on=date(2026, 3, 15), at_period_end=False),
    ],
    ids=["second-upgrade-same-day", "backdated-upgrade", "cancelled-on-the-upgrade-day"],
)
def test_a_billed_plan_replaced_before_it_ran_is_credited_not_dropped(change):
    upgraded, _, second = _billed_upgrade()
    changed = change(upgraded)
    third = bill(changed, second.state, as_of=date(2026, 3, 16))
    pro = [line for line in third.invoice.lines if line.code == "pro"]
    assert sum((line.amount for line in pro), eur("0")) == eur("-32.35")  # 17/31 of 59.00
    assert bill(changed, third.state, as_of=date(2026, 3, 16)).invoice is None


def test_a_module_switched_off_the_day_it_was_billed_is_credited():
    subscription = new("pro").activate("stock", CATALOG, on=date(2026, 3, 10))
    first = bill(subscription, as_of=date(2026, 3, 10))
    off = subscription.deactivate(
        "stock", CATALOG, on=date(2026, 3, 10), timing=ChangeTiming.IMMEDIATE
    )
    second = bill(off, first.state, as_of=date(2026, 3, 10))

    def stock(result):
        return sum((x.amount for x in result.invoice.lines if x.code == "stock"), eur("0"))

    stock_billed, stock_credit = stock(first), stock(second)
    assert stock_billed == eur("6.39")  # 22/31 of 9.00
    assert stock_credit == -stock_billed


def test_removing_a_discount_of_a_billed_subscription_is_refused():
    # The review's case: 50 % off billed (14.50), the discount removed, then a cancellation
    # credited 28.06 at full price: 13.56 invented.
    half = Discount.percent_off("HALF", "50")
    subscription = new(discounts=(half,))
    first = bill(subscription, as_of=START)
    assert first.invoice.total == eur("14.50")
    with pytest.raises(InvalidStateError, match="HALF"):
        check_replacement(
            subscription,
            attrs.evolve(subscription, discounts=()),
            catalog=CATALOG,
            state=first.state,
        )
    # A discount added later must start after what was billed.
    later = Discount.percent_off("LATER", "10")
    with pytest.raises(InvalidStateError, match="starts_on=2026-04-01"):
        check_replacement(
            subscription,
            attrs.evolve(subscription, discounts=(half, later)),
            catalog=CATALOG,
            state=first.state,
        )
    from_april = Discount.percent_off("LATER", "10", starts_on=date(2026, 4, 1))
    check_replacement(
        subscription,
        attrs.evolve(subscription, discounts=(half, from_april)),
        catalog=CATALOG,
        state=first.state,
    )
    # The cancellation mirrors the discount: half of 30/31 of 29.00.
    cancelled = subscription.cancel(on=date(2026, 3, 2), at_period_end=False)
    credit = bill(cancelled, first.state, as_of=date(2026, 3, 2))
    assert credit.invoice.total == eur("-14.03")


def test_change_quantity_bills_the_new_seats_from_a_date():
    subscription = new(quantity=3)
    first = bill(subscription, as_of=START)
    assert first.invoice.total == eur("87.00")
    more = subscription.change_quantity(5, on=date(2026, 3, 16))
    check_replacement(subscription, more, catalog=CATALOG, state=first.state)
    second = bill(more, first.state, as_of=date(2026, 3, 16))
    # 16/31 of 3 × 29.00 given back, 16/31 of 5 × 29.00 charged.
    assert [str(line.amount) for line in second.invoice.lines] == ["-44.90 EUR", "74.84 EUR"]
    assert more.history[-1].kind == "quantity_change"
    april = bill(more, second.state, as_of=date(2026, 4, 1))
    assert april.invoice.total == eur("145.00")
    # A replacement with other seats from the start is refused, naming change_quantity.
    with pytest.raises(InvalidStateError, match="change_quantity"):
        check_replacement(subscription, new(quantity=5), catalog=CATALOG, state=first.state)


def test_a_quantity_read_from_data_is_bounded_like_every_quantity():
    # The review: quantity 10**20 said « must be below 10^15 » (the bound of an amount);
    # a quantity is at most 10^12.
    entry = {"id": "S1", "customer": "C", "plan": "essentiel", "start": "2026-03-01"}
    with pytest.raises(InputError) as caught:
        Subscription.from_mapping({**entry, "quantity": 10**20}, catalog=CATALOG)
    assert str(caught.value) == (
        "quantity: quantity=100000000000000000000 must be at most 10^12 in magnitude"
    )
    with pytest.raises(InputError, match=r"^quantity: quantity=-2 must be >= 0$"):
        Subscription.from_mapping({**entry, "quantity": -2}, catalog=CATALOG)
    read = Subscription.from_mapping({**entry, "quantity": 10**12}, catalog=CATALOG)
    assert read.quantity == 10**12


def test_a_new_catalog_without_the_subscribed_price_is_refused():
    data = json.loads(json.dumps(SEED_CATALOG_DATA))
    del data["plans"][0]["prices"]["monthly"]
    annual_only = Catalog.from_mapping(data)
    with pytest.raises(InvalidArgumentError, match="no P1M price"):
        new().reprice(annual_only, on=date(2026, 4, 1))


def test_reloading_a_cancelled_subscription_never_undoes_its_cancellation():
    # The review's case: cancelled on 10 March (credited), then replaced by the original:
    # accepted, and the credited days billed again.
    subscription = new("pro")
    first = bill(subscription, as_of=START)
    cancelled = subscription.cancel(on=date(2026, 3, 10), at_period_end=False)
    credited = bill(cancelled, first.state, as_of=date(2026, 3, 10))
    assert credited.invoice.total == eur("-41.87")  # 22/31 of 59.00
    with pytest.raises(InvalidStateError, match="records cancellation on 2026-03-10"):
        check_replacement(cancelled, new("pro"), catalog=CATALOG, state=credited.state)


def test_a_free_module_given_a_price_is_billed_from_a_date_never_for_the_past():
    # The review's case: Agenda, free, priced 4.00 by a new catalog, was billed 4.00 for
    # January, February and March, periods billed while it was free.
    subscription = Subscription.create(
        id="S1",
        customer="C",
        catalog=CATALOG,
        plan="essentiel",
        start=date(2026, 1, 1),
        modules=["agenda"],
    )
    billed = bill(subscription, as_of=date(2026, 3, 1))
    assert billed.invoice.total == eur("87.00")  # three months of Essentiel, Agenda free
    data = json.loads(json.dumps(SEED_CATALOG_DATA))
    agenda = next(m for m in data["modules"] if m["code"] == "agenda")
    agenda["prices"] = {"monthly": "4.00"}
    priced = Catalog.from_mapping(data)
    again = bill_subscription(
        subscription.to_charge_plan(priced), billed.state, as_of=date(2026, 3, 10)
    )
    assert again.invoice is None
    repriced = subscription.reprice(priced, on=date(2026, 4, 1))
    april = bill_subscription(repriced.to_charge_plan(priced), billed.state, as_of=date(2026, 4, 1))
    assert [(line.code, str(line.amount)) for line in april.invoice.lines] == [
        ("essentiel", "29.00 EUR"),
        ("agenda", "4.00 EUR"),
    ]


# -- third review --------------------------------------------------------------------------------


def test_booking_an_add_on_or_module_again_earlier_is_refused():
    # The review's case: add-on booked from 20 March then again from 10 March: April billed
    # twice for each item.
    subscription = new("pro").add("multisoc", CATALOG, on=date(2026, 3, 20))
    with pytest.raises(RefusedError) as refused:
        subscription.add("multisoc", CATALOG, on=date(2026, 3, 10))
    assert refused.value.refusal.code == "already_scheduled"
    subscription = new("pro").activate("stock", CATALOG, on=date(2026, 3, 20))
    with pytest.raises(RefusedError) as refused:
        subscription.activate("stock", CATALOG, on=date(2026, 3, 10))
    assert refused.value.refusal.code == "already_scheduled"
    assert "already scheduled from 2026-03-20" in refusal_text(
        refused.value.refusal, locale="en_US"
    )


def test_a_module_switched_off_before_its_billing_start_never_bills_its_free_days():
    subscription = Subscription.create(
        id="S1", customer="C", catalog=CATALOG, plan="pro", start=date(2026, 1, 1)
    )
    first = bill(subscription, as_of=date(2026, 1, 1))
    on = subscription.activate(
        "stock", CATALOG, on=date(2026, 1, 10), timing=ChangeTiming.PERIOD_END
    )
    off = on.deactivate("stock", CATALOG, on=date(2026, 1, 15))
    february = bill(off, first.state, as_of=date(2026, 2, 1))
    assert [line.code for line in february.invoice.lines] == ["pro"]  # no 6.39 for Stock
    # Billed for February, then switched off on 20 January: February is credited.
    billed = bill(on, first.state, as_of=date(2026, 2, 1))
    stock = [x.amount for x in billed.invoice.lines if x.code == "stock"]
    assert stock == [eur("9.00")]
    later = on.deactivate("stock", CATALOG, on=date(2026, 1, 20), timing=ChangeTiming.IMMEDIATE)
    check_replacement(on, later, catalog=CATALOG, state=billed.state)
    credit = bill(later, billed.state, as_of=date(2026, 2, 2))
    assert [(x.code, str(x.amount)) for x in credit.invoice.lines] == [("stock", "-9.00 EUR")]


_MIX = list(mix_subscriptions(60))


@given(
    st.sampled_from(_MIX),
    st.sampled_from([None, date(2026, 1, 31), date(2026, 7, 1)]),
    st.booleans(),
)
def test_a_quoted_lines_charges_are_those_its_fields_give(subscription, cancel_on, pickled):
    """A quoted line keeps the charge it builds to check itself, and bills with it.

    What a subscription bills is the same whether the line still holds that charge or not
    (a pickled line, as a worker process receives it, holds none): cancelled or not.
    """
    if cancel_on is not None and cancel_on > subscription.start:
        subscription = subscription.cancel(on=cancel_on, at_period_end=True)
    fresh = pickle.loads(pickle.dumps(subscription))
    billed = (fresh if pickled else subscription).to_charge_plan()
    again = fresh.to_charge_plan() if not pickled else subscription.to_charge_plan()
    assert billed == again
    for line, charge in zip(subscription.lines, billed.charges, strict=True):
        same = ("code", "unit_price", "quantity", "frequency", "billing_day", "start")
        expected = RecurringCharge(
            description=line.name,
            end=charge.end,
            discounts=line.discounts,
            tax_rates=line.tax_rates,
            **{name: getattr(line, name) for name in same},
        )
        assert charge == expected
        if charge.end is None:
            assert line.charge(ends_on=None) is line.charge(ends_on=None)


def test_a_module_dropped_before_its_billing_start_then_taken_again_bills_once():
    # Found by test_codec_rows' property: activated at period end on 2 March (billed from
    # 1 April), dropped at once on 3 March, taken again at period end on 4 March. Both spans
    # start their billing on 1 April: the first bills nothing and must not collide with the
    # second (two charges keyed 'stock@2026-04-01' made the subscription unbillable).
    sub = new("pro")
    sub = sub.activate("stock", CATALOG, on=date(2026, 3, 2), timing=ChangeTiming.PERIOD_END)
    sub = sub.deactivate("stock", CATALOG, on=date(2026, 3, 3), timing=ChangeTiming.IMMEDIATE)
    sub = sub.activate("stock", CATALOG, on=date(2026, 3, 4), timing=ChangeTiming.PERIOD_END)
    stock = [c for c in sub.to_charge_plan(CATALOG).charges if c.code == "stock"]
    assert [(c.key, c.start, c.end, c.unit_price) for c in stock] == [
        ("stock@2026-04-01", date(2026, 4, 1), None, eur("9.00"))
    ]
    result = bill_subscription(sub.to_charge_plan(CATALOG), None, as_of=date(2026, 4, 1))
    assert [(line.code, line.amount) for line in result.invoice.lines if line.code == "stock"] == [
        ("stock", eur("9.00"))
    ]

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import (
    Card,
    InvalidArgumentError,
    InvalidTypeError,
    Subscription,
    bill_subscription,
    explain_invoice,
    monthly_review,
)
from subbill.errors import FloatAmountError, InvalidAmountError
from subbill.l10n import finding_text, knows_finding, story_text
from subbill.payments import InvalidCardError, OtherMethod
from subbill.subscriptions import ChangeDirection
from subbill.usage import UsageState, check_usage, recommend_plan
from tests.builders import eur
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
START = date(2026, 3, 1)


def test_check_usage_states_and_threshold():
    plan = CATALOG.plan("essentiel")  # clients 100, documents 500, commandes 200
    result = {
        u.resource: u
        for u in check_usage(plan, {"clients": 79, "documents": 400, "commandes": 200})
    }
    assert result["clients"].state is UsageState.OK
    assert result["clients"].ratio == Fraction(79, 100)
    assert result["documents"].state is UsageState.NEAR_LIMIT  # exactly 80 %
    assert result["commandes"].state is UsageState.AT_LIMIT
    over = check_usage(plan, {"clients": 101})
    assert [u.state for u in over if u.resource == "clients"] == [UsageState.OVER]
    strict = check_usage(plan, {"clients": 60}, threshold=Fraction(1, 2))
    assert [u.state for u in strict if u.resource == "clients"] == [UsageState.NEAR_LIMIT]
    unlimited = check_usage(CATALOG.plan("business"), {"clients": 10**6})
    assert [(u.limit, u.state) for u in unlimited if u.resource == "clients"] == [
        (None, UsageState.OK)
    ]
    with pytest.raises(InvalidArgumentError, match=r"usage\['clients'\]=-1 must be an int >= 0"):
        check_usage(plan, {"clients": -1})


def test_recommend_plan_steps_one_plan_at_a_time():
    up = recommend_plan(CATALOG, {"clients": 5000, "documents": 6000}, current="essentiel")
    assert up.recommended.code == "business"
    assert up.next_step.code == "business"  # Pro cannot hold 5000 clients: the nearest that fits
    assert up.direction is ChangeDirection.UPGRADE
    grow = recommend_plan(CATALOG, {"clients": 950}, current="essentiel")
    assert (grow.recommended.code, grow.next_step.code) == ("business", "pro")  # 950 > 80 % of 1000
    down = recommend_plan(CATALOG, {"clients": 20, "documents": 30}, current="business")
    assert (down.recommended.code, down.next_step.code, down.direction) == (
        "essentiel",
        "pro",
        ChangeDirection.DOWNGRADE,
    )
    same = recommend_plan(CATALOG, {"clients": 20}, current="essentiel")
    assert (same.next_step, same.direction, same.current_fits) == (None, ChangeDirection.SAME, True)


usage_values = st.dictionaries(
    st.sampled_from(["clients", "documents", "commandes"]), st.integers(0, 100_000), max_size=3
)


@given(usage_values, st.sampled_from(["essentiel", "pro", "business"]))
def test_recommend_plan_never_proposes_a_plan_the_usage_exceeds(usage, current):
    advice = recommend_plan(CATALOG, usage, current=current)
    fitting = [
        p
        for p in CATALOG.plans
        if all(p.limit(r) is None or u <= p.limit(r) for r, u in usage.items())
    ]
    if fitting:
        for proposed in (advice.recommended, advice.next_step):
            if proposed is not None:
                assert proposed in fitting
        assert advice.recommended == min(
            (
                p
                for p in fitting
                if all(
                    p.limit(r) is None or u <= p.limit(r) * Fraction(4, 5) for r, u in usage.items()
                )
            ),
            key=lambda p: p.rank,
            default=fitting[0],
        )
    else:
        assert advice.recommended is None


# -- the monthly review ----------------------------------------------------------------------------


def _sub(**kw):
    return Subscription.create(
        id="S1",
        customer="Boulangerie Martin",
        catalog=CATALOG,
        plan="pro",
        start=START,
        modules=["stock", "crm"],
        payment_method="pm_card",
        **kw,
    )


def test_monthly_review_answers_the_four_questions_of_the_seed():
    sub = _sub()
    march = bill_subscription(sub.to_charge_plan(CATALOG), as_of=START).invoice.finalize(
        number="F-2026-000001"
    )
    card = Card(id="pm_card", brand="Visa", last4="4242", exp_month=3, exp_year=2026)
    findings = monthly_review(
        sub,
        CATALOG,
        usage={"clients": 850, "documents": 40, "commandes": 10},
        module_usage={"stock": 120, "crm": 0},
        invoices=[march],
        payment_methods=[card],
        as_of=date(2026, 3, 25),
    )
    codes = [(f.check, f.code) for f in findings]
    assert codes == [
        ("plan", "plan_ok"),
        ("modules", "module_unused"),
        ("usage", "resource_near_limit"),
        ("billing", "invoice_matches"),
        ("payment_method", "payment_method_expiring"),
    ]
    unused = findings[1]
    assert (unused.fact("module"), unused.amount) == ("CRM", eur("5.00"))
    near = findings[2]
    assert (near.fact("resource"), near.fact("used"), near.fact("limit"), near.fact("percent")) == (
        "clients",
        850,
        1000,
        85,
    )
    words = [finding_text(f, locale="fr_FR").replace("\xa0", " ") for f in findings]
    assert words[1] == (
        "Le module CRM n'a pas servi ce mois-ci : le désactiver économiserait 5,00 € par période."
    )
    assert words[2] == "clients : 850 sur 1000 (85 %), proche de la limite."
    assert words[4] == (
        "Votre moyen de paiement Visa •••• 4242 (03/2026) expire avant le prochain prélèvement "
        "du 1 avril 2026 : mettez-le à jour."
    )
    assert all(knows_finding(f.code) for f in findings)


def test_monthly_review_spots_a_plan_too_small_or_too_large_and_an_expired_card():
    sub = _sub()
    card = Card(id="pm_card", brand="Visa", last4="4242", exp_month=1, exp_year=2026)
    small = monthly_review(
        sub,
        CATALOG,
        usage={"clients": 1500},
        module_usage={"stock": 1, "crm": 1},
        payment_methods=[card],
        as_of=date(2026, 3, 25),
    )
    assert small[0].code == "plan_too_small"
    assert small[0].fact("next_step") == "Business"
    assert [f.code for f in small if f.check == "usage"] == ["resource_over_limit"]
    assert small[-1].code == "payment_method_expired"
    large = monthly_review(
        sub,
        CATALOG,
        usage={"clients": 10},
        module_usage={"stock": 1, "crm": 1},
        payment_methods=[OtherMethod(id="pm_card", kind="sepa", label="SEPA FR76…")],
        as_of=date(2026, 3, 25),
    )
    assert (large[0].code, large[0].fact("next_step"), large[0].amount) == (
        "plan_too_large",
        "Essentiel",
        eur("30.00"),
    )
    assert large[-1].code == "payment_method_ok"


def _billing_findings(sub, invoices, *, module_usage=None, as_of=date(2026, 3, 2)):
    """The billing findings of the monthly review of ``sub`` (no usage) against ``invoices``."""
    findings = monthly_review(
        sub, CATALOG, usage={}, module_usage=module_usage or {}, invoices=invoices, as_of=as_of
    )
    return [f for f in findings if f.check == "billing"]


def test_monthly_review_flags_an_invoice_that_does_not_match_the_configuration():
    sub = _sub()
    billed_without_crm = Subscription.create(
        id="S1", customer="C", catalog=CATALOG, plan="pro", start=START, modules=["stock"]
    )
    invoice = bill_subscription(billed_without_crm.to_charge_plan(CATALOG), as_of=START).invoice
    # Billed: Pro 59 + Stock 9; the configuration also has CRM 5, which the invoice misses.
    (billing,) = _billing_findings(sub, [invoice], module_usage={"stock": 1, "crm": 1})
    assert billing.code == "invoice_mismatch"
    assert (billing.fact("missing"), billing.amount) == ("CRM", eur("-5.00"))
    assert (billing.fact("billed"), billing.fact("expected")) == (eur("68.00"), eur("73.00"))
    other = Subscription.create(
        id="S1", customer="C", catalog=CATALOG, plan="business", start=START
    )
    wrong = bill_subscription(other.to_charge_plan(CATALOG), as_of=START).invoice
    (mismatch,) = _billing_findings(sub, [wrong])
    assert mismatch.code == "invoice_mismatch"
    assert mismatch.fact("unexpected") == "Business"
    assert mismatch.fact("missing") == "Pro, Stock, CRM"
    matching = bill_subscription(sub.to_charge_plan(CATALOG), as_of=START).invoice
    (ok,) = _billing_findings(sub, [matching])
    assert ok.code == "invoice_matches"


def test_card_refuses_a_full_number_and_knows_its_expiry():
    with pytest.raises(InvalidCardError, match="full card number"):
        Card(id="x", brand="Visa", last4="4242424242424242", exp_month=1, exp_year=2030)
    card = Card(id="x", brand="Visa", last4="4242", exp_month=2, exp_year=2028)
    assert card.valid_through == date(2028, 2, 29)
    assert not card.is_expired(as_of=date(2028, 2, 29))
    assert card.is_expired(as_of=date(2028, 3, 1))


# -- the invoice explained ----------------------------------------------------------------------


def test_explain_invoice_names_what_was_active_and_what_changed():
    sub = Subscription.create(id="S1", customer="C", catalog=CATALOG, plan="essentiel", start=START)
    first = bill_subscription(sub.to_charge_plan(CATALOG), as_of=START)
    changed = sub.change_plan("pro", CATALOG, on=date(2026, 3, 13)).activate(
        "stock", CATALOG, on=date(2026, 3, 20)
    )
    plan = changed.to_charge_plan(CATALOG)
    second = bill_subscription(plan, first.state, as_of=date(2026, 3, 20))
    story = explain_invoice(second.invoice, changed, CATALOG)
    assert [(s.item_kind, s.item_name) for s in story.lines] == [
        ("plan", "Essentiel"),
        ("plan", "Pro"),
        ("module", "Stock"),
    ]
    assert [(c.kind, c.code) for c in story.changes] == [
        ("upgrade", "pro"),
        ("module_activated", "stock"),
    ]
    text = story_text(story, locale="fr_FR").replace("\xa0", " ")
    assert "le 13 mars 2026 : montée vers le plan Pro (depuis Essentiel)" in text
    assert "Essentiel (plan) — actif du 1 mars au 12 mars 2026 : -17,77 €" in text
    assert "Stock (module) — actif du 20 mars au 31 mars 2026" in text
    assert "crédit de la part non utilisée : 19/31 × 29,00 €" in text


# -- review of issue 10: bad arguments get typed errors naming them ------------------------------


def _review(**changes):
    arguments = {
        "usage": {"clients": 10},
        "module_usage": {},
        "invoices": (),
        "payment_methods": (),
        "as_of": date(2026, 3, 25),
        **changes,
    }
    return monthly_review(changes.pop("subscription", _sub()), CATALOG, **arguments)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        # None means "no usage known" (a subscription of quoted lines has no limits).
        ({"usage": [1]}, InvalidTypeError, r"^usage=\[1\] must be a mapping of resource names"),
        ({"usage": [("clients", 1)]}, InvalidTypeError, r"^usage=\[\('clients', 1\)\] must be"),
        ({"usage": {1: 5}}, InvalidTypeError, r"^usage key=1 must be a resource name"),
        ({"module_usage": "x"}, InvalidTypeError, r"^module_usage='x' must be a mapping"),
        ({"module_usage": {"stock": -1}}, InvalidArgumentError, r"module_usage\['stock'\]=-1"),
        ({"invoices": None}, InvalidTypeError, r"^invoices=None must be a list of Invoice"),
        ({"invoices": ["F-1"]}, InvalidTypeError, r"^invoices\[0\]='F-1' must be an Invoice"),
        # None: the saved methods are not known (the method is named, not checked).
        ({"payment_methods": "visa"}, InvalidTypeError, r"^payment_methods='visa' must be a list"),
        (
            {"payment_methods": ["pm_card"]},
            InvalidTypeError,
            r"^payment_methods\[0\]='pm_card' must be a Card or an OtherMethod",
        ),
    ],
)
def test_monthly_review_refuses_bad_arguments_by_name(changes, error, message):
    with pytest.raises(error, match=message):
        _review(**changes)


def test_monthly_review_refuses_what_is_not_a_subscription_or_a_catalog():
    with pytest.raises(InvalidTypeError, match=r"^subscription=None must be a Subscription"):
        monthly_review(None, CATALOG, usage={}, module_usage={}, as_of=START)
    with pytest.raises(InvalidTypeError, match=r"^catalog=\{\} must be a Catalog"):
        monthly_review(_sub(), {}, usage={}, module_usage={}, as_of=START)


def test_check_usage_refuses_a_resource_name_that_is_not_text():
    with pytest.raises(InvalidTypeError, match=r"^usage key=None must be a resource name"):
        check_usage(CATALOG.plan("pro"), {None: 1, "clients": 2})


def test_explain_invoice_refuses_what_is_not_an_invoice():
    sub = _sub()
    with pytest.raises(InvalidTypeError, match=r"^invoice=None must be an Invoice"):
        explain_invoice(None, sub, CATALOG)
    invoice = bill_subscription(sub.to_charge_plan(CATALOG), as_of=START).invoice
    with pytest.raises(InvalidTypeError, match=r"^subscription='S1' must be a Subscription"):
        explain_invoice(invoice, "S1", CATALOG)
    with pytest.raises(InvalidTypeError, match=r"^catalog=None must be a Catalog"):
        explain_invoice(invoice, sub, None)


@pytest.mark.parametrize(
    ("headroom", "error", "message"),
    [
        (float("nan"), FloatAmountError, r"^headroom=nan is a float"),
        (0.2, FloatAmountError, r"^headroom=0\.2 is a float"),
        (Decimal("NaN"), InvalidAmountError, r"^headroom=Decimal\('NaN'\) must be a finite"),
        ("0.2", InvalidAmountError, r"^headroom='0\.2' must be an int, a Decimal or a Fraction"),
        (None, InvalidAmountError, r"^headroom=None must be"),
        (Fraction(1), InvalidArgumentError, r"^headroom=Fraction\(1, 1\) must be in \[0, 1\)"),
    ],
)
def test_recommend_plan_refuses_a_headroom_that_is_not_an_exact_number(headroom, error, message):
    with pytest.raises(error, match=message):
        recommend_plan(CATALOG, {"clients": 1}, headroom=headroom)


def test_recommend_plan_takes_an_exact_headroom():
    assert recommend_plan(CATALOG, {"clients": 90}, headroom=Decimal("0.05")).recommended.code == (
        "essentiel"
    )
    assert recommend_plan(CATALOG, {"clients": 90}, headroom=0).recommended.code == "essentiel"


def test_the_monthly_review_asks_the_engine_and_finds_both_invoices_right():
    # Issue 11: Pro billed 59.00 on 1 March, Stock switched on and billed 2.32 on 24 March:
    # the review flagged F-1 "expected 61.32, missing Stock" and F-2 "expected 17.55,
    # missing Pro". Both invoices are right.
    sub = Subscription.create(id="S1", customer="C", catalog=CATALOG, plan="pro", start=START)
    first = bill_subscription(sub.to_charge_plan(CATALOG), as_of=START)
    with_stock = sub.activate("stock", CATALOG, on=date(2026, 3, 24))
    second = bill_subscription(
        with_stock.to_charge_plan(CATALOG), first.state, as_of=date(2026, 3, 24)
    )
    assert first.invoice.total == eur("59.00")
    assert second.invoice.total == eur("2.32")
    invoices = [
        first.invoice.finalize(number="F-1"),
        second.invoice.finalize(number="F-2"),
    ]
    billing = _billing_findings(
        with_stock, invoices, module_usage={"stock": 1}, as_of=date(2026, 3, 31)
    )
    assert [(f.code, f.fact("invoice")) for f in billing] == [
        ("invoice_matches", "F-1"),
        ("invoice_matches", "F-2"),
    ]

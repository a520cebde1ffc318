"""Usage on every path (issue 15): usage charges on quoted lines, from a quote to its invoices.

A quote (or payment link) line may carry a usage charge instead of a unit price: nothing of
it is due at checkout, and its subscription bills every period of the line's own cycle in
arrears on the usage recorded, through the store and ``run_billing``. Worked numbers: a
setup fee of 200.00 €, a platform at 49.00 € a month and API calls at 0.015 € up to 1 000
then 0.020 €, TVA 20 %, accepted on 1 March 2026.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill.billing import ChargePlan, bill_subscription
from subbill.catalog import Catalog, Plan
from subbill.discounts import Discount, Duration
from subbill.errors import InputError, InvalidArgumentError, InvalidStateError
from subbill.invoices import LineKind
from subbill.metering import (
    Aggregation,
    Graduated,
    Metric,
    ScheduledUsage,
    Tier,
    UsageCharge,
    UsageRecord,
)
from subbill.periods import MONTHLY, BillingStart, Period
from subbill.quotes import LineItem, PaymentLink, Quote, checkout, purchase
from subbill.service import invoices_of_run, run_billing, store_purchase
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import dumps, loads
from subbill.subscriptions import (
    QuotedLine,
    Subscription,
    SubscriptionStatus,
    Trial,
    TrialAnchor,
)
from tests.builders import VAT, eur

MARCH = date(2026, 3, 1)
APRIL = date(2026, 4, 1)
MAY = date(2026, 5, 1)

CALLS = Metric(code="api_calls", aggregation=Aggregation.SUM)


def api_charge(**fields: object) -> UsageCharge:
    tiers = (Tier(up_to=1000, unit_price=eur("0.015")), Tier(unit_price=eur("0.020")))
    return UsageCharge(
        code="api",
        description="Appels API",
        currency="EUR",
        metric=CALLS,
        model=Graduated(tiers=tiers),
        tax_rates=(VAT,),
        **fields,  # type: ignore[arg-type]
    )


def api_line(**fields: object) -> LineItem:
    return LineItem(code="api", name="Appels API", usage=api_charge(), frequency=MONTHLY, **fields)  # type: ignore[arg-type]


def the_quote(**fields: object) -> Quote:
    return Quote(
        id="Q-API",
        customer="Studio Lumière",
        currency="EUR",
        valid_until=date(2026, 3, 31),
        lines=(
            LineItem(code="setup", name="Mise en service", unit_price=eur("200"), tax_rates=(VAT,)),
            LineItem(
                code="platform",
                name="Plateforme",
                unit_price=eur("49"),
                frequency=MONTHLY,
                tax_rates=(VAT,),
            ),
            api_line(),
        ),
        **fields,  # type: ignore[arg-type]
    )


TVA_DATA = {"name": "TVA 20 %", "percent": "20"}
QUOTE_DATA = {
    "id": "Q-API",
    "customer": "Studio Lumière",
    "currency": "EUR",
    "valid_until": "2026-03-31",
    "lines": [
        {"code": "setup", "name": "Mise en service", "unit_price": "200", "tax": TVA_DATA},
        {
            "code": "platform",
            "name": "Plateforme",
            "unit_price": "49",
            "frequency": "monthly",
            "tax": TVA_DATA,
        },
        {
            "code": "api",
            "name": "Appels API",
            "frequency": "monthly",
            "tax": TVA_DATA,
            "usage": {
                "metric": {"code": "api_calls", "aggregation": "sum"},
                "model": {
                    "kind": "graduated",
                    "tiers": [{"up_to": 1000, "unit_price": "0.015"}, {"unit_price": "0.020"}],
                },
            },
        },
    ],
}


def calls(quantity: int, day: date, key: str, subscription: str = "pay_1-S1") -> UsageRecord:
    return UsageRecord(
        subscription=subscription, metric="api_calls", quantity=quantity, used_on=day, key=key
    )


# -- the line ------------------------------------------------------------------------------------


def test_a_usage_line_resolves_to_a_quoted_usage_line():
    line = api_line(billing_start=BillingStart.after_months(1)).resolve(paid_on=date(2026, 1, 31))
    assert line == QuotedLine(
        code="api",
        name="Appels API",
        usage=api_charge(),
        frequency=MONTHLY,
        start=date(2026, 2, 28),
        billing_day=31,
    )
    scheduled = line.scheduled_usage(ends_on=None)
    assert scheduled.schedule.period_containing(date(2026, 3, 5)) == Period(
        date(2026, 2, 28), date(2026, 3, 31)
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"unit_price": eur("1")}, "has unit_price=Money('1', 'EUR') and a usage charge"),
        ({"frequency": None}, "has a usage charge but no frequency"),
        ({"code": "calls"}, "has a usage charge of code='api'; expected the line's code"),
        ({"quantity": 2}, "expected quantity=1, no per-unit discounts and no tax_rates"),
        ({"tax_rates": (VAT,)}, "expected quantity=1, no per-unit discounts and no tax_rates"),
    ],
)
def test_a_usage_line_is_priced_by_its_charge_alone(fields, expected):
    values = {"code": "api", "name": "Appels API", "usage": api_charge(), "frequency": MONTHLY}
    with pytest.raises(InvalidArgumentError, match=re.escape(expected)):
        LineItem(**{**values, **fields})
    quoted = {**values, "start": MARCH, **fields}
    with pytest.raises(InvalidArgumentError, match=re.escape(expected)):
        QuotedLine(**quoted)


def test_a_line_needs_a_unit_price_or_a_usage_charge():
    with pytest.raises(InvalidArgumentError, match="needs a unit_price= \\(or a usage= charge"):
        QuotedLine(code="x", name="X", start=MARCH)


def test_a_usage_line_of_another_currency_is_refused():
    usd = attrs.evolve(
        api_charge(),
        currency="USD",
        model=Graduated(tiers=(Tier(unit_price=attrs.evolve(eur("0.01"), currency="USD")),)),
        tax_rates=(),
    )
    line = LineItem(code="api", name="API", usage=usd, frequency=MONTHLY)
    with pytest.raises(InvalidArgumentError, match="line 'api' is in USD, not currency=EUR"):
        PaymentLink(id="L1", currency="EUR", lines=(line,))


# -- from a mapping --------------------------------------------------------------------------------


def test_a_quote_mapping_reads_a_usage_line_with_the_lines_taxes():
    assert Quote.from_mapping(QUOTE_DATA) == the_quote()


def test_a_usage_line_in_a_mapping_is_checked_strictly_with_paths():
    data = {**QUOTE_DATA, "lines": [dict(QUOTE_DATA["lines"][2])]}
    line = data["lines"][0]
    line["unit_price"] = "3"
    line["usage"] = {
        **line["usage"],
        "code": "other",
        "model": {"kind": "graduated", "tiers": [{"up_to": 10, "unit_price": 0.5}, {"price": "1"}]},
    }
    with pytest.raises(InputError) as raised:
        Quote.from_mapping(data)
    assert raised.value.problems == (
        ("lines[0].usage.code", "is the line's (its code): leave it out here"),
        ("lines[0].unit_price", "a usage line is priced by its usage charge: leave it out"),
    )
    line.pop("unit_price")
    line["usage"].pop("code")
    with pytest.raises(InputError) as raised:
        Quote.from_mapping(data)
    paths = [path for path, _ in raised.value.problems]
    assert paths == [
        "lines[0].usage.model.tiers[0].unit_price",
        "lines[0].usage.model.tiers[1].price",
    ]


def test_a_line_without_a_price_nor_usage_in_a_mapping_is_refused():
    data = {"id": "L1", "currency": "EUR", "lines": [{"code": "x", "name": "X"}]}
    with pytest.raises(InputError, match=re.escape("lines[0].unit_price: is missing")):
        PaymentLink.from_mapping(data)


# -- checkout and purchase ----------------------------------------------------------------------


def test_nothing_of_a_usage_line_is_due_at_checkout():
    shown = checkout(the_quote(), paid_on=MARCH, horizon=MAY)
    assert shown.due_now is not None
    assert [(line.code, line.total) for line in shown.due_now.lines] == [
        ("platform", eur("58.80")),
        ("setup", eur("240.00")),
    ]
    # Later: the platform in advance; no usage recorded, so no usage line.
    assert [(str(i.issued_on), str(i.total)) for i in shown.future] == [
        ("2026-04-01", "58.80 EUR"),
        ("2026-05-01", "58.80 EUR"),
    ]


def test_a_usage_lines_minimum_commitment_shows_in_the_future_payments():
    line = api_line()
    line = attrs.evolve(line, usage=attrs.evolve(line.usage, minimum=eur("10")))
    link = PaymentLink(id="L1", currency="EUR", lines=(line,))
    shown = checkout(link, paid_on=MARCH, horizon=MAY)
    assert shown.due_now is None
    assert [(str(i.issued_on), str(i.total)) for i in shown.future] == [
        ("2026-04-01", "12.00 EUR"),
        ("2026-05-01", "12.00 EUR"),
    ]


def test_a_usage_line_is_billed_in_arrears_by_its_subscription():
    bought = the_quote().accept(on=MARCH, payment_method="pm_1", reference="pay_1")
    sub = bought.subscription
    assert sub is not None
    plan = sub.to_charge_plan()
    assert [u.key for u in plan.usage] == ["api@2026-03-01"]
    result = bill_subscription(
        plan,
        bought.state,
        as_of=APRIL,
        usage=[calls(700, date(2026, 3, 3), "e1"), calls(500, date(2026, 3, 31), "e2")],
    )
    invoice = result.invoice
    assert [(line.code, line.kind, line.amount) for line in invoice.lines] == [
        ("platform", LineKind.RECURRING, eur("49.00")),
        ("api", LineKind.USAGE, eur("19.00")),
    ]
    assert invoice.total == eur("81.60")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_usage_line_goes_the_whole_purchase_path(kind, tmp_path):
    """Quote → accept → store → usage recorded → run_billing → an invoice with a usage line."""
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "subbill.db")
    quote = Quote.from_mapping(QUOTE_DATA)
    bought = quote.accept(on=MARCH, payment_method="pm_1", reference="pay_1")
    assert bought.invoice.total == eur("298.80")  # 200 + 49, TVA 20 %
    store_purchase(store, bought)
    assert store.get_subscription("pay_1-S1") == bought.subscription
    assert store.get_quote("Q-API") == bought.quote  # its usage line stored with it
    assert store.get_order("pay_1").lines == quote.lines
    store.add_usage_records(
        [
            calls(700, date(2026, 3, 3), "e1"),
            calls(500, date(2026, 3, 31), "e2"),
            calls(800, date(2026, 4, 2), "e3"),
        ]
    )
    report = run_billing(store, as_of=APRIL)
    [april] = invoices_of_run(store, report)
    assert [(line.code, line.kind, line.amount, line.period) for line in april.lines] == [
        ("platform", LineKind.RECURRING, eur("49.00"), Period(APRIL, MAY)),
        ("api", LineKind.USAGE, eur("19.00"), Period(MARCH, APRIL)),
    ]
    assert (april.subtotal, april.total) == (eur("68.00"), eur("81.60"))
    [may] = invoices_of_run(store, run_billing(store, as_of=MAY))
    assert [(line.code, line.amount) for line in may.lines] == [
        ("platform", eur("49.00")),
        ("api", eur("12.00")),  # 800 × 0.015
    ]


def test_a_subscription_of_a_usage_line_reads_back_equal():
    bought = the_quote().accept(on=MARCH, reference="pay_1")
    assert loads(dumps(bought.subscription), Subscription) == bought.subscription


def test_the_next_billing_date_of_a_usage_line_is_its_periods_end():
    usage_only = PaymentLink(id="L1", currency="EUR", lines=(api_line(),))
    sub = purchase(usage_only, paid_on=date(2026, 3, 10), reference="pay_2").subscription
    assert sub is not None
    assert sub.next_billing_date(date(2026, 3, 10)) == date(2026, 4, 10)
    assert sub.next_billing_date(date(2026, 4, 10)) == date(2026, 5, 10)
    ended = sub.cancel(on=date(2026, 4, 20), at_period_end=False)
    assert ended.next_billing_date(date(2026, 4, 10)) == date(2026, 4, 20)
    assert ended.next_billing_date(date(2026, 4, 20)) is None


# -- a trial on quoted lines (bought from a quote or payment link) ------------------------------


def trial_link(**trial: object) -> PaymentLink:
    platform = LineItem(
        code="platform",
        name="Plateforme",
        unit_price=eur("49"),
        frequency=MONTHLY,
        tax_rates=(VAT,),
    )
    return PaymentLink(
        id="L-ESSAI",
        currency="EUR",
        lines=(
            LineItem(code="setup", name="Mise en service", unit_price=eur("100")),
            platform,
            api_line(),
        ),
        trial=Trial(days=14, **trial),  # type: ignore[arg-type]
    )


def test_a_trial_on_quoted_lines_keeps_the_billing_day_with_a_prorated_first_period():
    """Paid on 1 March with a 14-day trial: free until 15 March; 49.00 × 17/31 = 26.87 HT."""
    bought = purchase(trial_link(), paid_on=MARCH, payment_method="pm_1", reference="pay_1")
    sub = bought.subscription
    assert sub is not None
    assert sub.trial_ends_on == date(2026, 3, 15)
    assert sub.status(as_of=date(2026, 3, 14)) is SubscriptionStatus.TRIAL
    # Only the one-time setup is due at checkout: the trial defers the recurring lines.
    assert [(line.code, line.amount) for line in bought.invoice.lines] == [("setup", eur("100.00"))]
    assert [(str(i.issued_on), str(i.subtotal)) for i in bought.future[:3]] == [
        ("2026-03-15", "26.87 EUR"),
        ("2026-04-01", "49.00 EUR"),
        ("2026-05-01", "49.00 EUR"),
    ]
    records = [
        calls(5000, date(2026, 3, 14), "inside-the-trial"),  # never billed
        calls(1200, date(2026, 3, 20), "e1"),
    ]
    plan = sub.to_charge_plan()
    state = bill_subscription(plan, bought.state, as_of=date(2026, 3, 15)).state
    april = bill_subscription(plan, state, as_of=APRIL, usage=records).invoice
    assert [(line.code, line.period, line.amount) for line in april.lines] == [
        ("platform", Period(APRIL, MAY), eur("49.00")),
        ("api", Period(date(2026, 3, 15), APRIL), eur("19.00")),
    ]


def test_a_trial_on_quoted_lines_re_anchored_bills_whole_periods_from_its_end():
    bought = purchase(trial_link(anchor=TrialAnchor.TRIAL_END), paid_on=MARCH, reference="pay_1")
    sub = bought.subscription
    assert sub is not None
    assert sub.billing_day is None
    assert [(str(i.issued_on), str(i.subtotal)) for i in bought.future[:3]] == [
        ("2026-03-15", "49.00 EUR"),
        ("2026-04-15", "49.00 EUR"),
        ("2026-05-15", "49.00 EUR"),
    ]
    [usage] = sub.to_charge_plan().usage
    assert usage.schedule.period_containing(date(2026, 3, 20)) == Period(
        date(2026, 3, 15), date(2026, 4, 15)
    )


def test_a_trial_on_quoted_lines_is_read_from_a_mapping():
    data = {**QUOTE_DATA, "trial": {"days": 14, "anchor": "trial_end"}}
    assert Quote.from_mapping(data) == the_quote(trial=Trial(days=14, anchor=TrialAnchor.TRIAL_END))
    data["trial"] = {"days": 0, "until": "2026-03-10"}
    with pytest.raises(InputError, match=r"^trial"):
        Quote.from_mapping(data)


def test_a_trial_needs_a_recurring_line():
    setup = LineItem(code="setup", name="Mise en service", unit_price=eur("100"))
    with pytest.raises(InvalidArgumentError, match="has no recurring line for a trial"):
        PaymentLink(id="L1", currency="EUR", lines=(setup,), trial=Trial(days=14))


# -- discounts reach usage lines ------------------------------------------------------------------


def usage_plan(*discounts: Discount) -> ChargePlan:
    return ChargePlan(
        id="S1",
        customer="C",
        currency="EUR",
        usage=(ScheduledUsage(charge=api_charge(), start=MARCH),),
        discounts=discounts,
    )


def s1_calls(quantity: int, day: date, key: str) -> UsageRecord:
    return calls(quantity, day, key, subscription="S1")


def test_an_invoice_percentage_discount_reduces_a_usage_line():
    """1 200 calls = 19.00 €; 10 % off = 1.90 €; 17.10 € HT, TVA 3.42 €, 20.52 € TTC."""
    plan = usage_plan(Discount.percent_off("FIDELITE", "10"))
    invoice = bill_subscription(plan, as_of=APRIL, usage=[s1_calls(1200, MARCH, "e1")]).invoice
    [line] = invoice.lines
    assert (line.amount, line.discount, line.net, line.tax) == (
        eur("19.00"),
        eur("1.90"),
        eur("17.10"),
        eur("3.42"),
    )
    assert [(d.code, d.amount) for d in line.explanation.discounts] == [("FIDELITE", eur("1.90"))]
    assert [(a.discount.code, a.amount) for a in invoice.discounts] == [("FIDELITE", eur("1.90"))]
    assert invoice.total == eur("20.52")


def test_a_percentage_discount_scoped_to_the_usage_charge_and_its_duration():
    """25 % off the API calls for 1 period: March 12 000 calls = 235.00 € − 58.75 €; April none;
    a discount scoped to another product never reaches it."""
    plan = usage_plan(
        Discount.percent_off("API25", "25", applies_to={"api"}, duration=Duration.periods(1)),
        Discount.percent_off("AUTRE", "50", applies_to={"platform"}),
    )
    records = [s1_calls(12000, MARCH, "e1"), s1_calls(1200, APRIL, "e2")]
    result = bill_subscription(plan, as_of=MAY, usage=records)
    assert [(line.period.start, line.amount, line.discount) for line in result.invoice.lines] == [
        (MARCH, eur("235.00"), eur("58.75")),  # 15 + 11 000 × 0.02 = 235.00
        (APRIL, eur("19.00"), eur("0.00")),
    ]


def test_a_late_records_correction_is_discounted_as_the_period_is():
    """March billed 1 000 calls (15.00 − 1.50); a late 200 calls re-rate it to 19.00 − 1.90:
    the correction is 4.00 − 0.40 = 3.60 € HT, and both lines add up to billing it at once."""
    plan = usage_plan(Discount.percent_off("FIDELITE", "10"))
    first = bill_subscription(plan, as_of=APRIL, usage=[s1_calls(1000, MARCH, "e1")])
    [billed] = first.invoice.lines
    assert (billed.net, billed.total) == (eur("13.50"), eur("16.20"))
    late = [s1_calls(1000, MARCH, "e1"), s1_calls(200, date(2026, 3, 31), "e2")]
    second = bill_subscription(plan, first.state, as_of=date(2026, 4, 2), usage=late)
    [correction] = second.invoice.lines
    assert correction.kind is LineKind.USAGE_CORRECTION
    assert (correction.amount, correction.discount, correction.net) == (
        eur("4.00"),
        eur("0.40"),
        eur("3.60"),
    )
    assert billed.total + correction.total == eur("20.52")  # as billing 1 200 calls at once


@settings(max_examples=60, deadline=None)
@given(
    first=st.integers(min_value=0, max_value=5000),
    late=st.integers(min_value=0, max_value=5000),
    percent=st.decimals(min_value=1, max_value=100, places=1),
)
def test_a_discounted_usage_periods_correction_plus_the_original_equals_billing_it_at_once(
    first, late, percent
):
    plan = usage_plan(Discount.percent_off("OFF", percent))
    early = [s1_calls(first, MARCH, "e1")]
    every = [*early, s1_calls(late, date(2026, 3, 31), "e2")]
    original = bill_subscription(plan, as_of=APRIL, usage=early)
    corrected = bill_subscription(plan, original.state, as_of=date(2026, 4, 2), usage=every)
    at_once = bill_subscription(plan, as_of=APRIL, usage=every)

    def sums(*results):
        lines = [line for r in results if r.invoice is not None for line in r.invoice.lines]
        zero = eur("0")
        return tuple(
            sum((getattr(line, name) for line in lines), zero)
            for name in ("amount", "discount", "net", "tax")
        )

    assert sums(original, corrected) == sums(at_once)


# -- the terms of a billed usage charge ---------------------------------------------------------


def test_a_price_change_of_a_billed_usage_charge_is_refused():
    """March billed at 0.015 € a call: the same charge at 0.010 € would re-rate March (a late
    record) at a price it was never billed at; refused as a recurring charge's would be."""
    plan = usage_plan()
    billed = bill_subscription(plan, as_of=APRIL, usage=[s1_calls(1000, MARCH, "e1")])
    cheaper = Graduated(
        tiers=(Tier(up_to=1000, unit_price=eur("0.010")), Tier(unit_price=eur("0.020")))
    )
    [usage] = plan.usage
    repriced = attrs.evolve(
        plan, usage=(attrs.evolve(usage, charge=attrs.evolve(usage.charge, model=cheaper)),)
    )
    late = [s1_calls(1000, MARCH, "e1"), s1_calls(10, date(2026, 3, 31), "e2")]
    with pytest.raises(
        InvalidStateError, match="usage charge 'api@2026-03-01' of subscription 'S1' was billed"
    ):
        bill_subscription(repriced, billed.state, as_of=date(2026, 4, 2), usage=late)
    # Ended on 1 April and started again at the new price, both bill on.
    ended = attrs.evolve(
        repriced,
        usage=(
            usage.ending(on=APRIL),
            ScheduledUsage(charge=repriced.usage[0].charge, start=APRIL),
        ),
    )
    result = bill_subscription(
        ended, billed.state, as_of=MAY, usage=[*late, s1_calls(100, APRIL, "e3")]
    )
    assert [(line.kind, line.period.start, line.amount) for line in result.invoice.lines] == [
        (LineKind.USAGE_CORRECTION, MARCH, eur("0.20")),  # 10 late calls at 0.020 €
        (LineKind.USAGE, APRIL, eur("1.00")),  # 100 calls at 0.010 €
    ]


def test_a_usage_charge_may_change_before_it_is_billed_and_its_terms_are_recorded():
    plan = usage_plan()
    nothing = bill_subscription(plan, as_of=date(2026, 3, 20))
    repriced = attrs.evolve(
        plan,
        usage=(attrs.evolve(plan.usage[0], charge=attrs.evolve(api_charge(), minimum=eur("5"))),),
    )
    billed = bill_subscription(repriced, nothing.state, as_of=APRIL)
    assert billed.invoice.subtotal == eur("5.00")
    assert ("usage:api@2026-03-01", repriced.usage[0].terms_digest) in billed.state.terms
    assert bill_subscription(repriced, billed.state, as_of=APRIL).state == billed.state


# -- a catalog plan's usage and a trial ---------------------------------------------------------


def test_usage_inside_a_catalog_subscriptions_trial_is_never_billed():
    """Plan usage during a 14-day trial (1–14 March) is free; billed from the 15th on."""
    catalog = Catalog(
        currency="EUR",
        plans=[
            Plan(
                code="solo",
                name="Solo",
                rank=1,
                prices={MONTHLY: eur("0")},
                usage=[attrs.evolve(api_charge(), tax_rates=())],
            )  # taxed as the subscription
        ],
    )
    sub = Subscription.create(
        id="S1", customer="C", catalog=catalog, plan="solo", start=MARCH, trial=Trial(days=14)
    )
    [usage] = sub.usage_charges(catalog)
    assert (usage.start, usage.schedule.period_containing(usage.start).start) == (
        date(2026, 3, 15),
        MARCH,
    )
    records = [
        s1_calls(5000, date(2026, 3, 14), "in-trial"),
        s1_calls(1200, date(2026, 3, 15), "e1"),
    ]
    invoice = bill_subscription(sub.to_charge_plan(catalog), as_of=APRIL, usage=records).invoice
    assert [(line.period, line.amount) for line in invoice.lines] == [
        (Period(date(2026, 3, 15), APRIL), eur("19.00"))
    ]


def test_a_usage_lines_quantity_that_is_no_decimal_number_shows_six_places():
    """143/31 seats (5 seats for 19 days and 4 for 12 of May): 4.612903, never 50 digits."""
    seats = UsageCharge.from_mapping(
        {
            "code": "seats",
            "description": "Sièges",
            "currency": "EUR",
            "metric": {"code": "seats", "aggregation": "time_weighted"},
            "model": {"kind": "per_unit", "unit_price": "8"},
        }
    )
    plan = ChargePlan(
        id="S1", customer="C", currency="EUR", usage=(ScheduledUsage(charge=seats, start=MAY),)
    )
    records = [
        UsageRecord(subscription="S1", metric="seats", quantity=5, used_on=MAY, key="s1"),
        UsageRecord(
            subscription="S1", metric="seats", quantity=4, used_on=date(2026, 5, 20), key="s2"
        ),
    ]
    [line] = bill_subscription(plan, as_of=date(2026, 6, 1), usage=records).invoice.lines
    assert line.quantity == Decimal("4.612903")
    assert str(line.quantity) == "4.612903"
    assert line.amount == eur("36.90")

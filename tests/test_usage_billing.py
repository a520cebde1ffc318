"""Usage billed by the engine: in arrears on the subscription's cycle, explained, corrected.

Worked numbers (a graduated API-calls charge over three months, a late record, a volume
credit, a minimum commitment, a maximum spend) and the invariants of issue 15 as properties.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import Money, TaxRate
from subbill.billing import BillingState, ChargePlan, bill_run, bill_subscription
from subbill.catalog import Catalog, Plan
from subbill.charges import RecurringCharge
from subbill.errors import CatalogError, InvalidArgumentError, InvalidStateError, OutOfBoundsError
from subbill.invoices import DocumentKind, Invoice, LineKind
from subbill.l10n.invoice import describe_line
from subbill.metering import (
    Aggregation,
    Graduated,
    GraduatedPercentage,
    Metric,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    ScheduledUsage,
    Tier,
    UsageCharge,
    UsageRecord,
    Volume,
    price_usage,
)
from subbill.periods import Period
from subbill.storage.codec import dumps, loads
from subbill.subscriptions import Subscription

VAT = TaxRate(name="TVA 20 %", percent="20")
CALLS = Metric(code="api_calls", aggregation=Aggregation.SUM)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def api_calls(model: Graduated | Volume, **fields: object) -> UsageCharge:
    return UsageCharge(
        code="api",
        description="Appels API",
        currency="EUR",
        metric=CALLS,
        model=model,
        tax_rates=(VAT,),
        **fields,  # type: ignore[arg-type]
    )


def graduated(**fields: object) -> UsageCharge:
    tiers = (Tier(up_to=1000, unit_price=eur("0.015")), Tier(unit_price=eur("0.020")))
    return api_calls(Graduated(tiers=tiers), **fields)


def volume(**fields: object) -> UsageCharge:
    tiers = (Tier(up_to=1000, unit_price=eur("0.02")), Tier(unit_price=eur("0.01")))
    return api_calls(Volume(tiers=tiers), **fields)


def cent_a_call(**fields: Money) -> UsageCharge:
    """API calls at 0.01 € each, untaxed, with ``fields`` (a minimum, a maximum)."""
    return UsageCharge(
        code="api",
        description="API",
        currency="EUR",
        metric=CALLS,
        model=PerUnit(unit_price=eur("0.01")),
        **fields,  # type: ignore[arg-type]
    )


def untaxed(charge: UsageCharge) -> UsageCharge:
    """A plan's usage charge in a catalog: it is taxed as the subscription's other lines."""
    return attrs.evolve(charge, tax_rates=())


def plan(charge: UsageCharge, *, start: date = date(2026, 3, 1), **fields: object) -> ChargePlan:
    return ChargePlan(
        id="S1",
        customer="ACME",
        currency="EUR",
        usage=(ScheduledUsage(charge=charge, start=start, **fields),),  # type: ignore[arg-type]
    )


def calls(quantity: int, day: date, key: str, subscription: str = "S1") -> UsageRecord:
    return UsageRecord(
        subscription=subscription, metric="api_calls", quantity=quantity, used_on=day, key=key
    )


def fr(line: object) -> str:
    return describe_line(line, locale="fr_FR").replace("\u202f", " ").replace("\xa0", " ")  # type: ignore[arg-type]


THREE_MONTHS = [
    calls(700, date(2026, 3, 3), "m1"),
    calls(500, date(2026, 3, 31), "m2"),  # March: 1 200 calls
    calls(800, date(2026, 4, 15), "a1"),  # April: 800 calls
    calls(2000, date(2026, 5, 1), "y1"),
    calls(500, date(2026, 5, 31), "y2"),  # May: 2 500 calls
]


# -- worked examples ------------------------------------------------------------------------------


def test_a_graduated_api_calls_charge_over_three_months():
    result = bill_subscription(plan(graduated()), as_of=date(2026, 6, 1), usage=THREE_MONTHS)
    invoice = result.invoice
    assert invoice is not None
    lines = invoice.lines
    assert [line.kind for line in lines] == [LineKind.USAGE] * 3
    assert [line.period for line in lines] == [
        Period(date(2026, 3, 1), date(2026, 4, 1)),
        Period(date(2026, 4, 1), date(2026, 5, 1)),
        Period(date(2026, 5, 1), date(2026, 6, 1)),
    ]
    assert [line.quantity for line in lines] == [Decimal(1200), Decimal(800), Decimal(2500)]
    # 1000 × 0.015 + 200 × 0.020; 800 × 0.015; 1000 × 0.015 + 1500 × 0.020
    assert [line.amount for line in lines] == [eur("19.00"), eur("12.00"), eur("45.00")]
    assert [line.tax for line in lines] == [eur("3.80"), eur("2.40"), eur("9.00")]
    assert invoice.net == eur("76.00")
    assert invoice.total == eur("91.20")
    assert fr(lines[0]) == "1 000 × 0,015 € + 200 × 0,020 € = 19,00 € : du 1 au 31 mars 2026"
    assert fr(lines[2]) == "1 000 × 0,015 € + 1 500 × 0,020 € = 45,00 € : du 1 au 31 mai 2026"
    assert result.state.usage_billed == (
        ("api@2026-03-01", date(2026, 3, 1), Decimal("19.00")),
        ("api@2026-03-01", date(2026, 4, 1), Decimal("12.00")),
        ("api@2026-03-01", date(2026, 5, 1), Decimal("45.00")),
    )


def test_a_usage_period_is_billed_once_it_has_ended():
    usage_plan = plan(graduated())
    assert (
        bill_subscription(usage_plan, as_of=date(2026, 3, 31), usage=THREE_MONTHS).invoice is None
    )
    first = bill_subscription(usage_plan, as_of=date(2026, 4, 1), usage=THREE_MONTHS)
    assert first.invoice is not None
    assert [line.amount for line in first.invoice.lines] == [eur("19.00")]
    again = bill_subscription(usage_plan, first.state, as_of=date(2026, 4, 20), usage=THREE_MONTHS)
    assert again.invoice is None
    assert again.state == first.state


def test_a_late_record_is_billed_as_a_correction_of_its_period_on_the_next_invoice():
    usage_plan = plan(graduated())
    march = bill_subscription(usage_plan, as_of=date(2026, 4, 1), usage=THREE_MONTHS[:2])
    late = calls(100, date(2026, 3, 31), "late")  # sent on 2 April, dated 31 March
    april = bill_subscription(
        usage_plan, march.state, as_of=date(2026, 5, 1), usage=[*THREE_MONTHS[:3], late]
    )
    invoice = april.invoice
    assert invoice is not None
    correction, usage = invoice.lines
    assert correction.kind is LineKind.USAGE_CORRECTION
    assert correction.period == Period(date(2026, 3, 1), date(2026, 4, 1))
    # March re-rated with every record: 1 300 calls = 15.00 + 6.00 = 21.00, 19.00 billed.
    assert correction.amount == eur("2.00")
    assert correction.tax == eur("0.40")
    assert fr(correction) == (
        "recalcul avec tous les relevés : 1 000 × 0,015 € + 300 × 0,020 € = 21,00 €, moins "
        "19,00 € déjà facturés : du 1 au 31 mars 2026"
    )
    assert (usage.kind, usage.amount) == (LineKind.USAGE, eur("12.00"))
    assert april.state.usage_billed == (
        ("api@2026-03-01", date(2026, 3, 1), Decimal("21.00")),
        ("api@2026-03-01", date(2026, 4, 1), Decimal("12.00")),
    )


def test_a_late_record_under_volume_pricing_is_a_credit():
    usage_plan = plan(volume())
    march = bill_subscription(
        usage_plan, as_of=date(2026, 4, 1), usage=[calls(900, date(2026, 3, 5), "a")]
    )
    assert march.invoice is not None
    assert march.invoice.lines[0].amount == eur("18.00")  # 900 × 0.02
    records = [calls(900, date(2026, 3, 5), "a"), calls(200, date(2026, 3, 30), "b")]
    later = bill_subscription(usage_plan, march.state, as_of=date(2026, 4, 2), usage=records)
    invoice = later.invoice
    assert invoice is not None
    (credit,) = invoice.lines
    # 1 100 calls reach the second tier: 1 100 × 0.01 = 11.00, 7.00 less than billed.
    assert credit.kind is LineKind.USAGE_CORRECTION
    assert credit.amount == eur("-7.00")
    assert credit.tax == eur("-1.40")
    assert invoice.kind is DocumentKind.CREDIT_NOTE
    assert invoice.total == eur("-8.40")


def test_a_minimum_commitment_tops_up_a_whole_period_and_its_share_of_a_partial_one():
    charge = cent_a_call(minimum=eur("50"))
    # Starts on 17 March on a cycle billed on the 1st: March is 15 of its 31 days.
    usage_plan = plan(charge, start=date(2026, 3, 17), billing_day=1)
    records = [calls(100, date(2026, 3, 20), "a"), calls(1000, date(2026, 4, 2), "b")]
    result = bill_subscription(usage_plan, as_of=date(2026, 5, 1), usage=records)
    assert result.invoice is not None
    partial, whole = result.invoice.lines
    assert partial.period == Period(date(2026, 3, 17), date(2026, 4, 1))
    assert partial.factor == Fraction(15, 31)
    # 1.00 of usage, topped up to 15/31 × 50.00 = 24.193548…: 24.19
    assert partial.amount == eur("24.19")
    assert fr(partial) == (
        "100 × 0,01 € + 23,19 € (complément à l'engagement minimum de 15/31 × 50,00 € = "
        "24,19 €) = 24,19 € : du 17 au 31 mars 2026, soit 15 jours sur les 31 de la période "
        "du 1 mars au 31 mars 2026"
    )
    assert whole.amount == eur("50.00")  # 10.00 + a 40.00 top-up
    assert "complément à l'engagement minimum de 50,00 €" in fr(whole)
    # A period with no usage at all is topped up too.
    empty = bill_subscription(usage_plan, result.state, as_of=date(2026, 6, 1), usage=records)
    assert empty.invoice is not None
    assert [line.amount for line in empty.invoice.lines] == [eur("50.00")]


def test_a_maximum_spend_caps_a_period():
    charge = cent_a_call(maximum=eur("30"))
    result = bill_subscription(
        plan(charge), as_of=date(2026, 4, 1), usage=[calls(5000, date(2026, 3, 9), "a")]
    )
    assert result.invoice is not None
    (line,) = result.invoice.lines
    assert line.amount == eur("30.00")  # 50.00 of usage, less a 20.00 allowance
    assert fr(line) == (
        "5 000 × 0,01 € − 20,00 € (plafond de dépense de 30,00 €) = 30,00 € : du 1 au 31 mars 2026"
    )


def test_usage_lines_follow_the_recurring_lines_on_one_invoice():
    pro = RecurringCharge(
        code="pro",
        description="Plan Pro",
        unit_price=eur("50"),
        start=date(2026, 3, 1),
        tax_rates=(VAT,),
    )
    both = attrs.evolve(plan(graduated()), charges=(pro,))
    result = bill_subscription(both, as_of=date(2026, 4, 1), usage=THREE_MONTHS)
    assert result.invoice is not None
    assert [(line.kind, line.amount) for line in result.invoice.lines] == [
        (LineKind.RECURRING, eur("50.00")),
        (LineKind.RECURRING, eur("50.00")),
        (LineKind.USAGE, eur("19.00")),
    ]
    assert result.invoice.total == eur("142.80")


def test_records_of_another_subscription_are_refused_and_other_metrics_ignored():
    usage_plan = plan(graduated())
    with pytest.raises(InvalidArgumentError, match="'S2', not 'S1'"):
        bill_subscription(
            usage_plan, as_of=date(2026, 4, 1), usage=[calls(5, date(2026, 3, 2), "k", "S2")]
        )
    other = UsageRecord(
        subscription="S1", metric="storage_gb", quantity=9, used_on=date(2026, 3, 2), key="o"
    )
    result = bill_subscription(usage_plan, as_of=date(2026, 4, 1), usage=[other, *THREE_MONTHS])
    assert result.invoice is not None
    assert [line.amount for line in result.invoice.lines] == [eur("19.00")]


def test_a_billed_usage_charge_cannot_be_dropped():
    first = bill_subscription(plan(graduated()), as_of=date(2026, 4, 1), usage=THREE_MONTHS)
    bare = ChargePlan(id="S1", customer="ACME", currency="EUR")
    with pytest.raises(InvalidStateError, match=r"ScheduledUsage\.ending"):
        bill_subscription(bare, first.state, as_of=date(2026, 5, 1))


def test_an_ended_usage_charge_bills_its_last_partial_period():
    usage_plan = plan(graduated(), end=date(2026, 4, 11))
    records = [*THREE_MONTHS, calls(300, date(2026, 4, 5), "early-april")]
    assert bill_subscription(usage_plan, as_of=date(2026, 4, 10), usage=records).invoice is not None
    result = bill_subscription(usage_plan, as_of=date(2026, 6, 1), usage=records)
    assert result.invoice is not None
    # March, then 1-10 April (the record of 15 April is after the end; May too)
    march, last = result.invoice.lines
    assert march.amount == eur("19.00")
    assert last.period == Period(date(2026, 4, 1), date(2026, 4, 11))
    assert last.amount == eur("4.50")  # 300 × 0.015
    before_end = bill_subscription(usage_plan, as_of=date(2026, 4, 10), usage=records)
    assert before_end.invoice is not None
    assert [line.amount for line in before_end.invoice.lines] == [eur("19.00")]


def test_a_partial_share_out_of_bounds_is_refused():
    with pytest.raises(OutOfBoundsError, match="share"):
        price_usage(graduated(), 10, Period(date(2026, 3, 1), date(2026, 4, 1)), share=Fraction(2))


# -- storage: the new fields ----------------------------------------------------------------------


def test_states_and_invoices_with_usage_read_back_equal_and_old_states_still_read():
    first = bill_subscription(plan(graduated()), as_of=date(2026, 4, 1), usage=THREE_MONTHS)
    late = calls(100, date(2026, 3, 31), "late")
    second = bill_subscription(
        plan(graduated()), first.state, as_of=date(2026, 4, 2), usage=[*THREE_MONTHS, late]
    )
    for value, kind in (
        (first.state, BillingState),
        (second.state, BillingState),
        (first.invoice, Invoice),
        (second.invoice, Invoice),
    ):
        assert loads(dumps(value), kind, table="t", key="k") == value
    # A state written before usage was billed: its document has no usage_billed.
    old = '{"data":{"billed_through":[["pro@2026-03-01","2026-04-01"]]},"version":4}'
    state = loads(old, BillingState, table="billing_states", key="S1")
    assert state == BillingState(billed_through={"pro@2026-03-01": date(2026, 4, 1)})
    assert dumps(state) == old


def test_a_bill_run_on_an_executor_carries_usage_charges_and_their_lines():
    charge = cent_a_call(minimum=eur("50"))
    items = [plan(charge, start=date(2026, 3, 1) + timedelta(days=n)) for n in range(5)]
    alone = list(bill_run(items, as_of=date(2026, 6, 1)))
    with ThreadPoolExecutor(max_workers=2) as executor:
        across = list(bill_run(items, as_of=date(2026, 6, 1), executor=executor, chunk_size=2))
    assert across == alone
    assert all(r.invoice is not None and r.state.usage_billed for r in across)


# -- properties -----------------------------------------------------------------------------------

SPAN_START = date(2026, 1, 1)
SPAN_DAYS = 180


@st.composite
def usage_records(draw: st.DrawFn) -> list[UsageRecord]:
    count = draw(st.integers(min_value=0, max_value=25))
    return [
        calls(
            draw(st.integers(min_value=0, max_value=1500)),
            SPAN_START + timedelta(days=draw(st.integers(min_value=0, max_value=SPAN_DAYS))),
            f"k{index}",
        )
        for index in range(count)
    ]


charges = st.sampled_from(
    [
        graduated(),
        volume(),
        graduated(minimum=eur("20")),
        volume(maximum=eur("15")),
        graduated(minimum=eur("5"), maximum=eur("25")),
    ]
)
starts = st.integers(min_value=0, max_value=40).map(lambda n: SPAN_START + timedelta(days=n))
billing_days = st.sampled_from([None, 1, 15, 31])
as_of_days = st.integers(min_value=0, max_value=SPAN_DAYS + 40)


def _plan(charge: UsageCharge, start: date, billing_day: int | None) -> ChargePlan:
    return plan(charge, start=start, billing_day=billing_day)


def _lines(*results: object) -> list[tuple[object, ...]]:
    found = []
    for result in results:
        invoice = result.invoice  # type: ignore[attr-defined]
        if invoice is not None:
            found += [
                (line.charge_key, line.period, line.amount, line.tax) for line in invoice.lines
            ]
    return sorted(found, key=repr)


def _per_period(*results: object) -> dict[tuple[object, object], Money]:
    totals: dict[tuple[object, object], Money] = {}
    for result in results:
        invoice = result.invoice  # type: ignore[attr-defined]
        if invoice is None:
            continue
        for line in invoice.lines:
            key = (line.charge_key, line.period)
            totals[key] = totals.get(key, eur("0")) + line.amount
    return totals


@settings(max_examples=60, deadline=None)
@given(charges, starts, billing_days, usage_records(), as_of_days, as_of_days)
def test_billing_usage_to_d1_then_d2_equals_billing_to_d2(
    charge, start, billing_day, records, first, second
):
    d1, d2 = sorted((SPAN_START + timedelta(days=first), SPAN_START + timedelta(days=second)))
    usage_plan = _plan(charge, start, billing_day)
    one = bill_subscription(usage_plan, as_of=d1, usage=records)
    two = bill_subscription(usage_plan, one.state, as_of=d2, usage=records)
    once = bill_subscription(usage_plan, as_of=d2, usage=records)
    assert _lines(one, two) == _lines(once)
    assert two.state == once.state


def _nonzero(totals: dict[tuple[object, object], Money]) -> dict[tuple[object, object], Money]:
    return {key: amount for key, amount in totals.items() if not amount.is_zero()}


@settings(max_examples=60, deadline=None)
@given(charges, starts, billing_days, usage_records(), as_of_days, st.randoms())
def test_a_late_records_correction_plus_the_original_equals_rebilling_the_period(
    charge, start, billing_day, records, day, rng
):
    as_of = SPAN_START + timedelta(days=day)
    early = [record for record in records if rng.random() < 0.6]
    usage_plan = _plan(charge, start, billing_day)
    original = bill_subscription(usage_plan, as_of=as_of, usage=early)
    corrected = bill_subscription(usage_plan, original.state, as_of=as_of, usage=records)
    rebilled = bill_subscription(usage_plan, as_of=as_of, usage=records)
    # Per period, what was billed then corrected is what billing it once with every record
    # bills (a period whose correction brought it to zero bills nothing at once).
    assert _nonzero(_per_period(original, corrected)) == _per_period(rebilled)
    assert corrected.state == rebilled.state
    for result in (original, corrected):
        if result.invoice is not None:
            assert all(
                line.kind in (LineKind.USAGE, LineKind.USAGE_CORRECTION)
                for line in result.invoice.lines
            )


@settings(max_examples=60, deadline=None)
@given(charges, starts, billing_days, usage_records(), as_of_days, st.randoms())
def test_a_usage_record_sent_twice_changes_nothing(charge, start, billing_day, records, day, rng):
    as_of = SPAN_START + timedelta(days=day)
    usage_plan = _plan(charge, start, billing_day)
    twice = records + [record for record in records if rng.random() < 0.5]
    rng.shuffle(twice)
    assert bill_subscription(usage_plan, as_of=as_of, usage=twice) == bill_subscription(
        usage_plan, as_of=as_of, usage=records
    )


@settings(max_examples=60, deadline=None)
@given(charges, starts, billing_days, usage_records(), as_of_days)
def test_usage_lines_reconcile(charge, start, billing_day, records, day):
    result = bill_subscription(
        _plan(charge, start, billing_day), as_of=SPAN_START + timedelta(days=day), usage=records
    )
    invoice = result.invoice
    if invoice is None:
        return
    for line in invoice.lines:
        usage = line.explanation.usage
        assert usage is not None
        price = usage.price
        assert sum((piece.subtotal for piece in price.pieces), Fraction(0)) == price.unrounded
        cents = price.unrounded * 100
        half_up = (abs(cents) * 2 + 1) // 2 * (1 if cents >= 0 else -1)
        assert price.amount == Money.from_minor_units(int(half_up), "EUR")
        billed = usage.billed or eur("0")
        assert line.amount == price.amount - billed
        assert line.total == line.base + line.tax
    assert invoice.net == Money.total((line.base for line in invoice.lines), currency="EUR")
    assert invoice.total == Money.total((line.total for line in invoice.lines), currency="EUR")


def test_records_in_any_order_bill_the_same():
    shuffled = list(THREE_MONTHS)
    random.Random(3).shuffle(shuffled)  # noqa: S311  (an order, not a secret)
    usage_plan = plan(graduated())
    assert bill_subscription(usage_plan, as_of=date(2026, 6, 1), usage=shuffled) == (
        bill_subscription(usage_plan, as_of=date(2026, 6, 1), usage=THREE_MONTHS)
    )


# -- the catalog and the subscription -------------------------------------------------------------

CATALOG_DATA = {
    "currency": "EUR",
    "plans": [
        {
            "code": "pro",
            "name": "Pro",
            "rank": 1,
            "prices": {"monthly": "50"},
            "usage": [
                {
                    "code": "api",
                    "description": "Appels API",
                    "metric": {"code": "api_calls", "aggregation": "sum"},
                    "model": {
                        "kind": "graduated",
                        "tiers": [{"up_to": 1000, "unit_price": "0.015"}, {"unit_price": "0.020"}],
                    },
                }
            ],
        },
        {"code": "max", "name": "Max", "rank": 2, "prices": {"monthly": "90"}},
    ],
}


def test_a_plans_usage_charges_are_read_from_plain_data_in_the_catalogs_currency():
    catalog = Catalog.from_mapping(CATALOG_DATA)
    (charge,) = catalog.plan("pro").usage
    assert charge.currency == "EUR"
    assert charge.model == Graduated(
        tiers=(Tier(up_to=1000, unit_price=eur("0.015")), Tier(unit_price=eur("0.020")))
    )
    assert catalog.plan("max").usage == ()


def test_bad_usage_charges_of_a_plan_are_each_reported_at_their_path():
    bad = {
        "currency": "EUR",
        "plans": [
            {
                "code": "pro",
                "name": "Pro",
                "rank": 1,
                "usage": [
                    {
                        "code": "api",
                        "description": "A",
                        "currency": "USD",
                        "metric": {"code": "c", "aggregation": "sum"},
                        "model": {"kind": "per_unit", "unit_price": "1"},
                    },
                    {
                        "code": "x",
                        "description": "X",
                        "metric": {"code": "c", "aggregation": "total"},
                        "model": {"kind": "per_unit", "unit_price": 0.5},
                    },
                ],
            }
        ],
    }
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(bad)
    assert [path for path, _ in caught.value.problems] == [
        "plans[0].usage[0].currency",
        "plans[0].usage[1].metric.aggregation",
        "plans[0].usage[1].model.unit_price",
    ]


def test_two_usage_charges_of_one_code_on_a_plan_are_refused():
    with pytest.raises(CatalogError, match=r"plans\[0\]\.usage\[1\]\.code"):
        Catalog(
            currency="EUR",
            plans=[
                Plan(
                    code="pro", name="Pro", rank=1, usage=(untaxed(graduated()), untaxed(volume()))
                )
            ],
        )


def test_a_subscription_bills_its_plans_usage_until_a_plan_change():
    catalog = Catalog.from_mapping(CATALOG_DATA)
    subscription = Subscription.create(
        id="S1", customer="ACME", catalog=catalog, plan="pro", start=date(2026, 3, 1)
    )
    usage_plan = subscription.to_charge_plan(catalog)
    assert [(u.key, u.start, u.end) for u in usage_plan.usage] == [
        ("api@2026-03-01", date(2026, 3, 1), None)
    ]
    result = bill_subscription(usage_plan, as_of=date(2026, 4, 1), usage=THREE_MONTHS)
    assert result.invoice is not None
    assert [(line.code, line.kind, line.amount) for line in result.invoice.lines] == [
        ("pro", LineKind.RECURRING, eur("50.00")),
        ("pro", LineKind.RECURRING, eur("50.00")),
        ("api", LineKind.USAGE, eur("19.00")),
    ]
    moved = subscription.change_plan("max", catalog, on=date(2026, 4, 16))
    after = moved.to_charge_plan(catalog)
    assert [(u.key, u.end) for u in after.usage] == [("api@2026-03-01", date(2026, 4, 16))]
    later = bill_subscription(after, result.state, as_of=date(2026, 5, 1), usage=THREE_MONTHS)
    assert later.invoice is not None
    (april,) = [line for line in later.invoice.lines if line.kind is LineKind.USAGE]
    # Pro's API calls run to 15 April: the 800 calls of the 15th, 12.00.
    assert (april.period, april.amount) == (
        Period(date(2026, 4, 1), date(2026, 4, 16)),
        eur("12.00"),
    )


def test_a_catalog_with_usage_charges_of_every_model_reads_back_equal():
    models = [
        PerUnit(unit_price=eur("0.01")),
        Package(price=eur("5"), size=100, free_units=Decimal(10)),
        Graduated(tiers=(Tier(up_to=10, flat=eur("2")), Tier(unit_price=eur("1")))),
        Volume(tiers=(Tier(up_to=10, unit_price=eur("1")), Tier(unit_price=eur("0.5")))),
        Percentage(percent=Decimal("2.9"), fixed_fee=eur("0.30")),
        GraduatedPercentage(
            tiers=(PercentTier(up_to=1000, percent=Decimal(3)), PercentTier(percent=Decimal(2)))
        ),
    ]
    usage = tuple(
        attrs.evolve(api_calls(model), code=f"u{n}", tax_rates=()) for n, model in enumerate(models)
    )
    catalog = Catalog(currency="EUR", plans=[Plan(code="pro", name="Pro", rank=1, usage=usage)])
    assert loads(dumps(catalog), Catalog, table="catalogs", key="k") == catalog
    plain = Catalog(currency="EUR", plans=[Plan(code="pro", name="Pro", rank=1)])
    assert '"usage"' not in dumps(plain)  # a catalog without usage is written as before

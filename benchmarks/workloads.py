"""The workloads subbill's benchmarks and golden tests bill, built from seeded generators.

``mix_inputs`` is the mix bench (2–4 charges, mixed frequencies, discounts on a third, TVA
20 %, a mid-period change on a tenth); ``proration_inputs`` the varied calendar inputs;
``silver_subscriptions`` / ``silver_inputs`` / ``silver_plain`` django-silver's own workload
(N monthly subscriptions at 50.00 EUR, one line per invoice); ``document_inputs`` the
first invoices of that workload with TVA 20 %, numbered, with their seller and buyers: what
the PDF and Factur-X rows render; ``usage_inputs`` a month of usage records of many
subscriptions of graduated API calls, and the same records for the plain usage reference.
The golden test (``tests/test_golden_mix.py``) bills the first 2,000 mix subscriptions and
compares every invoice with the recorded one, so that no optimisation changes a cent.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import attrs

from benchmarks.plain_reference import PlainSubscription
from benchmarks.plain_usage import PlainRecord
from subbill import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    BillingState,
    Catalog,
    ChargePlan,
    Discount,
    Duration,
    Invoice,
    Money,
    Plan,
    ProrationBasis,
    RecurringCharge,
    Subscription,
    TaxRate,
    bill_subscription,
    metering,
)
from subbill.customers import Customer
from subbill.parties import Party
from subbill.subscriptions import QuotedLine


def proration_inputs(count: int, seed: int = 2026) -> list[dict[str, object]]:
    """``count`` varied subscriptions: monthly/quarterly/annual, billing days 1–31, starts
    over five years, a quarter of them with an end, three proration bases."""
    rng = random.Random(seed)
    first = date(2021, 1, 1)
    inputs = []
    for _ in range(count):
        start = first + timedelta(days=rng.randrange(5 * 365))
        frequency = rng.choice((MONTHLY, MONTHLY, QUARTERLY, ANNUAL))
        end = start + timedelta(days=rng.randrange(30, 1500)) if rng.random() < 0.25 else None
        inputs.append(
            {
                "start": start,
                "end": end,
                "as_of": date(2026, 11, 24),
                "frequency": frequency,
                "billing_day": rng.choice((None, rng.randint(1, 31))),
                "basis": rng.choice(
                    (
                        ProrationBasis.ACTUAL_DAYS,
                        ProrationBasis.ACTUAL_DAYS,
                        ProrationBasis.THIRTY_DAY_MONTH,
                        ProrationBasis.NONE,
                    )
                ),
            }
        )
    return inputs


BILLING_AS_OF = date(2026, 11, 24)
VAT = TaxRate(name="TVA 20 %", percent="20")


def _price(rng: random.Random) -> Money:
    cents = rng.randrange(500, 50_000)
    return Money(f"{cents // 100}.{cents % 100:02d}", "EUR")


def mix_inputs(
    count: int, seed: int = 2026, *, setup: list[float] | None = None
) -> Iterator[tuple[ChargePlan, BillingState | None]]:
    """Yield ``count`` ``(subscription, state)`` pairs lazily: never a list of all of them.

    Each subscription has 2–4 charges (monthly/quarterly/annual, billing days 1–31 or
    none, quantities 1–10, 5–500 EUR, TVA 20 %) starting over 2025–2026. One in three has
    a discount: 10 % off the invoice for 6 months, or 5 % off each unit of its first
    charge. One in ten changes a quantity mid-period: its state is a first billing of the
    unchanged subscription on the change date, so billing the changed one credits the
    unused part. ``setup[0]`` accumulates the time spent here (first billings included).
    """
    rng = random.Random(seed)
    first = date(2025, 1, 1)
    span = (BILLING_AS_OF - first).days
    for index in range(count):
        started = time.perf_counter()
        start = first + timedelta(days=rng.randrange(span))
        discounted = index % 3 == 0
        per_unit = discounted and rng.random() < 0.5
        charges = [
            RecurringCharge(
                code=f"p{number}",
                description=f"Produit {number}",
                unit_price=_price(rng),
                quantity=rng.randint(1, 10),
                frequency=rng.choice((MONTHLY, MONTHLY, QUARTERLY, ANNUAL)),
                billing_day=rng.choice((None, rng.randint(1, 31))),
                start=start,
                tax_rates=(VAT,),
                discounts=(
                    (Discount.per_unit_percent_off("VOLUME", "5"),)
                    if per_unit and number == 0
                    else ()
                ),
            )
            for number in range(rng.randint(2, 4))
        ]
        discounts = (
            (Discount.percent_off("PROMO", "10", duration=Duration.months(6)),)
            if discounted and not per_unit
            else ()
        )
        subscription = ChargePlan(
            id=f"S{index:07d}",
            customer=f"C{index:07d}",
            currency="EUR",
            charges=charges,
            discounts=discounts,
        )
        state = None
        days = (BILLING_AS_OF - start).days
        if index % 10 == 5 and days >= 2:
            on = start + timedelta(days=rng.randrange(1, days))
            state = bill_subscription(subscription, as_of=on).state
            which = rng.randrange(len(charges))
            charges[which : which + 1] = charges[which].change(
                on=on, quantity=charges[which].quantity % 10 + 1, reason="quantity_change"
            )
            subscription = ChargePlan(
                id=subscription.id,
                customer=subscription.customer,
                currency="EUR",
                charges=charges,
                discounts=discounts,
            )
        if setup is not None:
            setup[0] += time.perf_counter() - started
        yield subscription, state


# django-silver's own workload (../shared/bench/silver_bench.py, variant "mid"): a plan at
# 50.00 EUR a month on billing day 1, every subscription started on 15 Jan 2025 and billed
# that day (17/31 of a month: 27.42 EUR), then on 1 Feb 2025 (50.00 EUR).
SILVER_START = date(2025, 1, 15)
SILVER_RENEWAL = date(2025, 2, 1)
SILVER_PRICE = "50.00"
SILVER_BILLING_DAY = 1
SILVER_PLAN = "monthly-50"


def silver_catalog() -> Catalog:
    """The silver workload's catalog: one plan, 50.00 EUR a month."""
    plan = Plan(
        code=SILVER_PLAN,
        name="Monthly 50",
        rank=1,
        prices=((MONTHLY, Money(SILVER_PRICE, "EUR")),),
    )
    return Catalog(currency="EUR", plans=(plan,))


def silver_subscriptions(count: int, catalog: Catalog | None = None) -> Iterator[Subscription]:
    """Yield the silver workload's ``count`` subscriptions lazily, as a business stores them."""
    catalog = silver_catalog() if catalog is None else catalog
    for index in range(count):
        yield Subscription.create(
            id=f"S{index:07d}",
            customer=f"C{index:07d}",
            catalog=catalog,
            plan=SILVER_PLAN,
            start=SILVER_START,
            billing_day=SILVER_BILLING_DAY,
        )


def silver_inputs(count: int) -> list[ChargePlan]:
    """The silver workload as the engine's input: one ``ChargePlan`` per subscription."""
    catalog = silver_catalog()
    return [
        subscription.to_charge_plan(catalog)
        for subscription in silver_subscriptions(count, catalog)
    ]


def silver_plain(count: int) -> list[PlainSubscription]:
    """The silver workload for :mod:`benchmarks.plain_reference`."""
    price = Decimal(SILVER_PRICE)
    return [
        PlainSubscription(f"S{index:07d}", f"C{index:07d}", price, SILVER_START, SILVER_BILLING_DAY)
        for index in range(count)
    ]


def mix_subscriptions(count: int, seed: int = 2026) -> Iterator[Subscription]:
    """The mix bench's subscriptions as a business stores them, for the persisted runs.

    Each of ``mix_inputs``' charges becomes a quoted recurring line of a stored
    ``Subscription`` (same price, quantity, frequency, billing day, start, per-unit
    discount and TVA), so a run over a store bills the same charges. What a stored
    subscription holds differently is left out: the invoice-wide 6-month discount and the
    mid-period quantity change (their states), so the totals are not the mix bench's.
    """
    for plan, _state in mix_inputs(count, seed):
        lines = [
            QuotedLine(
                code=charge.code,
                name=charge.description,
                unit_price=charge.unit_price,
                quantity=charge.quantity,
                frequency=charge.frequency,
                start=charge.start,
                billing_day=charge.billing_day,
                discounts=charge.discounts,
                tax_rates=charge.tax_rates,
            )
            for charge in plan.charges
            if isinstance(charge, RecurringCharge) and charge.end is None
        ]
        yield Subscription(
            id=plan.id,
            customer=plan.customer,
            currency=plan.currency,
            start=min(line.start for line in lines),
            lines=lines,
        )


#: The seller of the documents the PDF rows render.
DOCUMENT_SELLER = Party(
    legal_name="Logiciel SAS",
    legal_form="SAS",
    share_capital=Money("10000", "EUR"),
    address=("1 rue de la Paix",),
    postcode="75002",
    city="Paris",
    siren="732829320",
    siret="73282932000074",
    rcs_city="Paris",
    vat_number="FR44732829320",
)


#: A French business buyer with a SIREN (its electronic address, scheme 0225).
DOCUMENT_BUYER = Customer(
    id="C-1",
    legal_name="Atelier Dupont SARL",
    address=("5 quai du Port",),
    postcode="13002",
    city="Marseille",
    country="FR",
    siren="552100554",
    vat_number="FR96552100554",
)


def document_inputs(count: int) -> list[tuple[Invoice, Customer]]:
    """The silver workload's first invoices (27.42 EUR + TVA 20 %), numbered, with buyers.

    One line each, like the invoices django-silver renders as PDFs in its ``pdf`` run; each
    buyer is a French business with a SIREN (its electronic address).
    """
    documents = []
    for index in range(count):
        charge = RecurringCharge(
            code=SILVER_PLAN,
            description="Monthly 50",
            unit_price=Money(SILVER_PRICE, "EUR"),
            billing_day=SILVER_BILLING_DAY,
            start=SILVER_START,
            tax_rates=(VAT,),
        )
        customer = f"C{index:07d}"
        plan = ChargePlan(id=f"S{index:07d}", customer=customer, currency="EUR", charges=(charge,))
        invoice = bill_subscription(plan, as_of=SILVER_START).invoice
        assert invoice is not None  # noqa: S101  (a first billing always invoices)
        buyer = attrs.evolve(DOCUMENT_BUYER, id=customer, legal_name=f"Client {index} SARL")
        documents.append((invoice.finalize(number=f"F-2025-{index + 1:06d}"), buyer))
    return documents


# -- the usage row: records of a month, aggregated and billed ------------------------------

USAGE_START = date(2026, 3, 1)
USAGE_AS_OF = date(2026, 4, 1)
#: API calls: the first 10,000 free, 0.002 EUR to 100,000, then 0.001 EUR.
USAGE_TIERS = (
    (Decimal(10_000), Decimal("0")),
    (Decimal(100_000), Decimal("0.002")),
    (None, Decimal("0.001")),
)


def usage_inputs(
    count: int, per_subscription: int = 20, seed: int = 2026
) -> tuple[list[tuple[ChargePlan, list[metering.UsageRecord]]], list[PlainRecord]]:
    """``count`` records: ``count // per_subscription`` subscriptions of graduated API calls.

    Each subscription's records (up to 12,000 calls each, over March 2026 and a few in
    April, one of them sent twice) with its plan, and the same records for the plain
    reference (:mod:`benchmarks.plain_usage`).
    """
    rng = random.Random(seed)
    tiers = tuple(
        metering.Tier(up_to=None if upper is None else int(upper), unit_price=Money(price, "EUR"))
        for upper, price in USAGE_TIERS
    )
    charge = metering.UsageCharge(
        code="api",
        description="Appels API",
        currency="EUR",
        metric=metering.Metric(code="api_calls", aggregation=metering.Aggregation.SUM),
        model=metering.Graduated(tiers=tiers),
        tax_rates=(VAT,),
    )
    scheduled = metering.ScheduledUsage(charge=charge, start=USAGE_START)
    items, plain = [], []
    for number in range(max(count // per_subscription, 1)):
        subscription = f"U{number:07d}"
        plan = ChargePlan(
            id=subscription, customer=f"C{number:07d}", currency="EUR", usage=(scheduled,)
        )
        records = []
        for index in range(per_subscription - 1):
            day = USAGE_START + timedelta(days=rng.randrange(33))  # a few in April
            quantity = rng.randrange(12_000)
            records.append(
                metering.UsageRecord(
                    subscription=subscription,
                    metric="api_calls",
                    quantity=quantity,
                    used_on=day,
                    key=f"e{index}",
                )
            )
        records.append(records[0])  # a record sent twice counts once
        items.append((plan, records))
        plain += [PlainRecord(subscription, r.key, r.used_on, Decimal(r.quantity)) for r in records]
    return items, plain

"""Usage records, their aggregation and the pricing of usage charges (subbill.metering).

Every worked number below is computed by hand in the comment beside it; the same numbers are
the examples of docs/usage-billing.md.
"""

import math
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import Money, Period, TaxRate
from subbill.errors import InputError, InvalidArgumentError, InvalidQuantityError
from subbill.l10n import describe_usage, label
from subbill.metering import (
    Aggregation,
    Graduated,
    GraduatedPercentage,
    Metric,
    ModelKind,
    Package,
    Percentage,
    PercentTier,
    PerUnit,
    PieceKind,
    Tier,
    Transformation,
    UsageCharge,
    UsageRecord,
    Volume,
    aggregate,
    deduplicate,
    price_usage,
)

EUR = "EUR"
MARCH = Period(date(2026, 3, 1), date(2026, 4, 1))


def eur(amount: str) -> Money:
    return Money(amount, EUR)


def record(
    key: str, day: date, quantity: object = 1, metric: str = "calls", **properties: str
) -> UsageRecord:
    return UsageRecord(
        subscription="S1",
        metric=metric,
        quantity=quantity,
        used_on=day,
        key=key,
        properties=properties,
    )


def charge(model: object, *, aggregation: Aggregation = Aggregation.SUM, **fields: object):
    return UsageCharge(
        code="api",
        description="Appels API",
        currency=EUR,
        metric=Metric(code="calls", aggregation=aggregation),
        model=model,
        **fields,
    )


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


# -- records ---------------------------------------------------------------------------------


def test_a_record_sent_twice_counts_once_and_a_key_reused_for_other_content_is_refused():
    first = record("evt_1", date(2026, 3, 2), 3)
    assert deduplicate([first, record("evt_2", date(2026, 3, 2)), first]) == (
        first,
        record("evt_2", date(2026, 3, 2)),
    )
    with pytest.raises(InvalidArgumentError, match="key='evt_1' of subscription 'S1'"):
        deduplicate([first, attrs.evolve(first, quantity=Decimal(4))])
    # The key is a subscription's: another subscription may use it.
    other = attrs.evolve(first, subscription="S2", quantity=Decimal(9))
    assert deduplicate([first, other]) == (first, other)


def test_a_record_keeps_its_properties_read_only_and_compares_by_them():
    one = record("e", date(2026, 3, 2), user="u_1", team="t")
    two = record("e", date(2026, 3, 2), team="t", user="u_1")
    assert one == two
    assert hash(one) == hash(two)
    assert dict(one.properties) == {"team": "t", "user": "u_1"}
    with pytest.raises(TypeError):
        one.properties["user"] = "u_2"  # type: ignore[index]
    assert one != record("e", date(2026, 3, 2), user="u_2", team="t")


# -- aggregation ------------------------------------------------------------------------------

# March 2026: three records inside, two outside, one sent twice, one of another metric.
RECORDS = [
    record("e1", date(2026, 2, 28), 100, user="a"),  # before March: never counts
    record("e2", date(2026, 3, 1), 10, user="a"),
    record("e3", date(2026, 3, 15), 25, user="b"),
    record("e4", date(2026, 3, 15), 5, user="a"),
    record("e5", date(2026, 3, 31), 7, user="c"),
    record("e3", date(2026, 3, 15), 25, user="b"),  # e3 sent again
    record("e6", date(2026, 4, 1), 1000, user="d"),  # April 1st: not in March
    record("x1", date(2026, 3, 20), 50, metric="storage"),  # another metric
]


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        (Aggregation.SUM, Fraction(47)),  # 10 + 25 + 5 + 7
        (Aggregation.COUNT, Fraction(4)),  # e2, e3, e4, e5
        (Aggregation.MAX, Fraction(25)),  # e3
        (Aggregation.LAST, Fraction(7)),  # e5, on March 31
    ],
)
def test_each_aggregation_over_march(aggregation, expected):
    metric = Metric(code="calls", aggregation=aggregation)
    assert aggregate(metric, RECORDS, MARCH) == expected


def test_unique_count_counts_the_distinct_values_of_a_property():
    users = Metric(code="calls", aggregation=Aggregation.UNIQUE_COUNT, property_name="user")
    # a (e2, e4), b (e3), c (e5): 3 users; e1's and e6's are outside March.
    assert aggregate(users, RECORDS, MARCH) == 3
    # A record without the property does not count.
    assert aggregate(users, [*RECORDS, record("e7", date(2026, 3, 3))], MARCH) == 3


def test_last_value_takes_the_latest_day_then_the_last_key_of_that_day():
    last = Metric(code="calls", aggregation=Aggregation.LAST)
    same_day = [record("e9", date(2026, 3, 31), 2), record("e5", date(2026, 3, 31), 7)]
    assert aggregate(last, same_day, MARCH) == 2  # "e9" sorts after "e5"
    assert aggregate(last, [], MARCH) == 0


def test_seats_held_are_time_weighted_by_days_within_the_period():
    seats = Metric(code="seats", aggregation=Aggregation.TIME_WEIGHTED)
    held = [
        record("s1", date(2026, 2, 10), 3, metric="seats"),  # 3 seats from February 10
        record("s2", date(2026, 3, 13), 5, metric="seats"),  # 5 seats from March 13
        record("s3", date(2026, 4, 5), 9, metric="seats"),  # after March: never counts
    ]
    # 3 seats × 12 days (1–12 March) + 5 seats × 19 days (13–31 March) = 131 seat-days / 31
    assert aggregate(seats, held, MARCH) == Fraction(131, 31)
    # At 10.00 € per seat for the period: 1310/31 = 42.2580… → 42.26 €
    per_seat = UsageCharge(
        code="seats",
        description="Sièges",
        currency=EUR,
        metric=seats,
        model=PerUnit(unit_price=eur("10.00")),
    )
    price = price_usage(per_seat, held, MARCH)
    assert price.unrounded == Fraction(1310, 31)
    assert price.amount == eur("42.26")
    assert plain(describe_usage(price, locale="fr_FR")) == "131/31 × 10,00 € = 42,26 €"
    # No record before the period's end: nothing held.
    assert aggregate(seats, held[2:], MARCH) == 0


def test_records_of_several_subscriptions_are_not_aggregated_together():
    sum_ = Metric(code="calls", aggregation=Aggregation.SUM)
    other = attrs.evolve(RECORDS[1], subscription="S2", key="z")
    with pytest.raises(InvalidArgumentError, match="several subscriptions"):
        aggregate(sum_, [*RECORDS, other], MARCH)


# -- the charge models, with worked numbers -------------------------------------------------------


def test_per_unit():
    price = price_usage(charge(PerUnit(unit_price=eur("0.002"))), 1234, MARCH)
    # 1 234 × 0.002 = 2.468 → 2.47 €
    assert price.unrounded == Fraction("2.468")
    assert price.amount == eur("2.47")
    assert plain(describe_usage(price, locale="fr_FR")) == "1 234 × 0,002 € = 2,47 €"


@pytest.mark.parametrize(
    ("quantity", "packages", "amount"),
    [
        (150, 0, "0.00"),  # all 150 within the 200 free units
        (200, 0, "0.00"),
        (300, 1, "5.00"),  # 100 beyond the free units: one package
        (450, 3, "15.00"),  # 250 beyond: 2.5 packages, a partial one counts whole → 3
    ],
)
def test_package_rounds_a_partial_package_up_after_the_free_units(quantity, packages, amount):
    model = Package(price=eur("5.00"), size=100, free_units=200)
    price = price_usage(charge(model), quantity, MARCH)
    assert [p.kind for p in price.pieces] == [PieceKind.FREE_UNITS, PieceKind.PACKAGES]
    assert price.pieces[0].quantity == min(quantity, 200)
    assert price.pieces[1].quantity == packages
    assert price.amount == eur(amount)


def test_package_explained():
    model = Package(price=eur("5.00"), size=100, free_units=200)
    price = price_usage(charge(model), 450, MARCH)
    assert plain(describe_usage(price, locale="fr_FR")) == (
        "200 unités offertes + 3 × 5,00 € le paquet = 15,00 €"
    )
    assert describe_usage(price, locale="en_US") == (
        "200 free units + 3 × €5.00 per package = €15.00"
    )


def test_graduated_from_the_issue():
    tiers = (Tier(up_to=1000, unit_price=eur("0.015")), Tier(unit_price=eur("0.020")))
    price = price_usage(charge(Graduated(tiers=tiers)), 1200, MARCH)
    # 1 000 × 0.015 = 15 ; 200 × 0.020 = 4 ; 19.00 €
    assert [(p.tier, p.quantity, p.subtotal) for p in price.pieces] == [
        (1, 1000, 15),
        (2, 200, 4),
    ]
    assert price.amount == eur("19.00")
    assert plain(describe_usage(price, locale="fr_FR")) == (
        "1 000 × 0,015 € + 200 × 0,020 € = 19,00 €"
    )


GRADUATED = Graduated(
    tiers=(
        Tier(up_to=100, flat=eur("10.00")),
        Tier(up_to=1000, unit_price=eur("0.05")),
        Tier(unit_price=eur("0.03"), flat=eur("5.00")),
    )
)


@pytest.mark.parametrize(
    ("quantity", "amount"),
    [
        (0, "10.00"),  # the first tier's flat amount is due even at zero usage
        (100, "10.00"),  # up to 100 inclusive: the second tier is not entered
        (101, "10.05"),  # 10 + 1 × 0.05
        (1000, "55.00"),  # 10 + 900 × 0.05
        (1500, "75.00"),  # 10 + 900 × 0.05 + (5 + 500 × 0.03)
    ],
)
def test_graduated_flat_amounts_are_due_once_usage_enters_their_tier(quantity, amount):
    assert price_usage(charge(GRADUATED), quantity, MARCH).amount == eur(amount)


def test_graduated_with_flat_amounts_explained():
    price = price_usage(charge(GRADUATED), 1500, MARCH)
    assert plain(describe_usage(price, locale="fr_FR")) == (
        "10,00 € + 900 × 0,05 € + 500 × 0,03 € + 5,00 € = 75,00 €"
    )


VOLUME = Volume(
    tiers=(
        Tier(up_to=100, unit_price=eur("1.00")),
        Tier(up_to=1000, unit_price=eur("0.80"), flat=eur("20.00")),
        Tier(unit_price=eur("0.50"), flat=eur("50.00")),
    )
)


@pytest.mark.parametrize(
    ("quantity", "tier", "amount"),
    [
        (0, 1, "0.00"),
        (100, 1, "100.00"),  # 100 × 1.00: the total falls on the boundary, still tier 1
        (101, 2, "100.80"),  # 20 + 101 × 0.80
        (1000, 2, "820.00"),  # 20 + 1 000 × 0.80
        (1001, 3, "550.50"),  # 50 + 1 001 × 0.50: more units, a lower amount
    ],
)
def test_volume_prices_every_unit_at_the_tier_the_total_reaches(quantity, tier, amount):
    price = price_usage(charge(VOLUME), quantity, MARCH)
    assert [(p.tier, p.quantity) for p in price.pieces] == [(tier, quantity)]
    assert price.amount == eur(amount)


def test_percentage_with_a_fee_a_minimum_and_a_maximum_per_transaction():
    model = Percentage(
        percent="2.9",
        fixed_fee=eur("0.30"),
        transaction_minimum=eur("0.50"),
        transaction_maximum=eur("5.00"),
    )
    payments = [
        record("p1", date(2026, 3, 2), "10.00"),  # 0.29 + 0.30 = 0.59
        record("p2", date(2026, 3, 3), "100.00"),  # 2.90 + 0.30 = 3.20
        record("p3", date(2026, 3, 4), "500.00"),  # 14.50 + 0.30 = 14.80 → at most 5.00
        record("p4", date(2026, 3, 5), "5.00"),  # 0.145 + 0.30 = 0.445 → at least 0.50
        record("p5", date(2026, 4, 1), "900.00"),  # April: not in March
    ]
    price = price_usage(charge(model), payments, MARCH)
    assert price.transactions == 4
    assert [(p.kind, p.quantity, p.subtotal) for p in price.pieces] == [
        (PieceKind.PERCENT, 615, Fraction("17.835")),  # 2.9 % of 615.00
        (PieceKind.TRANSACTION_FEES, 4, Fraction("1.20")),  # 4 × 0.30
        (PieceKind.TRANSACTION_MINIMUM, 1, Fraction("0.055")),  # 0.50 − 0.445
        (PieceKind.TRANSACTION_MAXIMUM, 1, Fraction("-9.80")),  # 5.00 − 14.80
    ]
    # 0.59 + 3.20 + 5.00 + 0.50 = 9.29
    assert price.unrounded == Fraction("9.29")
    assert price.amount == eur("9.29")
    assert plain(describe_usage(price, locale="fr_FR")) == (
        "2,9 % × 615,00 € + 4 × 0,30 € par transaction + 0,055 € (minimum de 0,50 € par "
        "transaction, sur 1 transaction(s)) − 9,80 € (maximum de 5,00 € par transaction, "
        "sur 1 transaction(s)) = 9,29 €"
    )
    # Priced per transaction, it needs the records.
    with pytest.raises(InvalidArgumentError, match="pass its records"):
        price_usage(charge(model), 615, MARCH)
    # A plain rate prices a total.
    assert price_usage(charge(Percentage(percent="2.9")), 615, MARCH).amount == eur("17.84")


@pytest.mark.parametrize(
    ("total", "amount"),
    [
        (0, "1.00"),  # the first tier's flat amount, even at zero
        (1000, "31.00"),  # 1 + 3 % of 1 000
        (1500, "41.00"),  # 1 + 3 % of 1 000 + 2 % of 500
    ],
)
def test_graduated_percentage(total, amount):
    model = GraduatedPercentage(
        tiers=(PercentTier(up_to=1000, percent=3, flat=eur("1.00")), PercentTier(percent=2))
    )
    assert price_usage(charge(model), total, MARCH).amount == eur(amount)


@pytest.mark.parametrize(
    ("rounding", "hours", "amount"), [(ROUND_UP, 3, "1.50"), (ROUND_DOWN, 2, "1.00")]
)
def test_a_transformation_bills_per_hour_from_minutes(rounding, hours, amount):
    calls = charge(
        PerUnit(unit_price=eur("0.50")),
        transformation=Transformation(divide_by=60, rounding=rounding),
    )
    price = price_usage(calls, 125, MARCH)  # 125 minutes
    assert (price.measured, price.quantity, price.amount) == (125, hours, eur(amount))


def test_a_minimum_commitment_tops_the_period_up_and_a_maximum_spend_caps_it():
    per_call = PerUnit(unit_price=eur("0.10"))
    topped = price_usage(charge(per_call, minimum=eur("5.00")), 15, MARCH)
    # 15 × 0.10 = 1.50, topped up by 3.50 to 5.00
    assert [(p.kind, p.subtotal) for p in topped.pieces] == [
        (PieceKind.UNITS, Fraction("1.5")),
        (PieceKind.MINIMUM_COMMITMENT, Fraction("3.5")),
    ]
    assert topped.amount == eur("5.00")
    capped = price_usage(charge(per_call, maximum=eur("80.00")), 1000, MARCH)
    # 1 000 × 0.10 = 100.00, brought down by 20.00 to 80.00
    assert capped.pieces[-1].subtotal == -20
    assert capped.amount == eur("80.00")
    assert plain(describe_usage(capped, locale="fr_FR")) == (
        "1 000 × 0,10 € − 20,00 € (plafond de dépense de 80,00 €) = 80,00 €"
    )


def test_the_amount_is_rounded_once_with_the_rounding_asked():
    per_unit = charge(PerUnit(unit_price=eur("0.005")))
    assert price_usage(per_unit, 1, MARCH).amount == eur("0.01")  # 0.005 half-up
    assert price_usage(per_unit, 1, MARCH, rounding=ROUND_HALF_EVEN).amount == eur("0.00")


PLAIN = {
    "code": "api",
    "description": "Appels API",
    "currency": "EUR",
    "metric": {"code": "calls", "aggregation": "sum"},
}


def test_a_usage_charge_from_plain_data():
    data = {
        **PLAIN,
        "currency": "eur",
        "model": {"kind": "package", "price": "5.00", "size": 100, "free_units": 200},
        "tax_rates": {"name": "TVA 20 %", "percent": "20"},
        "transformation": {"divide_by": 5, "rounding": "up"},
        "minimum": "10",
        "maximum": "500.00",
    }
    built = UsageCharge.from_mapping(data)
    assert built == UsageCharge(
        code="api",
        description="Appels API",
        currency=EUR,
        metric=Metric(code="calls", aggregation=Aggregation.SUM),
        model=Package(price=eur("5.00"), size=100, free_units=200),
        tax_rates=(TaxRate(name="TVA 20 %", percent="20"),),
        transformation=Transformation(divide_by=5, rounding=ROUND_UP),
        minimum=eur("10"),
        maximum=eur("500.00"),
    )


def test_plain_data_with_bad_fields_reports_each_with_its_path():
    data = {
        **PLAIN,
        "model": {
            "kind": "graduated",
            "unit_price": "1",
            "tiers": [
                {"up_to": 100},
                {"up_to": 50, "percent": "2", "unit_price": "0.1"},
                {"unit_price": "0.05"},
            ],
        },
        "transformation": {"divide_by": 60, "rounding": "sideways"},
    }
    with pytest.raises(InputError) as caught:
        UsageCharge.from_mapping(data)
    paths = [path for path, _message in caught.value.problems]
    assert paths == [
        "model.unit_price",
        "model.tiers[0]",
        "model.tiers[1].percent",
        "transformation",
    ]
    messages = dict(caught.value.problems)
    assert "not a field of a graduated model (its fields: tiers)" in messages["model.unit_price"]
    assert "rounding='sideways' must be one of" in messages["transformation"]
    assert "neither unit_price nor flat" in messages["model.tiers[0]"]
    # A price the bounds of an amount refuse is reported where the data is read.
    data["model"] = {"kind": "per_unit", "unit_price": "0.1234567891"}
    with pytest.raises(InputError, match=r"model.unit_price: amount='0.1234567891' must be"):
        UsageCharge.from_mapping(data)


def test_tiers_out_of_order_are_refused_naming_the_tier():
    with pytest.raises(InvalidArgumentError, match=r"tiers\[1\].up_to=50 must be above"):
        Graduated(
            tiers=(
                Tier(up_to=100, unit_price=eur("1")),
                Tier(up_to=50, flat=eur("1")),
                Tier(unit_price=eur("1")),
            )
        )
    with pytest.raises(InvalidQuantityError, match="up_to=-1 must be > 0"):
        Tier(up_to=-1, unit_price=eur("1"))


# -- the invariants -----------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=100, places=3).map(eur)
quantities = st.decimals(min_value=0, max_value=100_000, places=2)


@st.composite
def tiers(draw: st.DrawFn, kind: type = Tier) -> tuple:
    bounds = sorted(draw(st.sets(st.integers(min_value=1, max_value=50_000), max_size=4)))
    made = []
    for up_to in [*bounds, None]:
        price = draw(st.one_of(st.none(), prices))
        flat = draw(st.one_of(st.none(), prices) if price is not None else prices)
        if kind is PercentTier:
            percent = None if price is None else min(price.amount, Decimal(100))
            made.append(PercentTier(up_to=up_to, percent=percent, flat=flat))
        else:
            made.append(Tier(up_to=up_to, unit_price=price, flat=flat))
    return tuple(made)


models = st.one_of(
    st.builds(PerUnit, unit_price=prices),
    st.builds(
        Package,
        price=prices,
        size=st.integers(min_value=1, max_value=1000),
        free_units=st.integers(min_value=0, max_value=1000),
    ),
    tiers().map(lambda t: Graduated(tiers=t)),
    tiers().map(lambda t: Volume(tiers=t)),
    st.builds(Percentage, percent=st.decimals(min_value=0, max_value=100, places=2)),
    tiers(PercentTier).map(lambda t: GraduatedPercentage(tiers=t)),
)


@given(
    st.one_of(
        tiers().map(lambda t: Graduated(tiers=t)),
        tiers(PercentTier).map(lambda t: GraduatedPercentage(tiers=t)),
    ),
    quantities,
    quantities,
)
def test_graduated_amounts_never_decrease_as_quantity_grows(model, first, second):
    low, high = sorted((first, second))
    smaller = price_usage(charge(model), low, MARCH)
    larger = price_usage(charge(model), high, MARCH)
    assert smaller.unrounded <= larger.unrounded
    assert smaller.amount <= larger.amount


@st.composite
def limits(draw: st.DrawFn) -> tuple[Money | None, Money | None]:
    """A minimum commitment and a maximum spend, either absent, the minimum never above."""
    low, high = draw(st.one_of(st.none(), prices)), draw(st.one_of(st.none(), prices))
    if low is not None and high is not None and low > high:
        return high, low
    return low, high


@given(models, quantities, limits())
def test_tier_pieces_sum_to_the_unrounded_amount(model, quantity, bounds):
    low, high = bounds
    price = price_usage(charge(model, minimum=low, maximum=high), quantity, MARCH)
    assert sum((piece.subtotal for piece in price.pieces), Fraction(0)) == price.unrounded
    # Rounded once, half-up, to the cent (every amount here is >= 0).
    assert price.unrounded >= 0
    assert price.amount == Money.from_minor_units(
        math.floor(price.unrounded * 100 + Fraction(1, 2)), EUR
    )


@given(models, quantities, limits())
def test_min_and_max_bring_the_period_total_exactly_to_the_commitment_or_the_cap(
    model, quantity, bounds
):
    low, high = bounds
    raw = price_usage(charge(model), quantity, MARCH).unrounded
    price = price_usage(charge(model, minimum=low, maximum=high), quantity, MARCH)
    expected = raw
    if low is not None and raw < low.amount:
        expected = Fraction(low.amount)
    elif high is not None and raw > high.amount:
        expected = Fraction(high.amount)
    assert price.unrounded == expected
    kinds = [piece.kind for piece in price.pieces]
    assert (PieceKind.MINIMUM_COMMITMENT in kinds) == (low is not None and raw < low.amount)
    assert (PieceKind.MAXIMUM_SPEND in kinds) == (high is not None and raw > high.amount)


DAYS = st.integers(min_value=0, max_value=120).map(lambda n: date(2026, 1, 1) + timedelta(n))


@st.composite
def usage(draw: st.DrawFn) -> list[UsageRecord]:
    count = draw(st.integers(min_value=0, max_value=25))
    return [
        record(
            f"e{index}",
            draw(DAYS),
            draw(st.decimals(min_value=0, max_value=1000, places=2)),
            user=draw(st.sampled_from("abcde")),
        )
        for index in range(count)
    ]


METRICS = [
    Metric(code="calls", aggregation=aggregation)
    for aggregation in Aggregation
    if aggregation is not Aggregation.UNIQUE_COUNT
] + [Metric(code="calls", aggregation=Aggregation.UNIQUE_COUNT, property_name="user")]


@given(usage(), st.data())
def test_a_usage_record_sent_twice_changes_nothing(records, data):
    again = data.draw(st.lists(st.sampled_from(records), max_size=10)) if records else []
    resent = data.draw(st.permutations([*records, *again]))
    # Resending keeps each record's place of first arrival irrelevant to every aggregation.
    for metric in METRICS:
        assert aggregate(metric, resent, MARCH) == aggregate(metric, records, MARCH)
    volume = UsageCharge(
        code="api", description="API", currency=EUR, metric=METRICS[0], model=VOLUME
    )
    assert price_usage(volume, resent, MARCH) == price_usage(volume, records, MARCH)


@given(usage(), DAYS, DAYS)
def test_records_outside_a_period_never_count(records, first, second):
    start, end = sorted((first, second))
    if start == end:
        end = start + timedelta(1)
    period = Period(start, end)
    inside = [r for r in records if start <= r.used_on < end]
    for metric in METRICS:
        if metric.aggregation is Aggregation.TIME_WEIGHTED:
            # A gauge reads the value held at the start; records after the end never count.
            kept = [r for r in records if r.used_on < end]
            assert aggregate(metric, records, period) == aggregate(metric, kept, period)
        else:
            assert aggregate(metric, records, period) == aggregate(metric, inside, period)


@given(usage(), DAYS, DAYS, DAYS)
def test_aggregating_to_d1_then_d2_is_consistent_with_aggregating_to_d2(
    records, first, second, third
):
    start, d1, d2 = sorted((first, second, third))
    if not start < d1 < d2:
        return
    one, two, whole = Period(start, d1), Period(d1, d2), Period(start, d2)

    def of(aggregation: Aggregation, period: Period) -> Fraction:
        return aggregate(Metric(code="calls", aggregation=aggregation), records, period)

    for additive in (Aggregation.SUM, Aggregation.COUNT):
        assert of(additive, one) + of(additive, two) == of(additive, whole)
    assert max(of(Aggregation.MAX, one), of(Aggregation.MAX, two)) == of(Aggregation.MAX, whole)
    in_two = any(d1 <= r.used_on < d2 for r in records)
    assert of(Aggregation.LAST, whole) == of(Aggregation.LAST, two if in_two else one)
    # Seat-days add up: the time-weighted values weighted by their periods' days.
    weighted = Aggregation.TIME_WEIGHTED
    assert of(weighted, one) * one.days + of(weighted, two) * two.days == (
        of(weighted, whole) * whole.days
    )


def test_a_charge_names_its_model_kind_and_people_read_it_in_their_words():
    assert charge(VOLUME).model_kind is ModelKind.VOLUME
    assert charge(GRADUATED).model_kind is ModelKind.GRADUATED
    assert label(ModelKind.GRADUATED, locale="fr_FR") == "Par paliers"
    assert label(Aggregation.TIME_WEIGHTED, locale="en_US") == "Time-weighted value"
    assert label(PieceKind.MINIMUM_COMMITMENT, locale="fr_FR") == "engagement minimum"


def test_explanations_of_percentages_volumes_and_transformations_in_both_languages():
    tiered = GraduatedPercentage(
        tiers=(PercentTier(up_to=1000, percent=3, flat=eur("1.00")), PercentTier(percent="2.5"))
    )
    price = price_usage(charge(tiered), 1500, MARCH)
    # 3 % of 1 000 + 1.00 + 2.5 % of 500 = 30 + 1 + 12.50 = 43.50
    assert plain(describe_usage(price, locale="fr_FR")) == (
        "3 % × 1 000,00 € + 1,00 € + 2,5 % × 500,00 € = 43,50 €"
    )
    assert describe_usage(price, locale="en_US") == (
        "3% × €1,000.00 + €1.00 + 2.5% × €500.00 = €43.50"
    )
    # Volume: 1 001 units reach the third tier: 50 + 1 001 × 0.50 = 550.50
    price = price_usage(charge(VOLUME), 1001, MARCH)
    assert describe_usage(price, locale="en_US") == "1,001 × €0.50 + €50.00 = €550.50"
    minutes = charge(
        PerUnit(unit_price=eur("0.50")),
        transformation=Transformation(divide_by=60, rounding=ROUND_DOWN),
    )
    price = price_usage(minutes, 125, MARCH)
    assert describe_usage(price, locale="en_US") == (
        "125 ÷ 60, rounded down = 2: 2 × €0.50 = €1.00"
    )
    # A currency without minor unit: unit prices and amounts in whole yen.
    yen = UsageCharge(
        code="api",
        description="API",
        currency="JPY",
        metric=Metric(code="calls", aggregation=Aggregation.SUM),
        model=PerUnit(unit_price=Money("3", "JPY")),
    )
    assert plain(describe_usage(price_usage(yen, 7, MARCH), locale="fr_FR")) == (
        "7 × 3 JPY = 21 JPY"
    )


def test_a_key_reused_with_other_properties_names_what_differs():
    first = record("evt_1", date(2026, 3, 2), 3, user="a")
    with pytest.raises(InvalidArgumentError) as caught:
        deduplicate([first, record("evt_1", date(2026, 3, 2), 3, user="b")])
    assert str(caught.value) == (
        "key='evt_1' of subscription 'S1' names two different records (calls 3 on 2026-03-02 "
        "{'user': 'a'}, then calls 3 on 2026-03-02 {'user': 'b'}); a key names one record"
    )

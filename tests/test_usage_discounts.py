"""Invoice discounts on usage lines (issue 15): fixed amounts, and discounts added later.

Worked numbers: API calls at 0.015 € up to 1 000 then 0.020 € (graduated), TVA 20 %, from
1 March 2026, billed in arrears; a platform at 49.00 € a month billed in advance beside it.
An invoice fixed amount is **per billing period of the subscription**: the period's
recurring and one-time lines take it first (spread as they always were), and what they
left of it goes to the usage lines of that period, never taking one below zero.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill.billing import BillingResult, ChargePlan, bill_subscription
from subbill.charges import RecurringCharge
from subbill.discounts import Discount, Duration
from subbill.errors import InvalidStateError
from subbill.invoices import LineKind
from subbill.metering import ScheduledUsage
from subbill.money import Money
from tests.builders import VAT, eur
from tests.test_usage_billing import calls, graduated, volume

MARCH = date(2026, 3, 1)
APRIL = date(2026, 4, 1)
MAY = date(2026, 5, 1)
LATE = date(2026, 4, 2)


def plan(*discounts: Discount, by_volume: bool = False, with_platform: bool = False) -> ChargePlan:
    """API calls (graduated, or by volume: 900 calls = 18.00 €, 1 100 = 11.00 €), a platform."""
    platform = RecurringCharge(
        code="platform",
        description="Plateforme",
        unit_price=eur("49.00"),
        start=MARCH,
        tax_rates=(VAT,),
    )
    charge = volume() if by_volume else graduated()
    return ChargePlan(
        id="S1",
        customer="C",
        currency="EUR",
        charges=(platform,) if with_platform else (),
        usage=(ScheduledUsage(charge=charge, start=MARCH),),
        discounts=discounts,
    )


def off(amount: str, **options: object) -> Discount:
    return Discount.amount_off("REMISE", eur(amount), **options)  # type: ignore[arg-type]


def summed(*results: BillingResult, name: str) -> Money:
    lines = [line for r in results if r.invoice is not None for line in r.invoice.lines]
    return sum((getattr(line, name) for line in lines), eur("0"))


# -- 1. fixed amounts reach usage lines -----------------------------------------------------------


def test_an_invoice_fixed_amount_reduces_a_usage_line():
    """1 200 calls = 19.00 €, 5.00 € off: 14.00 € HT, TVA 2.80 €, 16.80 € TTC."""
    invoice = bill_subscription(
        plan(off("5")), as_of=APRIL, usage=[calls(1200, MARCH, "e1")]
    ).invoice
    assert invoice is not None
    [line] = invoice.lines
    assert (line.amount, line.discount, line.net, line.tax, line.total) == (
        eur("19.00"),
        eur("5.00"),
        eur("14.00"),
        eur("2.80"),
        eur("16.80"),
    )
    assert [(d.code, d.amount) for d in line.explanation.discounts] == [("REMISE", eur("5.00"))]
    assert [(a.discount.code, a.amount, a.unused) for a in invoice.discounts] == [
        ("REMISE", eur("5.00"), eur("0.00"))
    ]


def test_a_fixed_amount_never_takes_a_usage_line_below_zero():
    """100 calls = 1.50 €, 5.00 € off: 1.50 € taken, 3.50 € unused, nothing to pay."""
    invoice = bill_subscription(
        plan(off("5")), as_of=APRIL, usage=[calls(100, MARCH, "e1")]
    ).invoice
    assert invoice is not None
    [line] = invoice.lines
    assert (line.amount, line.discount, line.net, line.total) == (
        eur("1.50"),
        eur("1.50"),
        eur("0.00"),
        eur("0.00"),
    )
    assert [(a.amount, a.unused) for a in invoice.discounts] == [(eur("1.50"), eur("3.50"))]


def test_a_usage_line_gets_what_the_periods_other_lines_left_of_a_fixed_amount():
    """60.00 € off each month: the platform (49.00 €, in advance) takes 49.00 € of March's on
    1 March; March's usage (19.00 €, billed on 1 April) gets the 11.00 € left: 8.00 € HT.
    April's platform line takes 49.00 € of April's amount, as it always did."""
    subscription = plan(off("60"), with_platform=True)
    first = bill_subscription(subscription, as_of=MARCH)
    assert first.invoice is not None
    [march_platform] = first.invoice.lines
    assert (march_platform.amount, march_platform.discount) == (eur("49.00"), eur("49.00"))
    second = bill_subscription(
        subscription, first.state, as_of=APRIL, usage=[calls(1200, MARCH, "e1")]
    )
    assert second.invoice is not None
    assert [
        (line.code, line.period.start, line.amount, line.discount, line.net)
        for line in second.invoice.lines
    ] == [
        ("platform", APRIL, eur("49.00"), eur("49.00"), eur("0.00")),
        ("api", MARCH, eur("19.00"), eur("11.00"), eur("8.00")),
    ]
    # Never more than the period's amount: March took 49.00 + 11.00 = 60.00 in all.


def test_a_fixed_amount_scoped_to_other_products_never_reaches_a_usage_line():
    scoped = off("5", applies_to={"platform"})
    invoice = bill_subscription(plan(scoped), as_of=APRIL, usage=[calls(1200, MARCH, "e1")]).invoice
    assert invoice is not None
    [line] = invoice.lines
    assert (line.amount, line.discount) == (eur("19.00"), eur("0.00"))


def test_a_fixed_amount_follows_its_duration_on_usage_periods():
    """5.00 € off for one period: March's 19.00 € get it, April's 19.00 € do not."""
    once = off("5", duration=Duration.periods(1))
    records = [calls(1200, MARCH, "e1"), calls(1200, APRIL, "e2")]
    invoice = bill_subscription(plan(once), as_of=MAY, usage=records).invoice
    assert invoice is not None
    assert [(line.period.start, line.discount) for line in invoice.lines] == [
        (MARCH, eur("5.00")),
        (APRIL, eur("0.00")),
    ]


def test_a_late_corrections_fixed_discount_is_the_difference():
    """March billed 100 calls: 1.50 − 1.50 (of 5.00 €); 900 late calls re-rate it to
    15.00 − 5.00: the correction is 13.50 − 3.50 = 10.00 € HT, never more than 5.00 € in all."""
    subscription = plan(off("5"))
    first = bill_subscription(subscription, as_of=APRIL, usage=[calls(100, MARCH, "e1")])
    every = [calls(100, MARCH, "e1"), calls(900, date(2026, 3, 31), "e2")]
    second = bill_subscription(subscription, first.state, as_of=LATE, usage=every)
    assert second.invoice is not None
    [correction] = second.invoice.lines
    assert correction.kind is LineKind.USAGE_CORRECTION
    assert (correction.amount, correction.discount, correction.net) == (
        eur("13.50"),
        eur("3.50"),
        eur("10.00"),
    )
    assert summed(first, second, name="discount") == eur("5.00")
    # Billed again with the same records: nothing more.
    assert bill_subscription(subscription, second.state, as_of=LATE, usage=every).invoice is None


def test_a_credit_correction_never_gives_back_more_than_was_charged():
    """Volume pricing, 15.00 € off: 900 calls = 18.00 − 15.00 = 3.00 € charged; 200 late calls
    make 1 100 at 0.01 € = 11.00 €, all of it discounted: the credit is −7.00 + 4.00 = −3.00 €,
    exactly what was charged, not −7.00 €."""
    subscription = plan(off("15"), by_volume=True)
    first = bill_subscription(subscription, as_of=APRIL, usage=[calls(900, MARCH, "e1")])
    every = [calls(900, MARCH, "e1"), calls(200, date(2026, 3, 31), "e2")]
    second = bill_subscription(subscription, first.state, as_of=LATE, usage=every)
    assert second.invoice is not None
    [credit] = second.invoice.lines
    assert (credit.amount, credit.discount, credit.net, credit.total) == (
        eur("-7.00"),
        eur("-4.00"),
        eur("-3.00"),
        eur("-3.60"),
    )
    assert summed(first, second, name="total") == eur("0.00")


@settings(max_examples=60, deadline=None)
@given(
    first=st.integers(min_value=0, max_value=3000),
    late=st.integers(min_value=0, max_value=3000),
    amount=st.integers(min_value=1, max_value=6000).map(lambda cents: Money(cents, "EUR") / 100),
    volume=st.booleans(),
)
def test_a_usage_periods_fixed_discount_never_exceeds_the_periods_amount(
    first, late, amount, volume
):
    """Original plus correction equal billing the period at once; the discount never exceeds
    the fixed amount nor the period's amount; no line goes below zero."""
    subscription = plan(Discount.amount_off("REMISE", amount), by_volume=volume)
    early = [calls(first, MARCH, "e1")]
    every = [*early, calls(late, date(2026, 3, 31), "e2")]
    original = bill_subscription(subscription, as_of=APRIL, usage=early)
    corrected = bill_subscription(subscription, original.state, as_of=LATE, usage=every)
    at_once = bill_subscription(subscription, as_of=APRIL, usage=every)
    for name in ("amount", "discount", "net", "tax"):
        assert summed(original, corrected, name=name) == summed(at_once, name=name)
    discount = summed(original, corrected, name="discount")
    assert eur("0") <= discount <= min(amount, summed(at_once, name="amount"))
    for result in (original, at_once):
        for line in result.invoice.lines if result.invoice else ():
            assert line.net >= eur("0")


# -- 2. a discount added after usage periods were billed -----------------------------------------


def test_a_discount_added_after_a_usage_period_was_billed_is_refused():
    """March's usage was billed with no discount; a 10 % added without a start would give a late
    March record a discount March never had: refused, as for a recurring charge."""
    first = bill_subscription(plan(), as_of=APRIL, usage=[calls(1000, MARCH, "e1")])
    every = [calls(1000, MARCH, "e1"), calls(200, date(2026, 3, 31), "e2")]
    for added in (Discount.percent_off("NOUVEAU", "10"), Discount.amount_off("NOUVEAU", eur("5"))):
        with pytest.raises(
            InvalidStateError, match="invoice discount 'NOUVEAU' of subscription 'S1' is new"
        ):
            bill_subscription(plan(added), first.state, as_of=LATE, usage=every)


def test_a_discount_added_from_an_unbilled_usage_period_leaves_billed_periods_as_they_were():
    """The same 10 % from 1 April: March's late 200 calls are corrected at 4.00 € with no
    discount; April's 1 200 calls are 19.00 − 1.90."""
    first = bill_subscription(plan(), as_of=APRIL, usage=[calls(1000, MARCH, "e1")])
    later = plan(Discount.percent_off("NOUVEAU", "10", starts_on=APRIL))
    every = [calls(1000, MARCH, "e1"), calls(200, date(2026, 3, 31), "e2")]
    second = bill_subscription(
        later, first.state, as_of=MAY, usage=[*every, calls(1200, APRIL, "e3")]
    )
    assert second.invoice is not None
    assert [
        (line.kind, line.period.start, line.amount, line.discount) for line in second.invoice.lines
    ] == [
        (LineKind.USAGE_CORRECTION, MARCH, eur("4.00"), eur("0.00")),
        (LineKind.USAGE, APRIL, eur("19.00"), eur("1.90")),
    ]

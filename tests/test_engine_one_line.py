"""A plain plan's call that bills one billing period gives what the general path gives.

Issue 13, the engine's sixth pass: when ``_bill_plain`` finds a single billing period to
bill (a renewal's whole period, or the part of it due: a first invoice prorated from the
day the charge starts), it writes that line at once (``_plain_period``) and the invoice and
state around it (``_one_line_result``, which hands the line's own ``Money`` to the invoice's
totals and tax breakdown where the sums are the same digits). The properties here bill the
same calls both ways over a wider set of charges than the engine's other properties draw
(negative and sub-cent prices, fractional seats, yen, every proration basis, several rates),
and ask for the same results, digits included, or the same error.
"""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from benchmarks.workloads import SILVER_RENEWAL, SILVER_START, silver_inputs
from hypothesis import example, given
from hypothesis import strategies as st

from subbill import billing
from subbill.billing import (
    BillingState,
    ChargePlan,
    NegativeBalancePolicy,
    _bill_general,
    bill_subscription,
)
from subbill.charges import RecurringCharge
from subbill.money import MAX_AMOUNT, Money
from subbill.periods import MONTHLY, QUARTERLY, Frequency
from subbill.proration import BillingTiming, ProrationBasis
from subbill.taxes import TaxRate, TaxRounding
from tests.test_engine_plain_path import _outcome

VAT = TaxRate(name="TVA", percent="20")
RATES = [
    (VAT,),
    (TaxRate(name="TVA 5,5 %", percent="5.5"),),
    (),
    (TaxRate(name="GST", percent="10", inclusive=True),),
    (VAT, TaxRate(name="Éco", percent="0.5")),
    (TaxRate(name="Exonéré", percent="0"),),
]


prices = st.one_of(
    st.decimals(min_value=-2000, max_value=2000, places=2),
    st.decimals(min_value=-50, max_value=50, places=9),  # sub-cent prices (a call at 0.002)
    st.sampled_from([Decimal("5E+1"), Decimal("-0.00"), Decimal("0"), Decimal("0.001")]),
)


@st.composite
def one_charge_plans(draw):
    """A plan of one recurring charge without discounts, in any currency, basis and policy."""
    currency = draw(st.sampled_from(["EUR", "JPY"]))
    frequency = draw(st.sampled_from([MONTHLY, QUARTERLY, Frequency.weeks(2)]))
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 365)))
    end = draw(st.one_of(st.none(), st.integers(1, 120).map(lambda n: start + timedelta(days=n))))
    charge = RecurringCharge(
        code="c0",
        description="c0",
        unit_price=Money(draw(prices), currency),
        quantity=draw(st.one_of(st.integers(0, 12), st.sampled_from([Decimal("1.5")]))),
        frequency=frequency,
        billing_day=draw(st.one_of(st.none(), st.integers(1, 31)))
        if frequency.is_month_based
        else None,
        timing=draw(st.sampled_from(list(BillingTiming))),
        basis=draw(st.sampled_from([ProrationBasis.ACTUAL_DAYS, ProrationBasis.NONE])),
        start=start,
        end=end,
        tax_rates=draw(st.sampled_from(RATES)),
        reason=draw(st.sampled_from([None, "new"])),
    )
    policies = draw(
        st.fixed_dictionaries(
            {
                "payment_terms_days": st.integers(0, 365),
                "tax_rounding": st.sampled_from(list(TaxRounding)),
                "negative_balance": st.sampled_from(list(NegativeBalancePolicy)),
            }
        )
    )
    return ChargePlan(id="S", customer="C", currency=currency, charges=(charge,), **policies)


@given(
    one_charge_plans(),
    st.integers(0, 500),
    st.lists(st.integers(0, 100), max_size=3),
    st.one_of(st.none(), st.decimals(min_value=0, max_value=500, places=2)),
)
@example(  # a negative price taxed at 20 %: a tax of -0.00 (its sum from 0 is 0.00)
    plan=ChargePlan(
        id="S",
        customer="C",
        currency="EUR",
        charges=(
            RecurringCharge(
                code="c0",
                description="c0",
                unit_price=Money("-0.01", "EUR"),
                start=date(2026, 1, 1),
                tax_rates=(VAT,),
            ),
        ),
    ),
    offset=0,
    gaps=[31],
    credit=None,
)
def test_a_one_period_call_bills_as_the_general_path_does(plan, offset, gaps, credit):
    # Bills from the charge's start plus offset, then after each gap, from the state each
    # call returns: each call gives the general path's result (repr: every digit, sign and
    # exponent of every amount) or its error.
    state = BillingState() if credit is None else BillingState().with_credit(Money(credit, "EUR"))
    as_of = plan.charges[0].start + timedelta(days=offset)
    for gap in (0, *gaps):
        as_of += timedelta(days=gap)
        fast = _outcome(lambda s=state, d=as_of: bill_subscription(plan, s, as_of=d, usage=()))
        general = _outcome(lambda s=state, d=as_of: _bill_general(plan, s, d, ()))
        assert fast[:2] == general[:2]
        if fast[0] == "error":
            return
        assert fast[2] == general[2]
        state = fast[2].state


def test_the_silver_calls_go_through_the_one_line_path(monkeypatch):
    # The silver workload's two calls (a prorated first period, then a whole one) are the
    # one-line path's; what they bill is the general path's, field for field.
    written = []
    one_period = billing._plain_period

    def spy(*args, **kwargs):
        result = one_period(*args, **kwargs)
        written.extend(result.invoice.lines)
        return result

    monkeypatch.setattr(billing, "_plain_period", spy)
    plan = silver_inputs(1)[0]
    first = bill_subscription(plan, as_of=SILVER_START)
    second = bill_subscription(plan, first.state, as_of=SILVER_RENEWAL)
    assert [str(line.amount) for line in written] == ["27.42 EUR", "50.00 EUR"]
    assert [str(line.total) for line in written] == ["27.42 EUR", "50.00 EUR"]
    assert str(first.invoice.total) == "27.42 EUR"
    assert str(second.invoice.total) == "50.00 EUR"
    assert first == _bill_general(plan, BillingState(), SILVER_START, ())
    assert second == _bill_general(plan, first.state, SILVER_RENEWAL, ())


def test_a_one_line_invoice_holds_its_lines_amounts():
    # Its net, tax and total are its line's base, tax and total (the same values: the
    # invoice shares them), and so is its one tax row.
    charge = RecurringCharge(
        code="pro",
        description="Pro",
        unit_price=Money("50.00", "EUR"),
        billing_day=1,
        start=SILVER_START,
        tax_rates=(VAT,),
    )
    plan = ChargePlan(id="S", customer="C", currency="EUR", charges=(charge,))
    invoice = bill_subscription(plan, as_of=SILVER_START).invoice
    (line,) = invoice.lines
    assert (invoice.net, invoice.tax, invoice.total) == (line.base, line.tax, line.total)
    assert (str(invoice.net), str(invoice.tax), str(invoice.total)) == (
        "27.42 EUR",
        "5.48 EUR",
        "32.90 EUR",
    )
    (row,) = invoice.taxes
    assert (row.rate, row.base, row.tax) == (VAT, invoice.net, invoice.tax)


amounts = st.one_of(
    st.decimals(min_value=-MAX_AMOUNT + 1, max_value=MAX_AMOUNT - 1, places=2),
    st.decimals(min_value=-1000, max_value=1000, places=9),
    st.sampled_from([Decimal("5E+1"), Decimal("-0"), Decimal("999999999999999.99")]),
)


@given(
    amounts,
    st.sampled_from(["EUR", "JPY", "BHD"]),
    st.integers(1, 5000),
    st.integers(0, 5000),
    st.integers(1, 12),
)
def test_prorating_by_day_count_is_prorating_by_the_reduced_factor(
    amount, currency, whole, days, quantity
):
    # The day count itself (17 / 31) in place of its reduced Fraction: the same digits, or
    # the same error (an amount beyond the bound, with the quantity's help).
    days = min(days, whole)
    price = Money(amount, currency) * quantity if abs(amount) * quantity < MAX_AMOUNT else None
    if price is None:
        return
    by_days = _outcome(lambda: price._prorated(days, whole))
    by_factor = _outcome(lambda: price._times_rounded(Fraction(days, whole)))
    assert by_days[:2] == by_factor[:2]


@pytest.mark.parametrize(
    ("amount", "days", "whole", "expected"),
    [
        ("50.00", 17, 31, "27.42"),
        ("50.00", 0, 31, "0.00"),
        ("50.00", 31, 31, "50.00"),
        ("-0.01", 15, 30, "-0.01"),  # half up: away from zero
        ("100.00", 4000, 4000, "100.00"),  # beyond the day counts kept as Decimals
    ],
)
def test_prorating_by_day_count_examples(amount, days, whole, expected):
    assert str(Money(amount, "EUR")._prorated(days, whole).amount) == expected

"""Charges refuse, when they are built, what billing could not bill (review of issue 10)."""

import pickle
from datetime import date

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import (
    ANNUAL,
    InvalidArgumentError,
    Money,
    OneTimeCharge,
    RecurringCharge,
    TaxRate,
    bill_subscription,
)
from subbill.billing import ChargePlan
from subbill.discounts import Discount, Duration, terms_digest
from subbill.periods import Frequency
from subbill.proration import ProrationBasis
from subbill.taxes import line_tax, sum_taxes

START = date(2026, 3, 1)
CONTROLS = ["plan\nchange", "ESC\x1b[2J", "abc\u202edef", "cr\r", "del\x7f"]


def _recurring(**changes):
    fields = {
        "code": "pro",
        "description": "Pro",
        "unit_price": Money("59", "EUR"),
        "start": START,
        **changes,
    }
    return RecurringCharge(**fields)


@pytest.mark.parametrize(
    "frequency", [Frequency.days(7), Frequency.weeks(2), Frequency.days(30), Frequency.days(1)]
)
def test_a_30_360_charge_with_a_day_based_frequency_is_refused_when_built(frequency):
    with pytest.raises(
        InvalidArgumentError,
        match=rf"^basis=thirty_day_month of charge 'pro' needs a month-based frequency, not "
        rf"frequency={frequency}",
    ):
        _recurring(basis=ProrationBasis.THIRTY_DAY_MONTH, frequency=frequency)


def test_a_30_360_charge_with_a_month_based_frequency_bills():
    charge = _recurring(basis=ProrationBasis.THIRTY_DAY_MONTH, frequency=ANNUAL)
    subscription = ChargePlan(id="S1", customer="ACME", currency="EUR", charges=(charge,))
    assert bill_subscription(subscription, as_of=START).invoice.total == Money("59.00", "EUR")
    assert _recurring(frequency=Frequency.days(7)).frequency == Frequency.days(7)  # actual days


@pytest.mark.parametrize("text", CONTROLS)
def test_a_charge_reason_refuses_control_characters(text):
    with pytest.raises(InvalidArgumentError, match=r"^reason=.* holds U\+"):
        _recurring(reason=text)
    with pytest.raises(InvalidArgumentError, match=r"^reason=.* holds U\+"):
        OneTimeCharge(
            code="setup",
            description="Setup",
            unit_price=Money("10", "EUR"),
            due_on=START,
            reason=text,
        )


def test_a_charge_change_refuses_a_reason_with_a_newline():
    with pytest.raises(InvalidArgumentError, match=r"^reason=.* holds U\+000A"):
        _recurring().change(on=date(2026, 3, 13), quantity=2, reason="quantity\nTotal due: 0")


def test_a_charge_reason_is_optional_text():
    assert _recurring().reason is None
    assert _recurring(reason="plan_change").reason == "plan_change"
    with pytest.raises(InvalidArgumentError, match=r"^reason='' must be a non-empty str"):
        _recurring(reason="")


def test_terms_digests_stay_those_stored_billing_states_hold():
    # A billing state records each charge's and discount's terms digest; billing compares them
    # with the stored ones, so the digest of the same terms never changes (these are the
    # digests subbill recorded before they were cached on the charge and the discount).
    promo = Discount.percent_off("P", "10", duration=Duration.months(3))
    charge = _recurring(
        unit_price=Money("50.00", "EUR"),
        quantity=3,
        billing_day=13,
        tax_rates=(TaxRate(name="TVA 20 %", percent="20"),),
        discounts=(promo,),
    )
    assert charge.terms_digest == "v1:c40d3f8c7a10baa6"
    assert promo.terms_digest == "v1:04e0800dd1a89631"
    assert charge.whole_price == Money("150.00", "EUR")


def test_a_terms_digest_does_not_depend_on_what_the_process_billed_before():
    # The digest a state records is compared by every later run, in any process. It used to
    # be memoised by the charge's values, so a price written 50.0 billed first gave a price
    # written 50.00 (an equal Decimal) the other's digest: a state stored by one process then
    # held a digest that a fresh process computes differently for the same charge.
    def terms_of(price):
        charge = _recurring(unit_price=Money(price, "EUR"))
        plan = ChargePlan(id="S1", customer="C1", currency="EUR", charges=(charge,))
        return bill_subscription(plan, as_of=START).state.terms

    assert terms_of("50.0") == (("pro@2026-03-01", "v1:be5f86dbedf9451d"),)
    assert terms_of("50.00") == (("pro@2026-03-01", "v1:6c4207ebeba653ad"),)


@given(
    st.sampled_from(["50", "50.0", "50.00", "12.345"]),
    st.sampled_from([1, 3, "2.50"]),
    st.sampled_from([Frequency.months(1), Frequency.months(12), Frequency.days(10)]),
    st.lists(st.sampled_from(["20", "20.0", "5.5"]), max_size=2),
    st.booleans(),
)
def test_a_charges_terms_digest_is_the_digest_of_its_terms(price, quantity, frequency, rates, off):
    # terms_digest keeps each charge's rates' and frequency's text and reads its enums'
    # values directly (issue 13): the digest is still terms_digest of the parts a billing
    # state recorded.
    charge = _recurring(
        unit_price=Money(price, "EUR"),
        quantity=quantity,
        frequency=frequency,
        tax_rates=tuple(TaxRate(name=f"T{i}", percent=p) for i, p in enumerate(rates)),
        discounts=(Discount.percent_off("X", "10"),) if off else (),
    )
    schedule = charge.schedule
    assert charge.terms_digest == terms_digest(
        str(charge.unit_price.amount),
        "EUR",
        str(charge.quantity),
        schedule.anchor,
        schedule.frequency,
        schedule.day,
        charge.timing.value,
        charge.basis.value,
        str(tuple(d.terms for d in charge.discounts)) if off else "()",
        str(tuple((r.percent, r.inclusive) for r in charge.tax_rates)) if rates else "()",
    )


def test_a_terms_digest_keeps_how_a_tax_rate_was_written():
    # The digest writes each rate's percent as it was written; the text of a charge's rates
    # is kept per rate object, never per equal value (20 == 20.0), so a rate written 20.0
    # after one written 20 (the same tuple key by value) keeps its own digest, as before.
    def digest(percent):
        rate = TaxRate(name="TVA", percent=percent)
        return _recurring(unit_price=Money("50.00", "EUR"), tax_rates=(rate,)).terms_digest

    assert [digest("20"), digest("20.0"), digest("20")] == [
        "v1:6d442d9b61845ea7",
        "v1:68b9cfc6a487353d",
        "v1:6d442d9b61845ea7",
    ]


@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False),
    st.decimals(min_value=0, max_value=10**4, places=6, allow_nan=False),
    st.sampled_from(["EUR", "JPY", "KWD"]),
    st.sampled_from(
        [
            (),
            (TaxRate(name="TVA", percent="20"),),
            (TaxRate(name="GST", percent="10", inclusive=True),),
        ]
    ),
)
def test_a_charges_cached_values_are_what_they_compute(price, quantity, currency, rates):
    """``period_price`` (kept from the check of the product when built) and ``whole_tax``.

    Compared as written (``50.0000`` is not ``50``): explanations and documents show them. A
    copy (``attrs.evolve``) and a pickled charge (built without its checks) agree.
    """
    charge = _recurring(unit_price=Money(price, currency), quantity=quantity, tax_rates=rates)
    product = Money(price, currency) * charge.quantity
    for each in (charge, attrs.evolve(charge), pickle.loads(pickle.dumps(charge))):
        assert str(each.period_price.amount) == str(product.amount)
        assert each.period_price.currency == currency
        assert each.whole_price == product.rounded()
        whole = each.whole_tax
        expected = line_tax(product.rounded(), rates)
        assert whole == expected
        assert str(whole.tax.amount) == str(sum_taxes(expected.taxes, currency=currency).amount)
        assert str(whole.total.amount) == str((expected.base + expected.tax).amount)

"""The caller's decimal context is never read nor changed.

Every public call below is run under the default context, then under contexts that would
change any result computed in them (4 digits of precision, every trap on, odd rounding, a
tiny exponent range, lower-case exponents); the results must be identical, and the caller's
context object must come back exactly as it was (same object, same settings, no flag set).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import (
    MONTHLY,
    BillingStart,
    ChargePlan,
    Discount,
    Duration,
    LineItem,
    Money,
    OneTimeCharge,
    PaymentLink,
    RecurringCharge,
    TaxRate,
    bill_subscription,
    billable_periods,
    checkout,
    prorate,
)
from subbill.l10n import describe_proration, format_money, invoice_html, invoice_text
from subbill.proration import credit_unused
from subbill.taxes import TaxRounding, line_taxes, tax_breakdown
from tests.builders import VAT, eur
from tests.strategies import amounts_within

ALL_SIGNALS = [
    decimal.Clamped,
    decimal.DivisionByZero,
    decimal.Inexact,
    decimal.InvalidOperation,
    decimal.Overflow,
    decimal.Rounded,
    decimal.Subnormal,
    decimal.Underflow,
    decimal.FloatOperation,
]
ROUNDINGS = [getattr(decimal, name) for name in dir(decimal) if name.startswith("ROUND_")]

CONTEXTS = {
    "prec=4": decimal.Context(prec=4),
    "all traps": decimal.Context(traps=ALL_SIGNALS),
    "weird rounding": decimal.Context(prec=6, rounding=decimal.ROUND_05UP),
    "tiny exponents, lower-case": decimal.Context(
        prec=3, rounding=decimal.ROUND_FLOOR, Emin=-3, Emax=3, capitals=0, clamp=1
    ),
    "every trap, prec=1": decimal.Context(prec=1, rounding=decimal.ROUND_UP, traps=ALL_SIGNALS),
}

REDUCED = TaxRate(name="TVA 5,5 %", percent="5.5")


def _snapshot(context: decimal.Context) -> tuple[object, ...]:
    return (
        context.prec,
        context.rounding,
        context.Emin,
        context.Emax,
        context.capitals,
        context.clamp,
        dict(context.traps),
        dict(context.flags),
    )


@contextmanager
def caller_context(context: decimal.Context) -> Iterator[None]:
    """Run the body in (a copy of) ``context``; check it comes back untouched."""
    with decimal.localcontext(context.copy()) as active:
        active.clear_flags()
        before = _snapshot(active)
        yield
        assert decimal.getcontext() is active, "the caller's context object was replaced"
        assert _snapshot(active) == before, "the caller's context was changed"


def _money_calls() -> list[object]:
    big = Money("123456.78", "EUR")
    return [
        big.split(7),
        big.allocate([Decimal("0.3333"), Fraction(1, 7), 5]),
        Money("-1000.05", "JPY").split(3),
        Money("12.3455", "KWD").rounded(),
        Money("1.005", "EUR").rounded(decimal.ROUND_HALF_EVEN),
        Money("1.005", "EUR").is_rounded(),
        big.to_minor_units(),
        Money.from_minor_units(12345678, "EUR"),
        Money.from_minor_units(-999_999_999_999_999_99, "EUR"),
        Money.from_minor_units(1999, "JPY"),
        big * 3,
        big * Decimal("1.000001"),
        big * Fraction(12, 31),
        big / 7,
        big / Decimal("0.3"),
        big / Fraction(3, 7),
        big + eur("0.000004"),
        big - eur("999999.999999"),
        -big,
        abs(-big),
        big.percent(Decimal("5.5")),
        Money.total([big, eur("0.01"), eur("-3.5")], currency="EUR"),
        sum([big, eur("1"), eur("2.22")]),
        big > eur("123456.77"),
        Money("0.0004", "USD") * 1_000_000_000_000,
        Money("0.0000001", "EUR"),
        str(Money("0.0000001", "EUR")),
        Money("1E+3", "EUR"),
        str(Money("1E+3", "EUR")),
        Money(Decimal("999999999999999.999999"), "EUR") * 1,
    ]


def _proration_calls() -> list[object]:
    first = billable_periods(
        date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY, billing_day=13
    )[0]
    march = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY)[0]
    return [
        first,
        prorate(Money("123456.78", "EUR"), first.factor),
        prorate(Money("50.00", "EUR"), Fraction(12, 31), rounding=decimal.ROUND_DOWN),
        credit_unused(Money("99999.99", "EUR"), march, on=date(2026, 3, 13)),
        line_taxes(
            [eur("123456.78"), eur("0.03"), eur("600.00")],
            [(VAT,), (VAT, REDUCED), (TaxRate(name="GST", percent="10", inclusive=True),)],
        ),
        tax_breakdown(
            line_taxes(
                [eur("123456.78"), eur("0.03"), eur("0.03")],
                [(VAT,), (VAT,), (REDUCED,)],
                tax_rounding=TaxRounding.PER_INVOICE,
            ),
            currency="EUR",
        ),
    ]


def _subscription() -> ChargePlan:
    seats = RecurringCharge(
        code="pro",
        description="Plan Pro",
        unit_price=eur("1234.567891"),
        quantity="12.5",
        start=date(2026, 3, 1),
        billing_day=13,
        discounts=(
            Discount.percent_off("TEN", "10", duration=Duration.months(3)),
            Discount.per_unit_amount_off("UNIT", eur("0.33")),
        ),
        tax_rates=(VAT,),
    )
    calls = RecurringCharge(
        code="api",
        description="API calls",
        unit_price=Money("0.0004", "EUR"),
        quantity=123_456_789,
        start=date(2026, 3, 1),
        tax_rates=(REDUCED,),
    )
    setup = OneTimeCharge(
        code="setup",
        description="Setup",
        unit_price=eur("999.99"),
        quantity=3,
        due_on=date(2026, 3, 1),
        discounts=(Discount.amount_off("OFF", eur("100.005")),),
        tax_rates=(VAT,),
    )
    return ChargePlan(
        id="S1",
        customer="ACME",
        currency="EUR",
        charges=(seats, calls),
        one_time=(setup,),
        discounts=(Discount.percent_off("LOYAL", "3.333", duration=Duration.once()),),
    )


def _billing_calls() -> list[object]:
    subscription = _subscription()
    first = bill_subscription(subscription, as_of=date(2026, 3, 1))
    second = bill_subscription(subscription, first.state, as_of=date(2026, 5, 13))
    old, new = subscription.charges[0].change(on=date(2026, 5, 20), quantity=3)
    changed = ChargePlan(
        id="S1",
        customer="ACME",
        currency="EUR",
        charges=(old, new, subscription.charges[1]),
        one_time=subscription.one_time,
        discounts=subscription.discounts,
    )
    third = bill_subscription(changed, second.state, as_of=date(2026, 5, 20))
    texts: list[object] = []
    for result in (first, second, third):
        invoice = result.invoice
        texts += [
            invoice,
            invoice.subtotal,
            invoice.discount_total,
            invoice.net,
            invoice.tax,
            invoice.total,
            invoice.amount_due,
            invoice.to_records(),
        ]
        for locale in ("fr_FR", "en_US"):
            texts += [invoice_text(invoice, locale=locale), invoice_html(invoice, locale=locale)]
    return [*texts, first.state, second.state, third.state]


def _l10n_calls() -> list[object]:
    first = billable_periods(
        date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY, billing_day=13
    )[0]
    out: list[object] = []
    for locale in ("fr_FR", "en_US"):
        out += [
            format_money(Money("123456.78", "EUR"), locale=locale),
            format_money(Money("-0.005", "EUR"), locale=locale),
            format_money(Money("999999999999999.99", "EUR"), locale=locale),
            format_money(Money("1234.5", "JPY"), locale=locale),
            format_money(Money("1.2345", "KWD"), locale=locale),
            format_money(Money("100", "EUR") / 3, locale=locale),
            describe_proration(Money("123456.78", "EUR"), first, locale=locale, reason="x"),
        ]
    return out


def _checkout_calls() -> list[object]:
    site = LineItem(code="site", name="Site", unit_price=eur("3000.333"), tax_rates=(VAT,))
    seo = LineItem(
        code="seo",
        name="SEO",
        unit_price=eur("512.3456"),
        quantity="1.5",
        frequency=MONTHLY,
        billing_start=BillingStart.after_months(1),
        tax_rates=(VAT,),
        discounts=(Discount.per_unit_percent_off("SEO15", "15"),),
    )
    offer = PaymentLink(
        id="L1",
        currency="EUR",
        lines=(site, seo),
        discounts=(Discount.percent_off("LAUNCH", "7.5", duration=Duration.once()),),
    )
    result = checkout(offer, paid_on=date(2026, 1, 31), horizon=date(2026, 6, 30))
    return [result, result.total_due_now, result.future]


SCENARIOS: dict[str, Callable[[], list[object]]] = {
    "money": _money_calls,
    "proration and taxes": _proration_calls,
    "billing with discounts and taxes": _billing_calls,
    "formatting": _l10n_calls,
    "checkout": _checkout_calls,
}


def _results(scenario: Callable[[], list[object]]) -> list[str]:
    # repr() shows every digit and exponent of every Decimal: "equal" is not enough
    # (Decimal("1.764E+4") == Decimal("17640")).
    return [repr(value) for value in scenario()]


@pytest.mark.parametrize("context_name", list(CONTEXTS))
@pytest.mark.parametrize("scenario_name", list(SCENARIOS))
def test_results_do_not_depend_on_the_callers_context(
    scenario_name: str, context_name: str
) -> None:
    scenario = SCENARIOS[scenario_name]
    with decimal.localcontext(decimal.Context()):
        expected = _results(scenario)
    with caller_context(CONTEXTS[context_name]):
        got = _results(scenario)
    assert got == expected


def test_split_under_prec_4_gives_the_parts_of_the_issue() -> None:
    with caller_context(decimal.Context(prec=4)):
        parts = Money("123456.78", "EUR").split(7)
    assert [str(part) for part in parts] == ["17636.69 EUR"] * 2 + ["17636.68 EUR"] * 5
    assert sum(parts) == Money("123456.78", "EUR")


def test_format_money_under_prec_4_and_invalid_operation_trap() -> None:
    for context in (decimal.Context(prec=4), decimal.Context(prec=4, traps=ALL_SIGNALS)):
        with caller_context(context):
            assert format_money(Money("123456.78", "EUR"), locale="fr_FR") == (
                "123\u202f456,78\xa0€"
            )
            assert format_money(Money("123456.78", "EUR"), locale="en_US") == "€123,456.78"


def test_from_minor_units_under_prec_4() -> None:
    with caller_context(decimal.Context(prec=4)):
        assert repr(Money.from_minor_units(12345678, "EUR")) == "Money('123456.78', 'EUR')"


# -- property -----------------------------------------------------------------------------------


@st.composite
def contexts(draw: st.DrawFn) -> decimal.Context:
    emax = draw(st.integers(min_value=1, max_value=decimal.MAX_EMAX))
    return decimal.Context(
        prec=draw(st.integers(min_value=1, max_value=60)),
        rounding=draw(st.sampled_from(ROUNDINGS)),
        Emin=-draw(st.integers(min_value=1, max_value=decimal.MAX_EMAX)),
        Emax=emax,
        capitals=draw(st.sampled_from([0, 1])),
        clamp=draw(st.sampled_from([0, 1])),
        traps=draw(st.lists(st.sampled_from(ALL_SIGNALS), unique=True)),
    )


bounded_amounts = amounts_within("999999999999999.999999")  # just under Money's 10**15 bound


def _everything_about(amount: Decimal, currency: str, parts: int, factor: Fraction) -> list[str]:
    money = Money(amount, currency)
    results: list[object] = [
        money,
        str(money),
        money.rounded(),
        money.to_minor_units(),
        Money.from_minor_units(money.to_minor_units(), currency),
        money.split(parts),
        money.allocate([factor, 1, Decimal("0.5")]),
        money * factor,
        money / parts,
        money.percent(Decimal("19.6")),
        money + money,
        prorate(money, factor),
        line_taxes([money], [(VAT,)]),
        line_taxes([money], [(VAT, REDUCED)], tax_rounding=TaxRounding.PER_INVOICE),
        format_money(money, locale="fr_FR"),
        format_money(money, locale="en_US"),
    ]
    return [repr(value) for value in results]


@settings(max_examples=500)
@given(
    amount=bounded_amounts,
    currency=st.sampled_from(["EUR", "JPY", "KWD", "USD"]),
    parts=st.integers(min_value=1, max_value=12),
    factor=st.fractions(min_value=0, max_value=1, max_denominator=366),
    context=contexts(),
)
def test_decimal_context_untouched(
    amount: Decimal, currency: str, parts: int, factor: Fraction, context: decimal.Context
) -> None:
    with decimal.localcontext(decimal.Context()):
        expected = _everything_about(amount, currency, parts, factor)
    with caller_context(context):
        got = _everything_about(amount, currency, parts, factor)
    assert got == expected

from decimal import ROUND_HALF_EVEN

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import InvalidArgumentError, InvalidTypeError, Money, TaxRate
from subbill.taxes import TaxRounding, line_tax, line_taxes, sum_taxes, tax_breakdown

VAT20 = TaxRate(name="TVA 20 %", percent="20")
VAT10 = TaxRate(name="TVA 10 %", percent="10")
GST10_INCL = TaxRate(name="GST 10 %", percent="10", inclusive=True)


def test_exclusive_20_percent_on_100():
    (tax,) = line_taxes([Money("100.00", "EUR")], [(VAT20,)])
    assert tax.base == Money("100.00", "EUR")
    assert tax.tax == Money("20.00", "EUR")
    assert tax.base + tax.tax == Money("120.00", "EUR")


def test_inclusive_10_percent_on_600():
    (tax,) = line_taxes([Money("600.00", "EUR")], [(GST10_INCL,)])
    assert tax.base == Money("545.45", "EUR")
    assert tax.tax == Money("54.55", "EUR")
    assert tax.base + tax.tax == Money("600.00", "EUR")


def test_no_rate_means_no_tax():
    (tax,) = line_taxes([Money("10.00", "EUR")], [()])
    assert tax.taxes == ()
    assert tax.tax == Money.zero("EUR")


def test_per_line_vs_per_invoice_rounding():
    lines = [Money("0.03", "EUR")] * 3
    per_line = line_taxes(lines, [(VAT20,)] * 3)
    per_invoice = line_taxes(lines, [(VAT20,)] * 3, tax_rounding=TaxRounding.PER_INVOICE)
    assert sum(t.tax for t in per_line) == Money("0.03", "EUR")  # 3 × round(0.006)
    assert sum(t.tax for t in per_invoice) == Money("0.02", "EUR")  # round(0.018)
    assert [t.tax for t in per_invoice] == [
        Money("0.01", "EUR"),
        Money("0.01", "EUR"),
        Money("0.00", "EUR"),
    ]


def test_rounding_mode_is_a_policy():
    (tax,) = line_taxes([Money("0.125", "EUR")], [(VAT20,)], rounding=ROUND_HALF_EVEN)
    assert tax.tax == Money("0.02", "EUR")  # 0.025 → 0.02 half-even


def test_mixing_inclusive_and_exclusive_on_a_line_is_refused():
    with pytest.raises(
        InvalidArgumentError, match=r"tax_rates\[0\]=.*mixes inclusive and exclusive"
    ):
        line_taxes([Money("1", "EUR")], [(VAT20, GST10_INCL)])


def test_rate_must_be_a_percentage():
    with pytest.raises(InvalidArgumentError, match="percent='120' must be between 0 and 100"):
        TaxRate(name="X", percent="120")
    with pytest.raises(InvalidArgumentError, match="name='' must be a non-empty str"):
        TaxRate(name="", percent="5")


def test_breakdown_per_rate():
    taxes = line_taxes(
        [Money("100.00", "EUR"), Money("50.00", "EUR"), Money("10.00", "EUR")],
        [(VAT20,), (VAT10,), (VAT20,)],
    )
    rows = tax_breakdown(taxes, currency="EUR")
    assert [(r.rate.name, r.base, r.tax) for r in rows] == [
        ("TVA 20 %", Money("110.00", "EUR"), Money("22.00", "EUR")),
        ("TVA 10 %", Money("50.00", "EUR"), Money("5.00", "EUR")),
    ]


amounts = st.decimals(min_value=-10_000, max_value=10_000, places=2).map(lambda d: Money(d, "EUR"))
rates = st.sampled_from([(VAT20,), (VAT10,), (GST10_INCL,), (), (VAT20, VAT10)])


@given(
    st.lists(st.tuples(amounts, rates), min_size=1, max_size=20), st.sampled_from(list(TaxRounding))
)
def test_tax_breakdown_sums_to_the_tax_total(lines, rounding):
    taxes = line_taxes([a for a, _ in lines], [r for _, r in lines], tax_rounding=rounding)
    rows = tax_breakdown(taxes, currency="EUR")
    total = sum((t.tax for t in taxes), Money.zero("EUR"))
    assert sum((r.tax for r in rows), Money.zero("EUR")) == total
    for (amount, line_rates), tax in zip(lines, taxes, strict=True):
        if line_rates and line_rates[0].inclusive:
            assert tax.base + tax.tax == amount  # inclusive: the price holds the tax
        else:
            assert tax.base == amount


# The same rates again, as other objects (equal, not identical): the breakdown goes by value.
_AGAIN = {
    VAT20: TaxRate(name=VAT20.name, percent=VAT20.percent),
    VAT10: TaxRate(name=VAT10.name, percent=VAT10.percent),
    GST10_INCL: TaxRate(name=GST10_INCL.name, percent=GST10_INCL.percent, inclusive=True),
}


@given(st.lists(st.tuples(amounts, rates, st.booleans()), min_size=0, max_size=20))
def test_tax_breakdown_is_each_rates_sum_in_order_of_first_appearance(lines):
    taxes = line_taxes(
        [a for a, _, _ in lines],
        [tuple(_AGAIN[r] for r in rs) if again else rs for _, rs, again in lines],
    )
    expected: dict[TaxRate, tuple[Money, Money]] = {}
    for tax in taxes:
        for rate, amount in tax.taxes:
            base, total = expected.get(rate, (Money.zero("EUR"), Money.zero("EUR")))
            expected[rate] = (base + tax.base, total + amount)
    rows = tax_breakdown(taxes, currency="EUR")
    assert [(r.rate, r.base, r.tax) for r in rows] == [
        (rate, base, total) for rate, (base, total) in expected.items()
    ]
    assert [repr((r.base, r.tax)) for r in rows] == [
        repr((base, total)) for base, total in expected.values()
    ]


@given(st.lists(amounts, min_size=1, max_size=20))
def test_per_invoice_rounding_rounds_each_rate_once(values):
    taxes = line_taxes(values, [(VAT20,)] * len(values), tax_rounding=TaxRounding.PER_INVOICE)
    total = sum(values, Money.zero("EUR"))
    assert sum((t.tax for t in taxes), Money.zero("EUR")) == (total * 20 / 100).rounded()


@pytest.mark.parametrize(
    ("amounts", "rates", "named"),
    [
        (None, [], "amounts=None"),
        ([Money("1", "EUR")], None, "rates=None"),
        (Money("1", "EUR"), [(VAT20,)], "amounts=Money"),
        ([None], [(VAT20,)], r"amounts\[0\]=None must be a Money"),
        ([Money("1", "EUR")], [None], r"rates\[0\]=None"),
        ([Money("1", "EUR")], [(None,)], r"rates\[0\]=\(None,\)"),
        ([Money("1", "EUR")], [VAT20], r"rates\[0\]=TaxRate"),
        ("ab", [(), ()], "amounts='ab'"),
    ],
)
def test_line_taxes_refuses_what_is_not_lines_with_a_typed_error(amounts, rates, named):
    with pytest.raises(InvalidTypeError, match=named):
        line_taxes(amounts, rates)


_ANY_RATE = st.sampled_from([(VAT20,), (VAT10,), (GST10_INCL,), ()])


@given(
    st.sampled_from(["EUR", "JPY", "KWD"]).flatmap(
        lambda code: st.decimals(
            min_value=-(10**9), max_value=10**9, places=4, allow_nan=False
        ).map(lambda d: Money(d, code))
    ),
    _ANY_RATE,
    st.sampled_from([ROUND_HALF_EVEN, "ROUND_HALF_UP", "ROUND_DOWN"]),
)
def test_a_line_tax_and_total_are_the_sum_of_its_parts(amount, line_rates, rounding):
    """A line's ``tax`` and ``total``, set when it is built, are what they would compute.

    Written as they are (``0.00`` is not ``0``): the stored documents show them.
    """
    found = line_tax(amount, line_rates, rounding)
    (again,) = line_taxes([amount], [line_rates], rounding=rounding)
    tax = sum_taxes(found.taxes, currency=amount.currency)
    assert str(found.tax.amount) == str(tax.amount)
    assert found.tax.currency == tax.currency
    assert str(found.total.amount) == str((found.base + tax).amount)
    assert found == again
    assert (str(again.tax.amount), str(again.total.amount)) == (
        str(found.tax.amount),
        str(found.total.amount),
    )

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from subbill import Discount, Duration, InvalidArgumentError, InvalidTypeError, Money
from subbill.discounts import (
    AnyDuration,
    DiscountTarget,
    DurationKind,
    Forever,
    ForMonths,
    ForPeriods,
    Once,
    _apply_all,
    apply_discounts,
)


def target(amount, *, unit=None, quantity=1, factor=Fraction(1), product="p", line=(), invoice=()):
    return DiscountTarget(
        amount=Money(amount, "USD"),
        unit_price=Money(unit or amount, "USD"),
        quantity=Decimal(quantity),
        factor=factor,
        product=product,
        line_discounts=tuple(line),
        invoice_discounts=frozenset(invoice),
    )


def test_per_unit_percentage_is_rounded_per_unit():
    # 11.90 USD with 15 % off per unit: 1.785 → 1.79 off, 10.11 to pay per unit.
    d = Discount.per_unit_percent_off("UNIT15", "15")
    outcome = apply_discounts([target("35.70", unit="11.90", quantity=3, line=[d])])
    assert outcome.line_total(0, currency="USD") == Money("5.37", "USD")
    assert Money("35.70", "USD") - Money("5.37", "USD") == Money("10.11", "USD") * 3


def test_per_unit_amount_never_exceeds_the_unit_price():
    d = Discount.per_unit_amount_off("U", Money("15", "USD"))
    outcome = apply_discounts([target("20.00", unit="10.00", quantity=2, line=[d])])
    assert outcome.line_total(0, currency="USD") == Money("20.00", "USD")


def test_per_unit_discount_is_prorated_with_the_line():
    d = Discount.per_unit_amount_off("U", Money("1.00", "USD"))
    outcome = apply_discounts(
        [target("5.00", unit="10.00", quantity=1, factor=Fraction(1, 2), line=[d])]
    )
    assert outcome.line_total(0, currency="USD") == Money("0.50", "USD")


def test_line_percentage():
    d = Discount.percent_off("TEN", "10")
    outcome = apply_discounts([target("19.99", line=[d])])
    assert outcome.line_total(0, currency="USD") == Money("2.00", "USD")


def test_invoice_percentage_is_rounded_per_line_and_adds_up():
    d = Discount.percent_off("INV", "10")
    lines = [
        target("10.01", invoice={"INV"}),
        target("10.01", invoice={"INV"}),
        target("10.03", invoice={"INV"}),
    ]
    outcome = apply_discounts(lines, [d])
    shares = [outcome.line_total(i, currency="USD") for i in range(3)]
    # Each line's 10 % rounded once (1.001, 1.001, 1.003 → 1.00 each): the invoice's discount
    # is the sum of its lines', so it does not depend on how lines are split over invoices.
    assert shares == [Money("1.00", "USD")] * 3
    assert outcome.applied[0].amount == Money("3.00", "USD")


def test_invoice_percentage_of_three_small_lines():
    d = Discount.percent_off("INV", "10")
    lines = [target("0.05", invoice={"INV"}) for _ in range(3)]
    outcome = apply_discounts(lines, [d])
    # 10 % of 0.05 is 0.005 → 0.01 per line: 0.03 off in all, however the lines are split.
    assert outcome.applied[0].amount == Money("0.03", "USD")


def test_fixed_amount_never_takes_the_invoice_below_zero_and_reports_the_rest():
    d = Discount.amount_off("FIFTY", Money("50", "USD"))
    outcome = apply_discounts(
        [target("30.00", invoice={"FIFTY"}), target("10.00", invoice={"FIFTY"})], [d]
    )
    assert [outcome.line_total(i, currency="USD") for i in range(2)] == [
        Money("30.00", "USD"),
        Money("10.00", "USD"),
    ]
    assert outcome.applied[0].unused == Money("10.00", "USD")


def test_line_fixed_amount_is_per_period_and_prorated():
    d = Discount.amount_off("FIVE", Money("5", "USD"))
    outcome = apply_discounts([target("20.00", unit="40.00", factor=Fraction(1, 2), line=[d])])
    assert outcome.line_total(0, currency="USD") == Money("2.50", "USD")
    assert outcome.applied[0].unused == Money.zero("USD")


def test_the_documented_order():
    # 100 per unit ×1: per-unit 10 % → 90; line 10 % → 81; invoice 10 % → 72.90; fixed 2.90 → 70.
    per_unit = Discount.per_unit_percent_off("PU", "10")
    line_pct = Discount.percent_off("LP", "10")
    invoice_pct = Discount.percent_off("IP", "10")
    fixed = Discount.amount_off("FX", Money("2.90", "USD"))
    outcome = apply_discounts(
        [target("100.00", line=[fixed, line_pct, per_unit], invoice={"IP"})], [invoice_pct]
    )
    assert [(d.code, d.amount) for d in outcome.per_line[0]] == [
        ("PU", Money("10.00", "USD")),
        ("LP", Money("9.00", "USD")),
        ("IP", Money("8.10", "USD")),
        ("FX", Money("2.90", "USD")),
    ]


def test_percentages_reach_credit_lines_fixed_amounts_do_not():
    pct = Discount.percent_off("P", "20")
    fixed = Discount.amount_off("F", Money("5", "USD"))
    outcome = apply_discounts([target("-50.00", line=[pct, fixed])])
    assert [(d.code, d.amount) for d in outcome.per_line[0]] == [("P", Money("-10.00", "USD"))]
    assert outcome.applied[1].unused == Money("5.00", "USD")


def test_discount_validation():
    with pytest.raises(InvalidArgumentError, match="needs percent="):
        Discount(code="X", kind=Discount.percent_off("A", "1").kind)
    with pytest.raises(
        InvalidArgumentError,
        match=r"amount=Money\('-1', 'EUR'\) of discount 'N' must be a Money > 0",
    ):
        Discount.amount_off("N", Money("-1", "EUR"))
    with pytest.raises(InvalidArgumentError, match="count=0 must be >= 1"):
        Duration.periods(0)


def test_durations():
    origin = date(2026, 1, 15)
    once = Discount.percent_off("O", "10", duration=Duration.once())
    three = Discount.percent_off("T", "10", duration=Duration.periods(3))
    window = Discount.percent_off("W", "10", duration=Duration.months(2))
    forever = Discount.percent_off("F", "10")

    def covered(d, start, index):
        return d.applies_in(period_start=start, periods_since_start=index, origin=origin)

    assert [covered(once, date(2026, 1, 15), 0), covered(once, date(2026, 2, 15), 1)] == [
        True,
        False,
    ]
    assert [covered(three, date(2026, 3, 15), 2), covered(three, date(2026, 4, 15), 3)] == [
        True,
        False,
    ]
    assert [covered(window, date(2026, 3, 14), 1), covered(window, date(2026, 3, 15), 2)] == [
        True,
        False,
    ]
    assert covered(forever, date(2036, 1, 15), 120)
    assert not covered(forever, date(2026, 1, 1), -1)


def test_durations_are_four_classes_that_match_tells_apart():
    durations = [Duration.once(), Duration.periods(3), Duration.months(2), Duration.forever()]
    assert durations == [Once(), ForPeriods(3), ForMonths(2), Forever()]
    assert all(isinstance(d, Duration) for d in durations)
    assert [d.kind for d in durations] == list(DurationKind)
    assert Discount.percent_off("F", "10").duration == Forever()

    def describe(duration: AnyDuration) -> str:
        match duration:
            case ForPeriods(n) | ForMonths(n):
                return f"{n} {duration.kind.value}"
            case Once() | Forever():
                return duration.kind.value

    assert [describe(d) for d in durations] == ["once", "3 periods", "2 months", "forever"]


def test_a_duration_is_built_by_its_constructors_not_from_a_kind():
    with pytest.raises(InvalidTypeError, match=r"Duration=.* must be built by Duration\.once\(\)"):
        Duration(kind=DurationKind.PERIODS, count=3)
    with pytest.raises(InvalidArgumentError, match="count=0 must be >= 1 for a duration in months"):
        ForMonths(0)
    with pytest.raises(TypeError):  # a duration without a count has none to give
        Once(0)  # type: ignore[call-arg]
    with pytest.raises(InvalidTypeError, match="duration='once' must be a Duration"):
        Discount.percent_off("D", "10", duration="once")


@given(st.integers(1, 3660), st.integers(-1, 4000))
def test_a_duration_in_periods_covers_exactly_its_first_periods(count, index):
    discount = Discount.percent_off("P", "10", duration=Duration.periods(count))
    day = date(2026, 1, 1)
    assert discount.applies_in(period_start=day, periods_since_start=index, origin=day) is (
        0 <= index < count
    )


amount = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(5000), places=2)


@given(
    st.lists(amount, min_size=1, max_size=10),
    st.sampled_from(["5", "10", "33.33", "100"]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(20000), places=2),
)
def test_discount_shares_sum_to_the_discount(values, percent, fixed):
    lines = [target(v, invoice={"P", "F"}) for v in values]
    outcome = apply_discounts(
        lines, [Discount.percent_off("P", percent), Discount.amount_off("F", Money(fixed, "USD"))]
    )
    for applied in outcome.applied:
        shares = [
            d.amount for line in outcome.per_line for d in line if d.code == applied.discount.code
        ]
        assert sum(shares, Money.zero("USD")) == applied.amount
    total = sum((Money(v, "USD") for v in values), Money.zero("USD"))
    taken = sum((a.amount for a in outcome.applied), Money.zero("USD"))
    assert taken <= total
    for index, value in enumerate(values):
        assert outcome.line_total(index, currency="USD") <= Money(value, "USD")
    fixed_applied = outcome.applied[1]
    assert fixed_applied.amount + fixed_applied.unused == Money(fixed, "USD")


@given(
    st.lists(amount, min_size=1, max_size=10),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
)
def test_no_discount_takes_a_line_below_zero(values, percent):
    assume(percent <= 100)
    d = [Discount.per_unit_percent_off("U", percent), Discount.percent_off("L", percent)]
    outcome = apply_discounts([target(v, line=d) for v in values])
    for index, value in enumerate(values):
        assert Money(value, "USD") - outcome.line_total(index, currency="USD") >= Money.zero("USD")


# -- review of issue 10: codes and descriptions are one line of text -----------------------------

CONTROLS = ["a\nb", "ESC\x1b[2J", "abc\u202edef", "tab\there", "nul\x00"]


@pytest.mark.parametrize("text", CONTROLS)
def test_a_discount_description_refuses_control_characters(text):
    with pytest.raises(InvalidArgumentError, match=r"^description=.* holds U\+"):
        Discount.percent_off("WELCOME", "10", description=text)


@pytest.mark.parametrize("text", CONTROLS)
def test_a_discount_applies_to_code_refuses_control_characters(text):
    with pytest.raises(InvalidArgumentError, match=r"^applies_to=.* holds U\+"):
        Discount.percent_off("WELCOME", "10", applies_to=["pro", text])
    with pytest.raises(InvalidArgumentError, match=r"^applies_to=.* holds U\+"):
        Discount.percent_off("WELCOME", "10", applies_to=text)


@pytest.mark.parametrize("code", [None, 1, b"pro", ("pro",)])
def test_a_discount_applies_to_only_text_codes(code):
    # Before: None became the code "None", 1 the code "1".
    with pytest.raises(InvalidTypeError, match=r"^applies_to=.* must be a non-empty str"):
        Discount.percent_off("WELCOME", "10", applies_to=[code])


@pytest.mark.parametrize("code", ["", "  "])
def test_a_discount_applies_to_no_blank_code(code):
    with pytest.raises(InvalidArgumentError, match=r"^applies_to=.* must be a non-empty str"):
        Discount.percent_off("WELCOME", "10", applies_to=[code])


def test_a_discount_keeps_its_codes_and_description():
    discount = Discount.percent_off(
        "WELCOME", "10", applies_to=("pro", "stock"), description="Bienvenue −10 %"
    )
    assert discount.applies_to == frozenset({"pro", "stock"})
    assert discount.description == "Bienvenue −10 %"
    assert Discount.percent_off("W", "10").description == ""


# -- issue 13: one line alone, without the ledger ------------------------------------------------

_percents = st.sampled_from(["0.5", "5", "10", "12.5", "33.333333", "99", "100"])
_fixed = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(900), places=2)


@st.composite
def _one_discount(draw, code, *, invoice):
    kinds = ["percent", "per_unit_percent", "per_unit_amount"]
    if not invoice:
        kinds.append("fixed")
    kind = draw(st.sampled_from(kinds))
    if kind == "percent":
        return Discount.percent_off(code, draw(_percents))
    if kind == "per_unit_percent":
        return Discount.per_unit_percent_off(code, draw(_percents))
    amount = Money(draw(_fixed), "EUR")
    if kind == "fixed":
        return Discount.amount_off(code, amount)
    return Discount.per_unit_amount_off(code, amount)


@st.composite
def _alone_case(draw):
    unit = draw(st.decimals(min_value=Decimal("0.001"), max_value=Decimal(5000), places=3))
    quantity = draw(st.sampled_from([Decimal(1), Decimal(3), Decimal("2.5"), Decimal(10)]))
    factor = draw(st.sampled_from([Fraction(1), Fraction(17, 31), Fraction(1, 3)]))
    credit = draw(st.booleans())
    amount = (Money(unit, "EUR") * quantity * factor).rounded() * (-1 if credit else 1)
    codes = draw(st.lists(st.sampled_from("ABCDEF"), max_size=6))  # repeats: the ledger's
    line, invoice = [], []
    for code in codes:
        on_invoice = draw(st.booleans())
        (invoice if on_invoice else line).append(draw(_one_discount(code, invoice=on_invoice)))
    reaching = draw(st.sets(st.sampled_from([d.code for d in invoice] or ["Z"])))
    fixed = draw(st.booleans()) and draw(st.booleans())
    if fixed:  # an invoice fixed amount: the ledger's work
        invoice.append(Discount.amount_off("G", Money(draw(_fixed), "EUR")))
        reaching.add("G")
    one = DiscountTarget(
        amount=amount,
        unit_price=Money(unit, "EUR"),
        quantity=quantity,
        factor=factor,
        line_discounts=tuple(line),
        invoice_discounts=frozenset(reaching),
    )
    return one, invoice


@given(_alone_case())
def test_a_line_discounted_alone_is_discounted_as_the_ledger_discounts_it(case):
    one, invoice = case
    assert apply_discounts([one], invoice) == _apply_all([one], invoice, None)


def test_a_line_alone_lists_an_invoice_percentage_that_does_not_reach_it():
    one = target("30.00", invoice=())
    outcome = apply_discounts([one], [Discount.percent_off("P", "10")])
    assert outcome.per_line == ((),)
    assert [(a.discount.code, a.amount, a.unused) for a in outcome.applied] == [
        ("P", Money.zero("USD"), Money.zero("USD"))
    ]

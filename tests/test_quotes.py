from datetime import date, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import bill_subscription
from subbill.discounts import Discount, Duration
from subbill.errors import (
    InvalidArgumentError,
    InvalidDateError,
    InvalidStateError,
    InvalidTypeError,
    UnknownCurrencyError,
)
from subbill.invoices import InvalidTransitionError
from subbill.money import Money
from subbill.periods import ANNUAL, MONTHLY, QUARTERLY, BillingStart, Frequency
from subbill.quotes import LineItem, PaymentLink, Quote, QuoteStatus, checkout, purchase
from subbill.subscriptions import SubscriptionStatus
from tests.builders import audit, eur, item, payment_link, seo, website

PAID = date(2026, 1, 15)


def link(*lines, discounts=()):
    return PaymentLink(id="L1", currency="EUR", lines=lines, discounts=discounts)


def dates_and_totals(invoices):
    return [(invoice.issued_on, invoice.total) for invoice in invoices]


def test_website_paid_now_seo_monthly_from_six_months_later():
    result = checkout(link(website(), seo()), paid_on=PAID, horizon=date(2026, 9, 15))
    assert [line.code for line in result.due_now.lines] == ["site"]
    assert result.total_due_now == eur("3600.00")
    assert dates_and_totals(result.future) == [
        (date(2026, 7, 15), eur("600.00")),
        (date(2026, 8, 15), eur("600.00")),
        (date(2026, 9, 15), eur("600.00")),
    ]


def test_installation_now_maintenance_monthly_from_one_month_later_keeps_the_payment_day():
    install = LineItem(code="install", name="Installation", unit_price=eur("1200"))
    upkeep = LineItem(
        code="upkeep",
        name="Maintenance",
        unit_price=eur("80"),
        frequency=MONTHLY,
        billing_start=BillingStart.after_months(1),
    )
    result = checkout(link(install, upkeep), paid_on=date(2026, 1, 31), horizon=date(2026, 5, 31))
    assert result.total_due_now == eur("1200.00")
    assert [invoice.issued_on for invoice in result.future] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_quarterly_service_signed_two_months_ahead_charges_nothing_today():
    service = audit(4)
    result = checkout(link(service), paid_on=PAID)
    assert result.due_now is None
    assert dates_and_totals(result.future) == [
        (date(2026, 3, 15), eur("900.00")),
        (date(2026, 6, 15), eur("900.00")),
        (date(2026, 9, 15), eur("900.00")),
        (date(2026, 12, 15), eur("900.00")),
    ]
    bought = purchase(link(service), paid_on=PAID, customer="ACME")
    assert bought.payment is None
    subscription = bought.subscription
    assert subscription.status(as_of=PAID) is SubscriptionStatus.SCHEDULED
    assert subscription.start == date(2026, 3, 15)
    assert dates_and_totals(bought.future) == dates_and_totals(result.future)


def test_one_time_discount_leaves_the_post_dated_line_untouched():
    once = Discount.percent_off("LANCEMENT", "10", duration=Duration.once())
    result = checkout(
        link(website(), seo(), discounts=(once,)), paid_on=PAID, horizon=date(2026, 8, 15)
    )
    assert result.due_now.discount_total == eur("300.00")
    assert result.total_due_now == eur("3240.00")
    for invoice in result.future:
        assert invoice.discount_total == eur("0")
        assert invoice.total == eur("600.00")


def test_per_unit_discount_is_the_way_to_discount_a_post_dated_line():
    discounted = seo(discounts=(Discount.per_unit_percent_off("SEO15", "15"),))
    result = checkout(link(website(), discounted), paid_on=PAID, horizon=date(2026, 7, 15))
    (first,) = result.future
    assert first.discount_total == eur("75.00")
    assert first.net == eur("425.00")


def test_link_opened_after_the_start_date_puts_the_discount_on_the_first_instalment():
    once = Discount.percent_off("LANCEMENT", "10", duration=Duration.once())
    seo_from_february = item(
        "seo", "500.00", frequency=MONTHLY, billing_start=BillingStart.on(date(2026, 2, 1))
    )
    offer = link(
        LineItem(code="site", name="Site", unit_price=eur("3000.00")),
        seo_from_february,
        discounts=(once,),
    )
    late = checkout(offer, paid_on=date(2026, 2, 10), horizon=date(2026, 4, 10))
    assert sorted(line.code for line in late.due_now.lines) == ["seo", "site"]
    seo_line = next(line for line in late.due_now.lines if line.code == "seo")
    assert seo_line.discount == eur("50.00")  # the first instalment got its share
    assert late.due_now.discount_total == eur("350.00")
    assert [invoice.issued_on for invoice in late.future] == [date(2026, 3, 10), date(2026, 4, 10)]
    assert all(invoice.discount_total == eur("0") for invoice in late.future)
    early = checkout(offer, paid_on=date(2026, 1, 20), horizon=date(2026, 2, 1))
    assert [line.code for line in early.due_now.lines] == ["site"]


def test_a_percentage_one_time_discount_reduces_each_line_due_now():
    once = Discount.percent_off("DIX", "10", duration=Duration.once())
    a = LineItem(code="a", name="A", unit_price=eur("10.01"))
    b = LineItem(code="b", name="B", unit_price=eur("10.01"))
    c = LineItem(code="c", name="C", unit_price=eur("10.03"))
    result = checkout(link(a, b, c, discounts=(once,)), paid_on=PAID)
    # A percentage is rounded per line (1.001, 1.001, 1.003): 3.00 off in all.
    assert [line.discount for line in result.due_now.lines] == [
        eur("1.00"),
        eur("1.00"),
        eur("1.00"),
    ]
    assert result.due_now.discount_total == eur("3.00")


def test_purchase_creates_a_payment_an_order_and_scheduled_subscriptions():
    quote = Quote(
        id="Q-7",
        customer="ACME",
        currency="EUR",
        valid_until=date(2026, 1, 31),
        lines=(website(), seo()),
    )
    bought = quote.send(on=date(2026, 1, 10)).accept(on=PAID, horizon=date(2026, 8, 15))
    assert bought.quote.status is QuoteStatus.ACCEPTED
    assert bought.order.quote == "Q-7"
    assert bought.payment.amount == eur("3600.00")
    assert bought.payment.paid_on == PAID
    assert bought.order.paid_now == eur("3600.00")
    assert [line.code for line in bought.order.lines] == ["site", "seo"]
    subscription = bought.subscription
    assert subscription.status(as_of=PAID) is SubscriptionStatus.SCHEDULED
    assert subscription.start == date(2026, 7, 15)
    assert dates_and_totals(bought.future) == [
        (date(2026, 7, 15), eur("600.00")),
        (date(2026, 8, 15), eur("600.00")),
    ]
    immediate = LineItem(
        code="hosting", name="Hébergement", unit_price=eur("20"), frequency=MONTHLY
    )
    now = purchase(link(immediate), paid_on=PAID, horizon=date(2026, 3, 15))
    assert now.subscription.status(as_of=PAID) is SubscriptionStatus.ACTIVE
    assert now.payment.amount == eur("20.00")


# -- the quote's lifecycle (Odoo portal) ------------------------------------------------------


def quote(**kw):
    fields = {"id": "Q-1", "customer": "ACME", "currency": "EUR", "valid_until": date(2026, 3, 31)}
    return Quote(lines=(website(),), **(fields | kw))


def test_a_quote_expires_the_day_after_its_validity_date():
    sent = quote().send(on=date(2026, 3, 1))
    assert sent.status_on(as_of=date(2026, 3, 31)) is QuoteStatus.SENT
    assert sent.status_on(as_of=date(2026, 4, 1)) is QuoteStatus.EXPIRED
    accepted = sent.accept(on=date(2026, 3, 31)).quote
    assert accepted.status is QuoteStatus.ACCEPTED
    with pytest.raises(InvalidTransitionError, match="cannot accept quote Q-1 with status=expired"):
        sent.accept(on=date(2026, 4, 1))
    # An accepted quote never expires.
    assert accepted.status_on(as_of=date(2027, 1, 1)) is QuoteStatus.ACCEPTED


def test_reject_needs_a_message():
    sent = quote().send(on=date(2026, 3, 1))
    with pytest.raises(
        InvalidArgumentError, match="message='' must be a non-empty text: say why to reject"
    ):
        sent.reject(message="", on=date(2026, 3, 2))
    rejected = sent.reject(message="Trop cher pour nous cette année.", on=date(2026, 3, 2))
    assert (rejected.status, rejected.message) == (
        QuoteStatus.REJECTED,
        "Trop cher pour nous cette année.",
    )
    with pytest.raises(
        InvalidTransitionError, match="cannot accept quote Q-1 with status=rejected"
    ):
        rejected.accept(on=date(2026, 3, 3))


def test_invalid_transitions_name_the_status_and_the_action():
    accepted = quote().send(on=date(2026, 3, 1)).accept(on=date(2026, 3, 2)).quote
    with pytest.raises(
        InvalidTransitionError, match="cannot reject quote Q-1 with status=accepted"
    ):
        accepted.reject(message="non", on=date(2026, 3, 3))
    with pytest.raises(InvalidTransitionError, match="a quote needs at least one line"):
        Quote(id="Q-0", customer="A", currency="EUR", valid_until=date(2026, 3, 1)).send(
            on=date(2026, 2, 1)
        )
    with pytest.raises(
        InvalidTransitionError, match="cannot cancel quote Q-1 with status=accepted"
    ):
        accepted.cancel(on=date(2026, 3, 3))


def test_changes_requested_then_a_revised_version_linked_to_the_old_one():
    asked = (
        quote()
        .send(on=date(2026, 3, 1))
        .request_changes(message="Ajoutez le SEO", on=date(2026, 3, 2))
    )
    assert asked.status is QuoteStatus.CHANGES_REQUESTED
    revised = asked.revise(id="Q-1-v2", valid_until=date(2026, 4, 30), lines=(website(), seo()))
    assert (revised.version, revised.previous, revised.status) == (2, "Q-1", QuoteStatus.DRAFT)
    with pytest.raises(InvalidTransitionError, match="only after changes were requested"):
        revised.revise(id="Q-1-v3", valid_until=date(2026, 5, 31))


def test_a_quote_refuses_a_datetime_or_a_bad_version_when_it_is_made():
    # The review: valid_until=datetime(2026, 1, 1, 12) was accepted, and status_on(as_of=
    # date(2026, 1, 2)) then raised a raw TypeError (datetime < date).
    with pytest.raises(InvalidDateError, match=r"^valid_until=datetime\.datetime\(2026, 1, 1, 12"):
        quote(valid_until=datetime(2026, 1, 1, 12))  # noqa: DTZ001  (a naive one, as given)
    with pytest.raises(InvalidDateError, match=r"^decided_on=datetime\.datetime"):
        quote(decided_on=datetime(2026, 1, 1, 12))  # noqa: DTZ001
    assert quote(decided_on=None).decided_on is None
    for version in (0, -5):
        with pytest.raises(InvalidArgumentError, match=rf"^version={version} must be an int >= 1"):
            quote(version=version)
    with pytest.raises(InvalidTypeError, match=r"^version='2' must be an int >= 1"):
        quote(version="2")
    assert quote(version=3).version == 3


def test_line_items_refuse_what_a_seller_cannot_mean():
    with pytest.raises(InvalidArgumentError, match="must be per-unit discounts"):
        LineItem(
            code="x", name="X", unit_price=eur("1"), discounts=(Discount.percent_off("P", "5"),)
        )
    with pytest.raises(
        InvalidArgumentError, match="one-time: payments= and end= need a frequency="
    ):
        LineItem(code="x", name="X", unit_price=eur("1"), payments=3)
    with pytest.raises(InvalidArgumentError, match="two lines have code='site'"):
        link(website(), website())


# -- properties -----------------------------------------------------------------------------------

starts = st.one_of(
    st.just(None),
    st.integers(0, 90).map(BillingStart.after_days),
    st.integers(0, 8).map(BillingStart.after_months),
    st.integers(-60, 200).map(lambda n: BillingStart.on(PAID + timedelta(days=n))),
)


@st.composite
def offers(draw):
    lines = []
    for index in range(draw(st.integers(1, 4))):
        price = eur(draw(st.decimals(min_value=1, max_value=5000, places=2)))
        if draw(st.booleans()):
            lines.append(
                LineItem(
                    code=f"one{index}",
                    name="One",
                    unit_price=price,
                    quantity=draw(st.integers(1, 5)),
                )
            )
        else:
            lines.append(
                LineItem(
                    code=f"rec{index}",
                    name="Rec",
                    unit_price=price,
                    frequency=draw(st.sampled_from([MONTHLY, QUARTERLY, Frequency.weeks(2)])),
                    billing_start=draw(starts),
                    payments=draw(st.integers(1, 6)),
                    discounts=draw(
                        st.sampled_from([(), (Discount.per_unit_percent_off("PU", "15"),)])
                    ),
                )
            )
    discounts = draw(
        st.sampled_from(
            [
                (),
                (Discount.percent_off("ONCE10", "10", duration=Duration.once()),),
                (Discount.amount_off("ONCE50", eur("50"), duration=Duration.once()),),
            ]
        )
    )
    return payment_link(*lines, discounts=discounts)


paid_dates = st.integers(-30, 120).map(lambda n: PAID + timedelta(days=n))


@given(offers(), paid_dates)
def test_due_now_plus_future_payments_is_every_line_over_the_term_minus_the_discounts(
    offer, paid_on
):
    result = checkout(offer, paid_on=paid_on)
    invoices = [i for i in (result.due_now, *result.future) if i is not None]
    gross = sum(
        (line.unit_price * line.quantity * (line.payments or 1) for line in offer.lines), eur("0")
    ).rounded()
    billed = sum((i.subtotal for i in invoices), eur("0"))
    assert billed == gross
    discounts = sum((i.discount_total for i in invoices), eur("0"))
    assert sum((i.total for i in invoices), eur("0")) == gross - discounts


@given(offers(), paid_dates)
def test_no_post_dated_recurring_line_is_reduced_by_a_one_time_discount(offer, paid_on):
    result = checkout(offer, paid_on=paid_on)
    for invoice in result.future:
        for line in invoice.lines:
            assert not any(d.code.startswith("ONCE") for d in line.explanation.discounts)


@given(offers(), paid_dates)
def test_checkout_future_dates_follow_the_resolved_billing_starts(offer, paid_on):
    result = checkout(offer, paid_on=paid_on)
    for line in offer.lines:
        if not line.is_recurring:
            continue
        first = line.first_billing_date(paid_on=paid_on)
        billed_on = sorted(
            invoice.issued_on
            for invoice in ([result.due_now] if result.due_now else []) + list(result.future)
            for item in invoice.lines
            if item.code == line.code
        )
        assert billed_on[0] == first
        assert len(billed_on) == line.payments
        assert (first == paid_on) == any(
            item.code == line.code for item in (result.due_now.lines if result.due_now else ())
        )


def test_offers_refuse_bad_frequency_currency_and_discounts_at_once():
    with pytest.raises(InvalidTypeError, match="frequency='monthly' must be a Frequency or None"):
        LineItem(code="a", name="A", unit_price=eur("1"), frequency="monthly")
    with pytest.raises(UnknownCurrencyError, match="currency='EURO'"):
        Quote(id="Q", customer="C", currency="EURO", valid_until=PAID)
    with pytest.raises(InvalidArgumentError, match="discount 'D' is in USD, not currency=EUR"):
        link(website(), discounts=(Discount.amount_off("D", Money("5", "USD")),))


def test_a_one_time_discount_stays_on_the_subscription_so_a_credit_mirrors_it():
    # The one-time discount reduces only what is due at checkout, and stays on the purchased
    # subscription: cancelling in the first period gives back what was paid, not more.
    once = Discount.percent_off("DIX", "10", duration=Duration.once())
    monthly = LineItem(code="crm", name="CRM", unit_price=eur("100.00"), frequency=MONTHLY)
    bought = purchase(link(monthly, discounts=(once,)), paid_on=PAID, customer="ACME")
    assert bought.checkout.due_now.total == eur("90.00")
    billable = bought.subscription.to_charge_plan()
    ended = attrs.evolve(
        billable,
        charges=tuple(attrs.evolve(c, end=PAID + timedelta(days=10)) for c in billable.charges),
    )
    state = bill_subscription(billable, as_of=PAID).state
    credit = bill_subscription(ended, state, as_of=PAID + timedelta(days=10))
    # 10 of 31 days used: 32.26 − 10 % = 29.03 kept; 90.00 − 29.03 = 60.97 given back.
    assert credit.invoice.total == eur("-60.97")


def test_a_purchased_subscription_credits_exactly_what_checkout_charged():
    # The review's case: a fixed discount spread over everything due at checkout (setup
    # included); cancelling SEO on the payment day credited 20.00 of the 40.00 charged.
    welcome = Discount.amount_off("WELCOME", eur("30.00"), duration=Duration.once())
    site = LineItem(code="site", name="Site", unit_price=eur("100.00"))
    seo_now = LineItem(code="seo", name="SEO", unit_price=eur("50.00"), frequency=MONTHLY)
    hosting = LineItem(
        code="hosting", name="Hébergement", unit_price=eur("120.00"), frequency=ANNUAL
    )
    bought = purchase(link(site, seo_now, hosting, discounts=(welcome,)), paid_on=PAID)
    subscription = bought.subscription
    charged = {line.code: line.net for line in bought.checkout.due_now.lines}
    assert sum(charged.values(), eur("0")) == eur("240.00")  # 270.00 − 30.00, once
    billable = subscription.to_charge_plan()
    cancelled = attrs.evolve(
        billable,
        charges=tuple(
            attrs.evolve(c, end=PAID) if c.code == "seo" else c for c in billable.charges
        ),
    )
    credit = bill_subscription(cancelled, bought.state, as_of=PAID)
    seo_credit = sum((line.net for line in credit.invoice.lines if line.code == "seo"), eur("0"))
    assert seo_credit == -charged["seo"]
    # The purchased state knows the terms it was billed at: no new price under it.
    dearer = attrs.evolve(
        billable,
        charges=tuple(
            attrs.evolve(c, unit_price=eur("500.00")) if c.code == "seo" else c
            for c in billable.charges
        ),
    )
    with pytest.raises(InvalidStateError):
        bill_subscription(dearer, bought.state, as_of=PAID + timedelta(days=5))


@pytest.mark.parametrize(
    "state",
    ["expired", "rejected", "cancelled", "accepted"],
)
def test_purchase_refuses_a_quote_that_is_not_open(state):
    quote = Quote(
        id="Q-9",
        customer="ACME",
        currency="EUR",
        valid_until=date(2026, 1, 31),
        lines=(website(),),
    ).send(on=date(2026, 1, 10))
    paid_on = date(2026, 1, 20)
    if state == "expired":
        paid_on = date(2026, 2, 1)  # the day after valid_until: today purchase() pays it
    elif state == "rejected":
        quote = quote.reject(message="Trop cher", on=date(2026, 1, 12))
    elif state == "cancelled":
        quote = quote.cancel(on=date(2026, 1, 12))
    else:
        quote = quote.accept(on=date(2026, 1, 12)).quote
    with pytest.raises(InvalidStateError):
        purchase(quote, paid_on=paid_on)


def test_accept_records_the_payment_method():
    quote = Quote(
        id="Q-10",
        customer="ACME",
        currency="EUR",
        valid_until=date(2026, 1, 31),
        lines=(website(),),
    ).send(on=date(2026, 1, 10))
    bought = quote.accept(on=date(2026, 1, 20), payment_method="pm_visa_4242")
    assert bought.payment.method == "pm_visa_4242"

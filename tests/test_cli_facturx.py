"""``subbill invoice show N --facturx OUT --seller FILE``: the Factur-X PDF from the command line.

The seller comes from a file (``--seller``, docs/formats.md#seller); the buyer is the stored
customer record, or ``--buyer FILE`` when the database has none. Like every output file, an
existing one is refused unless ``--force``; every error is one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

facturx = pytest.importorskip("facturx")
pytest.importorskip("fpdf")

from subbill.customers import Customer  # noqa: E402
from subbill.storage.sqlite import SQLiteStore  # noqa: E402
from tests.test_cli import (  # noqa: E402
    CATALOG,
    SUBSCRIPTIONS,
    assert_one_line_error,
    run,
    write_json,
)

FORMATS = Path(__file__).parent.parent / "docs" / "formats.md"


def doc_example(section: str, language: str) -> str:
    """The example of a section of docs/formats.md, so that the doc is what is tested."""
    text = FORMATS.read_text(encoding="utf-8").split(f"## {section}\n", 1)[1]
    found = re.search(rf"```{language}\n(.*?)```", text, re.DOTALL)
    assert found is not None
    return found.group(1)


@pytest.fixture
def billed(tmp_path: Path, capsys) -> Path:
    """A database with the SaaS catalog, two subscriptions billed as of 1 April 2026."""
    db = tmp_path / "billing.db"
    assert run(capsys, "catalog", "load", CATALOG, "--db", db)[0] == 0
    subscriptions = write_json(tmp_path / "subscriptions.json", SUBSCRIPTIONS)
    assert run(capsys, "subscriptions", "load", subscriptions, "--db", db)[0] == 0
    assert run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", db)[0] == 0
    return db


@pytest.fixture
def seller(tmp_path: Path) -> Path:
    path = tmp_path / "seller.toml"
    path.write_text(doc_example("Seller", "toml"), encoding="utf-8")
    return path


@pytest.fixture
def buyer(tmp_path: Path) -> Path:
    record = json.loads(doc_example("Customer", "json"))
    record["id"] = "Boulangerie Martin"  # the customer of F-2026-000001
    path = tmp_path / "buyer.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def show(out_file: Path, db: Path, *options: object) -> list[object]:
    """``invoice show F-2026-000001 --facturx OUT OPTIONS --db DB``."""
    return ["invoice", "show", "F-2026-000001", "--facturx", out_file, *options, "--db", db]


def totals(xml: bytes) -> tuple[str, str]:
    text = xml.decode()
    grand = re.findall(r"<ram:GrandTotalAmount>([^<]*)<", text)
    due = re.findall(r"<ram:DuePayableAmount>([^<]*)<", text)
    return grand[0], due[0]


def test_invoice_show_writes_the_facturx_pdf(capsys, tmp_path, billed, seller, buyer):
    out_file = tmp_path / "facture.pdf"
    argv = show(out_file, billed, "--seller", seller, "--buyer", buyer, "--locale", "fr_FR")
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert err == ""
    assert f"Factur-X PDF written to {out_file}" in out
    document = out_file.read_bytes()
    name, xml = facturx.get_xml_from_pdf(document, check_xsd=True)
    assert name == "factur-x.xml"
    invoice = SQLiteStore(billed, read_only=True).get_invoice("F-2026-000001")
    assert invoice is not None
    assert totals(xml) == (f"{invoice.total.amount:.2f}", f"{invoice.amount_due.amount:.2f}")
    assert "<ram:Name>Logiciel SAS</ram:Name>" in xml.decode()
    assert "<ram:Name>Atelier Dupont SARL</ram:Name>" in xml.decode()


def test_the_stored_customer_is_the_buyer(capsys, tmp_path, billed, seller):
    store = SQLiteStore(billed)
    store.save_customer(
        Customer(
            id="Boulangerie Martin",
            legal_name="Boulangerie Martin SARL",
            country="FR",
            siren="552100554",
            postcode="69001",
            city="Lyon",
        )
    )
    out_file = tmp_path / "facture.pdf"
    argv = show(out_file, billed, "--seller", seller)
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    _, xml = facturx.get_xml_from_pdf(out_file.read_bytes(), check_xsd=True)
    assert "<ram:Name>Boulangerie Martin SARL</ram:Name>" in xml.decode()
    assert "<ram:CityName>Lyon</ram:CityName>" in xml.decode()


def test_an_existing_facturx_file_is_refused_unless_force(capsys, tmp_path, billed, seller, buyer):
    out_file = tmp_path / "facture.pdf"
    out_file.write_bytes(b"my precious document")
    argv = show(out_file, billed, "--seller", seller, "--buyer", buyer)
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert f"--facturx {out_file} already exists: add --force to replace it" in line
    assert out_file.read_bytes() == b"my precious document"
    status, _, err = run(capsys, *argv, "--force")
    assert status == 0, err
    assert out_file.read_bytes().startswith(b"%PDF")


def test_facturx_needs_a_seller(capsys, tmp_path, billed):
    argv = show(tmp_path / "f.pdf", billed)
    line = assert_one_line_error(*run(capsys, *argv), 2)
    assert "--facturx needs --seller FILE" in line
    assert not (tmp_path / "f.pdf").exists()


def test_a_customer_without_a_record_needs_buyer(capsys, tmp_path, billed, seller):
    argv = show(tmp_path / "f.pdf", billed, "--seller", seller)
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert "customer 'Boulangerie Martin' has no record in the database" in line
    assert "--buyer FILE" in line
    assert not (tmp_path / "f.pdf").exists()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"siren": "732829321"}, "siren='732829321' must be a SIREN"),  # a bad check digit
        (
            {"siren": "732829320", "vat_numbr": "FR44732829320"},
            "vat_numbr: unknown key, did you mean 'vat_number'?",
        ),
    ],
)
def test_a_bad_seller_file_is_a_usage_error_naming_the_field(
    capsys, tmp_path, billed, buyer, fields, expected
):
    bad = tmp_path / "seller.json"
    bad.write_text(json.dumps({"legal_name": "Logiciel SAS", **fields}))
    argv = show(tmp_path / "f.pdf", billed, "--seller", bad, "--buyer", buyer)
    line = assert_one_line_error(*run(capsys, *argv), 2)
    assert f"{bad}: " in line
    assert expected in line
    assert not (tmp_path / "f.pdf").exists()


def test_a_buyer_of_another_customer_is_refused(capsys, tmp_path, billed, seller):
    other = tmp_path / "buyer.json"
    other.write_text(doc_example("Customer", "json"), encoding="utf-8")  # id C-1
    argv = show(tmp_path / "f.pdf", billed, "--seller", seller, "--buyer", other)
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert "cannot be a Factur-X document" in line
    assert "buyer is customer 'C-1'" in line
    assert not (tmp_path / "f.pdf").exists()


def test_pdf_and_facturx_cannot_be_the_same_file(capsys, tmp_path, billed, seller):
    same = tmp_path / "f.pdf"
    argv = [
        "invoice",
        "show",
        "F-2026-000001",
        "--pdf",
        same,
        "--facturx",
        same,
        "--seller",
        seller,
        "--db",
        billed,
    ]
    line = assert_one_line_error(*run(capsys, *argv), 2)
    assert "--pdf and --facturx are the same file" in line


def test_a_seller_table_in_toml_is_read_too(capsys, tmp_path, billed, buyer):
    seller = tmp_path / "config.toml"
    seller.write_text("[seller]\n" + doc_example("Seller", "toml"), encoding="utf-8")
    out_file = tmp_path / "f.pdf"
    argv = show(out_file, billed, "--seller", seller, "--buyer", buyer, "--profile", "basic")
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    _, xml = facturx.get_xml_from_pdf(out_file.read_bytes(), check_xsd=True)
    assert "factur-x.eu:1p0:basic" in xml.decode()


# -- a subscriptions file gives a tax its category (issue 14, review) ---------------------------

FRANCHISE_TAX = {
    "name": "Franchise en base",
    "percent": "0",
    "category": "E",
    "exemption_reason": "TVA non applicable, art. 293 B du CGI",
    "exemption_code": "VATEX-FR-FRANCHISE",
}


def billed_with(tmp_path: Path, capsys, tax: dict[str, str]) -> Path:
    """A database whose Boulangerie Martin subscription (F-2026-000001) is taxed at ``tax``."""
    db = tmp_path / "taxed.db"
    assert run(capsys, "catalog", "load", CATALOG, "--db", db)[0] == 0
    data = json.loads(json.dumps(SUBSCRIPTIONS))
    data["subscriptions"][0]["tax"] = tax
    subscriptions = write_json(tmp_path / "subscriptions.json", data)
    status, _, err = run(capsys, "subscriptions", "load", subscriptions, "--db", db)
    assert status == 0, err
    assert run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", db)[0] == 0
    return db


def test_a_zero_rate_of_category_s_fails_facturx_instead_of_writing_an_invalid_file(
    capsys, tmp_path, seller, buyer
):
    db = billed_with(tmp_path, capsys, {"name": "TVA 0 %", "percent": "0"})
    out_file = tmp_path / "f.pdf"
    line = assert_one_line_error(
        *run(capsys, *show(out_file, db, "--seller", seller, "--buyer", buyer)), 1
    )
    assert "cannot be a Factur-X document" in line
    assert "0 % in category S" in line
    assert "Z (zero rated), or E with its exemption reason" in line
    assert not out_file.exists()


def test_a_subscriptions_file_gives_a_tax_its_category_and_exemption(
    capsys, tmp_path, seller, buyer, rules
):
    db = billed_with(tmp_path, capsys, FRANCHISE_TAX)
    out_file = tmp_path / "f.pdf"
    status, _, err = run(capsys, *show(out_file, db, "--seller", seller, "--buyer", buyer))
    assert status == 0, err
    _, xml = facturx.get_xml_from_pdf(out_file.read_bytes(), check_xsd=True)
    text = xml.decode()
    assert set(re.findall(r"<ram:CategoryCode>([^<]*)<", text)) == {"E"}
    assert "<ram:ExemptionReasonCode>VATEX-FR-FRANCHISE<" in text
    assert "TVA non applicable, art. 293 B du CGI" in text
    assert rules.errors(xml) == []


@pytest.mark.parametrize(
    ("tax", "expected"),
    [
        ({**FRANCHISE_TAX, "category": "X"}, "subscriptions[0].tax.category"),
        ({**FRANCHISE_TAX, "exemption_code": None}, "exemption_code=None"),
        ({**FRANCHISE_TAX, "percent": "20"}, "percent"),
    ],
)
def test_a_bad_tax_category_is_refused_naming_it(capsys, tmp_path, tax, expected):
    db = tmp_path / "bad.db"
    assert run(capsys, "catalog", "load", CATALOG, "--db", db)[0] == 0
    data = json.loads(json.dumps(SUBSCRIPTIONS))
    data["subscriptions"][0]["tax"] = {k: v for k, v in tax.items() if v is not None}
    path = write_json(tmp_path / "subscriptions.json", data)
    line = assert_one_line_error(*run(capsys, "subscriptions", "load", path, "--db", db), 2)
    assert expected in line


def test_the_franchise_seller_of_the_formats_doc_makes_a_valid_facturx(
    capsys, tmp_path, buyer, rules
):
    text = FORMATS.read_text(encoding="utf-8").split("## Seller\n", 1)[1].split("## Customer")[0]
    franchise = re.findall(r"```toml\n(.*?)```", text, re.DOTALL)[1]
    assert "vat_number" not in franchise
    seller = tmp_path / "franchise.toml"
    seller.write_text(franchise, encoding="utf-8")
    db = billed_with(tmp_path, capsys, FRANCHISE_TAX)
    out_file = tmp_path / "f.pdf"
    status, _, err = run(capsys, *show(out_file, db, "--seller", seller, "--buyer", buyer))
    assert status == 0, err
    _, xml = facturx.get_xml_from_pdf(out_file.read_bytes(), check_xsd=True)
    assert '<ram:ID schemeID="FC">7329123456789</ram:ID>' in xml.decode()
    assert rules.errors(xml) == []
    without = tmp_path / "without.toml"
    without.write_text(franchise.replace('tax_registration = "7329123456789"\n', ""))
    line = assert_one_line_error(
        *run(capsys, *show(tmp_path / "g.pdf", db, "--seller", without, "--buyer", buyer)), 1
    )
    assert "seller.vat_number=None must be the seller's VAT number (BT-31), or" in line
    assert "tax_registration" in line


# -- --pdf uses --seller and the stored customer (issue 14, review) ------------------------------


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader  # noqa: PLC0415

    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(text.split()).replace("\xa0", " ")


def test_pdf_prints_the_seller_and_the_stored_consumer_with_their_mentions(
    capsys, tmp_path, billed, seller
):
    from subbill.customers import CustomerKind  # noqa: PLC0415

    SQLiteStore(billed).save_customer(
        Customer(
            id="Boulangerie Martin",
            kind=CustomerKind.CONSUMER,
            legal_name="Paul Martin",
            address=("8 place du Marché",),
            postcode="69001",
            city="Lyon",
        )
    )
    out_file = tmp_path / "facture.pdf"
    argv = [
        "invoice",
        "show",
        "F-2026-000001",
        "--pdf",
        out_file,
        "--seller",
        seller,
        "--locale",
        "fr_FR",
        "--db",
        billed,
    ]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert f"PDF written to {out_file}" in out
    text = pdf_text(out_file)
    assert "Logiciel SAS" in text
    assert "RCS Paris 732 829 320" in text
    assert "Paul Martin" in text  # the stored record, not the customer's id
    assert "69001 Lyon" in text
    assert "Mentions légales" in text
    assert "Catégorie de l'opération : prestation de services" in text
    assert "Pénalités de retard" not in text  # B2B only (art. L441-10)
    assert "40 €" not in text


def test_pdf_to_a_business_prints_the_penalties(capsys, tmp_path, billed, seller, buyer):
    out_file = tmp_path / "facture.pdf"
    argv = [
        "invoice",
        "show",
        "F-2026-000001",
        "--pdf",
        out_file,
        "--seller",
        seller,
        "--buyer",
        buyer,
        "--locale",
        "fr_FR",
        "--db",
        billed,
    ]
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    text = pdf_text(out_file)
    assert "Atelier Dupont SARL" in text
    assert "Pénalités de retard" in text
    assert "pour frais de recouvrement en cas de retard de paiement : 40 €" in text

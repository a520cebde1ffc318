"""A usage line on the printed invoice (issue 15): its tier explanation, never a unit price.

A usage line's ``unit_price`` is the period's amount (what the line prices once): printed as
« Qté 1 200 × Prix unitaire 19,00 € » it would read as 22 800 €. The text, the HTML and the
PDF show its quantity and its explanation piece by piece instead: « 1 000 × 0,015 € + 200 ×
0,020 € = 19,00 € ». Worked numbers of ``tests/test_usage_billing.py``: graduated API calls
at 0.015 € up to 1 000 then 0.020 €, TVA 20 %; March 1 200 calls = 19.00 €.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest

from subbill.billing import bill_subscription
from subbill.invoices import Invoice
from subbill.l10n import invoice_html, invoice_text
from tests.test_usage_billing import calls, graduated, plan

MARCH = date(2026, 3, 1)
APRIL = date(2026, 4, 1)


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def march() -> Invoice:
    invoice = bill_subscription(
        plan(graduated()), as_of=APRIL, usage=[calls(1200, MARCH, "e1")]
    ).invoice
    assert invoice is not None
    return invoice


def corrected() -> Invoice:
    """March billed 1 000 calls (15.00 €), then 200 late: a correction of 4.00 €."""
    subscription = plan(graduated())
    first = bill_subscription(subscription, as_of=APRIL, usage=[calls(1000, MARCH, "e1")])
    every = [calls(1000, MARCH, "e1"), calls(200, date(2026, 3, 31), "e2")]
    invoice = bill_subscription(
        subscription, first.state, as_of=date(2026, 4, 2), usage=every
    ).invoice
    assert invoice is not None
    return invoice


def table(text: str) -> list[str]:
    """The rows of an invoice text's table (headings, rule, lines and their explanations)."""
    return plain(text).split("\n\n")[1].splitlines()


def test_a_usage_line_prints_its_tiers_not_a_unit_price_in_french():
    assert table(invoice_text(march(), locale="fr_FR")) == [
        "Description  Période                 Qté  Prix unitaire  Montant  Remise      Net",
        "---------------------------------------------------------------------------------",
        "Appels API   du 1 au 31 mars 2026  1 200                 19,00 €          19,00 €",
        "    1 000 × 0,015 € + 200 × 0,020 € = 19,00 € : du 1 au 31 mars 2026",
    ]


def test_a_usage_line_prints_its_tiers_not_a_unit_price_in_english():
    assert table(invoice_text(march(), locale="en_US")) == [
        "Description  Period                      Qty  Unit price  Amount  Discount     Net",
        "----------------------------------------------------------------------------------",
        "Appels API   from March 1 to 31, 2026  1,200              €19.00            €19.00",
        "    1,000 × €0.015 + 200 × €0.020 = €19.00: from March 1 to 31, 2026",
    ]


def test_a_usage_correction_prints_neither_the_periods_quantity_nor_a_unit_price():
    """The correction bills 4.00 €: the 1 200 calls re-rated are in its explanation."""
    rows = table(invoice_text(corrected(), locale="fr_FR"))
    assert rows[2:] == [
        "Appels API   du 1 au 31 mars 2026                       4,00 €          4,00 €",
        (
            "    recalcul avec tous les relevés : 1 000 × 0,015 € + 200 × 0,020 € = 19,00 €, moins "
            "15,00 € déjà facturés : du 1 au 31 mars 2026"
        ),
    ]


def test_the_html_invoice_shows_a_usage_lines_tiers_not_a_unit_price():
    html = plain(invoice_html(march(), locale="fr_FR"))
    assert (
        "<tr><td>Appels API</td><td>du 1 au 31 mars 2026</td><td>1 200</td><td></td>"
        "<td>19,00 €</td><td></td><td>19,00 €</td></tr>"
    ) in html
    assert "1 000 × 0,015 € + 200 × 0,020 € = 19,00 €" in html


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("fr_FR", "1 000 × 0,015 € + 200 × 0,020 € = 19,00 € : du 1 au 31 mars 2026"),
        ("en_US", "1,000 × €0.015 + 200 × €0.020 = €19.00: from March 1 to 31, 2026"),
    ],
)
def test_the_pdf_invoice_shows_a_usage_lines_tiers(locale, expected):
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("fpdf")
    from subbill.pdf import render_invoice_pdf  # noqa: PLC0415  (fpdf2 is an extra)

    reader = pypdf.PdfReader(BytesIO(render_invoice_pdf(march(), locale=locale)))
    text = plain("".join(page.extract_text() for page in reader.pages))
    assert expected in text
    assert ("19,00 €" if locale == "fr_FR" else "€19.00") in text
    assert "22 800" not in text
    assert "22,800" not in text

"""The parties and rates the e-invoicing tests share: a French seller, French and German buyers."""

from __future__ import annotations

from benchmarks.workloads import DOCUMENT_BUYER, DOCUMENT_SELLER

from subbill.customers import Customer
from subbill.taxes import TaxRate, VatCategory

#: The franchise of small businesses: no VAT, « TVA non applicable, art. 293 B du CGI ».
FRANCHISE = TaxRate(
    name="Franchise en base",
    percent="0",
    category=VatCategory.E,
    exemption_reason="TVA non applicable, art. 293 B du CGI",
    exemption_code="VATEX-FR-FRANCHISE",
)
#: The French seller and buyer the e-invoicing tests and the PDF benchmark share.
SELLER = DOCUMENT_SELLER
BUYER = DOCUMENT_BUYER
#: A German business, the same customer id (so it may receive C-1's invoices), e-mail address.
BUYER_DE = Customer(
    id="C-1",
    legal_name="Werkstatt GmbH",
    address=("Hauptstraße 1",),
    postcode="10115",
    city="Berlin",
    country="DE",
    vat_number="DE136695976",
    einvoicing_address="werkstatt@example.de",
    einvoicing_scheme="EM",
)

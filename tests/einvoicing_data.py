"""The parties and rates the e-invoicing tests share: a French seller, French and German buyers."""

from __future__ import annotations

from subbill import Money
from subbill.customers import Customer
from subbill.parties import Party
from subbill.taxes import TaxRate, VatCategory

#: The franchise of small businesses: no VAT, « TVA non applicable, art. 293 B du CGI ».
FRANCHISE = TaxRate(
    name="Franchise en base",
    percent="0",
    category=VatCategory.E,
    exemption_reason="TVA non applicable, art. 293 B du CGI",
    exemption_code="VATEX-FR-FRANCHISE",
)
SELLER = Party(
    legal_name="Logiciel SAS",
    legal_form="SAS",
    share_capital=Money("10000", "EUR"),
    address=("1 rue de la Paix",),
    postcode="75002",
    city="Paris",
    siren="732829320",
    siret="73282932000074",
    rcs_city="Paris",
    vat_number="FR44732829320",
)
BUYER = Customer(
    id="C-1",
    legal_name="Atelier Dupont SARL",
    address=("5 quai du Port",),
    postcode="13002",
    city="Marseille",
    country="FR",
    siren="552100554",
    vat_number="FR96552100554",
)
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

"""The e-invoicing facts of the core: identifiers, the seller's party, VAT categories, terms.

Each is stored through the codec's format 4 with its new fields left out at their defaults,
so that documents written before these fields existed read back equal.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill import Money
from subbill.billing import BillingTerms
from subbill.customers import Customer, CustomerKind
from subbill.errors import InvalidIdentifierError
from subbill.identifiers import EU_COUNTRIES, siren, siret, vat_number
from subbill.parties import REVERSE_CHARGE, Party, reverse_charge
from subbill.storage.codec import dumps, loads
from subbill.subscriptions import Subscription
from subbill.taxes import TaxRate, VatCategory
from tests.einvoicing_data import BUYER, BUYER_DE, FRANCHISE
from tests.seed_catalog import seed_catalog

SELLER = Party(legal_name="Logiciel SAS", siren="732829320", vat_number="FR44732829320")


def _luhn_digit(digits: str) -> str:
    """The digit that completes ``digits`` into a number passing the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


sirens = st.text("0123456789", min_size=8, max_size=8).map(lambda d: d + _luhn_digit(d))


@given(sirens, st.integers(0, 8), st.integers(1, 9))
def test_a_siren_is_accepted_and_any_one_digit_change_refused(number, position, shift):
    assert siren("siren", number) == number
    digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + digit + number[position + 1 :]
    with pytest.raises(InvalidIdentifierError, match="siren="):
        siren("siren", changed)


@given(sirens)
def test_the_french_vat_number_derived_from_a_siren_is_accepted(number):
    key = (12 + 3 * (int(number) % 97)) % 97
    assert vat_number("vat_number", f"FR {key:02d} {number}") == f"FR{key:02d}{number}"
    wrong = (key + 1) % 97
    with pytest.raises(InvalidIdentifierError, match="vat_number="):
        vat_number("vat_number", f"FR{wrong:02d}{number}")


def test_identifiers_are_kept_compact():
    customer = Customer(
        id="C-1", siren="732 829 320", siret="732 829 320 00074", vat_number="fr44 732829320"
    )
    assert (customer.siren, customer.siret, customer.vat_number) == (
        "732829320",
        "73282932000074",
        "FR44732829320",
    )
    assert siret("siret", "73282932000074") == "73282932000074"


def test_a_bad_checksum_names_the_field_of_the_party():
    with pytest.raises(InvalidIdentifierError) as caught:
        Party(legal_name="X", siren="732829320", siret="73282932000075")
    assert caught.value.name == "siret"
    assert "checksum" in str(caught.value)


def test_the_seller_party_prints_its_registration():
    seller = Party(
        legal_name="Logiciel SAS",
        legal_form="SAS",
        share_capital=Money("10000", "EUR"),
        siren="732829320",
        rcs_city="Paris",
    )
    assert seller.registration == "RCS Paris 732 829 320"
    assert Party(legal_name="GmbH", country="DE").siren is None  # only a French seller needs one
    assert SELLER.registration is None


def test_the_einvoicing_address_under_0225_is_the_siren_with_a_suffix():
    customer = Customer(
        id="C-1",
        siren="552100554",
        einvoicing_address="552100554_ACHATS",
        einvoicing_scheme="0225",
    )
    assert customer.einvoicing_address == "552100554_ACHATS"


@given(
    st.sampled_from(sorted(EU_COUNTRIES | {"CH", "US", "GB"})),
    st.sampled_from(sorted(CustomerKind, key=lambda kind: kind.value)),
)
def test_reverse_charge_applies_only_to_businesses_in_another_eu_country(country, kind):
    buyer = Customer(id="C", country=country, kind=kind, vat_number="DE136695976")
    rate = reverse_charge(SELLER, buyer)
    expected = kind is CustomerKind.BUSINESS and country in EU_COUNTRIES and country != "FR"
    assert (rate is REVERSE_CHARGE) is expected
    if rate is not None:
        assert (rate.category, rate.percent, rate.exemption_code) == (
            VatCategory.AE,
            Decimal(0),
            "VATEX-EU-AE",
        )


def test_reverse_charge_reads_the_buyer_country_from_its_vat_number():
    assert reverse_charge(SELLER, Customer(id="C", vat_number="DE136695976")) is REVERSE_CHARGE
    assert reverse_charge(SELLER, Customer(id="C", vat_number="FR96552100554")) is None


def test_reverse_charge_names_the_missing_vat_number():
    with pytest.raises(InvalidIdentifierError) as caught:
        reverse_charge(SELLER, Customer(id="C", country="BE"))
    assert caught.value.name == "buyer.vat_number"
    seller = Party(legal_name="Logiciel SAS", siren="732829320")
    with pytest.raises(InvalidIdentifierError) as caught:
        reverse_charge(seller, Customer(id="C", country="BE", vat_number="BE0403170701"))
    assert caught.value.name == "seller.vat_number"


def test_a_tax_rate_keeps_its_category_in_its_hash_and_equality():
    franchise = attrs.evolve(FRANCHISE, name="TVA")
    zero = TaxRate(name="TVA", percent="0", category=VatCategory.Z)
    assert franchise != zero
    assert hash(franchise) != hash(zero)
    assert len({franchise, zero, TaxRate(name="TVA", percent="0", category=VatCategory.Z)}) == 2
    assert TaxRate(name="TVA", percent="20").category is VatCategory.S


# -- storage: new fields are optional, left out at their defaults --------------------------------

#: Documents as format 4 wrote them before the e-invoicing fields existed.
BEFORE = {
    Customer: '{"data":{"einvoicing_address":"732829320","id":"C-1","legal_name":"Atelier",'
    '"siren":"732829320","vat_number":"FR44732829320"},"version":4}',
    TaxRate: '{"data":{"name":"TVA 20 %","percent":"20"},"version":4}',
    BillingTerms: '{"data":{"payment_terms_days":15},"version":4}',
}


def test_documents_written_before_the_einvoicing_fields_read_back_equal():
    customer = Customer(
        id="C-1",
        legal_name="Atelier",
        siren="732829320",
        vat_number="FR44732829320",
        einvoicing_address="732829320",
    )
    now = {
        Customer: customer,
        TaxRate: TaxRate(name="TVA 20 %", percent="20"),
        BillingTerms: BillingTerms(payment_terms_days=15),
    }
    for kind, text in BEFORE.items():
        assert loads(text, kind) == now[kind]
        assert dumps(now[kind]) == text  # the new fields at their defaults are left out


def test_the_new_fields_round_trip_through_the_codec():
    terms = BillingTerms(late_payment_percent="12.5")
    for value in (BUYER_DE, BUYER, FRANCHISE, terms, REVERSE_CHARGE):
        assert loads(dumps(value), type(value)) == value
    assert '"einvoicing_scheme":"EM"' in dumps(BUYER_DE)
    assert '"category":"AE"' in dumps(REVERSE_CHARGE)
    assert '"late_payment_percent":"12.5"' in dumps(terms)


def test_a_subscription_keeps_its_late_payment_rate():
    subscription = Subscription.create(
        id="S1",
        customer="C-1",
        catalog=seed_catalog(),
        plan="pro",
        start=date(2026, 1, 1),
        terms=BillingTerms(late_payment_percent="12"),
    )
    assert loads(dumps(subscription), Subscription) == subscription


# -- a French VAT number is the SIREN's (issue 14, review) -----------------------------------------


def test_a_french_vat_number_of_another_siren_is_refused_naming_both():
    # FR96552100554 is a valid VAT number, but of SIREN 552100554, not 732829320.
    with pytest.raises(InvalidIdentifierError) as caught:
        Party(legal_name="Logiciel SAS", siren="732829320", vat_number="FR96552100554")
    message = str(caught.value)
    assert caught.value.name == "vat_number"
    assert "FR96552100554" in message
    assert "732829320" in message
    assert "552100554" in message
    with pytest.raises(InvalidIdentifierError, match="SIREN 552100554"):
        Customer(id="C", siren="552100554", vat_number="FR44732829320")


@given(sirens, sirens)
def test_a_french_vat_number_is_accepted_with_its_own_siren_only(number, other):
    key = (12 + 3 * (int(number) % 97)) % 97
    vat = f"FR{key:02d}{number}"
    assert Party(legal_name="X", siren=number, vat_number=vat).vat_number == vat
    assert Customer(id="C", siren=number, vat_number=vat).vat_number == vat
    if other != number:
        with pytest.raises(InvalidIdentifierError, match="vat_number="):
            Party(legal_name="X", siren=other, vat_number=vat)


def test_a_foreign_vat_number_is_not_compared_with_a_siren():
    customer = Customer(id="C", siren="552100554", vat_number="DE136695976")
    assert customer.vat_number == "DE136695976"

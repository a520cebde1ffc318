"""Card data never enters subbill: every payment-method field refuses a full card number.

One function (``subbill.payments.check_no_card_number``) decides what looks like a card
number; every path that carries a payment method today goes through it, and the SQLite file
never holds one.
"""

import json
from datetime import date
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import (
    Card,
    LineItem,
    Money,
    Payment,
    PaymentLink,
    Subscription,
    Wallet,
    bill_subscription,
    portal_overview,
    purchase,
)
from subbill.cli import main
from subbill.errors import CardDataError, InvalidArgumentError
from subbill.payments import (
    InvalidCardError,
    OtherMethod,
    check_no_card_data,
    check_no_card_number,
    payment_method_from_mapping,
)
from subbill.pdf import Party
from subbill.portal import TicketStatus
from subbill.storage import SQLiteStore
from tests.builders import ticket
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
EXAMPLES = Path(__file__).parent.parent / "examples"
VISA = "4242424242424242"  # the test card every processor documents
AMEX = "378282246310005"  # 15 digits
DINERS = "30569309025904"  # 14 digits
MAESTRO_19 = "6759649826438453045"  # 19 digits (Luhn-valid)
SIRET = "73282932000074"  # 14 digits that pass Luhn too
IBAN = "FR76 3000 6000 0112 3456 7890 189"

CARD_NUMBERS = [
    VISA,
    "4242 4242 4242 4242",
    "4242-4242-4242-4242",
    "4242 - 4242 - 4242 - 4242",
    AMEX,
    "3782 822463 10005",
    DINERS,
    MAESTRO_19,
    "tok_" + VISA,
    f"Visa {VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]} exp 12/27",
    f"card:{VISA}",
    "４２４２４２４２４２４２４２４２",  # fullwidth digits are digits too
]


def card(**fields):
    values = {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2027}
    values.update(fields)
    return Card(**values)


def luhn_complete(body: str) -> str:
    """``body`` followed by the check digit that makes it pass the Luhn check."""
    for check in "0123456789":
        digits = body + check
        total = 0
        for position, character in enumerate(reversed(digits)):
            digit = int(character) * (2 if position % 2 else 1)
            total += digit - 9 if digit > 9 else digit
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


# -- the one detector ----------------------------------------------------------------------------


@pytest.mark.parametrize("number", CARD_NUMBERS)
def test_a_card_number_is_found_grouped_or_not_and_inside_text(number):
    with pytest.raises(CardDataError, match="store only the card's brand, its last 4 digits"):
        check_no_card_number("label", number)


@pytest.mark.parametrize(
    "text",
    [
        "pm_1MqLiJLkdIwHu7ixUEgbFdYF",  # a processor's token
        "Visa •••• 4242 (12/2027)",
        "4242",
        "4242424242424241",  # 16 digits failing the Luhn check
        "424242424242",  # 12 digits: too short to be a card
        "42424242424242424242",  # 20 digits together: too long to be one
        IBAN,  # a valid IBAN is not a card number
        IBAN.replace(" ", ""),
        "SEPA " + IBAN,
    ],
)
def test_what_is_not_a_card_number_is_kept(text):
    assert check_no_card_number("label", text) == text


def test_the_error_never_repeats_the_card_number():
    with pytest.raises(CardDataError) as caught:
        card(id=f"pm {VISA}")
    assert VISA not in str(caught.value)
    assert "id holds what looks like a full card number" in str(caught.value)


def test_an_int_card_number_is_card_data_too():
    with pytest.raises(CardDataError):
        card(id=int(VISA))


@settings(max_examples=500)
@given(
    length=st.integers(13, 19),
    body=st.data(),
    group=st.sampled_from([0, 4, 5, 6]),
    separator=st.sampled_from([" ", "-", " - ", "\u2013", "\xa0"]),
    prefix=st.sampled_from(["", "tok ", "card:", "x", "Visa "]),
    suffix=st.sampled_from(["", " exp 12/27", "/12", " cvc"]),
)
def test_every_card_number_is_refused_in_a_payment_field(
    length, body, group, separator, prefix, suffix
):
    first = body.draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    digits = luhn_complete(first)
    written = (
        separator.join(digits[i : i + group] for i in range(0, len(digits), group))
        if group
        else digits
    )
    with pytest.raises(CardDataError):
        OtherMethod(id="m", kind="card", label=prefix + written + suffix)


@settings(max_examples=500)
@given(
    brand=st.sampled_from(["Visa", "Mastercard", "American Express", "CB"]),
    last4=st.text("0123456789", min_size=4, max_size=4),
    month=st.integers(1, 12),
    year=st.integers(2000, 2099),
)
def test_brand_last4_and_expiry_are_always_accepted(brand, last4, month, year):
    saved = Card(id=f"pm_{last4}", brand=brand, last4=last4, exp_month=month, exp_year=year)
    assert OtherMethod(id="m", kind="card", label=saved.label).label == saved.label


# -- every payment-method field ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["id", "brand"])
@pytest.mark.parametrize("number", [VISA, "4242 4242 4242 4242", AMEX])
def test_card_fields_refuse_a_card_number(field, number):
    with pytest.raises(CardDataError):
        card(**{field: number})


def test_a_full_number_in_last4_is_still_an_invalid_card_and_card_data():
    with pytest.raises(InvalidCardError) as caught:
        card(last4=VISA)
    assert isinstance(caught.value, CardDataError)


@pytest.mark.parametrize("field", ["id", "kind", "label"])
def test_other_method_fields_refuse_a_card_number(field):
    values = {"id": "sepa", "kind": "sepa_debit", "label": "SEPA ••• 189"}
    values[field] = f"x {VISA}"
    with pytest.raises(CardDataError):
        OtherMethod(**values)


def test_a_sepa_label_with_an_iban_is_accepted():
    assert OtherMethod(id="sepa", kind="sepa_debit", label=f"SEPA {IBAN}").label.endswith("189")


def test_wallet_default_and_lookups_refuse_a_card_number():
    wallet = Wallet(customer="ACME").add(card())
    with pytest.raises(CardDataError):
        Wallet(customer="ACME", methods=(card(),), default=VISA)
    with pytest.raises(CardDataError):
        wallet.set_default(VISA)
    with pytest.raises(CardDataError):
        wallet.method(VISA)


def test_subscription_payment_method_refuses_a_card_number():
    with pytest.raises(CardDataError):
        Subscription.create(
            id="S1",
            customer="ACME",
            catalog=CATALOG,
            plan="pro",
            start=date(2026, 1, 1),
            payment_method="4242 4242 4242 4242",
        )
    sub = Subscription.create(
        id="S1", customer="ACME", catalog=CATALOG, plan="pro", start=date(2026, 1, 1)
    )
    with pytest.raises(CardDataError):
        sub.__class__(**{**_fields(sub), "payment_method": VISA})


def _fields(value):
    return {field.name: getattr(value, field.name) for field in attrs.fields(type(value))}


def test_payment_and_purchase_method_refuse_a_card_number():
    with pytest.raises(CardDataError):
        Payment(amount=Money("10", "EUR"), paid_on=date(2026, 3, 1), method=VISA)
    link = PaymentLink(
        id="L1",
        currency="EUR",
        lines=(LineItem(code="x", name="X", unit_price=Money("10", "EUR")),),
    )
    with pytest.raises(CardDataError):
        purchase(link, paid_on=date(2026, 3, 1), payment_method=f"card {VISA}")
    assert purchase(link, paid_on=date(2026, 3, 1), payment_method="pm_1").payment.method == "pm_1"


def test_a_siret_is_accepted_in_names_and_companies():
    # Only payment-method fields are scanned: a SIRET has 14 digits and passes Luhn too.
    name = f"ACME SAS (SIRET {SIRET})"
    with pytest.raises(CardDataError):  # the detector alone would take it for a card
        check_no_card_number("label", SIRET)
    sub = Subscription.create(
        id=SIRET, customer=name, catalog=CATALOG, plan="pro", start=date(2026, 1, 1)
    )
    assert sub.customer == name
    assert Wallet(customer=name).customer == name
    assert Party(name=name, siret=SIRET).siret == SIRET


# -- security codes in plain data --------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["cvc", "cvv", "cvv2", "cid", "security_code", "CVC", "Security-Code"]
)
def test_security_code_keys_are_refused_wherever_they_appear(key):
    fields = {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 1, "exp_year": 2030}
    with pytest.raises(CardDataError, match="security code"):
        Card.from_mapping({**fields, key: "123"})
    with pytest.raises(CardDataError, match=r"methods\[0\]"):
        Wallet.from_mapping({"customer": "ACME", "methods": [{**fields, key: "123"}]})
    with pytest.raises(CardDataError, match=r"meta\.card"):
        Wallet.from_mapping({"customer": "ACME", "meta": {"card": {key: "123"}}})
    with pytest.raises(CardDataError):
        payment_method_from_mapping({"id": "m", "kind": "sepa_debit", "label": "x", key: 1})
    with pytest.raises(CardDataError, match="never the full number"):
        check_no_card_data([{"a": [{key: None}]}])


def test_payment_methods_from_mapping():
    wallet = Wallet.from_mapping(
        {
            "customer": "ACME",
            "methods": [
                {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 1, "exp_year": 2030},
                {"id": "sepa", "kind": "sepa_debit", "label": "SEPA ••• 189"},
            ],
            "default": "sepa",
        }
    )
    assert [type(m).__name__ for m in wallet.methods] == ["Card", "OtherMethod"]
    assert wallet.default == "sepa"
    with pytest.raises(CardDataError):
        Card.from_mapping(
            {"id": VISA, "brand": "Visa", "last4": "4242", "exp_month": 1, "exp_year": 2030}
        )


def test_unknown_payment_method_keys_are_refused_with_a_suggestion():
    with pytest.raises(InvalidArgumentError, match=r"card\.lats4: unknown key, did you mean"):
        Card.from_mapping(
            {"id": "pm_1", "brand": "Visa", "lats4": "4242", "exp_month": 1, "exp_year": 2030}
        )


# -- the database never holds a card number ------------------------------------------------------


def _forms(number: str) -> list[bytes]:
    grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    dashed = grouped.replace(" ", "-")
    return [form.encode() for form in (number, grouped, dashed)]


def test_card_numbers_never_reach_the_sqlite_file(tmp_path, capsys):
    db = tmp_path / "billing.db"
    number = VISA
    attempts = 0

    def refused(call):
        nonlocal attempts
        attempts += 1
        with pytest.raises(CardDataError):
            call()

    # The command line: a subscriptions file that carries a payment method.
    assert main(["catalog", "load", str(EXAMPLES / "catalogue_saas.json"), "--db", str(db)]) == 0
    entry = {"id": "S1", "customer": "ACME", "plan": "essentiel", "start": "2026-03-01"}
    for payment_method in (number, "4242 4242 4242 4242", f"pm {number}"):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"subscriptions": [{**entry, "payment_method": payment_method}]}))
        assert main(["subscriptions", "load", str(bad), "--db", str(db)]) == 2
        assert "full card number" in capsys.readouterr().err
    bad.write_text(json.dumps({"subscriptions": [{**entry, "cvc": "123"}]}))
    assert main(["subscriptions", "load", str(bad), "--db", str(db)]) == 2
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"subscriptions": [{**entry, "payment_method": "pm_1"}]}))
    assert main(["subscriptions", "load", str(good), "--db", str(db)]) == 0
    assert main(["bill-run", "--as-of", "2026-03-15", "--db", str(db)]) == 0

    # The library: cards, wallets, subscriptions, payments, purchases, the portal.
    refused(lambda: card(id=number))
    refused(lambda: card(brand=f"Visa {number}"))
    refused(lambda: OtherMethod(id="m", kind="card", label=number))
    refused(lambda: Wallet(customer="ACME", methods=(card(),), default=number))
    refused(
        lambda: Wallet.from_mapping(
            {"customer": "ACME", "methods": [{"id": number, "kind": "x", "label": "y"}]}
        )
    )
    refused(
        lambda: Subscription.create(
            id="S2",
            customer="ACME",
            catalog=CATALOG,
            plan="pro",
            start=date(2026, 1, 1),
            payment_method=number,
        )
    )
    refused(lambda: Payment(amount=Money("1", "EUR"), paid_on=date(2026, 3, 1), method=number))
    wallet = Wallet(customer="ACME").add(card())
    refused(
        lambda: portal_overview(
            "ACME", catalog=CATALOG, wallet=wallet.set_default(number), as_of=date(2026, 3, 1)
        )
    )
    store = SQLiteStore(db)
    try:
        with store.transaction():
            sub = Subscription.create(
                id="S3",
                customer="ACME",
                catalog=CATALOG,
                plan="pro",
                start=date(2026, 4, 1),  # after the CLI's invoice: numbers follow dates
                payment_method="pm_1",
            )
            store.save_subscription(sub)
            invoice = bill_subscription(sub.to_charge_plan(CATALOG), as_of=date(2026, 4, 1)).invoice
            number_issued = store.next_invoice_number(issued_on=invoice.issued_on)
            store.add_invoice(invoice.finalize(number=number_issued))
            store.add_payment(
                number_issued,
                Payment(amount=Money("1", "EUR"), paid_on=date(2026, 4, 2), method="pm_1"),
            )
        overview = portal_overview(
            "ACME",
            catalog=CATALOG,
            subscriptions=[sub],
            tickets=[ticket("T1", "Carte", TicketStatus.OPEN, opened_on=date(2026, 1, 3))],
            wallet=wallet,
            as_of=date(2026, 3, 1),
        )
        assert overview.payment_methods[0].label == "Visa •••• 4242 (12/2027)"
    finally:
        store.close()
    assert attempts == 8
    files = [path for path in tmp_path.iterdir() if path.name.startswith("billing.db")]
    content = b"".join(path.read_bytes() for path in files)
    assert b"pm_1" in content  # the token is stored…
    for form in _forms(number):  # …never the number, in any form
        assert form not in content


# -- review of issue 10: other separators, and card numbers turned into IBANs -----------------


@pytest.mark.parametrize(
    "label",
    [
        "Visa 4111.1111.1111.1111",
        "Visa 4111_1111_1111_1111",
        "Visa 4111/1111/1111/1111",
        "Visa 4111.1111-1111/1111",
        "4111 . 1111 _ 1111 / 1111",
        "4111\\1111\\1111\\1111",
        f"tok.{VISA}",
    ],
)
def test_a_card_number_with_other_separators_is_refused(label):
    with pytest.raises(CardDataError, match="store only the card's brand"):
        OtherMethod(id="pm_1", kind="sepa", label=label)


@settings(max_examples=500)
@given(
    length=st.integers(13, 19),
    body=st.data(),
    group=st.sampled_from([3, 4, 5, 6]),
    separators=st.lists(st.sampled_from([".", "_", "/", " ", "-", ". "]), min_size=1),
)
def test_every_card_number_is_refused_whatever_its_separators(length, body, group, separators):
    first = body.draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    digits = luhn_complete(first)
    groups = [digits[i : i + group] for i in range(0, len(digits), group)]
    written = groups[0] + "".join(
        separators[index % len(separators)] + part for index, part in enumerate(groups[1:])
    )
    with pytest.raises(CardDataError):
        OtherMethod(id="m", kind="sepa", label=f"Visa {written}")


def iban_of(country: str, bban: str) -> str:
    """The valid IBAN of ``bban`` in ``country``: its check digits computed."""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def test_a_card_number_turned_into_a_valid_iban_is_refused():
    assert iban_of("FR", "4111111111111111") == "FR314111111111111111"
    with pytest.raises(CardDataError):
        check_no_card_number("label", "SEPA FR314111111111111111")
    with pytest.raises(CardDataError):
        check_no_card_number("label", "SEPA FR31 4111 1111 1111 1111")
    assert check_no_card_number("label", "SEPA " + IBAN) == "SEPA " + IBAN


@settings(max_examples=500)
@given(
    length=st.integers(13, 19),
    body=st.data(),
    country=st.sampled_from(["FR", "DE", "GB", "NL", "ES"]),
    spaced=st.booleans(),
)
def test_every_card_number_made_an_iban_is_refused(length, body, country, spaced):
    first = body.draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    digits = luhn_complete(first)
    iban = iban_of(country, digits)
    if spaced:
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    with pytest.raises(CardDataError):
        OtherMethod(id="m", kind="sepa_debit", label=f"SEPA {iban}")

"""Fields: policies are enums, ids are never empty, names never forge a line of output.

Decisions (see ``subbill._validate``):

- a policy given as a string is refused (``InvalidTypeError``), never converted: the
  message lists the members and names the one the string spells;
- identifiers, numbers, codes *and* names refuse control characters and bidirectional
  overrides (``InvalidArgumentError`` naming the field); a quote's message, written by a
  person, may hold newlines and tabs but no other control;
- text outputs (``l10n``, the PDF, the command line) escape those characters once more.
"""

import json
import re
from datetime import date
from io import BytesIO
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from subbill import (
    ChargePlan,
    InvalidArgumentError,
    InvalidTypeError,
    LicenseAccount,
    LicenseLedger,
    LineItem,
    RecurringCharge,
    Subscription,
    bill_subscription,
    prorate,
    renewal_dashboard,
)
from subbill._validate import CONTROL_CHARACTERS, check_line, escape_controls
from subbill.billing import draft_invoice
from subbill.catalog import ChangePolicy, ChangeTiming
from subbill.cli import main
from subbill.invoices import one_time_line
from subbill.l10n import dashboard_text, invoice_html, invoice_text
from subbill.licenses import SeatRule, add_seats
from subbill.pdf import Party, render_invoice_pdf
from subbill.taxes import TaxRounding, line_taxes
from tests.builders import VAT, eur
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
FORGED = "ACME\nTotal due: 0.00 EUR"
BAD_TEXTS = [
    "a\nb",
    "a\rb",
    "\x1b[31mred",
    "nul\x00",
    "\u202eevil",
    "a\u2066b",
    "a\x85b",
    "a\u2028b",
]


def three_lines_of_three_cents(**policy):
    charges = tuple(
        RecurringCharge(
            code=code,
            description=code.upper(),
            unit_price=eur("0.03"),
            start=date(2026, 3, 1),
            tax_rates=(VAT,),
        )
        for code in ("a", "b", "c")
    )
    return ChargePlan(id="S1", customer="ACME", currency="EUR", charges=charges, **policy)


# -- policies are enums --------------------------------------------------------------------------


def test_tax_rounding_given_as_a_string_is_refused_not_rounded_per_invoice():
    # Today "per_line" is silently taken for PER_INVOICE: tax 0.02 instead of 0.03.
    per_line = bill_subscription(
        three_lines_of_three_cents(tax_rounding=TaxRounding.PER_LINE), as_of=date(2026, 3, 1)
    )
    assert per_line.invoice.tax == eur("0.03")
    with pytest.raises(InvalidTypeError) as caught:
        three_lines_of_three_cents(tax_rounding="per_line")
    message = str(caught.value)
    assert message.startswith("tax_rounding='per_line' must be a TaxRounding: ")
    assert "TaxRounding.PER_LINE or TaxRounding.PER_INVOICE" in message
    assert message.endswith("pass TaxRounding.PER_LINE)")


def test_negative_balance_given_as_a_string_is_refused_not_ignored():
    # Today "carry_forward" is silently taken for CREDIT_NOTE: the credit is not carried.
    with pytest.raises(InvalidTypeError, match=r"pass NegativeBalancePolicy\.CARRY_FORWARD"):
        ChargePlan(id="S1", customer="ACME", currency="EUR", negative_balance="carry_forward")


def test_line_taxes_refuses_a_rounding_string():
    with pytest.raises(InvalidTypeError, match="rounding='per_line' must be a TaxRounding"):
        line_taxes([eur("0.03")], [(VAT,)], tax_rounding="per_line")


@pytest.mark.parametrize(
    "field", ["upgrade", "downgrade", "module_activation", "module_deactivation"]
)
def test_change_policy_refuses_strings(field):
    with pytest.raises(InvalidTypeError, match=rf"{field}='immediate' must be a ChangeTiming"):
        ChangePolicy(**{field: "immediate"})


def test_a_timing_string_is_refused_not_applied_at_period_end():
    # Today timing="immediate" is not ChangeTiming.IMMEDIATE: the module is billed next period.
    sub = Subscription.create(
        id="S1", customer="ACME", catalog=CATALOG, plan="pro", start=date(2026, 1, 1)
    )
    module = "stock"  # allowed on pro, not included in it
    with pytest.raises(InvalidTypeError, match="timing='immediate' must be a ChangeTiming"):
        sub.activate(module, CATALOG, on=date(2026, 1, 10), timing="immediate")
    with pytest.raises(InvalidTypeError, match="timing='period_end'"):
        sub.change_plan("essentiel", CATALOG, on=date(2026, 1, 10), timing="period_end")
    activated = sub.activate(module, CATALOG, on=date(2026, 1, 10), timing=ChangeTiming.IMMEDIATE)
    assert activated.modules[-1].billed_from is None


def test_a_seat_rule_string_is_refused_not_prorated():
    account = LicenseAccount(
        customer="ACME", product="TBox", seats=5, start=date(2026, 1, 1), years=1
    )
    ledger = LicenseLedger().grant("R", "TBox", 10, on=date(2026, 1, 1))
    with pytest.raises(InvalidTypeError, match=r"pass SeatRule\.WHOLE_YEARS"):
        add_seats(account, 2, ledger=ledger, pool="R", on=date(2026, 7, 2), rule="whole_years")
    _, _, used = add_seats(
        account, 2, ledger=ledger, pool="R", on=date(2026, 7, 2), rule=SeatRule.WHOLE_YEARS
    )
    assert used == 2


def test_an_unknown_string_lists_the_allowed_members_without_a_guess():
    with pytest.raises(InvalidTypeError) as caught:
        three_lines_of_three_cents(negative_balance="refund")
    assert str(caught.value) == (
        "negative_balance='refund' must be a NegativeBalancePolicy: "
        "NegativeBalancePolicy.CREDIT_NOTE or NegativeBalancePolicy.CARRY_FORWARD "
        "(a str is never converted)"
    )


# -- empty or None ids and customers ---------------------------------------------------------


@pytest.mark.parametrize("value", ["", "   ", None])
@pytest.mark.parametrize("field", ["id", "customer"])
def test_subscriptions_refuse_empty_ids_and_customers(field, value):
    fields = {"id": "S1", "customer": "ACME", field: value}
    error = InvalidTypeError if value is None else InvalidArgumentError
    with pytest.raises(error, match=rf"^{field}="):
        Subscription.create(catalog=CATALOG, plan="pro", start=date(2026, 1, 1), **fields)
    with pytest.raises(error, match=rf"^{field}="):
        ChargePlan(currency="EUR", **fields)


@pytest.mark.parametrize("value", ["", None])
def test_invoices_refuse_an_empty_customer_and_number(value):
    with pytest.raises((InvalidArgumentError, InvalidTypeError), match=r"^customer="):
        draft_invoice(customer=value, currency="EUR", issued_on=date(2026, 3, 1), lines=[])
    invoice = draft_invoice(
        customer="ACME",
        currency="EUR",
        issued_on=date(2026, 3, 1),
        lines=[one_time_line("x", "X", eur("1"))],
    )
    with pytest.raises((InvalidArgumentError, InvalidTypeError), match=r"^number="):
        invoice.finalize(number=value)


# -- names and references ------------------------------------------------------------------------


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_identifiers_and_names_refuse_control_characters(text):
    with pytest.raises(InvalidArgumentError, match=r"^customer=.* holds U\+"):
        Subscription.create(
            id="S1", customer=text, catalog=CATALOG, plan="pro", start=date(2026, 1, 1)
        )
    with pytest.raises(InvalidArgumentError, match=r"^id="):
        ChargePlan(id=text, customer="ACME", currency="EUR")
    with pytest.raises(InvalidArgumentError, match=r"^description="):
        RecurringCharge(code="x", description=text, unit_price=eur("1"), start=date(2026, 3, 1))


def test_the_error_names_the_character_and_its_position():
    with pytest.raises(InvalidArgumentError) as caught:
        check_line("customer", FORGED)
    assert "holds U+000A (LINE FEED) at position 4" in str(caught.value)
    with pytest.raises(InvalidArgumentError, match=r"U\+202E \(RIGHT-TO-LEFT OVERRIDE\)"):
        check_line("code", "abc\u202e")


def test_a_siret_and_accents_are_plain_text():
    assert check_line("customer", "Boulangerie Müller — SIRET 73282932000074") is not None


@settings(max_examples=500)
@given(st.text(min_size=1, max_size=30))
def test_an_accepted_name_never_holds_a_control_character(text):
    try:
        check_line("name", text)
    except InvalidArgumentError:
        assert not text.strip() or CONTROL_CHARACTERS.search(text)
    else:
        assert text.strip()
        assert not CONTROL_CHARACTERS.search(text)


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_escaped_text_holds_no_control_character(text):
    escaped = escape_controls(text)
    assert not CONTROL_CHARACTERS.search(escaped)
    assert len(escaped.splitlines()) <= 1
    assert escape_controls(escaped) == escaped


# -- outputs never show a forged line --------------------------------------------------------


def _forged_invoice():
    """An invoice whose customer and description hold a newline: built around validation,
    as an object from another source could be."""
    invoice = draft_invoice(
        customer="ACME",
        currency="EUR",
        issued_on=date(2026, 3, 1),
        lines=[one_time_line("x", "Setup", eur("100"))],
    ).finalize(number="F-2026-000001")
    line = invoice.lines[0]
    object.__setattr__(line, "description", "Setup\nTotal due: 0.00 EUR")
    object.__setattr__(invoice, "customer", FORGED)
    assert attrs.has(type(invoice))
    return invoice


def test_invoice_text_never_shows_a_forged_line():
    with pytest.raises(InvalidArgumentError):
        draft_invoice(customer=FORGED, currency="EUR", issued_on=date(2026, 3, 1), lines=[])
    for locale in ("en_US", "fr_FR"):
        text = invoice_text(_forged_invoice(), locale=locale)
        lines = text.splitlines()
        assert not any(line.startswith("Total due") for line in lines)
        assert "ACME\\nTotal due: 0.00 EUR" in text
        assert "Setup\\nTotal due: 0.00 EUR" in text
        assert not CONTROL_CHARACTERS.search(text.replace("\n", ""))


def test_invoice_html_escapes_controls():
    html = invoice_html(_forged_invoice(), locale="en_US")
    assert "ACME\\nTotal due" in html
    assert "\u202e" not in html


def test_dashboard_text_escapes_every_cell():
    account = LicenseAccount(
        customer="ACME", product="TBox", seats=1, start=date(2026, 1, 1), years=1
    )
    object.__setattr__(account, "customer", "ACME\u202eX\nTotal")
    text = dashboard_text(renewal_dashboard([account], as_of=date(2026, 3, 1)), locale="en_US")
    assert "ACME\\u202eX\\nTotal" in text
    assert "\u202e" not in text
    assert not any(line.startswith("Total") for line in text.splitlines())


def test_pdf_never_shows_a_forged_line():
    with pytest.raises(InvalidArgumentError):
        Party(name=FORGED)
    with pytest.raises(InvalidArgumentError, match=r"^address\[1\]="):
        Party(name="ACME", address=("1 rue de la Paix", "Total due: 0\n"))
    pdf = render_invoice_pdf(_forged_invoice(), locale="fr_FR", notes=("Line one\nLine two",))
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    lines = text.splitlines()
    assert not any(re.match(r"\s*Total due", line) for line in lines)
    assert any("ACME\\nTotal due" in line for line in lines)
    assert "Line one" in lines
    assert "Line two" in lines


def test_cli_never_prints_a_forged_line(tmp_path, capsys):
    db = tmp_path / "billing.db"
    catalog = Path(__file__).parent.parent / "examples" / "catalogue_saas.json"
    assert main(["catalog", "load", str(catalog), "--db", str(db)]) == 0
    file = tmp_path / "subscriptions.json"
    entry = {"id": "S1", "customer": FORGED, "plan": "essentiel", "start": "2026-03-01"}
    file.write_text(json.dumps({"subscriptions": [entry]}))
    assert main(["subscriptions", "load", str(file), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "customer='ACME\\nTotal due: 0.00 EUR' holds U+000A" in err


DAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: prorate("10.00", 1), r"^amount='10.00' must be a Money$"),
        (
            lambda: RecurringCharge(code="p", description="P", unit_price="10", start=DAY),
            r"^unit_price='10' must be a Money$",
        ),
        (
            lambda: LineItem(code="s", name="S", unit_price=10),
            r"^unit_price=10 must be a Money$",
        ),
        (
            lambda: ChargePlan(id="S", customer="C", currency="EUR", charges=("pro",)),
            r"^charges\[0\]='pro' must be a RecurringCharge",
        ),
    ],
)
def test_a_value_of_the_wrong_type_is_a_type_error_not_a_value_error(build, message):
    # Issue 12: type errors were raised as InvalidArgumentError (a ValueError).
    with pytest.raises(InvalidTypeError, match=message) as raised:
        build()
    assert isinstance(raised.value, TypeError)
    assert not isinstance(raised.value, ValueError)

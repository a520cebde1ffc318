"""Review 83 (issue 17 follow-up), F2, F3, F6: the Factur-X of credited invoices and their notes.

- F2: an engine's note under ``CARRY_FORWARD`` names its invoice: it can be e-invoiced.
- F3: a credited invoice's XML says what its page says is due (BT-115 = ``amount_due``:
  what its credit notes cancelled counts, in BT-113).
- F6: a credit note's XML says what it owes the customer on itself (BT-115), what of it
  was applied to the invoice it corrects in BT-113.

Each test failed before the fix.
"""

from __future__ import annotations

import re

import attrs
import pytest

facturx = pytest.importorskip("facturx")
saxonche = pytest.importorskip("saxonche")

from subbill.billing import NegativeBalancePolicy  # noqa: E402
from subbill.einvoice import invoice_xml  # noqa: E402
from subbill.storage import MemoryStore  # noqa: E402
from tests.einvoicing_data import BUYER, SELLER  # noqa: E402
from tests.schematron import Rules  # noqa: E402
from tests.test_credit_notes_carry_forward import walked  # noqa: E402


def amounts(xml: bytes) -> dict[str, list[str]]:
    text = xml.decode()
    tags = ("GrandTotalAmount", "TotalPrepaidAmount", "DuePayableAmount")
    return {tag: re.findall(rf"<ram:{tag}[^>]*>([^<]*)</ram:{tag}>", text) for tag in tags}


def xml_of(store, number, rules):
    document = store.get_invoice(number)
    corrected = None if document.corrects is None else store.get_invoice(document.corrects)
    buyer = attrs.evolve(BUYER, id=document.customer)
    xml = invoice_xml(document, seller=SELLER, buyer=buyer, corrected=corrected)
    assert rules.errors(xml) == []
    return xml


def test_a_credited_invoice_xml_asks_what_its_page_asks(rules: Rules):
    store = walked(MemoryStore(), policy=NegativeBalancePolicy.CREDIT_NOTE)
    invoice = store.get_invoice("F-2026-000002")  # 708.00, paid 700.00, 8.00 cancelled
    assert invoice.amount_due.is_zero()
    assert amounts(xml_of(store, "F-2026-000002", rules)) == {
        "GrandTotalAmount": ["708.00"],
        "TotalPrepaidAmount": ["708.00"],
        "DuePayableAmount": ["0.00"],
    }
    # J3's, unpaid, 471.35 cancelled by its note: 236.65 due, as dunning claims
    assert amounts(xml_of(store, "F-2026-000003", rules)) == {
        "GrandTotalAmount": ["708.00"],
        "TotalPrepaidAmount": ["471.35"],
        "DuePayableAmount": ["236.65"],
    }


def test_a_note_applied_in_part_xml_owes_the_rest_on_itself(rules: Rules):
    store = walked(MemoryStore(), policy=NegativeBalancePolicy.CREDIT_NOTE)
    assert amounts(xml_of(store, "F-2026-000006", rules)) == {
        "GrandTotalAmount": ["239.67"],
        "TotalPrepaidAmount": ["8.00"],  # cancelled on F-2026-000002
        "DuePayableAmount": ["231.67"],  # refundable on the note
    }
    # the note of a paid invoice (names_only) owes all of it
    assert amounts(xml_of(store, "F-2026-000005", rules)) == {
        "GrandTotalAmount": ["471.35"],
        "TotalPrepaidAmount": [],
        "DuePayableAmount": ["471.35"],
    }


def test_carry_forward_engine_notes_are_e_invoiced_and_owe_nothing_on_themselves(rules: Rules):
    store = walked(MemoryStore())
    xml = xml_of(store, "F-2026-000007", rules)
    assert b"<ram:IssuerAssignedID>F-2026-000003</ram:IssuerAssignedID>" in xml
    # all of it applied to F-2026-000003 (cancelled) or, for J2 and J1, carried to the
    # credit balance: the note itself owes nothing
    for number in ("F-2026-000005", "F-2026-000006", "F-2026-000007"):
        found = amounts(xml_of(store, number, rules))
        assert found["DuePayableAmount"] == ["0.00"]
        assert found["TotalPrepaidAmount"] == found["GrandTotalAmount"]

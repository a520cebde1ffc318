"""An invoice lists its discounts in one order, whatever the process's hash seed.

Review: ``_Run.priced`` walked a set of discount codes, so the same plan billed in two
processes (two workers, two runs) listed ``Invoice.discounts`` in different orders —
different stored documents, PDFs and Factur-X for the same invoice.
"""

from __future__ import annotations

import os
import subprocess
import sys

_BILL = """
from datetime import date
from subbill.billing import ChargePlan, bill_subscription
from subbill.charges import RecurringCharge
from subbill.discounts import Discount, Duration
from subbill.money import Money
plan = ChargePlan(id="S1", customer="C", currency="EUR",
    charges=[RecurringCharge(code="p0", description="P0", unit_price=Money("10", "EUR"),
                             quantity=0, start=date(2026, 5, 6))],
    discounts=[Discount.amount_off("ID0", Money("1", "EUR"), duration=Duration.once()),
               Discount.amount_off("ID1", Money("5", "EUR"), duration=Duration.months(1))])
invoice = bill_subscription(plan, as_of=date(2026, 5, 30)).invoice
print(",".join(d.discount.code for d in invoice.discounts))
"""


def test_an_invoice_lists_its_discounts_in_the_same_order_under_any_hash_seed():
    orders = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _BILL], env=env, capture_output=True, text=True, check=True
        )
        orders.add(done.stdout.strip())
    assert orders == {"ID0,ID1"}  # the plan's order

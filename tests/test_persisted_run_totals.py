"""The persisted run's second pass (issue 13): what the run reuses instead of recomputing.

A finalized invoice keeps the totals the engine wrote on its draft; they are the sums of
its lines, as a fresh invoice of the same fields computes them.
"""

from datetime import timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import bill_subscription
from subbill.invoices import DocumentKind, Invoice, InvoiceStatus
from tests.test_billing import as_of_dates
from tests.test_billing import subscriptions as billing_subscriptions

_TOTALS = ("subtotal", "discount_total", "net", "tax", "total", "amount_paid", "credited")


def _fresh(invoice: Invoice) -> Invoice:
    """The same invoice through its checked constructor: every total computed again."""
    return Invoice(**{field.name: getattr(invoice, field.name) for field in attrs.fields(Invoice)})


@given(billing_subscriptions(), as_of_dates, st.integers(1, 400))
def test_finalized_totals_equal_the_sums_of_the_lines(plan, as_of, days):
    first = bill_subscription(plan, as_of=as_of)
    second = bill_subscription(plan, first.state, as_of=as_of + timedelta(days=days))
    for result in (first, second):
        if result.invoice is None:
            continue
        issued = result.invoice.finalize(number="F-1")
        fresh = _fresh(issued)
        for name in (*_TOTALS, "amount_due", "creditable"):
            got, want = getattr(issued, name), getattr(fresh, name)
            assert (str(got.amount), got.currency) == (str(want.amount), want.currency), name
        # Paid at once when nothing is due, as computed on a fresh draft of the same fields.
        settled = _fresh(result.invoice).amount_due.is_zero()
        paid = settled and issued.kind is DocumentKind.INVOICE
        assert issued.status is (InvoiceStatus.PAID if paid else InvoiceStatus.OPEN)

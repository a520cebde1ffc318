"""The persisted run, third pass (issue 13): from a stored row to the engine's ``ChargePlan``.

What the read side skips or shares is proven equal to the checked path, error for error.
"""

from datetime import date

import pytest

from subbill.billing import BillingState
from subbill.errors import InvalidArgumentError, StoredDataError
from subbill.storage import codec

_TWICE = [["pro@2025-01-15", "2025-02-01"], ["pro@2025-01-15", "2025-03-01"]]


def test_a_state_billing_one_charge_through_two_dates_is_refused():
    with pytest.raises(InvalidArgumentError, match=r"'pro@2025-01-15'.*twice"):
        BillingState(
            billed_through=[
                ("pro@2025-01-15", date(2025, 2, 1)),
                ("pro@2025-01-15", date(2025, 3, 1)),
            ]
        )


def test_a_stored_state_billing_one_charge_through_two_dates_is_a_damaged_row():
    text = codec.document_text({"version": 4, "data": {"billed_through": _TWICE}})
    assert codec._fast_state_read({"billed_through": _TWICE}) is None  # left to the checked read
    with pytest.raises(StoredDataError, match=r"billing_states row 'S1'.*'pro@2025-01-15'.*twice"):
        codec.loads(text, BillingState, table="billing_states", key="S1")

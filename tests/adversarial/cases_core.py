"""Bad inputs to the core value objects (money, calendar, charges)."""

from subbill import Money, RecurringCharge
from subbill.errors import FloatAmountError, InvalidDateError, UnknownCurrencyError
from tests.adversarial import Case

CASES = [
    Case("money-float", lambda: Money(19.99, "EUR"), FloatAmountError),  # type: ignore[arg-type]
    Case("money-unknown-currency", lambda: Money("1", "ZZZ"), UnknownCurrencyError),
    Case(
        "charge-datetime-start",
        lambda: RecurringCharge(
            code="p",
            description="P",
            unit_price=Money("1", "EUR"),
            start="2026-01-01",  # type: ignore[arg-type]
        ),
        InvalidDateError,
    ),
]

__all__ = ["CASES"]

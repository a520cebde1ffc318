"""subbill: everything a subscription business bills, computed exactly.

Exact money (``Decimal`` in one currency, rounded once, to the minor unit), a billing
calendar that never drifts off the 31st, and proration factors that anyone can check.
The core is pure: no clock, no I/O; dates are always passed in.

>>> from datetime import date
>>> first = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1),
...                          frequency=MONTHLY, billing_day=15)[0]
>>> first.factor, prorate(Money("31.00", "EUR"), first.factor)
(Fraction(1, 2), Money('15.50', 'EUR'))
"""

from subbill.errors import (
    CurrencyMismatchError,
    FloatAmountError,
    InvalidAllocationError,
    InvalidAmountError,
    InvalidArgumentError,
    InvalidBillingDayError,
    InvalidDateError,
    InvalidFrequencyError,
    InvalidPeriodError,
    SubbillError,
    UnknownCurrencyError,
)
from subbill.money import Money, currency_precision, is_currency
from subbill.periods import (
    ANNUAL,
    DAILY,
    MONTHLY,
    QUARTERLY,
    SEMIANNUAL,
    WEEKLY,
    BillingSchedule,
    BillingStart,
    Frequency,
    FrequencyUnit,
    Period,
    StartKind,
    add_months,
    days_in_month,
)
from subbill.proration import (
    BillablePeriod,
    BillingTiming,
    ProrationBasis,
    billable_periods,
    credit_unused,
    day_count,
    days360,
    period_factor,
    prorate,
)

__version__ = "0.1.0"

__all__ = [
    "ANNUAL",
    "DAILY",
    "MONTHLY",
    "QUARTERLY",
    "SEMIANNUAL",
    "WEEKLY",
    "BillablePeriod",
    "BillingSchedule",
    "BillingStart",
    "BillingTiming",
    "CurrencyMismatchError",
    "FloatAmountError",
    "Frequency",
    "FrequencyUnit",
    "InvalidAllocationError",
    "InvalidAmountError",
    "InvalidArgumentError",
    "InvalidBillingDayError",
    "InvalidDateError",
    "InvalidFrequencyError",
    "InvalidPeriodError",
    "Money",
    "Period",
    "ProrationBasis",
    "StartKind",
    "SubbillError",
    "UnknownCurrencyError",
    "add_months",
    "billable_periods",
    "credit_unused",
    "currency_precision",
    "day_count",
    "days360",
    "days_in_month",
    "is_currency",
    "period_factor",
    "prorate",
]

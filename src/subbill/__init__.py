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

from subbill.billing import (
    BillingState,
    BillingTerms,
    ChargePlan,
    bill_run,
    bill_subscription,
    record_payment,
)
from subbill.catalog import (
    AddOn,
    Catalog,
    Module,
    Plan,
)
from subbill.charges import (
    OneTimeCharge,
    RecurringCharge,
)
from subbill.decisions import (
    Allowed,
    Refused,
    RefusedError,
)
from subbill.discounts import (
    Discount,
    Duration,
)
from subbill.dunning import (
    DunningEvent,
    DunningPolicy,
    DunningStep,
    dunning_actions,
)
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
    StorageError,
    SubbillError,
)
from subbill.invoices import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
)
from subbill.licenses import (
    LicenseAccount,
    LicenseLedger,
    renew,
)
from subbill.money import (
    Money,
)
from subbill.payments import (
    Card,
    Wallet,
)
from subbill.periods import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    BillingSchedule,
    BillingStart,
    Frequency,
    Period,
)
from subbill.portal import (
    portal_overview,
)
from subbill.proration import (
    ProrationBasis,
    billable_periods,
    prorate,
)
from subbill.quotes import (
    LineItem,
    PaymentLink,
    Quote,
    QuoteStatus,
    checkout,
    purchase,
)
from subbill.renewals import (
    renewal_dashboard,
    renewal_status,
)
from subbill.subscriptions import (
    QuotedLine,
    Subscription,
    SubscriptionStatus,
    can_activate,
    preview_change,
)
from subbill.taxes import (
    TaxRate,
)
from subbill.usage import (
    explain_invoice,
    monthly_review,
)

__all__ = [
    "ANNUAL",
    "MONTHLY",
    "QUARTERLY",
    "AddOn",
    "Allowed",
    "BillingSchedule",
    "BillingStart",
    "BillingState",
    "BillingTerms",
    "Card",
    "Catalog",
    "ChargePlan",
    "Discount",
    "DunningEvent",
    "DunningPolicy",
    "DunningStep",
    "Duration",
    "Frequency",
    "InvalidArgumentError",
    "InvalidStateError",
    "InvalidTypeError",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "LicenseAccount",
    "LicenseLedger",
    "LineItem",
    "Module",
    "Money",
    "OneTimeCharge",
    "OutOfBoundsError",
    "Payment",
    "PaymentLink",
    "Period",
    "Plan",
    "ProrationBasis",
    "Quote",
    "QuoteStatus",
    "QuotedLine",
    "RecurringCharge",
    "Refused",
    "RefusedError",
    "StorageError",
    "SubbillError",
    "Subscription",
    "SubscriptionStatus",
    "TaxRate",
    "Wallet",
    "bill_run",
    "bill_subscription",
    "billable_periods",
    "can_activate",
    "checkout",
    "dunning_actions",
    "explain_invoice",
    "monthly_review",
    "portal_overview",
    "preview_change",
    "prorate",
    "purchase",
    "record_payment",
    "renew",
    "renewal_dashboard",
    "renewal_status",
]

__version__ = "0.1.0"

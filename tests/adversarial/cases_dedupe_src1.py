"""Bad inputs to the checks that issue 12 made shared (calendar, catalog, portal, review, licences).

Each goes through the one check of its rule: ``check_count`` for a billing day, a usage
limit, seats and years; ``check_items`` for the lists of the catalog, the portal and the
monthly review; the frequency table for ``Frequency``'s constructors.
"""

from datetime import date, datetime

from subbill import LicenseAccount, LicenseLedger, Money, renew
from subbill.catalog import Catalog, CatalogError, Plan
from subbill.charges import OneTimeCharge, RecurringCharge
from subbill.errors import (
    InvalidArgumentError,
    InvalidBillingDayError,
    InvalidDateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.periods import MONTHLY, BillingSchedule, Frequency, add_months, schedule_for
from subbill.portal import portal_overview
from subbill.subscriptions import Subscription
from subbill.usage import monthly_review
from tests.adversarial import Case

A = "dedupe-src1-"
_DAY = date(2026, 1, 1)
_ACCOUNT = LicenseAccount(
    customer="ACME", product="TBox", seats=10, start=date(2025, 6, 1), years=1
)
_LEDGER = LicenseLedger().grant("R", "TBox", 50, on=_DAY)
_PLAN = Plan(code="p", name="P", rank=1, prices={MONTHLY: Money("10", "EUR")})
_CATALOG = Catalog(currency="EUR", plans=[_PLAN])
_SUBSCRIPTION = Subscription.create(id="S1", customer="C", catalog=_CATALOG, plan="p", start=_DAY)


def _account(**changes: object) -> LicenseAccount:
    fields = {"customer": "ACME", "product": "TBox", "seats": 2, "start": _DAY, "years": 1}
    return LicenseAccount(**(fields | changes))  # type: ignore[arg-type]


CASES = [
    Case(
        A + "schedule-for-frequency-str",
        lambda: schedule_for(_DAY, "monthly"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        A + "schedule-billing-day-5000-digits",
        lambda: BillingSchedule(anchor=_DAY, frequency=MONTHLY, billing_day=10**5000),
        InvalidBillingDayError,
    ),
    Case(
        A + "schedule-for-billing-day-zero",
        lambda: schedule_for(_DAY, MONTHLY, billing_day=0),
        InvalidBillingDayError,
    ),
    Case(
        A + "add-months-billing-day-bool",
        lambda: add_months(_DAY, 1, billing_day=True),
        InvalidTypeError,  # not a day: a type error (issue 12)
    ),
    Case(A + "frequency-weeks-beyond-ten-years", lambda: Frequency.weeks(523), OutOfBoundsError),
    Case(
        A + "catalog-limit-negative",
        lambda: Catalog(
            currency="EUR", plans=[Plan(code="a", name="A", rank=1, limits={"clients": -5})]
        ),
        CatalogError,
    ),
    Case(
        A + "catalog-from-mapping-limit-text",
        lambda: Catalog.from_mapping(
            {
                "currency": "EUR",
                "plans": [{"code": "a", "name": "A", "rank": 1, "limits": {"clients": "100"}}],
            }
        ),
        CatalogError,
    ),
    Case(A + "catalog-plans-str", lambda: Catalog(currency="EUR", plans="pro"), InvalidTypeError),
    Case(
        A + "portal-invoice-number-not-invoice",
        lambda: portal_overview("C", invoices=["F-1"], as_of=_DAY),  # type: ignore[list-item]
        InvalidTypeError,
    ),
    Case(
        A + "review-payment-method-str",
        lambda: monthly_review(
            _SUBSCRIPTION,
            _CATALOG,
            payment_methods=["pm_1"],
            as_of=_DAY,  # type: ignore[list-item]
        ),
        InvalidTypeError,
    ),
    Case(A + "licence-seats-zero", lambda: _account(seats=0), InvalidArgumentError),
    Case(A + "licence-years-bool", lambda: _account(years=True), InvalidTypeError),
    Case(
        A + "renew-years-zero",
        lambda: renew(_ACCOUNT, years=0, ledger=_LEDGER, pool="R", on=date(2026, 4, 1)),
        InvalidArgumentError,
        unchanged=lambda: _LEDGER.balance("R", "TBox") == 50 and _ACCOUNT.renewed_by is None,
    ),
    Case(
        A + "recurring-charge-reason-newline",
        lambda: RecurringCharge(
            code="p", description="P", unit_price=Money("1", "EUR"), start=_DAY, reason="a\nb"
        ),
        InvalidArgumentError,
    ),
    Case(
        A + "one-time-charge-due-datetime",
        lambda: OneTimeCharge(
            code="p",
            description="P",
            unit_price=Money("1", "EUR"),
            due_on=datetime(2026, 1, 1),  # noqa: DTZ001  (the datetime is the bad input)
        ),
        InvalidDateError,
    ),
]

__all__ = ["CASES"]

"""Bad inputs to renewal status and the renewal dashboard (issue 11, « Renewals »)."""

from datetime import date

from subbill import LicenseAccount, LicenseLedger, renew, renewal_dashboard, renewal_status
from subbill.decisions import RefusedError
from subbill.errors import InvalidArgumentError, InvalidDateError, InvalidTypeError
from tests.adversarial import Case

_ACCOUNT = LicenseAccount(
    customer="ACME", product="TBox", seats=10, start=date(2025, 6, 1), years=1
)
_LEDGER = LicenseLedger().grant("R", "TBox", 50, on=date(2025, 1, 1))
_DONE = renew(_ACCOUNT, years=1, ledger=_LEDGER, pool="R", on=date(2026, 4, 1))

CASES = [
    Case(
        "renewals-status-terms-not-accounts",
        lambda: renewal_status(
            _ACCOUNT,
            as_of=date(2026, 4, 1),
            terms=["ACME"],  # type: ignore[list-item]
        ),
        InvalidTypeError,
    ),
    Case(
        "renewals-status-as-of-text",
        lambda: renewal_status(_ACCOUNT, as_of="2026-04-01"),  # type: ignore[arg-type]
        InvalidDateError,
    ),
    Case(
        "renewals-status-warning-int",
        lambda: renewal_status(_ACCOUNT, as_of=date(2026, 4, 1), warning=3),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "renewals-dashboard-mapping-not-account",
        lambda: renewal_dashboard(
            [_ACCOUNT, {"customer": "B"}],
            as_of=date(2026, 4, 1),  # type: ignore[list-item]
        ),
        InvalidTypeError,
    ),
    Case(
        "renewals-renew-twice",
        lambda: renew(_DONE.renewed, years=1, ledger=_DONE.ledger, pool="R", on=date(2026, 4, 2)),
        RefusedError,
        unchanged=lambda: _DONE.ledger.balance("R", "TBox") == 40,
    ),
    Case(
        "renewals-renew-zero-years",
        lambda: renew(_DONE.new_term, years=0, ledger=_DONE.ledger, pool="R", on=date(2027, 4, 1)),
        InvalidArgumentError,
        unchanged=lambda: _DONE.new_term.renewed_by is None,
    ),
    Case(
        "renewals-renew-seats-float",
        lambda: renew(
            _DONE.new_term,
            years=1,
            seats=2.5,
            ledger=_DONE.ledger,
            pool="R",  # type: ignore[arg-type]
            on=date(2027, 4, 1),
        ),
        InvalidTypeError,
    ),
]

__all__ = ["CASES"]

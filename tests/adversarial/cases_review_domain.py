"""Bad inputs found by a new user's review of the domain modules (issue 12): quotes, hand-made
lines, words, licences, payment methods, customers, decisions and the counts every module
reads. Each raised a raw Python error, or was accepted, before.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from subbill import cli
from subbill.customers import Customer
from subbill.decisions import Refused
from subbill.discounts import Discount, Duration
from subbill.errors import (
    FloatAmountError,
    InvalidArgumentError,
    InvalidDateError,
    InvalidTypeError,
    OutOfBoundsError,
    UnknownLocaleError,
)
from subbill.invoices import Payment, one_time_line
from subbill.l10n import describe_proration, format_period, invoice_text
from subbill.licenses import LicenseAccount, LicenseLedger, renew, renewal_form
from subbill.money import Money
from subbill.payments import Card, Wallet
from subbill.periods import MONTHLY, BillingSchedule, BillingStart, Frequency
from subbill.proration import billable_periods
from subbill.quotes import Quote
from subbill.service import run_billing
from subbill.storage import MemoryStore
from tests.adversarial import Case

DAY = date(2026, 1, 5)
NOON = datetime(2026, 1, 1, 12)  # noqa: DTZ001  (the naive datetime a caller passes)
EUR = Money("50", "EUR")
_ACCOUNT = LicenseAccount(
    customer="ACME", product="TBox", seats=10, start=date(2025, 6, 1), years=1
)
_LEDGER = LicenseLedger().grant("R", "TBox", 50, on=DAY)
(_MARCH,) = billable_periods(date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY)
_WALLET = Wallet(customer="ACME").add(
    Card(id="pm_1", brand="Visa", last4="4242", exp_month=12, exp_year=2030)
)
_STORE = MemoryStore()


def _quote(**fields: object) -> Callable[[], object]:
    base: dict[str, object] = {
        "id": "Q-1",
        "customer": "ACME",
        "currency": "EUR",
        "valid_until": date(2026, 3, 31),
    }
    return lambda: Quote(**(base | fields))  # type: ignore[arg-type]


def _account(**fields: object) -> Callable[[], object]:
    base: dict[str, object] = {
        "customer": "ACME",
        "product": "TBox",
        "seats": 10,
        "start": date(2025, 6, 1),
        "years": 1,
    }
    return lambda: LicenseAccount(**(base | fields))  # type: ignore[arg-type]


class _AccountsFile:
    """An accounts file (made when called) and a database that ``accounts load`` must not make."""

    def __init__(self, account: dict[str, object]) -> None:
        self.account = account
        self.folder = Path()

    def load(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="subbill-review-domain-"))
        path = self.folder / "accounts.json"
        path.write_text(json.dumps({"accounts": [self.account]}), encoding="utf-8")
        argv = ["accounts", "load", str(path), "--db", str(self.folder / "billing.db")]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = cli._execute(cli._parse(argv))
        raise AssertionError(f"subbill {argv} exited with {status}: it must fail")

    def unchanged(self) -> bool:
        try:
            return sorted(p.name for p in self.folder.iterdir()) == ["accounts.json"]
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _accounts_case(id_: str, **fields: object) -> Case:
    account = {"customer": "A", "product": "TBox", "seats": 5, "start": "2025-06-01", "years": 1}
    file = _AccountsFile(account | fields)
    return Case(id_, file.load, cli._CommandError, file.unchanged)


CASES = [
    # 1. a quote's dates and version, checked when it is made
    Case("review-domain-quote-valid-until-datetime", _quote(valid_until=NOON), InvalidDateError),
    Case("review-domain-quote-decided-on-datetime", _quote(decided_on=NOON), InvalidDateError),
    Case("review-domain-quote-version-zero", _quote(version=0), InvalidArgumentError),
    Case("review-domain-quote-version-negative", _quote(version=-5), InvalidArgumentError),
    Case("review-domain-quote-version-str", _quote(version="2"), InvalidTypeError),
    # 2. raw Python errors from bad input
    Case(
        "review-domain-one-time-line-float-price",
        lambda: one_time_line("c", "d", 10.0),  # type: ignore[arg-type]
        FloatAmountError,
    ),
    Case(
        "review-domain-describe-proration-float-price",
        lambda: describe_proration(1.5, _MARCH, locale="fr_FR"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-describe-proration-str-period",
        lambda: describe_proration(EUR, "x", locale="fr_FR"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-invoice-text-str",
        lambda: invoice_text("x", locale="fr_FR"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-format-period-str",
        lambda: format_period("x", locale="fr_FR"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-renew-str-account",
        lambda: renew("x", years=1, ledger=_LEDGER, pool="R", on=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-renewal-form-str-ledger",
        lambda: renewal_form(_ACCOUNT, years=1, ledger="x", pool="R", on=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-nth-str",
        lambda: BillingSchedule(anchor=DAY, frequency=MONTHLY).nth("1"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-wallet-delete-subscriptions-none",
        lambda: _WALLET.delete("pm_1", subscriptions=None, on=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-wallet-delete-no-date",
        lambda: _WALLET.delete("pm_1", subscriptions=()),
        InvalidDateError,
    ),
    # 3. a licence account's seats and years, by hand and through « accounts load »
    Case("review-domain-account-seats-1e20", _account(seats=10**20), OutOfBoundsError),
    Case("review-domain-account-years-900", _account(years=900), OutOfBoundsError),
    Case("review-domain-account-years-100", _account(years=100), OutOfBoundsError),
    _accounts_case("review-domain-accounts-load-seats-1e20", seats=10**20),
    _accounts_case("review-domain-accounts-load-years-900", years=900),
    # 4. a count of the wrong type is a type error
    Case(
        "review-domain-money-split-str",
        lambda: Money("10", "EUR").split("3"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-frequency-months-str",
        lambda: Frequency.months("1"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-duration-months-str",
        lambda: Duration.months("3"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-billing-start-after-days-str",
        lambda: BillingStart.after_days("3"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-renewal-form-years-str",
        lambda: renewal_form(_ACCOUNT, years="1", ledger=_LEDGER, pool="R", on=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-run-billing-batch-size-str",
        lambda: run_billing(_STORE, as_of=DAY, batch_size="10"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "review-domain-payment-float",
        lambda: Payment(amount=10.0, paid_on=DAY),  # type: ignore[arg-type]
        FloatAmountError,
    ),
    Case(
        "review-domain-discount-amount-off-float",
        lambda: Discount.amount_off("x", 5.0),  # type: ignore[arg-type]
        FloatAmountError,
    ),
    # 5. the smaller ones
    Case("review-domain-refused-empty-code", lambda: Refused(code=""), InvalidArgumentError),
    Case(
        "review-domain-customer-locale-xx",
        lambda: Customer(id="C", locale="xx"),
        UnknownLocaleError,
    ),
    Case(
        "review-domain-refused-code-newline",
        lambda: Refused(code="in_use\nTotal: 0"),
        InvalidArgumentError,
    ),
    Case(
        "review-domain-nth-bool",
        lambda: BillingSchedule(anchor=DAY, frequency=MONTHLY).nth(True),  # noqa: FBT003
        InvalidTypeError,
    ),
]

__all__ = ["CASES"]

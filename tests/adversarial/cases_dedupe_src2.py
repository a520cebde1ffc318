"""Bad inputs to what issue 12's clean-up of the duplicates moved (area dedupe-src2).

The card expiry, a line's number of payments, a usage count and the command line's whole
numbers are read by ``_validate.check_count`` (each keeping its error class); a module or an
add-on is switched on and off by one pair of helpers; the words are a data file; the
locale error lives in ``subbill.errors``.
"""

from __future__ import annotations

from datetime import date

from subbill import Money, Subscription, cli
from subbill.decisions import RefusedError
from subbill.errors import (
    InvalidArgumentError,
    InvalidCardError,
    InvalidTypeError,
    UnknownLocaleError,
)
from subbill.l10n import format_frequency, format_money, words_for
from subbill.periods import MONTHLY
from subbill.quotes import LineItem
from tests.adversarial import Case
from tests.seed_catalog import seed_catalog

__all__ = ["CASES"]

CATALOG = seed_catalog()
START = date(2026, 3, 1)
SUBSCRIPTION = Subscription.create(
    id="S1", customer="Boulangerie Martin", catalog=CATALOG, plan="essentiel", start=START
)
WITH_CRM = SUBSCRIPTION.activate("crm", CATALOG, on=START)


def _card(**changes: object) -> object:
    from subbill.payments import Card  # noqa: PLC0415

    fields: dict[str, object] = {
        "id": "pm_1",
        "brand": "Visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
    }
    return Card(**{**fields, **changes})  # type: ignore[arg-type]


def _line(*, payments: object) -> LineItem:
    return LineItem(
        code="seo",
        name="SEO",
        unit_price=Money("300", "EUR"),
        frequency=MONTHLY,
        payments=payments,  # type: ignore[arg-type]
    )


CommandError: type[Exception] = cli._CommandError  # the command line's own typed error


def _renew(*options: str) -> object:
    """``subbill renew`` with a bad whole number: refused as its arguments are read."""
    return cli._parser().parse_args(["renew", "ACME", *options])


CASES = [
    Case("dedupe-src2-card-month-13", lambda: _card(exp_month=13), InvalidCardError),
    Case("dedupe-src2-card-month-zero", lambda: _card(exp_month=0), InvalidCardError),
    Case("dedupe-src2-card-month-bool", lambda: _card(exp_month=True), InvalidTypeError),
    Case("dedupe-src2-card-year-two-digits", lambda: _card(exp_year=30), InvalidCardError),
    Case("dedupe-src2-card-year-text", lambda: _card(exp_year="2030"), InvalidTypeError),
    Case("dedupe-src2-line-payments-zero", lambda: _line(payments=0), InvalidArgumentError),
    Case("dedupe-src2-line-payments-bool", lambda: _line(payments=True), InvalidTypeError),
    Case("dedupe-src2-line-payments-float", lambda: _line(payments=12.0), InvalidTypeError),
    Case(
        "dedupe-src2-usage-negative-count",
        lambda: SUBSCRIPTION.change_plan("pro", CATALOG, on=START, usage={"clients": -1}),
        InvalidTypeError,
    ),
    Case(
        "dedupe-src2-usage-bool-count",
        lambda: SUBSCRIPTION.change_plan("pro", CATALOG, on=START, usage={"clients": True}),
        InvalidTypeError,
    ),
    Case(
        "dedupe-src2-activate-unknown-module",
        lambda: SUBSCRIPTION.activate("nope", CATALOG, on=START),
        RefusedError,
        unchanged=lambda: SUBSCRIPTION.modules == () and SUBSCRIPTION.history == (),
    ),
    Case(
        "dedupe-src2-deactivate-module-not-active",
        lambda: WITH_CRM.deactivate("stock", CATALOG, on=START),
        RefusedError,
        unchanged=lambda: [(span.code, span.end) for span in WITH_CRM.modules] == [("crm", None)],
    ),
    Case(
        "dedupe-src2-remove-addon-not-subscribed",
        lambda: SUBSCRIPTION.remove("multisoc", CATALOG, on=START),
        RefusedError,
    ),
    Case(
        "dedupe-src2-locale-unknown",
        lambda: format_money(Money("1", "EUR"), locale="xx_YY"),
        UnknownLocaleError,
    ),
    Case(
        "dedupe-src2-frequency-locale-none",
        lambda: format_frequency(MONTHLY, locale=None),  # type: ignore[arg-type]
        UnknownLocaleError,
    ),
    Case(
        "dedupe-src2-words-unknown-code",
        lambda: words_for("invoice_status", "lost", locale="fr_FR"),
        InvalidArgumentError,
    ),
    Case("dedupe-src2-cli-years-zero", lambda: _renew("--years", "0"), CommandError),
    Case("dedupe-src2-cli-seats-too-many", lambda: _renew("--seats", "1000001"), CommandError),
]

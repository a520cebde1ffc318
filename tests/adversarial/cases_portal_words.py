"""Bad inputs to the portal and its words: the overview, labels, l10n and ``subbill portal``."""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path

from subbill import cli
from subbill.errors import (
    InvalidArgumentError,
    InvalidDateError,
    InvalidTypeError,
    OutOfBoundsError,
    SubbillError,
)
from subbill.l10n import UnknownLocaleError, label, portal_text, words_for
from subbill.portal import PortalOverview, invoice_label, portal_overview
from subbill.proration import ProrationBasis
from subbill.quotes import Quote
from subbill.storage import MemoryStore
from subbill.subscriptions import Subscription
from tests.adversarial import Case, kept_folder
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
DAY = date(2026, 4, 10)


def _overview(**changes: object) -> object:
    fields: dict[str, object] = {"catalog": CATALOG, "as_of": DAY, **changes}
    customer = fields.pop("customer", "ACME")
    return portal_overview(customer, **fields)  # type: ignore[arg-type]


def _empty_view() -> PortalOverview:
    return PortalOverview(
        customer="ACME",
        as_of=DAY,
        quotes=(),
        orders=(),
        invoices=(),
        subscriptions=(),
        tickets=(),
        payment_methods=(),
    )


@functools.cache
def _store() -> MemoryStore:
    """A store with a catalog, one subscription and one quote of ACME."""
    store = MemoryStore()
    store.save_catalog(CATALOG)
    store.save_subscription(
        Subscription.create(id="A1", customer="ACME", catalog=CATALOG, plan="pro", start=DAY)
    )
    store.save_quote(Quote(id="Q1", customer="ACME", currency="EUR", valid_until=DAY))
    return store


def _store_content() -> tuple[object, ...]:
    store = _store()
    return (
        store.quote_ids(),
        store.subscription_ids(),
        store.invoices(),
        [store.get_subscription(i) for i in store.subscription_ids()],
    )


_BEFORE = _store_content()


def _unchanged_store() -> bool:
    return _store_content() == _BEFORE


def _folder() -> Path:
    return kept_folder("subbill-portal-")


def _run(*argv: str) -> object:
    """Parse and run a command the way ``main`` does, raising its typed error."""
    return cli._execute(cli._parse(list(argv)))


def _database() -> str:
    """A database path where no database is (the commands must not create one)."""
    return str(_folder() / "portal.db")


def _no_database() -> bool:
    return not Path(_database()).exists()


CASES = [
    # the overview
    Case("portal-words-customer-none", lambda: _overview(customer=None), InvalidTypeError),
    Case("portal-words-customer-blank", lambda: _overview(customer="  "), InvalidArgumentError),
    Case(
        "portal-words-customer-newline",
        lambda: _overview(customer="ACME\nTotal: 0.00 EUR"),
        InvalidArgumentError,
    ),
    Case("portal-words-as-of-text", lambda: _overview(as_of="2026-04-10"), InvalidDateError),
    Case(
        "portal-words-as-of-datetime",
        lambda: _overview(as_of=datetime(2026, 4, 10, 12, 0)),  # noqa: DTZ001
        InvalidDateError,
    ),
    Case(
        "portal-words-as-of-year-9999", lambda: _overview(as_of=date(9999, 1, 1)), OutOfBoundsError
    ),
    Case("portal-words-catalog-text", lambda: _overview(catalog="seed"), InvalidTypeError),
    Case("portal-words-quotes-number", lambda: _overview(quotes=5), InvalidTypeError),
    Case("portal-words-quotes-text", lambda: _overview(quotes="Q-1"), InvalidTypeError),
    Case("portal-words-invoices-none-item", lambda: _overview(invoices=[None]), InvalidTypeError),
    Case(
        "portal-words-tickets-mapping",
        lambda: _overview(tickets=[{"reference": "#1"}]),
        InvalidTypeError,
    ),
    Case("portal-words-wallet-text", lambda: _overview(wallet="visa"), InvalidTypeError),
    # invoice labels
    Case(
        "portal-words-label-not-an-invoice",
        lambda: invoice_label(None, as_of=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    # words
    Case(
        "portal-words-text-unknown-locale",
        lambda: portal_text(_empty_view(), locale="xx_YY"),
        UnknownLocaleError,
    ),
    Case(
        "portal-words-text-locale-none",
        lambda: portal_text(_empty_view(), locale=None),
        UnknownLocaleError,
    ),  # type: ignore[arg-type]
    Case(
        "portal-words-text-not-an-overview",
        lambda: portal_text({"customer": "ACME"}, locale="fr_FR"),
        InvalidTypeError,
    ),  # type: ignore[arg-type]
    Case(
        "portal-words-label-shared-code",
        lambda: label("open", locale="fr_FR"),
        InvalidArgumentError,
    ),
    Case(
        "portal-words-label-unknown-code",
        lambda: label("payée", locale="fr_FR"),
        InvalidArgumentError,
    ),
    Case(
        "portal-words-label-enum-never-shown",
        lambda: label(ProrationBasis.NONE, locale="fr_FR"),
        InvalidTypeError,
    ),
    Case(
        "portal-words-words-for-unknown-kind",
        lambda: words_for("ticket", "open", locale="fr_FR"),
        InvalidArgumentError,
    ),
    # the command line
    Case(
        "portal-words-cli-unknown-customer",
        lambda: cli._portal_view(_store(), "ACME SARL", as_of=DAY, db="memory"),
        SubbillError,
        _unchanged_store,
    ),
    Case(
        "portal-words-cli-blank-customer",
        lambda: _run("portal", " ", "--db", _database()),
        SubbillError,
        _no_database,
    ),
    Case(
        "portal-words-cli-bad-as-of",
        lambda: _run("portal", "ACME", "--as-of", "2026-02-30", "--db", _database()),
        SubbillError,
        _no_database,
    ),
    Case(
        "portal-words-cli-bad-locale",
        lambda: _run("portal", "ACME", "--locale", "fr-XX!", "--db", _database()),
        SubbillError,
        _no_database,
    ),
    Case(
        "portal-words-cli-no-database",
        lambda: _run("portal", "ACME", "--as-of", "2026-04-10", "--db", _database()),
        SubbillError,
        _no_database,
    ),
]

__all__ = ["CASES"]

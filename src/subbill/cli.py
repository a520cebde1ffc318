"""The command line: ``subbill catalog load``, ``subbill bill-run``, ``subbill quote`` and more.

This is the edge where subbill meets the outside world, and the only module that reads the
clock: ``--as-of`` defaults to today. It reads JSON or TOML files (``.toml`` by suffix, JSON
otherwise) into the library's value objects, keeps them in a SQLite file (``--db``, default
``subbill.db`` in the current folder) or a PostgreSQL database (``--db postgresql://…``,
with the ``subbill[postgres]`` extra) and prints what the library computes.

Commands::

    subbill demo                                    the French tour of what subbill computes
    subbill catalog load FILE [--db DB]             validate and save the catalog
    subbill subscriptions load FILE [--db DB]       create and save subscriptions
    subbill accounts load FILE [--db DB]            save licence accounts
    subbill customers load FILE [--db DB]           save customer records
    subbill customers set-kind ID KIND [--db DB]    record a customer as a business or a
                                                    consumer (KIND)
    subbill usage load FILE [--any-metric] [--locale L] [--db DB]
                                                    add usage records (JSON or CSV), once each
    subbill bill-run [--as-of DATE] [--batch-size N] [--shard I/N] [--locale L] [--db DB]
                                                    bill every subscription up to a date
    subbill renewals [--as-of DATE] [--locale L] [--db DB]
                                                    the licence renewal dashboard
    subbill quote FILE --paid-on DATE [--horizon DATE] [--locale L]
                  [--purchase --db DB --customer ID --reference REF --payment-method ID]
                                                    what a payment link charges now and later;
                                                    --purchase pays it and stores the purchase
    subbill invoice show NUMBER [--pdf OUT] [--facturx OUT] [--seller FILE] [--buyer FILE]
                  [--profile P] [--force] [--locale L] [--db DB]
                                                    print an invoice; write it as a PDF, or
                                                    as a Factur-X PDF/A-3 (e-invoice)
    subbill portal CUSTOMER [--as-of DATE] [--locale L] [--db DB]
                                                    what the customer portal shows on a date
    subbill dunning [--as-of DATE] [--late-payment-costs] [--policy FILE] [--locale L] [--db DB]
                                                    take and record the payment reminders,
                                                    formal notices and suspensions due
    subbill dunning --to-review [--db DB]           the card retries left to review
    subbill dunning resolve KEY (--charged REF --on DATE | --not-charged) [--db DB]
                                                    record what the processor did with one
    subbill review SUBSCRIPTION --usage USAGE [--as-of DATE] [--locale L] [--db DB]
                                                    the monthly review of a subscription
    subbill ledger load FILE [--db DB]              licence-years: grants, transfers
    subbill renew ACCOUNT [--product P] [--on DATE] [--years N] [--seats N] [--pool NAME]
                  [--early] [--locale L] [--db DB]  renew a licence account from a pool

``--locale`` (default ``en_US``) chooses the language of what is printed: ``fr_FR`` for French.
Every input file's format is documented in ``docs/formats.md``; each ``--help`` that takes a
file says which section.

``renew`` renews the term of the account current on ``--on`` (default today), in one
transaction: both terms and the ledger entry are saved, or nothing. It never renews twice: a
term already renewed is refused (exit 1, nothing changed), and so is a term not due yet
(more than three months before its end) unless ``--early``; ``accounts load`` keeps a
renewal when the file holds the same term.

``usage load`` adds the usage records of a JSON or CSV file to stored subscriptions, each
once: a record stored already (the same subscription, idempotency key and content) is
skipped, so loading a file again adds nothing; it says how many were new. A file with a bad
record, a record of a subscription not stored or of a metric none of its usage charges
measures (unless ``--any-metric``), or a key that names another record (in the file or
stored), adds nothing; every problem is reported at once, one line each.

``invoice show --facturx`` writes the Factur-X document of a finalised invoice or credit note
(a PDF/A-3B with its EN 16931 XML inside). The seller is the business that bills: its legal
name, address and identifiers come from the file ``--seller`` names (``docs/formats.md``,
section seller). The buyer is the invoice's customer as stored in the database, or as
``--buyer`` gives it (the same fields as a customer record); its terms (the late-payment
rate) are the subscription's; a credit note names the stored invoice it corrects.
``--pdf`` prints the same seller (when ``--seller`` is given) and buyer, with the legal
mentions that apply: a consumer's PDF leaves out the penalty rate and the 40 € indemnity,
which only businesses owe each other. A consumer gets this PDF; Factur-X is for businesses.

Data is never destroyed: an output file (``--pdf``, ``--facturx``) that exists is refused unless
``--force``, the database file itself is always refused, and files are written whole or
not at all (a temporary file in the same folder, then renamed over the target).
``dunning`` takes the actions of the standard dunning policy due on ``--as-of`` (reminders
3 days before and 1 and 7 days after the due date, the formal notice and the suspension 15
days after), records each once (running it again the same day records nothing more) and
prints each reminder's text: every action recorded and not printed yet (those of an earlier
run stopped before it printed included), then marks them printed (the store's outbox), so no
action is lost nor printed twice. The command line has no payment processor: it charges no
card and records none of the policy's retries; it lists those due and says so (an
application's ``run_dunning`` with its gateway charges them). ``--policy FILE`` runs the
policy of a JSON or TOML file instead of the standard one. ``--to-review`` lists the card
retries a run left to a person (it may or may not have reached the processor); ``resolve``
records the answer once checked with the processor (charged: the payment, or the customer's
credit when the invoice owes nothing; the same answer twice changes nothing).
``--late-payment-costs`` also issues the French B2B late-payment costs document of each
invoice paid late (numbered in the invoice series, at the penalty rate of its subscription's
terms: ``terms.late_payment_percent`` in the subscriptions file; a business customer's only);
an invoice paid late whose terms state no rate gets the 40 € indemnity alone, and a line
saying so. A customer with no record counts as a business: ``customers set-kind ID
consumer`` records a consumer (the rest of a stored record kept), ``customers load`` whole
records.

``invoice show``, ``renewals`` and ``portal`` open the database read-only: they never wait
for a bill run that holds the write lock.

Every error is one line on stderr, ``subbill: error: …``, never a traceback (a bad input
file gets one such line per problem, ``FILE: path: message``, all of them at once). The exit
status is 2 when the command line or an input file is wrong (including ``NaN`` or an
absurdly deep file), 1 when a well-formed command cannot be carried out (no database, no
catalog, an unknown invoice, a file that exists or cannot be written, a database that is
locked, full or read-only, a bill run that could not bill some subscriptions: one line
each), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import math
import os
import re
import secrets
import sys
import tomllib
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, NoReturn

import attrs
import babel
from tqdm import tqdm

from subbill import __version__, _structure, tour
from subbill._structure import Currency, Positive, Price, Problems, Quantity, Text
from subbill._validate import check_line
from subbill.billing import BillingState, BillingTerms
from subbill.catalog import Catalog
from subbill.customers import Customer, CustomerKind
from subbill.decisions import RefusedError
from subbill.dunning import DunningActionKind, DunningPolicy
from subbill.dunning_service import (
    DunningFailure,
    DunningRunReport,
    resolve_charge_attempt,
    run_dunning,
)
from subbill.errors import InputError, InvalidArgumentError, InvalidStateError, SubbillError
from subbill.invoices import DocumentKind, Invoice
from subbill.l10n import (
    action_text,
    checkout_text,
    count_words,
    dashboard_text,
    format_date,
    format_money,
    invoice_text,
    knows_refusal,
    label,
    phrase,
    portal_text,
    refusal_text,
    renewal_text,
    review_text,
    term_text,
)
from subbill.l10n.dunning import skipped_text
from subbill.licenses import (
    MAX_TERM_YEARS,
    EntryKind,
    LedgerEntry,
    LicenseAccount,
    LicenseLedger,
    renew,
)
from subbill.metering import UsageRecord
from subbill.money import Money
from subbill.parties import Party
from subbill.payments import InvalidCardError, PaymentMethod, payment_method_from_mapping
from subbill.portal import PortalOverview, Ticket, portal_overview
from subbill.quotes import Checkout, PaymentLink, Purchase, Quote, checkout, purchase
from subbill.renewals import renewal_dashboard
from subbill.service import (
    DEFAULT_BATCH_SIZE,
    MAX_BATCH_SIZE,
    BillRunReport,
    run_billing,
    store_purchase,
)
from subbill.storage.errors import StoredDataError
from subbill.storage.protocols import ChargeStatus, Store
from subbill.storage.shards import MAX_SHARDS
from subbill.storage.sqlite import SQLiteStore
from subbill.storage.urls import open_store, sqlite_path
from subbill.subscriptions import Subscription, check_replacement
from subbill.usage import monthly_review

__all__ = [
    "DEFAULT_DB",
    "DEFAULT_LOCALE",
    "FAILURE",
    "FORMATS",
    "INTERRUPTED",
    "MAX_DEPTH",
    "MAX_PROBLEMS",
    "MAX_SEATS",
    "MAX_YEARS",
    "PROG",
    "USAGE_ERROR",
    "main",
]

PROG = "subbill"
DEFAULT_DB = "subbill.db"
DEFAULT_LOCALE = "en_US"

USAGE_ERROR = 2
FAILURE = 1
INTERRUPTED = 130


class _CommandError(SubbillError):
    """A command that cannot go on: the one-line message and the exit status."""

    code = "command_error"

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


def _usage(message: str) -> _CommandError:
    return _CommandError(message, status=USAGE_ERROR)


def _failure(message: str) -> _CommandError:
    return _CommandError(message, status=FAILURE)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, raised rather than printed."""

    def error(self, message: str) -> NoReturn:
        """Raise the usage error; :func:`main` prints it on one line."""
        raise _usage(f"{message} (see '{self.prog} --help')")


# -- reading arguments and files ------------------------------------------------------------


def _date_argument(text: str) -> date:
    try:
        return _structure.read_iso_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date ({error}); expected YYYY-MM-DD"
        ) from None


def _locale_argument(text: str) -> str:
    try:
        babel.Locale.parse(text)
    except (ValueError, TypeError, babel.UnknownLocaleError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a known locale; expected e.g. fr_FR or en_US"
        ) from None
    return text


MAX_DEPTH = 32
"""How deeply objects and lists may nest in an input file (real files need fewer than 8)."""


def _read_data(path: str) -> Any:
    """The content of a JSON or TOML file, as plain data.

    A number with a fraction (``29.9``) is read as what it is in JSON and TOML, a float, so
    that every amount field refuses it: amounts are written as strings (``"29.90"``).
    ``NaN``, ``Infinity``, integers of thousands of digits and files nested deeper than
    :data:`MAX_DEPTH` are refused as usage errors, on one line.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _usage(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise _usage(f"cannot read {path}: {error.strerror or error}") from None
    try:
        if file.suffix.lower() == ".toml":
            data = tomllib.loads(text, parse_float=_finite_float)
        else:
            data = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise _usage(f"{path} is not valid JSON: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise _usage(f"{path} is not valid TOML: {error}") from None
    except RecursionError:
        raise _usage(f"{path} is nested too deeply: at most {MAX_DEPTH} levels") from None
    except ValueError as error:  # NaN, Infinity, an integer of thousands of digits
        raise _usage(f"{path}: {error}") from None
    _check_depth(data, path)
    return data


def _finite_float(text: str) -> float:
    """A number with a fraction, as the float it is: amount fields refuse it, naming it.

    ``nan`` and ``inf`` (TOML, or ``1e999`` in JSON) are refused here.
    """
    value = float(text)
    if not math.isfinite(value):
        _refuse_constant(text)
    return value


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f'{name} is not a number; write amounts as decimals such as "19.99"')


def _check_depth(data: object, path: str) -> None:
    """Refuse objects and lists nested deeper than :data:`MAX_DEPTH` (without recursing)."""
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        children: list[object]
        if isinstance(value, Mapping):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise _usage(f"{path} is nested too deeply: at most {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children)


def _message(error: BaseException, *, locale: str = DEFAULT_LOCALE) -> str:
    if isinstance(error, KeyError) and error.args:
        return f"missing {error.args[0]!r}"
    if isinstance(error, RefusedError) and knows_refusal(error.refusal.code):
        return refusal_text(error.refusal, locale=locale)  # words for people, not codes
    return str(error) or type(error).__name__


@contextmanager
def _reading(where: str) -> Iterator[None]:
    """Turn bad input met while reading ``where`` into a usage error: one line per problem."""
    try:
        yield
    except InputError as error:
        lines = (
            f"{where}: {path}: {message}" if path else f"{where}: {message}"
            for path, message in error.problems
        )
        raise _usage("\n".join(" ".join(line.split()) for line in lines)) from None
    except (SubbillError, KeyError, TypeError, ValueError) as error:
        raise _usage(f"{where}: {_message(error)}") from None


def _subscriptions(entries: Sequence[Mapping[str, Any]], catalog: Catalog) -> list[Subscription]:
    """The subscriptions of a file's entries; every bad entry is reported at once."""
    problems = Problems()
    subscriptions: list[Subscription] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        path = f"subscriptions[{index}]"
        try:
            with problems.at(path):
                subscription = Subscription.from_mapping(entry, catalog=catalog)
                if subscription.id in seen:
                    problems.add(
                        f"{path}.id",
                        f"{subscription.id!r} appears twice in the file "
                        f"(also {seen[subscription.id]})",
                    )
                else:
                    seen[subscription.id] = path
                    subscriptions.append(subscription)
        except RefusedError as error:  # a module the plan does not allow: in words
            problems.add(path, _message(error))
    problems.check()
    return subscriptions


def _accounts(entries: Sequence[Mapping[str, Any]]) -> list[LicenseAccount]:
    """The licence accounts of a file's entries; every bad entry is reported at once."""
    problems = Problems()
    accounts: list[LicenseAccount] = []
    seen: dict[tuple[str, str, object], str] = {}
    for index, entry in enumerate(entries):
        path = f"accounts[{index}]"
        with problems.at(path):
            account = LicenseAccount.from_mapping(entry)
            # The store keeps one account per customer, product and start: a second one in
            # the same file would silently replace the first.
            key = (account.customer, account.product, account.start)
            if key in seen:
                problems.add(
                    path,
                    f"{account.customer!r} already has a {account.product} account starting "
                    f"{account.start.isoformat()} in this file ({seen[key]})",
                )
            else:
                seen[key] = path
                accounts.append(account)
    problems.check()
    return accounts


# -- the database ---------------------------------------------------------------------------


def _is_server(db: str) -> bool:
    """Whether ``--db`` names a PostgreSQL database (a URL) rather than a SQLite file."""
    return db.startswith(("postgresql://", "postgres://"))


@contextmanager
def _store(db: str, *, create: bool = False, read_only: bool = False) -> Iterator[Store]:
    """The store of ``db``; a missing file is refused unless the command may ``create`` it.

    Nor is a schema ever written into an existing file that is not a subbill database (an
    empty file, another SQLite database) by a command that does not create one.
    ``read_only`` opens it for reading only: the command never waits for the write lock.
    A ``postgresql://`` URL opens that database (its schema is created on first use; a
    read needs no lock there).
    """
    if _is_server(db):
        try:
            server = open_store(db)
        except ImportError:
            raise _failure(f"--db {db} needs psycopg 3: pip install 'subbill[postgres]'") from None
        try:
            yield server
        finally:
            server.close()
        return
    if not create and not Path(db).exists():
        raise _failure(
            f"no database at {db}: create it with 'subbill catalog load FILE --db {db}' "
            "(or 'accounts load', or 'quote FILE --purchase'), or point --db at an existing one"
        )
    store = SQLiteStore(db, read_only=read_only, create=create)
    try:
        yield store
    finally:
        store.close()


def _stored_catalog(store: Store, db: str) -> Catalog:
    catalog = store.load_catalog()
    if catalog is None:
        raise _failure(f"no catalog in {db}: load one first with 'subbill catalog load FILE'")
    return catalog


# -- commands -------------------------------------------------------------------------------


def _demo(_args: argparse.Namespace) -> int:
    tour.main()
    return 0


def _check_stored_subscriptions(store: Store, catalog: Catalog, *, source: str) -> None:
    """Refuse a catalog that lacks the plans, modules or add-ons of stored subscriptions."""
    for subscription_id in store.subscription_ids():
        subscription = store.get_subscription(subscription_id)
        if subscription is None:
            continue
        if subscription.currency != catalog.currency:
            raise _usage(
                f"{source}: the catalog is in {catalog.currency}, but stored subscription "
                f"{subscription_id!r} is in {subscription.currency}"
            )
        with _reading(f"{source}: stored subscription {subscription_id!r} needs a code"):
            for span in subscription.plans:
                catalog.plan(span.code)
            for span in subscription.modules:
                catalog.module(span.code)
            for span in subscription.addons:
                catalog.addon(span.code)


def _catalog_load(args: argparse.Namespace) -> int:
    data = _read_data(args.file)
    with _reading(args.file):
        catalog = Catalog.from_mapping(data)
    with _store(args.db, create=True) as store, store.transaction():
        _check_stored_subscriptions(store, catalog, source=args.file)
        repriced = _reprice_stored(store, catalog, effective=args.effective, as_of=args.as_of)
        store.save_catalog(catalog)
    print(
        f"Catalog saved to {args.db}: {len(catalog.plans)} plans, {len(catalog.modules)} "
        f"modules, {len(catalog.addons)} add-ons, in {catalog.currency}."
    )
    if repriced:
        when = (
            "each from its next billing period"
            if args.effective is None
            else f"from {args.effective.isoformat()} (or the end of what each has been billed)"
        )
        print(f"New prices for {repriced} subscriptions, {when}.")
    return 0


def _reprice_stored(store: Store, catalog: Catalog, *, effective: date | None, as_of: date) -> int:
    """Apply a new catalog's prices to the stored subscriptions, never to billed periods.

    Each subscription takes the new prices from ``effective`` (default: its next billing
    period after ``as_of``), and never before what it has been billed through: billed
    periods keep the price they were billed at. Returns how many subscriptions changed.
    """
    previous = store.load_catalog()
    if previous is None:
        return 0
    changed = 0
    for subscription_id in store.subscription_ids():
        subscription = store.get_subscription(subscription_id)
        if subscription is None:
            continue
        state = store.get_billing_state(subscription_id)
        on = effective or subscription.next_period_start(as_of)
        kept = subscription.priced(previous)  # spans stored without a price keep the old one
        if state is not None:
            on = max(on, _billed_until(kept, previous, state))
        repriced = kept.reprice(catalog, on=on)
        if repriced != subscription:
            check_replacement(subscription, repriced, catalog=catalog, state=state)
            store.save_subscription(repriced)
            changed += repriced != kept
    return changed


def _billed_until(subscription: Subscription, catalog: Catalog, state: BillingState) -> date:
    """The end of what ``state`` billed of ``subscription``: in advance, and usage in arrears."""
    ends = [day for _, day in state.billed_through]
    billed: dict[str, date] = {}
    for key, start, _amount in state.usage_billed:
        billed[key] = max(start, billed.get(key, start))
    for usage in subscription.usage_charges(catalog):
        last = billed.get(usage.key)
        if last is not None:
            end = usage.schedule.period_containing(last).end
            ends.append(end if usage.end is None else min(end, usage.end))
    return max(ends, default=subscription.start)


def _subscriptions_load(args: argparse.Namespace) -> int:
    data = _read_data(args.file)
    with _reading(args.file):
        entries = _structure.entries(data, "subscriptions")
    if not _is_server(args.db) and not Path(args.db).exists():
        # Without a catalog there is nothing to subscribe to: do not leave an empty file.
        raise _failure(f"no catalog in {args.db}: load one first with 'subbill catalog load FILE'")
    with _store(args.db) as store:
        catalog = _stored_catalog(store, args.db)
        with _reading(args.file):
            subscriptions = _subscriptions(entries, catalog)
        seen = {subscription.id for subscription in subscriptions}
        existing = set(store.subscription_ids())
        with store.transaction():
            for subscription in subscriptions:
                stored = store.get_subscription(subscription.id)
                if stored is not None:
                    # What was billed is never rewritten: a replacement that would change
                    # it is refused (the message says which change to use instead).
                    state = store.get_billing_state(subscription.id)
                    try:
                        check_replacement(stored, subscription, catalog=catalog, state=state)
                    except InvalidStateError as error:
                        raise _failure(
                            f"{args.file}: {error} (on the command line: leave the "
                            "subscriptions already billed out of the file; new prices come "
                            "with 'subbill catalog load FILE --effective DATE')"
                        ) from None
                store.save_subscription(subscription)
    replaced = len(seen & existing)
    print(
        f"{len(subscriptions)} subscriptions saved to {args.db} "
        f"({len(subscriptions) - replaced} new, {replaced} replaced)."
    )
    return 0


def _accounts_load(args: argparse.Namespace) -> int:
    data = _read_data(args.file)
    with _reading(args.file):
        accounts = _accounts(_structure.entries(data, "accounts"))
    with _store(args.db, create=True) as store, store.transaction():
        renewed = {_account_key(a): a for a in store.license_accounts() if a.renewed_by}
        for account in accounts:
            stored = renewed.get(_account_key(account))
            if stored is None:
                store.save_license_account(account)
            elif attrs.evolve(stored, renewed_by=None) != account:
                raise _failure(
                    f"{args.file}: the {account.product} term of {account.customer!r} starting "
                    f"{account.start.isoformat()} is renewed: a file cannot change it; nothing "
                    "saved"
                )
            # else: the same term, kept with its renewal ('subbill renew' never renews twice)
    print(f"{len(accounts)} licence accounts saved to {args.db}.")
    return 0


# -- customers ------------------------------------------------------------------------------


def _customers(entries: Sequence[Mapping[str, Any]]) -> list[Customer]:
    """The customer records of a file's entries; every bad entry is reported at once."""
    problems = Problems()
    customers: list[Customer] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        path = f"customers[{index}]"
        with problems.at(path):
            customer = _structure.structure(entry, Customer)
            # The store keeps one record per id: a second one in the same file would
            # silently replace the first.
            if customer.id in seen:
                problems.add(path, f"customer {customer.id!r} is given twice ({seen[customer.id]})")
            else:
                seen[customer.id] = path
                customers.append(customer)
    problems.check()
    return customers


def _customers_load(args: argparse.Namespace) -> int:
    """``subbill customers load FILE``: save customer records (each replaces its id's)."""
    data = _read_data(args.file)
    with _reading(args.file):
        customers = _customers(_structure.entries(data, "customers"))
    with _store(args.db, create=True) as store, store.transaction():
        named = _named_customers(store)
        for customer in customers:
            store.save_customer(customer)
    kinds = [customer.kind.value for customer in customers]
    records = "record" if len(customers) == 1 else "records"
    print(
        f"{len(customers)} customer {records} saved to {args.db} ({kinds.count('business')} "
        f"business, {kinds.count('consumer')} consumer)."
    )
    # A mistyped id is saved as a record of its own, and the customer meant stays without
    # one (a business): say so, with the closest id the store names.
    for customer in customers:
        if named and customer.id not in named:
            print(
                f"subbill: warning: no subscription nor invoice in {args.db} names customer "
                f"{customer.id!r} (its record is saved){_close(customer.id, sorted(named), '')}",
                file=sys.stderr,
            )
    return 0


def _named_customers(store: Store) -> frozenset[str]:
    """The customers a subscription or an invoice of ``store`` names."""
    subscriptions = map(store.get_subscription, store.subscription_ids())
    return frozenset(
        (
            *(s.customer for s in subscriptions if s is not None),
            *(invoice.customer for invoice in store.invoices()),
        )
    )


def _customers_set_kind(args: argparse.Namespace) -> int:
    """``subbill customers set-kind ID KIND``: record a customer as a business or a consumer.

    The rest of a stored record is kept; a customer with no record yet (named by a
    subscription or an invoice only) gets one holding its id and kind. A customer that
    nothing in the store names is refused (a typo must not create a record).
    """
    with _reading("ID"):
        check_line("customer", args.customer)
    kind = CustomerKind(args.kind)
    with _store(args.db) as store, store.transaction():
        stored = store.get_customer(args.customer)
        named = _named_customers(store)
        if stored is None and args.customer not in named:
            # every id the command accepts: a record, or a subscription or invoice naming it
            hint = _close(args.customer, sorted(named | set(store.customer_ids())), "")
            raise _failure(
                f"no customer {args.customer!r} in {args.db}: no customer record, subscription "
                f"or invoice names it (nothing saved){hint}"
            )
        record = Customer(id=args.customer) if stored is None else stored
        store.save_customer(attrs.evolve(record, kind=kind))
    costs = (
        "late-payment costs may be claimed from it ('subbill dunning --late-payment-costs')"
        if kind is CustomerKind.BUSINESS
        else "no late-payment costs are claimed from it"
    )
    was = "" if stored is None else f" (was {stored.kind.value})"
    print(f"Customer {args.customer!r} is a {kind.value}{was}: {costs}.")
    return 0


@attrs.frozen(kw_only=True)
class _UsageRecordDocument:
    """The plain-data shape of a usage record in a file (``usage load``)."""

    subscription: Text
    metric: Text
    quantity: Quantity
    used_on: date
    key: Text
    properties: dict[str, Text] | None = None


#: The columns of a usage CSV file: every field of a record; ``properties.NAME`` adds one.
_USAGE_COLUMNS = ("subscription", "metric", "quantity", "used_on", "key")
_PROPERTY_COLUMN = "properties."

MAX_PROBLEMS = 20
"""The most bad records ``usage load`` reports, one line each (then how many more)."""


def _usage_rows(path: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Each record of a usage file as plain data, with where it is (``usage[3]``, ``line 4``).

    A ``.csv`` file is read as CSV (UTF-8, a header line naming the columns), anything else
    as a JSON or TOML document ``{"usage": [...]}``.
    """
    if Path(path).suffix.lower() != ".csv":
        data = _read_data(path)
        with _reading(path):
            entries = _structure.entries(data, "usage")
        return [(f"usage[{index}]", entry) for index, entry in enumerate(entries)]
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is no column
    except UnicodeDecodeError:
        raise _usage(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise _usage(f"cannot read {path}: {error.strerror or error}") from None
    try:
        with _reading(path):
            return _csv_rows(text)
    except csv.Error as error:
        raise _usage(f"{path} is not valid CSV: {error}") from None


def _csv_rows(text: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The records of a usage CSV file's ``text``, each with its line (the header is line 1).

    An empty cell is a field left out (a property without a value is not given).
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = next(reader, None)
    if header is None:
        raise _usage("an empty file; expected a header line " + ",".join(_USAGE_COLUMNS))
    problems = Problems()
    for name in header:
        if name not in _USAGE_COLUMNS and not (
            name.startswith(_PROPERTY_COLUMN) and name[len(_PROPERTY_COLUMN) :].strip()
        ):
            hint = _close(name, _USAGE_COLUMNS, "")
            problems.add("line 1", f"{name!r} is not a column{hint} (or properties.NAME)")
    repeated = sorted({name for name in header if header.count(name) > 1})
    problems.found += [("line 1", f"{name!r} is a column twice") for name in repeated]
    missing = [name for name in _USAGE_COLUMNS if name not in header]
    if missing:
        problems.add("line 1", f"missing the column(s) {', '.join(missing)}")
    problems.check()
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for cells in reader:
        where = f"line {reader.line_num}"
        if not any(cells):
            continue  # a blank line
        if len(cells) != len(header):
            rows.append((where, {"": f"{len(cells)} cells, the header has {len(header)}"}))
            continue
        entry: dict[str, Any] = {}
        properties: dict[str, str] = {}
        for name, cell in zip(header, cells, strict=True):
            if name.startswith(_PROPERTY_COLUMN):
                if cell:
                    properties[name[len(_PROPERTY_COLUMN) :]] = cell
            elif cell:
                entry[name] = cell
        if properties:
            entry["properties"] = properties
        rows.append((where, entry))
    return rows


def _usage_records(
    rows: Sequence[tuple[str, Mapping[str, Any]]], problems: Problems
) -> list[tuple[str, UsageRecord]]:
    """The usage records of a file's rows, each with where it is; each bad one in ``problems``.

    A record given twice counts once; a key of a subscription given for two different
    records is refused at the second.
    """
    records: list[tuple[str, UsageRecord]] = []
    seen: dict[tuple[str, str], tuple[str, UsageRecord]] = {}
    for where, entry in rows:
        if "" in entry:  # a CSV line of the wrong length
            problems.add(where, str(entry[""]))
            continue
        try:
            document = _structure.structure(entry, _UsageRecordDocument)
            record = UsageRecord(
                subscription=document.subscription,
                metric=document.metric,
                quantity=document.quantity,
                used_on=document.used_on,
                key=document.key,
                properties=document.properties or {},
            )
        except InputError as error:
            problems.found += [_at(where, path, message) for path, message in error.problems]
            continue
        except SubbillError as error:
            problems.add(where, str(error))
            continue
        first = seen.setdefault((record.subscription, record.key), (where, record))
        if first[1] != record:
            problems.add(
                where,
                f"key={record.key!r} of subscription {record.subscription!r} is also "
                f"{first[0]}, for another record: a key names one record",
            )
        elif first[0] == where:
            records.append((where, record))
    return records


def _check_problems(problems: Problems) -> None:
    """Raise every problem found (at most a few, then how many more)."""
    if len(problems.found) > MAX_PROBLEMS:
        more = len(problems.found) - MAX_PROBLEMS
        problems.found[MAX_PROBLEMS:] = [("", f"and {more} more problem(s)")]
    problems.check()


def _at(where: str, path: str, message: str) -> tuple[str, str]:
    """A problem of a field of a record: ``usage[3].quantity``, or ``line 4`` + ``quantity: …``."""
    if not where.startswith("line "):  # a record of a document
        return _structure.join_path(where, path), message
    return where, f"{path}: {message}" if path else message


def _check_usage_subscriptions(
    store: Store,
    records: Sequence[tuple[str, UsageRecord]],
    problems: Problems,
    *,
    any_metric: bool,
) -> None:
    """Refuse records the store would never bill, each a problem (a typo is never billed).

    Records of a subscription the store does not hold (one problem naming them); of a
    metric that none of its subscription's usage charges measures, unless ``any_metric``.
    """
    named = list(dict.fromkeys(record.subscription for _, record in records))
    stored = store.billing_versions(named)  # one query per page of ids: which are stored
    if not any_metric:
        catalog = store.load_catalog()
        subscriptions = {key: store.get_subscription(key) for key in named if key in stored}
        for where, record in records:
            subscription = subscriptions.get(record.subscription)
            if subscription is None:
                continue
            try:
                subscription.check_usage_record(record, catalog)
            except InvalidArgumentError as error:
                problems.add(where, f"{error} (--any-metric stores it anyway)")
    unknown = [key for key in named if key not in stored]
    if unknown:
        shown = ", ".join(repr(key) for key in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        problems.add(
            "",
            f"no subscription {shown}{more} in the database: load the subscriptions first "
            "('subbill subscriptions load FILE'); nothing was added",
        )


def _usage_load(args: argparse.Namespace) -> int:
    rows = _usage_rows(args.file)
    problems = Problems()
    found = _usage_records(rows, problems)
    records = [record for _, record in found]
    with _store(args.db) as store:
        # The file's problems and the database's, all in one round, one line each.
        _check_usage_subscriptions(store, found, problems, any_metric=args.any_metric)
        with _reading(args.file):
            _check_problems(problems)
        try:
            with store.transaction():
                new = store.add_usage_records(records)
        except InvalidArgumentError as error:  # a key stored for another record
            raise _failure(f"{args.file}: {error}") from None
    locale = args.locale
    print(
        phrase(
            "usage_load",
            "summary",
            locale=locale,
            db=args.db,
            new=count_words(new, "usage_record_new", "usage_records_new", locale=locale),
            stored=count_words(
                len(records) - new, "usage_record_stored", "usage_records_stored", locale=locale
            ),
        )
    )
    return 0


def _add_usage_command(commands: Any, parents: list[_Parser]) -> None:
    """The ``usage load`` command (issue 15)."""
    usage = commands.add_parser("usage", help="load usage records from a JSON or CSV file")
    verbs = usage.add_subparsers(dest="verb", metavar="VERB", required=True)
    load = verbs.add_parser(
        "load",
        parents=parents,
        help="add usage records of stored subscriptions, each once (by subscription and key)",
    )
    load.add_argument(
        "file", metavar="FILE", help=f"a .json, .toml or .csv file {_see('usage-records')}"
    )
    load.add_argument(
        "--any-metric",
        action="store_true",
        help="store records of metrics that no usage charge of their subscription measures "
        "(by default refused: they would never be billed)",
    )
    load.set_defaults(run=_usage_load)


def _account_key(account: LicenseAccount) -> tuple[str, str, date]:
    return (account.customer, account.product, account.start)


def _progress_bar(total: int) -> tqdm[Any]:
    """A progress bar on stderr, shown only when stderr is a terminal (never in pipes, logs)."""
    stderr = sys.stderr
    is_tty = getattr(stderr, "isatty", None)
    return tqdm(
        total=total,
        desc="bill run",
        unit=" subscriptions",
        file=stderr,
        disable=not (callable(is_tty) and is_tty()),
        leave=False,
    )


def _bill_run(args: argparse.Namespace) -> int:
    # No catalog is needed for subscriptions bought from payment links and quotes; a
    # catalog subscription in a store without one is reported as not billed.
    locale = args.locale
    with _store(args.db) as store, _progress_bar(store.subscription_count()) as bar:

        def progress(done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total=total)
            bar.update(done - bar.n)

        shard, shards = args.shard
        report = run_billing(
            store,
            as_of=args.as_of,
            batch_size=args.batch_size,
            shard=shard,
            shards=shards,
            on_progress=progress,
        )
    print(_bill_run_summary(report, locale=locale))
    for currency in sorted(report.total):
        amount = format_money(report.total[currency], locale=locale)
        print(phrase("bill_run", "total", locale=locale, currency=currency, amount=amount))
    if report.is_complete:
        return 0
    failed = len(report.failures)
    print(count_words(failed, "subscription_not_billed", "subscriptions_not_billed", locale=locale))
    for failure in report.failures:
        _error(
            f"subscription {failure.subscription!r} was not billed: "
            f"{_message(failure.error, locale=locale)}",
            FAILURE,
        )
    return FAILURE


def _documents_created(report: BillRunReport, *, locale: str) -> str:
    """« 2 invoices created », or « 1 invoice and 1 credit note created »."""
    notes = report.credit_note_count
    invoices = report.invoice_count - notes
    if not notes:
        return count_words(invoices, "invoice_created", "invoices_created", locale=locale)
    return phrase(
        "bill_run",
        "with_credit_notes",
        locale=locale,
        invoices=count_words(invoices, "invoice_issued", "invoices_issued", locale=locale),
        credit_notes=count_words(notes, "credit_note_issued", "credit_notes_issued", locale=locale),
    )


def _bill_run_summary(report: BillRunReport, *, locale: str) -> str:
    """The first line of ``subbill bill-run``: what the run looked at and what it created.

    « Bill run as of April 1, 2026: 2 subscriptions looked at, 2 invoices created
    (F-2026-000001 to F-2026-000002). » Every subscription the run looked at is counted,
    billed or not (one with nothing due, or one that could not be billed, too); the numbers
    are the first and last it issued.
    """
    first, last = report.first_number, report.last_number
    if first is None or last is None:
        numbers = ""
    elif first == last:
        numbers = phrase("bill_run", "one_number", locale=locale, first=first)
    else:
        numbers = phrase("bill_run", "numbers", locale=locale, first=first, last=last)
    return phrase(
        "bill_run",
        "summary",
        locale=locale,
        day=format_date(report.as_of, locale=locale),
        subscriptions=count_words(
            report.subscriptions,
            "subscription_looked_at",
            "subscriptions_looked_at",
            locale=locale,
        ),
        invoices=_documents_created(report, locale=locale),
        numbers=numbers,
    )


def _renewals(args: argparse.Namespace) -> int:
    with _store(args.db, read_only=True) as store:
        accounts = store.license_accounts()
    print(dashboard_text(renewal_dashboard(accounts, as_of=args.as_of), locale=args.locale))
    return 0


def _read_offer(file: str) -> PaymentLink | Quote:
    """A payment link, or a quote when the file has a ``valid_until``."""
    data = _read_data(file)
    with _reading(file):
        if isinstance(data, dict) and "valid_until" in data:
            return Quote.from_mapping(data)
        return PaymentLink.from_mapping(data, default_id=Path(file).stem)


def _quote(args: argparse.Namespace) -> int:
    if not args.purchase:
        given = [
            flag
            for flag, value in (
                ("--customer", args.customer),
                ("--reference", args.reference),
                ("--payment-method", args.payment_method or None),
            )
            if value is not None
        ]
        if given:
            raise _failure(
                f"{', '.join(given)} only apply to --purchase: add --purchase to pay the offer "
                "and store it, or leave them out to see the checkout"
            )
    with _reading("--customer"):
        check_line("customer", args.customer, optional=True)
    offer = _read_offer(args.file)
    with _reading(args.file):
        result = checkout(offer, paid_on=args.paid_on, horizon=args.horizon, customer=args.customer)
    # A purchase is checked whole before anything is printed: a refused one prints only
    # its error.
    bought = _bought(offer, args) if args.purchase else None
    _print_checkout(result, args, offer)
    if bought is not None:
        _purchase(bought, args)
    return 0


def _bought(offer: PaymentLink | Quote, args: argparse.Namespace) -> Purchase:
    """The purchase of ``offer`` the command line asks for (not stored yet)."""
    if isinstance(offer, PaymentLink) and args.customer is None:
        raise _failure("--purchase of a payment link needs --customer: who is paying?")
    return purchase(
        offer,
        paid_on=args.paid_on,
        payment_method=args.payment_method,
        reference=args.reference,
        customer=args.customer,
        horizon=args.horizon,
    )


def _purchase(bought: Purchase, args: argparse.Namespace) -> None:
    """Store ``bought`` (once per reference) and print what the store holds."""
    locale = args.locale
    with _store(args.db, create=True) as store:
        receipt = store_purchase(store, bought)
    print()
    if not receipt.created:
        print(phrase("purchase", "stored_already", locale=locale, reference=bought.reference))
    print(phrase("purchase", "order", locale=locale, order=receipt.order.id))
    if receipt.invoice is not None:
        invoice = receipt.invoice
        total = format_money(invoice.total, locale=locale)
        status = label(invoice.status, locale=locale)
        words = phrase(
            "purchase", "invoice", locale=locale, number=invoice.number, total=total, status=status
        )
        print(f"  {words}")
    if receipt.subscription is not None:
        sub = receipt.subscription
        status = label(sub.status(as_of=args.paid_on), locale=locale)
        first = format_date(sub.paid_from, locale=locale)  # a trial's end, when it has one
        words = phrase(
            "purchase",
            "subscription",
            locale=locale,
            subscription=sub.id,
            status=status,
            first=first,
        )
        print(f"  {words}")


def _print_checkout(
    result: Checkout, args: argparse.Namespace, offer: PaymentLink | Quote | None = None
) -> None:
    print(checkout_text(result, locale=args.locale, offer=offer))


def _invoice_show(args: argparse.Namespace) -> int:
    outputs = ((args.pdf, "--pdf"), (args.facturx, "--facturx"))
    if args.facturx is not None and args.seller is None:
        raise _usage(
            "--facturx needs --seller FILE: the legal name, address and SIREN of the "
            f"business that bills {_see('seller')}"
        )
    if args.pdf is not None and args.facturx is not None and Path(args.pdf) == Path(args.facturx):
        raise _usage(f"--pdf and --facturx are the same file {args.pdf}: give two names")
    for path, option in outputs:
        if path is not None:
            _check_output(path, option=option, force=args.force, db=args.db)
    seller = _read_seller(args.seller) if args.seller is not None else None
    given_buyer = _read_buyer(args.buyer) if args.buyer is not None else None
    with _store(args.db, read_only=True) as store:
        invoice = store.get_invoice(args.number)
        if invoice is None:
            raise _failure(f"no invoice {args.number!r} in {args.db}")
        facts = (
            _EInvoiceFacts.of(invoice, store, buyer=given_buyer)
            if seller is not None and args.facturx is not None
            else None
        )
        printed_buyer = given_buyer or store.get_customer(invoice.customer)
        terms = _terms_of(invoice, store)
        # A credit note names the invoice it corrects by its number and date.
        corrected = store.get_invoice(invoice.corrects) if invoice.corrects is not None else None
        # An invoice names the invoices whose periods its credit lines credit, with dates.
        credited = _credited_of(invoice, store)
    text = invoice_text(
        invoice, locale=args.locale, terms=terms, buyer=printed_buyer, corrected=corrected,
        credited=credited,
    )  # fmt: skip
    print(text)
    if args.pdf is not None:
        from subbill.pdf import render_invoice_pdf  # noqa: PLC0415  (fpdf2 only when asked)

        try:
            content = render_invoice_pdf(
                invoice,
                locale=args.locale,
                seller=seller,
                buyer=printed_buyer,
                terms=terms,
                corrected=corrected,
                credited=credited,
            )
        except ImportError as error:
            raise _failure(str(error)) from None
        _write_output(args.pdf, content, option="--pdf", force=args.force, db=args.db)
        print()
        print(f"PDF written to {args.pdf}")
    if seller is not None and facts is not None:
        _write_facturx(invoice, args, seller=seller, facts=facts)
    return 0


@attrs.frozen(kw_only=True)
class _EInvoiceFacts:
    """What an e-invoice needs besides the invoice, read from the store (or ``--buyer``)."""

    buyer: Customer
    terms: BillingTerms | None
    corrected: Invoice | None
    credited: tuple[Invoice, ...] = ()

    @classmethod
    def of(cls, invoice: Invoice, store: Store, *, buyer: Customer | None) -> _EInvoiceFacts:
        if buyer is None:
            buyer = store.get_customer(invoice.customer)
            if buyer is None:
                raise _failure(
                    f"customer {invoice.customer!r} has no record in the database: give its "
                    "legal name, address and SIREN with --buyer FILE "
                    f"{_see('customer')}"
                )
        corrected = None
        if invoice.kind is DocumentKind.CREDIT_NOTE and invoice.corrects is not None:
            corrected = store.get_invoice(invoice.corrects)
            if corrected is None:
                raise _failure(
                    f"credit note {invoice.number} corrects {invoice.corrects}, which is not "
                    "in the database"
                )
        return cls(
            buyer=buyer,
            terms=_terms_of(invoice, store),
            corrected=corrected,
            credited=_credited_of(invoice, store),
        )


def _credited_of(invoice: Invoice, store: Store) -> tuple[Invoice, ...]:
    """The stored invoices whose periods ``invoice``'s credit lines credit (for their dates)."""
    found = (store.get_invoice(number) for number in invoice.credits_periods_of)
    return tuple(earlier for earlier in found if earlier is not None)


def _terms_of(invoice: Invoice, store: Store) -> BillingTerms | None:
    """The billing terms of the subscription ``invoice`` bills, when it bills a stored one."""
    subscription = store.get_subscription(invoice.subscription) if invoice.subscription else None
    return None if subscription is None else subscription.terms


def _write_facturx(
    invoice: Invoice, args: argparse.Namespace, *, seller: Party, facts: _EInvoiceFacts
) -> None:
    """Write the Factur-X PDF of ``invoice`` to ``--facturx``: whole, or nothing."""
    try:
        from subbill.einvoice import facturx_pdf  # noqa: PLC0415  (factur-x only when asked)

        content = facturx_pdf(
            invoice,
            seller=seller,
            buyer=facts.buyer,
            locale=args.locale,
            profile=args.profile,
            terms=facts.terms,
            corrected=facts.corrected,
            credited=facts.credited,
        )
    except ImportError as error:
        raise _failure(f"{error}; pip install 'subbill[facturx]'") from None
    except SubbillError as error:
        raise _failure(f"invoice {invoice.number} cannot be a Factur-X document: {error}") from None
    _write_output(args.facturx, content, option="--facturx", force=args.force, db=args.db)
    print()
    print(f"Factur-X PDF written to {args.facturx}")


@attrs.frozen(kw_only=True)
class _CapitalDocument:
    amount: Price
    currency: Currency = "EUR"  # type: ignore[assignment]  # a NewType of str


@attrs.frozen(kw_only=True)
class _SellerDocument:
    """The ``--seller`` file: the fields of :class:`subbill.parties.Party`."""

    legal_name: Text
    legal_form: Text | None = None
    share_capital: _CapitalDocument | None = None
    address: tuple[Text, ...] = ()
    postcode: Text | None = None
    city: Text | None = None
    country: Text = "FR"  # type: ignore[assignment]  # a NewType of str
    siren: Text | None = None
    siret: Text | None = None
    rcs_city: Text | None = None
    vat_number: Text | None = None
    tax_registration: Text | None = None
    einvoicing_address: Text | None = None
    einvoicing_scheme: Text | None = None
    vat_on_debits: bool = False


def _read_seller(file: str) -> Party:
    """The seller's party from a JSON or TOML file; a bad field is a usage error naming it."""
    data = _read_data(file)
    if isinstance(data, dict) and set(data) == {"seller"}:
        data = data["seller"]  # a file that holds a [seller] table
    with _reading(file):
        document = _structure.structure(data, _SellerDocument)
        fields = attrs.asdict(document, recurse=False)
        capital = document.share_capital
        fields["share_capital"] = (
            None if capital is None else Money(capital.amount, capital.currency)
        )
        return Party(**fields)


def _read_buyer(file: str) -> Customer:
    """The buyer's customer record from a JSON or TOML file (the fields of ``Customer``)."""
    data = _read_data(file)
    with _reading(file):
        return _structure.structure(data, Customer)


# -- the customer portal ------------------------------------------------------------------------


def _portal_view(
    store: Store,
    customer: str,
    *,
    as_of: date,
    db: str,
    policy: DunningPolicy | None = None,
) -> PortalOverview:
    """What the portal shows ``customer`` on ``as_of``, gathered from what ``store`` holds.

    One statement per section of the portal; support tickets are not stored (yet). A
    customer that nothing in the store names is refused (a typo must not print an empty
    portal). No catalog is needed for subscriptions bought from payment links and quotes.
    """
    quotes = [
        quote
        for quote in map(store.get_quote, store.quote_ids())
        if quote is not None and quote.customer == customer
    ]
    invoices = [invoice for invoice in store.invoices() if invoice.customer == customer]
    subscriptions = [
        subscription
        for subscription in map(store.get_subscription, store.subscription_ids())
        if subscription is not None and subscription.customer == customer
    ]
    orders = store.orders(customer=customer)
    tickets: list[Ticket] = []  # not stored (yet)
    wallet = store.get_wallet(customer)
    known = store.get_customer(customer) is not None
    if not (known or quotes or invoices or subscriptions or orders or tickets or wallet):
        # the closest of the customers the store names (records, subscriptions, invoices)
        named = _named_customers(store) | set(store.customer_ids())
        hint = _close(customer, sorted(named), "")
        raise _failure(
            f"no customer {customer!r} in {db}: no customer record, quote, order, invoice, "
            f"subscription or wallet names it{hint}"
        )
    catalog = store.load_catalog()
    if catalog is None and any(s.plans for s in subscriptions):
        raise _failure(f"no catalog in {db}: load one first with 'subbill catalog load FILE'")
    # What dunning did (a suspension, the steps taken) and the policy's next step (the
    # policy the dunning runs use: ``--policy``, else the standard one).
    numbers = {invoice.number for invoice in invoices}
    history = [event for event in store.dunning_events() if event.invoice in numbers]
    return portal_overview(
        customer,
        catalog=catalog,
        quotes=quotes,
        orders=orders,
        invoices=invoices,
        subscriptions=subscriptions,
        tickets=tickets,
        wallet=wallet,
        as_of=as_of,
        dunning_policy=policy or DunningPolicy.standard(),
        dunning=history,
    )


# -- dunning (issue 17) -------------------------------------------------------------------------


def _dunning_policy(file: str | None, *, late_payment_costs: bool = False) -> DunningPolicy:
    """The policy of ``--policy FILE`` (JSON or TOML), else the standard one."""
    if file is None:
        return DunningPolicy.standard(late_payment_costs=late_payment_costs)
    data = _read_data(file)
    with _reading(file):
        policy = DunningPolicy.from_mapping(data)
    if late_payment_costs and not policy.late_payment_costs:
        policy = attrs.evolve(policy, late_payment_costs=True)
    return policy


def _dunning(args: argparse.Namespace) -> int:
    if getattr(args, "dunning_command", None) == "resolve":
        return _dunning_resolve(args)
    if args.to_review:
        return _dunning_to_review(args)
    policy = _dunning_policy(args.policy, late_payment_costs=args.late_payment_costs)
    with _store(args.db) as store:
        report = run_dunning(store, as_of=args.as_of, policy=policy)
        # Under a policy with late-payment costs, the formal notice states those of the
        # subscription's terms (its rate, or the indemnity alone when the terms set none),
        # to a business customer only.
        terms: dict[str, BillingTerms | None] = {}
        failures = list(report.failures)
        unreadable: set[str] = set()  # their actions wait in the outbox, unprinted
        owners = {a.subscription for a in report.unsent if a.subscription is not None}
        for owner in owners if policy.late_payment_costs else ():
            try:
                subscription = store.get_subscription(owner)
            except StoredDataError as error:
                unreadable.add(owner)
                if all(failure.subscription != owner for failure in failures):
                    held = tuple(a.invoice for a in report.unsent if a.subscription == owner)
                    failures.append(DunningFailure(subscription=owner, invoices=held, error=error))
                continue
            terms[owner] = None if subscription is None else subscription.terms
        if unreadable:
            report = attrs.evolve(
                report, unsent=tuple(a for a in report.unsent if a.subscription not in unreadable)
            )
        buyers = {
            a.customer: store.get_customer(a.customer)
            for a in (report.unsent if policy.late_payment_costs else ())
        }
        # The outbox: every action recorded and not printed yet (a run stopped before it
        # printed included) is printed, then acknowledged — never lost, never printed again.
        print(_dunning_text(report, terms, buyers, policy=policy, locale=args.locale), flush=True)
        store.acknowledge_dunning([action.key for action in report.unsent])
    for failure in failures:  # a damaged row fails its own invoices' steps only
        _error(
            f"subscription {failure.subscription!r}: the dunning steps of "
            f"{', '.join(failure.invoices) or 'its invoices'} were not taken: "
            f"{_message(failure.error, locale=args.locale)}",
            FAILURE,
        )
    return FAILURE if failures else 0


def _dunning_text(
    report: DunningRunReport,
    terms: Mapping[str, BillingTerms | None],
    buyers: Mapping[str, Customer | None],
    *,
    policy: DunningPolicy,
    locale: str,
) -> str:
    """What ``subbill dunning`` prints: the summary, then each action and its text.

    A step skipped is named by what it does and its day under ``policy`` (the run's).
    """
    lines = [
        phrase(
            "dunning_run",
            "summary",
            locale=locale,
            day=format_date(report.as_of, locale=locale),
            actions=count_words(
                len(report.unsent), "dunning_action", "dunning_actions", locale=locale
            ),
        )
    ]
    for action in report.unsent:
        kind = next(
            (k for k in action.actions if k is DunningActionKind.FORMAL_NOTICE), action.actions[0]
        )
        lines += [
            "",
            phrase(
                "dunning_run",
                "action",
                locale=locale,
                invoice=action.invoice,
                customer=action.customer,
                step=label(kind, locale=locale),
            ),
        ]
        if action.skipped:
            lines.append(skipped_text(action, policy=policy, locale=locale))
        owner = None if action.subscription is None else terms.get(action.subscription)
        buyer = buyers.get(action.customer)
        lines.append(action_text(action, locale=locale, terms=owner, buyer=buyer))
    for document in report.documents:
        # its lines name the late invoice (a costs document is of one late invoice)
        late = next((line.description for line in document.lines), "…")
        lines += [
            "",
            phrase(
                "dunning_run",
                "document",
                locale=locale,
                number=document.number,
                customer=document.customer,
                invoice=late,
                amount=format_money(document.total, locale=locale),
            ),
        ]
    for number in report.without_rate:
        lines += ["", phrase("dunning_run", "no_rate", locale=locale, invoice=number)]
    if report.retries_due:
        lines.append("")
        lines += [
            phrase(
                "dunning_run",
                "retry_due",
                locale=locale,
                invoice=action.invoice,
                customer=action.customer,
                attempt=action.attempt,
                amount=format_money(action.amount_due, locale=locale),
            )
            for action in report.retries_due
        ]
        lines.append(phrase("dunning_run", "no_gateway", locale=locale))
    return "\n".join(lines)


def _dunning_to_review(args: argparse.Namespace) -> int:
    """``subbill dunning --to-review``: the card retries left for a person to check."""
    locale = args.locale
    with _store(args.db, read_only=True) as store:
        attempts = store.charge_attempts(status=ChargeStatus.TO_REVIEW)
    lines = [phrase("dunning_run", "to_review_summary", locale=locale, count=len(attempts))]
    lines += [
        phrase(
            "dunning_run",
            "to_review",
            locale=locale,
            key=attempt.key,
            invoice=attempt.invoice,
            amount=format_money(attempt.amount, locale=locale),
            day=format_date(attempt.on, locale=locale),
            reason=_review_reason(attempt.reason, locale),
        )
        for attempt in attempts
    ]
    if attempts:
        lines.append(phrase("dunning_run", "to_review_hint", locale=locale))
    print("\n".join(lines))
    return 0


#: The words of each reason ``run_dunning`` gives an attempt it leaves to review.
_REVIEW_REASONS = {
    "invoice_paid_meanwhile": "reason_invoice_paid_meanwhile",
    "invoice_no_longer_due_not_sent": "reason_invoice_no_longer_due_not_sent",
}


def _review_reason(reason: str | None, locale: str) -> str:
    """Why an attempt is to review, in words (a reason code subbill does not know: as is)."""
    code = _REVIEW_REASONS.get(reason or "")
    return reason or "" if code is None else phrase("dunning_run", code, locale=locale)


def _dunning_resolve(args: argparse.Namespace) -> int:
    """``subbill dunning resolve KEY``: record what the processor did with an attempt."""
    charged = args.charged is not None
    if charged and args.charged_on is None:
        raise _usage("dunning resolve: --charged REFERENCE needs --on DATE, the day of the charge")
    if not charged and args.charged_on is not None:
        raise _usage("dunning resolve: --on DATE goes with --charged REFERENCE only")
    with _reading("KEY"):
        check_line("key", args.key)
    with _store(args.db) as store:
        before = store.charge_attempt(args.key)
        if before is None:  # said the command line's way (the library's names its own call)
            keys = [a.key for a in store.charge_attempts(status=ChargeStatus.TO_REVIEW)]
            hint = _close(args.key, keys, "; no attempt is to review")
            raise _failure(
                f"no charge attempt {args.key!r} in {args.db}{hint} ('subbill dunning "
                "--to-review' lists the attempts to review with their keys)"
            )
        owed = store.get_invoice(before.invoice)
        attempt = resolve_charge_attempt(
            store, args.key, charged=charged, reference=args.charged, on=args.charged_on
        )
        invoice = store.get_invoice(attempt.invoice)
    words: dict[str, object] = {"key": attempt.key, "invoice": attempt.invoice}
    if charged:
        assert args.charged_on is not None  # noqa: S101  (checked above)
        due = Money.zero(attempt.amount.currency) if invoice is None else invoice.amount_due
        words |= {
            "reference": attempt.reference,
            "day": format_date(args.charged_on, locale=args.locale),
            "due": format_money(due, locale=args.locale),
        }
    code = "resolved_charged" if charged else "resolved_not_charged"
    lines = [phrase("dunning_run", code, locale=args.locale, **words)]
    # What the invoice did not owe any more went to the subscription's credit balance.
    if charged and before != attempt and owed is not None:
        credit = attempt.amount - min(attempt.amount, owed.amount_due)
        if credit.is_positive() and owed.subscription is not None:
            lines.append(
                phrase(
                    "dunning_run",
                    "resolved_credit",
                    locale=args.locale,
                    credit=format_money(credit, locale=args.locale),
                    subscription=owed.subscription,
                    invoice=attempt.invoice,
                )
            )
    print("\n".join(lines))
    return 0


def _add_customers_command(commands: argparse._SubParsersAction[_Parser], db: _Parser) -> None:
    """``subbill customers load FILE`` and ``subbill customers set-kind ID KIND``."""
    customers = commands.add_parser(
        "customers",
        help="save customer records, or record a customer's kind (business or consumer)",
    )
    verbs = customers.add_subparsers(dest="verb", metavar="VERB", required=True)
    load = verbs.add_parser(
        "load",
        parents=[db],
        help='load {"customers": [...]}: customer records (each replaces the record of its id)',
    )
    load.add_argument("file", metavar="FILE", help=f"a .json or .toml file {_see('customer')}")
    load.set_defaults(run=_customers_load)
    set_kind = verbs.add_parser(
        "set-kind",
        parents=[db],
        help="record a customer as a business or a consumer ('dunning --late-payment-costs' "
        "claims costs from businesses only; a customer with no record counts as a business)",
    )
    set_kind.add_argument(
        "customer", metavar="ID", help="the customer, as named on its subscriptions and invoices"
    )
    set_kind.add_argument(
        "kind",
        metavar="KIND",
        choices=[kind.value for kind in CustomerKind],
        help="business or consumer",
    )
    set_kind.set_defaults(run=_customers_set_kind)


def _add_dunning_command(
    commands: argparse._SubParsersAction[_Parser], parents: Sequence[_Parser]
) -> None:
    """``subbill dunning``: take and record the dunning actions due on ``--as-of``."""
    dunning = commands.add_parser(
        "dunning",
        parents=list(parents),
        help="take and record the payment reminders, formal notices and suspensions due, and "
        "print every one recorded and not printed yet (an earlier run's stopped before "
        "printing included)",
    )
    dunning.add_argument(
        "--late-payment-costs",
        action="store_true",
        help="also issue the late-payment costs document of each invoice paid late (French "
        "B2B: the 40 EUR indemnity and the penalties at the rate of the subscription's terms, "
        "terms.late_payment_percent in the subscriptions file; an invoice whose terms state "
        "no rate is claimed the indemnity alone, and listed); business customers only: a "
        "customer with no record counts as one, record consumers first with 'subbill "
        "customers set-kind ID consumer'",
    )
    dunning.add_argument(
        "--policy",
        metavar="FILE",
        default=None,
        help="the dunning policy, a JSON or TOML file: steps with their days and actions, "
        "retry_days, late_payment_costs (default: the standard policy) (format: see "
        "docs/formats.md#dunning-policy)",
    )
    dunning.add_argument(
        "--to-review",
        action="store_true",
        help="list the card retries left to review (a person checks them with the payment "
        "processor, then answers with 'subbill dunning resolve'); runs nothing",
    )
    dunning.set_defaults(run=_dunning)
    runs = _usage_of(dunning)  # the run's usage, before the optional 'resolve' joins it
    verbs = dunning.add_subparsers(
        dest="dunning_command", metavar="resolve", required=False, title="optional command"
    )
    resolve = verbs.add_parser(
        "resolve",
        parents=[parents[-2], parents[-1]],  # --locale, --db
        help="record what the payment processor did with a card retry left to review",
    )
    resolve.add_argument("key", metavar="KEY", help="the attempt's key, dunning:INVOICE:retry:N")
    answer = resolve.add_mutually_exclusive_group(required=True)
    answer.add_argument(
        "--charged",
        metavar="REFERENCE",
        default=None,
        help="the processor charged the card: its reference of the charge (with --on)",
    )
    answer.add_argument(
        "--not-charged",
        action="store_true",
        help="the processor did not charge the card",
    )
    resolve.add_argument(
        "--on",
        dest="charged_on",
        type=_date_argument,
        default=None,
        metavar="DATE",
        help="the day the card was charged, YYYY-MM-DD (with --charged)",
    )
    resolve.set_defaults(run=_dunning)
    # Two forms, each with what it takes: the run (everything optional), or 'resolve'. The
    # usage argparse writes would put 'resolve ...' after the run's options, as if required.
    dunning.usage = f"{runs}\n       {_usage_of(resolve)}"


def _usage_of(parser: _Parser) -> str:
    """``parser``'s usage as argparse writes it, without ``usage: `` (lines aligned after it)."""
    return parser.format_usage().removeprefix("usage: ").rstrip("\n")


def _portal(args: argparse.Namespace) -> int:
    with _reading("CUSTOMER"):
        check_line("customer", args.customer)
    policy = _dunning_policy(args.policy)
    with _store(args.db, read_only=True) as store:
        overview = _portal_view(store, args.customer, as_of=args.as_of, db=args.db, policy=policy)
    print(portal_text(overview, locale=args.locale))
    return 0


def _add_portal_command(
    commands: argparse._SubParsersAction[_Parser], parents: Sequence[_Parser]
) -> None:
    """``subbill portal CUSTOMER``: what the customer portal shows on ``--as-of``."""
    portal = commands.add_parser(
        "portal",
        parents=list(parents),
        help="what the customer portal shows: quotes, invoices, subscriptions",
    )
    portal.add_argument(
        "customer", metavar="CUSTOMER", help="the customer, as named on its quotes and invoices"
    )
    portal.add_argument(
        "--policy",
        metavar="FILE",
        default=None,
        help="the dunning policy whose next step the overdue list shows, the file 'subbill "
        "dunning --policy' runs with (default: the standard policy) (format: see "
        "docs/formats.md#dunning-policy)",
    )
    portal.set_defaults(run=_portal)


# -- the monthly review, licence renewals and the ledger (issue 11) -----------------------------

FORMATS = "docs/formats.md"
"""Where every input file format is documented; each ``--help`` that takes a file points there."""


def _see(anchor: str) -> str:
    """`` (format: see docs/formats.md#anchor)``, the end of a file argument's help."""
    return f"(format: see {FORMATS}#{anchor})"


@attrs.frozen(kw_only=True)
class _UsageDocument:
    """The plain-data shape of a usage file (``review --usage``): one month of use."""

    resources: dict[str, int]
    modules: dict[str, int]
    subscription: Text | None = None
    payment_methods: tuple[dict[str, Any], ...] | None = None


@attrs.frozen(kw_only=True)
class _Usage:
    """A usage file, read and checked against the catalog."""

    resources: dict[str, int]
    modules: dict[str, int]
    payment_methods: tuple[PaymentMethod, ...] | None


def _close(word: str, known: Sequence[str], none: str = "; the catalog has none") -> str:
    close = difflib.get_close_matches(word, sorted(known), n=1)
    if close:
        return f", did you mean {close[0]!r}?"
    return f"; expected one of {', '.join(sorted(known))}" if known else none


def _counts(
    counts: Mapping[str, int],
    name: str,
    known: Sequence[str],
    problems: Problems,
    *,
    none: str = "; the catalog has none",
) -> None:
    """Each count an ``int >= 0`` named by ``known`` (resources or modules of the catalog).

    ``none`` ends the message of an unknown name when nothing is known.
    """
    what = "a module of the catalog"
    if name == "resources":
        what = "a resource a plan of the catalog limits"
    for key, count in counts.items():
        path = _structure.key_path(name, key)
        if key not in known:
            problems.add(path, f"{key!r} is not {what}{_close(key, known, none)}")
        if count < 0:
            problems.add(path, f"{count} must be an int >= 0")


def _usage_file(data: object, *, subscription: str, catalog: Catalog | None) -> _Usage:
    """The usage of ``subscription`` in a usage file; every bad field is reported at once.

    Without a catalog (a subscription of quoted lines has no plan, so no limits nor
    modules) any resource or module named is unknown.
    """
    document = _structure.structure(data, _UsageDocument)
    problems = Problems()
    if document.subscription is not None and document.subscription != subscription:
        problems.add(
            "subscription",
            f"{document.subscription!r} is not the subscription reviewed ({subscription!r})",
        )
    plans = catalog.plans if catalog is not None else ()
    resources = sorted({name for plan in plans for name, _ in plan.limits})
    modules = [module.code for module in catalog.modules] if catalog is not None else []
    if catalog is None:  # quoted lines only: the stored catalog, if any, does not apply
        planless = f"; subscription {subscription!r} has no plan (quoted lines only), so no"
        _counts(document.resources, "resources", [], problems, none=f"{planless} limits apply")
        _counts(document.modules, "modules", [], problems, none=f"{planless} modules apply")
    else:
        _counts(document.resources, "resources", resources, problems)
        _counts(document.modules, "modules", modules, problems)
    methods: list[PaymentMethod] = []
    for index, entry in enumerate(document.payment_methods or ()):
        with problems.at(f"payment_methods[{index}]"):
            try:
                methods.append(payment_method_from_mapping(entry))
            except InvalidCardError as error:  # a bad expiry or last4: a bad field like others
                problems.add(f"payment_methods[{index}]", str(error))
    ids = [method.id for method in methods]
    for index, method in enumerate(methods):
        if method.id in ids[:index]:
            problems.add(f"payment_methods[{index}].id", f"{method.id!r} appears twice")
    problems.check()
    return _Usage(
        resources=dict(document.resources),
        modules=dict(document.modules),
        payment_methods=None if document.payment_methods is None else tuple(methods),
    )


def _review(args: argparse.Namespace) -> int:
    data = _read_data(args.usage)
    with _store(args.db, read_only=True) as store:
        subscription = store.get_subscription(args.subscription)
        if subscription is None:
            known = store.subscription_ids()
            hint = _close(args.subscription, known) if known else "; none is stored"
            raise _failure(f"no subscription {args.subscription!r} in {args.db}{hint}")
        # A subscription of quoted lines (bought from a link or quote) needs no catalog.
        catalog = _stored_catalog(store, args.db) if subscription.plans else None
        if args.as_of < subscription.start:
            raise _failure(
                f"subscription {subscription.id!r} starts on {subscription.start.isoformat()}: "
                f"there is nothing to review on {args.as_of.isoformat()}"
            )
        with _reading(args.usage):
            usage = _usage_file(data, subscription=subscription.id, catalog=catalog)
        invoices = store.invoices(subscription=subscription.id)
        if usage.payment_methods is None:  # not in the file: the customer's stored wallet
            wallet = store.get_wallet(subscription.customer)
            if wallet is not None:
                usage = attrs.evolve(usage, payment_methods=wallet.methods)
    findings = monthly_review(
        subscription,
        catalog,
        usage=usage.resources,
        module_usage=usage.modules,
        invoices=invoices,
        payment_methods=usage.payment_methods,  # None: not known, named "not checked"
        as_of=args.as_of,
    )
    print(
        review_text(
            findings,
            subscription=subscription.id,
            customer=subscription.customer,
            as_of=args.as_of,
            locale=args.locale,
        )
    )
    return 0


def _licences(value: Fraction) -> str:
    """A number of licence-years: ``24``, or ``366/365`` when not whole."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


def _account_to_renew(
    accounts: Sequence[LicenseAccount], args: argparse.Namespace
) -> LicenseAccount:
    """The stored term ``renew`` renews: the current term of the customer's chain on ``--on``.

    Refused (one line, nothing changed): an unknown customer, a customer with several products
    and no ``--product``, several chains of one product, and a term already renewed — a
    second identical ``renew`` never renews twice.
    """
    mine = [account for account in accounts if account.customer == args.customer]
    if not mine:
        customers = sorted({account.customer for account in accounts})
        hint = _close(args.customer, customers) if customers else "; none is stored"
        raise _failure(f"no licence account for {args.customer!r} in {args.db}{hint}")
    products = sorted({account.product for account in mine})
    if args.product is None and len(products) > 1:
        raise _usage(
            f"{args.customer!r} has accounts for {', '.join(products)}: choose one with --product"
        )
    product = args.product or products[0]
    if product not in products:
        raise _failure(
            f"{args.customer!r} has no {product} account in {args.db}; it has {', '.join(products)}"
        )
    board = renewal_dashboard(mine, as_of=args.on)
    rows = [row for row in board.rows if row.product == product]
    if len(rows) > 1:
        starts = ", ".join(row.start.isoformat() for row in rows)
        raise _failure(
            f"{args.customer!r} has {len(rows)} {product} terms that no renewal links "
            f"(starting {starts}): renew them in the library, or load one chain"
        )
    stored = {(account.product, account.start): account for account in mine}
    term = stored[(product, rows[0].start)]
    following = term.renewed_by
    if following is not None:
        renewal = stored.get((product, following.start), following)
        raise _failure(
            f"the {product} term of {args.customer!r}, {term_text(term, locale=DEFAULT_LOCALE)}, "
            f"is already renewed: {term_text(renewal, locale=DEFAULT_LOCALE)}, {renewal.seats} "
            "seats; nothing changed"
        )
    if not rows[0].status.needs_renewal and not args.early:
        raise _failure(
            f"the {product} term of {args.customer!r}, {term_text(term, locale=DEFAULT_LOCALE)}, "
            f"is not due for renewal on {args.on.isoformat()} (due from three months before "
            "its end): add --early to renew it now; nothing changed"
        )
    return term


def _renew(args: argparse.Namespace) -> int:
    with _store(args.db) as store, store.transaction():
        accounts = store.license_accounts()
        account = _account_to_renew(accounts, args)
        pool = args.pool or account.reseller
        if pool is None:
            raise _usage(
                f"the {account.product} account of {account.customer!r} has no reseller: name "
                "the pool to renew from with --pool"
            )
        ledger = store.load_ledger()
        done = renew(
            account, years=args.years, seats=args.seats, ledger=ledger, pool=pool, on=args.on
        )
        taken = {(other.customer, other.product, other.start) for other in accounts}
        new = done.new_term
        if (new.customer, new.product, new.start) in taken:
            raise _failure(
                f"{new.customer!r} already has a {new.product} term starting "
                f"{new.start.isoformat()} that no renewal links: nothing changed"
            )
        store.save_license_account(done.renewed)
        store.save_license_account(new)
        store.append_ledger(done.ledger.entries[len(ledger.entries) :])
    print(renewal_text(done, on=args.on, locale=args.locale))
    print()
    print(phrase("renewal", "saved", locale=args.locale, db=args.db))
    return 0


_LEDGER_KINDS = ("grant", "transfer", "assignment", "return")


@attrs.frozen(kw_only=True)
class _LedgerEntryDocument:
    """The plain-data shape of one entry of a ledger file."""

    kind: Text
    on: date
    product: Text
    target: Text
    licence_years: Positive
    reference: Text
    source: Text | None = None


def _ledger_entries(
    entries: Sequence[Mapping[str, Any]], ledger: LicenseLedger
) -> tuple[LicenseLedger, int]:
    """``ledger`` with a file's entries appended (those already in it skipped), and the count.

    Each entry goes through the ledger's own verb (a pool never goes negative); every bad
    entry is reported at once.
    """
    problems = Problems()
    seen: dict[LedgerEntry, str] = {}
    known = set(ledger.entries)
    skipped = 0
    for index, data in enumerate(entries):
        path = f"ledger[{index}]"
        with problems.at(path):
            entry = _structure.structure(data, _LedgerEntryDocument)
            if entry.kind not in _LEDGER_KINDS:
                renewal = entry.kind == "renewal"
                hint = " (renewals are recorded by 'subbill renew')" if renewal else ""
                problems.add(
                    f"{path}.kind",
                    f"{entry.kind!r} must be {', '.join(map(repr, _LEDGER_KINDS[:-1]))} or "
                    f"'return'{hint}",
                )
                continue
            if (entry.kind == "grant") != (entry.source is None):
                problems.add(
                    f"{path}.source",
                    "a grant has no source" if entry.source is not None else "is missing",
                )
                continue
            try:
                grown = _move(ledger, entry)
            except RefusedError as error:  # a pool would go negative: in words, at its path
                problems.add(path, _message(error))
                continue
            added = grown.entries[-1]
            if added in seen:
                problems.add(path, f"the same entry as {seen[added]}")
                continue
            seen[added] = path
            if added in known:
                skipped += 1
                continue
            ledger = grown
    problems.check()
    return ledger, skipped


def _move(ledger: LicenseLedger, entry: _LedgerEntryDocument) -> LicenseLedger:
    on, reference = entry.on, entry.reference
    if entry.source is None:
        return ledger.grant(
            entry.target, entry.product, entry.licence_years, on=on, reference=reference
        )
    return ledger.move(
        EntryKind(entry.kind),
        source=entry.source,
        target=entry.target,
        product=entry.product,
        licence_years=entry.licence_years,
        on=on,
        reference=reference,
    )


def _ledger_load(args: argparse.Namespace) -> int:
    data = _read_data(args.file)
    with _reading(args.file):
        entries = _structure.entries(data, "ledger")
    with _store(args.db, create=True) as store, store.transaction():
        ledger = store.load_ledger()
        with _reading(args.file):
            grown, skipped = _ledger_entries(entries, ledger)
        new = grown.entries[len(ledger.entries) :]
        store.append_ledger(new)
    print(
        f"{len(new)} ledger entries appended to {args.db}"
        + (f" ({skipped} already recorded)." if skipped else ".")
    )
    for holder, product in sorted(
        {(e.target, e.product) for e in new}
        | {(e.source, e.product) for e in new if e.source is not None}
    ):
        print(f"  {holder}: {_licences(grown.balance(holder, product))} {product}")
    return 0


def _add_review_renew_and_ledger(
    commands: Any, *, db: _Parser, as_of: _Parser, locale: _Parser
) -> None:
    """The ``review``, ``renew`` and ``ledger load`` commands (issue 11)."""
    review = commands.add_parser(
        "review",
        parents=[as_of, locale, db],
        help="the monthly review of a subscription (plan, modules, usage, billing, payment)",
    )
    review.add_argument("subscription", metavar="SUBSCRIPTION", help="the subscription's id")
    review.add_argument(
        "--usage",
        required=True,
        metavar="USAGE",
        help=f"the month's resource counts and module use, a .json or .toml file {_see('usage')}",
    )
    review.set_defaults(run=_review)

    renewal = commands.add_parser(
        "renew",
        parents=[locale, db],
        help="renew a customer's licence account from a reseller's pool, print the form",
    )
    renewal.add_argument("customer", metavar="ACCOUNT", help="the customer of the account")
    renewal.add_argument(
        "--product", default=None, help="the product, when the customer has several (e.g. TBox)"
    )
    renewal.add_argument(
        "--on",
        type=_date_argument,
        default=None,
        metavar="DATE",
        help="the date of the renewal, YYYY-MM-DD (default: today)",
    )
    renewal.add_argument(
        "--years",
        type=_whole_argument(MAX_YEARS),
        default=1,
        metavar="N",
        help="years of the new term (default: 1)",
    )
    renewal.add_argument(
        "--seats",
        type=_whole_argument(MAX_SEATS),
        default=None,
        metavar="N",
        help="user licences of the new term (default: the current term's seats)",
    )
    renewal.add_argument(
        "--early",
        action="store_true",
        help="renew a term that is not due yet (due: from three months before its end)",
    )
    renewal.add_argument(
        "--pool",
        default=None,
        help=f"the pool to renew from (default: the account's reseller) {_see('ledger')}",
    )
    renewal.set_defaults(run=_renew)

    ledger = commands.add_parser("ledger", help="load licence-years movements (grants, transfers)")
    verbs = ledger.add_subparsers(dest="verb", metavar="VERB", required=True)
    load = verbs.add_parser(
        "load", parents=[db], help='load {"ledger": [...]}: grants, transfers, assignments'
    )
    load.add_argument("file", metavar="FILE", help=f"a .json or .toml file {_see('ledger')}")
    load.set_defaults(run=_ledger_load)


MAX_YEARS = MAX_TERM_YEARS
"""The longest renewal the command line takes, in years (the longest term: 99)."""
MAX_SEATS = 1_000_000
"""The most user licences a renewal on the command line gives one account."""


def _whole_argument(maximum: int) -> Callable[[str], int]:
    """An argument type: a whole number from 1 to ``maximum``, written in ASCII digits."""

    def read(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,9}", text) or not 1 <= int(text) <= maximum:
            raise argparse.ArgumentTypeError(f"{text!r} must be a whole number from 1 to {maximum}")
        return int(text)

    return read


def _db_argument(text: str) -> str:
    """An argument type: a SQLite file's path (or ``sqlite:///PATH``), or a PostgreSQL URL.

    A URL holding a password is refused: it would be printed back in messages and shown to
    every user of the machine in the process list; libpq reads it from ``PGPASSWORD`` or
    ``~/.pgpass`` instead.
    """
    if text.startswith("sqlite:///"):
        return sqlite_path(text)
    if _is_server(text) and urllib.parse.urlsplit(text).password is not None:
        raise argparse.ArgumentTypeError(
            "a --db URL must not hold a password (it would be printed and shown in the process "
            "list): give it in PGPASSWORD or ~/.pgpass"
        )
    return text


def _shard_argument(text: str) -> tuple[int, int]:
    """An argument type: ``I/N``, shard ``I`` (0 to N - 1) of ``N`` (1 to MAX_SHARDS)."""
    found = re.fullmatch(r"([0-9]{1,5})/([0-9]{1,5})", text)
    if found is None or not 0 <= int(found[1]) < int(found[2]) <= MAX_SHARDS:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be I/N: shard I (0 to N - 1) of N shards (1 to {MAX_SHARDS}), "
            "e.g. 0/2 and 1/2 run by two processes"
        )
    return int(found[1]), int(found[2])


# -- output files -------------------------------------------------------------------------------


def _database_files(db: str) -> list[Path]:
    """The database file and the files SQLite keeps beside it (none for a server's URL)."""
    if _is_server(db):
        return []
    resolved = Path(db).resolve()
    return [resolved, *(resolved.with_name(resolved.name + end) for end in _SQLITE_SIDECARS)]


_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def _is_database(target: Path, db: str) -> bool:
    """Whether ``target`` is the database (or one of its files): by path, then by inode."""
    resolved = target.resolve()
    for file in _database_files(db):
        if resolved == file:
            return True
        try:
            if target.exists() and file.exists() and os.path.samefile(target, file):
                return True
        except OSError:
            continue
    return False


def _check_output(path: str, *, option: str, force: bool, db: str) -> None:
    """Refuse an output path that is the database, a folder, or (without ``force``) a file."""
    target = Path(path)
    if _is_database(target, db):
        raise _usage(f"{option} {path} is the database {db}: write to another file")
    if target.is_dir():
        raise _failure(f"{option} {path} is a folder: give a file name")
    if not force and (target.exists() or target.is_symlink()):
        raise _failure(f"{option} {path} already exists: add --force to replace it")


def _write_output(path: str, content: bytes, *, option: str, force: bool, db: str) -> None:
    """Write ``content`` to ``path`` whole or not at all.

    The bytes go to a temporary file in the same folder, flushed to disk, then renamed onto
    ``path``: a reader never sees half a file and a crash leaves the old one. Without
    ``force`` the rename cannot replace a file that appeared meanwhile (a hard link is
    made instead, which fails if the name exists).
    """
    _check_output(path, option=option, force=force, db=db)
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        if force:
            os.replace(temporary, target)
        else:
            _link_new(temporary, target, option=option)
        _sync_folder(target.parent)
    except OSError as error:
        raise _failure(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _link_new(temporary: Path, target: Path, *, option: str) -> None:
    """Give ``temporary`` the name ``target``, refusing if that name exists."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise _failure(f"{option} {target} already exists: add --force to replace it") from None
    except OSError:  # a file system without hard links: check, then rename
        if target.exists() or target.is_symlink():
            raise _failure(f"{option} {target} already exists: add --force to replace it") from None
        os.replace(temporary, target)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk, so that a rename survives a crash (POSIX only)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# -- the parser -----------------------------------------------------------------------------


def _parser() -> _Parser:
    db = _Parser(add_help=False)
    db.add_argument(
        "--db",
        type=_db_argument,
        default=DEFAULT_DB,
        metavar="DB",
        help=f"SQLite file (default: {DEFAULT_DB}) or postgresql://USER@HOST:PORT/DBNAME",
    )
    as_of = _Parser(add_help=False)
    as_of.add_argument(
        "--as-of",
        type=_date_argument,
        default=None,
        metavar="DATE",
        help="the date to compute on, YYYY-MM-DD (default: today)",
    )
    locale = _Parser(add_help=False)
    locale.add_argument(
        "--locale",
        type=_locale_argument,
        default=DEFAULT_LOCALE,
        help=f"language of the output, e.g. fr_FR (default: {DEFAULT_LOCALE})",
    )

    parser = _Parser(prog=PROG, description="Subscription billing, computed exactly.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="print the French tour of what subbill computes")
    demo.set_defaults(run=_demo)
    _add_portal_command(commands, [as_of, locale, db])
    _add_dunning_command(commands, [as_of, locale, db])

    for noun, run, what in (
        ("catalog", _catalog_load, "a catalog (plans, modules, add-ons, policy)"),
        ("subscriptions", _subscriptions_load, '{"subscriptions": [...]} on the stored catalog'),
        ("accounts", _accounts_load, '{"accounts": [...]}: licence accounts'),
    ):
        group = commands.add_parser(noun, help=f"load {noun} from a JSON or TOML file")
        verbs = group.add_subparsers(dest="verb", metavar="VERB", required=True)
        parents = [db, as_of] if noun == "catalog" else [db]
        load = verbs.add_parser("load", parents=parents, help=f"load {what}")
        load.add_argument("file", metavar="FILE", help=f"a .json or .toml file {_see(noun)}")
        if noun == "catalog":
            load.add_argument(
                "--effective",
                type=_date_argument,
                default=None,
                metavar="DATE",
                help="apply new prices to stored subscriptions from this date (default: each "
                "one's next billing period after --as-of); billed periods keep their price",
            )
        load.set_defaults(run=run)

    _add_customers_command(commands, db)
    _add_usage_command(commands, [db, locale])

    bill = commands.add_parser(
        "bill-run", parents=[as_of, db, locale], help="bill every subscription up to a date"
    )
    bill.add_argument(
        "--batch-size",
        type=_whole_argument(MAX_BATCH_SIZE),
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"subscriptions billed and saved per transaction, 1 to {MAX_BATCH_SIZE} (default: "
        f"{DEFAULT_BATCH_SIZE}); a run stopped midway keeps every batch it committed",
    )
    bill.add_argument(
        "--shard",
        type=_shard_argument,
        default=(0, 1),
        metavar="I/N",
        help="bill only shard I of N (by a stable hash of each subscription id), so that N "
        "processes run at once each bill their part, exactly once between them (default: 0/1, "
        "everything)",
    )
    bill.set_defaults(run=_bill_run)

    renewals = commands.add_parser(
        "renewals", parents=[as_of, locale, db], help="the licence renewal dashboard"
    )
    renewals.set_defaults(run=_renewals)

    quote = commands.add_parser(
        "quote",
        parents=[locale, db],
        help="what a payment link or quote charges today and later; --purchase stores it",
        description="Show what a payment link (or a quote) charges on --paid-on and later. "
        "With --purchase, pay it: the order, the paid invoice of what is due now and the "
        "subscription are stored in --db (once per --reference: a second run is a no-op). "
        "File formats: docs/formats.md.",
    )
    quote.add_argument(
        "file",
        metavar="FILE",
        help=f"the payment link or quote, a .json or .toml file {_see('payment-link')}",
    )
    quote.add_argument(
        "--purchase", action="store_true", help="pay the offer and store the purchase in --db"
    )
    quote.add_argument(
        "--customer", default=None, metavar="ID", help="the buyer (a quote names its own)"
    )
    quote.add_argument(
        "--reference",
        default=None,
        metavar="REF",
        help="the payment's reference, the purchase's idempotency key (default: the offer id)",
    )
    quote.add_argument(
        "--payment-method",
        default="",
        metavar="ID",
        help="the saved payment method that paid (a processor token such as pm_…)",
    )
    quote.add_argument(
        "--paid-on", type=_date_argument, required=True, metavar="DATE", help="payment date"
    )
    quote.add_argument(
        "--horizon",
        type=_date_argument,
        default=None,
        metavar="DATE",
        help="show future payments up to this date (default: the end of the term, or a year)",
    )
    quote.set_defaults(run=_quote)

    invoice = commands.add_parser("invoice", help="show a stored invoice")
    invoice_verbs = invoice.add_subparsers(dest="verb", metavar="VERB", required=True)
    show = invoice_verbs.add_parser(
        "show", parents=[locale, db], help="print an invoice, optionally as a PDF too"
    )
    show.add_argument("number", metavar="NUMBER", help="the invoice number, e.g. F-2026-000001")
    show.add_argument("--pdf", metavar="OUT", default=None, help="also write the invoice as PDF")
    show.add_argument(
        "--facturx",
        metavar="OUT",
        default=None,
        help="also write the invoice as a Factur-X PDF/A-3 (the e-invoice: PDF with its XML)",
    )
    show.add_argument(
        "--seller",
        metavar="FILE",
        default=None,
        help="the business that bills, for --facturx (required) and --pdf (its identity and "
        f"the legal mentions): a .json or .toml file {_see('seller')}",
    )
    show.add_argument(
        "--buyer",
        metavar="FILE",
        default=None,
        help="the customer's record for --facturx and --pdf when the database has none "
        f"{_see('customer')}",
    )
    show.add_argument(
        "--profile",
        choices=("en16931", "basic"),
        default="en16931",
        help="the Factur-X profile of --facturx (default: en16931)",
    )
    show.add_argument(
        "--force", action="store_true", help="replace the --pdf or --facturx file if it exists"
    )
    show.set_defaults(run=_invoice_show)
    _add_review_renew_and_ledger(commands, db=db, as_of=as_of, locale=locale)
    return parser


def _error(message: str, status: int) -> int:
    for line in message.split("\n"):  # one problem per line (bad input files list several)
        text = " ".join(line.split())  # each on one line, whatever it held
        print(f"{PROG}: error: {text}", file=sys.stderr)
    return status


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's final flush does not fail too."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured, closed)
        pass


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The parsed command line, ``--as-of`` defaulting to today (raises on a usage error)."""
    args = _parser().parse_args(argv)
    for name in ("as_of", "on"):  # --as-of, and renew's --on
        if getattr(args, name, "unset") is None:
            setattr(args, name, date.today())  # the only place subbill reads the clock
    return args


def _execute(args: argparse.Namespace) -> int:
    """Run a parsed command; errors are raised, typed (:func:`main` turns them into a line)."""
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


def _exit_status(error: BaseException) -> int:
    """The exit status of a command that raised ``error``."""
    if isinstance(error, _CommandError):
        return error.status
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED
    return FAILURE


def _describe(error: BaseException, *, locale: str) -> str:
    """The one-line message of ``error``."""
    if isinstance(error, _CommandError):
        return str(error)
    if isinstance(error, SubbillError):
        return _message(error, locale=locale)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, OSError):
        return str(error)
    return f"unexpected {type(error).__name__}: {error} (a bug in subbill: please report it)"


def main(argv: list[str] | None = None) -> int:
    """Run the ``subbill`` command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 on success, 2 for a bad command line or input file, 1 when
    the command cannot be carried out, 130 when interrupted. Errors are printed on one line
    of stderr; ``--help`` and ``--version`` print and return 0.
    """
    try:
        args = _parse(argv)
    except _CommandError as error:
        return _error(str(error), error.status)
    except SystemExit as stop:  # --help, --version
        return stop.code if isinstance(stop.code, int) else 0
    try:
        return _execute(args)
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (``subbill demo | head``): stop quietly
        return FAILURE
    except (Exception, KeyboardInterrupt) as error:  # the last resort: one line, no traceback
        locale = getattr(args, "locale", DEFAULT_LOCALE)
        return _error(_describe(error, locale=locale), _exit_status(error))

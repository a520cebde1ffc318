"""The in-memory store, for tests and notebooks: plain dicts of immutable values.

A transaction keeps an undo journal of the writes made inside it and plays it back if the
block raises, so it behaves like the SQLite store's; a savepoint inside it journals its own
block the same way (a copy of every table per transaction would make a batched bill run
quadratic). One Hypothesis state machine drives both stores and checks they agree.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from subbill._validate import check_count, check_items
from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.customers import Customer
from subbill.dunning import DunningAction, DunningEvent
from subbill.errors import InvalidArgumentError
from subbill.invoices import Invoice, InvoiceNumbering, Payment
from subbill.licenses import LedgerEntry, LicenseAccount, LicenseLedger
from subbill.metering import UsageRecord
from subbill.payments import Wallet
from subbill.periods import check_date
from subbill.quotes import Quote, SalesOrder
from subbill.storage._arguments import (
    MAX_LIMIT,
    check_action_keys,
    check_after,
    check_before,
    check_dunning_actions,
    check_dunning_events,
    check_invoice_numbers,
    check_key,
    check_limit,
    check_numbering,
    check_optional_key,
    check_states,
    check_subscription_ids,
    check_usage_records,
    checked,
    dunning_conflict,
    in_dunning,
    new_usage_records,
    outbox_conflict,
)
from subbill.storage._nesting import Nesting
from subbill.storage._numbering import reserve_numbers
from subbill.storage.protocols import BillingRow, ChargeAttempt, ChargeStatus
from subbill.storage.shards import check_shard, shard_of
from subbill.subscriptions import Subscription

__all__ = ["MemoryStore"]

_MISSING = object()  # a key a savepoint found absent: undoing deletes it
_SCALAR = object()  # a journal entry for a single value, not a row


class MemoryStore:
    """A :class:`~subbill.storage.protocols.Store` held in memory."""

    def __init__(self, *, numbering: InvoiceNumbering | None = None) -> None:
        self.numbering = check_numbering(numbering)
        self._tables: dict[str, Any] = {
            "catalog": None,
            "subscriptions": {},
            "states": {},
            "invoices": {},
            "last_number": None,
            "last_issued_on": None,
            "payments": {},
            "quotes": {},
            "ledger": [],
            "accounts": {},
            "customers": {},
            "orders": {},
            "wallets": {},
            # subscription id -> {idempotency key -> record}, replaced whole on each write
            "usage": {},
            # dunning event key -> event, in the order recorded
            "dunning": {},
            # idempotency key -> card retry
            "charges": {},
            # dunning action key -> action to send, or None once acknowledged, in order
            "outbox": {},
        }
        self._nesting = Nesting()
        self._ids: list[str] | None = None  # the sorted subscription ids, while valid
        # One undo journal per open savepoint, innermost last: (table, key, value before).
        self._journals: list[list[tuple[str, Any, Any]]] = []

    def _put(self, table: str, key: Any, value: Any) -> None:
        """``tables[table][key] = value``, remembered by the open savepoint."""
        rows = self._tables[table]
        if table == "subscriptions" and key not in rows:
            self._ids = None
        if self._journals:
            self._journals[-1].append((table, key, rows.get(key, _MISSING)))
        rows[key] = value

    def _set(self, name: str, value: Any) -> None:
        """``tables[name] = value`` (a single value), remembered by the open savepoint."""
        if self._journals:
            self._journals[-1].append((name, _SCALAR, self._tables[name]))
        self._tables[name] = value

    @contextmanager
    def _journaled(self) -> Iterator[None]:
        """Journal the block's writes: undone, newest first, if it raises.

        Else they are handed to the enclosing block's journal, which may still undo them.
        """
        journal: list[tuple[str, Any, Any]] = []
        self._journals.append(journal)
        try:
            yield
        except BaseException:
            self._ids = None
            for table, key, before in reversed(journal):
                if key is _SCALAR:
                    self._tables[table] = before
                elif before is _MISSING:
                    del self._tables[table][key]
                else:
                    self._tables[table][key] = before
            raise
        finally:
            self._journals.pop()
        if self._journals:
            self._journals[-1].extend(journal)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: the block's writes are undone alone if it raises."""
        with self.transaction(), self._journaled():
            yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside is kept, or nothing if the block raises.

        Kept as an undo journal of the writes made inside, not a copy of every table: a
        batched bill run opens a transaction per batch, whatever the size of the store.
        """
        with self._nesting.level() as outermost:
            if not outermost:  # a nested block joins the open transaction
                yield
                return
            with self._journaled():
                yield

    def close(self) -> None:
        """Nothing to release."""

    # -- catalog -------------------------------------------------------------------------

    def load_catalog(self) -> Catalog | None:
        """The saved catalog, or ``None``."""
        catalog: Catalog | None = self._tables["catalog"]
        return catalog

    def save_catalog(self, catalog: Catalog) -> None:
        """Replace the catalog."""
        self._set("catalog", checked("catalog", catalog, Catalog))

    # -- subscriptions and billing states ------------------------------------------------

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription ``subscription_id``, or ``None``."""
        found: Subscription | None = self._tables["subscriptions"].get(subscription_id)
        return found

    def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription."""
        checked("subscription", subscription, Subscription)
        self._put("subscriptions", subscription.id, subscription)

    def subscription_ids(self) -> list[str]:
        """Every subscription id, sorted."""
        return sorted(self._tables["subscriptions"])

    def subscription_count(self) -> int:
        """How many subscriptions are stored."""
        return len(self._tables["subscriptions"])

    def subscription_ids_after(self, after: str | None, *, limit: int) -> list[str]:
        """The next ``limit`` subscription ids after ``after`` (from the first if ``None``)."""
        check_after(after)
        check_limit(limit)
        ids = self._sorted_ids()
        start = 0 if after is None else bisect.bisect_right(ids, after)
        return ids[start : start + limit]

    def _sorted_ids(self) -> list[str]:
        """Every subscription id, sorted: kept until a subscription is added or removed."""
        rows = self._tables["subscriptions"]
        if self._ids is None:
            self._ids = sorted(rows)
        return self._ids

    def get_billing_state(self, subscription_id: str) -> BillingState | None:
        """The billing state of ``subscription_id``, or ``None``."""
        found: BillingState | None = self._tables["states"].get(subscription_id)
        return found

    def save_billing_state(self, subscription_id: str, state: BillingState) -> None:
        """Insert or replace a billing state."""
        check_key("subscription_id", subscription_id)
        self._put("states", subscription_id, checked("state", state, BillingState))

    # -- a bill run's batches -----------------------------------------------------------

    def billing_rows(
        self, after: str | None, *, limit: int, shard: int = 0, shards: int = 1
    ) -> tuple[list[BillingRow], str | None]:
        """The next page of subscriptions after ``after`` with their states, in id order.

        Only those of shard ``shard`` of ``shards``; a row's version is the identity
        (``id()``) of the two stored objects, which any write replaces (the row holds them,
        so their identities are not reused while it is compared). Returns the rows and the
        page's last id.
        """
        check_after(after)
        check_limit(limit)
        check_shard(shard, shards)
        page = self.subscription_ids_after(after, limit=limit)
        subscriptions, states = self._tables["subscriptions"], self._tables["states"]
        rows = [
            BillingRow(key, subscriptions[key], states.get(key), None, self._version(key))
            for key in page
            if shards == 1 or shard_of(key, shards) == shard
        ]
        return rows, (page[-1] if page else None)

    def billing_versions(self, subscription_ids: Sequence[str]) -> dict[str, object]:
        """The version (the stored objects) of each of ``subscription_ids`` still stored."""
        subscriptions = self._tables["subscriptions"]
        return {
            key: self._version(key)
            for key in check_items("subscription_ids", subscription_ids, str)
            if key in subscriptions
        }

    def _version(self, key: str) -> tuple[int, int]:
        """The identity of the objects stored for ``key``: any write stores a new object."""
        return id(self._tables["subscriptions"][key]), id(self._tables["states"].get(key))

    def save_billing_states(self, states: Sequence[tuple[str, BillingState]]) -> None:
        """Insert or replace the billing state of each ``(subscription_id, state)``."""
        for key, state in check_states(states):
            self._put("states", key, state)

    # -- invoices and payments -----------------------------------------------------------

    def next_invoice_number(self, *, issued_on: date) -> str:
        """Reserve and return the next invoice number; refused if dated before the last."""
        return self.reserve_invoice_numbers(1, issued_on=issued_on)[0]

    def reserve_invoice_numbers(self, count: int, *, issued_on: date) -> list[str]:
        """Reserve the next ``count`` numbers at once, as ``next_invoice_number`` would."""
        check_count("count", count, minimum=1, maximum=MAX_LIMIT)
        numbers = reserve_numbers(
            self.numbering,
            self._tables["last_number"],
            count,
            last_issued_on=self._tables["last_issued_on"],
            issued_on=issued_on,
        )
        self._set("last_number", numbers[-1])
        self._set("last_issued_on", issued_on)
        return numbers

    def last_issued_on(self) -> date | None:
        """The date of the last number issued, or ``None``."""
        last: date | None = self._tables["last_issued_on"]
        return last

    def add_invoice(self, invoice: Invoice) -> None:
        """Add a numbered invoice; its number must be new."""
        self.add_invoices([checked("invoice", invoice, Invoice)])

    def add_invoices(self, invoices: Sequence[Invoice]) -> None:
        """Add numbered invoices, in order; every number must be new (else none is added)."""
        added = check_items("invoices", invoices, Invoice)
        numbers: set[str] = set()
        for invoice in added:
            if invoice.number is None:
                raise InvalidArgumentError("only a numbered invoice can be stored: finalize it")
            if invoice.number in self._tables["invoices"] or invoice.number in numbers:
                raise InvalidArgumentError(f"invoice number={invoice.number!r} already exists")
            numbers.add(invoice.number)
        for invoice in added:
            self._put("invoices", invoice.number, invoice)

    def save_invoice(self, invoice: Invoice) -> None:
        """Replace a stored invoice."""
        checked("invoice", invoice, Invoice)
        if invoice.number not in self._tables["invoices"]:
            raise InvalidArgumentError(f"invoice number={invoice.number!r} is not stored")
        self._put("invoices", invoice.number, invoice)

    def get_invoice(self, number: str) -> Invoice | None:
        """The invoice ``number``, or ``None``."""
        found: Invoice | None = self._tables["invoices"].get(number)
        return found

    def invoices(self, *, subscription: str | None = None) -> list[Invoice]:
        """Invoices in the order they were added, all or those of ``subscription``."""
        return [
            invoice
            for invoice in self._tables["invoices"].values()
            if subscription is None or invoice.subscription == subscription
        ]

    def add_payment(self, invoice_number: str, payment: Payment) -> None:
        """Record a payment for ``invoice_number``."""
        check_key("invoice_number", invoice_number)
        checked("payment", payment, Payment)
        self._put(
            "payments", invoice_number, [*self._tables["payments"].get(invoice_number, ()), payment]
        )

    def payments(self, invoice_number: str) -> list[Payment]:
        """The payments of ``invoice_number``."""
        return list(self._tables["payments"].get(invoice_number, []))

    # -- quotes --------------------------------------------------------------------------

    def get_quote(self, quote_id: str) -> Quote | None:
        """The quote ``quote_id``, or ``None``."""
        found: Quote | None = self._tables["quotes"].get(quote_id)
        return found

    def save_quote(self, quote: Quote) -> None:
        """Insert or replace a quote."""
        self._put("quotes", checked("quote", quote, Quote).id, quote)

    def quote_ids(self) -> list[str]:
        """Every quote id, sorted."""
        return sorted(self._tables["quotes"])

    # -- licences ------------------------------------------------------------------------

    def load_ledger(self) -> LicenseLedger:
        """The whole ledger."""
        return LicenseLedger(entries=tuple(self._tables["ledger"]))

    def append_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger entries."""
        added = check_items("entries", entries, LedgerEntry)
        self._set("ledger", [*self._tables["ledger"], *added])

    def save_license_account(self, account: LicenseAccount) -> None:
        """Insert or replace the account of ``(customer, product, start)``."""
        checked("account", account, LicenseAccount)
        self._put("accounts", (account.customer, account.product, account.start), account)

    def license_accounts(self) -> list[LicenseAccount]:
        """Every licence account, sorted by customer, product and start."""
        return [self._tables["accounts"][key] for key in sorted(self._tables["accounts"])]

    # -- customers, orders and wallets ------------------------------------------------------

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer ``customer_id``, or ``None``."""
        found: Customer | None = self._tables["customers"].get(customer_id)
        return found

    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer."""
        self._put("customers", checked("customer", customer, Customer).id, customer)

    def customer_ids(self) -> list[str]:
        """Every customer id, sorted."""
        return sorted(self._tables["customers"])

    def get_order(self, reference: str) -> SalesOrder | None:
        """The order of the purchase ``reference``, or ``None``."""
        found: SalesOrder | None = self._tables["orders"].get(reference)
        return found

    def add_order(self, order: SalesOrder) -> None:
        """Add an order; its reference must be new."""
        checked("order", order, SalesOrder)
        key = order.reference or order.id
        if key in self._tables["orders"]:
            raise InvalidArgumentError(f"an order with reference={key!r} already exists")
        self._put("orders", key, order)

    def orders(self, *, customer: str | None = None) -> list[SalesOrder]:
        """Orders in the order they were added, all or those of ``customer``."""
        return [
            order
            for order in self._tables["orders"].values()
            if customer is None or order.customer == customer
        ]

    def get_wallet(self, customer: str) -> Wallet | None:
        """The wallet of ``customer``, or ``None``."""
        found: Wallet | None = self._tables["wallets"].get(customer)
        return found

    def save_wallet(self, wallet: Wallet) -> None:
        """Insert or replace the wallet of ``wallet.customer``."""
        self._put("wallets", checked("wallet", wallet, Wallet).customer, wallet)

    # -- usage records ----------------------------------------------------------------------

    def add_usage_records(self, records: Sequence[UsageRecord]) -> int:
        """Add ``records`` (idempotent by subscription and key, all or nothing); how many new."""
        given = check_usage_records(records)
        table = self._tables["usage"]
        stored = {
            (r.subscription, r.key): table[r.subscription][r.key]
            for r in given
            if r.key in table.get(r.subscription, {})
        }
        new: dict[str, dict[str, UsageRecord]] = {}
        for record in new_usage_records(given, stored):  # checked whole: nothing half-added
            new.setdefault(record.subscription, {})[record.key] = record
        for subscription, added in new.items():
            self._put("usage", subscription, {**table.get(subscription, {}), **added})
        return sum(len(added) for added in new.values())

    def usage_records(
        self, subscription_ids: Sequence[str], *, before: date
    ) -> dict[str, list[UsageRecord]]:
        """The records of each of ``subscription_ids`` dated before ``before``, by day and key."""
        wanted = check_subscription_ids(subscription_ids)
        check_before(before)
        stored = self._tables["usage"]
        return {
            subscription: sorted(
                (r for r in stored.get(subscription, {}).values() if r.used_on < before),
                key=lambda record: (record.used_on, record.key),
            )
            for subscription in wanted
        }

    def usage_record_count(self) -> int:
        """How many usage records are stored."""
        return sum(len(records) for records in self._tables["usage"].values())

    # -- dunning ----------------------------------------------------------------------------

    def add_dunning_events(self, events: Sequence[DunningEvent]) -> None:
        """Record ``events`` in order, all or nothing; a key recorded already is refused."""
        self._add_keyed("dunning", check_dunning_events(events), dunning_conflict)

    def _add_keyed(
        self, table: str, items: Sequence[DunningEvent | DunningAction], conflict: Any
    ) -> None:
        """Add ``items`` to ``table`` by key, all or nothing: a key held already is refused."""
        rows = self._tables[table]
        for item in items:
            if item.key in rows:
                raise conflict(item.key)
        for item in items:
            self._put(table, item.key, item)

    def dunning_events(
        self, *, invoice: str | None = None, subscription: str | None = None
    ) -> list[DunningEvent]:
        """The events in the order recorded: all, or those of ``invoice``/``subscription``."""
        check_optional_key("invoice", invoice)
        check_optional_key("subscription", subscription)
        return [
            event
            for event in self._tables["dunning"].values()
            if (invoice is None or event.invoice == invoice)
            and (subscription is None or event.subscription == subscription)
        ]

    def save_charge_attempt(self, attempt: ChargeAttempt) -> None:
        """Insert or replace the attempt of ``attempt.key``."""
        self._put("charges", checked("attempt", attempt, ChargeAttempt).key, attempt)

    def charge_attempts(self, *, status: ChargeStatus | None = None) -> list[ChargeAttempt]:
        """The attempts sorted by key: all, or those in ``status``."""
        if status is not None:
            checked("status", status, ChargeStatus)
        charges = self._tables["charges"]
        return [
            charges[key]
            for key in sorted(charges)
            if status is None or charges[key].status is status
        ]

    def dunning_invoices(self, *, as_of: date) -> list[Invoice]:
        """The invoices not settled on ``as_of`` (not credit notes), in the order added."""
        day = check_date("as_of", as_of)
        return [i for i in self._tables["invoices"].values() if in_dunning(i, day)]

    def dunning_events_of(self, invoices: Sequence[str]) -> list[DunningEvent]:
        """The events of the invoices numbered ``invoices``, in the order recorded."""
        wanted = set(check_invoice_numbers(invoices))
        return [event for event in self._tables["dunning"].values() if event.invoice in wanted]

    def last_dunning_event_on(self) -> date | None:
        """The latest day of a dunning event recorded, or ``None``."""
        return max((event.on for event in self._tables["dunning"].values()), default=None)

    def last_payment_on(self) -> date | None:
        """The date of the latest payment recorded, or ``None``."""
        return max(
            (p.paid_on for payments in self._tables["payments"].values() for p in payments),
            default=None,
        )

    def charge_attempt(self, key: str) -> ChargeAttempt | None:
        """The attempt of idempotency key ``key``, or ``None``."""
        found: ChargeAttempt | None = self._tables["charges"].get(check_key("key", key))
        return found

    def queue_dunning_actions(self, actions: Sequence[DunningAction]) -> None:
        """Keep ``actions`` to send until acknowledged; a key queued already is refused."""
        self._add_keyed("outbox", check_dunning_actions(actions), outbox_conflict)

    def unsent_dunning_actions(self) -> list[DunningAction]:
        """The actions queued and not acknowledged yet, in the order queued."""
        return [action for action in self._tables["outbox"].values() if action is not None]

    def acknowledge_dunning(self, keys: Sequence[str]) -> int:
        """Mark the actions of ``keys`` as sent; how many of them were unsent."""
        outbox = self._tables["outbox"]
        done = 0
        for key in dict.fromkeys(check_action_keys(keys)):
            if outbox.get(key) is not None:
                self._put("outbox", key, None)
                done += 1
        return done

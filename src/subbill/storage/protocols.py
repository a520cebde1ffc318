"""The storage ports: one ``typing.Protocol`` per aggregate the applications persist.

Adapters do not inherit from these protocols; they only have to match them (mypy checks
it where an adapter is used as a :class:`Store`). Every write may happen inside
``with store.transaction():``, which saves everything or nothing.

Every adapter keeps the same promises: a failure of the store itself is a
:class:`~subbill.errors.StorageError` (never a driver's exception), a row that cannot be
read back is a :class:`~subbill.storage.errors.StoredDataError` naming its table and id,
and invoice numbers are gapless and in the order of their dates.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

import attrs

from subbill._validate import brief, check_count, enum_of, instance_of, one_line
from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.customers import Customer
from subbill.dunning import DunningAction, DunningEvent
from subbill.errors import InvalidTypeError
from subbill.invoices import Invoice, Payment
from subbill.licenses import LedgerEntry, LicenseAccount, LicenseLedger
from subbill.metering import UsageRecord
from subbill.money import Money
from subbill.payments import Wallet
from subbill.periods import check_date
from subbill.quotes import Quote, SalesOrder
from subbill.storage.errors import StoredDataError
from subbill.subscriptions import Subscription

__all__ = [
    "BillingBatchRepository",
    "BillingRow",
    "BillingStateRepository",
    "CatalogRepository",
    "ChargeAttempt",
    "ChargeStatus",
    "CustomerRepository",
    "DunningRepository",
    "InvoiceRepository",
    "LicenseRepository",
    "OrderRepository",
    "PaymentRepository",
    "QuoteRepository",
    "Store",
    "SubscriptionRepository",
    "UnitOfWork",
    "UsageRepository",
    "WalletRepository",
]


class CatalogRepository(Protocol):
    """The catalog (one per store)."""

    def load_catalog(self) -> Catalog | None:
        """The saved catalog, or ``None``."""
        ...

    def save_catalog(self, catalog: Catalog) -> None:
        """Replace the catalog."""
        ...


class SubscriptionRepository(Protocol):
    """Subscriptions by id."""

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        """The subscription ``subscription_id``, or ``None``."""
        ...

    def save_subscription(self, subscription: Subscription) -> None:
        """Insert or replace a subscription."""
        ...

    def subscription_ids(self) -> list[str]:
        """Every subscription id, sorted."""
        ...

    def subscription_count(self) -> int:
        """How many subscriptions are stored."""
        ...

    def subscription_ids_after(self, after: str | None, *, limit: int) -> list[str]:
        """The next ``limit`` ids in sorted order after ``after`` (from the first if ``None``).

        A bill run pages through them with it, never holding every id.
        """
        ...


class BillingStateRepository(Protocol):
    """What has been billed, per subscription."""

    def get_billing_state(self, subscription_id: str) -> BillingState | None:
        """The billing state of ``subscription_id``, or ``None`` if never billed."""
        ...

    def save_billing_state(self, subscription_id: str, state: BillingState) -> None:
        """Insert or replace the billing state of ``subscription_id``."""
        ...


class BillingRow(NamedTuple):
    """One subscription as a bill run reads it: the subscription, its state, a version.

    ``error`` is the :class:`~subbill.storage.errors.StoredDataError` of a row that cannot
    be read back (then ``subscription`` and ``state`` are ``None``). ``version`` is opaque:
    the store gives an equal one for as long as neither the subscription nor its billing
    state is written again (:meth:`BillingBatchRepository.billing_versions`).
    """

    subscription_id: str
    subscription: Subscription | None
    state: BillingState | None
    error: StoredDataError | None
    version: object


class BillingBatchRepository(Protocol):
    """What a batched bill run reads and writes many rows at a time.

    A run reads a page of subscriptions with their states (outside any transaction), bills
    them, then in one short transaction checks that none moved meanwhile
    (``billing_versions``), reserves the invoice numbers it needs and writes the invoices
    and states of the page at once.
    """

    def billing_rows(
        self, after: str | None, *, limit: int, shard: int = 0, shards: int = 1
    ) -> tuple[list[BillingRow], str | None]:
        """The next page of ``limit`` subscriptions after ``after``, those of ``shard``.

        Returns the rows of the page that fall in shard ``shard`` of ``shards``
        (:func:`~subbill.storage.shards.shard_of`), in id order, and the last id of the
        whole page, where the next page starts (``None`` when there was none left).
        """
        ...

    def billing_versions(self, subscription_ids: Sequence[str]) -> dict[str, object]:
        """The current ``version`` of each of ``subscription_ids`` still stored.

        Called inside the write transaction of a page: exactly-once billing rests on it. A
        version must differ from the one :meth:`billing_rows` gave as soon as the
        subscription or its billing state was written since (by anyone), and the
        transaction must keep others from writing them until it ends (SQLite's
        ``BEGIN IMMEDIATE``); an adapter that cannot promise both bills twice.
        """
        ...

    def reserve_invoice_numbers(self, count: int, *, issued_on: date) -> list[str]:
        """Reserve the next ``count`` numbers at once, as ``next_invoice_number`` would."""
        ...

    def add_invoices(self, invoices: Sequence[Invoice]) -> None:
        """Add numbered invoices, in order; every number must be new."""
        ...

    def save_billing_states(self, states: Sequence[tuple[str, BillingState]]) -> None:
        """Insert or replace the billing state of each ``(subscription_id, state)``."""
        ...


class InvoiceRepository(Protocol):
    """Numbered invoices and the invoice-number sequence."""

    def next_invoice_number(self, *, issued_on: date) -> str:
        """Reserve and return the next number.

        Gapless: call it inside the transaction that adds the invoice. Chronological: an
        ``issued_on`` before the date of the last number issued is refused
        (:class:`~subbill.errors.InvalidStateError` naming both dates).
        """
        ...

    def last_issued_on(self) -> date | None:
        """The date of the last number issued, or ``None`` if none was."""
        ...

    def add_invoice(self, invoice: Invoice) -> None:
        """Add a numbered invoice; its number must be new."""
        ...

    def save_invoice(self, invoice: Invoice) -> None:
        """Replace a stored invoice (a payment, a void)."""
        ...

    def get_invoice(self, number: str) -> Invoice | None:
        """The invoice ``number``, or ``None``."""
        ...

    def invoices(self, *, subscription: str | None = None) -> list[Invoice]:
        """Invoices in number order, all or those of ``subscription``."""
        ...


class PaymentRepository(Protocol):
    """Payments received, by invoice."""

    def add_payment(self, invoice_number: str, payment: Payment) -> None:
        """Record a payment for ``invoice_number``."""
        ...

    def payments(self, invoice_number: str) -> list[Payment]:
        """The payments of ``invoice_number``, in the order recorded."""
        ...


class QuoteRepository(Protocol):
    """Quotes by id."""

    def get_quote(self, quote_id: str) -> Quote | None:
        """The quote ``quote_id``, or ``None``."""
        ...

    def save_quote(self, quote: Quote) -> None:
        """Insert or replace a quote."""
        ...

    def quote_ids(self) -> list[str]:
        """Every quote id, sorted."""
        ...


class LicenseRepository(Protocol):
    """The licence ledger (append-only) and the licence accounts."""

    def load_ledger(self) -> LicenseLedger:
        """The whole ledger, in the order entries were appended."""
        ...

    def append_ledger(self, entries: Sequence[LedgerEntry]) -> None:
        """Append entries (a verb's new entries: ``new.entries[len(old.entries):]``)."""
        ...

    def save_license_account(self, account: LicenseAccount) -> None:
        """Insert or replace the account of ``(customer, product, start)``."""
        ...

    def license_accounts(self) -> list[LicenseAccount]:
        """Every licence account, sorted by customer, product and start."""
        ...


class CustomerRepository(Protocol):
    """The customer records everything else refers to by id."""

    def get_customer(self, customer_id: str) -> Customer | None:
        """The customer ``customer_id``, or ``None``."""
        ...

    def save_customer(self, customer: Customer) -> None:
        """Insert or replace a customer."""
        ...

    def customer_ids(self) -> list[str]:
        """Every customer id, sorted."""
        ...


class OrderRepository(Protocol):
    """Sales orders, one per purchase, keyed by the purchase's reference."""

    def get_order(self, reference: str) -> SalesOrder | None:
        """The order of the purchase ``reference``, or ``None``."""
        ...

    def add_order(self, order: SalesOrder) -> None:
        """Add an order; its reference must be new (an ``InvalidArgumentError`` if not)."""
        ...

    def orders(self, *, customer: str | None = None) -> list[SalesOrder]:
        """Orders in the order they were added, all or those of ``customer``."""
        ...


class WalletRepository(Protocol):
    """Each customer's saved payment methods."""

    def get_wallet(self, customer: str) -> Wallet | None:
        """The wallet of ``customer``, or ``None``."""
        ...

    def save_wallet(self, wallet: Wallet) -> None:
        """Insert or replace the wallet of ``wallet.customer``."""
        ...


class UsageRepository(Protocol):
    """Usage records, one per subscription and idempotency key (what usage charges bill)."""

    def add_usage_records(self, records: Sequence[UsageRecord]) -> int:
        """Add ``records``; return how many were new.

        Idempotent by ``(subscription, key)``: a record stored already with the same content
        (or given twice) is skipped. A key stored, or given, with other content is refused
        (:class:`~subbill.errors.InvalidArgumentError` naming the key and both records) and
        nothing of ``records`` is added: all or nothing.

        The store is a repository: it does not check that a record's subscription is stored
        or that its usage charges measure the record's metric (a bill run reads only the
        records of the subscriptions it bills). A loader checks that first, as ``subbill
        usage load`` does (:meth:`~subbill.subscriptions.Subscription.check_usage_record`).
        """
        ...

    def usage_records(
        self, subscription_ids: Sequence[str], *, before: date
    ) -> dict[str, list[UsageRecord]]:
        """The records of each of ``subscription_ids`` dated before ``before``, in one query.

        Every id asked for is a key (an empty list when it has none); each list is sorted
        by day, then key. A bill run as of ``as_of`` asks for its page's records with
        ``before=as_of + 1 day``.
        """
        ...

    def usage_record_count(self) -> int:
        """How many usage records are stored (every subscription's)."""
        ...


class ChargeStatus(enum.Enum):
    """Where a card payment retry stands with the payment processor."""

    PENDING = "pending"  # recorded before the processor was called: its answer not recorded
    CHARGED = "charged"  # the processor charged the card (the payment is recorded)
    DECLINED = "declined"  # the processor refused the charge
    # The invoice no longer owes the attempt's amount (paid or credited by other means
    # meanwhile): the attempt is not sent (again), for a person to check with the processor
    # under its key whether it reached it (its ``reason`` says whether it was ever sent).
    TO_REVIEW = "to_review"
    # Never sent: the invoice no longer owed its amount when the run was to send it.
    WITHDRAWN = "withdrawn"
    # An attempt to review that a person checked with the processor: it did not charge the
    # card (``resolve_charge_attempt(…, charged=False)``); one that did is ``CHARGED``, with
    # the processor's reference and ``resolved_on``, the day of the charge.
    NOT_CHARGED = "not_charged"


def _check_claim_end(_instance: Any, _attribute: Any, value: Any) -> None:
    """A claim ends at an aware datetime (runs compare it with their aware ``now``)."""
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise InvalidTypeError(
            "claimed_until", brief(value), "a datetime with its time zone, or None"
        )


def _check_attempt_number(_instance: Any, _attribute: Any, value: Any) -> None:
    check_count("attempt", value, minimum=1)


@attrs.frozen(kw_only=True)
class ChargeAttempt:
    """A card payment retry as the store keeps it, keyed by its idempotency key.

    Recorded :attr:`ChargeStatus.PENDING` in the transaction that records the retry's
    dunning event, before the processor is called; then marked charged (with the
    processor's ``reference``) or declined (with its ``reason``). One still pending after a
    run was stopped between the two is sent again with the same ``key``: the processor
    answers what it did the first time, and never charges the card twice.

    ``claimed_until`` is the end of the claim of the run sending it (given the run's
    ``now``): until then, no other run sends it; a run whose claimer died sends it again
    once the claim is over. None: no run with a clock claims it.

    ``resolved_on`` is set on an attempt left :attr:`ChargeStatus.TO_REVIEW` once a person
    has said it charged the card (the day of the charge, the payment's date); None
    otherwise (:func:`subbill.dunning_service.resolve_charge_attempt`).

    >>> ChargeAttempt(key="dunning:F-1:retry:1", invoice="F-1", attempt=1,
    ...               amount=Money("120.00", "EUR"), on=date(2027, 3, 11)).status
    <ChargeStatus.PENDING: 'pending'>
    """

    key: str = attrs.field(validator=one_line())
    invoice: str = attrs.field(validator=one_line())
    attempt: int = attrs.field(validator=_check_attempt_number)
    amount: Money = attrs.field(validator=instance_of(Money))
    on: date = attrs.field(validator=lambda _i, _a, v: check_date("on", v))
    status: ChargeStatus = attrs.field(
        default=ChargeStatus.PENDING, validator=enum_of(ChargeStatus)
    )
    reference: str | None = attrs.field(default=None, validator=one_line(optional=True))
    reason: str | None = attrs.field(default=None, validator=one_line(optional=True))
    claimed_until: datetime | None = attrs.field(default=None, validator=_check_claim_end)
    resolved_on: date | None = attrs.field(
        default=None, validator=lambda _i, _a, v: v is None or check_date("resolved_on", v)
    )


class DunningRepository(Protocol):
    """What dunning runs did: their events (one per invoice and step) and card retries."""

    def add_dunning_events(self, events: Sequence[DunningEvent]) -> None:
        """Record ``events``, in order: all or nothing.

        An event's identity is its :attr:`~subbill.dunning.DunningEvent.key` (invoice,
        step, attempt): a key stored already, or given twice, is refused
        (:class:`~subbill.errors.InvalidArgumentError` naming it) and nothing of
        ``events`` is recorded.
        """
        ...

    def dunning_events(
        self, *, invoice: str | None = None, subscription: str | None = None
    ) -> list[DunningEvent]:
        """The events in the order recorded: all, or those of ``invoice``/``subscription``."""
        ...

    def save_charge_attempt(self, attempt: ChargeAttempt) -> None:
        """Insert or replace the attempt of ``attempt.key``."""
        ...

    def queue_dunning_actions(self, actions: Sequence[DunningAction]) -> None:
        """Keep ``actions`` (recorded with their events) to send, until acknowledged.

        The outbox of the dunning runs: an action stays "to send" until
        :meth:`acknowledge_dunning` is called with its key, whatever happens to the run
        that recorded it. An action whose key is queued already is refused
        (:class:`~subbill.errors.InvalidArgumentError`), and nothing of ``actions`` is kept.
        """
        ...

    def unsent_dunning_actions(self) -> list[DunningAction]:
        """The actions queued and not acknowledged yet, in the order queued."""
        ...

    def acknowledge_dunning(self, keys: Sequence[str]) -> int:
        """Mark the actions of ``keys`` as sent: no longer unsent. How many were unsent.

        A key not queued, or acknowledged already, is ignored (acknowledging is idempotent).
        """
        ...

    def charge_attempts(self, *, status: ChargeStatus | None = None) -> list[ChargeAttempt]:
        """The attempts sorted by key: all, or those in ``status``."""
        ...

    def charge_attempt(self, key: str) -> ChargeAttempt | None:
        """The attempt of idempotency key ``key``, or ``None``."""
        ...

    def dunning_invoices(self, *, as_of: date) -> list[Invoice]:
        """The invoices a dunning run as of ``as_of`` decides on, in the order added.

        Every invoice (not a credit note) neither paid nor credited in full nor void now,
        and those credited in full by a credit note dated after ``as_of`` (they still owed
        something that day). An invoice settled by then is not read: a run reads what is
        open, however many invoices are paid (the SQL stores from an index).
        """
        ...

    def dunning_events_of(self, invoices: Sequence[str]) -> list[DunningEvent]:
        """The events of the invoices numbered ``invoices``, in the order recorded."""
        ...

    def last_payment_on(self) -> date | None:
        """The date of the latest payment recorded (:meth:`add_payment`), or ``None``."""
        ...

    def last_dunning_event_on(self) -> date | None:
        """The latest day of a dunning event recorded (:meth:`add_dunning_events`), or ``None``."""
        ...


class UnitOfWork(Protocol):
    """``with store.transaction():`` saves everything inside it, or nothing.

    ``with store.savepoint():`` inside it undoes only its own block if that raises.
    """

    def transaction(self) -> AbstractContextManager[None]:
        """A transaction; nested calls join the outer one."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Inside a transaction, a block whose writes are undone alone if it raises.

        Outside one, a transaction of its own.
        """
        ...


class Store(
    CatalogRepository,
    SubscriptionRepository,
    BillingStateRepository,
    BillingBatchRepository,
    InvoiceRepository,
    PaymentRepository,
    QuoteRepository,
    LicenseRepository,
    CustomerRepository,
    OrderRepository,
    WalletRepository,
    UsageRepository,
    DunningRepository,
    UnitOfWork,
    Protocol,
):
    """Everything an application built on subbill keeps."""

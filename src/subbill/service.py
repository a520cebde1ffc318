"""The billing service: the pure engine run over a store, safe to re-run and to run twice.

:func:`run_billing` bills every stored subscription up to ``as_of``, a page at a time: it
reads a page of subscriptions with their billing states, bills them with
:func:`subbill.billing.bill_subscription` outside any lock, then in one short transaction
checks that none moved meanwhile, numbers the page's invoices from the store's sequence and
saves them with the new states. So:

- a run killed midway loses nothing and duplicates nothing: each page is either saved
  whole, or untouched; running again bills what is left;
- two processes running on the same file (or two shards of one run, ``shard=``/``shards=``)
  write one page at a time (``BEGIN IMMEDIATE``); a subscription another run billed first
  is billed again from what is stored then, so every invoice is created exactly once;
- invoice numbers are reserved inside the transaction that saves the invoices, so they stay
  gapless and unique; a run as of a date before the last invoice issued is refused before
  anything is read or written, so numbers also follow the order of their dates;
- a subscription whose stored data cannot be read, or that cannot be billed, is reported
  in :attr:`BillRunReport.failures` (nothing of it is written) and the run goes on with
  the others;
- a run that bills nothing writes nothing (it does not even take the write lock): a
  billing state is saved only when it changed.

This module is outside the pure core (it drives storage); the core never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Final, NamedTuple

import attrs

from subbill._gc import fewer_collections
from subbill._validate import brief, check_count
from subbill.billing import (
    BillingResult,
    BillingState,
    BillingTerms,
    NegativeBalancePolicy,
    bill_subscription,
    record_payment,
)
from subbill.catalog import Catalog
from subbill.dunning import LATE_PAYMENT_KINDS
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    StorageError,
    SubbillError,
)
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    Payment,
    credit_note_for,
    credits_a_period,
)
from subbill.metering import UsageRecord
from subbill.money import DECIMAL_CONTEXT, Money
from subbill.payments import (
    CreditNoteLink,
    link_credit_lines,
    link_credit_note,
    record_credit_note,
    record_shared_credit_note,
)
from subbill.periods import check_billing_date, check_date
from subbill.quotes import Purchase, SalesOrder
from subbill.storage._arguments import MAX_LIMIT
from subbill.storage.errors import StoredDataError
from subbill.storage.protocols import BillingRow, Store
from subbill.storage.shards import check_shard
from subbill.storage.sqlite import billing_page
from subbill.subscriptions import Subscription, check_replacement

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MAX_BATCH_SIZE",
    "BillRunReport",
    "BillingFailure",
    "Correction",
    "PurchaseReceipt",
    "check_not_overtaken",
    "correct_invoice",
    "invoices_of_run",
    "pay_invoice",
    "replace_subscription",
    "run_billing",
    "store_purchase",
]


@attrs.frozen(kw_only=True)
class BillingFailure:
    """A subscription a run could not bill, and why; the run billed the others.

    ``error`` is typed: a :class:`~subbill.storage.errors.StoredDataError` names the damaged
    row (table and id); any other :class:`~subbill.errors.SubbillError` is what billing the
    subscription refused.
    """

    subscription: str
    error: SubbillError


@attrs.frozen(kw_only=True)
class BillRunReport:
    """What a billing run did: subscriptions seen, invoices created, totals, failures.

    Counts and totals, never a list of every number (a run of a million subscriptions
    keeps a report of constant size): ``first_number`` and ``last_number`` are the first and
    last it issued, and numbers are gapless, so when no other run issued invoices at the
    same time they bound every invoice it created (:func:`invoices_of_run` reads them back).
    ``invoice_count`` counts every document the run numbered, ``credit_note_count`` of
    them credit notes (a period credited after a cancellation); ``total`` nets them.
    """

    as_of: date
    subscriptions: int
    invoice_count: int
    first_number: str | None
    last_number: str | None
    total: dict[str, Money]
    failures: tuple[BillingFailure, ...] = ()
    credit_note_count: int = 0

    @property
    def is_complete(self) -> bool:
        """Whether every subscription was billed (no failure)."""
        return not self.failures


# Read once: a member read through its enum class goes through the enum's metaclass, per row.
_CREDIT_NOTE = DocumentKind.CREDIT_NOTE

#: How many subscriptions :func:`run_billing` saves per transaction unless told otherwise.
DEFAULT_BATCH_SIZE: Final = 500
#: The most subscriptions :func:`run_billing` takes per transaction (one page of ids).
MAX_BATCH_SIZE: Final = MAX_LIMIT


def _billed(
    catalog: Catalog | None,
    subscription_id: str,
    subscription: Subscription,
    state: BillingState | None,
    as_of: date,
    *,
    usage: Sequence[UsageRecord] = (),
) -> BillingResult | BillingFailure:
    """What the engine bills ``subscription`` now (pure: nothing is read nor written).

    ``usage`` is every usage record of the subscription dated up to ``as_of``.
    """
    try:
        if catalog is None and subscription.plans:
            raise _no_catalog(subscription_id)
        plan = subscription.to_charge_plan(catalog)
        return bill_subscription(plan, state, as_of=as_of, usage=usage)
    except SubbillError as error:
        return BillingFailure(subscription=subscription_id, error=error)


def _no_catalog(subscription_id: str) -> InvalidStateError:
    """The refusal to bill a subscription with a plan from a store that has no catalog."""
    return InvalidStateError(
        f"subscription {subscription_id!r} has a plan but the store has no catalog: "
        "load one before billing"
    )


#: The usage records of a subscription the store gave none for (the engine only reads them).
_NO_RECORDS: tuple[UsageRecord, ...] = ()
#: What :func:`_page_usage` gives each subscription of a page: its records, or the error of
#: a damaged record of its own.
_PageUsage = Mapping[str, "list[UsageRecord] | StoredDataError"]


def _usage_before(as_of: date) -> date:
    """The ``before`` of the usage records a run as of ``as_of`` bills: the day after it."""
    return as_of + timedelta(days=1)


def _page_usage(store: Store, rows: Sequence[BillingRow], as_of: date) -> _PageUsage:
    """The usage records of a page's subscriptions dated up to ``as_of``, in one query.

    A damaged record fails its own subscription only: the page is then read again one
    subscription at a time, and each damaged one gets its error.
    """
    ids = [row.subscription_id for row in rows if row.error is None]
    if not ids:
        return {}
    before = _usage_before(as_of)
    try:
        return dict(store.usage_records(ids, before=before))
    except StoredDataError:
        found: dict[str, list[UsageRecord] | StoredDataError] = {}
        for key in ids:
            try:
                found.update(store.usage_records([key], before=before))
            except StoredDataError as error:
                found[key] = error
        return found


def _bill_page(
    catalog: Catalog | None, rows: Sequence[BillingRow], as_of: date, usage: _PageUsage
) -> list[_Billed]:
    """What the engine bills each subscription of a page, beside its row, in one pass.

    A damaged row, one without a subscription (a store breaking its protocol) or one with a
    damaged usage record is its failure; else :func:`_billed`'s outcome, inline (pure:
    nothing is read nor written).
    """
    billed: list[_Billed] = []
    append = billed.append
    for row in rows:
        key, subscription, state, error, _ = row
        if error is None and subscription is not None:
            records = usage.get(key, _NO_RECORDS)
            if not isinstance(records, StoredDataError):
                result: BillingResult | BillingFailure
                try:
                    if catalog is None and subscription.plans:
                        raise _no_catalog(key)
                    plan = subscription.to_charge_plan(catalog)
                    result = bill_subscription(plan, state, as_of=as_of, usage=records)
                except SubbillError as refused:
                    result = BillingFailure(subscription=key, error=refused)
                append((row, result))
                continue
            error = records  # a damaged usage record of its own
        elif error is None:  # a store breaking its protocol: say which row
            error = StoredDataError("no subscription", table="subscriptions", key=key)
        append((row, BillingFailure(subscription=key, error=error)))
    return billed


def _settles_an_invoice(draft: Invoice | None) -> bool:
    """Whether the engine's ``draft`` may name and settle (or count against) an invoice.

    A credit note, under either policy, or an invoice with credit lines of a period (an
    upgrade's credit of the old plan): the store must then look for the invoices they
    credit (:func:`_invoice_it_credits`, :func:`~subbill.payments.link_credit_lines`).
    """
    if draft is None:
        return False
    if draft.kind is _CREDIT_NOTE:
        return True
    return any(credits_a_period(line) for line in draft.lines)


def _bill_one(
    store: Store, catalog: Catalog | None, subscription_id: str, *, as_of: date
) -> Invoice | BillingFailure | None:
    """Bill one subscription inside the caller's transaction; its invoice, if any.

    A failure to read or bill this subscription is returned (nothing was written yet); a
    failure of the store while writing is raised, and the caller's transaction undoes it.
    """
    try:
        subscription = store.get_subscription(subscription_id)
        if subscription is None:
            return None
        state = store.get_billing_state(subscription_id)
        usage = store.usage_records([subscription_id], before=_usage_before(as_of))
    except StoredDataError as error:
        return BillingFailure(subscription=subscription_id, error=error)
    records = usage[subscription_id]
    result = _billed(catalog, subscription_id, subscription, state, as_of, usage=records)
    if isinstance(result, BillingFailure):
        return result
    invoice = None
    new_state = result.state
    if result.invoice is not None:
        link = _invoice_it_credits(store, subscription_id, result.invoice, subscription.terms)
        target = link.invoice
        number = store.next_invoice_number(issued_on=as_of)
        invoice = link.note.finalize(number=number)
        credited: tuple[Invoice, ...] = ()
        if invoice.kind is DocumentKind.INVOICE and _settles_an_invoice(invoice):
            # Its credit lines of periods earlier invoices billed count against them
            # (creditable); consumed here, they cancel nothing there.
            counted = link_credit_lines(invoice, store.invoices(subscription=subscription_id))
            invoice, credited = counted.invoice, counted.credited
        store.add_invoice(invoice)
        for earlier in credited:
            store.save_invoice(earlier)
        if target is not None:
            # The credit first cancels what is still due on the invoice that billed those
            # periods: a customer who has not paid is not owed a refund while dunned for
            # the whole invoice. Under CREDIT_NOTE the rest is owed on the note and
            # refunded against it (applied in part, or naming a paid invoice only); under
            # CARRY_FORWARD the engine put the whole credit in the balance: what the note
            # cancels comes out of it, the rest stays there.
            carried = subscription.terms.negative_balance is NegativeBalancePolicy.CARRY_FORWARD
            applied = record_credit_note(target, invoice, new_state, in_balance=carried)
            store.save_invoice(applied.invoice)
            new_state = applied.state
        elif link.credited:  # a note crediting periods of several invoices: a share on each
            carried = subscription.terms.negative_balance is NegativeBalancePolicy.CARRY_FORWARD
            shared = record_shared_credit_note(
                invoice, link.credited, new_state, in_balance=carried
            )
            for earlier in shared.invoices:
                store.save_invoice(earlier)
            new_state = shared.state
    if invoice is not None or _state_changed(state, new_state):
        store.save_billing_state(subscription_id, new_state)
    return invoice


def _invoice_it_credits(
    store: Store, subscription_id: str, draft: Invoice, terms: BillingTerms
) -> CreditNoteLink:
    """The engine's credit note naming the invoice it corrects, and that invoice, if any.

    :func:`~subbill.payments.link_credit_note` over the subscription's stored invoices,
    under either policy: the note names the invoice that billed all it credits and cancels
    what is still due on it; the rest is owed on the note (``CREDIT_NOTE``: naming a paid
    invoice only) or stays in the credit balance (``CARRY_FORWARD``); a note crediting
    periods of several invoices names each, which records its share (``link.credited``).
    Every payment the store recorded for those invoices must be applied to them already,
    else the note stands alone.
    """
    alone = CreditNoteLink(note=draft, invoice=None)
    if draft.kind is not DocumentKind.CREDIT_NOTE:  # an invoice's credit lines: _bill_one
        return alone
    link = link_credit_note(
        draft, store.invoices(subscription=subscription_id), negative_balance=terms.negative_balance
    )
    # Payments recorded but never applied (store.add_payment alone) are applied by
    # pay_invoice or correct_invoice, with their state: the note then stands alone.
    targets = link.credited if link.invoice is None else (link.invoice,)
    if not targets or any(
        target.number is None or len(store.payments(target.number)) != len(target.payments)
        for target in targets
    ):
        return alone
    return link


def run_billing(
    store: Store,
    *,
    as_of: date,
    batch_size: int = DEFAULT_BATCH_SIZE,
    shard: int = 0,
    shards: int = 1,
    on_progress: Callable[[int, int], None] | None = None,
    after_each: Callable[[str], None] | None = None,
) -> BillRunReport:
    """Bill every subscription of ``store`` up to ``as_of``, ``batch_size`` per transaction.

    Each subscription is billed on its own terms (``Subscription.terms``: payment terms,
    tax rounding, negative-balance policy): a customer's terms never depend on how a run is
    called. ``as_of`` before the date of the last invoice issued is refused
    (:class:`~subbill.errors.InvalidStateError`) before anything is read or written.

    Subscriptions are read with their billing states a page of ``batch_size`` at a time (1
    to :data:`MAX_BATCH_SIZE`; sorted by id) and billed by the pure engine **outside** any
    transaction; then one short transaction per page checks that no subscription or state
    moved meanwhile, reserves the page's invoice numbers and writes its invoices and states
    at once. A subscription that moved (another run billed it first, or it was replaced) is
    billed again inside that transaction, from what is stored then: never written twice.
    A subscription that cannot be read or billed is reported in ``failures`` and nothing
    of it is written; the others of its page are saved. A run killed midway loses at most
    its open page (nothing of it kept, nothing half-written); running again bills what is
    left, exactly once. A page with nothing to write takes no lock and writes nothing.

    ``shard`` and ``shards`` split the run: this call bills only the subscriptions whose
    :func:`~subbill.storage.shards.shard_of` is ``shard`` (``0`` to ``shards - 1``), so that
    ``shards`` processes, each calling it with its own ``shard``, bill everything once
    between them; numbers stay gapless, and in the order of their dates (one ``as_of``).

    Each page's usage records dated up to ``as_of`` are read with it, in one query
    (``store.usage_records(ids, before=as_of + 1 day)``); a damaged record fails its own
    subscription only. A record added while a page is billed is not in that page's
    invoices: it arrives late for them, as one sent after the run would.

    The ids are paged through, never all held. ``on_progress(done, total)`` is called after
    each subscription's page is saved (for a progress bar); ``after_each(subscription_id)``
    after each subscription's page is committed (tests use it to interrupt a run).

    While the run lasts, Python's cyclic garbage collector runs less often (its youngest
    generation's threshold is raised); the caller's setting comes back when it ends or fails.
    """
    check_billing_date("as_of", as_of)
    _check_store(store)
    check_count("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
    check_shard(shard, shards)
    check_not_overtaken(store, as_of)
    # A business selling only through quotes and payment links has no catalog: its
    # subscriptions hold quoted lines. A catalog subscription then fails on its own.
    catalog = store.load_catalog()
    # A shard's share of the subscriptions is not counted ahead: its even share stands in.
    total_count = -(-store.subscription_count() // shards) if on_progress is not None else 0
    tally = _Tally()
    after: str | None = None
    with fewer_collections():  # the caller's collector settings come back when the run ends
        while True:
            rows, after = billing_page(store, after, limit=batch_size, shard=shard, shards=shards)
            if after is None:
                break
            usage = _page_usage(store, rows, as_of)
            outcomes = _save_page(store, catalog, _bill_page(catalog, rows, as_of, usage), as_of)
            if after_each is None and on_progress is None:
                tally.add_page(outcomes)
                continue
            for subscription_id, outcome in outcomes:
                tally.add(outcome)
                if after_each is not None:
                    after_each(subscription_id)
                if on_progress is not None:
                    on_progress(tally.seen, max(total_count, tally.seen))
    return tally.report(as_of)


class _Tally:
    """What a run did so far: counts, the first and last numbers, totals, failures."""

    def __init__(self) -> None:
        self.seen = self.created = self.credit_notes = 0
        self.first_number: str | None = None
        self.last_number: str | None = None
        self.failures: list[BillingFailure] = []
        # Each currency's running sum as a Decimal (in the library's context), made Money
        # once in the report: exactly the sum of the totals, without a Money per invoice.
        self.amounts: dict[str, Decimal] = {}

    def add(self, outcome: Invoice | BillingFailure | None) -> None:
        """Count one subscription's outcome."""
        self.add_page((("", outcome),))

    def add_page(self, outcomes: Sequence[_Outcome]) -> None:
        """Count each subscription's outcome of a page, in order."""
        self.seen += len(outcomes)
        amounts, add = self.amounts, DECIMAL_CONTEXT.add
        created = credit_notes = 0
        first = last = None
        for _, outcome in outcomes:
            if outcome is None:
                continue
            if isinstance(outcome, BillingFailure):
                self.failures.append(outcome)
                continue
            number = outcome.number
            if number is None:  # not finalized: never numbered nor counted
                continue
            created += 1
            first = first or number
            last = number
            if outcome.kind is _CREDIT_NOTE:
                credit_notes += 1
            amount, currency = outcome.total.amount, outcome.currency
            previous = amounts.get(currency)
            amounts[currency] = amount if previous is None else add(previous, amount)
        if created:
            self.created += created
            self.credit_notes += credit_notes
            self.first_number = self.first_number or first
            self.last_number = last

    def report(self, as_of: date) -> BillRunReport:
        """The run's report."""
        return BillRunReport(
            as_of=as_of,
            subscriptions=self.seen,
            invoice_count=self.created,
            first_number=self.first_number,
            last_number=self.last_number,
            total={
                currency: Money._make(sum_, currency) for currency, sum_ in self.amounts.items()
            },
            failures=tuple(self.failures),
            credit_note_count=self.credit_notes,
        )


_Billed = tuple[BillingRow, "BillingResult | BillingFailure"]
_Outcome = tuple[str, "Invoice | BillingFailure | None"]


#: The state of a subscription never billed: what a state read as none is compared with.
_FRESH = BillingState()


def _state_changed(before: BillingState | None, after: BillingState) -> bool:
    """Whether ``after`` differs from the stored state ``before`` (none: a fresh state)."""
    return after != (_FRESH if before is None else before)


_GONE = object()  # the version of a subscription no longer stored: never equal to a row's


class _Writes(NamedTuple):
    """What saving billed rows writes, decided in one pass over them (:func:`_writes_of`).

    ``outcomes`` holds each row's outcome in order: a failure, ``None`` (nothing owed), or
    the engine's draft at each index of ``owed_at`` until it is numbered; ``owing`` those
    drafts, in order; ``states`` the states to write (a new invoice's, or one that
    changed); ``versions`` the version of each row read without error; ``settles``
    whether a draft may settle an invoice (:func:`_settles_an_invoice`).
    """

    outcomes: list[_Outcome]
    owing: list[Invoice]
    owed_at: list[int]
    states: list[tuple[str, BillingState]]
    versions: dict[str, object]
    settles: bool


def _writes_of(billed: Sequence[_Billed]) -> _Writes:
    """What saving ``billed`` writes, each row's state compared once."""
    outcomes: list[_Outcome] = []
    owing: list[Invoice] = []
    owed_at: list[int] = []
    states: list[tuple[str, BillingState]] = []
    versions: dict[str, object] = {}
    settles = False
    for row, result in billed:
        key = row.subscription_id
        if row.error is None:
            versions[key] = row.version
        if isinstance(result, BillingFailure):
            outcomes.append((key, result))
            continue
        invoice, state = result.invoice, result.state
        if invoice is not None:  # a new invoice: its state changed
            owed_at.append(len(outcomes))
            owing.append(invoice)
            states.append((key, state))
            settles = settles or _settles_an_invoice(invoice)
        elif _state_changed(row.state, state):  # nothing owed: written only if it changed
            states.append((key, state))
        outcomes.append((key, invoice))
    return _Writes(outcomes, owing, owed_at, states, versions, settles)


def _save_page(
    store: Store, catalog: Catalog | None, billed: list[_Billed], as_of: date
) -> list[_Outcome]:
    """Save a page the engine billed, in one transaction; each subscription's outcome.

    Outcomes come in the page's order (id order). A page that writes nothing (nothing due,
    failures only) takes no lock at all. When no row moved since it was read and no draft
    settles an invoice (the usual page), the page is written at once, as decided before
    the lock (:func:`_writes_of`); else row by row, a moved or settling one alone.
    """
    writes = _writes_of(billed)
    if not writes.states:  # every invoice comes with its state: nothing to write
        return writes.outcomes
    with store.transaction():
        versions = store.billing_versions(list(writes.versions))
        if not writes.settles and versions == writes.versions:  # nothing moved
            return _write(store, catalog, billed, as_of, writes)
        outcomes: list[_Outcome] = []
        pending: list[_Billed] = []
        for row, result in billed:
            key = row.subscription_id
            if row.error is None and (
                versions.get(key, _GONE) != row.version
                or (isinstance(result, BillingResult) and _settles_an_invoice(result.invoice))
            ):
                # Billed again from what is stored now, alone (after what comes before it).
                outcomes += _write_pending(store, catalog, pending, as_of)
                pending = []
                outcomes.append((key, _bill_in_savepoint(store, catalog, key, as_of)))
            else:  # billed from what is stored, or a failure (a damaged row: nothing to write)
                pending.append((row, result))
        outcomes += _write_pending(store, catalog, pending, as_of)
    return outcomes


def _write_pending(
    store: Store, catalog: Catalog | None, pending: list[_Billed], as_of: date
) -> list[_Outcome]:
    """Number and write the invoices and states of ``pending`` at once (in a savepoint)."""
    return _write(store, catalog, pending, as_of, _writes_of(pending))


def _write(
    store: Store, catalog: Catalog | None, pending: Sequence[_Billed], as_of: date, writes: _Writes
) -> list[_Outcome]:
    """Number and write what ``writes`` says of ``pending`` at once (in a savepoint).

    If the store refuses the batch (a number already stored…), each is billed again alone,
    so that the refusal undoes only the subscription it concerns. If another run issued a
    number dated after ``as_of`` meanwhile, this run stops: it can issue none any more.
    """
    outcomes, owing = writes.outcomes, writes.owing
    try:
        with store.savepoint():
            if owing:
                numbers = store.reserve_invoice_numbers(len(owing), issued_on=as_of)
                # The engine's drafts are this run's alone (dropped once written): each is
                # numbered where it stands, not copied (Invoice._finalize_own_draft).
                invoices = Invoice._finalize_own_drafts(owing, numbers)
                for at, invoice in zip(writes.owed_at, invoices, strict=True):
                    outcomes[at] = (outcomes[at][0], invoice)
                store.add_invoices(invoices)
            if writes.states:
                store.save_billing_states(writes.states)
    except StorageError:
        raise  # the store itself failed (locked, full…): the whole page is undone
    except SubbillError:  # a refusal met while writing: each alone, in its own savepoint
        check_not_overtaken(store, as_of)
        return [
            (
                row.subscription_id,
                result
                if isinstance(result, BillingFailure)
                else _bill_in_savepoint(store, catalog, row.subscription_id, as_of),
            )
            for row, result in pending
        ]
    return outcomes


def check_not_overtaken(store: Store, as_of: date) -> None:
    """Refuse to go on when the store's numbers are dated after ``as_of`` (a later run's).

    A run that may number invoices as of ``as_of`` (a bill run, a dunning run issuing
    late-payment costs documents) calls it before anything is written.
    """
    last = store.last_issued_on()
    if last is not None and as_of < last:
        raise InvalidStateError(
            f"as_of={as_of.isoformat()} is before {last.isoformat()}, the date of the last "
            "invoice issued: invoice numbers must follow the order of their dates, so a run "
            "cannot issue invoices dated before it; run it as of that date or later"
        )


def invoices_of_run(store: Store, report: BillRunReport) -> list[Invoice]:
    """The invoices stored from ``report.first_number`` to ``report.last_number``, in order.

    Every invoice the run created, when no other run issued invoices at the same time (then
    theirs may stand between). Reads the store's invoices in order: for a script or a test
    that pays what a run just billed, not for a store of millions.

    >>> from subbill.storage import MemoryStore
    >>> invoices_of_run(MemoryStore(), "F-2026-000001")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: report='F-2026-000001' must be a BillRunReport (from run_billing)
    """  # noqa: E501  (the doctest shows the whole message)
    _check_store(store)
    if not isinstance(report, BillRunReport):
        raise InvalidTypeError("report", brief(report), "a BillRunReport (from run_billing)")
    if report.first_number is None:
        return []
    found: list[Invoice] = []
    for invoice in store.invoices():
        if found or invoice.number == report.first_number:
            found.append(invoice)
            if invoice.number == report.last_number:
                break
    return found


def _bill_in_savepoint(
    store: Store, catalog: Catalog | None, subscription_id: str, as_of: date
) -> Invoice | BillingFailure | None:
    """Bill one subscription of a batch in its own savepoint: a failure undoes it alone."""
    try:
        with store.savepoint():
            outcome = _bill_one(store, catalog, subscription_id, as_of=as_of)
    except StoredDataError as error:  # a damaged row of this subscription's (an invoice…)
        return BillingFailure(subscription=subscription_id, error=error)
    except StorageError:
        raise  # the store itself failed (locked, full…): the whole batch is undone
    except SubbillError as error:  # a refusal met while writing
        return BillingFailure(subscription=subscription_id, error=error)
    return outcome


def replace_subscription(store: Store, subscription: Subscription) -> bool:
    """Save ``subscription``, refusing to rewrite what its stored version has been billed.

    A new subscription is saved as it is. One that replaces a stored subscription is checked
    against that subscription's billing state with
    :func:`~subbill.subscriptions.check_replacement` first, in the same transaction: a
    replacement that would change billed periods raises ``InvalidStateError`` (naming the
    change to use instead) and nothing is saved. Returns whether a stored one was replaced.
    """
    _check_store(store)
    if not isinstance(subscription, Subscription):
        raise InvalidTypeError("subscription", subscription, "a Subscription")
    with store.transaction():
        stored = store.get_subscription(subscription.id)
        if stored is not None:
            catalog = store.load_catalog()
            if catalog is None and (stored.plans or subscription.plans):
                raise InvalidArgumentError("the store has no catalog: load one before saving")
            state = store.get_billing_state(subscription.id)
            check_replacement(stored, subscription, catalog=catalog, state=state)
        store.save_subscription(subscription)
    return stored is not None


@attrs.frozen(kw_only=True)
class Correction:
    """An invoice corrected in the store: the credit note, the invoice, what was returned."""

    credit_note: Invoice
    invoice: Invoice
    returned: Money


def correct_invoice(
    store: Store,
    number: str,
    *,
    issued_on: date,
    lines: Iterable[InvoiceLine] | None = None,
) -> Correction:
    """Correct the stored invoice ``number`` with a credit note, in one transaction.

    A numbered invoice is never voided nor deleted: the credit note
    (:func:`~subbill.invoices.credit_note_for`, all its lines by default) names it, takes
    the next number of the series (so it is refused if dated before the last invoice
    issued), cancels what is still due on the invoice and returns the rest (customer credit
    it consumed, then what was paid) to the subscription's credit balance, which later
    invoices use up. The invoice, the note and the billing state are saved together.

    Raises:
        InvalidArgumentError: no invoice ``number`` in the store.
        InvalidStateError: the invoice cannot be corrected so (a draft, already credited in
            full, a note dated before the last invoice), or it gave credit back to nobody
            (an invoice without a subscription that was paid).
    """
    check_date("issued_on", issued_on)
    with store.transaction():
        invoice, owner, state = _invoice_and_state(store, number)
        chosen = invoice.lines if lines is None else tuple(lines)
        if owner is not None and any(
            line.period is not None and line.kind not in LATE_PAYMENT_KINDS for line in chosen
        ):
            raise InvalidStateError(
                f"invoice {number!r} bills periods of subscription {owner!r}: correct what the "
                "subscription is billed with (cancel(on=…), change_plan, change_quantity) and "
                "bill again — the engine issues the credit note for those periods; a "
                "correction here would credit them twice. A gesture is a hand-made line"
            )
        draft = credit_note_for(invoice, issued_on=issued_on, lines=chosen)
        note = draft.finalize(number=store.next_invoice_number(issued_on=issued_on))
        result = record_credit_note(invoice, note, state)
        if result.returned.is_positive() and owner is None:
            raise InvalidStateError(
                f"invoice {number!r} belongs to no subscription: the {result.returned} it "
                "would give back has no credit balance to go to; refund it instead"
            )
        store.add_invoice(note)
        store.save_invoice(result.invoice)
        if owner is not None and result.state != state:
            store.save_billing_state(owner, result.state)
    return Correction(credit_note=note, invoice=result.invoice, returned=result.returned)


def _check_store(store: object) -> None:
    """Refuse anything but a store (an object with the storage protocol's methods)."""
    needed = (
        "transaction",
        "savepoint",
        "get_subscription",
        "save_subscription",
        "subscription_count",
        "billing_rows",
        "billing_versions",
        "reserve_invoice_numbers",
        "add_invoices",
        "save_billing_states",
        "get_invoice",
    )
    if not all(callable(getattr(store, name, None)) for name in needed):
        raise InvalidTypeError("store", store, "a Store, e.g. MemoryStore() or SQLiteStore(path)")


def _invoice_and_state(store: Store, number: str) -> tuple[Invoice, str | None, BillingState]:
    """The stored invoice with every stored payment applied, its subscription and state.

    Payments recorded with ``store.add_payment`` alone (before :func:`pay_invoice`) are
    applied here, an overpayment going to the credit balance, so that nothing paid is
    forgotten.
    """
    _check_store(store)
    invoice = store.get_invoice(number)
    if invoice is None:
        raise InvalidArgumentError(f"number={number!r}: there is no such invoice")
    owner = invoice.subscription
    state = (store.get_billing_state(owner) if owner else None) or BillingState()
    # The invoice records its payments in the order they came (capped at what was due); the
    # store keeps them as received: those beyond the invoice's count are not applied yet.
    for payment in store.payments(number)[len(invoice.payments) :]:
        invoice, state = record_payment(invoice, payment, state)
    return invoice, owner, state


def pay_invoice(store: Store, number: str, payment: Payment) -> Invoice:
    """Record ``payment`` of the stored invoice ``number``, in one transaction.

    The payment is stored, applied to the invoice (paid, partially paid) and what exceeds
    the amount due of the open invoice goes to the subscription's credit balance: later
    invoices use it up before anything is due. Returns the invoice as stored.

    Only an invoice with something due is paid: one paid or credited in full (its status
    ``paid``) is refused (:class:`~subbill.errors.InvalidTransitionError`, an
    :class:`~subbill.errors.InvalidStateError`, naming the invoice and its status), and
    nothing is written. Money received for an invoice that owes nothing is most often a
    mistake — the same transfer recorded twice under another reference, the wrong invoice
    number — that crediting it silently would hide; the customer's credit comes from an
    overpayment of an open invoice (refused for an invoice of no subscription: it has no
    balance to go to).

    A payment with a ``reference`` already recorded for this invoice (a processor's retried
    webhook) is recorded once: the same payment again changes nothing; another payment
    under that reference is refused (:class:`~subbill.errors.InvalidStateError`).
    """
    with store.transaction():
        invoice, owner, state = _invoice_and_state(store, number)
        if isinstance(payment, Payment) and payment.reference:
            same = [p for p in store.payments(number) if p.reference == payment.reference]
            if same and same[0] == payment:
                return invoice
            if same:
                raise InvalidStateError(
                    f"reference={payment.reference!r} is already recorded for invoice "
                    f"{number!r} with {same[0].amount} on {same[0].paid_on.isoformat()}: a "
                    "payment's reference names one payment"
                )
        if isinstance(payment, Payment) and payment.paid_on < invoice.issued_on:
            raise InvalidArgumentError(
                f"paid_on={payment.paid_on.isoformat()} is before invoice {number!r} was "
                f"issued on {invoice.issued_on.isoformat()}: record the money received for "
                "it on or after that date (money received earlier is customer credit)"
            )
        before = state
        paid, state = record_payment(invoice, payment, state)
        if owner is None and state.credit_balance != before.credit_balance:
            raise InvalidStateError(
                f"invoice {number!r} belongs to no subscription: the overpayment has no "
                "credit balance to go to; record only what is due"
            )
        store.add_payment(number, payment)
        store.save_invoice(paid)
        if owner is not None and state != (store.get_billing_state(owner) or BillingState()):
            store.save_billing_state(owner, state)
    return paid


@attrs.frozen(kw_only=True)
class PurchaseReceipt:
    """A purchase as the store holds it.

    ``order`` (with the number of its invoice), ``invoice`` (what was due now, numbered and
    paid; ``None`` when nothing was), ``subscription`` (``None`` for one-time lines only);
    ``created`` is False when the purchase was stored already and nothing was written.
    """

    order: SalesOrder
    invoice: Invoice | None
    subscription: Subscription | None
    created: bool


def _same_purchase(stored: SalesOrder, order: SalesOrder) -> bool:
    return attrs.evolve(stored, invoice=None) == order


def store_purchase(store: Store, purchase: Purchase) -> PurchaseReceipt:
    """Store a purchase in one transaction, once: its reference is its idempotency key.

    Saves the accepted quote, numbers the invoice of what was due now (dated the payment
    day), records the payment against it (paid), saves the subscription with the billing
    state the checkout left, and the order. Storing the same purchase again (a retried
    webhook, a double click on a payment link) writes nothing and returns the first
    receipt; a *different* purchase under a reference already used, a subscription id
    already stored, or a quote the store holds as no longer open are refused
    (:class:`~subbill.errors.InvalidStateError`) and nothing is written.
    """
    _check_store(store)
    if not isinstance(purchase, Purchase):
        raise InvalidTypeError("purchase", purchase, "a Purchase (from purchase() or accept())")
    order = purchase.order
    with store.transaction():
        stored = store.get_order(purchase.reference)
        if stored is not None:
            if not _same_purchase(stored, order):
                raise InvalidStateError(
                    f"reference={purchase.reference!r} is the key of another purchase "
                    f"(order {stored.id} of {stored.customer!r} on "
                    f"{stored.ordered_on.isoformat()}): give each payment its own reference"
                )
            return PurchaseReceipt(
                order=stored,
                invoice=None if stored.invoice is None else store.get_invoice(stored.invoice),
                subscription=(
                    None
                    if stored.subscription is None
                    else store.get_subscription(stored.subscription)
                ),
                created=False,
            )
        if purchase.quote is not None:
            kept = store.get_quote(purchase.quote.id)
            if kept is not None:
                kept._open_on(order.ordered_on, "accept")
            store.save_quote(purchase.quote)
        subscription = purchase.subscription
        state = purchase.state
        if subscription is not None and store.get_subscription(subscription.id) is not None:
            raise InvalidStateError(
                f"subscription {subscription.id!r} is stored already: a purchase creates a "
                "new subscription (give the payment its own reference)"
            )
        invoice = None
        if purchase.invoice is not None:
            number = store.next_invoice_number(issued_on=order.ordered_on)
            invoice = purchase.invoice.finalize(number=number)
            if purchase.payment is not None:
                invoice, state = record_payment(invoice, purchase.payment, state)
            store.add_invoice(invoice)
            if purchase.payment is not None:
                store.add_payment(number, purchase.payment)
            order = attrs.evolve(order, invoice=number)
        if subscription is not None:
            store.save_subscription(subscription)
            store.save_billing_state(subscription.id, state)
        store.add_order(order)
    return PurchaseReceipt(order=order, invoice=invoice, subscription=subscription, created=True)

"""Dunning over a store: :func:`run_dunning` decides with the pure core and records once.

The core (:mod:`subbill.dunning`) decides from dates what is due on a day; this module
reads the store's invoices and dunning history, records each action exactly once, charges
the card again through a :class:`PaymentGateway` and numbers the late-payment costs
documents in the invoice series. So:

- the invoices with something to do are decided again and recorded a page at a time
  (``batch_size``), each page in one short transaction, from what is stored then: a run
  killed midway keeps the pages it finished, whole, and the re-run does the rest; two
  processes running at once record every event once (the second finds the first one's
  events in the history and has nothing left to do);
- each action recorded (but a card retry, sent by the run) is also queued in the store's
  outbox, in the same transaction: it
  stays "to send" (:attr:`DunningRunReport.unsent`, every later run's report included)
  until the caller acknowledges it (``store.acknowledge_dunning(keys)``) once it has sent
  it; a run that fails or is killed after recording loses no reminder nor notice. An
  action is handed out with what its invoice owes now and its days late on the run's day
  (never the amount of when it was queued); of an invoice paid or credited in full since,
  only a cancellation carried out is still handed out (alone), the rest is dropped;
- a card retry is recorded — its dunning event and a :class:`ChargeAttempt` still
  pending — in that transaction, **before** the processor is called with the attempt's
  idempotency key (``dunning:INVOICE:retry:N``). Its answer is recorded after, with the
  payment when the card was charged. A run stopped between the two leaves the attempt
  pending: the next run sends it again first, with the same key, and the processor
  answers what it did the first time — the card is never charged twice. A gateway call
  that raises leaves its attempt pending (:attr:`DunningRunReport.failed`) and the run
  goes on; no new retry of that invoice is sent while one of its attempts is unresolved;
- an attempt is never sent for more than its invoice owes in the store now, whatever
  ``as_of``: one whose invoice was paid or credited meanwhile is not sent (again) and is
  left :attr:`~ChargeStatus.TO_REVIEW` — it may or may not have reached the processor —
  or :attr:`~ChargeStatus.WITHDRAWN` when this run had not sent it yet; a run dated
  before the last payment, credit note or dunning event recorded is refused (they are
  facts of that later date: such a run would decide on an invoice as unpaid that is paid
  or credited, or rewrite a history already recorded);
- a card retry is sent only for an invoice whose subscription pays by card on the run's
  day (see :class:`PaymentGateway`);
- with the caller's ``now``, an attempt is claimed by the run that sends it until
  ``now + claim_for``, in the transaction that records or re-reads it: a run started
  meanwhile leaves it alone (:attr:`DunningRunReport.in_flight`); one whose claimer died
  is sent again, with its key, by the first run after the claim ends;
- under a policy with ``late_payment_costs``, each invoice paid late gets its separate
  costs document (:func:`subbill.dunning.late_payment_costs` at the rate of its
  subscription's terms), numbered from the store's sequence and recorded with its claim
  in one transaction; such a run as of a date before the last invoice issued is refused
  before anything is written (numbers follow the order of their dates). Only a business
  customer's invoice is claimed (a consumer owes no such costs; a customer the store does
  not hold is taken as a business, the default kind). An invoice paid late whose
  subscription states no rate (or that has none) is claimed the 40 € indemnity alone — the
  law owes it whatever the rate — and is named in :attr:`DunningRunReport.without_rate`;
- a subscription whose stored row cannot be read (a
  :class:`~subbill.storage.errors.StoredDataError`) fails its own invoices' steps only, as
  a billing run fails its subscription only: nothing of them is recorded, queued, charged
  or claimed, the run takes every other invoice's steps and names it in
  :attr:`DunningRunReport.failures`; the first run after the row is repaired takes them.

This module is outside the pure core; the core never imports it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

import attrs

from subbill._validate import brief, check_count, check_instance, check_line, one_line
from subbill.billing import BillingState, BillingTerms
from subbill.dunning import (
    DunningAction,
    DunningActionKind,
    DunningEvent,
    DunningPolicy,
    LatePaymentClaim,
    dunning_actions,
    events_of,
    late_payment_claims,
    late_payment_costs,
)
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
    StorageError,
    SubbillError,
)
from subbill.invoices import Invoice, Payment
from subbill.money import Money
from subbill.payments import Card
from subbill.periods import check_date
from subbill.service import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, check_not_overtaken, pay_invoice
from subbill.storage.errors import StoredDataError
from subbill.storage.protocols import ChargeAttempt, ChargeStatus, Store

__all__ = [
    "DEFAULT_CLAIM",
    "MAX_CLAIM",
    "ChargeOutcome",
    "Charged",
    "Declined",
    "DunningFailure",
    "DunningRunReport",
    "FailedCharge",
    "PaymentGateway",
    "UnappliedCharge",
    "resolve_charge_attempt",
    "run_dunning",
]

#: How long a run's claim on the card retries it sends lasts, by default (given its ``now``).
DEFAULT_CLAIM = timedelta(minutes=15)
#: The longest claim a run may take on an attempt it sends.
MAX_CLAIM = timedelta(days=1)


@attrs.frozen(kw_only=True)
class Charged:
    """The processor charged the card: ``reference`` is its id of the charge."""

    reference: str = attrs.field(validator=one_line())


@attrs.frozen(kw_only=True)
class Declined:
    """The processor refused the charge: ``reason`` is its code (``card_declined``…)."""

    reason: str = attrs.field(validator=one_line())


#: What a :class:`PaymentGateway` answers.
ChargeOutcome = Charged | Declined


@runtime_checkable
class PaymentGateway(Protocol):
    """A payment processor, as a dunning run charges a card through it.

    ``charge`` is called with the invoice's number, the amount still due and an
    ``idempotency_key`` derived from (invoice, attempt): called again with the same key, a
    processor must answer what it did the first time and never charge twice (every
    processor's idempotency keys promise it). It answers :class:`Charged` or
    :class:`Declined`. A ``charge`` that also accepts the keywords ``payment_method`` (the
    subscription's payment method on the run's day: the processor's token of the card;
    None when the store does not hold the subscription) and ``customer`` (the invoice's
    customer id), by name or as ``**keywords``, is given them; one written without them
    is called as before (so they are not part of this protocol's signature).

    A retry is sent only for an invoice whose subscription pays by card: none for an
    invoice without a subscription, nor for a subscription with no payment method on the
    run's day, nor for one whose method the customer's stored wallet holds as another
    method than a :class:`~subbill.payments.Card` (a transfer, a direct debit). A method
    the wallet does not hold (or no wallet stored) is the processor's token: taken as a
    card. A subscription the store does not hold is left to the processor (it is retried).

    A call that raises (a network error, a processor's outage) leaves that attempt pending:
    the run reports it in :attr:`DunningRunReport.failed` and goes on with every other
    invoice; the next run sends it again, with the same key, and sends no new retry of its
    invoice meanwhile. An attempt is never sent for more than its invoice owes in the store
    when it is sent (a run dated before a payment recorded is refused); one whose invoice
    was paid meanwhile is not sent again but left for a person
    (:attr:`~subbill.storage.protocols.ChargeStatus.TO_REVIEW`: it may have reached the
    processor). Given the run's ``now``, an attempt is sent by one run at a time.
    """

    def charge(self, invoice_number: str, amount: Money, *, idempotency_key: str) -> ChargeOutcome:
        """Charge ``amount`` for ``invoice_number`` on the customer's card, once per key."""
        ...


@attrs.frozen(kw_only=True)
class UnappliedCharge:
    """A card charged whose payment the store refused to apply, and why (for a person).

    The attempt is recorded charged (never sent again); the money is to apply by hand or
    to refund, e.g. an invoice credited after the attempt was sent
    (:func:`~subbill.service.pay_invoice` pays only an open invoice).
    """

    attempt: ChargeAttempt
    error: SubbillError


@attrs.frozen(kw_only=True)
class FailedCharge:
    """A card retry whose gateway call raised ``error``: left pending, sent again next run."""

    attempt: ChargeAttempt
    error: Exception


@attrs.frozen(kw_only=True)
class DunningFailure:
    """A subscription whose stored row cannot be read, and the invoices left as they were.

    ``error`` names the damaged row (a :class:`~subbill.storage.errors.StoredDataError`:
    table and id); ``invoices`` are the numbers of the subscription's invoices whose steps
    the run did not take (no event recorded, nothing queued, no card charged, no costs
    claimed). The run took every other invoice's steps; once the row is repaired (the
    subscription saved again with ``store.save_subscription``), the next run takes these.
    """

    subscription: str
    invoices: tuple[str, ...]
    error: StoredDataError


@attrs.frozen(kw_only=True)
class DunningRunReport:
    """What a dunning run did.

    ``actions``: the actions it took, in the order of the invoices (each with the steps it
    skipped); ``unsent``: every action recorded and not acknowledged yet — this run's and
    those of earlier runs, killed ones included — in the order recorded, each with what its
    invoice owes now and its days late on ``as_of``: the caller sends them, then
    acknowledges them (``store.acknowledge_dunning([a.key for a in unsent])``) — of an
    invoice paid or credited in full since, only a cancellation is still handed out (its
    other actions dropped), the rest is dropped, not sent;
    ``charges``: the card retries it sent (pending ones of earlier runs first), as recorded
    after the processor answered; ``failed``: those whose gateway call raised
    (:class:`FailedCharge`, left pending); ``to_review``: attempts not sent because their
    invoice no longer owes their amount (withdrawn, or to review when an earlier run may
    have sent them); ``in_flight``: pending attempts claimed by another run still in
    progress, left to it; ``documents``: the late-payment costs documents it issued,
    numbered (business customers only); ``without_rate``: the invoices paid late whose
    costs document claims the 40 € indemnity alone because their subscription states no
    penalty rate (or they have none); ``unapplied``: the charges whose payment the
    store refused (:class:`UnappliedCharge`), for a person to apply or refund;
    ``retries_due``: for a run without a gateway, the card retries of the policy due on
    ``as_of`` — neither charged nor recorded (a run with a gateway charges them; an invoice
    with an attempt pending or to review, or whose subscription pays by no card, is not
    listed: it gets no new retry); ``failures``: the subscriptions whose stored row cannot
    be read (:class:`DunningFailure`), whose invoices' steps were not taken.
    """

    as_of: date
    actions: tuple[DunningAction, ...] = ()
    unsent: tuple[DunningAction, ...] = ()
    charges: tuple[ChargeAttempt, ...] = ()
    failed: tuple[FailedCharge, ...] = ()
    to_review: tuple[ChargeAttempt, ...] = ()
    in_flight: tuple[ChargeAttempt, ...] = ()
    documents: tuple[Invoice, ...] = ()
    without_rate: tuple[str, ...] = ()
    unapplied: tuple[UnappliedCharge, ...] = ()
    retries_due: tuple[DunningAction, ...] = ()
    failures: tuple[DunningFailure, ...] = ()

    @property
    def charged(self) -> tuple[ChargeAttempt, ...]:
        """The retries the processor charged."""
        return tuple(c for c in self.charges if c.status is ChargeStatus.CHARGED)

    @property
    def is_complete(self) -> bool:
        """Whether every invoice's steps were taken (no subscription row failed to read)."""
        return not self.failures


@attrs.define
class _Sending:
    """What the run's gateway calls gave, gathered for its report."""

    #: The run's date: a charge answered in this run is a payment of that day (an attempt
    #: left pending by an earlier run is paid when it is charged, not when it was recorded).
    on: date
    charges: list[ChargeAttempt] = attrs.Factory(list)
    failed: list[FailedCharge] = attrs.Factory(list)
    to_review: list[ChargeAttempt] = attrs.Factory(list)
    unapplied: list[UnappliedCharge] = attrs.Factory(list)
    #: The keys of the attempts this run has sent (or tried to): any other attempt still
    #: pending is another run's, whose answer decides its invoice's steps.
    handled: set[str] = attrs.Factory(set)


def _check_store(store: object) -> None:
    needed = (
        "transaction",
        "invoices",
        "get_invoice",
        "dunning_events",
        "dunning_events_of",
        "dunning_invoices",
        "last_payment_on",
        "last_dunning_event_on",
        "add_dunning_events",
        "queue_dunning_actions",
        "unsent_dunning_actions",
    )
    if not all(callable(getattr(store, name, None)) for name in needed):
        raise InvalidTypeError(
            "store", brief(store), "a Store, e.g. MemoryStore() or SQLiteStore(path)"
        )


def _check_now(now: object, claim_for: object) -> None:
    if now is not None and (not isinstance(now, datetime) or now.tzinfo is None):
        raise InvalidTypeError("now", brief(now), "a datetime with its time zone, or None")
    if not isinstance(claim_for, timedelta):
        raise InvalidTypeError("claim_for", brief(claim_for), "a timedelta")
    if claim_for <= timedelta(0):
        raise InvalidArgumentError(f"claim_for={claim_for} must be longer than 0")
    if claim_for > MAX_CLAIM:
        raise OutOfBoundsError("claim_for", claim_for, f"at most {MAX_CLAIM} (a day)")


def _check_callbacks(gateway: object, after_each: object) -> None:
    """Refuse a gateway class (not an instance) and an ``after_each`` that is no callable."""
    if gateway is not None and (
        isinstance(gateway, type) or not isinstance(gateway, PaymentGateway)
    ):
        raise InvalidTypeError(
            "gateway", brief(gateway), "a PaymentGateway instance (with charge()) or None"
        )
    if after_each is not None and not callable(after_each):
        raise InvalidTypeError("after_each", brief(after_each), "a callable or None")


def _check_not_before_facts(store: Store, invoices: Iterable[Invoice], as_of: date) -> None:
    """Refuse a run dated before the last payment, credit note or dunning event recorded.

    Nothing is read further nor written. The store's payments and credit notes are facts
    of their date, and so are the steps already taken: a run as of an earlier day would
    decide on an invoice as unpaid that is paid or credited now (a reminder for it, a
    cancellation, a card charged twice) or rewrite a history already recorded (a charge
    dated before the formal notice it follows).

    The last payment and the last dunning event are the store's, whatever their invoice
    (``last_payment_on``, ``last_dunning_event_on``: a costs claim is an event of an invoice
    paid since). Credit notes are those of ``invoices``, the invoices the run reads
    (``store.dunning_invoices``: every invoice open on ``as_of``, and those credited in full
    after it): a credit note of an invoice paid already changes no decision of a run, nor
    does one that only names its invoice (``names_only``: it cancels nothing).
    """
    items = list(invoices)
    cancelling = (c.credited_on for i in items for c in i.corrections if c.cancels.is_positive())
    facts = (
        (store.last_payment_on(), "payment"),
        (max(cancelling, default=None), "credit note"),
        (store.last_dunning_event_on(), "dunning event"),
    )
    later = [(day, what) for day, what in facts if day is not None and as_of < day]
    if later:
        last, what = max(later, key=lambda fact: fact[0])  # the first of equal dates
        raise InvalidStateError(
            f"as_of={as_of.isoformat()} is before {last.isoformat()}, the date of the last "
            f"{what} recorded: a dunning run decides from every {what} recorded, so it "
            "cannot be dated before one; run it as of that date or later"
        )


def _history_of(store: Store, invoices: Iterable[Invoice]) -> list[DunningEvent]:
    """The events ``dunning_actions`` needs to decide on ``invoices``.

    Their own events in the order recorded, then every other cancellation of their
    subscriptions (a subscription dunning cancelled through another invoice, paid since, is
    neither suspended nor cancelled again — whatever the policy of this run). The decisions
    do not depend on the order of the events.
    """
    items = list(invoices)
    events = store.dunning_events_of([i.number for i in items if i.number is not None])
    seen = {event.key for event in events}
    owners = dict.fromkeys(i.subscription for i in items if i.subscription is not None)
    for owner in owners:
        for event in store.dunning_events(subscription=owner):
            if event.key not in seen and event.does(DunningActionKind.CANCEL):
                events.append(event)
                seen.add(event.key)
    return events


def run_dunning(
    store: Store,
    *,
    as_of: date,
    policy: DunningPolicy,
    gateway: PaymentGateway | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    after_each: Callable[[str], None] | None = None,
    now: datetime | None = None,
    claim_for: timedelta = DEFAULT_CLAIM,
) -> DunningRunReport:
    """Take the dunning actions due on ``as_of`` for the store's invoices, each exactly once.

    Decides with :func:`~subbill.dunning.dunning_actions` from the stored invoices and
    history, then decides the invoices with something to do again, ``batch_size`` per
    transaction (1 to :data:`~subbill.service.MAX_BATCH_SIZE`), from what is stored then,
    and records their events (skipped ones included) and queues the actions in the
    store's outbox. A cancel action cancels the subscription on its day
    (``cancel(on=…, at_period_end=False)``, the usual credit rules; one set to end later —
    the customer cancelled at the period's end — is brought forward to that day,
    ``bring_cancellation_forward``, one that ends by then stays as it is); a subscription
    dunning cancelled is not suspended nor cancelled again for its other invoices (their
    reminders and notices go on). Card retries go through ``gateway``, for the invoices
    whose subscription pays by card;
    without one, the policy's retries are left for a run that has one (nothing of them is
    recorded). Attempts a stopped run left pending are sent again first, with their key.
    Re-running on the same day does nothing more.

    ``now`` (an aware datetime: the caller's clock; the run reads none) lets the run claim
    the attempts it sends until ``now + claim_for``, so that two runs at once never send
    one attempt both; without it, attempts are not claimed (and claimed ones are left
    alone). A page's card retries are recorded and sent before its other actions are
    decided again: an invoice a retry pays gets no notice nor suspension in the same run,
    and one whose retry another run is sending gets its steps from that run.
    ``after_each(invoice_number)`` is called for each invoice after its page's first
    transaction is committed (its retries, with a gateway; else its actions) — tests use it
    to interrupt a run.

    Raises:
        InvalidStateError: ``as_of`` before the date of the last payment, credit note or
            dunning event recorded, or a policy with late-payment costs and ``as_of``
            before the date of the last invoice issued (nothing written then).
    """
    check_date("as_of", as_of)
    _check_store(store)
    check_instance("policy", policy, DunningPolicy)
    check_count("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
    _check_callbacks(gateway, after_each)
    _check_now(now, claim_for)
    # Only what dunning needs: the invoices open on as_of (a paid one is never read), and
    # the history of those alone.
    invoices = store.dunning_invoices(as_of=as_of)
    _check_not_before_facts(store, invoices, as_of)
    if policy.late_payment_costs:  # costs documents are numbered in the order of their dates
        check_not_overtaken(store, as_of)
    until = None if now is None else now + claim_for
    steps = policy if gateway is not None else attrs.evolve(policy, retry_days=())
    no_retry = attrs.evolve(policy, retry_days=())
    sending = _Sending(on=as_of)
    in_flight: list[ChargeAttempt] = []
    if gateway is not None:
        mine, in_flight = _claim_pending(store, now, until)
        if mine:
            _send(store, gateway, mine, sending, fresh=False)
            invoices = store.dunning_invoices(as_of=as_of)  # the charges paid some
    # A subscription whose row cannot be read fails its own invoices only: they are left
    # out of the run, every other invoice gets its steps.
    ended, damaged = _read_owners(store, invoices, as_of)
    failures = _Failures(damaged, invoices)
    if damaged:
        invoices = [i for i in invoices if i.subscription not in damaged]
    history = _history_of(store, invoices)
    decided = dunning_actions(invoices, policy=policy, history=history, as_of=as_of, ended=ended)
    retries_due: list[DunningAction] = []
    if gateway is None:  # the retries are left to a run with a gateway: listed, not recorded
        retries_due = _retries_due(store, invoices, decided, as_of)
        decided = tuple(action for action in decided if action.attempt is None)
    taken: list[DunningAction] = []
    numbers = list(dict.fromkeys(action.invoice for action in decided))
    for start in range(0, len(numbers), batch_size):
        page = numbers[start : start + batch_size]
        # The card retries first: an invoice the retry pays gets no reminder, notice nor
        # suspension in the same run (the steps are decided again once the answers are in).
        retried: tuple[DunningAction, ...] = ()
        if gateway is not None:
            retried, attempts = _record(store, page, (steps, no_retry), as_of, until, retries=True)
            _page_recorded(page, after_each)
            if attempts:
                _send(store, gateway, attempts, sending, fresh=True)
        actions, _ = _record(
            store,
            page,
            (steps, no_retry),
            as_of,
            until,
            retries=False,
            # Without a gateway no attempt is being sent by this run nor waited for: a
            # pending one (another run's, or one whose call failed) holds back no step.
            sent=sending.handled if gateway is not None else None,
        )
        if gateway is None:
            _page_recorded(page, after_each)
        order = {number: index for index, number in enumerate(page)}
        taken.extend(
            sorted(
                (*retried, *actions),
                key=lambda action: (order[action.invoice], action.attempt is None),
            )
        )
    documents, without_rate = (
        _issue_costs(store, policy, as_of, after_each, failures)
        if policy.late_payment_costs
        else ([], [])
    )
    return DunningRunReport(
        as_of=as_of,
        actions=tuple(taken),
        unsent=tuple(_unsent(store, as_of)),
        charges=tuple(sending.charges),
        failed=tuple(sending.failed),
        to_review=tuple(sending.to_review),
        in_flight=tuple(in_flight),
        documents=tuple(documents),
        without_rate=tuple(without_rate),
        unapplied=tuple(sending.unapplied),
        retries_due=tuple(retries_due),
        failures=failures.report(),
    )


class _Failures:
    """The subscriptions whose row a run could not read, each with the invoices it left."""

    def __init__(self, damaged: dict[str, StoredDataError], invoices: Iterable[Invoice]) -> None:
        self._found: dict[str, tuple[StoredDataError, list[str]]] = {
            owner: (error, []) for owner, error in damaged.items()
        }
        for invoice in invoices:
            if invoice.subscription in damaged and invoice.number is not None:
                self._found[invoice.subscription][1].append(invoice.number)

    def add(self, subscription: str, number: str, error: StoredDataError) -> None:
        """Record that ``number``'s steps were not taken: its subscription's row failed."""
        _, numbers = self._found.setdefault(subscription, (error, []))
        if number not in numbers:
            numbers.append(number)

    def report(self) -> tuple[DunningFailure, ...]:
        return tuple(
            DunningFailure(subscription=owner, invoices=tuple(numbers), error=error)
            for owner, (error, numbers) in self._found.items()
        )


def _retries_due(
    store: Store, invoices: Iterable[Invoice], decided: Iterable[DunningAction], as_of: date
) -> list[DunningAction]:
    """The card retries of ``decided`` a run with a gateway would send.

    Not those of an invoice with an attempt pending or to review, nor of one whose
    subscription pays by no card on ``as_of`` (as :func:`_record` decides them).
    """
    unresolved = {a.invoice for status in _UNRESOLVED for a in store.charge_attempts(status=status)}
    by_number = {i.number: i for i in invoices}
    return [
        action
        for action in decided
        if action.attempt is not None
        and action.invoice not in unresolved
        and _card_of(store, by_number[action.invoice], as_of) is not None
    ]


def _unsent(store: Store, as_of: date) -> list[DunningAction]:
    """The actions queued and not sent yet, as they stand on ``as_of`` (the run's day).

    Each is handed out with what its invoice owes in the store now and its days late on
    ``as_of`` (a reminder or a notice queued by an earlier run never demands what was paid
    since), under its stored key. Of an invoice paid or credited in full since, only a
    cancellation carried out is handed out (the customer is told, whatever the payment:
    it is not undone by it), alone; its reminders, formal notice and suspension — which
    the payment made moot — are acknowledged here, never handed out: a formal notice must
    not reach a customer who has paid.
    """
    out: list[DunningAction] = []
    with store.transaction():
        queued = store.unsent_dunning_actions()
        numbers = {action.invoice for action in queued}
        invoices = {number: store.get_invoice(number) for number in numbers}
        settled: list[str] = []
        for action in queued:
            invoice = invoices[action.invoice]
            if invoice is None:  # nothing to refresh it from: as recorded
                out.append(action)
                continue
            due = invoice.amount_due
            kinds = action.actions
            if not due.is_positive():
                kinds = tuple(k for k in action.actions if k is DunningActionKind.CANCEL)
                if not kinds:
                    settled.append(action.key)
                    continue
            out.append(
                attrs.evolve(
                    action,
                    actions=kinds,
                    amount_due=due,
                    days_late=max((as_of - action.due_on).days, 0),
                )
            )
        if settled:
            store.acknowledge_dunning(settled)
    return out


def _page_recorded(page: list[str], after_each: Callable[[str], None] | None) -> None:
    """Call ``after_each`` for each invoice of a page whose first decisions are recorded."""
    if after_each is not None:
        for number in page:
            after_each(number)


def _issue_costs(
    store: Store,
    policy: DunningPolicy,
    as_of: date,
    after_each: Callable[[str], None] | None,
    failures: _Failures,
) -> tuple[list[Invoice], list[str]]:
    """Issue the late-payment costs documents due; the invoices claimed the indemnity alone.

    Only business customers' invoices are claimed: a consumer's gets no document. One whose
    subscription's row cannot be read is not claimed (nothing written) and is added to
    ``failures``; the others are.
    """
    documents: list[Invoice] = []
    without_rate: list[str] = []
    history = store.dunning_events()
    for claim in late_payment_claims(store.invoices(), policy=policy, history=history, as_of=as_of):
        # Business customers only (French B2B law): a consumer owes neither the indemnity
        # nor the penalties. A customer the store does not hold is taken as a business,
        # the default kind of a customer record.
        customer = store.get_customer(claim.invoice.customer)
        try:
            issued = (
                None if customer is not None and not customer.is_business else _claim(store, claim)
            )
        except StoredDataError as error:  # its subscription's row (read first: nothing written)
            owner = claim.invoice.subscription
            if owner is None:
                raise  # no subscription's row: the store's own failure
            failures.add(owner, claim.invoice.number or "", error)
            issued = None
        if issued is not None:
            document, percent = issued
            documents.append(document)
            if percent is None:
                without_rate.append(claim.invoice.number or "")
        if after_each is not None:
            after_each(claim.invoice.number or "")
    return documents, without_rate


def _held(attempt: ChargeAttempt, now: datetime | None) -> bool:
    """Whether another run's claim on ``attempt`` still holds at ``now``.

    A run without ``now`` cannot tell when a claim ends: it leaves every claimed attempt
    alone.
    """
    until = attempt.claimed_until
    return until is not None and (now is None or now < until)


def _claim_pending(
    store: Store, now: datetime | None, until: datetime | None
) -> tuple[list[ChargeAttempt], list[ChargeAttempt]]:
    """Claim the pending attempts no other run holds, in one write transaction.

    Returns those claimed (to send again) and those another run holds (left to it).
    """
    mine: list[ChargeAttempt] = []
    held: list[ChargeAttempt] = []
    with store.transaction():
        for attempt in store.charge_attempts(status=ChargeStatus.PENDING):
            if _held(attempt, now):
                held.append(attempt)
                continue
            if until is not None:
                attempt = attrs.evolve(attempt, claimed_until=until)  # noqa: PLW2901
                store.save_charge_attempt(attempt)
            mine.append(attempt)
    return mine, held


#: The statuses of an attempt still unresolved: no new retry of its invoice is sent.
_UNRESOLVED = (ChargeStatus.PENDING, ChargeStatus.TO_REVIEW)


def _record(
    store: Store,
    numbers: list[str],
    policies: tuple[DunningPolicy, DunningPolicy],
    as_of: date,
    until: datetime | None,
    *,
    retries: bool,
    sent: frozenset[str] | set[str] | None = frozenset(),
) -> tuple[tuple[DunningAction, ...], list[ChargeAttempt]]:
    """Decide the invoices ``numbers`` again from what is stored and record them, at once.

    One transaction: what another run recorded meanwhile is in the history read inside it.
    Only the card retries (``retries=True``) or only the other actions are recorded: a run
    sends its retries before it decides the steps again, so a retry that pays an invoice
    leaves it no step to take; an invoice whose retry another run is sending (pending, its
    key not in ``sent``) gets its steps from that run, once the answer is in (``sent=None``:
    a run without a gateway, which waits for no answer).
    An invoice with an attempt unresolved gets no new retry (``policies``: with, without).
    Returns the actions recorded (queued in the outbox) and the card retries to send
    (recorded pending, claimed until ``until``), each for at most what its invoice owes.
    """
    steps, no_retry = policies
    with store.transaction():
        invoices = [i for i in map(store.get_invoice, numbers) if i is not None]
        wanted = set(numbers)
        if not retries and sent is not None:
            elsewhere = {
                a.invoice
                for a in store.charge_attempts(status=ChargeStatus.PENDING)
                if a.key not in sent
            }
            invoices = [i for i in invoices if i.number not in elsewhere]
        # The steps are decided with the other invoices of the page's subscriptions under a
        # policy that cancels (the first cancel step due among them ends the subscription
        # for all), with their events and every cancellation.
        deciding = invoices if retries else _with_siblings(store, invoices, no_retry)
        history = _history_of(store, deciding)
        gone = _ended(store, deciding, as_of)
        unresolved = {
            a.invoice
            for status in _UNRESOLVED
            for a in store.charge_attempts(status=status)
            if a.invoice in wanted
        }
        if retries:  # the card on file is charged again: none, none charged
            unresolved |= {
                i.number
                for i in invoices
                if i.number is not None and _card_of(store, i, as_of) is None
            }
        if retries:
            free = [i for i in invoices if i.number not in unresolved]
            blocked = [i for i in invoices if i.number in unresolved]
            found = [
                action
                for action in (
                    *dunning_actions(free, policy=steps, history=history, as_of=as_of, ended=gone),
                    *dunning_actions(
                        blocked, policy=no_retry, history=history, as_of=as_of, ended=gone
                    ),
                )
                if action.attempt is not None
            ]
        else:  # the steps alone: the same under either policy
            mine = {i.number for i in invoices}
            found = [
                action
                for action in dunning_actions(
                    deciding, policy=no_retry, history=history, as_of=as_of, ended=gone
                )
                if action.invoice in mine
            ]
        if not found:
            return (), []  # another run recorded them meanwhile
        order = {number: index for index, number in enumerate(numbers)}
        actions = tuple(sorted(found, key=lambda action: order[action.invoice]))
        store.add_dunning_events(events_of(actions))
        # The outbox keeps what is for people to send (a retry is sent by the run itself,
        # its answer kept with its charge attempt).
        store.queue_dunning_actions([a for a in actions if a.attempt is None])
        owed = {i.number: i.amount_due for i in invoices}
        attempts: list[ChargeAttempt] = []
        for action in actions:
            if DunningActionKind.CANCEL in action.actions and action.subscription is not None:
                _cancel(store, action.subscription, action.on)
            key = action.idempotency_key
            due = owed[action.invoice]
            if key is None or action.attempt is None or not due.is_positive():
                continue
            attempt = ChargeAttempt(
                key=key,
                invoice=action.invoice,
                attempt=action.attempt,
                amount=min(action.amount_due, due),  # never more than owed now
                on=action.on,
                claimed_until=until,
            )
            store.save_charge_attempt(attempt)
            attempts.append(attempt)
    return actions, attempts


def _ended(store: Store, invoices: Iterable[Invoice], as_of: date) -> frozenset[str]:
    """The subscriptions of ``invoices`` that have ended by ``as_of``, whatever ended them.

    The customer's cancellation (at the period's end or brought forward), a fixed term:
    their service is over, so dunning neither suspends nor cancels them (their invoices'
    reminders and notices go on). A subscription the store does not hold is not known to
    have ended. A row that cannot be read raises its :class:`StoredDataError` (the run left
    such subscriptions' invoices out before: only a row damaged meanwhile raises here).
    """
    gone, damaged = _read_owners(store, invoices, as_of)
    for error in damaged.values():
        raise error
    return gone


def _read_owners(
    store: Store, invoices: Iterable[Invoice], as_of: date
) -> tuple[frozenset[str], dict[str, StoredDataError]]:
    """The subscriptions of ``invoices`` ended by ``as_of``, and those whose row fails to read.

    Ended as :func:`_ended` says; each damaged row with its :class:`StoredDataError`.
    """
    owners = dict.fromkeys(i.subscription for i in invoices if i.subscription is not None)
    gone = set()
    damaged: dict[str, StoredDataError] = {}
    for owner in owners:
        try:
            subscription = store.get_subscription(owner)
        except StoredDataError as error:
            damaged[owner] = error
            continue
        ends = None if subscription is None else subscription.ends_on
        if ends is not None and ends <= as_of:
            gone.add(owner)
    return frozenset(gone), damaged


def _with_siblings(store: Store, invoices: list[Invoice], policy: DunningPolicy) -> list[Invoice]:
    """``invoices`` and, under a policy that cancels, every invoice of their subscriptions.

    In the store's order, each once (the subscription's first cancel step due decides
    when it ends, whichever page its invoice is on).
    """
    if not any(DunningActionKind.CANCEL in step.actions for step in policy.steps):
        return invoices
    owners = dict.fromkeys(i.subscription for i in invoices if i.subscription is not None)
    chosen = {i.number: i for i in invoices}
    siblings = [i for owner in owners for i in store.invoices(subscription=owner)]
    for sibling in siblings:
        chosen.setdefault(sibling.number, sibling)
    return list(chosen.values())


class _Unknown:
    """The card of an invoice whose subscription the store does not hold: not known."""


_UNKNOWN = _Unknown()


def _card_of(store: Store, invoice: Invoice, day: date) -> str | _Unknown | None:
    """The card on file ``invoice``'s subscription pays by on ``day``; None when none.

    None for an invoice without a subscription, a subscription with no payment method
    that day, or one whose method the customer's stored wallet holds as another method
    than a card (a transfer, a direct debit). A method the wallet does not hold (or no
    wallet) is the processor's token: a card as far as subbill can tell. A subscription
    the store does not hold is :data:`_UNKNOWN`: the processor knows the customer's card.
    """
    if invoice.subscription is None:
        return None
    subscription = store.get_subscription(invoice.subscription)
    if subscription is None:
        return _UNKNOWN
    method = subscription.payment_method_on(day)
    if method is None:
        return None
    wallet = store.get_wallet(subscription.customer)
    saved = None if wallet is None else {m.id: m for m in wallet.methods}.get(method)
    return None if saved is not None and not isinstance(saved, Card) else method


def _cancel(store: Store, subscription_id: str, on: date) -> None:
    """End the subscription on ``on`` with the usual verb (and its credit rules).

    One already set to end later (the customer cancelled at the period's end) is brought
    forward to ``on`` (one change in its history); one that ends on ``on`` or before is kept
    as it is.
    """
    subscription = store.get_subscription(subscription_id)
    if subscription is None:
        return
    if subscription.cancel_at is None:
        store.save_subscription(subscription.cancel(on=on, at_period_end=False))
    elif max(on, subscription.start) < subscription.cancel_at:  # it would end later
        store.save_subscription(subscription.bring_cancellation_forward(on=on))


def _still_owed(store: Store, attempt: ChargeAttempt) -> bool:
    """Whether ``attempt``'s invoice owes at least its amount in the store now."""
    invoice = store.get_invoice(attempt.invoice)
    return invoice is not None and invoice.amount_due >= attempt.amount


def _send(
    store: Store,
    gateway: PaymentGateway,
    attempts: list[ChargeAttempt],
    sending: _Sending,
    *,
    fresh: bool,
) -> None:
    """Charge each of ``attempts`` through ``gateway``; record the answers in one transaction.

    ``fresh``: this run recorded them and has not sent them yet (else an earlier run may
    have). An attempt whose invoice no longer owes its amount is not sent: withdrawn when
    fresh, else to review. A call that raises leaves its attempt pending (its claim
    released) and is reported failed; the others go on. A charged attempt records its
    payment (:func:`~subbill.service.pay_invoice`, the key as the payment's reference:
    recorded once, whatever happens). The answers received are recorded even if a later
    step raises; an attempt whose answer is not recorded stays pending, sent again with its
    key by the next run. A payment the store refuses is reported as an
    :class:`UnappliedCharge`; the attempt is recorded charged all the same.
    """
    answered: list[ChargeAttempt] = []
    sending.handled.update(attempt.key for attempt in attempts)
    charge: Callable[..., object] = gateway.charge
    wanted = _keywords_of(charge)
    try:
        for attempt in attempts:
            if not _still_owed(store, attempt):
                status = ChargeStatus.WITHDRAWN if fresh else ChargeStatus.TO_REVIEW
                reason = "invoice_no_longer_due_not_sent" if fresh else "invoice_paid_meanwhile"
                answered.append(
                    attrs.evolve(attempt, status=status, reason=reason, claimed_until=None)
                )
                continue
            try:
                outcome = charge(
                    attempt.invoice,
                    attempt.amount,
                    idempotency_key=attempt.key,
                    **_charge_keywords(store, attempt, wanted, sending.on),
                )
            except Exception as error:
                released = attrs.evolve(attempt, claimed_until=None)
                answered.append(released)
                sending.failed.append(FailedCharge(attempt=released, error=error))
                continue
            match outcome:
                case Charged(reference=reference):
                    answered.append(
                        attrs.evolve(
                            attempt,
                            status=ChargeStatus.CHARGED,
                            reference=reference,
                            claimed_until=None,
                        )
                    )
                case Declined(reason=reason):
                    answered.append(
                        attrs.evolve(
                            attempt, status=ChargeStatus.DECLINED, reason=reason, claimed_until=None
                        )
                    )
                case _:
                    raise InvalidTypeError(
                        "gateway.charge(…)", brief(outcome), "a Charged or Declined outcome"
                    )
    finally:
        if answered:
            _save_answers(store, answered, sending)


#: The keywords a gateway's ``charge`` is given when it accepts them (see PaymentGateway).
_EXTRA_KEYWORDS = frozenset(("payment_method", "customer"))


def _keywords_of(charge: Callable[..., object]) -> frozenset[str]:
    """Which of :data:`_EXTRA_KEYWORDS` ``charge`` accepts (by name, or ``**keywords``)."""
    try:
        parameters = inspect.signature(charge).parameters.values()
    except (TypeError, ValueError):  # a callable whose signature cannot be read: none
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return _EXTRA_KEYWORDS
    named = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return frozenset(p.name for p in parameters if p.kind in named) & _EXTRA_KEYWORDS


def _charge_keywords(
    store: Store, attempt: ChargeAttempt, wanted: frozenset[str], day: date
) -> dict[str, str | None]:
    """The ``payment_method`` (the card on file, None if not known) and ``customer`` given."""
    if not wanted:
        return {}
    invoice = store.get_invoice(attempt.invoice)
    card = None if invoice is None else _card_of(store, invoice, day)
    given = {
        "payment_method": card if isinstance(card, str) else None,
        "customer": None if invoice is None else invoice.customer,
    }
    return {name: value for name, value in given.items() if name in wanted}


def _save_answers(store: Store, answered: list[ChargeAttempt], sending: _Sending) -> None:
    """Record the answers (and the payments of the charged ones) in one transaction.

    An attempt another run answered meanwhile (no longer pending in the store) keeps that
    run's answer: it is neither written again nor reported by this run.
    """
    saved: list[ChargeAttempt] = []
    with store.transaction():
        pending = {a.key for a in store.charge_attempts(status=ChargeStatus.PENDING)}
        for done in answered:
            if done.key not in pending:
                continue
            store.save_charge_attempt(done)
            saved.append(done)
            if done.status is ChargeStatus.CHARGED:
                refused = _pay(store, done, on=sending.on)
                if refused is not None:
                    sending.unapplied.append(UnappliedCharge(attempt=done, error=refused))
    for done in saved:
        if done.status in (ChargeStatus.TO_REVIEW, ChargeStatus.WITHDRAWN):
            sending.to_review.append(done)
        elif done.status is not ChargeStatus.PENDING:
            sending.charges.append(done)


def _pay(store: Store, done: ChargeAttempt, *, on: date) -> SubbillError | None:
    """Record the payment of a charged attempt; the store's refusal, if it refuses it.

    The card was charged whatever the store says: a payment it refuses (an invoice
    credited meanwhile) leaves the attempt charged and the money for a person to apply or
    refund, never an attempt pending for ever.
    """
    payment = Payment(amount=done.amount, paid_on=on, method="card", reference=done.key)
    try:
        with store.savepoint():
            pay_invoice(store, done.invoice, payment)
    except StorageError:
        raise  # the store itself failed: nothing of the answers is recorded, sent again
    except SubbillError as error:
        return error
    return None


def _claim(store: Store, claim: LatePaymentClaim) -> tuple[Invoice, Decimal | None] | None:
    """Issue the costs document of ``claim`` and record the claim, in one transaction.

    Returns the document and the penalty rate it applies (None when the subscription's
    terms state none, or the invoice has no subscription: the 40 € indemnity alone, which
    the law owes whatever the rate); None when another run claimed it meanwhile (or no
    costs are due).
    """
    number = claim.invoice.number
    assert number is not None  # noqa: S101  (a claim is of a numbered invoice)
    with store.transaction():
        if any(e.key == claim.event.key for e in store.dunning_events(invoice=number)):
            return None
        owner = claim.invoice.subscription
        subscription = None if owner is None else store.get_subscription(owner)
        terms = BillingTerms() if subscription is None else subscription.terms
        costs = late_payment_costs(
            claim.invoice,
            percent=terms.late_payment_percent,  # None: the indemnity alone
            as_of=claim.on,
            payment_terms_days=terms.payment_terms_days,
        )
        if costs is None:
            return None
        document = costs.document.finalize(number=store.next_invoice_number(issued_on=claim.on))
        store.add_invoice(document)
        store.add_dunning_events([claim.event])
    return document, costs.percent


# -- an attempt to review: a person's answer --------------------------------------------------


def _answer(attempt: ChargeAttempt) -> str:
    """The answer recorded for ``attempt``, as an error message names it."""
    if attempt.status is ChargeStatus.CHARGED:
        on = "" if attempt.resolved_on is None else f" on {attempt.resolved_on.isoformat()}"
        return f"charged (reference={attempt.reference!r}{on})"
    return str(attempt.status.value)


def _check_answer(charged: object, reference: object, on: object) -> None:
    """Refuse an answer that is not "charged (reference, on)" nor "not charged"."""
    if not isinstance(charged, bool):
        raise InvalidTypeError("charged", brief(charged), "True or False")
    if charged:
        check_line("reference", reference)
        check_date("on", on)
    elif reference is not None or on is not None:
        raise InvalidArgumentError(
            f"reference={brief(reference)!r}, on={brief(on)!r} given with charged=False: an "
            "attempt that did not charge the card has no reference nor day of charge"
        )


def resolve_charge_attempt(
    store: Store,
    key: str,
    *,
    charged: bool,
    reference: str | None = None,
    on: date | None = None,
) -> ChargeAttempt:
    """Record a person's answer for an attempt left to review: it charged the card, or not.

    An attempt :attr:`~subbill.storage.protocols.ChargeStatus.TO_REVIEW` (listed in
    :attr:`DunningRunReport.to_review`, and by ``store.charge_attempts(status=TO_REVIEW)``)
    may or may not have reached the processor; a person checks there under its ``key``
    and says what it did, in one transaction:

    - ``charged=True, reference=R, on=D``: the processor charged the card (its charge
      ``R``, on ``D``). The attempt is recorded ``CHARGED`` with ``R`` and
      ``resolved_on=D``, and the money is recorded once: a payment of the invoice dated
      ``D`` (:func:`~subbill.service.pay_invoice`, the key as the payment's reference)
      while it still owes something — what exceeds goes to the subscription's credit
      balance —, else the whole amount goes to that credit balance (the invoice was paid or
      credited by other means: the customer paid twice, credit to use up or to refund).
    - ``charged=False`` (no ``reference`` nor ``on``): it did not; the attempt is recorded
      ``NOT_CHARGED``. Either way the invoice is no longer held back: a later run may send
      it a new retry if it still owes something.

    The same answer again changes nothing and returns the attempt as stored; another
    answer for an attempt answered already, or an answer for an attempt that is not to
    review (pending: a run sends it again; charged or declined by the processor;
    withdrawn: never sent), is refused (:class:`~subbill.errors.InvalidStateError` naming
    the attempt and its answer) and nothing is written.

    Raises:
        InvalidArgumentError: no attempt of ``key``; a charge dated before the attempt; a
            ``reference`` or ``on`` with ``charged=False``.
        InvalidStateError: the attempt is not to review (or answered otherwise); a charge
            whose invoice owes nothing and belongs to no subscription (no credit balance
            for the money to go to: refund it), nothing written.
    """
    _check_store(store)
    check_line("key", key)
    _check_answer(charged, reference, on)
    with store.transaction():
        attempt = store.charge_attempt(key)
        if attempt is None:
            raise InvalidArgumentError(
                f"key={key!r}: there is no such charge attempt (the attempts to review are "
                "store.charge_attempts(status=ChargeStatus.TO_REVIEW))"
            )
        if charged:
            assert on is not None  # noqa: S101  (checked above)
            answer = attrs.evolve(
                attempt, status=ChargeStatus.CHARGED, reference=reference, resolved_on=on
            )
        else:
            answer = attrs.evolve(attempt, status=ChargeStatus.NOT_CHARGED)
        if attempt == answer:
            return attempt  # the same answer again: nothing changes
        if attempt.status is not ChargeStatus.TO_REVIEW:
            raise InvalidStateError(
                f"charge attempt {key!r} is {_answer(attempt)}, not to_review: only an "
                f"attempt to review takes an answer, once (asked: {_answer(answer)})"
            )
        if on is not None and on < attempt.on:
            raise InvalidArgumentError(
                f"on={on.isoformat()} is before {attempt.on.isoformat()}, the day attempt "
                f"{key!r} was recorded: the card was charged on or after it"
            )
        store.save_charge_attempt(attrs.evolve(answer, claimed_until=None))
        if charged:
            assert on is not None  # noqa: S101  (checked above)
            _record_charge(store, attempt, on)
    return attrs.evolve(answer, claimed_until=None)


def _record_charge(store: Store, attempt: ChargeAttempt, on: date) -> None:
    """Record the money of a charged attempt: a payment while its invoice owes, else credit."""
    invoice = store.get_invoice(attempt.invoice)
    if invoice is not None and invoice.amount_due.is_positive():
        payment = Payment(amount=attempt.amount, paid_on=on, method="card", reference=attempt.key)
        pay_invoice(store, attempt.invoice, payment)
        return
    owner = None if invoice is None else invoice.subscription
    if owner is None:
        raise InvalidStateError(
            f"invoice {attempt.invoice!r} owes nothing and belongs to no subscription: the "
            f"{attempt.amount} charged by attempt {attempt.key!r} has no credit balance to "
            "go to; refund it to the customer (nothing recorded)"
        )
    state = store.get_billing_state(owner) or BillingState()
    store.save_billing_state(owner, state.with_credit(attempt.amount))

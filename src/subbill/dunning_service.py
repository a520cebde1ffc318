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
- a card retry is recorded — its dunning event and a :class:`ChargeAttempt` still
  pending — in that transaction, **before** the processor is called with the attempt's
  idempotency key (``dunning:INVOICE:retry:N``). Its answer is recorded after, with the
  payment when the card was charged. A run stopped between the two leaves the attempt
  pending: the next run sends it again first, with the same key, and the processor
  answers what it did the first time — the card is never charged twice;
- under a policy with ``late_payment_costs``, each invoice paid late gets its separate
  costs document (:func:`subbill.dunning.late_payment_costs` at the rate of its
  subscription's terms), numbered from the store's sequence and recorded with its claim
  in one transaction; such a run as of a date before the last invoice issued is refused
  before anything is written (numbers follow the order of their dates).

This module is outside the pure core; the core never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol, runtime_checkable

import attrs

from subbill._validate import brief, check_count, check_instance, one_line
from subbill.dunning import (
    DunningAction,
    DunningActionKind,
    DunningPolicy,
    LatePaymentClaim,
    dunning_actions,
    events_of,
    late_payment_claims,
    late_payment_costs,
)
from subbill.errors import InvalidTypeError, StorageError, SubbillError
from subbill.invoices import Invoice, Payment
from subbill.money import Money
from subbill.periods import check_date
from subbill.service import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, check_not_overtaken, pay_invoice
from subbill.storage.protocols import ChargeAttempt, ChargeStatus, Store

__all__ = [
    "ChargeOutcome",
    "Charged",
    "Declined",
    "DunningRunReport",
    "PaymentGateway",
    "UnappliedCharge",
    "run_dunning",
]


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
    :class:`Declined`; an exception leaves the attempt pending, sent again by the next run.
    """

    def charge(self, invoice_number: str, amount: Money, *, idempotency_key: str) -> ChargeOutcome:
        """Charge ``amount`` for ``invoice_number`` on the customer's card, once per key."""
        ...


@attrs.frozen(kw_only=True)
class UnappliedCharge:
    """A card charged whose payment the store refused to apply, and why (for a person).

    The attempt is recorded charged (never sent again); the money is to apply by hand or
    to refund, e.g. an invoice paid in full by another means after the attempt was recorded
    (:func:`~subbill.service.pay_invoice` pays only an open invoice).
    """

    attempt: ChargeAttempt
    error: SubbillError


@attrs.frozen(kw_only=True)
class DunningRunReport:
    """What a dunning run did.

    ``actions``: the actions it took, in the order of the invoices (each with the steps it
    skipped); ``charges``: the card retries it sent (pending ones of earlier runs first),
    as recorded after the processor answered; ``documents``: the late-payment costs
    documents it issued, numbered; ``unapplied``: the charges whose payment the store
    refused (:class:`UnappliedCharge`), for a person to apply or refund.
    """

    as_of: date
    actions: tuple[DunningAction, ...] = ()
    charges: tuple[ChargeAttempt, ...] = ()
    documents: tuple[Invoice, ...] = ()
    unapplied: tuple[UnappliedCharge, ...] = ()

    @property
    def charged(self) -> tuple[ChargeAttempt, ...]:
        """The retries the processor charged."""
        return tuple(c for c in self.charges if c.status is ChargeStatus.CHARGED)


def _check_store(store: object) -> None:
    needed = ("transaction", "invoices", "get_invoice", "dunning_events", "add_dunning_events")
    if not all(callable(getattr(store, name, None)) for name in needed):
        raise InvalidTypeError(
            "store", brief(store), "a Store, e.g. MemoryStore() or SQLiteStore(path)"
        )


def run_dunning(
    store: Store,
    *,
    as_of: date,
    policy: DunningPolicy,
    gateway: PaymentGateway | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    after_each: Callable[[str], None] | None = None,
) -> DunningRunReport:
    """Take the dunning actions due on ``as_of`` for the store's invoices, each exactly once.

    Decides with :func:`~subbill.dunning.dunning_actions` from the stored invoices and
    history, then decides the invoices with something to do again, ``batch_size`` per
    transaction (1 to :data:`~subbill.service.MAX_BATCH_SIZE`), from what is stored then,
    and records their events (skipped ones included). A cancel action cancels the
    subscription on its day (``cancel(on=…, at_period_end=False)``; one already cancelled
    stays as it is). Card retries go through ``gateway``; without one, the policy's retries
    are left for a run that has one (nothing of them is recorded). Attempts a stopped run
    left pending are sent again first, with their key. Re-running on the same day does
    nothing more.

    ``after_each(invoice_number)`` is called for each invoice after its page's transaction
    is committed (tests use it to interrupt a run).

    Raises:
        InvalidStateError: a policy with late-payment costs and ``as_of`` before the date
            of the last invoice issued (nothing read nor written then).
    """
    check_date("as_of", as_of)
    _check_store(store)
    check_instance("policy", policy, DunningPolicy)
    check_count("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
    if gateway is not None and not isinstance(gateway, PaymentGateway):
        raise InvalidTypeError(
            "gateway", brief(gateway), "a PaymentGateway (with charge()) or None"
        )
    if policy.late_payment_costs:  # costs documents are numbered in the order of their dates
        check_not_overtaken(store, as_of)
    steps = policy if gateway is not None else attrs.evolve(policy, retry_days=())
    charges: list[ChargeAttempt] = []
    unapplied: list[UnappliedCharge] = []
    if gateway is not None:
        sent, refused = _send(store, gateway, store.charge_attempts(status=ChargeStatus.PENDING))
        charges += sent
        unapplied += refused
    invoices = store.invoices()
    decided = dunning_actions(invoices, policy=steps, history=store.dunning_events(), as_of=as_of)
    taken: list[DunningAction] = []
    numbers = list(dict.fromkeys(action.invoice for action in decided))
    for start in range(0, len(numbers), batch_size):
        page = numbers[start : start + batch_size]
        actions, attempts = _record(store, page, steps, as_of)
        taken.extend(actions)
        if after_each is not None:
            for number in page:
                after_each(number)
        if attempts:
            assert gateway is not None  # noqa: S101  (no retry is decided without one)
            sent, refused = _send(store, gateway, attempts)
            charges += sent
            unapplied += refused
    documents: list[Invoice] = []
    if policy.late_payment_costs:
        history = store.dunning_events()
        for claim in late_payment_claims(
            store.invoices(), policy=policy, history=history, as_of=as_of
        ):
            document = _claim(store, claim)
            if document is not None:
                documents.append(document)
            if after_each is not None:
                after_each(claim.invoice.number or "")
    return DunningRunReport(
        as_of=as_of,
        actions=tuple(taken),
        charges=tuple(charges),
        documents=tuple(documents),
        unapplied=tuple(unapplied),
    )


def _record(
    store: Store, numbers: list[str], policy: DunningPolicy, as_of: date
) -> tuple[tuple[DunningAction, ...], list[ChargeAttempt]]:
    """Decide the invoices ``numbers`` again from what is stored and record them, at once.

    One transaction: what another run recorded meanwhile is in the history read inside it.
    Returns the actions recorded and the card retries to send (recorded pending).
    """
    with store.transaction():
        invoices = [i for i in map(store.get_invoice, numbers) if i is not None]
        wanted = set(numbers)
        history = [e for e in store.dunning_events() if e.invoice in wanted]
        actions = dunning_actions(invoices, policy=policy, history=history, as_of=as_of)
        if not actions:
            return (), []  # another run recorded them meanwhile
        store.add_dunning_events(events_of(actions))
        attempts: list[ChargeAttempt] = []
        for action in actions:
            if DunningActionKind.CANCEL in action.actions and action.subscription is not None:
                _cancel(store, action.subscription, action.on)
            key = action.idempotency_key
            if key is not None and action.attempt is not None:
                attempt = ChargeAttempt(
                    key=key,
                    invoice=action.invoice,
                    attempt=action.attempt,
                    amount=action.amount_due,
                    on=action.on,
                )
                store.save_charge_attempt(attempt)
                attempts.append(attempt)
    return actions, attempts


def _cancel(store: Store, subscription_id: str, on: date) -> None:
    """End the subscription on ``on`` with the usual verb; one already cancelled is kept."""
    subscription = store.get_subscription(subscription_id)
    if subscription is None or subscription.cancel_at is not None:
        return
    store.save_subscription(subscription.cancel(on=on, at_period_end=False))


def _send(
    store: Store, gateway: PaymentGateway, attempts: list[ChargeAttempt]
) -> tuple[list[ChargeAttempt], list[UnappliedCharge]]:
    """Charge each of ``attempts`` through ``gateway``; record the answers in one transaction.

    A charged attempt records its payment (:func:`~subbill.service.pay_invoice`, the key as
    the payment's reference: recorded once, whatever happens). The answers received are
    recorded even if a later call raises; an attempt whose answer is not recorded stays
    pending, sent again with its key by the next run. A payment the store refuses is
    returned as an :class:`UnappliedCharge`; the attempt is recorded charged all the same.
    """
    answered: list[ChargeAttempt] = []
    unapplied: list[UnappliedCharge] = []
    try:
        for attempt in attempts:
            outcome = gateway.charge(attempt.invoice, attempt.amount, idempotency_key=attempt.key)
            match outcome:
                case Charged(reference=reference):
                    status = ChargeStatus.CHARGED
                    answered.append(attrs.evolve(attempt, status=status, reference=reference))
                case Declined(reason=reason):
                    status = ChargeStatus.DECLINED
                    answered.append(attrs.evolve(attempt, status=status, reason=reason))
                case _:
                    raise InvalidTypeError(
                        "gateway.charge(…)", brief(outcome), "a Charged or Declined outcome"
                    )
    finally:
        if answered:
            with store.transaction():
                for done in answered:
                    store.save_charge_attempt(done)
                    if done.status is ChargeStatus.CHARGED:
                        refused = _pay(store, done)
                        if refused is not None:
                            unapplied.append(UnappliedCharge(attempt=done, error=refused))
    return answered, unapplied


def _pay(store: Store, done: ChargeAttempt) -> SubbillError | None:
    """Record the payment of a charged attempt; the store's refusal, if it refuses it.

    The card was charged whatever the store says: a payment it refuses (an invoice paid by
    other means or credited meanwhile) leaves the attempt charged and the money for a
    person to apply or refund, never an attempt pending for ever.
    """
    payment = Payment(amount=done.amount, paid_on=done.on, method="card", reference=done.key)
    try:
        with store.savepoint():
            pay_invoice(store, done.invoice, payment)
    except StorageError:
        raise  # the store itself failed: nothing of the answers is recorded, sent again
    except SubbillError as error:
        return error
    return None


def _claim(store: Store, claim: LatePaymentClaim) -> Invoice | None:
    """Issue the costs document of ``claim`` and record the claim, in one transaction.

    None when another run claimed it meanwhile, or when the invoice's subscription states
    no penalty rate (the costs are then not claimed; nothing is recorded).
    """
    number = claim.invoice.number
    assert number is not None  # noqa: S101  (a claim is of a numbered invoice)
    with store.transaction():
        if any(e.key == claim.event.key for e in store.dunning_events(invoice=number)):
            return None
        owner = claim.invoice.subscription
        subscription = None if owner is None else store.get_subscription(owner)
        percent = None if subscription is None else subscription.terms.late_payment_percent
        if subscription is None or percent is None:
            return None
        costs = late_payment_costs(
            claim.invoice,
            percent=percent,
            as_of=claim.on,
            payment_terms_days=subscription.terms.payment_terms_days,
        )
        if costs is None:
            return None
        document = costs.document.finalize(number=store.next_invoice_number(issued_on=claim.on))
        store.add_invoice(document)
        store.add_dunning_events([claim.event])
    return document

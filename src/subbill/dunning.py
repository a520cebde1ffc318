"""Dunning: from an unpaid invoice back to paid, or to a clean stop, as pure decisions.

A :class:`DunningPolicy` lists ordered steps relative to an invoice's due date (a courtesy
reminder 3 days before, reminders 1 and 7 days after, a formal notice — « mise en demeure »
— with the suspension 15 days after) and a schedule of card payment retries. Given the
invoices, the history of what was already done (a tuple of :class:`DunningEvent`) and a
date, :func:`dunning_actions` returns what is due that day, one :class:`DunningAction` per
invoice and track (steps, retries). Runs may be missed: a run takes only the most advanced
step whose date has come and that was not taken yet; the earlier ones are recorded as
skipped, so a customer never receives three late reminders at once, and missed retry dates
collapse into one attempt. A step is never taken twice; a paid or credited invoice gets no
further action; a partial payment keeps what remains in dunning.

Every event has a stable identity (:attr:`DunningEvent.key`: the invoice number, the step
code and, for a retry, the attempt), so a store can refuse a duplicate; a retry carries an
idempotency key derived from the same (:attr:`DunningAction.idempotency_key`).

:func:`dunning_state` derives what the history did to a subscription on a date (suspended
since, reactivated on, cancelled on): :meth:`subbill.subscriptions.Subscription.status`
reads it. :func:`late_payment_costs` builds the separate document of French B2B late-payment
costs (the 40 € indemnity and the penalties at the annual rate of the terms).

>>> for step in DunningPolicy.standard().steps:
...     print(step.days, step.code, [action.value for action in step.actions])
-3 courtesy ['remind']
1 reminder_1 ['remind']
7 reminder_7 ['remind']
15 formal_notice ['formal_notice', 'suspend']
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Self

import attrs

from subbill._records import slot_setters
from subbill._structure import Problems, Text, structure
from subbill._validate import (
    brief,
    check_count,
    check_instance,
    check_items,
    check_line,
    check_text,
    enum_of,
    items_of,
    one_line,
    to_tuple,
)
from subbill.errors import InvalidArgumentError, InvalidTypeError, OutOfBoundsError
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineExplanation,
    LineKind,
)
from subbill.money import Money, read_percent
from subbill.periods import Period, check_date

__all__ = [
    "INDEMNITY",
    "LATE_COSTS_STEP",
    "LATE_PAYMENT_KINDS",
    "MAX_STEP_DAYS",
    "RETRY_STEP",
    "DunningAction",
    "DunningActionKind",
    "DunningEvent",
    "DunningPolicy",
    "DunningState",
    "DunningStep",
    "EventOutcome",
    "LatePaymentClaim",
    "LatePaymentCosts",
    "NextStep",
    "PenaltySlice",
    "amount_due_on",
    "dunning_actions",
    "dunning_state",
    "events_of",
    "is_late_payment_document",
    "is_overdue_on",
    "late_payment_claims",
    "late_payment_costs",
    "next_step",
    "read_penalty_percent",
]

#: The furthest a step or a retry may sit from the due date, in days (either side).
MAX_STEP_DAYS: Final = 3660

#: The step code of a card payment retry (a policy step may not use it).
RETRY_STEP: Final = "retry"

#: The step code that records a claim of late-payment costs (a policy step may not use it).
LATE_COSTS_STEP: Final = "late_payment_costs"

#: The fixed indemnity for recovery costs a late B2B invoice owes under French law.
INDEMNITY: Final = Money("40.00", "EUR")

#: The kinds of line of a late-payment costs document (never in dunning itself).
LATE_PAYMENT_KINDS: Final = frozenset((LineKind.RECOVERY_INDEMNITY, LineKind.LATE_PENALTY))

_ACTIVE = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID)
_YEAR_DAYS: Final = 365


class DunningActionKind(enum.Enum):
    """What a dunning step does (a step may do several things on its day)."""

    REMIND = "remind"  # send a payment reminder
    FORMAL_NOTICE = "formal_notice"  # send the formal notice (« mise en demeure »)
    RETRY_PAYMENT = "retry_payment"  # charge the card on file again
    SUSPEND = "suspend"  # suspend the service (billing goes on)
    CANCEL = "cancel"  # cancel the subscription on the step's day


#: What a skipped step still does, carried by the step taken in its place.
_CARRIED = frozenset((DunningActionKind.SUSPEND, DunningActionKind.CANCEL))


class EventOutcome(enum.Enum):
    """What became of a step in a run: taken, or passed over by a later one (skipped)."""

    TAKEN = "taken"
    SKIPPED = "skipped"


def _check_step_code(_instance: Any, attribute: Any, code: Any) -> None:
    check_text(_instance, attribute, code)
    if code in (RETRY_STEP, LATE_COSTS_STEP) or "/" in code:
        raise InvalidArgumentError(
            f"code={code!r} must be a step code without '/', other than {RETRY_STEP!r} and "
            f"{LATE_COSTS_STEP!r} (the codes of the retries and of a late-payment claim)"
        )


def _check_offset(_instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(attribute.name, brief(value), "a whole number of days, e.g. -3 or 7")
    if not -MAX_STEP_DAYS <= value <= MAX_STEP_DAYS:
        raise OutOfBoundsError(
            attribute.name, value, f"between -{MAX_STEP_DAYS} and {MAX_STEP_DAYS} days"
        )


def _check_actions(_instance: Any, attribute: Any, actions: tuple[Any, ...]) -> None:
    items_of(DunningActionKind, "a DunningActionKind")(_instance, attribute, actions)
    if len(set(actions)) != len(actions):
        raise InvalidArgumentError(f"actions={actions!r} must not repeat an action")


@attrs.frozen(kw_only=True)
class DunningStep:
    """One step of a policy: its code, its day relative to the due date, what it does.

    ``days`` is negative before the due date (a courtesy reminder 3 days before: -3), 0 on
    it, positive after. ``actions`` is what the step does that day, at least one.

    >>> DunningStep(code="formal_notice", days=15,
    ...             actions=(DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND)).days
    15
    """

    code: str = attrs.field(validator=_check_step_code)
    days: int = attrs.field(validator=_check_offset)
    actions: tuple[DunningActionKind, ...] = attrs.field(
        converter=to_tuple, validator=_check_actions
    )

    def __attrs_post_init__(self) -> None:
        if not self.actions:
            raise InvalidArgumentError(f"step {self.code!r} has no action: give at least one")
        if DunningActionKind.RETRY_PAYMENT in self.actions:
            raise InvalidArgumentError(
                f"step {self.code!r}: actions={[a.value for a in self.actions]!r} — a step does "
                "not retry the card: the card retries are the policy's retry_days (days after "
                "the due date, each charged through the payment gateway with its own "
                "idempotency key)"
            )

    def date_for(self, due_on: date) -> date:
        """The step's day for an invoice due on ``due_on``."""
        return due_on + timedelta(days=self.days)


def _check_steps(instance: DunningPolicy, _attribute: Any, steps: tuple[Any, ...]) -> None:
    items_of(DunningStep, "a DunningStep")(instance, _attribute, steps)
    codes = [step.code for step in steps]
    for previous, step in itertools.pairwise(steps):
        if step.days <= previous.days:
            raise InvalidArgumentError(
                f"steps must be in increasing order of days: {step.code!r} ({step.days}) comes "
                f"after {previous.code!r} ({previous.days})"
            )
    if len(set(codes)) != len(codes):
        raise InvalidArgumentError(f"steps={codes!r} must have distinct codes")


def _retry_days(value: object) -> tuple[Any, ...]:
    """``retry_days`` as a tuple: a sequence of days, never a lone number nor text."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return tuple(value)
    raise InvalidTypeError(
        "retry_days", brief(value), "a sequence of whole numbers of days, e.g. (1, 3, 5, 7)"
    )


def _check_retry_days(_instance: Any, attribute: Any, days: tuple[Any, ...]) -> None:
    for index, day in enumerate(days):
        if isinstance(day, bool) or not isinstance(day, int):
            raise InvalidTypeError(f"retry_days[{index}]", brief(day), "a whole number of days")
        if not 0 <= day <= MAX_STEP_DAYS:
            raise OutOfBoundsError(f"retry_days[{index}]", day, f"between 0 and {MAX_STEP_DAYS}")
    if any(later <= earlier for earlier, later in itertools.pairwise(days)):
        raise InvalidArgumentError(f"retry_days={days!r} must be strictly increasing")


def _check_flag(_instance: Any, attribute: Any, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidTypeError(attribute.name, brief(value), "True or False")


@attrs.frozen(kw_only=True)
class DunningPolicy:
    """How unpaid invoices are followed up: the steps, the card retries, late-payment costs.

    ``steps`` are in increasing order of their days from the due date, with distinct codes.
    ``retry_days`` are the days after the due date the card on file is charged again
    (strictly increasing; the retries stop at the first success, since a paid invoice gets
    no further action). ``late_payment_costs``: the French B2B option — an invoice paid late
    bears the 40 € indemnity and penalties at the annual rate of its terms, claimed in a
    separate document (:func:`late_payment_costs`).

    >>> [step.code for step in DunningPolicy.standard().steps]
    ['courtesy', 'reminder_1', 'reminder_7', 'formal_notice']
    """

    steps: tuple[DunningStep, ...] = attrs.field(converter=to_tuple, validator=_check_steps)
    retry_days: tuple[int, ...] = attrs.field(
        default=(), converter=_retry_days, validator=_check_retry_days
    )
    late_payment_costs: bool = attrs.field(default=False, validator=_check_flag)

    @classmethod
    def standard(cls, *, late_payment_costs: bool = False) -> Self:
        """The usual policy: reminders before and after the due date, then the formal notice.

        A courtesy reminder 3 days before the due date, reminders 1 and 7 days after, the
        formal notice and the suspension 15 days after; the card retried 1, 3, 5 and 7 days
        after the due date.
        """
        remind = (DunningActionKind.REMIND,)
        return cls(
            steps=(
                DunningStep(code="courtesy", days=-3, actions=remind),
                DunningStep(code="reminder_1", days=1, actions=remind),
                DunningStep(code="reminder_7", days=7, actions=remind),
                DunningStep(
                    code="formal_notice",
                    days=15,
                    actions=(DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND),
                ),
            ),
            retry_days=(1, 3, 5, 7),
            late_payment_costs=late_payment_costs,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """A policy from plain data (a mapping read from a JSON or TOML file).

        Keys: ``steps``, a list of ``{"code", "days", "actions"}`` (``days`` from the due
        date, negative before it; ``actions`` a list of ``"remind"``, ``"formal_notice"``,
        ``"suspend"``, ``"cancel"`` — a step never retries the card), and optionally
        ``retry_days`` (the days after the due date the card is charged again) and
        ``late_payment_costs``
        (``true`` or ``false``). Every bad field is reported at once, with its path, in an
        :class:`~subbill.errors.InputError`; an unknown key is refused.

        >>> DunningPolicy.from_mapping({"steps": [
        ...     {"code": "reminder_1", "days": 1, "actions": ["remind"]},
        ...     {"code": "notice", "days": 10, "actions": ["formal_notice", "suspend"]},
        ... ], "retry_days": [2, 4]}).retry_days
        (2, 4)
        >>> DunningPolicy.from_mapping({"steps": [
        ...     {"code": "reminder_1", "days": "1", "actions": ["call"]}], "retry_day": [2]})
        Traceback (most recent call last):
        ...
        subbill.errors.InputError: steps[0].days: '1' must be a whole number, not a string
        steps[0].actions[0]: 'call' must be 'remind', 'formal_notice', 'suspend' or 'cancel'
        retry_day: unknown key, did you mean 'retry_days'?
        """
        document = structure(data, _PolicyDocument)
        problems = Problems()
        steps: list[DunningStep] = []
        for index, step in enumerate(document.steps):
            with problems.at(f"steps[{index}]"):
                actions = tuple(DunningActionKind(action.value) for action in step.actions)
                steps.append(DunningStep(code=step.code, days=step.days, actions=actions))
        return problems.build(
            lambda: cls(
                steps=steps,
                retry_days=document.retry_days,
                late_payment_costs=document.late_payment_costs,
            )
        )

    def step(self, code: str) -> DunningStep:
        """The step named ``code`` (a retry's step for :data:`RETRY_STEP`)."""
        for step in self.steps:
            if step.code == code:
                return step
        known = ", ".join(repr(step.code) for step in self.steps)
        raise InvalidArgumentError(f"step={code!r} is not a step of the policy ({known})")


class _StepAction(enum.Enum):
    """What a policy file's step may do: a :class:`DunningActionKind` but the card retry.

    (Card retries are the policy's ``retry_days``; a file naming one in a step is told in
    the same round as its other mistakes.)
    """

    REMIND = DunningActionKind.REMIND.value
    FORMAL_NOTICE = DunningActionKind.FORMAL_NOTICE.value
    SUSPEND = DunningActionKind.SUSPEND.value
    CANCEL = DunningActionKind.CANCEL.value


@attrs.frozen(kw_only=True)
class _StepDocument:
    """The plain-data shape of one step of :meth:`DunningPolicy.from_mapping`."""

    code: Text
    days: int
    actions: tuple[_StepAction, ...]


@attrs.frozen(kw_only=True)
class _PolicyDocument:
    """The plain-data shape :meth:`DunningPolicy.from_mapping` reads."""

    steps: tuple[_StepDocument, ...]
    retry_days: tuple[int, ...] = ()
    late_payment_costs: bool = False


def _check_attempt(instance: DunningEvent, _attribute: Any, attempt: object) -> None:
    if instance.step == RETRY_STEP:
        check_count("attempt", attempt, minimum=1)
    elif attempt is not None:
        raise InvalidArgumentError(
            f"attempt={brief(attempt)!r} must be None for step {instance.step!r}: only a "
            f"{RETRY_STEP!r} step counts attempts"
        )


@attrs.frozen(kw_only=True)
class DunningEvent:
    """What a run did for one invoice and step: taken (with its actions) or skipped.

    The history a store keeps and gives back to :func:`dunning_actions`. Its identity,
    :attr:`key`, is the invoice number, the step code and, for a retry, the attempt (the
    retry's rank in the policy's schedule, from 1): a store refuses a second event with the
    same key. ``actions`` is what a taken step did (empty when skipped).

    >>> DunningEvent(invoice="F-2027-000001", subscription="S1", step="retry", attempt=3,
    ...              on=date(2027, 3, 15), outcome=EventOutcome.TAKEN,
    ...              actions=(DunningActionKind.RETRY_PAYMENT,)).key
    'F-2027-000001/retry/3'
    """

    invoice: str = attrs.field(validator=one_line())
    subscription: str | None = attrs.field(validator=one_line(optional=True))
    step: str = attrs.field(validator=one_line())
    on: date = attrs.field(validator=lambda _i, _a, v: check_date("on", v))
    outcome: EventOutcome = attrs.field(validator=enum_of(EventOutcome))
    attempt: int | None = attrs.field(default=None, validator=_check_attempt)
    actions: tuple[DunningActionKind, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_actions
    )

    def __attrs_post_init__(self) -> None:
        if self.outcome is EventOutcome.SKIPPED and self.actions:
            raise InvalidArgumentError(
                f"a skipped step does nothing: actions={self.actions!r} must be empty"
            )

    @property
    def key(self) -> str:
        """The event's identity: ``invoice/step`` or ``invoice/retry/attempt``."""
        if self.attempt is None:
            return f"{self.invoice}/{self.step}"
        return f"{self.invoice}/{self.step}/{self.attempt}"

    def does(self, action: DunningActionKind) -> bool:
        """True when the step was taken and did ``action``."""
        return self.outcome is EventOutcome.TAKEN and action in self.actions


@attrs.frozen(kw_only=True)
class DunningAction:
    """An action due on a run: the invoice, the step, the amount still due, the days late.

    ``on`` is the run's date; ``days_late`` the days since the due date (0 on or before
    it); ``amount_due`` what remains due on ``on`` (a partial payment counted). ``attempt``
    is a retry's rank in the schedule (None for a policy step). ``skipped`` are the events
    of the earlier steps (or retry dates) this action passes over, to record with it.
    ``actions`` is what it does: the step's actions, then the suspension or cancellation of
    a skipped step (a missed run skips a step's messages, never what it does to the
    subscription). ``reminded`` is True when an earlier run took a step that reminded the
    customer of this invoice (the formal notice then says « despite our reminders »).
    """

    invoice: str
    subscription: str | None
    customer: str
    step: DunningStep
    actions: tuple[DunningActionKind, ...]
    on: date
    due_on: date
    amount_due: Money
    days_late: int
    attempt: int | None = None
    skipped: tuple[DunningEvent, ...] = ()
    reminded: bool = False

    @property
    def event(self) -> DunningEvent:
        """The event that records the action as taken."""
        return DunningEvent(
            invoice=self.invoice,
            subscription=self.subscription,
            step=self.step.code,
            on=self.on,
            outcome=EventOutcome.TAKEN,
            attempt=self.attempt,
            actions=self.actions,
        )

    @property
    def events(self) -> tuple[DunningEvent, ...]:
        """What to record for the action: the skipped events, then the taken one."""
        return (*self.skipped, self.event)

    @property
    def key(self) -> str:
        """The identity of the taken event (see :attr:`DunningEvent.key`)."""
        return self.event.key

    @property
    def idempotency_key(self) -> str | None:
        """A retry's key for the payment processor, from (invoice, attempt); else None.

        The same attempt always gives the same key, so a run re-sent after a crash never
        charges the card twice.
        """
        if self.attempt is None:
            return None
        return f"dunning:{self.invoice}:retry:{self.attempt}"


def events_of(actions: Iterable[DunningAction]) -> tuple[DunningEvent, ...]:
    """Every event to record for ``actions``, in order (skipped ones before each taken one)."""
    items = check_items("actions", actions, DunningAction)
    return tuple(event for action in items for event in action.events)


# -- amounts on a date -------------------------------------------------------------------------


def is_late_payment_document(invoice: Invoice) -> bool:
    """True for a document of late-payment costs (:func:`late_payment_costs` builds them).

    Such a document is never dunned itself, and need not be paid to reactivate.
    """
    check_instance("invoice", invoice, Invoice)
    return _claims_costs(invoice)


def _claims_costs(invoice: Invoice) -> bool:
    return any(line.kind in LATE_PAYMENT_KINDS for line in invoice.lines)


def amount_due_on(invoice: Invoice, day: date) -> Money:
    """What remained due on ``invoice`` on ``day``: payments and credit notes after it not counted.

    A payment counts from its ``paid_on``, a credit note from its issue date (the
    correction's ``credited_on``); the customer credit applied when the invoice was issued
    always counts. A draft, a void invoice and a credit note owe nothing.
    """
    check_instance("invoice", invoice, Invoice)
    check_date("day", day)
    return _due_on(invoice, day)


def _due_on(invoice: Invoice, day: date) -> Money:
    zero = Money.zero(invoice.currency)
    if invoice.kind is not DocumentKind.INVOICE or invoice.status not in _ACTIVE:
        return zero
    if not invoice.payments and not invoice.corrections and invoice.credit_applied is None:
        return max(invoice.total, zero)
    paid = Money.total(
        (payment.amount for payment in invoice.payments if payment.paid_on <= day),
        currency=invoice.currency,
    )
    credit = invoice.credit_applied or zero
    credited = Money.total(
        (c.cancels for c in invoice.corrections if c.credited_on <= day),
        currency=invoice.currency,
    )
    return max(invoice.total - credit - credited - paid, zero)


def _in_dunning(invoice: Invoice, day: date) -> bool:
    """Numbered, issued by ``day``, not a costs document, something still due on ``day``."""
    return (
        invoice.number is not None
        and invoice.issued_on <= day
        and _owes_on(invoice, day)
        and not _claims_costs(invoice)
    )


def _owes_on(invoice: Invoice, day: date) -> bool:
    """True when something remained due on ``invoice`` on ``day`` (:func:`amount_due_on`)."""
    if invoice.kind is not DocumentKind.INVOICE or invoice.status not in _ACTIVE:
        return False
    # What is due now is due on any earlier day too: fewer payments and credit notes count.
    return invoice.amount_due.is_positive() or _due_on(invoice, day).is_positive()


def is_overdue_on(invoice: Invoice, day: date) -> bool:
    """True when ``invoice`` was overdue on ``day``, read from its payments as of that day.

    Past its due date (the due date itself is not overdue yet) with something still due on
    ``day`` (:func:`amount_due_on`: payments and credit notes dated after ``day`` not
    counted), whatever the invoice's status now: an invoice paid on 2 April was overdue on
    24 March. A late-payment costs document is owed but never makes a subscription overdue
    (it is not required to reactivate one); a draft, a void invoice and a credit note never
    are.

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import Payment, one_time_line
    >>> price, due = Money("120", "EUR"), date(2027, 3, 10)
    >>> sent = draft_invoice(customer="ACME", currency="EUR", issued_on=due, due_on=due,
    ...                      lines=[one_time_line("x", "X", price)]).finalize(number="F-1")
    >>> paid = sent.apply_payment(Payment(amount=price, paid_on=date(2027, 4, 2))).invoice
    >>> [is_overdue_on(paid, day) for day in (due, date(2027, 3, 24), date(2027, 4, 2))]
    [False, True, False]
    """
    check_instance("invoice", invoice, Invoice)
    check_date("day", day)
    return invoice.due_on < day and _in_dunning(invoice, day)


# -- decisions ---------------------------------------------------------------------------------


def _history(history: object) -> tuple[DunningEvent, ...]:
    return check_items(
        "history", history, DunningEvent, collection="an iterable of DunningEvent (the history)"
    )


def _invoices(invoices: object) -> tuple[Invoice, ...]:
    return check_items("invoices", invoices, Invoice, collection="an iterable of Invoice")


_STEP_SLOTS = slot_setters(DunningStep)


def _a_retry(days: int) -> DunningStep:
    """The step of a card retry ``days`` after the due date, built past the checks.

    Its code is the one no policy step may use.
    """
    step = object.__new__(DunningStep)
    _STEP_SLOTS["code"](step, RETRY_STEP)
    _STEP_SLOTS["days"](step, days)
    _STEP_SLOTS["actions"](step, (DunningActionKind.RETRY_PAYMENT,))
    return step


def dunning_actions(
    invoices: Iterable[Invoice],
    *,
    policy: DunningPolicy,
    history: Iterable[DunningEvent],
    as_of: date,
    ended: Iterable[str] = (),
) -> tuple[DunningAction, ...]:
    """The actions due on ``as_of``: for each invoice in dunning, its step and its retry.

    An invoice is in dunning when it is numbered, issued by ``as_of`` (nothing is done
    before an invoice's issue date, a courtesy reminder included), not a late-payment costs
    document, and something remains due on ``as_of`` (:func:`amount_due_on`: payments and
    credit notes dated after it are not counted). For each, the most advanced step whose
    day has come and that comes after every step of its history is taken; the earlier
    untaken ones are recorded as skipped (:attr:`DunningAction.skipped`). Retries follow
    the same rule on the retry schedule: missed retry dates collapse into one attempt, the
    latest. A step is never taken twice, whatever the order of the runs.

    Nothing is suspended nor cancelled that is not there: an invoice without a
    subscription, or of a subscription a cancel action of ``history`` (or of an earlier
    invoice of this call) ended, or of one of ``ended`` (the ids of the subscriptions that
    have ended by ``as_of``, whatever ended them: the customer's cancellation, a fixed
    term — the caller reads them from its subscriptions), gets its steps without
    :attr:`~DunningActionKind.SUSPEND` and :attr:`~DunningActionKind.CANCEL` — its reminders
    and formal notice go on, the money is still owed — and a step left with nothing to do
    is not taken.

    Order: the actions are listed in the order of the invoices, each invoice's card retry
    **before** its step. A service carries them out in that order and, when a retry's charge
    succeeds, does not carry out (nor record) that invoice's step of the same run: the
    invoice is paid, so re-deciding with it gives no step — no formal notice nor suspension
    for an invoice paid in that same run.

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2027, 2, 8),
    ...     due_on=date(2027, 3, 10), lines=[one_time_line("x", "X", Money("120", "EUR"))],
    ... ).finalize(number="F-1")
    >>> policy = DunningPolicy.standard()
    >>> first = dunning_actions([invoice], policy=policy, history=(), as_of=date(2027, 3, 7))
    >>> [a.step.code for a in first]
    ['courtesy']
    >>> dunning_actions([invoice], policy=policy, history=events_of(first),
    ...                 as_of=date(2027, 3, 7))
    ()
    >>> [(a.step.code, a.days_late, [e.step for e in a.skipped]) for a in dunning_actions(
    ...     [invoice], policy=policy, history=events_of(first), as_of=date(2027, 3, 30))]
    [('retry', 20, ['retry', 'retry', 'retry']), ('formal_notice', 20, ['reminder_1', \
'reminder_7'])]
    """
    items = _invoices(invoices)
    check_instance("policy", policy, DunningPolicy)
    events = _history(history)
    check_date("as_of", as_of)
    gone = _ended_ids(ended)
    numbers = [invoice.number for invoice in items if invoice.number is not None]
    if len(set(numbers)) != len(numbers):
        twice = sorted({n for n in numbers if numbers.count(n) > 1})
        raise InvalidArgumentError(
            f"invoices hold invoice {twice[0]!r} twice: give each invoice once (its latest version)"
        )
    taken_steps: dict[str, int] = {}
    attempts: dict[str, int] = {}
    ranks = {step.code: rank for rank, step in enumerate(policy.steps)}
    for event in events:
        if event.step == RETRY_STEP:
            assert event.attempt is not None  # noqa: S101  (checked by the event)
            attempts[event.invoice] = max(attempts.get(event.invoice, 0), event.attempt)
        elif event.step in ranks:
            rank = ranks[event.step]
            taken_steps[event.invoice] = max(taken_steps.get(event.invoice, -1), rank)
    reminded = {event.invoice for event in events if event.does(DunningActionKind.REMIND)}
    # A subscription cancelled by dunning is neither suspended nor cancelled again (its
    # invoices' reminders and notices go on: the money is still owed).
    # Nor is one that ended otherwise (``ended``): its service is over already.
    over = gone | _cancelled_by(events, as_of)
    first = _first_cancels(items, policy, taken_steps, over, as_of)
    actions: list[DunningAction] = []
    for index, invoice in enumerate(items):
        if not _in_dunning(invoice, as_of):
            continue
        number = invoice.number
        assert number is not None  # noqa: S101  (_in_dunning checked it)
        due = _due_on(invoice, as_of)
        late = max((as_of - invoice.due_on).days, 0)
        retries = [
            (attempt, days)
            for attempt, days in enumerate(policy.retry_days, start=1)
            if attempt > attempts.get(number, 0) and invoice.due_on + timedelta(days=days) <= as_of
        ]
        if retries:  # first: a charge that succeeds makes the invoice's step moot
            *missed, (attempt, days) = retries
            actions.append(
                DunningAction(
                    invoice=number,
                    subscription=invoice.subscription,
                    customer=invoice.customer,
                    step=_a_retry(days),
                    actions=(DunningActionKind.RETRY_PAYMENT,),
                    on=as_of,
                    due_on=invoice.due_on,
                    amount_due=due,
                    days_late=late,
                    attempt=attempt,
                    skipped=tuple(
                        _skipped(invoice, number, RETRY_STEP, rank, as_of) for rank, _ in missed
                    ),
                    reminded=number in reminded,
                )
            )
        # Nothing to suspend nor cancel: an invoice of no subscription, or of one that
        # dunning cancelled already (a step left with nothing to do is not taken).
        kept = _step_kinds(invoice, index, over, first)
        reached = [
            (rank, step)
            for rank, step in enumerate(policy.steps)
            if rank > taken_steps.get(number, -1) and step.date_for(invoice.due_on) <= as_of
        ]
        while reached and not kept(reached[-1][1]):
            reached.pop()
        if reached:
            *passed, (_, step) = reached
            carried = [kind for _, earlier in passed for kind in kept(earlier) if kind in _CARRIED]
            does = tuple(dict.fromkeys((*kept(step), *carried)))
            actions.append(
                DunningAction(
                    invoice=number,
                    subscription=invoice.subscription,
                    customer=invoice.customer,
                    step=step,
                    actions=does,
                    on=as_of,
                    due_on=invoice.due_on,
                    amount_due=due,
                    days_late=late,
                    skipped=tuple(
                        _skipped(invoice, number, earlier.code, None, as_of)
                        for _, earlier in passed
                    ),
                    reminded=number in reminded,
                )
            )
    return tuple(actions)


def _ended_ids(ended: Iterable[str]) -> frozenset[str]:
    """``ended`` checked: subscription ids, as text (a lone string is refused, not spelt out)."""
    if isinstance(ended, str) or not isinstance(ended, Iterable):
        raise InvalidTypeError("ended", ended, "an iterable of subscription ids")
    ids = tuple(ended)
    for index, value in enumerate(ids):
        if not isinstance(value, str):
            raise InvalidTypeError(f"ended[{index}]", value, "a subscription id (str)")
    return frozenset(ids)


def _first_cancels(
    items: tuple[Invoice, ...],
    policy: DunningPolicy,
    taken: dict[str, int],
    ended: frozenset[str],
    as_of: date,
) -> dict[str, tuple[date, int]]:
    """For each subscription not cancelled yet, its first cancel step due among its invoices.

    The day of that step and the index in ``items`` of the invoice whose step it is (the
    first one listed, on a tie): the subscription ends then, for its other invoices too —
    what daily runs would have done, whatever the days the runs happen.
    """
    if not any(DunningActionKind.CANCEL in step.actions for step in policy.steps):
        return {}
    first: dict[str, tuple[date, int]] = {}
    for index, invoice in enumerate(items):
        owner = invoice.subscription
        if owner is None or owner in ended or not _in_dunning(invoice, as_of):
            continue
        days = [
            step.date_for(invoice.due_on)
            for rank, step in enumerate(policy.steps)
            if rank > taken.get(invoice.number or "", -1)
            and DunningActionKind.CANCEL in step.actions
            and step.date_for(invoice.due_on) <= as_of
        ]
        if days and (owner not in first or (min(days), index) < first[owner]):
            first[owner] = (min(days), index)
    return first


def _without_carried(step: DunningStep) -> tuple[DunningActionKind, ...]:
    """What ``step`` does to an invoice whose subscription is gone: no suspend, no cancel."""
    return tuple(kind for kind in step.actions if kind not in _CARRIED)


def _step_kinds(
    invoice: Invoice,
    index: int,
    ended: frozenset[str],
    first: dict[str, tuple[date, int]],
) -> Callable[[DunningStep], tuple[DunningActionKind, ...]]:
    """What each step still does to ``invoice`` (the ``index``-th): without what is not there.

    No suspension nor cancellation for an invoice without a subscription, nor for one
    whose subscription dunning cancelled (``ended``), nor for a step that comes after the
    day of the subscription's first cancel step of this run (``first``; on that day, after
    its invoice in the order of the invoices).
    """
    owner = invoice.subscription

    without = _without_carried
    if owner is None or owner in ended:
        return without
    if owner not in first:
        return lambda step: step.actions
    day, winner = first[owner]

    def kept(step: DunningStep) -> tuple[DunningActionKind, ...]:
        when = step.date_for(invoice.due_on)
        return without(step) if when > day or (when == day and index > winner) else step.actions

    return kept


def _skipped(
    invoice: Invoice, number: str, step: str, attempt: int | None, on: date
) -> DunningEvent:
    return DunningEvent(
        invoice=number,
        subscription=invoice.subscription,
        step=step,
        on=on,
        outcome=EventOutcome.SKIPPED,
        attempt=attempt,
    )


@attrs.frozen(kw_only=True)
class NextStep:
    """The next policy step an invoice would take, its day, and what the run will do then.

    ``actions`` is what :func:`dunning_actions` does on ``on``: the step's own actions
    without a suspension or cancellation of a subscription that is not there (none, ended,
    or cancelled by dunning), with the suspension or cancellation of the steps it skips.
    Announce ``actions``, not ``step.actions``.
    """

    step: DunningStep
    on: date
    actions: tuple[DunningActionKind, ...]


def next_step(
    invoice: Invoice,
    *,
    policy: DunningPolicy,
    history: Iterable[DunningEvent],
    as_of: date,
    ended: Iterable[str] = (),
    ends_on: Mapping[str, date] | None = None,
) -> NextStep | None:
    """The policy step a run would take for ``invoice`` on or after ``as_of``; None if none.

    The step :func:`dunning_actions` would take: when the days of steps not taken yet have
    come, the most advanced of them, due on ``as_of`` itself (a run takes it, the earlier
    ones skipped); otherwise the first step still to come, on its day — never before the
    invoice's issue date. None when the invoice is not in dunning on ``as_of`` (paid,
    credited, a draft, a late-payment costs document) or every step was taken.

    As in :func:`dunning_actions`, an invoice of no subscription, of one a cancel action of
    ``history`` ended, or of one of ``ended`` (the ids of the subscriptions that have ended
    by ``as_of``) is neither suspended nor cancelled: a step left with nothing else to do
    (a cancellation alone) is not announced, since no run will take it. ``ends_on`` (a
    subscription's id to its :attr:`~subbill.subscriptions.Subscription.ends_on`, for those
    that end) says the same of a step to come: from the day a subscription ends, its steps
    neither suspend nor cancel it. :attr:`NextStep.actions` is what the run does that day.

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2027, 2, 8),
    ...     due_on=date(2027, 3, 10), lines=[one_time_line("x", "X", Money("120", "EUR"))],
    ...     subscription="S1").finalize(number="F-1")
    >>> upcoming = next_step(invoice, policy=DunningPolicy.standard(), history=(),
    ...                      as_of=date(2027, 3, 1))
    >>> upcoming.step.code, upcoming.on
    ('courtesy', datetime.date(2027, 3, 7))

    The formal notice suspends, unless the subscription has ended by its day:

    >>> notice = next_step(invoice, policy=DunningPolicy.standard(), history=(),
    ...                    as_of=date(2027, 3, 25))
    >>> notice.step.code, [kind.value for kind in notice.actions]
    ('formal_notice', ['formal_notice', 'suspend'])
    >>> notice = next_step(invoice, policy=DunningPolicy.standard(), history=(),
    ...                    as_of=date(2027, 3, 25), ends_on={"S1": date(2027, 3, 1)})
    >>> notice.step.code, [kind.value for kind in notice.actions]
    ('formal_notice', ['formal_notice'])
    """
    check_instance("invoice", invoice, Invoice)
    check_instance("policy", policy, DunningPolicy)
    events = _history(history)
    check_date("as_of", as_of)
    gone = _ended_ids(ended)
    ends = _ends_on(ends_on)
    day = max(as_of, invoice.issued_on)  # a run acts from the issue date on
    if not _in_dunning(invoice, day):
        return None
    ranks = {step.code: rank for rank, step in enumerate(policy.steps)}
    last = max(
        (
            ranks[event.step]
            for event in events
            if event.invoice == invoice.number and event.step in ranks
        ),
        default=-1,
    )
    owner = invoice.subscription
    end = None if owner is None else ends.get(owner)
    # Due today: what a run today takes (no card retry: a step is announced, not a charge).
    ended_today = gone
    if owner is not None and end is not None and end <= day:
        ended_today = gone | {owner}
    today = dunning_actions(
        (invoice,),
        policy=attrs.evolve(policy, retry_days=()),
        history=events,
        as_of=day,
        ended=ended_today,
    )
    if today:
        return NextStep(step=today[0].step, on=day, actions=today[0].actions)
    # Else the first step to come that will still do something on its day.
    over = owner is None or owner in gone or owner in _cancelled_by(events, as_of)
    for step in policy.steps[last + 1 :]:
        on = step.date_for(invoice.due_on)
        if on <= day:
            continue
        ended_then = over or (end is not None and end <= on)
        does = _without_carried(step) if ended_then else step.actions
        if does:
            return NextStep(step=step, on=on, actions=does)
    return None


def _ends_on(ends_on: Mapping[str, date] | None) -> dict[str, date]:
    """``ends_on`` checked: subscription ids to the day each ends."""
    if ends_on is None:
        return {}
    if not isinstance(ends_on, Mapping):
        raise InvalidTypeError("ends_on", ends_on, "a mapping of subscription ids to dates")
    for key, value in ends_on.items():
        if not isinstance(key, str):
            raise InvalidTypeError("ends_on key", key, "a subscription id (str)")
        check_date(f"ends_on[{key!r}]", value)
    return dict(ends_on)


def _cancelled_by(events: tuple[DunningEvent, ...], as_of: date) -> frozenset[str]:
    """The subscriptions a cancel action of ``events`` ended by ``as_of``."""
    return frozenset(
        event.subscription
        for event in events
        if event.subscription is not None
        and event.on <= as_of
        and event.does(DunningActionKind.CANCEL)
    )


# -- what the history did to a subscription ------------------------------------------------------


@attrs.frozen(kw_only=True)
class DunningState:
    """What dunning did to a subscription, on a date.

    ``suspended_since``: the day of the suspension in force (None when not suspended);
    ``reactivated_on``: the day the last suspension was lifted (everything due paid), None
    if none was; ``cancelled_on``: the day of the cancel action, if one was taken.
    """

    suspended_since: date | None = None
    reactivated_on: date | None = None
    cancelled_on: date | None = None

    @property
    def is_suspended(self) -> bool:
        """True while a suspension is in force."""
        return self.suspended_since is not None


def _settled(invoices: tuple[Invoice, ...], day: date, suspending: list[DunningEvent]) -> bool:
    """True when nothing overdue is left on ``day``.

    Every invoice overdue on that day (due before it: one due that very day is not late
    yet) is paid, and so is every invoice suspended for by then, even before its due date.
    """
    suspended = {event.invoice for event in suspending if event.on <= day}
    return all(
        not _due_on(invoice, day).is_positive()
        for invoice in invoices
        if (invoice.due_on < day or invoice.number in suspended)
        and not is_late_payment_document(invoice)
    )


def dunning_state(
    subscription: str,
    *,
    invoices: Iterable[Invoice],
    history: Iterable[DunningEvent],
    as_of: date,
) -> DunningState:
    """What the dunning ``history`` did to ``subscription`` by ``as_of``.

    A suspend action suspends the subscription from its day; it is reactivated from the day
    everything overdue is paid: every invoice of the subscription overdue on that day (one
    due that very day is not late yet), and the invoice that was suspended for even if its
    due date is still to come (payments and credit notes counted from their dates; a
    late-payment costs document need not be paid). A cancel action cancels it on its day.
    Only the events of ``subscription`` dated up to ``as_of`` count, and only its invoices.

    The history alone proves a suspension, but only the invoice's payments can lift it: a
    suspension whose invoice is missing from ``invoices`` is refused rather than read as
    lifted.

    Raises:
        InvalidArgumentError: a suspension of the history names an invoice that is not
            among ``invoices`` (give every invoice of the subscription, with its payments).

    >>> dunning_state("S1", invoices=(), history=(), as_of=date(2027, 3, 1))
    DunningState(suspended_since=None, reactivated_on=None, cancelled_on=None)
    """
    check_line("subscription", subscription)
    own = tuple(i for i in _invoices(invoices) if i.subscription == subscription)
    every_event = _history(history)
    check_date("as_of", as_of)
    events = [e for e in every_event if e.subscription == subscription and e.on <= as_of]
    cancelled = min(
        (event.on for event in events if event.does(DunningActionKind.CANCEL)), default=None
    )
    suspending = [e for e in events if e.does(DunningActionKind.SUSPEND)]
    known = {invoice.number for invoice in own}
    missing = sorted({e.invoice for e in suspending if e.invoice not in known})
    if missing:
        first = min((e for e in suspending if e.invoice == missing[0]), key=lambda e: e.on)
        raise InvalidArgumentError(
            f"invoices lack invoice {missing[0]!r} of subscription {subscription!r}, "
            f"suspended for on {first.on.isoformat()}: give the subscription's invoices with "
            "their payments (they decide when the suspension is lifted)"
        )
    suspensions = sorted({e.on for e in suspending})
    payments = sorted(
        {p.paid_on for i in own for p in i.payments if p.paid_on <= as_of}
        | {
            c.credited_on
            for i in own
            for c in i.corrections
            if c.credited_on <= as_of and c.cancels.is_positive()
        }
    )
    since: date | None = None
    reactivated: date | None = None
    for start in suspensions:
        if since is not None:
            continue  # still suspended: a further suspension changes nothing
        since = start
        for day in (start, *(d for d in payments if d > start)):
            if _settled(own, day, suspending):
                since, reactivated = None, day
                break
    return DunningState(suspended_since=since, reactivated_on=reactivated, cancelled_on=cancelled)


# -- late-payment costs --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PenaltySlice:
    """One stretch an amount stayed unpaid, and its penalty.

    ``period`` is the days late it covers (from the day after the due date or a payment,
    to a payment or the claim's day, inclusive); ``amount`` what stayed unpaid over it;
    ``factor`` is ``rate × days / 365``; ``penalty`` is ``amount × factor`` rounded.
    """

    period: Period
    amount: Money
    factor: Fraction
    penalty: Money

    @property
    def days(self) -> int:
        """The days of the slice."""
        return self.period.days


@attrs.frozen(kw_only=True)
class LatePaymentCosts:
    """The late-payment costs of one invoice, and the document that claims them.

    ``percent`` is the annual penalty rate (None when the terms set none: no penalty is
    claimed then); ``days_late`` the days from the due date to the last payment (or
    ``as_of`` while something is still due); ``slices`` each stretch an amount stayed
    unpaid, with its penalty ``amount × percent × days / 365`` rounded; ``penalty`` their
    sum; ``indemnity`` the fixed 40 €. ``document`` is a draft invoice of the indemnity
    line (:attr:`LineKind.RECOVERY_INDEMNITY`) and one :attr:`LineKind.LATE_PENALTY` line
    per slice, to number in the invoice series like any invoice; it is never added to the
    late invoice.
    """

    invoice: str
    due_on: date
    days_late: int
    percent: Decimal | None
    penalty: Money
    indemnity: Money
    document: Invoice
    slices: tuple[PenaltySlice, ...] = ()

    @property
    def total(self) -> Money:
        """The penalty plus the indemnity: the document's total."""
        return self.penalty + self.indemnity


@attrs.frozen(kw_only=True)
class LatePaymentClaim:
    """An invoice paid late whose costs are to be claimed on ``on`` (the run's day).

    ``paid_on`` is the day it was paid in full. Build the document with
    :func:`late_payment_costs` (at the rate of the subscription's terms), then record
    :attr:`event` so the claim is made once.
    """

    invoice: Invoice
    paid_on: date
    on: date

    @property
    def event(self) -> DunningEvent:
        """The event that records the claim: key ``invoice/late_payment_costs``."""
        assert self.invoice.number is not None  # noqa: S101  (a claim is of a numbered invoice)
        return DunningEvent(
            invoice=self.invoice.number,
            subscription=self.invoice.subscription,
            step=LATE_COSTS_STEP,
            on=self.on,
            outcome=EventOutcome.TAKEN,
        )


def _paid_in_full_on(invoice: Invoice, as_of: date) -> date | None:
    """The day ``invoice`` was paid in full by ``as_of`` (None if something is still due)."""
    if _due_on(invoice, as_of).is_positive():
        return None
    days = [p.paid_on for p in invoice.payments if p.paid_on <= as_of]
    return max(days) if days else None


def late_payment_claims(
    invoices: Iterable[Invoice],
    *,
    policy: DunningPolicy,
    history: Iterable[DunningEvent],
    as_of: date,
) -> tuple[LatePaymentClaim, ...]:
    """The invoices paid late whose costs a policy with ``late_payment_costs`` claims now.

    An invoice is claimed once (its :data:`LATE_COSTS_STEP` event in ``history`` says it
    was), after it is paid in full by ``as_of`` and if that was after its due date; a
    late-payment costs document bears no costs itself, and an invoice in another currency
    than EUR none either (the 40 € indemnity of French law is in euros; no costs are
    claimed on other currencies, and :func:`late_payment_costs` refuses them). None under
    a policy without the option. Every claim can be built: pass ``percent=`` the terms'
    ``late_payment_percent`` as it is (None claims the indemnity alone). These costs are
    owed between businesses only: the invoices do not say whose customer is a consumer,
    so the caller leaves those out (:func:`~subbill.dunning_service.run_dunning` does).
    The claim is a document apart (:func:`late_payment_costs`): the invoice's own dunning
    ended with its payment.

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import Payment, one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2027, 2, 8),
    ...     due_on=date(2027, 3, 10), lines=[one_time_line("x", "X", Money("1000", "EUR"))],
    ... ).finalize(number="F-1").apply_payment(
    ...     Payment(amount=Money("1000", "EUR"), paid_on=date(2027, 3, 30))).invoice
    >>> policy = DunningPolicy.standard(late_payment_costs=True)
    >>> (claim,) = late_payment_claims([invoice], policy=policy, history=(),
    ...                                as_of=date(2027, 4, 1))
    >>> claim.paid_on, claim.event.key
    (datetime.date(2027, 3, 30), 'F-1/late_payment_costs')
    >>> late_payment_claims([invoice], policy=policy, history=(claim.event,),
    ...                     as_of=date(2027, 4, 2))
    ()
    """
    items = _invoices(invoices)
    check_instance("policy", policy, DunningPolicy)
    events = _history(history)
    check_date("as_of", as_of)
    if not policy.late_payment_costs:
        return ()
    claimed = {event.invoice for event in events if event.step == LATE_COSTS_STEP}
    claims = []
    for invoice in items:
        if (
            invoice.number is None
            or invoice.number in claimed
            or invoice.kind is not DocumentKind.INVOICE
            or invoice.status not in _ACTIVE
            or invoice.currency != INDEMNITY.currency
            or is_late_payment_document(invoice)
        ):
            continue
        paid_on = _paid_in_full_on(invoice, as_of)
        if paid_on is not None and paid_on > invoice.due_on:
            claims.append(LatePaymentClaim(invoice=invoice, paid_on=paid_on, on=as_of))
    return tuple(claims)


def read_penalty_percent(value: object, name: str = "percent") -> Decimal:
    """An annual late-payment penalty rate: above 0 and at most 100 (%), exact.

    >>> read_penalty_percent("10")
    Decimal('10')
    >>> read_penalty_percent("0")
    Traceback (most recent call last):
    ...
    subbill.errors.OutOfBoundsError: percent='0' must be above 0 and at most 100 (%)
    """
    rate = read_percent(value, name)
    if not 0 < rate <= 100:
        raise OutOfBoundsError(name, brief(value), "above 0 and at most 100 (%)")
    return rate


def late_payment_costs(
    invoice: Invoice,
    *,
    percent: object,
    as_of: date,
    payment_terms_days: int = 0,
) -> LatePaymentCosts | None:
    """The French B2B late-payment costs of ``invoice`` up to ``as_of``; None if not late.

    ``percent`` is the annual penalty rate (the terms' ``late_payment_percent``), or None
    when the terms set none: the document then claims the indemnity alone (subbill holds no
    ECB rate to compute the legal default with). The penalties run from the day after the
    due date on each amount while it stays unpaid, payments counted on their dates: one
    slice per stretch, each ``amount × rate × days / 365`` rounded like any line, so the
    slices add up to the penalty; the indemnity is 40 € per late invoice. The document is
    issued on ``as_of``, due ``payment_terms_days`` later, with no VAT (both are outside
    its scope). An invoice paid on time, or not yet due, is not late.

    Raises:
        InvalidArgumentError: a draft, a late-payment costs document, or an invoice not in
            EUR (the 40 € indemnity of French law is in euros: no costs are claimed on
            other currencies; :func:`late_payment_claims` skips them).

    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import Payment, one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2027, 2, 8),
    ...     due_on=date(2027, 3, 10), lines=[one_time_line("x", "X", Money("1000", "EUR"))],
    ... ).finalize(number="F-1")
    >>> paid = invoice.apply_payment(
    ...     Payment(amount=Money("1000", "EUR"), paid_on=date(2027, 3, 30))).invoice
    >>> costs = late_payment_costs(paid, percent="10", as_of=date(2027, 3, 30))
    >>> costs.days_late, costs.penalty, costs.indemnity, costs.document.total
    (20, Money('5.48', 'EUR'), Money('40.00', 'EUR'), Money('45.48', 'EUR'))

    Paid in two halves, 10 and 20 days late: two slices, that add up.

    >>> half = Money("500", "EUR")
    >>> halves = invoice.apply_payment(Payment(amount=half, paid_on=date(2027, 3, 20))
    ...     ).invoice.apply_payment(Payment(amount=half, paid_on=date(2027, 3, 30))).invoice
    >>> costs = late_payment_costs(halves, percent="10", as_of=date(2027, 3, 30))
    >>> [(s.amount, s.days, s.penalty) for s in costs.slices], costs.penalty
    ([(Money('1000.00', 'EUR'), 10, Money('2.74', 'EUR')), (Money('500.00', 'EUR'), 10, \
Money('1.37', 'EUR'))], Money('4.11', 'EUR'))
    """
    check_instance("invoice", invoice, Invoice)
    rate = None if percent is None else read_penalty_percent(percent)
    check_date("as_of", as_of)
    check_count("payment_terms_days", payment_terms_days, minimum=0, maximum=365)
    if invoice.number is None:
        raise InvalidArgumentError(
            "invoice has no number: only a numbered invoice can be late (finalize it first)"
        )
    if invoice.currency != INDEMNITY.currency:
        raise InvalidArgumentError(
            f"invoice {invoice.number} is in {invoice.currency}: the French late-payment "
            "indemnity of 40 € applies to invoices in EUR (no costs are claimed in another "
            "currency)"
        )
    if is_late_payment_document(invoice):
        raise InvalidArgumentError(
            f"invoice {invoice.number} claims late-payment costs itself: they bear no costs"
        )
    # Each stretch from one day to the next payment (or as_of), the amount then unpaid.
    start = invoice.due_on
    if start >= as_of or not _due_on(invoice, start).is_positive():
        return None
    stops = sorted(
        {p.paid_on for p in invoice.payments if start < p.paid_on < as_of}
        | {
            c.credited_on
            for c in invoice.corrections
            if start < c.credited_on < as_of and c.cancels.is_positive()
        }
    )
    slices: list[PenaltySlice] = []
    end = start
    for stop in (*stops, as_of):
        due = _due_on(invoice, end)
        if not due.is_positive():
            break
        if rate is not None:
            factor = Fraction(rate) / 100 * (stop - end).days / _YEAR_DAYS
            slices.append(
                PenaltySlice(
                    period=Period(end + timedelta(days=1), stop + timedelta(days=1)),
                    amount=due,
                    factor=factor,
                    penalty=(due * factor).rounded(),
                )
            )
        end = stop
    days = (end - start).days
    if days <= 0:
        return None
    penalty = Money.total((s.penalty for s in slices), currency=invoice.currency)
    lines = (
        _costs_line(
            LineKind.RECOVERY_INDEMNITY,
            key=f"indemnity:{invoice.number}",
            number=invoice.number,
            price=INDEMNITY,
            factor=Fraction(1),
            period=None,
        ),
        *(
            _costs_line(
                LineKind.LATE_PENALTY,
                key=f"penalty:{invoice.number}:{s.period.start.isoformat()}",
                number=invoice.number,
                price=s.amount,
                factor=s.factor,
                period=s.period,
            )
            for s in slices
        ),
    )
    document = Invoice(
        customer=invoice.customer,
        currency=invoice.currency,
        issued_on=as_of,
        due_on=as_of + timedelta(days=payment_terms_days),
        lines=lines,
        subscription=invoice.subscription,
    )
    return LatePaymentCosts(
        invoice=invoice.number,
        due_on=invoice.due_on,
        days_late=days,
        percent=rate,
        penalty=penalty,
        indemnity=INDEMNITY,
        document=document,
        slices=tuple(slices),
    )


def _costs_line(
    kind: LineKind,
    *,
    key: str,
    number: str,
    price: Money,
    factor: Fraction,
    period: Period | None,
) -> InvoiceLine:
    amount = (price * factor).rounded()
    zero = Money.zero(price.currency)
    return InvoiceLine(
        kind=kind,
        code=key.split(":", 1)[0],
        description=number,
        charge_key=key,
        period=period,
        quantity=Decimal(1),
        unit_price=price,
        factor=factor,
        amount=amount,
        discount=zero,
        base=amount,
        explanation=LineExplanation(
            unit_price=price,
            quantity=Decimal(1),
            factor=factor,
            period=period,
            days=None if period is None else period.days,
        ),
    )

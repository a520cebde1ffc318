"""Payment methods: saved cards (never a full number) and other methods, with expiry.

A card is valid through the last day of its expiry month.

>>> card = Card(id="pm_1", brand="Visa", last4="4242", exp_month=2, exp_year=2026)
>>> card.is_expired(as_of=date(2026, 2, 28)), card.is_expired(as_of=date(2026, 3, 1))
(False, True)

Card data never enters subbill. Every payment-method field (a method's ``id``, ``brand``,
``kind``, ``label``, a wallet's ``default``, a subscription's ``payment_method``, a payment's
``method``) is scanned by :func:`check_no_card_number`: anything that looks like a full card
number (13–19 digits passing the Luhn check, grouped or not, even inside longer text) is
refused with :class:`~subbill.errors.CardDataError`. The ``from_mapping`` constructors also
refuse a security-code key (``cvc``, ``cvv``, ``cvv2``, ``cid``, ``security_code``) anywhere
in the data (:func:`check_no_card_data`). Keep the brand, the last 4 digits, the expiry and
the payment processor's token; nothing more.

>>> Card(id="4242 4242 4242 4242", brand="Visa", last4="4242", exp_month=2, exp_year=2026)
Traceback (most recent call last):
...
subbill.errors.CardDataError: id holds what looks like a full card number; store only the card's brand, its last 4 digits, its expiry and the payment processor's token; never the full number nor the security code
"""  # noqa: E501  (the doctest shows the whole message)

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any, ClassVar, Self

import attrs

from subbill._validate import (
    check_count,
    check_enum,
    check_items,
    check_no_card_data,
    check_no_card_number,
    check_payment_reference,
    check_text,
    payment_reference,
)
from subbill.billing import BillingState, NegativeBalancePolicy
from subbill.decisions import Allowed, Decision, Refused, RefusedError, refusal
from subbill.errors import (
    CurrencyMismatchError,
    InvalidArgumentError,
    InvalidCardError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    check_same_account,
    credit_of,
    credits_a_period,
)
from subbill.money import Money
from subbill.periods import check_date, days_in_month

__all__ = [
    "Card",
    "Deletion",
    "InvalidCardError",
    "OtherMethod",
    "PaymentMethod",
    "Wallet",
    "check_no_card_data",
    "check_no_card_number",
    "check_payment_reference",
    "payment_method_from_mapping",
]

_DIGITS = re.compile(r"\d")


def _check_last4(_instance: Any, _attribute: Any, value: str) -> None:
    digits = "".join(_DIGITS.findall(value)) if isinstance(value, str) else ""
    if isinstance(value, str) and len(digits) >= 12:
        raise InvalidCardError(
            "last4 looks like a full card number; store only the last four digits "
            "(and never the security code)"
        )
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}", value):
        raise InvalidCardError(f"last4={value!r} must be exactly four digits")


def _check_expiry(instance: Card, _attribute: Any, year: int) -> None:
    check_count("exp_month", instance.exp_month, minimum=1, maximum=12, error=InvalidCardError)
    check_count("exp_year", year, minimum=1900, maximum=9999, error=InvalidCardError)


def _read(
    data: object, kind: str, *, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    """The fields of ``data`` for a ``kind``: security codes, unknown and missing keys refused."""
    check_no_card_data(data)
    if not isinstance(data, Mapping):
        raise InvalidTypeError(kind, data, "a mapping of its fields")
    known = required | optional
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f", did you mean {close[0]!r}?" if close else f"; expected {sorted(known)}"
            raise InvalidArgumentError(f"{kind}.{key}: unknown key{hint}")
    missing = sorted(required - set(data))
    if missing:
        raise InvalidArgumentError(f"{kind}.{missing[0]}: is missing")
    return dict(data)


@attrs.frozen(kw_only=True)
class Card:
    """A saved card: brand, last four digits and expiry; nothing more is ever kept.

    ``id`` is the payment processor's token (``pm_…``); neither it nor ``brand`` may hold a
    full card number (:class:`~subbill.errors.CardDataError`).
    """

    id: str = attrs.field(validator=payment_reference())
    brand: str = attrs.field(validator=payment_reference())
    last4: str = attrs.field(validator=_check_last4)
    exp_month: int
    exp_year: int = attrs.field(validator=_check_expiry)

    kind: ClassVar[str] = "card"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """A card from plain data: ``id``, ``brand``, ``last4``, ``exp_month``, ``exp_year``.

        A security-code key is refused (:class:`~subbill.errors.CardDataError`), as is any
        other unknown key.

        >>> Card.from_mapping({"id": "pm_1", "brand": "Visa", "last4": "4242",
        ...                    "exp_month": 2, "exp_year": 2026, "cvv": "123"})
        Traceback (most recent call last):
        ...
        subbill.errors.CardDataError: cvv is a card security code: store only the card's brand, its last 4 digits, its expiry and the payment processor's token; never the full number nor the security code
        """  # noqa: E501  (the doctest shows the whole message)
        fields = _read(
            data,
            "card",
            required={"id", "brand", "last4", "exp_month", "exp_year"},
            optional={"kind"},
        )
        if fields.pop("kind", "card") != "card":
            raise InvalidArgumentError("card.kind: must be 'card' (or left out)")
        return cls(**fields)

    @property
    def valid_through(self) -> date:
        """The last day the card can be used (the last day of its expiry month)."""
        return date(self.exp_year, self.exp_month, days_in_month(self.exp_year, self.exp_month))

    def is_expired(self, *, as_of: date) -> bool:
        """True from the first day after the expiry month: it cannot be charged on ``as_of``.

        « Expires before the next charge » is ``is_expired(as_of=next_billing)``.
        """
        return check_date("as_of", as_of) > self.valid_through

    @property
    def label(self) -> str:
        """« Visa •••• 4242 (02/2026) »."""
        return f"{self.brand} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"


@attrs.frozen(kw_only=True)
class OtherMethod:
    """Any other payment method (SEPA direct debit, transfer…): a kind and a label.

    None of ``id``, ``kind`` and ``label`` may hold a full card number (a valid IBAN in a
    label is fine).
    """

    id: str = attrs.field(validator=payment_reference())
    kind: str = attrs.field(validator=payment_reference())
    label: str = attrs.field(validator=payment_reference())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Another method from plain data: ``id``, ``kind``, ``label`` (no security code)."""
        return cls(**_read(data, "method", required={"id", "kind", "label"}))

    def is_expired(self, *, as_of: date) -> bool:
        """Other methods do not expire."""
        check_date("as_of", as_of)
        return False


PaymentMethod = Card | OtherMethod


def payment_method_from_mapping(data: Mapping[str, Any]) -> PaymentMethod:
    """A :class:`Card` (``kind`` ``"card"`` or absent with ``last4``) or an :class:`OtherMethod`.

    >>> payment_method_from_mapping({"id": "sepa", "kind": "sepa_debit", "label": "SEPA ••• 189"})
    OtherMethod(id='sepa', kind='sepa_debit', label='SEPA ••• 189')
    """
    check_no_card_data(data)
    if isinstance(data, Mapping) and (
        data.get("kind") == "card" or ("kind" not in data and "last4" in data)
    ):
        return Card.from_mapping(data)
    return OtherMethod.from_mapping(data)


def _methods(value: object) -> tuple[PaymentMethod, ...]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        raise InvalidTypeError("methods", value, "a sequence of Card and OtherMethod")
    methods = tuple(value)
    for method in methods:
        if not isinstance(method, Card | OtherMethod):
            raise InvalidTypeError("methods", method, "made of Card and OtherMethod values")
    ids = [method.id for method in methods]
    if len(set(ids)) != len(ids):
        raise InvalidArgumentError(f"payment methods have duplicate ids: {sorted(ids)}")
    return methods


def _check_default(instance: Wallet, _attribute: Any, default: str | None) -> None:
    check_payment_reference("default", default, optional=True)
    if default is not None and default not in {method.id for method in instance.methods}:
        raise InvalidArgumentError(f"default={default!r} is not one of the wallet's methods")


@attrs.frozen(kw_only=True)
class Wallet:
    """A customer's saved payment methods and the default one."""

    customer: str = attrs.field(validator=check_text)
    methods: tuple[PaymentMethod, ...] = attrs.field(default=(), converter=_methods)
    default: str | None = attrs.field(default=None, validator=_check_default)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """A wallet from plain data: ``customer``, ``methods`` (mappings), ``default``.

        A security-code key anywhere in ``data`` is refused
        (:class:`~subbill.errors.CardDataError`), before anything else is read.

        >>> card = {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 2,
        ...         "exp_year": 2026}
        >>> wallet = Wallet.from_mapping({"customer": "ACME", "methods": [card]})
        >>> wallet.default is None, wallet.method("pm_1").label
        (True, 'Visa •••• 4242 (02/2026)')
        """
        fields = _read(data, "wallet", required={"customer"}, optional={"methods", "default"})
        methods = fields.get("methods", ())
        if not isinstance(methods, list | tuple):
            raise InvalidTypeError("wallet.methods", methods, "a list of payment methods")
        fields["methods"] = tuple(payment_method_from_mapping(item) for item in methods)
        return cls(**fields)

    def method(self, method_id: str) -> PaymentMethod:
        """The saved method ``method_id``."""
        check_payment_reference("method_id", method_id)
        for method in self.methods:
            if method.id == method_id:
                return method
        raise InvalidArgumentError(
            f"method={method_id!r} is not saved for {self.customer!r}; saved: "
            f"{', '.join(m.id for m in self.methods) or 'none'}"
        )

    def add(self, method: PaymentMethod, *, make_default: bool = False) -> Wallet:
        """Save a new method (the first one saved becomes the default)."""
        default = method.id if make_default or self.default is None else self.default
        return attrs.evolve(self, methods=(*self.methods, method), default=default)

    def set_default(self, method_id: str) -> Wallet:
        """« Modifier le mode de paiement »: make ``method_id`` the default."""
        self.method(method_id)
        return attrs.evolve(self, default=method_id)

    def can_delete(
        self,
        method_id: str,
        *,
        subscriptions: Iterable[Any],
        as_of: date,
        replacement: str | None = None,
    ) -> Decision:
        """Whether ``method_id`` may be deleted, given the customer's ``subscriptions``.

        A method that a live subscription uses is deleted only when a ``replacement`` (another
        saved method) is named, and the subscriptions move to it: no subscription ever points
        at a deleted method. Refusals: ``only_method`` (it is the customer's only method: add
        another first), ``in_use`` (name a replacement), with the subscriptions named.
        ``subscriptions`` are :class:`~subbill.subscriptions.Subscription` values (anything
        with ``id``, ``payment_method`` and ``bills_after``): pass them all, or ``()`` for a
        customer without any. A subscription not started yet counts: it will be charged. A
        replacement that has expired is refused.
        """
        check_date("as_of", as_of)
        items = _subscriptions(subscriptions)
        self.method(method_id)
        if replacement is not None:
            if self.method(replacement).is_expired(as_of=as_of):
                raise InvalidArgumentError(
                    f"replacement={replacement!r} has expired: name a method that can still "
                    "be charged"
                )
            if replacement == method_id:
                raise InvalidArgumentError(
                    f"replacement={replacement!r} must be another method than the one deleted"
                )
        for index, item in enumerate(items):
            if not callable(getattr(item, "bills_after", None)):
                raise InvalidTypeError(f"subscriptions[{index}]", item, "a Subscription")
        # A scheduled subscription (bought, first billed later) uses its method too.
        using = sorted(
            s.id for s in items if s.payment_method == method_id and s.bills_after(as_of)
        )
        if using and replacement is None:
            others = [m for m in self.methods if m.id != method_id]
            code = "in_use" if others else "only_method"
            return refusal(code, method=method_id, subscriptions=", ".join(using))
        return Allowed()

    def delete(
        self,
        method_id: str,
        *,
        subscriptions: Iterable[Any],
        on: date | None = None,
        replacement: str | None = None,
        as_of: date | None = None,
    ) -> Deletion:
        """Delete a saved method on ``on``; the subscriptions that used it move to ``replacement``.

        The default moves to ``replacement`` (or another saved method) if it was the deleted
        one. Returns the wallet and the subscriptions changed (to store with it), each with
        its change of payment method dated ``on``. Whether the deletion is allowed is
        :meth:`can_delete` as of ``on``.

        ``as_of=`` is the former name of ``on=`` (a change is dated ``on``): it still works
        for one release, with a ``DeprecationWarning``.
        """
        day = _deletion_day(on, as_of)
        items = _subscriptions(subscriptions)
        decision = self.can_delete(
            method_id, subscriptions=items, as_of=day, replacement=replacement
        )
        if isinstance(decision, Refused):
            raise RefusedError(decision, f"delete payment method {method_id!r}")
        methods = tuple(m for m in self.methods if m.id != method_id)
        default = self.default
        if default == method_id:
            default = replacement or (methods[0].id if methods else None)
        moved = tuple(
            s.change_payment_method(replacement, on=day)
            for s in items
            if replacement is not None and s.payment_method == method_id
        )
        return Deletion(wallet=attrs.evolve(self, methods=methods, default=default), moved=moved)


def _deletion_day(on: date | None, as_of: date | None) -> date:
    """The day a deletion happens: ``on``, or the deprecated ``as_of`` (with a warning)."""
    if as_of is not None:
        if on is not None:
            raise InvalidArgumentError(
                f"on={on!r} and as_of={as_of!r} both date the deletion: pass on= only"
            )
        warnings.warn(
            "Wallet.delete(as_of=...) is deprecated: pass on= (the day the method is deleted)",
            DeprecationWarning,
            stacklevel=3,
        )
        on = as_of
    return check_date("on", on)


def _subscriptions(value: object) -> tuple[Any, ...]:
    """The customer's subscriptions as a tuple; what is not a collection of them is refused."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidTypeError(
            "subscriptions", value, "an iterable of Subscription values (() for none)"
        )
    return tuple(value)


@attrs.frozen(kw_only=True)
class Deletion:
    """A payment method deleted: the wallet without it, and the subscriptions moved off it."""

    wallet: Wallet
    moved: tuple[Any, ...] = ()


# -- corrections, refunds and the account identity --------------------------------------------
#
# Money paid back to a customer is a ``Refund`` record. Everything a customer is owed goes
# through the billing state's credit balance (overpayments, credit notes carried forward,
# corrected invoices), except what a credit note billed under
# ``NegativeBalancePolicy.CREDIT_NOTE`` owes: that is refunded against the note itself. So
# for each subscription's documents, payments received and refunds:
#
#     money received = paid on invoices + credit balance + owed on credit notes + refunded
#
# which ``account_balance`` reports (``owed_on_credit_notes`` is 0 once those notes are
# refunded, and always with ``CARRY_FORWARD``).


def _check_refund(instance: Refund, _attribute: Any, reference: str) -> None:
    amount = instance.amount
    if not isinstance(amount, Money):
        raise InvalidTypeError("amount", amount, "a Money > 0")
    if not amount.is_positive():
        raise OutOfBoundsError("amount", amount, "> 0 (money paid back to the customer)")
    check_date("refunded_on", instance.refunded_on)
    note = instance.credit_note
    if note is not None and (not isinstance(note, str) or not note.strip()):
        raise InvalidArgumentError(
            f"credit_note={note!r} must be the number of the credit note paid out, or None "
            "for the customer's credit balance"
        )
    if not isinstance(reference, str):
        raise InvalidTypeError("reference", reference, "a str")


@attrs.frozen(kw_only=True)
class Refund:
    """Money paid back to a customer: amount, date and what it pays out.

    ``credit_note`` is the number of the credit note it pays out, or ``None`` for the
    customer's credit balance (overpayments, credit carried forward). ``reference`` is the
    processor's reference of the transfer, if any.
    """

    amount: Money
    refunded_on: date
    credit_note: str | None = None
    reference: str = attrs.field(default="", validator=_check_refund)


@attrs.frozen(kw_only=True)
class CreditNoteResult:
    """A credit note recorded: the corrected invoice, the new state, and what was returned."""

    invoice: Invoice
    state: BillingState
    returned: Money


def record_credit_note(
    invoice: Invoice, note: Invoice, state: BillingState, *, in_balance: bool = False
) -> CreditNoteResult:
    """Apply the finalised credit ``note`` to the ``invoice`` it corrects, and to ``state``.

    The note first cancels what is still due on the invoice; the rest (the customer credit
    the invoice consumed, then what was paid) is ``returned`` to the credit balance of the
    returned state, from which it can be used by the next invoices or refunded
    (:func:`record_refund`). Pure: store the invoice, the note and the state together.

    A note with ``names_only=True`` (an invoice that owed nothing, see
    :func:`link_credit_note`) is only listed by the invoice
    (:meth:`~subbill.invoices.Invoice.name_credit_note`): ``state`` is returned as it is and
    nothing is ``returned``; what the note gives back is owed on the note itself. A note
    applied in part (``applied``) cancels that much of what is due and returns nothing: the
    rest is owed on the note itself.

    ``in_balance=True`` says the note's whole amount is in ``state``'s credit balance
    already: the engine's note under ``NegativeBalancePolicy.CARRY_FORWARD`` (see
    :func:`link_credit_note`). What the note cancels on the invoice then comes out of the
    balance, and the rest stays there: balance gained + cancelled = the note's amount.
    ``returned`` is that rest.

    >>> from subbill.billing import draft_invoice, record_payment
    >>> from subbill.invoices import credit_note_for, one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("setup", "Installation", Money("50", "EUR"))],
    ...     credit_applied=Money("20", "EUR")).finalize(number="F-2026-000001")
    >>> paid, state = record_payment(invoice,
    ...     Payment(amount=Money("30", "EUR"), paid_on=date(2026, 3, 2)), BillingState())
    >>> note = credit_note_for(paid, issued_on=date(2026, 3, 9)).finalize(number="F-2026-000002")
    >>> result = record_credit_note(paid, note, state)
    >>> result.returned, result.state.credit_balance
    (Money('50.00', 'EUR'), Money('50.00', 'EUR'))
    """
    if not isinstance(state, BillingState):
        raise InvalidTypeError("state", state, "a BillingState")
    if not isinstance(invoice, Invoice):
        raise InvalidTypeError("invoice", invoice, "an Invoice")
    balance = state.credit_balance
    if balance is not None and balance.currency != invoice.currency:
        raise CurrencyMismatchError(balance.currency, invoice.currency, "record a credit note of")
    if not isinstance(in_balance, bool):
        raise InvalidTypeError("in_balance", in_balance, "a bool")
    if isinstance(note, Invoice) and note.names_only:
        if in_balance:
            raise InvalidArgumentError(
                f"credit note {note.number} has names_only=True: what it gives back is owed "
                "on the note, not in the credit balance (in_balance=True is for the engine's "
                "notes under CARRY_FORWARD, linked by link_credit_note)"
            )
        named = invoice.name_credit_note(note)
        return CreditNoteResult(invoice=named, state=state, returned=Money.zero(invoice.currency))
    applied = invoice.apply_credit_note(note)
    cancelled = -note.total - applied.returned
    state = _state_after(
        state, note, cancelled, applied.returned, in_balance=in_balance,
        where=f"invoice {invoice.number}",
    )  # fmt: skip
    return CreditNoteResult(invoice=applied.invoice, state=state, returned=applied.returned)


def _state_after(
    state: BillingState,
    note: Invoice,
    cancelled: Money,
    returned: Money,
    *,
    in_balance: bool,
    where: str,
) -> BillingState:
    """The state once ``note`` cancelled ``cancelled`` (on ``where``) and ``returned`` the rest.

    ``in_balance``: the engine put the whole note in the balance already, what it cancels
    comes out of it; else what it returned beyond what was due goes in.
    """
    balance = state.credit_balance
    if not in_balance:
        return state.with_credit(returned) if returned.is_positive() else state
    if cancelled.is_positive() and (balance is None or balance < cancelled):
        raise InvalidStateError(
            f"in_balance=True, but the credit balance ({balance}) does not hold the "
            f"{cancelled} credit note {note.number} cancels on {where}: record it with the "
            "state the engine billed it with"
        )
    if cancelled.is_positive() and balance is not None:
        return attrs.evolve(state, credit_balance=balance - cancelled)
    return state


@attrs.frozen(kw_only=True)
class CreditNoteLink:
    """The engine's draft credit note, naming the invoice(s) it credits, and those invoices.

    ``invoice`` is the one invoice the note corrects (``note.corrects``), ``None`` when it
    corrects none. ``credited`` are, for a note crediting periods of several invoices
    (``note.credits_periods_of`` names them; ``invoice`` is then ``None``), those invoices
    as given, oldest first: record the note on them with :func:`record_shared_credit_note`.
    A note that names nothing is the draft as given.
    """

    note: Invoice
    invoice: Invoice | None
    credited: tuple[Invoice, ...] = ()


def link_credit_note(
    draft: Invoice,
    invoices: Iterable[Invoice],
    *,
    negative_balance: NegativeBalancePolicy = NegativeBalancePolicy.CREDIT_NOTE,
) -> CreditNoteLink:
    """Name, on the engine's draft credit note, the invoice it corrects, if one billed it all.

    ``draft`` is a credit note :func:`~subbill.billing.bill_subscription` billed (periods
    billed back after a cancellation brought forward, a downgrade…), ``invoices`` the
    subscription's invoices as they stand, in the order they were issued, and
    ``negative_balance`` its policy. When each credited line bills back part of a period
    the last invoice billing those charges billed, and that invoice may still be credited
    that much, the note names it (``corrects``, as a French credit note must), under either
    policy. Under ``NegativeBalancePolicy.CREDIT_NOTE``:

    - if it still owes at least the note's amount, the note will be applied to it whole
      (it cancels that much of what is due);
    - if it owes less, the note will be applied in part (``applied`` is what is due): it
      cancels what is due, and the rest is owed on the note itself, refunded against it —
      never put in the credit balance, where the next invoice would take it;
    - if it owes nothing (paid), the note only names it (``names_only=True``): what the note
      gives back stays owed on the note, refunded against it, exactly as a note that names
      no invoice.

    One rule, whatever was paid: the note cancels what is still due on the invoice, and
    the rest is owed on the note (8.00 due of a 239.67 note: 8.00 cancelled, 231.67
    refundable on the note).

    Under ``CARRY_FORWARD`` the same rule cancels what is still due on the invoice, and the
    rest is carried to the credit balance: the note is applied whole (no ``applied``, no
    ``names_only``; of a paid invoice it cancels nothing and only names it). The engine put
    the whole credit in the balance already: record it with ``in_balance=True``, and what
    it cancels comes out of the balance.

    Finalise ``link.note``, then record it with :func:`record_credit_note` on
    ``link.invoice`` (with the state ``bill_subscription`` returned, and
    ``in_balance=negative_balance is CARRY_FORWARD``).

    When no one invoice billed everything it credits (seats reduced from a day several
    monthly invoices ago), the note names every invoice whose periods its credit lines
    credit (``credits_periods_of``, oldest first; ``corrects`` stays ``None``) and
    ``link.credited`` holds them: each will record its share (credit lines of the periods
    it billed, less the note's own charges of those periods, :func:`note_shares`), so that
    each invoice afterwards asks what its own periods cost as corrected. The same rule
    holds per invoice: a share cancels what is still due on its own invoice, and the rest
    is owed on the note (``CREDIT_NOTE``: ``applied`` is the sum cancelled, or
    ``names_only`` when no invoice owes anything) or carried to the credit balance
    (``CARRY_FORWARD``). Record it with :func:`record_shared_credit_note`. A share is
    bounded by what its invoice may still be credited (``creditable``, which counts what
    earlier shares gave back): when a hand credit of its periods came first, it credits
    what is left, an invoice with nothing left is not named, and what the note gives back
    beyond that is owed on the note (or carried); the other invoices record their shares
    whole. When a credit line credits a period no stored invoice billed, the note names
    none and stands alone, as it does when nothing billed what it credits (``invoice``
    ``None``, ``credited`` empty). Pure: nothing is read nor written.

    Raises:
        InvalidStateError: ``draft`` is numbered already (link it before it is finalised).
        InvalidArgumentError: an invoice of ``draft``'s subscription is of another customer
            (:func:`~subbill.invoices.check_same_account`).
    """
    if not isinstance(draft, Invoice):
        raise InvalidTypeError("draft", draft, "a draft credit note (an Invoice)")
    check_enum("negative_balance", negative_balance, NegativeBalancePolicy)
    found = check_items("invoices", invoices, Invoice, collection="an iterable of Invoice")
    if draft.status is not InvoiceStatus.DRAFT:
        raise InvalidStateError(
            f"draft={draft.number} is {draft.status.value}: name the invoice a credit note "
            "corrects on its draft, before it is finalised"
        )
    alone = CreditNoteLink(note=draft, invoice=None)
    if draft.kind is not DocumentKind.CREDIT_NOTE or draft.corrects is not None:
        return alone
    _check_accounts(draft, found, every=False)
    credited = [line for line in draft.lines if line.net.is_negative()]
    if not credited or any(line.period is None for line in credited):
        return alone
    for stored in reversed(found):
        if (
            stored.kind is not DocumentKind.INVOICE
            or stored.number is None
            or stored.subscription != draft.subscription
            or stored.currency != draft.currency
        ):
            continue
        billed = {
            (line.charge_key, line.period)
            for line in stored.lines
            if line.period is not None and line.net.is_positive()
        }
        covers = all(
            any(
                key == line.charge_key and period.start <= line.period.start < period.end
                for key, period in billed
            )
            for line in credited
            if line.period is not None
        )
        if covers:
            if stored.creditable < credit_of(draft, stored):
                # Credited too much already (its credit lines count whole, also the part
                # the note's own charges take): the note stands on its own.
                return alone
            due = stored.amount_due
            if negative_balance is NegativeBalancePolicy.CARRY_FORWARD:
                # Cancels what is due; the rest stays in the credit balance (in_balance).
                note = attrs.evolve(draft, corrects=stored.number)
            elif due.is_zero():
                note = attrs.evolve(draft, corrects=stored.number, names_only=True)
            elif due < -draft.total:  # cancels what is due, the rest owed on the note
                note = attrs.evolve(draft, corrects=stored.number, applied=due)
            else:
                note = attrs.evolve(draft, corrects=stored.number)
            return CreditNoteLink(note=note, invoice=stored)
    return _link_to_several(draft, found, negative_balance) or alone


def _check_accounts(note: Invoice, invoices: Sequence[Invoice], *, every: bool) -> None:
    """Refuse an invoice of another customer (``every``: or subscription) than ``note``'s.

    Without ``every``, invoices of other subscriptions are passed over (the note links to
    none of them), but one of its own subscription and another customer is refused.
    """
    for stored in invoices:
        if every or stored.subscription == note.subscription:
            check_same_account(note, stored)


def _link_to_several(
    draft: Invoice, found: Sequence[Invoice], negative_balance: NegativeBalancePolicy
) -> CreditNoteLink | None:
    """The draft naming each invoice whose periods it credits, if each may take its share."""
    split = _split(draft, found)
    if split is None:
        return None  # the note stands alone
    shares = split.shares
    note = attrs.evolve(draft, credits_periods_of=tuple(d.number or "" for d in split.named))
    if negative_balance is NegativeBalancePolicy.CREDIT_NOTE:
        # Each share cancels what is still due on its own invoice; the rest is owed on the
        # note (the sum cancelled is what the note applies; nothing: it only names them).
        cancels = Money.total(
            (min(share.invoice.amount_due, share.given_back) for share in shares),
            currency=draft.currency,
        )
        if cancels.is_zero():
            note = attrs.evolve(note, names_only=True)
        elif cancels < -draft.total:
            note = attrs.evolve(note, applied=cancels)
    return CreditNoteLink(note=note, invoice=None, credited=split.billers)


@attrs.frozen(kw_only=True)
class CreditNoteShare:
    """One invoice's share of a credit note crediting periods of several invoices.

    ``amount`` is what the note's credit lines of the periods ``invoice`` billed credit
    (with their tax), ``consumed`` the part of it the note's own charges take (the new
    quantity's charges of those periods first: 0 when none), so that ``given_back``
    (``amount − consumed``) is what the note gives back for those periods. ``spilled`` is
    the part of ``consumed`` that charges a period no invoice it names billed (a note billed
    on a renewal day charges the new period too): it lowers what the share settles, not
    what it credits those periods (``counted``, measured against the invoice's
    ``creditable``).
    """

    invoice: Invoice
    amount: Money
    consumed: Money
    spilled: Money | None = None

    @property
    def given_back(self) -> Money:
        """What the note gives back on this invoice: ``amount − consumed``."""
        return self.amount - self.consumed

    @property
    def counted(self) -> Money:
        """What the share credits the invoice's periods: ``amount`` less their charges again.

        ``given_back`` plus ``spilled``: the note's charges of those same periods bill them
        again at the corrected quantity, so only the rest counts against ``creditable``.
        """
        return self.given_back + (self.spilled or Money.zero(self.amount.currency))


def _bills_period(stored: Invoice, line: InvoiceLine) -> bool:
    """Whether ``stored`` billed (any charge of) the period ``line`` charges again."""
    start = line.period.start if line.period is not None else None
    return start is not None and any(
        own.period is not None and own.period.start <= start < own.period.end
        for own in stored.lines
        if own.net.is_positive()
    )


@attrs.frozen(kw_only=True)
class _Split:
    """A note's credit over the documents that billed what it credits (see :func:`_split`)."""

    named: tuple[Invoice, ...]  # the documents it names, oldest first
    shares: tuple[CreditNoteShare, ...]  # the invoices' shares among them
    billers: tuple[Invoice, ...]  # every document billing a credited period, oldest first


def _split(note: Invoice, invoices: Sequence[Invoice]) -> _Split | None:
    """``note``'s credit over the documents that billed it; ``None`` unless it is several.

    A credit line of a period an earlier credit note charged again on itself (seats changed
    twice, backdated) counts against the invoice that note names which billed the period
    first (:func:`_origin`): it still asks that charge. Only when the note names no such
    invoice is the line netted against the note's charge: the note is named, nothing is
    recorded on it (a note is never credited), and what the line gives back is owed on (or
    carried by) the new note.
    """
    candidates = [
        stored
        for stored in reversed(invoices)  # the last document billing a period credits it
        if stored.number is not None
        and stored.number != note.number
        and stored.status is not InvoiceStatus.VOID
        and stored.subscription == note.subscription
        and stored.currency == note.currency
        and stored.issued_on <= note.issued_on
    ]
    groups: dict[str, tuple[Invoice, list[InvoiceLine]]] = {}
    charges: list[InvoiceLine] = []
    through: dict[str, Invoice] = {}  # notes that billed a period again, traced through
    for line in note.lines:
        if line.total.is_positive():
            charges.append(line)
        elif line.net.is_negative():
            if not credits_a_period(line):
                return None  # a negative line of its own (a remise): not a credit of periods
            biller = next((stored for stored in candidates if _bills(stored, line)), None)
            if biller is None:
                return None  # a period no stored document billed: it stands alone
            origin = _origin(biller, line, candidates)
            if origin is not None:
                through[biller.number or ""] = biller
                biller = origin
            groups.setdefault(biller.number or "", (biller, []))[1].append(line)
    invoice_kind = DocumentKind.INVOICE
    if (len(groups) < 2 and not through) or all(
        g[0].kind is not invoice_kind for g in groups.values()
    ):
        return None  # one document (link_credit_note's own case), or no invoice to record it
    order = {stored.number: index for index, stored in enumerate(invoices)}
    billed = sorted(groups.values(), key=lambda group: order[group[0].number])
    currency = note.currency
    amounts = [
        Money.total((-line.total for line in lines), currency=currency) for _, lines in billed
    ]
    consumed = [Money.zero(currency) for _ in billed]
    # The note's charges of a period take the share of the document that billed it first;
    # what is left (a charge of no billed period, or beyond that share) the newest shares.
    spill = Money.zero(currency)
    for line in charges:
        left = line.total
        for index, (stored, _) in enumerate(billed):
            if _bills_period(stored, line):
                taken = min(left, amounts[index] - consumed[index])
                consumed[index] += taken
                left -= taken
                break
        spill += left
    spilled = [Money.zero(currency) for _ in billed]
    for index in reversed(range(len(billed))):  # the newest first: the least overdue
        taken = min(spill, amounts[index] - consumed[index])
        spilled[index] = taken
        spill -= taken
    if spill.is_positive():  # it charges more than it credits: no credit note of them
        return None
    shares = tuple(
        CreditNoteShare(
            invoice=stored,
            amount=amount,
            consumed=own + spill,
            spilled=spill if spill.is_positive() else None,
        )
        for (stored, _), amount, own, spill in zip(billed, amounts, consumed, spilled, strict=True)
        if stored.kind is invoice_kind
    )
    billers = sorted(
        [*(stored for stored, _ in billed), *through.values()],
        key=lambda stored: order[stored.number],
    )
    return _bounded(tuple(stored for stored, _ in billed), shares, tuple(billers))


def _origin(biller: Invoice, line: InvoiceLine, candidates: Sequence[Invoice]) -> Invoice | None:
    """The invoice that first billed the period ``line`` credits, when a note billed it again.

    ``biller``, a credit note, charged that period again at a new quantity (a backdated
    change); the invoice it names (``corrects`` or ``credits_periods_of``) that billed the
    period still asks that charge, net of the note's share: a later credit of the period
    counts against it. ``None`` when ``biller`` is an invoice, or names none that billed it.
    """
    if biller.kind is DocumentKind.INVOICE:
        return None
    names = {biller.corrects, *biller.credits_periods_of}
    return next(
        (
            stored
            for stored in candidates
            if stored.kind is DocumentKind.INVOICE
            and stored.number in names
            and _bills_period(stored, line)
            # not a line of its own the note gave back (a note reversing an upgrade's credit)
            and all(own.charge_key != line.charge_key for own in stored.lines)
        ),
        None,
    )


def _bounded(
    named: tuple[Invoice, ...], shares: tuple[CreditNoteShare, ...], billers: tuple[Invoice, ...]
) -> _Split | None:
    """The shares each within what its invoice may still be credited (``creditable``).

    A share that credits its invoice's periods more than the invoice may still be credited
    (a hand credit of those periods came first) credits them what is left, and an invoice
    with nothing left takes no share and is not named: what the note gives back beyond
    that is owed on the note (or carried), and the other invoices record their shares
    whole. ``None`` (the note stands alone) when none is left, or when what is left cannot
    hold the share's charge of a period no named invoice billed (``spilled``).
    """
    kept: list[CreditNoteShare] = []
    dropped: set[str | None] = set()
    for share in shares:
        room, excess = share.invoice.creditable, share.counted - share.invoice.creditable
        if not excess.is_positive():
            kept.append(share)
        elif not room.is_positive():
            dropped.add(share.invoice.number)
        elif excess > share.given_back:
            return None  # what is left would not even hold its charge of another period
        else:
            kept.append(attrs.evolve(share, amount=share.amount - excess))
    if not kept:
        return None
    return _Split(
        named=tuple(stored for stored in named if stored.number not in dropped),
        shares=tuple(kept),
        billers=billers,
    )


def note_shares(note: Invoice, invoices: Iterable[Invoice]) -> tuple[CreditNoteShare, ...]:
    """Each invoice's share of the credit ``note`` whose lines credit periods of several.

    ``invoices`` are the subscription's invoices in the order they were issued. Each credit
    line credits the last invoice billing its period (as :func:`link_credit_lines` counts
    an invoice's credit lines); the note's own charges (the new quantity or plan, billed
    for the same periods) are consumed on the share of the invoice that billed their
    period, then, beyond it, on the newest shares (a charge of a period no invoice billed,
    the next one on a renewal day: on the least overdue). Oldest first; empty when the note's
    credit lines credit periods of one invoice only (:func:`link_credit_note` links it to
    that one) or of none a given invoice billed: such a note names none of them. A credit
    line of a period an earlier credit note charged again on itself counts against the
    invoice that note names which billed the period first (it still asks that charge);
    when it names none, the line is netted against that charge: that note has no share (a
    note is never credited), and what the line gives back is owed on (or carried by) this
    note. Each share is bounded by what its invoice may still be credited (see
    :func:`link_credit_note`).

    Raises:
        InvalidArgumentError: an invoice is of another customer or subscription than the
            note (:func:`~subbill.invoices.check_same_account`).
    """
    if not isinstance(note, Invoice):
        raise InvalidTypeError("note", note, "a credit note (an Invoice)")
    found = check_items("invoices", invoices, Invoice, collection="an iterable of Invoice")
    if note.kind is not DocumentKind.CREDIT_NOTE:
        return ()
    _check_accounts(note, found, every=True)
    split = _split(note, found)
    return () if split is None else split.shares


@attrs.frozen(kw_only=True)
class SharedCreditNoteResult:
    """A credit note of several invoices recorded: those invoices, the state, what returned.

    ``invoices`` each record their share (oldest first), ``returned`` is what went to the
    credit balance beyond what they owed (as :class:`CreditNoteResult`'s).
    """

    invoices: tuple[Invoice, ...]
    state: BillingState
    returned: Money


def record_shared_credit_note(
    note: Invoice,
    invoices: Iterable[Invoice],
    state: BillingState,
    *,
    in_balance: bool = False,
) -> SharedCreditNoteResult:
    """Record the numbered ``note`` crediting periods of several invoices on each of them.

    ``note`` is the engine's credit note :func:`link_credit_note` named those invoices on
    (``credits_periods_of``), finalised; ``invoices`` the invoices it credits as they stand
    (``link.credited``, or all the subscription's invoices in the order they were issued),
    and ``state`` the state ``bill_subscription`` returned. Each invoice records its share
    (:func:`note_shares`, :meth:`~subbill.invoices.Invoice.apply_credit_note_share`): it
    cancels what is due on that invoice first; the rest is owed on the note (a note with
    ``applied`` or ``names_only``) or, for a note applied whole, returned to the credit
    balance. ``in_balance=True`` (the engine's note under ``CARRY_FORWARD``) says the whole
    note is in ``state``'s credit balance already: what the shares cancel comes out of it.
    All or none: one share refused, nothing is recorded. Pure: store the invoices, the note
    and the state together.

    Raises:
        InvalidArgumentError: ``invoices`` do not hold each invoice the note names (or the
            note credits periods of one invoice or none: :func:`record_credit_note`), or
            one is of another customer or subscription than the note.
        InvalidStateError: the invoices changed since the note was linked (they no longer
            owe what its ``applied`` cancels), or ``in_balance`` with a note owed on itself.
        OutOfBoundsError: a share is more than its invoice may still be credited.
    """
    if not isinstance(note, Invoice):
        raise InvalidTypeError("note", note, "a credit note (an Invoice)")
    found = check_items("invoices", invoices, Invoice, collection="an iterable of Invoice")
    if not isinstance(state, BillingState):
        raise InvalidTypeError("state", state, "a BillingState")
    if not isinstance(in_balance, bool):
        raise InvalidTypeError("in_balance", in_balance, "a bool")
    _check_accounts(note, found, every=True)
    split = _split(note, found) if note.kind is DocumentKind.CREDIT_NOTE else None
    named = () if split is None else tuple(document.number for document in split.named)
    if not named or named != note.credits_periods_of:
        raise InvalidArgumentError(
            f"credit note {note.number or 'draft'} credits periods of "
            f"{', '.join(note.credits_periods_of) or 'no invoice it names'}; invoices= must "
            f"hold each of them as stored (found {', '.join(map(str, named)) or 'none'})"
        )
    balance = state.credit_balance
    if balance is not None and balance.currency != note.currency:
        raise CurrencyMismatchError(balance.currency, note.currency, "record a credit note of")
    if in_balance and (note.names_only or note.applied is not None):
        raise InvalidArgumentError(
            f"credit note {note.number} is owed on itself (names_only or applied): what it "
            "gives back is not in the credit balance (in_balance=True is for the engine's "
            "notes under CARRY_FORWARD)"
        )
    recorded: list[Invoice] = []
    returned = cancelled = Money.zero(note.currency)
    for share in () if split is None else split.shares:
        applied = share.invoice.apply_credit_note_share(
            note, amount=share.amount, consumed=share.consumed, spilled=share.spilled
        )
        recorded.append(applied.invoice)
        returned += applied.returned
        cancelled += applied.invoice.cancelled - share.invoice.cancelled - applied.returned
    if note.applied is not None and cancelled != note.applied:
        raise InvalidStateError(
            f"credit note {note.number} applies {note.applied} to the invoices it credits, "
            f"which owe {cancelled} of it now: link the note again (link_credit_note)"
        )
    state = _state_after(
        state, note, cancelled, returned, in_balance=in_balance,
        where=f"invoices {', '.join(note.credits_periods_of)}",
    )  # fmt: skip
    return SharedCreditNoteResult(invoices=tuple(recorded), state=state, returned=returned)


@attrs.frozen(kw_only=True)
class CreditLinesLink:
    """An engine's invoice naming the invoices whose periods it credits, and those invoices.

    ``invoice`` is the numbered invoice as it is stored (``credits_periods_of`` set when it
    names any), ``credited`` the earlier invoices its credit lines credit, each recording
    them (a :class:`~subbill.invoices.Correction` with ``consumed``), in the order of their
    first credit line. Store them together.
    """

    invoice: Invoice
    credited: tuple[Invoice, ...] = ()


def _bills(stored: Invoice, line: InvoiceLine) -> bool:
    """Whether ``stored`` billed the period the credit ``line`` credits (part of)."""
    start = line.period.start if line.period is not None else None
    return start is not None and any(
        own.charge_key == line.charge_key
        and own.period is not None
        and own.period.start <= start < own.period.end
        and own.net.is_positive()
        for own in stored.lines
    )


def link_credit_lines(invoice: Invoice, invoices: Iterable[Invoice]) -> CreditLinesLink:
    """Count the credit lines of the engine's ``invoice`` against the invoices they credit.

    ``invoice`` is a numbered invoice (total ≥ 0) that
    :func:`~subbill.billing.bill_subscription` billed with credit lines of periods earlier
    invoices billed (an upgrade credits the unused part of the old plan on the invoice of
    the new one), and ``invoices`` the subscription's invoices as they stand, in the order
    they were issued. Each credit line credits the last invoice that billed its charge's
    period; that invoice records the lines crediting it
    (:meth:`~subbill.invoices.Invoice.count_credit_lines`): its ``credited`` and
    ``creditable`` count them, as they count a credit note, so that together they never
    credit more than it charged. The credit is consumed on ``invoice`` (the customer pays
    the net there): it cancels nothing of what the earlier invoice asks, is never refunded
    and never reaches the credit balance. ``invoice`` names them (``credits_periods_of``),
    as a French document referring to the invoice it corrects must.

    All or none: when one of those invoices may no longer be credited that much (credit
    notes took its ``creditable`` already), or a credit line credits a period no stored
    document billed, nothing is recorded and the invoice names none: its lines stand on
    their own, as the engine's credit note does then, and it charged its whole total
    (:attr:`~subbill.invoices.Invoice.charged`). A credit line of a period a downgrade's
    credit note charged on itself is netted against that charge: the note is named, nothing
    is recorded on it (a note is never credited). Only lines of a credit kind count
    (:func:`~subbill.invoices.credits_a_period`): a line of a negative price (a quote's
    « remise ») is the invoice's own. A credit note (linked by :func:`link_credit_note`), a
    draft, or an invoice without credit lines comes back as it is. Pure: nothing is read nor
    written.

    >>> from datetime import date
    >>> from subbill.billing import draft_invoice
    >>> from subbill.invoices import LineKind, one_time_line
    >>> from subbill.periods import Period
    >>> line = attrs.evolve(one_time_line("essentiel", "Essentiel", Money("290", "EUR")),
    ...     kind=LineKind.RECURRING, charge_key="essentiel@2026-03-01",
    ...     period=Period(date(2026, 3, 1), date(2027, 3, 1)))
    >>> first = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[line]).finalize(number="F-2026-000001")
    >>> unused = Money("-193.07", "EUR")
    >>> credit = attrs.evolve(line, kind=LineKind.PRORATION_CREDIT, amount=unused,
    ...     base=unused, period=Period(date(2026, 7, 1), date(2027, 3, 1)))
    >>> upgrade = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 7, 1),
    ...     lines=[credit, one_time_line("pro", "Pro", Money("392.79", "EUR"))]
    ... ).finalize(number="F-2026-000002")
    >>> link = link_credit_lines(upgrade, [first])
    >>> link.invoice.credits_periods_of, link.credited[0].creditable
    (('F-2026-000001',), Money('96.93', 'EUR'))
    """
    if not isinstance(invoice, Invoice):
        raise InvalidTypeError("invoice", invoice, "a numbered invoice (an Invoice)")
    found = check_items("invoices", invoices, Invoice, collection="an iterable of Invoice")
    alone = CreditLinesLink(invoice=invoice)
    if (
        invoice.kind is not DocumentKind.INVOICE
        or invoice.number is None
        or invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
        or invoice.credits_periods_of
    ):
        return alone
    credit_lines = [line for line in invoice.lines if credits_a_period(line)]
    if not credit_lines:
        return alone
    candidates = [
        stored
        for stored in reversed(found)  # the last document billing a period credits it
        if stored.number is not None
        and stored.number != invoice.number
        and stored.subscription == invoice.subscription
        and stored.currency == invoice.currency
        and stored.issued_on <= invoice.issued_on
    ]
    groups: dict[str, tuple[Invoice, list[InvoiceLine]]] = {}
    netted: list[str] = []  # credit notes whose own charge line billed a credited period
    for line in credit_lines:
        for stored in candidates:
            if _bills(stored, line):
                number = stored.number or ""
                if stored.kind is DocumentKind.INVOICE:
                    groups.setdefault(number, (stored, []))[1].append(line)
                elif number not in netted:
                    # A downgrade's note charged the period on itself: the line is netted
                    # against that charge (a note is never credited), named, not recorded.
                    netted.append(number)
                break
        else:  # a period no document here billed: nothing counts it, all stand alone
            return alone
    credited = []
    for stored, lines in groups.values():
        amount = Money.total((-line.total for line in lines), currency=invoice.currency)
        if amount > stored.creditable:  # credited too much already: all stand on their own
            return alone
        credited.append(stored.count_credit_lines(invoice, lines=lines))
    # All or none: the invoice's credits_periods_of then says each of its credit lines is
    # counted on (or netted against) a document it names: Invoice.charged leaves them out.
    named = (*(stored.number for stored in credited if stored.number is not None), *netted)
    return CreditLinesLink(
        invoice=attrs.evolve(invoice, credits_periods_of=named), credited=tuple(credited)
    )


def _check_inputs(
    state: object, negative_balance: object, refunds: Iterable[object]
) -> tuple[Refund, ...]:
    """Check the arguments the refund functions share; return the refunds as a tuple."""
    if not isinstance(state, BillingState):
        raise InvalidTypeError("state", state, "a BillingState")
    if not isinstance(negative_balance, NegativeBalancePolicy):
        raise InvalidTypeError(
            "negative_balance",
            negative_balance,
            "a NegativeBalancePolicy (NegativeBalancePolicy.CREDIT_NOTE or .CARRY_FORWARD)",
        )
    if isinstance(refunds, str) or not isinstance(refunds, Iterable):
        raise InvalidTypeError("refunds", refunds, "an iterable of Refund")
    items: list[Refund] = []
    for item in refunds:
        if not isinstance(item, Refund):
            raise InvalidTypeError("refunds", item, "Refund items")
        items.append(item)
    return tuple(items)


def _from_balance(note: Invoice | None, negative_balance: NegativeBalancePolicy) -> bool:
    """Whether what ``note`` owes sits in the credit balance (else it is owed on the note).

    A note applied whole to the invoice it corrects returned what it gives back to the
    balance. A note that only names it (``names_only``) or is applied in part (``applied``)
    owes on itself: a stored fact, whatever the policy now (it changes no earlier note).
    A note that corrects nothing follows ``negative_balance``.
    """
    if note is None:
        return True
    if note.names_only or note.applied is not None:
        return False
    return (
        note.corrects is not None
        or bool(note.credits_periods_of)
        or negative_balance is NegativeBalancePolicy.CARRY_FORWARD
    )


def _owed_by(note: Invoice) -> Money:
    """What ``note`` gives back, less the part applied to its invoice (``applied``)."""
    return -note.total - note.applied if note.applied is not None else -note.total


def refundable(
    state: BillingState,
    *,
    currency: str,
    credit_note: Invoice | None = None,
    refunds: Iterable[Refund] = (),
    negative_balance: NegativeBalancePolicy = NegativeBalancePolicy.CREDIT_NOTE,
) -> Money:
    """What may still be refunded: of the credit balance, or of ``credit_note``.

    A credit note applied to the invoice it corrects (or one billed with ``CARRY_FORWARD``)
    put what it owes in the credit balance: refunding it draws on the balance, and never
    more than the note's amount less its earlier ``refunds``. A credit note billed with the
    ``CREDIT_NOTE`` policy is owed on its own: its amount less its earlier refunds — also
    when it names the paid invoice it corrects without being applied to it (``names_only``,
    whatever ``negative_balance`` is now); a note applied in part (``applied``, the part
    that cancelled what its invoice still owed) owes the rest: amount − applied − refunds.
    """
    earlier = _check_inputs(state, negative_balance, refunds)
    if credit_note is not None and (
        not isinstance(credit_note, Invoice) or credit_note.kind is not DocumentKind.CREDIT_NOTE
    ):
        raise InvalidTypeError("credit_note", credit_note, "a credit note (an Invoice)")
    zero = Money.zero(currency)
    balance = state.credit_balance or zero
    if balance.currency != currency:
        raise CurrencyMismatchError(currency, balance.currency, "refund")
    if credit_note is None:
        return balance
    done = Money.total(
        (r.amount for r in earlier if r.credit_note == credit_note.number), currency=currency
    )
    left = max(_owed_by(credit_note) - done, zero)
    return min(left, balance) if _from_balance(credit_note, negative_balance) else left


def _check_note_for_refund(refund: Refund, note: Invoice | None) -> None:
    if refund.credit_note is None and note is None:
        return
    if note is None:
        raise InvalidArgumentError(
            f"refund of credit_note={refund.credit_note!r}: pass that credit note "
            "(credit_note=) so that what it still owes is known"
        )
    if not isinstance(note, Invoice) or note.kind is not DocumentKind.CREDIT_NOTE:
        raise InvalidTypeError("credit_note", note, "a credit note (an Invoice)")
    if note.number is None or note.status is InvoiceStatus.VOID:
        raise InvalidStateError(
            f"credit note with status={note.status.value} cannot be refunded: finalize it first"
        )
    if refund.credit_note != note.number:
        raise InvalidArgumentError(
            f"refund.credit_note={refund.credit_note!r} is not the credit note given "
            f"({note.number!r})"
        )
    if refund.refunded_on < note.issued_on:
        raise InvalidArgumentError(
            f"refunded_on={refund.refunded_on.isoformat()} is before credit note "
            f"{note.number}'s issued_on={note.issued_on.isoformat()}"
        )


def record_refund(
    refund: Refund,
    state: BillingState,
    *,
    credit_note: Invoice | None = None,
    refunds: Iterable[Refund] = (),
    negative_balance: NegativeBalancePolicy = NegativeBalancePolicy.CREDIT_NOTE,
) -> BillingState:
    """Check ``refund`` against what is refundable and return the state after it.

    ``credit_note`` is the note the refund pays out (``refund.credit_note`` names it),
    ``refunds`` the earlier refunds (of that note: what it still owes), and
    ``negative_balance`` the policy the subscription bills negative totals with. A refund
    drawn on the credit balance lowers it; one paying out a ``CREDIT_NOTE``-policy note
    leaves it as it is. Keep the refund with the customer's records: :func:`account_balance`
    counts it.

    >>> state = BillingState(credit_balance=Money("20.00", "EUR"))
    >>> record_refund(Refund(amount=Money("15", "EUR"), refunded_on=date(2026, 3, 3)),
    ...     state).credit_balance
    Money('5.00', 'EUR')

    Raises:
        OutOfBoundsError: the refund exceeds what is refundable (:func:`refundable`).
    """
    if not isinstance(refund, Refund):
        raise InvalidTypeError("refund", refund, "a Refund")
    earlier = _check_inputs(state, negative_balance, refunds)
    _check_note_for_refund(refund, credit_note)
    currency = refund.amount.currency
    if credit_note is not None and credit_note.currency != currency:
        raise CurrencyMismatchError(credit_note.currency, currency, "refund")
    limit = refundable(
        state,
        currency=currency,
        credit_note=credit_note,
        refunds=earlier,
        negative_balance=negative_balance,
    )
    if refund.amount > limit:
        expected = _refund_bound(limit, state, credit_note, earlier, negative_balance)
        raise OutOfBoundsError("amount", refund.amount, expected)
    if not _from_balance(credit_note, negative_balance):
        return state
    balance = (state.credit_balance or Money.zero(currency)) - refund.amount
    return attrs.evolve(state, credit_balance=balance)


def _refund_bound(
    limit: Money,
    state: BillingState,
    note: Invoice | None,
    earlier: tuple[Refund, ...],
    negative_balance: NegativeBalancePolicy,
) -> str:
    """What a refund above ``limit`` is told: the bound, why, and what to do."""
    shown = limit.rounded()
    balance = (state.credit_balance or Money.zero(limit.currency)).rounded()
    if note is None:
        why = f"the subscription's credit balance (what the seller owes the customer) is {balance}"
    else:
        done = Money.total(
            (r.amount for r in earlier if r.credit_note == note.number), currency=limit.currency
        )
        why = f"credit note {note.number} gives back {(-note.total).rounded()}"
        corrected = note.corrects or ", ".join(note.credits_periods_of)
        those = "that invoice" if note.corrects else "those invoices"
        if note.applied is not None:
            why += f", {note.applied.rounded()} of it cancelled what {corrected} still owed"
        elif corrected and not note.names_only:
            why += (
                f", applied whole to {corrected}: it cancelled what {those} still owed first, "
                "the rest went to the credit balance"
            )
        why += f"; {done.rounded()} of it was refunded already"
        if _from_balance(note, negative_balance):
            why += f", and the credit balance holds {balance}"
    if shown.is_positive():
        return f"<= {shown}: {why}; refund at most {shown}"
    return f"<= {shown}: {why}; nothing is left to refund, the customer is owed nothing here"


@attrs.frozen(kw_only=True)
class AccountBalance:
    """Where a customer's money is, for one subscription's records (see :func:`account_balance`).

    ``invoiced`` sums the invoices, ``credited`` the credit notes, ``due`` what invoices
    still ask; ``received`` the payments received (overpayments included), ``refunded`` the
    refunds; ``credit_balance`` the state's balance; ``owed_on_credit_notes`` what notes
    billed under the ``CREDIT_NOTE`` policy still owe.
    """

    currency: str
    received: Money
    invoiced: Money
    credited: Money
    due: Money
    credit_balance: Money
    owed_on_credit_notes: Money
    refunded: Money

    @property
    def paid_on_invoices(self) -> Money:
        """What the invoices, net of their credit notes, have been settled with."""
        return self.invoiced - self.credited - self.due

    @property
    def difference(self) -> Money:
        """Received − (paid on invoices + credit balance + owed on credit notes + refunded)."""
        return self.received - (
            self.paid_on_invoices + self.credit_balance + self.owed_on_credit_notes + self.refunded
        )

    @property
    def is_balanced(self) -> bool:
        """True when the money received is all accounted for, to the cent."""
        return self.difference.is_zero()


def account_balance(
    documents: Iterable[Invoice],
    *,
    currency: str,
    payments: Iterable[Payment],
    refunds: Iterable[Refund],
    state: BillingState,
    negative_balance: NegativeBalancePolicy = NegativeBalancePolicy.CREDIT_NOTE,
) -> AccountBalance:
    """Report the identity: received = paid on invoices + credit balance + (owed) + refunded.

    ``documents`` are one subscription's invoices and credit notes as they stand now (drafts
    count: billing took their customer credit; discarded drafts do not), ``payments`` the
    payments as received (with any overpayment, as given to ``record_payment``), ``refunds``
    its refunds, ``state`` its billing state and ``negative_balance`` its policy. Pure: it
    checks nothing by itself; ``is_balanced`` tells whether money was invented or lost.

    >>> from subbill.billing import draft_invoice, record_payment
    >>> from subbill.invoices import one_time_line
    >>> invoice = draft_invoice(customer="ACME", currency="EUR", issued_on=date(2026, 3, 1),
    ...     lines=[one_time_line("setup", "Installation", Money("80", "EUR"))]
    ... ).finalize(number="F-2026-000001")
    >>> payment = Payment(amount=Money("100", "EUR"), paid_on=date(2026, 3, 2))
    >>> paid, state = record_payment(invoice, payment, BillingState())
    >>> refund = Refund(amount=Money("5.00", "EUR"), refunded_on=date(2026, 3, 3))
    >>> state = record_refund(refund, state)
    >>> report = account_balance([paid], currency="EUR", payments=[payment],
    ...     refunds=[refund], state=state)
    >>> report.paid_on_invoices, report.credit_balance, report.refunded, report.is_balanced
    (Money('80.00', 'EUR'), Money('15.00', 'EUR'), Money('5.00', 'EUR'), True)
    """
    refund_items = _check_inputs(state, negative_balance, refunds)
    zero = Money.zero(currency)
    docs = tuple(documents)
    received_items = tuple(payments)
    for doc in docs:
        if not isinstance(doc, Invoice):
            raise InvalidTypeError("documents", doc, "Invoice items")
    for payment in received_items:
        if not isinstance(payment, Payment):
            raise InvalidTypeError("payments", payment, "Payment items")
    live = [doc for doc in docs if doc.status is not InvoiceStatus.VOID]
    invoices = [doc for doc in live if doc.kind is DocumentKind.INVOICE]
    notes = [doc for doc in live if doc.kind is DocumentKind.CREDIT_NOTE]
    owed = zero
    for note in notes:
        if not _from_balance(note, negative_balance):
            owed += refundable(
                state,
                currency=currency,
                credit_note=note,
                refunds=refund_items,
                negative_balance=negative_balance,
            )
    balance = state.credit_balance or zero
    if balance.currency != currency:
        raise CurrencyMismatchError(currency, balance.currency, "account for")
    return AccountBalance(
        currency=currency,
        received=Money.total((p.amount for p in received_items), currency=currency),
        invoiced=Money.total((doc.total for doc in invoices), currency=currency),
        credited=Money.total((-doc.total for doc in notes), currency=currency),
        due=Money.total((doc.amount_due for doc in invoices), currency=currency),
        credit_balance=balance,
        owed_on_credit_notes=owed,
        refunded=Money.total((r.amount for r in refund_items), currency=currency),
    )


__all__ += [
    "AccountBalance",
    "CreditLinesLink",
    "CreditNoteLink",
    "CreditNoteResult",
    "CreditNoteShare",
    "Refund",
    "SharedCreditNoteResult",
    "account_balance",
    "link_credit_lines",
    "link_credit_note",
    "note_shares",
    "record_credit_note",
    "record_refund",
    "record_shared_credit_note",
    "refundable",
]

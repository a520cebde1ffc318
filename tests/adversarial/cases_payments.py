"""Bad inputs to payments, credit notes, refunds, the credit balance and the account identity."""

from datetime import date, datetime
from decimal import Decimal

import attrs

from subbill import InvoiceStatus, Money, Payment
from subbill.billing import BillingState, draft_invoice, record_payment
from subbill.errors import (
    CurrencyMismatchError,
    InvalidArgumentError,
    InvalidDateError,
    InvalidStateError,
    InvalidTypeError,
    OutOfBoundsError,
    UnknownCurrencyError,
)
from subbill.invoices import Correction, Invoice, LineKind, credit_note_for, one_time_line
from subbill.payments import (
    Refund,
    account_balance,
    record_credit_note,
    record_refund,
    refundable,
)
from tests.adversarial import Case

EUR = "EUR"
DAY = date(2026, 3, 1)


def _eur(amount: str) -> Money:
    return Money(amount, EUR)


def _draft(price: str = "100.00", **kw: object) -> Invoice:
    return draft_invoice(
        customer="ACME",
        currency=EUR,
        issued_on=DAY,
        lines=[one_time_line("x", "Item", _eur(price))],
        **kw,  # type: ignore[arg-type]
    )


_LINE = one_time_line("g", "Geste", _eur("10"))
_USD_LINE = one_time_line("g", "Geste", Money("10", "USD"))
_OPEN = _draft().finalize(number="F-2026-000001")
_PAID = _OPEN.apply_payment(Payment(amount=_eur("100"), paid_on=DAY)).invoice
_DRAFT = _draft()
_DISCARDED = _draft().void()
_NOTE_DRAFT = credit_note_for(_OPEN, issued_on=date(2026, 3, 5))
_NOTE = _NOTE_DRAFT.finalize(number="F-2026-000002")
_CREDITED = _OPEN.apply_credit_note(_NOTE).invoice
_SECOND_NOTE = credit_note_for(_OPEN, issued_on=date(2026, 3, 5)).finalize(number="F-2026-000003")
_OTHER = _draft().finalize(number="F-2026-000009")
_BILLED_NOTE = draft_invoice(
    customer="ACME",
    currency=EUR,
    issued_on=date(2026, 3, 5),
    lines=[one_time_line("back", "Back", _eur("-12"), kind=LineKind.ADJUSTMENT)],
).finalize(number="F-2026-000004")
_STATE = BillingState(credit_balance=_eur("20.00"))
_USD_STATE = BillingState(credit_balance=Money("5", "USD"))
_REFUNDS = [Refund(amount=_eur("10"), refunded_on=date(2026, 3, 6), credit_note="F-2026-000004")]


def _refund(amount: str = "5", **kw: object) -> Refund:
    return Refund(amount=_eur(amount), refunded_on=date(2026, 3, 6), **kw)  # type: ignore[arg-type]


def _same_state() -> bool:
    return _STATE.credit_balance == _eur("20.00")


def _same_refunds() -> bool:
    return len(_REFUNDS) == 1 and _REFUNDS[0].amount == _eur("10")


def _same_open() -> bool:
    return (_OPEN.status, _OPEN.corrections, _OPEN.payments) == (InvoiceStatus.OPEN, (), ())


CASES = [
    # -- Refund records ------------------------------------------------------------------------
    Case("payments-refund-zero", lambda: _refund("0"), OutOfBoundsError),
    Case("payments-refund-negative", lambda: _refund("-5"), OutOfBoundsError),
    Case(
        "payments-refund-decimal-amount",
        lambda: Refund(amount=Decimal("5"), refunded_on=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-refund-float-amount",
        lambda: Refund(amount=5.0, refunded_on=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-refund-str-date",
        lambda: Refund(amount=_eur("5"), refunded_on="2026-03-06"),  # type: ignore[arg-type]
        InvalidDateError,
    ),
    Case(
        "payments-refund-datetime",
        lambda: Refund(amount=_eur("5"), refunded_on=datetime(2026, 3, 6, 12)),  # noqa: DTZ001
        InvalidDateError,
    ),
    Case("payments-refund-empty-note", lambda: _refund(credit_note=" "), InvalidArgumentError),
    Case("payments-refund-int-note", lambda: _refund(credit_note=2), InvalidArgumentError),
    Case("payments-refund-none-reference", lambda: _refund(reference=None), InvalidTypeError),
    # -- record_refund: never more than what is refundable ---------------------------------------
    Case(
        "payments-refund-beyond-balance",
        lambda: record_refund(_refund("20.01"), _STATE),
        OutOfBoundsError,
        _same_state,
    ),
    Case(
        "payments-refund-without-balance",
        lambda: record_refund(_refund("0.01"), BillingState()),
        OutOfBoundsError,
    ),
    Case(
        "payments-refund-other-currency",
        lambda: record_refund(_refund("1"), _USD_STATE),
        CurrencyMismatchError,
    ),
    Case(
        "payments-refund-note-not-given",
        lambda: record_refund(_refund(credit_note="F-2026-000002"), _STATE),
        InvalidArgumentError,
        _same_state,
    ),
    Case(
        "payments-refund-names-another-note",
        lambda: record_refund(_refund(credit_note="F-2026-000099"), _STATE, credit_note=_NOTE),
        InvalidArgumentError,
    ),
    Case(
        "payments-refund-note-without-reference",
        lambda: record_refund(_refund(), _STATE, credit_note=_NOTE),
        InvalidArgumentError,
    ),
    Case(
        "payments-refund-before-the-note",
        lambda: record_refund(
            Refund(amount=_eur("1"), refunded_on=DAY, credit_note="F-2026-000002"),
            _STATE,
            credit_note=_NOTE,
        ),
        InvalidArgumentError,
    ),
    Case(
        "payments-refund-draft-note",
        lambda: record_refund(_refund(credit_note="X"), _STATE, credit_note=_NOTE_DRAFT),
        InvalidStateError,
    ),
    Case(
        "payments-refund-invoice-as-note",
        lambda: record_refund(_refund(credit_note="F-2026-000001"), _STATE, credit_note=_OPEN),
        InvalidTypeError,
    ),
    Case(
        "payments-refund-beyond-the-note",
        lambda: record_refund(
            _refund("2.01", credit_note="F-2026-000004"),
            _STATE,
            credit_note=_BILLED_NOTE,
            refunds=_REFUNDS,
        ),
        OutOfBoundsError,
        lambda: _same_state() and _same_refunds(),
    ),
    Case(
        "payments-refund-correction-beyond-balance",
        lambda: record_refund(
            _refund("20.01", credit_note="F-2026-000002"), _STATE, credit_note=_NOTE
        ),
        OutOfBoundsError,
    ),
    Case("payments-refund-not-a-refund", lambda: record_refund("5", _STATE), InvalidTypeError),
    Case("payments-refund-state-none", lambda: record_refund(_refund(), None), InvalidTypeError),
    Case(
        "payments-refund-policy-string",
        lambda: record_refund(_refund(), _STATE, negative_balance="carry_forward"),
        InvalidTypeError,
    ),
    Case(
        "payments-refund-earlier-not-refunds",
        lambda: record_refund(_refund(), _STATE, refunds=[_eur("1")]),
        InvalidTypeError,
    ),
    Case(
        "payments-refundable-other-currency",
        lambda: refundable(_USD_STATE, currency=EUR),
        CurrencyMismatchError,
    ),
    # -- the credit balance ------------------------------------------------------------------------
    Case(
        "payments-balance-negative",
        lambda: BillingState(credit_balance=_eur("-0.01")),
        OutOfBoundsError,
    ),
    Case(
        "payments-balance-decimal",
        lambda: BillingState(credit_balance=Decimal("5")),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-with-credit-negative",
        lambda: _STATE.with_credit(_eur("-50")),
        OutOfBoundsError,
        _same_state,
    ),
    Case(
        "payments-with-credit-str",
        lambda: _STATE.with_credit("5"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-with-credit-other-currency",
        lambda: _STATE.with_credit(Money("5", "USD")),
        CurrencyMismatchError,
    ),
    # -- credit applied and payments on an invoice ---------------------------------------------
    Case(
        "payments-credit-applied-above-total",
        lambda: _draft(credit_applied=_eur("100.01")),
        OutOfBoundsError,
    ),
    Case(
        "payments-credit-applied-negative",
        lambda: _draft(credit_applied=_eur("-1")),
        OutOfBoundsError,
    ),
    Case(
        "payments-credit-applied-usd",
        lambda: _draft(credit_applied=Money("1", "USD")),
        CurrencyMismatchError,
    ),
    Case(
        "payments-credit-applied-decimal",
        lambda: _draft(credit_applied=Decimal("1")),
        InvalidTypeError,
    ),
    Case(
        "payments-credit-applied-on-a-credit-note",
        lambda: _draft("-10", credit_applied=_eur("5")),
        OutOfBoundsError,
    ),
    Case(
        "payments-paid-beyond-total",
        lambda: attrs.evolve(_OPEN, payments=(Payment(amount=_eur("100.01"), paid_on=DAY),)),
        OutOfBoundsError,
        _same_open,
    ),
    Case(
        "payments-payment-other-currency-on-invoice",
        lambda: attrs.evolve(_OPEN, payments=(Payment(amount=Money("1", "USD"), paid_on=DAY),)),
        CurrencyMismatchError,
    ),
    Case(
        "payments-payment-zero",
        lambda: Payment(amount=_eur("0"), paid_on=DAY),
        InvalidArgumentError,
    ),
    Case(
        "payments-payment-no-date",
        lambda: Payment(amount=_eur("1"), paid_on=None),  # type: ignore[arg-type]
        InvalidDateError,
    ),
    Case(
        "payments-pay-a-credit-note",
        lambda: _NOTE.apply_payment(Payment(amount=_eur("1"), paid_on=DAY)),
        InvalidStateError,
    ),
    Case(
        "payments-pay-a-draft",
        lambda: _DRAFT.apply_payment(Payment(amount=_eur("1"), paid_on=DAY)),
        InvalidStateError,
    ),
    Case(
        "payments-record-payment-state-none",
        lambda: record_payment(_OPEN, Payment(amount=_eur("1"), paid_on=DAY), None),
        InvalidTypeError,
        _same_open,
    ),
    Case(
        "payments-record-payment-balance-usd",
        lambda: record_payment(_OPEN, Payment(amount=_eur("1"), paid_on=DAY), _USD_STATE),
        CurrencyMismatchError,
    ),
    # -- French rules: never void a numbered invoice -------------------------------------------
    Case("payments-void-open", _OPEN.void, InvalidStateError, _same_open),
    Case("payments-void-paid", _PAID.void, InvalidStateError),
    Case("payments-void-credit-note", _NOTE.void, InvalidStateError),
    Case("payments-void-discarded", _DISCARDED.void, InvalidStateError),
    # -- credit notes ---------------------------------------------------------------------------
    Case(
        "payments-credit-a-draft",
        lambda: credit_note_for(_DRAFT, issued_on=DAY),
        InvalidStateError,
    ),
    Case(
        "payments-credit-a-credit-note",
        lambda: credit_note_for(_NOTE, issued_on=date(2026, 3, 6)),
        InvalidStateError,
    ),
    Case(
        "payments-credit-not-an-invoice",
        lambda: credit_note_for("F-2026-000001", issued_on=DAY),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-credit-before-invoice",
        lambda: credit_note_for(_OPEN, issued_on=date(2026, 2, 28)),
        InvalidArgumentError,
    ),
    Case(
        "payments-credit-str-date",
        lambda: credit_note_for(_OPEN, issued_on="2026-03-05"),  # type: ignore[arg-type]
        InvalidDateError,
    ),
    Case(
        "payments-credit-str-due-date",
        lambda: credit_note_for(_OPEN, issued_on=DAY, due_on="2026-04-01"),  # type: ignore[arg-type]
        InvalidDateError,
    ),
    Case(
        "payments-credit-lines-int",
        lambda: credit_note_for(_OPEN, issued_on=DAY, lines=3),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-credit-single-line",
        lambda: credit_note_for(_OPEN, issued_on=DAY, lines=_LINE),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-credit-lines-not-lines",
        lambda: credit_note_for(_OPEN, issued_on=DAY, lines=[_eur("10")]),  # type: ignore[list-item]
        InvalidTypeError,
    ),
    Case(
        "payments-credit-lines-usd",
        lambda: credit_note_for(_OPEN, issued_on=DAY, lines=[_USD_LINE]),
        CurrencyMismatchError,
    ),
    Case(
        "payments-credit-nothing",
        lambda: credit_note_for(_OPEN, issued_on=DAY, lines=[]),
        InvalidArgumentError,
    ),
    Case(
        "payments-credit-beyond-total",
        lambda: credit_note_for(
            _OPEN, issued_on=DAY, lines=[one_time_line("g", "G", _eur("100.01"))]
        ),
        OutOfBoundsError,
    ),
    Case(
        "payments-credit-beyond-what-is-left",
        lambda: credit_note_for(_CREDITED, issued_on=DAY, lines=[_LINE]),
        OutOfBoundsError,
    ),
    Case(
        "payments-apply-draft-note",
        lambda: _OPEN.apply_credit_note(_NOTE_DRAFT),
        InvalidStateError,
        _same_open,
    ),
    Case(
        "payments-apply-note-of-another-invoice",
        lambda: _OTHER.apply_credit_note(_NOTE),
        InvalidArgumentError,
    ),
    Case(
        "payments-apply-note-twice",
        lambda: _CREDITED.apply_credit_note(_NOTE),
        InvalidStateError,
    ),
    Case(
        "payments-apply-beyond-total",
        lambda: _CREDITED.apply_credit_note(_SECOND_NOTE),
        OutOfBoundsError,
    ),
    Case(
        "payments-apply-not-a-note",
        lambda: _OPEN.apply_credit_note("F-2026-000002"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case(
        "payments-apply-an-invoice",
        lambda: _OPEN.apply_credit_note(_OTHER),
        InvalidArgumentError,
    ),
    Case(
        "payments-apply-billed-note",
        lambda: _OPEN.apply_credit_note(_BILLED_NOTE),
        InvalidArgumentError,
    ),
    Case(
        "payments-record-note-state-none",
        lambda: record_credit_note(_OPEN, _NOTE, None),  # type: ignore[arg-type]
        InvalidTypeError,
        _same_open,
    ),
    Case(
        "payments-record-note-balance-usd",
        lambda: record_credit_note(_OPEN, _NOTE, _USD_STATE),
        CurrencyMismatchError,
    ),
    Case(
        "payments-corrects-on-an-invoice",
        lambda: attrs.evolve(_OPEN, corrects="F-2026-000000"),
        InvalidArgumentError,
    ),
    Case(
        "payments-corrects-itself",
        lambda: attrs.evolve(_NOTE, corrects="F-2026-000002"),
        InvalidArgumentError,
    ),
    Case(
        "payments-correction-zero",
        lambda: Correction(credit_note="A-1", credited_on=DAY, amount=_eur("0")),
        OutOfBoundsError,
    ),
    Case(
        "payments-correction-no-number",
        lambda: Correction(credit_note="", credited_on=DAY, amount=_eur("1")),
        InvalidArgumentError,
    ),
    Case(
        "payments-corrections-beyond-total",
        lambda: attrs.evolve(
            _OPEN,
            corrections=(Correction(credit_note="A-1", credited_on=DAY, amount=_eur("100.01")),),
        ),
        OutOfBoundsError,
    ),
    Case(
        "payments-corrections-same-note-twice",
        lambda: attrs.evolve(
            _OPEN,
            corrections=(
                Correction(credit_note="A-1", credited_on=DAY, amount=_eur("1")),
                Correction(credit_note="A-1", credited_on=DAY, amount=_eur("1")),
            ),
        ),
        InvalidArgumentError,
    ),
    # -- the account identity -------------------------------------------------------------------
    Case(
        "payments-account-state-none",
        lambda: account_balance([], currency=EUR, payments=[], refunds=[], state=None),
        InvalidTypeError,
    ),
    Case(
        "payments-account-documents-not-invoices",
        lambda: account_balance(["F-1"], currency=EUR, payments=[], refunds=[], state=_STATE),
        InvalidTypeError,
    ),
    Case(
        "payments-account-payments-not-payments",
        lambda: account_balance([], currency=EUR, payments=_REFUNDS, refunds=[], state=_STATE),
        InvalidTypeError,
        _same_refunds,
    ),
    Case(
        "payments-account-refunds-not-refunds",
        lambda: account_balance([], currency=EUR, payments=[], refunds=[_eur("1")], state=_STATE),
        InvalidTypeError,
    ),
    Case(
        "payments-account-balance-usd",
        lambda: account_balance([], currency=EUR, payments=[], refunds=[], state=_USD_STATE),
        CurrencyMismatchError,
    ),
    Case(
        "payments-account-unknown-currency",
        lambda: account_balance([], currency="EUX", payments=[], refunds=[], state=_STATE),
        UnknownCurrencyError,
    ),
    Case(
        "payments-account-policy-string",
        lambda: account_balance(
            [_BILLED_NOTE],
            currency=EUR,
            payments=[],
            refunds=[],
            state=_STATE,
            negative_balance="credit_note",
        ),
        InvalidTypeError,
    ),
]

__all__ = ["CASES"]

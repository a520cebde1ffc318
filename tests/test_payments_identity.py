"""Money received = paid on invoices + credit balance + refunded: refunds, corrections, state."""

from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill import (
    ChargePlan,
    InvoiceStatus,
    Money,
    OneTimeCharge,
    Payment,
    TaxRate,
    bill_subscription,
    record_payment,
)
from subbill.billing import BillingState, NegativeBalancePolicy, draft_invoice
from subbill.errors import (
    CurrencyMismatchError,
    InvalidArgumentError,
    InvalidTypeError,
    OutOfBoundsError,
)
from subbill.invoices import (
    DocumentKind,
    Invoice,
    InvoiceNumbering,
    LineKind,
    credit_note_for,
    one_time_line,
)
from subbill.payments import (
    Refund,
    account_balance,
    record_credit_note,
    record_refund,
    refundable,
)
from subbill.storage.codec import dumps, loads

EUR = "EUR"
VAT = TaxRate(name="TVA 20 %", percent="20")
ZERO = Money.zero(EUR)


def eur(amount):
    return Money(amount, EUR)


def invoice(price, *, number="F-2026-000001", credit_applied=None, day=date(2026, 3, 1)):
    return draft_invoice(
        customer="ACME",
        currency=EUR,
        issued_on=day,
        lines=[one_time_line("x", "Item", eur(price))],
        credit_applied=credit_applied,
    ).finalize(number=number)


# -- the billing state's balance ----------------------------------------------------------------


def test_credit_balance_is_a_money_never_negative():
    with pytest.raises(OutOfBoundsError) as caught:
        BillingState(credit_balance=eur("-5.00"))
    assert str(caught.value) == (
        "credit_balance=Money('-5.00', 'EUR') must be >= 0: a customer's credit is never negative"
    )
    with pytest.raises(InvalidTypeError, match="credit_balance=Decimal"):
        BillingState(credit_balance=Decimal("5"))
    state = BillingState(credit_balance=eur("20.00"))
    with pytest.raises(OutOfBoundsError, match=r"amount=Money\('-50', 'EUR'\) must be >= 0"):
        state.with_credit(eur("-50"))
    assert state.with_credit(eur("5")).credit_balance == eur("25.00")


def test_record_payment_refuses_a_balance_in_another_currency_before_paying():
    opened = invoice("80")
    with pytest.raises(CurrencyMismatchError):
        record_payment(
            opened,
            Payment(amount=eur("100"), paid_on=date(2026, 3, 2)),
            BillingState(credit_balance=Money("1", "USD")),
        )
    with pytest.raises(InvalidTypeError, match="state=None must be a BillingState"):
        record_payment(opened, Payment(amount=eur("1"), paid_on=date(2026, 3, 2)), None)


# -- corrections through the state ---------------------------------------------------------------


def test_full_credit_note_returns_consumed_credit_and_payments_to_the_balance():
    # Customer credit 20.00 from a carried-forward credit note; next invoice 50.00 uses it,
    # 30.00 paid. A full correction returns 20.00 + 30.00 = 50.00 to the balance.
    sub = ChargePlan(
        id="S1",
        customer="ACME",
        currency=EUR,
        one_time=[
            OneTimeCharge(code="x", description="X", unit_price=eur("50"), due_on=date(2026, 3, 1))
        ],
    )
    start = BillingState(credit_balance=eur("20.00"))
    billed = bill_subscription(sub, start, as_of=date(2026, 3, 1))
    assert billed.invoice.credit_applied == eur("20.00")
    assert billed.state.credit_balance == eur("0.00")
    opened = billed.invoice.finalize(number="F-2026-000001")
    payment = Payment(amount=eur("30.00"), paid_on=date(2026, 3, 2))
    paid, state = record_payment(opened, payment, billed.state)
    note = credit_note_for(paid, issued_on=date(2026, 3, 9)).finalize(number="F-2026-000002")
    result = record_credit_note(paid, note, state)
    assert (result.returned, result.state.credit_balance) == (eur("50.00"), eur("50.00"))
    assert result.invoice.amount_due == ZERO
    report = account_balance(
        [result.invoice, note], currency=EUR, payments=[payment], refunds=[], state=result.state
    )
    # 20.00 of the 50.00 balance was credit given before these records: the identity holds
    # only with it, as the starting state's balance.
    assert report.difference == eur("-20.00")
    refund = Refund(amount=eur("30.00"), refunded_on=date(2026, 3, 10), credit_note=note.number)
    after = record_refund(refund, result.state, credit_note=note)
    assert after.credit_balance == eur("20.00")


# -- refunds ------------------------------------------------------------------------------------


def test_refund_of_an_overpayment_never_exceeds_the_balance():
    opened = invoice("80")
    payment = Payment(amount=eur("100"), paid_on=date(2026, 3, 2))
    paid, state = record_payment(opened, payment, BillingState())
    assert state.credit_balance == eur("20.00")
    with pytest.raises(OutOfBoundsError) as caught:
        record_refund(Refund(amount=eur("20.01"), refunded_on=date(2026, 3, 3)), state)
    assert str(caught.value) == (
        "amount=Money('20.01', 'EUR') must be <= 20.00 EUR: the subscription's credit balance "
        "(what the seller owes the customer) is 20.00 EUR; refund at most 20.00 EUR"
    )
    refund = Refund(amount=eur("20.00"), refunded_on=date(2026, 3, 3), reference="re_123")
    state = record_refund(refund, state)
    assert state.credit_balance == eur("0.00")
    report = account_balance(
        [paid], currency=EUR, payments=[payment], refunds=[refund], state=state
    )
    assert (report.received, report.paid_on_invoices, report.credit_balance, report.refunded) == (
        eur("100"),
        eur("80.00"),
        eur("0.00"),
        eur("20.00"),
    )
    assert report.is_balanced
    with pytest.raises(OutOfBoundsError, match=r"<= 0\.00 EUR"):
        record_refund(Refund(amount=eur("0.01"), refunded_on=date(2026, 3, 4)), state)


def test_refund_of_a_correction_never_exceeds_the_note_nor_the_balance():
    opened = invoice("100")
    payment = Payment(amount=eur("100"), paid_on=date(2026, 3, 2))
    paid, state = record_payment(opened, payment, BillingState())
    note = credit_note_for(
        paid, issued_on=date(2026, 3, 5), lines=[one_time_line("g", "Geste", eur("30"))]
    ).finalize(number="F-2026-000002")
    corrected = record_credit_note(paid, note, state)
    assert corrected.state.credit_balance == eur("30.00")
    first = Refund(amount=eur("25"), refunded_on=date(2026, 3, 6), credit_note="F-2026-000002")
    state = record_refund(first, corrected.state, credit_note=note)
    assert state.credit_balance == eur("5.00")
    second = Refund(amount=eur("5.01"), refunded_on=date(2026, 3, 7), credit_note="F-2026-000002")
    with pytest.raises(
        OutOfBoundsError, match=r"<= 5\.00 EUR: credit note F-2026-000002 gives back 30\.00"
    ):
        record_refund(second, state, credit_note=note, refunds=[first])
    with pytest.raises(InvalidArgumentError, match="pass that credit note"):
        record_refund(second, state)
    with pytest.raises(InvalidArgumentError, match="refunded_on=2026-03-04 is before"):
        record_refund(
            attrs.evolve(first, refunded_on=date(2026, 3, 4)), corrected.state, credit_note=note
        )
    last = attrs.evolve(second, amount=eur("5"))
    state = record_refund(last, state, credit_note=note, refunds=[first])
    report = account_balance(
        [corrected.invoice, note],
        currency=EUR,
        payments=[payment],
        refunds=[first, last],
        state=state,
    )
    assert (report.paid_on_invoices, report.credit_balance, report.refunded) == (
        eur("70.00"),
        eur("0.00"),
        eur("30.00"),
    )
    assert report.is_balanced


def test_refund_of_a_billed_credit_note_under_the_credit_note_policy_leaves_the_balance():
    # 30.00 paid for March in advance; the charge ends: the engine's credit note (policy
    # CREDIT_NOTE) is owed to the customer until refunded, the balance stays as it is.
    sub = ChargePlan(
        id="S1",
        customer="ACME",
        currency=EUR,
        one_time=[
            OneTimeCharge(code="x", description="X", unit_price=eur("30"), due_on=date(2026, 3, 1)),
            OneTimeCharge(
                code="back", description="Back", unit_price=eur("-12"), due_on=date(2026, 3, 15)
            ),
        ],
    )
    first = bill_subscription(sub, as_of=date(2026, 3, 1))
    opened = first.invoice.finalize(number="F-2026-000001")
    payment = Payment(amount=eur("30"), paid_on=date(2026, 3, 2))
    paid, state = record_payment(opened, payment, first.state)
    second = bill_subscription(sub, state, as_of=date(2026, 3, 15))
    note = second.invoice.finalize(number="F-2026-000002")
    assert (note.kind, note.corrects, second.state.credit_balance) == (
        DocumentKind.CREDIT_NOTE,
        None,
        None,
    )
    report = account_balance(
        [paid, note], currency=EUR, payments=[payment], refunds=[], state=second.state
    )
    assert (report.owed_on_credit_notes, report.is_balanced) == (eur("12.00"), True)
    refund = Refund(amount=eur("12"), refunded_on=date(2026, 3, 16), credit_note=note.number)
    with pytest.raises(OutOfBoundsError, match=r"<= 0\.00 EUR"):  # not from the balance
        record_refund(
            refund,
            second.state,
            credit_note=note,
            negative_balance=NegativeBalancePolicy.CARRY_FORWARD,
        )
    after = record_refund(refund, second.state, credit_note=note)
    assert after == second.state
    report = account_balance(
        [paid, note], currency=EUR, payments=[payment], refunds=[refund], state=after
    )
    assert (report.owed_on_credit_notes, report.refunded, report.is_balanced) == (
        ZERO,
        eur("12"),
        True,
    )
    assert refundable(after, currency=EUR, credit_note=note, refunds=[refund]) == ZERO


def test_corrections_and_refunds_round_trip_through_the_storage_codec():
    opened = invoice("100")
    note = credit_note_for(opened, issued_on=date(2026, 3, 5)).finalize(number="F-2026-000002")
    corrected = opened.apply_credit_note(note).invoice
    refund = Refund(
        amount=eur("12.50"),
        refunded_on=date(2026, 3, 6),
        credit_note="F-2026-000002",
        reference="re_1",
    )
    assert loads(dumps(note), Invoice) == note
    assert loads(dumps(corrected), Invoice) == corrected
    assert loads(dumps(refund), Refund) == refund


# -- the identity, on random histories ----------------------------------------------------------

cents = st.integers(min_value=1, max_value=50_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("bill"), st.integers(-20_000, 50_000), st.booleans()),
        st.tuples(st.just("draft"), cents, st.booleans()),
        st.tuples(
            st.just("pay"), st.integers(0, 30), st.sampled_from(["partial", "exact", "over"]), cents
        ),
        st.tuples(
            st.just("credit"), st.integers(0, 30), st.sampled_from(["full", "partial"]), cents
        ),
        # (refund, which credit note or -1 for the balance, amount, beyond what is refundable)
        st.tuples(st.just("refund"), st.integers(-1, 30), cents, st.sampled_from([0, 0, 0, 1])),
    ),
    max_size=16,
)


def _amount(units):
    return Money(Decimal(units) / 100, EUR)


class _Customer:
    """Everything one subscription's customer has: documents, payments, refunds, state."""

    def __init__(self, policy):
        self.policy = policy
        self.state = BillingState()
        self.documents: list[Invoice] = []
        self.payments: list[Payment] = []
        self.refunds: list[Refund] = []
        self.numbering = InvoiceNumbering()
        self.last = None
        self.day = date(2026, 1, 1)
        self.count = 0

    def number(self, day):
        self.last = self.numbering.next_number(self.last, issued_on=day)
        return self.last

    def replace(self, document):
        self.documents = [document if d.number == document.number else d for d in self.documents]

    def invoices(self, status=None):
        return [
            d
            for d in self.documents
            if d.kind is DocumentKind.INVOICE and (status is None or d.status in status)
        ]


def _bill(customer, units, taxed):
    customer.count += 1
    charge = OneTimeCharge(
        code=f"c{customer.count}",
        description="Charge",
        unit_price=_amount(units),
        due_on=customer.day,
        tax_rates=(VAT,) if taxed else (),
    )
    sub = ChargePlan(
        id="S1", customer="ACME", currency=EUR, one_time=[charge], negative_balance=customer.policy
    )
    result = bill_subscription(sub, customer.state, as_of=customer.day)
    document = result.invoice.finalize(number=customer.number(customer.day))
    customer.documents.append(document)
    customer.state = result.state


def _draft(customer, units, taxed):
    line = one_time_line("h", "Hand-made", _amount(units))
    if taxed:
        tax = (line.amount * Decimal("0.2")).rounded()
        line = attrs.evolve(line, tax_rates=(VAT,), taxes=((VAT, tax),))
    document = draft_invoice(
        customer="ACME", currency=EUR, issued_on=customer.day, lines=[line], subscription="S1"
    )
    customer.documents.append(document.finalize(number=customer.number(customer.day)))


def _pay(customer, index, kind, units):
    payable = customer.invoices((InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID))
    if not payable:
        return
    target = payable[index % len(payable)]
    due = target.amount_due
    if kind == "exact" or (kind == "partial" and due <= _amount(1)):
        amount = due
    elif kind == "partial":
        amount = min(_amount(units), due - _amount(1))
    else:
        amount = due + _amount(units)
    payment = Payment(amount=amount, paid_on=customer.day)
    paid, customer.state = record_payment(target, payment, customer.state)
    customer.payments.append(payment)
    customer.replace(paid)


def _credit(customer, index, kind, units):
    candidates = [d for d in customer.invoices() if d.creditable.is_positive()]
    if not candidates:
        return
    target = candidates[index % len(candidates)]
    if kind == "full" and target.credited.is_zero():
        draft = credit_note_for(target, issued_on=customer.day)
    else:
        amount = _amount(units)
        lines = [one_time_line("g", "Correction", amount)]
        if amount > target.creditable:
            with pytest.raises(OutOfBoundsError):
                credit_note_for(target, issued_on=customer.day, lines=lines)
            return
        draft = credit_note_for(target, issued_on=customer.day, lines=lines)
    note = draft.finalize(number=customer.number(customer.day))
    before = customer.state.credit_balance or ZERO
    result = record_credit_note(target, note, customer.state)
    assert ZERO <= result.returned <= -note.total
    assert (result.state.credit_balance or ZERO) == before + result.returned
    customer.state = result.state
    customer.replace(result.invoice)
    customer.documents.append(note)


def _refund(customer, index, units, over):
    notes = [d for d in customer.documents if d.kind is DocumentKind.CREDIT_NOTE]
    note = notes[index % len(notes)] if index >= 0 and notes else None
    limit = refundable(
        customer.state,
        currency=EUR,
        credit_note=note,
        refunds=customer.refunds,
        negative_balance=customer.policy,
    )
    amount = limit + _amount(units) if over else min(_amount(units), limit)
    if not amount.is_positive():
        return
    refund = Refund(
        amount=amount, refunded_on=customer.day, credit_note=None if note is None else note.number
    )
    if amount > limit:
        before = customer.state
        with pytest.raises(OutOfBoundsError):
            record_refund(
                refund,
                customer.state,
                credit_note=note,
                refunds=customer.refunds,
                negative_balance=customer.policy,
            )
        assert customer.state == before
        return
    customer.state = record_refund(
        refund,
        customer.state,
        credit_note=note,
        refunds=customer.refunds,
        negative_balance=customer.policy,
    )
    customer.refunds.append(refund)


_STEPS = {"bill": _bill, "draft": _draft, "pay": _pay, "credit": _credit, "refund": _refund}


@settings(max_examples=500)
@given(policy=st.sampled_from(NegativeBalancePolicy), steps=operations)
def test_money_received_equals_paid_plus_credit_plus_refunded(policy, steps):
    customer = _Customer(policy)
    for name, *arguments in steps:
        customer.day += timedelta(days=1)
        _STEPS[name](customer, *arguments)
        report = account_balance(
            customer.documents,
            currency=EUR,
            payments=customer.payments,
            refunds=customer.refunds,
            state=customer.state,
            negative_balance=policy,
        )
        assert report.difference == ZERO, report
        assert report.received == report.paid_on_invoices + report.credit_balance + (
            report.owed_on_credit_notes + report.refunded
        )
        balance = customer.state.credit_balance
        assert balance is None or not balance.is_negative()
        assert not report.owed_on_credit_notes.is_negative()
        for document in customer.documents:
            credit = document.credit_applied or ZERO
            assert ZERO <= credit <= max(document.total, ZERO)
            assert not document.amount_due.is_negative()
            assert document.credited <= max(document.total, ZERO)
        for note in (d for d in customer.documents if d.kind is DocumentKind.CREDIT_NOTE):
            refunded = Money.total(
                (r.amount for r in customer.refunds if r.credit_note == note.number),
                currency=EUR,
            )
            assert refunded <= -note.total
            if note.corrects is not None:
                corrected = next(d for d in customer.documents if d.number == note.corrects)
                assert any(c.credit_note == note.number for c in corrected.corrections)


def test_the_identity_catches_money_invented():
    opened = invoice("80")
    payment = Payment(amount=eur("100"), paid_on=date(2026, 3, 2))
    paid, state = record_payment(opened, payment, BillingState())
    invented = state.with_credit(eur("7.35"))
    report = account_balance([paid], currency=EUR, payments=[payment], refunds=[], state=invented)
    assert (report.is_balanced, report.difference) == (False, eur("-7.35"))
    forgotten = account_balance([paid], currency=EUR, payments=[], refunds=[], state=state)
    assert forgotten.difference == eur("-100.00")


def test_discarded_drafts_do_not_count_and_line_kinds_survive_a_correction():
    draft = draft_invoice(
        customer="ACME",
        currency=EUR,
        issued_on=date(2026, 3, 1),
        lines=[one_time_line("x", "X", eur("10"))],
    )
    report = account_balance(
        [draft.void()], currency=EUR, payments=[], refunds=[], state=BillingState()
    )
    assert (report.invoiced, report.is_balanced) == (ZERO, True)
    opened = invoice("10")
    note = credit_note_for(opened, issued_on=date(2026, 3, 2))
    assert [line.kind for line in note.lines] == [LineKind.ONE_TIME]
    assert [line.amount for line in note.lines] == [eur("-10.00")]

"""Loose ends found by reviews: each test failed before its fix.

A document whose sums reach the bound of an amount is refused where it is built (it used to
be stored, then refused when read back); a payment of an invoice owing nothing says so;
``as_known_on`` keeps a cancellation brought forward later; a billing state's terms name
each key once; a ``Money`` subclass survives copies and pickles.
"""

from __future__ import annotations

import copy
import pickle
import re
from datetime import date, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subbill.billing import (
    BillingState,
    ChargePlan,
    NegativeBalancePolicy,
    bill_subscription,
    draft_invoice,
)
from subbill.catalog import Catalog, Plan
from subbill.charges import OneTimeCharge, RecurringCharge
from subbill.discounts import Discount
from subbill.errors import (
    InvalidArgumentError,
    InvalidTypeError,
    OutOfBoundsError,
    StoredDataError,
)
from subbill.invoices import (
    InvalidTransitionError,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    credit_note_for,
    one_time_line,
)
from subbill.money import Money
from subbill.periods import MONTHLY
from subbill.storage import _arguments
from subbill.storage.codec import FORMAT_VERSION, dumps, loads, read_billing_state
from subbill.storage.sqlite import SQLiteStore
from subbill.subscriptions import Subscription
from tests.builders import VAT, eur

BIG = "600000000000000.00"  # 6·10^14: valid alone; two of them taxed at 20 % make 1.44·10^15
MARCH = date(2026, 3, 1)
SPLIT = r"must be below 10\^15 in magnitude.*split the lines over several invoices"


def _taxed(code: str, price: str = BIG) -> InvoiceLine:
    return one_time_line(code, code, eur(price), tax_rates=(VAT,))


def _draft(*lines: InvoiceLine):
    return draft_invoice(customer="C", currency="EUR", issued_on=MARCH, lines=lines)


def test_an_invoice_beyond_the_bound_is_refused_when_built_never_stored_then_unreadable():
    # The review's case: two valid lines of 6·10^14 at TVA 20 % were drafted, stored by
    # add_invoice, then refused by get_invoice (« must be below 10^15 @ $.taxes[0].base »).
    with pytest.raises(
        OutOfBoundsError, match=rf"^subtotal=Money\('1200000000000000.00', 'EUR'\) {SPLIT}"
    ):
        _draft(_taxed("a"), _taxed("b"))
    # One line less is valid: stored and read back as it was.
    store = SQLiteStore(":memory:")
    one = _draft(_taxed("a")).finalize(number="F-1")
    assert one.total == eur("720000000000000.00")
    store.add_invoice(one)
    assert store.get_invoice("F-1") == one


@pytest.mark.parametrize(
    ("lines", "name", "amount"),
    [
        # the total alone: 9·10^14 HT + 20 % = 1.08·10^15 TTC
        ([("a", "900000000000000.00")], "total", "1080000000000000.00"),
        # the breakdown's base alone: the untaxed credit line brings the net back below
        (
            [("a", BIG), ("b", BIG), ("-c", "-900000000000000.00")],
            "taxes[0].base",
            "1200000000000000.00",
        ),
    ],
    ids=["total", "breakdown-base"],
)  # fmt: skip
def test_every_sum_a_document_stores_is_within_the_bound(lines, name, amount):
    built = [
        _taxed(code, price) if not code.startswith("-") else one_time_line(code, code, eur(price))
        for code, price in lines
    ]
    shown = re.escape(f"{name}=Money('{amount}', 'EUR')")
    with pytest.raises(OutOfBoundsError, match=rf"^{shown} {SPLIT}"):
        _draft(*built)


def test_a_line_holding_a_sum_beyond_the_bound_is_refused_by_the_invoice():
    line = _taxed("a", "900000000000000.00")
    doubled = attrs.evolve(line, amount=line.amount + line.amount)  # Money sums are unbounded
    with pytest.raises(
        OutOfBoundsError, match=rf"^lines\[0\].amount=Money\('1800000000000000.00', 'EUR'\) {SPLIT}"
    ):
        _draft(doubled)


def _two_big_charges(**charge: object) -> ChargePlan:
    """Charges ``a`` and ``b`` of 6·10^14 EUR a month from 1 March 2026."""
    return ChargePlan(
        id="S1",
        customer="C",
        currency="EUR",
        charges=[
            RecurringCharge(code=code, description=code, unit_price=eur(BIG), start=MARCH, **charge)
            for code in ("a", "b")
        ],
    )


def test_the_engine_refuses_an_invoice_beyond_the_bound_and_bills_nothing():
    plan = _two_big_charges(tax_rates=(VAT,))
    with pytest.raises(
        OutOfBoundsError, match=rf"^subtotal=Money\('1200000000000000.00', 'EUR'\) {SPLIT}"
    ):
        bill_subscription(plan, as_of=MARCH)
    single = attrs.evolve(plan, charges=plan.charges[:1])
    assert bill_subscription(single, as_of=MARCH).invoice.total == eur("720000000000000.00")


def test_the_engine_refuses_a_subtotal_beyond_the_bound_that_discounts_bring_back_below():
    # half off two lines of 6·10^14: a net of 6·10^14, but a subtotal of 1.2·10^15
    plan = _two_big_charges(discounts=(Discount.percent_off("HALF", "50"),))
    refused = rf"^subtotal=Money\('1200000000000000.00', 'EUR'\) {SPLIT}"
    with pytest.raises(OutOfBoundsError, match=refused):
        bill_subscription(plan, as_of=MARCH)
    single = bill_subscription(attrs.evolve(plan, charges=plan.charges[:1]), as_of=MARCH)
    assert single.invoice.net == eur("300000000000000.00")
    # the checked constructor refuses what the engine refuses
    with pytest.raises(OutOfBoundsError, match=refused):
        attrs.evolve(single.invoice, lines=single.invoice.lines * 2)


def test_a_credit_note_beyond_the_bound_is_refused_when_built():
    invoice = _draft(_taxed("a")).finalize(number="F-1")  # 7.2·10^14 TTC
    lines = [_taxed("a"), _taxed("b"), one_time_line("c", "c", eur("-900000000000000.00"))]
    # credits 5.4·10^14 (within what is creditable), but its breakdown's base is -1.2·10^15
    with pytest.raises(
        OutOfBoundsError, match=rf"^taxes\[0\].base=Money\('-1200000000000000.00', 'EUR'\) {SPLIT}"
    ):
        credit_note_for(invoice, issued_on=MARCH, lines=lines)


def test_an_open_invoice_owes_something_else_it_is_paid():
    # It used to be built (and stored) open while owing nothing; a payment of 30.00 then
    # failed with « amount=Money('0.00') must be a Money > 0 ».
    drafted = _draft(one_time_line("setup", "Setup", eur("100")))
    settled = attrs.evolve(drafted, credit_applied=eur("100.00"))
    with pytest.raises(
        InvalidArgumentError,
        match=r"^status=open, but invoice F-1 owes nothing \(total 100.00 EUR, settled in full\): "
        r"an invoice that owes nothing is paid \(status=InvoiceStatus.PAID\)$",
    ):
        attrs.evolve(settled, number="F-1", status=InvoiceStatus.OPEN)
    with pytest.raises(InvalidArgumentError, match="status=partially_paid, but invoice F-1"):
        attrs.evolve(settled, number="F-1", status=InvoiceStatus.PARTIALLY_PAID)
    # the transitions apply the same rule: finalised, it is paid, and a payment is refused
    paid = settled.finalize(number="F-1")
    assert (paid.status, paid.amount_due) == (InvoiceStatus.PAID, eur("0"))
    with pytest.raises(InvalidTransitionError, match="only an open invoice can be paid"):
        paid.apply_payment(Payment(amount=eur("30.00"), paid_on=MARCH))
    # an open invoice that owes something is paid as before
    opened = drafted.finalize(number="F-2")
    applied = opened.apply_payment(Payment(amount=eur("130.00"), paid_on=MARCH))
    assert (applied.invoice.status, applied.overpayment) == (InvoiceStatus.PAID, eur("30.00"))


def test_a_billing_state_holds_each_terms_key_once_built_or_read():
    # billed_through refused a key twice; terms took one twice (the first digest won).
    with pytest.raises(
        InvalidArgumentError,
        match=r"^terms holds charge key='p' twice; each charge is billed at one set of terms$",
    ):
        BillingState(terms=[("p", "d1"), ("p", "d2")])
    assert BillingState(terms={"p": "d1", "q": "d2"}).terms == (("p", "d1"), ("q", "d2"))
    # read from a store: the fast reader and the checked one give the same error
    text = (
        '{"data":{"billed_through":[["p","2026-04-01"]],'
        f'"terms":[["p","d1"],["p","d2"]]}},"version":{FORMAT_VERSION}}}'
    )
    with pytest.raises(StoredDataError) as fast:
        read_billing_state(text, table="billing_states", key="S1")
    with pytest.raises(StoredDataError) as checked:
        loads(text, BillingState, table="billing_states", key="S1")
    assert str(fast.value) == str(checked.value)
    assert "terms holds charge key='p' twice" in str(fast.value)


@attrs.frozen(repr=False, order=False)
class _TaggedMoney(Money):
    """A subclass with a field of its own (Money.zero and Money.total honour subclasses)."""

    tag: str = "untagged"


@pytest.mark.parametrize(
    "copied",
    [copy.copy, copy.deepcopy, lambda value: pickle.loads(pickle.dumps(value))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_a_money_subclass_keeps_its_class_and_fields_through_copies(copied):
    # __reduce__ restored a plain Money, not equal to the original.
    tagged = _TaggedMoney("1.50", "EUR", tag="deposit")
    again = copied(tagged)
    assert (type(again), again, again.tag) == (_TaggedMoney, tagged, "deposit")
    plain = copied(Money("1.50", "EUR"))
    assert (type(plain), plain) == (Money, Money("1.50", "EUR"))


def test_check_states_names_a_field_only_to_refuse_it(monkeypatch):
    # It formatted two field names per state even when every state was valid.
    def named(name, *_args):
        raise AssertionError(f"{name} formatted for a valid state")

    states = [("S1", BillingState()), ("S2", BillingState(terms={"p": "d"}))]
    with monkeypatch.context() as patched:
        patched.setattr(_arguments, "check_key", named)
        patched.setattr(_arguments, "checked", named)
        assert _arguments.check_states(states) == states
    # a bad key or state is still named by its place
    with pytest.raises(InvalidTypeError, match=r"^states\[1\]\[0\]=3 must be a non-empty str$"):
        _arguments.check_states([("S1", BillingState()), (3, BillingState())])
    with pytest.raises(InvalidArgumentError, match=r"^states\[0\]\[0\]='S\\n1' holds U\+000A"):
        _arguments.check_states([("S\n1", BillingState())])
    with pytest.raises(InvalidTypeError, match=r"^states\[1\]\[1\]=None must be a BillingState$"):
        _arguments.check_states([("S1", BillingState()), ("S2", None)])


_SOLO = Catalog(
    currency="EUR",
    plans=[Plan(code="solo", name="Solo", rank=1, prices={MONTHLY: eur("10")})],
)


def test_as_known_on_keeps_a_cancellation_brought_forward_after_that_day():
    # Requested on 11 March for 1 April, brought forward to 25 March (recorded that day): on
    # 15 March the cancellation was known (for 1 April); it used to vanish altogether.
    sub = Subscription.create(id="S1", customer="C", catalog=_SOLO, plan="solo", start=MARCH)
    requested = sub.cancel(on=date(2026, 3, 11))
    earlier = requested.bring_cancellation_forward(on=date(2026, 3, 25))
    known = earlier.as_known_on(date(2026, 3, 15))
    assert (known.cancelled_on, known.cancel_at) == (date(2026, 3, 11), date(2026, 4, 1))
    assert known == requested
    assert earlier.as_known_on(date(2026, 3, 10)) == sub
    assert earlier.as_known_on(date(2026, 3, 25)) == earlier


@settings(max_examples=200, deadline=None)
@given(
    requested_after=st.integers(min_value=0, max_value=80),
    at_period_end=st.booleans(),
    forward_by=st.lists(st.integers(min_value=1, max_value=40), max_size=4),
    probe=st.integers(min_value=-5, max_value=200),
)
def test_as_known_on_is_the_history_built_with_only_the_changes_known_by_then(
    requested_after, at_period_end, forward_by, probe
):
    # A cancellation is requested, then brought forward (each time on the day it then
    # takes effect, after the change before it); on any day, the subscription as known
    # then is the one the changes made by that day built.
    sub = Subscription.create(id="S1", customer="C", catalog=_SOLO, plan="solo", start=MARCH)
    on = MARCH + timedelta(days=requested_after)
    built = [(date.min, sub), (on, sub.cancel(on=on, at_period_end=at_period_end))]
    for by in forward_by:
        current = built[-1][1]
        effective = current.cancel_at - timedelta(days=by)
        if effective < built[-1][0]:
            break
        built.append((effective, current.bring_cancellation_forward(on=effective)))
    day = MARCH + timedelta(days=probe)
    expected = [snapshot for made_on, snapshot in built if made_on <= day][-1]
    assert built[-1][1].as_known_on(day) == expected


def test_a_credit_balance_beyond_the_bound_is_refused_not_stored_then_unreadable():
    # Found on the way: credit balances add up (with_credit, credit notes carried forward)
    # past the bound, and the state was stored, then refused when read back.
    nine = eur("900000000000000")
    with pytest.raises(
        OutOfBoundsError,
        match=r"^credit_balance=Money\('1800000000000000', 'EUR'\) must be below 10\^15 in "
        r"magnitude.*refund part of the customer's credit first$",
    ):
        BillingState(credit_balance=nine).with_credit(nine)
    plan = ChargePlan(
        id="S1",
        customer="C",
        currency="EUR",
        negative_balance=NegativeBalancePolicy.CARRY_FORWARD,
        one_time=[OneTimeCharge(code="gift", description="Gift", unit_price=-nine, due_on=MARCH)],
    )
    held = BillingState(credit_balance=nine)
    with pytest.raises(OutOfBoundsError, match=r"^credit_balance=Money\('1800000000000000.00'"):
        bill_subscription(plan, held, as_of=MARCH)
    first = bill_subscription(plan, as_of=MARCH)
    assert first.state.credit_balance == nine
    assert loads(dumps(first.state), BillingState) == first.state

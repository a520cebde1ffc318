"""A credit note crediting periods of several invoices counts against each of them.

Review 91, F3 (s6_backdated.py): Pro × 3 seats a month, TVA 20 % (212.40 an invoice),
billed on 1 March, 1 April and 1 May 2026 (F-2026-000001..3, unpaid); reduced to 1 seat
from 15 March and billed on 2 May: the note F-2026-000004 (−360.85) credits 3 seats from
15 March (−116.47), April (−212.40) and May (−212.40) and charges 1 seat for the same
periods (38.82, 70.80, 70.80). It named none of the three invoices, which recorded
nothing: 637.20 was dunned while 360.85 was refundable, and April could be credited again
by hand.

Now the note names each (``credits_periods_of``) and each invoice records its share: the
credit lines of its own periods, of which the note's charges of those periods take their
part (``consumed``), so that each invoice afterwards asks what its periods cost at one
seat: F-2026-000001 134.75 (3 seats 1–14 March + 1 seat 15–31 March), F-2026-000002 and
F-2026-000003 70.80 each. Each test failed before the change.
"""

import io
import re
from datetime import date, timedelta
from html import escape as html_escape

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from subbill import Money
from subbill.billing import (
    BillingState,
    BillingTerms,
    NegativeBalancePolicy,
    bill_subscription,
    draft_invoice,
)
from subbill.cli import main
from subbill.dunning import DunningPolicy, amount_due_on, dunning_actions
from subbill.dunning_service import run_dunning
from subbill.errors import (
    InvalidArgumentError,
    InvalidStateError,
    OutOfBoundsError,
    StorageError,
)
from subbill.invoices import (
    Correction,
    DocumentKind,
    InvoiceStatus,
    LineKind,
    Payment,
    one_time_line,
)
from subbill.l10n.invoice import invoice_html, invoice_text
from subbill.l10n.portal import portal_text
from subbill.payments import (
    CreditNoteShare,
    account_balance,
    link_credit_note,
    note_shares,
    record_shared_credit_note,
    refundable,
)
from subbill.periods import Period
from subbill.portal import portal_overview
from subbill.service import correct_invoice, pay_invoice, replace_subscription, run_billing
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import dumps, from_document, loads, to_document
from subbill.subscriptions import Subscription
from subbill.taxes import TaxRate
from tests.test_credit_lines import ESSENTIEL
from tests.test_credit_lines_review91 import _catalog
from tests.test_usage_store import store as _each_store

store = _each_store  # the fixture: an empty store of each adapter (PostgreSQL if installed)

F1, F2, F3, NOTE = (f"F-2026-00000{n}" for n in range(1, 5))
REDUCED_ON = date(2026, 5, 2)
TVA = TaxRate(name="TVA 20 %", percent="20")
CN = NegativeBalancePolicy.CREDIT_NOTE
CF = NegativeBalancePolicy.CARRY_FORWARD


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def _share(amount: str, **part) -> Correction:
    """F-2026-000004's record, on 2 May, on an invoice whose periods it credits."""
    return Correction(credit_note=NOTE, credited_on=REDUCED_ON, amount=eur(amount), **part)


#: Each invoice's share, recorded as what it gives back for its own periods (review 100):
#: 3 seats credited less 1 seat charged again (116.47 − 38.82, 212.40 − 70.80 twice).
SHARES = (_share("77.65"), _share("141.60"), _share("141.60"))


def _billed(store, policy=CN, paid=()):
    """F-2026-000001..3 (Pro × 3, monthly from 1 March), the invoices in ``paid`` paid."""
    catalog = _catalog(store)
    entry = {**ESSENTIEL, "plan": "pro", "frequency": "monthly", "quantity": 3}
    subscription = Subscription.from_mapping(entry, catalog=catalog)
    store.save_subscription(attrs.evolve(subscription, terms=BillingTerms(negative_balance=policy)))
    received = []
    for month in (3, 4, 5):
        run_billing(store, as_of=date(2026, month, 1))
    for number in paid:
        payment = Payment(amount=eur("212.40"), paid_on=date(2026, 5, 1))
        pay_invoice(store, number, payment)
        received.append(payment)
    return received


def _reduce(store):
    changed = store.get_subscription("S1").change_quantity(1, on=date(2026, 3, 15))
    assert replace_subscription(store, changed)
    return run_billing(store, as_of=REDUCED_ON)


def _reduced(store, policy=CN, paid=()):
    """The walk: billed, ``paid`` paid, reduced to 1 seat from 15 March on 2 May."""
    received = _billed(store, policy, paid)
    _reduce(store)
    return received


# -- the store path: each invoice records its share --------------------------------------------


def test_a_backdated_reduction_note_names_each_invoice_which_records_its_share(store):
    _reduced(store)
    *invoices, note = store.invoices(subscription="S1")
    assert (note.kind, note.total, note.corrects, note.credits_periods_of) == (
        DocumentKind.CREDIT_NOTE,
        eur("-360.85"),
        None,
        (F1, F2, F3),
    )
    assert (note.applied, note.names_only) == (None, False)  # applied whole: all was due
    assert tuple(invoice.corrections for invoice in invoices) == tuple((s,) for s in SHARES)
    assert [i.amount_due for i in invoices] == [eur("134.75"), eur("70.80"), eur("70.80")]
    assert [i.cancelled for i in invoices] == [eur("77.65"), eur("141.60"), eur("141.60")]
    # what each may still be credited is what its periods cost at 1 seat (review 100)
    assert [i.creditable for i in invoices] == [eur("134.75"), eur("70.80"), eur("70.80")]
    assert {i.status for i in invoices} == {InvoiceStatus.OPEN}
    assert (store.get_billing_state("S1").credit_balance or eur("0")).is_zero()


def test_a_second_run_bills_and_records_nothing_again(store):
    _reduced(store)
    before = store.invoices(subscription="S1")
    for day in (REDUCED_ON, date(2026, 5, 20)):
        assert run_billing(store, as_of=day).invoice_count == 0
    assert store.invoices(subscription="S1") == before


def test_documents_stored_read_back_equal_and_in_the_previous_format(store):
    _reduced(store)
    for document in store.invoices(subscription="S1"):
        assert store.get_invoice(document.number) == document
        assert loads(dumps(document), type(document)) == document
        older = to_document(document, version=3)  # the previous format writes them too
        assert from_document(older, type(document)) == document
    # a note naming none (as stored before) reads as it was written: no new key
    note = store.get_invoice(NOTE)
    alone = attrs.evolve(note, credits_periods_of=())
    assert "credits_periods_of" not in dumps(alone)
    assert loads(dumps(alone), type(alone)) == alone


def test_a_note_naming_the_invoice_it_corrects_and_listing_others_reads_as_that_invoices():
    """An earlier release took both fields on a hand-built note: it still reads, as before."""
    store = MemoryStore()
    _reduced(store)
    both = attrs.evolve(store.get_invoice(NOTE), corrects=F1, credits_periods_of=(F1, F2))
    assert loads(dumps(both), type(both)) == both
    assert "Avoir sur la facture : F-2026-000001" in invoice_text(both, locale="fr_FR")
    assert "Avoir sur les factures" not in invoice_text(both, locale="fr_FR")


def test_a_run_that_dies_between_the_shares_writes_nothing_and_bills_once_again():
    store = MemoryStore()
    _billed(store)
    changed = store.get_subscription("S1").change_quantity(1, on=date(2026, 3, 15))
    assert replace_subscription(store, changed)
    saved, written = store.save_invoice, []

    def dies_on_the_second(invoice):
        if written:
            raise StorageError("the disk is full (simulated)")
        written.append(invoice.number)
        saved(invoice)

    store.save_invoice = dies_on_the_second  # F-2026-000001 records its share, then it dies
    with pytest.raises(StorageError):
        run_billing(store, as_of=REDUCED_ON)
    assert written == [F1]
    assert [doc.number for doc in store.invoices()] == [F1, F2, F3]  # nothing half-applied
    assert all(doc.corrections == () for doc in store.invoices())
    store.save_invoice = saved
    assert run_billing(store, as_of=REDUCED_ON).invoice_count == 1
    assert tuple(store.get_invoice(n).corrections for n in (F1, F2, F3)) == tuple(
        (s,) for s in SHARES
    )


def test_a_sqlite_run_that_dies_between_the_shares_writes_nothing(tmp_path):
    path = tmp_path / "billing.db"
    store = SQLiteStore(path)
    _billed(store)
    changed = store.get_subscription("S1").change_quantity(1, on=date(2026, 3, 15))
    assert replace_subscription(store, changed)
    saved, calls = store.save_invoice, []

    def dies_on_the_third(invoice):
        calls.append(invoice.number)
        if len(calls) == 3:
            raise StorageError("the disk is full (simulated)")
        saved(invoice)

    store.save_invoice = dies_on_the_third
    with pytest.raises(StorageError):
        run_billing(store, as_of=REDUCED_ON)
    store.close()
    store = SQLiteStore(path)
    assert [doc.number for doc in store.invoices()] == [F1, F2, F3]
    assert all(doc.corrections == () for doc in store.invoices())
    assert run_billing(store, as_of=REDUCED_ON).invoice_count == 1
    assert store.get_invoice(NOTE).credits_periods_of == (F1, F2, F3)
    store.close()


# -- what the customer owes: dunning, the balance, refunds, further credits ----------------------


def test_nothing_the_note_cancels_is_dunned_and_the_account_balances(store):
    _reduced(store)
    documents = store.invoices(subscription="S1")
    *invoices, note = documents
    late = date(2026, 6, 20)
    assert [amount_due_on(doc, late) for doc in invoices] == [
        eur("134.75"), eur("70.80"), eur("70.80"),
    ]  # fmt: skip
    actions = dunning_actions(documents, policy=DunningPolicy.standard(), history=(), as_of=late)
    assert {(a.invoice, a.amount_due) for a in actions} == {
        (F1, eur("134.75")), (F2, eur("70.80")), (F3, eur("70.80")),
    }  # fmt: skip
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note) == eur("0.00")
    report = account_balance(documents, currency="EUR", payments=[], refunds=[], state=state)
    # 637.20 billed − 360.85 credited: 276.35 due (it was 637.20 due and 360.85 refundable)
    assert (report.due, report.owed_on_credit_notes, report.is_balanced) == (
        eur("276.35"), eur("0.00"), True,
    )  # fmt: skip


def test_the_dunning_run_over_the_store_claims_what_each_invoice_still_asks(store):
    """``run_dunning`` reads the store's open invoices (memory, SQLite, PostgreSQL)."""
    _reduced(store)
    report = run_dunning(store, as_of=date(2026, 6, 20), policy=DunningPolicy.standard())
    assert {(a.invoice, a.amount_due) for a in report.actions} == {
        (F1, eur("134.75")), (F2, eur("70.80")), (F3, eur("70.80")),
    }  # fmt: skip


def test_a_gesture_beyond_what_is_left_is_refused_with_the_numbers(store):
    """The xfail test's gesture: 177.00 HT (212.40) on F-2026-000002, credited whole.

    Review 100 (F5 of its notes): the share gives back 141.60 of April's 212.40, so April at
    1 seat (70.80) may still be credited: a gesture up to that is taken, no further.
    """
    _reduced(store)
    gesture = one_time_line("geste", "Geste commercial", eur("177.00"), tax_rates=(TVA,))
    with pytest.raises(OutOfBoundsError, match=re.escape(
        "credit=Money('212.40', 'EUR') must be <= 70.80 EUR (total 212.40 EUR of invoice "
        "F-2026-000002 - 141.60 EUR already credited)"
    )):  # fmt: skip
        correct_invoice(store, F2, issued_on=date(2026, 5, 3), lines=[gesture])
    assert len(store.invoices(subscription="S1")) == 4  # nothing half-applied
    april = one_time_line("geste", "Geste", eur("59.00"), tax_rates=(TVA,))
    corrected = correct_invoice(store, F2, issued_on=date(2026, 5, 3), lines=[april])
    assert (corrected.credit_note.total, corrected.invoice.creditable) == (
        eur("-70.80"), eur("0.00"),
    )  # fmt: skip
    assert corrected.invoice.amount_due == eur("0.00")
    # March at the corrected quantity: 3 seats 1–14 March + 1 seat 15–31 March = 134.75
    too_much = one_time_line("geste", "Geste", eur("112.30"), tax_rates=(TVA,))
    with pytest.raises(OutOfBoundsError, match=r"must be <= 134\.75 EUR"):
        correct_invoice(store, F1, issued_on=date(2026, 5, 3), lines=[too_much])
    left = one_time_line("geste", "Geste", eur("112.29"), tax_rates=(TVA,))
    corrected = correct_invoice(store, F1, issued_on=date(2026, 5, 4), lines=[left])
    assert (corrected.credit_note.total, corrected.invoice.creditable) == (
        eur("-134.75"), eur("0.00"),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("paid", "applied", "names_only", "refund", "due"),
    [
        # F-2026-000001 paid: its share (77.65) is owed on the note, the others cancel
        ((F1,), eur("283.20"), False, eur("77.65"), [eur("0"), eur("70.80"), eur("70.80")]),
        # all paid: the note only names them, and owes all it gives back
        ((F1, F2, F3), None, True, eur("360.85"), [eur("0")] * 3),
    ],
)
def test_a_paid_invoice_share_is_owed_on_the_note(store, paid, applied, names_only, refund, due):
    received = _reduced(store, paid=paid)
    documents = store.invoices(subscription="S1")
    *invoices, note = documents
    assert (note.credits_periods_of, note.applied, note.names_only) == (
        (F1, F2, F3), applied, names_only,
    )  # fmt: skip
    assert [i.amount_due for i in invoices] == due
    first = invoices[0].corrections[0]
    assert (first.names_only, first.owed_on_note, first.cancels) == (True, eur("77.65"), eur("0"))
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note) == refund
    report = account_balance(documents, currency="EUR", payments=received, refunds=[], state=state)
    assert (report.owed_on_credit_notes, report.is_balanced) == (refund, True)


def test_under_carry_forward_the_shares_cancel_and_the_rest_is_carried(store):
    received = _reduced(store, CF, paid=(F1,))
    documents = store.invoices(subscription="S1")
    *invoices, note = documents
    assert (note.credits_periods_of, note.applied, note.names_only) == ((F1, F2, F3), None, False)
    assert [i.amount_due for i in invoices] == [eur("0"), eur("70.80"), eur("70.80")]
    state = store.get_billing_state("S1")
    assert state.credit_balance == eur("77.65")  # F-2026-000001's share: it was paid
    assert refundable(state, currency="EUR", negative_balance=CF) == eur("77.65")
    report = account_balance(
        documents, currency="EUR", payments=received, refunds=[], state=state,
        negative_balance=CF,
    )  # fmt: skip
    assert (report.due, report.credit_balance, report.is_balanced) == (
        eur("141.60"), eur("77.65"), True,
    )  # fmt: skip


def test_a_small_hand_credit_first_leaves_every_share_recorded():
    """Review 100 (t09): F-2026-000002 credited 12.00 by hand (10.00 HT) before the note.

    Its share gives back 141.60 of the 200.40 it may still be credited: all three record
    their shares (it named none, and 360.85 was refundable while 212.40 + 200.40 + 212.40
    was dunned); May can then no longer be credited 212.40 by hand on top of the note.
    """
    store = MemoryStore()
    _billed(store)
    gesture = one_time_line("geste", "Geste", eur("10.00"), tax_rates=(TVA,))
    correct_invoice(store, F2, issued_on=date(2026, 5, 1), lines=[gesture])
    _reduce(store)
    first, second, third, _gesture, note = store.invoices(subscription="S1")
    assert (note.total, note.corrects, note.credits_periods_of) == (
        eur("-360.85"), None, (F1, F2, F3),
    )  # fmt: skip
    invoices = (first, second, third)
    assert [i.amount_due for i in invoices] == [eur("134.75"), eur("58.80"), eur("70.80")]
    assert [i.creditable for i in invoices] == [eur("134.75"), eur("58.80"), eur("70.80")]
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note) == eur("0.00")
    big = one_time_line("geste", "Geste", eur("177.00"), tax_rates=(TVA,))
    with pytest.raises(OutOfBoundsError, match=r"credit=.*'212\.40'.* must be <= 70\.80"):
        correct_invoice(store, F3, issued_on=date(2026, 5, 3), lines=[big])


@pytest.mark.parametrize(
    ("by_hand", "named", "left", "due", "refund"),
    [
        # 120.00 by hand: April may take 92.40 more of its 141.60 share; the rest is owed
        ("100.00", (F1, F2, F3), eur("92.40"), [eur("134.75"), eur("0.00"), eur("70.80")],
         eur("49.20")),
        # credited whole by hand: April takes nothing, is not named, its 141.60 is owed
        ("177.00", (F1, F3), eur("0.00"), [eur("134.75"), eur("0.00"), eur("70.80")],
         eur("141.60")),
    ],
)  # fmt: skip
def test_a_share_beyond_what_is_left_credits_what_is_left_and_the_others_whole(
    by_hand, named, left, due, refund
):
    """Review 100 (F2): one share that no longer fits switched the whole note off.

    Now the others record theirs whole, and no invoice is credited more than it charged:
    April's share credits what April may still be credited, and what the note gives back
    beyond it is owed on the note (the engine billed it before the hand credit was known).
    """
    store = MemoryStore()
    _billed(store)
    gesture = one_time_line("geste", "Geste", eur(by_hand), tax_rates=(TVA,))
    correct_invoice(store, F2, issued_on=date(2026, 5, 1), lines=[gesture])
    _reduce(store)
    first, second, third, _gesture, note = store.invoices(subscription="S1")
    assert (note.total, note.credits_periods_of) == (eur("-360.85"), named)
    assert [i.amount_due for i in (first, second, third)] == due
    invoices = (first, second, third)
    assert [i.creditable for i in invoices] == [eur("134.75"), eur("0.00"), eur("70.80")]
    assert [i.credited for i in invoices] == [eur("77.65"), eur("212.40"), eur("141.60")]
    shares = [c.amount for c in second.corrections if c.credit_note == note.number]
    assert shares == ([left] if left.is_positive() else [])
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note) == refund
    documents = store.invoices(subscription="S1")
    report = account_balance(documents, currency="EUR", payments=[], refunds=[], state=state)
    assert (report.owed_on_credit_notes, report.is_balanced) == (refund, True)


def _of_acme_and_a_note_of_bob():
    """Review 100 (t03): ACME's F-1 (March) and F-2 (April), BOB's note crediting both."""
    march, april = (
        Period(date(2026, 3, 1), date(2026, 4, 1)),
        Period(date(2026, 4, 1), date(2026, 5, 1)),
    )

    def seat(period, amount, kind=LineKind.RECURRING):
        line = one_time_line("pro", "Pro", eur(amount))
        return attrs.evolve(line, kind=kind, period=period, base=eur(amount))

    f1, f2 = (
        draft_invoice(customer="ACME", currency="EUR", issued_on=period.start,
            lines=[seat(period, "100")]).finalize(number=number)
        for number, period in (("F-1", march), ("F-2", april))
    )  # fmt: skip
    lines = [seat(march, "-50", LineKind.PRORATION_CREDIT)]
    lines.append(seat(april, "-100", LineKind.PRORATION_CREDIT))
    draft = attrs.evolve(
        draft_invoice(customer="BOB", currency="EUR", issued_on=REDUCED_ON, lines=lines),
        kind=DocumentKind.CREDIT_NOTE,
    )
    return f1, f2, draft


def test_a_note_of_another_customer_or_subscription_is_refused_naming_both():
    f1, f2, draft = _of_acme_and_a_note_of_bob()
    both = r"customer 'BOB' \(subscription None\), invoice F-\d of customer 'ACME'"
    with pytest.raises(InvalidArgumentError, match=both):
        link_credit_note(draft, [f1, f2])
    with pytest.raises(InvalidArgumentError, match=both):  # the one-invoice path too
        link_credit_note(attrs.evolve(draft, lines=draft.lines[:1]), [f1, f2])
    note = attrs.evolve(draft, credits_periods_of=("F-1", "F-2")).finalize(number="F-3")
    with pytest.raises(InvalidArgumentError, match=both):
        record_shared_credit_note(note, [f1, f2], BillingState())
    with pytest.raises(InvalidArgumentError, match=both):
        note_shares(note, [f1, f2])
    with pytest.raises(InvalidArgumentError, match=both):
        f1.apply_credit_note_share(note, amount=eur("50"), consumed=eur("0"))
    # the same customer, another subscription
    s1 = attrs.evolve(f1, subscription="S1")
    s2 = attrs.evolve(note, customer="ACME", subscription="S2")
    with pytest.raises(InvalidArgumentError, match=r"subscription 'S2'.*subscription 'S1'"):
        s1.apply_credit_note_share(s2, amount=eur("50"), consumed=eur("0"))
    with pytest.raises(InvalidArgumentError, match=r"subscription 'S2'.*subscription 'S1'"):
        record_shared_credit_note(s2, [s1, attrs.evolve(f2, subscription="S1")], BillingState())
    one = attrs.evolve(s2, credits_periods_of=(), corrects="F-1")
    with pytest.raises(InvalidArgumentError, match=r"subscription 'S2'.*subscription 'S1'"):
        s1.apply_credit_note(one)
    # its own customer's: linked and recorded as before
    own = attrs.evolve(draft, customer="ACME")
    link = link_credit_note(own, [f1, f2])
    assert link.note.credits_periods_of == ("F-1", "F-2")
    recorded = record_shared_credit_note(
        link.note.finalize(number="F-3"), link.credited, BillingState()
    )
    assert [i.amount_due for i in recorded.invoices] == [eur("50.00"), eur("0.00")]


# -- the pure API -----------------------------------------------------------------------------


def test_the_pure_api_links_and_records_what_the_store_records():
    store = MemoryStore()
    _billed(store)
    invoices = store.invoices(subscription="S1")
    catalog = store.load_catalog()
    changed = store.get_subscription("S1").change_quantity(1, on=date(2026, 3, 15))
    result = bill_subscription(
        changed.to_charge_plan(catalog), store.get_billing_state("S1"), as_of=REDUCED_ON
    )
    shares = note_shares(result.invoice, invoices)
    assert [(s.invoice.number, s.amount, s.consumed, s.given_back) for s in shares] == [
        (F1, eur("116.47"), eur("38.82"), eur("77.65")),
        (F2, eur("212.40"), eur("70.80"), eur("141.60")),
        (F3, eur("212.40"), eur("70.80"), eur("141.60")),
    ]
    link = link_credit_note(result.invoice, invoices)
    assert (link.invoice, link.credited, link.note.credits_periods_of) == (
        None, tuple(invoices), (F1, F2, F3),
    )  # fmt: skip
    note = link.note.finalize(number=NOTE)
    recorded = record_shared_credit_note(note, link.credited, result.state)
    assert recorded.returned == eur("0.00")
    assert tuple(i.corrections for i in recorded.invoices) == tuple((s,) for s in SHARES)
    # the store path gives the same documents
    other = MemoryStore()
    _reduced(other)
    assert list(recorded.invoices) == other.invoices(subscription="S1")[:3]
    assert note == other.get_invoice(NOTE)
    # all or none: an invoice left out, or recorded twice, is refused and nothing returned
    with pytest.raises(InvalidArgumentError, match="F-2026-000003"):
        record_shared_credit_note(note, invoices[:2], result.state)
    with pytest.raises(InvalidStateError, match="already"):
        record_shared_credit_note(note, recorded.invoices, result.state)
    assert isinstance(shares[0], CreditNoteShare)


def test_a_note_owed_on_itself_is_not_recorded_in_the_balance():
    store = MemoryStore()
    _billed(store, paid=(F1, F2, F3))
    invoices = store.invoices(subscription="S1")
    changed = store.get_subscription("S1").change_quantity(1, on=date(2026, 3, 15))
    result = bill_subscription(
        changed.to_charge_plan(store.load_catalog()), store.get_billing_state("S1"),
        as_of=REDUCED_ON,
    )  # fmt: skip
    note = link_credit_note(result.invoice, invoices).note.finalize(number=NOTE)
    assert note.names_only
    with pytest.raises(InvalidArgumentError, match="in_balance"):
        record_shared_credit_note(note, invoices, BillingState(), in_balance=True)
    # an invoice that owes again since (a note naming only them): refused, link it again
    unpaid = [attrs.evolve(i, payments=(), status=InvoiceStatus.OPEN) for i in invoices]
    with pytest.raises(InvalidStateError, match="link it again"):
        record_shared_credit_note(note, unpaid, BillingState())


# -- documents: text, HTML, PDF, Factur-X, the portal, the command line --------------------------


def test_the_note_names_every_invoice_it_credits_with_its_date_and_what_it_cancelled():
    store = MemoryStore()
    _reduced(store)
    *invoices, note = store.invoices(subscription="S1")
    text = invoice_text(note, locale="fr_FR", credited=invoices)
    assert (
        "Avoir sur les factures : F-2026-000001 du 1 mars 2026, F-2026-000002 du 1 avril "
        "2026, F-2026-000003 du 1 mai 2026"
    ) in text
    for number, amount in ((F1, "77,65"), (F2, "141,60"), (F3, "141,60")):
        assert re.search(rf"Imputé sur la facture {number}\s+{amount}\xa0€", text), number
    assert "déduites de cette facture" not in text  # an upgrade invoice's words, not a note's
    english = invoice_html(note, locale="en_US", credited=invoices)
    assert html_escape("Corrects invoices: F-2026-000001 of March 1, 2026, ") in english
    # without them, their numbers alone
    assert "Avoir sur les factures : F-2026-000001, F-2026-000002, F-2026-000003" in (
        invoice_text(note, locale="fr_FR")
    )
    # each invoice lists the note for its share
    april = invoice_text(invoices[1], locale="fr_FR")
    assert re.search(r"Avoir F-2026-000004 du 2 mai 2026\s+-141,60\xa0€", april)
    assert re.search(r"Reste à payer\s+70,80\xa0€", april)


def test_the_note_pdf_names_every_invoice_it_credits():
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("fpdf")
    from subbill.pdf import render_invoice_pdf  # noqa: PLC0415  (needs fpdf2)

    store = MemoryStore()
    _reduced(store)
    *invoices, note = store.invoices(subscription="S1")
    pdf = render_invoice_pdf(note, locale="fr_FR", credited=invoices)
    pages = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    said = " ".join(pages.split())
    assert "Avoir sur les factures : F-2026-000001 du 1 mars 2026, F-2026-000002 du 1 avril" in said
    assert "Imputé sur la facture F-2026-000003" in said


def test_the_factur_x_of_the_note_refers_to_each_invoice_with_its_date(rules):
    from subbill.einvoice import invoice_data, invoice_xml  # noqa: PLC0415  (needs factur-x)
    from tests.einvoicing_data import BUYER, SELLER  # noqa: PLC0415

    store = MemoryStore()
    _reduced(store, paid=(F1,))
    *invoices, note = store.invoices(subscription="S1")
    buyer = attrs.evolve(BUYER, id="ACME")
    xml = invoice_xml(note, seller=SELLER, buyer=buyer, credited=invoices)
    assert rules.errors(xml) == []
    referenced = re.findall(
        r"<ram:InvoiceReferencedDocument>\s*<ram:IssuerAssignedID>([^<]*)</ram:IssuerAssignedID>"
        r"\s*<ram:FormattedIssueDateTime>\s*<qdt:DateTimeString format=\"102\">([^<]*)<",
        xml.decode(),
    )
    assert referenced == [(F1, "20260301"), (F2, "20260401"), (F3, "20260501")]
    data = invoice_data(note, seller=SELLER, buyer=buyer, credited=invoices)
    # BT-115: what the note owes on itself (F-2026-000001's share, paid), the rest applied
    assert (data["BT-3"], data["BT-113"], data["BT-115"]) == ("381", "283.20", "77.65")
    with pytest.raises(InvalidArgumentError, match="missing: F-2026-000003"):
        invoice_xml(note, seller=SELLER, buyer=buyer, credited=invoices[:2])


def test_the_portal_lists_the_note_as_a_credit_note_of_each_invoice():
    store = MemoryStore()
    _reduced(store)
    overview = portal_overview(
        "ACME", invoices=store.invoices(), subscriptions=[store.get_subscription("S1")],
        catalog=store.load_catalog(), as_of=date(2026, 5, 3),
    )  # fmt: skip
    rows = {row.number: row for row in overview.invoices}
    assert rows[NOTE].credits_periods_of == (F1, F2, F3)
    assert [rows[n].amount_due for n in (F1, F2, F3)] == [
        eur("134.75"), eur("70.80"), eur("70.80"),
    ]  # fmt: skip
    text = portal_text(overview, locale="fr_FR")
    assert "Avoir sur F-2026-000001, F-2026-000002, F-2026-000003" in text


def test_subbill_invoice_show_names_each_invoice_the_note_credits(tmp_path, capsys):
    path = tmp_path / "billing.db"
    store = SQLiteStore(path)
    _reduced(store)
    store.close()
    assert main(["invoice", "show", NOTE, "--locale", "fr_FR", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Avoir sur les factures : F-2026-000001 du 1 mars 2026, F-2026-000002 du" in out
    assert "Imputé sur la facture F-2026-000002" in out


def test_a_second_backdated_change_counts_against_the_invoice_that_billed_the_period_first():
    """5 seats from 18 March, then 2 from 31 May, then 1 from 21 July (each 50 days back).

    The third note (F-2026-000010, −81.95) credits 2 seats of 21–31 July, which the second
    note (F-2026-000007) charged again on itself, and of August and September, which
    F-2026-000008 and F-2026-000009 billed. Review 100 (t15): the July part was netted
    against the second note and owed on the new one (12.35 refundable) while July's
    invoice F-2026-000006 still asked 2 seats of 21–31 July (69.60 due), and the note named
    the credit note F-2026-000007 as an invoice it corrects. Now the July part counts
    against F-2026-000006, which billed July first: it asks 57.25 (July as corrected).
    """
    from tests.test_credit_lines import _walk  # noqa: PLC0415

    store = MemoryStore()
    steps = [(67, "backdate", 5), (74, "backdate", 2), (51, "backdate", 1)]
    _walk(store, steps, "monthly", CN, quantity=3, back=timedelta(days=50))
    documents = {doc.number: doc for doc in store.invoices(subscription="S1")}
    note = documents["F-2026-000010"]
    assert (note.total, note.credits_periods_of, note.applied) == (
        eur("-81.95"), ("F-2026-000006", "F-2026-000008", "F-2026-000009"), None,
    )  # fmt: skip
    done = date(2026, 9, 9)
    shares = [documents[n].corrections[-1] for n in ("F-2026-000006", "F-2026-000008")]
    assert shares == [
        Correction(credit_note="F-2026-000010", credited_on=done, amount=eur("12.35")),
        Correction(credit_note="F-2026-000010", credited_on=done, amount=eur("34.80")),
    ]
    dues = [documents[n].amount_due for n in ("F-2026-000006", "F-2026-000008", "F-2026-000009")]
    assert dues == [eur("57.25"), eur("34.80"), eur("34.80")]
    assert documents["F-2026-000007"].corrections == ()  # a note is never credited
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note) == eur("0.00")
    rows = invoice_text(
        note, locale="fr_FR", credited=[documents[n] for n in note.credits_periods_of]
    )
    assert "F-2026-000007" not in rows
    assert "Imputé sur la facture F-2026-000006" in rows


@pytest.mark.parametrize("policy", [CN, CF])
def test_a_cancellation_after_the_shared_note_cancels_what_the_invoices_still_ask(policy):
    """Review 100 (t01): cancelled at once from 1 April, billed 3 May, after the shared note.

    F-2026-000005 (−141.60) credits April and May at 1 seat, which the note F-2026-000004
    charged again: it named nothing, F-2026-000002 and F-2026-000003 were still dunned
    70.80 each while 141.60 was refundable (or in the balance). Now it names them and
    cancels what they still ask: 134.75 due in all, nothing refundable.
    """
    store = MemoryStore()
    _reduced(store, policy)
    cancelled = store.get_subscription("S1").cancel(on=date(2026, 4, 1), at_period_end=False)
    assert replace_subscription(store, cancelled)
    run_billing(store, as_of=date(2026, 5, 3))
    documents = store.invoices(subscription="S1")
    *invoices, _shared, note = documents
    assert (note.number, note.total, note.corrects, note.credits_periods_of) == (
        "F-2026-000005", eur("-141.60"), None, (F2, F3),
    )  # fmt: skip
    assert [i.amount_due for i in invoices] == [eur("134.75"), eur("0.00"), eur("0.00")]
    assert [i.creditable for i in invoices] == [eur("134.75"), eur("0.00"), eur("0.00")]
    late = date(2026, 6, 20)
    actions = dunning_actions(documents, policy=DunningPolicy.standard(), history=(), as_of=late)
    assert {(a.invoice, a.amount_due) for a in actions} == {(F1, eur("134.75"))}
    state = store.get_billing_state("S1")
    assert refundable(state, currency="EUR", credit_note=note, negative_balance=policy) == eur(
        "0.00"
    )
    report = account_balance(
        documents, currency="EUR", payments=[], refunds=[], state=state, negative_balance=policy
    )
    assert (report.due, report.owed_on_credit_notes, report.is_balanced) == (
        eur("134.75"), eur("0.00"), True,
    )  # fmt: skip


def _reduced_on_the_renewal_day(store):
    """Review 100 (t11): the reduction from 15 March billed on 1 June, the renewal day."""
    _billed(store)
    changed = store.get_subscription("S1").change_quantity(1, on=date(2026, 3, 15))
    assert replace_subscription(store, changed)
    run_billing(store, as_of=date(2026, 6, 1))
    *invoices, note = store.invoices(subscription="S1")
    return invoices, note


def test_a_renewal_day_notes_charge_of_the_next_period_goes_on_the_newest_share():
    """F-2026-000004 (−290.05) also charges June's seat (70.80), which no invoice billed.

    It was put on the oldest share: March's F-2026-000001 asked 205.55 (March as corrected,
    134.75, and June's seat) and was dunned for it at once, two months overdue. Now on the
    newest, May's; each invoice may still be credited what its own periods cost.
    """
    invoices, note = _reduced_on_the_renewal_day(MemoryStore())
    assert (note.total, note.credits_periods_of) == (eur("-290.05"), (F1, F2, F3))
    assert [i.amount_due for i in invoices] == [eur("134.75"), eur("70.80"), eur("141.60")]
    assert [i.creditable for i in invoices] == [eur("134.75"), eur("70.80"), eur("70.80")]
    assert invoices[2].corrections[-1].consumed == eur("70.80")  # June's seat, settles nothing


@pytest.mark.xfail(
    strict=True,
    reason="review 100 F3: June's seat, billed by the note on the renewal day, is still "
    "asked by May's invoice; only the engine (billing.py) can bill it as June's charge",
)
def test_a_renewal_day_note_leaves_each_invoice_asking_its_own_periods_only():
    invoices, _note = _reduced_on_the_renewal_day(MemoryStore())
    assert [i.amount_due for i in invoices] == [eur("134.75"), eur("70.80"), eur("70.80")]


# -- the property: backdated seat reductions over several months --------------------------------

_BACK_STEP = st.tuples(
    st.integers(min_value=1, max_value=75),  # days after the previous step
    st.sampled_from(["backdate", "backdate", "quantity", "pay", "credit"]),
    st.integers(min_value=1, max_value=5),  # seats, or the share of what is left (/5)
)


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(_BACK_STEP, min_size=1, max_size=5),
    policy=st.sampled_from(list(NegativeBalancePolicy)),
)
@example(steps=[(62, "backdate", 1)], policy=CN)  # the review's walk, near enough
@example(steps=[(31, "pay", 1), (31, "backdate", 1)], policy=CF)
@example(steps=[(67, "backdate", 5), (74, "backdate", 2), (51, "backdate", 1)], policy=CN)
@example(steps=[(63, "quantity", 2), (62, "backdate", 1), (57, "backdate", 3)], policy=CF)
def test_credit_never_exceeds_what_each_invoice_charged_for_backdated_reductions(steps, policy):
    """Seats changed from a day months back (« backdate »: some billed months ago): every
    credit note of periods several invoices billed counts against each (unless a manual
    credit took one's ``creditable`` first), no invoice is credited more than it charged,
    what each asks counts only what notes cancelled, and the account balances.
    """
    from tests.test_credit_lines import check_credits_of_a_walk  # noqa: PLC0415

    check_credits_of_a_walk(steps, "monthly", policy, quantity=3, back=timedelta(days=50))


def test_a_billed_subscription_keeps_its_customer_and_the_next_runs_bill_it(store):
    """Review 103 F4: replace_subscription moved billed S1 to customer BOB; after a backdated
    seat reduction every later run failed S1 (its note could link to none of ACME's
    invoices), so June and July were never billed. A billed subscription's customer cannot
    change in place: the replacement is refused, nothing is written, and the runs go on."""
    _billed(store)
    stored = store.get_subscription("S1")
    with pytest.raises(InvalidStateError, match=r"billed to customer 'ACME'.*customer='BOB'"):
        replace_subscription(store, attrs.evolve(stored, customer="BOB"))
    assert store.get_subscription("S1") == stored
    assert not _reduce(store).failures
    for month in (6, 7):
        report = run_billing(store, as_of=date(2026, month, 1))
        assert (report.invoice_count, report.failures) == (1, ())
    assert {invoice.customer for invoice in store.invoices(subscription="S1")} == {"ACME"}

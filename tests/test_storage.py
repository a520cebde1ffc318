"""The in-memory and SQLite stores agree, and a failed transaction changes nothing.

Store failures (locked, full, read-only, a damaged row) are typed ``StorageError``s with a
clear message; invoice numbers are gapless and in the order of their dates.
"""

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import attrs
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from subbill import (
    MONTHLY,
    BillingStart,
    Discount,
    InvalidArgumentError,
    InvalidStateError,
    InvalidTypeError,
    LicenseAccount,
    LicenseLedger,
    LineItem,
    Money,
    OutOfBoundsError,
    Payment,
    PaymentLink,
    Quote,
    StorageError,
    Subscription,
    bill_subscription,
)
from subbill.billing import BillingState
from subbill.catalog import Catalog
from subbill.customers import Customer, CustomerKind
from subbill.decisions import Refused, RefusedError
from subbill.discounts import Forever, ForMonths, ForPeriods, Once
from subbill.dunning import DunningActionKind, DunningEvent, DunningPolicy, EventOutcome
from subbill.dunning_service import run_dunning
from subbill.errors import InvalidDateError
from subbill.invoices import Invoice
from subbill.licenses import renew, renewal_form
from subbill.metering import UsageRecord
from subbill.payments import Card, Wallet
from subbill.periods import AfterDays, AfterMonths, Immediately, OnDate
from subbill.quotes import purchase
from subbill.service import run_billing, store_purchase
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage._arguments import LATEST_BEFORE, in_dunning
from subbill.storage.codec import (
    FORMAT_VERSION,
    StoredDataError,
    dumps,
    from_document,
    loads,
    to_document,
)
from subbill.storage.errors import DatabaseLockedError, DiskFullError, ReadOnlyDatabaseError
from subbill.storage.postgres import PostgresStore
from subbill.storage.shards import shard_of
from subbill.storage.sqlite import _MIGRATIONS, SCHEMA_VERSION
from subbill.subscriptions import (
    MissingPaymentMethod,
    Phase,
    Trial,
    TrialAnchor,
    check_replacement,
)
from tests.fixtures import format_v1
from tests.postgres_server import emptied, shared_server
from tests.seed_catalog import seed_catalog
from tests.stores import ScriptedGateway, fill_every_table, site_quote, snapshot
from tests.test_billing import subscriptions as billing_plans

CATALOG = seed_catalog()
START = date(2026, 1, 1)


class BoomError(Exception):
    pass


def _write_then_fail(store, day, number):
    with store.transaction():
        store.next_invoice_number(issued_on=day)
        store.save_subscription(
            Subscription.create(
                id=f"S{number}", customer="X", catalog=CATALOG, plan="business", start=day
            )
        )
        store.append_ledger(LicenseLedger().grant("X", "TBox", 1, on=day).entries)
        store.add_usage_records(
            [
                UsageRecord(
                    subscription=f"S{number}", metric="calls", quantity=1, used_on=day, key="boom"
                )
            ]
        )
        raise BoomError


def _reserve_in_a_transaction(store, day):
    with store.transaction():
        return store.next_invoice_number(issued_on=day)


def _reserve_then_fail(store):
    with store.transaction():
        store.next_invoice_number(issued_on=date(2026, 3, 1))
        raise BoomError


class _UndoError(Exception):
    """Raised to roll a transaction back on purpose."""


def _agreeing_postgres_store():
    """A PostgreSQL store, emptied, for the state machine (a third store), or None."""
    server = shared_server()
    if server is None:
        return None
    if "url" not in _AGREE:
        _AGREE["url"] = server.new_database("agree")
        PostgresStore(_AGREE["url"]).close()  # the schema, once
    return PostgresStore(emptied(_AGREE["url"]))


_AGREE = {}
#: Trials and phases the stores keep too (issue 15), and none.
_TRIALS = (
    {},
    {"trial": Trial(days=14)},
    {
        "trial": Trial(
            days=10,
            anchor=TrialAnchor.TRIAL_END,
            missing_payment_method=MissingPaymentMethod.CANCEL,
        ),
        "phases": [Phase(periods=2, discounts=[Discount.percent_off("INTRO", 50)])],
    },
)


class StoresAgree(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.stores = [MemoryStore(), SQLiteStore(Path(self.folder.name) / "subbill.db")]
        postgres = _agreeing_postgres_store()
        if postgres is not None:  # where PostgreSQL is installed (tests/test_postgres.py)
            self.stores.append(postgres)
        self.day = START
        # The model of the usage records every store must hold: (subscription, key) -> record.
        self.usage = {}

    def teardown(self):
        for store in self.stores[1:]:
            store.close()
        self.folder.cleanup()

    def each(self, action):
        results = [action(store) for store in self.stores]
        assert all(result == results[0] for result in results[1:])
        return results[0]

    @initialize()
    def load_catalog(self):
        self.each(lambda s: s.save_catalog(CATALOG))

    @initialize(years=st.integers(0, 100))
    def open_the_partner_pool(self, years):
        # A pool and an account to renew from the first step (renewals need both).
        if years:
            grant = LicenseLedger().grant("Partenaire", "TBox", years, on=START).entries
            self.each(lambda s: s.append_ledger(grant))
        account = LicenseAccount(customer="ACME", product="TBox", seats=5, start=START, years=1)
        self.each(lambda s: s.save_license_account(account))

    @rule(
        number=st.integers(0, 4),
        plan=st.sampled_from(["essentiel", "pro", "business"]),
        offset=st.integers(0, 90),
        modules=st.sampled_from([(), ("crm",), ("crm", "agenda")]),
        trial=st.sampled_from(_TRIALS),
    )
    def save_subscription(self, number, plan, offset, modules, trial):
        sub = Subscription.create(
            id=f"S{number}",
            customer=f"C{number}",
            catalog=CATALOG,
            plan=plan,
            start=START + timedelta(days=offset),
            modules=modules,
            **trial,
        )
        stored = self.stores[0].get_subscription(sub.id)
        if stored is not None:
            state = self.stores[0].get_billing_state(sub.id)
            try:
                check_replacement(stored, sub, catalog=CATALOG, state=state)
            except InvalidStateError:
                return  # what was billed is never rewritten: the replacement is refused
        self.each(lambda s: s.save_subscription(sub))

    @rule(
        number=st.integers(0, 3),
        buyer=st.integers(0, 2),
        months=st.integers(0, 3),
        setup=st.integers(0, 500),
        days=st.integers(0, 20),
    )
    def store_a_purchase(self, number, buyer, months, setup, days):
        # A payment link bought on a later day: a setup fee now and a monthly line from
        # ``months`` after payment, in one subscription of quoted lines. The same reference
        # twice is stored once; another purchase under it is refused, and nothing changes.
        self.day += timedelta(days=days)
        lines = [
            LineItem(
                code="seo",
                name="SEO",
                unit_price=Money("300", "EUR"),
                frequency=MONTHLY,
                billing_start=BillingStart.after_months(months) if months else None,
            )
        ]
        if setup:
            lines.append(LineItem(code="site", name="Site", unit_price=Money(setup, "EUR")))
        link = PaymentLink(id="LIEN", currency="EUR", lines=tuple(lines))
        bought = purchase(
            link, paid_on=self.day, reference=f"pay_{number}", customer=f"C{buyer}",
            payment_method="pm_visa",
        )  # fmt: skip

        def store_it(store):
            before = snapshot(store)
            try:
                receipt = store_purchase(store, bought)
            except InvalidStateError as refused:
                assert snapshot(store) == before
                return str(refused)
            if not receipt.created:
                assert snapshot(store) == before
            return receipt

        outcome = self.each(store_it)
        if isinstance(outcome, str):
            event("purchase refused")
            return
        event("purchase stored" if outcome.created else "purchase stored already")
        again = self.each(store_it)  # a retried webhook: the first receipt, nothing written
        assert not again.created
        assert (again.order, again.invoice, again.subscription) == (
            outcome.order,
            outcome.invoice,
            outcome.subscription,
        )

    @rule(number=st.integers(0, 2), kind=st.sampled_from(list(CustomerKind)))
    def save_customer(self, number, kind):
        customer = Customer(id=f"C{number}", legal_name=f"Client {number}", kind=kind)
        self.each(lambda s: s.save_customer(customer))

    @rule(number=st.integers(0, 2), last4=st.sampled_from(["4242", "5454"]))
    def save_wallet(self, number, last4):
        card = Card(id=f"pm_{last4}", brand="Visa", last4=last4, exp_month=12, exp_year=2030)
        wallet = Wallet(customer=f"C{number}").add(card, make_default=True)
        self.each(lambda s: s.save_wallet(wallet))

    @rule(days=st.integers(1, 60))
    def bill_everything(self, days):
        self.day += timedelta(days=days)

        def bill(store):
            created = []
            for sub_id in store.subscription_ids():
                with store.transaction():
                    sub = store.get_subscription(sub_id)
                    result = bill_subscription(
                        sub.to_charge_plan(CATALOG), store.get_billing_state(sub_id), as_of=self.day
                    )
                    if result.invoice is not None:
                        invoice = result.invoice.finalize(
                            number=store.next_invoice_number(issued_on=self.day)
                        )
                        store.add_invoice(invoice)
                        created.append(invoice.number)
                    store.save_billing_state(sub_id, result.state)
            return created

        self.each(bill)

    @rule(
        days=st.integers(1, 60),
        shards=st.integers(1, 3),
        batch_size=st.sampled_from([1, 2, 500]),
    )
    def run_billing_in_shards(self, days, shards, batch_size):
        # run_billing's pages: read with billing_rows, written with billing_versions,
        # reserve_invoice_numbers, add_invoices and save_billing_states — alike in both.
        self.day += timedelta(days=days)

        def run(store):
            reports = [
                run_billing(store, as_of=self.day, batch_size=batch_size, shard=i, shards=shards)
                for i in range(shards)
            ]
            return [
                (r.subscriptions, r.invoice_count, r.first_number, r.last_number, r.total)
                for r in reports
            ]

        self.each(run)

    @rule(data=st.data(), limit=st.integers(1, 4), shards=st.integers(1, 3))
    def read_a_page_of_billing_rows(self, data, limit, shards):
        ids = self.stores[0].subscription_ids()
        after = data.draw(st.sampled_from([None, *ids]))
        shard = data.draw(st.integers(0, shards - 1))

        def read(store):
            rows, end = store.billing_rows(after, limit=limit, shard=shard, shards=shards)
            versions = store.billing_versions([row.subscription_id for row in rows])
            assert all(versions[row.subscription_id] == row.version for row in rows)
            return [(r.subscription_id, r.subscription, r.state, r.error) for r in rows], end

        rows, end = self.each(read)
        page = self.stores[0].subscription_ids_after(after, limit=limit)
        assert end == (page[-1] if page else None)
        assert [row[0] for row in rows] == [key for key in page if shard_of(key, shards) == shard]

    @rule(count=st.integers(1, 3))
    def a_page_with_a_number_already_stored_adds_nothing(self, count):
        def refuse(store):
            stored = store.invoices()
            if not stored:
                return None
            before = snapshot(store)
            # Reserved, then given back: the numbers stay gapless.
            with contextlib.suppress(_UndoError), store.transaction():
                numbers = store.reserve_invoice_numbers(count, issued_on=self.day)
                fresh = [attrs.evolve(stored[0], number=n) for n in numbers]
                with pytest.raises(InvalidArgumentError) as refused:
                    store.add_invoices([*fresh, stored[-1]])  # the last is stored: none added
                assert store.invoices() == stored
                with store.savepoint():
                    store.add_invoices(fresh)  # the same, without the stored one: all added
                assert [i.number for i in store.invoices()[len(stored) :]] == numbers
                raise _UndoError
            assert snapshot(store) == before
            return str(refused.value)

        self.each(refuse)

    @rule(days=st.integers(1, 400))
    def number_dated_before_the_last_is_refused(self, days):
        last = self.stores[0].last_issued_on()
        if last is None:
            return
        earlier = last - timedelta(days=days)

        def refuse(store):
            before = snapshot(store)
            with pytest.raises(InvalidStateError) as refused:
                _reserve_in_a_transaction(store, earlier)
            assert earlier.isoformat() in str(refused.value)
            assert last.isoformat() in str(refused.value)
            assert snapshot(store) == before
            return str(refused.value)

        self.each(refuse)

    @rule(days=st.integers(-90, 60))
    def run_billing_refuses_a_date_before_the_last_invoice(self, days):
        as_of = self.day + timedelta(days=days)
        last = self.stores[0].last_issued_on()
        before_the_last = last is not None and as_of < last

        def run(store):
            before = snapshot(store)
            if before_the_last:
                with pytest.raises(InvalidStateError, match=f"is before {last.isoformat()}"):
                    run_billing(store, as_of=as_of)
                assert snapshot(store) == before  # refused before anything was written
                return "refused"
            report = run_billing(store, as_of=as_of)
            assert report.is_complete
            return report.invoice_count, report.first_number, report.last_number, report.total

        if self.each(run) != "refused":
            self.day = max(self.day, as_of)

    @rule(days=st.integers(0, 30))
    def number_dated_on_or_after_the_last_follows_it(self, days):
        self.day += timedelta(days=days)
        self.each(lambda s: s.next_invoice_number(issued_on=self.day))

    @rule(data=st.data())
    def pay_an_invoice(self, data):
        invoices = self.stores[0].invoices()
        if not invoices:
            return
        invoice = data.draw(st.sampled_from(invoices))
        if invoice.status.value not in ("open", "partially_paid"):
            return
        payment = Payment(amount=invoice.amount_due, paid_on=self.day, method="card")

        def pay(store):
            with store.transaction():
                store.add_payment(invoice.number, payment)
                store.save_invoice(invoice.apply_payment(payment).invoice)

        self.each(pay)

    @rule(number=st.integers(0, 3), days=st.integers(1, 60))
    def save_quote(self, number, days):
        quote = Quote(
            id=f"Q{number}",
            customer="C",
            currency="EUR",
            valid_until=self.day + timedelta(days=days),
            lines=(
                LineItem(
                    code="seo",
                    name="SEO",
                    unit_price=Money("300", "EUR"),
                    frequency=CATALOG.plans[0].prices[0][0],
                    billing_start=BillingStart.after_months(2),
                ),
            ),
        )
        self.each(lambda s: s.save_quote(quote))

    @rule(years=st.integers(1, 50))
    def grant_and_assign(self, years):
        ledger = self.stores[0].load_ledger()
        grown = ledger.grant("Partenaire", "TBox", years, on=self.day).assign(
            "Partenaire", "ACME/TBox", "TBox", 1, on=self.day
        )
        new = grown.entries[len(ledger.entries) :]
        self.each(lambda s: s.append_ledger(new))

    @rule(seats=st.integers(1, 20), offset=st.integers(0, 3))
    def save_account(self, seats, offset):
        account = LicenseAccount(
            customer="ACME", product="TBox", seats=seats, start=date(2026 + offset, 1, 1), years=1
        )
        self.each(lambda s: s.save_license_account(account))

    @precondition(lambda self: self.stores[0].subscription_ids())
    @rule(data=st.data(), method=st.sampled_from(["pm_visa", "pm_mastercard", None]))
    def change_payment_method(self, data, method):
        # « Modifier le mode de paiement » on a stored subscription, billed or not: never a
        # rewrite of what was billed, and both stores keep the same subscription.
        ids = self.stores[0].subscription_ids()
        stored = self.stores[0].get_subscription(data.draw(st.sampled_from(ids)))
        changed = stored.change_payment_method(method, on=max(self.day, stored.start))
        event("payment method changed" if changed != stored else "payment method kept")
        state = self.stores[0].get_billing_state(stored.id)
        check_replacement(stored, changed, catalog=CATALOG, state=state)  # never refused

        def save(store):
            with store.transaction():
                store.save_subscription(changed)
            return store.get_subscription(stored.id).payment_method

        assert self.each(save) == method

    @rule(data=st.data(), years=st.integers(1, 3), seats=st.none() | st.integers(1, 30))
    def renew_a_licence_account(self, data, years, seats):
        # A reseller renews a stored term from the partner's pool: both terms and the ledger
        # entry in one transaction, or (beyond the pool, or renewed already) nothing at all.
        accounts = self.stores[0].license_accounts()
        if not accounts:
            return
        account = data.draw(st.sampled_from(accounts))
        ledger = self.stores[0].load_ledger()
        options = {"years": years, "seats": seats, "ledger": ledger, "pool": "Partenaire"}
        form = renewal_form(account, **options, on=self.day)
        if isinstance(form.decision, Refused):
            event(f"renewal refused: {form.decision.code}")
            with pytest.raises(RefusedError):
                renew(account, **options, on=self.day)
            return
        event("renewal")
        done = renew(account, **options, on=self.day)
        new = done.ledger.entries[len(ledger.entries) :]

        def save(store):
            with store.transaction():
                store.save_license_account(done.renewed)
                store.save_license_account(done.new_term)
                store.append_ledger(new)
            return store.load_ledger().balance("Partenaire", "TBox")

        assert self.each(save) == done.form.left

    @rule(number=st.integers(0, 4))
    def failed_transaction_changes_nothing(self, number):
        def fail(store):
            before = snapshot(store)
            with pytest.raises(BoomError):
                _write_then_fail(store, self.day, number)
            assert snapshot(store) == before
            return True

        self.each(fail)

    @rule(data=st.data(), bad=st.sampled_from([None, "x", 3, START]))
    def a_value_of_the_wrong_type_is_refused_alike(self, data, bad):
        # Both stores refuse it with the same typed error, and neither writes anything.
        write = data.draw(st.sampled_from(sorted(BAD_WRITES)))
        call, name, expected = BAD_WRITES[write]
        if expected == "a non-empty str" and isinstance(bad, str):
            return  # any text is an id
        invoices = self.stores[0].invoices()
        if write.startswith("add_payment") and not (
            invoices and self.stores[0].payments(invoices[0].number)
        ):
            return  # the call reads what it needs for its other argument first
        if write == "append_ledger-item":  # the bad entry comes after those stored
            name = f"entries[{len(self.stores[0].load_ledger().entries)}]"

        def refuse(store):
            before = snapshot(store)
            with pytest.raises(InvalidTypeError) as refused:
                call(store, bad)
            assert snapshot(store) == before
            return str(refused.value)

        assert self.each(refuse).startswith(f"{name}=")
        event("a value of the wrong type refused alike")

    @rule(
        drawn=st.lists(
            st.tuples(
                st.integers(0, 2),  # the subscription, stored or not
                st.integers(0, 5),  # its key
                st.sampled_from(["api_calls", "seats"]),
                st.integers(0, 3),  # the quantity
                st.integers(-30, 90),  # the day, around the current one
            ),
            max_size=6,
        ),
        inside=st.booleans(),
    )
    def add_usage_records(self, drawn, inside):
        # Sent twice (in one batch or two), a record is added once; a key given or stored for
        # another record refuses the whole batch, alike in every store; inside a caller's
        # transaction, the refusal undoes the batch only.
        records = [
            UsageRecord(
                subscription=f"S{number}",
                metric=metric,
                quantity=quantity,
                used_on=self.day + timedelta(days=offset),
                key=f"evt_{key}",
                properties={"unit": metric} if quantity % 2 else {},
            )
            for number, key, metric, quantity, offset in drawn
        ]
        model = dict(self.usage)
        conflict = False
        for record in records:
            found = model.setdefault((record.subscription, record.key), record)
            conflict = conflict or found != record
        new = len(model) - len(self.usage)
        extra = UsageRecord(
            subscription="S4", metric="api_calls", quantity=1, used_on=self.day,
            key=f"kept_{len(self.usage)}",
        )  # fmt: skip

        def add(store):
            before = snapshot(store)
            if not inside:
                try:
                    return store.add_usage_records(records)
                except InvalidArgumentError as refused:
                    assert snapshot(store) == before
                    return str(refused)
            with store.transaction():
                store.add_usage_records([extra])  # a write of the same transaction, kept
                try:
                    added = store.add_usage_records(records)
                except InvalidArgumentError as refused:
                    added = str(refused)
            assert store.usage_record_count() == before["usage_count"] + 1 + (
                0 if isinstance(added, str) else added
            )
            return added

        outcome = self.each(add)
        if inside:
            self.usage[(extra.subscription, extra.key)] = extra
            model[(extra.subscription, extra.key)] = extra
        if conflict:
            assert isinstance(outcome, str)
            assert "a key names one record" in outcome
            event("usage records refused: a key names two records")
            return
        assert outcome == new
        self.usage = model
        event("usage records added" if new else "usage records all stored already")

    @rule(
        numbers=st.lists(st.integers(0, 4), max_size=4),
        offset=st.integers(-30, 120),
    )
    def read_usage_records_by_page(self, numbers, offset):
        # A bill run's page: every id asked for, each with its records dated before the day,
        # by day then key, alike in every store and as the model says.
        ids = [f"S{number}" for number in numbers]
        before = self.day + timedelta(days=offset)
        found = self.each(lambda s: s.usage_records(ids, before=before))
        assert list(found) == list(dict.fromkeys(ids))
        for key, records in found.items():
            expected = [
                record
                for (subscription, _), record in self.usage.items()
                if subscription == key and record.used_on < before
            ]
            assert records == sorted(expected, key=lambda r: (r.used_on, r.key))

    @rule(
        drawn=st.lists(
            st.tuples(
                st.integers(0, 2),  # the invoice
                st.sampled_from(["courtesy", "reminder_1", "retry"]),
                st.integers(1, 2),  # a retry's attempt
                st.sampled_from(list(EventOutcome)),
            ),
            max_size=4,
        ),
        inside=st.booleans(),
    )
    def add_dunning_events(self, drawn, inside):
        # A key (invoice, step, attempt) recorded already, or given twice, refuses the whole
        # batch alike in every store; inside a caller's transaction, the batch only.
        events = [
            DunningEvent(
                invoice=f"F-{number}", subscription=f"S{number}", step=step, on=self.day,
                outcome=outcome, attempt=attempt if step == "retry" else None,
                actions=() if outcome is EventOutcome.SKIPPED else (DunningActionKind.REMIND,),
            )
            for number, step, attempt, outcome in drawn
        ]  # fmt: skip
        keys = [e.key for e in events]
        recorded = {e.key for e in self.stores[0].dunning_events()}
        refused = len(set(keys)) != len(keys) or bool(recorded & set(keys))
        extra = DunningEvent(
            invoice="F-kept", subscription=None, step=f"kept_{len(recorded)}", on=self.day,
            outcome=EventOutcome.SKIPPED,
        )  # fmt: skip

        def add(store):
            before = snapshot(store)
            if not inside:
                try:
                    store.add_dunning_events(events)
                except InvalidArgumentError as error:
                    assert snapshot(store) == before
                    return str(error)
                return None
            with store.transaction():
                store.add_dunning_events([extra])  # a write of the same transaction, kept
                try:
                    store.add_dunning_events(events)
                except InvalidArgumentError as error:
                    return str(error)
            return None

        outcome = self.each(add)
        assert (outcome is not None) == refused
        event("dunning events refused: a key recorded already" if refused else "dunning events")

    @rule(
        days=st.integers(0, 20),
        succeed=st.frozensets(st.integers(1, 4)),
        with_gateway=st.booleans(),
    )
    def run_dunning_over_the_invoices(self, days, succeed, with_gateway):
        # run_dunning's reads and writes (events, card retries, payments) alike in every store.
        self.day += timedelta(days=days)

        def run(store):
            gateway = ScriptedGateway(succeed) if with_gateway else None
            report = run_dunning(
                store, as_of=self.day, policy=DunningPolicy.standard(), gateway=gateway
            )
            return [a.key for a in report.actions], [(c.key, c.status) for c in report.charges]

        actions, charges = self.each(run)
        event("dunning actions taken" if actions else "no dunning action")
        if charges:
            event("card retried")

    @rule(days=st.integers(-40, 40))
    def read_what_a_dunning_run_reads(self, days):
        # The open invoices (no paid one, no credit note), the events of some invoices and
        # the last payment: alike in every store, and what reading everything finds.
        as_of = self.day + timedelta(days=days)
        numbers = self.each(lambda s: [i.number for i in s.dunning_invoices(as_of=as_of)])
        invoices = self.stores[0].invoices()
        assert numbers == [i.number for i in invoices if in_dunning(i, as_of)]
        last = self.each(lambda s: s.last_payment_on())
        paid = [p.paid_on for i in invoices for p in self.stores[0].payments(i.number)]
        assert last == max(paid, default=None)
        latest = self.each(lambda s: s.last_dunning_event_on())
        assert latest == max((e.on for e in self.stores[0].dunning_events()), default=None)
        some = [i.number for i in invoices[::2]]
        events = self.each(lambda s: s.dunning_events_of(some))
        assert events == [e for e in self.stores[0].dunning_events() if e.invoice in some]
        event("dunning reads open invoices" if numbers else "dunning reads none")

    @invariant()
    def a_dunning_event_key_is_recorded_once(self):
        keys = [e.key for e in self.stores[0].dunning_events()]
        assert len(keys) == len(set(keys))

    @invariant()
    def usage_records_are_those_of_the_model(self):
        assert self.stores[0].usage_record_count() == len(self.usage)
        ids = sorted({subscription for subscription, _ in self.usage})
        found = self.stores[0].usage_records(ids, before=LATEST_BEFORE)
        assert {(r.subscription, r.key): r for rs in found.values() for r in rs} == self.usage

    @invariant()
    def stores_agree(self):
        first, *others = (snapshot(store) for store in self.stores)
        assert all(other == first for other in others)

    @invariant()
    def licence_years_are_conserved(self):
        ledger = self.stores[0].load_ledger()
        assert sum(ledger.balances().values()) == ledger.granted("TBox")

    @invariant()
    def invoice_numbers_follow_their_dates(self):
        invoices = self.stores[0].invoices()
        dates = [invoice.issued_on for invoice in invoices]
        assert dates == sorted(dates)


StoresAgree.TestCase.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)
test_memory_and_sqlite_stores_agree = StoresAgree.TestCase


def test_numbers_are_gapless_and_roll_back_with_their_transaction(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    with store.transaction():
        assert store.next_invoice_number(issued_on=date(2026, 3, 1)) == "F-2026-000001"
    with pytest.raises(BoomError):
        _reserve_then_fail(store)
    assert store.next_invoice_number(issued_on=date(2026, 3, 2)) == "F-2026-000002"
    store.close()


def test_schema_is_versioned_and_a_reopened_file_keeps_its_data(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_catalog(CATALOG)
    store.close()
    again = SQLiteStore(path)
    assert again.load_catalog() == CATALOG
    version = again._connection.execute("SELECT version FROM schema_version").fetchone()[0]
    assert version == SCHEMA_VERSION
    again.close()


def test_stored_documents_are_versioned_and_refuse_an_unknown_version():
    text = dumps(CATALOG)
    assert f'"version":{FORMAT_VERSION}' in text
    assert '"29.00 EUR"' in text  # money as one string (format 4), never a float
    with pytest.raises(StoredDataError, match="version=99 of a stored Catalog is not supported"):
        loads(text.replace(f'"version":{FORMAT_VERSION}', '"version":99'), type(CATALOG))


def test_an_invoice_stored_with_a_line_rule_reads_back_without_it():
    # Format 3 dropped LineExplanation.rule (it restated the line's kind): an invoice stored
    # in format 2 (or 1) reads back, its lines the same, the rule left behind.
    invoice = bill_subscription(
        Subscription.create(
            id="S", customer="C", catalog=CATALOG, plan="pro", start=START
        ).to_charge_plan(CATALOG),
        as_of=START,
    ).invoice.finalize(number="F-2026-000001")
    document = to_document(invoice, version=3)  # format 3: every explanation field written
    for line in document["data"]["lines"]:
        line["explanation"]["rule"] = "whole_period"
    for version in (1, 2):
        document["version"] = version
        assert loads(json.dumps(document), type(invoice)) == invoice
    document["version"] = 3
    with pytest.raises(StoredDataError, match=r"extra fields found \(rule\)"):
        loads(json.dumps(document), type(invoice))


# -- chronological numbering --------------------------------------------------------------------


def _stores(tmp_path):
    return [MemoryStore(), SQLiteStore(tmp_path / "s.db")]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_number_dated_before_the_last_is_refused_naming_both_dates(tmp_path, kind):
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")
    with store.transaction():
        assert store.next_invoice_number(issued_on=date(2026, 6, 1)) == "F-2026-000001"
    with pytest.raises(
        InvalidStateError,
        match=r"issued_on=2026-03-01 is before 2026-06-01, the date of the last invoice issued "
        r"\(F-2026-000001\)",
    ):
        store.next_invoice_number(issued_on=date(2026, 3, 1))
    assert store.last_issued_on() == date(2026, 6, 1)
    # Nothing was reserved by the refusal; the same day is fine, and so is a later one.
    assert store.next_invoice_number(issued_on=date(2026, 6, 1)) == "F-2026-000002"
    assert store.next_invoice_number(issued_on=date(2026, 6, 2)) == "F-2026-000003"
    assert store.last_issued_on() == date(2026, 6, 2)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_issued_on_must_be_a_date(tmp_path, kind):
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")
    with pytest.raises(InvalidDateError, match=r"issued_on='2026-03-01' must be a datetime\.date"):
        store.next_invoice_number(issued_on="2026-03-01")
    assert store.last_issued_on() is None


def test_a_version_1_file_is_migrated_with_the_date_of_its_last_invoice(tmp_path):
    path = tmp_path / "v1.db"
    connection = sqlite3.connect(path, isolation_level=None)
    for statement in _MIGRATIONS[0]:
        connection.execute(statement)
    connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    connection.execute("INSERT INTO schema_version (version) VALUES (1)")
    connection.execute("INSERT INTO invoice_sequence (id, last_number) VALUES (1, 'F-2026-000002')")
    for position, day in ((1, "2026-05-01"), (2, "2026-06-01")):
        connection.execute(
            "INSERT INTO invoices (number, position, customer, issued_on, document)"
            " VALUES (?, ?, 'X', ?, '{}')",
            (f"F-2026-00000{position}", position, day),
        )
    connection.close()
    reader = SQLiteStore(path, read_only=True)  # reads an older schema without migrating it
    assert reader.last_issued_on() == date(2026, 6, 1)
    reader.close()
    store = SQLiteStore(path)
    assert store.last_issued_on() == date(2026, 6, 1)
    with pytest.raises(InvalidStateError, match="before 2026-06-01"):
        store.next_invoice_number(issued_on=date(2026, 3, 1))
    assert store.next_invoice_number(issued_on=date(2026, 6, 1)) == "F-2026-000003"
    store.close()


# -- storage failures are typed, with a clear message ------------------------------------------


def _holding_the_write_lock(path):
    """A second connection that holds the database's write lock until closed."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO quotes (id, document) VALUES ('held', '{}')")
    return other


def test_a_locked_database_is_a_typed_error_saying_how_long_it_waited(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    other = _holding_the_write_lock(path)
    store = SQLiteStore(path, timeout=0.1)
    with pytest.raises(DatabaseLockedError) as locked:
        store.save_catalog(CATALOG)
    assert str(locked.value) == (
        f"{path}: database is locked by another process (waited 0.1 s); "
        "try again when it has finished"
    )
    assert isinstance(locked.value, StorageError)
    assert isinstance(locked.value.__cause__, sqlite3.OperationalError)  # the driver's, kept
    other.rollback()
    other.close()
    store.save_catalog(CATALOG)  # the lock gone, the same store works
    assert store.load_catalog() == CATALOG
    store.close()


def test_opening_a_database_to_create_its_schema_while_locked_is_a_typed_error(tmp_path):
    path = tmp_path / "s.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE mine (x)")
    with pytest.raises(DatabaseLockedError, match=r"waited 0\.05 s"):
        SQLiteStore(path, timeout=0.05)  # creating the schema needs the write lock
    other.close()


def test_opening_an_up_to_date_database_does_not_wait_for_the_write_lock(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    other = _holding_the_write_lock(path)
    store = SQLiteStore(path, timeout=0.05)
    assert store.load_catalog() is None
    store.close()
    other.close()


def test_a_reader_never_waits_for_the_write_lock(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_catalog(CATALOG)
    with store.transaction():
        store.add_invoice(_invoice(store, date(2026, 3, 1)))
    store.close()
    other = _holding_the_write_lock(path)
    reader = SQLiteStore(path, read_only=True, timeout=0.05)
    assert reader.load_catalog() == CATALOG
    assert [invoice.number for invoice in reader.invoices()] == ["F-2026-000001"]
    assert reader.get_quote("held") is None  # the other's uncommitted write is not seen
    reader.close()
    other.close()


def _invoice(store, day):
    sub = Subscription.create(id="S1", customer="C1", catalog=CATALOG, plan="pro", start=day)
    result = bill_subscription(sub.to_charge_plan(CATALOG), None, as_of=day)
    return result.invoice.finalize(number=store.next_invoice_number(issued_on=day))


def _fill_the_disk(store):
    """Let the file grow no more: the next write that needs a page finds the disk full."""
    pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
    store._connection.execute(f"PRAGMA max_page_count = {pages}")


def _save_subscription_and_ledger(store, entries):
    with store.transaction():
        store.save_subscription(
            Subscription.create(id="S1", customer="C", catalog=CATALOG, plan="pro", start=START)
        )
        store.append_ledger(entries)


def test_a_full_disk_is_a_typed_error_not_masked_by_the_rollback(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.save_catalog(CATALOG)
    before = snapshot(store)
    _fill_the_disk(store)
    big = [
        LicenseLedger().grant(f"customer {n} " + "x" * 2000, "TBox", 1, on=START).entries[0]
        for n in range(20)
    ]
    with pytest.raises(DiskFullError) as full:
        _save_subscription_and_ledger(store, big)
    message = str(full.value)
    assert message.startswith(f"{path}: disk is full")
    assert "cannot rollback" not in message
    assert "nothing of the interrupted transaction was saved" in message
    assert snapshot(store) == before  # all or nothing: the subscription is not kept either
    store._connection.execute("PRAGMA max_page_count = 1073741823")
    store.append_ledger(big)  # room again: the store still works
    assert len(store.load_ledger().entries) == 20
    store.close()


def test_a_full_disk_outside_a_transaction_is_a_typed_error(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    _fill_the_disk(store)
    saved = []

    def save_until_full():
        for number in range(1000):
            sub = Subscription.create(
                id=f"S{number}", customer="C", catalog=CATALOG, plan="pro", start=START
            )
            store.save_subscription(sub)
            saved.append(sub.id)

    with pytest.raises(DiskFullError, match="disk is full"):
        save_until_full()
    assert store.subscription_ids() == sorted(saved)  # every write before it was kept
    store.close()


def test_a_database_opened_read_only_refuses_every_write_with_a_typed_error(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    store = SQLiteStore(path, read_only=True)
    writes = [
        lambda: store.save_catalog(CATALOG),
        lambda: store.next_invoice_number(issued_on=START),
        lambda: store.save_quote(site_quote("Q")),
        lambda: store.append_ledger(LicenseLedger().grant("X", "TBox", 1, on=START).entries),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyDatabaseError, match=r"read-only database \(opened read-only\)"):
            write()
    assert store.load_catalog() is None
    store.close()


def test_a_read_only_uri_connection_is_refused_as_read_only(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    store = SQLiteStore(path, read_only=True)
    store.read_only = False  # as if the file itself were read-only: SQLite refuses the write
    with pytest.raises(ReadOnlyDatabaseError, match="read-only database"):
        store.save_catalog(CATALOG)
    store.close()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anything")
def test_a_file_without_write_permission_is_a_read_only_database(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    path.chmod(0o444)
    with pytest.raises(ReadOnlyDatabaseError, match="read-only database"):
        SQLiteStore(path).save_catalog(CATALOG)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not a database " * 100, "not a subbill database, or a damaged one"),
        (None, "cannot open the database file"),
    ],
    ids=["not-a-database", "missing-folder"],
)
def test_a_file_that_cannot_be_opened_is_a_typed_error(tmp_path, content, expected):
    path = tmp_path / "fake.db" if content is not None else tmp_path / "missing" / "s.db"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(StorageError, match=expected):
        SQLiteStore(path)
    if content is not None:
        assert path.read_bytes() == content


def test_a_newer_schema_is_refused_with_a_storage_error(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("UPDATE schema_version SET version = 99")
    connection.close()
    for read_only in (False, True):
        with pytest.raises(StorageError, match="schema version 99, newer than this subbill's"):
            SQLiteStore(path, read_only=read_only)


def test_a_read_only_store_needs_a_subbill_database(tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(StorageError, match="not a subbill database"):
        SQLiteStore(path, read_only=True)


# -- a damaged row is named -----------------------------------------------------------------------


def _filled(path):
    """A store with one row in every table."""
    return fill_every_table(SQLiteStore(path), CATALOG, on=START)


def store_subscription(store):
    sub = Subscription.create(id="S1", customer="C1", catalog=CATALOG, plan="pro", start=START)
    store.save_subscription(sub)
    return sub


DAMAGED_ROWS = [
    ("catalog", "id = 1", lambda s: s.load_catalog(), "catalog row 1"),
    ("subscriptions", "id = 'S1'", lambda s: s.get_subscription("S1"), "subscriptions row 'S1'"),
    (
        "billing_states",
        "subscription_id = 'S1'",
        lambda s: s.get_billing_state("S1"),
        "billing_states row 'S1'",
    ),
    (
        "invoices",
        "number = 'F-2026-000001'",
        lambda s: s.get_invoice("F-2026-000001"),
        "invoices row 'F-2026-000001'",
    ),
    ("invoices", "1 = 1", lambda s: s.invoices(), "invoices row 'F-2026-000001'"),
    ("payments", "id = 1", lambda s: s.payments("F-2026-000001"), "payments row 1"),
    ("quotes", "id = 'Q1'", lambda s: s.get_quote("Q1"), "quotes row 'Q1'"),
    ("ledger", "position = 1", lambda s: s.load_ledger(), "ledger row 1"),
    (
        "license_accounts",
        "customer = 'ACME'",
        lambda s: s.license_accounts(),
        "license_accounts row 'ACME/TBox/2026-01-01'",
    ),
    (
        "usage_records",
        "key = 'evt_1'",
        lambda s: s.usage_records(["S1"], before=LATEST_BEFORE),
        "usage_records row 'S1/evt_1'",
    ),
]


@pytest.mark.parametrize(
    "damage",
    ['{"version": 1, "data": {"id": 3}}', "{not json", '{"version": 7, "data": {}}', "[" * 5000],
    ids=["bad-fields", "not-json", "unknown-version", "too-deep"],
)
@pytest.mark.parametrize(
    ("table", "where", "read", "named"),
    DAMAGED_ROWS,
    ids=[f"{row[0]}-{n}" for n, row in enumerate(DAMAGED_ROWS)],
)
def test_a_damaged_row_is_named_by_table_and_id(tmp_path, table, where, read, named, damage):
    store = _filled(tmp_path / "s.db")
    read(store)  # readable before the damage
    sql = f"UPDATE {table} SET document = ? WHERE {where}"  # noqa: S608  (the test's own names)
    store._connection.execute(sql, (damage,))
    with pytest.raises(StoredDataError) as damaged:
        read(store)
    assert str(damaged.value).startswith(f"{named}: ")
    assert damaged.value.table == table
    assert isinstance(damaged.value, StorageError)
    store.close()


@pytest.mark.parametrize("content", [b"", None], ids=["empty file", "another SQLite database"])
def test_a_store_that_may_not_create_never_writes_a_schema_into_a_file(tmp_path, content):
    path = tmp_path / "empty.db"
    if content is None:
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(StorageError, match=r"empty\.db: not a subbill database"):
        SQLiteStore(path, create=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_a_store_that_may_not_create_refuses_a_missing_file_and_creates_nothing(tmp_path):
    with pytest.raises(StorageError, match="cannot open"):
        SQLiteStore(tmp_path / "absent.db", create=False)
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_may_not_create_opens_and_upgrades_a_subbill_database(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStore(path).close()
    store = SQLiteStore(path, create=False)
    assert store.next_invoice_number(issued_on=date(2026, 3, 1)) == "F-2026-000001"
    store.close()


# -- a database written by codec format version 1 (issue 12) -------------------------------------

FORMAT_V1_DB = Path(__file__).parent / "fixtures" / "format_v1.db"


def _documents(path):
    """Every stored document of a database file, as text, read without changing the file."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = ("catalog", "subscriptions", "billing_states", "invoices", "quotes", "orders")
        return {
            table: [row[0] for row in connection.execute(f"SELECT document FROM {table}")]  # noqa: S608
            for table in tables
        }
    finally:
        connection.close()


def test_a_database_written_by_format_version_1_reads_back_and_bills_on(tmp_path):
    path = tmp_path / "v1.db"
    shutil.copyfile(FORMAT_V1_DB, path)
    documents = _documents(path)
    # The fixture holds the old shapes, in every table that can hold them.
    assert all(json.loads(text)["version"] == 1 for texts in documents.values() for text in texts)
    assert '"kind": "months"' in "".join(documents["subscriptions"])
    assert '"kind": "after_months", "on_date": null' in "".join(documents["orders"])
    assert '"kind": "on_date", "on_date": "2026-03-10"' in "".join(documents["quotes"])

    old = SQLiteStore(path)
    fresh = format_v1.fill(MemoryStore())
    assert snapshot(old) == snapshot(fresh)
    catalog_subscription = old.get_subscription("S-CAT")
    assert [d.duration for d in catalog_subscription.discounts] == [
        Once(),
        ForPeriods(3),
        ForMonths(2),
        Forever(),
    ]
    (order,) = old.orders()
    assert [line.billing_start for line in order.lines] == [
        None,
        Immediately(),
        OnDate(date(2026, 3, 10)),
        AfterDays(45),
        AfterMonths(1),
    ]
    assert [line.billing_start for line in old.get_quote("Q-ALL").lines] == [
        line.billing_start for line in order.lines
    ]

    # Billing on, month by month for a year, gives the same invoices as billing on from the
    # original objects; each duration ends where it should.
    for month in range(3, 15):
        as_of = date(2026 + month // 12, month % 12 + 1, 1)
        assert run_billing(old, as_of=as_of) == run_billing(fresh, as_of=as_of)
    assert old.invoices() == fresh.invoices()
    assert len(old.invoices()) == 27
    assert snapshot(old) == snapshot(fresh)
    last = old.invoices()[-2:]
    assert [(i.subscription, [d.discount.code for d in i.discounts]) for i in last] == [
        ("S-CAT", ["LOYAL"]),  # once, three periods, two months: over
        ("pay_001-S1", ["SEO-ALWAYS"]),  # three periods, four and six months: over
    ]

    # A document saved again is written in the current format, in the new shape.
    old.save_quote(old.get_quote("Q-ALL"))
    old.close()
    (quote,) = _documents(path)["quotes"]
    assert json.loads(quote)["version"] == FORMAT_VERSION == 4
    assert '"billing_start":{"count":1,"type":"after_months"}' in quote
    assert '"duration":{"type":"once"}' in quote
    assert '"billing_start":{"day":"2026-03-10","type":"on_date"}' in quote


durations = st.one_of(
    st.just(Once()),
    st.integers(1, 3660).map(ForPeriods),
    st.integers(1, 1200).map(ForMonths),
    st.just(Forever()),
)
billing_starts = st.one_of(
    st.just(Immediately()),
    st.dates(date(1900, 1, 1), date(2999, 12, 31)).map(OnDate),
    st.integers(0, 3660).map(AfterDays),
    st.integers(0, 120).map(AfterMonths),
)


def _as_version_1(data):
    """A current document's data in the shape version 1 wrote (the oracle of the migration)."""
    if isinstance(data, list):
        return [_as_version_1(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "type" in data and set(data) <= {"type", "count", "day"}:
        kind = data["type"]
        if kind in {"immediately", "on_date", "after_days", "after_months"}:
            return {"kind": kind, "count": data.get("count", 0), "on_date": data.get("day")}
        return {"kind": kind, "count": data.get("count", 0)}
    return {key: _as_version_1(value) for key, value in data.items()}


@settings(max_examples=50)
@given(st.lists(st.tuples(billing_starts, durations), min_size=1, max_size=4), durations)
def test_every_duration_and_billing_start_reads_back_from_either_version(lines, duration):
    link = PaymentLink(
        id="L",
        currency="EUR",
        lines=tuple(
            LineItem(
                code=f"l{index}",
                name="Line",
                unit_price=Money("10", "EUR"),
                frequency=MONTHLY,
                billing_start=start,
                discounts=(Discount.per_unit_percent_off("U", "5", duration=line_duration),),
            )
            for index, (start, line_duration) in enumerate(lines)
        ),
        discounts=(Discount.percent_off("D", "10", duration=duration),),
    )
    text = dumps(link)
    assert loads(text, PaymentLink) == link
    version_3 = to_document(link, version=3)
    assert from_document(version_3, PaymentLink) == link
    version_1 = {"version": 1, "data": _as_version_1(version_3["data"])}
    assert '"type"' not in json.dumps(version_1)
    assert from_document(version_1, PaymentLink) == link


# -- what a store accepts: typed values only, refused alike by both stores -------------------

#: Each write of a store, called with a bad value; the argument it names; what it expects.
BAD_WRITES = {
    "save_catalog": (lambda s, bad: s.save_catalog(bad), "catalog", "a Catalog"),
    "save_subscription": (
        lambda s, bad: s.save_subscription(bad),
        "subscription",
        "a Subscription",
    ),
    "save_billing_state": (
        lambda s, bad: s.save_billing_state("S1", bad),
        "state",
        "a BillingState",
    ),
    "save_billing_state-id": (
        lambda s, bad: s.save_billing_state(bad, s.get_billing_state("S1")),
        "subscription_id",
        "a non-empty str",
    ),
    "add_invoice": (lambda s, bad: s.add_invoice(bad), "invoice", "an Invoice"),
    "save_invoice": (lambda s, bad: s.save_invoice(bad), "invoice", "an Invoice"),
    "add_payment": (
        lambda s, bad: s.add_payment(s.invoices()[0].number, bad),
        "payment",
        "a Payment",
    ),
    "add_payment-number": (
        lambda s, bad: s.add_payment(bad, s.payments(s.invoices()[0].number)[0]),
        "invoice_number",
        "a non-empty str",
    ),
    "save_quote": (lambda s, bad: s.save_quote(bad), "quote", "a Quote"),
    "append_ledger": (lambda s, bad: s.append_ledger(bad), "entries", "a list of LedgerEntry"),
    "append_ledger-item": (
        lambda s, bad: s.append_ledger([*s.load_ledger().entries, bad]),
        "entries[1]",
        "a LedgerEntry",
    ),
    "save_license_account": (
        lambda s, bad: s.save_license_account(bad),
        "account",
        "a LicenseAccount",
    ),
    "save_customer": (lambda s, bad: s.save_customer(bad), "customer", "a Customer"),
    "add_order": (lambda s, bad: s.add_order(bad), "order", "a SalesOrder"),
    "save_wallet": (lambda s, bad: s.save_wallet(bad), "wallet", "a Wallet"),
    "add_usage_records": (
        lambda s, bad: s.add_usage_records(bad),
        "records",
        "a list of UsageRecord",
    ),
    "add_dunning_events": (
        lambda s, bad: s.add_dunning_events(bad),
        "events",
        "a list of DunningEvent",
    ),
    "add_dunning_events-item": (
        lambda s, bad: s.add_dunning_events([bad]),
        "events[0]",
        "a DunningEvent",
    ),
    "save_charge_attempt": (
        lambda s, bad: s.save_charge_attempt(bad),
        "attempt",
        "a ChargeAttempt",
    ),
}


def _store_of(kind, tmp_path, request=None):
    if kind == "postgres":
        return PostgresStore(request.getfixturevalue("postgres_url"))
    return MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")


#: The bad values each write is given: an id is refused when it is not text ("x" is one).
BAD_VALUES = [
    (write, bad)
    for write in BAD_WRITES
    for bad in ((None, 3) if BAD_WRITES[write][2] == "a non-empty str" else (None, "x", 3))
]


@pytest.mark.parametrize(
    ("write", "bad"), BAD_VALUES, ids=[f"{write}-{bad!r}" for write, bad in BAD_VALUES]
)
@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
def test_a_store_refuses_a_value_of_the_wrong_type_and_writes_nothing(
    tmp_path, request, kind, write, bad
):
    # A review found SQLiteStore.save_catalog(None) stored (every later bill run failed
    # reading it), "x" accepted as a catalog, a billing state, ledger entries or a payment
    # (MemoryStore kept the garbage too), and the other writes raising AttributeError.
    # The SQL stores share these writes (storage/_sql.py): PostgreSQL is checked alike.
    store = fill_every_table(_store_of(kind, tmp_path, request), CATALOG, on=START)
    call, name, expected = BAD_WRITES[write]
    before = snapshot(store)
    with pytest.raises(InvalidTypeError) as refused:
        call(store, bad)
    assert str(refused.value) == f"{name}={bad!r} must be {expected}"
    assert (refused.value.name, refused.value.value) == (name, bad)
    assert snapshot(store) == before
    assert run_billing(store, as_of=START).is_complete  # the store still bills
    if kind != "memory":
        store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite", "postgres"])
@pytest.mark.parametrize("states", [[("S1",)], [("S1", "x", 3)]], ids=["one item", "three items"])
def test_save_billing_states_refuses_what_is_not_a_pair_alike_in_every_store(
    tmp_path, request, kind, states
):
    # PostgresStore.save_billing_states unpacked each item itself: a tuple of another
    # length raised a raw ValueError ("not enough values to unpack") where the other stores
    # said which item is not a (subscription_id, BillingState) pair.
    store = fill_every_table(_store_of(kind, tmp_path, request), CATALOG, on=START)
    before = snapshot(store)
    with pytest.raises(InvalidTypeError) as refused:
        store.save_billing_states([(store.subscription_ids()[0], BillingState()), *states])
    assert str(refused.value) == (
        f"states[1]={states[0]!r} must be a (subscription_id, BillingState) pair"
    )
    assert snapshot(store) == before
    if kind != "memory":
        store.close()


def test_a_catalog_of_none_is_refused_so_bill_runs_keep_reading_the_store(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    store.save_catalog(CATALOG)
    with pytest.raises(InvalidTypeError, match=r"^catalog=None must be a Catalog$"):
        store.save_catalog(None)
    assert store.load_catalog() == CATALOG
    store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize(
    ("limit", "shown"),
    [(10**30, "1" + "0" * 30), (-1, "-1"), (0, "0"), (1_000_001, "1000001")],
    ids=["huge", "negative", "zero", "above-a-million"],
)
def test_subscription_ids_after_takes_a_limit_from_1_to_a_million(tmp_path, kind, limit, shown):
    # A review found limit=10**30 raising OverflowError and limit=-1 returning every id.
    store = _store_of(kind, tmp_path)
    for number in range(3):
        store_subscription_numbered(store, number)
    with pytest.raises(InvalidArgumentError) as refused:
        store.subscription_ids_after(None, limit=limit)
    assert str(refused.value) == f"limit={shown} must be an int from 1 to 1000000"
    assert store.subscription_ids_after(None, limit=1_000_000) == ["S0", "S1", "S2"]
    assert store.subscription_ids_after("S0", limit=1) == ["S1"]
    with pytest.raises(InvalidTypeError, match=r"^after=3 must be a str or None$"):
        store.subscription_ids_after(3, limit=1)
    if kind == "sqlite":
        store.close()


def store_subscription_numbered(store, number):
    store.save_subscription(
        Subscription.create(id=f"S{number}", customer="C", catalog=CATALOG, plan="pro", start=START)
    )


_SECONDS = "must be a number of seconds (int or float)"
_BOUNDS = "must be more than 0 and at most 3600 seconds"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"numbering": "x"}, InvalidTypeError, "numbering='x' must be an InvoiceNumbering or None"),
        ({"timeout": "x"}, InvalidTypeError, f"timeout='x' {_SECONDS}"),
        ({"timeout": True}, InvalidTypeError, f"timeout=True {_SECONDS}"),
        ({"timeout": 1e308}, OutOfBoundsError, f"timeout=1e+308 {_BOUNDS}"),
        ({"timeout": -1}, OutOfBoundsError, f"timeout=-1 {_BOUNDS}"),
        ({"timeout": 0}, OutOfBoundsError, f"timeout=0 {_BOUNDS}"),
        ({"timeout": float("nan")}, OutOfBoundsError, f"timeout=nan {_BOUNDS}"),
        ({"timeout": 3601}, OutOfBoundsError, f"timeout=3601 {_BOUNDS}"),
        ({"read_only": "yes"}, InvalidTypeError, "read_only='yes' must be a bool"),
        ({"create": None}, InvalidTypeError, "create=None must be a bool"),
    ],
    ids=[
        "numbering-str", "timeout-str", "timeout-bool", "timeout-huge", "timeout-negative",
        "timeout-zero", "timeout-nan", "timeout-above-an-hour", "read-only-str", "create-none",
    ],
)  # fmt: skip
def test_sqlite_store_options_are_typed_and_bounded_and_nothing_is_created(
    tmp_path, options, error, message
):
    # A review found timeout="x" raising TypeError, 1e308 OverflowError, -1 accepted.
    path = tmp_path / "s.db"
    with pytest.raises(error) as refused:
        SQLiteStore(path, **options)
    assert str(refused.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_store_takes_a_timeout_of_seconds_as_an_int_or_a_float(tmp_path):
    for timeout in (0.5, 3600, 1):
        store = SQLiteStore(tmp_path / "s.db", timeout=timeout)
        assert store.timeout == timeout
        store.close()


@pytest.mark.parametrize("path", [123, None, b"s.db", 1.5], ids=["int", "none", "bytes", "float"])
def test_a_sqlite_store_path_is_a_str_or_a_path_and_nothing_is_created(tmp_path, monkeypatch, path):
    # A review found SQLiteStore(123) creating a file named "123".
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidTypeError) as refused:
        SQLiteStore(path)
    assert str(refused.value) == f"path={path!r} must be a str or an os.PathLike (a Path)"
    assert list(tmp_path.iterdir()) == []


def test_a_memory_store_refuses_a_numbering_that_is_not_one():
    with pytest.raises(InvalidTypeError) as refused:
        MemoryStore(numbering="x")
    assert str(refused.value) == "numbering='x' must be an InvoiceNumbering or None"


@pytest.mark.parametrize(
    "data", ['"x"', "[1, 2]", "3", "null", "true"], ids=["str", "list", "int", "null", "bool"]
)
@pytest.mark.parametrize(
    "kind",
    [Catalog, Subscription, BillingState, Invoice, Payment, LicenseAccount, PaymentLink],
    ids=lambda kind: kind.__name__,
)
@pytest.mark.parametrize("version", [1, 2, FORMAT_VERSION])
def test_a_document_whose_data_is_not_an_object_is_stored_data_error(kind, data, version):
    # A review found {"version": 3, "data": "x"} raising AttributeError out of codec.loads.
    text = f'{{"version": {version}, "data": {data}}}'
    with pytest.raises(StoredDataError) as damaged:
        loads(text, kind, table="t", key="K1")
    assert (damaged.value.table, damaged.value.key) == ("t", "K1")
    assert str(damaged.value).startswith(f"t row 'K1': a stored {kind.__name__} cannot be read")


FORMAT_V3_DB = Path(__file__).parent / "fixtures" / "format_v3.db"


def test_a_database_written_by_format_version_3_reads_back_and_bills_on(tmp_path):
    # Issue 13: format 4 writes compact documents (defaults left out, Money "29.00 EUR",
    # periods "start/end", an explanation's repeats of its line left out). A database written
    # in format 3 (the fixture, with its invoices, states and orders) reads back as the same
    # world, bills on exactly as the original objects do, and what is saved again is format 4.
    path = tmp_path / "v3.db"
    shutil.copyfile(FORMAT_V3_DB, path)
    documents = _documents(path)
    assert {json.loads(text)["version"] for texts in documents.values() for text in texts} == {3}
    assert '"amount":"' in "".join(documents["invoices"])  # Money as {"amount", "currency"}

    old = SQLiteStore(path)
    fresh = format_v1.fill(MemoryStore())
    assert snapshot(old) == snapshot(fresh)
    for month in range(3, 15):
        as_of = date(2026 + month // 12, month % 12 + 1, 1)
        assert run_billing(old, as_of=as_of) == run_billing(fresh, as_of=as_of)
    assert old.invoices() == fresh.invoices()
    assert snapshot(old) == snapshot(fresh)
    old.close()
    written = _documents(path)
    versions = {json.loads(text)["version"] for text in written["invoices"]}
    assert versions == {3, 4}  # the old invoices as they were, the new ones in format 4
    newest = json.loads(written["invoices"][-1])
    assert newest["version"] == 4
    assert all(
        "period" not in line["explanation"] or line["explanation"]["period"] != line["period"]
        for line in newest["data"]["lines"]
    )
    for invoice in fresh.invoices()[-3:]:  # each a good deal shorter than in format 3
        format_3 = json.dumps(to_document(invoice, version=3), separators=(",", ":"))
        assert len(dumps(invoice)) < 0.7 * len(format_3)


def test_a_schema_3_database_is_migrated_to_rowid_positions_and_states_without_rowid(tmp_path):
    # Issue 13 (≤ 600 bytes of database per invoice): schema 4 makes an invoice's position
    # its rowid (the position index goes) and stores billing states WITHOUT ROWID. A file of
    # schema 3 (the fixture) is migrated on opening: every invoice keeps its number and
    # position, read in the same order, per subscription too, and new ones follow them.
    path = tmp_path / "v3.db"
    shutil.copyfile(FORMAT_V3_DB, path)
    raw = sqlite3.connect(path)
    before = raw.execute("SELECT position, number, subscription FROM invoices").fetchall()
    assert raw.execute("SELECT version FROM schema_version").fetchone() == (3,)
    raw.close()
    store = SQLiteStore(path)
    by_subscription = {key: store.invoices(subscription=key) for key in store.subscription_ids()}
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
    assert sorted(raw.execute("SELECT rowid, number, subscription FROM invoices")) == sorted(before)
    tables = dict(raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    assert "position INTEGER PRIMARY KEY" in tables["invoices"]
    assert tables["billing_states"].endswith("WITHOUT ROWID")
    indexes = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert not any("invoices" in name and "position" in name for name in indexes)
    raw.close()
    assert [i.number for i in store.invoices()] == [number for _, number, _ in sorted(before)]
    for key, invoices in by_subscription.items():
        assert [i.number for i in invoices] == [n for _, n, s in sorted(before) if s == key]
    report = run_billing(store, as_of=date(2027, 6, 1))
    assert report.invoice_count > 0
    last_position = max(position for position, _, _ in before)
    new = store._rows("SELECT position FROM invoices WHERE position > ?", (last_position,))
    assert [row[0] for row in new] == list(
        range(last_position + 1, last_position + 1 + report.invoice_count)
    )
    store.close()


def test_writing_an_older_format_takes_only_the_formats_there_are():
    money = Money("19.99", "EUR")
    assert to_document(money, version=3) == {
        "version": 3,
        "data": {"amount": "19.99", "currency": "EUR"},
    }
    assert to_document(money) == {"version": FORMAT_VERSION, "data": "19.99 EUR"}
    for wrong in ([3], True, "3"):
        with pytest.raises(InvalidTypeError, match="must be an int: 4 or 3"):
            to_document(money, version=wrong)
    for unknown in (1, 2, 5):
        with pytest.raises(InvalidArgumentError, match="must be 4 \\(current\\) or 3"):
            to_document(money, version=unknown)


@settings(max_examples=60)
@given(billing_plans(), st.integers(0, 900).map(lambda n: date(2026, 1, 1) + timedelta(days=n)))
def test_every_engine_invoice_reads_back_equal_from_its_compact_document(plan, as_of):
    # Format 4 leaves out what a line can be read back without (an explanation's repeats, a
    # discount of nothing, a base equal to the net) and SQLiteStore leaves the row's columns
    # out of the document: every invoice the engine makes — discounts, inclusive and several
    # rates, per-invoice rounding, credit notes — reads back equal, both ways.
    invoice = bill_subscription(plan, as_of=as_of).invoice
    if invoice is None:
        return
    numbered = invoice.finalize(number="F-2026-000001")
    assert loads(dumps(numbered), Invoice) == numbered
    store = SQLiteStore(":memory:")
    store.add_invoice(numbered)
    assert store.get_invoice("F-2026-000001") == numbered
    store.close()


def test_an_id_holding_a_lone_surrogate_is_refused_typed():
    # The review: "\ud800" was accepted, then broke SQLite writes and sharded runs with a
    # raw UnicodeEncodeError.
    with pytest.raises(InvalidArgumentError, match="lone surrogate"):
        Subscription.create(id="S\ud800", customer="C", catalog=CATALOG, plan="pro", start=START)


@pytest.mark.parametrize(
    ("key", "shards", "error", "message"),
    [
        ("a", 0, InvalidArgumentError, "shards=0 must be an int from 1 to 10000"),
        ("a", -3, InvalidArgumentError, "shards=-3 must be an int from 1"),
        (5, 2, InvalidTypeError, "subscription_id=5 must be a non-empty str"),
        ("\ud800", 2, InvalidArgumentError, "lone surrogate"),
    ],
)
def test_shard_of_refuses_bad_arguments_typed(key, shards, error, message):
    with pytest.raises(error, match=message):
        shard_of(key, shards)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_billing_rows_checks_its_arguments_in_the_same_order_in_both_stores(tmp_path, kind):
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")
    with pytest.raises(InvalidArgumentError, match="limit=0"):
        store.billing_rows(None, limit=0, shard=5, shards=2)


def test_a_line_leaves_out_the_factor_its_explanation_states():
    # Issue 13 (≤ 600 bytes per invoice): 17 of 31 days already say the factor 17/31.
    from benchmarks.workloads import SILVER_START, silver_inputs  # noqa: PLC0415

    draft = bill_subscription(silver_inputs(1)[0], None, as_of=SILVER_START).invoice
    invoice = draft.finalize(number="F-2025-000001")
    (line,) = json.loads(dumps(invoice))["data"]["lines"]
    assert "factor" not in line
    assert (line["explanation"]["days"], line["explanation"]["period_days"]) == (17, 31)
    read = loads(dumps(invoice), Invoice)
    assert read == invoice
    assert read.lines[0].factor == Fraction(17, 31)

"""The in-memory and SQLite stores agree, and a failed transaction changes nothing."""

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from subbill import (
    BillingStart,
    LicenseAccount,
    LicenseLedger,
    LineItem,
    Money,
    Payment,
    Quote,
    Subscription,
    bill_subscription,
)
from subbill.errors import InvalidStateError
from subbill.storage import MemoryStore, SQLiteStore
from subbill.storage.codec import StoredDataError, dumps, loads
from subbill.storage.sqlite import SCHEMA_VERSION
from subbill.subscriptions import check_replacement
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
START = date(2026, 1, 1)


class BoomError(Exception):
    pass


def snapshot(store):
    """Everything a store can be asked, as comparable values."""
    ids = store.subscription_ids()
    invoices = store.invoices()
    return {
        "catalog": store.load_catalog(),
        "subscriptions": [store.get_subscription(i) for i in ids],
        "states": [store.get_billing_state(i) for i in ids],
        "invoices": invoices,
        "payments": [store.payments(i.number) for i in invoices],
        "quotes": [store.get_quote(q) for q in store.quote_ids()],
        "ledger": store.load_ledger(),
        "accounts": store.license_accounts(),
    }


def _write_then_fail(store, day, number):
    with store.transaction():
        store.next_invoice_number(issued_on=day)
        store.save_subscription(
            Subscription.create(
                id=f"S{number}", customer="X", catalog=CATALOG, plan="business", start=day
            )
        )
        store.append_ledger(LicenseLedger().grant("X", "TBox", 1, on=day).entries)
        raise BoomError


def _reserve_then_fail(store):
    with store.transaction():
        store.next_invoice_number(issued_on=date(2026, 3, 1))
        raise BoomError


class StoresAgree(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.stores = [MemoryStore(), SQLiteStore(Path(self.folder.name) / "subbill.db")]
        self.day = START

    def teardown(self):
        self.stores[1].close()
        self.folder.cleanup()

    def each(self, action):
        results = [action(store) for store in self.stores]
        assert results[0] == results[1]
        return results[0]

    @initialize()
    def load_catalog(self):
        self.each(lambda s: s.save_catalog(CATALOG))

    @rule(
        number=st.integers(0, 4),
        plan=st.sampled_from(["essentiel", "pro", "business"]),
        offset=st.integers(0, 90),
        modules=st.sampled_from([(), ("crm",), ("crm", "agenda")]),
    )
    def save_subscription(self, number, plan, offset, modules):
        sub = Subscription.create(
            id=f"S{number}",
            customer=f"C{number}",
            catalog=CATALOG,
            plan=plan,
            start=START + timedelta(days=offset),
            modules=modules,
        )
        stored = self.stores[0].get_subscription(sub.id)
        if stored is not None:
            state = self.stores[0].get_billing_state(sub.id)
            try:
                check_replacement(stored, sub, catalog=CATALOG, state=state)
            except InvalidStateError:
                return  # what was billed is never rewritten: the replacement is refused
        self.each(lambda s: s.save_subscription(sub))

    @rule(days=st.integers(1, 60))
    def bill_everything(self, days):
        self.day += timedelta(days=days)

        def bill(store):
            created = []
            for sub_id in store.subscription_ids():
                with store.transaction():
                    sub = store.get_subscription(sub_id)
                    result = bill_subscription(
                        sub.to_billable(CATALOG), store.get_billing_state(sub_id), as_of=self.day
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

    @rule(number=st.integers(0, 4))
    def failed_transaction_changes_nothing(self, number):
        def fail(store):
            before = snapshot(store)
            with pytest.raises(BoomError):
                _write_then_fail(store, self.day, number)
            assert snapshot(store) == before
            return True

        self.each(fail)

    @invariant()
    def stores_agree(self):
        assert snapshot(self.stores[0]) == snapshot(self.stores[1])


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
    assert '"version": 1' in text
    assert '"amount": "29.00"' in text  # money as a string, never a float
    with pytest.raises(StoredDataError, match="version=99 of a stored Catalog is not supported"):
        loads(text.replace('"version": 1', '"version": 99'), type(CATALOG))

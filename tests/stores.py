"""What a store holds, as comparable values: the one way the tests tell that nothing changed.

``snapshot`` asks a store (memory, SQLite or PostgreSQL) everything it answers; ``database_content``
reads an SQLite file as SQL without changing it; ``fill_every_table`` gives a store one row
in every table, for the tests that damage, lock or compare them.
"""

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from subbill import (
    Catalog,
    LicenseAccount,
    LicenseLedger,
    LineItem,
    Money,
    Payment,
    Quote,
    Subscription,
)
from subbill.dunning import DunningActionKind, DunningEvent, EventOutcome
from subbill.dunning_service import Charged, Declined
from subbill.metering import UsageRecord
from subbill.service import run_billing
from subbill.storage._arguments import LATEST_BEFORE
from subbill.storage.protocols import ChargeAttempt

#: The subscriptions whose usage records a snapshot reads, stored or not (S0 to S4: the ids
#: the tests use), beside every stored one.
USAGE_IDS = tuple(f"S{number}" for number in range(5))


def site_quote(quote_id: str) -> Quote:
    """A quote of one 300 EUR website for customer "C", valid until the end of 2026."""
    return Quote(
        id=quote_id,
        customer="C",
        currency="EUR",
        valid_until=date(2026, 12, 31),
        lines=(LineItem(code="site", name="Site", unit_price=Money("300", "EUR")),),
    )


def fill_every_table(store: Any, catalog: Catalog, *, on: date) -> Any:
    """Give ``store`` one row in every table, all dated ``on``, and return it.

    The catalog, subscription S1 (``pro``) billed as of ``on`` (its first invoice and its
    state), that invoice's payment, quote Q1, a ledger entry, ACME's TBox account and a
    usage record of S1 (key ``evt_1``), the invoice's courtesy reminder (a dunning event)
    and a charge attempt of it.
    """
    store.save_catalog(catalog)
    store.save_subscription(
        Subscription.create(id="S1", customer="C1", catalog=catalog, plan="pro", start=on)
    )
    run_billing(store, as_of=on)
    invoice = store.invoices()[0]
    store.add_payment(invoice.number, Payment(amount=invoice.total, paid_on=on, method="card"))
    store.save_quote(site_quote("Q1"))
    store.append_ledger(LicenseLedger().grant("X", "TBox", 2, on=on).entries)
    store.save_license_account(
        LicenseAccount(customer="ACME", product="TBox", seats=3, start=on, years=1)
    )
    store.add_usage_records(
        [
            UsageRecord(
                subscription="S1",
                metric="api_calls",
                quantity=120,
                used_on=on,
                key="evt_1",
                properties={"user": "u_1"},
            )
        ]
    )
    store.add_dunning_events([courtesy_event(invoice.number, on=on)])
    store.save_charge_attempt(
        ChargeAttempt(
            key=f"dunning:{invoice.number}:retry:1",
            invoice=invoice.number,
            attempt=1,
            amount=invoice.total,
            on=on,
        )
    )
    return store


def courtesy_event(invoice: str, *, on: date, subscription: str | None = "S1") -> DunningEvent:
    """The courtesy reminder of ``invoice``, taken on ``on`` (a dunning event to store)."""
    return DunningEvent(
        invoice=invoice,
        subscription=subscription,
        step="courtesy",
        on=on,
        outcome=EventOutcome.TAKEN,
        actions=(DunningActionKind.REMIND,),
    )


class ScriptedGateway:
    """A fake payment processor: charges the retry attempts in ``succeed``, declines others.

    Like a real processor, a key it has seen gets its first answer again and no new charge;
    ``charges`` is ``{key: (invoice, amount)}`` of every charge it made.
    """

    def __init__(self, succeed: Any = ()) -> None:
        self.succeed = set(succeed)
        self.answers: dict[str, Any] = {}
        self.charges: dict[str, tuple[str, Money]] = {}

    def charge(self, invoice_number: str, amount: Money, *, idempotency_key: str) -> Any:
        if idempotency_key not in self.answers:
            attempt = int(idempotency_key.rsplit(":", 1)[1])
            if attempt in self.succeed:
                self.charges[idempotency_key] = (invoice_number, amount)
                self.answers[idempotency_key] = Charged(reference=f"ch_{attempt}")
            else:
                self.answers[idempotency_key] = Declined(reason="card_declined")
        return self.answers[idempotency_key]


def snapshot(store: Any) -> dict[str, Any]:
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
        "last_issued_on": store.last_issued_on(),
        "customers": [store.get_customer(c) for c in store.customer_ids()],
        "orders": store.orders(),
        "wallets": [store.get_wallet(c) for c in ("C0", "C1", "C2")],
        "usage": store.usage_records(sorted({*ids, *USAGE_IDS}), before=LATEST_BEFORE),
        "usage_count": store.usage_record_count(),
        "dunning": store.dunning_events(),
        "charges": store.charge_attempts(),
        "outbox": store.unsent_dunning_actions(),
    }


#: The tables each SQLite schema version added since version 5 (the tests make older files).
TABLES_SINCE = {6: ("dunning_events", "charge_attempts", "dunning_outbox")}
#: The indexes each SQLite schema version added since version 6.
INDEXES_SINCE = {
    7: ("invoices_in_dunning", "invoices_credited", "payments_by_day", "dunning_events_by_day")
}


def as_older_schema(path: Path, version: int) -> None:
    """Turn the SQLite file ``path`` into one of schema ``version`` (5 or later).

    The tables that came after ``version`` are dropped, the rest kept as they are.
    """
    connection = sqlite3.connect(path)
    try:
        for since, indexes in INDEXES_SINCE.items():
            if since > version:
                for index in indexes:
                    connection.execute(f"DROP INDEX {index}")
        for since, tables in TABLES_SINCE.items():
            if since > version:
                for table in tables:
                    connection.execute(f"DROP TABLE {table}")
        connection.execute("UPDATE schema_version SET version = ?", (version,))
        connection.commit()
    finally:
        connection.close()


def database_content(path: Path) -> list[str]:
    """Everything an SQLite file holds, as SQL, read without changing it."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()

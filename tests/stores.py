"""What a store holds, as comparable values: the one way the tests tell that nothing changed.

``snapshot`` asks a store (memory or SQLite) everything it answers; ``database_content``
reads an SQLite file as SQL without changing it.
"""

import sqlite3
from pathlib import Path
from typing import Any


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
    }


def database_content(path: Path) -> list[str]:
    """Everything an SQLite file holds, as SQL, read without changing it."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()

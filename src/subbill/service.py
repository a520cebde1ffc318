"""The billing service: the pure engine run over a store, safe to re-run and to run twice.

:func:`run_billing` bills every stored subscription up to ``as_of``. For each one, in its
own transaction, it reads the billing state, bills with :func:`subbill.billing.bill_subscription`,
numbers the invoice from the store's sequence and saves the invoice with the new state.
So:

- a run killed midway loses nothing and duplicates nothing: each subscription is either
  billed and saved, or untouched; running again bills what is left;
- two processes running on the same SQLite file are serialised subscription by
  subscription (``BEGIN IMMEDIATE``), and the second finds the state already advanced:
  every invoice is created exactly once;
- invoice numbers are reserved inside the transaction that saves the invoice, so they stay
  gapless and unique.

This module is outside the pure core (it drives storage); the core never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import attrs

from subbill.billing import bill_subscription
from subbill.errors import InvalidArgumentError
from subbill.money import Money
from subbill.periods import check_date
from subbill.storage.protocols import Store

__all__ = ["BillRunReport", "run_billing"]


@attrs.frozen(kw_only=True)
class BillRunReport:
    """What a billing run did: subscriptions seen, invoices created, totals per currency."""

    as_of: date
    subscriptions: int
    invoices: tuple[str, ...]
    total: dict[str, Money]


def run_billing(
    store: Store,
    *,
    as_of: date,
    on_progress: Callable[[int, int], None] | None = None,
    after_each: Callable[[str], None] | None = None,
    **options: object,
) -> BillRunReport:
    """Bill every subscription of ``store`` up to ``as_of``, one transaction each.

    ``on_progress(done, total)`` is called after each subscription (for a progress bar);
    ``after_each(subscription_id)`` after each commit (tests use it to interrupt a run).
    ``options`` go to :meth:`~subbill.subscriptions.Subscription.to_billable` (payment
    terms, negative-balance policy, tax rounding).
    """
    check_date("as_of", as_of)
    catalog = store.load_catalog()
    if catalog is None:
        raise InvalidArgumentError("the store has no catalog: load one before billing")
    ids = store.subscription_ids()
    created: list[str] = []
    totals: dict[str, Money] = {}
    for done, subscription_id in enumerate(ids, start=1):
        with store.transaction():
            subscription = store.get_subscription(subscription_id)
            if subscription is not None:
                state = store.get_billing_state(subscription_id)
                billable = subscription.to_billable(catalog, **options)
                result = bill_subscription(billable, state, as_of=as_of)
                if result.invoice is not None:
                    number = store.next_invoice_number(issued_on=as_of)
                    invoice = result.invoice.finalize(number=number)
                    store.add_invoice(invoice)
                    created.append(number)
                    previous = totals.get(invoice.currency)
                    totals[invoice.currency] = (
                        invoice.total if previous is None else previous + invoice.total
                    )
                store.save_billing_state(subscription_id, result.state)
        if after_each is not None:
            after_each(subscription_id)
        if on_progress is not None:
            on_progress(done, len(ids))
    return BillRunReport(as_of=as_of, subscriptions=len(ids), invoices=tuple(created), total=totals)

"""Phases and trials of a subscription read from plain data (issue 15): strict, with paths.

``Subscription.from_mapping`` (and so ``subbill subscriptions load``) reads ``phases`` as it
reads ``trial``: each phase's ``periods``, ``prices`` by item code and invoice
``discounts``, every bad field reported at once under its path.
"""

from __future__ import annotations

from datetime import date

import pytest

from subbill import Discount, Money, Subscription
from subbill.billing import bill_subscription
from subbill.discounts import Duration
from subbill.errors import InputError
from subbill.subscriptions import Phase, Trial, TrialAnchor
from tests.test_trials import CATALOG

BASE = {"id": "S1", "customer": "C", "plan": "solo", "start": "2026-03-01"}


def test_three_phases_and_a_trial_are_read_from_a_mapping():
    sub = Subscription.from_mapping(
        {
            **BASE,
            "trial": {"days": 14, "anchor": "trial_end"},
            "phases": [
                {"periods": 3, "discounts": [{"code": "INTRO", "percent": "50"}]},
                {"periods": 2, "prices": {"solo": "25.00", "stock": "0"}},
                {},
            ],
        },
        catalog=CATALOG,
    )
    assert sub.trial == Trial(days=14, anchor=TrialAnchor.TRIAL_END)
    assert sub.phases == (
        Phase(periods=3, discounts=[Discount.percent_off("INTRO", "50")]),
        Phase(periods=2, prices={"solo": Money("25.00", "EUR"), "stock": Money("0", "EUR")}),
        Phase(),
    )
    assert [(str(w.start), w.end and str(w.end)) for w in sub.phase_windows()] == [
        ("2026-03-15", "2026-06-15"),
        ("2026-06-15", "2026-08-15"),
        ("2026-08-15", None),
    ]


def test_a_phase_discount_reads_its_duration_and_scope():
    sub = Subscription.from_mapping(
        {
            **BASE,
            "phases": [
                {
                    "periods": 6,
                    "discounts": [
                        {"code": "A", "amount": "5.00", "once": True},
                        {"code": "B", "percent": "10", "periods": 2, "applies_to": ["solo"]},
                    ],
                }
            ],
        },
        catalog=CATALOG,
    )
    assert sub.phases[0].discounts == (
        Discount.amount_off("A", Money("5.00", "EUR"), duration=Duration.once()),
        Discount.percent_off("B", "10", duration=Duration.periods(2), applies_to={"solo"}),
    )


def test_every_bad_field_of_the_phases_is_reported_at_once_with_its_path():
    data = {
        **BASE,
        "phases": [
            {"periods": 0, "prices": {"solo": 9.5}},
            {"discounts": [{"code": "X", "percent": "10"}], "price": {}},
            {"periods": 2, "prices": {"solo": "-1"}},
        ],
    }
    with pytest.raises(InputError) as raised:
        Subscription.from_mapping(data, catalog=CATALOG)
    problems = dict(raised.value.problems)
    assert sorted(problems) == [
        "phases[0].periods",
        "phases[0].prices.solo",
        "phases[1].price",
        "phases[2].prices.solo",
    ]
    assert problems["phases[1].price"] == "unknown key, did you mean 'prices'?"
    assert problems["phases[2].prices.solo"] == "amount='-1' must be >= 0"
    # Well formed, but naming what the catalog does not sell, or half a discount.
    data["phases"] = [
        {"periods": 1, "prices": {"gold": "10"}},
        {"discounts": [{"code": "X"}, {"code": "Y", "amount": "1", "once": True, "periods": 2}]},
    ]
    with pytest.raises(InputError) as raised:
        Subscription.from_mapping(data, catalog=CATALOG)
    assert raised.value.problems == (
        (
            "phases[0].prices.gold",
            "is no plan, module or add-on of the catalog; expected one of solo, stock, team",
        ),
        ("phases[1].discounts[0]", "discount 'X' needs one of percent or amount"),
        ("phases[1].discounts[1]", "give one of once, periods, months; not once and periods"),
    )


def test_a_phase_that_runs_on_before_another_is_refused_with_its_path():
    data = {**BASE, "phases": [{}, {"periods": 2}]}
    with pytest.raises(InputError, match=r"phases\[0\] has periods=None \(it runs on for good\)"):
        Subscription.from_mapping(data, catalog=CATALOG)


def test_a_subscription_read_with_phases_bills_each_phase():
    sub = Subscription.from_mapping(
        {**BASE, "phases": [{"periods": 1, "prices": {"solo": "10"}}]}, catalog=CATALOG
    )
    plan = sub.to_charge_plan(CATALOG)
    first = bill_subscription(plan, as_of=date(2026, 3, 1))
    second = bill_subscription(plan, first.state, as_of=date(2026, 4, 1))
    assert (first.invoice.subtotal, second.invoice.subtotal) == (
        Money("10.00", "EUR"),
        Money("30.00", "EUR"),
    )

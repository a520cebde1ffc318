"""The persisted run, third pass (issue 13): from a stored row to the engine's ``ChargePlan``.

What the read side skips is proven equal to the checked path, error for error.
"""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill.billing import BillingState, ChargePlan
from subbill.catalog import Catalog, Plan
from subbill.errors import InvalidArgumentError, StoredDataError, SubbillError, UnknownCodeError
from subbill.money import Money
from subbill.periods import MONTHLY, check_payment_terms_days
from subbill.storage import codec
from subbill.subscriptions import Span
from tests.test_charge_plan_unchecked import EUR_CATALOG
from tests.test_codec_rows import START, plain_subscription
from tests.test_subscriptions import CATALOG as SEED_CATALOG
from tests.test_trials import CATALOG as TRIAL_CATALOG

_TWICE = [["pro@2025-01-15", "2025-02-01"], ["pro@2025-01-15", "2025-03-01"]]


def test_a_state_billing_one_charge_through_two_dates_is_refused():
    with pytest.raises(InvalidArgumentError, match=r"'pro@2025-01-15'.*twice"):
        BillingState(
            billed_through=[
                ("pro@2025-01-15", date(2025, 2, 1)),
                ("pro@2025-01-15", date(2025, 3, 1)),
            ]
        )


def test_a_stored_state_billing_one_charge_through_two_dates_is_a_damaged_row():
    text = codec.document_text({"version": 4, "data": {"billed_through": _TWICE}})
    assert codec._fast_state_read({"billed_through": _TWICE}) is None  # left to the checked read
    with pytest.raises(StoredDataError, match=r"billing_states row 'S1'.*'pro@2025-01-15'.*twice"):
        codec.loads(text, BillingState, table="billing_states", key="S1")


# -- a catalog's items found by code through a dict built once ------------------------------

_CATALOGS = [SEED_CATALOG, TRIAL_CATALOG]
_CODES = sorted(
    {
        item.code
        for catalog in _CATALOGS
        for item in (*catalog.plans, *catalog.modules, *catalog.addons)
    }
)


def _searched(items, kind, code):
    """The item of ``code`` found as the catalog found it before: a search, in order."""
    for item in items:
        if item.code == code:
            return item
    return (UnknownCodeError, str(UnknownCodeError(kind, code, (i.code for i in items))))


def _found(lookup, code):
    try:
        return lookup(code)
    except UnknownCodeError as error:
        return (UnknownCodeError, str(error))


@given(st.sampled_from(_CATALOGS), st.sampled_from([*_CODES, "", "PRO", "nope"]) | st.text())
def test_a_catalog_finds_an_item_by_code_as_a_search_finds_it(catalog, code):
    for lookup, items, kind in (
        (catalog.plan, catalog.plans, "plan"),
        (catalog.module, catalog.modules, "module"),
        (catalog.addon, catalog.addons, "addon"),
    ):
        found = _found(lookup, code)
        want = _searched(items, kind, code)
        assert found == want
        if not isinstance(want, tuple):
            assert found is want


# -- spans, charges and states shared between rows are those read or built afresh ----------


def _outcome(build):
    """What ``build`` gives, or the error it raises: its class and message."""
    try:
        return build()
    except SubbillError as error:
        return (type(error), str(error))


def test_a_catalog_edited_between_runs_is_seen():
    sub = plain_subscription(plans=[Span(code="pro", start=START)])
    before = sub.to_charge_plan(EUR_CATALOG).charges[0]
    renamed = Catalog(
        currency="EUR",
        plans=[Plan(code="pro", name="Pro+", rank=1, prices={MONTHLY: Money("12", "EUR")})],
    )
    after = sub.to_charge_plan(renamed).charges[0]
    assert (before.description, before.unit_price) == ("Pro", Money("10", "EUR"))
    assert (after.description, after.unit_price) == ("Pro+", Money("12", "EUR"))


@pytest.mark.parametrize("days", [0, 30, 365, -1, 366, True, "30", 30.0, None])
def test_a_plan_checks_its_payment_terms_as_the_terms_check_them(days):
    def plan():
        return ChargePlan(id="S1", customer="C1", currency="EUR", payment_terms_days=days)

    want = _outcome(lambda: check_payment_terms_days(days))
    got = _outcome(plan)
    if isinstance(want, tuple):
        assert got == want
    else:
        assert got.payment_terms_days == days

"""Strict reading of plain data: unknown keys, wrong types, every problem at once, card codes."""

import copy
import pickle
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subbill._structure import (
    CARD_SECURITY_KEYS,
    Problems,
    entries,
    join_path,
    refuse_card_codes,
    show,
)
from subbill.catalog import Catalog, CatalogError
from subbill.discounts import Discount, Duration
from subbill.errors import CardDataError, InputError, RefusedError
from subbill.licenses import LicenseAccount
from subbill.money import Money
from subbill.periods import BillingStart, Frequency
from subbill.quotes import PaymentLink, Quote, QuoteStatus
from subbill.subscriptions import Subscription
from subbill.taxes import TaxRate
from tests.builders import VAT_FIELDS as TVA
from tests.builders import (
    account,
    account_fields,
    eur,
    seo,
    seo_fields,
    subscription_fields,
    website,
)
from tests.seed_catalog import SEED_CATALOG_DATA, seed_catalog

CATALOG = seed_catalog()
SUBSCRIPTION = subscription_fields()
ACCOUNT = account_fields(reseller="Revendeur Ouest")
LINK = {
    "id": "L1",
    "currency": "EUR",
    "lines": [
        {"code": "site", "name": "Création du site web", "unit_price": "3000.00", "tax": TVA},
        seo_fields(tax=[TVA], discounts=[{"code": "FIDELITE", "amount": "50", "months": 3}]),
    ],
    "discounts": [{"code": "LANCEMENT", "percent": "10", "once": True}],
}
QUOTE = {
    "id": "Q1",
    "customer": "Garage Petit",
    "currency": "EUR",
    "valid_until": "2026-03-31",
    "lines": LINK["lines"],
    "discounts": LINK["discounts"],
}


def changed(document, change):
    data = copy.deepcopy(document)
    change(data)
    return data


def problems_of(call):
    with pytest.raises(InputError) as caught:
        call()
    return caught.value.problems


# -- the machinery --------------------------------------------------------------------------


def test_paths_quote_keys_that_would_not_read_plainly():
    data = changed(
        SEED_CATALOG_DATA, lambda d: d["plans"][0]["limits"].update({"api calls": -1, "a.b": -2})
    )
    assert problems_of(lambda: Catalog.from_mapping(data)) == (
        ("plans[0].limits['api calls']", "limit=-1 must be an int >= 0"),
        ("plans[0].limits['a.b']", "limit=-2 must be an int >= 0"),
    )


def test_join_path_and_show():
    assert join_path("", "") == ""
    assert join_path("subscriptions[3]", "tax[0].percent") == "subscriptions[3].tax[0].percent"
    assert join_path("lines", "[1]") == "lines[1]"
    assert show(Decimal("1.5")) == "Decimal('1.5')"
    assert len(show(list(range(10_000)))) < 60
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert show(deep) == "[[[...]]]"  # never a RecursionError, whatever the depth


def test_a_deep_value_is_refused_without_recursion_error():
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    data = changed(SEED_CATALOG_DATA, lambda d: d["plans"][0].update(modules=[deep]))
    assert problems_of(lambda: Catalog.from_mapping(data)) == (
        ("plans[0].modules[0]", "[[[...]]] must be a text, not a list"),
    )
    refuse_card_codes({"deep": deep})  # looked at without recursion


@pytest.mark.parametrize("key", [*sorted(CARD_SECURITY_KEYS), "CVC", "Security-Code", " cvv2 "])
def test_card_security_code_keys_are_refused_at_any_depth(key):
    data = {"a": [{"b": {"c": [0, {key: "123"}]}}]}
    with pytest.raises(CardDataError) as caught:
        refuse_card_codes(data)
    path = f"a[0].b.c[1].{key}" if key == key.strip() else f"a[0].b.c[1][{key!r}]"
    assert str(caught.value) == (
        f"{path}: a card security code must never be given to subbill; keep only the card's "
        "brand, last 4 digits, expiry and the payment processor's token"
    )


def test_card_codes_are_all_named_and_values_are_not_scanned():
    refuse_card_codes({"code": "cvc", "name": ["cvv"], "cid-ish": 1})  # values, other keys: fine
    data = {f"k{i}": {"cvc": 1} for i in range(7)}
    with pytest.raises(CardDataError, match=r"^k0\.cvc, k1\.cvc, k2\.cvc, k3\.cvc, k4\.cvc and 2 "):
        refuse_card_codes(data)


def test_card_codes_in_a_structure_that_contains_itself_are_found_once():
    data: dict[str, object] = {"cvv": 1}
    data["self"] = data
    with pytest.raises(CardDataError, match=r"^cvv: "):
        refuse_card_codes(data)


def test_entries_reports_every_problem_of_the_document_at_once():
    assert entries({"accounts": []}, "accounts") == ()
    assert problems_of(
        lambda: entries({"accounts": [ACCOUNT, 5, "x"], "acount": 1}, "accounts")
    ) == (
        ("accounts[1]", "5 must be a mapping, not an int"),
        ("accounts[2]", "'x' must be a mapping, not a string"),
        ("acount", "unknown key, did you mean 'accounts'?"),
    )
    assert problems_of(lambda: entries({"accounts": {"a": 1}}, "accounts")) == (
        ("accounts", "{'a': 1} must be a list"),
    )
    assert problems_of(lambda: entries([ACCOUNT], "accounts")) == (
        (
            "",
            (
                "[{'customer': 'Garage Petit', 'product': 'TBox', 'reseller': 'Revendeur Ouest', "
                "'seats': 6, ...}] must be a mapping such as {'accounts': [...]}, not a list"
            ),
        ),
    )
    with pytest.raises(CardDataError, match=r"^accounts\[0\]\.card\.cvc: "):
        entries({"accounts": [{**ACCOUNT, "card": {"cvc": "1"}}]}, "accounts")


def test_problems_prefix_inner_paths_and_let_refusals_through():
    problems = Problems()
    with problems.at("subscriptions[2]"):
        raise InputError([("start", "is missing"), ("", "bad")])
    with problems.at("subscriptions[3]"):
        Money("x", "EUR")
    assert problems.found == [
        ("subscriptions[2].start", "is missing"),
        ("subscriptions[2]", "bad"),
        ("subscriptions[3]", "amount='x' must be a decimal number such as \"19.99\""),
    ]
    with pytest.raises(RefusedError), problems.at("x"):
        Subscription.from_mapping({**SUBSCRIPTION, "modules": ["stock"]}, catalog=CATALOG)
    with pytest.raises(CardDataError), problems.at("x"):
        refuse_card_codes({"cvc": 1})
    with pytest.raises(InputError) as caught:
        problems.check()
    assert len(caught.value.problems) == 3


def test_input_errors_list_one_problem_per_line_and_survive_pickling():
    error = InputError([("a", "one"), ("", "two"), ("b[0]", "three")])
    assert str(error) == "a: one\ntwo\nb[0]: three"
    assert error.code == "invalid_input"
    assert isinstance(error, ValueError)
    copied = pickle.loads(pickle.dumps(error))
    assert (type(copied), copied.problems) == (InputError, error.problems)


# -- subscriptions ----------------------------------------------------------------------------


def test_subscription_from_mapping_equals_create():
    read = Subscription.from_mapping(SUBSCRIPTION, catalog=CATALOG)
    assert read == Subscription.create(
        id="S1",
        customer="Boulangerie Martin",
        catalog=CATALOG,
        plan="essentiel",
        start=date(2026, 3, 1),
        modules=("crm",),
        tax_rates=(TaxRate(name="TVA 20 %", percent="20"),),
    )
    more = Subscription.from_mapping(
        {**SUBSCRIPTION, "quantity": "2.5", "billing_day": 15, "payment_method": "pm_1"},
        catalog=CATALOG,
    )
    assert (more.quantity, more.billing_day, more.payment_method) == (Decimal("2.5"), 15, "pm_1")


def test_subscription_from_mapping_reports_every_bad_field_at_once():
    data = {
        **SUBSCRIPTION,
        "customer": "",
        "start": "2026-02-30",
        "frequency": "fortnightly",
        "quantity": 2.0,
        "billing_day": True,
        "tax": {"name": "TVA", "percent": 20.0},
        "modlues": ["crm"],
    }
    assert problems_of(lambda: Subscription.from_mapping(data, catalog=CATALOG)) == (
        ("customer", "'' must be a non-empty text"),
        (
            "start",
            "'2026-02-30' is not a date (day is out of range for month); expected YYYY-MM-DD",
        ),
        (
            "frequency",
            (
                "frequency='fortnightly' must be a name (annual, biennial, bimonthly, biweekly, "
                "daily, monthly, quarterly, semiannual, weekly, yearly), an ISO 8601 duration such "
                "as 'P3M', or words such as '2 weeks'"
            ),
        ),
        ("billing_day", "True must be a whole number, not a bool"),
        (
            "quantity",
            (
                "quantity=2.0 is a float, which cannot hold an exact amount; write it as a string "
                'such as "2.0" (or pass a Decimal)'
            ),
        ),
        (
            "tax.percent",
            (
                "percent=20.0 is a float, which cannot hold an exact amount; write it as a string "
                'such as "20.0" (or pass a Decimal)'
            ),
        ),
        ("modlues", "unknown key, did you mean 'modules'?"),
    )


def test_subscription_codes_are_checked_against_the_catalog_with_their_paths():
    data = {**SUBSCRIPTION, "plan": "gold", "modules": ["crm", "crn"], "addons": ["multi"]}
    assert problems_of(lambda: Subscription.from_mapping(data, catalog=CATALOG)) == (
        ("plan", "plan='gold' is not in the catalog; known: business, essentiel, pro"),
        (
            "modules[1]",
            "module='crn' is not in the catalog; known: agenda, crm, multidepot, rapports, stock",
        ),
        ("addons[0]", "addon='multi' is not in the catalog; known: multisoc"),
    )


def test_subscription_refusals_stay_refusals():
    with pytest.raises(RefusedError) as caught:
        Subscription.from_mapping({**SUBSCRIPTION, "modules": ["stock"]}, catalog=CATALOG)
    assert caught.value.refusal.code == "requires_plan"


def test_subscription_errors_of_the_whole_are_reported_on_the_document():
    data = {**SUBSCRIPTION, "frequency": "quarterly"}
    assert problems_of(lambda: Subscription.from_mapping(data, catalog=CATALOG)) == (
        ("", "plan 'essentiel' has no price for frequency=P3M; sold as P1M, P1Y"),
    )


def test_a_card_code_in_a_subscription_is_refused():
    data = {**SUBSCRIPTION, "tax": [TVA, {**TVA, "security_code": "123"}]}
    with pytest.raises(CardDataError, match=r"^tax\[1\]\.security_code: "):
        Subscription.from_mapping(data, catalog=CATALOG)


# -- licence accounts -------------------------------------------------------------------------


def test_license_account_from_mapping_reads_strings_and_toml_dates():
    expected = account(reseller="Revendeur Ouest")
    assert LicenseAccount.from_mapping(ACCOUNT) == expected
    assert LicenseAccount.from_mapping({**ACCOUNT, "start": date(2025, 9, 15)}) == expected


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"seats": 0}, ("seats", "0 must be an int >= 1")),
        ({"seats": "6"}, ("seats", "'6' must be a whole number, not a string")),
        ({"seats": 6.0}, ("seats", "6.0 must be a whole number, not a float")),
        ({"years": False}, ("years", "False must be a whole number, not a bool")),
        ({"customer": " "}, ("customer", "' ' must be a non-empty text")),
        ({"reseller": ""}, ("reseller", "'' must be a non-empty text")),
        (
            {"start": "15/09/2025"},
            (
                "start",
                (
                    "'15/09/2025' is not a date (Invalid isoformat string: '15/09/2025'); "
                    "expected YYYY-MM-DD"
                ),
            ),
        ),
        (
            {"start": 20250915},
            ("start", "20250915 must be a date such as '2026-03-01', not an int"),
        ),
        ({"seat": 6}, ("seat", "unknown key, did you mean 'seats'?")),
    ],
)
def test_bad_license_accounts_are_named(changes, problem):
    assert problems_of(lambda: LicenseAccount.from_mapping({**ACCOUNT, **changes})) == (problem,)


# -- payment links and quotes -----------------------------------------------------------------


def test_payment_link_from_mapping_equals_the_link_built_by_hand():
    fidelite = Discount.per_unit_amount_off("FIDELITE", eur("50"), duration=Duration.months(3))
    expected = PaymentLink(
        id="L1",
        currency="EUR",
        lines=(website(), seo(name="Référencement (SEO)", payments=12, discounts=(fidelite,))),
        discounts=(Discount.percent_off("LANCEMENT", "10", duration=Duration.once()),),
    )
    assert PaymentLink.from_mapping(LINK) == expected
    without_id = {key: value for key, value in LINK.items() if key != "id"}
    assert PaymentLink.from_mapping(without_id, default_id="L1") == expected
    assert problems_of(lambda: PaymentLink.from_mapping(without_id)) == (("id", "is missing"),)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("immediately", BillingStart.immediately()),
        ({"on": "2026-03-01"}, BillingStart.on(date(2026, 3, 1))),
        ({"after_days": 10}, BillingStart.after_days(10)),
    ],
)
def test_payment_link_billing_starts(start, expected):
    data = changed(LINK, lambda d: d["lines"][1].update(start=start))
    assert PaymentLink.from_mapping(data).lines[1].billing_start == expected


def test_payment_link_reports_every_bad_field_of_every_line_at_once():
    def breaks(d):
        d["currency"] = "EUX"
        d["lines"][0]["unit_price"] = 3000.0
        d["lines"][0]["quantity"] = True
        d["lines"][1]["name"] = ""
        d["lines"][1]["start"] = {"after_months": 6, "after_days": 3}
        d["lines"][1]["payments"] = 0
        d["lines"][1]["discounts"][0]["percent"] = "10"
        d["discounts"][0]["periods"] = 2
        d["discounts"].append({"code": "X", "amount": "-5"})
        d["lignes"] = []

    data = changed(LINK, breaks)
    assert problems_of(lambda: PaymentLink.from_mapping(data)) == (
        (
            "currency",
            (
                "currency='EUX' is not an ISO 4217 currency code; expected three letters such as "
                "'EUR', 'USD' or 'JPY'"
            ),
        ),
        (
            "lines[0].unit_price",
            (
                "amount=3000.0 is a float, which cannot hold an exact amount; write it as a string "
                'such as "3000.0" (or pass a Decimal)'
            ),
        ),
        ("lines[0].quantity", "quantity=True must be a str, an int or a Decimal, not a bool"),
        ("lines[1].name", "'' must be a non-empty text"),
        (
            "lines[1].start",
            (
                "{'after_days': 3, 'after_months': 6} must hold exactly one key: 'immediately', "
                "{'after_months': N}, {'after_days': N} or {'on': 'YYYY-MM-DD'}"
            ),
        ),
        ("lines[1].payments", "0 must be an int >= 1"),
        ("lignes", "unknown key, did you mean 'lines'?"),
    )
    # Once the shape is right, the values that need the currency are checked, all at once.
    data = changed(LINK, lambda d: d["lines"][1]["discounts"][0].update(percent="10"))
    data["discounts"][0]["periods"] = 2
    data["discounts"].append({"code": "X", "amount": "-5"})
    assert problems_of(lambda: PaymentLink.from_mapping(data)) == (
        ("lines[1].discounts[0]", "discount 'FIDELITE' needs one of percent or amount"),
        ("discounts[0]", "give one of once, periods, months; not once and periods"),
        ("discounts[1]", "amount=Money('-5', 'EUR') of discount 'X' must be a Money > 0"),
    )


def test_payment_link_line_errors_of_the_whole_line_name_the_line():
    data = changed(LINK, lambda d: d["lines"][0].update(payments=3))
    assert problems_of(lambda: PaymentLink.from_mapping(data)) == (
        ("lines[0]", "line 'site' is one-time: payments= and end= need a frequency="),
    )


def test_quote_from_mapping_is_a_draft_with_the_lines_of_a_link():
    quote = Quote.from_mapping(QUOTE)
    assert quote.status is QuoteStatus.DRAFT
    assert quote.valid_until == date(2026, 3, 31)
    assert quote.lines == PaymentLink.from_mapping(LINK).lines
    assert problems_of(
        lambda: Quote.from_mapping({**QUOTE, "valid_until": None, "status": "sent"})
    ) == (
        ("valid_until", "None must be a date such as '2026-03-01', not null"),
        (
            "status",
            (
                "unknown key; expected currency, customer, discounts, id, lines, "
                "payment_terms_days, trial, valid_until"
            ),
        ),
    )


def test_a_card_code_in_a_payment_link_is_refused():
    data = changed(LINK, lambda d: d["lines"][1].update(card={"number": "4242", "CVV": "1"}))
    with pytest.raises(CardDataError, match=r"^lines\[1\]\.card\.CVV: "):
        PaymentLink.from_mapping(data)
    with pytest.raises(CardDataError, match=r"^cvc: "):
        Quote.from_mapping({**QUOTE, "cvc": "123"})


# -- properties -------------------------------------------------------------------------------

_PLAN_FIELDS = {"code", "name", "rank", "prices", "limits", "modules", "usage"}
_keys = st.text(min_size=1, max_size=12).filter(
    lambda key: (
        key not in _PLAN_FIELDS and key.strip().lower().replace("-", "_") not in CARD_SECURITY_KEYS
    )
)


@given(key=_keys, plan=st.integers(0, 2), value=st.none() | st.integers() | st.text())
def test_an_unknown_key_is_always_refused_with_its_path(key, plan, value):
    data = changed(SEED_CATALOG_DATA, lambda d: d["plans"][plan].update({key: value}))
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(data)
    assert len(caught.value.problems) == 1
    path, message = caught.value.problems[0]
    assert path.startswith(f"plans[{plan}]")
    assert path in (f"plans[{plan}].{key}", f"plans[{plan}][{show(key)}]")
    assert message.startswith("unknown key")


@given(
    price=st.floats(allow_nan=True, allow_infinity=True) | st.booleans(),
    where=st.sampled_from([("plans", 0), ("plans", 2), ("modules", 1), ("addons", 0)]),
)
def test_a_float_or_a_bool_is_never_read_as_a_price(price, where):
    kind, index = where
    data = changed(SEED_CATALOG_DATA, lambda d: d[kind][index]["prices"].update(monthly=price))
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(data)
    assert caught.value.problems[0][0] == f"{kind}[{index}].prices.monthly"
    assert ("is a float" in str(caught.value)) != isinstance(price, bool)


@given(
    prices=st.dictionaries(
        st.sampled_from(["monthly", "annual", "quarterly", "P2M"]),
        st.decimals(min_value=0, max_value=10**6, places=2) | st.integers(0, 10**6),
    ),
    limits=st.dictionaries(_keys, st.none() | st.integers(0, 10**9)),
)
def test_a_valid_plan_reads_back_exactly(prices, limits):
    written = {
        key: str(value) if isinstance(value, Decimal) else value for key, value in prices.items()
    }
    data = {
        "currency": "EUR",
        "plans": [{"code": "p", "name": "P", "rank": 1, "prices": written, "limits": limits}],
    }
    plan = Catalog.from_mapping(data).plan("p")
    assert dict(plan.prices) == {
        Frequency.parse(key): Money(value, "EUR") for key, value in prices.items()
    }
    assert dict(plan.limits) == limits

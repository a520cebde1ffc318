import copy
import pickle
from decimal import Decimal

import pytest

from subbill import (
    ANNUAL,
    MONTHLY,
    AddOn,
    Catalog,
    Frequency,
    InvalidArgumentError,
    InvalidTypeError,
    Module,
    Money,
    OutOfBoundsError,
    Plan,
)
from subbill.catalog import CatalogError, ChangeTiming, UnknownCodeError
from subbill.errors import CardDataError, InputError, UnknownCurrencyError
from tests.seed_catalog import SEED_CATALOG_DATA, seed_catalog


def test_seed_catalog_reads_from_plain_data():
    catalog = seed_catalog()
    assert [p.code for p in catalog.plans] == ["essentiel", "pro", "business"]
    pro = catalog.plan("pro")
    assert pro.price(MONTHLY) == Money("59.00", "EUR")
    assert pro.price(ANNUAL) == Money("590.00", "EUR")
    assert pro.limit("clients") == 1000
    assert catalog.plan("business").limit("clients") is None
    assert catalog.plan("essentiel").limit("tickets") is None  # not listed: unlimited
    assert pro.includes("rapports")
    assert catalog.module("agenda").is_free
    assert catalog.module("multidepot").requires == {"multisoc"}
    assert catalog.policy.downgrade is ChangeTiming.PERIOD_END
    assert catalog.next_plan_up("pro").code == "business"
    assert catalog.next_plan_down("essentiel") is None
    assert [p.code for p in catalog.plans_allowing("stock")] == ["pro", "business"]


def _broken(change):
    data = copy.deepcopy(SEED_CATALOG_DATA)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["plans"][2]["limits"].update(clients=-5),
            r"^plans\[2\]\.limits\.clients: limit=-5 must be an int >= 0$",
        ),
        (
            lambda d: d["plans"][1].update(rank=1),
            r"^plans\[1\]\.rank: 1 is already the rank of plan 'essentiel'",
        ),
        (lambda d: d["plans"][0].pop("name"), r"^plans\[0\]\.name: is missing$"),
        (
            lambda d: d["plans"][0]["prices"].update(monthly=29.0),
            r"^plans\[0\]\.prices\.monthly: amount=29\.0 is a float",
        ),
        (
            lambda d: d["plans"][0]["prices"].update(fortnightly="1"),
            r"^plans\[0\]\.prices\.fortnightly: frequency=",
        ),
        (
            lambda d: d["modules"][1]["plans"].append("gold"),
            r"^modules\[1\]\.plans: unknown plan 'gold'$",
        ),
        (
            lambda d: d["modules"][2]["requires"].append("nope"),
            r"^modules\[2\]\.requires: unknown add-on 'nope'$",
        ),
        (
            lambda d: d["plans"][0].update(modules=["ghost"]),
            r"^plans\[0\]\.modules: unknown module 'ghost'$",
        ),
        (
            lambda d: d["modules"][0].update(code="pro"),
            r"^modules\[0\]\.code: 'pro' is already used by plans\[1\]$",
        ),
        (lambda d: d.update(currency="EUX"), r"^currency: currency='EUX' is not an ISO 4217"),
        (
            lambda d: d["policy"].update(upgrade="later"),
            r"^policy\.upgrade: 'later' must be 'immediate' or 'period_end'$",
        ),
        (lambda d: d.update(plans="x"), r"^plans: 'x' must be a list$"),
    ],
)
def test_bad_catalog_data_names_the_path(change, message):
    with pytest.raises(CatalogError, match=message):
        Catalog.from_mapping(_broken(change))


def test_requirement_cycles_are_refused():
    with pytest.raises(CatalogError, match=r"requirement cycle a → b → a"):
        Catalog(
            currency="EUR",
            addons=[
                AddOn(code="a", name="A", requires={"b"}),
                AddOn(code="b", name="B", requires={"a"}),
            ],
        )


def test_prices_must_be_in_the_catalog_currency():
    with pytest.raises(
        CatalogError, match=r"plans\[0\]\.prices\[0\]: 1 USD is not in the catalog's currency EUR"
    ):
        Catalog(
            currency="EUR",
            plans=[Plan(code="p", name="P", rank=1, prices={MONTHLY: Money("1", "USD")})],
        )


def test_unknown_code_lists_the_known_ones():
    with pytest.raises(
        UnknownCodeError, match="plan='gold' is not in the catalog; known: business, essentiel, pro"
    ):
        seed_catalog().plan("gold")


# -- strict reading of plain data (issue 10) ----------------------------------------------------

_ESSENTIEL = {
    "code": "essentiel",
    "name": "Essentiel",
    "rank": 1,
    "prices": {"monthly": "29.00"},
    "limits": {"clients": 100},
}


def _one_plan(**changes):
    plan = {**_ESSENTIEL, **changes}
    return {"currency": "EUR", "plans": [{k: v for k, v in plan.items() if v is not None}]}


def test_a_typo_in_limits_is_refused_instead_of_making_the_plan_unlimited():
    data = _one_plan(limits=None, limts={"clients": 100})
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(data)
    assert str(caught.value) == "plans[0].limts: unknown key, did you mean 'limits'?"
    assert caught.value.problems == (("plans[0].limts", "unknown key, did you mean 'limits'?"),)


def test_a_typo_in_prices_is_refused_instead_of_making_the_plan_free():
    data = _one_plan(prices=None, price={"monthly": "29.00"})
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(data)
    assert str(caught.value) == "plans[0].price: unknown key, did you mean 'prices'?"


def test_an_unknown_key_without_a_close_match_lists_the_known_ones():
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(_one_plan(seats=3))
    assert str(caught.value) == (
        "plans[0].seats: unknown key; expected code, limits, modules, name, prices, rank, usage"
    )


def test_every_bad_field_of_the_data_is_reported_at_once():
    data = copy.deepcopy(SEED_CATALOG_DATA)
    data["plans"][0]["limts"] = data["plans"][0].pop("limits")
    data["plans"][1]["name"] = ""
    data["plans"][1]["prices"]["monthly"] = 59.9
    data["plans"][2]["rank"] = True
    data["modules"][1]["prices"]["annual"] = "-90.00"
    data["addons"][0]["requires"] = "multisoc"
    data["policy"]["upgrade"] = "now"
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(data)
    assert caught.value.problems == (
        ("plans[1].name", "'' must be a non-empty text"),
        (
            "plans[1].prices.monthly",
            (
                "amount=59.9 is a float, which cannot hold an exact amount; write it as a "
                'string such as "59.9" (or pass a Decimal)'
            ),
        ),
        ("plans[2].rank", "True must be a whole number, not a bool"),
        ("modules[1].prices.annual", "amount='-90.00' must be >= 0"),
        ("addons[0].requires", "'multisoc' must be a list"),
        ("policy.upgrade", "'now' must be 'immediate' or 'period_end'"),
        ("plans[0].limts", "unknown key, did you mean 'limits'?"),
    )
    assert str(caught.value).splitlines()[0] == "plans[1].name: '' must be a non-empty text"
    assert len(str(caught.value).splitlines()) == 7
    assert caught.value.path == "plans[1].name"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rank": "1"}, "plans[0].rank: '1' must be a whole number, not a string"),
        ({"rank": 1.0}, "plans[0].rank: 1.0 must be a whole number, not a float"),
        ({"rank": [1]}, "plans[0].rank: [1] must be a whole number, not a list"),
        ({"code": "  "}, "plans[0].code: '  ' must be a non-empty text"),
        ({"name": 7}, "plans[0].name: 7 must be a text, not an int"),
        ({"prices": {"monthly": True}}, "plans[0].prices.monthly: amount=True must be a str"),
        ({"prices": {"monthly": "-0.01"}}, "plans[0].prices.monthly: amount='-0.01' must be >= 0"),
        ({"prices": {"monthly": -29}}, "plans[0].prices.monthly: amount=-29 must be >= 0"),
        ({"prices": ["29.00"]}, "plans[0].prices: ['29.00'] must be a mapping"),
        (
            {"limits": {"clients": True}},
            "plans[0].limits.clients: True must be a whole number, not a bool",
        ),
        (
            {"limits": {"clients": 1.5}},
            "plans[0].limits.clients: 1.5 must be a whole number, not a float",
        ),
        (
            {"limits": {"clients": "100"}},
            "plans[0].limits.clients: '100' must be a whole number, not a string",
        ),
        ({"limits": {"clients": -1}}, "plans[0].limits.clients: limit=-1 must be an int >= 0"),
        ({"modules": "rapports"}, "plans[0].modules: 'rapports' must be a list"),
        ({"modules": [""]}, r"plans[0].modules[0]: '' must be a non-empty text"),
    ],
)
def test_bad_values_are_refused_with_their_path(changes, message):
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(_one_plan(**changes))
    assert str(caught.value).startswith(message)
    assert len(caught.value.problems) == 1


def test_prices_as_strings_and_ints_are_read_exactly():
    catalog = Catalog.from_mapping(_one_plan(prices={"monthly": "29.90", "annual": 299}))
    plan = catalog.plan("essentiel")
    assert plan.price(MONTHLY) == Money("29.90", "EUR")
    assert plan.price(ANNUAL) == Money("299", "EUR")
    assert Catalog.from_mapping(_one_plan(prices={"monthly": 0})).plan("essentiel").price(
        MONTHLY
    ) == Money("0", "EUR")


def test_a_card_security_code_anywhere_in_the_catalog_is_refused():
    data = copy.deepcopy(SEED_CATALOG_DATA)
    data["plans"][1]["limits"]["cvv"] = 123
    with pytest.raises(CardDataError, match=r"^plans\[1\]\.limits\.cvv: a card security code"):
        Catalog.from_mapping(data)


def test_catalog_data_that_is_not_a_mapping_is_refused():
    with pytest.raises(CatalogError, match=r"^\['EUR'\] must be a mapping"):
        Catalog.from_mapping(["EUR"])  # type: ignore[arg-type]
    with pytest.raises(CatalogError, match=r"^currency: is missing$"):
        Catalog.from_mapping({})


def test_catalog_errors_are_input_errors_and_survive_pickling():
    with pytest.raises(InputError) as caught:
        Catalog.from_mapping(_one_plan(limts={}, name=""))
    error = caught.value
    assert isinstance(error, CatalogError)
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is CatalogError
    assert copied.problems == error.problems
    assert str(copied) == str(error)


# -- review of issue 10: conflicting prices, bad constructor arguments ---------------------------


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (
            {"annual": "100", "P12M": "2", "P1Y": "5"},
            (
                "plans[0].prices.P12M: frequency 'P12M' is the same as 'annual' (P1Y); "
                "a frequency has one price"
            ),
        ),
        (
            {"monthly": "1", "Monthly": "2"},
            (
                "plans[0].prices.Monthly: frequency 'Monthly' is the same as 'monthly' (P1M); "
                "a frequency has one price"
            ),
        ),
    ],
)
def test_two_prices_for_one_frequency_are_refused_with_the_path(prices, message):
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(_one_plan(prices=prices))
    assert str(caught.value).splitlines()[0] == message
    assert caught.value.path == message.split(":")[0]


def test_every_conflicting_price_is_reported_for_modules_and_addons_too():
    data = {
        "currency": "EUR",
        "modules": [{"code": "m", "name": "M", "prices": {"P3M": "1", "quarterly": "1"}}],
        "addons": [{"code": "a", "name": "A", "prices": {"P1W": "1", "weekly": "2"}}],
    }
    with pytest.raises(CatalogError) as caught:
        Catalog.from_mapping(data)
    assert [path for path, _ in caught.value.problems] == [
        "modules[0].prices.quarterly",
        "addons[0].prices.weekly",
    ]


@pytest.mark.parametrize("kind", [Plan, Module, AddOn])
def test_the_constructors_refuse_two_prices_for_one_frequency(kind):
    extra = {"rank": 1} if kind is Plan else {}
    prices = ((ANNUAL, Money("100", "EUR")), (Frequency.years(1), Money("5", "EUR")))
    with pytest.raises(InvalidArgumentError, match=r"^prices has two prices for P1Y: 100 EUR"):
        kind(code="x", name="X", prices=prices, **extra)


@pytest.mark.parametrize(("limit", "shown"), [(-5, "-5"), (True, "True"), ("10", "'10'")])
def test_a_catalog_built_by_hand_names_a_bad_limit_by_its_path(limit, shown):
    plan = Plan(code="p", name="P", rank=1, limits={"clients": 10, "documents": limit})
    with pytest.raises(CatalogError) as caught:
        Catalog(currency="EUR", plans=[plan])
    assert caught.value.path == "plans[0].limits.documents"
    assert str(caught.value) == f"plans[0].limits.documents: limit={shown} must be an int >= 0"


def test_a_catalog_holds_plans_modules_and_addons_only():
    with pytest.raises(InvalidTypeError, match=r"^plans\[0\]='x' must be a Plan"):
        Catalog(currency="EUR", plans=["x"])
    with pytest.raises(InvalidTypeError, match=r"^modules\[1\]=None must be a Module"):
        Catalog(currency="EUR", modules=[Module(code="m", name="M"), None])
    with pytest.raises(InvalidTypeError, match=r"^addons\[0\]=.*Plan.* must be an AddOn"):
        Catalog(currency="EUR", addons=[Plan(code="p", name="P", rank=1)])
    with pytest.raises(InvalidTypeError, match=r"^plans='pro' must be a list of Plan"):
        Catalog(currency="EUR", plans="pro")
    with pytest.raises(InvalidTypeError, match=r"^plans=5 must be a list of Plan"):
        Catalog(currency="EUR", plans=5)


@pytest.mark.parametrize("rank", [None, "1", 1.5, True, Decimal(1)])
def test_a_rank_is_an_int(rank):
    with pytest.raises(InvalidTypeError, match=r"^rank=.* must be an int"):
        Plan(code="p", name="P", rank=rank)


def test_a_plan_without_a_rank_never_reaches_the_catalog_sort():
    with pytest.raises(InvalidTypeError, match=r"^rank=None must be an int"):
        Catalog(
            currency="EUR",
            plans=[Plan(code="a", name="A", rank=None), Plan(code="b", name="B", rank=2)],
        )


def test_two_huge_equal_ranks_give_a_short_message():
    with pytest.raises(CatalogError, match=r"is already the rank of plan 'a'") as caught:
        Catalog(
            currency="EUR",
            plans=[
                Plan(code="a", name="A", rank=10**5000),
                Plan(code="b", name="B", rank=10**5000),
            ],
        )
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    ("prices", "error", "message"),
    [
        ({MONTHLY: "29"}, InvalidTypeError, r"^prices\[P1M\]='29' must be a Money"),
        ({MONTHLY: 29}, InvalidTypeError, r"^prices\[P1M\]=29 must be a Money"),
        (
            {"monthly": Money("29", "EUR")},
            InvalidTypeError,
            r"^prices key='monthly' must be a Frequency .*Frequency\.parse\('monthly'\)",
        ),
        ({None: Money("29", "EUR")}, InvalidTypeError, r"^prices key=None must be a Frequency"),
        (
            {MONTHLY: Money("-1", "EUR")},
            InvalidArgumentError,
            r"^prices\[P1M\]=Money\('-1', 'EUR'\) must be >= 0",
        ),
        (
            {MONTHLY: Money("1", "EUR") / 3},
            OutOfBoundsError,
            r"^prices\[P1M\]=Money\('0\.333",
        ),
        (["29"], InvalidTypeError, r"^prices=\['29'\] must be a mapping of Frequency to Money"),
        ("29", InvalidTypeError, r"^prices='29' must be a mapping of Frequency to Money"),
    ],
)
@pytest.mark.parametrize("kind", [Plan, Module, AddOn])
def test_the_constructors_refuse_bad_prices(kind, prices, error, message):
    extra = {"rank": 1} if kind is Plan else {}
    with pytest.raises(error, match=message):
        kind(code="x", name="X", prices=prices, **extra)


def test_a_price_given_as_a_mapping_or_as_pairs_is_kept():
    by_mapping = Plan(code="p", name="P", rank=1, prices={MONTHLY: Money("29", "EUR")})
    by_pairs = Plan(code="p", name="P", rank=1, prices=[(MONTHLY, Money("29", "EUR"))])
    assert by_mapping == by_pairs
    assert by_pairs.price(MONTHLY) == Money("29", "EUR")


@pytest.mark.parametrize(
    ("currency", "error", "message"),
    [
        (None, InvalidTypeError, r"^currency=None must be an ISO 4217 currency code"),
        (978, InvalidTypeError, r"^currency=978 must be an ISO 4217 currency code"),
        ("EUX", UnknownCurrencyError, r"^currency='EUX' is not an ISO 4217"),
    ],
)
def test_a_catalog_currency_is_an_iso_code(currency, error, message):
    with pytest.raises(error, match=message):
        Catalog(currency=currency)


def test_a_catalog_currency_is_normalised_like_money():
    plan = Plan(code="p", name="P", rank=1, prices={MONTHLY: Money("1", "eur")})
    catalog = Catalog(currency="eur", plans=[plan])
    assert catalog.currency == "EUR"


def test_a_catalog_policy_is_a_change_policy():
    with pytest.raises(InvalidTypeError, match=r"^policy='x' must be a ChangePolicy"):
        Catalog(currency="EUR", policy="x")

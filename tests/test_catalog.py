import copy

import pytest

from subbill import (
    ANNUAL,
    MONTHLY,
    AddOn,
    Catalog,
    CatalogError,
    ChangeTiming,
    Money,
    Plan,
    UnknownCodeError,
)
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
            r"^plans\[2\]\.limits\.clients: -5 must be an int >= 0 or None$",
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

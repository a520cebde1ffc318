"""Bad input documents: catalog, subscriptions, accounts, payment links and quotes.

Each document is read through its ``from_mapping`` (the data must be left as it was) and
through the command line's readers of a file (the command itself must then exit with
status 2, print one ``FILE: path: message`` line per problem and leave the database as it
was): typos, wrong types, floats, bools, negative prices, empty names, card security codes
at various depths.
"""

import copy
import functools
import io
import json
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from subbill import Catalog, LicenseAccount, PaymentLink, Quote, RefusedError, Subscription, cli
from subbill._structure import entries
from subbill.catalog import CatalogError
from subbill.errors import CardDataError, InputError
from tests.adversarial import Case, kept_folder
from tests.builders import VAT_FIELDS as TVA
from tests.builders import account_fields, subscription_fields
from tests.seed_catalog import SEED_CATALOG_DATA, seed_catalog

CATALOG = seed_catalog()
CATALOG_FILE = Path(__file__).parent.parent.parent / "examples" / "catalogue_saas.json"
SUBSCRIPTION = subscription_fields(plan="pro", modules=["stock"])
del SUBSCRIPTION["frequency"]  # these cases leave the frequency to the plan's default
ACCOUNT = account_fields()
LINE = {"code": "site", "name": "Site web", "unit_price": "3000.00", "tax": TVA}
RECURRING = {
    "code": "seo",
    "name": "SEO",
    "unit_price": "500.00",
    "frequency": "monthly",
    "start": {"after_months": 6},
    "payments": 12,
}
DISCOUNT = {"code": "LANCEMENT", "percent": "10", "once": True}
LINK = {"id": "L1", "currency": "EUR", "lines": [LINE, RECURRING], "discounts": [DISCOUNT]}
QUOTE = {
    "id": "Q1",
    "customer": "Garage Petit",
    "currency": "EUR",
    "valid_until": "2026-03-31",
    "lines": [LINE],
}

Change = Callable[[Any], object]


def _changed(document: Any, change: Change) -> Any:
    data = copy.deepcopy(document)
    change(data)
    return data


def _set(*path: Any, value: Any) -> Change:
    """A change that sets ``data[path…] = value``."""

    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


def _rename(*path: Any, to: str) -> Change:
    """A change that renames the key ``data[path…]`` to ``to`` (a typo)."""

    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[to] = data.pop(path[-1])

    return change


def _drop(*path: Any) -> Change:
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return change


def _mapping_case(
    case_id: str, read: Callable[[Any], object], data: Any, error: type[BaseException]
) -> Case:
    """Read ``data`` with ``read``; the data itself must be left unchanged."""
    snapshot = copy.deepcopy(data)
    return Case(case_id, lambda: read(data), error, lambda: data == snapshot)


# -- through from_mapping -----------------------------------------------------------------------

_CATALOG_CHANGES: list[tuple[str, Change, type[BaseException]]] = [
    ("plan-limts-typo", _rename("plans", 0, "limits", to="limts"), CatalogError),
    ("plan-price-typo", _rename("plans", 1, "prices", to="price"), CatalogError),
    ("module-require-typo", _rename("modules", 2, "requires", to="require"), CatalogError),
    ("policy-upgarde-typo", _rename("policy", "upgrade", to="upgarde"), CatalogError),
    ("top-addon-typo", _rename("addons", to="addon"), CatalogError),
    ("price-float", _set("plans", 0, "prices", "monthly", value=29.9), CatalogError),
    ("price-float-whole", _set("plans", 0, "prices", "annual", value=290.0), CatalogError),
    ("price-bool", _set("plans", 0, "prices", "monthly", value=True), CatalogError),
    ("price-negative-str", _set("plans", 1, "prices", "monthly", value="-59.00"), CatalogError),
    ("price-negative-int", _set("modules", 1, "prices", "monthly", value=-9), CatalogError),
    ("price-comma", _set("plans", 0, "prices", "monthly", value="29,00"), CatalogError),
    ("price-nan", _set("addons", 0, "prices", "monthly", value="NaN"), CatalogError),
    ("price-infinity", _set("plans", 2, "prices", "annual", value="Infinity"), CatalogError),
    ("price-list", _set("plans", 0, "prices", "monthly", value=["29.00"]), CatalogError),
    ("prices-list", _set("plans", 0, "prices", value=["29.00"]), CatalogError),
    ("price-frequency", _set("plans", 0, "prices", "fortnightly", value="9"), CatalogError),
    ("rank-bool", _set("plans", 0, "rank", value=True), CatalogError),
    ("rank-str", _set("plans", 0, "rank", value="1"), CatalogError),
    ("rank-float", _set("plans", 0, "rank", value=1.0), CatalogError),
    ("limit-float", _set("plans", 0, "limits", "clients", value=100.5), CatalogError),
    ("limit-bool", _set("plans", 0, "limits", "clients", value=False), CatalogError),
    ("limit-negative", _set("plans", 1, "limits", "documents", value=-1), CatalogError),
    ("limit-str", _set("plans", 0, "limits", "clients", value="100"), CatalogError),
    ("name-empty", _set("plans", 0, "name", value=""), CatalogError),
    ("name-blank", _set("modules", 0, "name", value="   "), CatalogError),
    ("name-null", _set("addons", 0, "name", value=None), CatalogError),
    ("code-empty", _set("plans", 2, "code", value=""), CatalogError),
    ("name-missing", _drop("plans", 1, "name"), CatalogError),
    ("modules-str", _set("plans", 1, "modules", value="rapports"), CatalogError),
    ("currency-missing", _drop("currency"), CatalogError),
    ("currency-unknown", _set("currency", value="EUX"), CatalogError),
    ("plans-mapping", _set("plans", value={"essentiel": {}}), CatalogError),
    ("plan-int", _set("plans", 0, value=5), CatalogError),
    ("policy-value", _set("policy", "downgrade", value="later"), CatalogError),
    ("cvc-top", _set("cvc", value="123"), CardDataError),
    ("cvv-plan", _set("plans", 0, "cvv", value="123"), CardDataError),
    ("security-code-limits", _set("plans", 1, "limits", "security_code", value=1), CardDataError),
    ("cvv2-upper-module", _set("modules", 3, "CVV2", value="1"), CardDataError),
    ("cid-policy", _set("policy", "cid", value="1"), CardDataError),
]

_SUBSCRIPTION_CHANGES: list[tuple[str, Change, type[BaseException]]] = [
    ("strat-typo", _rename("start", to="strat"), InputError),
    ("modlues-typo", _rename("modules", to="modlues"), InputError),
    ("id-empty", _set("id", value=""), InputError),
    ("customer-null", _set("customer", value=None), InputError),
    ("plan-unknown", _set("plan", value="gold"), InputError),
    ("module-unknown", _set("modules", value=["stok"]), InputError),
    ("module-refused", _set("plan", value="essentiel"), RefusedError),
    ("quantity-float", _set("quantity", value=2.5), InputError),
    ("quantity-bool", _set("quantity", value=True), InputError),
    ("quantity-negative", _set("quantity", value="-1"), InputError),
    ("billing-day-bool", _set("billing_day", value=True), InputError),
    ("billing-day-str", _set("billing_day", value="15"), InputError),
    ("billing-day-float", _set("billing_day", value=15.0), InputError),
    ("billing-day-32", _set("billing_day", value=32), InputError),
    ("start-invalid", _set("start", value="2026-02-30"), InputError),
    ("start-int", _set("start", value=20260301), InputError),
    ("frequency-int", _set("frequency", value=1), InputError),
    ("frequency-unsold", _set("frequency", value="quarterly"), InputError),
    ("tax-percent-float", _set("tax", "percent", value=20.0), InputError),
    ("tax-percent-over", _set("tax", "percent", value="120"), InputError),
    ("tax-name-empty", _set("tax", "name", value=""), InputError),
    ("tax-percnet-typo", _rename("tax", "percent", to="percnet"), InputError),
    ("modules-str", _set("modules", value="stock"), InputError),
    ("cvc-tax", _set("tax", "cvc", value="123"), CardDataError),
    ("cvv-top", _set("cvv", value="123"), CardDataError),
]

_ACCOUNT_CHANGES: list[tuple[str, Change, type[BaseException]]] = [
    ("seats-str", _set("seats", value="6"), InputError),
    ("seats-float", _set("seats", value=6.0), InputError),
    ("seats-bool", _set("seats", value=True), InputError),
    ("seats-zero", _set("seats", value=0), InputError),
    ("years-negative", _set("years", value=-1), InputError),
    ("years-missing", _drop("years"), InputError),
    ("yeras-typo", _rename("years", to="yeras"), InputError),
    ("customer-empty", _set("customer", value=""), InputError),
    ("product-null", _set("product", value=None), InputError),
    ("start-month-13", _set("start", value="2025-13-01"), InputError),
    ("reseller-empty", _set("reseller", value=""), InputError),
    ("security-code", _set("security_code", value="123"), CardDataError),
]

_LINK_CHANGES: list[tuple[str, Change, type[BaseException]]] = [
    ("unit-price-float", _set("lines", 0, "unit_price", value=3000.0), InputError),
    ("unit-price-negative", _set("lines", 0, "unit_price", value="-3000"), InputError),
    ("unit-price-bool", _set("lines", 0, "unit_price", value=False), InputError),
    ("unit-price-spaces", _set("lines", 0, "unit_price", value="3 000"), InputError),
    ("unit-prise-typo", _rename("lines", 0, "unit_price", to="unit_prise"), InputError),
    ("quantity-float", _set("lines", 0, "quantity", value=1.5), InputError),
    ("name-empty", _set("lines", 1, "name", value=""), InputError),
    ("code-null", _set("lines", 1, "code", value=None), InputError),
    ("payments-zero", _set("lines", 1, "payments", value=0), InputError),
    ("payments-str", _set("lines", 1, "payments", value="12"), InputError),
    ("payments-bool", _set("lines", 1, "payments", value=True), InputError),
    ("start-after-weeks", _set("lines", 1, "start", value={"after_weeks": 2}), InputError),
    (
        "start-two-keys",
        _set("lines", 1, "start", value={"after_days": 1, "on": "2026-01-01"}),
        InputError,
    ),
    ("start-word", _set("lines", 1, "start", value="soon"), InputError),
    ("start-months-float", _set("lines", 1, "start", value={"after_months": 6.0}), InputError),
    ("end-invalid", _set("lines", 1, "end", value="2026-13-01"), InputError),
    ("one-time-payments", _set("lines", 0, "payments", value=3), InputError),
    ("discount-both", _set("discounts", 0, "amount", value="5"), InputError),
    ("discount-neither", _drop("discounts", 0, "percent"), InputError),
    ("discount-percent-float", _set("discounts", 0, "percent", value=10.0), InputError),
    ("discount-percent-over", _set("discounts", 0, "percent", value="150"), InputError),
    ("discount-once-str", _set("discounts", 0, "once", value="yes"), InputError),
    ("discount-two-durations", _set("discounts", 0, "months", value=3), InputError),
    (
        "discount-amount-negative",
        _set("discounts", 0, value={"code": "X", "amount": "-5"}),
        InputError,
    ),
    ("currency-unknown", _set("currency", value="EUROS"), InputError),
    ("lines-missing", _drop("lines"), InputError),
    ("lignes-typo", _rename("lines", to="lignes"), InputError),
    ("cvc-line", _set("lines", 0, "cvc", value="123"), CardDataError),
    ("security-code-discount", _set("discounts", 0, "Security-Code", value="1"), CardDataError),
    ("cid-start", _set("lines", 1, "start", value={"cid": 1}), CardDataError),
]

_QUOTE_CHANGES: list[tuple[str, Change, type[BaseException]]] = [
    ("valid-until-missing", _drop("valid_until"), InputError),
    ("valid-until-float", _set("valid_until", value=2026.0331), InputError),
    ("customer-empty", _set("customer", value=""), InputError),
    ("status-unknown-key", _set("status", value="sent"), InputError),
    ("lines-str", _set("lines", value="site"), InputError),
    ("id-bool", _set("id", value=True), InputError),
    ("unit-price-float", _set("lines", 0, "unit_price", value=29.9), InputError),
    ("cvv2-line", _set("lines", 0, "cvv2", value="1"), CardDataError),
]


def _subscription(data: Any) -> object:
    return Subscription.from_mapping(data, catalog=CATALOG)


def _link(data: Any) -> object:
    return PaymentLink.from_mapping(data)


_READERS: list[tuple[str, Callable[[Any], object], Any, list[Any]]] = [
    ("catalog", Catalog.from_mapping, SEED_CATALOG_DATA, _CATALOG_CHANGES),
    ("subscription", _subscription, SUBSCRIPTION, _SUBSCRIPTION_CHANGES),
    ("account", LicenseAccount.from_mapping, ACCOUNT, _ACCOUNT_CHANGES),
    ("link", _link, LINK, _LINK_CHANGES),
    ("quote", Quote.from_mapping, QUOTE, _QUOTE_CHANGES),
]

CASES = [
    _mapping_case(f"inputs-{kind}-{name}", read, _changed(base, change), error)
    for kind, read, base, changes in _READERS
    for name, change, error in changes
]
CASES += [
    _mapping_case(f"inputs-{kind}-not-a-mapping", read, [base], InputError)
    for kind, read, base, _ in _READERS
]


# -- through the command line -------------------------------------------------------------------


def _folder() -> Path:
    return kept_folder("subbill-inputs-")


@functools.cache
def _catalog_db() -> bytes:
    """The bytes of a database holding the example catalog (built once)."""
    db = _folder() / "template.db"
    with redirect_stdout(io.StringIO()):
        assert cli.main(["catalog", "load", str(CATALOG_FILE), "--db", str(db)]) == 0
    return db.read_bytes()


_COMMANDS = {
    "catalog": ["catalog", "load"],
    "subscriptions": ["subscriptions", "load"],
    "accounts": ["accounts", "load"],
    "link": ["quote"],
}


def _read_like_the_cli(kind: str, path: Path) -> object:
    """What the command reads from ``path``, with the command line's own readers."""
    data = cli._read_data(str(path))
    if kind == "catalog":
        return Catalog.from_mapping(data)
    if kind == "subscriptions":
        return cli._subscriptions(entries(data, "subscriptions"), CATALOG)
    if kind == "accounts":
        return cli._accounts(entries(data, "accounts"))
    return PaymentLink.from_mapping(data, default_id=path.stem)


def _cli_refuses(kind: str, path: Path) -> bool:
    """The command exits with 2, one ``FILE: …`` line per problem, the database unchanged."""
    db = path.with_suffix(".db")
    if kind == "subscriptions":
        db.write_bytes(_catalog_db())
    before = db.read_bytes() if db.exists() else None
    argv = [*_COMMANDS[kind], str(path)]
    argv += ["--paid-on", "2026-01-15"] if kind == "link" else ["--db", str(db)]
    errors = io.StringIO()
    with redirect_stderr(errors), redirect_stdout(io.StringIO()):
        status = cli.main(argv)
    lines = errors.getvalue().splitlines()
    after = db.read_bytes() if db.exists() else None
    return (
        status == 2
        and bool(lines)
        and all(line.startswith(f"subbill: error: {path}: ") for line in lines)
        and before == after
    )


def _cli_case(
    name: str, kind: str, content: object, error: type[BaseException], *, suffix: str = ".json"
) -> Case:
    def path() -> Path:
        file = _folder() / f"{name}{suffix}"
        if not file.exists():
            text = content if isinstance(content, str) else json.dumps(content)
            file.write_text(text, encoding="utf-8")
        return file

    return Case(
        f"inputs-cli-{name}",
        lambda: _read_like_the_cli(kind, path()),
        error,
        lambda: _cli_refuses(kind, path()),
    )


def _subscriptions(*changes: Change) -> dict[str, object]:
    return {"subscriptions": [_changed(SUBSCRIPTION, change) for change in changes]}


def _accounts(*changes: Change) -> dict[str, object]:
    return {"accounts": [_changed(ACCOUNT, change) for change in changes]}


def _no_change(_data: Any) -> None:
    return None


_TOML_CATALOG = (
    'currency = "EUR"\n[[plans]]\ncode = "solo"\nname = "Solo"\nrank = 1\n'
    "[plans.prices]\nmonthly = {price}\n"
)
_TOML_ACCOUNTS = (
    '[[accounts]]\ncustomer = "Garage"\nproduct = "TBox"\nseats = {seats}\n'
    "start = 2025-09-15\nyears = 1\n"
)

CASES += [
    _cli_case(
        "catalog-limts",
        "catalog",
        _changed(SEED_CATALOG_DATA, _rename("plans", 0, "limits", to="limts")),
        CatalogError,
    ),
    _cli_case(
        "catalog-price-typo",
        "catalog",
        _changed(SEED_CATALOG_DATA, _rename("plans", 2, "prices", to="price")),
        CatalogError,
    ),
    _cli_case(
        "catalog-json-float",
        "catalog",
        '{"currency": "EUR", "plans": [{"code": "a", "name": "A", "rank": 1, '
        '"prices": {"monthly": 29.90}}]}',
        CatalogError,
    ),
    _cli_case(
        "catalog-toml-float",
        "catalog",
        _TOML_CATALOG.format(price="29.90"),
        CatalogError,
        suffix=".toml",
    ),
    _cli_case(
        "catalog-negative",
        "catalog",
        _changed(SEED_CATALOG_DATA, _set("plans", 0, "prices", "monthly", value="-29")),
        CatalogError,
    ),
    _cli_case(
        "catalog-many",
        "catalog",
        _changed(
            _changed(SEED_CATALOG_DATA, _set("plans", 0, "name", value="")),
            _set("plans", 1, "rank", value="2"),
        ),
        CatalogError,
    ),
    _cli_case(
        "catalog-cvc",
        "catalog",
        _changed(SEED_CATALOG_DATA, _set("plans", 0, "limits", "cvc", value=1)),
        CardDataError,
    ),
    _cli_case("catalog-list", "catalog", [SEED_CATALOG_DATA], CatalogError),
    _cli_case(
        "subscriptions-strat",
        "subscriptions",
        _subscriptions(_rename("start", to="strat")),
        InputError,
    ),
    _cli_case(
        "subscriptions-quantity-float",
        "subscriptions",
        '{"subscriptions": [{"id": "S1", "customer": "C", "plan": "pro", '
        '"start": "2026-03-01", "quantity": 2.5}]}',
        InputError,
    ),
    _cli_case(
        "subscriptions-refused-and-typo",
        "subscriptions",
        _subscriptions(_set("plan", value="essentiel"), _rename("plan", to="plna")),
        InputError,
    ),
    _cli_case(
        "subscriptions-twice", "subscriptions", _subscriptions(_no_change, _no_change), InputError
    ),
    _cli_case(
        "subscriptions-cvv-deep",
        "subscriptions",
        _subscriptions(_set("tax", value=[TVA, {"name": "x", "percent": "1", "cvv": "1"}])),
        CardDataError,
    ),
    _cli_case(
        "subscriptions-not-a-list", "subscriptions", {"subscriptions": SUBSCRIPTION}, InputError
    ),
    _cli_case(
        "subscriptions-typo-top", "subscriptions", {"subscription": [SUBSCRIPTION]}, InputError
    ),
    _cli_case("accounts-seats-str", "accounts", _accounts(_set("seats", value="6")), InputError),
    _cli_case(
        "accounts-toml-float",
        "accounts",
        _TOML_ACCOUNTS.format(seats="6.0"),
        InputError,
        suffix=".toml",
    ),
    _cli_case(
        "accounts-toml-bool",
        "accounts",
        _TOML_ACCOUNTS.format(seats="true"),
        InputError,
        suffix=".toml",
    ),
    _cli_case("accounts-yeras", "accounts", _accounts(_rename("years", to="yeras")), InputError),
    _cli_case("accounts-cid", "accounts", _accounts(_set("cid", value="1")), CardDataError),
    _cli_case(
        "accounts-empty-customer", "accounts", _accounts(_set("customer", value="")), InputError
    ),
    _cli_case(
        "link-json-float",
        "link",
        '{"currency": "EUR", "lines": [{"code": "a", "name": "A", "unit_price": 3000.00}]}',
        InputError,
    ),
    _cli_case(
        "link-negative",
        "link",
        _changed(LINK, _set("lines", 0, "unit_price", value="-1")),
        InputError,
    ),
    _cli_case(
        "link-start-typo",
        "link",
        _changed(LINK, _set("lines", 1, "start", value={"after_month": 6})),
        InputError,
    ),
    _cli_case(
        "link-security-code",
        "link",
        _changed(LINK, _set("discounts", 0, "security_code", value="1")),
        CardDataError,
    ),
    _cli_case("link-not-a-mapping", "link", [LINK], InputError),
]

__all__ = ["CASES"]

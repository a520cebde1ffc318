"""Bad inputs found by the review of issue 10: catalogs, usage, discounts and charges.

Conflicting prices for one frequency (in a file and through the constructors), wrong types
given to ``Catalog``/``Plan``/``Module``/``AddOn``, bad arguments to the monthly review,
control characters in discount and charge text, and a 30/360 charge billed every few days.
Each catalog document case also checks that the data read was left as it was.
"""

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from subbill import (
    ANNUAL,
    MONTHLY,
    AddOn,
    Catalog,
    Discount,
    Frequency,
    InvalidArgumentError,
    InvalidTypeError,
    Module,
    Money,
    OneTimeCharge,
    OutOfBoundsError,
    Plan,
    RecurringCharge,
    Subscription,
    bill_subscription,
    explain_invoice,
    monthly_review,
)
from subbill.catalog import CatalogError
from subbill.errors import FloatAmountError, InvalidAmountError, UnknownCurrencyError
from subbill.proration import ProrationBasis
from subbill.usage import recommend_plan
from tests.adversarial import Case
from tests.seed_catalog import seed_catalog

A = "review-catalog-"
CATALOG = seed_catalog()
EUR = Money("29", "EUR")
DAY = date(2026, 3, 1)
SUBSCRIPTION = Subscription.create(id="S1", customer="ACME", catalog=CATALOG, plan="pro", start=DAY)
INVOICE = bill_subscription(SUBSCRIPTION.to_charge_plan(CATALOG), as_of=DAY).invoice


def _document(prices: dict[str, Any], where: str = "plans") -> dict[str, Any]:
    item: dict[str, Any] = {"code": "x", "name": "X", "prices": prices}
    if where == "plans":
        item["rank"] = 1
    return {"currency": "EUR", where: [item]}


def _catalog_case(name: str, data: dict[str, Any]) -> Case:
    before = copy.deepcopy(data)
    return Case(
        A + name,
        lambda: Catalog.from_mapping(data),
        CatalogError,
        unchanged=lambda: data == before,
    )


def _plan(**fields: Any) -> Callable[[], object]:
    return lambda: Plan(**{"code": "p", "name": "P", "rank": 1, **fields})


def _review(**changes: Any) -> Callable[[], object]:
    arguments: dict[str, Any] = {"usage": {}, "module_usage": {}, "as_of": DAY, **changes}
    return lambda: monthly_review(SUBSCRIPTION, CATALOG, **arguments)


def _charge(**fields: Any) -> Callable[[], object]:
    return lambda: RecurringCharge(
        **{"code": "p", "description": "P", "unit_price": EUR, "start": DAY, **fields}
    )


TWO_ANNUAL = ((ANNUAL, Money("100", "EUR")), (Frequency.years(1), Money("5", "EUR")))

CASES = [
    # -- #5 conflicting prices for one frequency
    _catalog_case("annual-p12m-p1y", _document({"annual": "100", "P12M": "2", "P1Y": "5"})),
    _catalog_case("monthly-Monthly", _document({"monthly": "1", "Monthly": "2"})),
    _catalog_case("module-p3m-quarterly", _document({"P3M": "1", "quarterly": "1"}, "modules")),
    _catalog_case("addon-weekly-p1w", _document({"weekly": "1", "P1W": "2"}, "addons")),
    _catalog_case("days-P7D-1week", _document({"P7D": "1", "1 week": "2"})),
    _catalog_case("yearly-annual", _document({"yearly": "10", "ANNUAL": "10"})),
    Case(A + "plan-two-annual", _plan(prices=TWO_ANNUAL), InvalidArgumentError),
    Case(
        A + "module-two-annual",
        lambda: Module(code="m", name="M", prices=TWO_ANNUAL),
        InvalidArgumentError,
    ),
    Case(
        A + "addon-two-monthly",
        lambda: AddOn(code="a", name="A", prices=[(MONTHLY, EUR), (Frequency.months(1), EUR)]),
        InvalidArgumentError,
    ),
    # -- #9 catalog constructors
    Case(
        A + "catalog-plans-str-item", lambda: Catalog(currency="EUR", plans=["x"]), InvalidTypeError
    ),
    Case(A + "catalog-plans-str", lambda: Catalog(currency="EUR", plans="pro"), InvalidTypeError),
    Case(A + "catalog-plans-int", lambda: Catalog(currency="EUR", plans=5), InvalidTypeError),
    Case(
        A + "catalog-modules-none-item",
        lambda: Catalog(currency="EUR", modules=[None]),
        InvalidTypeError,
    ),
    Case(
        A + "catalog-addons-plan",
        lambda: Catalog(currency="EUR", addons=[Plan(code="p", name="P", rank=1)]),
        InvalidTypeError,
    ),
    Case(
        A + "catalog-rank-none",
        lambda: Catalog(
            currency="EUR",
            plans=[Plan(code="a", name="A", rank=None), Plan(code="b", name="B", rank=2)],
        ),
        InvalidTypeError,
    ),
    Case(A + "plan-rank-none", _plan(rank=None), InvalidTypeError),
    Case(A + "plan-rank-str", _plan(rank="1"), InvalidTypeError),
    Case(A + "plan-rank-float", _plan(rank=1.5), InvalidTypeError),
    Case(A + "plan-rank-bool", _plan(rank=True), InvalidTypeError),
    Case(A + "plan-rank-decimal", _plan(rank=Decimal(1)), InvalidTypeError),
    Case(A + "plan-price-str", _plan(prices={MONTHLY: "29"}), InvalidTypeError),
    Case(A + "plan-price-int", _plan(prices={MONTHLY: 29}), InvalidTypeError),
    Case(A + "plan-price-key-str", _plan(prices={"monthly": EUR}), InvalidTypeError),
    Case(A + "plan-price-key-none", _plan(prices={None: EUR}), InvalidTypeError),
    Case(A + "plan-prices-list", _plan(prices=["29"]), InvalidTypeError),
    Case(A + "plan-prices-str", _plan(prices="29"), InvalidTypeError),
    Case(
        A + "plan-price-negative", _plan(prices={MONTHLY: Money("-1", "EUR")}), InvalidArgumentError
    ),
    Case(A + "plan-price-third", _plan(prices={MONTHLY: EUR / 3}), OutOfBoundsError),
    Case(
        A + "module-price-negative",
        lambda: Module(code="m", name="M", prices={ANNUAL: Money("-0.01", "EUR")}),
        InvalidArgumentError,
    ),
    Case(
        A + "addon-price-key-str",
        lambda: AddOn(code="a", name="A", prices={"annual": EUR}),
        InvalidTypeError,
    ),
    Case(A + "catalog-currency-none", lambda: Catalog(currency=None), InvalidTypeError),
    Case(A + "catalog-currency-int", lambda: Catalog(currency=978), InvalidTypeError),
    Case(A + "catalog-currency-unknown", lambda: Catalog(currency="EUX"), UnknownCurrencyError),
    Case(A + "catalog-policy-str", lambda: Catalog(currency="EUR", policy="x"), InvalidTypeError),
    Case(A + "catalog-policy-none", lambda: Catalog(currency="EUR", policy=None), InvalidTypeError),
    # -- #9 usage
    # usage=None means "no usage known" (a subscription of quoted lines has no limits).
    Case(A + "review-usage-text", _review(usage="clients"), InvalidTypeError),
    Case(A + "review-usage-list", _review(usage=[("clients", 1)]), InvalidTypeError),
    Case(A + "review-usage-int-key", _review(usage={1: 5}), InvalidTypeError),
    Case(A + "review-module-usage-int", _review(module_usage=3), InvalidTypeError),
    Case(
        A + "review-module-usage-negative",
        _review(module_usage={"stock": -1}),
        InvalidArgumentError,
    ),
    Case(A + "review-invoices-none", _review(invoices=None), InvalidTypeError),
    Case(A + "review-invoices-str", _review(invoices=["F-1"]), InvalidTypeError),
    # payment_methods=None: not known (the method is named "not checked").
    Case(A + "review-methods-text", _review(payment_methods="pm_1"), InvalidTypeError),
    Case(A + "review-methods-str", _review(payment_methods=["pm_1"]), InvalidTypeError),
    Case(
        A + "review-subscription-none",
        lambda: monthly_review(None, CATALOG, usage={}, module_usage={}, as_of=DAY),
        InvalidTypeError,
    ),
    Case(
        A + "review-catalog-dict",
        lambda: monthly_review(SUBSCRIPTION, {}, usage={}, module_usage={}, as_of=DAY),
        InvalidTypeError,
    ),
    Case(
        A + "explain-invoice-none",
        lambda: explain_invoice(None, SUBSCRIPTION, CATALOG),
        InvalidTypeError,
    ),
    Case(
        A + "explain-subscription-str",
        lambda: explain_invoice(INVOICE, "S1", CATALOG),
        InvalidTypeError,
    ),
    Case(
        A + "explain-catalog-none",
        lambda: explain_invoice(INVOICE, SUBSCRIPTION, None),
        InvalidTypeError,
    ),
    Case(
        A + "recommend-headroom-nan",
        lambda: recommend_plan(CATALOG, {}, headroom=float("nan")),
        FloatAmountError,
    ),
    Case(
        A + "recommend-headroom-float",
        lambda: recommend_plan(CATALOG, {}, headroom=0.2),
        FloatAmountError,
    ),
    Case(
        A + "recommend-headroom-decimal-nan",
        lambda: recommend_plan(CATALOG, {}, headroom=Decimal("NaN")),
        InvalidAmountError,
    ),
    Case(
        A + "recommend-headroom-str",
        lambda: recommend_plan(CATALOG, {}, headroom="0.2"),
        InvalidAmountError,
    ),
    Case(
        A + "recommend-headroom-one",
        lambda: recommend_plan(CATALOG, {}, headroom=Fraction(1)),
        InvalidArgumentError,
    ),
    Case(A + "recommend-catalog-none", lambda: recommend_plan(None, {}), InvalidTypeError),
    # -- #9 discounts
    Case(
        A + "discount-applies-none",
        lambda: Discount.percent_off("D", "10", applies_to=[None]),
        InvalidTypeError,
    ),
    Case(
        A + "discount-applies-int",
        lambda: Discount.percent_off("D", "10", applies_to=[1]),
        InvalidTypeError,
    ),
    Case(
        A + "discount-applies-blank",
        lambda: Discount.percent_off("D", "10", applies_to=[" "]),
        InvalidArgumentError,
    ),
    Case(
        A + "discount-applies-bytes",
        lambda: Discount.percent_off("D", "10", applies_to=b"pro"),
        InvalidArgumentError,
    ),
    # -- #10 30/360 with a day-based frequency
    Case(
        A + "charge-30-360-weekly",
        _charge(basis=ProrationBasis.THIRTY_DAY_MONTH, frequency=Frequency.days(7)),
        InvalidArgumentError,
    ),
    Case(
        A + "charge-30-360-30-days",
        _charge(basis=ProrationBasis.THIRTY_DAY_MONTH, frequency=Frequency.days(30)),
        InvalidArgumentError,
    ),
    # -- #11 control characters
    Case(
        A + "discount-description-newline",
        lambda: Discount.percent_off("D", "10", description="a\nb"),
        InvalidArgumentError,
    ),
    Case(
        A + "discount-description-esc",
        lambda: Discount.percent_off("D", "10", description="\x1b[2J"),
        InvalidArgumentError,
    ),
    Case(
        A + "discount-description-rlo",
        lambda: Discount.amount_off("D", EUR, description="x\u202e"),
        InvalidArgumentError,
    ),
    Case(
        A + "discount-applies-newline",
        lambda: Discount.percent_off("D", "10", applies_to=["a\nb"]),
        InvalidArgumentError,
    ),
    Case(
        A + "discount-applies-esc-str",
        lambda: Discount.percent_off("D", "10", applies_to="\x1bpro"),
        InvalidArgumentError,
    ),
    Case(
        A + "discount-applies-rlo",
        lambda: Discount.percent_off("D", "10", applies_to={"pro\u202e"}),
        InvalidArgumentError,
    ),
    Case(A + "recurring-reason-newline", _charge(reason="plan\nchange"), InvalidArgumentError),
    Case(A + "recurring-reason-esc", _charge(reason="\x1b[31m"), InvalidArgumentError),
    Case(A + "recurring-reason-rlo", _charge(reason="x\u202e"), InvalidArgumentError),
    Case(A + "recurring-reason-int", _charge(reason=1), InvalidTypeError),
    Case(
        A + "one-time-reason-newline",
        lambda: OneTimeCharge(code="s", description="S", unit_price=EUR, due_on=DAY, reason="a\nb"),
        InvalidArgumentError,
    ),
    Case(
        A + "one-time-reason-nul",
        lambda: OneTimeCharge(code="s", description="S", unit_price=EUR, due_on=DAY, reason="\x00"),
        InvalidArgumentError,
    ),
]

__all__ = ["CASES"]

"""Bad fields: policies given as strings, empty or forged ids and names, card data.

Every enum field or argument is given a string (even one that spells a member); every id,
customer, code, name and number is given ``""``, ``None``, a newline, an ANSI escape and a
bidi override; every payment-method field is given a full card number or a security code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from subbill import (
    BillingStart,
    Card,
    ChargePlan,
    Discount,
    Duration,
    Frequency,
    LicenseAccount,
    LicenseLedger,
    LineItem,
    Money,
    Payment,
    PaymentLink,
    Plan,
    Quote,
    RecurringCharge,
    Subscription,
    TaxRate,
    Wallet,
    portal_overview,
    purchase,
)
from subbill.billing import draft_invoice
from subbill.catalog import AddOn, ChangePolicy, Module
from subbill.errors import CardDataError, InvalidArgumentError, InvalidTypeError
from subbill.invoices import one_time_line
from subbill.licenses import LedgerEntry, add_seats
from subbill.payments import OtherMethod, payment_method_from_mapping
from subbill.pdf import Party
from subbill.portal import Ticket, TicketStatus
from subbill.quotes import checkout
from subbill.subscriptions import Change, Span, preview_change
from subbill.taxes import line_taxes
from tests.adversarial import Case
from tests.seed_catalog import seed_catalog

CATALOG = seed_catalog()
DAY = date(2026, 3, 1)
EUR = Money("10", "EUR")
VISA = "4242424242424242"
SUB = Subscription.create(id="S1", customer="ACME", catalog=CATALOG, plan="pro", start=DAY)
ACCOUNT = LicenseAccount(customer="ACME", product="TBox", seats=5, start=DAY, years=1)
LEDGER = LicenseLedger().grant("R", "TBox", 10, on=DAY)
CARD = Card(id="pm_1", brand="Visa", last4="4242", exp_month=12, exp_year=2030)
WALLET = Wallet(customer="ACME").add(CARD)
LINE = LineItem(code="x", name="X", unit_price=EUR)
LINK = PaymentLink(id="L1", currency="EUR", lines=(LINE,))
INVOICE = draft_invoice(
    customer="ACME", currency="EUR", issued_on=DAY, lines=[one_time_line("x", "X", EUR)]
)
CARD_FIELDS = {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 1, "exp_year": 2030}


def _move_with_a_string_kind() -> object:
    return LEDGER.move("transfer", source="R", target="X", product="TBox", licence_years=1, on=DAY)


# -- policies: a string is refused, never guessed ----------------------------------------------

_POLICIES: list[tuple[str, Callable[[], object]]] = [
    (
        "billable-tax-rounding",
        lambda: ChargePlan(id="S", customer="C", currency="EUR", tax_rounding="per_line"),
    ),
    (
        "billable-tax-rounding-name",
        lambda: ChargePlan(id="S", customer="C", currency="EUR", tax_rounding="PER_INVOICE"),
    ),
    (
        "billable-negative-balance",
        lambda: ChargePlan(id="S", customer="C", currency="EUR", negative_balance="carry_forward"),
    ),
    (
        "billable-negative-balance-bool",
        lambda: ChargePlan(id="S", customer="C", currency="EUR", negative_balance=True),
    ),
    ("policy-upgrade", lambda: ChangePolicy(upgrade="immediate")),
    ("policy-downgrade", lambda: ChangePolicy(downgrade="period_end")),
    ("policy-module-activation", lambda: ChangePolicy(module_activation="immediate")),
    ("policy-module-deactivation", lambda: ChangePolicy(module_deactivation="period_end")),
    (
        "charge-timing",
        lambda: RecurringCharge(
            code="p", description="P", unit_price=EUR, start=DAY, timing="in_arrears"
        ),
    ),
    (
        "charge-basis",
        lambda: RecurringCharge(code="p", description="P", unit_price=EUR, start=DAY, basis="none"),
    ),
    ("frequency-unit", lambda: Frequency(count=1, unit="month")),
    ("billing-start-kind", lambda: BillingStart(kind="immediately")),
    ("duration-kind", lambda: Duration(kind="once")),
    ("discount-kind", lambda: Discount(code="D", kind="percentage", percent="10")),
    ("line-taxes-rounding", lambda: line_taxes([EUR], [()], tax_rounding="per_line")),
    (
        "add-seats-rule",
        lambda: add_seats(ACCOUNT, 1, ledger=LEDGER, pool="R", on=DAY, rule="whole_years"),
    ),
    (
        "ledger-entry-kind",
        lambda: LedgerEntry(
            kind="grant", on=DAY, product="TBox", source=None, target="R", licence_years=1
        ),
    ),
    ("ledger-move-kind", _move_with_a_string_kind),
    (
        "quote-status",
        lambda: Quote(id="Q", customer="C", currency="EUR", valid_until=DAY, status="sent"),
    ),
    (
        "ticket-status",
        lambda: Ticket(reference="T", customer="C", subject="S", status="open", opened_on=DAY),
    ),
    ("activate-timing", lambda: SUB.activate("stock", CATALOG, on=DAY, timing="immediate")),
    ("deactivate-timing", lambda: SUB.deactivate("stock", CATALOG, on=DAY, timing="period_end")),
    ("change-plan-timing", lambda: SUB.change_plan("essentiel", CATALOG, on=DAY, timing="now")),
    ("remove-timing", lambda: SUB.remove("multisoc", CATALOG, on=DAY, timing="immediate")),
    (
        "preview-change-timing",
        lambda: preview_change(SUB, "business", CATALOG, on=DAY, timing="immediate"),
    ),
]

# -- ids, customers, codes, names and numbers --------------------------------------------------

_BAD_TEXTS: list[tuple[str, object]] = [
    ("empty", ""),
    ("blank", "   "),
    ("none", None),
    ("newline", "a\nb"),
    ("ansi", "\x1b[31m"),
    ("bidi", "\u202e"),
    ("nul", "a\x00"),
]

_TEXT_FIELDS: list[tuple[str, Callable[[Any], object]]] = [
    (
        "subscription-id",
        lambda v: Subscription.create(id=v, customer="C", catalog=CATALOG, plan="pro", start=DAY),
    ),
    (
        "subscription-customer",
        lambda v: Subscription.create(id="S", customer=v, catalog=CATALOG, plan="pro", start=DAY),
    ),
    ("billable-id", lambda v: ChargePlan(id=v, customer="C", currency="EUR")),
    ("billable-customer", lambda v: ChargePlan(id="S", customer=v, currency="EUR")),
    (
        "invoice-customer",
        lambda v: draft_invoice(customer=v, currency="EUR", issued_on=DAY, lines=[]),
    ),
    ("invoice-number", lambda v: INVOICE.finalize(number=v)),
    ("link-id", lambda v: PaymentLink(id=v, currency="EUR")),
    ("quote-id", lambda v: Quote(id=v, customer="C", currency="EUR", valid_until=DAY)),
    ("quote-customer", lambda v: Quote(id="Q", customer=v, currency="EUR", valid_until=DAY)),
    ("line-item-code", lambda v: LineItem(code=v, name="X", unit_price=EUR)),
    ("line-item-name", lambda v: LineItem(code="x", name=v, unit_price=EUR)),
    ("checkout-customer", lambda v: checkout(LINK, paid_on=DAY, customer=v)),
    (
        "account-customer",
        lambda v: LicenseAccount(customer=v, product="TBox", seats=1, start=DAY, years=1),
    ),
    (
        "account-product",
        lambda v: LicenseAccount(customer="C", product=v, seats=1, start=DAY, years=1),
    ),
    ("ledger-holder", lambda v: LicenseLedger().grant(v, "TBox", 1, on=DAY)),
    ("plan-code", lambda v: Plan(code=v, name="P", rank=1)),
    ("module-name", lambda v: Module(code="m", name=v)),
    ("addon-code", lambda v: AddOn(code=v, name="A")),
    ("discount-code", lambda v: Discount.percent_off(v, "10")),
    (
        "charge-code",
        lambda v: RecurringCharge(code=v, description="P", unit_price=EUR, start=DAY),
    ),
    ("tax-name", lambda v: TaxRate(name=v, percent="20")),
    ("wallet-customer", lambda v: Wallet(customer=v)),
    (
        "ticket-reference",
        lambda v: Ticket(
            reference=v, customer="C", subject="S", status=TicketStatus.OPEN, opened_on=DAY
        ),
    ),
    ("portal-customer", lambda v: portal_overview(v, catalog=CATALOG, as_of=DAY)),
    ("party-name", lambda v: Party(name=v)),
    ("span-code", lambda v: Span(code=v, start=DAY)),
    ("change-code", lambda v: Change(on=DAY, kind="plan_change", code=v)),
]


# ``checkout(customer=None)`` means "the quote's customer, or the buyer of a link".
_NONE_ALLOWED = {"checkout-customer"}


def _text_error(value: object) -> type[BaseException]:
    return InvalidTypeError if value is None else InvalidArgumentError


# -- card data in payment-method fields ---------------------------------------------------------

_CARD_DATA: list[tuple[str, Callable[[], object]]] = [
    ("card-id", lambda: Card(**{**CARD_FIELDS, "id": VISA})),
    ("card-id-grouped", lambda: Card(**{**CARD_FIELDS, "id": "4242 4242 4242 4242"})),
    ("card-brand", lambda: Card(**{**CARD_FIELDS, "brand": f"Visa {VISA}"})),
    ("card-last4", lambda: Card(**{**CARD_FIELDS, "last4": VISA})),
    ("other-id", lambda: OtherMethod(id=VISA, kind="x", label="y")),
    ("other-kind", lambda: OtherMethod(id="m", kind="4242-4242-4242-4242", label="y")),
    ("other-label", lambda: OtherMethod(id="m", kind="x", label=f"carte {VISA} 12/27")),
    ("other-label-amex", lambda: OtherMethod(id="m", kind="x", label="3782 822463 10005")),
    ("wallet-default", lambda: Wallet(customer="C", methods=(CARD,), default=VISA)),
    ("wallet-set-default", lambda: WALLET.set_default(VISA)),
    ("wallet-method", lambda: WALLET.method(f"tok_{VISA}")),
    (
        "subscription-payment-method",
        lambda: Subscription.create(
            id="S", customer="C", catalog=CATALOG, plan="pro", start=DAY, payment_method=VISA
        ),
    ),
    ("payment-method", lambda: Payment(amount=EUR, paid_on=DAY, method=VISA)),
    ("purchase-method", lambda: purchase(LINK, paid_on=DAY, payment_method=VISA)),
    ("card-mapping-cvc", lambda: Card.from_mapping({**CARD_FIELDS, "cvc": "123"})),
    ("card-mapping-number", lambda: Card.from_mapping({**CARD_FIELDS, "id": VISA})),
    (
        "wallet-mapping-cvv",
        lambda: Wallet.from_mapping({"customer": "C", "methods": [{**CARD_FIELDS, "cvv": 1}]}),
    ),
    (
        "wallet-mapping-nested-cid",
        lambda: Wallet.from_mapping({"customer": "C", "extra": {"card": {"cid": "1234"}}}),
    ),
    (
        "method-mapping-security-code",
        lambda: payment_method_from_mapping(
            {"id": "m", "kind": "x", "label": "y", "security_code": "1"}
        ),
    ),
    (
        "method-mapping-cvv2",
        lambda: payment_method_from_mapping({**CARD_FIELDS, "CVV2": "1"}),
    ),
]

CASES = [
    *(Case(f"fields-enum-{name}", call, InvalidTypeError) for name, call in _POLICIES),
    *(
        Case(
            f"fields-{field}-{label}",
            (lambda make=make, value=value: make(value)),
            _text_error(value),
        )
        for field, make in _TEXT_FIELDS
        for label, value in _BAD_TEXTS
        if not (value is None and field in _NONE_ALLOWED)
    ),
    *(Case(f"fields-card-{name}", call, CardDataError) for name, call in _CARD_DATA),
    Case(
        "fields-ledger-entries-not-entries",
        lambda: LicenseLedger(entries=("x",)),
        InvalidTypeError,
    ),
    Case(
        "fields-wallet-methods-not-methods",
        lambda: Wallet(customer="C", methods=({"id": "pm_1"},)),
        InvalidTypeError,
    ),
    Case(
        "fields-wallet-unchanged-after-refused-default",
        lambda: WALLET.set_default(VISA),
        CardDataError,
        unchanged=lambda: WALLET.default == "pm_1" and WALLET.methods == (CARD,),
    ),
    Case(
        "fields-subscription-unchanged-after-refused-timing",
        lambda: SUB.activate("stock", CATALOG, on=DAY, timing="immediate"),
        InvalidTypeError,
        unchanged=lambda: SUB.modules == () and SUB.history == (),
    ),
    Case(
        "fields-ledger-unchanged-after-refused-kind",
        _move_with_a_string_kind,
        InvalidTypeError,
        unchanged=lambda: len(LEDGER.entries) == 1,
    ),
]

__all__ = ["CASES"]

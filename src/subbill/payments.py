"""Payment methods: saved cards (never a full number) and other methods, with expiry.

A card is valid through the last day of its expiry month.

>>> card = Card(id="pm_1", brand="Visa", last4="4242", exp_month=2, exp_year=2026)
>>> card.is_expired(as_of=date(2026, 2, 28)), card.is_expired(as_of=date(2026, 3, 1))
(False, True)

Card data never enters subbill. Every payment-method field (a method's ``id``, ``brand``,
``kind``, ``label``, a wallet's ``default``, a subscription's ``payment_method``, a payment's
``method``) is scanned by :func:`check_no_card_number`: anything that looks like a full card
number (13–19 digits passing the Luhn check, grouped or not, even inside longer text) is
refused with :class:`~subbill.errors.CardDataError`. The ``from_mapping`` constructors also
refuse a security-code key (``cvc``, ``cvv``, ``cvv2``, ``cid``, ``security_code``) anywhere
in the data (:func:`check_no_card_data`). Keep the brand, the last 4 digits, the expiry and
the payment processor's token; nothing more.

>>> Card(id="4242 4242 4242 4242", brand="Visa", last4="4242", exp_month=2, exp_year=2026)
Traceback (most recent call last):
...
subbill.errors.CardDataError: id holds what looks like a full card number; store only the card's brand, its last 4 digits, its expiry and the payment processor's token; never the full number nor the security code
"""  # noqa: E501  (the doctest shows the whole message)

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any, ClassVar, Self

import attrs

from subbill._convert import (
    check_no_card_data,
    check_no_card_number,
    check_payment_reference,
    check_text,
    payment_reference,
)
from subbill.decisions import Allowed, Decision, Refused, RefusedError, refusal
from subbill.errors import CardDataError, InvalidArgumentError, InvalidTypeError
from subbill.periods import check_date, days_in_month

__all__ = [
    "Card",
    "InvalidCardError",
    "OtherMethod",
    "PaymentMethod",
    "Wallet",
    "check_no_card_data",
    "check_no_card_number",
    "check_payment_reference",
    "payment_method_from_mapping",
]

_DIGITS = re.compile(r"\d")


class InvalidCardError(CardDataError):
    """Card data that must not be stored, or is not a card (a bad last 4, a bad expiry)."""

    code: ClassVar[str] = "invalid_card"


def _check_last4(_instance: Any, _attribute: Any, value: str) -> None:
    digits = "".join(_DIGITS.findall(value)) if isinstance(value, str) else ""
    if isinstance(value, str) and len(digits) >= 12:
        raise InvalidCardError(
            "last4 looks like a full card number; store only the last four digits "
            "(and never the security code)"
        )
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}", value):
        raise InvalidCardError(f"last4={value!r} must be exactly four digits")


def _check_expiry(instance: Card, _attribute: Any, year: int) -> None:
    month = instance.exp_month
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise InvalidCardError(f"exp_month={month!r} must be an int from 1 to 12")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise InvalidCardError(f"exp_year={year!r} must be a four-digit year")


def _read(
    data: object, kind: str, *, required: AbstractSet[str], optional: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    """The fields of ``data`` for a ``kind``: security codes, unknown and missing keys refused."""
    check_no_card_data(data)
    if not isinstance(data, Mapping):
        raise InvalidTypeError(kind, data, "a mapping of its fields")
    known = required | optional
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f", did you mean {close[0]!r}?" if close else f"; expected {sorted(known)}"
            raise InvalidArgumentError(f"{kind}.{key}: unknown key{hint}")
    missing = sorted(required - set(data))
    if missing:
        raise InvalidArgumentError(f"{kind}.{missing[0]}: is missing")
    return dict(data)


@attrs.frozen(kw_only=True)
class Card:
    """A saved card: brand, last four digits and expiry; nothing more is ever kept.

    ``id`` is the payment processor's token (``pm_…``); neither it nor ``brand`` may hold a
    full card number (:class:`~subbill.errors.CardDataError`).
    """

    id: str = attrs.field(validator=payment_reference())
    brand: str = attrs.field(validator=payment_reference())
    last4: str = attrs.field(validator=_check_last4)
    exp_month: int
    exp_year: int = attrs.field(validator=_check_expiry)

    kind: ClassVar[str] = "card"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """A card from plain data: ``id``, ``brand``, ``last4``, ``exp_month``, ``exp_year``.

        A security-code key is refused (:class:`~subbill.errors.CardDataError`), as is any
        other unknown key.

        >>> Card.from_mapping({"id": "pm_1", "brand": "Visa", "last4": "4242",
        ...                    "exp_month": 2, "exp_year": 2026, "cvv": "123"})
        Traceback (most recent call last):
        ...
        subbill.errors.CardDataError: cvv is a card security code: store only the card's brand, its last 4 digits, its expiry and the payment processor's token; never the full number nor the security code
        """  # noqa: E501  (the doctest shows the whole message)
        fields = _read(
            data,
            "card",
            required={"id", "brand", "last4", "exp_month", "exp_year"},
            optional={"kind"},
        )
        if fields.pop("kind", "card") != "card":
            raise InvalidArgumentError("card.kind: must be 'card' (or left out)")
        return cls(**fields)

    @property
    def valid_through(self) -> date:
        """The last day the card can be used (the last day of its expiry month)."""
        return date(self.exp_year, self.exp_month, days_in_month(self.exp_year, self.exp_month))

    def is_expired(self, *, as_of: date) -> bool:
        """True from the first day after the expiry month."""
        return check_date("as_of", as_of) > self.valid_through

    def expires_before(self, day: date) -> bool:
        """True when the card can no longer be used on ``day``."""
        return check_date("day", day) > self.valid_through

    @property
    def label(self) -> str:
        """« Visa •••• 4242 (02/2026) »."""
        return f"{self.brand} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"


@attrs.frozen(kw_only=True)
class OtherMethod:
    """Any other payment method (SEPA direct debit, transfer…): a kind and a label.

    None of ``id``, ``kind`` and ``label`` may hold a full card number (a valid IBAN in a
    label is fine).
    """

    id: str = attrs.field(validator=payment_reference())
    kind: str = attrs.field(validator=payment_reference())
    label: str = attrs.field(validator=payment_reference())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Another method from plain data: ``id``, ``kind``, ``label`` (no security code)."""
        return cls(**_read(data, "method", required={"id", "kind", "label"}))

    def is_expired(self, *, as_of: date) -> bool:
        """Other methods do not expire."""
        check_date("as_of", as_of)
        return False

    def expires_before(self, day: date) -> bool:
        """Other methods do not expire."""
        check_date("day", day)
        return False


PaymentMethod = Card | OtherMethod


def payment_method_from_mapping(data: Mapping[str, Any]) -> PaymentMethod:
    """A :class:`Card` (``kind`` ``"card"`` or absent with ``last4``) or an :class:`OtherMethod`.

    >>> payment_method_from_mapping({"id": "sepa", "kind": "sepa_debit", "label": "SEPA ••• 189"})
    OtherMethod(id='sepa', kind='sepa_debit', label='SEPA ••• 189')
    """
    check_no_card_data(data)
    if isinstance(data, Mapping) and (
        data.get("kind") == "card" or ("kind" not in data and "last4" in data)
    ):
        return Card.from_mapping(data)
    return OtherMethod.from_mapping(data)


def _methods(value: object) -> tuple[PaymentMethod, ...]:
    if not isinstance(value, Iterable) or isinstance(value, str | bytes | Mapping):
        raise InvalidTypeError("methods", value, "a sequence of Card and OtherMethod")
    methods = tuple(value)
    for method in methods:
        if not isinstance(method, Card | OtherMethod):
            raise InvalidTypeError("methods", method, "made of Card and OtherMethod values")
    ids = [method.id for method in methods]
    if len(set(ids)) != len(ids):
        raise InvalidArgumentError(f"payment methods have duplicate ids: {sorted(ids)}")
    return methods


def _check_default(instance: Wallet, _attribute: Any, default: str | None) -> None:
    check_payment_reference("default", default, optional=True)
    if default is not None and default not in {method.id for method in instance.methods}:
        raise InvalidArgumentError(f"default={default!r} is not one of the wallet's methods")


@attrs.frozen(kw_only=True)
class Wallet:
    """A customer's saved payment methods and the default one."""

    customer: str = attrs.field(validator=check_text)
    methods: tuple[PaymentMethod, ...] = attrs.field(default=(), converter=_methods)
    default: str | None = attrs.field(default=None, validator=_check_default)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """A wallet from plain data: ``customer``, ``methods`` (mappings), ``default``.

        A security-code key anywhere in ``data`` is refused
        (:class:`~subbill.errors.CardDataError`), before anything else is read.

        >>> card = {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 2,
        ...         "exp_year": 2026}
        >>> wallet = Wallet.from_mapping({"customer": "ACME", "methods": [card]})
        >>> wallet.default is None, wallet.method("pm_1").label
        (True, 'Visa •••• 4242 (02/2026)')
        """
        fields = _read(data, "wallet", required={"customer"}, optional={"methods", "default"})
        methods = fields.get("methods", ())
        if not isinstance(methods, list | tuple):
            raise InvalidTypeError("wallet.methods", methods, "a list of payment methods")
        fields["methods"] = tuple(payment_method_from_mapping(item) for item in methods)
        return cls(**fields)

    def method(self, method_id: str) -> PaymentMethod:
        """The saved method ``method_id``."""
        check_payment_reference("method_id", method_id)
        for method in self.methods:
            if method.id == method_id:
                return method
        raise InvalidArgumentError(
            f"method={method_id!r} is not saved for {self.customer!r}; saved: "
            f"{', '.join(m.id for m in self.methods) or 'none'}"
        )

    def add(self, method: PaymentMethod, *, make_default: bool = False) -> Wallet:
        """Save a new method (the first one saved becomes the default)."""
        default = method.id if make_default or self.default is None else self.default
        return attrs.evolve(self, methods=(*self.methods, method), default=default)

    def set_default(self, method_id: str) -> Wallet:
        """« Modifier le mode de paiement »: make ``method_id`` the default."""
        self.method(method_id)
        return attrs.evolve(self, default=method_id)

    def can_delete(
        self, method_id: str, *, subscriptions: Iterable[Any] = (), as_of: date
    ) -> Decision:
        """Whether ``method_id`` may be deleted.

        Refused while it is the only method of an active subscription (``only_method``, with
        the subscriptions named).

        ``subscriptions`` are :class:`~subbill.subscriptions.Subscription` values (anything
        with ``id``, ``payment_method`` and ``is_live_on``).
        """
        check_date("as_of", as_of)
        self.method(method_id)
        others = [m for m in self.methods if m.id != method_id]
        using = sorted(
            s.id for s in subscriptions if s.payment_method == method_id and s.is_live_on(as_of)
        )
        if using and not others:
            return refusal("only_method", method=method_id, subscriptions=", ".join(using))
        return Allowed()

    def delete(self, method_id: str, *, subscriptions: Iterable[Any] = (), as_of: date) -> Wallet:
        """Delete a saved method; the default moves to another saved method if needed."""
        items = tuple(subscriptions)
        decision = self.can_delete(method_id, subscriptions=items, as_of=as_of)
        if isinstance(decision, Refused):
            raise RefusedError(decision, f"delete payment method {method_id!r}")
        methods = tuple(m for m in self.methods if m.id != method_id)
        default = self.default
        if default == method_id:
            default = methods[0].id if methods else None
        return attrs.evolve(self, methods=methods, default=default)

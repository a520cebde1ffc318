"""Payment methods: saved cards (never a full number) and other methods, with expiry.

A card is valid through the last day of its expiry month.

>>> card = Card(id="pm_1", brand="Visa", last4="4242", exp_month=2, exp_year=2026)
>>> card.is_expired(as_of=date(2026, 2, 28)), card.is_expired(as_of=date(2026, 3, 1))
(False, True)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any, ClassVar

import attrs

from subbill.decisions import Allowed, Decision, Refused, RefusedError, refusal
from subbill.errors import InvalidArgumentError, SubbillError
from subbill.periods import check_date, days_in_month

__all__ = ["Card", "InvalidCardError", "OtherMethod", "PaymentMethod", "Wallet"]

_DIGITS = re.compile(r"\d")


class InvalidCardError(SubbillError, ValueError):
    """Card data that must not be stored, or is not a card."""

    code: ClassVar[str] = "invalid_card"


def _check_last4(_instance: Any, _attribute: Any, value: str) -> None:
    digits = "".join(_DIGITS.findall(value)) if isinstance(value, str) else ""
    if isinstance(value, str) and len(digits) >= 12:
        raise InvalidCardError(
            "last4 looks like a full card number; store only the last four digits "
            "(and never the security code)"
        )
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}", value):
        raise InvalidCardError(f"last4={value!r} must be exactly four digits")


def _check_expiry(instance: Card, _attribute: Any, year: int) -> None:
    month = instance.exp_month
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise InvalidCardError(f"exp_month={month!r} must be an int from 1 to 12")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        raise InvalidCardError(f"exp_year={year!r} must be a four-digit year")


@attrs.frozen(kw_only=True)
class Card:
    """A saved card: brand, last four digits and expiry; nothing more is ever kept."""

    id: str
    brand: str
    last4: str = attrs.field(validator=_check_last4)
    exp_month: int
    exp_year: int = attrs.field(validator=_check_expiry)

    kind: ClassVar[str] = "card"

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
    """Any other payment method (SEPA direct debit, transfer…): a kind and a label."""

    id: str
    kind: str
    label: str

    def is_expired(self, *, as_of: date) -> bool:
        """Other methods do not expire."""
        check_date("as_of", as_of)
        return False

    def expires_before(self, day: date) -> bool:
        """Other methods do not expire."""
        check_date("day", day)
        return False


PaymentMethod = Card | OtherMethod


def _methods(value: object) -> tuple[PaymentMethod, ...]:
    methods = tuple(value) if isinstance(value, Iterable) else ()
    ids = [method.id for method in methods]
    if len(set(ids)) != len(ids):
        raise InvalidArgumentError(f"payment methods have duplicate ids: {sorted(ids)}")
    return methods


def _check_default(instance: Wallet, _attribute: Any, default: str | None) -> None:
    if default is not None and default not in {method.id for method in instance.methods}:
        raise InvalidArgumentError(f"default={default!r} is not one of the wallet's methods")


@attrs.frozen(kw_only=True)
class Wallet:
    """A customer's saved payment methods and the default one."""

    customer: str
    methods: tuple[PaymentMethod, ...] = attrs.field(default=(), converter=_methods)
    default: str | None = attrs.field(default=None, validator=_check_default)

    def method(self, method_id: str) -> PaymentMethod:
        """The saved method ``method_id``."""
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

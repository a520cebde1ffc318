"""Licences and reseller pools: an immutable ledger of licence-years, and renewals.

As a reseller console sees them: a customer's subscription is a set of licences (one licence
= one user of one product, TBox or TSend, for one year). A partner holds licence-years of a
product, hands some to its resellers, which assign them to customers. Every movement is a
ledger entry (grant, transfer, assignment, renewal, return); balances are derived from the
ledger, so licence-years are conserved: the sum of every balance equals every grant.

>>> ledger = LicenseLedger().grant("Partenaire", "TBox", 100, on=date(2026, 1, 1))
>>> ledger = ledger.transfer("Partenaire", "Revendeur", "TBox", 40, on=date(2026, 1, 2))
>>> ledger.balance("Partenaire", "TBox"), ledger.balance("Revendeur", "TBox")
(Fraction(60, 1), Fraction(40, 1))
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, Final, Required, Self, TypedDict, Unpack

import attrs

from subbill._structure import Positive, Problems, Text, structure
from subbill._validate import (
    check_bounded,
    check_enum,
    check_instance,
    check_line,
    check_text,
    enum_of,
    one_line,
    to_tuple,
)
from subbill.decisions import Allowed, Decision, Refused, RefusedError, refusal
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.money import MAX_QUANTITY, read_fraction
from subbill.periods import ANNUAL, Period, add_months, check_date, schedule_for
from subbill.proration import periods_over

__all__ = [
    "MAX_TERM_YEARS",
    "EntryKind",
    "LedgerEntry",
    "LicenseAccount",
    "LicenseLedger",
    "Renewal",
    "RenewalForm",
    "RenewalTerms",
    "SeatRule",
    "When",
    "Years",
    "add_seats",
    "renew",
    "renewal_form",
]

#: A number of licence-years: whole, or a fraction of a year (seats added mid-term).
Years = Fraction | int


class When(TypedDict, total=False):
    """When and why a ledger movement happens: ``on`` (required) and ``reference``.

    The keywords of :meth:`LicenseLedger.transfer`, :meth:`~LicenseLedger.assign` and
    :meth:`~LicenseLedger.give_back`, for a caller that keeps them in a dict
    (``ledger.transfer(source, target, product, 5, **when)``).
    """

    on: Required[date]
    reference: str


class RenewalTerms(TypedDict, total=False):
    """The terms of a renewal, keywords of :func:`renewal_form` and :func:`renew`.

    For a caller that keeps them in a dict (``renew(account, **terms)``).

    ``years``, ``ledger``, ``pool`` and ``on`` are required; ``seats`` (default: the
    account's) and ``restart_on`` (an expired account restarted on that day) are optional.
    """

    years: Required[int]
    seats: int | None
    ledger: Required[LicenseLedger]
    pool: Required[str]
    on: Required[date]
    restart_on: date | None


class EntryKind(enum.Enum):
    """What a ledger entry records."""

    GRANT = "grant"  # licence-years enter the system (bought from the publisher)
    TRANSFER = "transfer"  # partner → reseller (or between pools)
    ASSIGNMENT = "assignment"  # pool → customer account (creation, added seats)
    RENEWAL = "renewal"  # pool → customer account (renewal)
    RETURN = "return"  # back up the chain


def _years(value: object) -> Fraction:
    years = read_fraction(value, "licence_years")
    if years <= 0:
        raise InvalidArgumentError(f"licence_years={value!r} must be > 0")
    return years


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One movement of licence-years of a product between two holders.

    ``source`` is ``None`` for a grant.
    """

    kind: EntryKind = attrs.field(validator=enum_of(EntryKind))
    on: date
    product: str = attrs.field(validator=check_text)
    source: str | None = attrs.field(validator=one_line(optional=True))
    target: str = attrs.field(validator=check_text)
    licence_years: Fraction = attrs.field(converter=_years)
    reference: str = attrs.field(default="", validator=one_line(allow_empty=True))


def _check_entries(_instance: Any, _attribute: Any, entries: tuple[object, ...]) -> None:
    for index, entry in enumerate(entries):
        if not isinstance(entry, LedgerEntry):
            raise InvalidTypeError(f"entries[{index}]", entry, "a LedgerEntry")


@attrs.frozen(kw_only=True)
class LicenseLedger:
    """The immutable ledger of licence movements; balances are derived from it.

    Every verb validates first and returns a new ledger, or raises
    :class:`~subbill.decisions.RefusedError` (``not_enough_licences`` with ``needed`` and
    ``available``) when a pool would go negative: nothing is half-applied.
    """

    entries: tuple[LedgerEntry, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_entries
    )

    def balance(self, holder: str, product: str, *, as_of: date | None = None) -> Fraction:
        """Licence-years ``holder`` has of ``product`` (received − given), by ``as_of``."""
        total = Fraction(0)
        for entry in self.entries:
            if entry.product != product or (as_of is not None and entry.on > as_of):
                continue
            if entry.target == holder:
                total += entry.licence_years
            if entry.source == holder:
                total -= entry.licence_years
        return total

    def balances(self) -> dict[tuple[str, str], Fraction]:
        """Every ``(holder, product)`` balance."""
        result: dict[tuple[str, str], Fraction] = {}
        for entry in self.entries:
            key = (entry.target, entry.product)
            result[key] = result.get(key, Fraction(0)) + entry.licence_years
            if entry.source is not None:
                key = (entry.source, entry.product)
                result[key] = result.get(key, Fraction(0)) - entry.licence_years
        return result

    def granted(self, product: str) -> Fraction:
        """All licence-years of ``product`` that entered the system."""
        return sum(
            (
                e.licence_years
                for e in self.entries
                if e.kind is EntryKind.GRANT and e.product == product
            ),
            Fraction(0),
        )

    def can_move(
        self, source: str, product: str, licence_years: Fraction | int, *, on: date | None = None
    ) -> Decision:
        """Whether ``source`` holds ``licence_years`` of ``product`` to give (on ``on``).

        A movement dated ``on`` lowers the pool from that day on: it must not take the pool
        below zero on any day from ``on`` (entries may be recorded out of date order).
        """
        needed = _years(licence_years)
        available = self.balance(source, product)
        if on is not None:
            days = {on} | {entry.on for entry in self.entries if entry.on >= on}
            available = min(self.balance(source, product, as_of=day) for day in days)
        if needed > available:
            return refusal(
                "not_enough_licences",
                holder=source,
                product=product,
                needed=_show(needed),
                available=_show(available),
            )
        return Allowed()

    def move(
        self,
        kind: EntryKind,
        *,
        source: str,
        target: str,
        product: str,
        licence_years: Fraction | int,
        on: date,
        reference: str = "",
    ) -> LicenseLedger:
        """Record a movement of ``licence_years`` from ``source`` to ``target`` (keywords)."""
        check_date("on", on)
        check_enum("kind", kind, EntryKind)
        check_line("source", source)
        check_line("target", target)
        check_line("product", product)
        if kind is EntryKind.GRANT:
            raise InvalidArgumentError(
                "kind=grant has no source: use grant() to bring licence-years in"
            )
        if source == target:
            raise InvalidArgumentError(f"source={source!r} and target must differ")
        decision = self.can_move(source, product, licence_years, on=on)
        if isinstance(decision, Refused):
            raise RefusedError(
                decision, f"{kind.value} {_show(_years(licence_years))} {product} to {target!r}"
            )
        return self._append(
            LedgerEntry(
                kind=kind,
                on=on,
                product=product,
                source=source,
                target=target,
                licence_years=licence_years,
                reference=reference,
            )
        )

    def _append(self, entry: LedgerEntry) -> LicenseLedger:
        return attrs.evolve(self, entries=(*self.entries, entry))

    def _to(
        self,
        kind: EntryKind,
        parties: tuple[str, str, str],
        licence_years: Years,
        **when: Unpack[When],
    ) -> LicenseLedger:
        """:meth:`move` for the verbs below: ``parties`` is (source, target, product).

        A keyword the verbs do not take is refused as Python refuses it, naming the verb the
        caller called (``transfer()``), not this helper.
        """
        _check_keywords(_VERBS[kind], when, When.__annotations__, required=("on",))
        source, target, product = parties
        return self.move(
            kind,
            source=source,
            target=target,
            product=product,
            licence_years=licence_years,
            on=when["on"],
            reference=when.get("reference", ""),
        )

    def grant(
        self, holder: str, product: str, licence_years: Years, **when: Unpack[When]
    ) -> LicenseLedger:
        """Licence-years of ``product`` enter the system in ``holder``'s pool (``on=``, …)."""
        _check_keywords("LicenseLedger.grant", when, When.__annotations__, required=("on",))
        on = when["on"]
        check_date("on", on)
        check_line("holder", holder)
        entry = LedgerEntry(
            kind=EntryKind.GRANT,
            on=on,
            product=product,
            source=None,
            target=holder,
            licence_years=licence_years,
            reference=when.get("reference", ""),
        )
        return self._append(entry)

    def transfer(
        self, source: str, target: str, product: str, licence_years: Years, **when: Unpack[When]
    ) -> LicenseLedger:
        """Hand licence-years down the chain (partner → reseller); ``on=``, ``reference=``."""
        return self._to(EntryKind.TRANSFER, (source, target, product), licence_years, **when)

    def assign(
        self, source: str, account: str, product: str, licence_years: Years, **when: Unpack[When]
    ) -> LicenseLedger:
        """Assign licence-years from a pool to a customer account; ``on=``, ``reference=``."""
        return self._to(EntryKind.ASSIGNMENT, (source, account, product), licence_years, **when)

    def give_back(
        self, source: str, target: str, product: str, licence_years: Years, **when: Unpack[When]
    ) -> LicenseLedger:
        """Return licence-years up the chain (a customer leaves, a reseller hands back)."""
        return self._to(EntryKind.RETURN, (source, target, product), licence_years, **when)


#: The verb each movement of the ledger is made by (for the messages of a wrong call).
_VERBS = {
    EntryKind.TRANSFER: "LicenseLedger.transfer",
    EntryKind.ASSIGNMENT: "LicenseLedger.assign",
    EntryKind.RETURN: "LicenseLedger.give_back",
}


#: The keywords a renewal cannot do without (the others have defaults).
_RENEWAL_REQUIRED = ("years", "ledger", "pool", "on")


def _check_keywords(
    verb: str, given: Mapping[str, object], taken: Iterable[str], *, required: Iterable[str]
) -> None:
    """Refuse keywords ``verb`` does not take as Python refuses them, naming ``verb``.

    For the verbs that forward their keywords (``**when``, ``**terms``): the message names
    the function the caller called, never the helper it forwards to.
    """
    unknown = sorted(set(given) - set(taken))
    if unknown:
        raise TypeError(f"{verb}() got an unexpected keyword argument {unknown[0]!r}")
    missing = [name for name in required if name not in given]
    if missing:
        raise TypeError(f"{verb}() missing 1 required keyword-only argument: {missing[0]!r}")


def _show(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


#: Most years one term (or one renewal) lasts: the command line's ``--years`` cap.
MAX_TERM_YEARS: Final = 99


def _seats(value: object) -> int:
    """A number of seats: an int from 1 to 10^12 (the bound of every quantity)."""
    return check_bounded("seats", value, minimum=1, maximum=_MAX_SEATS, unit="seats")


def _term_years(value: object) -> int:
    """A term's length: an int of years from 1 to 99."""
    return check_bounded("years", value, minimum=1, maximum=MAX_TERM_YEARS, unit="years")


_MAX_SEATS: Final = int(MAX_QUANTITY)


def _check_seats(_instance: Any, _attribute: Any, value: Any) -> None:
    _seats(value)


def _check_years(_instance: Any, _attribute: Any, value: Any) -> None:
    _term_years(value)


def _check_start(_instance: Any, _attribute: Any, value: Any) -> None:
    check_date("start", value)


def _check_anchor(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        check_date("anchor", value)


def _check_renewed_by(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None:
        check_instance("renewed_by", value, LicenseAccount)


@attrs.frozen(kw_only=True)
class LicenseAccount:
    """One term of a customer's licences of a product: ``seats`` users for ``years`` years.

    ``seats`` is at most 10^12 and ``years`` from 1 to 99; beyond,
    :class:`~subbill.errors.OutOfBoundsError`.

    ``end`` is the start plus ``years`` years (month-end clamped, half-open); people are
    shown ``last_day``. ``renewed_by`` is the next term once renewed: the account is then
    « renouvelé » while this term runs.
    """

    customer: str = attrs.field(validator=check_text)
    product: str = attrs.field(validator=check_text)
    #: Users of the term: an int from 1 to 10^12.
    seats: int = attrs.field(validator=_check_seats)
    start: date = attrs.field(validator=_check_start)
    #: The term's length: an int of years from 1 to 99.
    years: int = attrs.field(validator=_check_years)
    reseller: str | None = attrs.field(default=None, validator=one_line(optional=True))
    anchor: date | None = attrs.field(default=None, validator=_check_anchor)
    renewed_by: LicenseAccount | None = attrs.field(default=None, validator=_check_renewed_by)

    @property
    def holder(self) -> str:
        """The ledger name of the account: ``customer/product``."""
        return f"{self.customer}/{self.product}"

    @property
    def end(self) -> date:
        """The (exclusive) end of the term: ``start + years`` years, month-end clamped.

        Counted from ``anchor`` (the first term's start, kept by renewals), never from the
        previous end, so a chain of renewals started on 29 February comes back to the 29th
        in leap years instead of drifting to the 28th.
        """
        anchor = self.anchor or self.start
        return add_months(self.start, 12 * self.years, billing_day=anchor.day)

    @property
    def last_day(self) -> date:
        """The last day the licences are valid (the « date de fin » shown)."""
        return self.end - timedelta(days=1)

    @property
    def period(self) -> Period:
        """The term as a half-open period."""
        return Period(self.start, self.end)

    @property
    def licence_years(self) -> int:
        """Licences of the term: seats × years."""
        return self.seats * self.years

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """One licence account from plain data (a mapping read from a file).

        Keys: ``customer``, ``product``, ``seats`` (an int from 1 to 10^12) and ``years``
        (from 1 to 99), ``start``
        (``YYYY-MM-DD``) and optionally ``reseller``. Every bad field is reported at once
        in an :class:`~subbill.errors.InputError`.

        >>> LicenseAccount.from_mapping({"customer": "Garage", "product": "TBox", "seats": 6,
        ...                              "start": "2025-09-15", "years": 2}).last_day
        datetime.date(2027, 9, 14)
        >>> LicenseAccount.from_mapping({"customer": "Garage", "product": "TBox",
        ...                              "seats": "6", "start": "2025-09-15", "yeras": 2})
        Traceback (most recent call last):
        ...
        subbill.errors.InputError: seats: '6' must be a whole number, not a string
        years: is missing
        yeras: unknown key, did you mean 'years'?
        """
        document = structure(data, _AccountDocument)
        problems = Problems()
        with problems.at("seats"):
            _seats(document.seats)
        with problems.at("years"):
            _term_years(document.years)
        return problems.build(
            lambda: cls(
                customer=document.customer,
                product=document.product,
                seats=document.seats,
                start=document.start,
                years=document.years,
                reseller=document.reseller,
            )
        )


@attrs.frozen(kw_only=True)
class RenewalForm:
    """The four numbers of the seed's renewal form, and whether it can go through.

    ``available``: licences the partner or reseller can still allocate; ``years``: the
    renewal's length; ``seats``: licences assigned to the customer; ``left``: licences left
    to the partner or reseller after the renewal (``available − seats × years``).
    """

    pool: str
    available: Fraction
    years: int
    seats: int
    left: Fraction
    start: date
    end: date
    decision: Decision


@attrs.frozen(kw_only=True)
class Renewal:
    """What :func:`renew` gives back.

    ``renewed``: the account's term, now marked renewed (``renewed_by`` is ``new_term``);
    ``new_term``: the term that follows it; ``ledger``: the ledger with the renewal entry;
    ``form``: the renewal form as filled. Store both terms: a chain of renewals is read
    from the terms (see :func:`subbill.renewals.renewal_dashboard`).
    """

    renewed: LicenseAccount
    new_term: LicenseAccount
    ledger: LicenseLedger
    form: RenewalForm


def renewal_form(
    account: LicenseAccount,
    *,
    years: int,
    seats: int | None = None,
    ledger: LicenseLedger,
    pool: str,
    on: date,
    restart_on: date | None = None,
) -> RenewalForm:
    """Fill the renewal form: what the pool has, what the renewal takes, what is left.

    The renewed term starts at the current end (no gap, no overlap); an account that has
    already expired may instead restart on ``restart_on``. ``years`` is from 1 to 99 and
    ``seats`` (default: the account's) at most 10^12, as a :class:`LicenseAccount`'s.
    """
    check_instance("account", account, LicenseAccount)
    check_instance("ledger", ledger, LicenseLedger)
    check_date("on", on)
    check_line("pool", pool)
    _term_years(years)
    seats = _seats(account.seats if seats is None else seats)
    start = account.end
    if restart_on is not None:
        check_date("restart_on", restart_on)
        if on < account.end or restart_on < account.end:
            raise InvalidArgumentError(
                f"restart_on={restart_on.isoformat()} is only for an expired account whose "
                f"term ended on {account.last_day.isoformat()}, and must not be before its end"
            )
        start = restart_on
    available = ledger.balance(pool, account.product)
    needed = Fraction(seats * years)
    decision: Decision = Allowed()
    if account.renewed_by is not None:
        decision = refusal("already_renewed", customer=account.customer, product=account.product)
    elif needed > available:
        decision = refusal(
            "not_enough_licences",
            holder=pool,
            product=account.product,
            needed=_show(needed),
            available=_show(available),
        )
    return RenewalForm(
        pool=pool,
        available=available,
        years=years,
        seats=seats,
        left=available - needed,
        start=start,
        end=_next_term(account, seats, start, years, restarted=restart_on is not None).end,
        decision=decision,
    )


def _next_term(
    account: LicenseAccount, seats: int, start: date, years: int, *, restarted: bool
) -> LicenseAccount:
    """The term that follows ``account``, from ``start``, for ``seats`` and ``years``.

    A renewal keeps the chain's anchor; a restart after expiry starts a new chain.
    """
    anchor = None if restarted else (account.anchor or account.start)
    return attrs.evolve(
        account, seats=seats, start=start, years=years, anchor=anchor, renewed_by=None
    )


def renew(account: LicenseAccount, **terms: Unpack[RenewalTerms]) -> Renewal:
    """Renew ``account`` from ``pool``: the renewed term, the new term, the ledger, the form.

    Takes the keywords of :func:`renewal_form` (:class:`RenewalTerms`). The pool gives
    ``seats × years`` licence-years to the account. Refused
    (:class:`~subbill.decisions.RefusedError`, with needed and available) beyond the pool;
    nothing is half-applied.

    >>> ledger = LicenseLedger().grant("R", "TBox", 50, on=date(2026, 1, 1))
    >>> account = LicenseAccount(customer="ACME", product="TBox", seats=10,
    ...                          start=date(2025, 6, 1), years=1)
    >>> done = renew(account, years=2, ledger=ledger, pool="R", on=date(2026, 4, 1))
    >>> done.renewed.renewed_by == done.new_term, done.new_term.last_day
    (True, datetime.date(2028, 5, 31))
    >>> done.ledger.balance("R", "TBox"), done.form.left
    (Fraction(30, 1), Fraction(30, 1))
    """
    _check_keywords("renew", terms, RenewalTerms.__annotations__, required=_RENEWAL_REQUIRED)
    form = renewal_form(account, **terms)
    if isinstance(form.decision, Refused):
        raise RefusedError(form.decision, f"renew {account.product} for {account.customer!r}")
    restarted = terms.get("restart_on") is not None
    following = _next_term(account, form.seats, form.start, form.years, restarted=restarted)
    moved = terms["ledger"].move(
        EntryKind.RENEWAL,
        source=form.pool,
        target=account.holder,
        product=account.product,
        licence_years=form.seats * form.years,
        on=terms["on"],
        reference=f"renewal {form.start.isoformat()}",
    )
    return Renewal(
        renewed=attrs.evolve(account, renewed_by=following),
        new_term=following,
        ledger=moved,
        form=form,
    )


class SeatRule(enum.Enum):
    """How seats added mid-term consume licence-years."""

    PRORATED = "prorated"  # the exact fraction of the licence years left
    WHOLE_YEARS = "whole_years"  # every licence year started counts whole


def add_seats(
    account: LicenseAccount,
    seats: int,
    *,
    ledger: LicenseLedger,
    pool: str,
    on: date,
    rule: SeatRule = SeatRule.PRORATED,
) -> tuple[LicenseAccount, LicenseLedger, Fraction]:
    """Add users mid-term, prorated to the current end.

    Returns the account, the ledger and the licence-years consumed.

    >>> account = LicenseAccount(customer="ACME", product="TBox", seats=5,
    ...                          start=date(2026, 1, 1), years=1)
    >>> ledger = LicenseLedger().grant("R", "TBox", 10, on=date(2026, 1, 1))
    >>> _, _, used = add_seats(account, 2, ledger=ledger, pool="R", on=date(2026, 7, 2))
    >>> used
    Fraction(366, 365)
    """
    check_instance("account", account, LicenseAccount)
    check_instance("ledger", ledger, LicenseLedger)
    check_date("on", on)
    check_enum("rule", rule, SeatRule)
    check_line("pool", pool)
    _seats(seats)
    _seats(account.seats + seats)
    if not account.start <= on < account.end:
        raise InvalidArgumentError(
            f"on={on.isoformat()} must be inside the term {account.start.isoformat()} – "
            f"{account.last_day.isoformat()}"
        )
    schedule = schedule_for(account.start, ANNUAL)
    pieces = periods_over(on, account.end, schedule=schedule)
    if rule is SeatRule.WHOLE_YEARS:
        per_seat = Fraction(len(pieces))
    else:
        per_seat = sum((piece.factor for piece in pieces), Fraction(0))
    needed = per_seat * seats
    moved = ledger.move(
        EntryKind.ASSIGNMENT,
        source=pool,
        target=account.holder,
        product=account.product,
        licence_years=needed,
        on=on,
        reference=f"{seats} seats added",
    )
    return attrs.evolve(account, seats=account.seats + seats), moved, needed


@attrs.frozen(kw_only=True)
class _AccountDocument:
    """The plain-data shape :meth:`LicenseAccount.from_mapping` reads."""

    customer: Text
    product: Text
    seats: Positive
    start: date
    years: Positive
    reseller: Text | None = None

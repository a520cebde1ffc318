"""Renewal status of licence accounts and the reseller's renewal dashboard.

The colours of the seed: **blue**, not started yet; **orange**, the end date is less than
three months away; **red**, the end date has passed; **green tick**, already renewed (the
renewed term, with its end date, is shown only while it is still valid; after it, the
renewal chain's current term is what counts). Otherwise the account is active.

Exact boundaries, with the end date being the last day of validity (as shown):

- on the end date itself the licences are still valid: orange;
- the day after the end date: red;
- exactly three months before the end date (``end − 3 months``): still active, since the
  end is not *less* than three months away; orange from the next day. The comparison is
  ``end < as_of + warning``, with month-end clamping: for an end date of 31 May, 28 February
  is active and 1 March orange.

>>> from subbill.licenses import LicenseAccount
>>> account = LicenseAccount(customer="ACME", product="TBox", seats=5,
...                          start=date(2025, 6, 1), years=1)
>>> account.last_day
datetime.date(2026, 5, 31)
>>> [renewal_status(account, as_of=d).value for d in (date(2026, 2, 28), date(2026, 3, 1),
...                                                     date(2026, 5, 31), date(2026, 6, 1))]
['active', 'expiring_soon', 'expiring_soon', 'expired']
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date

import attrs
from dateutil.relativedelta import relativedelta

from subbill._validate import record_from
from subbill.errors import InvalidTypeError
from subbill.licenses import LicenseAccount
from subbill.periods import check_date

__all__ = [
    "THREE_MONTHS",
    "RenewalDashboard",
    "RenewalRow",
    "RenewalStatus",
    "renewal_dashboard",
    "renewal_status",
]

THREE_MONTHS = relativedelta(months=3)


class RenewalStatus(enum.Enum):
    """Where an account stands for renewal; ``colour`` is the seed's colour."""

    NOT_STARTED = "not_started"
    ACTIVE = "active"
    EXPIRING_SOON = "expiring_soon"
    EXPIRED = "expired"
    RENEWED = "renewed"

    @property
    def colour(self) -> str:
        """The seed's colour: blue, orange, red, green, or none for an active account."""
        return {
            "not_started": "blue",
            "active": "none",
            "expiring_soon": "orange",
            "expired": "red",
            "renewed": "green",
        }[self.value]

    @property
    def needs_renewal(self) -> bool:
        """True for the accounts the dashboard counts: expiring soon or expired."""
        return self in (RenewalStatus.EXPIRING_SOON, RenewalStatus.EXPIRED)


def renewal_status(
    account: LicenseAccount,
    *,
    as_of: date,
    warning: relativedelta = THREE_MONTHS,
    terms: Iterable[LicenseAccount] = (),
) -> RenewalStatus:
    """The renewal status on ``as_of`` of the renewal chain ``account`` belongs to.

    A renewed term is green (``RENEWED``) only while it is valid; after its last day, the
    chain's current term is what counts: the renewal (blue until it starts, if it restarts
    later), then its own colours. ``terms`` are other stored terms of the chain: a term
    renewed after ``account`` was stored is read in its renewed version, so the status
    agrees with :func:`renewal_dashboard` over the same terms.

    >>> old = LicenseAccount(customer="ACME", product="TBox", seats=10,
    ...                      start=date(2025, 6, 1), years=1,
    ...                      renewed_by=LicenseAccount(customer="ACME", product="TBox",
    ...                                                seats=12, start=date(2026, 6, 1),
    ...                                                years=2))
    >>> [renewal_status(old, as_of=d).value for d in (date(2026, 5, 31), date(2026, 6, 1),
    ...                                                 date(2028, 4, 16), date(2028, 6, 1))]
    ['renewed', 'active', 'expiring_soon', 'expired']
    """
    check_date("as_of", as_of)
    terms = tuple(terms)
    _check_inputs((account, *terms), warning)
    known = _known_terms((*terms, account))
    return _status(_current(account, known, as_of), as_of, warning)


def _status(term: LicenseAccount, as_of: date, warning: relativedelta) -> RenewalStatus:
    """The status of ``term`` itself, the chain's current term on ``as_of``."""
    if as_of < term.start:
        return RenewalStatus.NOT_STARTED
    if as_of > term.last_day:
        return RenewalStatus.EXPIRED
    if term.renewed_by is not None:
        return RenewalStatus.RENEWED
    if term.last_day < as_of + warning:
        return RenewalStatus.EXPIRING_SOON
    return RenewalStatus.ACTIVE


def _check_inputs(accounts: Iterable[object], warning: object) -> None:
    for account in accounts:
        if not isinstance(account, LicenseAccount):
            raise InvalidTypeError("account", account, "a LicenseAccount")
    if not isinstance(warning, relativedelta):
        raise InvalidTypeError("warning", warning, "a dateutil relativedelta, e.g. months=3")


def _key(account: LicenseAccount) -> tuple[str, str, date]:
    return (account.customer, account.product, account.start)


def _renewals(term: LicenseAccount) -> int:
    """How many renewals ``term`` knows of: the length of its ``renewed_by`` links."""
    count = 0
    while term.renewed_by is not None:
        term, count = term.renewed_by, count + 1
    return count


def _known_terms(
    accounts: Iterable[LicenseAccount],
) -> dict[tuple[str, str, date], LicenseAccount]:
    """Every term given or linked, by key, each in the version that knows most renewals.

    ``renew`` returns the renewed term pointing at a copy of the new term; once that new
    term is renewed in turn, the copy inside the older term is out of date. Reading each
    term by its key (customer, product, start) finds its renewed version.
    """
    known: dict[tuple[str, str, date], LicenseAccount] = {}
    for account in accounts:
        term: LicenseAccount | None = account
        while term is not None:
            key = _key(term)
            if key not in known or _renewals(term) > _renewals(known[key]):
                known[key] = term
            term = term.renewed_by
    return known


def _current(
    account: LicenseAccount, known: dict[tuple[str, str, date], LicenseAccount], as_of: date
) -> LicenseAccount:
    """The term of ``account``'s chain current on ``as_of``.

    A term counts until its last day; after it, its renewal does (even before it starts,
    for a renewal restarted later). The last term of a chain counts after its end.
    """
    term = known[_key(account)]
    while term.renewed_by is not None and as_of > term.last_day:
        term = known[_key(term.renewed_by)]
    return term


def _current_terms(accounts: Iterable[LicenseAccount], as_of: date) -> list[LicenseAccount]:
    """One term per renewal chain: the term current on ``as_of``.

    A renewed term is shown (green) while it is valid; once it is over, its renewal is
    shown instead. A term given several times (its renewal on its own, out-of-date copies
    inside older terms) is listed once.
    """
    known = _known_terms(accounts)
    successors = {_key(t.renewed_by) for t in known.values() if t.renewed_by is not None}
    return [_current(head, known, as_of) for key, head in known.items() if key not in successors]


@attrs.frozen(kw_only=True)
class RenewalRow:
    """A row of the « Clients à renouveler » tab, with the seed's columns."""

    customer: str
    product: str
    reseller: str | None
    start: date
    end: date  # the last day of validity, as shown
    years: int
    seats: int  # « licences à renouveler »: the users (seats) of the term, not licence-years
    status: RenewalStatus

    @property
    def licence_years(self) -> int:
        """Licence-years a renewal of the same seats and length takes: seats × years."""
        return self.seats * self.years


@attrs.frozen(kw_only=True)
class RenewalDashboard:
    """The dashboard: companies to renew (in all and by reseller) and the renewal list."""

    as_of: date
    companies_to_renew: int
    by_reseller: tuple[tuple[str | None, int], ...]
    rows: tuple[RenewalRow, ...]

    def to_renew(self) -> tuple[RenewalRow, ...]:
        """The rows that need a renewal (orange and red)."""
        return tuple(row for row in self.rows if row.status.needs_renewal)


def renewal_dashboard(
    accounts: Iterable[LicenseAccount],
    *,
    as_of: date,
    warning: relativedelta = THREE_MONTHS,
    descending: bool = False,
) -> RenewalDashboard:
    """Build the dashboard on ``as_of``: rows sorted by end date (then customer).

    « Nombre de sociétés à renouveler » counts distinct companies with an account expiring
    soon or expired and not renewed; ``by_reseller`` splits that count by reseller. Each
    renewal chain shows its current term: a renewed term while it is valid, then its renewal.
    """
    check_date("as_of", as_of)
    accounts = tuple(accounts)
    _check_inputs(accounts, warning)
    rows = [
        record_from(
            RenewalRow, account, end=account.last_day, status=_status(account, as_of, warning)
        )
        for account in _current_terms(accounts, as_of)
    ]
    rows.sort(key=lambda row: (row.end, row.customer, row.product), reverse=descending)
    to_renew = {(row.customer, row.reseller) for row in rows if row.status.needs_renewal}
    resellers: dict[str | None, set[str]] = {}
    for customer, reseller in to_renew:
        resellers.setdefault(reseller, set()).add(customer)
    by_reseller = tuple(
        sorted(((name, len(c)) for name, c in resellers.items()), key=lambda item: item[0] or "")
    )
    return RenewalDashboard(
        as_of=as_of,
        companies_to_renew=len({customer for customer, _ in to_renew}),
        by_reseller=by_reseller,
        rows=tuple(rows),
    )

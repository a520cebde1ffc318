"""Bad inputs found by the review of issue 10: money arithmetic beyond the bounds, payments of
unrounded amounts, numbering patterns, card numbers with other separators or turned into
IBANs, and the command line's databases and dates.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from subbill import LicenseAccount, Money, Payment, TaxRate, cli
from subbill.errors import (
    CardDataError,
    InputError,
    InvalidAmountError,
    InvalidArgumentError,
    InvalidBillingDayError,
    InvalidDateError,
    InvalidTypeError,
    OutOfBoundsError,
    StorageError,
)
from subbill.invoices import InvoiceNumbering
from subbill.l10n import format_money
from subbill.payments import OtherMethod, check_no_card_number
from subbill.periods import add_months
from subbill.proration import prorate
from subbill.storage import SQLiteStore
from subbill.taxes import line_taxes
from tests.adversarial import Case

EUR = "EUR"
DAY = date(2026, 3, 1)
AS_OF = ("--as-of", "2026-03-01")
VAT = TaxRate(name="TVA 20 %", percent="20")
TEN = Money("10", EUR)


def _payment(amount: Money) -> Callable[[], object]:
    return lambda: Payment(amount=amount, paid_on=DAY)


def _label(label: str) -> Callable[[], object]:
    return lambda: OtherMethod(id="pm_1", kind="sepa", label=label)


class _File:
    """A file in a fresh folder (made when called) whose bytes and folder must not change."""

    def __init__(self, content: bytes | None) -> None:
        self.content = content
        self.folder = Path()

    def path(self) -> Path:
        self.folder = Path(tempfile.mkdtemp(prefix="subbill-review-"))
        path = self.folder / "empty.db"
        if self.content is not None:
            path.write_bytes(self.content)
        return path

    def unchanged(self) -> bool:
        try:
            names = sorted(p.name for p in self.folder.iterdir())
            if self.content is None:
                return names == []
            return names == ["empty.db"] and (self.folder / "empty.db").read_bytes() == self.content
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _cli(*argv: object) -> None:
    """Run ``subbill argv``, letting its (typed) error out; it must not succeed."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = cli._execute(cli._parse([str(arg) for arg in argv]))
    raise AssertionError(f"subbill {argv} exited with {status}: it must fail")


def _cli_case(id_: str, content: bytes | None, error: type[Exception], *argv: str) -> Case:
    file = _File(content)
    return Case(id_, lambda: _cli(*argv, "--db", file.path()), error, file.unchanged)


def _store_case(id_: str, content: bytes | None) -> Case:
    file = _File(content)
    return Case(id_, lambda: SQLiteStore(file.path(), create=False), StorageError, file.unchanged)


def _parse_only(*argv: str) -> None:
    """Parse ``subbill argv`` without running it: a bad argument is a typed usage error."""
    cli._parse(list(argv))
    raise AssertionError(f"subbill {argv} was parsed: it must be refused")


def _date_case(id_: str, text: str) -> Case:
    return Case(id_, lambda: _parse_only("bill-run", "--as-of", text), cli._CommandError)


def _account_date_case(id_: str, text: str) -> Case:
    account = {"customer": "Garage Petit", "product": "TBox", "seats": 6, "years": 2}
    return Case(id_, lambda: LicenseAccount.from_mapping({**account, "start": text}), InputError)


_PATTERNS = [
    "{seq}{seq}",
    "F-{month}-{seq}",
    "{seq:>100000000}",
    "{seq:6d}",
    "{seq:021d}",
    "F-{year}",
    "F-{year}-{year}-{seq}",
    "F-{seq",
    "F-{{seq}}-{seq}",
    "F\n{seq}",
    "F-\u202e{seq}",
    "{seq!r}",
    "{0}-{seq}",
    "{}-{seq}",
    "{seq.real}",
    "{seq[0]}",
    "{year:04d}-{seq}",
    "",
]

_CARD_LABELS = [
    "Visa 4111.1111.1111.1111",
    "Visa 4111_1111_1111_1111",
    "Visa 4111/1111/1111/1111",
    "Visa 4111.1111-1111/1111",
    "Visa 4111 . 1111 _ 1111 / 1111",
    "Visa 4242\\4242\\4242\\4242",
    "Amex 3782.822463.10005",
    "Diners 3056_930902_5904",
    "SEPA FR314111111111111111",
    "SEPA FR31 4111 1111 1111 1111",
]

CASES = [
    # -- money arithmetic beyond the bound of an amount --------------------------------------------
    Case("review-money-mul-beyond", lambda: Money("1e14", EUR) * 1000, OutOfBoundsError),
    Case("review-money-rmul-beyond", lambda: 1000 * Money("-1e14", EUR), OutOfBoundsError),
    Case("review-money-mul-decimal", lambda: TEN * Decimal("1e14"), OutOfBoundsError),
    Case("review-money-mul-huge-decimal", lambda: TEN * Decimal("1e999999"), OutOfBoundsError),
    Case("review-money-mul-fraction", lambda: TEN * Fraction(10**60), OutOfBoundsError),
    Case("review-money-mul-huge-int", lambda: TEN * 10**5000, OutOfBoundsError),
    Case("review-money-div-tiny", lambda: TEN / Decimal("1e-999999"), OutOfBoundsError),
    Case("review-money-div-fraction", lambda: TEN / Fraction(1, 10**20), OutOfBoundsError),
    Case("review-money-div-tiny-int-fraction", lambda: TEN / Fraction(1, 10**60), OutOfBoundsError),
    Case("review-money-percent-huge", lambda: TEN.percent(Decimal("1e999999")), OutOfBoundsError),
    Case("review-money-percent-beyond", lambda: TEN.percent(Decimal("1e16")), OutOfBoundsError),
    Case(
        "review-money-prorate-beyond",
        lambda: prorate(Money("9e14", EUR), Fraction(10**60)),
        OutOfBoundsError,
    ),
    Case("review-money-prorate-double", lambda: prorate(Money("9e14", EUR), 2), OutOfBoundsError),
    Case("review-money-split-huge", lambda: TEN.split(10**30), OutOfBoundsError),
    Case("review-money-split-million-and-one", lambda: TEN.split(10**6 + 1), OutOfBoundsError),
    Case("review-money-allocate-none", lambda: TEN.allocate(None), InvalidTypeError),  # type: ignore[arg-type]
    Case("review-money-allocate-int", lambda: TEN.allocate(3), InvalidTypeError),  # type: ignore[arg-type]
    Case("review-money-allocate-str", lambda: TEN.allocate("12"), InvalidTypeError),  # type: ignore[arg-type]
    Case(
        "review-money-allocate-endless",
        lambda: TEN.allocate(iter(int, 1)),  # an endless iterator of zeros
        OutOfBoundsError,
    ),
    # -- a payment is real money -------------------------------------------------------------------
    Case("review-money-payment-third", _payment(TEN / 3), InvalidAmountError),
    Case("review-money-payment-half-yen", _payment(Money("1.5", "JPY")), InvalidAmountError),
    Case("review-money-payment-mills", _payment(Money("0.001", EUR)), InvalidAmountError),
    Case(
        "review-money-payment-beyond",
        _payment(Money("9e14", EUR) + Money("9e14", EUR)),
        OutOfBoundsError,
    ),
    # -- one-line calls that raised raw Python errors ----------------------------------------------
    Case(
        "review-money-add-months-negative-day",
        lambda: add_months(DAY, 1, billing_day=-1),
        InvalidBillingDayError,
    ),
    Case(
        "review-money-add-months-day-32",
        lambda: add_months(DAY, 1, billing_day=32),
        InvalidBillingDayError,
    ),
    Case("review-money-add-months-none", lambda: add_months(None, 1), InvalidDateError),  # type: ignore[arg-type]
    Case("review-money-add-months-float", lambda: add_months(DAY, 1.0), InvalidTypeError),  # type: ignore[arg-type]
    Case("review-money-format-none", lambda: format_money(None, locale="fr_FR"), InvalidTypeError),  # type: ignore[arg-type]
    Case(
        "review-money-format-decimal",
        lambda: format_money(Decimal("1"), locale="fr_FR"),  # type: ignore[arg-type]
        InvalidTypeError,
    ),
    Case("review-money-taxes-none", lambda: line_taxes(None, [(VAT,)]), InvalidTypeError),  # type: ignore[arg-type]
    Case("review-money-taxes-rates-none", lambda: line_taxes([TEN], None), InvalidTypeError),  # type: ignore[arg-type]
    Case("review-money-taxes-line-none", lambda: line_taxes([None], [(VAT,)]), InvalidTypeError),  # type: ignore[list-item]
    Case("review-money-taxes-rate-bare", lambda: line_taxes([TEN], [VAT]), InvalidTypeError),  # type: ignore[list-item]
    Case("review-money-taxes-rate-none", lambda: line_taxes([TEN], [(None,)]), InvalidTypeError),  # type: ignore[list-item]
    # -- numbering patterns ------------------------------------------------------------------------
    *(
        Case(
            f"review-money-pattern-{index}",
            lambda pattern=pattern: InvoiceNumbering(pattern=pattern),
            InvalidArgumentError,
        )
        for index, pattern in enumerate(_PATTERNS)
    ),
    Case("review-money-pattern-none", lambda: InvoiceNumbering(pattern=None), InvalidTypeError),  # type: ignore[arg-type]
    Case("review-money-pattern-int", lambda: InvoiceNumbering(pattern=7), InvalidTypeError),  # type: ignore[arg-type]
    # -- card numbers ------------------------------------------------------------------------------
    *(
        Case(f"review-money-card-label-{index}", _label(label), CardDataError)
        for index, label in enumerate(_CARD_LABELS)
    ),
    Case(
        "review-money-card-check",
        lambda: check_no_card_number("label", "4111.1111.1111.1111"),
        CardDataError,
    ),
    # -- databases that a command may not create, dates not written YYYY-MM-DD ---------------------
    _cli_case("review-money-cli-bill-run-empty-db", b"", StorageError, "bill-run", *AS_OF),
    _cli_case("review-money-cli-renewals-empty-db", b"", StorageError, "renewals", *AS_OF),
    _cli_case("review-money-cli-bill-run-missing-db", None, cli._CommandError, "bill-run", *AS_OF),
    _store_case("review-money-store-empty-file", b""),
    _store_case("review-money-store-missing-file", None),
    _store_case("review-money-store-text-file", b"not a database\n"),
    _date_case("review-money-cli-date-basic", "20260301"),
    _date_case("review-money-cli-date-week", "2026-W09-1"),
    _date_case("review-money-cli-date-time", "2026-03-01T00:00"),
    _date_case("review-money-cli-date-fullwidth", "\uff12\uff10\uff12\uff16-03-01"),
    _date_case("review-money-cli-date-renewals", "2026-3-1"),
    _account_date_case("review-money-file-date-basic", "20250915"),
    _account_date_case("review-money-file-date-week", "2025-W38-1"),
    _account_date_case("review-money-file-date-time", "2025-09-15T00:00"),
]

__all__ = ["CASES"]

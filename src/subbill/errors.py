"""The errors subbill raises: one root, a stable code each, a message that says what to do.

Every error subclasses :class:`SubbillError` and the builtin that fits (``ValueError`` for
a bad value, ``TypeError`` for a value of the wrong type), carries a class-level ``code``
that applications can match on or translate, and keeps the offending values as attributes.

>>> from subbill import Money
>>> try:
...     Money(19.99, "EUR")
... except SubbillError as error:
...     print(error.code, "|", error)
float_amount | amount=19.99 is a float; pass a str or a Decimal, e.g. Money("19.99", "EUR")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # the refusal a RefusedError carries; decisions imports this module
    from subbill.decisions import Refused

__all__ = [
    "CardDataError",
    "CatalogError",
    "CurrencyMismatchError",
    "DatabaseLockedError",
    "DiskFullError",
    "FloatAmountError",
    "InputError",
    "InvalidAllocationError",
    "InvalidAmountError",
    "InvalidArgumentError",
    "InvalidBillingDayError",
    "InvalidCardError",
    "InvalidDateError",
    "InvalidFrequencyError",
    "InvalidIdentifierError",
    "InvalidPeriodError",
    "InvalidQuantityError",
    "InvalidStateError",
    "InvalidTransitionError",
    "InvalidTypeError",
    "OutOfBoundsError",
    "ReadOnlyDatabaseError",
    "RefusedError",
    "StorageError",
    "StoredDataError",
    "SubbillError",
    "UnknownCodeError",
    "UnknownCurrencyError",
    "UnknownLocaleError",
]


class SubbillError(Exception):
    """Root of every error raised by subbill.

    Attributes:
        code: a stable, machine-readable identifier of the kind of error.
    """

    code: ClassVar[str] = "subbill_error"


class _NamedValueError(SubbillError):
    """An error about one named value; its message says ``name=value must be expected``.

    The one message builder of the errors raised as ``Error(name, value, expected)``
    (:class:`InvalidAmountError`, :class:`InvalidTypeError`, :class:`OutOfBoundsError`).

    Attributes:
        name: the argument or field the value was given as.
        value: the value refused.
    """

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.name = name
        self.value = value
        super().__init__(f"{name}={value!r} must be {expected}")


class InvalidArgumentError(SubbillError, ValueError):
    """A value is outside what the function accepts (the message names it)."""

    code: ClassVar[str] = "invalid_argument"


class FloatAmountError(SubbillError, TypeError):
    """A ``float`` was given where an exact amount is required."""

    code: ClassVar[str] = "float_amount"

    def __init__(self, name: str, value: float) -> None:
        self.name = name
        self.value = value
        super().__init__(
            f'{name}={value!r} is a float; pass a str or a Decimal, e.g. Money("{value}", "EUR")'
        )


class InvalidAmountError(_NamedValueError, ValueError):
    """An amount could not be read as a finite decimal number."""

    code: ClassVar[str] = "invalid_amount"


class UnknownCurrencyError(SubbillError, ValueError):
    """A currency code is not an ISO 4217 code known to babel."""

    code: ClassVar[str] = "unknown_currency"

    def __init__(self, currency: object) -> None:
        self.currency = currency
        super().__init__(
            f"currency={currency!r} is not an ISO 4217 currency code; "
            "expected three letters such as 'EUR', 'USD' or 'JPY'"
        )


class UnknownLocaleError(SubbillError, ValueError):
    """A locale name that babel does not know."""

    code: ClassVar[str] = "unknown_locale"

    def __init__(self, locale: object) -> None:
        self.locale = locale
        super().__init__(
            f"locale={locale!r} is not a known locale; expected e.g. 'fr_FR' or 'en_US'"
        )


class CurrencyMismatchError(SubbillError, ValueError):
    """Two amounts in different currencies were combined."""

    code: ClassVar[str] = "currency_mismatch"

    def __init__(self, left: str, right: str, operation: str) -> None:
        self.left = left
        self.right = right
        self.operation = operation
        super().__init__(
            f"cannot {operation} {left} and {right}: both amounts must be in the same currency"
        )


class InvalidAllocationError(SubbillError, ValueError):
    """Weights given to ``Money.allocate`` cannot split an amount."""

    code: ClassVar[str] = "invalid_allocation"


class InvalidFrequencyError(SubbillError, ValueError):
    """A billing frequency has a count below one or an unknown unit."""

    code: ClassVar[str] = "invalid_frequency"


class InvalidPeriodError(SubbillError, ValueError):
    """A period's end is not after its start."""

    code: ClassVar[str] = "invalid_period"


class InvalidBillingDayError(SubbillError, ValueError):
    """A billing day is outside 1–31, or does not fit the schedule's anchor."""

    code: ClassVar[str] = "invalid_billing_day"


class InvalidDateError(SubbillError, TypeError):
    """A date argument is missing or is not a plain ``datetime.date``."""

    code: ClassVar[str] = "invalid_date"

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = value
        kind = "a datetime" if hasattr(value, "hour") else type(value).__name__
        super().__init__(
            f"{name}={value!r} must be a datetime.date (got {kind}); "
            "pass date(2026, 3, 1), or value.date() for a datetime"
        )


class InvalidTypeError(_NamedValueError, TypeError):
    """A value of the wrong type (a string where a ``Frequency`` is expected, …)."""

    code: ClassVar[str] = "invalid_type"


class InvalidIdentifierError(_NamedValueError, ValueError):
    """A company identifier (SIREN, SIRET, VAT number, e-invoicing address) is missing or wrong.

    ``name`` is the field (``siren``, ``buyer.vat_number``); the message says why (a bad
    check digit, a wrong length, a VAT number reverse charge needs and does not have).
    """

    code: ClassVar[str] = "invalid_identifier"


class InvalidQuantityError(SubbillError, ValueError):
    """A quantity (seats, units, licences) is negative, not a number, or out of bounds."""

    code: ClassVar[str] = "invalid_quantity"


class OutOfBoundsError(_NamedValueError, ValueError):
    """A magnitude (amount, quantity, count, date) is beyond what billing needs.

    The bounds are documented in ``docs/guarantees.md``; they keep every computation exact
    and fast (no ``decimal.InvalidOperation``, ``OverflowError`` or year 10000 at billing
    time).
    """

    code: ClassVar[str] = "out_of_bounds"


class CardDataError(SubbillError, ValueError):
    """Card data that must never be stored (a full card number, a security code)."""

    code: ClassVar[str] = "card_data"


class InvalidStateError(SubbillError, ValueError):
    """The call is well formed but the current state forbids it (the message says which)."""

    code: ClassVar[str] = "invalid_state"


class StorageError(SubbillError, RuntimeError):
    """The store could not do what was asked (locked, full, read-only, damaged row…)."""

    code: ClassVar[str] = "storage_error"


class InputError(SubbillError, ValueError):
    """Input data (a file's content, a mapping) with bad fields: every one is in ``problems``.

    Each problem is a ``(path, message)`` pair: the path of the field inside the document
    (``plans[0].limits.clients``; empty for the document itself) and what is wrong with it.
    The error's text lists them one per line.

    >>> error = InputError([("plans[0].limts", "unknown key, did you mean 'limits'?"),
    ...                     ("currency", "is missing")])
    >>> print(error)
    plans[0].limts: unknown key, did you mean 'limits'?
    currency: is missing
    >>> error.problems[1]
    ('currency', 'is missing')
    """

    code: ClassVar[str] = "invalid_input"

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems: tuple[tuple[str, str], ...] = tuple(
            (str(path), str(message)) for path, message in problems
        )
        super().__init__(
            "\n".join(f"{path}: {message}" if path else message for path, message in self.problems)
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class InvalidTransitionError(InvalidStateError):
    """A lifecycle verb was used in a state that does not allow it (an invalid state)."""

    code: ClassVar[str] = "invalid_transition"

    def __init__(self, document: str, status: str, action: str, expected: str) -> None:
        self.document = document
        self.status = status
        self.action = action
        super().__init__(f"cannot {action} {document} with status={status}: {expected}")


class InvalidCardError(CardDataError):
    """Card data that must not be stored, or is not a card (a bad last 4, a bad expiry)."""

    code: ClassVar[str] = "invalid_card"


class RefusedError(SubbillError, ValueError):
    """An action was attempted although its decision is a refusal; ``refusal`` says why."""

    code: ClassVar[str] = "refused"

    def __init__(self, refusal: Refused, action: str) -> None:
        self.refusal = refusal
        self.action = action
        facts = ", ".join(f"{key}={value!r}" for key, value in refusal.facts)
        super().__init__(f"cannot {action}: refused ({refusal.code}; {facts})")


class CatalogError(InputError):
    """The catalog's data is bad or inconsistent; ``path`` names the (first) bad field.

    ``problems`` holds every ``(path, message)`` found: :meth:`Catalog.from_mapping`
    reports all the bad fields of the data at once; the consistency checks of a
    :class:`Catalog` (duplicate codes or ranks, unknown references, cycles) the first one.
    """

    code: ClassVar[str] = "invalid_catalog"

    def __init__(self, path: str, message: str, *more: tuple[str, str]) -> None:
        super().__init__(((path, message), *more))
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (*self.problems[0], *self.problems[1:]))


class UnknownCodeError(SubbillError, LookupError, ValueError):
    """A plan, module or add-on code that the catalog does not hold."""

    code: ClassVar[str] = "unknown_code"

    def __init__(self, kind: str, value: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.value = value
        names = ", ".join(sorted(known)) or "none"
        super().__init__(f"{kind}={value!r} is not in the catalog; known: {names}")

    def __str__(self) -> str:  # LookupError would quote the message otherwise
        return str(self.args[0])


class DatabaseLockedError(StorageError):
    """Another process held the write lock for longer than the store waits.

    Attributes:
        path: the database.
        waited: how long the store waited for the lock, in seconds.
    """

    code: ClassVar[str] = "database_locked"

    def __init__(self, path: str, *, waited: float) -> None:
        self.path = path
        self.waited = waited
        super().__init__(
            f"{path}: database is locked by another process (waited {waited:g} s); "
            "try again when it has finished"
        )


class DiskFullError(StorageError):
    """A write did not fit: the disk (or the database's size limit) is full.

    The transaction it was part of is rolled back: nothing of it is kept.
    """

    code: ClassVar[str] = "disk_full"

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"{path}: disk is full; nothing of the interrupted transaction was saved, "
            "free some space and run the command again"
        )


class ReadOnlyDatabaseError(StorageError):
    """A write was asked of a database opened read-only, or of a file that cannot be written."""

    code: ClassVar[str] = "read_only_database"

    def __init__(self, path: str, *, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: read-only database ({reason}); nothing was written")


class StoredDataError(StorageError, ValueError):
    """A stored row that cannot be read back (unknown version, damaged document).

    Attributes:
        table: the table of the row (``None`` when the document was not read from a table).
        key: the row's id in that table.

    >>> print(StoredDataError("not valid JSON", table="subscriptions", key="S1"))
    subscriptions row 'S1': not valid JSON
    """

    code: ClassVar[str] = "stored_data"

    def __init__(self, message: str, *, table: str | None = None, key: object = None) -> None:
        self.table = table
        self.key = key
        super().__init__(message if table is None else f"{table} row {key!r}: {message}")

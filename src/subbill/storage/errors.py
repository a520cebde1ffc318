"""The errors a store raises: every one a :class:`~subbill.errors.StorageError`.

A store never lets a driver's exception (``sqlite3.OperationalError``…) reach its caller:
it raises one of these instead, with a message that says what happened in words an
operator can act on, and the driver's exception as ``__cause__``.

>>> error = DatabaseLockedError("billing.db", waited=60.0)
>>> isinstance(error, StorageError), error.code
(True, 'database_locked')
>>> print(error)
billing.db: database is locked by another process (waited 60 s); try again when it has finished
"""

from __future__ import annotations

from typing import ClassVar

from subbill.errors import StorageError

__all__ = [
    "DatabaseLockedError",
    "DiskFullError",
    "ReadOnlyDatabaseError",
    "StorageError",
    "StoredDataError",
]


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

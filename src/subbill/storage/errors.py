"""The errors a store raises: every one a :class:`~subbill.errors.StorageError`.

They are defined in :mod:`subbill.errors` with every other error and named here too.

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

from subbill.errors import (
    DatabaseLockedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StorageError,
    StoredDataError,
)

__all__ = [
    "DatabaseLockedError",
    "DiskFullError",
    "ReadOnlyDatabaseError",
    "StorageError",
    "StoredDataError",
]

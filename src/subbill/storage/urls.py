"""A store from its URL: what a process (a Dask task, a worker) is given to open its own.

``sqlite:///path/to/billing.db`` (three slashes and a relative path, four and an absolute
one, as SQLAlchemy writes them) opens a :class:`~subbill.storage.sqlite.SQLiteStore`;
``postgresql://…`` (or ``postgres://…``) a :class:`~subbill.storage.postgres.PostgresStore`,
which needs the ``subbill[postgres]`` extra. A store is never sent to another process: its
URL is, and each process opens its own connection.

>>> sqlite_path("sqlite:////var/lib/billing.db"), sqlite_path("sqlite:///billing.db")
('/var/lib/billing.db', 'billing.db')
>>> open_store("mysql://localhost/billing")
Traceback (most recent call last):
...
subbill.errors.InvalidArgumentError: url='mysql://localhost/billing' must start with sqlite:/// or postgresql://
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from subbill._validate import brief
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import InvoiceNumbering
from subbill.storage.sqlite import SQLiteStore

if TYPE_CHECKING:
    from subbill.storage.postgres import PostgresStore

__all__ = ["is_store_url", "open_store", "sqlite_path"]

_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql://", "postgres://")


def is_store_url(url: object) -> bool:
    """Whether ``url`` is a store URL :func:`open_store` opens."""
    return isinstance(url, str) and url.startswith((_SQLITE, *_POSTGRES))


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///…`` URL."""
    if not (isinstance(url, str) and url.startswith(_SQLITE) and len(url) > len(_SQLITE)):
        raise InvalidArgumentError(f"url={brief(url)!r} must be sqlite:///PATH")
    return url.removeprefix(_SQLITE)


def open_store(
    url: str, *, numbering: InvoiceNumbering | None = None
) -> SQLiteStore | PostgresStore:
    """Open the store ``url`` names (``sqlite:///…`` or ``postgresql://…``)."""
    if not isinstance(url, str):
        raise InvalidTypeError("url", brief(url), "a store URL (a str)")
    if url.startswith(_POSTGRES):
        from subbill.storage.postgres import PostgresStore  # noqa: PLC0415  (an optional extra)

        return PostgresStore(url, numbering=numbering)
    if url.startswith(_SQLITE):
        return SQLiteStore(sqlite_path(url), numbering=numbering)
    raise InvalidArgumentError(f"url={brief(url)!r} must start with {_SQLITE} or {_POSTGRES[0]}")

"""Storage for the applications around subbill: ports (``protocols``) and three adapters.

The core never imports this package. ``memory.MemoryStore`` is for tests and notebooks;
``sqlite.SQLiteStore`` is the embedded default (one file, WAL mode, schema created and
migrated by the adapter); ``postgres.PostgresStore`` is one PostgreSQL database shared by
several processes or machines (the ``subbill[postgres]`` extra: it is imported only when
used). They store the value objects as versioned plain data (``codec``) and are proven
equivalent by one Hypothesis state machine. ``open_store(url)`` opens a store from its URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from subbill.storage.memory import MemoryStore
from subbill.storage.protocols import Store
from subbill.storage.sqlite import SQLiteStore
from subbill.storage.urls import open_store

if TYPE_CHECKING:
    from subbill.storage.postgres import PostgresStore

__all__ = ["MemoryStore", "PostgresStore", "SQLiteStore", "Store", "open_store"]


def __getattr__(name: str) -> Any:
    """``PostgresStore``, imported on first use: psycopg is an optional extra."""
    if name == "PostgresStore":
        from subbill.storage.postgres import PostgresStore  # noqa: PLC0415

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Storage for the applications around subbill: ports (``protocols``) and two adapters.

The core never imports this package. ``memory.MemoryStore`` is for tests and notebooks;
``sqlite.SQLiteStore`` is the embedded default (one file, WAL mode, schema created and
migrated by the adapter). Both store the value objects as versioned plain data
(``codec``) and are proven equivalent by one Hypothesis state machine.
"""

from subbill.storage.memory import MemoryStore
from subbill.storage.protocols import Store
from subbill.storage.sqlite import SQLiteStore

__all__ = ["MemoryStore", "SQLiteStore", "Store"]

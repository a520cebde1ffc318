"""How deep a store's open transaction is: nested blocks join the outermost one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Nesting"]


class Nesting:
    """The depth of a store's transaction blocks; only the outermost begins and ends it.

    >>> nesting = Nesting()
    >>> with nesting.level() as outermost, nesting.level() as inner:
    ...     outermost, inner, nesting.depth
    (True, False, 2)
    >>> nesting.depth
    0
    """

    def __init__(self) -> None:
        self.depth = 0

    @contextmanager
    def level(self) -> Iterator[bool]:
        """One level deeper for the block; yields whether it is the outermost one."""
        self.depth += 1
        try:
            yield self.depth == 1
        finally:
            self.depth -= 1

"""Which shard a subscription belongs to: a stable hash of its id.

A bill run can be split into ``shards`` runs (``run_billing(store, shard=i, shards=n)``),
in as many processes, each billing the subscriptions of its own shard. The shard of an id
is the CRC-32 of its UTF-8 bytes modulo ``shards``: the same in every process, on every
machine and in every Python version (``hash()`` is salted per process, so it would not do).

>>> shard_of("S0000001", 4)
1
>>> [shard_of("S0000001", 1), shard_of("S0000001", 2)]
[0, 1]
"""

from __future__ import annotations

import zlib
from typing import Final

from subbill._validate import check_count, check_line

__all__ = ["MAX_SHARDS", "check_shard", "shard_of"]

#: The most shards a run can be split into.
MAX_SHARDS: Final = 10_000


def shard_of(subscription_id: str, shards: int) -> int:
    """The shard (``0`` to ``shards - 1``) of ``subscription_id`` among ``shards``.

    >>> shard_of("S1", 0)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: shards=0 must be an int from 1 to 10000
    """
    count = check_count("shards", shards, minimum=1, maximum=MAX_SHARDS)
    key: str = check_line("subscription_id", subscription_id)
    return zlib.crc32(key.encode("utf-8")) % count


def check_shard(shard: object, shards: object) -> tuple[int, int]:
    """Return ``(shard, shards)`` if ``shards`` is 1 to :data:`MAX_SHARDS` and ``shard`` in it.

    >>> check_shard(2, 2)
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: shard=2 must be an int from 0 to 1
    """
    count = check_count("shards", shards, minimum=1, maximum=MAX_SHARDS)
    return check_count("shard", shard, maximum=count - 1), count

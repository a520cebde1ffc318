"""The layers of subbill, bottom to top: a module imports only from the layers below it.

Written once, here; ``tests/test_package.py`` reads it and fails on an import that points up
this list or closes a cycle. ``CORE`` is the pure core (no I/O, no clock, no words for
people); ``EDGE`` may import anything in the core, and nothing in the core imports it. A
package (``l10n``, ``storage``) is one layer; its modules may import each other, without a
cycle. An import inside ``if TYPE_CHECKING:`` is for annotations only and is not counted.

The order follows ``DESIGN.md`` with these additions: ``decisions`` sits just above
``errors`` (an ``Allowed | Refused`` value needs nothing else, and ``RefusedError`` lives
in ``errors`` with every other error), ``_records`` (the slot writes of the engine's
unchecked builds) just above ``_validate``, ``_structure`` (the strict readers of plain data)
just above the value objects it reads, ``customers`` below ``subscriptions``, which
refer to them by id, ``identifiers`` (SIREN, SIRET and VAT number checks) low, since
customers and the seller's ``parties`` (just above ``customers``) both check theirs, and
``metering`` (usage records and the pricing of usage charges) just above ``charges``, below
the engine that will bill it. ``_gc`` (fewer garbage collections while a bill run lasts)
sits just above ``_records``.
"""

from __future__ import annotations

__all__ = ["CORE", "EDGE", "LAYERS"]

#: The pure core, bottom to top.
CORE: tuple[str, ...] = (
    "errors",
    "_validate",
    "_records",
    "_gc",
    "decisions",
    "identifiers",
    "money",
    "periods",
    "proration",
    "taxes",
    "_structure",
    "discounts",
    "charges",
    "metering",
    "invoices",
    "_wire",
    "billing",
    "dunning",
    "catalog",
    "customers",
    "parties",
    "subscriptions",
    "quotes",
    "payments",
    "licenses",
    "renewals",
    "usage",
    "portal",
    "__init__",  # the package's namespace: re-exports the core
)

#: The edge, bottom to top: words and documents, storage, the service, the command line.
EDGE: tuple[str, ...] = (
    "_layers",
    "l10n",
    "pdf",
    "einvoice",
    "storage",
    "service",
    "dunning_service",  # dunning runs over a store: run_dunning, the payment gateway port
    "dask",  # persisted bill runs sharded over Dask workers: above the service it calls
    "tour",
    "cli",
    "__main__",
)

#: Every layer, bottom to top.
LAYERS: tuple[str, ...] = CORE + EDGE

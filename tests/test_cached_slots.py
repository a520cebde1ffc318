"""Cached values of slotted records: attrs' ``__getattr__`` replaced by one descriptor each."""

from __future__ import annotations

import importlib
import pickle
import pkgutil

import attrs
import pytest
from benchmarks.workloads import SILVER_START, silver_inputs

import subbill
from subbill._records import cached_slot, fast_cached_slots
from subbill.billing import bill_subscription
from subbill.invoices import Invoice, InvoiceLine
from subbill.money import Money


def _subbill_classes() -> list[type]:
    found: dict[int, type] = {}
    for info in pkgutil.walk_packages(subbill.__path__, "subbill."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__.startswith("subbill"):
                found[id(value)] = value
    return list(found.values())


def test_no_subbill_class_reads_its_attributes_through_getattr_but_recurring_charge() -> None:
    # A class with __getattr__ gets no specialised attribute read on CPython 3.11. The one
    # exception is measured: the engine reads a RecurringCharge's cached values (key, schedule,
    # prices, digest) more often than its fields, and through attrs' __getattr__ a stored
    # cached value is read in C, where a cached_slot's descriptor is a Python call. The
    # codec's OnePlanRow is a NamedTuple standing in for a subscription a bill run reads:
    # its __getattr__ builds the subscription for any attribute it does not hold.
    offenders = [
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _subbill_classes()
        if any("__getattr__" in vars(klass) for klass in cls.__mro__)
    ]
    assert sorted(offenders) == [
        "subbill.charges.RecurringCharge",
        "subbill.storage.codec.OnePlanRow",
    ]


@fast_cached_slots
@attrs.frozen
class _Box:
    side: int
    calls: list[int] = attrs.field(factory=list, eq=False)

    @cached_slot
    def area(self) -> int:
        """The side squared."""
        self.calls.append(self.side)
        return self.side * self.side


def test_a_cached_slot_is_computed_once_and_stored() -> None:
    box = _Box(4)
    assert (box.area, box.area) == (16, 16)
    assert box.calls == [4]


def test_a_cached_slot_written_through_its_setter_is_read_back_without_computing() -> None:
    box = _Box(4)
    vars(_Box)["area"].__set__(box, 99)
    assert box.area == 99
    assert box.calls == []


def test_a_cached_slot_keeps_its_documentation_and_the_record_stays_frozen() -> None:
    assert _Box.area.__doc__ == "The side squared."
    box = _Box(2)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        box.area = 5  # type: ignore[misc]
    assert box.area == 4


def test_a_missing_plain_attribute_still_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nothing"):
        _Box(1).nothing  # type: ignore[attr-defined]  # noqa: B018


def test_a_class_without_cached_slots_is_refused() -> None:
    with pytest.raises(TypeError, match="cached_slot"):

        @fast_cached_slots
        @attrs.frozen
        class _Plain:
            side: int


def test_a_class_with_its_own_getattr_is_refused() -> None:
    # CPython 3.11 wraps an error of __set_name__ in a RuntimeError; 3.12 raises it as is.
    with pytest.raises((TypeError, RuntimeError)) as raised:

        @attrs.frozen
        class _Own:
            side: int

            def __getattr__(self, name: str) -> int:
                return 0

            @cached_slot
            def area(self) -> int:
                return self.side

    error = raised.value.__cause__ or raised.value
    assert str(error).endswith("._Own: cached_slot needs a class without __getattr__")


def _invoice() -> Invoice:
    """The silver subscription's first invoice, as the engine builds it (27.42 EUR)."""
    result = bill_subscription(silver_inputs(1)[0], as_of=SILVER_START)
    assert result.invoice is not None
    return result.invoice


def test_an_invoice_s_cached_totals_survive_pickle_and_evolve() -> None:
    invoice = _invoice()
    total = invoice.total
    again = pickle.loads(pickle.dumps(invoice))
    assert again == invoice
    assert again.total == total
    assert attrs.evolve(invoice, number="F-9").total == total
    assert total == Money("27.42", "EUR")
    line: InvoiceLine = again.lines[0]
    assert (line.net, line.tax, line.total) == (total, Money("0.00", "EUR"), total)

"""The catalog: plans on a ladder with usage limits, modules, add-on options, change policy.

A :class:`Catalog` checks its own consistency when it is built: unknown codes, duplicate
codes or ranks, and requirement cycles are refused with an error naming the bad field.
Plans, modules and add-ons check their own fields: a rank is an ``int``, a price a
``Money >= 0`` under a ``Frequency``, and a frequency has one price.
:meth:`Catalog.from_mapping` reads one from plain data (a dict loaded from JSON or TOML by
the caller) and names the path of any bad field (``plans[2].limits.clients``).

>>> catalog = Catalog.from_mapping({
...     "currency": "EUR",
...     "plans": [
...         {"code": "essentiel", "name": "Essentiel", "rank": 1,
...          "prices": {"monthly": "29.00"}, "limits": {"clients": 100, "documents": 500}},
...         {"code": "pro", "name": "Pro", "rank": 2,
...          "prices": {"monthly": "59.00"}, "limits": {"clients": 1000, "documents": None}},
...     ],
...     "modules": [{"code": "stock", "name": "Stock", "prices": {"monthly": "9.00"},
...                  "plans": ["pro"]}],
... })
>>> catalog.plan("pro").limit("documents") is None, catalog.next_plan_up("essentiel").code
(True, 'pro')
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self, TypeVar

import attrs

from subbill._records import cached_slot, fast_cached_slots
from subbill._structure import (
    Currency,
    FrequencyName,
    Limit,
    Price,
    Problems,
    Text,
    key_path,
    structure,
)
from subbill._validate import (
    brief,
    check_count,
    check_items,
    check_line,
    check_text,
    enum_of,
    instance_of,
    items_of,
    to_tuple,
)
from subbill.errors import (
    CatalogError,
    InvalidArgumentError,
    InvalidTypeError,
    UnknownCodeError,
)
from subbill.metering import UsageCharge
from subbill.money import Money, check_money, read_currency
from subbill.periods import Frequency

__all__ = [
    "AddOn",
    "Catalog",
    "CatalogError",
    "ChangePolicy",
    "ChangeTiming",
    "Module",
    "Plan",
    "UnknownCodeError",
]

_T = TypeVar("_T")


class ChangeTiming(enum.Enum):
    """When a change takes effect on the bill."""

    IMMEDIATE = "immediate"  # now, prorated (credit of the unused part + charge of the rest)
    PERIOD_END = "period_end"  # at the start of the next billing period


_PRICES_EXPECTED = "a mapping of Frequency to Money, such as {MONTHLY: Money('29', 'EUR')}"


def _prices(value: object) -> tuple[tuple[Frequency, Money], ...]:
    """Prices as ``(frequency, price)`` pairs: from a mapping, or pairs as stored."""
    if isinstance(value, Mapping):
        return tuple(value.items())
    if isinstance(value, tuple | list) and all(
        isinstance(item, tuple) and len(item) == 2 for item in value
    ):
        return tuple(value)
    raise InvalidTypeError("prices", value, _PRICES_EXPECTED)


def _check_prices(
    _instance: Any, _attribute: Any, prices: tuple[tuple[Frequency, Money], ...]
) -> None:
    """Each price is a ``Money >= 0`` within the bounds, under a distinct ``Frequency``."""
    seen: dict[Frequency, Money] = {}
    for frequency, price in prices:
        if not isinstance(frequency, Frequency):
            hint = (
                f"Frequency.parse({frequency!r})"
                if isinstance(frequency, str)
                else "Frequency.parse('monthly')"
            )
            raise InvalidTypeError(
                "prices key", frequency, f"a Frequency such as MONTHLY, ANNUAL or {hint}"
            )
        name = f"prices[{frequency}]"
        if not isinstance(price, Money):
            raise InvalidTypeError(name, price, "a Money such as Money('29', 'EUR')")
        if price.is_negative():
            raise InvalidArgumentError(f"{name}={price!r} must be >= 0 (a price is never negative)")
        check_money(name, price)
        if frequency in seen:
            raise InvalidArgumentError(
                f"prices has two prices for {frequency}: {seen[frequency]} and {price}; "
                "a frequency has one price"
            )
        seen[frequency] = price


def _check_rank(_instance: Any, _attribute: Any, rank: int) -> None:
    if isinstance(rank, bool) or not isinstance(rank, int):
        raise InvalidTypeError("rank", rank, "an int (the plan's place on the ladder)")


def _limits(value: object) -> tuple[tuple[str, int | None], ...]:
    if isinstance(value, tuple):
        return value
    if not isinstance(value, Mapping):
        raise CatalogError("limits", f"{value!r} must map resources to an int or None")
    return tuple(sorted(value.items()))


def _value_of(pairs: tuple[tuple[Any, _T], ...], key: object) -> _T | None:
    """The value paired with ``key`` in ``pairs`` (a price, a limit), or ``None``."""
    for candidate, value in pairs:
        if candidate == key:
            return value
    return None


def _codes(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value) if isinstance(value, Iterable) else frozenset()


def _check_codes_field(_instance: Any, attribute: Any, codes: frozenset[str]) -> None:
    """Every code of a set (included modules, allowed plans, required add-ons) is one line."""
    for code in sorted(codes, key=repr):
        check_line(attribute.name, code)


def _code_set() -> Any:
    """An attrs field: a set of codes (included modules, allowed plans, required add-ons)."""
    return attrs.field(default=frozenset(), converter=_codes, validator=_check_codes_field)


@attrs.frozen(kw_only=True)
class _Priced:
    """Shared by plans, modules and add-ons: a code, a name and a price per billing frequency."""

    code: str = attrs.field(validator=check_text)
    name: str = attrs.field(validator=check_text)
    prices: tuple[tuple[Frequency, Money], ...] = attrs.field(
        default=(), converter=_prices, validator=_check_prices
    )

    def price(self, frequency: Frequency) -> Money | None:
        """The price for one ``frequency`` period, or ``None`` when not sold that way."""
        return _value_of(self.prices, frequency)

    @property
    def is_free(self) -> bool:
        """True when it has no price at all."""
        return not self.prices


@attrs.frozen(kw_only=True)
class Plan(_Priced):
    """A plan: its place on the ladder (``rank``), its prices, limits and included modules.

    ``limits`` maps a resource name (any: ``clients``, ``documents``, ``orders``…) to a
    maximum, ``None`` meaning unlimited; a resource not listed is unlimited. ``usage`` are
    the plan's usage charges (API calls, storage…), billed in arrears on the
    subscription's cycle while it is on the plan.
    """

    rank: int = attrs.field(validator=_check_rank)
    limits: tuple[tuple[str, int | None], ...] = attrs.field(default=(), converter=_limits)
    modules: frozenset[str] = _code_set()
    usage: tuple[UsageCharge, ...] = attrs.field(
        default=(), converter=to_tuple, validator=items_of(UsageCharge, "a UsageCharge")
    )

    def limit(self, resource: str) -> int | None:
        """The limit of ``resource``; ``None`` when unlimited."""
        return _value_of(self.limits, resource)

    def includes(self, module: str) -> bool:
        """True when the plan includes ``module`` at no extra cost."""
        return module in self.modules


@attrs.frozen(kw_only=True)
class Module(_Priced):
    """A module: free or priced, allowed on some plans (all when empty), requiring add-ons."""

    plans: frozenset[str] = _code_set()
    requires: frozenset[str] = _code_set()

    def allows(self, plan: str) -> bool:
        """True when the module may be switched on with ``plan``."""
        return not self.plans or plan in self.plans


@attrs.frozen(kw_only=True)
class AddOn(_Priced):
    """An option subscribed on its own (e.g. « option multi-sociétés »)."""

    requires: frozenset[str] = _code_set()


@attrs.frozen(kw_only=True)
class ChangePolicy:
    """When plan and module changes take effect on the bill, per direction.

    The seed's « la facturation est ajustée prorata ou à la prochaine période selon votre
    configuration »: each direction is prorated now or applied at the next period.
    """

    upgrade: ChangeTiming = attrs.field(
        default=ChangeTiming.IMMEDIATE, validator=enum_of(ChangeTiming)
    )
    downgrade: ChangeTiming = attrs.field(
        default=ChangeTiming.PERIOD_END, validator=enum_of(ChangeTiming)
    )
    module_activation: ChangeTiming = attrs.field(
        default=ChangeTiming.IMMEDIATE, validator=enum_of(ChangeTiming)
    )
    module_deactivation: ChangeTiming = attrs.field(
        default=ChangeTiming.PERIOD_END, validator=enum_of(ChangeTiming)
    )


def _check_catalog(instance: Catalog, _attribute: Any, _value: object) -> None:
    _check_codes(instance)
    _check_usage(instance)
    _check_plans(instance)
    _check_references(instance)
    _check_cycles(instance.addons)


def _check_usage(instance: Catalog) -> None:
    """Each plan's usage charges in the catalog's currency, each code once, without taxes."""
    for index, plan in enumerate(instance.plans):
        codes: set[str] = set()
        for position, charge in enumerate(plan.usage):
            path = f"plans[{index}].usage[{position}]"
            if charge.currency != instance.currency:
                raise CatalogError(
                    f"{path}.currency",
                    f"{charge.currency} is not the catalog's currency {instance.currency}",
                )
            if charge.code in codes:
                raise CatalogError(
                    f"{path}.code", f"{charge.code!r} is already a usage charge of the plan"
                )
            if charge.tax_rates:
                raise CatalogError(
                    f"{path}.tax_rates",
                    "a plan's usage charge is taxed as the subscription's other lines (the "
                    "subscription's tax_rates, which depend on its customer); expected none here",
                )
            codes.add(charge.code)


def _check_codes(instance: Catalog) -> None:
    seen: dict[str, str] = {}
    for kind, items in (
        ("plans", instance.plans),
        ("modules", instance.modules),
        ("addons", instance.addons),
    ):
        for index, item in enumerate(items):
            path = f"{kind}[{index}]"
            if not isinstance(item.code, str) or not item.code.strip():
                raise CatalogError(f"{path}.code", f"{item.code!r} must be a non-empty str")
            if item.code in seen:
                raise CatalogError(
                    f"{path}.code", f"{item.code!r} is already used by {seen[item.code]}"
                )
            seen[item.code] = path
            for position, (frequency, price) in enumerate(item.prices):
                if price.currency != instance.currency:
                    raise CatalogError(
                        f"{path}.prices[{position}]",
                        f"{price} is not in the catalog's currency {instance.currency} "
                        f"(frequency {frequency})",
                    )


def _check_plans(instance: Catalog) -> None:
    module_codes = {module.code for module in instance.modules}
    ranks: dict[int, str] = {}
    for index, plan in enumerate(instance.plans):
        if plan.rank in ranks:
            raise CatalogError(
                f"plans[{index}].rank",
                f"{brief(plan.rank)} is already the rank of plan {ranks[plan.rank]!r}; "
                "ranks order the ladder and must differ",
            )
        ranks[plan.rank] = plan.code
        for resource, value in plan.limits:
            if value is not None:
                at = functools.partial(CatalogError, f"plans[{index}].limits.{resource}")
                try:
                    check_count("limit", value, error=at)
                except InvalidTypeError as error:  # a bad field of the catalog, at its path
                    raise at(str(error)) from None
        for code in sorted(plan.modules - module_codes):
            raise CatalogError(f"plans[{index}].modules", f"unknown module {code!r}")


def _check_references(instance: Catalog) -> None:
    plan_codes = {plan.code for plan in instance.plans}
    addon_codes = {addon.code for addon in instance.addons}
    for index, module in enumerate(instance.modules):
        for code in sorted(module.plans - plan_codes):
            raise CatalogError(f"modules[{index}].plans", f"unknown plan {code!r}")
        for code in sorted(module.requires - addon_codes):
            raise CatalogError(f"modules[{index}].requires", f"unknown add-on {code!r}")
    for index, option in enumerate(instance.addons):
        for code in sorted(option.requires - addon_codes):
            raise CatalogError(f"addons[{index}].requires", f"unknown add-on {code!r}")


def _check_cycles(addons: Sequence[AddOn]) -> None:
    requires = {addon.code: addon.requires for addon in addons}
    index = {addon.code: position for position, addon in enumerate(addons)}
    done: set[str] = set()

    def visit(code: str, trail: list[str]) -> None:
        if code in trail:
            cycle = " → ".join([*trail[trail.index(code) :], code])
            raise CatalogError(f"addons[{index[trail[-1]]}].requires", f"requirement cycle {cycle}")
        if code in done:
            return
        for other in sorted(requires.get(code, ())):
            visit(other, [*trail, code])
        done.add(code)

    for code in requires:
        visit(code, [])


def _sorted_plans(value: object) -> tuple[Plan, ...]:
    return tuple(sorted(check_items("plans", value, Plan), key=lambda plan: plan.rank))


def _modules(value: object) -> tuple[Module, ...]:
    return check_items("modules", value, Module)


def _addons(value: object) -> tuple[AddOn, ...]:
    return check_items("addons", value, AddOn)


def _currency(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError("currency", value, "an ISO 4217 currency code such as 'EUR'")
    return read_currency(value)


@fast_cached_slots
@attrs.frozen(kw_only=True)
class Catalog:
    """Plans (sorted by rank), modules, add-ons and the change policy, in one currency.

    ``currency`` is an ISO 4217 code (normalised to upper case, like :class:`Money`'s);
    ``plans``, ``modules`` and ``addons`` hold :class:`Plan`, :class:`Module` and
    :class:`AddOn` items only, ``policy`` is a :class:`ChangePolicy`: anything else is an
    :class:`~subbill.errors.InvalidTypeError` naming the field.

    >>> Catalog(currency="EUR", plans=["pro"])
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidTypeError: plans[0]='pro' must be a Plan
    """

    currency: str = attrs.field(converter=_currency)
    plans: tuple[Plan, ...] = attrs.field(default=(), converter=_sorted_plans)
    modules: tuple[Module, ...] = attrs.field(default=(), converter=_modules)
    addons: tuple[AddOn, ...] = attrs.field(default=(), converter=_addons)
    policy: ChangePolicy = attrs.field(
        factory=ChangePolicy, validator=[instance_of(ChangePolicy), _check_catalog]
    )

    @cached_slot
    def _by_code(self) -> tuple[dict[str, Plan], dict[str, Module], dict[str, AddOn]]:
        """The plans, modules and add-ons by code, built once (a catalog never changes)."""
        return (
            {plan.code: plan for plan in self.plans},
            {module.code: module for module in self.modules},
            {addon.code: addon for addon in self.addons},
        )

    @cached_slot
    def has_usage(self) -> bool:
        """True when a plan of the catalog has usage charges (worked out once: it never changes).

        >>> Catalog(currency="EUR").has_usage
        False
        """
        return any(plan.usage for plan in self.plans)

    def plan(self, code: str) -> Plan:
        """The plan ``code``; :class:`UnknownCodeError` if there is none."""
        found = self._by_code[0].get(code) if isinstance(code, str) else None
        if found is None:
            raise UnknownCodeError("plan", code, (p.code for p in self.plans))
        return found

    def module(self, code: str) -> Module:
        """The module ``code``; :class:`UnknownCodeError` if there is none."""
        found = self._by_code[1].get(code) if isinstance(code, str) else None
        if found is None:
            raise UnknownCodeError("module", code, (m.code for m in self.modules))
        return found

    def addon(self, code: str) -> AddOn:
        """The add-on ``code``; :class:`UnknownCodeError` if there is none."""
        found = self._by_code[2].get(code) if isinstance(code, str) else None
        if found is None:
            raise UnknownCodeError("addon", code, (a.code for a in self.addons))
        return found

    def next_plan_up(self, code: str) -> Plan | None:
        """The plan one rank above ``code`` on the ladder, or ``None`` at the top."""
        position = self.plans.index(self.plan(code))
        return self.plans[position + 1] if position + 1 < len(self.plans) else None

    def next_plan_down(self, code: str) -> Plan | None:
        """The plan one rank below ``code`` on the ladder, or ``None`` at the bottom."""
        position = self.plans.index(self.plan(code))
        return self.plans[position - 1] if position > 0 else None

    def plans_allowing(self, module: str) -> tuple[Plan, ...]:
        """The plans with which ``module`` may be switched on, in ladder order."""
        found = self.module(module)
        return tuple(plan for plan in self.plans if found.allows(plan.code))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Build a catalog from plain data (a mapping read from JSON or TOML).

        Every bad field is reported at once in one :class:`CatalogError`, one
        ``path: message`` per line: unknown keys (with the closest known one), missing
        fields, empty names, prices that are negative or floats, limits below zero,
        unknown frequencies. A key named like a card security code anywhere is refused
        with :class:`~subbill.errors.CardDataError`.

        >>> Catalog.from_mapping({"currency": "EUR", "plans": [
        ...     {"code": "a", "name": "A", "rank": 1, "limits": {"clients": -5}}]})
        Traceback (most recent call last):
        ...
        subbill.errors.CatalogError: plans[0].limits.clients: limit=-5 must be an int >= 0
        >>> Catalog.from_mapping({"currency": "EUR", "plans": [
        ...     {"code": "a", "name": "", "rank": 1, "limts": {"clients": 5},
        ...      "prices": {"monthly": 29.9}}]})
        Traceback (most recent call last):
        ...
        subbill.errors.CatalogError: plans[0].name: '' must be a non-empty text
        plans[0].prices.monthly: amount=29.9 is a float, which cannot hold an exact amount; ...
        plans[0].limts: unknown key, did you mean 'limits'?
        """
        document = structure(data, _CatalogDocument, error=_catalog_error)
        currency = document.currency
        problems = Problems()
        plans = _built(Plan, document.plans, "plans", currency, problems)
        modules = _built(Module, document.modules, "modules", currency, problems)
        addons = _built(AddOn, document.addons, "addons", currency, problems)
        problems.check(_catalog_error)
        return cls(
            currency=currency,
            plans=plans,
            modules=modules,
            addons=addons,
            policy=ChangePolicy(**attrs.asdict(document.policy, recurse=False)),
        )


# -- the catalog as plain data ------------------------------------------------------------------


def _catalog_error(problems: tuple[tuple[str, str], ...]) -> CatalogError:
    return CatalogError(*problems[0], *problems[1:])


def _built(
    kind: type[_T],
    documents: tuple[_PricedDocument, ...],
    field: str,
    currency: str,
    problems: Problems,
) -> list[_T]:
    """Each document of ``field`` built as a ``kind``, every bad field recorded under its path.

    A document has the fields of its value object, prices written as plain numbers: these are
    read in ``currency`` (:func:`_money`), the other fields go to ``kind`` as they are.
    """
    built: list[_T] = []
    for index, document in enumerate(documents):
        path = f"{field}[{index}]"
        fields = attrs.asdict(document, recurse=False)
        fields["prices"] = _money(document.prices, currency, f"{path}.prices", problems)
        if isinstance(document, _PlanDocument):
            fields["usage"] = _usage(document.usage, currency, f"{path}.usage", problems)
        with problems.at(path):
            built.append(kind(**fields))
    return built


def _money(
    prices: Mapping[FrequencyName, Price], currency: str, path: str, problems: Problems
) -> tuple[tuple[Frequency, Money], ...]:
    """The prices of one item, each recorded under its path when bad.

    Two keys naming one frequency (``annual``, ``P12M`` and ``P1Y``; ``monthly`` and
    ``Monthly``) are refused at the second key's path: a frequency has one price.
    """
    result: list[tuple[Frequency, Money]] = []
    names: dict[Frequency, str] = {}
    for key, amount in prices.items():
        where = key_path(path, key)
        with problems.at(where):
            frequency = Frequency.parse(key)
            if frequency in names:
                problems.add(
                    where,
                    f"frequency {key!r} is the same as {names[frequency]!r} ({frequency}); "
                    "a frequency has one price",
                )
                continue
            names[frequency] = key
            result.append((frequency, Money(amount, currency)))
    return tuple(result)


def _usage(
    documents: tuple[dict[str, Any], ...], currency: str, path: str, problems: Problems
) -> tuple[UsageCharge, ...]:
    """A plan's usage charges (``UsageCharge.from_mapping``), in the catalog's currency.

    A charge may leave its currency out (it is the catalog's); every bad field is recorded
    under its path (``plans[0].usage[1].model.tiers[0].unit_price``).
    """
    charges: list[UsageCharge] = []
    for index, data in enumerate(documents):
        where = f"{path}[{index}]"
        given = data.get("currency", currency)
        if not isinstance(given, str) or given.upper() != currency:
            problems.add(f"{where}.currency", f"{given!r} is not the catalog's currency {currency}")
            continue
        with problems.at(where):
            charges.append(UsageCharge.from_mapping({**data, "currency": currency}))
    return tuple(charges)


@attrs.frozen(kw_only=True)
class _PricedDocument:
    """What a plan, a module and an add-on are written with, as :class:`_Priced` has it."""

    code: Text
    name: Text
    prices: dict[FrequencyName, Price] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class _PlanDocument(_PricedDocument):
    rank: int
    limits: dict[str, Limit | None] = attrs.field(factory=dict)
    modules: tuple[Text, ...] = ()
    usage: tuple[dict[str, Any], ...] = ()


@attrs.frozen(kw_only=True)
class _ModuleDocument(_PricedDocument):
    plans: tuple[Text, ...] = ()
    requires: tuple[Text, ...] = ()


@attrs.frozen(kw_only=True)
class _AddOnDocument(_PricedDocument):
    requires: tuple[Text, ...] = ()


@attrs.frozen(kw_only=True)
class _PolicyDocument:
    upgrade: ChangeTiming = ChangeTiming.IMMEDIATE
    downgrade: ChangeTiming = ChangeTiming.PERIOD_END
    module_activation: ChangeTiming = ChangeTiming.IMMEDIATE
    module_deactivation: ChangeTiming = ChangeTiming.PERIOD_END


@attrs.frozen(kw_only=True)
class _CatalogDocument:
    currency: Currency
    plans: tuple[_PlanDocument, ...] = ()
    modules: tuple[_ModuleDocument, ...] = ()
    addons: tuple[_AddOnDocument, ...] = ()
    policy: _PolicyDocument = _PolicyDocument()

"""What a new user's walk through a small French SaaS found (issue 17's follow-ups).

Each through the path the user took: the Python verbs for a cancellation brought forward,
the command line on a SQLite file for dunning, invoices, customers and the portal, the
docs' Python examples.
"""

from datetime import date

import pytest

from subbill import Money, Subscription
from subbill.catalog import Catalog
from subbill.decisions import RefusedError
from subbill.l10n import refusal_text
from subbill.periods import ANNUAL

WALK_CATALOG = {
    "currency": "EUR",
    "plans": [
        {"code": "essentiel", "name": "Essentiel", "rank": 1,
         "prices": {"monthly": "29.00", "annual": "290.00"}},
        {"code": "pro", "name": "Pro", "rank": 2,
         "prices": {"monthly": "59.00", "annual": "590.00"}},
    ],
}  # fmt: skip


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


# -- 1. a cancellation brought forward: the refusal says how -----------------------------------


def jean_petit() -> Subscription:
    """S4: Jean Petit's annual Pro from 1 March 2026, cancelled at the period's end on 20 April."""
    catalog = Catalog.from_mapping(WALK_CATALOG)
    sub = Subscription.create(
        id="S4", customer="Jean Petit", catalog=catalog, plan="pro", start=date(2026, 3, 1),
        frequency=ANNUAL,
    )  # fmt: skip
    return sub.cancel(on=date(2026, 4, 20))


def test_cancelling_a_cancelled_subscription_earlier_names_the_verb_that_does_it():
    sub = jean_petit()
    assert sub.cancel_at == date(2027, 3, 1)
    with pytest.raises(RefusedError) as refused:
        sub.cancel(on=date(2026, 5, 31), at_period_end=False)
    assert str(refused.value) == (
        "cannot cancel the subscription: refused (already_cancelled; cancel_at='2027-03-01', "
        "to_end_earlier='bring_cancellation_forward(on=2026-05-31)')"
    )
    assert refusal_text(refused.value.refusal, locale="fr_FR") == (
        "L'abonnement est déjà résilié (fin le 1 mars 2027) : pour qu'il prenne fin plus tôt, "
        "avancez sa résiliation (bring_cancellation_forward)."
    )
    assert refusal_text(refused.value.refusal, locale="en_US") == (
        "The subscription is already cancelled (ends on March 1, 2027): to end it earlier, "
        "bring its cancellation forward (bring_cancellation_forward)."
    )
    # the way the refusal names works: the subscription ends on 31 May
    assert sub.bring_cancellation_forward(on=date(2026, 5, 31)).cancel_at == date(2026, 5, 31)


def test_cancelling_a_cancelled_subscription_at_the_period_end_leaves_the_day_to_choose():
    with pytest.raises(RefusedError) as refused:
        jean_petit().cancel(on=date(2026, 5, 2))
    assert refused.value.refusal.fact("to_end_earlier") == "bring_cancellation_forward(on=…)"


# -- 5. the docs' Python: every keyword they pass exists ---------------------------------------


def _public_classes() -> dict[str, type]:
    """Every public class of subbill's modules, by name (the edge's optional extras left out)."""
    import importlib  # noqa: PLC0415
    import inspect  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415

    import subbill  # noqa: PLC0415

    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(subbill.__path__, "subbill."):
        if info.name.rsplit(".", 1)[-1] in {"dask", "postgres", "einvoice", "pdf", "tour"}:
            continue
        for name, obj in vars(importlib.import_module(info.name)).items():
            if inspect.isclass(obj) and obj.__module__.startswith("subbill"):
                found.setdefault(name, obj)
    return {name: obj for name, obj in found.items() if not name.startswith("_")}


def test_every_keyword_the_docs_pass_to_a_class_of_subbill_is_one_it_takes():
    # docs/dunning.md told users to record a consumer with Customer(id=…, name=…): a
    # TypeError (the field is legal_name). The docs' code (inline and in python blocks) is
    # read for calls of subbill's classes and their methods, each keyword checked against
    # the signature.
    import inspect  # noqa: PLC0415
    import re  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).parent.parent
    classes = _public_classes()
    wrong, checked = [], 0
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        code = [*re.findall(r"`([^`\n]+)`", text), *re.findall(r"```python\n(.*?)```", text, re.S)]
        for span in code:
            for call in re.finditer(r"\b([A-Z]\w+)(?:\.(\w+))?\(([^()]*)", span):
                owner = classes.get(call.group(1))
                target = owner and (getattr(owner, call.group(2)) if call.group(2) else owner)
                if target is None:
                    continue
                parameters = inspect.signature(target).parameters
                if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
                    continue
                for keyword in re.findall(r"(\w+)=", call.group(3)):
                    checked += 1
                    if keyword not in parameters:
                        wrong.append(f"{page.name}: {call.group(0)} -> {keyword}")
    assert wrong == []
    assert checked > 50  # the docs' calls were read


def test_the_dunning_docs_way_to_record_a_consumer_runs():
    from subbill.customers import Customer, CustomerKind  # noqa: PLC0415
    from subbill.storage import MemoryStore  # noqa: PLC0415

    store = MemoryStore()
    store.save_customer(
        Customer(id="Marie Durand", legal_name="Marie Durand", kind=CustomerKind.CONSUMER)
    )
    assert store.get_customer("Marie Durand").kind is CustomerKind.CONSUMER

"""A refusal in words, for the person who asked: « Le module Stock nécessite le plan Pro ».

The core answers a request it cannot grant with ``Refused(code, facts)``; the words of each
code live in :mod:`subbill.l10n.words` (kind ``refusal``), its facts fill them.
"""

from __future__ import annotations

from subbill.decisions import Refused
from subbill.l10n.words import fill

__all__ = ["refusal_text"]


def refusal_text(refused: Refused, *, locale: str) -> str:
    """Word a refusal for the person who asked, in French or English.

    >>> refusal_text(Refused(code="requires_plan", facts={"module": "Stock", "plans": "Pro",
    ...              "minimum": "Pro"}), locale="fr_FR")
    'Le module Stock nécessite le plan Pro ou supérieur.'
    >>> refusal_text(Refused(code="requires_addon", facts={"module": "Multi-dépôts",
    ...              "addons": "Multi-sociétés"}), locale="en_US")
    'The module Multi-dépôts requires the add-on Multi-sociétés, which is not subscribed.'
    """
    facts = dict(refused.facts)
    code = refused.code
    if code == "requires_plan" and facts.get("minimum"):
        code = "requires_plan_minimum"
    return fill("refusal", code, facts, locale=locale)

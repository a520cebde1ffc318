"""Business decisions as values: ``Allowed`` or ``Refused(code, facts)`` to ``match`` on.

An expected business outcome (a module that the plan does not allow, a renewal beyond the
licence pool) is not an exception: functions that decide return a :data:`Decision`. Verbs
that act (``activate``) raise :class:`RefusedError`, carrying the same ``Refused``, when
called against a refusal, so nothing is half-applied.

>>> decision = Refused(code="requires_plan", facts={"module": "Stock", "plans": "Pro"})
>>> match decision:
...     case Allowed():
...         print("ok")
...     case Refused(code=code):
...         print("refused:", code, decision.fact("plans"))
refused: requires_plan Pro
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from subbill._validate import check_text
from subbill.errors import RefusedError

__all__ = ["Allowed", "Decision", "Refused", "RefusedError", "refusal", "to_facts"]


@attrs.frozen
class Allowed:
    """The action may go ahead."""

    def __bool__(self) -> bool:
        return True


def to_facts(value: object) -> tuple[tuple[str, str], ...]:
    """Normalise facts to ``((name, text), …)`` from a mapping or pairs (values as text)."""
    if isinstance(value, Mapping):
        return tuple((str(key), str(item)) for key, item in value.items())
    if isinstance(value, tuple):
        return tuple((str(key), str(item)) for key, item in value)
    return ()


@attrs.frozen(kw_only=True)
class Refused:
    """The action may not go ahead: a stable ``code`` and the facts a person needs.

    ``code`` is one non-empty line of text (the key of its words); ``facts`` are plain
    strings keyed by name (``module``, ``plans``, ``addons``…), so that
    :func:`subbill.l10n.refusal_text` can word them in French or English.
    """

    code: str = attrs.field(validator=check_text)
    facts: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=to_facts)

    __match_args__: ClassVar[tuple[str, ...]] = ("code",)

    def fact(self, name: str, default: str = "") -> str:
        """The fact ``name`` (``default`` if absent)."""
        for key, value in self.facts:
            if key == name:
                return value
        return default

    def __bool__(self) -> bool:
        return False


Decision = Allowed | Refused


def refusal(code: str, **facts: Any) -> Refused:
    """Shorthand: ``refusal("already_active", module="Stock")``."""
    return Refused(code=code, facts=dict(facts))

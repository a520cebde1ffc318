"""Every bad input gets a typed error naming the value, and nothing is half-applied.

The cases live in ``tests/adversarial/cases_*.py`` (one file per area); this module
collects every ``CASES`` list found there.
"""

import importlib
import pkgutil

import pytest

from subbill.errors import SubbillError
from tests import adversarial
from tests.adversarial import Case


def _all_cases() -> list[Case]:
    cases: list[Case] = []
    for info in pkgutil.iter_modules(adversarial.__path__):
        if info.name.startswith("cases_"):
            module = importlib.import_module(f"tests.adversarial.{info.name}")
            cases.extend(module.CASES)
    return cases


CASES = _all_cases()


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gets_typed_error(case: Case) -> None:
    assert issubclass(case.error, SubbillError)
    with pytest.raises(case.error) as caught:
        case.call()
    assert type(caught.value).__module__.startswith("subbill"), caught.value
    assert str(caught.value), "an error must say what was wrong"
    if case.unchanged is not None:
        assert case.unchanged(), f"{case.id}: something changed after the error"

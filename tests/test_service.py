"""run_billing over SQLite: exactly once, after a crash, and with two processes at once."""

import subprocess
import sys
from pathlib import Path

import pytest

from subbill import InvalidArgumentError
from subbill.service import run_billing
from subbill.storage import MemoryStore, SQLiteStore
from tests.service_scenario import AS_OF, COUNT, bill, fill

ROOT = Path(__file__).parent.parent


def _python(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "tests.service_scenario", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kw,
    )


def invoices_by_subscription(path):
    store = SQLiteStore(path)
    invoices = store.invoices()
    store.close()
    return invoices


def expected_numbers(count):
    return [f"F-2026-{n:06d}" for n in range(1, count + 1)]


def test_a_run_bills_each_subscription_once_and_a_rerun_bills_nothing(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    first = bill(path)
    assert first.subscriptions == COUNT
    assert list(first.invoices) == expected_numbers(COUNT)
    assert bill(path).invoices == ()
    invoices = invoices_by_subscription(path)
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]


def test_a_run_killed_midway_then_rerun_bills_everything_exactly_once(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    killed = _python(str(path), "bill", "17")
    assert killed.returncode == 3  # died inside the 17th invoice's transaction
    survived = invoices_by_subscription(path)
    assert [i.number for i in survived] == expected_numbers(16)  # the 17th was rolled back
    report = bill(path)
    assert len(report.invoices) == COUNT - 16
    invoices = invoices_by_subscription(path)
    assert [i.number for i in invoices] == expected_numbers(COUNT)  # gapless
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]
    reference = tmp_path / "reference.db"
    fill(reference)
    bill(reference)
    assert {i.subscription: i.total for i in invoices} == {
        i.subscription: i.total for i in invoices_by_subscription(reference)
    }


def test_two_processes_billing_the_same_file_create_every_invoice_once(tmp_path):
    path = tmp_path / "s.db"
    fill(path)
    command = [sys.executable, "-m", "tests.service_scenario", str(path), "bill"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    for run in runs:
        _, errors = run.communicate(timeout=300)
        assert run.returncode == 0, errors
    invoices = invoices_by_subscription(path)
    assert [i.number for i in invoices] == expected_numbers(COUNT)  # unique and gapless
    assert sorted(i.subscription for i in invoices) == [f"S{n:03d}" for n in range(COUNT)]


def test_billing_needs_a_catalog():
    with pytest.raises(InvalidArgumentError, match="the store has no catalog"):
        run_billing(MemoryStore(), as_of=AS_OF)

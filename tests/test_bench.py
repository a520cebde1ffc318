"""The bench harness (``make bench``) runs, and its yardsticks bill what subbill bills.

No timing here: speed is measured by ``make bench`` only. This runs the whole harness at a
tiny N so that it cannot rot, without the django-silver environment (its rows then say
they were not measured).
"""

import decimal
import doctest
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from benchmarks import measure, plain_reference, plain_usage, run, yardsticks
from benchmarks.workloads import (
    SILVER_RENEWAL,
    SILVER_START,
    USAGE_AS_OF,
    USAGE_START,
    USAGE_TIERS,
    silver_inputs,
    silver_plain,
    usage_inputs,
)

from subbill import bill_run, bill_subscription
from subbill.periods import MONTHLY
from subbill.proration import ProrationBasis, billable_periods


def test_the_plain_reference_bills_the_silver_workload_as_subbill_does():
    plans = silver_inputs(3)
    first = list(bill_run(plans, as_of=SILVER_START))
    renewal = list(
        bill_run(zip(plans, [r.state for r in first], strict=True), as_of=SILVER_RENEWAL)
    )
    plain_first = [
        plain_reference.bill(s, as_of=SILVER_START, billed_through=None) for s in silver_plain(3)
    ]
    plain_renewal = [
        plain_reference.bill(s, as_of=SILVER_RENEWAL, billed_through=through)
        for s, (_, through) in zip(silver_plain(3), plain_first, strict=True)
    ]
    for ours, (theirs, _) in zip(first, plain_first, strict=True):
        assert ours.invoice.total.amount == theirs.total == Decimal("27.42")
        (line,) = ours.invoice.lines
        (plain_line,) = theirs.lines
        assert (line.period.start, line.period.end) == (date(2025, 1, 15), date(2025, 2, 1))
        assert (plain_line.period_start, plain_line.period_end) == (
            line.period.start,
            line.period.end,
        )
        assert (plain_line.days, plain_line.days_in_period) == (17, 31)
    for ours, (theirs, through) in zip(renewal, plain_renewal, strict=True):
        assert ours.invoice.total.amount == theirs.total == Decimal("50.00")
        (line,) = ours.invoice.lines
        assert (line.period.start, line.period.end) == (date(2025, 2, 1), date(2025, 3, 1))
        assert through == date(2025, 3, 1)


def test_the_plain_reference_rounds_half_up_to_cents_whatever_the_callers_context():
    price = Decimal("123456.78")
    subscription = plain_reference.PlainSubscription("S", "C", price, date(2025, 1, 27), 1)
    with decimal.localcontext(decimal.Context(prec=2, rounding=decimal.ROUND_DOWN)) as caller:
        invoice, _ = plain_reference.bill(
            subscription, as_of=date(2025, 1, 27), billed_through=None
        )
        assert (caller.prec, caller.rounding) == (2, decimal.ROUND_DOWN)
    # 123456.78 × 5/31 = 19912.3838… → 19912.38; 0.10 × 5/31 = 0.0161… → 0.02 (half-up)
    assert invoice.total == Decimal("19912.38")
    cheap = subscription._replace(price=Decimal("0.10"))
    assert plain_reference.bill(cheap, as_of=date(2025, 1, 27), billed_through=None)[
        0
    ].total == Decimal("0.02")


def test_the_plain_reference_doctests_pass():
    result = doctest.testmod(plain_reference)
    assert result.attempted > 0
    assert result.failed == 0


def test_missing_yardsticks_are_reported_not_measured(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBBILL_YARDSTICKS", str(tmp_path))
    monkeypatch.setenv("SILVERBENCH_DIR", str(tmp_path / "silver"))
    assert yardsticks.load_plain_calendar() is None
    assert yardsticks.run_silver(10) == yardsticks.SilverUnavailable(
        f"not measured (no silver_bench.py in {tmp_path}: set SUBBILL_YARDSTICKS)"
    )
    (tmp_path / "silver_bench.py").write_text("raise SystemExit(1)\n")
    assert yardsticks.run_silver(10) == yardsticks.SilverUnavailable(
        "not measured (no django-silver environment: make silver-env)"
    )


def test_missing_django_silver_leaves_the_pdf_yardstick_not_measured(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBBILL_YARDSTICKS", str(tmp_path))
    monkeypatch.setenv("SILVERBENCH_DIR", str(tmp_path / "silver"))
    assert yardsticks.run_silver_pdf(10) == yardsticks.SilverUnavailable(
        f"not measured (no silver_bench.py in {tmp_path}: set SUBBILL_YARDSTICKS)"
    )


def test_the_30_360_convention_is_where_the_plain_calendar_differs():
    calendar = yardsticks.load_plain_calendar()
    if calendar is None:
        pytest.skip("no ../shared/bench/plain_calendar.py")
    kwargs = {
        "start": date(2025, 3, 10),
        "end": None,
        "as_of": date(2025, 3, 10),
        "frequency": MONTHLY,
        "billing_day": 29,
        "basis": ProrationBasis.THIRTY_DAY_MONTH,
    }
    (ours,) = billable_periods(**kwargs)
    (theirs,) = calendar.billable_periods(**measure.plain_arguments(calendar, kwargs))
    assert (ours.period.start, ours.period.end) == (theirs.period.start, theirs.period.end)
    # The cycle starts on 28 Feb (29 clamped): subbill counts 10 Mar's position in it.
    assert (ours.factor, theirs.factor) == (Fraction(18, 30), Fraction(19, 30))
    assert measure.by_convention(ours)


def test_the_bench_harness_runs_at_a_tiny_n(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SILVERBENCH_DIR", str(tmp_path / "no-silver"))
    # Why django-silver is not measured: no environment where ../shared/bench is beside the
    # checkout, no silver_bench.py where it is not (a clone elsewhere) — never a ratio.
    unavailable = yardsticks.silver_unavailable()
    assert unavailable is not None
    assert unavailable.reason in (
        "not measured (no django-silver environment: make silver-env)",
        (
            f"not measured (no silver_bench.py in {yardsticks.yardsticks_dir()}: set "
            "SUBBILL_YARDSTICKS)"
        ),
    )
    assert run.main(["--count", "50", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "load average" in out
    assert "CPUs" in out
    header = next(line for line in out.splitlines() if line.startswith("| workload"))
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "workload",
        "N",
        "figure",
        "yardstick",
        "yardstick figure",
        "ratio",
        "target",
        "met",
        "÷ plain ref",
        "peak RSS",
    ]
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith("| ") and not line.startswith("| workload")
    }
    for phase in ("15 Jan (initial)", "1 Feb (renewal)", "both runs"):
        for label in ("silver in memory (bill_run)", "silver via SQLiteStore (run_billing)"):
            row = rows[f"{label}, {phase}"]
            assert row[1] == "50"
            assert row[2].endswith(" inv/s")
            assert row[4] == unavailable.reason
            assert row[5] == "–"  # never a made-up ratio
    assert rows["silver via SQLiteStore: 3rd run, nothing due"][2] == "writes nothing"
    assert rows["silver via SQLiteStore: database growth per invoice"][2].endswith(" B/invoice")
    assert rows["mix bench, single process"][1] == "12"  # N/4
    assert rows["mix bench, 2 worker processes vs 1"][5].endswith("×")
    assert rows["run_billing peak RSS, silver workload (2 runs)"][2] == "not measured (--quick)"
    proration = rows.get("billable_periods (proration_inputs)") or rows["billable_periods"]
    assert proration[1] == "50"
    assert (
        "every run billed 50 invoices of 27.42 EUR then 50 of 50.00 EUR, as the plain reference did"
    ) in out
    assert "single process and 2 workers agree" in out
    for label in (
        "PDF invoices, plain (render_invoice_pdf)",
        "Factur-X documents (facturx_pdf: XML + PDF/A-3B)",
    ):
        row = rows[label]
        assert row[1] == "5"  # N/200, at least 5
        assert row[2].endswith(" docs/s")
        assert row[3] == "django-silver generate_pdfs, N=50"
        assert row[4] == unavailable.reason
        assert row[5] == "–"  # never a made-up ratio
    assert "the XML inside every one of the 5 documents states its invoice's grand total" in out
    assert "DISAGREE" not in out


def test_the_usage_row_runs_beside_its_plain_reference_at_a_tiny_n(capsys):
    assert run.main(["usage", "--count", "40"]) == 0
    out = capsys.readouterr().out
    row = next(
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith("| usage records aggregated and billed")
    )
    assert row[1] == "40"  # 2 subscriptions of 20 records
    assert row[2].endswith(" records/s")
    assert row[3] == "plain usage reference (dict + Decimal)"
    assert row[4].endswith(" records/s")
    assert row[5].endswith("×")
    assert row[8].endswith("×")  # ÷ the plain silver reference, run beside it
    assert "subbill and the plain usage reference agree on the amounts of all 2" in out
    assert "DISAGREE" not in out


def test_the_plain_usage_reference_bills_the_usage_workload_as_subbill_does():
    items, plain = usage_inputs(200)
    ours = {
        plan.id: bill_subscription(plan, as_of=USAGE_AS_OF, usage=records).invoice.subtotal.amount
        for plan, records in items
    }
    theirs = plain_usage.bill_usage(plain, start=USAGE_START, end=USAGE_AS_OF, tiers=USAGE_TIERS)
    assert len(ours) == 10
    assert ours == theirs
    assert doctest.testmod(plain_usage).failed == 0

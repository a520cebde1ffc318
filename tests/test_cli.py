"""The command line: each command's happy path, and errors as one line with an exit status."""

import argparse
import copy
import functools
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import types
import typing
from datetime import date
from pathlib import Path

import attrs
import pytest

from subbill import _structure, catalog, cli, dunning, licenses, quotes, subscriptions
from subbill.cli import main
from subbill.customers import Customer
from subbill.l10n import format_date
from subbill.periods import BillingStart
from subbill.storage import SQLiteStore
from tests.builders import VAT_FIELDS as TVA
from tests.builders import ledger_fields, seo_fields, subscription_fields
from tests.stores import database_content

EXAMPLES = Path(__file__).parent.parent / "examples"
CATALOG = EXAMPLES / "catalogue_saas.json"
SUBSCRIPTIONS = {
    "subscriptions": [
        subscription_fields(addons=[], billing_day=None),
        {
            "id": "S2",
            "customer": "Garage Petit",
            "plan": "pro",
            "start": "2026-03-15",
            "frequency": "annual",
            "modules": ["stock"],
            "tax": TVA,
        },
    ]
}
ACCOUNTS_TOML = """\
[[accounts]]
customer = "Boulangerie Martin"
product = "TBox"
seats = 12
start = 2025-06-01
years = 1
reseller = "Revendeur Ouest"

[[accounts]]
customer = "Cabinet Leroy"
product = "TSend"
seats = 4
start = "2025-03-01"
years = 1

[[accounts]]
customer = "Garage Petit"
product = "TBox"
seats = 6
start = "2025-09-15"
years = 2
reseller = "Revendeur Ouest"
"""
LINK = {
    "id": "L1",
    "currency": "EUR",
    "lines": [
        {
            "code": "site",
            "name": "Création du site web",
            "unit_price": "3000.00",
            "quantity": 1,
            "tax": TVA,
        },
        seo_fields(),
    ],
    "discounts": [{"code": "LANCEMENT", "percent": "10", "once": True}],
}


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, out: str, err: str, expected_status: int) -> str:
    assert status == expected_status, err
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("subbill: error: ")
    return lines[0]


def load_database(
    capsys, folder: Path, db, *, catalog: Path = CATALOG, subscriptions: object = SUBSCRIPTIONS
) -> Path:
    """Load ``catalog`` and ``subscriptions`` into ``db`` with the CLI; the latter's file."""
    assert run(capsys, "catalog", "load", catalog, "--db", db)[0] == 0
    path = write_json(folder / "subscriptions.json", subscriptions)
    assert run(capsys, "subscriptions", "load", path, "--db", db)[0] == 0
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "billing.db"


@pytest.fixture
def loaded(tmp_path: Path, db: Path, capsys) -> Path:
    """A database with the SaaS catalog and two subscriptions."""
    load_database(capsys, tmp_path, db)
    return db


# -- happy paths ------------------------------------------------------------------------------


def test_catalog_load_validates_saves_and_summarises(capsys, db):
    status, out, err = run(capsys, "catalog", "load", CATALOG, "--db", db)
    assert status == 0, err
    assert out.strip() == (f"Catalog saved to {db}: 3 plans, 5 modules, 1 add-ons, in EUR.")
    assert db.exists()


def test_catalog_load_reads_toml(capsys, tmp_path, db):
    toml = tmp_path / "catalog.toml"
    toml.write_text(
        'currency = "EUR"\n\n[[plans]]\ncode = "solo"\nname = "Solo"\nrank = 1\n'
        '[plans.prices]\nmonthly = "9.00"\n',
        encoding="utf-8",
    )
    status, out, err = run(capsys, "catalog", "load", toml, "--db", db)
    assert status == 0, err
    assert "1 plans" in out


def test_subscriptions_load_saves_every_subscription(capsys, tmp_path, db):
    run(capsys, "catalog", "load", CATALOG, "--db", db)
    path = write_json(tmp_path / "subscriptions.json", SUBSCRIPTIONS)
    status, out, err = run(capsys, "subscriptions", "load", path, "--db", db)
    assert status == 0, err
    assert out.strip() == f"2 subscriptions saved to {db} (2 new, 0 replaced)."
    status, out, _ = run(capsys, "subscriptions", "load", path, "--db", db)
    assert out.strip() == f"2 subscriptions saved to {db} (0 new, 2 replaced)."


def test_bill_run_creates_invoices_once_and_invoice_show_prints_and_writes_a_pdf(
    capsys, tmp_path, loaded
):
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", loaded)
    assert status == 0, err
    assert out.splitlines()[0] == (
        "Bill run as of April 1, 2026: 2 subscriptions looked at, 2 invoices created "
        "(F-2026-000001 to F-2026-000002)."
    )
    # S1: (29 + 5) × 2 months + 20 % VAT; S2: a year of Pro + Stock (590 + 90) + 20 % VAT.
    assert "Total EUR: €897.60" in out
    assert err == ""  # stderr is not a terminal: no progress bar

    status, out, _ = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", loaded)
    assert status == 0
    assert out.strip() == (
        "Bill run as of April 1, 2026: 2 subscriptions looked at, 0 invoices created."
    )

    pdf = tmp_path / "invoice.pdf"
    status, out, err = run(
        capsys,
        "invoice",
        "show",
        "F-2026-000001",
        "--locale",
        "fr_FR",
        "--pdf",
        pdf,
        "--db",
        loaded,
    )
    assert status == 0, err
    assert "Facture F-2026-000001" in out
    assert "Boulangerie Martin" in out
    assert "Total TTC" in out
    assert "81,60\xa0€" in out
    assert pdf.read_bytes().startswith(b"%PDF")

    status, out, err = run(capsys, "invoice", "show", "F-2026-000002", "--db", loaded)
    assert status == 0, err
    assert "Garage Petit" in out


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bill_run_says_in_french_what_it_looked_at_and_created(capsys, loaded):
    # A review found the summary in English with --locale fr_FR.
    argv = ["bill-run", "--as-of", "2026-04-01", "--locale", "fr_FR", "--db", loaded]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert out.splitlines() == [
        (
            "Facturation au 1 avril 2026 : 2 abonnements examinés, 2 factures créées "
            "(F-2026-000001 à F-2026-000002)."
        ),
        "Total EUR : 897,60\xa0€",
    ]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert out.splitlines() == [
        "Facturation au 1 avril 2026 : 2 abonnements examinés, 0 facture créée.",
    ]


def test_bill_run_counts_one_subscription_and_one_invoice_in_the_singular(capsys, tmp_path, db):
    # A review found "1 invoices" and "Billed 1 subscriptions".
    assert run(capsys, "catalog", "load", CATALOG, "--db", db)[0] == 0
    one = {"subscriptions": SUBSCRIPTIONS["subscriptions"][:1]}
    path = write_json(tmp_path / "s.json", one)
    assert run(capsys, "subscriptions", "load", path, "--db", db)[0] == 0
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-03-01", "--db", db)
    assert status == 0, err
    assert out.splitlines()[0] == (
        "Bill run as of March 1, 2026: 1 subscription looked at, 1 invoice created (F-2026-000001)."
    )
    french = ["--locale", "fr_FR"]
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-03-01", *french, "--db", db)
    assert status == 0, err
    assert out.strip() == "Facturation au 1 mars 2026 : 1 abonnement examiné, 0 facture créée."


def test_bill_run_batch_size_bills_the_same_invoices(capsys, tmp_path, loaded):
    other = tmp_path / "other.db"
    shutil.copy(loaded, other)
    argv = ["bill-run", "--as-of", "2026-04-01", "--batch-size", "1", "--db", loaded]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    _, plain, _ = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", other)
    assert out == plain
    first, second = SQLiteStore(loaded), SQLiteStore(other)
    assert first.invoices() == second.invoices()
    first.close()
    second.close()


@pytest.mark.parametrize("size", ["0", "-1", "x", "1.5", "1000001", "1" + "0" * 30])
def test_bill_run_batch_size_is_a_whole_number_up_to_a_million(capsys, billed, size):
    before = database_content(billed)
    line = assert_one_line_error(
        *run(capsys, "bill-run", "--as-of", "2026-05-01", "--batch-size", size, "--db", billed),
        2,
    )
    assert f"--batch-size: {size!r} must be a whole number from 1 to 1000000" in line
    assert database_content(billed) == before


def test_bill_run_shards_bill_the_same_invoices_between_them(capsys, tmp_path, loaded):
    other = tmp_path / "other.db"
    shutil.copy(loaded, other)
    for shard in ("0/2", "1/2"):
        status, _, err = run(
            capsys, "bill-run", "--as-of", "2026-04-01", "--shard", shard, "--db", loaded
        )
        assert status == 0, err
    _, plain, _ = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", other)
    assert "2 invoices created" in plain
    first, second = SQLiteStore(loaded), SQLiteStore(other)
    assert sorted((i.subscription, i.total) for i in first.invoices()) == sorted(
        (i.subscription, i.total) for i in second.invoices()
    )
    assert [i.number for i in first.invoices()] == [i.number for i in second.invoices()]
    first.close()
    second.close()


@pytest.mark.parametrize("shard", ["2/2", "1", "-1/2", "0/0", "a/b", "0/10001", "1/2/3"])
def test_bill_run_shard_is_i_of_n(capsys, billed, shard):
    before = database_content(billed)
    line = assert_one_line_error(
        *run(capsys, "bill-run", "--as-of", "2026-05-01", f"--shard={shard}", "--db", billed), 2
    )
    assert f"--shard: {shard!r} must be I/N: shard I (0 to N - 1) of N shards" in line
    assert database_content(billed) == before


def test_bill_run_help_documents_the_batch_size(capsys):
    status, out, _ = run(capsys, "bill-run", "--help")
    assert status == 0
    assert "[--batch-size N]" in out
    assert (
        "--batch-size N subscriptions billed and saved per transaction, 1 to 1000000 (default: 500)"
    ) in " ".join(out.split())


def test_bill_run_shows_a_progress_bar_only_on_a_terminal(capsys, loaded, monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = main(["bill-run", "--as-of", "2026-04-01", "--db", str(loaded)])
    assert status == 0
    assert "bill run:" in terminal.getvalue()
    assert "0/2" in terminal.getvalue()
    assert "bill run" not in capsys.readouterr().out


def test_bill_run_as_of_defaults_to_today(capsys, loaded):
    before = date.today()  # noqa: DTZ011  (the command line's own clock: the local day)
    status, out, err = run(capsys, "bill-run", "--db", loaded)
    after = date.today()  # noqa: DTZ011
    assert status == 0, err
    days = {format_date(day, locale="en_US") for day in (before, after)}
    assert any(out.startswith(f"Bill run as of {day}: ") for day in days), out


def test_db_defaults_to_subbill_db_in_the_current_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "catalog", "load", CATALOG)
    assert status == 0, err
    assert (tmp_path / "subbill.db").exists()


def test_renewals_prints_the_french_dashboard(capsys, tmp_path, db):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS_TOML, encoding="utf-8")
    status, out, err = run(capsys, "accounts", "load", accounts, "--db", db)
    assert status == 0, err
    assert out.strip() == f"3 licence accounts saved to {db}."

    status, out, err = run(
        capsys, "renewals", "--as-of", "2026-04-01", "--locale", "fr_FR", "--db", db
    )
    assert status == 0, err
    assert "Tableau de bord au 1 avril 2026" in out
    assert "Nombre de sociétés à renouveler : 2" in out
    assert "dont Revendeur Ouest : 1" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("Nom client"))
    assert "Date de fin" in header
    assert "Couleur" in header
    rows = lines[lines.index(header) + 2 :]
    assert [row.split("  ")[0] for row in rows] == [
        "Cabinet Leroy",
        "Boulangerie Martin",
        "Garage Petit",
    ]
    assert "rouge (expiré)" in rows[0]
    assert "28/02/2026" in rows[0]
    assert "orange" in rows[1]
    assert "Revendeur Ouest" in rows[2]


def test_renewals_in_english(capsys, tmp_path, db):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS_TOML, encoding="utf-8")
    run(capsys, "accounts", "load", accounts, "--db", db)
    status, out, _ = run(capsys, "renewals", "--as-of", "2026-04-01", "--db", db)
    assert status == 0
    assert "Companies to renew: 2" in out
    assert "red (expired)" in out


def test_quote_prints_the_checkout_in_french(capsys, tmp_path):
    link = write_json(tmp_path / "link.json", LINK)
    status, out, err = run(
        capsys,
        "quote",
        link,
        "--paid-on",
        "2026-01-15",
        "--horizon",
        "2026-09-15",
        "--locale",
        "fr_FR",
    )
    assert status == 0, err
    assert "À payer aujourd'hui" in out
    assert "Création du site web" in out
    assert "2\u202f700,00\xa0€" in out  # 3 000 € less the one-time 10 %
    assert "Total TTC" in out
    assert "3\u202f240,00\xa0€" in out
    assert "Paiements à venir" in out
    upcoming = out.split("Paiements à venir")[1]
    assert [line.split("   ")[0].strip() for line in upcoming.strip().splitlines()] == [
        "15 juillet 2026",
        "15 août 2026",
        "15 septembre 2026",
    ]
    assert upcoming.count("600,00\xa0€") == 3  # 500 € + VAT: the launch discount is once


def test_quote_in_english_with_a_deferred_start_and_nothing_due_today(capsys, tmp_path):
    link = write_json(
        tmp_path / "link.json",
        {
            "currency": "EUR",
            "lines": [
                {
                    "code": "seo",
                    "name": "SEO",
                    "unit_price": "500.00",
                    "frequency": "monthly",
                    "start": {"on": "2026-03-01"},
                    "payments": 2,
                }
            ],
        },
    )
    status, out, err = run(capsys, "quote", link, "--paid-on", "2026-01-15")
    assert status == 0, err
    assert "Due today" in out
    assert "Nothing to pay today." in out
    assert "Upcoming payments" in out
    assert "March 1, 2026" in out
    assert "April 1, 2026" in out


def test_demo_prints_the_tour(capsys):
    status, out, _ = run(capsys, "demo")
    assert status == 0
    assert "1\u202f234,56\xa0€" in out


def test_help_and_version_return_zero(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.startswith("subbill ")
    status, out, _ = run(capsys, "quote", "--help")
    assert status == 0
    assert "--paid-on" in out


# -- errors -------------------------------------------------------------------------------------


def test_bad_json_is_one_line_with_status_2(capsys, tmp_path, db):
    bad = tmp_path / "catalog.json"
    bad.write_text('{"currency": "EUR", "plans": [', encoding="utf-8")
    line = assert_one_line_error(*run(capsys, "catalog", "load", bad, "--db", db), 2)
    assert "is not valid JSON" in line
    assert not db.exists()


def test_bad_toml_is_one_line_with_status_2(capsys, tmp_path, db):
    bad = tmp_path / "accounts.toml"
    bad.write_text("[[accounts]\n", encoding="utf-8")
    line = assert_one_line_error(*run(capsys, "accounts", "load", bad, "--db", db), 2)
    assert "is not valid TOML" in line


@pytest.mark.parametrize(
    "argv",
    [
        ("bill-run", "--as-of", "2026-13-01"),
        ("renewals", "--as-of", "2026-13-01"),
        ("quote", "link.json", "--paid-on", "2026-13-01"),
    ],
    ids=["bill-run", "renewals", "quote"],
)
def test_unknown_date_is_one_line_with_status_2(capsys, loaded, argv):
    line = assert_one_line_error(*run(capsys, *argv, "--db", loaded), 2)
    assert "'2026-13-01' is not a date (month must be in 1..12)" in line


def _load_with_start(capsys, tmp_path, loaded, start):
    """The one-line error of loading the first subscription with ``start`` as its start."""
    data = {"subscriptions": [{**SUBSCRIPTIONS["subscriptions"][0], "start": start}]}
    path = write_json(tmp_path / "subscriptions.json", data)
    return assert_one_line_error(*run(capsys, "subscriptions", "load", path, "--db", loaded), 2)


def test_unknown_date_in_a_file_names_the_entry(capsys, tmp_path, loaded):
    line = _load_with_start(capsys, tmp_path, loaded, "2026-13-01")
    assert "subscriptions[0].start: '2026-13-01' is not a date" in line


@pytest.mark.parametrize(
    "argv",
    [
        ("bill-run",),
        ("renewals",),
        ("invoice", "show", "F-2026-000001"),
    ],
    ids=["bill-run", "renewals", "invoice-show"],
)
def test_missing_database_is_refused_and_not_created(capsys, tmp_path, argv):
    missing = tmp_path / "missing.db"
    line = assert_one_line_error(*run(capsys, *argv, "--db", missing), 1)
    assert f"no database at {missing}" in line
    assert not missing.exists()


def test_unknown_plan_in_a_subscription_saves_nothing(capsys, tmp_path, loaded):
    good = {**SUBSCRIPTIONS["subscriptions"][0], "id": "S3"}
    bad = {**SUBSCRIPTIONS["subscriptions"][0], "id": "S4", "plan": "platinum"}
    path = write_json(tmp_path / "more.json", {"subscriptions": [good, bad]})
    line = assert_one_line_error(*run(capsys, "subscriptions", "load", path, "--db", loaded), 2)
    assert "subscriptions[1].plan: plan='platinum' is not in the catalog" in line
    status, out, _ = run(capsys, "bill-run", "--as-of", "2026-03-01", "--db", loaded)
    assert status == 0
    assert "2 subscriptions looked at" in out  # S3 was not saved either


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"customer": "X", "plan": "pro", "start": "2026-03-01"},
            "subscriptions[0].id: is missing",
        ),
        (
            {"id": "S9", "customer": "X", "plan": "pro", "start": "2026-03-01", "seats": 3},
            "subscriptions[0].seats: unknown key",
        ),
        (
            {"id": "S9", "customer": "X", "plan": "pro", "start": "2026-03-01", "frequency": 1},
            "subscriptions[0].frequency: 1 must be a frequency",
        ),
        (
            {
                "id": "S9",
                "customer": "X",
                "plan": "essentiel",
                "start": "2026-03-01",
                "modules": ["stock"],
            },
            "The module Stock requires plan Pro or above.",
        ),
        (
            {
                "id": "S9",
                "customer": "X",
                "plan": "pro",
                "start": "2026-03-01",
                "tax": {"name": "TVA", "percent": "120"},
            },
            "percent='120' must be between 0 and 100",
        ),
    ],
    ids=["missing-id", "unknown-key", "bad-frequency", "refused-module", "bad-tax"],
)
def test_bad_subscription_entries_are_named(capsys, tmp_path, loaded, entry, expected):
    path = write_json(tmp_path / "bad.json", {"subscriptions": [entry]})
    line = assert_one_line_error(*run(capsys, "subscriptions", "load", path, "--db", loaded), 2)
    assert "subscriptions[0]" in line
    assert expected in line


def test_subscriptions_need_a_stored_catalog(capsys, tmp_path, db):
    path = write_json(tmp_path / "subscriptions.json", SUBSCRIPTIONS)
    line = assert_one_line_error(*run(capsys, "subscriptions", "load", path, "--db", db), 1)
    assert "no catalog" in line
    assert not db.exists()


def test_a_catalog_that_drops_a_subscribed_plan_is_refused(capsys, tmp_path, loaded):
    smaller = json.loads(CATALOG.read_text(encoding="utf-8"))
    smaller["plans"] = [plan for plan in smaller["plans"] if plan["code"] != "essentiel"]
    path = write_json(tmp_path / "smaller.json", smaller)
    line = assert_one_line_error(*run(capsys, "catalog", "load", path, "--db", loaded), 2)
    assert "'S1'" in line
    assert "plan='essentiel' is not in the catalog" in line


def test_missing_input_file_and_unknown_invoice(capsys, tmp_path, loaded):
    line = assert_one_line_error(
        *run(capsys, "catalog", "load", tmp_path / "nope.json", "--db", loaded), 2
    )
    assert "cannot read" in line
    line = assert_one_line_error(*run(capsys, "invoice", "show", "F-1", "--db", loaded), 1)
    assert "no invoice 'F-1'" in line


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ({"currency": "EUR", "lines": []}, "has no lines"),
        ({"currency": "XXX1", "lines": []}, "is not an ISO 4217 currency code"),
        (
            {"currency": "EUR", "lines": [{"code": "a", "name": "A", "unit_price": "5,50"}]},
            "lines[0].unit_price: amount='5,50' must be a decimal number",
        ),
        (
            {
                "currency": "EUR",
                "lines": [
                    {"code": "a", "name": "A", "unit_price": "5", "start": {"after_weeks": 2}}
                ],
            },
            "lines[0].start.after_weeks: unknown key, did you mean 'after_days'?",
        ),
        (
            {
                "currency": "EUR",
                "lines": [{"code": "a", "name": "A", "unit_price": "5"}],
                "discounts": [{"code": "X"}],
            },
            "discounts[0]: discount 'X' needs one of percent or amount",
        ),
    ],
    ids=["no-lines", "bad-currency", "bad-price", "bad-start", "bad-discount"],
)
def test_bad_payment_links_are_one_line(capsys, tmp_path, link, expected):
    path = write_json(tmp_path / "link.json", link)
    line = assert_one_line_error(*run(capsys, "quote", path, "--paid-on", "2026-01-15"), 2)
    assert expected in line


@pytest.mark.parametrize(
    "argv",
    [(), ("frobnicate",), ("renewals", "--locale", "xx_YY"), ("quote", "link.json")],
    ids=["no-command", "unknown-command", "bad-locale", "missing-paid-on"],
)
def test_usage_errors_are_one_line_with_status_2(capsys, argv):
    assert_one_line_error(*run(capsys, *argv), 2)


def test_a_file_that_is_not_a_database_fails_with_status_1(capsys, tmp_path):
    fake = tmp_path / "fake.db"
    fake.write_text("not a database " * 100, encoding="utf-8")
    line = assert_one_line_error(*run(capsys, "bill-run", "--db", fake), 1)
    assert "fake.db" in line


# -- python -m subbill --------------------------------------------------------------------------


def _python_m_subbill(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "subbill", *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_python_m_subbill_runs_the_demo(tmp_path):
    result = _python_m_subbill("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1\u202f234,56\xa0€" in result.stdout
    assert result.stderr == ""


def test_python_m_subbill_reports_errors_without_a_traceback(tmp_path):
    result = _python_m_subbill("bill-run", "--db", "missing.db", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("subbill: error: no database at missing.db")
    assert not (tmp_path / "missing.db").exists()


# -- output files never destroy data -----------------------------------------------------------


@pytest.fixture
def billed(capsys, loaded: Path) -> Path:
    """The loaded database, billed as of 1 April 2026: invoices F-2026-000001 and 2."""
    assert run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", loaded)[0] == 0
    return loaded


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith("billing.db")
    }


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_pdf_onto_the_database_is_refused_and_the_database_is_kept(capsys, billed, force):
    before = database_content(billed)
    argv = ["invoice", "show", "F-2026-000001", "--pdf", billed, "--db", billed]
    line = assert_one_line_error(*run(capsys, *argv, *(["--force"] if force else [])), 2)
    assert f"--pdf {billed} is the database {billed}: write to another file" in line
    assert database_content(billed) == before
    status, out, _ = run(capsys, "invoice", "show", "F-2026-000001", "--db", billed)
    assert status == 0
    assert "Boulangerie Martin" in out


def test_pdf_onto_the_database_by_another_name_is_refused(capsys, billed, monkeypatch):
    before = database_content(billed)
    monkeypatch.chdir(billed.parent)
    folder = billed.parent
    (folder / "sub").mkdir()
    os.link(billed, folder / "hard.db")
    (folder / "soft.db").symlink_to(billed)
    for other in ("./billing.db", "sub/../billing.db", "hard.db", "soft.db", "billing.db-wal"):
        argv = ["invoice", "show", "F-2026-000001", "--pdf", other, "--force", "--db", "billing.db"]
        line = assert_one_line_error(*run(capsys, *argv), 2)
        assert "is the database billing.db" in line, other
    assert database_content(billed) == before


def test_an_existing_pdf_is_kept_unless_force(capsys, tmp_path, billed):
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(b"my precious document")
    argv = ["invoice", "show", "F-2026-000001", "--pdf", pdf, "--db", billed]
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert f"--pdf {pdf} already exists: add --force to replace it" in line
    assert pdf.read_bytes() == b"my precious document"
    status, out, err = run(capsys, *argv, "--force")
    assert status == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    assert f"PDF written to {pdf}" in out
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_pdf_is_written_whole_or_not_at_all(capsys, tmp_path, billed, monkeypatch):
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(b"the old one")

    def crash(_source, _target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    argv = ["invoice", "show", "F-2026-000001", "--pdf", pdf, "--force", "--db", billed]
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert f"cannot write {pdf}: No space left on device" in line
    assert pdf.read_bytes() == b"the old one"  # not truncated, not half written
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []  # no litter


def test_a_new_pdf_is_created_and_leaves_no_temporary_file(capsys, tmp_path, billed):
    pdf = tmp_path / "new.pdf"
    argv = ["invoice", "show", "F-2026-000002", "--pdf", pdf, "--db", billed]
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    assert pdf.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_pdf_into_a_folder_or_a_missing_folder_is_refused(capsys, tmp_path, billed):
    before = folder_files(tmp_path)
    argv = ["invoice", "show", "F-2026-000001", "--db", billed, "--pdf"]
    line = assert_one_line_error(*run(capsys, *argv, tmp_path), 1)
    assert "is a folder: give a file name" in line
    line = assert_one_line_error(*run(capsys, *argv, tmp_path / "nope" / "x.pdf"), 1)
    assert "cannot write" in line
    assert folder_files(tmp_path) == before


def test_an_unknown_invoice_writes_no_pdf(capsys, tmp_path, billed):
    pdf = tmp_path / "x.pdf"
    argv = ["invoice", "show", "F-9", "--pdf", pdf, "--db", billed]
    assert_one_line_error(*run(capsys, *argv), 1)
    assert not pdf.exists()


# -- read-only commands and a locked database ------------------------------------------------


def hold_write_lock(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO quotes (id, document) VALUES ('held', '{}')")
    return other


def test_read_only_commands_never_wait_for_the_write_lock(capsys, tmp_path, billed):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS_TOML, encoding="utf-8")
    assert run(capsys, "accounts", "load", accounts, "--db", billed)[0] == 0
    before = database_content(billed)
    other = hold_write_lock(billed)
    try:
        status, out, err = run(capsys, "invoice", "show", "F-2026-000001", "--db", billed)
        assert status == 0, err
        assert "Boulangerie Martin" in out
        status, out, err = run(capsys, "renewals", "--as-of", "2026-04-01", "--db", billed)
        assert status == 0, err
        assert "Companies to renew: 2" in out
    finally:
        other.close()
    assert database_content(billed) == before


def test_a_bill_run_on_a_locked_database_is_one_line_saying_so(capsys, billed, monkeypatch):
    monkeypatch.setattr(cli, "SQLiteStore", functools.partial(SQLiteStore, timeout=0.2))
    other = hold_write_lock(billed)
    try:
        line = assert_one_line_error(
            *run(capsys, "bill-run", "--as-of", "2026-05-01", "--db", billed), 1
        )
    finally:
        other.close()
    assert line == (
        f"subbill: error: {billed}: database is locked by another process (waited 0.2 s); "
        "try again when it has finished"
    )


def test_a_bill_run_before_the_last_invoice_date_is_refused(capsys, billed):
    before = database_content(billed)
    line = assert_one_line_error(
        *run(capsys, "bill-run", "--as-of", "2026-03-01", "--db", billed), 1
    )
    assert "as_of=2026-03-01 is before 2026-04-01, the date of the last invoice issued" in line
    assert database_content(billed) == before


def test_a_damaged_row_fails_its_subscription_and_the_bill_run_exits_1(capsys, tmp_path, loaded):
    connection = sqlite3.connect(loaded, isolation_level=None)
    connection.execute("UPDATE subscriptions SET document = '{\"version\": 1}' WHERE id = 'S1'")
    connection.close()
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", loaded)
    assert status == 1
    assert "Traceback" not in out + err
    assert out.splitlines() == [
        (
            "Bill run as of April 1, 2026: 2 subscriptions looked at, 1 invoice created "
            "(F-2026-000001)."
        ),
        "Total EUR: €816.00",  # S2 only: a year of Pro + Stock (590 + 90) + 20 % VAT
        "1 subscription could not be billed.",
    ]
    (line,) = err.splitlines()
    assert line.startswith(
        "subbill: error: subscription 'S1' was not billed: subscriptions row 'S1': "
    )


# -- files that are not data -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"currency": "EUR", "plans": [{"price": NaN}]}', "NaN is not a number"),
        ('{"currency": "EUR", "plans": [{"price": Infinity}]}', "Infinity is not a number"),
        ('{"currency": "EUR", "plans": [{"price": -Infinity}]}', "-Infinity is not a number"),
        ("[" * 100_000 + "]" * 100_000, "is nested too deeply: at most 32 levels"),
        ('{"a": ' * 40 + "1" + "}" * 40, "is nested too deeply: at most 32 levels"),
        ('{"currency": "EUR", "plans": [' + "9" * 5000 + "]}", "Exceeds the limit"),
    ],
    ids=["nan", "infinity", "minus-infinity", "deep", "deeper-than-32", "huge-integer"],
)
def test_json_that_is_not_data_is_one_line_with_status_2(capsys, tmp_path, db, text, expected):
    path = tmp_path / "catalog.json"
    path.write_text(text, encoding="utf-8")
    line = assert_one_line_error(*run(capsys, "catalog", "load", path, "--db", db), 2)
    assert expected in line
    assert "a bug" not in line
    assert not db.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('currency = "EUR"\nprice = nan\n', "nan is not a number"),
        ('currency = "EUR"\nprice = -inf\n', "-inf is not a number"),
        ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply"),
    ],
    ids=["nan", "infinity", "deep"],
)
def test_toml_that_is_not_data_is_one_line_with_status_2(capsys, tmp_path, db, text, expected):
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    line = assert_one_line_error(*run(capsys, "catalog", "load", path, "--db", db), 2)
    assert expected in line
    assert not db.exists()


def test_a_bill_run_on_a_read_only_database_is_one_line(capsys, billed, monkeypatch):
    before = database_content(billed)
    monkeypatch.setattr(cli, "SQLiteStore", lambda db, **_: SQLiteStore(db, read_only=True))
    line = assert_one_line_error(
        *run(capsys, "bill-run", "--as-of", "2026-05-01", "--db", billed), 1
    )
    assert line == (
        f"subbill: error: {billed}: read-only database (opened read-only); nothing was written"
    )
    assert database_content(billed) == before


# -- strict input files (issue 10) --------------------------------------------------------------


def error_lines(status: int, out: str, err: str, expected_status: int = 2) -> list[str]:
    assert status == expected_status, err
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert all(line.startswith("subbill: error: ") for line in lines), err
    return [line.removeprefix("subbill: error: ") for line in lines]


def test_every_problem_of_a_catalog_file_is_printed_one_per_line(capsys, tmp_path, db):
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    catalog["plans"][0]["limts"] = catalog["plans"][0].pop("limits")
    catalog["plans"][1]["price"] = catalog["plans"][1].pop("prices")
    catalog["plans"][2]["name"] = ""
    path = write_json(tmp_path / "catalog.json", catalog)
    assert error_lines(*run(capsys, "catalog", "load", path, "--db", db)) == [
        f"{path}: plans[2].name: '' must be a non-empty text",
        f"{path}: plans[0].limts: unknown key, did you mean 'limits'?",
        f"{path}: plans[1].price: unknown key, did you mean 'prices'?",
    ]
    assert not db.exists()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "catalog.json",
            (
                '{"currency": "EUR", "plans": [{"code": "a", "name": "A", "rank": 1, '
                '"prices": {"monthly": 29.9}}]}'
            ),
        ),
        (
            "catalog.toml",
            (
                'currency = "EUR"\n[[plans]]\ncode = "a"\nname = "A"\nrank = 1\n'
                "[plans.prices]\nmonthly = 29.9\n"
            ),
        ),
    ],
    ids=["json", "toml"],
)
def test_a_float_price_in_a_file_is_refused(capsys, tmp_path, db, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert error_lines(*run(capsys, "catalog", "load", path, "--db", db)) == [
        (
            f"{path}: plans[0].prices.monthly: amount=29.9 is a float, which cannot hold an exact "
            'amount; write it as a string such as "29.9" (or pass a Decimal)'
        )
    ]
    assert not db.exists()


def test_every_bad_subscription_of_a_file_is_reported_and_none_is_saved(capsys, tmp_path, loaded):
    before = loaded.read_bytes()
    good = {**SUBSCRIPTIONS["subscriptions"][0], "id": "S3"}
    entries = [
        good,
        {**good, "id": "S4", "quantity": 2.5, "strat": "2026-03-01"},
        {**good, "id": "S5", "plan": "essentiel", "modules": ["stock"]},
        good,
        "S6",
    ]
    path = write_json(tmp_path / "more.json", {"subscriptions": entries})
    assert error_lines(*run(capsys, "subscriptions", "load", path, "--db", loaded)) == [
        f"{path}: subscriptions[4]: 'S6' must be a mapping, not a string"
    ]
    entries.pop()
    write_json(path, {"subscriptions": entries})
    assert error_lines(*run(capsys, "subscriptions", "load", path, "--db", loaded)) == [
        (
            f"{path}: subscriptions[1].quantity: quantity=2.5 is a float, which cannot hold an "
            'exact amount; write it as a string such as "2.5" (or pass a Decimal)'
        ),
        f"{path}: subscriptions[1].strat: unknown key, did you mean 'start'?",
        f"{path}: subscriptions[2]: The module Stock requires plan Pro or above.",
        f"{path}: subscriptions[3].id: 'S3' appears twice in the file (also subscriptions[0])",
    ]
    assert loaded.read_bytes() == before


def test_a_card_security_code_in_a_subscriptions_file_is_refused(capsys, tmp_path, loaded):
    before = loaded.read_bytes()
    entry = {**SUBSCRIPTIONS["subscriptions"][0], "card": {"brand": "visa", "cvc": "123"}}
    path = write_json(tmp_path / "card.json", {"subscriptions": [entry]})
    [line] = error_lines(*run(capsys, "subscriptions", "load", path, "--db", loaded))
    assert line.startswith(f"{path}: subscriptions[0].card.cvc: a card security code must never")
    assert loaded.read_bytes() == before


def test_every_bad_account_of_a_file_is_reported(capsys, tmp_path, db):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        ACCOUNTS_TOML.replace("seats = 12", 'seats = "12"').replace("years = 2", "yeras = 2"),
        encoding="utf-8",
    )
    assert error_lines(*run(capsys, "accounts", "load", accounts, "--db", db)) == [
        f"{accounts}: accounts[0].seats: '12' must be a whole number, not a string",
        f"{accounts}: accounts[2].years: is missing",
        f"{accounts}: accounts[2].yeras: unknown key, did you mean 'years'?",
    ]
    assert not db.exists()


def test_a_payment_link_with_a_typo_and_a_negative_price_is_refused(capsys, tmp_path):
    link = copy.deepcopy(LINK)
    link["lines"][0]["unit_price"] = "-3000.00"
    link["lines"][1]["paymnets"] = link["lines"][1].pop("payments")
    path = write_json(tmp_path / "link.json", link)
    assert error_lines(*run(capsys, "quote", path, "--paid-on", "2026-01-15")) == [
        f"{path}: lines[0].unit_price: amount='-3000.00' must be >= 0",
        f"{path}: lines[1].paymnets: unknown key, did you mean 'payments'?",
    ]


# -- reloading never re-bills (issue 10) -------------------------------------------------------


def _one(**changes):
    entry = {
        "id": "S1",
        "customer": "Boulangerie Martin",
        "plan": "essentiel",
        "start": "2026-03-01",
        "frequency": "monthly",
    }
    entry.update(changes)
    return {"subscriptions": [entry]}


def _invoices(db):
    store = SQLiteStore(db, read_only=True)
    try:
        return [(i.number, i.issued_on.isoformat(), str(i.total)) for i in store.invoices()]
    finally:
        store.close()


def _billed(capsys, tmp_path, db, *, as_of):
    """Load the catalog and ``_one()``, bill as of ``as_of``; return the subscriptions file."""
    path = load_database(capsys, tmp_path, db, subscriptions=_one())
    assert run(capsys, "bill-run", "--as-of", as_of, "--db", db)[0] == 0
    return path


def _raised_catalog(tmp_path):
    """The example catalog with the essentiel plan at 35.00 a month (29.00 before)."""
    raised = json.loads(CATALOG.read_text(encoding="utf-8"))
    raised["plans"][0]["prices"]["monthly"] = "35.00"
    return write_json(tmp_path / "raised.json", raised)


def test_reloading_a_billed_subscription_never_bills_a_month_again(capsys, tmp_path, db):
    path = _billed(capsys, tmp_path, db, as_of="2026-03-15")
    assert _invoices(db) == [("F-2026-000001", "2026-03-15", "29.00 EUR")]
    before = database_content(db)
    # Reloaded on plan pro: refused, with the change to use instead; nothing changes.
    pro = write_json(tmp_path / "pro.json", _one(plan="pro"))
    line = assert_one_line_error(*run(capsys, "subscriptions", "load", pro, "--db", db), 1)
    assert "billed through 2026-04-01" in line
    assert "change_plan" in line
    assert database_content(db) == before
    # Reloaded with the start moved one day: refused too.
    moved = write_json(tmp_path / "moved.json", _one(start="2026-03-02"))
    assert_one_line_error(*run(capsys, "subscriptions", "load", moved, "--db", db), 1)
    assert database_content(db) == before
    # The same file again is accepted, and bills nothing more.
    assert run(capsys, "subscriptions", "load", path, "--db", db)[0] == 0
    assert run(capsys, "bill-run", "--as-of", "2026-03-15", "--db", db)[0] == 0
    assert _invoices(db) == [("F-2026-000001", "2026-03-15", "29.00 EUR")]


def test_reloading_a_catalog_never_reprices_billed_periods(capsys, tmp_path, db):
    _billed(capsys, tmp_path, db, as_of="2026-03-15")
    new_catalog = _raised_catalog(tmp_path)
    status, out, err = run(
        capsys, "catalog", "load", new_catalog, "--as-of", "2026-03-15", "--db", db
    )
    assert status == 0, err
    assert "New prices for 1 subscriptions" in out
    assert run(capsys, "bill-run", "--as-of", "2026-03-20", "--db", db)[0] == 0
    assert run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", db)[0] == 0
    # March keeps 29.00 (nothing credited, nothing charged again); April is at 35.00.
    assert _invoices(db) == [
        ("F-2026-000001", "2026-03-15", "29.00 EUR"),
        ("F-2026-000002", "2026-04-01", "35.00 EUR"),
    ]


def test_a_catalog_effective_date_before_what_was_billed_waits_for_the_billed_end(
    capsys, tmp_path, db
):
    _billed(capsys, tmp_path, db, as_of="2026-04-01")
    new_catalog = _raised_catalog(tmp_path)
    argv = ["catalog", "load", new_catalog, "--effective", "2026-03-10", "--db", db]
    assert run(capsys, *argv)[0] == 0
    assert run(capsys, "bill-run", "--as-of", "2026-05-01", "--db", db)[0] == 0
    # March and April were billed (2 × 29.00) on 1 April: they keep their price; the new
    # price starts with May, the first period not billed yet.
    assert [total for _, _, total in _invoices(db)] == ["58.00 EUR", "35.00 EUR"]


def test_a_catalog_that_drops_a_subscribed_price_is_refused_and_changes_nothing(
    capsys, tmp_path, db
):
    _billed(capsys, tmp_path, db, as_of="2026-03-15")
    before = database_content(db)
    annual_only = json.loads(CATALOG.read_text(encoding="utf-8"))
    del annual_only["plans"][0]["prices"]["monthly"]
    catalog = write_json(tmp_path / "annual.json", annual_only)
    argv = ["catalog", "load", catalog, "--as-of", "2026-03-15", "--db", db]
    line = assert_one_line_error(*run(capsys, *argv), 1)
    assert "'essentiel' has no P1M price in the new catalog" in line
    assert database_content(db) == before


@pytest.mark.parametrize(
    "command",
    [
        ("bill-run", "--as-of", "2026-03-01"),
        ("subscriptions", "load", "SUBS"),
        ("renewals", "--as-of", "2026-03-01"),
        ("invoice", "show", "F-2026-000001"),
    ],
)
def test_a_command_that_does_not_create_a_database_never_writes_into_an_empty_file(
    capsys, tmp_path, command
):
    subs = write_json(tmp_path / "subs.json", SUBSCRIPTIONS)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    argv = [subs if part == "SUBS" else part for part in command]
    line = assert_one_line_error(*run(capsys, *argv, "--db", empty), 1)
    assert "empty.db: not a subbill database" in line
    assert empty.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "subs.json"]


@pytest.mark.parametrize("text", ["20260301", "2026-W09-1", "2026-03-01T00:00", "２０２６-03-01"])
def test_a_date_argument_is_written_yyyy_mm_dd(capsys, loaded, text):
    line = assert_one_line_error(*run(capsys, "bill-run", "--as-of", text, "--db", loaded), 2)
    assert f"{text!r} is not a date" in line
    assert "expected YYYY-MM-DD" in line


def test_a_date_in_a_file_is_written_yyyy_mm_dd(capsys, tmp_path, loaded):
    line = _load_with_start(capsys, tmp_path, loaded, "20260301")
    assert "subscriptions[0].start: '20260301' is not a date" in line
    assert "expected YYYY-MM-DD" in line


def test_accounts_load_refuses_two_accounts_with_the_same_key(capsys, tmp_path, db):
    # Issue 11: today it silently keeps one of two duplicates.
    account = {"customer": "A", "product": "TBox", "seats": 5, "start": "2025-06-01", "years": 1}
    path = write_json(tmp_path / "comptes.json", {"accounts": [account, {**account, "seats": 7}]})
    lines = error_lines(*run(capsys, "accounts", "load", path, "--db", db))
    expected = (
        f"{path}: accounts[1]: 'A' already has a TBox account starting 2025-06-01 in this file "
        "(accounts[0])"
    )
    assert lines == [expected]
    assert not db.exists()


def test_accounts_load_refuses_seats_and_years_beyond_the_bounds(capsys, tmp_path, db):
    # The review: 10**20 seats for 900 years were loaded; the dashboard then showed the term
    # of a later account ending in 2925 as « 5/31/25 ».
    account = {"customer": "A", "product": "TBox", "seats": 10**20, "start": "2025-06-01",
               "years": 900}  # fmt: skip
    path = write_json(tmp_path / "comptes.json", {"accounts": [account]})
    lines = error_lines(*run(capsys, "accounts", "load", path, "--db", db))
    assert lines == [
        f"{path}: accounts[0].seats: seats=100000000000000000000 must be at most 10^12 seats",
        f"{path}: accounts[0].years: years=900 must be at most 99 years",
    ]
    assert not db.exists()
    far = {**account, "seats": 5, "years": 1, "start": "2925-06-01"}
    path = write_json(tmp_path / "comptes.json", {"accounts": [far]})
    assert run(capsys, "accounts", "load", path, "--db", db)[0] == 0
    status, out, err = run(capsys, "renewals", "--as-of", "2926-04-01", "--db", db)
    assert status == 0, err
    assert out.splitlines()[-1].split()[3:5] == ["6/1/2925", "5/31/2926"]


# -- subbill portal (issue 11) --------------------------------------------------------------------


def _spaces(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def cells(line: str) -> list[str]:
    """The cells of a row of a plain-text table (columns are two spaces apart or more)."""
    return re.split(r"\s{2,}", line.strip())


def _save_website_quote(db: Path) -> None:
    """Seed 004's quote for Boulangerie Martin: 1,500.00 HT setup, SEO 300.00 HT a month."""
    from subbill import MONTHLY, BillingStart, Discount, Duration, LineItem, Money, Quote, TaxRate  # noqa: PLC0415

    tva = TaxRate(name="TVA 20 %", percent="20")
    quote = Quote(
        id="DEVIS-7",
        customer="Boulangerie Martin",
        currency="EUR",
        valid_until=date(2026, 4, 30),
        lines=(
            LineItem(
                code="site", name="Site", unit_price=Money("1500.00", "EUR"), tax_rates=(tva,)
            ),
            LineItem(
                code="seo",
                name="SEO",
                unit_price=Money("300.00", "EUR"),
                frequency=MONTHLY,
                billing_start=BillingStart.after_months(6),
                tax_rates=(tva,),
            ),
        ),
        discounts=(Discount.percent_off("LANCEMENT", "10", duration=Duration.once()),),
    ).send(on=date(2026, 4, 1))
    store = SQLiteStore(db)
    try:
        store.save_quote(quote)
    finally:
        store.close()


def test_portal_prints_quotes_invoices_and_subscriptions_with_their_words(capsys, billed):
    _save_website_quote(billed)
    before = database_content(billed)
    status, out, err = run(
        capsys,
        "portal",
        "Boulangerie Martin",
        "--as-of",
        "2026-04-10",
        "--locale",
        "fr_FR",
        "--db",
        billed,
    )
    assert (status, err) == (0, "")
    lines = [_spaces(line) for line in out.splitlines()]
    assert lines[0] == "Portail client de Boulangerie Martin au 10 avril 2026"
    # the quote shows what accepting charges, TTC: (1,500.00 − 10 %) × 1.2, then the SEO
    assert lines[lines.index("Devis") + 1 : lines.index("Devis") + 4 : 2] == [
        "Référence  Valide jusqu'au  Statut  À l'acceptation (TTC)  Puis",
        "DEVIS-7    30/04/2026       Envoyé  1 620,00 €             360,00 € le 10/10/2026",
    ]
    invoice = lines[lines.index("Factures") + 3]
    assert cells(invoice) == [
        "F-2026-000001",
        "01/04/2026",
        "01/05/2026",
        "Non payée",
        "81,60 €",
        "81,60 €",
    ]
    subscription = lines[lines.index("Abonnements") + 3]
    # 1 app, no quoted line (no column for them); the next invoice as the engine issues it,
    # TTC (34.00 × 1.2)
    assert lines[lines.index("Abonnements") + 1].split()[3:5] == ["Applications", "actives"]
    assert cells(subscription) == [
        "S1",
        "Actif",
        "Essentiel",
        "1",
        "mensuel",
        "01/05/2026",
        "40,80 €",
        "—",
    ]
    assert "Commandes" not in lines  # nothing the store holds yet
    assert database_content(billed) == before  # read only


def test_portal_in_english_says_overdue_after_the_due_date(capsys, billed):
    status, out, _ = run(capsys, "portal", "Garage Petit", "--as-of", "2026-05-02", "--db", billed)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "Customer portal of Garage Petit on May 2, 2026"
    assert lines[lines.index("Quotes") + 1] == "No quotes."
    assert cells(lines[lines.index("Invoices") + 3]) == [
        "F-2026-000002",
        "Apr 1, 2026",
        "May 1, 2026",
        "Overdue",
        "€816.00",
        "€816.00",
    ]
    assert lines[lines.index("Subscriptions") + 3].split()[:2] == ["S2", "Unpaid"]
    status, out, _ = run(capsys, "portal", "Garage Petit", "--as-of", "2026-05-01", "--db", billed)
    assert "Unpaid" in out.splitlines()[out.splitlines().index("Invoices") + 3]


def test_portal_refuses_a_customer_nothing_names(capsys, billed):
    before = database_content(billed)
    line = assert_one_line_error(
        *run(capsys, "portal", "Boulangerie", "--as-of", "2026-04-10", "--db", billed), 1
    )
    assert line.endswith(
        f"no customer 'Boulangerie' in {billed}: no customer record, quote, order, invoice, "
        "subscription or wallet names it, did you mean 'Boulangerie Martin'?"
    )
    assert database_content(billed) == before


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["portal", "", "--as-of", "2026-04-10"], "CUSTOMER: customer='' must be a non-empty str"),
        (["portal", "A\nB", "--as-of", "2026-04-10"], "customer='A\\nB' holds U+000A"),
        (["portal", "S1", "--as-of", "2026-13-01"], "'2026-13-01' is not a date"),
        (["portal", "S1", "--locale", "xx_YY"], "'xx_YY' is not a known locale"),
        (["portal"], "the following arguments are required: CUSTOMER"),
    ],
)
def test_portal_refuses_bad_arguments_on_one_line(capsys, billed, argv, expected):
    line = assert_one_line_error(*run(capsys, *argv, "--db", billed), 2)
    assert expected in line


def test_portal_needs_a_database_and_creates_none(capsys, tmp_path):
    missing = tmp_path / "none.db"
    line = assert_one_line_error(*run(capsys, "portal", "ACME", "--db", missing), 1)
    assert f"no database at {missing}" in line
    assert not missing.exists()


def test_portal_view_gathers_every_section_from_a_store():
    from subbill import Quote  # noqa: PLC0415
    from subbill.storage import MemoryStore  # noqa: PLC0415
    from subbill.subscriptions import Subscription  # noqa: PLC0415
    from tests.seed_catalog import seed_catalog  # noqa: PLC0415

    store = MemoryStore()
    catalog = seed_catalog()
    store.save_catalog(catalog)
    store.save_subscription(
        Subscription.create(
            id="A1", customer="ACME", catalog=catalog, plan="pro", start=date(2026, 1, 1)
        )
    )
    store.save_subscription(
        Subscription.create(
            id="B1", customer="Beta", catalog=catalog, plan="pro", start=date(2026, 1, 1)
        )
    )
    store.save_quote(Quote(id="Q1", customer="ACME", currency="EUR", valid_until=date(2026, 5, 1)))
    view = cli._portal_view(store, "ACME", as_of=date(2026, 4, 10), db="memory")
    assert [row.id for row in view.subscriptions] == ["A1"]
    assert [row.id for row in view.quotes] == ["Q1"]
    assert (view.orders, view.tickets, view.payment_methods) == ((), (), ())


# -- review, renew, ledger load (issue 11, command line) ----------------------------------------


def _pro_then_stock(capsys, tmp_path: Path, db: Path) -> Path:
    """Pro from 1 March 2026 billed 59.00; Stock switched on and billed 2.32 on 24 March."""
    entry = {"id": "S1", "customer": "Garage Petit", "plan": "pro", "start": "2026-03-01"}
    load_database(capsys, tmp_path, db, subscriptions={"subscriptions": [entry]})
    assert run(capsys, "bill-run", "--as-of", "2026-03-01", "--db", db)[0] == 0
    store = SQLiteStore(db)
    catalog = store.load_catalog()
    subscription = store.get_subscription("S1").activate("stock", catalog, on=date(2026, 3, 24))
    store.save_subscription(subscription)
    store.close()
    assert run(capsys, "bill-run", "--as-of", "2026-03-24", "--db", db)[0] == 0
    return db


USAGE = {"subscription": "S1", "resources": {"clients": 850, "documents": 120}, "modules": {}}


def test_review_finds_both_invoices_of_pro_then_stock_right(capsys, tmp_path, db):
    # Issue 11: Pro billed 59.00 on 1 March, Stock switched on and billed 2.32 on 24 March;
    # the review flagged F-1 "expected 61.32, missing Stock" and F-2 "expected 17.55, missing
    # Pro". Both invoices are right, and the command line says so.
    _pro_then_stock(capsys, tmp_path, db)
    assert _invoices(db) == [
        ("F-2026-000001", "2026-03-01", "59.00 EUR"),
        ("F-2026-000002", "2026-03-24", "2.32 EUR"),
    ]
    usage = write_json(tmp_path / "usage.json", {**USAGE, "modules": {"stock": 4}})
    status, out, err = run(
        capsys, "review", "S1", "--as-of", "2026-03-31", "--usage", usage, "--db", db
    )
    assert status == 0, err
    assert out.splitlines() == [
        "Monthly review of S1 (Garage Petit) on March 31, 2026",
        "",
        "Plan",
        "  [ok] Your plan Pro fits your activity.",
        "",
        "Modules",
        "  [ok] Every active module was used this month.",
        "",
        "Usage",
        "  [check] clients: 850 of 1000 (85 %), near the limit.",
        "",
        "Billing",
        "  [ok] Invoice F-2026-000001 matches your configuration.",
        "  [ok] Invoice F-2026-000002 matches your configuration.",
        "",
        "Payment method",
        "  [to do] No active payment method: add one.",
        "",
        "2 point(s) to look at.",
    ]


def test_review_in_french_checks_the_card_given_in_the_usage_file(capsys, tmp_path, loaded):
    card = {"id": "pm_visa", "brand": "Visa", "last4": "4242", "exp_month": 4, "exp_year": 2026}
    usage = write_json(
        tmp_path / "usage.json",
        {"resources": {"clients": 12}, "modules": {}, "payment_methods": [card]},
    )
    argv = ["review", "S1", "--as-of", "2026-04-02", "--usage", usage, "--db", loaded]
    status, out, err = run(capsys, *argv, "--locale", "fr_FR")
    assert status == 0, err
    lines = out.replace("\xa0", " ").splitlines()
    assert lines[0] == "Point mensuel de l'abonnement S1 (Boulangerie Martin) au 2 avril 2026"
    assert (
        "  [à voir] Le module CRM n'a pas servi ce mois-ci : le désactiver économiserait "
        "5,00 € par période."
    ) in lines
    assert "  [ok] Aucune facture ce mois-ci." in lines  # S1 was billed on 1 March
    # S1 has no payment method: the card given is not its, so the review says so.
    assert "  [à faire] Aucun moyen de paiement actif : ajoutez-en un." in lines
    assert lines[-1] == "2 point(s) à voir."


def test_review_says_a_payment_method_it_cannot_check_is_not_checked(capsys, tmp_path, db):
    entry = {
        "id": "S1",
        "customer": "Garage Petit",
        "plan": "essentiel",
        "start": "2026-03-01",
        "payment_method": "pm_visa",
    }
    load_database(capsys, tmp_path, db, subscriptions={"subscriptions": [entry]})
    usage = write_json(tmp_path / "usage.json", {"resources": {}, "modules": {}})
    argv = ["review", "S1", "--as-of", "2026-03-10", "--usage", usage, "--db", db]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert (
        "  [?] Payment method pm_visa: not checked (give it in the usage file's "
        "payment_methods to check its expiry)."
    ) in out.splitlines()
    assert out.splitlines()[-1] == "Nothing to report."

    card = {"id": "pm_visa", "brand": "Visa", "last4": "4242", "exp_month": 2, "exp_year": 2026}
    usage = write_json(
        tmp_path / "usage.json", {"resources": {}, "modules": {}, "payment_methods": [card]}
    )
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert (
        "  [to do] Your payment method Visa •••• 4242 (02/2026) has expired: update it."
        in out.splitlines()
    )


def test_every_bad_field_of_a_usage_file_is_reported_with_its_path(capsys, tmp_path, loaded):
    usage = write_json(
        tmp_path / "usage.json",
        {
            "subscription": "S2",
            "resources": {"clietns": 85, "documents": -1},
            "modules": {"stok": 1},
            "payment_methods": [
                {"id": "pm_1", "brand": "Visa", "last4": "4242", "exp_month": 13, "exp_year": 2026},
                {"id": "sepa", "kind": "sepa_debit"},
            ],
        },
    )
    argv = ["review", "S1", "--as-of", "2026-04-02", "--usage", usage, "--db", loaded]
    before = database_content(loaded)
    assert error_lines(*run(capsys, *argv)) == [
        f"{usage}: subscription: 'S2' is not the subscription reviewed ('S1')",
        (
            f"{usage}: resources.clietns: 'clietns' is not a resource a plan of the catalog "
            "limits, did you mean 'clients'?"
        ),
        f"{usage}: resources.documents: -1 must be an int >= 0",
        f"{usage}: modules.stok: 'stok' is not a module of the catalog, did you mean 'stock'?",
        f"{usage}: payment_methods[0]: exp_month=13 must be an int from 1 to 12",
        f"{usage}: payment_methods[1]: method.label: is missing",
    ]
    assert database_content(loaded) == before


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            {"resources": {"clients": 1.5}, "modules": {}, "month": "2026-03"},
            [
                "resources.clients: 1.5 must be a whole number, not a float",
                "month: unknown key; expected modules, payment_methods, resources, subscription",
            ],
        ),
        ({"resources": {}}, ["modules: is missing"]),
        ([], ["[] must be a mapping (an object with keys), not a list"]),
        (
            {"resources": {"clients": True}, "modules": {"crm": "3"}},
            [
                "resources.clients: True must be a whole number, not a bool",
                "modules.crm: '3' must be a whole number, not a string",
            ],
        ),
        (
            {"resources": {}, "modules": {}, "payment_methods": [{"id": "x", "cvc": "123"}]},
            [
                (
                    "payment_methods[0].cvc: a card security code must never be given to subbill; "
                    "keep only the card's brand, last 4 digits, expiry and the payment processor's "
                    "token"
                )
            ],
        ),
    ],
    ids=["float-and-unknown-key", "missing-modules", "not-a-mapping", "bool-and-string", "cvc"],
)
def test_a_bad_usage_file_is_refused_with_status_2(capsys, tmp_path, loaded, usage, expected):
    path = write_json(tmp_path / "usage.json", usage)
    argv = ["review", "S1", "--as-of", "2026-04-02", "--usage", path, "--db", loaded]
    assert error_lines(*run(capsys, *argv)) == [f"{path}: {line}" for line in expected]


def test_review_of_an_unknown_subscription_or_before_its_start_fails_with_status_1(
    capsys, tmp_path, loaded
):
    usage = write_json(tmp_path / "usage.json", {"resources": {}, "modules": {}})
    line = assert_one_line_error(
        *run(capsys, "review", "S3", "--usage", usage, "--db", loaded), FAILURE
    )
    assert line == f"subbill: error: no subscription 'S3' in {loaded}; expected one of S1, S2"
    argv = ["review", "S1", "--as-of", "2026-02-28", "--usage", usage, "--db", loaded]
    line = assert_one_line_error(*run(capsys, *argv), FAILURE)
    assert line == (
        "subbill: error: subscription 'S1' starts on 2026-03-01: there is nothing to review "
        "on 2026-02-28"
    )
    line = assert_one_line_error(*run(capsys, "review", "S1", "--db", loaded), USAGE_ERROR)
    assert "the following arguments are required: --usage" in line


FAILURE, USAGE_ERROR = 1, 2

LEDGER = ledger_fields()


@pytest.fixture
def pools(capsys, tmp_path: Path, db: Path) -> Path:
    """The accounts of ACCOUNTS_TOML, and 200 TBox licence-years with Revendeur Ouest."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(ACCOUNTS_TOML, encoding="utf-8")
    assert run(capsys, "accounts", "load", accounts, "--db", db)[0] == 0
    assert (
        run(capsys, "ledger", "load", write_json(tmp_path / "ledger.json", LEDGER), "--db", db)[0]
        == 0
    )
    return db


def test_ledger_load_appends_each_entry_once_and_shows_the_balances(capsys, tmp_path, db):
    path = write_json(tmp_path / "ledger.json", LEDGER)
    status, out, err = run(capsys, "ledger", "load", path, "--db", db)
    assert status == 0, err
    assert out.splitlines() == [
        f"2 ledger entries appended to {db}.",
        "  Partenaire: 300 TBox",
        "  Revendeur Ouest: 200 TBox",
    ]
    status, out, err = run(capsys, "ledger", "load", path, "--db", db)  # loaded again
    assert status == 0, err
    assert out.splitlines() == [f"0 ledger entries appended to {db} (2 already recorded)."]
    store = SQLiteStore(db, read_only=True)
    assert len(store.load_ledger().entries) == 2
    store.close()


def test_a_bad_ledger_file_appends_nothing_and_names_every_entry(capsys, tmp_path, db):
    entries = copy.deepcopy(LEDGER["ledger"])
    entries[1]["licence_years"] = 900  # more than the partner holds
    entries.append({**entries[0], "kind": "renewal", "source": "Partenaire"})
    entries.append({**entries[0], "target": ""})
    entries.append({**entries[1], "source": None, "licence_years": 1})
    entries.append(dict(entries[0]))
    path = write_json(tmp_path / "ledger.json", {"ledger": entries})
    assert error_lines(*run(capsys, "ledger", "load", path, "--db", db)) == [
        (
            f"{path}: ledger[1]: Not enough TBox licences left with Partenaire: 900 needed, 500 "
            "available."
        ),
        (
            f"{path}: ledger[2].kind: 'renewal' must be 'grant', 'transfer', 'assignment' or "
            "'return' (renewals are recorded by 'subbill renew')"
        ),
        f"{path}: ledger[3].target: '' must be a non-empty text",
        f"{path}: ledger[4].source: is missing",
        f"{path}: ledger[5]: the same entry as ledger[0]",
    ]
    store = SQLiteStore(db, read_only=True)
    assert store.load_ledger().entries == ()
    store.close()


def test_renew_prints_the_form_and_saves_both_terms_and_the_ledger(capsys, pools):
    status, out, err = run(
        capsys, "renew", "Boulangerie Martin", "--on", "2026-04-01", "--years", "2", "--db", pools
    )
    assert status == 0, err
    assert out.splitlines() == [
        "Renewal of Boulangerie Martin — TBox, on April 1, 2026",
        "  Licences left to allocate by Revendeur Ouest: 200",
        "  Years of renewal: 2",
        "  User licences assigned to Boulangerie Martin: 12",
        "  Licences used: 24 (12 users × 2 years)",
        "  Licences left after renewal: 176",
        "  New term: June 1, 2026 to May 31, 2028",
        "",
        f"Renewal saved to {pools}.",
    ]
    store = SQLiteStore(pools, read_only=True)
    ledger = store.load_ledger()
    assert ledger.balance("Revendeur Ouest", "TBox") == 176
    assert ledger.balance("Boulangerie Martin/TBox", "TBox") == 24
    terms = [a for a in store.license_accounts() if a.customer == "Boulangerie Martin"]
    store.close()
    assert [(t.start.isoformat(), t.last_day.isoformat(), t.seats) for t in terms] == [
        ("2025-06-01", "2026-05-31", 12),
        ("2026-06-01", "2028-05-31", 12),
    ]
    assert terms[0].renewed_by == terms[1]
    status, out, _ = run(capsys, "renewals", "--as-of", "2026-04-01", "--db", pools)
    assert "Companies to renew: 1" in out  # Cabinet Leroy only


def test_renew_in_french_with_other_seats(capsys, pools):
    argv = ["renew", "Boulangerie Martin", "--on", "2026-05-31", "--seats", "14", "--db", pools]
    status, out, err = run(capsys, *argv, "--locale", "fr_FR")
    assert status == 0, err
    assert out.splitlines()[:7] == [
        "Renouvellement du compte Boulangerie Martin — TBox, le 31 mai 2026",
        "  Licences restantes à attribuer par Revendeur Ouest : 200",
        "  Nombre d'années de renouvellement : 1",
        "  Licences utilisateurs affectées à Boulangerie Martin : 14",
        "  Licences utilisées : 14 (14 utilisateurs × 1 an)",
        "  Licences restantes après réabonnement : 186",
        "  Nouvelle période : du 1 juin 2026 au 31 mai 2027",
    ]


def test_a_second_identical_renew_is_refused_and_changes_nothing(capsys, pools):
    argv = ["renew", "Boulangerie Martin", "--on", "2026-04-01", "--years", "2", "--db", pools]
    assert run(capsys, *argv)[0] == 0
    before = database_content(pools)
    line = assert_one_line_error(*run(capsys, *argv), FAILURE)
    assert line == (
        "subbill: error: the TBox term of 'Boulangerie Martin', June 1, 2025 to May 31, 2026, "
        "is already renewed: June 1, 2026 to May 31, 2028, 12 seats; nothing changed"
    )
    assert database_content(pools) == before
    # Nor does the next day (or any day while the new term is far from its end) renew again.
    argv[3] = "2026-06-02"
    line = assert_one_line_error(*run(capsys, *argv), FAILURE)
    assert line == (
        "subbill: error: the TBox term of 'Boulangerie Martin', June 1, 2026 to May 31, 2028, "
        "is not due for renewal on 2026-06-02 (due from three months before its end): add "
        "--early to renew it now; nothing changed"
    )
    assert database_content(pools) == before
    # Loading the accounts file again keeps the renewal: a third run still refuses.
    status, _, err = run(capsys, "accounts", "load", pools.parent / "accounts.toml", "--db", pools)
    assert status == 0, err
    argv[3] = "2026-04-01"
    assert run(capsys, *argv)[0] == FAILURE


def test_renew_an_account_not_due_needs_early(capsys, pools):
    argv = ["renew", "Garage Petit", "--on", "2026-04-01", "--pool", "Revendeur Ouest"]
    line = assert_one_line_error(*run(capsys, *argv, "--db", pools), FAILURE)
    assert "is not due for renewal on 2026-04-01" in line
    status, out, err = run(capsys, *argv, "--early", "--db", pools)
    assert status == 0, err
    assert "  New term: September 15, 2027 to September 14, 2028" in out.splitlines()


@pytest.mark.parametrize(
    ("argv", "status", "expected"),
    [
        (
            ["renew", "Boulangerie Martin", "--on", "2026-04-01", "--years", "20"],
            FAILURE,
            "Not enough TBox licences left with Revendeur Ouest: 240 needed, 200 available.",
        ),
        (
            ["renew", "Cabinet Leroy", "--on", "2026-04-01"],
            USAGE_ERROR,
            (
                "the TSend account of 'Cabinet Leroy' has no reseller: name the pool to renew from "
                "with --pool"
            ),
        ),
        (
            ["renew", "Cabinet Leroy", "--on", "2026-04-01", "--pool", "Revendeur Ouest"],
            FAILURE,
            "Not enough TSend licences left with Revendeur Ouest: 4 needed, 0 available.",
        ),
        (
            ["renew", "Boulangerie Martine", "--on", "2026-04-01"],
            FAILURE,
            (
                "no licence account for 'Boulangerie Martine' in {db}, did you mean "
                "'Boulangerie Martin'?"
            ),
        ),
        (
            ["renew", "Boulangerie Martin", "--product", "TSend", "--on", "2026-04-01"],
            FAILURE,
            "'Boulangerie Martin' has no TSend account in {db}; it has TBox",
        ),
        (
            ["renew", "Boulangerie Martin", "--years", "0"],
            USAGE_ERROR,
            (
                "argument --years: '0' must be a whole number from 1 to 99 (see 'subbill renew "
                "--help')"
            ),
        ),
        (
            ["renew", "Boulangerie Martin", "--seats", "1.5"],
            USAGE_ERROR,
            (
                "argument --seats: '1.5' must be a whole number from 1 to 1000000 "
                "(see 'subbill renew --help')"
            ),
        ),
    ],
    ids=[
        "beyond-the-pool",
        "no-reseller",
        "empty-pool",
        "unknown",
        "other-product",
        "years-0",
        "seats-fraction",
    ],
)
def test_a_renewal_that_cannot_go_through_changes_nothing(capsys, pools, argv, status, expected):
    before = database_content(pools)
    line = assert_one_line_error(*run(capsys, *argv, "--db", pools), status)
    assert line == "subbill: error: " + expected.format(db=pools)
    assert database_content(pools) == before


# -- docs/formats.md: every example loads, every table matches the reader ---------------------

FORMATS_DOC = Path(__file__).parent.parent / "docs" / "formats.md"
_EXAMPLE = re.compile(r"<!-- (subbill [^>]*?) -->\n```(json|toml|csv)\n(.*?)```", re.DOTALL)


def _doc_examples() -> list[tuple[str, str, str]]:
    """Each example of docs/formats.md: the command that reads it, its language, its text."""
    return _EXAMPLE.findall(FORMATS_DOC.read_text(encoding="utf-8"))


def _doc_sections() -> dict[str, str]:
    """The text of each ``## Section`` of docs/formats.md, by its anchor."""
    text = FORMATS_DOC.read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {
        title.strip().lower().replace(" ", "-"): body
        for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def test_every_example_of_the_formats_doc_loads_through_the_command_line(capsys, tmp_path):
    examples = _doc_examples()
    commands = {command.split(" FILE")[0] for command, _, _ in examples}
    assert commands == {
        "subbill catalog load",
        "subbill subscriptions load",
        "subbill usage load",
        "subbill accounts load",
        "subbill ledger load",
        "subbill quote",
        "subbill review S1 --usage",
    }
    db = tmp_path / "formats.db"
    loaded = []
    for index, (command, language, text) in enumerate(examples):
        path = tmp_path / f"example{index}.{language}"
        path.write_text(text, encoding="utf-8")
        argv = [str(path) if word == "FILE" else word for word in command.split()[1:]]
        if argv[0] != "quote":
            argv += ["--db", str(db)]
        status, out, err = run(capsys, *argv)
        assert status == 0, f"{command}: {err}"
        assert err == ""
        if argv[:2] == ["usage", "load"]:
            loaded.append(out)
    # The usage records' CSV file holds the JSON file's records again, and one more.
    assert loaded == [
        f"3 new usage records in {db} (0 already stored).\n",
        f"1 new usage record in {db} (3 already stored).\n",
    ]
    # The last example is the usage file: its review ran on what the others loaded.
    assert "Monthly review of S1 (Boulangerie Martin)" in out
    assert "  [check] clients: 85 of 100 (85 %), near the limit." in out
    assert "  [ok] Your payment method Visa •••• 4242 (09/2027) is valid." in out


def _fields(kind: type, prefix: str = "") -> list[str]:
    """Every path of a document class (``a[].b`` for the items of a list)."""
    special = {
        _structure.TaxRates: _structure._TaxDocument,
        BillingStart: _structure._StartDocument,
    }
    paths = []
    hints = typing.get_type_hints(kind)
    for field in attrs.fields(kind):
        path = f"{prefix}{field.name}"
        paths.append(path)
        hint = hints[field.name]
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        if hint in special:
            paths += _fields(special[hint], f"{path}.")
        elif typing.get_origin(hint) is tuple and _is_document(typing.get_args(hint)[0]):
            paths += _fields(typing.get_args(hint)[0], f"{path}[].")
        elif _is_document(hint):
            paths += _fields(hint, f"{path}.")
    return paths


def _is_document(kind: object) -> bool:
    return attrs.has(kind) and kind.__name__.startswith("_")


def _documents() -> dict[str, list[str]]:
    return {
        "catalog": _fields(catalog._CatalogDocument),
        "subscriptions": [
            "subscriptions",
            *_fields(subscriptions._SubscriptionDocument, "subscriptions[]."),
        ],
        "accounts": ["accounts", *_fields(licenses._AccountDocument, "accounts[].")],
        "ledger": ["ledger", *_fields(cli._LedgerEntryDocument, "ledger[].")],
        "payment-link": _fields(quotes._PaymentLinkDocument),
        "usage": _fields(cli._UsageDocument),
        "usage-records": ["usage", *_fields(cli._UsageRecordDocument, "usage[].")],
        "seller": _fields(cli._SellerDocument),
        "customer": _fields(Customer),
        "dunning-policy": _fields(dunning._PolicyDocument),
    }


@pytest.mark.parametrize(
    "section",
    [
        "catalog",
        "subscriptions",
        "accounts",
        "ledger",
        "payment-link",
        "usage",
        "usage-records",
        "seller",
        "customer",
        "dunning-policy",
    ],
)
def test_every_field_a_reader_accepts_is_in_the_formats_doc_and_no_other(section):
    body = _doc_sections()[section]
    documented = re.findall(r"^\| `([^`]+)` \|", body, flags=re.MULTILINE)
    accepted = _documents()[section]
    assert sorted(set(accepted) - set(documented)) == [], "fields missing from the doc"
    # A documented field is one the reader accepts, or one inside a field it passes on
    # whole (the payment methods of a usage file are read by payment_method_from_mapping).
    unknown = [
        path
        for path in documented
        if path not in accepted and not any(path.startswith(f"{a}[].") for a in accepted)
    ]
    assert unknown == []


def _file_arguments(parser, prefix=()):
    """(command, help) of every argument that names a file to read, in every command."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _file_arguments(sub, (*prefix, name))
        elif action.metavar in ("FILE", "USAGE"):
            found.append((" ".join(prefix), action.help))
    return found


def test_every_help_that_takes_a_file_says_where_its_format_is_documented():
    arguments = _file_arguments(cli._parser())
    assert sorted(command for command, _ in arguments) == [
        "accounts load",
        "catalog load",
        "customers load",
        "dunning",  # --policy
        "invoice show",  # --seller
        "invoice show",  # --buyer
        "ledger load",
        "portal",  # --policy
        "quote",
        "review",
        "subscriptions load",
        "usage load",
    ]
    sections = _doc_sections()
    for command, text in arguments:
        anchor = re.search(r"\(format: see docs/formats\.md#([a-z-]+)\)", text)
        assert anchor is not None, f"{command}: {text}"
        assert anchor.group(1) in sections, command
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/formats.md" in readme

"""``subbill dunning``: the actions due, recorded once, their text; the portal shows them.

End to end through ``python -m subbill`` on a SQLite file and on PostgreSQL (the session's
test server), with the same output; the portal reads the store's events (a suspended
subscription, the next step of an overdue invoice); a file of the schema before dunning,
opened read-only by the portal, reads as having none.
"""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from subbill import Money
from subbill.dunning import DunningPolicy
from subbill.dunning_service import run_dunning
from subbill.invoices import Payment
from subbill.service import pay_invoice
from subbill.storage import PostgresStore, SQLiteStore
from tests.stores import as_older_schema, database_content
from tests.test_cli import CATALOG, SUBSCRIPTIONS, run, write_json

ROOT = Path(__file__).parent.parent
GARAGE = {"subscriptions": [SUBSCRIPTIONS["subscriptions"][1]]}  # S2, annual Pro, TVA 20 %


def subbill(*argv):
    """``python -m subbill ARGV…`` in a process of its own: status, stdout, stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "subbill", *map(str, argv)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def billed(capsys, tmp_path, db, subscriptions=GARAGE):
    """Garage Petit's annual Pro billed on 1 April 2026: F-2026-000001, 816.00 due 1 May."""
    assert run(capsys, "catalog", "load", CATALOG, "--db", db)[0] == 0
    path = write_json(tmp_path / "subscriptions.json", subscriptions)
    assert run(capsys, "subscriptions", "load", path, "--db", db)[0] == 0
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", db)
    assert status == 0, err
    assert "(F-2026-000001)" in out
    return db


COURTESY_FR = """\
Relances au 28 avril 2026 : 1 action de relance enregistrée.

F-2026-000001 (Garage Petit) — relance
Rappel : votre facture F-2026-000001 d'un montant de 816,00\u00a0€ arrive à échéance le 1 mai
2026. Si vous l'avez déjà réglée, merci de ne pas tenir compte de ce message.
"""

NOTICE_EN = """\
Dunning run as of May 20, 2026: 1 dunning action recorded.

F-2026-000001 (Garage Petit) — formal notice
(steps skipped: reminder of May 2, 2026, reminder of May 8, 2026)
Formal notice to pay

Despite our reminders, your invoice F-2026-000001, due on May 1, 2026, has been unpaid for
19 days. We hereby give you formal notice to pay us the sum of €816.00 on receipt.

Access to the service is suspended from May 20, 2026 until everything due is paid.
"""


def dunning_session(db):
    """The courtesy reminder, the same run again, then the formal notice 19 days late."""
    first = subbill("dunning", "--as-of", "2026-04-28", "--db", db, "--locale", "fr_FR")
    again = subbill("dunning", "--as-of", "2026-04-28", "--db", db)
    notice = subbill("dunning", "--as-of", "2026-05-20", "--db", db)
    return first, again, notice


def test_subbill_dunning_records_each_action_once_and_prints_its_text(capsys, tmp_path):
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    first, again, notice = dunning_session(db)
    assert first == (0, COURTESY_FR, "")
    assert again == (0, "Dunning run as of April 28, 2026: 0 dunning actions recorded.\n", "")
    assert notice == (0, NOTICE_EN, "")
    store = SQLiteStore(db, read_only=True)
    assert [(e.key, e.outcome.value) for e in store.dunning_events()] == [
        ("F-2026-000001/courtesy", "taken"),
        ("F-2026-000001/reminder_1", "skipped"),
        ("F-2026-000001/reminder_7", "skipped"),
        ("F-2026-000001/formal_notice", "taken"),
    ]
    assert store.charge_attempts() == []  # no processor on the command line: no retry
    store.close()


def test_subbill_dunning_on_postgresql_prints_and_records_what_it_does_on_sqlite(
    capsys, tmp_path, postgres_url
):
    sqlite_db = billed(capsys, tmp_path, tmp_path / "billing.db")
    billed(capsys, tmp_path, postgres_url)
    on_postgres = dunning_session(postgres_url)
    assert on_postgres == dunning_session(sqlite_db)
    assert on_postgres[0] == (0, COURTESY_FR, "")
    server, file = PostgresStore(postgres_url), SQLiteStore(sqlite_db)
    assert server.dunning_events() == file.dunning_events()
    server.close()
    file.close()


def test_the_portal_shows_the_next_step_and_the_suspension_from_the_store(capsys, tmp_path):
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    assert subbill("dunning", "--as-of", "2026-04-28", "--db", db)[0] == 0
    status, out, err = run(capsys, "portal", "Garage Petit", "--as-of", "2026-05-03", "--db", db)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    overdue = lines[lines.index("Overdue") + 3].split("  ")
    assert [cell.strip() for cell in overdue if cell.strip()] == [
        "F-2026-000001", "May 1, 2026", "€816.00", "2 days", "reminder on May 3, 2026",
    ]  # fmt: skip
    assert lines[lines.index("Subscriptions") + 3].split()[:2] == ["S2", "Unpaid"]
    assert subbill("dunning", "--as-of", "2026-05-20", "--db", db)[0] == 0
    status, out, _ = run(
        capsys, "portal", "Garage Petit", "--as-of", "2026-05-20", "--db", db, "--locale", "fr_FR"
    )
    lines = out.splitlines()
    assert lines[lines.index("Abonnements") + 3].split()[:2] == ["S2", "Suspendu"]
    # Every step taken: nothing next.
    assert lines[lines.index("Impayés") + 3].split()[-1] == "—"


def test_a_file_of_the_schema_before_dunning_shows_in_the_portal_without_events(capsys, tmp_path):
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    as_older_schema(db, 5)
    before = database_content(db)
    status, out, err = run(capsys, "portal", "Garage Petit", "--as-of", "2026-05-20", "--db", db)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[lines.index("Subscriptions") + 3].split()[:2] == ["S2", "Unpaid"]
    # No step taken yet, as far as it knows: the step a run would take today is the most
    # advanced one due (19 days late: the formal notice), not the first untaken reminder.
    assert out.splitlines()[-1].endswith(
        "19 days    formal notice, service suspension on May 20, 2026"
    )
    assert database_content(db) == before  # read only: never migrated
    # A command that writes upgrades it, then records the actions.
    status, out, err = subbill("dunning", "--as-of", "2026-05-20", "--db", db)
    assert status == 0, err
    assert out.startswith("Dunning run as of May 20, 2026: 1 dunning action recorded.")


@pytest.mark.parametrize("locale", ["en_US", "fr_FR"])
def test_subbill_dunning_without_a_database_is_one_line(capsys, tmp_path, locale):
    status, _, err = run(
        capsys, "dunning", "--db", tmp_path / "none.db", "--as-of", "2026-05-20", "--locale",
        locale,
    )  # fmt: skip
    assert status == 1
    assert len(err.splitlines()) == 1
    assert "no database at" in err


# -- issue 17's review: the outbox, the late-payment rate from the subscriptions file -----------


def test_actions_recorded_by_a_run_stopped_before_printing_are_printed_by_the_next(
    capsys, tmp_path
):
    # Found by issue 17's review: the command printed only at the end, so a run stopped
    # after recording never printed those reminders, and the next run printed nothing.
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    store = SQLiteStore(db)
    recorded = run_dunning(store, as_of=date(2026, 4, 28), policy=DunningPolicy.standard())
    store.close()  # recorded, never printed: the process died there
    assert [a.key for a in recorded.actions] == ["F-2026-000001/courtesy"]
    status, out, err = subbill("dunning", "--as-of", "2026-04-28", "--db", db, "--locale", "fr_FR")
    assert (status, out, err) == (0, COURTESY_FR, "")
    again = subbill("dunning", "--as-of", "2026-04-28", "--db", db)
    assert again == (0, "Dunning run as of April 28, 2026: 0 dunning actions recorded.\n", "")
    store = SQLiteStore(db, read_only=True)
    assert store.unsent_dunning_actions() == []
    store.close()


def paid_late(capsys, tmp_path, subscription):
    """S2 with ``subscription``'s fields, billed 1 April 2026, paid 20 days late on 21 May."""
    db = tmp_path / "billing.db"
    assert run(capsys, "catalog", "load", CATALOG, "--db", db)[0] == 0
    path = write_json(tmp_path / "subscriptions.json", {"subscriptions": [subscription]})
    status, _, err = run(capsys, "subscriptions", "load", path, "--db", db)
    assert status == 0, err
    assert run(capsys, "bill-run", "--as-of", "2026-04-01", "--db", db)[0] == 0
    store = SQLiteStore(db)
    payment = Payment(amount=Money("816.00", "EUR"), paid_on=date(2026, 5, 21))
    pay_invoice(store, "F-2026-000001", payment)
    store.close()
    return db


def test_the_late_payment_rate_of_the_subscriptions_file_issues_the_costs_document(
    capsys, tmp_path
):
    # Found by issue 17's review: the subscriptions file had no field for the rate, so
    # `--late-payment-costs` issued nothing for subscriptions loaded from files.
    garage = {**GARAGE["subscriptions"][0], "terms": {"late_payment_percent": "10"}}
    db = paid_late(capsys, tmp_path, garage)
    status, out, err = subbill("dunning", "--as-of", "2026-05-21", "--late-payment-costs",
                               "--db", db)  # fmt: skip
    assert (status, err) == (0, "")
    assert out.splitlines()[-1] == (
        "Late-payment costs invoiced: F-2026-000002 (Garage Petit, late payment of "
        "F-2026-000001), €44.47"
    )
    # 816.00 × 10 % × 20 / 365 = 4.47 in penalties, plus the 40.00 indemnity


def test_an_invoice_paid_late_without_a_rate_gets_the_indemnity_alone_and_a_line_saying_so(
    capsys, tmp_path
):
    # Issue 17's run review (F3): no document was issued (while the formal notice announced
    # the 40 € indemnity); the indemnity alone is now claimed, and the line says so.
    db = paid_late(capsys, tmp_path, GARAGE["subscriptions"][0])
    status, out, err = subbill("dunning", "--as-of", "2026-05-21", "--late-payment-costs",
                               "--db", db, "--locale", "fr_FR")  # fmt: skip
    assert (status, err) == (0, "")
    assert out.splitlines()[-3] == (
        "Frais de retard facturés : F-2026-000002 (Garage Petit, retard de paiement de "
        "F-2026-000001), 40,00\u00a0€"
    )
    assert out.splitlines()[-1] == (
        "F-2026-000001 : payée en retard, seule l'indemnité forfaitaire facturée : les "
        "conditions de son abonnement ne fixent aucun taux de pénalités (late_payment_percent)"
    )


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        ({"late_payment_percent": "0"}, "terms.late_payment_percent: late_payment_percent=Decimal"),
        ({"late_payment_percent": 10.5}, "terms.late_payment_percent: percent=10.5 is a float"),
        ({"rate": "10"}, "terms.rate: unknown key; expected late_payment_percent"),
    ],
)  # fmt: skip
def test_the_terms_of_the_subscriptions_file_are_checked_strictly(capsys, tmp_path, terms, problem):
    db = tmp_path / "billing.db"
    assert run(capsys, "catalog", "load", CATALOG, "--db", db)[0] == 0
    garage = {**GARAGE["subscriptions"][0], "terms": terms}
    path = write_json(tmp_path / "subscriptions.json", {"subscriptions": [garage]})
    status, _, err = run(capsys, "subscriptions", "load", path, "--db", db)
    assert status == 2
    assert problem in err


def test_the_portal_shows_the_next_step_of_the_policy_file_the_runs_use(capsys, tmp_path):
    # A new user's walk: with their own policy, the portal showed the standard policy's next
    # step ("—" the day before the run cancelled the subscription). --policy: the file's.
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    policy = write_json(
        tmp_path / "policy.json",
        {
            "retry_days": [],
            "steps": [
                {"code": "call_me", "days": 2, "actions": ["remind"]},
                {"code": "cut", "days": 10, "actions": ["formal_notice", "suspend"]},
            ],
        },
    )
    assert run(capsys, "dunning", "--as-of", "2026-05-03", "--db", db, "--policy", policy)[0] == 0
    argv = ("portal", "Garage Petit", "--as-of", "2026-05-04", "--db", db)
    status, out, err = run(capsys, *argv, "--policy", policy)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    overdue = lines[lines.index("Overdue") + 3].split("  ")
    assert [cell.strip() for cell in overdue if cell.strip()] == [
        "F-2026-000001", "May 1, 2026", "€816.00", "3 days",
        "formal notice, service suspension on May 11, 2026",
    ]  # fmt: skip
    standard = run(capsys, *argv)[1].splitlines()  # the standard policy's next step
    assert "on May 11, 2026" not in standard[standard.index("Overdue") + 3]

"""The review of a new user's walk fixes (issue 17): what the PDF, the portal and the docs said.

Each through the path the reviewer took: ``subbill invoice show --pdf`` on a SQLite file
(the PDF's text read with pypdf), ``subbill portal`` with the dunning runs' policy file,
the docs' sentences. The reviewer's scenarios, on Garage Petit's annual Pro billed on
1 April 2026 (F-2026-000001, 816.00 due 1 May 2026).
"""

from datetime import date, timedelta
from pathlib import Path

import pytest

from subbill import Money
from subbill.billing import BillingState
from subbill.dunning import (
    DunningActionKind,
    DunningPolicy,
    DunningStep,
    dunning_actions,
    events_of,
    next_step,
)
from subbill.errors import InvalidTypeError
from subbill.invoices import Payment, credit_note_for
from subbill.payments import refundable
from subbill.service import pay_invoice, replace_subscription
from subbill.storage import SQLiteStore
from tests.test_cli import run, write_json
from tests.test_cli_dunning import billed
from tests.test_new_user_walk import GARAGE_AT_10, INDEMNITY_FR, PENALTY_FR

pytest.importorskip("fpdf")
pytest.importorskip("pypdf")

ROOT = Path(__file__).parent.parent


def pdf_text(path: Path) -> str:
    """The PDF's text on one line, as the other PDF tests read it (no-break spaces as spaces)."""
    from tests.test_cli_facturx import pdf_text as read  # noqa: PLC0415  (pypdf when asked)

    return read(path)


def credited(capsys, tmp_path, subscriptions=None, *, paid=None):
    """The walk's credit note: S2 cancelled, brought forward to 31 May, billed on 1 June.

    F-2026-000002 credits 643.85 of F-2026-000001 (816.00), after ``paid`` was paid on it.
    """
    extra = () if subscriptions is None else (subscriptions,)
    db = billed(capsys, tmp_path, tmp_path / "billing.db", *extra)
    store = SQLiteStore(db)
    if paid is not None:
        payment = Payment(amount=Money(paid, "EUR"), paid_on=date(2026, 5, 2), reference="V1")
        pay_invoice(store, "F-2026-000001", payment)
    sub = store.get_subscription("S2").cancel(on=date(2026, 4, 20))
    assert replace_subscription(store, sub.bring_cancellation_forward(on=date(2026, 5, 31)))
    store.close()
    status, out, err = run(capsys, "bill-run", "--as-of", "2026-06-01", "--db", db)
    assert status == 0, err
    assert "1 credit note created (F-2026-000002)" in out
    return db


def shown(capsys, db, number, *, pdf=None, locale="fr_FR"):
    """``subbill invoice show NUMBER``: its text lines, or its PDF's text with ``pdf``."""
    argv = ["invoice", "show", number, "--db", db, "--locale", locale]
    if pdf is not None:
        argv += ["--pdf", pdf]
    status, out, err = run(capsys, *argv)
    assert (status, err) == (0, "")
    return pdf_text(pdf) if pdf is not None else out.splitlines()


# -- R1: the PDF shows a credit note as issued and a credited invoice its credit notes ----------


def test_the_pdf_of_a_credit_note_has_no_due_date_nor_amount_due_and_names_its_invoice(
    capsys, tmp_path
):
    db = credited(capsys, tmp_path)
    text = shown(capsys, db, "F-2026-000002", pdf=tmp_path / "note.pdf")
    assert "Avoir F-2026-000002" in text
    assert "Date : 1 juin 2026 Abonnement : S2 Avoir sur la facture : F-2026-000001" in text
    assert "Échéance" not in text
    assert "Reste à payer" not in text
    assert "Total TTC -643,85 €" in text


def test_the_pdf_of_a_credited_invoice_lists_its_credit_notes_and_adds_up(capsys, tmp_path):
    db = credited(capsys, tmp_path)
    text = shown(capsys, db, "F-2026-000001", pdf=tmp_path / "invoice.pdf")
    assert (
        "Total TTC 816,00 € Avoir F-2026-000002 du 1 juin 2026 -643,85 € Reste à payer 172,15 €"
        in text
    )
    english = shown(capsys, db, "F-2026-000001", pdf=tmp_path / "en.pdf", locale="en_US")
    assert "Credit note F-2026-000002 of June 1, 2026 -€643.85 Amount due €172.15" in english


# -- R4: what a credit note gives back beyond the amount due is on a row -----------------------


def test_a_credited_invoice_shows_what_its_note_owes_beyond_the_amount_due_so_its_rows_add_up(
    capsys, tmp_path
):
    # 816.00 − 700.00 paid − 643.85 credited = −527.85: the credit note cancelled the 116.00
    # still due and owes the 527.85 left on itself (refunded against it, review 81's F3: under
    # the CREDIT_NOTE policy nothing goes to the credit balance), shown on a row of its own.
    db = credited(capsys, tmp_path, paid="700.00")
    store = SQLiteStore(db)
    assert store.get_billing_state("S2").credit_balance is None
    note = store.get_invoice("F-2026-000002")
    assert refundable(BillingState(), currency="EUR", credit_note=note) == Money("527.85", "EUR")
    store.close()
    totals = shown(capsys, db, "F-2026-000001")[-5:]
    assert [line.split("  ")[0] for line in totals] == [
        "Total TTC",
        "Déjà payé",
        "Avoir F-2026-000002 du 1 juin 2026",
        "Remboursement par avoir",
        "Reste à payer",
    ]
    amounts = [line.split()[-2] for line in totals]
    assert amounts == ["816,00", "-700,00", "-643,85", "527,85", "0,00"]
    text = shown(capsys, db, "F-2026-000001", pdf=tmp_path / "invoice.pdf", locale="en_US")
    assert (
        "Total incl. tax €816.00 Paid -€700.00 Credit note F-2026-000002 of June 1, 2026 "
        "-€643.85 Refund by credit note €527.85 Amount due €0.00" in text
    )


# -- R2: the PDF of a business invoice states the 40 € indemnity beside the penalty rate ------


def test_the_pdf_of_a_business_invoice_states_the_penalty_rate_and_the_40_eur_indemnity(
    capsys, tmp_path
):
    db = billed(capsys, tmp_path, tmp_path / "billing.db", GARAGE_AT_10)
    text = shown(capsys, db, "F-2026-000001", pdf=tmp_path / "invoice.pdf")
    assert PENALTY_FR in text
    assert INDEMNITY_FR in text
    # a consumer is given neither, on the PDF as on the text
    assert run(capsys, "customers", "set-kind", "Garage Petit", "consumer", "--db", db)[0] == 0
    text = shown(capsys, db, "F-2026-000001", pdf=tmp_path / "consumer.pdf")
    assert "Pénalités" not in text
    assert "Indemnité" not in text


# -- R5: a credit note states no late-payment mention ----------------------------------------


def test_a_credit_note_states_no_late_payment_penalties_nor_indemnity(capsys, tmp_path):
    db = credited(capsys, tmp_path, GARAGE_AT_10)
    note = shown(capsys, db, "F-2026-000002")
    # the totals end with how the note settles (issue 17 follow-up, review 83 F6), nothing after
    assert [line.split() for line in note[-2:]] == [
        ["Total", "TTC", "-643,85", "€"],
        ["Imputé", "sur", "la", "facture", "F-2026-000001", "643,85", "€"],
    ]
    text = shown(capsys, db, "F-2026-000002", pdf=tmp_path / "note.pdf")
    assert "Pénalités" not in text
    assert "Indemnité" not in text
    # the invoice it corrects states both still
    assert shown(capsys, db, "F-2026-000001")[-2:] == [PENALTY_FR, INDEMNITY_FR]


def test_a_credit_note_pdf_with_the_seller_states_no_late_payment_mention():
    from subbill.billing import BillingTerms  # noqa: PLC0415
    from subbill.l10n.mentions import printed_mentions  # noqa: PLC0415
    from subbill.parties import Party  # noqa: PLC0415
    from tests.test_new_user_walk import invoice_s1  # noqa: PLC0415

    invoice = invoice_s1()
    note = credit_note_for(invoice, issued_on=invoice.issued_on).finalize(number="F-2027-000002")
    seller = Party(legal_name="Logiciel SAS", siren="732829320")
    terms = BillingTerms(late_payment_percent="10")
    on_invoice = printed_mentions(invoice, seller, terms=terms, locale="fr_FR")
    on_note = printed_mentions(note, seller, terms=terms, locale="fr_FR")
    assert [m for m in on_invoice if m not in on_note] == [PENALTY_FR, INDEMNITY_FR]
    assert [m for m in on_invoice if m in on_note] == list(on_note)


# -- R7: the portal announces no step dunning will not take for an ended subscription ----------

#: The reviewer's policy: a reminder, a formal notice that suspends, a cancellation alone.
POLICY = {
    "retry_days": [],
    "steps": [
        {"code": "reminder_1", "days": 1, "actions": ["remind"]},
        {"code": "formal_notice", "days": 15, "actions": ["formal_notice", "suspend"]},
        {"code": "termination", "days": 30, "actions": ["cancel"]},
    ],
}


def test_the_portal_announces_no_cancellation_of_a_subscription_that_has_ended(capsys, tmp_path):
    # S2 cancelled at once on 5 May (F-2026-000001, due 1 May, unpaid); the run of 16 May
    # sends the formal notice without suspending. The cancellation alone (31 May) is never
    # taken: the portal announced it on 20 May, then every day after as due « today ».
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    store = SQLiteStore(db)
    sub = store.get_subscription("S2").cancel(on=date(2026, 5, 5), at_period_end=False)
    assert replace_subscription(store, sub)
    store.close()
    policy = write_json(tmp_path / "policy.json", POLICY)
    assert run(capsys, "dunning", "--as-of", "2026-05-16", "--db", db, "--policy", policy)[0] == 0
    for day in ("2026-05-20", "2026-06-02"):
        argv = ("portal", "Garage Petit", "--as-of", day, "--db", db, "--policy", policy)
        status, out, err = run(capsys, *argv, "--locale", "fr_FR")
        assert (status, err) == (0, "")
        lines = out.splitlines()
        row = lines[lines.index("Impayés") + 3]
        assert "F-2026-000001" in row
        assert "résiliation" not in row
        assert row.rstrip().endswith("—")
    # the dunning run agrees: nothing to do on 31 May
    status, out, err = run(
        capsys, "dunning", "--as-of", "2026-05-31", "--db", db, "--policy", policy
    )
    assert (status, err) == (0, "")
    assert "résiliation" not in out.lower()
    assert "cancel" not in out.lower()


def test_next_step_skips_a_step_left_with_nothing_to_do_for_an_ended_subscription():
    from tests.test_new_user_walk import invoice_s1  # noqa: PLC0415

    invoice = invoice_s1()
    owner = invoice.subscription
    policy = DunningPolicy(
        retry_days=(),
        steps=tuple(
            DunningStep(
                code=step["code"],
                days=step["days"],
                actions=tuple(DunningActionKind(kind) for kind in step["actions"]),
            )
            for step in POLICY["steps"]
        ),
    )
    after = invoice.due_on + timedelta(days=20)  # the formal notice's day has come
    notice = next_step(invoice, policy=policy, history=(), as_of=after, ended=[owner])
    assert (notice.step.code, notice.on) == ("formal_notice", after)  # its notice still goes
    taken = dunning_actions([invoice], policy=policy, history=(), as_of=after, ended=[owner])
    history = events_of(taken)
    # the subscription still runs: its cancellation is announced for its day
    ahead = next_step(invoice, policy=policy, history=history, as_of=after)
    assert (ahead.step.code, ahead.on) == ("termination", invoice.due_on + timedelta(days=30))
    # ended: dunning will never take it (a cancellation alone), so it is not announced
    for day in (after, invoice.due_on + timedelta(days=45)):
        assert next_step(invoice, policy=policy, history=history, as_of=day, ended=[owner]) is None
        assert (
            dunning_actions([invoice], policy=policy, history=history, as_of=day, ended=[owner])
            == ()
        )
    with pytest.raises(InvalidTypeError, match="ended"):
        next_step(invoice, policy=policy, history=(), as_of=after, ended=owner)


# -- R6: the docs name the one way to store a cancellation -----------------------------------


def test_the_subscriptions_docs_name_no_file_that_holds_a_cancellation():
    docs = (ROOT / "docs" / "subscriptions.md").read_text(encoding="utf-8")
    assert "load a subscriptions file that holds it" not in docs
    assert "replace_subscription" in docs

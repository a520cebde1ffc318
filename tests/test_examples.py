"""Every script in examples/ runs, and says what it should."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip(), f"{script.name} printed nothing"


def test_tour_prints_the_french_walkthrough(capsys, monkeypatch):
    script = next(p for p in EXAMPLES if p.name == "tour.py")
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "1\u202f234,56\xa0€" in out
    assert "28 février 2026" in out
    assert "31 mars 2026" in out
    assert "12/31" in out
    assert "33,34\xa0€" in out
    # Section 4: the life of one subscription (issue 11).
    life = out.split("4. La vie d'un abonnement")[1].replace("\xa0", " ").replace("\u202f", " ")
    assert "Payé le 31 août 2026 : 1 620,00 € TTC, facture F-2026-000001 « Payée »" in life
    assert "Statut le 1 février 2027 : Planifié" in life
    assert "Statut le 28 février 2027 : Actif" in life
    for day, number, card in (
        ("28 février 2027", "F-2027-000001", "pm_visa_4242"),
        ("31 mars 2027", "F-2027-000002", "pm_mc_5454"),
    ):
        assert f"{day} : facture {number}, 360,00 € TTC, « Payée » (carte {card})" in life


def test_the_readme_example_runs_and_prints_what_its_comments_say(capsys):
    import re  # noqa: PLC0415

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102
    out = capsys.readouterr().out.replace("\xa0", " ").replace("\u202f", " ")
    assert "3/7 21.43 EUR" in out
    assert "1 50.00 EUR" in out
    assert "12/28 × 50,00 € = 21,43 €" in out
    assert "100,00 €" in out


def test_du_devis_a_la_facture_tells_the_life_of_one_subscription(capsys, monkeypatch):
    # Issue 11's acceptance example: 1,620.00 TTC paid on 31 Aug 2026, scheduled on 1 Feb
    # 2027 and active on 28 Feb, one invoice of 360.00 TTC per billing date through April,
    # the card changed in March, the portal on three dates, a review that finds nothing.
    script = next(p for p in EXAMPLES if p.name == "du_devis_a_la_facture.py")
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out.replace("\xa0", " ").replace("\u202f", " ")
    assert "Payé aujourd'hui : 1 620,00 € TTC (facture F-2026-000001, Payée)" in out
    assert "Deuxième clic : rien de nouveau" in out
    assert "Statut le 1 février 2027 : Planifié" in out
    assert "Statut le 28 février 2027 : Actif" in out
    for day, number in (
        ("28 février 2027", "F-2027-000001"),
        ("31 mars 2027", "F-2027-000002"),
        ("30 avril 2027", "F-2027-000003"),
    ):
        assert f"{day} : facture {number}, 360,00 € TTC, échéance le {day}" in out
    portals = out.split("Portail client de Garage Martin au ")[1:]
    assert [p.splitlines()[0] for p in portals] == ["1 février 2027", "31 mars 2027", "2 mai 2027"]
    # its one quoted line (no plan: no apps column)
    assert "Planifié  —     1                mensuel      28/02/2027" in portals[0]
    assert "Mastercard •••• 5454 (06/2030)" in portals[1].split("Abonnements")[1]
    assert "F-2027-000003  30/04/2027  30/04/2027  En retard" in portals[2]
    assert "Impayé" in portals[2]
    review = out.split("═══ La revue mensuelle")[1].split("═══ « J'ai des doutes")[0]
    assert review.count("correspond à votre configuration") == 2
    assert "ne correspond pas" not in review
    assert "est valide" in review


def test_the_storage_page_example_of_a_batched_bill_run_runs():
    # docs/quotes-licences-storage.md: three subscriptions billed two per transaction, the
    # report's counts and numbers, invoices_of_run, and a second run that bills nothing
    # (the block asserts each of these itself).
    import re  # noqa: PLC0415

    page = (Path(__file__).parent.parent / "docs" / "quotes-licences-storage.md").read_text(
        encoding="utf-8"
    )
    (code,) = re.findall(r"```python\n(.*?)```", page, re.DOTALL)
    namespace: dict[str, object] = {}
    exec(compile(code, "quotes-licences-storage.md", "exec"), namespace)  # noqa: S102
    assert namespace["report"].invoice_count == 3


def test_facturation_api_a_l_usage_bills_three_months_of_usage_after_a_trial(capsys, monkeypatch):
    # Issue 15's example: Startup at 49.00 € HT, graduated API calls (10 000 free, 0.002 € to
    # 100 000, then 0.001 €) and seats at 8.00 € a month by days, TVA 20 %, a 14-day trial
    # from 1 March 2026. Nothing on 14 March; 49 × 17/31 = 26.87 on 15 March; then each
    # month's plan in advance and the previous month's usage in arrears.
    out = _printed_by("facturation_api_a_l_usage.py", capsys, monkeypatch)
    assert "Rien à facturer le 14 mars 2026 : l'essai court." in out
    # March's usage counts from the trial's end: 42 000 calls (not the 3 000 of the trial),
    # 3 seats for 17 of 31 days.
    assert "10 000 × 0,000 € + 32 000 × 0,002 € = 64,00 €" in out
    assert "51/31 × 8,00 € = 13,16 €" in out
    assert "10 000 × 0,000 € + 90 000 × 0,002 € + 30 000 × 0,001 € = 210,00 €" in out
    assert "4,4 × 8,00 € = 35,20 €" in out  # 3 seats × 9 days + 5 × 21, over 30
    assert "143/31 × 8,00 € = 36,90 €" in out  # 5 seats × 19 days + 4 × 12, over 31
    summary = out.split("Récapitulatif : abonnement et usage")[1]
    assert [line.strip() for line in summary.strip("═\n").splitlines()] == [
        (
            "• F-2026-000001 (15 mars 2026) : abonnement 26,87 € + usage 0,00 € = 26,87 € HT, "
            "soit 32,24 € TTC"
        ),
        (
            "• F-2026-000002 (1 avril 2026) : abonnement 49,00 € + usage 77,16 € = 126,16 € HT, "
            "soit 151,39 € TTC"
        ),
        (
            "• F-2026-000003 (1 mai 2026) : abonnement 49,00 € + usage 245,20 € = 294,20 € HT, "
            "soit 353,04 € TTC"
        ),
        (
            "• F-2026-000004 (1 juin 2026) : abonnement 49,00 € + usage 206,90 € = 255,90 € HT, "
            "soit 307,08 € TTC"
        ),
        "Facturé du 15 mars au 1er juin : 703,13 € HT, 843,75 € TTC.",
    ]


def _printed_by(name, capsys, monkeypatch):
    """What the example ``name`` prints, its narrow and no-break spaces as plain spaces."""
    monkeypatch.setattr(sys, "argv", [name])
    runpy.run_path(str(next(p for p in EXAMPLES if p.name == name)), run_name="__main__")
    return capsys.readouterr().out.replace("\xa0", " ").replace("\u202f", " ")


def test_relances_reminds_skips_a_missed_reminder_suspends_and_reactivates(capsys, monkeypatch):
    # Issue 17: runs on 7, 11 and 25 March only; the reminder of 17 March is skipped, the
    # formal notice suspends, the payment of 2 April reactivates; the costs are apart.
    script = next(p for p in EXAMPLES if p.name == "relances.py")
    monkeypatch.setattr(sys, "argv", [str(script)])
    runpy.run_path(str(script), run_name="__main__")
    out = " ".join(capsys.readouterr().out.replace("\xa0", " ").replace("\u202f", " ").split())
    assert "Pénalités de retard : 10 % par an" in out
    assert "Rappel : votre facture F-2027-000001 d'un montant de 120,00 €" in out
    assert "reste impayée depuis 1 jour." in out
    assert "(étapes sautées : relance du 17 mars 2027) Mise en demeure de payer" in out
    assert "Statut de l'abonnement : Suspendu" in out
    assert "Statut le 1 avril 2027 : Suspendu Statut le 2 avril 2027 : Actif" in out
    assert "du 11 mars au 2 avril 2027 : 120,00 € × 10 % × 23/365 = 0,76 €" in out
    assert "Total dû : 40,76 €" in out

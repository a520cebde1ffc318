"""« Gérer votre abonnement » : la page d'aide du SaaS (seed 001), calculée par subbill.

Le catalogue est lu depuis catalogue_saas.json (c'est l'application qui lit le fichier :
subbill ne fait aucune entrée-sortie). On suit la page : point mensuel, modules, changement
de plan, facturation et moyen de paiement, puis « J'ai des doutes sur le montant d'une
facture ».
"""

import json
from datetime import date
from pathlib import Path

from subbill import (
    Card,
    Refused,
    Subscription,
    TaxRate,
    bill_subscription,
    can_activate,
    explain_invoice,
    monthly_review,
    preview_change,
)
from subbill.invoices import InvoiceNumbering
from subbill.l10n import (
    describe_line,
    finding_text,
    format_date,
    format_money,
    invoice_text,
    label,
    refusal_text,
    story_text,
)

FR = "fr_FR"
CATALOGUE = Path(__file__).with_name("catalogue_saas.json")


def titre(texte: str) -> None:
    print()
    print(texte)
    print("─" * len(texte))


def main() -> None:
    from subbill import Catalog  # noqa: PLC0415

    catalogue = Catalog.from_mapping(json.loads(CATALOGUE.read_text(encoding="utf-8")))
    tva = TaxRate(name="TVA 20 %", percent="20")
    debut = date(2026, 3, 1)
    abonnement = Subscription.create(
        id="ABO-42",
        customer="Boulangerie Martin",
        catalog=catalogue,
        plan="essentiel",
        start=debut,
        modules=["crm"],
        payment_method="carte",
        tax_rates=(tva,),
    )
    numeros = InvoiceNumbering()
    premiere = bill_subscription(abonnement.to_charge_plan(catalogue), as_of=debut)
    facture_mars = premiere.invoice.finalize(number=numeros.next_number(None, issued_on=debut))
    etat = premiere.state
    carte = Card(id="carte", brand="Visa", last4="4242", exp_month=3, exp_year=2026)

    titre("1) Le point mensuel (25 mars 2026)")
    constats = monthly_review(
        abonnement,
        catalogue,
        usage={"clients": 92, "documents": 310, "commandes": 40},
        module_usage={"crm": 0},
        invoices=[facture_mars],
        payment_methods=[carte],
        as_of=date(2026, 3, 25),
    )
    for constat in constats:
        print(f"  [{constat.check}] {finding_text(constat, locale=FR)}")

    titre("2) Ajuster les modules")
    for module in ("stock", "multidepot", "agenda"):
        decision = can_activate(abonnement, module, catalogue, on=date(2026, 3, 25))
        nom = catalogue.module(module).name
        if isinstance(decision, Refused):
            print(f"  ✗ {nom} : {refusal_text(decision, locale=FR)}")
        else:
            print(f"  ✓ {nom} : peut être activé.")

    titre("3) Changer de plan (un palier à la fois)")
    apercu = preview_change(abonnement, "pro", catalogue, on=date(2026, 3, 13), state=etat)
    print(
        f"  Passage au plan Pro le {format_date(apercu.effective_on, locale=FR)} "
        f"({label(apercu.direction.value, locale=FR)}, {label(apercu.timing.value, locale=FR)}) :"
    )
    for ligne in apercu.lines:
        print(f"    {format_money(ligne.net, locale=FR):>12}  {describe_line(ligne, locale=FR)}")
    pro = abonnement.change_plan("pro", catalogue, on=date(2026, 3, 13)).activate(
        "stock", catalogue, on=date(2026, 3, 20)
    )
    changement = bill_subscription(pro.to_charge_plan(catalogue), etat, as_of=date(2026, 3, 20))
    facture_changement = changement.invoice.finalize(
        number=numeros.next_number(facture_mars.number, issued_on=date(2026, 3, 20))
    )
    etat = changement.state
    retour = preview_change(
        pro, "essentiel", catalogue, on=date(2026, 4, 10), usage={"clients": 150}
    )
    print(f"  Redescendre en Essentiel le 10 avril : {refusal_text(retour.decision, locale=FR)}")
    apres = preview_change(pro, "essentiel", catalogue, on=date(2026, 4, 10), usage={"clients": 60})
    print(
        f"  Avec 60 clients : descente appliquée le {format_date(apres.effective_on, locale=FR)} "
        "(à la prochaine période, selon la configuration)."
    )

    titre("4) Facturation : la facture du changement")
    print(invoice_text(facture_changement, locale=FR))

    titre("« J'ai des doutes sur le montant d'une facture »")
    print(story_text(explain_invoice(facture_changement, pro, catalogue), locale=FR))


if __name__ == "__main__":
    main()

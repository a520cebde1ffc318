"""Facturation d'un petit client SaaS sur trois mois, avec une montée de plan en cours de mois.

La Boulangerie Martin souscrit le 1er mars 2026 au plan Essentiel (29 € HT par mois) et au
Module Stock (9 € HT par mois), facturés d'avance le 1er de chaque mois, TVA 20 %. Le
13 avril, elle passe au plan Pro (59 € HT par mois) : la facture du jour rembourse la part
non utilisée du plan Essentiel et facture le plan Pro au prorata, jusqu'au 30 avril.

Lancez-le avec ``python examples/facturation_saas.py`` une fois le paquet installé.
"""

from datetime import date

from subbill import (
    BillingState,
    ChargePlan,
    Invoice,
    Money,
    Payment,
    RecurringCharge,
    TaxRate,
    bill_subscription,
)
from subbill.invoices import InvoiceNumbering
from subbill.l10n import format_date, format_money, invoice_text

LOCALE = "fr_FR"
TVA = TaxRate(name="TVA 20 %", percent="20")


def titre(texte: str) -> None:
    print()
    print(texte)
    print("═" * len(texte))


def depuis_mars(code: str, description: str, prix_ht: str) -> RecurringCharge:
    """Un élément mensuel à ``prix_ht`` euros HT, du 1er mars 2026, facturé le 1er, TVA 20 %."""
    return RecurringCharge(
        code=code,
        description=description,
        unit_price=Money(prix_ht, "EUR"),
        start=date(2026, 3, 1),
        billing_day=1,
        tax_rates=(TVA,),
    )


def main() -> None:
    print("Boulangerie Martin : trois mois d'abonnement, avec un passage au plan Pro")

    # Le plan et le module démarrent le 1er mars, facturés le 1er de chaque mois.
    essentiel = depuis_mars("essentiel", "Plan Essentiel", "29.00")
    stock = depuis_mars("stock", "Module Stock", "9.00")
    avant = ChargePlan(
        id="ABO-0042",
        customer="Boulangerie Martin",
        currency="EUR",
        charges=(essentiel, stock),
    )

    # Le 13 avril, le plan Essentiel s'arrête et le plan Pro prend le relais, sur le même
    # cycle de facturation (toujours le 1er du mois).
    changement = date(2026, 4, 13)
    ancien, pro = essentiel.change(
        on=changement,
        unit_price=Money("59.00", "EUR"),
        code="pro",
        description="Plan Pro",
        reason="plan_change",
    )
    apres = ChargePlan(
        id="ABO-0042",
        customer="Boulangerie Martin",
        currency="EUR",
        charges=(ancien, pro, stock),
    )

    # Chaque facturation reçoit l'état laissé par la précédente : rien n'est facturé deux fois.
    numerotation = InvoiceNumbering()
    numero: str | None = None
    etat: BillingState | None = None
    factures: list[Invoice] = []
    for abonnement, jour in (
        (avant, date(2026, 3, 1)),
        (avant, date(2026, 4, 1)),
        (apres, changement),
        (apres, date(2026, 5, 1)),
    ):
        resultat = bill_subscription(abonnement, etat, as_of=jour)
        etat = resultat.state
        if resultat.invoice is None:
            print(f"\nRien à facturer le {format_date(jour, locale=LOCALE)}.")
            continue
        numero = numerotation.next_number(numero, issued_on=jour)
        facture = resultat.invoice.finalize(number=numero)
        titre(f"Facturation du {format_date(jour, locale=LOCALE)}")
        print(invoice_text(facture, locale=LOCALE))
        factures.append(facture)

    # La première facture est réglée par prélèvement SEPA le 5 mars.
    mars = factures[0]
    reglement = mars.apply_payment(
        Payment(
            amount=mars.amount_due,
            paid_on=date(2026, 3, 5),
            method="prélèvement SEPA",
            reference="SEPA-2026-03-0042",
        )
    )
    mars = reglement.invoice
    factures[0] = mars
    titre(f"Règlement de la facture {mars.number} le 5 mars 2026")
    print(invoice_text(mars, locale=LOCALE))

    titre("Récapitulatif")
    for facture in factures:
        print(
            f"  • {facture.number} du {format_date(facture.issued_on, locale=LOCALE)} : "
            f"{format_money(facture.net, locale=LOCALE)} HT, "
            f"{format_money(facture.total, locale=LOCALE)} TTC, "
            f"reste à payer {format_money(facture.amount_due, locale=LOCALE)}"
        )
    total_ht = Money.total((f.net for f in factures), currency="EUR")
    total_ttc = Money.total((f.total for f in factures), currency="EUR")
    print(
        f"Facturé de mars à mai : {format_money(total_ht, locale=LOCALE)} HT, "
        f"{format_money(total_ttc, locale=LOCALE)} TTC."
    )


if __name__ == "__main__":
    main()

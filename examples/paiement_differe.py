"""Une page de paiement en français (seed 003) : « À payer aujourd'hui », « Paiements à venir ».

Création d'un site web payée aujourd'hui, référencement (SEO) mensuel facturé à partir de
six mois plus tard, une remise de lancement ponctuelle de 10 % — qui ne s'applique qu'à ce
qui est dû aujourd'hui — et une remise par unité sur le SEO, la seule façon de remiser une
ligne récurrente postdatée. Puis le même lien ouvert après la date de début.
"""

from datetime import date

from subbill import (
    MONTHLY,
    BillingStart,
    Discount,
    Duration,
    LineItem,
    Money,
    PaymentLink,
    TaxRate,
    checkout,
    purchase,
)
from subbill.l10n import checkout_text, format_date, format_money, label

FR = "fr_FR"
TVA = TaxRate(name="TVA 20 %", percent="20")


def referencement(debut: BillingStart, *, remises: tuple[Discount, ...] = ()) -> LineItem:
    """Le référencement (SEO) : 500,00 € HT par mois, douze paiements à partir de ``debut``."""
    return LineItem(
        code="seo",
        name="Référencement (SEO)",
        unit_price=Money("500.00", "EUR"),
        frequency=MONTHLY,
        billing_start=debut,
        payments=12,
        discounts=remises,
        tax_rates=(TVA,),
    )


def page(offre: PaymentLink, *, paye_le: date, horizon: date) -> None:
    # La page est celle que `subbill quote` imprime : une seule fonction l'écrit.
    print(checkout_text(checkout(offre, paid_on=paye_le, horizon=horizon), locale=FR))
    print()


def main() -> None:
    site = LineItem(
        code="site",
        name="Création du site web",
        unit_price=Money("3000.00", "EUR"),
        tax_rates=(TVA,),
    )
    fidelite = Discount.per_unit_percent_off("FIDELITE", "5")
    seo = referencement(BillingStart.after_months(6), remises=(fidelite,))
    lancement = Discount.percent_off("LANCEMENT", "10", duration=Duration.once())
    offre = PaymentLink(
        id="LIEN-2026-01", currency="EUR", lines=(site, seo), discounts=(lancement,)
    )

    print("═══ Le lien ouvert le jour de sa création ═══")
    page(offre, paye_le=date(2026, 1, 15), horizon=date(2026, 9, 15))

    achat = purchase(
        offre, paid_on=date(2026, 1, 15), customer="Atelier Dupont", payment_method="pm_carte"
    )
    print("Après l'achat :")
    print(f"  paiement enregistré : {format_money(achat.payment.amount, locale=FR)}")
    abonnement = achat.subscription
    statut = label(abonnement.status(as_of=date(2026, 1, 15)), locale=FR)
    premiere = format_date(abonnement.start, locale=FR)
    print(f"  abonnement {abonnement.id} : statut « {statut} », première facture le {premiere}")
    print()

    print("═══ Le même lien ouvert après la date de début du SEO ═══")
    tardif = PaymentLink(
        id="LIEN-2026-02",
        currency="EUR",
        lines=(site, referencement(BillingStart.on(date(2026, 2, 1)))),
        discounts=(lancement,),
    )
    page(tardif, paye_le=date(2026, 2, 10), horizon=date(2026, 4, 10))


if __name__ == "__main__":
    main()

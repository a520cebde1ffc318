"""Une API SaaS française facturée à l'usage sur trois mois, après 14 jours d'essai.

Géocode (une API de géocodage) vend son plan Startup 49 € HT par mois, facturé d'avance le
1er du mois, plus, chaque mois échu :

- les appels à l'API, par paliers : les 10 000 premiers offerts, puis 0,002 € jusqu'à
  100 000, puis 0,001 € au-delà ;
- les utilisateurs (sièges) au prorata des jours : 8 € HT par siège et par mois.

TVA 20 % sur tout. L'Atelier Numérique s'abonne le 1er mars 2026 avec 14 jours d'essai :
rien n'est facturé avant le 15 mars (ni l'abonnement, ni l'usage des 14 premiers jours), puis
le premier mois est facturé au prorata, en gardant le 1er comme jour de facturation.

Lancez-le avec ``python examples/facturation_api_a_l_usage.py`` une fois le paquet installé.
"""

from datetime import date

from subbill import (
    MONTHLY,
    BillingState,
    Catalog,
    Invoice,
    Money,
    Plan,
    Subscription,
    TaxRate,
    Trial,
    bill_subscription,
)
from subbill.invoices import InvoiceNumbering
from subbill.l10n import format_date, format_money, invoice_text
from subbill.metering import (
    Aggregation,
    Graduated,
    Metric,
    PerUnit,
    Tier,
    UsageCharge,
    UsageRecord,
)

LOCALE = "fr_FR"
TVA = TaxRate(name="TVA 20 %", percent="20")
ABONNEMENT = "ABO-GEO-0007"


def catalogue() -> Catalog:
    """Le plan Startup : 49 € HT par mois, les appels par paliers et les sièges au prorata."""
    appels = UsageCharge(
        code="appels",
        description="Appels API",
        currency="EUR",
        metric=Metric(code="appels_api", aggregation=Aggregation.SUM),
        model=Graduated(
            tiers=(
                Tier(up_to=10_000, unit_price=Money("0", "EUR")),
                Tier(up_to=100_000, unit_price=Money("0.002", "EUR")),
                Tier(unit_price=Money("0.001", "EUR")),
            )
        ),
    )
    sieges = UsageCharge(
        code="sieges",
        description="Utilisateurs",
        currency="EUR",
        # Un relevé fixe le nombre de sièges à partir de son jour : compté au prorata.
        metric=Metric(code="sieges", aggregation=Aggregation.TIME_WEIGHTED),
        model=PerUnit(unit_price=Money("8", "EUR")),
    )
    startup = Plan(
        code="startup",
        name="Plan Startup",
        rank=1,
        prices={MONTHLY: Money("49", "EUR")},
        usage=(appels, sieges),
    )
    return Catalog(currency="EUR", plans=[startup])


def releves() -> list[UsageRecord]:
    """Ce que l'API a mesuré : appels par jour (résumés) et changements du nombre de sièges."""

    def releve(metrique: str, quantite: int, jour: date, cle: str) -> UsageRecord:
        return UsageRecord(
            subscription=ABONNEMENT, metric=metrique, quantity=quantite, used_on=jour, key=cle
        )

    return [
        releve("appels_api", 3_000, date(2026, 3, 10), "appels-essai"),  # pendant l'essai
        releve("appels_api", 42_000, date(2026, 3, 20), "appels-mars"),
        releve("appels_api", 130_000, date(2026, 4, 15), "appels-avril"),
        releve("appels_api", 95_000, date(2026, 5, 15), "appels-mai"),
        releve("sieges", 3, date(2026, 3, 1), "sieges-1"),
        releve("sieges", 5, date(2026, 4, 10), "sieges-2"),
        releve("sieges", 4, date(2026, 5, 20), "sieges-3"),
    ]


def titre(texte: str) -> None:
    print()
    print(texte)
    print("═" * len(texte))


def main() -> None:
    print("L'Atelier Numérique : trois mois d'API Géocode, après 14 jours d'essai")
    offre = catalogue()
    abonnement = Subscription.create(
        id=ABONNEMENT,
        customer="L'Atelier Numérique",
        catalog=offre,
        plan="startup",
        start=date(2026, 3, 1),
        billing_day=1,
        tax_rates=(TVA,),
        trial=Trial(days=14),
        payment_method="pm_sepa_0007",
    )
    print(f"Essai jusqu'au {format_date(abonnement.trial_ends_on, locale=LOCALE)} (exclu).")
    a_facturer = abonnement.to_charge_plan(offre)
    mesures = releves()

    # Chaque facturation reçoit l'état laissé par la précédente et tous les relevés connus.
    numerotation = InvoiceNumbering()
    numero: str | None = None
    etat: BillingState | None = None
    factures: list[Invoice] = []
    for jour in (
        date(2026, 3, 14),
        date(2026, 3, 15),
        date(2026, 4, 1),
        date(2026, 5, 1),
        date(2026, 6, 1),
    ):
        connus = [r for r in mesures if r.used_on < jour]
        resultat = bill_subscription(a_facturer, etat, as_of=jour, usage=connus)
        etat = resultat.state
        if resultat.invoice is not None:
            numero = numerotation.next_number(numero, issued_on=jour)
            factures.append(resultat.invoice.finalize(number=numero))
        else:
            print(f"\nRien à facturer le {format_date(jour, locale=LOCALE)} : l'essai court.")
    for facture in factures:
        titre(f"Facturation du {format_date(facture.issued_on, locale=LOCALE)}")
        print(invoice_text(facture, locale=LOCALE))

    # Ce que chaque facture doit à l'abonnement (d'avance) et à l'usage (échu).
    titre("Récapitulatif : abonnement et usage")
    zero = Money.zero("EUR")
    for facture in factures:
        usage = sum((ligne.net for ligne in facture.lines if ligne.explanation.usage), zero)
        print(
            f"  • {facture.number} ({format_date(facture.issued_on, locale=LOCALE)}) : "
            f"abonnement {format_money(facture.net - usage, locale=LOCALE)} + usage "
            f"{format_money(usage, locale=LOCALE)} = {format_money(facture.net, locale=LOCALE)}"
            f" HT, soit {format_money(facture.total, locale=LOCALE)} TTC"
        )
    print(
        "Facturé du 15 mars au 1er juin : "
        f"{format_money(sum((f.net for f in factures), zero), locale=LOCALE)} HT, "
        f"{format_money(sum((f.total for f in factures), zero), locale=LOCALE)} TTC."
    )


if __name__ == "__main__":
    main()

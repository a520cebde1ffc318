"""Visite guidée de subbill : ce que la bibliothèque calcule, en français.

Lancez-la avec ``subbill demo``, ``python -m subbill demo``, ``make demo`` ou
``python examples/tour.py``. Elle ne fait que des calculs : aucun fichier, aucune horloge.
"""

import itertools
from datetime import date

from subbill import (
    MONTHLY,
    BillingSchedule,
    BillingStart,
    Money,
    billable_periods,
    prorate,
)
from subbill.l10n import describe_proration, format_date, format_money, format_period

LOCALE = "fr_FR"


def _titre(texte: str) -> None:
    print()
    print(texte)
    print("─" * len(texte))


def main() -> None:
    """Print the French tour of what subbill computes."""
    print("subbill — tout ce qu'un abonnement facture, calculé au centime près")

    _titre("1. De l'argent exact")
    prix = Money("1234.56", "EUR")
    print(f"Un montant exact : {format_money(prix, locale=LOCALE)}")
    somme = Money("0.10", "EUR") + Money("0.20", "EUR")
    print(f"0,10 € + 0,20 € = {format_money(somme, locale=LOCALE)} (pas 0,30000000000000004)")
    tiers = Money("100.00", "EUR").split(3)
    print(
        "100,00 € en trois parts : "
        + " + ".join(format_money(p, locale=LOCALE) for p in tiers)
        + f" = {format_money(sum(tiers, Money.zero('EUR')), locale=LOCALE)}"
    )
    remise = Money("10.00", "EUR")
    parts = remise.allocate(
        [Money("49.00", "EUR").amount, Money("19.00", "EUR").amount, Money("9.90", "EUR").amount]
    )
    print(
        "Une remise de 10,00 € répartie sur trois lignes (49,00 €, 19,00 €, 9,90 €) : "
        + ", ".join(format_money(p, locale=LOCALE) for p in parts)
    )
    yens = (Money("1000", "JPY") / 3).rounded()
    print(f"En yens, pas de centimes : 1 000 JPY / 3 = {format_money(yens, locale=LOCALE)}")

    _titre("2. Un calendrier de facturation qui ne dérive pas")
    calendrier = BillingSchedule(anchor=date(2026, 1, 31), frequency=MONTHLY, billing_day=31)
    print("Facturation mensuelle le 31, à partir du 31 janvier 2026 :")
    for jour in itertools.islice(calendrier.dates(), 5):
        print(f"  • {format_date(jour, locale=LOCALE)}")
    print("Février n'a que 28 jours : on facture le 28, puis on revient au 31 en mars.")
    paye_le = date(2026, 1, 31)
    debut = BillingStart.after_months(1).resolve(paid_on=paye_le)
    print(
        f"Début différé d'un mois après un paiement le {format_date(paye_le, locale=LOCALE)} : "
        f"{format_date(debut, locale=LOCALE)}"
    )

    _titre("3. Une première facture au prorata, expliquée")
    prix_mensuel = Money("50.00", "EUR")
    periodes = billable_periods(
        date(2026, 3, 1), as_of=date(2026, 3, 13), frequency=MONTHLY, billing_day=13
    )
    print("Abonnement à 50,00 € par mois, facturé le 13, souscrit le 1er mars 2026 :")
    total = Money.zero("EUR")
    for periode in periodes:
        montant = prorate(prix_mensuel, periode.factor)
        total += montant
        print(
            f"  • {format_period(periode.period, locale=LOCALE)} : "
            f"{format_money(montant, locale=LOCALE)}"
        )
        print(f"      {describe_proration(prix_mensuel, periode, locale=LOCALE)}")
    print(f"Total dû au 13 mars 2026 : {format_money(total, locale=LOCALE)}")
    (mars,) = billable_periods(
        date(2026, 3, 1), as_of=date(2026, 3, 1), frequency=MONTHLY, billing_day=1
    )
    premier = mars.split(date(2026, 3, 13))[0]
    print("Et pour un mois de mars facturé le 1er, un arrêt le 13 mars :")
    explication = describe_proration(
        prix_mensuel, premier, locale=LOCALE, reason="changement de plan"
    )
    print(f"  • {explication}")

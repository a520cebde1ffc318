"""Visite guidée de subbill : ce que la bibliothèque calcule, en français.

Lancez-la avec ``subbill demo``, ``python -m subbill demo``, ``make demo`` ou
``python examples/tour.py``. Elle ne fait que des calculs : aucun fichier (la base est en
mémoire), aucune horloge. La vie complète d'un abonnement, avec une base SQLite et le
portail, est dans ``examples/du_devis_a_la_facture.py``.
"""

import itertools
from datetime import date

from subbill import (
    MONTHLY,
    BillingSchedule,
    BillingStart,
    Money,
    PaymentLink,
    billable_periods,
    prorate,
    purchase,
)
from subbill.invoices import Payment
from subbill.l10n import describe_proration, format_date, format_money, format_period, label
from subbill.service import pay_invoice, run_billing, store_purchase
from subbill.storage import MemoryStore

__all__ = ["LOCALE", "main"]

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
    premier = mars.split(on=date(2026, 3, 13))[0]
    print("Et pour un mois de mars facturé le 1er, un arrêt le 13 mars :")
    explication = describe_proration(
        prix_mensuel, premier, locale=LOCALE, reason="changement de plan"
    )
    print(f"  • {explication}")

    _vie_d_un_abonnement()


def _vie_d_un_abonnement() -> None:
    """Section 4: a payment link bought, stored, billed on its dates, paid, its card changed."""
    _titre("4. La vie d'un abonnement, du lien de paiement à la facture payée")
    # The link as a shop keeps it (a JSON or TOML file, read by the caller): plain data.
    tva = {"name": "TVA 20 %", "percent": "20"}
    lien = PaymentLink.from_mapping(
        {
            "id": "LIEN-SITE-SEO",
            "currency": "EUR",
            "lines": [
                {"code": "site", "name": "Création du site", "unit_price": "1500.00", "tax": tva},
                {
                    "code": "seo",
                    "name": "Référencement (SEO)",
                    "unit_price": "300.00",
                    "frequency": "monthly",
                    "start": {"after_months": 6},
                    "tax": tva,
                },
            ],
            "discounts": [{"code": "BIENVENUE", "percent": "10", "once": True}],
        }
    )
    print(
        "Un lien de paiement : site 1 500,00 € HT aujourd'hui, SEO 300,00 € HT par mois "
        "dans six mois, TVA 20 %, remise de bienvenue de 10 % une seule fois."
    )
    achat = purchase(
        lien,
        paid_on=date(2026, 8, 31),
        payment_method="pm_visa_4242",
        reference="pay_001",
        customer="Garage Martin",
    )
    base = MemoryStore()
    recu = store_purchase(base, achat)
    store_purchase(base, achat)  # un double clic : rien de plus
    if recu.invoice is None or recu.subscription is None:  # pragma: no cover
        raise RuntimeError("the purchase made no invoice or no subscription")
    abonnement = recu.subscription
    print(
        f"Payé le 31 août 2026 : {format_money(recu.invoice.total, locale=LOCALE)} TTC, "
        f"facture {recu.invoice.number} « {label(recu.invoice.status, locale=LOCALE)} »"
    )
    for jour in (date(2027, 2, 1), date(2027, 2, 28)):
        statut = label(abonnement.status(as_of=jour), locale=LOCALE)
        print(f"Statut le {format_date(jour, locale=LOCALE)} : {statut}")
    for jour in (date(2027, 2, 28), date(2027, 3, 31)):
        if jour == date(2027, 3, 31):
            abonnement = abonnement.change_payment_method("pm_mc_5454", on=date(2027, 3, 10))
            base.save_subscription(abonnement)
            print("Le 10 mars 2027, le client remplace sa carte : l'abonnement suit.")
        run_billing(base, as_of=jour)
        for facture in base.invoices(subscription=abonnement.id):
            if facture.issued_on != jour or facture.number is None:
                continue
            numero = facture.number
            payee = pay_invoice(base, numero, Payment(amount=facture.total, paid_on=jour))
            print(
                f"  • {format_date(jour, locale=LOCALE)} : facture {numero}, "
                f"{format_money(payee.total, locale=LOCALE)} TTC, "
                f"« {label(payee.status, locale=LOCALE)} » (carte {abonnement.payment_method})"
            )

"""Le tableau de bord d'un revendeur (seed 002) : comptes à renouveler, couleurs, renouvellement.

Un partenaire détient des licences TBox et TSend, en cède à ses revendeurs, qui les
attribuent à leurs clients (une licence = un utilisateur pendant un an). Le tableau compte
les sociétés à renouveler, liste les comptes avec leur couleur, puis un renouvellement est
saisi comme dans le formulaire du produit.
"""

from datetime import date

from subbill import LicenseAccount, LicenseLedger, Refused, renew, renewal_dashboard
from subbill.l10n import dashboard_text, format_date, refusal_text
from subbill.licenses import renewal_form

FR = "fr_FR"
AUJOURDHUI = date(2026, 4, 1)


def tableau(comptes: list[LicenseAccount]) -> None:
    print(dashboard_text(renewal_dashboard(comptes, as_of=AUJOURDHUI), locale=FR))
    print()


def main() -> None:
    registre = LicenseLedger().grant("Partenaire Sud", "TBox", 300, on=date(2025, 1, 2))
    registre = registre.grant("Partenaire Sud", "TSend", 100, on=date(2025, 1, 2))
    registre = registre.transfer(
        "Partenaire Sud", "Revendeur Ouest", "TBox", 80, on=date(2025, 1, 3)
    )
    comptes = [
        LicenseAccount(
            customer=client,
            product=produit,
            seats=licences,
            start=debut,
            years=annees,
            reseller=revendeur,
        )
        for client, produit, licences, debut, annees, revendeur in (
            ("Boulangerie Martin", "TBox", 12, date(2025, 6, 1), 1, "Revendeur Ouest"),
            ("Cabinet Leroy", "TSend", 4, date(2025, 3, 1), 1, None),  # sans revendeur
            ("Garage Petit", "TBox", 6, date(2025, 9, 15), 2, "Revendeur Ouest"),
            ("Pharmacie Roux", "TBox", 3, date(2026, 5, 1), 1, "Revendeur Ouest"),
        )
    ]
    for compte in comptes:
        source = compte.reseller or "Partenaire Sud"
        registre = registre.assign(
            source, compte.holder, compte.product, compte.licence_years, on=compte.start
        )
    print("═══ Le tableau de bord ═══")
    tableau(comptes)

    print("═══ Renouveler Boulangerie Martin (TBox) ═══")
    formulaire = renewal_form(
        comptes[0], years=2, seats=14, ledger=registre, pool="Revendeur Ouest", on=AUJOURDHUI
    )
    print(f"Licences restantes à attribuer par Revendeur Ouest : {formulaire.available}")
    print(f"Nombre d'années de renouvellement : {formulaire.years}")
    print(f"Licences utilisateurs affectées à Boulangerie Martin : {formulaire.seats}")
    print(f"Licences restantes après réabonnement : {formulaire.left}")
    trop = renewal_form(
        comptes[0], years=5, seats=14, ledger=registre, pool="Revendeur Ouest", on=AUJOURDHUI
    )
    if isinstance(trop.decision, Refused):
        print(f"Pour 5 ans : {refusal_text(trop.decision, locale=FR)}")
    renouvellement = renew(
        comptes[0], years=2, seats=14, ledger=registre, pool="Revendeur Ouest", on=AUJOURDHUI
    )
    renouvele, suivant = renouvellement.renewed, renouvellement.new_term
    print(
        f"Nouvelle période : du {format_date(suivant.start, locale=FR)} "
        f"au {format_date(suivant.last_day, locale=FR)}"
    )
    print()
    print("═══ Le tableau après le renouvellement ═══")
    tableau([renouvele, *comptes[1:]])


if __name__ == "__main__":
    main()

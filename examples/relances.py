"""Relances de paiement et mise en demeure (issue 17), avec l'API pure : ni base, ni horloge.

Une facture de 120,00 € échue le 10 mars 2027 suit la politique habituelle : un rappel
courtois 3 jours avant l'échéance, des relances 1 et 7 jours après, la mise en demeure et la
suspension du service 15 jours après. Les relances sont lancées quelques jours seulement :
une relance manquée n'est pas rattrapée (elle est notée « sautée »), jamais deux relances à
la fois. Le client paie le 2 avril : le service est rétabli ce jour-là, et la facture des
frais de retard (indemnité de 40 € et pénalités au taux des conditions) est un document à
part.
"""

from datetime import date

from subbill import DunningPolicy, Money, Subscription, dunning_actions
from subbill.billing import BillingTerms, draft_invoice
from subbill.catalog import Catalog, Plan
from subbill.dunning import late_payment_claims, late_payment_costs
from subbill.invoices import Payment, one_time_line
from subbill.l10n import format_date, invoice_text, label
from subbill.l10n.dunning import action_text, late_payment_text, skipped_text
from subbill.periods import MONTHLY

FR = "fr_FR"


def main() -> None:
    catalogue = Catalog(
        currency="EUR",
        plans=[Plan(code="pro", name="Pro", rank=1, prices={MONTHLY: Money("120", "EUR")})],
    )
    conditions = BillingTerms(late_payment_percent="10")  # pénalités : 10 % par an
    abonnement = Subscription.create(
        id="S1",
        customer="Garage Martin",
        catalog=catalogue,
        plan="pro",
        start=date(2027, 2, 8),
        terms=conditions,
    )
    facture = draft_invoice(
        customer="Garage Martin",
        currency="EUR",
        issued_on=date(2027, 2, 8),
        due_on=date(2027, 3, 10),
        subscription="S1",
        lines=[one_time_line("pro", "Abonnement Pro", Money("120.00", "EUR"))],
    ).finalize(number="F-2027-000001")
    print(invoice_text(facture, locale=FR, terms=conditions))

    # La politique habituelle, sans carte enregistrée : pas de nouvelles tentatives.
    habituelle = DunningPolicy.standard()
    politique = DunningPolicy(steps=habituelle.steps, late_payment_costs=True)
    historique: tuple = ()
    # Les relances ne tournent que certains jours : le 7, le 11, puis le 25 mars.
    for jour in (date(2027, 3, 7), date(2027, 3, 11), date(2027, 3, 25)):
        print()
        print(f"== Relances du {format_date(jour, locale=FR)} ==")
        for action in dunning_actions([facture], policy=politique, history=historique, as_of=jour):
            if action.skipped:  # les étapes sautées, par ce qu'elles font et leur jour
                print(skipped_text(action, policy=politique, locale=FR))
            print(action_text(action, locale=FR, terms=conditions))
            historique += action.events
        statut = abonnement.status(as_of=jour, invoices=[facture], dunning=historique)
        print(f"Statut de l'abonnement : {label(statut, locale=FR)}")

    payee = facture.apply_payment(
        Payment(amount=Money("120.00", "EUR"), paid_on=date(2027, 4, 2))
    ).invoice
    print()
    for jour in (date(2027, 4, 1), date(2027, 4, 2)):
        statut = abonnement.status(as_of=jour, invoices=[payee], dunning=historique)
        print(f"Statut le {format_date(jour, locale=FR)} : {label(statut, locale=FR)}")

    # L'option de la politique : les frais de retard, réclamés une fois, à part.
    for reclamation in late_payment_claims(
        [payee], policy=politique, history=historique, as_of=date(2027, 4, 2)
    ):
        frais = late_payment_costs(
            reclamation.invoice, percent=conditions.late_payment_percent, as_of=reclamation.on
        )
        if frais is None:
            continue
        historique += (reclamation.event,)
        print()
        print(late_payment_text(frais, locale=FR))
        print()
        print(invoice_text(frais.document.finalize(number="F-2027-000002"), locale=FR))


if __name__ == "__main__":
    main()

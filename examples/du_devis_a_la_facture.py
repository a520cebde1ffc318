"""Du lien de paiement à la facture payée : la vie d'un abonnement, de bout en bout.

Une agence web vend par lien de paiement (seed 003) la création d'un site (1 500,00 € HT,
payée tout de suite) et le référencement (SEO, 300,00 € HT par mois, facturé à partir de six
mois après le paiement), TVA 20 %, avec une remise de bienvenue ponctuelle de 10 %. Le Garage
Martin paie le 31 août 2026 : 1 620,00 € TTC aujourd'hui. L'achat est enregistré dans une base
SQLite (une seule fois, même si le clic est répété), l'abonnement est « Planifié » jusqu'au
28 février 2027, puis chaque date de facturation donne une facture de 360,00 € TTC, payée par
carte. En mars le client change de carte (seed 001) ; il voit tout dans son portail (seed 004)
à trois dates ; la revue mensuelle (seed 001) ne trouve rien d'anormal.
"""

import tempfile
from datetime import date
from pathlib import Path

from subbill import (
    MONTHLY,
    BillingStart,
    Discount,
    Duration,
    LineItem,
    Money,
    PaymentLink,
    TaxRate,
    purchase,
)
from subbill.customers import Customer, CustomerKind
from subbill.invoices import Payment
from subbill.l10n import (
    finding_text,
    format_date,
    format_money,
    label,
    portal_text,
    story_text,
)
from subbill.payments import Card, Wallet
from subbill.portal import portal_overview
from subbill.service import (
    invoices_of_run,
    pay_invoice,
    replace_subscription,
    run_billing,
    store_purchase,
)
from subbill.storage import SQLiteStore
from subbill.usage import explain_invoice, monthly_review

FR = "fr_FR"
TVA = TaxRate(name="TVA 20 %", percent="20")
CLIENT = "Garage Martin"


def eur(montant: str) -> Money:
    return Money(montant, "EUR")


def lien() -> PaymentLink:
    return PaymentLink(
        id="LIEN-SITE-SEO",
        currency="EUR",
        lines=(
            LineItem(
                code="site", name="Création du site", unit_price=eur("1500.00"), tax_rates=(TVA,)
            ),
            LineItem(
                code="seo",
                name="Référencement (SEO)",
                unit_price=eur("300.00"),
                frequency=MONTHLY,
                billing_start=BillingStart.after_months(6),
                tax_rates=(TVA,),
            ),
        ),
        discounts=(Discount.percent_off("BIENVENUE", "10", duration=Duration.once()),),
    )


def portail(store: SQLiteStore, jour: date) -> None:
    """Ce que le client voit dans son portail ce jour-là."""
    vue = portal_overview(
        CLIENT,
        orders=store.orders(customer=CLIENT),
        invoices=store.invoices(),
        subscriptions=[store.get_subscription(i) for i in store.subscription_ids()],
        wallet=store.get_wallet(CLIENT),
        as_of=jour,
    )
    print(portal_text(vue, locale=FR))
    print()


def facturer_et_encaisser(store: SQLiteStore, jour: date, *, encaisser: bool = True) -> None:
    """La facturation du jour ; la carte enregistrée est débitée aussitôt."""
    rapport = run_billing(store, as_of=jour)
    for facture in invoices_of_run(store, rapport):
        numero = facture.number
        assert numero is not None
        print(
            f"{format_date(jour, locale=FR)} : facture {numero}, "
            f"{format_money(facture.total, locale=FR)} TTC, échéance le "
            f"{format_date(facture.due_on, locale=FR)}"
        )
        if encaisser:
            payee = pay_invoice(
                store, numero, Payment(amount=facture.total, paid_on=jour, reference=numero)
            )
            print(f"  débitée sur la carte : {label(payee.status, locale=FR)}")


def changer_de_carte(store: SQLiteStore, jour: date) -> None:
    """« Modifier le mode de paiement » : la Visa est remplacée, l'abonnement la suit."""
    mastercard = Card(id="pm_mc_5454", brand="Mastercard", last4="5454", exp_month=6, exp_year=2030)
    portefeuille = store.get_wallet(CLIENT)
    assert portefeuille is not None
    abonnements = [store.get_subscription(i) for i in store.subscription_ids()]
    retrait = portefeuille.add(mastercard).delete(
        "pm_visa_4242",
        subscriptions=[a for a in abonnements if a is not None],
        on=jour,
        replacement="pm_mc_5454",
    )
    with store.transaction():
        store.save_wallet(retrait.wallet)
        for deplace in retrait.moved:
            replace_subscription(store, deplace)
    print(f"{format_date(jour, locale=FR)} : la Visa est remplacée par la Mastercard •••• 5454")


def main() -> None:
    with tempfile.TemporaryDirectory() as dossier:
        store = SQLiteStore(Path(dossier) / "agence.db")
        store.save_customer(
            Customer(
                id=CLIENT,
                legal_name="Garage Martin SARL",
                address=("12 rue des Lilas", "69003 Lyon"),
                country="FR",
                kind=CustomerKind.BUSINESS,
                siren="732829320",
            )
        )
        visa = Card(id="pm_visa_4242", brand="Visa", last4="4242", exp_month=12, exp_year=2028)
        store.save_wallet(Wallet(customer=CLIENT).add(visa, make_default=True))

        print("═══ Le paiement, le 31 août 2026 ═══")
        achat = purchase(
            lien(),
            paid_on=date(2026, 8, 31),
            payment_method="pm_visa_4242",
            reference="pay_2026_0831_001",
            customer=CLIENT,
        )
        recu = store_purchase(store, achat)
        assert recu.invoice is not None
        assert recu.subscription is not None
        print(
            f"Payé aujourd'hui : {format_money(recu.invoice.total, locale=FR)} TTC "
            f"(facture {recu.invoice.number}, {label(recu.invoice.status, locale=FR)})"
        )
        print("Paiements à venir :")
        for facture in achat.future[:3]:
            print(
                f"  {format_date(facture.issued_on, locale=FR):<18}"
                f"{format_money(facture.total, locale=FR):>12} TTC"
            )
        encore = store_purchase(store, achat)  # le client a cliqué deux fois
        print(f"Deuxième clic : {'rien de nouveau' if not encore.created else 'doublon !'}")
        abonnement = recu.subscription
        print()

        for jour in (date(2027, 2, 1), date(2027, 2, 28)):
            statut = abonnement.status(as_of=jour)
            print(f"Statut le {format_date(jour, locale=FR)} : {label(statut, locale=FR)}")
        print()
        portail(store, date(2027, 2, 1))

        print("═══ Les dates de facturation ═══")
        facturer_et_encaisser(store, date(2027, 2, 28))

        changer_de_carte(store, date(2027, 3, 10))
        facturer_et_encaisser(store, date(2027, 3, 31))
        print()
        portail(store, date(2027, 3, 31))

        facturer_et_encaisser(store, date(2027, 4, 30), encaisser=False)
        print("  (le débit du 30 avril échoue : la facture reste à payer)")
        print()
        portail(store, date(2027, 5, 2))

        print("═══ La revue mensuelle, le 30 avril 2027 ═══")
        abonnement = store.get_subscription(abonnement.id)
        assert abonnement is not None
        wallet = store.get_wallet(CLIENT)
        constats = monthly_review(
            abonnement,
            invoices=store.invoices(subscription=abonnement.id),
            payment_methods=wallet.methods if wallet is not None else (),
            as_of=date(2027, 4, 30),
        )
        for constat in constats:
            print(f"  {finding_text(constat, locale=FR)}")
        print()

        print("═══ « J'ai des doutes sur le montant de la facture » ═══")
        derniere = store.invoices(subscription=abonnement.id)[-1]
        print(story_text(explain_invoice(derniere, abonnement), locale=FR))
        store.close()


if __name__ == "__main__":
    main()

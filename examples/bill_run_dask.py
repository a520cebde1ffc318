"""Une facturation sur une grappe Dask : le même ``bill_run``, les mêmes factures.

Trois cents abonnements (mensuels, trimestriels, annuels ; jours de facturation du 1er au
31 ; TVA 20 % ; une remise de bienvenue sur un sur cinq) sont facturés au 30 juin 2026,
d'abord dans ce processus, puis sur une grappe Dask locale de deux processus, avec
``executor=client.get_executor()``. Les résultats sont identiques, dans le même ordre.

Sur plusieurs machines, seule la ligne ``Client(...)`` change : ``Client("tcp://ordonnanceur:8786")``
(voir ``docs/dask.md``). Il faut ``pip install 'subbill[dask]'``.

Avec l'URL d'une base en argument (``python examples/bill_run_dask.py postgresql://…``, il
faut alors ``subbill[postgres]`` ; ``sqlite:///facturation.db`` marche aussi sur une seule
machine), les abonnements sont enregistrés dans la base, puis facturés **et enregistrés**
par la grappe : une tâche par tranche (``run_billing_on``), chaque processus ouvrant sa
propre connexion ; chaque abonnement est facturé une fois, les numéros se suivent sans trou
(voir ``docs/scale.md``). Relancée, la facturation ne crée rien de plus.
"""

import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from distributed import Client

from subbill import (
    ANNUAL,
    MONTHLY,
    QUARTERLY,
    Catalog,
    ChargePlan,
    Discount,
    Duration,
    Money,
    RecurringCharge,
    Subscription,
    TaxRate,
    bill_run,
)
from subbill.dask import run_billing_on
from subbill.l10n import format_date, format_money
from subbill.storage import open_store

FR = "fr_FR"
AU = date(2026, 6, 30)
NOMBRE = 300
TVA = TaxRate(name="TVA 20 %", percent="20")
BIENVENUE = Discount.percent_off("BIENVENUE", "15", duration=Duration.periods(2))


def abonnements(nombre: int) -> Iterator[ChargePlan]:
    """Des abonnements variés et reproductibles, produits un à un (jamais tous en mémoire)."""
    rythmes = (MONTHLY, MONTHLY, QUARTERLY, ANNUAL)
    for n in range(nombre):
        debut = date(2025, 1, 1) + timedelta(days=(n * 37) % 540)
        rythme = rythmes[n % len(rythmes)]
        plan = RecurringCharge(
            code="plan",
            description="Plan Pro",
            unit_price=Money(f"{29 + (n % 5) * 10}.00", "EUR"),
            quantity=1 + n % 4,
            frequency=rythme,
            billing_day=1 + (n * 7) % 31,
            start=debut,
            discounts=(BIENVENUE,) if n % 5 == 0 else (),
            tax_rates=(TVA,),
        )
        module = RecurringCharge(
            code="stock",
            description="Module Stock",
            unit_price=Money("9.00", "EUR"),
            frequency=rythme,
            billing_day=plan.billing_day,
            start=debut + timedelta(days=n % 45),
            tax_rates=(TVA,),
        )
        yield ChargePlan(
            id=f"ABO-{n:04d}",
            customer=f"Client {n:04d}",
            currency="EUR",
            charges=(plan, module) if n % 3 else (plan,),
        )


def grappe_locale() -> Client:
    """Deux processus de calcul, un fil chacun, sans tableau de bord web : une petite grappe
    qui démarre en moins d'une seconde."""
    return Client(
        processes=True,
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def facturation_enregistree(url: str) -> None:
    """Enregistre des abonnements dans la base ``url``, puis les facture sur la grappe."""
    catalogue = Catalog.from_mapping(
        json.loads(Path(__file__).with_name("catalogue_saas.json").read_text(encoding="utf-8"))
    )
    base = open_store(url)
    base.save_catalog(catalogue)
    formules = ("essentiel", "pro", "business")
    for n in range(NOMBRE):
        base.save_subscription(
            Subscription.create(
                id=f"ABO-{n:04d}",
                customer=f"Client {n:04d}",
                catalog=catalogue,
                plan=formules[n % 3],
                start=date(2026, 1, 1) + timedelta(days=n % 150),
                tax_rates=(TVA,),
            )
        )
    base.close()
    print(f"{NOMBRE} abonnements enregistrés ; facturation au {format_date(AU, locale=FR)}")
    with grappe_locale() as client:
        rapport = run_billing_on(client, url, as_of=AU, shards=2)
        relance = run_billing_on(client, url, as_of=AU, shards=2)
    total = rapport.total.get("EUR", Money.zero("EUR"))
    print(
        f"  2 tranches, 2 processus : {rapport.invoice_count} factures, de "
        f"{rapport.first_number} à {rapport.last_number}, {format_money(total, locale=FR)} TTC"
    )
    print(f"  relancée : {relance.invoice_count} facture de plus")
    if relance.invoice_count or not rapport.is_complete:
        raise SystemExit("la facturation enregistrée n'a pas tout facturé une seule fois")


def main() -> None:
    if len(sys.argv) > 1:
        facturation_enregistree(sys.argv[1])
        return
    print(f"Facturation de {NOMBRE} abonnements au {format_date(AU, locale=FR)}")

    debut = time.perf_counter()
    seul = list(bill_run(abonnements(NOMBRE), as_of=AU))
    duree_seul = time.perf_counter() - debut

    # Les abonnements partent par paquets de 50, au plus 4 paquets en avance sur la lecture
    # des résultats.
    with grappe_locale() as client:
        travailleurs = len(client.scheduler_info()["workers"])
        debut = time.perf_counter()
        grappe = list(
            bill_run(
                abonnements(NOMBRE),
                as_of=AU,
                executor=client.get_executor(),
                chunk_size=50,
                max_pending=4,
            )
        )
        duree_grappe = time.perf_counter() - debut

    factures = [r.invoice for r in seul if r.invoice is not None]
    total = sum((f.total for f in factures), Money.zero("EUR"))
    lignes = sum(len(f.lines) for f in factures)
    print(f"  dans ce processus : {len(factures)} factures, {lignes} lignes, {duree_seul:.2f} s")
    print(f"  sur la grappe Dask ({travailleurs} processus) : {duree_grappe:.2f} s")
    print(f"  total TTC facturé : {format_money(total, locale=FR)}")
    identiques = seul == grappe
    print(f"Résultats identiques, dans le même ordre : {'oui' if identiques else 'NON'}")
    if not identiques:
        raise SystemExit("les résultats de la grappe diffèrent de ceux du processus seul")
    premiere = factures[0]
    print(
        f"Première facture : {premiere.subscription}, {premiere.customer}, "
        f"{format_money(premiere.total, locale=FR)} TTC"
    )
    print(
        "Sur quelques centaines d'abonnements, la grappe coûte plus qu'elle ne rapporte ; "
        "elle sert pour des millions, répartis sur plusieurs machines."
    )


if __name__ == "__main__":
    main()

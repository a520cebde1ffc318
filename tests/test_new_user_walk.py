"""What a new user's walk through a small French SaaS found (issue 17's follow-ups).

Each through the path the user took: the Python verbs for a cancellation brought forward,
the command line on a SQLite file for dunning, invoices, customers and the portal, the
docs' Python examples.
"""

from datetime import date, timedelta

import pytest

from subbill import Money, Subscription
from subbill.catalog import Catalog
from subbill.customers import Customer
from subbill.decisions import RefusedError
from subbill.dunning import DunningActionKind, dunning_actions
from subbill.dunning_service import run_dunning
from subbill.errors import InvalidTypeError
from subbill.l10n import refusal_text
from subbill.l10n.dunning import action_text
from subbill.periods import ANNUAL
from subbill.service import replace_subscription
from subbill.storage import MemoryStore, SQLiteStore
from subbill.subscriptions import SubscriptionStatus
from tests.test_cli import assert_one_line_error, run, write_json
from tests.test_cli_dunning import GARAGE, billed, subbill
from tests.test_dunning_store import DUE, KINDS, REMINDERS, store_of, subscription_s1, with_invoice

WALK_CATALOG = {
    "currency": "EUR",
    "plans": [
        {"code": "essentiel", "name": "Essentiel", "rank": 1,
         "prices": {"monthly": "29.00", "annual": "290.00"}},
        {"code": "pro", "name": "Pro", "rank": 2,
         "prices": {"monthly": "59.00", "annual": "590.00"}},
    ],
}  # fmt: skip


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


# -- 1. a cancellation brought forward: the refusal says how -----------------------------------


def jean_petit() -> Subscription:
    """S4: Jean Petit's annual Pro from 1 March 2026, cancelled at the period's end on 20 April."""
    catalog = Catalog.from_mapping(WALK_CATALOG)
    sub = Subscription.create(
        id="S4", customer="Jean Petit", catalog=catalog, plan="pro", start=date(2026, 3, 1),
        frequency=ANNUAL,
    )  # fmt: skip
    return sub.cancel(on=date(2026, 4, 20))


def test_cancelling_a_cancelled_subscription_earlier_names_the_verb_that_does_it():
    sub = jean_petit()
    assert sub.cancel_at == date(2027, 3, 1)
    with pytest.raises(RefusedError) as refused:
        sub.cancel(on=date(2026, 5, 31), at_period_end=False)
    assert str(refused.value) == (
        "cannot cancel the subscription: refused (already_cancelled; cancel_at='2027-03-01', "
        "to_end_earlier='bring_cancellation_forward(on=2026-05-31)')"
    )
    assert refusal_text(refused.value.refusal, locale="fr_FR") == (
        "L'abonnement est déjà résilié (fin le 1 mars 2027) : pour qu'il prenne fin plus tôt, "
        "avancez sa résiliation (bring_cancellation_forward)."
    )
    assert refusal_text(refused.value.refusal, locale="en_US") == (
        "The subscription is already cancelled (ends on March 1, 2027): to end it earlier, "
        "bring its cancellation forward (bring_cancellation_forward)."
    )
    # the way the refusal names works: the subscription ends on 31 May
    assert sub.bring_cancellation_forward(on=date(2026, 5, 31)).cancel_at == date(2026, 5, 31)


def test_cancelling_a_cancelled_subscription_at_the_period_end_leaves_the_day_to_choose():
    with pytest.raises(RefusedError) as refused:
        jean_petit().cancel(on=date(2026, 5, 2))
    assert refused.value.refusal.fact("to_end_earlier") == "bring_cancellation_forward(on=…)"


# -- 5. the docs' Python: every keyword they pass exists ---------------------------------------


def _public_classes() -> dict[str, type]:
    """Every public class of subbill's modules, by name (the edge's optional extras left out)."""
    import importlib  # noqa: PLC0415
    import inspect  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415

    import subbill  # noqa: PLC0415

    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(subbill.__path__, "subbill."):
        if info.name.rsplit(".", 1)[-1] in {"dask", "postgres", "einvoice", "pdf", "tour"}:
            continue
        for name, obj in vars(importlib.import_module(info.name)).items():
            if inspect.isclass(obj) and obj.__module__.startswith("subbill"):
                found.setdefault(name, obj)
    return {name: obj for name, obj in found.items() if not name.startswith("_")}


def test_every_keyword_the_docs_pass_to_a_class_of_subbill_is_one_it_takes():
    # docs/dunning.md told users to record a consumer with Customer(id=…, name=…): a
    # TypeError (the field is legal_name). The docs' code (inline and in python blocks) is
    # read for calls of subbill's classes and their methods, each keyword checked against
    # the signature.
    import inspect  # noqa: PLC0415
    import re  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).parent.parent
    classes = _public_classes()
    wrong, checked = [], 0
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        code = [*re.findall(r"`([^`\n]+)`", text), *re.findall(r"```python\n(.*?)```", text, re.S)]
        for span in code:
            for call in re.finditer(r"\b([A-Z]\w+)(?:\.(\w+))?\(([^()]*)", span):
                owner = classes.get(call.group(1))
                target = owner and (getattr(owner, call.group(2)) if call.group(2) else owner)
                if target is None:
                    continue
                parameters = inspect.signature(target).parameters
                if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
                    continue
                for keyword in re.findall(r"(\w+)=", call.group(3)):
                    checked += 1
                    if keyword not in parameters:
                        wrong.append(f"{page.name}: {call.group(0)} -> {keyword}")
    assert wrong == []
    assert checked > 50  # the docs' calls were read


def test_the_dunning_docs_way_to_record_a_consumer_runs():
    from subbill.customers import Customer, CustomerKind  # noqa: PLC0415

    store = MemoryStore()
    store.save_customer(
        Customer(id="Marie Durand", legal_name="Marie Durand", kind=CustomerKind.CONSUMER)
    )
    assert store.get_customer("Marie Durand").kind is CustomerKind.CONSUMER


# -- 2. dunning suspends nothing that has ended ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_dunning_suspends_no_subscription_the_customer_ended_and_its_notice_says_none(
    tmp_path, request, kind
):
    # S1 cancelled by its customer to end on 20 March 2027 (brought forward from 8 April),
    # its 120.00 invoice due 10 March unpaid: the formal notice of 25 March goes out (the
    # money is owed) with no suspension, and the status stays cancelled.
    store = store_of(kind, tmp_path, request)
    cancelled = subscription_s1().cancel(on=date(2027, 3, 10))
    store.save_subscription(cancelled.bring_cancellation_forward(on=date(2027, 3, 20)))
    number = with_invoice(store)
    report = run_dunning(store, as_of=date(2027, 3, 25), policy=REMINDERS)
    ((notice,),) = [[a for a in report.actions if a.step.code == "formal_notice"]]
    assert (notice.invoice, notice.actions) == (number, (DunningActionKind.FORMAL_NOTICE,))
    text = " ".join(action_text(notice, locale="fr_FR").split())
    assert "120,00" in text
    assert "suspendu" not in text
    sub = store.get_subscription("S1")
    status = sub.status(
        as_of=date(2027, 3, 25), invoices=store.invoices(subscription="S1"),
        dunning=store.dunning_events(subscription="S1"),
    )  # fmt: skip
    assert status is SubscriptionStatus.CANCELLED
    assert not any(e.does(DunningActionKind.SUSPEND) for e in store.dunning_events())
    if kind != "memory":
        store.close()


def test_a_subscription_that_ends_after_the_run_is_still_suspended():
    # cancelled at its period's end, 8 April 2027: still running on 25 March
    store = MemoryStore()
    store.save_subscription(subscription_s1().cancel(on=date(2027, 3, 10)))
    with_invoice(store)
    report = run_dunning(store, as_of=date(2027, 3, 25), policy=REMINDERS)
    assert [a.actions for a in report.actions if a.step.code == "formal_notice"] == [
        (DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND)
    ]


def test_dunning_actions_takes_the_ended_subscriptions_typed():
    invoice = invoice_s1()
    on = DUE + timedelta(days=15)
    (kept,) = dunning_actions([invoice], policy=REMINDERS, history=(), as_of=on)
    assert DunningActionKind.SUSPEND in kept.actions
    (ended,) = dunning_actions([invoice], policy=REMINDERS, history=(), as_of=on, ended={"S1"})
    assert ended.actions == (DunningActionKind.FORMAL_NOTICE,)
    with pytest.raises(InvalidTypeError, match="ended"):
        dunning_actions([invoice], policy=REMINDERS, history=(), as_of=on, ended="S1")


def invoice_s1():
    store = MemoryStore()
    return store.get_invoice(with_invoice(store))


def test_subbill_dunning_sends_no_suspension_for_a_subscription_already_ended(capsys, tmp_path):
    # The walk: Garage Petit's annual Pro (F-2026-000001, 816.00 due 1 May 2026), cancelled
    # by the customer at the period's end then brought forward to 10 May; the dunning run of
    # 20 May sends the formal notice without « L'accès au service est suspendu ».
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    store = SQLiteStore(db)
    sub = store.get_subscription("S2").cancel(on=date(2026, 4, 20))
    assert replace_subscription(store, sub.bring_cancellation_forward(on=date(2026, 5, 10)))
    store.close()
    status, out, err = subbill("dunning", "--as-of", "2026-05-20", "--db", db, "--locale", "fr_FR")
    assert (status, err) == (0, "")
    assert "Mise en demeure" in out
    assert "816,00" in out
    assert "suspendu" not in out


# -- 3. a business's invoice states the late-payment mentions ------------------------------------

#: Garage Petit's annual Pro at a 10 % penalty rate (the walk's S1 had one).
GARAGE_AT_10 = {
    "subscriptions": [
        {**GARAGE["subscriptions"][0], "terms": {"late_payment_percent": "10"}},
    ]
}
PENALTY_FR = "Pénalités de retard : 10 % par an (art. L441-10 du Code de commerce)"
INDEMNITY_FR = (
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 € "
    "(art. L441-10 et D441-5 du Code de commerce)"
)


def test_subbill_invoice_show_states_a_business_its_penalty_rate_and_the_40_eur_indemnity(
    capsys, tmp_path
):
    db = billed(capsys, tmp_path, tmp_path / "billing.db", GARAGE_AT_10)
    show = ("invoice", "show", "F-2026-000001", "--db", db, "--locale", "fr_FR")
    status, out, err = run(capsys, *show)
    assert (status, err) == (0, "")
    assert out.splitlines()[-2:] == [PENALTY_FR, INDEMNITY_FR]
    # a consumer is given neither (art. L441-10 binds businesses)
    assert run(capsys, "customers", "set-kind", "Garage Petit", "consumer", "--db", db)[0] == 0
    status, out, err = run(capsys, *show)
    assert (status, err) == (0, "")
    assert "Pénalités" not in out
    assert "Indemnité" not in out


def test_invoice_text_and_html_state_the_indemnity_with_the_rate_never_to_a_consumer():
    from subbill.billing import BillingTerms  # noqa: PLC0415
    from subbill.customers import Customer, CustomerKind  # noqa: PLC0415
    from subbill.l10n import invoice_html, invoice_text  # noqa: PLC0415

    invoice = invoice_s1()
    terms = BillingTerms(late_payment_percent="10")
    text = invoice_text(invoice, locale="fr_FR", terms=terms)
    assert text.splitlines()[-2:] == [PENALTY_FR, INDEMNITY_FR]
    html = invoice_html(invoice, locale="en_US", terms=terms)
    assert "Fixed indemnity for recovery costs in case of late payment: €40" in html
    business = Customer(id="ACME", kind=CustomerKind.BUSINESS)
    assert invoice_text(invoice, locale="fr_FR", terms=terms, buyer=business) == text
    consumer = Customer(id="ACME", kind=CustomerKind.CONSUMER)
    plain = invoice_text(invoice, locale="fr_FR")
    assert invoice_text(invoice, locale="fr_FR", terms=terms, buyer=consumer) == plain
    assert "40 €" not in invoice_html(invoice, locale="fr_FR", terms=terms, buyer=consumer)
    with pytest.raises(InvalidTypeError, match="buyer"):
        invoice_text(invoice, locale="fr_FR", buyer="ACME")


# -- 4. customers: a typo is said, set-kind offers every id it accepts ---------------------------


def test_customers_load_warns_of_an_id_nothing_names_with_the_closest_one(capsys, tmp_path):
    # The walk: "Marie Durant" loaded as a consumer while the subscription names "Marie
    # Durand": the real consumer would stay a business, claimed late-payment costs.
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    path = write_json(
        tmp_path / "typo.json", {"customers": [{"id": "Garage Petiit", "kind": "consumer"}]}
    )
    status, out, err = run(capsys, "customers", "load", path, "--db", db)
    assert status == 0
    assert out == f"1 customer record saved to {db} (0 business, 1 consumer).\n"
    assert err == (
        f"subbill: warning: no subscription nor invoice in {db} names customer "
        "'Garage Petiit' (its record is saved), did you mean 'Garage Petit'?\n"
    )
    # the right id: no warning
    right = write_json(tmp_path / "right.json", {"customers": [{"id": "Garage Petit"}]})
    assert run(capsys, "customers", "load", right, "--db", db) == (
        0, f"1 customer record saved to {db} (1 business, 0 consumer).\n", ""
    )  # fmt: skip


def test_customers_load_into_a_store_with_no_subscription_yet_warns_of_nothing(capsys, tmp_path):
    db = tmp_path / "billing.db"
    path = write_json(tmp_path / "c.json", {"customers": [{"id": "Marie Durand"}]})
    assert run(capsys, "customers", "load", path, "--db", db)[::2] == (0, "")


def test_set_kind_offers_every_customer_it_accepts(capsys, tmp_path):
    # The walk: only the customers with a record were offered, not those a subscription
    # names (which set-kind accepts): "Boulangerie Martinn" got no "did you mean".
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    store = SQLiteStore(db)
    store.save_customer(Customer(id="Atelier Dupont"))  # a record nothing names
    store.close()
    line = assert_one_line_error(
        *run(capsys, "customers", "set-kind", "Zorglub", "consumer", "--db", db), 1
    )
    assert line.endswith("(nothing saved); expected one of Atelier Dupont, Garage Petit")
    line = assert_one_line_error(
        *run(capsys, "customers", "set-kind", "Garage Petiit", "consumer", "--db", db), 1
    )
    assert line.endswith("(nothing saved), did you mean 'Garage Petit'?")


# -- 6. a credit note is shown as one, and the credited invoice shows it -----------------------


def test_subbill_invoice_show_words_a_credit_note_as_issued_and_the_invoice_shows_its_credit(
    capsys, tmp_path
):
    # The walk: a cancellation brought forward to 31 May, billed on 1 June, gave a credit
    # note shown « à payer » with a due date, and an invoice whose amount due fell from
    # 816.00 to 172.15 with no trace of the credit note.
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    store = SQLiteStore(db)
    sub = store.get_subscription("S2").cancel(on=date(2026, 4, 20))
    assert replace_subscription(store, sub.bring_cancellation_forward(on=date(2026, 5, 31)))
    store.close()
    assert run(capsys, "bill-run", "--as-of", "2026-06-01", "--db", db)[1].endswith(
        "0 invoices and 1 credit note created (F-2026-000002).\nTotal EUR: -€643.85\n"
    )

    def shown(number, locale):
        status, out, err = run(capsys, "invoice", "show", number, "--db", db, "--locale", locale)
        assert (status, err) == (0, "")
        return out.splitlines()

    note = shown("F-2026-000002", "fr_FR")
    assert note[:4] == [
        "Avoir F-2026-000002 (émis)",
        "Client : Garage Petit    Abonnement : S2",
        "Date : 1 juin 2026",
        "Avoir sur la facture : F-2026-000001 du 1 avril 2026",  # its number and date
    ]
    # nothing « à payer »: the note ends with how it settles (issue 17 follow-up, review 83)
    assert [line.split() for line in note[-2:]] == [
        ["Total", "TTC", "-643,85", "€"],
        ["Imputé", "sur", "la", "facture", "F-2026-000001", "643,85", "€"],
    ]
    assert shown("F-2026-000002", "en_US")[:3] == [
        "Credit note F-2026-000002 (issued)",
        "Customer: Garage Petit    Subscription: S2",
        "Date: June 1, 2026",
    ]
    invoice = shown("F-2026-000001", "fr_FR")
    assert [line.split("  ")[0] for line in invoice[-3:]] == [
        "Total TTC", "Avoir F-2026-000002 du 1 juin 2026", "Reste à payer",
    ]  # fmt: skip
    assert [line.split()[-2] for line in invoice[-3:]] == ["816,00", "-643,85", "172,15"]
    assert "Credit note F-2026-000002 of June 1, 2026  -€643.85" in shown("F-2026-000001", "en_US")


# -- 7. the README's figures and install lines ---------------------------------------------------


def test_the_readme_counts_the_names_subbill_re_exports():
    # The README said 64 while subbill.__all__ held 69.
    import re  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    import subbill  # noqa: PLC0415

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (count,) = re.findall(r"re-exports the (\d+) names", readme)
    assert int(count) == len(subbill.__all__)


def test_the_readme_says_what_pdf_invoices_need_installed():
    from pathlib import Path  # noqa: PLC0415

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (line,) = [line for line in readme.splitlines() if "--pdf facture.pdf" in line]
    assert "pip install -e '.[pdf]'" in line


def test_subbill_portal_offers_the_closest_customer_to_a_mistyped_one(capsys, tmp_path):
    # The walk: `subbill portal "Atelier Dupon"` named no one, unlike dunning resolve.
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    line = assert_one_line_error(
        *run(capsys, "portal", "Garage Peti", "--as-of", "2026-04-10", "--db", db), 1
    )
    assert line == (
        f"subbill: error: no customer 'Garage Peti' in {db}: no customer record, quote, order, "
        "invoice, subscription or wallet names it, did you mean 'Garage Petit'?"
    )


def test_a_penalty_line_shows_no_quantity_times_unit_price_that_does_not_make_its_amount():
    # The walk: « Qté 1 × Prix unitaire 70,80 € = Montant 1,38 € » on a costs document; the
    # penalty is 70,80 € × 10 % × 71/365, which its explanation line gives.
    from subbill.dunning import late_payment_costs  # noqa: PLC0415
    from subbill.l10n import invoice_text  # noqa: PLC0415
    from tests.test_dunning import an_invoice, pay  # noqa: PLC0415

    paid = pay(an_invoice("1000.00"), "1000.00", DUE + timedelta(days=20))
    costs = late_payment_costs(paid, percent="10", as_of=DUE + timedelta(days=20))
    text = invoice_text(costs.document.finalize(number="F-2027-000002"), locale="fr_FR")
    text = text.replace("\xa0", " ").replace("\u202f", " ")
    (penalty,) = [line for line in text.splitlines() if line.startswith("Pénalités de retard")]
    assert penalty.split() == [
        "Pénalités", "de", "retard", "(F-2027-000001)", "du", "11", "au", "30", "mars", "2027",
        "5,48", "€", "5,48", "€",
    ]  # fmt: skip
    assert "1 000,00 € × 10 % × 20/365" in text  # its explanation prices it
    (indemnity,) = [line for line in text.splitlines() if line.startswith("Indemnité")]
    assert indemnity.split()[-7:] == ["1", "40,00", "€", "40,00", "€", "40,00", "€"]

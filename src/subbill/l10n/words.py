"""The French and English words subbill shows, keyed by (kind, code), and how to look them up.

One table, :data:`WORDS`, holds every word and phrase the documents and reports print: the
statuses and kinds of the enums people see (looked up by the enum member, see :func:`label`),
the headings of the documents, why a charge started mid-cycle (:func:`reason_label`), the
refusals, findings and changes (``{placeholders}`` filled from their facts), and the phrases
of each renderer of :mod:`subbill.l10n`, of the PDF and of the command line. A code alone
never picks a word, since two kinds may share one (an invoice ``open`` is « À payer », a
ticket ``open`` is « Ouvert »). French locales get the French words, every other locale the
English ones.

>>> words_for("ticket_status", "open", locale="fr_FR"), words_for("invoice_status", "open",
...     locale="fr_FR")
('Ouvert', 'À payer')
>>> phrase("review", "to_look_at", locale="en_US", count=2)
'2 point(s) to look at.'
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import date
from typing import Final

from subbill._validate import escape_controls
from subbill.catalog import ChangeTiming
from subbill.customers import CustomerKind
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import DocumentKind, InvoiceStatus, LineKind
from subbill.l10n._format import format_date, is_french
from subbill.licenses import EntryKind
from subbill.portal import InvoiceLabel, TicketStatus
from subbill.quotes import QuoteStatus
from subbill.renewals import RenewalStatus
from subbill.subscriptions import ChangeDirection, SpanKind, SubscriptionStatus
from subbill.usage import UsageState

__all__ = [
    "WORDS",
    "count_words",
    "fill",
    "inline",
    "knows_finding",
    "knows_label",
    "knows_refusal",
    "label",
    "phrase",
    "pick",
    "reason_label",
    "words_for",
]

#: Every word subbill shows, keyed by (kind, code), as (French, English). Statuses are written
#: as they stand alone in a badge or a table cell (capitalised, and in French agreeing with
#: the thing they describe: une facture « Payée », un abonnement « Actif »); a sentence that
#: embeds one lowers its first letter (:func:`inline`). The descriptive words (reasons,
#: directions, colours, kinds of line) are lower case. A phrase holds ``{placeholders}`` that
#: :func:`phrase` fills; it carries no indentation, which is the layout's business.
WORDS: Final[Mapping[tuple[str, str], tuple[str, str]]] = {
    # a subscription (un abonnement), on a date
    ("subscription_status", "scheduled"): ("Planifié", "Scheduled"),
    ("subscription_status", "active"): ("Actif", "Active"),
    ("subscription_status", "cancelled_at_period_end"): (
        "Résilié en fin de période",
        "Cancelled at period end",
    ),
    ("subscription_status", "cancelled"): ("Résilié", "Cancelled"),
    ("subscription_status", "expired"): ("Expiré", "Expired"),
    ("subscription_status", "unpaid"): ("Impayé", "Unpaid"),
    # a quote (un devis)
    ("quote_status", "draft"): ("Brouillon", "Draft"),
    ("quote_status", "sent"): ("Envoyé", "Sent"),
    ("quote_status", "accepted"): ("Accepté", "Accepted"),
    ("quote_status", "rejected"): ("Refusé", "Rejected"),
    ("quote_status", "changes_requested"): ("Modifications demandées", "Changes requested"),
    ("quote_status", "cancelled"): ("Annulé", "Cancelled"),
    ("quote_status", "expired"): ("Expiré", "Expired"),
    # an invoice (une facture) as the portal labels it before its amount
    ("invoice_label", "paid"): ("Payée", "Paid"),
    ("invoice_label", "unpaid"): ("Non payée", "Unpaid"),
    ("invoice_label", "overdue"): ("En retard", "Overdue"),
    ("invoice_label", "partially_paid"): ("Partiellement payée", "Partially paid"),
    ("invoice_label", "credit_note"): ("Avoir", "Credit note"),
    ("invoice_label", "draft"): ("Brouillon", "Draft"),
    ("invoice_label", "void"): ("Annulée", "Void"),
    # an invoice's own status and kind, in its header
    ("invoice_status", "draft"): ("Brouillon", "Draft"),
    ("invoice_status", "open"): ("À payer", "Open"),
    ("invoice_status", "partially_paid"): ("Partiellement payée", "Partially paid"),
    ("invoice_status", "paid"): ("Payée", "Paid"),
    ("invoice_status", "void"): ("Annulée", "Void"),
    ("document_kind", "invoice"): ("Facture", "Invoice"),
    ("document_kind", "credit_note"): ("Avoir", "Credit note"),
    # a support ticket (un ticket)
    ("customer_kind", "business"): ("Professionnel", "Business"),
    ("customer_kind", "consumer"): ("Particulier", "Consumer"),
    ("ticket_status", "open"): ("Ouvert", "Open"),
    ("ticket_status", "in_progress"): ("En cours", "In progress"),
    ("ticket_status", "closed"): ("Fermé", "Closed"),
    # a licence account (un compte) on the reseller's dashboard, and its colour
    ("renewal_status", "not_started"): ("Pas encore commencé", "Not started"),
    ("renewal_status", "active"): ("Actif", "Active"),
    ("renewal_status", "expiring_soon"): (
        "Expire dans moins de 3 mois",
        "Expires within 3 months",
    ),
    ("renewal_status", "expired"): ("Expiré", "Expired"),
    ("renewal_status", "renewed"): ("Renouvelé", "Renewed"),
    ("renewal_colour", "blue"): ("bleu", "blue"),
    ("renewal_colour", "orange"): ("orange", "orange"),
    ("renewal_colour", "red"): ("rouge", "red"),
    ("renewal_colour", "green"): ("vert ✓", "green ✓"),
    ("renewal_colour", "none"): ("—", "—"),
    # a resource against its limit, in the monthly review
    ("usage_state", "ok"): ("Dans les limites", "Within limits"),
    ("usage_state", "near_limit"): ("Proche de la limite", "Near the limit"),
    ("usage_state", "at_limit"): ("Limite atteinte", "Limit reached"),
    ("usage_state", "over"): ("Limite dépassée", "Over the limit"),
    # descriptive words
    ("line_kind", "recurring"): ("récurrent", "recurring"),
    ("line_kind", "one_time"): ("ponctuel", "one-time"),
    ("line_kind", "proration_charge"): ("au prorata", "prorated charge"),
    ("line_kind", "proration_credit"): ("crédit au prorata", "prorated credit"),
    ("line_kind", "adjustment"): ("ajustement", "adjustment"),
    ("change_direction", "upgrade"): ("montée de plan", "upgrade"),
    ("change_direction", "downgrade"): ("descente de plan", "downgrade"),
    ("change_direction", "same"): ("même palier", "same tier"),
    ("change_timing", "immediate"): ("immédiatement, au prorata", "now, pro rata"),
    ("change_timing", "period_end"): ("à la prochaine période", "at the next period"),
    ("span_kind", "plan"): ("plan", "plan"),
    ("span_kind", "module"): ("module", "module"),
    ("span_kind", "addon"): ("option", "add-on"),
    ("ledger_entry", "grant"): ("achat à l'éditeur", "grant"),
    ("ledger_entry", "transfer"): ("transfert", "transfer"),
    ("ledger_entry", "assignment"): ("attribution", "assignment"),
    ("ledger_entry", "renewal"): ("renouvellement", "renewal"),
    ("ledger_entry", "return"): ("retour", "return"),
    # why a charge started mid-cycle (a charge's ``reason``)
    ("reason", "plan_change"): ("changement de plan", "plan change"),
    ("reason", "quantity_change"): ("changement de quantité", "quantity change"),
    ("reason", "price_change"): ("changement de prix", "price change"),
    ("reason", "module_activated"): ("module activé", "module switched on"),
    ("reason", "addon_subscribed"): ("option souscrite", "add-on subscribed"),
    ("reason", "change"): ("modification", "change"),
    # the headings of documents (invoices, PDFs, the command line)
    ("heading", "draft_number"): ("brouillon", "draft"),
    ("heading", "customer"): ("Client", "Customer"),
    ("heading", "subscription"): ("Abonnement", "Subscription"),
    ("heading", "corrects"): ("Avoir sur la facture", "Corrects invoice"),
    ("heading", "issued_on"): ("Date", "Date"),
    ("heading", "due_on"): ("Échéance", "Due"),
    ("heading", "description"): ("Description", "Description"),
    ("heading", "period"): ("Période", "Period"),
    ("heading", "quantity"): ("Qté", "Qty"),
    ("heading", "unit_price"): ("Prix unitaire", "Unit price"),
    ("heading", "amount"): ("Montant", "Amount"),
    ("heading", "discount"): ("Remise", "Discount"),
    ("heading", "net"): ("Net", "Net"),
    ("heading", "subtotal"): ("Sous-total", "Subtotal"),
    ("heading", "discounts"): ("Remises", "Discounts"),
    ("heading", "total_net"): ("Total HT", "Total excl. tax"),
    ("heading", "vat"): ("TVA", "VAT"),
    ("heading", "tax_on"): ("{rate} sur {base}", "{rate} on {base}"),
    ("heading", "total"): ("Total TTC", "Total incl. tax"),
    ("heading", "credit_applied"): ("Crédit client appliqué", "Customer credit applied"),
    ("heading", "amount_paid"): ("Déjà payé", "Paid"),
    ("heading", "amount_due"): ("Reste à payer", "Amount due"),
    ("heading", "unused_credit"): ("crédit de la part non utilisée", "credit for the unused part"),
    ("heading", "one_time"): ("facturé une fois", "billed once"),
    # why an action was refused (a Refused code), its facts in {placeholders}
    ("refusal", "unknown_module"): (
        "Le module {module} n'existe pas.",
        "There is no module {module}.",
    ),
    ("refusal", "unknown_addon"): ("L'option {addon} n'existe pas.", "There is no add-on {addon}."),
    ("refusal", "subscription_not_live"): (
        "L'abonnement n'est pas en cours le {on}.",
        "The subscription is not running on {on}.",
    ),
    ("refusal", "already_active"): ("{subject} est déjà actif.", "{subject} is already active."),
    ("refusal", "already_scheduled"): (
        "{subject} est déjà prévu à partir du {since}.",
        "{subject} is already scheduled from {since}.",
    ),
    ("refusal", "included_in_plan"): (
        "Le module {module} est déjà inclus dans votre plan {plan}.",
        "The module {module} is already included in your plan {plan}.",
    ),
    ("refusal", "requires_plan"): (
        "Le module {module} n'est disponible qu'avec les plans : {plans}.",
        "The module {module} is only available with the plans: {plans}.",
    ),
    ("refusal", "requires_plan_minimum"): (
        "Le module {module} nécessite le plan {minimum} ou supérieur.",
        "The module {module} requires plan {minimum} or above.",
    ),
    ("refusal", "requires_addon"): (
        "{subject} nécessite l'option complémentaire {addons}, non souscrite.",
        "{subject} requires the add-on {addons}, which is not subscribed.",
    ),
    ("refusal", "no_price_for_frequency"): (
        "{subject} n'est pas proposé avec cette fréquence de facturation ({frequency}).",
        "{subject} is not sold with this billing frequency ({frequency}).",
    ),
    ("refusal", "not_active"): ("{subject} n'est pas actif.", "{subject} is not active."),
    ("refusal", "required_by"): (
        "L'option {addon} est nécessaire aux modules actifs : {modules}.",
        "The add-on {addon} is needed by the active modules: {modules}.",
    ),
    ("refusal", "already_cancelled"): (
        "L'abonnement est déjà résilié (fin le {cancel_at}).",
        "The subscription is already cancelled (ends on {cancel_at}).",
    ),
    ("refusal", "same_plan"): (
        "Vous êtes déjà sur le plan {plan}.",
        "You are already on plan {plan}.",
    ),
    ("refusal", "in_use"): (
        (
            "Ce moyen de paiement est utilisé par les abonnements {subscriptions} : indiquez celui "
            "qui le remplace."
        ),
        (
            "This payment method is used by the subscriptions {subscriptions}: name the one that "
            "replaces it."
        ),
    ),
    ("refusal", "only_method"): (
        (
            "Impossible de supprimer ce moyen de paiement : c'est le seul des abonnements actifs "
            "{subscriptions}. Ajoutez-en un autre d'abord."
        ),
        (
            "This payment method cannot be deleted: it is the only one of the active subscriptions "
            "{subscriptions}. Add another one first."
        ),
    ),
    ("refusal", "not_enough_licences"): (
        (
            "Licences insuffisantes chez {holder} pour {product} : il en faut {needed}, il en "
            "reste {available}."
        ),
        (
            "Not enough {product} licences left with {holder}: {needed} needed, {available} "
            "available."
        ),
    ),
    ("refusal", "already_renewed"): (
        "Le compte {customer} ({product}) est déjà renouvelé.",
        "The account of {customer} ({product}) is already renewed.",
    ),
    ("refusal", "usage_over_limits"): (
        "Le plan {plan} ne suffit pas pour votre utilisation actuelle : {resources}.",
        "Plan {plan} does not fit your current usage: {resources}.",
    ),
    # what the monthly review found (a Finding code)
    ("finding", "plan_ok"): (
        "Votre plan {plan} correspond à votre activité.",
        "Your plan {plan} fits your activity.",
    ),
    ("finding", "plan_too_small"): (
        "Votre utilisation dépasse les limites du plan {plan} : passez au plan {next_step}.",
        "Your usage exceeds the limits of plan {plan}: move up to plan {next_step}.",
    ),
    ("finding", "plan_too_large"): (
        (
            "Le plan {next_step} suffirait : descendre d'un palier économiserait {amount} par "
            "période."
        ),
        "Plan {next_step} would do: one step down would save {amount} per period.",
    ),
    ("finding", "module_unused"): (
        (
            "Le module {module} n'a pas servi ce mois-ci : le désactiver économiserait {amount} "
            "par période."
        ),
        (
            "The module {module} was not used this month: switching it off would save {amount} per "
            "period."
        ),
    ),
    ("finding", "module_unused_free"): (
        (
            "Le module {module} n'a pas servi ce mois-ci : le désactiver clarifierait votre "
            "interface."
        ),
        "The module {module} was not used this month: switching it off would tidy your screens.",
    ),
    ("finding", "modules_used"): (
        "Tous les modules actifs ont servi ce mois-ci.",
        "Every active module was used this month.",
    ),
    ("finding", "resource_near_limit"): (
        "{resource} : {used} sur {limit} ({percent} %), proche de la limite.",
        "{resource}: {used} of {limit} ({percent} %), near the limit.",
    ),
    ("finding", "resource_at_limit"): (
        "{resource} : {used} sur {limit}, limite atteinte.",
        "{resource}: {used} of {limit}, limit reached.",
    ),
    ("finding", "resource_over_limit"): (
        "{resource} : {used} pour une limite de {limit}, limite dépassée.",
        "{resource}: {used} against a limit of {limit}, over the limit.",
    ),
    ("finding", "usage_ok"): (
        "Aucune ressource n'approche de sa limite.",
        "No resource is near its limit.",
    ),
    ("finding", "invoice_matches"): (
        "La facture {invoice} correspond à votre configuration.",
        "Invoice {invoice} matches your configuration.",
    ),
    ("finding", "invoice_mismatch"): (
        (
            "La facture {invoice} ne correspond pas à votre configuration : facturé {billed}, "
            "attendu {expected}."
        ),
        (
            "Invoice {invoice} does not match your configuration: billed {billed}, expected "
            "{expected}."
        ),
    ),
    ("finding", "no_recent_invoice"): ("Aucune facture ce mois-ci.", "No invoice this month."),
    ("finding", "invoice_overdue"): (
        "La facture {invoice} est en retard : {amount} restent à payer depuis le {due_on}.",
        "Invoice {invoice} is overdue: {amount} still due since {due_on}.",
    ),
    ("finding", "payment_method_unchecked"): (
        (
            "Moyen de paiement {method} : non vérifié (donnez les moyens de paiement "
            "enregistrés pour vérifier son expiration)."
        ),
        (
            "Payment method {method}: not checked (give the saved payment methods to check its "
            "expiry)."
        ),
    ),
    ("finding", "payment_method_missing"): (
        "Aucun moyen de paiement actif : ajoutez-en un.",
        "No active payment method: add one.",
    ),
    ("finding", "payment_method_expired"): (
        "Votre moyen de paiement {method} a expiré : mettez-le à jour.",
        "Your payment method {method} has expired: update it.",
    ),
    ("finding", "payment_method_expiring"): (
        (
            "Votre moyen de paiement {method} expire avant le prochain prélèvement du "
            "{next_billing} : mettez-le à jour."
        ),
        (
            "Your payment method {method} expires before the next charge on {next_billing}: update "
            "it."
        ),
    ),
    ("finding", "payment_method_ok"): (
        "Votre moyen de paiement {method} est valide.",
        "Your payment method {method} is valid.",
    ),
    # one event of a subscription's history (a Change kind)
    ("change", "upgrade"): (
        "montée vers le plan {code} (depuis {previous})",
        "upgrade to plan {code} (from {previous})",
    ),
    ("change", "downgrade"): (
        "descente vers le plan {code} (depuis {previous})",
        "downgrade to plan {code} (from {previous})",
    ),
    ("change", "same"): (
        "changement vers le plan {code} (depuis {previous})",
        "change to plan {code} (from {previous})",
    ),
    ("change", "module_activated"): ("module {code} activé", "module {code} switched on"),
    ("change", "module_deactivated"): ("module {code} désactivé", "module {code} switched off"),
    ("change", "addon_subscribed"): ("option {code} souscrite", "add-on {code} subscribed"),
    ("change", "addon_cancelled"): ("option {code} résiliée", "add-on {code} cancelled"),
    ("change", "cancellation"): ("résiliation demandée", "cancellation requested"),
    ("change", "price_change"): ("nouveau prix de {code}", "new price of {code}"),
    ("change", "quantity_change"): ("nouveau nombre de licences de {code}", "new seats of {code}"),
    ("change", "payment_method_changed"): (
        "nouveau mode de paiement ({code})",
        "new payment method ({code})",
    ),
    # the customer portal: its titles and headings
    ("portal", "quotes"): ("Devis", "Quotes"),
    ("portal", "no_quotes"): ("Aucun devis.", "No quotes."),
    ("portal", "orders"): ("Commandes", "Orders"),
    ("portal", "invoices"): ("Factures", "Invoices"),
    ("portal", "no_invoices"): ("Aucune facture.", "No invoices."),
    ("portal", "subscriptions"): ("Abonnements", "Subscriptions"),
    ("portal", "no_subscriptions"): ("Aucun abonnement.", "No subscriptions."),
    ("portal", "tickets"): ("Tickets", "Tickets"),
    ("portal", "payment_methods"): ("Moyens de paiement", "Payment methods"),
    ("portal", "reference"): ("Référence", "Reference"),
    ("portal", "valid_until"): ("Valide jusqu'au", "Valid until"),
    ("portal", "status"): ("Statut", "Status"),
    ("portal", "on_accepting"): ("À l'acceptation (TTC)", "On accepting (incl. tax)"),
    ("portal", "then"): ("Puis", "Then"),
    ("portal", "ordered_on"): ("Date", "Date"),
    ("portal", "items"): ("Articles", "Items"),
    ("portal", "paid_now"): ("Payé", "Paid"),
    ("portal", "number"): ("Numéro", "Number"),
    ("portal", "issued_on"): ("Date", "Date"),
    ("portal", "due_on"): ("Échéance", "Due"),
    ("portal", "total"): ("Total TTC", "Total incl. tax"),
    ("portal", "amount_due"): ("Reste à payer", "Amount due"),
    ("portal", "plan"): ("Plan", "Plan"),
    ("portal", "apps"): ("Applications", "Apps"),
    ("portal", "frequency"): ("Facturation", "Billing"),
    ("portal", "next_billing"): ("Prochaine facture", "Next invoice"),
    ("portal", "lines"): ("Lignes", "Lines"),
    ("portal", "next_amount"): ("Montant TTC", "Amount incl. tax"),
    ("portal", "payment_method"): ("Moyen de paiement", "Payment method"),
    ("portal", "ticket_reference"): ("# Réf", "# Ref"),
    ("portal", "subject"): ("Sujet", "Subject"),
    ("portal", "opened_on"): ("Ouvert le", "Opened"),
    ("portal", "updated_on"): ("Mis à jour le", "Updated"),
    ("portal", "method"): ("Moyen", "Method"),
    ("portal", "default"): ("Par défaut", "Default"),
    ("portal", "validity"): ("Validité", "Validity"),
    ("portal", "expired"): ("Expiré", "Expired"),
    ("portal", "valid"): ("Valide", "Valid"),
    # the columns of the renewal dashboard
    ("dashboard_column", "customer"): ("Nom client", "Customer"),
    ("dashboard_column", "product"): ("Abonnement", "Product"),
    ("dashboard_column", "reseller"): ("Nom revendeur", "Reseller"),
    ("dashboard_column", "start"): ("Date de début", "Start"),
    ("dashboard_column", "end"): ("Date de fin", "End"),
    ("dashboard_column", "years"): ("Durée (ans)", "Years"),
    ("dashboard_column", "seats"): (
        "Licences à renouveler (utilisateurs)",
        "Licences to renew (seats)",
    ),
    ("dashboard_column", "colour"): ("Couleur", "Colour"),
    # the portal's sentences, and how its tables write a day (30/09/2026, Sep 30, 2026)
    ("portal", "title"): (
        "Portail client de {customer} au {day}",
        "Customer portal of {customer} on {day}",
    ),
    ("portal", "next_payment"): ("{amount} le {day}", "{amount} on {day}"),
    ("date_format", "table"): ("short", "medium"),
    # the renewal dashboard
    ("dashboard", "title"): ("Tableau de bord au {day}", "Dashboard on {day}"),
    ("dashboard", "to_renew"): (
        "Nombre de sociétés à renouveler : {count}",
        "Companies to renew: {count}",
    ),
    ("dashboard", "by_reseller"): ("dont {reseller} : {count}", "{reseller}: {count}"),
    ("dashboard", "no_reseller"): ("sans revendeur", "no reseller"),
    ("dashboard", "no_accounts"): ("Aucun compte de licences.", "No licence accounts."),
    # the renewal form, as filled by `subbill renew`
    ("renewal", "title"): (
        "Renouvellement du compte {customer} — {product}, le {day}",
        "Renewal of {customer} — {product}, on {day}",
    ),
    ("renewal", "available"): (
        "Licences restantes à attribuer par {pool} : {count}",
        "Licences left to allocate by {pool}: {count}",
    ),
    ("renewal", "years"): (
        "Nombre d'années de renouvellement : {count}",
        "Years of renewal: {count}",
    ),
    ("renewal", "seats"): (
        "Licences utilisateurs affectées à {customer} : {count}",
        "User licences assigned to {customer}: {count}",
    ),
    ("renewal", "used"): (
        "Licences utilisées : {count} ({seats} × {years})",
        "Licences used: {count} ({seats} × {years})",
    ),
    ("renewal", "left"): (
        "Licences restantes après réabonnement : {count}",
        "Licences left after renewal: {count}",
    ),
    ("renewal", "new_term"): ("Nouvelle période : {term}", "New term: {term}"),
    ("renewal", "term"): ("du {start} au {last}", "{start} to {last}"),
    ("renewal", "saved"): ("Renouvellement enregistré dans {db}.", "Renewal saved to {db}."),
    # the monthly review, as `subbill review` prints it: a heading per question of the review
    ("review", "title"): (
        "Point mensuel de l'abonnement {subscription} au {day}",
        "Monthly review of {subscription} on {day}",
    ),
    ("review", "missing"): ("Manque : {items}.", "Missing: {items}."),
    ("review", "unexpected"): ("En trop : {items}.", "Extra: {items}."),
    ("review", "unchecked_method"): (
        (
            "Moyen de paiement {method} : non vérifié (donnez-le dans payment_methods du fichier "
            "d'utilisation pour vérifier son expiration)."
        ),
        (
            "Payment method {method}: not checked (give it in the usage file's payment_methods to "
            "check its expiry)."
        ),
    ),
    ("review", "to_look_at"): ("{count} point(s) à voir.", "{count} point(s) to look at."),
    ("review", "nothing_to_report"): ("Rien à signaler.", "Nothing to report."),
    ("review_heading", "plan"): ("Plan actif", "Plan"),
    ("review_heading", "modules"): ("Modules activés", "Modules"),
    ("review_heading", "usage"): ("Utilisation", "Usage"),
    ("review_heading", "billing"): ("Facturation", "Billing"),
    ("review_heading", "payment_method"): ("Moyen de paiement", "Payment method"),
    ("severity", "info"): ("ok", "ok"),
    ("severity", "warning"): ("à voir", "check"),
    ("severity", "action"): ("à faire", "to do"),
    # an invoice explained from its subscription, and the subject of a refusal
    ("story", "dated_change"): ("le {day} : {change}", "on {day}: {change}"),
    ("story", "active"): ("actif {spans}", "active {spans}"),
    ("story", "changes"): ("Changements pendant la période :", "Changes during the period:"),
    ("story", "no_change"): (
        "Aucun changement pendant la période.",
        "No change during the period.",
    ),
    ("story_item", "plan"): ("plan", "plan"),
    ("story_item", "module"): ("module", "module"),
    ("story_item", "addon"): ("option", "add-on"),
    ("story_item", "line"): ("ligne du devis", "quoted line"),
    ("story_item", "other"): ("autre", "other"),
    ("subject", "module"): ("Le module {module}", "The module {module}"),
    ("subject", "addon"): ("L'option {addon}", "The add-on {addon}"),
    ("subject", "plan"): ("Le plan {plan}", "Plan {plan}"),
    ("subject", "item"): ("Cet élément", "This item"),
    # a checkout (`subbill quote`) and the purchase that pays it
    ("checkout", "paid_on"): ("Paiement le {day}", "Payment on {day}"),
    ("checkout", "due_today"): ("À payer aujourd'hui", "Due today"),
    ("checkout", "nothing_due"): ("Rien à payer aujourd'hui.", "Nothing to pay today."),
    ("checkout", "upcoming"): ("Paiements à venir", "Upcoming payments"),
    ("checkout", "none_upcoming"): ("Aucun.", "None."),
    ("checkout", "excluding_tax"): ("HT", "excl. tax"),
    ("purchase", "stored_already"): (
        "Achat {reference} déjà enregistré : rien n'a changé.",
        "Purchase {reference} was stored already: nothing changed.",
    ),
    ("purchase", "order"): ("Commande {order}", "Order {order}"),
    ("purchase", "invoice"): (
        "Facture {number} : {total} ({status})",
        "Invoice {number}: {total} ({status})",
    ),
    ("purchase", "subscription"): (
        "Abonnement {subscription} : {status}, première facturation le {first}",
        "Subscription {subscription}: {status}, first billed on {first}",
    ),
    # the explanation of a prorated amount
    ("explanation", "days_of_cycle"): (
        ", soit {days} sur les {whole} de la période {cycle}",
        ", {days} of the {whole} of the period {cycle}",
    ),
    ("explanation", "thirty_day_basis"): (" (base 30/360)", " (30/360 basis)"),
    # the PDF's legal mentions of a party
    ("pdf", "siret"): ("SIRET : {siret}", "SIRET: {siret}"),
    ("pdf", "vat_number"): ("N° TVA : {vat_number}", "VAT number: {vat_number}"),
    # counted things, singular and plural (French: 0 and 1 are singular)
    ("count", "day"): ("{count} jour", "{count} day"),
    ("count", "days"): ("{count} jours", "{count} days"),
    ("count", "user"): ("{count} utilisateur", "{count} user"),
    ("count", "users"): ("{count} utilisateurs", "{count} users"),
    ("count", "year"): ("{count} an", "{count} year"),
    ("count", "years"): ("{count} ans", "{count} years"),
    # French typography: a space before « : » and « ; »
    ("typography", "colon"): (" : ", ": "),
    ("typography", "semicolon"): (" ; ", "; "),
}

#: The kind of each enum whose values people see; its members are looked up by their value.
_KINDS: dict[type[enum.Enum], str] = {
    SubscriptionStatus: "subscription_status",
    QuoteStatus: "quote_status",
    InvoiceLabel: "invoice_label",
    InvoiceStatus: "invoice_status",
    DocumentKind: "document_kind",
    TicketStatus: "ticket_status",
    CustomerKind: "customer_kind",
    RenewalStatus: "renewal_status",
    UsageState: "usage_state",
    LineKind: "line_kind",
    ChangeDirection: "change_direction",
    ChangeTiming: "change_timing",
    SpanKind: "span_kind",
    EntryKind: "ledger_entry",
}

#: The kinds whose codes :func:`label` reads alone (``label("green")``): those of the enums
#: people see, and the colours of the renewal dashboard. Headings have their own branch;
#: reasons their own function; phrases are looked up with their kind.
_LABEL_KINDS = frozenset({*_KINDS.values(), "renewal_colour"})


def _kinds_of_codes() -> dict[str, tuple[str, ...]]:
    """Each code, with the kinds of :data:`_LABEL_KINDS` that use it."""
    kinds: dict[str, tuple[str, ...]] = {}
    for kind, code in WORDS:
        if kind in _LABEL_KINDS:
            kinds[code] = (*kinds.get(code, ()), kind)
    return kinds


#: The kinds that use each code: :func:`label` reads a bare code only when there is one.
_KINDS_OF_CODE = _kinds_of_codes()


def pick(words: tuple[str, str], locale: str) -> str:
    """The French or the English one of ``words``, for ``locale``."""
    return words[0] if is_french(locale) else words[1]


def inline(word: str) -> str:
    """A status word inside a sentence: its first letter lowered (« (à payer) »).

    >>> inline("À payer"), inline("OK")
    ('à payer', 'OK')
    """
    return word if word[1:2].isupper() else word[:1].lower() + word[1:]


def words_for(kind: str, code: str, *, locale: str) -> str:
    """The words of ``code`` of ``kind`` (``"ticket_status"``, ``"renewal_colour"``, …).

    >>> words_for("ticket_status", "open", locale="fr_FR")
    'Ouvert'
    >>> words_for("invoice_status", "open", locale="fr_FR")
    'À payer'
    >>> words_for("ticket_status", "lost", locale="fr_FR")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: code='lost' of kind='ticket_status' has no words; expected one of 'closed', 'in_progress', 'open'
    """  # noqa: E501  (the doctest shows the whole message)
    words = WORDS.get((kind, code))
    if words is None:
        known = sorted(c for k, c in WORDS if k == kind)
        if not known:
            kinds = ", ".join(sorted({k for k, _ in WORDS}))
            raise InvalidArgumentError(f"kind={kind!r} is not a kind of words; expected {kinds}")
        raise InvalidArgumentError(
            f"code={code!r} of kind={kind!r} has no words; expected one of "
            + ", ".join(map(repr, known))
        )
    return pick(words, locale)


def phrase(kind: str, code: str, /, *, locale: str, **values: object) -> str:
    """The phrase ``code`` of ``kind``, its ``{placeholders}`` filled with ``values``.

    ``kind`` and ``code`` are positional, so that a phrase may have a ``{code}`` of its own.

    >>> phrase("dashboard", "to_renew", locale="fr_FR", count=3)
    'Nombre de sociétés à renouveler : 3'
    """
    return words_for(kind, code, locale=locale).format(**values)


def count_words(number: int, singular: str, plural: str, *, locale: str) -> str:
    """``number`` with its noun (codes of kind ``count``): « 1 an », « 0 utilisateur », « 2 days ».

    French counts 0 and 1 in the singular, English only 1.

    >>> count_words(2, "year", "years", locale="fr_FR"), count_words(1, "day", "days",
    ...     locale="en_US")
    ('2 ans', '1 day')
    """
    one = number < 2 if is_french(locale) else number == 1
    return phrase("count", singular if one else plural, locale=locale, count=number)


def knows_label(value: enum.Enum) -> bool:
    """True when :func:`label` has French and English words for the enum member ``value``."""
    kind = _KINDS.get(type(value))
    return kind is not None and (kind, str(value.value)) in WORDS


def label(value: enum.Enum | str, *, locale: str) -> str:
    """The French or English words for a value subbill shows: an enum member, or a heading.

    An enum member is looked up by its kind and its code: an invoice's ``OPEN`` and a
    ticket's ``OPEN`` have their own words. A ``str`` is a heading of the documents
    (``"total"``, ``"amount_due"``) or a code that a single kind uses (``"green"``); a code
    that several kinds share is refused, naming them: pass the enum member instead (or
    use :func:`words_for`). The reason of a charge has its own function,
    :func:`reason_label`.

    >>> from subbill.portal import InvoiceLabel, TicketStatus
    >>> label(InvoiceLabel.PARTIALLY_PAID, locale="fr_FR"), label(TicketStatus.OPEN, locale="en_US")
    ('Partiellement payée', 'Open')
    >>> label("total", locale="fr_FR")
    'Total TTC'
    >>> label("open", locale="fr_FR")
    Traceback (most recent call last):
    ...
    subbill.errors.InvalidArgumentError: code='open' names several things (invoice_status, ticket_status): pass the enum member (e.g. TicketStatus.OPEN), or words_for(kind, code)
    """  # noqa: E501  (the doctest shows the whole message)
    if isinstance(value, enum.Enum):
        kind = _KINDS.get(type(value))
        if kind is None:
            raise InvalidTypeError(
                "value", value, "a member of an enum people see (a status, a kind) or a heading"
            )
        return words_for(kind, str(value.value), locale=locale)
    if not isinstance(value, str):
        raise InvalidTypeError("value", value, "an enum member or a heading code (a str)")
    if ("heading", value) in WORDS:
        return words_for("heading", value, locale=locale)
    kinds = _KINDS_OF_CODE.get(value, ())
    if len(kinds) > 1:
        example = next(
            (f"{k.__name__}.{value.upper()}" for k, name in _KINDS.items() if name == kinds[-1]),
            kinds[-1],
        )
        raise InvalidArgumentError(
            f"code={value!r} names several things ({', '.join(kinds)}): pass the enum member "
            f"(e.g. {example}), or words_for(kind, code)"
        )
    if not kinds:
        raise InvalidArgumentError(
            f"code={value!r} has no words; expected a heading such as 'total' or an enum "
            "member such as TicketStatus.OPEN"
        )
    return words_for(kinds[0], value, locale=locale)


def reason_label(reason: str, *, locale: str) -> str:
    """Words for why a charge started mid-cycle (``plan_change`` → « changement de plan »).

    A reason subbill has no words for is shown as it is (a charge's reason is free text).
    """
    if ("reason", reason) in WORDS:
        return words_for("reason", reason, locale=locale)
    return escape_controls(str(reason))


def knows_refusal(code: str) -> bool:
    """True when :func:`~subbill.l10n.refusal_text` has words for ``code``."""
    return ("refusal", code) in WORDS


def knows_finding(code: str) -> bool:
    """True when :func:`~subbill.l10n.finding_text` has words for ``code``."""
    return ("finding", code) in WORDS


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def _subject(facts: Mapping[str, str], *, locale: str) -> str:
    """« Le module Stock », « L'option Multi-sociétés », « Le plan Pro », « Cet élément »."""
    for code in ("module", "addon", "plan"):
        if code in facts:
            return phrase("subject", code, locale=locale, **{code: facts[code]})
    return words_for("subject", "item", locale=locale)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def fill(kind: str, code: str, facts: Mapping[str, str], *, locale: str) -> str:
    """The sentence ``code`` of ``kind`` (a refusal, a finding), filled with its ``facts``.

    Facts that are days (``on``, ``cancel_at``, ``next_billing``, in ISO form) are written
    as dates; ``{subject}`` names what the facts are about; a fact the facts lack shows as
    « … ». A code without words is shown as it is.
    """
    if (kind, code) not in WORDS:
        return escape_controls(code)
    values = dict(facts)
    for key in ("on", "cancel_at", "next_billing"):
        text = values.get(key)
        if text and _ISO_DAY.fullmatch(text):  # a refusal's day; a finding's comes formatted
            values[key] = format_date(date.fromisoformat(text), locale=locale)
    values["subject"] = _subject(facts, locale=locale)
    return escape_controls(words_for(kind, code, locale=locale).format_map(_Missing(values)))

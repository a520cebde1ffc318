r"""The monthly review and the explanation of an invoice, in words.

:func:`finding_text` words one finding of :func:`subbill.usage.monthly_review`;
:func:`review_text` the whole review, one section per question (the plan, the modules, the
usage, the billing, the payment method), as ``subbill review`` prints it;
:func:`story_text` explains an invoice from its subscription (« J'ai des doutes sur le
montant d'une facture »), with :func:`change_text` for each event of its history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from subbill._validate import escape_controls
from subbill.l10n._format import format_date, format_money, format_period, text_lines
from subbill.l10n.invoice import describe_line
from subbill.l10n.words import WORDS, fill, label, phrase, words_for
from subbill.money import Money
from subbill.periods import Period
from subbill.subscriptions import Change
from subbill.usage import Finding, InvoiceStory

__all__ = ["change_text", "finding_text", "review_text", "story_text"]


def finding_text(finding: Finding, *, locale: str) -> str:
    r"""Word a finding of the monthly review: its typed facts formatted for ``locale``.

    >>> from subbill.usage import Finding
    >>> text = finding_text(Finding(check="modules", code="module_unused", severity="warning",
    ...     facts={"module": "Stock"}, amount=Money("9", "EUR")), locale="fr_FR")
    >>> print(text.replace("\xa0", " "))
    Le module Stock n'a pas servi ce mois-ci : le désactiver économiserait 9,00 € par période.
    """
    facts: dict[str, str] = {}
    for name, fact in finding.facts:
        if isinstance(fact, Money):
            facts[name] = format_money(fact, locale=locale)
        elif isinstance(fact, date):
            facts[name] = format_date(fact, locale=locale)
        else:
            facts[name] = str(fact)
    code = finding.code
    if code == "module_unused" and finding.amount is None:
        code = "module_unused_free"
    if finding.amount is not None:
        facts["amount"] = format_money(finding.amount, locale=locale)
    return fill("finding", code, facts, locale=locale)


#: The questions of the review, in the order it answers them (a ``Finding.check``).
_CHECKS = ("trial", "plan", "modules", "usage", "billing", "payment_method")


def _finding_line(finding: Finding, *, locale: str) -> str:
    """« [à voir] Le module Stock n'a pas servi ce mois-ci … Manque : Stock. »."""
    text = finding_text(finding, locale=locale)
    for fact in ("missing", "unexpected"):
        if finding.fact(fact):
            text += " " + phrase("review", fact, locale=locale, items=str(finding.fact(fact)))
    return f"  [{words_for('severity', finding.severity, locale=locale)}] {text}"


def review_text(
    findings: Sequence[Finding],
    *,
    subscription: str,
    customer: str,
    as_of: date,
    locale: str,
) -> str:
    """The monthly review of the ``subscription`` (an id) of ``customer`` on ``as_of``, in words.

    One section per question that has findings, each finding with its severity; then how
    many points are to look at. A payment method the review could not check
    (``payment_method_unchecked``: no saved methods given) is one line saying so, marked
    ``[?]``.

    >>> from subbill.usage import Finding
    >>> print(review_text([Finding(check="plan", code="plan_ok", severity="info",
    ...     facts={"plan": "Pro"})], subscription="ABO-1", customer="ACME",
    ...     as_of=date(2026, 4, 30), locale="fr_FR"))
    Point mensuel de l'abonnement ABO-1 (ACME) au 30 avril 2026
    <BLANKLINE>
    Plan actif
      [ok] Votre plan Pro correspond à votre activité.
    <BLANKLINE>
    Rien à signaler.
    """
    day = format_date(as_of, locale=locale)
    name = f"{subscription} ({customer})"
    out = [phrase("review", "title", locale=locale, subscription=name, day=day)]
    to_look_at = 0
    for check in _CHECKS:
        if not any(finding.check == check for finding in findings):
            continue  # quoted lines only: no plan, modules nor limits to review
        out.extend(("", words_for("review_heading", check, locale=locale)))
        for finding in findings:
            if finding.check != check:
                continue
            if finding.code == "payment_method_unchecked":
                method = str(finding.fact("method"))
                words = phrase("review", "unchecked_method", locale=locale, method=method)
                out.append(f"  [?] {words}")
                continue
            to_look_at += finding.severity != "info"
            out.append(_finding_line(finding, locale=locale))
    out.append("")
    if to_look_at:
        out.append(phrase("review", "to_look_at", locale=locale, count=to_look_at))
    else:
        out.append(words_for("review", "nothing_to_report", locale=locale))
    return text_lines(out)


def change_text(change: Change, *, locale: str, names: Mapping[str, str] | None = None) -> str:
    """Word one event of a subscription's history, with its date (``names``: code → name)."""
    names = names or {}
    previous = change.previous or ""
    values = {
        "code": names.get(change.code, change.code),
        "previous": names.get(previous, previous),
    }
    known = ("change", change.kind) in WORDS
    text = phrase("change", change.kind, locale=locale, **values) if known else change.kind
    when = format_date(change.on, locale=locale)
    return escape_controls(phrase("story", "dated_change", locale=locale, day=when, change=text))


def story_text(story: InvoiceStory, *, locale: str) -> str:
    """Explain an invoice from its subscription, line by line, then the changes.

    The answer to « J'ai des doutes sur le montant d'une facture ».
    """
    colon = words_for("typography", "colon", locale=locale)
    out = []
    invoice = story.invoice
    title = label(invoice.kind, locale=locale)
    head = f"{title} {invoice.number or '—'}"
    if story.period is not None:
        head += f" — {format_period(story.period, locale=locale)}"
    out.append(head)
    for item in story.lines:
        kind = words_for("story_item", item.item_kind, locale=locale)
        shown = item.line.explanation.cycle or item.line.period
        spans = "; ".join(
            format_period(Period(span.start, span.end or _far(span.start, shown)), locale=locale)
            for span in item.active
        )
        active = f" — {phrase('story', 'active', locale=locale, spans=spans)}" if spans else ""
        amount = format_money(item.line.net, locale=locale)
        out.append(f"• {item.item_name} ({kind}){active}{colon}{amount}")
        out.append(f"    {describe_line(item.line, locale=locale)}")
    if story.changes:
        out.append(words_for("story", "changes", locale=locale))
        names = dict(story.names)
        out.extend(
            f"• {change_text(change, locale=locale, names=names)}" for change in story.changes
        )
    else:
        out.append(words_for("story", "no_change", locale=locale))
    return text_lines(out)


def _far(start: date, period: Period | None) -> date:
    """An open span shown up to the end of the line's period."""
    return period.end if period is not None and period.end > start else start + timedelta(days=1)

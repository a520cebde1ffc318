"""Usage against limits, the plan to recommend, the monthly review, and invoices explained.

The seed's monthly review asks four questions: is the plan still right, are the modules
really used, are resources near their limits, do the charges match the configuration?
:func:`monthly_review` answers each with coded findings (plus the payment method's expiry);
:func:`explain_invoice` answers « J'ai des doutes sur le montant d'une facture ».

>>> from subbill.catalog import Plan
>>> plan = Plan(code="essentiel", name="Essentiel", rank=1, limits={"clients": 100})
>>> [(u.resource, u.used, u.state.value) for u in check_usage(plan, {"clients": 85})]
[('clients', 85, 'near_limit')]
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import attrs

from subbill._validate import check_count, check_items, with_article
from subbill.billing import bill_subscription
from subbill.catalog import Catalog, Plan
from subbill.errors import InvalidArgumentError, InvalidTypeError, SubbillError
from subbill.invoices import Invoice, InvoiceLine, LineKind
from subbill.money import Money, read_fraction
from subbill.payments import Card, OtherMethod, PaymentMethod
from subbill.periods import Period, add_months, check_date
from subbill.subscriptions import (
    Change,
    ChangeDirection,
    MissingPaymentMethod,
    Span,
    Subscription,
    TrialOutcome,
    trial_outcome,
)

__all__ = [
    "NEAR_LIMIT",
    "Fact",
    "Finding",
    "InvoiceStory",
    "LineStory",
    "Recommendation",
    "ResourceUsage",
    "UsageState",
    "check_usage",
    "explain_invoice",
    "monthly_review",
    "recommend_plan",
]

NEAR_LIMIT = Fraction(4, 5)


class UsageState(enum.Enum):
    """Where a resource's use stands against its limit."""

    OK = "ok"
    NEAR_LIMIT = "near_limit"
    AT_LIMIT = "at_limit"
    OVER = "over"


@attrs.frozen(kw_only=True)
class ResourceUsage:
    """One resource: used, limit (``None``: unlimited), ratio used/limit, state."""

    resource: str
    used: int
    limit: int | None
    ratio: Fraction | None
    state: UsageState


def _threshold(value: object) -> Fraction:
    threshold = read_fraction(value, "threshold")
    if not 0 < threshold <= 1:
        raise InvalidArgumentError(f"threshold={value!r} must be in (0, 1]")
    return threshold


def _check_counts(usage: Mapping[str, int], name: str = "usage") -> None:
    """``usage`` maps resource names (``str``) to counts (``int >= 0``)."""
    if not isinstance(usage, Mapping):
        raise InvalidTypeError(
            name, usage, "a mapping of resource names to counts, such as {'clients': 85}"
        )
    for resource, used in usage.items():
        if not isinstance(resource, str):
            raise InvalidTypeError(f"{name} key", resource, "a resource name (a str)")
        check_count(f"{name}[{resource!r}]", used)


def _check_instance(name: str, value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise InvalidTypeError(name, value, with_article(kind.__name__))


def check_usage(
    plan: Plan, usage: Mapping[str, int], *, threshold: Fraction | int = NEAR_LIMIT
) -> tuple[ResourceUsage, ...]:
    """Compare ``usage`` with ``plan``'s limits, resource by resource (sorted by name).

    ``threshold`` (default 80 %) is where *near the limit* starts; exactly the limit is
    *at the limit*; beyond it, *over*. Resources the plan limits but ``usage`` omits count 0.

    >>> from subbill.catalog import Plan
    >>> plan = Plan(code="p", name="P", rank=1, limits={"documents": 500, "orders": None})
    >>> [(u.resource, u.state.value) for u in check_usage(plan, {"documents": 500, "orders": 9})]
    [('documents', 'at_limit'), ('orders', 'ok')]
    """
    _check_instance("plan", plan, Plan)
    near = _threshold(threshold)
    _check_counts(usage)
    resources = sorted(set(usage) | {name for name, limit in plan.limits if limit is not None})
    result = []
    for resource in resources:
        used = usage.get(resource, 0)
        limit = plan.limit(resource)
        if limit is None:
            result.append(
                ResourceUsage(
                    resource=resource, used=used, limit=None, ratio=None, state=UsageState.OK
                )
            )
            continue
        ratio = Fraction(used, limit) if limit else (Fraction(0) if used == 0 else None)
        if used > limit:
            state = UsageState.OVER
        elif used == limit:
            state = UsageState.AT_LIMIT
        elif ratio is not None and ratio >= near:
            state = UsageState.NEAR_LIMIT
        else:
            state = UsageState.OK
        result.append(
            ResourceUsage(resource=resource, used=used, limit=limit, ratio=ratio, state=state)
        )
    return tuple(result)


def _fits(plan: Plan, usage: Mapping[str, int], margin: Fraction = Fraction(0)) -> bool:
    for resource, used in usage.items():
        limit = plan.limit(resource)
        if limit is not None and used > limit * (1 - margin):
            return False
    return True


@attrs.frozen(kw_only=True)
class Recommendation:
    """The plan that fits the usage, and the next step from the current plan towards it.

    ``recommended`` is the smallest plan whose limits hold the usage with ``headroom``
    (or, failing that, without); ``None`` when no plan can hold it. ``next_step`` is the
    nearest plan from ``current`` in that direction that holds the usage (one step at a
    time, as the seed advises); ``None`` when the current plan is the one.
    """

    recommended: Plan | None
    current: Plan | None
    next_step: Plan | None
    direction: ChangeDirection
    current_fits: bool


def recommend_plan(
    catalog: Catalog,
    usage: Mapping[str, int],
    *,
    current: str | None = None,
    headroom: Fraction | Decimal | int = Fraction(1, 5),
) -> Recommendation:
    """Recommend the smallest plan that fits ``usage``, and the next step from ``current``.

    ``headroom`` (default 20 %) is the share of each limit kept free: an exact number
    (``Fraction``, ``Decimal`` or ``int``) in ``[0, 1)``; a ``float`` is refused.

    >>> from subbill.catalog import Catalog, Plan
    >>> catalog = Catalog(currency="EUR", plans=[
    ...     Plan(code="s", name="S", rank=1, limits={"clients": 100}),
    ...     Plan(code="m", name="M", rank=2, limits={"clients": 1000}),
    ...     Plan(code="l", name="L", rank=3, limits={"clients": 10000})])
    >>> r = recommend_plan(catalog, {"clients": 90}, current="l")
    >>> r.recommended.code, r.next_step.code, r.direction.value
    ('m', 'm', 'downgrade')
    """
    _check_instance("catalog", catalog, Catalog)
    _check_counts(usage)
    margin = read_fraction(headroom, "headroom")
    if not 0 <= margin < 1:
        raise InvalidArgumentError(f"headroom={headroom!r} must be in [0, 1)")
    now = catalog.plan(current) if current is not None else None
    recommended = next((p for p in catalog.plans if _fits(p, usage, margin)), None)
    if recommended is None:
        recommended = next((p for p in catalog.plans if _fits(p, usage)), None)
    direction = ChangeDirection.SAME
    step = None
    if now is not None and recommended is not None and recommended.code != now.code:
        direction = (
            ChangeDirection.UPGRADE if recommended.rank > now.rank else ChangeDirection.DOWNGRADE
        )
        ladder = (
            catalog.plans
            if direction is ChangeDirection.UPGRADE
            else tuple(reversed(catalog.plans))
        )
        position = ladder.index(now)
        step = next((p for p in ladder[position + 1 :] if _fits(p, usage)), recommended)
    return Recommendation(
        recommended=recommended,
        current=now,
        next_step=step,
        direction=direction,
        current_fits=now is not None and _fits(now, usage),
    )


#: A fact of a finding, typed up to the edge: a name or code, a count, an amount, a date.
Fact = str | int | Money | date


def _to_typed_facts(value: object) -> tuple[tuple[str, Fact], ...]:
    """``{name: fact}`` or pairs, as ``((name, fact), …)``; a fact keeps its type."""
    pairs = value.items() if isinstance(value, Mapping) else value
    if not isinstance(pairs, Iterable):
        raise InvalidTypeError("facts", value, "a mapping of names to facts")
    facts = []
    for name, fact in pairs:
        if not isinstance(fact, str | int | Money | date) or isinstance(fact, bool):
            raise InvalidTypeError(f"facts[{name!r}]", fact, "a str, an int, a Money or a date")
        facts.append((str(name), fact))
    return tuple(facts)


@attrs.frozen(kw_only=True)
class Finding:
    """One finding of the monthly review: a stable ``code``, how much it matters, the facts.

    ``severity`` is ``info``, ``warning`` or ``action``; ``amount`` is what is at stake
    per period when it applies (a saving, a difference); ``facts`` keep their types
    (names, counts, :class:`~subbill.money.Money`, dates): only
    :func:`subbill.l10n.finding_text` turns them into French or English words.
    """

    check: str  # plan, modules, usage, billing, payment_method
    code: str
    severity: str
    facts: tuple[tuple[str, Fact], ...] = attrs.field(default=(), converter=_to_typed_facts)
    amount: Money | None = None

    def fact(self, name: str, default: Fact = "") -> Fact:
        """The fact ``name`` (``default`` if absent)."""
        return dict(self.facts).get(name, default)


def _plan_findings(
    subscription: Subscription, catalog: Catalog, usage: Mapping[str, int], as_of: date
) -> list[Finding]:
    plan = subscription.current_plan(catalog, on=as_of)
    advice = recommend_plan(catalog, usage, current=plan.code)
    step = advice.next_step
    saving = None
    if advice.current_fits and advice.direction is ChangeDirection.DOWNGRADE and step is not None:
        saving = _saving(plan, step, subscription)
    elif advice.current_fits:
        return [Finding(check="plan", code="plan_ok", severity="info", facts={"plan": plan.name})]
    too_small = not advice.current_fits
    return [
        Finding(
            check="plan",
            code="plan_too_small" if too_small else "plan_too_large",
            severity="action" if too_small else "info",
            # The step up ("" when no plan is larger), or the step down and what it saves.
            facts={"plan": plan.name, "next_step": "" if step is None else step.name},
            amount=saving,
        )
    ]


def _saving(plan: Plan, step: Plan, subscription: Subscription) -> Money | None:
    now, then = plan.price(subscription.frequency), step.price(subscription.frequency)
    if now is None or then is None:
        return None
    return ((now - then) * subscription.quantity).rounded()


def _module_findings(
    subscription: Subscription, catalog: Catalog, module_usage: Mapping[str, int], as_of: date
) -> list[Finding]:
    findings = []
    for code in sorted(subscription.modules_on(as_of)):
        module = catalog.module(code)
        if module_usage.get(code, 0) > 0:
            continue
        price = module.price(subscription.frequency)
        findings.append(
            Finding(
                check="modules",
                code="module_unused",
                severity="warning" if price is not None else "info",
                facts={"module": module.name},
                amount=price.rounded() if price is not None else None,
            )
        )
    if not findings:
        findings.append(Finding(check="modules", code="modules_used", severity="info"))
    return findings


#: What a trial over for less than a month says: its outcome, and how much it matters.
_TRIAL_OVER = {
    TrialOutcome.CONVERTED: ("trial_converted", "info"),
    TrialOutcome.INVOICED_WITHOUT_PAYMENT_METHOD: (
        "trial_invoiced_without_payment_method",
        "action",
    ),
    TrialOutcome.CANCELLED: ("trial_cancelled", "warning"),
}


def _trial_findings(subscription: Subscription, as_of: date) -> list[Finding]:
    """The trial while it runs (and what its end will do), or its outcome the month it ended."""
    outcome = trial_outcome(subscription, on=as_of)
    ends = subscription.trial_ends_on
    if outcome is None or ends is None or ends <= add_months(as_of, -1):
        return []  # no trial, or over for more than a month: nothing to review
    facts: dict[str, Fact] = {"ends_on": ends}
    if outcome is not TrialOutcome.RUNNING:
        code, severity = _TRIAL_OVER[outcome]
        return [Finding(check="trial", code=code, severity=severity, facts=facts)]
    findings = [Finding(check="trial", code="trial_running", severity="info", facts=facts)]
    trial = subscription.trial
    if (
        subscription.payment_method is None
        and trial is not None
        and subscription.is_live_on(max(as_of, subscription.start))
    ):
        cancels = trial.missing_payment_method is MissingPaymentMethod.CANCEL
        findings.append(
            Finding(
                check="trial",
                code="trial_will_cancel" if cancels else "trial_will_invoice",
                severity="action",
                facts=facts,
            )
        )
    return findings


def _usage_findings(plan: Plan, usage: Mapping[str, int], threshold: Fraction) -> list[Finding]:
    codes = {
        UsageState.NEAR_LIMIT: ("resource_near_limit", "warning"),
        UsageState.AT_LIMIT: ("resource_at_limit", "warning"),
        UsageState.OVER: ("resource_over_limit", "action"),
    }
    findings = [
        Finding(
            check="usage",
            code=codes[item.state][0],
            severity=codes[item.state][1],
            facts={
                "resource": item.resource,
                "used": item.used,
                "limit": item.limit,
                "percent": round(item.ratio * 100) if item.ratio is not None else "",
            },
        )
        for item in check_usage(plan, usage, threshold=threshold)
        if item.state is not UsageState.OK
    ]
    return findings or [Finding(check="usage", code="usage_ok", severity="info")]


def _billing_findings(
    subscription: Subscription,
    catalog: Catalog | None,
    invoices: Sequence[Invoice],
    as_of: date,
) -> list[Finding]:
    """Each invoice of the last month against what the engine bills on its date.

    The engine is asked, never a price recomputed by hand: the subscription's invoices are
    replayed in date order from an empty billing state (``invoices`` should hold them all),
    so each date is compared with what billing the configuration on that date gives, credits
    and partial periods included.
    """
    own = sorted(
        (invoice for invoice in invoices if invoice.subscription == subscription.id),
        key=lambda invoice: (invoice.issued_on, invoice.number or ""),
    )
    state = None
    expected_by_number: dict[int, Invoice | None] = {}
    for index, invoice in enumerate(own):
        # What billing saw that day: changes made later (a cancellation, a plan change)
        # were not known yet, and the invoices that followed them credit what they changed.
        known = subscription.as_known_on(invoice.issued_on)
        try:
            result = bill_subscription(
                known.to_charge_plan(catalog), state, as_of=invoice.issued_on
            )
        except SubbillError:
            expected_by_number[index] = None
            continue
        state = result.state
        expected_by_number[index] = result.invoice
    findings = []
    for index, invoice in enumerate(own):
        if not add_months(as_of, -1) < invoice.issued_on <= as_of:
            continue
        findings.append(_compare(invoice, expected_by_number[index]))
    # An invoice still due after its due date, whenever it was issued: to pay now.
    findings.extend(
        Finding(
            check="billing",
            code="invoice_overdue",
            severity="action",
            facts={
                "invoice": invoice.number or invoice.issued_on.isoformat(),
                "due_on": invoice.due_on,
                "amount_due": invoice.amount_due,
            },
            amount=invoice.amount_due,
        )
        for invoice in own
        if invoice.issued_on <= as_of and invoice.is_overdue(as_of=as_of)
    )
    return findings or [Finding(check="billing", code="no_recent_invoice", severity="info")]


def _compare(invoice: Invoice, expected: Invoice | None) -> Finding:
    """``invoice_matches`` when the invoice bills what the engine bills, else the difference."""
    currency = invoice.currency
    billed_lines = [line for line in invoice.lines if line.period is not None]
    expected_lines = (
        [] if expected is None else [line for line in expected.lines if line.period is not None]
    )
    # After line discounts: a discount billed wrong is a mismatch too.
    billed = Money.total((line.net for line in billed_lines), currency=currency)
    wanted = Money.total((line.net for line in expected_lines), currency=currency)
    billed_keys = {line.charge_key for line in billed_lines}
    expected_keys = {line.charge_key for line in expected_lines}
    unknown = _names(
        line.description for line in billed_lines if line.charge_key not in expected_keys
    )
    missing = _names(
        line.description for line in expected_lines if line.charge_key not in billed_keys
    )
    number = invoice.number or invoice.issued_on.isoformat()
    if unknown or missing or billed != wanted:
        return Finding(
            check="billing",
            code="invoice_mismatch",
            severity="action",
            facts={
                "invoice": number,
                "billed": billed,
                "expected": wanted,
                "unexpected": ", ".join(unknown),
                "missing": ", ".join(missing),
            },
            amount=billed - wanted,
        )
    return Finding(
        check="billing", code="invoice_matches", severity="info", facts={"invoice": number}
    )


def _names(descriptions: Iterable[str]) -> list[str]:
    """Each description once, in order."""
    return list(dict.fromkeys(descriptions))


def _payment_findings(
    subscription: Subscription,
    catalog: Catalog | None,
    methods: Iterable[PaymentMethod] | None,
    as_of: date,
) -> list[Finding]:
    wanted = subscription.payment_method
    method = next((m for m in methods or () if m.id == wanted), None)
    facts: dict[str, Fact] = {"method": wanted or ""}
    if methods is None and wanted is not None:
        # The saved methods were not given: the subscription's is named, not checked.
        code = "payment_method_unchecked"
    elif wanted is None or method is None:
        code = "payment_method_missing"
    else:
        facts["method"] = getattr(method, "label", method.id)
        next_billing = subscription.next_billing_date(as_of, catalog)
        if method.is_expired(as_of=as_of):
            code = "payment_method_expired"
        elif next_billing is not None and method.is_expired(as_of=next_billing):
            code = "payment_method_expiring"
            facts["next_billing"] = next_billing
        else:
            code = "payment_method_ok"
    return [
        Finding(
            check="payment_method",
            code=code,
            severity=_PAYMENT_METHOD_SEVERITY.get(code, "info"),
            facts=facts,
        )
    ]


#: How much a payment-method finding matters, when more than ``info``.
_PAYMENT_METHOD_SEVERITY = {
    "payment_method_missing": "action",
    "payment_method_expired": "action",
    "payment_method_expiring": "warning",
}


def monthly_review(
    subscription: Subscription,
    catalog: Catalog | None = None,
    *,
    usage: Mapping[str, int] | None = None,
    module_usage: Mapping[str, int] | None = None,
    invoices: Sequence[Invoice] = (),
    payment_methods: Iterable[PaymentMethod] | None = None,
    as_of: date,
    threshold: Fraction | int = NEAR_LIMIT,
) -> tuple[Finding, ...]:
    """The seed's five-minute monthly review, as findings in the order of the seed.

    0. ``trial`` (a subscription with a trial, while it runs or in the month it ended):
       ``trial_running`` (with its end), ``trial_will_cancel`` /
       ``trial_will_invoice`` (it ends with no payment method so far: the subscription is
       then cancelled, or invoiced anyway), ``trial_converted``,
       ``trial_invoiced_without_payment_method``, ``trial_cancelled``;
    1. ``plan``: ``plan_ok``, ``plan_too_small`` (usage over a limit: the next step up),
       ``plan_too_large`` (a step down fits, with the saving per period);
    2. ``modules``: ``module_unused`` for each switched-on module not used during the month
       (``module_usage`` counts uses per module), with what switching it off saves;
    3. ``usage``: ``resource_near_limit`` / ``resource_at_limit`` / ``resource_over_limit``;
    4. ``billing``: for each invoice of the last month, ``invoice_matches`` or
       ``invoice_mismatch`` (amounts recomputed from the configuration vs billed);
    5. ``payment_method``: missing, expired, or expiring before the next billing date;
       ``payment_method_unchecked`` when ``payment_methods`` is not given (the saved methods
       are unknown: the subscription's is named, not checked).

    The billing check also lists every invoice still due after its due date
    (``invoice_overdue``, with the amount due).

    A subscription of quoted lines has no plan, modules nor limits: its review is the
    billing and payment-method checks (``catalog``, ``usage`` and ``module_usage`` may then
    be left out).
    """
    _check_instance("subscription", subscription, Subscription)
    if catalog is not None or subscription.plans:
        _check_instance("catalog", catalog, Catalog)
    check_date("as_of", as_of)
    usage = {} if usage is None else usage
    module_usage = {} if module_usage is None else module_usage
    _check_counts(usage)
    _check_counts(module_usage, "module_usage")
    invoices = check_items("invoices", invoices, Invoice)
    methods: tuple[PaymentMethod, ...] | None = (
        None
        if payment_methods is None
        else check_items("payment_methods", payment_methods, Card, OtherMethod)
    )
    threshold = _threshold(threshold)
    catalog_findings: list[Finding] = []
    if catalog is not None and subscription.plans:
        plan = subscription.current_plan(catalog, on=as_of)
        catalog_findings = [
            *_plan_findings(subscription, catalog, usage, as_of),
            *_module_findings(subscription, catalog, module_usage, as_of),
            *_usage_findings(plan, usage, threshold),
        ]
    return (
        *_trial_findings(subscription, as_of),
        *catalog_findings,
        *_billing_findings(subscription, catalog, invoices, as_of),
        *_payment_findings(subscription, catalog, methods, as_of),
    )


@attrs.frozen(kw_only=True)
class LineStory:
    """For one invoice line: what it bills (plan, module, add-on, quoted line…), and when."""

    line: InvoiceLine
    item_kind: str  # plan, module, addon, line (a quoted line), other
    item_name: str
    active: tuple[Span, ...]


@attrs.frozen(kw_only=True)
class InvoiceStory:
    """An invoice explained: each line's story and what changed during the billed period."""

    invoice: Invoice
    period: Period | None
    lines: tuple[LineStory, ...]
    changes: tuple[Change, ...]
    names: tuple[tuple[str, str], ...] = ()  # code → name of the plans, modules, add-ons

    def name(self, code: str) -> str:
        """The catalog name of ``code`` (the code itself if unknown)."""
        return dict(self.names).get(code, code)


def explain_invoice(
    invoice: Invoice, subscription: Subscription, catalog: Catalog | None = None
) -> InvoiceStory:
    """Explain ``invoice`` from the subscription: what was active when, what changed.

    The answer to « J'ai des doutes sur le montant d'une facture »: for each line, the plan,
    module, add-on or quoted line it bills and the dates it was active during the line's
    period; and the subscriptions and cancellations dated inside the invoice's period.
    ``catalog`` (for the names of catalog items) may be left out for a subscription of
    quoted lines only.
    """
    _check_instance("invoice", invoice, Invoice)
    _check_instance("subscription", subscription, Subscription)
    if catalog is not None or subscription.plans:
        _check_instance("catalog", catalog, Catalog)
    if invoice.subscription is not None and invoice.subscription != subscription.id:
        raise InvalidArgumentError(
            f"invoice {invoice.number or invoice.issued_on.isoformat()} bills subscription "
            f"{invoice.subscription!r}, not {subscription.id!r}: explain it from its own"
        )
    periods = [line.period for line in invoice.lines if line.period is not None]
    window = Period(min(p.start for p in periods), max(p.end for p in periods)) if periods else None
    kinds: dict[str, tuple[str, str, tuple[Span, ...]]] = {}
    if catalog is not None:
        for kind, spans, find in (
            ("plan", subscription.plans, catalog.plan),
            ("module", subscription.modules, catalog.module),
            ("addon", subscription.addons, catalog.addon),
        ):
            for span in spans:
                name = find(span.code).name
                ends = subscription.ends_on
                if ends is not None and (span.end is None or span.end > ends):
                    if span.start >= ends:
                        continue  # never ran: the subscription ended first
                    span = attrs.evolve(span, end=ends)  # noqa: PLW2901  (cut at the end)
                previous = kinds.get(span.code, (kind, name, ()))
                kinds[span.code] = (kind, name, (*previous[2], span))
    for quoted in subscription.lines:
        # A quoted line runs from its first billing date to its end; a one-time line is
        # due on one day.
        if not quoted.is_recurring:
            end: date | None = quoted.start + timedelta(days=1)
        else:  # until its end, or the subscription's (a cancellation) if that comes first
            limits = [day for day in (quoted.end, subscription.ends_on) if day is not None]
            end = min(limits) if limits else None
        ran = end is None or end > quoted.start
        active = (Span(code=quoted.code, start=quoted.start, end=end),) if ran else ()
        kinds[quoted.code] = ("line", quoted.name, active)
    stories = []
    for line in invoice.lines:
        kind, name, spans = kinds.get(line.code, ("other", line.description, ()))
        # A credit gives back part of a billing period: show what was active over all of it.
        shown = line.explanation.cycle if line.kind is LineKind.PRORATION_CREDIT else line.period
        if shown is not None:
            spans = tuple(span for span in spans if span.overlaps(shown))
        stories.append(LineStory(line=line, item_kind=kind, item_name=name, active=spans))
    changes = subscription.changes_during(window) if window is not None else ()
    return InvoiceStory(
        invoice=invoice,
        period=window,
        lines=tuple(stories),
        changes=changes,
        names=tuple((code, name) for code, (_, name, _) in kinds.items()),
    )

"""Golden test: the mix bench's first 2,000 invoices stay identical through every optimisation.

Issue 13 makes the engine lean; this test was recorded before any of that work, from the
engine as issue 12 left it. Every invoice of ``benchmarks.workloads.mix_inputs(2000)``
billed as of ``BILLING_AS_OF`` is written out field by field — the invoice's dates, kind and
totals, its tax breakdown and applied discounts, every line with its amounts, taxes and
explanation, and the billing state after it — and the SHA-256 of that text is compared, per
invoice, with ``tests/golden/mix_2000.sha256``. The first 300 invoices also carry the French
sentence ``describe_line`` writes for each line, so that explanations are compared as read.

A failure names the first invoice that differs. To look at it, print its canonical text
(``python -m tests.test_golden_mix --show N``) on this commit and on the recording one. The
file is re-recorded only by ``python -m tests.test_golden_mix --record``, and only for a
change that is meant to change amounts (say so in the commit).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks.workloads import BILLING_AS_OF, mix_inputs

from subbill import bill_run
from subbill.billing import BillingResult
from subbill.invoices import Invoice, InvoiceLine
from subbill.l10n.invoice import describe_line

GOLDEN = Path(__file__).parent / "golden" / "mix_2000.sha256"
COUNT = 2000
DESCRIBED = 300  # invoices whose lines are also compared as the sentences people read


def _line_text(line: InvoiceLine, *, described: bool) -> list[str]:
    e = line.explanation
    rows = [
        f"  line {line.kind.value} {line.code} {line.description!r} key={line.charge_key}",
        (
            f"    period={line.period} quantity={line.quantity} unit={line.unit_price!r}"
            f" factor={line.factor}"
        ),
        (
            f"    amount={line.amount!r} discount={line.discount!r} net={line.net!r}"
            f" base={line.base!r} tax={line.tax!r} total={line.total!r}"
        ),
        f"    rates={[(r.name, str(r.percent), r.inclusive) for r in line.tax_rates]}",
        f"    taxes={[(r.name, repr(m)) for r, m in line.taxes]}",
        (
            f"    why unit={e.unit_price!r} quantity={e.quantity} factor={e.factor}"
            f" period={e.period} cycle={e.cycle} days={e.days}/{e.period_days}"
            f" basis={e.basis} reason={e.reason}"
            f" discounts={[(d.code, repr(d.amount)) for d in e.discounts]}"
        ),
    ]
    if described:
        rows.append(f"    « {describe_line(line, locale='fr_FR')} »")
    return rows


def canonical(result: BillingResult, *, described: bool) -> str:
    """One billing result as text: every value the golden file pins."""
    state = result.state
    rows = [
        f"subscription {result.subscription}",
        (
            f"state billed_through={state.billed_through} one_time={sorted(state.one_time_billed)}"
            f" credit={state.credit_balance!r} terms={state.terms}"
        ),
    ]
    invoice: Invoice | None = result.invoice
    if invoice is None:
        rows.append("no invoice")
        return "\n".join(rows)
    rows += [
        (
            f"invoice {invoice.kind.value} {invoice.status.value} customer={invoice.customer}"
            f" subscription={invoice.subscription} currency={invoice.currency}"
            f" issued={invoice.issued_on} due={invoice.due_on} number={invoice.number}"
        ),
        (
            f"  subtotal={invoice.subtotal!r} discount={invoice.discount_total!r}"
            f" net={invoice.net!r} tax={invoice.tax!r} total={invoice.total!r}"
            f" due={invoice.amount_due!r} credit={invoice.credit_applied!r}"
        ),
        f"  taxes={[(t.rate.name, repr(t.base), repr(t.tax)) for t in invoice.taxes]}",
        "  discounts="
        + str([(d.discount.code, repr(d.amount), repr(d.unused)) for d in invoice.discounts]),
    ]
    for line in invoice.lines:
        rows += _line_text(line, described=described)
    return "\n".join(rows)


def digests() -> Iterator[tuple[str, str]]:
    """``(subscription id, sha256 of its canonical text)`` for each of the first 2,000."""
    results = bill_run(mix_inputs(COUNT), as_of=BILLING_AS_OF)
    for index, result in enumerate(results):
        text = canonical(result, described=index < DESCRIBED)
        yield result.subscription, hashlib.sha256(text.encode()).hexdigest()


def test_mix_invoices_stay_byte_identical() -> None:
    recorded = [row.split() for row in GOLDEN.read_text().splitlines()]
    assert len(recorded) == COUNT
    for index, ((subscription, digest), (want_id, want)) in enumerate(
        zip(digests(), recorded, strict=True)
    ):
        assert subscription == want_id, f"invoice {index}: billed {subscription}, not {want_id}"
        assert digest == want, (
            f"invoice {index} ({subscription}) differs from the recorded one: "
            f"python -m tests.test_golden_mix --show {index}"
        )


def _show(index: int) -> None:
    for number, result in enumerate(bill_run(mix_inputs(index + 1), as_of=BILLING_AS_OF)):
        if number == index:
            print(canonical(result, described=index < DESCRIBED))  # noqa: T201


if __name__ == "__main__":
    if sys.argv[1:2] == ["--record"]:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text("".join(f"{sid} {digest}\n" for sid, digest in digests()))
    elif sys.argv[1:2] == ["--show"]:
        _show(int(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m tests.test_golden_mix --record | --show N")

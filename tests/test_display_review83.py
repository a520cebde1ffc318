"""Review 83 (a new user's walk through credits and refunds): what the documents, the portal
and dunning's output showed wrong — #4 the portal's next step, #5 the PDF's columns, #9 a
credit note's due date on the portal, #10 wording."""

import functools
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import subbill
from subbill.dunning import (
    DunningAction,
    DunningActionKind,
    DunningEvent,
    DunningPolicy,
    dunning_actions,
    events_of,
    next_step,
)
from subbill.invoices import Invoice, credit_note_for
from subbill.l10n import format_period, portal_text
from subbill.pdf import render_invoice_pdf
from subbill.periods import ANNUAL
from subbill.portal import portal_overview
from tests.builders import invoice_due
from tests.seed_catalog import seed_catalog
from tests.test_dunning import policies, subscription

DUE = date(2027, 3, 10)
POLICY = DunningPolicy.standard()
NOTICE = (DunningActionKind.FORMAL_NOTICE,)


def _plain(text: str) -> str:
    return " ".join(text.split())


# -- #4: the portal announces what the run does ----------------------------------------------


def test_the_portal_announces_no_suspension_for_a_subscription_cancelled_before_the_notice():
    # Review 83 F4: cancelled on 1 March (before the formal notice of 25 March), the
    # portal said « mise en demeure, suspension du service le 25/03/2027 »; the run
    # (rightly) sends the notice alone.
    invoice = invoice_due("120.00", due_on=DUE)
    cancelled = subscription().cancel(on=date(2027, 3, 1), at_period_end=False)
    assert cancelled.ends_on == date(2027, 3, 1)
    _, history = _runs([invoice], [date(2027, 3, 17)], ended_on=cancelled.ends_on)
    for as_of in (date(2027, 3, 20), date(2027, 3, 25), date(2027, 3, 30)):
        overview = portal_overview(
            "ACME", catalog=seed_catalog(), invoices=[invoice], subscriptions=[cancelled],
            dunning_policy=POLICY, dunning=history, as_of=as_of,
        )  # fmt: skip
        (row,) = overview.overdue
        assert row.next_step is not None
        assert row.next_step.code == "formal_notice"
        text = _plain(portal_text(overview, locale="fr_FR"))
        on = max(as_of, date(2027, 3, 25)).strftime("%d/%m/%Y")
        assert f"mise en demeure le {on}" in text
        assert "suspension" not in text
        assert row.next_actions == NOTICE
        (taken,) = dunning_actions(
            [invoice], policy=DunningPolicy(steps=POLICY.steps), history=history,
            as_of=max(as_of, date(2027, 3, 25)), ended=[cancelled.id],
        )  # fmt: skip
        assert (taken.step.code, taken.actions) == ("formal_notice", NOTICE)


def test_the_portal_announces_no_suspension_after_the_day_a_subscription_ends_later():
    # Cancelled at the end of a period that ends on 20 March: still running on 12 March,
    # ended by the notice's day (25 March) — the run of 25 March will not suspend it.
    invoice = invoice_due("120.00", due_on=DUE)
    later = subscription().cancel(on=date(2027, 3, 20), at_period_end=False)
    assert later.ends_on == date(2027, 3, 20)
    _, history = _runs([invoice], [date(2027, 3, 17)], ended_on=later.ends_on)
    overview = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[invoice], subscriptions=[later],
        dunning_policy=POLICY, dunning=history, as_of=date(2027, 3, 18),
    )  # fmt: skip
    (row,) = overview.overdue
    assert "suspension" not in portal_text(overview, locale="fr_FR")
    assert (row.next_step_on, row.next_actions) == (date(2027, 3, 25), NOTICE)
    # Still running on the notice's day: the suspension is announced, as the run takes it.
    running = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[invoice], subscriptions=[subscription()],
        dunning_policy=POLICY, dunning=history, as_of=date(2027, 3, 18),
    )  # fmt: skip
    assert running.overdue[0].next_actions == (
        DunningActionKind.FORMAL_NOTICE, DunningActionKind.SUSPEND,
    )  # fmt: skip
    assert "mise en demeure, suspension du service le 25/03/2027" in _plain(
        portal_text(running, locale="fr_FR")
    )


def _runs(
    invoices: list[Invoice],
    days: list[date],
    *,
    ended_on: date | None,
    policy: DunningPolicy = POLICY,
    history: tuple[DunningEvent, ...] = (),
) -> tuple[list[tuple[DunningAction, ...]], tuple[DunningEvent, ...]]:
    """Dunning runs on ``days`` as the service makes them: S1 ended from ``ended_on`` on."""
    taken = []
    for day in days:
        ended = ["S1"] if ended_on is not None and ended_on <= day else []
        actions = dunning_actions(invoices, policy=policy, history=history, as_of=day, ended=ended)
        history += events_of(actions)
        taken.append(actions)
    return taken, history


@settings(max_examples=200, deadline=None)
@given(
    policy=policies(),
    end=st.none() | st.integers(-20, 50),
    earlier=st.lists(st.integers(-10, 45), max_size=3, unique=True),
    as_of=st.integers(-10, 50),
)
def test_the_announced_next_step_is_what_the_run_of_its_day_does(
    policy: DunningPolicy, end: int | None, earlier: list[int], as_of: int
):
    """For a subscription running, ended, or ending later: the step ``next_step`` announces
    (its code, day and actions) is the step a run on that day takes, no run between; no
    step announced, no step taken by any later run."""
    invoice = invoice_due("120.00", due_on=DUE)
    ended_on = None if end is None else DUE + timedelta(days=end)
    ends_on = {} if ended_on is None else {"S1": ended_on}
    today = DUE + timedelta(days=as_of)
    days = sorted(DUE + timedelta(days=d) for d in earlier if DUE + timedelta(days=d) < today)
    steps = DunningPolicy(steps=policy.steps)  # the steps alone: a retry is no announced step
    _, history = _runs([invoice], days, ended_on=ended_on, policy=steps)
    upcoming = next_step(invoice, policy=policy, history=history, as_of=today, ends_on=ends_on)
    if upcoming is None:
        for offset in range(0, 60, 3):
            later = today + timedelta(days=offset)
            taken, _ = _runs([invoice], [later], ended_on=ended_on, policy=steps, history=history)
            assert taken == [()]
        return
    assert upcoming.on >= today
    taken, _ = _runs([invoice], [upcoming.on], ended_on=ended_on, policy=steps, history=history)
    ((action,),) = taken
    assert (action.step, action.actions) == (upcoming.step, upcoming.actions)


# -- #5: no cell of the PDF's table runs into another -----------------------------------------

_PT = 72 / 25.4  # points per millimetre


def _runs_of(document: bytes) -> list[tuple[int, float, float, str, str, float]]:
    """Every text run drawn: (page, x, baseline, text, font, size), in points."""
    import pypdf  # noqa: PLC0415  (a test extra)

    runs = []
    for index, page in enumerate(pypdf.PdfReader(io.BytesIO(document)).pages):

        def visit(text: str, cm: Any, tm: Any, font: Any, size: float, page: int = index) -> None:
            drawn = text.strip()
            if drawn and font is not None:
                x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
                x += _width(text[: len(text) - len(text.lstrip())], str(font["/BaseFont"]), size)
                runs.append((page, x, y, drawn, str(font["/BaseFont"]), size))

        page.extract_text(visitor_text=visit)
    return runs


@functools.cache
def _measure() -> Any:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(unit="pt")
    pdf.core_fonts_encoding = "windows-1252"  # as subbill.pdf's: €, «, », é…
    for style, file in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf"),
                        ("I", "DejaVuSans-Oblique.ttf")):  # fmt: skip
        pdf.add_font("DejaVu", style, str(Path(subbill.__file__).parent / "fonts" / file))
    return pdf


def _width(text: str, font: str, size: float) -> float:
    """The width in points of ``text`` drawn in ``font`` (a core font or embedded DejaVu)."""
    pdf = _measure()
    style = "B" if "Bold" in font else "I" if ("Oblique" in font or "Italic" in font) else ""
    if "DejaVu" in font:
        pdf.set_font("DejaVu", style=style, size=size)
        return float(pdf.get_string_width(text))
    pdf.set_font("Helvetica", style=style, size=size)
    return float(pdf.get_string_width(text))


def _overlaps(document: bytes) -> list[tuple[str, str]]:
    """The pairs of text runs drawn on one baseline whose extents cross (one over the other)."""
    runs = _runs_of(document)
    crossing = []
    for i, (page, x, y, text, font, size) in enumerate(runs):
        end = x + _width(text, font, size)
        for other_page, ox, oy, other, ofont, osize in runs[i + 1 :]:
            if other_page != page or abs(oy - y) > 0.5:
                continue
            other_end = ox + _width(other, ofont, osize)
            if x < other_end - 0.5 and ox < end - 0.5:
                crossing.append((text, other))
    return crossing


def _yearly(*, description: str = "Pro", price: str = "590.00", quantity: int = 1) -> Invoice:
    from tests.test_einvoice import billed, charge  # noqa: PLC0415

    return billed(
        charge("pro", price, frequency=ANNUAL, description=description, quantity=quantity),
        as_of=date(2026, 3, 1),
    )


@pytest.mark.parametrize("locale", ["en_US", "fr_FR"])
def test_a_yearly_period_does_not_run_into_the_amount_on_the_pdf(locale: str):
    # Review 83 F5: « from March 1, 2026 to February 28, 2027 » was drawn over « €590.00 »
    # (French: « …28 février 2027590,00 € », glued).
    pytest.importorskip("fpdf")
    invoice = _yearly()
    document = render_invoice_pdf(invoice, locale=locale)
    assert _overlaps(document) == []
    text = _plain(_text_of(document))
    period = format_period(invoice.lines[0].period, locale=locale, compact=True)
    assert _plain(period) in text


def test_the_pdf_table_shows_quantity_and_unit_price_as_the_text_does():
    pytest.importorskip("fpdf")
    invoice = _yearly(price="290.00", quantity=3)
    text = _plain(_text_of(render_invoice_pdf(invoice, locale="en_US")))
    assert "Qty" in text or "Quantity" in text
    assert "Unit price" in text
    assert "3 €290.00 €870.00" in text  # quantity, unit price, amount, in that order


def test_the_facturx_pdf_of_a_yearly_credit_note_draws_no_amount_over_its_period():
    pytest.importorskip("facturx")
    from subbill.einvoice import facturx_pdf  # noqa: PLC0415
    from tests.einvoicing_data import BUYER, SELLER  # noqa: PLC0415

    invoice = _yearly(description="Pro (annual plan, every module included)")
    note = credit_note_for(invoice, issued_on=date(2026, 7, 1)).finalize(number="F-2026-000002")
    for document in (
        facturx_pdf(invoice, seller=SELLER, buyer=BUYER),
        facturx_pdf(note, seller=SELLER, buyer=BUYER, locale="fr_FR", corrected=invoice),
    ):
        assert _overlaps(document) == []


@settings(max_examples=25, deadline=None)
@given(
    description=st.text(
        st.characters(codec="latin-1", categories=("L", "N", "Zs")), min_size=1, max_size=120
    ),
    cents=st.integers(1, 10**12),
    quantity=st.integers(1, 1000),
    locale=st.sampled_from(["en_US", "fr_FR", "de_DE"]),
)
def test_no_cell_of_the_pdf_table_overflows_into_another(
    description: str, cents: int, quantity: int, locale: str
):
    """Whatever the description, the amounts and the locale, the cells of a row stay apart."""
    pytest.importorskip("fpdf")
    price = str(Decimal(cents) / 100)
    invoice = _yearly(description=description.strip() or "x", price=price, quantity=quantity)
    assert _overlaps(render_invoice_pdf(invoice, locale=locale)) == []


def _text_of(document: bytes) -> str:
    import pypdf  # noqa: PLC0415

    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(document)).pages)


# -- #9: a credit note on the portal has no due date nor amount due ---------------------------


def test_the_portal_shows_a_credit_note_with_no_due_date_nor_amount_due():
    # Review 83 F9: « F-2026-000007 01/07/2026 31/07/2026 Avoir sur F-2026-000003
    # -471,35 € 0,00 € »: an avoir asks no payment (as `subbill invoice show` says).
    invoice = invoice_due("120.00", due_on=DUE)
    note = credit_note_for(invoice, issued_on=date(2027, 3, 15)).finalize(number="F-2027-000002")
    overview = portal_overview(
        "ACME", catalog=seed_catalog(), invoices=[invoice, note], subscriptions=[subscription()],
        as_of=date(2027, 3, 20),
    )  # fmt: skip
    for locale, words in (("fr_FR", "Avoir sur F-2027-000001"), ("en_US", "Credit note for")):
        text = portal_text(overview, locale=locale)
        (row,) = [line for line in text.splitlines() if line.startswith("F-2027-000002")]
        cells = [cell.strip() for cell in row.split("  ") if cell.strip()]
        assert cells[2] == "—"  # no due date
        assert words in cells[3]
        assert cells[5] == "—"  # no amount due
        (bill,) = [line for line in text.splitlines() if line.startswith("F-2027-000001")]
        assert "—" not in bill  # the invoice keeps its due date and amount due


# -- #10: wording ------------------------------------------------------------------------------


def test_a_credited_one_time_line_reads_credited_once_not_billed_once():
    # Review 83 F10: a gesture on an avoir read « 10,00 € : facturé une fois ».
    from subbill.invoices import one_time_line  # noqa: PLC0415
    from subbill.l10n import describe_line, invoice_text  # noqa: PLC0415
    from subbill.money import Money  # noqa: PLC0415

    invoice = invoice_due("120.00", due_on=DUE)
    gesture = one_time_line("geste", "Geste commercial", Money("10", "EUR"))
    note = credit_note_for(invoice, issued_on=date(2027, 3, 1), lines=[gesture]).finalize(
        number="F-2027-000002"
    )
    (line,) = note.lines
    assert describe_line(line, locale="fr_FR") == "10,00\xa0€ : crédité une fois"
    assert describe_line(line, locale="en_US") == "€10.00: credited once"
    assert "facturé" not in invoice_text(note, locale="fr_FR", corrected=invoice)
    # the invoice's own one-time line is still billed once
    assert describe_line(invoice.lines[0], locale="en_US").endswith(": billed once")


def test_the_french_dunning_output_names_skipped_steps_in_words_not_codes(tmp_path, capsys):
    # Review 83 F10: « (étapes sautées : courtesy, reminder_1, reminder_7) ».
    from subbill.l10n.dunning import skipped_text  # noqa: PLC0415
    from tests.test_cli_dunning import billed, run  # noqa: PLC0415

    invoice = invoice_due("120.00", due_on=DUE)
    steps = DunningPolicy(steps=POLICY.steps)
    (notice,) = dunning_actions([invoice], policy=steps, history=(), as_of=date(2027, 3, 30))
    assert skipped_text(notice, policy=steps, locale="fr_FR") == (
        "(étapes sautées : relance du 7 mars 2027, relance du 11 mars 2027, "
        "relance du 17 mars 2027)"
    )
    assert skipped_text(notice, policy=steps, locale="en_US") == (
        "(steps skipped: reminder of March 7, 2027, reminder of March 11, 2027, "
        "reminder of March 17, 2027)"
    )
    # a step the policy no longer holds is named by its code, quoted
    other = DunningPolicy(steps=POLICY.steps[-1:])
    assert "'courtesy'" in skipped_text(notice, policy=other, locale="fr_FR")
    # the command line, in French: no internal code
    db = billed(capsys, tmp_path, tmp_path / "billing.db")
    status, out, err = run(
        capsys, "dunning", "--as-of", "2026-05-20", "--db", db, "--locale", "fr_FR"
    )
    assert (status, err) == (0, "")
    assert "(étapes sautées : relance du 28 avril 2026, relance du 2 mai 2026, " in out
    assert "reminder_" not in out
    assert "courtesy" not in out


def test_a_refund_of_a_note_that_cancelled_what_was_due_says_why_and_what_to_do():
    # Review 83 F10: "must be <= 0 EUR, what credit note F-… still owes" said neither why
    # nothing was refundable nor what to do.
    from subbill.billing import BillingState  # noqa: PLC0415
    from subbill.errors import OutOfBoundsError  # noqa: PLC0415
    from subbill.invoices import one_time_line  # noqa: PLC0415
    from subbill.money import Money  # noqa: PLC0415
    from subbill.payments import Refund, record_credit_note, record_refund  # noqa: PLC0415

    unpaid = invoice_due("120.00", due_on=DUE)
    gesture = one_time_line("geste", "Geste commercial", Money("30", "EUR"))
    note = credit_note_for(unpaid, issued_on=date(2027, 3, 1), lines=[gesture]).finalize(
        number="F-2027-000002"
    )
    corrected = record_credit_note(unpaid, note, BillingState())
    refund = Refund(amount=Money("1", "EUR"), refunded_on=date(2027, 3, 2), credit_note=note.number)
    with pytest.raises(OutOfBoundsError) as caught:
        record_refund(refund, corrected.state, credit_note=note)
    assert str(caught.value) == (
        "amount=Money('1', 'EUR') must be <= 0.00 EUR: credit note F-2027-000002 gives back "
        "30.00 EUR, applied whole to F-2027-000001: it cancelled what that invoice still owed "
        "first, the rest went to the credit balance; 0.00 EUR of it was refunded already, and "
        "the credit balance holds 0.00 EUR; nothing is left to refund, the customer is owed "
        "nothing here"
    )
    with pytest.raises(OutOfBoundsError) as caught:
        record_refund(attrs.evolve(refund, credit_note=None), corrected.state)
    assert str(caught.value) == (
        "amount=Money('1', 'EUR') must be <= 0.00 EUR: the subscription's credit balance (what "
        "the seller owes the customer) is 0.00 EUR; nothing is left to refund, the customer is "
        "owed nothing here"
    )

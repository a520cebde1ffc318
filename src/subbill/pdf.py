r"""PDF invoices (optional extra ``subbill[pdf]``, with fpdf2): laid out like a French invoice.

Seller and buyer at the top, the invoice's number and dates, the lines with their
explanations, the VAT breakdown per rate, and the totals (HT, TVA, TTC, paid, due). Every
word comes from :mod:`subbill.l10n.words`, in French or English as ``locale`` says.
:func:`render_invoice_pdf` returns the bytes: the library writes no file.

The built-in PDF fonts cover Windows-1252 only, so characters outside it are replaced by
their nearest equivalent (the narrow no-break space of French number formatting becomes a
no-break space, « − » a hyphen).

Nothing printed can forge a line: the parties' names and address lines refuse control
characters (:class:`~subbill.errors.InvalidArgumentError`), and every text written on the
page shows any control character or bidirectional override that reached it as an escape
(``\n``, ``\u202e``). A note may hold several lines: each is written as its own line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from subbill._validate import check_line, check_text, escape_controls, one_line, to_tuple
from subbill.invoices import Invoice
from subbill.l10n import (
    describe_line,
    format_date,
    format_money,
    format_period,
    label,
    phrase,
)
from subbill.money import Money

__all__ = ["Party", "render_invoice_pdf"]

_REPLACEMENTS = {"\u202f": "\xa0", "\u2212": "-", "\u2009": " ", "\u2192": "->", "\u2713": "v"}


def _check_address(_instance: Any, _attribute: Any, lines: tuple[str, ...]) -> None:
    for index, line in enumerate(lines):
        check_line(f"address[{index}]", line)


@attrs.frozen(kw_only=True)
class Party:
    """A seller or a buyer as printed: name and address lines, and legal mentions."""

    name: str = attrs.field(validator=check_text)
    address: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_check_address)
    vat_number: str | None = attrs.field(default=None, validator=one_line(optional=True))
    siret: str | None = attrs.field(default=None, validator=one_line(optional=True))

    def lines(self, *, locale: str) -> list[str]:
        """The lines printed for the party, its legal mentions in ``locale``'s words."""
        result = [self.name, *self.address]
        if self.siret:
            result.append(phrase("pdf", "siret", locale=locale, siret=self.siret))
        if self.vat_number:
            result.append(phrase("pdf", "vat_number", locale=locale, vat_number=self.vat_number))
        return result


def _text(value: str) -> str:
    value = escape_controls(value)
    for old, new in _REPLACEMENTS.items():
        value = value.replace(old, new)
    return value.encode("cp1252", errors="replace").decode("cp1252")


def render_invoice_pdf(
    invoice: Invoice,
    *,
    locale: str,
    seller: Party | None = None,
    buyer: Party | None = None,
    notes: Sequence[str] = (),
) -> bytes:
    """Render ``invoice`` as a PDF in ``locale`` and return its bytes.

    Needs the optional dependency fpdf2 (``pip install subbill[pdf]``).
    """
    try:
        from fpdf import FPDF  # noqa: PLC0415  (optional extra)
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("render_invoice_pdf needs fpdf2: pip install 'subbill[pdf]'") from error
    page = _Page(FPDF(orientation="P", unit="mm", format="A4"), locale)
    buyer = buyer or Party(name=escape_controls(invoice.customer))
    page.parties(seller or Party(name="—"), buyer)
    page.heading(invoice)
    page.table(invoice)
    page.taxes(invoice)
    page.totals(invoice)
    page.notes(notes)
    return bytes(page.pdf.output())


class _Page:
    """One invoice laid out on A4 with the PDF core fonts."""

    def __init__(self, pdf: Any, locale: str) -> None:
        self.pdf = pdf
        self.locale = locale
        pdf.core_fonts_encoding = "windows-1252"  # the core fonts' own: it holds €, «, », é…
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()

    def write(
        self, text: str, *, size: int = 10, bold: bool = False, align: str = "L", width: float = 0
    ) -> None:
        pdf = self.pdf
        pdf.set_font("Helvetica", style="B" if bold else "", size=size)
        last = width == 0
        pdf.cell(
            width,
            5,
            _text(text),
            align=align,
            new_x="LMARGIN" if last else "RIGHT",
            new_y="NEXT" if last else "TOP",
        )

    def words(self, code: str) -> str:
        return label(code, locale=self.locale)

    def money(self, amount: Money) -> str:
        return format_money(amount, locale=self.locale)

    def parties(self, seller: Party, buyer: Party) -> None:
        top = self.pdf.get_y()
        for text in seller.lines(locale=self.locale):
            self.write(text, bold=text == seller.name)
        bottom = self.pdf.get_y()
        self.pdf.set_xy(120, top)
        for text in buyer.lines(locale=self.locale):
            self.pdf.set_x(120)
            self.write(text, bold=text == buyer.name)
        self.pdf.set_y(max(bottom, self.pdf.get_y()))
        self.pdf.ln(6)

    def heading(self, invoice: Invoice) -> None:
        number = invoice.number or self.words("draft_number")
        self.write(f"{label(invoice.kind, locale=self.locale)} {number}", size=14, bold=True)
        self.write(
            f"{self.words('issued_on')} : {format_date(invoice.issued_on, locale=self.locale)}"
            f"    {self.words('due_on')} : {format_date(invoice.due_on, locale=self.locale)}"
        )
        if invoice.subscription:
            self.write(f"{self.words('subscription')} : {invoice.subscription}")
        if invoice.corrects is not None:  # a credit note names the invoice it corrects
            self.write(f"{self.words('corrects')} : {invoice.corrects}")
        self.pdf.ln(4)

    def table(self, invoice: Invoice) -> None:
        widths = (70, 45, 25, 25, 25)
        headings = ("description", "period", "amount", "discount", "net")
        for index, (heading, width) in enumerate(zip(headings, widths, strict=True)):
            self.write(self.words(heading), bold=True, width=width, align="L" if index < 2 else "R")
        self.pdf.ln(6)
        for item in invoice.lines:
            period = (
                ""
                if item.period is None
                else format_period(item.period, locale=self.locale, compact=True)
            )
            discount = "" if item.discount.is_zero() else self.money(-item.discount)
            cells = (
                item.description,
                period,
                self.money(item.amount),
                discount,
                self.money(item.net),
            )
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
                self.write(cell, width=width, align="L" if index < 2 else "R")
            self.pdf.ln(5)
            self.pdf.set_font("Helvetica", style="I", size=8)
            self.pdf.multi_cell(
                0, 4, _text(describe_line(item, locale=self.locale)), new_x="LMARGIN", new_y="NEXT"
            )
            self.pdf.ln(1)
        self.pdf.ln(4)

    def taxes(self, invoice: Invoice) -> None:
        self.write(self.words("vat"), bold=True)
        for row in invoice.taxes:
            words = self.words("tax_on").format(rate=row.rate.name, base=self.money(row.base))
            self.write(words, width=80)
            self.write(self.money(row.tax), width=30, align="R")
            self.pdf.ln(5)
        self.pdf.ln(2)

    def totals(self, invoice: Invoice) -> None:
        rows = [
            (self.words("total_net"), invoice.net),
            (self.words("vat"), invoice.tax),
            (self.words("total"), invoice.total),
        ]
        if invoice.credit_applied is not None and not invoice.credit_applied.is_zero():
            rows.append((self.words("credit_applied"), -invoice.credit_applied))
        if invoice.payments:
            rows.append((self.words("amount_paid"), -invoice.amount_paid))
        rows.append((self.words("amount_due"), invoice.amount_due))
        for name, amount in rows:
            self.pdf.set_x(110)
            self.write(name, width=55, bold=name == self.words("total"))
            self.write(self.money(amount), width=35, align="R")
            self.pdf.ln(5)

    def notes(self, notes: Sequence[str]) -> None:
        for note in notes:
            self.pdf.ln(2)
            self.pdf.set_font("Helvetica", size=8)
            for line in note.split("\n"):
                self.pdf.multi_cell(0, 4, _text(line), new_x="LMARGIN", new_y="NEXT")

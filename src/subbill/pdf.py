r"""PDF invoices (optional extra ``subbill[pdf]``, with fpdf2): laid out like a French invoice.

Seller and buyer at the top, the invoice's number and dates, the lines with their
explanations, the VAT breakdown per rate, the totals (HT, TVA, TTC, paid, due) and the
notes. Every word comes from :mod:`subbill.l10n`, in French or English as ``locale`` says.
The functions return bytes: the library writes no file.

- :func:`render_invoice_pdf` writes a plain PDF with the PDF core fonts. They cover
  Windows-1252 only, so characters outside it are replaced by their nearest equivalent (the
  narrow no-break space of French number formatting becomes a no-break space, « − » a
  hyphen).
- :func:`render_facturx_pdf` writes a PDF/A-3B that carries a Factur-X XML as its
  ``factur-x.xml`` attachment (the job of :func:`subbill.einvoice.facturx_pdf`, which builds
  the XML): every font embedded (DejaVu Sans, shipped with subbill, prints every character
  as it is), an sRGB output intent, and XMP metadata with the Factur-X extension schema.

The seller may be the configured :class:`subbill.parties.Party` and the buyer the stored
:class:`~subbill.customers.Customer`, printed with their legal mentions (legal form, share
capital, RCS, SIREN, SIRET, VAT number); the printed :class:`Party` of this module remains
for a name and address lines alone.

Nothing printed can forge a line: the parties' names and address lines refuse control
characters (:class:`~subbill.errors.InvalidArgumentError`), and every text written on the
page shows any control character or bidirectional override that reached it as an escape
(``\n``, ``\u202e``). A note may hold several lines: each is written as its own line.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import attrs
import babel

from subbill import __version__
from subbill._validate import (
    check_instance,
    check_line,
    check_text,
    escape_controls,
    one_line,
    to_tuple,
)
from subbill.billing import BillingTerms
from subbill.customers import Customer
from subbill.errors import InvalidArgumentError, InvalidTypeError
from subbill.invoices import DocumentKind, Invoice
from subbill.l10n import (
    describe_line,
    format_date,
    format_money,
    label,
    phrase,
    words_for,
)
from subbill.l10n.invoice import (
    LINE_COLUMNS,
    asks_payment,
    corrected_reference,
    credit_line_mentions,
    late_payment_mentions,
    line_cells,
    settlement_rows,
)
from subbill.l10n.mentions import legal_information, printed_mentions
from subbill.money import Money
from subbill.parties import OperationCategory
from subbill.parties import Party as SellerParty

__all__ = [
    "FACTURX_FILENAME",
    "FACTURX_LEVELS",
    "Party",
    "Printable",
    "render_facturx_pdf",
    "render_invoice_pdf",
]

_REPLACEMENTS = {"\u202f": "\xa0", "\u2212": "-", "\u2009": " ", "\u2192": "->", "\u2713": "v"}

#: The name of the XML a Factur-X PDF carries.
FACTURX_FILENAME = "factur-x.xml"
#: The conformance levels a Factur-X PDF's metadata may state (``fx:ConformanceLevel``).
FACTURX_LEVELS = ("MINIMUM", "BASIC WL", "BASIC", "EN 16931", "EXTENDED")
_FACTURX_URN = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
#: The fonts a PDF/A embeds (the PDF core fonts are not allowed there): DejaVu Sans, shipped.
_FONTS = Path(__file__).with_name("fonts")
_FAMILY = "DejaVu Sans"
_FONT_FILES = (
    ("", "DejaVuSans.ttf"),
    ("B", "DejaVuSans-Bold.ttf"),
    ("I", "DejaVuSans-Oblique.ttf"),
)
_CORE_FAMILY = "Helvetica"
#: Where the buyer's column starts, in mm from the page's left edge.
_BUYER_X = 120
_CREATOR = f"subbill {__version__}"


def _check_address(_instance: Any, _attribute: Any, lines: tuple[str, ...]) -> None:
    for index, line in enumerate(lines):
        check_line(f"address[{index}]", line)


@attrs.frozen(kw_only=True)
class Party:
    """A seller or a buyer as printed: name and address lines, and legal mentions.

    For a seller or buyer known only by its name and address. The configured seller
    (:class:`subbill.parties.Party`) and a stored :class:`~subbill.customers.Customer` are
    printed as they are, with every legal mention they hold.
    """

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


#: What may be printed as a party: the printed :class:`Party`, the configured seller, a customer.
Printable = Party | SellerParty | Customer


def _place(party: SellerParty | Customer, *, locale: str, home: str | None) -> list[str]:
    """The street lines, « postcode city », and the country's name when it is not ``home``."""
    lines = list(party.address)
    town = " ".join(part for part in (party.postcode, party.city) if part)
    if town:
        lines.append(town)
    if party.country is not None and party.country != home:
        lines.append(babel.Locale.parse(locale).territories.get(party.country, party.country))
    return lines


def _party_lines(party: Printable, *, locale: str, home: str | None = None) -> list[str]:
    """The lines printed for ``party``: its name first, then its address and legal mentions."""
    if isinstance(party, Party):
        return party.lines(locale=locale)
    if isinstance(party, SellerParty):
        lines = [party.legal_name, *_place(party, locale=locale, home=party.country)]
        legal = legal_information(party, locale=locale)
        if legal is not None:
            lines.append(legal)
    elif isinstance(party, Customer):
        lines = [party.name, *_place(party, locale=locale, home=home)]
    else:
        raise InvalidTypeError(
            "party", party, "a subbill.pdf.Party, a subbill.parties.Party or a Customer"
        )
    if party.siren is not None and not (isinstance(party, SellerParty) and party.registration):
        lines.append(phrase("pdf", "siren", locale=locale, siren=party.siren))
    if party.siret is not None:
        lines.append(phrase("pdf", "siret", locale=locale, siret=party.siret))
    if party.vat_number is not None:
        lines.append(phrase("pdf", "vat_number", locale=locale, vat_number=party.vat_number))
    return lines


def _core_text(value: str) -> str:
    """Text for the PDF core fonts: Windows-1252, the nearest equivalent of anything else."""
    value = escape_controls(value)
    for old, new in _REPLACEMENTS.items():
        value = value.replace(old, new)
    return value.encode("cp1252", errors="replace").decode("cp1252")


@functools.cache
def _printable() -> frozenset[int]:
    """The characters every style of the embedded font draws."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # noqa: PLC0415

    covered = None
    for _style, file in _FONT_FILES:
        codes = frozenset(TTFont(_FONTS / file, lazy=True).getBestCmap())
        covered = codes if covered is None else covered & codes
    assert covered is not None  # noqa: S101  (three files)
    return covered


def _embedded_text(value: str) -> str:
    """Text for the embedded font: as it is, U+FFFD for what the font cannot draw."""
    covered = _printable()
    value = escape_controls(value)
    return "".join(char if ord(char) in covered else "\ufffd" for char in value)


def _fpdf() -> Any:
    try:
        from fpdf import FPDF  # noqa: PLC0415  (optional extra)
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("PDF invoices need fpdf2: pip install 'subbill[pdf]'") from error
    return FPDF


def _parties(
    invoice: Invoice, seller: Printable | None, buyer: Printable | None, *, locale: str
) -> tuple[list[str], list[str]]:
    home = seller.country if isinstance(seller, SellerParty) else None
    seller_lines = ["—"] if seller is None else _party_lines(seller, locale=locale)
    buyer_lines = (
        [escape_controls(invoice.customer)]
        if buyer is None
        else _party_lines(buyer, locale=locale, home=home)
    )
    return seller_lines, buyer_lines


def render_invoice_pdf(
    invoice: Invoice,
    *,
    locale: str,
    seller: Printable | None = None,
    buyer: Printable | None = None,
    notes: Sequence[str] = (),
    terms: BillingTerms | None = None,
    operation: OperationCategory = OperationCategory.SERVICES,
    corrected: Invoice | None = None,
    credited: Sequence[Invoice] = (),
) -> bytes:
    """Render ``invoice`` as a PDF in ``locale`` and return its bytes.

    ``seller`` and ``buyer`` are printed at the top (a :class:`Party`, the configured
    :class:`subbill.parties.Party`, or a :class:`~subbill.customers.Customer`); without a
    buyer, the invoice's customer id is. With the configured seller, the French legal
    mentions are printed under « Mentions légales » before ``notes``
    (:func:`subbill.l10n.mentions.printed_mentions`: the penalty rate of ``terms``, the
    category of ``operation``, VAT on debits, exemption reasons); a consumer ``buyer``
    (``CustomerKind.CONSUMER``) is not given the B2B-only ones (the penalty rate and the
    40 € indemnity). Without the configured seller, a penalty rate ``terms`` set is printed
    among the notes with the 40 € indemnity, as :func:`subbill.l10n.invoice_text` states
    them (but to a consumer). A credit note states neither (it asks no payment), nor a due
    date or an amount due, and names the invoice it corrects (with its date when given it as
    ``corrected``); a credited invoice lists its credit notes above its amount due; an
    invoice whose credit lines credit periods of earlier invoices names them (dated when
    given them as ``credited``).
    This is a consumer's invoice: the e-invoicing obligation is between businesses. Needs
    the optional dependency fpdf2 (``pip install subbill[pdf]``).
    """
    check_instance("invoice", invoice, Invoice)
    heading = None
    if isinstance(seller, SellerParty):
        customer = buyer if isinstance(buyer, Customer) else None
        mentions = printed_mentions(
            invoice, seller, buyer=customer, terms=terms, operation=operation, locale=locale
        )
        notes = [*mentions, *notes]
        heading = phrase("pdf", "legal_notices", locale=locale)
    else:
        # Without the seller's mentions, the late-payment ones the terms set are still
        # stated, as the text states them: the penalty rate and the 40 € indemnity (to a
        # business, on a document that asks a payment).
        customer = buyer if isinstance(buyer, Customer) else None
        notes = [*late_payment_mentions(invoice, terms, customer, locale=locale), *notes]
    credited = tuple(credited)
    reference = _reference(invoice, corrected, locale=locale, credited=credited)
    credit_line_mentions(invoice, locale=locale, credited=credited)  # refused before drawing
    page = _Page(_fpdf()(orientation="P", unit="mm", format="A4"), locale)
    parties = _parties(invoice, seller, buyer, locale=locale)
    page.document(
        invoice, *parties, notes, heading=heading, corrects=reference, corrected=corrected,
        credited=credited,
    )  # fmt: skip
    return bytes(page.pdf.output())


def _reference(
    invoice: Invoice, corrected: Invoice | None, *, locale: str, credited: tuple[Invoice, ...]
) -> str | None:
    """What the heading says of the invoice(s) a credit note corrects (``None``: no line)."""
    several = invoice.kind is DocumentKind.CREDIT_NOTE and bool(invoice.credits_periods_of)
    if invoice.corrects is None and corrected is None and not several:  # names no invoice
        return None
    return corrected_reference(invoice, corrected, locale=locale, credited=credited)


def render_facturx_pdf(
    invoice: Invoice,
    xml: bytes,
    *,
    level: str,
    locale: str,
    seller: SellerParty,
    buyer: Printable,
    notes: Sequence[str] = (),
    corrected: Invoice | None = None,
    credited: Sequence[Invoice] = (),
) -> bytes:
    """Render ``invoice`` as a PDF/A-3B that carries ``xml`` as ``factur-x.xml``.

    ``xml`` is the invoice's Factur-X XML (see :func:`subbill.einvoice.facturx_pdf`, which
    builds it and calls this); ``level`` its conformance level (``"EN 16931"`` or
    ``"BASIC"``, one of :data:`FACTURX_LEVELS`), which the XMP metadata states. The XML is
    attached with the relationship « Data » (the PDF is the XML's visual form), the fonts
    are embedded, the output intent is sRGB (fpdf2's own sRGB2014 profile). ``notes`` are
    printed at the bottom, under the heading « Mentions légales ». The metadata are dated
    the day the invoice was issued (this module reads no clock), so that the same invoice
    gives the same bytes. A credit note names the invoice it corrects, with its date when
    given it as ``corrected``; an invoice names the invoices whose periods it credits,
    dated when given them as ``credited``.
    """
    check_instance("invoice", invoice, Invoice)
    check_instance("seller", seller, SellerParty)
    credited = tuple(credited)
    reference = _reference(invoice, corrected, locale=locale, credited=credited)
    credit_line_mentions(invoice, locale=locale, credited=credited)  # refused before drawing
    if not isinstance(xml, bytes) or not xml.lstrip().startswith(b"<"):
        raise InvalidArgumentError("xml must be the bytes of an XML document (UTF-8)")
    if level not in FACTURX_LEVELS:
        raise InvalidArgumentError(
            f"level={level!r} must be one of {', '.join(repr(x) for x in FACTURX_LEVELS)}"
        )
    pdf = _fpdf()(orientation="P", unit="mm", format="A4", enforce_compliance="PDF/A-3B")
    for style, file in _FONT_FILES:
        pdf.add_font(_FAMILY, style, str(_FONTS / file))
    created = datetime.combine(invoice.issued_on, time(0), tzinfo=UTC)
    title = f"{label(invoice.kind, locale=locale)} {invoice.number or ''}".strip()
    subject = f"{title}, {format_date(invoice.issued_on, locale=locale)}"
    producer = f"{_CREATOR} (fpdf2)"
    pdf.set_title(title)
    pdf.set_author(seller.legal_name)
    pdf.set_subject(subject)
    pdf.set_creator(_CREATOR)
    pdf.set_producer(producer)
    pdf.set_creation_date(created)
    pdf.set_lang(locale.replace("_", "-"))
    pdf.set_xmp_metadata(
        _xmp(
            title=title,
            author=seller.legal_name,
            subject=subject,
            producer=producer,
            created=created,
            level=level,
        )
    )
    pdf.embed_file(
        bytes=xml,
        basename=FACTURX_FILENAME,
        mime_type="text/xml",
        associated_file_relationship="Data",
        modification_date=created,
        desc="Factur-X XML",
        compress=True,
    )
    page = _Page(pdf, locale, family=_FAMILY)
    heading = phrase("pdf", "legal_notices", locale=locale)
    parties = _parties(invoice, seller, buyer, locale=locale)
    page.document(
        invoice, *parties, notes, heading=heading, corrects=reference, corrected=corrected,
        credited=credited,
    )  # fmt: skip
    return bytes(pdf.output())


def _xmp(
    *, title: str, author: str, subject: str, producer: str, created: datetime, level: str
) -> str:
    """The XMP metadata of a Factur-X PDF/A-3B.

    What the Info dictionary says (PDF/A wants both to agree), the PDF/A identification,
    and the Factur-X extension schema with its four properties.
    """
    date = created.isoformat(timespec="seconds")
    properties = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{description}</pdfaProperty:description>"
        "</rdf:li>"
        for name, description in (
            ("DocumentFileName", "The name of the embedded XML document"),
            ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE"),
            ("Version", "The actual version of the standard applying to the embedded XML"),
            ("ConformanceLevel", "The conformance level of the embedded XML document"),
        )
    )
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{escape(author)}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt>\
</dc:description>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdf:Producer>{escape(producer)}</pdf:Producer>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<xmp:CreatorTool>{escape(_CREATOR)}</xmp:CreatorTool>
<xmp:CreateDate>{date}</xmp:CreateDate>
<xmp:ModifyDate>{date}</xmp:ModifyDate>
<xmp:MetadataDate>{date}</xmp:MetadataDate>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>{_FACTURX_URN}</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>fx</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>{properties}</rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:fx="{_FACTURX_URN}">
<fx:DocumentType>INVOICE</fx:DocumentType>
<fx:DocumentFileName>{FACTURX_FILENAME}</fx:DocumentFileName>
<fx:Version>1.0</fx:Version>
<fx:ConformanceLevel>{escape(level)}</fx:ConformanceLevel>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>"""


#: Font sizes tried for the table of lines, largest first: the first whose figures fit.
_TABLE_SIZES = (9.0, 8.0, 7.0, 6.0, 5.0)
#: How many columns wrap (the description and the period); the figures after them never do.
_WRAPPED = 2
#: A line's height, as a multiple of the font size.
_LINE_SPACING = 1.25
#: The least width (mm) the description keeps, however wide the figures.
_LEAST_DESCRIPTION = 30.0


def _table_layout(
    pdf: Any, family: str, headings: Sequence[str], rows: Sequence[Sequence[str]]
) -> tuple[float, tuple[float, ...]]:
    """The font size and the column widths (mm) of the table of lines, measured.

    Each figure's column is as wide as its widest cell (or the longest word of its
    heading, which may wrap), so no amount ever wraps nor overflows; the period keeps its
    widest cell on one line when that leaves the description half of what is left or all
    it needs, else they share it. The largest size of :data:`_TABLE_SIZES` whose figures leave the
    description at least :data:`_LEAST_DESCRIPTION` mm is used (the smallest otherwise).
    """
    pad = 2 * float(pdf.c_margin) + 0.5  # the cell's margins, and a hair against rounding
    for size in _TABLE_SIZES:

        def widest(texts: Sequence[str], style: str = "", size: float = size) -> float:
            pdf.set_font(family, style=style, size=size)
            return max((float(pdf.get_string_width(text)) for text in texts), default=0.0) + pad

        def words(text: str) -> list[str]:
            return text.split() or [text]

        figures = [
            max(widest([row[i] for row in rows]), widest(words(headings[i]), "B"))
            for i in range(_WRAPPED, len(headings))
        ]
        left = pdf.epw - sum(figures)
        if left >= 2 * _LEAST_DESCRIPTION or size == _TABLE_SIZES[-1]:
            period = max(widest([row[1] for row in rows]), widest(words(headings[1]), "B"))
            description = widest([row[0] for row in rows])
            period = min(period, max(left / 2, left - description))
            return size, (left - period, period, *figures)
    raise AssertionError("unreachable: the last size is always taken")  # pragma: no cover


class _Page:
    """One invoice laid out on A4: with the PDF core fonts, or with an embedded font."""

    def __init__(self, pdf: Any, locale: str, *, family: str = _CORE_FAMILY) -> None:
        self.pdf = pdf
        self.locale = locale
        self.colon = words_for("typography", "colon", locale=locale)  # « : », or ": "
        self.family = family
        self.text = _core_text if family == _CORE_FAMILY else _embedded_text
        if family == _CORE_FAMILY:
            pdf.core_fonts_encoding = "windows-1252"  # the core fonts' own: €, «, », é…
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()

    def document(
        self,
        invoice: Invoice,
        seller: list[str],
        buyer: list[str],
        notes: Sequence[str],
        *,
        heading: str | None = None,
        corrects: str | None = None,
        corrected: Invoice | None = None,
        credited: Sequence[Invoice] = (),
    ) -> None:
        self.parties(seller, buyer)
        self.heading(invoice, corrects)
        self.table(invoice)
        self.taxes(invoice)
        self.totals(invoice, corrected, credited)
        # Credit lines of another invoice's periods, named under the totals (as the text).
        self.notes(credit_line_mentions(invoice, locale=self.locale, credited=credited))
        if notes and heading is not None:
            self.pdf.ln(4)
            self.write(heading, size=9, bold=True)
        self.notes(notes)

    def font(self, *, size: float, style: str = "") -> None:
        self.pdf.set_font(self.family, style=style, size=size)

    def write(
        self, text: str, *, size: int = 10, bold: bool = False, align: str = "L", width: float = 0
    ) -> None:
        pdf = self.pdf
        self.font(size=size, style="B" if bold else "")
        last = width == 0
        pdf.cell(
            width,
            5,
            self.text(text),
            align=align,
            new_x="LMARGIN" if last else "RIGHT",
            new_y="NEXT" if last else "TOP",
        )

    def words(self, code: str) -> str:
        return label(code, locale=self.locale)

    def money(self, amount: Money) -> str:
        return format_money(amount, locale=self.locale)

    def parties(self, seller: list[str], buyer: list[str]) -> None:
        """The seller's lines on the left, the buyer's on the right: each wraps in its column."""
        top = self.pdf.get_y()
        self.column(seller, x=self.pdf.l_margin, width=_BUYER_X - self.pdf.l_margin - 5)
        bottom = self.pdf.get_y()
        self.pdf.set_y(top)
        self.column(buyer, x=_BUYER_X, width=0)
        self.pdf.set_y(max(bottom, self.pdf.get_y()))
        self.pdf.ln(6)

    def column(self, lines: list[str], *, x: float, width: float) -> None:
        for index, text in enumerate(lines):
            self.font(size=10, style="B" if index == 0 else "")
            self.pdf.set_x(x)
            self.pdf.multi_cell(width, 5, self.text(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def heading(self, invoice: Invoice, corrects: str | None) -> None:
        number = invoice.number or self.words("draft_number")
        self.write(f"{label(invoice.kind, locale=self.locale)} {number}", size=14, bold=True)
        issued = f"{self.words('issued_on')}{self.colon}" + format_date(
            invoice.issued_on, locale=self.locale
        )
        if asks_payment(invoice):  # a credit note asks no payment: no due date
            due = format_date(invoice.due_on, locale=self.locale)
            issued += f"    {self.words('due_on')}{self.colon}{due}"
        self.write(issued)
        if invoice.subscription:
            self.write(f"{self.words('subscription')}{self.colon}{invoice.subscription}")
        if corrects is not None:  # a credit note names the invoice(s) it corrects
            several = invoice.corrects is None and invoice.credits_periods_of
            heading = self.words("corrects_several" if several else "corrects")
            self.write(f"{heading}{self.colon}{corrects}")
        self.pdf.ln(4)

    def table(self, invoice: Invoice) -> None:
        """The lines, in the columns of the text document, each under its explanation.

        Every column is measured with the font's string widths (:func:`_table_layout`): the
        figures keep their widest cell on one line, the description and the period wrap in
        what is left, so no cell runs into the next whatever the locale and period length.
        """
        headings = [self.text(self.words(code)) for code in LINE_COLUMNS]
        rows = [
            [self.text(cell) for cell in line_cells(item, locale=self.locale)]
            for item in invoice.lines
        ]
        size, widths = _table_layout(self.pdf, self.family, headings, rows)
        self.row(headings, widths, size=size, bold=True)
        self.pdf.ln(1)
        for item, cells in zip(invoice.lines, rows, strict=True):
            self.row(cells, widths, size=size, repeat=(headings, widths))
            self.font(style="I", size=8)
            self.pdf.multi_cell(
                0,
                4,
                self.text(describe_line(item, locale=self.locale)),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            self.pdf.ln(1)
        self.pdf.ln(4)

    def row(
        self,
        cells: Sequence[str],
        widths: Sequence[float],
        *,
        size: float,
        bold: bool = False,
        repeat: tuple[Sequence[str], Sequence[float]] | None = None,
    ) -> None:
        """One row of the table: each cell wraps in its column, the row as tall as its tallest.

        A row that does not fit on the page starts the next one, under the headings
        (``repeat``) again.
        """
        pdf = self.pdf
        self.font(size=size, style="B" if bold else "")
        height = size * _LINE_SPACING / pdf.k
        # The figures fit their column on one line (measured so); headings and text may wrap:
        # their lines are broken once, then each drawn as a cell.
        wrapping = len(cells) if bold else _WRAPPED
        columns = [
            pdf.multi_cell(width, height, cell, dry_run=True, output="LINES")
            if index < wrapping
            else [cell]
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        tallest = max(len(lines) for lines in columns)
        if pdf.get_y() + tallest * height > pdf.page_break_trigger:
            pdf.add_page()
            if repeat is not None:
                self.row(repeat[0], repeat[1], size=size, bold=True)
                pdf.ln(1)
                self.font(size=size, style="B" if bold else "")
        top, x = pdf.get_y(), pdf.l_margin
        for index, (lines, width) in enumerate(zip(columns, widths, strict=True)):
            for number, line in enumerate(lines):
                pdf.set_xy(x, top + number * height)
                pdf.cell(width, height, line, align="L" if index < _WRAPPED else "R")
            x += width
        pdf.set_xy(pdf.l_margin, top + tallest * height)

    def taxes(self, invoice: Invoice) -> None:
        self.write(self.words("vat"), bold=True)
        for row in invoice.taxes:
            words = self.words("tax_on").format(rate=row.rate.name, base=self.money(row.base))
            self.write(words, width=80)
            self.write(self.money(row.tax), width=30, align="R")
            self.pdf.ln(5)
        self.pdf.ln(2)

    def totals(
        self,
        invoice: Invoice,
        corrected: Invoice | None = None,
        credited: Sequence[Invoice] = (),
    ) -> None:
        rows = [
            (self.words("total_net"), invoice.net),
            (self.words("vat"), invoice.tax),
            (self.words("total"), invoice.total),
            # credit, payments, credit notes, amount due: the rows the text shows
            *settlement_rows(invoice, locale=self.locale, corrected=corrected, credited=credited),
        ]
        for name, amount in rows:
            self.pdf.set_x(110)
            self.write(name, width=55, bold=name == self.words("total"))
            self.write(self.money(amount), width=35, align="R")
            self.pdf.ln(5)

    def notes(self, notes: Sequence[str]) -> None:
        for note in notes:
            self.pdf.ln(2)
            self.font(size=8)
            for line in note.split("\n"):
                self.pdf.multi_cell(0, 4, self.text(line), new_x="LMARGIN", new_y="NEXT")

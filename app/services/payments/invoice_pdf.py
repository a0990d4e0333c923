"""The PDF of an invoice or credit note (fpdf2, core fonts: no font files, no system packages).

Core fonts only know Latin-1, so every text goes through `latin1_text`: control characters
become spaces, typographic punctuation its ASCII form, accented letters outside Latin-1
their base letter, and anything else (CJK, emoji) "?". The output is deterministic: the
creation date is the document's issue date and fpdf2 derives the file id from the content.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC
from decimal import Decimal
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.money import to_major
from app.services.payments.invoices import display_number
from models.payments import Invoice

FONT = "helvetica"
# Common characters outside Latin-1 with a faithful ASCII form.
_PUNCTUATION = {
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2026": "...", "\u2022": "*", "\u20ac": "EUR", "\u2122": "TM",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE", "\u0153": "oe",
    "\u0131": "i",
}  # fmt: skip
# Description, SKU, quantity, unit, tax rate, net, tax, total (mm; A4 text width is 190).
_COLUMNS = (58, 24, 12, 22, 16, 20, 18, 20)
_HEADINGS = ("Description", "SKU", "Qty", "Unit price", "Tax %", "Net", "Tax", "Total")


def _latin1_char(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return " "  # NUL, newlines, escapes, C1 controls: never into a content stream
    if code <= 0xFF:
        return char
    if char in _PUNCTUATION:
        return _PUNCTUATION[char]
    category = unicodedata.category(char)
    if category in ("Zs", "Zl", "Zp"):
        return " "
    if category in ("Cf", "Cs"):
        return ""  # direction overrides, zero-width marks, lone surrogates: nothing to print
    # Most accented letters decompose into a base letter and marks: keep the base letter.
    base = "".join(
        part
        for part in unicodedata.normalize("NFKD", char)
        if ord(part) <= 0xFF and not unicodedata.combining(part) and ord(part) >= 0x20
    )
    return base or "?"


def latin1_text(text: str, *, limit: int = 500) -> str:
    """`text` in characters the core fonts can print, at most `limit` of them."""
    return "".join(_latin1_char(char) for char in text[:limit])[:limit]


def _money(amount: int, currency: str) -> str:
    major = to_major(amount, currency)
    return f"{major:,}"


def _rate(rate: str) -> str:
    return f"{Decimal(rate).normalize():f}"


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(FONT, size=8)
        self.cell(0, 10, f"Page {self.page_no()}/{{nb}}", align="C")


def _party(pdf: FPDF, heading: str, party: dict[str, Any], x: float, y: float) -> float:
    pdf.set_xy(x, y)
    pdf.set_font(FONT, style="B", size=10)
    pdf.cell(90, 5, heading, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    texts = [party.get("name", ""), *party.get("address", [])]
    if party.get("email"):
        texts.append(party["email"])
    if party.get("taxId"):
        texts.append(f"Tax ID: {party['taxId']}")
    for text in texts:
        if isinstance(text, str) and text:
            pdf.multi_cell(90, 5, latin1_text(text), new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _lines_table(pdf: FPDF, invoice: Invoice) -> None:
    currency = invoice.currency
    pdf.set_font(FONT, size=8)
    with pdf.table(
        col_widths=_COLUMNS,
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        first_row_as_headings=True,
    ) as table:
        table.row(_HEADINGS)
        for line in invoice.lines:
            table.row(
                (
                    latin1_text(str(line["description"])),
                    latin1_text(str(line["sku"]), limit=64),
                    str(line["quantity"]),
                    _money(line["unitAmount"], currency),
                    _rate(line["taxRate"]),
                    _money(line["netAmount"], currency),
                    _money(line["taxAmount"], currency),
                    _money(line["totalAmount"], currency),
                )
            )


def _totals(pdf: FPDF, invoice: Invoice) -> None:
    currency = invoice.currency
    pdf.ln(4)
    pdf.set_font(FONT, style="B", size=10)
    pdf.cell(0, 6, "Tax breakdown", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    with pdf.table(col_widths=(30, 40, 40), width=110, align="LEFT",
                   text_align=("RIGHT", "RIGHT", "RIGHT")) as table:  # fmt: skip
        table.row(("Rate %", f"Net ({currency})", f"Tax ({currency})"))
        for group in invoice.tax_breakdown:
            table.row((_rate(group["rate"]), _money(group["netAmount"], currency),
                       _money(group["taxAmount"], currency)))  # fmt: skip
    pdf.ln(4)
    for label, amount, style in (
        ("Net", invoice.net_amount, ""),
        ("Tax", invoice.tax_amount, ""),
        ("Credited" if invoice.kind == "credit_note" else "Total", invoice.total_amount, "B"),
    ):
        pdf.set_font(FONT, style=style, size=10)
        pdf.cell(150, 6, label, align="R")
        pdf.cell(40, 6, f"{currency} {_money(amount, currency)}", align="R",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip


def render_pdf(invoice: Invoice) -> bytes:
    """The document as PDF bytes; the same invoice always gives the same bytes."""
    credit = invoice.kind == "credit_note"
    number = display_number(invoice)
    issued = invoice.issued_at.astimezone(UTC)
    pdf = _Document(format="A4")
    pdf.set_creation_date(issued)
    pdf.set_title(latin1_text(f"{'Credit note' if credit else 'Invoice'} {number}"))
    pdf.set_author(latin1_text(str(invoice.seller.get("name", ""))))
    pdf.set_creator("commerce")
    pdf.set_producer("commerce")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=18)
    pdf.cell(0, 10, "Credit note" if credit else "Invoice", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 5, f"Number: {number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, f"Date: {issued:%Y-%m-%d}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(0, 5, f"Currency: {invoice.currency}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    top = pdf.get_y() + 4
    bottom = max(
        _party(pdf, "Seller", invoice.seller, pdf.l_margin, top),
        _party(pdf, "Bill to", invoice.buyer, pdf.l_margin + 100, top),
    )
    pdf.set_xy(pdf.l_margin, bottom + 6)
    _lines_table(pdf, invoice)
    _totals(pdf, invoice)
    return bytes(pdf.output())

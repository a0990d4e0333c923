"""Invoices and credit notes: contents and exact sums in net and gross shops, one document
per order or refund, the credit-note tax rule, and the PDF."""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from app.services.payments.invoice_lines import Portion, split_tax
from app.services.payments.invoice_pdf import latin1_text, render_pdf
from app.services.payments.invoices import (
    display_number,
    issue_credit_note,
    issue_invoice,
    next_number,
)
from models.payments import Invoice, InvoiceSequence
from tests.conftest import make_settings
from tests.payments.invoice_fixtures import LineSpec, make_order, make_refund

SETTINGS = make_settings(
    store_name="Kaffee & Co GmbH",
    store_address="Hauptstraße 1\n\n10115 Berlin \nDE",
    store_tax_id="DE123456789",
)
SELLER = {"name": "Kaffee & Co GmbH", "address": ["Hauptstraße 1", "10115 Berlin", "DE"],
          "taxId": "DE123456789"}  # fmt: skip
# Net prices, 19 %: 3.33 (tax 0.6327 -> 0.63); 3 x 3.33 - 0.99 = 9.00 (1.71); shipping 4.90
# (0.931 -> 0.93). Total 3.96 + 10.71 + 5.83 = 20.50, tax 3.27.
NET_LINES = [LineSpec("Mug", "Blue", 333), LineSpec("Tea", "Green", 333, quantity=3, discount=99)]


def _line(description, sku, quantity, unit, rate, net, tax, total) -> dict:
    return {"description": description, "sku": sku, "quantity": quantity, "unitAmount": unit,
            "taxRate": rate, "netAmount": net, "taxAmount": tax, "totalAmount": total}  # fmt: skip


async def _net_order(session):
    return await make_order(session, NET_LINES, gross=False, shipping=490)


async def test_invoice_of_a_net_shop_sums_to_the_order(session) -> None:
    order, (mug, tea) = await _net_order(session)
    assert (order.total_amount, order.tax_amount) == (2050, 327)

    invoice = await issue_invoice(session, order=order, settings=SETTINGS)

    assert (invoice.kind, invoice.series, invoice.currency) == ("invoice", "INV", "EUR")
    assert invoice.lines == [
        _line("Mug - Blue", mug.sku, 1, 333, "19.000", 333, 63, 396),
        _line("Tea - Green", tea.sku, 3, 333, "19.000", 900, 171, 1071),
        _line("Shipping - Standard", "", 1, 490, "19.000", 490, 93, 583),
    ]
    assert invoice.tax_breakdown == [{"rate": "19.000", "netAmount": 1723, "taxAmount": 327}]
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (1723, 327, 2050)
    assert invoice.seller == SELLER
    assert invoice.buyer == {
        "name": "Ada Lovelace", "email": order.email,
        "address": ["Engines Ltd", "12 St James's Square", "SW1Y 4JH London", "GB"],
    }  # fmt: skip
    assert invoice.issued_at is not None
    assert display_number(invoice) == f"INV-{invoice.number:06d}"


async def test_invoice_of_a_gross_shop_with_two_rates(session) -> None:
    # Gross: 11.90 at 19 % holds 1.90; 3 x 3.33 = 9.99 at 7 % holds 0.6535 -> 0.65; shipping
    # 4.90 at 19 % holds 0.7824 -> 0.78. Total 26.79, tax 3.33.
    lines = [LineSpec("Mug", "", 1190), LineSpec("Book", "Paperback", 333, quantity=3, rate="7")]
    order, (mug, book) = await make_order(session, lines, gross=True, shipping=490, billing=None)
    assert (order.total_amount, order.tax_amount) == (2679, 333)

    invoice = await issue_invoice(session, order=order, settings=SETTINGS)

    assert invoice.lines == [
        _line("Mug", mug.sku, 1, 1190, "19.000", 1000, 190, 1190),
        _line("Book - Paperback", book.sku, 3, 333, "7.000", 934, 65, 999),
        _line("Shipping - Standard", "", 1, 490, "19.000", 412, 78, 490),
    ]
    assert invoice.tax_breakdown == [
        {"rate": "7.000", "netAmount": 934, "taxAmount": 65},
        {"rate": "19.000", "netAmount": 1412, "taxAmount": 268},
    ]
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (2346, 333, 2679)
    # No billing address: the shipping address names the buyer.
    assert invoice.buyer == {"name": "Charles Babbage", "email": order.email,
                             "address": ["1 Dorset Street", "W1U 4EG London", "GB"]}  # fmt: skip


async def test_no_shipping_line_without_shipping(session) -> None:
    order, _ = await make_order(session, [LineSpec("Mug", "Blue", 1000)], gross=False)

    invoice = await issue_invoice(session, order=order, settings=SETTINGS)

    assert [line["description"] for line in invoice.lines] == ["Mug - Blue"]
    assert (invoice.tax_amount, invoice.total_amount) == (190, 1190)


async def test_an_order_has_one_invoice_and_numbers_follow_each_other(session) -> None:
    first_order, _ = await _net_order(session)
    second_order, _ = await _net_order(session)

    first = await issue_invoice(session, order=first_order, settings=SETTINGS)
    again = await issue_invoice(session, order=first_order, settings=SETTINGS)
    second = await issue_invoice(session, order=second_order, settings=SETTINGS)

    assert again.id == first.id
    assert second.number == first.number + 1  # the repeat took no number
    count = select(func.count()).select_from(Invoice).where(Invoice.order_id == first_order.id)
    assert await session.scalar(count) == 1
    last = select(InvoiceSequence.last_number).where(InvoiceSequence.series == "INV")
    assert await session.scalar(last) == second.number


async def test_a_rolled_back_number_is_given_again(session) -> None:
    before = await next_number(session, series="TEST")
    savepoint = await session.begin_nested()
    assert await next_number(session, series="TEST") == before + 1
    await savepoint.rollback()

    assert await next_number(session, series="TEST") == before + 1


async def test_credit_note_by_lines_with_shipping(session) -> None:
    order, (mug, tea) = await _net_order(session)
    # All of the mug (3.96, tax 0.63), 3.00 of the tea (1.71 x 300/1071 = 0.479), all the
    # shipping (5.83, tax 0.93): 2.039 -> 2.04 in all; the tea line takes the cent.
    refund = await make_refund(
        session, order, amount=1279, shipping=583,
        lines=[{"orderLineId": mug.id, "quantity": 1, "amount": 396},
               {"orderLineId": tea.id, "quantity": 1, "amount": 300}],
    )  # fmt: skip

    note = await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)

    assert (note.kind, note.series, note.refund_id, note.order_id) == (
        "credit_note", "CN", refund.id, order.id)  # fmt: skip
    assert note.lines == [
        _line("Mug - Blue", mug.sku, 1, 333, "19.000", 333, 63, 396),
        _line("Tea - Green", tea.sku, 1, 333, "19.000", 252, 48, 300),
        _line("Shipping - Standard", "", 1, 490, "19.000", 490, 93, 583),
    ]
    assert note.tax_breakdown == [{"rate": "19.000", "netAmount": 1075, "taxAmount": 204}]
    assert (note.net_amount, note.tax_amount, note.total_amount) == (1075, 204, 1279)
    assert display_number(note) == f"CN-{note.number:06d}"


async def test_credit_note_by_amount_in_a_net_shop(session) -> None:
    order, _ = await _net_order(session)
    # 10.00 of 20.50 gives back 3.27 x 1000/2050 = 1.5951 -> 1.60.
    refund = await make_refund(session, order, amount=1000)

    note = await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)

    assert note.lines == [_line("Refund", "", 1, 840, "19.000", 840, 160, 1000)]
    assert (note.net_amount, note.tax_amount, note.total_amount) == (840, 160, 1000)


async def test_credit_note_by_amount_spreads_over_the_rates(session) -> None:
    lines = [LineSpec("Mug", "", 1190), LineSpec("Book", "", 333, quantity=3, rate="7")]
    order, _ = await make_order(session, lines, gross=True, shipping=490)
    # Paid at 7 %: 9.99 (tax 0.65); at 19 %: 11.90 + 4.90 = 16.80 (tax 2.68). 10.00 spreads
    # as 3.729 / 6.271 -> 3.73 / 6.27; taxes 0.65 x 373/999 = 0.2427 and 2.68 x 627/1680 =
    # 1.0002, 1.2429 -> 1.24 in all.
    refund = await make_refund(session, order, amount=1000)

    note = await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)

    assert note.lines == [
        _line("Refund", "", 1, 373, "7.000", 349, 24, 373),
        _line("Refund", "", 1, 627, "19.000", 527, 100, 627),
    ]
    assert note.tax_breakdown == [
        {"rate": "7.000", "netAmount": 349, "taxAmount": 24},
        {"rate": "19.000", "netAmount": 527, "taxAmount": 100},
    ]
    assert (note.tax_amount, note.total_amount) == (124, 1000)


async def test_credit_note_of_part_of_the_shipping(session) -> None:
    order, _ = await _net_order(session)
    # 2.00 of shipping 5.83 (tax 0.93): 0.93 x 200/583 = 0.319 -> 0.32.
    refund = await make_refund(session, order, amount=200, shipping=200)

    note = await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)

    assert note.lines == [_line("Shipping - Standard", "", 1, 168, "19.000", 168, 32, 200)]


async def test_a_refund_has_one_credit_note(session) -> None:
    order, _ = await _net_order(session)
    refund = await make_refund(session, order, amount=500)
    other = await make_refund(session, order, amount=100)

    first = await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)
    again = await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)
    second = await issue_credit_note(session, refund=other, order=order, settings=SETTINGS)

    assert again.id == first.id
    assert second.number == first.number + 1
    count = select(func.count()).select_from(Invoice).where(Invoice.order_id == order.id)
    assert await session.scalar(count) == 2


async def test_credit_notes_refuse_what_is_not_a_finished_refund(session) -> None:
    order, (mug, _) = await _net_order(session)
    other_order, _ = await _net_order(session)
    pending = await make_refund(session, order, amount=100, status="pending")
    short = await make_refund(
        session, order, amount=500, lines=[{"orderLineId": mug.id, "quantity": 1, "amount": 396}]
    )
    stranger = await make_refund(session, other_order, amount=100)

    for refund, message in ((pending, "has not succeeded"), (short, "do not add up"),
                            (stranger, "is not a refund of")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)
    count = select(func.count()).select_from(Invoice).where(Invoice.order_id == order.id)
    assert await session.scalar(count) == 0


def test_split_tax_rounds_the_total_once_and_shares_it_by_largest_remainder() -> None:
    thirds = [Portion(1, 3, 1)] * 3  # 1/3 each: 1 in all, to the first (a tie)
    assert split_tax(thirds) == [1, 0, 0]
    assert split_tax([Portion(5, 10, 1)]) == [0]  # 0.5 -> 0 (half-even)
    assert split_tax([Portion(15, 10, 1)]) == [2]  # 1.5 -> 2
    # 0.4 + 0.4 + 0.3 = 1.1 -> 1: the whole share first, the cent to the largest fraction.
    parts = [Portion(4, 10, 1), Portion(3, 10, 1), Portion(4, 10, 1)]
    assert [portion.exact_tax() for portion in parts] == [Fraction(2, 5), Fraction(3, 10),
                                                         Fraction(2, 5)]  # fmt: skip
    assert split_tax(parts) == [1, 0, 0]
    assert split_tax([Portion(396, 396, 63), Portion(300, 1071, 171)]) == [63, 48]


def _page_text(pdf: bytes) -> bytes:
    """The page content streams, inflated."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    texts = []
    for stream in streams:
        try:
            texts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(texts)


async def test_pdf_of_an_invoice_and_of_a_credit_note(session) -> None:
    order, _ = await _net_order(session)
    invoice = await issue_invoice(session, order=order, settings=SETTINGS)
    refund = await make_refund(session, order, amount=1000)
    note = await issue_credit_note(session, refund=refund, order=order, settings=SETTINGS)

    pdf = render_pdf(invoice)
    text = _page_text(pdf)

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"(Invoice)" in text
    assert f"(Number: {display_number(invoice)})".encode() in text
    assert b"(Mug - Blue)" in text and b"(Shipping - Standard)" in text
    assert b"(EUR 20.50)" in text and b"(EUR 3.27)" in text and b"(EUR 17.23)" in text
    assert b"(Hauptstra\xdfe 1)" in text  # Latin-1 as it is
    assert render_pdf(invoice) == pdf  # deterministic
    note_text = _page_text(render_pdf(note))
    assert b"(Credit note)" in note_text and b"(EUR 10.00)" in note_text
    assert f"(Number: {display_number(note)})".encode() in note_text


def test_text_outside_latin1_is_replaced_not_fatal() -> None:
    assert latin1_text("Zoë Łódź") == "Zoë Lódz"
    assert latin1_text("茶 😀 – “x”…") == '? ? - "x"...'
    assert latin1_text("a\x00b\x1b[31m\nc\u202ed\u200b") == "a b [31m cd"
    assert latin1_text("x" * 600) == "x" * 500


def test_pdf_with_hostile_text_renders() -> None:
    hostile = "茶😀\x00\x07(x)\\ \u202eevil\r\n" + "W" * 300
    invoice = Invoice(
        id=1, order_id=1, kind="invoice", series="INV", number=7, currency="JPY",
        seller={"name": hostile, "address": [hostile], "taxId": hostile},
        buyer={"name": "Zoë 王 😀", "email": hostile, "address": [hostile, "\x00"]},
        lines=[_line(hostile, hostile, 2, 1500, "10.000", 2728, 272, 3000)],
        tax_breakdown=[{"rate": "10.000", "netAmount": 2728, "taxAmount": 272}],
        net_amount=2728, tax_amount=272, total_amount=3000,
        issued_at=datetime(2024, 5, 1, 23, 30, tzinfo=UTC),
    )  # fmt: skip

    pdf = render_pdf(invoice)
    text = _page_text(pdf)

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"\x00" not in text and b"\x07" not in text
    assert b"(Zo\xeb ? ?)" in text
    assert b"(Number: INV-000007)" in text and b"(JPY 3,000)" in text
    assert b"(Date: 2024-05-01)" in text

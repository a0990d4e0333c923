"""Invoices (one per paid order) and credit notes (one per succeeded refund), frozen at issue.

Numbers: one series per kind ("INV", "CN"), sequential and gap-free. The next number is
taken by one upsert of the series row in the caller's transaction: concurrent issuers wait
on that row, and a rollback gives the number back. The order row is locked first (always
order, then series), so two issuers of the same order cannot both number a document.

Amounts are positive minor units of the order's currency; the kind says a credit note gives
money back. A line's totalAmount is gross, taxAmount the tax in it, netAmount the rest;
unitAmount is the unit price as the shop enters prices (gross when the order's prices
include tax, net otherwise). Every document total is the sum of its lines.

Invoice: the order's lines ("product - variant") and a shipping line when shipping was
charged, with the taxes the order froze, so its totals are the order's total and tax.

Credit note tax rule: money given back carries back the tax in the proportion it bears to
what was paid for the same thing. A refunded order line of amount a (gross) gives back
line tax x a / line total; refunded shipping s gives back shipping tax x s / shipping gross;
a refund by amount is first spread over the order's tax rates in proportion to the gross
paid at each (largest remainder), one "Refund" line per rate, each giving back that rate's
tax in the same proportion. The exact proportional taxes are summed and rounded half-even
once, and that total is shared over the lines by largest remainder: the lines sum to it
exactly, and a line that refunds all that was paid for it gives back exactly its tax. Each
credit note is rounded on its own, so several partial refunds of one line can together
differ from that line's tax by a cent per refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.checkout.pricing import spread
from app.services.payments.invoice_lines import (
    Portion,
    document_line,
    shipping_rate,
    split_tax,
    tax_breakdown,
)
from app.settings import Settings
from models.orders import Order, OrderLine
from models.payments import Invoice, InvoiceSequence, Refund

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"


def display_number(invoice: Invoice) -> str:
    """The document number as printed: "INV-000042", "CN-000007"."""
    return f"{invoice.series}-{invoice.number:06d}"


async def next_number(session: AsyncSession, *, series: str) -> int:
    """Take the next number of `series` in the caller's transaction (gap-free)."""
    statement = (
        insert(InvoiceSequence)
        .values(series=series, last_number=1)
        .on_conflict_do_update(
            index_elements=[InvoiceSequence.series],
            set_={"last_number": InvoiceSequence.last_number + 1},
        )
        .returning(InvoiceSequence.last_number)
    )
    number = await session.scalar(statement)
    assert number is not None  # RETURNING of an upsert always has its row
    return number


def seller_of(settings: Settings) -> dict[str, Any]:
    lines = [line.strip() for line in settings.store_address.split("\n")]
    return {
        "name": settings.store_name,
        "address": [line for line in lines if line],
        "taxId": settings.store_tax_id,
    }


def buyer_of(order: Order) -> dict[str, Any]:
    """Name and address from the billing address (else the shipping address), and email."""
    address = order.billing_address or order.shipping_address or {}

    def part(key: str) -> str:
        value = address.get(key)
        return value.strip() if isinstance(value, str) else ""

    name = " ".join(filter(None, (part("first_name"), part("last_name"))))
    city = " ".join(filter(None, (part("postal_code"), part("city"))))
    lines = [part("company"), part("street_address_1"), part("street_address_2"), city,
             part("country_area"), part("country")]  # fmt: skip
    return {"name": name, "email": order.email, "address": [line for line in lines if line]}


def _description(line: OrderLine) -> str:
    return " - ".join(filter(None, (line.product_name, line.variant_name)))


def _shipping_gross(order: Order) -> int:
    if order.prices_include_tax:
        return order.shipping_amount
    return order.shipping_amount + order.shipping_tax_amount


def _entered(order: Order, gross: int, tax: int) -> int:
    """An amount as the shop enters prices (gross or net) from its gross and tax."""
    return gross if order.prices_include_tax else gross - tax


def _shipping_description(order: Order) -> str:
    return f"Shipping - {order.shipping_method_name}" if order.shipping_method_name else "Shipping"


def _shipping_rate(order: Order, lines: list[OrderLine]) -> Decimal:
    rates = [line.tax_rate for line in lines]
    return shipping_rate(
        _shipping_gross(order), order.shipping_tax_amount, rates, gross=order.prices_include_tax
    )


async def _locked_order_lines(session: AsyncSession, order: Order) -> list[OrderLine]:
    # The order row first, then the series row: one fixed lock order for every issuer.
    await session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    rows = await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
    )
    return list(rows)


async def _issue(
    session: AsyncSession, *, order: Order, settings: Settings, kind: str, series: str,
    lines: list[dict[str, Any]], refund_id: int | None = None,
) -> Invoice:  # fmt: skip
    number = await next_number(session, series=series)  # last: the series row is hot
    invoice = Invoice(
        order_id=order.id,
        refund_id=refund_id,
        kind=kind,
        series=series,
        number=number,
        currency=order.currency,
        seller=seller_of(settings),
        buyer=buyer_of(order),
        lines=lines,
        tax_breakdown=tax_breakdown(lines),
        net_amount=sum(line["netAmount"] for line in lines),
        tax_amount=sum(line["taxAmount"] for line in lines),
        total_amount=sum(line["totalAmount"] for line in lines),
    )
    session.add(invoice)
    await session.flush()
    return invoice


async def issue_invoice(session: AsyncSession, *, order: Order, settings: Settings) -> Invoice:
    """The order's invoice: issued (numbered "INV") the first time, the same one after."""
    order_lines = await _locked_order_lines(session, order)
    existing = await session.scalar(
        select(Invoice).where(Invoice.order_id == order.id, Invoice.kind == "invoice")
    )
    if existing is not None:
        return existing
    lines = [
        document_line(
            description=_description(line),
            sku=line.sku,
            quantity=line.quantity,
            unit_amount=line.unit_price_amount,
            tax_rate=line.tax_rate,
            tax_amount=line.tax_amount,
            total_amount=line.total_amount,
        )
        for line in order_lines
    ]
    shipping = _shipping_gross(order)
    if order.shipping_amount > 0:
        lines.append(
            document_line(
                description=_shipping_description(order),
                sku="",
                quantity=1,
                unit_amount=order.shipping_amount,
                tax_rate=_shipping_rate(order, order_lines),
                tax_amount=order.shipping_tax_amount,
                total_amount=shipping,
            )
        )
    total = sum(line["totalAmount"] for line in lines)
    tax = sum(line["taxAmount"] for line in lines)
    if (total, tax) != (order.total_amount, order.tax_amount):
        # The order froze inconsistent amounts: an invoice must not disagree with it.
        raise ValueError(
            f"order {order.id}: lines sum to total {total}, tax {tax}; the order says"
            f" {order.total_amount}, {order.tax_amount}"
        )
    return await _issue(
        session, order=order, settings=settings, kind="invoice", series=INVOICE_SERIES, lines=lines
    )


async def issue_credit_note(
    session: AsyncSession, *, refund: Refund, order: Order, settings: Settings
) -> Invoice:
    """The refund's credit note (numbered "CN"): issued the first time, the same one after.

    Raises ValueError for a refund that is not of this order, has not succeeded, or whose
    lines do not add up to its amount (programming errors: refunds are checked when asked).
    """
    if refund.order_id != order.id or refund.currency != order.currency:
        raise ValueError(f"refund {refund.id} is not a refund of order {order.id}")
    if refund.status != "succeeded":
        raise ValueError(f"refund {refund.id} has not succeeded: no credit note yet")
    order_lines = await _locked_order_lines(session, order)
    existing = await session.scalar(select(Invoice).where(Invoice.refund_id == refund.id))
    if existing is not None:
        return existing
    lines = _credit_lines(refund, order, order_lines)
    return await _issue(
        session,
        order=order,
        settings=settings,
        kind="credit_note",
        series=CREDIT_NOTE_SERIES,
        lines=lines,
        refund_id=refund.id,
    )


@dataclass(frozen=True)
class _Credit:
    """A credit note line before its tax: what is given back, of what was paid for it."""

    description: str
    sku: str
    quantity: int
    rate: Decimal
    portion: Portion
    unit_amount: int | None = None  # None: the amount itself, as the shop enters prices


def _credit_lines(
    refund: Refund, order: Order, order_lines: list[OrderLine]
) -> list[dict[str, Any]]:
    """The credit note's lines with their tax (module docstring, "Credit note tax rule")."""
    goods = refund.amount - refund.shipping_amount
    if goods < 0:
        raise ValueError(f"refund {refund.id}: shipping exceeds its amount")
    if refund.lines:
        credits = _refund_by_lines(refund, order_lines)
        if sum(credit.portion.amount for credit in credits) != goods:
            raise ValueError(f"refund {refund.id}: lines do not add up to its amount")
    else:
        credits = _refund_by_amount(goods, order, order_lines)
    if refund.shipping_amount > 0:
        paid = Portion(refund.shipping_amount, _shipping_gross(order), order.shipping_tax_amount)
        rate = _shipping_rate(order, order_lines)
        credits.append(_Credit(_shipping_description(order), "", 1, rate, paid))
    taxes = split_tax([credit.portion for credit in credits])
    return [
        document_line(
            description=credit.description,
            sku=credit.sku,
            quantity=credit.quantity,
            unit_amount=(
                _entered(order, credit.portion.amount, tax)
                if credit.unit_amount is None
                else credit.unit_amount
            ),
            tax_rate=credit.rate,
            tax_amount=tax,
            total_amount=credit.portion.amount,
        )
        for credit, tax in zip(credits, taxes, strict=True)
    ]


def _refund_by_lines(refund: Refund, order_lines: list[OrderLine]) -> list[_Credit]:
    by_id = {line.id: line for line in order_lines}
    credits = []
    for item in refund.lines:
        line = by_id.get(int(item["orderLineId"]))
        amount, quantity = int(item["amount"]), int(item["quantity"])
        if (
            line is None
            or not 0 <= amount <= line.total_amount
            or not 0 < quantity <= line.quantity
        ):
            raise ValueError(f"refund {refund.id}: bad line {item}")
        paid = Portion(amount, line.total_amount, line.tax_amount)
        credits.append(
            _Credit(
                _description(line),
                line.sku,
                quantity,
                line.tax_rate,
                paid,
                unit_amount=line.unit_price_amount,
            )
        )
    return credits


def _refund_by_amount(amount: int, order: Order, order_lines: list[OrderLine]) -> list[_Credit]:
    """A plain refund: one "Refund" line per tax rate of the order, spread by gross paid."""
    if amount > order.total_amount:
        raise ValueError(f"a refund of {amount} exceeds order {order.id}'s total")
    paid: dict[Decimal, list[int]] = {}
    for line in order_lines:
        sums = paid.setdefault(line.tax_rate, [0, 0])
        sums[0] += line.total_amount
        sums[1] += line.tax_amount
    if order.shipping_amount > 0:
        sums = paid.setdefault(_shipping_rate(order, order_lines), [0, 0])
        sums[0] += _shipping_gross(order)
        sums[1] += order.shipping_tax_amount
    rates = sorted(paid)
    shares = spread(amount, [paid[rate][0] for rate in rates])
    return [
        _Credit("Refund", "", 1, rate, Portion(share, paid[rate][0], paid[rate][1]))
        for rate, share in zip(rates, shares, strict=True)
        if share > 0
    ]

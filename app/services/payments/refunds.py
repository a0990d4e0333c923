"""Refunds asked for by staff: by amount, or by lines (with the shipping or not), never more
than was captured and not yet given back, exact under concurrent requests.

`request_refund` runs in the caller's transaction with the order and its payments locked:
it reserves the amount on the payment (`refund_reserved_amount`), so a second refund racing
the first sees what the first took and is refused. The provider is asked afterwards
(`provider_calls.execute_refund`).

A line's refund is its share of what the line cost after discount and with tax; refunding a
line in parts telescopes (`total * (done + now) // quantity - total * done // quantity`), so
the parts always add up to the line's total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, PaymentError
from app.money import to_major, to_minor
from app.services.checks import clean_text
from app.services.payments.records import first_worker_attempt, locked_payments_of
from models.orders import Order, OrderLine
from models.payments import Payment, Refund

MAX_REASON_LENGTH = 500
MAX_KEY_LENGTH = 255
MAX_LINES = 500


@dataclass(frozen=True)
class LineQuantity:
    """Units of one order line (refunds, shipments, returns)."""

    line_id: int | None  # None: an ID that names no order line
    quantity: int


RefundLineData = LineQuantity


@dataclass(frozen=True)
class RefundData:
    amount: Decimal | None
    lines: list[RefundLineData] | None
    include_shipping: bool
    reason: str
    idempotency_key: str | None


def gross_shipping(order: Order) -> int:
    """What the shipping cost the customer, tax included."""
    return order.shipping_amount + (0 if order.prices_include_tax else order.shipping_tax_amount)


async def _given_back(session: AsyncSession, order: Order) -> tuple[dict[int, int], int]:
    """Per line the units refunded or being refunded, and the shipping so refunded."""
    refunds = await session.scalars(
        select(Refund).where(Refund.order_id == order.id, Refund.status != "failed")
    )
    rows = list(refunds)
    return units_refunded(rows), sum(refund.shipping_amount for refund in rows)


def units_refunded(refunds: Iterable[Refund]) -> dict[int, int]:
    """Per order line, the units these refunds give back."""
    units: dict[int, int] = {}
    for refund in refunds:
        for line in refund.lines:
            key = int(line["orderLineId"])
            units[key] = units.get(key, 0) + int(line["quantity"])
    return units


async def _by_lines(
    session: AsyncSession, order: Order, lines: list[RefundLineData], units: dict[int, int]
) -> tuple[list[dict[str, int]], int]:
    if len(lines) > MAX_LINES:
        raise PaymentError(ErrorCode.INVALID, f"At most {MAX_LINES} lines.", field="lines")
    rows = {
        row.id: row
        for row in await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
    }
    seen: set[int] = set()
    chosen: list[dict[str, int]] = []
    total = 0
    for index, item in enumerate(lines):
        field = f"lines.{index}"
        row = rows.get(item.line_id) if item.line_id is not None else None
        if row is None:
            raise PaymentError(
                ErrorCode.NOT_FOUND, "No such line on this order.", field=f"{field}.lineId"
            )
        if row.id in seen:
            raise PaymentError(ErrorCode.INVALID, "A line is named twice.", field=field)
        seen.add(row.id)
        done = units.get(row.id, 0)
        if not 1 <= item.quantity <= row.quantity - done:
            raise PaymentError(
                ErrorCode.REFUND_EXCEEDS_LINE,
                f"{row.quantity - done} of {row.quantity} units of this line are left to refund.",
                field=f"{field}.quantity",
            )
        share = (
            row.total_amount * (done + item.quantity) // row.quantity
            - row.total_amount * done // row.quantity
        )
        chosen.append({"orderLineId": row.id, "quantity": item.quantity, "amount": share})
        total += share
    return chosen, total


def _clean_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not 0 < len(value) <= MAX_KEY_LENGTH or not value.isprintable():
        raise PaymentError(
            ErrorCode.INVALID,
            f"The idempotency key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            field="idempotencyKey",
        )
    return value


async def request_refund(
    session: AsyncSession, *, order_id: int, data: RefundData, user_id: int | None
) -> Refund:
    """Reserve and record a pending refund; the same idempotency key returns the first."""
    key = _clean_key(data.idempotency_key)
    reason = clean_text(data.reason, field="reason", max_length=MAX_REASON_LENGTH)
    order = await session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(
            populate_existing=True
        )
    )  # fmt: skip
    if order is None:
        raise PaymentError(ErrorCode.NOT_FOUND, "No such order.", field="orderId")
    if key is not None:
        earlier = await session.scalar(
            select(Refund).where(Refund.order_id == order.id, Refund.idempotency_key == key)
        )
        if earlier is not None:
            return earlier
    payments = await locked_payments_of(session, order.id)
    units, shipping_done = await _given_back(session, order)
    lines: list[dict[str, int]] = []
    shipping = 0
    if data.amount is not None:
        if data.lines is not None or data.include_shipping:
            raise PaymentError(
                ErrorCode.INVALID, "Refund by amount or by lines, not both.", field="amount"
            )
        amount = to_minor(data.amount, order.currency, field="amount")
    else:
        lines, amount = await _by_lines(session, order, data.lines or [], units)
        if data.include_shipping:
            shipping = gross_shipping(order) - shipping_done
            amount += shipping
    if amount <= 0:
        raise PaymentError(ErrorCode.NOTHING_TO_REFUND, "Nothing to refund.", field="amount")
    payment = max(payments, key=_refundable, default=None)
    left = _refundable(payment) if payment is not None else 0
    if left <= 0:
        raise PaymentError(
            ErrorCode.NOTHING_TO_REFUND, "No captured money is left to refund.", field="orderId"
        )
    if amount > left:
        raise PaymentError(
            ErrorCode.REFUND_EXCEEDS_CAPTURED,
            f"At most {to_major(left, order.currency)} {order.currency} can be refunded.",
            field="amount" if data.amount is not None else "lines",
        )
    assert payment is not None
    payment.refund_reserved_amount += amount
    refund = Refund(
        order_id=order.id,
        payment_id=payment.id,
        status="pending",
        amount=amount,
        currency=order.currency,
        shipping_amount=shipping,
        lines=lines,
        reason=reason,
        origin="staff",
        # The caller asks the provider right after the commit; the worker only later.
        next_attempt_at=first_worker_attempt(),
        idempotency_key=key,
        user_id=user_id,
    )
    session.add(refund)
    await session.flush()
    return refund


def _refundable(payment: Payment) -> int:
    return payment.captured_amount - payment.refunded_amount - payment.refund_reserved_amount

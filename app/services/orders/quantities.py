"""Per order line: how many units were shipped, delivered, and are held by returns."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.payments.refunds import units_refunded
from models.fulfilment import (
    RETURN_HOLDING_STATUSES,
    OrderReturn,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from models.orders import Order
from models.payments import Refund


async def shipped_by_line(session: AsyncSession, order_id: int) -> dict[int, int]:
    """Units of each line that left in shipments (counted on the shipment lines: a variant
    that does not track inventory has no allocation, its units ship all the same)."""
    rows = await session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order_id)
        .group_by(ShipmentLine.order_line_id)
    )
    return {line_id: int(total) for line_id, total in rows}


async def delivered_by_line(session: AsyncSession, order_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order_id, Shipment.status == "delivered")
        .group_by(ShipmentLine.order_line_id)
    )
    return {line_id: int(total) for line_id, total in rows}


async def returned_by_line(
    session: AsyncSession, order_id: int, statuses: tuple[str, ...] = RETURN_HOLDING_STATUSES
) -> dict[int, int]:
    """Units of each line in the order's returns of `statuses` (by default every return that
    was not rejected: requested units are held until staff answer)."""
    rows = await session.execute(
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(OrderReturn, OrderReturn.id == ReturnLine.return_id)
        .where(OrderReturn.order_id == order_id, OrderReturn.status.in_(statuses))
        .group_by(ReturnLine.order_line_id)
    )
    return {line_id: int(total) for line_id, total in rows}


async def refunded_before_shipping(session: AsyncSession, order: Order) -> dict[int, int]:
    """Units of each line refunded other than through a return (out of stock, goodwill): they
    are not to be shipped. Refunds of returns give back units that were shipped already."""
    return_refunds = select(OrderReturn.refund_id).where(
        OrderReturn.order_id == order.id, OrderReturn.refund_id.is_not(None)
    )
    refunds = await session.scalars(
        select(Refund).where(
            Refund.order_id == order.id,
            Refund.status != "failed",
            Refund.id.not_in(return_refunds),
        )
    )
    return units_refunded(refunds)

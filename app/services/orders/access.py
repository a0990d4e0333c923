"""Who acts on an order, and the order locked for them: its customer by ID (signed in), staff
with MANAGE_ORDERS by ID, anyone holding its token (a guest). Anything else is NOT_FOUND,
exactly as for an order that does not exist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError
from models.orders import Order


@dataclass(frozen=True)
class Who:
    user_id: int | None
    staff: bool
    token: str | None = None


def not_found(field: str = "id") -> OrderError:
    return OrderError(ErrorCode.NOT_FOUND, "No such order.", field=field)


async def locked_order(
    session: AsyncSession, *, order_id: int | None, who: Who, field: str = "id"
) -> Order:
    """The order FOR UPDATE if `who` may act on it; NOT_FOUND otherwise."""
    query = select(Order).with_for_update().execution_options(populate_existing=True)
    if who.token:
        order = await session.scalar(query.where(Order.token == who.token))
    elif order_id is not None and (who.staff or who.user_id is not None):
        order = await session.scalar(query.where(Order.id == order_id))
        if order is not None and not (who.staff or order.user_id == who.user_id):
            order = None
    else:
        order = None
    if order is None:
        raise not_found(field)
    return order


async def locked_for_staff(session: AsyncSession, order_id: int, *, field: str = "id") -> Order:
    """The order FOR UPDATE, for a staff action (the permission was checked by the API)."""
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise not_found(field)
    return order

"""Reading orders: one by id for its owner or staff, one by its token for a guest, and a
customer's own orders newest first."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.pagination import KeysetQuery, newest_first
from models.orders import PAID_STATUSES, Order, OrderLine


async def order_by_id(
    session: AsyncSession, *, order_id: int, viewer_id: int | None, staff: bool
) -> Order | None:
    """The order if the viewer owns it or is staff with MANAGE_ORDERS; else None."""
    order: Order | None = await session.scalar(select(Order).where(Order.id == order_id))
    if order is None or not (staff or (viewer_id is not None and order.user_id == viewer_id)):
        return None
    return order


async def order_by_token(session: AsyncSession, *, token: str) -> Order | None:
    """The order whose random token this is (a guest's link to it)."""
    if not token:
        return None
    order: Order | None = await session.scalar(select(Order).where(Order.token == token))
    return order


def orders_of_user(user_id: int) -> KeysetQuery:
    """A customer's orders, newest first."""
    return KeysetQuery(
        select(Order).where(Order.user_id == user_id),
        keys=newest_first(Order.created_at, Order.id),
        tag="orders:newest",
    )


async def has_bought(session: AsyncSession, *, user_id: int, product_id: int) -> bool:
    """Whether the customer has a paid order with a line of the product."""
    bought = await session.scalar(
        select(
            exists().where(
                Order.user_id == user_id,
                Order.status.in_(PAID_STATUSES),
                OrderLine.order_id == Order.id,
                OrderLine.product_id == product_id,
            )
        )
    )
    return bool(bought)

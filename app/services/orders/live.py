"""Live order status for subscribers: who may follow an order, and what it missed.

A subscriber names the last sequence number it saw; it first gets every later change from
the history (`order_events`), then live ones. A live message is only a signal: what is sent
is always read back from the history, in sequence order, so a message lost on the way (Redis
restarting, a subscriber registering late) or two arriving out of order never leave a gap.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.orders import Order, OrderEvent

# At most this many changes are sent in one catch-up read (the rest follow at once after).
CATCH_UP_BATCH = 200


async def followable_order(
    session: AsyncSession,
    *,
    order_id: int | None,
    token: str | None,
    viewer_id: int | None,
    staff: bool,
) -> Order | None:
    """The order a subscriber may follow: by id for its customer or staff, by its token for
    anyone holding it (a guest); None otherwise, as for a missing order."""
    if token:
        order: Order | None = await session.scalar(select(Order).where(Order.token == token))
        return order
    if order_id is None or (viewer_id is None and not staff):
        return None
    order = await session.scalar(select(Order).where(Order.id == order_id))
    if order is None or not (staff or order.user_id == viewer_id):
        return None
    return order


async def changes_after(
    session: AsyncSession, *, order_id: int, sequence: int
) -> list[OrderEvent] | None:
    """The order's status changes after `sequence`, oldest first; None once the order is
    gone (a deleted order has nothing more to follow)."""
    rows = list(
        await session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.sequence > sequence)
            .order_by(OrderEvent.sequence)
            .limit(CATCH_UP_BATCH)
        )
    )
    if not rows and await session.scalar(select(Order.id).where(Order.id == order_id)) is None:
        return None
    return rows

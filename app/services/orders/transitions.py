"""The order state machine: which status may follow which, and who may move an order.

This release knows placing, payment and cancellation; fulfilment, delivery and returns
extend `ALLOWED` (the orders issue). Every move goes through `move`, which refuses an
illegal one with ILLEGAL_TRANSITION naming the statuses that may follow.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError
from app.services.orders.events import record_status
from models.orders import Order, OrderEvent

ALLOWED: dict[str, tuple[str, ...]] = {
    "pending_payment": ("authorized", "paid", "cancelled"),
    "authorized": ("paid", "pending_payment", "cancelled"),
    "paid": ("cancelled",),
    "cancelled": (),
}


def check(order: Order, to_status: str, *, field: str | None = None) -> None:
    """ILLEGAL_TRANSITION unless `to_status` may follow the order's status."""
    allowed = ALLOWED.get(order.status, ())
    if to_status not in allowed:
        then = ", ".join(allowed) if allowed else "nothing: it is final"
        raise OrderError(
            ErrorCode.ILLEGAL_TRANSITION,
            f"A {order.status} order cannot become {to_status}; it may become {then}.",
            field=field,
        )


async def move(
    session: AsyncSession, order: Order, to_status: str, *, user_id: int | None,
    field: str | None = None,
) -> OrderEvent:  # fmt: skip
    """Move the (locked) order to `to_status` if the machine allows it; a history row, an
    outbox notification and a pub/sub message (events.record_status)."""
    check(order, to_status, field=field)
    return await record_status(session, order, to_status, user_id)

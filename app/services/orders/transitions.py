"""The order state machine: which status may follow which.

    pending_payment -> authorized | paid | cancelled
    authorized      -> paid | pending_payment | cancelled
    paid            -> partially_fulfilled | fulfilled | partially_refunded | refunded | cancelled
    partially_fulfilled -> fulfilled | partially_refunded | refunded
    fulfilled       -> delivered | partially_refunded | refunded
    delivered       -> returned | partially_refunded | refunded
    partially_refunded -> partially_fulfilled | fulfilled | delivered | returned | refunded
                          | cancelled
    returned        -> partially_refunded | refunded
    refunded, cancelled: final

The status names the order's latest milestone; what was shipped, delivered, returned and
refunded is in the order's lines and money fields (a partially refunded order still ships).
Every move goes through `move`, which refuses an illegal one with ILLEGAL_TRANSITION naming the
statuses that may follow.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError
from app.services.orders.events import record_status
from models.orders import Order, OrderEvent

ALLOWED: dict[str, tuple[str, ...]] = {
    "pending_payment": ("authorized", "paid", "cancelled"),
    "authorized": ("paid", "pending_payment", "cancelled"),
    "paid": ("partially_fulfilled", "fulfilled", "partially_refunded", "refunded", "cancelled"),
    "partially_fulfilled": ("fulfilled", "partially_refunded", "refunded"),
    "fulfilled": ("delivered", "partially_refunded", "refunded"),
    "delivered": ("returned", "partially_refunded", "refunded"),
    "partially_refunded": (
        "partially_fulfilled",
        "fulfilled",
        "delivered",
        "returned",
        "refunded",
        "cancelled",
    ),
    "returned": ("partially_refunded", "refunded"),
    "refunded": (),
    "cancelled": (),
}


def allows(order: Order, to_status: str) -> bool:
    return to_status in ALLOWED.get(order.status, ())


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
    field: str | None = None, note: str = "",
) -> OrderEvent:  # fmt: skip
    """Move the (locked) order to `to_status` if the machine allows it; a history row, the
    customer's notifications and a pub/sub message (events.record_status)."""
    check(order, to_status, field=field)
    return await record_status(session, order, to_status, user_id, note=note)


async def move_if_allowed(
    session: AsyncSession, order: Order, to_status: str, *, user_id: int | None, note: str = ""
) -> OrderEvent | None:
    """`move` when the machine allows it and the order is not there yet; else nothing (a
    consequence such as a settled refund never fails for the status it would have set)."""
    if order.status == to_status or not allows(order, to_status):
        return None
    return await record_status(session, order, to_status, user_id, note=note)

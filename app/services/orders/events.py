"""An order's status change: a history row, an outbox notification and a pub/sub message,
all numbered with the order's next sequence number (clients resume from the last one seen).

`record_status` checks nothing about which transitions are allowed: transitions.move does.
The customer hears of every change on the channels their preferences allow (notify.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.events import after_commit, emit
from app.metrics import ORDER_REVENUE, ORDERS_PLACED
from app.services.orders.notify import notify_customer
from models.orders import PAID_STATUSES, Order, OrderEvent

TEMPLATE = "order_status"


def channel_of(order_id: int) -> str:
    """The pub/sub channel of one order's status messages."""
    return f"order:{order_id}"


def customer_channel_of(user_id: int) -> str:
    """The pub/sub channel of the status messages of all of one customer's orders."""
    return f"user-orders:{user_id}"


async def record_status(
    session: AsyncSession, order: Order, to_status: str, user_id: int | None, *, note: str = ""
) -> OrderEvent:
    """Move `order` to `to_status` (the first call, on a new order, records None -> status).

    Nothing is flushed here: the history row, the outbox row and the order's new status go
    in with the caller's next flush, so two changes in one transaction cost one statement
    per table.
    """
    from_status = order.status if order.event_sequence else None
    order.event_sequence += 1
    order.status = to_status
    event = OrderEvent(
        order_id=order.id,
        sequence=order.event_sequence,
        from_status=from_status,
        to_status=to_status,
        user_id=user_id,
        note=note,
    )
    session.add(event)
    message: dict[str, Any] = {
        "kind": "ORDER_STATUS",
        "orderId": order.id,
        "number": order.number,
        "sequence": order.event_sequence,
        "fromStatus": from_status,
        "toStatus": to_status,
    }
    await notify_customer(
        session, order, kind="order_updates", template=TEMPLATE,
        payload={**message, "event": "order_status", "total": order.total_amount,
                 "currency": order.currency},
    )  # fmt: skip
    emit(session, channel_of(order.id), message)
    if order.user_id is not None:
        emit(session, customer_channel_of(order.user_id), message)
    _count(session, order, from_status, to_status)
    return event


def _count(session: AsyncSession, order: Order, from_status: str | None, to_status: str) -> None:
    """Orders placed, and revenue when an order becomes paid, once the change commits."""
    currency, total = order.currency, order.total_amount
    if from_status is None:
        after_commit(session, ORDERS_PLACED.labels(currency).inc)
    if to_status in PAID_STATUSES and (from_status is None or from_status not in PAID_STATUSES):
        after_commit(session, lambda: ORDER_REVENUE.labels(currency).inc(total))

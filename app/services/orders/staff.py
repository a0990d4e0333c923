"""Staff tools on an order: notes, and the manual transitions the machine allows that have no
flow of their own (each with an audit row, in the action's transaction)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError
from app.services.checks import clean_text
from app.services.orders.access import locked_for_staff
from app.services.orders.audit import audit
from app.services.orders.transitions import ALLOWED, move
from models.fulfilment import Shipment
from models.orders import Order, OrderNote

MAX_NOTE = 2000
# Bookkeeping moves staff make by hand: a delivery the carrier never reported (every shipment
# is marked delivered), or a return handled outside the returns flow.
MANUAL: dict[str, tuple[str, ...]] = {"fulfilled": ("delivered",), "delivered": ("returned",)}
# Targets with a mutation of their own, which also moves money or stock.
DEDICATED = {
    "cancelled": "orderCancel",
    "refunded": "orderRefund",
    "partially_refunded": "orderRefund",
    "fulfilled": "orderFulfil",
    "partially_fulfilled": "orderFulfil",
    "paid": "orderPaymentCapture",
    "authorized": "checkoutComplete",
    "pending_payment": "orderPaymentVoid",
    "returned": "returnReceive",
    "delivered": "shipmentDeliver",
}


async def add_note(
    session: AsyncSession, *, order_id: int, body: str, user_id: int | None
) -> tuple[Order, OrderNote]:
    text = clean_text(body, field="body", max_length=MAX_NOTE, required=True, multiline=True)
    order = await locked_for_staff(session, order_id)
    note = OrderNote(order_id=order.id, user_id=user_id, body=text)
    session.add(note)
    await session.flush()
    audit(session, order_id=order.id, user_id=user_id, action="note.add",
          details={"noteId": note.id})  # fmt: skip
    await session.flush()
    return order, note


async def transition(
    session: AsyncSession, *, order_id: int, to_status: str, note: str | None,
    user_id: int | None,
) -> Order:  # fmt: skip
    """orderStatusUpdate: a manual move from MANUAL, with the note in the history row."""
    text = clean_text(note, field="note", max_length=500, multiline=True)
    order = await locked_for_staff(session, order_id)
    manual = MANUAL.get(order.status, ())
    if to_status not in manual:
        if to_status in ALLOWED.get(order.status, ()) and to_status in DEDICATED:
            raise OrderError(
                ErrorCode.USE_DEDICATED_MUTATION,
                f"Use {DEDICATED[to_status]}: it also moves the money or the stock.",
                field="status",
            )
        then = ", ".join(manual) if manual else "nothing by hand"
        raise OrderError(
            ErrorCode.ILLEGAL_TRANSITION,
            f"A {order.status} order cannot be made {to_status} by hand; it may become {then}.",
            field="status",
        )
    if to_status == "delivered":
        await session.execute(
            update(Shipment)
            .where(Shipment.order_id == order.id, Shipment.status == "shipped")
            .values(
                status="delivered",
                delivered_at=datetime.now(UTC),
                delivery_recorded_at=datetime.now(UTC),
            )
            .execution_options(synchronize_session=False)
        )
    from_status = order.status
    await move(session, order, to_status, user_id=user_id, field="status", note=text)
    audit(session, order_id=order.id, user_id=user_id, action="order.transition",
          details={"from": from_status, "to": to_status, "note": text})  # fmt: skip
    await session.flush()
    return order

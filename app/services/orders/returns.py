"""Returns: a customer asks to send delivered units back within RETURN_WINDOW_DAYS of the
order's last delivery; staff approve or reject, mark the parcel received (restocking or not),
and refund the returned units through the payments work.

Every step locks the order row first, so concurrent requests can never hold more units than
were delivered: the second request waits, then counts what the first one holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError
from app.payments.registry import Gateways
from app.services.checks import clean_text
from app.services.orders.access import Who, locked_for_staff, locked_order
from app.services.orders.audit import audit
from app.services.orders.fulfilment import check_line_quantities
from app.services.orders.notify import notify_customer
from app.services.orders.quantities import delivered_by_line, returned_by_line
from app.services.orders.stock_moves import put_back
from app.services.orders.transitions import move_if_allowed
from app.services.payments.provider_calls import execute_refund
from app.services.payments.refunds import LineQuantity, RefundData, request_refund
from app.settings import Settings
from models.catalog import Warehouse
from models.fulfilment import OrderReturn, ReturnLine, Shipment, ShipmentLine
from models.orders import Order, OrderLine
from models.payments import Refund

MAX_REASON = 1000
MAX_LINE_REASON = 500
MAX_NOTE = 1000
# Which status each staff step takes a return from, and to.
STEPS = {
    "approve": ("requested", "approved"),
    "reject": ("requested", "rejected"),
    "receive": ("approved", "received"),
    "refund": ("received", "refunded"),
}
TEMPLATE = "return_update"


def _error(code: ErrorCode, message: str, field: str) -> OrderError:
    return OrderError(code, message, field=field)


async def request_return(
    session: AsyncSession, *, order_id: int | None, who: Who, lines: list[LineQuantity],
    line_reasons: list[str], reason: str | None, settings: Settings, now: datetime | None = None,
) -> tuple[Order, OrderReturn]:  # fmt: skip
    """orderReturnRequest: hold delivered units in a new return (status requested)."""
    wanted = check_line_quantities(lines)
    reasons = [
        clean_text(text, field=f"input.lines.{index}.reason", max_length=MAX_LINE_REASON)
        for index, text in enumerate(line_reasons)
    ]
    why = clean_text(reason, field="input.reason", max_length=MAX_REASON, multiline=True)
    order = await locked_order(session, order_id=order_id, who=who)
    last_delivery = await session.scalar(
        select(func.max(Shipment.delivery_recorded_at)).where(
            Shipment.order_id == order.id, Shipment.status == "delivered"
        )
    )
    if last_delivery is None or order.status in ("cancelled", "refunded"):
        raise _error(ErrorCode.ILLEGAL_TRANSITION,
                     "Nothing of this order was delivered to return.", "id")  # fmt: skip
    now = now or datetime.now(UTC)
    if now > last_delivery + timedelta(days=settings.return_window_days):
        raise _error(
            ErrorCode.RETURN_WINDOW_CLOSED,
            f"Returns close {settings.return_window_days} days after delivery.",
            "id",
        )
    known = set(
        (
            await session.scalars(
                select(OrderLine.id).where(OrderLine.order_id == order.id, OrderLine.id.in_(wanted))
            )
        ).all()
    )
    delivered = await delivered_by_line(session, order.id)
    held = await returned_by_line(session, order.id)
    for index, (line_id, quantity) in enumerate(wanted.items()):
        if line_id not in known:
            raise _error(ErrorCode.NOT_FOUND, "No such order line.", f"input.lines.{index}.lineId")
        left = delivered.get(line_id, 0) - held.get(line_id, 0)
        if quantity > left:
            raise _error(
                ErrorCode.RETURN_EXCEEDS_DELIVERED,
                f"Only {max(left, 0)} delivered units of this line can still be returned.",
                f"input.lines.{index}.quantity",
            )  # fmt: skip
    row = OrderReturn(order_id=order.id, reason=why, user_id=who.user_id)
    session.add(row)
    await session.flush()
    session.add_all(
        ReturnLine(
            return_id=row.id,
            order_line_id=line_id,
            quantity=quantity,
            reason=reasons[index] if index < len(reasons) else "",
        )
        for index, (line_id, quantity) in enumerate(wanted.items())
    )
    await _tell(session, order, row)
    await session.flush()
    return order, row


async def _tell(session: AsyncSession, order: Order, row: OrderReturn) -> None:
    await notify_customer(
        session, order, kind="order_updates", template=TEMPLATE,
        payload={"event": "return_update", "returnId": row.id, "returnStatus": row.status,
                 "note": row.staff_note},
    )  # fmt: skip


async def _locked_return(
    session: AsyncSession, return_id: int, step: str
) -> tuple[Order, OrderReturn]:
    """The return's order, then the return, both locked; ILLEGAL_TRANSITION from the wrong
    status for `step`."""
    order_id = await session.scalar(select(OrderReturn.order_id).where(OrderReturn.id == return_id))
    if order_id is None:
        raise _error(ErrorCode.NOT_FOUND, "No such return.", "id")
    order = await locked_for_staff(session, order_id)
    row = await session.scalar(
        select(OrderReturn)
        .where(OrderReturn.id == return_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None  # a return goes only with its order, which we hold
    before, after = STEPS[step]
    if row.status != before:
        raise _error(
            ErrorCode.ILLEGAL_TRANSITION,
            f"A {row.status} return cannot become {after}; only a {before} one can.",
            "id",
        )
    return order, row


async def _step(
    session: AsyncSession, *, return_id: int, step: str, user_id: int | None, note: str | None
) -> tuple[Order, OrderReturn]:
    note_text = clean_text(note, field="note", max_length=MAX_NOTE, multiline=True)
    order, row = await _locked_return(session, return_id, step)
    row.status = STEPS[step][1]
    if note_text:
        row.staff_note = note_text
    audit(session, order_id=order.id, user_id=user_id, action=f"return.{step}",
          details={"returnId": row.id, "note": note_text})  # fmt: skip
    await _tell(session, order, row)
    await session.flush()
    await session.refresh(row, ["updated_at"])  # set by the database on UPDATE
    return order, row


async def approve(
    session: AsyncSession, *, return_id: int, user_id: int | None, note: str | None = None
) -> tuple[Order, OrderReturn]:
    return await _step(session, return_id=return_id, step="approve", user_id=user_id, note=note)


async def reject(
    session: AsyncSession, *, return_id: int, user_id: int | None, note: str | None = None
) -> tuple[Order, OrderReturn]:
    """Rejected: its units are free to be returned again."""
    return await _step(session, return_id=return_id, step="reject", user_id=user_id, note=note)


async def receive(
    session: AsyncSession, *, return_id: int, restock: bool, warehouse_id: int | None,
    user_id: int | None, note: str | None = None,
) -> tuple[Order, OrderReturn]:  # fmt: skip
    """The parcel arrived: with `restock` the units go back to stock (the given warehouse, or
    where they were shipped from); the order becomes returned once every unit is back."""
    if warehouse_id is not None and await session.get(Warehouse, warehouse_id) is None:
        raise _error(ErrorCode.NOT_FOUND, "No such warehouse.", "warehouseId")
    order, row = await _step(session, return_id=return_id, step="receive", user_id=user_id,
                             note=note)  # fmt: skip
    if restock:
        await _restock(session, order, row, warehouse_id=warehouse_id, user_id=user_id)
    row.restocked = restock
    row.warehouse_id = warehouse_id
    received = await returned_by_line(session, order.id, ("received", "refunded"))
    ordered = (
        await session.execute(
            select(OrderLine.id, OrderLine.quantity).where(OrderLine.order_id == order.id)
        )
    ).all()
    if all(received.get(line_id, 0) >= quantity for line_id, quantity in ordered):
        await move_if_allowed(session, order, "returned", user_id=user_id)
    await session.flush()
    await session.refresh(row, ["updated_at"])
    return order, row


async def _restock(
    session: AsyncSession, order: Order, row: OrderReturn, *, warehouse_id: int | None,
    user_id: int | None,
) -> None:  # fmt: skip
    lines = (
        await session.execute(
            select(ReturnLine.order_line_id, ReturnLine.quantity, OrderLine.variant_id)
            .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
            .where(ReturnLine.return_id == row.id)
        )
    ).all()
    slots: dict[tuple[int, int], int] = {}
    for line_id, quantity, variant_id in lines:
        if variant_id is None:  # the variant was deleted: nothing to put the units back into
            continue
        target = warehouse_id or await session.scalar(
            select(Shipment.warehouse_id)
            .join(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
            .where(ShipmentLine.order_line_id == line_id, Shipment.warehouse_id.is_not(None))
            .order_by(Shipment.id.desc())
            .limit(1)
        )
        if target is None:  # shipped from a warehouse deleted since: staff say where
            raise _error(
                ErrorCode.REQUIRED,
                "The warehouse these units were shipped from is gone; name one.",
                "warehouseId",
            )
        slots[(variant_id, target)] = slots.get((variant_id, target), 0) + quantity
    for (variant_id, target), quantity in sorted(slots.items()):
        await put_back(
            session,
            variant_id=variant_id,
            warehouse_id=target,
            quantity=quantity,
            reason=f"order #{order.number} return {row.id} restocked",
            user_id=user_id,
            create=True,
        )


async def refund_return(
    session: AsyncSession, *, return_id: int, include_shipping: bool, user_id: int | None,
    settings: Settings, gateways: Gateways,
) -> tuple[Order, OrderReturn]:  # fmt: skip
    """returnRefund: a refund of the returned units (and the shipping if asked), reserved and
    recorded with the return in one transaction, then carried out at the provider."""
    async with session.begin():
        order, row = await _step(session, return_id=return_id, step="refund", user_id=user_id,
                                 note=None)  # fmt: skip
        units = (
            await session.execute(
                select(ReturnLine.order_line_id, ReturnLine.quantity).where(
                    ReturnLine.return_id == row.id
                )
            )
        ).all()
        refund = await request_refund(
            session,
            order_id=order.id,
            user_id=user_id,
            data=RefundData(
                amount=None,
                include_shipping=include_shipping,
                lines=[LineQuantity(line_id=line_id, quantity=qty) for line_id, qty in units],
                reason=f"Return {row.id}",
                idempotency_key=f"return-{row.id}",
            ),
        )
        row.refund_id = refund.id
        refund_id = refund.id
    await execute_refund(session, gateways=gateways, settings=settings, refund_id=refund_id)
    async with session.begin():
        fresh_order = await session.get(Order, order.id, populate_existing=True)
        fresh = await session.get(OrderReturn, row.id, populate_existing=True)
        await session.get(Refund, refund_id, populate_existing=True)
    assert fresh_order is not None and fresh is not None
    return fresh_order, fresh

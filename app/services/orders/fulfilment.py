"""Fulfilment: staff ship an order's lines from a warehouse (units move from allocated to
shipped), and a shipment is delivered (marked by staff, or reported by a carrier).

Everything runs under the order's row lock, so concurrent shipments of the same lines can
never ship more than was ordered: the second waits, then sees what the first shipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError
from app.services.checks import clean_text
from app.services.orders.access import locked_for_staff, not_found
from app.services.orders.audit import audit
from app.services.orders.notify import notify_customer
from app.services.orders.quantities import (
    delivered_by_line,
    refunded_before_shipping,
    shipped_by_line,
)
from app.services.orders.stock_moves import put_back, take
from app.services.orders.transitions import check, move_if_allowed
from app.services.payments.refunds import LineQuantity
from models.catalog import Warehouse
from models.fulfilment import Shipment, ShipmentLine
from models.orders import Order, OrderAllocation, OrderLine

FULFILLABLE = ("paid", "partially_fulfilled", "partially_refunded")
MAX_LINES = 500
MAX_QUANTITY = 2**31 - 1
MAX_CARRIER = 100
MAX_TRACKING_NUMBER = 100
MAX_TRACKING_URL = 2000


@dataclass(frozen=True)
class FulfilData:
    lines: list[LineQuantity]
    warehouse_id: int | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


def _invalid(message: str, field: str, code: ErrorCode = ErrorCode.INVALID) -> OrderError:
    return OrderError(code, message, field=field)


def clean_tracking_url(value: str | None, *, field: str) -> str:
    url = clean_text(value, field=field, max_length=MAX_TRACKING_URL)
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok or any(char.isspace() for char in url):
        raise _invalid("Enter an absolute http(s) URL.", field)
    return url


def check_line_quantities(
    lines: list[LineQuantity], *, field: str = "input.lines"
) -> dict[int, int]:
    """{line id: units}: at least one line, no line twice, 1..2^31-1 units each."""
    if not lines:
        raise _invalid("Name at least one line.", field, ErrorCode.REQUIRED)
    if len(lines) > MAX_LINES:
        raise _invalid(f"At most {MAX_LINES} lines at a time.", field)
    wanted: dict[int, int] = {}
    for index, item in enumerate(lines):
        if item.line_id is None:
            raise _invalid("No such order line.", f"{field}.{index}.lineId", ErrorCode.NOT_FOUND)
        if item.line_id in wanted:
            raise _invalid("This line is named twice.", f"{field}.{index}.lineId")
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise _invalid("Must be a positive number of units.", f"{field}.{index}.quantity")
        wanted[item.line_id] = item.quantity
    return wanted


async def _order_lines(
    session: AsyncSession, order: Order, wanted: dict[int, int], field: str
) -> dict[int, OrderLine]:
    rows = (
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id, OrderLine.id.in_(wanted))
        )
    ).all()
    found = {row.id: row for row in rows}
    for index, line_id in enumerate(wanted):
        if line_id not in found:  # another order's line is as unknown as a made-up one
            raise _invalid("No such order line.", f"{field}.{index}.lineId", ErrorCode.NOT_FOUND)
    return found


async def _allocations(session: AsyncSession, order: Order) -> dict[int, list[OrderAllocation]]:
    rows = (
        await session.scalars(
            select(OrderAllocation)
            .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderAllocation.id)
            .with_for_update(of=OrderAllocation)
            .execution_options(populate_existing=True)
        )
    ).all()
    by_line: dict[int, list[OrderAllocation]] = defaultdict(list)
    for row in rows:
        by_line[row.order_line_id].append(row)
    return by_line


async def fulfil(
    session: AsyncSession, *, order_id: int, data: FulfilData, user_id: int | None
) -> tuple[Order, Shipment]:
    """orderFulfil: one shipment of the given units from one warehouse."""
    wanted = check_line_quantities(data.lines)
    carrier = clean_text(data.carrier, field="input.carrier", max_length=MAX_CARRIER)
    tracking = clean_text(
        data.tracking_number, field="input.trackingNumber", max_length=MAX_TRACKING_NUMBER
    )
    tracking_url = clean_tracking_url(data.tracking_url, field="input.trackingUrl")
    if tracking and not carrier:
        raise _invalid("Name the carrier of this tracking number.", "input.carrier",
                       ErrorCode.REQUIRED)  # fmt: skip
    order = await locked_for_staff(session, order_id, field="orderId")
    if order.status not in FULFILLABLE:
        check(order, "fulfilled", field="orderId")  # names what may follow instead
        raise OrderError(
            ErrorCode.ILLEGAL_TRANSITION,
            f"A {order.status} order cannot be shipped.", field="orderId",
        )  # fmt: skip
    lines = await _order_lines(session, order, wanted, "input.lines")
    allocations = await _allocations(session, order)
    refunded = await refunded_before_shipping(session, order)
    shipped = await shipped_by_line(session, order.id)
    ordered = dict(
        (
            await session.execute(
                select(OrderLine.id, OrderLine.quantity).where(OrderLine.order_id == order.id)
            )
        ).all()
    )
    for index, (line_id, quantity) in enumerate(wanted.items()):
        unshipped = ordered[line_id] - shipped.get(line_id, 0)
        left = max(unshipped - refunded.get(line_id, 0), 0)
        if quantity > left:
            raise _invalid(
                f"Only {left} units of this line are left to ship (refunded units do not ship).",
                f"input.lines.{index}.quantity", ErrorCode.FULFILMENT_EXCEEDS_LINE,
            )  # fmt: skip
    warehouse_id = data.warehouse_id
    if warehouse_id is not None:
        if await session.get(Warehouse, warehouse_id) is None:
            raise _invalid("No such warehouse.", "input.warehouseId", ErrorCode.NOT_FOUND)
    else:  # where the first of these units was allocated from
        warehouse_id = next(
            (
                a.warehouse_id
                for line_id in wanted
                for a in allocations[line_id]
                if a.quantity > a.shipped_quantity and a.warehouse_id is not None
            ),
            None,
        )
    reason = f"order #{order.number} shipped"
    # Units allocated elsewhere leave from this warehouse: taken here, given back there.
    moves: dict[tuple[int, int, int], int] = defaultdict(int)  # (variant, warehouse, sign)
    for line_id, quantity in wanted.items():
        left = quantity
        # The shipping warehouse's own allocations first: those units are there already.
        for allocation in sorted(
            allocations[line_id], key=lambda a: a.warehouse_id != warehouse_id
        ):
            units = min(left, allocation.quantity - allocation.shipped_quantity)
            if units <= 0:
                continue
            allocation.shipped_quantity += units
            left -= units
            variant_id = allocation.variant_id or lines[line_id].variant_id
            if (
                warehouse_id is not None
                and variant_id is not None
                and allocation.warehouse_id != warehouse_id
            ):
                moves[(variant_id, warehouse_id, -1)] += units
                if allocation.warehouse_id is not None:
                    moves[(variant_id, allocation.warehouse_id, 1)] += units
    for (variant_id, stock_warehouse, sign), units in sorted(moves.items()):
        if sign < 0:
            await take(
                session, variant_id=variant_id, warehouse_id=stock_warehouse, quantity=units,
                reason=reason, user_id=user_id, field="input.warehouseId",
            )  # fmt: skip
        else:
            await put_back(
                session, variant_id=variant_id, warehouse_id=stock_warehouse, quantity=units,
                reason=f"{reason} from another warehouse", user_id=user_id,
            )  # fmt: skip
    shipment = Shipment(
        order_id=order.id, warehouse_id=warehouse_id, carrier=carrier,
        tracking_number=tracking, tracking_url=tracking_url, user_id=user_id,
    )  # fmt: skip
    try:
        async with session.begin_nested():  # the unique (carrier, tracking number) index
            session.add(shipment)
            await session.flush()
    except IntegrityError:
        raise _invalid("Another shipment has this carrier and tracking number.",
                       "input.trackingNumber", ErrorCode.UNIQUE) from None  # fmt: skip
    session.add_all(
        ShipmentLine(shipment_id=shipment.id, order_line_id=line_id, quantity=quantity)
        for line_id, quantity in wanted.items()
    )
    everything_shipped = all(  # every unit shipped, or refunded before it could ship
        shipped.get(line_id, 0) + wanted.get(line_id, 0) + refunded.get(line_id, 0) >= units
        for line_id, units in ordered.items()
    )
    await move_if_allowed(
        session, order, "fulfilled" if everything_shipped else "partially_fulfilled",
        user_id=user_id,
    )  # fmt: skip
    await notify_customer(
        session, order, kind="shipping", template="shipment_sent",
        payload={"event": "shipment_sent", "shipmentId": shipment.id, "carrier": carrier,
                 "trackingNumber": tracking, "trackingUrl": tracking_url,
                 "units": sum(wanted.values())},
    )  # fmt: skip
    audit(session, order_id=order.id, user_id=user_id, action="shipment.create", details={
        "shipmentId": shipment.id, "warehouseId": warehouse_id,
        "lines": [{"lineId": k, "quantity": v} for k, v in wanted.items()],
        "carrier": carrier, "trackingNumber": tracking,
    })  # fmt: skip
    await session.flush()
    return order, shipment


def _delivered_at(value: datetime | None, shipment: Shipment, now: datetime) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        raise _invalid("Give the time with its UTC offset.", "deliveredAt")
    if value > now:
        raise _invalid("A delivery cannot be in the future.", "deliveredAt")
    if value < shipment.created_at:
        raise _invalid("A delivery cannot precede its shipment.", "deliveredAt")
    return value


async def _deliver(
    session: AsyncSession, order: Order, shipment: Shipment, *, user_id: int | None,
    delivered_at: datetime | None, via: str,
) -> tuple[Order, Shipment]:  # fmt: skip
    if shipment.status == "delivered":  # a repeated report: the same answer, nothing new
        return order, shipment
    now = datetime.now(UTC)
    shipment.delivered_at = _delivered_at(delivered_at, shipment, now)
    shipment.delivery_recorded_at = now
    shipment.status = "delivered"
    await session.flush()
    lines = (
        await session.execute(
            select(OrderLine.id, OrderLine.quantity).where(OrderLine.order_id == order.id)
        )
    ).all()
    delivered = await delivered_by_line(session, order.id)
    refunded = await refunded_before_shipping(session, order)
    if all(
        delivered.get(line_id, 0) + refunded.get(line_id, 0) >= quantity
        for line_id, quantity in lines
    ):
        await move_if_allowed(session, order, "delivered", user_id=user_id)
    await notify_customer(
        session, order, kind="shipping", template="shipment_delivered",
        payload={"event": "shipment_delivered", "shipmentId": shipment.id,
                 "carrier": shipment.carrier, "trackingNumber": shipment.tracking_number},
    )  # fmt: skip
    audit(session, order_id=order.id, user_id=user_id, action="shipment.deliver",
          details={"shipmentId": shipment.id, "via": via,
                   "deliveredAt": shipment.delivered_at.isoformat()})  # fmt: skip
    await session.flush()
    return order, shipment


async def _locked_shipment(
    session: AsyncSession, shipment_id: int | None, field: str
) -> tuple[Order, Shipment]:
    """The shipment's order, then the shipment, both locked (order first, as everywhere)."""
    order_id = (
        await session.scalar(select(Shipment.order_id).where(Shipment.id == shipment_id))
        if shipment_id is not None
        else None
    )
    if order_id is None:
        raise OrderError(ErrorCode.NOT_FOUND, "No such shipment.", field=field)
    order = await locked_for_staff(session, order_id, field=field)
    shipment = await session.scalar(
        select(Shipment)
        .where(Shipment.id == shipment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if shipment is None:
        raise not_found(field)
    return order, shipment


async def deliver(
    session: AsyncSession, *, shipment_id: int | None, user_id: int | None
) -> tuple[Order, Shipment]:
    """shipmentDeliver (staff): the shipment arrived now."""
    order, shipment = await _locked_shipment(session, shipment_id, "id")
    return await _deliver(session, order, shipment, user_id=user_id, delivered_at=None,
                          via="staff")  # fmt: skip


async def report_delivery(
    session: AsyncSession, *, carrier: str, tracking_number: str, delivered_at: datetime | None,
    user_id: int | None,
) -> tuple[Order, Shipment]:  # fmt: skip
    """shipmentDeliveryReport (a carrier's integration): found by carrier and tracking number;
    a replayed report answers the same shipment and changes nothing."""
    carrier = clean_text(carrier, field="carrier", max_length=MAX_CARRIER, required=True)
    tracking = clean_text(
        tracking_number, field="trackingNumber", max_length=MAX_TRACKING_NUMBER, required=True
    )
    shipment_id = await session.scalar(
        select(Shipment.id).where(Shipment.carrier == carrier, Shipment.tracking_number == tracking)
    )
    order, shipment = await _locked_shipment(session, shipment_id, "trackingNumber")
    return await _deliver(session, order, shipment, user_id=user_id, delivered_at=delivered_at,
                          via="carrier")  # fmt: skip

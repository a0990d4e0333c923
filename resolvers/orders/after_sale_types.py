"""GraphQL types of what happens after an order is placed: shipments, returns, staff notes and
the audit trail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import fulfilment as models
from models import orders as order_models
from resolvers.base import Info, global_id, node_keys
from resolvers.ids import MISSING_KEY

if TYPE_CHECKING:
    from resolvers.orders.types import OrderLine
    from resolvers.payments.types import Refund

OrderLineRef = Annotated["OrderLine", strawberry.lazy("resolvers.orders.types")]
RefundRef = Annotated["Refund", strawberry.lazy("resolvers.payments.types")]


@strawberry.enum(description="Where a shipment is.")
class ShipmentStatus(Enum):
    SHIPPED = "shipped"
    DELIVERED = "delivered"


@strawberry.enum(description="Where a return stands.")
class ReturnStatus(Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    REFUNDED = "refunded"


async def _order_line(info: Info, line_id: int, order_id: int) -> OrderLine | None:
    from resolvers.orders.types import OrderLine

    order = await info.context.loaders.order.load(order_id)
    row = await info.context.loaders.order_line.load(line_id)
    if row is None or order is None:
        return None
    return OrderLine.from_row(row, order.currency)


@strawberry.type(description="Units of one order line in a shipment or a return.")
class LineUnits:
    quantity: int = strawberry.field(description="Units.")
    reason: str = strawberry.field(description="The customer's reason (returns); else empty.")
    line_id: strawberry.Private[int]
    order_id: strawberry.Private[int]

    @strawberry.field(description="The order line.")
    async def line(self, info: Info) -> OrderLineRef | None:
        return await _order_line(info, self.line_id, self.order_id)


def units_of(
    rows: Sequence[models.ShipmentLine | models.ReturnLine], order_id: int
) -> list[LineUnits]:
    return [
        LineUnits(
            quantity=row.quantity,
            reason=getattr(row, "reason", ""),
            line_id=row.order_line_id,
            order_id=order_id,
        )
        for row in rows
    ]


async def _visible(info: Info, rows: list[Any], build: Any) -> list[Any]:
    """Each row as its type if the viewer may see its order (the order's rule), else None."""
    from resolvers.orders.types import can_view_order

    orders = await info.context.loaders.order.load_many(
        [row.order_id if row is not None else MISSING_KEY for row in rows]
    )
    return [
        build(row) if row is not None and order is not None and can_view_order(info, order)
        else None
        for row, order in zip(rows, orders, strict=True)
    ]  # fmt: skip


@strawberry.type(description="Units of an order that left one warehouse together.")
class Shipment(relay.Node):
    id: relay.NodeID[int]
    status: ShipmentStatus = strawberry.field(description="Shipped, or delivered.")
    carrier: str = strawberry.field(description="Who carries it (empty if not given).")
    tracking_number: str = strawberry.field(description="The carrier's tracking number.")
    tracking_url: str = strawberry.field(description="Where to follow it.")
    created_at: datetime = strawberry.field(description="When it was shipped.")
    delivered_at: datetime | None = strawberry.field(description="When it arrived.")
    row: strawberry.Private[models.Shipment]

    @classmethod
    def from_row(cls, row: models.Shipment) -> Shipment:
        return cls(
            id=row.id,
            status=ShipmentStatus(row.status),
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            tracking_url=row.tracking_url,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Shipment | None]:
        """Only shipments of orders the viewer may see (their customer, or staff)."""
        rows = await info.context.loaders.shipment.load_many(node_keys(node_ids))
        return await _visible(info, rows, cls.from_row)

    @strawberry.field(
        description="The warehouse it left from (MANAGE_ORDERS; null for anyone else, and "
        "once the warehouse was deleted)."
    )
    async def warehouse_name(self, info: Info) -> str | None:
        from resolvers.orders.types import can_manage_orders

        if self.row.warehouse_id is None or not can_manage_orders(info):
            return None
        warehouse = await info.context.loaders.warehouse.load(self.row.warehouse_id)
        return warehouse.name if warehouse else None

    @strawberry.field(description="Lines and units in it.")
    async def lines(self, info: Info) -> list[LineUnits]:
        rows = await info.context.loaders.lines_by_shipment.load(self.row.id)
        return units_of(rows, self.row.order_id)


@strawberry.type(description="A customer's return of delivered units, and staff's answer.")
class OrderReturn(relay.Node):
    id: relay.NodeID[int]
    status: ReturnStatus = strawberry.field(description="Where the return stands.")
    reason: str = strawberry.field(description="The customer's reason.")
    staff_note: str = strawberry.field(description="Staff's answer (why rejected, findings).")
    restocked: bool = strawberry.field(description="Whether received units went to stock.")
    created_at: datetime = strawberry.field(description="When it was requested.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    row: strawberry.Private[models.OrderReturn]

    @classmethod
    def from_row(cls, row: models.OrderReturn) -> OrderReturn:
        return cls(
            id=row.id,
            status=ReturnStatus(row.status),
            reason=row.reason,
            staff_note=row.staff_note,
            restocked=row.restocked,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[OrderReturn | None]:
        """Only returns of orders the viewer may see (their customer, or staff)."""
        rows = await info.context.loaders.order_return.load_many(node_keys(node_ids))
        return await _visible(info, rows, cls.from_row)

    @strawberry.field(description="Lines and units returned, with the customer's reasons.")
    async def lines(self, info: Info) -> list[LineUnits]:
        rows = await info.context.loaders.lines_by_return.load(self.row.id)
        return units_of(rows, self.row.order_id)

    @strawberry.field(description="The refund of the returned units, once made.")
    async def refund(self, info: Info) -> RefundRef | None:
        from resolvers.payments.types import Refund

        if self.row.refund_id is None:
            return None
        row = await info.context.loaders.refund.load(self.row.refund_id)
        return Refund.from_row(row) if row else None


@strawberry.type(description="Someone who acted on an order (staff only).")
class Actor:
    id: strawberry.ID = strawberry.field(description="The user's global ID.")
    email: str = strawberry.field(description="The user's email.")


async def actor_of(info: Info, user_id: int | None) -> Actor | None:
    if user_id is None:
        return None
    user = await info.context.loaders.user.load(user_id)
    if user is None:
        return None
    return Actor(id=strawberry.ID(str(global_id("User", user.id))), email=user.email)


@strawberry.type(description="A staff note on an order (customers never see notes).")
class OrderNote:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    body: str = strawberry.field(description="The note.")
    created_at: datetime = strawberry.field(description="When it was written.")
    row: strawberry.Private[order_models.OrderNote]

    @classmethod
    def from_row(cls, row: order_models.OrderNote) -> OrderNote:
        return cls(
            id=strawberry.ID(str(global_id("OrderNote", row.id))),
            body=row.body,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="Who wrote it (null once the account is gone).")
    async def author(self, info: Info) -> Actor | None:
        return await actor_of(info, self.row.user_id)


@strawberry.type(description="One staff action on an order.")
class OrderAuditEntry:
    action: str = strawberry.field(
        description="What was done: order.cancel, order.transition, note.add, "
        "payment.capture, payment.void, refund.request, shipment.create, shipment.deliver, "
        "return.approve, return.reject, return.receive, return.refund."
    )
    details: JSON = strawberry.field(description="What the action named (IDs, amounts).")
    created_at: datetime = strawberry.field(description="When.")
    row: strawberry.Private[order_models.OrderAudit]

    @strawberry.field(description="Who did it (null once the account is gone).")
    async def actor(self, info: Info) -> Actor | None:
        return await actor_of(info, self.row.user_id)

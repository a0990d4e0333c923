"""Fulfilment mutations: staff ship an order's lines and mark shipments delivered; a
carrier's integration reports deliveries by tracking number."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.auth.permissions import Perm, has_permission
from app.services.orders import fulfilment
from app.services.orders.fulfilment import FulfilData
from app.services.payments.refunds import LineQuantity
from models import fulfilment as models
from models import orders
from resolvers.base import (
    ApiError,
    HasPermission,
    Info,
    UserErrorType,
    current_user,
    decode_id,
    payload_field,
    run_mutation,
    user_errors_field,
)
from resolvers.ids import global_id, key_or_none
from resolvers.orders.after_sale_types import Shipment, ShipmentStatus
from resolvers.orders.types import Order

MANAGE_ORDERS = [HasPermission(Perm.MANAGE_ORDERS)]


def line_key(value: str) -> int | None:
    return key_or_none(value, "OrderLine")


@strawberry.input(description="Units of one order line.")
class LineQuantityInput:
    line_id: strawberry.ID = strawberry.field(description="The order line's ID.")
    quantity: int = strawberry.field(description="Units (1 or more).")


@strawberry.input(description="One shipment: which units, from where, with which tracking.")
class OrderFulfilInput:
    lines: list[LineQuantityInput] = strawberry.field(description="Lines and units to ship.")
    warehouse_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Where they leave from; by default the warehouse the first of them was "
        "allocated from. Units allocated elsewhere move: taken here, given back there.",
    )
    carrier: str | None = strawberry.field(default=None, description="Carrier (100 chars).")
    tracking_number: str | None = strawberry.field(
        default=None, description="Tracking number (100 chars; unique per carrier)."
    )
    tracking_url: str | None = strawberry.field(
        default=None, description="An http(s) URL to follow the parcel."
    )


@strawberry.type
class ShipmentPayload:
    order: Order | None = payload_field("The order after the change.")
    shipment: Shipment | None = payload_field("The shipment.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type(description="What a carrier learns back: its own shipment, nothing of the order.")
class ShipmentDeliveryReportPayload:
    shipment_id: strawberry.ID | None = payload_field("The shipment the report was about.")
    status: ShipmentStatus | None = payload_field("DELIVERED once recorded.")
    delivered_at: datetime | None = payload_field("The delivery time recorded.")
    user_errors: list[UserErrorType] = user_errors_field()


def _report_payload(result: tuple[orders.Order, models.Shipment]) -> ShipmentDeliveryReportPayload:
    _, shipment = result
    return ShipmentDeliveryReportPayload(
        shipment_id=strawberry.ID(str(global_id("Shipment", shipment.id))),
        status=ShipmentStatus(shipment.status),
        delivered_at=shipment.delivered_at,
    )


def _payload(result: tuple[orders.Order, models.Shipment]) -> ShipmentPayload:
    order, shipment = result
    return ShipmentPayload(order=Order.from_row(order), shipment=Shipment.from_row(shipment))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Ship units of an order's lines in one shipment (MANAGE_ORDERS). The "
        "order becomes PARTIALLY_FULFILLED or FULFILLED; the customer is told with the "
        "tracking. FULFILMENT_EXCEEDS_LINE past what is left of a line; ILLEGAL_TRANSITION "
        "for an order that cannot ship (unpaid, cancelled, refunded, already fulfilled).",
        permission_classes=MANAGE_ORDERS,
    )
    async def order_fulfil(
        self, info: Info, order_id: strawberry.ID, input: OrderFulfilInput
    ) -> ShipmentPayload:
        data = FulfilData(
            lines=[LineQuantity(line_key(item.line_id), item.quantity) for item in input.lines],
            warehouse_id=(
                decode_id(input.warehouse_id, "Warehouse")
                if input.warehouse_id is not None
                else None
            ),
            carrier=input.carrier,
            tracking_number=input.tracking_number,
            tracking_url=input.tracking_url,
        )
        user = info.context.user
        return await run_mutation(
            info, ShipmentPayload, fulfilment.fulfil, _payload,
            order_id=decode_id(order_id, "Order"), data=data,
            user_id=user.id if user else None,
        )  # fmt: skip

    @strawberry.mutation(
        description="Mark a shipment delivered now (MANAGE_ORDERS); the order becomes "
        "DELIVERED once every unit was delivered. Repeating it changes nothing.",
        permission_classes=MANAGE_ORDERS,
    )
    async def shipment_deliver(self, info: Info, id: strawberry.ID) -> ShipmentPayload:
        user = info.context.user
        return await run_mutation(
            info, ShipmentPayload, fulfilment.deliver, _payload,
            shipment_id=decode_id(id, "Shipment"), user_id=user.id if user else None,
        )  # fmt: skip

    @strawberry.mutation(
        description="A carrier's delivery report, for its integration's service account "
        "(REPORT_DELIVERIES, or MANAGE_ORDERS): the shipment with this carrier and tracking "
        "number was delivered at `deliveredAt` (default now; not in the future, not before "
        "it shipped). Idempotent: a replayed report answers the same shipment and changes "
        "nothing. The answer names the shipment only: a carrier's account sees nothing of "
        "the order or its customer."
    )
    async def shipment_delivery_report(
        self,
        info: Info,
        carrier: str,
        tracking_number: str,
        delivered_at: datetime | None = None,
    ) -> ShipmentDeliveryReportPayload:
        user = current_user(info)
        if not (
            has_permission(user, Perm.REPORT_DELIVERIES) or has_permission(user, Perm.MANAGE_ORDERS)
        ):
            raise ApiError("You need the REPORT_DELIVERIES permission to do this.", "FORBIDDEN")
        return await run_mutation(
            info, ShipmentDeliveryReportPayload, fulfilment.report_delivery, _report_payload,
            carrier=carrier, tracking_number=tracking_number, delivered_at=delivered_at,
            user_id=user.id,
        )  # fmt: skip

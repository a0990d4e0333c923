"""Order mutations: cancelling an order nothing was shipped of."""

from __future__ import annotations

import strawberry

from app.services.orders.access import Who
from app.services.payments.cancel import cancel_order
from resolvers.base import (
    Info,
    UserErrorType,
    decode_id,
    node_token,
    payload_field,
    run_flow,
    user_errors_field,
)
from resolvers.orders.types import Order, can_manage_orders


@strawberry.type
class OrderCancelPayload:
    order: Order | None = payload_field("The cancelled order.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Cancel an order nothing was shipped of: its stock and coupon uses go "
        "back, a payment that holds money is voided and what was captured is refunded. By "
        "`id` for its customer (signed in) or staff with MANAGE_ORDERS, by `token` for a "
        "guest. ILLEGAL_TRANSITION when the order's status does not allow it."
    )
    async def order_cancel(
        self, info: Info, id: strawberry.ID | None = None, token: str | None = None
    ) -> OrderCancelPayload:
        user = info.context.user
        gateways = info.context.gateways
        assert gateways is not None
        return await run_flow(
            info,
            OrderCancelPayload,
            cancel_order,
            lambda row: OrderCancelPayload(order=Order.from_row(row)),
            order_id=decode_id(id, "Order") if id is not None else None,
            who=Who(
                user_id=user.id if user is not None else None,
                staff=can_manage_orders(info),
                token=node_token(token) if token is not None else None,
            ),
            settings=info.context.settings,
            gateways=gateways,
        )

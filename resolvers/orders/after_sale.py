"""Mutations after the sale: returns (customer and staff), staff notes and manual transitions,
and reordering a past order into a cart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from app.auth.permissions import Perm
from app.errors import ErrorCode as DomainErrorCode
from app.services.cart.reorder import ReorderProblem, reorder
from app.services.orders import returns, staff
from app.services.orders.access import Who
from app.services.payments.refunds import LineQuantity
from models import fulfilment as models
from models import orders
from resolvers.base import (
    HasPermission,
    Info,
    UserErrorType,
    client_ip,
    decode_id,
    node_token,
    payload_field,
    rate_limit,
    run_flow,
    run_mutation,
    user_errors_field,
)
from resolvers.ids import global_id
from resolvers.orders.after_sale_types import OrderNote, OrderReturn
from resolvers.orders.fulfilment import line_key
from resolvers.orders.types import Order, OrderStatus

if TYPE_CHECKING:
    from resolvers.cart.types import Cart

CartRef = Annotated["Cart", strawberry.lazy("resolvers.cart.types")]
MANAGE_ORDERS = [HasPermission(Perm.MANAGE_ORDERS)]


def _user_id(info: Info) -> int | None:
    user = info.context.user
    return user.id if user is not None else None


def _customer(info: Info, token: str | None) -> Who:
    """The caller as the order's customer (by ID, signed in) or a guest (by token): these
    mutations act for customers, never for staff on someone else's order."""
    return Who(
        user_id=_user_id(info),
        staff=False,
        token=node_token(token) if token is not None else None,
    )


@strawberry.input(description="Units of one delivered line to send back.")
class ReturnLineInput:
    line_id: strawberry.ID = strawberry.field(description="The order line's ID.")
    quantity: int = strawberry.field(description="Units (1 or more).")
    reason: str | None = strawberry.field(default=None, description="Why (500 characters).")


@strawberry.input(description="A return request.")
class OrderReturnRequestInput:
    lines: list[ReturnLineInput] = strawberry.field(description="Lines and units.")
    reason: str | None = strawberry.field(default=None, description="Why (1000 characters).")


@strawberry.type
class OrderReturnPayload:
    order: Order | None = payload_field("The order after the change.")
    order_return: OrderReturn | None = payload_field("The return.")
    user_errors: list[UserErrorType] = user_errors_field()


def _return_payload(result: tuple[orders.Order, models.OrderReturn]) -> OrderReturnPayload:
    order, row = result
    return OrderReturnPayload(order=Order.from_row(order), order_return=OrderReturn.from_row(row))


@strawberry.type
class OrderNoteAddPayload:
    order: Order | None = payload_field("The order.")
    note: OrderNote | None = payload_field("The new note.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class OrderStatusUpdatePayload:
    order: Order | None = payload_field("The order after the move.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type(description="An order line that was not added to the cart, or only partly.")
class ReorderProblemType:
    line_id: strawberry.ID = strawberry.field(description="The order line's ID.")
    code: DomainErrorCode = strawberry.field(description="Why.")
    message: str = strawberry.field(description="For people.")

    @classmethod
    def of(cls, problem: ReorderProblem) -> ReorderProblemType:
        return cls(
            line_id=strawberry.ID(str(global_id("OrderLine", problem.line_id))),
            code=problem.code,
            message=problem.message,
        )


@strawberry.type
class OrderReorderPayload:
    cart: CartRef | None = payload_field("The cart the lines went into.")
    problems: list[ReorderProblemType] = strawberry.field(
        default_factory=list, description="Lines not added, or added with fewer units."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Ask to return delivered units within RETURN_WINDOW_DAYS of the last "
        "delivery: by `id` for the order's customer (signed in), by `token` for a guest. "
        "RETURN_EXCEEDS_DELIVERED past what was delivered and not yet returned; "
        "RETURN_WINDOW_CLOSED after the window. Rate-limited per client address "
        "(RATE_LIMIT_RETURN_REQUEST_IP)."
    )
    async def order_return_request(
        self, info: Info, input: OrderReturnRequestInput, id: strawberry.ID | None = None,
        token: str | None = None,
    ) -> OrderReturnPayload:  # fmt: skip
        info.context.private_answer = True
        settings = info.context.settings
        await rate_limit(info, settings.rate_limit_return_request_ip, "return-request:ip",
                         client_ip(info))  # fmt: skip
        return await run_mutation(
            info, OrderReturnPayload, returns.request_return, _return_payload,
            order_id=decode_id(id, "Order") if id is not None else None,
            who=_customer(info, token),
            lines=[LineQuantity(line_key(item.line_id), item.quantity) for item in input.lines],
            line_reasons=[item.reason or "" for item in input.lines],
            reason=input.reason, settings=settings,
        )  # fmt: skip

    @strawberry.mutation(
        description="Approve a requested return (MANAGE_ORDERS); the customer is told.",
        permission_classes=MANAGE_ORDERS,
    )
    async def return_approve(
        self, info: Info, id: strawberry.ID, note: str | None = None
    ) -> OrderReturnPayload:
        return await run_mutation(
            info, OrderReturnPayload, returns.approve, _return_payload,
            return_id=decode_id(id, "OrderReturn"), user_id=_user_id(info), note=note,
        )  # fmt: skip

    @strawberry.mutation(
        description="Reject a requested return with a note for the customer (MANAGE_ORDERS); "
        "its units may be asked for again.",
        permission_classes=MANAGE_ORDERS,
    )
    async def return_reject(
        self, info: Info, id: strawberry.ID, note: str | None = None
    ) -> OrderReturnPayload:
        return await run_mutation(
            info, OrderReturnPayload, returns.reject, _return_payload,
            return_id=decode_id(id, "OrderReturn"), user_id=_user_id(info), note=note,
        )  # fmt: skip

    @strawberry.mutation(
        description="The returned parcel arrived (MANAGE_ORDERS). With `restock` its units go "
        "back to stock in `warehouseId` (default: where they were shipped from). The order "
        "becomes RETURNED once every unit came back.",
        permission_classes=MANAGE_ORDERS,
    )
    async def return_receive(
        self, info: Info, id: strawberry.ID, restock: bool,
        warehouse_id: strawberry.ID | None = None, note: str | None = None,
    ) -> OrderReturnPayload:  # fmt: skip
        return await run_mutation(
            info, OrderReturnPayload, returns.receive, _return_payload,
            return_id=decode_id(id, "OrderReturn"), restock=restock,
            warehouse_id=decode_id(warehouse_id, "Warehouse") if warehouse_id else None,
            user_id=_user_id(info), note=note,
        )  # fmt: skip

    @strawberry.mutation(
        description="Refund a received return's units (and the shipping if asked) through "
        "the order's payment (MANAGE_ORDERS); the refund is on the return and the order.",
        permission_classes=MANAGE_ORDERS,
    )
    async def return_refund(
        self, info: Info, id: strawberry.ID, include_shipping: bool = False
    ) -> OrderReturnPayload:
        gateways = info.context.gateways
        assert gateways is not None
        return await run_flow(
            info, OrderReturnPayload, returns.refund_return, _return_payload,
            return_id=decode_id(id, "OrderReturn"), include_shipping=include_shipping,
            user_id=_user_id(info), settings=info.context.settings, gateways=gateways,
        )  # fmt: skip

    @strawberry.mutation(
        description="Add a staff note to an order (MANAGE_ORDERS; 2000 characters).",
        permission_classes=MANAGE_ORDERS,
    )
    async def order_note_add(self, info: Info, id: strawberry.ID, body: str) -> OrderNoteAddPayload:
        return await run_mutation(
            info, OrderNoteAddPayload, staff.add_note,
            lambda result: OrderNoteAddPayload(
                order=Order.from_row(result[0]), note=OrderNote.from_row(result[1])
            ),
            order_id=decode_id(id, "Order"), body=body, user_id=_user_id(info),
        )  # fmt: skip

    @strawberry.mutation(
        description="Move an order by hand where the machine allows and no flow of its own "
        "exists (MANAGE_ORDERS): FULFILLED -> DELIVERED (every shipment marked delivered), "
        "DELIVERED -> RETURNED. The note is on the history row, which the customer sees "
        "(use orderNoteAdd for internal notes). USE_DEDICATED_MUTATION names the mutation "
        "for moves that also move money or stock; ILLEGAL_TRANSITION otherwise.",
        permission_classes=MANAGE_ORDERS,
    )
    async def order_status_update(
        self, info: Info, id: strawberry.ID, status: OrderStatus, note: str | None = None
    ) -> OrderStatusUpdatePayload:
        return await run_mutation(
            info, OrderStatusUpdatePayload, staff.transition,
            lambda row: OrderStatusUpdatePayload(order=Order.from_row(row)),
            order_id=decode_id(id, "Order"), to_status=status.value, note=note,
            user_id=_user_id(info),
        )  # fmt: skip

    @strawberry.mutation(
        description="Put a past order's lines into a cart: the signed-in customer's open "
        "cart (by the order's `id`), or a new cart for a guest (by `token`). Each line is "
        "capped by what can be sold now; `problems` lists lines not added or added short. "
        "Rate-limited per client address (RATE_LIMIT_REORDER_IP)."
    )
    async def order_reorder(
        self, info: Info, id: strawberry.ID | None = None, token: str | None = None
    ) -> OrderReorderPayload:
        from resolvers.cart.types import Cart

        info.context.private_answer = True
        await rate_limit(info, info.context.settings.rate_limit_reorder_ip, "reorder:ip",
                         client_ip(info))  # fmt: skip
        return await run_mutation(
            info, OrderReorderPayload, reorder,
            lambda result: OrderReorderPayload(
                cart=Cart.of(result[0]), problems=[ReorderProblemType.of(p) for p in result[1]]
            ),
            order_id=decode_id(id, "Order") if id is not None else None,
            who=_customer(info, token),
            settings=info.context.settings,
        )  # fmt: skip

"""Payment mutations: confirming a payment (customer), refunds, capture, void and webhook
replays (staff, MANAGE_ORDERS)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.auth.permissions import Perm
from app.payments.registry import Gateways
from app.services.payments import flows, inbox
from app.services.payments.refunds import RefundData, RefundLineData
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
    user_errors_field,
)
from resolvers.ids import key_or_none
from resolvers.payments.types import Payment, Refund, WebhookEvent

if TYPE_CHECKING:
    from resolvers.orders.types import Order

OrderRef = Annotated["Order", strawberry.lazy("resolvers.orders.types")]
MANAGE_ORDERS = [HasPermission(Perm.MANAGE_ORDERS)]


def _gateways(info: Info) -> Gateways:
    gateways = info.context.gateways
    assert gateways is not None  # built with the app's resources
    return gateways


def _user_id(info: Info) -> int | None:
    user = info.context.user
    return user.id if user is not None else None


@strawberry.input(description="Units of one order line to refund.")
class RefundLineInput:
    line_id: strawberry.ID = strawberry.field(description="The order line's ID.")
    quantity: int = strawberry.field(description="Units to refund, at most those left.")


@strawberry.input(description="A refund by amount, or by lines (with the shipping or not).")
class OrderRefundInput:
    amount: Decimal | None = strawberry.field(
        default=None, description="Major units to give back; leave out to refund by lines."
    )
    lines: list[RefundLineInput] | None = strawberry.field(
        default=None, description="Lines and units to refund, at their share of the total."
    )
    include_shipping: bool = strawberry.field(
        default=False, description="With lines: also refund the shipping not refunded yet."
    )
    reason: str | None = strawberry.field(default=None, description="Why (500 characters).")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Repeating a key returns the first refund of this order."
    )

    def to_data(self) -> RefundData:
        lines = None
        if self.lines is not None:
            lines = [
                RefundLineData(
                    line_id=key_or_none(item.line_id, "OrderLine"), quantity=item.quantity
                )
                for item in self.lines
            ]
        return RefundData(
            amount=self.amount,
            lines=lines,
            include_shipping=self.include_shipping,
            reason=self.reason or "",
            idempotency_key=self.idempotency_key,
        )


@strawberry.type
class OrderRefundPayload:
    refund: Refund | None = payload_field(
        "The refund: SUCCEEDED, or PENDING while the provider has not answered (the worker "
        "asks again), or FAILED with the provider's message."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class PaymentPayload:
    payment: Payment | None = payload_field("The payment as the provider now has it.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class OrderPaymentConfirmPayload:
    order: OrderRef | None = payload_field("The order, paid once the provider says so.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class WebhookEventReplayPayload:
    webhook_event: WebhookEvent | None = payload_field("The event after the replay.")
    user_errors: list[UserErrorType] = user_errors_field()


async def _payment_call(
    info: Info, flow: Callable[..., Awaitable[Any]], payment_id: strawberry.ID
) -> PaymentPayload:
    return await run_flow(
        info,
        PaymentPayload,
        flow,
        lambda row: PaymentPayload(payment=Payment.from_row(row)),
        payment_id=decode_id(payment_id, "Payment"),
        user_id=_user_id(info),
        settings=info.context.settings,
        gateways=_gateways(info),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="After the customer confirmed the payment in the provider's UI (Stripe.js, "
        "3-D Secure, PayPal approval): ask the provider and record where the payment stands; "
        "a PayPal approval is captured. The webhook does the same; either may come first. "
        "Rate-limited per client address (RATE_LIMIT_PAYMENT_CONFIRM_IP)."
    )
    async def order_payment_confirm(
        self, info: Info, order_token: str
    ) -> OrderPaymentConfirmPayload:
        from resolvers.orders.types import Order

        info.context.private_answer = True
        settings = info.context.settings
        await rate_limit(info, settings.rate_limit_payment_confirm_ip, "payment-confirm:ip",
                         client_ip(info))  # fmt: skip
        return await run_flow(
            info,
            OrderPaymentConfirmPayload,
            flows.confirm_payment,
            lambda row: OrderPaymentConfirmPayload(order=Order.from_row(row)),
            order_token=node_token(order_token),
            settings=info.context.settings,
            gateways=_gateways(info),
        )

    @strawberry.mutation(
        description="Refund an order by amount or by lines, never more than was captured "
        "and not yet refunded (MANAGE_ORDERS). The customer is notified by email.",
        permission_classes=MANAGE_ORDERS,
    )
    async def order_refund(
        self, info: Info, order_id: strawberry.ID, input: OrderRefundInput
    ) -> OrderRefundPayload:
        return await run_flow(
            info,
            OrderRefundPayload,
            flows.refund_order,
            lambda row: OrderRefundPayload(refund=Refund.from_row(row)),
            order_id=decode_id(order_id, "Order"),
            data=input.to_data(),
            user_id=_user_id(info),
            settings=info.context.settings,
            gateways=_gateways(info),
        )

    @strawberry.mutation(
        description="Capture what an authorised payment holds (STRIPE_CAPTURE=manual; "
        "DUMMY tok_authorize) (MANAGE_ORDERS).",
        permission_classes=MANAGE_ORDERS,
    )
    async def order_payment_capture(self, info: Info, payment_id: strawberry.ID) -> PaymentPayload:
        return await _payment_call(info, flows.capture, payment_id)

    @strawberry.mutation(
        description="Release what an authorised payment holds, or stop a pending one "
        "(MANAGE_ORDERS). A captured payment is refunded instead.",
        permission_classes=MANAGE_ORDERS,
    )
    async def order_payment_void(self, info: Info, payment_id: strawberry.ID) -> PaymentPayload:
        return await _payment_call(info, flows.void, payment_id)

    @strawberry.mutation(
        description="Apply a FAILED webhook event again now (MANAGE_ORDERS).",
        permission_classes=MANAGE_ORDERS,
    )
    async def webhook_event_replay(
        self, info: Info, id: strawberry.ID
    ) -> WebhookEventReplayPayload:
        return await run_flow(
            info,
            WebhookEventReplayPayload,
            inbox.replay,
            lambda row: WebhookEventReplayPayload(webhook_event=WebhookEvent.from_row(row)),
            event_row_id=decode_id(id, "WebhookEvent"),
            settings=info.context.settings,
            gateways=_gateways(info),
        )

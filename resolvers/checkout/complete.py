"""checkoutComplete: the cart becomes an order and its payment starts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.checkout.complete import PaymentData
from app.services.payments.flows import checkout_and_pay
from resolvers.base import (
    Info,
    UserErrorType,
    decode_token_id,
    payload_field,
    run_flow,
    user_errors_field,
)

if TYPE_CHECKING:
    from resolvers.orders.types import Order

OrderRef = Annotated["Order", strawberry.lazy("resolvers.orders.types")]


@strawberry.input(description="How the order is paid.")
class PaymentInput:
    gateway: str = strawberry.field(
        description="A gateway of PAYMENT_GATEWAYS: DUMMY, STRIPE or PAYPAL."
    )
    token: str | None = strawberry.field(
        default=None,
        description="DUMMY only, required there: tok_success, tok_authorize, tok_pending or "
        "tok_decline. STRIPE and PAYPAL take none: the customer pays in the provider's UI "
        "with the order's payments { clientSecret | approvalUrl }.",
    )


@strawberry.type
class CheckoutCompletePayload:
    order: OrderRef | None = payload_field(
        "The order (the first one again when the idempotency key was used before)."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Place the cart's order and start its payment. DUMMY decides at once, in "
        "the same transaction: a declined payment leaves nothing behind. STRIPE and PAYPAL "
        "start after the order is placed; the order is PAID only when the provider says so "
        "(webhook, or orderPaymentConfirm). Repeating an idempotency key returns the first "
        "order, and resumes a payment whose start got PAYMENT_GATEWAY_UNAVAILABLE."
    )
    async def checkout_complete(
        self, info: Info, cart_id: strawberry.ID, idempotency_key: str, payment: PaymentInput
    ) -> CheckoutCompletePayload:
        from resolvers.orders.types import Order

        user = info.context.user
        gateways = info.context.gateways
        assert gateways is not None
        return await run_flow(
            info,
            CheckoutCompletePayload,
            checkout_and_pay,
            lambda row: CheckoutCompletePayload(order=Order.from_row(row)),
            cart_token=decode_token_id(cart_id, "Cart"),
            user_id=user.id if user is not None else None,
            idempotency_key=idempotency_key,
            payment=PaymentData(gateway=payment.gateway, token=payment.token),
            settings=info.context.settings,
            gateways=gateways,
        )

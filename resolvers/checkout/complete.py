"""checkoutComplete: the cart becomes an order and its payment starts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from app.services.checkout.complete import PaymentData, complete_checkout
from resolvers.base import (
    Info,
    UserErrorType,
    decode_token_id,
    payload_field,
    run_mutation,
    user_errors_field,
)

if TYPE_CHECKING:
    from resolvers.orders.types import Order

OrderRef = Annotated["Order", strawberry.lazy("resolvers.orders.types")]


@strawberry.input(description="How the order is paid.")
class PaymentInput:
    gateway: str = strawberry.field(description="A gateway of PAYMENT_GATEWAYS, e.g. DUMMY.")
    token: str = strawberry.field(
        description="The payment token the gateway's client library gave (DUMMY: tok_success, "
        "tok_pending, tok_decline)."
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
        description="Place the cart's order and start its payment, in one transaction: "
        "a declined payment leaves nothing behind. Repeating an idempotency key returns the "
        "first order."
    )
    async def checkout_complete(
        self, info: Info, cart_id: strawberry.ID, idempotency_key: str, payment: PaymentInput
    ) -> CheckoutCompletePayload:
        from resolvers.orders.types import Order

        user = info.context.user
        return await run_mutation(
            info,
            CheckoutCompletePayload,
            complete_checkout,
            lambda row: CheckoutCompletePayload(order=Order.from_row(row)),
            cart_token=decode_token_id(cart_id, "Cart"),
            user_id=user.id if user is not None else None,
            idempotency_key=idempotency_key,
            payment=PaymentData(gateway=payment.gateway, token=payment.token),
            settings=info.context.settings,
        )

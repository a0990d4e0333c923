"""Web push subscriptions of the signed-in user: `pushSubscriptionAdd`, `pushSubscriptionRemove`."""

from __future__ import annotations

from typing import Any

import strawberry

from app.services.notifications import push_subscriptions
from resolvers.base import (
    Info,
    IsAuthenticated,
    UserErrorType,
    current_user,
    run_mutation,
    user_errors_field,
)


@strawberry.input(description="A browser's PushSubscription (its JSON form).")
class PushSubscriptionInput:
    endpoint: str = strawberry.field(
        description="The push service URL: https on a public host name (no IP address, "
        "local name, user info or other port)."
    )
    p256dh: str = strawberry.field(description="keys.p256dh, base64url (P-256 public key).")
    auth: str = strawberry.field(description="keys.auth, base64url (16-byte secret).")


@strawberry.type
class PushSubscriptionPayload:
    endpoint: str | None = strawberry.field(default=None, description="The endpoint.")
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class PushSubscriptionRemovePayload:
    removed: bool = strawberry.field(
        default=False, description="True when one of your subscriptions was removed."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Register this browser for web push; the same endpoint again updates its "
        "keys and owner.",
        permission_classes=[IsAuthenticated],
    )
    async def push_subscription_add(
        self, info: Info, input: PushSubscriptionInput
    ) -> PushSubscriptionPayload:
        def to_payload(endpoint: Any) -> PushSubscriptionPayload:
            return PushSubscriptionPayload(endpoint=endpoint)

        return await run_mutation(
            info,
            PushSubscriptionPayload,
            push_subscriptions.add_subscription,
            to_payload,
            user_id=current_user(info).id,
            endpoint=input.endpoint,
            p256dh=input.p256dh,
            auth=input.auth,
        )

    @strawberry.mutation(
        description="Stop web push to this endpoint (one of yours).",
        permission_classes=[IsAuthenticated],
    )
    async def push_subscription_remove(
        self, info: Info, endpoint: str
    ) -> PushSubscriptionRemovePayload:
        def to_payload(removed: Any) -> PushSubscriptionRemovePayload:
            return PushSubscriptionRemovePayload(removed=bool(removed))

        return await run_mutation(
            info,
            PushSubscriptionRemovePayload,
            push_subscriptions.remove_subscription,
            to_payload,
            user_id=current_user(info).id,
            endpoint=endpoint,
        )

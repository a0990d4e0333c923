"""Account subscriptions over WebSocket."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from enum import Enum

import strawberry

from resolvers.base import Info, current_user


@strawberry.enum(description="Something that happened to the signed-in account.")
class AccountEventKind(Enum):
    ACCOUNT_CREATED = "ACCOUNT_CREATED"
    SIGNED_IN = "SIGNED_IN"
    TOKENS_REVOKED = "TOKENS_REVOKED"


@strawberry.type(description="A security-relevant event of the signed-in account.")
class AccountEvent:
    kind: AccountEventKind = strawberry.field(description="What happened.")
    received_at: datetime = strawberry.field(description="When the server relayed it.")


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Sign-ins and sign-outs of the signed-in account, as they happen."
    )
    async def account_events(self, info: Info) -> AsyncGenerator[AccountEvent, None]:
        user = current_user(info)
        async with info.context.pubsub.subscribe(f"user:{user.id}") as messages:
            async for message in messages:
                yield AccountEvent(
                    kind=AccountEventKind(message["kind"]), received_at=datetime.now(UTC)
                )

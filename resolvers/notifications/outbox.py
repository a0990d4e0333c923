"""Staff view of the notification outbox: dead messages and retrying them (MANAGE_USERS)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from app.auth.permissions import Perm, has_permission
from app.services.notifications import outbox as service
from app.services.pagination import PageRequest
from models.notifications import Notification as Row
from resolvers.base import (
    HasPermission,
    Info,
    UserErrorType,
    decode_id,
    node_keys,
    run_mutation,
    run_query,
    user_errors_field,
)
from resolvers.connection import Connection, keyset_connection

MANAGE_USERS = [HasPermission(Perm.MANAGE_USERS)]


@strawberry.enum(description="Where a notification is in its delivery.")
class NotificationStatus(Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


@strawberry.type(description="A message in the outbox (staff).")
class Notification(relay.Node):
    id: relay.NodeID[int]
    kind: str = strawberry.field(description="account_security, order_updates, shipping, ...")
    channel: str = strawberry.field(description="email, sms or push.")
    recipient: str = strawberry.field(description="Email address, phone number or endpoint.")
    template: str = strawberry.field(description="Template name.")
    payload: JSON = strawberry.field(description="Template variables.")
    idempotency_key: str = strawberry.field(description="Sent along so receivers drop repeats.")
    status: NotificationStatus = strawberry.field(description="Delivery state.")
    attempts: int = strawberry.field(description="Failed delivery attempts so far.")
    max_attempts: int = strawberry.field(description="Attempts before it is given up (dead).")
    next_attempt_at: datetime = strawberry.field(description="When it is due next.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    created_at: datetime = strawberry.field(description="When it was enqueued.")
    sent_at: datetime | None = strawberry.field(description="When it was delivered.")

    @classmethod
    def from_row(cls, row: Row) -> Notification:
        return cls(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            recipient=row.recipient,
            template=row.template,
            payload=cast(JSON, row.payload),
            idempotency_key=row.idempotency_key,
            status=NotificationStatus(row.status),
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Notification | None]:
        keys = node_keys(node_ids)
        if not has_permission(info.context.user, Perm.MANAGE_USERS):
            return [None for _ in keys]
        rows = await run_query(info, service.notifications_by_ids, ids=keys)
        return [cls.from_row(row) if row is not None else None for row in rows]


@strawberry.type
class NotificationPayload:
    notification: Notification | None = strawberry.field(
        default=None, description="The notification."
    )
    user_errors: list[UserErrorType] = user_errors_field()


@strawberry.type
class Query:
    @strawberry.field(
        description="Notifications that ran out of attempts, oldest first (MANAGE_USERS).",
        permission_classes=MANAGE_USERS,
    )
    async def dead_notifications(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Notification]:
        return await keyset_connection(
            info,
            service.dead_query(),
            page=PageRequest(first=first, after=after, last=None, before=None),
            node=Notification.from_row,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Queue a dead notification again, due now (MANAGE_USERS).",
        permission_classes=MANAGE_USERS,
    )
    async def notification_retry(self, info: Info, id: strawberry.ID) -> NotificationPayload:
        return await run_mutation(
            info,
            NotificationPayload,
            service.retry,
            lambda row: NotificationPayload(notification=Notification.from_row(row)),
            notification_id=decode_id(id, "Notification"),
        )

"""The outbox: enqueue a notification in the caller's transaction (it is sent only if that
commits), and the staff operations on it (list dead messages, send one again).

A message for a user who switched that kind off on that channel is not written at all;
`account_security` always goes. The user's locale is stored in the payload when not given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, NotificationError
from app.services.checks import locked_or_not_found
from app.services.notifications.preferences import is_enabled
from app.services.pagination import KeysetQuery, SortKey
from models.accounts import User
from models.notifications import Notification


async def enqueue(
    session: AsyncSession,
    *,
    user_id: int | None,
    kind: str,
    channel: str,
    recipient: str,
    template: str,
    payload: dict[str, Any],
    max_attempts: int = 8,
    flush: bool = True,
    preference_checked: bool = False,
) -> Notification | None:
    """Add an outbox row (flush, never commit); its idempotency key is fixed here, once.

    Returns None (and writes nothing) when the user's preference for `kind` over `channel`
    is off. `flush=False` leaves the INSERT to the caller's next flush (several rows of one
    transaction then go in one statement). `preference_checked` says the caller already
    looked the preference up (and put the locale in the payload).
    """
    if user_id is not None and not preference_checked:
        if not await is_enabled(session, user_id, kind, channel):
            return None
        if not payload.get("locale"):
            locale = await session.scalar(select(User.locale).where(User.id == user_id))
            if locale:
                payload = {**payload, "locale": locale}
    row = Notification(
        user_id=user_id,
        kind=kind,
        channel=channel,
        recipient=recipient,
        template=template,
        payload=payload,
        idempotency_key=uuid.uuid4().hex,
        max_attempts=max_attempts,
    )
    session.add(row)
    if flush:
        await session.flush()
    return row


def dead_statement() -> Select[Any]:
    """Notifications that ran out of attempts."""
    return select(Notification).where(Notification.status == "dead")


async def retry(session: AsyncSession, *, notification_id: int) -> Notification:
    """Put a dead notification back in the queue, due now, with fresh attempts."""
    row = await locked_or_not_found(session, Notification, notification_id, field="id")
    if row.status != "dead":
        raise NotificationError(
            ErrorCode.INVALID, "Only dead notifications can be retried.", field="id"
        )
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = datetime.now(UTC)
    row.locked_until = None
    await session.flush()
    return row


def dead_query() -> KeysetQuery:
    """Dead notifications, oldest first."""
    return KeysetQuery(
        dead_statement(), keys=[SortKey(Notification.id, False)], tag="notification:dead"
    )


async def notifications_by_ids(
    session: AsyncSession, *, ids: Sequence[int]
) -> list[Notification | None]:
    """The notifications of `ids`, in that order; None where there is none."""
    rows = await session.scalars(select(Notification).where(Notification.id.in_(ids)))
    by_id = {row.id: row for row in rows}
    return [by_id.get(key) for key in ids]

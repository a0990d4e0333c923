"""Staff operations on the notification outbox: list dead messages, send one again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError
from models.notifications import Notification


class NotificationError(UserError):
    """An error of the notifications domain."""


def dead_statement() -> Select[Any]:
    """Notifications that ran out of attempts."""
    return select(Notification).where(Notification.status == "dead")


async def retry(session: AsyncSession, *, notification_id: int) -> Notification:
    """Put a dead notification back in the queue, due now, with fresh attempts."""
    row = await session.get(Notification, notification_id, with_for_update=True)
    if row is None:
        raise NotificationError(ErrorCode.NOT_FOUND, "Notification not found.", field="id")
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

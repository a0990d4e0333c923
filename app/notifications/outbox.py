"""Enqueue a notification in the caller's transaction: it is sent only if that commits."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

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
) -> Notification:
    """Add an outbox row (flush, never commit); its idempotency key is fixed here, once."""
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
    await session.flush()
    return row

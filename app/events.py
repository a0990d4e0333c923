"""Domain events raised inside a transaction and published only after it commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "pending_events"


def emit(session: AsyncSession, channel: str, payload: dict[str, Any]) -> None:
    """Queue a message for `channel`; it is dropped if the transaction rolls back."""
    session.info.setdefault(_KEY, []).append((channel, payload))


def take_pending(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    """Remove and return the queued messages (after commit: to publish; after rollback: to drop)."""
    pending: list[tuple[str, dict[str, Any]]] = session.info.pop(_KEY, [])
    return pending

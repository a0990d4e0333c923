"""Domain events raised inside a transaction and published only after it commits.

A message waits in the session until its transaction ends: a commit moves it to the
session's committed messages, a rollback drops it (session event hooks below), so code that
runs several transactions on one session (payments: one before and one after a provider's
answer) publishes exactly what was committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from app.pubsub import PubSub

log = logging.getLogger(__name__)

_KEY = "pending_events"
_COMMITTED = "committed_events"
_CALLBACKS = "after_commit_callbacks"


def emit(session: AsyncSession, channel: str, payload: dict[str, Any]) -> None:
    """Queue a message for `channel`; it is dropped if the transaction rolls back."""
    session.info.setdefault(_KEY, []).append((channel, payload))


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` (quick, synchronous: a metric) once this transaction commits; never
    if it rolls back."""
    session.info.setdefault(_CALLBACKS, []).append(callback)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if _KEY in session.info:
        session.info.setdefault(_COMMITTED, []).extend(session.info.pop(_KEY))
    for callback in session.info.pop(_CALLBACKS, ()):
        try:
            callback()
        except Exception:
            log.exception("an after-commit callback failed")


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_CALLBACKS, None)


def take_pending(session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    """Remove and return the queued messages: those of committed transactions, then those
    still waiting (after commit: to publish; after rollback: to drop)."""
    committed: list[tuple[str, dict[str, Any]]] = session.info.pop(_COMMITTED, [])
    waiting: list[tuple[str, dict[str, Any]]] = session.info.pop(_KEY, [])
    return committed + waiting


async def publish_committed(session: AsyncSession, pubsub: PubSub) -> None:
    """Publish what the session's committed transactions emitted; a lost notice is logged,
    never raised (the change itself is committed)."""
    for channel, message in session.info.pop(_COMMITTED, []):
        try:
            await pubsub.publish(channel, message)
        except Exception:
            log.exception("publishing to %s failed", channel)

"""Outbox leases: a batch is claimed under a token, and every later write checks the token.

A worker may only start a send, renew a lease or record an outcome while the row is still
`sending` under its own claim token. A worker whose lease ran out and was taken over finds
the token changed: it sends nothing more and its late outcome is dropped, so it never
overwrites (or releases) the new owner's claim.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.notifications.channels import Message
from models.notifications import Notification

log = logging.getLogger(__name__)

# Awaited inside the claim transaction with the ids it locked: a seam for race tests.
ClaimHook = Callable[[list[int]], Awaitable[None]]

GAVE_UP = "gave up after {attempts} attempts: the last send never finished (worker died or hung)"
MAX_ERROR_CHARS = 2_000


def _held(notification_id: int | Iterable[int], token: uuid.UUID) -> list[ColumnElement[bool]]:
    ids = [notification_id] if isinstance(notification_id, int) else list(notification_id)
    return [
        Notification.id.in_(ids),
        Notification.claim_token == token,
        Notification.status == "sending",
    ]


def _message(row: Notification) -> Message:
    return Message(
        idempotency_key=row.idempotency_key,
        channel=row.channel,
        recipient=row.recipient,
        template=row.template,
        payload=dict(row.payload),
        kind=row.kind,
        user_id=row.user_id,
    )


async def claim(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    batch_size: int,
    now: datetime,
    lease_seconds: float,
    token: uuid.UUID | None = None,
    while_locked: ClaimHook | None = None,
) -> list[tuple[int, Message]]:
    """Lease up to `batch_size` due rows under `token`; rows out of attempts end `dead`."""
    token = token or uuid.uuid4()
    due = or_(
        and_(Notification.status == "pending", Notification.next_attempt_at <= now),
        and_(Notification.status == "sending", Notification.locked_until < now),
    )
    async with session_factory() as session, session.begin():
        rows = (
            await session.scalars(
                select(Notification)
                .where(due)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if while_locked is not None:
            await while_locked([row.id for row in rows])
        # Only a row whose sends all died (worker crash or hang) can be due and out of
        # attempts: a message that kills its worker every time must stop somewhere.
        spent = [row for row in rows if row.attempts >= row.max_attempts]
        for row in spent:
            row.status, row.locked_until, row.claim_token = "dead", None, None
            row.last_error = GAVE_UP.format(attempts=row.attempts)
            log.error("notification %s is dead: %s", row.id, row.last_error)
        live = [row for row in rows if row.attempts < row.max_attempts]
        if live:
            await session.execute(
                update(Notification)
                .where(Notification.id.in_([row.id for row in live]))
                .values(
                    status="sending",
                    locked_until=now + timedelta(seconds=lease_seconds),
                    claim_token=token,
                )
                .execution_options(synchronize_session=False)
            )
        return [(row.id, _message(row)) for row in live]


async def start_attempt(
    session_factory: async_sessionmaker[AsyncSession],
    notification_id: int,
    *,
    token: uuid.UUID,
    until: datetime,
) -> int | None:
    """Count an attempt and renew the lease while `token` holds the row; None once it is lost."""
    async with session_factory() as session, session.begin():
        attempts = await session.scalar(
            update(Notification)
            .where(*_held(notification_id, token))
            .values(attempts=Notification.attempts + 1, locked_until=until)
            .returning(Notification.attempts)
            .execution_options(synchronize_session=False)
        )
    return None if attempts is None else int(attempts)


async def renew(
    session_factory: async_sessionmaker[AsyncSession],
    notification_ids: set[int],
    *,
    token: uuid.UUID,
    until: datetime,
) -> set[int]:
    """Extend the lease of the rows `token` still holds; return their ids."""
    if not notification_ids:
        return set()
    async with session_factory() as session, session.begin():
        kept = await session.scalars(
            update(Notification)
            .where(*_held(notification_ids, token))
            .values(locked_until=until)
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
        return set(kept)


def storable_error(error: str) -> str:
    """The error text as PostgreSQL text can hold it: NUL and lone surrogates escaped, cut."""
    # Providers echo what they like (JSON may escape NUL or a lone surrogate); either would
    # make the outcome unrecordable, leaving the row to wait out its lease.
    escaped = error.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()
    return escaped[:MAX_ERROR_CHARS]


async def record(
    session_factory: async_sessionmaker[AsyncSession],
    notification_id: int,
    *,
    token: uuid.UUID,
    error: str | None,
    now: datetime,
    retry_at: datetime,
) -> bool:
    """Record a send's outcome if `token` still holds the row; False (nothing written) if not."""
    async with session_factory() as session, session.begin():
        row = await session.scalar(
            select(Notification).where(*_held(notification_id, token)).with_for_update()
        )
        if row is None:
            log.warning("notification %s was taken over; this outcome is dropped", notification_id)
            return False
        row.locked_until, row.claim_token = None, None
        if error is None:
            # `attempts` counts sends that did not deliver (the API's "failed attempts"):
            # this one was counted when it started, so it is taken back.
            row.attempts = max(0, row.attempts - 1)
            row.status, row.sent_at, row.last_error = "sent", now, None
            return True
        row.last_error = storable_error(error)
        if row.attempts >= row.max_attempts:
            row.status = "dead"
            log.error("notification %s is dead after %s attempts: %s", row.id, row.attempts, error)
        else:
            row.status, row.next_attempt_at = "pending", retry_at
        return True

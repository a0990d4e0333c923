"""The outbox worker: claim due rows with SKIP LOCKED under a lease, deliver, record the outcome.

Delivery is at least once: a worker that dies after sending but before recording the outcome
leaves the row `sending`; when its lease runs out another worker sends it again. Channels
carry the idempotency key (Message-ID, file name) so receivers can drop the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.notifications.channels import Channel, DeliveryError, Message, Router
from app.settings import Settings
from models.notifications import Notification

log = logging.getLogger(__name__)

CONCURRENT_SENDS = 10

# Awaited inside the claim transaction with the ids it locked: a seam for race tests.
ClaimHook = Callable[[list[int]], Awaitable[None]]


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 50
    lease_seconds: float = 60.0
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 3_600.0
    poll_seconds: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        return cls(
            batch_size=settings.worker_batch_size,
            lease_seconds=settings.worker_lease_seconds,
            backoff_base_seconds=settings.worker_backoff_base_seconds,
            backoff_cap_seconds=settings.worker_backoff_cap_seconds,
            poll_seconds=settings.worker_poll_seconds,
        )


def backoff_seconds(attempts: int, config: WorkerConfig) -> float:
    """min(cap, base * 2**attempts), times a random jitter in 0.5..1.5."""
    delay = min(config.backoff_cap_seconds, config.backoff_base_seconds * 2**attempts)
    return delay * random.uniform(0.5, 1.5)


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def claim(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    batch_size: int,
    now: datetime,
    lease_seconds: float,
    while_locked: ClaimHook | None = None,
) -> list[tuple[int, Message]]:
    """Lease up to `batch_size` due rows (pending and due, or `sending` with an expired lease)."""
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
        if not rows:
            return []
        await session.execute(
            update(Notification)
            .where(Notification.id.in_([row.id for row in rows]))
            .values(status="sending", locked_until=now + timedelta(seconds=lease_seconds))
        )
        return [
            (
                row.id,
                Message(
                    idempotency_key=row.idempotency_key,
                    channel=row.channel,
                    recipient=row.recipient,
                    template=row.template,
                    payload=dict(row.payload),
                    kind=row.kind,
                    user_id=row.user_id,
                ),
            )
            for row in rows
        ]


async def _record(
    session_factory: async_sessionmaker[AsyncSession],
    notification_id: int,
    error: str | None,
    *,
    now: datetime,
    config: WorkerConfig,
) -> None:
    async with session_factory() as session, session.begin():
        row = await session.get(Notification, notification_id, with_for_update=True)
        if row is None or row.status != "sending":
            return
        row.locked_until = None
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
            return
        row.attempts += 1
        row.last_error = error[:2_000]
        if row.attempts >= row.max_attempts:
            row.status = "dead"
            log.error("notification %s is dead after %s attempts: %s", row.id, row.attempts, error)
        else:
            row.status = "pending"
            row.next_attempt_at = now + timedelta(seconds=backoff_seconds(row.attempts, config))


async def run_once(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    channel: Channel,
    batch_size: int | None = None,
    now: datetime | None = None,
    config: WorkerConfig | None = None,
    while_locked: ClaimHook | None = None,
) -> int:
    """Claim one batch, deliver it, record each outcome; return how many rows were claimed."""
    config = config or WorkerConfig()
    now = now or _utcnow()
    claimed = await claim(
        session_factory,
        batch_size=batch_size or config.batch_size,
        now=now,
        lease_seconds=config.lease_seconds,
        while_locked=while_locked,
    )
    gate = asyncio.Semaphore(CONCURRENT_SENDS)

    async def deliver(notification_id: int, message: Message) -> None:
        async with gate:
            try:
                await channel.send(message)
                error = None
            except DeliveryError as exc:
                error = str(exc) or type(exc).__name__
                log.warning("notification %s not delivered: %s", notification_id, error)
            except Exception as exc:  # a bug (bad template): count it, so the row ends dead
                error = f"{type(exc).__name__}: {exc}"
                log.exception("notification %s failed", notification_id)
            await _record(session_factory, notification_id, error, now=now, config=config)

    await asyncio.gather(*(deliver(i, m) for i, m in claimed))
    return len(claimed)


async def run_forever(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    channel: Channel,
    stop: asyncio.Event,
    config: WorkerConfig | None = None,
) -> None:
    """Run batches until `stop` is set; sleep a little when idle or after an error."""
    config = config or WorkerConfig()
    while not stop.is_set():
        try:
            claimed = await run_once(session_factory, channel=channel, config=config)
        except Exception:
            log.exception("notification worker batch failed")
            claimed = 0
        if claimed == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), config.poll_seconds)


def runs_in_process(settings: Settings) -> bool:
    """WORKER_IN_PROCESS, by default on only with the embedded database (one-command runs)."""
    if settings.worker_in_process is None:
        return settings.uses_embedded_database
    return settings.worker_in_process


@contextlib.asynccontextmanager
async def in_process_worker(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    """Run the worker as a task of this process while the context is open (if enabled)."""
    if not runs_in_process(settings):
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_forever(
            session_factory,
            channel=Router(settings, session_factory=session_factory),
            stop=stop,
            config=WorkerConfig.from_settings(settings),
        ),
        name="notification-worker",
    )
    log.info("notification worker running in process")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            log.warning("notification worker did not stop in time; its leases will expire")

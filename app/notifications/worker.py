"""The outbox worker: claim due rows with SKIP LOCKED under a lease, deliver, record the outcome.

Each batch is claimed under a fresh token (app/notifications/leases.py). Before a send the
worker counts the attempt and renews the row's lease, only if its token still holds the row;
while sends run, a heartbeat renews the leases of the rows in flight, so a slow batch keeps
them and rows still waiting can be taken by another worker once their lease runs out.

Delivery is at least once: a worker that dies (or stalls past its lease) after sending but
before recording the outcome leaves the row `sending`; when its lease runs out another worker
sends it again, and the stale worker's outcome is dropped. Channels carry the idempotency key
(Message-ID, file name) so receivers can drop the repeat. A send that never finished counts as
an attempt, so a message that kills its worker every time ends `dead`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.housekeeping import HOUSEKEEPING_SECONDS, housekeeping
from app.notifications.channels import Channel, DeliveryError, Message, Router
from app.notifications.leases import ClaimHook, claim, record, renew, start_attempt
from app.payments.registry import Gateways
from app.pubsub import PubSub
from app.settings import Settings

log = logging.getLogger(__name__)

CONCURRENT_SENDS = 10
# Leases are renewed three times per lease: one late or failed renewal does not lose them.
RENEWALS_PER_LEASE = 3


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
    delay = min(config.backoff_cap_seconds, config.backoff_base_seconds * 2.0**attempts)
    return delay * random.uniform(0.5, 1.5)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _clock(start: datetime | None) -> Callable[[], datetime]:
    """The current time; from a given start (tests pin it), that start moving at real pace."""
    if start is None:
        return _utcnow
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


async def _send(channel: Channel, notification_id: int, message: Message) -> str | None:
    """Send one message; the error text, or None when it was delivered."""
    try:
        await channel.send(message)
    except DeliveryError as exc:
        error = str(exc) or type(exc).__name__
        log.warning("notification %s not delivered: %s", notification_id, error)
        return error
    except Exception as exc:  # a bug (bad template): count it, so the row ends dead
        log.exception("notification %s failed", notification_id)
        return f"{type(exc).__name__}: {exc}"
    return None


async def _keep_leases(
    session_factory: async_sessionmaker[AsyncSession],
    in_flight: set[int],
    *,
    token: uuid.UUID,
    clock: Callable[[], datetime],
    lease_seconds: float,
) -> None:
    """Renew the leases of the rows being sent until cancelled; log the ones taken over."""
    lease = timedelta(seconds=lease_seconds)
    while True:
        await asyncio.sleep(lease_seconds / RENEWALS_PER_LEASE)
        asked = set(in_flight)
        try:
            kept = await renew(session_factory, asked, token=token, until=clock() + lease)
        except Exception:  # the database is away: try again at the next beat
            log.exception("renewing notification leases failed")
            continue
        if lost := (asked - kept) & in_flight:  # rows recorded meanwhile are not lost
            log.warning("notification leases taken over while sending: %s", sorted(lost))


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
    clock = _clock(now)
    lease = timedelta(seconds=config.lease_seconds)
    token = uuid.uuid4()
    claimed = await claim(
        session_factory,
        batch_size=batch_size or config.batch_size,
        now=clock(),
        lease_seconds=config.lease_seconds,
        token=token,
        while_locked=while_locked,
    )
    if not claimed:
        return 0
    gate = asyncio.Semaphore(CONCURRENT_SENDS)
    in_flight: set[int] = set()

    async def deliver(notification_id: int, message: Message) -> None:
        async with gate:
            attempts = await start_attempt(
                session_factory, notification_id, token=token, until=clock() + lease
            )
            if attempts is None:  # its lease ran out while it waited, and another worker has it
                log.info("notification %s was taken over before its send", notification_id)
                return
            in_flight.add(notification_id)
            try:
                error = await _send(channel, notification_id, message)
                retry_at = clock() + timedelta(seconds=backoff_seconds(attempts, config))
                await record(
                    session_factory,
                    notification_id,
                    token=token,
                    error=error,
                    now=clock(),
                    retry_at=retry_at,
                )
            finally:
                in_flight.discard(notification_id)

    heartbeat = asyncio.create_task(
        _keep_leases(
            session_factory,
            in_flight,
            token=token,
            clock=clock,
            lease_seconds=config.lease_seconds,
        ),
        name="notification-leases",
    )
    try:
        outcomes = await asyncio.gather(
            *(deliver(i, m) for i, m in claimed), return_exceptions=True
        )
    finally:
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)
    for outcome in outcomes:  # every send finished first: one failed write spares the rest
        if isinstance(outcome, BaseException):
            raise outcome
    return len(claimed)


async def run_forever(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    channel: Channel,
    stop: asyncio.Event,
    config: WorkerConfig | None = None,
    periodic: Callable[[], Awaitable[object]] | None = None,
    periodic_seconds: float = 60.0,
) -> None:
    """Run batches until `stop` is set; sleep a little when idle or after an error.

    `periodic` (app/housekeeping.py: purging carts) runs first and then every
    `periodic_seconds`; its failure is logged and retried at the next turn.
    """
    config = config or WorkerConfig()
    last_periodic: float | None = None
    while not stop.is_set():
        if periodic is not None and (
            last_periodic is None or time.monotonic() - last_periodic >= periodic_seconds
        ):
            last_periodic = time.monotonic()
            try:
                await periodic()
            except Exception:
                log.exception("periodic worker job failed")
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
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    gateways: Gateways,
    pubsub: PubSub | None = None,
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
            periodic=housekeeping(session_factory, settings, gateways, pubsub),
            periodic_seconds=HOUSEKEEPING_SECONDS,
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

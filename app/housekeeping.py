"""Periodic work the worker runs besides delivering notifications, each job in its own
transactions: abandoned anonymous carts and expired stock reservations; failed webhook
events and pending refunds retried; orders unpaid for PAYMENT_TIMEOUT_MINUTES cancelled."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.events import publish_committed
from app.payments.registry import Gateways
from app.pubsub import PubSub
from app.services.cart.purge import purge_expired_carts
from app.services.payments import inbox
from app.services.payments.abandoned import cancel_unpaid_orders
from app.services.payments.provider_calls import execute_refund
from app.settings import Settings
from models.payments import Refund

log = logging.getLogger(__name__)

# How often the worker runs these jobs.
HOUSEKEEPING_SECONDS = 60.0
REFUND_BATCH = 50


async def purge_carts(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    settings: Settings,
    now: datetime | None = None,
) -> int:
    """One purge of carts older than CART_EXPIRY_DAYS, committed; how many carts went."""
    async with session_factory() as session, session.begin():
        purged = await purge_expired_carts(
            session, now=now or datetime.now(UTC), days=settings.cart_expiry_days
        )
    if purged:
        log.info("purged %s abandoned carts", purged)
    return purged


async def retry_refunds(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    settings: Settings,
    gateways: Gateways,
    now: datetime | None = None,
    pubsub: PubSub | None = None,
) -> int:
    """Ask the providers again for refunds they did not answer; how many were settled."""
    now = now or datetime.now(UTC)
    async with session_factory() as session:
        async with session.begin():
            ids = list(
                await session.scalars(
                    select(Refund.id)
                    .where(
                        Refund.status == "pending",
                        Refund.origin != "provider",
                        Refund.next_attempt_at <= now,
                    )
                    .order_by(Refund.next_attempt_at, Refund.id)
                    .limit(REFUND_BATCH)
                )
            )
        settled = 0
        for refund_id in ids:
            refund = await execute_refund(
                session, gateways=gateways, settings=settings, refund_id=refund_id
            )
            settled += refund.status != "pending"
        if pubsub is not None:
            await publish_committed(session, pubsub)
    return settled


async def payment_jobs(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    settings: Settings,
    gateways: Gateways,
    now: datetime | None = None,
    pubsub: PubSub | None = None,
) -> None:
    """Webhook retries, refund retries and unpaid orders, one pass each; the status changes
    they commit are published when a pub/sub is given."""
    now = now or datetime.now(UTC)
    async with session_factory() as session:
        try:
            retried = await inbox.retry_failed(
                session, gateways=gateways, settings=settings, now=now
            )
            cancelled = await cancel_unpaid_orders(
                session, gateways=gateways, settings=settings, now=now
            )
        finally:
            if pubsub is not None:
                await publish_committed(session, pubsub)
    refunds = await retry_refunds(
        session_factory, settings=settings, gateways=gateways, now=now, pubsub=pubsub
    )
    if retried or cancelled or refunds:
        log.info(
            "webhook events applied: %s; unpaid orders cancelled: %s; refunds settled: %s",
            retried, cancelled, refunds,
        )  # fmt: skip


def housekeeping(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    gateways: Gateways,
    pubsub: PubSub | None = None,
) -> Callable[[], Awaitable[object]]:
    """The worker's periodic job; one job failing does not keep the others from running."""

    async def run() -> object:
        try:
            await purge_carts(session_factory, settings=settings)
        finally:
            await payment_jobs(session_factory, settings=settings, gateways=gateways,
                               pubsub=pubsub)  # fmt: skip
        return None

    return run

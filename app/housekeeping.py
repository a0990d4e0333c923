"""Periodic clean-up the worker runs besides delivering notifications (each in its own
transaction): abandoned anonymous carts and expired stock reservations."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.services.cart.purge import purge_expired_carts
from app.settings import Settings

log = logging.getLogger(__name__)

# How often the worker purges carts and reservations.
HOUSEKEEPING_SECONDS = 60.0


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


def housekeeping(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> Callable[[], Awaitable[object]]:
    """The worker's periodic job."""

    async def run() -> object:
        return await purge_carts(session_factory, settings=settings)

    return run

"""Process-wide resources, built once in the Starlette lifespan and closed on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import migrate
from app.cost_budget import CostBudget
from app.db import create_engine, create_session_factory, database_url
from app.notifications.worker import in_process_worker
from app.payments.registry import Gateways
from app.persisted_queries import PersistedQueries
from app.pubsub import PubSub
from app.ratelimit import RateLimiter
from app.response_cache_shared import SharedAnswers
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    pubsub: PubSub
    redis: Redis | None
    rate_limiter: RateLimiter
    cost_budget: CostBudget | None
    gateways: Gateways
    persisted_queries: PersistedQueries
    shared_answers: SharedAnswers | None = None  # PUBLIC_CACHE_SHARED: answers in Redis


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    """Engine (embedded PostgreSQL if unset), migrations on the embedded default, Redis, pub/sub."""
    _ = settings.signing_key  # fail at start, not at first sign-in, when production lacks a key
    url = await asyncio.to_thread(database_url, settings)
    engine = create_engine(url, settings)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    pubsub = PubSub(settings.redis_url, prefix=settings.pubsub_prefix)
    try:
        if settings.should_migrate_on_start:
            await migrate.upgrade(engine)
            log.info("database migrated to head")
        await pubsub.connect()
        try:
            limiter = RateLimiter(
                settings.redis_url,
                prefix=settings.pubsub_prefix,
                enabled=settings.rate_limits_enabled,
                redis=redis,
            )
            budget = (
                CostBudget(
                    capacity=settings.cost_budget_capacity,
                    restore_rate=settings.cost_budget_restore_rate,
                    redis=redis,
                    prefix=settings.pubsub_prefix,
                )
                if settings.cost_budget_enabled
                else None
            )
            factory = create_session_factory(engine)
            gateways = Gateways.from_settings(settings)
            shared = (
                SharedAnswers(
                    redis,
                    prefix=settings.pubsub_prefix,
                    ttl_seconds=settings.public_cache_seconds,
                    max_bytes=settings.public_cache_max_bytes,
                )
                if settings.public_cache_shared and redis is not None
                else None
            )
            try:
                async with in_process_worker(settings, factory, gateways, pubsub):
                    yield Resources(
                        settings,
                        engine,
                        factory,
                        pubsub,
                        redis,
                        limiter,
                        budget,
                        gateways,
                        PersistedQueries.from_settings(settings, redis),
                        shared,
                    )
            finally:
                await gateways.aclose()
        finally:
            await pubsub.disconnect()
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()

"""Rate limits for sign-in and registration: moving windows in Redis (shared by every
instance) or, without REDIS_URL, in process memory (one process only)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import Redis

log = logging.getLogger(__name__)


class RateLimited(Exception):
    """Too many attempts; `retry_after` seconds until the next one is accepted."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many attempts. Try again in {retry_after} seconds.")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(
        self,
        redis_url: str | None,
        *,
        prefix: str,
        enabled: bool = True,
        redis: Redis | None = None,
    ) -> None:
        """`redis`: the process's client, whose connection pool the limits then share."""
        key_prefix = f"{prefix}:ratelimit"
        self.enabled = enabled
        if redis_url:
            # redis-py's asyncio client, the one the rest of the service uses (limits'
            # default for async+redis:// would be coredis, a second Redis client).
            options: dict[str, Any] = {"implementation": "redispy", "key_prefix": key_prefix}
            if redis is not None:
                options["connection_pool"] = redis.connection_pool
            self._storage: Any = storage_from_string(f"async+{redis_url}", **options)
        else:
            self._storage = storage_from_string("async+memory://", key_prefix=key_prefix)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._rules: dict[str, RateLimitItem] = {}

    def _rule(self, rule: str) -> RateLimitItem:
        if rule not in self._rules:
            self._rules[rule] = parse(rule)
        return self._rules[rule]

    async def hit(self, rule: str, scope: str, key: str) -> None:
        """Count one attempt of `scope` by `key`; RateLimited when over `rule` (e.g. "5/minute")."""
        if not self.enabled:
            return
        item = self._rule(rule)
        if await self._limiter.hit(item, scope, key):
            return
        stats = await self._limiter.get_window_stats(item, scope, key)
        raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def reset(self) -> None:
        await self._storage.reset()

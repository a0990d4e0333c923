"""Pub/sub for subscriptions: broadcaster over redis:// or, in one process, memory://."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import orjson
from broadcaster import Broadcast

from app.pubsub_redis import ResilientRedisBackend

log = logging.getLogger(__name__)


class PubSub:
    """A thin wrapper so the rest of the code never touches broadcaster directly."""

    def __init__(self, redis_url: str | None, *, prefix: str = "commerce") -> None:
        # Deployments (or test runs) sharing one Redis must not hear each other.
        self.prefix = prefix
        self.url = redis_url or "memory://"
        self._lock = asyncio.Lock()
        if redis_url is None:
            log.warning("REDIS_URL is unset: pub/sub is in-process memory (single process only)")
            self._broadcast = Broadcast("memory://")
        else:
            self.backend = ResilientRedisBackend(redis_url)
            self._broadcast = Broadcast(backend=self.backend)

    async def connect(self) -> None:
        await self._broadcast.connect()

    async def disconnect(self) -> None:
        await self._broadcast.disconnect()

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._broadcast.publish(
            channel=f"{self.prefix}:{channel}", message=orjson.dumps(payload).decode()
        )

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Messages of `channel` while the block runs."""
        # broadcaster registers a subscriber only after awaiting the backend, so two
        # subscriptions entering (or leaving) at once would both act as the first
        # (or last) and one would be lost: enter and leave one at a time.
        stack = AsyncExitStack()
        async with self._lock:
            subscriber = await stack.enter_async_context(
                self._broadcast.subscribe(f"{self.prefix}:{channel}")
            )
        try:

            async def messages() -> AsyncIterator[dict[str, Any]]:
                async for event in subscriber:  # type: ignore[union-attr]
                    if event is None:  # broadcaster signals a closed channel with None
                        return
                    yield orjson.loads(event.message)

            yield messages()
        finally:
            async with self._lock:
                await stack.aclose()

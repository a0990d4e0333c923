"""Pub/sub for subscriptions: broadcaster over redis:// or, in one process, memory://."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from broadcaster import Broadcast

log = logging.getLogger(__name__)


class PubSub:
    """A thin wrapper so the rest of the code never touches broadcaster directly."""

    def __init__(self, redis_url: str | None) -> None:
        self.url = redis_url or "memory://"
        if redis_url is None:
            log.warning("REDIS_URL is unset: pub/sub is in-process memory (single process only)")
        self._broadcast = Broadcast(self.url)

    async def connect(self) -> None:
        await self._broadcast.connect()

    async def disconnect(self) -> None:
        await self._broadcast.disconnect()

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._broadcast.publish(channel=channel, message=orjson.dumps(payload).decode())

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async with self._broadcast.subscribe(channel=channel) as subscriber:

            async def messages() -> AsyncIterator[dict[str, Any]]:
                async for event in subscriber:  # type: ignore[union-attr]
                    if event is None:  # broadcaster signals a closed channel with None
                        return
                    yield orjson.loads(event.message)

            yield messages()

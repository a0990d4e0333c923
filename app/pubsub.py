"""Pub/sub for subscriptions: broadcaster over redis:// or, in one process, memory://."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

import orjson
from broadcaster import Broadcast

from app.pubsub_redis import ResilientRedisBackend

log = logging.getLogger(__name__)
T = TypeVar("T")


class PubSub:
    """A thin wrapper so the rest of the code never touches broadcaster directly."""

    def __init__(self, redis_url: str | None, *, prefix: str = "commerce") -> None:
        # Deployments (or test runs) sharing one Redis must not hear each other.
        self.prefix = prefix
        self.url = redis_url or "memory://"
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        if redis_url is None:
            log.warning("REDIS_URL is unset: pub/sub is in-process memory (single process only)")
            self._broadcast = Broadcast("memory://")
        else:
            self.backend = ResilientRedisBackend(redis_url)
            self._broadcast = Broadcast(backend=self.backend)

    async def connect(self) -> None:
        await self._broadcast.connect()

    async def disconnect(self) -> None:
        await self.settled()
        await self._broadcast.disconnect()

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        await self._broadcast.publish(
            channel=f"{self.prefix}:{channel}", message=orjson.dumps(payload).decode()
        )

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Messages of `channel` while the block runs."""
        stack = AsyncExitStack()
        entering = self._background(self._enter(stack, f"{self.prefix}:{channel}"))
        try:
            # Registering runs in its own task: a subscriber cancelled meanwhile (a client
            # that hangs up at once) returns at once, and Redis' reply is never cut in half
            # (redis-py can swallow a cancel there, leaving the subscriber hanging).
            subscriber = await asyncio.shield(entering)
        except asyncio.CancelledError:
            self._background(self._leave_once_entered(entering, stack))
            raise
        try:

            async def messages() -> AsyncIterator[dict[str, Any]]:
                async for event in subscriber:
                    if event is None:  # broadcaster signals a closed channel with None
                        return
                    yield orjson.loads(event.message)

            yield messages()
        finally:
            await asyncio.shield(self._background(self._leave(stack)))

    async def settled(self) -> None:
        """Wait for subscriptions still being registered or removed."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _background(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # a reference, so the task is not collected mid-way
        task.add_done_callback(self._tasks.discard)
        return task

    # broadcaster registers a subscriber only after awaiting the backend, so two
    # subscriptions entering (or leaving) at once would both act as the first (or last)
    # and one would be lost: enter and leave one at a time.
    async def _enter(self, stack: AsyncExitStack, channel: str) -> Any:
        async with self._lock:
            return await stack.enter_async_context(self._broadcast.subscribe(channel))

    async def _leave(self, stack: AsyncExitStack) -> None:
        async with self._lock:
            await stack.aclose()

    async def _leave_once_entered(self, entering: asyncio.Task[Any], stack: AsyncExitStack) -> None:
        with contextlib.suppress(Exception):
            await entering
        await self._leave(stack)

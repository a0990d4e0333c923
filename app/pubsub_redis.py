"""A broadcaster backend for Redis that survives disconnects.

broadcaster 0.3.1's own Redis backend can stop delivering for good: its listener
leaves `listen()` when no channel is subscribed *yet* and then waits for a signal
that was already given, and a dropped connection ends it silently. This one
polls with a timeout, and on any connection error reconnects with backoff and
subscribes to every live channel again. Messages published while Redis is away
are lost: pub/sub here is at-most-once by design (see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 5.0


class ResilientRedisBackend(BroadcastBackend):
    def __init__(self, url: str) -> None:
        self._publisher = redis.Redis.from_url(url)
        self._subscriber = redis.Redis.from_url(url)
        self._pubsub: Any = None
        self._channels: set[str] = set()
        self._changed = asyncio.Event()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.reconnects = 0

    async def connect(self) -> None:
        # No ping: the service must start (and report unready) while Redis is down.
        self._task = asyncio.create_task(self._run(), name="redis-pubsub-listener")

    async def disconnect(self) -> None:
        if self._task is not None:
            self._stopping = True
            # On Python 3.11 `wait_for` can swallow a cancel that lands as its event is
            # set; the stop flag ends the loop then, and the cancel is repeated until done.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=0.5)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._subscriber.aclose()
        await self._publisher.aclose()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        await self._send("subscribe", channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        await self._send("unsubscribe", channel)

    async def publish(self, channel: str, message: Any) -> None:
        await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _send(self, command: str, channel: str) -> None:
        """Tell Redis now if connected; otherwise the listener does it on reconnect."""
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await getattr(pubsub, command)(channel)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                log.warning("redis pub/sub %s of %s failed; retried on reconnect", command, channel)
        self._changed.set()

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("redis pub/sub connection lost (%s); reconnecting", exc)
                await self._drop_pubsub()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                self.reconnects += 1
                continue
            backoff = 0.1

    async def _listen(self) -> None:
        pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        if self._channels:
            await pubsub.subscribe(*self._channels)
        self._pubsub = pubsub
        while not self._stopping:
            if self._channels and not pubsub.subscribed:
                await pubsub.subscribe(*self._channels)
            if not pubsub.subscribed:
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), POLL_SECONDS)
                except TimeoutError:
                    await self._subscriber.ping()  # notice a dead Redis while idle
                continue
            message = await pubsub.get_message(timeout=POLL_SECONDS)
            if message is not None and message.get("type") == "message":
                await self._queue.put(
                    Event(channel=message["channel"].decode(), message=message["data"].decode())
                )

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()
            except Exception:  # closing a broken connection may fail too
                log.debug("closing broken pub/sub connection failed", exc_info=True)

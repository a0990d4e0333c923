"""Pub/sub over real Redis: delivery, re-subscription, and recovery after a disconnect."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis

from app.pubsub import PubSub


@pytest.fixture
async def pubsub(redis_url) -> AsyncIterator[PubSub]:
    bus = PubSub(redis_url)
    await bus.connect()
    yield bus
    await bus.disconnect()


@asynccontextmanager
async def collecting(bus: PubSub, channel: str) -> AsyncIterator[list[dict]]:
    """Subscribe in a background task that appends every message to the yielded list."""
    received: list[dict] = []
    subscribed = asyncio.Event()

    async def consume() -> None:
        async with bus.subscribe(channel) as messages:
            subscribed.set()
            async for message in messages:
                received.append(message)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(subscribed.wait(), 5)
    try:
        yield received
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _publish_until_received(bus: PubSub, channel: str, received: list, payload: dict) -> None:
    """Publish every 100 ms until the subscriber has a message (at most 10 s)."""
    for _ in range(100):
        await bus.publish(channel, payload)
        await asyncio.sleep(0.1)
        if received:
            return
    raise AssertionError(f"nothing arrived on {channel}")


async def test_messages_reach_the_subscriber_of_their_channel_only(pubsub):
    channel, other = f"test:{uuid.uuid4()}", f"test:{uuid.uuid4()}"
    async with collecting(pubsub, channel) as received, collecting(pubsub, other) as others:
        await asyncio.sleep(0.1)
        await pubsub.publish(channel, {"n": 1})
        await pubsub.publish(channel, {"n": 2})
        for _ in range(50):
            if len(received) == 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)

    assert received == [{"n": 1}, {"n": 2}]
    assert others == []


async def test_subscribing_again_after_everyone_left_still_delivers(pubsub):
    """broadcaster's own Redis backend can hang here; ours must not."""
    channel = f"test:{uuid.uuid4()}"
    for round_ in range(3):
        async with collecting(pubsub, channel) as received:
            await _publish_until_received(pubsub, channel, received, {"round": round_})
        assert received[0] == {"round": round_}


async def test_subscriber_recovers_after_redis_drops_the_connection(pubsub, redis_url):
    channel = f"test:{uuid.uuid4()}"
    async with collecting(pubsub, channel) as received:
        await _publish_until_received(pubsub, channel, received, {"before": True})

        admin = aioredis.Redis.from_url(redis_url)
        killed = await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await admin.aclose()
        assert killed >= 1
        received.clear()

        await _publish_until_received(pubsub, channel, received, {"after": True})

    assert received[0] == {"after": True}


async def test_subscriptions_cancelled_while_subscribing_leave_nothing_behind(
    pubsub, caplog
) -> None:
    """A client that subscribes and hangs up at once: every task ends, no channel leaks."""
    import logging
    import random

    caplog.set_level(logging.ERROR)
    rng = random.Random(7)

    async def subscriber(channel: str) -> None:
        async with pubsub.subscribe(channel) as messages:
            async for _ in messages:
                pass

    for round_ in range(60):
        tasks = [
            asyncio.create_task(subscriber(f"race-{round_}-{i % 3}-{uuid.uuid4()}"))
            for i in range(6)
        ]
        await asyncio.sleep(rng.choice([0, 0, 0.0005, 0.001, 0.003]))
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=5)
        assert pending == set(), f"round {round_}: {len(pending)} subscriptions never ended"
    await pubsub.settled()

    assert pubsub.backend._channels == set()
    assert pubsub._broadcast._subscribers == {}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_listener_stops_even_when_a_wake_up_meets_the_stop(redis_url) -> None:
    """`wait_for` on Python 3.11 can swallow the cancel that stops the listener."""
    from app.pubsub_redis import ResilientRedisBackend

    for _ in range(300):
        backend = ResilientRedisBackend(redis_url)
        await backend.connect()
        await asyncio.sleep(0)
        backend._changed.set()  # the listener wakes as it is told to stop
        await asyncio.wait_for(backend.disconnect(), 3)

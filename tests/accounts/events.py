"""Listening to an app's pub/sub channel while a test runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def listening(app: Any, channel: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Collect what is published on `channel` while the block runs."""
    received: list[dict[str, Any]] = []
    ready = asyncio.Event()

    async def listen() -> None:
        async with app.state.resources.pubsub.subscribe(channel) as messages:
            ready.set()
            async for message in messages:
                received.append(message)

    task = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 5)
    await asyncio.sleep(0.05)  # Redis confirms SUBSCRIBE asynchronously
    try:
        yield received
    finally:
        await asyncio.sleep(0.2)
        task.cancel()

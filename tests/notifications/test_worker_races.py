"""Workers side by side and a crashed worker: every message delivered, none twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

from app.notifications.channels import Message
from app.notifications.worker import WorkerConfig, run_once
from tests.notifications.conftest import (
    CountingChannel,
    committed_rows,
    outbox_rows,
    status_count,
)


async def test_two_workers_claiming_at_once_take_disjoint_rows(factory, tmp_path):
    """Worker B claims while A's claim transaction is open with its rows locked: B must skip
    A's rows (SKIP LOCKED), neither wait for them nor take them too."""
    keys = await committed_rows(factory, 30)
    channel = CountingChannel(tmp_path / "outbox")
    a_locked, b_claimed = asyncio.Event(), asyncio.Event()
    locked: dict[str, list[int]] = {}
    b_claimed_while_a_held: list[bool] = []

    async def hold_a_open(ids: list[int]) -> None:
        locked["a"] = ids
        a_locked.set()
        # Bounded: without SKIP LOCKED, B blocks on A's locks and never gets here.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(b_claimed.wait(), 5)
        b_claimed_while_a_held.append(b_claimed.is_set())

    async def note_b(ids: list[int]) -> None:
        locked["b"] = ids
        b_claimed.set()

    async def worker_b() -> int:
        await a_locked.wait()
        return await run_once(factory, channel=channel, batch_size=10, while_locked=note_b)

    a, b = await asyncio.gather(
        run_once(factory, channel=channel, batch_size=10, while_locked=hold_a_open), worker_b()
    )
    rest = 0
    while claimed := await run_once(factory, channel=channel, batch_size=10):
        rest += claimed

    assert b_claimed_while_a_held == [True]
    assert (a, b, rest) == (10, 10, 10)
    assert len(locked["a"]) == len(locked["b"]) == 10
    assert not set(locked["a"]) & set(locked["b"])
    assert Counter(channel.sent) == dict.fromkeys(keys, 1)
    assert {p.stem for p in (tmp_path / "outbox").glob("*.json")} == set(keys)
    assert await status_count(factory, "sent") == 30


class Hang:
    """Every send starts and never returns; `started` counts the sends under way."""

    def __init__(self) -> None:
        self.started = 0

    async def send(self, message: Message) -> None:
        self.started += 1
        await asyncio.Event().wait()


async def test_crashed_worker_rows_come_back_after_the_lease(factory, spawn, tmp_path):
    keys = await committed_rows(factory, 10)
    t0 = datetime.now(UTC)
    config = WorkerConfig(lease_seconds=30)
    hang = Hang()
    crashed = spawn(run_once(factory, channel=hang, now=t0, config=config))
    for _ in range(500):  # crash only once all ten sends are under way (each charged)
        if hang.started == 10:
            break
        await asyncio.sleep(0.01)
    assert hang.started == 10
    crashed.cancel()
    await asyncio.gather(crashed, return_exceptions=True)
    assert await status_count(factory, "sending") == 10
    assert {row.attempts for row in await outbox_rows(factory)} == {1}  # the crash counted

    channel = CountingChannel(tmp_path / "outbox")
    assert await run_once(factory, channel=channel, now=t0 + timedelta(seconds=5)) == 0
    after = t0 + timedelta(seconds=31)
    assert await run_once(factory, channel=channel, now=after, config=config) == 10
    assert await run_once(factory, channel=channel, now=after, config=config) == 0

    assert Counter(channel.sent) == dict.fromkeys(keys, 1)
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 10
    assert await status_count(factory, "sent") == 10
    rows = await outbox_rows(factory)
    assert {(row.attempts, row.locked_until, row.claim_token) for row in rows} == {(1, None, None)}

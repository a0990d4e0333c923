"""Workers side by side and a crashed worker: every message delivered, none twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.notifications.channels import Message
from app.notifications.outbox import enqueue
from app.notifications.worker import WorkerConfig, run_once
from models.notifications import Notification
from tests.notifications.conftest import DOMAIN, CountingChannel


async def _committed(factory, n: int) -> set[str]:
    async with factory() as session, session.begin():
        rows = [
            await enqueue(
                session,
                user_id=None,
                kind="order_updates",
                channel="push",
                recipient=f"device{i}{DOMAIN}",
                template="account_security_notice",
                payload={"i": i},
            )
            for i in range(n)
        ]
    return {row.idempotency_key for row in rows}


async def _status_count(factory, status: str) -> int:
    async with factory() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    Notification.recipient.endswith(DOMAIN), Notification.status == status
                )
            )
            or 0
        )


class SlowCounting(CountingChannel):
    async def send(self, message: Message) -> None:
        await asyncio.sleep(0.005)
        await super().send(message)


async def test_two_workers_skip_locked_deliver_each_once(factory, tmp_path):
    keys = await _committed(factory, 50)
    channel = SlowCounting(tmp_path / "outbox")

    async def worker() -> int:
        total = 0
        while claimed := await run_once(factory, channel=channel, batch_size=7):
            total += claimed
        return total

    totals = await asyncio.gather(worker(), worker())

    assert sum(totals) == 50 and all(totals)  # both took part
    assert Counter(channel.sent) == dict.fromkeys(keys, 1)
    assert {p.stem for p in (tmp_path / "outbox").glob("*.json")} == keys
    assert await _status_count(factory, "sent") == 50


class Hang:
    async def send(self, message: Message) -> None:
        await asyncio.Event().wait()


async def test_crashed_worker_rows_come_back_after_the_lease(factory, tmp_path):
    keys = await _committed(factory, 10)
    t0 = datetime.now(UTC)
    config = WorkerConfig(lease_seconds=30)
    crashed = asyncio.create_task(run_once(factory, channel=Hang(), now=t0, config=config))
    for _ in range(200):
        if await _status_count(factory, "sending") == 10:
            break
        await asyncio.sleep(0.01)
    crashed.cancel()
    await asyncio.gather(crashed, return_exceptions=True)
    assert await _status_count(factory, "sending") == 10

    channel = CountingChannel(tmp_path / "outbox")
    assert await run_once(factory, channel=channel, now=t0 + timedelta(seconds=5)) == 0
    after = t0 + timedelta(seconds=31)
    assert await run_once(factory, channel=channel, now=after, config=config) == 10
    assert await run_once(factory, channel=channel, now=after, config=config) == 0

    assert Counter(channel.sent) == dict.fromkeys(keys, 1)
    assert len(list((tmp_path / "outbox").glob("*.json"))) == 10
    assert await _status_count(factory, "sent") == 10

"""Committed sessions for the outbox tests (the worker needs real transactions)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.notifications.channels import FileChannel, Message
from app.services.notifications.outbox import enqueue
from models.notifications import Notification

DOMAIN = "@notify.test"


@pytest.fixture
def factory(committed_sessions) -> async_sessionmaker[AsyncSession]:
    """Committed sessions; the test's notifications are removed after."""
    return committed_sessions.remove_after(
        delete(Notification).where(Notification.recipient.endswith(DOMAIN))
    )


@pytest.fixture
async def spawn() -> AsyncIterator[Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]]:
    """Start background tasks; those still running when the test ends are cancelled."""
    tasks: list[asyncio.Task[Any]] = []

    def start(work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        tasks.append(asyncio.create_task(work))
        return tasks[-1]

    yield start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class CountingChannel:
    """Delivers to files and records every idempotency key it was asked to send."""

    def __init__(self, directory: Path) -> None:
        self.files = FileChannel(directory, sender="shop@notify.test")
        self.sent: list[str] = []

    async def send(self, message: Message) -> None:
        self.sent.append(message.idempotency_key)
        await self.files.send(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def committed_rows(
    factory: async_sessionmaker[AsyncSession],
    n: int,
    *,
    channel: str = "push",
    max_attempts: int = 8,
) -> list[str]:
    """Commit `n` notifications; their idempotency keys in claim (id) order."""
    async with factory() as session, session.begin():
        rows = [
            await enqueue(
                session,
                user_id=None,
                kind="order_updates",
                channel=channel,
                recipient=f"device{i}{DOMAIN}",
                template="account_security_notice",
                payload={"i": i},
                max_attempts=max_attempts,
            )
            for i in range(n)
        ]
    return [row.idempotency_key for row in rows if row is not None]


async def status_count(factory: async_sessionmaker[AsyncSession], status: str) -> int:
    """This test's notifications in `status`, as committed now."""
    async with factory() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    Notification.recipient.endswith(DOMAIN), Notification.status == status
                )
            )
            or 0
        )


async def outbox_rows(factory: async_sessionmaker[AsyncSession]) -> list[Notification]:
    """This test's notifications, in id order."""
    async with factory() as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.recipient.endswith(DOMAIN))
            .order_by(Notification.id)
        )
        return list(rows)

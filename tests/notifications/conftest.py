"""Committed sessions for the outbox tests (the worker needs real transactions)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_session_factory
from app.notifications.channels import FileChannel, Message
from models.notifications import Notification

DOMAIN = "@notify.test"


@pytest.fixture
def session_factory(connection) -> async_sessionmaker[AsyncSession]:
    """As the shared fixture, but without autoflush, like the app's own sessions."""
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def factory(engine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the real engine; the test's notifications are removed after."""
    factory = create_session_factory(engine)
    try:
        yield factory
    finally:
        async with factory() as session, session.begin():
            await session.execute(
                delete(Notification).where(Notification.recipient.endswith(DOMAIN))
            )


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

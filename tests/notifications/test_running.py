"""The worker as it runs for real: in the API process, and as `commerce worker --once`."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select
from typer.testing import CliRunner

from app.cli import cli
from app.db import create_engine, create_session_factory
from app.services.notifications.outbox import enqueue
from models.notifications import Notification
from tests.conftest import make_settings
from tests.notifications.conftest import DOMAIN


async def _enqueue(factory, recipient: str) -> str:
    async with factory() as session, session.begin():
        row = await enqueue(
            session,
            user_id=None,
            kind="account_security",
            channel="email",
            recipient=recipient,
            template="account_security_notice",
            payload={"event": "new sign-in"},
        )
    return row.idempotency_key


async def test_in_process_worker_delivers_while_the_app_runs(start_app, factory, tmp_path):
    key = await _enqueue(factory, f"inproc{DOMAIN}")
    sent = tmp_path / "outbox" / f"{key}.eml"
    async with start_app(
        bind=False, worker_in_process=True, worker_poll_seconds=0.05, data_dir=tmp_path
    ):
        for _ in range(200):
            if sent.exists():
                break
            await asyncio.sleep(0.02)
    assert sent.exists()
    async with factory() as session:
        status = await session.scalar(
            select(Notification.status).where(Notification.idempotency_key == key)
        )
    assert status == "sent"


def test_cli_worker_once(monkeypatch, engine, tmp_path):
    settings = make_settings()

    async def with_factory(work):
        engine = create_engine(settings.database_url or "", settings)
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    async def cleanup(factory) -> None:
        async with factory() as session, session.begin():
            await session.execute(
                delete(Notification).where(Notification.recipient.endswith(DOMAIN))
            )

    key = asyncio.run(with_factory(lambda f: _enqueue(f, f"cli{DOMAIN}")))
    monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("JWT_SECRET", "cli-test-secret-cli-test-secret-cli-test-secret")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMTP_HOST", raising=False)
    try:
        result = CliRunner().invoke(cli, ["worker", "--once", "--batch", "5"])
        assert result.exit_code == 0, result.output
        assert "processed 1 notifications" in result.output
        assert (tmp_path / "outbox" / f"{key}.eml").exists()
    finally:
        asyncio.run(with_factory(cleanup))

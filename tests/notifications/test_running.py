"""The worker as it runs for real: in the API process, and as `commerce worker --once`."""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from typer.testing import CliRunner

from app.cli import cli
from app.db import create_engine, create_session_factory
from app.notifications.push import topic
from app.services.notifications.outbox import enqueue
from models.accounts import User
from models.notifications import Notification
from models.push_subscriptions import PushSubscription
from tests.conftest import make_settings
from tests.fakes.push_service import FakePushService
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


async def with_factory(work):
    """Run `work(factory)` on committed sessions of the test database (the CLI sees them)."""
    settings = make_settings()
    engine = create_engine(settings.database_url or "", settings)
    try:
        return await work(create_session_factory(engine))
    finally:
        await engine.dispose()


def test_cli_worker_once(monkeypatch, engine, tmp_path):
    settings = make_settings()

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


def test_cli_worker_sends_web_push_to_the_users_subscriptions(monkeypatch, engine, tmp_path):
    """`commerce worker` gives the push channel its database: with VAPID_PRIVATE_KEY set,
    push goes to the browser's push service, not to files."""
    settings = make_settings()
    vapid = ec.generate_private_key(ec.SECP256R1())
    pem = vapid.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()

    async def given(factory, endpoint, p256dh, auth) -> str:
        async with factory() as session, session.begin():
            user = User(email=f"cli-push{DOMAIN}", first_name="Ada")
            session.add(user)
            await session.flush()
            session.add(
                PushSubscription(user_id=user.id, endpoint=endpoint, p256dh=p256dh, auth=auth)
            )
            row = await enqueue(
                session,
                user_id=user.id,
                kind="account_security",
                channel="push",
                recipient=str(user.id),
                template="account_security_notice",
                payload={"name": "Ada", "event": "password changed", "locale": "en"},
            )
            assert row is not None
            return row.idempotency_key

    async def cleanup(factory) -> None:
        async with factory() as session, session.begin():
            await session.execute(delete(Notification).where(Notification.idempotency_key == key))
            await session.execute(delete(User).where(User.email == f"cli-push{DOMAIN}"))

    with FakePushService() as push_service:
        browser = push_service.subscribe()
        key = asyncio.run(
            with_factory(lambda f: given(f, browser.endpoint, browser.p256dh, browser.auth_b64))
        )
        monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
        monkeypatch.setenv("JWT_SECRET", "cli-test-secret-cli-test-secret-cli-test-secret")
        monkeypatch.setenv("DATA_DIR", str(tmp_path))
        monkeypatch.setenv("VAPID_PRIVATE_KEY", pem)
        try:
            result = CliRunner().invoke(cli, ["worker", "--once"])
            assert result.exit_code == 0, result.output
            [received] = push_service.received
        finally:
            asyncio.run(with_factory(cleanup))

    assert received.endpoint == browser.endpoint
    assert received.topic == topic(key)
    assert "password changed" in str(received.payload["body"])
    assert not (tmp_path / "outbox").exists()

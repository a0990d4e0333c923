"""SMS through the Twilio Messages API, against a local fake provider."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_session_factory
from app.notifications.channels import DeliveryError, FileChannel, Message, Router
from app.notifications.sms import MAX_BODY_CHARS, TwilioSmsChannel
from app.notifications.worker import WorkerConfig, claim, run_once
from app.services.notifications.outbox import enqueue
from app.settings import Settings
from models.notifications import Notification
from tests.conftest import make_settings
from tests.fakes.local_server import unused_url
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PREFIX = "+1555010"  # this module's recipients (E.164), removed after each test
SENDER = "+15005550006"
FAST = WorkerConfig(backoff_base_seconds=0.001, backoff_cap_seconds=0.01)


@pytest.fixture
async def sms_factory(engine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    factory = create_session_factory(engine)
    try:
        yield factory
    finally:
        async with factory() as session, session.begin():
            await session.execute(
                delete(Notification).where(Notification.recipient.startswith(PREFIX))
            )


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def sms_settings(twilio: FakeTwilio, tmp_path, **overrides) -> Settings:
    values = {
        "data_dir": tmp_path,
        "sms_api_url": twilio.url,
        "sms_account_sid": ACCOUNT_SID,
        "sms_auth_token": SecretStr(AUTH_TOKEN),
        "sms_from": SENDER,
    }
    values.update(overrides)
    return make_settings(**values)


async def _enqueue(factory, *, recipient=f"{PREFIX}001", max_attempts=8, payload=None) -> str:
    async with factory() as session, session.begin():
        row = await enqueue(
            session,
            user_id=None,
            kind="account_security",
            channel="sms",
            recipient=recipient,
            template="account_security_notice",
            payload=payload or {"name": "Ada", "event": "password changed", "locale": "en"},
            max_attempts=max_attempts,
        )
        return row.idempotency_key


async def _row(factory, key: str) -> Notification:
    async with factory() as session:
        row = await session.scalar(select(Notification).where(Notification.idempotency_key == key))
        assert row is not None
        return row


async def _run(factory, channel, *, times: int) -> None:
    """Run the worker `times` times, each a little later than the last backoff."""
    now = datetime.now(UTC)
    for _ in range(times):
        now += timedelta(seconds=1)
        await run_once(factory, channel=channel, now=now, config=FAST)


async def test_sms_delivered_once_with_to_from_body_and_auth(sms_factory, twilio, tmp_path):
    key = await _enqueue(sms_factory)
    router = Router(sms_settings(twilio, tmp_path))
    assert isinstance(router.sms, TwilioSmsChannel)

    assert await run_once(sms_factory, channel=router, config=FAST) == 1

    [sent] = twilio.messages
    assert sent.to == f"{PREFIX}001"
    assert sent.from_ == SENDER
    assert sent.messaging_service_sid is None
    assert sent.body.startswith("Hello Ada,")
    assert "password changed" in sent.body
    assert sent.username == ACCOUNT_SID
    assert sent.idempotency_token == key
    row = await _row(sms_factory, key)
    assert (row.status, row.attempts, row.last_error) == ("sent", 0, None)
    assert not (tmp_path / "outbox").exists()  # not written to files


async def test_wrong_credentials_retried_then_dead(sms_factory, twilio, tmp_path):
    key = await _enqueue(sms_factory, max_attempts=3)
    router = Router(sms_settings(twilio, tmp_path, sms_auth_token=SecretStr("wrong")))

    await _run(sms_factory, router, times=4)

    assert twilio.requests == 3
    assert twilio.messages == []
    row = await _row(sms_factory, key)
    assert row.status == "dead"
    assert row.attempts == 3
    assert row.last_error is not None
    assert "401" in row.last_error and "Authenticate" in row.last_error


async def test_invalid_number_records_provider_message(sms_factory, twilio, tmp_path):
    key = await _enqueue(sms_factory, recipient=f"{PREFIX}-not-a-number", max_attempts=1)
    await _run(sms_factory, Router(sms_settings(twilio, tmp_path)), times=1)

    row = await _row(sms_factory, key)
    assert row.status == "dead"
    assert row.last_error is not None and "21211" in row.last_error
    assert "not a valid phone number" in row.last_error


async def test_provider_down_then_up_delivers_once(sms_factory, twilio, tmp_path):
    key = await _enqueue(sms_factory, max_attempts=5)
    twilio.fail_next(2, status=500)
    router = Router(sms_settings(twilio, tmp_path))

    await _run(sms_factory, router, times=4)

    assert twilio.requests == 3
    assert len(twilio.messages) == 1
    row = await _row(sms_factory, key)
    assert (row.status, row.attempts) == ("sent", 2)
    assert row.last_error is None


async def test_rate_limited_is_retryable(twilio, tmp_path):
    twilio.fail_next(1, status=429)
    channel = TwilioSmsChannel(sms_settings(twilio, tmp_path))
    message = Message("k429", "sms", f"{PREFIX}002", "account_security_notice", {"name": "Ada"})

    with pytest.raises(DeliveryError, match="429"):
        await channel.send(message)
    await channel.send(message)
    assert len(twilio.messages) == 1


async def test_network_error_is_delivery_error(tmp_path):
    settings = make_settings(
        data_dir=tmp_path,
        sms_api_url=unused_url(),
        sms_account_sid=ACCOUNT_SID,
        sms_auth_token=SecretStr(AUTH_TOKEN),
        sms_from=SENDER,
    )
    message = Message("knet", "sms", f"{PREFIX}003", "account_security_notice", {})
    with pytest.raises(DeliveryError, match="unreachable"):
        await TwilioSmsChannel(settings).send(message)


async def test_repeat_after_crash_kept_once_by_idempotency_token(sms_factory, twilio, tmp_path):
    """A worker sent the row's message and died before recording it; the next one sends the
    same message again. The provider keeps one, because the idempotency token is the same."""
    key = await _enqueue(sms_factory)
    channel = TwilioSmsChannel(sms_settings(twilio, tmp_path))
    [(_, message)] = await claim(
        sms_factory, batch_size=10, now=datetime.now(UTC), lease_seconds=60
    )
    assert message.idempotency_key == key

    await channel.send(message)  # the first worker, which then crashed
    await channel.send(message)  # the worker that took over after the lease ran out

    assert twilio.requests == 2
    [sent] = twilio.messages
    assert sent.idempotency_token == key


async def test_body_is_cut_to_1600_and_messaging_service_used(twilio, tmp_path):
    channel = TwilioSmsChannel(sms_settings(twilio, tmp_path, sms_from="MG" + "a" * 32))
    message = Message(
        "klong", "sms", f"{PREFIX}004", "account_security_notice", {"event": "x" * 3000}
    )
    await channel.send(message)

    [sent] = twilio.messages
    assert len(sent.body) == MAX_BODY_CHARS
    assert sent.from_ is None and sent.messaging_service_sid == "MG" + "a" * 32


def test_router_uses_files_without_account_sid(tmp_path):
    router = Router(make_settings(data_dir=tmp_path, sms_account_sid=None))
    assert isinstance(router.sms, FileChannel)

"""Web push with VAPID against a local fake push service that verifies and decrypts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy import select

from app.notifications.channels import FileChannel, Router
from app.notifications.outbox import enqueue
from app.notifications.push import WebPushChannel, load_vapid_key, topic
from app.notifications.worker import run_once
from models.notifications import Notification
from models.push_subscriptions import PushSubscription
from tests.conftest import make_settings
from tests.fakes.push_service import FakePushService, b64url

ADD = """
mutation($input: PushSubscriptionInput!) {
  pushSubscriptionAdd(input: $input) { endpoint userErrors { field code message } }
}"""

REMOVE = """
mutation($endpoint: String!) { pushSubscriptionRemove(endpoint: $endpoint) { removed } }"""


@pytest.fixture
def push_service() -> Iterator[FakePushService]:
    with FakePushService() as fake:
        yield fake


@pytest.fixture
def vapid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _public(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


async def _signed_in(gql, make_user, sign_in, email="push@example.com"):
    user = await make_user(email=email)
    token = (await sign_in(email))["accessToken"]
    return user, gql.as_user(token)


async def _add(client, subscription) -> dict:
    data = await client.execute(
        ADD,
        input={
            "endpoint": subscription.endpoint,
            "p256dh": subscription.p256dh,
            "auth": subscription.auth_b64,
        },
    )
    return data["pushSubscriptionAdd"]


async def _enqueue(session_factory, user) -> str:
    async with session_factory() as session, session.begin():
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


def _router(tmp_path, session_factory, key) -> Router:
    settings = make_settings(
        data_dir=tmp_path,
        smtp_host=None,
        vapid_private_key=SecretStr(_pem(key)),
        vapid_subject="mailto:ops@example.com",
    )
    return Router(settings, session_factory=session_factory)


async def test_push_is_signed_encrypted_and_delivered(
    gql, make_user, sign_in, session_factory, push_service, vapid_key, tmp_path
):
    user, client = await _signed_in(gql, make_user, sign_in)
    browser = push_service.subscribe()
    assert await _add(client, browser) == {"endpoint": browser.endpoint, "userErrors": []}
    assert await _add(client, browser) == {"endpoint": browser.endpoint, "userErrors": []}
    key = await _enqueue(session_factory, user)
    router = _router(tmp_path, session_factory, vapid_key)
    assert isinstance(router.push, WebPushChannel)

    assert await run_once(session_factory, channel=router, batch_size=100) >= 1

    assert push_service.rejected == []
    [received] = push_service.received
    assert received.endpoint == browser.endpoint
    assert received.vapid_public_key == _public(vapid_key)
    assert received.claims["sub"] == "mailto:ops@example.com"
    assert received.topic == topic(key) and len(received.topic) <= 32
    assert received.payload["title"]
    assert "password changed" in str(received.payload["body"])
    async with session_factory() as session:
        row = await session.scalar(select(Notification).where(Notification.idempotency_key == key))
        assert row is not None and row.status == "sent"
    assert not (tmp_path / "outbox").exists()


async def test_gone_endpoint_removes_the_subscription(
    gql, make_user, sign_in, session_factory, push_service, vapid_key, tmp_path
):
    user, client = await _signed_in(gql, make_user, sign_in)
    browser = push_service.subscribe()
    await _add(client, browser)
    push_service.gone.add(browser.endpoint)
    key = await _enqueue(session_factory, user)

    await run_once(session_factory, channel=_router(tmp_path, session_factory, vapid_key))

    async with session_factory() as session:
        assert await session.scalar(select(PushSubscription)) is None
        row = await session.scalar(select(Notification).where(Notification.idempotency_key == key))
        assert row is not None and row.status == "sent"
    assert push_service.received == []


async def test_without_vapid_key_push_goes_to_files(tmp_path, session_factory):
    router = Router(make_settings(data_dir=tmp_path), session_factory=session_factory)
    assert isinstance(router.push, FileChannel)


async def test_anonymous_cannot_add(gql, push_service):
    browser = push_service.subscribe()
    result = await gql.raw(
        ADD,
        input={"endpoint": browser.endpoint, "p256dh": browser.p256dh, "auth": browser.auth_b64},
    )
    assert result.get("data") is None or result["data"]["pushSubscriptionAdd"] is None
    assert result["errors"]


async def test_https_only_and_remove(gql, make_user, sign_in, push_service):
    _, client = await _signed_in(gql, make_user, sign_in)
    browser = push_service.subscribe()
    for endpoint in (
        "http://push.example.com/x",
        "ftp://push.example.com/x",
        "https://push.example.com/" + "x" * 2048,
    ):
        browser.endpoint = endpoint
        payload = await _add(client, browser)
        assert payload["endpoint"] is None
        assert [e["field"] for e in payload["userErrors"]] == [["input.endpoint"]]
    browser.endpoint = "https://push.example.com/ok"
    assert (await _add(client, browser))["userErrors"] == []
    data = await client.execute(REMOVE, endpoint=browser.endpoint)
    assert data["pushSubscriptionRemove"]["removed"] is True
    data = await client.execute(REMOVE, endpoint=browser.endpoint)
    assert data["pushSubscriptionRemove"]["removed"] is False


def test_vapid_key_as_pem_or_raw_base64url(vapid_key):
    raw = vapid_key.private_numbers().private_value.to_bytes(32, "big")
    for value in (_pem(vapid_key), b64url(raw)):
        loaded = load_vapid_key(value)
        assert b64url(
            loaded.public_key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        ) == _public(vapid_key)

"""Web push with VAPID against a local fake push service that verifies and decrypts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sqlalchemy import select

from app.errors import UserError
from app.notifications.channels import FileChannel, Router
from app.notifications.push import WebPushChannel, load_vapid_key, topic
from app.notifications.worker import run_once
from app.services.notifications.outbox import enqueue
from app.services.notifications.push_subscriptions import (
    check_push_endpoint,
    is_ip_literal,
    is_plain_text,
)
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


async def _subscribed(session_factory, user, browser) -> None:
    """The row pushSubscriptionAdd would write: the fake push service is on http://127.0.0.1,
    which the API (rightly) refuses."""
    async with session_factory() as session, session.begin():
        session.add(
            PushSubscription(
                user_id=user.id,
                endpoint=browser.endpoint,
                p256dh=browser.p256dh,
                auth=browser.auth_b64,
            )
        )


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
    make_user, session_factory, push_service, vapid_key, tmp_path
):
    user = await make_user(email="push@example.com")
    browser = push_service.subscribe()
    await _subscribed(session_factory, user, browser)
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
    make_user, session_factory, push_service, vapid_key, tmp_path
):
    user = await make_user(email="push@example.com")
    browser = push_service.subscribe()
    await _subscribed(session_factory, user, browser)
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


async def test_anonymous_cannot_add(gql, push_service, count):
    browser = push_service.subscribe()
    result = await gql.raw(
        ADD,
        input={"endpoint": browser.endpoint, "p256dh": browser.p256dh, "auth": browser.auth_b64},
    )
    assert result["data"] is None
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
    assert await count(PushSubscription) == 0


GOOD_ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc:APA91b"


REFUSED_ENDPOINTS = [
    # not https, or not a URL at all
    "http://push.example.com/x",
    "ftp://push.example.com/x",
    "HTTP://push.example.com/x",
    "https:push.example.com/x",
    "https:///x",
    "//push.example.com/x",
    "push.example.com/x",
    "",
    "https://push.example.com/" + "x" * 2048,
    # loopback, private, link-local, unique-local, multicast, unspecified: any bare IP
    "https://127.0.0.1/x",
    "http://127.0.0.1:8000/push/x",
    "https://10.0.0.1/x",
    "https://192.168.1.1/x",
    "https://172.16.0.1/x",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/x",
    "https://224.0.0.1/x",
    "https://0.0.0.0/x",
    "https://8.8.8.8/x",
    # IPv4 in other spellings
    "https://2130706433/x",
    "https://0x7f000001/x",
    "https://0x7f.1/x",
    "https://0177.0.0.1/x",
    "https://127.1/x",
    "https://127.0.0.1./x",
    "https://1.2.3.0x4/x",
    # IPv6, bracketed, v4-mapped, zone ids
    "https://[::1]/x",
    "https://[::ffff:127.0.0.1]/x",
    "https://[::ffff:7f00:1]/x",
    "https://[fe80::1%25eth0]/x",
    "https://[fd00::1]/x",
    "https://[ff02::1]/x",
    "https://[::]/x",
    "https://[2001:4860:4860::8888]/x",
    "https://[::1/x",
    # local and reserved names, single labels
    "https://localhost/x",
    "https://LOCALHOST/x",
    "https://localhost./x",
    "https://push.localhost/x",
    "https://printer.local/x",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://router.home.arpa/x",
    "https://1.0.0.127.in-addr.arpa/x",
    "https://intranet/x",
    "https://push.test/x",
    "https://nas.lan/x",
    "https://host.localdomain/x",
    # userinfo, odd ports, hosts that are not host names
    "https://user@push.example.com/x",
    "https://user:pw@push.example.com/x",
    "https://push.example.com@127.0.0.1/x",
    "https://127.0.0.1\\@push.example.com/x",
    "https://push.example.com:8443/x",
    "https://push.example.com:99999/x",
    "https://push.example.com:0/x",
    "https://%31%32%37.0.0.1/x",
    "https://push_service.example.com/x",
    "https://-push.example.com/x",
    "https://push..example.com/x",
    "https://push.example.123/x",
    # characters that parsers disagree on
    "https://push.exa\nmple.com/x",
    "https://push.example.com/a b",
    "https://push\u3002example\u3002com/x",
    "https://pu\u0455h.example.com/x",
    "https://push.example.com\\@127.0.0.1/x",
]


async def test_add_accepts_only_https_on_a_public_host_name(
    gql, make_user, sign_in, push_service, count
):
    _, client = await _signed_in(gql, make_user, sign_in)
    browser = push_service.subscribe()
    answers = {}
    for endpoint in REFUSED_ENDPOINTS:
        browser.endpoint = endpoint
        payload = await _add(client, browser)
        answers[endpoint] = (
            payload["endpoint"],
            [(e["field"], e["code"]) for e in payload["userErrors"]],
        )

    refused = (None, [(["input.endpoint"], "INVALID")])
    assert answers == dict.fromkeys(REFUSED_ENDPOINTS, refused)
    assert await count(PushSubscription) == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        GOOD_ENDPOINT,
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://db5p.notify.windows.com/w/?token=BQYAAAB%2f",
        "https://push.example.com:443/x",
        "https://xn--bcher-kva.de/x",
    ],
)
async def test_add_accepts_real_push_services(gql, make_user, sign_in, push_service, endpoint):
    _, client = await _signed_in(gql, make_user, sign_in)
    browser = push_service.subscribe()
    browser.endpoint = endpoint

    assert await _add(client, browser) == {"endpoint": endpoint, "userErrors": []}


async def test_keys_must_be_strict_base64url(gql, make_user, sign_in, push_service, count):
    _, client = await _signed_in(gql, make_user, sign_in)
    browser = push_service.subscribe()
    data = await client.execute(
        ADD,
        input={
            "endpoint": GOOD_ENDPOINT,
            # Both decode to the right length if unknown characters are skipped.
            "p256dh": browser.p256dh + "****",
            "auth": "!!!!" + browser.auth_b64,
        },
    )

    assert [(e["field"], e["code"]) for e in data["pushSubscriptionAdd"]["userErrors"]] == [
        (["input.p256dh"], "INVALID"),
        (["input.auth"], "INVALID"),
    ]
    assert await count(PushSubscription) == 0


async def test_add_again_and_remove(gql, make_user, sign_in, push_service, count):
    _, client = await _signed_in(gql, make_user, sign_in)
    browser = push_service.subscribe()
    browser.endpoint = GOOD_ENDPOINT
    assert (await _add(client, browser))["userErrors"] == []
    assert (await _add(client, browser))["userErrors"] == []
    assert await count(PushSubscription) == 1

    for missing in ("https://push.example.com/other", "https://push.example.com/\x01", "x" * 5000):
        data = await client.execute(REMOVE, endpoint=missing)
        assert data["pushSubscriptionRemove"]["removed"] is False
    data = await client.execute(REMOVE, endpoint=browser.endpoint)
    assert data["pushSubscriptionRemove"]["removed"] is True
    data = await client.execute(REMOVE, endpoint=browser.endpoint)
    assert data["pushSubscriptionRemove"]["removed"] is False
    assert await count(PushSubscription) == 0


def test_vapid_key_as_pem_or_raw_base64url(vapid_key):
    raw = vapid_key.private_numbers().private_value.to_bytes(32, "big")
    for value in (_pem(vapid_key), b64url(raw)):
        loaded = load_vapid_key(value)
        assert b64url(
            loaded.public_key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        ) == _public(vapid_key)


@pytest.mark.parametrize(
    ("host", "is_ip"),
    [
        ("127.0.0.1", True),
        ("2130706433", True),
        ("0x7f.1", True),
        ("0177.0.0.1", True),
        ("127.1", True),
        ("1.2.3.0x4", True),
        ("127.0.0.1.", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("fe80::1", True),
        ("push.example.com", False),
        ("1.2.3.4.nip.io", False),
        ("0x7f.example", False),
    ],
)
def test_ip_literals_in_every_spelling_are_recognised(host, is_ip):
    # The host-name rules refuse these too; this check must hold on its own.
    assert is_ip_literal(host) is is_ip


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://push.example.com/x\x00",
        "https://push.example.com/\ud800",
        "https://pu\x00sh.example.com/",
    ],
)
def test_endpoints_with_text_postgresql_cannot_store_are_refused(endpoint):
    # Called directly: the GraphQL layer may refuse such text before the resolver runs.
    with pytest.raises(UserError) as caught:
        check_push_endpoint(endpoint)

    assert (caught.value.code.value, caught.value.field) == ("INVALID", "input.endpoint")
    assert not is_plain_text(endpoint)

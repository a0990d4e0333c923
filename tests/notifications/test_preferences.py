"""Notification preferences: defaults, opt-in, enqueue skipping, List-Unsubscribe, locale."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
from email.message import EmailMessage
from email.policy import default
from urllib.parse import urlsplit

from app.notifications.channels import Router
from app.notifications.worker import run_once
from app.services.notifications.outbox import enqueue
from app.services.notifications.preferences import is_enabled, unsubscribe_key, unsubscribe_token
from models.notifications import Notification
from tests.conftest import TEST_SECRET, make_settings

PREFERENCES = """
{ myNotificationPreferences { kind channel enabled locked } }"""

UPDATE = """
mutation($input: [NotificationPreferenceInput!]!) {
  notificationPreferencesUpdate(input: $input) {
    notificationPreferences { kind channel enabled locked }
    userErrors { field message code }
  }
}"""


def _as_map(items):
    return {(item["kind"], item["channel"]): item for item in items}


async def _enqueue(session_factory, user, kind, *, payload=None):
    async with session_factory() as session, session.begin():
        row = await enqueue(
            session,
            user_id=user.id,
            kind=kind,
            channel="email",
            recipient=user.email,
            template="account_security_notice",
            payload=payload or {"name": "Ada", "event": "password changed"},
        )
        return None if row is None else row.idempotency_key


async def _deliver(session_factory, tmp_path, key) -> EmailMessage:
    router = Router(make_settings(data_dir=tmp_path, smtp_host=None))
    assert await run_once(session_factory, channel=router, batch_size=100) >= 1
    raw = (tmp_path / "outbox" / f"{key}.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    return message


async def test_defaults_and_opt_in(gql, make_user, sign_in):
    await make_user(email="prefs@example.com")
    token = (await sign_in("prefs@example.com"))["accessToken"]
    data = await gql.as_user(token).execute(PREFERENCES)
    prefs = _as_map(data["myNotificationPreferences"])
    assert len(prefs) == 12
    assert all(prefs[("account_security", c)]["enabled"] for c in ("email", "sms", "push"))
    assert all(prefs[("account_security", c)]["locked"] for c in ("email", "sms", "push"))
    assert prefs[("order_updates", "email")]["enabled"]
    assert prefs[("order_updates", "push")]["enabled"]
    assert not prefs[("order_updates", "sms")]["enabled"]
    assert prefs[("shipping", "email")]["enabled"]
    assert not any(prefs[("marketing", c)]["enabled"] for c in ("email", "sms", "push"))

    data = await gql.as_user(token).execute(
        UPDATE,
        input=[{"kind": "marketing", "channel": "email", "enabled": True}],
    )
    payload = data["notificationPreferencesUpdate"]
    assert payload["userErrors"] == []
    assert _as_map(payload["notificationPreferences"])[("marketing", "email")]["enabled"]
    data = await gql.as_user(token).execute(PREFERENCES)
    assert _as_map(data["myNotificationPreferences"])[("marketing", "email")]["enabled"]


async def test_account_security_cannot_be_switched_off(gql, make_user, sign_in):
    await make_user(email="locked@example.com")
    token = (await sign_in("locked@example.com"))["accessToken"]
    data = await gql.as_user(token).execute(
        UPDATE,
        input=[
            {"kind": "marketing", "channel": "email", "enabled": True},
            {"kind": "account_security", "channel": "email", "enabled": False},
        ],
    )
    payload = data["notificationPreferencesUpdate"]
    assert payload["notificationPreferences"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input.1.enabled"], "INVALID")
    ]
    data = await gql.as_user(token).execute(PREFERENCES)
    assert not _as_map(data["myNotificationPreferences"])[("marketing", "email")]["enabled"]


async def test_switched_off_kind_is_not_enqueued(
    gql, make_user, sign_in, session_factory, count, tmp_path
):
    user = await make_user(email="quiet@example.com")
    token = (await sign_in("quiet@example.com"))["accessToken"]
    data = await gql.as_user(token).execute(
        UPDATE,
        input=[{"kind": "order_updates", "channel": "email", "enabled": False}],
    )
    assert data["notificationPreferencesUpdate"]["userErrors"] == []

    assert await _enqueue(session_factory, user, "order_updates") is None
    assert await _enqueue(session_factory, user, "marketing") is None  # opt-in, not opted in
    assert await count(Notification, Notification.user_id == user.id) == 0

    key = await _enqueue(session_factory, user, "account_security")
    assert key is not None
    message = await _deliver(session_factory, tmp_path, key)
    assert message["To"] == "quiet@example.com"
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


async def test_one_click_unsubscribe_from_marketing(
    gql, http, make_user, sign_in, session_factory, tmp_path
):
    user = await make_user(email="promo@example.com")
    token = (await sign_in("promo@example.com"))["accessToken"]
    await gql.as_user(token).execute(
        UPDATE, input=[{"kind": "marketing", "channel": "email", "enabled": True}]
    )
    key = await _enqueue(session_factory, user, "marketing")
    assert key is not None
    message = await _deliver(session_factory, tmp_path, key)
    header = message["List-Unsubscribe"]
    assert header.startswith("<http://127.0.0.1:8000/unsubscribe?token=") and header.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    url = urlsplit(header[1:-1])
    page = await http.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and '<form method="post"' in page.text
    response = await http.post(
        f"{url.path}?{url.query}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200

    data = await gql.as_user(token).execute(PREFERENCES)
    assert not _as_map(data["myNotificationPreferences"])[("marketing", "email")]["enabled"]
    assert await _enqueue(session_factory, user, "marketing") is None


def _signed(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}:{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


async def _marketing_email_on(session_factory, user_id) -> bool:
    async with session_factory() as session:
        return await is_enabled(session, user_id, "marketing", "email")


async def test_forged_or_security_tokens_are_refused(
    http, gql, make_user, sign_in, session_factory
):
    user = await make_user(email="forged@example.com")
    token = (await sign_in("forged@example.com"))["accessToken"]
    await gql.as_user(token).execute(
        UPDATE, input=[{"kind": "marketing", "channel": "email", "enabled": True}]
    )
    raw_key = TEST_SECRET.get_secret_value().encode()
    forged = unsubscribe_token("not-the-key", user.id, "marketing")
    tampered = unsubscribe_token(TEST_SECRET.get_secret_value(), user.id, "marketing").replace(
        "marketing", "shipping"
    )
    security = f"{user.id}:account_security:whatever"
    with_jwt_key = _signed(raw_key, f"{user.id}:marketing")  # the key itself, not derived
    non_ascii = f"{user.id}:marketing:{'é' * 43}"
    huge_id = _signed(unsubscribe_key(TEST_SECRET.get_secret_value()), f"{10**19}:marketing")
    arabic_id = _signed(unsubscribe_key(TEST_SECRET.get_secret_value()), "١٢:marketing")
    for bad in (
        forged,
        tampered,
        security,
        with_jwt_key,
        non_ascii,
        huge_id,
        arabic_id,
        "",
        "garbage",
    ):
        response = await http.post("/unsubscribe", params={"token": bad})
        assert (response.status_code, response.json()) == (
            400,
            {"error": {"code": "INVALID_TOKEN", "message": "This unsubscribe link is not valid."}},
        ), bad
        assert await _marketing_email_on(session_factory, user.id) is True


async def test_unsubscribe_tokens_are_signed_with_a_key_derived_for_them(
    http, gql, make_user, sign_in, session_factory
):
    user = await make_user(email="derived@example.com")
    token = (await sign_in("derived@example.com"))["accessToken"]
    await gql.as_user(token).execute(
        UPDATE, input=[{"kind": "marketing", "channel": "email", "enabled": True}]
    )
    # HMAC-SHA256 under the JWT key of the fixed label, as documented.
    derived = hmac.new(
        TEST_SECRET.get_secret_value().encode(), b"commerce/list-unsubscribe/v1", hashlib.sha256
    ).digest()
    assert derived != TEST_SECRET.get_secret_value().encode()

    response = await http.post(
        "/unsubscribe", params={"token": _signed(derived, f"{user.id}:marketing")}
    )

    assert (response.status_code, response.json()) == (
        200,
        {"status": "unsubscribed", "kind": "marketing", "channel": "email"},
    )
    assert await _marketing_email_on(session_factory, user.id) is False


async def test_german_user_gets_german_template(make_user, session_factory, tmp_path):
    user = await make_user(email="hans@example.com", locale="de")
    key = await _enqueue(session_factory, user, "account_security")
    message = await _deliver(session_factory, tmp_path, key)
    assert message["Subject"] == "Sicherheitshinweis: password changed"

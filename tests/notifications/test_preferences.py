"""Notification preferences: defaults, opt-in, enqueue skipping, List-Unsubscribe, locale."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default
from urllib.parse import urlsplit

from app.notifications.channels import Router
from app.notifications.outbox import enqueue
from app.notifications.preferences import unsubscribe_token
from app.notifications.worker import run_once
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


async def test_forged_or_security_tokens_are_refused(http, make_user):
    user = await make_user(email="forged@example.com")
    forged = unsubscribe_token("not-the-key", user.id, "marketing")
    tampered = unsubscribe_token(TEST_SECRET.get_secret_value(), user.id, "marketing").replace(
        "marketing", "shipping"
    )
    security = f"{user.id}:account_security:whatever"
    for token in (forged, tampered, security, "", "garbage"):
        response = await http.post("/unsubscribe", params={"token": token})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_TOKEN"


async def test_german_user_gets_german_template(make_user, session_factory, tmp_path):
    user = await make_user(email="hans@example.com", locale="de")
    key = await _enqueue(session_factory, user, "account_security")
    message = await _deliver(session_factory, tmp_path, key)
    assert message["Subject"] == "Sicherheitshinweis: password changed"

"""Staff API over the outbox: list dead notifications, retry one, and it is delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strawberry.relay import to_base64

from app.auth.permissions import Role
from app.notifications.worker import run_once
from models.notifications import Notification
from tests.notifications.conftest import CountingChannel

DEAD = """query($first: Int, $after: String) {
  deadNotifications(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id recipient status attempts lastError } } } }"""
RETRY = """mutation($id: ID!) { notificationRetry(id: $id) {
  notification { status attempts } userErrors { field code } } }"""


async def _dead(session, n: int) -> list[Notification]:
    rows = [
        Notification(
            kind="account_security",
            channel="email",
            recipient=f"dead{i}@example.com",
            template="account_security_notice",
            payload={"event": "sign-in"},
            idempotency_key=f"dead-key-{i}",
            status="dead",
            attempts=8,
            last_error="SMTP down",
        )
        for i in range(n)
    ]
    session.add_all(rows)
    await session.commit()
    return rows


async def test_staff_lists_and_retries_dead_notifications(
    gql, make_user, sign_in, session, session_factory, tmp_path
):
    await make_user(email="boss@example.com", role=Role.ADMIN)
    admin = gql.as_user((await sign_in("boss@example.com"))["accessToken"])
    first, second, _ = await _dead(session, 3)

    page = (await admin.execute(DEAD, first=2))["deadNotifications"]
    rest = (await admin.execute(DEAD, first=2, after=page["pageInfo"]["endCursor"]))[
        "deadNotifications"
    ]
    nodes = [edge["node"] for edge in page["edges"] + rest["edges"]]
    assert [node["recipient"] for node in nodes] == [f"dead{i}@example.com" for i in range(3)]
    assert page["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert nodes[0] == {
        "id": to_base64("Notification", first.id),
        "recipient": "dead0@example.com",
        "status": "DEAD",
        "attempts": 8,
        "lastError": "SMTP down",
    }

    retried = (await admin.execute(RETRY, id=nodes[0]["id"]))["notificationRetry"]
    assert retried == {"notification": {"status": "PENDING", "attempts": 0}, "userErrors": []}
    again = (await admin.execute(RETRY, id=nodes[0]["id"]))["notificationRetry"]
    assert again["userErrors"] == [{"field": ["id"], "code": "INVALID"}]
    missing = (await admin.execute(RETRY, id=to_base64("Notification", 0)))["notificationRetry"]
    assert missing["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]
    left = (await admin.execute(DEAD, first=10))["deadNotifications"]["edges"]
    assert [edge["node"]["recipient"] for edge in left] == [
        "dead1@example.com",
        "dead2@example.com",
    ]

    channel = CountingChannel(tmp_path)
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await run_once(session_factory, channel=channel, now=later) == 1
    assert channel.sent == [first.idempotency_key]
    assert second.idempotency_key not in channel.sent


async def test_dead_notifications_need_manage_users(gql, make_user, sign_in):
    await make_user(email="shopper@example.com")
    shopper = gql.as_user((await sign_in("shopper@example.com"))["accessToken"])
    assert await shopper.error_codes(DEAD, first=1) == ["FORBIDDEN"]
    assert await gql.error_codes(DEAD, first=1) == ["UNAUTHENTICATED"]
    assert await shopper.error_codes(RETRY, id=to_base64("Notification", 1)) == ["FORBIDDEN"]

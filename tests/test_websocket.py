"""Subscriptions over graphql-transport-ws: auth in connection_init, origins, limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest
import wsproto.events
from httpx import AsyncClient
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from app.auth.tokens import create_access_token
from app.services.accounts.tokens import set_user_active
from tests.conftest import PASSWORD, TOKEN_CREATE, make_settings
from tests.graphql_client import GraphQLClient

PROTOCOL = "graphql-transport-ws"
ACCOUNT_EVENTS = {"query": "subscription { accountEvents { kind } }"}
SIGNED_IN = {"data": {"accountEvents": {"kind": "SIGNED_IN"}}}
ACK = {"type": "connection_ack", "payload": None}
EMAIL = "socket@example.com"
SHOP = "https://shop.example"


def ws_client(app: Starlette) -> AsyncClient:
    """Enter it with `async with` in the test body: its task group must close in that task."""
    return AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://testserver")


def connect(client: AsyncClient, **kwargs: Any) -> Any:
    return aconnect_ws("/graphql", client, subprotocols=[PROTOCOL], **kwargs)


async def receive(ws: AsyncWebSocketSession, timeout: float = 2.0) -> Any:
    """The next message. Text or binary: binary frames are a known bug, tested on their own."""
    event = await ws.receive(timeout)
    assert isinstance(event, wsproto.events.TextMessage | wsproto.events.BytesMessage), event
    return json.loads(event.data)


async def init(ws: AsyncWebSocketSession, token: str | None = None) -> None:
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send_json({"type": "connection_init", "payload": payload})


async def closed_with(ws: AsyncWebSocketSession) -> tuple[int, str]:
    with pytest.raises(WebSocketDisconnect) as closed:
        await receive(ws, timeout=5.0)
    return closed.value.code, closed.value.reason


async def processed(ws: AsyncWebSocketSession) -> None:
    """Ping, then wait for the pong: the server has handled every message sent before it."""
    # A subscribe re-reads the user and the tests' sessions share one connection:
    # a sign-in must not run while a subscribe is still being handled.
    await ws.send_json({"type": "ping"})
    while (message := await receive(ws)) != {"type": "pong"}:
        assert message["type"] == "next", message


async def _sign_in(client: AsyncClient) -> str:
    data = await GraphQLClient(client).execute(TOKEN_CREATE, email=EMAIL, password=PASSWORD)
    assert data["tokenCreate"]["userErrors"] == []
    return data["tokenCreate"]["accessToken"]


async def test_a_sign_in_reaches_the_users_subscription(
    app: Starlette, make_user: Callable[..., Any], sign_in: Callable[..., Any]
) -> None:
    await make_user(email=EMAIL)
    token = (await sign_in(EMAIL))["accessToken"]
    message = None
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws, token)
        assert await receive(ws) == ACK
        await ws.send_json({"id": "1", "type": "subscribe", "payload": ACCOUNT_EVENTS})
        await processed(ws)
        # The subscription may not be listening yet when the first event is published.
        for _ in range(10):
            await sign_in(EMAIL)
            with suppress(TimeoutError):
                message = await receive(ws, timeout=0.5)
                break

    assert message == {"id": "1", "type": "next", "payload": SIGNED_IN}


@pytest.mark.parametrize("kind", ["garbage", "forged"])
async def test_an_invalid_token_closes_the_socket_with_4403(
    app: Starlette, make_user: Callable[..., Any], kind: str
) -> None:
    user = await make_user(email=EMAIL)
    wrong_key = make_settings(jwt_secret=SecretStr("another-key-" * 6))
    token = {
        "garbage": "not.a.jwt",
        "forged": create_access_token(wrong_key, user_id=user.id, token_version=0),
    }[kind]
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws, token)
        close = await closed_with(ws)

    assert close == (4403, "Forbidden")


async def test_an_anonymous_socket_is_acked_but_cannot_subscribe_to_account_events(
    app: Starlette,
) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws)
        ack = await receive(ws)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": ACCOUNT_EVENTS})
        messages = [await receive(ws), await receive(ws)]

    assert ack == ACK
    # The resolver is an async generator, so its auth error arrives as `next`, then `complete`.
    assert messages == [
        {
            "id": "1",
            "type": "next",
            "payload": {
                "data": None,
                "errors": [
                    {"message": "Sign in to do this.", "extensions": {"code": "UNAUTHENTICATED"}}
                ],
            },
        },
        {"id": "1", "type": "complete"},
    ]


async def test_no_connection_init_in_time_closes_with_4408(start_app: Callable[..., Any]) -> None:
    async with (
        start_app(ws_connection_init_timeout_seconds=0.3) as (app, _),
        ws_client(app) as client,
        connect(client) as ws,
    ):
        close = await closed_with(ws)

    assert close == (4408, "Connection initialisation timeout")


async def test_a_cross_origin_handshake_is_refused_without_cors_origins(app: Starlette) -> None:
    async with ws_client(app) as client:
        with pytest.raises(WebSocketDisconnect) as refused:
            async with connect(client, headers={"Origin": SHOP}):
                pass

    # Closed before accept: over a real server that is an HTTP 403 to the handshake.
    assert refused.value.code == 1008


async def test_a_cross_origin_handshake_needs_an_allowed_origin(
    start_app: Callable[..., Any],
) -> None:
    async with start_app(cors_origins=[SHOP]) as (app, _), ws_client(app) as client:
        async with connect(client, headers={"Origin": SHOP}) as ws:
            await init(ws)
            ack = await receive(ws)
        with pytest.raises(WebSocketDisconnect) as refused:
            async with connect(client, headers={"Origin": "https://evil.example"}):
                pass

    assert ack == ACK
    assert refused.value.code == 1008


async def _subscribe(ws: AsyncWebSocketSession, operation_id: str) -> None:
    await ws.send_json({"id": operation_id, "type": "subscribe", "payload": ACCOUNT_EVENTS})
    await processed(ws)


async def _message_for(ws: AsyncWebSocketSession, operation_id: str, timeout: float) -> Any:
    """The next message of `operation_id`, skipping SIGNED_IN events of other subscriptions."""
    while True:
        message = await receive(ws, timeout)
        if message["id"] == operation_id:
            return message
        assert message == {"id": message["id"], "type": "next", "payload": SIGNED_IN}


async def _event_for(ws: AsyncWebSocketSession, operation_id: str, client: AsyncClient) -> Any:
    """Sign in until subscription `operation_id` relays it (it may not be listening yet)."""
    for _ in range(10):
        await _sign_in(client)
        with suppress(TimeoutError):
            return await _message_for(ws, operation_id, timeout=0.5)
    return None


async def test_subscriptions_beyond_the_limit_are_refused(
    start_app: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    await make_user(email=EMAIL)
    async with start_app(ws_max_subscriptions=2) as (app, _), ws_client(app) as client:
        token = await _sign_in(client)
        async with connect(client) as ws:
            await init(ws, token)
            assert await receive(ws) == ACK
            await _subscribe(ws, "1")
            first = await _event_for(ws, "1", client)
            await _subscribe(ws, "2")
            second = await _event_for(ws, "2", client)
            await ws.send_json({"id": "3", "type": "subscribe", "payload": ACCOUNT_EVENTS})
            refusal = await _message_for(ws, "3", timeout=2.0)
            # The refusal did not end the two live subscriptions.
            still_first = await _event_for(ws, "1", client)

    assert first == {"id": "1", "type": "next", "payload": SIGNED_IN}
    assert second == {"id": "2", "type": "next", "payload": SIGNED_IN}
    assert refusal == {
        "id": "3",
        "type": "error",
        "payload": [
            {
                "message": "Subscription limit reached",
                "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS"},
            }
        ],
    }
    assert still_first == first


async def test_a_deactivated_users_token_no_longer_opens_a_socket(
    app: Starlette,
    make_user: Callable[..., Any],
    sign_in: Callable[..., Any],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    user = await make_user(email=EMAIL)
    token = (await sign_in(EMAIL))["accessToken"]
    async with ws_client(app) as client:
        async with connect(client) as ws:
            await init(ws, token)
            before = await receive(ws)
        async with session_factory() as session, session.begin():
            await set_user_active(session, user_id=user.id, active=False)
        async with connect(client) as ws:
            await init(ws, token)
            after = await closed_with(ws)

    assert before == ACK
    assert after == (4403, "Forbidden")


async def test_two_subscriptions_opened_together_over_redis_both_get_events(
    start_app: Callable[..., Any], make_user: Callable[..., Any], redis_url: str
) -> None:
    await make_user(email=EMAIL)
    received: dict[str, Any] = {}
    async with start_app(redis_url=redis_url) as (app, _), ws_client(app) as client:
        token = await _sign_in(client)
        async with connect(client) as ws:
            await init(ws, token)
            assert await receive(ws) == ACK
            await _subscribe(ws, "1")
            await _subscribe(ws, "2")
            for _ in range(10):
                await _sign_in(client)
                with suppress(TimeoutError):
                    while len(received) < 2:
                        message = await receive(ws, timeout=0.5)
                        received[message["id"]] = message
                if len(received) == 2:
                    break

    assert received == {
        "1": {"id": "1", "type": "next", "payload": SIGNED_IN},
        "2": {"id": "2", "type": "next", "payload": SIGNED_IN},
    }


async def test_protocol_messages_are_text_frames(app: Starlette) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws)
        event = await ws.receive(2.0)

    assert isinstance(event, wsproto.events.TextMessage)
    assert json.loads(event.data) == ACK

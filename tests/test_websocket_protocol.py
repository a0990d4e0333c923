"""Protocol abuse over graphql-transport-ws: a close code or a coded error, never a traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest
from httpx import AsyncClient
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from starlette.applications import Starlette

from app.auth.tokens import create_access_token
from app.main import create_app
from app.settings import Settings
from models.accounts import RefreshToken
from tests.conftest import PASSWORD, TOKEN_CREATE, make_settings
from tests.fakes.local_server import LocalServer
from tests.graphql_client import GraphQLClient
from tests.test_websocket import (
    ACCOUNT_EVENTS,
    ACK,
    SIGNED_IN,
    closed_with,
    connect,
    init,
    processed,
    receive,
    ws_client,
)

ALICE = "alice@ws-protocol.example.com"


async def sign_in_token(http: AsyncClient, email: str) -> str:
    data = await GraphQLClient(http).execute(TOKEN_CREATE, email=email, password=PASSWORD)
    assert data["tokenCreate"]["userErrors"] == []
    return str(data["tokenCreate"]["accessToken"])


async def open_subscription(
    ws: AsyncWebSocketSession, token: str | None, operation_id: str = "1"
) -> None:
    """connection_init, ack, then an accountEvents subscription the server has taken."""
    await init(ws, token)
    assert await receive(ws) == ACK
    await ws.send_json({"id": operation_id, "type": "subscribe", "payload": ACCOUNT_EVENTS})
    await processed(ws)


async def next_event(ws: AsyncWebSocketSession, http: AsyncClient, email: str) -> Any:
    """Sign in until the socket relays it (its subscription may not be listening yet)."""
    for _ in range(10):
        await sign_in_token(http, email)
        with suppress(TimeoutError):
            return await receive(ws, timeout=0.5)
    return None


async def close_and_messages(
    ws: AsyncWebSocketSession, timeout: float = 5.0
) -> tuple[int, str, list[Any]]:
    """The close code and reason, and the messages that came before it."""
    messages = []
    deadline = time.monotonic() + timeout
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            messages.append(await receive(ws, timeout=max(0.01, deadline - time.monotonic())))
    return closed.value.code, closed.value.reason, messages


def error_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


NOT_SUPPORTED = [
    {
        "message": "Only subscriptions run over WebSocket; send queries and mutations over HTTP.",
        "extensions": {"code": "OPERATION_NOT_SUPPORTED"},
    }
]
SIGN_IN_OVER_WS = {"query": TOKEN_CREATE, "variables": {"email": ALICE, "password": PASSWORD}}
MIXED = 'mutation M { tokenRevoke(refreshToken: "x") { userErrors { code } } } ' + (
    "subscription S { accountEvents { kind } }"
)


@pytest.mark.parametrize(
    "payload",
    [
        SIGN_IN_OVER_WS,
        {"query": "{ me { email } }"},
        {"query": MIXED, "operationName": "M"},
    ],
    ids=["mutation", "query", "mutation picked from a mixed document"],
)
async def test_queries_and_mutations_over_the_socket_get_a_coded_error_and_run_nothing(
    app: Starlette,
    make_user: Callable[..., Any],
    sign_in: Callable[..., Any],
    count: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    payload: dict[str, Any],
) -> None:
    await make_user(email=ALICE)
    token = (await sign_in(ALICE))["accessToken"]
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws, token)
        assert await receive(ws) == ACK
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        refusal = await receive(ws)
        # The error ended operation 1: its id is free again (no 4409).
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        again = await receive(ws)

    assert refusal == again == {"id": "1", "type": "error", "payload": NOT_SUPPORTED}
    assert await count(RefreshToken) == 1  # the sign-in of the test, none over the socket
    assert error_logs(caplog) == []


async def test_the_subscription_of_a_mixed_document_still_runs(app: Starlette) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws)
        assert await receive(ws) == ACK
        payload = {"query": MIXED, "operationName": "S", "variables": None, "extensions": None}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        first = await receive(ws)

    assert first["id"] == "1"
    assert first["type"] == "next"
    assert first["payload"]["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


def _subscribe(**fields: Any) -> dict[str, Any]:
    return {"type": "subscribe", "id": "1", "payload": ACCOUNT_EVENTS, **fields}


def _without_id() -> dict[str, Any]:
    message = _subscribe()
    del message["id"]
    return message


BAD_ID = "Operation id must be a non-empty string"
LONG_ID = "Operation id must be at most 128 printable characters"
BAD_SUBSCRIBES = {
    "payload a string": (_subscribe(payload="x"), "Subscribe payload must be an object"),
    "payload a list": (_subscribe(payload=[]), "Subscribe payload must be an object"),
    "payload null": (_subscribe(payload=None), "Subscribe payload must be an object"),
    "payload absent": ({"type": "subscribe", "id": "1"}, "Subscribe payload must be an object"),
    "query absent": (_subscribe(payload={}), "Subscribe payload needs a query string"),
    "query null": (_subscribe(payload={"query": None}), "Subscribe payload needs a query string"),
    "query a number": (_subscribe(payload={"query": 1}), "Subscribe payload needs a query string"),
    "query a list": (
        _subscribe(payload={"query": ["{"]}),
        "Subscribe payload needs a query string",
    ),
    "variables a string": (
        _subscribe(payload={**ACCOUNT_EVENTS, "variables": "x"}),
        "Subscribe variables must be an object or null",
    ),
    "variables a list": (
        _subscribe(payload={**ACCOUNT_EVENTS, "variables": []}),
        "Subscribe variables must be an object or null",
    ),
    "operationName a number": (
        _subscribe(payload={**ACCOUNT_EVENTS, "operationName": 1}),
        "Subscribe operationName must be a string or null",
    ),
    "operationName an object": (
        _subscribe(payload={**ACCOUNT_EVENTS, "operationName": {}}),
        "Subscribe operationName must be a string or null",
    ),
    "extensions a string": (
        _subscribe(payload={**ACCOUNT_EVENTS, "extensions": "x"}),
        "Subscribe extensions must be an object or null",
    ),
    "id absent": (_without_id(), BAD_ID),
    "id null": (_subscribe(id=None), BAD_ID),
    "id a number": (_subscribe(id=1), BAD_ID),
    "id a huge number": (_subscribe(id=10**40), BAD_ID),
    "id a list": (_subscribe(id=["1"]), BAD_ID),
    "id empty": (_subscribe(id=""), BAD_ID),
    "id too long": (_subscribe(id="x" * 129), LONG_ID),
    "id with a NUL byte": (_subscribe(id="a\x00b"), LONG_ID),
    "complete with a list id": ({"type": "complete", "id": ["1"]}, BAD_ID),
    "complete without id": ({"type": "complete"}, BAD_ID),
    "ping with a string payload": (
        {"type": "ping", "payload": "x"},
        "The ping payload must be an object or null",
    ),
    "syntax error": (
        _subscribe(payload={"query": "subscription {"}),
        "Syntax Error: Expected Name, found <EOF>.",
    ),
    "NUL in the query": (
        _subscribe(payload={"query": "{ \x00 }"}),
        "Syntax Error: Unexpected character: U+0000.",
    ),
    "unknown operation": (
        _subscribe(payload={**ACCOUNT_EVENTS, "operationName": "Nope"}),
        "Can't get GraphQL operation type",
    ),
}


@pytest.mark.parametrize(("message", "reason"), BAD_SUBSCRIBES.values(), ids=BAD_SUBSCRIBES.keys())
async def test_a_malformed_message_after_the_ack_closes_with_4400(
    app: Starlette, caplog: pytest.LogCaptureFixture, message: dict[str, Any], reason: str
) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws)
        assert await receive(ws) == ACK
        await ws.send_json(message)
        close = await closed_with(ws)

    assert close == (4400, reason)
    assert error_logs(caplog) == []


NOT_JSON = "WebSocket message must be valid JSON"
NOT_OBJECT = "WebSocket message must be a JSON object"
BAD_FRAMES = {
    "a list": ("[]", NOT_OBJECT),
    "a number": ("1", NOT_OBJECT),
    "a string": ('"connection_init"', NOT_OBJECT),
    "null": ("null", NOT_OBJECT),
    "not JSON": ("{", NOT_JSON),
    "empty": ("", NOT_JSON),
    "nested past the recursion limit": ("[" * 100_000 + "]" * 100_000, NOT_JSON),
    "no type": ("{}", "Unknown message type"),
    "type a list": ('{"type": ["subscribe"]}', "Unknown message type"),
    "an unknown type": ('{"type": "' + "x" * 1_000 + '"}', "Unknown message type"),
    "a server message": ('{"type": "connection_ack"}', "Unknown message type"),
    "a next from the client": (
        '{"type": "next", "id": "1", "payload": {}}',
        "Unknown message type",
    ),
    "larger than MAX_REQUEST_BYTES": (
        '{"type": "ping", "x": "' + "x" * 1_000_000 + '"}',
        "WebSocket message too large",
    ),
    "a huge connection_init": (
        '{"type": "connection_init", "payload": {"authToken": "' + "x" * 20_000 + '"}}',
        "Connection init payload too large",
    ),
    "a connection_init payload that is a list": (
        '{"type": "connection_init", "payload": []}',
        "The connection_init payload must be an object or null",
    ),
}


@pytest.mark.parametrize(("frame", "reason"), BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
async def test_a_frame_that_is_no_protocol_message_closes_with_4400(
    app: Starlette, caplog: pytest.LogCaptureFixture, frame: str, reason: str
) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await ws.send_text(frame)
        close = await closed_with(ws)

    assert close == (4400, reason)
    assert error_logs(caplog) == []


async def test_a_binary_frame_closes_with_4400(app: Starlette) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await ws.send_bytes(b'{"type": "connection_init", "payload": {}}')
        close = await closed_with(ws)

    assert close == (4400, "WebSocket message type must be text")


async def test_a_connection_init_with_a_null_or_modest_payload_is_acked(app: Starlette) -> None:
    async with ws_client(app) as client:
        async with connect(client) as ws:
            await ws.send_json({"type": "connection_init", "payload": None})
            null_payload = await receive(ws)
        async with connect(client) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"client": "x" * 10_000}})
            padded = await receive(ws)

    assert null_payload == ACK
    assert padded == ACK


async def test_a_subscribe_before_connection_init_closes_with_4401(app: Starlette) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await ws.send_json(_subscribe())
        close = await closed_with(ws)

    assert close == (4401, "Unauthorized")


async def test_a_second_connection_init_closes_with_4429(app: Starlette) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws)
        ack = await receive(ws)
        await init(ws)
        close = await closed_with(ws)

    assert ack == ACK
    assert close == (4429, "Too many initialisation requests")


async def test_a_reused_live_operation_id_closes_with_4409(
    app: Starlette, http: AsyncClient, make_user: Callable[..., Any]
) -> None:
    await make_user(email=ALICE)
    operation_id = "x" * 128  # the longest allowed: the reason must not echo it
    async with ws_client(app) as client, connect(client) as ws:
        await open_subscription(ws, await sign_in_token(http, ALICE), operation_id)
        live = await next_event(ws, http, ALICE)
        await ws.send_json(_subscribe(id=operation_id))
        code, reason, late = await close_and_messages(ws)

    assert live == {"id": operation_id, "type": "next", "payload": SIGNED_IN}
    assert (code, reason) == (4409, "Subscriber for this id already exists")
    assert all(message == live for message in late), late


async def test_close_reasons_fit_a_close_frame_under_uvicorn(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    """Over real uvicorn: its websockets protocol drops a connection on a longer reason."""
    # The served app borrows the test app's resources only as references: an anonymous
    # socket that sends a syntax error never touches the database or pub/sub.
    served = create_app(make_settings())
    served.state.resources = app.state.resources
    # The error message quotes the string: 300 two-byte characters, far past 123 bytes.
    query = 'subscription { accountEvents(a: "é" "' + "é" * 300 + '") { kind } }'
    with LocalServer(served) as server:
        async with (
            AsyncClient(base_url=server.url) as client,
            aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
        ):
            await init(ws)
            assert await receive(ws) == ACK
            await ws.send_json(_subscribe(payload={"query": query}))
            code, reason = await closed_with(ws)

    assert code == 4400
    assert reason.startswith("Syntax Error: Expected Name, found String 'éé")
    assert len(reason.encode()) <= 123
    assert error_logs(caplog) == []


async def test_a_document_over_max_query_tokens_closes_with_4400(
    start_app: Callable[..., Any],
) -> None:
    query = "subscription { accountEvents { " + "kind " * 200 + "} }"
    async with (
        start_app(max_query_tokens=100) as (app, _),
        ws_client(app) as client,
        connect(client) as ws,
    ):
        await init(ws)
        assert await receive(ws) == ACK
        await ws.send_json(_subscribe(payload={"query": query}))
        close = await closed_with(ws)

    assert close == (4400, "Syntax Error: Document contains more than 100 tokens. Parsing aborted.")


async def test_a_database_outage_at_connection_init_closes_with_1013(
    start_app: Callable[..., Any], settings: Settings
) -> None:
    token = create_access_token(settings, user_id=1, token_version=0)
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    async with (
        start_app(bind=False, database_url=unreachable) as (app, _),
        ws_client(app) as client,
    ):
        async with connect(client) as ws:
            await init(ws, token)
            signed_in = await closed_with(ws)
        async with connect(client) as ws:
            await init(ws)
            anonymous = await receive(ws)

    assert signed_in == (1013, "Try again later")
    assert anonymous == ACK

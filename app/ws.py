"""graphql-transport-ws for subscriptions only: checked messages, sockets re-checking their user."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, cast

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)

from app.auth.tokens import InvalidAccessToken, decode_access_token
from app.context import Context
from app.services.accounts.tokens import user_for_access_token

log = logging.getLogger(__name__)

MAX_OPERATION_ID_CHARS = 128  # clients use UUIDs or counters; the id is echoed in every message
MAX_INIT_FRAME_CHARS = 16_384  # connection_init carries a token, not data
MAX_CLOSE_REASON_BYTES = 123  # RFC 6455: the close frame body is at most 125 bytes
RECHECK_TIMEOUT_SECONDS = 5.0
RECHECK_TASK_NAME = "ws-access-recheck"
FORBIDDEN = (4403, "Forbidden")
TRY_AGAIN_LATER = (1013, "Try again later")
CLIENT_MESSAGE_TYPES = {"connection_init", "ping", "pong", "subscribe", "complete"}


def _bounded(reason: str) -> str:
    """`reason` cut to what a close frame can carry (whole characters only)."""
    return reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


def _optional(payload: Mapping[str, object], key: str, kind: type) -> bool:
    """`payload[key]` is absent, null or of `kind`."""
    return payload.get(key) is None or isinstance(payload[key], kind)


def _id_problem(message: Mapping[str, object]) -> str | None:
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        return "Operation id must be a non-empty string"
    if len(operation_id) > MAX_OPERATION_ID_CHARS or not operation_id.isprintable():
        return f"Operation id must be at most {MAX_OPERATION_ID_CHARS} printable characters"
    return None


def _subscribe_problem(message: Mapping[str, object]) -> str | None:
    """Why a `subscribe` message is malformed, or None."""
    if problem := _id_problem(message):
        return problem
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "Subscribe payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "Subscribe payload needs a query string"
    if not _optional(payload, "variables", dict):
        return "Subscribe variables must be an object or null"
    if not _optional(payload, "operationName", str):
        return "Subscribe operationName must be a string or null"
    if not _optional(payload, "extensions", dict):
        return "Subscribe extensions must be an object or null"
    return None


def _message_problem(message: Mapping[str, object]) -> str | None:
    """Why a client message breaks the protocol, or None."""
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in CLIENT_MESSAGE_TYPES:
        return "Unknown message type"
    if kind == "subscribe":
        return _subscribe_problem(message)
    if kind == "complete":
        return _id_problem(message)
    if not _optional(message, "payload", dict):
        return f"The {kind} payload must be an object or null"
    return None


class _ClosingSocket(AsyncWebSocketAdapter):
    """Strawberry's adapter, but closing twice or sending after the close is a no-op."""

    def __init__(self, inner: ASGIWebSocketAdapter) -> None:
        super().__init__(inner.view)
        self.inner = inner
        self.ws = inner.ws

    @property
    def is_open(self) -> bool:
        """Neither side has closed (as far as this process has seen)."""
        return (
            self.ws.application_state == WebSocketState.CONNECTED
            and self.ws.client_state == WebSocketState.CONNECTED
        )

    def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        return self.inner.iter_json(ignore_parsing_errors=ignore_parsing_errors)

    async def send_json(self, message: Mapping[str, object]) -> None:
        # An operation can race the close (the user lost access): its message is dropped.
        if self.is_open:
            await self.inner.send_json(message)

    async def close(self, code: int, reason: str) -> None:
        if self.is_open:
            await self.inner.close(code, _bounded(reason))


class SubscriptionSocketHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """Runs subscriptions only, closes on malformed messages, and re-checks the socket's user."""

    context: Context
    websocket: _ClosingSocket

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert isinstance(self.websocket, ASGIWebSocketAdapter)
        self.websocket = _ClosingSocket(self.websocket)
        self.recheck_task: asyncio.Task[None] | None = None
        self.access_expires_at: datetime | None = None

    async def handle(self) -> None:
        """Read frames ourselves: Strawberry's loop lets non-object JSON reach handle_message."""
        self.on_request_accepted()
        try:
            async for frame in self._text_frames():
                message = await self._decoded(frame)
                if message is None:
                    break
                await self.handle_message(cast(Message, message))
        except WebSocketDisconnected:
            pass
        finally:
            await self.shutdown()

    async def _text_frames(self) -> AsyncIterator[str | None]:
        """Text frames as they come, None for a binary one, until either side closes."""
        while self.websocket.is_open:
            received = await self.websocket.ws.receive()
            if received["type"] == "websocket.disconnect":
                return
            yield received.get("text")

    async def _decoded(self, frame: str | None) -> dict[str, object] | None:
        """The message of a frame, or None after closing the socket with 4400."""
        if frame is None:
            await self.handle_invalid_message("WebSocket message type must be text")
            return None
        if len(frame) > self.context.settings.max_request_bytes:
            await self.handle_invalid_message("WebSocket message too large")
            return None
        try:
            message = self.view.decode_json(frame)
        except (ValueError, RecursionError):
            await self.handle_invalid_message("WebSocket message must be valid JSON")
            return None
        if not isinstance(message, dict):
            await self.handle_invalid_message("WebSocket message must be a JSON object")
            return None
        if message.get("type") == "connection_init" and len(frame) > MAX_INIT_FRAME_CHARS:
            await self.handle_invalid_message("Connection init payload too large")
            return None
        return message

    async def handle_message(self, message: Message) -> None:
        if problem := _message_problem(cast(Mapping[str, object], message)):
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        if message.get("payload") is None:  # the protocol allows an absent or null payload
            message = {"type": "connection_init", "payload": {}}
        try:
            await super().handle_connection_init(message)
        except Exception as exc:
            # The database could not authenticate the token: the client may retry later.
            log.warning("WebSocket connection_init failed: %r", exc)
            await self.websocket.close(*TRY_AGAIN_LATER)
            return
        if self.connection_acknowledged and self.context.user is not None:
            self.access_expires_at = _expiry(self.context)
            self.recheck_task = asyncio.create_task(
                self._close_when_access_ends(), name=RECHECK_TASK_NAME
            )
            self.recheck_task.add_done_callback(self._task_done)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await self.websocket.close(4401, "Unauthorized")
            return
        operation_id, payload = message["id"], message["payload"]
        if operation_id in self.operations:
            await self.websocket.close(4409, "Subscriber for this id already exists")
            return
        try:
            document = parse(
                payload["query"],
                no_location=True,
                max_tokens=self.context.settings.max_query_tokens,
            )
        except GraphQLError as error:
            await self.websocket.close(4400, error.message)
            return
        operation = get_operation_ast(document, payload.get("operationName"))
        if operation is None:
            await self.websocket.close(4400, "Can't get GraphQL operation type")
            return
        if operation.operation is not OperationType.SUBSCRIPTION:
            await self._refuse(
                operation_id,
                "Only subscriptions run over WebSocket; send queries and mutations over HTTP.",
                "OPERATION_NOT_SUPPORTED",
            )
            return
        limit = self.max_subscriptions_per_connection
        if limit is not None and len(self.operations) >= limit:
            await self._refuse(operation_id, "Subscription limit reached", "TOO_MANY_SUBSCRIPTIONS")
            return
        # Last, so only a subscription that would start costs a read of the user.
        if self.context.user is not None and not await self._access_still_allowed():
            await self._close_forbidden()
            return
        await super().handle_subscribe(message)

    async def _refuse(self, operation_id: str, message: str, code: str) -> None:
        """End one operation with an `error` message; nothing was executed."""
        error = GraphQLError(message, extensions={"code": code}).formatted
        await self.send_message(ErrorMessage(id=operation_id, type="error", payload=[error]))

    async def shutdown(self) -> None:
        if self.recheck_task is not None:
            self.recheck_task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self.recheck_task
        await super().shutdown()

    async def _close_when_access_ends(self) -> None:
        """Close with 4403 at the token's expiry or once a re-check finds the user gone."""
        interval = self.context.settings.ws_auth_recheck_seconds
        try:
            try:
                async with asyncio.timeout(_seconds_until(self.access_expires_at)):
                    while True:
                        await asyncio.sleep(interval)
                        if not await self._access_still_allowed():
                            break
            except TimeoutError:
                pass  # the access token expired
            await self._close_forbidden()
        except Exception as error:
            await self.handle_task_exception(error)

    async def _access_still_allowed(self) -> bool:
        """The socket's token still stands for an active user; the last verdict on a DB error."""
        if _seconds_until(self.access_expires_at) == 0:
            return False
        token = self.context.access_token
        if token is None:
            return False
        settings = self.context.settings
        try:
            # A fresh short session each time: no connection is held between checks.
            async with (
                asyncio.timeout(RECHECK_TIMEOUT_SECONDS),
                self.context.session_factory() as session,
            ):
                await user_for_access_token(session, token=token, settings=settings)
        except InvalidAccessToken:
            return False
        except Exception as exc:
            log.warning("WebSocket access re-check failed, retrying: %r", exc)
        return True

    async def _close_forbidden(self) -> None:
        """End every operation of the socket, then close it with 4403."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await self.websocket.close(*FORBIDDEN)


def _expiry(context: Context) -> datetime | None:
    """When the socket's access token expires; now if it no longer decodes."""
    if context.access_token is None:
        return None
    try:
        return decode_access_token(context.settings, context.access_token).expires_at
    except InvalidAccessToken:
        return datetime.now(UTC)


def _seconds_until(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())

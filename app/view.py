"""The /graphql endpoint: Strawberry's ASGI view with our context, auth and limits."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from app import logs
from app.auth.tokens import InvalidAccessToken
from app.context import Context
from app.graphql_http import GraphQLHTTPHandler
from app.observability import identify_user
from app.resources import Resources
from app.response_cache import ResponseCache
from app.services.accounts.tokens import user_for_access_token
from app.settings import Settings
from app.ws import SubscriptionSocketHandler

_CONTEXT_KEY = "commerce.context"


def _bearer_token(value: str | None) -> str | None:
    """The token of `Bearer <token>`; '' for a malformed header, None when absent."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _ws_token(params: dict[str, Any] | None) -> str | None:
    """Clients put the token in connection_init as `Authorization` or `authToken`."""
    if not isinstance(params, dict):
        return None
    if isinstance(params.get("Authorization"), str):
        return _bearer_token(params["Authorization"])
    token = params.get("authToken") or params.get("token")
    return token if isinstance(token, str) else None


class _BodyTooLarge(Exception):
    """The request body grew past MAX_REQUEST_BYTES while being read."""


async def _read_body(receive: Receive, headers: dict[bytes, bytes], limit: int) -> bytes:
    """The whole body; _BodyTooLarge past `limit` (chunked bodies are counted as they come)."""
    length = headers.get(b"content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise _BodyTooLarge
    parts: list[bytes] = []
    seen = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        seen += len(chunk)
        if seen > limit:
            raise _BodyTooLarge
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _empty_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _wants_ide(scope: Scope) -> bool:
    """A browser opening /graphql without a query: GraphiQL (or 404 when it is off)."""
    query_string = scope["query_string"]
    if scope["method"] != "GET" or b"query=" in query_string or b"extensions=" in query_string:
        return False
    accept = dict(scope["headers"]).get(b"accept", b"")
    return b"text/html" in accept


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str
) -> None:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    await JSONResponse(body, status_code=status)(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    await _refuse(scope, receive, send, 413, "PAYLOAD_TOO_LARGE", "Request body too large.")


class GraphQLView(GraphQL):
    graphql_transport_ws_handler_class = SubscriptionSocketHandler

    def __init__(self, schema: BaseSchema, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(
                seconds=settings.ws_connection_init_timeout_seconds
            ),
            max_subscriptions_per_connection=settings.ws_max_subscriptions,
            allowed_origins=settings.cors_origins,
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.settings = settings
        self.cache = ResponseCache(
            ttl_seconds=settings.public_cache_seconds,
            max_entries=settings.public_cache_max_entries,
            max_bytes=settings.public_cache_max_bytes,
        )
        self.http = GraphQLHTTPHandler(self, settings, self.cache)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _wants_ide(scope):
            await super().__call__(scope, receive, send)  # WebSocket, GraphiQL (or its 404)
            return
        try:
            body = await asyncio.wait_for(
                _read_body(receive, dict(scope["headers"]), self.settings.max_request_bytes),
                self.settings.request_body_timeout_seconds,
            )
        except _BodyTooLarge:
            await _too_large(scope, receive, send)
            return
        except TimeoutError:  # a body trickled in byte by byte holds a connection for ever
            await _refuse(scope, receive, send, 408, "REQUEST_TIMEOUT", "The body came too slowly.")
            return
        await self.http(scope, _empty_body, send, body)

    def encode_json(self, data: object) -> str:
        # A str, not bytes: Strawberry sends bytes as binary WebSocket frames,
        # which graphql-ws clients cannot read.
        return orjson.dumps(data).decode()

    async def get_context(  # type: ignore[override]
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        resources: Resources = request.app.state.resources
        context = Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            settings=self.settings,
            session_factory=resources.session_factory,
            pubsub=resources.pubsub,
            response_cache=self.cache,
            shared_answers=resources.shared_answers,
            rate_limiter=resources.rate_limiter,
            cost_budget=resources.cost_budget,
            gateways=resources.gateways,
        )
        if isinstance(request, Request):
            request.scope[_CONTEXT_KEY] = context
            await self._authenticate(context, _bearer_token(request.headers.get("authorization")))
        return context

    async def _authenticate(self, context: Context, token: str | None) -> None:
        if token is None:
            return
        if not token:
            context.auth_error = "Authorization header must be 'Bearer <access token>'."
            return
        try:
            if context.is_websocket:
                async with context.session_factory() as session:
                    context.user = await user_for_access_token(
                        session, token=token, settings=self.settings
                    )
            else:
                context.user = await user_for_access_token(
                    context.session, token=token, settings=self.settings
                )
        except InvalidAccessToken as exc:
            context.auth_error = str(exc)
        if context.user is not None:
            logs.user_id.set(context.user.id)  # reset by RequestIdMiddleware at the end
            identify_user(context.user.id)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:  # type: ignore[override]
        token = _ws_token(context.connection_params)
        await self._authenticate(context, token)
        if context.auth_error:
            raise ConnectionRejectionError(
                {"message": context.auth_error, "code": "UNAUTHENTICATED"}
            )
        if context.user is not None:
            context.access_token = token  # re-checked while the socket is open (app/ws.py)
        return None

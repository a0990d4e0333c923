"""Tracing and error tracking, each proven through the real app: spans for one query and its
SQL in an in-memory exporter; an unexpected error at a local Sentry, without personal data;
trace, user and operation in the JSON log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sentry_sdk
from httpx import ASGITransport, AsyncClient
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

import resolvers.accounts.queries as account_queries
from app.logs import _JsonFormatter, _RequestIdFilter
from app.main import create_app
from app.observability import REDACTED, error_tracking_enabled, scrub, stop_tracing
from tests.conftest import make_settings
from tests.fakes.sentry import FakeSentry

EMAIL = "traced.shopper@example.com"
# Kept far from the failing frames: Sentry sends a few source lines around each frame.
LAST_NAME = "Shopper"
ME = "query WhoAmI { me { email } }"
PRODUCTS = "query FirstProducts { products(first: 2) { edges { node { name } } } }"


@asynccontextmanager
async def running(app: Any, session_factory: Any) -> AsyncIterator[AsyncClient]:
    async with app.router.lifespan_context(app):
        app.state.resources.session_factory = session_factory
        async with AsyncClient(transport=ASGITransport(app), base_url="http://testserver") as http:
            yield http


@pytest.fixture
def spans() -> Any:
    exporter = InMemorySpanExporter()
    yield exporter
    stop_tracing()  # asyncpg, Redis and httpx unpatched for the rest of the suite


async def test_one_query_is_one_trace_with_its_sql(session_factory, spans) -> None:
    app = create_app(make_settings(), span_processor=SimpleSpanProcessor(spans))
    async with running(app, session_factory) as http:
        answer = await http.post("/graphql", json={"query": PRODUCTS})
        assert (await http.get("/healthz")).status_code == 200
    assert answer.status_code == 200 and "errors" not in answer.json()

    finished = spans.get_finished_spans()
    by_name = {span.name: span for span in finished}
    request = by_name["POST /graphql"]
    operation = by_name["GraphQL Query: FirstProducts"]
    sql = [s for s in finished if (s.attributes or {}).get("db.system") == "postgresql"]
    # One trace: the request, the GraphQL operation and the statements it ran (the others
    # are the engine's first connection, made by the outbox sampler at start).
    in_request = [s for s in sql if s.context.trace_id == request.context.trace_id]
    assert operation.context.trace_id == request.context.trace_id
    assert any("FROM products" in str(s.attributes.get("db.statement", "")) for s in in_request), [
        s.attributes.get("db.statement") for s in sql
    ]
    assert operation.parent is not None and operation.parent.span_id == request.context.span_id
    # Probes are not traced; statements carry no parameters; resolvers no argument values.
    assert not any("healthz" in s.name for s in finished)
    assert not any(key.startswith("db.statement.parameters") for s in sql for key in s.attributes)
    assert not any(
        key.startswith("graphql.param") for s in finished for key in (s.attributes or {})
    )


async def test_without_an_endpoint_nothing_is_traced(session_factory, http) -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    assert make_settings().otel_exporter_otlp_endpoint is None
    assert not AsyncPGInstrumentor().is_instrumented_by_opentelemetry


def test_log_lines_carry_the_trace_user_and_operation() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from app import logs

    tracer = TracerProvider().get_tracer("test")
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    user_token = logs.user_id.set(7)
    name_token = logs.operation_name.set("WhoAmI")
    try:
        with tracer.start_as_current_span("work") as span:
            _RequestIdFilter().filter(record)
            trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        logs.user_id.reset(user_token)
        logs.operation_name.reset(name_token)
    line = json.loads(_JsonFormatter().format(record))

    assert line["trace_id"] == trace_id
    assert line["user_id"] == 7 and line["operation"] == "WhoAmI"
    assert line["message"] == "hello x"

    outside = logging.LogRecord("app.test", logging.INFO, __file__, 1, "bye", (), None)
    _RequestIdFilter().filter(outside)
    assert set(json.loads(_JsonFormatter().format(outside))) == {
        "time", "level", "logger", "message", "request_id",
    }  # fmt: skip


@pytest.fixture
def sentry() -> Any:
    with FakeSentry() as fake:
        yield fake
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    assert not error_tracking_enabled()


async def test_an_unexpected_error_reaches_sentry_without_personal_data(
    session_factory, make_user, sign_in, monkeypatch, sentry
) -> None:
    user = await make_user(email=EMAIL, first_name="Trace", last_name=LAST_NAME)
    token = (await sign_in(EMAIL))["accessToken"]

    def broken(cls: Any, row: Any) -> Any:
        raise RuntimeError(f"cannot show {row.email}")

    monkeypatch.setattr(account_queries.User, "from_row", classmethod(broken))
    app = create_app(make_settings(sentry_dsn=SecretStr(sentry.dsn)))
    assert error_tracking_enabled()
    async with running(app, session_factory) as http:
        answer = await http.post(
            "/graphql",
            json={"query": ME, "variables": {"email": EMAIL}},
            headers={
                "Authorization": f"Bearer {token}",
                "Cookie": "session=secret-cookie",
                "X-Forwarded-For": "203.0.113.9",
            },
        )
    sentry_sdk.flush(timeout=5)

    assert answer.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert event_of(sentry)["tags"]["request_id"] == answer.headers["x-request-id"]
    assert sentry.paths and all(path == "/api/42/envelope/" for path in sentry.paths)
    event = event_of(sentry)
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == f"cannot show {REDACTED}"
    assert event["user"] == {"id": str(user.id)}
    assert event["tags"]["graphql.operation"] == "WhoAmI"
    headers = {name.lower() for name in event.get("request", {}).get("headers", {})}
    assert headers <= {"accept", "content-type", "content-length", "host", "user-agent"}
    assert not headers & {"authorization", "cookie", "x-forwarded-for"}
    raw = b"".join(sentry.envelopes)
    for secret in (EMAIL, token, "secret-cookie", "203.0.113.9", LAST_NAME):
        assert secret.encode() not in raw, secret


def event_of(sentry: FakeSentry) -> dict[str, Any]:
    (event,) = sentry.events()
    return event


async def test_errors_a_client_caused_are_not_reported(session_factory, sentry) -> None:
    app = create_app(make_settings(sentry_dsn=SecretStr(sentry.dsn), max_query_cost=5))
    async with running(app, session_factory) as http:
        codes = []
        for body, headers in (
            ({"query": "query { me { email "}, {}),  # does not parse
            ({"query": ME}, {"Authorization": "Bearer not-a-token"}),
            ({"query": PRODUCTS.replace("first: 2", "first: 100")}, {}),  # over the cost
        ):
            answer = await http.post("/graphql", json=body, headers=headers)
            codes.append(answer.json()["errors"][0]["extensions"]["code"])
    sentry_sdk.flush(timeout=5)

    assert codes == ["GRAPHQL_PARSE_FAILED", "UNAUTHENTICATED", "QUERY_TOO_COSTLY"]
    assert sentry.events() == []


def test_scrub_blanks_addresses_everywhere_and_keeps_the_user_id_only() -> None:
    event = {
        "message": "mail a@b.example failed",
        "request": {
            "data": {"email": "a@b.example"},
            "cookies": {"s": "1"},
            "url": "/graphql",
            "headers": {"Authorization": "[Filtered]", "X-Shop-Secret": "s", "Accept": "*/*"},
        },
        "user": {"id": "5", "email": "a@b.example", "ip_address": "1.2.3.4"},
        "breadcrumbs": {"values": [{"message": "to c.d@e.example"}]},
    }

    scrubbed = scrub(event, {})

    assert scrubbed["message"] == f"mail {REDACTED} failed"
    assert scrubbed["request"] == {"url": "/graphql", "headers": {"Accept": "*/*"}}
    assert scrubbed["user"] == {"id": "5"}
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == f"to {REDACTED}"

"""Prometheus metrics: what the API and the worker do, at /metrics (docs/operations.md).

The series live in prometheus-client's default registry (with its process and GC
collectors), one set per process: scale by processes (pods), each scraped on its own.
Every label takes values from a closed set, so no client can grow the number of series:
routes are the app's route templates, error codes are coded, operation names are capped
(METRICS_MAX_OPERATION_NAMES, then "other").
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from graphql import GraphQLError
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from app.settings import Settings

log = logging.getLogger(__name__)

OUTBOX_SAMPLE_SECONDS = 15.0
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,47}")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_COST_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000)

HTTP_REQUESTS = Counter(
    "commerce_http_requests", "HTTP requests answered.", ("route", "method", "status")
)
HTTP_DURATION = Histogram(
    "commerce_http_request_duration_seconds",
    "Time from the request to the end of the answer.",
    ("route", "method"),
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_OPERATIONS = Counter(
    "commerce_graphql_operations",
    "GraphQL operations run, over HTTP and WebSocket.",
    ("operation_name", "operation_type", "outcome"),
)
GRAPHQL_DURATION = Histogram(
    "commerce_graphql_operation_duration_seconds",
    "Time of a GraphQL operation: parse, validate, execute.",
    ("operation_type",),
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter("commerce_graphql_errors", "GraphQL errors by extensions.code.", ("code",))
QUERY_COST = Histogram(
    "commerce_graphql_query_cost",
    "Requested cost of the operations that passed validation.",
    ("operation_type",),
    buckets=_COST_BUCKETS,
)
OUTBOX_PENDING = Gauge("commerce_outbox_pending_messages", "Notifications waiting or being sent.")
OUTBOX_OLDEST_AGE = Gauge(
    "commerce_outbox_oldest_pending_age_seconds",
    "Age of the oldest notification not yet sent (0 when none waits).",
)
OUTBOX_DEAD = Gauge("commerce_outbox_dead_messages", "Notifications that gave up.")
WEBHOOK_EVENTS = Counter(
    "commerce_webhook_events",
    "Payment webhook calls by provider and result (the inbox status or the error code).",
    ("provider", "result"),
)
ORDERS_PLACED = Counter("commerce_orders_placed", "Orders placed (committed).", ("currency",))
ORDER_REVENUE = Counter(
    "commerce_order_revenue_minor_units",
    "Order totals in minor units (cents), counted when an order becomes paid.",
    ("currency",),
)
CACHE_REQUESTS = Counter(
    "commerce_response_cache_requests",
    "Anonymous requests the public response cache answered (hit) or passed on (miss).",
    ("result",),
)


def code_label(code: object) -> str:
    return code if isinstance(code, str) and _CODE.fullmatch(code) else "OTHER"


class _OperationNames:
    """The first `limit` distinct operation names seen; every later one is "other"."""

    def __init__(self) -> None:
        self.limit = 200
        self.seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self.seen:
            return name
        if not _NAME.fullmatch(name) or len(self.seen) >= self.limit:
            return "other"
        self.seen.add(name)
        return name


OPERATION_NAMES = _OperationNames()


def count_errors(errors: Iterable[GraphQLError]) -> None:
    for error in errors:
        GRAPHQL_ERRORS.labels(code_label((error.extensions or {}).get("code"))).inc()


class GraphQLMetrics(SchemaExtension):
    """Counts and times each operation; first in the list, so it sees the errors' codes."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except GraphQLError as escaped:  # a syntax error leaves the parsing hook as raised
            self._record(started, [escaped])
            raise
        result = self.execution_context.result
        self._record(started, list(getattr(result, "errors", None) or ()))

    def _record(self, started: float, errors: list[GraphQLError]) -> None:
        execution = self.execution_context
        try:
            kind = execution.operation_type.value
        except Exception:  # no operation to run: the document did not parse or name one
            kind = "unknown"
        GRAPHQL_DURATION.labels(kind).observe(time.perf_counter() - started)
        name = OPERATION_NAMES.label(execution.operation_name)
        GRAPHQL_OPERATIONS.labels(name, kind, "error" if errors else "ok").inc()
        count_errors(errors)


class HTTPMetrics:
    """Counts and times every HTTP request by route template, method and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            HTTP_REQUESTS.labels(path, method, str(status)).inc()
            HTTP_DURATION.labels(path, method).observe(time.perf_counter() - started)


class _PoolCollector(Collector):
    """Connections of the process's engines, read when scraped."""

    def __init__(self) -> None:
        self.engines: weakref.WeakSet[AsyncEngine] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        used = GaugeMetricFamily(
            "commerce_db_pool_connections", "Database connections by state.", labels=["state"]
        )
        size = GaugeMetricFamily("commerce_db_pool_size", "Connections the pool keeps open.")
        totals = {"checked_out": 0, "idle": 0, "overflow": 0}
        capacity = 0
        for engine in list(self.engines):
            pool: Any = engine.sync_engine.pool
            with suppress(AttributeError):  # a pool class without counters (NullPool)
                totals["checked_out"] += pool.checkedout()
                totals["idle"] += pool.checkedin()
                totals["overflow"] += max(pool.overflow(), 0)
                capacity += pool.size()
        for state, value in totals.items():
            used.add_metric([state], value)
        size.add_metric([], capacity)
        yield used
        yield size


POOLS = _PoolCollector()
REGISTRY.register(POOLS)


async def sample_outbox(engine: AsyncEngine) -> None:
    """Depth and age of the notification outbox (the due index answers the count)."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')),"
                    " coalesce(extract(epoch FROM now() - min(created_at)"
                    " FILTER (WHERE status IN ('pending', 'sending'))), 0),"
                    " count(*) FILTER (WHERE status = 'dead')"
                    " FROM notifications WHERE status IN ('pending', 'sending', 'dead')"
                )
            )
        ).one()
    OUTBOX_PENDING.set(row[0])
    OUTBOX_OLDEST_AGE.set(float(row[1]))
    OUTBOX_DEAD.set(row[2])


async def _sample_forever(engine: AsyncEngine, every: float) -> None:
    while True:
        try:
            await sample_outbox(engine)
        except Exception as exc:  # the database away: the gauges keep their last value
            log.warning("sampling the outbox for metrics failed: %s", exc)
        await asyncio.sleep(every)


@asynccontextmanager
async def observe(settings: Settings, engine: AsyncEngine) -> AsyncIterator[None]:
    """While the process runs: the pool read at each scrape, the outbox sampled every 15 s,
    and /metrics on METRICS_PORT when one is set."""
    if not settings.metrics_enabled:
        yield
        return
    OPERATION_NAMES.limit = settings.metrics_max_operation_names
    POOLS.engines.add(engine)
    sampler = asyncio.create_task(_sample_forever(engine, OUTBOX_SAMPLE_SECONDS))
    server = None
    if settings.metrics_port is not None:
        host = settings.metrics_host or settings.host
        server, _ = start_http_server(settings.metrics_port, addr=host)
        log.info("metrics on http://%s:%s/metrics", host, settings.metrics_port)
    try:
        yield
    finally:
        sampler.cancel()
        with suppress(asyncio.CancelledError):
            await sampler
        POOLS.engines.discard(engine)
        if server is not None:
            server.shutdown()
            server.server_close()


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics on the main port (only when METRICS_PORT is unset)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

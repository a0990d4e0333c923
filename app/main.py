"""The Starlette application: /graphql (HTTP + WebSocket), /webhooks/*, /healthz, /readyz,
/metrics (unless METRICS_PORT serves it apart), /unsubscribe."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from app.client_address import ClientAddressMiddleware
from app.invoice_links import download_invoice
from app.logs import RequestIdMiddleware
from app.metrics import HTTPMetrics, metrics_endpoint, observe
from app.observability import instrument_app, start_error_tracking, tracer_provider
from app.resources import Resources, open_resources
from app.schema import build_schema
from app.settings import Settings
from app.unsubscribe import unsubscribe
from app.view import GraphQLView
from app.webhooks import ROUTES as WEBHOOK_ROUTES

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def _check_database(resources: Resources) -> str:
    async with resources.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return "ok"


async def _check_redis(resources: Resources) -> str:
    assert resources.redis is not None
    await resources.redis.ping()
    return "ok"


async def readyz(request: Request) -> JSONResponse:
    """Readiness: the database and (when configured) Redis answer within 2 s."""
    resources: Resources = request.app.state.resources
    checks = {"database": _check_database(resources)}
    if resources.redis is not None:
        checks["redis"] = _check_redis(resources)
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            results[name] = await asyncio.wait_for(check, READY_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("readiness check %s failed: %s", name, exc)
            results[name] = "unavailable"
    ready = all(value == "ok" for value in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "unready", "checks": results},
        status_code=200 if ready else 503,
    )


@asynccontextmanager
async def _listening(resources: Resources, graphql: GraphQLView) -> AsyncIterator[None]:
    """With a shared response cache, this process hears every process's public changes."""
    if resources.shared_answers is None:
        yield
        return
    subscribed = asyncio.Event()
    listener = asyncio.create_task(
        resources.shared_answers.listen(graphql.cache, subscribed=subscribed)
    )
    with suppress(TimeoutError):  # serve without it rather than not at all: Redis may be away
        await asyncio.wait_for(subscribed.wait(), READY_TIMEOUT_SECONDS)
    try:
        yield
    finally:
        listener.cancel()
        with suppress(asyncio.CancelledError):
            await listener


def create_app(
    settings: Settings | None = None, *, span_processor: SpanProcessor | None = None
) -> Starlette:
    """The ASGI app for `settings` (default: from the environment); `span_processor` traces
    into it instead of OTLP (tests)."""
    settings = settings or Settings()
    start_error_tracking(settings)
    tracing = tracer_provider(settings, span_processor)
    graphql = GraphQLView(build_schema(settings, tracing), settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            open_resources(settings) as resources,
            observe(settings, resources.engine),
            _listening(resources, graphql),
        ):
            app.state.resources = resources
            # What exists now lives as long as the process: keep it out of the cyclic
            # collector's full passes, which otherwise scan it all (about 80 ms here).
            gc.collect()
            gc.freeze()
            yield

    app = Starlette(
        debug=False,
        routes=[
            Route("/graphql", graphql),  # every method: the view answers others with a coded 405
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/unsubscribe", unsubscribe, methods=["GET", "POST"]),
            *WEBHOOK_ROUTES,
            Route("/invoices/{invoice_id:int}/pdf", download_invoice, methods=["GET"]),
            *(
                [Route("/metrics", metrics_endpoint, methods=["GET"])]
                if settings.metrics_enabled and settings.metrics_port is None
                else []
            ),
        ],
        middleware=[
            Middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxies),
            Middleware(RequestIdMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            ),
            # Innermost: the router has put the matched route in the scope it sees.
            *([Middleware(HTTPMetrics)] if settings.metrics_enabled else []),
        ],
        lifespan=lifespan,
    )
    instrument_app(app, tracing)
    app.state.settings = settings
    app.state.graphql = graphql
    return app

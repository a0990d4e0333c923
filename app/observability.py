"""Tracing (OpenTelemetry) and error tracking (Sentry), each on only when configured.

Tracing: with OTEL_EXPORTER_OTLP_ENDPOINT set, spans of the HTTP request (Starlette), the
GraphQL operation and its resolvers (Strawberry's extension, without argument values), every
SQL statement (asyncpg, without parameters), Redis commands and outbound HTTP (httpx) go
over OTLP/HTTP to that collector. Nothing is imported or patched otherwise.

Errors: with SENTRY_DSN set, unexpected errors (every ERROR log record with its exception,
which is how app/schema.py reports a resolver's bug) go to Sentry, named by GraphQL
operation; personal data is kept out (see `scrub`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from app.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from starlette.applications import Starlette
    from strawberry.extensions import SchemaExtension

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+\.[A-Za-z]{2,}")
REDACTED = "[redacted]"
SAFE_HEADERS = frozenset(
    {"accept", "content-type", "content-length", "host", "user-agent", "x-request-id"}
)
# Besides sentry-sdk's own list (passwords, tokens, secrets, cookies, authorization...).
PERSONAL_KEYS = [
    "email",
    "phone",
    "first_name",
    "last_name",
    "firstName",
    "lastName",
    "street",
    "street_address_1",
    "street_address_2",
    "streetAddress1",
    "streetAddress2",
    "postal_code",
    "postalCode",
    "recipient",
    "variables",
    "x-forwarded-for",
    "x-real-ip",
]


# -- tracing -----------------------------------------------------------------------------


def _traces_endpoint(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def tracer_provider(
    settings: Settings, processor: SpanProcessor | None = None
) -> TracerProvider | None:
    """The process's tracer provider: OTLP when an endpoint is set (or `processor`, which
    tests give); None when tracing is off. Also instruments asyncpg, Redis and httpx."""
    if processor is None and not settings.otel_exporter_otlp_endpoint:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": settings.otel_service_name})
    provider = TracerProvider(resource=resource)
    if processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        assert settings.otel_exporter_otlp_endpoint
        endpoint = _traces_endpoint(settings.otel_exporter_otlp_endpoint)
        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
        trace.set_tracer_provider(provider)  # the process's own; tests keep theirs apart
        log.info("tracing to %s", endpoint)
    provider.add_span_processor(processor)
    for instrumentor in _instrumentors():
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    return provider


def _instrumentors() -> tuple[Any, ...]:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    return (
        AsyncPGInstrumentor(),  # type: ignore[no-untyped-call]
        RedisInstrumentor(),
        HTTPXClientInstrumentor(),
    )


def stop_tracing() -> None:
    """Undo the library patches (tests that traced call it)."""
    for instrumentor in _instrumentors():
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def _no_arguments(arguments: dict[str, Any], info: Any) -> dict[str, Any]:
    return {}  # argument values hold passwords, emails and addresses: never in a span


def tracing_extension(provider: TracerProvider) -> type[SchemaExtension] | Any:
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return lambda: OpenTelemetryExtension(arg_filter=_no_arguments, tracer_provider=provider)


def instrument_app(app: Starlette, provider: TracerProvider | None) -> None:
    if provider is None:
        return
    # Probes and scrapes every few seconds would drown the traces; read at import.
    os.environ.setdefault("OTEL_PYTHON_STARLETTE_EXCLUDED_URLS", "healthz,readyz,metrics")
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    StarletteInstrumentor.instrument_app(app, tracer_provider=provider)


def current_trace_id() -> str | None:
    """The trace id of the span running now, for log lines; None outside a trace."""
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - a dependency, but logs must never fail
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


# -- errors ------------------------------------------------------------------------------


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _EMAIL.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Sentry's before_send: no request body, cookies, query string, client address or
    headers beyond SAFE_HEADERS; the user by id only; email addresses blanked wherever text
    remains (messages, exception values, breadcrumbs)."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):  # an allowlist: a new header is left out, not leaked
            request["headers"] = {k: v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    return _redact(event)  # type: ignore[no-any-return]


def sentry_extension() -> type[SchemaExtension]:
    """Sentry's Strawberry extension for operation spans and names, without its per-field
    hook: a span per resolved field would cost every request (docs/decisions.md)."""
    import sentry_sdk
    from sentry_sdk.integrations.strawberry import SentryAsyncExtension
    from strawberry.extensions import SchemaExtension

    class SentryOperations(SentryAsyncExtension):
        resolve = SchemaExtension.resolve  # type: ignore[assignment]

        def on_execute(self) -> Iterator[None]:
            # Events name the operation (the transaction stays the route, /graphql).
            from app.logs import request_id

            scope = sentry_sdk.get_isolation_scope()
            scope.set_tag("request_id", request_id.get())  # the X-Request-Id the client saw
            name = self.execution_context.operation_name
            if name:
                scope.set_tag("graphql.operation", name[:100])
            yield

    return SentryOperations


def start_error_tracking(settings: Settings, **options: Any) -> bool:
    """Initialise sentry-sdk once per process when SENTRY_DSN is set (tests pass a DSN of
    a local fake, `options` for the transport's tuning)."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.strawberry import StrawberryIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment or settings.environment,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        # send_default_pii stays at its default, off (passing it is deprecated).
        include_local_variables=False,  # locals hold the input that caused the error
        max_request_body_size="never",
        event_scrubber=EventScrubber(denylist=[*DEFAULT_DENYLIST, *PERSONAL_KEYS]),
        before_send=scrub,  # type: ignore[arg-type]
        before_breadcrumb=lambda crumb, hint: _redact(crumb),
        integrations=[StrawberryIntegration(async_execution=True)],
        **options,
    )
    return True


def identify_user(user_id: int) -> None:
    """Name the signed-in user in this request's Sentry events, by id only."""
    if error_tracking_enabled():
        import sentry_sdk

        sentry_sdk.set_user({"id": str(user_id)})


def error_tracking_enabled() -> bool:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover
        return False
    client = sentry_sdk.get_client()
    return client.is_active() and bool(client.options.get("dsn"))

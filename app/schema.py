"""Build the one strawberry.Schema from the domain modules in resolvers/."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxTokensLimiter, SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

import resolvers.accounts
import resolvers.cart
import resolvers.catalog
import resolvers.checkout
import resolvers.node
import resolvers.notifications
import resolvers.orders
import resolvers.payments
from app.document_cache import CachedParser, DocumentCache
from app.executor import fast_executor_for
from app.logs import LogContext
from app.metrics import GraphQLMetrics
from app.observability import error_tracking_enabled, sentry_extension, tracing_extension
from app.request_guard import GuardConfig, RequestGuard
from app.settings import Settings
from resolvers.catalog.types import answer_prefetched_directly

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("app.graphql")

# One line per domain; order matters only for field order in the SDL: node first, then A-Z.
DOMAINS = (
    resolvers.accounts,
    resolvers.cart,
    resolvers.catalog,
    resolvers.checkout,
    resolvers.notifications,
    resolvers.orders,
    resolvers.payments,
)
QUERIES = (resolvers.node.Query, *(domain.Query for domain in DOMAINS if domain.Query))
MUTATIONS = tuple(domain.Mutation for domain in DOMAINS if domain.Mutation)
SUBSCRIPTIONS = tuple(domain.Subscription for domain in DOMAINS if domain.Subscription)


def is_unexpected(error: GraphQLError) -> bool:
    """True for bugs: a field that raised an exception that is not a deliberate GraphQL error.

    Request errors (parsing, validation, variables) are the client's, whatever they wrap.
    """
    original = error.original_error
    return (
        error.path is not None and original is not None and not isinstance(original, GraphQLError)
    )


class CommerceSchema(strawberry.Schema):
    # Set per built schema: variable coercion errors name no enum values or fields
    # ("Did you mean ...") when introspection is off.
    hide_suggestions = False
    document_cache: DocumentCache | None = None

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        if self.hide_suggestions:
            kwargs["hide_suggestions"] = True
        return kwargs

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_unexpected(error):
                log.error(
                    "unexpected error in %s",
                    ".".join(str(part) for part in error.path or ()) or "operation",
                    exc_info=error.original_error,
                )
            else:
                log.info("graphql error: %s", error.message)


class MarkCacheable(SchemaExtension):
    """Tell the view whether this answer may be cached for every anonymous client."""

    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        context = execution.context
        if hasattr(context, "cacheable"):
            result = execution.result
            context.cacheable = (
                context.user is None
                and context.auth_error is None
                and not context.private_answer
                and execution.operation_type is OperationType.QUERY
                and result is not None
                and not result.errors
            )


def _extensions(
    settings: Settings, documents: DocumentCache, tracer_provider: TracerProvider | None
) -> list[Callable[[], SchemaExtension] | type[SchemaExtension]]:
    config = GuardConfig(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_query_aliases,
        max_cost=settings.max_query_cost,
        introspection=settings.introspection_enabled,
        max_variable_values=settings.max_query_tokens,
        max_fields=settings.max_query_fields,
    )
    # Metrics come first: their end-of-operation step runs last and sees every code. Then
    # the guard, whose end-of-operation step runs after masking.
    extensions: list[Any] = [GraphQLMetrics] if settings.metrics_enabled else []
    extensions += [
        lambda: RequestGuard(config=config, cache=documents),
        LogContext,
        MarkCacheable,
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: CachedParser(cache=documents),
    ]
    if not settings.debug_enabled:
        extensions.append(lambda: MaskErrors(should_mask_error=is_unexpected))
    if tracer_provider is not None:
        extensions.append(tracing_extension(tracer_provider))
    if error_tracking_enabled():
        extensions.append(sentry_extension())
    return extensions


@cache
def _types_schema() -> CommerceSchema:
    """The type system, converted once per process: Strawberry's relay fields are
    bound to the schema that converts them, so a second conversion would fail."""
    schema = CommerceSchema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS),
        subscription=merge_types("Subscription", SUBSCRIPTIONS),
    )
    answer_prefetched_directly(schema._schema)
    return schema


def build_schema(
    settings: Settings | None = None, tracer_provider: TracerProvider | None = None
) -> strawberry.Schema:
    """The schema with the limits, masking and tracing `settings` ask for."""
    settings = settings or Settings()
    schema = copy.copy(_types_schema())
    schema.document_cache = DocumentCache()  # shared by this schema's requests
    schema.extensions = tuple(_extensions(settings, schema.document_cache, tracer_provider))
    schema.hide_suggestions = not settings.introspection_enabled
    if settings.fast_execution:
        schema.execution_context_class = fast_executor_for(schema._schema)
    return schema


def export_sdl() -> str:
    """The SDL of the public schema; independent of settings."""
    return _types_schema().as_str() + "\n"

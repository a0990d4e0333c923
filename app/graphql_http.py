"""GraphQL over HTTP (POST and GET /graphql), as the GraphQL-over-HTTP spec says.

- The answer's media type is negotiated from `Accept`: `application/graphql-response+json`
  when the client accepts it, else `application/json` (also for a missing Accept or
  `*/*`); 406 when it accepts neither.
- With `application/graphql-response+json`, a request error (the document did not parse
  or validate, was too costly, throttled; no execution happened) is a 4xx without `data`;
  with `application/json` it stays 200, for clients older than the spec.
- Malformed requests are 4xx with a coded error in either media type: a body that is not
  a JSON object, a wrong parameter type, no query (400), a mutation over GET (405,
  `Allow: POST`), a subscription over HTTP (400), a wrong content type (415), a body over
  MAX_REQUEST_BYTES (413). These checks run before the public response cache, so a
  cached and an executed answer to the same request have the same status and headers.
- Execution is bounded by REQUEST_TIMEOUT_SECONDS (503 REQUEST_TIMEOUT).
- A persisted query (app/persisted_queries.py) is resolved to its document right after the
  request is read, before the cache; public answers carry `Cache-Control: public` and an
  ETag, GET answers 304 to a matching If-None-Match (app/http_caching.py).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from app.cost_budget import client_key
from app.graphql_request import (
    CONTENT_TYPES,
    JSON,
    GraphQLRequest,
    HttpProblem,
    negotiate,
    read_request,
)
from app.http_caching import NOT_STORED, none_match, public_headers, send_not_modified
from app.metrics import CACHE_REQUESTS
from app.persisted_queries import persisted_queries
from app.response_cache import CachedAnswer, ResponseCache, Tags
from app.response_cache_shared import SharedAnswers, shared_get, shared_put
from app.settings import Settings

if TYPE_CHECKING:
    from app.view import GraphQLView

log = logging.getLogger(__name__)


def is_request_error(result: ExecutionResult) -> bool:
    """No execution happened: no data, and no error belongs to a field."""
    return result.data is None and all(error.path is None for error in result.errors or ())


def result_status(result: ExecutionResult, media: str) -> int:
    if media == JSON or not is_request_error(result):
        return 200
    codes = [(error.extensions or {}).get("code") for error in result.errors or ()]
    if "THROTTLED" in codes:
        return 429
    if "INTERNAL_SERVER_ERROR" in codes:
        return 500
    return 400


def encode_body(result: ExecutionResult) -> bytes:
    """The answer without `extensions` (those are per client; see `with_extensions`)."""
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if not is_request_error(result):
        body["data"] = result.data
    return orjson.dumps(body)


def with_extensions(body: bytes, extensions: dict[str, Any] | None) -> bytes:
    if not extensions:
        return body
    separator = b"," if len(body) > 2 else b""
    return body[:-1] + separator + b'"extensions":' + orjson.dumps(extensions) + b"}"


def problem_body(problem: HttpProblem) -> bytes:
    return orjson.dumps(
        {"errors": [{"message": problem.message, "extensions": {"code": problem.code}}]}
    )


def is_public(headers: dict[bytes, bytes], cacheable: bool, status: int) -> bool:
    """The same for every anonymous client: the response cache keeps it, CDNs may."""
    return cacheable and status == 200 and b"authorization" not in headers


async def send_response(
    send: Send, status: int, body: bytes, media: str, headers: dict[str, str] | None = None
) -> None:
    raw = [
        (b"content-type", CONTENT_TYPES.get(media, b"application/json")),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class GraphQLHTTPHandler:
    """The HTTP half of /graphql; WebSocket and GraphiQL stay with the Strawberry view."""

    def __init__(self, view: GraphQLView, settings: Settings, cache: ResponseCache) -> None:
        self.view = view
        self.settings = settings
        self.cache = cache

    async def execute(
        self, scope: Scope, receive: Receive, request: GraphQLRequest, media: str
    ) -> tuple[int, bytes, dict[str, Any] | None, dict[str, str], bool, Tags]:
        """(status, body without extensions, extensions, headers, cacheable, what it read)."""
        http_request = Request(scope, receive)
        context = await self.view.get_context(http_request, None)  # type: ignore[arg-type]
        allowed = (
            {OperationType.QUERY}
            if scope["method"] == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        try:
            result = await asyncio.wait_for(
                self.view.schema.execute(
                    request.query,
                    variable_values=request.variables,
                    context_value=context,
                    operation_name=request.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request.extensions,
                ),
                timeout=self.settings.request_timeout_seconds,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION:
                raise HttpProblem(
                    405, "METHOD_NOT_ALLOWED", "Send mutations with POST.", {"Allow": "POST"}
                ) from None
            raise HttpProblem(
                400,
                "OPERATION_NOT_SUPPORTED",
                "Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql.",
            ) from None
        except CannotGetOperationTypeError as exc:  # a request error like any other
            reason = GraphQLError(exc.as_http_error_reason(), extensions={"code": "BAD_REQUEST"})
            result = ExecutionResult(data=None, errors=[reason])
        except MissingQueryError:
            raise HttpProblem(
                400, "BAD_REQUEST", "No GraphQL query found in the request."
            ) from None
        except TimeoutError:
            log.warning("request stopped after %s s", self.settings.request_timeout_seconds)
            raise HttpProblem(
                503, "REQUEST_TIMEOUT", "The request took too long and was stopped."
            ) from None
        finally:
            try:
                await context.close()
            except Exception:  # a statement cut off by the timeout leaves a broken connection
                log.warning("closing the request's session failed", exc_info=True)
        if request.persist_as is not None and request.query and not is_request_error(result):
            await persisted_queries(scope).keep(request.persist_as, request.query)
        headers: dict[str, str] = {}
        for error in result.errors or ():
            retry = (error.extensions or {}).get("retryAfter")
            if retry is not None:
                headers["Retry-After"] = str(retry)
        return (
            result_status(result, media),
            encode_body(result),
            result.extensions,
            headers,
            context.cacheable,
            context.public_read_tags(),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
        headers = dict(scope["headers"])
        media = JSON
        try:
            if scope["method"] not in ("GET", "POST"):
                raise HttpProblem(
                    405, "METHOD_NOT_ALLOWED", "Use GET or POST.", {"Allow": "GET, POST"}
                )
            media = negotiate(headers.get(b"accept", b"").decode("latin-1"))
            content_type = headers.get(b"content-type", b"").decode("latin-1") or None
            request = read_request(scope["method"], content_type, body, Request(scope).query_params)
            request = await persisted_queries(scope).resolve(request)
            await self._answer(scope, receive, send, request, media, body)
        except HttpProblem as problem:
            extra = {**NOT_STORED, **problem.headers}
            await send_response(send, problem.status, problem_body(problem), media, extra)
        except Exception:
            log.exception("unexpected error serving /graphql")
            await send_response(send, 500, UNEXPECTED_ERROR, media, NOT_STORED)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: GraphQLRequest,
        media: str,
        body: bytes,
    ) -> None:
        headers = dict(scope["headers"])
        cache = self.cache if self.cache.enabled and b"authorization" not in headers else None
        if cache is None:
            status, answer, extensions, extra, cacheable, _ = await self.execute(
                scope, receive, request, media
            )
            public = is_public(headers, cacheable, status)
            await self._send(scope, send, status, answer, extensions, media, public, extra)
            return
        key = cache.key(scope["method"], media.encode() + b"\0" + scope["query_string"], body)
        cached = cache.get(key)
        waiter = cache.waiter(key) if cached is None else None
        if waiter is not None:
            cached = await asyncio.shield(waiter)
        shared: SharedAnswers | None = scope["app"].state.resources.shared_answers
        generation = b""
        if cached is None and shared is not None:
            cached, generation = await shared_get(shared, key)
            if cached is not None:
                cache.put(key, cached)  # its reads unknown here: any public change drops it
        if cached is not None:
            CACHE_REQUESTS.labels("hit").inc()
            extensions = await self._hit_extensions(scope, cached)
            hit = {"x-cache": "hit"}
            await self._send(scope, send, 200, cached.body, extensions, media, True, hit)
            return
        CACHE_REQUESTS.labels("miss").inc()
        flight = cache.lead(key)
        stored: CachedAnswer | None = None
        tags: Tags = None
        try:
            status, answer, extensions, extra, cacheable, tags = await self.execute(
                scope, receive, request, media
            )
            if is_public(headers, cacheable, status):
                requested = ((extensions or {}).get("cost") or {}).get("requestedQueryCost", 0)
                stored = CachedAnswer(answer, requested)
        finally:
            cache.finish(key, flight, stored, tags)
        miss = {"x-cache": "miss", **extra}
        await self._send(scope, send, status, answer, extensions, media, stored is not None, miss)
        if stored is not None and shared is not None:
            await shared_put(shared, key, stored, tags, generation)

    async def _send(
        self,
        scope: Scope,
        send: Send,
        status: int,
        answer: bytes,
        extensions: dict[str, Any] | None,
        media: str,
        public: bool,
        extra: dict[str, str],
    ) -> None:
        """The answer with its caching headers; 304 to a GET whose If-None-Match names it."""
        if not public:
            body = with_extensions(answer, extensions)
            await send_response(send, status, body, media, {**extra, **NOT_STORED})
            return
        caching = public_headers(media, answer, self.settings.http_max_age)
        if scope["method"] == "GET" and none_match(
            dict(scope["headers"]).get(b"if-none-match"), caching["ETag"]
        ):
            await send_not_modified(send, {**extra, **caching})
            return
        body = with_extensions(answer, extensions)
        await send_response(send, status, body, media, {**extra, **caching})

    async def _hit_extensions(self, scope: Scope, cached: CachedAnswer) -> dict[str, Any]:
        """A cached answer runs nothing, so it costs nothing; it still reports the budget."""
        cost: dict[str, Any] = {"requestedQueryCost": cached.requested_cost, "actualQueryCost": 0}
        budget = getattr(scope["app"].state.resources, "cost_budget", None)
        if budget is not None:
            client = scope.get("client")
            key = client_key(user_id=None, address=client[0] if client else None)
            cost["throttleStatus"] = (await budget.peek(key)).as_json()
        return {"cost": cost}


UNEXPECTED_ERROR = orjson.dumps(
    {"errors": [{"message": "Unexpected error.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
)

"""Reading a GraphQL-over-HTTP request: the media type to answer in, and the request's
parameters from a JSON body or GET's query string, each refused with a code when wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
NO_QUERY = "No GraphQL query found in the request."
CONTENT_TYPES = {
    GRAPHQL_RESPONSE: b"application/graphql-response+json; charset=utf-8",
    JSON: b"application/json",
}


class HttpProblem(Exception):
    """A request refused before GraphQL runs: an HTTP status and a coded error."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class GraphQLRequest:
    query: str | None  # None only for a persisted query named by its hash
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    # The hash to store `query` under once it ran without a request error
    # (app/persisted_queries.py).
    persist_as: str | None = None


def negotiate(accept: str | None) -> str:
    """The media type to answer in; HttpProblem(406) when the client takes neither."""
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        # On a tie the spec's own type wins; wildcards mean the legacy type.
        rank = {GRAPHQL_RESPONSE: (GRAPHQL_RESPONSE, 2), JSON: (JSON, 1)}.get(media)
        if rank is None and media in ("*/*", "application/*"):
            rank = (JSON, 0)
        if rank is None or not 0 < quality <= 1:
            continue
        candidate = (quality, rank[1], rank[0])
        if best is None or candidate > best:
            best = candidate
    if best is None:
        raise HttpProblem(
            406,
            "NOT_ACCEPTABLE",
            f"Accept {GRAPHQL_RESPONSE} or {JSON}.",
        )
    return best[2]


def _json_param(value: Any, name: str, *, from_text: bool) -> dict[str, Any] | None:
    if from_text and isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise HttpProblem(400, "BAD_REQUEST", f"`{name}` is not valid JSON.") from None
    if value is None or isinstance(value, dict):
        return value
    raise HttpProblem(400, "BAD_REQUEST", f"`{name}` must be an object or null.")


def parse_params(params: Any, *, from_text: bool) -> GraphQLRequest:
    """The GraphQL request in a JSON body (or GET parameters when `from_text`)."""
    if not isinstance(params, dict):
        raise HttpProblem(
            400, "BAD_REQUEST", "The request body must be a JSON object (batches are not served)."
        )
    extensions = _json_param(params.get("extensions"), "extensions", from_text=from_text)
    query = params.get("query")
    if query is None or query == "":
        if (extensions or {}).get("persistedQuery") is None:
            raise HttpProblem(400, "BAD_REQUEST", NO_QUERY)
        query = None  # named by its hash: app/persisted_queries.py finds the document
    elif not isinstance(query, str):
        raise HttpProblem(400, "BAD_REQUEST", "`query` must be a string.")
    name = params.get("operationName")
    if name == "" and from_text:
        name = None
    if name is not None and not isinstance(name, str):
        raise HttpProblem(400, "BAD_REQUEST", "`operationName` must be a string or null.")
    return GraphQLRequest(
        query=query,
        variables=_json_param(params.get("variables"), "variables", from_text=from_text),
        operation_name=name,
        extensions=extensions,
    )


def read_request(
    method: str, content_type: str | None, body: bytes, query_params: Any
) -> GraphQLRequest:
    if method == "GET":
        return parse_params(dict(query_params), from_text=True)
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in (JSON, "application/graphql+json"):
        raise HttpProblem(415, "UNSUPPORTED_MEDIA_TYPE", f"Send the request as {JSON}.")
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise HttpProblem(400, "BAD_REQUEST", "The request body is not valid JSON.") from None
    return parse_params(params, from_text=False)

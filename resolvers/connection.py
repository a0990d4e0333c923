"""Relay connections built from keyset pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay

from app.errors import UserError
from app.query_selection import selected_names
from app.services.pagination import PageRequest, SortKey, count_rows, fetch_page
from resolvers.base import ApiError, Info

NodeT = TypeVar("NodeT")
R = TypeVar("R")


@strawberry.type(description="One item of a list and its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque position, for `after` / `before`.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list (Relay connection).")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The items of this page.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page is in the list.")
    total_count: int | None = strawberry.field(
        default=None, description="Size of the whole filtered list."
    )


def build_connection(
    nodes: list[Any],
    cursors: list[str],
    *,
    has_next: bool,
    has_previous: bool,
    total_count: int | None = None,
) -> Connection[Any]:
    return Connection(
        edges=[Edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)],
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=total_count,
    )


async def as_query_error(call: Callable[[], Awaitable[R]]) -> R:
    """Run a read; a UserError (bad cursor, page too large) becomes a GraphQL error with a code."""
    try:
        return await call()
    except UserError as exc:
        error = ApiError(exc.message, exc.code.value)
        if exc.field and error.extensions is not None:
            error.extensions["field"] = exc.field
        raise error from None


def _selected(info: Info, *path: str) -> set[str]:
    raw = info._raw_info
    return selected_names(raw.field_nodes, raw.schema, raw.fragments, path)


def selects_total_count(info: Info) -> bool:
    """True when the query asks the connection for `totalCount` (it costs a COUNT).

    Our own walk, each fragment once: Strawberry's `selected_fields` expands a fragment
    at every spread, exponential for fragments that spread each other twice.
    """
    return "totalCount" in _selected(info)


def node_fields(info: Info) -> set[str]:
    """Names selected on `edges { node { ... } }` of this connection field (fragments included)."""
    return _selected(info, "edges", "node")


async def keyset_connection(
    info: Info,
    statement: Any,
    *,
    keys: list[SortKey],
    tag: str,
    page: PageRequest,
    node: Callable[[Any], Any],
) -> Connection[Any]:
    """One keyset page of `statement` as a connection of `node(row)`; bad paging arguments
    become GraphQL errors with a code. The session is used under the request's lock."""

    async def run() -> Connection[Any]:
        session = info.context.session
        total = None
        async with info.context.db_lock:
            result = await fetch_page(session, statement, keys=keys, page=page, tag=tag)
            if selects_total_count(info):
                total = await count_rows(session, statement)
        return build_connection(
            [node(row) for row in result.rows],
            result.cursors,
            has_next=result.has_next,
            has_previous=result.has_previous,
            total_count=total,
        )

    return await as_query_error(run)

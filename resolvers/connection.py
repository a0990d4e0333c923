"""Relay connections built from keyset pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from strawberry import relay

from app.query_selection import selected_names
from app.services.pagination import KeysetQuery, PageRequest, count_rows, fetch_page
from resolvers.base import Info, run_query

NodeT = TypeVar("NodeT")


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


class KeysetPage(Protocol):
    """What a service's page hands over (`pagination.Page`, `listing.ProductPage`)."""

    cursors: list[str]
    has_next: bool
    has_previous: bool


def page_connection(
    page: KeysetPage, nodes: list[Any], *, total_count: int | None = None
) -> Connection[Any]:
    """A keyset page of a service as a connection of `nodes` (one per row of the page)."""
    return build_connection(
        nodes,
        page.cursors,
        has_next=page.has_next,
        has_previous=page.has_previous,
        total_count=total_count,
    )


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
    query: KeysetQuery,
    *,
    page: PageRequest,
    node: Callable[[Any], Any],
) -> Connection[Any]:
    """One keyset page of a service's `query` as a connection of `node(row)`; bad paging
    arguments become GraphQL errors with a code."""
    result = await run_query(
        info, fetch_page, statement=query.statement, keys=query.keys, page=page, tag=query.tag
    )
    total = None
    if selects_total_count(info):
        total = await run_query(info, count_rows, statement=query.statement)
    return page_connection(result, [node(row) for row in result.rows], total_count=total)


async def counted_connection(
    info: Info,
    list_page: Callable[..., Awaitable[Any]],
    count: Callable[..., Awaitable[int]],
    *,
    page: PageRequest,
    node: Callable[[Any], Any],
    **filters: Any,
) -> Connection[Any]:
    """A page of the read service `list_page(page=page, **filters)` as a connection of
    `node(row)`; `count(**filters)` runs only when the query asks for `totalCount`."""
    result = await run_query(info, list_page, page=page, **filters)
    total = await run_query(info, count, **filters) if selects_total_count(info) else None
    return page_connection(result, [node(row) for row in result.rows], total_count=total)

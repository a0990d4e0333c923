"""Relay `node(id:)` / `nodes(ids:)` over every public Node type.

The IDs arrive as plain `ID` strings and go through resolvers.ids: a wrong ID of any
kind (malformed, unknown type, a type that is not a Node) answers null, exactly as
the ID of a missing object does.

Every `resolve_nodes` of ours is only called from here, with `required` left False, and
answers None for a miss. `relay.Node` declares it with overloads on `required`
(`required=True` promising no None), which a single async signature cannot match: hence
the one `type: ignore[override]` on each of them.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import cast as strawberry_cast
from strawberry.types.lazy_type import LazyType

from resolvers.base import ApiError, Info
from resolvers.ids import parse_node_id

MAX_NODES = 100


def node_type(info: Info, type_name: str) -> type[relay.Node] | None:
    """The Node class of a GraphQL type name; None for unknown names and non-Node types."""
    definition = info.schema.get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_interface:
        return None
    origin = definition.origin
    if isinstance(origin, LazyType):
        origin = origin.resolve_type()
    return origin if isinstance(origin, type) and issubclass(origin, relay.Node) else None


async def resolve_global_ids(info: Info, ids: list[str]) -> list[Any]:
    """The visible object behind each ID, in order; None where there is none."""
    wanted: dict[type[relay.Node], list[str]] = defaultdict(list)
    targets: list[tuple[type[relay.Node], str] | None] = []
    for value in ids:
        parsed = parse_node_id(value)
        cls = node_type(info, parsed[0]) if parsed else None
        if cls is None or parsed is None:
            targets.append(None)
            continue
        targets.append((cls, parsed[1]))
        wanted[cls].append(parsed[1])
    found: dict[tuple[type[relay.Node], str], Any] = {}
    for cls, keys in wanted.items():
        unique = list(dict.fromkeys(keys))
        nodes = cls.resolve_nodes(info=info, node_ids=unique)
        if inspect.isawaitable(nodes):  # every type of ours resolves asynchronously
            nodes = await nodes
        for key, node in zip(unique, nodes, strict=True):
            found[cls, key] = strawberry_cast(cls, node) if node is not None else None
    return [found.get(target) if target else None for target in targets]


@strawberry.type
class Query:
    @strawberry.field(description="Fetch any object by its global ID.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ID of the object.")],
    ) -> relay.Node | None:
        found: relay.Node | None = (await resolve_global_ids(info, [id]))[0]
        return found

    @strawberry.field(description="Fetch objects by global IDs.")
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="The IDs of the objects.")
        ],
    ) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            error = ApiError(f"At most {MAX_NODES} IDs at once.", "INVALID")
            assert error.extensions is not None
            error.extensions["field"] = "ids"
            raise error
        return await resolve_global_ids(info, list(ids))

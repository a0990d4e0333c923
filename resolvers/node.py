"""Relay `node(id:)` / `nodes(ids:)` over every public Node type."""

from __future__ import annotations

import strawberry
from strawberry import relay


@strawberry.type
class Query:
    node: relay.Node | None = relay.node(description="Fetch any object by its global ID.")
    nodes: list[relay.Node | None] = relay.node(description="Fetch objects by global IDs.")

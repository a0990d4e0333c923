"""What a document selects, merged as execution merges it: each fragment once, however
often it is spread. Gives the actual cost of an answer (the rules of app/query_cost.py
with the lengths the answer has) and the names a resolver's field selects, in linear time
(Strawberry's `info.selected_fields` expands a fragment at every spread).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.type import is_composite_type

from app.query_cost import COST_CEILING, base_cost, node_ids_cost

Collected = dict[str, list[tuple[FieldNode, GraphQLNamedType | None]]]


class FieldCollector:
    """The fields of merged selection sets by response key, with the type each was selected
    on, as execution merges them: each fragment at most once, whatever its spreads."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments
        self.cache: dict[tuple[int, ...], Collected] = {}

    def __call__(
        self, selections: Sequence[tuple[SelectionSetNode, GraphQLNamedType | None]]
    ) -> Collected:
        key = tuple(id(selection_set) for selection_set, _ in selections)
        found = self.cache.get(key)
        if found is not None:
            return found
        fields: Collected = {}
        visited: set[str] = set()
        stack = list(reversed(selections))
        while stack:
            selection_set, parent = stack.pop()
            for node in selection_set.selections:
                if isinstance(node, FieldNode):
                    response_key = node.alias.value if node.alias else node.name.value
                    fields.setdefault(response_key, []).append((node, parent))
                elif isinstance(node, InlineFragmentNode):
                    condition = node.type_condition
                    type_ = self.schema.get_type(condition.name.value) if condition else parent
                    stack.append((node.selection_set, type_))
                elif isinstance(node, FragmentSpreadNode):
                    name = node.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in visited:
                        visited.add(name)
                        type_ = self.schema.get_type(fragment.type_condition.name.value)
                        stack.append((fragment.selection_set, type_))
        self.cache[key] = fields
        return fields


def actual_cost(
    schema: GraphQLSchema,
    data: Any,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of an answer: the rules of `analyse`, with the lengths the answer has."""
    if not isinstance(data, dict):
        return 0
    collect = FieldCollector(schema, fragments)
    root = schema.get_root_type(operation.operation)
    total = 0
    Selections = list[tuple[SelectionSetNode, GraphQLNamedType | None]]
    # Per merged selection: (response key, what the field costs, the selections below it).
    # The same for every object a selection answers (every item of a page), so worked out
    # once per selection: the walk over the answer then only adds. Keyed by the identity
    # of the selections list, which the value keeps alive.
    Plan = list[tuple[str, int, Selections | None]]
    plans: dict[int, tuple[Selections, Plan]] = {}
    given = variables or {}

    def plan_of(selections: Selections) -> Plan:
        known = plans.get(id(selections))
        if known is not None:
            return known[1]
        plan: Plan = []
        for key, nodes in collect(selections).items():
            node, parent = nodes[0]
            definition = getattr(parent, "fields", {}).get(node.name.value)
            named = get_named_type(definition.type) if definition else None
            cost = base_cost(schema, parent, node.name.value, named)
            cost += node_ids_cost(parent, node, given)
            child: GraphQLNamedType | None = named if is_composite_type(named) else None
            subsets = [(n.selection_set, child) for n, _ in nodes if n.selection_set is not None]
            below = subsets if subsets and not node.name.value.startswith("__") else None
            plan.append((key, cost, below))
        plans[id(selections)] = (selections, plan)
        return plan

    # (an object of the answer, the selection sets that asked for it)
    stack: list[tuple[Any, Selections]] = [(data, [(operation.selection_set, root)])]
    while stack:
        value, selections = stack.pop()
        if isinstance(value, list):  # items of a list or page: no base of their own
            stack.extend((item, selections) for item in value)
            continue
        if not isinstance(value, dict):
            continue
        for key, cost, below in plan_of(selections):
            if key not in value:
                continue
            total += cost
            if below is not None:
                stack.append((value[key], below))
        if total >= COST_CEILING:
            return COST_CEILING
    return total


def selected_names(
    info_field_nodes: Sequence[FieldNode],
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    path: Sequence[str] = (),
) -> set[str]:
    """Names of the fields selected under `path` (field names) below these field nodes,
    fragments included once each: linear, unlike Strawberry's `selected_fields`."""
    collect = FieldCollector(schema, fragments)
    level = [(node.selection_set, None) for node in info_field_nodes if node.selection_set]
    for step in path:
        found = collect(level).values()
        level = [
            (node.selection_set, None)
            for nodes in found
            for node, _ in nodes
            if node.name.value == step and node.selection_set is not None
        ]
    return {node.name.value for nodes in collect(level).values() for node, _ in nodes}

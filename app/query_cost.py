"""Static measures of one GraphQL operation: depth and requested cost, in linear time.

Each fragment is measured once, in dependency order, and every spread reuses that
measure: a document whose fragments spread each other many times over costs one walk.

The cost model follows Shopify's: a leaf field costs 1, an object field 2 plus its
selection, a root mutation field 10 plus its selection. A list of objects costs 2 plus
its length times its selection: the number of `ids` it was given, else LIST_SIZE. A
connection (a type with `edges` and `pageInfo`) costs 2 plus its selection, with what
sits under `edges`/`nodes` counted once per item of the page (`first`/`last`, read from
the variables; 20 by default, at most 100). Introspection fields cost 1: the
introspection depth rule bounds them. `actual_cost` walks an answer with the same rules
and the real lengths.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type import is_composite_type

from app.services.pagination import DEFAULT_PAGE, MAX_PAGE

LIST_SIZE = 10  # assumed length of a list without paging arguments
MAX_IDS = 100  # most IDs one `ids:` list may carry
MUTATION_FIELD_COST = 10
OBJECT_COST = 2
COST_CEILING = 10**15  # costs saturate here: JSON numbers stay exact in every client
ITEM_FIELDS = ("edges", "nodes")


@dataclass(frozen=True)
class Measure:
    depth: int = 0  # a field with a selection is 1 + its deepest child; leaves are 0
    cost: int = 0
    item_cost: int = 0  # the part of `cost` under `edges`/`nodes`, repeated per page item

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            min(self.cost + other.cost, COST_CEILING),
            min(self.item_cost + other.item_cost, COST_CEILING),
        )


@dataclass(frozen=True)
class Analysis:
    depth: int
    cost: int
    too_many_ids: FieldNode | None  # the first `ids:` list over MAX_IDS


@lru_cache(maxsize=8)
def connection_types(schema: GraphQLSchema) -> frozenset[str]:
    """Names of the object types that are Relay connections."""
    return frozenset(
        name
        for name, type_ in schema.type_map.items()
        if isinstance(type_, GraphQLObjectType)
        and "edges" in type_.fields
        and "pageInfo" in type_.fields
    )


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def fragment_order(
    root: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[str]:
    """Fragments reachable from `root`, each after the fragments it spreads (cycles cut)."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False: in progress, True: done
    for start in dict.fromkeys(_spreads(root)):
        if start in state or start not in fragments:
            continue
        state[start] = False
        stack = [(start, iter(dict.fromkeys(_spreads(fragments[start].selection_set))))]
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[name] = True
                order.append(name)
            elif child not in state and child in fragments:
                state[child] = False
                stack.append((child, iter(dict.fromkeys(_spreads(fragments[child].selection_set)))))
    return order


def _int_value(node: Any, variables: Mapping[str, Any], default: int | None) -> int | None:
    if isinstance(node, IntValueNode):
        digits = node.value.lstrip("-")
        if len(digits) > 12:  # never parse thousands of digits; validation refuses it
            return None if node.value.startswith("-") else COST_CEILING
        return int(node.value)
    if isinstance(node, VariableNode):
        value = variables.get(node.name.value, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default
    return default


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        variable_defaults: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = {**variable_defaults, **variables}
        self.connections = connection_types(schema)
        self.measures: dict[str, Measure] = {}
        self.too_many_ids: FieldNode | None = None

    def selection(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, root_cost: int
    ) -> Measure:
        measure = Measure()
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                measure += self.field(node, parent, root_cost)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                measure += self.selection(node.selection_set, type_, root_cost)
            elif isinstance(node, FragmentSpreadNode):
                measure += self.measures.get(node.name.value, Measure())
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, base: int) -> Measure:
        name = node.name.value
        if name.startswith("__") or node.selection_set is None:
            return Measure(0, 1, 0)
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        named = get_named_type(definition.type) if definition else None
        sub = self.selection(
            node.selection_set, named if named and is_composite_type(named) else None, OBJECT_COST
        )
        depth = 1 + sub.depth
        if parent is not None and parent.name in self.connections and name in ITEM_FIELDS:
            # One item of the page; the connection field multiplies it.
            return Measure(depth, min(base + sub.cost, COST_CEILING), sub.cost)
        if named is not None and named.name in self.connections:
            size = self._page_size(node)
            cost = base + (sub.cost - sub.item_cost) + size * sub.item_cost
        elif definition is not None and is_list_type(get_nullable_type(definition.type)):
            cost = base + self._list_size(node) * sub.cost
        else:
            cost = base + sub.cost
        return Measure(depth, min(cost, COST_CEILING), 0)

    def _argument(self, node: FieldNode, name: str) -> Any:
        return next((arg.value for arg in node.arguments or () if arg.name.value == name), None)

    def _page_size(self, node: FieldNode) -> int:
        sizes = [
            _int_value(self._argument(node, name), self.variables, None)
            for name in ("first", "last")
        ]
        given = [size for size in sizes if size is not None]
        return min(max(max(given) if given else DEFAULT_PAGE, 0), MAX_PAGE)

    def _list_size(self, node: FieldNode) -> int:
        ids = self._argument(node, "ids")
        if ids is None:
            return LIST_SIZE
        if isinstance(ids, ListValueNode):
            count = len(ids.values)
        elif isinstance(ids, VariableNode):
            value = self.variables.get(ids.name.value)
            count = len(value) if isinstance(value, list) else 1
        else:
            count = 1
        if count > MAX_IDS and self.too_many_ids is None:
            self.too_many_ids = node
        return min(count, MAX_IDS)


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> Analysis:
    """Depth and requested cost of `operation` with these variables."""
    defaults = {
        definition.variable.name.value: _int_value(definition.default_value, {}, None)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    walker = _Walker(schema, fragments, variables or {}, defaults)
    for name in fragment_order(operation.selection_set, fragments):
        fragment = fragments[name]
        type_ = schema.get_type(fragment.type_condition.name.value)
        base = MUTATION_FIELD_COST if type_ is schema.mutation_type else OBJECT_COST
        walker.measures[name] = walker.selection(fragment.selection_set, type_, base)
    root = schema.get_root_type(operation.operation)
    root_cost = MUTATION_FIELD_COST if operation.operation is OperationType.MUTATION else 2
    measure = walker.selection(operation.selection_set, root, root_cost)
    return Analysis(depth=measure.depth, cost=measure.cost, too_many_ids=walker.too_many_ids)


class _Collected:
    """Fields of an object's merged selection sets, by response key (as execution merges)."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.cache: dict[tuple[int, ...], dict[str, list[FieldNode]]] = {}

    def __call__(self, selection_sets: Sequence[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        key = tuple(id(s) for s in selection_sets)
        found = self.cache.get(key)
        if found is not None:
            return found
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        stack = list(reversed(selection_sets))
        while stack:
            for node in stack.pop().selections:
                if isinstance(node, FieldNode):
                    response_key = node.alias.value if node.alias else node.name.value
                    fields.setdefault(response_key, []).append(node)
                elif isinstance(node, InlineFragmentNode):
                    stack.append(node.selection_set)
                elif isinstance(node, FragmentSpreadNode):
                    name = node.name.value
                    if name not in visited and name in self.fragments:
                        visited.add(name)
                        stack.append(self.fragments[name].selection_set)
        self.cache[key] = fields
        return fields


def actual_cost(
    data: Any,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> int:
    """The cost of an answer: the rules of `analyse`, with the lengths the answer has."""
    if not isinstance(data, dict):
        return 0
    collect = _Collected(fragments)
    root_cost = MUTATION_FIELD_COST if operation.operation is OperationType.MUTATION else 2
    total = 0
    # (value, its selection sets, base cost of the field holding it); lists add no base.
    stack: list[tuple[Any, list[SelectionSetNode], int]] = [(data, [operation.selection_set], -1)]
    while stack:
        value, selection_sets, base = stack.pop()
        if isinstance(value, list):
            total += max(base, 0)
            stack.extend((item, selection_sets, 0) for item in value)
            continue
        total += max(base, 0)
        if not isinstance(value, dict):
            continue
        child_base = root_cost if base == -1 else OBJECT_COST
        for key, nodes in collect(selection_sets).items():
            if key not in value:
                continue
            subsets = [node.selection_set for node in nodes if node.selection_set is not None]
            if not subsets or nodes[0].name.value.startswith("__"):
                total += 1
            else:
                stack.append((value[key], subsets, child_base))
        if total >= COST_CEILING:
            return COST_CEILING
    return total

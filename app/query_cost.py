"""Static measures of one GraphQL operation: depth and requested cost, in linear time.

Each fragment is measured once, in dependency order, and every spread reuses that
measure: a document whose fragments spread each other many times over costs one walk.

The cost model follows Shopify's. A leaf field costs 1. An object field costs 2 plus its
selection; a root mutation field 10; a connection 10 (each is a database query), a list
of objects 2, each plus its length times its selection: for a connection the page
(`first`/`last`, read from the variables; 20 by default, at most 100) times what sits
under `edges`/`nodes`, for a list the number of `ids` it was given, else LIST_SIZE.
Fields known to be heavy cost more (FIELD_COSTS: facets aggregate the whole catalog, an
introspection answer is the whole schema). app/query_selection.py walks an answer with
the same rules and the real lengths.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
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
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type import is_composite_type

from app.services.pagination import DEFAULT_PAGE, MAX_PAGE

LIST_SIZE = 10  # assumed length of a list without paging arguments
MAX_IDS = 100  # most IDs one `ids:` list may carry
OBJECT_COST = 2
CONNECTION_COST = 10
MUTATION_FIELD_COST = 10
# (parent type, field): base cost. Introspection answers are sized by the schema.
FIELD_COSTS = {
    ("Query", "productFacets"): 100,
    ("*", "__schema"): 1_000,
    ("*", "__type"): 100,
}
# Types each of whose objects costs this much whatever is selected of it: a cart is priced
# afresh on every read (about ten statements and a pricing run over up to CART_MAX_LINES
# lines, 5 to 60 ms), also when reached through `node`/`nodes` by its ID.
TYPE_COSTS = {"Cart": 200}
NODE_FIELDS = ("node", "nodes")
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


def base_cost(schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str, named: Any) -> int:
    """What a field costs before its selection: the same rule for asked and answered."""
    special = FIELD_COSTS.get(("*", name)) or FIELD_COSTS.get((parent.name if parent else "", name))
    if special:
        return special
    if name.startswith("__") or named is None or not is_composite_type(named):
        return 1
    if named.name in TYPE_COSTS:
        return TYPE_COSTS[named.name]
    if parent is not None and parent is schema.mutation_type:
        return MUTATION_FIELD_COST
    if named.name in connection_types(schema):
        return CONNECTION_COST
    return OBJECT_COST


def _id_type(value: object) -> str:
    """The type name a global ID names ("" when it is none)."""
    if not isinstance(value, str) or len(value) > 200:
        return ""
    try:
        text = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return ""
    return text.partition(":")[0]


def node_ids_cost(
    parent: GraphQLNamedType | None, node: FieldNode, variables: Mapping[str, Any]
) -> int:
    """What `node(id:)` / `nodes(ids:)` add for IDs of TYPE_COSTS types (a cart's ID says
    it is one: the field's type, Node, does not)."""
    if parent is None or parent.name != "Query" or node.name.value not in NODE_FIELDS:
        return 0
    given: list[object] = []
    for argument in node.arguments or ():
        value = argument.value
        if isinstance(value, VariableNode):
            found = variables.get(value.name.value)
            given.extend(found if isinstance(found, list) else [found])
        elif isinstance(value, ListValueNode):
            given.extend(v.value for v in value.values if isinstance(v, StringValueNode))
        elif isinstance(value, StringValueNode):
            given.append(value.value)
    return sum(TYPE_COSTS.get(_id_type(value), 0) for value in given[:MAX_IDS])


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
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**31:
            return int(value)  # GraphQL coerces 100.0 to the Int 100: so must the cost
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
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None
    ) -> Measure:
        measure = Measure()
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                measure += self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                type_ = self.schema.get_type(condition.name.value) if condition else parent
                measure += self.selection(node.selection_set, type_)
            elif isinstance(node, FragmentSpreadNode):
                measure += self.measures.get(node.name.value, Measure())
        return measure

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        name = node.name.value
        definition: GraphQLField | None = getattr(parent, "fields", {}).get(name)
        named = get_named_type(definition.type) if definition else None
        base = base_cost(self.schema, parent, name, named) + node_ids_cost(
            parent, node, self.variables
        )
        if name.startswith("__") or node.selection_set is None:
            return Measure(0, base, 0)
        sub = self.selection(node.selection_set, named if is_composite_type(named) else None)
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
        walker.measures[name] = walker.selection(fragment.selection_set, type_)
    root = schema.get_root_type(operation.operation)
    measure = walker.selection(operation.selection_set, root)
    return Analysis(depth=measure.depth, cost=measure.cost, too_many_ids=walker.too_many_ids)

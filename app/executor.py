"""A graphql-core executor that answers plain leaf fields without the per-field machinery.

Most fields of a storefront answer are leaves read straight off an object: a product's
name, a variant's SKU, a price's amount. graphql-core resolves each through the same path
as a field with a resolver: a `Path`, a `GraphQLResolveInfo` of fourteen parts, argument
coercion, the resolver call, awaitable checks, value completion. For a field Strawberry
itself calls "basic" (no resolver, no permission classes, no field extensions) whose type
is a scalar or an enum, the answer is `serialize(getattr(source, python_name))`, and that
is what this executor does, in `execute_fields`, before any of that machinery.

Exact semantics are kept by doing only the case that cannot differ: a value that is not
None serialises to a value that is not None. Anything else (None, an error, an awaitable,
a value the scalar refuses, a middleware that wants every field: tracing) goes down
graphql-core's normal path, which then raises or nulls exactly as it always did.
`tests/test_fast_executor.py` compares both executors' answers for a corpus of documents.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_STRAWBERRY = "strawberry-definition"


class PlainLeaf(NamedTuple):
    python_name: str
    serialize: Any
    nullable: bool


def plain_leaves(schema: GraphQLSchema) -> dict[str, dict[str, PlainLeaf]]:
    """Object type name -> field name -> how to answer it directly, for every basic leaf."""
    found: dict[str, dict[str, PlainLeaf]] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        fields: dict[str, PlainLeaf] = {}
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get(_STRAWBERRY)
            resolve = field.resolve
            if (
                definition is None
                or field.args
                or not definition.is_basic_field
                or not getattr(resolve, "_is_default", False)
                or getattr(resolve, "__name__", "") != "_get_basic_result"
            ):
                continue
            nullable = not isinstance(field.type, GraphQLNonNull)
            leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                fields[name] = PlainLeaf(definition.python_name, leaf.serialize, nullable)
        if fields:
            found[type_.name] = fields
    return found


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with plain leaves answered directly."""

    leaves: dict[str, dict[str, PlainLeaf]] = {}  # set per schema by `fast_executor_for`

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        # Strawberry always passes a manager; one with middlewares (tracing) sees every field.
        manager = self.middleware_manager
        plain = None if manager and manager.middlewares else self.leaves.get(parent_type.name)
        if plain is None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                leaf = plain.get(field_details_list[0].node.name.value)
                if leaf is not None:
                    value = _direct(leaf, source_value)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()


def _direct(leaf: PlainLeaf, source: Any) -> Any:
    """The serialised value, None for a null the type allows, or Undefined: take the
    normal path (which reports the error, or awaits, exactly as it would have)."""
    try:
        value = getattr(source, leaf.python_name)
    except Exception:
        return Undefined
    if value is None:
        return None if leaf.nullable else Undefined
    if isinstance(value, Exception) or hasattr(value, "__await__"):
        return Undefined
    try:
        serialized = leaf.serialize(value)
    except Exception:
        return Undefined
    return Undefined if serialized is None else serialized


def fast_executor_for(schema: GraphQLSchema) -> type[FastExecutor]:
    """A FastExecutor class bound to `schema`'s plain leaves."""
    return type("BoundFastExecutor", (FastExecutor,), {"leaves": plain_leaves(schema)})

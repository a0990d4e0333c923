"""The GraphQL request guard: bounded validation, cost limits and budgets, error codes.

One schema extension replaces Strawberry's depth and alias limiters (which re-walk a
fragment at every spread) and its validation step:
1. linear checks first: aliases counted once per node, no NUL or unpaired surrogate in
   any string of the document or the variables, depth and requested cost measured with
   each fragment once (app/query_cost.py);
2. graphql-core's rules (and the introspection ban when it is off), without "Did you
   mean" hints when introspection is off, their verdict kept with the parsed document
   (app/document_cache.py); the field-merging rule runs under a lowered budget;
3. the cost limit (QUERY_TOO_COSTLY) and the client's budget (THROTTLED).
After the operation it settles the budget to the answer's actual cost, reports
`extensions.cost` like Shopify's API, and gives every error without one a code.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    specified_rules,
    validate,
)
from graphql.validation import (
    DeferStreamDirectiveLabel,
    DeferStreamDirectiveOnRootField,
    DeferStreamDirectiveOnValidOperationsRule,
    NoSchemaIntrospectionCustomRule,
    StreamDirectiveOnListField,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from app.cost_budget import CostBudget, Throttled, ThrottleStatus, client_key
from app.document_cache import DocumentCache
from app.document_scan import BAD_TEXT_MESSAGE, MAX_NUMBER_LENGTH, scan_document, scan_variables
from app.metrics import QUERY_COST
from app.query_cost import MAX_IDS, analyse
from app.query_selection import actual_cost

log = logging.getLogger(__name__)

# graphql-core meters the field-merging rule (500,000 units by default, about 0.8 s of
# CPU here for a 5,000-token document). Documents without repeated response names spend
# nothing (our storefront scenarios, GraphiQL's introspection, fragment-heavy pages all
# measured 0), a few repeats spend hundreds; 5,000 bounds the rule near 8 ms.
OVERLAP_BUDGET = 5_000
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = OVERLAP_BUDGET

# Every request pays for its text before it is parsed, whatever becomes of it: a
# document refused after 80 ms of parsing and validation is not free (5,000 tokens are
# some 15,000 characters, about 940 points).
FEE_CHARS_PER_POINT = 16
DEFER_STREAM_RULES = (
    DeferStreamDirectiveLabel,
    DeferStreamDirectiveOnRootField,
    DeferStreamDirectiveOnValidOperationsRule,
    StreamDirectiveOnListField,
)


@dataclass(frozen=True)
class GuardConfig:
    max_depth: int
    max_aliases: int
    max_cost: int
    introspection: bool
    max_variable_values: int = 5_000
    max_fields: int = 1_000

    @property
    def rules(self) -> tuple[Any, ...]:
        # graphql-core's rules (its introspection depth rule included) without the four
        # @defer/@stream rules: the schema defines neither directive, so KnownDirectives
        # already refuses them, and every rule costs a pass over each node.
        rules = (
            *(rule for rule in specified_rules if rule not in DEFER_STREAM_RULES),
            MaybeNullValidationRule,
            OneOfInputValidationRule,
        )
        return rules if self.introspection else (*rules, NoSchemaIntrospectionCustomRule)


def _complexity_error(error: GraphQLError) -> GraphQLError:
    if error.message != "Validation aborted.":
        return error
    return GraphQLError(
        "The document is too complex to validate.", extensions={"code": "QUERY_TOO_COMPLEX"}
    )


def coded(message: str, code: str, nodes: Any = None, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code, **extensions})


class RequestGuard(SchemaExtension):
    """See the module docstring; one instance per operation."""

    def __init__(self, *, config: GuardConfig, cache: DocumentCache) -> None:
        self.config = config
        self.cache = cache
        self.requested = 0
        self.taken = 0  # points taken from the client's bucket so far
        self.fee = 0  # what reading the document costs, paid whatever happens next
        self.actual: int | None = None
        self.status: ThrottleStatus | None = None
        self.client: str | None = None
        self.operation: OperationDefinitionNode | None = None
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        self.validation_errors: list[GraphQLError] = []

    def _budget(self) -> CostBudget | None:
        return getattr(self.execution_context.context, "cost_budget", None)

    def _client(self) -> str:
        context = self.execution_context.context
        user = getattr(context, "user", None)
        request = getattr(context, "request", None)
        client = getattr(request, "client", None)
        return client_key(
            user_id=user.id if user is not None else None,
            address=client.host if client is not None else None,
        )

    async def on_parse(self) -> AsyncIterator[None]:
        budget = self._budget()
        query = self.execution_context.query or ""
        if budget is not None:
            fee = max(1, len(query) // FEE_CHARS_PER_POINT)
            self.client = self._client()
            try:
                self.status = await budget.take(self.client, fee)
            except Throttled as exc:  # refused before parsing: nothing taken
                self.status, self.client = exc.status, None
                raise _throttled(exc, fee) from None
            self.taken = self.fee = fee
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        assert document is not None
        # Linear checks first, the cost limit included: graphql-core's rules cost more.
        errors = self._static_errors(document) or self._cost_errors()
        if not errors:
            errors = self.cache.errors(ec.query or "", lambda: self._validate(document))
            self.validation_errors = errors
        if not errors:
            errors = await self._take_budget()
        ec.pre_execution_errors = errors
        yield

    def _validate(self, document: DocumentNode) -> list[GraphQLError]:
        errors = validate(
            self.execution_context.schema._schema,
            document,
            self.config.rules,
            hide_suggestions=not self.config.introspection,
        )
        for error in errors:  # coded here: WebSocket error messages carry them too
            _give_code(error, validation=True)
        return [_complexity_error(error) for error in errors]

    def _static_errors(self, document: Any) -> list[GraphQLError]:
        ec = self.execution_context
        walk = scan_document(document)
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        # Strawberry runs the first operation when none is named; the spec asks for a name.
        name = getattr(ec, "_provided_operation_name", None)
        if name is None and len(operations) > 1:
            return [
                coded(
                    "Must provide operation name if query contains multiple operations.",
                    "BAD_REQUEST",
                )
            ]
        if name is None:
            self.operation = operations[0] if operations else None
        else:
            self.operation = next(
                (op for op in operations if op.name and op.name.value == name), None
            )
        analysis = None
        if self.operation is not None:  # else graphql-core says what is wrong with it
            analysis = analyse(ec.schema._schema, self.operation, self.fragments, ec.variables)
            self.requested = analysis.cost
        if walk.empty_selection is not None:
            message = "Syntax Error: A selection set must select at least one field."
            return [coded(message, "GRAPHQL_PARSE_FAILED", [walk.empty_selection])]
        if walk.bad_text is not None:
            return [coded(BAD_TEXT_MESSAGE, "INVALID", [walk.bad_text])]
        if walk.long_number is not None:
            message = f"Numbers may have at most {MAX_NUMBER_LENGTH} characters."
            return [coded(message, "INVALID", [walk.long_number])]
        variables = scan_variables(ec.variables or {}, max_values=self.config.max_variable_values)
        if variables.bad_text is not None:
            return [coded(BAD_TEXT_MESSAGE, "INVALID", variable=variables.bad_text)]
        if variables.values > self.config.max_variable_values:
            limit = self.config.max_variable_values
            return [coded(f"Variables may hold at most {limit} values.", "INVALID")]
        if walk.fields > self.config.max_fields:
            return [_over("fields", walk.fields, self.config.max_fields, "TOO_MANY_FIELDS")]
        if walk.aliases > self.config.max_aliases:
            return [_over("aliases", walk.aliases, self.config.max_aliases, "TOO_MANY_ALIASES")]
        if analysis is not None and analysis.depth > self.config.max_depth:
            return [
                coded(
                    f"Query depth {analysis.depth} exceeds the maximum of {self.config.max_depth}.",
                    "QUERY_TOO_DEEP",
                    depth=analysis.depth,
                    maxDepth=self.config.max_depth,
                )
            ]
        if analysis is not None and analysis.too_many_ids is not None:
            return [
                coded(
                    f"`ids` takes at most {MAX_IDS} IDs.",
                    "INVALID",
                    [analysis.too_many_ids],
                    field="ids",
                )
            ]
        return []

    def _cost_errors(self) -> list[GraphQLError]:
        if self.requested <= self.config.max_cost:
            return []
        return [
            coded(
                f"Query cost {self.requested} exceeds the maximum of {self.config.max_cost}.",
                "QUERY_TOO_COSTLY",
                cost=self.requested,
                maxCost=self.config.max_cost,
            )
        ]

    async def _take_budget(self) -> list[GraphQLError]:
        budget = self._budget()
        extra = self.requested - self.taken
        if budget is None or self.client is None or extra <= 0:
            return []
        try:
            self.status = await budget.take(self.client, extra)
        except Throttled as exc:  # the fee stays taken: the document was read
            self.status = exc.status
            return [_throttled(exc, self.requested)]
        self.taken = self.requested
        return []

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        result = self.execution_context.result
        data = getattr(result, "data", None)
        schema = self.execution_context.schema._schema
        if self.operation is not None and data is not None:
            self.actual = actual_cost(
                schema, data, self.operation, self.fragments, self.execution_context.variables
            )
        else:
            self.actual = 0
        # A clean answer pays what it holds, and at least its fee. One with errors may
        # hold less than ran (a null bubbles up and hides the work): it pays at least what
        # it asked for. A cancelled one never gets here and keeps what it took.
        errors = getattr(result, "errors", None)
        final = max(self.actual, self.taken if errors else self.fee)
        budget = self._budget()
        if budget is not None and self.client is not None:
            self.status = await budget.settle(self.client, final - self.taken)

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as escaped:  # parsing runs in a hook: its syntax errors escape it
            _give_code(escaped, validation=False)
            raise
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or ():
            _give_code(error, validation=any(error is seen for seen in self.validation_errors))
        if self.operation is not None:
            QUERY_COST.labels(self.operation.operation.value).observe(self.requested)

    async def get_results(self) -> dict[str, Any]:
        if self.operation is not None and self.operation.operation is OperationType.SUBSCRIPTION:
            return {}  # events carry only data: the cost was counted when subscribing
        budget = self._budget()
        if self.status is None and budget is not None:
            self.status = await budget.peek(self.client or self._client())
        cost: dict[str, Any] = {
            "requestedQueryCost": self.requested,
            "actualQueryCost": self.actual or 0,
        }
        if self.status is not None:
            cost["throttleStatus"] = self.status.as_json()
        return {"cost": cost}


def _over(what: str, found: int, limit: int, code: str) -> GraphQLError:
    """`found` of `what` where `limit` is the most: e.g. 31 aliases of at most 30."""
    return coded(
        f"{found} {what} found; at most {limit} are allowed.",
        code,
        **{what: found, f"max{what.title()}": limit},
    )


def _throttled(exc: Throttled, cost: int) -> GraphQLError:
    return coded(
        f"Throttled: this request costs {cost} and the budget holds "
        f"{exc.status.as_json()['currentlyAvailable']}; try again in "
        f"{exc.retry_after} seconds.",
        "THROTTLED",
        retryAfter=exc.retry_after,
    )


def _give_code(error: GraphQLError, *, validation: bool) -> None:
    """An error without a code gets one from where it came from."""
    if error.extensions and "code" in error.extensions:
        return
    if isinstance(error, GraphQLSyntaxError):
        code = "GRAPHQL_PARSE_FAILED"
    elif validation:
        code = "GRAPHQL_VALIDATION_FAILED"
    elif error.path is None:  # a request error raised by execution
        code = "BAD_USER_INPUT" if error.message.startswith("Variable '$") else "BAD_REQUEST"
    else:
        code = "INTERNAL_SERVER_ERROR"
    error.extensions = {**(error.extensions or {}), "code": code}

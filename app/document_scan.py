"""One linear pass over a document and one over its variables, before graphql-core runs.

They find what must be refused whatever the schema says: strings PostgreSQL cannot store
(NUL, unpaired surrogates), absurd number literals, empty selection sets (the spec's
grammar forbids them; graphql-core 3.3 parses them, and a fragment that selects nothing
would cost nothing), too many aliases, and variables holding more values than a document
may hold tokens (GraphQL coerces every one of them before any limit of ours applies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FloatValueNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    SelectionSetNode,
    StringValueNode,
    VariableDefinitionNode,
)

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT_MESSAGE = "Text must not contain NUL characters or unpaired surrogates."
MAX_NUMBER_LENGTH = 64  # digits, sign, point and exponent: far beyond any 64-bit value


@dataclass
class DocumentScan:
    fields: int = 0  # field selections, each node once
    aliases: int = 0
    bad_text: StringValueNode | None = None
    long_number: IntValueNode | FloatValueNode | None = None
    empty_selection: Node | None = None


def scan_document(document: DocumentNode) -> DocumentScan:
    """Fields and aliases (each node once), bad strings, long numbers, empty selections."""
    scan = DocumentScan()
    stack: list[Any] = list(document.definitions)

    def selections(owner: Node, selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        if not selection_set.selections and scan.empty_selection is None:
            scan.empty_selection = owner
        stack.extend(selection_set.selections)

    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode):
            scan.fields += 1
            if node.alias is not None:
                scan.aliases += 1
            stack.extend(node.arguments or ())
            stack.extend(node.directives or ())
            selections(node, node.selection_set)
        elif isinstance(node, StringValueNode):
            if scan.bad_text is None and BAD_TEXT.search(node.value):
                scan.bad_text = node
        elif isinstance(node, IntValueNode | FloatValueNode):
            if scan.long_number is None and len(node.value) > MAX_NUMBER_LENGTH:
                scan.long_number = node
        elif isinstance(node, ArgumentNode | ObjectFieldNode):
            stack.append(node.value)
        elif isinstance(node, ListValueNode):
            stack.extend(node.values)
        elif isinstance(node, ObjectValueNode):
            stack.extend(node.fields)
        elif isinstance(node, DirectiveNode):
            stack.extend(node.arguments or ())
        elif isinstance(node, VariableDefinitionNode):
            if node.default_value is not None:
                stack.append(node.default_value)
            stack.extend(node.directives or ())
        elif isinstance(node, ExecutableDefinitionNode | InlineFragmentNode):
            stack.extend(getattr(node, "variable_definitions", None) or ())
            stack.extend(node.directives or ())
            selections(node, node.selection_set)
        elif isinstance(node, FragmentSpreadNode):
            stack.extend(node.directives or ())
    return scan


@dataclass(frozen=True)
class VariablesScan:
    bad_text: str | None  # the path of the first bad string or key, e.g. "$.input.name"
    values: int  # how many values (objects, lists and scalars) they hold, up to the limit


def scan_variables(variables: Any, *, max_values: int) -> VariablesScan:
    """Find the first bad string (keys included) and count values, stopping past the limit."""
    stack = [(variables, "$")]
    values = 0
    while stack and values <= max_values:
        item, where = stack.pop()
        values += 1
        if isinstance(item, str):
            if BAD_TEXT.search(item):
                return VariablesScan(where, values)
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and BAD_TEXT.search(key):
                    return VariablesScan(where, values)
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{index}") for index, child in enumerate(item))
    return VariablesScan(None, values)

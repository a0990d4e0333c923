"""Parsed documents and their validation verdicts, reused across requests, bounded in memory.

A parsed document weighs about 200 bytes per character of its text (a 5,000-token
document is some 2.5 MB of nodes, tokens and locations), so a cache bounded only by
count (Strawberry's ParserCache keeps 512) lets a client who sends distinct large
documents grow the heap by gigabytes and make every full garbage collection slower.
Entries are therefore bounded by count and by the total length of their texts, and a
document longer than MAX_ENTRY_CHARS is never kept: it is parsed and validated anew
each time, which the token limit and the request guard keep cheap.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

MAX_ENTRIES = 512
MAX_TOTAL_CHARS = 128 * 1024  # about 25 MB of syntax trees at worst
MAX_ENTRY_CHARS = 4 * 1024  # storefront operations are well under; GraphiQL's is 1.6 KiB


@dataclass
class _Entry:
    document: DocumentNode
    errors: list[GraphQLError] | None = field(default=None)


class DocumentCache:
    def __init__(
        self,
        *,
        max_entries: int = MAX_ENTRIES,
        max_total_chars: int = MAX_TOTAL_CHARS,
        max_entry_chars: int = MAX_ENTRY_CHARS,
    ) -> None:
        self.max_entries = max_entries
        self.max_total_chars = max_total_chars
        self.max_entry_chars = max_entry_chars
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chars(self) -> int:
        return self._chars

    def parse(self, query: str, **options: object) -> DocumentNode:
        """The document of `query`; syntax errors raise and are never kept."""
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry.document
        document = parse(query, **options)  # type: ignore[arg-type]
        if len(query) <= self.max_entry_chars:
            self._entries[query] = _Entry(document)
            self._chars += len(query)
            while len(self._entries) > self.max_entries or self._chars > self.max_total_chars:
                evicted, _ = self._entries.popitem(last=False)
                self._chars -= len(evicted)
        return document

    def errors(self, query: str, validate: Callable[[], list[GraphQLError]]) -> list[GraphQLError]:
        """Validation errors of a document this cache parsed: computed once while kept."""
        entry = self._entries.get(query)
        if entry is None:
            return validate()
        if entry.errors is None:
            entry.errors = validate()
        return list(entry.errors)


class CachedParser(SchemaExtension):
    """Parse through a DocumentCache (instead of Strawberry's ParserCache, bounded by count)."""

    def __init__(self, *, cache: DocumentCache) -> None:
        self.cache = cache

    def on_parse(self):  # type: ignore[no-untyped-def]
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = self.cache.parse(context.query, **context.parse_options)
        yield

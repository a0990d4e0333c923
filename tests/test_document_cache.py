"""Parsed documents are reused, but a client cannot make the cache hold much."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.document_cache import MAX_ENTRY_CHARS, MAX_TOTAL_CHARS, DocumentCache


def test_a_document_is_parsed_once_and_its_verdict_kept() -> None:
    cache = DocumentCache()
    calls = []

    first = cache.parse("{ me { id } }")
    again = cache.parse("{ me { id } }")
    verdicts = [cache.errors("{ me { id } }", lambda: calls.append(1) or []) for _ in range(3)]

    assert first is again
    assert verdicts == [[], [], []] and calls == [1]


def test_long_documents_are_never_kept() -> None:
    cache = DocumentCache()
    long = "{ " + "__typename " * (MAX_ENTRY_CHARS // 11 + 1) + "}"

    assert cache.parse(long) is not cache.parse(long)
    assert (len(cache), cache.chars) == (0, 0)


def test_the_cache_is_bounded_by_the_length_of_its_texts() -> None:
    cache = DocumentCache()
    size = MAX_ENTRY_CHARS - 100
    for i in range(200):
        cache.parse(f"# {i:04}\n" + " " * (size - 21) + "{ __typename }")

    assert cache.chars <= MAX_TOTAL_CHARS
    assert len(cache) == MAX_TOTAL_CHARS // size


async def test_distinct_large_documents_do_not_grow_the_servers_cache(
    start_app: Callable[..., Any],
) -> None:
    document = "{ " + "me { id } " * 1200 + "}"  # about 12,000 characters
    async with start_app() as (app, http):
        cache = app.state.graphql.schema.document_cache
        await http.post("/graphql", json={"query": "{ __typename }"})
        for i in range(40):
            await http.post("/graphql", json={"query": f"# {i}\n{document}"})

    assert (len(cache), cache.chars) == (1, len("{ __typename }"))

"""app/executor.py answers exactly what graphql-core's own executor answers: the same
documents through an app with FAST_EXECUTION on and one with it off, compared whole
(data, errors, extensions), on a seeded demo catalog."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from app.executor import FastExecutor
from app.main import create_app
from app.seed_catalog import seed_catalog
from bench.scenarios import FIRST_PAGE, PRODUCT_PAGE, SEARCH, build
from tests.conftest import make_settings

PRODUCTS = 300

EDGE_CASES: list[tuple[str, dict[str, Any]]] = [
    # Aliases of one leaf, __typename, a named and an inline fragment, nested connections.
    (
        """query Aliased { products(first: 5) { edges { cursor node {
             __typename a: name b: name ...Card ... on Product { slug createdAt attributes }
             category { name products(first: 2) { edges { node { name } } } }
        } } } }
        fragment Card on Product { id ratingAverage ratingCount isPublished publishedAt }""",
        {},
    ),
    # @include and @skip driven by variables, both ways.
    (
        """query Directed($with: Boolean!, $without: Boolean!) { products(first: 3) { edges {
             node { name @include(if: $with) slug @skip(if: $without)
                    variants { sku @include(if: $without) price { amount } } } } } }""",
        {"with": True, "without": False},
    ),
    (
        """query Directed($with: Boolean!, $without: Boolean!) { products(first: 3) { edges {
             node { name @include(if: $with) slug @skip(if: $without)
                    variants { sku @include(if: $without) price { amount } } } } } }""",
        {"with": False, "without": True},
    ),
    # Nullable leaves that are null (compareAtPrice, weightGrams), JSON and Decimal scalars.
    (
        """{ products(first: 10, sortBy: PRICE_DESC) { edges { node {
             description seoTitle seoDescription
             variants { name attributes weightGrams trackInventory
                        compareAtPrice { amount currency } price { currency } } } } } }""",
        {},
    ),
    # An abstract type through node(id:) and categories with children and ancestors.
    (
        """{ categories(first: 5) { edges { node { id name slug description
             children { name } ancestors { name } } } } }""",
        {},
    ),
    # A field error in the middle of an answer (an unknown slug is null, a bad ID an error).
    ('{ product(slug: "no-such-product") { name } nodes(ids: ["bm90LWFuLWlk"]) { id } }', {}),
    ("{ tags(first: 30) { edges { node { id name slug } } } }", {}),
]


@pytest.fixture
async def both(session_factory: Any) -> Any:
    """(app, client) with FAST_EXECUTION on, then off, on the same seeded catalog."""
    async with session_factory() as session:
        await seed_catalog(session, products=PRODUCTS)
        await session.commit()
    async with AsyncExitStack() as stack:
        pairs = []
        for fast in (True, False):
            app = create_app(make_settings(fast_execution=fast, cost_budget_enabled=False))
            await stack.enter_async_context(app.router.lifespan_context(app))
            app.state.resources.session_factory = session_factory
            client = AsyncClient(transport=ASGITransport(app), base_url="http://t")
            pairs.append((app, await stack.enter_async_context(client)))
        yield pairs


async def ask_both(both: Any, body: dict[str, Any]) -> tuple[Any, Any]:
    (_, fast), (_, normal) = both
    return await fast.post("/graphql", json=body), await normal.post("/graphql", json=body)


async def test_the_fast_executor_is_the_one_in_use(both: Any) -> None:
    (fast, _), (normal, _) = both
    assert issubclass(fast.state.graphql.schema.execution_context_class, FastExecutor)
    assert not issubclass(normal.state.graphql.schema.execution_context_class, FastExecutor)


async def test_both_executors_answer_the_bench_scenarios_alike(both: Any) -> None:
    compared = set()
    for scenario in await build(both[0][1], "/graphql", products=PRODUCTS):
        for number in range(12):
            quick, slow = await ask_both(both, scenario.body(number))
            assert quick.status_code == slow.status_code == 200
            assert "errors" not in quick.json()
            assert quick.content == slow.content, (scenario.name, number)
            compared.add(scenario.query)
    assert compared == {FIRST_PAGE, PRODUCT_PAGE, SEARCH}


@pytest.mark.parametrize(("query", "variables"), EDGE_CASES)
async def test_both_executors_answer_edge_documents_alike(
    both: Any, query: str, variables: dict[str, Any]
) -> None:
    quick, slow = await ask_both(both, {"query": query, "variables": variables})

    assert quick.status_code == slow.status_code
    assert quick.json() == slow.json()
    assert quick.json().get("data") is not None

"""bench/floor.py answers exactly what the API answers, so the ratio the benchmark reports
compares equal work: every scenario, on a seeded demo catalog, request by request."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.seed_catalog import seed_catalog
from bench.floor import HANDLERS
from bench.scenarios import SEARCH_TERMS, build

PRODUCTS = 1000


async def test_the_floor_answers_what_the_api_answers(
    connection: AsyncConnection, session_factory: Any, start_app: Any
) -> None:
    async with session_factory() as session:
        await seed_catalog(session, products=PRODUCTS)
        await session.commit()
    # The floor's hand-written SQL on the raw asyncpg connection of the test's transaction.
    raw = (await connection.get_raw_connection()).driver_connection

    compared: dict[str, int] = {}
    async with start_app(cost_budget_enabled=False, public_cache_seconds=0) as (_, http):
        for scenario in await build(http, "/graphql", products=PRODUCTS):
            for number in range(2 * len(SEARCH_TERMS)):  # every search term twice
                body = scenario.body(number)
                answer = (await http.post("/graphql", json=body)).json()
                assert "errors" not in answer, answer
                answer.pop("extensions", None)
                floor = {"data": await HANDLERS[scenario.query](raw, body["variables"])}
                assert floor == answer, (scenario.name, number)
                compared[scenario.name] = compared.get(scenario.name, 0) + 1

    assert compared == {"first_page": 24, "product_page": 24, "search": 24}

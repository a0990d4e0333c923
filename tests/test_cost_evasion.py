"""Holes an attacker's review of the guard found, each closed: evading the cost, draining
the server for free, leaking a 500."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from app.query_selection import selected_names
from app.response_cache import CachedAnswer, ResponseCache
from tests.test_websocket import ACK, connect, init, receive, ws_client

SPEC = "application/graphql-response+json"


def _fan_out(levels: int, leaf: str) -> str:
    """Each fragment spreads the next twice: 2**levels spreads once expanded."""
    parts = ["{ products(first: 1) { edges { cursor } ...F0 } }"]
    parts += [
        f"fragment F{i} on ProductConnection {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    ]
    parts.append(f"fragment F{levels} on ProductConnection {{ {leaf} }}")
    return "\n".join(parts)


def _budget(**overrides: Any) -> dict[str, Any]:
    return {
        "cost_budget_enabled": True,
        "cost_budget_capacity": 1_000,
        "cost_budget_restore_rate": 0.01,
        "max_query_cost": 1_000,
        "pubsub_prefix": f"review-{uuid.uuid4()}",
        **overrides,
    }


def _code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


async def test_an_empty_selection_set_is_refused(http: AsyncClient) -> None:
    # graphql-core 3.3 parses `{ }`; a fragment that selects nothing would cost nothing.
    response = await http.post("/graphql", json={"query": _fan_out(30, "")})

    assert response.json()["errors"] == [
        {
            "message": "Syntax Error: A selection set must select at least one field.",
            "locations": [{"line": 32, "column": 1}],
            "extensions": {"code": "GRAPHQL_PARSE_FAILED"},
        }
    ]


async def test_a_fan_out_of_tiny_fragments_costs_what_it_expands_to(http: AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": _fan_out(30, "__typename")})

    assert _code(response.json()) == "QUERY_TOO_COSTLY"
    assert response.json()["errors"][0]["extensions"]["cost"] > 2**30


async def test_resolvers_read_their_selection_in_linear_time() -> None:
    """Strawberry's `selected_fields` expands a fragment at every spread: 2**40 here."""
    from graphql import FieldNode, parse

    from app.schema import build_schema

    document = parse(_fan_out(40, "totalCount edges { node { name } }"))
    products = next(
        s
        for s in document.definitions[0].selection_set.selections  # type: ignore[attr-defined]
        if isinstance(s, FieldNode)
    )
    fragments = {d.name.value: d for d in document.definitions[1:]}  # type: ignore[attr-defined]
    schema = build_schema()._schema

    names = await asyncio.wait_for(
        asyncio.to_thread(selected_names, [products], schema, fragments), 2
    )
    nodes = await asyncio.wait_for(
        asyncio.to_thread(selected_names, [products], schema, fragments, ("edges", "node")), 2
    )

    assert names == {"edges", "totalCount"}
    assert nodes == {"name"}


async def test_an_answer_nulled_by_an_error_pays_what_it_asked(
    start_app: Callable[..., Any],
) -> None:
    query = (  # `b` is INVALID on a non-null field: the whole answer becomes null
        "{ a: products(first: 100) { edges { node { name } } } "
        "b: products(first: 101) { totalCount } }"
    )
    async with start_app(**_budget()) as (_, http):
        body = (await http.post("/graphql", json={"query": query})).json()

    assert body["data"] is None
    cost = body["extensions"]["cost"]
    requested = (10 + 2 + 100 * 3) + (10 + 1)
    assert cost["requestedQueryCost"] == requested
    assert cost["throttleStatus"]["currentlyAvailable"] == 1_000 - requested  # no refund


async def test_a_refused_document_still_pays_for_its_text(
    start_app: Callable[..., Any],
) -> None:
    invalid = "{ " + "x" * 1593 + " }"  # an unknown field, 1,597 characters: a fee of 99
    async with start_app(**_budget(cost_budget_capacity=100, max_query_cost=100)) as (_, http):
        refused = (await http.post("/graphql", json={"query": invalid})).json()
        next_one = (await http.post("/graphql", json={"query": "{ __typename }"})).json()
        again = (await http.post("/graphql", json={"query": invalid})).json()

    assert _code(refused) == "GRAPHQL_VALIDATION_FAILED"
    assert refused["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1
    assert next_one["data"] == {"__typename": "Query"}  # its fee: 1
    assert _code(again) == "THROTTLED"


async def test_a_huge_list_variable_is_refused_before_it_is_coerced(http: AsyncClient) -> None:
    query = (
        "query($a: [AttributeFilterInput!]) "
        "{ products(first: 1, filter: {attributes: $a}) { edges { cursor } } }"
    )
    content = orjson.dumps(
        {"query": query, "variables": {"a": [{"name": "a", "values": []}] * 30_000}}
    )

    response = await http.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )

    assert response.json()["errors"] == [
        {"message": "Variables may hold at most 5000 values.", "extensions": {"code": "INVALID"}}
    ]


async def test_repeated_introspection_costs_what_it_answers(http: AsyncClient) -> None:
    # The test settings have introspection on, as ENVIRONMENT=development does.
    query = "{ " + " ".join(f"a{i}: __schema {{ types {{ name }} }}" for i in range(30)) + " }"

    response = await http.post("/graphql", json={"query": query})

    assert _code(response.json()) == "QUERY_TOO_COSTLY"
    assert response.json()["errors"][0]["extensions"]["cost"] == 30_000


async def test_websocket_validation_errors_have_a_code(app: Starlette) -> None:
    async with ws_client(app) as client, connect(client) as ws:
        await init(ws)
        assert await receive(ws) == ACK
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { accountEvents { kinds } }"},
            }
        )
        message = await receive(ws)

    assert message["type"] == "error"
    assert [e["extensions"]["code"] for e in message["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]


@pytest.fixture
async def locked_products(engine: AsyncEngine) -> AsyncIterator[None]:
    """Another connection holds `products` locked until the test ends."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("LOCK TABLE products IN ACCESS EXCLUSIVE MODE"))
        yield
        await transaction.rollback()


async def test_a_timeout_in_the_middle_of_a_statement_is_a_503(
    start_app: Callable[..., Any], locked_products: None
) -> None:
    # Two root fields: the bound falls while one waits in a statement, one on the session.
    query = "{ a: products(first: 1) { totalCount } b: products(first: 2) { totalCount } }"
    async with start_app(bind=False, request_timeout_seconds=0.3) as (_, http):
        response = await http.post("/graphql", json={"query": query}, headers={"Accept": SPEC})

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"] == {"code": "REQUEST_TIMEOUT"}


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE", "PATCH"])
async def test_other_methods_get_a_coded_405(http: AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql?query=%7Bme%7Bid%7D%7D")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert _code(response.json()) == "METHOD_NOT_ALLOWED"


async def test_a_body_that_trickles_in_is_cut_off(start_app: Callable[..., Any]) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"query": '
        await asyncio.sleep(1.0)
        yield b'"{ me { id } }"}'

    async with start_app(request_body_timeout_seconds=0.2) as (_, http):
        response = await http.post(
            "/graphql", content=trickle(), headers={"content-type": "application/json"}
        )

    assert response.status_code == 408
    assert _code(response.json()) == "REQUEST_TIMEOUT"


def test_the_response_cache_is_bounded_by_bytes_and_drops_what_expired() -> None:
    cache = ResponseCache(ttl_seconds=60, max_entries=1_000, max_bytes=32_000)
    for i in range(100):
        cache.put(bytes([i]), CachedAnswer(b"x" * 900, 1))
    cache.put(b"big", CachedAnswer(b"x" * 1_001, 1))  # over a 32nd of the bound

    assert cache.bytes <= 32_000 and len(cache._entries) == 35
    assert cache.get(b"big") is None
    assert cache.get(bytes([99])) is not None and cache.get(bytes([0])) is None

    short = ResponseCache(ttl_seconds=0.0001, max_entries=1_000, max_bytes=32_000)
    short.put(b"a", CachedAnswer(b"x" * 900, 1))
    import time

    time.sleep(0.01)
    short.put(b"b", CachedAnswer(b"x" * 900, 1))  # the expired entry goes as this one comes
    assert short.bytes <= 1_800 and b"a" not in short._entries


async def test_database_sessions_run_without_jit(app: Starlette) -> None:
    async with app.state.resources.engine.connect() as connection:
        assert await connection.scalar(text("SHOW jit")) == "off"

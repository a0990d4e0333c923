"""Automatic persisted queries through the API, as Apollo Client's persisted-queries link
sends them: hash only, then hash and query, over POST and GET, in Redis and in memory."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response

SPEC = "application/graphql-response+json"


def unique_query(selection: str = "{ products(first: 1) { totalCount } }") -> str:
    """A document no other test (nor an earlier run, on a shared Redis) has stored."""
    return f"# {uuid.uuid4()}\nquery Count {selection}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: Any, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def send(
    http: AsyncClient, method: str, digest: str, query: str | None = None, **headers: str
) -> Response:
    """A persisted query request, as the Apollo link sends it over `method`."""
    params: dict[str, Any] = {"extensions": persisted(digest), "operationName": "Count"}
    if query is not None:
        params["query"] = query
    if method == "GET":
        text = {key: json.dumps(v) if isinstance(v, dict) else v for key, v in params.items()}
        return await http.get("/graphql", params=text, headers=headers)
    return await http.post("/graphql", json=params, headers=headers)


def codes(response: Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


def not_found(response: Response) -> bool:
    code = {"code": "PERSISTED_QUERY_NOT_FOUND"}
    error = {"message": "PersistedQueryNotFound", "extensions": code}
    return response.status_code == 200 and response.json() == {"errors": [error]}


async def round_trip(first: AsyncClient, second: AsyncClient, method: str) -> None:
    """Miss, register through `first`, then found through `second`."""
    query = unique_query()
    digest = sha256(query)

    miss = await send(first, method, digest, Accept=SPEC)
    registered = await send(first, "POST", digest, query)
    found = await send(second, method, digest)

    assert not_found(miss)  # 200 in the spec media type too: Apollo retries with the query
    assert miss.headers["cache-control"] == "private, no-store"  # a CDN must not keep a miss
    assert registered.status_code == 200 and registered.json()["data"] == {
        "products": {"totalCount": 0}
    }
    assert found.status_code == 200 and found.json()["data"] == {"products": {"totalCount": 0}}


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_document_stored_in_redis_is_found_by_another_instance(
    start_app: Callable, redis_url: str, method: str
) -> None:
    async with (
        start_app(redis_url=redis_url) as (one, first),
        start_app(redis_url=redis_url) as (_, second),
    ):
        from app.persisted_queries import RedisStore

        assert isinstance(one.state.resources.persisted_queries.store, RedisStore)
        await round_trip(first, second, method)


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_without_redis_the_document_is_kept_in_process_memory(
    start_app: Callable, method: str
) -> None:
    async with start_app(redis_url=None) as (app, http):
        from app.persisted_queries import MemoryStore

        assert isinstance(app.state.resources.persisted_queries.store, MemoryStore)
        await round_trip(http, http, method)


async def test_registering_over_get_works_for_queries(http: AsyncClient) -> None:
    query = unique_query()

    registered = await send(http, "GET", sha256(query), query)
    found = await send(http, "GET", sha256(query))

    assert registered.json()["data"] == found.json()["data"] == {"products": {"totalCount": 0}}


async def test_a_hash_that_does_not_match_the_query_stores_nothing(http: AsyncClient) -> None:
    query, other = unique_query(), unique_query()

    mismatch = await send(http, "POST", sha256(other), query)

    assert mismatch.status_code == 400
    assert codes(mismatch) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert not_found(await send(http, "POST", sha256(other)))
    assert not_found(await send(http, "POST", sha256(query)))


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (unique_query('{ product(slug: "\x00") { id } }'), "INVALID"),
        (unique_query("{ products(first: 1) { totalCount }"), "GRAPHQL_PARSE_FAILED"),
        (unique_query("{ nope }"), "GRAPHQL_VALIDATION_FAILED"),
        (unique_query("{ " + "a: __typename " * 3000 + "}"), "GRAPHQL_PARSE_FAILED"),  # tokens
        (unique_query("{ products(first: 1) { totalCount } }" * 2), "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=["NUL", "syntax", "validation", "over the token limit", "two operations of one name"],
)
async def test_a_document_the_limits_refuse_is_never_stored(
    http: AsyncClient, query: str, code: str
) -> None:
    refused = await send(http, "POST", sha256(query), query)

    assert code in codes(refused)
    assert not_found(await send(http, "POST", sha256(query)))


async def test_a_persisted_mutation_still_needs_post(http: AsyncClient) -> None:
    revoke = '{ tokenRevoke(refreshToken: "x") { revoked } }'
    mutation = f"# {uuid.uuid4()}\nmutation Count {revoke}"
    digest = sha256(mutation)

    stored = await send(http, "POST", digest, mutation)
    over_get = await send(http, "GET", digest)

    assert stored.json()["data"] == {"tokenRevoke": {"revoked": False}}
    assert over_get.status_code == 405 and codes(over_get) == ["METHOD_NOT_ALLOWED"]


VALID = "0" * 64


@pytest.mark.parametrize(
    ("extensions", "code"),
    [
        ({"persistedQuery": "x"}, "BAD_REQUEST"),
        ({"persistedQuery": [VALID]}, "BAD_REQUEST"),
        ({"persistedQuery": 1}, "BAD_REQUEST"),
        ({"persistedQuery": {}}, "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (persisted(VALID, version=2), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (persisted(VALID, version=None), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (persisted(VALID, version="1"), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (persisted(VALID, version=True), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (persisted(VALID, version=1.5), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED"),
        (persisted(None), "BAD_REQUEST"),
        (persisted(123), "BAD_REQUEST"),
        (persisted([VALID]), "BAD_REQUEST"),
        (persisted("A" * 64), "BAD_REQUEST"),  # upper case
        (persisted("0" * 63), "BAD_REQUEST"),
        (persisted("0" * 65), "BAD_REQUEST"),
        (persisted("0" * 63 + "\x00"), "BAD_REQUEST"),
        (persisted("0" * 64 + "\n"), "BAD_REQUEST"),
        (persisted("g" * 64), "BAD_REQUEST"),
        (persisted("0" * 20_000), "BAD_REQUEST"),
        ({"persistedQuery": {"version": 1}}, "BAD_REQUEST"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_malformed_persisted_query_is_a_coded_400(
    http: AsyncClient, extensions: dict[str, Any], code: str, method: str
) -> None:
    if method == "GET":
        response = await http.get("/graphql", params={"extensions": json.dumps(extensions)})
    else:
        response = await http.post("/graphql", json={"extensions": extensions})

    assert response.status_code == 400
    assert codes(response) == [code]
    assert response.headers["cache-control"] == "private, no-store"


async def test_an_explicit_null_persisted_query_is_no_persisted_query(http: AsyncClient) -> None:
    without_query = await http.post("/graphql", json={"extensions": {"persistedQuery": None}})
    with_query = await http.post(
        "/graphql", json={"query": "{ __typename }", "extensions": {"persistedQuery": None}}
    )

    assert without_query.status_code == 400 and codes(without_query) == ["BAD_REQUEST"]
    assert with_query.json()["data"] == {"__typename": "Query"}


async def test_apq_enabled_off_says_not_supported_and_still_runs_full_queries(
    start_app: Callable,
) -> None:
    query = unique_query()
    async with start_app(apq_enabled=False) as (_, http):
        hash_only = await send(http, "POST", sha256(query), Accept=SPEC)
        full = await send(http, "POST", sha256(query), query)
        again = await send(http, "GET", sha256(query))

    for refused in (hash_only, again):
        assert refused.status_code == 200
        assert refused.json()["errors"] == [
            {
                "message": "PersistedQueryNotSupported",
                "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
            }
        ]
    assert full.json()["data"] == {"products": {"totalCount": 0}}


async def test_the_memory_store_is_bounded_by_entries_and_bytes() -> None:
    from app.persisted_queries import MemoryStore

    store = MemoryStore(ttl_seconds=60, max_entries=3, max_bytes=32 * 1024)
    for n in range(5):
        await store.put(f"{n:064x}", "{ __typename }")
    await store.put("f" * 64, "x" * 2000)  # over a 32nd of the bytes: not kept

    assert len(store) == 3
    assert await store.get(f"{0:064x}") is None
    assert await store.get(f"{4:064x}") == "{ __typename }"
    assert await store.get("f" * 64) is None
    by_bytes = MemoryStore(ttl_seconds=60, max_entries=1000, max_bytes=32 * 1024)
    for n in range(40):
        await by_bytes.put(f"{n:064x}", "y" * 1000)
    assert len(by_bytes) == 32 and by_bytes.bytes == 32_000
    assert await by_bytes.get(f"{7:064x}") is None and await by_bytes.get(f"{8:064x}")


async def test_a_browser_get_of_a_persisted_query_runs_it_instead_of_opening_graphiql(
    http: AsyncClient,
) -> None:
    query = unique_query()
    await send(http, "POST", sha256(query), query)

    found = await send(http, "GET", sha256(query), Accept="text/html, */*;q=0.8")

    assert found.status_code == 200
    assert found.json()["data"] == {"products": {"totalCount": 0}}


async def test_redis_going_away_is_a_miss_not_a_500() -> None:
    from redis.asyncio import Redis

    from app.persisted_queries import RedisStore

    away = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    store = RedisStore(away, prefix="test", ttl_seconds=60)
    try:
        await store.put(VALID, "{ __typename }")  # logged, not raised
        assert await store.get(VALID) is None
    finally:
        await away.aclose()

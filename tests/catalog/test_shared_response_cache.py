"""PUBLIC_CACHE_SHARED: the public response cache shared by two app instances through Redis,
a change on one dropping the answer on both within a second, and no stale answer stored."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from strawberry.relay import to_base64

from app.response_cache import CachedAnswer, ResponseCache
from app.response_cache_shared import SharedAnswers
from tests.conftest import PASSWORD, TOKEN_CREATE

PRODUCTS = "query Names { products(first: 10) { edges { node { name } } } }"
RENAME = """
mutation Rename($id: ID!, $name: String!) {
  productUpdate(id: $id, input: {name: $name}) { userErrors { code } }
}"""


def names(response: Any) -> list[str]:
    return [e["node"]["name"] for e in response.json()["data"]["products"]["edges"]]


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}"  # this test's keys and channel only


async def staff_token(http: Any) -> str:
    staff = {"email": "staff@example.com", "password": PASSWORD}
    body = {"query": TOKEN_CREATE, "variables": staff}
    return (await http.post("/graphql", json=body)).json()["data"]["tokenCreate"]["accessToken"]


def shared(redis_url: str, prefix: str, **more: Any) -> dict[str, Any]:
    return dict(
        redis_url=redis_url, pubsub_prefix=prefix, public_cache_shared=True,
        public_cache_seconds=30, **more,
    )  # fmt: skip


async def test_one_instance_serves_what_the_other_computed(
    start_app: Callable, make_product: Callable, redis_url: str, prefix: str
) -> None:
    await make_product("First")
    async with (
        start_app(**shared(redis_url, prefix)) as (_, one),
        start_app(**shared(redis_url, prefix)) as (_, two),
    ):
        computed = await one.post("/graphql", json={"query": PRODUCTS})
        await make_product("Second")  # behind both instances' backs
        served = await two.post("/graphql", json={"query": PRODUCTS})

    assert computed.headers["x-cache"] == "miss" and names(computed) == ["First"]
    assert served.headers["x-cache"] == "hit" and names(served) == ["First"]
    assert served.json()["extensions"]["cost"]["actualQueryCost"] == 0


async def test_a_change_on_one_instance_drops_the_answer_on_both_within_a_second(
    start_app: Callable, make_product: Callable, make_user: Callable, redis_url: str, prefix: str
) -> None:
    from app.auth.permissions import Role

    product = await make_product("First")
    await make_user(email="staff@example.com", role=Role.STAFF)
    async with (
        start_app(**shared(redis_url, prefix)) as (_, one),
        start_app(**shared(redis_url, prefix)) as (_, two),
    ):
        await one.post("/graphql", json={"query": PRODUCTS})
        warm = await two.post("/graphql", json={"query": PRODUCTS})  # now in two's own cache
        token = await staff_token(one)
        rename = {"id": to_base64("Product", product.id), "name": "Renamed"}
        renamed = await one.post(
            "/graphql",
            json={"query": RENAME, "variables": rename},
            headers={"Authorization": f"Bearer {token}"},
        )
        fresh = None
        for _ in range(20):  # up to a second
            fresh = await two.post("/graphql", json={"query": PRODUCTS})
            if names(fresh) == ["Renamed"]:
                break
            await asyncio.sleep(0.05)

    assert warm.headers["x-cache"] == "hit"
    assert renamed.json()["data"]["productUpdate"]["userErrors"] == []
    assert fresh is not None and names(fresh) == ["Renamed"]
    assert fresh.headers["x-cache"] == "miss"


async def test_an_answer_computed_across_a_change_is_not_stored(
    redis_url: str, prefix: str
) -> None:
    redis = Redis.from_url(redis_url)
    try:
        answers = SharedAnswers(redis, prefix=prefix, ttl_seconds=30, max_bytes=1 << 20)
        key = ResponseCache.key("POST", b"", b"{}")
        missing, generation = await answers.get(key)
        await answers.invalidate({"product:1"})  # committed while the answer was computed
        stale = await answers.put(key, CachedAnswer(b'{"data":1}', 3), None, generation)
        after_stale, generation = await answers.get(key)
        kept = await answers.put(key, CachedAnswer(b'{"data":2}', 3), {"product:2"}, generation)
        found, _ = await answers.get(key)
        dropped = await answers.invalidate({"product:2"})
        gone, _ = await answers.get(key)
        await redis.set(answers._answer_key(key), b"not one of ours")  # a shared Redis
        foreign, _ = await answers.get(key)
    finally:
        await redis.aclose()

    assert missing is None and stale is False and after_stale is None
    assert kept is True and found == CachedAnswer(b'{"data":2}', 3)
    assert dropped == 1 and gone is None
    assert foreign is None


async def test_without_redis_answers_still_come_executed(
    start_app: Callable, make_product: Callable, prefix: str
) -> None:
    await make_product("First")
    # Redis refuses connections: the shared cache is skipped, the API still answers.
    async with start_app(**shared("redis://127.0.0.1:1/0", prefix)) as (_, http):
        first = await http.post("/graphql", json={"query": PRODUCTS})
        second = await http.post("/graphql", json={"query": PRODUCTS})

    assert first.status_code == 200 and names(first) == ["First"]
    assert names(second) == ["First"] and second.headers["x-cache"] == "hit"  # its own cache


def test_shared_needs_redis() -> None:
    from pydantic import ValidationError

    from app.settings import Settings

    with pytest.raises(ValidationError, match="PUBLIC_CACHE_SHARED needs REDIS_URL"):
        Settings(_env_file=None, public_cache_shared=True, redis_url=None)

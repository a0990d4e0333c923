"""Probes, request ids and CORS: the HTTP edges around /graphql."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from httpx import AsyncClient
from redis.asyncio import Redis

from app.settings import Settings

UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/nope"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
SHOP = "https://shop.example"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


async def test_healthz_answers_ok(http: AsyncClient) -> None:
    response = await http.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_with_the_test_database(
    http: AsyncClient, settings: Settings
) -> None:
    response = await http.get("/readyz")

    expected = {"database": "ok"} | ({"redis": "ok"} if settings.redis_url else {})
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": expected}


async def test_readyz_is_unready_when_the_database_is_unreachable(
    start_app: Callable[..., Any],
) -> None:
    # The engine is lazy, so the app starts; only the probe finds the database missing.
    async with start_app(bind=False, database_url=UNREACHABLE_DATABASE, redis_url=None) as (
        _,
        http,
    ):
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unready", "checks": {"database": "unavailable"}}


async def test_readyz_checks_redis_when_configured(
    start_app: Callable[..., Any], redis_url: str
) -> None:
    async with start_app(redis_url=redis_url) as (_, http):
        response = await http.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_readyz_is_unready_when_redis_goes_away_after_start(
    start_app: Callable[..., Any], redis_url: str
) -> None:
    async with start_app(redis_url=redis_url) as (app, http):
        resources = app.state.resources
        reachable, resources.redis = resources.redis, Redis.from_url(UNREACHABLE_REDIS)
        try:
            response = await http.get("/readyz")
        finally:
            await resources.redis.aclose()
            resources.redis = reachable

    assert response.status_code == 503
    assert response.json() == {
        "status": "unready",
        "checks": {"database": "ok", "redis": "unavailable"},
    }


async def test_readyz_is_unready_when_redis_is_unreachable_at_start(
    start_app: Callable[..., Any],
) -> None:
    async with start_app(redis_url=UNREACHABLE_REDIS) as (_, http):
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unready",
        "checks": {"database": "ok", "redis": "unavailable"},
    }


async def test_every_response_carries_a_request_id(http: AsyncClient) -> None:
    first = await http.get("/healthz")
    second = await http.post("/graphql", json={"query": "{ me { id } }"})

    assert GENERATED_ID.fullmatch(first.headers["x-request-id"])
    assert GENERATED_ID.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_client_request_id_is_echoed(http: AsyncClient) -> None:
    response = await http.get("/healthz", headers={"X-Request-ID": "checkout-42.retry-1"})

    assert response.headers["x-request-id"] == "checkout-42.retry-1"


async def test_an_overlong_client_request_id_is_replaced(http: AsyncClient) -> None:
    response = await http.get("/healthz", headers={"X-Request-ID": "x" * 65})

    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_cors_preflight_from_an_allowed_origin_is_allowed(
    start_app: Callable[..., Any],
) -> None:
    async with start_app(cors_origins=[SHOP]) as (_, http):
        response = await http.options("/graphql", headers=_preflight(SHOP))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_cors_preflight_from_another_origin_is_refused(
    start_app: Callable[..., Any],
) -> None:
    async with start_app(cors_origins=[SHOP]) as (_, http):
        response = await http.options("/graphql", headers=_preflight("https://evil.example"))

    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in response.headers


async def test_cors_headers_only_for_the_allowed_origin(start_app: Callable[..., Any]) -> None:
    query = {"query": "{ me { id } }"}
    async with start_app(cors_origins=[SHOP]) as (_, http):
        allowed = await http.post("/graphql", json=query, headers={"Origin": SHOP})
        other = await http.post("/graphql", json=query, headers={"Origin": "https://evil.example"})

    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert allowed.headers["access-control-expose-headers"].lower() == "x-request-id"
    assert "access-control-allow-origin" not in other.headers

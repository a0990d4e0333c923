"""HTTP caching headers: public answers may be kept by a CDN, nothing else; ETag and 304."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response

SPEC = "application/graphql-response+json"
COUNT = "{ products(first: 5) { totalCount edges { node { name } } } }"
# Origin: the CORS middleware adds it to ours (an allowed origin changes the answer's headers).
VARY = "Accept, Authorization, Origin"
NOT_STORED = {"cache-control": "private, no-store", "vary": VARY}


def caching(response: Response) -> dict[str, str]:
    return {
        name: response.headers[name]
        for name in ("cache-control", "etag", "vary")
        if name in response.headers
    }


async def token(http: AsyncClient, make_user: Callable, email: str) -> str:
    from tests.conftest import PASSWORD, TOKEN_CREATE

    await make_user(email=email)
    body = {"query": TOKEN_CREATE, "variables": {"email": email, "password": PASSWORD}}
    answer = await http.post("/graphql", json=body)
    access: str = answer.json()["data"]["tokenCreate"]["accessToken"]
    return access


async def test_a_public_answer_is_public_with_a_weak_etag_and_vary(start_app: Callable) -> None:
    async with start_app(http_cache_max_age_seconds=30) as (_, http):
        got = await http.get("/graphql", params={"query": COUNT})
        posted = await http.post("/graphql", json={"query": COUNT})

    assert got.status_code == 200
    assert got.headers["cache-control"] == "public, max-age=30"
    assert got.headers["vary"] == VARY
    assert got.headers["etag"].startswith('W/"') and len(got.headers["etag"]) == 28
    assert caching(posted) == caching(got)  # the answer decides, not the method


async def test_max_age_defaults_to_the_public_cache_seconds(start_app: Callable) -> None:
    async with start_app(public_cache_seconds=7.5) as (_, http):
        response = await http.get("/graphql", params={"query": COUNT})

    assert response.headers["cache-control"] == "public, max-age=7"


async def test_signed_in_answers_errors_mutations_and_refusals_are_not_stored(
    start_app: Callable, make_user: Callable
) -> None:
    async with start_app(http_cache_max_age_seconds=30) as (_, http):
        bearer = {"Authorization": f"Bearer {await token(http, make_user, 'ann@example.com')}"}
        signed_in = await http.post("/graphql", json={"query": "{ me { email } }"}, headers=bearer)
        public_query_signed_in = await http.get("/graphql", params={"query": COUNT}, headers=bearer)
        empty_authorization = await http.get(
            "/graphql", params={"query": COUNT}, headers={"Authorization": ""}
        )
        user = '{ user(id: "VXNlcjox") { id } }'
        field_error = await http.get("/graphql", params={"query": user})
        request_error = await http.get("/graphql", params={"query": "{ nope }"})
        mutation = await http.post(
            "/graphql", json={"query": 'mutation { tokenRevoke(refreshToken: "x") { revoked } }'}
        )
        malformed = await http.post("/graphql", json={"query": 1})
        over_get = await http.get(
            "/graphql", params={"query": 'mutation { tokenRevoke(refreshToken: "x") { revoked } }'}
        )

    assert signed_in.json()["data"] == {"me": {"email": "ann@example.com"}}
    assert public_query_signed_in.json()["data"]["products"]["totalCount"] == 0
    assert empty_authorization.json()["data"]["products"]["totalCount"] == 0
    assert field_error.json()["errors"]
    assert mutation.json()["data"] == {"tokenRevoke": {"revoked": False}}
    assert (malformed.status_code, over_get.status_code) == (400, 405)
    for response in (
        signed_in,
        public_query_signed_in,
        empty_authorization,
        field_error,
        request_error,
        mutation,
        malformed,
        over_get,
    ):
        assert caching(response) == NOT_STORED, response.request


@pytest.mark.parametrize("accept", [SPEC, "application/json"])
async def test_a_matching_if_none_match_gets_304_without_a_body(
    start_app: Callable, accept: str
) -> None:
    async with start_app(http_cache_max_age_seconds=30) as (_, http):
        first = await http.get("/graphql", params={"query": COUNT}, headers={"Accept": accept})
        etag = first.headers["etag"]
        again = await http.get(
            "/graphql", params={"query": COUNT}, headers={"Accept": accept, "If-None-Match": etag}
        )
        listed = await http.get(
            "/graphql",
            params={"query": COUNT},
            headers={"Accept": accept, "If-None-Match": f'"other", {etag.removeprefix("W/")}'},
        )
        star = await http.get(
            "/graphql", params={"query": COUNT}, headers={"Accept": accept, "If-None-Match": "*"}
        )

    for response in (again, listed, star):
        assert response.status_code == 304
        assert response.content == b""
        assert "content-type" not in response.headers
        assert caching(response) == caching(first)


async def test_a_stale_etag_gets_the_new_answer_and_post_ignores_if_none_match(
    start_app: Callable, make_product: Callable
) -> None:
    async with start_app(http_cache_max_age_seconds=30) as (_, http):
        before = await http.get("/graphql", params={"query": COUNT})
        await make_product("Mug")
        stale = {"If-None-Match": before.headers["etag"]}
        after = await http.get("/graphql", params={"query": COUNT}, headers=stale)
        posted = await http.post(
            "/graphql", json={"query": COUNT}, headers={"If-None-Match": after.headers["etag"]}
        )

    assert after.status_code == 200
    assert after.json()["data"]["products"]["edges"] == [{"node": {"name": "Mug"}}]
    assert after.headers["etag"] != before.headers["etag"]
    # POST is not a conditional request here (RFC 9110 would answer 412): it runs and answers.
    assert posted.status_code == 200 and posted.headers["etag"] == after.headers["etag"]


async def test_the_etag_is_the_same_for_every_client_and_differs_by_media_type(
    start_app: Callable,
) -> None:
    # A slow refill: each answer reports a different budget left, so the bytes differ.
    async with start_app(cost_budget_enabled=True, cost_budget_restore_rate=0.001) as (_, http):
        first = await http.get("/graphql", params={"query": COUNT})
        second = await http.get("/graphql", params={"query": COUNT})
        spec = await http.get("/graphql", params={"query": COUNT}, headers={"Accept": SPEC})

    def left(response: Response) -> Any:
        return response.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]

    assert left(first) != left(second)
    assert first.headers["etag"] == second.headers["etag"]
    assert spec.headers["etag"] != first.headers["etag"]


async def test_a_cached_and_an_executed_answer_carry_the_same_caching_headers(
    start_app: Callable,
) -> None:
    async with start_app(public_cache_seconds=60) as (_, http):
        miss = await http.get("/graphql", params={"query": COUNT})
        hit = await http.get("/graphql", params={"query": COUNT})
        revalidated = await http.get(
            "/graphql", params={"query": COUNT}, headers={"If-None-Match": miss.headers["etag"]}
        )

    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")
    assert caching(hit) == caching(miss)
    assert caching(miss)["cache-control"] == "public, max-age=60"
    assert revalidated.status_code == 304 and caching(revalidated) == caching(miss)


async def test_a_cdn_can_cache_a_persisted_query_over_get(start_app: Callable) -> None:
    from tests.test_persisted_queries import send, sha256, unique_query

    query = unique_query()
    async with start_app(http_cache_max_age_seconds=30) as (_, http):
        await send(http, "POST", sha256(query), query)
        found = await send(http, "GET", sha256(query))
        revalidated = await send(
            http, "GET", sha256(query), **{"If-None-Match": found.headers["etag"]}
        )

    assert found.headers["cache-control"] == "public, max-age=30"
    assert revalidated.status_code == 304

"""Query cost: computed from the document and its variables, limited, reported, budgeted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.accounts import RefreshToken
from tests.conftest import PASSWORD

SPEC = "application/graphql-response+json"
EMAIL = "cost@example.com"
PAGE = "query($n: Int) { products(first: $n) { edges { node { name } } } }"
# tokenCreate: 10 for a root mutation field + 1 for a leaf; the answer has that leaf too.
SIGN_IN = {
    "query": "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p) "
    "{ accessToken } }",
    "variables": {"e": EMAIL, "p": PASSWORD},
}


MISSING_PRODUCT = "UHJvZHVjdDo5OTk5OTk="


def cost_of(body: dict[str, Any]) -> dict[str, Any]:
    return body["extensions"]["cost"]


@pytest.mark.parametrize(
    ("query", "variables", "requested"),
    [
        ("{ __typename }", None, 1),
        ("{ me { id email } }", None, 4),  # object 2 + two leaves
        # A connection: 10 (a query), its `edges` 2, then per item of the page: node 2 +
        # name 1.
        (PAGE, {"n": 5}, 10 + 2 + 5 * 3),
        (PAGE, {"n": 50}, 10 + 2 + 50 * 3),
        (PAGE, {"n": 50.0}, 10 + 2 + 50 * 3),  # GraphQL takes an integral float as an Int
        (PAGE, {}, 10 + 2 + 20 * 3),  # no `first`: the default page of 20
        (PAGE, {"n": 5000}, 10 + 2 + 100 * 3),  # beyond the cap: the resolver refuses it
        ("query($n: Int = 7) { products(first: $n) { edges { node { name } } } }", None, 33),
        # `pageInfo` and `totalCount` are paid once, not per item.
        (
            "{ products(first: 10) { totalCount pageInfo { hasNextPage } edges { cursor } } }",
            None,
            10 + 1 + (2 + 1) + 2 + 10 * 1,
        ),
        # A plain list assumes 10 items; fragments and inline fragments add up.
        (
            "{ categories(first: 2) { edges { node { ...C } } } } "
            "fragment C on Category { name children { name } }",
            None,
            10 + 2 + 2 * (2 + 1 + 2 + 10 * 1),
        ),
        # `nodes(ids:)` costs per id.
        ('{ nodes(ids: ["a", "b", "c"]) { id } }', None, 2 + 3 * 1),
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["a"] * 40}, 2 + 40),
        # A root mutation field costs 10.
        ('mutation { tokenRevoke(refreshToken: "x") { revoked } }', None, 11),
        # Facets aggregate the catalog: 100. An introspection answer is the schema: 1,000.
        ("{ productFacets { tags { count } } }", None, 100 + 2 + 10 * 1),
        ('{ __schema { queryType { name } } __type(name: "Product") { name } }', None, 1100),
    ],
)
async def test_the_requested_cost_reads_the_document_and_its_variables(
    http: AsyncClient, query: str, variables: dict[str, Any] | None, requested: int
) -> None:
    response = await http.post("/graphql", json={"query": query, "variables": variables})

    assert cost_of(response.json())["requestedQueryCost"] == requested


async def test_the_actual_cost_counts_what_the_answer_holds(
    http: AsyncClient, make_user: Callable[..., Any], sign_in: Callable[..., Any]
) -> None:
    await make_user(email=EMAIL)
    token = (await sign_in(EMAIL))["accessToken"]
    query = "{ me { email } myNotificationPreferences { kind channel } }"

    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )

    assert len(response.json()["data"]["myNotificationPreferences"]) == 12  # 4 kinds, 3 channels
    assert cost_of(response.json()) == {
        "requestedQueryCost": (2 + 1) + (2 + 10 * 2),
        "actualQueryCost": (2 + 1) + (2 + 12 * 2),  # more than assumed: charged as it is
    }


async def test_an_anonymous_answer_with_nothing_in_it_costs_little(http: AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": PAGE, "variables": {"n": 50}})

    assert response.json()["data"] == {"products": {"edges": []}}
    assert cost_of(response.json()) == {"requestedQueryCost": 162, "actualQueryCost": 12}


async def test_a_query_over_the_cost_limit_is_refused_before_it_runs(
    start_app: Callable[..., Any],
    make_user: Callable[..., Any],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(email=EMAIL)
    expensive = {
        "query": "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p) "
        "{ accessToken user { addresses { id firstName lastName city } } } }",
        "variables": {"e": EMAIL, "p": PASSWORD},
    }
    async with start_app(max_query_cost=50) as (_, http):
        spec = await http.post("/graphql", json=expensive, headers={"Accept": SPEC})
        legacy = await http.post("/graphql", json=expensive)
        cheap = await http.post("/graphql", json=SIGN_IN)

    requested = 10 + 1 + 2 + 2 + 10 * 4
    for response, status in ((spec, 400), (legacy, 200)):
        assert response.status_code == status
        assert response.json()["errors"] == [
            {
                "message": f"Query cost {requested} exceeds the maximum of 50.",
                "extensions": {"code": "QUERY_TOO_COSTLY", "cost": requested, "maxCost": 50},
            }
        ]
        assert "data" not in response.json()
        assert cost_of(response.json()) == {"requestedQueryCost": requested, "actualQueryCost": 0}
    assert cheap.json()["data"]["tokenCreate"]["accessToken"]
    async with session_factory() as session:  # only the cheap sign-in ran
        assert await session.scalar(select(func.count()).select_from(RefreshToken)) == 1


async def test_more_than_a_hundred_ids_are_refused(http: AsyncClient) -> None:
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    missing = [MISSING_PRODUCT] * 101
    at_cap = await http.post("/graphql", json={"query": query, "variables": {"ids": missing[:100]}})
    over = await http.post("/graphql", json={"query": query, "variables": {"ids": missing}})

    assert at_cap.json()["data"] == {"nodes": [None] * 100}
    assert [(e["message"], e["extensions"]["code"]) for e in over.json()["errors"]] == [
        ("`ids` takes at most 100 IDs.", "INVALID")
    ]


def _budget(**overrides: Any) -> dict[str, Any]:
    return {
        "cost_budget_enabled": True,
        "cost_budget_capacity": 22,  # two sign-ins of 11
        "cost_budget_restore_rate": 0.01,
        "max_query_cost": 22,
        "pubsub_prefix": f"budget-{uuid.uuid4()}",
        **overrides,
    }


async def _refresh_tokens(session_factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_factory() as session:
        return await session.scalar(select(func.count()).select_from(RefreshToken)) or 0


async def test_an_exhausted_budget_throttles_and_runs_nothing(
    start_app: Callable[..., Any],
    make_user: Callable[..., Any],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(email=EMAIL)
    async with start_app(**_budget()) as (_, http):
        first = await http.post("/graphql", json=SIGN_IN)
        second = await http.post("/graphql", json=SIGN_IN)
        spec = await http.post("/graphql", json=SIGN_IN, headers={"Accept": SPEC})
        legacy = await http.post("/graphql", json=SIGN_IN)

    assert cost_of(first.json()) == {
        "requestedQueryCost": 11,
        "actualQueryCost": 11,
        "throttleStatus": {"maximumAvailable": 22, "currentlyAvailable": 11, "restoreRate": 0.01},
    }
    assert cost_of(second.json())["throttleStatus"]["currentlyAvailable"] == 0
    for response, status in ((spec, 429), (legacy, 200)):
        assert response.status_code == status
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "THROTTLED"
        # Refused before parsing, for want of its fee (its text: 91 characters, 5
        # points); at 0.01 a second that is 500 s, less what trickled in meanwhile.
        assert 490 <= error["extensions"]["retryAfter"] <= 500
        assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
        assert "data" not in response.json()
        assert cost_of(response.json())["throttleStatus"]["currentlyAvailable"] == 0
    assert await _refresh_tokens(session_factory) == 2  # the throttled sign-ins never ran


async def test_the_budget_refills_at_its_rate(start_app: Callable[..., Any]) -> None:
    revoke = {"query": 'mutation { tokenRevoke(refreshToken: "x") { revoked } }'}  # 11, 11
    # A point per 100 ms: a slow (shared, loaded) machine still sees the throttle and the cap.
    async with start_app(**_budget(cost_budget_restore_rate=10)) as (_, http):
        await http.post("/graphql", json=revoke)
        await http.post("/graphql", json=revoke)
        throttled = await http.post("/graphql", json=revoke)  # 11 points take 1.1 s to come back
        await asyncio.sleep(2.3)  # 23 points back, capped at 22
        refilled = await http.post("/graphql", json=revoke)

    extensions = throttled.json()["errors"][0]["extensions"]
    assert extensions == {"code": "THROTTLED", "retryAfter": extensions["retryAfter"]}
    assert extensions["retryAfter"] in (1, 2)  # (11 - what came back so far) / 10, rounded up
    assert refilled.json()["data"] == {"tokenRevoke": {"revoked": False}}
    # 22 - 11, plus a point if the request itself took 100 ms.
    assert cost_of(refilled.json())["throttleStatus"]["currentlyAvailable"] in (11, 12)


async def test_an_answer_gives_back_what_it_did_not_use(start_app: Callable[..., Any]) -> None:
    async with start_app(**_budget(cost_budget_capacity=200, max_query_cost=200)) as (_, http):
        response = await http.post("/graphql", json={"query": PAGE, "variables": {"n": 50}})

    # 162 were taken before it ran; the empty page cost 12, so 150 came back.
    assert cost_of(response.json())["throttleStatus"]["currentlyAvailable"] == 188


async def test_a_signed_in_user_has_a_bucket_of_their_own(
    start_app: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    await make_user(email=EMAIL)
    async with start_app(**_budget()) as (_, http):
        token = (await http.post("/graphql", json=SIGN_IN)).json()["data"]["tokenCreate"]
        await http.post("/graphql", json=SIGN_IN)
        anonymous = await http.post("/graphql", json={"query": "{ __typename }"})
        as_user = await http.post(
            "/graphql",
            json={"query": "{ me { email } }"},
            headers={"Authorization": f"Bearer {token['accessToken']}"},
        )

    assert anonymous.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert as_user.json()["data"] == {"me": {"email": EMAIL}}
    assert cost_of(as_user.json())["throttleStatus"]["currentlyAvailable"] == 22 - 3


async def test_a_forged_forwarded_header_does_not_refill_the_budget(
    start_app: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    await make_user(email=EMAIL)
    async with start_app(trusted_proxies=["10.0.0.0/8"], **_budget()) as (app, _):
        transport = ASGITransport(app, client=("203.0.113.9", 5555))
        async with AsyncClient(transport=transport, base_url="http://testserver") as http:
            codes = []
            for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
                body = (
                    await http.post("/graphql", json=SIGN_IN, headers={"X-Forwarded-For": forged})
                ).json()
                codes.append(body["errors"][0]["extensions"]["code"] if "errors" in body else "OK")

    assert codes == ["OK", "OK", "THROTTLED"]


async def test_redis_budgets_are_shared_by_every_instance(
    start_app: Callable[..., Any], make_user: Callable[..., Any], redis_url: str
) -> None:
    await make_user(email=EMAIL)
    shared = _budget(redis_url=redis_url)
    async with start_app(**shared) as (_, one), start_app(**shared) as (_, two):
        first = await one.post("/graphql", json=SIGN_IN)
        second = await two.post("/graphql", json=SIGN_IN)
        third = await one.post("/graphql", json=SIGN_IN)
        fourth = await two.post("/graphql", json=SIGN_IN)

    assert "errors" not in first.json() and "errors" not in second.json()
    assert cost_of(second.json())["throttleStatus"]["currentlyAvailable"] == 0
    for response in (third, fourth):
        assert response.json()["errors"][0]["extensions"]["code"] == "THROTTLED"


async def test_a_redis_outage_does_not_stop_the_shop(
    start_app: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    await make_user(email=EMAIL)
    async with start_app(**_budget(redis_url="redis://127.0.0.1:1/0")) as (_, http):
        response = await http.post("/graphql", json=SIGN_IN)

    assert response.json()["data"]["tokenCreate"]["accessToken"]
    assert cost_of(response.json())["requestedQueryCost"] == 11

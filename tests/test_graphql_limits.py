"""Abusive GraphQL documents are refused before anything runs; transport limits hold."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.accounts import RefreshToken, User
from tests.conftest import PASSWORD, make_settings
from tests.graphql_client import GraphQLClient

EMAIL = "limits@example.com"
SIGN_IN_DEPTH_1 = (
    f'mutation {{ tokenCreate(email: "{EMAIL}", password: "{PASSWORD}") {{ accessToken }} }}'
)
SIGN_IN_DEPTH_2 = (
    f'mutation {{ tokenCreate(email: "{EMAIL}", password: "{PASSWORD}") {{ user {{ id }} }} }}'
)


def _tight(start_app: Callable[..., Any]) -> Any:
    return start_app(max_query_depth=1, max_query_aliases=3, max_query_tokens=100)


async def _signed_in(session_factory: async_sessionmaker[AsyncSession]) -> tuple[int, bool]:
    """(refresh tokens issued, whether a sign-in was recorded) for the test user."""
    async with session_factory() as session:
        tokens = len((await session.scalars(select(RefreshToken))).all())
        last_login = await session.scalar(select(User.last_login_at).where(User.email == EMAIL))
    return tokens, last_login is not None


async def test_too_many_aliases_are_rejected_without_data(gql: GraphQLClient) -> None:
    query = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(200)) + " }"

    body = await gql.raw(query)

    assert body["errors"] == [
        {
            "message": "200 aliases found; at most 30 are allowed.",
            "extensions": {"code": "TOO_MANY_ALIASES", "aliases": 200, "maxAliases": 30},
        }
    ]
    assert "data" not in body


async def test_too_many_tokens_are_rejected_without_data(gql: GraphQLClient) -> None:
    query = "{ " + "me { id } " * 1300 + "}"  # 2 + 4 * 1300 = 5202 tokens

    body = await gql.raw(query)

    assert "data" not in body
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (
            "Syntax Error: Document contains more than 5000 tokens. Parsing aborted.",
            "GRAPHQL_PARSE_FAILED",
        )
    ]


async def test_depth_limit_refuses_a_deep_mutation_before_it_runs(
    start_app: Callable[..., Any],
    make_user: Callable[..., Any],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    # Strawberry counts depth from 0 at the root field: `tokenCreate { user { id } }` is 2.
    await make_user(email=EMAIL)
    async with _tight(start_app) as (_, http):
        refused = await http.post("/graphql", json={"query": SIGN_IN_DEPTH_2})
        assert refused.status_code == 200
        assert refused.json()["errors"] == [
            {
                "message": "Query depth 2 exceeds the maximum of 1.",
                "extensions": {"code": "QUERY_TOO_DEEP", "depth": 2, "maxDepth": 1},
            }
        ]
        assert "data" not in refused.json()
        assert await _signed_in(session_factory) == (0, False)

        allowed = await http.post("/graphql", json={"query": SIGN_IN_DEPTH_1})

    assert "errors" not in allowed.json()
    assert allowed.json()["data"]["tokenCreate"]["accessToken"]
    assert await _signed_in(session_factory) == (1, True)


async def test_depth_limit_allows_a_query_at_the_limit(start_app: Callable[..., Any]) -> None:
    async with _tight(start_app) as (_, http):
        response = await http.post("/graphql", json={"query": "{ me { id } }"})

    assert response.json()["data"] == {"me": None}
    assert "errors" not in response.json()


async def test_alias_limit_is_exact(start_app: Callable[..., Any]) -> None:
    three = "{ a: me { id } b: me { id } c: me { id } }"
    four = "{ a: me { id } b: me { id } c: me { id } d: me { id } }"
    async with _tight(start_app) as (_, http):
        allowed = await http.post("/graphql", json={"query": three})
        refused = await http.post("/graphql", json={"query": four})

    assert allowed.json()["data"] == {"a": None, "b": None, "c": None}
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["TOO_MANY_ALIASES"]
    assert refused.json()["errors"][0]["message"] == "4 aliases found; at most 3 are allowed."


async def test_token_limit_is_exact(start_app: Callable[..., Any]) -> None:
    hundred = "{ " + "me { id } " * 24 + "__typename " * 2 + "}"  # 2 + 96 + 2 tokens
    async with _tight(start_app) as (_, http):
        allowed = await http.post("/graphql", json={"query": hundred})
        refused = await http.post("/graphql", json={"query": hundred + " { id }"})

    assert allowed.json()["data"] == {"me": None, "__typename": "Query"}
    assert "data" not in refused.json()
    assert [(e["message"], e["extensions"]["code"]) for e in refused.json()["errors"]] == [
        (
            "Syntax Error: Document contains more than 100 tokens. Parsing aborted.",
            "GRAPHQL_PARSE_FAILED",
        )
    ]


async def test_query_over_get_works(http: AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{me{id}}"})

    assert response.status_code == 200
    assert response.json()["data"] == {"me": None}


async def test_mutation_over_get_is_refused_and_not_run(
    http: AsyncClient,
    make_user: Callable[..., Any],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(email=EMAIL)

    refused = await http.get("/graphql", params={"query": SIGN_IN_DEPTH_1})

    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert refused.json() == {
        "errors": [
            {"message": "Send mutations with POST.", "extensions": {"code": "METHOD_NOT_ALLOWED"}}
        ]
    }
    assert await _signed_in(session_factory) == (0, False)
    # The same document over POST does sign in, so the check above can see a sign-in.
    allowed = await http.post("/graphql", json={"query": SIGN_IN_DEPTH_1})
    assert allowed.json()["data"]["tokenCreate"]["accessToken"]
    assert await _signed_in(session_factory) == (1, True)


def _body_of(size: int) -> bytes:
    """A valid `{me{id}}` request padded with JSON whitespace to exactly `size` bytes."""
    body = b'{"query": "{me{id}}"}'
    return body + b" " * (size - len(body))


async def test_request_body_above_the_limit_gets_413(http: AsyncClient) -> None:
    headers = {"content-type": "application/json"}
    limit = make_settings().max_request_bytes

    at_limit = await http.post("/graphql", content=_body_of(limit), headers=headers)
    above = await http.post("/graphql", content=_body_of(limit + 1), headers=headers)

    assert at_limit.status_code == 200
    assert at_limit.json()["data"] == {"me": None}
    assert above.status_code == 413
    assert above.json() == {
        "errors": [
            {"message": "Request body too large.", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}
        ]
    }


async def test_chunked_request_body_above_the_limit_gets_413(http: AsyncClient) -> None:
    limit = make_settings().max_request_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield _body_of(limit + 1)

    response = await http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


async def test_graphiql_is_served_in_development(start_app: Callable[..., Any]) -> None:
    async with start_app(environment="development") as (_, http):
        response = await http.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "graphiql" in response.text.lower()


async def test_graphiql_is_not_served_in_production(start_app: Callable[..., Any]) -> None:
    async with start_app(environment="production", debug=False) as (_, http):
        response = await http.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 404
    assert response.text == "Not Found"


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_works_in_development(start_app: Callable[..., Any]) -> None:
    async with start_app(environment="development") as (_, http):
        response = await http.post("/graphql", json={"query": INTROSPECTION})

    assert response.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_is_refused_in_production(start_app: Callable[..., Any]) -> None:
    async with start_app(environment="production", debug=False) as (_, http):
        response = await http.post("/graphql", json={"query": INTROSPECTION})

    body = response.json()
    assert "data" not in body
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (
            "GraphQL introspection has been disabled, but the requested query contained the "
            "field '__schema'.",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "GraphQL introspection has been disabled, but the requested query contained the "
            "field 'queryType'.",
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ]

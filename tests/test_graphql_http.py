"""GraphQL over HTTP as the spec says: media types, request errors, malformed requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.auth.social import clear_jwks_cache
from models.accounts import RefreshToken, User
from tests.conftest import PASSWORD
from tests.fakes.google_jwks import CLIENT_ID, FakeGoogle
from tests.fakes.local_server import LocalServer

SPEC = "application/graphql-response+json"
SPEC_CONTENT_TYPE = "application/graphql-response+json; charset=utf-8"
EMAIL = "http@example.com"
SIGN_IN = f'mutation {{ tokenCreate(email: "{EMAIL}", password: "{PASSWORD}") {{ accessToken }} }}'


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body["errors"]]


async def _signed_in(session_factory: async_sessionmaker[AsyncSession]) -> tuple[int, bool]:
    async with session_factory() as session:
        tokens = len((await session.scalars(select(RefreshToken))).all())
        last_login = await session.scalar(select(User.last_login_at).where(User.email == EMAIL))
    return tokens, last_login is not None


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (SPEC, SPEC_CONTENT_TYPE),
        (f"{SPEC}, application/json;q=0.9", SPEC_CONTENT_TYPE),
        (f"application/json, {SPEC}", SPEC_CONTENT_TYPE),  # a tie: the spec's type wins
        (f"application/json, {SPEC};q=0.5", "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        (None, "application/json"),
        (f"text/html, {SPEC};q=0.1", SPEC_CONTENT_TYPE),
    ],
)
async def test_the_answer_is_in_the_media_type_the_client_accepts(
    http: AsyncClient, accept: str | None, media: str
) -> None:
    headers = {"Accept": accept} if accept else {}

    response = await http.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.json()["data"] == {"me": None}


@pytest.mark.parametrize("accept", ["text/plain", "application/xml, text/*", f"{SPEC};q=0"])
async def test_a_client_that_accepts_neither_gets_406(http: AsyncClient, accept: str) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Accept": accept}
    )

    assert response.status_code == 406
    assert codes(response.json()) == ["NOT_ACCEPTABLE"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ me { id }", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ('{ me(id: "x") { id } }', "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { products(first: $n) { totalCount } }", "BAD_USER_INPUT"),
    ],
)
async def test_a_request_error_is_400_without_data_in_the_spec_media_type(
    http: AsyncClient, query: str, code: str
) -> None:
    spec = await http.post("/graphql", json={"query": query}, headers={"Accept": SPEC})
    legacy = await http.post("/graphql", json={"query": query})

    assert spec.status_code == 400
    assert spec.headers["content-type"] == SPEC_CONTENT_TYPE
    assert codes(spec.json()) == [code]
    assert "data" not in spec.json()
    # Clients older than the spec keep 200 for a well-formed request.
    assert legacy.status_code == 200
    assert codes(legacy.json()) == [code]
    assert "data" not in legacy.json()


async def test_a_field_error_keeps_200_and_data_in_the_spec_media_type(http: AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": '{ user(id: "VXNlcjox") { id } }'}, headers={"Accept": SPEC}
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"user": None}
    assert codes(response.json()) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"42", "The request body must be a JSON object (batches are not served)."),
        (b'"x"', "The request body must be a JSON object (batches are not served)."),
        (b"null", "The request body must be a JSON object (batches are not served)."),
        (b"[]", "The request body must be a JSON object (batches are not served)."),
        (
            b'[{"query": "{ me { id } }"}]',
            "The request body must be a JSON object (batches are not served).",
        ),
        (b"{not json", "The request body is not valid JSON."),
        (b"", "The request body is not valid JSON."),
        (b'{"query": "\\ud800"}', "The request body is not valid JSON."),  # lone surrogate
        (b'{"query": 1' + b"0" * 5000 + b"}", "The request body is not valid JSON."),
        (b"{}", "No GraphQL query found in the request."),
        (b'{"query": null}', "No GraphQL query found in the request."),
        (b'{"query": ""}', "No GraphQL query found in the request."),
        (b'{"query": 42}', "`query` must be a string."),
        (b'{"query": {"a": 1}}', "`query` must be a string."),
        (b'{"query": ["{ me { id } }"]}', "`query` must be a string."),
        (b'{"query": true}', "`query` must be a string."),
        (b'{"query": "{ me { id } }", "variables": []}', "`variables` must be an object or null."),
        (b'{"query": "{ me { id } }", "variables": "x"}', "`variables` must be an object or null."),
        (
            b'{"query": "{ me { id } }", "operationName": 1}',
            "`operationName` must be a string or null.",
        ),
        (b'{"query": "{ me { id } }", "extensions": 1}', "`extensions` must be an object or null."),
    ],
)
@pytest.mark.parametrize("accept", [SPEC, "application/json"])
async def test_a_malformed_request_is_400_with_a_code(
    http: AsyncClient, body: bytes, message: str, accept: str
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json", "Accept": accept}
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]
    }


@pytest.mark.parametrize(
    "params",
    [
        {"query": "{ me { id } }", "variables": "{nope"},
        {"query": "{ me { id } }", "variables": "[1]"},
        {},
    ],
)
async def test_malformed_get_parameters_are_400(http: AsyncClient, params: dict[str, str]) -> None:
    response = await http.get("/graphql", params=params, headers={"Accept": SPEC})

    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_get_reads_variables_and_operation_name(http: AsyncClient) -> None:
    response = await http.get(
        "/graphql",
        params={
            "query": "query A { a: __typename } "
            "query B($n: Int) { products(first: $n) { totalCount } }",
            "operationName": "B",
            "variables": '{"n": 0}',
        },
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"products": {"totalCount": 0}}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415(http: AsyncClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}

    response = await http.post("/graphql", content=b'{"query": "{ me { id } }"}', headers=headers)

    assert response.status_code == 415
    assert codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


async def test_a_mutation_over_get_is_405_in_every_media_type(
    http: AsyncClient,
    make_user: Callable[..., Any],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(email=EMAIL)

    spec = await http.get("/graphql", params={"query": SIGN_IN}, headers={"Accept": SPEC})

    assert spec.status_code == 405
    assert spec.headers["allow"] == "POST"
    assert codes(spec.json()) == ["METHOD_NOT_ALLOWED"]
    assert await _signed_in(session_factory) == (0, False)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_http_is_refused(http: AsyncClient, method: str) -> None:
    query = "subscription { accountEvents { kind } }"
    if method == "GET":
        response = await http.get("/graphql", params={"query": query})
    else:
        response = await http.post("/graphql", json={"query": query})

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Subscriptions are served over WebSocket (graphql-transport-ws) "
                "at /graphql.",
                "extensions": {"code": "OPERATION_NOT_SUPPORTED"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"query": "query A { __typename } query B { __typename }"},
            "Must provide operation name if query contains multiple operations.",
        ),
        ({"query": "query A { __typename }", "operationName": "C"}, 'Unknown operation named "C".'),
    ],
)
async def test_an_operation_that_cannot_be_chosen_is_a_request_error(
    http: AsyncClient, body: dict[str, Any], message: str
) -> None:
    spec = await http.post("/graphql", json=body, headers={"Accept": SPEC})
    legacy = await http.post("/graphql", json=body)

    assert (spec.status_code, legacy.status_code) == (400, 200)
    for response in (spec, legacy):
        assert response.json()["errors"] == [
            {"message": message, "extensions": {"code": "BAD_REQUEST"}}
        ]
        assert "data" not in response.json()


async def test_other_methods_are_405(http: AsyncClient) -> None:
    response = await http.put("/graphql", json={"query": "{ me { id } }"})

    assert response.status_code == 405


async def test_content_checks_run_before_the_cache(start_app: Callable[..., Any]) -> None:
    query = {"query": "{ products(first: 1) { totalCount } }"}
    async with start_app(public_cache_seconds=60) as (_, http):
        first = await http.post("/graphql", json=query, headers={"Accept": SPEC})
        hit = await http.post("/graphql", json=query, headers={"Accept": SPEC})
        wrong_type = await http.post(
            "/graphql", content=first.request.content, headers={"content-type": "text/plain"}
        )
        not_acceptable = await http.post("/graphql", json=query, headers={"Accept": "text/csv"})
        legacy = await http.post("/graphql", json=query)

    assert (first.status_code, first.headers["x-cache"]) == (200, "miss")
    assert (hit.status_code, hit.headers["x-cache"]) == (200, "hit")
    assert hit.headers["content-type"] == first.headers["content-type"] == SPEC_CONTENT_TYPE
    assert hit.json()["data"] == first.json()["data"]
    assert wrong_type.status_code == 415 and "x-cache" not in wrong_type.headers
    assert not_acceptable.status_code == 406 and "x-cache" not in not_acceptable.headers
    # The cache key holds the media type: the legacy client gets its own answer.
    assert (legacy.status_code, legacy.headers["x-cache"]) == (200, "miss")
    assert legacy.headers["content-type"] == "application/json"


class HangingGoogle:
    """An identity provider whose key endpoint answers only after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        async def certs(request: Request) -> JSONResponse:
            await asyncio.sleep(delay)
            return JSONResponse({"keys": []})

        self.server = LocalServer(Starlette(routes=[Route("/certs", certs)]))
        self.url = f"{self.server.url}/certs"


async def test_a_request_over_the_time_limit_is_stopped_and_writes_nothing(
    start_app: Callable[..., Any], count: Callable[..., Any]
) -> None:
    google = HangingGoogle(delay=3.0)
    token = FakeGoogle().id_token()
    clear_jwks_cache()
    with google.server:
        async with start_app(
            request_timeout_seconds=0.3,
            google_client_id=CLIENT_ID,
            google_jwks_url=google.url,
        ) as (_, http):
            started = time.monotonic()
            response = await http.post(
                "/graphql",
                json={
                    "query": "mutation($t: String!) { socialTokenCreate(provider: GOOGLE, "
                    "token: $t) { accessToken } }",
                    "variables": {"t": token},
                },
                headers={"Accept": SPEC},
            )
            elapsed = time.monotonic() - started
    clear_jwks_cache()

    assert response.status_code == 503
    assert response.json() == {
        "errors": [
            {
                "message": "The request took too long and was stopped.",
                "extensions": {"code": "REQUEST_TIMEOUT"},
            }
        ]
    }
    assert elapsed < 2.0  # stopped at the bound, not when the provider answered
    assert await count(User) == 0
    assert await count(RefreshToken) == 0

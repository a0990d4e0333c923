"""Production hides unexpected errors (and logs them) but keeps deliberate ones readable."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.logs import request_id
from app.main import create_app
from tests.conftest import make_settings

UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/nope"
NODE = '{ node(id: "VXNlcjox") { id } }'  # User:1, read through the database
PRODUCTION = {"environment": "production", "debug": False}
LEAKS = ("127.0.0.1", "nope", "Errno", "Connect", "refused", "asyncpg", "postgres", "Traceback")


class _RequestIds(logging.Handler):
    """Remembers the request id in effect when each record was logged."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(request_id.get())


@pytest.fixture
def logged_request_ids() -> Iterator[list[str]]:
    handler = _RequestIds()
    logger = logging.getLogger("app.graphql")
    logger.addHandler(handler)
    try:
        yield handler.seen
    finally:
        logger.removeHandler(handler)


async def test_production_masks_an_unexpected_error_and_logs_it(
    start_app: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
    logged_request_ids: list[str],
) -> None:
    caplog.set_level(logging.ERROR, logger="app.graphql")
    async with start_app(bind=False, database_url=UNREACHABLE_DATABASE, **PRODUCTION) as (_, http):
        response = await http.post(
            "/graphql", json={"query": NODE}, headers={"X-Request-ID": "mask-1"}
        )

    assert response.status_code == 200
    assert response.json() == {
        "data": {"node": None},
        "errors": [
            {
                "message": "Unexpected error.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["node"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR"},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": 3, "actualQueryCost": 2}},
    }
    assert [leak for leak in LEAKS if leak in response.text] == []
    logged = [r for r in caplog.records if r.name == "app.graphql" and r.levelno == logging.ERROR]
    assert [record.getMessage() for record in logged] == ["unexpected error in node"]
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], OSError)
    assert logged_request_ids == ["mask-1"]


async def test_debug_shows_the_real_error(start_app: Callable[..., Any]) -> None:
    async with start_app(
        bind=False, database_url=UNREACHABLE_DATABASE, environment="production", debug=True
    ) as (_, http):
        response = await http.post("/graphql", json={"query": NODE})

    body = response.json()
    assert body["data"] == {"node": None}
    [error] = body["errors"]
    assert error["path"] == ["node"]
    assert error["message"] != "Unexpected error."
    assert "127.0.0.1" in error["message"]


async def test_production_keeps_permission_errors(start_app: Callable[..., Any]) -> None:
    async with start_app(bind=True, **PRODUCTION) as (_, http):
        response = await http.post("/graphql", json={"query": '{ user(id: "VXNlcjox") { id } }'})

    assert response.json() == {
        "data": {"user": None},
        "errors": [
            {
                "message": "Sign in to do this.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["user"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": 3, "actualQueryCost": 2}},
    }


async def test_production_keeps_token_errors(start_app: Callable[..., Any]) -> None:
    async with start_app(bind=True, **PRODUCTION) as (_, http):
        response = await http.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": "Bearer not.a.jwt"},
        )

    assert response.json() == {
        "data": {"me": None},
        "errors": [
            {
                "message": "Access token is invalid.",
                "locations": [{"line": 1, "column": 3}],
                "path": ["me"],
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
        "extensions": {"cost": {"requestedQueryCost": 3, "actualQueryCost": 2}},
    }


async def test_production_keeps_user_errors(
    start_app: Callable[..., Any], make_user: Callable[..., Any]
) -> None:
    await make_user(email="masking@example.com")
    mutation = (
        'mutation { tokenCreate(email: "masking@example.com", password: "wrong-Password-1") '
        "{ accessToken userErrors { field code message } } }"
    )
    async with start_app(bind=True, **PRODUCTION) as (_, http):
        response = await http.post("/graphql", json={"query": mutation})

    assert response.json() == {
        "data": {
            "tokenCreate": {
                "accessToken": None,
                "userErrors": [
                    {
                        "field": ["email"],
                        "code": "INVALID_CREDENTIALS",
                        "message": "Please, enter valid credentials.",
                    }
                ],
            }
        },
        "extensions": {"cost": {"requestedQueryCost": 43, "actualQueryCost": 16}},
    }


async def test_production_refuses_to_start_without_jwt_secret() -> None:
    app = create_app(make_settings(jwt_secret=None, **PRODUCTION))

    with pytest.raises(RuntimeError, match=r"^JWT_SECRET must be set when ENVIRONMENT=production$"):
        async with app.router.lifespan_context(app):
            pass

"""Fixtures: a migrated PostgreSQL, one app per session, a rolled-back transaction per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from app import migrate
from app.db import create_engine, create_session_factory, start_embedded_postgres, to_asyncpg_url
from app.main import create_app
from app.settings import Settings
from tests.graphql_client import GraphQLClient

pytest_plugins = ["tests.factories"]
pytest.register_assert_rewrite("tests.factories")  # before the import below

from tests.factories import PASSWORD  # noqa: E402  (the tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = SecretStr("test-signing-key-that-is-long-enough-for-hs256-0123456789")


def _test_database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return to_asyncpg_url(url)
    return start_embedded_postgres(ROOT / ".commerce" / "test")


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "debug": True,
        "database_url": _test_database_url(),
        "redis_url": os.environ.get("REDIS_URL") or None,
        "jwt_secret": TEST_SECRET,
        "data_dir": ROOT / ".commerce" / "test",
        "migrate_on_start": False,
        # Tests read their own writes at once; tests/test_response_cache.py turns it on.
        "public_cache_seconds": 0,
        # The suite signs in hundreds of times from one address; test_rate_limits.py turns it on.
        "rate_limits_enabled": False,
        # Likewise the query cost budget; tests/test_query_cost.py turns it on.
        "cost_budget_enabled": False,
        # Test runs against other databases may share this Redis.
        "pubsub_prefix": f"test-{os.getpid()}",
        "worker_in_process": False,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis: skipped locally when there is none, a failure under CI=true."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {url} is unreachable under CI: {exc}")
        pytest.skip(f"Redis at {url} is unreachable (set REDIS_URL)")
    return url


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A freshly migrated database: schema dropped, then every migration applied."""
    assert settings.database_url
    engine = create_engine(settings.database_url, settings)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection in an outer transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


class CommittedSessions:
    """Sessions on the real engine, each on its own connection: data they write is
    committed (races need it), so each test names what to remove afterwards."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self._cleanup: list[Any] = []

    def remove_after(self, *statements: Any) -> async_sessionmaker[AsyncSession]:
        """Run these (DELETE) statements when the test ends; the factory, for chaining."""
        self._cleanup.extend(statements)
        return self.factory

    async def clean_up(self) -> None:
        async with self.factory() as session, session.begin():
            for statement in self._cleanup:
                await session.execute(statement)


@pytest.fixture
async def committed_sessions(engine: AsyncEngine) -> AsyncIterator[CommittedSessions]:
    sessions = CommittedSessions(create_session_factory(engine))
    try:
        yield sessions
    finally:
        await sessions.clean_up()


@pytest.fixture
def session_factory(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions that join the test's transaction; their commits are savepoints."""
    # Without autoflush, like the app's own sessions (app.db.create_session_factory): a
    # service must flush what a bulk statement needs, and the tests see it when it does not.
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


async def _running(app: Starlette) -> AsyncIterator[Starlette]:
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def started_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Starlette]:
    async for app in _running(create_app(settings)):
        yield app


@pytest.fixture
def app(started_app: Starlette, session_factory: async_sessionmaker[AsyncSession]) -> Starlette:
    """The session's app, its sessions bound to this test's transaction."""
    started_app.state.resources.session_factory = session_factory
    return started_app


@pytest.fixture
def start_app(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """Start an app with its own settings; yields (app, HTTP client).

    With `bind` its sessions join the test transaction; without, it uses the
    database its settings name (possibly an unreachable one).
    """

    @asynccontextmanager
    async def start(*, bind: bool = True, **overrides: Any) -> AsyncIterator[Any]:
        app = create_app(make_settings(**overrides))
        async with app.router.lifespan_context(app):
            if bind:
                app.state.resources.session_factory = session_factory
            async with AsyncClient(
                transport=ASGITransport(app), base_url="http://testserver"
            ) as http:
                yield app, http

    return start


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[AsyncClient]:
    # Plain ASGITransport here: httpx-ws's transport holds a task group that must be
    # closed in the task that opened it, so WebSocket tests open their own (ws_client).
    async with AsyncClient(transport=ASGITransport(app), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def gql(http: AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def count(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """Rows of a model (optionally filtered) as the database sees them now."""

    async def count_rows(model: type, *where: Any) -> int:
        async with session_factory() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return count_rows


@pytest.fixture
def sign_in(gql: GraphQLClient) -> Callable:
    """Sign in through the API; return the token payload."""

    async def sign(email: str, password: str = PASSWORD) -> dict[str, Any]:
        data = await gql.execute(TOKEN_CREATE, email=email, password=password)
        payload = data["tokenCreate"]
        assert payload["userErrors"] == [], payload
        return payload

    return sign


TOKEN_CREATE = """
mutation($email: String!, $password: String!) {
  tokenCreate(email: $email, password: $password) {
    accessToken refreshToken expiresIn
    user { id email role }
    userErrors { field message code }
  }
}"""

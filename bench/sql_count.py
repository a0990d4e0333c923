"""SQL statements per request: each scenario's query once through the ASGI app, in-process.

A `before_cursor_execute` listener on the app's engine counts what one request
sends to PostgreSQL. Each query runs once first (connection setup, caches), then
once counted; the public response cache is turned off so the query executes.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python -m bench.sql_count
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import httpx
from sqlalchemy import event

from app.main import create_app
from app.settings import Settings
from bench.scenarios import build


def bench_settings(database_url: str) -> Settings:
    """Production-like settings for in-process runs (no cache, masked errors)."""
    values: dict[str, Any] = {
        "environment": "production",
        "debug": False,
        "database_url": database_url,
        "jwt_secret": os.environ.get("JWT_SECRET") or "bench-only-secret-" + "0" * 32,
        "migrate_on_start": False,
        "public_cache_seconds": 0,
        "log_level": "WARNING",
    }
    return Settings(**values)


async def count_statements(settings: Settings, *, products: int) -> dict[str, list[str]]:
    """Scenario name -> the SQL statements one request of it sends."""
    app = create_app(settings)
    counts: dict[str, list[str]] = {}
    async with app.router.lifespan_context(app):
        engine = app.state.resources.engine
        statements: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as http:
            scenarios = await build(http, "/graphql", products=products)
            event.listen(engine.sync_engine, "before_cursor_execute", record)
            try:
                for scenario in scenarios:
                    for _ in range(2):  # the first run warms connections and caches
                        statements.clear()
                        response = await http.post("/graphql", json=scenario.body(0))
                        if response.status_code != 200 or response.json().get("errors"):
                            raise RuntimeError(f"{scenario.name}: {response.text[:300]}")
                    counts[scenario.name] = list(statements)
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", record)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000, help="N the database holds.")
    parser.add_argument("--show", action="store_true", help="Print the statements too.")
    args = parser.parse_args()
    settings = bench_settings(os.environ["DATABASE_URL"])
    counts = asyncio.run(count_statements(settings, products=args.products))
    for name, statements in counts.items():
        print(f"{name}: {len(statements)} statements")
        if args.show:
            for statement in statements:
                print("   ", " ".join(statement.split())[:160])


if __name__ == "__main__":
    main()

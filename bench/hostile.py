"""CPU per hostile document: what each costs the server to answer or refuse, in-process.

Every document of tests/hostile_documents.py (each under MAX_QUERY_TOKENS) and, for scale,
the storefront scenarios and GraphiQL's introspection query go through the ASGI app with
production settings. Each run prefixes the document with a new comment, so no parser or
validation cache helps: this is the cold, worst case. The CPU time of the process is
measured around each request (`time.process_time`; the in-process client adds about the
same to every row, so the floor row `{ __typename }` is measured too and rows are also
given relative to it). Median and maximum of `--runs` runs; the bound is 100 ms.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench python -m bench.hostile
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from graphql import get_introspection_query

from app import migrate
from app.db import to_asyncpg_url
from app.main import create_app
from app.settings import Settings
from bench.scenarios import FIRST_PAGE, PRODUCT_PAGE, SEARCH
from bench.sql_count import bench_settings
from tests.hostile_documents import HOSTILE

BOUND_MS = 100.0
FLOOR = ("floor: { __typename }", "{ __typename }", None)


def documents() -> list[tuple[str, str, dict[str, Any] | None]]:
    legit = [
        ("storefront: first page", FIRST_PAGE, None),
        ("storefront: product page", PRODUCT_PAGE, {"slug": "no-such-product"}),
        ("storefront: search + facets", SEARCH, {"filter": {"search": "shirt"}}),
    ]
    hostile = [(f"hostile: {d.name}", d.query, d.variables) for d in HOSTILE]
    return [FLOOR, *legit, *hostile]


async def _rows(
    settings: Settings, runs: int, docs: list[tuple[str, str, dict[str, Any] | None]]
) -> list[dict[str, Any]]:
    rows = []
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await migrate.upgrade(app.state.resources.engine)
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name, query, variables in docs:
                samples, status, code = [], 0, ""
                for run in range(runs + 1):
                    text = f"# run {run} {time.time_ns()}\n{query}"  # never a cache hit
                    started = time.process_time()
                    response = await http.post(
                        "/graphql", json={"query": text, "variables": variables}
                    )
                    if run:  # the first run warms connections and imports
                        samples.append((time.process_time() - started) * 1000)
                    status = response.status_code
                    errors = response.json().get("errors") or [{}]
                    code = (errors[0].get("extensions") or {}).get("code") or "answered"
                rows.append(
                    {
                        "name": name,
                        "median": statistics.median(samples),
                        "max": max(samples),
                        "status": status,
                        "code": code,
                    }
                )
    return rows


async def measure(runs: int, database_url: str) -> list[dict[str, Any]]:
    production = bench_settings(database_url)
    production.cost_budget_enabled = False
    development = bench_settings(database_url)
    development.cost_budget_enabled = False
    development.introspection = True
    introspection = [("GraphiQL introspection (introspection on)", get_introspection_query(), None)]
    return await _rows(production, runs, documents()) + await _rows(
        development, runs, introspection
    )


def report(rows: list[dict[str, Any]], runs: int) -> str:
    floor = rows[0]["median"]
    lines = [
        "# CPU per document, cold (bench/hostile.py)",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- {runs} runs per document after one warm-up; CPU of the process around one request",
        "- command: `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench "
        ".venv/bin/python -m bench.hostile`",
        f"- bound: {BOUND_MS:.0f} ms; floor (`{{ __typename }}`): {floor:.2f} ms median",
        "",
        "| document | median ms | max ms | x floor | status | code |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['median']:.1f} | {row['max']:.1f} | "
            f"{row['median'] / floor:.1f} | {row['status']} | {row['code']} |"
        )
    worst = max(rows, key=lambda row: row["max"])
    lines += [
        "",
        f"Worst maximum: {worst['max']:.1f} ms ({worst['name']}); "
        f"{'within' if worst['max'] <= BOUND_MS else 'OVER'} the {BOUND_MS:.0f} ms bound.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--output", type=Path, default=Path("bench/RESULTS-hostile.md"))
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench")
    rows = asyncio.run(measure(args.runs, to_asyncpg_url(url)))
    text = report(rows, args.runs)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""In-process latency of the catalog read path: the three scenarios through the ASGI app.

No HTTP server, no load generator: httpx's ASGITransport calls the app directly, one
request at a time, so the numbers are the cost of one request in this process (parsing,
validation, execution, SQL round trips, serialisation). Public cache off. `cpu` is this
process's CPU time per request (median of the rounds): PostgreSQL's share and other
processes on the machine do not count in it, so it is the steadier number on a busy box.

    python -m bench.read_path --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    python -m bench.read_path --database-url ... --profile          # cProfile top 20
    python -m bench.read_path --database-url ... --save /tmp/answers  # one answer per scenario
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import time
from pathlib import Path

import httpx

from app.main import create_app
from app.settings import Settings
from bench.scenarios import Scenario, build
from bench.sql_count import bench_settings


def read_path_settings(database_url: str) -> Settings:
    """Production-like, cache off, limits that never refuse a bench request."""
    base = bench_settings(database_url)
    return base.model_copy(
        update={
            "max_query_cost": 1_000_000,
            "cost_budget_capacity": 1_000_000_000,
            "cost_budget_restore_rate": 1_000_000_000.0,
            "rate_limits_enabled": False,
        }
    )


async def _post(http: httpx.AsyncClient, scenario: Scenario, number: int) -> bytes:
    response = await http.post("/graphql", json=scenario.body(number))
    if response.status_code != 200 or b'"errors"' in response.content:
        raise RuntimeError(f"{scenario.name}: {response.text[:300]}")
    return response.content


async def run(args: argparse.Namespace) -> dict[str, bytes]:
    """Time the scenarios (print), or with --save return their answers by scenario name."""
    settings = read_path_settings(args.database_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as http:
            scenarios = await build(http, "/graphql", products=args.products)
            if args.only:
                scenarios = [s for s in scenarios if s.name in args.only.split(",")]
            if args.save:
                saved = {}
                for scenario in scenarios:
                    answers = [await _post(http, scenario, n) for n in range(args.save_count)]
                    saved[scenario.name] = b"\n".join(answers) + b"\n"
                return saved
            for scenario in scenarios:
                for number in range(20):  # warm-up: connections, document cache
                    await _post(http, scenario, number)
                profiler = cProfile.Profile() if args.profile else None
                samples: list[float] = []
                round_medians: list[float] = []
                cpu: list[float] = []  # this process's CPU per request: less noisy than wall
                for _ in range(args.rounds):
                    round_samples = []
                    cpu_start = time.process_time()
                    for number in range(args.requests):
                        start = time.perf_counter()
                        if profiler is not None:
                            profiler.enable()
                        await _post(http, scenario, number)
                        if profiler is not None:
                            profiler.disable()
                        round_samples.append((time.perf_counter() - start) * 1000)
                    cpu.append((time.process_time() - cpu_start) * 1000 / args.requests)
                    samples += round_samples
                    round_medians.append(statistics.median(round_samples))
                samples.sort()
                p90 = samples[int(len(samples) * 0.9) - 1]
                print(
                    f"{scenario.name:13} median {statistics.median(samples):6.2f} ms  "
                    f"p90 {p90:6.2f} ms  cpu {statistics.median(cpu):6.2f} ms  round medians "
                    + " ".join(f"{value:.2f}" for value in round_medians)
                )
                if profiler is not None:
                    stats = pstats.Stats(profiler)
                    stats.sort_stats(args.sort).print_stats(args.top)
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--products", type=int, default=10_000, help="N the database holds.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100, help="Requests per round.")
    parser.add_argument("--profile", action="store_true", help="cProfile, top by cumulative.")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--sort", default="cumulative", help="pstats order, e.g. tottime.")
    parser.add_argument("--only", help="Comma-separated scenario names.")
    parser.add_argument("--save", help="Write answers to this folder instead of timing.")
    parser.add_argument("--save-count", type=int, default=24)
    args = parser.parse_args()
    saved = asyncio.run(run(args))
    if args.save:
        folder = Path(args.save)
        folder.mkdir(parents=True, exist_ok=True)
        for name, answers in saved.items():
            (folder / f"{name}.json").write_bytes(answers)
        print(f"saved {args.save_count} answers per scenario in {folder}")


if __name__ == "__main__":
    main()

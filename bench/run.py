"""Run the storefront benchmark end to end and write bench/RESULTS.md.

Creates the database (default `bench` on 127.0.0.1:5432, user postgres), migrates
and seeds it with `commerce`, counts SQL statements per request in-process,
starts `commerce serve --workers 1` in production mode and the floor (bench/floor.py:
the same answers from hand-written SQL and orjson) beside it, checks that both answer
the same, drives every scenario at every concurrency for warm-up + duration seconds
against the API and then the floor, repeats, reports medians and the API's share of its
floor, and stops both servers. Everything stays on 127.0.0.1 and is bounded in time.

    python -m bench.run                     # the real measurement (about 6 minutes)
    python -m bench.run --products 500 --duration 3 --warmup 1 --repeat 1 --validation
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench import floor, report, wrk
from bench.load import LoadResult, rss_kib, run_load
from bench.scenarios import build
from bench.sql_count import bench_settings, count_statements
from bench.wrk import WrkResult, run_wrk

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".commerce" / "bench"
HOST = "127.0.0.1"
PROTECTED_DATABASES = {"test", "test_staff", "test_reviews", "postgres", "template0", "template1"}


@dataclass
class Options:
    database: str
    products: int
    port: int
    duration: float
    warmup: float
    repeat: int
    concurrency: list[int]
    cache: bool
    validation: bool
    reuse_database: bool
    output: Path
    client: str = "wrk"
    floor: bool = True
    workers: int = 1
    redis_url: str | None = None  # with --shared-cache: PUBLIC_CACHE_SHARED through it


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Storefront load benchmark (127.0.0.1 only).")
    parser.add_argument("--database", default="bench", help="Database to (re)create and seed.")
    parser.add_argument("--products", type=int, default=10_000, help="Products to seed.")
    parser.add_argument("--port", type=int, default=8765, help="Port of the server under test.")
    parser.add_argument("--duration", type=float, default=15.0, help="Measured seconds per run.")
    parser.add_argument("--warmup", type=float, default=3.0, help="Unmeasured seconds first.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per cell; the median counts.")
    parser.add_argument("--concurrency", default="8,32", help="Comma-separated worker counts.")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="Keep the public response cache on (default: off, so every request executes).",
    )
    parser.add_argument(
        "--validation",
        action="store_true",
        help="Label the results a validation run, not a measurement.",
    )
    parser.add_argument(
        "--reuse-database", action="store_true", help="Keep an existing database (no drop)."
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="Measure the API only (no bench/floor.py)."
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes.")
    parser.add_argument(
        "--shared-cache",
        metavar="REDIS_URL",
        help="With --cache: share it between the workers through this Redis.",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        default="wrk" if wrk.available() else "httpx",
        help="Load client: wrk (C, light; apt-get install wrk) or the Python one.",
    )
    args = parser.parse_args(argv)
    if args.database in PROTECTED_DATABASES:
        parser.error(f"refusing to drop or seed the shared database {args.database!r}")
    return Options(
        database=args.database,
        products=args.products,
        port=args.port,
        duration=args.duration,
        warmup=args.warmup,
        repeat=max(1, args.repeat),
        concurrency=[int(value) for value in args.concurrency.split(",") if value.strip()],
        cache=args.cache,
        validation=args.validation,
        reuse_database=args.reuse_database,
        output=args.output,
        client=args.client,
        floor=not args.no_floor,
        workers=max(1, args.workers),
        redis_url=args.shared_cache,
    )


def database_url(options: Options) -> str:
    return f"postgresql://postgres@{HOST}:5432/{options.database}"


async def create_database(options: Options) -> None:
    """Drop and create the bench database (or only create it when missing)."""
    connection = await asyncpg.connect(host=HOST, port=5432, user="postgres", database="postgres")
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", options.database
        )
        if exists and not options.reuse_database:
            await connection.execute(f'DROP DATABASE "{options.database}" WITH (FORCE)')
            exists = None
        if not exists:
            await connection.execute(f'CREATE DATABASE "{options.database}"')
    finally:
        await connection.close()


def server_env(options: Options) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(options),
        ENVIRONMENT="production",
        DEBUG="false",
        JWT_SECRET=env.get("JWT_SECRET") or "bench-only-secret-" + "0" * 32,
        MIGRATE_ON_START="false",
        # One load client is one client to the cost budget; a shop has thousands.
        COST_BUDGET_ENABLED="false",
    )
    if not options.cache:
        env["PUBLIC_CACHE_SECONDS"] = "0"
    env.pop("REDIS_URL", None)  # one worker: in-process pub/sub is enough
    if options.redis_url:
        env.update(REDIS_URL=options.redis_url, PUBLIC_CACHE_SHARED="true")
    return env


def commerce(*args: str, env: dict[str, str], timeout: float) -> float:
    """Run a `commerce` command; return its wall time in seconds."""
    command = [str(Path(sys.executable).parent / "commerce"), *args]
    print("$", " ".join(command), flush=True)
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, timeout=timeout, cwd=ROOT)
    return time.perf_counter() - began


def worker_pid(pid: int) -> int:
    """A uvicorn worker: the server itself with one worker, else its largest child (the
    first child of several workers is multiprocessing's small resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        kids = [int(kid) for kid in children.read_text().split()]
        if kids:
            return max(kids, key=rss_kib)
    return pid


@contextlib.contextmanager
def running_server(options: Options, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`commerce serve` on 127.0.0.1 until ready; stopped (SIGINT, then SIGKILL) on exit."""
    command = [
        str(Path(sys.executable).parent / "commerce"),
        "serve",
        "--host",
        HOST,
        "--workers",
        str(options.workers),
        "--port",
        str(options.port),
    ]
    with _running(command, env, "server.log", f"http://{HOST}:{options.port}/readyz") as server:
        yield server


@contextlib.contextmanager
def running_floor(options: Options, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """bench/floor.py on the next port, until stopped."""
    command = [
        sys.executable,
        "-m",
        "bench.floor",
        "serve",
        "--database-url",
        env["DATABASE_URL"],
        "--port",
        str(options.port + 1),
    ]
    with _running(command, env, "floor.log", f"http://{HOST}:{options.port + 1}/") as floor:
        yield floor


@contextlib.contextmanager
def _running(
    command: list[str], env: dict[str, str], log_name: str, ready_url: str
) -> Iterator[subprocess.Popen[bytes]]:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    print("$", " ".join(command), f"> {LOG_DIR / log_name}", flush=True)
    with (LOG_DIR / log_name).open("wb") as log:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        try:
            _wait_ready(server, ready_url)
            yield server
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)


def _wait_ready(server: subprocess.Popen[bytes], url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}; see its log")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code in (200, 404):  # the floor: 404 at /
                return
        time.sleep(0.3)
    raise RuntimeError(f"the server was not ready within {timeout:.0f} s")


Results = dict[tuple[str, int], list[LoadResult | WrkResult]]


async def measure(
    options: Options, pid: int, floor_pid: int | None = None
) -> tuple[Results, Results]:
    """Each cell's runs against the API and, right after each, against the floor."""
    url = f"http://{HOST}:{options.port}/graphql"
    floor_url = f"http://{HOST}:{options.port + 1}/graphql"
    async with httpx.AsyncClient(timeout=10) as client:
        scenarios = await build(client, url, products=options.products)
    if floor_pid is not None:
        differ = await floor.check(url, floor_url, products=options.products)
        if differ:
            raise RuntimeError(f"{differ} answers of the floor differ from the API's")
    results: Results = {}
    floors: Results = {}
    targets = [("api", url, pid, results)]
    if floor_pid is not None:
        targets.append(("floor", floor_url, floor_pid, floors))
    for scenario in scenarios:
        for concurrency in options.concurrency:
            for run in range(options.repeat):
                for label, target, target_pid, into in targets:
                    runner = run_wrk if options.client == "wrk" else run_load
                    result = await runner(
                        target,
                        scenario,
                        concurrency=concurrency,
                        duration=options.duration,
                        warmup=options.warmup,
                        worker_pid=target_pid,
                    )
                    into.setdefault((scenario.name, concurrency), []).append(result)
                    print(
                        f"{scenario.name:>13} c={concurrency:<3} {label:<5} run {run + 1}: "
                        f"{result.rps:8.1f} req/s  p50 {result.percentile(0.5):7.1f} ms  "
                        f"p99 {result.percentile(0.99):7.1f} ms  errors {result.errors}"
                        + (f"  ({result.first_error})" if result.first_error else ""),
                        flush=True,
                    )
    return results, floors


def floor_row(
    api_runs: list[LoadResult | WrkResult], floor_runs: list[LoadResult | WrkResult]
) -> dict[str, float]:
    """The API's share of its floor: the median of the runs' ratios (each pair ran back to
    back, so a slower minute of the machine slows both)."""
    return {
        "api_rps": statistics.median(run.rps for run in api_runs),
        "floor_rps": statistics.median(run.rps for run in floor_runs),
        "share_pct": statistics.median(
            100 * a.rps / f.rps if f.rps else 0.0 for a, f in zip(api_runs, floor_runs, strict=True)
        ),
        "api_p99": statistics.median(run.percentile(0.99) for run in api_runs),
        "floor_p99": statistics.median(run.percentile(0.99) for run in floor_runs),
        "floor_rss_mib": statistics.median(run.rss_peak_kib / 1024 for run in floor_runs),
    }


def median_row(runs: list[LoadResult | WrkResult]) -> dict[str, float]:
    return {
        "rps": statistics.median(run.rps for run in runs),
        "p50": statistics.median(run.percentile(0.5) for run in runs),
        "p99": statistics.median(run.percentile(0.99) for run in runs),
        "errors": statistics.median(run.errors for run in runs),
        "requests": statistics.median(run.requests for run in runs),
        "cache_hit_pct": statistics.median(
            100 * run.cache_hits / len(run.latencies) if run.latencies else 0 for run in runs
        ),
        "rss_mib": statistics.median(run.rss_peak_kib / 1024 for run in runs),
    }


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    env = server_env(options)
    started = time.time()
    print(f"database {options.database} on {HOST}: (re)creating", flush=True)
    asyncio.run(create_database(options))
    migrate_seconds = commerce("migrate", env=env, timeout=300)
    seed_seconds = commerce("seed", "--products", str(options.products), env=env, timeout=600)
    statements = asyncio.run(
        count_statements(bench_settings(env["DATABASE_URL"]), products=options.products)
    )
    with running_server(options, env) as server, contextlib.ExitStack() as stack:
        pid = worker_pid(server.pid)
        floor_pid = stack.enter_context(running_floor(options, env)).pid if options.floor else None
        idle_rss = rss_kib(pid) / 1024
        results, floors = asyncio.run(measure(options, pid, floor_pid))
        after_rss = rss_kib(pid) / 1024
    rows = {key: median_row(runs) for key, runs in results.items()}
    shares = {key: floor_row(results[key], runs) for key, runs in floors.items()}
    facts = {
        "validation": options.validation,
        "products": options.products,
        "started": started,
        "migrate_seconds": migrate_seconds,
        "seed_seconds": seed_seconds,
        "idle_rss_mib": idle_rss,
        "after_rss_mib": after_rss,
        "statements": {name: len(sql) for name, sql in statements.items()},
        "argv": sys.argv[1:] if argv is None else argv,
    }
    options.output.write_text(report.render(options, rows, facts, shares))
    raw = options.output.with_suffix(".json")
    raw.write_text(
        json.dumps(
            {
                "facts": facts,
                "rows": {f"{name}@{c}": row for (name, c), row in rows.items()},
                "floor": {f"{name}@{c}": row for (name, c), row in shares.items()},
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {options.output} and {raw}")


if __name__ == "__main__":
    main()

"""A small closed-loop load generator: N workers, warm-up, then a fixed measured window.

Each worker sends one request, waits for the answer, and sends the next. Only
requests that start after the warm-up and finish inside the window count. An
error is a transport failure, a non-200 status, or a body with `errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from bench.scenarios import Scenario


@dataclass
class LoadResult:
    scenario: str
    concurrency: int
    duration: float
    latencies: list[float] = field(default_factory=list)  # seconds, measured window only
    errors: int = 0
    cache_hits: int = 0
    rss_peak_kib: int = 0
    first_error: str | None = None

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.duration if self.duration else 0.0

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


async def _sample_rss(pid: int, result: LoadResult, stop: asyncio.Event) -> None:
    while not stop.is_set():
        result.rss_peak_kib = max(result.rss_peak_kib, rss_kib(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


async def run_load(
    url: str,
    scenario: Scenario,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    worker_pid: int | None = None,
    request_timeout: float = 10.0,
) -> LoadResult:
    """Drive `scenario` at `url` with `concurrency` workers for warm-up + duration seconds."""
    result = LoadResult(scenario.name, concurrency, duration)
    numbers = itertools.count()
    start = time.perf_counter()
    measure_from, end = start + warmup, start + warmup + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json", "accept": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        while (began := time.perf_counter()) < end:
            body = orjson.dumps(scenario.body(next(numbers)))
            error = None
            hit = False
            try:
                response = await client.post(url, content=body, headers=headers)
                hit = response.headers.get("x-cache") == "hit"
                if response.status_code != 200:
                    error = f"HTTP {response.status_code}: {response.text[:200]}"
                elif b'"errors"' in response.content and orjson.loads(response.content).get(
                    "errors"
                ):
                    error = response.text[:300]
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            finished = time.perf_counter()
            if began < measure_from or finished > end:
                continue
            if error is None:
                result.latencies.append(finished - began)
                result.cache_hits += hit
            else:
                result.errors += 1
                result.first_error = result.first_error or error

    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(worker_pid, result, stop)) if worker_pid else None
    async with httpx.AsyncClient(limits=limits, timeout=request_timeout) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    stop.set()
    if sampler is not None:
        await sampler
    return result

"""Drive a scenario with wrk (C, one thread): a load client that leaves the CPU to the server.

The Python client in bench/load.py costs about as much CPU per request as the
server on a 2-core machine, so it measures both at once. wrk with one thread
uses a fraction of one core. Bodies cycle through the scenario's first 200
requests; a response with `"errors"` in its body counts as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.load import _sample_rss
from bench.scenarios import Scenario

BODIES = 200

_LUA = """
local bodies = {%s}
local counter = 0
errors = 0
hits = 0
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
function setup(thread) table.insert(threads, thread) end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter %% #bodies) + 1])
end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then errors = errors + 1 end
  if headers["x-cache"] == "hit" then hits = hits + 1 end
end
function done(summary, latency, requests)
  local e, h = 0, 0
  for _, t in ipairs(threads) do e = e + t:get("errors"); h = h + t:get("hits") end
  io.write(string.format("GQL_ERRORS %%d\\nCACHE_HITS %%d\\n", e, h))
  for _, p in ipairs({50, 99}) do
    io.write(string.format("PCT %%d %%f\\n", p, latency:percentile(p) / 1000.0))
  end
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class WrkResult:
    scenario: str
    concurrency: int
    duration: float
    requests: int = 0
    errors: int = 0
    cache_hits: int = 0
    rss_peak_kib: int = 0
    first_error: str | None = None
    percentiles: dict[float, float] = field(default_factory=dict)  # q -> ms

    @property
    def rps(self) -> float:
        return (self.requests - self.errors) / self.duration if self.duration else 0.0

    @property
    def latencies(self) -> list[float]:
        """Only its length is used by the report (cache-hit share)."""
        return [0.0] * max(0, self.requests - self.errors)

    def percentile(self, q: float) -> float:
        return self.percentiles.get(q, float("nan"))


def _script(scenario: Scenario) -> str:
    bodies = []
    for number in range(BODIES):
        text = orjson.dumps(scenario.body(number)).decode()
        bodies.append(f"[==[{text}]==]")
    return _LUA % ",".join(bodies)


def _parse(output: str, result: WrkResult) -> None:
    requests = re.search(r"(\d+) requests in", output)
    result.requests = int(requests.group(1)) if requests else 0
    errors = re.search(r"GQL_ERRORS (\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result.errors = (int(errors.group(1)) if errors else 0) + (
        sum(int(x) for x in socket.groups()) if socket else 0
    )
    hits = re.search(r"CACHE_HITS (\d+)", output)
    result.cache_hits = int(hits.group(1)) if hits else 0
    for pct, value in re.findall(r"PCT (\d+) ([\d.]+)", output):
        result.percentiles[int(pct) / 100] = float(value)
    if result.errors:
        result.first_error = "see wrk output"


async def run_wrk(
    url: str,
    scenario: Scenario,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    worker_pid: int | None = None,
) -> WrkResult:
    """Warm up, then measure `duration` seconds with `concurrency` connections on one thread."""
    result = WrkResult(scenario.name, concurrency, duration)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(_script(scenario))
        script = Path(handle.name)
    try:
        base = ["wrk", "-t1", f"-c{concurrency}", "--latency", "-s", str(script), url]
        if warmup > 0:
            await asyncio.to_thread(
                subprocess.run,
                [*base[:3], f"-d{max(1, round(warmup))}s", *base[3:]],
                capture_output=True,
                check=True,
                timeout=warmup + 30,
            )
        stop = asyncio.Event()
        sampler = (
            asyncio.create_task(_sample_rss(worker_pid, result, stop))  # type: ignore[arg-type]
            if worker_pid
            else None
        )
        completed = await asyncio.to_thread(
            subprocess.run,
            [*base[:3], f"-d{max(1, round(duration))}s", *base[3:]],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 30,
        )
        stop.set()
        if sampler is not None:
            with contextlib.suppress(Exception):
                await sampler
        _parse(completed.stdout, result)
    finally:
        script.unlink(missing_ok=True)  # noqa: ASYNC240 - a tiny local file
    return result

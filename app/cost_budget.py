"""Per-client query-cost budgets: a leaky bucket, in Redis (shared by every instance) or,
without REDIS_URL, in process memory (one process only).

A bucket holds at most `capacity` points and refills at `restore_rate` points a second.
An operation takes its requested cost before it runs (THROTTLED when the bucket holds
less) and settles the difference to its actual cost afterwards, as Shopify's API does.
A client is the signed-in user, else the client address (IPv6 grouped by /64, which one
subscriber usually holds whole).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

MEMORY_BUCKETS = 100_000  # least recently used buckets beyond this are forgotten (full)

# KEYS[1]: the bucket. ARGV: capacity, restore rate, cost, mode (take | settle | peek).
# Redis' clock, so every instance agrees on the refill; floats go back as strings.
_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local mode = ARGV[4]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'a', 't')
local available = tonumber(state[1])
local at = tonumber(state[2])
if available == nil or at == nil then
  available = capacity
  at = now
end
available = math.min(capacity, available + math.max(0, now - at) * rate)
if mode == 'peek' then
  return {1, tostring(available), '0'}
end
if mode == 'take' and cost > available then
  return {0, tostring(available), tostring((cost - available) / rate)}
end
available = math.min(capacity, available - cost)
redis.call('HSET', KEYS[1], 'a', tostring(available), 't', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil((capacity - available) / rate) + 1)
return {1, tostring(available), '0'}
"""


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: int
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": math.floor(self.currently_available),
            "restoreRate": self.restore_rate,
        }


class Throttled(Exception):
    """The client's bucket holds less than the operation asks for."""

    def __init__(self, status: ThrottleStatus, retry_after: float) -> None:
        super().__init__(f"Throttled: try again in {math.ceil(retry_after)} seconds.")
        self.status = status
        self.retry_after = max(1, math.ceil(retry_after))


def client_key(*, user_id: int | None, address: str | None) -> str:
    """The bucket of a request: its user, else its address (IPv6 by /64)."""
    if user_id is not None:
        return f"user:{user_id}"
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return f"addr:{(address or 'unknown')[:64]}"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return f"ip:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"ip:{ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip}"


class CostBudget:
    def __init__(
        self, *, capacity: int, restore_rate: float, redis: Redis | None, prefix: str
    ) -> None:
        self.capacity = capacity
        self.restore_rate = restore_rate
        self._prefix = f"{prefix}:cost:"
        self._script = redis.register_script(_SCRIPT) if redis is not None else None
        self._memory: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _status(self, available: float) -> ThrottleStatus:
        return ThrottleStatus(self.capacity, available, self.restore_rate)

    async def take(self, client: str, cost: int) -> ThrottleStatus:
        """Reserve `cost` points; Throttled (nothing taken) when the bucket holds less."""
        allowed, available, wait = await self._run(client, cost, "take")
        if not allowed:
            raise Throttled(self._status(available), wait)
        return self._status(available)

    async def settle(self, client: str, extra: int) -> ThrottleStatus:
        """Charge `extra` more points (negative: give back what an answer did not use)."""
        return self._status((await self._run(client, extra, "settle"))[1])

    async def peek(self, client: str) -> ThrottleStatus:
        return self._status((await self._run(client, 0, "peek"))[1])

    async def _run(self, client: str, cost: int, mode: str) -> tuple[bool, float, float]:
        if self._script is None:
            return self._in_memory(client, cost, mode)
        try:
            allowed, available, wait = await self._script(
                keys=[self._prefix + client],
                args=[self.capacity, self.restore_rate, cost, mode],
            )
        except RedisError as exc:  # fail open: a budget outage must not stop the shop
            log.warning("cost budget unavailable, not enforced: %s", exc)
            return True, float(self.capacity), 0.0
        return bool(allowed), float(available), float(wait)

    def _in_memory(self, client: str, cost: int, mode: str) -> tuple[bool, float, float]:
        now = time.monotonic()
        available, at = self._memory.get(client, (float(self.capacity), now))
        available = min(self.capacity, available + max(0.0, now - at) * self.restore_rate)
        if mode == "peek":
            return True, available, 0.0
        if mode == "take" and cost > available:
            return False, available, (cost - available) / self.restore_rate
        available = min(float(self.capacity), available - cost)
        self._memory[client] = (available, now)
        self._memory.move_to_end(client)
        while len(self._memory) > MEMORY_BUCKETS:
            self._memory.popitem(last=False)
        return True, available, 0.0

"""The public response cache shared by every process through Redis (PUBLIC_CACHE_SHARED).

The in-process cache (app/response_cache.py) stays in front: a hit there costs no round
trip. Behind it, answers live in Redis for PUBLIC_CACHE_SECONDS, so what one process
computed serves the others. A public change committed anywhere drops, in one Lua script,
every Redis answer that read one of its tags (and those whose reads are unknown), bumps a
generation counter and publishes the tags; each process drops the same from its own cache
when the message arrives (`listen`). An answer computed while any change committed is not
stored: `put` only writes if the generation is still the one `get` saw, so a slow request
cannot put back what a change just removed.

Keys, under PUBSUB_PREFIX: `<p>:rc:a:<sha256>` an answer (its requested cost, a newline, the
body), `<p>:rc:t:<tag>` the keys of answers that read a tag, `<p>:rc:u` those whose reads are
unknown, `<p>:rc:gen` the generation; channel `<p>:rc:changes`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from contextlib import suppress

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.response_cache import MAX_TAGS, CachedAnswer, ResponseCache, Tags, entry_limit

log = logging.getLogger(__name__)

# KEYS: answer, generation, untagged set, tag sets...; ARGV: generation seen, ttl ms, value.
_PUT = """
local generation = redis.call('GET', KEYS[2]) or '0'
if generation ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
local sets = {}
if #KEYS == 3 then sets = {KEYS[3]} else for i = 4, #KEYS do sets[#sets + 1] = KEYS[i] end end
for _, set in ipairs(sets) do
  redis.call('SADD', set, KEYS[1])
  redis.call('PEXPIRE', set, ARGV[2] * 2)
end
return 1
"""
# KEYS: generation, untagged set, tag sets...; ARGV: channel, message.
_INVALIDATE = """
redis.call('INCR', KEYS[1])
local dropped = 0
for i = 2, #KEYS do
  local answers = redis.call('SMEMBERS', KEYS[i])
  for _, key in ipairs(answers) do dropped = dropped + redis.call('DEL', key) end
  redis.call('DEL', KEYS[i])
end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return dropped
"""


class SharedAnswers:
    """Public answers in Redis, shared by every process; see the module docstring."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_seconds: float, max_bytes: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:rc"
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self.max_entry_bytes = entry_limit(max_bytes)
        self.channel = f"{self.prefix}:changes"
        self._put = redis.register_script(_PUT)
        self._invalidate = redis.register_script(_INVALIDATE)

    def _answer_key(self, key: bytes) -> str:
        return f"{self.prefix}:a:{key.hex()}"

    async def get(self, key: bytes) -> tuple[CachedAnswer | None, bytes]:
        """The stored answer (or None) and the generation to hand back to `put`."""
        value, seen = await self.redis.mget(self._answer_key(key), f"{self.prefix}:gen")
        generation = _as_bytes(seen) if seen is not None else b"0"
        if value is None:
            return None, generation
        cost, _, body = _as_bytes(value).partition(b"\n")
        if not cost.isdigit():  # not one of ours (a shared Redis, a half-written key)
            return None, generation
        return CachedAnswer(body, int(cost)), generation

    async def put(self, key: bytes, answer: CachedAnswer, tags: Tags, generation: bytes) -> bool:
        """Store `answer` unless a change committed since `get` (or it is too big)."""
        if len(answer.body) > self.max_entry_bytes:
            return False
        if tags is not None and len(tags) > MAX_TAGS:
            tags = None
        sets = [f"{self.prefix}:t:{tag}" for tag in sorted(tags or ())]
        keys = [self._answer_key(key), f"{self.prefix}:gen", f"{self.prefix}:u", *sets]
        value = b"%d\n" % answer.requested_cost + answer.body
        return bool(await self._put(keys=keys, args=[generation, self.ttl_ms, value]))

    async def invalidate(self, tags: Iterable[str]) -> int:
        """Drop what read any of `tags` (and every answer of unknown reads) in Redis, and tell
        every process to do the same in its own cache. Returns the Redis answers dropped."""
        changed = sorted(set(tags))
        if not changed:
            return 0
        keys = [
            f"{self.prefix}:gen",
            f"{self.prefix}:u",
            *(f"{self.prefix}:t:{tag}" for tag in changed),
        ]
        message = orjson.dumps({"tags": changed})
        return int(await self._invalidate(keys=keys, args=[self.channel, message]))

    async def listen(
        self,
        local: ResponseCache,
        *,
        subscribed: asyncio.Event | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        """Apply every process's changes to `local` until cancelled. After a lost connection
        it resubscribes and then drops all of `local` (what changed meanwhile is unknown);
        while Redis is away, `local` answers live only their short TTL."""
        deaf = False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if subscribed is not None:
                    subscribed.set()
                if deaf:
                    local.invalidate_everything()
                    deaf = False
                async for message in pubsub.listen():
                    _apply(local, message.get("data"))
            except (RedisError, OSError) as exc:
                if not deaf:
                    log.warning("response cache change feed lost (%s); reconnecting", exc)
                deaf = True
            finally:
                with suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(retry_seconds)


async def shared_get(shared: SharedAnswers, key: bytes) -> tuple[CachedAnswer | None, bytes]:
    """`shared.get`, or a miss when Redis fails (then nothing will be stored either)."""
    try:
        return await shared.get(key)
    except (RedisError, OSError) as exc:
        log.warning("shared response cache unavailable: %s", exc)
        return None, b""


async def shared_put(
    shared: SharedAnswers, key: bytes, answer: CachedAnswer, tags: Tags, generation: bytes
) -> None:
    """`shared.put`, skipped when `shared_get` failed or Redis fails now."""
    if not generation:
        return
    try:
        await shared.put(key, answer, tags, generation)
    except (RedisError, OSError) as exc:
        log.warning("shared response cache unavailable: %s", exc)


def _as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _apply(local: ResponseCache, data: object) -> None:
    try:
        tags = orjson.loads(data)["tags"]  # type: ignore[arg-type]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        log.warning("ignoring a malformed response cache change message")
        return
    if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
        local.invalidate(tags)

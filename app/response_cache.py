"""A short-lived in-process cache of whole public GraphQL responses.

Public means: no Authorization header, a query (never a mutation or
subscription), and a response without errors. Such an answer is the same for
every anonymous shopper, so a storefront's hot pages (first page of products, a
product by slug) are served without executing GraphQL at all. Entries live
PUBLIC_CACHE_SECONDS; any mutation committed by this process clears the cache,
and other processes' writes show after at most the TTL (see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedAnswer:
    """An answer without its per-client `extensions`, and the cost it was asked at."""

    body: bytes
    requested_cost: int


class ResponseCache:
    def __init__(self, *, ttl_seconds: float, max_entries: int, max_bytes: int) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # One answer may take at most this share: big answers are not worth the memory.
        self.max_entry_bytes = max_bytes // 32
        self.bytes = 0
        self._entries: OrderedDict[bytes, tuple[float, CachedAnswer]] = OrderedDict()
        # Single flight: while one request computes an answer, identical ones wait for it
        # instead of all executing when an entry expires under load.
        self._inflight: dict[bytes, asyncio.Future[CachedAnswer | None]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.max_entries > 0

    @staticmethod
    def key(method: str, query_string: bytes, body: bytes) -> bytes:
        return hashlib.sha256(method.encode() + b"\0" + query_string + b"\0" + body).digest()

    def get(self, key: bytes) -> CachedAnswer | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[1]

    def put(self, key: bytes, answer: CachedAnswer) -> None:
        """Keep `answer` (unless it is too big), dropping expired and least used entries."""
        if len(answer.body) > self.max_entry_bytes:
            return
        now = time.monotonic()
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (now + self.ttl, answer)
        self.bytes += len(answer.body)
        while self._entries:
            oldest, (expires, _) = next(iter(self._entries.items()))
            full = len(self._entries) > self.max_entries or self.bytes > self.max_bytes
            if not full and expires >= now:
                break
            self._drop(oldest)

    def _drop(self, key: bytes) -> None:
        _, answer = self._entries.pop(key)
        self.bytes -= len(answer.body)

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0
        for future in self._inflight.values():
            if not future.done():
                future.set_result(None)
        self._inflight.clear()

    def waiter(self, key: bytes) -> asyncio.Future[CachedAnswer | None] | None:
        """The answer being computed for `key`, if another request is computing it."""
        return self._inflight.get(key)

    def lead(self, key: bytes) -> asyncio.Future[CachedAnswer | None]:
        """This request computes `key`; requests that ask meanwhile wait for `finish`."""
        future: asyncio.Future[CachedAnswer | None] = asyncio.get_running_loop().create_future()
        self._inflight.setdefault(key, future)
        return future

    def finish(
        self,
        key: bytes,
        future: asyncio.Future[CachedAnswer | None],
        answer: CachedAnswer | None,
    ) -> None:
        """Hand the answer (None: not cacheable) to this leader's waiters and store it."""
        if self._inflight.get(key) is future:
            del self._inflight[key]
        if not future.done():
            future.set_result(answer)
        if answer is not None:
            self.put(key, answer)

"""A short-lived in-process cache of whole public GraphQL responses.

Public means: no Authorization header, a query (never a mutation or
subscription), and a response without errors. Such an answer is the same for
every anonymous shopper, so a storefront's hot pages (first page of products, a
product by slug) are served without executing GraphQL at all. Entries live
PUBLIC_CACHE_SECONDS and carry the tags of what they read
(app/services/public_changes.py); a public change committed by this process
drops the entries that read any of its tags, and the ones whose reads are not
known. Other processes' writes show after at most the TTL (see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

# An answer that read more than this many things (a listing of many products) is kept as
# one whose reads are unknown: any public change drops it, as its `listing` tag would.
MAX_TAGS = 64
# What a tag costs in the entry and the index, counted against `max_bytes`.
TAG_BYTES = 128

Tags = frozenset[str] | None  # None: what the answer read is not known


def entry_limit(max_bytes: int) -> int:
    """The most one entry of a bounded cache may take: a 32nd of it, so no single answer or
    document (they are not worth the memory) pushes out dozens of others."""
    return max_bytes // 32


@dataclass(frozen=True)
class CachedAnswer:
    """An answer without its per-client `extensions`, and the cost it was asked at."""

    body: bytes
    requested_cost: int


@dataclass(frozen=True)
class _Entry:
    expires: float
    answer: CachedAnswer
    tags: Tags
    size: int


@dataclass(eq=False)
class Flight:
    """One request computing an answer, and the public changes committed meanwhile."""

    future: asyncio.Future[CachedAnswer | None]
    changed: set[str] = field(default_factory=set)
    everything: bool = False  # changes went unseen meanwhile (app/response_cache_shared.py)

    def is_stale(self, tags: Tags) -> bool:
        """Whether a change committed during the flight touches what the answer read."""
        if self.everything:
            return True
        return bool(self.changed) and (tags is None or not self.changed.isdisjoint(tags))


def _bounded(tags: Tags) -> Tags:
    return None if tags is None or len(tags) > MAX_TAGS else tags


class ResponseCache:
    def __init__(self, *, ttl_seconds: float, max_entries: int, max_bytes: int) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry_bytes = entry_limit(max_bytes)
        self.bytes = 0
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        # Keys of the entries by tag they read, and the keys whose reads are unknown.
        self._by_tag: dict[str, set[bytes]] = {}
        self._untagged: set[bytes] = set()
        # Single flight: while one request computes an answer, identical ones wait for it
        # instead of all executing when an entry expires under load.
        self._inflight: dict[bytes, Flight] = {}
        self._running: set[Flight] = set()  # every flight, also those nobody waits for
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
        if entry is None or entry.expires < time.monotonic():
            if entry is not None:
                self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.answer

    def put(self, key: bytes, answer: CachedAnswer, tags: Tags = None) -> None:
        """Keep `answer` (unless it is too big), dropping expired and least used entries."""
        tags = _bounded(tags)
        size = len(answer.body) + TAG_BYTES * len(tags or ())
        if size > self.max_entry_bytes:
            return
        now = time.monotonic()
        if key in self._entries:
            self._drop(key)
        self._entries[key] = _Entry(now + self.ttl, answer, tags, size)
        self.bytes += size
        if tags is None:
            self._untagged.add(key)
        for tag in tags or ():
            self._by_tag.setdefault(tag, set()).add(key)
        while self._entries:
            oldest, entry = next(iter(self._entries.items()))
            full = len(self._entries) > self.max_entries or self.bytes > self.max_bytes
            if not full and entry.expires >= now:
                break
            self._drop(oldest)

    def _drop(self, key: bytes) -> None:
        entry = self._entries.pop(key)
        self.bytes -= entry.size
        if entry.tags is None:
            self._untagged.discard(key)
        for tag in entry.tags or ():
            keys = self._by_tag[tag]
            keys.discard(key)
            if not keys:
                del self._by_tag[tag]

    def invalidate(self, tags: Iterable[str]) -> int:
        """Drop the entries that read any of `tags` and those whose reads are unknown; answers
        being computed now are not kept if they read any of them. Returns how many went."""
        changed = set(tags)
        if not changed:
            return 0
        keys = set(self._untagged)
        for tag in changed:
            keys |= self._by_tag.get(tag, set())
        for key in keys:
            self._drop(key)
        for flight in self._running:
            flight.changed |= changed
        return len(keys)

    def invalidate_everything(self) -> int:
        """Drop every entry, and keep none of the answers being computed now."""
        dropped = len(self._entries)
        for key in list(self._entries):
            self._drop(key)
        for flight in self._running:
            flight.everything = True
        return dropped

    def waiter(self, key: bytes) -> asyncio.Future[CachedAnswer | None] | None:
        """The answer being computed for `key`, if another request is computing it."""
        flight = self._inflight.get(key)
        return flight.future if flight is not None else None

    def lead(self, key: bytes) -> Flight:
        """This request computes `key`; requests that ask meanwhile wait for `finish`."""
        flight = Flight(asyncio.get_running_loop().create_future())
        self._inflight.setdefault(key, flight)
        self._running.add(flight)
        return flight

    def finish(
        self, key: bytes, flight: Flight, answer: CachedAnswer | None, tags: Tags = None
    ) -> None:
        """Hand the answer (None: not cacheable) to this leader's waiters and store it with
        the tags it read; an answer a change made stale meanwhile goes to nobody."""
        self._running.discard(flight)
        if self._inflight.get(key) is flight:
            del self._inflight[key]
        tags = _bounded(tags)
        if answer is not None and flight.is_stale(tags):
            answer = None  # waiters execute the query themselves
        if not flight.future.done():
            flight.future.set_result(answer)
        if answer is not None:
            self.put(key, answer, tags)

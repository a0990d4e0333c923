"""Automatic persisted queries, as Apollo Client's persisted-queries link speaks them.

A request names its document by `extensions.persistedQuery.sha256Hash`. Without `query`
the document comes from the store (`PersistedQueryNotFound` when it is not there, so the
client sends it again in full); with `query` the hash must be the SHA-256 of its UTF-8
text, and the document is stored once it has run without a request error (it parsed,
validated and passed every limit), so the store never holds what the limits refuse.
Store: Redis when REDIS_URL is set (shared by every process, keys
`<PUBSUB_PREFIX>:apq:<hash>` expiring after APQ_TTL_SECONDS), else an LRU in process
memory bounded by entries and bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import time
from collections import OrderedDict
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import Scope

from app.graphql_request import GraphQLRequest, HttpProblem
from app.response_cache import entry_limit
from app.settings import Settings

log = logging.getLogger(__name__)

VERSION = 1
HASH = re.compile(r"[0-9a-f]{64}")
# 200 in either media type: Apollo Client turns persisted queries off for good on a 400 or
# 500, and retries with the full query on these two messages (docs/decisions.md).
NOT_FOUND = ("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
NOT_SUPPORTED = ("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")


class DocumentStore(Protocol):
    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, query: str) -> None: ...


class MemoryStore:
    """Documents by hash, least recently used first out; one over a 32nd of `max_bytes`
    is not kept."""

    def __init__(self, *, ttl_seconds: float, max_entries: int, max_bytes: int) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, sha256: str) -> str | None:
        entry = self._entries.get(sha256)
        if entry is None or entry[0] < time.monotonic():
            if entry is not None:
                self._drop(sha256)
            return None
        self._entries.move_to_end(sha256)
        return entry[1]

    async def put(self, sha256: str, query: str) -> None:
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > entry_limit(self.max_bytes):
            return
        if sha256 in self._entries:
            self._drop(sha256)
        self._entries[sha256] = (time.monotonic() + self.ttl, query)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, sha256: str) -> None:
        _, query = self._entries.pop(sha256)
        self.bytes -= len(query.encode("utf-8", "surrogatepass"))


class RedisStore:
    def __init__(self, redis: Redis, *, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:apq:"
        self.ttl = ttl_seconds

    async def get(self, sha256: str) -> str | None:
        """The document, None when unknown or Redis is away (the client then sends it)."""
        try:
            value = await self.redis.get(self.prefix + sha256)
        except RedisError as exc:
            log.warning("persisted query lookup failed: %s", exc)
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", "surrogatepass")
        return value

    async def put(self, sha256: str, query: str) -> None:
        """Keep the document; a Redis failure only costs the next request its hash."""
        value = query.encode("utf-8", "surrogatepass")
        try:
            await self.redis.set(self.prefix + sha256, value, ex=self.ttl)
        except RedisError as exc:
            log.warning("persisted query store failed: %s", exc)


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The hash a request names (None: not a persisted query); HttpProblem when malformed."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise HttpProblem(400, "BAD_REQUEST", "`extensions.persistedQuery` must be an object.")
    version = persisted.get("version")
    if version != VERSION or isinstance(version, bool):
        raise HttpProblem(
            400,
            "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
            f"Only persisted query version {VERSION} is supported.",
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not HASH.fullmatch(sha256):
        raise HttpProblem(
            400, "BAD_REQUEST", "`sha256Hash` must be 64 lowercase hexadecimal characters."
        )
    return sha256


def query_hash(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


class PersistedQueries:
    def __init__(self, store: DocumentStore | None) -> None:
        self.store = store  # None: APQ_ENABLED is off

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis | None) -> PersistedQueries:
        if not settings.apq_enabled:
            return cls(None)
        if redis is not None:
            prefix, ttl = settings.pubsub_prefix, settings.apq_ttl_seconds
            return cls(RedisStore(redis, prefix=prefix, ttl_seconds=ttl))
        return cls(
            MemoryStore(
                ttl_seconds=settings.apq_ttl_seconds,
                max_entries=settings.apq_max_entries,
                max_bytes=settings.apq_max_bytes,
            )
        )

    async def resolve(self, request: GraphQLRequest) -> GraphQLRequest:
        """The request with its document, and the hash to store it under once it ran."""
        sha256 = requested_hash(request.extensions)
        if sha256 is None:
            return request
        if request.query is not None:
            if query_hash(request.query) != sha256:
                raise HttpProblem(
                    400,
                    "PERSISTED_QUERY_HASH_MISMATCH",
                    "`sha256Hash` is not the SHA-256 of the query.",
                )
            if self.store is None:
                return request
            return dataclasses.replace(request, persist_as=sha256)
        if self.store is None:
            raise HttpProblem(200, *NOT_SUPPORTED)
        query = await self.store.get(sha256)
        if query is None:
            raise HttpProblem(200, *NOT_FOUND)
        return dataclasses.replace(request, query=query)

    async def keep(self, sha256: str, query: str) -> None:
        assert self.store is not None
        await self.store.put(sha256, query)


def persisted_queries(scope: Scope) -> PersistedQueries:
    """The app's persisted queries (built with its resources, app/resources.py)."""
    queries: PersistedQueries = scope["app"].state.resources.persisted_queries
    return queries

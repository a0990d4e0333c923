"""The per-request (or per-WebSocket-connection) context handed to every resolver."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from app.loaders import Loaders
from app.services.public_changes import PublicReads, record_public_reads
from app.settings import Settings

if TYPE_CHECKING:
    from app.cost_budget import CostBudget
    from app.payments.registry import Gateways
    from app.pubsub import PubSub
    from app.ratelimit import RateLimiter
    from app.response_cache import ResponseCache
    from app.response_cache_shared import SharedAnswers
    from models.accounts import User

log = logging.getLogger(__name__)


@dataclass
class Context:
    """Session, user, loaders and settings of one GraphQL request.

    Over HTTP the session lives for the request. A WebSocket connection has no
    shared session: its operations run concurrently, so a subscription opens
    short sessions of its own through `session_factory`.
    """

    request: Request | WebSocket
    response: Response | None
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    pubsub: PubSub
    user: User | None = None
    auth_error: str | None = None
    connection_params: dict[str, Any] | None = None
    # WebSocket only: the access token the socket was opened with, re-checked by app/ws.py.
    access_token: str | None = None
    db_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    response_cache: ResponseCache | None = None
    shared_answers: SharedAnswers | None = None
    rate_limiter: RateLimiter | None = None
    cost_budget: CostBudget | None = None
    gateways: Gateways | None = None
    # Set after execution: a query without errors, by an anonymous client.
    cacheable: bool = False
    # Set by a resolver whose answer is one shopper's (an order by its token): never cached.
    private_answer: bool = False
    _session: AsyncSession | None = None
    _loaders: Loaders | None = None
    _public_reads: PublicReads | None = None

    @property
    def is_websocket(self) -> bool:
        return isinstance(self.request, WebSocket)

    @property
    def session(self) -> AsyncSession:
        if self.is_websocket:
            raise RuntimeError("Queries and mutations go over HTTP; WebSocket is for subscriptions")
        if self._session is None:
            self._session = self.session_factory()
            if self._may_be_cached():
                self._public_reads = record_public_reads(self._session)
        return self._session

    def _may_be_cached(self) -> bool:
        """An anonymous HTTP request while the public response cache is on."""
        cache = self.response_cache
        return (
            cache is not None
            and cache.enabled
            and not self.is_websocket
            and "authorization" not in self.request.headers
        )

    async def invalidate_public(self, changes: frozenset[str]) -> None:
        """After a commit: drop the answers that read `changes`, here at once (this process
        never serves its own stale answer) and, when shared, in Redis and every process."""
        if self.response_cache is not None:
            self.response_cache.invalidate(changes)
        if self.shared_answers is not None:
            try:
                await self.shared_answers.invalidate(changes)
            except (RedisError, OSError) as exc:  # committed: cached answers expire soon anyway
                log.warning("could not invalidate the shared response cache: %s", exc)

    def public_read_tags(self) -> frozenset[str] | None:
        """Tags of what this request read, for the response cache; None when not known."""
        return self._public_reads.result() if self._public_reads is not None else None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders.for_session(self.session, self.db_lock)
        return self._loaders

    def reset_loaders(self) -> None:
        """Forget cached rows, after a write changed them."""
        self._loaders = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

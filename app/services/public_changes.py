"""What an anonymous answer read, and what a write changed, as tags for the response cache.

Tags name what a public answer can show:

    product:<id>   a product with its variants list, images, tag list, reviews and rating
    variant:<id>   a variant with its stock total
    category:<id>  a category with its list of children
    tag:<id>       a tag
    review:<id>    a review
    user:<id>      a user row an answer shows (a review's author name); no write marks it,
                   so a renamed author shows within PUBLIC_CACHE_SECONDS
    listing        a list, a search, facets, or a slug lookup that found nothing

Writes: a catalog service calls `mark_public_change` at each write anonymous clients can
see, and `run_mutation` hands the tags to the cache once the transaction has committed.
Every mark also marks `listing`: a product listing can select any field of its products,
down to their variants' stock, their reviews, category and tags, so no catalog change
leaves every list as it was. A customer's private write (wishlist, address, profile,
preferences) marks nothing and leaves the cache warm.

Reads: while an anonymous query runs, the loaders and the listing services record the
tags of what they read (`reading`, `@reads`). A statement that runs outside both makes the
answer's reads unknown, and the cache drops an unknown answer on any public change: a
read path nobody tagged costs a warm entry, never a stale one.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

LISTING = "listing"

_CHANGES = "public_changes"
_READS = "public_reads"
# Set while a statement runs inside `reading`: its reads are accounted for.
_covered: ContextVar[bool] = ContextVar("public_read_covered", default=False)

P = ParamSpec("P")
R = TypeVar("R")


def mark_public_change(session: AsyncSession, *tags: str) -> None:
    """Answers that read any of `tags`, or any list, are stale once this transaction commits."""
    session.info.setdefault(_CHANGES, {LISTING}).update(tags)


def take_public_changes(session: AsyncSession) -> frozenset[str]:
    """Remove and return the marked tags (after commit: to invalidate; after rollback: to drop)."""
    return frozenset(session.info.pop(_CHANGES, ()))


class PublicReads:
    """The tags one anonymous query read; `unknown` once a statement ran untagged."""

    def __init__(self) -> None:
        self.tags: set[str] = set()
        self.unknown = False

    def result(self) -> frozenset[str] | None:
        """The answer's tags; None when unknown (or nothing was read: no tag to drop it by)."""
        return None if self.unknown or not self.tags else frozenset(self.tags)


def record_public_reads(session: AsyncSession) -> PublicReads:
    """Start recording what statements of this session read."""
    reads = PublicReads()
    session.info[_READS] = reads
    return reads


def note_public_read(session: AsyncSession, *tags: str) -> None:
    """Record tags found in rows already read (e.g. the tags of a product's tag list)."""
    reads: PublicReads | None = session.info.get(_READS)
    if reads is not None:
        reads.tags.update(tags)


@contextmanager
def reading(session: AsyncSession, *tags: str) -> Iterator[None]:
    """Statements run inside read what `tags` name (and what `note_public_read` adds)."""
    note_public_read(session, *tags)
    token = _covered.set(True)
    try:
        yield
    finally:
        _covered.reset(token)


def reads(
    *templates: str,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Decorate a read service (session first): its statements read the tags `templates`
    give, formatted with the call's keyword arguments ("product:{product_id}")."""

    def decorate(service: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(service)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            session: Any = args[0] if args else kwargs["session"]
            with reading(session, *(template.format(**kwargs) for template in templates)):
                return await service(*args, **kwargs)

        return run

    return decorate


@event.listens_for(Session, "do_orm_execute")
def _untagged_statement(state: ORMExecuteState) -> None:
    reads: PublicReads | None = state.session.info.get(_READS)
    if reads is not None and not _covered.get():
        reads.unknown = True

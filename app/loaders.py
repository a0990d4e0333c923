"""Per-request dataloaders: one per (entity, key), built fresh for every request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import User

T = TypeVar("T")


def _rows_by_id(
    session: AsyncSession, lock: asyncio.Lock, model: type[T]
) -> Callable[[list[int]], Coroutine[Any, Any, list[T | None]]]:
    """Batch function: rows of `model` in key order, None for misses."""

    async def load(ids: list[int]) -> list[T | None]:
        # One AsyncSession cannot run two statements at once, and loaders of
        # sibling fields dispatch concurrently: the lock serialises them.
        async with lock:
            rows = (await session.scalars(select(model).where(model.id.in_(ids)))).all()  # type: ignore[attr-defined]
        found: dict[Any, T] = {row.id: row for row in rows}  # type: ignore[attr-defined]
        return [found.get(key) for key in ids]

    return load


@dataclass
class Loaders:
    user: DataLoader[int, User | None]

    @classmethod
    def for_session(cls, session: AsyncSession, lock: asyncio.Lock) -> Loaders:
        return cls(user=DataLoader(_rows_by_id(session, lock, User)))

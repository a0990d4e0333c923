"""Forgetting abandoned anonymous carts, and reservations that ran out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.checkout import stock
from models.carts import Cart


async def purge_expired_carts(session: AsyncSession, *, now: datetime, days: float) -> int:
    """Delete open anonymous carts untouched for `days` (and expired reservations); how many.

    A cart being written meanwhile is locked: the DELETE waits, sees the new `updated_at`
    and spares it. Customers' carts and completed ones are kept.
    """
    result = await session.execute(
        delete(Cart)
        .where(
            Cart.user_id.is_(None),
            Cart.completed_at.is_(None),
            Cart.updated_at < now - timedelta(days=days),
        )
        .returning(Cart.id)
    )
    purged = len(result.all())
    await stock.purge_expired_reservations(session, now=now)
    return purged

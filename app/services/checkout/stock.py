"""What can be sold: stock on hand minus other carts' active reservations; taking reservations.

A reservation holds units of a variant for one cart in checkout until it expires. Taking one
locks the variants' stock rows (FOR UPDATE, in variant then warehouse order, the same order
checkout completion uses), so two carts cannot both hold the last unit. A variant that does
not track inventory is always available (None below means "no limit").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode
from models.carts import StockReservation
from models.catalog import Stock, Variant, Warehouse

Available = dict[int, int | None]


async def lock_stock(session: AsyncSession, variant_ids: Iterable[int]) -> None:
    """Lock the stock rows of `variant_ids` in the one fixed order (variant, warehouse)."""
    ids = sorted(set(variant_ids))
    if ids:
        await session.execute(
            select(Stock.variant_id)
            .where(Stock.variant_id.in_(ids))
            .order_by(Stock.variant_id, Stock.warehouse_id)
            .with_for_update()
        )


@dataclass(frozen=True)
class Locked:
    """A variant's stock rows, locked: (warehouse id, quantity) by allocation priority
    (default warehouse first, then by id), and what other carts' active reservations hold."""

    slots: list[tuple[int, int]]
    held: int

    @property
    def left(self) -> int:
        return max(sum(quantity for _, quantity in self.slots) - self.held, 0)


_LOCK_AND_COUNT = (
    select(
        Stock.variant_id,
        Stock.warehouse_id,
        Stock.quantity,
        Warehouse.is_default,
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .where(
            StockReservation.variant_id == Stock.variant_id,
            StockReservation.expires_at > bindparam("now", type_=DateTime(timezone=True)),
            StockReservation.cart_id != bindparam("cart_id", type_=BigInteger),
        )
        .scalar_subquery(),
    )
    .join(Warehouse, Warehouse.id == Stock.warehouse_id)
    .where(Stock.variant_id.in_(bindparam("ids", expanding=True)))
    .order_by(Stock.variant_id, Stock.warehouse_id)
    .with_for_update(of=Stock)
)
_RELEASE = delete(StockReservation).where(
    StockReservation.cart_id == bindparam("cart_id", type_=BigInteger)
)


async def lock_and_count(
    session: AsyncSession, variant_ids: Iterable[int], *, now: datetime, exclude_cart_id: int
) -> dict[int, Locked]:
    """Lock the variants' stock rows in the one fixed order (variant, warehouse) and read
    them with what other carts hold, in one statement; a variant without rows is absent."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = await session.execute(
        _LOCK_AND_COUNT, {"ids": ids, "now": now, "cart_id": exclude_cart_id}
    )
    found: dict[int, list[tuple[bool, int, int, int]]] = {}
    for variant_id, warehouse_id, quantity, is_default, reserved in rows:
        found.setdefault(variant_id, []).append((is_default, warehouse_id, quantity, reserved))
    return {
        variant_id: Locked(
            slots=[(w, q) for _, w, q, _ in sorted(items, key=lambda i: (not i[0], i[1]))],
            held=int(items[0][3]),
        )
        for variant_id, items in found.items()
    }


def stock_columns(*, now: Any, exclude_cart_id: Any = None) -> tuple[Any, Any]:
    """Two scalar subqueries correlated with `Variant.id`: units on hand over all
    warehouses, and units held by active reservations of carts other than `exclude_cart_id`
    (values or bind parameters)."""
    on_hand = (
        select(func.coalesce(func.sum(Stock.quantity), 0))
        .where(Stock.variant_id == Variant.id)
        .scalar_subquery()
    )
    held_filter = [
        StockReservation.variant_id == Variant.id,
        StockReservation.expires_at > now,
    ]
    if exclude_cart_id is not None:
        held_filter.append(StockReservation.cart_id != exclude_cart_id)
    held = (
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .where(*held_filter)
        .scalar_subquery()
    )
    return on_hand, held


def hold_end(*, cart_id: Any, now: Any) -> Any:
    """Scalar subquery: when the cart's active hold ends (null when it holds nothing), for
    values or bind parameters."""
    return (
        select(func.min(StockReservation.expires_at))
        .where(StockReservation.cart_id == cart_id, StockReservation.expires_at > now)
        .scalar_subquery()
    )


def left_of(tracked: bool, on_hand: int, held: int) -> int | None:
    """What can still be sold: None (no limit) when inventory is not tracked."""
    return max(int(on_hand) - int(held), 0) if tracked else None


async def available(
    session: AsyncSession,
    variant_ids: Iterable[int],
    *,
    now: datetime,
    exclude_cart_id: int | None = None,
) -> Available:
    """Units each variant can still sell: stock minus active reservations of other carts."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    on_hand, held = stock_columns(now=now, exclude_cart_id=exclude_cart_id)
    rows = await session.execute(
        select(Variant.id, Variant.track_inventory, on_hand, held).where(Variant.id.in_(ids))
    )
    return {
        variant_id: left_of(tracked, stock, reserved)
        for variant_id, tracked, stock, reserved in rows
    }


def shortfall(wanted: int, left: int | None) -> bool:
    return left is not None and wanted > left


async def reserve(
    session: AsyncSession,
    *,
    cart_id: int,
    quantities: Mapping[int, int],
    minutes: float,
    now: datetime,
) -> None:
    """Hold `quantities` (variant -> units) for the cart, replacing what it held before.

    INSUFFICIENT_STOCK (field `lines`) when another cart's reservation or the stock leaves too
    little; nothing is held then. `minutes` 0: reservations are off, nothing is written.
    """
    if minutes <= 0:
        return
    await lock_stock(session, quantities)
    left = await available(session, quantities, now=now, exclude_cart_id=cart_id)
    for variant_id, wanted in sorted(quantities.items()):
        if shortfall(wanted, left.get(variant_id, 0)):
            raise CartError(
                ErrorCode.INSUFFICIENT_STOCK,
                f"Only {left.get(variant_id, 0)} left of a line's variant.",
                field="lines",
            )
    await release(session, cart_id=cart_id)
    tracked = {key: value for key, value in quantities.items() if left.get(key) is not None}
    if tracked:
        expires = now + timedelta(minutes=minutes)
        await session.execute(
            insert(StockReservation),
            [
                {"cart_id": cart_id, "variant_id": key, "quantity": value, "expires_at": expires}
                for key, value in sorted(tracked.items())
            ],
        )


async def release(session: AsyncSession, *, cart_id: int) -> None:
    """Free everything the cart holds."""
    await session.execute(_RELEASE, {"cart_id": cart_id})


async def purge_expired_reservations(session: AsyncSession, *, now: datetime) -> int:
    """Delete expired reservations (they already count for nothing); returns how many."""
    result = await session.execute(
        delete(StockReservation)
        .where(StockReservation.expires_at <= now)
        .returning(StockReservation.id)
    )
    return len(result.all())

"""Keeping a cart's stock hold in step with its lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError
from app.services.checkout import stock
from app.settings import Settings
from models.carts import Cart, CartLine
from models.catalog import Product, Variant


async def buyable_quantities(session: AsyncSession, *, cart: Cart) -> dict[int, int]:
    """Variant -> quantity of the lines that can be bought (published, in the cart's currency)."""
    rows = await session.execute(
        select(CartLine.variant_id, CartLine.quantity)
        .join(Variant, Variant.id == CartLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(
            CartLine.cart_id == cart.id,
            Product.is_published,
            Variant.currency == cart.currency,
        )
    )
    return {variant_id: quantity for variant_id, quantity in rows if variant_id}


async def reserved_until(session: AsyncSession, *, cart_id: int, now: datetime) -> datetime | None:
    """When the cart's active hold ends, or None when it holds nothing now."""
    until: datetime | None = await session.scalar(select(stock.hold_end(cart_id=cart_id, now=now)))
    return until


async def follow_lines(
    session: AsyncSession, *, cart: Cart, settings: Settings, now: datetime
) -> None:
    """After a line change: an active hold is taken again for the new quantities.

    Lines only grow within what is available (checked before), so this fails only when
    staff took stock away meanwhile; then the hold is dropped instead of refusing the
    change (the view shows the stock problem, choosing a delivery method again re-holds).
    An expired hold is dropped: it counts for nothing anyway.
    """
    if await reserved_until(session, cart_id=cart.id, now=now) is None:
        await stock.release(session, cart_id=cart.id)
        return
    quantities = await buyable_quantities(session, cart=cart)
    try:
        await stock.reserve(
            session,
            cart_id=cart.id,
            quantities=quantities,
            minutes=settings.stock_reservation_minutes,
            now=now,
        )
    except CartError:  # raised before anything was written
        await stock.release(session, cart_id=cart.id)

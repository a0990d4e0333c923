"""Choosing a delivery method, which also holds the cart's stock for a while."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode
from app.services.cart.common import Caller, finish, locked_cart, utcnow
from app.services.cart.view import CartView, cart_view
from app.services.checkout import stock
from app.settings import Settings


async def set_delivery_method(
    session: AsyncSession, *, caller: Caller, method_id: int, settings: Settings
) -> CartView:
    """Choose one of the methods the cart's address and weight allow, and hold its buyable
    lines' stock for STOCK_RESERVATION_MINUTES (INSUFFICIENT_STOCK: nothing is written)."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    if cart.shipping_address is None:
        raise CartError(
            ErrorCode.SHIPPING_ADDRESS_REQUIRED,
            "Set a shipping address first.",
            field="deliveryMethodId",
        )
    before = await cart_view(
        session, cart=cart, now=now, prices_include_tax=settings.prices_include_tax
    )
    if method_id not in {method.id for method in before.delivery_methods}:
        raise CartError(
            ErrorCode.DELIVERY_METHOD_UNAVAILABLE,
            "This delivery method is not available for this cart.",
            field="deliveryMethodId",
        )
    cart.shipping_method_id = method_id
    quantities = {
        line.row.variant_id: line.row.quantity
        for line in before.lines
        if line.priced is not None and line.row.variant_id is not None
    }
    await stock.reserve(
        session,
        cart_id=cart.id,
        quantities=quantities,
        minutes=settings.stock_reservation_minutes,
        now=now,
    )
    return await finish(session, cart=cart, settings=settings, now=now)

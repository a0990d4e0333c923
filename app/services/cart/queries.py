"""Reading a cart: by its ID (the token is the capability), or the customer's own."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError
from app.services.cart.access import cart_for, open_cart_of
from app.services.cart.common import utcnow
from app.services.cart.view import CartView, cart_view
from app.settings import Settings


async def find_cart(
    session: AsyncSession, *, token: str, user_id: int | None, settings: Settings
) -> CartView | None:
    """The open cart `token` if the caller may see it; None for missing, foreign, completed."""
    try:
        cart = await cart_for(session, token=token, user_id=user_id)
    except CartError:
        return None
    return await cart_view(
        session, cart=cart, now=utcnow(), prices_include_tax=settings.prices_include_tax
    )


async def my_cart(session: AsyncSession, *, user_id: int, settings: Settings) -> CartView | None:
    """The signed-in customer's open cart, or None."""
    cart = await open_cart_of(session, user_id=user_id)
    if cart is None:
        return None
    return await cart_view(
        session, cart=cart, now=utcnow(), prices_include_tax=settings.prices_include_tax
    )

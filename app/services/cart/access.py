"""Who may use a cart: whoever holds the token of an anonymous one; only its owner otherwise."""

from __future__ import annotations

import secrets

from sqlalchemy import String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode
from models.carts import Cart

# Built once (statement construction costs more than running this one).
_CART = (
    select(Cart)
    .where(Cart.token == bindparam("token", type_=String))
    .execution_options(populate_existing=True)
)
_LOCKED = _CART.with_for_update()


def new_token() -> str:
    """256 random bits as 43 URL-safe characters: a cart's public ID, an order's guest token."""
    return secrets.token_urlsafe(32)


def not_found(field: str = "cartId") -> CartError:
    return CartError(ErrorCode.NOT_FOUND, "Cart not found.", field=field)


async def cart_for(
    session: AsyncSession,
    *,
    token: str,
    user_id: int | None,
    lock: bool = False,
    open_only: bool = True,
    field: str = "cartId",
) -> Cart:
    """The cart of `token` if this caller may use it; else NOT_FOUND (someone else's cart is
    indistinguishable from a missing one). CART_COMPLETED once it became an order.

    `lock`: FOR UPDATE, serialising every write to the cart (and its completion).
    """
    if not token:
        raise not_found(field)
    cart = await session.scalar(_LOCKED if lock else _CART, {"token": token})
    if cart is None or (cart.user_id is not None and cart.user_id != user_id):
        raise not_found(field)
    if open_only and cart.completed_at is not None:
        raise CartError(ErrorCode.CART_COMPLETED, "This cart is already an order.", field=field)
    return cart


async def open_cart_of(session: AsyncSession, *, user_id: int) -> Cart | None:
    """The signed-in customer's open cart, if any."""
    cart: Cart | None = await session.scalar(
        select(Cart).where(Cart.user_id == user_id, Cart.completed_at.is_(None))
    )
    return cart

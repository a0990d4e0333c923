"""What every cart write shares: the caller, the locked cart, the limits, the closing view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode
from app.services.cart.access import cart_for, open_cart_of
from app.services.cart.view import CartView, cart_view
from app.settings import Settings
from models.accounts import User
from models.carts import Cart


@dataclass(frozen=True)
class Caller:
    """Who writes: the cart token they hold and the signed-in user (None: anonymous)."""

    token: str
    user_id: int | None


def utcnow() -> datetime:
    return datetime.now(UTC)


async def locked_cart(session: AsyncSession, caller: Caller) -> Cart:
    """The caller's open cart, locked FOR UPDATE: every write to one cart runs one at a time."""
    return await cart_for(session, token=caller.token, user_id=caller.user_id, lock=True)


async def lock_user(session: AsyncSession, user_id: int) -> User:
    """The user row FOR NO KEY UPDATE: serialises creating or merging their one open cart."""
    user = await session.scalar(
        select(User).where(User.id == user_id).with_for_update(key_share=True)
    )
    if user is None:  # a deleted account with a still valid access token
        raise CartError(ErrorCode.NOT_FOUND, "Account not found.")
    return user


async def finish(
    session: AsyncSession, *, cart: Cart, settings: Settings, now: datetime
) -> CartView:
    """Touch the cart (purge counts from `updated_at`), flush, and price it afresh."""
    cart.updated_at = now
    await session.flush()
    return await cart_view(
        session, cart=cart, now=now, prices_include_tax=settings.prices_include_tax
    )


def check_list_size(size: int, *, settings: Settings, field: str) -> None:
    """At most CART_MAX_LINES entries in one input list."""
    if size > settings.cart_max_lines:
        raise CartError(
            ErrorCode.INVALID,
            f"At most {settings.cart_max_lines} entries are allowed.",
            field=field,
        )


def check_quantity(
    quantity: int | None, *, settings: Settings, field: str, allow_zero: bool = False
) -> int:
    """A quantity from 1 (0 when it removes) to CART_MAX_LINE_QUANTITY; null is REQUIRED."""
    if quantity is None:
        raise CartError(ErrorCode.REQUIRED, "Enter a quantity.", field=field)
    low = 0 if allow_zero else 1
    if isinstance(quantity, bool) or not low <= quantity <= settings.cart_max_line_quantity:
        raise CartError(
            ErrorCode.INVALID,
            f"Quantity must be from {low} to {settings.cart_max_line_quantity}.",
            field=field,
        )
    return quantity


async def own_open_cart(session: AsyncSession, *, user_id: int) -> Cart | None:
    """The user's open cart, locked (call after `lock_user`: user row first, then cart).

    None also when it became an order while we waited for its lock: under the user's lock
    no other open cart can appear, so the caller makes or hands over a new one.
    """
    cart = await open_cart_of(session, user_id=user_id)
    if cart is None:
        return None
    cart = await cart_for(session, token=cart.token, user_id=user_id, lock=True, open_only=False)
    return cart if cart.completed_at is None else None

"""Who buys: the cart's email, and attaching an anonymous cart to the signed-in customer.

The merge rule: a customer has at most one open cart. Attaching an anonymous cart to a
customer who has none hands it over whole. Otherwise its lines are merged into theirs:
quantities of the same variant add, capped by CART_MAX_LINE_QUANTITY and by what is
available (never below what the customer's line already had); lines that cannot be
bought (deleted, unpublished, other currency) and lines beyond CART_MAX_LINES are dropped;
the customer's email and addresses win, the anonymous cart's fill the gaps; its coupons
move over only when the customer's cart has none. The anonymous cart is then deleted,
with its stock hold.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode
from app.services.accounts import tokens as accounts
from app.services.cart.access import cart_for
from app.services.cart.common import (
    Caller,
    finish,
    lock_user,
    locked_cart,
    own_open_cart,
    utcnow,
)
from app.services.cart.reservations import follow_lines
from app.services.cart.view import CartView
from app.services.checkout import stock
from app.services.checks import clean_email
from app.settings import Settings
from models.carts import Cart, CartLine, CartPromotion
from models.catalog import Product, Variant


async def update_email(
    session: AsyncSession, *, caller: Caller, email: str, settings: Settings
) -> CartView:
    """cartEmailUpdate."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    cart.email = clean_email(email, field="email")
    return await finish(session, cart=cart, settings=settings, now=now)


async def _buyable_lines(session: AsyncSession, cart: Cart, currency: str) -> list[CartLine]:
    rows = await session.scalars(
        select(CartLine)
        .join(Variant, Variant.id == CartLine.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(CartLine.cart_id == cart.id, Product.is_published, Variant.currency == currency)
        .order_by(CartLine.id)
    )
    return list(rows)


async def _merge(
    session: AsyncSession, *, source: Cart, target: Cart, settings: Settings, now: datetime
) -> None:
    """Move `source`'s lines (and what `target` lacks) into `target`; delete `source`."""
    incoming = [
        (line.variant_id, line.quantity, line.seen_unit_price_amount,
         line.product_name, line.variant_name, line.sku)
        for line in await _buyable_lines(session, source, target.currency)
    ]  # fmt: skip
    coupons = list(
        await session.scalars(
            select(CartPromotion.promotion_id)
            .where(CartPromotion.cart_id == source.id)
            .order_by(CartPromotion.created_at)
        )
    )
    target.email = target.email or source.email
    target.shipping_address = target.shipping_address or source.shipping_address
    target.billing_address = target.billing_address or source.billing_address
    await session.delete(source)  # cascades its lines, coupons and stock hold
    await session.flush()

    existing = {
        line.variant_id: line
        for line in await session.scalars(
            select(CartLine)
            .where(CartLine.cart_id == target.id)
            .execution_options(populate_existing=True)
        )
    }
    count = len(existing)
    left = await stock.available(
        session, [row[0] for row in incoming if row[0] is not None], now=now,
        exclude_cart_id=target.id,
    )  # fmt: skip
    for variant_id, quantity, seen, product_name, variant_name, sku in incoming:
        assert variant_id is not None  # joined on the variant
        cap = settings.cart_max_line_quantity
        available = left.get(variant_id)
        if available is not None:
            cap = min(cap, available)
        line = existing.get(variant_id)
        if line is not None:
            line.quantity = max(line.quantity, min(line.quantity + quantity, cap))
            line.updated_at = now
            continue
        if count >= settings.cart_max_lines or min(quantity, cap) <= 0:
            continue
        count += 1
        session.add(
            CartLine(
                cart_id=target.id, variant_id=variant_id, quantity=min(quantity, cap),
                seen_unit_price_amount=seen, product_name=product_name,
                variant_name=variant_name, sku=sku, created_at=now, updated_at=now,
            )
        )  # fmt: skip
    has_coupons = await session.scalar(
        select(CartPromotion.promotion_id).where(CartPromotion.cart_id == target.id).limit(1)
    )
    if coupons and has_coupons is None:
        await session.execute(
            insert(CartPromotion).on_conflict_do_nothing(),
            [{"cart_id": target.id, "promotion_id": key} for key in coupons],
        )
    await session.flush()
    await follow_lines(session, cart=target, settings=settings, now=now)


async def attach(
    session: AsyncSession, *, token: str, user_id: int, settings: Settings, now: datetime
) -> Cart:
    """Give the anonymous cart `token` to the user (merged into their open cart if any)."""
    user = await lock_user(session, user_id)  # one open cart per user: creations serialise
    cart = await cart_for(session, token=token, user_id=user_id, lock=True)
    if cart.user_id == user_id:
        return cart
    target = await own_open_cart(session, user_id=user_id)
    if target is None:
        cart.user_id = user_id
        cart.email = cart.email or user.email
        await session.flush()
        return cart
    await _merge(session, source=cart, target=target, settings=settings, now=now)
    return target


async def update_buyer(session: AsyncSession, *, caller: Caller, settings: Settings) -> CartView:
    """cartBuyerUpdate: attach the cart to the signed-in caller (see the module docstring)."""
    if caller.user_id is None:
        raise CartError(ErrorCode.INVALID, "Sign in to take over a cart.", field="cartId")
    now = utcnow()
    cart = await attach(session, token=caller.token, user_id=caller.user_id, settings=settings,
                        now=now)  # fmt: skip
    return await finish(session, cart=cart, settings=settings, now=now)


async def sign_in_with_cart(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    settings: Settings,
    user_agent: str | None,
    cart_token: str,
) -> tuple[accounts.TokenSet, CartView | None]:
    """Sign in, then attach the cart `cart_token`; a cart that cannot be attached (missing,
    someone else's, completed) leaves the sign-in as it is and gives no cart."""
    issued = await accounts.create_tokens(
        session, email=email, password=password, settings=settings, user_agent=user_agent
    )
    now = utcnow()
    try:
        async with session.begin_nested():
            cart = await attach(session, token=cart_token, user_id=issued.user.id,
                                settings=settings, now=now)  # fmt: skip
            view = await finish(session, cart=cart, settings=settings, now=now)
    except CartError:
        return issued, None
    return issued, view

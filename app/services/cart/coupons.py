"""Coupons on a cart: apply one (checked against the cart as it would be priced), remove one."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode
from app.services.cart.common import Caller, finish, locked_cart, utcnow
from app.services.cart.view import CartView
from app.services.checkout import offers
from app.services.checks import clean_text
from app.settings import Settings
from models.carts import CartPromotion
from models.promotions import Promotion

MAX_CODE_LENGTH = 64

MESSAGES = {
    ErrorCode.COUPON_INVALID: "This coupon code is not valid.",
    ErrorCode.COUPON_NOT_STARTED: "This coupon is not valid yet.",
    ErrorCode.COUPON_EXPIRED: "This coupon has expired.",
    ErrorCode.COUPON_EXHAUSTED: "This coupon has been used up.",
    ErrorCode.COUPON_USED_UP_BY_CUSTOMER: "You have already used this coupon.",
    ErrorCode.COUPON_MINIMUM_NOT_MET: "The cart does not reach this coupon's minimum.",
    ErrorCode.COUPON_NOT_APPLICABLE: "This coupon does not apply to anything in the cart.",
    ErrorCode.COUPON_NOT_STACKABLE: "This coupon cannot be combined with the one applied.",
}


def clean_code(code: str) -> str:
    """A coupon code as stored: trimmed, upper-cased."""
    return clean_text(code, field="code", max_length=MAX_CODE_LENGTH, required=True).upper()


def _refuse(code: ErrorCode) -> CartError:
    return CartError(code, MESSAGES.get(code, "This coupon cannot be used."), field="code")


async def apply_coupon(
    session: AsyncSession, *, caller: Caller, code: str, settings: Settings
) -> CartView:
    """cartCouponApply: applying the same code again changes nothing."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    promotion = await session.scalar(select(Promotion).where(Promotion.code == clean_code(code)))
    if promotion is None or not promotion.is_active:
        raise _refuse(ErrorCode.COUPON_INVALID)
    applied = list(
        await session.scalars(
            select(Promotion)
            .join(CartPromotion, CartPromotion.promotion_id == Promotion.id)
            .where(CartPromotion.cart_id == cart.id)
        )
    )
    if any(row.id == promotion.id for row in applied):
        return await finish(session, cart=cart, settings=settings, now=now)
    uses = await offers.customer_uses(
        session, [promotion.id], user_id=cart.user_id, email=cart.email
    )
    problem = offers.promotion_problem(
        promotion, now=now, currency=cart.currency, customer_uses=uses.get(promotion.id, 0)
    )
    if problem is not None:
        raise _refuse(problem)
    if applied and (not promotion.stackable or not all(row.stackable for row in applied)):
        raise _refuse(ErrorCode.COUPON_NOT_STACKABLE)
    session.add(CartPromotion(cart_id=cart.id, promotion_id=promotion.id, created_at=now))
    view = await finish(session, cart=cart, settings=settings, now=now)
    mine = next(coupon for coupon in view.coupons if coupon.promotion.id == promotion.id)
    if mine.problem is not None:  # the minimum, or no eligible line: the transaction rolls back
        raise _refuse(mine.problem)
    return view


async def remove_coupon(
    session: AsyncSession, *, caller: Caller, code: str, settings: Settings
) -> CartView:
    """cartCouponRemove: NOT_FOUND when the code is not applied to this cart."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    promotion_id = await session.scalar(
        select(CartPromotion.promotion_id)
        .join(Promotion, Promotion.id == CartPromotion.promotion_id)
        .where(CartPromotion.cart_id == cart.id, Promotion.code == clean_code(code))
    )
    if promotion_id is None:
        raise CartError(ErrorCode.NOT_FOUND, "This coupon is not applied.", field="code")
    await session.execute(
        delete(CartPromotion).where(
            CartPromotion.cart_id == cart.id, CartPromotion.promotion_id == promotion_id
        )
    )
    return await finish(session, cart=cart, settings=settings, now=now)

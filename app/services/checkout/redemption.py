"""Redeeming promotions at checkout: one conditional UPDATE per promotion, and the
per-customer limit counted under an advisory lock.

Coupons are always counted (`used_count`), automatic promotions only when they have a
usage or per-customer limit (an unlimited automatic promotion would otherwise make its
row a lock every checkout waits for). Promotions are taken in id order, after the stock
rows: every checkout locks in the same order (cart, stock, promotions), so none deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CheckoutError, ErrorCode
from models.promotions import Promotion, PromotionRedemption


@dataclass(frozen=True)
class Redeem:
    promotion: Promotion
    amount: int


def counted(promotion: Promotion) -> bool:
    """Whether an order using `promotion` must count a redemption."""
    return (
        promotion.code is not None
        or promotion.usage_limit is not None
        or promotion.per_customer_limit is not None
    )


async def _customer_lock(session: AsyncSession, promotion_id: int, who: str) -> None:
    key = func.hashtextextended(f"promotion:{promotion_id}:{who}", 0)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def _check_customer(
    session: AsyncSession, promotion: Promotion, *, user_id: int | None, email: str
) -> None:
    limit = promotion.per_customer_limit
    if limit is None:
        return
    # Uses are counted by account or by email: lock both keys (account first, always).
    if user_id is not None:
        await _customer_lock(session, promotion.id, f"user:{user_id}")
    await _customer_lock(session, promotion.id, f"email:{email}")
    who = [PromotionRedemption.email == email]
    if user_id is not None:
        who.append(PromotionRedemption.user_id == user_id)
    uses = await session.scalar(
        select(func.count())
        .select_from(PromotionRedemption)
        .where(PromotionRedemption.promotion_id == promotion.id, or_(*who))
    )
    if (uses or 0) >= limit:
        raise CheckoutError(
            ErrorCode.COUPON_USED_UP_BY_CUSTOMER,
            f"You have already used {promotion.code or promotion.name}.",
            field="cartId",
        )


async def redeem(
    session: AsyncSession, items: list[Redeem], *, order_id: int, user_id: int | None,
    email: str,
) -> None:  # fmt: skip
    """Count one use of each promotion for the order; COUPON_EXHAUSTED when one is used up,
    COUPON_USED_UP_BY_CUSTOMER when this customer reached its limit."""
    email = email.lower()
    for item in sorted(items, key=lambda redeemed: redeemed.promotion.id):
        promotion = item.promotion
        await _check_customer(session, promotion, user_id=user_id, email=email)
        taken = await session.scalar(
            update(Promotion)
            .where(
                Promotion.id == promotion.id,
                or_(Promotion.usage_limit.is_(None), Promotion.used_count < Promotion.usage_limit),
            )
            .values(used_count=Promotion.used_count + 1)
            .returning(Promotion.id)
            .execution_options(synchronize_session=False)
        )
        if taken is None:
            raise CheckoutError(
                ErrorCode.COUPON_EXHAUSTED,
                f"{promotion.code or promotion.name} has been used up.",
                field="cartId",
            )
    session.add_all(
        [
            PromotionRedemption(
                promotion_id=item.promotion.id, order_id=order_id, user_id=user_id,
                email=email, amount=item.amount,
            )
            for item in items
        ]
    )  # fmt: skip

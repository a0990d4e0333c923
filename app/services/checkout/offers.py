"""What applies to a cart: delivery methods for its address and weight, its tax rate, and
the promotions (automatic ones and applied coupons) with their reasons to apply or not."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode
from app.services.checkout.pricing import Discount
from models.catalog import Category
from models.promotions import (
    Promotion,
    PromotionRedemption,
    promotion_categories,
    promotion_products,
)
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate


def _region(value: str) -> str:
    return value.strip().upper()


# Built once with bind parameters: constructing a statement costs more Python than running
# it, and these two run on every cart read.
_COUNTRY = bindparam("country", type_=String)
_REGION = bindparam("region", type_=String)
# BIGINT: 999 one-tonne units weigh more than the int4 of the method's bounds can hold.
_WEIGHT = bindparam("weight", type_=BigInteger)
_SERVING_ZONES = select(ShippingZone.id).where(
    or_(
        exists().where(
            ShippingZoneArea.zone_id == ShippingZone.id,
            ShippingZoneArea.country == _COUNTRY,
            or_(ShippingZoneArea.region == "", ShippingZoneArea.region == _REGION),
        ),
        ShippingZone.is_worldwide & ~exists().where(ShippingZoneArea.country == _COUNTRY),
    )
)
_METHODS = (
    select(ShippingMethod)
    .where(
        ShippingMethod.zone_id.in_(_SERVING_ZONES),
        ShippingMethod.is_active,
        ShippingMethod.currency == bindparam("currency", type_=String),
        or_(ShippingMethod.min_weight_grams.is_(None), ShippingMethod.min_weight_grams <= _WEIGHT),
        or_(ShippingMethod.max_weight_grams.is_(None), ShippingMethod.max_weight_grams >= _WEIGHT),
    )
    .order_by(ShippingMethod.price_amount, ShippingMethod.id)
)
_RATES = select(TaxRate.region, TaxRate.rate).where(
    TaxRate.country == _COUNTRY, or_(TaxRate.region == "", TaxRate.region == _REGION)
)


async def delivery_methods(
    session: AsyncSession, *, country: str, region: str, weight_grams: int, currency: str
) -> list[ShippingMethod]:
    """Active methods in `currency` of the zones serving the address that take the weight.

    A zone serves an address when one of its areas names the country (whole, or the
    address's region); a worldwide zone serves the countries no zone names.
    """
    rows = await session.scalars(
        _METHODS,
        {"country": country, "region": _region(region), "weight": weight_grams,
         "currency": currency},
    )  # fmt: skip
    return list(rows)


async def tax_rate(session: AsyncSession, *, country: str, region: str) -> Decimal:
    """The region's rate, else the country's, else 0."""
    rows = (await session.execute(_RATES, {"country": country, "region": _region(region)})).all()
    rates = dict(rows)
    if region and _region(region) in rates:
        return Decimal(rates[_region(region)])
    return Decimal(rates.get("", 0))


def runs_automatically(*, now: Any, currency: Any) -> ColumnElement[bool]:
    """Active code-less promotions valid `now`, in `currency` (or any), not used up
    (values or bind parameters)."""
    return and_(
        Promotion.code.is_(None),
        Promotion.is_active,
        or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now),
        or_(Promotion.ends_at.is_(None), Promotion.ends_at > now),
        or_(Promotion.currency.is_(None), Promotion.currency == currency),
        or_(Promotion.usage_limit.is_(None), Promotion.used_count < Promotion.usage_limit),
    )


def promotion_problem(
    promotion: Promotion, *, now: datetime, currency: str, customer_uses: int = 0
) -> ErrorCode | None:
    """Why `promotion` cannot be used by this cart now, or None when it can."""
    if not promotion.is_active:
        return ErrorCode.COUPON_INVALID
    if promotion.starts_at is not None and promotion.starts_at > now:
        return ErrorCode.COUPON_NOT_STARTED
    if promotion.ends_at is not None and promotion.ends_at <= now:
        return ErrorCode.COUPON_EXPIRED
    if promotion.usage_limit is not None and promotion.used_count >= promotion.usage_limit:
        return ErrorCode.COUPON_EXHAUSTED
    if promotion.per_customer_limit is not None and customer_uses >= promotion.per_customer_limit:
        return ErrorCode.COUPON_USED_UP_BY_CUSTOMER
    if promotion.currency is not None and promotion.currency != currency:
        return ErrorCode.COUPON_NOT_APPLICABLE
    return None


async def customer_uses(
    session: AsyncSession, promotion_ids: Sequence[int], *, user_id: int | None, email: str
) -> dict[int, int]:
    """Orders that redeemed each promotion for this customer (by account, else by email)."""
    if not promotion_ids or (user_id is None and not email):
        return {}
    who = []
    if user_id is not None:
        who.append(PromotionRedemption.user_id == user_id)
    if email:
        who.append(PromotionRedemption.email == email.lower())
    rows = await session.execute(
        select(PromotionRedemption.promotion_id, func.count())
        .where(PromotionRedemption.promotion_id.in_(promotion_ids), or_(*who))
        .group_by(PromotionRedemption.promotion_id)
    )
    return {promotion_id: int(count) for promotion_id, count in rows}


async def discounts(session: AsyncSession, promotions: Sequence[Promotion]) -> list[Discount]:
    """The pricing form of `promotions`, with their product and category scopes."""
    ids = [promotion.id for promotion in promotions]
    products: dict[int, set[int]] = defaultdict(set)
    categories: dict[int, set[int]] = defaultdict(set)
    if ids:
        scope = union_all(
            select(promotion_products.c.promotion_id, promotion_products.c.product_id,
                   literal("p")).where(promotion_products.c.promotion_id.in_(ids)),
            select(promotion_categories.c.promotion_id, promotion_categories.c.category_id,
                   literal("c")).where(promotion_categories.c.promotion_id.in_(ids)),
        )  # fmt: skip
        for promotion_id, key, kind in await session.execute(scope):
            (products if kind == "p" else categories)[promotion_id].add(key)
    return [
        Discount(
            promotion_id=promotion.id,
            name=promotion.name,
            kind=promotion.kind,
            code=promotion.code,
            percentage=promotion.percentage,
            amount=promotion.amount,
            min_subtotal=promotion.min_subtotal_amount,
            product_ids=frozenset(products[promotion.id]),
            category_ids=frozenset(categories[promotion.id]),
        )
        for promotion in promotions
    ]


async def category_lineage(
    session: AsyncSession, category_ids: Iterable[int]
) -> dict[int, frozenset[int]]:
    """Each category with all its ancestors (a promotion on a category covers its subtree)."""
    ids = sorted(set(category_ids))
    if not ids:
        return {}
    tree = (
        select(Category.id.label("start"), Category.id.label("node"), Category.parent_id)
        .where(Category.id.in_(ids))
        .cte("lineage", recursive=True)
    )
    parent = select(tree.c.start, Category.id, Category.parent_id).join(
        Category, Category.id == tree.c.parent_id
    )
    tree = tree.union_all(parent)
    lineage: dict[int, set[int]] = defaultdict(set)
    for start, node in await session.execute(select(tree.c.start, tree.c.node)):
        lineage[start].add(node)
    return {key: frozenset(lineage[key]) for key in ids}

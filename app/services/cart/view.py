"""A cart as the shopper must see it now: every price, stock level and rule read afresh.

The view is computed on every read and after every write (nothing computed is stored): lines
with their current unit price, discount and tax; totals; the delivery methods its address and
weight allow; the coupons and why one does not apply; and the problems to show, each with a
code. Checkout completion computes the same view and refuses while a problem remains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode
from app.services.cart.reservations import reserved_until
from app.services.checkout import offers, stock
from app.services.checkout.pricing import Discount, Priced, PricedLine, PriceLine, Shipping, price
from models.carts import Cart, CartLine, CartPromotion
from models.catalog import Product, Variant
from models.promotions import Promotion
from models.shipping import ShippingMethod


@dataclass(frozen=True)
class Problem:
    code: ErrorCode
    message: str
    line_id: int | None = None
    promotion_id: int | None = None


@dataclass(frozen=True)
class LineView:
    row: CartLine
    variant: Variant | None
    product: Product | None
    # Units this cart can still get (other carts' reservations excluded); None: no limit.
    available: int | None
    # None when the line cannot be bought at all (deleted, unpublished, other currency).
    priced: PricedLine | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class CouponView:
    promotion: Promotion
    # Why it gives nothing now (expired, used up, minimum not met...), or None.
    problem: ErrorCode | None
    amount: int


@dataclass(frozen=True)
class CartView:
    cart: Cart
    lines: list[LineView]
    priced: Priced
    coupons: list[CouponView]
    delivery_method: ShippingMethod | None
    delivery_methods: list[ShippingMethod]
    weight_grams: int
    problems: list[Problem]
    # When the cart's stock hold ends; None when it holds nothing now.
    reserved_until: datetime | None = None
    prices_include_tax: bool = False

    @property
    def address(self) -> dict[str, str] | None:
        return self.cart.shipping_address


_SKIP_CODES = {
    "minimum": ErrorCode.COUPON_MINIMUM_NOT_MET,
    "no_eligible_line": ErrorCode.COUPON_NOT_APPLICABLE,
}


async def _lines(session: AsyncSession, cart_id: int) -> list[tuple[CartLine, Variant | None]]:
    rows = await session.execute(
        select(CartLine, Variant)
        .outerjoin(Variant, Variant.id == CartLine.variant_id)
        .where(CartLine.cart_id == cart_id)
        .order_by(CartLine.id)
        .execution_options(populate_existing=True)
    )
    return [(line, variant) for line, variant in rows]


async def _products(session: AsyncSession, ids: set[int]) -> dict[int, Product]:
    if not ids:
        return {}
    rows = await session.scalars(select(Product).where(Product.id.in_(ids)))
    return {row.id: row for row in rows}


async def _coupons(session: AsyncSession, cart_id: int) -> list[Promotion]:
    rows = await session.scalars(
        select(Promotion)
        .join(CartPromotion, CartPromotion.promotion_id == Promotion.id)
        .where(CartPromotion.cart_id == cart_id)
        .order_by(CartPromotion.created_at, Promotion.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def _line_problems(
    line: CartLine, variant: Variant | None, product: Product | None, currency: str,
    left: int | None,
) -> tuple[list[Problem], bool]:  # fmt: skip
    """The line's problems, and whether it can be priced at all."""
    if variant is None or product is None:
        return [Problem(ErrorCode.PRODUCT_UNAVAILABLE, "This product is no longer sold.",
                        line.id)], False  # fmt: skip
    if not product.is_published:
        return [Problem(ErrorCode.PRODUCT_UNAVAILABLE, "This product is not available now.",
                        line.id)], False  # fmt: skip
    if variant.currency != currency:
        return [Problem(ErrorCode.CURRENCY_MISMATCH, "This item is sold in another currency.",
                        line.id)], False  # fmt: skip
    problems = []
    if left is not None and left == 0:
        problems.append(Problem(ErrorCode.OUT_OF_STOCK, "This item is out of stock.", line.id))
    elif left is not None and line.quantity > left:
        problems.append(
            Problem(ErrorCode.INSUFFICIENT_STOCK, f"Only {left} of this item left.", line.id)
        )
    if variant.price_amount != line.seen_unit_price_amount:
        problems.append(
            Problem(ErrorCode.PRICE_CHANGED, "The price of this item changed.", line.id)
        )
    return problems, True


def _best(candidates: list[Discount], run: Callable[[list[Discount]], Priced]) -> list[Discount]:
    """Of promotions that do not combine, the one that saves the most (first on a tie)."""
    best: list[Discount] = []
    saved = 0
    for candidate in candidates:
        amount = run([candidate]).discount_amount
        if amount > saved:
            best, saved = [candidate], amount
    return best


async def cart_view(
    session: AsyncSession, *, cart: Cart, now: datetime, prices_include_tax: bool
) -> CartView:
    """Price `cart` now; see the module docstring."""
    rows = await _lines(session, cart.id)
    products = await _products(session, {v.product_id for _, v in rows if v is not None})
    left = await stock.available(
        session, [v.id for _, v in rows if v is not None], now=now, exclude_cart_id=cart.id
    )
    lineage = await offers.category_lineage(
        session, [p.category_id for p in products.values() if p.category_id is not None]
    )
    views: list[tuple[CartLine, Variant | None, Product | None, list[Problem], bool]] = []
    price_lines: list[PriceLine] = []
    weight = 0
    for line, variant in rows:
        product = products.get(variant.product_id) if variant is not None else None
        found, buyable = _line_problems(
            line, variant, product, cart.currency, left.get(line.variant_id or 0)
        )
        views.append((line, variant, product, found, buyable))
        if buyable:
            assert variant is not None and product is not None
            weight += (variant.weight_grams or 0) * line.quantity
            price_lines.append(
                PriceLine(
                    key=line.id,
                    unit_amount=variant.price_amount,
                    quantity=line.quantity,
                    product_id=product.id,
                    category_ids=lineage.get(product.category_id or 0, frozenset()),
                )
            )

    address = cart.shipping_address or cart.billing_address
    country = address["country"] if address else ""
    region = address.get("country_area", "") if address else ""
    methods: list[ShippingMethod] = []
    if cart.shipping_address is not None:
        methods = await offers.delivery_methods(
            session, country=country, region=region, weight_grams=weight, currency=cart.currency
        )
    chosen = next((m for m in methods if m.id == cart.shipping_method_id), None)
    problems: list[Problem] = [problem for view in views for problem in view[3]]
    if cart.shipping_method_id is not None and chosen is None:
        problems.append(
            Problem(
                ErrorCode.DELIVERY_METHOD_UNAVAILABLE,
                "The chosen delivery method is not available for this cart any more.",
            )
        )
    rate = await offers.tax_rate(session, country=country, region=region) if address else None

    coupons = await _coupons(session, cart.id)
    automatic = await offers.automatic_promotions(session, now=now, currency=cart.currency)
    uses = await offers.customer_uses(
        session, [p.id for p in coupons], user_id=cart.user_id, email=cart.email
    )
    coupon_problems = {
        p.id: offers.promotion_problem(
            p, now=now, currency=cart.currency, customer_uses=uses.get(p.id, 0)
        )
        for p in coupons
    }
    usable = [p for p in coupons if coupon_problems[p.id] is None]
    as_discounts = {d.promotion_id: d for d in await offers.discounts(session, automatic + usable)}
    shipping = (
        Shipping(chosen.price_amount, chosen.free_above_amount) if chosen is not None else None
    )

    def run(chosen_discounts: list[Discount]) -> Priced:
        return price(
            price_lines,
            discounts=chosen_discounts,
            shipping=shipping,
            tax_rate=rate if rate is not None else Decimal(0),
            prices_include_tax=prices_include_tax,
        )

    # Automatic promotions first (stackable ones all, of the others the best one unless a
    # coupon that does not combine is applied), then coupons in the order applied.
    chosen_discounts = [as_discounts[p.id] for p in automatic if p.stackable]
    if all(p.stackable for p in usable):
        chosen_discounts += _best([as_discounts[p.id] for p in automatic if not p.stackable], run)
    priced = run(chosen_discounts + [as_discounts[p.id] for p in usable])

    amounts = {d.promotion_id: d.amount for d in priced.discounts}
    skipped = dict(priced.skipped)
    coupon_views = []
    for promotion in coupons:
        problem = coupon_problems[promotion.id]
        if problem is None and promotion.id in skipped:
            problem = _SKIP_CODES[skipped[promotion.id]]
        coupon_views.append(CouponView(promotion, problem, amounts.get(promotion.id, 0)))
        if problem is not None:
            problems.append(
                Problem(problem, f"Coupon {promotion.code} does not apply.", None, promotion.id)
            )

    by_key = {line.key: line for line in priced.lines}
    line_views = [
        LineView(
            row=line,
            variant=variant,
            product=product,
            available=left.get(line.variant_id or 0),
            priced=by_key.get(line.id) if buyable else None,
            problems=line_problems,
        )
        for line, variant, product, line_problems, buyable in views
    ]
    return CartView(
        cart=cart,
        lines=line_views,
        priced=priced,
        coupons=coupon_views,
        delivery_method=chosen,
        delivery_methods=methods,
        weight_grams=weight,
        problems=problems,
        reserved_until=await reserved_until(session, cart_id=cart.id, now=now),
        prices_include_tax=prices_include_tax,
    )

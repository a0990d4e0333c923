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

from sqlalchemy import BigInteger, DateTime, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode
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


@dataclass(frozen=True)
class _Row:
    line: CartLine
    variant: Variant | None
    product: Product | None
    left: int | None  # units this cart can still get; None: not tracked (or no variant)


# Built once with bind parameters (constructing a statement costs more Python than
# running it, and these run on every cart read and write).
_NOW = bindparam("now", type_=DateTime(timezone=True))
_CART = bindparam("cart_id", type_=BigInteger)
_ON_HAND, _HELD = stock.stock_columns(now=_NOW, exclude_cart_id=_CART)
_HOLD_ENDS = stock.hold_end(cart_id=_CART, now=_NOW)
_LINES = (
    select(CartLine, Variant, Product, _ON_HAND, _HELD, _HOLD_ENDS)
    .outerjoin(Variant, Variant.id == CartLine.variant_id)
    .outerjoin(Product, Product.id == Variant.product_id)
    .where(CartLine.cart_id == _CART)
    .order_by(CartLine.id)
    .execution_options(populate_existing=True)
)
_PROMOTIONS = (
    select(Promotion, CartPromotion.created_at)
    .outerjoin(
        CartPromotion,
        (CartPromotion.promotion_id == Promotion.id) & (CartPromotion.cart_id == _CART),
    )
    .where(
        CartPromotion.cart_id.is_not(None)
        | offers.runs_automatically(now=_NOW, currency=bindparam("currency", type_=String))
    )
    .order_by(CartPromotion.created_at, Promotion.id)
    .execution_options(populate_existing=True)
)


async def _lines(
    session: AsyncSession, cart: Cart, now: datetime
) -> tuple[list[_Row], datetime | None]:
    """The lines with their variant, product and what is left of it, and the end of the
    cart's stock hold: one statement."""
    rows = await session.execute(_LINES, {"cart_id": cart.id, "now": now})
    found: list[_Row] = []
    ends: set[datetime | None] = set()
    for line, variant, product, stocked, reserved, until in rows:
        left = stock.left_of(variant.track_inventory, stocked, reserved) if variant else None
        found.append(_Row(line, variant, product, left))
        ends.add(until)  # the same on every row
    return found, ends.pop() if ends else None


async def _promotions(
    session: AsyncSession, cart: Cart, now: datetime
) -> tuple[list[Promotion], list[Promotion]]:
    """The cart's coupons in the order applied, and the automatic promotions that run now:
    one statement."""
    rows = await session.execute(
        _PROMOTIONS, {"cart_id": cart.id, "now": now, "currency": cart.currency}
    )
    coupons: list[Promotion] = []
    automatic: list[Promotion] = []
    for promotion, applied_at in rows:
        (coupons if applied_at is not None else automatic).append(promotion)
    return coupons, automatic


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
    rows, hold_ends = await _lines(session, cart, now)
    views: list[tuple[_Row, list[Problem], bool]] = []
    weight = 0
    for row in rows:
        found, buyable = _line_problems(row.line, row.variant, row.product, cart.currency, row.left)
        views.append((row, found, buyable))
        if buyable:
            assert row.variant is not None
            weight += (row.variant.weight_grams or 0) * row.line.quantity

    address = cart.shipping_address or cart.billing_address
    country = address["country"] if address else ""
    region = address.get("country_area", "") if address else ""
    methods: list[ShippingMethod] = []
    if cart.shipping_address is not None:
        methods = await offers.delivery_methods(
            session, country=country, region=region, weight_grams=weight, currency=cart.currency
        )
    chosen = next((m for m in methods if m.id == cart.shipping_method_id), None)
    problems: list[Problem] = [problem for view in views for problem in view[1]]
    if cart.shipping_method_id is not None and chosen is None:
        problems.append(
            Problem(
                ErrorCode.DELIVERY_METHOD_UNAVAILABLE,
                "The chosen delivery method is not available for this cart any more.",
            )
        )
    rate = await offers.tax_rate(session, country=country, region=region) if address else None

    coupons, automatic = await _promotions(session, cart, now)
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
    # Category ancestors matter only to a promotion limited to categories.
    lineage: dict[int, frozenset[int]] = {}
    if any(discount.category_ids for discount in as_discounts.values()):
        lineage = await offers.category_lineage(
            session, [r.product.category_id for r in rows if r.product and r.product.category_id]
        )
    price_lines = [
        PriceLine(
            key=row.line.id,
            unit_amount=row.variant.price_amount,
            quantity=row.line.quantity,
            product_id=row.product.id,
            category_ids=lineage.get(row.product.category_id or 0, frozenset()),
        )
        for row, _, buyable in views
        if buyable and row.variant is not None and row.product is not None
    ]
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
            row=row.line,
            variant=row.variant,
            product=row.product,
            available=row.left,
            priced=by_key.get(row.line.id) if buyable else None,
            problems=line_problems,
        )
        for row, line_problems, buyable in views
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
        reserved_until=hold_ends,
        prices_include_tax=prices_include_tax,
    )

"""The cart view over real rows: prices, tax, a coupon, delivery methods, problems."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from app.errors import ErrorCode
from app.services.cart.access import new_token
from app.services.cart.view import cart_view
from app.services.checkout import stock
from models.carts import Cart, CartLine, CartPromotion
from models.catalog import Product, Variant
from models.promotions import Promotion
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ADDRESS = {"country": "DE", "country_area": "", "city": "Berlin", "street_address_1": "A 1"}


async def _cart(session, make_product, *, quantities=(2, 1)):
    mug = await make_product("Mug", variants=((1_999, 5),))
    tee = await make_product("Tee", variants=((1_000, 1),))
    variants = {
        v.product_id: v for v in await session.scalars(select(Variant).order_by(Variant.id))
    }
    cart = Cart(token=new_token(), currency="USD", shipping_address=ADDRESS, email="a@b.co")
    session.add(cart)
    await session.flush()
    for product, quantity in zip((mug, tee), quantities, strict=True):
        variant = variants[product.id]
        session.add(
            CartLine(
                cart_id=cart.id,
                variant_id=variant.id,
                quantity=quantity,
                seen_unit_price_amount=variant.price_amount,
            )
        )
    zone = ShippingZone(name="EU")
    session.add(zone)
    await session.flush()
    session.add(ShippingZoneArea(zone_id=zone.id, country="DE"))
    method = ShippingMethod(
        zone_id=zone.id, name="Post", price_amount=490, currency="USD", free_above_amount=10_000
    )
    session.add(method)
    session.add(TaxRate(country="DE", rate=Decimal("19.000")))
    coupon = Promotion(name="Ten", code="TEN", kind="percentage", percentage=Decimal(10))
    session.add(coupon)
    await session.flush()
    cart.shipping_method_id = method.id
    session.add(CartPromotion(cart_id=cart.id, promotion_id=coupon.id))
    await session.flush()
    return cart, variants[mug.id], variants[tee.id], coupon


async def test_view_prices_lines_with_coupon_shipping_and_net_tax(session, make_product):
    cart, *_ = await _cart(session, make_product)

    view = await cart_view(session, cart=cart, now=NOW, prices_include_tax=False)

    # Goods 2 x 19.99 + 10.00 = 49.98; 10% = 5.00 (4.998 half-even), spread 4.00 / 1.00.
    assert [(p.undiscounted_amount, p.discount_amount, p.tax_amount, p.gross_amount)
            for p in (line.priced for line in view.lines) if p] == [
        (3_998, 400, 684, 4_282),  # 3598 x 19% = 683.62
        (1_000, 100, 171, 1_071),  # 900 x 19% = 171
    ]  # fmt: skip
    priced = view.priced
    assert (priced.subtotal_amount, priced.discount_amount, priced.shipping_amount) == (
        4_998, 500, 490,
    )  # fmt: skip
    assert (priced.shipping_tax_amount, priced.tax_amount, priced.total_amount) == (
        93, 684 + 171 + 93, 4_282 + 1_071 + 490 + 93,
    )  # fmt: skip
    assert [m.name for m in view.delivery_methods] == ["Post"]
    assert view.delivery_method is not None and view.problems == []
    assert [(c.promotion.code, c.problem, c.amount) for c in view.coupons] == [("TEN", None, 500)]


async def test_view_reports_problems_with_codes(session, make_product):
    cart, mug, tee, coupon = await _cart(session, make_product, quantities=(7, 1))
    await session.execute(update(Variant).where(Variant.id == mug.id).values(price_amount=2_500))
    await session.execute(update(Product).where(Product.id == tee.product_id).values(
        is_published=False))  # fmt: skip
    await session.execute(
        update(Promotion).where(Promotion.id == coupon.id).values(ends_at=NOW - timedelta(days=1))
    )
    # Another cart holds 2 of the 5 mugs.
    other = Cart(token=new_token(), currency="USD")
    session.add(other)
    await session.flush()
    await stock.reserve(session, cart_id=other.id, quantities={mug.id: 2}, minutes=15, now=NOW)

    view = await cart_view(session, cart=cart, now=NOW, prices_include_tax=False)

    lines = {line.row.variant_id: line for line in view.lines}
    assert [p.code for p in lines[mug.id].problems] == [
        ErrorCode.INSUFFICIENT_STOCK, ErrorCode.PRICE_CHANGED,
    ]  # fmt: skip
    assert lines[mug.id].available == 3
    assert [p.code for p in lines[tee.id].problems] == [ErrorCode.PRODUCT_UNAVAILABLE]
    assert lines[tee.id].priced is None
    assert [c.problem for c in view.coupons] == [ErrorCode.COUPON_EXPIRED]
    assert view.priced.subtotal_amount == 7 * 2_500
    assert view.priced.discount_amount == 0


async def test_view_offers_worldwide_only_where_no_zone_names_the_country(session, make_product):
    cart, *_ = await _cart(session, make_product)
    world = ShippingZone(name="World", is_worldwide=True)
    session.add(world)
    await session.flush()
    session.add(ShippingMethod(zone_id=world.id, name="Far", price_amount=2_000, currency="USD"))
    await session.flush()

    germany = await cart_view(session, cart=cart, now=NOW, prices_include_tax=True)
    cart.shipping_address = {**ADDRESS, "country": "JP"}
    japan = await cart_view(session, cart=cart, now=NOW, prices_include_tax=True)

    assert [m.name for m in germany.delivery_methods] == ["Post"]
    assert [m.name for m in japan.delivery_methods] == ["Far"]
    assert [p.code for p in japan.problems] == [ErrorCode.DELIVERY_METHOD_UNAVAILABLE]
    assert japan.priced.tax_amount == 0  # no rate for JP

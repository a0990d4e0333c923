"""Totals with tax and a coupon, delivery methods, coupon rules, and every problem code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update

from models.carts import CartPromotion, StockReservation
from models.catalog import Product, Stock, Variant
from models.promotions import Promotion
from models.shipping import ShippingMethod
from tests.cart import cart_fixtures
from tests.cart.cart_fixtures import (
    BERLIN,
    CART_QUERY,
    COUPON_APPLY,
    COUPON_REMOVE,
    DELIVERY,
    LINES_UPDATE,
    SHIPPING_ADDRESS,
    TOKYO,
    errors_of,
    gid,
    new_cart,
)

variants = cart_fixtures.variants
sql = cart_fixtures.sql
make_zone = cart_fixtures.make_zone
make_tax_rate = cart_fixtures.make_tax_rate
make_promotion = cart_fixtures.make_promotion


async def _cart_in_berlin(gql, *lines):
    cart = await new_cart(gql, *lines)
    data = await gql.execute(SHIPPING_ADDRESS, cartId=cart["id"], address=BERLIN)
    assert data["cartShippingAddressUpdate"]["userErrors"] == []
    return data["cartShippingAddressUpdate"]["cart"]


async def test_totals_with_tax_coupon_and_shipping(
    gql, make_product, variants, make_zone, make_tax_rate, make_promotion
):
    product = await make_product("Mug", variants=((1999, 10), (1000, 10)))
    a, b = await variants(product)
    [standard, fast] = await make_zone(methods=(("Standard", 500, None), ("Express", 1500, 4000)))
    await make_tax_rate("DE", "19")
    await make_promotion("Ten off", code="TEN", percentage="10")
    cart = await _cart_in_berlin(gql, (a.id, 2), (b.id, 1))
    assert [(m["name"], m["price"]["amount"]) for m in cart["availableDeliveryMethods"]] == [
        ("Standard", "5.00"),
        ("Express", "0.00"),
    ]  # fmt: skip (free above 40.00)

    applied = await gql.execute(COUPON_APPLY, cartId=cart["id"], code=" ten ")
    chosen = await gql.execute(
        DELIVERY, cartId=cart["id"], methodId=gid("ShippingMethod", standard.id)
    )

    assert applied["cartCouponApply"]["userErrors"] == []
    view = chosen["cartDeliveryMethodUpdate"]["cart"]
    assert chosen["cartDeliveryMethodUpdate"]["userErrors"] == []
    assert view["deliveryMethod"] == {"id": gid("ShippingMethod", standard.id), "name": "Standard",
                                      "price": {"amount": "5.00"}}  # fmt: skip
    # 10% of 49.98 is 5.00 (half-even), spread 4.00 / 1.00 by largest remainder;
    # tax 19% per line: 35.98 -> 6.84, 9.00 -> 1.71; shipping 5.00 -> 0.95.
    assert view["cost"] == {
        "subtotalAmount": {"amount": "49.98", "currency": "USD"},
        "discountAmount": {"amount": "5.00"},
        "shippingAmount": {"amount": "5.00"},
        "taxAmount": {"amount": "9.50"},
        "totalAmount": {"amount": "59.48", "currency": "USD"},
        "pricesIncludeTax": False,
    }
    amounts = [(line["discount"]["amount"], line["tax"]["amount"], line["total"]["amount"])
               for line in view["lines"]]  # fmt: skip
    assert amounts == [
        ("4.00", "6.84", "42.82"), ("1.00", "1.71", "10.71")]  # fmt: skip
    assert view["discountCodes"] == [
        {"code": "TEN", "applicable": True, "problem": None, "amount": {"amount": "5.00"}}
    ]
    assert view["discounts"] == [{"name": "Ten off", "code": "TEN", "amount": {"amount": "5.00"}}]
    assert view["problems"] == []
    assert view["reservedUntil"] is not None
    assert fast.id != standard.id


async def test_no_shipping_to_a_country_without_a_zone(
    gql, make_product, variants, make_zone, count
):
    product = await make_product("Mug")
    [variant] = await variants(product)
    [method] = await make_zone(countries=("DE",))
    cart = await new_cart(gql, (variant.id, 1))
    method_id = gid("ShippingMethod", method.id)

    no_address = await gql.execute(DELIVERY, cartId=cart["id"], methodId=method_id)
    assert errors_of(no_address["cartDeliveryMethodUpdate"]) == [
        ("deliveryMethodId", "SHIPPING_ADDRESS_REQUIRED")]  # fmt: skip
    tokyo = await gql.execute(SHIPPING_ADDRESS, cartId=cart["id"], address=TOKYO)
    assert tokyo["cartShippingAddressUpdate"]["cart"]["availableDeliveryMethods"] == []
    refused = await gql.execute(DELIVERY, cartId=cart["id"], methodId=method_id)
    assert errors_of(refused["cartDeliveryMethodUpdate"]) == [
        ("deliveryMethodId", "DELIVERY_METHOD_UNAVAILABLE")]  # fmt: skip
    garbage = await gql.execute(DELIVERY, cartId=cart["id"], methodId="garbage")
    assert errors_of(garbage["cartDeliveryMethodUpdate"]) == [
        ("deliveryMethodId", "DELIVERY_METHOD_UNAVAILABLE")]  # fmt: skip
    assert await count(StockReservation) == 0


async def test_coupon_rules(gql, make_product, variants, make_promotion, count, sql):
    mug = await make_product("Mug", variants=((1000, 10),))
    other = await make_product("Other")
    [variant] = await variants(mug)
    now = datetime.now(UTC)
    await make_promotion(code="OFF", is_active=False)
    await make_promotion(code="SOON", starts_at=now + timedelta(days=1))
    await make_promotion(code="OLD", ends_at=now - timedelta(days=1))
    await make_promotion(code="GONE", usage_limit=1, used_count=1)
    await make_promotion(code="BIG", min_subtotal_amount=5000)
    await make_promotion(code="ELSEWHERE", products=(other,))
    await make_promotion(code="ONE")
    await make_promotion(code="TWO")
    await make_promotion(code="EUR5", kind="fixed", percentage=None, amount=500, currency="EUR")
    cart = await new_cart(gql, (variant.id, 1))

    async def apply(code):
        return errors_of(
            (await gql.execute(COUPON_APPLY, cartId=cart["id"], code=code))["cartCouponApply"]
        )

    assert await apply("NOPE") == [("code", "COUPON_INVALID")]
    assert await apply("") == [("code", "REQUIRED")]
    assert await apply("off") == [("code", "COUPON_INVALID")]
    assert await apply("SOON") == [("code", "COUPON_NOT_STARTED")]
    assert await apply("OLD") == [("code", "COUPON_EXPIRED")]
    assert await apply("GONE") == [("code", "COUPON_EXHAUSTED")]
    assert await apply("BIG") == [("code", "COUPON_MINIMUM_NOT_MET")]
    assert await apply("ELSEWHERE") == [("code", "COUPON_NOT_APPLICABLE")]
    assert await apply("EUR5") == [("code", "COUPON_NOT_APPLICABLE")]
    assert await count(CartPromotion) == 0
    assert await apply("one") == []
    assert await apply("ONE") == []  # again: nothing changes
    assert await apply("TWO") == [("code", "COUPON_NOT_STACKABLE")]
    assert await count(CartPromotion) == 1

    await sql(update(Promotion).values(stackable=True))
    assert await apply("TWO") == []
    view = (await gql.execute(CART_QUERY, id=cart["id"]))["cart"]
    assert [(c["code"], c["amount"]["amount"]) for c in view["discountCodes"]] == [
        ("ONE", "1.00"), ("TWO", "0.90")]  # fmt: skip
    removed = await gql.execute(COUPON_REMOVE, cartId=cart["id"], code="one")
    assert [c["code"] for c in removed["cartCouponRemove"]["cart"]["discountCodes"]] == ["TWO"]
    unknown = await gql.execute(COUPON_REMOVE, cartId=cart["id"], code="ONE")
    assert errors_of(unknown["cartCouponRemove"]) == [("code", "NOT_FOUND")]
    assert await count(CartPromotion) == 1


async def test_problems_for_each_code(gql, make_product, variants, make_zone, make_promotion, sql):
    product = await make_product("Mug", variants=((1000, 5), (500, 5), (200, 5), (300, 5)))
    hidden = await make_product("Hidden")
    a, b, c, d = await variants(product)
    [h] = await variants(hidden)
    [method] = await make_zone()
    await make_promotion(code="SAVE")
    cart = await _cart_in_berlin(gql, (a.id, 2), (b.id, 1), (c.id, 3), (d.id, 1), (h.id, 1))
    await gql.execute(COUPON_APPLY, cartId=cart["id"], code="SAVE")
    await gql.execute(DELIVERY, cartId=cart["id"], methodId=gid("ShippingMethod", method.id))
    ids = [line["id"] for line in cart["lines"]]

    await sql(
        update(Variant).where(Variant.id == a.id).values(price_amount=1200),
        update(Stock).where(Stock.variant_id == b.id).values(quantity=0),
        update(Stock).where(Stock.variant_id == c.id).values(quantity=2),
        update(Variant).where(Variant.id == d.id).values(currency="EUR"),
        update(Product).where(Product.id == hidden.id).values(is_published=False),
        update(Promotion).values(ends_at=datetime.now(UTC) - timedelta(minutes=1)),
        update(ShippingMethod).values(is_active=False),
        delete(StockReservation),  # as if the hold had run out
    )
    view = (await gql.execute(CART_QUERY, id=cart["id"]))["cart"]

    assert [(p["code"], p["lineId"]) for p in view["problems"]] == [
        ("PRICE_CHANGED", ids[0]),
        ("OUT_OF_STOCK", ids[1]),
        ("INSUFFICIENT_STOCK", ids[2]),
        ("CURRENCY_MISMATCH", ids[3]),
        ("PRODUCT_UNAVAILABLE", ids[4]),
        ("DELIVERY_METHOD_UNAVAILABLE", None),
        ("COUPON_EXPIRED", None),
    ]
    assert view["lines"][0]["previousUnitPrice"] == {"amount": "10.00"}
    assert view["lines"][0]["unitPrice"]["amount"] == "12.00"
    assert view["discountCodes"][0]["problem"] == "COUPON_EXPIRED"
    assert view["deliveryMethod"] is None

    accepted = await gql.execute(LINES_UPDATE, cartId=cart["id"],
                                 lines=[{"lineId": ids[0], "quantity": 2}])  # fmt: skip
    line = accepted["cartLinesUpdate"]["cart"]["lines"][0]
    assert line["previousUnitPrice"] is None and line["problems"] == []

"""Cart.checkoutProblems: what checkoutComplete would refuse, in the order it reports them."""

from __future__ import annotations

from sqlalchemy import update

from models.catalog import Product
from models.orders import Order
from tests.cart import cart_fixtures
from tests.cart.cart_fixtures import BERLIN, DELIVERY, SHIPPING_ADDRESS, TOKYO, gid, new_cart

variants = cart_fixtures.variants
make_zone = cart_fixtures.make_zone
sql = cart_fixtures.sql

COMPLETE = """mutation($cartId: ID!) {
  checkoutComplete(cartId: $cartId, idempotencyKey: "k1",
                   payment: {gateway: "DUMMY", token: "tok_success"}) {
    order { id } userErrors { field code } } }"""
PROBLEMS = (
    "query($id: ID!) { cart(id: $id) { checkoutProblems { code lineId } problems { code } } }"
)


async def _problems(gql, cart_id):
    cart = (await gql.execute(PROBLEMS, id=cart_id))["cart"]
    return [(p["code"], p["lineId"]) for p in cart["checkoutProblems"]], cart["problems"]


async def test_an_empty_cart_lists_everything_checkout_needs(gql):
    cart = await new_cart(gql)

    assert await _problems(gql, cart["id"]) == (
        [
            ("CART_EMPTY", None),
            ("EMAIL_REQUIRED", None),
            ("SHIPPING_ADDRESS_REQUIRED", None),
            ("DELIVERY_METHOD_REQUIRED", None),
        ],
        [],
    )


async def test_problems_shrink_as_the_cart_is_filled_in_and_line_problems_come_first(
    gql, make_product, variants, make_zone, sql
):
    product = await make_product("Mug", variants=((1_000, 5),))
    [variant] = await variants(product)
    [method] = await make_zone(("DE",))
    cart = await new_cart(gql, (variant.id, 1), email="ada@example.com")
    [line] = cart["lines"]

    assert (await _problems(gql, cart["id"]))[0] == [
        ("SHIPPING_ADDRESS_REQUIRED", None), ("DELIVERY_METHOD_REQUIRED", None),
    ]  # fmt: skip
    await gql.execute(SHIPPING_ADDRESS, cartId=cart["id"], address=BERLIN)
    assert (await _problems(gql, cart["id"]))[0] == [("DELIVERY_METHOD_REQUIRED", None)]
    await gql.execute(DELIVERY, cartId=cart["id"], methodId=gid("ShippingMethod", method.id))
    assert await _problems(gql, cart["id"]) == ([], [])

    await sql(update(Product).where(Product.id == product.id).values(is_published=False))

    # Unpublished: its line is the first thing to fix; without a priced line the delivery
    # method's weight range still holds, so that is all.
    assert await _problems(gql, cart["id"]) == (
        [("PRODUCT_UNAVAILABLE", line["id"])],
        [{"code": "PRODUCT_UNAVAILABLE"}],
    )


async def test_an_address_no_zone_serves_is_shipping_unavailable_and_checkout_refuses_it(
    gql, make_product, variants, make_zone, count
):
    product = await make_product("Mug", variants=((1_000, 5),))
    [variant] = await variants(product)
    await make_zone(("DE",))
    cart = await new_cart(gql, (variant.id, 1), email="ada@example.com")
    await gql.execute(SHIPPING_ADDRESS, cartId=cart["id"], address=TOKYO)

    assert (await _problems(gql, cart["id"]))[0] == [("SHIPPING_UNAVAILABLE", None)]
    refused = await gql.execute(COMPLETE, cartId=cart["id"])

    assert refused["checkoutComplete"] == {
        "order": None,
        "userErrors": [{"field": ["cartId"], "code": "SHIPPING_UNAVAILABLE"}],
    }
    assert await count(Order) == 0
    assert (await gql.execute(PROBLEMS, id=cart["id"]))["cart"] is not None  # still open

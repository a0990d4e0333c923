"""The README's "Buying" walk-through runs as written, on the demo checkout rules."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from graphql import OperationDefinitionNode, parse
from sqlalchemy import select

from app.seed_checkout import seed_checkout
from models.catalog import Stock
from models.orders import Order
from resolvers.ids import decode_id

README = Path(__file__).resolve().parent.parent / "README.md"


def _walkthrough() -> list[tuple[str, str]]:
    """(operation name, text) of each GraphQL block of the README's buying section."""
    text = README.read_text()
    section = text[text.index("### Buying: from a cart to an order") :]
    section = section[: section.index("\n## ")]
    blocks = re.findall(r"```graphql\n(.*?)```", section, re.S)
    named = []
    for block in blocks:
        [operation] = parse(block).definitions
        assert isinstance(operation, OperationDefinitionNode) and operation.name
        named.append((operation.name.value, block))
    return named


async def test_the_readme_walkthrough_places_an_order(gql, session, make_product):
    async with session.begin_nested():
        await seed_checkout(session, currency="USD")
    await make_product("Walkthrough mug", variants=((2_000, 3),))
    steps = dict(_walkthrough())
    assert list(steps) == [
        "PickAVariant", "CreateCart", "ShipTo", "ChooseDelivery", "ApplyCoupon", "PlaceOrder",
    ]  # fmt: skip

    picked = await gql.execute(steps["PickAVariant"])
    [variant] = picked["products"]["edges"][0]["node"]["variants"]
    created = (await gql.execute(steps["CreateCart"], variantId=variant["id"]))["cartCreate"]
    assert created["userErrors"] == []
    cart_id = created["cart"]["id"]
    shipped = (await gql.execute(steps["ShipTo"], cartId=cart_id))["cartShippingAddressUpdate"]
    methods = shipped["cart"]["availableDeliveryMethods"]
    # 2 x 20.00 = 40.00 is under Standard's free-above 50.00.
    assert [(m["name"], m["price"]["amount"]) for m in methods] == [
        ("Standard", "5.00"), ("Express", "15.00"),
    ]  # fmt: skip
    chosen = await gql.execute(steps["ChooseDelivery"], cartId=cart_id, methodId=methods[0]["id"])
    assert chosen["cartDeliveryMethodUpdate"]["userErrors"] == []
    assert chosen["cartDeliveryMethodUpdate"]["cart"]["reservedUntil"] is not None
    coupon = (await gql.execute(steps["ApplyCoupon"], cartId=cart_id))["cartCouponApply"]
    assert coupon["userErrors"] == [] and coupon["cart"]["checkoutProblems"] == []
    cost = {key: value["amount"] for key, value in coupon["cart"]["cost"].items()}
    # 40.00 - 4.00 = 36.00 and 5.00 shipping, taxed at New York's 8.875 %:
    # 36.00 x 8.875 % = 3.195 -> 3.20 (half-even), 5.00 x 8.875 % = 0.44375 -> 0.44.
    assert cost == {
        "subtotalAmount": "40.00",
        "discountAmount": "4.00",
        "shippingAmount": "5.00",
        "taxAmount": "3.64",
        "totalAmount": "44.64",
    }

    placed = (await gql.execute(steps["PlaceOrder"], cartId=cart_id))["checkoutComplete"]

    assert placed["userErrors"] == []
    order = placed["order"]
    assert (order["status"], order["total"]) == ("PAID", {"amount": "44.64", "currency": "USD"})
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [(variant["sku"], 2)]
    assert Decimal(order["total"]["amount"]) == Decimal(cost["totalAmount"])
    row = await session.scalar(select(Order).where(Order.number == order["number"]))
    assert row is not None and row.email == "guest@example.com"
    stock = select(Stock.quantity).where(Stock.variant_id == decode_id(variant["id"], "Variant"))
    assert await session.scalar(stock) == 1  # 3 - 2

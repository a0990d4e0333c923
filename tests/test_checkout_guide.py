"""Every example of docs/checkout-guide.md validates against schema.graphql and runs in order."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import OperationDefinitionNode, build_schema, parse, validate
from sqlalchemy import select
from strawberry.relay import to_base64

from app.seed_checkout import seed_checkout
from models.catalog import Variant

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "checkout-guide.md").read_text()
SCHEMA = build_schema((ROOT / "schema.graphql").read_text())


def _ops() -> tuple[str, dict[str, str]]:
    blocks = re.findall(r"```graphql\n(.*?)```", GUIDE, re.S)
    fragment = blocks[0]
    assert fragment.startswith("fragment CartFields")
    ops = {}
    for block in blocks[1:]:
        doc = block + ("\n" + fragment if "...CartFields" in block else "")
        parsed = parse(doc)
        errors = validate(SCHEMA, parsed)
        assert errors == [], (block, errors)
        [op] = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
        ops[op.name.value] = doc
    return fragment, ops


def test_every_example_validates():
    _, ops = _ops()  # each validated against schema.graphql as it is read
    assert len(ops) >= 18


async def test_examples_run(gql, session, session_factory, make_product, make_user):
    _, ops = _ops()
    async with session.begin_nested():
        await seed_checkout(session, currency="USD")
    product = await make_product("Guide mug", variants=((2_000, 3), (500, 10)))
    async with session_factory() as s:
        vids = list(
            await s.scalars(
                select(Variant.id).where(Variant.product_id == product.id).order_by(Variant.id)
            )
        )
    v1, v2 = (to_base64("Variant", v) for v in vids)

    def ok(payload):
        assert payload["userErrors"] == [], payload["userErrors"]
        return payload

    created = ok((await gql.execute(ops["CartCreate"], variantId=v1))["cartCreate"])
    cart_id = created["cart"]["id"]
    read = (await gql.execute(ops["ReadCart"], cartId=cart_id))["cart"]
    assert read["id"] == cart_id
    added = ok(
        (await gql.execute(ops["CartLinesAdd"], cartId=cart_id, variantId=v2))["cartLinesAdd"]
    )
    line2 = added["cart"]["lines"][1]["id"]
    upd = ok(
        (await gql.execute(ops["CartLinesUpdate"], cartId=cart_id, lineId=line2))["cartLinesUpdate"]
    )
    assert upd["cart"]["lines"][1]["quantity"] == 3
    rem = ok(
        (await gql.execute(ops["CartLinesRemove"], cartId=cart_id, lineId=line2))["cartLinesRemove"]
    )
    assert len(rem["cart"]["lines"]) == 1
    email = ok((await gql.execute(ops["CartEmailUpdate"], cartId=cart_id))["cartEmailUpdate"])
    assert email["cart"]["email"]
    ship = ok(
        (await gql.execute(ops["CartShippingAddressUpdate"], cartId=cart_id))[
            "cartShippingAddressUpdate"
        ]
    )
    methods = ship["cart"]["availableDeliveryMethods"]
    dm = ok(
        (
            await gql.execute(
                ops["CartDeliveryMethodUpdate"], cartId=cart_id, methodId=methods[0]["id"]
            )
        )["cartDeliveryMethodUpdate"]
    )
    assert dm["cart"]["reservedUntil"]
    coupon = ok((await gql.execute(ops["CartCouponApply"], cartId=cart_id))["cartCouponApply"])
    assert [c["code"] for c in coupon["cart"]["discountCodes"]] == ["WELCOME10"]
    cr = ok((await gql.execute(ops["CartCouponRemove"], cartId=cart_id))["cartCouponRemove"])
    assert cr["cart"]["discountCodes"] == []
    ok((await gql.execute(ops["CartCouponApply"], cartId=cart_id))["cartCouponApply"])
    again = (await gql.execute(ops["ReadCart"], cartId=cart_id))["cart"]
    assert again["checkoutProblems"] == [], again["checkoutProblems"]

    declined = (
        await gql.execute(
            ops["CheckoutComplete"].replace("tok_success", "tok_decline"), cartId=cart_id, key="k-1"
        )
    )["checkoutComplete"]
    assert declined["order"] is None and declined["userErrors"][0]["code"] == "PAYMENT_DECLINED"
    placed = ok(
        (await gql.execute(ops["CheckoutComplete"], cartId=cart_id, key="k-1"))["checkoutComplete"]
    )
    order = placed["order"]
    assert order["status"] == "PAID"
    retry = ok(
        (await gql.execute(ops["CheckoutRetry"], cartId=cart_id, key="k-1"))["checkoutComplete"]
    )
    assert retry["order"]["id"] == order["id"] and retry["order"]["token"] == order["token"]
    other = (await gql.execute(ops["CheckoutRetry"], cartId=cart_id, key="k-2"))["checkoutComplete"]
    assert [e["code"] for e in other["userErrors"]] == ["CART_COMPLETED"]
    assert (await gql.execute(ops["ReadCart"], cartId=cart_id))["cart"] is None
    guest = (await gql.execute(ops["GuestOrder"], token=order["token"]))["orderByToken"]
    assert guest["number"] == order["number"]

    # signed in
    await make_user(email="customer@example.com", password="Shop-demo-2026")
    anon = ok((await gql.execute(ops["CartCreate"], variantId=v2))["cartCreate"])["cart"]["id"]
    signed = ok((await gql.execute(ops["SignInWithCart"], cartId=anon))["tokenCreate"])
    assert signed["cart"] is not None
    me = gql.as_user(signed["accessToken"])
    mine = (await me.execute(ops["MyCart"]))["me"]["cart"]
    assert mine["id"] == signed["cart"]["id"]
    anon2 = ok((await gql.execute(ops["CartCreate"], variantId=v2))["cartCreate"])["cart"]["id"]
    bu = ok((await me.execute(ops["CartBuyerUpdate"], cartId=anon2))["cartBuyerUpdate"])
    assert bu["cart"]["id"] == mine["id"], "merged into the open cart"
    addr = await me.execute(
        """mutation { addressCreate(input: {firstName: "Ada", streetAddress1: "1 Main St",
                                             city: "Berlin", postalCode: "10115", country: "DE"})
                      { address { id } userErrors { code field } } }"""
    )
    address_id = addr["addressCreate"]["address"]["id"]
    bill = ok(
        (
            await me.execute(
                ops["CartBillingAddressFromBook"], cartId=mine["id"], addressId=address_id
            )
        )["cartBillingAddressUpdate"]
    )
    assert bill["cart"]["billingAddress"]["city"] == "Berlin"
    ok(
        (await me.execute(ops["CartShippingAddressUpdate"], cartId=mine["id"]))[
            "cartShippingAddressUpdate"
        ]
    )
    mc = (await me.execute(ops["MyCart"]))["me"]["cart"]
    ok(
        (
            await me.execute(
                ops["CartDeliveryMethodUpdate"],
                cartId=mine["id"],
                methodId=mc["availableDeliveryMethods"][0]["id"],
            )
        )["cartDeliveryMethodUpdate"]
    )
    mc = (await me.execute(ops["MyCart"]))["me"]["cart"]
    o2 = ok(
        (
            await me.execute(
                ops["CheckoutComplete"].replace("tok_success", "tok_pending"),
                cartId=mine["id"],
                key="k-9",
            )
        )["checkoutComplete"]
    )["order"]
    assert o2["status"] == "PENDING_PAYMENT"
    orders = (await me.execute(ops["MyOrders"]))["me"]["orders"]
    assert [e["node"]["id"] for e in orders["edges"]] == [o2["id"]]
    one = (await me.execute(ops["OneOrder"], orderId=o2["id"]))["order"]
    assert one["number"] == o2["number"]
    assert (await gql.execute(ops["OneOrder"], orderId=o2["id"]))["order"] is None
    # cartBuyerUpdate needs a signed-in buyer.
    body = await gql.raw(ops["CartBuyerUpdate"], cartId=anon)
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]

"""orderReorder: a past order's lines into a cart, capped by what can be sold now."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from models.catalog import Product, Stock
from tests.catalog.staff_fixtures import customer, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import paid_order
from tests.payments.payment_fixtures import codes

__all__ = ["customer", "staff", "staff_user"]

REORDER = """
mutation($id: ID, $token: String) {
  orderReorder(id: $id, token: $token) {
    cart { id email lines { quantity } }
    problems { lineId code message }
    userErrors { field code }
  }
}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def test_a_guest_reorders_into_a_new_cart_with_problems_for_what_is_gone(
    gql, shop, session_factory
):
    order = await paid_order(gql, shop, quantities=(2, 1, 3), stock=5)
    gone, short = order["variants"][1], order["variants"][2]
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Product).where(Product.id == gone.product_id).values(is_published=False)
        )
        await session.execute(update(Stock).where(Stock.variant_id == short.id).values(quantity=1))

    payload = (await gql.execute(REORDER, token=order["token"]))["orderReorder"]

    assert payload["userErrors"] == []
    assert [line["quantity"] for line in payload["cart"]["lines"]] == [2, 1]
    assert payload["cart"]["email"]
    assert [(p["lineId"], p["code"]) for p in payload["problems"]] == [
        (order["lines"][1]["id"], "PRODUCT_UNAVAILABLE"),
        (order["lines"][2]["id"], "INSUFFICIENT_STOCK"),
    ]


async def test_a_customer_reorders_their_own_order_into_their_cart(
    gql, shop, make_user, sign_in, customer
):
    owner = await make_user(email="again@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await paid_order(mine, shop, quantities=(1,), user_id=owner.id)

    first = (await mine.execute(REORDER, id=order["id"]))["orderReorder"]
    second = (await mine.execute(REORDER, id=order["id"]))["orderReorder"]
    stranger = (await customer.execute(REORDER, id=order["id"]))["orderReorder"]
    anonymous = (await gql.execute(REORDER, id=order["id"]))["orderReorder"]

    assert first["cart"]["id"] == second["cart"]["id"]  # one open cart per customer
    assert second["cart"]["lines"] == [{"quantity": 2}]
    assert codes(stranger) == [(["id"], "NOT_FOUND")]
    assert codes(anonymous) == [(["id"], "NOT_FOUND")]


async def test_reorders_are_rate_limited_per_address(start_app):
    import uuid

    from tests.graphql_client import GraphQLClient

    async with start_app(
        rate_limits_enabled=True, rate_limit_reorder_ip="2/minute",
        pubsub_prefix=f"rl-{uuid.uuid4()}",
    ) as (_, http):  # fmt: skip
        gql = GraphQLClient(http)
        bodies = [await gql.raw(REORDER, token="z" * 43) for _ in range(3)]
    assert [b.get("errors", [{}])[0].get("extensions", {}).get("code") for b in bodies] == [
        None, None, "RATE_LIMITED",
    ]  # fmt: skip

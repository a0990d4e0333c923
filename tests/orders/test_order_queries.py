"""Reading orders: order(id) for its customer or MANAGE_ORDERS staff, orderByToken for a
guest, me { orders } newest first; nobody else sees anything, and lists do not N+1."""

from __future__ import annotations

import pytest
from strawberry.relay import to_base64

from app.auth.permissions import Role
from tests.checkout.checkout_fixtures import COMPLETE, Shop, complete_variables
from tests.sql_counter import count_statements

ORDER = """query($id: ID!) { order(id: $id) { number status email total { amount }
  lines { sku quantity variant { sku } } events { sequence toStatus } } }"""
BY_TOKEN = """query($token: String!) { orderByToken(token: $token) { number status } }"""
NODE = """query($id: ID!) { node(id: $id) { ... on Order { number } } }"""
MY_ORDERS = """query($first: Int, $after: String) { me { orders(first: $first, after: $after) {
  edges { cursor node { number lines { sku variant { sku } } events { sequence } } }
  pageInfo { hasNextPage endCursor } } } }"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _place(gql, shop, *, user_id=None, email=None, token=None) -> dict:
    variant = await shop.variant(stock=10)
    cart = await shop.cart([(variant, 1)], method=await shop.method(), user_id=user_id, email=email)
    client = gql.as_user(token) if token else gql
    data = await client.execute(COMPLETE, **complete_variables(cart))
    payload = data["checkoutComplete"]
    assert payload["userErrors"] == []
    return payload["order"]


async def test_customer_reads_own_order_others_do_not(gql, shop, make_user, sign_in):
    owner_row = await make_user("ck-owner@example.com")
    await make_user("ck-other@example.com")
    await make_user("ck-staff@example.com", role=Role.STAFF)
    owner = (await sign_in("ck-owner@example.com"))["accessToken"]
    other = (await sign_in("ck-other@example.com"))["accessToken"]
    staff = (await sign_in("ck-staff@example.com"))["accessToken"]
    order = await _place(gql, shop, user_id=owner_row.id, email="", token=owner)

    mine = await gql.as_user(owner).execute(ORDER, id=order["id"])
    assert mine["order"]["number"] == order["number"]
    assert mine["order"]["status"] == "PAID"
    assert mine["order"]["lines"][0]["variant"]["sku"] == mine["order"]["lines"][0]["sku"]
    assert [e["sequence"] for e in mine["order"]["events"]] == [1, 2]
    assert (await gql.as_user(staff).execute(ORDER, id=order["id"]))["order"]["number"] == (
        order["number"]
    )
    assert (await gql.as_user(other).execute(ORDER, id=order["id"])) == {"order": None}
    assert (await gql.execute(ORDER, id=order["id"])) == {"order": None}
    assert (await gql.as_user(other).execute(NODE, id=order["id"])) == {"node": None}
    assert (await gql.as_user(owner).execute(NODE, id=order["id"]))["node"]["number"] == (
        order["number"]
    )


@pytest.mark.parametrize("bad", ["", "nope", "Order:1", to_base64("Order", 1), "x" * 300])
async def test_bad_order_ids_are_null(gql, bad):
    assert await gql.execute(ORDER, id=bad) == {"order": None}


async def test_guest_reads_order_by_its_token(gql, shop):
    order = await _place(gql, shop)

    found = await gql.execute(BY_TOKEN, token=order["token"])

    assert found == {"orderByToken": {"number": order["number"], "status": "PAID"}}
    assert await gql.execute(BY_TOKEN, token=order["token"][:-1] + "A") in (
        {"orderByToken": None},
        found,  # the one in 2**6 chance the last character was already "A"
    )
    assert await gql.execute(BY_TOKEN, token="") == {"orderByToken": None}
    assert await gql.execute(BY_TOKEN, token="../" * 30) == {"orderByToken": None}


async def test_my_orders_newest_first_in_pages(gql, shop, make_user, sign_in, connection):
    user = await make_user("ck-many@example.com")
    token = (await sign_in("ck-many@example.com"))["accessToken"]
    numbers = [(await _place(gql, shop, user_id=user.id, token=token))["number"] for _ in range(5)]

    client = gql.as_user(token)
    first = (await client.execute(MY_ORDERS, first=3))["me"]["orders"]
    rest = await client.execute(MY_ORDERS, first=3, after=first["pageInfo"]["endCursor"])
    rest = rest["me"]["orders"]

    got = [edge["node"]["number"] for edge in first["edges"] + rest["edges"]]
    assert got == sorted(numbers, reverse=True)
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False

    # No N+1: a page of 5 orders with lines, variants and events costs what a page of 1 does
    with count_statements(connection) as one:
        await client.execute(MY_ORDERS, first=1)
    with count_statements(connection) as five:
        await client.execute(MY_ORDERS, first=5)
    assert len(five) == len(one)

"""Order lists: staff search every order, customers filter their own, and a guest looks an
order up by number and email (rate-limited)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.catalog.staff_fixtures import customer, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.payments.payment_fixtures import checkout
from tests.sql_counter import count_statements

__all__ = ["customer", "staff", "staff_user"]

ORDERS = """
query($filter: OrdersFilter, $first: Int) {
  orders(filter: $filter, first: $first) { edges { node { number status email } } }
}"""
MINE = """
query($filter: MyOrdersFilter) {
  me { orders(filter: $filter, first: 10) { edges { node { number status } } } }
}"""
LOOKUP = "query($n: Int!, $e: String!) { orderLookup(number: $n, email: $e) { number status } }"


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _order(gql, shop: Shop, *, email: str, token: str = "tok_success", user_id=None):
    cart = await shop.cart(
        [(await shop.variant(), 1)], method=await shop.method(), email=email, user_id=user_id
    )
    return await checkout(gql, cart, token=token)


def _numbers(data, field="orders"):
    return [edge["node"]["number"] for edge in data[field]["edges"]]


async def test_staff_find_orders_by_status_number_email_and_date(gql, shop, staff):
    paid = await _order(gql, shop, email="ann@example.com")
    pending = await _order(gql, shop, email="bob_x@example.com", token="tok_pending")
    now = datetime.now(UTC)

    assert _numbers(await staff.execute(ORDERS)) == [pending["number"], paid["number"]]
    assert _numbers(await staff.execute(ORDERS, filter={"status": ["PAID"]})) == [paid["number"]]
    by_number = {"search": str(pending["number"])}
    assert _numbers(await staff.execute(ORDERS, filter=by_number)) == [pending["number"]]
    assert _numbers(await staff.execute(ORDERS, filter={"search": "ANN@"})) == [paid["number"]]
    # LIKE wildcards in the search are literal: "_" matches only an underscore
    assert _numbers(await staff.execute(ORDERS, filter={"search": "b_x"})) == [pending["number"]]
    assert _numbers(await staff.execute(ORDERS, filter={"search": "%"})) == []
    later = {"createdFrom": (now + timedelta(hours=1)).isoformat()}
    assert _numbers(await staff.execute(ORDERS, filter=later)) == []


async def test_orders_are_staff_only_and_hostile_searches_are_coded(gql, shop, staff, customer):
    assert await customer.error_codes(ORDERS) == ["FORBIDDEN"]
    assert await gql.error_codes(ORDERS) == ["UNAUTHENTICATED"]
    assert await staff.error_codes(ORDERS, filter={"search": "x" * 255}) == ["TOO_LONG"]
    assert await staff.error_codes(ORDERS, filter={"search": "a\u200bb"}) == ["INVALID"]
    assert await staff.error_codes(ORDERS, filter={"status": ["PAID"] * 21}) == ["BAD_USER_INPUT"]


async def test_a_page_of_orders_costs_the_same_statements(gql, shop, staff, connection):
    for i in range(4):
        await _order(gql, shop, email=f"c{i}@example.com")
    counts = []
    for size in (1, 4):
        with count_statements(connection) as statements:
            data = await staff.execute(ORDERS, first=size)
        assert len(data["orders"]["edges"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


async def test_customers_filter_their_own_orders(gql, shop, make_user, sign_in):
    user = await make_user(email="mine@example.com")
    me = gql.as_user((await sign_in("mine@example.com"))["accessToken"])
    paid = await _order(me, shop, email="mine@example.com", user_id=user.id)
    pending = await _order(me, shop, email="mine@example.com", user_id=user.id, token="tok_pending")
    await _order(gql, shop, email="else@example.com")

    everything = (await me.execute(MINE))["me"]
    only_paid = (await me.execute(MINE, filter={"status": ["PAID"]}))["me"]
    assert _numbers(everything) == [pending["number"], paid["number"]]
    assert _numbers(only_paid) == [paid["number"]]


async def test_a_guest_looks_up_an_order_by_number_and_email(gql, shop):
    order = await _order(gql, shop, email="Guest@Example.com")

    found = await gql.execute(LOOKUP, n=order["number"], e="guest@example.COM")
    wrong_email = await gql.execute(LOOKUP, n=order["number"], e="other@example.com")
    wrong_number = await gql.execute(LOOKUP, n=order["number"] + 1000, e="guest@example.com")
    nonsense = await gql.execute(LOOKUP, n=-5, e="")

    assert found["orderLookup"] == {"number": order["number"], "status": "PAID"}
    assert wrong_email["orderLookup"] is None and wrong_number["orderLookup"] is None
    assert nonsense["orderLookup"] is None
    assert await gql.error_codes(LOOKUP, n=2**40, e="x") == ["BAD_USER_INPUT"]


async def test_order_lookups_are_rate_limited_per_address(start_app, shop):
    async with start_app(
        rate_limits_enabled=True, rate_limit_order_lookup_ip="2/minute",
        pubsub_prefix=f"rl-{uuid.uuid4()}",
    ) as (_, http):  # fmt: skip
        gql = GraphQLClient(http)
        answers = [await gql.data_and_errors(LOOKUP, n=1, e="x@example.com") for _ in range(3)]
    assert [a.get("errors", [{}])[0].get("extensions", {}).get("code") for a in answers] == [
        None, None, "RATE_LIMITED",
    ]  # fmt: skip


async def test_staff_filter_orders_by_total_in_a_currency(gql, shop, staff):
    from tests.orders.after_sale_fixtures import paid_order

    small = await paid_order(gql, shop, quantities=(1,))  # 15.00 with shipping
    large = await paid_order(gql, shop, quantities=(5,))  # 55.00

    def numbers(data):
        return sorted(edge["node"]["number"] for edge in data["orders"]["edges"])

    above = await staff.execute(ORDERS, filter={"total": {"currency": "USD", "min": "20.00"}})
    below = await staff.execute(ORDERS, filter={"total": {"currency": "usd", "max": "15.00"}})
    euros = await staff.execute(ORDERS, filter={"total": {"currency": "EUR"}})
    bad = await staff.raw(ORDERS, filter={"total": {"currency": "USD", "min": "1" * 40}})
    nope = await staff.raw(ORDERS, filter={"total": {"currency": "XYZ"}})

    assert numbers(above) == [large["number"]]
    assert numbers(below) == [small["number"]]
    assert numbers(euros) == []
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"
    assert nope["errors"][0]["extensions"]["code"] == "INVALID"

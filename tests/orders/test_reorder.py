"""orderReorder: a past order's lines into a cart, capped by what can be sold now."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select, update

from app.services.accounts.tokens import RegistrationData, register_account
from models.carts import Cart, CartLine
from models.catalog import Product, Stock, Variant
from tests.catalog.staff_fixtures import customer, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.conftest import TOKEN_CREATE
from tests.factories import PASSWORD
from tests.graphql_client import GraphQLClient
from tests.orders.after_sale_fixtures import paid_order
from tests.payments.payment_fixtures import checkout, codes
from tests.payments.provider_world import committed_shop
from tests.payments.test_payment_races import _user_cleanup

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


async def test_a_deleted_variant_is_reported_and_the_rest_is_added(gql, shop, session_factory):
    order = await paid_order(gql, shop, quantities=(1, 2), stock=5)
    async with session_factory() as session, session.begin():
        await session.execute(delete(Variant).where(Variant.id == order["variants"][0].id))

    payload = (await gql.execute(REORDER, token=order["token"]))["orderReorder"]

    assert payload["userErrors"] == []
    assert payload["cart"]["lines"] == [{"quantity": 2}]
    assert [(p["lineId"], p["code"]) for p in payload["problems"]] == [
        (order["lines"][0]["id"], "PRODUCT_UNAVAILABLE")
    ]


async def test_nothing_left_to_sell_gives_an_empty_cart_and_a_problem_per_line(
    gql, shop, session_factory
):
    order = await paid_order(gql, shop, quantities=(2,), stock=2)  # the order took it all

    payload = (await gql.execute(REORDER, token=order["token"]))["orderReorder"]

    assert payload["userErrors"] == [] and payload["cart"]["lines"] == []
    assert [p["code"] for p in payload["problems"]] == ["INSUFFICIENT_STOCK"]


async def test_the_line_limit_caps_what_a_repeated_reorder_adds(
    gql, shop, make_user, sign_in, settings
):
    owner = await make_user(email="cap@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    big = settings.cart_max_line_quantity // 2 + 1
    order = await paid_order(mine, shop, quantities=(big,), stock=10 * big, user_id=owner.id)

    first = (await mine.execute(REORDER, id=order["id"]))["orderReorder"]
    second = (await mine.execute(REORDER, id=order["id"]))["orderReorder"]
    third = (await mine.execute(REORDER, id=order["id"]))["orderReorder"]

    assert first["problems"] == [] and first["cart"]["lines"] == [{"quantity": big}]
    assert second["cart"]["lines"] == [{"quantity": settings.cart_max_line_quantity}]
    assert [p["code"] for p in second["problems"] + third["problems"]] == ["INSUFFICIENT_STOCK"] * 2
    assert third["cart"]["lines"] == second["cart"]["lines"]


async def test_bad_tokens_and_ids_are_not_found_or_refused(gql, shop):
    order = await paid_order(gql, shop, quantities=(1,))
    for variables in ({"token": "x" * 43}, {"token": ""}, {"id": order["id"]}, {},
                      {"id": "UHJvZHVjdDox"}, {"token": "y" * 5000}):  # fmt: skip
        payload = (await gql.execute(REORDER, **variables))["orderReorder"]
        assert codes(payload) == [(["id"], "NOT_FOUND")], variables
        assert payload["cart"] is None
    nul = await gql.raw(REORDER, token=order["token"] + "\x00")
    assert nul["errors"][0]["extensions"]["code"] == "INVALID"


@pytest.fixture
def committed(committed_sessions) -> Shop:
    return committed_shop(committed_sessions, "reorder-race-")


async def test_five_reorders_at_once_fill_one_cart_up_to_the_line_limit(
    start_app, committed, committed_sessions, settings
):
    email = f"{committed.name('buyer')}@example.com"
    async with committed_sessions.factory() as session, session.begin():
        user = await register_account(
            session, data=RegistrationData(email=email, password=PASSWORD), settings=settings
        )
    committed_sessions.remove_after(delete(Cart).where(Cart.user_id == user.id),
                                    *_user_cleanup(email))  # fmt: skip
    limit = settings.cart_max_line_quantity
    big = limit // 2 - 1  # two fit whole, the third is cut short, the rest add nothing
    async with start_app(bind=False, database_pool_size=12) as (_, http):
        gql = GraphQLClient(http)
        token = (await gql.execute(TOKEN_CREATE, email=email, password=PASSWORD))["tokenCreate"][
            "accessToken"
        ]
        mine = gql.as_user(token)
        variant = await committed.variant(price=100, stock=10 * limit)
        cart = await committed.cart([(variant, big)], method=await committed.method(),
                                    user_id=user.id)  # fmt: skip
        order = await checkout(mine, cart, token="tok_success")

        answers = await asyncio.gather(*(mine.execute(REORDER, id=order["id"]) for _ in range(5)))

    payloads = [a["orderReorder"] for a in answers]
    assert [p["userErrors"] for p in payloads] == [[]] * 5
    assert len({p["cart"]["id"] for p in payloads}) == 1
    assert sorted(len(p["problems"]) for p in payloads) == [0, 0, 1, 1, 1]
    async with committed.factory() as session:
        quantities = (await session.scalars(
            select(CartLine.quantity).join(Cart).where(Cart.user_id == user.id,
                                                       Cart.completed_at.is_(None))
        )).all()  # fmt: skip
    assert quantities == [limit]


async def test_lines_beyond_the_carts_line_limit_are_problems_not_a_refusal(
    gql, shop, start_app, make_user, sign_in
):
    owner = await make_user(email="full-cart@example.com")
    signed_in = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await paid_order(signed_in, shop, quantities=(1, 1, 1), user_id=owner.id)
    await shop.cart([(await shop.variant(), 1)], user_id=owner.id)  # their open cart: 1 line

    async with start_app(cart_max_lines=2) as (_, http):
        client = GraphQLClient(http)
        token = (await client.execute(TOKEN_CREATE, email=owner.email, password=PASSWORD))[
            "tokenCreate"
        ]["accessToken"]
        mine = client.as_user(token)
        payload = (await mine.execute(REORDER, id=order["id"]))["orderReorder"]
        guest = (await client.execute(REORDER, token=order["token"]))["orderReorder"]

    assert payload["userErrors"] == [] and len(payload["cart"]["lines"]) == 2
    assert [(p["lineId"], p["code"]) for p in payload["problems"]] == [
        (line["id"], "TOO_MANY_LINES") for line in order["lines"][1:]
    ]
    assert guest["userErrors"] == [] and len(guest["cart"]["lines"]) == 2  # a new cart
    assert [p["lineId"] for p in guest["problems"]] == [order["lines"][2]["id"]]

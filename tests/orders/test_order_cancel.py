"""orderCancel: stock and coupon uses back, a hold voided, a capture refunded; only the
order's own customer, its token holder or staff; an illegal move names the allowed ones."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from models.catalog import Stock
from models.promotions import Promotion, PromotionRedemption
from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.payments.payment_fixtures import checkout, codes, money_rows
from tests.payments.provider_world import committed_shop

__all__ = ["customer", "staff", "staff_user"]

CANCEL = """
mutation($id: ID, $token: String) {
  orderCancel(id: $id, token: $token) {
    order { status events { fromStatus toStatus } totalRefunded { amount } }
    userErrors { field message code }
  }
}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _order(gql, shop: Shop, *, token: str = "tok_success", coupon=None, user_id=None):
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart(
        [(variant, 2)], method=await shop.method(price=500), user_id=user_id,
        coupons=[coupon] if coupon else [],
    )  # fmt: skip
    return variant, await checkout(gql, cart, token=token)


async def _stock(factory, variant) -> int:
    async with factory() as session:
        return int(
            await session.scalar(select(Stock.quantity).where(Stock.variant_id == variant.id))
        )


async def test_a_guest_cancels_an_unpaid_order_and_stock_and_coupon_go_back(
    gql, shop, session_factory
):
    coupon = await shop.promotion(code="BYE10", usage_limit=3)
    variant, order = await _order(gql, shop, token="tok_pending", coupon=coupon)
    assert await _stock(session_factory, variant) == 3

    payload = (await gql.execute(CANCEL, token=order["token"]))["orderCancel"]
    again = (await gql.execute(CANCEL, token=order["token"]))["orderCancel"]

    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "CANCELLED"
    assert payload["order"]["events"][-1] == {
        "fromStatus": "PENDING_PAYMENT",
        "toStatus": "CANCELLED",
    }
    assert codes(again) == [(["id"], "ILLEGAL_TRANSITION")]
    assert "cannot become cancelled" in again["userErrors"][0]["message"]
    assert await _stock(session_factory, variant) == 5
    async with session_factory() as session:
        used = await session.scalar(select(Promotion.used_count).where(Promotion.id == coupon.id))
        redemptions = (await session.scalars(select(PromotionRedemption))).all()
    assert (used, redemptions) == (0, [])
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["payments"][0][0] == "cancelled" and rows["transactions"] == []


async def test_cancelling_a_paid_order_refunds_the_capture(gql, shop, session_factory):
    variant, order = await _order(gql, shop)

    payload = (await gql.execute(CANCEL, token=order["token"]))["orderCancel"]

    assert payload["order"]["status"] == "CANCELLED"
    assert payload["order"]["totalRefunded"] == {"amount": "25.00"}
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["refunds"] == [("succeeded", "automatic", 2500)]
    assert rows["payments"] == [("succeeded", 2500, 2500, 0)]
    assert await _stock(session_factory, variant) == 5


async def test_cancelling_an_authorised_order_voids_the_hold(gql, shop, session_factory):
    _, order = await _order(gql, shop, token="tok_authorize")
    payload = (await gql.execute(CANCEL, token=order["token"]))["orderCancel"]
    assert payload["order"]["status"] == "CANCELLED"
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert ("void", "succeeded", 2500) in rows["transactions"]
    assert rows["payments"][0][0] == "cancelled" and rows["refunds"] == []


async def test_only_the_owner_or_staff_cancel_by_id(gql, shop, make_user, sign_in, staff, customer):
    owner = await make_user(email="owner@example.com")
    mine = gql.as_user((await sign_in("owner@example.com"))["accessToken"])
    _, order = await _order(mine, shop, token="tok_pending", user_id=owner.id)

    for client in (gql, customer):  # anonymous by id, another customer
        refused = (await client.execute(CANCEL, id=order["id"]))["orderCancel"]
        assert codes(refused) == [(["id"], "NOT_FOUND")]
    assert (await money_rows(shop.factory, key_of(order["id"])))["status"] == "pending_payment"
    assert codes((await gql.execute(CANCEL, token="x" * 43))["orderCancel"]) == [
        (["id"], "NOT_FOUND")
    ]
    assert codes((await gql.execute(CANCEL))["orderCancel"]) == [(["id"], "NOT_FOUND")]

    by_owner = (await mine.execute(CANCEL, id=order["id"]))["orderCancel"]
    assert by_owner["order"]["status"] == "CANCELLED"
    _, other = await _order(gql, shop, token="tok_pending")
    by_staff = (await staff.execute(CANCEL, id=other["id"]))["orderCancel"]
    assert by_staff["order"]["status"] == "CANCELLED"


async def test_two_cancellations_at_once_refund_once(start_app, committed_sessions):
    shop = committed_shop(committed_sessions, "ord-cancel-race-")
    async with start_app(bind=False, database_pool_size=10) as (_, http):
        gql = GraphQLClient(http)
        variant, order = await _order(gql, shop)

        answers = await asyncio.gather(
            *(gql.execute(CANCEL, token=order["token"]) for _ in range(5))
        )

    outcomes = sorted(
        a["orderCancel"]["order"]["status"] if a["orderCancel"]["order"]
        else a["orderCancel"]["userErrors"][0]["code"]
        for a in answers
    )  # fmt: skip
    assert outcomes == ["CANCELLED"] + ["ILLEGAL_TRANSITION"] * 4
    rows = await money_rows(shop.factory, key_of(order["id"]))
    assert rows["refunds"] == [("succeeded", "automatic", 2500)]
    assert await _stock(shop.factory, variant) == 5

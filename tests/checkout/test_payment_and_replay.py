"""A declined payment leaves nothing behind; the idempotency key replays the first order."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.carts import Cart, StockReservation
from models.catalog import Stock, StockAdjustment
from models.notifications import Notification
from models.orders import Order, OrderEvent
from models.payments import Payment
from models.promotions import Promotion, PromotionRedemption
from tests.checkout.checkout_fixtures import COMPLETE, Shop, complete_variables


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def complete(gql, cart, **kwargs):
    data = await gql.execute(COMPLETE, **complete_variables(cart, **kwargs))
    return data["checkoutComplete"]


async def _state(session_factory, cart: Cart, variant_id: int, promotion_id: int) -> dict:
    async with session_factory() as session:

        async def rows(model) -> int:
            return await session.scalar(select(func.count()).select_from(model)) or 0

        return {
            "orders": await rows(Order),
            "events": await rows(OrderEvent),
            "payments": await rows(Payment),
            "redemptions": await rows(PromotionRedemption),
            "adjustments": await rows(StockAdjustment),
            "notifications": await rows(Notification),
            "reservations": await rows(StockReservation),
            "stock": await session.scalar(
                select(func.sum(Stock.quantity)).where(Stock.variant_id == variant_id)
            ),
            "used": await session.scalar(
                select(Promotion.used_count).where(Promotion.id == promotion_id)
            ),
            "completed": await session.scalar(select(Cart.completed_at).where(Cart.id == cart.id))
            is not None,
        }


@pytest.mark.parametrize(
    ("token", "message"),
    [("tok_decline", "The card was declined."), ("4242424242424242", "Unknown test token")],
)
async def test_declined_payment_writes_nothing_and_the_cart_can_pay_again(
    gql, shop, session_factory, token, message
):
    # Given a cart holding a reservation, with a limited coupon
    variant = await shop.variant(stock=3)
    coupon = await shop.promotion(code="CK-DECLINE", usage_limit=1)
    cart = await shop.cart([(variant, 2)], method=await shop.method(), coupons=[coupon])
    await shop.reservation(cart, variant, 2)
    before = await _state(session_factory, cart, variant.id, coupon.id)
    assert before == {
        "orders": 0, "events": 0, "payments": 0, "redemptions": 0, "adjustments": 0,
        "notifications": 0, "reservations": 1, "stock": 3, "used": 0, "completed": False,
    }  # fmt: skip

    # When the payment is declined
    payload = await complete(gql, cart, token=token)

    # Then nothing changed at all
    assert payload["order"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (["payment.token"], "PAYMENT_DECLINED")
    assert error["message"].startswith(message)
    assert await _state(session_factory, cart, variant.id, coupon.id) == before

    # And the same cart, even with the same key, completes with a card that works
    payload = await complete(gql, cart, token="tok_success")
    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "PAID"
    after = await _state(session_factory, cart, variant.id, coupon.id)
    assert after == {
        "orders": 1, "events": 2, "payments": 1, "redemptions": 1, "adjustments": 1,
        "notifications": 2, "reservations": 0, "stock": 1, "used": 1, "completed": True,
    }  # fmt: skip


async def test_same_key_replays_the_first_order(gql, shop, session_factory, count):
    variant = await shop.variant(stock=5)
    cart = await shop.cart([(variant, 2)], method=await shop.method())

    first = await complete(gql, cart, key="retry-me")
    again = await complete(gql, cart, key="retry-me")
    # A replay replays: even another payment token does not charge again.
    third = await complete(gql, cart, key="retry-me", token="tok_decline")

    assert first["userErrors"] == again["userErrors"] == third["userErrors"] == []
    assert first["order"] == again["order"] == third["order"]
    assert await count(Order) == 1
    assert await count(Payment) == 1
    async with session_factory() as session:
        total = await session.scalar(
            select(func.sum(Stock.quantity)).where(Stock.variant_id == variant.id)
        )
    assert total == 3


async def test_another_key_on_a_completed_cart_is_cart_completed(gql, shop, count):
    variant = await shop.variant(stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method())
    assert (await complete(gql, cart, key="one"))["userErrors"] == []

    payload = await complete(gql, cart, key="two")

    assert payload["order"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["cartId"], "CART_COMPLETED")
    ]
    assert await count(Order) == 1


async def test_pending_order_is_replayed_too(gql, shop, count):
    variant = await shop.variant(stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method())
    first = await complete(gql, cart, key="p", token="tok_pending")
    again = await complete(gql, cart, key="p", token="tok_success")
    assert first["order"]["status"] == again["order"]["status"] == "PENDING_PAYMENT"
    assert first["order"]["id"] == again["order"]["id"]
    assert await count(Payment) == 1


async def test_signed_in_customer_orders_with_their_account_email(
    gql, shop, session_factory, make_user, sign_in
):
    user = await make_user("ck-buyer@example.com")
    token = (await sign_in("ck-buyer@example.com"))["accessToken"]
    variant = await shop.variant(stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(), email="", user_id=user.id)

    data = await gql.as_user(token).execute(COMPLETE, **complete_variables(cart))

    payload = data["checkoutComplete"]
    assert payload["userErrors"] == []
    assert payload["order"]["email"] == "ck-buyer@example.com"
    async with session_factory() as session:
        owner = await session.scalar(select(Order.user_id))
        event_user = (await session.scalars(select(OrderEvent.user_id))).all()
    assert owner == user.id
    assert event_user == [user.id, user.id]

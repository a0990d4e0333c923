"""checkoutComplete refuses a cart that cannot become an order: each code, and nothing
written (no order, stock and coupons as they were, the cart still open)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from models.carts import Cart
from models.catalog import Stock, Variant
from models.orders import Order
from models.payments import Payment
from models.promotions import Promotion
from tests.checkout.checkout_fixtures import COMPLETE, Shop, complete_variables

PAST = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _errors(gql, cart, **kwargs):
    data = await gql.execute(COMPLETE, **complete_variables(cart, **kwargs))
    payload = data["checkoutComplete"]
    assert payload["order"] is None
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def _unchanged(session_factory, cart: Cart, stock: dict[int, int]) -> None:
    """Nothing written: no order, no payment, the stock as given, the cart still open."""
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
        assert await session.scalar(select(Cart.completed_at).where(Cart.id == cart.id)) is None
        for variant_id, quantity in stock.items():
            total = await session.scalar(
                select(func.sum(Stock.quantity)).where(Stock.variant_id == variant_id)
            )
            assert total == quantity


async def test_empty_cart(gql, shop, session_factory):
    cart = await shop.cart([], method=await shop.method())
    assert await _errors(gql, cart) == [(["cartId"], "CART_EMPTY")]
    await _unchanged(session_factory, cart, {})


@pytest.mark.parametrize(
    ("variant", "code"),
    [
        ({"published": False}, "PRODUCT_UNAVAILABLE"),
        ({"currency": "EUR"}, "CURRENCY_MISMATCH"),
    ],
)
async def test_unbuyable_line(gql, shop, session_factory, variant, code):
    row = await shop.variant(stock=5, **variant)
    cart = await shop.cart([(row, 1)], method=await shop.method())
    assert await _errors(gql, cart) == [(["cartId"], code)]
    await _unchanged(session_factory, cart, {row.id: 5})


async def test_price_changed_since_the_shopper_saw_it(gql, shop, session_factory):
    row = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method())
    async with session_factory() as session, session.begin():
        await session.execute(update(Variant).where(Variant.id == row.id).values(price_amount=900))
    assert await _errors(gql, cart) == [(["cartId"], "PRICE_CHANGED")]
    await _unchanged(session_factory, cart, {row.id: 5})


@pytest.mark.parametrize("on_hand", [0, 2])
async def test_short_of_stock_is_insufficient_stock(gql, shop, session_factory, on_hand):
    row = await shop.variant(stock=on_hand)
    cart = await shop.cart([(row, 3)], method=await shop.method())
    assert await _errors(gql, cart) == [(["cartId"], "INSUFFICIENT_STOCK")]
    await _unchanged(session_factory, cart, {row.id: on_hand})


async def test_stock_held_by_another_cart_is_not_for_sale(gql, shop, session_factory):
    row = await shop.variant(stock=2)
    method = await shop.method()
    other = await shop.cart([(row, 2)], method=method)
    await shop.reservation(other, row, 2)
    cart = await shop.cart([(row, 1)], method=method)
    assert await _errors(gql, cart) == [(["cartId"], "INSUFFICIENT_STOCK")]
    await _unchanged(session_factory, cart, {row.id: 2})


@pytest.mark.parametrize(
    ("cart", "code"),
    [
        ({"email": ""}, "EMAIL_REQUIRED"),
        ({"address": None}, "SHIPPING_ADDRESS_REQUIRED"),
        ({"method": None}, "DELIVERY_METHOD_REQUIRED"),
    ],
)
async def test_missing_checkout_details(gql, shop, session_factory, cart, code):
    row = await shop.variant(stock=5)
    values = {"method": await shop.method(), **cart}
    target = await shop.cart([(row, 1)], **values)
    assert await _errors(gql, target) == [(["cartId"], code)]
    await _unchanged(session_factory, target, {row.id: 5})


async def test_delivery_method_no_longer_offered(gql, shop, session_factory):
    row = await shop.variant(stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method(active=False))
    assert await _errors(gql, cart) == [(["cartId"], "DELIVERY_METHOD_UNAVAILABLE")]
    await _unchanged(session_factory, cart, {row.id: 5})


async def test_first_problem_by_precedence(gql, shop, session_factory):
    """A repriced line and no email: the line comes first."""
    row = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method(), email="")
    async with session_factory() as session, session.begin():
        await session.execute(update(Variant).where(Variant.id == row.id).values(price_amount=1))
    assert await _errors(gql, cart) == [(["cartId"], "PRICE_CHANGED")]


@pytest.mark.parametrize(
    ("coupon", "code"),
    [
        ({"ends_at": PAST}, "COUPON_EXPIRED"),
        ({"starts_at": datetime(2999, 1, 1, tzinfo=UTC)}, "COUPON_NOT_STARTED"),
        ({"usage_limit": 1, "used_count": 1}, "COUPON_EXHAUSTED"),
        ({"is_active": False}, "COUPON_INVALID"),
        ({"min_subtotal_amount": 100_000}, "COUPON_MINIMUM_NOT_MET"),
    ],
)
async def test_coupon_that_no_longer_applies(gql, shop, session_factory, coupon, code):
    row = await shop.variant(stock=5)
    promotion = await shop.promotion(code=f"CK-{code}", **coupon)
    cart = await shop.cart([(row, 1)], method=await shop.method(), coupons=[promotion])
    assert await _errors(gql, cart) == [(["cartId"], code)]
    await _unchanged(session_factory, cart, {row.id: 5})
    async with session_factory() as session:
        used = await session.scalar(
            select(Promotion.used_count).where(Promotion.id == promotion.id)
        )
    assert used == coupon.get("used_count", 0)


async def test_coupon_used_up_by_this_customer(gql, shop, session_factory):
    row = await shop.variant(stock=5)
    method = await shop.method()
    promotion = await shop.promotion(code="CK-ONCE", per_customer_limit=1)
    first = await shop.cart(
        [(row, 1)], method=method, coupons=[promotion], email="ck-a@example.com"
    )
    data = await gql.execute(COMPLETE, **complete_variables(first))
    assert data["checkoutComplete"]["userErrors"] == []
    second = await shop.cart(
        [(row, 1)], method=method, coupons=[promotion], email="ck-a@example.com"
    )
    assert await _errors(gql, second) == [(["cartId"], "COUPON_USED_UP_BY_CUSTOMER")]
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"key": ""}, "idempotencyKey"),
        ({"key": "k" * 256}, "idempotencyKey"),
        ({"key": "bad\x7fkey"}, "idempotencyKey"),
        ({"key": "zero\u200bwidth"}, "idempotencyKey"),
        ({"key": "line\nbreak"}, "idempotencyKey"),
        ({"gateway": "BITCOIN"}, "payment.gateway"),
        ({"gateway": "DUMMY\x1b"}, "payment.gateway"),
        ({"token": ""}, "payment.token"),
        ({"token": "t" * 256}, "payment.token"),
    ],
)
async def test_hostile_inputs_are_invalid(gql, shop, session_factory, kwargs, field):
    row = await shop.variant(stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method())
    assert await _errors(gql, cart, **kwargs) == [([field], "INVALID")]
    await _unchanged(session_factory, cart, {row.id: 5})


async def test_a_known_gateway_this_shop_does_not_take_is_disabled(gql, shop, session_factory):
    row = await shop.variant(stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method())
    assert await _errors(gql, cart, gateway="stripe") == [
        (["payment.gateway"], "PAYMENT_GATEWAY_DISABLED")
    ]
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0


async def test_nul_bytes_are_refused_before_anything_runs(gql, shop, session_factory):
    row = await shop.variant(stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method())
    codes = await gql.error_codes(COMPLETE, **complete_variables(cart, key="a\x00b"))
    assert codes == ["INVALID"]
    await _unchanged(session_factory, cart, {row.id: 5})


async def test_gateway_name_is_case_insensitive(gql, shop):
    row = await shop.variant(stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method())
    data = await gql.execute(COMPLETE, **complete_variables(cart, gateway="dummy"))
    assert data["checkoutComplete"]["userErrors"] == []


@pytest.mark.parametrize("cart_id", ["", "nonsense", "Q2FydDox", "UHJvZHVjdDox"])
async def test_unknown_cart_ids_are_not_found(gql, cart_id):
    data = await gql.execute(
        COMPLETE, cartId=cart_id, key="k", gateway="DUMMY", token="tok_success"
    )
    payload = data["checkoutComplete"]
    assert payload["userErrors"] == [
        {"field": ["cartId"], "code": "NOT_FOUND", "message": "Cart not found."}
    ]


async def test_someone_elses_cart_is_not_found(gql, shop, session_factory, make_user):
    owner = await make_user("ck-owner@example.com")
    row = await shop.variant(stock=5)
    cart = await shop.cart([(row, 1)], method=await shop.method(), user_id=owner.id)
    assert await _errors(gql, cart) == [(["cartId"], "NOT_FOUND")]
    await _unchanged(session_factory, cart, {row.id: 5})

"""checkoutComplete through the API: the order, its totals as the cart showed them, and
everything it changed (stock, reservations, history, outbox, payment, the cart)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.money import to_major
from app.services.cart.view import cart_view
from models.carts import Cart, StockReservation
from models.catalog import Stock, StockAdjustment, Warehouse
from models.notifications import Notification
from models.orders import Order, OrderAllocation, OrderEvent, OrderLine
from models.payments import Payment
from models.promotions import Promotion, PromotionRedemption
from tests.checkout.checkout_fixtures import COMPLETE, Shop, complete_variables


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def complete(gql, cart, **kwargs):
    data = await gql.execute(COMPLETE, **complete_variables(cart, **kwargs))
    return data["checkoutComplete"]


async def _stock(session_factory, variant_id: int) -> dict[int, int]:
    async with session_factory() as session:
        rows = await session.execute(
            select(Stock.warehouse_id, Stock.quantity).where(Stock.variant_id == variant_id)
        )
        return {warehouse: quantity for warehouse, quantity in rows}


async def test_complete_places_the_order_the_cart_showed(gql, shop, session_factory, count):
    # Given a cart of two lines with a coupon, tax and a delivery method
    mug = await shop.variant(price=1250, stock=5)
    cap = await shop.variant(price=999, stock=3)
    method = await shop.method(price=500)
    await shop.tax_rate(rate="10")
    coupon = await shop.promotion(code="CK-TEN", percentage=Decimal(10), usage_limit=5)
    cart = await shop.cart([(mug, 2), (cap, 1)], method=method, coupons=[coupon])
    async with session_factory() as session:
        row = await session.get(Cart, cart.id)
        assert row is not None
        view = await cart_view(session, cart=row, now=datetime.now(UTC), prices_include_tax=False)
    assert view.problems == []
    expected = view.priced

    # When it is completed
    payload = await complete(gql, cart)

    # Then the order carries the cart's prices, frozen, and is paid
    assert payload["userErrors"] == []
    order = payload["order"]
    assert order["status"] == "PAID"
    assert order["email"] == cart.email
    money = {
        "subtotal": expected.subtotal_amount, "shipping": expected.shipping_amount,
        "shippingTax": expected.shipping_tax_amount, "discount": expected.discount_amount,
        "tax": expected.tax_amount, "total": expected.total_amount,
    }  # fmt: skip
    for name, amount in money.items():
        assert Decimal(order[name]["amount"]) == to_major(amount, "USD"), name
    assert order["total"]["currency"] == "USD"
    assert order["deliveryMethodName"] == method.name
    assert order["shippingAddress"] == {"city": "Springfield", "country": "US"}
    assert [d["code"] for d in order["discounts"]] == ["CK-TEN"]
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [
        (mug.sku, 2), (cap.sku, 1)
    ]  # fmt: skip
    line_totals = sum(Decimal(line["total"]["amount"]) for line in order["lines"])
    shipping_gross = Decimal(order["shipping"]["amount"]) + Decimal(order["shippingTax"]["amount"])
    assert line_totals + shipping_gross == Decimal(order["total"]["amount"])
    assert order["events"] == [
        {"sequence": 1, "fromStatus": None, "toStatus": "PENDING_PAYMENT"},
        {"sequence": 2, "fromStatus": "PENDING_PAYMENT", "toStatus": "PAID"},
    ]

    # And the state after: stock taken and recorded, coupon counted, cart completed
    assert await count(Order) == 1
    assert await count(OrderLine) == 2
    async with session_factory() as session:
        assert (
            await session.scalar(select(func.sum(Stock.quantity)).where(Stock.variant_id == mug.id))
            == 3
        )
        assert (
            await session.scalar(select(func.sum(Stock.quantity)).where(Stock.variant_id == cap.id))
            == 2
        )
        number = await session.scalar(select(Order.number))
        reasons = (
            await session.scalars(
                select(StockAdjustment.reason).where(
                    StockAdjustment.variant_id.in_([mug.id, cap.id])
                )
            )
        ).all()
        assert reasons == [f"order #{number}"] * 2
        assert await session.scalar(select(func.sum(OrderAllocation.quantity))) == 3
        used = await session.scalar(select(Promotion.used_count).where(Promotion.id == coupon.id))
        assert used == 1
        completed = await session.scalar(select(Cart.completed_at).where(Cart.id == cart.id))
        assert completed is not None
        payment = (await session.scalars(select(Payment))).one()
        assert (payment.status, payment.amount, payment.gateway) == (
            "succeeded",
            expected.total_amount,
            "DUMMY",
        )
        kinds = (
            await session.scalars(
                select(Notification.template).where(Notification.recipient == cart.email)
            )
        ).all()
        assert kinds == ["order_status", "order_status"]
    assert await count(OrderEvent) == 2
    assert order["number"] == number


async def test_complete_releases_the_carts_reservation(gql, shop, session_factory, count):
    variant = await shop.variant(stock=2)
    method = await shop.method()
    cart = await shop.cart([(variant, 2)], method=method)
    async with session_factory() as session, session.begin():
        session.add(
            StockReservation(
                cart_id=cart.id,
                variant_id=variant.id,
                quantity=2,
                expires_at=datetime.now(UTC) + timedelta(minutes=15),
            )
        )

    payload = await complete(gql, cart)

    assert payload["userErrors"] == []
    assert await count(StockReservation) == 0
    assert list((await _stock(session_factory, variant.id)).values()) == [0]


async def test_pending_payment_keeps_the_order_pending(gql, shop, session_factory, count):
    variant = await shop.variant(stock=4)
    method = await shop.method()
    cart = await shop.cart([(variant, 1)], method=method)

    payload = await complete(gql, cart, token="tok_pending")

    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "PENDING_PAYMENT"
    assert payload["order"]["events"] == [
        {"sequence": 1, "fromStatus": None, "toStatus": "PENDING_PAYMENT"}
    ]
    async with session_factory() as session:
        assert (await session.scalars(select(Payment.status))).all() == ["pending"]
        assert (
            await session.scalar(
                select(func.sum(Stock.quantity)).where(Stock.variant_id == variant.id)
            )
            == 3
        )
    assert await count(Cart, Cart.completed_at.is_not(None)) == 1


async def test_default_warehouse_goes_first_whatever_its_id(gql, shop, session_factory):
    # Given a default warehouse with a higher id than two others
    low = await shop.warehouse()
    mid = await shop.warehouse()
    async with session_factory() as session, session.begin():
        await session.execute(update(Warehouse).values(is_default=False))
        top = Warehouse(name="ck-top", slug="ck-top")
        session.add(top)
        await session.flush()
        top.is_default = True
    variant = await shop.variant(stock={low.id: 2, mid.id: 2, top.id: 1})
    cart = await shop.cart([(variant, 4)], method=await shop.method())

    payload = await complete(gql, cart)

    assert payload["userErrors"] == []
    async with session_factory() as session:
        taken = (
            await session.execute(
                select(OrderAllocation.warehouse_id, OrderAllocation.quantity).order_by(
                    OrderAllocation.id
                )
            )
        ).all()
    assert [tuple(row) for row in taken] == [(top.id, 1), (low.id, 2), (mid.id, 1)]
    assert await _stock(session_factory, variant.id) == {low.id: 0, mid.id: 1, top.id: 0}


async def test_untracked_variant_takes_no_stock(gql, shop, session_factory, count):
    variant = await shop.variant(stock=0, track=False)
    cart = await shop.cart([(variant, 3)], method=await shop.method())

    payload = await complete(gql, cart)

    assert payload["userErrors"] == []
    assert await count(OrderAllocation) == 0
    assert await count(StockAdjustment) == 0
    assert await _stock(session_factory, variant.id) == {(await shop.warehouse(default=True)).id: 0}


async def test_limited_automatic_promotions_count_a_use_unlimited_ones_do_not(
    gql, shop, session_factory, count
):
    limited = await shop.promotion(percentage=Decimal(5), usage_limit=3, stackable=True)
    unlimited = await shop.promotion(percentage=Decimal(5), stackable=True)
    variant = await shop.variant(price=2000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method())

    payload = await complete(gql, cart)

    assert payload["userErrors"] == []
    assert sorted(d["name"] for d in payload["order"]["discounts"]) == sorted(
        [limited.name, unlimited.name]
    )
    async with session_factory() as session:
        used = dict(
            (
                await session.execute(
                    select(Promotion.id, Promotion.used_count).where(
                        Promotion.id.in_([limited.id, unlimited.id])
                    )
                )
            ).all()
        )
        redeemed = (await session.scalars(select(PromotionRedemption.promotion_id))).all()
    assert used == {limited.id: 1, unlimited.id: 0}
    assert redeemed == [limited.id]

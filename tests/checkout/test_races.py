"""Checkouts racing in real, committed transactions, through the API of an app whose
requests each use their own connection: no overselling, one order per cart, a coupon's
last use taken once, no deadlock between carts locking the same variants, and warehouses
emptied by their priority."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from models.carts import Cart
from models.catalog import Stock, Variant
from models.orders import Order, OrderAllocation
from models.promotions import Promotion, PromotionRedemption
from tests.checkout.checkout_fixtures import Shop, complete_variables

ORDER_ONLY = """
mutation($cartId: ID!, $key: String!, $gateway: String!, $token: String!) {
  checkoutComplete(cartId: $cartId, idempotencyKey: $key,
                   payment: {gateway: $gateway, token: $token}) {
    order { id number } userErrors { code }
  }
}"""


@pytest.fixture
def shop(committed_sessions) -> Shop:
    shop = Shop(committed_sessions.factory, prefix="ck-race-")
    committed_sessions.remove_after(*shop.cleanup())
    return shop


async def _outcome(http, cart: Cart, **kwargs: Any) -> str:
    response = await http.post(
        "/graphql",
        json={"query": ORDER_ONLY, "variables": complete_variables(cart, **kwargs)},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body  # a deadlock or any other failure shows here
    payload = body["data"]["checkoutComplete"]
    if payload["userErrors"]:
        return str(payload["userErrors"][0]["code"])
    return f"order:{payload['order']['id']}"


async def _race(start_app, calls, pool: int = 20) -> list[str]:
    async with start_app(bind=False, database_pool_size=pool) as (_, http):
        return await asyncio.gather(*(_outcome(http, cart, **kw) for cart, kw in calls))


async def _total_stock(shop: Shop, variant_id: int) -> int:
    async with shop.factory() as session:
        return int(
            await session.scalar(
                select(func.sum(Stock.quantity)).where(Stock.variant_id == variant_id)
            )
            or 0
        )


async def _orders(shop: Shop) -> int:
    async with shop.factory() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Order).where(Order.email.like("ck-race-%"))
            )
            or 0
        )


async def test_two_hundred_checkouts_for_the_last_ten_units(start_app, shop):
    variant = await shop.variant(stock=10)
    method = await shop.method()
    carts = [await shop.cart([(variant, 1)], method=method) for _ in range(200)]

    results = await _race(start_app, [(cart, {}) for cart in carts], pool=20)

    outcome = Counter("order" if r.startswith("order:") else r for r in results)
    assert outcome == {"order": 10, "INSUFFICIENT_STOCK": 190}
    assert await _orders(shop) == 10
    assert await _total_stock(shop, variant.id) == 0
    async with shop.factory() as session:
        taken = await session.scalar(
            select(func.sum(OrderAllocation.quantity)).where(
                OrderAllocation.variant_id == variant.id
            )
        )
        completed = await session.scalar(
            select(func.count()).where(Cart.email.like("ck-race-%"), Cart.completed_at.is_not(None))
        )
    assert taken == 10
    assert completed == 10


@pytest.mark.parametrize("keys", ["same", "different"])
async def test_one_cart_completed_ten_times_at_once_is_one_order(start_app, shop, keys):
    variant = await shop.variant(stock=50)
    cart = await shop.cart([(variant, 2)], method=await shop.method())
    calls = [(cart, {"key": "k" if keys == "same" else f"k{n}"}) for n in range(10)]

    results = await _race(start_app, calls, pool=10)

    orders = {r for r in results if r.startswith("order:")}
    assert len(orders) == 1
    if keys == "same":
        assert results == [orders.pop()] * 10  # every replay returns the first order
    else:
        assert sorted(results).count("CART_COMPLETED") == 9
    assert await _orders(shop) == 1
    assert await _total_stock(shop, variant.id) == 48


async def test_last_use_of_a_coupon_raced_by_fifty_carts(start_app, shop):
    variant = await shop.variant(stock=500)
    method = await shop.method()
    coupon = await shop.promotion(code="CK-RACE-LAST", usage_limit=7, used_count=6)
    carts = [await shop.cart([(variant, 1)], method=method, coupons=[coupon]) for _ in range(50)]

    results = await _race(start_app, [(cart, {}) for cart in carts], pool=20)

    outcome = Counter("order" if r.startswith("order:") else r for r in results)
    assert outcome == {"order": 1, "COUPON_EXHAUSTED": 49}
    async with shop.factory() as session:
        used = await session.scalar(select(Promotion.used_count).where(Promotion.id == coupon.id))
        redeemed = await session.scalar(
            select(func.count()).where(PromotionRedemption.promotion_id == coupon.id)
        )
    assert used == 7
    assert redeemed == 1
    assert await _total_stock(shop, variant.id) == 499


async def test_overlapping_lines_in_opposite_orders_do_not_deadlock(start_app, shop):
    a = await shop.variant(stock=100)
    b = await shop.variant(stock=100)
    c = await shop.variant(stock=100)
    method = await shop.method()
    orders = [
        [(a, 1), (b, 1), (c, 1)],
        [(c, 1), (b, 1), (a, 1)],
        [(b, 1), (a, 1)],
        [(c, 1), (a, 1)],
    ]
    carts = [await shop.cart(orders[n % 4], method=method) for n in range(40)]

    results = await _race(start_app, [(cart, {}) for cart in carts], pool=20)

    assert all(r.startswith("order:") for r in results), Counter(results)
    assert await _orders(shop) == 40
    assert [await _total_stock(shop, v.id) for v in (a, b, c)] == [60, 70, 70]


async def test_warehouses_are_emptied_by_priority(start_app, shop):
    default = await shop.warehouse(default=True)
    first = await shop.warehouse()
    second = await shop.warehouse()
    assert default.id < first.id < second.id or default.id > first.id  # default goes first anyway
    variant = await shop.variant(stock={second.id: 5, default.id: 2, first.id: 5})
    method = await shop.method()
    carts = [await shop.cart([(variant, 2)], method=method) for _ in range(5)]

    results = await _race(start_app, [(cart, {}) for cart in carts], pool=10)

    assert all(r.startswith("order:") for r in results), results
    async with shop.factory() as session:
        left = dict(
            (await session.execute(
                select(Stock.warehouse_id, Stock.quantity).where(Stock.variant_id == variant.id)
            )).all()
        )  # fmt: skip
        per_warehouse = dict(
            (await session.execute(
                select(OrderAllocation.warehouse_id, func.sum(OrderAllocation.quantity))
                .where(OrderAllocation.variant_id == variant.id)
                .group_by(OrderAllocation.warehouse_id)
            )).all()
        )  # fmt: skip
    assert left == {default.id: 0, first.id: 0, second.id: 2}
    assert per_warehouse == {default.id: 2, first.id: 5, second.id: 3}


async def test_one_order_split_over_warehouses_in_priority_order(start_app, shop):
    default = await shop.warehouse(default=True)
    first = await shop.warehouse()
    second = await shop.warehouse()
    variant = await shop.variant(stock={default.id: 1, first.id: 2, second.id: 9})
    cart = await shop.cart([(variant, 4)], method=await shop.method())

    [result] = await _race(start_app, [(cart, {})], pool=2)

    assert result.startswith("order:")
    async with shop.factory() as session:
        taken = (
            await session.execute(
                select(OrderAllocation.warehouse_id, OrderAllocation.quantity)
                .where(OrderAllocation.variant_id == variant.id)
                .order_by(OrderAllocation.id)
            )
        ).all()
        assert await session.scalar(select(Variant.id).where(Variant.id == variant.id))
    assert [tuple(row) for row in taken] == [(default.id, 1), (first.id, 2), (second.id, 1)]

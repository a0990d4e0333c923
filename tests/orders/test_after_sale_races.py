"""Races on committed data, each call in its own transaction on its own connection: shipments
never ship more than was ordered, returns never hold more than was delivered."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.errors import UserError
from app.services.orders.access import Who
from app.services.orders.fulfilment import FulfilData, deliver, fulfil
from app.services.orders.returns import request_return
from app.services.payments.refunds import LineQuantity
from app.settings import Settings
from models.fulfilment import ReturnLine
from models.orders import OrderAllocation
from tests.catalog.staff_fixtures import key_of
from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.payments.payment_fixtures import checkout


@pytest.fixture
def shop(committed_sessions) -> Shop:
    shop = Shop(committed_sessions.factory, prefix="after-sale-race-")
    committed_sessions.remove_after(*shop.cleanup())
    return shop


async def _paid(start_app, shop: Shop, units: int) -> tuple[int, int]:
    """An order of `units` of one line, and one unit of another (which nobody ships here, so
    the order stays partially fulfilled)."""
    variant = await shop.variant(price=1000, stock=units)
    other = await shop.variant(price=1000, stock=1)
    cart = await shop.cart([(variant, units), (other, 1)], method=await shop.method(price=500))
    async with start_app(bind=False) as (_, http):
        order = await checkout(GraphQLClient(http), cart, token="tok_success")
    return key_of(order["id"]), key_of(order["lines"][0]["id"])


async def _outcome(call) -> str:
    try:
        await call
    except UserError as exc:
        return exc.code.value
    return "OK"


async def test_twenty_shipments_of_one_unit_at_once_ship_exactly_what_was_ordered(start_app, shop):
    order_id, line_id = await _paid(start_app, shop, 3)

    async def one() -> str:
        async with shop.factory() as session, session.begin():
            data = FulfilData(lines=[LineQuantity(line_id, 1)])
            return await _outcome(fulfil(session, order_id=order_id, data=data, user_id=None))

    outcomes = await asyncio.gather(*(one() for _ in range(20)))

    assert sorted(outcomes) == ["FULFILMENT_EXCEEDS_LINE"] * 17 + ["OK"] * 3
    async with shop.factory() as session:
        shipped = await session.scalar(
            select(func.sum(OrderAllocation.shipped_quantity)).where(
                OrderAllocation.order_line_id == line_id
            )
        )
    assert shipped == 3


async def test_twenty_return_requests_at_once_hold_at_most_what_was_delivered(start_app, shop):
    order_id, line_id = await _paid(start_app, shop, 3)
    async with shop.factory() as session, session.begin():
        _, shipment = await fulfil(session, order_id=order_id, user_id=None,
                                   data=FulfilData(lines=[LineQuantity(line_id, 3)]))  # fmt: skip
    async with shop.factory() as session, session.begin():
        await deliver(session, shipment_id=shipment.id, user_id=None)
    settings = Settings()
    async with shop.factory() as session:
        from models.orders import Order

        token = (await session.get(Order, order_id)).token

    async def one() -> str:
        async with shop.factory() as session, session.begin():
            return await _outcome(request_return(
                session, order_id=None, who=Who(user_id=None, staff=False, token=token),
                lines=[LineQuantity(line_id, 1)], line_reasons=[""], reason="", settings=settings,
            ))  # fmt: skip

    outcomes = await asyncio.gather(*(one() for _ in range(20)))

    assert sorted(outcomes) == ["OK"] * 3 + ["RETURN_EXCEEDS_DELIVERED"] * 17
    async with shop.factory() as session:
        held = await session.scalar(
            select(func.sum(ReturnLine.quantity)).where(ReturnLine.order_line_id == line_id)
        )
    assert held == 3

"""Two refunds of the same order in committed transactions that overlap for certain: the
second reads while the first holds its reservation uncommitted, and is refused once the
first commits (the order and payment locks), never a second reservation."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from app.errors import ErrorCode, PaymentError
from app.services.payments.refunds import RefundData, request_refund
from tests.catalog.staff_fixtures import key_of
from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.payments.payment_fixtures import checkout, money_rows

FULL = RefundData(
    amount=Decimal("15.00"), lines=None, include_shipping=False, reason="", idempotency_key=None
)


@pytest.fixture
def shop(committed_sessions) -> Shop:
    shop = Shop(committed_sessions.factory, prefix="pay-lock-")
    committed_sessions.remove_after(*shop.cleanup())
    return shop


async def test_a_refund_overlapping_an_uncommitted_one_is_refused(start_app, shop):
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
    async with start_app(bind=False) as (_, http):
        order = await checkout(GraphQLClient(http), cart, gateway="DUMMY", token="tok_success")
    order_id = key_of(order["id"])
    first_reserved = asyncio.Event()

    async def second() -> str:
        await first_reserved.wait()
        async with shop.factory() as session, session.begin():
            try:
                await request_refund(session, order_id=order_id, data=FULL, user_id=None)
            except PaymentError as exc:
                return exc.code.value
        return "RESERVED"

    task = asyncio.create_task(second())
    async with shop.factory() as session, session.begin():
        await request_refund(session, order_id=order_id, data=FULL, user_id=None)
        first_reserved.set()
        # The second is now reading (or waiting on the lock) while this one is uncommitted.
        await asyncio.sleep(0.5)
    outcome = await asyncio.wait_for(task, timeout=10)

    assert outcome == ErrorCode.NOTHING_TO_REFUND.value
    rows = await money_rows(shop.factory, order_id)
    assert rows["payments"] == [("succeeded", 1500, 0, 1500)]
    assert rows["refunds"] == [("pending", "staff", 1500)]

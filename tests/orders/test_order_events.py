"""record_status: a history row, an outbox notification and a pub/sub message per change,
numbered per order; the notification renders."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.events import take_pending
from app.notifications.templates import render
from app.services.orders.events import record_status
from models.notifications import Notification
from models.orders import Order, OrderEvent
from tests.checkout.checkout_fixtures import COMPLETE, Shop, complete_variables


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def test_each_change_is_numbered_recorded_notified_and_published(gql, shop, session_factory):
    variant = await shop.variant(stock=3)
    cart = await shop.cart([(variant, 1)], method=await shop.method())
    data = await gql.execute(COMPLETE, **complete_variables(cart))
    number = data["checkoutComplete"]["order"]["number"]

    async with session_factory() as session, session.begin():
        order = (await session.scalars(select(Order))).one()
        await record_status(session, order, "cancelled", None)
        pending = take_pending(session)

    assert pending == [
        (f"order:{order.id}", {"kind": "ORDER_STATUS", "orderId": order.id, "number": number,
                               "sequence": 3, "fromStatus": "paid", "toStatus": "cancelled"})
    ]  # fmt: skip
    async with session_factory() as session:
        events = (
            await session.execute(
                select(OrderEvent.sequence, OrderEvent.from_status, OrderEvent.to_status).order_by(
                    OrderEvent.sequence
                )
            )
        ).all()
        notes = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    assert [tuple(e) for e in events] == [
        (1, None, "pending_payment"), (2, "pending_payment", "paid"), (3, "paid", "cancelled")
    ]  # fmt: skip
    assert [(n.kind, n.channel, n.recipient, n.payload["sequence"]) for n in notes] == [
        ("order_updates", "email", cart.email, sequence) for sequence in (1, 2, 3)
    ]
    subjects = [render(n.template, n.payload).subject for n in notes]
    assert subjects == [
        f"Order #{number} received", f"Order #{number} is paid", f"Order #{number} cancelled"
    ]  # fmt: skip

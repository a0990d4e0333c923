"""Second review of orderUpdated: an order deleted under its subscribers, many subscriptions
on one socket, an afterSequence beyond the last change, and what a finished subscription
leaves behind. Committed data (subscriptions read on connections of their own)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import delete

from models.orders import Order
from tests.catalog.staff_fixtures import key_of
from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.orders.live_fixtures import follow, opened, pending_order, updates
from tests.payments.payment_fixtures import CONFIRM
from tests.test_websocket import receive, ws_client


@pytest.fixture
def shop(committed_sessions) -> Shop:
    shop = Shop(committed_sessions.factory, prefix="ord-live2-")
    committed_sessions.remove_after(*shop.cleanup())
    return shop


def _subscribers(app: Any) -> int:
    """Queues broadcaster holds for subscribers, over all channels."""
    broadcast = app.state.resources.pubsub._broadcast
    return sum(len(queues) for queues in broadcast._subscribers.values())


async def test_a_subscription_to_an_order_deleted_meanwhile_completes(start_app, shop):
    async with (
        start_app(bind=False, order_updates_poll_seconds=0.2) as (app, http),
        ws_client(app) as client,
    ):
        order = await pending_order(shop, http)
        async with opened(client) as ws:
            await follow(ws, "1", token=order["token"])
            assert await updates(ws, 1) == [(1, None, "PENDING_PAYMENT")]

            async with shop.factory() as session, session.begin():
                await session.execute(delete(Order).where(Order.id == key_of(order["id"])))

            # ended, not polling a missing order for as long as the socket stays open
            assert await receive(ws, 3) == {"id": "1", "type": "complete"}
            await asyncio.sleep(0.1)
            assert _subscribers(app) == 0


async def test_subscriptions_over_the_limit_are_refused_and_the_others_keep_working(
    start_app, shop
):
    async with (
        start_app(bind=False, ws_max_subscriptions=3) as (app, http),
        ws_client(app) as client,
    ):
        order = await pending_order(shop, http)
        async with opened(client) as ws:
            for operation in ("1", "2", "3"):
                await follow(ws, operation, token=order["token"])
            first = [await receive(ws) for _ in range(3)]
            await follow(ws, "4", token=order["token"])
            refused = await receive(ws)

            app.state.resources.gateways["DUMMY"].settle(order["payments"][0]["pspReference"])
            await GraphQLClient(http).execute(CONFIRM, token=order["token"])
            paid = [await receive(ws) for _ in range(3)]

        assert sorted(m["id"] for m in first) == ["1", "2", "3"]
        assert (refused["id"], refused["type"]) == ("4", "error")
        assert refused["payload"][0]["message"] == "Subscription limit reached"
        assert sorted(m["id"] for m in paid) == ["1", "2", "3"]
        assert {m["payload"]["data"]["orderUpdated"]["sequence"] for m in paid} == {2}


async def test_an_after_sequence_beyond_the_last_is_refused_and_a_waiting_one_stops_cleanly(
    start_app, shop
):
    async with (
        start_app(bind=False, order_updates_poll_seconds=0.2) as (app, http),
        ws_client(app) as client,
    ):
        order = await pending_order(shop, http)
        async with opened(client) as ws:
            await follow(ws, "0", token=order["token"], after=2)  # the last change is 1
            beyond = await receive(ws)
            assert [e["extensions"]["code"] for e in beyond["payload"]["errors"]] == [
                "BAD_USER_INPUT"
            ]
            assert await receive(ws) == {"id": "0", "type": "complete"}
            await follow(ws, "1", token=order["token"], after=1)
            with pytest.raises(TimeoutError):
                await receive(ws, 0.6)  # nothing after the last change yet
            await ws.send_json({"id": "1", "type": "complete"})
            await follow(ws, "2", token=order["token"], after=0)
            assert await updates(ws, 1) == [(1, None, "PENDING_PAYMENT")]
            await ws.send_json({"id": "2", "type": "complete"})
            await asyncio.sleep(0.3)
            assert _subscribers(app) == 0

"""orderUpdated over graphql-transport-ws: the history after a sequence number first, then
live changes; by token for a guest, by id for the customer; a lost message is caught up;
a change on another app instance arrives through Redis; and an independent client library
(`gql`) speaks the protocol end to end. Committed data: subscriptions read the database on
connections of their own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from app.housekeeping import payment_jobs
from app.services.orders.events import record_status
from models.orders import Order
from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.orders.live_fixtures import FOLLOW, follow, opened, pending_order, updates
from tests.payments.payment_fixtures import CONFIRM
from tests.test_websocket import receive, ws_client


@pytest.fixture
def shop(committed_sessions) -> Shop:
    shop = Shop(committed_sessions.factory, prefix="ord-live-")
    committed_sessions.remove_after(*shop.cleanup())
    return shop


async def test_a_guest_follows_by_token_history_first_then_live(start_app, shop):
    async with start_app(bind=False) as (app, http), ws_client(app) as client:
        order = await pending_order(shop, http)
        async with opened(client) as ws:
            await follow(ws, "1", token=order["token"])
            assert await updates(ws, 1) == [(1, None, "PENDING_PAYMENT")]

            app.state.resources.gateways["DUMMY"].settle(order["payments"][0]["pspReference"])
            await GraphQLClient(http).execute(CONFIRM, token=order["token"])

            assert await updates(ws, 1) == [(2, "PENDING_PAYMENT", "PAID")]


async def test_a_reconnect_with_the_last_sequence_misses_nothing(start_app, shop):
    async with start_app(bind=False) as (app, http), ws_client(app) as client:
        order = await pending_order(shop, http)
        async with opened(client) as ws:
            await follow(ws, "1", token=order["token"])
            assert await updates(ws, 1) == [(1, None, "PENDING_PAYMENT")]
        # disconnected: the order is paid meanwhile
        app.state.resources.gateways["DUMMY"].settle(order["payments"][0]["pspReference"])
        await GraphQLClient(http).execute(CONFIRM, token=order["token"])
        async with opened(client) as ws:
            await follow(ws, "2", token=order["token"], after=1)
            assert await updates(ws, 1) == [(2, "PENDING_PAYMENT", "PAID")]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"token": "x" * 43}, "NOT_FOUND"),
        ({"token": "not a token"}, "NOT_FOUND"),
        ({"id": "T3JkZXI6MQ=="}, "NOT_FOUND"),  # an order id, anonymously
        ({}, "NOT_FOUND"),
        ({"after": -1, "token": "x" * 43}, "BAD_USER_INPUT"),
    ],
)
async def test_orders_one_may_not_follow_are_not_found(start_app, shop, variables, code):
    async with (
        start_app(bind=False) as (app, _),
        ws_client(app) as client,
        opened(client) as ws,
    ):
        await follow(ws, "1", **variables)
        message = await receive(ws)
    assert message["type"] == "next" and message["payload"]["data"] is None, message
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == [code]


async def test_a_change_whose_message_was_lost_arrives_by_the_poll(start_app, shop):
    async with (
        start_app(bind=False, order_updates_poll_seconds=0.3) as (app, http),
        ws_client(app) as client,
    ):
        order = await pending_order(shop, http)
        async with opened(client) as ws:
            await follow(ws, "1", token=order["token"])
            assert await updates(ws, 1) == [(1, None, "PENDING_PAYMENT")]

            async with shop.factory() as session, session.begin():  # committed, never published
                row = await session.get(Order, int(_key(order["id"])))
                assert row is not None
                await record_status(session, row, "cancelled", None)

            assert await updates(ws, 1, timeout=3) == [(2, "PENDING_PAYMENT", "CANCELLED")]


async def test_a_change_on_another_instance_arrives_through_redis(start_app, shop, redis_url):
    shared = {"redis_url": redis_url, "pubsub_prefix": f"live-{datetime.now(UTC).timestamp()}",
              "order_updates_poll_seconds": 600}  # fmt: skip
    async with (
        start_app(bind=False, **shared) as (a, http_a),
        start_app(bind=False, **shared) as (b, _),
        ws_client(a) as client,
    ):
        order = await pending_order(shop, http_a)
        async with opened(client) as ws:
            await follow(ws, "1", token=order["token"])
            assert await updates(ws, 1) == [(1, None, "PENDING_PAYMENT")]
            await asyncio.sleep(0.2)  # Redis confirms SUBSCRIBE asynchronously

            resources = b.state.resources  # instance B's worker cancels the unpaid order
            await payment_jobs(
                resources.session_factory, settings=resources.settings,
                gateways=resources.gateways, pubsub=resources.pubsub,
                now=datetime.now(UTC) + timedelta(days=1),
            )  # fmt: skip

            assert await updates(ws, 1, timeout=5) == [(2, "PENDING_PAYMENT", "CANCELLED")]


async def test_an_independent_client_library_subscribes_end_to_end(shop, settings, engine):
    from gql import Client, gql
    from gql.transport.websockets import WebsocketsTransport

    from app.main import create_app
    from tests.conftest import make_settings
    from tests.fakes.local_server import LocalServer

    app = create_app(make_settings())
    with LocalServer(app, lifespan="on") as server:
        async with GraphQLClient_over(server.url) as http:
            order = await pending_order(shop, http)
        transport = WebsocketsTransport(
            url=server.url.replace("http", "ws") + "/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            request = gql(FOLLOW)
            request.variable_values = {"token": order["token"]}
            results = []
            async for result in session.subscribe(request):
                results.append(result["orderUpdated"])
                break
    assert results[0]["sequence"] == 1 and results[0]["status"] == "PENDING_PAYMENT"
    assert results[0]["number"] == order["number"]


def GraphQLClient_over(url: str):
    from httpx import AsyncClient

    return AsyncClient(base_url=url)


def _key(global_id: str) -> str:
    from tests.catalog.staff_fixtures import key_of

    return str(key_of(global_id))


_ = delete  # cleanup statements come from Shop.cleanup

"""orderUpdated over graphql-transport-ws: the history after a sequence number first, then
live changes; by token for a guest, by id for the customer; a lost message is caught up;
a change on another app instance arrives through Redis; and an independent client library
(`gql`) speaks the protocol end to end. Committed data: subscriptions read the database on
connections of their own."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete

from app.events import publish_committed
from app.housekeeping import payment_jobs
from app.services.orders.events import record_status
from models.orders import Order
from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.orders.live_fixtures import FOLLOW, follow, opened, pending_order, updates
from tests.payments.payment_fixtures import CONFIRM, checkout
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


MINE = "subscription { myOrdersUpdated { orderId number sequence fromStatus status } }"


async def test_a_customer_hears_all_their_orders_and_no_one_elses(start_app, committed_sessions,
                                                                  settings):  # fmt: skip
    from app.auth.permissions import Role
    from app.services.accounts.tokens import RegistrationData, register_account
    from models.accounts import User
    from tests.conftest import PASSWORD, TOKEN_CREATE
    from tests.test_websocket import receive

    shop = Shop(committed_sessions.factory, prefix="ord-mine-")
    email = "ord-mine-buyer@example.com"
    committed_sessions.remove_after(*shop.cleanup(), delete(User).where(User.email == email))
    async with committed_sessions.factory() as session, session.begin():
        user = await register_account(
            session, data=RegistrationData(email=email, password=PASSWORD), settings=settings,
            role=Role.CUSTOMER,
        )  # fmt: skip
    async with start_app(bind=False) as (app, http), ws_client(app) as client:
        signed_in = await GraphQLClient(http).execute(TOKEN_CREATE, email=email, password=PASSWORD)
        token = signed_in["tokenCreate"]["accessToken"]
        async with opened(client, token) as ws:
            await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": MINE}})
            await asyncio.sleep(0.2)
            await pending_order(shop, http)  # someone else's (a guest's)
            variant = await shop.variant(price=1000, stock=5)
            cart = await shop.cart(
                [(variant, 1)], method=await shop.method(price=500), user_id=user.id
            )
            mine = await checkout(GraphQLClient(http).as_user(token), cart)
            first, second = await receive(ws, 5), await receive(ws, 5)
        async with opened(client) as anonymous:
            await anonymous.send_json({"id": "2", "type": "subscribe", "payload": {"query": MINE}})
            refused = await receive(anonymous)

    heard = [m["payload"]["data"]["myOrdersUpdated"] for m in (first, second)]
    assert [(h["number"], h["sequence"], h["status"]) for h in heard] == [
        (mine["number"], 1, "PENDING_PAYMENT"), (mine["number"], 2, "PAID"),
    ]  # fmt: skip
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["UNAUTHENTICATED"]


async def test_redis_restarting_mid_subscription_leaves_no_subscriber_hung(start_app, shop):
    """A Redis of the test's own, stopped and started again under a live subscription: the
    change made while it was down (its message lost) arrives by the poll, and the one
    published after the restart arrives too: the subscription resumed, by sequence."""
    import shutil
    import socket
    import subprocess

    server = shutil.which("redis-server")
    assert server is not None, ".ci/run starts redis-server: it is installed"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
               "no"]  # fmt: skip

    def start_redis() -> subprocess.Popen:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return process
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    redis = start_redis()
    try:
        async with (
            start_app(bind=False, redis_url=f"redis://127.0.0.1:{port}/0",
                      order_updates_poll_seconds=0.5) as (app, http),
            ws_client(app) as client,
        ):  # fmt: skip
            order = await pending_order(shop, http)
            async with opened(client) as ws:
                await follow(ws, "1", token=order["token"])
                assert await updates(ws, 1) == [(1, None, "PENDING_PAYMENT")]

                redis.terminate()
                redis.wait(10)
                async with shop.factory() as session, session.begin():
                    row = await session.get(Order, int(_key(order["id"])))
                    assert row is not None
                    await record_status(session, row, "authorized", None)
                assert await updates(ws, 1, timeout=5) == [(2, "PENDING_PAYMENT", "AUTHORIZED")]

                redis = start_redis()
                await asyncio.sleep(1.5)  # the backend reconnects with backoff
                app.state.resources.gateways["DUMMY"]
                async with shop.factory() as session:
                    async with session.begin():
                        row = await session.get(Order, int(_key(order["id"])))
                        assert row is not None
                        await record_status(session, row, "paid", None)
                    await publish_committed(session, app.state.resources.pubsub)
                assert await updates(ws, 1, timeout=5) == [(3, "AUTHORIZED", "PAID")]
    finally:
        redis.terminate()
        redis.wait(10)

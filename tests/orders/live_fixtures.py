"""Helpers of the orderUpdated tests: a pending order, an acknowledged socket, a
subscription, and the updates it receives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.checkout.checkout_fixtures import Shop
from tests.graphql_client import GraphQLClient
from tests.payments.payment_fixtures import checkout
from tests.test_websocket import ACK, connect, init, receive

FOLLOW = """
subscription($id: ID, $token: String, $after: Int) {
  orderUpdated(id: $id, token: $token, afterSequence: $after) {
    orderId number sequence fromStatus status occurredAt
  }
}"""


async def pending_order(shop: Shop, http: Any) -> dict[str, Any]:
    """A placed order waiting for its payment (DUMMY tok_pending)."""
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
    return await checkout(GraphQLClient(http), cart, token="tok_pending")


@asynccontextmanager
async def opened(client: Any, token: str | None = None) -> AsyncIterator[Any]:
    """A graphql-transport-ws socket past its connection_ack."""
    async with connect(client) as ws:
        await init(ws, token)
        assert await receive(ws) == ACK
        yield ws


async def follow(ws: Any, operation: str, **variables: Any) -> None:
    await ws.send_json(
        {"id": operation, "type": "subscribe", "payload": {"query": FOLLOW, "variables": variables}}
    )


async def updates(ws: Any, count: int, timeout: float = 5.0) -> list[tuple[int, str | None, str]]:
    """The next `count` updates as (sequence, fromStatus, status)."""
    got = []
    while len(got) < count:
        message = await receive(ws, timeout)
        assert message["type"] == "next", message
        update = message["payload"]["data"]["orderUpdated"]
        got.append((update["sequence"], update["fromStatus"], update["status"]))
    return got

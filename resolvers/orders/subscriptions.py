"""orderUpdated: one order's status changes, live, resumable by sequence number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Any

import strawberry

from app.services.orders.events import channel_of, customer_channel_of
from app.services.orders.live import changes_after, followable_order
from resolvers.base import (
    ApiError,
    Info,
    current_user,
    decode_id,
    global_id,
    node_token,
    run_in_own_session,
)
from resolvers.orders.types import OrderStatus, can_manage_orders

MAX_SEQUENCE = 2**31 - 1


@strawberry.type(description="One status change of an order, as a subscriber receives it.")
class OrderUpdate:
    order_id: strawberry.ID = strawberry.field(description="The order's global ID.")
    number: int = strawberry.field(description="The order number.")
    sequence: int = strawberry.field(
        description="Per-order number of the change, 1 for placing; pass the last one you "
        "saw as afterSequence when you reconnect, and nothing is missed."
    )
    from_status: OrderStatus | None = strawberry.field(description="Before; null at placing.")
    status: OrderStatus = strawberry.field(description="The order's status after the change.")
    occurred_at: datetime = strawberry.field(description="When it changed.")


class _Signals:
    """Messages of a channel as wake-ups, each awaited for at most the poll interval.

    The pending read outlives a timeout (it is never cancelled mid-message: cancelling
    the channel's generator would end it), and is cancelled when the subscription ends.
    """

    def __init__(self, messages: AsyncIterator[dict[str, Any]]) -> None:
        self._messages = messages
        self._pending: asyncio.Future[dict[str, Any]] | None = None
        self.open = True

    async def wait(self, seconds: float) -> None:
        """Return at the next message or after `seconds`; `open` turns False at the end."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(anext(self._messages))
        done, _ = await asyncio.wait({self._pending}, timeout=seconds)
        if done:
            pending, self._pending = self._pending, None
            if pending.exception() is not None:  # StopAsyncIteration: the channel closed
                self.open = False

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The order's status changes: first those after `afterSequence` (0: its "
        "whole history), then each as it happens, in sequence order, on any app instance. "
        "Follow your own order by `id` (signed in) or any order you hold the `token` of (a "
        "guest); staff with MANAGE_ORDERS follow any. NOT_FOUND otherwise."
    )
    async def order_updated(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        token: str | None = None,
        after_sequence: int = 0,
    ) -> AsyncGenerator[OrderUpdate, None]:
        if not 0 <= after_sequence <= MAX_SEQUENCE:
            raise ApiError("afterSequence must be 0 or more.", "BAD_USER_INPUT")
        context = info.context
        user = context.user
        order = await run_in_own_session(
            info,
            followable_order,
            order_id=decode_id(id, "Order") if id is not None else None,
            token=node_token(token) if token is not None else None,
            viewer_id=user.id if user is not None else None,
            staff=can_manage_orders(info),
        )
        if order is None:
            raise ApiError("No such order.", "NOT_FOUND")
        if after_sequence > order.event_sequence:  # no client can have seen it: a bug
            raise ApiError(
                f"afterSequence is beyond the order's last change ({order.event_sequence}).",
                "BAD_USER_INPUT",
            )
        order_id, number, last = order.id, order.number, after_sequence
        poll = context.settings.order_updates_poll_seconds
        # Listen first, then read: a change committed between the two is in the history
        # read, and its message only makes us read again.
        async with context.pubsub.subscribe(channel_of(order_id)) as messages:
            signals = _Signals(messages)
            try:
                async for update in _follow(info, signals, order_id, number, last, poll):
                    yield update
            finally:
                signals.close()

    @strawberry.subscription(
        description="Status changes of all your orders as they happen (signed in). Live "
        "only: each carries its order's sequence number, so after a reconnect follow an "
        "order with orderUpdated(id:, afterSequence:) to get what it missed (occurredAt is "
        "when the server relayed the change)."
    )
    async def my_orders_updated(self, info: Info) -> AsyncGenerator[OrderUpdate, None]:
        user = current_user(info)
        async with info.context.pubsub.subscribe(customer_channel_of(user.id)) as messages:
            async for message in messages:
                yield OrderUpdate(
                    order_id=strawberry.ID(str(global_id("Order", int(message["orderId"])))),
                    number=int(message["number"]),
                    sequence=int(message["sequence"]),
                    from_status=OrderStatus(message["fromStatus"])
                    if message["fromStatus"]
                    else None,
                    status=OrderStatus(message["toStatus"]),
                    occurred_at=datetime.now(UTC),
                )


async def _follow(
    info: Info, signals: _Signals, order_id: int, number: int, last: int, poll: float
) -> AsyncGenerator[OrderUpdate, None]:
    while True:
        rows = await run_in_own_session(info, changes_after, order_id=order_id, sequence=last)
        if rows is None:
            return  # deleted: the subscription completes instead of polling for ever
        for row in rows:
            last = row.sequence
            yield OrderUpdate(
                order_id=strawberry.ID(str(global_id("Order", order_id))),
                number=number,
                sequence=row.sequence,
                from_status=OrderStatus(row.from_status) if row.from_status else None,
                status=OrderStatus(row.to_status),
                occurred_at=row.created_at,
            )
        if rows:
            continue  # a full batch may have more behind it
        if signals.open:
            await signals.wait(poll)
        else:  # the channel closed: keep following by reading the history
            await asyncio.sleep(poll)

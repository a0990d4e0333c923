"""Order queries: `order(id)` for its customer or staff, `orderByToken` for a guest."""

from __future__ import annotations

import strawberry

from app.services.orders import queries
from app.services.pagination import PageRequest
from resolvers.base import Info, decode_id, node_token, run_query
from resolvers.connection import Connection, keyset_connection
from resolvers.orders.types import Order, can_manage_orders


async def resolve_orders_of(info: Info, *, user_id: int, page: PageRequest) -> Connection[Order]:
    """A page of the user's orders, newest first (User.orders delegates here)."""
    return await keyset_connection(
        info, queries.orders_of_user(user_id), page=page, node=Order.from_row
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="An order, for its customer or staff with MANAGE_ORDERS; null otherwise."
    )
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        viewer = info.context.user
        key = decode_id(id, "Order")
        if not key or viewer is None:
            return None
        row = await run_query(
            info, queries.order_by_id, order_id=key, viewer_id=viewer.id,
            staff=can_manage_orders(info),
        )  # fmt: skip
        return Order.from_row(row) if row is not None else None

    @strawberry.field(
        description="An order by the token its guest checkout returned (orderByToken); "
        "never cached, as it is one shopper's."
    )
    async def order_by_token(self, info: Info, token: str) -> Order | None:
        info.context.private_answer = True
        row = await run_query(info, queries.order_by_token, token=node_token(token))
        return Order.from_row(row) if row is not None else None

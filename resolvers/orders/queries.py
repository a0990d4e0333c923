"""Order queries: `order(id)` for its customer or staff, `orderByToken` for a guest."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from app.auth.permissions import Perm
from app.services.orders import queries
from app.services.pagination import PageRequest
from resolvers.base import (
    ApiError,
    HasPermission,
    Info,
    client_ip,
    decode_id,
    node_token,
    query_errors,
    rate_limit,
    run_query,
)
from resolvers.connection import Connection, keyset_connection
from resolvers.orders.after_sale_types import OrderReturn, ReturnStatus
from resolvers.orders.types import Order, OrderStatus, can_manage_orders

MAX_STATUSES = 20

# Registers the GraphQL enums on the service's enums, which the input annotates.
strawberry.enum(queries.OrderSortField, description="What staff order lists sort by.")
strawberry.enum(queries.SortDirection, description="Ascending or descending.")


@strawberry.input(description="Which of your orders to list; every field narrows.")
class MyOrdersFilter:
    status: list[OrderStatus] | None = strawberry.field(default=None, description="Any of.")
    created_from: datetime | None = strawberry.field(default=None, description="At or after.")
    created_to: datetime | None = strawberry.field(default=None, description="Before.")

    def to_data(self) -> queries.OrderFilter:
        return queries.OrderFilter(
            statuses=_statuses(self.status), created_from=self.created_from,
            created_to=self.created_to,
        )  # fmt: skip


@strawberry.input(description="Orders in one currency whose total is within a range.")
class OrderTotalRange:
    currency: str = strawberry.field(description="ISO 4217 code; only orders in it.")
    min: Decimal | None = strawberry.field(default=None, description="At least (major units).")
    max: Decimal | None = strawberry.field(default=None, description="At most (major units).")


@strawberry.input(description="Which orders to list (staff); every field narrows.")
class OrdersFilter(MyOrdersFilter):
    search: str | None = strawberry.field(
        default=None, description="An order number, or part of the customer's email."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="One customer's orders."
    )
    total: OrderTotalRange | None = strawberry.field(
        default=None, description="Orders in a currency with a total in this range."
    )

    def to_data(self) -> queries.OrderFilter:
        total = self.total
        return queries.OrderFilter(
            statuses=_statuses(self.status), created_from=self.created_from,
            created_to=self.created_to, search=self.search,
            user_id=decode_id(self.customer_id, "User") if self.customer_id else None,
            total_currency=total.currency if total else None,
            total_min=total.min if total else None, total_max=total.max if total else None,
        )  # fmt: skip


@strawberry.input(
    description="The order of a staff order list; ties go by the order's ID in the same "
    "direction, so pages never skip or repeat an order."
)
class OrderSortInput:
    field: queries.OrderSortField = strawberry.field(
        description="CREATED_AT, TOTAL (minor units: filter by `total.currency` to compare "
        "like with like) or NUMBER."
    )
    direction: queries.SortDirection = strawberry.field(
        default=queries.SortDirection.DESC, description="DESC (the default) or ASC."
    )

    def to_data(self) -> queries.OrderSort:
        return queries.OrderSort(field=self.field, direction=self.direction)


@strawberry.input(description="Which returns to list (staff).")
class OrderReturnsFilter:
    status: list[ReturnStatus] | None = strawberry.field(default=None, description="Any of.")


def _statuses(values: list[OrderStatus] | None) -> tuple[str, ...]:
    if values is not None and len(values) > MAX_STATUSES:
        raise ApiError(f"At most {MAX_STATUSES} statuses.", "BAD_USER_INPUT")
    return tuple(sorted({value.value for value in values or ()}))


async def resolve_orders_of(
    info: Info, *, user_id: int, page: PageRequest, filter: MyOrdersFilter | None = None
) -> Connection[Order]:
    """A page of the user's orders, newest first (User.orders delegates here)."""
    query = queries.orders_of_user(user_id, filter.to_data() if filter else None)
    return await keyset_connection(info, query, page=page, node=Order.from_row)


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
        description="Every order by status, date, customer, total, and order number or email "
        "(MANAGE_ORDERS); newest first unless `sort` says otherwise. A cursor is only valid "
        "with the `sort` it came from.",
        permission_classes=[HasPermission(Perm.MANAGE_ORDERS)],
    )
    async def orders(
        self,
        info: Info,
        filter: OrdersFilter | None = None,
        sort: OrderSortInput | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order]:
        with query_errors():
            query = queries.all_orders(
                (filter or OrdersFilter()).to_data(), sort.to_data() if sort else None
            )
        page = PageRequest(first=first, after=after, last=last, before=before)
        return await keyset_connection(info, query, page=page, node=Order.from_row)

    @strawberry.field(
        description="Every return, newest first, by status (MANAGE_ORDERS).",
        permission_classes=[HasPermission(Perm.MANAGE_ORDERS)],
    )
    async def order_returns(
        self,
        info: Info,
        filter: OrderReturnsFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OrderReturn]:
        statuses = (filter.status if filter else None) or []
        if len(statuses) > len(ReturnStatus):
            raise ApiError(f"At most {len(ReturnStatus)} statuses.", "BAD_USER_INPUT")
        query = queries.all_returns(tuple(sorted({value.value for value in statuses})))
        page = PageRequest(first=first, after=after, last=last, before=before)
        return await keyset_connection(info, query, page=page, node=OrderReturn.from_row)

    @strawberry.field(
        description="A guest's order by its number and the email it was placed with; null "
        "for any mismatch. Never cached; rate-limited per client address "
        "(RATE_LIMIT_ORDER_LOOKUP_IP)."
    )
    async def order_lookup(self, info: Info, number: int, email: str) -> Order | None:
        info.context.private_answer = True
        settings = info.context.settings
        await rate_limit(info, settings.rate_limit_order_lookup_ip, "order-lookup:ip",
                         client_ip(info))  # fmt: skip
        row = await run_query(
            info, queries.order_by_number_and_email, number=number, email=email[:254]
        )
        return Order.from_row(row) if row is not None else None

    @strawberry.field(
        description="An order by the token its guest checkout returned (orderByToken); "
        "never cached, as it is one shopper's."
    )
    async def order_by_token(self, info: Info, token: str) -> Order | None:
        info.context.private_answer = True
        row = await run_query(info, queries.order_by_token, token=node_token(token))
        return Order.from_row(row) if row is not None else None

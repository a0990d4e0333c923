"""Reading orders: one by id for its owner or staff, one by its token for a guest, and a
customer's own orders newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, UserError
from app.money import clean_currency, to_minor
from app.services.checks import like_contains, refused_character
from app.services.pagination import KeysetQuery, SortKey, load_timestamp, newest_first
from models.fulfilment import OrderReturn
from models.orders import PAID_STATUSES, Order, OrderLine

MAX_SEARCH_LENGTH = 254


async def order_by_id(
    session: AsyncSession, *, order_id: int, viewer_id: int | None, staff: bool
) -> Order | None:
    """The order if the viewer owns it or is staff with MANAGE_ORDERS; else None."""
    order: Order | None = await session.scalar(select(Order).where(Order.id == order_id))
    if order is None or not (staff or (viewer_id is not None and order.user_id == viewer_id)):
        return None
    return order


async def order_by_token(session: AsyncSession, *, token: str) -> Order | None:
    """The order whose random token this is (a guest's link to it)."""
    if not token:
        return None
    order: Order | None = await session.scalar(select(Order).where(Order.token == token))
    return order


@dataclass(frozen=True)
class OrderFilter:
    statuses: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    # Staff only: an order number, or (part of) the customer's email.
    search: str | None = None
    user_id: int | None = None
    # Staff only: orders in `total_currency` whose total is within [min, max] (major units).
    total_currency: str | None = None
    total_min: Decimal | None = None
    total_max: Decimal | None = None


def _filtered(query: Select[Any], filter: OrderFilter) -> Select[Any]:
    if filter.statuses:
        query = query.where(Order.status.in_(filter.statuses))
    if filter.created_from is not None:
        query = query.where(Order.created_at >= filter.created_from)
    if filter.created_to is not None:
        query = query.where(Order.created_at < filter.created_to)
    if filter.user_id is not None:
        query = query.where(Order.user_id == filter.user_id)
    if filter.total_currency is not None:
        currency = clean_currency(filter.total_currency, field="filter.total.currency")
        query = query.where(Order.currency == currency)
        if filter.total_min is not None:
            low = to_minor(filter.total_min, currency, field="filter.total.min")
            query = query.where(Order.total_amount >= low)
        if filter.total_max is not None:
            high = to_minor(filter.total_max, currency, field="filter.total.max")
            query = query.where(Order.total_amount <= high)
    text = (filter.search or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise UserError(
            ErrorCode.TOO_LONG, f"At most {MAX_SEARCH_LENGTH} characters.", field="filter.search"
        )
    if text.isascii() and text.isdigit() and len(text) < 19:
        query = query.where(Order.number == int(text))
    elif text:
        if refused_character(text) is not None:
            raise UserError(ErrorCode.INVALID, "Search must be plain text.", field="filter.search")
        query = query.where(Order.email.ilike(like_contains(text), escape="\\"))
    return query


def orders_of_user(user_id: int, filter: OrderFilter | None = None) -> KeysetQuery:
    """A customer's orders, newest first, by status and date."""
    query = select(Order).where(Order.user_id == user_id)
    if filter is not None:
        query = _filtered(
            query, OrderFilter(filter.statuses, filter.created_from, filter.created_to)
        )
    return KeysetQuery(query, keys=newest_first(Order.created_at, Order.id), tag="orders:newest")


class OrderSortField(Enum):
    CREATED_AT = "CREATED_AT"
    TOTAL = "TOTAL"
    NUMBER = "NUMBER"


class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class OrderSort:
    field: OrderSortField = OrderSortField.CREATED_AT
    direction: SortDirection = SortDirection.DESC


def _sort_keys(sort: OrderSort) -> tuple[list[SortKey], str]:
    """The keyset of an ordering (always ending with the id, which breaks ties) and its
    cursor tag: a cursor of one ordering is INVALID in another."""
    down = sort.direction is SortDirection.DESC
    if sort.field is OrderSortField.CREATED_AT:
        if down:  # the default order keeps the tag its cursors always had
            return newest_first(Order.created_at, Order.id), "orders:newest"
        first = SortKey(Order.created_at, False, datetime.isoformat, load_timestamp)
    elif sort.field is OrderSortField.TOTAL:
        first = SortKey(Order.total_amount, down)
    else:
        first = SortKey(Order.number, down)
    return [first, SortKey(Order.id, down)], f"orders:{sort.field.value}:{sort.direction.value}"


def all_orders(filter: OrderFilter, sort: OrderSort | None = None) -> KeysetQuery:
    """Every order by status, date, customer, total and number or email (staff), newest
    first unless `sort` says otherwise."""
    keys, tag = _sort_keys(sort or OrderSort())
    return KeysetQuery(_filtered(select(Order), filter), keys=keys, tag=tag)


async def order_by_number_and_email(
    session: AsyncSession, *, number: int, email: str
) -> Order | None:
    """A guest's order by its number and the email it was placed with (any case); None
    for any mismatch, the same for a wrong number as for a wrong email."""
    if not 0 < number < 2**63 or not 0 < len(email) <= 254:
        return None
    order: Order | None = await session.scalar(select(Order).where(Order.number == number))
    if order is None or order.email.lower() != email.strip().lower():
        return None
    return order


async def has_bought(session: AsyncSession, *, user_id: int, product_id: int) -> bool:
    """Whether the customer has a paid order with a line of the product."""
    bought = await session.scalar(
        select(
            exists().where(
                Order.user_id == user_id,
                Order.status.in_(PAID_STATUSES),
                OrderLine.order_id == Order.id,
                OrderLine.product_id == product_id,
            )
        )
    )
    return bool(bought)


def all_returns(statuses: tuple[str, ...] = ()) -> KeysetQuery:
    """Every return, newest first, of any of `statuses` (all when empty), for staff."""
    query = select(OrderReturn)
    if statuses:
        query = query.where(OrderReturn.status.in_(statuses))
    return KeysetQuery(
        query, keys=newest_first(OrderReturn.created_at, OrderReturn.id), tag="returns:newest"
    )

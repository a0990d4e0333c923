"""Reorder: a past order's lines into a cart (the customer's open cart, or a new one for a
guest), each capped by what can be sold now; what cannot be added is reported, not refused."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode
from app.services.cart.common import lock_user, own_open_cart, utcnow
from app.services.cart.lines import LineInput, create_cart, sellable_problem, variants_for_cart
from app.services.cart.view import CartView
from app.services.checkout import stock
from app.services.orders.access import Who, not_found
from app.settings import Settings
from models.carts import CartLine
from models.orders import Order, OrderLine


@dataclass(frozen=True)
class ReorderProblem:
    """A line of the order that was not added, or added with fewer units."""

    line_id: int
    code: ErrorCode
    message: str


async def _order(session: AsyncSession, *, order_id: int | None, who: Who) -> Order:
    if who.token:
        order = await session.scalar(select(Order).where(Order.token == who.token))
    elif order_id is not None and who.user_id is not None:
        order = await session.scalar(
            select(Order).where(Order.id == order_id, Order.user_id == who.user_id)
        )
    else:
        order = None
    if order is None:
        raise not_found()
    return order


async def reorder(
    session: AsyncSession, *, order_id: int | None, who: Who, settings: Settings
) -> tuple[CartView, list[ReorderProblem]]:
    """orderReorder: the order's customer by ID (into their open cart), a guest by token."""
    order = await _order(session, order_id=order_id, who=who)
    lines = (
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
        )
    ).all()
    cart = None
    if who.user_id is not None:
        # The user's row first, then the cart (the cart's lock order): concurrent reorders of
        # one customer wait here and each sees what the one before it added.
        await lock_user(session, who.user_id)
        cart = await own_open_cart(session, user_id=who.user_id)
    currency = cart.currency if cart is not None else order.currency
    rows = (
        list(await session.scalars(select(CartLine).where(CartLine.cart_id == cart.id)))
        if cart is not None
        else []
    )
    in_cart = {row.variant_id: row.quantity for row in rows if row.variant_id is not None}
    free_lines = settings.cart_max_lines - len(rows)  # lines of deleted variants count too
    found = await variants_for_cart(
        session, sorted({line.variant_id for line in lines if line.variant_id is not None})
    )
    left = await stock.available(
        session, list(found), now=utcnow(), exclude_cart_id=cart.id if cart else None
    )
    problems: list[ReorderProblem] = []
    adding: dict[int, int] = {}
    for line in lines:
        variant = found.get(line.variant_id) if line.variant_id is not None else None
        if variant is None:
            problems.append(ReorderProblem(line.id, ErrorCode.PRODUCT_UNAVAILABLE,
                                           "This item is no longer sold."))  # fmt: skip
            continue
        if problem := sellable_problem(*variant, currency):
            problems.append(ReorderProblem(line.id, problem.code, problem.message))
            continue
        variant_id = variant[0].id
        new_line = variant_id not in in_cart and variant_id not in adding
        if new_line and free_lines <= 0:
            problems.append(ReorderProblem(
                line.id, ErrorCode.TOO_MANY_LINES,
                f"A cart holds at most {settings.cart_max_lines} lines.",
            ))  # fmt: skip
            continue
        taken = in_cart.get(variant_id, 0) + adding.get(variant_id, 0)
        room = settings.cart_max_line_quantity - taken
        available = left.get(variant_id)
        if available is not None:
            room = min(room, available - taken)
        units = min(line.quantity, max(room, 0))
        if units < line.quantity:
            problems.append(ReorderProblem(
                line.id, ErrorCode.INSUFFICIENT_STOCK,
                f"Only {units} of {line.quantity} could be added." if units
                else "This item is out of stock.",
            ))  # fmt: skip
        if units > 0:
            adding[variant_id] = adding.get(variant_id, 0) + units
            free_lines -= new_line
    view = await create_cart(
        session,
        user_id=who.user_id,
        lines=[LineInput(variant_id=key, quantity=value) for key, value in adding.items()],
        email=None if who.user_id else order.email,
        settings=settings,
    )
    return view, problems

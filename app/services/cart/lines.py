"""Cart lines: create a cart with lines, add, set quantities, remove.

Every check runs before the first write, and a refused input raises: the transaction is
rolled back, so a mutation changes all of its lines or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import CartError, ErrorCode
from app.services.cart.access import new_token
from app.services.cart.common import (
    Caller,
    check_list_size,
    check_quantity,
    finish,
    lock_user,
    locked_cart,
    own_open_cart,
    utcnow,
)
from app.services.cart.reservations import follow_lines
from app.services.cart.view import CartView
from app.services.checkout import stock
from app.services.checks import Cleaner, clean_email
from app.settings import Settings
from models.carts import Cart, CartLine
from models.catalog import Product, Variant


@dataclass(frozen=True)
class LineInput:
    """A variant to add; `quantity` None is an explicit null (REQUIRED)."""

    variant_id: int
    quantity: int | None = 1


@dataclass(frozen=True)
class LineChange:
    """A new quantity for a line; 0 removes it."""

    line_id: int
    quantity: int | None


async def variants_for_cart(
    session: AsyncSession, ids: list[int]
) -> dict[int, tuple[Variant, Product]]:
    if not ids:
        return {}
    # KEY SHARE: the variant cannot be deleted before the new line referencing it commits.
    rows = await session.execute(
        select(Variant, Product)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.id.in_(ids))
        .with_for_update(read=True, key_share=True, of=Variant)
    )
    return {variant.id: (variant, product) for variant, product in rows}


def sellable_problem(variant: Variant, product: Product, currency: str) -> CartError | None:
    if not product.is_published:
        return CartError(ErrorCode.PRODUCT_UNAVAILABLE, "This product is not available.")
    if variant.currency != currency:
        return CartError(
            ErrorCode.CURRENCY_MISMATCH,
            f"This item is sold in {variant.currency}, the cart is in {currency}.",
        )
    return None


def _short(left: int | None) -> str:
    return f"Only {left} available." if left else "This item is out of stock."


async def add_lines(
    session: AsyncSession,
    *,
    cart: Cart,
    lines: list[LineInput],
    settings: Settings,
    now: datetime,
) -> None:
    """Add `lines` to the locked `cart`; the same variant again adds to its line."""
    check_list_size(len(lines), settings=settings, field="lines")
    clean = Cleaner()
    added: dict[int, int] = {}
    first: dict[int, int] = {}  # variant -> index of its first input entry (for `field`)
    for index, line in enumerate(lines):
        field = f"lines.{index}.quantity"
        clean.put(field, check_quantity, line.quantity, settings=settings, field=field)
        if field in clean.values:
            first.setdefault(line.variant_id, index)
            added[line.variant_id] = added.get(line.variant_id, 0) + clean.values[field]
    clean.done()
    found = await variants_for_cart(session, sorted(added))
    for variant_id, index in first.items():
        field = f"lines.{index}.variantId"
        if variant_id not in found:
            clean.fail(ErrorCode.NOT_FOUND, "Product variant not found.", field=field)
        elif problem := sellable_problem(*found[variant_id], cart.currency):
            clean.fail(problem.code, problem.message, field=field)
    clean.done()

    existing = {
        row.variant_id: row
        for row in await session.scalars(
            select(CartLine)
            .where(CartLine.cart_id == cart.id)
            .execution_options(populate_existing=True)
        )
    }
    new = [variant_id for variant_id in added if variant_id not in existing]
    if len(existing) + len(new) > settings.cart_max_lines:  # null-variant lines count too
        raise CartError(
            ErrorCode.TOO_MANY_LINES,
            f"A cart holds at most {settings.cart_max_lines} lines.",
            field="lines",
        )
    left = await stock.available(session, added, now=now, exclude_cart_id=cart.id)
    for variant_id, quantity in added.items():
        field = f"lines.{first[variant_id]}.quantity"
        total = quantity + (existing[variant_id].quantity if variant_id in existing else 0)
        if total > settings.cart_max_line_quantity:
            clean.fail(
                ErrorCode.INVALID,
                f"At most {settings.cart_max_line_quantity} of one item per cart.",
                field=field,
            )
        elif stock.shortfall(total, left.get(variant_id)):
            clean.fail(ErrorCode.INSUFFICIENT_STOCK, _short(left.get(variant_id)), field=field)
    clean.done()

    for variant_id, quantity in added.items():
        if variant_id in existing:
            existing[variant_id].quantity += quantity
            existing[variant_id].updated_at = now
            continue
        variant, product = found[variant_id]
        session.add(
            CartLine(
                cart_id=cart.id,
                variant_id=variant_id,
                quantity=quantity,
                seen_unit_price_amount=variant.price_amount,
                product_name=product.name,
                variant_name=variant.name,
                sku=variant.sku,
                created_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    await follow_lines(session, cart=cart, settings=settings, now=now)


async def _first_currency(session: AsyncSession, lines: list[LineInput]) -> str | None:
    if not lines:
        return None
    currency: str | None = await session.scalar(
        select(Variant.currency).where(Variant.id == lines[0].variant_id)
    )
    return currency


async def create_cart(
    session: AsyncSession,
    *,
    user_id: int | None,
    lines: list[LineInput],
    email: str | None,
    settings: Settings,
) -> CartView:
    """A new cart (the signed-in customer's open cart gets the lines instead: merged)."""
    now = utcnow()
    check_list_size(len(lines), settings=settings, field="lines")
    clean_mail = clean_email(email, field="email") if email is not None else None
    cart: Cart | None = None
    user_email = ""
    if user_id is not None:
        user_email = (await lock_user(session, user_id)).email
        cart = await own_open_cart(session, user_id=user_id)
    if cart is None:
        cart = Cart(
            token=new_token(),
            user_id=user_id,
            email=clean_mail or user_email,
            currency=await _first_currency(session, lines) or settings.default_currency,
            created_at=now,
            updated_at=now,
        )
        session.add(cart)
        await session.flush()
    elif clean_mail is not None:
        cart.email = clean_mail
    await add_lines(session, cart=cart, lines=lines, settings=settings, now=now)
    return await finish(session, cart=cart, settings=settings, now=now)


async def add_to_cart(
    session: AsyncSession, *, caller: Caller, lines: list[LineInput], settings: Settings
) -> CartView:
    """cartLinesAdd."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    await add_lines(session, cart=cart, lines=lines, settings=settings, now=now)
    return await finish(session, cart=cart, settings=settings, now=now)


def _unique_ids(ids: list[int], *, field: str, clean: Cleaner) -> None:
    seen: set[int] = set()
    for index, key in enumerate(ids):
        if key in seen:
            clean.fail(ErrorCode.INVALID, "This line is named twice.", field=f"{field}.{index}")
        seen.add(key)


async def _owned_lines(
    session: AsyncSession, *, cart: Cart, ids: list[int]
) -> dict[int, tuple[CartLine, Variant | None, Product | None]]:
    rows = await session.execute(
        select(CartLine, Variant, Product)
        .outerjoin(Variant, Variant.id == CartLine.variant_id)
        .outerjoin(Product, Product.id == Variant.product_id)
        .where(CartLine.cart_id == cart.id, CartLine.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    return {line.id: (line, variant, product) for line, variant, product in rows}


async def update_lines(
    session: AsyncSession, *, caller: Caller, lines: list[LineChange], settings: Settings
) -> CartView:
    """cartLinesUpdate: set quantities (0 removes); setting one accepts the current price."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    check_list_size(len(lines), settings=settings, field="lines")
    clean = Cleaner()
    _unique_ids([line.line_id for line in lines], field="lines", clean=clean)
    for index, line in enumerate(lines):
        field = f"lines.{index}.quantity"
        clean.put(field, check_quantity, line.quantity, settings=settings, field=field,
                  allow_zero=True)  # fmt: skip
    values = clean.done()
    owned = await _owned_lines(session, cart=cart, ids=[line.line_id for line in lines])
    wanted: dict[int, tuple[int, int]] = {}  # variant -> (index, quantity)
    for index, change in enumerate(lines):
        quantity = values[f"lines.{index}.quantity"]
        if change.line_id not in owned:
            clean.fail(ErrorCode.NOT_FOUND, "Cart line not found.", field=f"lines.{index}.lineId")
            continue
        _, variant, product = owned[change.line_id]
        if quantity == 0:
            continue
        if variant is None or product is None:
            clean.fail(ErrorCode.PRODUCT_UNAVAILABLE, "This product is no longer sold.",
                       field=f"lines.{index}.lineId")  # fmt: skip
        elif problem := sellable_problem(variant, product, cart.currency):
            clean.fail(problem.code, problem.message, field=f"lines.{index}.lineId")
        else:
            wanted[variant.id] = (index, quantity)
    clean.done()
    left = await stock.available(session, wanted, now=now, exclude_cart_id=cart.id)
    for variant_id, (index, quantity) in wanted.items():
        if stock.shortfall(quantity, left.get(variant_id)):
            clean.fail(ErrorCode.INSUFFICIENT_STOCK, _short(left.get(variant_id)),
                       field=f"lines.{index}.quantity")  # fmt: skip
    clean.done()

    for index, change in enumerate(lines):
        row, variant, _ = owned[change.line_id]
        quantity = values[f"lines.{index}.quantity"]
        if quantity == 0:
            await session.delete(row)
            continue
        assert variant is not None
        row.quantity = quantity
        row.seen_unit_price_amount = variant.price_amount
        row.updated_at = now
    await session.flush()
    await follow_lines(session, cart=cart, settings=settings, now=now)
    return await finish(session, cart=cart, settings=settings, now=now)


async def remove_lines(
    session: AsyncSession, *, caller: Caller, line_ids: list[int], settings: Settings
) -> CartView:
    """cartLinesRemove: all of `line_ids`, or none when one is not this cart's."""
    now = utcnow()
    cart = await locked_cart(session, caller)
    check_list_size(len(line_ids), settings=settings, field="lineIds")
    clean = Cleaner()
    _unique_ids(line_ids, field="lineIds", clean=clean)
    clean.done()
    owned = set(
        await session.scalars(
            select(CartLine.id).where(CartLine.cart_id == cart.id, CartLine.id.in_(line_ids))
        )
    )
    for index, key in enumerate(line_ids):
        if key not in owned:
            clean.fail(ErrorCode.NOT_FOUND, "Cart line not found.", field=f"lineIds.{index}")
    clean.done()
    await session.execute(delete(CartLine).where(CartLine.id.in_(line_ids)))
    await follow_lines(session, cart=cart, settings=settings, now=now)
    return await finish(session, cart=cart, settings=settings, now=now)

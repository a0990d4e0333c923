"""The customer wishlist: saved products, optionally one variant of each.

A product is saved once per user without a variant and once per variant; partial
unique indexes enforce that, and adding is idempotent through ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, WishlistError
from app.services.checks import locked_or_not_found
from app.services.pagination import Page, PageRequest, count_rows, fetch_page, newest_first
from models.catalog import Product, Variant, WishlistItem

# Adding races with removing: the row that blocked our insert may be gone before we read it.
_ADD_ATTEMPTS = 3


async def _check_product(session: AsyncSession, product_id: int, variant_id: int | None) -> None:
    # KEY SHARE: the product cannot be deleted before our insert commits.
    await locked_or_not_found(
        session,
        Product,
        product_id,
        field="productId",
        lock="key share",
        where=[Product.is_published],
    )
    if variant_id is not None:
        # Missing, or another product's: one answer, no existence oracle.
        await locked_or_not_found(
            session,
            Variant,
            variant_id,
            field="variantId",
            message="This product has no such variant.",
            lock="key share",
            where=[Variant.product_id == product_id],
        )


def _same_entry(user_id: int, product_id: int, variant_id: int | None) -> list[Any]:
    if variant_id is None:
        return [
            WishlistItem.user_id == user_id,
            WishlistItem.product_id == product_id,
            WishlistItem.variant_id.is_(None),
        ]
    return [WishlistItem.user_id == user_id, WishlistItem.variant_id == variant_id]


async def add_to_wishlist(
    session: AsyncSession, *, user_id: int, product_id: int, variant_id: int | None = None
) -> WishlistItem:
    """Save a published product (or one of its variants); saving it again returns the same item."""
    await _check_product(session, product_id, variant_id)
    statement = insert(WishlistItem).values(
        user_id=user_id, product_id=product_id, variant_id=variant_id
    )
    if variant_id is None:
        statement = statement.on_conflict_do_nothing(
            index_elements=[WishlistItem.user_id, WishlistItem.product_id],
            index_where=WishlistItem.variant_id.is_(None),
        )
    else:
        statement = statement.on_conflict_do_nothing(
            index_elements=[WishlistItem.user_id, WishlistItem.variant_id],
            index_where=WishlistItem.variant_id.is_not(None),
        )
    for _ in range(_ADD_ATTEMPTS):
        item: WishlistItem | None = await session.scalar(statement.returning(WishlistItem))
        if item is not None:
            return item
        existing = await session.scalar(
            select(WishlistItem).where(*_same_entry(user_id, product_id, variant_id))
        )
        if existing is not None:
            return existing
    raise RuntimeError("wishlist item kept vanishing while being added")


async def remove_from_wishlist(
    session: AsyncSession,
    *,
    user_id: int,
    item_id: int | None = None,
    product_id: int | None = None,
    variant_id: int | None = None,
) -> int:
    """Remove one's own item, by id or by product (+ variant); returns the item's id."""
    if (item_id is None) == (product_id is None):
        raise WishlistError(
            ErrorCode.INVALID, "Pass either itemId or productId (with variantId).", field="itemId"
        )
    if item_id is not None:
        if variant_id is not None:
            raise WishlistError(
                ErrorCode.INVALID, "variantId goes with productId, not itemId.", field="variantId"
            )
        where = [WishlistItem.id == item_id, WishlistItem.user_id == user_id]
        field = "itemId"
    else:
        assert product_id is not None
        where = _same_entry(user_id, product_id, variant_id)
        if variant_id is not None:
            where.append(WishlistItem.product_id == product_id)
        field = "productId"
    removed: int | None = await session.scalar(
        delete(WishlistItem).where(*where).returning(WishlistItem.id)
    )
    if removed is None:
        raise WishlistError(ErrorCode.NOT_FOUND, "Not on your wishlist.", field=field)
    return removed


def _visible_items(user_id: int, *, include_unpublished: bool) -> Select[WishlistItem]:
    statement = select(WishlistItem).where(WishlistItem.user_id == user_id)
    if not include_unpublished:
        statement = statement.join(Product, Product.id == WishlistItem.product_id).where(
            Product.is_published
        )
    return statement


async def list_wishlist(
    session: AsyncSession, *, user_id: int, include_unpublished: bool, page: PageRequest
) -> Page:
    """The user's saved items, newest first; items of unpublished products only for staff."""
    return await fetch_page(
        session,
        _visible_items(user_id, include_unpublished=include_unpublished),
        keys=newest_first(WishlistItem.created_at, WishlistItem.id),
        page=page,
        tag="wishlist:newest",
    )


async def count_wishlist(session: AsyncSession, *, user_id: int, include_unpublished: bool) -> int:
    """How many items `list_wishlist` pages through."""
    statement = _visible_items(user_id, include_unpublished=include_unpublished)
    return await count_rows(session, statement)

"""Per-request dataloaders: one per (entity, key), built fresh for every request."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.accounts import User
from models.addresses import Address
from models.catalog import (
    Category,
    Product,
    ProductImage,
    Review,
    Stock,
    Tag,
    Variant,
    Warehouse,
    WishlistItem,
    product_tags,
)

T = TypeVar("T")
Batch = Callable[[list[int]], Coroutine[Any, Any, list[Any]]]


def _rows_by_id(session: AsyncSession, lock: asyncio.Lock, model: Any) -> Batch:
    """Batch function: rows of `model` in key order, None for misses."""

    async def load(ids: list[int]) -> list[Any]:
        # One AsyncSession cannot run two statements at once, and loaders of
        # sibling fields dispatch concurrently: the lock serialises them.
        async with lock:
            rows = (await session.scalars(select(model).where(model.id.in_(ids)))).all()
        found = {row.id: row for row in rows}
        return [found.get(key) for key in ids]

    return load


def _grouped(
    session: AsyncSession,
    lock: asyncio.Lock,
    statement: Callable[[list[int]], Select[Any, Any]],
) -> Batch:
    """Batch function: for each key, the list of (key, value) rows the statement yields."""

    async def load(keys: list[int]) -> list[Any]:
        async with lock:
            rows = (await session.execute(statement(keys))).all()
        groups: dict[int, list[Any]] = defaultdict(list)
        for key, value in rows:
            groups[key].append(value)
        return [groups.get(key, []) for key in keys]

    return load


def _quantities(session: AsyncSession, lock: asyncio.Lock) -> Batch:
    async def load(variant_ids: list[int]) -> list[Any]:
        async with lock:
            rows = (
                await session.execute(
                    select(Stock.variant_id, func.sum(Stock.quantity))
                    .where(Stock.variant_id.in_(variant_ids))
                    .group_by(Stock.variant_id)
                )
            ).all()
        totals = {variant_id: int(total) for variant_id, total in rows}
        return [totals.get(key, 0) for key in variant_ids]

    return load


@dataclass
class Loaders:
    user: DataLoader[int, User | None]
    address: DataLoader[int, Address | None]
    addresses_by_user: DataLoader[int, list[Address]]
    product: DataLoader[int, Product | None]
    variant: DataLoader[int, Variant | None]
    category: DataLoader[int, Category | None]
    tag: DataLoader[int, Tag | None]
    review: DataLoader[int, Review | None]
    wishlist_item: DataLoader[int, WishlistItem | None]
    warehouse: DataLoader[int, Warehouse | None]
    stocks_by_variant: DataLoader[int, list[Stock]]
    variants_by_product: DataLoader[int, list[Variant]]
    images_by_product: DataLoader[int, list[ProductImage]]
    tags_by_product: DataLoader[int, list[Tag]]
    children_by_category: DataLoader[int, list[Category]]
    quantity_by_variant: DataLoader[int, int]

    @classmethod
    def for_session(cls, session: AsyncSession, lock: asyncio.Lock) -> Loaders:
        def by_id(model: Any) -> DataLoader[int, Any]:
            return DataLoader(_rows_by_id(session, lock, model))

        def grouped(statement: Callable[[list[int]], Select[Any, Any]]) -> DataLoader[int, Any]:
            return DataLoader(_grouped(session, lock, statement))

        return cls(
            user=by_id(User),
            address=by_id(Address),
            addresses_by_user=grouped(
                lambda ids: (
                    select(Address.user_id, Address)
                    .where(Address.user_id.in_(ids))
                    .order_by(Address.user_id, Address.created_at, Address.id)
                )
            ),
            product=by_id(Product),
            variant=by_id(Variant),
            category=by_id(Category),
            tag=by_id(Tag),
            review=by_id(Review),
            wishlist_item=by_id(WishlistItem),
            warehouse=by_id(Warehouse),
            stocks_by_variant=grouped(
                lambda ids: (
                    select(Stock.variant_id, Stock)
                    .where(Stock.variant_id.in_(ids))
                    .order_by(Stock.variant_id, Stock.warehouse_id)
                )
            ),
            variants_by_product=grouped(
                lambda ids: (
                    select(Variant.product_id, Variant)
                    .where(Variant.product_id.in_(ids))
                    .order_by(Variant.product_id, Variant.id)
                )
            ),
            images_by_product=grouped(
                lambda ids: (
                    select(ProductImage.product_id, ProductImage)
                    .where(ProductImage.product_id.in_(ids))
                    .order_by(ProductImage.product_id, ProductImage.sort_order, ProductImage.id)
                )
            ),
            tags_by_product=grouped(
                lambda ids: (
                    select(product_tags.c.product_id, Tag)
                    .join(Tag, Tag.id == product_tags.c.tag_id)
                    .where(product_tags.c.product_id.in_(ids))
                    .order_by(product_tags.c.product_id, Tag.name)
                )
            ),
            children_by_category=grouped(
                lambda ids: (
                    select(Category.parent_id, Category)
                    .where(Category.parent_id.in_(ids))
                    .order_by(Category.parent_id, Category.name, Category.id)
                )
            ),
            quantity_by_variant=DataLoader(_quantities(session, lock)),
        )

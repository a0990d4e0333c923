"""Write the demo catalog (`app.seed_catalog_plan`) in bulk: idempotent, fast.

Rows go in with multi-row INSERT ... ON CONFLICT DO NOTHING in batches of
about 1000, not one ORM object at a time; slugs and SKUs are deterministic, so
a second run inserts nothing and a larger N only adds the missing products.
The search columns and cheapest price are rebuilt once, set-based, for the new
products only. The caller owns the transaction (this module never commits).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import seed_catalog_plan as plan
from app.services.catalog.search import refresh_min_price, refresh_search
from models.catalog import (
    Category,
    Product,
    ProductImage,
    Stock,
    Tag,
    Variant,
    Warehouse,
    product_tags,
)

BATCH_SIZE = 1000
INDEX_CHUNK = 2000
# serve --demo fills an empty catalog with this many products.
DEMO_PRODUCTS = 60

T = TypeVar("T")
products_table = cast(Table, Product.__table__)
variants_table = cast(Table, Variant.__table__)


@dataclass(frozen=True)
class CatalogSeedResult:
    requested: int
    created: int
    total: int


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def catalog_is_empty(session: AsyncSession) -> bool:
    """True when there is no product at all."""
    return await session.scalar(select(Product.id).limit(1)) is None


async def _seed_categories(session: AsyncSession) -> dict[str, int]:
    """Insert the tree level by level (parents first); return id by slug."""
    categories = plan.categories()
    ids: dict[str, int] = {}
    for depth in range(max(category.depth for category in categories) + 1):
        level = [category for category in categories if category.depth == depth]
        rows = [
            {
                "name": category.name,
                "slug": category.slug,
                "parent_id": ids[category.parent_slug] if category.parent_slug else None,
            }
            for category in level
        ]
        await session.execute(insert(Category).on_conflict_do_nothing(), rows)
        found = await session.execute(
            select(Category.slug, Category.id).where(Category.slug.in_([c.slug for c in level]))
        )
        ids.update({slug: id_ for slug, id_ in found})
    return ids


async def _seed_tags(session: AsyncSession) -> dict[str, int]:
    tags = plan.tags()
    await session.execute(
        insert(Tag).on_conflict_do_nothing(), [{"name": n, "slug": s} for n, s in tags]
    )
    found = await session.execute(
        select(Tag.slug, Tag.id).where(Tag.slug.in_([slug for _, slug in tags]))
    )
    return {slug: id_ for slug, id_ in found}


def _product_row(product: plan.ProductPlan, category_ids: dict[str, int]) -> dict[str, Any]:
    return {
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "category_id": category_ids.get(product.category_slug or ""),
        "attributes": product.attributes,
        "is_published": product.is_published,
        "published_at": product.published_at,
        "seo_title": product.name[:70],
        "seo_description": product.description.split("\n", 1)[0].replace("**", "")[:300],
        "rating_sum": product.rating_sum,
        "rating_count": product.rating_count,
        "created_at": product.created_at,
        "updated_at": product.created_at,
    }


async def _insert_batch(
    session: AsyncSession,
    batch: Sequence[plan.ProductPlan],
    *,
    category_ids: dict[str, int],
    tag_ids: dict[str, int],
    warehouse_id: int,
) -> list[int]:
    """Insert the products of `batch` that do not exist yet, with all their rows."""
    inserted = await session.execute(
        insert(products_table)
        .on_conflict_do_nothing(index_elements=["slug"])
        .returning(products_table.c.slug, products_table.c.id),
        [_product_row(product, category_ids) for product in batch],
    )
    product_ids: dict[str, int] = {slug: id_ for slug, id_ in inserted}
    new = [product for product in batch if product.slug in product_ids]
    if not new:
        return []
    variant_rows = [
        {
            "product_id": product_ids[product.slug],
            "sku": variant.sku,
            "name": variant.name,
            "price_amount": variant.price_amount,
            "currency": plan.CURRENCY,
            "compare_at_amount": variant.compare_at_amount,
            "attributes": variant.attributes,
            "weight_grams": variant.weight_grams,
            "created_at": product.created_at,
            "updated_at": product.created_at,
        }
        for product in new
        for variant in product.variants
    ]
    inserted = await session.execute(
        insert(variants_table)
        .on_conflict_do_nothing(index_elements=["sku"])
        .returning(variants_table.c.sku, variants_table.c.id),
        variant_rows,
    )
    variant_ids: dict[str, int] = {sku: id_ for sku, id_ in inserted}
    stock_rows = [
        {"variant_id": variant_ids[v.sku], "warehouse_id": warehouse_id, "quantity": v.quantity}
        for product in new
        for v in product.variants
        if v.sku in variant_ids
    ]
    if stock_rows:
        await session.execute(insert(Stock).on_conflict_do_nothing(), stock_rows)
    image_rows = [
        {"product_id": product_ids[product.slug], "url": url, "alt": alt, "sort_order": n}
        for product in new
        for n, (url, alt) in enumerate(product.images)
    ]
    await session.execute(insert(ProductImage), image_rows)
    tag_rows = [
        {"product_id": product_ids[product.slug], "tag_id": tag_ids[slug]}
        for product in new
        for slug in product.tag_slugs
        if slug in tag_ids
    ]
    if tag_rows:
        await session.execute(insert(product_tags).on_conflict_do_nothing(), tag_rows)
    return [product_ids[product.slug] for product in new]


async def seed_catalog(
    session: AsyncSession, *, products: int, progress_console: Console | None = None
) -> CatalogSeedResult:
    """Add demo products 0..products-1 that are missing, with categories, tags and stock."""
    with Progress(console=progress_console, transient=True) as progress:
        category_ids = await _seed_categories(session)
        tag_ids = await _seed_tags(session)
        warehouse_id = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
        if warehouse_id is None:
            raise RuntimeError("No default warehouse: run the migrations first.")
        writing = progress.add_task("seeding products", total=products)
        created: list[int] = []
        for start in range(0, products, BATCH_SIZE):
            batch = [
                plan.product(index) for index in range(start, min(products, start + BATCH_SIZE))
            ]
            created += await _insert_batch(
                session,
                batch,
                category_ids=category_ids,
                tag_ids=tag_ids,
                warehouse_id=warehouse_id,
            )
            progress.advance(writing, len(batch))
        indexing = progress.add_task("building the search index", total=len(created))
        for chunk in _chunks(created, INDEX_CHUNK):
            await refresh_search(session, product_ids=chunk)
            await refresh_min_price(session, product_ids=chunk)
            progress.advance(indexing, len(chunk))
    total = await session.scalar(select(func.count()).select_from(Product)) or 0
    return CatalogSeedResult(requested=products, created=len(created), total=total)

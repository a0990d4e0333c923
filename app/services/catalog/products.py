"""Products and their images and tags: create, change, publish, delete (staff)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode
from app.services.catalog.checks import (
    MAX_DESCRIPTION_LENGTH,
    apply_changes,
    check_count,
    claim_row_slug,
    clean_attributes,
    clean_names,
    clean_url,
    require_name,
)
from app.services.catalog.search import refresh_search
from app.services.checks import (
    UNSET,
    Cleaner,
    Unset,
    clean_text,
    locked_or_not_found,
)
from app.services.public_changes import mark_public_change
from models.catalog import Category, Product, ProductImage, Tag, product_tags

MAX_NAME_LENGTH = 250
MAX_SLUG_LENGTH = 255
MAX_SEO_TITLE_LENGTH = 70
MAX_SEO_DESCRIPTION_LENGTH = 300
MAX_IMAGES = 50
MAX_ALT_LENGTH = 250
MAX_TAGS = 100


@dataclass(frozen=True)
class ImageData:
    url: str
    alt: str | None = None
    sort_order: int | None = None  # None: its position in the list


@dataclass(frozen=True)
class ProductData:
    """Fields of a product; UNSET leaves a field as it is, a None slug is generated."""

    name: str | Unset = UNSET
    slug: str | Unset | None = UNSET
    description: str | Unset | None = UNSET
    category_id: int | Unset | None = UNSET
    tag_ids: Sequence[int] | Unset | None = UNSET
    attributes: object | Unset = UNSET
    images: Sequence[ImageData] | Unset | None = UNSET
    seo_title: str | Unset | None = UNSET
    seo_description: str | Unset | None = UNSET


def _clean_images(images: Sequence[ImageData] | None) -> list[ProductImage]:
    check_count(images or [], field="images", limit=MAX_IMAGES)
    rows = []
    for index, image in enumerate(images or []):
        rows.append(
            ProductImage(
                url=clean_url(image.url, field="images"),
                alt=clean_text(image.alt, field="images", max_length=MAX_ALT_LENGTH),
                sort_order=index if image.sort_order is None else image.sort_order,
            )
        )
    return rows


def _cleaned(data: ProductData) -> Cleaner:
    """Check every given field; the clean values are keyed by column name."""
    clean = clean_names(
        data.name, data.slug, name_length=MAX_NAME_LENGTH, slug_length=MAX_SLUG_LENGTH
    )
    if data.description is not UNSET:
        clean.put(
            "description",
            clean_text,
            data.description,
            field="description",
            max_length=MAX_DESCRIPTION_LENGTH,
            multiline=True,
        )
    if data.attributes is not UNSET:
        clean.put("attributes", clean_attributes, data.attributes)
    if data.images is not UNSET:
        clean.put("images", _clean_images, data.images)
    if data.tag_ids is not UNSET:
        clean.put("tag_ids", check_count, list(data.tag_ids or []), field="tagIds", limit=MAX_TAGS)
    if data.seo_title is not UNSET:
        clean.put(
            "seo_title",
            clean_text,
            data.seo_title,
            field="seoTitle",
            max_length=MAX_SEO_TITLE_LENGTH,
        )
    if data.seo_description is not UNSET:
        clean.put(
            "seo_description",
            clean_text,
            data.seo_description,
            field="seoDescription",
            max_length=MAX_SEO_DESCRIPTION_LENGTH,
        )
    return clean


async def _check_references(session: AsyncSession, data: ProductData, clean: Cleaner) -> None:
    """The category and tags must exist; they are share-locked so they cannot vanish meanwhile."""
    if isinstance(data.category_id, int):
        with clean.collect():
            category = await locked_or_not_found(
                session, Category, data.category_id, field="categoryId", lock="key share"
            )
            clean.values["category_id"] = category.id
    elif data.category_id is None:
        clean.values["category_id"] = None
    tag_ids = sorted(set(clean.values.get("tag_ids", [])))
    if tag_ids:
        found_tags = set(
            (
                await session.scalars(
                    select(Tag.id)
                    .where(Tag.id.in_(tag_ids))
                    .with_for_update(read=True, key_share=True)
                )
            ).all()
        )
        if found_tags != set(tag_ids):
            clean.fail(ErrorCode.NOT_FOUND, "Tag not found.", field="tagIds")
    clean.values["tag_ids"] = tag_ids if data.tag_ids is not UNSET else UNSET


async def _write_relations(session: AsyncSession, product: Product, values: dict[str, Any]) -> None:
    if values.get("tag_ids", UNSET) is not UNSET:
        await session.execute(delete(product_tags).where(product_tags.c.product_id == product.id))
        if values["tag_ids"]:
            await session.execute(
                insert(product_tags),
                [{"product_id": product.id, "tag_id": tag_id} for tag_id in values["tag_ids"]],
            )
    if "images" in values:
        await session.execute(delete(ProductImage).where(ProductImage.product_id == product.id))
        for image in values["images"]:
            image.product_id = product.id
            session.add(image)
    await session.flush()


_COLUMNS = ("name", "description", "category_id", "attributes", "seo_title", "seo_description")


async def create_product(session: AsyncSession, *, data: ProductData) -> Product:
    """Create an unpublished product; the slug is generated from the name unless given."""
    clean = _cleaned(data)
    require_name(clean, data.name)
    await _check_references(session, data, clean)
    values = clean.done()
    product = Product(**{key: values[key] for key in _COLUMNS if key in values})
    product.slug = await _claim_slug(session, product, values.get("slug"))
    session.add(product)
    await session.flush()
    mark_public_change(session, f"product:{product.id}")
    await _write_relations(session, product, values)
    await refresh_search(session, product_ids=[product.id])
    await session.refresh(product)
    return product


async def update_product(session: AsyncSession, *, product_id: int, data: ProductData) -> Product:
    """Change the given fields; tags and images given replace the old lists."""
    product = await locked_product(session, product_id)
    mark_public_change(session, f"product:{product.id}")
    clean = _cleaned(data)
    await _check_references(session, data, clean)
    values = clean.done()
    await apply_changes(
        session,
        product,
        values,
        columns=_COLUMNS,
        slug_given=data.slug is not UNSET,
        max_length=MAX_SLUG_LENGTH,
        fallback="product",
    )
    await _write_relations(session, product, values)
    await refresh_search(session, product_ids=[product.id])
    await session.refresh(product)
    return product


async def _claim_slug(session: AsyncSession, product: Product, slug: str | None) -> str:
    return await claim_row_slug(
        session, product, slug, max_length=MAX_SLUG_LENGTH, fallback="product"
    )


async def locked_product(
    session: AsyncSession, product_id: int, *, field: str = "id", for_delete: bool = False
) -> Product:
    """The product, row-locked for this transaction; NOT_FOUND otherwise.

    A change takes FOR NO KEY UPDATE, which lets rows that reference the product
    (reviews, wishlist items) be written meanwhile; a delete takes FOR UPDATE.
    """
    return await locked_or_not_found(
        session, Product, product_id, field=field, lock="update" if for_delete else "no key update"
    )


async def set_product_published(
    session: AsyncSession, *, product_id: int, published: bool
) -> Product:
    """Publish or unpublish; `published_at` records the first publication only."""
    product = await locked_product(session, product_id)
    mark_public_change(session, f"product:{product.id}")
    product.is_published = published
    if published and product.published_at is None:
        product.published_at = func.now()
    await session.flush()
    await session.refresh(product)
    return product


async def delete_product(session: AsyncSession, *, product_id: int) -> int:
    """Delete a product with its variants, images, stock and reviews; returns its id."""
    product = await locked_product(session, product_id, for_delete=True)
    mark_public_change(session, f"product:{product.id}")
    await session.execute(delete(Product).where(Product.id == product.id))
    session.expunge(product)
    return product_id

"""Plain read rows of the catalog: the columns the API shows, without ORM identity.

The storefront reads many products, variants and images per request and never writes
them back, so the read path selects columns, not entities: building an ORM instance
(identity map, instance state, every column) cost about half of a catalog page. These
rows have the attribute names of the models, so code that reads an entity (a mutation's
result) reads a row the same way. JSONB comes as text (`::text` in SQL) and is decoded
with orjson: catalog attributes are strings or lists of strings (see checks.py), where
orjson and the stdlib agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Text, cast

from models.catalog import Category, Product, ProductImage, Tag, Variant


@dataclass(frozen=True, slots=True)
class ProductRow:
    id: int
    name: str
    slug: str
    description: str
    category_id: int | None
    is_published: bool
    published_at: datetime | None
    seo_title: str
    seo_description: str
    rating_sum: int
    rating_count: int
    created_at: datetime
    updated_at: datetime
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VariantRow:
    id: int
    product_id: int
    sku: str
    name: str
    price_amount: int
    currency: str
    compare_at_amount: int | None
    weight_grams: int | None
    track_inventory: bool
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImageRow:
    id: int
    product_id: int
    url: str
    alt: str
    sort_order: int


@dataclass(frozen=True, slots=True)
class CategoryRow:
    id: int
    parent_id: int | None
    name: str
    slug: str
    description: str


@dataclass(frozen=True, slots=True)
class TagRow:
    id: int
    name: str
    slug: str


# Column lists in field order; a JSONB column comes last, as text.
PRODUCT_COLUMNS: tuple[Any, ...] = (
    Product.id,
    Product.name,
    Product.slug,
    Product.description,
    Product.category_id,
    Product.is_published,
    Product.published_at,
    Product.seo_title,
    Product.seo_description,
    Product.rating_sum,
    Product.rating_count,
    Product.created_at,
    Product.updated_at,
    cast(Product.attributes, Text),
)
VARIANT_COLUMNS: tuple[Any, ...] = (
    Variant.id,
    Variant.product_id,
    Variant.sku,
    Variant.name,
    Variant.price_amount,
    Variant.currency,
    Variant.compare_at_amount,
    Variant.weight_grams,
    Variant.track_inventory,
    cast(Variant.attributes, Text),
)
IMAGE_COLUMNS: tuple[Any, ...] = (
    ProductImage.id,
    ProductImage.product_id,
    ProductImage.url,
    ProductImage.alt,
    ProductImage.sort_order,
)
CATEGORY_COLUMNS: tuple[Any, ...] = (
    Category.id,
    Category.parent_id,
    Category.name,
    Category.slug,
    Category.description,
)
TAG_COLUMNS: tuple[Any, ...] = (Tag.id, Tag.name, Tag.slug)

PRODUCT_WIDTH = len(PRODUCT_COLUMNS)

loads = orjson.loads


def product_row(v: Sequence[Any]) -> ProductRow:
    """The row of `PRODUCT_COLUMNS` values (of a longer sequence: its first ones)."""
    return ProductRow(
        v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12],
        loads(v[13]),
    )  # fmt: skip


def variant_row(v: Sequence[Any]) -> VariantRow:
    return VariantRow(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], loads(v[9]))


def image_row(values: Sequence[Any]) -> ImageRow:
    return ImageRow(*values)


def category_row(values: Sequence[Any]) -> CategoryRow:
    return CategoryRow(*values)


def tag_row(values: Sequence[Any]) -> TagRow:
    return TagRow(*values)

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
from sqlalchemy import Select, Text, any_, bindparam, cast, select
from sqlalchemy.dialects.postgresql import ARRAY

from models.catalog import Category, Product, ProductImage, Tag, Variant, product_tags
from models.promotions import promotion_categories, promotion_products


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


# The read statements, built once: constructing a select() costs about 100 us, and a
# `= ANY(:keys)` array parameter, unlike an expanding IN, is one statement text (one
# prepared statement) for any number of keys and needs no per-call rendering.
def keyed(columns: tuple[Any, ...], key: Any, *order_by: Any) -> Select[Any]:
    """`columns` of the rows whose `key` is one of the `keys` parameter (a list)."""
    statement = select(*columns).where(key == any_(bindparam("keys", type_=ARRAY(key.type))))
    return statement.order_by(*order_by) if order_by else statement


PRODUCTS_BY_ID = keyed(PRODUCT_COLUMNS, Product.id)
PRODUCTS_BY_SLUG = keyed(PRODUCT_COLUMNS, Product.slug)
VARIANTS_BY_ID = keyed(VARIANT_COLUMNS, Variant.id)
CATEGORIES_BY_ID = keyed(CATEGORY_COLUMNS, Category.id)
CATEGORIES_BY_SLUG = keyed(CATEGORY_COLUMNS, Category.slug)
TAGS_BY_ID = keyed(TAG_COLUMNS, Tag.id)
# Grouped by a column the rows hold (`make` reads them whole).
VARIANTS_BY_PRODUCT = keyed(VARIANT_COLUMNS, Variant.product_id, Variant.product_id, Variant.id)
IMAGES_BY_PRODUCT = keyed(
    IMAGE_COLUMNS,
    ProductImage.product_id,
    ProductImage.product_id,
    ProductImage.sort_order,
    ProductImage.id,
)
CHILDREN_BY_CATEGORY = keyed(
    CATEGORY_COLUMNS, Category.parent_id, Category.parent_id, Category.name, Category.id
)
# Grouped by a first column of their own (`make` reads the rest).
TAGS_BY_PRODUCT = keyed(
    (product_tags.c.product_id, *TAG_COLUMNS),
    product_tags.c.product_id,
    product_tags.c.product_id,
    Tag.name,
).join_from(product_tags, Tag, Tag.id == product_tags.c.tag_id)
PRODUCTS_BY_PROMOTION = keyed(
    (promotion_products.c.promotion_id, *PRODUCT_COLUMNS),
    promotion_products.c.promotion_id,
    promotion_products.c.promotion_id,
    Product.name,
    Product.id,
).join_from(promotion_products, Product, Product.id == promotion_products.c.product_id)
CATEGORIES_BY_PROMOTION = keyed(
    (promotion_categories.c.promotion_id, *CATEGORY_COLUMNS),
    promotion_categories.c.promotion_id,
    promotion_categories.c.promotion_id,
    Category.name,
    Category.id,
).join_from(promotion_categories, Category, Category.id == promotion_categories.c.category_id)

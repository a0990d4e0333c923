"""Catalog: categories, tags, products, variants, images, warehouses and stock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped

product_tags = Table(
    "product_tags",
    Base.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Category(Timestamped, Base):
    """A node of the category tree; the service refuses moves that would make a cycle."""

    __tablename__ = "categories"
    __table_args__ = (CheckConstraint("parent_id <> id", name="not_own_parent"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(250), nullable=False)
    slug: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")


class Tag(Base):
    """A free label; unique by slug."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    slug: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)


class Product(Timestamped, Base):
    """A sellable product; prices live on its variants."""

    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_products_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_products_attributes", "attributes", postgresql_using="gin"),
        Index("ix_products_published_created", "is_published", "created_at", "id"),
        CheckConstraint("rating_count >= 0 AND rating_sum >= 0", name="rating_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(250), nullable=False)
    slug: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    is_published: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seo_title: Mapped[str] = mapped_column(String(70), nullable=False, server_default="")
    seo_description: Mapped[str] = mapped_column(String(300), nullable=False, server_default="")
    # Kept as sum and count, changed by one atomic UPDATE per review: exact under concurrency.
    rating_sum: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    rating_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    # Cheapest variant price, for sorting and price filters without a join.
    min_price_amount: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Rebuilt by the service from name, tags, category and description (weights A, B, B, C).
    # Deferred: written and searched in SQL, never needed in Python.
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, nullable=True, deferred=True, deferred_raiseload=True
    )
    # Unaccented, lower-cased name and tags, for trigram typo matching.
    search_text: Mapped[str] = mapped_column(
        Text, nullable=False, server_default="", deferred=True, deferred_raiseload=True
    )


class ProductImage(Base):
    __tablename__ = "product_images"
    __table_args__ = (Index("ix_product_images_product_sort", "product_id", "sort_order", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    alt: Mapped[str] = mapped_column(String(250), nullable=False, server_default="")
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class Variant(Timestamped, Base):
    """A buyable version of a product (size, colour) with its own SKU and price."""

    __tablename__ = "variants"
    __table_args__ = (
        CheckConstraint("price_amount >= 0", name="price_non_negative"),
        CheckConstraint("compare_at_amount IS NULL OR compare_at_amount >= 0", name="compare_at"),
        CheckConstraint("weight_grams IS NULL OR weight_grams >= 0", name="weight_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        Index("ix_variants_product_id_id", "product_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    sku: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(250), nullable=False, server_default="")
    price_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    compare_at_amount: Mapped[int | None] = mapped_column(BigInteger)
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    track_inventory: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")


class Warehouse(Timestamped, Base):
    __tablename__ = "warehouses"
    __table_args__ = (
        # At most one default warehouse.
        Index(
            "uq_warehouses_default",
            "is_default",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(250), nullable=False)
    slug: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


class Stock(Base):
    """Quantity on hand of one variant in one warehouse; never negative."""

    __tablename__ = "stocks"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_non_negative"),)

    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True
    )
    warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("warehouses.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class StockAdjustment(Base):
    """One recorded change of stock: who, when, how much, why."""

    __tablename__ = "stock_adjustments"
    __table_args__ = (Index("ix_stock_adjustments_variant_created", "variant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), nullable=False
    )
    # Null once the warehouse is deleted: the audit trail outlives it.
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="SET NULL")
    )
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(250), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )


class Review(Timestamped, Base):
    """One customer's rating and review of one product."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index("uq_reviews_product_user", "product_id", "user_id", unique=True),
        Index("ix_reviews_product_created", "product_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    is_hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    # Set by the orders work when the reviewer bought the product (see docs/decisions.md).
    verified_purchase: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


class WishlistItem(Base):
    """A product (optionally one variant of it) a customer saved."""

    __tablename__ = "wishlist_items"
    __table_args__ = (
        Index(
            "uq_wishlist_items_product",
            "user_id",
            "product_id",
            unique=True,
            postgresql_where=text("variant_id IS NULL"),
        ),
        Index(
            "uq_wishlist_items_variant",
            "user_id",
            "variant_id",
            unique=True,
            postgresql_where=text("variant_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )

"""Carts: a shopper's lines, addresses, delivery method and coupons, and stock held for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class Cart(Timestamped, Base):
    """An open cart until `completed_at`; holding its `token` is the right to use it.

    A cart with a `user_id` is usable only by that user, who has at most one open cart.
    Anonymous carts untouched (`updated_at`) for CART_EXPIRY_DAYS are purged by the worker.
    """

    __tablename__ = "carts"
    __table_args__ = (
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        Index("uq_carts_token", "token", unique=True),
        Index(
            "uq_carts_open_user",
            "user_id",
            unique=True,
            postgresql_where=text("completed_at IS NULL AND user_id IS NOT NULL"),
        ),
        Index(
            "ix_carts_anonymous_updated",
            "updated_at",
            postgresql_where=text("user_id IS NULL AND completed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # 256 random bits, URL-safe base64 (43 characters): the cart's public ID.
    token: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254), nullable=False, server_default="")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Address fields as the address book stores them (a copy: editing the book changes no cart).
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    shipping_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipping_methods.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CartLine(Timestamped, Base):
    """A variant and a quantity; the snapshot columns describe it as the shopper added it.

    `variant_id` is null once the variant (or its product) is deleted: the line stays, as a
    problem the shopper sees, until it is removed.
    """

    __tablename__ = "cart_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("seen_unit_price_amount >= 0", name="seen_price_non_negative"),
        Index("ix_cart_lines_cart_id", "cart_id", "id"),
        Index(
            "uq_cart_lines_cart_variant",
            "cart_id",
            "variant_id",
            unique=True,
            postgresql_where=text("variant_id IS NOT NULL"),
        ),
        Index("ix_cart_lines_variant_id", "variant_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), nullable=False)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    # The unit price when the line was added or its quantity last set: PRICE_CHANGED compares.
    seen_unit_price_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    product_name: Mapped[str] = mapped_column(String(250), nullable=False, server_default="")
    variant_name: Mapped[str] = mapped_column(String(250), nullable=False, server_default="")
    sku: Mapped[str] = mapped_column(String(64), nullable=False, server_default="")


class CartPromotion(Base):
    """A coupon applied to a cart (automatic promotions need no row)."""

    __tablename__ = "cart_promotions"

    cart_id: Mapped[int] = mapped_column(
        ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True
    )
    promotion_id: Mapped[int] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )


class StockReservation(Base):
    """Units of a variant held for a cart in checkout until `expires_at`.

    Other shoppers see them as unavailable while active; completion or expiry frees them.
    """

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("uq_stock_reservations_cart_variant", "cart_id", "variant_id", unique=True),
        Index("ix_stock_reservations_variant_expires", "variant_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), nullable=False)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

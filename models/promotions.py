"""Promotions: coupon codes and automatic discounts, their scope and their redemptions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped

KINDS = ("percentage", "fixed", "free_shipping")

promotion_products = Table(
    "promotion_products",
    Base.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)  # fmt: skip

promotion_categories = Table(
    "promotion_categories",
    Base.metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)  # fmt: skip


class Promotion(Timestamped, Base):
    """A discount: with a `code` a coupon the shopper applies, without one automatic.

    `used_count` is raised by one conditional UPDATE per order; the check constraint
    is the last line of defence against redeeming more than `usage_limit`.
    """

    __tablename__ = "promotions"
    __table_args__ = (
        CheckConstraint("kind IN ('percentage', 'fixed', 'free_shipping')", name="kind"),
        CheckConstraint(
            "kind <> 'percentage' OR (percentage > 0 AND percentage <= 100)", name="percentage"
        ),
        CheckConstraint(
            "kind <> 'fixed' OR (amount > 0 AND currency IS NOT NULL)", name="fixed_amount"
        ),
        CheckConstraint("currency IS NULL OR currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint("min_subtotal_amount IS NULL OR min_subtotal_amount >= 0", name="min"),
        CheckConstraint("usage_limit IS NULL OR usage_limit >= 0", name="usage_limit"),
        CheckConstraint(
            "used_count >= 0 AND (usage_limit IS NULL OR used_count <= usage_limit)",
            name="used_within_limit",
        ),
        CheckConstraint("per_customer_limit IS NULL OR per_customer_limit > 0",
                        name="per_customer"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR starts_at < ends_at",
                        name="window"),
        # Codes are stored upper-cased: "welcome10" and "WELCOME10" are one coupon.
        Index("uq_promotions_code", "code", unique=True, postgresql_where=text("code IS NOT NULL")),
        Index("ix_promotions_automatic", "is_active", postgresql_where=text("code IS NULL")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(250), nullable=False)
    code: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # A fixed discount, or the minimum subtotal, is in `currency`: it applies only to carts in it.
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    min_subtotal_amount: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    stackable: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")


class PromotionRedemption(Base):
    """One use of a promotion by one order; counts against the per-customer limit."""

    __tablename__ = "promotion_redemptions"
    __table_args__ = (
        Index("uq_promotion_redemptions_promotion_order", "promotion_id", "order_id", unique=True),
        Index("ix_promotion_redemptions_promotion_user", "promotion_id", "user_id"),
        Index("ix_promotion_redemptions_promotion_email", "promotion_id", "email"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    promotion_id: Mapped[int] = mapped_column(
        ForeignKey("promotions.id", ondelete="CASCADE"), nullable=False
    )
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Lower-cased: a guest's uses are counted by email.
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )

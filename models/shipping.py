"""Shipping: zones (countries, optional regions) and the delivery methods offered in them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped


class ShippingZone(Timestamped, Base):
    """A set of countries (or regions of them) served by the same delivery methods.

    A worldwide zone matches an address only when no zone names its country.
    """

    __tablename__ = "shipping_zones"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(250), nullable=False)
    is_worldwide: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


class ShippingZoneArea(Base):
    """One country of a zone; `region` ('' for the whole country) narrows it to one area."""

    __tablename__ = "shipping_zone_areas"
    __table_args__ = (
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_code"),
        Index("uq_shipping_zone_areas_zone_country_region", "zone_id", "country", "region",
              unique=True),
        Index("ix_shipping_zone_areas_country", "country"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_zones.id", ondelete="CASCADE"), nullable=False
    )
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    # Upper-cased, compared with the address's upper-cased `country_area`.
    region: Mapped[str] = mapped_column(String(150), nullable=False, server_default="")


class ShippingMethod(Timestamped, Base):
    """A way to deliver: its price, when it is free, which weights it takes, how long it takes."""

    __tablename__ = "shipping_methods"
    __table_args__ = (
        CheckConstraint("price_amount >= 0", name="price_non_negative"),
        CheckConstraint("free_above_amount IS NULL OR free_above_amount >= 0", name="free_above"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint(
            "min_weight_grams IS NULL OR max_weight_grams IS NULL"
            " OR min_weight_grams <= max_weight_grams",
            name="weight_range",
        ),
        CheckConstraint(
            "min_days IS NULL OR max_days IS NULL OR min_days <= max_days", name="days_range"
        ),
        Index("ix_shipping_methods_zone_id", "zone_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("shipping_zones.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(250), nullable=False)
    price_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Free when the cart's subtotal (after discounts) reaches this amount.
    free_above_amount: Mapped[int | None] = mapped_column(BigInteger)
    min_weight_grams: Mapped[int | None] = mapped_column(Integer)
    max_weight_grams: Mapped[int | None] = mapped_column(Integer)
    min_days: Mapped[int | None] = mapped_column(Integer)
    max_days: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")

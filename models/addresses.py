"""Addresses: a customer's address book, with at most one default of each kind."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped

MAX_ADDRESSES_PER_USER = 50


class Address(Timestamped, Base):
    """One postal address of a customer; the flags mark their default shipping / billing one."""

    __tablename__ = "addresses"
    __table_args__ = (
        CheckConstraint("country ~ '^[A-Z]{2}$'", name="country_code"),
        CheckConstraint("phone = '' OR phone ~ '^\\+[1-9][0-9]{1,14}$'", name="phone_e164"),
        Index("ix_addresses_user_created", "user_id", "created_at", "id"),
        # Flags rather than FK columns on users: at most one default of each kind per user.
        Index(
            "uq_addresses_default_shipping",
            "user_id",
            unique=True,
            postgresql_where=text("is_default_shipping"),
        ),
        Index(
            "uq_addresses_default_billing",
            "user_id",
            unique=True,
            postgresql_where=text("is_default_billing"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    first_name: Mapped[str] = mapped_column(String(150), nullable=False, server_default="")
    last_name: Mapped[str] = mapped_column(String(150), nullable=False, server_default="")
    company: Mapped[str] = mapped_column(String(250), nullable=False, server_default="")
    street_address_1: Mapped[str] = mapped_column(String(250), nullable=False)
    street_address_2: Mapped[str] = mapped_column(String(250), nullable=False, server_default="")
    city: Mapped[str] = mapped_column(String(150), nullable=False)
    postal_code: Mapped[str] = mapped_column(String(20), nullable=False, server_default="")
    country_area: Mapped[str] = mapped_column(String(150), nullable=False, server_default="")
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    phone: Mapped[str] = mapped_column(String(16), nullable=False, server_default="")
    is_default_shipping: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )
    is_default_billing: Mapped[bool] = mapped_column(
        Boolean, nullable=False, server_default="false"
    )

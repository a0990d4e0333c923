"""Fulfilment: shipments of an order's lines from a warehouse, and returns of delivered lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped

SHIPMENT_STATUSES = ("shipped", "delivered")
# requested -> approved | rejected; approved -> received; received -> refunded.
RETURN_STATUSES = ("requested", "approved", "rejected", "received", "refunded")
# Returns in these hold their quantities against what was delivered.
RETURN_HOLDING_STATUSES = ("requested", "approved", "received", "refunded")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Shipment(Timestamped, Base):
    """Units of an order's lines that left one warehouse together, with the carrier's tracking."""

    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint(_in("status", SHIPMENT_STATUSES), name="status"),
        Index("ix_shipments_order_id", "order_id", "id"),
        # A carrier reports deliveries by its tracking number: one shipment per number.
        Index(
            "uq_shipments_carrier_tracking",
            "carrier",
            "tracking_number",
            unique=True,
            postgresql_where=text("tracking_number <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="shipped")
    carrier: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    tracking_number: Mapped[str] = mapped_column(String(100), nullable=False, server_default="")
    tracking_url: Mapped[str] = mapped_column(String(2000), nullable=False, server_default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When we learned of the delivery: the return window runs from it, so a report that
    # backdates `delivered_at` never shortens the customer's window.
    delivery_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ShipmentLine(Base):
    """How many units of one order line a shipment holds."""

    __tablename__ = "shipment_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_shipment_lines_shipment_id", "shipment_id"),
        Index("ix_shipment_lines_order_line_id", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False
    )
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)


class OrderReturn(Timestamped, Base):
    """A customer's request to send delivered lines back, and what staff did with it."""

    __tablename__ = "order_returns"
    __table_args__ = (
        CheckConstraint(_in("status", RETURN_STATUSES), name="status"),
        Index("ix_order_returns_order_id", "order_id", "id"),
        Index("ix_order_returns_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="requested")
    reason: Mapped[str] = mapped_column(String(1000), nullable=False, server_default="")
    # Staff's answer (why rejected, what was found on receipt).
    staff_note: Mapped[str] = mapped_column(String(1000), nullable=False, server_default="")
    # Whether received units went back to stock, and where.
    restocked: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="SET NULL")
    )
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ReturnLine(Base):
    """Units of one order line in a return, with the customer's reason for them."""

    __tablename__ = "return_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_return_lines_return_id", "return_id"),
        Index("ix_return_lines_order_line_id", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("order_returns.id", ondelete="CASCADE"), nullable=False
    )
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), nullable=False
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")

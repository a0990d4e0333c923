"""Orders: what the shopper bought, frozen at checkout; lines, stock taken, history, payments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Sequence,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped

# The statuses of the state machine (app/services/orders/transitions.py says which may follow
# which). authorized: the payment holds the money and waits for its capture.
STATUSES = (
    "pending_payment",
    "authorized",
    "paid",
    "partially_fulfilled",
    "fulfilled",
    "delivered",
    "partially_refunded",
    "refunded",
    "returned",
    "cancelled",
)
# An order in one of these was paid for (its lines were bought): reviews are verified by it.
PAID_STATUSES = (
    "paid",
    "partially_fulfilled",
    "fulfilled",
    "delivered",
    "partially_refunded",
    "returned",
)
STATUS_CHECK = "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")"

order_number_seq = Sequence("order_number_seq", start=1000, metadata=Base.metadata)


class Order(Timestamped, Base):
    """One placed order; amounts in minor units of `currency`, as the shopper saw them.

    `cart_id` is unique: a cart becomes at most one order, whatever races to complete it.
    """

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint(
            "subtotal_amount >= 0 AND shipping_amount >= 0 AND discount_amount >= 0"
            " AND tax_amount >= 0 AND total_amount >= 0",
            name="amounts_non_negative",
        ),
        Index("uq_orders_number", "number", unique=True),
        Index("uq_orders_token", "token", unique=True),
        Index("uq_orders_cart_id", "cart_id", unique=True),
        Index("ix_orders_user_created", "user_id", "created_at", "id"),
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_total", "total_amount", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[int] = mapped_column(
        BigInteger, order_number_seq, server_default=order_number_seq.next_value(), nullable=False
    )
    # Random, for a guest's access to their order (never a sequence number).
    token: Mapped[str] = mapped_column(String(64), nullable=False)
    # The cart it came from (no foreign key: carts are purged, the order stays).
    cart_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Sum of the lines before discounts, as prices were entered (gross or net).
    subtotal_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Shipping after its discount, as entered (gross or net).
    shipping_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    shipping_tax_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # What the shopper pays: lines and shipping, gross.
    total_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    shipping_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("shipping_methods.id", ondelete="SET NULL")
    )
    shipping_method_name: Mapped[str] = mapped_column(String(250), nullable=False)
    # [{promotionId, name, code, kind, amount}] as applied at checkout.
    discounts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    # Last sequence number given to an order event (history row and pub/sub message).
    event_sequence: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class OrderLine(Base):
    """A frozen line: names, SKU, unit price, discount and tax as they were at checkout."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "unit_price_amount >= 0 AND discount_amount >= 0 AND tax_amount >= 0"
            " AND total_amount >= 0",
            name="amounts_non_negative",
        ),
        Index("ix_order_lines_order_id", "order_id", "id"),
        Index("ix_order_lines_variant_id", "variant_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    product_name: Mapped[str] = mapped_column(String(250), nullable=False)
    variant_name: Mapped[str] = mapped_column(String(250), nullable=False)
    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    # As entered (gross or net, see Order.prices_include_tax).
    unit_price_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    discount_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 3), nullable=False)
    tax_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Gross, after the discount: what this line adds to the order's total.
    total_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)


class OrderAllocation(Base):
    """Units of an order line taken from one warehouse's stock at checkout; `shipped_quantity`
    of them left in shipments (the rest is allocated: a cancellation gives it back)."""

    __tablename__ = "order_allocations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("shipped_quantity BETWEEN 0 AND quantity", name="shipped_within"),
        Index("ix_order_allocations_order_line_id", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), nullable=False
    )
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id", ondelete="SET NULL"))
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="SET NULL")
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    shipped_quantity: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class OrderEvent(Base):
    """One status change of an order: who, when, from, to, with its per-order sequence number."""

    __tablename__ = "order_events"
    __table_args__ = (Index("uq_order_events_order_sequence", "order_id", "sequence", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )


class OrderNote(Base):
    """A staff note on an order (internal: customers never see it)."""

    __tablename__ = "order_notes"
    __table_args__ = (Index("ix_order_notes_order_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(String(2000), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )


class OrderAudit(Base):
    """One staff action on an order (app/services/orders/audit.py): who, when, what, details."""

    __tablename__ = "order_audit"
    __table_args__ = (Index("ix_order_audit_order_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A dotted name: order.cancel, payment.capture, shipment.create, return.approve, note.add...
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )

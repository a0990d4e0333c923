"""Payments: attempts at a provider, every movement of money, refunds, the webhook inbox,
invoices and credit notes. Amounts are integer minor units of `currency`."""

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
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped

PAYMENT_STATUSES = ("pending", "authorized", "succeeded", "declined", "cancelled", "failed")
TRANSACTION_KINDS = ("authorization", "capture", "refund", "void", "failure")
TRANSACTION_STATUSES = ("pending", "succeeded", "failed")
REFUND_STATUSES = ("pending", "succeeded", "failed")
REFUND_ORIGINS = ("staff", "automatic", "provider")
WEBHOOK_STATUSES = ("processed", "failed", "ignored")
INVOICE_KINDS = ("invoice", "credit_note")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Payment(Timestamped, Base):
    """One payment attempt of an order at a gateway, and what the provider last said of it.

    `captured_amount` and `refunded_amount` are the sums of the succeeded capture and refund
    transactions; `refund_reserved_amount` holds refunds asked for and not yet answered, so
    two refunds racing cannot together exceed what was captured.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="status"),
        CheckConstraint("capture_mode IN ('automatic', 'manual')", name="capture_mode"),
        CheckConstraint(
            "amount >= 0 AND authorized_amount >= 0 AND captured_amount >= 0"
            " AND refunded_amount >= 0 AND refund_reserved_amount >= 0",
            name="amount_non_negative",
        ),
        CheckConstraint("refunded_amount <= captured_amount", name="refunds_within_captured"),
        Index("ix_payments_order_id", "order_id"),
        Index("uq_payments_attempt_key", "attempt_key", unique=True),
        Index(
            "uq_payments_gateway_psp_reference",
            "gateway",
            "psp_reference",
            unique=True,
            postgresql_where=text("psp_reference <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    gateway: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    capture_mode: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # The idempotency key of this attempt at the provider (random, never the client's key).
    attempt_key: Mapped[str] = mapped_column(String(64), nullable=False)
    # The provider's reference of the payment (PaymentIntent, PayPal order); "" until known.
    psp_reference: Mapped[str] = mapped_column(String(255), nullable=False, server_default="")
    # What the customer's client needs to go on: Stripe's client secret, PayPal's approval link.
    client_secret: Mapped[str] = mapped_column(String(255), nullable=False, server_default="")
    approval_url: Mapped[str] = mapped_column(String(2000), nullable=False, server_default="")
    authorized_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    captured_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    refunded_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    refund_reserved_amount: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default="0"
    )
    # The provider's last word in words a shopper may read (a decline reason).
    message: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")


class PaymentTransaction(Timestamped, Base):
    """One movement of money (or a failed try at one), as the provider reported it.

    Unique on (gateway, kind, psp_reference): the same capture or refund reported by an API
    answer, a webhook and a later fetch is one row.
    """

    __tablename__ = "payment_transactions"
    __table_args__ = (
        CheckConstraint(_in("kind", TRANSACTION_KINDS), name="kind"),
        CheckConstraint(_in("status", TRANSACTION_STATUSES), name="status"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        Index("ix_payment_transactions_payment_id", "payment_id", "id"),
        Index("ix_payment_transactions_created", "created_at", "id"),
        Index(
            "uq_payment_transactions_reference",
            "gateway",
            "kind",
            "psp_reference",
            unique=True,
            postgresql_where=text("psp_reference <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    )
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    gateway: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    psp_reference: Mapped[str] = mapped_column(String(255), nullable=False, server_default="")
    message: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")
    # The provider's answer, for audit (providers never send card numbers back; we never
    # receive any).
    raw: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )


class Refund(Timestamped, Base):
    """Money given back: asked for by staff (or by the rules, for a late payment), then
    carried out at the provider; a credit note once it succeeded."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint(_in("status", REFUND_STATUSES), name="status"),
        CheckConstraint("amount > 0 AND shipping_amount >= 0", name="amount_positive"),
        CheckConstraint(_in("origin", REFUND_ORIGINS), name="origin"),
        Index("ix_refunds_order_id", "order_id", "id"),
        Index("ix_refunds_payment_id", "payment_id"),
        Index(
            "uq_refunds_order_idempotency_key",
            "order_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_refunds_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Of `amount`, what is shipping; the rest is `lines` (or a plain amount when empty).
    shipping_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    # [{"orderLineId": int, "quantity": int, "amount": int}] for a refund by lines.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    reason: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")
    # staff: asked for through the API; automatic: by the rules (a payment that succeeded
    # after its order was cancelled); provider: made outside this API (the provider's
    # dashboard) and learnt from it. Only the first two reserve their amount while pending.
    origin: Mapped[str] = mapped_column(String(16), nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    psp_reference: Mapped[str] = mapped_column(String(255), nullable=False, server_default="")
    message: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )


class WebhookEvent(Base):
    """The inbox: every verified provider call, once, with what applying it did."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint(_in("status", WEBHOOK_STATUSES), name="status"),
        Index("uq_webhook_events_provider_event", "provider", "event_id", unique=True),
        Index(
            "ix_webhook_events_due",
            "next_attempt_at",
            postgresql_where=text("status = 'failed'"),
        ),
        Index("ix_webhook_events_received", "received_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    event_id: Mapped[str] = mapped_column(String(255), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    psp_reference: Mapped[str] = mapped_column(String(255), nullable=False, server_default="")
    # The body exactly as it came (the signature was computed over these bytes).
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str] = mapped_column(String(1000), nullable=False, server_default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InvoiceSequence(Base):
    """The last number given in a series; taken with UPDATE ... RETURNING in the transaction
    that issues the document, so a rollback gives the number back (no gaps)."""

    __tablename__ = "invoice_sequences"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class Invoice(Base):
    """An invoice (issued when an order is paid) or a credit note (one per refund), frozen:
    seller, buyer, lines, tax breakdown and totals as they were when issued."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(_in("kind", INVOICE_KINDS), name="kind"),
        Index("uq_invoices_series_number", "series", "number", unique=True),
        Index("ix_invoices_order_id", "order_id", "id"),
        Index(
            "uq_invoices_order_invoice",
            "order_id",
            unique=True,
            postgresql_where=text("kind = 'invoice'"),
        ),
        Index("uq_invoices_refund_id", "refund_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
    )
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    series: Mapped[str] = mapped_column(String(16), nullable=False)
    number: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # {"name", "address": [lines], "taxId"} and {"name", "email", "address": [lines]}.
    seller: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # [{"description", "sku", "quantity", "unitAmount", "taxRate", "taxAmount", "totalAmount"}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    # [{"rate": "19.000", "netAmount", "taxAmount"}]
    tax_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    net_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    tax_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    total_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), nullable=False
    )

"""GraphQL types of payments: attempts, money movements, refunds, invoices, webhook events."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from app.services.payments.invoices import display_number
from models import payments as models
from resolvers.base import Info, global_id
from resolvers.money import Money
from resolvers.orders.types import can_manage_orders


@strawberry.enum(description="Where a payment stands at its provider.")
class PaymentStatus(Enum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"


@strawberry.enum(description="When the money is taken.")
class CaptureMode(Enum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


@strawberry.enum(description="What a money movement was.")
class TransactionKind(Enum):
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"
    FAILURE = "failure"


@strawberry.enum(description="Whether a money movement happened.")
class TransactionStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.enum(description="Where a refund stands.")
class RefundStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.enum(description="Who asked for a refund.")
class RefundOrigin(Enum):
    STAFF = "staff"
    AUTOMATIC = "automatic"
    PROVIDER = "provider"


@strawberry.enum(description="An invoice, or the credit note of a refund.")
class InvoiceKind(Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@strawberry.enum(description="What applying a webhook event did.")
class WebhookEventStatus(Enum):
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


@strawberry.type(description="One movement of money (or a failed try), as the provider said.")
class PaymentTransaction:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    gateway: str = strawberry.field(description="DUMMY, STRIPE or PAYPAL.")
    kind: TransactionKind = strawberry.field(description="What it was.")
    status: TransactionStatus = strawberry.field(description="Whether it happened.")
    amount: Money = strawberry.field(description="How much.")
    psp_reference: str = strawberry.field(description="The provider's id of it.")
    message: str = strawberry.field(description="The provider's reason, e.g. a decline.")
    created_at: datetime = strawberry.field(description="When we learnt of it.")
    row: strawberry.Private[models.PaymentTransaction]

    @classmethod
    def from_row(cls, row: models.PaymentTransaction) -> PaymentTransaction:
        return cls(
            id=strawberry.ID(str(global_id("PaymentTransaction", row.id))),
            gateway=row.gateway,
            kind=TransactionKind(row.kind),
            status=TransactionStatus(row.status),
            amount=Money.of(row.amount, row.currency),
            psp_reference=row.psp_reference,
            message=row.message,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="The provider's answer, for audit (MANAGE_ORDERS; else null).")
    def raw(self, info: Info) -> JSON | None:
        return cast(JSON, self.row.raw) if can_manage_orders(info) else None


@strawberry.type(description="A payment attempt of an order at a gateway.")
class Payment:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    gateway: str = strawberry.field(description="DUMMY, STRIPE or PAYPAL.")
    status: PaymentStatus = strawberry.field(description="Where it stands.")
    capture_mode: CaptureMode = strawberry.field(description="When the money is taken.")
    amount: Money = strawberry.field(description="What is to be paid.")
    authorized: Money = strawberry.field(description="Held and not captured yet.")
    captured: Money = strawberry.field(description="Taken so far.")
    refunded: Money = strawberry.field(description="Given back so far.")
    psp_reference: str = strawberry.field(description="The provider's id of the payment.")
    message: str = strawberry.field(description="The provider's last word, e.g. a decline.")
    created_at: datetime = strawberry.field(description="When it started.")
    row: strawberry.Private[models.Payment]

    @classmethod
    def from_row(cls, row: models.Payment) -> Payment:
        def money(amount: int) -> Money:
            return Money.of(amount, row.currency)

        return cls(
            id=strawberry.ID(str(global_id("Payment", row.id))),
            gateway=row.gateway,
            status=PaymentStatus(row.status),
            capture_mode=CaptureMode(row.capture_mode),
            amount=money(row.amount),
            authorized=money(row.authorized_amount),
            captured=money(row.captured_amount),
            refunded=money(row.refunded_amount),
            psp_reference=row.psp_reference,
            message=row.message,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(
        description="STRIPE: the PaymentIntent's client secret for Stripe.js or the mobile "
        "SDKs (confirmCardPayment, 3-D Secure included); null once nothing is left to confirm."
    )
    def client_secret(self) -> str | None:
        return self.row.client_secret or None if self.row.status == "pending" else None

    @strawberry.field(
        description="PAYPAL: where the buyer approves the payment; null once approved. After "
        "approval call orderPaymentConfirm (or wait for the webhook)."
    )
    def approval_url(self) -> str | None:
        return self.row.approval_url or None if self.row.status == "pending" else None

    @strawberry.field(description="Every movement of money, oldest first.")
    async def transactions(self, info: Info) -> list[PaymentTransaction]:
        rows = await info.context.loaders.transactions_by_payment.load(self.row.id)
        return [PaymentTransaction.from_row(row) for row in rows]


@strawberry.type(description="Part of a refund by lines.")
class RefundLine:
    order_line_id: strawberry.ID = strawberry.field(description="The order line's global ID.")
    quantity: int = strawberry.field(description="Units refunded.")
    amount: Money = strawberry.field(description="Their share of the line's total.")


@strawberry.type(description="Money given back to the customer.")
class Refund:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    status: RefundStatus = strawberry.field(description="Where it stands at the provider.")
    origin: RefundOrigin = strawberry.field(description="Who asked for it.")
    amount: Money = strawberry.field(description="All of it, shipping included.")
    shipping: Money = strawberry.field(description="Of which shipping.")
    lines: list[RefundLine] = strawberry.field(description="By lines; empty for an amount.")
    reason: str = strawberry.field(description="Why, as staff wrote it.")
    message: str = strawberry.field(description="The provider's word, e.g. why it failed.")
    created_at: datetime = strawberry.field(description="When it was asked for.")
    row: strawberry.Private[models.Refund]

    @classmethod
    def from_row(cls, row: models.Refund) -> Refund:
        def money(amount: int) -> Money:
            return Money.of(amount, row.currency)

        return cls(
            id=strawberry.ID(str(global_id("Refund", row.id))),
            status=RefundStatus(row.status),
            origin=RefundOrigin(row.origin),
            amount=money(row.amount),
            shipping=money(row.shipping_amount),
            lines=[_refund_line(item, row.currency) for item in row.lines],
            reason=row.reason,
            message=row.message,
            created_at=row.created_at,
            row=row,
        )


def _refund_line(item: dict[str, Any], currency: str) -> RefundLine:
    return RefundLine(
        order_line_id=strawberry.ID(str(global_id("OrderLine", int(item["orderLineId"])))),
        quantity=int(item["quantity"]),
        amount=Money.of(int(item["amount"]), currency),
    )


@strawberry.type(description="An invoice (issued when the order was paid) or a credit note.")
class Invoice:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    kind: InvoiceKind = strawberry.field(description="Invoice or credit note.")
    number: str = strawberry.field(description="Sequential and gap-free, e.g. INV-000042.")
    issued_at: datetime = strawberry.field(description="When it was issued.")
    net: Money = strawberry.field(description="Total before tax.")
    tax: Money = strawberry.field(description="Tax.")
    total: Money = strawberry.field(description="Total with tax.")
    row: strawberry.Private[models.Invoice]

    @classmethod
    def from_row(cls, row: models.Invoice) -> Invoice:
        return cls(
            id=strawberry.ID(str(global_id("Invoice", row.id))),
            kind=InvoiceKind(row.kind),
            number=display_number(row),
            issued_at=row.issued_at,
            net=Money.of(row.net_amount, row.currency),
            tax=Money.of(row.tax_amount, row.currency),
            total=Money.of(row.total_amount, row.currency),
            row=row,
        )

    @strawberry.field(
        description="A signed link to the PDF, valid for INVOICE_URL_TTL_SECONDS; anyone "
        "holding it can download the document, so hand it only to its customer."
    )
    def download_url(self, info: Info) -> str:
        from app.invoice_links import invoice_url

        return invoice_url(info.context.settings, invoice_id=self.row.id, now=datetime.now(UTC))


@strawberry.type(description="A provider's webhook call as the inbox keeps it.")
class WebhookEvent:
    id: strawberry.ID = strawberry.field(description="Global ID.")
    provider: str = strawberry.field(description="STRIPE or PAYPAL.")
    event_id: str = strawberry.field(description="The provider's event id.")
    event_type: str = strawberry.field(description="The provider's event type.")
    psp_reference: str = strawberry.field(description="The payment it is about.")
    status: WebhookEventStatus = strawberry.field(description="What applying it did.")
    attempts: int = strawberry.field(description="How often it was applied or tried.")
    last_error: str = strawberry.field(description="Why the last try failed.")
    received_at: datetime = strawberry.field(description="When it first arrived.")
    processed_at: datetime | None = strawberry.field(description="When it took effect.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the worker tries a failed event again; null when it no longer does."
    )
    body: str = strawberry.field(description="The body exactly as the provider sent it.")

    @classmethod
    def from_row(cls, row: models.WebhookEvent) -> WebhookEvent:
        return cls(
            id=strawberry.ID(str(global_id("WebhookEvent", row.id))),
            provider=row.provider,
            event_id=row.event_id,
            event_type=row.event_type,
            psp_reference=row.psp_reference,
            status=WebhookEventStatus(row.status),
            attempts=row.attempts,
            last_error=row.last_error,
            received_at=row.received_at,
            processed_at=row.processed_at,
            next_attempt_at=row.next_attempt_at,
            body=row.body,
        )

"""Staff reads over the money records and the webhook inbox, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.errors import ErrorCode, PaymentError
from app.services.pagination import KeysetQuery, newest_first
from models.payments import (
    TRANSACTION_KINDS,
    TRANSACTION_STATUSES,
    WEBHOOK_STATUSES,
    PaymentTransaction,
    WebhookEvent,
)


@dataclass(frozen=True)
class TransactionFilter:
    gateway: str | None = None
    kind: str | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    order_id: int | None = None


def _check(value: str | None, allowed: tuple[str, ...], field: str) -> None:
    if value is not None and value not in allowed:
        raise PaymentError(ErrorCode.INVALID, f"One of {', '.join(allowed)}.", field=field)


def transactions_query(filter: TransactionFilter) -> KeysetQuery:
    """Every money movement matching the filter (gateway, kind, status, date, order)."""
    _check(filter.kind, TRANSACTION_KINDS, "filter.kind")
    _check(filter.status, TRANSACTION_STATUSES, "filter.status")
    if filter.gateway is not None and len(filter.gateway) > 32:
        raise PaymentError(ErrorCode.TOO_LONG, "At most 32 characters.", field="filter.gateway")
    query = select(PaymentTransaction)
    if filter.gateway is not None:
        query = query.where(PaymentTransaction.gateway == filter.gateway.strip().upper())
    if filter.kind is not None:
        query = query.where(PaymentTransaction.kind == filter.kind)
    if filter.status is not None:
        query = query.where(PaymentTransaction.status == filter.status)
    if filter.created_from is not None:
        query = query.where(PaymentTransaction.created_at >= filter.created_from)
    if filter.created_to is not None:
        query = query.where(PaymentTransaction.created_at < filter.created_to)
    if filter.order_id is not None:
        query = query.where(PaymentTransaction.order_id == filter.order_id)
    return KeysetQuery(
        query,
        keys=newest_first(PaymentTransaction.created_at, PaymentTransaction.id),
        tag="transactions:newest",
    )


def webhook_events_query(*, status: str | None, provider: str | None) -> KeysetQuery:
    """The inbox, newest first, by status and provider."""
    _check(status, WEBHOOK_STATUSES, "status")
    query = select(WebhookEvent)
    if status is not None:
        query = query.where(WebhookEvent.status == status)
    if provider is not None:
        query = query.where(WebhookEvent.provider == provider.strip().upper()[:32])
    return KeysetQuery(
        query,
        keys=newest_first(WebhookEvent.received_at, WebhookEvent.id),
        tag="webhooks:newest",
    )

"""Staff queries over the money records and the webhook inbox (MANAGE_ORDERS)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from app.auth.permissions import Perm
from app.services.pagination import PageRequest
from app.services.payments.queries import (
    TransactionFilter,
    transactions_query,
    webhook_events_query,
)
from resolvers.base import HasPermission, Info, decode_id, query_errors
from resolvers.connection import Connection, keyset_connection
from resolvers.payments.types import (
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
    WebhookEvent,
    WebhookEventStatus,
)

MANAGE_ORDERS = [HasPermission(Perm.MANAGE_ORDERS)]


@strawberry.input(description="Which money movements to list; every field narrows.")
class PaymentTransactionFilter:
    gateway: str | None = strawberry.field(default=None, description="DUMMY, STRIPE, PAYPAL.")
    kind: TransactionKind | None = strawberry.field(default=None, description="What it was.")
    status: TransactionStatus | None = strawberry.field(default=None, description="Outcome.")
    created_from: datetime | None = strawberry.field(default=None, description="At or after.")
    created_to: datetime | None = strawberry.field(default=None, description="Before.")
    order_id: strawberry.ID | None = strawberry.field(default=None, description="One order's.")

    def to_data(self) -> TransactionFilter:
        return TransactionFilter(
            gateway=self.gateway,
            kind=self.kind.value if self.kind else None,
            status=self.status.value if self.status else None,
            created_from=self.created_from,
            created_to=self.created_to,
            order_id=decode_id(self.order_id, "Order") if self.order_id is not None else None,
        )


@strawberry.type
class Query:
    @strawberry.field(
        description="Every movement of money, newest first (MANAGE_ORDERS).",
        permission_classes=MANAGE_ORDERS,
    )
    async def payment_transactions(
        self,
        info: Info,
        filter: PaymentTransactionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PaymentTransaction]:
        with query_errors():
            query = transactions_query((filter or PaymentTransactionFilter()).to_data())
        return await keyset_connection(
            info,
            query,
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=PaymentTransaction.from_row,
        )

    @strawberry.field(
        description="The webhook inbox, newest first; FAILED ones are retried by the worker "
        "and may be replayed (MANAGE_ORDERS).",
        permission_classes=MANAGE_ORDERS,
    )
    async def webhook_events(
        self,
        info: Info,
        status: WebhookEventStatus | None = None,
        provider: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookEvent]:
        with query_errors():
            query = webhook_events_query(status=status.value if status else None, provider=provider)
        return await keyset_connection(
            info,
            query,
            page=PageRequest(first=first, after=after, last=last, before=before),
            node=WebhookEvent.from_row,
        )

"""The audit trail: one row per staff action on an order (who, when, what, with which details).

Written in the action's own transaction, so a refused or rolled-back action leaves no row.
Actions are dotted names: order.cancel, order.transition, note.add, payment.capture,
payment.void, refund.request, shipment.create, shipment.deliver, return.approve, ...
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.payments.records import storable
from models.orders import OrderAudit


def audit(
    session: AsyncSession,
    *,
    order_id: int,
    user_id: int | None,
    action: str,
    details: dict[str, Any] | None = None,
) -> OrderAudit:
    """Add the row (written by the caller's next flush or commit)."""
    row = OrderAudit(
        order_id=order_id, user_id=user_id, action=action, details=storable(details or {})
    )
    session.add(row)
    return row

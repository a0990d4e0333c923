"""Orders whose payment never came: after PAYMENT_TIMEOUT_MINUTES their stock and coupons
go back and they are cancelled. A payment that still succeeds afterwards is refunded by
`records.apply_snapshot` (never kept silently).

Before giving up on an order, the worker asks the provider once where each of its payments
stands: a success whose webhook was lost is recorded instead of cancelled.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import PaymentError
from app.payments.registry import Gateways
from app.services.orders.events import record_status
from app.services.orders.stock_moves import put_back
from app.services.payments.provider_calls import sync_payment, void_payment
from app.services.payments.records import locked_payments_of
from app.settings import Settings
from models.orders import Order, OrderAllocation, OrderLine
from models.payments import Payment
from models.promotions import Promotion, PromotionRedemption

log = logging.getLogger(__name__)

BATCH = 50


async def give_back(session: AsyncSession, order: Order, *, reason: str) -> None:
    """Return the order's unshipped stock (in the checkout's lock order) and its coupon uses."""
    rows = await session.execute(
        select(
            OrderAllocation.variant_id,
            OrderAllocation.warehouse_id,
            OrderAllocation.quantity - OrderAllocation.shipped_quantity,
        )
        .join(OrderLine, OrderLine.id == OrderAllocation.order_line_id)
        .where(
            OrderLine.order_id == order.id,
            OrderAllocation.variant_id.is_not(None),
            OrderAllocation.warehouse_id.is_not(None),
            OrderAllocation.quantity > OrderAllocation.shipped_quantity,
        )
    )
    slots: dict[tuple[int, int], int] = defaultdict(int)
    for variant_id, warehouse_id, quantity in rows:
        assert variant_id is not None and warehouse_id is not None  # the query's condition
        slots[(variant_id, warehouse_id)] += quantity
    for (variant_id, warehouse_id), quantity in sorted(slots.items()):
        await put_back(
            session, variant_id=variant_id, warehouse_id=warehouse_id, quantity=quantity,
            reason=reason,
        )  # fmt: skip
    redeemed = (
        await session.scalars(
            select(PromotionRedemption.promotion_id)
            .where(PromotionRedemption.order_id == order.id)
            .order_by(PromotionRedemption.promotion_id)
        )
    ).all()
    for promotion_id in redeemed:  # id order, as checkout takes them
        await session.execute(
            update(Promotion)
            .where(Promotion.id == promotion_id)
            .values(used_count=func.greatest(Promotion.used_count - 1, 0))
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        delete(PromotionRedemption).where(PromotionRedemption.order_id == order.id)
    )


async def _overdue(session: AsyncSession, cutoff: datetime) -> list[int]:
    async with session.begin():
        ids = await session.scalars(
            select(Order.id)
            .where(Order.status == "pending_payment", Order.created_at < cutoff)
            .order_by(Order.created_at, Order.id)
            .limit(BATCH)
        )
        return list(ids)


async def _cancel(session: AsyncSession, order_id: int, cutoff: datetime) -> list[int] | None:
    """Cancel one overdue order (None if it no longer is); the payments to stop at the
    provider."""
    async with session.begin():
        order = await session.scalar(
            select(Order)
            .where(Order.id == order_id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if order is None or order.status != "pending_payment" or order.created_at >= cutoff:
            return None
        payments = await locked_payments_of(session, order.id)
        await give_back(session, order, reason=f"order #{order.number} unpaid, cancelled")
        await record_status(session, order, "cancelled", None)
        open_ones = [p for p in payments if p.status in ("pending", "authorized")]
        for payment in open_ones:
            if not payment.psp_reference:
                payment.status = "cancelled"
        await session.flush()
        return [p.id for p in open_ones if p.psp_reference]


async def cancel_unpaid_orders(
    session: AsyncSession, *, gateways: Gateways, settings: Settings, now: datetime
) -> int:
    """One pass over orders unpaid for PAYMENT_TIMEOUT_MINUTES; how many were cancelled."""
    cutoff = now - timedelta(minutes=settings.payment_timeout_minutes)
    cancelled = 0
    for order_id in await _overdue(session, cutoff):
        async with session.begin():
            payment_ids = list(
                await session.scalars(
                    select(Payment.id).where(
                        Payment.order_id == order_id,
                        Payment.psp_reference != "",
                        Payment.status.in_(("pending", "authorized")),
                    )
                )
            )
        for payment_id in payment_ids:  # a success whose webhook was lost is kept
            try:
                await sync_payment(session, gateways=gateways, settings=settings,
                                   payment_id=payment_id)  # fmt: skip
            except PaymentError as exc:
                log.warning("payment %s: %s; cancelling its order anyway", payment_id, exc)
        to_stop = await _cancel(session, order_id, cutoff)
        if to_stop is None:
            continue
        cancelled += 1
        for payment_id in to_stop:
            try:
                await void_payment(session, gateways=gateways, settings=settings,
                                   payment_id=payment_id, user_id=None, check=False)  # fmt: skip
            except PaymentError as exc:
                log.warning("voiding payment %s failed: %s", payment_id, exc.message)
    return cancelled

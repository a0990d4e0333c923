"""orderCancel: the customer (by the order's ID, or a guest by its token) or staff cancel an
order that nothing was shipped of. One transaction gives back its stock and coupon uses,
records the status, stops payments that never completed and reserves a refund of what was
captured; after the commit the provider is asked (voids, refunds), as everywhere in
payments (provider_calls.py)."""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, OrderError, PaymentError
from app.payments.registry import Gateways
from app.services.orders.access import Who, locked_order
from app.services.orders.audit import audit
from app.services.orders.quantities import shipped_by_line
from app.services.orders.transitions import check, move
from app.services.payments.abandoned import give_back
from app.services.payments.provider_calls import execute_refund, void_payment
from app.services.payments.records import locked_payments_of, reserve_refund
from app.settings import Settings
from models.orders import Order


async def cancel_order(
    session: AsyncSession,
    *,
    order_id: int | None,
    who: Who,
    settings: Settings,
    gateways: Gateways,
) -> Order:
    """Cancel the order; ILLEGAL_TRANSITION when its status does not allow it."""
    async with session.begin():
        order = await locked_order(session, order_id=order_id, who=who)
        check(order, "cancelled", field="id")
        if any((await shipped_by_line(session, order.id)).values()):
            raise OrderError(
                ErrorCode.ILLEGAL_TRANSITION,
                "Units of this order were shipped: it cannot be cancelled (request a return).",
                field="id",
            )
        if who.staff and not who.token and order.user_id != who.user_id:
            audit(session, order_id=order.id, user_id=who.user_id, action="order.cancel")
        payments = await locked_payments_of(session, order.id)
        await give_back(session, order, reason=f"order #{order.number} cancelled")
        await move(session, order, "cancelled", user_id=who.user_id, field="id")
        refunds = []
        for payment in payments:
            if payment.status == "pending" and not payment.psp_reference:
                payment.status = "cancelled"
            left = (
                payment.captured_amount - payment.refunded_amount - payment.refund_reserved_amount
            )
            if left > 0:
                refund = await reserve_refund(
                    session, payment=payment, order=order, amount=left,
                    reason="The order was cancelled.", user_id=who.user_id,
                )  # fmt: skip
                refunds.append(refund.id)
        to_stop = [
            p.id for p in payments if p.status in ("pending", "authorized") and p.psp_reference
        ]
        await session.flush()
    for refund_id in refunds:
        await execute_refund(session, gateways=gateways, settings=settings, refund_id=refund_id)
    for payment_id in to_stop:
        # Not stopped now (the provider did not answer): a success that still comes is
        # refunded by records.apply_snapshot, as for any cancelled order.
        with suppress(PaymentError):
            await void_payment(session, gateways=gateways, settings=settings,
                               payment_id=payment_id, user_id=who.user_id, check=False)  # fmt: skip
    async with session.begin():
        fresh = await session.get(Order, order.id, populate_existing=True)
    assert fresh is not None
    return fresh

"""The payment operations of the API, each a short transaction, the provider's call outside
any, and a short transaction for its answer (see provider_calls.py for why)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, PaymentError
from app.payments.registry import Gateways
from app.services.checkout.complete import PaymentData, complete_checkout
from app.services.orders.audit import audit
from app.services.payments.provider_calls import (
    capture_payment,
    execute_refund,
    start_payment,
    sync_payment,
    void_payment,
)
from app.services.payments.refunds import RefundData, request_refund
from app.settings import Settings
from models.orders import Order
from models.payments import Payment, Refund


async def checkout_and_pay(
    session: AsyncSession,
    *,
    cart_token: str,
    user_id: int | None,
    idempotency_key: str,
    payment: PaymentData,
    settings: Settings,
    gateways: Gateways,
) -> Order:
    """checkoutComplete: place the order (one transaction), then start a remote payment."""
    async with session.begin():
        placed = await complete_checkout(
            session, cart_token=cart_token, user_id=user_id, idempotency_key=idempotency_key,
            payment=payment, settings=settings, gateways=gateways,
        )  # fmt: skip
    if placed.start_payment_id is not None:
        await start_payment(
            session, gateways=gateways, settings=settings, payment_id=placed.start_payment_id
        )
    return placed.order


async def _order(session: AsyncSession, order_id: int) -> Order:
    async with session.begin():
        order = await session.get(Order, order_id, populate_existing=True)
    assert order is not None
    return order


async def confirm_payment(
    session: AsyncSession, *, order_token: str, settings: Settings, gateways: Gateways
) -> Order:
    """After the customer confirmed (3-D Secure) or approved (PayPal) at the provider: ask it
    where the order's payment stands and record that (capturing an approval)."""
    async with session.begin():
        order = (
            await session.scalar(select(Order).where(Order.token == order_token))
            if order_token
            else None
        )
        if order is None:
            raise PaymentError(ErrorCode.NOT_FOUND, "No such order.", field="orderToken")
        payment_id = await session.scalar(
            select(Payment.id)
            .where(Payment.order_id == order.id, Payment.psp_reference != "")
            .order_by(Payment.id.desc())
            .limit(1)
        )
    if payment_id is None:
        raise PaymentError(
            ErrorCode.PAYMENT_GATEWAY_UNAVAILABLE,
            "The payment has not started at its provider yet; repeat checkoutComplete with "
            "the same idempotency key.",
            field="orderToken",
        )
    await sync_payment(session, gateways=gateways, settings=settings, payment_id=payment_id)
    return await _order(session, order.id)


async def refund_order(
    session: AsyncSession,
    *,
    order_id: int,
    data: RefundData,
    user_id: int | None,
    settings: Settings,
    gateways: Gateways,
) -> Refund:
    """orderRefund: reserve and record the refund, then carry it out at the provider."""
    async with session.begin():
        refund = await request_refund(session, order_id=order_id, data=data, user_id=user_id)
        audit(session, order_id=refund.order_id, user_id=user_id, action="refund.request",
              details={"refundId": refund.id, "amount": refund.amount,
                       "currency": refund.currency})  # fmt: skip
    return await execute_refund(session, gateways=gateways, settings=settings, refund_id=refund.id)


async def _payment(session: AsyncSession, payment_id: int) -> Payment:
    async with session.begin():
        payment = await session.get(Payment, payment_id, populate_existing=True)
    if payment is None:
        raise PaymentError(ErrorCode.NOT_FOUND, "No such payment.", field="paymentId")
    return payment


async def _staff_call(
    session: AsyncSession,
    call: Callable[..., Awaitable[None]],
    *,
    payment_id: int,
    user_id: int | None,
    settings: Settings,
    gateways: Gateways,
    action: str,
) -> Payment:
    await _payment(session, payment_id)
    # The audit row goes in with the provider's answer, in the transaction that records it.
    await call(session, gateways=gateways, settings=settings, payment_id=payment_id,
               user_id=user_id, audit_action=action)  # fmt: skip
    return await _payment(session, payment_id)


async def capture(session: AsyncSession, **kwargs: Any) -> Payment:
    """orderPaymentCapture (staff): payment_id, user_id, settings, gateways."""
    return await _staff_call(session, capture_payment, action="payment.capture", **kwargs)


async def void(session: AsyncSession, **kwargs: Any) -> Payment:
    """orderPaymentVoid (staff): payment_id, user_id, settings, gateways."""
    return await _staff_call(session, void_payment, action="payment.void", **kwargs)

"""Calls to a payment provider, each outside any transaction, and the short transaction that
records its answer.

These are the only service functions that open transactions themselves (`session.begin()`):
a provider's answer can take seconds, and no row lock may be held meanwhile (a checkout
waiting on the stock rows of a shopper whose bank is slow). Every call carries an
idempotency key fixed by the payment attempt or the refund, so a call repeated after a
timeout or a crash reaches the provider as a replay, never as a second charge or refund.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, PaymentError
from app.payments.gateway import (
    GatewayRefused,
    GatewayUnavailable,
    Movement,
    MovementKind,
    MovementStatus,
    PaymentGateway,
    PaymentStatus,
    Snapshot,
    StartRequest,
)
from app.payments.registry import Gateways
from app.services.orders.audit import audit
from app.services.payments.records import (
    Followups,
    apply_snapshot,
    locked_payment,
    record_movement,
    settle_refund,
    succeeded_total,
    sync_refund_status,
    transactions_of,
)
from app.settings import Settings
from models.orders import Order
from models.payments import Payment, Refund

log = logging.getLogger(__name__)

# A refund the provider could not be asked about is tried again after this, doubling.
REFUND_RETRY_BASE_SECONDS = 30.0
REFUND_RETRY_CAP_SECONDS = 3_600.0


def gateway_of(gateways: Gateways, payment: Payment) -> PaymentGateway:
    gateway = gateways.enabled(payment.gateway)
    if gateway is None:
        raise PaymentError(
            ErrorCode.PAYMENT_GATEWAY_DISABLED,
            f"{payment.gateway} is no longer enabled in this shop (PAYMENT_GATEWAYS).",
        )
    return gateway


def unavailable(gateway: str) -> PaymentError:
    return PaymentError(
        ErrorCode.PAYMENT_GATEWAY_UNAVAILABLE,
        f"{gateway} did not answer; nothing was charged twice: try again in a moment.",
    )


async def _read(session: AsyncSession, payment_id: int) -> tuple[Payment, Order]:
    async with session.begin():
        payment = await session.get(Payment, payment_id, populate_existing=True)
        assert payment is not None
        order = await session.get(Order, payment.order_id, populate_existing=True)
        assert order is not None
    return payment, order


async def record(
    session: AsyncSession,
    *,
    payment_id: int,
    snapshot: Snapshot,
    settings: Settings,
    user_id: int | None = None,
    client_secret: str = "",
    approval_url: str = "",
    audit_action: str | None = None,
) -> Followups:
    """One transaction: lock the payment and apply the provider's answer (with the audit row
    of the staff action that asked for it, if any: both commit or neither)."""
    async with session.begin():
        payment, order = await locked_payment(session, payment_id)
        if client_secret:
            payment.client_secret = client_secret[:255]
        if approval_url:
            payment.approval_url = approval_url[:2000]
        followups = await apply_snapshot(
            session, payment=payment, order=order, snapshot=snapshot, settings=settings,
            user_id=user_id,
        )  # fmt: skip
        if audit_action is not None:
            audit(session, order_id=order.id, user_id=user_id, action=audit_action,
                  details={"paymentId": payment.id, "status": payment.status})  # fmt: skip
        return followups


async def start_payment(
    session: AsyncSession, *, gateways: Gateways, settings: Settings, payment_id: int
) -> None:
    """Create the payment at its provider and record its reference and client data.

    Repeating it (a client's retry of checkoutComplete after PAYMENT_GATEWAY_UNAVAILABLE)
    sends the same idempotency key: the provider answers with the same payment.
    """
    payment, order = await _read(session, payment_id)
    gateway = gateway_of(gateways, payment)
    request = StartRequest(
        amount=payment.amount,
        currency=payment.currency,
        token="",
        idempotency_key=payment.attempt_key,
        order_id=order.id,
        order_number=order.number,
        capture=payment.capture_mode == "automatic",
    )
    try:
        started = await gateway.start(request)
    except GatewayUnavailable as exc:
        log.warning("starting payment %s at %s failed: %s", payment_id, gateway.name, exc)
        raise unavailable(gateway.name) from exc
    except GatewayRefused as exc:
        await _refused(session, payment_id, exc, reference=f"start:{payment.attempt_key}")
        raise PaymentError(ErrorCode.PAYMENT_GATEWAY_ERROR, exc.message) from exc
    await record(
        session, payment_id=payment_id, snapshot=started.snapshot, settings=settings,
        client_secret=started.client_secret, approval_url=started.approval_url,
    )  # fmt: skip


async def _refused(
    session: AsyncSession, payment_id: int, exc: GatewayRefused, *, reference: str
) -> None:
    """A provider's no is a failure transaction on the payment."""
    async with session.begin():
        payment, _ = await locked_payment(session, payment_id)
        known = await transactions_of(session, payment)
        record_movement(session, payment, known, Movement(
            MovementKind.FAILURE, MovementStatus.FAILED, reference, payment.amount,
            payment.currency, message=exc.message, raw=exc.raw,
        ))  # fmt: skip
        if not payment.psp_reference:
            payment.status = "failed"
        payment.message = exc.message[:500]


async def current_state(
    session: AsyncSession, *, gateway: PaymentGateway, payment: Payment, order_status: str
) -> Snapshot:
    """The provider's word on the payment now. An automatic-capture payment that holds
    money for an open order (a PayPal approval) is captured first, with the attempt's
    capture key; a decline at that capture is a failure transaction and PAYMENT_DECLINED."""
    try:
        snapshot = await gateway.fetch(payment.psp_reference)
    except GatewayUnavailable as exc:
        raise unavailable(gateway.name) from exc
    except GatewayRefused as exc:  # a refused read is no failure of the payment: no record
        raise PaymentError(ErrorCode.PAYMENT_GATEWAY_ERROR, exc.message) from exc
    if (
        snapshot.status is PaymentStatus.AUTHORIZED
        and payment.capture_mode == "automatic"
        and order_status != "cancelled"
    ):
        try:
            snapshot = await gateway.capture(
                payment.psp_reference, amount=snapshot.authorized, currency=payment.currency,
                idempotency_key=f"{payment.attempt_key}:capture",
            )  # fmt: skip
        except GatewayUnavailable as exc:
            raise unavailable(gateway.name) from exc
        except GatewayRefused as exc:  # the approved instrument was declined at capture
            await _refused(session, payment.id, exc, reference=f"capture:{payment.attempt_key}")
            raise PaymentError(ErrorCode.PAYMENT_DECLINED, exc.message) from exc
    return snapshot


async def sync_payment(
    session: AsyncSession,
    *,
    gateways: Gateways,
    settings: Settings,
    payment_id: int,
    user_id: int | None = None,
) -> Followups:
    """Ask the provider where the payment stands (capturing what an automatic-capture
    payment holds), record it, then carry out what follows (refund, void)."""
    payment, order = await _read(session, payment_id)
    if not payment.psp_reference:
        return Followups()
    snapshot = await current_state(
        session, gateway=gateway_of(gateways, payment), payment=payment, order_status=order.status
    )
    followups = await record(
        session, payment_id=payment_id, snapshot=snapshot, settings=settings, user_id=user_id
    )
    await run_followups(session, gateways=gateways, settings=settings, payment_id=payment_id,
                        followups=followups)  # fmt: skip
    return followups


async def capture_payment(
    session: AsyncSession,
    *,
    gateways: Gateways,
    settings: Settings,
    payment_id: int,
    user_id: int | None,
    audit_action: str | None = None,
) -> None:
    """Capture what an authorised payment holds (staff, STRIPE_CAPTURE=manual)."""
    payment, order = await _read(session, payment_id)
    if payment.status != "authorized" or order.status == "cancelled":
        raise PaymentError(
            ErrorCode.PAYMENT_NOT_CAPTURABLE,
            "Only an authorised payment of an open order can be captured.",
            field="paymentId",
        )
    gateway = gateway_of(gateways, payment)
    try:
        snapshot = await gateway.capture(
            payment.psp_reference, amount=payment.authorized_amount, currency=payment.currency,
            idempotency_key=f"{payment.attempt_key}:capture",
        )  # fmt: skip
    except GatewayUnavailable as exc:
        raise unavailable(gateway.name) from exc
    except GatewayRefused as exc:
        await _refused(session, payment_id, exc, reference=f"capture:{payment.attempt_key}")
        raise PaymentError(ErrorCode.PAYMENT_GATEWAY_ERROR, exc.message) from exc
    await record(session, payment_id=payment_id, snapshot=snapshot, settings=settings,
                 user_id=user_id, audit_action=audit_action)  # fmt: skip


async def void_payment(
    session: AsyncSession,
    *,
    gateways: Gateways,
    settings: Settings,
    payment_id: int,
    user_id: int | None,
    check: bool = True,
    audit_action: str | None = None,
) -> None:
    """Release what a payment holds, or stop a payment never completed."""
    payment, _ = await _read(session, payment_id)
    if check and payment.status not in ("authorized", "pending"):
        raise PaymentError(
            ErrorCode.PAYMENT_NOT_VOIDABLE,
            "Only a pending or authorised payment can be voided; refund a captured one.",
            field="paymentId",
        )
    gateway = gateway_of(gateways, payment)
    if not payment.psp_reference:
        return
    try:
        snapshot = await gateway.void(
            payment.psp_reference, idempotency_key=f"{payment.attempt_key}:void"
        )
    except GatewayUnavailable as exc:
        raise unavailable(gateway.name) from exc
    except GatewayRefused as exc:
        if not check:  # it succeeded meanwhile: the records follow the provider
            await sync_payment(session, gateways=gateways, settings=settings,
                               payment_id=payment_id)  # fmt: skip
            return
        raise PaymentError(ErrorCode.PAYMENT_NOT_VOIDABLE, exc.message) from exc
    await record(session, payment_id=payment_id, snapshot=snapshot, settings=settings,
                 user_id=user_id, audit_action=audit_action)  # fmt: skip


async def run_followups(
    session: AsyncSession,
    *,
    gateways: Gateways,
    settings: Settings,
    payment_id: int,
    followups: Followups,
) -> None:
    """Carry out, after the commit, what recording an answer asked for."""
    for refund_id in followups.refunds:
        await execute_refund(session, gateways=gateways, settings=settings, refund_id=refund_id)
    if followups.void:
        try:
            await void_payment(session, gateways=gateways, settings=settings,
                               payment_id=payment_id, user_id=None, check=False)  # fmt: skip
        except PaymentError as exc:  # the worker's next pass tries again
            log.warning("voiding payment %s failed: %s", payment_id, exc.message)


async def _settle_by_fetch(
    session: AsyncSession, *, gateways: Gateways, settings: Settings, refund: Refund
) -> Refund:
    try:
        await sync_payment(session, gateways=gateways, settings=settings,
                           payment_id=refund.payment_id)  # fmt: skip
    except PaymentError as exc:
        log.warning("refund %s: %s", refund.id, exc.message)
    async with session.begin():
        fresh = await session.get(Refund, refund.id, populate_existing=True)
        assert fresh is not None
        if fresh.status == "pending":
            fresh.attempts += 1
            fresh.next_attempt_at = datetime.now(UTC) + _backoff(fresh.attempts)
    return fresh


def _backoff(attempts: int) -> timedelta:
    seconds = min(REFUND_RETRY_BASE_SECONDS * 2 ** min(attempts, 20), REFUND_RETRY_CAP_SECONDS)
    return timedelta(seconds=seconds)


async def execute_refund(
    session: AsyncSession, *, gateways: Gateways, settings: Settings, refund_id: int
) -> Refund:
    """Ask the provider for a pending refund and record its answer; a provider that does not
    answer leaves it pending for the worker (same idempotency key: one refund at most)."""
    async with session.begin():
        refund = await session.get(Refund, refund_id, populate_existing=True)
        assert refund is not None
        payment = await session.get(Payment, refund.payment_id, populate_existing=True)
        assert payment is not None
    if refund.status != "pending" or refund.origin == "provider":
        return refund
    if refund.psp_reference:
        # The provider took it and has not settled it: ask where it stands, never ask for
        # it again (an idempotency key expires; a second request could refund twice).
        return await _settle_by_fetch(session, gateways=gateways, settings=settings,
                                      refund=refund)  # fmt: skip
    gateway = gateway_of(gateways, payment)
    try:
        movement = await gateway.refund(
            payment.psp_reference, amount=refund.amount, currency=refund.currency,
            idempotency_key=f"{payment.attempt_key}:refund:{refund.id}",
            our_reference=str(refund.id),
        )  # fmt: skip
    except GatewayUnavailable:
        async with session.begin():
            refund = await session.get(Refund, refund_id, populate_existing=True)
            assert refund is not None
            refund.attempts += 1
            refund.next_attempt_at = datetime.now(UTC) + _backoff(refund.attempts)
            refund.message = f"{gateway.name} did not answer; retried automatically."
        return refund
    except GatewayRefused as exc:
        movement = Movement(
            MovementKind.REFUND, MovementStatus.FAILED, f"refused:{refund.id}", refund.amount,
            refund.currency, our_reference=str(refund.id), message=exc.message, raw=exc.raw,
        )  # fmt: skip
    async with session.begin():
        payment, order = await locked_payment(session, refund.payment_id)
        refund = await session.get(Refund, refund_id, populate_existing=True)
        assert refund is not None
        known = await transactions_of(session, payment)
        if movement.status is not MovementStatus.FAILED:
            refund.psp_reference = movement.psp_reference
        if movement.status is MovementStatus.PENDING:  # the worker looks again later
            refund.attempts += 1
            refund.next_attempt_at = datetime.now(UTC) + _backoff(refund.attempts)
        refund.message = movement.message[:500]
        record_movement(session, payment, known, movement, refund_id=refund.id)
        await settle_refund(session, refund=refund, payment=payment, order=order,
                            status=movement.status, settings=settings)  # fmt: skip
        payment.refunded_amount = min(
            succeeded_total(known, MovementKind.REFUND), payment.captured_amount
        )
        await sync_refund_status(session, order, user_id=refund.user_id)
    return refund

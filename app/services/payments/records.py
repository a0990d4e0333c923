"""What the provider's word does to our records: its movements become transaction rows (one
per provider reference, however often reported), the payment's sums and status follow, the
order moves to authorized or paid (with its invoice), refunds settle (with their credit
note and the customer's notice), and a payment that succeeded after its order was cancelled
gets an automatic refund.

Callers hold the payment row locked (`locked_payment`) for the whole of `apply_snapshot`: a
webhook, a fetch after a confirmation and a refund's answer for one payment apply one after
the other, never interleaved. `apply_snapshot` is idempotent and only moves forward, so any
order of events, each followed by a fetch of the current state, ends in the same records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.money import to_major
from app.payments.gateway import Movement, MovementKind, MovementStatus, PaymentStatus, Snapshot
from app.services.notifications.outbox import enqueue
from app.services.orders.events import record_status
from app.services.orders.transitions import move_if_allowed
from app.services.payments.invoices import issue_credit_note, issue_invoice
from app.settings import Settings
from models.orders import Order
from models.payments import Payment, PaymentTransaction, Refund

STATUS = {
    PaymentStatus.PENDING: "pending",
    PaymentStatus.AUTHORIZED: "authorized",
    PaymentStatus.SUCCEEDED: "succeeded",
    PaymentStatus.DECLINED: "declined",
    PaymentStatus.CANCELLED: "cancelled",
}
REFUND_TEMPLATE = "refund_issued"
# The worker leaves a new refund to the request that made it for this long.
REFUND_GRACE_SECONDS = 60.0


def first_worker_attempt() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=REFUND_GRACE_SECONDS)


@dataclass
class Followups:
    """What must happen at the provider once the caller committed."""

    refunds: list[int] = field(default_factory=list)  # refunds to carry out
    void: bool = False  # the payment holds money for a cancelled order


async def locked_payment(session: AsyncSession, payment_id: int) -> tuple[Payment, Order]:
    """The payment and its order, both locked (order first, as every writer locks them)."""
    order_id = await session.scalar(select(Payment.order_id).where(Payment.id == payment_id))
    order = await session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payment = await session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert order is not None and payment is not None
    return payment, order


async def transactions_of(
    session: AsyncSession, payment: Payment
) -> dict[tuple[str, str], PaymentTransaction]:
    rows = await session.scalars(
        select(PaymentTransaction)
        .where(PaymentTransaction.payment_id == payment.id)
        .execution_options(populate_existing=True)
    )
    return {(row.kind, row.psp_reference): row for row in rows}


async def locked_payments_of(session: AsyncSession, order_id: int) -> list[Payment]:
    """An order's payments, locked in id order (the caller holds the order's lock)."""
    rows = await session.scalars(
        select(Payment)
        .where(Payment.order_id == order_id)
        .order_by(Payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(rows)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {_without_nul(str(key)): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return value


def storable(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The provider's answer as JSONB takes it: PostgreSQL refuses NUL in jsonb text."""
    value: dict[str, Any] = _without_nul(orjson.loads(orjson.dumps(raw, default=str)))
    return value


def record_movement(
    session: AsyncSession,
    payment: Payment,
    known: dict[tuple[str, str], PaymentTransaction],
    movement: Movement,
    *,
    refund_id: int | None = None,
) -> bool:
    """Add the movement's transaction row, or settle its pending one; whether either did."""
    key = (movement.kind.value, movement.psp_reference)
    row = known.get(key)
    if row is None:
        row = PaymentTransaction(
            payment_id=payment.id,
            order_id=payment.order_id,
            refund_id=refund_id,
            gateway=payment.gateway,
            kind=movement.kind.value,
            status=movement.status.value,
            amount=movement.amount,
            currency=movement.currency or payment.currency,
            psp_reference=movement.psp_reference,
            message=movement.message[:500].replace("\x00", ""),
            raw=storable(movement.raw),
        )
        session.add(row)
        known[key] = row
        return True
    if row.status == MovementStatus.PENDING.value and movement.status is not MovementStatus.PENDING:
        row.status = movement.status.value
        row.amount = movement.amount
        row.raw = storable(movement.raw)
        row.refund_id = row.refund_id or refund_id
        return True
    return False


def succeeded_total(known: dict[tuple[str, str], PaymentTransaction], kind: MovementKind) -> int:
    """What the succeeded transactions of `kind` add up to."""
    return sum(
        row.amount
        for row in known.values()
        if row.kind == kind.value and row.status == MovementStatus.SUCCEEDED.value
    )


async def _refund_of(session: AsyncSession, payment: Payment, movement: Movement) -> Refund | None:
    query = select(Refund).where(Refund.payment_id == payment.id)
    reference = movement.our_reference
    # The provider echoes what we sent, but a dashboard user can set it too: only plain
    # ASCII digits are one of our ids ("²".isdigit() is True and int() refuses it).
    if reference.isascii() and reference.isdigit() and len(reference) < 19:
        query = query.where(Refund.id == int(reference))
    else:
        query = query.where(Refund.psp_reference == movement.psp_reference)
    return await session.scalar(query.execution_options(populate_existing=True))


async def settle_refund(
    session: AsyncSession,
    *,
    refund: Refund,
    payment: Payment,
    order: Order,
    status: MovementStatus,
    settings: Settings,
) -> None:
    """A pending refund's final answer: release its reservation; on success a credit note
    and the customer's notice."""
    if refund.status != "pending" or status is MovementStatus.PENDING:
        return
    if refund.origin != "provider":
        payment.refund_reserved_amount -= refund.amount
    refund.status = "succeeded" if status is MovementStatus.SUCCEEDED else "failed"
    if refund.status != "succeeded":
        return
    await session.flush()
    await issue_credit_note(session, refund=refund, order=order, settings=settings)
    await enqueue(
        session,
        user_id=order.user_id,
        kind="order_updates",
        channel="email",
        recipient=order.email,
        template=REFUND_TEMPLATE,
        payload={
            "event": "refund_issued",
            "orderId": order.id,
            "number": order.number,
            "refundId": refund.id,
            "amount": str(to_major(refund.amount, refund.currency)),
            "currency": refund.currency,
        },
        flush=False,
    )


async def sync_refund_status(session: AsyncSession, order: Order, *, user_id: int | None) -> None:
    """After refunds settled, the (locked) order becomes refunded when everything captured went
    back, partially_refunded when some did, wherever the state machine allows it (a cancelled
    order stays cancelled). Call it once the payments' refunded amounts are up to date."""
    await session.flush()
    captured, refunded = (
        await session.execute(
            select(
                func.coalesce(func.sum(Payment.captured_amount), 0),
                func.coalesce(func.sum(Payment.refunded_amount), 0),
            ).where(Payment.order_id == order.id)
        )
    ).one()
    if not refunded:
        return
    to_status = "refunded" if refunded >= captured else "partially_refunded"
    await move_if_allowed(session, order, to_status, user_id=user_id)


async def _apply_refund(
    session: AsyncSession,
    payment: Payment,
    order: Order,
    known: dict[tuple[str, str], PaymentTransaction],
    movement: Movement,
    settings: Settings,
) -> None:
    refund = await _refund_of(session, payment, movement)
    if refund is None:  # made at the provider, not through us: recorded all the same
        refund = Refund(
            order_id=order.id,
            payment_id=payment.id,
            status="pending",
            amount=movement.amount,
            currency=payment.currency,
            origin="provider",
            reason=f"Refunded at {payment.gateway}",
            psp_reference=movement.psp_reference,
        )
        session.add(refund)
        await session.flush()
    refund.psp_reference = refund.psp_reference or movement.psp_reference
    record_movement(session, payment, known, movement, refund_id=refund.id)
    await settle_refund(
        session, refund=refund, payment=payment, order=order, status=movement.status,
        settings=settings,
    )  # fmt: skip


async def apply_snapshot(
    session: AsyncSession,
    *,
    payment: Payment,
    order: Order,
    snapshot: Snapshot,
    settings: Settings,
    user_id: int | None = None,
    new_payment: bool = False,
) -> Followups:
    """Bring the (locked) payment and its order to what the provider says now
    (`new_payment`: created in this transaction, so it has no transactions to read)."""
    known = {} if new_payment else await transactions_of(session, payment)
    if not payment.psp_reference:
        payment.psp_reference = snapshot.psp_reference
    for movement in snapshot.movements:
        if movement.kind is MovementKind.REFUND:
            await _apply_refund(session, payment, order, known, movement, settings)
        else:
            record_movement(session, payment, known, movement)
    held_before = payment.authorized_amount
    if (
        snapshot.status is PaymentStatus.CANCELLED
        and held_before
        and not any(m.kind is MovementKind.VOID for m in snapshot.movements)
    ):
        record_movement(session, payment, known, Movement(
            MovementKind.VOID, MovementStatus.SUCCEEDED, f"{snapshot.psp_reference}:void",
            held_before, payment.currency,
        ))  # fmt: skip
    payment.captured_amount = max(
        payment.captured_amount, succeeded_total(known, MovementKind.CAPTURE)
    )
    payment.refunded_amount = min(
        succeeded_total(known, MovementKind.REFUND), payment.captured_amount
    )
    payment.authorized_amount = snapshot.authorized
    payment.status = STATUS[snapshot.status]
    payment.message = snapshot.message[:500]
    followups = Followups()
    await _move_order(session, payment, order, snapshot, settings, user_id)
    if payment.refunded_amount:
        await sync_refund_status(session, order, user_id=None)
    if order.status == "cancelled":
        followups.void = snapshot.status is PaymentStatus.AUTHORIZED
        left = payment.captured_amount - payment.refunded_amount - payment.refund_reserved_amount
        if left > 0:
            followups.refunds.append(await _late_payment_refund(session, payment, order, left))
    await session.flush()
    return followups


async def _move_order(
    session: AsyncSession,
    payment: Payment,
    order: Order,
    snapshot: Snapshot,
    settings: Settings,
    user_id: int | None,
) -> None:
    if order.status in ("pending_payment", "authorized") and (
        payment.captured_amount >= payment.amount
    ):
        await record_status(session, order, "paid", user_id)
        await session.flush()
        await issue_invoice(session, order=order, settings=settings)
    elif order.status == "pending_payment" and snapshot.status is PaymentStatus.AUTHORIZED:
        await record_status(session, order, "authorized", user_id)
    elif order.status == "authorized" and snapshot.status in (
        PaymentStatus.CANCELLED,
        PaymentStatus.DECLINED,
    ):
        # The hold ended (voided, or expired at the provider): waiting for a payment again.
        await record_status(session, order, "pending_payment", user_id)


async def _late_payment_refund(
    session: AsyncSession, payment: Payment, order: Order, amount: int
) -> int:
    """A payment that succeeded after its order was cancelled is given back, recorded."""
    refund = await reserve_refund(
        session, payment=payment, order=order, amount=amount,
        reason="The payment arrived after the order was cancelled.",
    )  # fmt: skip
    return refund.id


async def reserve_refund(
    session: AsyncSession, *, payment: Payment, order: Order, amount: int, reason: str,
    user_id: int | None = None,
) -> Refund:  # fmt: skip
    """A pending refund made by the rules, its amount reserved on the (locked) payment."""
    refund = Refund(
        order_id=order.id,
        payment_id=payment.id,
        status="pending",
        amount=amount,
        currency=payment.currency,
        origin="automatic",
        reason=reason,
        user_id=user_id,
        # The caller asks the provider right after the commit; the worker only later.
        next_attempt_at=first_worker_attempt(),
    )
    payment.refund_reserved_amount += amount
    session.add(refund)
    await session.flush()
    return refund

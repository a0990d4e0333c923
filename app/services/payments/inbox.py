"""The webhook inbox: every verified provider call is written once, unique on (provider,
event id), in the same transaction as its effect.

An event is a hint, not the truth: its effect is to fetch the payment's current state from
the provider and apply it (records.apply_snapshot), so events arriving twice, late or out
of order (a refund before the success, a success after a cancellation) all end in the same
records. An event that cannot be applied now (the provider does not answer, the payment is
not known yet) is kept as `failed` with its error and retried by the worker with backoff;
staff see it (`webhookEvents(status: FAILED)`) and may replay it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, null, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ErrorCode, PaymentError
from app.payments.gateway import (
    Snapshot,
)
from app.payments.gateway import (
    WebhookEvent as Event,
)
from app.payments.registry import Gateways
from app.services.payments.provider_calls import current_state, gateway_of, run_followups
from app.services.payments.records import Followups, apply_snapshot, locked_payment
from app.settings import Settings
from models.orders import Order
from models.payments import Payment, WebhookEvent

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 10.0
RETRY_CAP_SECONDS = 3_600.0
# After this many failed attempts an event stays failed until staff replay it.
MAX_ATTEMPTS = 12
BATCH = 50


@dataclass(frozen=True)
class Outcome:
    """What the shim answers: `processed`, `duplicate`, `ignored` or `failed` (kept, retried)."""

    status: str
    event_id: str


class _NotYet(Exception):
    """The event cannot be applied now; kept as failed and retried."""


def _due(attempts: int, now: datetime) -> datetime | None:
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** (attempts - 1), RETRY_CAP_SECONDS))


def _next_attempt(now: datetime) -> Any:
    """In SQL, for a stored event failing again: backoff on its attempts so far."""
    delay = func.least(RETRY_BASE_SECONDS * func.power(2, WebhookEvent.attempts), RETRY_CAP_SECONDS)
    return case(
        (WebhookEvent.attempts + 1 >= MAX_ATTEMPTS, null()),
        else_=literal(now) + func.make_interval(0, 0, 0, 0, 0, 0, delay),
    )


async def _payment_of(session: AsyncSession, provider: str, psp_reference: str) -> Payment | None:
    if not psp_reference:
        return None
    async with session.begin():
        return await session.scalar(
            select(Payment).where(
                Payment.gateway == provider, Payment.psp_reference == psp_reference
            )
        )


async def _current(session: AsyncSession, gateways: Gateways, payment: Payment) -> Snapshot:
    """The provider's word now (provider_calls.current_state), for the order as it is."""
    async with session.begin():
        status = await session.scalar(select(Order.status).where(Order.id == payment.order_id))
    return await current_state(
        session, gateway=gateway_of(gateways, payment), payment=payment,
        order_status=status or "",
    )  # fmt: skip


async def _store_failure(
    session: AsyncSession, *, provider: str, event: Event, body: str, error: str, now: datetime
) -> Outcome:
    async with session.begin():
        inserted = await session.scalar(
            insert(WebhookEvent)
            .values(
                provider=provider, event_id=event.event_id, event_type=event.event_type[:100],
                psp_reference=event.psp_reference[:255], body=body, status="failed", attempts=1,
                last_error=error[:1000], next_attempt_at=_due(1, now),
            )
            .on_conflict_do_update(
                index_elements=[WebhookEvent.provider, WebhookEvent.event_id],
                set_={
                    "attempts": WebhookEvent.attempts + 1,
                    "last_error": error[:1000],
                    "next_attempt_at": _next_attempt(now),
                },
                where=WebhookEvent.status == "failed",
            )
            .returning(WebhookEvent.id)
        )  # fmt: skip
    return Outcome("failed" if inserted is not None else "duplicate", event.event_id)


async def _apply(
    session: AsyncSession,
    *,
    provider: str,
    event: Event,
    body: str,
    payment: Payment | None,
    snapshot: Snapshot | None,
    settings: Settings,
    now: datetime,
) -> tuple[Outcome, Followups]:
    """One transaction: claim the inbox row (or find it already processed) and apply."""
    status = "processed" if payment is not None else "ignored"
    async with session.begin():
        claimed = await session.scalar(
            insert(WebhookEvent)
            .values(
                provider=provider, event_id=event.event_id, event_type=event.event_type[:100],
                psp_reference=event.psp_reference[:255], body=body, status=status, attempts=1,
                processed_at=now,
            )
            .on_conflict_do_update(
                index_elements=[WebhookEvent.provider, WebhookEvent.event_id],
                set_={"status": status, "attempts": WebhookEvent.attempts + 1,
                      "last_error": "", "next_attempt_at": None, "processed_at": now},
                where=WebhookEvent.status == "failed",
            )
            .returning(WebhookEvent.id)
        )  # fmt: skip
        if claimed is None:  # processed before (or by a delivery racing this one)
            return Outcome("duplicate", event.event_id), Followups()
        if payment is None or snapshot is None:
            return Outcome("ignored", event.event_id), Followups()
        locked, order = await locked_payment(session, payment.id)
        followups = await apply_snapshot(
            session, payment=locked, order=order, snapshot=snapshot, settings=settings
        )
    return Outcome("processed", event.event_id), followups


async def receive(
    session: AsyncSession,
    *,
    gateways: Gateways,
    settings: Settings,
    provider: str,
    event: Event,
    body: str,
    now: datetime | None = None,
) -> Outcome:
    """Apply one verified event exactly once; a duplicate changes nothing."""
    now = now or datetime.now(UTC)
    async with session.begin():
        done = await session.scalar(
            select(WebhookEvent.status).where(
                WebhookEvent.provider == provider, WebhookEvent.event_id == event.event_id
            )
        )
    if done in ("processed", "ignored"):
        return Outcome("duplicate", event.event_id)
    payment = await _payment_of(session, provider, event.psp_reference)
    snapshot = None
    try:
        if payment is None and event.psp_reference:
            # Our record of the payment may not be committed yet (the start's answer races
            # its first event): keep the event and look again shortly.
            raise _NotYet(f"no {provider} payment {event.psp_reference!r} (yet)")
        if payment is not None:
            snapshot = await _current(session, gateways, payment)
        outcome, followups = await _apply(
            session, provider=provider, event=event, body=body, payment=payment,
            snapshot=snapshot, settings=settings, now=now,
        )  # fmt: skip
    except (_NotYet, PaymentError) as exc:
        message = exc.message if isinstance(exc, PaymentError) else str(exc)
        log.warning("webhook %s %s not applied: %s", provider, event.event_id, message)
        return await _store_failure(
            session, provider=provider, event=event, body=body, error=message, now=now
        )
    if payment is not None and outcome.status == "processed":
        await run_followups(session, gateways=gateways, settings=settings,
                            payment_id=payment.id, followups=followups)  # fmt: skip
    return outcome


def _event_of(row: WebhookEvent) -> Event:
    return Event(row.event_id, row.event_type, row.psp_reference, {})


async def replay(
    session: AsyncSession, *, gateways: Gateways, settings: Settings, event_row_id: int
) -> WebhookEvent:
    """Apply a failed event again now (staff); WEBHOOK_EVENT_NOT_FAILED otherwise."""
    async with session.begin():
        row = await session.get(WebhookEvent, event_row_id, populate_existing=True)
    if row is None:
        raise PaymentError(ErrorCode.NOT_FOUND, "No such webhook event.", field="id")
    if row.status != "failed":
        raise PaymentError(
            ErrorCode.WEBHOOK_EVENT_NOT_FAILED, "Only a failed event can be replayed.", field="id"
        )
    if gateways.enabled(row.provider) is None:
        raise PaymentError(
            ErrorCode.PAYMENT_GATEWAY_DISABLED, f"{row.provider} is not enabled.", field="id"
        )
    await receive(session, gateways=gateways, settings=settings, provider=row.provider,
                  event=_event_of(row), body=row.body)  # fmt: skip
    async with session.begin():
        fresh = await session.get(WebhookEvent, event_row_id, populate_existing=True)
    assert fresh is not None
    return fresh


async def retry_failed(
    session: AsyncSession, *, gateways: Gateways, settings: Settings, now: datetime
) -> int:
    """The worker's pass over failed events that are due; how many were applied."""
    async with session.begin():
        rows = list(
            await session.scalars(
                select(WebhookEvent)
                .where(WebhookEvent.status == "failed", WebhookEvent.next_attempt_at <= now)
                .order_by(WebhookEvent.next_attempt_at, WebhookEvent.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        # Claim them for this pass: another worker's pass skips what this one took.
        if rows:
            await session.execute(
                update(WebhookEvent)
                .where(WebhookEvent.id.in_([row.id for row in rows]))
                .values(next_attempt_at=now + timedelta(seconds=RETRY_CAP_SECONDS))
                .execution_options(synchronize_session=False)
            )
    applied = 0
    for row in rows:
        if gateways.enabled(row.provider) is None:
            continue
        outcome = await receive(session, gateways=gateways, settings=settings,
                                provider=row.provider, event=_event_of(row), body=row.body,
                                now=now)  # fmt: skip
        applied += outcome.status in ("processed", "ignored")
    return applied

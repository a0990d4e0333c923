"""Telling an order's customer: email to the order's address, SMS to the account's phone and
web push to the account's browsers, each only where the customer's preference for the kind
allows it, in the account's locale. A guest gets email (their only address).

Every message is an outbox row in the caller's transaction: it goes only if that commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.services.notifications.outbox import enqueue
from app.services.notifications.preferences import DEFAULTS
from models.accounts import User
from models.notification_preferences import NotificationPreference
from models.orders import Order
from models.push_subscriptions import PushSubscription


async def _account(
    session: AsyncSession, user_id: int, kind: str
) -> tuple[str, str, bool, dict[str, bool]]:
    """(phone, locale, has push subscriptions, {channel: enabled}) in two statements."""
    row = (
        await session.execute(
            select(
                User.phone,
                User.locale,
                exists().where(PushSubscription.user_id == User.id),
            ).where(User.id == user_id)
        )
    ).one_or_none()
    if row is None:
        return "", "", False, {}
    stored = dict(
        (
            await session.execute(
                select(NotificationPreference.channel, NotificationPreference.enabled).where(
                    NotificationPreference.user_id == user_id,
                    NotificationPreference.kind == kind,
                )
            )
        ).all()
    )
    return row[0], row[1] or "", bool(row[2]), stored


async def notify_customer(
    session: AsyncSession,
    order: Order,
    *,
    kind: str,
    template: str,
    payload: dict[str, Any],
) -> int:
    """Queue `template` for the order's customer on every channel they take `kind` on; returns
    how many messages were queued. Nothing is flushed (the caller's next flush writes them)."""
    base = {**payload, "number": order.number, "orderId": order.id}
    if order.user_id is None:
        await enqueue(
            session, user_id=None, kind=kind, channel="email", recipient=order.email,
            template=template, payload=base, flush=False,
        )  # fmt: skip
        return 1
    phone, locale, has_push, stored = await _account(session, order.user_id, kind)

    def wanted(channel: str) -> bool:
        enabled = stored.get(channel)
        return DEFAULTS.get((kind, channel), False) if enabled is None else bool(enabled)

    recipients = {"email": order.email, "sms": phone, "push": str(order.user_id)}
    reachable = {"email": True, "sms": bool(phone), "push": has_push}
    queued = 0
    for channel in ("email", "sms", "push"):
        if not (reachable[channel] and wanted(channel)):
            continue
        await enqueue(
            session, user_id=order.user_id, kind=kind, channel=channel,
            recipient=recipients[channel], template=template,
            payload={**base, "locale": locale or "en"}, flush=False, preference_checked=True,
        )  # fmt: skip
        queued += 1
    return queued

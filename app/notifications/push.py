"""Web push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291), via pywebpush."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.notifications.channels import DeliveryError, Message
from app.notifications.templates import render
from app.settings import Settings
from models.push_subscriptions import PushSubscription

GONE = {404, 410}


def topic(idempotency_key: str) -> str:
    """The Topic header: at most 32 URL-safe base64 characters, derived from the key."""
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def push_payload(message: Message) -> str:
    rendered = render(message.template, message.payload, locale=message.payload.get("locale"))
    body = {"title": rendered.subject, "body": rendered.text.strip()}
    return json.dumps(body, ensure_ascii=False)


def load_vapid_key(value: str) -> Vapid02:
    """A PEM private key, or the raw 32-byte P-256 scalar in base64url."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return Vapid02.from_pem(value.encode())
    return Vapid02.from_raw(value.encode())  # it decodes the base64url itself


@dataclass(frozen=True)
class _Target:
    id: int
    endpoint: str
    p256dh: str
    auth: str


class WebPushChannel:
    """Sends one push per subscription of the message's user; 404/410 delete that
    subscription, 429/5xx/network errors raise DeliveryError (the worker retries)."""

    def __init__(
        self, settings: Settings, session_factory: async_sessionmaker[AsyncSession]
    ) -> None:
        if not settings.vapid_private_key:
            raise ValueError("VAPID_PRIVATE_KEY is not set")
        self.vapid = load_vapid_key(settings.vapid_private_key.get_secret_value())
        self.subject = settings.vapid_subject
        self.ttl = settings.push_ttl_seconds
        self.timeout = settings.push_timeout_seconds
        self.session_factory = session_factory

    async def _targets(self, user_id: int) -> list[_Target]:
        async with self.session_factory() as session:
            rows = await session.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id == user_id)
                .order_by(PushSubscription.id)
            )
            return [_Target(r.id, r.endpoint, r.p256dh, r.auth) for r in rows]

    async def _forget(self, subscription_id: int) -> None:
        async with self.session_factory() as session, session.begin():
            await session.execute(
                delete(PushSubscription).where(PushSubscription.id == subscription_id)
            )

    def _send(self, target: _Target, data: str, headers: dict[str, str | int | float]) -> int:
        parts = urlsplit(target.endpoint)
        claims = {"sub": self.subject, "aud": f"{parts.scheme}://{parts.netloc}"}
        try:
            response = webpush(
                subscription_info={
                    "endpoint": target.endpoint,
                    "keys": {"p256dh": target.p256dh, "auth": target.auth},
                },
                data=data,
                vapid_private_key=self.vapid,
                vapid_claims=claims,
                content_encoding="aes128gcm",
                headers=headers,
                ttl=self.ttl,
                timeout=self.timeout,
            )
        except WebPushException as exc:
            if exc.response is not None:
                return int(exc.response.status_code)
            raise DeliveryError(f"push: {exc}") from exc
        except requests.RequestException as exc:
            raise DeliveryError(f"push service unreachable: {type(exc).__name__}: {exc}") from exc
        return int(getattr(response, "status_code", 201))

    async def send(self, message: Message) -> None:
        user_id = message.user_id if message.user_id is not None else int(message.recipient)
        data = push_payload(message)
        headers: dict[str, str | int | float] = {
            "Topic": topic(message.idempotency_key),
            "Urgency": "normal",
        }
        failures: list[str] = []
        for target in await self._targets(user_id):
            status = await asyncio.to_thread(self._send, target, data, headers)
            if status in GONE:
                await self._forget(target.id)
            elif not 200 <= status < 300:
                failures.append(f"HTTP {status} from {urlsplit(target.endpoint).netloc}")
        if failures:
            raise DeliveryError("push service: " + "; ".join(failures))

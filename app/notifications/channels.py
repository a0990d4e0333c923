"""Delivery channels: SMTP for email when configured, else one file per message."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.notifications.templates import render
from app.services.notifications.preferences import is_locked, unsubscribe_token
from app.settings import Settings


class DeliveryError(Exception):
    """The provider did not take the message; the worker retries it later."""


@dataclass(frozen=True)
class Message:
    """What a channel needs to deliver one outbox row."""

    idempotency_key: str
    channel: str
    recipient: str
    template: str
    payload: dict[str, Any] = field(default_factory=dict)
    kind: str = "account_security"
    user_id: int | None = None

    @property
    def message_id(self) -> str:
        return f"<{self.idempotency_key}@commerce.notifications>"


class Channel(Protocol):
    async def send(self, message: Message) -> None:
        """Deliver `message`, or raise DeliveryError (retryable)."""


@dataclass(frozen=True)
class Unsubscribe:
    """Where one-click unsubscribe links point and the key that signs their tokens."""

    base_url: str
    key: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Unsubscribe:
        return cls(base_url=settings.public_base_url, key=settings.signing_key)

    def url(self, user_id: int, kind: str) -> str:
        token = unsubscribe_token(self.key, user_id, kind)
        return f"{self.base_url.rstrip('/')}/unsubscribe?{urlencode({'token': token})}"


def build_email(
    message: Message, *, sender: str, unsubscribe: Unsubscribe | None = None
) -> EmailMessage:
    """A multipart/alternative email (plain + HTML) carrying the idempotency key; mail that
    is not account security gets RFC 8058 one-click List-Unsubscribe headers."""
    rendered = render(message.template, message.payload, locale=message.payload.get("locale"))
    email = EmailMessage()
    email["Subject"] = rendered.subject
    email["From"] = sender
    email["To"] = message.recipient
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message.message_id
    email["X-Idempotency-Key"] = message.idempotency_key
    if unsubscribe is not None and message.user_id is not None and not is_locked(message.kind):
        email["List-Unsubscribe"] = f"<{unsubscribe.url(message.user_id, message.kind)}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    return email


class FileChannel:
    """Writes DATA_DIR/outbox/<key>.eml (email) or <key>.json (sms, push); rewrites are
    harmless because the name is the idempotency key."""

    def __init__(
        self, directory: Path, *, sender: str, unsubscribe: Unsubscribe | None = None
    ) -> None:
        self.directory = directory
        self.sender = sender
        self.unsubscribe = unsubscribe

    async def send(self, message: Message) -> None:
        if message.channel == "email":
            name = f"{message.idempotency_key}.eml"
            data = bytes(build_email(message, sender=self.sender, unsubscribe=self.unsubscribe))
        else:
            name = f"{message.idempotency_key}.json"
            body = {
                "idempotency_key": message.idempotency_key,
                "channel": message.channel,
                "recipient": message.recipient,
                "template": message.template,
                "payload": message.payload,
            }
            data = json.dumps(body, ensure_ascii=False, indent=2).encode()
        try:
            await asyncio.to_thread(self._write, name, data)
        except OSError as exc:
            raise DeliveryError(f"cannot write {name}: {exc}") from exc

    def _write(self, name: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        temporary.replace(self.directory / name)


class SmtpChannel:
    """Email through an SMTP relay with aiosmtplib; the idempotency key is the Message-ID."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: Message) -> None:
        s = self.settings
        email = build_email(message, sender=s.smtp_from, unsubscribe=Unsubscribe.from_settings(s))
        try:
            await aiosmtplib.send(
                email,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                use_tls=s.smtp_use_tls,
                start_tls=s.smtp_starttls and not s.smtp_use_tls,
                timeout=s.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP {s.smtp_host}:{s.smtp_port}: {exc}") from exc


class Router:
    """Email over SMTP when SMTP_HOST is set, SMS over the Twilio API when SMS_ACCOUNT_SID is
    set, web push when VAPID_PRIVATE_KEY is set (and a session factory is given), else files."""

    def __init__(
        self,
        settings: Settings,
        *,
        session_factory: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.files = FileChannel(
            settings.data_dir / "outbox",
            sender=settings.smtp_from,
            unsubscribe=Unsubscribe.from_settings(settings),
        )
        self.email: Channel = SmtpChannel(settings) if settings.smtp_host else self.files
        self.sms: Channel = self.files
        if settings.sms_account_sid:
            from app.notifications.sms import TwilioSmsChannel  # sms.py imports this module

            self.sms = TwilioSmsChannel(settings)
        self.push: Channel = self.files
        if settings.vapid_private_key and session_factory is not None:
            from app.notifications.push import WebPushChannel  # push.py imports this module

            self.push = WebPushChannel(settings, session_factory)

    async def send(self, message: Message) -> None:
        channels = {"email": self.email, "sms": self.sms, "push": self.push}
        channel = channels.get(message.channel, self.files)
        await channel.send(message)

"""SMS through a Twilio-compatible Messages API (POST .../Accounts/{sid}/Messages.json)."""

from __future__ import annotations

import httpx

from app.notifications.channels import DeliveryError, Message
from app.notifications.templates import render
from app.settings import Settings

MAX_BODY_CHARS = 1_600
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


def sms_body(message: Message) -> str:
    """The `.txt` part of the message's template, stripped and cut to 1600 characters."""
    rendered = render(message.template, message.payload, locale=message.payload.get("locale"))
    return rendered.text.strip()[:MAX_BODY_CHARS]


def _provider_error(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(data, dict):
        code = data.get("code")
        text = data.get("message") or response.text[:500]
        return f"{text} (code {code})" if code is not None else str(text)
    return response.text[:500]


class TwilioSmsChannel:
    """Sends an SMS per message; the idempotency key goes in I-Twilio-Idempotency-Token, so a
    repeat after a crash between sending and recording is dropped by the provider."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        if not settings.sms_account_sid:
            raise ValueError("SMS_ACCOUNT_SID is not set")
        self.account_sid = settings.sms_account_sid
        token = settings.sms_auth_token.get_secret_value() if settings.sms_auth_token else ""
        self.auth = httpx.BasicAuth(self.account_sid, token)
        self.sender = settings.sms_from
        base = settings.sms_api_url.rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        self.timeout = settings.sms_timeout_seconds
        self.transport = transport

    def _form(self, message: Message) -> dict[str, str]:
        form = {"To": message.recipient, "Body": sms_body(message)}
        if self.sender and self.sender.startswith("MG"):
            form["MessagingServiceSid"] = self.sender
        elif self.sender:
            form["From"] = self.sender
        return form

    async def send(self, message: Message) -> None:
        form = self._form(message)
        headers = {IDEMPOTENCY_HEADER: message.idempotency_key}
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout, transport=self.transport, auth=self.auth
            ) as client:
                response = await client.post(self.url, data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"SMS provider unreachable: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        raise DeliveryError(
            f"SMS provider HTTP {response.status_code}: {_provider_error(response)}"
        )

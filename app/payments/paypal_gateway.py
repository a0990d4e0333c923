"""PAYPAL: Orders v2 checkout, Payments v2 refunds and webhook verification over httpx.

The buyer approves the order in PayPal's UI (the approval link of `start`); the order is then
captured. Orders are created with intent CAPTURE only: an approved order holds no money, so
`void` needs no call. Decisions on amounts and refunds are in docs/decisions.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx

from app.payments.gateway import (
    GatewayRefused,
    GatewayUnavailable,
    Movement,
    MovementKind,
    MovementStatus,
    PaymentStatus,
    Snapshot,
    Started,
    StartRequest,
    WebhookEvent,
    WebhookRejected,
)
from app.payments.paypal_wire import (
    answer_shape,
    capturable,
    error_message,
    event_order_id,
    issue_of,
    last_path_part,
    link,
    order_snapshot,
    path_segment,
    refund_movement,
    refunded_capture_id,
    to_paypal_amount,
)
from app.settings import Settings

_SIGNATURE_HEADERS = (
    "paypal-auth-algo",
    "paypal-cert-url",
    "paypal-transmission-id",
    "paypal-transmission-sig",
    "paypal-transmission-time",
)
_REPRESENTATION = {"Prefer": "return=representation"}
DECLINED_MESSAGE = "PayPal declined this way to pay; please choose another one in PayPal."


class PayPalGateway:
    """A PaymentGateway speaking PayPal's REST API; one connection pool per gateway."""

    name = "PAYPAL"
    # Calls a remote provider: never from inside a transaction.
    in_process = False

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_base: str,
        webhook_id: str,
        return_url: str,
        cancel_url: str,
        timeout: float,
    ) -> None:
        self._credentials = (client_id, client_secret)
        self._webhook_id = webhook_id
        self._return_url = return_url
        self._cancel_url = cancel_url
        self._http = httpx.AsyncClient(base_url=api_base.rstrip("/"), timeout=timeout)
        self._token = ""
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> PayPalGateway:
        secret = settings.paypal_client_secret
        return cls(
            client_id=settings.paypal_client_id or "",
            client_secret=secret.get_secret_value() if secret else "",
            api_base=settings.paypal_api_base,
            webhook_id=settings.paypal_webhook_id or "",
            return_url=settings.paypal_return_url,
            cancel_url=settings.paypal_cancel_url,
            timeout=settings.payment_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- HTTP ------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:  # connection refused, timeout, protocol error
            raise GatewayUnavailable(f"PayPal did not answer {path}: {exc!r}") from exc

    @staticmethod
    def _answer(response: httpx.Response) -> dict[str, Any]:
        """The JSON body of a 2xx answer; the mapped exception otherwise."""
        status = response.status_code
        if status == 429 or status >= 500:
            raise GatewayUnavailable(f"PayPal answered {status} to {response.url.path}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if 200 <= status < 300:
                raise GatewayUnavailable(f"PayPal answered {status} without a JSON object")
            body = {"status": status, "text": response.text[:1000]}
        if not 200 <= status < 300:
            raise GatewayRefused(error_message(body), raw=body)
        return body

    async def _access_token(self, *, stale: str = "") -> str:
        """A cached token; one fetch at a time, and `stale` (a token just refused) is dropped."""
        async with self._token_lock:
            if self._token and self._token != stale and time.monotonic() < self._token_until:
                return self._token
            response = await self._send(
                "POST",
                "/v1/oauth2/token",
                auth=self._credentials,
                data={"grant_type": "client_credentials"},
                headers={"Accept": "application/json"},
            )
            body = self._answer(response)
            with answer_shape("token"):
                token = str(body["access_token"])
                lifetime = float(body["expires_in"])
            # Renew before PayPal's clock says it ran out (at most a minute early).
            self._token = token
            self._token_until = time.monotonic() + lifetime - min(60.0, lifetime / 10)
            return token

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        request_id: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One API call with a bearer token; a 401 refreshes the token once and retries."""
        sent = {"Content-Type": "application/json", "Accept": "application/json"}
        sent.update(headers or {})
        if request_id:
            sent["PayPal-Request-Id"] = request_id
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode()
        token = await self._access_token()
        for attempt in (1, 2):
            sent["Authorization"] = f"Bearer {token}"
            response = await self._send(method, path, content=content, headers=sent)
            if response.status_code != 401 or attempt == 2:
                break
            token = await self._access_token(stale=token)
        return self._answer(response)

    # -- Payments --------------------------------------------------------------------------

    async def start(self, request: StartRequest) -> Started:
        # Intent CAPTURE either way: an approved order already is "authorised, capture later".
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "amount": to_paypal_amount(request.amount, request.currency),
                    "custom_id": str(request.order_id),
                    "invoice_id": str(request.order_number),
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": self._return_url,
                        "cancel_url": self._cancel_url,
                        "user_action": "PAY_NOW",
                    }
                }
            },
        }
        order = await self._call(
            "POST",
            "/v2/checkout/orders",
            body=body,
            request_id=request.idempotency_key,
            headers=_REPRESENTATION,
        )
        snapshot = order_snapshot(order)
        approval_url = link(order, "payer-action", "approve")
        if not approval_url and snapshot.status is PaymentStatus.PENDING:
            raise GatewayUnavailable("PayPal's order answer has no approval link")
        return Started(snapshot, approval_url=approval_url)

    async def fetch(self, psp_reference: str) -> Snapshot:
        order = await self._call("GET", f"/v2/checkout/orders/{path_segment(psp_reference)}")
        return order_snapshot(order)

    async def capture(
        self, psp_reference: str, *, amount: int, currency: str, idempotency_key: str
    ) -> Snapshot:
        # Intent CAPTURE takes the order's whole amount: `amount` is what the order says.
        path = f"/v2/checkout/orders/{path_segment(psp_reference)}/capture"
        try:
            order = await self._call(
                "POST", path, content=b"", request_id=idempotency_key, headers=_REPRESENTATION
            )
        except GatewayRefused as exc:
            issue = issue_of(exc)
            if issue == "ORDER_ALREADY_CAPTURED":
                return await self.fetch(psp_reference)
            if issue == "INSTRUMENT_DECLINED":
                raise GatewayRefused(DECLINED_MESSAGE, raw=exc.raw) from exc
            raise
        snapshot = order_snapshot(order)
        if snapshot.status is PaymentStatus.DECLINED:
            raise GatewayRefused(DECLINED_MESSAGE, raw=order)
        return snapshot

    async def refund(
        self,
        psp_reference: str,
        *,
        amount: int,
        currency: str,
        idempotency_key: str,
        our_reference: str,
    ) -> Movement:
        money = to_paypal_amount(amount, currency)
        order = await self._call("GET", f"/v2/checkout/orders/{path_segment(psp_reference)}")
        capture_id = capturable(order)
        if not capture_id:
            raise GatewayRefused("This PayPal order has no capture to refund.", raw=order)
        refund = await self._call(
            "POST",
            f"/v2/payments/captures/{path_segment(capture_id)}/refund",
            body={"amount": money, "custom_id": our_reference},
            request_id=idempotency_key,
            headers=_REPRESENTATION,
        )
        with answer_shape("refund"):
            movement = refund_movement(refund, amount=amount, currency=currency)
        return (
            movement if movement.our_reference else replace(movement, our_reference=our_reference)
        )

    async def void(self, psp_reference: str, *, idempotency_key: str) -> Snapshot:
        snapshot = await self.fetch(psp_reference)
        pending = any(
            m.kind is MovementKind.CAPTURE and m.status is MovementStatus.PENDING
            for m in snapshot.movements
        )
        if snapshot.captured or pending:
            raise GatewayRefused("This PayPal payment is captured: refund it instead.")
        # Intent CAPTURE: nothing is held before the capture, so there is nothing to release.
        return replace(snapshot, status=PaymentStatus.CANCELLED, authorized=0)

    # -- Webhooks --------------------------------------------------------------------------

    async def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        lowered = {key.lower(): value for key, value in headers.items()}
        missing = [name for name in _SIGNATURE_HEADERS if not lowered.get(name)]
        if missing:
            raise WebhookRejected(f"missing {', '.join(missing)}")
        try:
            text = body.decode("utf-8")
            event = json.loads(text)
        except ValueError as exc:  # UnicodeDecodeError is a ValueError
            raise WebhookRejected("the body is not JSON") from exc
        if not (
            isinstance(event, dict)
            and isinstance(event.get("id"), str)
            and isinstance(event.get("event_type"), str)
            and isinstance(event.get("resource"), dict)
        ):
            raise WebhookRejected("the body is not a PayPal event")
        head = {
            "auth_algo": lowered["paypal-auth-algo"],
            "cert_url": lowered["paypal-cert-url"],
            "transmission_id": lowered["paypal-transmission-id"],
            "transmission_sig": lowered["paypal-transmission-sig"],
            "transmission_time": lowered["paypal-transmission-time"],
            "webhook_id": self._webhook_id,
        }
        # The event goes back byte for byte: PayPal checks its signature over what it sent,
        # and a re-encoded event (number formats, escapes) can fail verification.
        content = (json.dumps(head)[:-1] + ', "webhook_event": ' + text + "}").encode()
        try:
            answer = await self._call(
                "POST", "/v1/notifications/verify-webhook-signature", content=content
            )
        except GatewayRefused as exc:  # PayPal would not check it: not verifiably real
            raise WebhookRejected(f"PayPal refused to verify: {exc.message}") from exc
        with answer_shape("verify-webhook-signature"):
            verdict = str(answer["verification_status"])
        if verdict != "SUCCESS":
            raise WebhookRejected(f"PayPal says the signature is {verdict}")
        return WebhookEvent(
            event_id=event["id"],
            event_type=event["event_type"],
            psp_reference=await self._event_order(event),
            payload=event,
        )

    async def _event_order(self, event: Mapping[str, Any]) -> str:
        order_id = event_order_id(event)
        if order_id is not None:
            return order_id
        # A refund event carries the refund, linking up to its capture only; the capture
        # knows its order (supplementary_data.related_ids, or its own "up" link).
        capture_id = refunded_capture_id(event)
        if not capture_id:
            return ""
        try:
            capture = await self._call("GET", f"/v2/payments/captures/{path_segment(capture_id)}")
        except GatewayRefused as exc:  # verified, but not placeable yet: PayPal resends
            raise GatewayUnavailable(f"PayPal's capture {capture_id}: {exc.message}") from exc
        with answer_shape("capture"):
            related = (capture.get("supplementary_data") or {}).get("related_ids") or {}
            up = link(capture, "up")
            return str(related.get("order_id") or (last_path_part(up) if "/orders/" in up else ""))

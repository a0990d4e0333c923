"""The REST shim: the providers' webhook endpoints and their OpenAPI description.

POST /webhooks/stripe and POST /webhooks/paypal verify the call (Stripe-Signature with the
signing secret and a 300 s tolerance; PayPal's verify-webhook-signature), then hand the
event to the inbox (app/services/payments/inbox.py). Answers:

- 200 `{"status": "processed" | "duplicate" | "ignored" | "failed", "eventId": ...}`: the
  event is ours now (a `failed` one is kept and retried by the worker, so the provider need
  not send it again);
- 400 `INVALID_SIGNATURE` / `INVALID_BODY`: not verifiably the provider's; nothing changed;
- 404 `GATEWAY_DISABLED`: this shop does not take that provider;
- 413 `BODY_TOO_LARGE`; 503 `UNAVAILABLE`: we could not store it; the provider retries.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.events import publish_committed
from app.metrics import WEBHOOK_EVENTS
from app.payments.gateway import GatewayUnavailable, WebhookRejected
from app.resources import Resources
from app.services.payments import inbox

log = logging.getLogger(__name__)

# Provider events are a few kilobytes; this is generous and still bounded.
MAX_BODY_BYTES = 256 * 1024


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(request: Request, provider: str) -> JSONResponse:
    resources: Resources = request.app.state.resources
    gateway = resources.gateways.enabled(provider)
    if gateway is None:
        return _error(404, "GATEWAY_DISABLED", f"This shop does not take {provider}.")
    try:
        body = await _body(request)
    except ClientDisconnect:
        return _error(400, "INVALID_BODY", "The body did not arrive whole.")
    if body is None:
        return _error(413, "BODY_TOO_LARGE", f"At most {MAX_BODY_BYTES} bytes.")
    try:
        event = await gateway.verify_webhook(headers=dict(request.headers), body=body)
        text = body.decode("utf-8")
    except WebhookRejected as exc:
        return _error(400, "INVALID_SIGNATURE", str(exc) or "The signature does not verify.")
    except UnicodeDecodeError:
        return _error(400, "INVALID_BODY", "The body is not UTF-8.")
    except GatewayUnavailable:
        return _error(503, "UNAVAILABLE", f"{provider} could not verify the call; retry.")
    if "\x00" in text:  # PostgreSQL text cannot hold it
        return _error(400, "INVALID_BODY", "The body holds a NUL character.")
    ids = (event.event_id, event.event_type, event.psp_reference)
    if not event.event_id or len(event.event_id) > 255 or any("\x00" in part for part in ids):
        return _error(400, "INVALID_BODY", "The event has no usable id.")
    try:
        async with resources.session_factory() as session:
            try:
                outcome = await inbox.receive(
                    session, gateways=resources.gateways, settings=resources.settings,
                    provider=provider, event=event, body=text,
                )  # fmt: skip
            finally:  # what committed reaches the order's subscribers
                await publish_committed(session, resources.pubsub)
    except (OperationalError, DBAPIError, OSError) as exc:
        log.warning("webhook %s %s not stored: %s", provider, event.event_id, exc)
        return _error(503, "UNAVAILABLE", "The event could not be stored; retry.")
    return JSONResponse({"status": outcome.status, "eventId": outcome.event_id})


async def _counted(request: Request, provider: str) -> JSONResponse:
    response = await _receive(request, provider)
    answer = orjson.loads(response.body)
    result = answer.get("status") if response.status_code == 200 else answer["error"]["code"]
    WEBHOOK_EVENTS.labels(provider, str(result).lower()).inc()
    return response


async def stripe_webhook(request: Request) -> JSONResponse:
    """Stripe's events."""
    return await _counted(request, "STRIPE")


async def paypal_webhook(request: Request) -> JSONResponse:
    """PayPal's events."""
    return await _counted(request, "PAYPAL")


def _endpoint(provider: str, header: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": f"{provider.lower()}Webhook",
            "summary": f"{provider} webhook events",
            "description": f"Verified with {header}; every event has exactly one effect, "
            "however often and in whatever order it arrives.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": {
                    "description": "Taken: processed, a duplicate, ignored (not about one of "
                    "our payments), or failed (kept and retried by the worker).",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Outcome"}}
                    },
                },
                **{
                    status: {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
                    for status, description in (
                        ("400", "INVALID_SIGNATURE or INVALID_BODY: nothing changed."),
                        ("404", "GATEWAY_DISABLED: this shop does not take the provider."),
                        ("413", "BODY_TOO_LARGE."),
                        ("503", "UNAVAILABLE: not stored; the provider retries."),
                    )
                },
            },
        }
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Commerce payment webhooks", "version": "1"},
    "paths": {
        "/webhooks/stripe": _endpoint("STRIPE", "the Stripe-Signature header (300 s tolerance)"),
        "/webhooks/paypal": _endpoint("PAYPAL", "PayPal's verify-webhook-signature call"),
    },
    "components": {
        "schemas": {
            "Outcome": {
                "type": "object",
                "required": ["status", "eventId"],
                "properties": {
                    "status": {
                        "type": "string",
                        "enum": ["processed", "duplicate", "ignored", "failed"],
                    },
                    "eventId": {"type": "string"},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
        }
    },
}


async def openapi(request: Request) -> JSONResponse:
    """The OpenAPI 3.1 description of the shim."""
    return JSONResponse(OPENAPI)


ROUTES = [
    Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
    Route("/webhooks/paypal", paypal_webhook, methods=["POST"]),
    Route("/webhooks/openapi.json", openapi, methods=["GET"]),
]

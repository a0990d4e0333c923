"""Stripe webhook verification: the `Stripe-Signature` header and the event it signs.

Written here rather than taken from `stripe.WebhookSignature.verify_header`, which accepts
timestamps any distance in the future and fails with UnicodeDecodeError (not its own error)
on a body that is not UTF-8.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from app.payments.gateway import WebhookEvent, WebhookRejected

TOLERANCE_SECONDS = 300


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""


def _parse(header: str) -> tuple[int, list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise WebhookRejected("malformed Stripe-Signature header")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
        # other schemes (v0 in test mode) are not signatures we trust
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        raise WebhookRejected("malformed Stripe-Signature timestamp")
    if not signatures:
        raise WebhookRejected("no v1 signature")
    return int(timestamps[0]), signatures


def _psp_reference(obj: Mapping[str, Any]) -> str:
    kind = obj.get("object")
    if kind == "payment_intent":
        value = obj.get("id")
    elif kind in ("charge", "refund"):
        value = obj.get("payment_intent")
    else:
        return ""
    if isinstance(value, Mapping):  # an expanded PaymentIntent
        value = value.get("id")
    return value if isinstance(value, str) else ""


def verify_stripe_webhook(
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: str,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> WebhookEvent:
    """The event of a Stripe webhook call; WebhookRejected unless it is signed and fresh."""
    header = _header(headers, "Stripe-Signature")
    if not header:
        raise WebhookRejected("missing Stripe-Signature header")
    timestamp, signatures = _parse(header)
    current = time.time() if now is None else now
    # a future timestamp is as suspect as an old one: a replay window either way
    if abs(current - timestamp) > tolerance:
        raise WebhookRejected("signature timestamp outside the tolerance")
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    matched = False
    for signature in signatures:
        # no short cut: every candidate is compared in constant time
        matched |= hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))
    if not matched:
        raise WebhookRejected("signature does not match")
    try:
        event = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WebhookRejected("body is not JSON") from exc
    if not (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and event["id"].startswith("evt_")
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejected("body is not a Stripe event")
    return WebhookEvent(
        event_id=event["id"],
        event_type=event["type"],
        psp_reference=_psp_reference(event["data"]["object"]),
        payload=event,
    )

"""PayPal's wire values <-> ours: decimal-string amounts, orders as Snapshots, refunds as
Movements, and what a webhook event is about. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from app.money import exponent
from app.payments.gateway import (
    GatewayRefused,
    GatewayUnavailable,
    Movement,
    MovementKind,
    MovementStatus,
    PaymentStatus,
    Snapshot,
)

# PayPal takes no decimals for these although ISO 4217 gives HUF and TWD two: our minor units
# stay ISO's, and such an amount must be a whole number of major units to reach PayPal.
_WHOLE_ONLY = {"HUF", "JPY", "TWD"}

_ORDER_STATUS = {
    "CREATED": PaymentStatus.PENDING,
    "SAVED": PaymentStatus.PENDING,
    "PAYER_ACTION_REQUIRED": PaymentStatus.PENDING,
    "APPROVED": PaymentStatus.AUTHORIZED,
    "COMPLETED": PaymentStatus.SUCCEEDED,
    "VOIDED": PaymentStatus.CANCELLED,
}
# A refunded capture was still captured: refunds are movements of their own.
_CAPTURED = {"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"}
_CAPTURE_FAILED = {"DECLINED", "FAILED"}
_REFUND_STATUS = {
    "COMPLETED": MovementStatus.SUCCEEDED,
    "PENDING": MovementStatus.PENDING,
    "FAILED": MovementStatus.FAILED,
    "CANCELLED": MovementStatus.FAILED,
}


@contextmanager
def answer_shape(what: str) -> Iterator[None]:
    """Turn a missing or mistyped field of PayPal's answer into GatewayUnavailable."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise GatewayUnavailable(f"PayPal's {what} answer is malformed: {exc!r}") from exc


def to_paypal_amount(amount: int, currency: str) -> dict[str, str]:
    """Our minor units as PayPal's {currency_code, value}; refused if PayPal cannot say it."""
    places = exponent(currency)
    value = Decimal(amount).scaleb(-places)
    if currency in _WHOLE_ONLY:
        if value != value.to_integral_value():
            raise GatewayRefused(f"PayPal takes whole {currency} amounts only.")
        places = 0
    return {"currency_code": currency, "value": f"{value:.{places}f}"}


def from_paypal_amount(money: Mapping[str, Any]) -> tuple[int, str]:
    """PayPal's {currency_code, value} as (minor units, currency)."""
    currency = str(money["currency_code"]).upper()
    try:
        value = Decimal(str(money["value"])).scaleb(exponent(currency))
    except InvalidOperation as exc:
        raise ValueError(f"amount {money['value']!r}") from exc
    if not value.is_finite() or value != value.to_integral_value() or value < 0:
        raise ValueError(f"amount {money['value']!r} in {currency}")
    return int(value), currency


def link(resource: Mapping[str, Any], *rels: str) -> str:
    """The href of the first HATEOAS link whose rel is one of `rels` ("" if none)."""
    for rel in rels:
        for item in resource.get("links") or ():
            if item.get("rel") == rel:
                return str(item["href"])
    return ""


def _reason(resource: Mapping[str, Any]) -> str:
    details = resource.get("status_details") or {}
    return str(details.get("reason") or "")


def capture_movement(capture: Mapping[str, Any]) -> Movement:
    status = str(capture["status"])
    amount, currency = from_paypal_amount(capture["amount"])
    if status in _CAPTURED:
        kind, moved = MovementKind.CAPTURE, MovementStatus.SUCCEEDED
    elif status == "PENDING":
        kind, moved = MovementKind.CAPTURE, MovementStatus.PENDING
    elif status in _CAPTURE_FAILED:
        kind, moved = MovementKind.FAILURE, MovementStatus.FAILED
    else:
        raise ValueError(f"capture status {status!r}")
    return Movement(
        kind, moved, str(capture["id"]), amount, currency, message=_reason(capture), raw=capture
    )


def refund_movement(refund: Mapping[str, Any], *, amount: int = 0, currency: str = "") -> Movement:
    """A refund; `amount`/`currency` stand in when PayPal's minimal answer leaves them out."""
    status = _REFUND_STATUS.get(str(refund["status"]))
    if status is None:
        raise ValueError(f"refund status {refund['status']!r}")
    if "amount" in refund or not currency:
        amount, currency = from_paypal_amount(refund["amount"])
    return Movement(
        MovementKind.REFUND,
        status,
        str(refund["id"]),
        amount,
        currency,
        our_reference=str(refund.get("custom_id") or ""),
        message=_reason(refund),
        raw=refund,
    )


def order_snapshot(order: Mapping[str, Any]) -> Snapshot:
    """A PayPal order (Orders v2 representation) as our Snapshot."""
    with answer_shape("order"):
        status = _ORDER_STATUS.get(str(order["status"]))
        if status is None:
            raise ValueError(f"order status {order['status']!r}")
        unit = order["purchase_units"][0]
        amount, currency = from_paypal_amount(unit["amount"])
        payments = unit.get("payments") or {}
        # The order lists its refunds too (Orders v2 payment_collection.refunds); Payments v2
        # has no endpoint listing a capture's refunds, so the order is where they are found.
        movements = [capture_movement(c) for c in payments.get("captures") or ()]
        movements += [refund_movement(r) for r in payments.get("refunds") or ()]
    captured = sum(
        m.amount
        for m in movements
        if m.kind is MovementKind.CAPTURE and m.status is MovementStatus.SUCCEEDED
    )
    message = ""
    if status is PaymentStatus.SUCCEEDED and not captured:
        # COMPLETED with nothing captured: the capture is pending or was declined.
        kinds = {(m.kind, m.status) for m in movements}
        pending = (MovementKind.CAPTURE, MovementStatus.PENDING) in kinds
        status = PaymentStatus.PENDING if pending else PaymentStatus.DECLINED
        message = next((m.message for m in movements if m.message), "")
        if status is PaymentStatus.DECLINED:
            message = message or "PayPal declined the payment."
    return Snapshot(
        psp_reference=str(order["id"]),
        status=status,
        amount=amount,
        currency=currency,
        authorized=amount if status is PaymentStatus.AUTHORIZED else 0,
        captured=captured,
        movements=tuple(movements),
        message=message,
        raw=order,
    )


def capturable(order: Mapping[str, Any]) -> str:
    """The id of the order's capture that money can be refunded from ("" if none)."""
    with answer_shape("order"):
        for unit in order["purchase_units"]:
            for capture in (unit.get("payments") or {}).get("captures") or ():
                if capture["status"] in ("COMPLETED", "PARTIALLY_REFUNDED"):
                    return str(capture["id"])
    return ""


def last_path_part(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[-1] if href else ""


def event_order_id(event: Mapping[str, Any]) -> str | None:
    """The PayPal order an event is about; None when only its capture can tell (refunds)."""
    resource = event.get("resource") or {}
    event_type = str(event.get("event_type") or "")
    if event_type.startswith("CHECKOUT.ORDER."):
        return str(resource.get("id") or "")
    related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
    if related.get("order_id"):
        return str(related["order_id"])
    if event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
        return None
    return ""


def refunded_capture_id(event: Mapping[str, Any]) -> str:
    """The capture a refund event's resource links up to ("" if it links to none)."""
    href = link(event.get("resource") or {}, "up")
    return last_path_part(href) if "/captures/" in href else ""


def error_message(body: Mapping[str, Any]) -> str:
    """PayPal's error body (REST: name/message/details, OAuth: error/error_description)."""
    details = body.get("details") or [{}]
    first = details[0] if isinstance(details, list) and isinstance(details[0], dict) else {}
    parts = [
        body.get("name") or body.get("error"),
        body.get("message") or body.get("error_description"),
        first.get("issue"),
        first.get("description"),
    ]
    return ": ".join(str(p) for p in parts if p) or "PayPal refused the request."


def issue_of(exc: GatewayRefused) -> str:
    """The first `details[].issue` of a refusal (ORDER_ALREADY_CAPTURED, ...)."""
    details = exc.raw.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("issue") or "")
    return ""


def path_segment(value: str) -> str:
    """An id as one URL path segment (PayPal ids are [A-Z0-9-]; anything else is refused)."""
    if not value or not all((c.isascii() and c.isalnum()) or c in "-_" for c in value):
        raise GatewayRefused(f"Not a PayPal id: {value[:40]!r}")
    return value

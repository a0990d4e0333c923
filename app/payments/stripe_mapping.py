"""Stripe's PaymentIntent and Refund objects (as plain dicts) turned into gateway values.

Every function here raises KeyError, TypeError or ValueError on an answer that lacks what
Stripe always sends; StripeGateway turns those into GatewayUnavailable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.payments.gateway import Movement, MovementKind, MovementStatus, PaymentStatus, Snapshot

_PI_STATUS = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.PENDING,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.AUTHORIZED,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELLED,
}

_REFUND_STATUS = {
    "pending": MovementStatus.PENDING,
    "requires_action": MovementStatus.PENDING,
    "succeeded": MovementStatus.SUCCEEDED,
    "failed": MovementStatus.FAILED,
    "canceled": MovementStatus.FAILED,
}


def _object_id(value: Any) -> str:
    """An id field that may come expanded (a dict with an id) or as a plain id."""
    if isinstance(value, Mapping):
        return str(value["id"])
    return str(value) if value else ""


def _amount(obj: Mapping[str, Any], key: str) -> int:
    value = obj[key]
    # bool is an int in Python; Stripe never sends one for an amount
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} is not an amount: {value!r}")
    return value


def _currency(obj: Mapping[str, Any]) -> str:
    currency = obj["currency"]
    if not isinstance(currency, str) or len(currency) != 3:
        raise ValueError(f"currency is not an ISO 4217 code: {currency!r}")
    return currency.upper()


def _manual(pi: Mapping[str, Any]) -> bool:
    # "manual_preview" is Stripe's preview variant of manual capture
    return str(pi.get("capture_method") or "").startswith("manual")


def refund_movement(refund: Mapping[str, Any]) -> Movement:
    """A Stripe Refund as a REFUND movement; our refund id rides in metadata["refund_id"]."""
    refund_id = refund["id"]
    if not isinstance(refund_id, str) or not refund_id.startswith("re_"):
        raise ValueError(f"not a refund id: {refund_id!r}")
    metadata = refund.get("metadata") or {}
    return Movement(
        kind=MovementKind.REFUND,
        status=_REFUND_STATUS[refund["status"]],
        psp_reference=refund_id,
        amount=_amount(refund, "amount"),
        currency=_currency(refund),
        our_reference=str(metadata.get("refund_id") or ""),
        message=str(refund.get("failure_reason") or ""),
        raw=dict(refund),
    )


def _failure(pi: Mapping[str, Any], currency: str) -> Movement | None:
    error = pi.get("last_payment_error")
    if not error:
        return None
    charge = _object_id(error.get("charge"))
    method = _object_id(error.get("payment_method"))
    return Movement(
        kind=MovementKind.FAILURE,
        status=MovementStatus.FAILED,
        # no charge when the card was refused before one was made (3-D Secure failed, ...)
        psp_reference=charge or f"{pi['id']}:{method}",
        amount=_amount(pi, "amount"),
        currency=currency,
        message=str(error.get("message") or error.get("code") or ""),
        raw=dict(error),
    )


def _held(pi: Mapping[str, Any], status: str, charge: str) -> int:
    """What a manual-capture PaymentIntent holds or held (0 when it never held money)."""
    if not _manual(pi) or not charge:
        return 0
    if status == "requires_capture":
        return _amount(pi, "amount_capturable")
    if status == "succeeded" or (status == "canceled" and not pi.get("last_payment_error")):
        return _amount(pi, "amount")
    return 0


def snapshot_from(pi: Mapping[str, Any], refunds: Iterable[Mapping[str, Any]]) -> Snapshot:
    """A PaymentIntent and its refunds as the gateway's Snapshot."""
    pi_id = pi["id"]
    if not isinstance(pi_id, str) or not pi_id.startswith("pi_"):
        raise ValueError(f"not a PaymentIntent id: {pi_id!r}")
    stripe_status = pi["status"]
    status = _PI_STATUS[stripe_status]
    currency = _currency(pi)
    received = _amount(pi, "amount_received")
    charge = _object_id(pi.get("latest_charge"))
    movements: list[Movement] = []
    held = _held(pi, stripe_status, charge)
    if held:
        movements.append(
            Movement(MovementKind.AUTHORIZATION, MovementStatus.SUCCEEDED, charge, held, currency)
        )
        if stripe_status == "canceled":
            # the hold was released without a capture
            movements.append(
                Movement(MovementKind.VOID, MovementStatus.SUCCEEDED, charge, held, currency)
            )
    if received:
        if not charge:
            raise ValueError("money received without a charge")
        movements.append(
            Movement(MovementKind.CAPTURE, MovementStatus.SUCCEEDED, charge, received, currency)
        )
    movements.extend(refund_movement(refund) for refund in refunds)
    failure = _failure(pi, currency)
    if failure is not None:
        movements.append(failure)
    return Snapshot(
        psp_reference=pi_id,
        status=status,
        amount=_amount(pi, "amount"),
        currency=currency,
        authorized=_amount(pi, "amount_capturable"),
        captured=received,
        movements=tuple(movements),
        message=failure.message if failure is not None else "",
        raw=dict(pi),
    )

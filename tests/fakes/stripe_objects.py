"""The state behind FakeStripe: PaymentIntents, charges and refunds shaped like Stripe's
objects, their state changes, and the events the real API sends for each change."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections import Counter
from typing import Any

CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class StripeApiError(Exception):
    """An answer in Stripe's error shape: {"error": {type, code, message, param}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type_: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "error": {"type": type_, "code": code, "message": message, "param": param}
        }


def _missing(kind: str, object_id: str, param: str) -> StripeApiError:
    return StripeApiError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


class StripeObjects:
    """Every object of the fake account; all methods are thread-safe (the HTTP handlers run
    in the server's thread, the test helpers in the test's)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        # state changes carried out, by kind: "create", "capture", "cancel", "refund", ...
        self.performed: Counter[str] = Counter()

    def _emit(self, event_type: str, obj: dict[str, Any]) -> None:
        self.events.append(
            {
                "id": new_id("evt"),
                "object": "event",
                "api_version": "2025-09-30.clover",
                "created": int(time.time()),
                "data": {"object": copy.deepcopy(obj)},
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": new_id("req"), "idempotency_key": None},
                "type": event_type,
            }
        )

    def intent(self, pi_id: str) -> dict[str, Any]:
        with self.lock:
            if pi_id not in self.intents:
                raise _missing("payment_intent", pi_id, "intent")
            return self.intents[pi_id]

    def create_intent(
        self, *, amount: int, currency: str, capture_method: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        pi_id = new_id("pi")
        pi: dict[str, Any] = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture_method,
            "client_secret": f"{pi_id}_secret_{secrets.token_hex(12)}",
            "created": int(time.time()),
            "currency": currency,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "payment_method": None,
            "status": "requires_payment_method",
        }
        with self.lock:
            self.intents[pi_id] = pi
            self.performed["create"] += 1
            self._emit("payment_intent.created", pi)
        return pi

    def _charge(self, pi: dict[str, Any], *, paid: bool, captured: bool) -> dict[str, Any]:
        charge = {
            "id": new_id("ch"),
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": pi["amount"] if captured else 0,
            "amount_refunded": 0,
            "captured": captured,
            "currency": pi["currency"],
            "paid": paid,
            "payment_intent": pi["id"],
            "refunded": False,
            "status": "succeeded" if paid else "failed",
        }
        self.charges[charge["id"]] = charge
        return charge

    def confirm(self, pi_id: str, card: str) -> dict[str, Any]:
        """What Stripe.js does when the customer confirms with one of Stripe's test cards."""
        with self.lock:
            pi = self.intent(pi_id)
            if pi["status"] not in CONFIRMABLE:
                raise StripeApiError(
                    400,
                    f"cannot confirm a {pi['status']} PaymentIntent",
                    code="payment_intent_unexpected_state",
                )
            method = {"id": new_id("pm"), "object": "payment_method", "type": "card"}
            pi["payment_method"] = method["id"]
            pi["last_payment_error"] = None
            pi["next_action"] = None
            if card == "pm_card_threeDSecure2Required":
                pi["status"] = "requires_action"
                pi["next_action"] = {"type": "use_stripe_sdk"}
                self._emit("payment_intent.requires_action", pi)
            elif card == "pm_card_chargeDeclined":
                charge = self._charge(pi, paid=False, captured=False)
                pi["latest_charge"] = charge["id"]
                pi["status"] = "requires_payment_method"
                pi["last_payment_error"] = {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                    "charge": charge["id"],
                    "payment_method": method,
                }
                self._emit("payment_intent.payment_failed", pi)
            elif card == "pm_card_visa":
                manual = pi["capture_method"].startswith("manual")
                charge = self._charge(pi, paid=True, captured=not manual)
                pi["latest_charge"] = charge["id"]
                if manual:
                    pi["status"] = "requires_capture"
                    pi["amount_capturable"] = pi["amount"]
                    self._emit("payment_intent.amount_capturable_updated", pi)
                else:
                    pi["status"] = "succeeded"
                    pi["amount_received"] = pi["amount"]
                    self._emit("payment_intent.succeeded", pi)
            else:
                raise ValueError(f"FakeStripe knows no test card {card!r}")
            return pi

    def capture(self, pi_id: str, amount_to_capture: int | None) -> dict[str, Any]:
        with self.lock:
            pi = self.intent(pi_id)
            if pi["status"] != "requires_capture":
                raise StripeApiError(
                    400,
                    "This PaymentIntent could not be captured because it has a status of "
                    f"{pi['status']}. Only a PaymentIntent with one of the following statuses "
                    "may be captured: requires_capture.",
                    code="payment_intent_unexpected_state",
                )
            amount = pi["amount_capturable"] if amount_to_capture is None else amount_to_capture
            if amount < 1 or amount > pi["amount_capturable"]:
                raise StripeApiError(
                    400,
                    "The amount to capture must be positive and at most the capturable amount.",
                    code="amount_too_large",
                    param="amount_to_capture",
                )
            pi["amount_received"] = amount
            pi["amount_capturable"] = 0  # a partial capture releases the rest
            pi["status"] = "succeeded"
            charge = self.charges[pi["latest_charge"]]
            charge["captured"] = True
            charge["amount_captured"] = amount
            self.performed["capture"] += 1
            self._emit("payment_intent.succeeded", pi)
            return pi

    def cancel(self, pi_id: str, reason: str | None) -> dict[str, Any]:
        with self.lock:
            pi = self.intent(pi_id)
            if pi["status"] not in CANCELABLE:
                raise StripeApiError(
                    400,
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{pi['status']}. Only a PaymentIntent with one of the following statuses "
                    f"may be canceled: {', '.join(CANCELABLE)}.",
                    code="payment_intent_unexpected_state",
                )
            pi["status"] = "canceled"
            pi["amount_capturable"] = 0
            pi["canceled_at"] = int(time.time())
            pi["cancellation_reason"] = reason
            self.performed["cancel"] += 1
            self._emit("payment_intent.canceled", pi)
            return pi

    def refund(
        self,
        pi_id: str,
        amount: int | None,
        metadata: dict[str, str],
        *,
        status: str = "succeeded",
    ) -> dict[str, Any]:
        with self.lock:
            pi = self.intents.get(pi_id)
            if pi is None:
                raise _missing("payment_intent", pi_id, "payment_intent")
            charge = self.charges.get(pi["latest_charge"] or "")
            if pi["status"] != "succeeded" or charge is None:
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                )
            left = charge["amount_captured"] - charge["amount_refunded"]
            amount = left if amount is None else amount
            if amount < 1 or amount > left:
                raise StripeApiError(
                    400,
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                    f"({left})",
                    code="amount_too_large",
                    param="amount",
                )
            refund = {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": pi["currency"],
                "failure_reason": None,
                "metadata": metadata,
                "payment_intent": pi_id,
                "reason": None,
                "status": status,
            }
            self.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount_captured"]
            self.performed["refund"] += 1
            self._emit("refund.created", refund)
            self._emit("charge.refunded", charge)
            return refund

    def refund_by_id(self, refund_id: str) -> dict[str, Any]:
        with self.lock:
            if refund_id not in self.refunds:
                raise _missing("refund", refund_id, "id")
            return self.refunds[refund_id]

    def settle_refund(
        self, refund_id: str, status: str, failure_reason: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            refund = self.refund_by_id(refund_id)
            refund["status"] = status
            refund["failure_reason"] = failure_reason
            if status in ("failed", "canceled"):
                # the money comes back to the balance
                self.charges[refund["charge"]]["amount_refunded"] -= refund["amount"]
            self._emit("refund.updated", refund)
            return refund

    def refunds_of(self, pi_id: str) -> list[dict[str, Any]]:
        """The PaymentIntent's refunds, newest first (Stripe's list order)."""
        with self.lock:
            found = [r for r in self.refunds.values() if r["payment_intent"] == pi_id]
        return list(reversed(found))

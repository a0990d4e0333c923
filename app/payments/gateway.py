"""The gateway protocol: what the payment services ask of a provider.

Wire code only: a gateway turns a request into the provider's call and the provider's answer
into the plain values below. The rules (what an answer does to an order, a payment, the
money records) live in app/services/payments. Amounts are integer minor units of `currency`;
a gateway converts to the provider's own notation (Stripe: minor units, PayPal: decimal
strings).

Errors: a gateway raises `GatewayUnavailable` when the provider could not be asked or did
not answer (network, timeout, 5xx, 429: try again later with the same idempotency key) and
`GatewayRefused` when it answered no (4xx: retrying the same request will not help).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol


class PaymentStatus(Enum):
    """What the provider says of a payment now."""

    PENDING = "pending"  # waiting for the customer (3-D Secure, PayPal approval) or the bank
    AUTHORIZED = "authorized"  # the money is held and may be captured
    SUCCEEDED = "succeeded"  # captured, in whole or in part
    DECLINED = "declined"  # refused; nothing is held
    CANCELLED = "cancelled"  # voided or abandoned at the provider; nothing is held


class MovementKind(Enum):
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"
    FAILURE = "failure"


class MovementStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Movement:
    """One movement of money the provider reports (a capture, a refund, ...)."""

    kind: MovementKind
    status: MovementStatus
    # The provider's id of this movement: Stripe's charge or refund id, PayPal's capture or
    # refund id. Unique per (gateway, kind): the money records are keyed on it.
    psp_reference: str
    amount: int
    currency: str
    # The reference we gave the provider for it (our refund's id), when it is ours.
    our_reference: str = ""
    message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """The provider's current word on one payment (fetched, or in the answer to a call)."""

    psp_reference: str
    status: PaymentStatus
    amount: int
    currency: str
    # Held and still capturable (manual capture), and captured so far.
    authorized: int
    captured: int
    # Every capture and refund known to the provider, in any order; failures of earlier
    # attempts when the provider reports them.
    movements: tuple[Movement, ...] = ()
    message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StartRequest:
    amount: int
    currency: str
    # The client's payment token (DUMMY's test tokens; ignored by STRIPE and PAYPAL, whose
    # customers pay in the provider's own UI).
    token: str
    # One per payment attempt: a retry of the same attempt reaches the provider as a replay.
    idempotency_key: str
    order_id: int
    order_number: int
    # True: capture at once; False: authorise only, staff (or a rule) captures later.
    capture: bool = True


@dataclass(frozen=True)
class Started:
    """A started payment: the provider's reference and what the client needs to go on."""

    snapshot: Snapshot
    # Stripe: the PaymentIntent's client secret, for Stripe.js / the mobile SDKs.
    client_secret: str = ""
    # PayPal: where the buyer approves the payment.
    approval_url: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A provider's call, once its signature is verified."""

    event_id: str
    event_type: str
    # The payment (Stripe PaymentIntent, PayPal order) it is about; "" when about none.
    psp_reference: str
    payload: Mapping[str, Any]


class GatewayUnavailable(Exception):
    """The provider could not be asked or did not answer; retry with the same key."""


class GatewayRefused(Exception):
    """The provider answered no; `raw` is its answer for the records."""

    def __init__(self, message: str, raw: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.raw = dict(raw or {})


class WebhookRejected(Exception):
    """A webhook call that is not verifiably the provider's (bad, stale or missing
    signature, unparseable body): answered 400 and nothing changes."""


class PaymentGateway(Protocol):
    """A payment provider."""

    @property
    def name(self) -> str: ...

    @property
    def in_process(self) -> bool:
        """True when it answers without leaving the process (DUMMY): checkout may then ask
        it inside its transaction."""
        ...

    async def start(self, request: StartRequest) -> Started:
        """Create the payment at the provider (charge at once where the token allows)."""
        ...

    async def fetch(self, psp_reference: str) -> Snapshot:
        """The provider's current state of a payment, with its captures and refunds."""
        ...

    async def capture(
        self, psp_reference: str, *, amount: int, currency: str, idempotency_key: str
    ) -> Snapshot:
        """Capture an authorised (Stripe manual capture) or approved (PayPal) payment.

        Capturing what is already captured answers the current state, never an error.
        """
        ...

    async def refund(
        self,
        psp_reference: str,
        *,
        amount: int,
        currency: str,
        idempotency_key: str,
        our_reference: str,
    ) -> Movement:
        """Give back `amount` of a captured payment; `our_reference` travels with it
        (Stripe metadata, PayPal custom_id) and comes back in `fetch`."""
        ...

    async def void(self, psp_reference: str, *, idempotency_key: str) -> Snapshot:
        """Cancel a payment that holds money not captured, or was never completed."""
        ...

    async def verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """The event of a webhook call; WebhookRejected when it is not verifiably real."""
        ...

    async def aclose(self) -> None:
        """Close the gateway's HTTP connections."""
        ...

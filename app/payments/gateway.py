"""The gateway protocol: what checkout (and later the payments issue) asks of a provider.

Wire code only: a gateway turns a request into the provider's call and its answer into a
`PaymentOutcome`. The rules (what an outcome does to an order) live in app/services.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class PaymentStatus(Enum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    PENDING = "pending"


@dataclass(frozen=True)
class PaymentOutcome:
    status: PaymentStatus
    # The provider's reference of the payment (never the card token); empty when declined.
    psp_reference: str
    # Why, in words a shopper may read (a decline reason); empty on success.
    message: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A provider's notice about a payment, once its signature is verified."""

    event_id: str
    psp_reference: str
    status: PaymentStatus


class PaymentGateway(Protocol):
    """A payment provider. Amounts are integer minor units of `currency`."""

    @property
    def name(self) -> str: ...

    async def start(
        self, *, amount: int, currency: str, token: str, idempotency_key: str, reference: str
    ) -> PaymentOutcome:
        """Charge (or authorise) `amount` with the client's payment `token`."""
        ...

    async def capture(
        self, *, psp_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentOutcome:
        """Capture an authorised payment (the payments issue)."""
        ...

    async def refund(
        self, *, psp_reference: str, amount: int, currency: str, idempotency_key: str
    ) -> PaymentOutcome:
        """Give back `amount` of a captured payment (the payments issue)."""
        ...

    async def void(self, *, psp_reference: str, idempotency_key: str) -> PaymentOutcome:
        """Cancel an authorisation that was not captured (the payments issue)."""
        ...

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent | None:
        """The verified event of a webhook call, or None when it is not one of ours."""
        ...

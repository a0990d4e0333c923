"""Helpers shared by the Stripe gateway tests."""

from __future__ import annotations

from app.payments.gateway import StartRequest
from app.payments.stripe_gateway import StripeGateway
from tests.fakes.stripe_api import FakeStripe

# The SDK's HTTPX client posts its form as `data=<str>`, which httpx 0.28 deprecates.
SDK_WARNING = "ignore:Use 'content=<...>' to upload raw bytes/text content.:DeprecationWarning"

# small, so the timeout tests run fast; the fake answers at once otherwise
TIMEOUT = 0.5


async def start(
    gateway: StripeGateway, *, capture: bool = True, key: str = "pay-1", amount: int = 1250
) -> str:
    request = StartRequest(
        amount=amount,
        currency="EUR",
        token="",
        idempotency_key=key,
        order_id=7,
        order_number=1007,
        capture=capture,
    )
    return (await gateway.start(request)).snapshot.psp_reference


async def authorized(gateway: StripeGateway, fake: FakeStripe) -> tuple[str, str]:
    """A manual-capture PaymentIntent holding 12.50 EUR, and its charge."""
    pi_id = await start(gateway, capture=False)
    return pi_id, fake.confirm(pi_id, "pm_card_visa")["latest_charge"]

"""Fixtures of the payment gateway tests: a served FakeStripe and a StripeGateway on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app.payments.stripe_gateway import StripeGateway
from tests.fakes.stripe_api import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.payments.stripe_world import TIMEOUT


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
async def stripe_gateway(fake_stripe: FakeStripe) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(
        secret_key=SECRET_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=fake_stripe.url,
        timeout=TIMEOUT,
    )
    yield gateway
    await gateway.aclose()

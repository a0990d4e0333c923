"""A staff capture that Stripe did not answer, repeated: every capture call of the payment,
the SDK's retries and the staff's second try alike, carries the one key of its attempt, so
Stripe can only ever see one capture request."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.payments import Payment
from tests.catalog.staff_fixtures import key_of, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import CAPTURE, checkout, codes
from tests.payments.provider_world import SDK_WARNING, provider_world
from tests.payments.test_stripe_flow import _token

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)
__all__ = ["staff_user"]


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def test_a_capture_repeated_after_unavailable_sends_the_same_key(
    start_app, shop, staff_user, sign_in, session_factory
):
    async with provider_world(start_app, stripe_capture="manual") as world:
        variant = await shop.variant(price=1000, stock=5)
        cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
        order = await checkout(world.gql, cart, gateway="STRIPE", token=None)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        [held] = world.stripe_events(pi_id, "payment_intent.amount_capturable_updated")
        await world.stripe_event(held)
        staff = world.gql.as_user((await _token(world, sign_in))["accessToken"])
        path = f"/v1/payment_intents/{pi_id}/capture"

        world.stripe.fail_next(path, status=500, times=10)  # every SDK retry fails
        first = (await staff.execute(CAPTURE, id=order["payments"][0]["id"]))["orderPaymentCapture"]
        # The staff tries again until Stripe answers (the rest of the 500s are used up).
        for _ in range(10):
            second = (await staff.execute(CAPTURE, id=order["payments"][0]["id"]))[
                "orderPaymentCapture"
            ]
            if not second["userErrors"]:
                break

        async with session_factory() as session:
            attempt_key = await session.scalar(
                select(Payment.attempt_key).where(Payment.order_id == key_of(order["id"]))
            )
        assert codes(first) == [(None, "PAYMENT_GATEWAY_UNAVAILABLE")]
        assert second["userErrors"] == [] and second["payment"]["status"] == "SUCCEEDED", second
        keys = [r.headers.get("idempotency-key") for r in world.stripe.requests_to(path)]
        assert len(keys) >= 2
        assert set(keys) == {f"{attempt_key}:capture"}
        assert world.stripe.count("capture") == 1

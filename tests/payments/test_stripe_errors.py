"""StripeGateway: every hostile or broken answer is GatewayUnavailable or GatewayRefused."""

from __future__ import annotations

import time

import pytest

from app.payments.gateway import GatewayRefused, GatewayUnavailable, PaymentStatus
from app.payments.stripe_gateway import StripeGateway
from tests.fakes.local_server import unused_url
from tests.fakes.stripe_api import WEBHOOK_SECRET, FakeStripe
from tests.payments.stripe_world import SDK_WARNING, TIMEOUT, start

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)


async def test_5xx_is_retried_with_the_same_key(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_next("/v1/payment_intents", 500, times=2)

    pi_id = await start(stripe_gateway, key="pay-1")

    tries = fake_stripe.requests_to("/v1/payment_intents", "POST")
    assert [t.headers["idempotency-key"] for t in tries] == ["pay-1", "pay-1", "pay-1"]
    assert fake_stripe.objects.intent(pi_id)["amount"] == 1250
    assert fake_stripe.count("create") == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_after_the_retries_is_unavailable(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe, status: int
) -> None:
    fake_stripe.fail_next("/v1/payment_intents", status, times=3)

    with pytest.raises(GatewayUnavailable):
        await start(stripe_gateway)

    # the first try and the SDK's two retries
    assert len(fake_stripe.requests_to("/v1/payment_intents")) == 3
    assert fake_stripe.count("create") == 0


async def test_html_from_a_proxy_is_unavailable(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_next("/v1/payment_intents", 502, body=b"<html>Bad gateway</html>", times=3)

    with pytest.raises(GatewayUnavailable):
        await start(stripe_gateway)


async def test_rate_limit_is_unavailable(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_next("/v1/payment_intents", 429)

    with pytest.raises(GatewayUnavailable):
        await start(stripe_gateway)


async def test_timeout_is_unavailable(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    for _ in range(3):
        fake_stripe.delay_next(f"/v1/payment_intents/{pi_id}", 2 * TIMEOUT)
    began = time.monotonic()

    with pytest.raises(GatewayUnavailable):
        await stripe_gateway.fetch(pi_id)

    # three tries of 0.5 s and two back-offs of 0.5 to 1 s: the timeout was applied
    assert time.monotonic() - began < 5
    assert len(fake_stripe.requests_to(f"/v1/payment_intents/{pi_id}", "GET")) == 3


async def test_refused_connection_is_unavailable() -> None:
    gateway = StripeGateway(
        secret_key="sk_test_x", webhook_secret=WEBHOOK_SECRET, api_base=unused_url(), timeout=0.5
    )
    try:
        with pytest.raises(GatewayUnavailable):
            await gateway.fetch("pi_123")
    finally:
        await gateway.aclose()


async def test_invalid_json_is_unavailable(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    fake_stripe.fail_next("/v1/payment_intents", 200, body=b'{"id": "pi_1", "obj')

    with pytest.raises(GatewayUnavailable):
        await start(stripe_gateway)


@pytest.mark.parametrize(
    "body",
    [
        b'{"object": "payment_intent", "id": "pi_1"}',  # no status, amounts, client secret
        b'{"object": "payment_intent", "id": "pi_1", "status": "dreaming", "amount": 1250,'
        b' "amount_capturable": 0, "amount_received": 0, "currency": "eur",'
        b' "client_secret": "pi_1_secret_x"}',
        b'{"object": "payment_intent", "id": "pi_1", "status": "succeeded", "amount": "12.50",'
        b' "amount_capturable": 0, "amount_received": 1250, "currency": "eur",'
        b' "client_secret": "pi_1_secret_x", "latest_charge": "ch_1"}',
        b"[1, 2, 3]",
        b"null",
    ],
    ids=["missing-fields", "unknown-status", "amount-as-string", "list", "null"],
)
async def test_an_answer_we_cannot_read_is_unavailable(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe, body: bytes
) -> None:
    fake_stripe.fail_next("/v1/payment_intents", 200, body=body)

    with pytest.raises(GatewayUnavailable):
        await start(stripe_gateway)


async def test_unknown_payment_intent_is_refused(stripe_gateway: StripeGateway) -> None:
    with pytest.raises(GatewayRefused) as refused:
        await stripe_gateway.fetch("pi_missing")

    assert refused.value.message == "No such payment_intent: 'pi_missing'"
    assert refused.value.raw == {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": "No such payment_intent: 'pi_missing'",
            "param": "intent",
        }
    }


async def test_wrong_secret_key_is_refused(fake_stripe: FakeStripe) -> None:
    gateway = StripeGateway(
        secret_key="sk_test_wrong",
        webhook_secret=WEBHOOK_SECRET,
        api_base=fake_stripe.url,
        timeout=TIMEOUT,
    )
    try:
        with pytest.raises(GatewayRefused) as refused:
            await start(gateway)
    finally:
        await gateway.aclose()

    assert refused.value.message == "Invalid API Key provided: sk_test_****"
    assert fake_stripe.count("create") == 0


async def test_card_error_is_refused(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    error = (
        b'{"error": {"type": "card_error", "code": "card_declined", "param": null,'
        b' "message": "Your card was declined.", "decline_code": "generic_decline"}}'
    )
    fake_stripe.fail_next("/v1/payment_intents", 402, body=error)

    with pytest.raises(GatewayRefused) as refused:
        await start(stripe_gateway)

    assert refused.value.message == "Your card was declined."
    assert refused.value.raw["error"]["decline_code"] == "generic_decline"


async def test_a_refusal_leaves_the_payment_as_it_was(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)

    with pytest.raises(GatewayRefused):
        # nothing is held yet: Stripe cannot capture
        await stripe_gateway.capture(pi_id, amount=1250, currency="EUR", idempotency_key="c-1")

    assert (await stripe_gateway.fetch(pi_id)).status is PaymentStatus.PENDING
    assert fake_stripe.count("capture") == 0

"""StripeGateway.verify_webhook: only a fresh call signed with our secret is an event."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from app.payments.gateway import WebhookEvent, WebhookRejected
from app.payments.stripe_gateway import StripeGateway
from tests.fakes.stripe_api import FakeStripe
from tests.payments.stripe_world import SDK_WARNING, start

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)


async def succeeded_event(gateway: StripeGateway, fake: FakeStripe) -> dict[str, Any]:
    pi_id = await start(gateway)
    fake.confirm(pi_id, "pm_card_visa")
    [event] = [e for e in fake.events if e["type"] == "payment_intent.succeeded"]
    return event


async def rejected(gateway: StripeGateway, headers: dict[str, str], body: bytes) -> str:
    with pytest.raises(WebhookRejected) as rejection:
        await gateway.verify_webhook(headers=headers, body=body)
    return str(rejection.value)


async def test_a_signed_event_is_accepted(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    headers, body = fake_stripe.signed(event)

    verified = await stripe_gateway.verify_webhook(headers=headers, body=body)

    assert verified == WebhookEvent(
        event_id=event["id"],
        event_type="payment_intent.succeeded",
        psp_reference=event["data"]["object"]["id"],
        payload=event,
    )
    assert verified.event_id.startswith("evt_")


async def test_header_name_in_any_case(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    headers, body = fake_stripe.signed(event)

    verified = await stripe_gateway.verify_webhook(
        headers={"stripe-signature": headers["Stripe-Signature"]}, body=body
    )

    assert verified.event_id == event["id"]


async def test_refund_and_charge_events_name_their_payment_intent(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.confirm(pi_id)
    fake_stripe.refund_from_dashboard(pi_id, 100, status="pending")
    fake_stripe.settle_refund(fake_stripe.objects.refunds_of(pi_id)[0]["id"], "succeeded")
    refund_events = [e for e in fake_stripe.events if e["type"].startswith(("refund.", "charge."))]

    verified = [
        await stripe_gateway.verify_webhook(headers=h, body=b)
        for h, b in map(fake_stripe.signed, refund_events)
    ]

    assert [(v.event_type, v.psp_reference) for v in verified] == [
        ("refund.created", pi_id),
        ("charge.refunded", pi_id),
        ("refund.updated", pi_id),
    ]


async def test_an_event_about_no_payment_names_none(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = {
        "id": "evt_1",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    headers, body = fake_stripe.signed(event)

    verified = await stripe_gateway.verify_webhook(headers=headers, body=body)

    assert (verified.event_type, verified.psp_reference) == ("customer.created", "")


async def test_a_tampered_body_is_rejected(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    headers, body = fake_stripe.signed(event)
    tampered = body.replace(b'"amount_received": 1250', b'"amount_received": 9999')
    assert tampered != body

    assert await rejected(stripe_gateway, headers, tampered) == "signature does not match"


async def test_another_secret_is_rejected(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    headers, body = fake_stripe.signed(event, secret="whsec_someone_else")

    assert await rejected(stripe_gateway, headers, body) == "signature does not match"


async def test_a_signature_301_seconds_old_is_rejected(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    stale = fake_stripe.signed(event, timestamp=int(time.time()) - 301)
    fresh = fake_stripe.signed(event, timestamp=int(time.time()) - 295)

    assert await rejected(stripe_gateway, *stale) == "signature timestamp outside the tolerance"
    assert (await stripe_gateway.verify_webhook(headers=fresh[0], body=fresh[1])).event_id


async def test_a_future_timestamp_is_rejected(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    headers, body = fake_stripe.signed(event, timestamp=int(time.time()) + 301)

    assert await rejected(stripe_gateway, headers, body) == (
        "signature timestamp outside the tolerance"
    )


async def test_a_missing_header_is_rejected(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    headers, body = fake_stripe.signed(event)
    del headers["Stripe-Signature"]

    assert await rejected(stripe_gateway, headers, body) == "missing Stripe-Signature header"


async def test_any_of_several_v1_signatures_may_match(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    event = await succeeded_event(stripe_gateway, fake_stripe)
    # while a secret is rolled, Stripe signs with the old and the new one
    headers, body = fake_stripe.signed(
        event, secret="whsec_rolled_away", extra_secrets=[fake_stripe.webhook_secret]
    )
    assert headers["Stripe-Signature"].count("v1=") == 2

    verified = await stripe_gateway.verify_webhook(headers=headers, body=body)

    assert verified.event_id == event["id"]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("garbage", "malformed Stripe-Signature header"),
        ("t=soon,v1=00", "malformed Stripe-Signature timestamp"),
        ("v1=00", "malformed Stripe-Signature timestamp"),
        ("t=1,t=2,v1=00", "malformed Stripe-Signature timestamp"),
        ("t={now},v0=00", "no v1 signature"),
    ],
)
async def test_a_malformed_header_is_rejected(
    stripe_gateway: StripeGateway, header: str, reason: str
) -> None:
    headers = {"Stripe-Signature": header.format(now=int(time.time()))}

    assert await rejected(stripe_gateway, headers, b"{}") == reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json at all", "body is not JSON"),
        (b"\xff\xfe\x00binary", "body is not JSON"),
        (b'["evt_1"]', "body is not a Stripe event"),
        (
            json.dumps({"id": "evt_1", "object": "event", "type": "x"}).encode(),
            "body is not a Stripe event",
        ),
        (json.dumps({"id": "ch_1", "object": "charge"}).encode(), "body is not a Stripe event"),
    ],
)
async def test_a_signed_body_that_is_not_an_event_is_rejected(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe, body: bytes, reason: str
) -> None:
    headers = {"Stripe-Signature": fake_stripe.signature_header(body)}

    assert await rejected(stripe_gateway, headers, body) == reason

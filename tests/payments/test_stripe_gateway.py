"""StripeGateway against FakeStripe: the calls it makes and how it reads the answers."""

from __future__ import annotations

import pytest

from app.payments.gateway import (
    GatewayRefused,
    Movement,
    MovementKind,
    MovementStatus,
    PaymentStatus,
    Snapshot,
    StartRequest,
)
from app.payments.stripe_gateway import StripeGateway
from tests.fakes.stripe_api import SECRET_KEY, FakeStripe
from tests.payments.stripe_world import SDK_WARNING, authorized, start

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)

AUTH = MovementKind.AUTHORIZATION
CAPTURE = MovementKind.CAPTURE
OK = MovementStatus.SUCCEEDED


async def test_start_creates_a_payment_intent(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    started = await stripe_gateway.start(
        StartRequest(
            amount=1250,
            currency="EUR",
            token="ignored",
            idempotency_key="pay-1",
            order_id=7,
            order_number=1007,
            capture=False,
        )
    )

    [sent] = fake_stripe.requests_to("/v1/payment_intents", "POST")
    assert sent.params == {
        "amount": "1250",
        "currency": "eur",
        "capture_method": "manual",
        "automatic_payment_methods": {"enabled": "true"},
        "metadata": {"order_id": "7", "order_number": "1007"},
    }
    assert sent.headers["idempotency-key"] == "pay-1"
    assert sent.headers["authorization"] == f"Bearer {SECRET_KEY}"
    pi_id = started.snapshot.psp_reference
    assert started.client_secret == fake_stripe.objects.intent(pi_id)["client_secret"]
    assert started.client_secret.startswith(f"{pi_id}_secret_")
    assert started.snapshot == Snapshot(
        psp_reference=pi_id,
        status=PaymentStatus.PENDING,
        amount=1250,
        currency="EUR",
        authorized=0,
        captured=0,
        raw=fake_stripe.objects.intent(pi_id),
    )
    assert [e["type"] for e in fake_stripe.events] == ["payment_intent.created"]


async def test_start_with_automatic_capture(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    await start(stripe_gateway, capture=True)

    assert fake_stripe.requests[0].params["capture_method"] == "automatic"


async def test_start_retried_with_its_key_creates_one_intent(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    first = await start(stripe_gateway, key="pay-1")
    again = await start(stripe_gateway, key="pay-1")

    assert again == first
    assert fake_stripe.count("create") == 1
    assert len(fake_stripe.requests_to("/v1/payment_intents", "POST")) == 2


@pytest.mark.parametrize(
    "stripe_status",
    ["requires_payment_method", "requires_confirmation", "requires_action", "processing"],
)
async def test_fetch_waiting_statuses_are_pending(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe, stripe_status: str
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.objects.intent(pi_id)["status"] = stripe_status

    snapshot = await stripe_gateway.fetch(pi_id)

    assert (snapshot.status, snapshot.authorized, snapshot.captured) == (
        PaymentStatus.PENDING,
        0,
        0,
    )
    assert snapshot.movements == ()
    assert snapshot.raw["status"] == stripe_status


async def test_fetch_three_d_secure_is_pending(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.confirm(pi_id, "pm_card_threeDSecure2Required")

    snapshot = await stripe_gateway.fetch(pi_id)

    assert (snapshot.status, snapshot.movements) == (PaymentStatus.PENDING, ())


async def test_fetch_authorized(stripe_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    pi_id, charge = await authorized(stripe_gateway, fake_stripe)

    snapshot = await stripe_gateway.fetch(pi_id)

    assert (snapshot.status, snapshot.authorized, snapshot.captured) == (
        PaymentStatus.AUTHORIZED,
        1250,
        0,
    )
    assert snapshot.movements == (Movement(AUTH, OK, charge, 1250, "EUR"),)
    assert [e["type"] for e in fake_stripe.events][-1] == "payment_intent.amount_capturable_updated"


async def test_fetch_succeeded_at_once(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway, capture=True)
    charge = fake_stripe.confirm(pi_id, "pm_card_visa")["latest_charge"]

    snapshot = await stripe_gateway.fetch(pi_id)

    assert (snapshot.status, snapshot.authorized, snapshot.captured) == (
        PaymentStatus.SUCCEEDED,
        0,
        1250,
    )
    # automatic capture: no separate authorization
    assert snapshot.movements == (Movement(CAPTURE, OK, charge, 1250, "EUR"),)


async def test_fetch_declined_card(stripe_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    pi_id = await start(stripe_gateway)
    pi = fake_stripe.confirm(pi_id, "pm_card_chargeDeclined")

    snapshot = await stripe_gateway.fetch(pi_id)

    # Stripe waits for another card: the payment is still pending, with one failure
    assert snapshot.status is PaymentStatus.PENDING
    assert snapshot.message == "Your card was declined."
    [failure] = snapshot.movements
    assert (failure.kind, failure.status, failure.psp_reference, failure.amount) == (
        MovementKind.FAILURE,
        MovementStatus.FAILED,
        pi["latest_charge"],
        1250,
    )
    assert failure.message == "Your card was declined."
    assert failure.raw["code"] == "card_declined"


async def test_fetch_failure_without_charge(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.objects.intent(pi_id)["last_payment_error"] = {
        "type": "invalid_request_error",
        "code": "payment_intent_authentication_failure",
        "message": "The provided PaymentMethod has failed authentication.",
        "payment_method": {"id": "pm_123", "object": "payment_method", "type": "card"},
    }

    [failure] = (await stripe_gateway.fetch(pi_id)).movements

    assert failure.psp_reference == f"{pi_id}:pm_123"
    assert failure.message == "The provided PaymentMethod has failed authentication."


async def test_fetch_cancelled_after_a_hold(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id, charge = await authorized(stripe_gateway, fake_stripe)
    fake_stripe.objects.cancel(pi_id, None)

    snapshot = await stripe_gateway.fetch(pi_id)

    assert (snapshot.status, snapshot.authorized, snapshot.captured) == (
        PaymentStatus.CANCELLED,
        0,
        0,
    )
    assert snapshot.movements == (
        Movement(AUTH, OK, charge, 1250, "EUR"),
        Movement(MovementKind.VOID, OK, charge, 1250, "EUR"),
    )


async def test_fetch_reports_every_refund(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.confirm(pi_id)
    ours = (
        await stripe_gateway.refund(
            pi_id, amount=100, currency="EUR", idempotency_key="rf-1", our_reference="77"
        )
    ).psp_reference
    pending = fake_stripe.refund_from_dashboard(pi_id, 200, status="pending")
    failed = fake_stripe.refund_from_dashboard(pi_id, 300, status="pending")
    fake_stripe.settle_refund(failed, "failed", "expired_or_canceled_card")
    cancelled = fake_stripe.refund_from_dashboard(pi_id, 50, status="requires_action")
    fake_stripe.settle_refund(cancelled, "canceled")

    snapshot = await stripe_gateway.fetch(pi_id)

    refunds = {
        (m.psp_reference, m.status, m.amount, m.our_reference, m.message)
        for m in snapshot.movements
        if m.kind is MovementKind.REFUND
    }
    assert refunds == {
        (ours, MovementStatus.SUCCEEDED, 100, "77", ""),
        (pending, MovementStatus.PENDING, 200, "", ""),
        (failed, MovementStatus.FAILED, 300, "", "expired_or_canceled_card"),
        (cancelled, MovementStatus.FAILED, 50, "", ""),
    }
    assert snapshot.captured == 1250  # Stripe's amount_received counts refunded money too


async def test_fetch_reads_every_page_of_refunds(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway, amount=10_000)
    fake_stripe.confirm(pi_id)
    for _ in range(101):
        fake_stripe.refund_from_dashboard(pi_id, 1)

    snapshot = await stripe_gateway.fetch(pi_id)

    assert sum(m.kind is MovementKind.REFUND for m in snapshot.movements) == 101
    pages = [r.params for r in fake_stripe.requests_to("/v1/refunds", "GET")]
    assert pages[0] == {"payment_intent": pi_id, "limit": "100"}
    assert pages[1]["starting_after"] == fake_stripe.objects.refunds_of(pi_id)[99]["id"]
    assert len(pages) == 2


async def test_capture(stripe_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    pi_id, charge = await authorized(stripe_gateway, fake_stripe)

    snapshot = await stripe_gateway.capture(
        pi_id, amount=1000, currency="EUR", idempotency_key="cap-1"
    )

    [sent] = fake_stripe.requests_to(f"/v1/payment_intents/{pi_id}/capture")
    assert (sent.params, sent.headers["idempotency-key"]) == (
        {"amount_to_capture": "1000"},
        "cap-1",
    )
    assert (snapshot.status, snapshot.authorized, snapshot.captured) == (
        PaymentStatus.SUCCEEDED,
        0,
        1000,
    )
    assert snapshot.movements == (
        Movement(AUTH, OK, charge, 1250, "EUR"),
        Movement(CAPTURE, OK, charge, 1000, "EUR"),
    )
    assert fake_stripe.count("capture") == 1


async def test_capture_of_a_captured_payment_answers_its_state(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id, _ = await authorized(stripe_gateway, fake_stripe)
    first = await stripe_gateway.capture(
        pi_id, amount=1250, currency="EUR", idempotency_key="cap-1"
    )

    # another key: Stripe answers 400 payment_intent_unexpected_state
    again = await stripe_gateway.capture(
        pi_id, amount=1250, currency="EUR", idempotency_key="cap-2"
    )

    assert again == first
    assert again.status is PaymentStatus.SUCCEEDED
    assert fake_stripe.count("capture") == 1


async def test_capture_of_a_cancelled_payment_is_refused(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id, _ = await authorized(stripe_gateway, fake_stripe)
    fake_stripe.objects.cancel(pi_id, None)

    with pytest.raises(GatewayRefused) as refused:
        await stripe_gateway.capture(pi_id, amount=1250, currency="EUR", idempotency_key="cap-1")

    assert refused.value.raw["error"]["code"] == "payment_intent_unexpected_state"


async def test_capture_retried_after_a_timeout_charges_once(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id, _ = await authorized(stripe_gateway, fake_stripe)
    # carried out at once, answered after the client's 0.5 s timeout
    fake_stripe.delay_next(f"/v1/payment_intents/{pi_id}/capture", 1.5)

    snapshot = await stripe_gateway.capture(
        pi_id, amount=1250, currency="EUR", idempotency_key="cap-1"
    )

    assert (snapshot.status, snapshot.captured) == (PaymentStatus.SUCCEEDED, 1250)
    tries = fake_stripe.requests_to(f"/v1/payment_intents/{pi_id}/capture")
    assert [t.headers["idempotency-key"] for t in tries] == ["cap-1", "cap-1"]
    assert fake_stripe.count("capture") == 1


async def test_refund(stripe_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.confirm(pi_id)

    movement = await stripe_gateway.refund(
        pi_id, amount=300, currency="EUR", idempotency_key="rf-1", our_reference="42"
    )

    [sent] = fake_stripe.requests_to("/v1/refunds", "POST")
    assert sent.params == {
        "payment_intent": pi_id,
        "amount": "300",
        "metadata": {"refund_id": "42"},
    }
    assert sent.headers["idempotency-key"] == "rf-1"
    assert movement == Movement(
        MovementKind.REFUND,
        OK,
        movement.psp_reference,
        300,
        "EUR",
        our_reference="42",
        raw=fake_stripe.objects.refund_by_id(movement.psp_reference),
    )
    assert movement.psp_reference.startswith("re_")
    assert [e["type"] for e in fake_stripe.events][-2:] == ["refund.created", "charge.refunded"]


async def test_refund_replayed_with_its_key_refunds_once(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.confirm(pi_id)
    args = {"amount": 300, "currency": "EUR", "idempotency_key": "rf-1", "our_reference": "42"}
    first = await stripe_gateway.refund(pi_id, **args)  # type: ignore[arg-type]

    again = await stripe_gateway.refund(pi_id, **args)  # type: ignore[arg-type]

    assert again == first
    assert fake_stripe.count("refund") == 1
    with pytest.raises(GatewayRefused) as refused:
        await stripe_gateway.refund(pi_id, **{**args, "amount": 400})  # type: ignore[arg-type]
    assert refused.value.raw["error"]["type"] == "idempotency_error"
    assert fake_stripe.count("refund") == 1


async def test_refund_beyond_the_capture_is_refused(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.confirm(pi_id)

    with pytest.raises(GatewayRefused) as refused:
        await stripe_gateway.refund(
            pi_id, amount=1251, currency="EUR", idempotency_key="rf-1", our_reference="42"
        )

    assert refused.value.message == (
        "Refund amount (1251) is greater than unrefunded amount on charge (1250)"
    )
    assert refused.value.raw["error"]["code"] == "amount_too_large"
    assert fake_stripe.count("refund") == 0


async def test_void(stripe_gateway: StripeGateway, fake_stripe: FakeStripe) -> None:
    pi_id, _ = await authorized(stripe_gateway, fake_stripe)

    snapshot = await stripe_gateway.void(pi_id, idempotency_key="void-1")

    [sent] = fake_stripe.requests_to(f"/v1/payment_intents/{pi_id}/cancel")
    assert sent.headers["idempotency-key"] == "void-1"
    assert (snapshot.status, snapshot.authorized) == (PaymentStatus.CANCELLED, 0)
    assert fake_stripe.events[-1]["type"] == "payment_intent.canceled"
    # another key: Stripe answers 400, the stripe_gateway answers the state
    assert await stripe_gateway.void(pi_id, idempotency_key="void-2") == snapshot
    assert fake_stripe.count("cancel") == 1


async def test_void_of_a_captured_payment_is_refused(
    stripe_gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    pi_id = await start(stripe_gateway)
    fake_stripe.confirm(pi_id)

    with pytest.raises(GatewayRefused) as refused:
        await stripe_gateway.void(pi_id, idempotency_key="void-1")

    assert refused.value.message == "Stripe cannot cancel a PaymentIntent that is succeeded"
    assert refused.value.raw["error"]["code"] == "payment_intent_unexpected_state"
    assert fake_stripe.objects.intent(pi_id)["status"] == "succeeded"

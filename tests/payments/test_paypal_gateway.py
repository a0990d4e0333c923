"""PayPalGateway against FakePayPal: OAuth, orders, captures, refunds, errors, webhooks."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator

import pytest

from app.payments.gateway import (
    GatewayRefused,
    GatewayUnavailable,
    MovementKind,
    MovementStatus,
    PaymentStatus,
    StartRequest,
    WebhookRejected,
)
from app.payments.paypal_gateway import DECLINED_MESSAGE, PayPalGateway
from app.payments.paypal_wire import from_paypal_amount, to_paypal_amount
from tests.fakes.local_server import unused_url
from tests.fakes.paypal_api import FakePayPal

RETURN_URL = "https://shop.example/paypal/return"
CANCEL_URL = "https://shop.example/paypal/cancel"


@pytest.fixture
def fake() -> Iterator[FakePayPal]:
    with FakePayPal() as server:
        yield server


def make_gateway(fake: FakePayPal, **overrides: object) -> PayPalGateway:
    values: dict[str, object] = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "api_base": fake.url,
        "webhook_id": fake.webhook_id,
        "return_url": RETURN_URL,
        "cancel_url": CANCEL_URL,
        "timeout": 2.0,
    }
    values.update(overrides)
    return PayPalGateway(**values)  # type: ignore[arg-type]


@pytest.fixture
async def gateway(fake: FakePayPal) -> AsyncIterator[PayPalGateway]:
    gw = make_gateway(fake)
    yield gw
    await gw.aclose()


def start_request(key: str = "attempt-1", amount: int = 1999, currency: str = "USD"):
    return StartRequest(
        amount=amount,
        currency=currency,
        token="",
        idempotency_key=key,
        order_id=42,
        order_number=1042,
    )


async def approved_order(gateway: PayPalGateway, fake: FakePayPal, amount: int = 1999) -> str:
    started = await gateway.start(start_request(amount=amount))
    fake.approve(started.snapshot.psp_reference)
    return started.snapshot.psp_reference


async def captured_order(gateway: PayPalGateway, fake: FakePayPal, amount: int = 1999) -> str:
    order_id = await approved_order(gateway, fake, amount)
    await gateway.capture(order_id, amount=amount, currency="USD", idempotency_key="cap-1")
    return order_id


# -- amounts ---------------------------------------------------------------------------------


def test_amounts_follow_paypal_decimals() -> None:
    assert to_paypal_amount(1999, "USD") == {"currency_code": "USD", "value": "19.99"}
    assert to_paypal_amount(5, "USD") == {"currency_code": "USD", "value": "0.05"}
    assert to_paypal_amount(1500, "JPY") == {"currency_code": "JPY", "value": "1500"}
    assert to_paypal_amount(12345, "KWD") == {"currency_code": "KWD", "value": "12.345"}
    # HUF and TWD have two ISO decimals but PayPal takes whole units only.
    assert to_paypal_amount(150000, "HUF") == {"currency_code": "HUF", "value": "1500"}
    with pytest.raises(GatewayRefused, match="whole HUF"):
        to_paypal_amount(150050, "HUF")
    assert from_paypal_amount({"currency_code": "HUF", "value": "1500"}) == (150000, "HUF")
    assert from_paypal_amount({"currency_code": "USD", "value": "19.99"}) == (1999, "USD")
    with pytest.raises(ValueError):
        from_paypal_amount({"currency_code": "USD", "value": "19.999"})


# -- OAuth -----------------------------------------------------------------------------------


async def test_token_is_fetched_once_and_cached(gateway, fake) -> None:
    started = await gateway.start(start_request())
    await asyncio.gather(*(gateway.fetch(started.snapshot.psp_reference) for _ in range(5)))
    tokens = fake.calls("POST", "/v1/oauth2/token")
    assert len(tokens) == 1
    expected = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    assert tokens[0].headers["authorization"] == f"Basic {expected}"
    assert tokens[0].body == b"grant_type=client_credentials"


async def test_concurrent_first_calls_fetch_one_token(fake) -> None:
    gateway = make_gateway(fake)
    try:
        order_id = (await gateway.start(start_request())).snapshot.psp_reference
    finally:
        await gateway.aclose()
    fresh = make_gateway(fake)
    try:
        await asyncio.gather(*(fresh.fetch(order_id) for _ in range(8)))
    finally:
        await fresh.aclose()
    assert len(fake.calls("POST", "/v1/oauth2/token")) == 2  # one per gateway


async def test_expired_token_is_refreshed(gateway, fake) -> None:
    fake.token_lifetime = 0  # every token is stale as soon as it is used
    order_id = (await gateway.start(start_request())).snapshot.psp_reference
    await gateway.fetch(order_id)
    assert len(fake.calls("POST", "/v1/oauth2/token")) == 2


async def test_a_401_refreshes_the_token_once_and_retries(gateway, fake) -> None:
    order_id = (await gateway.start(start_request())).snapshot.psp_reference
    fake.expire_tokens()
    snapshot = await gateway.fetch(order_id)
    assert snapshot.psp_reference == order_id
    assert len(fake.calls("POST", "/v1/oauth2/token")) == 2
    gets = fake.calls("GET", f"/v2/checkout/orders/{order_id}")
    assert len(gets) == 2
    assert gets[0].headers["authorization"] != gets[1].headers["authorization"]


async def test_wrong_credentials_are_refused(fake) -> None:
    gateway = make_gateway(fake, client_secret="wrong")
    try:
        with pytest.raises(GatewayRefused, match="invalid_client"):
            await gateway.start(start_request())
    finally:
        await gateway.aclose()
    assert fake.calls("POST", "/v2/checkout/orders") == []


# -- start and fetch -------------------------------------------------------------------------


async def test_start_creates_an_order_and_answers_the_approval_link(gateway, fake) -> None:
    started = await gateway.start(start_request())
    [call] = fake.calls("POST", "/v2/checkout/orders")
    assert call.headers["paypal-request-id"] == "attempt-1"
    assert call.headers["prefer"] == "return=representation"
    assert call.headers["authorization"].startswith("Bearer A21AA")
    assert call.json == {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "amount": {"currency_code": "USD", "value": "19.99"},
                "custom_id": "42",
                "invoice_id": "1042",
            }
        ],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "return_url": RETURN_URL,
                    "cancel_url": CANCEL_URL,
                    "user_action": "PAY_NOW",
                }
            }
        },
    }
    order_id = started.snapshot.psp_reference
    assert started.approval_url == f"{fake.url}/checkoutnow?token={order_id}"
    assert started.snapshot.status is PaymentStatus.PENDING
    assert (started.snapshot.amount, started.snapshot.currency) == (1999, "USD")
    assert (started.snapshot.authorized, started.snapshot.captured) == (0, 0)


async def test_start_replays_with_the_same_key(gateway, fake) -> None:
    first = await gateway.start(start_request("same"))
    second = await gateway.start(start_request("same"))
    assert second.snapshot.psp_reference == first.snapshot.psp_reference
    assert len(fake.orders) == 1


@pytest.mark.parametrize(
    ("paypal_status", "status", "authorized"),
    [
        ("CREATED", PaymentStatus.PENDING, 0),
        ("SAVED", PaymentStatus.PENDING, 0),
        ("PAYER_ACTION_REQUIRED", PaymentStatus.PENDING, 0),
        ("APPROVED", PaymentStatus.AUTHORIZED, 1999),
        ("VOIDED", PaymentStatus.CANCELLED, 0),
    ],
)
async def test_fetch_maps_order_status(gateway, fake, paypal_status, status, authorized) -> None:
    order_id = (await gateway.start(start_request())).snapshot.psp_reference
    fake.set_status(order_id, paypal_status)
    snapshot = await gateway.fetch(order_id)
    assert (snapshot.status, snapshot.authorized, snapshot.captured) == (status, authorized, 0)
    assert snapshot.movements == ()
    assert snapshot.raw["id"] == order_id


async def test_fetch_unknown_order_is_refused(gateway) -> None:
    with pytest.raises(GatewayRefused, match="RESOURCE_NOT_FOUND"):
        await gateway.fetch("5O190127TN364715T")


# -- capture ---------------------------------------------------------------------------------


async def test_approval_then_capture(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    snapshot = await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="cap-1")
    [call] = fake.calls("POST", f"/v2/checkout/orders/{order_id}/capture")
    assert call.headers["paypal-request-id"] == "cap-1"
    assert (snapshot.status, snapshot.captured, snapshot.authorized) == (
        PaymentStatus.SUCCEEDED,
        1999,
        0,
    )
    [capture] = snapshot.movements
    assert (capture.kind, capture.status, capture.amount, capture.currency) == (
        MovementKind.CAPTURE,
        MovementStatus.SUCCEEDED,
        1999,
        "USD",
    )
    assert capture.psp_reference == fake.orders[order_id].captures[0]


async def test_capture_before_approval_is_refused(gateway, fake) -> None:
    order_id = (await gateway.start(start_request())).snapshot.psp_reference
    with pytest.raises(GatewayRefused, match="ORDER_NOT_APPROVED"):
        await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="c")
    assert fake.count("captures") == 0


async def test_capture_with_the_same_key_replays(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    first = await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="k")
    again = await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="k")
    assert again.movements == first.movements
    assert again.status is PaymentStatus.SUCCEEDED
    assert fake.count("captures", order_id) == 1


async def test_capture_with_another_key_answers_the_current_state(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    first = await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="k1")
    again = await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="k2")
    assert (again.status, again.captured) == (PaymentStatus.SUCCEEDED, 1999)
    assert [m.psp_reference for m in again.movements] == [m.psp_reference for m in first.movements]
    assert fake.count("captures", order_id) == 1
    # ORDER_ALREADY_CAPTURED was answered by reading the order.
    assert len(fake.calls("GET", f"/v2/checkout/orders/{order_id}")) == 1


async def test_declined_instrument_is_refused(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    fake.decline_next_capture()
    with pytest.raises(GatewayRefused) as refused:
        await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="c")
    assert refused.value.message == DECLINED_MESSAGE
    assert refused.value.raw["details"][0]["issue"] == "INSTRUMENT_DECLINED"
    assert fake.count("captures") == 0
    assert (await gateway.fetch(order_id)).status is PaymentStatus.AUTHORIZED


async def test_declined_capture_status_is_refused_and_fetched_as_failure(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    fake.decline_next_capture(as_capture_status=True)
    with pytest.raises(GatewayRefused) as refused:
        await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="c")
    assert refused.value.message == DECLINED_MESSAGE
    snapshot = await gateway.fetch(order_id)
    assert (snapshot.status, snapshot.captured) == (PaymentStatus.DECLINED, 0)
    [failure] = snapshot.movements
    assert (failure.kind, failure.status, failure.message) == (
        MovementKind.FAILURE,
        MovementStatus.FAILED,
        "DECLINED_BY_PROCESSOR",
    )


async def test_pending_capture_is_a_pending_movement(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    fake.next_capture_status("PENDING")
    snapshot = await gateway.capture(order_id, amount=1999, currency="USD", idempotency_key="c")
    assert (snapshot.status, snapshot.captured) == (PaymentStatus.PENDING, 0)
    [pending] = snapshot.movements
    assert (pending.kind, pending.status, pending.amount) == (
        MovementKind.CAPTURE,
        MovementStatus.PENDING,
        1999,
    )


# -- refund and void -------------------------------------------------------------------------


async def test_refund_carries_our_reference_both_ways(gateway, fake) -> None:
    order_id = await captured_order(gateway, fake)
    capture_id = fake.orders[order_id].captures[0]
    movement = await gateway.refund(
        order_id, amount=500, currency="USD", idempotency_key="ref-1", our_reference="refund-17"
    )
    [call] = fake.calls("POST", f"/v2/payments/captures/{capture_id}/refund")
    assert call.headers["paypal-request-id"] == "ref-1"
    assert call.json == {
        "amount": {"currency_code": "USD", "value": "5.00"},
        "custom_id": "refund-17",
    }
    assert (movement.kind, movement.status, movement.amount, movement.our_reference) == (
        MovementKind.REFUND,
        MovementStatus.SUCCEEDED,
        500,
        "refund-17",
    )
    snapshot = await gateway.fetch(order_id)
    refunds = [m for m in snapshot.movements if m.kind is MovementKind.REFUND]
    assert [(m.psp_reference, m.amount, m.our_reference) for m in refunds] == [
        (movement.psp_reference, 500, "refund-17")
    ]
    assert snapshot.captured == 1999  # refunds are movements; the capture stays captured


async def test_refund_replays_with_the_same_key(gateway, fake) -> None:
    order_id = await captured_order(gateway, fake)
    first = await gateway.refund(
        order_id, amount=500, currency="USD", idempotency_key="r", our_reference="x"
    )
    again = await gateway.refund(
        order_id, amount=500, currency="USD", idempotency_key="r", our_reference="x"
    )
    assert again.psp_reference == first.psp_reference
    assert fake.count("refunds", order_id) == 1


@pytest.mark.parametrize(
    ("paypal_status", "status"),
    [
        ("PENDING", MovementStatus.PENDING),
        ("FAILED", MovementStatus.FAILED),
        ("CANCELLED", MovementStatus.FAILED),
    ],
)
async def test_refund_status_mapping(gateway, fake, paypal_status, status) -> None:
    order_id = await captured_order(gateway, fake)
    fake.next_refund_status(paypal_status)
    movement = await gateway.refund(
        order_id, amount=1999, currency="USD", idempotency_key="r", our_reference="ours"
    )
    assert movement.status is status
    [fetched] = [m for m in (await gateway.fetch(order_id)).movements if m.kind.name == "REFUND"]
    assert (fetched.status, fetched.our_reference) == (status, "ours")


async def test_refund_beyond_the_capture_is_refused(gateway, fake) -> None:
    order_id = await captured_order(gateway, fake)
    with pytest.raises(GatewayRefused, match="REFUND_AMOUNT_EXCEEDED"):
        await gateway.refund(
            order_id, amount=2000, currency="USD", idempotency_key="r", our_reference="x"
        )
    assert fake.count("refunds") == 0


async def test_refund_of_an_uncaptured_order_is_refused(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    with pytest.raises(GatewayRefused, match="no capture"):
        await gateway.refund(
            order_id, amount=100, currency="USD", idempotency_key="r", our_reference="x"
        )
    assert fake.calls("POST", "/v2/payments/captures") == []


async def test_void_of_an_approved_order_cancels_without_a_call(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    snapshot = await gateway.void(order_id, idempotency_key="v")
    assert (snapshot.status, snapshot.authorized, snapshot.captured) == (
        PaymentStatus.CANCELLED,
        0,
        0,
    )
    assert [(r.method, r.path) for r in fake.requests[-1:]] == [
        ("GET", f"/v2/checkout/orders/{order_id}")
    ]
    assert fake.orders[order_id].status == "APPROVED"


async def test_void_of_a_captured_order_is_refused(gateway, fake) -> None:
    order_id = await captured_order(gateway, fake)
    with pytest.raises(GatewayRefused, match="refund it instead"):
        await gateway.void(order_id, idempotency_key="v")


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_server_errors_are_unavailable(gateway, fake, status) -> None:
    fake.fail_next("/v2/checkout/orders", status)
    with pytest.raises(GatewayUnavailable, match=str(status)):
        await gateway.start(start_request())
    assert len(fake.orders) == 0


async def test_a_timeout_is_unavailable(fake) -> None:
    gateway = make_gateway(fake, timeout=0.2)
    try:
        fake.fail_next("/v2/checkout/orders", 201, delay=1.0)
        with pytest.raises(GatewayUnavailable, match="did not answer"):
            await gateway.start(start_request())
    finally:
        await gateway.aclose()


async def test_unreachable_paypal_is_unavailable(fake) -> None:
    gateway = make_gateway(fake, api_base=unused_url())
    try:
        with pytest.raises(GatewayUnavailable):
            await gateway.start(start_request())
    finally:
        await gateway.aclose()


async def test_a_4xx_is_refused_with_paypal_s_message(gateway, fake) -> None:
    body = {
        "name": "UNPROCESSABLE_ENTITY",
        "message": "The requested action could not be performed.",
        "debug_id": "b1a2c3",
        "details": [{"issue": "PAYEE_ACCOUNT_RESTRICTED", "description": "Payee is restricted."}],
    }
    fake.fail_next("/v2/checkout/orders", 422, body=json.dumps(body).encode())
    with pytest.raises(GatewayRefused) as refused:
        await gateway.start(start_request())
    assert refused.value.message == (
        "UNPROCESSABLE_ENTITY: The requested action could not be performed.: "
        "PAYEE_ACCOUNT_RESTRICTED: Payee is restricted."
    )
    assert refused.value.raw == body


@pytest.mark.parametrize(
    "body",
    [
        b"<html>Bad gateway</html>",
        b"[1, 2]",
        json.dumps({"id": "X", "status": "COMPLETED"}).encode(),  # no purchase_units
        json.dumps(
            {
                "id": "X",
                "status": "TELEPORTED",
                "purchase_units": [{"amount": {"currency_code": "USD", "value": "1.00"}}],
            }
        ).encode(),
        json.dumps(
            {
                "id": "X",
                "status": "CREATED",
                "purchase_units": [{"amount": {"currency_code": "USD", "value": "one"}}],
            }
        ).encode(),
    ],
)
async def test_invalid_answers_are_unavailable(gateway, fake, body) -> None:
    fake.fail_next("/v2/checkout/orders/", 200, body=body)
    with pytest.raises(GatewayUnavailable):
        await gateway.fetch("5O190127TN364715T")


async def test_invalid_token_answer_is_unavailable(gateway, fake) -> None:
    fake.fail_next("/v1/oauth2/token", 200, body=b'{"token_type": "Bearer"}')
    with pytest.raises(GatewayUnavailable, match="token"):
        await gateway.start(start_request())


async def test_an_id_that_is_not_paypal_s_is_refused_without_a_call(gateway, fake) -> None:
    with pytest.raises(GatewayRefused):
        await gateway.fetch("../v1/oauth2/token")
    assert fake.requests == []


# -- webhooks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type",
    ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED"],
)
async def test_webhook_verified(gateway, fake, event_type) -> None:
    order_id = await captured_order(gateway, fake)
    await gateway.refund(order_id, amount=100, currency="USD", idempotency_key="r",
                         our_reference="x")  # fmt: skip
    headers, body = fake.event(event_type, order_id)
    lowered = {k.lower(): v for k, v in headers.items()}
    event = await gateway.verify_webhook(headers=lowered, body=body)
    sent = json.loads(body)
    assert (event.event_id, event.event_type, event.psp_reference) == (
        sent["id"],
        event_type,
        order_id,
    )
    assert event.event_id.startswith("WH-")
    assert event.payload == sent
    [call] = fake.calls("POST", "/v1/notifications/verify-webhook-signature")
    assert call.json == {
        "auth_algo": "SHA256withRSA",
        "cert_url": headers["PAYPAL-CERT-URL"],
        "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
        "webhook_id": fake.webhook_id,
        "webhook_event": sent,
    }
    assert body in call.body  # the event went back byte for byte


async def test_refund_webhook_finds_its_order_through_the_capture(gateway, fake) -> None:
    order_id = await captured_order(gateway, fake)
    await gateway.refund(order_id, amount=100, currency="USD", idempotency_key="r",
                         our_reference="x")  # fmt: skip
    headers, body = fake.event("PAYMENT.CAPTURE.REFUNDED", order_id)
    assert "supplementary_data" not in json.loads(body)["resource"]
    await gateway.verify_webhook(headers=headers, body=body)
    capture_id = fake.orders[order_id].captures[0]
    assert len(fake.calls("GET", f"/v2/payments/captures/{capture_id}")) == 1


async def test_tampered_webhook_is_rejected(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    headers, body = fake.event("CHECKOUT.ORDER.APPROVED", order_id)
    tampered = body.replace(b'"19.99"', b'"0.01"')
    assert tampered != body
    with pytest.raises(WebhookRejected, match="FAILURE"):
        await gateway.verify_webhook(headers=headers, body=tampered)


async def test_webhook_for_another_webhook_id_is_rejected(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    headers, body = fake.event("CHECKOUT.ORDER.APPROVED", order_id, webhook_id="OTHERHOOK")
    with pytest.raises(WebhookRejected, match="FAILURE"):
        await gateway.verify_webhook(headers=headers, body=body)


async def test_forced_verification_failure_is_rejected(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    headers, body = fake.event("CHECKOUT.ORDER.APPROVED", order_id)
    fake.force_verification_failure = True
    with pytest.raises(WebhookRejected, match="FAILURE"):
        await gateway.verify_webhook(headers=headers, body=body)


@pytest.mark.parametrize(
    "header",
    [
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    ],
)
async def test_webhook_missing_a_header_is_rejected_without_a_call(gateway, fake, header) -> None:
    order_id = await approved_order(gateway, fake)
    headers, body = fake.event("CHECKOUT.ORDER.APPROVED", order_id)
    del headers[header]
    before = len(fake.requests)
    with pytest.raises(WebhookRejected, match=header.lower()):
        await gateway.verify_webhook(headers=headers, body=body)
    assert len(fake.requests) == before


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[]", b'{"id": "WH-1"}'])
async def test_webhook_body_that_is_not_an_event_is_rejected_without_a_call(
    gateway, fake, body
) -> None:
    order_id = await approved_order(gateway, fake)
    headers, _ = fake.event("CHECKOUT.ORDER.APPROVED", order_id)
    before = len(fake.requests)
    with pytest.raises(WebhookRejected):
        await gateway.verify_webhook(headers=headers, body=body)
    assert len(fake.requests) == before


async def test_webhook_with_paypal_down_is_unavailable(gateway, fake) -> None:
    order_id = await approved_order(gateway, fake)
    headers, body = fake.event("CHECKOUT.ORDER.APPROVED", order_id)
    fake.fail_next("/v1/notifications/verify-webhook-signature", 503)
    with pytest.raises(GatewayUnavailable):
        await gateway.verify_webhook(headers=headers, body=body)


async def test_from_settings_uses_the_configured_paypal(fake) -> None:
    from pydantic import SecretStr

    from app.settings import Settings

    settings = Settings(
        environment="test",
        payment_gateways=["PAYPAL"],
        paypal_client_id=fake.client_id,
        paypal_client_secret=SecretStr(fake.client_secret),
        paypal_webhook_id=fake.webhook_id,
        paypal_api_base=fake.url + "/",
        paypal_return_url=RETURN_URL,
        paypal_cancel_url=CANCEL_URL,
        payment_timeout_seconds=3,
    )
    gateway = PayPalGateway.from_settings(settings)
    try:
        started = await gateway.start(start_request())
    finally:
        await gateway.aclose()
    assert started.snapshot.status is PaymentStatus.PENDING
    [call] = fake.calls("POST", "/v2/checkout/orders")
    context = call.json["payment_source"]["paypal"]["experience_context"]
    assert (context["return_url"], context["cancel_url"]) == (RETURN_URL, CANCEL_URL)

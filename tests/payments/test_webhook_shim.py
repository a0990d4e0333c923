"""The REST shim's edges: its OpenAPI description, a disabled provider, oversized and
malformed bodies, and events about no payment of ours."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from app.webhooks import MAX_BODY_BYTES
from models.payments import WebhookEvent
from tests.payments.provider_world import SDK_WARNING, provider_world

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)


async def test_the_openapi_description_names_both_endpoints(http):
    response = await http.get("/webhooks/openapi.json")
    spec = response.json()
    assert response.status_code == 200
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {"/webhooks/stripe", "/webhooks/paypal"}
    responses = spec["paths"]["/webhooks/stripe"]["post"]["responses"]
    assert set(responses) == {"200", "400", "404", "413", "503"}


async def test_a_provider_this_shop_does_not_take_is_404(http):
    response = await http.post("/webhooks/stripe", content=b"{}")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "GATEWAY_DISABLED")


async def test_get_is_not_allowed(http):
    assert (await http.get("/webhooks/stripe")).status_code == 405


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"x" * (MAX_BODY_BYTES + 1), 413, "BODY_TOO_LARGE"),
        (b"\xff\xfe not json", 400, "INVALID_SIGNATURE"),
        (b"[1, 2]", 400, "INVALID_SIGNATURE"),
        (b"", 400, "INVALID_SIGNATURE"),
    ],
)
async def test_bad_bodies_are_refused_without_a_trace(start_app, session_factory, body, status,
                                                      code):  # fmt: skip
    async with provider_world(start_app) as world:
        header = world.stripe.signature_header(body)
        response = await world.http.post(
            "/webhooks/stripe", content=body, headers={"Stripe-Signature": header}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    async with session_factory() as session:
        assert (await session.scalars(select(WebhookEvent))).all() == []


async def test_an_event_about_no_payment_is_kept_as_ignored(start_app, session_factory):
    async with provider_world(start_app) as world:
        event = {
            "id": "evt_customer_1", "object": "event", "type": "customer.created",
            "created": int(time.time()), "data": {"object": {"id": "cus_1", "object": "customer"}},
        }  # fmt: skip
        status, body = await world.stripe_event(event)
        again = await world.stripe_event(event)
    assert (status, body) == (200, {"status": "ignored", "eventId": "evt_customer_1"})
    assert again[1]["status"] == "duplicate"
    async with session_factory() as session:
        row = (await session.scalars(select(WebhookEvent))).one()
    assert (row.provider, row.status, json.loads(row.body)["type"]) == (
        "STRIPE", "ignored", "customer.created",
    )  # fmt: skip

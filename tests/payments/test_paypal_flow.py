"""PAYPAL end to end: the approval link, capture after approval (by the customer's
confirmation or the webhook, once), refunds at PayPal, and a verification FAILURE."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.payments import WebhookEvent
from tests.catalog.staff_fixtures import key_of, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.conftest import TOKEN_CREATE
from tests.factories import PASSWORD
from tests.payments.payment_fixtures import CONFIRM, REFUND, checkout, codes, money_rows
from tests.payments.provider_world import provider_world

__all__ = ["staff_user"]


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _paypal_order(world, shop: Shop) -> dict:
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 2)], method=await shop.method(price=500))
    return await checkout(world.gql, cart, gateway="PAYPAL", token=None)


async def test_approval_then_confirmation_captures_once(start_app, shop, session_factory):
    async with provider_world(start_app) as world:
        order = await _paypal_order(world, shop)
        [payment] = order["payments"]
        paypal_id = payment["pspReference"]

        assert order["status"] == "PENDING_PAYMENT"
        assert payment["approvalUrl"] and paypal_id in payment["approvalUrl"]
        [create] = world.paypal.calls("POST", "/v2/checkout/orders")
        assert create.json["purchase_units"][0]["amount"] == {
            "currency_code": "USD", "value": "25.00",
        }  # fmt: skip
        assert create.headers["paypal-request-id"]

        world.paypal.approve(paypal_id)  # the buyer, at PayPal
        first = (await world.gql.execute(CONFIRM, token=order["token"]))["orderPaymentConfirm"]
        status, body = await world.paypal_event("CHECKOUT.ORDER.APPROVED", paypal_id)
        second = (await world.gql.execute(CONFIRM, token=order["token"]))["orderPaymentConfirm"]

        assert first["order"]["status"] == "PAID"
        assert first["order"]["payments"][0]["approvalUrl"] is None
        assert (status, body["status"]) == (200, "processed")
        assert second["order"]["status"] == "PAID"
        assert world.paypal.count("captures") == 1
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["payments"] == [("succeeded", 2500, 0, 0)]
        assert rows["transactions"] == [("capture", "succeeded", 2500)]


async def test_the_approval_webhook_alone_captures_and_a_duplicate_changes_nothing(
    start_app, shop, session_factory
):
    async with provider_world(start_app) as world:
        order = await _paypal_order(world, shop)
        paypal_id = order["payments"][0]["pspReference"]
        world.paypal.approve(paypal_id)
        headers, body = world.paypal.event("CHECKOUT.ORDER.APPROVED", paypal_id)

        first = await world.http.post("/webhooks/paypal", content=body, headers=headers)
        again = await world.http.post("/webhooks/paypal", content=body, headers=headers)

        assert first.json()["status"] == "processed"
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")
        assert world.paypal.count("captures") == 1
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert (rows["status"], rows["transactions"]) == (
            "paid", [("capture", "succeeded", 2500)],
        )  # fmt: skip
        async with session_factory() as session:
            assert len((await session.scalars(select(WebhookEvent))).all()) == 1


async def test_a_verification_failure_is_400_and_changes_nothing(start_app, shop, session_factory):
    async with provider_world(start_app) as world:
        order = await _paypal_order(world, shop)
        paypal_id = order["payments"][0]["pspReference"]
        world.paypal.approve(paypal_id)
        world.paypal.force_verification_failure = True

        status, body = await world.paypal_event("CHECKOUT.ORDER.APPROVED", paypal_id)

        assert (status, body["error"]["code"]) == (400, "INVALID_SIGNATURE")
        assert world.paypal.count("captures") == 0
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert (rows["status"], rows["transactions"]) == ("pending_payment", [])
        async with session_factory() as session:
            assert (await session.scalars(select(WebhookEvent))).all() == []


async def test_a_refund_at_paypal_is_recorded_once_with_its_webhook(
    start_app, shop, staff_user, session_factory
):
    async with provider_world(start_app) as world:
        order = await _paypal_order(world, shop)
        paypal_id = order["payments"][0]["pspReference"]
        world.paypal.approve(paypal_id)
        await world.gql.execute(CONFIRM, token=order["token"])
        signed_in = await world.gql.execute(TOKEN_CREATE, email=staff_user.email, password=PASSWORD)
        token = signed_in["tokenCreate"]["accessToken"]
        staff = world.gql.as_user(token)

        payload = (await staff.execute(REFUND, orderId=order["id"], input={"amount": "7.50"}))[
            "orderRefund"
        ]
        await world.paypal_event("PAYMENT.CAPTURE.REFUNDED", paypal_id)
        too_much = (await staff.execute(REFUND, orderId=order["id"], input={"amount": "17.51"}))[
            "orderRefund"
        ]

        assert payload["refund"]["status"] == "SUCCEEDED"
        [call] = world.paypal.calls("POST", "/v2/payments/captures/")
        assert call.json["custom_id"] == str(key_of(payload["refund"]["id"]))
        assert codes(too_much) == [(["amount"], "REFUND_EXCEEDS_CAPTURED")]
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["payments"] == [("succeeded", 2500, 750, 0)]
        assert rows["refunds"] == [("succeeded", "staff", 750)]
        assert [t[0] for t in rows["transactions"]] == ["capture", "refund"]


async def test_an_approval_declined_at_capture_is_a_failure_and_the_order_waits(
    start_app, shop, session_factory
):
    async with provider_world(start_app) as world:
        order = await _paypal_order(world, shop)
        paypal_id = order["payments"][0]["pspReference"]
        world.paypal.approve(paypal_id)
        world.paypal.decline_next_capture()

        payload = (await world.gql.execute(CONFIRM, token=order["token"]))["orderPaymentConfirm"]

        assert [e["code"] for e in payload["userErrors"]] == ["PAYMENT_DECLINED"]
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["status"] == "pending_payment"
        assert [t[:2] for t in rows["transactions"]] == [("failure", "failed")]
        assert world.paypal.count("captures") == 0

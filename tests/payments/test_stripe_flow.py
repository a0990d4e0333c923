"""STRIPE end to end: checkout creates a PaymentIntent, the customer confirms with Stripe's
UI, the verified webhook (or orderPaymentConfirm) marks the order paid; events in any order
end in the same records; manual capture survives a timeout; a late success is refunded."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.services.payments.abandoned import cancel_unpaid_orders
from models.catalog import Stock
from models.payments import WebhookEvent
from tests.catalog.staff_fixtures import key_of, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.factories import PASSWORD
from tests.payments.payment_fixtures import CAPTURE, CONFIRM, checkout, money_rows
from tests.payments.provider_world import SDK_WARNING, provider_world

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)
__all__ = ["staff_user"]


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _stripe_order(world, shop: Shop) -> dict:
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
    order = await checkout(world.gql, cart, gateway="STRIPE", token=None)
    return order


async def test_checkout_creates_a_payment_intent_and_the_webhook_marks_it_paid(
    start_app, shop, session_factory
):
    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        [payment] = order["payments"]
        pi_id = payment["pspReference"]
        [create] = world.stripe.requests_to("/v1/payment_intents", method="POST")

        assert order["status"] == "PENDING_PAYMENT"
        assert (payment["status"], payment["gateway"]) == ("PENDING", "STRIPE")
        assert payment["clientSecret"].startswith(f"{pi_id}_secret_")
        assert create.params["amount"] == "1500" and create.params["currency"] == "usd"
        assert create.params["capture_method"] == "automatic"
        assert create.params["metadata"] == {
            "order_id": str(key_of(order["id"])), "order_number": str(order["number"]),
        }  # fmt: skip
        assert create.headers["idempotency-key"]

        world.stripe.confirm(pi_id, "pm_card_visa")  # the customer, in Stripe.js
        [succeeded] = world.stripe_events(pi_id, "payment_intent.succeeded")
        status, body = await world.stripe_event(succeeded)

        assert (status, body["status"]) == (200, "processed")
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["status"] == "paid"
        assert rows["payments"] == [("succeeded", 1500, 0, 0)]
        assert rows["transactions"] == [("capture", "succeeded", 1500)]
        again = (await world.gql.execute(CONFIRM, token=order["token"]))["orderPaymentConfirm"]
        assert again["order"]["payments"][0]["clientSecret"] is None
        assert [i["kind"] for i in again["order"]["invoices"]] == ["INVOICE"]


async def test_a_declined_card_is_a_failure_transaction_and_the_order_waits(
    start_app, shop, session_factory
):
    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_chargeDeclined")
        [failed] = world.stripe_events(pi_id, "payment_intent.payment_failed")
        assert (await world.stripe_event(failed))[0] == 200

        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["status"] == "pending_payment"
        assert [t[:2] for t in rows["transactions"]] == [("failure", "failed")]
        data = (await world.gql.execute(CONFIRM, token=order["token"]))["orderPaymentConfirm"]
        assert data["order"]["payments"][0]["message"]  # the decline reason, for the shopper


@pytest.mark.parametrize("ordering", list(itertools.permutations(range(3))))
async def test_created_succeeded_refunded_in_any_order_end_in_the_same_records(
    start_app, shop, session_factory, ordering
):
    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        world.stripe.refund_from_dashboard(pi_id, 400)
        created = world.stripe_events(pi_id, "payment_intent.created")[0]
        succeeded = world.stripe_events(pi_id, "payment_intent.succeeded")[0]
        refunded = world.stripe_events(pi_id, "charge.refunded")[0]
        events = [created, succeeded, refunded]

        for index in ordering:
            assert (await world.stripe_event(events[index]))[0] == 200

        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows == {
            "status": "partially_refunded",
            "payments": [("succeeded", 1500, 400, 0)],
            "transactions": [("capture", "succeeded", 1500), ("refund", "succeeded", 400)],
            "refunds": [("succeeded", "provider", 400)],
        }


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("tamper", "a changed body"),
        ("stale", "a 301-second-old signature"),
        ("missing", "no signature"),
        ("secret", "another secret"),
    ],
)
async def test_unverifiable_calls_are_400_and_change_nothing(
    start_app, shop, session_factory, change, why
):
    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        event = world.stripe_events(pi_id, "payment_intent.succeeded")[0]
        signing = {"stale": {"timestamp": int(time.time()) - 301}, "secret": {"secret": "x"}}
        headers, body = world.stripe.signed(event, **signing.get(change, {}))
        if change == "tamper":
            body = body.replace(b'"usd"', b'"eur"')
        if change == "missing":
            headers.pop("Stripe-Signature")

        response = await world.http.post("/webhooks/stripe", content=body, headers=headers)

        assert response.status_code == 400, why
        assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
        assert (await money_rows(session_factory, key_of(order["id"])))["status"] == (
            "pending_payment"
        )
        async with session_factory() as session:
            assert (await session.scalars(select(WebhookEvent))).all() == []


async def test_a_manual_capture_retried_after_a_timeout_charges_once(
    start_app, shop, staff_user, sign_in, session_factory
):
    async with provider_world(
        start_app, stripe_capture="manual", payment_timeout_seconds=0.5
    ) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        [held] = world.stripe_events(pi_id, "payment_intent.amount_capturable_updated")
        await world.stripe_event(held)
        assert (await money_rows(session_factory, key_of(order["id"])))["status"] == "authorized"
        staff = world.gql.as_user((await _token(world, sign_in))["accessToken"])

        world.stripe.delay_next(f"/v1/payment_intents/{pi_id}/capture", 1.0)
        payload = (await staff.execute(CAPTURE, id=order["payments"][0]["id"]))[
            "orderPaymentCapture"
        ]

        assert payload["userErrors"] == []
        assert payload["payment"]["status"] == "SUCCEEDED"
        assert world.stripe.count("capture") == 1
        assert len(world.stripe.requests_to(f"/v1/payment_intents/{pi_id}/capture")) >= 2
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["status"] == "paid"
        assert [t[0] for t in rows["transactions"]] == ["authorization", "capture"]


async def _token(world, sign_in):
    from tests.catalog.staff_fixtures import STAFF_EMAIL
    from tests.conftest import TOKEN_CREATE

    data = await world.gql.execute(TOKEN_CREATE, email=STAFF_EMAIL, password=PASSWORD)
    return data["tokenCreate"]


async def test_a_success_after_the_order_was_cancelled_is_refunded_automatically(
    start_app, shop, session_factory
):
    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        resources = world.app.state.resources
        world.stripe.fail_next("/v1/payment_intents", status=500, times=10)  # Stripe is down
        async with resources.session_factory() as session:
            cancelled = await cancel_unpaid_orders(
                session, gateways=resources.gateways, settings=resources.settings,
                now=datetime.now(UTC) + timedelta(days=1),
            )  # fmt: skip
        assert cancelled == 1
        async with session_factory() as session:
            assert (await session.scalars(select(Stock.quantity))).all() == [5]
        world.stripe.clear_faults()

        world.stripe.confirm(pi_id, "pm_card_visa")  # the customer paid after all
        [succeeded] = world.stripe_events(pi_id, "payment_intent.succeeded")
        assert (await world.stripe_event(succeeded))[1]["status"] == "processed"

        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["status"] == "cancelled"
        assert rows["payments"] == [("succeeded", 1500, 1500, 0)]
        assert rows["refunds"] == [("succeeded", "automatic", 1500)]
        assert world.stripe.count("refund") == 1


async def test_an_event_that_cannot_be_applied_is_kept_and_retried(
    start_app, shop, session_factory
):
    from app.services.payments import inbox

    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        [succeeded] = world.stripe_events(pi_id, "payment_intent.succeeded")
        world.stripe.fail_next(f"/v1/payment_intents/{pi_id}", status=503, times=5)

        status, body = await world.stripe_event(succeeded)

        assert (status, body["status"]) == (200, "failed")
        assert (await money_rows(session_factory, key_of(order["id"])))["status"] == (
            "pending_payment"
        )
        world.stripe.clear_faults()
        resources = world.app.state.resources
        async with resources.session_factory() as session:
            applied = await inbox.retry_failed(
                session, gateways=resources.gateways, settings=resources.settings,
                now=datetime.now(UTC) + timedelta(hours=2),
            )  # fmt: skip
        assert applied == 1
        assert (await money_rows(session_factory, key_of(order["id"])))["status"] == "paid"
        async with session_factory() as session:
            row = (await session.scalars(select(WebhookEvent))).one()
        assert (row.status, row.attempts, row.last_error) == ("processed", 2, "")


async def test_a_start_stripe_did_not_answer_resumes_with_the_same_key_once(
    start_app, shop, session_factory
):
    from tests.payments.payment_fixtures import CHECKOUT, checkout_variables

    async with provider_world(start_app) as world:
        variant = await shop.variant(price=1000, stock=5)
        cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
        variables = checkout_variables(cart, gateway="STRIPE", token=None, key="k-resume")
        world.stripe.fail_next("/v1/payment_intents", status=500, times=3)  # and its 2 retries

        down = (await world.gql.execute(CHECKOUT, **variables))["checkoutComplete"]
        resumed = (await world.gql.execute(CHECKOUT, **variables))["checkoutComplete"]
        again = (await world.gql.execute(CHECKOUT, **variables))["checkoutComplete"]

        assert down["order"] is None
        assert [e["code"] for e in down["userErrors"]] == ["PAYMENT_GATEWAY_UNAVAILABLE"]
        assert resumed["userErrors"] == [] and again["userErrors"] == []
        assert resumed["order"]["id"] == again["order"]["id"]
        pi_id = resumed["order"]["payments"][0]["pspReference"]
        assert pi_id.startswith("pi_")
        assert again["order"]["payments"][0]["pspReference"] == pi_id
        assert world.stripe.count("create") == 1
        keys = {r.headers["idempotency-key"] for r in world.stripe.requests_to(
            "/v1/payment_intents", method="POST") if r.path == "/v1/payment_intents"}  # fmt: skip
        assert len(keys) == 1
        async with session_factory() as session:
            assert (await session.scalars(select(Stock.quantity))).all() == [4]


async def test_the_webhooks_paid_status_is_published_to_the_orders_channel(start_app, shop):
    import asyncio

    from app.services.orders.events import channel_of

    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        [succeeded] = world.stripe_events(pi_id, "payment_intent.succeeded")
        pubsub = world.app.state.resources.pubsub
        async with pubsub.subscribe(channel_of(key_of(order["id"]))) as messages:
            await world.stripe_event(succeeded)
            message = await asyncio.wait_for(anext(messages), timeout=5)
    assert (message["fromStatus"], message["toStatus"], message["sequence"]) == (
        "pending_payment", "paid", 2,
    )  # fmt: skip


@pytest.mark.parametrize("typed", ["²", "١٢", "99999999999999999999", "nul\x00"])
async def test_a_dashboard_refund_with_odd_metadata_is_recorded_as_the_providers(
    start_app, shop, session_factory, typed
):
    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        world.stripe.refund_from_dashboard(pi_id, 300, metadata={"refund_id": typed})
        [refunded] = world.stripe_events(pi_id, "charge.refunded")

        status, body = await world.stripe_event(refunded)

        assert (status, body["status"]) == (200, "processed")
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["refunds"] == [("succeeded", "provider", 300)]
        assert rows["payments"] == [("succeeded", 1500, 300, 0)]


async def test_an_event_id_with_a_nul_is_refused(start_app, shop, session_factory):
    async with provider_world(start_app) as world:
        event = {"id": "evt_\u0000x", "object": "event", "type": "customer.created",
                 "created": int(time.time()), "data": {"object": {"id": "cus_1"}}}  # fmt: skip
        status, body = await world.stripe_event(event)
    assert (status, body["error"]["code"]) == (400, "INVALID_BODY")
    async with session_factory() as session:
        assert (await session.scalars(select(WebhookEvent))).all() == []


async def test_a_pending_refund_is_settled_by_asking_never_by_refunding_again(
    start_app, shop, staff_user, session_factory
):
    from app.housekeeping import retry_refunds
    from tests.conftest import TOKEN_CREATE
    from tests.payments.payment_fixtures import REFUND

    async with provider_world(start_app) as world:
        order = await _stripe_order(world, shop)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        await world.stripe_event(world.stripe_events(pi_id, "payment_intent.succeeded")[0])
        signed_in = await world.gql.execute(TOKEN_CREATE, email=staff_user.email, password=PASSWORD)
        staff = world.gql.as_user(signed_in["tokenCreate"]["accessToken"])
        world.stripe.refund_status = "pending"
        resources = world.app.state.resources

        async def worker_pass(days: int) -> int:
            return await retry_refunds(
                resources.session_factory, settings=resources.settings,
                gateways=resources.gateways, now=datetime.now(UTC) + timedelta(days=days),
            )  # fmt: skip

        payload = (await staff.execute(REFUND, orderId=order["id"], input={"amount": "5.00"}))[
            "orderRefund"
        ]
        assert payload["refund"]["status"] == "PENDING"
        assert await worker_pass(3) == 0  # past any idempotency key's life: still pending
        assert (await money_rows(session_factory, key_of(order["id"])))["status"] == "paid"
        world.stripe.settle_refund(world.stripe.objects.refunds_of(pi_id)[0]["id"], "succeeded")
        assert await worker_pass(6) == 1

        posts = world.stripe.requests_to("/v1/refunds", method="POST")
        assert [p.params["metadata"] for p in posts] == [
            {"refund_id": str(key_of(payload["refund"]["id"]))}
        ]
        rows = await money_rows(session_factory, key_of(order["id"]))
        assert rows["refunds"] == [("succeeded", "staff", 500)]
        assert rows["payments"] == [("succeeded", 1500, 500, 0)]
        assert rows["status"] == "partially_refunded"  # settled: the order moves

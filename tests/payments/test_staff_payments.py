"""Staff reads over the money records and the inbox, the invoice link a customer gets, and
unpaid orders giving back their stock and coupon uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.services.payments.abandoned import cancel_unpaid_orders
from models.catalog import Stock
from models.orders import Order
from models.payments import Payment
from models.promotions import Promotion, PromotionRedemption
from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import REFUND, checkout, money_rows
from tests.payments.provider_world import SDK_WARNING, provider_world
from tests.sql_counter import count_statements

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)
__all__ = ["customer", "staff", "staff_user"]

TRANSACTIONS = """
query($filter: PaymentTransactionFilter, $first: Int) {
  paymentTransactions(filter: $filter, first: $first) {
    edges { node { kind status gateway amount { amount } raw } }
  }
}"""
WEBHOOK_EVENTS = """
query($status: WebhookEventStatus) {
  webhookEvents(status: $status, first: 10) {
    edges { node { id provider eventType status attempts lastError pspReference } }
  }
}"""
REPLAY = """
mutation($id: ID!) {
  webhookEventReplay(id: $id) {
    webhookEvent { status attempts lastError } userErrors { field code }
  }
}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _paid(shop: Shop, gql, **kwargs) -> dict:
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(price=500), **kwargs)
    return await checkout(gql, cart, **{"token": "tok_success", **kwargs.pop("pay", {})})


async def test_staff_filter_transactions_by_kind_status_gateway_and_date(gql, shop, staff):
    order = await _paid(shop, gql)
    await staff.execute(REFUND, orderId=order["id"], input={"amount": "1.00"})
    now = datetime.now(UTC)

    def kinds(data):
        return [e["node"]["kind"] for e in data["paymentTransactions"]["edges"]]

    everything = await staff.execute(TRANSACTIONS)
    refunds = await staff.execute(TRANSACTIONS, filter={"kind": "REFUND", "status": "SUCCEEDED"})
    stripe = await staff.execute(TRANSACTIONS, filter={"gateway": "stripe"})
    future = await staff.execute(
        TRANSACTIONS, filter={"createdFrom": (now + timedelta(hours=1)).isoformat()}
    )
    one_order = await staff.execute(TRANSACTIONS, filter={"orderId": order["id"]})

    assert kinds(everything) == ["REFUND", "CAPTURE"]  # newest first
    assert kinds(refunds) == ["REFUND"]
    assert kinds(stripe) == [] and kinds(future) == []
    assert kinds(one_order) == ["REFUND", "CAPTURE"]
    assert everything["paymentTransactions"]["edges"][1]["node"]["raw"] is not None


async def test_transactions_are_staff_only_and_a_page_costs_the_same_statements(
    gql, shop, staff, customer, connection
):
    for _ in range(4):
        await _paid(shop, gql)
    assert await customer.error_codes(TRANSACTIONS) == ["FORBIDDEN"]
    assert await gql.error_codes(TRANSACTIONS) == ["UNAUTHENTICATED"]
    counts = []
    for size in (1, 4):
        with count_statements(connection) as statements:
            data = await staff.execute(TRANSACTIONS, first=size)
        assert len(data["paymentTransactions"]["edges"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


async def test_the_invoice_link_downloads_the_pdf(gql, http, shop):
    order = await _paid(shop, gql)
    url = order["invoices"][0]["downloadUrl"]
    path = url.split("://", 1)[1].split("/", 1)[1]

    response = await http.get("/" + path)
    tampered = await http.get("/" + path[:-1] + ("0" if path[-1] != "0" else "1"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert tampered.status_code == 403


async def test_an_unpaid_order_gives_back_its_stock_and_coupon_after_the_timeout(
    app, gql, shop, session_factory
):
    coupon = await shop.promotion(code="PAYLATER", usage_limit=5)
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 2)], method=await shop.method(price=500), coupons=[coupon])
    order = await checkout(gql, cart, token="tok_pending")
    resources = app.state.resources

    async def run(minutes: float) -> int:
        async with resources.session_factory() as session:
            return await cancel_unpaid_orders(
                session, gateways=resources.gateways, settings=resources.settings,
                now=datetime.now(UTC) + timedelta(minutes=minutes),
            )  # fmt: skip

    assert await run(resources.settings.payment_timeout_minutes - 1) == 0
    async with session_factory() as session:
        assert (
            await session.scalar(select(Promotion.used_count).where(Promotion.id == coupon.id)) == 1
        )
    assert await run(resources.settings.payment_timeout_minutes + 1) == 1
    assert await run(resources.settings.payment_timeout_minutes + 2) == 0

    async with session_factory() as session:
        row = await session.get(Order, key_of(order["id"]))
        stock = await session.scalar(select(Stock.quantity).where(Stock.variant_id == variant.id))
        used = await session.scalar(select(Promotion.used_count).where(Promotion.id == coupon.id))
        redemptions = (await session.scalars(select(PromotionRedemption))).all()
        payment = (await session.scalars(select(Payment.status))).all()
    assert row is not None and row.status == "cancelled"
    assert (stock, used, redemptions) == (5, 0, [])
    assert payment == ["cancelled"]
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["transactions"] == []


async def test_failed_events_are_listed_for_staff_and_replayed(
    start_app, shop, session_factory, staff_user
):
    from tests.conftest import TOKEN_CREATE
    from tests.factories import PASSWORD

    async with provider_world(start_app) as world:
        variant = await shop.variant(price=1000, stock=5)
        cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
        order = await checkout(world.gql, cart, gateway="STRIPE", token=None)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        [event] = world.stripe_events(pi_id, "payment_intent.succeeded")
        world.stripe.fail_next(f"/v1/payment_intents/{pi_id}", status=503, times=3)
        assert (await world.stripe_event(event))[1]["status"] == "failed"
        signed_in = await world.gql.execute(TOKEN_CREATE, email=staff_user.email, password=PASSWORD)
        staff = world.gql.as_user(signed_in["tokenCreate"]["accessToken"])

        failed = (await staff.execute(WEBHOOK_EVENTS, status="FAILED"))["webhookEvents"]["edges"]
        [node] = [edge["node"] for edge in failed]
        assert (node["provider"], node["eventType"], node["pspReference"]) == (
            "STRIPE", "payment_intent.succeeded", pi_id,
        )  # fmt: skip
        assert node["attempts"] == 1 and "STRIPE" in node["lastError"]

        world.stripe.clear_faults()
        replayed = (await staff.execute(REPLAY, id=node["id"]))["webhookEventReplay"]
        again = (await staff.execute(REPLAY, id=node["id"]))["webhookEventReplay"]

        assert replayed["webhookEvent"] == {"status": "PROCESSED", "attempts": 2, "lastError": ""}
        assert again["userErrors"] == [{"field": ["id"], "code": "WEBHOOK_EVENT_NOT_FAILED"}]
        assert (await money_rows(session_factory, key_of(order["id"])))["status"] == "paid"
        assert (await staff.execute(WEBHOOK_EVENTS, status="FAILED"))["webhookEvents"] == {
            "edges": []
        }


async def test_payment_confirmations_are_rate_limited_per_address(start_app, shop):
    import uuid

    from tests.graphql_client import GraphQLClient
    from tests.payments.payment_fixtures import CONFIRM

    async with start_app(
        rate_limits_enabled=True, rate_limit_payment_confirm_ip="2/minute",
        pubsub_prefix=f"rl-{uuid.uuid4()}",
    ) as (_, http):  # fmt: skip
        gql = GraphQLClient(http)
        order = await _paid(shop, gql)
        first = await gql.data_and_errors(CONFIRM, token=order["token"])
        second = await gql.data_and_errors(CONFIRM, token=order["token"])
        third = await gql.data_and_errors(CONFIRM, token=order["token"])
    assert "errors" not in first and "errors" not in second
    assert [e["extensions"]["code"] for e in third["errors"]] == ["RATE_LIMITED"]

"""Payments racing in real, committed transactions through an app whose requests each use
their own connection: one webhook delivered five times at once has one effect, two full
refunds at once give one refund, and invoice numbers stay gap-free under 50 payments."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select

from app.auth.permissions import Role
from app.services.accounts.tokens import RegistrationData, register_account
from models.notifications import Notification
from models.orders import Order, OrderEvent
from models.payments import Invoice, PaymentTransaction, WebhookEvent
from tests.catalog.staff_fixtures import key_of
from tests.checkout.checkout_fixtures import Shop
from tests.conftest import TOKEN_CREATE
from tests.factories import PASSWORD
from tests.payments.payment_fixtures import REFUND, checkout, checkout_variables, money_rows
from tests.payments.provider_world import SDK_WARNING, committed_shop, provider_world

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)


@pytest.fixture
def shop(committed_sessions) -> Shop:
    return committed_shop(committed_sessions, "pay-race-")


async def test_one_stripe_event_five_times_at_once_has_one_effect(start_app, shop):
    async with provider_world(start_app, bind=False, database_pool_size=10) as world:
        variant = await shop.variant(price=1000, stock=5)
        cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
        order = await checkout(world.gql, cart, gateway="STRIPE", token=None)
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        [event] = world.stripe_events(pi_id, "payment_intent.succeeded")

        answers = await asyncio.gather(*(world.stripe_event(event) for _ in range(5)))

        assert sorted(body["status"] for _, body in answers) == ["duplicate"] * 4 + ["processed"]
        assert {status for status, _ in answers} == {200}
        order_id = key_of(order["id"])
        async with shop.factory() as session:
            paid_events = await session.scalar(
                select(func.count()).select_from(OrderEvent)
                .where(OrderEvent.order_id == order_id, OrderEvent.to_status == "paid")
            )  # fmt: skip
            transactions = await session.scalar(
                select(func.count()).select_from(PaymentTransaction)
                .where(PaymentTransaction.order_id == order_id)
            )  # fmt: skip
            paid_notices = await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.template == "order_status",
                    Notification.payload["toStatus"].astext == "paid",
                    Notification.payload["orderId"].astext == str(order_id),
                )
            )
            inbox = await session.scalar(
                select(func.count()).select_from(WebhookEvent)
                .where(WebhookEvent.event_id == event["id"])
            )  # fmt: skip
        assert (paid_events, transactions, paid_notices, inbox) == (1, 1, 1, 1)


async def test_two_full_refunds_at_once_give_one_refund(
    start_app, shop, committed_sessions, settings
):
    email = f"{shop.name('staff')}@example.com"
    async with committed_sessions.factory() as session, session.begin():
        await register_account(
            session, data=RegistrationData(email=email, password=PASSWORD), settings=settings,
            role=Role.STAFF,
        )  # fmt: skip
    committed_sessions.remove_after(*_user_cleanup(email))
    async with provider_world(start_app, bind=False, database_pool_size=10) as world:
        variant = await shop.variant(price=1000, stock=5)
        cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
        order = await checkout(world.gql, cart, gateway="DUMMY", token="tok_success")
        token = (await world.gql.execute(TOKEN_CREATE, email=email, password=PASSWORD))[
            "tokenCreate"
        ]["accessToken"]
        staff = world.gql.as_user(token)

        answers = await asyncio.gather(*(
            staff.execute(REFUND, orderId=order["id"], input={"amount": "15.00"})
            for _ in range(2)
        ))  # fmt: skip

        outcomes = sorted(
            a["orderRefund"]["refund"]["status"] if a["orderRefund"]["refund"]
            else a["orderRefund"]["userErrors"][0]["code"]
            for a in answers
        )  # fmt: skip
        assert outcomes == ["NOTHING_TO_REFUND", "SUCCEEDED"]
        rows = await money_rows(shop.factory, key_of(order["id"]))
        assert rows["payments"] == [("succeeded", 1500, 1500, 0)]
        assert rows["refunds"] == [("succeeded", "staff", 1500)]


def _user_cleanup(email: str) -> list:
    from models.accounts import User

    return [delete(User).where(User.email == email)]


async def test_invoice_numbers_stay_gap_free_under_50_concurrent_payments(start_app, shop):
    variant = await shop.variant(price=1000, stock=100)
    method = await shop.method(price=500)
    carts = [await shop.cart([(variant, 1)], method=method) for _ in range(50)]
    async with start_app(bind=False, database_pool_size=20) as (_, http):
        from tests.graphql_client import GraphQLClient
        from tests.payments.payment_fixtures import CHECKOUT

        gql = GraphQLClient(http)
        answers = await asyncio.gather(*(
            gql.execute(CHECKOUT, **checkout_variables(cart)) for cart in carts
        ))  # fmt: skip

    assert all(a["checkoutComplete"]["order"]["status"] == "PAID" for a in answers)
    ids = [key_of(a["checkoutComplete"]["order"]["id"]) for a in answers]
    async with shop.factory() as session:
        numbers = sorted(
            (
                await session.scalars(
                    select(Invoice.number).where(
                        Invoice.order_id.in_(ids), Invoice.kind == "invoice"
                    )
                )
            ).all()
        )
        orders = await session.scalar(
            select(func.count()).select_from(Order).where(Order.id.in_(ids))
        )
    assert orders == 50
    assert numbers == list(range(numbers[0], numbers[0] + 50))

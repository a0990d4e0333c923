"""Second review: a refund racing its own webhook, and a webhook racing orderPaymentConfirm,
in real committed transactions (each request on its own connection)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select

from app.auth.permissions import Role
from app.services.accounts.tokens import RegistrationData, register_account
from models.accounts import User
from models.notifications import Notification
from models.orders import OrderEvent
from models.payments import Invoice, PaymentTransaction, WebhookEvent
from tests.catalog.staff_fixtures import key_of
from tests.checkout.checkout_fixtures import Shop
from tests.conftest import TOKEN_CREATE
from tests.factories import PASSWORD
from tests.payments.payment_fixtures import CONFIRM, REFUND, checkout, money_rows
from tests.payments.provider_world import SDK_WARNING, World, committed_shop, provider_world

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)


@pytest.fixture
def shop(committed_sessions) -> Shop:
    return committed_shop(committed_sessions, "review2-race-")


async def _count(shop: Shop, model, *where) -> int:
    async with shop.factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def _paid_stripe_order(world: World, shop: Shop) -> tuple[dict, str]:
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
    order = await checkout(world.gql, cart, gateway="STRIPE", token=None)
    pi_id = order["payments"][0]["pspReference"]
    world.stripe.confirm(pi_id, "pm_card_visa")
    [succeeded] = world.stripe_events(pi_id, "payment_intent.succeeded")
    assert (await world.stripe_event(succeeded))[1]["status"] == "processed"
    return order, pi_id


async def _staff(world: World, shop: Shop, committed_sessions, settings):
    email = f"{shop.name('staff')}@example.com"
    async with committed_sessions.factory() as session, session.begin():
        await register_account(
            session, data=RegistrationData(email=email, password=PASSWORD), settings=settings,
            role=Role.STAFF,
        )  # fmt: skip
    committed_sessions.remove_after(delete(User).where(User.email == email))
    data = await world.gql.execute(TOKEN_CREATE, email=email, password=PASSWORD)
    return world.gql.as_user(data["tokenCreate"]["accessToken"])


async def test_a_refund_whose_webhook_lands_before_its_answer_has_one_effect(
    start_app, shop, committed_sessions, settings
):
    async with provider_world(start_app, bind=False, database_pool_size=10) as world:
        order, pi_id = await _paid_stripe_order(world, shop)
        staff = await _staff(world, shop, committed_sessions, settings)
        order_id = key_of(order["id"])
        # Stripe carries the refund out at once and answers 1.5 s later.
        world.stripe.delay_next("/v1/refunds", 1.5)

        async def webhook_meanwhile() -> tuple[int, dict]:
            while not world.stripe_events(pi_id, "charge.refunded"):
                await asyncio.sleep(0.02)
            [refunded] = world.stripe_events(pi_id, "charge.refunded")
            return await world.stripe_event(refunded)

        finished: list[str] = []

        async def refund() -> dict:
            answer = await staff.execute(REFUND, orderId=order["id"], input={"amount": "4.00"})
            finished.append("refund")
            return answer

        async def webhook() -> tuple[int, dict]:
            answer = await webhook_meanwhile()
            finished.append("webhook")
            return answer

        answer, (status, body) = await asyncio.gather(refund(), webhook())

        assert finished == ["webhook", "refund"]  # the race did happen

        assert (status, body["status"]) == (200, "processed")
        assert answer["orderRefund"]["userErrors"] == []
        assert answer["orderRefund"]["refund"]["status"] == "SUCCEEDED"
        assert world.stripe.count("refund") == 1
        rows = await money_rows(shop.factory, order_id)
        assert rows["refunds"] == [("succeeded", "staff", 400)]
        assert rows["payments"] == [("succeeded", 1500, 400, 0)]
        assert rows["transactions"] == [
            ("capture", "succeeded", 1500), ("refund", "succeeded", 400),
        ]  # fmt: skip
        credit_notes = await _count(
            shop, Invoice, Invoice.order_id == order_id, Invoice.kind == "credit_note"
        )
        emails = await _count(
            shop, Notification, Notification.template == "refund_issued",
            Notification.payload["orderId"].astext == str(order_id),
        )  # fmt: skip
        assert (credit_notes, emails) == (1, 1)


async def test_a_webhook_and_a_confirmation_at_once_pay_the_order_once(start_app, shop):
    async with provider_world(start_app, bind=False, database_pool_size=10) as world:
        variant = await shop.variant(price=1000, stock=5)
        cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
        order = await checkout(world.gql, cart, gateway="STRIPE", token=None)
        order_id = key_of(order["id"])
        pi_id = order["payments"][0]["pspReference"]
        world.stripe.confirm(pi_id, "pm_card_visa")
        [succeeded] = world.stripe_events(pi_id, "payment_intent.succeeded")

        answers = await asyncio.gather(
            world.stripe_event(succeeded),
            world.gql.execute(CONFIRM, token=order["token"]),
            world.gql.execute(CONFIRM, token=order["token"]),
        )

        assert answers[0] == (200, {"status": "processed", "eventId": succeeded["id"]})
        assert [a["orderPaymentConfirm"]["order"]["status"] for a in answers[1:]] == ["PAID"] * 2
        paid = await _count(
            shop, OrderEvent, OrderEvent.order_id == order_id, OrderEvent.to_status == "paid"
        )
        captures = await _count(
            shop, PaymentTransaction, PaymentTransaction.order_id == order_id,
            PaymentTransaction.kind == "capture",
        )  # fmt: skip
        invoices = await _count(
            shop, Invoice, Invoice.order_id == order_id, Invoice.kind == "invoice"
        )
        notices = await _count(
            shop, Notification, Notification.template == "order_status",
            Notification.payload["toStatus"].astext == "paid",
            Notification.payload["orderId"].astext == str(order_id),
        )  # fmt: skip
        assert (paid, captures, invoices, notices) == (1, 1, 1, 1)


async def test_a_paypal_approval_webhook_and_two_confirmations_at_once_capture_once(
    start_app, shop, committed_sessions
):
    async with provider_world(start_app, bind=False, database_pool_size=10) as world:
        variant = await shop.variant(price=1000, stock=5)
        cart = await shop.cart([(variant, 2)], method=await shop.method(price=500))
        order = await checkout(world.gql, cart, gateway="PAYPAL", token=None)
        order_id = key_of(order["id"])
        paypal_id = order["payments"][0]["pspReference"]
        committed_sessions.remove_after(
            delete(WebhookEvent).where(WebhookEvent.psp_reference == paypal_id)
        )
        world.paypal.approve(paypal_id)

        answers = await asyncio.gather(
            world.paypal_event("CHECKOUT.ORDER.APPROVED", paypal_id),
            world.gql.execute(CONFIRM, token=order["token"]),
            world.gql.execute(CONFIRM, token=order["token"]),
        )

        assert answers[0][0] == 200 and answers[0][1]["status"] == "processed"
        assert [a["orderPaymentConfirm"]["order"]["status"] for a in answers[1:]] == ["PAID"] * 2
        assert world.paypal.count("captures") == 1
        rows = await money_rows(shop.factory, order_id)
        assert rows["payments"] == [("succeeded", 2500, 0, 0)]
        assert rows["transactions"] == [("capture", "succeeded", 2500)]
        paid = await _count(
            shop, OrderEvent, OrderEvent.order_id == order_id, OrderEvent.to_status == "paid"
        )
        invoices = await _count(
            shop, Invoice, Invoice.order_id == order_id, Invoice.kind == "invoice"
        )
        assert (paid, invoices) == (1, 1)

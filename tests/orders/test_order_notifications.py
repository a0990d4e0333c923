"""Every transition tells the customer on each channel their preferences allow, in their
locale: email to the order's address, SMS to the account's phone, push to its browsers."""

from __future__ import annotations

import pytest

from app.notifications.templates import render
from app.services.notifications.preferences import set_preference
from models.push_subscriptions import PushSubscription
from tests.catalog.staff_fixtures import staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import outbox, paid_order, ship

__all__ = ["staff", "staff_user"]


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _customer(make_user, session_factory, *, email: str, sms: bool, email_on: bool = True):
    user = await make_user(email=email, locale="de", phone="+4915112345678")
    async with session_factory() as session, session.begin():
        await set_preference(session, user.id, "order_updates", "sms", sms)
        await set_preference(session, user.id, "order_updates", "email", email_on)
        session.add(PushSubscription(user_id=user.id, endpoint=f"https://push.example/{user.id}",
                                     p256dh="p", auth="a"))  # fmt: skip
    return user


async def test_a_german_customer_gets_email_sms_and_push_in_german(
    gql, shop, staff, make_user, sign_in, session_factory
):
    user = await _customer(make_user, session_factory, email="kunde@example.com", sms=True)
    mine = gql.as_user((await sign_in(user.email))["accessToken"])
    order = await paid_order(mine, shop, quantities=(1,), user_id=user.id)
    await ship(staff, order, 1)

    rows = await outbox(session_factory, order["id"], "order_status")
    fulfilled = [(channel, recipient) for channel, recipient, p in rows
                 if p["toStatus"] == "fulfilled"]  # fmt: skip
    payload = next(p for _, _, p in rows if p["toStatus"] == "fulfilled")

    assert sorted(fulfilled) == [
        ("email", order_email(rows)), ("push", str(user.id)), ("sms", "+4915112345678"),
    ]  # fmt: skip
    assert payload["locale"] == "de"
    assert render("order_status", payload, locale=payload["locale"]).subject == (
        f"Bestellung #{payload['number']} versandt"
    )
    shipping = await outbox(session_factory, order["id"], "shipment_sent")
    assert sorted(channel for channel, _, _ in shipping) == ["email", "push"]  # SMS off: default


def order_email(rows) -> str:
    return next(recipient for channel, recipient, _ in rows if channel == "email")


async def test_a_customer_who_switched_email_off_gets_none(
    gql, shop, make_user, sign_in, session_factory
):
    user = await _customer(
        make_user, session_factory, email="quiet@example.com", sms=False, email_on=False
    )
    mine = gql.as_user((await sign_in(user.email))["accessToken"])
    order = await paid_order(mine, shop, quantities=(1,), user_id=user.id)
    rows = await outbox(session_factory, order["id"], "order_status")
    assert {channel for channel, _, _ in rows} == {"push"}


async def test_a_guest_gets_email_only(gql, shop, session_factory):
    order = await paid_order(gql, shop, quantities=(1,))
    rows = await outbox(session_factory, order["id"], "order_status")
    assert [(channel, p["toStatus"]) for channel, _, p in rows] == [
        ("email", "pending_payment"), ("email", "paid"),
    ]  # fmt: skip
    assert render("order_status", rows[1][2]).subject.endswith("is paid")

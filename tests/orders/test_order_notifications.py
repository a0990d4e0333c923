"""Every transition tells the customer on each channel their preferences allow, in their
locale: email to the order's address, SMS to the account's phone, push to its browsers."""

from __future__ import annotations

import pytest

from app.notifications.templates import render
from app.services.notifications.preferences import set_preference
from models.orders import STATUSES
from models.push_subscriptions import PushSubscription
from tests.catalog.staff_fixtures import staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import outbox, paid_order, ship
from tests.orders.test_staff_tools import STATUS

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


PREFERENCES = """
mutation($input: [NotificationPreferenceInput!]!) {
  notificationPreferencesUpdate(input: $input) {
    notificationPreferences { kind channel enabled } userErrors { field code }
  }
}"""


def test_each_status_has_a_subject_of_its_own_in_both_languages():
    for locale in ("en", "de"):
        subjects = {render("order_status", {"toStatus": s, "number": 7}, locale=locale).subject
                    for s in STATUSES}  # fmt: skip
        assert len(subjects) == len(STATUSES)


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_has_its_own_text_in_english_and_german(status):
    context = {"toStatus": status, "number": 1234, "orderId": 1, "total": 2500,
               "currency": "EUR"}  # fmt: skip
    english, german = render("order_status", context), render("order_status", context, locale="de")

    fallback = {"toStatus": "no_such_status", "number": 1234}
    for locale, rendered in (("en", english), ("de", german)):
        assert "#1234" in rendered.subject and "1234" in rendered.text and "1234" in rendered.html
        # the fallback branch only prints the raw status; every status has its own sentence
        generic = render("order_status", fallback, locale=locale)
        assert rendered.subject != generic.subject.replace("no_such_status", status)
        assert rendered.text != generic.text.replace("no_such_status", status)
    assert status not in german.subject and status not in german.text
    assert german.subject.startswith("Bestellung #1234")
    assert german.subject != english.subject and german.text != english.text
    assert german.html != english.html


async def test_preferences_set_through_the_api_pick_the_channels_of_one_change(
    gql, shop, staff, make_user, sign_in, session_factory
):
    user = await make_user(email="api-kunde@example.com", locale="de", phone="+4915112345679")
    mine = gql.as_user((await sign_in(user.email))["accessToken"])
    changed = (await mine.execute(PREFERENCES, input=[
        {"kind": "order_updates", "channel": "sms", "enabled": True},
    ]))["notificationPreferencesUpdate"]  # fmt: skip
    async with session_factory() as session, session.begin():
        session.add(PushSubscription(user_id=user.id, endpoint=f"https://push.example/a{user.id}",
                                     p256dh="p", auth="a"))  # fmt: skip
    order = await paid_order(mine, shop, quantities=(1,), user_id=user.id)
    await ship(staff, order, 1)
    off = (await mine.execute(PREFERENCES, input=[
        {"kind": "order_updates", "channel": "email", "enabled": False},
        {"kind": "order_updates", "channel": "push", "enabled": False},
    ]))["notificationPreferencesUpdate"]  # fmt: skip
    await staff.execute(STATUS, id=order["id"], status="DELIVERED")

    assert changed["userErrors"] == [] and off["userErrors"] == []
    rows = await outbox(session_factory, order["id"], "order_status")
    by_status: dict[str, list[str]] = {}
    for channel, _, payload in rows:
        by_status.setdefault(payload["toStatus"], []).append(channel)
    assert {status: sorted(channels) for status, channels in by_status.items()} == {
        "pending_payment": ["email", "push", "sms"], "paid": ["email", "push", "sms"],
        "fulfilled": ["email", "push", "sms"], "delivered": ["sms"],
    }  # fmt: skip
    delivered = next(p for c, _, p in rows if p["toStatus"] == "delivered")
    assert render("order_status", delivered, locale=delivered["locale"]).subject == (
        f"Bestellung #{delivered['number']} zugestellt"
    )

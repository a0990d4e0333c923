"""The history's actor and note: SYSTEM without a user, CUSTOMER for the order's own customer,
STAFF for anyone else; the actor's email for staff viewers only; batched across a page."""

from __future__ import annotations

import pytest

from tests.catalog.staff_fixtures import customer, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import paid_order
from tests.orders.test_order_cancel import CANCEL
from tests.sql_counter import count_statements

__all__ = ["customer", "staff", "staff_user"]

HISTORY = """
query($id: ID!) { order(id: $id) { events { sequence toStatus note actor actorEmail } } }
"""
BY_TOKEN = "query($t: String!) { orderByToken(token: $t) { events { actor actorEmail note } } }"
PAGE = "query { orders(first: 20) { edges { node { events { actor actorEmail } } } } }"


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


def _actors(events) -> list[tuple[str, str, str | None]]:
    return [(e["toStatus"], e["actor"], e["actorEmail"]) for e in events]


async def test_a_customer_cancel_is_the_customers_and_only_staff_see_who(
    gql, shop, staff, make_user, sign_in
):
    owner = await make_user(email="hist-owner@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await paid_order(mine, shop, quantities=(1,), user_id=owner.id)
    await mine.execute(CANCEL, id=order["id"])

    as_owner = (await mine.execute(HISTORY, id=order["id"]))["order"]["events"]
    as_staff = (await staff.execute(HISTORY, id=order["id"]))["order"]["events"]

    assert _actors(as_owner) == [  # placed and paid in the customer's own checkout request
        ("PENDING_PAYMENT", "CUSTOMER", None), ("PAID", "CUSTOMER", None),
        ("CANCELLED", "CUSTOMER", None),
    ]  # fmt: skip
    assert _actors(as_staff)[-1] == ("CANCELLED", "CUSTOMER", owner.email)
    assert [e["sequence"] for e in as_staff] == [1, 2, 3]
    assert {e["note"] for e in as_staff} == {""}  # no note is the empty text, never null


async def test_a_staff_cancel_is_staff_and_the_guest_never_sees_the_email(
    gql, shop, staff, staff_user
):
    order = await paid_order(gql, shop, quantities=(1,))
    await staff.execute(CANCEL, id=order["id"])

    as_guest = (await gql.execute(BY_TOKEN, t=order["token"]))["orderByToken"]["events"]
    as_staff = (await staff.execute(HISTORY, id=order["id"]))["order"]["events"]

    assert [(e["actor"], e["actorEmail"]) for e in as_guest][-1] == ("STAFF", None)
    assert _actors(as_staff)[-1] == ("CANCELLED", "STAFF", staff_user.email)


async def test_a_guest_cancelling_by_token_is_a_system_free_customer_of_no_account(gql, shop):
    order = await paid_order(gql, shop, quantities=(1,))
    await gql.execute(CANCEL, token=order["token"])
    events = (await gql.execute(BY_TOKEN, t=order["token"]))["orderByToken"]["events"]
    # A guest has no account: the change carries no user, like the payment's own moves.
    assert [e["actor"] for e in events] == ["SYSTEM", "SYSTEM", "SYSTEM"]


async def test_a_page_of_histories_costs_the_same_statements(gql, shop, staff, connection):
    async def page_cost() -> int:
        with count_statements(connection) as statements:
            await staff.execute(PAGE)
        return len(statements)

    for count in (2, 3):
        for _ in range(count):
            order = await paid_order(gql, shop, quantities=(1,))
            await staff.execute(CANCEL, id=order["id"])
        if count == 2:
            small = await page_cost()
    assert await page_cost() == small

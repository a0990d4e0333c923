"""The audit trail: every staff action on an order writes one row in the action's transaction;
customers' actions and refused actions write none; only staff read it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import audit_actions, paid_order
from tests.orders.test_order_cancel import CANCEL
from tests.payments.payment_fixtures import CAPTURE, REFUND, VOID, checkout, codes
from tests.sql_counter import count_statements

__all__ = ["customer", "staff", "staff_user"]

TRAIL = """
query($id: ID!) {
  order(id: $id) { auditTrail { action details actor { id email } createdAt } }
}"""
LIST_TRAILS = """
query { orders(first: 20) { edges { node { auditTrail { action actor { email } } } } } }
"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _authorized(gql, shop: Shop) -> dict:
    """An order whose payment is only authorised (captured later by staff)."""
    cart = await shop.cart([(await shop.variant(price=1000), 1)], method=await shop.method())
    return await checkout(gql, cart, token="tok_authorize")


async def test_a_staff_cancel_is_audited_and_a_customer_cancel_is_not(
    gql, shop, staff, staff_user, make_user, sign_in, session_factory
):
    owner = await make_user(email="own-cancel@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    theirs = await paid_order(mine, shop, quantities=(1,), user_id=owner.id)
    other = await paid_order(gql, shop, quantities=(1,))

    by_owner = (await mine.execute(CANCEL, id=theirs["id"]))["orderCancel"]
    by_guest_token = (await gql.execute(CANCEL, token=other["token"]))["orderCancel"]
    staffs = await paid_order(gql, shop, quantities=(1,))
    by_staff = (await staff.execute(CANCEL, id=staffs["id"]))["orderCancel"]
    trail = (await staff.execute(TRAIL, id=staffs["id"]))["order"]["auditTrail"]

    assert [p["order"]["status"] for p in (by_owner, by_guest_token, by_staff)] == ["CANCELLED"] * 3
    assert await audit_actions(session_factory, theirs["id"]) == []
    assert await audit_actions(session_factory, other["id"]) == []
    assert [(e["action"], e["actor"]["email"]) for e in trail] == [
        ("order.cancel", staff_user.email)
    ]
    assert trail[0]["createdAt"]


async def test_a_refused_staff_cancel_leaves_no_audit_row(gql, shop, staff, session_factory):
    order = await paid_order(gql, shop, quantities=(1,))
    await staff.execute(CANCEL, id=order["id"])

    again = (await staff.execute(CANCEL, id=order["id"]))["orderCancel"]

    assert codes(again) == [(["id"], "ILLEGAL_TRANSITION")]
    assert await audit_actions(session_factory, order["id"]) == ["order.cancel"]


async def test_capture_and_void_are_audited_and_refusals_are_not(
    gql, shop, staff, staff_user, session_factory
):
    captured, voided = await _authorized(gql, shop), await _authorized(gql, shop)
    capture_id, void_id = captured["payments"][0]["id"], voided["payments"][0]["id"]

    took = (await staff.execute(CAPTURE, id=capture_id))["orderPaymentCapture"]
    dropped = (await staff.execute(VOID, id=void_id))["orderPaymentVoid"]
    void_after_capture = (await staff.execute(VOID, id=capture_id))["orderPaymentVoid"]
    capture_after_void = (await staff.execute(CAPTURE, id=void_id))["orderPaymentCapture"]
    trail = (await staff.execute(TRAIL, id=captured["id"]))["order"]["auditTrail"]

    assert took["userErrors"] == [] and dropped["userErrors"] == []
    assert codes(void_after_capture) == [(["paymentId"], "PAYMENT_NOT_VOIDABLE")]
    assert codes(capture_after_void) == [(["paymentId"], "PAYMENT_NOT_CAPTURABLE")]
    assert await audit_actions(session_factory, captured["id"]) == ["payment.capture"]
    assert await audit_actions(session_factory, voided["id"]) == ["payment.void"]
    assert trail[0]["details"] == {"paymentId": trail[0]["details"]["paymentId"],
                                   "status": "succeeded"}  # fmt: skip
    assert trail[0]["actor"]["email"] == staff_user.email


async def test_a_refund_is_audited_with_its_amount(gql, shop, staff, session_factory):
    order = await paid_order(gql, shop, quantities=(1,))

    refunded = await staff.execute(REFUND, orderId=order["id"], input={"amount": "2.50"})
    trail = (await staff.execute(TRAIL, id=order["id"]))["order"]["auditTrail"]

    assert refunded["orderRefund"]["userErrors"] == []
    assert [e["action"] for e in trail] == ["refund.request"]
    assert trail[0]["details"]["amount"] == 250
    assert trail[0]["details"]["currency"] == order["total"]["currency"]


async def test_the_trail_is_null_for_the_orders_own_customer(gql, shop, staff, make_user, sign_in):
    owner = await make_user(email="trail-owner@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await paid_order(mine, shop, quantities=(1,), user_id=owner.id)
    await staff.execute(REFUND, orderId=order["id"], input={"amount": "1.00"})

    assert (await mine.execute(TRAIL, id=order["id"]))["order"] == {"auditTrail": None}
    assert len((await staff.execute(TRAIL, id=order["id"]))["order"]["auditTrail"]) == 1


async def test_a_page_of_trails_costs_the_same_statements(gql, shop, staff, connection):
    async def page_cost() -> int:
        with count_statements(connection) as statements:
            await staff.execute(LIST_TRAILS)
        return len(statements)

    for _ in range(2):
        order = await paid_order(gql, shop, quantities=(1,))
        await staff.execute(REFUND, orderId=order["id"], input={"amount": "1.00"})
    small = await page_cost()
    for _ in range(3):
        order = await paid_order(gql, shop, quantities=(1,))
        await staff.execute(REFUND, orderId=order["id"], input={"amount": "1.00"})
    assert await page_cost() == small


async def test_a_capture_and_its_audit_row_are_written_by_one_transaction(
    gql, shop, staff, session_factory
):
    order = await _authorized(gql, shop)

    await staff.execute(CAPTURE, id=order["payments"][0]["id"])

    # xmin is the id of the (sub)transaction that wrote the row: each of the service's
    # transactions is its own savepoint here, so equal ids mean one transaction.
    async with session_factory() as session:
        audit_xid = await session.scalar(
            text("SELECT xmin::text FROM order_audit WHERE order_id = :id"),
            {"id": key_of(order["id"])},
        )
        capture_xid = await session.scalar(
            text(
                "SELECT t.xmin::text FROM payment_transactions t JOIN payments p"
                " ON p.id = t.payment_id WHERE p.order_id = :id AND t.kind = 'capture'"
            ),
            {"id": key_of(order["id"])},
        )
    assert audit_xid is not None and audit_xid == capture_xid

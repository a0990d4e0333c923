"""Staff notes, the audit trail, manual transitions and the history's actor and note."""

from __future__ import annotations

import pytest

from tests.catalog.staff_fixtures import customer, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import audit_actions, paid_order, ship
from tests.payments.payment_fixtures import REFUND, codes

__all__ = ["customer", "staff", "staff_user"]

NOTE = """
mutation($id: ID!, $body: String!) {
  orderNoteAdd(id: $id, body: $body) { note { body author { email } } userErrors { field code } }
}"""
STATUS = """
mutation($id: ID!, $status: OrderStatus!, $note: String) {
  orderStatusUpdate(id: $id, status: $status, note: $note) {
    order { status shipments { status } } userErrors { field message code }
  }
}"""
STAFF_VIEW = """
query($id: ID!) {
  order(id: $id) {
    notes { body author { email } }
    auditTrail { action details actor { email } }
    events { toStatus note actor actorEmail }
  }
}"""
CUSTOMER_VIEW = """
query($token: String!) {
  orderByToken(token: $token) { notes { body } auditTrail { action } events { actor actorEmail } }
}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def test_notes_are_for_staff_only(gql, shop, staff, staff_user):
    order = await paid_order(gql, shop, quantities=(1,))

    added = (await staff.execute(NOTE, id=order["id"], body="Call before\ndelivery"))[
        "orderNoteAdd"
    ]
    view = (await staff.execute(STAFF_VIEW, id=order["id"]))["order"]
    guest = (await gql.execute(CUSTOMER_VIEW, token=order["token"]))["orderByToken"]

    assert added == {
        "note": {"body": "Call before\ndelivery", "author": {"email": staff_user.email}},
        "userErrors": [],
    }
    assert view["notes"] == [added["note"]]
    assert view["auditTrail"][0]["action"] == "note.add"
    assert view["auditTrail"][0]["actor"] == {"email": staff_user.email}
    assert guest["notes"] is None and guest["auditTrail"] is None
    assert {e["actorEmail"] for e in guest["events"]} == {None}


@pytest.mark.parametrize(
    ("body", "code"), [("", "REQUIRED"), ("x" * 2001, "TOO_LONG"), ("bell\u0007", "INVALID")]
)
async def test_bad_notes_are_refused_and_leave_no_audit_row(
    gql, shop, staff, session_factory, body, code
):
    order = await paid_order(gql, shop, quantities=(1,))
    refused = (await staff.execute(NOTE, id=order["id"], body=body))["orderNoteAdd"]
    assert codes(refused) == [(["body"], code)]
    assert await audit_actions(session_factory, order["id"]) == []


async def test_customers_cannot_add_notes(gql, shop, customer):
    order = await paid_order(gql, shop, quantities=(1,))
    body = await customer.raw(NOTE, id=order["id"], body="hi")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_staff_payment_actions_are_audited_and_refusals_are_not(
    gql, shop, staff, session_factory
):
    order = await paid_order(gql, shop, quantities=(1,))
    await staff.execute(REFUND, orderId=order["id"], input={"amount": "1.00"})
    refused = await staff.execute(REFUND, orderId=order["id"], input={"amount": "999.00"})

    assert codes(refused["orderRefund"])[0][1] == "REFUND_EXCEEDS_CAPTURED"
    assert await audit_actions(session_factory, order["id"]) == ["refund.request"]


async def test_a_fulfilled_order_is_marked_delivered_by_hand_with_a_note(gql, shop, staff):
    order = await paid_order(gql, shop, quantities=(1,))
    await ship(staff, order, 1)

    note = "Customer confirmed by phone"
    moved = (await staff.execute(STATUS, id=order["id"], status="DELIVERED", note=note))[
        "orderStatusUpdate"
    ]
    view = (await staff.execute(STAFF_VIEW, id=order["id"]))["order"]

    assert moved["userErrors"] == []
    assert moved["order"] == {"status": "DELIVERED", "shipments": [{"status": "DELIVERED"}]}
    assert view["events"][-1]["note"] == "Customer confirmed by phone"
    assert view["events"][-1]["actor"] == "STAFF"
    assert view["events"][-1]["actorEmail"]
    assert [e["actor"] for e in view["events"][:2]] == ["SYSTEM", "SYSTEM"]
    assert view["auditTrail"][-1]["action"] == "order.transition"
    assert view["auditTrail"][-1]["details"]["to"] == "delivered"


async def test_moves_with_their_own_mutation_or_not_allowed_are_refused(gql, shop, staff):
    order = await paid_order(gql, shop, quantities=(1,))

    cancel = (await staff.execute(STATUS, id=order["id"], status="CANCELLED"))["orderStatusUpdate"]
    deliver = (await staff.execute(STATUS, id=order["id"], status="DELIVERED"))["orderStatusUpdate"]

    assert codes(cancel) == [(["status"], "USE_DEDICATED_MUTATION")]
    assert "orderCancel" in cancel["userErrors"][0]["message"]
    assert codes(deliver) == [(["status"], "ILLEGAL_TRANSITION")]

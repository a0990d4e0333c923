"""Refunds move the order: partially_refunded while some captured money is back, refunded when
all of it is; a cancelled order stays cancelled. (A refund the provider only accepted moves
nothing until it settles: tests/payments/test_stripe_flow.py.)"""

from __future__ import annotations

import pytest

from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import REFUND, checkout, codes, money_rows
from tests.payments.provider_world import SDK_WARNING

pytestmark = pytest.mark.filterwarnings(SDK_WARNING)
__all__ = ["customer", "staff", "staff_user"]

EVENTS = """
query($id: ID!) { order(id: $id) { status events { fromStatus toStatus } } }"""
CANCEL = """
mutation($id: ID) { orderCancel(id: $id) { order { status } userErrors { code } } }"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _paid(shop: Shop, gql) -> dict:
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 2)], method=await shop.method(price=500))
    return await checkout(gql, cart, token="tok_success")  # total 25.00


async def test_a_partial_refund_then_the_rest_move_the_order_to_refunded(gql, shop, staff):
    order = await _paid(shop, gql)

    first = await staff.execute(REFUND, orderId=order["id"], input={"amount": "10.00"})
    after_first = (await staff.execute(EVENTS, id=order["id"]))["order"]
    rest = await staff.execute(REFUND, orderId=order["id"], input={"amount": "15.00"})
    after_rest = (await staff.execute(EVENTS, id=order["id"]))["order"]
    more = await staff.execute(REFUND, orderId=order["id"], input={"amount": "0.01"})

    assert first["orderRefund"]["userErrors"] == [] and rest["orderRefund"]["userErrors"] == []
    assert after_first["status"] == "PARTIALLY_REFUNDED"
    assert after_first["events"][-1] == {"fromStatus": "PAID", "toStatus": "PARTIALLY_REFUNDED"}
    assert after_rest["status"] == "REFUNDED"
    assert [e["toStatus"] for e in after_rest["events"]] == [
        "PENDING_PAYMENT", "PAID", "PARTIALLY_REFUNDED", "REFUNDED",
    ]  # fmt: skip
    assert codes(more["orderRefund"])[0][1] in ("NOTHING_TO_REFUND", "REFUND_EXCEEDS_CAPTURED")


async def test_a_second_partial_refund_adds_no_history_row(gql, shop, staff):
    order = await _paid(shop, gql)

    for amount in ("1.00", "2.00"):
        await staff.execute(REFUND, orderId=order["id"], input={"amount": amount})
    data = (await staff.execute(EVENTS, id=order["id"]))["order"]

    assert data["status"] == "PARTIALLY_REFUNDED"
    assert [e["toStatus"] for e in data["events"]].count("PARTIALLY_REFUNDED") == 1


async def test_cancelling_a_paid_order_refunds_it_and_it_stays_cancelled(
    gql, shop, staff, session_factory
):
    order = await _paid(shop, gql)

    cancelled = (await staff.execute(CANCEL, id=order["id"]))["orderCancel"]
    data = (await staff.execute(EVENTS, id=order["id"]))["order"]
    rows = await money_rows(session_factory, key_of(order["id"]))

    assert cancelled == {"order": {"status": "CANCELLED"}, "userErrors": []}
    assert data["status"] == "CANCELLED"
    assert [e["toStatus"] for e in data["events"]] == ["PENDING_PAYMENT", "PAID", "CANCELLED"]
    assert [r[0] for r in rows["refunds"]] == ["succeeded"]

"""Payments through the API with the DUMMY gateway: money records, capture, void, refunds
by amount and by lines, invoices and credit notes, and the customer's notice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models.catalog import Stock
from models.notifications import Notification
from models.orders import Order
from models.payments import Invoice, PaymentTransaction, Refund
from tests.catalog.staff_fixtures import customer, gid, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import (
    CAPTURE,
    CONFIRM,
    ORDER_QUERY,
    REFUND,
    VOID,
    checkout,
    codes,
    money_rows,
)

__all__ = ["customer", "staff", "staff_user"]


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _order(shop: Shop, gql, *, quantity: int = 2, token: str = "tok_success") -> dict:
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, quantity)], method=await shop.method(price=500))
    return await checkout(gql, cart, token=token)


async def test_a_charge_is_one_capture_transaction_the_order_is_paid_and_invoiced(
    gql, shop, session_factory
):
    order = await _order(shop, gql)

    assert order["status"] == "PAID"
    assert order["total"] == {"amount": "25.00", "currency": "USD"}
    assert order["totalCaptured"] == {"amount": "25.00"}
    [payment] = order["payments"]
    assert (payment["gateway"], payment["status"], payment["captureMode"]) == (
        "DUMMY", "SUCCEEDED", "AUTOMATIC",
    )  # fmt: skip
    assert [(t["kind"], t["status"], t["amount"]["amount"]) for t in payment["transactions"]] == [
        ("CAPTURE", "SUCCEEDED", "25.00")
    ]
    [invoice] = order["invoices"]
    assert invoice["kind"] == "INVOICE"
    assert invoice["number"].startswith("INV-")
    assert invoice["total"] == {"amount": "25.00"}
    assert "/invoices/" in invoice["downloadUrl"] and "signature=" in invoice["downloadUrl"]
    assert [e["toStatus"] for e in order["events"]] == ["PENDING_PAYMENT", "PAID"]


async def test_an_authorisation_is_captured_by_staff_once(gql, shop, staff, session_factory):
    order = await _order(shop, gql, token="tok_authorize")
    assert order["status"] == "AUTHORIZED"
    [payment] = order["payments"]
    assert (payment["status"], payment["authorized"]["amount"]) == ("AUTHORIZED", "25.00")

    captured = (await staff.execute(CAPTURE, id=payment["id"]))["orderPaymentCapture"]
    again = (await staff.execute(CAPTURE, id=payment["id"]))["orderPaymentCapture"]

    assert captured["userErrors"] == []
    assert captured["payment"]["status"] == "SUCCEEDED"
    assert captured["payment"]["captured"] == {"amount": "25.00"}
    assert codes(again) == [(["paymentId"], "PAYMENT_NOT_CAPTURABLE")]
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["status"] == "paid"
    assert rows["transactions"] == [
        ("authorization", "succeeded", 2500),
        ("capture", "succeeded", 2500),
    ]


async def test_a_void_releases_the_hold_and_the_order_waits_for_payment_again(
    gql, shop, staff, session_factory
):
    order = await _order(shop, gql, token="tok_authorize")
    payment_id = order["payments"][0]["id"]

    voided = (await staff.execute(VOID, id=payment_id))["orderPaymentVoid"]
    again = (await staff.execute(VOID, id=payment_id))["orderPaymentVoid"]

    assert voided["payment"]["status"] == "CANCELLED"
    assert codes(again) == [(["paymentId"], "PAYMENT_NOT_VOIDABLE")]
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["status"] == "pending_payment"
    assert ("void", "succeeded", 2500) in rows["transactions"]


async def test_a_customer_cannot_capture_refund_or_void(gql, shop, customer, session_factory):
    order = await _order(shop, gql, token="tok_authorize")
    payment_id = order["payments"][0]["id"]
    for query, variables in (
        (CAPTURE, {"id": payment_id}),
        (VOID, {"id": payment_id}),
        (REFUND, {"orderId": order["id"], "input": {"amount": "1"}}),
    ):
        assert await customer.error_codes(query, **variables) == ["FORBIDDEN"]
        assert await gql.error_codes(query, **variables) == ["UNAUTHENTICATED"]
    assert (await money_rows(session_factory, key_of(order["id"])))["status"] == "authorized"


async def test_a_full_refund_by_amount_is_recorded_credited_and_notified(
    gql, shop, staff, session_factory
):
    order = await _order(shop, gql)

    payload = (await staff.execute(REFUND, orderId=order["id"], input={
        "amount": "25.00", "reason": "Changed my mind",
    }))["orderRefund"]  # fmt: skip

    assert payload["userErrors"] == []
    refund = payload["refund"]
    assert (refund["status"], refund["origin"], refund["amount"]) == (
        "SUCCEEDED", "STAFF", {"amount": "25.00", "currency": "USD"},
    )  # fmt: skip
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["payments"] == [("succeeded", 2500, 2500, 0)]
    assert ("refund", "succeeded", 2500) in rows["transactions"]
    async with session_factory() as session:
        kinds = (await session.scalars(select(Invoice.kind).order_by(Invoice.id))).all()
        notices = (
            await session.scalars(
                select(Notification.template).where(Notification.template == "refund_issued")
            )
        ).all()
    assert kinds == ["invoice", "credit_note"]
    assert notices == ["refund_issued"]
    later = (await staff.execute(REFUND, orderId=order["id"], input={"amount": "0.01"}))[
        "orderRefund"
    ]
    assert codes(later) == [(["orderId"], "NOTHING_TO_REFUND")]


async def test_refunds_by_lines_add_up_to_the_line_and_shipping_goes_once(
    gql, shop, staff, session_factory
):
    order = await _order(shop, gql, quantity=3)  # 3 x 10.00 + 5.00 shipping
    line = order["lines"][0]["id"]

    first = (await staff.execute(REFUND, orderId=order["id"], input={
        "lines": [{"lineId": line, "quantity": 1}], "includeShipping": True,
    }))["orderRefund"]  # fmt: skip
    second = (await staff.execute(REFUND, orderId=order["id"], input={
        "lines": [{"lineId": line, "quantity": 2}], "includeShipping": True,
    }))["orderRefund"]  # fmt: skip
    third = (await staff.execute(REFUND, orderId=order["id"], input={
        "lines": [{"lineId": line, "quantity": 1}],
    }))["orderRefund"]  # fmt: skip

    assert first["refund"]["amount"]["amount"] == "15.00"
    assert first["refund"]["shipping"]["amount"] == "5.00"
    assert second["refund"]["amount"]["amount"] == "20.00"
    assert second["refund"]["shipping"]["amount"] == "0.00"
    assert codes(third) == [(["lines.0.quantity"], "REFUND_EXCEEDS_LINE")]
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["payments"] == [("succeeded", 3500, 3500, 0)]


@pytest.mark.parametrize(
    ("refund_input", "expected"),
    [
        ({"amount": "25.01"}, [(["amount"], "REFUND_EXCEEDS_CAPTURED")]),
        ({"amount": "0"}, [(["amount"], "NOTHING_TO_REFUND")]),
        ({"amount": "-1"}, [(["amount"], "INVALID")]),
        ({"amount": "1.001"}, [(["amount"], "INVALID")]),
        ({"amount": "1" * 4000}, [(["amount"], "INVALID")]),
        ({"amount": "1", "lines": []}, [(["amount"], "INVALID")]),
        (
            {"lines": [{"lineId": gid("OrderLine", 999999999), "quantity": 1}]},
            [(["lines.0.lineId"], "NOT_FOUND")],
        ),
        ({"lines": [{"lineId": "not an id", "quantity": 1}]}, [(["lines.0.lineId"], "NOT_FOUND")]),
        (
            {"lines": [{"lineId": gid("Product", 1), "quantity": 1}]},
            [(["lines.0.lineId"], "NOT_FOUND")],
        ),
        ({"lines": []}, [(["amount"], "NOTHING_TO_REFUND")]),
        ({"amount": "1", "reason": "bell\x07"}, [(["reason"], "INVALID")]),
        ({"amount": "1", "reason": "r" * 501}, [(["reason"], "TOO_LONG")]),
        ({"amount": "1", "idempotencyKey": ""}, [(["idempotencyKey"], "INVALID")]),
        ({"amount": "1", "idempotencyKey": "k" * 256}, [(["idempotencyKey"], "INVALID")]),
        ({"amount": "NaN"}, [(["amount"], "INVALID")]),
        ({"amount": "Infinity"}, [(["amount"], "INVALID")]),
        ({"amount": "1e999999999"}, [(["amount"], "INVALID")]),
        ({"amount": "-0"}, [(["amount"], "INVALID")]),
        ({"amount": None, "lines": None}, [(["amount"], "NOTHING_TO_REFUND")]),
    ],
)
async def test_hostile_refunds_are_refused_and_change_nothing(
    gql, shop, staff, session_factory, refund_input, expected
):
    order = await _order(shop, gql)
    payload = (await staff.execute(REFUND, orderId=order["id"], input=refund_input))["orderRefund"]
    assert codes(payload) == expected
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["refunds"] == []
    assert rows["payments"] == [("succeeded", 2500, 0, 0)]


async def test_a_line_of_another_order_and_a_missing_order_are_not_found(gql, shop, staff):
    mine = await _order(shop, gql)
    other = await _order(shop, gql)
    foreign = (await staff.execute(REFUND, orderId=mine["id"], input={
        "lines": [{"lineId": other["lines"][0]["id"], "quantity": 1}],
    }))["orderRefund"]  # fmt: skip
    missing = (await staff.execute(REFUND, orderId=gid("Order", 10**12), input={"amount": "1"}))[
        "orderRefund"
    ]
    assert codes(foreign) == [(["lines.0.lineId"], "NOT_FOUND")]
    assert codes(missing) == [(["orderId"], "NOT_FOUND")]


async def test_the_same_refund_key_returns_the_first_refund(gql, shop, staff, session_factory):
    order = await _order(shop, gql)
    refund_input = {"amount": "5", "idempotencyKey": "refund-1"}
    first = (await staff.execute(REFUND, orderId=order["id"], input=refund_input))["orderRefund"]
    again = (await staff.execute(REFUND, orderId=order["id"], input=refund_input))["orderRefund"]
    assert first["refund"]["id"] == again["refund"]["id"]
    assert (await money_rows(session_factory, key_of(order["id"])))["payments"] == [
        ("succeeded", 2500, 500, 0)
    ]


async def test_a_pending_payment_that_settles_is_confirmed_by_the_customer(
    gql, app, shop, session_factory
):
    order = await _order(shop, gql, token="tok_pending")
    assert order["status"] == "PENDING_PAYMENT"
    app.state.resources.gateways["DUMMY"].settle(order["payments"][0]["pspReference"])

    payload = (await gql.execute(CONFIRM, token=order["token"]))["orderPaymentConfirm"]
    again = (await gql.execute(CONFIRM, token=order["token"]))["orderPaymentConfirm"]
    unknown = (await gql.execute(CONFIRM, token="x" * 43))["orderPaymentConfirm"]

    assert payload["order"]["status"] == "PAID"
    assert again["order"]["status"] == "PAID"
    assert codes(unknown) == [(["orderToken"], "NOT_FOUND")]
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["transactions"] == [("capture", "succeeded", 2500)]
    async with session_factory() as session:
        assert (await session.scalars(select(Invoice.kind))).all() == ["invoice"]


async def test_the_customer_reads_payments_but_not_the_raw_answers(gql, shop, session_factory):
    order = await _order(shop, gql)
    async with session_factory() as session:
        row = await session.scalar(select(Order).where(Order.id == key_of(order["id"])))
        assert row is not None
    query = "query($t: String!) { orderByToken(token: $t) { payments { transactions { raw } } } }"
    data = await gql.execute(query, t=order["token"])
    assert data["orderByToken"]["payments"][0]["transactions"] == [{"raw": None}]


async def test_order_query_shows_refunds_and_credit_notes(gql, shop, staff, session_factory):
    order = await _order(shop, gql)
    await staff.execute(REFUND, orderId=order["id"], input={"amount": "2.50"})
    data = (await staff.execute(ORDER_QUERY, id=order["id"]))["order"]
    assert data["totalRefunded"] == {"amount": "2.50"}
    assert [(r["status"], r["origin"], r["amount"]["amount"]) for r in data["refunds"]] == [
        ("SUCCEEDED", "STAFF", "2.50")
    ]
    assert [i["kind"] for i in data["invoices"]] == ["INVOICE", "CREDIT_NOTE"]
    assert data["invoices"][1]["total"] == {"amount": "2.50"}
    async with session_factory() as session:
        refunds = (await session.scalars(select(Refund))).all()
        transactions = (await session.scalars(select(PaymentTransaction.kind))).all()
        stock = (await session.scalars(select(Stock.quantity))).all()
    assert len(refunds) == 1 and sorted(transactions) == ["capture", "refund"]
    assert stock == [3]  # a refund gives money back, not stock (returns: the orders issue)


_ = Decimal  # amounts in these tests are strings, as clients send them

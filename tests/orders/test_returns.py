"""Returns: a customer (or a guest by token) asks to return delivered units within the window;
staff approve or reject, receive (restocking or not) and refund through the payment; every
step tells the customer and leaves an audit row; quantities never exceed what was delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from models.fulfilment import Shipment
from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import (
    ORDER,
    audit_actions,
    delivered_order,
    outbox,
    paid_order,
    ship,
    stock_of,
)
from tests.payments.payment_fixtures import codes, money_rows

__all__ = ["customer", "staff", "staff_user"]

RESULT = """order { status lines { quantityReturned } }
    orderReturn { id status reason staffNote restocked lines { quantity reason }
                  refund { status amount { amount } } }
    userErrors { field message code }"""
REQUEST = f"""
mutation($id: ID, $token: String, $input: OrderReturnRequestInput!) {{
  orderReturnRequest(id: $id, token: $token, input: $input) {{ {RESULT} }}
}}"""
APPROVE = (
    f"mutation($id: ID!, $note: String) {{ returnApprove(id: $id, note: $note) {{ {RESULT} }} }}"
)
REJECT = (
    f"mutation($id: ID!, $note: String) {{ returnReject(id: $id, note: $note) {{ {RESULT} }} }}"
)
RECEIVE = f"""
mutation($id: ID!, $restock: Boolean!) {{
  returnReceive(id: $id, restock: $restock) {{ {RESULT} }}
}}"""
REFUND = f"""
mutation($id: ID!, $shipping: Boolean) {{
  returnRefund(id: $id, includeShipping: $shipping) {{ {RESULT} }}
}}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


def _lines(order: dict, *quantities: int, reason: str = "too small") -> list[dict]:
    return [
        {"lineId": line["id"], "quantity": quantity, "reason": reason}
        for line, quantity in zip(order["lines"], quantities, strict=False)
        if quantity
    ]


async def _request(gql, order: dict, *quantities: int, **extra) -> dict:
    variables = {"token": order["token"], "input": {"lines": _lines(order, *quantities), **extra}}
    return (await gql.execute(REQUEST, **variables))["orderReturnRequest"]


async def test_request_approve_receive_restock_and_refund(gql, shop, staff, session_factory):
    order = await delivered_order(gql, staff, shop, quantities=(2, 1))
    variant = order["variants"][0]
    stock_before = await stock_of(session_factory, variant)

    asked = await _request(gql, order, 2, 0, reason="Wrong size")
    return_id = asked["orderReturn"]["id"]
    approved = (await staff.execute(APPROVE, id=return_id, note="Send it back"))["returnApprove"]
    received = (await staff.execute(RECEIVE, id=return_id, restock=True))["returnReceive"]
    refunded = (await staff.execute(REFUND, id=return_id))["returnRefund"]
    again = (await staff.execute(REFUND, id=return_id))["returnRefund"]

    assert asked["userErrors"] == [] and asked["orderReturn"]["status"] == "REQUESTED"
    assert asked["orderReturn"]["lines"] == [{"quantity": 2, "reason": "too small"}]
    assert asked["orderReturn"]["reason"] == "Wrong size"
    assert asked["order"]["lines"] == [{"quantityReturned": 2}, {"quantityReturned": 0}]
    assert approved["orderReturn"]["status"] == "APPROVED"
    assert approved["orderReturn"]["staffNote"] == "Send it back"
    assert received["orderReturn"]["status"] == "RECEIVED"
    assert received["orderReturn"]["restocked"] is True
    assert received["order"]["status"] == "DELIVERED"  # one line is still with the customer
    assert refunded["userErrors"] == []
    assert refunded["orderReturn"]["status"] == "REFUNDED"
    assert refunded["orderReturn"]["refund"] == {
        "status": "SUCCEEDED",
        "amount": {"amount": "20.00"},
    }
    assert refunded["order"]["status"] == "PARTIALLY_REFUNDED"
    assert codes(again) == [(["id"], "ILLEGAL_TRANSITION")]
    after = await stock_of(session_factory, variant)
    assert sum(after.values()) == sum(stock_before.values()) + 2
    rows = await money_rows(session_factory, key_of(order["id"]))
    assert rows["refunds"] == [("succeeded", "staff", 2000)]
    statuses = [p["returnStatus"] for _, _, p in await outbox(session_factory, order["id"],
                                                               "return_update")]  # fmt: skip
    assert statuses == ["requested", "approved", "received", "refunded"]
    assert await audit_actions(session_factory, order["id"]) == [
        "shipment.create", "shipment.deliver", "return.approve", "return.receive",
        "return.refund",
    ]  # fmt: skip


async def test_a_whole_return_received_makes_the_order_returned(gql, shop, staff):
    order = await delivered_order(gql, staff, shop, quantities=(1,))
    return_id = (await _request(gql, order, 1))["orderReturn"]["id"]
    await staff.execute(APPROVE, id=return_id)

    received = (await staff.execute(RECEIVE, id=return_id, restock=False))["returnReceive"]
    refunded = (await staff.execute(REFUND, id=return_id, shipping=True))["returnRefund"]

    assert received["order"]["status"] == "RETURNED"
    assert received["orderReturn"]["restocked"] is False
    assert refunded["order"]["status"] == "REFUNDED"
    assert refunded["orderReturn"]["refund"]["amount"] == {"amount": "15.00"}


async def test_a_rejected_return_frees_its_units(gql, shop, staff):
    order = await delivered_order(gql, staff, shop, quantities=(2,))
    first = await _request(gql, order, 2)
    blocked = await _request(gql, order, 1)
    rejected = (await staff.execute(REJECT, id=first["orderReturn"]["id"], note="Worn"))[
        "returnReject"
    ]
    second = await _request(gql, order, 2)

    assert codes(blocked) == [(["input.lines.0.quantity"], "RETURN_EXCEEDS_DELIVERED")]
    assert "Only 0 delivered units" in blocked["userErrors"][0]["message"]
    assert rejected["orderReturn"]["status"] == "REJECTED"
    assert second["userErrors"] == []
    wrong_step = (await staff.execute(RECEIVE, id=first["orderReturn"]["id"], restock=True))[
        "returnReceive"
    ]
    assert codes(wrong_step) == [(["id"], "ILLEGAL_TRANSITION")]


async def test_returns_close_after_the_window(gql, shop, staff, session_factory):
    order = await delivered_order(gql, staff, shop, quantities=(1,))
    async with session_factory() as session, session.begin():
        await session.execute(
            update(Shipment)
            .where(Shipment.order_id == key_of(order["id"]))
            .values(delivery_recorded_at=datetime.now(UTC) - timedelta(days=31))
        )
    late = await _request(gql, order, 1)
    assert codes(late) == [(["id"], "RETURN_WINDOW_CLOSED")]
    assert (await staff.execute(ORDER, id=order["id"]))["order"]["returns"] == []


async def test_undelivered_units_cannot_be_returned(gql, shop, staff):
    order = await paid_order(gql, shop, quantities=(2,))
    before = await _request(gql, order, 1)
    await ship(staff, order, 2)
    shipped_only = await _request(gql, order, 1)
    assert codes(before) == [(["id"], "ILLEGAL_TRANSITION")]
    assert codes(shipped_only) == [(["id"], "ILLEGAL_TRANSITION")]


@pytest.mark.parametrize(
    ("lines", "extra", "field", "code"),
    [
        ([], {}, "input.lines", "REQUIRED"),
        ([{"quantity": 0}], {}, "input.lines.0.quantity", "INVALID"),
        ([{"quantity": -3}], {}, "input.lines.0.quantity", "INVALID"),
        ([{"quantity": 2}], {}, "input.lines.0.quantity", "RETURN_EXCEEDS_DELIVERED"),
        ([{"quantity": 1}, {"quantity": 1}], {}, "input.lines.1.lineId", "INVALID"),
        ([{"lineId": "T3JkZXJMaW5lOjk5OTk5OTk="}], {}, "input.lines.0.lineId", "NOT_FOUND"),
        ([{"reason": "x" * 501}], {}, "input.lines.0.reason", "TOO_LONG"),
        ([{"reason": "bad\u202e"}], {}, "input.lines.0.reason", "INVALID"),
        ([{}], {"reason": "y" * 1001}, "input.reason", "TOO_LONG"),
    ],
)
async def test_hostile_return_requests_are_coded_and_write_nothing(
    gql, shop, staff, lines, extra, field, code
):
    order = await delivered_order(gql, staff, shop, quantities=(1,))
    line_id = order["lines"][0]["id"]
    given = [{"lineId": line_id, "quantity": 1, **item} for item in lines]
    variables = {"token": order["token"], "input": {"lines": given, **extra}}
    payload = (await gql.execute(REQUEST, **variables))["orderReturnRequest"]
    assert codes(payload) == [([field], code)]
    assert (await staff.execute(ORDER, id=order["id"]))["order"]["returns"] == []


async def test_only_the_orders_customer_or_token_holder_asks(
    gql, shop, staff, customer, make_user, sign_in
):
    owner = await make_user(email="returner@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await delivered_order(mine, staff, shop, quantities=(1,), user_id=owner.id)
    lines = {"lines": _lines(order, 1)}

    other = (await customer.execute(REQUEST, id=order["id"], input=lines))["orderReturnRequest"]
    anonymous = (await gql.execute(REQUEST, id=order["id"], input=lines))["orderReturnRequest"]
    wrong_token = (await gql.execute(REQUEST, token="x" * 43, input=lines))["orderReturnRequest"]
    by_staff = (await staff.execute(REQUEST, id=order["id"], input=lines))["orderReturnRequest"]
    own = (await mine.execute(REQUEST, id=order["id"], input=lines))["orderReturnRequest"]

    for refused in (other, anonymous, wrong_token, by_staff):
        assert codes(refused) == [(["id"], "NOT_FOUND")]
    assert own["userErrors"] == [] and own["orderReturn"]["status"] == "REQUESTED"


async def test_customers_cannot_answer_returns(gql, shop, staff, customer):
    order = await delivered_order(gql, staff, shop, quantities=(1,))
    return_id = (await _request(gql, order, 1))["orderReturn"]["id"]
    for document in (APPROVE, REJECT):
        body = await customer.raw(document, id=return_id)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    unknown = (await staff.execute(APPROVE, id="T3JkZXJSZXR1cm46OTk5OTk5"))["returnApprove"]
    assert codes(unknown) == [(["id"], "NOT_FOUND")]


async def test_return_requests_are_rate_limited_per_address(start_app, shop):
    import uuid

    from tests.graphql_client import GraphQLClient

    async with start_app(
        rate_limits_enabled=True, rate_limit_return_request_ip="2/minute",
        pubsub_prefix=f"rl-{uuid.uuid4()}",
    ) as (_, http):  # fmt: skip
        gql = GraphQLClient(http)
        bodies = [await gql.raw(REQUEST, token="y" * 43, input={"lines": []}) for _ in range(3)]
    assert [b.get("errors", [{}])[0].get("extensions", {}).get("code") for b in bodies] == [
        None, None, "RATE_LIMITED",
    ]  # fmt: skip


RETURNS = """
query($filter: OrderReturnsFilter, $first: Int) {
  orderReturns(filter: $filter, first: $first) {
    edges { node { id status lines { quantity line { id quantityReturned } } } }
  }
}"""


async def test_staff_list_returns_by_status_in_the_same_statements_per_page(
    gql, shop, staff, customer, connection
):
    from tests.sql_counter import count_statements

    returns = []
    for _ in range(4):
        order = await delivered_order(gql, staff, shop, quantities=(1,))
        returns.append((await _request(gql, order, 1))["orderReturn"]["id"])
    await staff.execute(REJECT, id=returns[0])

    requested = await staff.execute(RETURNS, filter={"status": ["REQUESTED"]}, first=10)
    rejected = await staff.execute(RETURNS, filter={"status": ["REJECTED"]}, first=10)
    counts = []
    for size in (1, 3):
        with count_statements(connection) as statements:
            page = await staff.execute(RETURNS, first=size)
        assert len(page["orderReturns"]["edges"]) == size
        counts.append(len(statements))
    forbidden = await customer.raw(RETURNS)

    assert [e["node"]["id"] for e in requested["orderReturns"]["edges"]] == returns[:0:-1]
    assert [e["node"]["id"] for e in rejected["orderReturns"]["edges"]] == [returns[0]]
    assert counts[0] == counts[1]
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_backdated_carrier_report_does_not_shorten_the_window(
    gql, shop, staff, session_factory
):
    from tests.orders.after_sale_fixtures import REPORT

    order = await paid_order(gql, shop, quantities=(1,))
    await ship(staff, order, 1, carrier="DHL", trackingNumber="OLD1")
    async with session_factory() as session, session.begin():  # shipped 40 days ago
        await session.execute(
            update(Shipment)
            .where(Shipment.order_id == key_of(order["id"]))
            .values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
    backdated = (datetime.now(UTC) - timedelta(days=39)).isoformat()
    report = await staff.execute(REPORT, carrier="DHL", tracking="OLD1", at=backdated)
    asked = await _request(gql, order, 1)

    assert report["shipmentDeliveryReport"]["userErrors"] == []
    assert asked["userErrors"] == [] and asked["orderReturn"]["status"] == "REQUESTED"


NODE = """
query($id: ID!) {
  node(id: $id) {
    id ... on Shipment { shipmentStatus: status } ... on OrderReturn { status }
  }
}"""


async def test_shipments_and_returns_are_nodes_for_who_may_see_the_order(
    gql, shop, staff, customer, make_user, sign_in
):
    owner = await make_user(email="nodes@example.com")
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await delivered_order(mine, staff, shop, quantities=(1,), user_id=owner.id)
    shipment_id = order["shipments"][0]["id"]
    return_id = (await _request(mine, order, 1))["orderReturn"]["id"]

    for node_id, key, status in (
        (shipment_id, "shipmentStatus", "DELIVERED"), (return_id, "status", "REQUESTED"),
    ):  # fmt: skip
        assert (await mine.execute(NODE, id=node_id))["node"] == {"id": node_id, key: status}
        assert (await staff.execute(NODE, id=node_id))["node"][key] == status
        assert (await customer.execute(NODE, id=node_id))["node"] is None
        assert (await gql.execute(NODE, id=node_id))["node"] is None

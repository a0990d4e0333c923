"""orderFulfil, shipmentDeliver and shipmentDeliveryReport: units move from allocated to
shipped, the order moves partially fulfilled -> fulfilled -> delivered, the customer is told,
staff actions are audited; hostile inputs are coded refusals that write nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.auth.permissions import Role
from tests.catalog.staff_fixtures import customer, key_of, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import (
    DELIVER,
    FULFIL,
    ORDER,
    REPORT,
    audit_actions,
    lines_input,
    outbox,
    paid_order,
    ship,
    stock_of,
)
from tests.payments.payment_fixtures import checkout, codes

__all__ = ["customer", "staff", "staff_user"]

CANCEL = "mutation($id: ID) { orderCancel(id: $id) { order { status } userErrors { code } } }"


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _fulfil(client, order: dict, lines: list, **extra) -> dict:
    input_ = {"lines": lines, **extra}
    return (await client.execute(FULFIL, orderId=order["id"], input=input_))["orderFulfil"]


async def test_two_shipments_fulfil_the_order_and_deliveries_complete_it(
    gql, shop, staff, session_factory
):
    order = await paid_order(gql, shop, quantities=(3, 1))
    [first_variant, _] = order["variants"]
    before = await stock_of(session_factory, first_variant)

    first = await ship(staff, order, 2, 0, carrier="DHL", trackingNumber="JD0001",
                       trackingUrl="https://track.example/JD0001")  # fmt: skip
    second = await ship(staff, order, 1, 1)
    lines = second["order"]["lines"]
    for shipment in (first, second):
        done = (await staff.execute(DELIVER, id=shipment["shipment"]["id"]))["shipmentDeliver"]
        assert done["userErrors"] == []
    final = (await staff.execute(ORDER, id=order["id"]))["order"]

    assert first["order"]["status"] == "PARTIALLY_FULFILLED"
    assert first["shipment"] == {
        "id": first["shipment"]["id"], "status": "SHIPPED", "trackingNumber": "JD0001",
    }  # fmt: skip
    assert second["order"]["status"] == "FULFILLED"
    assert [(line["quantity"], line["quantityFulfilled"]) for line in lines] == [(3, 3), (1, 1)]
    assert final["status"] == "DELIVERED"
    assert [line["quantityDelivered"] for line in final["lines"]] == [3, 1]
    assert [e["toStatus"] for e in final["events"]] == [
        "PENDING_PAYMENT", "PAID", "PARTIALLY_FULFILLED", "FULFILLED", "DELIVERED",
    ]  # fmt: skip
    assert final["shipments"][0]["trackingUrl"] == "https://track.example/JD0001"
    assert [s["status"] for s in final["shipments"]] == ["DELIVERED", "DELIVERED"]
    # Shipped from where the units were allocated: nothing moves between warehouses.
    assert await stock_of(session_factory, first_variant) == before
    sent = await outbox(session_factory, order["id"], "shipment_sent")
    assert [(channel, payload["trackingNumber"]) for channel, _, payload in sent] == [
        ("email", "JD0001"), ("email", ""),
    ]  # fmt: skip
    assert len(await outbox(session_factory, order["id"], "shipment_delivered")) == 2
    assert await audit_actions(session_factory, order["id"]) == [
        "shipment.create", "shipment.create", "shipment.deliver", "shipment.deliver",
    ]  # fmt: skip


async def test_shipping_from_another_warehouse_moves_the_units(gql, shop, staff, session_factory):
    order = await paid_order(gql, shop, quantities=(2,))
    [variant] = order["variants"]
    other = await shop.warehouse()
    async with session_factory() as session, session.begin():
        from models.catalog import Stock

        session.add(Stock(variant_id=variant.id, warehouse_id=other.id, quantity=5))
    default = next(iter(await stock_of(session_factory, variant)))  # allocated from here
    before = await stock_of(session_factory, variant)
    from tests.catalog.staff_fixtures import gid

    await ship(staff, order, 2, warehouseId=gid("Warehouse", other.id))
    after = await stock_of(session_factory, variant)

    assert after[other.id] == before[other.id] - 2
    assert after[default] == before[default] + 2  # the allocated units went back


async def test_more_than_is_left_of_a_line_is_refused_and_nothing_ships(
    gql, shop, staff, session_factory
):
    order = await paid_order(gql, shop, quantities=(2,))
    await ship(staff, order, 1)

    over = await _fulfil(staff, order, lines_input(order, 2))
    data = (await staff.execute(ORDER, id=order["id"]))["order"]

    assert codes(over) == [(["input.lines.0.quantity"], "FULFILMENT_EXCEEDS_LINE")]
    assert "Only 1 units" in over["userErrors"][0]["message"]
    assert data["lines"][0]["quantityFulfilled"] == 1 and len(data["shipments"]) == 1


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"lines": []}, "input.lines", "REQUIRED"),
        ({"quantity": 0}, "input.lines.0.quantity", "INVALID"),
        ({"quantity": -1}, "input.lines.0.quantity", "INVALID"),
        ({"quantity": 2**31 - 1}, "input.lines.0.quantity", "FULFILMENT_EXCEEDS_LINE"),
        ({"twice": True}, "input.lines.1.lineId", "INVALID"),
        ({"lineId": "T3JkZXJMaW5lOjk5OTk5OTk5"}, "input.lines.0.lineId", "NOT_FOUND"),
        ({"lineId": "garbage"}, "input.lines.0.lineId", "NOT_FOUND"),
        ({"carrier": "DHL\u0007"}, "input.carrier", "INVALID"),
        ({"carrier": "x" * 101}, "input.carrier", "TOO_LONG"),
        ({"trackingNumber": "1Z", "carrier": None}, "input.carrier", "REQUIRED"),
        ({"trackingUrl": "javascript:alert(1)"}, "input.trackingUrl", "INVALID"),
        ({"trackingUrl": "https://x.example/a b"}, "input.trackingUrl", "INVALID"),
        ({"warehouseId": "V2FyZWhvdXNlOjk5OTk5OTk="}, "input.warehouseId", "NOT_FOUND"),
    ],
)
async def test_hostile_inputs_are_coded_and_write_nothing(
    gql, shop, staff, session_factory, change, field, code
):
    order = await paid_order(gql, shop, quantities=(2,))
    line = {"lineId": order["lines"][0]["id"], "quantity": change.get("quantity", 1)}
    if "lineId" in change:
        line["lineId"] = change["lineId"]
    lines = [line, line] if change.get("twice") else [line]
    data = {"lines": change.get("lines", lines)}
    for key in ("carrier", "trackingNumber", "trackingUrl", "warehouseId"):
        if key in change:
            data[key] = change[key]

    payload = (await staff.execute(FULFIL, orderId=order["id"], input=data))["orderFulfil"]
    after = (await staff.execute(ORDER, id=order["id"]))["order"]

    assert codes(payload) == [([field], code)]
    assert after["status"] == "PAID" and after["shipments"] == []
    assert await audit_actions(session_factory, order["id"]) == []


async def test_a_quantity_beyond_32_bits_is_a_coded_request_error(gql, shop, staff):
    order = await paid_order(gql, shop, quantities=(1,))
    line = {"lineId": order["lines"][0]["id"], "quantity": 10**40}
    body = await staff.raw(FULFIL, orderId=order["id"], input={"lines": [line]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await staff.execute(ORDER, id=order["id"]))["order"]["shipments"] == []


async def test_another_orders_line_is_not_found(gql, shop, staff):
    mine = await paid_order(gql, shop, quantities=(1,))
    other = await paid_order(gql, shop, quantities=(1,))
    payload = await _fulfil(staff, mine, lines_input(other, 1))
    assert codes(payload) == [(["input.lines.0.lineId"], "NOT_FOUND")]


async def test_unpaid_and_cancelled_orders_do_not_ship(gql, shop, staff):
    variant = await shop.variant(price=1000, stock=5)
    cart = await shop.cart([(variant, 1)], method=await shop.method(price=500))
    unpaid = await checkout(gql, cart, token="tok_pending")

    refused = await _fulfil(staff, unpaid, lines_input(unpaid, 1))
    await staff.execute(CANCEL, id=unpaid["id"])
    cancelled = await _fulfil(staff, unpaid, lines_input(unpaid, 1))

    assert codes(refused) == [(["orderId"], "ILLEGAL_TRANSITION")]
    assert "it may become" in refused["userErrors"][0]["message"]
    assert codes(cancelled) == [(["orderId"], "ILLEGAL_TRANSITION")]


async def test_an_order_with_shipped_units_cannot_be_cancelled(gql, shop, staff, session_factory):
    order = await paid_order(gql, shop, quantities=(2,))
    [variant] = order["variants"]
    await ship(staff, order, 1)
    before = await stock_of(session_factory, variant)

    refused = (await staff.execute(CANCEL, id=order["id"]))["orderCancel"]

    assert refused == {"order": None, "userErrors": [{"code": "ILLEGAL_TRANSITION"}]}
    assert await stock_of(session_factory, variant) == before
    assert (await staff.execute(ORDER, id=order["id"]))["order"]["status"] == "PARTIALLY_FULFILLED"


async def test_customers_cannot_ship_or_deliver(gql, shop, customer, staff):
    order = await paid_order(gql, shop, quantities=(1,))
    shipped = await ship(staff, order, 1)
    for client in (customer, gql):
        result = await client.raw(
            FULFIL, orderId=order["id"], input={"lines": lines_input(order, 1)}
        )
        deliver = await client.raw(DELIVER, id=shipped["shipment"]["id"])
        assert result["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
        assert deliver["errors"][0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")


async def test_a_carrier_reports_a_delivery_once(
    gql, shop, staff, make_user, sign_in, session_factory
):
    order = await paid_order(gql, shop, quantities=(1,))
    shipped = await ship(staff, order, 1, carrier="UPS", trackingNumber="1Z999")
    await make_user(email="carrier@example.com", permissions=["REPORT_DELIVERIES"])
    carrier = gql.as_user((await sign_in("carrier@example.com"))["accessToken"])
    plain = await make_user(email="nobody@example.com")
    nobody = gql.as_user((await sign_in(plain.email))["accessToken"])
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()

    forbidden = await nobody.raw(REPORT, carrier="UPS", tracking="1Z999")
    unknown = await carrier.execute(REPORT, carrier="UPS", tracking="nope")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    future = await carrier.execute(REPORT, carrier="UPS", tracking="1Z999", at=tomorrow)
    early = await carrier.execute(REPORT, carrier="UPS", tracking="1Z999", at=yesterday)
    first = await carrier.execute(
        REPORT, carrier="UPS", tracking="1Z999", at=datetime.now(UTC).isoformat()
    )
    again = await carrier.execute(REPORT, carrier="UPS", tracking="1Z999")

    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert codes(unknown["shipmentDeliveryReport"]) == [(["trackingNumber"], "NOT_FOUND")]
    assert codes(future["shipmentDeliveryReport"]) == [(["deliveredAt"], "INVALID")]
    assert codes(early["shipmentDeliveryReport"]) == [(["deliveredAt"], "INVALID")]
    assert first["shipmentDeliveryReport"]["userErrors"] == []
    assert first["shipmentDeliveryReport"]["status"] == "DELIVERED"
    assert first["shipmentDeliveryReport"]["shipmentId"] == shipped["shipment"]["id"]
    assert again["shipmentDeliveryReport"] == first["shipmentDeliveryReport"]
    assert (await staff.execute(ORDER, id=order["id"]))["order"]["status"] == "DELIVERED"
    # The carrier's account learns nothing of the order or its customer.
    peek = await carrier.raw(
        'mutation { shipmentDeliveryReport(carrier: "UPS", trackingNumber: "1Z999")'
        " { order { token email } } }"
    )
    assert peek["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert len(await outbox(session_factory, order["id"], "shipment_delivered")) == 1
    data = (await staff.execute(ORDER, id=order["id"]))["order"]
    assert [e["toStatus"] for e in data["events"]].count("DELIVERED") == 1


async def test_a_tracking_number_belongs_to_one_shipment(gql, shop, staff):
    first = await paid_order(gql, shop, quantities=(1,))
    second = await paid_order(gql, shop, quantities=(1,))
    await ship(staff, first, 1, carrier="DHL", trackingNumber="SAME")
    payload = (await staff.execute(FULFIL, orderId=second["id"], input={
        "lines": lines_input(second, 1), "carrier": "DHL", "trackingNumber": "SAME",
    }))["orderFulfil"]  # fmt: skip
    assert codes(payload) == [(["input.trackingNumber"], "UNIQUE")]
    assert (await staff.execute(ORDER, id=second["id"]))["order"]["shipments"] == []


async def test_the_customer_sees_shipments_of_their_order_and_others_do_not(
    gql, shop, staff, make_user, sign_in, customer
):
    owner = await make_user(email="buyer@example.com", role=Role.CUSTOMER)
    mine = gql.as_user((await sign_in(owner.email))["accessToken"])
    order = await paid_order(mine, shop, quantities=(1,), user_id=owner.id)
    await ship(staff, order, 1, carrier="DHL", trackingNumber="OWN1")

    seen = (await mine.execute(ORDER, id=order["id"]))["order"]
    other = (await customer.execute(ORDER, id=order["id"]))["order"]

    assert seen["shipments"][0]["trackingNumber"] == "OWN1"
    assert other is None
    assert key_of(order["id"]) > 0


async def test_a_partly_refunded_order_with_shipped_units_cannot_be_cancelled(
    gql, shop, staff, session_factory
):
    from tests.payments.payment_fixtures import REFUND

    order = await paid_order(gql, shop, quantities=(2,))
    [variant] = order["variants"]
    await ship(staff, order, 1)
    await staff.execute(REFUND, orderId=order["id"], input={"amount": "1.00"})
    before = await stock_of(session_factory, variant)

    refused = (await staff.execute(CANCEL, id=order["id"]))["orderCancel"]

    assert refused == {"order": None, "userErrors": [{"code": "ILLEGAL_TRANSITION"}]}
    assert await stock_of(session_factory, variant) == before
    assert (await staff.execute(ORDER, id=order["id"]))["order"]["status"] == "PARTIALLY_REFUNDED"


async def test_refunded_units_do_not_ship(gql, shop, staff):
    from tests.payments.payment_fixtures import REFUND

    order = await paid_order(gql, shop, quantities=(3,))
    line = order["lines"][0]["id"]
    refund = await staff.execute(
        REFUND, orderId=order["id"], input={"lines": [{"lineId": line, "quantity": 1}]}
    )
    assert refund["orderRefund"]["userErrors"] == []

    over = await _fulfil(staff, order, lines_input(order, 3))
    rest = await _fulfil(staff, order, lines_input(order, 2))

    assert codes(over) == [(["input.lines.0.quantity"], "FULFILMENT_EXCEEDS_LINE")]
    assert "Only 2 units" in over["userErrors"][0]["message"]
    assert rest["userErrors"] == [] and rest["order"]["status"] == "FULFILLED"  # none left
    delivered = await staff.execute(DELIVER, id=rest["shipment"]["id"])
    assert delivered["shipmentDeliver"]["order"]["status"] == "DELIVERED"


async def test_lines_of_untracked_variants_ship_and_deliver(gql, shop, staff):
    variant = await shop.variant(price=1000, track=False)
    cart = await shop.cart([(variant, 2)], method=await shop.method(price=500))
    order = await checkout(gql, cart, token="tok_success")

    first = await _fulfil(staff, order, lines_input(order, 1))
    second = await _fulfil(staff, order, lines_input(order, 1))
    over = await _fulfil(staff, order, lines_input(order, 1))
    delivered = [
        (await staff.execute(DELIVER, id=p["shipment"]["id"]))["shipmentDeliver"]
        for p in (first, second)
    ]

    assert first["order"]["status"] == "PARTIALLY_FULFILLED"
    assert second["order"]["status"] == "FULFILLED"
    assert second["order"]["lines"][0]["quantityFulfilled"] == 2
    assert codes(over) == [(["orderId"], "ILLEGAL_TRANSITION")]
    assert delivered[-1]["order"]["status"] == "DELIVERED"


async def test_warehouse_names_are_for_staff_only(gql, shop, staff):
    order = await paid_order(gql, shop, quantities=(1,))
    await ship(staff, order, 1)
    from tests.orders.after_sale_fixtures import BY_TOKEN

    guest = (await gql.execute(BY_TOKEN, token=order["token"]))["orderByToken"]
    seen = (await staff.execute(ORDER, id=order["id"]))["order"]

    assert guest["shipments"][0]["warehouseName"] is None
    assert seen["shipments"][0]["warehouseName"]


async def test_a_line_split_over_warehouses_ships_from_its_own_allocation(
    gql, shop, staff, session_factory
):
    from tests.catalog.staff_fixtures import gid

    default = await shop.warehouse(default=True)
    other = await shop.warehouse()
    variant = await shop.variant(price=1000, stock={default.id: 1, other.id: 2})
    cart = await shop.cart([(variant, 3)], method=await shop.method(price=500))
    order = await checkout(gql, cart, token="tok_success")  # 1 from default, 2 from other
    before = await stock_of(session_factory, variant)

    shipped = await ship(staff, order, 2, warehouseId=gid("Warehouse", other.id))

    assert shipped["order"]["status"] == "PARTIALLY_FULFILLED"
    assert await stock_of(session_factory, variant) == before == {default.id: 0, other.id: 0}

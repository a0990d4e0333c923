"""Restocking a received return: the units land in a stock row (made when the warehouse
never held the variant), with an adjustment; when the warehouse they were shipped from is
gone, staff must name one and nothing changes until they do."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from models.catalog import Stock, StockAdjustment, Warehouse
from tests.catalog.staff_fixtures import customer, gid, staff, staff_user
from tests.checkout.checkout_fixtures import Shop
from tests.orders.after_sale_fixtures import DELIVER, delivered_order, ship, stock_of
from tests.payments.payment_fixtures import checkout, codes

__all__ = ["customer", "staff", "staff_user"]

RESULT = """order { status }
    orderReturn { id status restocked }
    userErrors { field message code }"""
REQUEST = f"""
mutation($token: String, $input: OrderReturnRequestInput!) {{
  orderReturnRequest(token: $token, input: $input) {{ {RESULT} }}
}}"""
APPROVE = f"mutation($id: ID!) {{ returnApprove(id: $id) {{ {RESULT} }} }}"
RECEIVE = f"""
mutation($id: ID!, $restock: Boolean!, $warehouseId: ID) {{
  returnReceive(id: $id, restock: $restock, warehouseId: $warehouseId) {{ {RESULT} }}
}}"""


@pytest.fixture
def shop(session_factory) -> Shop:
    return Shop(session_factory)


async def _approved_return(gql, staff, order: dict, units: int) -> str:
    asked = (
        await gql.execute(
            REQUEST,
            token=order["token"],
            input={"lines": [{"lineId": order["lines"][0]["id"], "quantity": units}]},
        )
    )["orderReturnRequest"]
    assert asked["userErrors"] == [], asked
    return_id = asked["orderReturn"]["id"]
    assert (await staff.execute(APPROVE, id=return_id))["returnApprove"]["userErrors"] == []
    return return_id


async def _additions(factory, variant) -> list[tuple[int | None, int, int]]:
    async with factory() as session:
        rows = await session.execute(
            select(StockAdjustment.warehouse_id, StockAdjustment.delta,
                   StockAdjustment.quantity_after)
            .where(StockAdjustment.variant_id == variant.id, StockAdjustment.delta > 0)
            .order_by(StockAdjustment.id)
        )  # fmt: skip
        return [tuple(row) for row in rows]


async def test_restocking_into_a_warehouse_that_never_held_the_variant(
    gql, shop, staff, session_factory
):
    order = await delivered_order(gql, staff, shop, quantities=(2,))
    variant = order["variants"][0]
    returns_centre = await shop.warehouse()
    before = await stock_of(session_factory, variant)
    return_id = await _approved_return(gql, staff, order, 2)

    received = (
        await staff.execute(
            RECEIVE,
            id=return_id,
            restock=True,
            warehouseId=gid("Warehouse", returns_centre.id),
        )
    )["returnReceive"]

    assert received["userErrors"] == []
    assert received["orderReturn"]["restocked"] is True
    assert await stock_of(session_factory, variant) == {**before, returns_centre.id: 2}
    assert await _additions(session_factory, variant) == [(returns_centre.id, 2, 2)]


async def test_restocking_units_whose_warehouse_is_gone_needs_a_warehouse(
    gql, shop, staff, session_factory
):
    gone = await shop.warehouse()
    variant = await shop.variant(price=1000, stock={gone.id: 2})
    cart = await shop.cart([(variant, 2)], method=await shop.method(price=500))
    order = await checkout(gql, cart, token="tok_success")
    shipped = await ship(staff, order, 2)
    await staff.execute(DELIVER, id=shipped["shipment"]["id"])
    return_id = await _approved_return(gql, staff, order, 2)
    async with session_factory() as session, session.begin():  # emptied, then deleted
        await session.execute(delete(Stock).where(Stock.warehouse_id == gone.id))
        await session.execute(delete(Warehouse).where(Warehouse.id == gone.id))
    default = await shop.warehouse(default=True)

    refused = (await staff.execute(RECEIVE, id=return_id, restock=True))["returnReceive"]
    async with session_factory() as session:
        adjustments = await session.scalar(
            select(func.count())
            .select_from(StockAdjustment)
            .where(StockAdjustment.variant_id == variant.id, StockAdjustment.delta > 0)
        )
    named = (
        await staff.execute(
            RECEIVE, id=return_id, restock=True, warehouseId=gid("Warehouse", default.id)
        )
    )["returnReceive"]

    assert codes(refused) == [(["warehouseId"], "REQUIRED")]
    assert refused["orderReturn"] is None
    assert adjustments == 0
    assert named["userErrors"] == [] and named["orderReturn"]["status"] == "RECEIVED"
    assert await stock_of(session_factory, variant) == {default.id: 2}
    assert await _additions(session_factory, variant) == [(default.id, 2, 2)]

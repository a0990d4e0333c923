"""Documents and helpers of the after-sale tests: a paid order through checkout, shipped and
delivered through the staff API, and the rows the tests read back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models.catalog import Stock
from models.notifications import Notification
from models.orders import OrderAudit
from tests.catalog.staff_fixtures import key_of
from tests.checkout.checkout_fixtures import Shop
from tests.payments.payment_fixtures import checkout

ERRORS = "userErrors { field message code }"
ORDER_FIELDS = """
  id status token
  lines { id quantity quantityFulfilled quantityDelivered quantityReturned }
  shipments { id status carrier trackingNumber trackingUrl warehouseName deliveredAt
              lines { quantity line { id } } }
  returns { id status reason staffNote restocked lines { quantity reason line { id } }
            refund { status amount { amount } } }
  events { fromStatus toStatus note actor actorEmail }
"""
FULFIL = f"""
mutation($orderId: ID!, $input: OrderFulfilInput!) {{
  orderFulfil(orderId: $orderId, input: $input) {{
    order {{ {ORDER_FIELDS} }} shipment {{ id status trackingNumber }} {ERRORS}
  }}
}}"""
DELIVER = f"""
mutation($id: ID!) {{
  shipmentDeliver(id: $id) {{ order {{ {ORDER_FIELDS} }} shipment {{ id status }} {ERRORS} }}
}}"""
REPORT = f"""
mutation($carrier: String!, $tracking: String!, $at: DateTime) {{
  shipmentDeliveryReport(carrier: $carrier, trackingNumber: $tracking, deliveredAt: $at) {{
    shipmentId status deliveredAt {ERRORS}
  }}
}}"""
ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
BY_TOKEN = f"query($token: String!) {{ orderByToken(token: $token) {{ {ORDER_FIELDS} }} }}"


async def paid_order(
    gql: Any, shop: Shop, *, quantities: tuple[int, ...] = (3,), stock: int = 10, **cart: Any
) -> dict[str, Any]:
    """A paid order (DUMMY) of one line per quantity, each line of a new variant at 10.00."""
    variants = [await shop.variant(price=1000, stock=stock) for _ in quantities]
    placed = await shop.cart(
        list(zip(variants, quantities, strict=True)), method=await shop.method(price=500), **cart
    )
    order = await checkout(gql, placed, token="tok_success")
    order["variants"] = variants
    return order


def lines_input(order: dict[str, Any], *quantities: int) -> list[dict[str, Any]]:
    return [
        {"lineId": line["id"], "quantity": quantity}
        for line, quantity in zip(order["lines"], quantities, strict=False)
        if quantity
    ]


async def ship(staff: Any, order: dict[str, Any], *quantities: int, **extra: Any) -> dict:
    payload = (
        await staff.execute(
            FULFIL, orderId=order["id"], input={"lines": lines_input(order, *quantities), **extra}
        )
    )["orderFulfil"]
    assert payload["userErrors"] == [], payload
    return payload


async def delivered_order(gql: Any, staff: Any, shop: Shop, **kwargs: Any) -> dict[str, Any]:
    """A paid order shipped whole in one shipment and delivered, through the staff API."""
    order = await paid_order(gql, shop, **kwargs)
    shipped = await ship(staff, order, *(line["quantity"] for line in order["lines"]))
    delivered = (await staff.execute(DELIVER, id=shipped["shipment"]["id"]))["shipmentDeliver"]
    assert delivered["order"]["status"] == "DELIVERED", delivered
    return {**order, **delivered["order"], "variants": order["variants"]}


async def stock_of(factory: Any, variant: Any) -> dict[int, int]:
    """{warehouse id: quantity} of the variant."""
    async with factory() as session:
        rows = await session.execute(
            select(Stock.warehouse_id, Stock.quantity).where(Stock.variant_id == variant.id)
        )
        return dict(rows.all())


async def outbox(factory: Any, order_id: str, template: str) -> list[tuple[str, str, dict]]:
    """(channel, recipient, payload) of the order's outbox rows of `template`."""
    async with factory() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.template == template).order_by(Notification.id)
        )
        key = key_of(order_id)
        return [
            (r.channel, r.recipient, r.payload) for r in rows if r.payload.get("orderId") == key
        ]


async def audit_actions(factory: Any, order_id: str) -> list[str]:
    async with factory() as session:
        rows = await session.scalars(
            select(OrderAudit.action)
            .where(OrderAudit.order_id == key_of(order_id))
            .order_by(OrderAudit.id)
        )
        return list(rows)

"""GraphQL documents and helpers of the payment tests: checkout with a gateway, the order's
payments, transactions, refunds and invoices, and the staff mutations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.orders import Order
from models.payments import Payment, PaymentTransaction, Refund
from tests.checkout.checkout_fixtures import cart_id

ERRORS = "userErrors { field message code }"
PAYMENT = """
  id gateway status captureMode amount { amount currency } authorized { amount }
  captured { amount } refunded { amount } pspReference clientSecret approvalUrl message
  transactions { kind status amount { amount } pspReference }
"""
ORDER = f"""
  id number status token total {{ amount currency }}
  totalCaptured {{ amount }} totalRefunded {{ amount }}
  lines {{ id quantity total {{ amount }} }}
  payments {{ {PAYMENT} }}
  refunds {{ status origin amount {{ amount }} shipping {{ amount }}
             lines {{ quantity amount {{ amount }} }} }}
  invoices {{ kind number total {{ amount }} tax {{ amount }} downloadUrl }}
  events {{ fromStatus toStatus }}
"""
CHECKOUT = f"""
mutation($cartId: ID!, $key: String!, $gateway: String!, $token: String) {{
  checkoutComplete(cartId: $cartId, idempotencyKey: $key,
                   payment: {{gateway: $gateway, token: $token}}) {{
    order {{ {ORDER} }} {ERRORS}
  }}
}}"""
ORDER_QUERY = f"query($id: ID!) {{ order(id: $id) {{ {ORDER} }} }}"
CONFIRM = f"""
mutation($token: String!) {{
  orderPaymentConfirm(orderToken: $token) {{ order {{ {ORDER} }} {ERRORS} }}
}}"""
REFUND = f"""
mutation($orderId: ID!, $input: OrderRefundInput!) {{
  orderRefund(orderId: $orderId, input: $input) {{
    refund {{ id status origin amount {{ amount currency }} shipping {{ amount }}
             lines {{ orderLineId quantity amount {{ amount }} }} reason message }}
    {ERRORS}
  }}
}}"""
CAPTURE = f"""
mutation($id: ID!) {{ orderPaymentCapture(paymentId: $id) {{ payment {{ {PAYMENT} }} {ERRORS} }} }}
"""
VOID = f"""
mutation($id: ID!) {{ orderPaymentVoid(paymentId: $id) {{ payment {{ {PAYMENT} }} {ERRORS} }} }}
"""


def checkout_variables(
    cart: Any, *, gateway: str = "DUMMY", token: str | None = "tok_success", key: str = "key-1"
) -> dict[str, Any]:
    return {"cartId": cart_id(cart), "key": key, "gateway": gateway, "token": token}


async def checkout(gql: Any, cart: Any, **kwargs: Any) -> dict[str, Any]:
    """The placed order of a checkout that must succeed."""
    payload = (await gql.execute(CHECKOUT, **checkout_variables(cart, **kwargs)))[
        "checkoutComplete"
    ]
    assert payload["userErrors"] == [], payload
    return payload["order"]


def codes(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def money_rows(factory: async_sessionmaker[AsyncSession], order_id: int) -> dict[str, Any]:
    """The order's status, payments, transactions and refunds as the database has them."""
    async with factory() as session:
        order = await session.get(Order, order_id)
        assert order is not None
        payments = (
            await session.scalars(
                select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
            )
        ).all()
        transactions = (
            await session.execute(
                select(
                    PaymentTransaction.kind,
                    PaymentTransaction.status,
                    PaymentTransaction.amount,
                )
                .where(PaymentTransaction.order_id == order_id)
                .order_by(PaymentTransaction.kind, PaymentTransaction.psp_reference)
            )
        ).all()
        refunds = (
            await session.execute(
                select(Refund.status, Refund.origin, Refund.amount)
                .where(Refund.order_id == order_id)
                .order_by(Refund.id)
            )
        ).all()
        return {
            "status": order.status,
            "payments": [
                (p.status, p.captured_amount, p.refunded_amount, p.refund_reserved_amount)
                for p in payments
            ],
            "transactions": [tuple(row) for row in transactions],
            "refunds": [tuple(row) for row in refunds],
        }

"""Orders, payments and refunds written straight as rows, for invoice tests."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.checkout.pricing import tax_of
from models.orders import Order, OrderLine
from models.payments import Payment, Refund

_serial = itertools.count(1)

BILLING = {
    "first_name": "Ada", "last_name": "Lovelace", "company": "Engines Ltd",
    "street_address_1": "12 St James's Square", "street_address_2": "", "city": "London",
    "postal_code": "SW1Y 4JH", "country_area": "", "country": "GB", "phone": "",
}  # fmt: skip
SHIPPING = BILLING | {"first_name": "Charles", "last_name": "Babbage", "company": "",
                      "street_address_1": "1 Dorset Street", "postal_code": "W1U 4EG"}  # fmt: skip


@dataclass(frozen=True)
class LineSpec:
    product: str
    variant: str
    unit: int
    quantity: int = 1
    discount: int = 0
    rate: str = "19"


async def make_order(
    session: AsyncSession, lines: list[LineSpec], *, gross: bool, shipping: int = 0,
    rate: str = "19", currency: str = "EUR", billing: dict[str, Any] | None = BILLING,
    shipping_address: dict[str, Any] | None = SHIPPING, method: str = "Standard",
) -> tuple[Order, list[OrderLine]]:  # fmt: skip
    """A paid order priced like checkout does: per-line tax half-even, totals as sums."""
    serial = next(_serial)
    rows = []
    for spec in lines:
        amount = spec.unit * spec.quantity - spec.discount
        tax = tax_of(amount, Decimal(spec.rate), gross=gross)
        rows.append(
            OrderLine(
                product_name=spec.product,
                variant_name=spec.variant,
                sku=f"SKU-{serial}-{len(rows)}",
                quantity=spec.quantity,
                unit_price_amount=spec.unit,
                discount_amount=spec.discount,
                tax_rate=Decimal(spec.rate),
                tax_amount=tax,
                total_amount=amount if gross else amount + tax,
            )
        )
    shipping_tax = tax_of(shipping, Decimal(rate), gross=gross)
    shipping_gross = shipping if gross else shipping + shipping_tax
    order = Order(
        token=secrets.token_hex(16), cart_id=10_000_000 + serial, idempotency_key=f"inv-{serial}",
        email=f"buyer-{serial}@example.com", status="paid", currency=currency,
        prices_include_tax=gross,
        subtotal_amount=sum(spec.unit * spec.quantity for spec in lines),
        shipping_amount=shipping, shipping_tax_amount=shipping_tax,
        discount_amount=sum(spec.discount for spec in lines),
        tax_amount=sum(row.tax_amount for row in rows) + shipping_tax,
        total_amount=sum(row.total_amount for row in rows) + shipping_gross,
        shipping_address=shipping_address, billing_address=billing,
        shipping_method_name=method,
    )  # fmt: skip
    session.add(order)
    await session.flush()
    for row in rows:
        row.order_id = order.id
    session.add_all(rows)
    await session.flush()
    return order, rows


async def make_refund(
    session: AsyncSession, order: Order, *, amount: int, shipping: int = 0,
    lines: list[dict[str, int]] | None = None, status: str = "succeeded",
) -> Refund:  # fmt: skip
    payment = Payment(
        order_id=order.id, gateway="dummy", status="succeeded", capture_mode="automatic",
        amount=order.total_amount, currency=order.currency, attempt_key=secrets.token_hex(16),
        captured_amount=order.total_amount,
    )  # fmt: skip
    session.add(payment)
    await session.flush()
    refund = Refund(
        order_id=order.id, payment_id=payment.id, status=status, amount=amount, origin="staff",
        currency=order.currency, shipping_amount=shipping, lines=lines or [],
    )  # fmt: skip
    session.add(refund)
    await session.flush()
    return refund

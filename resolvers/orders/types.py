"""GraphQL types of orders: what the shopper bought, frozen at checkout."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from app.auth.permissions import Perm, has_permission
from models import orders as models
from resolvers.base import Info, global_id, node_keys
from resolvers.money import Money

if TYPE_CHECKING:
    from resolvers.catalog.types import Variant
    from resolvers.orders.after_sale_types import (
        OrderAuditEntry,
        OrderNote,
        OrderReturn,
        Shipment,
    )
    from resolvers.payments.types import Invoice, Payment, Refund

VariantRef = Annotated["Variant", strawberry.lazy("resolvers.catalog.types")]
PaymentRef = Annotated["Payment", strawberry.lazy("resolvers.payments.types")]
RefundRef = Annotated["Refund", strawberry.lazy("resolvers.payments.types")]
InvoiceRef = Annotated["Invoice", strawberry.lazy("resolvers.payments.types")]
_AFTER_SALE = strawberry.lazy("resolvers.orders.after_sale_types")
ShipmentRef = Annotated["Shipment", _AFTER_SALE]
OrderReturnRef = Annotated["OrderReturn", _AFTER_SALE]
OrderNoteRef = Annotated["OrderNote", _AFTER_SALE]
OrderAuditEntryRef = Annotated["OrderAuditEntry", _AFTER_SALE]


@strawberry.enum(description="Where an order stands.")
class OrderStatus(Enum):
    PENDING_PAYMENT = "pending_payment"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    RETURNED = "returned"
    CANCELLED = "cancelled"


def can_manage_orders(info: Info) -> bool:
    user = info.context.user
    return user is not None and has_permission(user, Perm.MANAGE_ORDERS)


def can_view_order(info: Info, row: models.Order) -> bool:
    """The order's customer, or staff with MANAGE_ORDERS."""
    user = info.context.user
    return user is not None and (row.user_id == user.id or has_permission(user, Perm.MANAGE_ORDERS))


@strawberry.type(description="An address as it was copied onto the order.")
class OrderAddress:
    first_name: str = strawberry.field(description="Given name.")
    last_name: str = strawberry.field(description="Family name.")
    company: str = strawberry.field(description="Company, or empty.")
    street_address_1: str = strawberry.field(description="First street line.")
    street_address_2: str = strawberry.field(description="Second street line, or empty.")
    city: str = strawberry.field(description="City.")
    postal_code: str = strawberry.field(description="Postal code, or empty.")
    country_area: str = strawberry.field(description="Region or state, or empty.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    phone: str = strawberry.field(description="Phone in E.164 format, or empty.")

    @classmethod
    def of(cls, value: dict[str, Any] | None) -> OrderAddress | None:
        if value is None:
            return None
        names = cls.__annotations__
        return cls(**{name: str(value.get(name, "")) for name in names})


@strawberry.type(description="A promotion as it was applied to the order.")
class OrderDiscount:
    name: str = strawberry.field(description="The promotion's name.")
    code: str | None = strawberry.field(description="The coupon code, or null when automatic.")
    kind: str = strawberry.field(description="percentage, fixed or free_shipping.")
    amount: Money = strawberry.field(description="What it took off the order.")


@strawberry.type(description="One line of an order: names, SKU and prices as they were.")
class OrderLine:
    id: strawberry.ID = strawberry.field(description="Global ID (for refunds by lines).")
    product_name: str = strawberry.field(description="The product's name at checkout.")
    variant_name: str = strawberry.field(description="The variant's name at checkout.")
    sku: str = strawberry.field(description="The SKU at checkout.")
    quantity: int = strawberry.field(description="Units ordered.")
    unit_price: Money = strawberry.field(description="Price of one unit, as entered.")
    discount: Money = strawberry.field(description="Discount on this line.")
    tax_rate: Decimal = strawberry.field(description="Tax rate in percent.")
    tax: Money = strawberry.field(description="Tax of this line.")
    total: Money = strawberry.field(description="What the line adds to the total, gross.")
    row: strawberry.Private[models.OrderLine]

    @classmethod
    def from_row(cls, row: models.OrderLine, currency: str) -> OrderLine:
        return cls(
            id=strawberry.ID(str(global_id("OrderLine", row.id))),
            product_name=row.product_name,
            variant_name=row.variant_name,
            sku=row.sku,
            quantity=row.quantity,
            unit_price=Money.of(row.unit_price_amount, currency),
            discount=Money.of(row.discount_amount, currency),
            tax_rate=row.tax_rate,
            tax=Money.of(row.tax_amount, currency),
            total=Money.of(row.total_amount, currency),
            row=row,
        )

    @strawberry.field(description="The variant now, or null once it was deleted.")
    async def variant(self, info: Info) -> VariantRef | None:
        from resolvers.catalog.types import Variant

        if self.row.variant_id is None:
            return None
        row = await info.context.loaders.variant.load(self.row.variant_id)
        return Variant.from_row(row) if row else None

    @strawberry.field(description="Units shipped so far.")
    async def quantity_fulfilled(self, info: Info) -> int:
        return (await info.context.loaders.quantities_by_order_line.load(self.row.id)).fulfilled

    @strawberry.field(description="Units delivered so far.")
    async def quantity_delivered(self, info: Info) -> int:
        return (await info.context.loaders.quantities_by_order_line.load(self.row.id)).delivered

    @strawberry.field(
        description="Units in returns that were not rejected (requested ones included)."
    )
    async def quantity_returned(self, info: Info) -> int:
        return (await info.context.loaders.quantities_by_order_line.load(self.row.id)).returned


@strawberry.enum(description="Who made a status change.")
class OrderActor(Enum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


@strawberry.type(description="One status change of an order.")
class OrderEvent:
    sequence: int = strawberry.field(description="Per-order number, 1 for the first change.")
    from_status: OrderStatus | None = strawberry.field(description="Before; null at placing.")
    to_status: OrderStatus = strawberry.field(description="After.")
    created_at: datetime = strawberry.field(description="When.")
    note: str = strawberry.field(description="Why, when staff said (empty otherwise).")
    actor: OrderActor = strawberry.field(
        description="The customer, staff, or the system (payments, the worker, a carrier)."
    )
    actor_email: str | None = strawberry.field(
        description="Staff viewers only: the email of who made it; null for others."
    )


@strawberry.type(description="A placed order.")
class Order(relay.Node):
    id: relay.NodeID[int]
    number: int = strawberry.field(description="The order number shown to the customer.")
    token: str = strawberry.field(
        description="The order's secret: a guest reads the order with orderByToken(token)."
    )
    status: OrderStatus = strawberry.field(description="Where the order stands.")
    email: str = strawberry.field(description="Where order emails go.")
    created_at: datetime = strawberry.field(description="When it was placed.")
    currency: str = strawberry.field(description="ISO 4217 code of every amount.")
    subtotal: Money = strawberry.field(description="Lines before discounts, as entered.")
    shipping: Money = strawberry.field(description="Shipping after its discount, as entered.")
    shipping_tax: Money = strawberry.field(description="Tax of the shipping.")
    discount: Money = strawberry.field(description="All discounts.")
    tax: Money = strawberry.field(description="All tax.")
    total: Money = strawberry.field(description="What the customer pays, gross.")
    shipping_address: OrderAddress | None = strawberry.field(description="Where it goes.")
    billing_address: OrderAddress | None = strawberry.field(description="Billing address.")
    delivery_method_name: str = strawberry.field(description="The delivery method chosen.")
    discounts: list[OrderDiscount] = strawberry.field(description="Promotions applied.")
    row: strawberry.Private[models.Order]

    @classmethod
    def from_row(cls, row: models.Order) -> Order:
        currency = row.currency

        def money(amount: int) -> Money:
            return Money.of(amount, currency)

        return cls(
            id=row.id,
            number=row.number,
            token=row.token,
            status=OrderStatus(row.status),
            email=row.email,
            created_at=row.created_at,
            currency=currency,
            subtotal=money(row.subtotal_amount),
            shipping=money(row.shipping_amount),
            shipping_tax=money(row.shipping_tax_amount),
            discount=money(row.discount_amount),
            tax=money(row.tax_amount),
            total=money(row.total_amount),
            shipping_address=OrderAddress.of(row.shipping_address),
            billing_address=OrderAddress.of(row.billing_address),
            delivery_method_name=row.shipping_method_name,
            discounts=[
                OrderDiscount(
                    name=item["name"],
                    code=item.get("code"),
                    kind=item["kind"],
                    amount=money(int(item["amount"])),
                )
                for item in row.discounts
            ],
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # never `required`: see resolvers.node
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Order | None]:
        """Only the customer's own orders, or any for MANAGE_ORDERS staff."""
        rows = await info.context.loaders.order.load_many(node_keys(node_ids))
        return [cls.from_row(row) if row and can_view_order(info, row) else None for row in rows]

    @strawberry.field(description="The lines, in the cart's order.")
    async def lines(self, info: Info) -> list[OrderLine]:
        rows = await info.context.loaders.lines_by_order.load(self.row.id)
        return [OrderLine.from_row(row, self.row.currency) for row in rows]

    @strawberry.field(description="Every status change, oldest first.")
    async def events(self, info: Info) -> list[OrderEvent]:
        rows = await info.context.loaders.events_by_order.load(self.row.id)
        staff = can_manage_orders(info)
        users = await info.context.loaders.user.load_many(
            sorted({row.user_id for row in rows if row.user_id is not None})
        )
        emails = {user.id: user.email for user in users if user is not None}
        staff_ids = {
            user.id
            for user in users
            if user is not None and has_permission(user, Perm.MANAGE_ORDERS)
        }

        def actor(user_id: int | None) -> OrderActor:
            if user_id is None:
                return OrderActor.SYSTEM
            if user_id != self.row.user_id and user_id in staff_ids:
                return OrderActor.STAFF
            return OrderActor.CUSTOMER

        return [
            OrderEvent(
                sequence=row.sequence,
                from_status=OrderStatus(row.from_status) if row.from_status else None,
                to_status=OrderStatus(row.to_status),
                created_at=row.created_at,
                note=row.note,
                actor=actor(row.user_id),
                actor_email=emails.get(row.user_id) if staff and row.user_id else None,
            )
            for row in rows
        ]

    @strawberry.field(description="Payment attempts, oldest first, with their transactions.")
    async def payments(self, info: Info) -> list[PaymentRef]:
        from resolvers.payments.types import Payment

        rows = await info.context.loaders.payments_by_order.load(self.row.id)
        return [Payment.from_row(row) for row in rows]

    @strawberry.field(description="What the payments took so far.")
    async def total_captured(self, info: Info) -> Money:
        rows = await info.context.loaders.payments_by_order.load(self.row.id)
        return Money.of(sum(row.captured_amount for row in rows), self.row.currency)

    @strawberry.field(description="What was given back so far.")
    async def total_refunded(self, info: Info) -> Money:
        rows = await info.context.loaders.payments_by_order.load(self.row.id)
        return Money.of(sum(row.refunded_amount for row in rows), self.row.currency)

    @strawberry.field(description="Refunds, oldest first.")
    async def refunds(self, info: Info) -> list[RefundRef]:
        from resolvers.payments.types import Refund

        rows = await info.context.loaders.refunds_by_order.load(self.row.id)
        return [Refund.from_row(row) for row in rows]

    @strawberry.field(description="The invoice and the credit notes, in the order issued.")
    async def invoices(self, info: Info) -> list[InvoiceRef]:
        from resolvers.payments.types import Invoice

        rows = await info.context.loaders.invoices_by_order.load(self.row.id)
        return [Invoice.from_row(row) for row in rows]

    @strawberry.field(description="Shipments, oldest first, with their tracking.")
    async def shipments(self, info: Info) -> list[ShipmentRef]:
        from resolvers.orders.after_sale_types import Shipment

        rows = await info.context.loaders.shipments_by_order.load(self.row.id)
        return [Shipment.from_row(row) for row in rows]

    @strawberry.field(description="Returns, oldest first.")
    async def returns(self, info: Info) -> list[OrderReturnRef]:
        from resolvers.orders.after_sale_types import OrderReturn

        rows = await info.context.loaders.returns_by_order.load(self.row.id)
        return [OrderReturn.from_row(row) for row in rows]

    @strawberry.field(
        description="Staff notes, oldest first (MANAGE_ORDERS); null for anyone else."
    )
    async def notes(self, info: Info) -> list[OrderNoteRef] | None:
        from resolvers.orders.after_sale_types import OrderNote

        if not can_manage_orders(info):
            return None
        rows = await info.context.loaders.notes_by_order.load(self.row.id)
        return [OrderNote.from_row(row) for row in rows]

    @strawberry.field(
        description="Every staff action on the order, oldest first (MANAGE_ORDERS); null "
        "for anyone else."
    )
    async def audit_trail(self, info: Info) -> list[OrderAuditEntryRef] | None:
        from resolvers.orders.after_sale_types import OrderAuditEntry

        if not can_manage_orders(info):
            return None
        rows = await info.context.loaders.audit_by_order.load(self.row.id)
        return [
            OrderAuditEntry(
                action=row.action,
                details=cast(JSON, row.details),
                created_at=row.created_at,
                row=row,
            )
            for row in rows
        ]

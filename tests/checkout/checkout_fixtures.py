"""Async factories for checkout tests: rows written straight into the database.

Until the cart API and the staff CRUD for shipping, tax and promotions are merged, carts,
zones, methods, tax rates and promotions are inserted as model rows; only checkoutComplete
goes through the API. `Shop.cart` is the one place to switch to the cart API later.
Every row a shop writes carries its `prefix` (slugs, names, emails), so a race test on
committed data removes exactly its own rows (`cleanup`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import to_base64

from app.services.cart.access import new_token
from models.carts import Cart, CartLine, CartPromotion, StockReservation
from models.catalog import Product, Stock, Variant, Warehouse
from models.notifications import Notification
from models.orders import Order
from models.promotions import Promotion
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate

_serial = itertools.count(1)

ADDRESS = {
    "first_name": "Ada", "last_name": "Lovelace", "company": "",
    "street_address_1": "1 Main Street", "street_address_2": "", "city": "Springfield",
    "postal_code": "12345", "country_area": "", "country": "US", "phone": "",
}  # fmt: skip

COMPLETE = """
mutation($cartId: ID!, $key: String!, $gateway: String!, $token: String!) {
  checkoutComplete(cartId: $cartId, idempotencyKey: $key,
                   payment: {gateway: $gateway, token: $token}) {
    order { id number status email token currency createdAt
            subtotal { amount currency } shipping { amount } shippingTax { amount }
            discount { amount } tax { amount } total { amount currency }
            deliveryMethodName discounts { name code kind amount { amount } }
            shippingAddress { city country }
            lines { productName variantName sku quantity unitPrice { amount }
                    discount { amount } taxRate tax { amount } total { amount } }
            events { sequence fromStatus toStatus } }
    userErrors { field code message }
  }
}"""


def cart_id(cart: Cart) -> str:
    return to_base64("Cart", cart.token)


def complete_variables(
    cart: Cart, *, key: str = "key-1", token: str = "tok_success", gateway: str = "DUMMY"
) -> dict[str, Any]:
    return {"cartId": cart_id(cart), "key": key, "gateway": gateway, "token": token}


@dataclass
class Shop:
    """Factories over one session factory (the test transaction, or committed sessions)."""

    factory: async_sessionmaker[AsyncSession]
    prefix: str = "ck-"
    carts: list[int] = field(default_factory=list)

    def name(self, kind: str) -> str:
        return f"{self.prefix}{kind}-{next(_serial)}"

    async def warehouse(self, *, default: bool = False) -> Warehouse:
        async with self.factory() as session, session.begin():
            if default:
                return (await session.scalars(select(Warehouse).where(Warehouse.is_default))).one()
            slug = self.name("wh")
            row = Warehouse(name=slug, slug=slug)
            session.add(row)
        return row

    async def variant(
        self, *, price: int = 1000, stock: int | dict[int, int] = 10, currency: str = "USD",
        track: bool = True, published: bool = True, weight: int | None = None,
    ) -> Variant:  # fmt: skip
        """A published product with one variant; `stock` in the default warehouse, or per
        warehouse id."""
        async with self.factory() as session, session.begin():
            slug = self.name("p")
            product = Product(
                name=f"Product {slug}", slug=slug, is_published=published,
                published_at=datetime.now(UTC) if published else None,
            )  # fmt: skip
            session.add(product)
            await session.flush()
            variant = Variant(
                product_id=product.id, sku=slug, name="Blue", price_amount=price,
                currency=currency, track_inventory=track, weight_grams=weight,
            )  # fmt: skip
            session.add(variant)
            await session.flush()
            if isinstance(stock, int):
                default = await session.scalar(select(Warehouse.id).where(Warehouse.is_default))
                assert default is not None
                stock = {default: stock}
            for warehouse_id, quantity in stock.items():
                session.add(
                    Stock(variant_id=variant.id, warehouse_id=warehouse_id, quantity=quantity)
                )
        return variant

    async def method(
        self, *, country: str = "US", price: int = 500, currency: str = "USD",
        free_above: int | None = None, active: bool = True,
    ) -> ShippingMethod:  # fmt: skip
        async with self.factory() as session, session.begin():
            zone = ShippingZone(name=self.name("zone"))
            session.add(zone)
            await session.flush()
            session.add(ShippingZoneArea(zone_id=zone.id, country=country, region=""))
            method = ShippingMethod(
                zone_id=zone.id, name=self.name("Standard"), price_amount=price,
                currency=currency, free_above_amount=free_above, is_active=active,
            )  # fmt: skip
            session.add(method)
        return method

    async def tax_rate(self, *, country: str = "US", rate: str = "10") -> TaxRate:
        async with self.factory() as session, session.begin():
            row = TaxRate(country=country, region="", rate=Decimal(rate), name=self.name("tax"))
            session.add(row)
        return row

    async def promotion(self, **columns: Any) -> Promotion:
        """A promotion (a coupon with `code`); default 10 % off everything."""
        values: dict[str, Any] = {"kind": "percentage", "percentage": Decimal(10)}
        values.update(columns)
        async with self.factory() as session, session.begin():
            row = Promotion(name=self.name("promo"), **values)
            session.add(row)
        return row

    async def cart(
        self,
        lines: list[tuple[Variant, int]],
        *,
        method: ShippingMethod | None = None,
        email: str | None = None,
        user_id: int | None = None,
        address: dict[str, str] | None = ADDRESS,
        coupons: list[Promotion] = (),  # type: ignore[assignment]
        currency: str = "USD",
    ) -> Cart:
        """A cart ready for checkout as the cart API would leave it (the one place to switch
        to that API once it is merged)."""
        async with self.factory() as session, session.begin():
            cart = Cart(
                token=new_token(), user_id=user_id, currency=currency,
                email=f"{self.name('buyer')}@example.com" if email is None else email,
                shipping_address=address, billing_address=address,
                shipping_method_id=method.id if method else None,
            )  # fmt: skip
            session.add(cart)
            await session.flush()
            for variant, quantity in lines:
                session.add(
                    CartLine(
                        cart_id=cart.id, variant_id=variant.id, quantity=quantity,
                        seen_unit_price_amount=variant.price_amount,
                        sku=variant.sku, variant_name=variant.name,
                    )
                )  # fmt: skip
            for promotion in coupons:
                session.add(CartPromotion(cart_id=cart.id, promotion_id=promotion.id))
        self.carts.append(cart.id)
        return cart

    async def reservation(self, cart: Cart, variant: Variant, quantity: int) -> None:
        """Units held for `cart` for 15 minutes, as choosing a delivery method does."""
        async with self.factory() as session, session.begin():
            expires = datetime.now(UTC) + timedelta(minutes=15)
            session.add(
                StockReservation(
                    cart_id=cart.id, variant_id=variant.id, quantity=quantity, expires_at=expires
                )
            )

    def cleanup(self) -> list[Any]:
        """DELETE statements for everything this shop wrote (committed tests)."""
        like = f"{self.prefix}%"
        return [
            delete(Order).where(Order.email.like(like)),
            delete(Notification).where(Notification.recipient.like(like)),
            delete(Cart).where(Cart.email.like(like)),
            delete(Product).where(Product.slug.like(like)),
            delete(Promotion).where(Promotion.name.like(like)),
            delete(ShippingZone).where(ShippingZone.name.like(like)),
            delete(TaxRate).where(TaxRate.name.like(like)),
            delete(Warehouse).where(Warehouse.slug.like(like)),
        ]


async def ready_cart(shop: Shop, *, price: int = 1000, quantity: int = 1, **cart: Any) -> Cart:
    """A cart of one line with a delivery method and an email: completes as is."""
    variant = await shop.variant(price=price)
    method = await shop.method()
    return await shop.cart([(variant, quantity)], method=method, **cart)

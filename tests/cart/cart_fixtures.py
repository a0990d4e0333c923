"""Fixtures, GraphQL documents and helpers of the cart tests.

A test module makes a fixture visible to pytest by binding it at module level
(`make_zone = cart_fixtures.make_zone`). Zones, methods, tax rates and promotions are
rows written straight into the test transaction (their staff API is another part's).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry import relay

from models.carts import Cart
from models.catalog import Product, Variant
from models.promotions import Promotion, promotion_products
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate
from tests.graphql_client import GraphQLClient

LINE = """id quantity quantityAvailable productName variantName sku
  unitPrice { amount currency } previousUnitPrice { amount }
  undiscountedTotal { amount } discount { amount } tax { amount } total { amount }
  variant { id sku } problems { code lineId }"""
CART = f"""id email totalQuantity weightGrams reservedUntil createdAt updatedAt
  lines {{ {LINE} }}
  cost {{ subtotalAmount {{ amount currency }} discountAmount {{ amount }}
         shippingAmount {{ amount }} taxAmount {{ amount }} totalAmount {{ amount currency }}
         pricesIncludeTax }}
  shippingAddress {{ firstName city country countryArea postalCode streetAddress1 }}
  billingAddress {{ city country }}
  deliveryMethod {{ id name price {{ amount }} }}
  availableDeliveryMethods {{ id name price {{ amount }} minDays maxDays }}
  discountCodes {{ code applicable problem amount {{ amount }} }}
  discounts {{ name code amount {{ amount }} }}
  problems {{ code message lineId }}"""
RESULT = f"cart {{ {CART} }} userErrors {{ field message code }}"

CART_CREATE = f"""mutation($input: CartCreateInput) {{
  cartCreate(input: $input) {{ {RESULT} }} }}"""
LINES_ADD = f"""mutation($cartId: ID!, $lines: [CartLineInput!]!) {{
  cartLinesAdd(cartId: $cartId, lines: $lines) {{ {RESULT} }} }}"""
LINES_UPDATE = f"""mutation($cartId: ID!, $lines: [CartLineUpdateInput!]!) {{
  cartLinesUpdate(cartId: $cartId, lines: $lines) {{ {RESULT} }} }}"""
LINES_REMOVE = f"""mutation($cartId: ID!, $lineIds: [ID!]!) {{
  cartLinesRemove(cartId: $cartId, lineIds: $lineIds) {{ {RESULT} }} }}"""
EMAIL_UPDATE = f"""mutation($cartId: ID!, $email: String!) {{
  cartEmailUpdate(cartId: $cartId, email: $email) {{ {RESULT} }} }}"""
SHIPPING_ADDRESS = f"""mutation($cartId: ID!, $address: AddressInput, $addressId: ID) {{
  cartShippingAddressUpdate(cartId: $cartId, address: $address, addressId: $addressId) {{
    {RESULT} }} }}"""
BILLING_ADDRESS = f"""mutation($cartId: ID!, $address: AddressInput, $addressId: ID) {{
  cartBillingAddressUpdate(cartId: $cartId, address: $address, addressId: $addressId) {{
    {RESULT} }} }}"""
DELIVERY = f"""mutation($cartId: ID!, $methodId: ID!) {{
  cartDeliveryMethodUpdate(cartId: $cartId, deliveryMethodId: $methodId) {{ {RESULT} }} }}"""
COUPON_APPLY = f"""mutation($cartId: ID!, $code: String!) {{
  cartCouponApply(cartId: $cartId, code: $code) {{ {RESULT} }} }}"""
COUPON_REMOVE = f"""mutation($cartId: ID!, $code: String!) {{
  cartCouponRemove(cartId: $cartId, code: $code) {{ {RESULT} }} }}"""
BUYER_UPDATE = f"""mutation($cartId: ID!) {{
  cartBuyerUpdate(cartId: $cartId) {{ {RESULT} }} }}"""
CART_QUERY = f"query($id: ID!) {{ cart(id: $id) {{ {CART} }} }}"
MY_CART = "{ me { cart { id totalQuantity lines { sku quantity } } } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on Cart { totalQuantity } } }"

BERLIN = {"streetAddress1": "Unter den Linden 1", "city": "Berlin", "country": "DE",
          "postalCode": "10117", "firstName": "Ada"}  # fmt: skip
TOKYO = {"streetAddress1": "1-1 Chiyoda", "city": "Tokyo", "country": "JP"}


def gid(type_name: str, key: int | str) -> str:
    return str(relay.GlobalID(type_name, str(key)))


def errors_of(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    """(field path, code) of each userError."""
    return [
        (".".join(error["field"]) if error["field"] else None, error["code"])
        for error in payload["userErrors"]
    ]


def token_of(cart_id: str) -> str:
    import base64

    return base64.b64decode(cart_id + "=" * (-len(cart_id) % 4)).decode().split(":", 1)[1]


@pytest.fixture
def variants(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """The variants of a product, oldest first."""

    async def of(product: Product) -> list[Variant]:
        async with session_factory() as session:
            rows = await session.scalars(
                select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
            )
            return list(rows)

    return of


@pytest.fixture
def sql(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """Run statements in the test transaction (what a staff member or time would change)."""

    async def run(*statements: Any) -> None:
        async with session_factory() as session, session.begin():
            for statement in statements:
                await session.execute(statement)

    return run


@pytest.fixture
def cart_row(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    async def get(cart_id: str) -> Cart | None:
        async with session_factory() as session:
            row: Cart | None = await session.scalar(
                select(Cart).where(Cart.token == token_of(cart_id))
            )
            return row

    return get


@pytest.fixture
def make_zone(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """A zone over `countries` with one method per (name, price, free above) entry."""

    async def make(
        countries: tuple[str, ...] = ("DE",),
        methods: tuple[tuple[str, int, int | None], ...] = (("Standard", 500, None),),
        currency: str = "USD",
        **method_fields: Any,
    ) -> list[ShippingMethod]:
        async with session_factory() as session, session.begin():
            zone = ShippingZone(name="Zone " + "/".join(countries))
            session.add(zone)
            await session.flush()
            for country in countries:
                session.add(ShippingZoneArea(zone_id=zone.id, country=country, region=""))
            rows = [
                ShippingMethod(
                    zone_id=zone.id, name=name, price_amount=price, free_above_amount=free,
                    currency=currency, min_days=2, max_days=4, **method_fields,
                )
                for name, price, free in methods
            ]  # fmt: skip
            session.add_all(rows)
        return rows

    return make


@pytest.fixture
def make_tax_rate(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    async def make(country: str, rate: str, region: str = "") -> TaxRate:
        async with session_factory() as session, session.begin():
            row = TaxRate(country=country, region=region, rate=Decimal(rate), name="VAT")
            session.add(row)
        return row

    return make


@pytest.fixture
def make_promotion(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """A promotion (a coupon when `code` is given); `products` limits its scope."""

    async def make(
        name: str = "Promo",
        *,
        code: str | None = None,
        kind: str = "percentage",
        percentage: str | None = "10",
        products: tuple[Product, ...] = (),
        **fields: Any,
    ) -> Promotion:
        async with session_factory() as session, session.begin():
            row = Promotion(
                name=name,
                code=code,
                kind=kind,
                percentage=Decimal(percentage) if percentage is not None else None,
                **fields,
            )
            session.add(row)
            await session.flush()
            for product in products:
                await session.execute(
                    promotion_products.insert().values(promotion_id=row.id, product_id=product.id)
                )
        return row

    return make


async def new_cart(gql: GraphQLClient, *lines: tuple[int, int], email: str | None = None) -> dict:
    """cartCreate with (variant key, quantity) lines; the cart, checked free of userErrors."""
    data = await gql.execute(
        CART_CREATE,
        input={
            "lines": [{"variantId": gid("Variant", key), "quantity": q} for key, q in lines],
            **({"email": email} if email is not None else {}),
        },
    )
    payload = data["cartCreate"]
    assert payload["userErrors"] == [], payload
    cart: dict = payload["cart"]
    return cart


async def expire_reservations(sql: Callable) -> None:
    from datetime import UTC, datetime, timedelta

    from models.carts import StockReservation

    await sql(update(StockReservation).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

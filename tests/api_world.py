"""One object of every kind, made through factories and the API, for tests that walk every
connection and every ID input of the schema.

A test module makes the fixture visible to pytest by binding it at module level
(`world = api_world.world`), as tests/catalog/staff_fixtures.py does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import from_base64, to_base64

from app.auth.permissions import Role
from app.auth.tokens import create_access_token
from app.settings import Settings
from models.accounts import User
from models.addresses import Address
from models.catalog import (
    Category,
    Product,
    ProductImage,
    Review,
    Stock,
    StockAdjustment,
    Tag,
    Variant,
    Warehouse,
    WishlistItem,
    product_tags,
)
from models.notifications import Notification
from models.promotions import Promotion, promotion_categories, promotion_products
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate
from tests.factories import make_category, make_product, make_tag
from tests.graphql_client import GraphQLClient

__all__ = ["make_category", "make_product", "make_tag"]  # fixtures `world` needs

ADMIN_EMAIL = "admin@example.com"
CUSTOMER_EMAIL = "ann@example.com"
PAGE = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor }"


@dataclass
class World:
    anonymous: GraphQLClient
    admin: GraphQLClient
    customer: GraphQLClient
    ids: dict[str, str] = field(default_factory=dict)  # type name -> global ID
    keys: dict[str, int] = field(default_factory=dict)  # type name -> database key

    def client(self, name: str) -> GraphQLClient:
        return {"anonymous": self.anonymous, "admin": self.admin, "customer": self.customer}[name]


@dataclass(frozen=True)
class ConnectionSpec:
    """A connection of the schema: how to ask for one page of it, and who may."""

    name: str
    client: str
    template: str  # ARGS is replaced by the paging arguments
    path: tuple[str, ...]
    backward: bool = True  # has `last` / `before`

    def document(self) -> str:
        variables = "$first: Int, $after: String" + (
            ", $last: Int, $before: String" if self.backward else ""
        )
        args = "first: $first, after: $after" + (
            ", last: $last, before: $before" if self.backward else ""
        )
        return f"query({variables}) {{ {self.template.replace('ARGS', args)} }}"

    def page(self, data: dict[str, Any]) -> dict[str, Any]:
        for key in self.path:
            data = data[key]
        return data


ERRORS = "userErrors { field message code }"


def update_mutation(mutation: str, input_type: str, *, with_id: bool = True) -> str:
    """A mutation document taking `$input` (and `$id`) that selects the user errors."""
    if not with_id:
        return f"mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ {ERRORS} }} }}"
    return (
        f"mutation($id: ID!, $input: {input_type}!) "
        f"{{ {mutation}(id: $id, input: $input) {{ {ERRORS} }} }}"
    )


def _root(field: str, extra: str = "") -> str:
    return f"{field}(ARGS{extra}) {{ {PAGE} }}"


CONNECTIONS = [
    *[
        ConnectionSpec(f"products:{sort}", "anonymous", _root("products", f", sortBy: {sort}"),
                       ("products",))
        for sort in ("NEWEST", "NAME", "PRICE_ASC", "PRICE_DESC", "RATING")
    ],
    ConnectionSpec(
        "products:RELEVANCE",
        "anonymous",
        _root("products", ', sortBy: RELEVANCE, filter: {search: "mug"}'),
        ("products",),
    ),
    ConnectionSpec("categories", "anonymous", _root("categories"), ("categories",)),
    ConnectionSpec("tags", "anonymous", _root("tags"), ("tags",)),
    ConnectionSpec(
        "category.products",
        "anonymous",
        'category(slug: "cups") { ' + _root("products") + " }",
        ("category", "products"),
    ),
    ConnectionSpec("warehouses", "admin", _root("warehouses"), ("warehouses",)),
    ConnectionSpec("users", "admin", _root("users"), ("users",)),
    ConnectionSpec(
        "deadNotifications",
        "admin",
        _root("deadNotifications"),
        ("deadNotifications",),
        backward=False,
    ),
    ConnectionSpec("myWishlist", "customer", _root("myWishlist"), ("myWishlist",)),
    ConnectionSpec("me.wishlist", "customer", "me { " + _root("wishlist") + " }",
                   ("me", "wishlist")),
    ConnectionSpec(
        "product.reviews",
        "anonymous",
        'product(slug: "mug") { ' + _root("reviews") + " }",
        ("product", "reviews"),
    ),
    ConnectionSpec("shippingZones", "admin", _root("shippingZones"), ("shippingZones",)),
    ConnectionSpec("taxRates", "admin", _root("taxRates"), ("taxRates",)),
    ConnectionSpec("promotions", "admin", _root("promotions"), ("promotions",)),
]  # fmt: skip


def stock_history_spec(variant_id: str) -> ConnectionSpec:
    return ConnectionSpec(
        "stockHistory", "admin", _root("stockHistory", f', variantId: "{variant_id}"'),
        ("stockHistory",),
    )  # fmt: skip


def product_reviews_spec(product_id: str) -> ConnectionSpec:
    return ConnectionSpec(
        "productReviews", "anonymous", _root("productReviews", f', productId: "{product_id}"'),
        ("productReviews",),
    )  # fmt: skip


def every_connection(world: World) -> list[ConnectionSpec]:
    return [
        *CONNECTIONS,
        stock_history_spec(world.ids["Variant"]),
        product_reviews_spec(world.ids["Product"]),
    ]


def _token(settings: Settings, user: User) -> str:
    # Signed directly (sign-in through the API is tested elsewhere): no password hashing.
    return create_access_token(settings, user_id=user.id, token_version=user.token_version)


@pytest.fixture
async def world(
    gql: GraphQLClient,
    make_user: Callable,
    make_product: Callable,
    make_category: Callable,
    make_tag: Callable,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> World:
    """An admin, a customer, and one product, variant, category, tag, warehouse, stock change,
    review, wishlist item, address and dead notification."""
    admin_row = await make_user(email=ADMIN_EMAIL, role=Role.ADMIN)
    customer_row = await make_user(email=CUSTOMER_EMAIL, first_name="Ann")
    world = World(
        anonymous=gql,
        admin=gql.as_user(_token(settings, admin_row)),
        customer=gql.as_user(_token(settings, customer_row)),
    )
    category = await make_category("Cups")
    tag = await make_tag("Sale")
    product = await make_product("Mug", category=category, tags=[tag])
    async with session_factory() as session, session.begin():
        variant = (
            await session.scalars(select(Variant).where(Variant.product_id == product.id))
        ).one()
        warehouse = (await session.scalars(select(Warehouse).where(Warehouse.is_default))).one()
        notification = Notification(
            kind="account_security", channel="email", recipient="x@example.com",
            template="account_security_notice", payload={}, idempotency_key="world-dead",
            status="dead", attempts=8,
        )  # fmt: skip
        session.add(notification)
    keys = {
        "Product": product.id,
        "Variant": variant.id,
        "Category": category.id,
        "Tag": tag.id,
        "Warehouse": warehouse.id,
        "User": customer_row.id,
        "Notification": notification.id,
    }
    admin, customer = world.admin, world.customer
    await admin.execute(
        'mutation($v: ID!) { stockSet(variantId: $v, quantity: 7, reason: "Count") '
        "{ userErrors { code } } }",
        v=to_base64("Variant", variant.id),
    )
    review = await customer.execute(
        'mutation($p: ID!) { reviewCreate(input: {productId: $p, rating: 4, title: "Good"}) '
        "{ review { id } userErrors { code } } }",
        p=to_base64("Product", product.id),
    )
    item = await customer.execute(
        "mutation($p: ID!) { wishlistAddProduct(productId: $p) { item { id } } }",
        p=to_base64("Product", product.id),
    )
    address = await customer.execute(
        'mutation { addressCreate(input: {streetAddress1: "Main St 1", city: "Berlin", '
        'country: "DE"}) { address { id } userErrors { code } } }'
    )
    world.ids = {name: to_base64(name, key) for name, key in keys.items()} | {
        "Review": review["reviewCreate"]["review"]["id"],
        "WishlistItem": item["wishlistAddProduct"]["item"]["id"],
        "Address": address["addressCreate"]["address"]["id"],
    }
    world.ids |= await _checkout_rules(admin, world.ids)
    created = ("Review", "WishlistItem", "Address", *CHECKOUT_RULES)
    world.keys = keys | {name: int(_node_id(world.ids[name])) for name in created}
    return world


CHECKOUT_RULES = ("ShippingZone", "ShippingMethod", "TaxRate", "Promotion")


async def _checkout_rules(admin: GraphQLClient, ids: dict[str, str]) -> dict[str, str]:
    """A zone with a method, a tax rate, and a coupon for the product and its category."""
    made = await admin.execute(
        """mutation($p: ID!, $c: ID!) {
          shippingZoneCreate(input: {name: "Europe", countries: ["DE"]}) { shippingZone { id } }
          taxRateCreate(input: {country: "DE", rate: "19"}) { taxRate { id } }
          promotionCreate(input: {name: "Welcome", code: "WELCOME", kind: PERCENTAGE,
                                  percentage: "10", productIds: [$p], categoryIds: [$c]}) {
            promotion { id } }
        }""",
        p=ids["Product"],
        c=ids["Category"],
    )
    zone = made["shippingZoneCreate"]["shippingZone"]["id"]
    method = await admin.execute(
        'mutation($z: ID!) { shippingMethodCreate(input: {zoneId: $z, name: "Standard", '
        'price: {amount: "4.90", currency: "EUR"}}) { shippingMethod { id } } }',
        z=zone,
    )
    return {
        "ShippingZone": zone,
        "ShippingMethod": method["shippingMethodCreate"]["shippingMethod"]["id"],
        "TaxRate": made["taxRateCreate"]["taxRate"]["id"],
        "Promotion": made["promotionCreate"]["promotion"]["id"],
    }


def _node_id(global_id: str) -> str:
    return from_base64(global_id)[1]


# Rows an API call could change; `snapshot` of them before and after proves nothing was written.
SNAPSHOT_MODELS = (
    Product,
    Variant,
    ProductImage,
    Category,
    Tag,
    Warehouse,
    Stock,
    StockAdjustment,
    Review,
    WishlistItem,
    Address,
    Notification,
    ShippingZone,
    ShippingZoneArea,
    ShippingMethod,
    TaxRate,
    Promotion,
)


async def snapshot(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Every row of the tables API calls write (users: their access columns only)."""
    async with session_factory() as session:
        state: dict[str, Any] = {}
        for model in SNAPSHOT_MODELS:
            table = model.__table__  # type: ignore[attr-defined]
            rows = (await session.execute(select(table).order_by(*table.primary_key))).all()
            state[table.name] = [tuple(row) for row in rows]
        for link in (product_tags, promotion_products, promotion_categories):
            links = await session.execute(select(link).order_by(*link.c))
            state[link.name] = [tuple(row) for row in links]
        users = await session.execute(
            select(User.id, User.role, User.permissions, User.is_active, User.first_name,
                   User.locale).order_by(User.id)
        )  # fmt: skip
        state["users"] = [tuple(row) for row in users]
        return state

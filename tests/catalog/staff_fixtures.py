"""Fixtures, GraphQL documents and helpers of the staff catalog tests.

A test module makes a fixture visible to pytest by binding it at module level
(`staff = staff_fixtures.staff`): tests/factories.py belongs to the
storefront work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from app.auth.permissions import Role
from models.catalog import Stock, StockAdjustment, Variant, Warehouse
from tests.graphql_client import GraphQLClient

STAFF_EMAIL = "staff@example.com"
CUSTOMER_EMAIL = "customer@example.com"


# GraphQL documents of the staff tests.
PRODUCT_FIELDS = """
  id name slug description attributes isPublished publishedAt seoTitle seoDescription
  category { id name } tags { name } images { url alt sortOrder } variants { sku }
"""
PRODUCT_CREATE = f"""
mutation($input: ProductCreateInput!) {{
  productCreate(input: $input) {{
    product {{ {PRODUCT_FIELDS} }} userErrors {{ field message code }}
  }}
}}"""
PRODUCT_UPDATE = f"""
mutation($id: ID!, $input: ProductUpdateInput!) {{
  productUpdate(id: $id, input: $input) {{
    product {{ {PRODUCT_FIELDS} }} userErrors {{ field message code }}
  }}
}}"""
PRODUCT_PUBLISH = """
mutation($id: ID!) {
  productPublish(id: $id) { product { isPublished publishedAt } userErrors { field code } }
}"""
PRODUCT_UNPUBLISH = """
mutation($id: ID!) {
  productUnpublish(id: $id) { product { isPublished publishedAt } userErrors { field code } }
}"""
PRODUCT_DELETE = """
mutation($id: ID!) { productDelete(id: $id) { deletedId userErrors { field message code } } }
"""
WAREHOUSE = "id name slug isDefault"
W_CREATE = f"""
mutation($input: WarehouseCreateInput!) {{
  warehouseCreate(input: $input) {{ warehouse {{ {WAREHOUSE} }} userErrors {{ field code }} }}
}}"""
W_UPDATE = f"""
mutation($id: ID!, $input: WarehouseUpdateInput!) {{
  warehouseUpdate(id: $id, input: $input) {{
    warehouse {{ {WAREHOUSE} }} userErrors {{ field code }}
  }}
}}"""
W_DELETE = """
mutation($id: ID!) { warehouseDelete(id: $id) { deletedId userErrors { field code } } }
"""
STOCK = """
stock {
  quantity variant { sku quantityAvailable } warehouse { slug }
  adjustment { delta quantityAfter reason createdAt }
}
userErrors { field message code }
"""
SET = f"""
mutation($variantId: ID!, $warehouseId: ID, $quantity: Int!, $reason: String!) {{
  stockSet(variantId: $variantId, warehouseId: $warehouseId, quantity: $quantity,
           reason: $reason) {{ {STOCK} }}
}}"""
ADJUST = f"""
mutation($variantId: ID!, $warehouseId: ID, $delta: Int!, $reason: String!) {{
  stockAdjust(variantId: $variantId, warehouseId: $warehouseId, delta: $delta,
              reason: $reason) {{ {STOCK} }}
}}"""
BULK = """
mutation($items: [StockQuantityInput!]!, $reason: String!) {
  stockBulkUpdate(items: $items, reason: $reason) {
    stocks { quantity variant { sku } warehouse { slug } adjustment { delta quantityAfter } }
    userErrors { field message code }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Warehouse { name isDefault } } }"


def gid(type_name: str, key: int | str) -> str:
    """The Relay global ID of a row."""
    return str(relay.GlobalID(type_name, str(key)))


def key_of(global_id: str) -> int:
    return int(relay.GlobalID.from_id(global_id).node_id)


def errors_of(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    """The (field, code) pairs of a payload's userErrors."""
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


@pytest.fixture
async def staff_user(make_user: Callable) -> Any:
    return await make_user(email=STAFF_EMAIL, role=Role.STAFF)


@pytest.fixture
async def staff(gql: GraphQLClient, staff_user: Any, sign_in: Callable) -> GraphQLClient:
    """A client signed in as staff (MANAGE_PRODUCTS)."""
    token = (await sign_in(STAFF_EMAIL))["accessToken"]
    return gql.as_user(token)


@pytest.fixture
async def customer(gql: GraphQLClient, make_user: Callable, sign_in: Callable) -> GraphQLClient:
    """A client signed in as a customer (no staff permission)."""
    await make_user(email=CUSTOMER_EMAIL)
    token = (await sign_in(CUSTOMER_EMAIL))["accessToken"]
    return gql.as_user(token)


@pytest.fixture
def mutate(staff: GraphQLClient) -> Callable:
    """Run a mutation as staff; return the payload of its (only) field."""

    async def run(query: str, **variables: Any) -> dict[str, Any]:
        data = await staff.execute(query, **variables)
        (payload,) = data.values()
        return payload

    return run


async def variant_by_sku(session: AsyncSession, sku: str) -> Variant:
    return (await session.scalars(select(Variant).where(Variant.sku == sku))).one()


async def stock_quantities(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Quantity on hand by (SKU, warehouse slug)."""
    rows = await session.execute(
        select(Variant.sku, Warehouse.slug, Stock.quantity)
        .join(Variant, Variant.id == Stock.variant_id)
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
    )
    return {(sku, slug): quantity for sku, slug, quantity in rows}


async def stock_history(session: AsyncSession) -> list[tuple[Any, ...]]:
    """(warehouse slug, delta, quantity after, reason, user id) of every adjustment, in order."""
    rows = await session.execute(
        select(
            Warehouse.slug,
            StockAdjustment.delta,
            StockAdjustment.quantity_after,
            StockAdjustment.reason,
            StockAdjustment.user_id,
        )
        .join(Warehouse, Warehouse.id == StockAdjustment.warehouse_id)
        .order_by(StockAdjustment.id)
    )
    return [tuple(row) for row in rows]


@pytest.fixture
async def mug(make_product: Callable, session: AsyncSession) -> Variant:
    """The variant "mug-0" of a product "Mug", with 5 units in the default warehouse."""
    await make_product("Mug", variants=[(1000, 5)])
    return await variant_by_sku(session, "mug-0")


@pytest.fixture
async def annex(mutate: Callable) -> dict[str, Any]:
    """A second warehouse, "annex-lager", created through the API."""
    payload = await mutate(W_CREATE, input={"name": "Annex Lager"})
    return payload["warehouse"]


async def assert_refused(
    gql: GraphQLClient, customer: GraphQLClient, query: str, **variables: Any
) -> None:
    """Anonymous: UNAUTHENTICATED; a customer: FORBIDDEN."""
    assert await gql.error_codes(query, **variables) == ["UNAUTHENTICATED"]
    assert await customer.error_codes(query, **variables) == ["FORBIDDEN"]

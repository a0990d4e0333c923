"""Fixtures, GraphQL documents and helpers of the staff checkout tests (shipping, taxes,
promotions). A test module makes a fixture visible by binding it at module level, as the
catalog's staff tests do (`admin = staff_checkout_fixtures.admin`).

Clients: `admin` holds MANAGE_CHECKOUT (admins only) and MANAGE_DISCOUNTS; `staff` holds
MANAGE_DISCOUNTS but not MANAGE_CHECKOUT; `customer` holds neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.permissions import Role
from models.promotions import Promotion, promotion_categories, promotion_products
from models.shipping import ShippingMethod, ShippingZone, ShippingZoneArea
from models.taxes import TaxRate
from tests.catalog.staff_fixtures import (
    assert_refused,
    customer,
    errors_of,
    gid,
    key_of,
    staff,
    staff_user,
)
from tests.graphql_client import GraphQLClient

ADMIN_EMAIL = "checkout-admin@example.com"
ERRORS = "userErrors { field message code }"

ZONE = "id name isWorldwide countries regions { country region } methods { name }"
ZONE_CREATE = f"""
mutation($input: ShippingZoneCreateInput!) {{
  shippingZoneCreate(input: $input) {{ shippingZone {{ {ZONE} }} {ERRORS} }}
}}"""
ZONE_UPDATE = f"""
mutation($id: ID!, $input: ShippingZoneUpdateInput!) {{
  shippingZoneUpdate(id: $id, input: $input) {{ shippingZone {{ {ZONE} }} {ERRORS} }}
}}"""
ZONE_DELETE = f"""
mutation($id: ID!) {{ shippingZoneDelete(id: $id) {{ deletedId {ERRORS} }} }}
"""
METHOD = """
  id name price { amount currency } freeAbove { amount currency }
  minWeightGrams maxWeightGrams minDays maxDays isActive zone { name }
"""
METHOD_CREATE = f"""
mutation($input: ShippingMethodCreateInput!) {{
  shippingMethodCreate(input: $input) {{ shippingMethod {{ {METHOD} }} {ERRORS} }}
}}"""
METHOD_UPDATE = f"""
mutation($id: ID!, $input: ShippingMethodUpdateInput!) {{
  shippingMethodUpdate(id: $id, input: $input) {{ shippingMethod {{ {METHOD} }} {ERRORS} }}
}}"""
METHOD_DELETE = f"""
mutation($id: ID!) {{ shippingMethodDelete(id: $id) {{ deletedId {ERRORS} }} }}
"""
ZONES = f"""
query($first: Int, $after: String) {{
  shippingZones(first: $first, after: $after) {{
    edges {{ node {{ {ZONE} }} }} pageInfo {{ hasNextPage endCursor }} totalCount
  }}
}}"""

TAX = "id country region rate name"
TAX_CREATE = f"""
mutation($input: TaxRateCreateInput!) {{
  taxRateCreate(input: $input) {{ taxRate {{ {TAX} }} {ERRORS} }}
}}"""
TAX_UPDATE = f"""
mutation($id: ID!, $input: TaxRateUpdateInput!) {{
  taxRateUpdate(id: $id, input: $input) {{ taxRate {{ {TAX} }} {ERRORS} }}
}}"""
TAX_DELETE = f"""
mutation($id: ID!) {{ taxRateDelete(id: $id) {{ deletedId {ERRORS} }} }}
"""
TAXES = f"""
query($first: Int, $after: String, $country: String) {{
  taxRates(first: $first, after: $after, country: $country) {{
    edges {{ node {{ {TAX} }} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

PROMOTION = """
  id name code kind percentage amount { amount currency } minSubtotal { amount currency }
  startsAt endsAt usageLimit usedCount perCustomerLimit stackable isActive
  products { name } categories { name }
"""
PROMOTION_CREATE = f"""
mutation($input: PromotionCreateInput!) {{
  promotionCreate(input: $input) {{ promotion {{ {PROMOTION} }} {ERRORS} }}
}}"""
PROMOTION_UPDATE = f"""
mutation($id: ID!, $input: PromotionUpdateInput!) {{
  promotionUpdate(id: $id, input: $input) {{ promotion {{ {PROMOTION} }} {ERRORS} }}
}}"""
PROMOTION_DELETE = f"""
mutation($id: ID!) {{ promotionDelete(id: $id) {{ deletedId {ERRORS} }} }}
"""
PROMOTIONS = """
query($first: Int, $after: String, $filter: PromotionFilterInput) {
  promotions(first: $first, after: $after, filter: $filter) {
    edges { node { name code usedCount usageLimit } } pageInfo { hasNextPage endCursor }
  }
}"""
PROMOTION_BY_ID = "query($id: ID!) { promotion(id: $id) { name code } }"

__all__ = [
    "assert_refused",
    "customer",
    "errors_of",
    "gid",
    "key_of",
    "staff",
    "staff_user",
]


@pytest.fixture
async def admin(gql: GraphQLClient, make_user: Callable, sign_in: Callable) -> GraphQLClient:
    """A client signed in as an admin (MANAGE_CHECKOUT and MANAGE_DISCOUNTS)."""
    await make_user(email=ADMIN_EMAIL, role=Role.ADMIN)
    token = (await sign_in(ADMIN_EMAIL))["accessToken"]
    return gql.as_user(token)


def payload_of(data: dict[str, Any]) -> dict[str, Any]:
    """The payload of the (only) mutation field of an answer."""
    (payload,) = data.values()
    return payload


@pytest.fixture
def as_admin(admin: GraphQLClient) -> Callable:
    """Run a mutation as the admin; return its payload."""

    async def run(query: str, **variables: Any) -> dict[str, Any]:
        return payload_of(await admin.execute(query, **variables))

    return run


@pytest.fixture
def as_staff(staff: GraphQLClient) -> Callable:
    """Run a mutation as staff (MANAGE_DISCOUNTS); return its payload."""

    async def run(query: str, **variables: Any) -> dict[str, Any]:
        return payload_of(await staff.execute(query, **variables))

    return run


# Tables the staff checkout mutations write; `rule_state` before and after proves that a
# refused call wrote nothing (no row added, removed or changed).
RULE_TABLES: tuple[Any, ...] = (
    ShippingZone,
    ShippingZoneArea,
    ShippingMethod,
    TaxRate,
    Promotion,
    promotion_products,
    promotion_categories,
)


@pytest.fixture
def rule_state(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """Every row of every checkout rule table, by table name, in key order."""

    async def state() -> dict[str, list[tuple[Any, ...]]]:
        async with session_factory() as session:
            result = {}
            for model in RULE_TABLES:
                table = getattr(model, "__table__", model)
                order = list(table.primary_key) or list(table.c)
                rows = await session.execute(select(table).order_by(*order))
                result[table.name] = [tuple(row) for row in rows]
            return result

    return state


@pytest.fixture
def rows(session_factory: async_sessionmaker[AsyncSession]) -> Callable:
    """Every row of a model (by id) or of a table (by the columns) as tuples of the columns."""

    async def read(model: Any, *columns: Any) -> list[tuple[Any, ...]]:
        order = [model.id] if hasattr(model, "id") else columns
        async with session_factory() as session:
            result = await session.execute(select(*columns).order_by(*order))
            return [tuple(row) for row in result]

    return read


@pytest.fixture
async def zone(as_admin: Callable) -> dict[str, Any]:
    """A zone "Europe" covering DE and FR, and the region TIROL of AT."""
    payload = await as_admin(
        ZONE_CREATE,
        input={
            "name": "Europe",
            "countries": ["de", "FR"],
            "regions": [{"country": "AT", "region": "Tirol"}],
        },
    )
    assert payload["userErrors"] == []
    return payload["shippingZone"]


@pytest.fixture
async def method(as_admin: Callable, zone: dict[str, Any]) -> dict[str, Any]:
    """ "Standard" in Europe: 4.90 EUR, free from 50.00, 0-30 kg, 2-5 days."""
    payload = await as_admin(
        METHOD_CREATE,
        input={
            "zoneId": zone["id"],
            "name": "Standard",
            "price": {"amount": "4.90", "currency": "EUR"},
            "freeAbove": "50",
            "minWeightGrams": 0,
            "maxWeightGrams": 30_000,
            "minDays": 2,
            "maxDays": 5,
        },
    )
    assert payload["userErrors"] == []
    return payload["shippingMethod"]

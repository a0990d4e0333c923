"""Explicit null in partial-update inputs: REQUIRED on a field that cannot be null, with
nothing written; it clears a field that may be empty; a field left out stays as it is."""

from __future__ import annotations

from typing import Any

import pytest

from models.catalog import Product, Variant
from tests import api_world
from tests.api_world import snapshot

world, make_category, make_product, make_tag = (
    api_world.world,
    api_world.make_category,
    api_world.make_product,
    api_world.make_tag,
)
ERRORS = api_world.ERRORS
_update = api_world.update_mutation


NULLS = [
    ("productUpdate", "ProductUpdateInput", "Product", "admin", "name", {"description": "x"}),
    ("variantUpdate", "VariantUpdateInput", "Variant", "admin", "sku", {"name": "x"}),
    ("variantUpdate", "VariantUpdateInput", "Variant", "admin", "price", {"name": "x"}),
    ("variantUpdate", "VariantUpdateInput", "Variant", "admin", "trackInventory", {"name": "x"}),
    ("categoryUpdate", "CategoryUpdateInput", "Category", "admin", "name", {"description": "x"}),
    ("tagUpdate", "TagUpdateInput", "Tag", "admin", "name", {"slug": "x"}),
    ("warehouseUpdate", "WarehouseUpdateInput", "Warehouse", "admin", "name", {"slug": "x"}),
    ("warehouseUpdate", "WarehouseUpdateInput", "Warehouse", "admin", "isDefault", {"slug": "x"}),
    ("addressUpdate", "AddressUpdateInput", "Address", "customer", "streetAddress1",
     {"company": "x"}),
    ("addressUpdate", "AddressUpdateInput", "Address", "customer", "city", {"company": "x"}),
    ("addressUpdate", "AddressUpdateInput", "Address", "customer", "country", {"company": "x"}),
    ("reviewUpdate", "ReviewUpdateInput", "Review", "customer", "rating", {"title": "x"}),
    ("accountUpdate", "AccountUpdateInput", None, "customer", "locale", {"firstName": "x"}),
    ("shippingZoneUpdate", "ShippingZoneUpdateInput", "ShippingZone", "admin", "name",
     {"countries": ["FR"]}),
    ("shippingZoneUpdate", "ShippingZoneUpdateInput", "ShippingZone", "admin", "isWorldwide",
     {"name": "x"}),
    ("shippingMethodUpdate", "ShippingMethodUpdateInput", "ShippingMethod", "admin", "name",
     {"minDays": 1}),
    ("shippingMethodUpdate", "ShippingMethodUpdateInput", "ShippingMethod", "admin", "price",
     {"name": "x"}),
    ("shippingMethodUpdate", "ShippingMethodUpdateInput", "ShippingMethod", "admin", "isActive",
     {"name": "x"}),
    ("taxRateUpdate", "TaxRateUpdateInput", "TaxRate", "admin", "country", {"name": "x"}),
    ("taxRateUpdate", "TaxRateUpdateInput", "TaxRate", "admin", "rate", {"name": "x"}),
    ("promotionUpdate", "PromotionUpdateInput", "Promotion", "admin", "name", {"usageLimit": 5}),
    ("promotionUpdate", "PromotionUpdateInput", "Promotion", "admin", "kind", {"name": "x"}),
    ("promotionUpdate", "PromotionUpdateInput", "Promotion", "admin", "stackable", {"name": "x"}),
    ("promotionUpdate", "PromotionUpdateInput", "Promotion", "admin", "isActive", {"name": "x"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutation", "input_type", "type_name", "client", "field", "other"),
    NULLS,
    ids=[f"{case[0]}.{case[4]}" for case in NULLS],
)
async def test_explicit_null_on_a_field_that_cannot_be_null_is_required(
    world, session_factory, mutation, input_type, type_name, client, field, other
):
    document = _update(mutation, input_type, with_id=type_name is not None)
    variables: dict[str, Any] = {"input": {field: None} | other}
    if type_name is not None:
        variables["id"] = world.ids[type_name]
    before = await snapshot(session_factory)

    data = await world.client(client).execute(document, **variables)

    assert data[mutation]["userErrors"] == [
        {"field": [field], "code": "REQUIRED", "message": "This field cannot be null."}
    ]
    assert await snapshot(session_factory) == before


async def test_explicit_null_clears_optional_fields_and_absent_leaves_them(world, session):
    admin = world.admin
    await admin.execute(
        _update("productUpdate", "ProductUpdateInput"),
        id=world.ids["Product"],
        input={"description": "Big", "seoTitle": "Mug!"},
    )
    await admin.execute(
        _update("variantUpdate", "VariantUpdateInput"),
        id=world.ids["Variant"],
        input={"weightGrams": 300, "compareAtPrice": {"amount": "20", "currency": "USD"}},
    )

    cleared = await admin.execute(
        _update("productUpdate", "ProductUpdateInput"),
        id=world.ids["Product"],
        input={"description": None},
    )
    variant = await admin.execute(
        _update("variantUpdate", "VariantUpdateInput"),
        id=world.ids["Variant"],
        input={"weightGrams": None, "compareAtPrice": None},
    )

    assert cleared["productUpdate"]["userErrors"] == []
    assert variant["variantUpdate"]["userErrors"] == []
    product = await session.get_one(Product, world.keys["Product"], populate_existing=True)
    assert (product.name, product.description, product.seo_title) == ("Mug", "", "Mug!")
    row = await session.get_one(Variant, world.keys["Variant"], populate_existing=True)
    assert (row.weight_grams, row.compare_at_amount, row.price_amount) == (None, None, 1000)

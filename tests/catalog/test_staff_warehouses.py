"""Staff warehouse mutations: the default warehouse, slugs, deletes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.catalog import Stock, StockAdjustment, Warehouse
from tests.catalog import staff_fixtures
from tests.catalog.staff_fixtures import NODE, SET, W_CREATE, W_DELETE, W_UPDATE, errors_of, gid

# Fixtures of staff_fixtures, made visible to pytest in this module.
annex, customer, mug, mutate, staff, staff_user = (
    staff_fixtures.annex,
    staff_fixtures.customer,
    staff_fixtures.mug,
    staff_fixtures.mutate,
    staff_fixtures.staff,
    staff_fixtures.staff_user,
)


async def test_warehouse_create_and_move_the_default(mutate, staff, default_warehouse, session):
    created = await mutate(W_CREATE, input={"name": "Zürich Süd", "isDefault": True})

    assert created["userErrors"] == []
    assert created["warehouse"] | {"id": None} == {
        "id": None,
        "name": "Zürich Süd",
        "slug": "zurich-sud",
        "isDefault": True,
    }
    assert (await default_warehouse()).slug == "zurich-sud"
    assert (
        await session.scalar(select(Warehouse.is_default).where(Warehouse.slug == "default"))
        is False
    )
    node = await staff.execute(NODE, id=created["warehouse"]["id"])
    assert node == {"node": {"name": "Zürich Süd", "isDefault": True}}


async def test_warehouses_are_not_visible_to_customers(customer, annex):
    assert await customer.execute(NODE, id=annex["id"]) == {"node": None}


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "W" * 251}, "name", "TOO_LONG"),
        ({"slug": "Main Hall"}, "slug", "INVALID"),
        ({"slug": "default"}, "slug", "UNIQUE"),
    ],
)
async def test_warehouse_create_rejects_bad_input(mutate, count, overrides, field, code):
    payload = await mutate(W_CREATE, input={"name": "Annex"} | overrides)

    assert errors_of(payload) == [([field], code)]
    assert await count(Warehouse) == 1


async def test_warehouse_update_rules(mutate, annex, default_warehouse, count):
    default_id = gid("Warehouse", (await default_warehouse()).id)

    renamed = await mutate(W_UPDATE, id=annex["id"], input={"name": "Annex 2", "slug": None})
    unset_default = await mutate(W_UPDATE, id=default_id, input={"isDefault": False})
    swapped = await mutate(W_UPDATE, id=annex["id"], input={"isDefault": True})
    wrong = await mutate(W_UPDATE, id=gid("Variant", 1), input={"name": "X"})

    assert renamed["warehouse"]["slug"] == "annex-2"
    assert errors_of(unset_default) == [(["isDefault"], "INVALID")]
    assert swapped["warehouse"]["isDefault"] is True
    assert (await default_warehouse()).slug == "annex-2"
    assert errors_of(wrong) == [(["id"], "NOT_FOUND")]
    assert await count(Warehouse, Warehouse.name == "X") == 0


async def test_warehouse_delete_rules(mutate, mug, annex, default_warehouse, count):
    default_id = gid("Warehouse", (await default_warehouse()).id)
    variant_id = gid("Variant", mug.id)
    await mutate(SET, variantId=variant_id, warehouseId=annex["id"], quantity=2, reason="Count")

    default = await mutate(W_DELETE, id=default_id)
    holding = await mutate(W_DELETE, id=annex["id"])
    await mutate(SET, variantId=variant_id, warehouseId=annex["id"], quantity=0, reason="Moved")
    emptied = await mutate(W_DELETE, id=annex["id"])
    again = await mutate(W_DELETE, id=annex["id"])

    assert errors_of(default) == [(["id"], "INVALID")]
    assert errors_of(holding) == [(["id"], "NOT_EMPTY")]
    assert emptied == {"deletedId": annex["id"], "userErrors": []}
    assert errors_of(again) == [(["id"], "NOT_FOUND")]
    assert await count(Warehouse) == 1
    assert await count(Stock) == 1
    # The history of the deleted warehouse stays, unlinked from it.
    assert await count(StockAdjustment) == 2
    assert await count(StockAdjustment, StockAdjustment.warehouse_id.is_(None)) == 2

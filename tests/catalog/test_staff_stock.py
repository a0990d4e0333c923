"""Staff stock mutations: set, adjust, bulk update; history rows, limits, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.catalog import StockAdjustment, Warehouse
from tests.catalog import staff_fixtures
from tests.catalog.staff_fixtures import (
    ADJUST,
    BULK,
    SET,
    W_CREATE,
    W_DELETE,
    W_UPDATE,
    assert_refused,
    errors_of,
    gid,
    stock_history,
    stock_quantities,
    variant_by_sku,
)

# Fixtures of staff_fixtures, made visible to pytest in this module.
annex, customer, mug, mutate, staff, staff_user = (
    staff_fixtures.annex,
    staff_fixtures.customer,
    staff_fixtures.mug,
    staff_fixtures.mutate,
    staff_fixtures.staff,
    staff_fixtures.staff_user,
)


async def test_stock_set_defaults_to_the_default_warehouse_and_records_history(
    mutate, mug, staff_user, session
):
    first = await mutate(SET, variantId=gid("Variant", mug.id), quantity=12, reason="  Count ")
    second = await mutate(SET, variantId=gid("Variant", mug.id), quantity=3, reason="Breakage")

    assert first["userErrors"] == []
    assert first["stock"] | {"adjustment": None} == {
        "quantity": 12,
        "variant": {"sku": "mug-0", "quantityAvailable": 12},
        "warehouse": {"slug": "default"},
        "adjustment": None,
    }
    assert first["stock"]["adjustment"]["reason"] == "Count"
    assert second["stock"]["adjustment"]["delta"] == -9
    assert await stock_history(session) == [
        ("default", 7, 12, "Count", staff_user.id),
        ("default", -9, 3, "Breakage", staff_user.id),
    ]


async def test_stock_set_creates_the_row_in_another_warehouse(mutate, mug, annex, session):
    payload = await mutate(
        SET, variantId=gid("Variant", mug.id), warehouseId=annex["id"], quantity=4, reason="In"
    )

    assert payload["stock"]["variant"]["quantityAvailable"] == 9
    assert await stock_quantities(session) == {("mug-0", "default"): 5, ("mug-0", "annex-lager"): 4}
    assert [row[:3] for row in await stock_history(session)] == [("annex-lager", 4, 4)]


async def test_stock_adjust_adds_and_removes_atomically(mutate, mug, annex, session):
    variant_id = gid("Variant", mug.id)

    added = await mutate(ADJUST, variantId=variant_id, delta=3, reason="Return")
    removed = await mutate(ADJUST, variantId=variant_id, delta=-8, reason="Sold")
    too_many = await mutate(ADJUST, variantId=variant_id, delta=-1, reason="Sold")
    new_row = await mutate(
        ADJUST, variantId=variant_id, warehouseId=annex["id"], delta=2, reason="Delivery"
    )
    empty_row = await mutate(
        ADJUST, variantId=variant_id, warehouseId=annex["id"], delta=-3, reason="Sold"
    )

    assert added["stock"]["quantity"] == 8
    assert removed["stock"]["adjustment"] | {"createdAt": None} == {
        "delta": -8,
        "quantityAfter": 0,
        "reason": "Sold",
        "createdAt": None,
    }
    assert too_many["stock"] is None
    assert errors_of(too_many) == [(["delta"], "INSUFFICIENT_STOCK")]
    assert new_row["stock"]["quantity"] == 2
    assert errors_of(empty_row) == [(["delta"], "INSUFFICIENT_STOCK")]
    assert await stock_quantities(session) == {("mug-0", "default"): 0, ("mug-0", "annex-lager"): 2}
    assert [row[1:3] for row in await stock_history(session)] == [(3, 8), (-8, 0), (2, 2)]


async def test_stock_cannot_exceed_ten_million(mutate, mug, session):
    variant_id = gid("Variant", mug.id)
    await mutate(SET, variantId=variant_id, quantity=10_000_000, reason="Count")

    over = await mutate(ADJUST, variantId=variant_id, delta=1, reason="Return")

    assert errors_of(over) == [(["delta"], "INVALID")]
    assert await stock_quantities(session) == {("mug-0", "default"): 10_000_000}


@pytest.mark.parametrize(
    ("query", "overrides", "field", "code"),
    [
        (SET, {"quantity": -1}, "quantity", "INVALID"),
        (SET, {"quantity": 10_000_001}, "quantity", "INVALID"),
        (SET, {"quantity": 2**31 - 1}, "quantity", "INVALID"),
        (SET, {"reason": ""}, "reason", "REQUIRED"),
        (SET, {"reason": "   "}, "reason", "REQUIRED"),
        (SET, {"reason": "r" * 251}, "reason", "TOO_LONG"),
        (SET, {"reason": "bad\u0001"}, "reason", "INVALID"),
        (ADJUST, {"delta": 0}, "delta", "INVALID"),
        (ADJUST, {"delta": 10_000_001}, "delta", "INVALID"),
        (ADJUST, {"delta": -(2**31)}, "delta", "INVALID"),
        (ADJUST, {"reason": ""}, "reason", "REQUIRED"),
        (SET, {"variantId": gid("Product", 1)}, "variantId", "NOT_FOUND"),
        (SET, {"variantId": gid("Variant", 987654)}, "variantId", "NOT_FOUND"),
        (SET, {"warehouseId": gid("User", 1)}, "warehouseId", "NOT_FOUND"),
        (SET, {"warehouseId": gid("Warehouse", 987654)}, "warehouseId", "NOT_FOUND"),
        (ADJUST, {"variantId": "nonsense"}, "variantId", "NOT_FOUND"),
        (ADJUST, {"warehouseId": gid("Warehouse", 987654)}, "warehouseId", "NOT_FOUND"),
    ],
)
async def test_stock_mutations_reject_bad_input_without_writing(
    mutate, mug, session, count, query, overrides, field, code
):
    variables = {"variantId": gid("Variant", mug.id), "reason": "Count"}
    variables |= {"quantity": 7} if query is SET else {"delta": -1}

    payload = await mutate(query, **(variables | overrides))

    assert payload["stock"] is None
    assert errors_of(payload) == [([field], code)]
    assert await stock_quantities(session) == {("mug-0", "default"): 5}
    assert await count(StockAdjustment) == 0


async def test_stock_bulk_update_sets_every_line(mutate, mug, make_product, annex, session):
    await make_product("Cup", variants=[(500, 1)])
    cup = await variant_by_sku(session, "cup-0")

    payload = await mutate(
        BULK,
        items=[
            {"variantId": gid("Variant", cup.id), "quantity": 10},
            {"variantId": gid("Variant", cup.id), "warehouseId": annex["id"], "quantity": 3},
            {"variantId": gid("Variant", mug.id), "quantity": 0},
        ],
        reason="Stocktake",
    )

    assert payload["userErrors"] == []
    assert [
        (stock["variant"]["sku"], stock["warehouse"]["slug"], stock["quantity"])
        for stock in payload["stocks"]
    ] == [("cup-0", "default", 10), ("cup-0", "annex-lager", 3), ("mug-0", "default", 0)]
    assert await stock_quantities(session) == {
        ("cup-0", "default"): 10,
        ("cup-0", "annex-lager"): 3,
        ("mug-0", "default"): 0,
    }
    assert [row[:4] for row in await stock_history(session)] == [
        ("default", 9, 10, "Stocktake"),
        ("annex-lager", 3, 3, "Stocktake"),
        ("default", -5, 0, "Stocktake"),
    ]


def _lines(variant_id: int, count: int = 1, **overrides: object) -> list[dict[str, object]]:
    return [{"variantId": gid("Variant", variant_id), "quantity": 1} | overrides] * count


@pytest.mark.parametrize(
    ("bad_line", "reason", "code"),
    [
        ({"variantId": gid("Variant", 987654), "quantity": 1}, "Count", "NOT_FOUND"),
        ({"variantId": gid("Product", 1), "quantity": 1}, "Count", "NOT_FOUND"),
        ({"warehouseId": gid("Warehouse", 987654)}, "Count", "NOT_FOUND"),
        ({"warehouseId": gid("Tag", 1)}, "Count", "NOT_FOUND"),
        ({"quantity": -5}, "Count", "INVALID"),
        ({"quantity": 10_000_001}, "Count", "INVALID"),
        ({}, "Count", "INVALID"),  # the first line repeated: one variant and warehouse twice
    ],
)
async def test_stock_bulk_update_is_all_or_nothing(
    mutate, mug, session, count, bad_line, reason, code
):
    good = {"variantId": gid("Variant", mug.id), "quantity": 9}

    payload = await mutate(BULK, items=[good, good | bad_line], reason=reason)

    assert payload["stocks"] == []
    assert errors_of(payload) == [(["items"], code)]
    assert await stock_quantities(session) == {("mug-0", "default"): 5}
    assert await count(StockAdjustment) == 0


@pytest.mark.parametrize(
    ("lines", "reason", "field", "code"),
    [
        (0, "Count", "items", "REQUIRED"),
        (1, "", "reason", "REQUIRED"),
        (101, "Count", "items", "INVALID"),
    ],
)
async def test_stock_bulk_update_checks_the_whole_request(
    mutate, mug, count, lines, reason, field, code
):
    items = [
        {"variantId": gid("Variant", mug.id), "warehouseId": gid("Warehouse", n), "quantity": 1}
        for n in range(1, lines + 1)
    ]

    payload = await mutate(BULK, items=items, reason=reason)

    assert errors_of(payload) == [([field], code)]
    assert await count(StockAdjustment) == 0


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (W_CREATE, {"input": {"name": "New"}}),
        (W_UPDATE, {"input": {"name": "Renamed"}}),
        (W_DELETE, {}),
        (SET, {"quantity": 1, "reason": "Count"}),
        (ADJUST, {"delta": -1, "reason": "Sold"}),
        (BULK, {"reason": "Count"}),
    ],
)
async def test_inventory_mutations_need_manage_products(
    gql, customer, mug, session, count, default_warehouse, query, variables
):
    default = await default_warehouse()
    if query in (W_UPDATE, W_DELETE):
        variables = variables | {"id": gid("Warehouse", default.id)}
    if query in (SET, ADJUST):
        variables = variables | {"variantId": gid("Variant", mug.id)}
    if query is BULK:
        variables = variables | {"items": _lines(mug.id)}

    await assert_refused(gql, customer, query, **variables)

    assert (await session.scalars(select(Warehouse.name))).all() == ["Default warehouse"]
    assert await stock_quantities(session) == {("mug-0", "default"): 5}
    assert await count(StockAdjustment) == 0

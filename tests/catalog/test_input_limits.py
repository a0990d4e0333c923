"""Input shapes that used to reach the database unchecked: over-long filter strings,
oversized attribute filters and lists, JSON attributes that are not flat objects, and
extreme integers."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.catalog.categories import MAX_CATEGORY_SLUG_LENGTH
from models.catalog import Variant
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


PRODUCTS = """query($filter: ProductFilterInput) {
  products(first: 5, filter: $filter) { totalCount }
  productFacets(filter: $filter) { tags { count } }
}"""


def _attribute_filters(filters: int, values: int, length: int = 5) -> list[dict[str, Any]]:
    def text(prefix: str, index: int) -> str:
        return f"{prefix}{index}".ljust(length, "x")

    return [
        {"name": text("a", i), "values": [text("v", j) for j in range(values)]}
        for i in range(filters)
    ]


@pytest.mark.parametrize(
    ("flt", "code", "field"),
    [
        ({"search": "x" * 201}, "TOO_LONG", "search"),
        ({"search": " " * 201}, "TOO_LONG", "search"),
        ({"attributes": _attribute_filters(11, 1)}, "INVALID", "attributes"),
        ({"attributes": _attribute_filters(1, 21)}, "INVALID", "attributes"),
        ({"attributes": _attribute_filters(3, 17)}, "INVALID", "attributes"),
        ({"attributes": _attribute_filters(1, 4_000)}, "INVALID", "attributes"),
        ({"attributes": _attribute_filters(1, 1, 101)}, "TOO_LONG", "attributes"),
        ({"attributes": [{"name": "color", "values": ["r" * 101]}]}, "TOO_LONG", "attributes"),
        ({"attributes": [{"name": "c" * 100_000, "values": []}]}, "TOO_LONG", "attributes"),
        ({"categories": ["Q2F0ZWdvcnk6MQ=="] * 4_000}, "INVALID", "categories"),
        ({"tags": ["VGFnOjE="] * 101}, "INVALID", "tags"),
        ({"price": {"currency": "U" * 100_000, "gte": "1"}}, "INVALID", "price"),
    ],
)
async def test_oversized_filters_are_refused_with_a_code(world, flt, code, field):
    body = await world.anonymous.raw(PRODUCTS, filter=flt)

    assert body["data"] is None
    assert [error["extensions"] for error in body["errors"]] == [{"code": code, "field": field}]
    assert len(body["errors"][0]["message"]) < 200  # the input is not echoed back


async def test_filters_at_the_limits_are_answered(world):
    flt = {
        "search": "m" * 200,
        "attributes": _attribute_filters(10, 5, 100),
        "categories": [world.ids["Category"]] * 100,
    }

    data = await world.anonymous.execute(PRODUCTS, filter=flt)

    assert data["products"] == {"totalCount": 0}


async def test_a_slug_longer_than_any_slug_is_no_prefix_match(make_category, make_product, gql):
    slug = "c" * MAX_CATEGORY_SLUG_LENGTH
    await make_category("Long", slug=slug)
    await make_product("Long", slug=slug, variants=())
    query = "query($s: String!) { category(slug: $s) { name } product(slug: $s) { name } }"

    exact = await gql.execute(query, s=slug)
    longer = await gql.execute(query, s=slug + "c")

    assert exact == {"category": {"name": "Long"}, "product": {"name": "Long"}}
    assert longer == {"category": None, "product": None}


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"a": value}
    return value


BAD_ATTRIBUTES = [
    (["size", "M"], "INVALID"),
    ("size=M", "INVALID"),
    (42, "INVALID"),
    (True, "INVALID"),
    ({"size": {"eu": "42"}}, "INVALID"),
    ({"size": [["M"]]}, "INVALID"),
    ({"size": 42}, "INVALID"),
    ({"size": None}, "INVALID"),
    (_nested(200), "INVALID"),
    ({f"k{i}": "v" for i in range(51)}, "INVALID"),
    ({"size": [str(i) for i in range(51)]}, "INVALID"),
    ({"size": ["S"] * 4_000}, "INVALID"),
    ({"k" * 101: "v"}, "TOO_LONG"),
    ({"size": "v" * 100_000}, "TOO_LONG"),
    ({" ": "v"}, "INVALID"),
    ({"size\u0007": "v"}, "INVALID"),
]


@pytest.mark.parametrize(("attributes", "code"), BAD_ATTRIBUTES)
async def test_json_attributes_must_be_flat_small_objects(world, session_factory, attributes, code):
    admin = world.admin
    new_variant = {
        "productId": world.ids["Product"],
        "sku": "NEW-1",
        "price": {"amount": "1", "currency": "USD"},
        "attributes": attributes,
    }
    before = await snapshot(session_factory)

    answers = [
        await admin.execute(
            _update("productCreate", "ProductCreateInput", with_id=False),
            input={"name": "New", "attributes": attributes},
        ),
        await admin.execute(
            _update("productUpdate", "ProductUpdateInput"),
            id=world.ids["Product"],
            input={"attributes": attributes},
        ),
        await admin.execute(
            _update("variantCreate", "VariantCreateInput", with_id=False), input=new_variant
        ),
        await admin.execute(
            _update("variantUpdate", "VariantUpdateInput"),
            id=world.ids["Variant"],
            input={"attributes": attributes},
        ),
    ]

    for answer in answers:
        (payload,) = answer.values()
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["attributes"], code)]
    assert await snapshot(session_factory) == before


async def test_extreme_integers_are_refused_or_stored_never_a_database_error(world, session):
    admin = world.admin
    image = {"url": "https://img.example/a.jpg"}

    stored = await admin.execute(
        _update("productUpdate", "ProductUpdateInput"),
        id=world.ids["Product"],
        input={"images": [image | {"sortOrder": 2**31 - 1}, image | {"sortOrder": -(2**31)}]},
    )
    weight = await admin.execute(
        _update("variantUpdate", "VariantUpdateInput"),
        id=world.ids["Variant"],
        input={"weightGrams": -(2**31)},
    )
    # Over the bulk cap, under the request-wide cap on variable values (5,000).
    lines = [{"variantId": world.ids["Variant"], "quantity": 1}] * 1_200
    bulk = await admin.execute(
        f"mutation($items: [StockQuantityInput!]!) {{ stockBulkUpdate(items: $items, "
        f'reason: "Count") {{ {ERRORS} }} }}',
        items=lines,
    )

    assert stored["productUpdate"]["userErrors"] == []
    assert [(e["field"], e["code"]) for e in weight["variantUpdate"]["userErrors"]] == [
        (["weightGrams"], "INVALID")
    ]
    assert [(e["field"], e["code"]) for e in bulk["stockBulkUpdate"]["userErrors"]] == [
        (["items"], "INVALID")
    ]
    variant = await session.get_one(Variant, world.keys["Variant"], populate_existing=True)
    assert variant.weight_grams is None

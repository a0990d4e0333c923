"""Staff product mutations refuse bad input, bad IDs and non-staff callers, writing nothing."""

from __future__ import annotations

import pytest

from models.catalog import Product, ProductImage, product_tags
from tests.catalog import staff_fixtures
from tests.catalog.staff_fixtures import PRODUCT_CREATE as CREATE
from tests.catalog.staff_fixtures import PRODUCT_DELETE as DELETE
from tests.catalog.staff_fixtures import PRODUCT_PUBLISH as PUBLISH
from tests.catalog.staff_fixtures import PRODUCT_UNPUBLISH as UNPUBLISH
from tests.catalog.staff_fixtures import PRODUCT_UPDATE as UPDATE
from tests.catalog.staff_fixtures import assert_refused, errors_of, gid

# Fixtures of staff_fixtures, made visible to pytest in this module.
customer, mutate, staff, staff_user = (
    staff_fixtures.customer,
    staff_fixtures.mutate,
    staff_fixtures.staff,
    staff_fixtures.staff_user,
)


def _attributes(count: int) -> dict[str, str]:
    return {f"key{index}": "value" for index in range(count)}


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"name": ""}, "name", "REQUIRED"),
        ({"name": "   "}, "name", "REQUIRED"),
        ({"name": "N" * 251}, "name", "TOO_LONG"),
        ({"name": "N" * 100_000}, "name", "TOO_LONG"),
        ({"name": "bad\u0001name"}, "name", "INVALID"),
        ({"name": "two\nlines"}, "name", "INVALID"),
        ({"slug": "Not A Slug"}, "slug", "INVALID"),
        ({"slug": "double--hyphen"}, "slug", "INVALID"),
        ({"slug": "-leading"}, "slug", "INVALID"),
        ({"slug": "crème"}, "slug", "INVALID"),
        ({"slug": "a" * 256}, "slug", "TOO_LONG"),
        ({"description": "d" * 50_001}, "description", "TOO_LONG"),
        ({"description": "esc\u001bbyte"}, "description", "INVALID"),
        ({"attributes": {"size": {"eu": "42"}}}, "attributes", "INVALID"),
        ({"attributes": {"size": 42}}, "attributes", "INVALID"),
        ({"attributes": {"size": None}}, "attributes", "INVALID"),
        ({"attributes": {"size": ["S", ["M"]]}}, "attributes", "INVALID"),
        ({"attributes": ["size", "M"]}, "attributes", "INVALID"),
        ({"attributes": "size=M"}, "attributes", "INVALID"),
        ({"attributes": _attributes(51)}, "attributes", "INVALID"),
        ({"attributes": {"k" * 101: "v"}}, "attributes", "TOO_LONG"),
        ({"attributes": {"k": "v" * 101}}, "attributes", "TOO_LONG"),
        ({"attributes": {"k": ["ok", "v" * 101]}}, "attributes", "TOO_LONG"),
        ({"images": [{"url": "ftp://img.example/a.jpg"}]}, "images", "INVALID"),
        ({"images": [{"url": "javascript:alert(1)"}]}, "images", "INVALID"),
        ({"images": [{"url": "https://"}]}, "images", "INVALID"),
        ({"images": [{"url": "/relative.jpg"}]}, "images", "INVALID"),
        ({"images": [{"url": "https://img.example/a b.jpg"}]}, "images", "INVALID"),
        ({"images": [{"url": ""}]}, "images", "REQUIRED"),
        ({"images": [{"url": "https://img.example/" + "a" * 2030}]}, "images", "TOO_LONG"),
        ({"images": [{"url": "https://img.example/a.jpg"}] * 51}, "images", "INVALID"),
        (
            {"images": [{"url": "https://img.example/a.jpg", "alt": "a" * 251}]},
            "images",
            "TOO_LONG",
        ),
        ({"seoTitle": "t" * 71}, "seoTitle", "TOO_LONG"),
        ({"seoDescription": "d" * 301}, "seoDescription", "TOO_LONG"),
        ({"categoryId": gid("User", 1)}, "categoryId", "NOT_FOUND"),
        ({"categoryId": "not-a-global-id"}, "categoryId", "NOT_FOUND"),
        ({"categoryId": gid("Category", 987654)}, "categoryId", "NOT_FOUND"),
        ({"categoryId": gid("Category", "abc")}, "categoryId", "NOT_FOUND"),
        ({"tagIds": [gid("Product", 1)]}, "tagIds", "NOT_FOUND"),
        ({"tagIds": [gid("Tag", 987654)]}, "tagIds", "NOT_FOUND"),
        ({"tagIds": [gid("Tag", n) for n in range(1, 102)]}, "tagIds", "INVALID"),
    ],
)
async def test_product_create_rejects_bad_input_without_writing(
    mutate, count, overrides, field, code
):
    payload = await mutate(CREATE, input={"name": "Mug"} | overrides)

    assert payload["product"] is None
    assert errors_of(payload) == [([field], code)]
    assert await count(Product) == 0
    assert await count(ProductImage) == 0
    assert await count(product_tags) == 0


async def test_product_create_reports_every_bad_field_at_once(mutate, count):
    payload = await mutate(
        CREATE, input={"name": "", "slug": "Bad Slug", "seoTitle": "t" * 71, "attributes": [1]}
    )

    assert sorted(errors_of(payload)) == [
        (["attributes"], "INVALID"),
        (["name"], "REQUIRED"),
        (["seoTitle"], "TOO_LONG"),
        (["slug"], "INVALID"),
    ]
    assert await count(Product) == 0


@pytest.mark.parametrize(
    ("product_id", "code"),
    [
        (gid("Product", 987654), "NOT_FOUND"),
        (gid("Product", "0"), "NOT_FOUND"),
        (gid("Product", str(2**70)), "NOT_FOUND"),
        (gid("User", 1), "NOT_FOUND"),
        (gid("Category", 1), "NOT_FOUND"),
        ("garbage", "NOT_FOUND"),
        ("", "NOT_FOUND"),
    ],
)
@pytest.mark.parametrize("query", [UPDATE, PUBLISH, UNPUBLISH, DELETE])
async def test_product_mutations_refuse_unknown_and_wrong_type_ids(
    mutate, make_product, count, query, product_id, code
):
    await make_product("Mug")
    variables = {"id": product_id} | ({"input": {"name": "X"}} if query is UPDATE else {})

    payload = await mutate(query, **variables)

    assert errors_of(payload) == [(["id"], code)]
    assert await count(Product) == 1


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, {"input": {"name": "Mug"}}),
        (UPDATE, {"input": {"name": "Renamed"}}),
        (PUBLISH, {}),
        (UNPUBLISH, {}),
        (DELETE, {}),
    ],
)
async def test_product_mutations_need_manage_products(
    gql, customer, make_product, session, count, query, variables
):
    product = await make_product("Mug", published=False)
    if query is not CREATE:
        variables = variables | {"id": gid("Product", product.id)}

    await assert_refused(gql, customer, query, **variables)

    row = await session.get_one(Product, product.id)
    assert (row.name, row.is_published) == ("Mug", False)
    assert await count(Product) == 1

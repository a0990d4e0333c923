"""Staff product mutations through the public API: create, update, publish, delete."""

from __future__ import annotations

from unittest.mock import ANY

import pytest
from sqlalchemy import select

from models.catalog import Product, ProductImage, Stock, Variant, product_tags
from tests.catalog import staff_fixtures
from tests.catalog.staff_fixtures import PRODUCT_CREATE as CREATE
from tests.catalog.staff_fixtures import PRODUCT_DELETE as DELETE
from tests.catalog.staff_fixtures import PRODUCT_PUBLISH as PUBLISH
from tests.catalog.staff_fixtures import PRODUCT_UNPUBLISH as UNPUBLISH
from tests.catalog.staff_fixtures import PRODUCT_UPDATE as UPDATE
from tests.catalog.staff_fixtures import errors_of, gid, key_of

# Fixtures of staff_fixtures, made visible to pytest in this module.
customer, mutate, staff, staff_user = (
    staff_fixtures.customer,
    staff_fixtures.mutate,
    staff_fixtures.staff,
    staff_fixtures.staff_user,
)


async def test_product_create_with_every_field(mutate, make_category, make_tag, count):
    shoes = await make_category("Shoes")
    red, sale = await make_tag("Red"), await make_tag("Sale")

    payload = await mutate(
        CREATE,
        input={
            "name": "  Trail Runner  ",
            "description": "# Light\n\nFor **long** runs.",
            "categoryId": gid("Category", shoes.id),
            "tagIds": [gid("Tag", sale.id), gid("Tag", red.id), gid("Tag", red.id)],
            "attributes": {"material": "mesh", "sizes": ["41", "42"]},
            "images": [
                {"url": "https://img.example/b.jpg", "alt": "Side", "sortOrder": 2},
                {"url": "http://img.example/a.jpg"},
            ],
            "seoTitle": "Trail Runner shoes",
            "seoDescription": "Light trail shoes.",
        },
    )

    assert payload["userErrors"] == []
    assert payload["product"] == {
        "id": ANY,
        "name": "Trail Runner",
        "slug": "trail-runner",
        "description": "# Light\n\nFor **long** runs.",
        "attributes": {"material": "mesh", "sizes": ["41", "42"]},
        "isPublished": False,
        "publishedAt": None,
        "seoTitle": "Trail Runner shoes",
        "seoDescription": "Light trail shoes.",
        "category": {"id": gid("Category", shoes.id), "name": "Shoes"},
        "tags": [{"name": "Red"}, {"name": "Sale"}],
        "images": [
            {"url": "http://img.example/a.jpg", "alt": "", "sortOrder": 1},
            {"url": "https://img.example/b.jpg", "alt": "Side", "sortOrder": 2},
        ],
        "variants": [],
    }
    assert await count(Product) == 1
    assert await count(product_tags) == 2


async def test_product_create_builds_the_search_index(mutate, make_tag, session):
    tag = await make_tag("Dessert")

    payload = await mutate(CREATE, input={"name": "Crème Brûlée", "tagIds": [gid("Tag", tag.id)]})

    text, vector = (
        await session.execute(
            select(Product.search_text, Product.search_vector).where(
                Product.id == key_of(payload["product"]["id"])
            )
        )
    ).one()
    assert text == "creme brulee dessert"
    assert vector is not None


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Crème Brûlée", "creme-brulee"),
        ("Пирог", "pirog"),
        ("张伟的茶", "zhang-wei-de-cha"),
        ("Straße & Co.", "strasse-co"),
        ("🎉🎉", "product"),
        ("👩\u200d💻 Dev Mug", "dev-mug"),
        ("Ångström Ölkanne", "angstrom-olkanne"),
    ],
)
async def test_product_slug_is_generated_from_a_name_in_any_script(mutate, name, slug):
    payload = await mutate(CREATE, input={"name": name})

    assert payload["userErrors"] == []
    assert (payload["product"]["name"], payload["product"]["slug"]) == (name, slug)


async def test_generated_slug_gets_a_number_when_taken(mutate, make_product):
    await make_product("Old mug", slug="mug")
    await make_product("Other", slug="mug-2")

    slugs = [(await mutate(CREATE, input={"name": "Mug"}))["product"]["slug"] for _ in range(2)]

    assert slugs == ["mug-3", "mug-4"]


async def test_generated_slug_of_a_long_name_fits_with_its_number(mutate):
    name = "Extraordinarily " * 15 + "long"  # 244 characters

    slugs = [(await mutate(CREATE, input={"name": name}))["product"]["slug"] for _ in range(2)]

    assert slugs[1] == slugs[0] + "-2"
    assert all(len(slug) <= 255 for slug in slugs)
    assert slugs[0].startswith("extraordinarily-extraordinarily")


async def test_explicit_slug_that_is_taken_is_refused(mutate, make_product, count):
    await make_product("Mug", slug="mug")

    payload = await mutate(CREATE, input={"name": "Another mug", "slug": "mug"})

    assert payload["product"] is None
    assert errors_of(payload) == [(["slug"], "UNIQUE")]
    assert await count(Product) == 1


async def test_product_update_changes_only_the_given_fields(mutate, make_product, make_category):
    product = await make_product("Mug", description="Old", attributes={"color": "red"})
    kitchen = await make_category("Kitchen")

    payload = await mutate(
        UPDATE,
        id=gid("Product", product.id),
        input={"name": "Große Tasse", "categoryId": gid("Category", kitchen.id)},
    )

    assert payload["userErrors"] == []
    updated = payload["product"]
    assert (updated["name"], updated["slug"], updated["description"]) == (
        "Große Tasse",
        "mug",
        "Old",
    )
    assert updated["attributes"] == {"color": "red"}
    assert updated["category"]["name"] == "Kitchen"
    assert updated["images"] == [
        {"url": "https://img.example/mug/0.jpg", "alt": "Mug 0", "sortOrder": 0}
    ]


async def test_product_update_replaces_lists_and_clears_with_null(
    mutate, make_product, make_category, make_tag, count
):
    old_tag, new_tag = await make_tag("Old"), await make_tag("New")
    product = await make_product("Mug", category=await make_category("Kitchen"), tags=[old_tag])

    payload = await mutate(
        UPDATE,
        id=gid("Product", product.id),
        input={
            "categoryId": None,
            "tagIds": [gid("Tag", new_tag.id)],
            "images": [{"url": "https://img.example/new.jpg", "alt": "New"}],
            "attributes": None,
            "description": None,
        },
    )

    updated = payload["product"]
    assert updated["category"] is None
    assert updated["tags"] == [{"name": "New"}]
    assert updated["images"] == [
        {"url": "https://img.example/new.jpg", "alt": "New", "sortOrder": 0}
    ]
    assert (updated["attributes"], updated["description"]) == ({}, "")
    assert await count(ProductImage) == 1


async def test_product_update_slug_explicitly_or_regenerated(mutate, make_product):
    product = await make_product("Mug", slug="mug")
    await make_product("Taken", slug="taken")
    product_id = gid("Product", product.id)

    renamed = await mutate(UPDATE, id=product_id, input={"slug": "coffee-mug"})
    taken = await mutate(UPDATE, id=product_id, input={"slug": "taken"})
    regenerated = await mutate(UPDATE, id=product_id, input={"name": "Tea Cup", "slug": None})

    assert renamed["product"]["slug"] == "coffee-mug"
    assert errors_of(taken) == [(["slug"], "UNIQUE")]
    assert regenerated["product"]["slug"] == "tea-cup"


async def test_product_update_with_a_bad_field_changes_nothing(mutate, make_product, session):
    product = await make_product("Mug")

    payload = await mutate(
        UPDATE,
        id=gid("Product", product.id),
        input={"name": "New name", "images": [{"url": "ftp://nope"}]},
    )

    assert errors_of(payload) == [(["images"], "INVALID")]
    row = await session.get_one(Product, product.id)
    assert row.name == "Mug"
    images = (await session.scalars(select(ProductImage.url))).all()
    assert images == ["https://img.example/mug/0.jpg"]


async def test_product_update_refreshes_the_search_index(mutate, make_product, session):
    product = await make_product("Mug")

    await mutate(UPDATE, id=gid("Product", product.id), input={"name": "Ceramic cup"})

    text = await session.scalar(select(Product.search_text).where(Product.id == product.id))
    assert text == "ceramic cup"


async def test_product_update_name_cannot_be_null(mutate, make_product, session):
    product = await make_product("Mug")

    payload = await mutate(
        UPDATE, id=gid("Product", product.id), input={"name": None, "description": "New"}
    )

    assert payload["product"] is None
    assert errors_of(payload) == [(["name"], "REQUIRED")]
    row = await session.get_one(Product, product.id, populate_existing=True)
    assert (row.name, row.description) == ("Mug", "")


async def test_publish_sets_published_at_the_first_time_only(mutate, make_product):
    product = await make_product("Mug", published=False)
    product_id = gid("Product", product.id)

    first = await mutate(PUBLISH, id=product_id)
    hidden = await mutate(UNPUBLISH, id=product_id)
    again = await mutate(PUBLISH, id=product_id)

    assert first["product"]["isPublished"] is True
    assert first["product"]["publishedAt"] is not None
    assert hidden["product"] == {
        "isPublished": False,
        "publishedAt": first["product"]["publishedAt"],
    }
    assert again["product"] == {"isPublished": True, "publishedAt": first["product"]["publishedAt"]}


async def test_product_delete_removes_variants_images_and_stock(mutate, make_product, count):
    product = await make_product("Mug", variants=[(1000, 5), (1200, 3)])
    kept = await make_product("Kept")

    payload = await mutate(DELETE, id=gid("Product", product.id))

    assert payload == {"deletedId": gid("Product", product.id), "userErrors": []}
    assert await count(Product) == 1
    assert await count(Variant) == 1
    assert await count(Stock) == 1
    assert await count(ProductImage, ProductImage.product_id == kept.id) == 1

"""The read path's plain rows (app/services/catalog/rows.py): what the loaders hand out."""

from __future__ import annotations

import asyncio
from dataclasses import fields

import pytest

from app.loaders import Loaders
from app.services.catalog import rows
from models import catalog as models

PAIRS = [
    (rows.ProductRow, models.Product),
    (rows.VariantRow, models.Variant),
    (rows.ImageRow, models.ProductImage),
    (rows.CategoryRow, models.Category),
    (rows.TagRow, models.Tag),
]


@pytest.mark.parametrize(("row_type", "model"), PAIRS)
def test_a_plain_row_reads_like_its_entity(row_type, model):
    # A GraphQL type is built from either (a mutation returns the entity): same names.
    assert {f.name for f in fields(row_type)} <= set(model.__mapper__.columns.keys())


async def test_loaders_hand_out_plain_rows_with_decoded_attributes(
    session, make_category, make_tag, make_product
):
    shoes = await make_category("Shoes")
    red = await make_tag("Red")
    boot = await make_product(
        "Boot", category=shoes, tags=[red], attributes={"colour": ["red", "ünï"]}, images=2
    )
    loaders = Loaders.for_session(session, asyncio.Lock())

    product = await loaders.product.load(boot.id)
    by_slug = await loaders.product_by_slug.load("boot")
    variants = await loaders.variants_by_product.load(boot.id)
    images = await loaders.images_by_product.load(boot.id)
    tags = await loaders.tags_by_product.load(boot.id)
    category = await loaders.category.load(shoes.id)

    assert isinstance(product, rows.ProductRow) and by_slug == product
    assert product.attributes == {"colour": ["red", "ünï"]}
    assert (product.name, product.category_id, product.is_published) == ("Boot", shoes.id, True)
    assert [type(v) for v in variants] == [rows.VariantRow]
    assert variants[0].attributes == {} and variants[0].product_id == boot.id
    assert [(i.sort_order, i.alt) for i in images] == [(0, "Boot 0"), (1, "Boot 1")]
    assert tags == [rows.TagRow(id=red.id, name="Red", slug="red")]
    assert category == rows.CategoryRow(shoes.id, None, "Shoes", "shoes", "")
    assert await loaders.product.load(boot.id + 1000) is None

"""Decimal inputs an attacker picks (NaN, infinities, signed zero, huge exponents, endless
digits) are INVALID in price filters, `minRating` and staff money inputs, and answer fast."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from models.catalog import Variant
from tests.catalog import staff_fixtures
from tests.catalog.staff_fixtures import errors_of, gid

mutate, staff, staff_user = staff_fixtures.mutate, staff_fixtures.staff, staff_fixtures.staff_user

BAD_DECIMALS = [
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "-0",
    "-0.00",
    "-1",
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "0.1" + "0" * 60 + "1",
    "1" + "0" * 100,
    "1." + "0" * 60,
    "1000000000.01",
    "12.345",
]
PRODUCTS = """query($filter: ProductFilterInput) {
  products(first: 5, filter: $filter) { totalCount edges { node { name } } }
}"""
FACETS = "query($filter: ProductFilterInput) { productFacets(filter: $filter) { tags { count } } }"
VARIANT_CREATE = """mutation($input: VariantCreateInput!) {
  variantCreate(input: $input) { variant { sku } userErrors { field code } }
}"""
VARIANT_UPDATE = """mutation($id: ID!, $input: VariantUpdateInput!) {
  variantUpdate(id: $id, input: $input) { variant { sku } userErrors { field code } }
}"""


def _price(**bounds: str) -> dict[str, object]:
    return {"price": {"currency": "USD", **bounds}}


async def _query_error(client, query: str, **variables: object) -> dict[str, object]:
    started = time.monotonic()
    body = await client.raw(query, **variables)
    assert time.monotonic() - started < 2, "a decimal input must not take long"
    assert body["data"] is None
    (error,) = body["errors"]
    return error["extensions"]


@pytest.mark.parametrize("amount", BAD_DECIMALS)
async def test_price_filter_bounds_are_checked(gql, make_product, amount):
    await make_product("Mug")

    for bound in ("gte", "lte"):
        for query in (PRODUCTS, FACETS):
            extensions = await _query_error(gql, query, filter=_price(**{bound: amount}))
            assert extensions == {"code": "INVALID", "field": "price"}, (bound, query)


@pytest.mark.parametrize("rating", [*BAD_DECIMALS, "5.01", "4.555"])
async def test_min_rating_is_checked(gql, make_product, rating):
    await make_product("Mug", rating=(9, 2))

    for query in (PRODUCTS, FACETS):
        extensions = await _query_error(gql, query, filter={"minRating": rating})
        assert extensions == {"code": "INVALID", "field": "minRating"}


async def test_well_formed_decimals_still_filter(gql, make_product):
    await make_product("Mug", variants=[(1250, 1)], rating=(9, 2))
    await make_product("Cup", variants=[(3000, 1)], rating=(4, 1))

    def names(data: dict) -> list[str]:
        return sorted(edge["node"]["name"] for edge in data["products"]["edges"])

    exact = await gql.execute(PRODUCTS, filter=_price(gte="12.50", lte="1.25e1"))
    padded = await gql.execute(PRODUCTS, filter=_price(lte="12.5000000"))
    zero = await gql.execute(PRODUCTS, filter=_price(gte="0e-999999999", lte="30"))
    rating = await gql.execute(PRODUCTS, filter={"minRating": "4.50"})

    assert names(exact) == names(padded) == ["Mug"]
    assert names(zero) == ["Cup", "Mug"]
    assert names(rating) == ["Mug"]


@pytest.mark.parametrize("amount", BAD_DECIMALS)
async def test_money_inputs_of_staff_mutations_are_checked(
    mutate, make_product, session, count, amount
):
    tee = await make_product("Tee", variants=[(1000, 1)])
    (variant,) = (await session.scalars(select(Variant))).all()
    good = {"amount": "10", "currency": "USD"}
    bad = {"amount": amount, "currency": "USD"}
    new = {"productId": gid("Product", tee.id), "sku": "TEE-2"}

    price = await mutate(VARIANT_CREATE, input=new | {"price": bad})
    compare_at = await mutate(VARIANT_CREATE, input=new | {"price": good, "compareAtPrice": bad})
    updated = await mutate(VARIANT_UPDATE, id=gid("Variant", variant.id), input={"price": bad})

    assert errors_of(price) == [(["price"], "INVALID")]
    assert errors_of(compare_at) == [(["compareAtPrice"], "INVALID")]
    assert errors_of(updated) == [(["price"], "INVALID")]
    assert await count(Variant) == 1
    row = await session.get_one(Variant, variant.id, populate_existing=True)
    assert (row.price_amount, row.compare_at_amount) == (1000, None)


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1e999999999", "-0.0", '"NaN"'])
async def test_decimal_literals_in_the_document_are_checked(gql, make_product, literal):
    await make_product("Mug")
    price = f'{{currency: "USD", gte: {literal}}}'
    query = f"{{ products(filter: {{price: {price}}}) {{ totalCount }} }}"

    assert await _query_error(gql, query) == {"code": "INVALID", "field": "price"}

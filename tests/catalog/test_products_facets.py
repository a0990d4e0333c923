"""`productFacets`: counts per category, tag, attribute value and price bucket."""

from __future__ import annotations

from strawberry.relay import to_base64

FACETS = """
query($filter: ProductFilterInput) {
  productFacets(filter: $filter) {
    categories { category { slug } count }
    tags { tag { slug } count }
    attributes { name values { value count } }
    priceRanges { gte { amount } lt { amount } count }
  }
}"""


async def _catalog(make_product, make_category, make_tag):
    shoes, hats = await make_category("Shoes"), await make_category("Hats")
    sale = await make_tag("Sale")
    await make_product(
        "Red runner", category=shoes, tags=[sale], variants=[(5000, 1)], attributes={"color": "red"}
    )
    await make_product(
        "Blue runner", category=shoes, variants=[(5500, 1)], attributes={"color": "blue"}
    )
    await make_product(
        "Red cap",
        category=hats,
        tags=[sale],
        variants=[(900, 1)],
        attributes={"color": ["red", "white"]},
    )
    await make_product("Draft hat", category=hats, published=False, attributes={"color": "red"})
    return shoes, hats, sale


async def test_facets_count_the_visible_catalog(gql, make_product, make_category, make_tag):
    await _catalog(make_product, make_category, make_tag)

    facets = (await gql.execute(FACETS))["productFacets"]

    assert facets["categories"] == [
        {"category": {"slug": "shoes"}, "count": 2},
        {"category": {"slug": "hats"}, "count": 1},
    ]
    assert facets["tags"] == [{"tag": {"slug": "sale"}, "count": 2}]
    assert facets["attributes"] == [
        {
            "name": "color",
            "values": [
                {"value": "red", "count": 2},
                {"value": "blue", "count": 1},
                {"value": "white", "count": 1},
            ],
        }
    ]
    buckets = {
        (b["gte"]["amount"], (b["lt"] or {}).get("amount")): b["count"]
        for b in facets["priceRanges"]
    }
    assert buckets[("0.00", "10.00")] == 1
    assert buckets[("50.00", "100.00")] == 2
    assert buckets[("1000.00", None)] == 0
    assert sum(buckets.values()) == 3


async def test_each_dimension_ignores_its_own_filter(gql, make_product, make_category, make_tag):
    shoes, _, sale = await _catalog(make_product, make_category, make_tag)

    facets = (
        await gql.execute(
            FACETS,
            filter={
                "categories": [to_base64("Category", shoes.id)],
                "attributes": [{"name": "color", "values": ["red"]}],
            },
        )
    )["productFacets"]

    # Categories: colour red applies, category does not -> both categories show.
    assert facets["categories"] == [
        {"category": {"slug": "shoes"}, "count": 1},
        {"category": {"slug": "hats"}, "count": 1},
    ]
    # Colour values: category applies, colour does not -> blue still visible.
    assert facets["attributes"][0]["values"] == [
        {"value": "blue", "count": 1},
        {"value": "red", "count": 1},
    ]
    # Tags: both filters apply -> only the red runner.
    assert facets["tags"] == [{"tag": {"slug": "sale"}, "count": 1}]
    assert sale.slug == "sale"


async def test_facets_follow_the_search(gql, make_product, make_category, make_tag):
    await _catalog(make_product, make_category, make_tag)

    exact = (await gql.execute(FACETS, filter={"search": "runner"}))["productFacets"]
    typo = (await gql.execute(FACETS, filter={"search": "runer"}))["productFacets"]

    assert exact["categories"] == [{"category": {"slug": "shoes"}, "count": 2}]
    assert typo["categories"] == exact["categories"]

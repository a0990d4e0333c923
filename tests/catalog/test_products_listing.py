"""Storefront `products`: pages, filters, sorts, search, visibility, statement counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from strawberry.relay import to_base64

from app.auth.permissions import Role
from tests.sql_counter import count_statements

PRODUCTS = """
query($first: Int, $after: String, $last: Int, $before: String,
      $filter: ProductFilterInput, $sortBy: ProductSort) {
  products(first: $first, after: $after, last: $last, before: $before,
           filter: $filter, sortBy: $sortBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name slug } }
  }
}"""

PAGE = """
query($first: Int) {
  products(first: $first) {
    edges { node {
      id name slug ratingAverage
      category { name }
      tags { slug }
      images { url alt }
      variants { sku price { amount currency } compareAtPrice { amount } quantityAvailable }
    } }
  }
}"""


def names(data: dict) -> list[str]:
    return [edge["node"]["name"] for edge in data["products"]["edges"]]


async def test_newest_first_by_default_with_total_count(gql, make_product):
    now = datetime.now(UTC)
    for index in range(3):
        await make_product(f"Item {index}", created_at=now - timedelta(days=3 - index))

    data = await gql.execute(PRODUCTS, first=10)

    assert names(data) == ["Item 2", "Item 1", "Item 0"]
    assert data["products"]["totalCount"] == 3
    assert data["products"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("sort", ["NEWEST", "NAME", "PRICE_ASC", "PRICE_DESC", "RATING"])
async def test_paging_forward_and_backward_has_no_gaps_or_duplicates(gql, make_product, sort):
    now = datetime.now(UTC)
    for index in range(11):
        await make_product(
            f"P{index:02d}",
            variants=[(100 * (index % 4), 1)],  # ties on price: the id breaks them
            rating=(index % 3 * 2, 1 if index % 3 else 0),
            created_at=now - timedelta(minutes=index % 5),
        )

    forward, after = [], None
    while True:
        data = await gql.execute(PRODUCTS, first=4, after=after, sortBy=sort)
        forward += names(data)
        info = data["products"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    backward, before = [], None
    while True:
        data = await gql.execute(PRODUCTS, last=4, before=before, sortBy=sort)
        backward = names(data) + backward
        info = data["products"]["pageInfo"]
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]

    whole = names(await gql.execute(PRODUCTS, first=100, sortBy=sort))
    assert len(whole) == 11 and len(set(whole)) == 11
    assert forward == whole
    assert backward == whole


async def test_sorts_order_as_documented(gql, make_product):
    await make_product("Banana", variants=[(300, 1)], rating=(8, 2))
    await make_product("apple", variants=[(100, 1)], rating=(5, 1))
    await make_product("Cherry", variants=[(200, 1), (50, 1)], rating=(0, 0))

    async def order(sort):
        return names(await gql.execute(PRODUCTS, first=10, sortBy=sort))

    assert await order("PRICE_ASC") == ["Cherry", "apple", "Banana"]
    assert await order("PRICE_DESC") == ["Banana", "apple", "Cherry"]
    assert await order("RATING") == ["apple", "Banana", "Cherry"]
    assert await order("NAME") == ["Banana", "Cherry", "apple"]  # byte order of the collation C


async def test_unpublished_products_are_invisible_to_customers_but_not_staff(
    gql, make_product, make_user, sign_in
):
    await make_product("Live")
    hidden = await make_product("Draft", published=False)
    await make_user(email="cust@example.com")
    await make_user(email="staff@example.com", role=Role.STAFF)
    customer = gql.as_user((await sign_in("cust@example.com"))["accessToken"])
    staff = gql.as_user((await sign_in("staff@example.com"))["accessToken"])
    by_slug = "query($s: String) { product(slug: $s) { name } }"
    by_node = "query($id: ID!) { node(id: $id) { ... on Product { name } } }"
    node_id = to_base64("Product", hidden.id)

    assert names(await gql.execute(PRODUCTS, first=10)) == ["Live"]
    assert names(await customer.execute(PRODUCTS, first=10)) == ["Live"]
    assert sorted(names(await staff.execute(PRODUCTS, first=10))) == ["Draft", "Live"]
    assert await customer.execute(by_slug, s="draft") == {"product": None}
    assert await gql.execute(by_node, id=node_id) == {"node": None}
    assert await staff.execute(by_slug, s="draft") == {"product": {"name": "Draft"}}


async def test_product_by_slug_and_by_id(gql, make_product):
    product = await make_product("Mug", slug="mug")

    by_slug = await gql.execute('{ product(slug: "mug") { id name } }')
    by_id = await gql.execute(
        "query($id: ID!) { product(id: $id) { slug } }", id=to_base64("Product", product.id)
    )

    assert by_slug["product"] == {"id": to_base64("Product", product.id), "name": "Mug"}
    assert by_id["product"] == {"slug": "mug"}
    assert (await gql.execute('{ product(slug: "nope") { id } }'))["product"] is None


async def test_category_filter_includes_descendants(gql, make_product, make_category):
    clothing = await make_category("Clothing")
    shirts = await make_category("Shirts", parent=clothing)
    polos = await make_category("Polos", parent=shirts)
    food = await make_category("Food")
    await make_product("Polo", category=polos)
    await make_product("Tee", category=shirts)
    await make_product("Bread", category=food)

    data = await gql.execute(
        PRODUCTS,
        first=10,
        filter={"categories": [to_base64("Category", clothing.id)]},
        sortBy="NAME",
    )

    assert names(data) == ["Polo", "Tee"]


async def test_filters_combine(gql, make_product, make_tag, make_category):
    sale, new = await make_tag("Sale"), await make_tag("New")
    shoes = await make_category("Shoes")
    await make_product(
        "Red runner",
        category=shoes,
        tags=[sale],
        variants=[(5000, 3)],
        attributes={"color": "red"},
        rating=(9, 2),
    )
    await make_product(
        "Blue runner",
        category=shoes,
        tags=[sale],
        variants=[(5000, 0)],
        attributes={"color": "blue"},
        rating=(10, 2),
    )
    await make_product(
        "Red boot",
        category=shoes,
        tags=[new],
        variants=[(12000, 2)],
        attributes={"color": ["red", "brown"]},
        rating=(4, 2),
    )
    await make_product("Cheap red", tags=[sale], variants=[(500, 9)], attributes={"color": "red"})

    async def search(**flt):
        return names(await gql.execute(PRODUCTS, first=10, filter=flt, sortBy="NAME"))

    assert await search(tags=[to_base64("Tag", sale.id)]) == [
        "Blue runner",
        "Cheap red",
        "Red runner",
    ]
    assert await search(price={"currency": "USD", "gte": "40", "lte": "100.00"}) == [
        "Blue runner",
        "Red runner",
    ]
    assert await search(inStock=True, categories=[to_base64("Category", shoes.id)]) == [
        "Red boot",
        "Red runner",
    ]
    assert await search(attributes=[{"name": "color", "values": ["red"]}]) == [
        "Cheap red",
        "Red boot",
        "Red runner",
    ]
    assert await search(minRating="4") == ["Blue runner", "Red runner"]
    assert await search(
        tags=[to_base64("Tag", sale.id)],
        inStock=True,
        attributes=[{"name": "color", "values": ["red", "blue"]}],
        price={"currency": "USD", "gte": "10"},
    ) == ["Red runner"]


async def test_search_ranks_name_above_tags_above_description(gql, make_product, make_tag):
    wool = await make_tag("Wool")
    await make_product("Scarf", description="Soft wool from Scotland")
    await make_product("Wool jumper")
    await make_product("Hat", tags=[wool])

    data = await gql.execute(PRODUCTS, first=10, filter={"search": "wool"})

    assert names(data) == ["Wool jumper", "Hat", "Scarf"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jack", ["Rain jacket"]),  # prefix while typing
        ("creme", ["Crème brûlée"]),  # accents folded
        ("CRÈME", ["Crème brûlée"]),
        ("Fußball", ["Fußball Trikot"]),  # non-English words
        ("пирог", ["Пирог с вишней"]),
        ("shrit", ["Cotton shirt"]),  # typo: trigram fallback
        ("jakcet", ["Rain jacket"]),
    ],
)
async def test_search_forgives_what_shoppers_type(gql, make_product, query, expected):
    for name in ["Rain jacket", "Crème brûlée", "Fußball Trikot", "Пирог с вишней", "Cotton shirt"]:
        await make_product(name)

    data = await gql.execute(PRODUCTS, first=10, filter={"search": query})

    assert names(data) == expected


async def test_search_finds_nothing_for_gibberish(gql, make_product):
    await make_product("Cotton shirt")

    data = await gql.execute(PRODUCTS, first=10, filter={"search": "zzqqxx"})

    assert data["products"]["edges"] == [] and data["products"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"first": 101}, "INVALID", "first"),
        ({"first": -1}, "INVALID", "first"),
        ({"first": 5, "last": 5}, "INVALID", "first"),
        ({"after": "garbage"}, "INVALID", "after"),
        ({"before": "eyJ0IjoiTkFNRTplIiwiayI6WzFdfQ"}, "INVALID", "before"),
        ({"filter": {"search": "x" * 201}}, "TOO_LONG", "search"),
        ({"filter": {"price": {"currency": "XXX1", "gte": "1"}}}, "INVALID", "price"),
        ({"filter": {"price": {"currency": "USD", "gte": "-1"}}}, "INVALID", "price"),
        ({"filter": {"categories": [to_base64("Category", 1)] * 101}}, "INVALID", "categories"),
        ({"filter": {"minRating": "7"}}, "INVALID", "minRating"),
    ],
)
async def test_bad_arguments_are_errors_with_a_code(gql, make_product, variables, code, field):
    await make_product("Mug")

    body = await gql.raw(PRODUCTS, **variables)

    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": code, "field": field}


async def test_a_cursor_of_another_sort_is_refused(gql, make_product):
    for index in range(3):
        await make_product(f"P{index}")
    cursor = (await gql.execute(PRODUCTS, first=1, sortBy="NAME"))["products"]["pageInfo"][
        "endCursor"
    ]

    body = await gql.raw(PRODUCTS, first=1, after=cursor, sortBy="PRICE_ASC")

    assert body["errors"][0]["extensions"]["code"] == "INVALID"


async def test_category_tree_walks_both_ways(gql, make_category, make_product):
    top = await make_category("Clothing")
    mid = await make_category("Shirts", parent=top)
    leaf = await make_category("Polos", parent=mid)
    await make_product("Polo", category=leaf)

    data = await gql.execute(
        """{ category(slug: "shirts") { name parent { name } children { name }
             ancestors { name } products(first: 5) { edges { node { name } } } }
             categories(first: 10) { edges { node { name children { name } } } } }"""
    )

    assert data["category"] == {
        "name": "Shirts",
        "parent": {"name": "Clothing"},
        "children": [{"name": "Polos"}],
        "ancestors": [{"name": "Clothing"}],
        "products": {"edges": [{"node": {"name": "Polo"}}]},
    }
    assert data["categories"]["edges"] == [
        {"node": {"name": "Clothing", "children": [{"name": "Shirts"}]}}
    ]


async def test_a_page_of_5_and_of_50_run_the_same_statements(
    gql, make_product, make_category, make_tag, connection
):
    category = await make_category("Things")
    tag = await make_tag("Hot")
    for index in range(50):
        await make_product(
            f"Thing {index}", category=category, tags=[tag], variants=[(100, 1)] * 3, images=2
        )

    with count_statements(connection) as small:
        data = await gql.execute(PAGE, first=5)
    assert len(data["products"]["edges"]) == 5
    with count_statements(connection) as large:
        data = await gql.execute(PAGE, first=50)
    assert len(data["products"]["edges"]) == 50
    first = data["products"]["edges"][0]["node"]
    assert first["category"] == {"name": "Things"} and first["tags"] == [{"slug": "hot"}]
    assert first["variants"][0]["price"] == {"amount": "1.00", "currency": "USD"}
    assert first["variants"][0]["quantityAvailable"] == 1

    # products, categories, tags, images, variants, stock: one statement each.
    assert len(small) == len(large) == 6

"""The customer wishlist through the public API: add (idempotent), remove, list, visibility."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select
from strawberry.relay import to_base64

from app.auth.permissions import Role
from app.db import create_session_factory
from app.services.catalog.wishlist import add_to_wishlist
from models.accounts import User
from models.catalog import Product, Variant, WishlistItem
from tests.sql_counter import count_statements

ADD = """
mutation($product: ID!, $variant: ID) {
  wishlistAddProduct(productId: $product, variantId: $variant) {
    item { id product { id name } variant { id sku } }
    userErrors { field message code }
  }
}"""
REMOVE = """
mutation($item: ID, $product: ID, $variant: ID) {
  wishlistRemove(itemId: $item, productId: $product, variantId: $variant) {
    removedItemId userErrors { field code }
  }
}"""
LIST = """
query($first: Int, $after: String, $last: Int, $before: String) {
  myWishlist(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id product { name } variant { sku } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on WishlistItem { id product { name } } } }"


def gid(type_name: str, key: int) -> str:
    return to_base64(type_name, key)


async def variants_of(session_factory, product) -> list[Variant]:
    async with session_factory() as session:
        rows = await session.scalars(
            select(Variant).where(Variant.product_id == product.id).order_by(Variant.id)
        )
        return list(rows)


@pytest.fixture
def customer(make_user, sign_in, gql):
    async def make(n: int = 1, **fields):
        email = f"customer{n}@example.com"
        user = await make_user(email=email, **fields)
        client = gql.as_user((await sign_in(email))["accessToken"])
        client.user = user
        return client

    return make


async def add(client, product, variant=None) -> dict:
    data = await client.execute(
        ADD,
        product=gid("Product", product.id),
        variant=gid("Variant", variant.id) if variant else None,
    )
    assert data["wishlistAddProduct"]["userErrors"] == [], data
    return data["wishlistAddProduct"]["item"]


async def listed(client, **arguments) -> list[str]:
    data = await client.execute(LIST, **arguments)
    return [edge["node"]["product"]["name"] for edge in data["myWishlist"]["edges"]]


async def test_customer_saves_a_product_and_sees_it(customer, make_product):
    ann = await customer()
    mug = await make_product("Mug")

    item = await add(ann, mug)

    assert item == {
        "id": item["id"],
        "product": {"id": gid("Product", mug.id), "name": "Mug"},
        "variant": None,
    }
    assert await listed(ann) == ["Mug"]


async def test_saving_twice_returns_the_same_item(customer, make_product, count):
    ann = await customer()
    mug = await make_product("Mug")

    first = await add(ann, mug)
    second = await add(ann, mug)

    assert first == second
    assert await count(WishlistItem) == 1


async def test_a_variant_is_saved_apart_from_its_product(
    customer, make_product, count, session_factory
):
    ann = await customer()
    shirt = await make_product("Shirt", variants=[(1000, 1), (1200, 1)])
    small, large = await variants_of(session_factory, shirt)

    whole = await add(ann, shirt)
    chosen = await add(ann, shirt, small)
    again = await add(ann, shirt, small)
    other = await add(ann, shirt, large)

    assert chosen == again
    assert chosen["variant"] == {"id": gid("Variant", small.id), "sku": small.sku}
    assert len({whole["id"], chosen["id"], other["id"]}) == 3
    assert await count(WishlistItem) == 3


@pytest.mark.parametrize("case", ["other_products", "unknown", "wrong_type", "malformed"])
async def test_variant_must_belong_to_the_product(
    customer, make_product, count, session_factory, case
):
    ann = await customer()
    mug = await make_product("Mug")
    cup = await make_product("Cup")
    cups_variant = (await variants_of(session_factory, cup))[0]
    variant_id = {
        "other_products": gid("Variant", cups_variant.id),
        "unknown": gid("Variant", 987_654),
        "wrong_type": gid("Product", cups_variant.id),
        "malformed": "Variant:1",
    }[case]

    data = await ann.execute(ADD, product=gid("Product", mug.id), variant=variant_id)

    assert data["wishlistAddProduct"] == {
        "item": None,
        "userErrors": [
            {
                "field": ["variantId"],
                "code": "NOT_FOUND",
                "message": "This product has no such variant.",
            }
        ],
    }
    assert await count(WishlistItem) == 0


@pytest.mark.parametrize("case", ["unpublished", "unknown", "wrong_type"])
async def test_only_published_products_can_be_saved(customer, make_product, count, case):
    ann = await customer()
    secret = await make_product("Secret", published=False)
    product_id = {
        "unpublished": gid("Product", secret.id),
        "unknown": gid("Product", 987_654),
        "wrong_type": gid("User", ann.user.id),
    }[case]

    data = await ann.execute(ADD, product=product_id)

    assert data["wishlistAddProduct"]["userErrors"] == [
        {"field": ["productId"], "code": "NOT_FOUND", "message": "Product not found."}
    ]
    assert await count(WishlistItem) == 0


async def test_anonymous_has_no_wishlist(gql, make_product, count):
    mug = await make_product("Mug")

    assert await gql.error_codes(ADD, product=gid("Product", mug.id)) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(REMOVE, product=gid("Product", mug.id)) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(LIST) == ["UNAUTHENTICATED"]
    assert await count(WishlistItem) == 0


async def test_remove_by_item_by_product_and_by_variant(
    customer, make_product, count, session_factory
):
    ann = await customer()
    shirt = await make_product("Shirt", variants=[(1000, 1), (1200, 1)])
    small, _ = await variants_of(session_factory, shirt)
    mug = await make_product("Mug")
    by_item = await add(ann, mug)
    await add(ann, shirt)
    by_variant = await add(ann, shirt, small)

    removed = [
        await ann.execute(REMOVE, item=by_item["id"]),
        await ann.execute(
            REMOVE, product=gid("Product", shirt.id), variant=gid("Variant", small.id)
        ),
    ]

    assert [r["wishlistRemove"]["removedItemId"] for r in removed] == [
        by_item["id"],
        by_variant["id"],
    ]
    assert await listed(ann) == ["Shirt"]  # the whole-product item is still there
    await ann.execute(REMOVE, product=gid("Product", shirt.id))
    assert await count(WishlistItem) == 0


async def test_someone_elses_item_cannot_be_removed_or_seen(customer, make_product, count):
    ann = await customer()
    bob = await customer(2)
    mug = await make_product("Mug")
    anns = await add(ann, mug)

    removal = await bob.execute(REMOVE, item=anns["id"])
    by_product = await bob.execute(REMOVE, product=gid("Product", mug.id))

    assert removal["wishlistRemove"] == {
        "removedItemId": None,
        "userErrors": [{"field": ["itemId"], "code": "NOT_FOUND"}],
    }
    assert by_product["wishlistRemove"]["userErrors"] == [
        {"field": ["productId"], "code": "NOT_FOUND"}
    ]
    assert await bob.execute(NODE, id=anns["id"]) == {"node": None}
    assert await ann.execute(NODE, id=anns["id"]) == {
        "node": {"id": anns["id"], "product": {"name": "Mug"}}
    }
    assert await listed(bob) == []
    assert await count(WishlistItem) == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({}, "itemId"),
        ({"item": "ITEM", "product": "PRODUCT"}, "itemId"),
        ({"item": "ITEM", "variant": "VARIANT"}, "variantId"),
    ],
)
async def test_remove_needs_exactly_one_way_to_name_the_item(
    customer, make_product, session_factory, count, arguments, field
):
    ann = await customer()
    mug = await make_product("Mug")
    item = await add(ann, mug)
    variant = (await variants_of(session_factory, mug))[0]
    values = {
        "ITEM": item["id"],
        "PRODUCT": gid("Product", mug.id),
        "VARIANT": gid("Variant", variant.id),
    }

    data = await ann.execute(REMOVE, **{k: values[v] for k, v in arguments.items()})

    assert data["wishlistRemove"]["userErrors"] == [{"field": [field], "code": "INVALID"}]
    assert await count(WishlistItem) == 1


async def test_wrong_type_item_id_is_not_found(customer, make_product):
    ann = await customer()
    mug = await make_product("Mug")
    await add(ann, mug)

    data = await ann.execute(REMOVE, item=gid("Product", mug.id))

    assert data["wishlistRemove"]["userErrors"] == [{"field": ["itemId"], "code": "NOT_FOUND"}]


async def test_items_of_unpublished_products_drop_out_of_the_list(
    customer, make_product, session_factory
):
    ann = await customer()
    mug = await make_product("Mug")
    cup = await make_product("Cup")
    await add(ann, mug)
    cups = await add(ann, cup)
    async with session_factory() as session, session.begin():
        (await session.get_one(Product, cup.id)).is_published = False

    data = await ann.execute(LIST)

    assert [e["node"]["product"]["name"] for e in data["myWishlist"]["edges"]] == ["Mug"]
    assert data["myWishlist"]["totalCount"] == 1
    assert await ann.execute(NODE, id=cups["id"]) == {"node": None}
    removed = await ann.execute(REMOVE, item=cups["id"])  # still removable
    assert removed["wishlistRemove"]["userErrors"] == []


async def test_pages_walk_both_ways_without_gaps_or_duplicates(customer, make_product):
    ann = await customer()
    names = [f"P{i}" for i in range(7)]
    for name in names:
        await add(ann, await make_product(name))
    newest_first = names[::-1]

    forward: list[str] = []
    cursor = None
    while True:
        data = (await ann.execute(LIST, first=3, after=cursor))["myWishlist"]
        forward += [e["node"]["product"]["name"] for e in data["edges"]]
        assert data["pageInfo"]["hasPreviousPage"] == (cursor is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        cursor = data["pageInfo"]["endCursor"]
    backward: list[list[str]] = []
    cursor = None
    while True:
        data = (await ann.execute(LIST, last=3, before=cursor))["myWishlist"]
        backward.insert(0, [e["node"]["product"]["name"] for e in data["edges"]])
        if not data["pageInfo"]["hasPreviousPage"]:
            break
        cursor = data["pageInfo"]["startCursor"]

    assert forward == newest_first
    assert backward == [newest_first[0:1], newest_first[1:4], newest_first[4:7]]
    assert data["totalCount"] == 7


@pytest.mark.parametrize("arguments", [{"first": 101}, {"after": "nope"}, {"last": -1}])
async def test_bad_page_arguments_are_invalid(customer, arguments):
    ann = await customer()

    assert await ann.error_codes(LIST, **arguments) == ["INVALID"]


async def test_a_page_costs_the_same_statements_whatever_its_size(
    customer, make_product, connection
):
    ann = await customer()
    for i in range(10):
        await add(ann, await make_product(f"P{i}"))
    query = """query($n: Int) {
        myWishlist(first: $n) { edges { node { product { name } variant { sku } } } } }"""

    counts = []
    for size in (2, 10):
        with count_statements(connection) as statements:
            data = await ann.execute(query, n=size)
        assert len(data["myWishlist"]["edges"]) == size
        counts.append(len(statements))

    # The viewer (token check), the page, one batch of products.
    assert counts == [3, 3]


async def test_even_an_admin_lists_only_their_own_items(
    customer, make_user, sign_in, gql, make_product
):
    ann = await customer()
    await add(ann, await make_product("Mug"))
    await make_user(email="boss@example.com", role=Role.ADMIN)
    boss = gql.as_user((await sign_in("boss@example.com"))["accessToken"])

    assert await listed(boss) == []


async def test_concurrent_adds_of_one_product_make_one_item(engine):
    """The same product saved from several tabs at once: one row, the same item for all."""
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        product = Product(name="Race wish", slug="race-wish", is_published=True)
        user = User(email="race-wish@example.com")
        session.add_all([product, user])

    async def save() -> int:
        async with factory() as session, session.begin():
            item = await add_to_wishlist(session, user_id=user.id, product_id=product.id)
            return item.id

    try:
        ids = await asyncio.gather(*(save() for _ in range(8)))
        async with factory() as session:
            rows = (
                await session.scalars(select(WishlistItem).where(WishlistItem.user_id == user.id))
            ).all()
        assert len(rows) == 1
        assert set(ids) == {rows[0].id}
    finally:
        async with factory() as session, session.begin():
            await session.execute(delete(Product).where(Product.id == product.id))
            await session.execute(delete(User).where(User.id == user.id))

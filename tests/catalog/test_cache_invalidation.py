"""The public response cache drops what a change touched, and only that (through HTTP)."""

from __future__ import annotations

from typing import Any

from strawberry.relay import to_base64

from app.auth.permissions import Role

PRODUCT = "query($id: ID!) { product(id: $id) { name ratingCount } }"
BY_SLUG = "query($slug: String!) { product(slug: $slug) { name } }"
PRODUCTS = "{ products(first: 10) { edges { node { name } } } }"
SEARCH = '{ products(first: 10, filter: {search: "mug"}) { edges { node { name } } } }'
FACETS = "{ productFacets { attributes { name values { value count } } } }"
PRODUCT_UPDATE = """
mutation($id: ID!, $input: ProductUpdateInput!) {
  productUpdate(id: $id, input: $input) { userErrors { code } }
}"""


def gid(row: Any) -> str:
    return to_base64(type(row).__name__, row.id)


async def bearer(sign_in, email: str, role: Role | None = None, make_user=None) -> dict[str, str]:
    if make_user is not None:
        await make_user(email=email, role=role or Role.CUSTOMER)
    token = (await sign_in(email))["accessToken"]
    return {"Authorization": f"Bearer {token}"}


async def ask(http, query: str, **variables: Any):
    return await http.post("/graphql", json={"query": query, "variables": variables})


async def write(http, headers: dict[str, str], query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    data = response.json()["data"]
    (payload,) = data.values()
    assert payload["userErrors"] == [], data
    return payload


async def test_a_customers_wishlist_and_address_writes_keep_catalog_answers_cached(
    start_app, make_product, make_user, sign_in
):
    mug = await make_product("Mug")
    customer = await bearer(sign_in, "ann@example.com", make_user=make_user)
    async with start_app(public_cache_seconds=60) as (_, http):
        before = [await ask(http, PRODUCT, id=gid(mug)), await ask(http, PRODUCTS)]
        await write(
            http,
            customer,
            "mutation($p: ID!) { wishlistAddProduct(productId: $p) { userErrors { code } } }",
            p=gid(mug),
        )
        await write(
            http,
            customer,
            'mutation { addressCreate(input: {streetAddress1: "Main St 1", city: "Berlin", '
            'country: "DE"}) { userErrors { code } } }',
        )
        after = [await ask(http, PRODUCT, id=gid(mug)), await ask(http, PRODUCTS)]

    assert [response.headers["x-cache"] for response in before] == ["miss", "miss"]
    assert [response.headers["x-cache"] for response in after] == ["hit", "hit"]
    assert [r.json()["data"] for r in after] == [r.json()["data"] for r in before]
    assert after[0].json()["data"] == {"product": {"name": "Mug", "ratingCount": 0}}


async def test_a_product_change_drops_that_products_answers_and_keeps_anothers_warm(
    start_app, make_product, make_user, sign_in
):
    mug, cup = await make_product("Mug"), await make_product("Cup")
    staff = await bearer(sign_in, "staff@example.com", Role.STAFF, make_user)
    async with start_app(public_cache_seconds=60) as (_, http):
        for query, variables in [(PRODUCT, {"id": gid(mug)}), (PRODUCT, {"id": gid(cup)})]:
            await ask(http, query, **variables)
        await ask(http, BY_SLUG, slug="mug")
        await ask(http, BY_SLUG, slug="cup")
        await write(http, staff, PRODUCT_UPDATE, id=gid(mug), input={"name": "Big mug"})
        mug_by_id = await ask(http, PRODUCT, id=gid(mug))
        mug_by_slug = await ask(http, BY_SLUG, slug="mug")
        cup_by_id = await ask(http, PRODUCT, id=gid(cup))
        cup_by_slug = await ask(http, BY_SLUG, slug="cup")

    assert mug_by_id.headers["x-cache"] == mug_by_slug.headers["x-cache"] == "miss"
    assert mug_by_id.json()["data"]["product"]["name"] == "Big mug"
    assert mug_by_slug.json()["data"] == {"product": {"name": "Big mug"}}
    assert cup_by_id.headers["x-cache"] == cup_by_slug.headers["x-cache"] == "hit"
    assert cup_by_slug.json()["data"] == {"product": {"name": "Cup"}}


async def test_a_product_change_drops_cached_listings_searches_and_facets(
    start_app, make_product, make_user, sign_in
):
    await make_product("Mug")
    cup = await make_product("Cup", attributes={"color": "red"})
    staff = await bearer(sign_in, "staff@example.com", Role.STAFF, make_user)
    queries = [PRODUCTS, SEARCH, FACETS]
    async with start_app(public_cache_seconds=60) as (_, http):
        for query in queries:
            await ask(http, query)
        warm = [await ask(http, query) for query in queries]
        await write(
            http,
            staff,
            PRODUCT_UPDATE,
            id=gid(cup),
            input={"name": "Mug cup", "attributes": {"color": "blue"}},
        )
        after = [await ask(http, query) for query in queries]

    assert [response.headers["x-cache"] for response in warm] == ["hit"] * 3
    assert [response.headers["x-cache"] for response in after] == ["miss"] * 3
    listing, search, facets = (response.json()["data"] for response in after)
    assert [e["node"]["name"] for e in listing["products"]["edges"]] == ["Mug cup", "Mug"]
    assert {e["node"]["name"] for e in search["products"]["edges"]} == {"Mug cup", "Mug"}
    assert facets["productFacets"]["attributes"] == [
        {"name": "color", "values": [{"value": "blue", "count": 1}]}
    ]


async def test_a_refused_change_drops_nothing_even_when_a_later_mutation_commits(
    start_app, make_product, make_user, sign_in
):
    """The marks of a rolled-back mutation must not ride on the next one of the document."""
    mug = await make_product("Mug")
    await make_product("Cup")
    staff = await bearer(sign_in, "staff@example.com", Role.STAFF, make_user)
    session = await sign_in("staff@example.com")
    both = """
    mutation($id: ID!, $refresh: String!) {
      productUpdate(id: $id, input: {slug: "cup"}) { userErrors { code } }
      tokenRevoke(refreshToken: $refresh) { revoked }
    }"""
    variables = {"id": gid(mug), "refresh": session["refreshToken"]}
    async with start_app(public_cache_seconds=60) as (_, http):
        await ask(http, PRODUCT, id=gid(mug))
        response = await http.post(
            "/graphql", json={"query": both, "variables": variables}, headers=staff
        )
        after = await ask(http, PRODUCT, id=gid(mug))

    assert response.json()["data"] == {
        "productUpdate": {"userErrors": [{"code": "UNIQUE"}]},
        "tokenRevoke": {"revoked": True},
    }
    assert after.headers["x-cache"] == "hit"


async def test_a_customers_review_drops_that_products_answer(
    start_app, make_product, make_user, sign_in
):
    mug, cup = await make_product("Mug"), await make_product("Cup")
    customer = await bearer(sign_in, "ann@example.com", make_user=make_user)
    reviews = "query($id: ID!) { productReviews(productId: $id, first: 5) { totalCount } }"
    async with start_app(public_cache_seconds=60) as (_, http):
        await ask(http, PRODUCT, id=gid(mug))
        await ask(http, reviews, id=gid(mug))
        await ask(http, PRODUCT, id=gid(cup))
        await write(
            http,
            customer,
            "mutation($p: ID!) { reviewCreate(input: {productId: $p, rating: 4}) "
            "{ userErrors { code } } }",
            p=gid(mug),
        )
        rated, listed = await ask(http, PRODUCT, id=gid(mug)), await ask(http, reviews, id=gid(mug))
        other = await ask(http, PRODUCT, id=gid(cup))

    assert rated.headers["x-cache"] == listed.headers["x-cache"] == "miss"
    assert rated.json()["data"] == {"product": {"name": "Mug", "ratingCount": 1}}
    assert listed.json()["data"] == {"productReviews": {"totalCount": 1}}
    assert other.headers["x-cache"] == "hit"


async def test_renaming_a_category_or_a_tag_drops_the_products_that_show_it(
    start_app, make_product, make_category, make_tag, make_user, sign_in
):
    kitchen, sale = await make_category("Kitchen"), await make_tag("Sale")
    mug = await make_product("Mug", category=kitchen, tags=[sale])
    staff = await bearer(sign_in, "staff@example.com", Role.STAFF, make_user)
    shown = "query($id: ID!) { product(id: $id) { category { name } tags { name } } }"
    rename = "mutation($id: ID!, $name: String!) { %s(id: $id, input: {name: $name}) "
    rename += "{ userErrors { code } } }"
    async with start_app(public_cache_seconds=60) as (_, http):
        await ask(http, shown, id=gid(mug))
        await write(http, staff, rename % "categoryUpdate", id=gid(kitchen), name="Cooking")
        after_category = await ask(http, shown, id=gid(mug))
        await write(http, staff, rename % "tagUpdate", id=gid(sale), name="Deal")
        after_tag = await ask(http, shown, id=gid(mug))

    assert after_category.headers["x-cache"] == after_tag.headers["x-cache"] == "miss"
    assert after_category.json()["data"]["product"] == {
        "category": {"name": "Cooking"},
        "tags": [{"name": "Sale"}],
    }
    assert after_tag.json()["data"]["product"]["tags"] == [{"name": "Deal"}]


async def test_an_answer_with_untagged_reads_is_dropped_by_any_public_change(
    start_app, make_product, make_tag, make_user, sign_in
):
    """`tags` pages through a statement nobody tagged, and `me` reads nothing: neither
    answer can say what would change it, so the review of an unrelated product drops both,
    even the one that also read a product it did not touch."""
    mug, cup = await make_product("Mug"), await make_product("Cup")
    await make_tag("Sale")
    customer = await bearer(sign_in, "ann@example.com", make_user=make_user)
    with_tags = "query($id: ID!) { product(id: $id) { name } tags(first: 5) { totalCount } }"
    nothing_read = "{ me { email } }"
    async with start_app(public_cache_seconds=60) as (_, http):
        await ask(http, with_tags, id=gid(cup))
        await ask(http, nothing_read)
        await ask(http, PRODUCT, id=gid(cup))
        await write(
            http,
            customer,
            "mutation($p: ID!) { reviewCreate(input: {productId: $p, rating: 5}) "
            "{ userErrors { code } } }",
            p=gid(mug),
        )
        answers = [
            await ask(http, with_tags, id=gid(cup)),
            await ask(http, nothing_read),
            await ask(http, PRODUCT, id=gid(cup)),  # read only `product:<cup>`: still warm
        ]

    assert [response.headers["x-cache"] for response in answers] == ["miss", "miss", "hit"]
    assert answers[0].json()["data"] == {"product": {"name": "Cup"}, "tags": {"totalCount": 1}}
    assert answers[1].json()["data"] == {"me": None}


def test_invalidation_drops_entries_by_tag_and_every_entry_of_unknown_reads() -> None:
    from app.response_cache import MAX_TAGS, CachedAnswer, ResponseCache

    cache = ResponseCache(ttl_seconds=60, max_entries=100, max_bytes=1_000_000)
    answer = CachedAnswer(b"{}", 1)
    cache.put(b"mug", answer, frozenset({"product:1", "category:3"}))
    cache.put(b"cup", answer, frozenset({"product:2"}))
    cache.put(b"unknown", answer, None)
    cache.put(b"many", answer, frozenset(f"product:{i}" for i in range(10, 11 + MAX_TAGS)))

    assert cache.invalidate({"category:3"}) == 3  # mug, and the two whose reads are unknown
    assert [cache.get(key) is not None for key in (b"mug", b"cup", b"unknown", b"many")] == [
        False,
        True,
        False,
        False,
    ]
    assert cache.invalidate(set()) == 0 and cache.get(b"cup") is not None
    cache.invalidate({"product:2"})
    assert cache.bytes == 0 and cache._by_tag == {} and cache._untagged == set()


async def test_an_answer_read_before_a_change_committed_is_not_kept_nor_shared() -> None:
    from app.response_cache import CachedAnswer, ResponseCache

    cache = ResponseCache(ttl_seconds=60, max_entries=100, max_bytes=1_000_000)
    stale, fresh = cache.lead(b"mug"), cache.lead(b"cup")
    waiter = cache.waiter(b"mug")
    cache.invalidate({"product:1", "listing"})  # committed while both were executing
    cache.finish(b"mug", stale, CachedAnswer(b"old", 1), frozenset({"product:1"}))
    cache.finish(b"cup", fresh, CachedAnswer(b"cup", 1), frozenset({"product:2"}))

    assert waiter is not None and waiter.result() is None  # the waiter executes it again
    assert cache.get(b"mug") is None
    assert cache.get(b"cup") == CachedAnswer(b"cup", 1)

"""`product { reviews }` and `me { wishlist }`: the nested forms of those lists."""

from __future__ import annotations

from strawberry.relay import to_base64

REVIEW = """mutation($input: ReviewCreateInput!) {
  reviewCreate(input: $input) { userErrors { code } }
}"""
ADD = """mutation($p: ID!) { wishlistAddProduct(productId: $p) { userErrors { code } } }"""


async def test_product_reviews_and_my_wishlist_are_nested_fields(
    gql, make_user, sign_in, make_product
):
    mug = await make_product("Mug")
    await make_user(email="ann@example.com", first_name="Ann", last_name="Smith")
    await make_user(email="bob@example.com")
    ann = gql.as_user((await sign_in("ann@example.com"))["accessToken"])
    bob = gql.as_user((await sign_in("bob@example.com"))["accessToken"])
    product_id = to_base64("Product", mug.id)

    assert (
        await ann.execute(REVIEW, input={"productId": product_id, "rating": 4, "title": "Nice"})
    )["reviewCreate"]["userErrors"] == []
    assert (await ann.execute(ADD, p=product_id))["wishlistAddProduct"]["userErrors"] == []

    reviews = await gql.execute(
        '{ product(slug: "mug") { ratingAverage reviews(first: 5) '
        "{ totalCount edges { node { rating title authorName } } } } }"
    )
    mine = await ann.execute(
        "{ me { wishlist(first: 5) { edges { node { product { name } } } } } }"
    )
    theirs = await bob.execute("{ me { wishlist(first: 5) { edges { cursor } } } }")

    assert reviews["product"] == {
        "ratingAverage": "4.00",
        "reviews": {
            "totalCount": 1,
            "edges": [{"node": {"rating": 4, "title": "Nice", "authorName": "Ann S."}}],
        },
    }
    assert mine["me"]["wishlist"]["edges"] == [{"node": {"product": {"name": "Mug"}}}]
    assert theirs["me"]["wishlist"]["edges"] == []

"""Product reviews through the public API: create, edit, delete, moderate, list, rating totals."""

from __future__ import annotations

import asyncio
from unittest.mock import ANY

import pytest
from sqlalchemy import delete, func, select
from strawberry.relay import from_base64, to_base64

from app.auth.permissions import Role
from app.db import create_session_factory
from app.errors import UserError
from app.services.catalog.reviews import (
    ReviewChanges,
    ReviewData,
    create_review,
    delete_review,
    set_review_hidden,
    update_review,
)
from app.services.pagination import encode_cursor
from models.accounts import User
from models.catalog import Product, Review
from tests.sql_counter import count_statements

CREATE = """
mutation($input: ReviewCreateInput!) {
  reviewCreate(input: $input) {
    review { id rating title body isHidden verifiedPurchase authorName
             product { id ratingCount ratingAverage } }
    userErrors { field message code }
  }
}"""
UPDATE = """
mutation($id: ID!, $input: ReviewUpdateInput!) {
  reviewUpdate(id: $id, input: $input) {
    review { id rating title body product { ratingCount ratingAverage } }
    userErrors { field code }
  }
}"""
DELETE = """
mutation($id: ID!) { reviewDelete(id: $id) { deletedReviewId userErrors { field code } } }"""
HIDE = """
mutation($id: ID!) {
  reviewHide(id: $id) { review { isHidden product { ratingCount ratingAverage } }
                        userErrors { field code } }
}"""
UNHIDE = """
mutation($id: ID!) {
  reviewUnhide(id: $id) { review { isHidden product { ratingCount ratingAverage } }
                          userErrors { field code } }
}"""
LIST = """
query($product: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  productReviews(productId: $product, first: $first, after: $after, last: $last,
                 before: $before) {
    edges { cursor node { id rating isHidden authorName } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { ... on Review { id rating isHidden } } }"


def pid(product: Product) -> str:
    return to_base64("Product", product.id)


@pytest.fixture
def customer(make_user, sign_in, gql):
    """A signed-in customer's client; `n` picks a distinct account."""

    async def make(n: int = 1, first_name: str = "Ann", last_name: str = "Smith", **fields):
        email = f"customer{n}@example.com"
        user = await make_user(email=email, first_name=first_name, last_name=last_name, **fields)
        client = gql.as_user((await sign_in(email))["accessToken"])
        client.user = user
        return client

    return make


@pytest.fixture
async def staff(make_user, sign_in, gql):
    await make_user(email="staff@example.com", role=Role.STAFF)
    return gql.as_user((await sign_in("staff@example.com"))["accessToken"])


async def review(client, product, rating=4, **fields) -> str:
    variables = {"productId": pid(product), "rating": rating} | fields
    data = await client.execute(CREATE, input=variables)
    assert data["reviewCreate"]["userErrors"] == [], data
    return data["reviewCreate"]["review"]["id"]


async def totals(session_factory, product) -> tuple[int, int]:
    async with session_factory() as session:
        row = await session.get_one(Product, product.id)
        return row.rating_sum, row.rating_count


# --- create ---------------------------------------------------------------------------------


async def test_customer_reviews_a_product(customer, make_product, count):
    ann = await customer()
    mug = await make_product("Mug")

    data = await ann.execute(
        CREATE, input={"productId": pid(mug), "rating": 4, "title": " Nice ", "body": "Good mug."}
    )

    assert data["reviewCreate"] == {
        "review": {
            "id": ANY,
            "rating": 4,
            "title": "Nice",
            "body": "Good mug.",
            "isHidden": False,
            "verifiedPurchase": False,
            "authorName": "Ann S.",
            "product": {"id": pid(mug), "ratingCount": 1, "ratingAverage": "4.00"},
        },
        "userErrors": [],
    }
    assert await count(Review) == 1


async def test_anonymous_cannot_review(gql, make_product, count):
    mug = await make_product("Mug")

    body = await gql.raw(CREATE, input={"productId": pid(mug), "rating": 4})

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert await count(Review) == 0


async def test_second_review_of_a_product_is_refused(customer, make_product, session_factory):
    ann = await customer()
    mug = await make_product("Mug")
    await review(ann, mug, rating=5)

    data = await ann.execute(CREATE, input={"productId": pid(mug), "rating": 1})

    assert data["reviewCreate"] == {
        "review": None,
        "userErrors": [{"field": ["productId"], "code": "ALREADY_REVIEWED", "message": ANY}],
    }
    assert await totals(session_factory, mug) == (5, 1)


@pytest.mark.parametrize("target", ["unpublished", "unknown", "wrong_type", "bad_key"])
async def test_only_published_products_can_be_reviewed(customer, make_product, count, target):
    ann = await customer()
    hidden = await make_product("Secret", published=False)
    product_id = {
        "unpublished": pid(hidden),
        "unknown": to_base64("Product", 987_654),
        "wrong_type": to_base64("User", ann.user.id),
        "bad_key": to_base64("Product", "abc"),
    }[target]

    data = await ann.execute(CREATE, input={"productId": product_id, "rating": 3})

    assert data["reviewCreate"]["userErrors"] == [
        {"field": ["productId"], "code": "NOT_FOUND", "message": "Product not found."}
    ]
    assert await count(Review) == 0


@pytest.mark.parametrize("rating", [0, 6, -1, 2**31 - 1])
async def test_rating_out_of_range_is_a_user_error(customer, make_product, count, rating):
    ann = await customer()
    mug = await make_product("Mug")

    data = await ann.execute(CREATE, input={"productId": pid(mug), "rating": rating})

    assert data["reviewCreate"]["userErrors"] == [
        {"field": ["rating"], "code": "INVALID", "message": "Rating must be from 1 to 5."}
    ]
    assert await count(Review) == 0


@pytest.mark.parametrize("rating", ["5", 4.5, None, 2**31, True])
async def test_rating_of_the_wrong_type_is_a_graphql_error(customer, make_product, count, rating):
    ann = await customer()
    mug = await make_product("Mug")

    body = await ann.raw(CREATE, input={"productId": pid(mug), "rating": rating})

    # Refused by GraphQL's own coercion, before any resolver runs.
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "$input" in error["message"] and "rating" in error["message"]
    assert await count(Review) == 0


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": "t" * 201}, [(["title"], "TOO_LONG")]),
        ({"body": "b" * 10_001}, [(["body"], "TOO_LONG")]),
        ({"body": "x" * 900_000}, [(["body"], "TOO_LONG")]),
        ({"title": "two\nlines"}, [(["title"], "INVALID")]),
        ({"body": "escape\u001b[0m"}, [(["body"], "INVALID")]),
        ({"body": "bell\u0007"}, [(["body"], "INVALID")]),
        ({"rating": 9, "title": "t" * 300, "body": "\u0008"}, None),
    ],
)
async def test_bad_text_is_refused_without_writing(customer, make_product, count, fields, expected):
    ann = await customer()
    mug = await make_product("Mug")

    data = await ann.execute(CREATE, input={"productId": pid(mug), "rating": 4} | fields)

    errors = [(e["field"], e["code"]) for e in data["reviewCreate"]["userErrors"]]
    assert errors == (
        expected or [(["rating"], "INVALID"), (["title"], "TOO_LONG"), (["body"], "INVALID")]
    )
    assert await count(Review) == 0


async def test_unicode_text_at_the_limits_is_kept(customer, make_product):
    ann = await customer(first_name="Zoë", last_name="Ñandú")
    mug = await make_product("Mug")
    prefix = "Très bien 👍🏽 非常好 "
    title = prefix + "é" * (200 - len(prefix))
    head = "Line one\n\tZWJ family 👨\u200d👩\u200d👧 stays\r\n"
    body = head + "字" * (10_000 - len(head) + 1)  # 10,000 once CRLF becomes LF
    decomposed = "Cafe\u0301"  # NFC-normalised to "Café"

    data = await ann.execute(
        CREATE, input={"productId": pid(mug), "rating": 5, "title": title, "body": body}
    )
    other = await (await customer(2)).execute(
        CREATE, input={"productId": pid(mug), "rating": 5, "title": decomposed}
    )

    created = data["reviewCreate"]["review"]
    assert len(title) == 200 and len(body.replace("\r\n", "\n")) == 10_000
    assert created["title"] == title
    assert created["body"] == body.replace("\r\n", "\n")
    assert created["authorName"] == "Zoë Ñ."
    assert other["reviewCreate"]["review"]["title"] == "Café"


async def test_author_name_never_shows_the_email(customer, make_product):
    nameless = await customer(first_name="", last_name="")
    only_first = await customer(2, first_name="Bo", last_name="")
    mug = await make_product("Mug")
    await review(nameless, mug)
    await review(only_first, mug)

    data = await nameless.execute(LIST, product=pid(mug))

    names = [edge["node"]["authorName"] for edge in data["productReviews"]["edges"]]
    assert names == ["Bo", "Anonymous"]


# --- update and delete ----------------------------------------------------------------------


async def test_author_updates_only_what_is_given(customer, make_product, session_factory):
    ann = await customer()
    mug = await make_product("Mug")
    review_id = await review(ann, mug, rating=4, title="Nice", body="Good mug.")

    data = await ann.execute(UPDATE, id=review_id, input={"rating": 2})

    assert data["reviewUpdate"] == {
        "review": {
            "id": review_id,
            "rating": 2,
            "title": "Nice",
            "body": "Good mug.",
            "product": {"ratingCount": 1, "ratingAverage": "2.00"},
        },
        "userErrors": [],
    }
    assert await totals(session_factory, mug) == (2, 1)


@pytest.mark.parametrize("which", ["someone_elses", "unknown", "wrong_type"])
async def test_update_and_delete_of_anything_but_your_own_review_is_not_found(
    customer, make_product, session_factory, which
):
    ann = await customer()
    bob = await customer(2, first_name="Bob")
    mug = await make_product("Mug")
    anns = await review(ann, mug, rating=4, title="Mine")
    review_id = {
        "someone_elses": anns,
        "unknown": to_base64("Review", 987_654),
        "wrong_type": pid(mug),
    }[which]

    updated = await bob.execute(UPDATE, id=review_id, input={"rating": 1, "title": "Hacked"})
    deleted = await bob.execute(DELETE, id=review_id)

    not_found = [{"field": ["id"], "code": "NOT_FOUND"}]
    assert updated["reviewUpdate"] == {"review": None, "userErrors": not_found}
    assert deleted["reviewDelete"] == {"deletedReviewId": None, "userErrors": not_found}
    still = await ann.execute(NODE, id=anns)
    assert still["node"] == {"id": anns, "rating": 4, "isHidden": False}
    assert await totals(session_factory, mug) == (4, 1)


async def test_update_validates_like_create(customer, make_product, session_factory):
    ann = await customer()
    mug = await make_product("Mug")
    review_id = await review(ann, mug, rating=4)

    bad = await ann.execute(UPDATE, id=review_id, input={"rating": 0, "body": "ok"})
    null = await ann.execute(UPDATE, id=review_id, input={"rating": None, "title": "Changed"})

    assert bad["reviewUpdate"]["userErrors"] == [{"field": ["rating"], "code": "INVALID"}]
    assert null["reviewUpdate"]["userErrors"] == [{"field": ["rating"], "code": "REQUIRED"}]
    assert (await ann.execute(NODE, id=review_id))["node"]["rating"] == 4
    assert await totals(session_factory, mug) == (4, 1)


async def test_author_deletes_and_can_review_again(customer, make_product, count, session_factory):
    ann = await customer()
    mug = await make_product("Mug", rating=(9, 2))  # two older ratings
    review_id = await review(ann, mug, rating=3)

    data = await ann.execute(DELETE, id=review_id)

    assert data["reviewDelete"] == {"deletedReviewId": review_id, "userErrors": []}
    assert await count(Review) == 0
    assert await totals(session_factory, mug) == (9, 2)
    await review(ann, mug, rating=5)
    assert await totals(session_factory, mug) == (14, 3)


DELETE_BOTH_IDS = """
mutation($id: ID!) {
  reviewDelete(id: $id) { deletedId deletedReviewId userErrors { field code } }
}"""
DELETED_REVIEW_ID_FIELD = """
{ __type(name: "ReviewDeletePayload") {
    fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }"""


async def test_delete_answers_deleted_id_and_the_deprecated_deleted_review_id(
    gql, customer, make_product, count
):
    ann = await customer()
    mug = await make_product("Mug")
    review_id = await review(ann, mug, rating=3)

    data = await ann.execute(DELETE_BOTH_IDS, id=review_id)
    again = await ann.execute(DELETE_BOTH_IDS, id=review_id)
    fields = (await gql.execute(DELETED_REVIEW_ID_FIELD))["__type"]["fields"]

    assert data["reviewDelete"] == {
        "deletedId": review_id,
        "deletedReviewId": review_id,
        "userErrors": [],
    }
    assert again["reviewDelete"] == {
        "deletedId": None,
        "deletedReviewId": None,
        "userErrors": [{"field": ["id"], "code": "NOT_FOUND"}],
    }
    assert await count(Review) == 0
    assert {field["name"]: field for field in fields}["deletedReviewId"] == {
        "name": "deletedReviewId",
        "isDeprecated": True,
        "deprecationReason": "Use deletedId.",
    }
    assert not {field["name"]: field for field in fields}["deletedId"]["isDeprecated"]


async def test_anonymous_cannot_update_or_delete(gql, customer, make_product):
    ann = await customer()
    review_id = await review(ann, await make_product("Mug"))

    for query, variables in [(UPDATE, {"input": {"rating": 1}}), (DELETE, {})]:
        assert await gql.error_codes(query, id=review_id, **variables) == ["UNAUTHENTICATED"]


# --- moderation -----------------------------------------------------------------------------


async def test_customers_cannot_hide_reviews(gql, customer, make_product, session_factory):
    ann = await customer()
    mug = await make_product("Mug")
    review_id = await review(ann, mug, rating=2)

    assert await ann.error_codes(HIDE, id=review_id) == ["FORBIDDEN"]
    assert await gql.error_codes(HIDE, id=review_id) == ["UNAUTHENTICATED"]
    assert await ann.error_codes(UNHIDE, id=review_id) == ["FORBIDDEN"]
    assert await totals(session_factory, mug) == (2, 1)


async def test_hidden_reviews_leave_the_average_and_the_list(
    gql, customer, staff, make_product, session_factory
):
    mug = await make_product("Mug")
    ids = []
    for n, rating in enumerate([5, 4, 1], start=1):
        ids.append(await review(await customer(n), mug, rating=rating))
    ann = await customer(9)

    hidden = await staff.execute(HIDE, id=ids[2])
    again = await staff.execute(HIDE, id=ids[2])

    assert hidden["reviewHide"] == {
        "review": {"isHidden": True, "product": {"ratingCount": 2, "ratingAverage": "4.50"}},
        "userErrors": [],
    }
    assert again["reviewHide"] == hidden["reviewHide"]  # idempotent: not subtracted twice
    for client in (gql, ann):
        listed = await client.execute(LIST, product=pid(mug))
        assert [e["node"]["id"] for e in listed["productReviews"]["edges"]] == ids[1::-1]
        assert listed["productReviews"]["totalCount"] == 2
        assert (await client.execute(NODE, id=ids[2])) == {"node": None}
    as_staff = await staff.execute(LIST, product=pid(mug))
    assert [e["node"]["isHidden"] for e in as_staff["productReviews"]["edges"]] == [
        True,
        False,
        False,
    ]

    shown = await staff.execute(UNHIDE, id=ids[2])

    assert shown["reviewUnhide"]["review"] == {
        "isHidden": False,
        "product": {"ratingCount": 3, "ratingAverage": "3.33"},
    }
    assert await totals(session_factory, mug) == (10, 3)


async def test_editing_or_deleting_a_hidden_review_leaves_the_totals(
    customer, staff, make_product, session_factory
):
    ann = await customer()
    mug = await make_product("Mug")
    review_id = await review(ann, mug, rating=1)
    await staff.execute(HIDE, id=review_id)

    updated = await ann.execute(UPDATE, id=review_id, input={"rating": 5})
    mine = await ann.execute(NODE, id=review_id)  # the author still sees it

    assert updated["reviewUpdate"]["review"]["product"] == {
        "ratingCount": 0,
        "ratingAverage": None,
    }
    assert mine["node"] == {"id": review_id, "rating": 5, "isHidden": True}
    await ann.execute(DELETE, id=review_id)
    assert await totals(session_factory, mug) == (0, 0)


async def test_hiding_an_unknown_review_is_not_found(staff, make_product):
    for review_id in (to_base64("Review", 987_654), to_base64("Product", 1)):
        data = await staff.execute(HIDE, id=review_id)
        assert data["reviewHide"] == {
            "review": None,
            "userErrors": [{"field": ["id"], "code": "NOT_FOUND"}],
        }


# --- listing --------------------------------------------------------------------------------


async def _reviews_of(product, customer, n: int) -> list[str]:
    """n reviews by n customers; their IDs newest first."""
    ids = [await review(await customer(i), product, rating=1 + i % 5) for i in range(n)]
    return ids[::-1]


async def _walk(client, product, *, size: int, backward: bool) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        if backward:
            data = await client.execute(LIST, product=pid(product), last=size, before=cursor)
        else:
            data = await client.execute(LIST, product=pid(product), first=size, after=cursor)
        connection = data["productReviews"]
        info = connection["pageInfo"]
        page = [edge["node"]["id"] for edge in connection["edges"]]
        pages.append(page)
        assert [edge["cursor"] for edge in connection["edges"]][:1] == (
            [info["startCursor"]] if page else []
        )
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        came_from = info["hasNextPage"] if backward else info["hasPreviousPage"]
        assert came_from == (cursor is not None)
        if not more:
            return pages
        cursor = info["startCursor"] if backward else info["endCursor"]


async def test_pages_walk_both_ways_without_gaps_or_duplicates(gql, customer, make_product):
    mug = await make_product("Mug")
    newest_first = await _reviews_of(mug, customer, 7)

    forward = await _walk(gql, mug, size=3, backward=False)
    backward = await _walk(gql, mug, size=3, backward=True)

    assert forward == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]
    assert backward == [newest_first[4:7], newest_first[1:4], newest_first[0:1]]


async def test_a_page_then_back_again(gql, customer, make_product):
    mug = await make_product("Mug")
    newest_first = await _reviews_of(mug, customer, 5)
    first = (await gql.execute(LIST, product=pid(mug), first=2))["productReviews"]
    second = (
        await gql.execute(LIST, product=pid(mug), first=2, after=first["pageInfo"]["endCursor"])
    )["productReviews"]

    back = await gql.execute(
        LIST, product=pid(mug), last=2, before=second["pageInfo"]["startCursor"]
    )

    assert [e["node"]["id"] for e in second["edges"]] == newest_first[2:4]
    assert [e["node"]["id"] for e in back["productReviews"]["edges"]] == newest_first[0:2]
    assert back["productReviews"]["pageInfo"]["hasPreviousPage"] is False
    assert back["productReviews"]["pageInfo"]["hasNextPage"] is True


async def test_first_zero_and_the_default_page(gql, customer, make_product):
    mug = await make_product("Mug")
    await _reviews_of(mug, customer, 2)

    empty = await gql.execute(LIST, product=pid(mug), first=0)
    default = await gql.execute(LIST, product=pid(mug))

    assert empty["productReviews"]["edges"] == []
    assert empty["productReviews"]["pageInfo"]["hasNextPage"] is True
    assert len(default["productReviews"]["edges"]) == 2


@pytest.mark.parametrize(
    "arguments",
    [
        {"first": 101},
        {"first": -1},
        {"last": 101},
        {"first": 1, "last": 1},
        {"after": "not a cursor"},
        {"before": encode_cursor("review:newest", ["x", 1])},
        {"after": encode_cursor("review:newest", ["2026-01-01T00:00:00", 1])},  # naive
        {"after": encode_cursor("review:newest", ["2026-01-01T00:00:00+00:00", "1"])},
        {"after": encode_cursor("review:newest", ["2026-01-01T00:00:00+00:00", 2**63])},
        {"after": encode_cursor("review:newest", ["2026-01-01T00:00:00+00:00"])},
        {"after": "ü" * 50},
    ],
)
async def test_bad_page_arguments_are_invalid(gql, make_product, arguments):
    mug = await make_product("Mug")

    body = await gql.raw(LIST, product=pid(mug), **arguments)

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID"]


async def test_a_cursor_of_another_list_is_invalid(gql, customer, make_product):
    ann = await customer()
    mug = await make_product("Mug")
    await ann.execute(
        "mutation($p: ID!) { wishlistAddProduct(productId: $p) { userErrors { code } } }",
        p=pid(mug),
    )
    wishlist = await ann.execute("{ myWishlist(first: 1) { pageInfo { endCursor } } }")

    codes = await gql.error_codes(
        LIST, product=pid(mug), after=wishlist["myWishlist"]["pageInfo"]["endCursor"]
    )

    assert codes == ["INVALID"]


async def test_reviews_of_unpublished_or_unknown_products_are_listed_for_staff_only(
    gql, customer, staff, make_product, session_factory
):
    mug = await make_product("Mug")
    await review(await customer(), mug)
    async with session_factory() as session, session.begin():
        (await session.get_one(Product, mug.id)).is_published = False

    anonymous = await gql.execute(LIST, product=pid(mug))
    as_staff = await staff.execute(LIST, product=pid(mug))
    unknown = await gql.execute(LIST, product=to_base64("Product", 987_654))
    wrong_type = await gql.execute(LIST, product=to_base64("Tag", 1))

    assert anonymous["productReviews"]["edges"] == []
    assert len(as_staff["productReviews"]["edges"]) == 1
    assert unknown["productReviews"]["edges"] == wrong_type["productReviews"]["edges"] == []


async def test_a_page_costs_the_same_statements_whatever_its_size(
    gql, customer, make_product, connection
):
    mug = await make_product("Mug")
    await _reviews_of(mug, customer, 12)
    query = """query($p: ID!, $n: Int) { productReviews(productId: $p, first: $n) {
        edges { node { id authorName product { name } } } } }"""

    counts = []
    for size in (2, 12):
        with count_statements(connection) as statements:
            data = await gql.execute(query, p=pid(mug), n=size)
        assert len(data["productReviews"]["edges"]) == size
        counts.append(len(statements))

    # The page, then one batch of authors and one of products.
    assert counts == [3, 3]


# --- concurrency (committed data, own sessions) ---------------------------------------------


async def _committed_product_and_users(factory, tag: str, n: int):
    async with factory() as session, session.begin():
        product = Product(name=f"Race {tag}", slug=f"race-{tag}", is_published=True)
        users = [User(email=f"race-{tag}-{i}@example.com", first_name="R") for i in range(n)]
        session.add_all([product, *users])
    return product, users


async def _cleanup(factory, product, users) -> None:
    async with factory() as session, session.begin():
        await session.execute(delete(Product).where(Product.id == product.id))
        await session.execute(delete(User).where(User.id.in_([u.id for u in users])))


async def test_concurrent_reviews_keep_the_totals_exact(engine):
    """20 customers review one product at once: every rating is counted exactly once."""
    factory = create_session_factory(engine)
    product, users = await _committed_product_and_users(factory, "create", 20)
    ratings = [1 + i % 5 for i in range(20)]

    async def write(user_id: int, rating: int) -> None:
        async with factory() as session, session.begin():
            await create_review(
                session, user_id=user_id, product_id=product.id, data=ReviewData(rating)
            )

    try:
        await asyncio.gather(*(write(u.id, r) for u, r in zip(users, ratings, strict=True)))
        async with factory() as session:
            row = await session.get_one(Product, product.id)
            assert (row.rating_count, row.rating_sum) == (20, sum(ratings))
    finally:
        await _cleanup(factory, product, users)


async def test_concurrent_update_and_delete_of_one_review_stay_exact(engine):
    """An edit racing a delete: whichever wins, the totals match the reviews left."""
    factory = create_session_factory(engine)
    product, users = await _committed_product_and_users(factory, "update", 6)
    try:
        review_ids = []
        for user in users:
            async with factory() as session, session.begin():
                created = await create_review(
                    session, user_id=user.id, product_id=product.id, data=ReviewData(3)
                )
                review_ids.append(created.id)

        async def run(call, **kwargs) -> str:
            try:
                async with factory() as session, session.begin():
                    await call(session, **kwargs)
            except UserError as exc:
                return exc.code.value
            return "ok"

        calls = []
        for user, review_id in zip(users, review_ids, strict=True):
            common = {"user_id": user.id, "review_id": review_id}
            calls += [
                run(update_review, changes=ReviewChanges(rating=5), **common),
                run(delete_review, **common),
                run(update_review, changes=ReviewChanges(rating=1), **common),
            ]
        results = await asyncio.gather(*calls)

        assert set(results) <= {"ok", "NOT_FOUND"}
        async with factory() as session:
            row = await session.get_one(Product, product.id)
            left = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(Review.rating), 0)).where(
                        Review.product_id == product.id
                    )
                )
            ).one()
        assert (row.rating_count, row.rating_sum) == (left[0], left[1])
        assert row.rating_count == 0  # every review was deleted in the end
    finally:
        await _cleanup(factory, product, users)


async def test_each_mutation_of_one_document_sees_fresh_totals(customer, staff, make_product):
    mug = await make_product("Mug")
    review_id = await review(await customer(), mug, rating=4)
    fields = "review { product { ratingCount } } userErrors { code }"

    data = await staff.execute(
        f"""mutation($id: ID!) {{ a: reviewHide(id: $id) {{ {fields} }}
                                  b: reviewUnhide(id: $id) {{ {fields} }}
                                  c: reviewHide(id: $id) {{ {fields} }} }}""",
        id=review_id,
    )

    counts = [data[key]["review"]["product"]["ratingCount"] for key in "abc"]
    assert counts == [0, 1, 0]


async def test_a_product_the_session_holds_gets_the_new_totals(session, customer, make_product):
    mug = await make_product("Mug")
    review_id = int(from_base64(await review(await customer(), mug, rating=4))[1])
    held = await session.get_one(Product, mug.id)
    assert held.rating_count == 1

    async with session.begin_nested():
        await set_review_hidden(session, review_id=review_id, hidden=True)

    assert (held.rating_sum, held.rating_count) == (0, 0)

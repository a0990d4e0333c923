"""Privacy through the public API: `myDataExport` and `accountDelete`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from strawberry.relay import to_base64

from app.auth.permissions import Role
from models.accounts import RefreshToken, User
from models.addresses import Address
from models.catalog import Review, Variant, WishlistItem
from tests.conftest import PASSWORD, TOKEN_CREATE

EXPORT = "{ myDataExport }"
DELETE = """
mutation($password: String!) {
  accountDelete(password: $password) { deleted userErrors { field message code } }
}"""
ADDRESS = """
mutation($input: AddressInput!) {
  addressCreate(input: $input) { userErrors { field code } }
}"""
WISHLIST = """
mutation($product: ID!, $variant: ID) {
  wishlistAddProduct(productId: $product, variantId: $variant) { userErrors { field code } }
}"""
REVIEW = """
mutation($input: ReviewCreateInput!) {
  reviewCreate(input: $input) { userErrors { field code } }
}"""
REVIEWS = """
query($product: ID!) {
  productReviews(productId: $product, first: 10) { edges { node { rating authorName } } }
}"""
REFRESH = """
mutation($token: String!) {
  tokenRefresh(refreshToken: $token) { accessToken userErrors { field code } }
}"""
REGISTER = """
mutation($input: AccountRegisterInput!) {
  accountRegister(input: $input) { user { email } userErrors { field code } }
}"""
BERLIN = {"streetAddress1": "Unter den Linden 1", "city": "Berlin", "country": "DE"}


@pytest.fixture
def customer(make_user, sign_in, gql):
    async def make(email: str, **fields):
        user = await make_user(email=email, **fields)
        tokens = await sign_in(email)
        client = gql.as_user(tokens["accessToken"])
        client.user = user
        client.tokens = tokens
        return client

    return make


@pytest.fixture
def variant_of(session_factory):
    async def first_variant(product) -> str:
        async with session_factory() as session:
            variant_id = await session.scalar(
                select(Variant.id).where(Variant.product_id == product.id)
            )
        return to_base64("Variant", variant_id)

    return first_variant


@pytest.fixture
async def ann(customer, make_product, variant_of):
    """A customer with an address, two wishlist items and a review."""
    client = await customer("ann@example.com", first_name="Ann", last_name="Smith")
    mug = await make_product("Blue Mug")
    hat = await make_product("Red Hat")
    product_id = to_base64("Product", mug.id)
    calls = [
        (ADDRESS, {"input": BERLIN | {"firstName": "Ann"}}),
        (WISHLIST, {"product": product_id}),
        (WISHLIST, {"product": to_base64("Product", hat.id), "variant": await variant_of(hat)}),
        (REVIEW, {"input": {"productId": product_id, "rating": 4, "title": "Nice"}}),
    ]
    for query, variables in calls:
        data = await client.execute(query, **variables)
        assert next(iter(data.values()))["userErrors"] == [], data
    client.product_id = product_id
    return client


async def export(client) -> dict:
    return (await client.execute(EXPORT))["myDataExport"]


async def delete(client, password: str = PASSWORD) -> dict:
    return (await client.execute(DELETE, password=password))["accountDelete"]


async def test_export_holds_the_users_data_and_no_secrets(ann, customer):
    bob = await customer("bob@example.com", first_name="Bob")
    await bob.execute(ADDRESS, input=BERLIN | {"city": "Bonn", "firstName": "Bob"})

    data = await export(ann)

    assert data["formatVersion"] == 1
    assert data["generatedAt"]
    assert data["profile"] | {"createdAt": None, "updatedAt": None, "lastLoginAt": None} == {
        "id": ann.user.id,
        "email": "ann@example.com",
        "firstName": "Ann",
        "lastName": "Smith",
        "phone": "",
        "locale": "en",
        "role": "customer",
        "isActive": True,
        "createdAt": None,
        "updatedAt": None,
        "lastLoginAt": None,
    }
    assert [a["city"] for a in data["addresses"]] == ["Berlin"]
    assert sorted(item["productName"] for item in data["wishlist"]) == ["Blue Mug", "Red Hat"]
    assert sorted((i["productSlug"], i["variantSku"]) for i in data["wishlist"]) == [
        ("blue-mug", None),
        ("red-hat", "red-hat-0"),
    ]
    assert [
        (r["productName"], r["rating"], r["title"], r["isHidden"]) for r in data["reviews"]
    ] == [("Blue Mug", 4, "Nice", False)]
    assert len(data["sessions"]) == 1
    assert set(data["sessions"][0]) == {
        "createdAt",
        "expiresAt",
        "usedAt",
        "revokedAt",
        "userAgent",
    }
    text = json.dumps(data)
    assert "Bob" not in text and "Bonn" not in text and "bob@example.com" not in text
    assert "argon2" not in text and "hash" not in text.lower()


async def test_export_is_deterministic(ann):
    first, second = await export(ann), await export(ann)
    first.pop("generatedAt")
    second.pop("generatedAt")
    assert first == second


async def test_anonymous_cannot_export_or_delete(gql):
    assert await gql.error_codes(EXPORT) == ["UNAUTHENTICATED"]
    assert await gql.error_codes(DELETE, password=PASSWORD) == ["UNAUTHENTICATED"]


async def test_wrong_password_changes_nothing(ann, session_factory, count):
    payload = await delete(ann, "not-the-password")

    assert payload == {
        "deleted": False,
        "userErrors": [
            {
                "field": ["password"],
                "message": "The current password is wrong.",
                "code": "INVALID_CREDENTIALS",
            }
        ],
    }
    async with session_factory() as session:
        user = await session.get_one(User, ann.user.id)
        assert (user.email, user.first_name, user.is_active) == ("ann@example.com", "Ann", True)
    assert await count(Address, Address.user_id == ann.user.id) == 1
    assert (await export(ann))["profile"]["email"] == "ann@example.com"


async def test_delete_anonymises_and_signs_out(ann, gql, session_factory, count):
    assert await delete(ann) == {"deleted": True, "userErrors": []}

    user_id = ann.user.id
    async with session_factory() as session:
        user = await session.get_one(User, user_id)
        assert {
            "email": user.email,
            "names": (user.first_name, user.last_name, user.phone),
            "locale": user.locale,
            "password_hash": user.password_hash,
            "permissions": user.permissions,
            "role": user.role,
            "is_active": user.is_active,
            "token_version": user.token_version,
        } == {
            "email": f"deleted-{user_id}@deleted.invalid",
            "names": ("", "", ""),
            "locale": "en",
            "password_hash": None,
            "permissions": [],
            "role": "customer",
            "is_active": False,
            "token_version": ann.user.token_version + 1,
        }
    assert await count(RefreshToken, RefreshToken.user_id == user_id) == 1
    assert (
        await count(
            RefreshToken, RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
        )
        == 0
    )
    assert await count(Address, Address.user_id == user_id) == 0
    assert await count(WishlistItem, WishlistItem.user_id == user_id) == 0
    assert await count(Review, Review.user_id == user_id) == 1

    assert await ann.error_codes(EXPORT) == ["UNAUTHENTICATED"]
    refreshed = await gql.execute(REFRESH, token=ann.tokens["refreshToken"])
    assert refreshed["tokenRefresh"]["accessToken"] is None
    assert refreshed["tokenRefresh"]["userErrors"][0]["code"] == "INVALID_TOKEN"
    signed = await gql.execute(TOKEN_CREATE, email="ann@example.com", password=PASSWORD)
    assert signed["tokenCreate"]["userErrors"][0]["code"] == "INVALID_CREDENTIALS"

    reviews = await gql.execute(REVIEWS, product=ann.product_id)
    assert [e["node"] for e in reviews["productReviews"]["edges"]] == [
        {"rating": 4, "authorName": "Anonymous"}
    ]


async def test_email_can_be_registered_again(ann, gql, count):
    await delete(ann)

    data = await gql.execute(
        REGISTER, input={"email": "ann@example.com", "password": "a-Good-passphrase-7"}
    )

    assert data["accountRegister"] == {"user": {"email": "ann@example.com"}, "userErrors": []}
    assert await count(User, User.email == "ann@example.com") == 1


async def test_account_without_password_confirms_with_empty_string(customer, session_factory):
    client = await customer("social@example.com")
    async with session_factory() as session, session.begin():
        user = await session.get_one(User, client.user.id)
        user.password_hash = None

    refused = await delete(client, PASSWORD)
    assert refused["userErrors"][0]["code"] == "INVALID_CREDENTIALS"
    assert await delete(client, "") == {"deleted": True, "userErrors": []}


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
async def test_staff_cannot_self_delete(customer, session_factory, role):
    client = await customer("staff@example.com", role=role)

    payload = await delete(client)

    assert payload["deleted"] is False
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["password"], "INVALID")]
    async with session_factory() as session:
        user = await session.get_one(User, client.user.id)
        assert (user.email, user.is_active) == ("staff@example.com", True)

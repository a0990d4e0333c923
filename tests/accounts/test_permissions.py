"""RBAC through the API: UNAUTHENTICATED vs FORBIDDEN, roles, extra grants, node visibility."""

from __future__ import annotations

import pytest
from strawberry.relay import to_base64

from app.auth.permissions import Perm, Role, effective_permissions

USER = "query($id: ID!) { user(id: $id) { email } }"
NODE = "query($id: ID!) { node(id: $id) { id ... on User { email } } }"


async def _token(make_user, sign_in, email, **kwargs) -> str:
    await make_user(email=email, **kwargs)
    return (await sign_in(email))["accessToken"]


async def test_staff_only_query_is_unauthenticated_for_anonymous(gql, make_user):
    target = await make_user(email="target@example.com")

    body = await gql.raw(USER, id=to_base64("User", target.id))

    assert body["data"] == {"user": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.STAFF])
async def test_staff_only_query_is_forbidden_without_the_permission(gql, make_user, sign_in, role):
    target = await make_user(email="target@example.com")
    token = await _token(make_user, sign_in, "someone@example.com", role=role)

    body = await gql.as_user(token).raw(USER, id=to_base64("User", target.id))

    assert body["data"] == {"user": None}
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("You need the MANAGE_USERS permission to do this.", "FORBIDDEN")
    ]


async def test_admin_has_every_permission(gql, make_user, sign_in):
    target = await make_user(email="target@example.com")
    token = await _token(make_user, sign_in, "boss@example.com", role=Role.ADMIN)

    data = await gql.as_user(token).execute(USER, id=to_base64("User", target.id))
    perms = await gql.as_user(token).execute("{ me { permissions role } }")

    assert data == {"user": {"email": "target@example.com"}}
    assert perms["me"] == {"permissions": sorted(p.value for p in Perm), "role": "ADMIN"}


async def test_an_extra_grant_works_without_the_role(gql, make_user, sign_in):
    target = await make_user(email="target@example.com")
    token = await _token(
        make_user, sign_in, "helper@example.com", permissions=[Perm.MANAGE_USERS.value]
    )

    data = await gql.as_user(token).execute(USER, id=to_base64("User", target.id))

    assert data == {"user": {"email": "target@example.com"}}


async def test_staff_role_grants_catalog_and_orders_but_not_users():
    class Row:
        role = "staff"
        permissions = ["NOT_A_PERMISSION"]
        is_active = True

    assert effective_permissions(Row()) == {  # type: ignore[arg-type]
        Perm.MANAGE_PRODUCTS,
        Perm.MANAGE_ORDERS,
        Perm.MANAGE_DISCOUNTS,
    }


async def test_node_shows_a_user_to_themself_only(gql, make_user, sign_in):
    other = await make_user(email="other@example.com")
    me = await make_user(email="me@example.com")
    token = (await sign_in("me@example.com"))["accessToken"]
    client = gql.as_user(token)

    mine = await client.execute(NODE, id=to_base64("User", me.id))
    theirs = await client.execute(NODE, id=to_base64("User", other.id))
    anonymous = await gql.execute(NODE, id=to_base64("User", me.id))

    assert mine["node"] == {"id": to_base64("User", me.id), "email": "me@example.com"}
    assert theirs == {"node": None}
    assert anonymous == {"node": None}


async def test_node_lets_user_managers_see_anyone(gql, make_user, sign_in):
    other = await make_user(email="other@example.com")
    token = await _token(make_user, sign_in, "boss@example.com", role=Role.ADMIN)

    data = await gql.as_user(token).execute(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { email } } }",
        ids=[to_base64("User", other.id), to_base64("User", 999_999)],
    )

    assert data == {"nodes": [{"email": "other@example.com"}, None]}


@pytest.mark.parametrize(
    "node_id", [to_base64("User", "abc"), to_base64("User", "-1"), to_base64("User", 10**30)]
)
async def test_node_with_a_bad_user_key_is_null(gql, make_user, sign_in, node_id):
    token = await _token(make_user, sign_in, "boss@example.com", role=Role.ADMIN)

    data = await gql.as_user(token).execute(NODE, id=node_id)

    assert data == {"node": None}


@pytest.mark.parametrize("node_id", ["not-base64!", to_base64("Nope", 1), ""])
async def test_node_with_a_malformed_or_unknown_type_id_is_null_like_a_missing_one(gql, node_id):
    body = await gql.data_and_errors(NODE, id=node_id)

    assert body == {"data": {"node": None}}


async def test_user_query_with_an_id_of_another_type_is_null(gql, make_user, sign_in):
    token = await _token(make_user, sign_in, "boss@example.com", role=Role.ADMIN)

    data = await gql.as_user(token).execute(USER, id=to_base64("Product", 1))

    assert data == {"user": None}

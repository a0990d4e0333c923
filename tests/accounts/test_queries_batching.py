"""Lists resolve through loaders: statements per request do not grow with the list."""

from __future__ import annotations

from strawberry.relay import to_base64

from app.auth.permissions import Role
from tests.sql_counter import count_statements

NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { email firstName role } } }"


async def _statements_for(gql, connection, token, users) -> int:
    ids = [to_base64("User", user.id) for user in users]
    with count_statements(connection) as statements:
        data = await gql.as_user(token).execute(NODES, ids=ids)
    assert [node["email"] for node in data["nodes"]] == [user.email for user in users]
    return len(statements)


async def test_nodes_query_count_does_not_grow_with_the_page(gql, make_user, sign_in, connection):
    await make_user(email="boss@example.com", role=Role.ADMIN)
    token = (await sign_in("boss@example.com"))["accessToken"]
    users = [await make_user(email=f"user{i}@example.com") for i in range(30)]

    small = await _statements_for(gql, connection, token, users[:3])
    large = await _statements_for(gql, connection, token, users)

    # One statement loads the viewer (token check), one loads every requested user.
    assert small == large == 2

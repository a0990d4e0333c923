"""Account administration through the API: search, access changes, (de)activation."""

from __future__ import annotations

import pytest
from strawberry.relay import to_base64

from app.auth.permissions import Perm, Role
from models.accounts import User
from tests.conftest import PASSWORD

USERS = """query($search: String, $role: Role, $first: Int, $after: String) {
  users(search: $search, role: $role, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } edges { node { email role } } } }"""
ACCESS = """mutation($id: ID!, $input: UserAccessInput!) {
  userUpdateAccess(id: $id, input: $input) {
    user { role permissions } userErrors { field code } } }"""
DEACTIVATE = """mutation($id: ID!) { userDeactivate(id: $id) {
  user { isActive } userErrors { field code } } }"""
ACTIVATE = (
    """mutation($id: ID!) { userActivate(id: $id) { user { isActive } userErrors { code } } }"""
)


async def _as(gql, make_user, sign_in, email, **kwargs):
    user = await make_user(email=email, **kwargs)
    return user, gql.as_user((await sign_in(email))["accessToken"])


async def test_users_lists_newest_first_and_searches(gql, make_user, sign_in):
    _, admin = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)
    await make_user(email="zoe@example.com", first_name="Zoë")
    await make_user(email="max@example.com", last_name="Mustermann")
    await make_user(email="percent%@example.com")

    everyone = await admin.execute(USERS, first=10)
    by_name = await admin.execute(USERS, search="muster")
    by_unicode = await admin.execute(USERS, search="ZOË")
    literal = await admin.execute(USERS, search="%")
    admins = await admin.execute(USERS, role="ADMIN")
    page = await admin.execute(USERS, first=2)
    rest = await admin.execute(USERS, first=10, after=page["users"]["pageInfo"]["endCursor"])

    emails = [e["node"]["email"] for e in everyone["users"]["edges"]]
    assert emails == [
        "percent%@example.com",
        "max@example.com",
        "zoe@example.com",
        "boss@example.com",
    ]
    assert [e["node"]["email"] for e in by_name["users"]["edges"]] == ["max@example.com"]
    assert [e["node"]["email"] for e in by_unicode["users"]["edges"]] == ["zoe@example.com"]
    assert [e["node"]["email"] for e in literal["users"]["edges"]] == ["percent%@example.com"]
    assert [e["node"]["role"] for e in admins["users"]["edges"]] == ["ADMIN"]
    assert [e["node"]["email"] for e in page["users"]["edges"] + rest["users"]["edges"]] == emails


async def test_user_admin_needs_manage_users(gql, make_user, sign_in, count):
    target = await make_user(email="target@example.com")
    _, staff = await _as(gql, make_user, sign_in, "staff@example.com", role=Role.STAFF)
    node = to_base64("User", target.id)

    for client, code in ((gql, "UNAUTHENTICATED"), (staff, "FORBIDDEN")):
        listed = await client.raw(USERS)
        deactivated = await client.raw(DEACTIVATE, id=node)
        assert listed["data"] is None and deactivated["data"] is None
        assert [e["extensions"]["code"] for e in listed["errors"]] == [code]
        assert [e["extensions"]["code"] for e in deactivated["errors"]] == [code]
    assert await count(User, User.is_active.is_(False)) == 0


async def test_deactivation_ends_sessions_and_activation_restores_sign_in(gql, make_user, sign_in):
    _, admin = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)
    target, customer = await _as(gql, make_user, sign_in, "ann@example.com")
    node = to_base64("User", target.id)

    off = await admin.execute(DEACTIVATE, id=node)
    me = await customer.raw("{ me { email } }")
    on = await admin.execute(ACTIVATE, id=node)

    assert off["userDeactivate"] == {"user": {"isActive": False}, "userErrors": []}
    assert me["data"] == {"me": None}
    assert [e["extensions"]["code"] for e in me["errors"]] == ["UNAUTHENTICATED"]
    assert on["userActivate"] == {"user": {"isActive": True}, "userErrors": []}
    assert (await sign_in("ann@example.com"))["accessToken"]


async def test_access_changes_need_manage_staff_for_staff_access(gql, make_user, sign_in):
    target = await make_user(email="ann@example.com")
    _, manager = await _as(
        gql, make_user, sign_in, "mgr@example.com", permissions=[Perm.MANAGE_USERS.value]
    )
    _, admin = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)
    node = to_base64("User", target.id)

    refused = await manager.execute(ACCESS, id=node, input={"role": "STAFF"})
    promoted = await admin.execute(
        ACCESS, id=node, input={"role": "STAFF", "permissions": ["MANAGE_USERS"]}
    )

    assert refused["userUpdateAccess"] == {
        "user": None,
        "userErrors": [{"field": ["role"], "code": "INVALID"}],
    }
    assert promoted["userUpdateAccess"]["user"] == {
        "role": "STAFF",
        "permissions": ["MANAGE_DISCOUNTS", "MANAGE_ORDERS", "MANAGE_PRODUCTS", "MANAGE_USERS"],
    }


async def test_nobody_changes_their_own_access_or_unknown_ids(gql, make_user, sign_in):
    me, admin = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)

    own = await admin.execute(ACCESS, id=to_base64("User", me.id), input={"role": "CUSTOMER"})
    self_off = await admin.execute(DEACTIVATE, id=to_base64("User", me.id))
    unknown = await admin.execute(DEACTIVATE, id=to_base64("User", 987654))
    wrong = await admin.execute(DEACTIVATE, id=to_base64("Product", me.id))

    assert own["userUpdateAccess"]["userErrors"] == [{"field": ["id"], "code": "INVALID"}]
    assert self_off["userDeactivate"]["userErrors"] == [{"field": ["id"], "code": "INVALID"}]
    assert unknown["userDeactivate"]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]
    assert wrong["userDeactivate"]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]
    assert (await admin.execute("{ me { role isActive } }"))["me"] == {
        "role": "ADMIN",
        "isActive": True,
    }


ME = "{ me { email isActive role } }"
DELETE = (
    "mutation($p: String!) { accountDelete(password: $p) { deleted userErrors { field code } } }"
)
STAFF_MANAGER = [Perm.MANAGE_USERS.value, Perm.MANAGE_STAFF.value]


async def _state(session_factory, user_id):
    async with session_factory() as session:
        row = await session.get_one(User, user_id)
        return row.is_active, row.role, row.token_version


@pytest.mark.parametrize(
    ("role", "grants"),
    [(Role.STAFF, []), (Role.ADMIN, []), (Role.CUSTOMER, [Perm.MANAGE_ORDERS.value])],
    ids=["staff", "admin", "customer-with-a-grant"],
)
async def test_staff_accounts_need_manage_staff_to_be_deactivated_or_activated(
    gql, make_user, sign_in, session_factory, role, grants
):
    target, target_client = await _as(
        gql, make_user, sign_in, "staffer@example.com", role=role, permissions=grants
    )
    _, manager = await _as(
        gql, make_user, sign_in, "mgr@example.com", permissions=[Perm.MANAGE_USERS.value]
    )
    node = to_base64("User", target.id)
    before = await _state(session_factory, target.id)

    off = await manager.execute(DEACTIVATE, id=node)

    assert off["userDeactivate"] == {
        "user": None,
        "userErrors": [{"field": ["id"], "code": "INVALID"}],
    }
    assert await _state(session_factory, target.id) == before
    assert (await target_client.execute(ME))["me"]["isActive"] is True
    # Switched off by someone who may, it stays off for the manager without MANAGE_STAFF.
    _, admin = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)
    assert (await admin.execute(DEACTIVATE, id=node))["userDeactivate"]["userErrors"] == []
    on = await manager.execute(ACTIVATE, id=node)
    assert on["userActivate"] == {"user": None, "userErrors": [{"code": "INVALID"}]}
    assert (await _state(session_factory, target.id))[0] is False


async def test_manage_users_alone_still_deactivates_customers(
    gql, make_user, sign_in, session_factory
):
    target = await make_user(email="ann@example.com")
    _, manager = await _as(
        gql, make_user, sign_in, "mgr@example.com", permissions=[Perm.MANAGE_USERS.value]
    )

    off = await manager.execute(DEACTIVATE, id=to_base64("User", target.id))

    assert off["userDeactivate"] == {"user": {"isActive": False}, "userErrors": []}
    assert (await _state(session_factory, target.id))[0] is False


async def test_manage_users_alone_cannot_strip_a_customers_staff_grants(
    gql, make_user, sign_in, session_factory
):
    target = await make_user(email="helper@example.com", permissions=[Perm.MANAGE_USERS.value])
    _, manager = await _as(
        gql, make_user, sign_in, "mgr@example.com", permissions=[Perm.MANAGE_USERS.value]
    )

    data = await manager.execute(ACCESS, id=to_base64("User", target.id), input={"permissions": []})

    assert data["userUpdateAccess"] == {
        "user": None,
        "userErrors": [{"field": ["role"], "code": "INVALID"}],
    }
    async with session_factory() as session:
        assert (await session.get_one(User, target.id)).permissions == ["MANAGE_USERS"]


@pytest.mark.parametrize("other_admin", [None, "inactive"])
async def test_the_last_active_admin_is_never_deactivated_or_demoted(
    gql, make_user, sign_in, session_factory, other_admin
):
    admin, admin_client = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)
    if other_admin:  # an inactive admin does not count
        await make_user(email="former@example.com", role=Role.ADMIN, is_active=False)
    # Not an admin, but allowed to manage staff: the only kind of actor who could.
    _, manager = await _as(
        gql, make_user, sign_in, "mgr@example.com", role=Role.STAFF, permissions=STAFF_MANAGER
    )
    node = to_base64("User", admin.id)
    before = await _state(session_factory, admin.id)

    off = await manager.execute(DEACTIVATE, id=node)
    demoted = await manager.execute(ACCESS, id=node, input={"role": "STAFF"})
    to_customer = await manager.execute(ACCESS, id=node, input={"role": "CUSTOMER"})

    assert off["userDeactivate"] == {
        "user": None,
        "userErrors": [{"field": ["id"], "code": "LAST_ADMIN"}],
    }
    for payload in (demoted, to_customer):
        assert payload["userUpdateAccess"] == {
            "user": None,
            "userErrors": [{"field": ["role"], "code": "LAST_ADMIN"}],
        }
    assert await _state(session_factory, admin.id) == before
    assert (await admin_client.execute(ME))["me"] == {
        "email": "boss@example.com",
        "isActive": True,
        "role": "ADMIN",
    }
    # Grants may still change, and the admin may stay an admin.
    kept = await manager.execute(ACCESS, id=node, input={"role": "ADMIN", "permissions": []})
    assert kept["userUpdateAccess"]["userErrors"] == []


async def test_one_of_two_admins_can_be_deactivated_or_demoted(
    gql, make_user, sign_in, session_factory
):
    _, first = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)
    second = await make_user(email="boss2@example.com", role=Role.ADMIN)
    node = to_base64("User", second.id)

    demoted = await first.execute(ACCESS, id=node, input={"role": "STAFF"})
    off = await first.execute(DEACTIVATE, id=node)

    assert demoted["userUpdateAccess"]["userErrors"] == []
    assert off["userDeactivate"] == {"user": {"isActive": False}, "userErrors": []}
    assert (await _state(session_factory, second.id))[:2] == (False, "staff")


async def test_the_last_admin_cannot_delete_their_account(
    gql, make_user, sign_in, session_factory, count
):
    admin, client = await _as(gql, make_user, sign_in, "boss@example.com", role=Role.ADMIN)
    before = await _state(session_factory, admin.id)

    data = await client.execute(DELETE, p=PASSWORD)

    # Refused by the rule that staff never delete themselves (demote first).
    assert data["accountDelete"] == {
        "deleted": False,
        "userErrors": [{"field": ["password"], "code": "INVALID"}],
    }
    assert await _state(session_factory, admin.id) == before
    assert (await client.execute(ME))["me"]["email"] == "boss@example.com"
    assert await count(User, User.role == "admin", User.is_active.is_(True)) == 1
